"""Where a load's rows are stored and how the ingest finds and deletes them again.

``flows`` is a view over ``flow_rows`` (canonical rows) and the slim BACI tables (see
:mod:`tradepulse.warehouse`); the other targets are their own tables.  :func:`_insert_slim` is the one-pass
load of a clean typed BACI CSV into ``baci_rows``.
"""

from __future__ import annotations

from tradepulse.ingest._spec import Spec, ident, lit

#: Storage labels of the located view (``__store``) → physical table, per target (see tradepulse.warehouse).
def _stores(target: str) -> dict[str, str]:
    from tradepulse.warehouse import STORAGE
    return {"rows": STORAGE[target], "baci": "baci_rows"} if target == "flows" else {"rows": STORAGE[target]}


def _located(target: str) -> str:
    """Relation of ``target``'s rows (canonical columns) with ``__store`` and ``__rid`` naming where each row is
    stored (storage label, ``rowid``): the view ``flows_located``, or the table itself for other targets."""
    if target == "flows":
        return "flows_located"
    from tradepulse.warehouse import STORAGE
    return f"(SELECT 'rows' AS __store, rowid AS __rid, * FROM {ident(STORAGE[target])})"


def _delete_located(con, target: str, rows_sql: str) -> None:
    """Delete the stored rows named by ``rows_sql`` (a query giving ``__store``, ``__rid``)."""
    for label, table in _stores(target).items():
        con.execute(f"DELETE FROM {ident(table)} WHERE rowid IN (SELECT __rid FROM ({rows_sql}) WHERE __store = "
                    f"{lit(label)})")


def _others_exist(con, target: str, load_id: str) -> bool:
    """Does ``target`` hold rows of any load other than ``load_id``?  (Reads storage, not the decoding view.)"""
    from tradepulse.warehouse import STORAGE
    q = f"SELECT EXISTS (SELECT 1 FROM {ident(STORAGE[target])} WHERE load_id IS DISTINCT FROM {lit(load_id)})"
    if target == "flows":
        q += f" OR EXISTS (SELECT 1 FROM baci_loads WHERE load_id <> {lit(load_id)})"
    return bool(con.execute(q).fetchone()[0])


def _drop_loads(con, target: str, load_ids: list[str]) -> None:
    """Delete every stored row of ``load_ids`` from ``target`` (both storages of ``flows``)."""
    from tradepulse.warehouse import STORAGE
    con.execute(f"DELETE FROM {ident(STORAGE[target])} WHERE list_contains(?, load_id)", [load_ids])
    if target == "flows":
        nos = "(SELECT load_no FROM baci_loads WHERE list_contains(?, load_id))"
        for table in ("baci_rows", "baci_countries"):
            con.execute(f"DELETE FROM {table} WHERE load_no IN {nos}", [load_ids])
        con.execute("DELETE FROM baci_loads WHERE list_contains(?, load_id)", [load_ids])


#: the largest finite DOUBLE, as a SQL literal
_DBL_MAX = "1.7976931348623157e308"


def _insert_slim(con, spec: Spec, load_id: str) -> tuple[int, int, int]:
    """Append a typed BACI CSV to the slim storage; return (load number, good rows, rejected rows).

    One read: the file's numbers go to ``baci_rows`` as they are, the row's verdict in the sign of its load
    number (``-load_no`` = rejected).  The verdict equals the general checks (:func:`_inner_select`): year
    1900–2100, both country codes present and known, 0 ≤ k ≤ 999999 with an HS chapter in use (k // 10000: 1–97
    without 77, or 99), v ≥ 0, present and finite (also × 1000: no NaN, ±inf or overflow), q ≥ 0 and finite or
    blank/NA/nan (q is text: BACI pads it, ``"          NA"``; ``nan`` → NULL).
    Country codes are checked once per distinct number (rows with an unknown one are re-marked), and the
    load's numbers with their ISO3 codes go to ``baci_countries``; the constants to ``baci_loads``.  Rejected
    rows are deleted again (their lines reach the quarantine through the second pass).
    """
    consts = spec.slim or {}
    n = int(con.execute("SELECT coalesce(max(load_no), 0) + 1 FROM baci_loads").fetchone()[0])
    scale = lit(float(spec.value_scale))
    # as ranges (half the work of k // 10000 and isfinite): chapter 1–97 but 77, or 99 ⇔ k in [10000, 979999]
    # outside [770000, 779999], or in [990000, 999999]; 0 ≤ v·scale ≤ DBL_MAX is false for NaN (DuckDB orders
    # NaN above every number), ±inf, overflow and negatives
    good = (f"s.t BETWEEN 1900 AND 2100 AND s.i IS NOT NULL AND s.j IS NOT NULL "
            f"AND ((s.k BETWEEN 10000 AND 979999 AND NOT s.k BETWEEN 770000 AND 779999) "
            f"OR s.k BETWEEN 990000 AND 999999) AND s.v * {scale} BETWEEN 0 AND {_DBL_MAX} "
            f"AND CASE WHEN s.qd IS NOT NULL AND NOT isnan(s.qd) THEN isfinite(s.qd) AND s.qd >= 0 "
            f"ELSE (s.q IS NULL OR upper(trim(s.q)) IN ('', 'NA', 'NAN', 'NULL')) END")
    n_all = con.execute(
        f"INSERT INTO baci_rows SELECT TRY_CAST(s.t AS SMALLINT), s.i, s.j, TRY_CAST(s.k AS INTEGER), "
        f"s.v * {scale}, CASE WHEN isnan(s.qd) THEN NULL ELSE s.qd END, "
        f"CASE WHEN coalesce({good}, FALSE) THEN {n} ELSE {-n} END "
        f"FROM (SELECT *, TRY_CAST(q AS DOUBLE) AS qd FROM {spec.relation}) s").fetchone()[0]
    # one scan for the distinct values: country numbers (checked here), years and products (ranked by
    # _slim_distinct_keys); values of rows re-marked below only widen the ranks
    con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_slim_values AS SELECT list(DISTINCT year) AS years, "
                f"list(DISTINCT product) AS products, list_distinct(list(DISTINCT reporter) || "
                f"list(DISTINCT partner)) AS numbers FROM baci_rows WHERE load_no = {n}")
    con.execute("CREATE OR REPLACE TEMP TABLE __tp_nums AS SELECT u.number, c.code FROM (SELECT unnest(numbers) "
                "AS number FROM __tp_slim_values) u "
                "LEFT JOIN __tp_codes_numeric c ON c.key = CAST(u.number AS VARCHAR)")
    unknown = [r[0] for r in con.execute("SELECT number FROM __tp_nums WHERE code IS NULL").fetchall()]
    if unknown:
        con.execute(f"UPDATE baci_rows SET load_no = {-n} WHERE load_no = {n} AND (list_contains(?, reporter) OR "
                    f"list_contains(?, partner))", [unknown, unknown])
    con.execute(f"INSERT INTO baci_countries SELECT {n}, number, code FROM __tp_nums WHERE code IS NOT NULL")
    con.execute("INSERT INTO baci_loads VALUES (?, ?, ?, ?, ?, ?)",
                [n, load_id, consts.get("flow", "export"), consts.get("hs_revision", "UNKNOWN"),
                 consts.get("unit", "t"), spec.source_name])
    n_bad = int(con.execute(f"SELECT count(*) FROM baci_rows WHERE load_no = {-n}").fetchone()[0])
    if n_bad:
        con.execute(f"DELETE FROM baci_rows WHERE load_no = {-n}")
    return n, int(n_all) - n_bad, n_bad



def _structural_rejects(con) -> bool:
    """Did the CSV reader reject a line for its structure (quotes, field count, line breaks, bytes) rather
    than for a value it could not convert?  Such a line may have hidden its neighbours (a stray quote joins
    lines), so the load is re-run on a copy without the lines at fault (:class:`~tradepulse.ingest._spec.
    LineSplit`)."""
    return bool(con.execute("SELECT EXISTS (SELECT 1 FROM __tp_rejects WHERE error_type <> 'CAST')").fetchone()[0])
