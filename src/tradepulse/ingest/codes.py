"""Code lists used by the readers: valid country/area codes, BACI numeric codes, flow and HS-revision words.

Conventions (see docs/data-model.md):

* A country column holds an ISO 3166-1 alpha-3 code, ``WLD`` for the world (Comtrade ``W00``/``0``), or one
  of Comtrade's non-ISO *area* codes (``S19`` Other Asia nes, ``_X`` Areas nes, ``X1`` bunkers, ``X2`` free
  zones, ``XX`` special categories, ``E19``/``F19``/``O19``/``A59``/``A79``/``ATB`` regional "nes").  Area codes
  are **kept as-is** (not guessed to a country): they carry real value and make partner sums add up to the
  ``WLD`` total.  Anything else is quarantined as an unknown country code.
* BACI/UN numeric codes map to ISO3 through the reference M49 column plus the BACI/Comtrade-specific codes
  below (842 USA, 251 FRA, 699 IND, 757 CHE, 579 NOR, 381 ITA, 58 BEL-LUX → BEL, 711 SACU → ZAF, 490 → S19 ...),
  or through a BACI ``country_codes_V*.csv`` file when given.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from tradepulse.errors import InputError
from tradepulse.schema import WORLD

if TYPE_CHECKING:  # pandas and the reference tables are imported on first use: a BACI load needs neither
    import pandas as pd

#: ISO 3166-1 alpha-3 codes absent from the reference list but used by trade sources (territories).
EXTRA_ISO3 = ("ALA", "ATF", "BES", "BLM", "BVT", "CCK", "CUW", "CXR", "ESH", "HMD", "IOT", "MAF", "MYT", "NFK",
              "PCN", "SGS", "SJM", "SSD", "SXM", "TWN", "UMI", "WLF")
#: Former states still found in historical data.
HISTORIC_ISO3 = ("ANT", "CSK", "DDR", "SCG", "SUN", "YUG")
#: Legacy or variant codes rewritten to the current ISO3.
ALIASES = {"ROM": "ROU", "ZAR": "COD", "TMP": "TLS", "W00": WORLD, "WORLD": WORLD, "WLD": WORLD}
#: Comtrade non-ISO area codes, kept unchanged.
AREA_CODES = ("S19", "_X", "X1", "X2", "XX", "E19", "F19", "O19", "A59", "A79", "ATB", "R91", "R4")

#: BACI / Comtrade numeric codes that differ from ISO 3166 numeric (M49).
BACI_NUMERIC = {0: WORLD, 58: "BEL", 86: "IOT", 175: "MYT", 200: "CSK", 251: "FRA", 278: "DDR", 280: "DEU",
                381: "ITA", 490: "S19", 579: "NOR", 699: "IND", 711: "ZAF", 736: "SDN", 757: "CHE",
                810: "SUN", 842: "USA", 876: "WLF", 891: "SCG", 899: "_X", 837: "X1", 838: "X2", 839: "XX"}

#: Words accepted in a flow column (lower-cased), including Persian and Comtrade codes.
FLOW_WORDS = {
    "export": "export", "exports": "export", "x": "export", "2": "export", "صادرات": "export",
    "import": "import", "imports": "import", "m": "import", "1": "import", "واردات": "import",
    "re-export": "re-export", "reexport": "re-export", "re-exports": "re-export", "rx": "re-export",
    "3": "re-export", "صادرات مجدد": "re-export",
    "re-import": "re-import", "reimport": "re-import", "re-imports": "re-import", "rm": "re-import",
    "4": "re-import", "واردات مجدد": "re-import",
}

#: Comtrade classification codes → HS revision.
HS_CLASSIFICATIONS = {"H0": "HS1992", "H1": "HS1996", "H2": "HS2002", "H3": "HS2007", "H4": "HS2012",
                      "H5": "HS2017", "H6": "HS2022", "HS": "UNKNOWN",
                      "HS92": "HS1992", "HS96": "HS1996", "HS02": "HS2002", "HS07": "HS2007",
                      "HS12": "HS2012", "HS17": "HS2017", "HS22": "HS2022"}
for _r in ("HS1992", "HS1996", "HS2002", "HS2007", "HS2012", "HS2017", "HS2022", "UNKNOWN"):
    HS_CLASSIFICATIONS[_r] = _r

#: Product codes that stand for all goods (stored as ``TOTAL``, the aggregate product, never as an HS code):
#: Comtrade's ``cmdCode`` TOTAL (also written Total), the classic API's aggregate level ``AG0``, WITS "All
#: Products", and a Persian customs file's total line (جمع / جمع کل / کل).  Compared upper-cased and trimmed,
#: spaces collapsed, Arabic ي/ك unified.
PRODUCT_TOTALS = ("TOTAL", "TOT", "ALL", "AG0", "ALL PRODUCTS", "ALLPRODUCTS", "ALL COMMODITIES", "ALL GOODS",
                  "جمع", "جمع کل", "کل")

#: HS chapters in use (01–97 without 77, reserved) plus 99, used by Comtrade/Atlas for "not specified".
HS_CHAPTERS = tuple(f"{c:02d}" for c in range(1, 98) if c != 77) + ("99",)


@functools.cache
def iso3_table() -> pd.DataFrame:
    """``key → code`` for ISO3 / alias / area code columns (keys upper-case)."""
    import pandas as pd

    from tradepulse import reference
    valid = sorted(set(reference.iso3_codes()) | set(EXTRA_ISO3) | set(HISTORIC_ISO3) | set(AREA_CODES)
                   | {WORLD})
    rows = [(c, c) for c in valid] + list(ALIASES.items())
    return pd.DataFrame(rows, columns=["key", "code"]).drop_duplicates("key")


def _atlas_country_csv() -> Path:
    """The country list CSV shipped by ``atlas-common-data`` (the file ``reference.countries()`` reads),
    located without importing the package (its ``__init__`` imports pandas)."""
    spec = importlib.util.find_spec("atlas_common_data")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("the atlas-common-data package is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "classification" / "location" / "country.csv"


def numeric_codes_sql(country_codes_csv: str | Path | None = None) -> str:
    """A DuckDB query for the ``key → code`` table of numeric country codes (keys are the integer as text),
    built without pandas (a BACI load imports only DuckDB).

    Precedence: the reference M49 codes (``country_id`` of atlas-common-data's country list, the list
    ``reference.countries()`` reads), overridden by :data:`BACI_NUMERIC`, overridden by a BACI
    ``country_codes`` CSV (``country_code``, ``iso_3digit_alpha``; read as Latin-1, blank ISO3 ignored) when
    given.  A code file without the two columns raises a DuckDB error when the query runs (the ingest turns
    it into :class:`~tradepulse.errors.InputError`).  ``tests/test_storage.py`` holds an independent pandas
    implementation of the same table.
    """
    from tradepulse.ingest._spec import lit

    parts = [f"SELECT CAST(country_id AS INTEGER) AS key, CAST(iso3_code AS VARCHAR) AS code, 1 AS rank "
             f"FROM read_csv({lit(str(_atlas_country_csv()))}, header = true)"]
    parts.append("SELECT key, code, 2 AS rank FROM (VALUES " +
                 ", ".join(f"({k}, {lit(v)})" for k, v in BACI_NUMERIC.items()) + ") v(key, code)")
    if country_codes_csv is not None:
        parts.append(f"SELECT TRY_CAST(trim(country_code) AS INTEGER) AS key, upper(trim(iso_3digit_alpha)) AS code, "
                     f"3 AS rank FROM read_csv({lit(str(country_codes_csv))}, header = true, all_varchar = true, "
                     f"encoding = 'latin-1') WHERE trim(coalesce(iso_3digit_alpha, '')) <> ''")
    return (f"SELECT CAST(key AS VARCHAR) AS key, arg_max(code, rank) AS code FROM ({' UNION ALL '.join(parts)}) "
            f"WHERE key IS NOT NULL GROUP BY key")


def _normalise_name(s: pd.Series) -> pd.Series:
    return (s.astype(str).str.strip().str.lower().str.replace("ي", "ی", regex=False)
            .str.replace("ك", "ک", regex=False))


@functools.cache
def name_table() -> pd.DataFrame:
    """``key → code`` for country *names* (English or Persian, lower-cased) and ISO3 codes."""
    import pandas as pd

    from tradepulse import reference
    ref = reference.countries()
    iso = iso3_table()
    parts = [pd.DataFrame({"key": iso["key"].str.lower(), "code": iso["code"]}),
             pd.DataFrame({"key": _normalise_name(ref["name_en"]), "code": ref["iso3"]}),
             pd.DataFrame({"key": _normalise_name(ref["name_fa"]), "code": ref["iso3"]}),
             pd.DataFrame({"key": ["world", "جهان"], "code": [WORLD, WORLD]})]
    return pd.concat(parts, ignore_index=True).drop_duplicates("key")
