"""Diversification of exports across products and across markets.

All indices are computed for every *unit* (a reporter, a province, ...) and year at once, with pandas
group sums and NumPy — no Python loop over countries or products.  Notation: unit j exports x_i ≥ 0 of item
i (a product or a market); X = Σ_i x_i; s_i = x_i / X; the *reference* (by default the sum over all units in
the data — "the world") exports W_i, W = Σ W_i, h_i = W_i / W.  The *universe* is the set of items with
W_i > 0 in that year (N items); n = number of items with x_i > 0 ("active").

* **HHI** = Σ s_i² (Herfindahl 1950, Hirschman 1964).  **Normalised HHI** = (HHI − 1/n) / (1 − 1/n), in
  [0, 1]; convention: n = active items, and 1 when n = 1.
* **Counts**: ``n_active`` (x_i > 0), ``n_above`` (x_i ≥ ``threshold`` USD), ``n_rca`` (Balassa 1965
  RCA_i = s_i / h_i ≥ 1, with a 1e-9 tolerance for rounding).
* **Theil** over the universe, T = (1/N) Σ_i (x_i/μ) ln(x_i/μ), μ = X/N, 0·ln 0 = 0.  Cadot, Carrère &
  Strauss-Kahn (2011, "Export diversification: what's behind the hump?", REStat 93(2)) split it into
  *between* = ln(N/n) (the extensive margin: active vs inactive items) and *within* =
  (1/n) Σ_{active} (x_i/μ_A) ln(x_i/μ_A), μ_A = X/n (the intensive margin); T = within + between exactly.
  With ``groups`` (e.g. HS chapters, or regions for markets) the usual group decomposition is also given:
  T = Σ_g S_g T_g + Σ_g S_g ln(S_g N / N_g), S_g = X_g/X, N_g = universe items in g, T_g the Theil of g
  over its N_g items (``theil_within_groups`` + ``theil_between_groups`` = ``theil``).
* **UNCTAD diversification index** D = ½ Σ_i |s_i − h_i| over the universe (UNCTADstat; 0 = same structure
  as the world, → 1 = totally different).  UNCTAD computes it on SITC 3-digit; here it uses whatever
  product level the data have (pass ``level=`` to truncate HS codes).
* **Hummels–Klenow (2005, "The variety and quality of a nation's exports", AER 95(3))** margins, see
  :func:`hummels_klenow`.

The functions taking FLOWS (:func:`product_diversification`, :func:`market_diversification`,
:func:`hk_margins`) select rows with :mod:`tradepulse.indicators.selection` (same errors everywhere) and
aggregate in Ibis with :func:`~tradepulse.indicators.selection.national_totals` (WLD rule, no double
counting of customs rows); the index arithmetic then runs on the small aggregated frame in pandas/NumPy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from tradepulse.indicators.inputs import Needs
from tradepulse.meta import provenance
from tradepulse import schema
from tradepulse.errors import InputError, NoDataError
from tradepulse.indicators import selection as sel
from tradepulse.i18n import N_
from tradepulse.meta import Note, warn

__all__ = ["cdp_concentration", "cdp_export_concentration", "hk_margins", "hummels_klenow", "indices",
           "market_diversification", "market_regions", "product_diversification", "theil_direct",
           "unctad_concentration", "unctad_indices"]

#: RCA ≥ 1 is tested as RCA ≥ 1 − RCA_TOL so that exact ties (e.g. a unit that is the whole world) are not
#: lost to floating-point rounding.
RCA_TOL = 1e-9

INDEX_COLUMNS = ["total_value", "n_active", "n_universe", "n_above", "n_rca", "hhi", "hhi_norm",
                 "unctad_concentration", "theil", "theil_within", "theil_between", "unctad_diversification"]


def _positive_sums(frame: pd.DataFrame, keys: list[str], value: str, empty_message: str) -> pd.DataFrame:
    """``value`` summed per ``keys`` over rows with a positive numeric value (NaN and ≤ 0 dropped)."""
    missing = [c for c in [*keys, value] if c not in frame.columns]
    if missing:
        raise InputError(f"missing column(s) {missing}; have {list(frame.columns)}")
    df = frame[[*keys, value]].copy()
    df[value] = pd.to_numeric(df[value], errors="coerce")
    df = df[df[value] > 0]
    if df.empty:
        raise NoDataError(empty_message)
    return df.groupby(keys, as_index=False, observed=True)[value].sum()


def _xlogx(r: np.ndarray) -> np.ndarray:
    """r·ln r with 0·ln 0 = 0."""
    r = np.asarray(r, dtype="float64")
    out = np.zeros_like(r)
    pos = r > 0
    out[pos] = r[pos] * np.log(r[pos])
    return out


def _group_labels(items: pd.Series, groups) -> pd.Series:
    if isinstance(groups, int):
        return items.astype(str).str[:groups]
    if callable(groups):
        return items.map(groups)
    if isinstance(groups, Mapping):
        return items.map(groups).fillna("(other)")
    raise TypeError("groups must be an int (code prefix length), a mapping or a callable")


def indices(frame: pd.DataFrame, *, unit: str | Sequence[str] = "reporter", item: str = "product",
            value: str = "value_usd", year: str | None = "year", reference: pd.DataFrame | None = None,
            threshold: float = 0.0, groups: int | Mapping | Callable | None = None,
            exclude_self: bool = False, universe_size: int | None = None) -> pd.DataFrame:
    """Diversification indices of every ``unit`` (and ``year``) across ``item`` (see the module docstring).

    ``frame`` has one row per unit × item (× year); duplicates are summed, NaN and values ≤ 0 dropped.
    ``reference``: a frame with ``year`` (if used), ``item`` and ``value`` giving world exports W_i; default
    the sum of ``frame`` over units.  ``exclude_self``: items are markets named like the first unit column
    (ISO3): each unit's own code is taken out of its universe and its reference (a country is not its own
    export market).  ``universe_size``: the N of the UNCTAD concentration index (default: the universe
    size ``n_universe``; UNCTADstat uses the 261 SITC Rev.3 3-digit groups).  Returns one row per unit
    (× year) with :data:`INDEX_COLUMNS` (+ ``theil_within_groups``, ``theil_between_groups`` when
    ``groups`` is given).
    """
    units = [unit] if isinstance(unit, str) else list(unit)
    tkey = [year] if year else []
    df = _positive_sums(frame, [*tkey, *units, item], value,
                        "no positive values to compute diversification indices on")
    if exclude_self:
        df = df[df[item].astype(str) != df[units[0]].astype(str)]
        if df.empty:
            raise NoDataError("no positive values to other items than the unit itself")

    # reference (world) values per year × item
    if reference is None:
        ref = df.groupby([*tkey, item], as_index=False, observed=True)[value].sum()
    else:
        ref = reference[[*tkey, item, value]].copy()
        ref[value] = pd.to_numeric(ref[value], errors="coerce")
        ref = ref[ref[value] > 0].groupby([*tkey, item], as_index=False, observed=True)[value].sum()
        # items the unit exports but the reference lacks still belong to the universe
        extra = df[[*tkey, item]].drop_duplicates().merge(ref[[*tkey, item]], how="left", indicator=True)
        extra = extra[extra["_merge"] == "left_only"].drop(columns="_merge")
        if len(extra):
            ref = pd.concat([ref, extra.assign(**{value: 0.0})], ignore_index=True)
    ref = ref.rename(columns={value: "_W"})
    rkey = list(tkey)
    if exclude_self:   # one reference per unit: the world without the unit's own market
        us = df[[*tkey, *units]].drop_duplicates()
        ref = us.merge(ref, on=tkey, how="inner") if tkey else us.merge(ref, how="cross")
        ref = ref[ref[item].astype(str) != ref[units[0]].astype(str)]
        rkey = [*tkey, *units]
    wsum = ref.groupby(rkey, observed=True)["_W"].transform("sum") if rkey else ref["_W"].sum()
    ref["_h"] = ref["_W"] / wsum
    ref["_N"] = ref.groupby(rkey, observed=True)["_W"].transform("size") if rkey else len(ref)

    df = df.merge(ref, on=[*rkey, item], how="left")
    ukeys = [*tkey, *units]
    g = df.groupby(ukeys, observed=True, sort=True)
    X = g[value].transform("sum")
    n = g[value].transform("size")
    s = df[value] / X
    df["_s2"] = s ** 2
    df["_rca"] = (s / df["_h"]) >= 1.0 - RCA_TOL
    df["_above"] = df[value] >= threshold
    df["_within"] = _xlogx(df[value] / (X / n)) / n
    df["_absdev"] = np.abs(s - df["_h"]) - df["_h"]   # + Σ_universe h_i (= 1) added below
    out = df.groupby(ukeys, observed=True, sort=True).agg(
        total_value=(value, "sum"), n_active=(value, "size"), n_universe=("_N", "first"),
        n_above=("_above", "sum"), n_rca=("_rca", "sum"), hhi=("_s2", "sum"),
        theil_within=("_within", "sum"), _absdev=("_absdev", "sum")).reset_index()
    na = out["n_active"].to_numpy(dtype="float64")
    out["hhi_norm"] = np.where(na > 1, (out["hhi"] - 1 / na) / (1 - 1 / np.where(na > 1, na, 2)), 1.0)
    out["unctad_concentration"] = unctad_concentration(
        out["hhi"].to_numpy(), universe_size if universe_size is not None else out["n_universe"].to_numpy())
    out["theil_between"] = np.log(out["n_universe"] / na)
    out["theil"] = out["theil_within"] + out["theil_between"]
    out["unctad_diversification"] = (out.pop("_absdev") + 1.0) / 2
    out["n_above"] = out["n_above"].astype("int64")
    out["n_rca"] = out["n_rca"].astype("int64")

    if groups is not None:
        df["_g"] = _group_labels(df[item], groups)
        ref["_g"] = _group_labels(ref[item], groups)
        Ng = ref.groupby([*rkey, "_g"], observed=True).size().rename("_Ng").reset_index()
        gg = df.groupby([*ukeys, "_g"], observed=True)
        Xg, ng = gg[value].transform("sum"), gg[value].transform("size")
        df = df.merge(Ng, on=[*rkey, "_g"], how="left") if rkey else \
            df.assign(_Ng=df["_g"].map(Ng.set_index("_g")["_Ng"]))
        df["_Xg"], df["_ng"], df["_X"] = Xg.to_numpy(), ng.to_numpy(), X.to_numpy()
        # Σ_g S_g T_g with T_g = ln(N_g/n_g) + (1/n_g) Σ_{i∈g} r ln r, r = x/(X_g/n_g); per row weights S_g/n_g
        Sg = df["_Xg"] / df["_X"]
        df["_tw"] = Sg * (_xlogx(df[value] / (df["_Xg"] / df["_ng"])) / df["_ng"]
                          + np.log(df["_Ng"] / df["_ng"]) / df["_ng"])
        df["_tb"] = Sg * np.log(Sg * df["_N"] / df["_Ng"]) / df["_ng"]
        gsum = df.groupby(ukeys, observed=True, sort=True)[["_tw", "_tb"]].sum().reset_index()
        out = out.merge(gsum.rename(columns={"_tw": "theil_within_groups", "_tb": "theil_between_groups"}),
                        on=ukeys, how="left")
    cols = [*ukeys, *INDEX_COLUMNS] + (["theil_within_groups", "theil_between_groups"] if groups is not None else [])
    return out[cols]


def unctad_concentration(hhi, n):
    """UNCTADstat's concentration index H = (√HHI − √(1/N)) / (1 − √(1/N)) (UNCTAD/STAT/IE/2019/2, p. 4;
    UNCTAD Handbook of Statistics): N = the number of products of the classification (261 SITC Rev.3
    3-digit groups in UNCTADstat), not the number exported; 1 when N = 1."""
    hhi = np.asarray(hhi, dtype="float64")
    n = np.asarray(n, dtype="float64")
    r = np.sqrt(1.0 / np.where(n > 0, n, 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 1, (np.sqrt(hhi) - r) / (1.0 - r), 1.0)


def theil_direct(values: np.ndarray) -> float:
    """Theil index of a full vector (zeros included) by the textbook formula — used to cross-check."""
    v = np.asarray(values, dtype="float64")
    mu = v.mean()
    return float(np.mean(_xlogx(v / mu)))


# ---------------------------------------------------------------- Hummels–Klenow
def hummels_klenow(frame: pd.DataFrame, *, exporter: str = "reporter", market: str = "partner",
                   product: str | None = "product", value: str = "value_usd", year: str | None = "year",
                   reference: str = "rest", by_market: bool = False, aggregate: str = "markets",
                   weights: str = "logmean") -> pd.DataFrame:
    """Hummels & Klenow (2005) extensive and intensive margins of every exporter (× year).

    HK 2005 (AER 95(3), section I, eqs. 1–3) define the margins of exporter j *in one importing market m*
    relative to a reference k — the rest of the world's exports to m (``reference="rest"``; ``"world"``
    keeps j in the reference).  With I the products m imports from k, I_jm ⊆ I those j sells to m::

        EM_jm = Σ_{i∈I_jm} X_kmi / Σ_{i∈I} X_kmi      (extensive margin)
        IM_jm = Σ_{i∈I_jm} X_jmi / Σ_{i∈I_jm} X_kmi   (intensive margin)
        OM_jm = EM_jm · IM_jm = X_jm / X_km           (j's exports to m relative to k's)

    ``by_market=True`` returns these per market.  ``aggregate="markets"`` (default) then combines the
    markets by a weighted geometric mean: ln EM_j = Σ_m a_jm ln EM_jm (same for IM, OM, so
    OM_j = EM_j · IM_j still holds).  ``weights="logmean"`` (default, the Sato–Vartia form HK 2005 use, as
    documented in docs/indicators.md: the paper's text could not be consulted here, see there):
    a_jm = L(s_jm, s_km) / Σ_m' L(s_jm', s_km'), L(a, b) = (a − b)/(ln a − ln b), L(a, a) = a, with
    s_jm = X_jm / Σ_m X_jm and s_km = X_km / Σ_m X_km j's and the reference's shares of their exports going
    to m (markets m ≠ j).  ``weights="reference"`` (the earlier tradepulse form): a_jm = X_km / Σ_{m served}
    X_km.  Markets j does not serve (EM_jm = 0, so L = 0) get no weight and are counted in
    ``n_markets_unserved``.  ``aggregate="pooled"`` keeps the earlier form: cells c = (market, product)
    pooled over all markets, EM_j = Σ_{c∈C_j} X_kc / Σ_{c∈C} X_kc, IM_j = X_j / Σ_{c∈C_j} X_kc.
    With ``product=None`` cells are markets only (pooled).  ``frame`` must be bilateral and hold all
    exporters (the reference is built from it).  IM is ∞ when nobody else serves j's cells (``rest``).
    """
    if reference not in ("rest", "world"):
        raise InputError(f"reference must be 'rest' or 'world', not {reference!r}")
    if aggregate not in ("markets", "pooled"):
        raise InputError(f"aggregate must be 'markets' (HK 2005) or 'pooled', not {aggregate!r}")
    _check_hk_weights(weights)
    if product is None:
        aggregate = "pooled"
    tkey = [year] if year else []
    cell = [market] + ([product] if product else [])
    df = _positive_sums(frame, [*tkey, exporter, *cell], value,
                        "no positive bilateral values for Hummels–Klenow margins")
    world_c = df.groupby([*tkey, *cell], observed=True)[value].transform("sum")
    df["_ref"] = world_c - df[value] if reference == "rest" else world_c
    scope = _hk_scope(tkey, market, by_market, aggregate)
    out = df.groupby([*scope, exporter], observed=True).agg(export_value=(value, "sum"),
                                                             ref_served=("_ref", "sum"),
                                                             n_cells=(value, "size")).reset_index()
    return _hk_margins(out, tkey, exporter, market, scope, reference, by_market, aggregate, weights)


HK_WEIGHTS = ("logmean", "reference")


def _check_hk_weights(weights: str) -> None:
    if weights not in HK_WEIGHTS:
        raise InputError(f"weights must be 'logmean' (HK 2005, Sato–Vartia) or 'reference', not {weights!r}")


def _log_mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Logarithmic mean L(a, b) = (a − b)/(ln a − ln b); L(a, a) = a; L(0, b) = L(a, 0) = 0."""
    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (a - b) / (np.log(a) - np.log(b))
    out = np.where(np.isclose(a, b, rtol=1e-12, atol=0.0), a, out)
    return np.where((a > 0) & (b > 0), out, 0.0)


def _hk_scope(tkey: list[str], market: str, by_market: bool, aggregate: str) -> list[str]:
    """Where the reference totals are taken: per (year, market) for per-market margins, else per year."""
    return [*tkey, market] if by_market or aggregate == "markets" else tkey


def _hk_margins(out: pd.DataFrame, tkey: list[str], exporter: str, market: str, scope: list[str],
                reference: str, by_market: bool, aggregate: str, weights: str = "logmean",
                world: pd.DataFrame | None = None) -> pd.DataFrame:
    """Margins from the served sums per scope × exporter (``export_value`` X_j, ``ref_served`` Σ_{c∈C_j} X_kc,
    ``n_cells``).  The world total per scope Σ_{c∈C} X_wc equals Σ_j X_j over the exporters in scope, or is
    summed from ``world`` (``_W`` per ``tkey`` × market, every market with W > 0) when ``out`` holds only
    some exporters."""
    value = "export_value"
    if world is not None:
        wtot = world.groupby(scope, observed=True)["_W"].sum().reset_index() if scope else \
            pd.DataFrame({"_W": [world["_W"].sum()]})
    else:
        wtot = out.groupby(scope, observed=True)[value].sum().rename("_W").reset_index() if scope else \
            pd.DataFrame({"_W": [out[value].sum()]})
    out = out.merge(wtot, on=scope, how="left") if scope else out.assign(_W=float(wtot["_W"].iloc[0]))
    denom = out["_W"] - out["export_value"] if reference == "rest" else out["_W"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["extensive_margin"] = out["ref_served"] / denom
        out["intensive_margin"] = out["export_value"] / out["ref_served"]
        out["overall_share"] = out["export_value"] / denom
    out = out.rename(columns={"_W": "world_value"})
    out["reference_value"] = denom
    cols = ["export_value", "n_cells", "ref_served", "reference_value", "extensive_margin",
            "intensive_margin", "overall_share"]
    if by_market or aggregate == "pooled":
        return out[[*scope, exporter, *cols]]
    return _hk_geometric(out, wtot, tkey, exporter, market, reference, weights)


def _hk_served_sql(cells, tkey: list[str], exporter: str | list[str], cell: list[str], scope: list[str],
                   reference: str) -> pd.DataFrame:
    """The served sums of :func:`hummels_klenow` computed in the database from the positive cells (an Ibis
    table of exporter × cell values): only scope × exporter rows reach pandas."""
    cw = cells.group_by([*tkey, *cell]).aggregate(_wc=cells.value_usd.sum())
    j = cells.inner_join(cw, [*tkey, *cell])
    ref = j._wc - j.value_usd if reference == "rest" else j._wc
    j = j.mutate(_ref=ref)
    ex = [exporter] if isinstance(exporter, str) else list(exporter)
    return j.group_by([*scope, *ex]).aggregate(export_value=j.value_usd.sum(), ref_served=j._ref.sum(),
                                               n_cells=j.value_usd.count()).to_pandas()


def _hk_geometric(per: pd.DataFrame, wtot: pd.DataFrame, tkey: list[str], exporter: str, market: str,
                  reference: str, weights: str = "logmean") -> pd.DataFrame:
    """Weighted geometric mean of per-market margins across the markets each exporter serves (weights: see
    :func:`hummels_klenow`)."""
    ukeys = [*tkey, exporter]
    per = per.copy()
    # s_jm: j's exports to m over all its exports to other countries (before dropping any market)
    per["_sj"] = per["export_value"] / per.groupby(ukeys, observed=True)["export_value"].transform("sum")
    if weights == "logmean":
        # s_km: the reference's exports to m over its exports to every market m ≠ j (unserved ones included)
        wt = wtot.groupby(tkey, observed=True)["_W"].sum().rename("_Wall").reset_index() if tkey else None
        tot = per[ukeys].drop_duplicates()
        tot = tot.merge(wt, on=tkey, how="left") if tkey else tot.assign(_Wall=float(wtot["_W"].sum()))
        own = wtot.rename(columns={market: exporter, "_W": "_Wown"})
        tot = tot.merge(own[[*tkey, exporter, "_Wown"]], on=ukeys, how="left").fillna({"_Wown": 0.0})
        xj = per.groupby(ukeys, observed=True)["export_value"].sum().rename("_Xj").reset_index()
        tot = tot.merge(xj, on=ukeys, how="left")
        tot["_Kall"] = tot["_Wall"] - tot["_Wown"] - (tot["_Xj"] if reference == "rest" else 0.0)
        per = per.merge(tot[[*ukeys, "_Kall"]], on=ukeys, how="left")
    per = per[(per["extensive_margin"] > 0) & np.isfinite(per["intensive_margin"])
              & (per["reference_value"] > 0)].copy()
    if weights == "logmean":
        per["_a"] = _log_mean(per["_sj"].to_numpy(), (per["reference_value"] / per["_Kall"]).to_numpy())
    else:
        per["_a"] = per["reference_value"]
    per["_w"] = per["_a"] / per.groupby(ukeys, observed=True)["_a"].transform("sum")
    for m in ("extensive_margin", "intensive_margin", "overall_share"):
        per["_l" + m] = per["_w"] * np.log(per[m])
    out = per.groupby(ukeys, observed=True, sort=True).agg(
        export_value=("export_value", "sum"), n_cells=("n_cells", "sum"), n_markets=(market, "size"),
        reference_value=("reference_value", "sum"), _lem=("_lextensive_margin", "sum"),
        _lim=("_lintensive_margin", "sum"), _lom=("_loverall_share", "sum")).reset_index()
    out["extensive_margin"] = np.exp(out.pop("_lem"))
    out["intensive_margin"] = np.exp(out.pop("_lim"))
    out["overall_share"] = np.exp(out.pop("_lom"))
    n_all = wtot.groupby(tkey, observed=True)[market].size().rename("_nm").reset_index() if tkey else None
    out = out.merge(n_all, on=tkey, how="left") if tkey else out.assign(_nm=len(wtot))
    # j's own country is not one of its markets; a market only j serves (reference "rest") has no margin
    pairs = set(map(tuple, wtot[[*tkey, market]].astype(str).to_numpy()))
    own = [tuple(map(str, k)) in pairs for k in out[[*tkey, exporter]].to_numpy()]
    out["n_markets_unserved"] = (out.pop("_nm") - out["n_markets"] - np.asarray(own, dtype="int64")) \
        .clip(lower=0).astype("int64")
    return out[[*ukeys, "export_value", "n_cells", "n_markets", "n_markets_unserved", "reference_value",
                "extensive_margin", "intensive_margin", "overall_share"]]


# ---------------------------------------------------------------- market regions
REGION_KINDS = ("region", "continent", "subregion", "wdi_region")


def market_regions(kind: str = "region") -> dict[str, str]:
    """ISO3 → region name from atlas-common-data's location groups (``region``: Africa, Americas, Asia,
    Europe, Oceania; ``continent``; ``subregion`` (UN M49 sub-regions); ``wdi_region``).  Each country is
    in exactly one group of a kind; codes without a group fall into ``(other)`` in the decomposition."""
    import atlas_common_data as acd

    from tradepulse import reference
    from tradepulse.errors import UnknownNameError

    if kind not in REGION_KINDS:
        raise UnknownNameError("region kind", kind, list(REGION_KINDS))
    m = acd.load_group_members()
    m = m[m["group_type"] == kind]
    c = reference.countries()[["iso3", "m49"]]
    j = m.merge(c, left_on="country_id", right_on="m49")
    return dict(zip(j["iso3"], j["group_name"].astype(str)))


# ---------------------------------------------------------------- FLOWS wrappers
def _level(t, level: int | None):
    if level is None:
        return t
    if level not in (2, 4, 6):
        raise InputError(f"HS level must be 2, 4 or 6, not {level}")
    return sel.unkeyed(t.mutate(product=t["product"].substr(0, level)))


@provenance
def product_diversification(data, *, reporter=None, years=None, flow: str = "export", partner=None,
                            product=None, province=None, level: int | None = None, threshold: float = 0.0,
                            groups: int | Mapping | Callable | None = None, groups_file: str | None = None,
                            product_groups_file: str | None = None) -> pd.DataFrame:
    """Product diversification of ``reporter`` (all reporters when None) from FLOWS, per year.

    Units are reporters, or (reporter, province) when ``province`` is given.  Reference (world) shares,
    RCA and the Theil universe come from all reporters' flows of the same selection (partner / product
    filters applied, world totals preferred by the WLD rule).  ``level`` truncates HS codes (2/4/6 digits);
    ``groups=2`` adds the Theil decomposition between/within HS chapters.
    """
    needs = Needs(level=2, bilateral=partner is not None or province is not None, provincial=province is not None,
                  what="product diversification")
    common = dict(years=years, flow=flow, partner=partner, product=product, strict_years=False,
                  groups_file=groups_file, product_groups_file=product_groups_file, needs=needs)
    # keyed: products are summed by their integer key, decoded on the sums (issue 19)
    ref_t, chosen = sel.select_flows(data, keyed=True, return_selection=True, **common)
    ref_t = _level(ref_t, level)
    ref = sel.national_totals(ref_t, ["year", "product"], allow_world=partner is None,
                              single_layer=chosen.single_layer).to_pandas()
    if province is not None or reporter is not None:
        unit_t, chosen = sel.select_flows(data, reporter=reporter, province=province, keyed=True,
                                          return_selection=True, **common)
        unit_t = _level(unit_t, level)
    else:
        unit_t = ref_t
    if province is not None:
        u = unit_t.group_by(["year", "reporter", "province", "product"]).aggregate(
            value_usd=unit_t.value_usd.sum()).to_pandas()
        units = ["reporter", "province"]
    else:
        u = sel.national_totals(unit_t, ["year", "reporter", "product"], allow_world=partner is None,
                                single_layer=chosen.single_layer).to_pandas()
        units = ["reporter"]
    out = indices(u, unit=units, item="product", reference=ref, threshold=threshold, groups=groups)
    return out.sort_values(["year", *units]).reset_index(drop=True)


@provenance
def market_diversification(data, *, reporter=None, years=None, flow: str = "export", product=None,
                           province=None, partner=None, threshold: float = 0.0,
                           groups: str | Mapping | Callable | None = None, drop_self: bool = True,
                           groups_file: str | None = None, product_groups_file: str | None = None) -> pd.DataFrame:
    """Market (partner) diversification of ``reporter`` from bilateral FLOWS, per year.

    Items are partners; WLD rows are never used (WLD rule).  ``drop_self`` drops reporter == partner rows.
    The reference W_m is the sum over all reporters in the data (reporters' own declarations, so "the
    world" means the reporting world).  ``product`` restricts to a product group; ``partner`` to a group of
    markets (then the universe is that group).  ``groups`` (a :data:`REGION_KINDS` name such as
    ``"region"``, or a mapping partner → group) adds the Theil split between / within market regions.
    """
    needs = Needs(level=2 if product is not None else 0, bilateral=True, provincial=province is not None,
                  what="market diversification")
    common = dict(years=years, flow=flow, product=product, partner=partner, world="exclude",
                  strict_years=False, groups_file=groups_file, product_groups_file=product_groups_file,
                  needs=needs)
    ref_t, chosen = sel.select_flows(data, return_selection=True, **common)
    if drop_self:
        ref_t = ref_t.filter(ref_t.reporter != ref_t.partner)
    ref = sel.national_totals(ref_t, ["year", "partner"], allow_world=False,
                              single_layer=chosen.single_layer).to_pandas()
    if province is not None or reporter is not None:
        unit_t, chosen = sel.select_flows(data, reporter=reporter, province=province, return_selection=True,
                                          **common)
        if drop_self:
            unit_t = unit_t.filter(unit_t.reporter != unit_t.partner)
    else:
        unit_t = ref_t
    if province is not None:
        u = unit_t.group_by(["year", "reporter", "province", "partner"]).aggregate(
            value_usd=unit_t.value_usd.sum()).to_pandas()
        units = ["reporter", "province"]
    else:
        u = sel.national_totals(unit_t, ["year", "reporter", "partner"], allow_world=False,
                                single_layer=chosen.single_layer).to_pandas()
        units = ["reporter"]
    if u.empty:
        raise NoDataError("no bilateral rows for this selection (market diversification needs partners "
                          f"other than {schema.WORLD})")
    if isinstance(groups, str):
        groups = market_regions(groups)
    out = indices(u, unit=units, item="partner", reference=ref, threshold=threshold, groups=groups,
                  exclude_self=drop_self)
    return out.sort_values(["year", *units]).reset_index(drop=True)


def _hk_focus_sql(t, tf, exporter: list[str], cell: list[str], market: list[str], scope: list[str],
                  reference: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The served sums of the focus exporters' rows ``tf`` against the reference built from all rows ``t`` —
    two queries over all years, for a one-layer selection (cells are plain sums, see :func:`national_totals`).

    Only the reference values of the cells the focus serves are needed: X_kc = Σ_k x_kc for c in C_j (a
    semi-join of all rows with the focus cells), so the cells of the whole world are never grouped.  The world
    total per year × market W_m (the denominators, the markets' shares and the market count of the aggregate)
    is a plain sum of the rows.  Both plain sums equal the sums of the positive cells (what the cell-by-cell
    path adds) when no value is negative: the second frame also returns the smallest value (``_lo``) per year ×
    market — of every row — so that the caller can check it.  Returns (served per scope × focus exporter,
    W per year × market).
    """
    fc = sel.national_totals(tf, ["year", *exporter, *cell], allow_world=False, single_layer=True)
    fc = fc.filter(fc.value_usd > 0)
    served_cells = fc.select("year", *cell).distinct()
    w = t.semi_join(served_cells, ["year", *cell])
    cw = w.group_by(["year", *cell]).aggregate(_wc=w.value_usd.sum())   # Σ rows = Σ positive cells if no x < 0
    j = fc.inner_join(cw, ["year", *cell])
    j = j.mutate(_ref=j._wc - j.value_usd if reference == "rest" else j._wc)
    served = j.group_by([*scope, *exporter]).aggregate(export_value=j.value_usd.sum(), ref_served=j._ref.sum(),
                                                       n_cells=j.value_usd.count()).to_pandas()
    world = t.group_by(["year", *market]).aggregate(_W=t.value_usd.sum(), _lo=t.value_usd.min()).to_pandas()
    return served, world


def _hk_storage_served(data, chosen, years, flow: str, product, product_groups_file, level: int | None,
                       reference: str, *, scope_market: bool, use_products: bool) -> pd.DataFrame | None:
    """Every exporter's served sums read from the slim BACI storage (:class:`~tradepulse.indicators.hk_storage.
    HkStorage`), or None when the selected dataset is not all slim (the caller keeps the general path)."""
    from tradepulse.indicators.hk_storage import HkStorage

    prefixes = sel.resolve_products(product, product_groups_file) if product is not None else None
    if prefixes is not None and not all(p.isdigit() and len(p) <= 6 for p in prefixes):
        return None
    plan = HkStorage.plan(data, chosen.dataset, years=sel.parse_years(years), flows=tuple(sel._split(flow)))
    if plan is None:
        return None
    return plan.served(scope_market=scope_market, use_products=use_products, reference=reference, level=level,
                       prefixes=prefixes)


@provenance
def hk_margins(data, *, reporter=None, years=None, flow: str = "export", product=None, level: int | None = None,
               reference: str = "rest", by_market: bool = False, use_products: bool = True,
               aggregate: str = "markets", weights: str = "logmean", groups_file: str | None = None,
               product_groups_file: str | None = None) -> pd.DataFrame:
    """Hummels–Klenow margins from bilateral FLOWS of all reporters (see :func:`hummels_klenow`).

    Cells are (partner, product) (``use_products=False``: partners only, pooled).  ``aggregate``:
    ``markets`` (HK 2005: per importing market, then a weighted geometric mean with ``weights``
    ``logmean`` (Sato–Vartia, default) or ``reference``) or ``pooled``.
    ``reporter`` filters the result (validated first); the reference is always built from every reporter.

    Everything is summed in the database; only scope × exporter sums reach pandas.  With ``reporter`` on a
    one-layer selection without negative values, only the reference values of the reporter's cells are summed
    (:func:`_hk_focus_sql`, issue 19: one pass over the flows of all years); otherwise every exporter's served
    sums, one year at a time.  Without ``reporter`` on a dataset stored as slim BACI loads only, every exporter's
    served sums are read from the storage by numbers (:mod:`tradepulse.indicators.hk_storage`, issue 19).  All
    give the same margins (sums in another order: equal to ~1e-15).
    """
    needs = Needs(level=2 if use_products else 0, bilateral=True, what="Hummels–Klenow margins")
    common = dict(years=years, flow=flow, product=product, world="exclude", strict_years=False,
                  groups_file=groups_file, product_groups_file=product_groups_file, needs=needs)
    t, chosen = sel.select_flows(data, keyed=True, return_selection=True, **common)
    t = _level(t, level)
    t = t.filter(t.reporter != t.partner)
    tf = None
    if reporter is not None:   # validation (clear errors) and the focus rows
        tf = sel.select_flows(data, reporter=reporter, keyed=True, **common)
        tf = _level(tf, level)
        tf = tf.filter(tf.reporter != tf.partner)
    if reference not in ("rest", "world"):
        raise InputError(f"reference must be 'rest' or 'world', not {reference!r}")
    if aggregate not in ("markets", "pooled"):
        raise InputError(f"aggregate must be 'markets' (HK 2005) or 'pooled', not {aggregate!r}")
    _check_hk_weights(weights)
    aggregate = aggregate if use_products else "pooled"
    # a keyed table's cells are (partner key, product key) and its exporters reporter keys: the database
    # groups and joins integers; the codes are decoded on the served sums (issue 19)
    keyed = sel.is_keyed(t)
    market = list(sel.COUNTRY_KEYS["partner"]) if keyed else ["partner"]
    exporter = list(sel.COUNTRY_KEYS["reporter"]) if keyed else ["reporter"]
    cell = market + ((list(sel.KEY_COLUMNS) if keyed else ["product"]) if use_products else [])
    scope = _hk_scope(["year"], "partner", by_market, aggregate)
    scope_db = [c for k in scope for c in (market if k == "partner" else [k])]
    served = world = None
    if tf is None and level in (None, 2, 4, 6):   # every exporter: from the slim BACI storage when it holds all
        served = _hk_storage_served(data, chosen, years, flow, product, product_groups_file, level, reference,
                                    scope_market="partner" in scope, use_products=use_products)
    if tf is not None and chosen.single_layer:
        served, world = _hk_focus_sql(t, tf, exporter, cell, market, scope_db, reference)
        if keyed:
            served = sel.decode_countries(served, [*scope, "reporter"])
            world = sel.decode_countries(world, ["year", "partner"])
        if served.empty or (world["_lo"] < 0).any():   # negative values: cells must be summed one by one
            served = world = None
        else:   # the markets with a positive cell
            world = world.loc[world["_W"] > 0, ["year", "partner", "_W"]].reset_index(drop=True)
    if served is None:
        # in the database, one year at a time (bounded memory): only year × market × exporter sums reach pandas
        parts = []
        for y in sorted(t.select("year").distinct().to_pandas()["year"]):
            ty = t.filter(t.year == int(y))
            cells = sel.national_totals(ty, ["year", *exporter, *cell], allow_world=False,
                                        single_layer=chosen.single_layer)
            part = _hk_served_sql(cells.filter(cells.value_usd > 0), ["year"], exporter, cell, scope_db,
                                  reference)
            if keyed:
                part = sel.decode_countries(part, [*scope, "reporter"])
            parts.append(part)
        served = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if served.empty:
        raise NoDataError("no bilateral rows for Hummels–Klenow margins")
    served["n_cells"] = served["n_cells"].astype("int64")
    out = _hk_margins(served, ["year"], "reporter", "partner", scope, reference, by_market, aggregate, weights,
                      world=world)
    if reporter is not None:
        reps = [r.upper() for r in sel._split(reporter)]
        out = out[out["reporter"].isin(reps)]
    out = out.sort_values([c for c in ["year", "reporter", "partner"] if c in out]).reset_index(drop=True)
    if "n_markets_unserved" in out and (out["n_markets_unserved"] > 0).any():
        warn(out, Note(N_("Hummels–Klenow margins are geometric means over the markets each exporter serves; "
                          "markets it does not serve (n_markets_unserved) have EM = 0 and are left out.")))
    return out


# ---------------------------------------------------------------- UNCTADstat on SITC Rev.3 3-digit
def _hs_level_frames(data, reporter, common: dict, partner) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Unit (reporter × product) and world (product) export values at the finest common HS level (6 or 4)."""
    ref_t = sel.select_flows(data, **common)
    ref = sel.national_totals(ref_t, ["year", "product"], allow_world=partner is None).to_pandas()
    unit_t = sel.select_flows(data, reporter=reporter, **common) if reporter is not None else ref_t
    u = sel.national_totals(unit_t, ["year", "reporter", "product"], allow_world=partner is None).to_pandas()
    lengths = set(ref["product"].astype(str).str.len()) | set(u["product"].astype(str).str.len())
    level = 6 if lengths == {6} else 4
    if min(lengths) < 4:
        raise InputError("UNCTAD indices on SITC need HS codes of at least 4 digits; the selection holds "
                         f"{min(lengths)}-digit codes")
    if level == 4:
        ref = ref.assign(product=ref["product"].astype(str).str[:4]).groupby(
            ["year", "product"], as_index=False)["value_usd"].sum()
        u = u.assign(product=u["product"].astype(str).str[:4]).groupby(
            ["year", "reporter", "product"], as_index=False)["value_usd"].sum()
    return u, ref, level


def unctad_indices(data, *, reporter=None, years=None, flow: str = "export", partner=None, product=None,
                   hs_revision: str | None = None, groups_file: str | None = None,
                   product_groups_file: str | None = None) -> pd.DataFrame:
    """UNCTADstat's product concentration and diversification indices on SITC Rev.3 3-digit, per year.

    HS export values (HS6, or HS4 when that is all the data hold) are converted to the 261 SITC Rev.3
    3-digit groups with atlas-common-data's conversion weights (:mod:`tradepulse.reference.sitc`), then
    (UNCTAD/STAT/IE/2019/2, p. 4; UNCTAD Handbook of Statistics, "Concentration and diversification
    indices"):

    * ``unctad_concentration`` H_j = (√Σ_i s_ij² − √(1/N)) / (1 − √(1/N)), N = 261;
    * ``unctad_diversification`` S_j = ½ Σ_i |s_ij − h_i|, h_i the world's shares (all reporters in data);
    * ``n_products_unctad``: groups exported above 100,000 USD or 0.3 % of the country's exports;
    * ``hhi_norm`` (HHI − 1/n)/(1 − 1/n) over the n groups exported — a separate, differently named index.

    ``hs_revision``: the HS vintage of the product codes (default: the ``hs_revision`` the rows carry;
    ``UNKNOWN`` is read as HS1992 with a warning).
    """
    from tradepulse.reference import sitc

    common = {"years": years, "flow": flow, "partner": partner, "product": product, "strict_years": False,
              "groups_file": groups_file, "product_groups_file": product_groups_file}
    notes: list[str] = []
    if hs_revision is None:
        t = sel.select_flows(data, **common)
        revs = t.group_by("hs_revision").aggregate(v=t.value_usd.sum()).to_pandas()
        revs = revs.dropna(subset=["hs_revision"]).sort_values("v", ascending=False)
        hs_revision = str(revs["hs_revision"].iloc[0]) if len(revs) else "UNKNOWN"
        if len(revs) > 1:
            notes.append(Note(N_("the selection mixes HS revisions {revisions}; all codes were converted as "
                                 "{revision}"), revisions=", ".join(map(str, revs["hs_revision"])),
                              revision=hs_revision))
    if hs_revision not in sitc.ATLAS_HS:
        notes.append(Note(N_("HS revision {revision} is not known: codes converted to SITC as HS1992"),
                          revision=hs_revision))
        hs_revision = "HS1992"
    u, ref, level = _hs_level_frames(data, reporter, common, partner)
    if level == 4:
        notes.append(Note(N_("the data hold HS4 codes: HS4 → SITC3 weights are the unweighted mean of each "
                             "heading's HS6 weights (UNCTADstat converts HS6 trade)")))
    u3, _ = sitc.convert_to_sitc3(u, revision=hs_revision)
    r3, lost_r = sitc.convert_to_sitc3(ref, revision=hs_revision)
    if lost_r > 0.001:
        notes.append(Note(N_("{share:.1%} of world export value has HS codes without SITC weights (dropped)"),
                          share=lost_r))
    out = indices(u3, unit="reporter", item="product", reference=r3, universe_size=sitc.N_SITC3)
    share = u3["value_usd"] / u3.groupby(["year", "reporter"])["value_usd"].transform("sum")
    big = u3.assign(_big=(u3["value_usd"] > 100_000) | (share > 0.003))
    cnt = big.groupby(["year", "reporter"])["_big"].sum().rename("n_products_unctad").reset_index()
    out = out.merge(cnt, on=["year", "reporter"], how="left")
    out = out[["year", "reporter", "total_value", "n_active", "n_products_unctad", "hhi", "unctad_concentration",
               "hhi_norm", "unctad_diversification"]].sort_values(["year", "reporter"]).reset_index(drop=True)
    out = out.rename(columns={"n_active": "n_sitc3_active"})
    for n in notes:
        warn(out, n)
    return out


# ---------------------------------------------------------------- UN CDP refined export concentration
def cdp_concentration(frame: pd.DataFrame, *, exporter: str = "reporter", market: str = "partner",
                      product: str = "product", value: str = "value_usd", year: str | None = "year",
                      n_products: int | None = None) -> pd.DataFrame:
    """The UN CDP refined export concentration index: a Theil index over product × market cells.

    Bruckner (2023), "Measuring export concentration for identifying least developed countries", CDP
    Background Paper 59 (ST/ESA/2023/CDP/59): one Theil index covering both the basket of products and the
    set of export markets.  With x_pm exporter j's exports of product p to market m, the universe the
    N = N_P · N_M cells (N_P products of the classification — ``n_products``, default all products in
    the data; N_M markets = every market in the data except j itself), s_pm = x_pm / X::

        T_j = (1/N) Σ_pm (x_pm/μ) ln(x_pm/μ) = ln N + Σ_pm s_pm ln s_pm,   μ = X/N   (0 ≤ T ≤ ln N)

    Also returned: ``theil_products`` = ln N_P + Σ_p s_p ln s_p and ``theil_markets`` (the one-dimension
    indices) and ``cdp_concentration_norm`` = T / ln N in [0, 1].  The CDP's own min–max rescaling of the
    index for the LDC criteria uses bounds set per triennial review, which are not shipped.
    """
    tkey = [year] if year else []
    df = _positive_sums(frame, [*tkey, exporter, market, product], value,
                        "no positive bilateral values for the CDP concentration index")
    df = df[df[exporter].astype(str) != df[market].astype(str)]
    mk = df.groupby(tkey, observed=True)[market].nunique() if tkey else df[market].nunique()
    pk = df.groupby(tkey, observed=True)[product].nunique() if tkey else df[product].nunique()
    ukeys = [*tkey, exporter]
    X = df.groupby(ukeys, observed=True)[value].transform("sum")
    df["_sls"] = _xlogx(df[value] / X)
    cells = df.groupby(ukeys, observed=True).agg(total_value=(value, "sum"), n_cells=(value, "size"),
                                                 _sls=("_sls", "sum")).reset_index()

    def margin(key: str) -> pd.Series:
        m = df.groupby([*ukeys, key], observed=True)[value].sum().reset_index()
        m["_x"] = _xlogx(m[value] / m.groupby(ukeys, observed=True)[value].transform("sum"))
        return m.groupby(ukeys, observed=True)["_x"].sum()

    sp_, sm_ = margin(product).rename("_sp"), margin(market).rename("_sm")
    cells = cells.merge(sp_.reset_index(), on=ukeys).merge(sm_.reset_index(), on=ukeys)
    if tkey:
        cells["_NM"] = cells[year].map(mk).to_numpy()
        cells["_NP"] = n_products if n_products else cells[year].map(pk).to_numpy()
    else:
        cells["_NM"], cells["_NP"] = mk, (n_products or pk)
    # j's own country is not one of its markets
    own = cells[exporter].isin(df[market].unique())
    cells["_NM"] = cells["_NM"] - own.astype("int64")
    lnN = np.log(cells["_NP"].astype(float) * cells["_NM"].astype(float))
    cells["cdp_concentration"] = lnN + cells.pop("_sls")
    cells["cdp_concentration_norm"] = np.where(lnN > 0, cells["cdp_concentration"] / lnN, 1.0)
    cells["theil_products"] = np.log(cells["_NP"].astype(float)) + cells.pop("_sp")
    cells["theil_markets"] = np.log(cells["_NM"].astype(float)) + cells.pop("_sm")
    cells = cells.rename(columns={"_NP": "n_products_universe", "_NM": "n_markets_universe"})
    return cells[[*ukeys, "total_value", "n_cells", "n_products_universe", "n_markets_universe",
                  "cdp_concentration", "cdp_concentration_norm", "theil_products", "theil_markets"]]


def cdp_export_concentration(data, *, reporter=None, years=None, level: int | None = None,
                             groups_file: str | None = None, product_groups_file: str | None = None
                             ) -> pd.DataFrame:
    """:func:`cdp_concentration` of ``reporter`` from bilateral FLOWS of all reporters (products at
    ``level`` HS digits; markets = every partner in the data).

    Summed in the database one year at a time (issue 19: the cells of a whole BACI panel do not fit in
    memory): with X = Σ_pm x_pm, Σ_pm s_pm ln s_pm = (Σ_pm x_pm ln x_pm) / X − ln X, and likewise for the
    product and market margins, so only sums per year × exporter (and the products and markets present)
    leave the database.  The same numbers as :func:`cdp_concentration` on the cells (to rounding).
    """
    common = {"years": years, "flow": "export", "world": "exclude", "strict_years": False,
              "groups_file": groups_file, "product_groups_file": product_groups_file}
    t, chosen = sel.select_flows(data, keyed=True, return_selection=True, **common)
    t = _level(t, level)
    t = t.filter(t.reporter != t.partner)
    if reporter is not None:
        sel.select_flows(data, reporter=reporter, **common)
    prod = list(sel.KEY_COLUMNS) if sel.is_keyed(t) else ["product"]
    parts, products, markets = [], set(), set()
    xlx = lambda v: v * v.ln()   # noqa: E731  (x ln x of positive sums)
    # the product universe counts every summed cell's product (as cdp_concentration's n_products): with one
    # layer, the cells' products are the rows' products
    if chosen.single_layer:
        products = set(map(tuple, t.select(*prod).distinct().to_pandas().dropna().to_numpy().tolist()))
    for y in sorted(t.select("year").distinct().to_pandas()["year"]):
        ty = t.filter(t.year == int(y))
        cells = sel.national_totals(ty, ["year", "reporter", "partner", *prod], allow_world=False,
                                    single_layer=chosen.single_layer)
        if not chosen.single_layer:
            products |= set(map(tuple, cells.select(*prod).distinct().to_pandas().dropna().to_numpy().tolist()))
        # one query a year: per exporter × market, the market sums with the exporter's cell and product sums
        c = cells.filter(cells.value_usd > 0)
        tot = c.group_by(["year", "reporter"]).aggregate(
            total_value=c.value_usd.sum(), n_cells=c.value_usd.count(), _a=xlx(c.value_usd).sum())
        mp = c.group_by(["year", "reporter", *prod]).aggregate(_x=c.value_usd.sum())
        mp = mp.group_by(["year", "reporter"]).aggregate(_ap=xlx(mp._x).sum())
        mm = c.group_by(["year", "reporter", "partner"]).aggregate(_xm=c.value_usd.sum())
        got = mm.inner_join(tot, ["year", "reporter"]).inner_join(mp, ["year", "reporter"]).to_pandas()
        got["_am"] = _xlogx(got["_xm"].to_numpy())
        part = got.groupby(["year", "reporter"], as_index=False).agg(
            total_value=("total_value", "first"), n_cells=("n_cells", "first"), _a=("_a", "first"),
            _ap=("_ap", "first"), _am=("_am", "sum"))
        ms = set(got["partner"])
        markets |= ms
        parts.append(part.assign(_NM=len(ms)))
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if df.empty:
        raise NoDataError("no bilateral rows for the CDP export concentration index")
    X = df["total_value"]
    lnX = np.log(X)
    df["_NP"] = len(products)
    # j's own country is not one of its markets (a market in any year, as in cdp_concentration)
    df["_NM"] = df["_NM"] - df["reporter"].isin(markets).astype("int64")
    lnN = np.log(df["_NP"].astype(float) * df["_NM"].astype(float))
    df["cdp_concentration"] = lnN + (df.pop("_a") / X - lnX)
    df["cdp_concentration_norm"] = np.where(lnN > 0, df["cdp_concentration"] / lnN, 1.0)
    df["theil_products"] = np.log(df["_NP"].astype(float)) + (df.pop("_ap") / X - lnX)
    df["theil_markets"] = np.log(df["_NM"].astype(float)) + (df.pop("_am") / X - lnX)
    df["n_cells"] = df["n_cells"].astype("int64")
    out = df.rename(columns={"_NP": "n_products_universe", "_NM": "n_markets_universe"})[
        ["year", "reporter", "total_value", "n_cells", "n_products_universe", "n_markets_universe",
         "cdp_concentration", "cdp_concentration_norm", "theil_products", "theil_markets"]]
    if reporter is not None:
        out = out[out["reporter"].isin([r.upper() for r in sel._split(reporter)])]
    return out.sort_values(["year", "reporter"]).reset_index(drop=True)
