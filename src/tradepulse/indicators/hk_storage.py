"""Hummels–Klenow served sums of every exporter read straight from the slim BACI storage (issue 19).

:func:`tradepulse.indicators.diversification.hk_margins` without ``reporter`` needs, per year, every exporter's
served sums over its positive cells c = (market m, product p) (HK 2005, see
:func:`~tradepulse.indicators.diversification.hummels_klenow`)::

    X_jm = Σ_{p∈C_jm} x_jmp,   R_jm = Σ_{p∈C_jm} (W_mp − x_jmp)  (reference "rest"; Σ W_mp for "world"),
    n_jm = |C_jm|,             W_mp = Σ_k x_kmp  (every exporter's positive cells)

The general path builds them through the ``flows_keyed`` view (three joins with the country lists per row, the
cells grouped by seven key columns, ≈ 8 s CPU a year on the 29-year panel).  Here, for a dataset whose rows are
all slim BACI loads, the year's rows of ``baci_rows`` are summed by their numbers: W_mp is one hash aggregate
of (market, product) numbers, joined back to the rows, then summed by (market, exporter) — only those ≈ 54K
sums a year reach Python, where the numbers are decoded through the load's country list.

Exactness (the same sums as the general path, in another order): the slim ingest quarantines duplicate keys and
keeps only values ≥ 0, finite, with both countries in the load's list and a product 0–999999
(``ingest._storage``).  So when a year has one load in the dataset, the country numbers are canonical (no number
names two codes in two loads, no code has two numbers) and products are not cut (``level``), a row is a cell
and ``value_usd > 0`` is the positive-cell test.  Otherwise the rows are first summed into cells (a year from
several loads, an HS level cut), by canonical country ids read through a join with the lists when the numbers
are not canonical.  Rows whose partner is ``WLD`` and rows with the exporter as its own market are left out, as
in the general path.  Not for a dataset with rows in ``flow_rows`` (other loads; negative values possible),
Spark or frames: the caller keeps the general path then.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tradepulse import schema

__all__ = ["HkStorage"]

#: Largest (market, product) key range of one part of a year's query: DuckDB joins a build side whose integer
#: key spans at most 2^20 values through a perfect hash table (an array, no hashing); 2^19 keeps a margin.
PART_KEYS = 1 << 19
#: Group keys of this many bits or fewer are aggregated in DuckDB's perfect hash table (default 12): the
#: (market, product) key of a part and the (market, exporter) ids of the sums.
PERFECT_BITS = 24

#: Rounds of years between two evictions of DuckDB's block cache (each costs ≈ 0.2 s CPU of re-reads and page
#: faults a year; without any, the cache grows by a year's ≈ 48 MB of compressed columns each year).
DROP_EVERY = 3


@dataclass
class HkStorage:
    """The plan of one call: the dataset's slim export loads, their country lists and the years to read.

    Countries are read as dense ids (0 … n − 1, positions in :attr:`codes`, sorted codes): ``direct`` — every
    load names the same code by a number and no code has two numbers — maps numbers to ids; otherwise
    (load, number) pairs are mapped (two numbers may name one code)."""

    warehouse: object
    loads: list[int]                                   # slim load numbers of the dataset (requested flows)
    years: list[int]
    pieces: dict[int, int]                             # year → number of loads of the dataset holding it
    direct: bool                                       # numbers are canonical (see the class docstring)
    codes: np.ndarray                                  # id → country code (sorted)
    ids: list[tuple[int, int, int]] = field(default_factory=list)   # (load, number, id) of every listed number
    wld: list[int] = field(default_factory=list)       # the id naming WLD (partner rows left out)

    @classmethod
    def plan(cls, data, dataset: str | None, *, years: list[int] | None, flows: tuple[str, ...]
             ) -> "HkStorage | None":
        """The plan for ``dataset`` of the DuckDB warehouse ``data``, or None when the storage path does not
        apply (not a DuckDB warehouse, no dataset, rows of the dataset outside the slim storage)."""
        from tradepulse.indicators.inputs import coverage
        from tradepulse.warehouse import Warehouse
        from tradepulse.warehouse.datasets import table_names

        if type(data) is not Warehouse or dataset is None:
            return None
        con = data.raw
        if not {"baci_rows", "baci_loads", "baci_countries", "coverage"} <= table_names(con):
            return None
        cov = coverage(data)
        cov = cov[cov["dataset"] == dataset]
        ids = set(cov["load_id"].tolist())
        loads = con.execute("SELECT load_no, load_id, flow FROM baci_loads").fetchall()
        slim_ids = {lid for _n, lid, _f in loads}
        if not ids or None in ids or any(not isinstance(x, str) or x not in slim_ids for x in ids):
            return None     # rows kept by source or in flow_rows: the general path
        cov = cov[cov["flow"].isin(flows)]
        nos = sorted(int(n) for n, lid, f in loads if lid in ids and f in flows)
        have = sorted(int(y) for y in cov["year"].unique())
        ys = have if years is None else [y for y in have if y in set(years)]
        pieces = {int(y): int(n) for y, n in cov.groupby("year")["load_id"].nunique().items()}
        lists = con.execute("SELECT load_no, number, iso3 FROM baci_countries WHERE list_contains(?, load_no) "
                            "ORDER BY load_no, number", [nos]).fetchall() if nos else []
        # the numbers are canonical when every load that lists a number names the same code by it and no code
        # has two numbers (BACI's lists: one per release year, a country present or not)
        named = {(int(k), str(c)) for _n, k, c in lists}
        by_number = dict(sorted(named))
        direct = len(by_number) == len(named) == len(set(by_number.values()))
        codes = np.array(sorted({str(c) for _n, _k, c in lists}), dtype=object)
        pos = {c: i for i, c in enumerate(codes)}
        listed = [(int(n), int(k), pos[str(c)]) for n, k, c in lists]
        wld = [pos[schema.WORLD]] if schema.WORLD in pos else []
        return cls(data, nos, ys, pieces, direct, codes, listed, wld)

    # ------------------------------------------------------------------ SQL
    def _setup(self, cur) -> None:
        """A worker cursor's country ids (a temporary table: its statistics let DuckDB use perfect hash tables)
        and its settings."""
        with contextlib.suppress(Exception):   # an older DuckDB: the ordinary hash tables, the same sums
            cur.execute(f"SET perfect_ht_threshold = {PERFECT_BITS}")
        if self.direct:
            pairs = sorted({(k, i) for _n, k, i in self.ids})
            cur.execute("CREATE OR REPLACE TEMP TABLE __tp_hk_countries AS SELECT unnest(?::INTEGER[]) AS number, "
                        "unnest(?::INTEGER[]) AS id", [[k for k, _i in pairs], [i for _k, i in pairs]])
        else:
            cur.execute("CREATE OR REPLACE TEMP TABLE __tp_hk_countries AS SELECT unnest(?::INTEGER[]) AS load_no, "
                        "unnest(?::INTEGER[]) AS number, unnest(?::INTEGER[]) AS id",
                        [[n for n, _k, _i in self.ids], [k for _n, k, _i in self.ids], [i for _n, _k, i in self.ids]])

    def _rows(self, year: int, level: int | None, prefixes: tuple[str, ...] | None, use_products: bool
              ) -> tuple[str, str]:
        """(FROM-WHERE of the year's positive rows, SQL of their product as the cell has it)."""
        loads = ", ".join(map(str, self.loads))
        where = f"b.year = {int(year)} AND b.load_no IN ({loads}) AND b.value_usd > 0"
        if prefixes:
            ranges = []
            for pre in prefixes:
                lo, width = int(pre) * 10 ** (6 - len(pre)), 10 ** (6 - len(pre))
                ranges.append(f"(b.product >= {lo} AND b.product < {lo + width})")
            where += f" AND ({' OR '.join(ranges)})"
        p = "0" if not use_products else (f"b.product // {10 ** (6 - level)}" if level else "b.product")
        return f"FROM baci_rows b WHERE {where}", p

    def sql(self, cur, year: int, *, scope_market: bool, use_products: bool, reference: str,
            level: int | None, prefixes: tuple[str, ...] | None) -> str:
        """The query of one year's served sums (m, e, export_value, ref_served, n_cells) per market × exporter,
        or (e, …) per exporter — m and e country ids; builds the year's product ids on ``cur`` first.

        Cells carry one integer key k = m·P + product id (P products in the year); the markets are cut into
        parts of at most :data:`PART_KEYS` keys, so that W per key and its join back to the cells use perfect
        hash tables (≈ 0.85 s CPU a year on the 29-year panel against ≈ 1.9 s for one hash join by (m, p))."""
        frm, p = self._rows(year, level, prefixes, use_products)
        cur.execute(f"CREATE OR REPLACE TEMP TABLE __tp_hk_products AS SELECT p, CAST(row_number() OVER (ORDER BY p) "
                    f"- 1 AS INTEGER) AS pi FROM (SELECT DISTINCT {p} AS p {frm})")
        n_p = max(1, int(cur.execute("SELECT count(*) FROM __tp_hk_products").fetchall()[0][0]))
        on = "{a}.number = b.{col}" if self.direct else "{a}.load_no = b.load_no AND {a}.number = b.{col}"
        wld = "".join(f" AND m.id <> {i}" for i in self.wld)
        dense = (f"SELECT e.id AS e, m.id AS m, m.id * {n_p} + pr.pi AS k, b.value_usd AS v {frm.split(' WHERE ')[0]} "
                 f"JOIN __tp_hk_products pr ON pr.p = {p} "
                 f"JOIN __tp_hk_countries e ON {on.format(a='e', col='reporter')} "
                 f"JOIN __tp_hk_countries m ON {on.format(a='m', col='partner')} "
                 f"WHERE {frm.split(' WHERE ', 1)[1]} AND e.id <> m.id{wld}")
        rows_are_cells = self.direct and level is None and use_products and self.pieces.get(int(year), 1) == 1
        cells = dense if rows_are_cells else f"SELECT e, m, k, sum(v) AS v FROM ({dense}) GROUP BY ALL"
        ref = "w.w - c.v" if reference == "rest" else "w.w"
        step = max(1, PART_KEYS // n_p)
        parts = []
        for lo in range(0, len(self.codes), step):
            parts.append(f"SELECT * FROM (WITH c AS (SELECT * FROM ({cells}) WHERE m >= {lo} AND m < {lo + step}), "
                         "w AS (SELECT k, sum(v) AS w FROM c GROUP BY ALL) "
                         f"SELECT c.m, c.e, sum(c.v) AS export_value, sum({ref}) AS ref_served, count(*) AS n_cells "
                         "FROM c JOIN w USING (k) GROUP BY ALL)")
        body = " UNION ALL ".join(parts)
        if scope_market:
            return body
        return (f"SELECT e, sum(export_value) AS export_value, sum(ref_served) AS ref_served, "
                f"sum(n_cells) AS n_cells FROM ({body}) GROUP BY ALL")

    def decode(self, tab, year: int, scope_market: bool) -> pd.DataFrame:
        """A year's sums (Arrow) → the served frame of the general path: ``year`` (int16), ``partner``,
        ``reporter``, ``export_value``, ``ref_served``, ``n_cells``."""
        out = {"year": np.full(tab.num_rows, year, dtype=np.int16)}
        if scope_market:
            out["partner"] = self.codes[tab.column("m").to_numpy().astype(np.int64)]
        out["reporter"] = self.codes[tab.column("e").to_numpy().astype(np.int64)]
        for c in ("export_value", "ref_served"):
            out[c] = tab.column(c).to_numpy()
        out["n_cells"] = tab.column("n_cells").to_numpy().astype(np.int64)
        return pd.DataFrame(out)

    def served(self, *, scope_market: bool, use_products: bool, reference: str, level: int | None,
               prefixes: tuple[str, ...] | None, workers: int = 2) -> pd.DataFrame:
        """Every exporter's served sums for all :attr:`years` (one query a year).  The years run on
        ``workers`` cursors at once with DuckDB's threads set to one for the duration (a parallel query
        splits its hash tables per thread and merges them: more CPU for the same sums); DuckDB's block cache
        is emptied after every :data:`DROP_EVERY` rounds (no query running then)."""
        from tradepulse.indicators.complexity import _drop_block_cache

        con = self.warehouse.raw
        if not self.years:
            return pd.DataFrame()
        parts: dict[int, pd.DataFrame] = {}

        def one(cur, year: int) -> None:
            q = self.sql(cur, year, scope_market=scope_market, use_products=use_products, reference=reference,
                         level=level, prefixes=prefixes)
            parts[year] = self.decode(cur.sql(q).to_arrow_table(), year, scope_market)

        threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
        workers = max(1, min(int(workers), int(threads), len(self.years)))
        curs = [con.cursor() for _ in range(workers)]
        try:
            for cur in curs:
                self._setup(cur)
            if workers > 1:
                con.execute("SET threads = 1")
            with ThreadPoolExecutor(workers) as pool:
                for i in range(0, len(self.years), workers):
                    batch = self.years[i:i + workers]
                    for f in [pool.submit(one, curs[j], y) for j, y in enumerate(batch)]:
                        f.result()
                    if (i // workers) % DROP_EVERY == DROP_EVERY - 1:
                        _drop_block_cache(self.warehouse)
        finally:
            with contextlib.suppress(Exception):
                con.execute(f"SET threads = {int(threads)}")
            for cur in curs:
                cur.close()
        return pd.concat([parts[y] for y in self.years], ignore_index=True)
