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

@dataclass
class HkStorage:
    """The plan of one call: the dataset's slim export loads, their country lists and the years to read."""

    warehouse: object
    loads: list[int]                                   # slim load numbers of the dataset (requested flows)
    years: list[int]
    pieces: dict[int, int]                             # year → number of loads of the dataset holding it
    direct: bool                                       # the loads' numbers name the same distinct codes
    numbers: np.ndarray                                # direct: the list's numbers (ascending) …
    codes: np.ndarray                                  # … and their codes; else the canonical codes (sorted)
    wld: list[int] = field(default_factory=list)       # numbers (direct) or the id naming WLD

    @classmethod
    def plan(cls, data, dataset: str | None, *, years: list[int] | None, flows: tuple[str, ...]
             ) -> "HkStorage | None":
        """The plan for ``dataset`` of the DuckDB warehouse ``data``, or None when the storage path does not
        apply (not a DuckDB warehouse, no dataset, rows of the dataset outside the slim storage)."""
        from tradepulse.indicators.inputs import coverage
        from tradepulse.warehouse import Warehouse

        if type(data) is not Warehouse or dataset is None:
            return None
        con = data.raw
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = 'main'").fetchall()}
        if not {"baci_rows", "baci_loads", "baci_countries", "coverage"} <= tables:
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
        if direct:
            numbers = np.array(list(by_number), dtype=np.int64)
            codes = np.array(list(by_number.values()), dtype=object)
            wld = [k for k, c in by_number.items() if c == schema.WORLD]
        else:
            codes = np.array(sorted({c for _n, _k, c in lists}), dtype=object)
            numbers = np.arange(len(codes), dtype=np.int64)
            wld = [int(i) for i in np.flatnonzero(codes == schema.WORLD)]
        return cls(data, nos, ys, pieces, direct, numbers, codes, wld)

    # ------------------------------------------------------------------ SQL
    def sql(self, year: int, *, scope_market: bool, use_products: bool, reference: str,
            level: int | None, prefixes: tuple[str, ...] | None) -> str:
        """The query of one year's served sums: (m, e, export_value, ref_served, n_cells) per market × exporter
        (``scope_market``) or (e, …) per exporter, m and e country numbers (direct) or canonical ids."""
        loads = ", ".join(map(str, self.loads))
        if self.direct:
            src = (f"SELECT reporter AS e, partner AS m, product AS p, value_usd AS v FROM baci_rows "
                   f"WHERE year = {int(year)} AND load_no IN ({loads}) AND value_usd > 0")
        else:   # numbers → canonical ids through the loads' lists (two numbers may name one code)
            ids = ("(SELECT c.load_no, c.number, i.id FROM baci_countries c JOIN "
                   "(SELECT iso3, CAST(row_number() OVER (ORDER BY iso3) - 1 AS INTEGER) AS id FROM "
                   f"(SELECT DISTINCT iso3 FROM baci_countries WHERE load_no IN ({loads}))) i USING (iso3) "
                   f"WHERE c.load_no IN ({loads}))")
            src = (f"SELECT r.id AS e, q.id AS m, b.product AS p, b.value_usd AS v FROM baci_rows b "
                   f"JOIN {ids} r ON r.load_no = b.load_no AND r.number = b.reporter "
                   f"JOIN {ids} q ON q.load_no = b.load_no AND q.number = b.partner "
                   f"WHERE b.year = {int(year)} AND b.load_no IN ({loads}) AND b.value_usd > 0")
        if prefixes:
            ranges = []
            for pre in prefixes:
                lo = int(pre) * 10 ** (6 - len(pre))
                ranges.append(f"(p >= {lo} AND p < {lo + 10 ** (6 - len(pre))})")
            src = f"SELECT * FROM ({src}) WHERE {' OR '.join(ranges)}"
        wld = "".join(f" AND m <> {k}" for k in self.wld)
        p = f"p // {10 ** (6 - level)}" if level else "p"
        rows = f"SELECT e, m, {p if use_products else 0} AS p, v FROM ({src}) WHERE e <> m{wld}"
        cells_are_rows = self.direct and level is None and use_products and self.pieces.get(int(year), 1) == 1
        cells = rows if cells_are_rows else f"SELECT e, m, p, sum(v) AS v FROM ({rows}) GROUP BY ALL"
        ref = "w.w - c.v" if reference == "rest" else "w.w"
        keys = "c.m, c.e" if scope_market else "c.e"
        return (f"WITH c AS ({cells}), w AS (SELECT m, p, sum(v) AS w FROM c GROUP BY ALL) "
                f"SELECT {keys}, sum(c.v) AS export_value, sum({ref}) AS ref_served, count(*) AS n_cells "
                f"FROM c JOIN w USING (m, p) GROUP BY ALL")

    def decode(self, tab, year: int, scope_market: bool) -> pd.DataFrame:
        """A year's sums (Arrow) → the served frame of the general path: ``year`` (int16), ``partner``,
        ``reporter``, ``export_value``, ``ref_served``, ``n_cells``."""
        def codes(col: str) -> np.ndarray:
            k = tab.column(col).to_numpy().astype(np.int64)
            at = np.searchsorted(self.numbers, k)
            return self.codes[at]

        out = {"year": np.full(tab.num_rows, year, dtype=np.int16)}
        if scope_market:
            out["partner"] = codes("m")
        out["reporter"] = codes("e")
        for c in ("export_value", "ref_served"):
            out[c] = tab.column(c).to_numpy()
        out["n_cells"] = tab.column("n_cells").to_numpy().astype(np.int64)
        return pd.DataFrame(out)

    def served(self, *, scope_market: bool, use_products: bool, reference: str, level: int | None,
               prefixes: tuple[str, ...] | None, workers: int = 2) -> pd.DataFrame:
        """Every exporter's served sums for all :attr:`years` (one query a year).  The years run on
        ``workers`` cursors at once with DuckDB's threads set to one for the duration (its parallel hash
        aggregate of ≈ 1.25M (market, product) groups cost ≈ 25 % more CPU than one thread on the 29-year
        panel); DuckDB's block cache is emptied after each round (no query running then)."""
        from tradepulse.indicators.complexity import _drop_block_cache

        con = self.warehouse.raw
        if not self.years:
            return pd.DataFrame()
        parts: dict[int, pd.DataFrame] = {}

        def one(cur, year: int) -> None:
            q = self.sql(year, scope_market=scope_market, use_products=use_products, reference=reference,
                         level=level, prefixes=prefixes)
            tab = cur.sql(q).to_arrow_table()
            parts[year] = self.decode(tab, year, scope_market)

        threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
        workers = max(1, min(int(workers), int(threads), len(self.years)))
        curs = [con.cursor() for _ in range(workers)]
        try:
            if workers > 1:
                con.execute("SET threads = 1")
            with ThreadPoolExecutor(workers) as pool:
                for i in range(0, len(self.years), workers):
                    batch = self.years[i:i + workers]
                    for f in [pool.submit(one, curs[j], y) for j, y in enumerate(batch)]:
                        f.result()
                    _drop_block_cache(self.warehouse)
        finally:
            with contextlib.suppress(Exception):
                con.execute(f"SET threads = {int(threads)}")
            for cur in curs:
                cur.close()
        return pd.concat([parts[y] for y in self.years], ignore_index=True)
