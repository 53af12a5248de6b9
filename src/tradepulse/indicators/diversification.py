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

__all__ = ["indices", "hummels_klenow", "product_diversification", "market_diversification", "hk_margins",
           "theil_direct", "market_regions"]

#: RCA ≥ 1 is tested as RCA ≥ 1 − RCA_TOL so that exact ties (e.g. a unit that is the whole world) are not
#: lost to floating-point rounding.
RCA_TOL = 1e-9

INDEX_COLUMNS = ["total_value", "n_active", "n_universe", "n_above", "n_rca", "hhi", "hhi_norm", "theil",
                 "theil_within", "theil_between", "unctad_diversification"]


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
            threshold: float = 0.0, groups: int | Mapping | Callable | None = None) -> pd.DataFrame:
    """Diversification indices of every ``unit`` (and ``year``) across ``item`` (see the module docstring).

    ``frame`` has one row per unit × item (× year); duplicates are summed, NaN and values ≤ 0 dropped.
    ``reference``: a frame with ``year`` (if used), ``item`` and ``value`` giving world exports W_i; default
    the sum of ``frame`` over units.  Returns one row per unit (× year) with :data:`INDEX_COLUMNS`
    (+ ``theil_within_groups``, ``theil_between_groups`` when ``groups`` is given).
    """
    units = [unit] if isinstance(unit, str) else list(unit)
    tkey = [year] if year else []
    df = _positive_sums(frame, [*tkey, *units, item], value,
                        "no positive values to compute diversification indices on")

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
    wsum = ref.groupby(tkey, observed=True)["_W"].transform("sum") if tkey else ref["_W"].sum()
    ref["_h"] = ref["_W"] / wsum
    ref["_N"] = ref.groupby(tkey, observed=True)["_W"].transform("size") if tkey else len(ref)

    df = df.merge(ref, on=[*tkey, item], how="left")
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
    out["theil_between"] = np.log(out["n_universe"] / na)
    out["theil"] = out["theil_within"] + out["theil_between"]
    out["unctad_diversification"] = (out.pop("_absdev") + 1.0) / 2
    out["n_above"] = out["n_above"].astype("int64")
    out["n_rca"] = out["n_rca"].astype("int64")

    if groups is not None:
        df["_g"] = _group_labels(df[item], groups)
        ref["_g"] = _group_labels(ref[item], groups)
        Ng = ref.groupby([*tkey, "_g"], observed=True).size().rename("_Ng").reset_index()
        gg = df.groupby([*ukeys, "_g"], observed=True)
        Xg, ng = gg[value].transform("sum"), gg[value].transform("size")
        df = df.merge(Ng, on=[*tkey, "_g"], how="left") if tkey else df.assign(_Ng=df["_g"].map(Ng.set_index("_g")["_Ng"]))
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


def theil_direct(values: np.ndarray) -> float:
    """Theil index of a full vector (zeros included) by the textbook formula — used to cross-check."""
    v = np.asarray(values, dtype="float64")
    mu = v.mean()
    return float(np.mean(_xlogx(v / mu)))


# ---------------------------------------------------------------- Hummels–Klenow
def hummels_klenow(frame: pd.DataFrame, *, exporter: str = "reporter", market: str = "partner",
                   product: str | None = "product", value: str = "value_usd", year: str | None = "year",
                   reference: str = "rest", by_market: bool = False) -> pd.DataFrame:
    """Hummels & Klenow (2005) extensive and intensive margins of every exporter (× year).

    Cells c are (market, product) pairs (markets only when ``product`` is None).  X_jc = exports of j,
    X_kc = exports of the reference k to the same cell: the rest of the world (``reference="rest"``, all
    other exporters in the data, as in HK 2005) or the whole world (``"world"``, j included).  With C_j the
    cells j serves and C all cells:

        EM_j = Σ_{c∈C_j} X_kc / Σ_{c∈C} X_kc      (extensive margin)
        IM_j = Σ_{c∈C_j} X_jc / Σ_{c∈C_j} X_kc    (intensive margin)
        OM_j = EM_j · IM_j = X_j / Σ_{c∈C} X_kc   (overall share)

    ``by_market=True`` computes them per market m (C restricted to m's cells: "relative to world exports to
    the same market").  ``frame`` must be bilateral and hold all exporters (the reference is built from it).
    IM is ∞ when nobody else serves j's cells (reference "rest").
    """
    if reference not in ("rest", "world"):
        raise InputError(f"reference must be 'rest' or 'world', not {reference!r}")
    tkey = [year] if year else []
    cell = [market] + ([product] if product else [])
    df = _positive_sums(frame, [*tkey, exporter, *cell], value,
                        "no positive bilateral values for Hummels–Klenow margins")
    world_c = df.groupby([*tkey, *cell], observed=True)[value].transform("sum")
    df["_ref"] = world_c - df[value] if reference == "rest" else world_c
    scope = [*tkey, market] if by_market else tkey
    # Σ_{c∈C} X_wc per scope (world), minus X_j in scope for "rest"
    wtot = df.groupby([*tkey, *cell], observed=True)[value].sum().reset_index()
    wtot = wtot.groupby(scope, observed=True)[value].sum().rename("_W").reset_index() if scope else \
        pd.DataFrame({"_W": [wtot[value].sum()]})
    out = df.groupby([*scope, exporter], observed=True).agg(export_value=(value, "sum"),
                                                             ref_served=("_ref", "sum"),
                                                             n_cells=(value, "size")).reset_index()
    out = out.merge(wtot, on=scope, how="left") if scope else out.assign(_W=float(wtot["_W"].iloc[0]))
    denom = out["_W"] - out["export_value"] if reference == "rest" else out["_W"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["extensive_margin"] = out["ref_served"] / denom
        out["intensive_margin"] = out["export_value"] / out["ref_served"]
        out["overall_share"] = out["export_value"] / denom
    out = out.rename(columns={"_W": "world_value"})
    out["reference_value"] = denom
    return out[[*scope, exporter, "export_value", "n_cells", "ref_served", "reference_value",
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
    return t.mutate(product=t["product"].substr(0, level))


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
    ref_t = _level(sel.select_flows(data, **common), level)
    ref = sel.national_totals(ref_t, ["year", "product"], allow_world=partner is None).to_pandas()
    if province is not None or reporter is not None:
        unit_t = _level(sel.select_flows(data, reporter=reporter, province=province, **common), level)
    else:
        unit_t = ref_t
    if province is not None:
        u = unit_t.group_by(["year", "reporter", "province", "product"]).aggregate(
            value_usd=unit_t.value_usd.sum()).to_pandas()
        units = ["reporter", "province"]
    else:
        u = sel.national_totals(unit_t, ["year", "reporter", "product"], allow_world=partner is None).to_pandas()
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
    ref_t = sel.select_flows(data, **common)
    if drop_self:
        ref_t = ref_t.filter(ref_t.reporter != ref_t.partner)
    ref = sel.national_totals(ref_t, ["year", "partner"], allow_world=False).to_pandas()
    if province is not None or reporter is not None:
        unit_t = sel.select_flows(data, reporter=reporter, province=province, **common)
        if drop_self:
            unit_t = unit_t.filter(unit_t.reporter != unit_t.partner)
    else:
        unit_t = ref_t
    if province is not None:
        u = unit_t.group_by(["year", "reporter", "province", "partner"]).aggregate(
            value_usd=unit_t.value_usd.sum()).to_pandas()
        units = ["reporter", "province"]
    else:
        u = sel.national_totals(unit_t, ["year", "reporter", "partner"], allow_world=False).to_pandas()
        units = ["reporter"]
    if u.empty:
        raise NoDataError("no bilateral rows for this selection (market diversification needs partners "
                          f"other than {schema.WORLD})")
    if isinstance(groups, str):
        groups = market_regions(groups)
    out = indices(u, unit=units, item="partner", reference=ref, threshold=threshold, groups=groups)
    return out.sort_values(["year", *units]).reset_index(drop=True)


@provenance
def hk_margins(data, *, reporter=None, years=None, flow: str = "export", product=None, level: int | None = None,
               reference: str = "rest", by_market: bool = False, use_products: bool = True,
               groups_file: str | None = None, product_groups_file: str | None = None) -> pd.DataFrame:
    """Hummels–Klenow margins from bilateral FLOWS of all reporters (see :func:`hummels_klenow`).

    Cells are (partner, product) (``use_products=False``: partners only).  ``reporter`` filters the result
    (validated first); the reference is always built from every reporter in the data.
    """
    needs = Needs(level=2 if use_products else 0, bilateral=True, what="Hummels–Klenow margins")
    common = dict(years=years, flow=flow, product=product, world="exclude", strict_years=False,
                  groups_file=groups_file, product_groups_file=product_groups_file, needs=needs)
    t = _level(sel.select_flows(data, **common), level)
    t = t.filter(t.reporter != t.partner)
    if reporter is not None:
        sel.select_flows(data, reporter=reporter, **common)   # validation only: clear errors
    keys = ["year", "reporter", "partner"] + (["product"] if use_products else [])
    df = sel.national_totals(t, keys, allow_world=False).to_pandas()
    if df.empty:
        raise NoDataError("no bilateral rows for Hummels–Klenow margins")
    out = hummels_klenow(df, product="product" if use_products else None, reference=reference,
                         by_market=by_market)
    if reporter is not None:
        reps = [r.upper() for r in sel._split(reporter)]
        out = out[out["reporter"].isin(reps)]
    return out.sort_values([c for c in ["year", "reporter", "partner"] if c in out]).reset_index(drop=True)
