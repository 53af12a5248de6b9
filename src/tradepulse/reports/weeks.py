"""Jalali (Solar Hijri) week notation used by the weekly brief: ``YYYY-Www``, e.g. ``1405-W35``.

Convention (documented in docs/brief.md):

- A week runs **Saturday to Friday** (the Iranian working week starts on Saturday).
- **Week 1** of SH year *Y* is the Saturday-to-Friday week that **contains 1 Farvardin Y** (Nowruz).  So
  the last days of Esfand that share a week with Nowruz belong to week 1 of the new year, as in the
  "week containing 1 January" rule of many Gregorian calendars.
- Week *n* starts on ``S1 + 7·(n − 1)`` where ``S1`` is the Saturday on or before 1 Farvardin *Y*; a year
  has 52 or 53 weeks (until the Saturday on or before 1 Farvardin *Y + 1*).

Example: 1 Farvardin 1405 = Saturday 21 March 2026, so 1405-W01 = 2026-03-21 … 2026-03-27 and
1405-W35 = 2026-11-14 … 2026-11-20.  1 Farvardin 1404 = Friday 21 March 2025, so 1404-W01 starts on
Saturday 15 March 2025 (24 Esfand 1403).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import jdatetime

from tradepulse.errors import TradepulseError

_PATTERN = re.compile(r"^\s*(\d{4})-?[Ww](\d{1,2})\s*$")
_SATURDAY = 5    # date.weekday(): Monday = 0 … Saturday = 5


def saturday_on_or_before(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - _SATURDAY) % 7)


def week1_start(sh_year: int) -> dt.date:
    """The Saturday starting week 1 of SH ``sh_year`` (on or before 1 Farvardin)."""
    return saturday_on_or_before(jdatetime.date(int(sh_year), 1, 1).togregorian())


def weeks_in_year(sh_year: int) -> int:
    """52 or 53."""
    return (week1_start(sh_year + 1) - week1_start(sh_year)).days // 7


@dataclass(frozen=True)
class JalaliWeek:
    year: int     # SH week-year
    week: int     # 1 … 52/53

    @property
    def start(self) -> dt.date:
        """Gregorian Saturday starting the week."""
        return week1_start(self.year) + dt.timedelta(days=7 * (self.week - 1))

    @property
    def end(self) -> dt.date:
        """Gregorian Friday ending the week (inclusive)."""
        return self.start + dt.timedelta(days=6)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    def __str__(self) -> str:
        return self.label

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def week_of(day: dt.date) -> JalaliWeek:
    """The Jalali week containing Gregorian ``day``."""
    sat = saturday_on_or_before(day)
    year = jdatetime.date.fromgregorian(date=day).year
    # the week-year is the SH year whose week 1 starts on or before this Saturday and whose successor's does not
    for y in (year + 1, year, year - 1):
        if week1_start(y) <= sat:
            return JalaliWeek(y, (sat - week1_start(y)).days // 7 + 1)
    raise AssertionError("unreachable")   # pragma: no cover


def parse_week(text: str) -> JalaliWeek:
    """Parse ``1405-W35`` (also ``1405W35``, ``1405-w5``); the week must exist in that year."""
    m = _PATTERN.match(str(text))
    if not m:
        raise TradepulseError(f"bad week {text!r}: use the Jalali form YYYY-Www, e.g. 1405-W35")
    year, week = int(m.group(1)), int(m.group(2))
    n = weeks_in_year(year)
    if not 1 <= week <= n:
        raise TradepulseError(f"bad week {text!r}: Jalali year {year} has weeks 1 to {n}")
    return JalaliWeek(year, week)
