"""Filter values checked *before* any computation, so junk never reaches an indicator or the cache.

A filter value is accepted only when it names something that exists (issue 15, defects 2 and 7):

- ``year``: four digits, 1900–2100 (else 422), and a year of the focus country's data (else 404 naming
  the years that have data);
- ``partner``: comma-separated ISO3 codes of the reference list or of the data, country group names, or
  ``WLD`` (else 404 naming the groups);
- ``product``: comma-separated HS prefixes (2–6 digits) that begin a product code of the reference
  nomenclature or of the data, product group names, or ``oil:chapter27`` (else 404);
- ``province``: comma-separated provinces of the reference list (any spelling) or of the data (else 404);
- at most :data:`MAX_PARTS` comma-separated parts and 200 characters per filter (else 422).

The lists taken from the data are computed once per warehouse version (cached like any table).
"""

from __future__ import annotations

import functools
import re

from fastapi import HTTPException

from tradepulse import reference
from tradepulse.errors import UnknownNameError
from tradepulse.web.data import DataContext, Params

#: Most comma-separated parts in one filter value.
MAX_PARTS = 30
#: Gregorian years a filter may name (the rest of the app uses the same bounds).
YEAR_MIN, YEAR_MAX = 1900, 2100


def parse_year(raw: str | None) -> int | None:
    """A year filter from a query string: ``None``/empty → None; else 4 digits in 1900–2100 or 422."""
    if raw is None or not raw.strip():
        return None
    v = raw.strip()
    if not re.fullmatch(r"\d{4}", v) or not YEAR_MIN <= int(v) <= YEAR_MAX:
        raise HTTPException(422, f"year must be a Gregorian year {YEAR_MIN}–{YEAR_MAX}, got {v[:12]!r}")
    return int(v)


def _parts(name: str, value: str) -> list[str]:
    if len(value) > 200:
        raise HTTPException(422, f"{name} is longer than 200 characters")
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if len(parts) > MAX_PARTS:
        raise HTTPException(422, f"{name} names more than {MAX_PARTS} values")
    return parts


@functools.cache
def _reference_prefixes() -> frozenset[str]:
    codes: set[str] = set()
    for level in (2, 4, 6):
        codes.update(str(c) for c in reference.hs_products("HS1992", level)["code"])
    return frozenset(c[:n] for c in codes for n in range(2, len(c) + 1))


def _data_values(ctx: DataContext, column: str) -> frozenset[str]:
    def f() -> frozenset[str]:
        t = ctx.flows()
        return frozenset(str(v) for v in t.select(column).distinct().to_pandas()[column].dropna())
    return ctx.cached(("distinct", column), f)


def data_years(ctx: DataContext) -> list[int]:
    """Years with flows of the focus country (cached)."""
    def f() -> list[int]:
        t = ctx.flows()
        return sorted(int(y) for y in t.filter(t.reporter == ctx.focus).select("year").distinct()
                      .to_pandas()["year"])
    return ctx.cached(("years", ctx.focus), f)


def check(ctx: DataContext, p: Params, filters: tuple[str, ...], *, years: bool = True) -> None:
    """Raise (404 :class:`UnknownNameError` / 422) unless every filter value in ``p`` names something known.

    Runs queries on a cold cache (call it in a worker); ``years=False`` skips the data-year check (tables
    that are not about the focus country's flows).
    """
    if p.year is not None and "year" in filters and years:
        have = data_years(ctx)
        if have and p.year not in have:
            raise UnknownNameError("year", str(p.year), [str(y) for y in have])
    if p.partner and "partner" in filters:
        groups = reference.country_groups()
        known = None
        for part in _parts("partner", p.partner):
            if part.upper() == "WLD" or part in groups or part.upper() in reference.iso3_codes():
                continue
            known = known if known is not None else _data_values(ctx, "partner")
            if part.upper() not in known:
                raise UnknownNameError("country group", part, [*groups, "ISO3 codes"])
    if p.product and "product" in filters:
        groups = reference.product_groups()
        known = None
        for part in _parts("product", p.product):
            if part in groups or part == "oil:chapter27":
                continue
            if re.fullmatch(r"\d{2,6}", part):
                if part in _reference_prefixes():
                    continue
                known = known if known is not None else frozenset(
                    c[:n] for c in _data_values(ctx, "product") for n in range(2, len(c) + 1))
                if part in known:
                    continue
            raise UnknownNameError("product group", part, [*groups, "HS prefixes of 2–6 digits"])
    if p.province and "province" in filters:
        from tradepulse.indicators.selection import province_matches
        from tradepulse.reference.provinces import resolve_province
        stored = None
        for part in _parts("province", p.province):
            if resolve_province(part) is not None:
                continue
            stored = stored if stored is not None else sorted(_data_values(ctx, "province"))
            if not province_matches(part, stored):
                raise UnknownNameError("province", part, stored)
