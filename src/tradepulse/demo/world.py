"""A SYNTHETIC trade world for demos and tests: ``generate(...) -> DemoWorld``.

Nothing here is real trade data.  Country codes, HS4 product codes, GDP/population *levels* of the base year
(World Bank WDI cache shipped with ``atlas-common-data``) and bilateral distances (CEPII GeoDist via the same
package) are real inputs; every trade value is drawn from the model below and labelled
``source="demo-synthetic"``.

Model (all steps vectorised over countries × products; only years are looped):

1. **Capabilities** (Hausmann & Hidalgo 2011, "The network structure of economic output", J. Econ. Growth
   16:309-342).  There are ``A`` capabilities; capability ``a`` has a rarity exponent ``γ_a``.  Country ``c``
   has ``a`` in year ``t`` iff ``U_ca < r_c(t)^γ_a`` with ``U_ca ~ U(0,1)`` fixed and the endowment ``r_c(t)``
   rising slowly with time (so capabilities are acquired, never lost).  Product ``p`` requires a random set of
   ``k_p`` capabilities; ``c`` can make ``p`` iff it has all of them:
   ``capable_cp = [Σ_a (1 − has_ca)·need_pa = 0]`` (one matrix product).  This gives a nested (triangular)
   country × product matrix whose diversity/ubiquity carry complexity information.
2. **Presence** of an export relationship: latent ``z_cpt = μ_cp + 0.9·e_cpt`` with ``e`` an AR(1) process
   (ρ = 0.6) and ``μ_cp`` high when capable, lower the more capabilities are missing; exported iff ``z > 0``.
   Capable pairs give long spells, near-capable pairs many short ones (entries and exits for survival work).
3. **Values**: ``log v_cpt = 0.9·log GDP_ct + log s_p + η_cp + 0.35·e'_cpt − 3.5·[not capable]``, log-normal
   product market sizes ``s_p`` and pair effects ``η_cp``; scaled each year so world exports = 22 % of the
   GDP of the countries in the world (before the focus-country adjustments of step 5).
4. **Partners** (gravity): each exporter × product × year makes ``1 + max(0, round(λ + √λ·z))`` partner draws
   (≈ Poisson(λ(v)), ``z`` the persistent presence noise) with probability ∝
   ``GDP_j^0.8 · dist_ij^-1 · 2^contig · 1.3^common-language``; draws invert fixed hashed uniforms plus a
   small yearly jitter, so relationships persist and churn at the margin.  Values are split by log-normal
   weights; world totals (partner ``WLD``) are the sums of the bilateral values in *every* year, bilateral
   rows are kept for the last ``bilateral_years`` years (and for the focus country's customs data, all years).
5. **Focus country** (default IRN): exports of about $110 B a year, oil (HS 2709/2710/2711) 50-65 % of
   them; carpets and other handicrafts sold mainly to Caspian and Persian-Gulf markets; exports to its 15
   neighbours of $21-28 B and to Syria of $0.27-0.45 B a year (Syria's exports to it $0.03-0.09 B);
   imports of telecom equipment (~$1 B) and car parts (~$1.2 B) that fall 20 % in ``ban_year`` (import
   ban / substitution) and 35-40 % after.  Customs rows split each bilateral flow over provinces (oil via
   Khuzestan/Bushehr/Hormozgan, border trade via border provinces); imports are valued CIF (partner's FOB
   export × U(1.03, 1.12)) so mirror statistics show the usual gap.  Services by EBOPS 2010 main code ×
   partner × year.
6. **Partners' imports from the focus country and "suitcase" exports** (last ``bilateral_years`` years only;
   drawn from a second generator seeded from ``seed``, so every row and draw of steps 1-5 is unchanged).
   Every partner ``j`` of the focus country reports imports from it (``flow="import"``, reporter ``j``, partner
   the focus country) valued CIF: ``m_jp = (x_jp + s_jp) · φ_jt`` with ``x_jp`` the focus country's recorded
   (FOB) export, one CIF/FOB factor ``φ_jt ~ U(1.06, 1.14)`` per partner × year (mean 1.10, the usual
   IMTS 2010 / IMF DOTS convention) and ``s_jp`` unrecorded ("suitcase") handicraft exports, non-zero only for
   handicrafts sold to the Caspian-littoral and Persian-Gulf markets (``caspian_and_persian_gulf``).  Their
   yearly total is ``S_t = F_t · U(0.85, 1.15)`` with ``F_t`` the formal handicraft exports to those markets
   (the roadmap's "formal ≈ informal" story), split over market × product cells ∝ ``(x_jp + floor) · U(0.7,
   1.3)`` (the floor, on carpets HS 5701, gives every market some).  Truth in ``meta["suitcase_by_year"]``,
   ``meta["suitcase_detail"]`` and ``meta["cif_fob_factors"]``; :func:`tradepulse.roadmap.mirror.mirror` with
   ``direction="exports"`` should recover ``S_t`` within ``(0.04/1.10)·(F_t + S_t)``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from tradepulse import reference
from tradepulse.errors import TradepulseError, UnknownNameError
from tradepulse.schema import WORLD

SOURCE = "demo-synthetic"
LABEL = "SYNTHETIC"
HS_REVISION = "HS1992"
#: Keyword arguments of the small world used by tests and ``tradepulse demo --small``.
SMALL = dict(n_countries=40, n_products=150, first_year=2014, last_year=2023)

#: EBOPS 2010 main services categories: code → (name, export share, import share) for the focus country.
EBOPS = {
    "SA": ("Manufacturing services on inputs owned by others", 0.01, 0.01),
    "SB": ("Maintenance and repair services n.i.e.", 0.02, 0.03),
    "SC": ("Transport", 0.38, 0.30),
    "SD": ("Travel", 0.25, 0.25),
    "SE": ("Construction", 0.08, 0.04),
    "SF": ("Insurance and pension services", 0.02, 0.05),
    "SG": ("Financial services", 0.02, 0.04),
    "SH": ("Charges for the use of intellectual property n.i.e.", 0.005, 0.04),
    "SI": ("Telecommunications, computer and information services", 0.06, 0.08),
    "SJ": ("Other business services (incl. technical and engineering services)", 0.12, 0.12),
    "SK": ("Personal, cultural and recreational services", 0.015, 0.01),
    "SL": ("Government goods and services n.i.e.", 0.03, 0.03),
}

#: Partners' CIF valuation of imports from the focus country: CIF = FOB × U(low, high) per partner × year.
CIF_FOB = (1.06, 1.14)
#: Unrecorded ("suitcase") handicraft exports to the Caspian/Persian-Gulf markets ÷ formal ones: U(low, high).
SUITCASE_RATIO = (0.85, 1.15)
#: Markets and product group of the suitcase trade (names in :mod:`tradepulse.reference`).
SUITCASE_MARKETS, SUITCASE_PRODUCTS = "caspian_and_persian_gulf", "handicrafts"

_DIST_ALIASES = {"ROM": "ROU", "ZAR": "COD", "YUG": "SRB", "TMP": "TLS", "PAL": "PSE"}


@dataclass
class DemoWorld:
    """A generated SYNTHETIC world: canonical frames ready for ``ingest_frame`` plus ``meta``."""

    flows: pd.DataFrame      # FLOWS columns without load_id (WLD panel + bilateral exports; partners'
                             # imports from the focus country, bilateral years, as the last rows)
    customs: pd.DataFrame    # focus country's exports and imports by province (FLOWS columns, province set)
    services: pd.DataFrame   # SERVICES columns without load_id
    macro: pd.DataFrame      # MACRO columns without load_id
    meta: dict = field(default_factory=dict)

    def focus_summary(self) -> pd.DataFrame:
        """Per year: focus-country exports (USD), oil share, exports to the 15 neighbours and to Syria."""
        return self.meta["focus_by_year"].copy()


# ---------------------------------------------------------------- inputs from atlas-common-data
def _acd_dir() -> Path:
    import atlas_common_data as acd
    return Path(acd.__file__).parent


@functools.cache
def _wdi() -> pd.DataFrame:
    """Cached WDI GDP and population (``iso3, year, gdp, population``); empty frame if unavailable."""
    try:
        w = pd.read_parquet(_acd_dir() / "data" / "cache" / "wdi_data.parquet",
                            columns=["iso3_code", "year", "gdp", "population"])
    except Exception:  # noqa: BLE001 — the cache is optional; the model falls back to synthetic sizes
        return pd.DataFrame(columns=["iso3", "year", "gdp", "population"])
    return w.rename(columns={"iso3_code": "iso3"})


@functools.cache
def _distances() -> pd.DataFrame:
    import atlas_common_data as acd
    d = acd.load_geo_distances()[["exporter", "importer", "distw", "contig", "comlang_off"]].copy()
    d["exporter"] = d["exporter"].replace(_DIST_ALIASES)
    d["importer"] = d["importer"].replace(_DIST_ALIASES)
    return d


def _base_sizes(iso3: list[str], year: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """GDP and population near ``year`` from the WDI cache (nearest available year), log-normal when missing."""
    w = _wdi()
    w = w[w["iso3"].isin(iso3) & w["gdp"].notna() & w["population"].notna()].copy()
    w["gap"] = (w["year"] - year).abs()
    w = w.sort_values(["iso3", "gap"]).drop_duplicates("iso3").set_index("iso3")
    gdp = w["gdp"].reindex(iso3).to_numpy(float)
    pop = w["population"].reindex(iso3).to_numpy(float)
    miss = np.isnan(gdp)
    gdp[miss] = rng.lognormal(np.log(8e9), 1.5, miss.sum())
    pop[miss] = gdp[miss] / rng.lognormal(np.log(6000), 0.8, miss.sum())
    return gdp, pop


# ---------------------------------------------------------------- selections
def _pick_countries(n: int, focus: str) -> pd.DataFrame:
    ref = reference.countries()
    codes = set(ref["iso3"])
    if focus not in codes:
        raise UnknownNameError("country", focus, sorted(codes))
    required = [focus, "SYR"]
    for g in ("neighbours15", "caspian", "persian_gulf"):
        required += list(reference.group_members(g))
    required = list(dict.fromkeys(c for c in required if c in codes))
    if n < len(required):
        raise TradepulseError(f"n_countries={n} is too small: the demo world needs at least {len(required)} "
                              f"countries ({', '.join(required)})")
    w = _wdi()
    gdp = w.dropna(subset=["gdp"]).groupby("iso3")["gdp"].max()
    rest = ref[~ref["iso3"].isin(required)].copy()
    rest["gdp"] = rest["iso3"].map(gdp).fillna(0.0)
    rest["has_dist"] = rest["iso3"].isin(set(_distances()["exporter"]))
    rest = rest.sort_values(["in_complexity", "has_dist", "gdp", "iso3"], ascending=[False, False, False, True])
    chosen = required + rest["iso3"].head(n - len(required)).tolist()
    out = ref.set_index("iso3").loc[sorted(chosen)].reset_index()
    return out[["iso3", "name_en", "in_complexity"]]


def _required_products() -> list[str]:
    pref: list[str] = []
    for g in ("oil", "handicrafts", "carpets", "telecom_equipment", "car_parts"):
        pref += [p for p in reference.product_group_prefixes(g) if len(p) == 4]
    return list(dict.fromkeys(pref))


def _pick_products(n: int, rng: np.random.Generator) -> np.ndarray:
    allp = reference.hs_products(HS_REVISION, 4)["code"]
    allp = allp[allp.str.isdigit() & (allp != "9999")].to_numpy()
    req = [p for p in _required_products() if p in set(allp)]
    if n < len(req) + 10:
        raise TradepulseError(f"n_products={n} is too small: the demo world needs at least {len(req) + 10}")
    others = np.setdiff1d(allp, req)
    k = min(n - len(req), len(others))
    pick = rng.choice(others, size=k, replace=False)
    return np.sort(np.concatenate([np.array(req, dtype=object), pick]).astype(str))


# ---------------------------------------------------------------- sampling helpers
def _hash_uniform(ident: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random number in [0, 1) per non-negative integer id (SplitMix64 finaliser, vectorised)."""
    z = ident.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(2 ** 53)


def _categorical_draw(u: np.ndarray, weights: np.ndarray, cls: np.ndarray) -> np.ndarray:
    """Column index drawn with probability ∝ ``weights[cls]`` by inverting uniforms ``u`` (vectorised).

    Rows of ``weights`` are turned into cumulative distributions, offset by their row number and flattened,
    so one ``searchsorted`` serves all classes at once.
    """
    k = weights.shape[1]
    cum = np.cumsum(weights, axis=1)
    cum = cum / cum[:, -1:]
    flat = (cum + np.arange(weights.shape[0])[:, None]).ravel()
    j = np.searchsorted(flat, u + cls, side="right")
    return np.minimum(j - cls * k, k - 1)


def _split(rng: np.random.Generator, values: np.ndarray, k: np.ndarray, weights: np.ndarray,
           cls: np.ndarray, sigma: float, ident: np.ndarray, jitter: float = 0.002,
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split ``values[i]`` over ``k[i]`` draws from ``weights[cls[i]]``; duplicates are merged.

    Draw ``j`` of row ``i`` inverts the uniform ``frac(h(ident_i, j) + jitter·N(0,1))`` with ``h`` a fixed
    hash, so a relationship with the same ``ident`` picks mostly the same partners year after year
    (persistent trade relationships; a partner changes when its draw crosses a boundary).  Returns (row
    index, drawn column, value) with values summing per row to ``values`` (up to rounding).
    """
    rep = np.repeat(np.arange(len(values)), k)
    j = np.arange(len(rep)) - np.repeat(np.cumsum(k) - k, k)
    u = np.mod(_hash_uniform(ident[rep].astype(np.int64) * 64 + np.minimum(j, 63))
               + jitter * rng.normal(0.0, 1.0, len(rep)), 1.0)
    col = _categorical_draw(u, weights, np.repeat(cls, k))
    w = rng.lognormal(0.0, sigma, len(rep))
    w /= np.bincount(rep, w, minlength=len(values))[rep]
    key = rep.astype(np.int64) * weights.shape[1] + col
    ukey, inv = np.unique(key, return_inverse=True)
    val = np.bincount(inv, w * values[rep])
    return ukey // weights.shape[1], ukey % weights.shape[1], val


def _ensure_links(row: np.ndarray, part: np.ndarray, val: np.ndarray, exporter: np.ndarray,
                  links: np.ndarray, n: int, eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Make sure each (exporter, partner) pair in ``links`` (k × 2) has an ``eligible`` row: where missing,
    move part of one of the exporter's larger eligible rows (its 75th-percentile one) to that partner.
    Row totals, hence world totals, are unchanged; a row lends at most 30 % of its value in all."""
    e_of = exporter[row]
    need = links[:, 0] * n + links[:, 1]
    miss = links[~np.isin(need, (e_of * n + part)[eligible])]
    cnt = np.bincount(e_of[eligible], minlength=n)
    miss = miss[cnt[miss[:, 0]] > 0]
    if len(miss) == 0:
        return row, part, val
    idx = np.flatnonzero(eligible)
    order = idx[np.lexsort((val[idx], e_of[idx]))]        # eligible rows by exporter, then value
    start = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    lender = order[start[miss[:, 0]] + (0.75 * (cnt[miss[:, 0]] - 1)).astype(int)]
    _, inv, per = np.unique(lender, return_inverse=True, return_counts=True)
    moved = 0.3 * val[lender] / per[inv]
    val = val.copy()
    np.subtract.at(val, lender, moved)
    return (np.concatenate([row, row[lender]]), np.concatenate([part, miss[:, 1]]),
            np.concatenate([val, moved]))


def _scale_groups(values: np.ndarray, groups: dict[str, np.ndarray], targets: dict[str, float],
                  total: float | None) -> np.ndarray:
    """Scale masked groups of ``values`` to target sums; the remainder is scaled so the sum is ``total``."""
    out = values.copy()
    fixed = np.zeros(len(values), bool)
    for name, mask in groups.items():
        s = out[mask].sum()
        if s > 0:
            out[mask] *= targets[name] / s
        fixed |= mask
    if total is not None:
        rest = out[~fixed].sum()
        want = total - out[fixed].sum()
        if rest > 0 and want > 0:
            out[~fixed] *= want / rest
    return out


# ---------------------------------------------------------------- the generator
def generate(seed: int = 1400, n_countries: int = 200, n_products: int = 1200, first_year: int = 2010,
             last_year: int = 2023, focus: str = "IRN", bilateral_years: int = 3, *,
             ban_year: int | None = None,
             progress: Callable[[str, float], None] | None = None) -> DemoWorld:
    """Generate a SYNTHETIC world (deterministic for a given ``seed``); see the module docstring for the model.

    ``ban_year`` (default: 5 years before ``last_year``) is when the focus country's telecom and car-part
    imports fall.  ``bilateral_years`` larger than the number of years means all years.
    ``progress(step, fraction)`` is called as work proceeds (for progress bars).
    """
    if last_year < first_year:
        raise TradepulseError(f"last_year {last_year} is before first_year {first_year}")
    if bilateral_years < 1:
        raise TradepulseError(f"bilateral_years must be at least 1, not {bilateral_years}")
    bilateral_years = min(bilateral_years, last_year - first_year + 1)
    focus = focus.upper()
    report = progress or (lambda step, frac: None)
    rng = np.random.default_rng(seed)
    # step 6 draws from its own stream (child of the same seed), so steps 1-5 are unchanged by it
    rng_mirror = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    years = np.arange(first_year, last_year + 1)
    T = len(years)
    ban_year = int(ban_year if ban_year is not None else max(first_year + 1, last_year - 5))
    bil_years = set(years[-bilateral_years:].tolist())

    report("countries and products", 0.0)
    ctry = _pick_countries(n_countries, focus)
    iso = ctry["iso3"].to_numpy(str)
    C = len(iso)
    ix = {c: i for i, c in enumerate(iso)}
    f = ix[focus]
    prods = _pick_products(n_products, rng)
    P = len(prods)
    pix = {p: i for i, p in enumerate(prods)}

    def pmask(group: str) -> np.ndarray:
        return np.asarray(reference.matches_prefixes(pd.Series(prods), reference.product_group_prefixes(group)))

    def cmask(group: str) -> np.ndarray:
        return np.isin(iso, reference.group_members(group))

    is_oil = pmask("oil")
    is_hand = pmask("handicrafts")
    is_tel, is_car = pmask("telecom_equipment"), pmask("car_parts")
    is_ban = is_tel | is_car
    neigh = cmask("neighbours15")
    cpg = cmask("caspian_and_persian_gulf")
    syr = ix["SYR"]

    # ---- macro: real base-year levels (WDI cache) with synthetic growth paths
    gdp0, pop0 = _base_sizes(list(iso), first_year, rng)
    gdp0 = gdp0 * rng.lognormal(0.0, 0.08, C)
    trend = rng.normal(0.03, 0.02, C)
    shocks = rng.normal(0.0, 0.035, (C, T))
    shocks[:, 0] = 0.0
    gdp = gdp0[:, None] * np.exp(np.cumsum(trend[:, None] + shocks, axis=1) - trend[:, None])
    popg = np.clip(rng.normal(0.012, 0.008, C), -0.01, 0.035)
    pop = pop0[:, None] * np.exp(popg[:, None] * np.arange(T))
    gdppc0 = gdp0 / pop0

    # ---- capabilities
    A = 36
    pct = lambda x: (np.argsort(np.argsort(x)) + 0.5) / len(x)  # noqa: E731 — percentile rank
    r0 = np.clip(0.35 + 0.55 * (0.65 * pct(np.log(gdppc0)) + 0.35 * pct(np.log(gdp0)))
                 + rng.normal(0, 0.05, C), 0.25, 0.97)
    drift = np.clip(rng.normal(0.004, 0.004, C), 0.0, 0.015)
    gamma = rng.uniform(0.4, 2.5, A)
    U = rng.random((C, A))
    k_p = np.clip(1 + rng.poisson(3.0, P), 1, 12)
    need = (np.argsort(rng.random((P, A)), axis=1) < k_p[:, None]).astype(np.float32)
    oil_country = cpg | (np.arange(C) == f) | (rng.random(C) < 0.12)

    # ---- product and pair parameters
    s_p = rng.lognormal(0.0, 1.3, P)
    s_p[is_oil] *= 40.0
    price = rng.lognormal(np.log(4.0), 1.2, P)          # USD per kg, for customs weights
    price[is_oil] = rng.uniform(0.3, 0.7, is_oil.sum())
    eta = rng.normal(0.0, 0.8, (C, P)).astype(np.float32)
    mu_noise = rng.normal(0.0, 0.5, (C, P)).astype(np.float32)
    e_pres = rng.normal(0.0, 1.0, (C, P)).astype(np.float32)
    e_val = rng.normal(0.0, 1.0, (C, P)).astype(np.float32)
    rho = 0.6

    # ---- gravity weights (exporter class × importer); extra classes for the focus country's oil/handicrafts
    dist = _distances()
    dm = dist[dist["exporter"].isin(ix) & dist["importer"].isin(ix)]
    D = np.full((C, C), np.nan)
    CONT = np.zeros((C, C))
    LANG = np.zeros((C, C))
    ei, ii = dm["exporter"].map(ix).to_numpy(), dm["importer"].map(ix).to_numpy()
    D[ei, ii] = dm["distw"].to_numpy(float)
    CONT[ei, ii] = dm["contig"].to_numpy(float)
    LANG[ei, ii] = dm["comlang_off"].to_numpy(float)
    D = np.where(np.isnan(D), np.nanmedian(D), np.maximum(D, 50.0))
    np.fill_diagonal(D, 1.0)
    if focus != "IRN":  # the named groups are Iran's; another focus country's neighbours are its land borders
        neigh = (CONT[f] > 0) & (np.arange(C) != f)
        if not neigh.any():
            neigh = np.isin(np.arange(C), np.argsort(D[f])[1:6])
    pull = np.ones((C + 2, C))
    pull[f, neigh] *= 3.0
    pull[f, syr] *= 6.0
    pull[syr, f] *= 25.0
    pull[:C][neigh, f] *= 2.0
    oil_buyers = np.isin(iso, ["CHN", "IND", "KOR", "JPN", "TUR", "ITA", "ESP", "FRA", "GRC", "ZAF", "ARE"])
    handi_buyers = cpg | np.isin(iso, ["DEU", "USA", "JPN", "ITA", "FRA", "GBR", "CHN", "LBN"])

    report("capabilities", 0.05)
    # customs province weights: class (0 general export, 1 oil, 2 handicraft, 3 import) × partner × province
    prov = _provinces_frame(focus)
    R = len(prov)
    base = prov["weight"].to_numpy(float)
    prov_w = np.tile(base, (4, C, 1))
    border = np.ones((C, R))
    bt = pd.DataFrame({"r": np.arange(R), "iso": prov["borders"]}).explode("iso").dropna()
    bt = bt[bt["iso"].isin(ix)]
    border[bt["iso"].map(ix).to_numpy(int), bt["r"].to_numpy(int)] = 6.0
    prov_w[0] *= border
    prov_w[3] *= border
    names = prov["name_en"].to_numpy(object)
    oilprov = np.isin(names, ["Khuzestan", "Bushehr", "Hormozgan", "Tehran"])
    if oilprov.any():
        prov_w[1] = np.where(oilprov, base * np.where(np.isin(names, ["Khuzestan", "Bushehr"]), 4.0, 1.0), 0.0)
    handprov = np.isin(names, ["Isfahan", "East Azerbaijan", "Fars", "Razavi Khorasan", "Kerman",
                               "Qom", "Hamadan", "Kurdistan", "Tehran", "Yazd", "Zanjan"])
    if handprov.any():
        prov_w[2] = np.where(handprov, prov_w[2] * np.where(names == "Tehran", 0.2, 1.0), 0.0)
    prov_w[3][:, names == "Hormozgan"] *= 3.0
    prov_w = prov_w.reshape(4 * C, R)

    # ---- focus-country targets per year (USD)
    tt = np.arange(T)
    total_x = 110e9 * np.exp(0.15 * np.sin(2 * np.pi * tt / 7.0) + rng.normal(0, 0.04, T))
    oil_share = np.clip(0.57 + 0.05 * np.cos(2 * np.pi * tt / 9.0) + rng.normal(0, 0.02, T), 0.5, 0.65)
    neigh_x = rng.uniform(21e9, 28e9, T)
    syr_x = rng.uniform(0.27e9, 0.45e9, T)
    syr_m = rng.uniform(0.03e9, 0.09e9, T)
    total_m = 50e9 * np.exp(0.12 * np.sin(2 * np.pi * (tt + 2) / 8.0) + rng.normal(0, 0.04, T))
    # telecom equipment and car parts: slow growth, then −20 % in the ban year, −35 % the next, partial recovery
    after = years - ban_year
    ban_factor = np.where(after < 0, 1.03 ** np.minimum(after, 0),
                          np.where(after == 0, 0.8, np.where(after == 1, 0.65, 0.6 * 1.03 ** (after - 2))))
    tel_m = 1.0e9 * np.exp(rng.normal(0, 0.04, T)) * ban_factor
    car_m = 1.2e9 * np.exp(rng.normal(0, 0.04, T)) * ban_factor
    hand_x = {p: v for p, v in (("5701", 1.6e8), ("5702", 4e7))}  # formal handicrafts ≈ $250-300 M in all
    oil_split = np.array([0.62, 0.14, 0.24])  # 2709 crude, 2710 refined, 2711 gas

    must = np.flatnonzero(neigh | (np.arange(C) == syr))  # partners the focus country trades with every year
    links = np.concatenate([np.stack([np.full(len(must), f), must], 1), np.stack([must, np.full(len(must), f)], 1)])
    flows_parts: list[pd.DataFrame] = []
    import_parts: list[pd.DataFrame] = []   # partners' imports from the focus country (step 6)
    suitcase_rows, suitcase_detail, factor_parts = [], [], []
    markets = np.flatnonzero(cpg & (np.arange(C) != f))
    hand_idx = np.flatnonzero(is_hand)
    carpet = pix.get("5701", int(hand_idx[0]))
    customs_parts: list[pd.DataFrame] = []
    focus_rows = []
    for t, year in enumerate(years):
        report(f"year {year}", 0.1 + 0.8 * t / T)
        r_t = np.clip(r0 + drift * t, 0.0, 0.99)
        has = U < r_t[:, None] ** gamma[None, :]
        missing = (~has).astype(np.float32) @ need.T          # C × P: capabilities missing
        capable = missing == 0
        capable[:, is_oil] = oil_country[:, None]
        capable[f, is_hand] = True
        missing[:, is_oil] = np.where(oil_country, 0.0, 3.0)[:, None]

        if t > 0:
            e_pres = rho * e_pres + np.sqrt(1 - rho ** 2) * rng.normal(0, 1, (C, P)).astype(np.float32)
            e_val = rho * e_val + np.sqrt(1 - rho ** 2) * rng.normal(0, 1, (C, P)).astype(np.float32)
        mu = np.where(capable, 1.6, -0.5 - 0.9 * (missing - 1)) + mu_noise
        present = mu + 0.9 * e_pres > 0
        present[f, is_oil | is_hand] = True
        logv = (0.9 * np.log(gdp[:, t])[:, None] + np.log(s_p)[None, :] + eta + 0.35 * e_val
                - 3.5 * ~capable)
        v = np.where(present, np.exp(logv - logv.max()), 0.0)
        v *= 0.22 * gdp[:, t].sum() / v.sum()

        # focus-country exports: oil share, handicrafts, total
        xo = oil_share[t] * total_x[t]
        for j, code in enumerate(("2709", "2710", "2711")):
            if code in pix:
                v[f, pix[code]] = xo * oil_split[j] * np.exp(rng.normal(0, 0.05))
        for code, base_v in hand_x.items():
            if code in pix:
                v[f, pix[code]] = base_v * np.exp(-0.04 * t + rng.normal(0, 0.08))
        other_hand = is_hand & ~np.isin(prods, list(hand_x))
        v[f, other_hand] = rng.lognormal(np.log(6e6), 0.7, other_hand.sum())
        nonoil = ~is_oil & ~is_hand & (v[f] > 0)
        v[f, nonoil] *= ((1 - oil_share[t]) * total_x[t] - v[f, is_hand].sum()) / v[f, nonoil].sum()

        # partners (gravity)
        W = np.empty((C + 2, C))
        W[:C] = (gdp[:, t] ** 0.8)[None, :] * D ** -1.0 * 2.0 ** CONT * 1.3 ** LANG
        W[C] = gdp[:, t] ** 0.3 * np.where(oil_buyers, 30.0, 1.0)
        W[C + 1] = gdp[:, t] ** 0.5 * D[f] ** -0.5 * np.where(handi_buyers, 10.0, 1.0)
        W *= pull
        W[np.arange(C), np.arange(C)] = 0.0
        W[C:, f] = 0.0
        W[C:, syr] *= 0.01  # Iran–Syria trade stays small (no oil cargoes in the demo)
        ci, pi = np.nonzero(v)
        val = v[ci, pi]
        cls = ci.copy()
        cls[(ci == f) & is_oil[pi]] = C
        cls[(ci == f) & is_hand[pi]] = C + 1
        lam = np.clip(0.6 * np.maximum(np.log10(val) - 3.0, 0.0) ** 1.5, 0.0, 40.0)
        lam[ci == f] *= 2.0
        # number of partner draws ≈ Poisson(λ) (normal approximation λ + √λ·z) with z the persistent AR(1)
        # presence noise, so partner counts change slowly
        k = 1 + np.maximum(np.rint(lam + np.sqrt(lam) * e_pres[ci, pi]), 0).astype(np.int64)
        row, part, bval = _split(rng, val, k, W, cls, 0.8, ident=ci.astype(np.int64) * P + pi)
        eligible = ~((ci[row] == f) & (is_oil | is_hand)[pi[row]])  # focus links must be "free" rows (below)
        row, part, bval = _ensure_links(row, part, bval, ci, links, C, eligible)
        bc, bp = ci[row], pi[row]

        # focus exports: neighbours / Syria / total
        # (oil and handicraft rows keep their values; the other rows are scaled to the targets)
        fx = bc == f
        free = fx & ~is_oil[bp] & ~is_hand[bp]
        pn, ps = neigh[part], part == syr
        held = fx & ~free
        oil_n, oil_o = held & is_oil[bp] & pn, held & is_oil[bp] & ~pn & ~ps
        cap = 0.4 * neigh_x[t]  # oil to neighbours at most 40 % of their target; the rest goes elsewhere
        if bval[oil_n].sum() > cap and bval[oil_o].sum() > 0:
            excess = bval[oil_n].sum() - cap
            bval[oil_n] *= cap / bval[oil_n].sum()
            bval[oil_o] *= 1 + excess / bval[oil_o].sum()
        tg = {"neigh": max(neigh_x[t] - bval[held & pn].sum(), 0.3 * neigh_x[t]),
              "syr": max(syr_x[t] - bval[held & ps].sum(), 0.5 * syr_x[t])}
        bval[free] = _scale_groups(bval[free], {"neigh": pn[free], "syr": ps[free]}, tg,
                                   total_x[t] - bval[held].sum())
        # focus imports (partners' exports to the focus country): bans, Syria, total
        fm = part == f
        before = bval[fm].copy()
        bval[fm] = _scale_groups(bval[fm], {"tel": is_tel[bp[fm]] & (bc[fm] != syr),
                                            "car": is_car[bp[fm]] & (bc[fm] != syr), "syr": bc[fm] == syr},
                                 {"tel": tel_m[t], "car": car_m[t], "syr": syr_m[t]}, total_m[t])
        # what the focus country no longer buys goes to the exporter's other markets (world totals kept)
        delta = np.bincount(row[fm], before - bval[fm], minlength=len(val))
        other = np.bincount(row[~fm], bval[~fm], minlength=len(val))
        fac = np.where(other > 0, 1 + delta / np.where(other > 0, other, 1.0), 1.0)
        bval[~fm] *= np.maximum(fac, 0.05)[row[~fm]]

        wld = np.bincount(row, bval, minlength=len(val))
        keep = wld > 0
        flows_parts.append(_frame(year, iso[ci[keep]], WORLD, "export", prods[pi[keep]], wld[keep]))
        if year in bil_years:
            flows_parts.append(_frame(year, iso[bc], iso[part], "export", prods[bp], bval))

        # customs: focus exports (FOB) and imports (CIF = partner FOB × 1.03-1.12) by province
        xcls = np.where(is_oil[bp[fx]], 1, np.where(is_hand[bp[fx]], 2, 0)) * C + part[fx]
        mcls = 3 * C + bc[fm]
        cif = bval[fm] * rng.uniform(1.03, 1.12, fm.sum())
        cv = np.concatenate([bval[fx], cif])
        ccls = np.concatenate([xcls, mcls])
        cpart = np.concatenate([part[fx], bc[fm]])
        cprod = np.concatenate([bp[fx], bp[fm]])
        cflow = np.concatenate([np.zeros(fx.sum(), int), np.ones(fm.sum(), int)])
        cid = (cflow.astype(np.int64) * C + cpart) * P + cprod + 10 ** 9  # customs line identity
        lam_c = np.clip(0.5 * (np.log10(cv) - 5.0), 0.0, 4.0)   # mean number of extra provinces
        kk = 1 + np.floor(2 * lam_c * np.clip(_hash_uniform(cid) + 0.05 * rng.normal(0, 1, len(cid)), 0, 0.999)
                          ).astype(np.int64)
        crow, cprov, cval = _split(rng, cv, kk, prov_w, ccls, 0.9, ident=cid)
        qty = cval / (price[cprod[crow]] * rng.lognormal(0, 0.15, len(crow)))
        cdf = _frame(year, np.full(len(crow), focus, dtype=object), iso[cpart[crow]],
                     np.array(["export", "import"], dtype=object)[cflow[crow]], prods[cprod[crow]], cval)
        cdf["quantity"] = np.maximum(np.round(qty, 1), 0.1)
        cdf["unit"] = "kg"
        cdf["province"] = prov["name_en"].to_numpy(object)[cprov]
        customs_parts.append(cdf)

        # partners' imports from the focus country (CIF) with suitcase handicrafts, bilateral years only
        if year in bil_years:
            mj, mp, mcif, minf, phi, formal_t = _partner_imports(
                rng_mirror, part[fx], bp[fx], bval[fx], C, P, markets, hand_idx, carpet)
            import_parts.append(_frame(year, iso[mj], focus, "import", prods[mp], mcif))
            has_inf = minf > 0
            suitcase_detail.append(pd.DataFrame({
                "year": int(year), "partner": iso[mj[has_inf]].astype(object),
                "product": prods[mp[has_inf]].astype(object), "informal_fob_usd": minf[has_inf],
                "informal_cif_usd": minf[has_inf] * phi[mj[has_inf]]}))
            reporters = np.unique(mj)
            factor_parts.append(pd.DataFrame({"year": int(year), "partner": iso[reporters].astype(object),
                                              "factor": phi[reporters]}))
            suitcase_rows.append({"year": int(year), "formal_fob_usd": formal_t,
                                  "informal_fob_usd": float(minf.sum()),
                                  "informal_cif_usd": float((minf * phi[mj]).sum())})

        fxv = bval[fx]
        focus_rows.append({
            "year": int(year), "exports_usd": float(fxv.sum()),
            "oil_share": float(fxv[is_oil[bp[fx]]].sum() / fxv.sum()),
            "exports_neighbours_usd": float(fxv[neigh[part[fx]]].sum()),
            "exports_syria_usd": float(fxv[part[fx] == syr].sum()),
            "imports_cif_usd": float(cif.sum()),
            "imports_syria_cif_usd": float(cif[bc[fm] == syr].sum()),
            "imports_banned_groups_cif_usd": float(cif[is_ban[bp[fm]]].sum()),
        })

    report("assembling tables", 0.92)
    flows = pd.concat(flows_parts + import_parts, ignore_index=True)  # imports last: earlier rows keep places
    customs = pd.concat(customs_parts, ignore_index=True)
    customs = customs.sort_values(["year", "flow", "province", "partner", "product"], kind="stable") \
        .reset_index(drop=True)

    macro = pd.DataFrame({
        "year": np.tile(years, C).astype("int16"), "iso3": np.repeat(iso, T).astype(object),
        "gdp_usd": gdp.ravel(), "population": np.round(pop.ravel()), "source": SOURCE})
    services = _services(rng, focus, iso, gdp, years, D[f], neigh, syr)

    focus_by_year = pd.DataFrame(focus_rows)
    meta = {
        "label": LABEL, "source": SOURCE, "seed": seed, "focus": focus,
        "first_year": int(first_year), "last_year": int(last_year), "years": [int(y) for y in years],
        "bilateral_years": sorted(int(y) for y in bil_years), "ban_year": ban_year,
        "neighbours": list(iso[neigh]),
        "countries": list(iso), "products": list(prods), "hs_revision": HS_REVISION,
        "provinces": prov[["name_en", "name_fa"]].copy(),
        "focus_by_year": focus_by_year,
        "n_capabilities": A,
        # step 6: partners' imports from the focus country and the injected suitcase exports (the truth)
        "suitcase": {"markets": SUITCASE_MARKETS, "products": SUITCASE_PRODUCTS,
                     "market_codes": list(iso[markets]), "cif_fob_range": CIF_FOB,
                     "informal_to_formal_range": SUITCASE_RATIO},
        "suitcase_by_year": pd.DataFrame(
            suitcase_rows, columns=["year", "formal_fob_usd", "informal_fob_usd", "informal_cif_usd"]),
        "suitcase_detail": pd.concat(suitcase_detail, ignore_index=True),
        "cif_fob_factors": pd.concat(factor_parts, ignore_index=True),
        "note": ("SYNTHETIC demo data generated by tradepulse.demo.world; not real trade statistics. "
                 "The focus country's bilateral rows in `flows` equal its customs rows summed over provinces. "
                 "Partners' imports from it (bilateral years) are its exports × a CIF/FOB factor plus unrecorded "
                 "'suitcase' handicraft exports to Caspian and Persian-Gulf markets (meta['suitcase_by_year'])."),
    }
    report("done", 1.0)
    return DemoWorld(flows=flows, customs=customs, services=services, macro=macro, meta=meta)


def _partner_imports(rng: np.random.Generator, part: np.ndarray, prod: np.ndarray, fob: np.ndarray,
                     n_countries: int, n_products: int, markets: np.ndarray, hand: np.ndarray, carpet: int,
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Partners' imports from the focus country (CIF) in one year, with injected suitcase exports (step 6).

    ``part, prod, fob``: the focus country's recorded bilateral exports (partner index, product index, FOB
    value, one row per partner × product).  ``markets`` (sorted partner indices) and ``hand`` (sorted product
    indices) span the suitcase cells; ``carpet`` is the product that carries each market's floor weight.
    Returns ``(partner, product, cif, informal_fob)`` per import row (keys unique), the CIF/FOB factor per
    country (``n_countries``) and the formal handicraft exports to the markets ``F``.
    Formula: ``cif_jp = (x_jp + s_jp)·φ_j``; ``S = F·U(SUITCASE_RATIO)``; ``s_jp = S·w_jp/Σw`` with
    ``w_jp = (x_jp + 0.05·F/|markets|·[p = carpet])·U(0.7, 1.3)`` over the markets × handicrafts cells.
    """
    phi = rng.uniform(*CIF_FOB, n_countries)
    cell = np.isin(part, markets) & np.isin(prod, hand)
    formal = np.zeros((len(markets), len(hand)))
    np.add.at(formal, (np.searchsorted(markets, part[cell]), np.searchsorted(hand, prod[cell])), fob[cell])
    total_formal = float(formal.sum())
    floor = np.zeros_like(formal)
    floor[:, np.searchsorted(hand, carpet)] = 0.05 * total_formal / max(len(markets), 1)
    w = (formal + floor) * rng.uniform(0.7, 1.3, formal.shape)
    total_informal = total_formal * rng.uniform(*SUITCASE_RATIO)
    informal = total_informal * w / w.sum() if total_formal > 0 else np.zeros_like(w)
    mi, hi = np.nonzero(informal > 0)
    key = np.concatenate([part.astype(np.int64) * n_products + prod,
                          markets[mi].astype(np.int64) * n_products + hand[hi]])
    ukey, inv = np.unique(key, return_inverse=True)
    fob_all = np.bincount(inv, np.concatenate([fob, np.zeros(len(mi))]), minlength=len(ukey))
    inf_all = np.bincount(inv, np.concatenate([np.zeros(len(fob)), informal[mi, hi]]), minlength=len(ukey))
    j, p = ukey // n_products, ukey % n_products
    return j, p, (fob_all + inf_all) * phi[j], inf_all, phi, total_formal


def _provinces_frame(focus: str) -> pd.DataFrame:
    from tradepulse.demo.provinces import provinces
    return provinces(focus)


def _frame(year: int, reporter, partner, flow, product, value) -> pd.DataFrame:
    n = len(value)
    df = pd.DataFrame({
        "year": np.full(n, year, dtype="int16"),
        "month": pd.arrays.IntegerArray(np.zeros(n, np.int8), np.ones(n, bool)),  # all NULL (annual data)
        "reporter": np.asarray(reporter, dtype=object) if not isinstance(reporter, str) else reporter,
        "partner": np.asarray(partner, dtype=object) if not isinstance(partner, str) else partner,
        "flow": flow if isinstance(flow, str) else np.asarray(flow, dtype=object),
        "product": np.asarray(product, dtype=object),
        "hs_revision": HS_REVISION,
        "value_usd": np.asarray(value, dtype=float),
        "quantity": np.full(n, np.nan),
        "unit": np.full(n, None, dtype=object),
        "province": np.full(n, None, dtype=object),
        "source": SOURCE,
    })
    return df


def _services(rng: np.random.Generator, focus: str, iso: np.ndarray, gdp: np.ndarray, years: np.ndarray,
              dist_f: np.ndarray, neigh: np.ndarray, syr: int) -> pd.DataFrame:
    """Focus-country services trade by EBOPS main code × partner × year (exports and imports).

    ``value = total_flow,year × share_flow,code × partner weight × log-normal noise``; partner weights
    ∝ ``GDP^0.8 · dist^-0.8`` (×4 for neighbours; ×40 for construction and technical services to Syria).
    """
    C, T = gdp.shape
    f = int(np.flatnonzero(iso == focus)[0])
    w = gdp[:, -1] ** 0.8 * dist_f ** -0.8 * np.where(neigh, 4.0, 1.0)
    w[f] = 0.0
    partners = np.union1d(np.argsort(-w)[:30], np.flatnonzero(neigh | (np.arange(C) == syr)))
    partners = partners[partners != f]
    codes = np.array(list(EBOPS))
    shares = np.array([[EBOPS[c][1] for c in codes], [EBOPS[c][2] for c in codes]])  # flow × code
    shares /= shares.sum(axis=1, keepdims=True)
    totals = np.stack([11e9 * np.exp(rng.normal(0, 0.08, T).cumsum() * 0.5),
                       14e9 * np.exp(rng.normal(0, 0.08, T).cumsum() * 0.5)])  # flow × year
    pw = w[partners] / w[partners].sum()
    # construction and technical/engineering services (SE, SJ) sold to Syria: a reconstruction market
    boost = np.ones((2, len(codes), len(partners)))
    boost[0][np.ix_(np.isin(codes, ["SE", "SJ"]), partners == syr)] = 40.0
    # flow × code × partner × year
    val = (totals[:, None, None, :] * shares[:, :, None, None] * (pw[None, None, :] * boost)[..., None]
           * rng.lognormal(0, 0.5, (2, len(codes), len(partners), 1))
           * rng.lognormal(0, 0.15, (2, len(codes), len(partners), T)))
    keep = (val > 2e5) | (iso[partners] == "SYR")[None, None, :, None]
    fl, co, pa, ye = np.nonzero(keep)
    return pd.DataFrame({
        "year": years[ye].astype("int16"), "reporter": focus,
        "partner": iso[partners][pa].astype(object),
        "flow": np.array(["export", "import"], dtype=object)[fl],
        "ebops": codes[co].astype(object), "value_usd": val[fl, co, pa, ye], "source": SOURCE,
    })
