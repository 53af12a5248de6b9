"""Web stress benchmark (issue 15): cached pages and static files while uncached pages compute and an
ingest writes the warehouse.

``tradepulse serve`` runs in its own process on the SYNTHETIC demo world.  While ``--clients`` closed-loop
keep-alive clients fetch cached pages (``/``, ``/products``) and a static file (every fifth client), this
process starts ``--uncached`` uncached page computations (other years and partners) and a ``tradepulse
ingest`` of a BACI-format file of ``--ingest-rows`` rows (the real BACI sample of ../shared/data repeated
under other years) into the *same* warehouse.  The ingest runs at niceness ``--ingest-nice`` (default 10,
as a deployment would run a batch load next to the web server; 0: not niced).  The run lasts until the
ingest and the computations end, plus ``--after`` seconds (the pages recomputed on the new version).

Targets: cached p95 < 200 ms, static p99 < 50 ms, no status other than 200, 429 and 503.

    nice -n 5 .venv/bin/python benchmarks/web/stress.py [--ingest-rows 10000000] [--clients 50] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "src"))

from _common import machine, write_section
from harness import LoadWatch, Samples, cli, closed_loop, env, pct, server

SHARED = ROOT.parent / "shared" / "data"
#: What the measured numbers mean (kept with the table when it is re-run).
NOTE = ("Computations run in worker *processes* (a forkserver pool at `nice` +10; docs/decisions.md, *Dashboard computations in worker processes*), so pandas no longer shares the server's GIL; cached pages are served stale-while-recomputing (when the ingest changes the warehouse, only the request that starts a page's recomputation waits, the others get the previous version's page at once); and an anonymous reader's page is rendered once per cached body.  Runs on this shared 2-core machine (server, worker, this script's 50 clients, the niced ingest and other agents' work): threads, 2M-row ingest (before): 6,369 requests in ~20 s, cached p95 771 ms, static p99 614 ms, max 10.9 s.  Worker processes, 10M rows, load average ~13: 78,073 requests in ~128 s, cached p95 203 ms, static p99 285 ms.  Plus the page-shell cache, load average ~10 (the table above): about 950 requests/s, cached p95 112 ms (**met**), static p99 218 ms (**missed** by 168 ms), 2 requests over 1 s and 2 answers 503 (the first page requests after the ingest began writing, which wait for a recomputation that meets its lock).  What is left is throughput and scheduling, not stalls: static and cached requests queue on one event loop, so with 50 closed-loop clients each waits about 50 / throughput (the same p50 for both kinds), and the p99 follows the moments the server process is descheduled on a machine with 5–6 runnable processes per core.  A quiet run needs the event loop on a core of its own and about 2,000 requests/s in this mix (static alone: 3,000 requests/s, p99 24 ms in `benchmarks/web/run.py`); the remaining per-request cost was FastAPI routing and the pure-Python h11 parser.  Session 6 (profiled: 40 % of a cached page's in-process time was route matching): the page routes are matched first, the cache's version check stats plain strings, and uvicorn runs on uvloop + httptools; function calls per cached `/` 1,186 → 661.  Same machine and hour, load 2–2.7 from two other developers' test runs: before, 3M-row ingest, cached p95 58 ms / static p99 93 ms; uvloop + httptools alone 71 / 96 ms (no gain measured); plus the route order and stat, 10M-row ingest, 32 / 47 ms, and in a second run (ingest 112 s instead of 30 s) 52 / 72 ms — not a reliable pass.  Then `PlainPages`: a cookieless GET of a cached page is answered from its kept bytes before sessions and routing (in-process cost of a cached `/` 208 → 62 µs); on the quiet machine (load from this run only) two runs gave cached p95 33 / 30 ms and static p99 43 / 43 ms (both met; the table above is the second).  In a deployment the reverse proxy serves `/static` itself.  The ingest runs at `nice` +10, as a batch load next to a web server would (`--ingest-nice 0`: not niced).")


def make_ingest_file(out: Path, rows: int) -> int:
    """A BACI CSV of about ``rows`` rows: the real sample repeated with years 1901, 1902, … (new keys)."""
    lines = (SHARED / "baci_sample.csv").read_text(encoding="utf-8").splitlines()
    header, body = lines[0], lines[1:]
    n = 0
    with open(out, "w", encoding="utf-8") as fh:
        fh.write(header + "\n")
        year = 1901
        while n < rows:
            take = body[: rows - n]
            fh.write("\n".join(f"{year}{ln[4:]}" for ln in take) + "\n")
            n += len(take)
            year += 1
    return n


def stalls(samples: Samples, paths: list[str], over: float = 1.0) -> list[tuple[float, float]]:
    """(start second, seconds) of the cached requests slower than ``over`` seconds, in time order."""
    out = [(at, s) for p in paths for at, s in zip(samples.at.get(p, []), samples.lat.get(p, [])) if s > over]
    return sorted(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--uncached", type=int, default=6)
    ap.add_argument("--ingest-rows", type=int, default=10_000_000)
    ap.add_argument("--ingest-nice", type=int, default=10, help="niceness of the ingest process (0: none)")
    ap.add_argument("--after", type=float, default=5.0, help="seconds measured after the ingest ended")
    ap.add_argument("--full", action="store_true", help="full demo world (default: the small one)")
    ap.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    args = ap.parse_args()

    import httpx

    from tradepulse.web.testing import demo_site
    site = HERE / "_work" / ("site-stress-full" if args.full else "site-stress")
    pristine, groups = demo_site(site, small=not args.full)
    wh = site / "stress.duckdb"                  # each run ingests into a fresh copy of the demo warehouse
    for stale in (wh, wh.with_name(wh.name + ".wal")):
        stale.unlink(missing_ok=True)
    shutil.copy(pristine, wh)
    big = site / "ingest.csv"
    t = time.perf_counter()
    rows = make_ingest_file(big, args.ingest_rows)
    print(f"ingest file: {rows:,} rows in {time.perf_counter() - t:.0f} s")
    lock_env = {"TRADEPULSE_LOCK_WAIT": "600"}
    load = LoadWatch()
    with server(wh, groups, extra_env=lock_env, log=site / "server.log") as base:
        cached = ["/", "/products"]
        for p in cached:
            assert httpx.get(base + p, timeout=600).status_code == 200
        paths = ["/static/app.js" if i % 5 == 0 else cached[i % 2] for i in range(args.clients)]
        samples = Samples()
        stop = threading.Event()
        loop_thread = threading.Thread(target=lambda: asyncio.run(closed_loop(base, paths, samples, stop=stop)))
        loop_thread.start()
        time.sleep(1.0)
        uncached_codes: Counter = Counter()

        def uncached(i: int) -> None:
            year = 2014 + i % 10
            path = ["/products", "/markets", "/provinces"][i % 3]
            r = httpx.get(f"{base}{path}", params={"year": year, "partner": ["TUR", "CHN", "ARE"][i % 3]},
                          timeout=900)
            uncached_codes[r.status_code] += 1
        t0 = time.perf_counter()
        nice = args.ingest_nice
        cmd = cli("ingest", str(big), "--format", "baci", "--warehouse", str(wh)) if rows else \
            [sys.executable, "-c", "pass"]
        ingest = subprocess.Popen((["nice", "-n", str(nice)] if nice else []) + cmd, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, env=env(**lock_env), text=True)
        workers = [threading.Thread(target=uncached, args=(i,)) for i in range(args.uncached)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        uncached_s = time.perf_counter() - t0
        err = ingest.communicate()[1]
        ingest_s = time.perf_counter() - t0
        ingest_end = time.perf_counter() - samples.t0
        time.sleep(args.after)
        stop.set()
        loop_thread.join()
    loadavg = load.stop()

    cached_lat = [x for p in cached for x in samples.lat.get(p, [])]
    static_lat = samples.lat.get("/static/app.js", [])
    c95 = pct(cached_lat, 0.95) * 1000
    s99 = pct(static_lat, 0.99) * 1000
    codes = samples.codes
    bad = {c: n for c, n in {**codes, **uncached_codes}.items() if c not in (200, 429, 503)}
    ok = c95 < 200 and s99 < 50 and not bad and ingest.returncode == 0
    slow = stalls(samples, cached)
    near = [at for at, _ in slow if abs(at - ingest_end) < 30]
    stall_text = (f"{len(slow)} cached requests took over 1 s ({len(near)} of them started within 30 s of the "
                  f"ingest's end at second {ingest_end:.0f}; the longest {max(s for _, s in slow):.1f} s)"
                  if slow else "no cached request took over 1 s")
    print("slow cached requests (start second, seconds):", [(round(a, 1), round(s, 2)) for a, s in slow][:60])
    world = "full" if args.full else "small"
    niced = f"at niceness +{nice}" if nice else "not niced"
    intro = (f"`tradepulse serve` on the {world} SYNTHETIC demo world; {args.clients} keep-alive clients "
             f"(every fifth on `/static/app.js`, the rest on cached `/` and `/products`) while {args.uncached} "
             f"uncached pages compute in worker processes and `tradepulse ingest` ({niced}) loads {rows:,} BACI "
             f"rows into the same warehouse (ingest {ingest_s:.0f} s, exit {ingest.returncode}; uncached pages "
             f"done after {uncached_s:.0f} s: {dict(uncached_codes)}; measured until {args.after:.0f} s after "
             "the ingest).")
    cached_row = (f"| cached pages | {len(cached_lat)} | {pct(cached_lat, .5) * 1000:.1f} | {c95:.1f} | "
                  f"{pct(cached_lat, .99) * 1000:.1f} | {max(cached_lat) * 1000:.0f} | p95 < 200: "
                  f"{'**pass**' if c95 < 200 else '**FAIL**'} |")
    static_row = (f"| static file | {len(static_lat)} | {pct(static_lat, .5) * 1000:.1f} | "
                  f"{pct(static_lat, .95) * 1000:.1f} | {s99:.1f} | {max(static_lat) * 1000:.0f} | p99 < 50: "
                  f"{'**pass**' if s99 < 50 else '**FAIL**'} |")
    tail = (f"Status codes of the clients: {dict(codes)}; other than 200/429/503: {bad or 'none'}.  Stalls: "
            f"{stall_text}.  Machine: {machine()}; {loadavg} during the run (shared with other work).  "
            "Reproduce: `nice -n 5 .venv/bin/python benchmarks/web/stress.py` (10M rows by default).")
    md = [intro, "", "| what | requests | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | target |",
          "|---|---:|---:|---:|---:|---:|---|", cached_row, static_row, "", tail]
    md += ["", NOTE]
    (site / "ingest.log").write_text(err or "", encoding="utf-8")
    if ingest.returncode:
        lines = [ln.strip() for ln in (err or "").splitlines() if ln.strip()]
        first = next((ln for ln in lines if "error" in ln.lower()), lines[-1] if lines else "?")
        md.append(f"Ingest error (full text in `{site.relative_to(ROOT)}/ingest.log`): {first}")
    print("\n".join(md))
    if not args.no_write:
        write_section("web-stress", "\n".join(md))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
