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


def gregorian_series(source, metric: str, reporter: str, options: dict) -> pd.DataFrame:
    """``year, value`` (Gregorian) of an axis metric for ``reporter``, with the indicator's meta attached."""
    from tradepulse.indicators import complexity, diversification, firms, survival

    if metric == "survival_1y":
        spells = survival.export_spells(source, reporter=reporter, level=int(options.get("level", 4)))
        last = int(spells["end"].max())
        s = survival.summary(spells[spells["cohort"] < last], by="cohort")
        out = s.rename(columns={"cohort": "year", "survival_1y": "value"})[["year", "value"]]
        meta = meta_of(spells)
    elif metric in ("product_hhi", "market_hhi", "n_markets_above"):
        thr = float(options.get("threshold", 1e6)) if metric == "n_markets_above" else 0.0
        func = diversification.product_diversification if metric == "product_hhi" \
            else diversification.market_diversification
        d = func(source, reporter=reporter, threshold=thr)
        out = d.rename(columns={"n_above" if metric == "n_markets_above" else "hhi": "value"})[["year", "value"]]
        meta = meta_of(d)
    elif metric in ("n_new_rca", "eci_rank"):
        c = complexity.complexity(source)
        meta = meta_of(c)
        out = new_rca_counts(c, reporter) if metric == "n_new_rca" else eci_ranks(c, reporter)
    elif metric == "n_exporters":
        p = firms.exporter_profile(source, reporter=reporter)
        out = p.rename(columns={"n_exporters": "value"})[["year", "value"]]
        meta = meta_of(p)
    else:
        raise NoDataError(f"metric {metric!r} is not an axis metric")
    out = out.astype({"year": int, "value": float}).sort_values("year").reset_index(drop=True)
    return attach(out, ResultMeta().merge(meta))


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
