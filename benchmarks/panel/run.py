"""Panel benchmark: a synthetic BACI-shaped panel at the real key space, ingested and queried end to end.

    PYTHONPATH=src .venv/bin/python benchmarks/panel/run.py                 # smoke: 2 years × 1M rows
    PYTHONPATH=src .venv/bin/python benchmarks/panel/run.py --years 6 --rows 10000000   # what docs show
    PYTHONPATH=src .venv/bin/python benchmarks/panel/run.py --years 29 --rows 8600000   # the whole HS92 panel

Steps, each contender in its own subprocess (own interpreter, own peak RSS from ``getrusage(RUSAGE_SELF)``):
1. ``gen.py`` writes one BACI CSV per year (232 BACI countries × 5,388 HS6 codes, ≈ ``--rows`` rows a year;
   cached in ``benchmarks/panel/_work``, git-ignored).
2. Ingest, year by year, alternating: raw DuckDB ``read_csv`` → Parquet of the file, then ``tradepulse ingest
   -f baci`` into one warehouse.  Ratio = raw / tradepulse over the sum of the years (goal ≥ 0.8).
3. A revised release of the last year: ``tradepulse ingest --on-overlap replace`` against raw DuckDB
   ``DELETE … USING`` + ``INSERT`` of the same file into a table holding the same years (goal ≤ 1.5×).
4. Every indicator verb on the warehouse (``--timeout`` each), then the dashboard's first (cold) hit of
   every page against ``tradepulse serve``, with the server's peak RSS (``VmHWM``).
5. ``tradepulse refresh`` (the dashboard's summaries, wall and peak RSS), then the dashboard's first hits
   again on a fresh server, now answered from the summaries.  Step 4's dashboard runs with the summaries
   dropped first, so "before" is the live computation even on a warehouse refreshed by an earlier run.
The machine is shared: the load average is printed with every step; times are single runs unless said.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from benchmarks._common import PEAK_CODE, write_section

#: prepended to every child's code: ``peak()`` = its own peak RSS (:func:`benchmarks._common.own_peak_mb`)
PEAK = PEAK_CODE + "peak = own_peak_mb\n"

RAW = r"""
import json, resource, sys, time
import duckdb
src, out = sys.argv[1], sys.argv[2]
t = time.perf_counter()
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute(f"COPY (SELECT * FROM read_csv('{src}')) TO '{out}' (FORMAT parquet)")
con.close()
print(json.dumps({"rss_mb": peak()}))
"""

RAW_REPLACE = r"""
import json, resource, sys, time
import duckdb
db, src = sys.argv[1], sys.argv[2]
con = duckdb.connect(db)
con.execute("SET enable_progress_bar = false")
con.execute("BEGIN")
con.execute(f"CREATE TEMP TABLE n AS SELECT * FROM read_csv('{src}')")
con.execute("DELETE FROM t USING n WHERE t.t = n.t AND t.i = n.i AND t.j = n.j AND t.k = n.k")
con.execute("INSERT INTO t SELECT * FROM n")
con.execute("COMMIT")
con.close()
print(json.dumps({"rss_mb": peak()}))
"""

#: the CLI as the ``tradepulse`` console script runs it (``tradepulse.cli.main``: a plain ingest skips Typer),
#: its table sent to /dev/null; prints peak RSS and the exit code as JSON
CLI = r"""
import contextlib, io, json, os, resource, sys
code, err = 0, ""
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    try:
        sys.argv = ["tradepulse", *sys.argv[1:]]
        from tradepulse.cli import main
        main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
print(json.dumps({"rss_mb": peak(), "code": code,
                  "tail": buf.getvalue()[-400:]}))
"""


#: drop every dashboard summary (so the next dashboard run computes live)
DROP_SUMMARIES = r"""
import json, resource, sys
from tradepulse.warehouse import Warehouse
from tradepulse.warehouse import summaries as sm
with Warehouse(sys.argv[1]) as wh:
    sm.store(wh.raw, [], version=sm.data_version(wh.raw))
print(json.dumps({"rss_mb": peak()}))
"""


def child(code: str, *argv: str, timeout: float | None = None, src: Path = ROOT / "src") -> dict:
    """Run ``code`` in a fresh interpreter with ``PYTHONPATH=src``; its JSON last line plus ``wall`` (s);
    ``error`` on failure."""
    env = dict(os.environ, PYTHONPATH=str(src), COLUMNS="80")
    t = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, "-c", PEAK + code, *argv], capture_output=True, text=True, env=env,
                           timeout=timeout, cwd=ROOT, check=False)
    except subprocess.TimeoutExpired:
        return {"wall": time.perf_counter() - t, "error": f"timeout after {timeout:.0f} s"}
    wall = time.perf_counter() - t
    try:
        res = json.loads(p.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"wall": wall, "error": (p.stderr.strip().splitlines() or ["no output"])[-1][:200]}
    res["wall"] = wall
    if p.returncode or res.get("code"):
        res["error"] = (p.stderr.strip().splitlines() or [res.get("tail", "").strip()[-200:]])[-1][:200]
    return res


def load() -> float:
    return os.getloadavg()[0]


def verbs(wh: Path, out: Path, focus: str, years: list[int]) -> dict[str, list[str]]:
    """Every indicator verb, as a user types it, on the warehouse ``wh``."""
    w = ["-w", str(wh)]
    return {
        "complexity (warehouse → Parquet)": ["complexity", *w, "-o", str(out / "cx.parquet")],
        "proximity (latest year)": ["proximity", *w, "-o", str(out / "prox.parquet")],
        "opportunities": ["opportunities", "--country", focus, "--min-population", "0",
                          "--min-exports", "0", *w],
        "potential (markets)": ["potential", "-e", focus, "--missing-macro", "drop", *w],
        "indicators balance": ["indicators", "balance", "-r", focus, *w],
        "indicators diversification": ["indicators", "diversification", "-r", focus, *w],
        "diversification --over markets": ["indicators", "diversification", "-r", focus, "--over", "markets", *w],
        "diversification --over hk": ["indicators", "diversification", "-r", focus, "--over", "hk", *w],
        "indicators technology": ["indicators", "technology", "-r", focus, *w],
        "indicators survival": ["indicators", "survival", "-r", focus, *w],
    }


PAGES = ["/", "/products", "/markets", "/provinces", "/targets", "/api/v1/tables/partners?limit=50"]


def dashboard(wh: Path, focus: str, timeout: float, src: Path = ROOT / "src") -> tuple[dict[str, dict], float]:
    """Cold first hit of every page (one fresh server), seconds and status; the server's peak RSS (MB)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(src))
    proc = subprocess.Popen([sys.executable, "-c", ("import sys; from tradepulse.cli import app; "
                             "app(sys.argv[1:], prog_name='tradepulse')"), "serve", "-w", str(wh), "--port",
                             str(port), "--focus", focus], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    out: dict[str, dict] = {}
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/static/app.js", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        for page in PAGES:
            t = time.perf_counter()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{page}", timeout=timeout) as r:
                    r.read()
                    status = r.status
            except urllib.error.HTTPError as e:
                status = e.code
            except OSError as e:
                status = f"{type(e).__name__}"
            out[page] = {"seconds": time.perf_counter() - t, "status": status}
        rss = 0.0
        for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                rss = int(line.split()[1]) / 1024
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return out, rss


def fmt(res: dict) -> str:
    if "error" in res:
        return f"| {res['wall']:.1f} | {res.get('rss_mb', float('nan')):,.0f} | failed: {res['error'][:90]} |"
    return f"| {res['wall']:.1f} | {res['rss_mb']:,.0f} | |"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=2, help="years in the panel (from --first)")
    ap.add_argument("--first", type=int, default=1995)
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows a year (a real BACI year: ≈ 8–11M)")
    ap.add_argument("--focus", default="IRN")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per verb")
    ap.add_argument("--skip", default="", help="comma list of steps to skip: ingest, replace, verbs, web, "
                    "before (the dashboard before the refresh only), refresh")
    ap.add_argument("--no-write", action="store_true", help="do not rewrite docs/benchmarks.md")
    ap.add_argument("--src", type=Path, default=ROOT / "src", help="the tradepulse source tree to measure "
                    "(e.g. a `git archive` of a commit, so the tree under test stays fixed during a long run)")
    ap.add_argument("--verbs", default="", help="comma list: run only the verbs whose name contains one of "
                    "these (default: all)")
    ap.add_argument("--section", default=None, help="name of the docs/benchmarks.md section to (re)write "
                    "(default: 'panel (N years)')")
    args = ap.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    import gen

    work = HERE / "_work"
    years = list(range(args.first, args.first + args.years))
    t = time.perf_counter()
    pool = gen.key_pool(work, args.rows)
    files = [gen.year_csv(work, pool, y) for y in years]
    print(f"panel: {len(years)} years, {sum(f.stat().st_size for f in files) / 1e9:.1f} GB of CSV "
          f"(generated/cached in {time.perf_counter() - t:.0f} s)", flush=True)
    import duckdb
    wh, raw_dir = work / f"panel_{args.rows}_{args.years}.duckdb", work / "raw"
    if "ingest" in skip and wh.exists():   # the stored panel's rows (counting 10 GB of CSV takes minutes)
        with duckdb.connect(str(wh), read_only=True) as con:
            n_rows = int(con.execute("SELECT sum(rows_loaded) FROM loads WHERE target = 'flows'").fetchone()[0])
    else:
        n_rows = sum(duckdb.sql(f"SELECT count(*) FROM read_csv('{f}')").fetchall()[0][0] for f in files)
    raw_dir.mkdir(exist_ok=True)
    sec: list[str] = []
    loads = []

    ingest: dict[str, list[dict]] = {"raw": [], "tp": []}
    if "ingest" not in skip:
        for p in (wh, wh.with_name(wh.name + ".wal")):
            p.unlink(missing_ok=True)
        for y, f in zip(years, files):
            ingest["raw"].append(child(RAW, str(f), str(raw_dir / f"{y}.parquet")))
            ingest["tp"].append(child(CLI, "ingest", str(f), "-f", "baci", "-w", str(wh), src=args.src))
            loads.append(load())
            print(f"ingest {y}: raw {ingest['raw'][-1]['wall']:.1f} s, tradepulse {ingest['tp'][-1]['wall']:.1f} s "
                  f"{ingest['tp'][-1].get('error', '')} (load {loads[-1]:.1f})", flush=True)
        macro = work / "macro.csv"   # GDP and population for every panel year (2017 values), for potential
        duckdb.execute(f"COPY (SELECT y AS year, iso3, gdp_current_usd AS gdp_usd, population_total AS population "
                       f"FROM read_csv('{gen.DATA / 'world_gdp_and_population_2017.csv'}'), range({years[0] - 5}, "
                       f"{years[-1] + 1}) r(y) WHERE gdp_current_usd IS NOT NULL) TO '{macro}' (HEADER)")
        m = child(CLI, "ingest", str(macro), "-f", "macro", "-w", str(wh), src=args.src)
        print(f"macro: {m['wall']:.1f} s {m.get('error', '')}", flush=True)
        raw_s, tp_s = (sum(r["wall"] for r in ingest[k]) for k in ("raw", "tp"))
        ratios = [r["wall"] / t["wall"] for r, t in zip(ingest["raw"], ingest["tp"])]
        sec.append(f"""**Ingest** ({len(years)} years, {n_rows:,} rows, alternating year by year):

| contender | total s | per year s (min–max) | peak RSS MB | raw / this |
|---|---:|---:|---:|---:|
| raw DuckDB `read_csv` → Parquet | {raw_s:.1f} | {min(r['wall'] for r in ingest['raw']):.1f}–{max(r['wall'] for r in ingest['raw']):.1f} | {max(r['rss_mb'] for r in ingest['raw']):,.0f} | 1.00× |
| `tradepulse ingest -f baci` | {tp_s:.1f} | {min(r['wall'] for r in ingest['tp']):.1f}–{max(r['wall'] for r in ingest['tp']):.1f} | {max(r.get('rss_mb', 0) for r in ingest['tp']):,.0f} | **{raw_s / tp_s:.2f}×** (per year {min(ratios):.2f}–{max(ratios):.2f}×) |
""")

    if "replace" not in skip:
        rev = gen.year_csv(work, pool, years[-1], revision=1)
        rawdb = work / "raw_replace.duckdb"
        rawdb.unlink(missing_ok=True)
        con = duckdb.connect(str(rawdb))
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet({[str(raw_dir / f'{y}.parquet') for y in years]})")
        con.close()
        r_raw = child(RAW_REPLACE, str(rawdb), str(rev))
        r_tp = child(CLI, "ingest", str(rev), "-f", "baci", "-w", str(wh), "--on-overlap", "replace", src=args.src)
        rawdb.unlink(missing_ok=True)
        print(f"replace: raw {r_raw['wall']:.1f} s, tradepulse {r_tp['wall']:.1f} s {r_tp.get('error', '')} "
              f"(load {load():.1f})", flush=True)
        sec.append(f"""**Revised release** of {years[-1]} (same keys, 10 % of values changed) over the {len(years)}
stored years: raw DuckDB `DELETE … USING` + `INSERT` {r_raw['wall']:.1f} s ({r_raw['rss_mb']:,.0f} MB), `tradepulse
ingest --on-overlap replace` {r_tp['wall']:.1f} s ({r_tp.get('rss_mb', 0):,.0f} MB{', ' + r_tp['error'] if 'error' in r_tp else ''})
= **{r_tp['wall'] / r_raw['wall']:.2f}×** raw (goal ≤ 1.5×).
""")

    if "verbs" not in skip:
        rows = []
        wanted = [v.strip() for v in args.verbs.split(",") if v.strip()]
        for name, cmd in verbs(wh, work, args.focus, years).items():
            if wanted and not any(v in name for v in wanted):
                continue
            res = child(CLI, *cmd, timeout=args.timeout, src=args.src)
            print(f"{name}: {res['wall']:.1f} s, {res.get('rss_mb', 0):,.0f} MB {res.get('error', '')} "
                  f"(load {load():.1f})", flush=True)
            rows.append(f"| `{name}` {fmt(res)}")
        sec.append("**Indicator verbs** (one process each, as typed; goal ≤ 60 s and ≤ 4 GB on the whole panel):\n\n"
                   "| verb | wall s | peak RSS MB | note |\n|---|---:|---:|---|\n" + "\n".join(rows) + "\n")

    pages: dict[str, dict] = {}
    rss = float("nan")
    if "web" not in skip and "before" not in skip:
        child(DROP_SUMMARIES, str(wh), src=args.src)
        pages, rss = dashboard(wh, args.focus, args.timeout, args.src)
        for p, r in pages.items():
            print(f"GET {p}: {r['seconds']:.1f} s ({r['status']})", flush=True)
        if "refresh" in skip:   # else the before/after table below shows them
            sec.append("**Dashboard, first hit of each page** (one fresh `tradepulse serve`, pages in this order; "
                       f"server peak RSS {rss:,.0f} MB; goal ≤ 3 s each):\n\n| page | s | status |\n|---|---:|---|\n"
                       + "\n".join(f"| `{p}` | {r['seconds']:.1f} | {r['status']} |" for p, r in pages.items())
                       + "\n")

    if "refresh" not in skip:
        loads.append(load())
        ref = child(CLI, "refresh", "-w", str(wh), "--focus", args.focus, "--json", timeout=args.timeout,
                    src=args.src)
        print(f"refresh: {ref['wall']:.1f} s, {ref.get('rss_mb', 0):,.0f} MB {ref.get('error', '')} "
              f"(load {load():.1f})", flush=True)
        line = (f"**`tradepulse refresh --focus {args.focus}`** (the dashboard's summaries, one process): "
                + (f"failed after {ref['wall']:.1f} s: {ref['error']}" if "error" in ref else
                   f"{ref['wall']:.1f} s wall, peak RSS {ref['rss_mb']:,.0f} MB") + f" (load {loads[-1]:.1f}).")
        if "web" not in skip:
            after, rss2 = dashboard(wh, args.focus, args.timeout, args.src)
            for p, r in after.items():
                print(f"GET {p} after refresh: {r['seconds']:.1f} s ({r['status']})", flush=True)
            line += ("\n\n**Dashboard, first hit of each page before and after `tradepulse refresh`** (a fresh "
                     f"`tradepulse serve` each; server peak RSS {rss:,.0f} → {rss2:,.0f} MB; goal ≤ 3 s each):\n\n"
                     "| page | before s | after s | status after |\n|---|---:|---:|---|\n"
                     + "\n".join(f"| `{p}` | {pages[p]['seconds'] if p in pages else float('nan'):.1f} | {r['seconds']:.1f} | {r['status']} |"
                                  for p, r in after.items()))
        sec.append(line + "\n")

    md = (f"Synthetic panel (`benchmarks/panel/gen.py`): {len(years)} years {years[0]}–{years[-1]}, "
          f"{n_rows:,} rows (≈ {args.rows:,} a year) over 232 BACI countries × 5,388 HS6 codes.  "
          f"Load average during the run {min(loads or [load()]):.1f}–{max(loads or [load()]):.1f} "
          "(shared 2-core machine: single runs, expect ±20 %).\n\n" + "\n".join(sec))
    print(md)
    if not args.no_write:
        write_section(args.section or f"panel ({len(years)} years)", md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
