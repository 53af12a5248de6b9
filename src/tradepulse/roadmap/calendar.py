"""Solar Hijri (SH, Iranian civil) calendar helpers built on ``jdatetime``.

The SH year *y* runs from 1 Farvardin *y* (Nowruz, 20 or 21 March of Gregorian year *y* + 621) to the last
day of Esfand (19 or 20 March of Gregorian year *y* + 622).  Examples: 1 Farvardin 1399 = 20 March 2020,
1 Farvardin 1400 = 21 March 2021, 1 Farvardin 1403 = 20 March 2024.  ``jdatetime``'s arithmetic leap-year
rule agrees with the official (astronomical, Tehran-noon) calendar for the years trade data cover.

Two conversions of trade data to SH years (see docs/roadmap.md, "Calendar"):

* **Monthly data → SH years ("exact" by day weights).**  Trade statistics report Gregorian months.  Only
  March straddles Nowruz; every other month lies wholly inside one SH year.  Each Gregorian month's value is
  split between the SH years it overlaps in proportion to its days in each, i.e. value × (days of the month
  in SH *y*) / (days in the month).  This is exact for every month but March, and for March it assumes the
  flow is spread evenly over the month's days (the only assumption; no other source splits March).
* **Annual Gregorian data → SH years (apportioned, always an estimate).**
  ``SH y = w₁·G(y+621) + w₂·G(y+622)`` with w₁ = (days of SH *y* in G *y*+621) / (days in G *y*+621)
  (≈ 286/365 ≈ ¾) and w₂ = (days of SH *y* in G *y*+622) / (days in G *y*+622) (≈ 79/365 ≈ ¼), from actual
  day counts (leap years included).  The result is labelled ``estimate``.

* **Solar Hijri months stored under Gregorian labels** (customs data read from SH months by the ingest, which
  files SH month *m* under the Gregorian month holding its 15th day) map back 1:1 (:func:`sh_months_to_sh`,
  exact); choose this with ``monthly_data = "sh-months"`` in the roadmap file.

Counts (number of products or markets) cannot be apportioned; they use the Gregorian year holding most of the
SH year (*y* + 621), also labelled an estimate.
"""

from __future__ import annotations

import datetime as _dt

import jdatetime
import numpy as np
import pandas as pd

from tradepulse.i18n import persian_digits

#: Offset between a SH year and the Gregorian year in which it starts.
SH_OFFSET = 621

MONTHS_FA = ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی",
             "بهمن", "اسفند")


def to_persian_digits(text: object) -> str:
    """ASCII digits 0–9 → Persian digits ۰–۹ only (separators unchanged): a thin alias of
    :func:`tradepulse.i18n.persian_digits` ``(text, separators=False)``, used for Jalali dates here; new code
    should use :class:`tradepulse.i18n.Formatter` (CLDR separators ``٬`` ``٫`` ``٪`` and the minus sign)."""
    return persian_digits(text, separators=False)


def nowruz(sh_year: int) -> _dt.date:
    """Gregorian date of 1 Farvardin of ``sh_year`` (e.g. 1400 → 2021-03-21)."""
    return jdatetime.date(int(sh_year), 1, 1).togregorian()


def sh_year_bounds(sh_year: int) -> tuple[_dt.date, _dt.date]:
    """First and last Gregorian day of SH year ``sh_year`` (inclusive)."""
    return nowruz(sh_year), nowruz(sh_year + 1) - _dt.timedelta(days=1)


def sh_year_length(sh_year: int) -> int:
    """Days in SH year ``sh_year`` (365, or 366 when Esfand has 30 days)."""
    start, end = sh_year_bounds(sh_year)
    return (end - start).days + 1


def to_sh(day: _dt.date) -> jdatetime.date:
    """The SH date of a Gregorian date."""
    return jdatetime.date.fromgregorian(date=day)


def to_gregorian(sh_year: int, sh_month: int = 1, sh_day: int = 1) -> _dt.date:
    """The Gregorian date of a SH date."""
    return jdatetime.date(int(sh_year), int(sh_month), int(sh_day)).togregorian()


def sh_year_of(day: _dt.date) -> int:
    """SH year containing a Gregorian date (20 March 2021 → 1399, 21 March 2021 → 1400)."""
    return to_sh(day).year


def sh_to_gregorian_year(sh_year: int) -> int:
    """The Gregorian year in which SH ``sh_year`` starts (``sh_year + 621``)."""
    return int(sh_year) + SH_OFFSET


def gregorian_to_sh_year(g_year: int) -> int:
    """The SH year starting in Gregorian ``g_year`` (``g_year − 621``)."""
    return int(g_year) - SH_OFFSET


def format_sh(day: _dt.date, lang: str = "en") -> str:
    """``1403-01-01`` (lang en) or ``۱ فروردین ۱۴۰۳`` (lang fa) for a Gregorian date."""
    d = to_sh(day)
    if lang == "fa":
        return to_persian_digits(f"{d.day} {MONTHS_FA[d.month - 1]} {d.year}")
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def _days_in_year(g_year: int) -> int:
    return 366 if (g_year % 4 == 0 and (g_year % 100 != 0 or g_year % 400 == 0)) else 365


def annual_weights(sh_year: int) -> tuple[float, float]:
    """Apportioning weights ``(w₁, w₂)``: SH y ≈ w₁·G(y+621) + w₂·G(y+622), from actual day counts.

    w₁ = days from 1 Farvardin y to 31 December / days in G(y+621); w₂ = days from 1 January to the last day
    of Esfand / days in G(y+622).  For SH 1400: 286/365 and 79/365.
    """
    start, end = sh_year_bounds(sh_year)
    g1 = start.year
    dec31 = _dt.date(g1, 12, 31)
    d1 = (dec31 - start).days + 1
    d2 = (end - _dt.date(g1 + 1, 1, 1)).days + 1
    return d1 / _days_in_year(g1), d2 / _days_in_year(g1 + 1)


def month_split(g_year: int, g_month: int) -> list[tuple[int, float]]:
    """How a Gregorian month's days fall into SH years: ``[(sh_year, share), ...]`` (shares sum to 1).

    Every month but March lies in one SH year; March Y is split at Nowruz, e.g. March 2021:
    20 days (1–20) in SH 1399 and 11 days (21–31) in SH 1400.
    """
    first = _dt.date(g_year, g_month, 1)
    nxt = _dt.date(g_year + (g_month == 12), g_month % 12 + 1, 1)
    n = (nxt - first).days
    sh_first = sh_year_of(first)
    boundary = nowruz(sh_first + 1)
    if boundary >= nxt:
        return [(sh_first, 1.0)]
    before = (boundary - first).days
    return [(sh_first, before / n), (sh_first + 1, (n - before) / n)]


def monthly_to_sh(frame: pd.DataFrame, value: str = "value", year: str = "year", month: str = "month",
                  by: list[str] | None = None) -> pd.DataFrame:
    """Aggregate Gregorian monthly values to SH years by day weights (see module docstring).

    Returns ``by + [sh_year, value, months]`` where ``months`` counts the Gregorian months that contributed
    (a complete SH year has 13 contributions: March twice, the other 11 months once).
    """
    by = list(by or [])
    if frame.empty:
        return pd.DataFrame(columns=by + ["sh_year", value, "months"])
    ym = frame[[year, month]].drop_duplicates().astype(int)
    rows = [(y, m, s, w) for y, m in zip(ym[year], ym[month]) for s, w in month_split(y, m)]
    weights = pd.DataFrame(rows, columns=[year, month, "sh_year", "_w"])
    f = frame.astype({year: int, month: int}).merge(weights, on=[year, month])
    f["_v"] = f[value].to_numpy(dtype=float) * f["_w"].to_numpy()
    out = f.groupby(by + ["sh_year"], as_index=False).agg(**{value: ("_v", "sum"), "months": ("_v", "size")})
    return out


def sh_months_to_sh(frame: pd.DataFrame, value: str = "value", year: str = "year", month: str = "month",
                    by: list[str] | None = None) -> pd.DataFrame:
    """Aggregate Solar Hijri months stored under Gregorian labels back to SH years (exact).

    The ingest stores SH month *m* of year *y* under the Gregorian month holding its 15th day: Farvardin →
    April of *y* + 621, …, Dey → January of *y* + 622, …, Esfand → March of *y* + 622.  Hence
    SH year = year − 621 for months 4–12 and year − 622 for months 1–3.  Returns ``by + [sh_year, value, months]``.
    """
    by = list(by or [])
    if frame.empty:
        return pd.DataFrame(columns=by + ["sh_year", value, "months"])
    f = frame.astype({year: int, month: int})
    f = f.assign(sh_year=f[year] - SH_OFFSET - (f[month] <= 3).astype(int))
    return f.groupby(by + ["sh_year"], as_index=False).agg(**{value: (value, "sum"), "months": (month, "nunique")})


def annual_to_sh(frame: pd.DataFrame, value: str = "value", year: str = "year",
                 by: list[str] | None = None, require_both: bool = True) -> pd.DataFrame:
    """Apportion annual Gregorian values to SH years: SH y = w₁·G(y+621) + w₂·G(y+622) (an estimate).

    With ``require_both`` (default) a SH year is produced only when both Gregorian years are present in its
    group; otherwise the missing year counts as zero.  Returns ``by + [sh_year, value, w1, w2]``.
    """
    by = list(by or [])
    if frame.empty:
        return pd.DataFrame(columns=by + ["sh_year", value, "w1", "w2"])
    f = frame[by + [year, value]].copy()
    f[year] = f[year].astype(int)
    years = np.unique(f[year].to_numpy())
    sh = np.unique(np.concatenate([years - SH_OFFSET - 1, years - SH_OFFSET]))
    w = pd.DataFrame([(s, *annual_weights(int(s))) for s in sh], columns=["sh_year", "w1", "w2"])
    first = f.rename(columns={value: "_v1"}).assign(sh_year=lambda d: d[year] - SH_OFFSET).drop(columns=year)
    second = f.rename(columns={value: "_v2"}).assign(sh_year=lambda d: d[year] - SH_OFFSET - 1).drop(columns=year)
    m = first.merge(second, on=by + ["sh_year"], how="inner" if require_both else "outer")
    m = m.merge(w, on="sh_year")
    m[value] = m["w1"] * m["_v1"].fillna(0.0) + m["w2"] * m["_v2"].fillna(0.0)
    return m[by + ["sh_year", value, "w1", "w2"]].sort_values(by + ["sh_year"]).reset_index(drop=True)
