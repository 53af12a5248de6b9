"""Synthetic BACI-shaped panel: the real key space (BACI country list × HS6 codes), sparse like a release.

Keys: one pool of (exporter, importer, HS6) triples drawn with skew (a few countries and chapters carry most
pairs, as in BACI) over 232 BACI country numbers × 5,388 HS 2017 six-digit codes (≈ 290M possible keys);
each year keeps ≈ 85 % of the pool by a hash of (key, year), so relationships persist, stop and restart as
real flows do.  Values: heavy-tailed thousand USD with 3 decimals; quantities: tonnes, 5 % "NA".  All in
DuckDB (no Python loop over rows).  Files are named as in a BACI release (``BACI_HS92_Y{year}_V202401.csv``).
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

DATA = Path("/work/shared/data")
N_COUNTRIES = 232
KEEP = 0.85


def country_numbers(path: Path = DATA / "baci_country_codes_V202201.csv") -> list[int]:
    """The first 232 BACI country numbers (by number) of the BACI country list that have an ISO3 code and
    that ``tradepulse ingest`` maps without a country-code file, one number per ISO3."""
    from tradepulse.ingest.codes import numeric_codes_sql

    iso3 = {int(k): c for k, c in duckdb.sql(numeric_codes_sql()).fetchall()}
    with open(path, encoding="latin-1", newline="") as f:
        listed = {int(r["country_code"]) for r in csv.DictReader(f) if r["iso_3digit_alpha"].strip()}
    first: dict[str, int] = {}   # one number per ISO3 (BACI lists e.g. 710 and 711 for South Africa)
    for n in sorted(listed & set(iso3)):
        first.setdefault(iso3[n], n)
    return sorted(first.values())[:N_COUNTRIES]


def hs6_codes(path: Path = DATA / "hs2017_descriptions.csv") -> list[int]:
    """The 5,388 six-digit HS 2017 codes, as BACI writes them (an integer: 5 digits for chapters 01–09)."""
    with open(path, encoding="utf-8", newline="") as f:
        return sorted(int(r["code"]) for r in csv.DictReader(f) if len(r["code"]) == 6)


def key_pool(work: Path, rows_per_year: int, seed: int = 1) -> Path:
    """Parquet of distinct (i, j, k) keys, ≈ rows_per_year / KEEP of them (cached)."""
    out = work / f"keys_{rows_per_year}_{seed}.parquet"
    if out.exists():
        return out
    work.mkdir(parents=True, exist_ok=True)
    cs, ks = country_numbers(), hs6_codes()
    n = int(rows_per_year / KEEP)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SELECT setseed({seed / 1000})")
    con.execute("CREATE TABLE c AS SELECT unnest(?::INTEGER[]) AS code, generate_subscripts(?::INTEGER[], 1) - 1 "
                "AS ix", [cs, cs])
    con.execute("CREATE TABLE p AS SELECT unnest(?::INTEGER[]) AS code, generate_subscripts(?::INTEGER[], 1) - 1 "
                "AS ix", [ks, ks])
    nc, nk = len(cs), len(ks)
    # skewed draws (pow of a uniform): low indices are the "big" traders / busy products; 1.4× draws, then
    # distinct and cut to n
    con.execute(f"""
        COPY (
          SELECT ci.code AS i, cj.code AS j, pk.code AS k FROM (
            SELECT DISTINCT i, j, k FROM (
              SELECT CAST(floor({nc} * pow(random(), 1.7)) AS INTEGER) AS i,
                     CAST(floor({nc} * pow(random(), 1.4)) AS INTEGER) AS j,
                     CAST(floor({nk} * pow(random(), 1.2)) AS INTEGER) AS k
              FROM range({int(n * 1.4)})) WHERE i <> j
            ORDER BY hash(i, j, k) LIMIT {n}) d
          JOIN c ci ON ci.ix = d.i JOIN c cj ON cj.ix = d.j JOIN p pk ON pk.ix = d.k
        ) TO '{out}' (FORMAT parquet)""")
    con.close()
    return out


def year_csv(work: Path, pool: Path, year: int, *, revision: int = 0) -> Path:
    """BACI CSV of one year (cached).  ``revision`` > 0: the same keys with ≈ 10 % of the values changed
    (a revised release of that year)."""
    name = f"BACI_HS92_Y{year}_V2024{'01' if not revision else f'{revision + 1:02d}'}.csv"
    out = work / f"csv_{pool.stem.split('_')[1]}" / name
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SELECT setseed({(year % 997) / 1000})")
    bump = f"* CASE WHEN hash(i, j, k, {revision}) % 10 = 0 THEN 1.1 ELSE 1 END" if revision else ""
    con.execute(f"""
        COPY (
          SELECT {year} AS t, i, j, k,
                 printf('%.3f', exp(random() * 9) * random() / 20 {bump} + 0.001) AS v,
                 CASE WHEN random() < 0.05 THEN 'NA' ELSE lpad(printf('%.3f', random() * 900), 13, ' ') END AS q
          FROM read_parquet('{pool}') WHERE hash(i, j, k, {year}) % 1000 < {int(KEEP * 1000)}
          ORDER BY i, j, k
        ) TO '{out}' (HEADER, QUOTE '"', FORCE_QUOTE (q))""")
    con.close()
    return out
