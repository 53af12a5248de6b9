"""Export survival: spells of export relationships and Kaplan–Meier survival.

A *relationship* is a key such as (reporter, partner, product).  A *spell* is a run of consecutive years in
which the relationship's value exceeds a threshold.  Conventions (Besedeš & Prusa 2006, "Ins, outs, and the
duration of trade", Canadian J. Economics 39(1); Hess & Persson 2011):

* **Right-censoring**: a spell still active in the last year of the panel has not been seen to end; its
  event indicator is 0 (censored).  All other spells end (event = 1) in the year after their last year.
* **Left-censoring**: a spell active in the first year of the panel may have started earlier; such spells are
  flagged ``left_censored`` and excluded by default (``include_left_censored=False``) because their
  true duration is unknown.
* **Gaps**: with ``merge_gaps=1`` a single missing year between two active years is treated as measurement
  error and the two spells are merged (Besedeš & Prusa's robustness check); default 0 = no merging.
* **Coverage (non-reporting years)**: a year in which a reporter has no row at all in the data is *not
  observed* for that reporter — it is not a year of zero trade.  With ``merge_gaps = g`` the end of a spell
  ending in year e is only seen when the years e+1 … e+g+1 are all inside the panel and observed (otherwise
  activity there could continue or bridge the spell): a spell ending before a non-reporting year, or within
  g years of the panel end, is **right-censored** (event 0), not a failure.  Symmetrically, a spell whose
  years s−g−1 … s−1 are not all inside the panel and observed has an unknown start and is
  **left-censored** (with g = 0 this is the usual "active in the first panel year" rule plus "starts right
  after a non-reporting year").  Columns ``gap_before`` / ``gap_after`` say which spells a non-reporting
  year censored; the counts travel as warnings in the result's :mod:`tradepulse.meta`.  A panel without
  two consecutive observed years cannot show a single spell ending and is refused (:class:`NoDataError`).
* **Duration** = last year − first year + 1, in years.
* **One HS vintage per analysis**: codes from different HS revisions are not comparable relationships,
  so :func:`build_spells` refuses input mixing ``hs_revision`` values unless told otherwise.

Kaplan–Meier (Kaplan & Meier 1958): with distinct durations t_1 < t_2 < …, d_i spells ending at t_i and n_i
spells at risk (duration ≥ t_i), ``S(t) = Π_{t_i ≤ t} (1 − d_i / n_i)``; hazard ``h(t_i) = d_i / n_i``;
Greenwood variance ``Var[S(t)] = S(t)² Σ_{t_i ≤ t} d_i / (n_i (n_i − d_i))``; confidence band with the
*exponential Greenwood* (log(−log)) transform, the same as ``lifelines.KaplanMeierFitter``:
``exp(−exp(log(−log S) ± z·√V / log S))`` with ``V = Σ d_i/(n_i(n_i−d_i))``.  Median duration = smallest t
with S(t) ≤ 0.5 (∞ when S never falls to 0.5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
import pandas as pd

from tradepulse.meta import provenance
from tradepulse.errors import InputError, NoDataError
from tradepulse.i18n import N_
from tradepulse.meta import Note, ResultMeta, attach, meta_of

DEFAULT_KEYS = ("reporter", "partner", "product")


# ------------------------------------------------------------------ spells
def build_spells(flows: pd.DataFrame, *, keys: tuple[str, ...] | list[str] = DEFAULT_KEYS,
                 year: str = "year", value: str = "value_usd", threshold: float = 0.0,
                 merge_gaps: int = 0, first_year: int | None = None, last_year: int | None = None,
                 include_left_censored: bool = False, hs_revision_column: str | None = "hs_revision",
                 coverage_by: str | None = "auto", observed: pd.DataFrame | None = None,
                 censor_gaps: bool = True) -> pd.DataFrame:
    """Spells of relationships ``keys`` from annual flows (one row per key × year; rows are summed first).

    Returns one row per spell: the key columns, ``start``, ``end``, ``duration`` (years), ``event``
    (1 = the spell ended inside the panel, 0 = right-censored), ``left_censored``, ``gap_before`` (the
    start follows a non-reporting year) and ``gap_after`` (the spell is censored by a non-reporting year).
    The panel runs from ``first_year`` to ``last_year`` (default: the years present in ``flows``).

    Coverage: ``coverage_by`` (``"auto"``: ``"reporter"`` when that is a key, else None) is the unit that
    reports; a year is
    observed for it when ``flows`` hold any row of it in that year, whatever the value (so a year of
    zero or below-threshold trade is observed; a year without any row is not).  ``observed`` overrides
    this with explicit ``[coverage_by, year]`` rows (e.g. the reporter-years of the whole dataset when
    ``flows`` were filtered to some products).  ``coverage_by=None``: the whole input is one unit (years
    without any row are not observed).  ``censor_gaps=False`` restores the coverage-blind rule (every
    end before the last panel year is a failure; kept for comparisons).
    Vectorised: relationships are coded as integers and years sorted with NumPy, no per-group Python.
    """
    keys = list(keys)
    missing = [c for c in [*keys, year, value] if c not in flows.columns]
    if missing:
        raise InputError(f"flows lack column(s) {missing}; have {list(flows.columns)}")
    if merge_gaps < 0:
        raise ValueError("merge_gaps must be ≥ 0")
    if hs_revision_column and hs_revision_column in flows.columns:
        revisions = pd.unique(flows[hs_revision_column].dropna())
        if len(revisions) > 1:
            raise InputError(f"flows mix HS revisions {sorted(map(str, revisions))}; survival needs one HS vintage "
                             "per analysis — convert or filter first", column=hs_revision_column)
    if flows.empty:
        raise NoDataError("no flows to build spells from")
    if coverage_by == "auto":
        coverage_by = "reporter" if "reporter" in keys else None
    if coverage_by is not None and coverage_by not in flows.columns:
        raise InputError(f"coverage column {coverage_by!r} is not in flows; have {list(flows.columns)}",
                         column=coverage_by)
    years_all = flows[year].to_numpy()
    first = int(years_all.min()) if first_year is None else int(first_year)
    last = int(years_all.max()) if last_year is None else int(last_year)
    span = np.int64(last - first + 1)
    cov_units, obs = _coverage(flows if observed is None else observed, coverage_by, year, first, last,
                               all_observed=not censor_gaps)
    _require_two_consecutive(obs, cov_units, coverage_by, first, last)

    active = flows[(flows[value].to_numpy() > threshold) & (years_all >= first) & (years_all <= last)]
    if active.empty:
        raise NoDataError(f"no flow above the threshold {threshold} in {first}–{last}")

    # integer code per relationship (factorize each key column, combine by mixed radix)
    code = np.zeros(len(active), dtype=np.int64)
    uniques: list[np.ndarray] = []
    for col in keys:
        values = active[col].to_numpy()
        if values.dtype.kind in "iu" and len(values) and values.min() >= 0 and values.max() < 2**20:
            c, u = values.astype(np.int64), np.arange(int(values.max()) + 1)   # small non-negative ints: as is
        else:
            c, u = pd.factorize(values, sort=True)   # sorted: one output order whatever the engine
        code = code * np.int64(len(u)) + c.astype(np.int64)
        uniques.append(np.asarray(u))
    yrs = active[year].to_numpy().astype(np.int64)
    # one row per (relationship, year): duplicates (months, provinces) collapse
    cell = np.sort(code * span + (yrs - first))   # sort + dedupe (faster than np.unique's hash path)
    cell = cell[np.r_[True, cell[1:] != cell[:-1]]]
    rel, yr = cell // span, cell % span + first

    new_rel = np.empty(len(cell), dtype=bool)
    new_rel[0] = True
    new_rel[1:] = rel[1:] != rel[:-1]
    gap = np.empty(len(cell), dtype=np.int64)
    gap[0] = 0
    gap[1:] = yr[1:] - yr[:-1] - 1          # missing years between consecutive active years
    starts = new_rel | (gap > merge_gaps)
    start_idx = np.flatnonzero(starts)
    end_idx = np.append(start_idx[1:] - 1, len(cell) - 1)

    start_year, end_year = yr[start_idx], yr[end_idx]
    out = _decode_keys(rel[start_idx], keys, uniques)
    out["start"] = start_year.astype(np.int32)
    out["end"] = end_year.astype(np.int32)
    out["duration"] = (end_year - start_year + 1).astype(np.int32)
    # coverage unit of each spell (row of ``obs``); -1 = a unit with no observed year at all
    unit = (cov_units.get_indexer(out[coverage_by]) if coverage_by is not None
            else np.zeros(len(out), dtype=np.int64))
    right_edge, right_gap = _unseen(unit, end_year, +1, merge_gaps, obs, first, last)
    left_edge, left_gap = _unseen(unit, start_year, -1, merge_gaps, obs, first, last)
    out["event"] = (~(right_edge | right_gap)).astype(np.int8)
    out["left_censored"] = left_edge | left_gap
    out["gap_before"] = left_gap & ~left_edge
    out["gap_after"] = right_gap & ~right_edge
    edge_merge = right_edge & (end_year < last)
    n_before = int(out["gap_before"].sum())
    if not include_left_censored:
        keep = ~out["left_censored"].to_numpy()
        out, edge_merge = out[keep].reset_index(drop=True), edge_merge[keep]
    n_edge_merge = int(edge_merge.sum())
    out.attrs.update(first_year=first, last_year=last, threshold=threshold, merge_gaps=merge_gaps)
    meta = ResultMeta(coverage={"first_year": first, "last_year": last,
                                "observed_unit_years": int(obs.sum()), "units": len(cov_units),
                                "unobserved_unit_years": int(obs.size - obs.sum())})
    n_after = int(out["gap_after"].sum())
    if n_after:
        meta.warn(Note(N_("{n:,} spells censored at non-reporting years (the reporter has no data in the year "
                          "after the spell, so its end is not seen)"), n=n_after))
    if n_before:
        meta.warn(Note(N_("{n:,} spells start right after a non-reporting year; their start is unknown (kept, "
                          "flagged left_censored)") if include_left_censored else
                       N_("{n:,} spells start right after a non-reporting year; their start is unknown (excluded "
                          "as left-censored)"), n=n_before))
    if n_edge_merge:
        meta.warn(Note(N_("{n:,} spells ending within {gaps} year(s) of the panel end are censored "
                          "(merge_gaps={gaps}: the gap could still be bridged)"), n=n_edge_merge, gaps=merge_gaps))
    return attach(out, meta)


def _coverage(frame: pd.DataFrame, by: str | None, year: str, first: int, last: int, *,
              all_observed: bool = False) -> tuple[pd.Index, np.ndarray]:
    """Observed years per coverage unit: (units, boolean matrix units × panel years)."""
    span = last - first + 1
    if by is not None and by not in frame.columns or year not in frame.columns:
        raise InputError(f"observed years need columns {[c for c in (by, year) if c]}; "
                         f"have {list(frame.columns)}")
    yrs = frame[year].to_numpy().astype(np.int64)
    inside = (yrs >= first) & (yrs <= last)
    if by is None:
        units, codes = pd.Index([None]), np.zeros(int(inside.sum()), dtype=np.int64)
    else:
        codes, units = pd.factorize(frame[by].to_numpy()[inside])
        units = pd.Index(units)
    obs = np.zeros((len(units), span), dtype=bool)
    obs[codes, yrs[inside] - first] = True
    if all_observed:
        obs[:] = True
    return units, obs


def _require_two_consecutive(obs: np.ndarray, units: pd.Index, by: str | None, first: int, last: int) -> None:
    """Refuse a panel in which no unit has two consecutive observed years (no spell end can be seen)."""
    if last - first + 1 < 2 or obs.shape[0] == 0:
        raise NoDataError(f"survival needs at least 2 consecutive observed years; the panel is only "
                          f"{first}" + ("" if first == last else f"–{last}"))
    pairs = obs[:, 1:] & obs[:, :-1]
    if not pairs.any():
        seen = sorted({first + int(i) for i in np.flatnonzero(obs.any(axis=0))})
        who = f"any {by}" if by else "the data"
        raise NoDataError(f"survival needs at least 2 consecutive observed years for {who}; the data hold "
                          f"year(s) {', '.join(map(str, seen))} only (no spell end can be observed)")


def _unseen(unit: np.ndarray, year: np.ndarray, direction: int, g: int, obs: np.ndarray,
            first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """For spells ending (direction +1) or starting (−1) in ``year``: is one of the g+1 neighbouring years
    outside the panel (edge) or, failing that, not observed for the spell's unit (gap)?"""
    edge = np.zeros(len(year), dtype=bool)
    gap = np.zeros(len(year), dtype=bool)
    for k in range(1, g + 2):
        y = year.astype(np.int64) + direction * k
        out_ = (y < first) | (y > last)
        edge |= out_
        idx = np.clip(y - first, 0, obs.shape[1] - 1)
        seen = (unit >= 0) & obs[np.clip(unit, 0, None), idx]
        gap |= ~out_ & ~seen
    return edge, gap & ~edge


def _decode_keys(rel: np.ndarray, keys: list[str], uniques: list[np.ndarray]) -> pd.DataFrame:
    cols: dict[str, np.ndarray] = {}
    rest = rel.copy()
    for col, u in reversed(list(zip(keys, uniques))):
        n = np.int64(len(u))
        cols[col] = u[rest % n]
        rest //= n
    return pd.DataFrame({k: cols[k] for k in keys})


# ------------------------------------------------------------------ Kaplan–Meier
def _km_tables(durations: np.ndarray, events: np.ndarray, groups: np.ndarray, alpha: float) -> pd.DataFrame:
    """Kaplan–Meier tables for every group at once (groups are integer codes 0..G-1).

    Vectorised over groups: counts per (group, time) with one ``np.unique``; risk sets by reverse cumulative
    sums; S and the Greenwood sum by grouped cumulative products / sums.
    """
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events).astype(bool)
    if t.size == 0:
        raise NoDataError("no spells to estimate survival from")
    if np.isnan(t).any() or (t < 0).any():
        raise InputError("durations must be non-negative numbers")
    g = np.asarray(groups, dtype=np.int64)
    order = np.lexsort((t, g))
    t, e, g = t[order], e[order], g[order]
    cell_start = np.flatnonzero(np.r_[True, (g[1:] != g[:-1]) | (t[1:] != t[:-1])])
    removed = np.diff(np.r_[cell_start, len(t)])
    deaths = np.add.reduceat(e.astype(np.int64), cell_start)
    cg, ct = g[cell_start], t[cell_start]
    group_start = np.flatnonzero(np.r_[True, cg[1:] != cg[:-1]])
    group_id = np.cumsum(np.r_[True, cg[1:] != cg[:-1]]) - 1
    n_group = np.add.reduceat(removed, group_start)
    cum_removed = np.cumsum(removed)
    before_group = np.r_[0, cum_removed[group_start[1:] - 1]] if len(group_start) > 1 else np.array([0])
    removed_before = cum_removed - removed - before_group[group_id]
    at_risk = n_group[group_id] - removed_before
    hazard = deaths / at_risk

    by_group = pd.Series(group_id)
    surv = pd.Series(1.0 - hazard).groupby(by_group).cumprod().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(at_risk > deaths, deaths / (at_risk * (at_risk - deaths)), 0.0)
    v = pd.Series(terms).groupby(by_group).cumsum().to_numpy()
    z = NormalDist().inv_cdf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(surv)
        lo = np.exp(-np.exp(np.log(-log_s) - z * np.sqrt(v) / log_s))
        hi = np.exp(-np.exp(np.log(-log_s) + z * np.sqrt(v) / log_s))
    table = pd.DataFrame({
        "group": cg, "time": ct, "at_risk": at_risk, "events": deaths, "censored": removed - deaths,
        "survival": surv, "hazard": hazard, "greenwood_var": surv ** 2 * v,
        "ci_lower": np.nan_to_num(lo, nan=1.0), "ci_upper": np.nan_to_num(hi, nan=1.0),
    })
    # time 0 with S = 1 in front of each group whose first duration is positive (as lifelines does)
    first = table.iloc[group_start]
    zero = first[first["time"] > 0].assign(time=0.0, events=0, censored=0, survival=1.0, hazard=0.0,
                                           greenwood_var=0.0, ci_lower=1.0, ci_upper=1.0)
    return pd.concat([zero, table]).sort_values(["group", "time"], kind="stable").reset_index(drop=True)


def _median(table: pd.DataFrame) -> pd.Series:
    """Median duration per group: smallest time with S ≤ 0.5 (inf if none)."""
    hit = table[table["survival"] <= 0.5].groupby("group")["time"].min()
    groups = pd.Index(table["group"].unique())
    return hit.reindex(groups, fill_value=np.inf)


@dataclass
class KaplanMeier:
    """Kaplan–Meier estimator with Greenwood variance and exponential-Greenwood confidence band.

    ``KaplanMeier(alpha=0.05).fit(durations, events)``; then ``table`` (one row per time, starting at 0:
    ``time, at_risk, events, censored, survival, hazard, greenwood_var, ci_lower, ci_upper``) and ``median``.
    """

    alpha: float = 0.05
    table: pd.DataFrame = field(init=False, repr=False)
    median: float = field(init=False, default=float("nan"))
    n: int = field(init=False, default=0)

    def fit(self, durations, events=None) -> "KaplanMeier":
        t = np.asarray(durations, dtype=float)
        e = np.ones_like(t, dtype=bool) if events is None else np.asarray(events)
        table = _km_tables(t, e, np.zeros(len(t), dtype=np.int64), self.alpha)
        self.median = float(_median(table).iloc[0])
        self.table, self.n = table.drop(columns="group"), len(t)
        return self

    def survival_at(self, t: float) -> float:
        """S(t): the step function evaluated at ``t``."""
        idx = np.searchsorted(self.table["time"].to_numpy(), t, side="right") - 1
        return float(self.table["survival"].iat[max(idx, 0)])


def kaplan_meier(spells: pd.DataFrame, *, by: str | list[str] | None = None, alpha: float = 0.05,
                 duration: str = "duration", event: str = "event") -> pd.DataFrame:
    """Kaplan–Meier tables for ``spells`` overall or per group ``by`` (e.g. ``"cohort"``, ``"partner"``).

    Returns the :class:`KaplanMeier` table with the group columns in front plus ``median`` per group.
    Groups are estimated independently, all at once.
    """
    if spells.empty:
        raise NoDataError("no spells to estimate survival from (all left-censored or below the threshold?)")
    by = [] if by is None else ([by] if isinstance(by, str) else list(by))
    if by:
        codes, labels = pd.MultiIndex.from_frame(spells[by]).factorize(sort=True)   # groups in key order
    else:
        codes, labels = np.zeros(len(spells), dtype=np.int64), None
    table = _km_tables(spells[duration].to_numpy(), spells[event].to_numpy(), codes, alpha)
    table["median"] = _median(table).reindex(table["group"]).to_numpy()
    if by:
        keys = labels.to_frame(index=False).iloc[table["group"].to_numpy()].reset_index(drop=True)
        keys.columns = by
        table = pd.concat([keys, table.drop(columns="group")], axis=1)
    else:
        table = table.drop(columns="group")
    return attach(table, meta_of(spells))


def summary(spells: pd.DataFrame, *, by: str | list[str] | None = None) -> pd.DataFrame:
    """Headline figures per group: spells, share censored, median duration (KM), S(1), S(4), and the share of
    spells that end after their first year (Besedeš & Prusa's stylised fact: more than half)."""
    def one(grp: pd.DataFrame) -> dict:
        km = KaplanMeier().fit(grp["duration"], grp["event"])
        ended_first = ((grp["duration"] == 1) & (grp["event"] == 1)).sum()
        return {"spells": len(grp), "censored_share": float(1 - grp["event"].mean()),
                "median_duration": km.median, "survival_1y": km.survival_at(1),
                "survival_4y": km.survival_at(4), "hazard_first_year": float(ended_first / len(grp))}
    if spells.empty:
        raise NoDataError("no spells")
    if by is None:
        return attach(pd.DataFrame([one(spells)]), meta_of(spells))
    rows = [{**dict(zip([by] if isinstance(by, str) else by, k if isinstance(k, tuple) else (k,))), **one(g)}
            for k, g in spells.groupby(by, sort=True, observed=True)]
    return attach(pd.DataFrame(rows), meta_of(spells))


def add_cohort(spells: pd.DataFrame) -> pd.DataFrame:
    """Add ``cohort`` = the spell's first year (for survival by cohort)."""
    return spells.assign(cohort=spells["start"])


def cox_model(spells: pd.DataFrame, covariates: list[str], **kwargs):
    """Cox proportional-hazards model of spell duration on ``covariates`` (via ``lifelines.CoxPHFitter``).

    Categorical covariates are one-hot encoded (first level dropped).  Returns the fitted fitter.
    """
    from lifelines import CoxPHFitter

    design = pd.get_dummies(spells[covariates], drop_first=True, dtype=float)
    design["duration"], design["event"] = spells["duration"].to_numpy(), spells["event"].to_numpy()
    return CoxPHFitter(**kwargs).fit(design, duration_col="duration", event_col="event")


# ------------------------------------------------------------------ from the warehouse
BY_CHOICES = ("none", "cohort", "partner", "hs2", "province")


@provenance
def export_spells(data, *, reporter: str, partner=None, product=None, province=None, years=None,
                  level: int = 4, threshold: float = 0.0, merge_gaps: int = 0,
                  include_left_censored: bool = False, by_province: bool = False) -> pd.DataFrame:
    """Spells of the reporter's bilateral export relationships (partner × HS product at ``level`` digits).

    Rows are selected with :func:`tradepulse.indicators.selection.select_flows` (bilateral rows only, WLD
    rule), summed with Ibis per (partner, product, year[, province]) — months and provinces collapse — and
    handed to :func:`build_spells`.  The panel is the selected years (or all years in the data).
    Coverage: a year is observed when the reporter has any bilateral export row in it (any partner, product
    or province — not only those selected), so spells are censored, not failed, at its non-reporting years.
    Adds ``cohort`` (first year) and ``hs2`` (chapter) for grouping.
    """
    from tradepulse.indicators.selection import parse_years, select_flows

    if level not in (2, 4, 6):
        raise InputError(f"product level must be 2, 4 or 6, not {level}")
    from tradepulse.indicators.inputs import Needs
    needs = Needs(level=2, bilateral=True, provincial=province is not None or by_province, what="export survival")
    t = select_flows(data, reporter=reporter, partner=partner, product=product, province=province,
                     years=years, flow="export", world="exclude", needs=needs)
    keys = ["reporter", "partner", "product"] + (["province"] if by_province else [])
    t = t.filter(t["product"].length() >= level)
    t = t.mutate(product=t["product"].substr(0, level))
    agg = t.group_by([*keys, "year", "hs_revision"]).aggregate(value_usd=t.value_usd.sum()).to_pandas()
    if agg.empty:
        raise NoDataError(f"no bilateral export rows for {reporter} at HS{level} in this selection")
    # the reporter's observed years in the SAME dataset (another source's years say nothing about these spells)
    cov = select_flows(data, reporter=reporter, years=years, flow="export", world="exclude", needs=needs)
    observed = cov.select("reporter", "year").distinct().to_pandas()
    yrs = parse_years(years)
    first, last = (min(yrs), max(yrs)) if yrs else (int(observed["year"].min()), int(observed["year"].max()))
    spells = build_spells(agg, keys=keys, threshold=threshold, merge_gaps=merge_gaps, first_year=first,
                          last_year=last, include_left_censored=include_left_censored, observed=observed)
    return spells.assign(cohort=spells["start"], hs2=spells["product"].str[:2])
