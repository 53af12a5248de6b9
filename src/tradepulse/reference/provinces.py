"""Provinces (first-level subdivisions) of reporting countries: canonical names, Persian names, ISO 3166-2 codes.

National customs files name the reporter's province in many ways: ``تهران``, ``استان تهران``, ``Tehran``,
``Teheran``, ``IR-23``, ``Khorasan-e Razavi`` for ``Razavi Khorasan``, Arabic ``ي``/``ك`` for Persian ``ی``/``ک``.
The warehouse stores one canonical name per province (``name_en``), so provincial rows from different files
add up and a selection by any spelling finds them.

The table is ``provinces.csv`` beside this module (Iran's 31 provinces), or a CSV of the same columns named by
``$TRADEPULSE_PROVINCES`` / the ``path`` argument (to add another country or more spellings).  A country
without rows has no province list: its province names are stored as given.

Matching rule (:func:`province_key`): Unicode NFKD with combining marks removed, case-folded; Arabic yeh/kaf/
teh marbuta → Persian forms; zero-width non-joiner, hyphen and other punctuation → space; ``&`` and the
transliterated conjunction ``va``/``o`` → ``and``; Persian ``و`` typed without its space gets one; the words ``province``, ``ostan`` and ``استان`` dropped;
spaces collapsed.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from pathlib import Path

import pandas as pd

from tradepulse.errors import InputError, UnknownNameError

HERE = Path(__file__).parent
COLUMNS = ("country", "code", "name_en", "name_fa", "aliases")

_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "\u200c": " ", "\u200d": "",
                          "\u0640": ""})  # tatweel
_PUNCT = re.compile(r"[\-_.,;:'’`\"()/\\]+")
_VAV = re.compile(r"(?<=\s)و(?=\S)")  # Persian "and" typed without its space: "سیستان وبلوچستان"
_DROP = {"province", "ostan", "استان"}
_AND = {"&": "and", "va": "and", "o": "and"}


def province_key(text: str) -> str:
    """Matching key of a province spelling (see the module docstring): ``"Khorāsān-e Raẕavī"`` →
    ``"khorasan e razavi"``; ``"استان تهران"`` → ``"تهران"``."""
    s = unicodedata.normalize("NFKD", str(text))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).casefold().translate(_LETTERS)
    s = _VAV.sub("و ", _PUNCT.sub(" ", s.replace("&", " & ")))
    words = [_AND.get(w, w) for w in s.split() if w not in _DROP]
    return " ".join(words)


def province_key_sql(expr: str) -> str:
    """The :func:`province_key` rule as a DuckDB SQL expression over the text expression ``expr`` (used by
    the ingest to map a file's province column in the same pass; tests check both give the same keys)."""
    x = f"strip_accents(lower(CAST({expr} AS VARCHAR)))"
    x = f"translate({x}, 'يىكة\u200c\u200d\u0640', 'ییکه ')"
    x = f"replace({x}, '&', ' & ')"
    x = f"regexp_replace({x}, '[-_.,;:''’`\"()/\\\\]+', ' ', 'g')"
    x = f"regexp_replace({x}, '(\\s)و(\\S)', '\\1و \\2', 'g')"
    drop = ", ".join(f"'{w}'" for w in sorted(_DROP))
    words = (f"list_transform(string_split_regex(trim({x}), '\\s+'), lambda w: CASE WHEN w IN ('&', 'va', 'o') "
             f"THEN 'and' ELSE w END)")
    return f"array_to_string(list_filter({words}, lambda w: w NOT IN ({drop}, '')), ' ')"


def _path(path: str | Path | None) -> Path:
    if path is not None:
        return Path(path)
    env = os.environ.get("TRADEPULSE_PROVINCES")
    return Path(env).expanduser() if env else HERE / "provinces.csv"


@functools.cache
def _table(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, comment="#", dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the province list: {exc}", file=str(path)) from exc
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"province list lacks column(s) {', '.join(missing)}", file=str(path), line=1)
    df = df[list(COLUMNS)].apply(lambda col: col.str.strip())
    df["country"] = df["country"].str.upper()
    return df.sort_values(["country", "code"]).reset_index(drop=True)


def provinces(country: str | None = None, path: str | Path | None = None) -> pd.DataFrame:
    """Province list: ``country, code, name_en, name_fa, aliases`` (all countries, or one ISO3)."""
    df = _table(_path(path))
    if country is not None:
        df = df[df["country"] == str(country).upper()].reset_index(drop=True)
    return df


def _spellings(path: Path):
    """(country, spelling, listed name) for every spelling of every province: name, Persian name, code,
    aliases."""
    for row in _table(path).itertuples(index=False):
        for s in [row.name_en, row.name_fa, row.code] + [a for a in row.aliases.split("|") if a.strip()]:
            yield row.country, s, row.name_en


@functools.cache
def _keys(path: Path) -> dict[tuple[str, str], str]:
    """(country, key) → listed name, from every spelling.  Two provinces of one country sharing a key is an
    error in the list."""
    out: dict[tuple[str, str], str] = {}
    for country, s, name in _spellings(path):
        k = (country, province_key(s))
        if out.setdefault(k, name) != name:
            raise InputError(f"province spelling {s!r} names both {out[k]!r} and {name!r}", file=str(path))
    return out


def alias_table(path: str | Path | None = None) -> pd.DataFrame:
    """Every known spelling as rows ``country, spelling, name_en`` (for joins in SQL)."""
    return pd.DataFrame(list(_spellings(_path(path))), columns=["country", "spelling", "name_en"]).drop_duplicates()


def has_provinces(country: str, path: str | Path | None = None) -> bool:
    return bool(len(provinces(country, path)))


def resolve_province(text: str, country: str | None = None, path: str | Path | None = None) -> str | None:
    """Canonical name of the province spelled ``text`` (in ``country``, or in any listed country when the
    spelling is unambiguous), or None when no listed province matches."""
    keys = _keys(_path(path))
    k = province_key(text)
    if country is not None:
        return keys.get((str(country).upper(), k))
    hits = {name for (c, key), name in keys.items() if key == k}
    return hits.pop() if len(hits) == 1 else None


def listed_name(text: str, country: str | None = None, path: str | Path | None = None) -> str:
    """The listed name of the province spelled ``text``, or ``text`` trimmed when no listed province matches."""
    return resolve_province(text, country, path) or str(text).strip()


def province_identity(text: str, country: str | None = None, path: str | Path | None = None) -> str:
    """What two spellings of one province share: the matching key of their listed name (of the trimmed text
    for a province that is not listed).  ``"تهران"``, ``"IR-23"`` and ``"Tehran"`` → ``"tehran"``."""
    return province_key(listed_name(text, country, path))


def canonical_province(text: str, country: str | None = None, path: str | Path | None = None) -> str:
    """Like :func:`listed_name`, but an unknown spelling raises :class:`UnknownNameError` when the country
    has a province list."""
    if resolve_province(text, country, path) is None and country is not None and has_provinces(country, path):
        raise UnknownNameError("province", text, provinces(country, path)["name_en"].tolist())
    return listed_name(text, country, path)


def province_name(name: str, lang: str = "en", country: str | None = None, path: str | Path | None = None) -> str:
    """Display name of a stored province: the Persian name for ``lang="fa"`` when listed, else ``name``."""
    if lang != "fa":
        return name
    canon = resolve_province(name, country, path)
    if canon is None:
        return name
    df = provinces(country, path)
    hit = df.loc[df["name_en"] == canon, "name_fa"]
    return str(hit.iloc[0]) if len(hit) and hit.iloc[0] else name
