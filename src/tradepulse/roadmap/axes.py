"""Roadmap axes and the axis metrics: yearly series read from the indicator modules.

Every target belongs to one **axis** of the roadmap (``AXES``): trade values, the non-oil trade balance,
durability (survival) of exports, diversity of goods and markets, complexity, and private-sector capability
(firms).  A target names its axis (``axis = "survival"``) or takes the default of its metric (:func:`axis_of`).

The axis metrics below are *not* computed here: each calls one public function of
``tradepulse.indicators.<module>`` on the warehouse and reads one column per Gregorian year.

=====================  =====================================================================  ========  ========
metric                 indicator call → column                                                kind      better
=====================  =====================================================================  ========  ========
``survival_1y``        ``survival.summary(survival.export_spells(...), by="cohort")``          ratio     higher
                       → ``survival_1y`` per cohort (Kaplan–Meier S(1), Besedeš & Prusa
                       2006); the last observed cohort is dropped (its first year is not over)
``product_hhi``        ``diversification.product_diversification`` → ``hhi`` (Σ s², HS level   ratio     lower
                       of the data; Herfindahl 1950)
``market_hhi``         ``diversification.market_diversification`` → ``hhi``                  ratio     lower
``n_markets_above``    ``diversification.market_diversification(threshold=…)`` → ``n_above``  count     higher
                       (markets with exports ≥ threshold, default 1 M USD)
``n_new_rca``          ``complexity.complexity(warehouse)`` → products with RCA ≥ 1 in year    count     higher
                       *t* and RCA < 1 (or no exports) in *t* − 1 (Balassa 1965; Hidalgo &
                       Hausmann 2009 for M = RCA ≥ 1)
``eci_rank``           ``complexity.complexity(warehouse)`` → rank of the reporter's ``eci``    count     lower
                       among exporters of the year (1 = most complex)
``n_exporters``        ``firms.exporter_profile`` → ``n_exporters`` (firms with exports > 0)  count     higher
=====================  =====================================================================  ========  ========

The non-oil trade balance uses ``indicator:balance.trade_balance`` with ``options.column =
"non_oil_balance"`` (see :func:`tradepulse.roadmap.metrics.indicator_series`).

**Calendar.**  Ratios become SH years by the day-weighted average of the two Gregorian years (the
``annual-apportioned`` rule of :mod:`.metrics`, weights summing to 1); counts take the Gregorian year *y* as
SH *y* − 621 (``start-year``, the convention of ``n_products``), both labelled estimates.
"""

from __future__ import annotations

import itertools

import pandas as pd

from tradepulse.errors import NoDataError
from tradepulse.meta import ResultMeta, attach, meta_of

AXES = ("trade", "balance", "survival", "diversification", "complexity", "firms")
#: metric → (default axis, kind, better)
AXIS_METRICS = {
    "survival_1y": ("survival", "ratio", "higher"),
    "product_hhi": ("diversification", "ratio", "lower"),
    "market_hhi": ("diversification", "ratio", "lower"),
    "n_markets_above": ("diversification", "count", "higher"),
    "n_new_rca": ("complexity", "count", "higher"),
    "eci_rank": ("complexity", "count", "lower"),
    "n_exporters": ("firms", "count", "higher"),
}
#: Default axis of the other metrics (indicator metrics: by module).
_DEFAULT_AXIS = {"balance": "balance", "non_oil_balance": "balance", "n_products": "diversification",
                 "n_markets": "diversification", "indicator:balance": "balance", "indicator:survival": "survival",
                 "indicator:diversification": "diversification", "indicator:complexity": "complexity",
                 "indicator:technology": "complexity", "indicator:firms": "firms"}


def axis_of(metric: str) -> str:
    """The default axis of ``metric`` (``trade`` for trade values)."""
    if metric in AXIS_METRICS:
        return AXIS_METRICS[metric][0]
    key = metric.split(".")[0] if metric.startswith("indicator:") else metric
    return _DEFAULT_AXIS.get(key, "trade")


def better_of(metric: str) -> str:
    """``higher`` or ``lower``: which direction of the metric is progress by default."""
    return AXIS_METRICS[metric][2] if metric in AXIS_METRICS else "higher"


#: Axis metrics whose value in year *t* depends only on the data of years *t* − lag … *t* (value = lag), so
#: they can be computed for a few years (:func:`gregorian_series` with ``years``): HHIs and market counts are
#: per year, complexity is computed year by year and a new-RCA count compares *t* with *t* − 1.
LOCAL_METRICS = {"product_hhi": 0, "market_hhi": 0, "n_markets_above": 0, "n_new_rca": 1, "eci_rank": 0}


def gregorian_series(source, metric: str, reporter: str, options: dict, *, years=None,
                     memo: dict | None = None) -> pd.DataFrame:
    """``year, value`` (Gregorian) of an axis metric for ``reporter``, with the indicator's meta attached.

    ``years``: compute a :data:`LOCAL_METRICS` metric on these Gregorian years only (for ``n_new_rca`` the
    year before each is read too); other metrics ignore it (all years).  ``memo``: a dict shared by the
    targets of one evaluation, so an indicator call several metrics read (market diversification for
    ``market_hhi`` and ``n_markets_above``, complexity for ``n_new_rca`` and ``eci_rank``) runs once; its
    input metas are recorded again for every metric that reads it."""
    from tradepulse.indicators import diversification, firms, survival

    memo = {} if memo is None else memo
    yrs = tuple(sorted({int(y) for y in years})) if years is not None and metric in LOCAL_METRICS else None
    if metric == "n_new_rca" and yrs is not None:
        yrs = tuple(sorted(set(yrs) | {y - 1 for y in yrs}))
    if metric in ("product_hhi", "market_hhi", "n_markets_above"):
        if metric == "product_hhi":
            d = _shared(memo, ("product_hhi", yrs), lambda: _pinned(
                diversification.product_diversification, source, reporter, yrs, "product", threshold=0.0))
        else:
            d = _market(memo, source, reporter, yrs, diversification.market_diversification,
                        float(options.get("threshold", 1e6)) if metric == "n_markets_above" else None)
        out = d.rename(columns={"n_above" if metric == "n_markets_above" else "hhi": "value"})[["year", "value"]]
        meta = meta_of(d)
    elif metric in ("n_new_rca", "eci_rank"):
        c = _shared(memo, ("complexity", reporter, yrs), lambda: _complexity(source, reporter, yrs))
        meta = meta_of(c)
        out = new_rca_counts(c, reporter) if metric == "n_new_rca" else eci_ranks(c, reporter)
        if yrs is not None and metric == "n_new_rca":      # the year before the first is only a comparison
            out = out[out["year"] > yrs[0]]
    elif metric == "survival_1y":
        spells = survival.export_spells(source, reporter=reporter, level=int(options.get("level", 4)))
        last = int(spells["end"].max())
        s = survival.summary(spells[spells["cohort"] < last], by="cohort")
        out = s.rename(columns={"cohort": "year", "survival_1y": "value"})[["year", "value"]]
        meta = meta_of(spells)
    elif metric == "n_exporters":
        p = firms.exporter_profile(source, reporter=reporter)
        out = p.rename(columns={"n_exporters": "value"})[["year", "value"]]
        meta = meta_of(p)
    else:
        raise NoDataError(f"metric {metric!r} is not an axis metric")
    out = out.astype({"year": int, "value": float}).sort_values("year").reset_index(drop=True)
    return attach(out, ResultMeta().merge(meta))


def _shared(memo: dict, key: tuple, compute):
    """``compute()`` once per ``key`` in ``memo``; the input metas its selections recorded are recorded again
    in the calling indicator call each time (a metric reading a shared result names the same dataset)."""
    from tradepulse.meta import collecting, record
    if key not in memo:
        with collecting() as col:
            value = compute()
        memo[key] = (value, col.merged())
    value, recorded = memo[key]
    record(recorded)
    return value


#: The needs the diversification functions state (``tradepulse.indicators.diversification``), to resolve
#: the dataset an all-years call reads before computing a few years of it.
_DIVERSIFICATION_NEEDS = {"product": dict(level=2, what="product diversification"),
                          "market": dict(level=0, bilateral=True, what="market diversification")}


def _pinned(func, source, reporter: str, years, kind: str, **kw) -> pd.DataFrame:
    """``func(source, reporter=…, years=…, **kw)``; with ``years``, on the dataset the all-years call reads
    (resolving on a few years could pick another dataset: the input rule counts covered years)."""
    if years is None:
        return func(source, reporter=reporter, **kw)
    from tradepulse.indicators.inputs import Needs, resolve
    res = resolve(source, years=None, flow=["export"], needs=Needs(**_DIVERSIFICATION_NEEDS[kind]))
    return func(source, reporter=reporter, years=list(years), dataset=res.dataset, **kw)


def _market(memo: dict, source, reporter: str, years, func, threshold: float | None) -> pd.DataFrame:
    """Market diversification of ``years``: ``threshold`` only moves ``n_above``, so ``market_hhi``
    (``threshold=None``) reads any market result of the same years, else computes with
    ``memo["market-threshold"]`` (the markets-above target's, set by the evaluation)."""
    if threshold is None:
        for key, _v in list(memo.items()):
            if isinstance(key, tuple) and key[:2] == ("market", years):
                return _shared(memo, key, None)
        threshold = float(memo.get("market-threshold", 0.0))
    return _shared(memo, ("market", years, threshold),
                   lambda: _pinned(func, source, reporter, years, "market", threshold=threshold))


def _complexity(source, reporter: str, years) -> pd.DataFrame:
    """What ``n_new_rca`` and ``eci_rank`` read of :func:`~tradepulse.indicators.complexity.complexity` on the
    warehouse: ``year, exporter, product, m, eci``.  All years: the whole panel at once, as before.  A few
    years of a DuckDB warehouse: :class:`~tradepulse.indicators.complexity.ComplexityByYear` (the dataset
    resolved for the whole panel, each year computed alone) on those years, keeping the reporter's rows and
    one row per other exporter and year (its ECI) — a year's 1.2M cells are not kept."""
    from tradepulse.indicators import complexity
    from tradepulse.warehouse import Warehouse

    cols = ["year", "exporter", "product", "m", "eci"]
    if years is None or type(source) is not Warehouse:
        return complexity.complexity(source)
    stream = complexity.warehouse_export_years(source)
    if not stream.years:                             # no recorded coverage: the whole panel
        return complexity.complexity(source)
    from tradepulse.indicators.inputs import Needs, resolve
    from tradepulse.meta import record
    record(resolve(source, flow=["export"], needs=Needs(level=2, what=complexity._EXPORT_NEEDS_WHAT)).meta)
    want = set(years)
    stream.years = [y for y in stream.years if y in want]
    by_year = complexity.ComplexityByYear(stream)
    parts = []
    for res in by_year:
        res = res[cols].astype({"exporter": str, "product": str})
        mine = res["exporter"].to_numpy() == reporter
        others = res.loc[~mine].drop_duplicates(["year", "exporter"]).assign(product="", m=False)
        parts.append(pd.concat([res.loc[mine], others], ignore_index=True))
    if not parts:
        raise NoDataError(f"no complexity results for the years {list(years)}")
    return attach(pd.concat(parts, ignore_index=True), by_year.meta)


def new_rca_counts(result: pd.DataFrame, reporter: str) -> pd.DataFrame:
    """Products of ``reporter`` with M = 1 (RCA ≥ threshold) in year *t* and not in *t* − 1, for every year
    after the first of the complexity ``result`` (a product absent in *t* − 1 counts as M = 0)."""
    r = result[result["exporter"] == reporter]
    years = sorted(int(y) for y in result["year"].unique())
    held = {int(y): set(g.loc[g["m"].astype(bool), "product"]) for y, g in r.groupby("year")}
    rows = [{"year": y, "value": float(len(held.get(y, set()) - held.get(p, set())))}
            for p, y in itertools.pairwise(years) if y == p + 1]
    return pd.DataFrame(rows, columns=["year", "value"])


def eci_ranks(result: pd.DataFrame, reporter: str) -> pd.DataFrame:
    """The rank (1 = highest ECI, ties share the lowest rank) of ``reporter`` among the exporters of each year."""
    e = result[["year", "exporter", "eci"]].drop_duplicates(["year", "exporter"]).dropna(subset=["eci"])
    e = e.assign(rank=e.groupby("year")["eci"].rank(ascending=False, method="min"))
    r = e[e["exporter"] == reporter]
    return pd.DataFrame({"year": r["year"].astype(int), "value": r["rank"].astype(float)})


#: Columns of ``indicator:balance.trade_balance`` holding US dollars.
MONEY_COLUMNS = ("exports", "imports", "balance", "oil_exports", "oil_imports", "non_oil_exports",
                 "non_oil_imports", "non_oil_balance", "balance_change")


def value_kind(metric: str, options: dict | None = None) -> str:
    """How a figure of ``metric`` reads: ``money`` (USD), ``share`` (a fraction shown in %), ``index`` (a
    number such as an HHI, shown with 3 decimals), ``count`` (whole numbers) or ``indicator`` (other
    indicator columns); ``options.column`` of a balance indicator names a money column."""
    if metric.startswith("indicator:balance.") and (options or {}).get("column", "value") in MONEY_COLUMNS:
        return "money"
    if metric in ("market_share", "survival_1y"):
        return "share"
    if metric in ("product_hhi", "market_hhi"):
        return "index"
    if metric in ("n_products", "n_markets", "n_markets_above", "n_new_rca", "eci_rank", "n_exporters"):
        return "count"
    if metric.startswith("indicator:"):
        return "indicator"
    return "money"
