"""Keys: counting a load's distinct keys (duplicate test), finding keys that earlier loads already hold
(overlap guard) and the source lines of rows to quarantine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradepulse.ingest._spec import KEYS, VALUE, Spec, ident, lit
from tradepulse.ingest._sql import _inner_select
from tradepulse.ingest._storage import _located

if TYPE_CHECKING:  # numpy is imported on first use (a clean BACI load does not need it)
    import numpy as np

def _true_lines(rn: np.ndarray, first_line: int, rejected: np.ndarray) -> np.ndarray:
    """Physical line of the rn-th (1-based) accepted record when the lines ``rejected`` were skipped.

    The accepted lines are the integers ≥ ``first_line`` minus ``rejected``; with a_i = R_i − i (R sorted),
    line = first_line + rn − 1 + #{i : a_i ≤ first_line + rn − 1 + …} — solved by ``searchsorted`` on a.
    """
    import numpy as np

    if len(rejected) == 0:
        return rn + first_line - 1
    r = np.unique(rejected)
    a = r - np.arange(len(r))
    base = rn + first_line - 1
    return base + np.searchsorted(a, base, side="right")


#: Largest key bitmap (bits) for :func:`_distinct_keys`; beyond it a hash ``count(DISTINCT)`` is used.
KEY_BITMAP_BITS = 1 << 28  # 32 MB per DuckDB thread


def _distinct_keys(con, table: str, load_id: str, cols: list[str]) -> tuple[int, int]:
    """(rows, distinct keys over ``cols``) among the rows of ``load_id`` in ``table``.

    Exact when the key space is small: each column is replaced by its dense rank among the load's distinct
    values (NULL counts as a value), the ranks are packed mixed-radix into one integer
    (((r₁·n₂ + r₂)·n₃ + r₃)…, injective) and set in a bitmap with DuckDB's ``bitstring_agg``; distinct keys =
    ``bit_count``.  Used when Π nᵢ ≤ :data:`KEY_BITMAP_BITS` (a BACI year: ≈ 230 × 230 × 5,400 ≈ 2.9·10⁸ bits
    at most; in practice the products present).  Otherwise: ``count(DISTINCT hash(cols))`` (64-bit; a
    collision can only lower the count, which sends the caller to its exact check).  No columns → every row
    has the same key.
    """
    where = f"load_id = {lit(load_id)}"
    if not cols:
        n = con.execute(f"SELECT count(*) FROM {ident(table)} WHERE {where}").fetchone()[0]
        return int(n), min(int(n), 1)
    cards = con.execute("SELECT count(*), " + ", ".join(
        f"count(DISTINCT {ident(c)}) + CAST(count(*) > count({ident(c)}) AS BIGINT)" for c in cols)
        + f" FROM {ident(table)} WHERE {where}").fetchone()
    n_rows, cards = int(cards[0]), [int(x) for x in cards[1:]]
    if n_rows == 0:
        return 0, 0
    space = 1
    for n in cards:
        space *= n
    if space > KEY_BITMAP_BITS:
        h = "hash(" + ", ".join(ident(c) for c in cols) + ")"
        return n_rows, int(con.execute(f"SELECT count(DISTINCT {h}) FROM {ident(table)} WHERE {where}")
                           .fetchone()[0])
    packed, joins = "0", []
    for i, (c, n) in enumerate(zip(cols, cards)):
        con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_rank{i} AS SELECT v, CAST(row_number() OVER () - 1 AS "
                    f"BIGINT) AS r FROM (SELECT DISTINCT {ident(c)} AS v FROM {ident(table)} WHERE {where})")
        joins.append(f"JOIN __tp_rank{i} k{i} ON f.{ident(c)} IS NOT DISTINCT FROM k{i}.v")
        packed = f"({packed}) * {n} + k{i}.r"
    try:
        n_keys = con.execute(f"SELECT bit_count(bitstring_agg({packed}, 0, {space - 1})) FROM {ident(table)} f "
                             f"{' '.join(joins)} WHERE f.{where}").fetchone()[0]
    finally:
        for i in range(len(cols)):
            con.execute(f"DROP TABLE IF EXISTS __tp_rank{i}")
    return n_rows, int(n_keys)


#: DuckDB's ``bitstring_agg`` refuses a range wider than this (max − min < 10⁹).
BITSTRING_MAX_BITS = 1_000_000_000
#: Largest total of bitmap bits one slim duplicate count may hold per DuckDB thread (256 MB).
SLIM_BITMAP_TOTAL_BITS = 1 << 31


def _distinct_rids(con, table: str, col: str) -> int:
    """count(DISTINCT col) of a temp table of row ids: a ``bitstring_agg`` bitmap over [min, max] when that
    range fits DuckDB's (a load's rows are appended, so their ``rowid``s are one run), else a hash count —
    ≈ 3× faster than ``count(DISTINCT)`` on 10M ids."""
    lo, hi = con.execute(f"SELECT min({col}), max({col}) FROM {table}").fetchone()
    if lo is None:
        return 0
    if hi - lo < BITSTRING_MAX_BITS:
        return int(con.execute(f"SELECT bit_count(bitstring_agg({col}, {int(lo)}, {int(hi)})) FROM {table}")
                   .fetchone()[0])
    return int(con.execute(f"SELECT count(DISTINCT {col}) FROM {table}").fetchone()[0])


def _slim_plan(n_y: int, n_c: int, n_p: int) -> int | None:
    """How many leading key parts of (year, reporter) become GROUP BY keys so that each group's bitmap over
    the rest fits ``bitstring_agg`` (< 10⁹ bits): 0 (one bitmap), 1 (one per year), 2 (one per year ×
    reporter), or None (hash count) when the whole space (= groups × bitmap, whatever the grouping) is over
    :data:`SLIM_BITMAP_TOTAL_BITS`."""
    parts = [n_y, n_c, n_c, n_p]
    for g in range(3):
        groups, space = 1, 1
        for n in parts[:g]:
            groups *= n
        for n in parts[g:]:
            space *= n
        if space <= BITSTRING_MAX_BITS and groups * space <= SLIM_BITMAP_TOTAL_BITS:
            return g
    return None


def _slim_distinct_keys(con, load_no: int) -> tuple[int, int]:
    """(rows, distinct keys) of a slim load, as :func:`_distinct_keys` but on the stored numbers.

    The key is (year, reporter, partner, product) — month, flow and province are constant in a BACI load.
    Country numbers are ranked by their ISO3 code (dense rank), so two numbers of one country (56 and 58
    for Belgium) count as one key, as in the decoded ``flows``.  Ranks are packed mixed-radix
    (((y·n_c + r)·n_c + p)·n_p + k, injective) into ``bitstring_agg`` bitmaps sized to the load's key space:
    one bitmap when it fits DuckDB's 10⁹-bit range (a real BACI year: 232 × 232 × 5,388 ≈ 2.9·10⁸ bits,
    36 MB), else one per year (or per year × reporter), summed (:func:`_slim_plan`); beyond that, distinct
    64-bit hashes (a collision can only lower the count, which sends the caller to its exact check).
    """
    where = f"load_no = {int(load_no)}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_srk_c AS SELECT number AS v, CAST(dense_rank() OVER "
                f"(ORDER BY iso3) - 1 AS BIGINT) AS r FROM baci_countries WHERE {where}")
    n_c = int(con.execute("SELECT coalesce(max(r), -1) + 1 FROM __tp_srk_c").fetchone()[0])
    for c, values in (("year", "years"), ("product", "products")):  # distinct values found by _insert_slim
        con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_srk_{c} AS SELECT v, CAST(row_number() OVER () - 1 AS "
                    f"BIGINT) AS r FROM (SELECT unnest({values}) AS v FROM __tp_slim_values)")
    n_y, n_p, n_rows = con.execute(f"SELECT (SELECT count(*) FROM __tp_srk_year), (SELECT count(*) FROM "
                                   f"__tp_srk_product), (SELECT count(*) FROM baci_rows WHERE {where})").fetchone()
    try:
        if n_rows == 0:
            return 0, 0
        joins = ("JOIN __tp_srk_year y ON y.v = f.year JOIN __tp_srk_c rc ON rc.v = f.reporter "
                 "JOIN __tp_srk_c pc ON pc.v = f.partner JOIN __tp_srk_product p ON p.v = f.product")
        plan = _slim_plan(int(n_y), n_c, int(n_p))
        if plan is None:
            sql = f"SELECT count(DISTINCT hash(y.r, rc.r, pc.r, p.r)) FROM baci_rows f {joins} WHERE f.{where}"
        else:
            terms = [("y.r", int(n_y)), ("rc.r", n_c), ("pc.r", n_c), ("p.r", int(n_p))][plan:]
            packed, space = "0", 1
            for col, n in terms:
                packed, space = f"({packed}) * {n} + {col}", space * n
            group = " GROUP BY " + ", ".join(c for c, _ in [("y.r", 0), ("rc.r", 0)][:plan]) if plan else ""
            sql = (f"SELECT coalesce(sum(b), 0) FROM (SELECT bit_count(bitstring_agg({packed}, 0, {space - 1})) AS b "
                   f"FROM baci_rows f {joins} WHERE f.{where}{group})")
        n_keys = con.execute(sql).fetchone()[0]
        return int(n_rows), int(n_keys)
    finally:
        for t in ("c", "year", "product"):
            con.execute(f"DROP TABLE IF EXISTS __tp_srk_{t}")


def _key_on(a: str, b: str, keys) -> str:
    """Join condition on every key column, NULLs equal (``IS NOT DISTINCT FROM``)."""
    return " AND ".join(f"{a}.{k} IS NOT DISTINCT FROM {b}.{k}" for k in keys)


#: Largest packed key space for :func:`_find_overlap`'s one-integer join (beyond it: a join on the key columns).
PACKED_KEY_SPACE = 1 << 62


def _find_overlap(con, target: str, load_id: str) -> int:
    """Fill temp table ``__tp_overlap`` (``old_rid``, ``new_rid``, ``old_load_id``, ``old_value``): one row per
    pair of an earlier row and a row of ``load_id`` with the same key in ``target``; return the pair count.

    Keys are ``KEYS[target]`` compared with ``IS NOT DISTINCT FROM`` (NULL month/province equal).
    ``hs_revision`` is not part of the key: the same flow in two HS vintages still doubles totals.
    1. Cheap pre-filter: only earlier rows in a (year, reporter) pair — (year, iso3) for macro — that the
       new load has are considered, so a load of another year or country costs one small join.
    2. Exact one-integer join: each key column is replaced by its dense rank among the *new* load's values
       (NULL counts as a value; an earlier row with a value the new load lacks cannot match and drops out of
       the inner join), ranks are packed mixed-radix (((r₁·n₂ + r₂)·n₃ + r₃)…, injective while Π nᵢ ≤
       :data:`PACKED_KEY_SPACE`) and the two sides are joined on that BIGINT — ≈ 4× faster than a hash join
       on seven mostly-text columns under the ingest memory limit.  Key columns constant in the new load
       become a filter on the earlier rows.  Larger key spaces fall back to the join on the key columns.
    Rows are named by their storage and DuckDB ``rowid`` (``__store``, ``__rid`` of :func:`_located`; valid
    within the transaction), so the deletes that follow (:func:`_delete_located`) are semi-joins on one
    integer.  Columns: ``old_store``, ``old_rid``, ``new_store``, ``new_rid``, ``old_load_id``, ``old_value``.
    """
    keys = KEYS[target]
    pre = [k for k in keys if k in ("year", "reporter", "iso3")]
    t = _located(target)
    value = f"o.{VALUE[target]}" if VALUE[target] else "NULL::DOUBLE"
    mine = f"load_id = {lit(load_id)}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_pairs AS SELECT DISTINCT {', '.join(pre)} FROM {t} WHERE {mine}")
    on_pre = " AND ".join(f"o.{k} = p.{k}" for k in pre)
    earlier = (f"FROM {t} o JOIN __tp_pairs p ON {on_pre} "
               f"WHERE o.load_id IS DISTINCT FROM {lit(load_id)}")
    if not con.execute(f"SELECT EXISTS (SELECT 1 {earlier})").fetchall()[0][0]:
        return 0  # no earlier row shares a (year, reporter) pair with this load
    cards = []
    for i, k in enumerate(keys):  # dense ranks of the new load's values (NULL included), per key column
        con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_ork{i} AS SELECT v, CAST(row_number() OVER () - 1 AS "
                    f"BIGINT) AS r FROM (SELECT DISTINCT {ident(k)} AS v FROM {t} WHERE {mine})")
        cards.append(int(con.execute(f"SELECT count(*) FROM __tp_ork{i}").fetchall()[0][0]))
    space = 1
    for n in cards:
        space *= max(n, 1)
    if space > PACKED_KEY_SPACE:
        for i in range(len(keys)):
            con.execute(f"DROP TABLE IF EXISTS __tp_ork{i}")
        kcols = ", ".join(f"o.{k}" for k in keys)
        con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_overlap AS SELECT o.__store AS old_store, o.__rid AS "
                    f"old_rid, n.__store AS new_store, n.__rid AS new_rid, o.load_id AS old_load_id, o.__v AS "
                    f"old_value FROM (SELECT o.__store, o.__rid, {kcols}, o.load_id, {value} AS __v {earlier}) o "
                    f"JOIN {t} n ON {_key_on('n', 'o', keys)} WHERE n.{mine}")
        return int(con.execute("SELECT count(*) FROM __tp_overlap").fetchall()[0][0])
    packed, new_joins, old_joins, old_filters = "0", [], [], []
    try:
        for i, (k, n) in enumerate(zip(keys, cards)):
            if n <= 1:   # one value in the new load: nothing to pack, a filter on the earlier rows
                old_filters.append(f"o.{ident(k)} IS NOT DISTINCT FROM (SELECT v FROM __tp_ork{i})")
                continue
            new_joins.append(f"JOIN __tp_ork{i} k{i} ON f.{ident(k)} IS NOT DISTINCT FROM k{i}.v")
            old_joins.append(f"JOIN __tp_ork{i} k{i} ON o.{ident(k)} IS NOT DISTINCT FROM k{i}.v")
            packed = f"({packed}) * {n} + k{i}.r"
        filt = "".join(f" AND {x}" for x in old_filters)
        con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_overlap AS SELECT o.old_store, o.old_rid, n.new_store, "
                    f"n.new_rid, o.old_load_id, o.old_value FROM (SELECT o.__store AS old_store, o.__rid AS old_rid, "
                    f"o.load_id AS old_load_id, {value} AS old_value, "
                    f"{packed} AS pk FROM {t} o JOIN __tp_pairs p ON {on_pre} {' '.join(old_joins)} "
                    f"WHERE o.load_id IS DISTINCT FROM {lit(load_id)}{filt}) o "
                    f"JOIN (SELECT f.__store AS new_store, f.__rid AS new_rid, {packed} AS pk FROM {t} f "
                    f"{' '.join(new_joins)} WHERE f.{mine}) n ON o.pk = n.pk")
    finally:
        for i in range(len(keys)):
            con.execute(f"DROP TABLE IF EXISTS __tp_ork{i}")
    return int(con.execute("SELECT count(*) FROM __tp_overlap").fetchall()[0][0])


def _find_overlap_slim(con, load_id: str, load_no: int) -> int | None:
    """:func:`_find_overlap` for a slim BACI load against earlier slim loads, on the stored numbers (no
    decoding view); None when it does not apply (earlier rows in ``flow_rows`` share a year) and the caller
    takes the general path.

    A slim row's key decodes to (year, NULL month, ISO3 of reporter, ISO3 of partner, the load's flow,
    lpad(product, 6), NULL province): equal keys ⇔ equal (year, reporter ISO3, partner ISO3, flow,
    product).  ISO3 codes are ranked once over every load's number list (two numbers of one country share
    a rank, as in the decoded ``flows``); the key is packed ((((year − 1900)·n + r)·n + p)·10⁶ + product,
    injective for years 1900–2100 and products 0–999999, which the slim load checks) and the new load is
    joined to the earlier rows of the same flow and years on that one BIGINT.  When every number involved
    means one country and each country has one number (the usual case), the numbers themselves are packed
    and the code lists are not joined at all.
    """
    src = f"FROM flow_rows WHERE year IN (SELECT DISTINCT year FROM baci_rows WHERE load_no = {int(load_no)})"
    if con.execute(f"SELECT EXISTS (SELECT 1 {src})").fetchone()[0]:
        return None
    n_ = int(load_no)
    years = f"(SELECT DISTINCT year FROM baci_rows WHERE load_no = {n_})"
    flow = f"(SELECT flow FROM baci_loads WHERE load_no = {n_})"
    loads = f"(SELECT load_no FROM baci_loads WHERE flow = {flow})"   # the new load and earlier ones alike
    con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_iso AS SELECT load_no, number, CAST(dense_rank() OVER "
                f"(ORDER BY iso3) AS BIGINT) AS r FROM baci_countries WHERE load_no IN {loads}")
    # numbers that mean one country everywhere (each number one ISO3, each ISO3 one number, all < 1000, as
    # BACI's): the stored numbers are the key as they are — no join to the code lists
    n, same = con.execute("SELECT coalesce(max(r), 0) + 1, count(DISTINCT number) = count(DISTINCT r) AND "
                          "count(DISTINCT (number, r)) = count(DISTINCT number) AND coalesce(max(number), 0) < 1000 "
                          "AND coalesce(min(number), 0) >= 0 FROM __tp_iso").fetchone()
    if same:
        packed, rows = ("((((CAST(b.year AS BIGINT) - 1900) * 1000 + b.reporter) * 1000 + b.partner) * 1000000 "
                        "+ b.product)"), "FROM baci_rows b"
    else:
        packed = f"((((CAST(b.year AS BIGINT) - 1900) * {int(n)} + rc.r) * {int(n)} + pc.r) * 1000000 + b.product)"
        rows = ("FROM baci_rows b JOIN __tp_iso rc ON rc.load_no = b.load_no AND rc.number = b.reporter "
                "JOIN __tp_iso pc ON pc.load_no = b.load_no AND pc.number = b.partner")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_overlap AS SELECT 'baci' AS old_store, o.rid AS old_rid, "
                    f"'baci' AS new_store, m.rid AS new_rid, l.load_id AS old_load_id, o.v AS old_value "
                    f"FROM (SELECT b.rowid AS rid, {packed} AS pk {rows} WHERE b.load_no = {n_}) m "
                    f"JOIN (SELECT b.rowid AS rid, b.load_no, b.value_usd AS v, {packed} AS pk {rows} "
                    f"WHERE b.load_no <> {n_} AND b.load_no IN {loads} AND b.year IN {years}) o ON o.pk = m.pk "
                    f"JOIN baci_loads l ON l.load_no = o.load_no")
    finally:
        con.execute("DROP TABLE IF EXISTS __tp_iso")
    return int(con.execute("SELECT count(*) FROM __tp_overlap").fetchall()[0][0])


def _overlap_lines(con, spec: Spec, load_id: str, rejected: list[int], *, first_only: bool = False) -> int:
    """Quarantine the source lines whose good row has a key in ``__tp_ovl_keys``; return how many.

    Pure SQL (``INSERT … SELECT`` over the line-numbered second pass joined to the keys): a revised release
    can repeat millions of rows, which must not travel through pandas.  Line = record number + line offset,
    plus the count of rejected (unreadable) lines before it, as :func:`_true_lines`: with a_i = R_i − i over
    the sorted rejected lines R, line = base + #{i : a_i ≤ base}, found by an ASOF join on a.
    ``first_only``: insert nothing, return the first such line (for the "no usable rows" error).
    """
    keys = KEYS[spec.target]
    sql2 = _inner_select(spec, with_rn=True)[0].replace(
        "{rel}", f"(SELECT row_number() OVER () AS __rn, * FROM {spec.relation_pass2 or spec.relation})")
    desc = " || ', ' || ".join(f"'{k}=' || coalesce(CAST(q.{k} AS VARCHAR), '')" for k in keys)
    rows = (f"SELECT q.__rn + {int(spec.line_offset)} AS __base, {desc} AS __value, q.__raw, v.old_load_id "
            f"FROM ({sql2}) q JOIN __tp_ovl_keys v ON {_key_on('v', 'q', keys)} WHERE q.__reason IS NULL")
    if len(rejected):
        import numpy as np

        r = np.unique(rejected)
        a = r - np.arange(len(r))                       # non-decreasing
        ua = np.unique(a)
        k = np.searchsorted(a, ua, side="right")        # #{i : a_i ≤ ua}
        con.execute("CREATE OR REPLACE TEMP TABLE __tp_rej_a AS SELECT unnest(?::BIGINT[]) AS a, "
                    "unnest(?::BIGINT[]) AS k", [ua.tolist(), k.tolist()])
        rows = f"SELECT x.*, x.__base + coalesce(r.k, 0) AS __line FROM ({rows}) x " \
               f"ASOF LEFT JOIN __tp_rej_a r ON x.__base >= r.a"
    else:
        rows = f"SELECT x.*, x.__base AS __line FROM ({rows}) x"
    if first_only:
        return int(con.execute(f"SELECT min(__line) FROM ({rows})").fetchone()[0])
    return int(con.execute(f"INSERT INTO quarantine SELECT {lit(load_id)}, {lit(spec.file)}, y.__line, 'key', "
                           f"y.__value, l.reason, y.__raw FROM ({rows}) y JOIN __tp_ovl_loads l "
                           f"ON l.old_load_id IS NOT DISTINCT FROM y.old_load_id").fetchone()[0])



def _stage_duplicate_lines(con) -> int:
    """Exact duplicate source lines among the good rows staged in ``__tp_stage`` (an aggregated load, where
    distinct tariff lines are summed into one HS6 row): the lines whose texts are equal in every column go to
    ``__tp_duplines`` (``__line``, ``n`` copies); return the number of rows concerned (all copies).  Like a
    duplicate key in the other formats, no copy is trusted: they are quarantined, not summed."""
    con.execute("CREATE OR REPLACE TEMP TABLE __tp_duplines AS SELECT __line, count(*) AS n FROM __tp_stage "
                "WHERE __reason IS NULL GROUP BY __line HAVING count(*) > 1")
    return int(con.execute("SELECT coalesce(sum(n), 0) FROM __tp_duplines").fetchone()[0])


def _dup_lines_part(sql2: str) -> str:
    """Quarantine rows (second pass ``sql2``, with ``__line``) of the lines in ``__tp_duplines``."""
    return (f"SELECT q.__rn, q.__raw, 'line' AS __column, NULL AS __value, 'duplicate line (' || d.n || "
            f"' identical lines)' AS __reason, 'dup' AS __kind FROM ({sql2}) q JOIN __tp_duplines d "
            f"ON q.__line IS NOT DISTINCT FROM d.__line WHERE q.__reason IS NULL")
