"""The current period: the latest month with data, the year to date and a 12-month rolling total.

``current_period(flows, "TUR")`` reads ONE monthly dataset (the input rule of
:mod:`tradepulse.indicators.inputs` with ``Needs(frequency="monthly")``) and returns a :class:`CurrentPeriod`:

- **Latest month** *(Y, M)*: the last month with a value for the scope (not after ``until``), and the value of
  the same month a year earlier *(Y − 1, M)*.
- **Year to date (YTD)**, two calendars (``calendar=``):

  * ``solar-hijri`` (default, Iran's civil and fiscal year): the months of the Solar Hijri year of *(Y, M)*
    from its first month through *M*, against the same months of the previous SH year.  Months are the data's
    month labels; SH month *k* is the label holding its 15th day (Farvardin → April, …, Esfand → March), the
    convention by which the customs reader stores SH months (:func:`tradepulse.roadmap.calendar.sh_months_to_sh`).
    So SH YTD is exact for customs data read from SH months; for Gregorian monthly data (Comtrade) it is the
    April-to-*M* window, whose edges lie within ~20 days of Nowruz.
  * ``gregorian`` (for users outside Iran): January through *M* of *Y* against January through *M* of *Y − 1*.

- **12-month rolling total**: the sum of the 12 months ending at *(Y, M)*, and the 12 months before for the
  growth (given only when both windows have all 12 months).

National values are layered as everywhere (:func:`tradepulse.indicators.selection.national_totals`: World rows,
else national bilateral rows, else provincial customs rows).  Missing months are never filled: a window with a
month missing (in either year) is still summed, and the result carries a warning naming the months.

**Monthly vs annual.**  When the warehouse also holds an *annual* dataset for the reporter (e.g. Comtrade's
annual World totals), every complete year (12 months) of the monthly dataset is compared with it; a relative
difference above ``tolerance`` (default 1 %) is a warning — Comtrade's monthly and annual figures are separate
submissions and can differ widely (see the monthly fixture's provenance).

**Annual-only data**: :class:`AnnualDataOnly` (a :class:`~tradepulse.errors.NoDataError`) says so; the brief
then turns its current-period section into "annual data only".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from tradepulse.errors import NoDataError, UnknownNameError
from tradepulse.i18n import N_
from tradepulse.meta import Note, ResultMeta

__all__ = ["CALENDARS", "AnnualDataOnly", "CurrentPeriod", "current_figures", "current_period", "monthly_series",
           "overview", "sh_label"]

CALENDARS = ("solar-hijri", "gregorian")
SH_OFFSET = 621


class AnnualDataOnly(NoDataError):
    """The scope has data, but only annual: no current-period view."""


def sh_label(year: int, month: int) -> tuple[int, int]:
    """(SH year, SH month) of a month label: SH month k is stored under the Gregorian month holding its
    15th day (April → Farvardin 1, …, March → Esfand 12): 2019-04 → (1398, 1), 2020-03 → (1398, 12)."""
    return year - SH_OFFSET - (1 if month <= 3 else 0), (month - 4) % 12 + 1


def _shift(year: int, month: int, months: int) -> tuple[int, int]:
    idx = year * 12 + (month - 1) + months
    return idx // 12, idx % 12 + 1


@dataclass
class CurrentPeriod:
    """Current-period figures of one scope (values in US$; None when a month is absent)."""

    reporter: str
    flow: str
    calendar: str
    dataset: str | None
    end: tuple[int, int]                     # (year, month) of the latest month with data
    latest: float
    latest_prev: float | None                # same month a year earlier
    ytd: float
    ytd_prev: float | None
    ytd_months: list[tuple[int, int]]        # month labels summed in ``ytd``
    ytd_prev_months: list[tuple[int, int]]
    rolling12: float
    rolling12_prev: float | None             # the 12 months before (None unless both windows are complete)
    rolling_months: int                      # months present in the rolling window (12 when complete)
    province: str | None = None
    partner: str | None = None
    series: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)   # year, month, value_usd
    annual_check: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    meta: ResultMeta = field(default_factory=ResultMeta)

    @staticmethod
    def _growth(cur, prev):
        return None if prev is None or prev <= 0 or cur is None else cur / prev - 1

    @property
    def latest_growth(self) -> float | None:
        return self._growth(self.latest, self.latest_prev)

    @property
    def ytd_growth(self) -> float | None:
        return self._growth(self.ytd, self.ytd_prev)

    @property
    def rolling_growth(self) -> float | None:
        return self._growth(self.rolling12, self.rolling12_prev)

    @property
    def ytd_start(self) -> tuple[int, int]:
        """The first month label of the year-to-date window (present in the data or not)."""
        y, m = self.end
        if self.calendar == "gregorian":
            return (y, 1)
        return (y, 4) if m >= 4 else (y - 1, 4)

    @property
    def sh_end(self) -> tuple[int, int]:
        """(SH year, SH month) of the latest month label."""
        return sh_label(*self.end)

    def to_dict(self) -> dict:
        return {"reporter": self.reporter, "flow": self.flow, "calendar": self.calendar, "dataset": self.dataset,
                "end": f"{self.end[0]}-{self.end[1]:02d}", "sh_end": "{}-{:02d}".format(*self.sh_end),
                "latest": self.latest, "latest_prev": self.latest_prev, "latest_growth": self.latest_growth,
                "ytd": self.ytd, "ytd_prev": self.ytd_prev, "ytd_growth": self.ytd_growth,
                "ytd_start": "{}-{:02d}".format(*self.ytd_start), "ytd_months": len(self.ytd_months),
                "rolling12": self.rolling12,
                "rolling12_prev": self.rolling12_prev, "rolling_growth": self.rolling_growth,
                "rolling_months": self.rolling_months, "province": self.province, "partner": self.partner,
                "meta": self.meta.to_dict()}


def monthly_series(flows, reporter: str, *, flow: str = "export", province: str | None = None,
                   partner: str | None = None, dataset: str | None = None) -> pd.DataFrame:
    """Monthly values (``year, month, value_usd``) of one scope from the one monthly dataset; the frame's
    ``attrs["meta"]`` holds the resolution.  Raises :class:`AnnualDataOnly` when the scope has annual rows only."""
    from tradepulse.indicators.inputs import Needs
    from tradepulse.indicators.selection import national_totals, select_flows

    needs = Needs(frequency="monthly", provincial=province is not None, bilateral=partner is not None,
                  what="the current-period view")
    try:
        t, sel = select_flows(flows, reporter=reporter, flow=flow, province=province, partner=partner,
                              needs=needs, dataset=dataset, return_selection=True)
    except NoDataError as exc:
        if "monthly" in str(exc) and not isinstance(exc, UnknownNameError):
            raise AnnualDataOnly(
                f"{reporter}{' ' + province if province else ''}: annual data only — the current-period view "
                f"(latest month, year to date, 12-month rolling) needs monthly data ({exc})") from None
        raise
    t = t.filter(t.month.notnull() & t.value_usd.notnull())
    if province is None and partner is None:
        agg = national_totals(t, ["year", "month"])
    else:
        agg = t.group_by(["year", "month"]).aggregate(value_usd=t.value_usd.sum())
    df = agg.to_pandas()
    if df.empty:
        raise AnnualDataOnly(f"{reporter}: no monthly {flow} rows in dataset {sel.dataset}")
    df = df.astype({"year": int, "month": int, "value_usd": float}).sort_values(["year", "month"])
    df = df.reset_index(drop=True)
    meta = sel.meta if sel.meta is not None else ResultMeta()
    # the monthly dataset covers the years it has months for; that it does not cover the reporter's other
    # (annual) years is the nature of the request, not a caveat of the figures
    meta = ResultMeta(dataset=meta.dataset, coverage=dict(meta.coverage), considered=list(meta.considered),
                      warnings=[w for w in meta.warnings if "requested reporter-year-flow cell" not in w])
    df.attrs["meta"] = meta
    return df


def _annual_check(flows, reporter: str, flow: str, series: pd.DataFrame, tolerance: float) -> pd.DataFrame:
    """Complete years of ``series`` against the annual dataset of the reporter (the best annual one by the
    input rule, never a monthly one): year, monthly_sum, annual, dataset, ratio, differs."""
    from tradepulse.indicators.inputs import Needs, coverage, resolve
    from tradepulse.indicators.selection import national_totals, select_flows

    full = series.groupby("year").agg(monthly_sum=("value_usd", "sum"), months=("month", "nunique"))
    full = full[full["months"] == 12].drop(columns="months")
    cols = ["year", "monthly_sum", "annual", "dataset", "ratio", "differs"]
    if full.empty:
        return pd.DataFrame(columns=cols)
    cov = coverage(flows)
    annual = cov[(cov["reporter"] == reporter) & (cov["flow"] == flow) & (cov["months"] == 0)]
    if annual.empty:
        return pd.DataFrame(columns=cols)
    best = None
    for name in sorted(annual["dataset"].unique()):
        try:
            res = resolve(flows, reporter=reporter, years=sorted(int(y) for y in full.index), flow=[flow],
                          needs=Needs(frequency="annual"), dataset=name)
        except NoDataError:
            continue
        if res.dataset and (best is None or len(res.meta.coverage.get("years", [])) > best[1]):
            best = (name, len(res.meta.coverage.get("years", [])))
    if best is None:
        return pd.DataFrame(columns=cols)
    t = select_flows(flows, reporter=reporter, flow=flow, years=sorted(int(y) for y in full.index),
                     strict_years=False, needs=Needs(frequency="annual"), dataset=best[0])
    a = national_totals(t, ["year"]).to_pandas().astype({"year": int}).set_index("year")["value_usd"]
    out = full.join(a.rename("annual"), how="inner").reset_index()
    out["dataset"] = best[0]
    out["ratio"] = out["monthly_sum"] / out["annual"]
    out["differs"] = (out["ratio"] - 1).abs() > tolerance
    return out[cols]


def current_period(flows, reporter: str, *, flow: str = "export", province: str | None = None,
                   partner: str | None = None, calendar: str = "solar-hijri",
                   until: tuple[int, int] | None = None, tolerance: float = 0.01,
                   dataset: str | None = None) -> CurrentPeriod:
    """The current-period figures of ``reporter`` (optionally one ``province`` or ``partner`` group) for
    ``flow``; see the module docstring for the definitions.  ``until``: (year, month) — months after it are
    ignored (a brief dated in the past).  Raises :class:`AnnualDataOnly` / :class:`NoDataError`."""
    if calendar not in CALENDARS:
        raise UnknownNameError("calendar", calendar, list(CALENDARS))
    reporter = reporter.upper()
    s = monthly_series(flows, reporter, flow=flow, province=province, partner=partner, dataset=dataset)
    meta: ResultMeta = s.attrs.get("meta") or ResultMeta()
    meta = ResultMeta(dataset=meta.dataset, coverage=dict(meta.coverage), warnings=list(meta.warnings),
                      considered=list(meta.considered))
    if until is not None:
        s = s[(s["year"] * 12 + s["month"]) <= (until[0] * 12 + until[1])]
        if s.empty:
            raise NoDataError(f"{reporter}: no monthly data up to {until[0]}-{until[1]:02d}")
    values = {(int(y), int(m)): float(v) for y, m, v in s[["year", "month", "value_usd"]].itertuples(index=False)}
    end = max(values)
    y, m = end
    meta.coverage = {**meta.coverage, "end_month": f"{y}-{m:02d}", "first_month": "{}-{:02d}".format(*min(values))}

    def window(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
        out, cur = [], first
        while cur <= last:
            out.append(cur)
            cur = _shift(*cur, 1)
        return out

    if calendar == "gregorian":
        ytd_win = window((y, 1), (y, m))
    else:
        _sh_y, sh_m = sh_label(y, m)
        ytd_win = window(_shift(y, m, -(sh_m - 1)), (y, m))
    prev_win = [(a - 1, b) for a, b in ytd_win]
    roll_win = window(_shift(y, m, -11), (y, m))
    roll_prev_win = [_shift(a, b, -12) for a, b in roll_win]

    def total(win):
        have = [k for k in win if k in values]
        return (sum(values[k] for k in have) if have else None), have, [k for k in win if k not in values]

    ytd, ytd_have, ytd_miss = total(ytd_win)
    ytd_prev, prev_have, prev_miss = total(prev_win)
    roll, roll_have, roll_miss = total(roll_win)
    roll_prev, _rp_have, rp_miss = total(roll_prev_win)

    def names(ks):
        return ", ".join(f"{a}-{b:02d}" for a, b in ks[:6]) + (", …" if len(ks) > 6 else "")
    if ytd_miss:
        meta.warn(Note(N_("{reporter}: the year to date misses month(s) {months} (absent in {dataset})"),
                       reporter=reporter, months=names(ytd_miss), dataset=meta.dataset))
    if prev_miss and prev_have:
        meta.warn(Note(N_("{reporter}: the same period a year earlier misses month(s) {months}; the "
                          "year-on-year comparison is not like for like"), reporter=reporter, months=names(prev_miss)))
    if roll_miss:
        meta.warn(Note(N_("{reporter}: the 12-month rolling total has {n} of 12 months (missing {months})"),
                       reporter=reporter, n=len(roll_have), months=names(roll_miss)))
    if rp_miss or roll_miss:   # a rolling total is compared only when both windows are complete
        roll_prev = None
    check = pd.DataFrame()
    if province is None and partner is None:
        check = _annual_check(flows, reporter, flow, s, tolerance)
        bad = check[check["differs"].astype(bool)] if len(check) else check
        if len(bad):
            years = ", ".join(f"{int(r.year)} ({r.ratio:.2f}×)" for r in bad.head(6).itertuples())
            meta.warn(Note(N_("{reporter}: the monthly dataset {monthly} and the annual dataset {annual} disagree "
                              "by more than {tolerance:.0%} for {n} year(s): {years} (sum of months ÷ annual value; "
                              "they are separate submissions)"),
                           reporter=reporter, monthly=meta.dataset, annual=bad["dataset"].iloc[0], tolerance=tolerance,
                           n=len(bad), years=years + (", …" if len(bad) > 6 else "")))
    return CurrentPeriod(
        reporter=reporter, flow=flow, calendar=calendar, dataset=meta.dataset, end=end, latest=values[end],
        latest_prev=values.get((y - 1, m)), ytd=ytd or 0.0, ytd_prev=ytd_prev if prev_have else None,
        ytd_months=ytd_have, ytd_prev_months=prev_have, rolling12=roll or 0.0,
        rolling12_prev=roll_prev, rolling_months=len(roll_have), province=province, partner=partner,
        series=s.reset_index(drop=True), annual_check=check, meta=meta)


def current_figures(warehouse, reporter: str, province: str | None = None, *, as_of=None,
                    calendar: str = "solar-hijri", flows=("export", "import")) -> dict:
    """The current-period block of a brief or a dashboard page, JSON-ready: ``status`` ``ok`` (``rows``: one
    :meth:`CurrentPeriod.to_dict` per flow with ``end_year``, ``end_month``, ``sh_year``, ``sh_month``,
    ``ytd_first``), ``annual-only`` (``detail`` says so) or ``no-data``; ``warnings`` of all rows, once each.
    ``as_of``: a date — months after its month are ignored."""
    until = (as_of.year, as_of.month) if as_of is not None else None
    rows, warnings, annual_only, problems = [], [], [], []
    for flow in flows:
        try:
            cp = current_period(warehouse, reporter, flow=flow, province=province, calendar=calendar, until=until)
        except AnnualDataOnly as exc:
            annual_only.append(str(exc))
            continue
        except (NoDataError, UnknownNameError) as exc:
            problems.append(str(exc))
            continue
        d = cp.to_dict()
        d.pop("meta", None)
        d.update(end_year=cp.end[0], end_month=cp.end[1], sh_year=cp.sh_end[0], sh_month=cp.sh_end[1],
                 ytd_first=list(cp.ytd_start))
        rows.append(d)
        for w in cp.meta.warnings:
            if w not in warnings:
                warnings.append(w)
    status = "ok" if rows else ("annual-only" if annual_only else "no-data")
    return {"status": status, "calendar": calendar, "rows": rows, "warnings": warnings,
            "detail": (annual_only or problems or [""])[0]}


def overview(warehouse=None, reporter: str | None = None, province: str | None = None, *,
             calendar: str = "solar-hijri") -> dict:
    """:func:`current_figures` for the web overview page: ``warehouse`` a Warehouse or a path (opened
    read-only; None: the default warehouse), ``reporter`` default ``config.DEFAULT_FOCUS``."""
    from pathlib import Path

    from tradepulse.config import DEFAULT_FOCUS
    from tradepulse.warehouse import Warehouse

    own = warehouse is None or isinstance(warehouse, (str, Path))
    wh = Warehouse(warehouse, read_only=True) if own else warehouse
    try:
        return current_figures(wh, (reporter or DEFAULT_FOCUS).upper(), province, calendar=calendar)
    finally:
        if own:
            wh.close()
