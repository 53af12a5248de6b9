"""Dates typed by people: Solar Hijri (SH, Jalali) or Gregorian, stored Gregorian.

Rule (issue 16): ``1405-09-16`` is read as SH because its year is below 1700, ``2026-12-07`` as Gregorian;
``calendar="sh"`` or ``"gregorian"`` forces either.  Separators ``-``, ``/`` and ``.`` and Persian or
Arabic-Indic digits are accepted (``۱۴۰۵/۰۹/۱۶``).  Accepted ranges: SH years 1279–1479 (Gregorian
1900–2100, the same span), Gregorian years 1900–2100; anything else, or a day that does not exist
(30 Esfand of a common year, 31 Mehr), raises :class:`DateInputError` with one line saying why.
SH → Gregorian is ``jdatetime`` (arithmetic 33-year rule; it agrees with the official calendar for
these years, e.g. 1 Farvardin 1403 = 2024-03-20 and 16 Azar 1405 = 2026-12-07).
"""

from __future__ import annotations

import datetime as dt
import re

import jdatetime

from tradepulse.errors import TradepulseError

SH_YEARS = (1279, 1479)
GREGORIAN_YEARS = (1900, 2100)
#: The year below which an unmarked date is Solar Hijri.
SH_BELOW = 1700
CALENDARS = ("auto", "sh", "gregorian")

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_PATTERN = re.compile(r"^\s*(\d{3,4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*$")


class DateInputError(TradepulseError, ValueError):
    """A date a person typed that is malformed, out of range or does not exist."""


def _calendar(calendar: str | None) -> str:
    c = (calendar or "auto").strip().lower()
    c = {"jalali": "sh", "shamsi": "sh", "solar-hijri": "sh", "g": "gregorian", "gregorian": "gregorian",
         "persian": "sh"}.get(c, c)
    if c not in CALENDARS:
        raise DateInputError(f"unknown calendar {calendar!r}: use auto, sh or gregorian")
    return c


def sh_to_gregorian(year: int, month: int, day: int, what: str = "date") -> dt.date:
    """The Gregorian date of SH ``year/month/day``; :class:`DateInputError` when out of range or invalid."""
    lo, hi = SH_YEARS
    if not lo <= year <= hi:
        raise DateInputError(f"{what} {year:04d}/{month:02d}/{day:02d} is out of range: Solar Hijri year must be "
                             f"{lo}–{hi}")
    try:
        return jdatetime.date(year, month, day).togregorian()
    except ValueError:
        raise DateInputError(f"{what} {year:04d}/{month:02d}/{day:02d} is not a Solar Hijri date "
                             f"(month 1–12; months 1–6 have 31 days, 7–11 have 30, Esfand 29 or 30)") from None


def gregorian(year: int, month: int, day: int, what: str = "date") -> dt.date:
    lo, hi = GREGORIAN_YEARS
    if not lo <= year <= hi:
        raise DateInputError(f"{what} {year:04d}-{month:02d}-{day:02d} is out of range: Gregorian year must be "
                             f"{lo}–{hi}")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise DateInputError(f"{what} {year:04d}-{month:02d}-{day:02d} is not a Gregorian date") from None


def parse_day(value: object, calendar: str | None = "auto", what: str = "date") -> dt.date | None:
    """A typed date → Gregorian :class:`datetime.date` (None for None / empty).

    ``calendar``: ``auto`` (year < 1700 → SH), ``sh`` or ``gregorian``.  A ``date`` object passes through
    (checked against the Gregorian range).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    cal = _calendar(calendar)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return gregorian(value.year, value.month, value.day, what)
    text = str(value).translate(_DIGITS)
    m = _PATTERN.match(text)
    if not m:
        raise DateInputError(f"bad {what} {str(value)[:32]!r}: use YYYY-MM-DD (Solar Hijri 1405-09-16 or "
                             f"Gregorian 2026-12-07)")
    y, mo, d = (int(g) for g in m.groups())
    if cal == "sh" or (cal == "auto" and y < SH_BELOW):
        return sh_to_gregorian(y, mo, d, what)
    return gregorian(y, mo, d, what)


def sh_parts(day: dt.date | None) -> tuple[int, int, int] | None:
    """(year, month, day) in SH of a Gregorian date; None for None or a date jdatetime cannot convert (a
    year-9999 deadline stored before dates were range-checked must not break a page)."""
    if day is None:
        return None
    try:
        j = jdatetime.date.fromgregorian(date=day)
    except (ValueError, OverflowError):
        return None
    return j.year, j.month, j.day


def sh_iso(day: dt.date | None) -> str:
    """``YYYY-MM-DD`` in SH ('' for None)."""
    p = sh_parts(day)
    return f"{p[0]:04d}-{p[1]:02d}-{p[2]:02d}" if p else ""
