"""Synthetic BACI-year CSV generator (DuckDB, no Python loop over rows)."""

from __future__ import annotations

from pathlib import Path

import duckdb

BACI_CODES = [4, 8, 12, 24, 32, 36, 40, 48, 50, 56, 76, 124, 152, 156, 170, 188, 191, 196, 203, 208, 218, 233,
              246, 251, 276, 300, 344, 348, 360, 364, 368, 372, 376, 381, 392, 398, 400, 404, 410, 414, 422, 428,
              440, 458, 484, 504, 528, 554, 566, 579, 586, 604, 608, 616, 620, 634, 642, 643, 682, 699, 702, 703,
              704, 705, 710, 724, 752, 757, 760, 764, 784, 792, 804, 818, 826, 842, 858, 860, 862, 894]


def generate(path: Path, rows: int, seed: int = 1) -> Path:
    """Write ``rows`` BACI rows (t,i,j,k,v,q) for year 2022 with unique (i, j, k) keys.

    i, j cycle over 80 BACI country codes (i != j is not enforced), k over HS6-like codes (5 digits when
    the chapter starts with 0, as in real BACI files), v in thousand USD with 3 decimals, q tonnes padded
    like BACI with 5 % "NA".
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"SELECT setseed({seed / 1000})")
    codes = ",".join(map(str, BACI_CODES))
    n_c = len(BACI_CODES)
    con.execute(f"""
        COPY (
          WITH c AS (SELECT unnest([{codes}]) AS code, generate_subscripts([{codes}], 1) AS ix)
          SELECT 2022 AS t, ci.code AS i, cj.code AS j,
                 (10000 + (r // {n_c * n_c}) * 37 % 960000)::INTEGER AS k,
                 round(random() * random() * 5000, 3) AS v,
                 CASE WHEN random() < 0.05 THEN 'NA' ELSE lpad(printf('%.3f', random() * 900), 13, ' ') END AS q
          FROM range({rows}) t(r)
          JOIN c ci ON ci.ix = 1 + (r % {n_c})
          JOIN c cj ON cj.ix = 1 + ((r // {n_c}) % {n_c})
          ORDER BY r
        ) TO '{path}' (HEADER, QUOTE '"', FORCE_QUOTE (q))
    """)
    con.close()
    return path
