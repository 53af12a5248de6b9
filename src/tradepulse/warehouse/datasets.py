"""Datasets and their coverage: what each load of goods flows holds, and which loads belong together.

A **dataset** is a named set of loads that are one consistent source of numbers: one source, one HS
revision, one product level, one frequency.  Two datasets may cover the same reporter-year (a BACI release and
a Comtrade totals file); their rows must never be summed.  Indicators pick one dataset per request (the input
rule in :mod:`tradepulse.indicators.inputs`).

**Coverage** is recorded per load when it is committed, in the table ``coverage``, one row per
(reporter, year, flow, partner detail, product level, provincial) with the number of distinct months (0 for
annual rows), rows and value:

* ``partner_detail``: ``world`` for the reporter's totals over all partners (``partner = 'WLD'``: Comtrade
  ``W00``/``0``/"World" are stored as WLD), ``bilateral`` otherwise.  Comtrade's residual areas (``_X`` areas
  nes, ``X1`` bunkers, ``S19`` …) are bilateral rows: they make the partner sum equal the World row.
* ``product_level``: 0 for all-goods totals (``product = 'TOTAL'``), else the number of HS digits (2, 4, 6).
* ``provincial``: the rows carry a province (national customs data).

The dataset of a load is the name given at ingest (``--dataset NAME``) or derived from its rows:
``{source}-{level}-{frequency}`` plus the HS revision when known, e.g. ``baci-hs6-annual-HS2017``,
``comtrade-total-annual``, ``customs-hs6-monthly``.  Loads with the same name form one dataset.

Rows written without a load (tests, old warehouses) and any Ibis table or pandas frame handed to an indicator are
described the same way from their rows (:func:`coverage_of_table`), one dataset per ``source`` and load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis
    import pandas as pd

COVERAGE: dict[str, str] = {
    "load_id": "VARCHAR", "dataset": "VARCHAR", "source": "VARCHAR", "hs_revision": "VARCHAR",
    "reporter": "VARCHAR", "year": "SMALLINT", "flow": "VARCHAR", "partner_detail": "VARCHAR",
    "product_level": "TINYINT", "provincial": "BOOLEAN", "months": "TINYINT", "rows": "BIGINT",
    "value_usd": "DOUBLE",
}
COVERAGE_KEYS = ["load_id", "source", "hs_revision", "reporter", "year", "flow", "partner_detail",
                 "product_level", "provincial"]
LEVEL_NAMES = {0: "total", 2: "hs2", 4: "hs4", 6: "hs6"}

#: Columns of the per-row description (SQL over any relation with the canonical flows columns).
_DESCRIBE_SQL = (
    "CASE WHEN partner = 'WLD' THEN 'world' ELSE 'bilateral' END AS partner_detail, "
    "CAST(CASE WHEN product = 'TOTAL' THEN 0 ELSE length(product) END AS TINYINT) AS product_level, "
    "province IS NOT NULL AS provincial")


def level_name(level: int) -> str:
    return LEVEL_NAMES.get(int(level), f"hs{int(level)}")


def derive_name(source: str | None, levels, months: int, revisions) -> str:
    """The default dataset name of a load: ``{source}-{finest level}-{annual|monthly}[-{revision}]``."""
    finest = max((int(v) for v in levels), default=0)
    revs = sorted({str(r) for r in revisions if r and str(r) != "UNKNOWN"})
    name = f"{source or 'unknown'}-{level_name(finest)}-{'monthly' if months else 'annual'}"
    return name + (f"-{revs[0]}" if len(revs) == 1 else "")


def _coverage_select(relation: str, where: str = "") -> str:
    return (f"SELECT load_id, source, hs_revision, reporter, year, flow, {_DESCRIBE_SQL}, "
            f"CAST(count(DISTINCT month) AS TINYINT) AS months, count(*) AS rows, "
            f"coalesce(sum(value_usd), 0) AS value_usd FROM {relation} {where} GROUP BY ALL")


#: Coverage rows of slim BACI loads (``baci_rows``) given as a list of load numbers: read from the numbers,
#: which is cheap (annual, bilateral, HS6, no province by construction; the load's rows are found by the
#: zone maps of ``load_no``, loads being appended in order).
_SLIM_COVERAGE_SQL = (
    "SELECT l.load_id, l.source, l.hs_revision, c.iso3 AS reporter, b.year, l.flow, "
    "'bilateral' AS partner_detail, CAST(6 AS TINYINT) AS product_level, false AS provincial, "
    "CAST(0 AS TINYINT) AS months, b.n AS rows, b.v AS value_usd FROM "
    "(SELECT load_no, year, reporter, count(*) AS n, coalesce(sum(value_usd), 0) AS v FROM baci_rows "
    " WHERE list_contains(?, load_no) GROUP BY ALL) b JOIN baci_loads l ON l.load_no = b.load_no "
    "JOIN baci_countries c ON c.load_no = l.load_no AND c.number = b.reporter")


def table_names(con) -> set[str]:
    """The names of the tables and views of a DuckDB connection's main schema."""
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                      "WHERE table_schema = 'main'").fetchall()}


def record_load(con, load_id: str, *, baci_load_no: int | None = None, dataset: str | None = None) -> str | None:
    """Record the coverage of load ``load_id`` (inside the load's transaction); return its dataset name.

    ``baci_load_no``: the load is stored slim (``baci_rows``): its coverage is read from the numbers, which is
    cheap (annual, bilateral, HS6, no province by construction).
    """
    cols = [c for c in COVERAGE if c != "dataset"]
    sql, params = ((_SLIM_COVERAGE_SQL, [[baci_load_no]]) if baci_load_no is not None else
                   (_coverage_select("flow_rows", "WHERE load_id = ?"), [load_id]))
    # staged in a temporary table and inserted by one statement (a row-by-row executemany of a BACI year's
    # ≈ 230 coverage rows took 0.2 s); the name needs only the distinct describing values
    con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_cov AS SELECT * FROM ({sql}) AS c({', '.join(cols)})", params)
    try:
        described = ["source", "product_level", "months", "hs_revision"]
        recs = [dict(zip(described, r)) for r in con.execute(
            f"SELECT DISTINCT {', '.join(described)} FROM __tp_cov ORDER BY ALL").fetchall()]
        if not recs:
            return None
        name = load_dataset_name(recs, dataset)
        con.execute(f"INSERT INTO coverage ({', '.join(COVERAGE)}) SELECT load_id, ?, {', '.join(cols[1:])} "
                    "FROM __tp_cov", [name])
    finally:
        con.execute("DROP TABLE IF EXISTS __tp_cov")
    return name


def load_dataset_name(recs: list[dict], dataset: str | None = None) -> str:
    """The dataset of one load from its coverage rows (dicts with ``source``, ``product_level``, ``months``,
    ``hs_revision``): the name given, else :func:`derive_name` of the rows."""
    return dataset or derive_name(recs[0]["source"], {r["product_level"] for r in recs},
                                  max(int(r["months"]) for r in recs), {r["hs_revision"] for r in recs})


def forget_load(con, load_id: str) -> None:
    """Drop the coverage of a load whose rows were removed (a replaced load)."""
    con.execute("DELETE FROM coverage WHERE load_id = ?", [load_id])


def refresh_load(con, load_id: str) -> None:
    """Recount the coverage of an earlier load after some of its rows were superseded (keeps its dataset)."""
    old = (con.execute("SELECT any_value(dataset) FROM coverage WHERE load_id = ?", [load_id]).fetchall()
           or [None])[0]
    slim = (con.execute("SELECT load_no FROM baci_loads WHERE load_id = ?", [load_id]).fetchall() or [None])[0]
    forget_load(con, load_id)
    record_load(con, load_id, baci_load_no=slim[0] if slim else None, dataset=old[0] if old else None)


def stored_coverage(warehouse) -> "pd.DataFrame":
    """The ``coverage`` table of a warehouse, completed on the fly for rows of ``flow_rows`` whose load has no
    recorded coverage (rows inserted directly, warehouses written before datasets existed)."""
    con = warehouse.raw
    import pandas as pd
    tables = table_names(con)
    if "coverage" not in tables:   # an old warehouse opened read-only: describe every row on the fly
        return coverage_of_table(warehouse.table("flows"))
    have = con.execute("SELECT * FROM coverage").df()
    missing = con.execute("SELECT DISTINCT load_id FROM flow_rows WHERE load_id IS NULL OR load_id NOT IN "
                          "(SELECT load_id FROM coverage)").fetchall()
    extra = []
    if missing:
        ids = [m[0] for m in missing]
        nonnull = [i for i in ids if i is not None]
        where = []
        if nonnull:
            where.append("load_id IN (SELECT unnest(?::VARCHAR[]))")
        if None in ids:
            where.append("load_id IS NULL")
        extra.append(con.execute(_coverage_select("flow_rows", "WHERE " + " OR ".join(where)),
                                 [nonnull] if nonnull else []).df())
    if "baci_loads" in tables:
        # slim loads without coverage: read from the numbers (a load whose rows were all superseded by a
        # revised release keeps its baci_loads row and has none: that must not cost a scan of every flow)
        nos = [r[0] for r in con.execute("SELECT load_no FROM baci_loads WHERE load_id NOT IN "
                                         "(SELECT load_id FROM coverage)").fetchall()]
        if nos:
            slim = con.execute(_SLIM_COVERAGE_SQL, [nos]).df()
            if len(slim):
                extra.append(slim)
    if extra:
        add = pd.concat(extra, ignore_index=True)
        add = name_datasets(add)
        have = pd.concat([have, add[list(COVERAGE)]], ignore_index=True) if len(have) else add[list(COVERAGE)]
    return have


def name_datasets(cov: "pd.DataFrame") -> "pd.DataFrame":
    """Add a derived ``dataset`` column to coverage rows that have none (one name per load / source)."""
    import pandas as pd
    cov = cov.copy()
    if "dataset" not in cov:
        cov["dataset"] = None
    def text(col):   # backends differ in how a NULL text comes back (None, NaN, pd.NA)
        return cov[col].map(lambda v: "∅" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v))

    key = text("load_id") + "|" + text("source")
    for _, grp in cov[cov["dataset"].isna()].groupby(key[cov["dataset"].isna()], sort=False):
        cov.loc[grp.index, "dataset"] = derive_name(grp["source"].iloc[0], grp["product_level"],
                                                    int(grp["months"].max()), grp["hs_revision"])
    return cov


def coverage_of_table(table: "ibis.Table") -> "pd.DataFrame":
    """Coverage rows (as :data:`COVERAGE`) of any Ibis table with the canonical flows columns, named datasets."""
    import ibis

    t = table
    cols = t.columns
    # explicit casts: a column of NULLs has no type on Spark and comes back as {} without one
    load_id = t.load_id.cast("string") if "load_id" in cols else ibis.literal(None, "string")
    source = t.source.cast("string") if "source" in cols else ibis.literal(None, "string")
    rev = t.hs_revision.cast("string") if "hs_revision" in cols else ibis.literal("UNKNOWN")
    month = t.month if "month" in cols else ibis.literal(None, "int8")
    province = t.province if "province" in cols else ibis.literal(None, "string")
    d = t.mutate(load_id=load_id, source=source, hs_revision=rev, _month=month,
                 partner_detail=(t.partner == "WLD").ifelse("world", "bilateral"),
                 product_level=(t["product"] == "TOTAL").ifelse(0, t["product"].length()).cast("int8"),
                 provincial=province.notnull())
    agg = d.group_by(COVERAGE_KEYS).aggregate(months=d._month.nunique().cast("int8"), rows=d.count(),
                                              value_usd=d.value_usd.sum().fill_null(0))
    out = agg.to_pandas()
    for col in ("load_id", "source", "hs_revision"):   # a column of NULLs comes back from Spark as {}: missing
        out[col] = out[col].map(lambda v: None if isinstance(v, dict) else v)
    return name_datasets(out)


def dataset_summary(cov: "pd.DataFrame") -> "pd.DataFrame":
    """One row per dataset: source, HS revision(s), product level(s), partner detail, frequency, reporters,
    years, loads, rows and value (bilateral rows only where the dataset has them, so World rows are not added)."""
    import pandas as pd

    rows = []
    for name, g in cov.groupby("dataset", sort=True):
        detail = g[g["partner_detail"] == "bilateral"] if (g["partner_detail"] == "bilateral").any() else g
        finest = int(detail["product_level"].max())
        detail = detail[detail["product_level"] == finest]
        detail = detail[~detail["provincial"]] if (~detail["provincial"]).any() else detail
        years = sorted(int(y) for y in g["year"].unique())
        rows.append({
            "dataset": name,
            "source": ",".join(sorted({str(s) for s in g["source"].dropna()})),
            "hs_revision": ",".join(sorted({str(s) for s in g["hs_revision"].dropna()})),
            "product_level": ",".join(level_name(v) for v in sorted(g["product_level"].unique())),
            "partner_detail": ",".join(sorted(g["partner_detail"].unique())),
            "provincial": bool(g["provincial"].any()),
            "frequency": "monthly" if int(g["months"].max()) > 0 else "annual",
            "reporters": int(g["reporter"].nunique()),
            "first_year": years[0], "last_year": years[-1], "years": len(years),
            "loads": int(g["load_id"].nunique()),
            "rows": int(g["rows"].sum()),
            "value_usd": float(detail["value_usd"].sum()),
        })
    return pd.DataFrame(rows, columns=["dataset", "source", "hs_revision", "product_level", "partner_detail",
                                       "provincial", "frequency", "reporters", "first_year", "last_year",
                                       "years", "loads", "rows", "value_usd"])
