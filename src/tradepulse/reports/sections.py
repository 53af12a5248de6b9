"""Numbers for the weekly brief, computed with Ibis on the warehouse (DuckDB or PySpark).

All functions take FLOWS as a warehouse, Ibis table or pandas frame (``tradepulse.warehouse.as_table``),
a ``reporter`` ISO3 code and optionally a ``province`` (then only that province's customs rows are used).
National values use the layered totals of :func:`tradepulse.indicators.selection.national_totals`
(world rows, else national bilateral rows, else the sum of provincial customs rows — never two layers).

Definitions (years are Gregorian calendar years of the data; *y* = latest year, *y−1* the year before):

- **Oil**: HS prefixes of :func:`tradepulse.reference.oil_prefixes` (``narrow`` = 2709/2710/2711).
- **Totals** come from :func:`tradepulse.indicators.balance.trade_balance` (general trade system: re-exports and
  re-imports included); tests/test_brief.py checks them against an independent Ibis computation.
- **Non-oil balance** = (exports − oil exports) − (imports − oil imports), in current US$.
- **Top movers**: HS4 products ranked by the change in export value v_y − v_{y−1} (largest rises, largest
  falls), with growth v_y / v_{y−1} − 1.
- **Newly reached RCA ≥ 1** (Balassa 1965, "Trade liberalisation and revealed comparative advantage"):
  RCA_cp = (x_cp / Σ_p x_cp) / (x_wp / Σ_p x_wp) at HS4 with world exports x_wp from the world-total rows
  (partner ``WLD``) of all reporters; products with RCA ≥ 1 in *y* and RCA < 1 (or no exports) in *y−1*.
  For a province, x_cp are the province's customs exports.
- **Lost markets**: partners with exports in *y−1* and none in *y* (bilateral rows).
- **Ended export spells**: partner × HS4 pairs exported in *y−1* and not in *y* (a spell ending in *y−1*
  in the sense of Besedeš & Prusa 2006, observed on consecutive years only); **new** pairs likewise.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from tradepulse import reference, schema
from tradepulse.errors import NoDataError, UnknownNameError
from tradepulse.indicators.inputs import Needs
from tradepulse.indicators.selection import national_totals, province_matches, select_dataset
from tradepulse.reports.i18n import N_
from tradepulse.warehouse import as_table


#: What the brief's sections need of their dataset (the one input rule, tradepulse.indicators.inputs).
HS4_DETAIL = Needs(level=4, what="the brief's product sections (top movers, new RCA)")
PAIR_DETAIL = Needs(level=4, bilateral=True, what="the brief's market sections (lost markets, export spells)")


def _scope(flows, reporter: str, province: str | None, needs: Needs | None = None) -> ibis.Table:
    """Rows of ``reporter`` (and ``province``) in the one dataset answering ``needs`` (all flows when None);
    raises NoDataError / UnknownNameError with what exists."""
    if needs is not None:
        if province is not None:
            needs = Needs(level=needs.level, bilateral=True, provincial=True, what=needs.what)
        t = select_dataset(flows, needs, reporter=reporter, flow="export")
    else:
        t = as_table(flows, "flows")
    t = t.filter(t.reporter == reporter)
    if province is not None:
        provs = t.filter(t.province.notnull()).select("province").distinct().to_pandas()["province"].tolist()
        match = province_matches(province.strip(), provs, reporter)   # any spelling: تهران, IR-23, Tehran
        if not match:
            if not provs:
                raise NoDataError(f"no provincial (customs) data for {reporter} in the warehouse")
            raise UnknownNameError("province", province, provs)
        t = t.filter(t.province.isin(match))
    return t


def annual_totals(flows, reporter: str, province: str | None = None, oil: str = "narrow") -> pd.DataFrame:
    """Per year: exports, imports, oil_exports, oil_imports, non_oil_exports, non_oil_imports,
    non_oil_balance (US$), from :func:`tradepulse.indicators.balance.trade_balance` (general trade system:
    re-exports and re-imports included) so the brief shows the same figures as ``tradepulse indicators``.
    Years without any import row get NaN imports (unknown, not zero).  Raises NoDataError /
    UnknownNameError when the reporter or province has no rows."""
    from tradepulse.indicators.balance import trade_balance

    _scope(flows, reporter, province)          # uniform errors (no provincial data / unknown province)
    tb = trade_balance(flows, reporter=reporter, province=province, oil=oil)
    cols = ["year", "oil_exports", "non_oil_exports", "oil_imports", "non_oil_imports", "exports", "imports",
            "non_oil_balance"]
    out = tb[cols].copy()
    none = out["imports"].to_numpy() == 0
    out.loc[none, ["imports", "oil_imports", "non_oil_imports", "non_oil_balance"]] = float("nan")
    return out.sort_values("year").reset_index(drop=True)


#: The headline figures of the brief and the agenda: (annual_totals column, label).
HEADLINE = (("exports", N_("Exports")), ("non_oil_exports", N_("Non-oil exports")),
            ("imports", N_("Imports")), ("non_oil_balance", N_("Non-oil trade balance")))


def headline(annual: pd.DataFrame) -> tuple[int, list[dict]]:
    """``(latest year, cards)`` from :func:`annual_totals` rows: each headline figure in the latest year, the
    previous year's value (only when it is the calendar year before), the change and the growth
    v_y / v_{y−1} − 1 (None without a positive previous value or with a missing current one)."""
    y = int(annual["year"].iloc[-1])
    cur = annual.iloc[-1]
    prev = annual.iloc[-2] if len(annual) > 1 and int(annual["year"].iloc[-2]) == y - 1 else None
    cards = []
    for key, label in HEADLINE:
        c = float(cur[key])
        p = float(prev[key]) if prev is not None else None
        cards.append({"key": key, "label": label, "current": c, "previous": p,
                      "change": None if p is None else c - p,
                      "growth": None if (p is None or p <= 0 or c != c) else c / p - 1})
    return y, cards


def _exports_by(t: ibis.Table, keys: list[str], years: list[int], national: bool) -> pd.DataFrame:
    from tradepulse.indicators.selection import national_totals

    t = t.filter((t.flow == "export") & t.year.isin(years) & t.value_usd.notnull())
    t = t.mutate(product=t["product"].substr(0, 4))
    if national:
        agg = national_totals(t, keys, allow_world="partner" not in keys)
    else:
        agg = t.group_by(keys).aggregate(value_usd=t.value_usd.sum())
    return agg.to_pandas()


def top_movers(flows, reporter: str, year: int, province: str | None = None, n: int = 5) -> pd.DataFrame:
    """HS4 products with the largest export rises and falls from ``year − 1`` to ``year``.

    Columns product, name, previous, current, change, growth, direction (``up``/``down``).
    """
    t = _scope(flows, reporter, province, HS4_DETAIL)
    df = _exports_by(t, ["year", "product"], [year - 1, year], province is None)
    missing = sorted({year - 1, year} - set(df["year"].astype(int)))
    if missing:   # a year outside the dataset is not a year of zero exports
        raise NoDataError(f"no HS4 export rows for {reporter} in {', '.join(map(str, missing))} in the dataset "
                          "with product detail, so movers cannot be compared")
    wide = df.pivot_table(index="product", columns="year", values="value_usd", aggfunc="sum", fill_value=0.0)
    prev = wide[year - 1] if (year - 1) in wide.columns else pd.Series(0.0, index=wide.index)
    cur = wide[year] if year in wide.columns else pd.Series(0.0, index=wide.index)
    res = pd.DataFrame({"product": wide.index.astype(str), "previous": prev.to_numpy(), "current": cur.to_numpy()})
    res["change"] = res["current"] - res["previous"]
    res["growth"] = (res["current"] / res["previous"].where(res["previous"] > 0)) - 1
    up = res[res["change"] > 0].nlargest(n, "change").assign(direction="up")
    down = res[res["change"] < 0].nsmallest(n, "change").assign(direction="down")
    out = pd.concat([up, down], ignore_index=True)
    out.insert(1, "name", [reference.product_name(p) for p in out["product"]])
    return out


def new_rca(flows, reporter: str, year: int, province: str | None = None, n: int = 10) -> pd.DataFrame:
    """HS4 products whose Balassa RCA crossed 1 between ``year − 1`` and ``year`` (see module docstring).

    Columns product, name, rca_previous, rca, exports (US$ in ``year``), sorted by exports.
    """
    base = select_dataset(flows, HS4_DETAIL, reporter=reporter, flow="export")
    w = base.filter((base.flow == "export") & base.province.isnull() & base.year.isin([year - 1, year])
                    & base.value_usd.notnull())
    w = w.mutate(product=w["product"].substr(0, 4))
    # world exports by product: each reporter's World row where it has one, else its partner sum
    w = national_totals(w, ["year", "product"])
    world = w.rename(xw="value_usd")
    world_tot = w.group_by("year").aggregate(xw_tot=w.value_usd.sum())
    t = _scope(flows, reporter, province, HS4_DETAIL)
    own = _exports_by(t, ["year", "product"], [year - 1, year], province is None).rename(columns={"value_usd": "x"})
    if own.empty:
        raise NoDataError(f"no exports of {reporter} in {year - 1}–{year}")
    own_t = ibis.memtable(own)
    own_tot = own_t.group_by("year").aggregate(x_tot=own_t.x.sum())
    j = (own_t.join(own_tot, "year").join(world, ["year", "product"]).join(world_tot, "year"))
    j = j.mutate(rca=(j.x / j.x_tot) / (j.xw / j.xw_tot))
    df = j.select("year", "product", "x", "rca").to_pandas()
    if df.empty:
        raise NoDataError(f"no world-total export rows (partner WLD) for {year - 1}–{year} to compute RCA")
    wide = df.pivot_table(index="product", columns="year", values="rca", aggfunc="sum")
    cur = wide[year] if year in wide.columns else pd.Series(dtype=float)
    prev = (wide[year - 1] if (year - 1) in wide.columns else pd.Series(float("nan"), index=wide.index)).fillna(0.0)
    mask = (cur >= 1) & (prev < 1)
    exports = df[df["year"] == year].set_index("product")["x"]
    out = pd.DataFrame({"product": wide.index[mask].astype(str), "rca_previous": prev[mask].to_numpy(),
                        "rca": cur[mask].to_numpy()})
    out["exports"] = exports.reindex(out["product"]).to_numpy()
    out = out.sort_values("exports", ascending=False).head(n).reset_index(drop=True)
    out.insert(1, "name", [reference.product_name(p) for p in out["product"]])
    return out


def market_changes(flows, reporter: str, year: int, province: str | None = None, n: int = 8) -> dict:
    """Lost markets and ended / new export spells (partner × HS4) between ``year − 1`` and ``year``.

    Returns ``{"lost_markets": DataFrame(partner, name_en, name_fa, previous), "ended": int,
    "ended_value": float (US$ in year − 1), "new": int, "new_value": float, "pairs_previous": int,
    "top_ended": DataFrame(partner, product, previous)}``; NoDataError without bilateral rows in both years.
    """
    t = _scope(flows, reporter, province, PAIR_DETAIL)
    t = t.filter(t.partner != schema.WORLD)
    pairs = _exports_by(t, ["year", "partner", "product"], [year - 1, year], province is None)
    pairs = pairs[pairs["value_usd"] > 0]
    have = set(pairs["year"].astype(int))
    if not {year - 1, year} <= have:
        raise NoDataError(f"no bilateral export rows for {reporter} in both {year - 1} and {year}")
    prev = pairs[pairs["year"] == year - 1].set_index(["partner", "product"])["value_usd"]
    cur = pairs[pairs["year"] == year].set_index(["partner", "product"])["value_usd"]
    ended = prev[~prev.index.isin(cur.index)]
    new = cur[~cur.index.isin(prev.index)]
    by_prev = prev.groupby(level="partner").sum()
    partners_now = set(cur.index.get_level_values("partner"))
    lost = by_prev[~by_prev.index.isin(partners_now)].sort_values(ascending=False).head(n)
    lost_df = pd.DataFrame({"partner": lost.index.astype(str), "previous": lost.to_numpy()})
    lost_df["name_en"] = [reference.country_name(p, "en") for p in lost_df["partner"]]
    lost_df["name_fa"] = [reference.country_name(p, "fa") for p in lost_df["partner"]]
    top_ended = ended.sort_values(ascending=False).head(n).rename("previous").reset_index()
    return {"lost_markets": lost_df, "ended": int(len(ended)), "ended_value": float(ended.sum()),
            "new": int(len(new)), "new_value": float(new.sum()), "pairs_previous": int(len(prev)),
            "top_ended": top_ended}


def ended_spell_lengths(flows, reporter: str, year: int, province: str | None = None) -> dict:
    """Lengths of the export spells (partner × HS4) whose last year is ``year − 1`` (ended in ``year``),
    from :func:`tradepulse.indicators.survival.export_spells` over all years in the data (left-censored
    spells included, so a spell seen since the first year counts with its observed length).

    Returns ``{"ended": n, "median_years": m, "mean_years": a, "one_year_share": s}``.  ``ended`` equals
    :func:`market_changes`' count (two implementations, cross-checked in the tests).
    """
    from tradepulse.indicators.survival import export_spells

    sp = export_spells(flows, reporter=reporter, province=province, include_left_censored=True)
    ended = sp[(sp["end"].to_numpy() == year - 1) & (sp["event"].to_numpy() == 1)]
    d = ended["duration"].to_numpy(dtype=float)
    return {"ended": int(len(d)), "median_years": float(np.median(d)) if len(d) else float("nan"),
            "mean_years": float(d.mean()) if len(d) else float("nan"),
            "one_year_share": float((d == 1).mean()) if len(d) else float("nan")}


def opportunities(flows, reporter: str, year: int, n: int = 8, strategy: str = "balanced") -> pd.DataFrame:
    """Top diversification opportunities of ``reporter`` in ``year`` from the complexity module
    (:func:`tradepulse.indicators.complexity.opportunities`, HS4, world-total rows)."""
    from tradepulse.indicators import complexity as cx

    exports = cx.warehouse_exports(flows, years=[year], digits=4)
    res = cx.complexity(exports, exporter="exporter", product="product", value="export_value", year="year")
    out = cx.opportunities(res, reporter, strategy, year=year, top=n)
    out.insert(out.columns.get_loc("product") + 1, "name", [reference.product_name(p) for p in out["product"]])
    return out


def is_synthetic(flows) -> bool:
    """True when the warehouse holds SYNTHETIC demo rows (source ``demo-synthetic``)."""
    t = as_table(flows, "flows")
    return int(t.filter(t.source.startswith("demo")).count().to_pandas()) > 0


def exporters(warehouse, reporter: str, year: int, province: str | None = None) -> dict | None:
    """The brief's exporter figures (World Bank Exporter Dynamics Database definitions, via
    :mod:`tradepulse.indicators.firms`) for the latest year ≤ ``year`` with firm-level data: number of exporters
    (and the year before), exports, top-5 % share, entry and exit rates, first-year survival of the year
    before's entrants.  None when the warehouse holds no firm-level rows for the selection."""
    from tradepulse.indicators import firms

    def clean(v):
        return None if v is None or v != v else float(v)
    try:   # one selection and aggregation for both the profile and the dynamics
        cells = firms.firm_cells(warehouse, reporter=reporter, province=province)
    except NoDataError:
        return None
    unit = cells.attrs["unit"]
    prof = firms.profile_from_cells(cells, unit)
    prof = prof[prof["year"] <= year]
    if prof.empty:
        return None
    row = prof.iloc[-1]
    y = int(row["year"])
    out = {"year": y, "n": int(row["n_exporters"]), "exports": float(row["exports"]),
           "top5_share": clean(row["top5_share"]), "n_prev": None, "entry_rate": None, "exit_rate": None,
           "entrant_survival": None}
    try:
        dyn = firms.dynamics_from_cells(cells, unit, cells.attrs["panel_years"])
    except NoDataError:
        return out
    d = dyn[dyn["year"] == y]
    if len(d):
        d = d.iloc[0]
        out.update(n_prev=int(d["n_exporters_prev"]), entry_rate=clean(d["entry_rate"]),
                   exit_rate=clean(d["exit_rate"]), entrant_survival=clean(d["entrant_survival"]))
    return out

