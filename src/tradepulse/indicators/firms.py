"""Private-sector capability (roadmap axis 5): exporter counts, concentration, entry, exit and survival from
firm-level customs data (table ``firm_flows``, :data:`tradepulse.schema.FIRM_FLOWS`).

Convention: **World Bank Exporter Dynamics Database (EDD)** — Cebeci, Fernandes, Freund & Pierola (2012),
"Exporter Dynamics Database", World Bank Policy Research WP 6229; Fernandes, Freund & Pierola (2016),
"Exporter behavior, country size and stage of development: Evidence from the exporter dynamics database",
J. Development Economics 119.

* **Exporter** of year t = a firm whose exports x_ft (months, provinces, products and markets summed) are
  > 0 in t.  Cells (firm, partner, product) are summed first; cells whose sum is ≤ 0 or NULL and rows without
  a firm id are dropped (a cell with no positive value is no active relationship).
* **Products** are the stored HS codes (``level=2|4|6`` truncates them; the EDD uses HS6), **markets** are
  partners.  One flow kind per analysis (``flow="export"``; ``"import"`` gives importer statistics).
* **Panel** = the years (all, or the requested ``years``) in which the reporter's firm data hold exporters of
  the flow at all — the source's coverage, before partner / product / province filters, so a province without
  exporters in a covered year has zero exporters there (its exporters of the next year are entrants).  A year
  t has dynamics only when t−1 is in the panel (so the first panel year, and a year after a gap, has none):
  exporters of the first year may have entered earlier (left censoring, as in
  :mod:`tradepulse.indicators.survival`).
* **Units**: the whole selection, or each province (``by="province"``); a firm exporting from two provinces
  counts as an exporter of each (a province's exporters are the firms with x > 0 there).

Profile (per year): n = #exporters, X = Σ x_f, mean X/n, median, HHI = Σ (x_f/X)², top p % share =
Σ of the m largest x_f / X with m = max(1, ⌈p·n/100⌉) (integer arithmetic; ties do not change the value
because the m largest values are one multiset), mean #products and #markets per exporter, share of exporters
with one product in one market.

Dynamics (Bernard, Jensen, Redding & Schott 2009, "The margins of US trade", AER P&P 99(2)):
entrants E_t = exporters of t not of t−1, exiters (t−1 not t), incumbents (both); entry rate = |E_t|/n_t,
exit rate = |exiters|/n_{t−1}; entrant survival = share of E_{t−1} exporting in t (needs t−2 in the panel);
entrants' share = Σ_E x_t / X_t, exiters' share = Σ_exiters x_{t−1} / X_{t−1}.  Exact decomposition
(signed components)::

    X_t − X_{t−1} = Σ_E x_t  −  Σ_exit x_{t−1}  +  Σ_inc Δx_f
    Σ_inc Δx_f    = Σ_new pairs v_t − Σ_dropped pairs v_{t−1} + Σ_continuing pairs Δv

where pairs are (product, market) of incumbent firms.  Across an HS revision change (e.g. HS2017 → HS2022)
recoded products show up as dropped + new pairs; the firm-level terms are unaffected (``level=4`` or ``2``
reduces the effect).  Columns ``entry`` ≥ 0, ``exit`` ≤ 0,
``incumbents_change`` = ``new_pairs`` (≥ 0) + ``dropped_pairs`` (≤ 0) + ``continuing_pairs``.

Cohort survival: cohort c = the entrants of c (c−1 in the panel); share still exporting *in every year*
c…c+k (a spell of consecutive exporting years, no gap merging, as :func:`survival.build_spells`), for k = 1, 2,
… while c+k stays within the same run of consecutive panel years (right censoring: nothing beyond the panel).
So k = 1 equals the dynamics' entrant survival of year c+1.

Relational work (selection and the one aggregation per (year[, province], firm, partner, product)) is Ibis,
so it runs on DuckDB or PySpark; everything after runs on that small frame in vectorised pandas/NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tradepulse.errors import InputError, NoDataError, TradepulseError, UnknownNameError
from tradepulse.indicators import selection as sel

__all__ = ["firm_cells", "exporter_profile", "exporter_dynamics", "cohort_survival", "top_exporters",
           "profile_from_cells", "dynamics_from_cells", "cohorts_from_cells", "top_from_cells", "NO_FIRM_DATA",
           "TOP_PERCENTS"]

NO_FIRM_DATA = ("no firm-level data in the warehouse; ingest a customs file with a firm column using "
                "--target firm_flows")
TOP_PERCENTS = (1, 5, 25)
BY_CHOICES = (None, "province")
_NEEDED = ("year", "reporter", "firm", "partner", "flow", "product", "value_usd")

PROFILE_COLUMNS = ["n_exporters", "exports", "mean_exports", "median_exports", "hhi", "top1_share",
                   "top5_share", "top25_share", "mean_products", "mean_markets", "single_product_market_share"]
DYNAMICS_COLUMNS = ["n_exporters", "n_exporters_prev", "entrants", "exiters", "incumbents", "entry_rate",
                    "exit_rate", "entrant_survival", "entrants_share", "exiters_share", "exports", "exports_prev",
                    "change", "entry", "exit", "incumbents_change", "new_pairs", "dropped_pairs",
                    "continuing_pairs"]


# ------------------------------------------------------------------ selection + the one aggregation
def _firm_table(data):
    """The ``firm_flows`` Ibis table of ``data``; :class:`NoDataError` when it is missing or empty."""
    from tradepulse.warehouse import Warehouse, as_table

    if isinstance(data, Warehouse):
        found = data.raw.execute("SELECT count(*) FROM information_schema.tables "
                                 "WHERE table_name = 'firm_flows'").fetchall()[0][0]   # fetch all: no open result
        if not found:                          # a warehouse created before FIRM_FLOWS existed, opened read-only
            raise NoDataError(NO_FIRM_DATA)
    elif isinstance(data, pd.DataFrame) and data.empty:
        raise NoDataError(NO_FIRM_DATA)
    t = as_table(data, "firm_flows")
    missing = [c for c in _NEEDED if c not in t.columns]
    if missing:
        raise InputError(f"firm-level data lack column(s) {missing}; expected the firm_flows columns "
                         f"{list(_NEEDED)}")
    if int(t.count().execute()) == 0:
        raise NoDataError(NO_FIRM_DATA)
    return t


def firm_cells(data, *, reporter: str, years=None, province=None, partner=None, product=None,
               flow: str = "export", by: str | None = None, level: int | None = None,
               groups_file: str | None = None, product_groups_file: str | None = None) -> pd.DataFrame:
    """Positive sums of ``value_usd`` per (year[, province], firm, partner, product) of one reporter.

    Selection as :func:`tradepulse.indicators.selection.select_flows` (partner / product groups or HS prefixes,
    province in any spelling, years; same errors).  ``attrs["panel_years"]`` = the panel: the (selected) years in
    which the reporter has any exporter of this flow — before the partner / product / province filters.
    """
    if by not in BY_CHOICES:
        raise UnknownNameError("breakdown", str(by), ["province"])
    if level is not None and level not in (2, 4, 6):
        raise InputError(f"HS level must be 2, 4 or 6, not {level}")
    reps = sel._split(reporter)
    if len(reps) != 1:
        raise TradepulseError(f"firm indicators take one reporter at a time, not {reporter!r} (firm ids belong "
                              "to one country's customs)")
    t = _firm_table(data)
    base = sel.select_flows(t, reporter=reps[0], years=years, flow=flow, world="exclude")
    base = base.filter(base.firm.notnull())
    # the panel is the source's coverage (years in which the reporter has exporters at all), so a province or
    # product without exporters in a covered year has zero exporters there, not a missing year
    panel = [int(y) for y in sel.available(base.filter(base.value_usd > 0), "year")]
    t = sel.select_flows(base, province=province, partner=partner, product=product, world="exclude",
                         groups_file=groups_file, product_groups_file=product_groups_file)
    if level is not None:
        t = t.mutate(product=t["product"].substr(0, level))
    unit = ["province"] if by == "province" else []
    keys = ["year", *unit, "firm", "partner", "product"]
    agg = t.group_by(keys).aggregate(value_usd=t.value_usd.sum())
    agg = agg.filter(agg.value_usd > 0)
    df = agg.to_pandas()
    if df.empty:
        raise NoDataError(f"no firm with positive {flow} value for {reps[0]} in this selection")
    df["year"] = df["year"].astype("int64")
    df["value_usd"] = df["value_usd"].astype("float64")
    df["firm"] = df["firm"].astype(str)
    if unit:
        df["province"] = df["province"].astype(object).where(df["province"].notna(), "(unknown)")
    df = df.sort_values(keys, kind="mergesort").reset_index(drop=True)
    df.attrs.update(panel_years=sorted(set(panel) | {int(y) for y in df["year"].unique()}), reporter=reps[0],
                    unit=unit)
    return df


def _with_reporter(out: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    if "reporter" in cells.attrs:
        out.insert(1, "reporter", cells.attrs["reporter"])
    return out


# ------------------------------------------------------------------ core computations on cells
def _firm_year(cells: pd.DataFrame, unit: Sequence[str]) -> pd.DataFrame:
    """x per (year, unit, firm) with #products and #markets (distinct positive cells)."""
    keys = ["year", *unit, "firm"]
    return cells.groupby(keys, sort=True, observed=True).agg(
        x=("value_usd", "sum"), n_products=("product", "nunique"),
        n_markets=("partner", "nunique")).reset_index()


def profile_from_cells(cells: pd.DataFrame, unit: Sequence[str] = ()) -> pd.DataFrame:
    """Exporter profile per (year, unit) from positive cells (columns year, unit…, firm, partner, product,
    value_usd) — see the module docstring for the formulas."""
    g = ["year", *unit]
    f = _firm_year(cells, unit)
    f = f.sort_values([*g, "x", "firm"], ascending=[True] * len(g) + [False, True], kind="mergesort")
    grp = f.groupby(g, sort=False, observed=True)
    n = grp["x"].transform("size").to_numpy(np.int64)
    X = grp["x"].transform("sum").to_numpy()
    rank = grp.cumcount().to_numpy()
    x = f["x"].to_numpy()
    f["_s2"] = (x / X) ** 2
    for p in TOP_PERCENTS:
        m = np.maximum(1, (p * n + 99) // 100)            # ⌈p·n/100⌉ in integers, at least one firm
        f[f"_top{p}"] = np.where(rank < m, x, 0.0)
    f["_single"] = (f["n_products"] == 1) & (f["n_markets"] == 1)
    out = f.groupby(g, sort=True, observed=True).agg(
        n_exporters=("x", "size"), exports=("x", "sum"), median_exports=("x", "median"), hhi=("_s2", "sum"),
        **{f"_top{p}": (f"_top{p}", "sum") for p in TOP_PERCENTS},
        mean_products=("n_products", "mean"), mean_markets=("n_markets", "mean"),
        single_product_market_share=("_single", "mean")).reset_index()
    out["mean_exports"] = out["exports"] / out["n_exporters"]
    for p in TOP_PERCENTS:
        out[f"top{p}_share"] = out.pop(f"_top{p}") / out["exports"]
    out["n_exporters"] = out["n_exporters"].astype("int64")
    return _with_reporter(out[[*g, *PROFILE_COLUMNS]], cells)


def _lookup(sorted_codes: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(found, position) of each ``query`` code in the sorted unique array ``sorted_codes``."""
    pos = np.searchsorted(sorted_codes, query)
    pos_c = np.minimum(pos, max(len(sorted_codes) - 1, 0))
    found = (pos < len(sorted_codes)) & (sorted_codes[pos_c] == query) if len(sorted_codes) else \
        np.zeros(len(query), dtype=bool)
    return found, pos_c


def _union_next(codes: np.ndarray) -> np.ndarray:
    """Sorted distinct values of ``codes`` ∪ ``codes + 1`` (sort + dedupe: faster than np.union1d's hash path)."""
    c = np.concatenate([codes, codes + 1])
    c.sort(kind="stable")
    return c[np.r_[True, c[1:] != c[:-1]]] if len(c) else c


def _sum_by(codes: np.ndarray, columns: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Sums of each column per distinct code (sorted codes, bincount)."""
    u, inv = np.unique(codes, return_inverse=True)
    return u, {k: np.bincount(inv, weights=np.asarray(v, dtype="float64"), minlength=len(u)) for k, v in columns.items()}


def dynamics_from_cells(cells: pd.DataFrame, unit: Sequence[str] = (),
                        panel_years: Sequence[int] | None = None) -> pd.DataFrame:
    """Entry, exit, survival and the exact growth decomposition per (year, unit) — module docstring.

    Vectorised on integer codes: firm-years and pair-years are coded ``id·span + (year − first)`` and the
    previous year is found with a sorted search (no join on text keys, no loop over firms).
    """
    unit = list(unit)
    g, fk = ["year", *unit], [*unit, "firm"]
    years = sorted(int(y) for y in (panel_years if panel_years is not None else cells["year"].unique()))
    y0, span = years[0], np.int64(years[-1] - years[0] + 2)        # + 2: room for year + 1 inside a block
    in_panel = np.zeros(int(span) + 1, dtype=bool)
    in_panel[np.asarray(years) - y0] = True
    attrs = dict(cells.attrs)
    cells = cells[np.isin(cells["year"].to_numpy(), years)]
    cells.attrs.update(attrs)
    yi = cells["year"].to_numpy(np.int64) - y0
    v = cells["value_usd"].to_numpy("float64")
    fid = cells.groupby(fk, sort=False, observed=True).ngroup().to_numpy(np.int64)
    pid = cells.groupby([*fk, "partner", "product"], sort=False, observed=True).ngroup().to_numpy(np.int64)
    n_firms = int(fid.max()) + 1 if len(fid) else 0
    firm_of_pair = np.zeros(int(pid.max()) + 1 if len(pid) else 0, dtype=np.int64)
    firm_of_pair[pid] = fid
    if unit:
        uid_row = cells.groupby(unit, sort=True, observed=True).ngroup().to_numpy(np.int64)
        unit_of_firm = np.zeros(n_firms, dtype=np.int64)
        unit_of_firm[fid] = uid_row
        first_row = pd.Series(np.arange(len(cells))).groupby(uid_row).first().to_numpy()
        unit_labels = cells[unit].iloc[first_row].reset_index(drop=True)
    else:
        unit_of_firm = np.zeros(n_firms, dtype=np.int64)
        unit_labels = pd.DataFrame(index=[0])

    def valid_t(codes):            # year index t of a code, and whether t and t − 1 are both in the panel
        t = codes % span
        return t, in_panel[t] & (t >= 1) & in_panel[np.maximum(t - 1, 0)]

    # firm-years: x_ft
    fu, fs = _sum_by(fid * span + yi, {"x": v})
    fx = fs["x"]
    cand = _union_next(fu)
    t, ok = valid_t(cand)
    cand, t = cand[ok], t[ok]
    if not len(cand):
        raise NoDataError("exporter dynamics need two consecutive years in the selection; panel years: "
                          + ", ".join(map(str, years)))
    now, i_now = _lookup(fu, cand)
    before, i_before = _lookup(fu, cand - 1)
    x, xp = np.where(now, fx[i_now], 0.0), np.where(before, fx[i_before], 0.0)
    ent, ext, inc = now & ~before, before & ~now, now & before
    firm = cand // span
    gcode = unit_of_firm[firm] * span + t
    # pairs (partner, product) of incumbent firms
    pu, ps = _sum_by(pid * span + yi, {"v": v})
    pcand = _union_next(pu)
    pt, pok = valid_t(pcand)
    pcand, pt = pcand[pok], pt[pok]
    pfirm = firm_of_pair[pcand // span]
    p_inc, _ = _lookup(cand[inc], pfirm * span + pt)
    pcand, pt, pfirm = pcand[p_inc], pt[p_inc], pfirm[p_inc]
    pnow, ip_now = _lookup(pu, pcand)
    pbefore, ip_before = _lookup(pu, pcand - 1)
    pv, pvp = np.where(pnow, ps["v"][ip_now], 0.0), np.where(pbefore, ps["v"][ip_before], 0.0)
    # entrant survival: entrants of t − 1 (whose t − 2 is in the panel) still exporting in t
    e_next = cand[ent] + 1
    et = e_next % span
    e_ok = in_panel[et]
    e_next, et = e_next[e_ok], et[e_ok]
    alive, _ = _lookup(fu, e_next)

    gu, sums = _sum_by(np.concatenate([gcode, unit_of_firm[pfirm] * span + pt,
                                       unit_of_firm[e_next // span] * span + et]), {
        k: np.concatenate([a, np.zeros(len(pcand)), np.zeros(len(e_next))]) for k, a in {
            "n_exporters": now, "n_exporters_prev": before, "entrants": ent, "exiters": ext, "incumbents": inc,
            "exports": x, "exports_prev": xp, "entry": np.where(ent, x, 0.0), "exit": np.where(ext, -xp, 0.0),
            "incumbents_change": np.where(inc, x - xp, 0.0)}.items()}
        | {k: np.concatenate([np.zeros(len(cand)), a, np.zeros(len(e_next))]) for k, a in {
            "new_pairs": np.where(pnow & ~pbefore, pv, 0.0), "dropped_pairs": np.where(pbefore & ~pnow, -pvp, 0.0),
            "continuing_pairs": np.where(pnow & pbefore, pv - pvp, 0.0)}.items()}
        | {k: np.concatenate([np.zeros(len(cand)), np.zeros(len(pcand)), a]) for k, a in {
            "_n": np.ones(len(e_next)), "_k": alive}.items()})
    out = pd.DataFrame(sums)
    out.insert(0, "year", gu % span + y0)
    labels = unit_labels.iloc[gu // span].reset_index(drop=True)
    for i, col in enumerate(unit):
        out.insert(1 + i, col, labels[col].to_numpy())
    if not unit:      # every panel year t with t−1 in the panel gets a row, even with no exporter in both
        valid = [y for y in years if y - 1 in set(years)]
        out = out.set_index("year").reindex(valid, fill_value=0).rename_axis("year").reset_index()
    out["change"] = out["exports"] - out["exports_prev"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["entry_rate"] = out["entrants"] / out["n_exporters"].where(out["n_exporters"] > 0)
        out["exit_rate"] = out["exiters"] / out["n_exporters_prev"].where(out["n_exporters_prev"] > 0)
        out["entrant_survival"] = out["_k"] / out["_n"].where(out["_n"] > 0)
        out["entrants_share"] = out["entry"] / out["exports"].where(out["exports"] > 0)
        out["exiters_share"] = -out["exit"] / out["exports_prev"].where(out["exports_prev"] > 0)
    for col in ("n_exporters", "n_exporters_prev", "entrants", "exiters", "incumbents"):
        out[col] = np.rint(out[col]).astype("int64")
    out = out.sort_values(g, kind="mergesort").reset_index(drop=True)
    return _with_reporter(out[[*g, *DYNAMICS_COLUMNS]], cells)


def _run_end(years: Sequence[int]) -> dict[int, int]:
    """For every panel year, the last year of its run of consecutive panel years."""
    ys = np.asarray(sorted(years), dtype=np.int64)
    brk = np.r_[ys[1:] != ys[:-1] + 1, True]            # True at the last year of each run
    ends = ys[brk]
    return dict(zip(ys.tolist(), ends[np.searchsorted(ends, ys)].tolist()))


def cohorts_from_cells(cells: pd.DataFrame, unit: Sequence[str] = (),
                       panel_years: Sequence[int] | None = None) -> pd.DataFrame:
    """Share of each entry cohort still exporting (every year) k = 1, 2, … years later — module docstring.

    One row per (unit, cohort, k): ``entrants`` (cohort size), ``survivors``, ``survival_rate``, ``year`` = c+k.
    """
    from tradepulse.indicators.survival import build_spells

    unit = list(unit)
    fk = [*unit, "firm"]
    years = sorted(int(y) for y in (panel_years if panel_years is not None else cells["year"].unique()))
    f = cells.groupby(["year", *fk], observed=True)["value_usd"].sum().rename("x").reset_index()
    no_cohort = NoDataError("no entry cohort: cohorts need an entry year whose previous year is in the panel "
                            f"(panel years: {', '.join(map(str, years))})")
    if not set(years) & {y + 1 for y in years}:
        raise no_cohort
    # the panel years are the source's coverage already (censor_gaps=False: build_spells must not re-derive it)
    sp = build_spells(f, keys=fk, value="x", first_year=years[0], last_year=years[-1],
                      include_left_censored=True, hs_revision_column=None, censor_gaps=False)
    sp = sp[np.isin(sp["start"] - 1, np.asarray(years))]     # entry observed: c−1 is in the panel
    cols = [*unit, "cohort", "k", "year", "entrants", "survivors", "survival_rate"]
    if sp.empty:
        raise no_cohort
    run_end = _run_end(years)
    cnt = sp.groupby([*unit, "start", "duration"], observed=True).size().unstack("duration", fill_value=0)
    dmax = int(max(cnt.columns.max(), max(run_end[c] - c for c in sp["start"].unique()) + 1))
    cnt = cnt.reindex(columns=range(1, dmax + 2), fill_value=0)
    ge = cnt.iloc[:, ::-1].cumsum(axis=1).iloc[:, ::-1]          # ge[d] = #spells with duration ≥ d
    n0 = ge[1]
    surv = ge.iloc[:, 1:].copy()                                  # survivors(k) = #(duration ≥ k+1)
    surv.columns = range(1, surv.shape[1] + 1)
    long = surv.stack().rename("survivors").reset_index()
    long.columns = [*unit, "cohort", "k", "survivors"]
    long = long.merge(n0.rename("entrants").reset_index().rename(columns={"start": "cohort"}),
                      on=[*unit, "cohort"])
    horizon = long["cohort"].map(run_end) - long["cohort"]
    long = long[long["k"] <= horizon]
    if long.empty:
        raise NoDataError("no cohort can be followed: every cohort enters in the last year of its run of consecutive "
                          "panel years")
    long["year"] = long["cohort"] + long["k"]
    long["survival_rate"] = long["survivors"] / long["entrants"]
    for c in ("cohort", "k", "year", "entrants", "survivors"):
        long[c] = long[c].astype("int64")
    out = long.sort_values([*unit, "cohort", "k"]).reset_index(drop=True)[cols]
    return _with_reporter(out, cells)


def top_from_cells(cells: pd.DataFrame, *, year: int | None = None, n: int = 20) -> pd.DataFrame:
    """The ``n`` largest exporters of ``year`` (default: last panel year), ties broken by firm id.

    ``share`` = x_f / X of the year, ``cumulative_share``; ``n_products``, ``n_markets`` of that year;
    ``years_active`` = panel years ≤ ``year`` with x_f > 0; ``first_year`` = first such year.
    """
    f = _firm_year(cells, [])
    years = sorted(int(y) for y in f["year"].unique())
    year = years[-1] if year is None else int(year)
    if year not in years:
        raise NoDataError(f"no exporter in {year}; years with exporters: {', '.join(map(str, years))}")
    past = f[f["year"] <= year].groupby("firm").agg(years_active=("year", "size"), first_year=("year", "min"))
    cur = f[f["year"] == year].sort_values(["x", "firm"], ascending=[False, True], kind="mergesort")
    total = cur["x"].sum()
    cur = cur.head(max(int(n), 0)).join(past, on="firm")
    out = pd.DataFrame({
        "year": year, "rank": np.arange(1, len(cur) + 1), "firm": cur["firm"].to_numpy(),
        "value_usd": cur["x"].to_numpy(), "share": cur["x"].to_numpy() / total,
        "n_products": cur["n_products"].to_numpy(), "n_markets": cur["n_markets"].to_numpy(),
        "years_active": cur["years_active"].to_numpy(np.int64), "first_year": cur["first_year"].to_numpy(np.int64)})
    out.insert(5, "cumulative_share", out["share"].cumsum())
    return _with_reporter(out, cells)


# ------------------------------------------------------------------ public API on firm_flows
_DOC_ARGS = """``data``: a Warehouse (its ``firm_flows`` table), an Ibis table or a pandas frame of FIRM_FLOWS;
    ``reporter``: one ISO3 code; ``years``, ``province`` (any spelling), ``partner`` (group / ISO3),
    ``product`` (group / HS prefixes), ``flow``: as :func:`tradepulse.indicators.selection.select_flows`;
    ``by="province"``: one row per province as well; ``level``: truncate HS codes to 2/4/6 digits."""


def exporter_profile(data, *, reporter: str, years=None, province=None, partner=None, product=None,
                     flow: str = "export", by: str | None = None, level: int | None = None,
                     groups_file: str | None = None, product_groups_file: str | None = None) -> pd.DataFrame:
    """One row per year (× province): n_exporters, exports, mean/median per exporter, HHI, top 1/5/25 %
    shares, mean products and markets per exporter, single-product single-market share (EDD convention).
    """
    cells = firm_cells(data, reporter=reporter, years=years, province=province, partner=partner, product=product,
                       flow=flow, by=by, level=level, groups_file=groups_file,
                       product_groups_file=product_groups_file)
    return profile_from_cells(cells, cells.attrs["unit"])


def exporter_dynamics(data, *, reporter: str, years=None, province=None, partner=None, product=None,
                      flow: str = "export", by: str | None = None, level: int | None = None,
                      groups_file: str | None = None, product_groups_file: str | None = None) -> pd.DataFrame:
    """Entry, exit, incumbents, rates, entrant survival, value shares and the exact firm-margin decomposition
    of export growth per year t with t−1 in the panel (EDD; Bernard et al. 2009)."""
    cells = firm_cells(data, reporter=reporter, years=years, province=province, partner=partner, product=product,
                       flow=flow, by=by, level=level, groups_file=groups_file,
                       product_groups_file=product_groups_file)
    return dynamics_from_cells(cells, cells.attrs["unit"], cells.attrs["panel_years"])


def cohort_survival(data, *, reporter: str, years=None, province=None, partner=None, product=None,
                    flow: str = "export", by: str | None = None, level: int | None = None,
                    groups_file: str | None = None, product_groups_file: str | None = None) -> pd.DataFrame:
    """Share of each entry cohort still exporting k years later (right- and left-censored, module docstring)."""
    cells = firm_cells(data, reporter=reporter, years=years, province=province, partner=partner, product=product,
                       flow=flow, by=by, level=level, groups_file=groups_file,
                       product_groups_file=product_groups_file)
    return cohorts_from_cells(cells, cells.attrs["unit"], cells.attrs["panel_years"])


def top_exporters(data, *, reporter: str, year: int | None = None, n: int = 20, years=None, province=None,
                  partner=None, product=None, flow: str = "export", level: int | None = None,
                  groups_file: str | None = None, product_groups_file: str | None = None) -> pd.DataFrame:
    """The ``n`` largest exporters of ``year`` (default the last panel year): value, share, cumulative share,
    products, markets, years active and first year within the panel (ids as stored; no names)."""
    cells = firm_cells(data, reporter=reporter, years=years, province=province, partner=partner, product=product,
                       flow=flow, level=level, groups_file=groups_file, product_groups_file=product_groups_file)
    return top_from_cells(cells, year=year, n=n)


for _f in (exporter_profile, exporter_dynamics, cohort_survival, top_exporters):
    _f.__doc__ = (_f.__doc__ or "") + "\n\n    " + _DOC_ARGS + "\n"
