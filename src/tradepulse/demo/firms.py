"""SYNTHETIC exporters for the demo: the focus country's customs export rows split among made-up firms.

Nothing here describes a real firm.  Ids look like ``IR-SYN-000123`` (ISO2 of the focus country, ``SYN``, a
number) so no one can mistake them for customs or tax ids.

Model (NumPy only, vectorised over firms, memberships and cells; no loop over rows):

1. **Cells** are the customs export rows (year × province × partner × HS4 product); a **group** is a
   (province, product) pair.  Each group gets ``1 + Poisson(λ_g)`` firms of its own, λ_g ∝ V_g^0.35 (V_g = the
   group's value over all years), scaled so the pool has about ``firms_per_group`` firms per group on average.
2. **Sizes** are Pareto: ``s = 1 + Pareto(α)`` with α = :data:`PARETO_ALPHA` (Lomax form, ``numpy`` ``pareto``);
   a Pareto tail with α ≈ 1 gives the skew of the World Bank Exporter Dynamics Database (EDD; Fernandes,
   Freund & Pierola 2016, *J. Dev. Econ.* 119:121-137): the top 5 % of exporters ship ≈ 70-90 % of the value.
3. **Products**: besides its own group a firm joins ``min(3, Poisson(0.3·log₂(1 + s)))`` other groups of its
   province (drawn ∝ V_g^0.5): small firms sell one product, large ones several.
4. **Markets**: in a cell the firm sells iff ``H(firm, partner) < π(s) = min(1, 0.3 + 0.35·log₁₀ s)``
   (``H`` a fixed hash uniform, so a firm keeps its markets across years); the largest active firm of a cell
   always sells, so every cell has an exporter.
5. **Entry and exit**: entry year uniform on [first − 8, last]; years active ~ Geometric(h(s)) with exit
   hazard ``h(s) = clip(0.6·s^-0.6, 0.04, 0.6)``: many small entrants leave within a year or two, large firms
   persist (EDD: about half of the entrants survive their first year).  The largest firm of a group is kept
   active over the group's years without another active member (so no cell lacks an exporter).
6. **Values**: a cell's value (and weight) is split over its firms ∝ ``s^SHARE_POWER · r(a) · LogNormal(0, 0.5)``
   with the ramp ``r = (min(1, (a + 1)/4) · min(1, (l + 1)/3))²`` (a = years since entry, l = years left before
   exit: entrants start small and exiters fade out, so — as in the EDD — entrants and exiters ship a small
   share of exports); the firm with the largest share takes the remainder, so the
   firm rows sum to the customs row exactly (up to the last bit).

``generate_firms`` returns FIRM_FLOWS rows (without ``load_id``); ``write_firms_csv`` lays them out as a
Persian-headed customs extract (:data:`FIRM_HEADERS`), which :func:`tradepulse.demo.build` loads through the
customs reader with ``target="firm_flows"`` like a real extract.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tradepulse.schema import FIRM_FLOWS

#: Pareto (Lomax) tail index of firm sizes.
PARETO_ALPHA = 0.85
#: A firm's share of a cell ∝ size ** SHARE_POWER (> 1: the big exporter of a cell dominates it).
SHARE_POWER = 2.0
#: Persian headers of the demo firm CSV → canonical columns (all in the customs_fa mapping).
FIRM_HEADERS: dict[str, str] = {
    "سال": "year",
    "استان": "province",
    "شناسه صادرکننده": "firm",
    "نوع جریان": "flow",
    "کشور طرف معامله": "partner",
    "کد تعرفه": "product",
    "ارزش دلاری": "value_usd",
    "وزن (کیلوگرم)": "quantity",
}
_BACKLOG = 8  # years before the first data year in which incumbents may have entered


def _hash_uniform(a: np.ndarray, b: np.ndarray, salt: int) -> np.ndarray:
    """U(0,1) from two integer arrays by the splitmix64 finaliser (fixed per pair, independent of the seed)."""
    with np.errstate(over="ignore"):
        x = (a.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ (b.astype(np.uint64) + np.uint64(salt))
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts c_i: (i repeated c_i times, 0..c_i−1 within each i) — the ragged ``range`` without loops."""
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(counts.sum()) - starts[owner]


def generate_firms(customs: pd.DataFrame, *, focus: str, seed: int = 1400, firms_per_group: float = 2.5,
                   iso2: str | None = None) -> pd.DataFrame:
    """Split the focus country's customs export rows among SYNTHETIC exporters (see the module docstring).

    Returns FIRM_FLOWS columns without ``load_id`` (``source`` = ``demo-synthetic``), one row per firm × cell;
    summed over ``firm`` they give the customs export rows (year, province, partner, product) exactly.
    """
    from tradepulse.demo.world import SOURCE

    rng = np.random.default_rng([seed, 0x5F1A])
    x = customs[(customs["flow"] == "export") & (customs["reporter"] == focus)].reset_index(drop=True)
    cols = [c for c in FIRM_FLOWS if c != "load_id"]
    if x.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    if iso2 is None:
        from tradepulse import reference
        iso2 = str(reference.countries().set_index("iso3")["iso2"].get(focus, focus[:2])) or focus[:2]
    years = x["year"].to_numpy(np.int64)
    y0, y1 = int(years.min()), int(years.max())
    T = y1 - y0 + 1
    # 1. groups = (province, product), ordered by province so a province's groups are contiguous
    gkey = x["province"].astype(str) + "\x1f" + x["product"].astype(str)
    gcode, guniq = pd.factorize(gkey, sort=True)
    G = len(guniq)
    gprov, _ = pd.factorize(pd.Series(guniq).str.split("\x1f").str[0], sort=True)
    value = x["value_usd"].to_numpy(np.float64)
    V = np.bincount(gcode, value, minlength=G)
    lam = V ** 0.35
    lam *= (firms_per_group - 1.0) * G / lam.sum()
    n_own = 1 + rng.poisson(lam)
    # 2. firms: own group, Pareto size, entry year and years active
    F = int(n_own.sum())
    fgroup = np.repeat(np.arange(G), n_own)
    size = 1.0 + rng.pareto(PARETO_ALPHA, F)
    hazard = np.clip(0.6 * size ** -0.6, 0.04, 0.6)
    entry = rng.integers(y0 - _BACKLOG, y1 + 1, F)
    exit_ = entry + rng.geometric(hazard) - 1          # last active year
    # the largest firm of each group covers the group's years that no other member covers
    order = np.lexsort((-size, fgroup))
    anchor = order[np.r_[0, np.flatnonzero(np.diff(fgroup[order])) + 1]]   # one per group, group order
    yrs = np.arange(y0, y1 + 1)
    act = (entry[:, None] <= yrs[None, :]) & (exit_[:, None] >= yrs[None, :])
    act[anchor] = False
    covered = np.zeros((G, T), dtype=np.int64)
    np.add.at(covered, fgroup, act.astype(np.int64))
    needed = np.zeros((G, T), dtype=bool)
    needed[gcode, years - y0] = True
    gap = needed & (covered == 0)
    has_gap = gap.any(axis=1)
    first_gap = y0 + np.argmax(gap, axis=1)
    last_gap = y1 - np.argmax(gap[:, ::-1], axis=1)
    a = anchor[has_gap]
    entry[a] = np.minimum(entry[a], first_gap[has_gap])
    exit_[a] = np.maximum(exit_[a], last_gap[has_gap])
    # 3. extra products (groups of the same province, drawn ∝ V^0.5)
    n_extra = np.minimum(3, rng.poisson(0.3 * np.log2(1.0 + size)))
    ef, _ = _expand(n_extra)
    w = np.sqrt(V)
    cum = np.cumsum(w)
    pstart = np.r_[0, np.flatnonzero(np.diff(gprov)) + 1]        # first group of each province
    pend = np.r_[pstart[1:], G]
    prov_f = gprov[fgroup[ef]]
    lo = np.where(pstart[prov_f] > 0, cum[pstart[prov_f] - 1], 0.0)
    hi = cum[pend[prov_f] - 1]
    eg = np.searchsorted(cum, lo + rng.random(len(ef)) * (hi - lo), side="right")
    eg = np.minimum(eg, pend[prov_f] - 1)
    mem = np.unique(np.c_[np.r_[fgroup, eg], np.r_[np.arange(F), ef]], axis=0)  # (group, firm), by group
    mgroup, mfirm = mem[:, 0], mem[:, 1]
    mstart = np.searchsorted(mgroup, np.arange(G))
    mcount = np.bincount(mgroup, minlength=G)
    # 4. pairs cell × member of its group; keep the active firms that serve the cell's partner
    cell, k = _expand(mcount[gcode])
    firm = mfirm[mstart[gcode[cell]] + k]
    yr = years[cell]
    keep = (entry[firm] <= yr) & (exit_[firm] >= yr)
    cell, firm = cell[keep], firm[keep]
    pcode, _ = pd.factorize(x["partner"])
    serve = _hash_uniform(firm, pcode[cell], 17) < np.minimum(1.0, 0.3 + 0.35 * np.log10(size[firm]))
    by = np.lexsort((-size[firm], cell))            # per cell, largest firm first
    first = np.zeros(len(cell), dtype=bool)
    first[by[np.r_[0, np.flatnonzero(np.diff(cell[by])) + 1]]] = True
    keep = serve | first
    cell, firm, first = cell[keep], firm[keep], first[keep]
    # 5. values: shares ∝ size × log-normal noise; the largest share takes the remainder (exact sums)
    age = years[cell] - entry[firm]                 # 0 in the entry year
    left = exit_[firm] - years[cell]                # 0 in the last year
    # entrants start small and grow over four years; firms about to exit shrink over their last three
    ramp = (np.minimum(1.0, (age + 1.0) / 4.0) * np.minimum(1.0, (left + 1.0) / 3.0)) ** 2
    wt = size[firm] ** SHARE_POWER * ramp * rng.lognormal(0.0, 0.5, len(cell))
    share = wt / np.bincount(cell, wt, minlength=len(x))[cell]
    top = np.lexsort((-share, cell))
    lead = np.zeros(len(cell), dtype=bool)
    lead[top[np.r_[0, np.flatnonzero(np.diff(cell[top])) + 1]]] = True
    out_v = value[cell] * share
    rest = np.bincount(cell, np.where(lead, 0.0, out_v), minlength=len(x))
    out_v[lead] = value[cell[lead]] - rest[cell[lead]]
    qty = x["quantity"].to_numpy(np.float64)
    out_q = qty[cell] * share
    # ids: numbered by province, group, then firm order
    ids = np.char.add(f"{iso2}-SYN-", np.char.zfill(np.arange(F).astype(str), 6)).astype(object)
    o = np.lexsort((firm, cell))
    cell, firm, out_v, out_q = cell[o], firm[o], out_v[o], out_q[o]
    out = pd.DataFrame({
        "year": x["year"].to_numpy()[cell].astype("int16"), "month": pd.array([pd.NA] * len(cell), dtype="Int8"),
        "reporter": focus, "firm": ids[firm], "partner": x["partner"].to_numpy(object)[cell], "flow": "export",
        "product": x["product"].to_numpy(object)[cell], "hs_revision": x["hs_revision"].to_numpy(object)[cell],
        "value_usd": out_v, "quantity": out_q, "unit": x["unit"].to_numpy(object)[cell],
        "province": x["province"].to_numpy(object)[cell], "source": SOURCE})
    return out[cols]


def write_firms_csv(firms: pd.DataFrame, path: Path) -> Path:
    """Write the SYNTHETIC firm rows as a Persian-headed customs extract (:data:`FIRM_HEADERS`): flows in Persian
    (صادرات), partners and provinces by Persian name, Gregorian years, HS4 codes as text, USD and kilograms."""
    from tradepulse import reference
    from tradepulse.reference.provinces import provinces

    inv = {v: k for k, v in FIRM_HEADERS.items()}
    name_fa = reference.countries().set_index("iso3")["name_fa"]
    prov_fa = provinces().set_index("name_en")["name_fa"]
    prov_fa = prov_fa[~prov_fa.index.duplicated()]
    out = pd.DataFrame({inv[c]: firms[c] for c in FIRM_HEADERS.values()})
    out[inv["flow"]] = firms["flow"].map({"export": "صادرات", "import": "واردات"})
    out[inv["partner"]] = firms["partner"].map(name_fa).fillna(firms["partner"])
    out[inv["province"]] = firms["province"].map(prov_fa).fillna(firms["province"])
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, encoding="utf-8")
    return path


def firm_stats(firms: pd.DataFrame) -> dict:
    """Exporters per year, top-5 % value share, entry and exit rates (EDD definitions: entrants in t ÷ exporters
    in t; exporters of t−1 absent in t ÷ exporters in t−1) and first-year survival of entrants, averaged over
    the years with a previous year."""
    tot = firms.groupby(["year", "firm"], sort=True)["value_usd"].sum().reset_index()
    yrs = np.sort(tot["year"].unique())
    fy = tot.groupby("year")
    top5 = []
    for _y, g in fy:  # one iteration per year (≤ 14)
        s = np.sort(g["value_usd"].to_numpy())[::-1]
        top5.append(s[: max(1, int(np.ceil(0.05 * len(s))))].sum() / s.sum())
    sets = {int(y): set(g["firm"]) for y, g in fy}
    entry, exit_, surv = [], [], []
    for a, b in zip(yrs[:-1], yrs[1:]):
        prev, cur = sets[int(a)], sets[int(b)]
        entry.append(len(cur - prev) / len(cur))
        exit_.append(len(prev - cur) / len(prev))
    for a, b, c in zip(yrs[:-2], yrs[1:-1], yrs[2:]):
        new = sets[int(b)] - sets[int(a)]
        surv.append(len(new & sets[int(c)]) / max(1, len(new)))
    return {"firms": int(firms["firm"].nunique()), "exporters_per_year": float(fy.size().mean()),
            "top5_share": float(np.mean(top5)), "entry_rate": float(np.mean(entry)),
            "exit_rate": float(np.mean(exit_)), "entrant_survival_1y": float(np.mean(surv))}
