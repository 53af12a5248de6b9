"""Market choice: trade complementarity, trade intensity and market / product recommendations.

* **Trade complementarity index** (Michaely 1996; WITS definition) between exporter *i* and partner *j*::

      TC_ij = 100 · (1 − ½ Σ_k |m_jk / M_j − x_ik / X_i|)

  with ``x_ik / X_i`` the share of product *k* in *i*'s exports and ``m_jk / M_j`` its share in *j*'s imports
  (0 = no overlap, 100 = *j* imports exactly what *i* exports, in the same proportions).
* **Trade intensity index** (Brown 1949, Kojima 1964; WITS definition)::

      TI_ij = (x_ij / X_i) / (x_wj / X_w)

  *i*'s export share going to *j* over the world's export share going to *j* (> 1: more intense than *j*'s
  weight in world trade).
* **Recommendations** rank markets for a product (group) or products for a market by the unrealised
  export potential of :func:`tradepulse.indicators.potential.export_potential`, with the current value,
  the market's import growth (historic CAGR, and the projected demand growth) and the exporter's share.

Conventions: imports are mirror data — *j*'s imports are the sum of all exporters' reported exports to *j*
(as in BACI); the world is every exporter in the data; self-trade rows are dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradepulse import reference
from tradepulse.errors import NoDataError, TradepulseError, UnknownNameError
from tradepulse.indicators.potential import _frame_to_matrix, _province_rows, bilateral_year, export_potential

__all__ = ["partner_indices", "complementarity", "trade_intensity", "recommend_markets",
           "recommend_products", "recommend"]


def partner_indices(data, exporter: str, *, province: str | None = None, year: int | None = None,
                    level: int | None = None, partners=None) -> pd.DataFrame:
    """Complementarity and intensity between ``exporter`` (or its ``province``) and every partner.

    Columns: ``partner, exports`` (x_ij), ``export_share`` (x_ij/X_i), ``partner_imports`` (x_wj),
    ``world_share`` (x_wj/X_w), ``intensity`` (TI_ij), ``complementarity`` (TC_ij, 0–100); sorted by
    complementarity.  ``partners`` (group names / ISO3 codes) filters the output.
    """
    from tradepulse.indicators.selection import resolve_partners

    exporter = exporter.upper()
    wanted = resolve_partners(partners)
    bil, year = bilateral_year(data, year, level)
    imp = bil.group_by(["partner", "product"]).aggregate(m=lambda s: s.value.sum()).to_pandas()
    if province is None:
        own = bil.filter(bil.reporter == exporter).select("partner", "product", "value").to_pandas()
        if own.empty:
            known = bil.select("reporter").distinct().to_pandas()["reporter"].tolist()
            raise UnknownNameError("exporter", exporter, known)
    else:
        own = _province_rows(data, exporter, province, year, level)
        if own.empty:
            raise NoDataError(f"province {province} of {exporter} has no bilateral exports in {year}")
    products = pd.Index(sorted(set(imp["product"]) | set(own["product"])))
    partners_ix = pd.Index(sorted(set(imp["partner"]) | set(own["partner"])))
    M, = _frame_to_matrix(imp, products, partners_ix, "product", "partner", ["m"])
    X, = _frame_to_matrix(own, products, partners_ix, "product", "partner", ["value"])
    xi = X.sum(axis=1)
    Mj = M.sum(axis=0)
    x_share = xi / xi.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        m_share = np.where(Mj > 0, M / np.where(Mj > 0, Mj, 1.0), 0.0)
        tc = 100.0 * (1.0 - 0.5 * np.abs(m_share - x_share[:, None]).sum(axis=0))
        tc = np.where(Mj > 0, tc, np.nan)
        xij = X.sum(axis=0)
        export_share = xij / xi.sum()
        world_share = Mj / Mj.sum()
        ti = np.where(world_share > 0, export_share / world_share, np.nan)
    out = pd.DataFrame({"exporter": exporter, "province": province, "year": year, "partner": partners_ix,
                        "exports": xij, "export_share": export_share, "partner_imports": Mj,
                        "world_share": world_share, "intensity": ti, "complementarity": tc})
    out = out[out["partner"] != exporter]
    if wanted is not None:
        out = out[out["partner"].isin(wanted)]
    return out.sort_values("complementarity", ascending=False).reset_index(drop=True)


def complementarity(data, exporter: str, **kwargs) -> pd.Series:
    """Michaely trade complementarity index TC_ij (0–100) by partner; see :func:`partner_indices`."""
    return partner_indices(data, exporter, **kwargs).set_index("partner")["complementarity"]


def trade_intensity(data, exporter: str, **kwargs) -> pd.Series:
    """Trade intensity index TI_ij by partner; see :func:`partner_indices`."""
    return partner_indices(data, exporter, **kwargs).set_index("partner")["intensity"]


# ---------------------------------------------------------------- recommendations
_SUMS = ["potential", "actual", "realised", "unrealised", "market_imports", "market_imports_prev", "demand"]


def _summarise(rows: pd.DataFrame, key: str, result: pd.DataFrame) -> pd.DataFrame:
    g = rows.groupby(key, sort=False)[_SUMS].sum(min_count=1)
    prev_year = result.attrs.get("previous_year")
    year = result.attrs.get("growth_base_year", result.attrs.get("year"))  # the mid-year when averaged
    horizon = result.attrs.get("horizon") or 0
    with np.errstate(divide="ignore", invalid="ignore"):
        if prev_year is not None and year is not None and year > prev_year:
            ratio = g["market_imports"] / g["market_imports_prev"]
            g["market_growth"] = np.where(g["market_imports_prev"] > 0,
                                          np.power(ratio, 1.0 / (year - prev_year)) - 1.0, np.nan)
        else:
            g["market_growth"] = np.nan
        g["demand_growth"] = (np.power(g["demand"] / g["market_imports"], 1.0 / horizon) - 1.0
                              if horizon > 0 else 0.0)
        g["exporter_share"] = np.where(g["market_imports"] > 0, g["actual"] / g["market_imports"], np.nan)
    g = g.rename(columns={"actual": "current_value"})
    return g.sort_values("unrealised", ascending=False).reset_index()


def recommend_markets(result: pd.DataFrame, products=None, top: int | None = None) -> pd.DataFrame:
    """Markets ranked by unrealised potential for ``products`` (a product group name such as
    ``handicrafts``, HS prefixes, or None = all products) from an :func:`export_potential` result.

    Columns: ``market, market_name, potential, current_value, realised, unrealised, market_imports,
    market_growth`` (historic CAGR of the market's imports of these products), ``demand_growth`` (projected
    per year), ``exporter_share`` (current value / market imports).
    """
    from tradepulse.indicators.selection import resolve_products

    prefixes = resolve_products(products)
    rows = result if prefixes is None else result[result["product"].str.startswith(tuple(prefixes))]
    if rows.empty:
        raise NoDataError(f"no export potential or exports of {products} for "
                          f"{result.attrs.get('exporter', 'the exporter')} in the data")
    out = _summarise(rows, "market", result)
    out.insert(1, "market_name", [reference.country_name(m) for m in out["market"]])
    return out.head(top) if top else out


def recommend_products(result: pd.DataFrame, market: str | None, top: int | None = None,
                       products=None) -> pd.DataFrame:
    """Products ranked by unrealised potential in ``market`` (ISO3; None = summed over all markets) from an
    :func:`export_potential` result; ``products`` (group name / HS prefixes) restricts the products."""
    from tradepulse.indicators.selection import resolve_products

    prefixes = resolve_products(products)
    rows = result if prefixes is None else result[result["product"].str.startswith(tuple(prefixes))]
    if market is None:
        if rows.empty:
            raise NoDataError(f"no export potential or exports of {products} in the data")
        out = _summarise(rows, "product", result)
        out.insert(1, "product_name", reference.product_names(out["product"]))
        return out.head(top) if top else out
    market = market.upper()
    rows = rows[rows["market"] == market]
    if rows.empty:
        known = sorted(result["market"].unique())
        if market in reference.iso3_codes():
            raise NoDataError(f"no export potential or exports of {result.attrs.get('exporter', 'the exporter')} "
                              f"to {market} in the data")
        raise UnknownNameError("market", market, known)
    out = _summarise(rows, "product", result)
    names = reference.product_names(out["product"])
    out.insert(1, "product_name", names)
    return out.head(top) if top else out


def recommend(data, exporter: str, *, product_group=None, market: str | None = None, top: int | None = None,
              **options) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run :func:`export_potential` and rank: markets for ``product_group`` or products for ``market``
    (exactly one may be given; neither → markets for all products).  Returns (ranking, potential result)."""
    if product_group is not None and market is not None:
        raise TradepulseError("give a product group (markets ranked) or a market (products ranked), not both")
    if product_group is not None:
        from tradepulse.indicators.selection import resolve_products
        resolve_products(product_group)  # fail fast on an unknown group, before the heavy work
    result = export_potential(data, exporter, **options)
    if market is not None:
        return recommend_products(result, market, top), result
    return recommend_markets(result, product_group, top), result
