"""Export potential of one exporter (a country or one of its provinces) by product × market.

Method: ITC Export Potential Indicator, Decreux & Spies (2016), "Export Potential Assessments: a
methodology to identify export opportunities for developing countries", ITC Geneva.  For exporter *i*,
product *k* and market *j* the potential export value is the product of four terms::

    potential_ijk = supply_ik(-j) · demand_jk · access_ijk · ease_ij

* **supply** ``S_ik(-j)`` — *i*'s projected share of world exports of *k*, counting only exports to markets
  other than *j* and only suppliers other than *j* (so *j*'s own purchases do not explain themselves)::

      S_ik(-j) = γ_i (x_ik − x_ijk) / Σ_{l≠j} γ_l (x_lk − x_ljk),       γ_l = (GDP_l,t / GDP_l,t−w)^(h/w)

  ``γ`` projects each supplier's exports ``h`` years ahead with its own past GDP growth (CAGR over ``w``
  years); the paper uses IMF forecasts, we use the trend of the ``macro`` table (a documented substitute).
* **demand** ``D_jk`` — *j*'s projected imports of *k* from population and GDP-per-capita growth with an
  income elasticity ``ε_k`` (default 1)::

      D_jk = M_jk · (pop_j,t / pop_j,t−w)^(h/w) · (gdppc_j,t / gdppc_j,t−w)^(ε_k·h/w)

* **access** ``A_ijk`` — market access relative to *j*'s other suppliers of *k*.  With a ``tariffs`` table:
  ``A = ((1+t_ijk)/(1+t̄_jk))^(−σ)`` (tariff advantage, σ = ``tariff_elasticity``).  Without tariffs a
  **gravity proxy**, named ``access_basis="gravity-proxy"`` in the result::

      g_ij = distw_ij^β_d · exp(β_c·contig_ij + β_l·comlang_off_ij),     A_ijk = g_ij / Σ_l (x_ljk / M_jk) g_lj

  i.e. *i*'s bilateral trade-cost factor relative to the import-weighted average of *j*'s suppliers of *k*.
  Distances (population-weighted ``distw``, km), contiguity and common official language are CEPII GeoDist
  variables shipped by ``atlas_common_data.load_geo_distances()``.  Default elasticities are the
  structural-gravity medians of Head & Mayer (2014, Handbook of Int. Econ. 4, Table 4): β_d = −1.14,
  β_c = 0.52, β_l = 0.33.
* **ease** ``B_ij`` — actual bilateral trade relative to what the other terms predict, in the base year
  (no projection), over all products::

      B_ij = Σ_k x_ijk / Σ_k S⁰_ik(-j) M_jk A_ijk

  so at horizon 0 the potential to each market sums to the actual exports there (a checked identity).
  Pairs with no trade at all get ``ease_when_no_trade`` (default 0: no potential where no route exists).

Then ``realised = min(actual, potential)`` and ``unrealised = potential − realised`` (ITC's "untapped"
potential), and :func:`by_product`, :func:`by_market` split the potential.  Conventions: values in the
input's currency unit (USD); flows are exporter-reported bilateral ``export`` rows (mirror-free, as in BACI);
self-trade rows (reporter = partner) are dropped; products can be cut to ``level`` HS digits.

Complementarity and trade intensity live in :mod:`tradepulse.indicators.market_choice`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping

import ibis
import numpy as np
import pandas as pd

from tradepulse.meta import provenance
from tradepulse import schema
from tradepulse.errors import NoDataError, TradepulseError, UnknownNameError
from tradepulse.indicators.selection import province_matches
from tradepulse.i18n import N_
from tradepulse.meta import Note, warn
from tradepulse.warehouse import Warehouse, as_table

__all__ = ["export_potential", "by_product", "by_market", "gravity_access", "macro_factors",
           "bilateral_year", "POTENTIAL_COLUMNS", "HEAD_MAYER_2014"]

#: Structural-gravity median elasticities, Head & Mayer (2014) Table 4: distance, contiguity, common language.
HEAD_MAYER_2014 = {"distance": -1.14, "contiguity": 0.52, "language": 0.33}

#: Current ISO3 → the code CEPII GeoDist (and so atlas-common-data's distance table) uses.
GEODIST_LEGACY = {"ROU": "ROM", "COD": "ZAR", "TLS": "TMP", "PSE": "PAL", "SRB": "YUG", "MNE": "YUG",
                  "CUW": "ANT", "SXM": "ANT", "BES": "ANT", "SSD": "SDN"}

#: Stages reported to ``progress``.
STEPS = ("reading bilateral flows", "projecting GDP and population", "market access", "supply, demand, ease",
         "previous-year imports", "assembling the table")

POTENTIAL_COLUMNS = [
    "exporter", "province", "year", "market", "product", "market_imports", "market_imports_prev",
    "demand", "supply_base", "supply", "access", "ease", "potential", "actual", "realised", "unrealised",
]


# ---------------------------------------------------------------- inputs
def _flows_table(data) -> ibis.Table:
    return as_table(data, "flows")


def _product_present(t: ibis.Table):
    """``product IS NOT NULL``; on ``flows_keyed`` from the key columns (a slim row's NULL number has a NULL
    key, a ``flow_rows`` NULL code a NULL text), so the slim rows' product text is never built."""
    from tradepulse.indicators.selection import is_keyed
    return (t.product_key.notnull() & t.product_text.notnull()) if is_keyed(t) else t.product.notnull()


def _bilateral_rows(data, keyed: bool = False) -> ibis.Table:
    """National bilateral export rows of the chosen dataset (``keyed``: read through ``flows_keyed`` on a
    DuckDB warehouse, so that sums can be grouped by the integer keys)."""
    from tradepulse.indicators.inputs import Needs
    from tradepulse.indicators.selection import select_dataset
    t = select_dataset(data, Needs(level=2, bilateral=True, what="export potential"), flow="export", keyed=keyed)
    return t.filter((t.flow == "export") & (t.partner != schema.WORLD) & t.province.isnull()
                    & (t.reporter != t.partner) & _product_present(t) & t.value_usd.notnull())


def _candidate_years(data) -> list[int] | None:
    """Years the recorded coverage of a :class:`~tradepulse.warehouse.Warehouse` lists with national bilateral
    HS export rows (no scan of the flows); None for other inputs (Ibis tables, Spark)."""
    if not isinstance(data, Warehouse):
        return None
    from tradepulse.indicators.inputs import coverage

    cov = coverage(data)
    cand = cov[(cov["flow"] == "export") & (cov["partner_detail"] == "bilateral")
               & ~cov["provincial"].astype(bool) & (cov["product_level"] > 0)]
    return sorted({int(y) for y in cand["year"].dropna().unique()})


def _probe(t: ibis.Table, years: list[int]) -> list[int]:
    """Which of ``years`` hold rows of ``t``: one ``LIMIT 1`` probe per year, pushed down to it, in one query."""
    if not years:
        return []
    probes = [t.filter(t.year == y).select("year").limit(1) for y in years]
    q = probes[0] if len(probes) == 1 else ibis.union(*probes, distinct=False)
    return sorted({int(y) for y in q.to_pyarrow().column("year").to_pylist() if y is not None})


def bilateral_years(data, within: tuple[int, int] | None = None) -> list[int]:
    """Years holding national bilateral export rows of the chosen dataset (``within``: only those in this
    inclusive range).

    On a :class:`~tradepulse.warehouse.Warehouse` the candidate years come from its recorded coverage and each
    candidate is confirmed by a ``LIMIT 1`` probe pushed down to that year: exact (coverage alone could list a
    year whose rows are all filtered out), and no scan of the stored years — a ``DISTINCT year`` over the
    rows read them all (2.4 s on a 4-year BACI-shaped panel, 4.4 s on 8).  Other inputs: one ``DISTINCT``."""
    t = _bilateral_rows(data)
    cands = _candidate_years(data)
    if cands is None:
        found = sorted({int(y) for y in t.select("year").distinct().to_pyarrow().column("year").to_pylist()
                        if y is not None})
    else:
        found = _probe(t, [y for y in cands if within is None or within[0] <= y <= within[1]])
    return [y for y in found if within is None or within[0] <= y <= within[1]]


def latest_bilateral_year(data) -> int | None:
    """The latest year with national bilateral export rows (on a Warehouse: the coverage's candidates probed
    from the latest down, so only the years above the answer are touched); None when there is none."""
    cands = _candidate_years(data)
    if cands is None:
        years = bilateral_years(data)
        return years[-1] if years else None
    t = _bilateral_rows(data)
    for y in reversed(cands):
        if _probe(t, [y]):
            return y
    return None


def _years_used(data, base: int, average: int, window: int, base_found: bool = False) -> list[int]:
    """The bilateral years export potential reads: those of the averaging window (base − average + 1 … base)
    holding rows, and the earliest year holding rows in the growth window before them (the year of the RCA
    trend and of the previous imports) — the years :func:`bilateral_years` over base − average + 1 − window …
    base would give that potential uses.

    On a Warehouse the coverage's candidates are probed (``LIMIT 1``): the averaging window's (the base year
    not again when ``base_found``), then the growth window's from its earliest year up, stopping at the first
    with rows — usually two probes where every year of the window was probed (each builds the view's country
    join, ≈ 0.3 s).  Other inputs: one ``DISTINCT`` over the window."""
    lo = base - max(average, 1) + 1
    cands = _candidate_years(data)
    if cands is None:
        return bilateral_years(data, within=(lo - window, base))
    t = _bilateral_rows(data)
    known = [base] if base_found else []
    found = sorted(known + _probe(t, [y for y in cands if lo <= y <= base and y not in known]))
    if base not in found:
        return found
    first = found[0]
    for y in (y for y in cands if first - window <= y < first):
        if _probe(t, [y]):
            return sorted([y, *found])
    return found


MIRROR_RULES = ("exporter", "importer", "mean")


def _mirrored_rows(data, rule: str, years: list[int] | None = None, keyed: bool = False) -> ibis.Table:
    """National bilateral exports ``reporter, partner, product, year, value_usd`` reconciled with the
    importers' own declarations (``flow == "import"`` rows, flipped to exporter → importer).

    ``rule``: ``importer`` — the importer's declaration where one exists, else the exporter's (Trade Map's
    mirror principle: import declarations are the better documented side); ``mean`` — the mean of the two
    where both exist, else the one that exists.  CIF/FOB margins are not removed (import values are CIF).
    ``years``: only these years, filtered on both sides *before* the outer join (the year is a join key, so
    the result is that of filtering after it; a filter above a full outer join is not pushed into the scans).
    ``keyed``: on a DuckDB warehouse, read ``flows_keyed`` and name the rows by their key columns
    (:func:`_keys`) instead of ``reporter, partner, product``.
    """
    t = _mirror_source(data, keyed)
    base = _mirror_base(t, years)
    k = _keys(t)
    keys = ["year", *k["reporter"], *k["partner"], *k["product"]]
    x = t.filter(base & (t.flow == "export")).group_by(keys).aggregate(vx=lambda r: r.value_usd.sum())
    m = t.filter(base & (t.flow == "import"))
    flip = {**dict(zip(k["reporter"], k["partner"])), **dict(zip(k["partner"], k["reporter"]))}
    m = m.select(year=m.year, **{c: m[flip[c]] for c in keys[1:] if c in flip},
                 **{c: m[c] for c in k["product"]}, v=m.value_usd) \
        .group_by(keys).aggregate(vm=lambda r: r.v.sum())
    j = x.outer_join(m, keys)
    pick = {k: ibis.coalesce(j[k], j[k + "_right"]) for k in keys}
    if rule == "importer":
        value = ibis.coalesce(j.vm, j.vx)
    else:
        value = ibis.cases((j.vx.notnull() & j.vm.notnull(), (j.vx + j.vm) / 2), else_=ibis.coalesce(j.vx, j.vm))
    out = j.select(**pick, value_usd=value)
    # reporter != partner (codes are one to one with their key columns)
    differ = [out[a] != out[b] for a, b in zip(k["reporter"], k["partner"])]
    return out.filter(ibis.or_(*differ) if len(differ) > 1 else differ[0])


def _mirror_source(data, keyed: bool) -> ibis.Table:
    """Every flows row (the mirror rules read all of them, as before), through ``flows_keyed`` when ``keyed``."""
    if keyed and isinstance(data, Warehouse):
        t = data.keyed_flows()
        if t is not None:
            return t
    return _flows_table(data)


def _mirror_base(t: ibis.Table, years: list[int] | None):
    base = (t.partner != schema.WORLD) & t.province.isnull() & (t.reporter != t.partner) \
        & _product_present(t) & t.value_usd.notnull()
    if years is not None:
        base &= t.year.isin([int(y) for y in years])
    return base


def _has_imports(data, years: list[int]) -> bool:
    """Do the flows hold any bilateral ``import`` row in ``years`` (the mirror rules' other side)?  One
    ``LIMIT 1`` query."""
    t = _mirror_source(data, keyed=True)
    q = t.filter(_mirror_base(t, years) & (t.flow == "import")).select("year").limit(1)
    _quiet(q)
    return q.to_pyarrow().num_rows > 0


def bilateral_year(data, year: int | None = None, level: int | None = None,
                   years: list[int] | None = None, average: int = 1, mirror: str = "exporter"
                   ) -> tuple[ibis.Table, int]:
    """Ibis table ``reporter, partner, product, value`` of national bilateral exports in ``year``.

    Rows kept: ``flow == "export"``, ``partner != WLD``, ``province IS NULL``, ``reporter != partner``
    (not summed: every later step is a sum); ``mirror="importer"|"mean"`` reconciles them with the
    importers' declarations (:func:`_mirrored_rows`).  ``year=None`` → the latest year with bilateral rows.
    ``level`` cuts product codes to their first ``level`` digits.  ``average=n`` takes the mean over the
    years with bilateral rows among ``year−n+1 … year`` (value / number of those years; a missing flow
    counts as 0).
    """
    years = bilateral_years(data) if years is None else years
    if not years:
        raise NoDataError("the data hold no bilateral export rows (partner other than WLD); export potential "
                          "needs exports by partner for every exporter, e.g. BACI")
    if year is None:
        year = years[-1]
    elif year not in years:
        raise NoDataError(f"no bilateral export rows for {year}; years with bilateral rows: "
                          f"{', '.join(map(str, years))}")
    used = _average_years(years, int(year), average)
    if mirror not in MIRROR_RULES:
        raise UnknownNameError("mirror rule", mirror, list(MIRROR_RULES))
    t = _bilateral_rows(data) if mirror == "exporter" else _mirrored_rows(data, mirror, used)
    t = t.filter(t.year.isin(used))
    product = t.product.substr(0, level) if level else t.product
    return t.select("reporter", "partner", product=product, value=t.value_usd / len(used)), int(year)


def _average_years(years: list[int], year: int, average: int) -> list[int]:
    if average < 1:
        raise TradepulseError(f"average_years must be at least 1, not {average}")
    return [y for y in years if year - average < y <= year]


def _encode(column) -> tuple[np.ndarray, pd.Index]:
    """Integer codes and sorted distinct values of an Arrow string column (dictionary encoding, in C++)."""
    from tradepulse.indicators.arrow_codes import sorted_codes

    codes, values = sorted_codes(column)
    return codes, pd.Index(values)


def _quiet(table: ibis.Table) -> None:
    """Switch off DuckDB's console progress bar (it would break Rich output in the CLI)."""
    try:
        backend = table._find_backend()
        if backend.name == "duckdb":
            backend.raw_sql("SET enable_progress_bar = false")
    except Exception:  # noqa: BLE001 — an unbound memtable or another engine: nothing to quiet
        pass


def _coded(table: ibis.Table) -> dict:
    """Pull ``reporter, partner, product, value`` as integer codes + float values (one query)."""
    _quiet(table)
    at = table.to_pyarrow()
    out = {"value": at.column("value").to_numpy().astype(float, copy=False)}
    for col in ("reporter", "partner", "product"):
        if col in at.column_names:
            out[col], out[col + "_index"] = _encode(at.column(col))
    return out


def _recode(codes: np.ndarray, src: pd.Index, dst: pd.Index) -> np.ndarray:
    """Map codes into ``src`` onto positions in ``dst`` (a superset)."""
    return dst.get_indexer(src)[codes]


# ---------------------------------------------------------------- the base year's sums (issue 19)
def _keys(t: ibis.Table) -> dict[str, tuple[str, ...]]:
    """The columns naming ``reporter``, ``partner`` and ``product`` in ``t``: the integer key and text columns
    of ``flows_keyed`` (:func:`tradepulse.warehouse.keyed_view_sql`) where ``t`` has them, else the code."""
    from tradepulse.indicators.selection import COUNTRY_KEYS, KEY_COLUMNS

    names = {**COUNTRY_KEYS, "product": KEY_COLUMNS}
    return {n: (tuple(c) if all(x in t.columns for x in c) else (n,)) for n, c in names.items()}


def _key_value(code: str, cols: tuple[str, ...]) -> dict[str, object]:
    """The values of ``cols`` naming the country ``code`` (the packing of
    :func:`tradepulse.warehouse._country_key`: 3 printable ASCII characters → c1·65536 + c2·256 + c3)."""
    if len(cols) == 1:
        return {cols[0]: code}
    ok = len(code) == 3 and all(" " <= c <= "~" for c in code)
    packed = ord(code[0]) * 65536 + ord(code[1]) * 256 + ord(code[2]) if ok else -1
    return {cols[0]: packed, cols[1]: "" if ok else code}


def _is(t: ibis.Table, code: str, cols: tuple[str, ...]):
    """``t``'s country columns ``cols`` name ``code``."""
    conds = [t[c] == v for c, v in _key_value(code, cols).items()]
    return conds[0] if len(conds) == 1 else ibis.and_(*conds)


def _factor(at, cols: tuple[str, ...], kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and their labels (an object array of codes) for the key columns ``cols`` of a fetched
    Arrow table; ``kind`` is ``product`` (a key ≥ 0 is a 6-digit code) or ``country``.  Hashing in
    C++/pandas, each distinct key decoded once: no Python string per row."""
    import pyarrow.compute as pc

    def encode(name: str) -> tuple[np.ndarray, list]:
        enc = pc.dictionary_encode(at.column(name).combine_chunks())
        return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), enc.dictionary.to_pylist()

    if len(cols) == 1:
        codes, labels = encode(cols[0])
        return codes, np.asarray(labels, dtype=object)
    from tradepulse.warehouse import decode_country

    key = at.column(cols[0]).to_numpy()
    tcodes, texts = encode(cols[1])
    pos = key >= 0
    kcodes, kuniq = pd.factorize(key[pos])
    codes = len(kuniq) + tcodes       # keys < 0 are named by their text
    codes[pos] = kcodes
    dec = [f"{int(x):06d}" for x in kuniq] if kind == "product" else decode_country(kuniq, [""] * len(kuniq))
    return codes, np.asarray([*dec, *texts], dtype=object)


def _labels(at, cols: tuple[str, ...], kind: str) -> np.ndarray:
    """The codes themselves (an object array, one per row) of :func:`_factor`."""
    codes, labels = _factor(at, cols, kind)
    return labels[codes]


def _positions(at, cols: tuple[str, ...], kind: str, index: pd.Index) -> np.ndarray:
    """Each row's position in ``index`` (−1 when absent) by the key columns ``cols`` (:func:`_factor`)."""
    codes, labels = _factor(at, cols, kind)
    return index.get_indexer(labels)[codes]


def _present(at, cols: tuple[str, ...], kind: str) -> pd.Index:
    """The sorted distinct codes named by the key columns ``cols`` of a fetched Arrow table."""
    codes, labels = _factor(at, cols, kind)
    used = np.bincount(codes, minlength=len(labels)) > 0
    return pd.Index(sorted(labels[used]))


def _fetch(expr: ibis.Table):
    """Run ``expr`` (an aggregate) and return it as an Arrow table."""
    _quiet(expr)
    return expr.to_pyarrow()


def _year_rows(data, used: list[int], level: int | None, mirror: str) -> ibis.Table:
    """The rows :func:`bilateral_year` selects for the years ``used`` (their mean: ``value = value_usd / n``),
    named by key columns (:func:`_keys`).

    On a DuckDB warehouse they are read through ``flows_keyed`` (no product text built, integer group keys);
    with ``level`` the cut product is text again (:func:`~tradepulse.indicators.selection.unkeyed`).  A mirror
    rule over years without any import row is its export side as it is: the outer join with nothing and the
    grouping by (reporter, partner, product) change no sum taken later (:func:`_has_imports` decides)."""
    from tradepulse.indicators.selection import unkeyed

    if mirror == "exporter":
        t = _bilateral_rows(data, keyed=True)
    elif not _has_imports(data, used):
        t = _mirror_source(data, keyed=True)
        t = t.filter(_mirror_base(t, used) & (t.flow == "export"))
    else:
        t = _mirrored_rows(data, mirror, used, keyed=not level)
    t = t.filter(t.year.isin([int(y) for y in used]))
    if level:
        t = unkeyed(t.mutate(product=t["product"].substr(0, level)))
    k = _keys(t)
    return t.select(*k["reporter"], *k["partner"], *k["product"], value=t.value_usd / len(used))


class _EngineSums:
    """The base year's sums, computed by the engine (DuckDB or Spark): only aggregates reach Python.

    Queries over the year's rows: the (exporter, market) pairs (which countries there are), exports by
    product × exporter (``Xall``), the exporter's own rows, and — once γ and the access factor are known —
    imports by product × market, plain, γ-weighted and access-weighted, through a join with the pairs'
    weights.  The former path (:class:`_CellSums`) fetched every cell (≈ 8.6M on a BACI year)."""

    def __init__(self, data, used: list[int], level: int | None, mirror: str):
        self.t = _year_rows(data, used, level, mirror)
        self.k = _keys(self.t)
        rk, pk = self.k["reporter"], self.k["partner"]
        self.pairs = _fetch(self.t.group_by([*rk, *pk]).aggregate(n=self.t.value.count()))
        self.exporters = _present(self.pairs, rk, "country")
        self.partners = _present(self.pairs, pk, "country")
        self._xk = _fetch(self.t.group_by([*self.k["product"], *rk]).aggregate(value=self.t.value.sum()))
        self.products = _present(self._xk, self.k["product"], "product")

    def own(self, exporter: str) -> pd.DataFrame:
        """The exporter's rows: ``partner, product, value`` summed by partner × product (``top``: the largest
        row, for the "no exports" test)."""
        t = self.t.filter(_is(self.t, exporter, self.k["reporter"]))
        f = _fetch(t.group_by([*self.k["partner"], *self.k["product"]])
                   .aggregate(value=t.value.sum(), top=t.value.max()))
        return pd.DataFrame({"partner": _labels(f, self.k["partner"], "country"),
                             "product": _labels(f, self.k["product"], "product"),
                             "value": f.column("value").to_numpy(), "top": f.column("top").to_numpy()})

    def exports(self, products: pd.Index) -> np.ndarray:
        """Exports by product × exporter (``Xall``, products × :attr:`exporters`)."""
        kk = _positions(self._xk, self.k["product"], "product", products)
        rr = _positions(self._xk, self.k["reporter"], "country", self.exporters)
        E = len(self.exporters)
        return np.bincount(kk * E + rr, weights=self._xk.column("value").to_numpy(),
                           minlength=len(products) * E).reshape(len(products), E)

    def imports(self, products: pd.Index, markets: pd.Index, gamma: np.ndarray, gi: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``M``, ``Mγ``, ``Macc`` (products × markets): Σ over exporters l of x_ljk, γ_l·x_ljk, g_lj·x_ljk."""
        rk, pk, prodk = self.k["reporter"], self.k["partner"], self.k["product"]
        r = _positions(self.pairs, rk, "country", self.exporters)
        j = _positions(self.pairs, pk, "country", self.partners)
        weights = self.pairs.select([*rk, *pk]).to_pandas().assign(w_gamma=gamma[r], w_access=gi[r, j])
        t = self.t.join(ibis.memtable(weights), [*rk, *pk])
        f = _fetch(t.group_by([*prodk, *pk]).aggregate(
            m=t.value.sum(), mg=(t.value * t.w_gamma).sum(), ma=(t.value * t.w_access).sum()))
        kk = _positions(f, prodk, "product", products)
        jj = _positions(f, pk, "country", markets)
        size, cell = len(products) * len(markets), kk * len(markets) + jj
        return tuple(np.bincount(cell, weights=f.column(c).to_numpy(), minlength=size)
                     .reshape(len(products), len(markets)) for c in ("m", "mg", "ma"))

    def flows(self, *_a):
        raise NotImplementedError("the cells are not fetched on this path")


class _CellSums:
    """The former path: every (exporter, market, product) cell of the year fetched as integer codes, sums as
    NumPy bincounts.  Kept for supplier-specific tariff rates (:func:`_tariff_access` weights each cell by
    the rate its supplier pays) and as the reference the aggregated path is tested against."""

    def __init__(self, bil: ibis.Table):
        w = _coded(bil)
        self.exporters, self.partners, self.products = w["reporter_index"], w["partner_index"], w["product_index"]
        self.r, self.j, self.k, self.v = w["reporter"], w["partner"], w["product"], w["value"]

    def own(self, exporter: str) -> pd.DataFrame:
        sel = self.r == self.exporters.get_loc(exporter)
        return pd.DataFrame({"partner": self.partners.to_numpy()[self.j[sel]],
                             "product": self.products.to_numpy()[self.k[sel]], "value": self.v[sel]})

    def flows(self, products: pd.Index, markets: pd.Index):
        """``(r, j, k, v)``: the cells with market and product codes recoded onto ``markets``/``products``."""
        return (self.r, _recode(self.j, self.partners, markets), _recode(self.k, self.products, products), self.v)

    def exports(self, products: pd.Index) -> np.ndarray:
        r, _j, k, v = self.flows(products, self.partners)
        E = len(self.exporters)
        return np.bincount(k * E + r, weights=v, minlength=len(products) * E).reshape(len(products), E)

    def imports(self, products: pd.Index, markets: pd.Index, gamma: np.ndarray, gi: np.ndarray):
        r, j, k, v = self.flows(products, markets)
        P, J = len(products), len(markets)
        pj = k * J + j
        return (np.bincount(pj, weights=v, minlength=P * J).reshape(P, J),
                np.bincount(pj, weights=v * gamma[r], minlength=P * J).reshape(P, J),
                np.bincount(pj, weights=v * gi[r, j], minlength=P * J).reshape(P, J))


def _use_cells(tariffs: pd.DataFrame | None, basis: str) -> bool:
    """Fetch the cells (:class:`_CellSums`): only supplier-specific tariff rates need them."""
    return _FORCE_CELLS or (basis in ("tariff", "tariff+distance") and tariffs is not None
                            and "exporter" in tariffs.columns)


#: Tests set this to run the former cell path everywhere (the reference for the aggregated one).
_FORCE_CELLS = False


def _macro_frame(macro) -> pd.DataFrame:
    if isinstance(macro, pd.DataFrame):
        df = macro
    else:
        df = as_table(macro, "macro").select("year", "iso3", "gdp_usd", "population").to_pandas()
    missing = {"year", "iso3", "gdp_usd", "population"} - set(df.columns)
    if missing:
        raise TradepulseError(f"macro data lack column(s) {', '.join(sorted(missing))}")
    return df


def macro_factors(macro, year: int, countries: Iterable[str], *, window: int = 5, horizon: int = 5
                  ) -> tuple[pd.DataFrame, dict[str, str]]:
    """Projection factors by country from the trend of GDP and population over ``window`` years.

    Returns (frame indexed by iso3 with ``gdp``, ``pop``, ``gdppc`` factors = (v_t / v_t−w)^(h/w), and a dict
    iso3 → what is missing).  The base year is ``year`` (or the latest macro year before it, for each
    country) and ``t−w`` is the earliest year within ``window`` years before it.  A country lacks data when
    GDP or population is missing or non-positive at either end.
    """
    countries = list(dict.fromkeys(countries))
    df = _macro_frame(macro)
    df = df[df["iso3"].isin(countries) & (df["year"] <= year) & (df["year"] >= year - window)
            & (df["gdp_usd"] > 0) & (df["population"] > 0)]
    df = df.sort_values(["iso3", "year"])
    last = df.groupby("iso3").tail(1).set_index("iso3")
    first = df.groupby("iso3").head(1).set_index("iso3")
    span = (last["year"] - first["year"]).astype(float)
    ok = span > 0
    exp = pd.Series(np.where(ok, horizon / span.where(ok, 1.0), 0.0), index=span.index)
    gdp = (last["gdp_usd"] / first["gdp_usd"]) ** exp
    pop = (last["population"] / first["population"]) ** exp
    out = pd.DataFrame({"gdp": gdp, "pop": pop, "gdppc": gdp / pop})[ok]
    missing = {c: (f"GDP/population for {year - window}–{year}" if c not in last.index
                   else "only one year of GDP/population") for c in countries if c not in out.index}
    return out.reindex([c for c in countries if c in out.index]), missing


PROJECTIONS = ("trend", "atlas")


def projection_factors(macro, year: int, countries: Iterable[str], *, window: int = 5, horizon: int = 5,
                       source: str = "trend") -> tuple[pd.DataFrame, dict[str, str]]:
    """Projection factors by country, ``h`` years ahead: ``gdp``, ``pop``, ``gdppc`` and ``basis``.

    ``source="trend"``: :func:`macro_factors` (the past ``window``-year trend of the ``macro`` table).
    ``source="atlas"``: GDP per capita grows at the Atlas of Economic Complexity's published growth
    projection (``tradepulse.reference.atlas``, latest edition, % a year over the next decade):
    gdppc factor = (1 + g/100)^h; population keeps its trend (flat when the macro table lacks it); countries
    without a published projection fall back to the trend.  ``basis`` says which was used per country
    (``atlas``, ``atlas, population flat``, ``trend``).  Returns (frame indexed by iso3, missing dict).
    """
    countries = list(dict.fromkeys(countries))
    if source not in PROJECTIONS:
        raise UnknownNameError("projection source", source, list(PROJECTIONS))
    if macro is not None:
        fac, missing = macro_factors(macro, year, countries, window=window, horizon=horizon)
    else:
        fac, missing = pd.DataFrame(columns=["gdp", "pop", "gdppc"], dtype=float), \
            {c: "macro data (GDP/population)" for c in countries}
    fac = fac.assign(basis="trend")
    if source == "trend":
        return fac, missing
    from tradepulse.reference.atlas import growth_projections

    gp = growth_projections()
    ed = int(gp.attrs.get("edition", gp["year"].max()))
    latest = gp[(gp["year"] == ed) & gp["growth_proj"].notna()].set_index("iso3")["growth_proj"]
    have = [c for c in countries if c in latest.index]
    pc = (1.0 + latest.reindex(have) / 100.0) ** horizon
    pop = fac["pop"].reindex(have)
    basis = np.where(pop.notna(), f"atlas {ed}", f"atlas {ed}, population flat")
    atl = pd.DataFrame({"gdppc": pc, "pop": pop.fillna(1.0), "basis": basis}, index=pd.Index(have))
    atl["gdp"] = atl["gdppc"] * atl["pop"]
    rest = fac.drop(index=[c for c in have if c in fac.index])
    out = pd.concat([atl[["gdp", "pop", "gdppc", "basis"]], rest[["gdp", "pop", "gdppc", "basis"]]])
    missing = {c: m for c, m in missing.items() if c not in atl.index}
    return out.reindex([c for c in countries if c in out.index]), missing


def gravity_access(exporters: Iterable[str], markets: Iterable[str], *, distance: float | None = None,
                   contiguity: float | None = None, language: float | None = None,
                   geo: pd.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Gravity trade-cost factor ``g[l, j] = distw^β_d · exp(β_c contig + β_l comlang_off)`` (a proxy).

    ``geo`` defaults to ``atlas_common_data.load_geo_distances()`` (CEPII GeoDist).  Returns ``(g, known)``
    with ``known`` False for pairs absent from ``geo``; those get the median ``g`` of their market's known
    pairs (or 1 when the market has none).
    """
    b = {**HEAD_MAYER_2014, **{k: v for k, v in
                              {"distance": distance, "contiguity": contiguity, "language": language}.items()
                              if v is not None}}
    if geo is None:
        import atlas_common_data as acd
        geo = acd.load_geo_distances()
    ex, mk = pd.Index(list(exporters)), pd.Index(list(markets))
    have = set(geo["exporter"])
    # GeoDist uses some legacy codes (ROM for Romania, ZAR for DR Congo, YUG for Serbia, ...): look them up
    look = lambda idx: pd.Index([c if c in have else GEODIST_LEGACY.get(c, c) for c in idx])  # noqa: E731
    exl, mkl = look(ex), look(mk)
    if exl.has_duplicates or mkl.has_duplicates:
        # several current codes share one legacy code (SRB, MNE -> YUG): expand geo per current code
        m_e = pd.DataFrame({"g_exporter": exl, "exporter_now": ex})
        m_i = pd.DataFrame({"g_importer": mkl, "importer_now": mk})
        geo = geo.merge(m_e, left_on="exporter", right_on="g_exporter").merge(
            m_i, left_on="importer", right_on="g_importer")
        gi, gj = ex.get_indexer(geo["exporter_now"]), mk.get_indexer(geo["importer_now"])
    else:
        gi, gj = exl.get_indexer(geo["exporter"]), mkl.get_indexer(geo["importer"])
    keep = (gi >= 0) & (gj >= 0)
    dist = geo["distw"].fillna(geo["dist"]).to_numpy(float)[keep]
    contig, lang = geo["contig"].to_numpy(float)[keep], geo["comlang_off"].to_numpy(float)[keep]
    val = np.power(np.maximum(dist, 1.0), b["distance"]) * np.exp(b["contiguity"] * contig + b["language"] * lang)
    g = np.full((len(ex), len(mk)), np.nan)
    g[gi[keep], gj[keep]] = val
    known = ~np.isnan(g)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # markets with no known pair: filled with 1 below
        med = np.nanmedian(g, axis=0) if known.any() else np.ones(len(mk))
    med = np.where(np.isnan(med), 1.0, med)
    g = np.where(known, g, med[None, :])
    return g, known


def _frame_to_matrix(df: pd.DataFrame, rows: pd.Index, cols: pd.Index, row: str, col: str,
                     values: list[str]) -> list[np.ndarray]:
    ri, ci = rows.get_indexer(df[row]), cols.get_indexer(df[col])
    ok = (ri >= 0) & (ci >= 0)
    out = []
    for v in values:
        m = np.zeros((len(rows), len(cols)))
        np.add.at(m, (ri[ok], ci[ok]), df[v].to_numpy(float)[ok])
        out.append(m)
    return out


def _elasticity_vector(income_elasticity, products: pd.Index, default: float = 1.0) -> np.ndarray:
    """An elasticity by product: a number, or a mapping/Series keyed by HS prefix (longest prefix wins;
    products without a prefix get ``default``)."""
    if np.isscalar(income_elasticity):
        return np.full(len(products), float(income_elasticity))
    mapping = dict(income_elasticity)
    eps = np.full(len(products), float(default))
    codes = products.astype(str)
    for prefix in sorted(mapping, key=len):  # longer prefixes applied last, so they win
        eps[codes.str.startswith(str(prefix))] = float(mapping[prefix])
    return eps


def _tariff_access(tariffs: pd.DataFrame, exporter: str, exporters: pd.Index, products: pd.Index,
                   markets: pd.Index, flows: tuple[np.ndarray, ...], M: np.ndarray, sigma) -> np.ndarray:
    """Tariff advantage ``A = ((1+t_ijk)/(1+t̄_jk))^−σ_k`` as a products × markets matrix (σ: a number or
    a vector by product).

    ``tariffs`` columns ``market, product, rate`` (fractions, 0.05 = 5 %) and either ``competitor_rate``
    (t̄ given) or ``exporter`` (rates by supplier; ``*`` or empty = the rate for every supplier without its
    own row, e.g. MFN): then t̄_jk = Σ_l (x_ljk/M_jk) t_ljk, the import-weighted rate *j*'s suppliers pay.
    Cells without any tariff row keep A = 1.
    """
    need = {"market", "product", "rate"}
    if need - set(tariffs.columns):
        raise TradepulseError(f"tariffs table lacks column(s) {', '.join(sorted(need - set(tariffs.columns)))}; "
                              "expected market, product, rate [, exporter | competitor_rate] (rates as fractions)")
    t = tariffs.copy()
    P, J = len(products), len(markets)
    sig = np.broadcast_to(np.asarray(sigma, dtype="float64"), (P,))
    pi, mi = products.get_indexer(t["product"].astype(str)), markets.get_indexer(t["market"].astype(str))
    rate = t["rate"].to_numpy(float)
    if "exporter" not in t.columns:
        comp = (t["competitor_rate"].fillna(t["rate"]) if "competitor_rate" in t else t["rate"]).to_numpy(float)
        ok = (pi >= 0) & (mi >= 0)
        a = np.ones((P, J))
        a[pi[ok], mi[ok]] = ((1 + rate[ok]) / (1 + comp[ok])) ** (-sig[pi[ok]])
        return a
    ex = t["exporter"].astype(object).where(t["exporter"].notna(), "*").astype(str).str.upper().to_numpy()
    general = (ex == "*") & (pi >= 0) & (mi >= 0)
    base = np.zeros((P, J))
    has = np.zeros((P, J), dtype=bool)
    base[pi[general], mi[general]] = rate[general]
    has[pi[general], mi[general]] = True
    own_rate = base.copy()
    mine = (ex == exporter) & (pi >= 0) & (mi >= 0)
    own_rate[pi[mine], mi[mine]] = rate[mine]
    has[pi[mine], mi[mine]] = True
    # every flow pays its supplier-specific rate when given, else the general rate of its cell
    r, j, k, v = flows
    li = exporters.get_indexer(ex)
    spec = (li >= 0) & (pi >= 0) & (mi >= 0)
    has[pi[spec], mi[spec]] = True
    paid = base[k, j]
    if spec.any():
        keys = (li[spec].astype(np.int64) * J + mi[spec]) * P + pi[spec]
        order = np.argsort(keys)
        keys, vals = keys[order], rate[spec][order]
        fk = (r.astype(np.int64) * J + j) * P + k
        pos = np.clip(np.searchsorted(keys, fk), 0, len(keys) - 1)
        hit = keys[pos] == fk
        paid = np.where(hit, vals[pos], paid)
    tbar = np.bincount(k * J + j, weights=v * paid, minlength=P * J).reshape(P, J)
    tbar = np.where(M > 0, tbar / np.where(M > 0, M, 1.0), base)
    return np.where(has, ((1 + own_rate) / (1 + tbar)) ** (-sig[:, None]), 1.0)


# ---------------------------------------------------------------- ITC terms
METHODS = ("basic", "itc")
ACCESS_CHOICES = ("auto", "tariff", "gravity", "distance", "tariff+distance", "none")
SUPPLY_ADJUSTMENTS = ("surplus", "rca_growth", "tariff_conditions")
#: bounds of the RCA-trend factor on supply (a tradepulse choice, see docs/potential.md)
RCA_GROWTH_BOUNDS = (0.5, 2.0)
#: fewest served markets with known geography needed to fit the ease regression
EASE_MIN_MARKETS = 8


def _pair_geography(exporter: str, markets: pd.Index, geo: pd.DataFrame | None) -> pd.DataFrame:
    """``distw`` (km), ``contig`` and ``comlang_off`` from ``exporter`` to each market (NaN when unknown)."""
    if geo is None:
        import atlas_common_data as acd
        geo = acd.load_geo_distances()
    have = set(geo["exporter"])
    ex = exporter if exporter in have else GEODIST_LEGACY.get(exporter, exporter)
    rows = geo[geo["exporter"] == ex].copy()
    rows["importer"] = rows["importer"].astype(str)
    legacy = {m: (m if m in have else GEODIST_LEGACY.get(m, m)) for m in markets}
    look = rows.drop_duplicates("importer").set_index("importer")
    out = pd.DataFrame(index=markets)
    keys = [legacy[m] for m in markets]
    for col in ("distw", "contig", "comlang_off"):
        src = look[col] if col != "distw" else look["distw"].fillna(look["dist"])
        out[col] = src.reindex(keys).to_numpy(dtype="float64")
    return out


def _ease_without_trade(B: np.ndarray, actual_j: np.ndarray, expected_j: np.ndarray, exporter: str,
                        markets: pd.Index, geo, notes: dict) -> tuple[np.ndarray, np.ndarray]:
    """Ease for markets the exporter does not serve yet, as ITC does: predicted from bilateral geography.

    ln B_ij = a + b·ln distw_ij + c·contig_ij + d·comlang_ij, fitted by OLS on the markets the exporter
    serves (B > 0, geography known; at least :data:`EASE_MIN_MARKETS`), then applied to the markets without
    trade.  With fewer markets, or no geography, the geometric mean of the observed ease is used instead.
    Returns (B, basis per market)."""
    g = _pair_geography(exporter, markets, geo)
    served = (actual_j > 0) & (B > 0)
    missing = ~(actual_j > 0) & (expected_j > 0)
    basis = np.where(actual_j > 0, "observed", "no trade")
    if not missing.any() or not served.any():
        return np.where(actual_j > 0, B, 0.0), basis
    X = np.column_stack([np.ones(len(markets)), np.log(np.maximum(g["distw"].to_numpy(), 1.0)),
                         g["contig"].to_numpy(), g["comlang_off"].to_numpy()])
    known = np.isfinite(X).all(axis=1)
    fit = served & known
    out = np.where(actual_j > 0, B, 0.0)
    geo_mean = float(np.exp(np.mean(np.log(B[served]))))
    if fit.sum() >= EASE_MIN_MARKETS:
        beta, *_ = np.linalg.lstsq(X[fit], np.log(B[fit]), rcond=None)
        pred = missing & known
        out[pred] = np.exp(X[pred] @ beta)
        basis = np.where(pred, "gravity fit", basis)
        notes["ease_fit"] = {"intercept": float(beta[0]), "ln_distance": float(beta[1]),
                             "contiguity": float(beta[2]), "language": float(beta[3]), "markets": int(fit.sum())}
        rest = missing & ~known
    else:
        rest = missing
    out[rest] = geo_mean
    basis = np.where(rest, "mean of observed", basis)
    notes["markets_with_predicted_ease"] = int(missing.sum())
    return out, basis


def _surplus_filter(S: np.ndarray, x_i: np.ndarray, M: np.ndarray, markets: pd.Index, exporter: str,
                    province: str | None, notes: dict) -> np.ndarray:
    """ITC's trade-surplus condition: no supply of products the exporter imports more of than it exports
    (re-exports, not production).  The exporter's imports are the mirror sum of all suppliers' exports to
    it; a province is judged on its own exports against its country's imports."""
    if exporter not in markets:
        notes["surplus_filter"] = "not applied: the data hold no exports to the exporter (its imports)"
        return S
    m_i = M[:, markets.get_loc(exporter)]
    net_importer = (m_i > x_i) & (x_i > 0)
    notes["products_net_imported"] = int(net_importer.sum())
    return np.where(net_importer[:, None], 0.0, S)


def _tariff_conditions(A_tariff: np.ndarray, xij: np.ndarray) -> np.ndarray:
    """ITC's global tariff conditions of the exporter, by product: the export-weighted mean of its tariff
    advantage over the markets it serves, Σ_j (x_ijk / x_ik) A_ijk (1 where it exports nothing).  Supply
    is divided by it: a share won behind tariff preferences overstates capacity, one won against tariff
    handicaps understates it."""
    xk = xij.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        avg = np.where(xk > 0, (xij * A_tariff).sum(axis=1) / np.where(xk > 0, xk, 1.0), 1.0)
    return np.where(avg > 0, avg, 1.0)


def _rca_growth(data, exporter: str, province: str | None, first_year: int, year: int, window: int,
                horizon: int, level, products: pd.Index, years: list[int], mirror: str,
                notes: dict, *, cells: bool = False,
                current: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """The RCA-trend factor by product: (RCA_t / RCA_t0)^(h/(t−t0)), bounded to :data:`RCA_GROWTH_BOUNDS`;
    1 where the product was not exported at t0 (no trend to extend) or no earlier year exists.  RCA is
    the national one (a province has no world-comparable RCA of its own).  World and exporter sums by
    product come from the engine (``cells``: from every fetched cell, the former path); ``current``: the base
    year's (world, exporter) sums when the caller has them already."""
    earlier = [y for y in years if first_year - window <= y < first_year]
    if not earlier or horizon <= 0:
        notes["rca_growth"] = "not applied: no bilateral year within the growth window before the base year"
        return np.ones(len(products))

    def sums(y: int) -> tuple[np.ndarray, np.ndarray]:
        bil, _ = bilateral_year(data, y, level, years, mirror=mirror)   # (checks the year)
        if not cells:
            t = _year_rows(data, [y], level, mirror)
            k = _keys(t)
            mine = ibis.ifelse(_is(t, exporter, k["reporter"]), t.value, 0.0)
            f = _fetch(t.group_by(list(k["product"])).aggregate(world=t.value.sum(), own=mine.sum()))
            kk = _positions(f, k["product"], "product", products)
            ok = kk >= 0
            return tuple(np.bincount(kk[ok], weights=f.column(c).to_numpy()[ok], minlength=len(products))
                         for c in ("world", "own"))
        w = _coded(bil.select("reporter", "product", "value"))
        kk = products.get_indexer(w["product_index"])[w["product"]]
        ok = kk >= 0
        world = np.bincount(kk[ok], weights=w["value"][ok], minlength=len(products))
        mine = w["reporter_index"].get_indexer([exporter])[0]
        sel = ok & (w["reporter"] == mine) if mine >= 0 else np.zeros_like(ok)
        own = np.bincount(kk[sel], weights=w["value"][sel], minlength=len(products))
        return world, own

    def rca(y: int) -> np.ndarray:
        world, own = current if (current is not None and y == year) else sums(y)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (own / own.sum()) / (world / world.sum()) if own.sum() > 0 else np.zeros(len(products))

    y0 = earlier[0]
    r1, r0 = rca(year), rca(y0)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where((r0 > 0) & (r1 > 0), np.power(r1 / r0, horizon / (year - y0)), 1.0)
    f = np.clip(np.nan_to_num(f, nan=1.0, posinf=1.0), *RCA_GROWTH_BOUNDS)
    notes["rca_growth_from"] = y0
    return f


# ---------------------------------------------------------------- main
@provenance
def export_potential(data, exporter: str, *, province: str | None = None, year: int | None = None,
                     macro=None, horizon: int = 5, growth_window: int = 5,
                     income_elasticity: float | Mapping[str, float] = 1.0,
                     tariffs: pd.DataFrame | None = None,
                     tariff_elasticity: float | Mapping[str, float] = 5.0,
                     access: str = "auto", geo: pd.DataFrame | None = None,
                     distance_elasticity: float | None = None, contiguity_effect: float | None = None,
                     language_effect: float | None = None, ease: bool = True,
                     ease_when_no_trade: float | str | None = None, missing_macro: str = "error",
                     level: int | None = None, products=None, markets=None,
                     keep_zero: bool = False, average_years: int = 1,
                     progress: Callable[[str], None] | None = None, method: str = "itc",
                     projections: str | None = None, cap: str | None = None,
                     supply_adjustments: Iterable[str] | None = None, mirror: str | None = None
                     ) -> pd.DataFrame:
    """ITC export potential (Decreux & Spies 2016) of ``exporter`` (or its ``province``) by product × market.

    ``data``: FLOWS as a Warehouse, Ibis table or pandas frame (bilateral exporter-reported exports of all
    countries in ``year``; the province's rows are customs rows with ``province`` set).  ``macro``: GDP and
    population (MACRO columns; defaults to the warehouse's macro table); only needed when ``horizon > 0``.
    ``access``: ``auto`` (tariffs when given, else the gravity proxy), ``tariff``, ``gravity`` or ``none``.
    ``missing_macro``: ``error`` (default: raise naming the countries), ``drop`` (drop those markets) or
    ``flat`` (treat them as not growing).  ``products`` / ``markets`` filter the output only (product group
    names or HS prefixes; country group names or ISO3 codes) — every term is computed on all products and
    markets.  Returns one row per product × market with non-zero potential or actual exports (all pairs
    when ``keep_zero``), columns :data:`POTENTIAL_COLUMNS` plus ``demand_factor``; ``attrs`` holds the
    settings, the access basis and anything filled in.  ``average_years=n`` uses mean flows over the last
    ``n`` bilateral years (smooths one-off shipments; growth is still projected from ``year``).
    ``progress`` is called with the name of each of the :data:`STEPS` as it starts (for a progress bar).

    ``method="itc"`` (default; the CLI, the web and the reports use it too) switches on every term of the ITC
    method as tradepulse implements it (see
    docs/potential.md, "ITC method, term by term"); each can also be set on its own:
    ``projections`` (``trend`` | ``atlas``: GDP per capita at the Atlas's published growth projections),
    ``access`` (also ``distance``: relative distance only, and ``tariff+distance``), ``tariff_elasticity``
    (σ, a number or a mapping HS prefix → σ), ``supply_adjustments`` (``surplus``: no supply where the
    exporter is a net importer of the product; ``rca_growth``: the RCA trend over the growth window,
    bounded to [½, 2]; ``tariff_conditions``: divided by the exporter's export-weighted tariff advantage
    over its markets, with a tariff table), ``cap`` (``none`` | ``demand``: potential ≤ projected demand), ``mirror``
    (``exporter`` | ``importer`` | ``mean``, see :func:`bilateral_year`) and ``ease_when_no_trade`` (a number
    or ``gravity``: ease predicted from distance, contiguity and common language, fitted on the markets the
    exporter serves).  ``method="basic"`` keeps the plain four-term product (the hand-checked identities
    and the benchmark use it).
    """
    from tradepulse.indicators.selection import resolve_partners, resolve_products

    exporter = exporter.upper()
    if method not in METHODS:
        raise UnknownNameError("export-potential method", method, list(METHODS))
    itc = method == "itc"
    projections = projections or ("atlas" if itc else "trend")
    cap = cap or ("demand" if itc else "none")
    adjustments = tuple(supply_adjustments) if supply_adjustments is not None else \
        (SUPPLY_ADJUSTMENTS if itc else ())
    mirror = mirror or ("importer" if itc else "exporter")
    if ease_when_no_trade is None:
        ease_when_no_trade = "gravity" if itc else 0.0
    if missing_macro not in ("error", "drop", "flat"):
        raise UnknownNameError("missing-macro policy", missing_macro, ["error", "drop", "flat"])
    if access not in ACCESS_CHOICES:
        raise UnknownNameError("access basis", access, list(ACCESS_CHOICES))
    if projections not in PROJECTIONS:
        raise UnknownNameError("projection source", projections, list(PROJECTIONS))
    if cap not in ("none", "demand"):
        raise UnknownNameError("cap", cap, ["none", "demand"])
    for a in adjustments:
        if a not in SUPPLY_ADJUSTMENTS:
            raise UnknownNameError("supply adjustment", a, list(SUPPLY_ADJUSTMENTS))
    if isinstance(ease_when_no_trade, str) and ease_when_no_trade != "gravity":
        raise UnknownNameError("ease for markets without trade", ease_when_no_trade, ["gravity", "a number"])
    product_prefixes = resolve_products(products)  # validate names before any heavy work
    market_filter = resolve_partners(markets)
    if access in ("tariff", "tariff+distance") and tariffs is None:
        raise NoDataError(f"access='{access}' needs a tariffs table (market, product, rate)")
    if access == "auto":
        basis = ("tariff+distance" if tariffs is not None else "distance") if itc else \
            ("tariff" if tariffs is not None else "gravity-proxy")
    else:
        basis = {"gravity": "gravity-proxy"}.get(access, access)

    step = progress or (lambda _name: None)
    step(STEPS[0])
    # only the years used: the base year(s) and the growth window before them (the probes touch no other year)
    base = latest_bilateral_year(data) if year is None else int(year)
    years_avail = [] if base is None else \
        _years_used(data, base, int(average_years), int(growth_window), base_found=year is None)
    if base is not None and base not in years_avail:
        years_avail = bilateral_years(data)   # the error then lists every year with bilateral rows
    bil, year = bilateral_year(data, year, level, years_avail, average_years, mirror=mirror)
    used_years = _average_years(years_avail, year, average_years)
    notes: dict[str, object] = {}

    # -- the year's sums: by the engine on integer keys (aggregates only reach Python), or from every cell
    cells = _use_cells(tariffs, basis)
    base_sums = _CellSums(bil) if cells else _EngineSums(data, used_years, level, mirror)
    exporters, partners, products = base_sums.exporters, base_sums.partners, base_sums.products

    # the focus exporter's own rows: national bilateral rows, or a province's customs rows
    if province is None:
        if exporter not in exporters:
            raise UnknownNameError("exporter", exporter, list(exporters))
        own = base_sums.own(exporter)
    else:
        own = _province_rows(data, exporter, province, year, level, used_years)
        province = str(own.attrs["province"])
    if own.empty or not (own["top" if "top" in own.columns else "value"] > 0).any():
        raise NoDataError(f"{exporter}{' ' + province if province else ''} has no bilateral exports in {year}")

    markets = partners.union(pd.Index(own["partner"].unique())) if province else partners
    products = products.union(pd.Index(own["product"].unique())) if province else products
    P, J, E = len(products), len(markets), len(exporters)

    # -- projection factors
    step(STEPS[1])
    demand_basis = pd.Series("none", index=markets)
    if horizon > 0:
        if macro is None:
            if isinstance(data, Warehouse):
                macro = data
            elif projections == "trend":
                raise NoDataError("export potential with horizon > 0 needs GDP and population: pass macro= "
                                  "(MACRO columns year, iso3, gdp_usd, population) or horizon=0")
        fac, missing = projection_factors(macro, year, list(exporters) + list(markets),
                                          window=growth_window, horizon=horizon, source=projections)
        demand_basis = fac["basis"].reindex(markets).fillna("flat (no data)")
        miss_mk = sorted(m for m in markets if m in missing)
        if exporter in missing:
            raise NoDataError(f"no {missing[exporter]} for the exporter {exporter}; load macro data "
                              "(tradepulse ingest --format macro) or use horizon=0")
        if miss_mk and missing_macro == "error":
            what = "no published Atlas growth projection and " if projections == "atlas" else ""
            raise NoDataError(f"{what}no GDP/population in {year - growth_window}–{year} for market(s) "
                              f"{', '.join(miss_mk[:30])}{' …' if len(miss_mk) > 30 else ''} "
                              f"({len(miss_mk)} of {len(markets)}); load macro data for them "
                              "(tradepulse ingest --format macro), or pass missing_macro='drop' "
                              "(skip those markets) or 'flat' (assume no growth)")
        if miss_mk:
            notes["markets_without_macro"] = miss_mk
        gdp = fac["gdp"].reindex(exporters)
        # suppliers lacking macro data grow like the median supplier (documented fill)
        notes["exporters_without_macro"] = sorted(exporters[gdp.isna().to_numpy()])
        gamma = gdp.fillna(float(np.nanmedian(fac["gdp"])) if len(fac) else 1.0).to_numpy()
        pop_f = fac["pop"].reindex(markets).fillna(1.0).to_numpy()
        pc_f = fac["gdppc"].reindex(markets).fillna(1.0).to_numpy()
        gamma_i = float(fac.at[exporter, "gdp"])
    else:
        gamma = np.ones(E)
        pop_f = pc_f = np.ones(J)
        gamma_i = 1.0
        miss_mk = []

    # -- access factor by supplier pair (gravity proxy)
    step(STEPS[2])
    if basis in ("gravity-proxy", "distance", "tariff+distance"):
        ex_all = exporters.union([exporter])
        dist_only = basis != "gravity-proxy"   # ITC's relative distance: distance alone
        g, known = gravity_access(ex_all, markets, geo=geo, distance=distance_elasticity,
                                  contiguity=0.0 if dist_only else contiguity_effect,
                                  language=0.0 if dist_only else language_effect)
        gi = g[ex_all.get_indexer(exporters)]
        g_own = g[ex_all.get_loc(exporter)]
        unknown = ~known[ex_all.get_loc(exporter)]
        if unknown.any():
            notes["markets_without_gravity"] = sorted(markets[unknown])
    else:
        gi = np.ones((E, J))
        g_own = np.ones(J)

    # -- world sums as dense matrices (products × markets, products × exporters)
    step(STEPS[3])
    # imports of j (plain, γ-weighted, access-weighted) and exports of l
    M, Mgam, Macc = base_sums.imports(products, markets, gamma, gi)
    Xall = base_sums.exports(products)
    Xg_all = Xall * gamma[None, :]
    Xk, Xgk = Xall.sum(axis=1), Xg_all.sum(axis=1)                                # world exports of k
    # market j's own exports of k (j as a supplier is excluded from its own market)
    jpos = exporters.get_indexer(markets)
    Xj = np.where(jpos >= 0, Xall[:, np.maximum(jpos, 0)], 0.0)
    Xgj = np.where(jpos >= 0, Xg_all[:, np.maximum(jpos, 0)], 0.0)
    (xij,) = _frame_to_matrix(own, products, markets, "product", "partner", ["value"])
    xij = np.maximum(xij, 0.0)
    if basis in ("tariff", "tariff+distance"):
        A_tariff = _tariff_access(tariffs, exporter, exporters, products, markets,
                                  base_sums.flows(products, markets) if cells else None, M,
                                  _elasticity_vector(tariff_elasticity, products, default=5.0))
    xi = xij.sum(axis=1, keepdims=True)                                           # exporter's exports of k
    # RCA of the base year (average_years = 1: the same rows as Xall) for the RCA-growth adjustment
    current = None if (cells or len(used_years) > 1) else \
        (Xall.sum(axis=1), Xall[:, exporters.get_loc(exporter)] if exporter in exporters else np.zeros(P))
    del base_sums

    # -- supply: share of world exports of k excluding market j (base and projected)
    with np.errstate(divide="ignore", invalid="ignore"):
        den0 = Xk[:, None] - M - Xj
        deng = Xgk[:, None] - Mgam - Xgj
        # (a province is part of its country: the national rows already sit in the denominators)
        own_excl = np.maximum(xi - xij, 0.0)
        S0 = np.clip(np.where(den0 > 0, own_excl / den0, 0.0), 0, 1)
        S = np.clip(np.where(deng > 0, gamma_i * own_excl / deng, 0.0), 0, 1)

        # -- demand: projected imports
        eps = _elasticity_vector(income_elasticity, products)
        dfac = pop_f[None, :] * np.power(pc_f[None, :], eps[:, None])
        D = M * dfac

        # -- access
        if basis in ("gravity-proxy", "distance", "tariff+distance"):
            gbar = np.where(M > 0, Macc / np.where(M > 0, M, 1.0), g_own[None, :])
            A = g_own[None, :] / gbar
            if basis == "tariff+distance":
                A = A * A_tariff
        elif basis == "tariff":
            A = A_tariff
        else:
            A = np.ones_like(M)

        # -- ease of trade (base year, all products)
        actual_j = xij.sum(axis=0)
        expected_j = (S0 * M * A).sum(axis=0)
        ease_basis = np.where(actual_j > 0, "observed", "no trade")
        if ease:
            B = np.where(expected_j > 0, actual_j / expected_j, 0.0)
            if ease_when_no_trade == "gravity":
                B, ease_basis = _ease_without_trade(B, actual_j, expected_j, exporter, markets, geo, notes)
            else:
                B = np.where(actual_j > 0, B, float(ease_when_no_trade))
        else:
            B = np.ones(J)
            ease_basis = np.full(J, "off")

    # -- ITC supply adjustments (on the projected share only; the ease stays calibrated on S⁰)
    if "surplus" in adjustments:
        S = _surplus_filter(S, xi[:, 0], M, markets, exporter, province, notes)
    if "tariff_conditions" in adjustments:
        if basis in ("tariff", "tariff+distance"):
            S = np.clip(S / _tariff_conditions(A_tariff, xij)[:, None], 0, 1)
        else:
            notes["tariff_conditions"] = "not applied: no tariff table"
    if "rca_growth" in adjustments:
        S = np.clip(S * _rca_growth(data, exporter, province, min(used_years), year, growth_window, horizon,
                                    level, products, years_avail, mirror, notes, cells=cells,
                                    current=current)[:, None], 0, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        V = S * D * A * B[None, :]
        if cap == "demand":
            over = V > D * (1 + 1e-12)
            notes["cells_capped"] = int((over & (markets != exporter)[None, :]).sum())
            V = np.minimum(V, D)

    # -- historic imports one growth window back (for market growth in recommendations)
    step(STEPS[4])
    prev = _previous_imports(data, min(used_years), growth_window, level, products, markets, years_avail,
                             cells=cells)
    if prev is not None:
        notes["previous_year"], Mprev = prev
    else:
        Mprev = np.full_like(M, np.nan)

    step(STEPS[5])
    keep = (V > 0) | (xij > 0) if not keep_zero else np.ones_like(V, dtype=bool)
    keep &= (markets != exporter)[None, :]  # the exporter's home market is not an export market
    if miss_mk and missing_macro == "drop":
        keep &= ~markets.isin(miss_mk)[None, :]
    pk, jk = np.nonzero(keep)
    realised = np.minimum(xij, V)
    out = pd.DataFrame({
        "exporter": exporter, "province": province, "year": year,
        "market": markets.to_numpy()[jk], "product": products.to_numpy()[pk],
        "market_imports": M[pk, jk], "market_imports_prev": Mprev[pk, jk], "demand": D[pk, jk],
        "supply_base": S0[pk, jk], "supply": S[pk, jk], "access": A[pk, jk], "ease": B[jk],
        "potential": V[pk, jk],
        "actual": xij[pk, jk], "realised": realised[pk, jk], "unrealised": (V - realised)[pk, jk],
        "demand_factor": dfac[pk, jk],
        "demand_basis": demand_basis.to_numpy()[jk], "ease_basis": np.asarray(ease_basis)[jk],
    })
    if product_prefixes is not None:
        out = out[out["product"].str.startswith(tuple(product_prefixes))]
    if market_filter is not None:
        out = out[out["market"].isin(market_filter)]
    out = out.sort_values("unrealised", ascending=False, kind="stable").reset_index(drop=True)
    out.attrs.update({"method": "ITC export potential (Decreux & Spies 2016)", "access_basis": basis,
                      "method_preset": method, "projections": projections, "cap": cap,
                      "supply_adjustments": list(adjustments), "mirror": mirror,
                      "horizon": horizon, "growth_window": growth_window, "year": year,
                      "years_averaged": used_years, "growth_base_year": float(np.mean(used_years)),
                      "exporter": exporter, "province": province, **notes})
    _method_warnings(out, basis, notes, demand_basis, horizon, projections)
    return out


#: The supply adjustments that can be skipped, and the warning that says so (the reason is the one set in
#: ``notes[key]`` by the adjustment itself).
SUPPLY_NOT_APPLIED = {
    "surplus_filter": N_("Supply: the trade-surplus condition was not applied: the data hold no exports to the "
                         "exporter (its imports)."),
    "rca_growth": N_("Supply: the RCA-growth adjustment was not applied: no bilateral year within the growth "
                     "window before the base year."),
    "tariff_conditions": N_("Supply: the global-tariff-conditions adjustment was not applied: no tariff table."),
}


def _method_warnings(out: pd.DataFrame, basis: str, notes: dict, demand_basis: pd.Series, horizon: int,
                     projections: str) -> None:
    """The sentences a reader must see before trusting the potential (``tradepulse.meta`` warnings)."""
    if basis == "distance":
        warn(out, Note(N_("No tariff table: market access is relative distance only (ITC combines it with the "
                          "tariff advantage; pass --tariffs).")))
    if basis == "gravity-proxy":
        warn(out, Note(N_("No tariff table: market access is a gravity proxy (distance, border, language).")))
    if notes.get("cells_capped"):
        warn(out, Note(N_("{n:,} product × market cells had a potential above the market's projected demand and "
                          "were capped at it."), n=notes["cells_capped"]))
    if notes.get("markets_with_predicted_ease"):
        warn(out, Note(N_("{n} markets without current exports got a predicted ease of trade (see the ease_basis "
                          "column)."), n=notes["markets_with_predicted_ease"]))
    if notes.get("products_net_imported"):
        warn(out, Note(N_("{n} products the exporter imports more of than it exports get no supply (ITC's "
                          "trade-surplus condition: re-exports are not capacity)."),
                       n=notes["products_net_imported"]))
    for key, sentence in SUPPLY_NOT_APPLIED.items():
        if str(notes.get(key, "")).startswith("not applied"):
            warn(out, Note(sentence))

    def listed(ms: list[str]) -> str:
        return f"{', '.join(ms[:10])}{' …' if len(ms) > 10 else ''}"

    if horizon > 0 and projections == "atlas":
        bases = {m: str(b) for m, b in demand_basis.items()}
        trend = sorted(m for m, b in bases.items() if b == "trend")
        flat = sorted(m for m, b in bases.items() if b.startswith("flat"))
        popflat = sorted(m for m, b in bases.items() if b.endswith("population flat"))
        if trend:
            warn(out, Note(N_("{n} markets have no published Atlas growth projection; their demand is projected "
                              "from the GDP trend ({markets})."), n=len(trend), markets=listed(trend)))
        if flat:
            warn(out, Note(N_("{n} markets have neither a published Atlas projection nor GDP/population data; "
                              "their demand is held flat ({markets})."), n=len(flat), markets=listed(flat)))
        if popflat:
            warn(out, Note(N_("{n} markets lack population data: their population is held flat and only GDP per "
                              "capita grows (at the Atlas projection)."), n=len(popflat)))
    elif horizon > 0:
        warn(out, Note(N_("Demand and supply are projected from each country's past GDP and population trend, "
                          "not from published projections.")))


def _province_rows(data, exporter: str, province: str, year: int, level: int | None,
                   years: list[int] | None = None) -> pd.DataFrame:
    """A province's customs export rows by partner × product in ``year`` (mean over ``years`` when given)."""
    t = _flows_table(data)
    t = t.filter((t.reporter == exporter) & (t.flow == "export") & (t.partner != schema.WORLD)
                 & t.province.notnull())
    known = sorted(str(p) for p in t.select("province").distinct().to_pandas()["province"].dropna())
    if not known:
        raise NoDataError(f"the data hold no provincial (customs) export rows for {exporter}")
    match = province_matches(province, known, exporter)   # any spelling: تهران, IR-23, Tehran
    if not match:
        raise UnknownNameError("province", province, known)
    used = years or [year]
    t = t.filter(t.province.isin(match) & t.year.isin(used))
    product = t.product.substr(0, level) if level else t.product
    df = t.mutate(product=product).group_by(["partner", "product"]) \
        .aggregate(value=lambda s: s.value_usd.sum() / len(used)).to_pandas()
    df.attrs["province"] = match[0]
    return df[df["value"] > 0]


def _previous_imports(data, year: int, window: int, level, products: pd.Index, markets: pd.Index,
                      years: list[int], *, cells: bool = False):
    """Imports by product × market in the earliest bilateral year within ``window`` years before ``year``
    (summed by the engine; ``cells``: from every fetched cell, the former path)."""
    earlier = [y for y in years if year - window <= y < year]
    if not earlier:
        return None
    bil, y0 = bilateral_year(data, earlier[0], level, years)
    if not cells:
        t = _year_rows(data, [y0], level, "exporter")
        k = _keys(t)
        f = _fetch(t.group_by([*k["product"], *k["partner"]]).aggregate(value=t.value.sum()))
        jj = _positions(f, k["partner"], "country", markets)
        kk = _positions(f, k["product"], "product", products)
        ok = (jj >= 0) & (kk >= 0)
        m = np.bincount(kk[ok] * len(markets) + jj[ok], weights=f.column("value").to_numpy()[ok],
                        minlength=len(products) * len(markets)).reshape(len(products), len(markets))
        return y0, m
    w = _coded(bil.select("partner", "product", "value"))
    jj = markets.get_indexer(w["partner_index"])[w["partner"]]
    kk = products.get_indexer(w["product_index"])[w["product"]]
    ok = (jj >= 0) & (kk >= 0)
    m = np.bincount(kk[ok] * len(markets) + jj[ok], weights=w["value"][ok],
                    minlength=len(products) * len(markets)).reshape(len(products), len(markets))
    return y0, m


# ---------------------------------------------------------------- splits
def _split(result: pd.DataFrame, key: str) -> pd.DataFrame:
    if result.empty:
        raise NoDataError("the export-potential result is empty")
    g = result.groupby(key, sort=False)[["potential", "actual", "realised", "unrealised", "market_imports",
                                          "demand"]].sum()
    total = g["potential"].sum()
    g["potential_share"] = g["potential"] / total if total > 0 else np.nan
    return g.sort_values("unrealised", ascending=False).reset_index()


def by_product(result: pd.DataFrame) -> pd.DataFrame:
    """Potential, actual, realised and unrealised summed over markets, by product (with share of potential)."""
    return _split(result, "product")


def by_market(result: pd.DataFrame) -> pd.DataFrame:
    """Potential, actual, realised and unrealised summed over products, by market (with share of potential)."""
    return _split(result, "market")
