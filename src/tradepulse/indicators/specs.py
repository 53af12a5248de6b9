"""Parsing the list and year arguments every indicator takes (``"IRN,TUR"``, ``"2014-2016,2020"``).

Below both :mod:`tradepulse.indicators.selection` and :mod:`tradepulse.indicators.inputs`, which use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tradepulse.errors import NoDataError, UnknownNameError

__all__ = ["parse_years", "split_list"]


def split_list(spec: str | Iterable[str]) -> list[str]:
    """Items from ``"a, b"``, ``["a", "b,c"]`` or ``"a"``: comma-separated parts, stripped, empties dropped."""
    items = [spec] if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for item in items:
        out.extend(p.strip() for p in str(item).split(",") if p.strip())
    return out


def parse_years(spec: int | str | Iterable[int] | None) -> list[int] | None:
    """Years from ``2017``, ``"2014-2018"``, ``"2014,2016"``, ``"2014-2016,2020"`` or a list; ``None`` → all.

    >>> parse_years("2014-2016,2020")
    [2014, 2015, 2016, 2020]
    """
    if spec is None:
        return None
    if isinstance(spec, int):
        return [spec]
    parts = split_list(spec) if isinstance(spec, str) else [str(s) for s in spec]
    years: set[int] = set()
    for part in parts:
        m = re.fullmatch(r"\s*(\d{4})\s*(?:[-:]|\.\.)\s*(\d{4})\s*", part)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if lo > hi:
                raise NoDataError(f"empty year range {part!r}: the first year is after the last")
            years.update(range(lo, hi + 1))
        elif re.fullmatch(r"\s*\d{4}\s*", part):
            years.add(int(part))
        else:
            raise UnknownNameError("year", part, ["YYYY", "YYYY-YYYY", "YYYY,YYYY"])
    return sorted(years)
