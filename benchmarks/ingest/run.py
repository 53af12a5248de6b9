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

from benchmarks._common import run_child, write_section  # noqa: E402

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

# Design bound (not a contender, not tradepulse code): the least work an ingest can do and still keep the
# issue's checks — a slim all-numeric layout (country codes stored as the file's numbers and checked once per
# distinct value, the HS6 code as an integer, per-load constants such as flow / HS revision / unit / source /
# load id kept only in a loads table), integer range checks fused into the one read, an exact duplicate-key
# test (dense ranks of the key columns packed into a bitmap, bits set against count(*)), the file's sha256
# in a background thread, one transaction.  ``native`` appends to a DuckDB table; ``parquet`` writes the load as one Parquet part.
BOUND = r"""
import hashlib, json, os, resource, sys, threading, time
t = time.perf_counter()
import duckdb
src, out, layout = sys.argv[1], sys.argv[2], sys.argv[3]
marks = [("imports", t)]
digest = {}
def sha():
    h = hashlib.sha256()
    with open(src, "rb") as f:
        while b := f.read(1 << 22):
            h.update(b)
    digest["sha256"] = h.hexdigest()
hasher = threading.Thread(target=sha)
hasher.start()
part = out + ".part.parquet"
if os.path.exists(part):
    os.unlink(part)
con = duckdb.connect(out)
con.execute("SET enable_progress_bar = false")
con.execute("CREATE TABLE flow_rows (year SMALLINT, month TINYINT, reporter SMALLINT, partner SMALLINT, "
            "product INTEGER, value_usd DOUBLE, quantity DOUBLE, province SMALLINT, load_no INTEGER)")
con.execute("CREATE TABLE loads (load_no INTEGER, file VARCHAR, sha256 VARCHAR, flow VARCHAR, hs VARCHAR, "
            "unit VARCHAR, source VARCHAR, rows BIGINT)")
known = set(range(1, 1000))  # stands in for the reference list of numeric country codes
marks.append(("read, check and write", time.perf_counter()))
con.execute("BEGIN")
rows = (f"SELECT CAST(t AS SMALLINT) AS year, NULL::TINYINT AS month, CAST(i AS SMALLINT) AS reporter, "
        f"CAST(j AS SMALLINT) AS partner, CAST(k AS INTEGER) AS product, v * 1000 AS value_usd, "
        f"TRY_CAST(q AS DOUBLE) AS quantity, NULL::SMALLINT AS province, "
        f"CASE WHEN t BETWEEN 1900 AND 2100 AND (k BETWEEN 10000 AND 979999 AND k // 10000 <> 77 "
        f"OR k BETWEEN 990000 AND 999999) AND v >= 0 AND (TRY_CAST(q AS DOUBLE) >= 0 OR q IS NULL) "
        f"THEN 1 ELSE -1 END AS load_no "
        f"FROM read_csv('{src}', header = true, types = {{'t': 'INTEGER', 'i': 'INTEGER', 'j': 'INTEGER', "
        f"'k': 'INTEGER', 'v': 'DOUBLE', 'q': 'VARCHAR'}}, nullstr = ['NA', ''])")
if layout == "native":
    con.execute(f"INSERT INTO flow_rows {rows}")
    rel = "flow_rows"
else:
    con.execute(f"COPY ({rows}) TO '{part}' (FORMAT parquet)")
    rel = f"read_parquet('{part}')"
marks.append(("country codes", time.perf_counter()))
rep, par, n_bad = con.execute(f"SELECT list(DISTINCT reporter), list(DISTINCT partner), "
                              f"count(*) FILTER (WHERE load_no < 0) FROM {rel}").fetchone()
unknown = (set(rep) | set(par)) - known
marks.append(("duplicate keys", time.perf_counter()))
# exact: dense ranks of each key column packed into one bitmap (tradepulse's own method, the fastest found)
ranks, packed, space = [], "0", 1
for c in ("year", "reporter", "partner", "product"):
    con.execute(f"CREATE TEMP TABLE r_{c} AS SELECT v, CAST(row_number() OVER () - 1 AS BIGINT) AS r "
                f"FROM (SELECT DISTINCT {c} AS v FROM {rel} WHERE load_no = 1)")
    n_c = con.execute(f"SELECT count(*) FROM r_{c}").fetchone()[0]
    ranks.append(f"JOIN r_{c} ON r_{c}.v = f.{c}")
    packed, space = f"({packed}) * {n_c} + r_{c}.r", space * n_c
n, n_keys = con.execute(f"SELECT count(*), bit_count(bitstring_agg({packed}, 0, {space - 1})) FROM {rel} f "
                        f"{' '.join(ranks)} WHERE f.load_no = 1").fetchone()
marks.append(("commit", time.perf_counter()))
hasher.join()
con.execute("INSERT INTO loads VALUES (1, ?, ?, 'export', 'HS2022', 't', 'baci', ?)", [src, digest["sha256"], n])
con.execute("COMMIT")
con.close()
marks.append(("end", time.perf_counter()))
assert n_bad == 0 and not unknown and n == n_keys
stages = {marks[i][0]: marks[i + 1][1] - marks[i][1] for i in range(len(marks) - 1)}
print(json.dumps({"seconds": time.perf_counter() - t, "rows": n, "stages": stages,
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


def run_one(code: str, src: Path, out: Path, *extra: str) -> dict:
    for p in (out, out.with_name(out.name + ".wal"), out.with_name(out.name + ".part.parquet")):
        if p.exists():
            p.unlink()
    res, wall = run_child([sys.executable, "-c", code, str(src), str(out), *extra], cwd=ROOT)
    res["wall"] = wall
    return res


#: name → (code, extra argv, output file); run in this order, alternating, each repeat
CONTENDERS = {
    "raw": (RAW, (), "raw.parquet"),
    "tradepulse": (TP, (), "wh.duckdb"),
    "floor": (FLOOR, (), "floor.duckdb"),
    "bound_native": (BOUND, ("native",), "bound_native.duckdb"),
    "bound_parquet": (BOUND, ("parquet",), "bound_parquet.duckdb"),
}


def _stages(res: dict) -> str:
    return ", ".join(f"{k} {v:.2f} s" for k, v in res["stages"].items())


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
    runs: dict[str, list[dict]] = {name: [] for name in CONTENDERS}
    loads = []
    for i in range(args.repeat):
        for name, (code, extra, out) in CONTENDERS.items():
            runs[name].append(run_one(code, src, work / out, *extra))
        loads.append(os.getloadavg()[0])
        print(f"run {i + 1}: " + ", ".join(f"{name} {r[-1]['wall']:.2f} s" for name, r in runs.items())
              + f" (load {loads[-1]:.1f})", flush=True)
    assert all(r["rows"] == args.rows for rs in runs.values() for r in rs)
    best = {name: min(r["wall"] for r in rs) for name, rs in runs.items()}
    median = {name: statistics.median(r["wall"] for r in rs) for name, rs in runs.items()}
    rss = {name: max(r["rss_mb"] for r in rs) for name, rs in runs.items()}
    ratio = {name: best["raw"] / best[name] for name in runs}
    fastest = {name: min(rs, key=lambda r: r["wall"]) for name, rs in runs.items() if "stages" in rs[0]}
    size_mb = src.stat().st_size / 1e6
    verdict = ("meets" if ratio["tradepulse"] >= 0.8 else "misses") + " the ≥ 0.8× speed goal; peak RSS " + \
              ("within" if rss["tradepulse"] <= 2048 else "over") + " 2 GB"
    label = {
        "raw": "raw DuckDB `read_csv` → Parquet (the reference)",
        "tradepulse": "**`tradepulse` BACI ingest** (validate, map codes, quarantine, dup-key check, one transaction)",
        "floor": "*storage floor*: typed `read_csv` → the canonical 13-column `flows` table, no checks",
        "bound_native": "*design bound, native*: slim numeric table, required checks only (see below)",
        "bound_parquet": "*design bound, Parquet part*: the same, written as one Parquet file per load",
    }

    def row(name: str) -> str:
        return (f"| {label[name]} | {best[name]:.2f} ({median[name]:.2f}) | {args.rows / best[name]:,.0f} | "
                f"{rss[name]:,.0f} | {ratio[name]:.2f}× |")

    rcw = min(fastest[n]["stages"]["read, check and write"] for n in ("bound_native", "bound_parquet"))
    if max(ratio["bound_native"], ratio["bound_parquet"]) < 0.8:
        conclusion = ("So in this run no storage layout gets a validating ingest to 0.8× on this 2-core machine "
                      "without dropping a check the issue requires.")
    elif max(ratio["bound_native"], ratio["bound_parquet"]) < 0.9:
        conclusion = ("So a slim layout could reach 0.8×, but only just, and only if nothing else costs time.  A "
                      "real loader also needs every reader's generality, ISO3 mapping and quarantine line "
                      "numbers.")
    else:
        conclusion = "So at this size a slim layout leaves room for the goal."
    md = f"""Synthetic BACI-year CSV: {args.rows:,} rows, {size_mb:,.0f} MB (`benchmarks/ingest/gen.py`, seed 1).
Each contender in its own subprocess (wall time includes interpreter start and imports), {args.repeat} alternating
runs (load average {min(loads):.1f}–{max(loads):.1f}), best time shown (median in brackets).

| contender | best wall s (median) | rows/s | peak RSS MB | raw / this |
|---|---:|---:|---:|---:|
{chr(10).join(row(n) for n in CONTENDERS)}

Speed ratio raw / tradepulse = **{ratio['tradepulse']:.2f}×** — {verdict}.

Where the tradepulse time goes (best run): {_stages(fastest['tradepulse'])}.

**Why tradepulse is slower.**  The raw contender is all parse and write: it reads the 6 columns and writes them
out once, keeping both cores busy.  The warehouse's `flows` table has 13 columns, 8 of them text (the zero-padded HS
code, two ISO3 codes, the per-load constants `flow`, `hs_revision`, `unit`, `source`, `load_id`, and `province`,
NULL for BACI).  Appending a text column to a DuckDB table costs about 0.25–0.6 s per 10M rows whatever its content,
even a constant or NULL one.  Forcing dictionary or no compression, disabling FSST, `preserve_insertion_order =
false` or a bigger memory limit changed nothing measurable.  So the storage floor alone is
{ratio['floor']:.2f}× raw, and tradepulse takes {best['tradepulse'] / best['floor']:.2f}× the floor's time.  On top of
the floor come the typing and checks, country-code joins, the duplicate-key bitmap, sha256 in a background thread
and imports (pandas for the code lists).

**What meeting 0.8× would take.**  The goal leaves an ingest 25 % on top of the raw copy for everything the issue
asks besides: typing and range checks, country-code validation, an exact duplicate-key test and a content digest
for idempotency.  The two *design bounds* measure the least that work can cost.  They are deliberately stripped
prototypes, not tradepulse code:
- a slim all-numeric layout: the file's country numbers are stored as they are and checked once per distinct
  value; the HS6 code is stored as an integer; per-load constants live only in a loads table;
- integer range checks fused into the single read;
- an exact duplicate-key test: dense ranks of the key columns packed into one `bitstring_agg` bitmap (tradepulse's
  own method; `count(DISTINCT)` of a packed 64-bit key was slower), bits set against `count(*)`;
- sha256 of the file in a background thread;
- one transaction;
- imports of `duckdb` only.

They reach {ratio['bound_native']:.2f}× (native table) and {ratio['bound_parquet']:.2f}× (Parquet part).
Their best runs break down as follows:
- native: {_stages(fastest['bound_native'])}.
- Parquet: {_stages(fastest['bound_parquet'])}.

Reading, checking and writing the slim rows takes {rcw:.2f} s in the best bound run, against {best['raw']:.2f} s
for the whole raw copy.  {conclusion}  tradepulse's own imports take
{fastest['tradepulse']['stages'].get('imports', float('nan')):.2f} s against the bounds'
{fastest['bound_native']['stages'].get('imports', float('nan')):.2f} s.  The slim layout would also change the
schema every module reads and writes (see docs/decisions.md, "Ingest speed").  The machine is shared, so times
vary between runs.
"""
    print(md)
    if not args.no_write:
        write_section("ingest", md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
