"""Reference tables: countries (ISO3, M49, English and Persian names), country groups, HS products,
product groups and the configurable oil set.

Sources: country list and HS product names from the ``atlas-common-data`` package (Harvard Growth Lab,
Apache-2.0); Persian country names from the Unicode CLDR via Babel; named groups from the TOML files
beside this module (editable, or replaced with a file of the same form).
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tradepulse.errors import UnknownNameError

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Group:
    name: str
    title_en: str
    title_fa: str
    members: tuple[str, ...]  # ISO3 codes for country groups, HS prefixes for product groups


# ---------------------------------------------------------------- countries
_ISO2_GAPS = {"NAM": "NA", "ITA": "IT", "TWN": "TW"}

@functools.cache
def countries() -> pd.DataFrame:
    """One row per country: ``iso3, m49, iso2, name_en, name_fa, in_complexity``."""
    import atlas_common_data as acd
    from babel import Locale

    raw = acd.load_countries()
    fa = Locale("fa").territories
    out = pd.DataFrame({
        "iso3": raw["iso3_code"].astype(str),
        "m49": raw["country_id"].astype("int32"),
        # atlas-common-data's loader reads Namibia's "NA" as missing and lacks ITA and TWN alpha-2 codes
        "iso2": raw["iso2_code"].fillna(raw["iso3_code"].map(_ISO2_GAPS)).fillna("").astype(str),
        "name_en": raw["name_short_en"].fillna(raw["name_en"]).astype(str),
        "in_complexity": raw["in_complexity"].astype(bool),
    })
    out["name_fa"] = [fa.get(i2, n) for i2, n in zip(out["iso2"], out["name_en"])]
    return out.sort_values("iso3").reset_index(drop=True)


@functools.cache
def iso3_codes() -> frozenset[str]:
    return frozenset(countries()["iso3"])


#: Legacy / variant country codes still found in macro and trade files → current ISO 3166-1 alpha-3 (or the
#: code the reference list and the trade sources use, XKX for Kosovo).  World Bank WDI used ROM (Romania,
#: until 2017), ZAR (DR Congo), TMP (Timor-Leste), ADO (Andorra), IMY (Isle of Man), KSV (Kosovo), WBG (West
#: Bank and Gaza); CEPII GeoDist uses PAL (Palestine).  (YUG is ambiguous — Serbia and Montenegro split — and
#: is not rewritten.)  Same rewrite as the readers' aliases (``tradepulse.ingest.codes.ALIASES``).
LEGACY_ISO3 = {"ROM": "ROU", "ZAR": "COD", "TMP": "TLS", "ADO": "AND", "IMY": "IMN", "KSV": "XKX",
               "WBG": "PSE", "PAL": "PSE"}


def harmonise_iso3(codes) -> pd.Series:
    """``codes`` (any iterable of country codes) with legacy codes rewritten by :data:`LEGACY_ISO3` (upper-case,
    stripped); other codes unchanged.  Returns a string Series aligned with the input."""
    s = codes.astype(object) if isinstance(codes, pd.Series) else pd.Series(list(codes), dtype=object)
    s = s.astype(str).str.strip().str.upper()
    return s.replace(LEGACY_ISO3)


def country_name(iso3: str, lang: str = "en") -> str:
    row = countries().set_index("iso3")
    if iso3 not in row.index:
        return iso3
    return str(row.at[iso3, "name_fa" if lang == "fa" else "name_en"])


# ---------------------------------------------------------------- groups
def _load_groups(path: Path, key: str) -> dict[str, Group]:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return {name: Group(name, spec.get("title_en", name), spec.get("title_fa", name),
                        tuple(str(m) for m in spec[key]))
            for name, spec in data.items()}


@functools.cache
def country_groups(path: str | None = None) -> dict[str, Group]:
    """Named partner groups (Iran's 15 neighbours, Caspian littoral, Persian Gulf, GCC, ECO, ...)."""
    return _load_groups(Path(path) if path else HERE / "country_groups.toml", "members")


def group_members(name: str, path: str | None = None) -> tuple[str, ...]:
    """ISO3 members of a named country group; a single ISO3 code is accepted as its own group."""
    groups = country_groups(path)
    if name in groups:
        return groups[name].members
    if name.upper() in iso3_codes():
        return (name.upper(),)
    raise UnknownNameError("country group", name, list(groups))


# ---------------------------------------------------------------- products
@functools.cache
def product_groups(path: str | None = None) -> dict[str, Group]:
    """Named product groups as HS prefixes (oil, handicrafts, telecom_equipment, car_parts, ...)."""
    return _load_groups(Path(path) if path else HERE / "product_groups.toml", "prefixes")


def product_group_prefixes(name: str, path: str | None = None) -> tuple[str, ...]:
    groups = product_groups(path)
    if name not in groups:
        raise UnknownNameError("product group", name, list(groups))
    return groups[name].members


@dataclass(frozen=True)
class OilSet:
    """A named definition of "oil" (its complement is "non-oil"): HS prefixes, where it comes from, and
    what product data of a given HS level cannot separate (said to the user through ``tradepulse.meta``)."""

    name: str
    group: str                 # the product group (product_groups.toml) holding the prefixes
    source: str
    caveats: dict[int, str]    # HS level (4, 6, 8) → a sentence; level 2 uses the level-4 sentence


#: Named oil sets.  ``narrow`` and ``chapter27`` are conventions; ``iran_customs`` follows the official
#: Iranian customs (IRICA) definition behind the "non-oil exports" (صادرات غیرنفتی) the TPO reports.
OIL_SETS: dict[str, OilSet] = {
    "narrow": OilSet("narrow", "oil", "tradepulse convention: crude (2709), refined products (2710), "
                     "petroleum gases incl. natural gas and LPG (2711)", {}),
    "chapter27": OilSet("chapter27", "oil_chapter27", "HS chapter 27 (mineral fuels, oils, waxes, "
                        "bitumen, coal, electricity)", {}),
    "iran_customs": OilSet(
        "iran_customs", "oil_iran_customs",
        "IRICA non-oil exports = all customs-declared goods except crude oil, so gas condensate, LPG, "
        "natural gas and oil products count as non-oil (IRICA via the TPO, Financial Tribune, May 2016, "
        "'Falling exports blamed on gas condensates': 'By non-oil exports, IRICA refers to all commodities, "
        "except crude oil'); IRICA's 1401 (2022/23) figures also leave out mazut and kerosene (IRICA "
        "statement of 26 Feb 2023, Mehr News / Tehran Chamber)",
        {4: "Iran's official non-oil series counts gas condensate as non-oil, but at HS4 condensate is inside "
            "2709 with crude oil: here all of 2709 is oil, so non-oil exports are understated by the "
            "condensate exports; and mazut and kerosene (inside 2710, left out of IRICA's recent figures) "
            "are counted as non-oil here.",
         6: "Iran's official non-oil series counts gas condensate as non-oil, but HS6 270900 holds both crude "
            "oil and condensate: here all of 270900 is oil, so non-oil exports are understated by the "
            "condensate exports; mazut and kerosene (both inside 271019 with gas oil, left out of IRICA's "
            "recent figures) are counted as non-oil here.",
         8: "Iran's official non-oil series: at 8 digits use Iran's national tariff subheadings to move gas "
            "condensate out of the oil set and mazut and kerosene into it (pass them as --oil prefixes); the "
            "shipped set holds HS 2709 only."}),
}


def oil_prefixes(mode: str = "narrow") -> tuple[str, ...]:
    """HS prefixes of a named oil set (:data:`OIL_SETS`): ``narrow`` = HS 2709, 2710, 2711 (default);
    ``chapter27`` = all of chapter 27; ``iran_customs`` = HS 2709 (Iran's customs non-oil definition)."""
    if mode not in OIL_SETS:
        raise UnknownNameError("oil set", mode, list(OIL_SETS))
    return product_group_prefixes(OIL_SETS[mode].group)


def oil_set_notes(mode: str, levels) -> list[str]:
    """The sentences a user must read about oil set ``mode`` on product codes of HS ``levels`` (lengths)."""
    if mode not in OIL_SETS:
        raise UnknownNameError("oil set", mode, list(OIL_SETS))
    caveats = OIL_SETS[mode].caveats
    out: list[str] = []
    for level in sorted({int(v) for v in levels}):
        note = caveats.get(level) or (caveats.get(4) if level < 4 else None)
        if note and note not in out:
            out.append(note)
    return out


def matches_prefixes(codes: pd.Series, prefixes: tuple[str, ...] | list[str]) -> np.ndarray:
    """Boolean mask: which HS codes start with any of ``prefixes`` (vectorised)."""
    codes = codes.astype(str)
    return codes.str.startswith(tuple(prefixes)).to_numpy()


@functools.cache
def hs_products(revision: str = "HS1992", level: int = 4) -> pd.DataFrame:
    """HS products at ``level`` 2, 4 or 6 digits: ``code, name_en, name_short_en``.

    HS1992 and HS2012 names come from atlas-common-data (``hs92``, ``hs12``); other revisions use the
    nearest of these (names of headings change little between revisions).
    """
    import atlas_common_data as acd

    cls = {"HS1992": "hs92", "HS1996": "hs92", "HS2002": "hs92", "HS2007": "hs12", "HS2012": "hs12",
           "HS2017": "hs12", "HS2022": "hs22", "UNKNOWN": "hs92"}.get(revision)
    if cls is None:
        raise UnknownNameError("HS revision", revision, ["HS1992", "HS2012", "HS2022"])
    if level not in (2, 4, 6):
        raise ValueError(f"HS level must be 2, 4 or 6, not {level}")
    raw = acd.load_products(cls)
    raw = raw[raw["product_level"] == level]
    codes = raw["code"].astype(str).str.zfill(level)
    return pd.DataFrame({"code": codes.to_numpy(), "name_en": raw["name_en"].to_numpy(),
                         "name_short_en": raw["name_short_en"].to_numpy()}).drop_duplicates("code") \
        .sort_values("code").reset_index(drop=True)


@functools.cache
def _all_product_names(revision: str) -> pd.Series:
    """code → short English name for HS2, HS4 and HS6 codes of ``revision`` (codes differ in length)."""
    return pd.concat([hs_products(revision, lv).set_index("code")["name_short_en"] for lv in (2, 4, 6)]).astype(str)


def product_names(codes, revision: str = "HS1992") -> list[str]:
    """Short English names of HS codes (2, 4 or 6 digits), vectorised; an unknown code stays as it is."""
    codes = pd.Series(codes, dtype=object).astype(str)
    return codes.map(_all_product_names(revision)).fillna(codes).tolist()


def product_name(code: str, revision: str = "HS1992") -> str:
    level = len(code)
    if level not in (2, 4, 6):
        return code
    table = hs_products(revision, level).set_index("code")["name_short_en"]
    return str(table.get(code, code))
