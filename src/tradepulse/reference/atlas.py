"""The Atlas of Economic Complexity's published growth projections (Harvard Growth Lab, via the
``atlas-common-data`` package, Apache-2.0) — a published reference to show beside our own ECI.

The package ships one edition per file (``<edition>_growth_projections.csv``: ``year, iso3_code, eci,
growth_proj``).  ``growth_proj`` is, in the package's column metadata, "a prediction of how much a country
will grow over the following 10 years based on its current ECI and COI, as compared to its current income
level in GDP per capita and expected natural resource exports" — an annual rate in percent.  The rows of
earlier years are the projections the Atlas computed with those years' data; the edition's headline figure
is the row of its own year.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pandas as pd

from tradepulse.errors import NoDataError, UnknownNameError

__all__ = ["GrowthProjection", "growth_projection", "growth_projections", "projection_editions"]


@dataclass(frozen=True)
class GrowthProjection:
    """One country's published projection: ``rate`` (% a year over ``horizon_years`` from ``base_year``)."""

    iso3: str
    rate: float
    base_year: int
    edition: int
    atlas_eci: float | None
    horizon_years: int = 10
    source: str = "Atlas of Economic Complexity growth projections (Harvard Growth Lab, atlas-common-data)"

    @property
    def label(self) -> str:
        return (f"{self.rate:.1f}% a year over {self.base_year}–{self.base_year + self.horizon_years} "
                f"(Atlas of Economic Complexity, {self.edition} edition)")


def projection_editions() -> list[int]:
    """Editions (years) of the growth projections the installed atlas-common-data ships."""
    import atlas_common_data as acd

    return sorted(int(y) for y in acd.list_available_growth_projection_years())


@cache
def growth_projections(edition: int | None = None) -> pd.DataFrame:
    """All rows of an edition (default: the latest): ``iso3, year, atlas_eci, growth_proj`` (% a year)."""
    import atlas_common_data as acd

    editions = projection_editions()
    if not editions:
        raise NoDataError("the installed atlas-common-data ships no growth projections")
    edition = editions[-1] if edition is None else int(edition)
    if edition not in editions:
        raise UnknownNameError("growth-projection edition", str(edition), [str(e) for e in editions])
    raw = acd.load_growth_projections(edition)
    out = pd.DataFrame({"iso3": raw["iso3_code"].astype(str), "year": raw["year"].astype("int64"),
                        "atlas_eci": raw["eci"].astype("float64"),
                        "growth_proj": raw["growth_proj"].astype("float64")})
    out.attrs["edition"] = edition
    return out


def growth_projection(iso3: str, *, edition: int | None = None, year: int | None = None) -> GrowthProjection:
    """The published projection for ``iso3``: the edition's own year (default) or ``year``'s row."""
    df = growth_projections(edition)
    ed = int(df.attrs.get("edition", df["year"].max()))
    iso3 = iso3.upper()
    rows = df[(df["iso3"] == iso3) & df["growth_proj"].notna()]
    if rows.empty:
        if iso3 not in set(df["iso3"]):
            raise UnknownNameError("country in the Atlas growth projections", iso3, sorted(set(df["iso3"])))
        raise NoDataError(f"the Atlas publishes no growth projection for {iso3} (edition {ed})")
    want = ed if year is None else int(year)
    hit = rows[rows["year"] == want]
    if hit.empty:
        raise NoDataError(f"no Atlas growth projection for {iso3} in {want}; years with one: "
                          f"{', '.join(map(str, rows['year']))}")
    row = hit.iloc[0]
    eci = None if pd.isna(row["atlas_eci"]) else float(row["atlas_eci"])
    return GrowthProjection(iso3, float(row["growth_proj"]), int(row["year"]), ed, eci)
