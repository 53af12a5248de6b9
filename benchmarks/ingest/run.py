"""Ingest benchmark: tradepulse BACI ingest vs a raw DuckDB ``read_csv`` → Parquet of the same file.

    .venv/bin/python benchmarks/ingest/run.py            # ~10M rows (a BACI year), writes docs/benchmarks.md
    .venv/bin/python benchmarks/ingest/run.py --rows 200000 --no-write   # quick check

Each contender runs in its own subprocess (fresh interpreter, own peak RSS from ``getrusage(RUSAGE_SELF)``),
alternating, ``--repeat`` times; the best wall time of each is compared (the machine is shared, so the
minimum is the least disturbed run).  Speed ratio = raw time / tradepulse time (goal ≥ 0.8); peak RSS goal
≤ 2 GB.  The synthetic file is cached in ``benchmarks/ingest/_work`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

RAW = r"""
import json, resource, sys, time
import duckdb
src, out = sys.argv[1], sys.argv[2]
t = time.perf_counter()
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute(f"COPY (SELECT * FROM read_csv('{src}')) TO '{out}' (FORMAT parquet)")
n = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0]
con.close()
print(json.dumps({"seconds": time.perf_counter() - t, "rows": n,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

# Storage floor (not a goal contender): the same typed read appended to the canonical 13-column ``flows`` table
# in one transaction with no checks, no code mapping and no duplicate test — what any ingest that keeps the
# warehouse schema must at least spend.
FLOOR = r"""
import json, resource, sys, time
t = time.perf_counter()
import duckdb
from tradepulse.schema import FLOWS
src, out = sys.argv[1], sys.argv[2]
con = duckdb.connect(out)
con.execute("SET enable_progress_bar = false")
con.execute("CREATE TABLE flows (" + ", ".join(f'"{c}" {ty}' for c, ty in FLOWS.items()) + ")")
con.execute("BEGIN")
con.execute(f"INSERT INTO flows SELECT CAST(t AS SMALLINT), NULL, CAST(i AS VARCHAR), CAST(j AS VARCHAR), 'export', "
            f"lpad(CAST(k AS VARCHAR), 6, '0'), 'HS2022', v * 1000.0, TRY_CAST(q AS DOUBLE), 't', NULL, 'baci', "
            f"'20260101T000000-0123abcd' FROM read_csv('{src}', header = true, types = {{'t': 'INTEGER', "
            f"'i': 'INTEGER', 'j': 'INTEGER', 'k': 'BIGINT', 'v': 'DOUBLE', 'q': 'VARCHAR'}}, nullstr = ['NA', ''])")
con.execute("COMMIT")
n = con.execute("SELECT count(*) FROM flows").fetchone()[0]
con.close()
print(json.dumps({"seconds": time.perf_counter() - t, "rows": n,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

TP = r"""
import json, resource, sys, time
t = time.perf_counter()
from tradepulse.ingest import ingest_file
from tradepulse.warehouse import Warehouse
src, out = sys.argv[1], sys.argv[2]
marks = [("imports", t), ("open warehouse", time.perf_counter())]  # (step that begins, when)
with Warehouse(out) as wh:
    r = ingest_file(wh, src, "baci", progress=lambda m: marks.append((m, time.perf_counter())))
    marks.append(("close", time.perf_counter()))
marks.append(("end", time.perf_counter()))
stages = {marks[i][0]: marks[i + 1][1] - marks[i][1] for i in range(len(marks) - 1)}
print(json.dumps({"seconds": time.perf_counter() - t, "rows": r.rows_loaded, "quarantined": r.rows_quarantined,
                  "stages": stages, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_one(code: str, src: Path, out: Path) -> dict:
    for p in (out, out.with_name(out.name + ".wal")):
        if p.exists():
            p.unlink()
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, str(src), str(out)], capture_output=True, text=True,
                          cwd=ROOT, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"contender failed:\n{proc.stderr[-3000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["wall"] = wall
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-write", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = ap.parse_args(argv)

    work = HERE / "_work"
    work.mkdir(exist_ok=True)
    src = work / f"baci_synthetic_{args.rows}.csv"
    if not src.exists():  # in a subprocess: a forked child inherits the parent's peak RSS on Linux
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); from gen import generate; "
                        "from pathlib import Path; generate(Path(sys.argv[2]), int(sys.argv[3]))",
                        str(HERE), str(src), str(args.rows)], check=True)
        print(f"generated {src.name} ({src.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s",
              flush=True)
    raw, tp, floor = [], [], []
    for i in range(args.repeat):
        raw.append(run_one(RAW, src, work / "raw.parquet"))
        tp.append(run_one(TP, src, work / "wh.duckdb"))
        floor.append(run_one(FLOOR, src, work / "floor.duckdb"))
        print(f"run {i + 1}: raw {raw[-1]['wall']:.2f} s, tradepulse {tp[-1]['wall']:.2f} s, storage floor "
              f"{floor[-1]['wall']:.2f} s (rss {raw[-1]['rss_mb']:.0f} / {tp[-1]['rss_mb']:.0f} MB, "
              f"load {os.getloadavg()[0]:.1f})", flush=True)
    assert all(r["rows"] == args.rows for r in raw + tp + floor)
    best_floor = min(r["wall"] for r in floor)
    best_raw = min(r["wall"] for r in raw)
    best_tp = min(r["wall"] for r in tp)
    ratio = best_raw / best_tp
    rss_tp = max(r["rss_mb"] for r in tp)
    best = min(tp, key=lambda r: r["wall"])
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in best["stages"].items())
    rss_raw = max(r["rss_mb"] for r in raw)
    size_mb = src.stat().st_size / 1e6
    verdict = ("meets" if ratio >= 0.8 else "misses") + " the ≥ 0.8× speed goal; peak RSS " + \
              ("within" if rss_tp <= 2048 else "over") + " 2 GB"
    rss_floor = max(r["rss_mb"] for r in floor)
    md = f"""Synthetic BACI-year CSV: {args.rows:,} rows, {size_mb:,.0f} MB (`benchmarks/ingest/gen.py`, seed 1).
Each contender in its own subprocess (wall time includes interpreter start and imports), {args.repeat} alternating
runs, best time shown (median in brackets).

| contender | best wall s (median) | rows/s | peak RSS MB |
|---|---:|---:|---:|
| raw DuckDB `read_csv` → Parquet | {best_raw:.2f} ({statistics.median(r['wall'] for r in raw):.2f}) | {args.rows / best_raw:,.0f} | {rss_raw:,.0f} |
| `tradepulse` BACI ingest (validate, map codes, quarantine, dup-key check, one transaction) | {best_tp:.2f} ({statistics.median(r['wall'] for r in tp):.2f}) | {args.rows / best_tp:,.0f} | {rss_tp:,.0f} |
| *storage floor* (not a contender): typed `read_csv` → the canonical 13-column `flows` table, no checks, no code mapping, no dup test | {best_floor:.2f} ({statistics.median(r['wall'] for r in floor):.2f}) | {args.rows / best_floor:,.0f} | {rss_floor:,.0f} |

Speed ratio raw / tradepulse = **{ratio:.2f}×** — {verdict}.  Raw / storage floor = {best_raw / best_floor:.2f}×:
the most any ingest can reach while it writes the warehouse's `flows` schema; tradepulse takes
{best_tp / best_floor:.2f}× the floor's time.

Where the tradepulse time goes (best run): {stages}.

Why slower than the raw copy: the raw contender writes the 6 parsed columns to Parquet once; the warehouse
table has 13 columns, 8 of them text (the zero-padded HS code, two ISO3 codes, the per-load constants `flow`,
`hs_revision`, `unit`, `source`, `load_id`, and `province`, NULL for BACI), and appending a text column to a DuckDB table costs
≈ 0.5–0.7 CPU s per 10M rows whatever its content (a constant string costs about as much as a varying one;
forcing dictionary or no compression, disabling FSST, `preserve_insertion_order = false` or a bigger memory
limit changed nothing measurable) — hence the storage floor above.  On top of that tradepulse types and
checks every row (year range, both country codes via joins, HS chapter, value/quantity signs: ≈ 1 CPU s per
10M rows), counts distinct keys over all loaded rows (dense ranks of the varying key columns packed into a
`bitstring_agg` bitmap, ≈ 0.35 s; a 64-bit hash `count(DISTINCT …)` took ≈ 0.8 s) and hashes the file (sha256,
≈ 0.3 s CPU in a background thread).  Interpreter start and imports (pandas for the code lists) add ≈ 0.3 s
over the floor's.  The 2-core machine is shared with
other jobs (load average shown per run), so times vary between runs.
"""
    print(md)
    if not args.no_write:
        from benchmarks._common import write_section
        write_section("ingest", md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
