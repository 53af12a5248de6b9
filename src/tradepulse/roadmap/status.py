"""Status of roadmap targets: actual to date, gap, required growth, trend projection and a traffic light.

Definitions (years in the target's calendar; *a* = the latest year with data not after ``as_of``,
*D* = deadline year, *T* = target value, *A* = actual value in year *a*):

* **gap** = T − A (positive: still to go).
* **progress** = (A − B) / (T − B) with B the baseline value (1 = reached).
* **required growth** (CAGR) = (T / A)^(1 / (D − a)) − 1, defined when D > a and T, A > 0.
* **projection** to D from the recent trend, method named in ``projection_method``:
  ``loglinear-k5`` — least-squares fit of ln(value) on year over the last k = 5 years with data (needs ≥ 2 points,
  all positive), projected value exp(α + β·D), trend growth e^β − 1; ``linear-k5`` — the same fit on the value
  itself (used when a value is ≤ 0, and always for cumulative metrics such as ``import_saving``);
  ``last-value`` when only one point exists.  The log-linear fit is the World Bank's "least-squares growth rate"
  (World Development Indicators, Statistical methods: ln X_t = a + b·t, r = e^b − 1).
* **status rule** (higher is better unless the target says ``better = "lower"`` — HHI, ranks — when the rule
  is applied to −value; tolerance τ = 10 % of |T| by default):

  - deadline reached (a ≥ D): ``on-track`` ("achieved") if the value in D ≥ T, else ``off-track`` ("missed");
  - otherwise ``on-track`` if A ≥ T (already reached) or projection ≥ T;
  - ``at-risk`` if projection ≥ T − τ·|T|;
  - ``off-track`` otherwise; ``no-data`` when the series is empty.

* **no recent data** (checked before the rule above; *c* = the current year in the target's calendar: the
  year of ``as_of``, else of today; lag *L* = 2 years by default): ``no-recent-data`` when

      a < D − 1  and  a < c − L,

  i.e. the data stop more than a year before the deadline *and* are older than the usual publication lag.  Two
  years is the normal lag of an apportioned SH year: SH *y* needs Gregorian *y* + 621 and *y* + 622, and annual
  trade data appear during the following year, so in SH *c* the newest apportioned year is *c* − 2.  Such a
  target is never "on track" from a projection over the missing years; the figures (actual in *a*, gap) stay
  in the result and the reason names *a*.  ``status_of`` applies the test only when given ``current_year``
  (:func:`evaluate` always gives it).
* **baseline check**: a baseline *value* written in the roadmap is compared with the data for the same scope
  and year, B_data; when |B_file − B_data| > 20 % of |B_data| (``BASELINE_TOLERANCE``) the result carries a
  warning in its :class:`tradepulse.meta.ResultMeta` (``baseline_data`` and ``baseline_deviation`` = B_file /
  B_data − 1 are kept too).  The file's value is still used: the warning asks a person to check it.

* **probability rule** (the default since issue 17; the rule above stays available as ``rule="trend"`` and
  in ``trend_status`` of every result): where the rule above judges from the trend projection, the status
  comes instead from P, the probability that the value in *D* reaches *T* under the trend model with a
  prediction interval (:mod:`tradepulse.roadmap.projection`): on-track P ≥ 0.5, at-risk 0.2 ≤ P < 0.5,
  off-track P < 0.2.  ``projection_low`` / ``projection_high`` hold the 80 % interval.

:func:`evaluate` returns a :class:`StatusList` (a list) whose ``meta`` unites the warnings of every target;
each :class:`TargetStatus` has its own ``meta``.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from tradepulse.errors import NoDataError
from tradepulse.i18n import N_
from tradepulse.meta import Note, ResultMeta, attach, meta_of, record
from tradepulse.roadmap import calendar as cal
from tradepulse.roadmap.metrics import Data, metric_series
from tradepulse.roadmap.model import Roadmap, Target
from tradepulse.roadmap.projection import DEFAULT_LEVEL, classify_probability, fit_projection

STATUSES = ("on-track", "at-risk", "off-track", "no-data", "no-recent-data")
#: Status → English label, a msgid of the project's gettext catalog (:mod:`tradepulse.i18n`); see
#: :func:`status_label`.  The brief and the dashboard mark the same msgids for extraction.
STATUS_LABELS = {"on-track": N_("on track"), "at-risk": N_("at risk"), "off-track": N_("off track"),
                 "no-data": N_("no data"), "no-recent-data": N_("no recent data")}
STATUS_FA = {"on-track": "در مسیر", "at-risk": "در خطر", "off-track": "خارج از مسیر", "no-data": "بدون داده",
             "no-recent-data": "بدون دادهٔ تازه"}
CUMULATIVE = ("import_saving",)
#: Persian versions of the rule's reasons (``{tol}`` = tolerance in per cent).
REASONS_FA = {
    "achieved by the deadline": "تا مهلت محقق شد",
    "deadline passed, target missed": "مهلت گذشت و هدف محقق نشد",
    "target already reached": "هدف هم‌اکنون محقق شده است",
    "trend projection reaches the target": "پیش‌بینی روند به هدف می‌رسد",
    "trend projection within {tol}% of the target": "پیش‌بینی روند کمتر از {tol}٪ با هدف فاصله دارد",
    "trend projection more than {tol}% short of the target": "پیش‌بینی روند بیش از {tol}٪ از هدف عقب است",
    "{tol}% probability of reaching the target (trend model)": "احتمال رسیدن به هدف {tol}٪ (مدل روند)",
}
RULES = ("probability", "trend")
DEFAULT_K = 5
DEFAULT_TOLERANCE = 0.10
#: Years of publication lag accepted before data count as not recent (see the module docstring).
RECENT_LAG = 2
#: A roadmap baseline value further than this from the data (relative to the data) warns.
BASELINE_TOLERANCE = 0.20


@dataclass
class TargetStatus:
    target: Target
    status: str
    reason: str
    as_of_year: int | None = None
    actual: float | None = None
    actual_estimate: bool = False
    baseline_year: int | None = None
    baseline_value: float | None = None
    target_value: float | None = None
    gap: float | None = None
    progress: float | None = None
    years_left: int | None = None
    required_growth: float | None = None
    trend_growth: float | None = None
    projection: float | None = None
    projection_method: str = ""
    calendar_method: str = ""
    series: pd.DataFrame = field(default_factory=pd.DataFrame)
    baseline_data: float | None = None        # the data's value in the baseline year (when the file gives one)
    baseline_deviation: float | None = None   # baseline_value / baseline_data − 1
    meta: ResultMeta = field(default_factory=ResultMeta)
    projection_low: float | None = None       # prediction interval of the value in the deadline year
    projection_high: float | None = None
    interval_level: float | None = None       # its nominal coverage (0.8)
    probability: float | None = None          # P(reaching the target by the deadline) under the trend model
    rule: str = "probability"                 # the rule behind ``status``: probability | trend
    trend_status: str = ""                    # the deterministic rule's status and reason, for comparison
    trend_reason: str = ""

    @property
    def id(self) -> str:
        return self.target.id

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k not in ("target", "series", "meta")}
        d["meta"] = self.meta.to_dict()
        t = self.target
        d.update(id=t.id, title_en=t.title_en, title_fa=t.title_fa, metric=t.metric, axis=t.axis, better=t.better,
                 source=t.source, calendar=t.calendar,
                 deadline_year=t.deadline_year, parent=t.parent,
                 scope={k: v for k, v in asdict(t.scope).items() if v not in ((), None)},
                 series=[{"year": int(r.year), "value": _num(r.value), "estimate": bool(r.estimate)}
                         for r in self.series.itertuples()] if len(self.series) else [])
        return {k: _num(v) if isinstance(v, float) else v for k, v in d.items()}


def _num(v):
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else float(v)


def trend(series: pd.DataFrame, upto: int, k: int = DEFAULT_K, log: bool = True) -> tuple[float, float, str]:
    """Fit the last ``k`` points up to year ``upto``: returns ``(intercept, slope, method)``.

    Log-linear (ln value on year) when ``log`` and all values > 0, else linear; one point → slope 0.
    """
    s = series[series["year"] <= upto].sort_values("year").tail(k)
    x = s["year"].to_numpy(float)
    y = s["value"].to_numpy(float)
    if len(s) == 1:
        return float(y[0]), 0.0, "last-value"
    use_log = log and bool(np.all(y > 0))
    slope, intercept = np.polyfit(x, np.log(y) if use_log else y, 1)
    return float(intercept), float(slope), f"{'loglinear' if use_log else 'linear'}-k{k}"


def project(intercept: float, slope: float, method: str, year: int, last_value: float | None = None) -> float:
    if method == "last-value":
        return float(intercept)
    value = intercept + slope * year
    return float(math.exp(value)) if method.startswith("loglinear") else float(value)


def classify(*, target_value: float, actual: float, projection: float, deadline_reached: bool,
             tolerance: float = DEFAULT_TOLERANCE) -> tuple[str, str]:
    """The status rule (see module docstring) → ``(status, reason)``."""
    if deadline_reached:
        return ("on-track", "achieved by the deadline") if actual >= target_value else \
            ("off-track", "deadline passed, target missed")
    if actual >= target_value:
        return "on-track", "target already reached"
    if projection >= target_value:
        return "on-track", "trend projection reaches the target"
    tol = f"{tolerance * 100:g}"
    if projection >= target_value - tolerance * abs(target_value):
        return "at-risk", f"trend projection within {tol}% of the target"
    return "off-track", f"trend projection more than {tol}% short of the target"


def reason_text(reason: str, lang: str = "en") -> str:
    """The status reason in ``lang`` (en, fa); reasons outside the rule (no data) stay as they are."""
    if lang != "fa":
        return reason
    import re
    recent = re.fullmatch(r"latest data (\d+), deadline (\d+)", reason)
    if recent:
        from tradepulse.i18n import persian_digits
        year, deadline = (persian_digits(g) for g in recent.groups())
        return f"آخرین داده {year}، مهلت {deadline}"
    m = re.search(r"(\d+(?:\.\d+)?)%", reason)
    key = reason.replace(m.group(1), "{tol}") if m else reason
    if key in REASONS_FA:
        from tradepulse.i18n import persian_digits
        return REASONS_FA[key].format(tol=persian_digits(m.group(1)) if m else "")
    return "بدون داده: " + reason if reason.startswith("no ") else reason


def limit_year(as_of, target: Target, roadmap_calendar: str) -> int | None:
    """The last year (target calendar) whose data may be used: ``as_of`` as a date, or a year in the
    roadmap's calendar (converted by ±621 to the other calendar)."""
    if as_of is None:
        return None
    if isinstance(as_of, (_dt.date, _dt.datetime)):
        day = as_of.date() if isinstance(as_of, _dt.datetime) else as_of
        return cal.sh_year_of(day) if target.calendar == "SH" else day.year
    year = int(as_of)
    if roadmap_calendar == target.calendar:
        return year
    return year - cal.SH_OFFSET if target.calendar == "SH" else year + cal.SH_OFFSET


def current_year(as_of, target: Target, roadmap_calendar: str) -> int:
    """The year *c* of the no-recent-data test in the target's calendar: the year of ``as_of`` (a date or a year
    in the roadmap's calendar, see :func:`limit_year`), else of today."""
    year = limit_year(as_of, target, roadmap_calendar)
    return year if year is not None else limit_year(_dt.date.today(), target, roadmap_calendar)


def status_of(target: Target, series: pd.DataFrame, *, as_of_year: int | None = None, k: int = DEFAULT_K,
              tolerance: float = DEFAULT_TOLERANCE, current_year: int | None = None,
              recent_lag: int = RECENT_LAG, rule: str = "trend", level: float = DEFAULT_LEVEL
              ) -> TargetStatus:
    """Evaluate one target on its yearly series (``year, value, estimate, method``).

    ``rule``: ``trend`` (default here: the deterministic rule above) or ``probability`` (:mod:`.projection`,
    the default of :func:`evaluate`); the interval at ``level`` and P(reaching the target) are always filled,
    and the deterministic status is kept in ``trend_status``.

    ``current_year`` (target calendar) switches on the no-recent-data test; warnings (series' own, baseline
    check, no recent data) go to the result's ``meta``."""
    meta = ResultMeta().merge(meta_of(series))
    s = series.dropna(subset=["value"]) if len(series) else series
    if as_of_year is not None and len(s):
        s = s[s["year"] <= as_of_year]
    if not len(s):
        return TargetStatus(target, "no-data", "no data for this target in the warehouse",
                            baseline_year=target.baseline_year, baseline_value=target.baseline_value,
                            target_value=target.target_value, series=s, meta=meta)
    s = s.sort_values("year").reset_index(drop=True)
    cumulative = target.metric in CUMULATIVE
    by_year = s.set_index("year")
    base_value = target.baseline_value
    base_data = None
    if target.baseline_year is not None and target.baseline_year in by_year.index:
        base_data = float(by_year.at[target.baseline_year, "value"])
    if base_value is None and cumulative:
        base_value = 0.0
    if base_value is None and base_data is not None:
        base_value = base_data
    if target.target_value is None and base_value is None:
        return TargetStatus(target, "no-data", f"no data for the baseline year {target.baseline_year}",
                            baseline_year=target.baseline_year, series=s, meta=meta)
    deviation = _baseline_check(target, base_data, meta)
    goal = target.goal(base_value)
    D = target.deadline_year
    deadline_reached = int(s["year"].iloc[-1]) >= D
    a = status_year(s, D)
    actual = float(by_year.at[a, "value"])
    intercept, slope, method = trend(s, a, k, log=not cumulative)
    projection = project(intercept, slope, method, D)
    trend_growth = math.exp(slope) - 1 if method.startswith("loglinear") else None
    years_left = D - a
    required = ((goal / actual) ** (1.0 / years_left) - 1) if years_left > 0 and goal > 0 and actual > 0 else None
    if current_year is not None and a < D - 1 and a < current_year - recent_lag:
        status, reason = "no-recent-data", f"latest data {a}, deadline {D}"
        meta.warn(Note(N_("target {target}: no recent data — latest data {calendar} {latest}, deadline {deadline}; "
                          "not judged from a projection over the missing years"),
                       target=target.id, calendar=target.calendar, latest=a, deadline=D))
    else:
        sgn = -1.0 if target.better == "lower" else 1.0   # a lower-is-better target is judged on −value
        status, reason = classify(target_value=sgn * goal, actual=sgn * actual, projection=sgn * projection,
                                  deadline_reached=deadline_reached and a == D, tolerance=tolerance)
    trend_status, trend_reason = status, reason
    pts = s[s["year"] <= a].tail(k)
    proj = fit_projection(pts["year"], pts["value"], D, level=level, log=not cumulative) if a < D else None
    probability = proj.probability(goal, target.better) if proj is not None else None
    if (rule == "probability" and probability is not None and status not in ("no-recent-data",)
            and reason.startswith("trend projection")):
        status = classify_probability(probability)
        reason = f"{probability * 100:.0f}% probability of reaching the target (trend model)"
    progress = (actual - base_value) / (goal - base_value) if base_value is not None and goal != base_value else None
    return TargetStatus(
        target, status, reason, as_of_year=a, actual=actual, actual_estimate=bool(by_year.at[a, "estimate"]),
        baseline_year=target.baseline_year, baseline_value=base_value, target_value=goal, gap=goal - actual,
        progress=progress, years_left=years_left, required_growth=required, trend_growth=trend_growth,
        projection=projection, projection_method=method,
        calendar_method=str(by_year.at[a, "method"]), series=s, baseline_data=base_data,
        baseline_deviation=deviation, meta=meta,
        projection_low=proj.low if proj is not None else None,
        projection_high=proj.high if proj is not None else None,
        interval_level=level if proj is not None and proj.low is not None else None,
        probability=probability, rule=rule, trend_status=trend_status, trend_reason=trend_reason)


def status_year(series: pd.DataFrame, deadline: int) -> int:
    """The year *a* a status is judged in: the latest year of ``series`` (sorted, no missing values), or
    once the deadline is reached the deadline year (the latest year before it when the deadline has no
    value)."""
    a = int(series["year"].iloc[-1])
    if a >= deadline:
        if (series["year"] == deadline).any():
            return deadline
        before = series["year"] <= deadline
        return int(series.loc[before, "year"].max()) if before.any() else a
    return a


def status_span(series: pd.DataFrame, target: Target, *, as_of_year: int | None = None, k: int = DEFAULT_K
                ) -> tuple[int | None, bool]:
    """``(first, complete)``: the earliest year :func:`status_of` reads of ``series`` (the baseline year and
    the trend's last ``k`` points up to the status year) and whether the trend found its ``k`` points."""
    s = series.dropna(subset=["value"]) if len(series) else series
    if as_of_year is not None and len(s):
        s = s[s["year"] <= as_of_year]
    if not len(s):
        return target.baseline_year, False
    s = s.sort_values("year")
    pts = s[s["year"] <= status_year(s, target.deadline_year)].tail(k)
    first = int(pts["year"].iloc[0]) if len(pts) else None
    if target.baseline_year is not None:
        first = target.baseline_year if first is None else min(first, target.baseline_year)
    return first, len(pts) == k


def _baseline_check(target: Target, base_data: float | None, meta: ResultMeta) -> float | None:
    """``B_file / B_data − 1`` for a baseline value written in the roadmap, with a warning in ``meta`` when it
    is more than :data:`BASELINE_TOLERANCE` away from the data; None when there is nothing to compare."""
    if target.baseline_value is None or base_data is None or target.metric in CUMULATIVE:
        return None
    b = float(target.baseline_value)
    if base_data == 0:
        deviation = math.inf if b != 0 else 0.0
    else:
        deviation = b / base_data - 1
    if abs(b - base_data) > BASELINE_TOLERANCE * abs(base_data):
        key = ("above" if b > base_data else "below", math.isinf(deviation))
        meta.warn(Note(BASELINE_AWAY[key], target=target.id, baseline=_short(b), year=target.baseline_year,
                       away=abs(deviation), data=_short(base_data)))
    return deviation


#: The warning when a target's roadmap baseline is off the data for its scope: (direction, infinitely) → msgid.
BASELINE_AWAY = {
    ("above", False): N_("target {target}: the roadmap baseline {baseline} ({year}) is {away:.0%} above the data "
                         "for the same scope ({data}); check the baseline or the scope"),
    ("below", False): N_("target {target}: the roadmap baseline {baseline} ({year}) is {away:.0%} below the data "
                         "for the same scope ({data}); check the baseline or the scope"),
    ("above", True): N_("target {target}: the roadmap baseline {baseline} ({year}) is infinitely above the data "
                        "for the same scope ({data}); check the baseline or the scope"),
    ("below", True): N_("target {target}: the roadmap baseline {baseline} ({year}) is infinitely below the data "
                        "for the same scope ({data}); check the baseline or the scope"),
}


def _short(v: float) -> str:
    a = abs(v)
    return f"{v / 1e9:.2f} bn" if a >= 1e9 else f"{v / 1e6:.1f} M" if a >= 1e6 else f"{v:,.4g}"


class StatusList(list):
    """The :class:`TargetStatus` list of :func:`evaluate` with ``meta``: the warnings of all its targets."""

    meta: ResultMeta


#: What :func:`evaluate` computes of each target's series: ``all`` its years, ``status`` the years its status
#: reads (see :func:`status_span`).
SPANS = ("all", "status")


def evaluate(roadmap: Roadmap, warehouse, as_of=None, *, k: int = DEFAULT_K,
             tolerance: float = DEFAULT_TOLERANCE, progress=None, recent_lag: int = RECENT_LAG,
             rule: str = "probability", span: str = "all") -> StatusList:
    """Evaluate every target of ``roadmap`` on ``warehouse`` (a Warehouse, a path, a FLOWS frame or a dict of
    frames).  ``rule``: ``probability`` (default) or ``trend`` (see :func:`status_of`).  ``as_of``: a ``datetime.date`` or a year in the roadmap's calendar; data after it are ignored and
    it is the "current" year of the no-recent-data test (default: today).

    ``span="status"`` (the dashboard): every status is the same, but each series starts at the first year its
    status reads (:func:`status_span`), and the axis metrics that are local in time
    (:data:`tradepulse.roadmap.axes.LOCAL_METRICS`: HHIs, market counts, complexity) are computed on those
    years only — on a 29-year panel the whole-panel complexity alone took minutes.  Indicator results two
    targets read are computed once either way.

    A target whose data are missing gets status ``no-data`` with the reason (it does not stop the others);
    unknown names still raise.  ``progress`` is an optional callable ``(done, total)``.  The result's ``meta``
    (``tradepulse.meta.meta_of``) holds every target's warnings and the roadmap's country.
    """
    if rule not in RULES:
        from tradepulse.errors import UnknownNameError
        raise UnknownNameError("status rule", rule, list(RULES))
    if span not in SPANS:
        from tradepulse.errors import UnknownNameError
        raise UnknownNameError("series span", span, list(SPANS))
    data = Data(warehouse, monthly=roadmap.monthly_data)
    sub_file = roadmap.substitution_file
    if sub_file and roadmap.source and not _is_abs(sub_file):
        from pathlib import Path
        sub_file = str(Path(roadmap.source).parent / sub_file)
    out = StatusList()
    meta = ResultMeta(coverage={"roadmap": roadmap.id, "reporter": roadmap.reporter})
    memo: dict = {}
    above = [float(t.options.get("threshold", 1e6)) for t in roadmap.targets if t.metric == "n_markets_above"]
    if above:                            # market_hhi then reads the markets-above result (same HHI)
        memo["market-threshold"] = above[0]
    years = _data_years(data) if span == "status" else None
    try:
        for i, t in enumerate(roadmap.targets):
            try:
                lim = limit_year(as_of, t, roadmap.calendar)
                if span == "status":
                    series = _status_series(data, t, sub_file, lim, k, memo, years)
                else:
                    series = metric_series(data, t, substitution_file=sub_file, memo=memo)
                st = status_of(t, series, as_of_year=lim, k=k,
                               tolerance=tolerance, current_year=current_year(as_of, t, roadmap.calendar),
                               recent_lag=recent_lag, rule=rule)
            except NoDataError as exc:
                st = TargetStatus(t, "no-data", str(exc), baseline_year=t.baseline_year,
                                  baseline_value=t.baseline_value, target_value=t.target_value)
            out.append(st)
            meta = meta.merge(st.meta)
            if progress:
                progress(i + 1, len(roadmap.targets))
    finally:
        data.close()
    record(ResultMeta(warnings=list(meta.warnings)))   # a report collecting its data notes sees them too
    return attach(out, meta)


def _data_years(data: Data) -> tuple[int, int] | None:
    """First and last year of the warehouse's recorded coverage (None: no coverage, or not a warehouse)."""
    if data.warehouse is None:
        return None
    from tradepulse.indicators.inputs import coverage
    try:
        cov = coverage(data.warehouse)
    except Exception:  # noqa: BLE001 - no coverage table: every series is computed whole
        return None
    if cov.empty:
        return None
    return int(cov["year"].min()), int(cov["year"].max())


def _status_series(data: Data, t: Target, sub_file, lim: int | None, k: int, memo: dict,
                   years: tuple[int, int] | None) -> pd.DataFrame:
    """``t``'s series from the first year its status reads (:func:`status_span`).  A local axis metric is
    computed on a window of Gregorian years ending with the data's last: from the baseline or ``k`` + 1 years
    before the likely status year, widened by ``k`` years until the trend finds its ``k`` points (or the
    window holds every year, when it is the whole series).  Locality makes the window's years equal to the
    whole series' own; the other metrics are computed whole and cut."""
    from tradepulse.roadmap.axes import LOCAL_METRICS
    sh = t.calendar == "SH"
    if t.metric in LOCAL_METRICS and years is not None:
        g_first, g_last = years
        top = min(g_last - cal.SH_OFFSET if sh else g_last, t.deadline_year, *([lim] if lim is not None else []))
        lo = top - k
        if t.baseline_year is not None:
            lo = min(lo, t.baseline_year)
        while (lo + cal.SH_OFFSET if sh else lo) > g_first:
            g_lo = lo + cal.SH_OFFSET if sh else lo
            try:
                s = metric_series(data, t, substitution_file=sub_file, window=range(g_lo, g_last + 1), memo=memo)
            except NoDataError:
                break
            s = attach(s[s["year"] >= lo].reset_index(drop=True), meta_of(s))
            first, complete = status_span(s, t, as_of_year=lim, k=k)
            if complete:
                return _cut(s, first)
            lo -= k
    s = metric_series(data, t, substitution_file=sub_file, memo=memo)
    return _cut(s, status_span(s, t, as_of_year=lim, k=k)[0])


def _cut(series: pd.DataFrame, first: int | None) -> pd.DataFrame:
    if first is None or not len(series):
        return series
    return attach(series[series["year"] >= first].reset_index(drop=True), meta_of(series))


def _is_abs(p: str) -> bool:
    from pathlib import Path
    return Path(p).is_absolute()


def status_frame(statuses: list[TargetStatus], lang: str = "en") -> pd.DataFrame:
    """One row per target: id, title, metric, calendar, baseline, target, deadline, as-of year, actual, gap,
    progress, required and trend growth, projection, method, status (and ``status_label`` in ``lang``)."""
    rows = []
    for st in statuses:
        t = st.target
        rows.append({
            "id": t.id, "parent": t.parent, "title": t.title(lang), "metric": t.metric, "axis": t.axis,
            "better": t.better, "source": t.source, "calendar": t.calendar,
            "baseline_year": st.baseline_year, "baseline_value": st.baseline_value,
            "target_value": st.target_value, "deadline_year": t.deadline_year, "as_of_year": st.as_of_year,
            "actual": st.actual, "actual_estimate": st.actual_estimate, "gap": st.gap, "progress": st.progress,
            "required_growth": st.required_growth, "trend_growth": st.trend_growth,
            "projection": st.projection, "projection_method": st.projection_method,
            "calendar_method": st.calendar_method, "projection_low": st.projection_low,
            "projection_high": st.projection_high, "probability": st.probability, "status": st.status,
            "trend_status": st.trend_status,
            "status_label": status_label(st.status, lang) if lang == "fa" else st.status,
            "reason": reason_text(st.reason, lang), "baseline_data": st.baseline_data,
            "baseline_deviation": st.baseline_deviation,
        })
    meta = meta_of(statuses) if isinstance(statuses, StatusList) else ResultMeta()
    for st in statuses:
        meta = meta.merge(st.meta)
    return attach(pd.DataFrame(rows), meta)


def status_label(status: str, lang: str = "en") -> str:
    """The label of a status value in ``lang`` from the project's gettext catalog (``no-recent-data`` →
    "no recent data" / its Persian translation)."""
    from tradepulse.i18n import translations
    msg = STATUS_LABELS.get(status, status)
    return translations(lang).gettext(msg) if lang in ("en", "fa") else msg
