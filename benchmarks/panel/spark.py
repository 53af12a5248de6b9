"""The synthetic BACI panel on Spark ``local[2]`` against DuckDB, same verbs, same machine, same minutes.

    PYTHONPATH=src .venv/bin/python benchmarks/panel/spark.py --years 1 --rows 8600000

Builds a DuckDB warehouse of ``--years`` generated BACI years (``gen.py``, cached CSVs), exports it with
``tradepulse export --to parquet-dataset``, then runs each verb as a user types it, one fresh process each,
on the DuckDB file and with ``--engine spark`` on the dataset (wall time and the Python process's peak RSS;
the JVM is a separate process, its memory is not counted).  Writes the section "panel on Spark local[2]" of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

import gen  # noqa: E402
import run  # noqa: E402

from benchmarks._common import write_section  # noqa: E402


def verbs(focus: str, out: Path) -> dict[str, list[str]]:
    return {"indicators balance": ["indicators", "balance", "-r", focus],
            "indicators diversification": ["indicators", "diversification", "-r", focus],
            "diversification --over hk": ["indicators", "diversification", "-r", focus, "--over", "hk"],
            "complexity (→ Parquet)": ["complexity", "-o", str(out)],
            "potential": ["potential", "-e", focus, "--missing-macro", "drop"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=1)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--focus", default="IRN")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    work = HERE / "_work"
    pool = gen.key_pool(work, args.rows)
    files = [gen.year_csv(work, pool, 1995 + k) for k in range(args.years)]
    base = work / f"spark_{args.rows}_{args.years}"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    wh, ds = base / "wh.duckdb", base / "dataset"
    for f in files:
        r = run.child(run.CLI, "ingest", str(f), "-f", "baci", "-w", str(wh))
        print(f"ingest {f.name}: {r['wall']:.1f} s {r.get('error', '')}", flush=True)
    ex = run.child(run.CLI, "export", "--to", "parquet-dataset", str(ds), "-w", str(wh))
    print(f"export: {ex['wall']:.1f} s, {ex.get('rss_mb', 0):,.0f} MB {ex.get('error', '')}", flush=True)
    loads, rows = [], []
    for name, cmd in verbs(args.focus, base / "cx.parquet").items():
        got = {}
        for engine, store, extra in (("duckdb", wh, []), ("spark", ds, ["--engine", "spark"])):
            got[engine] = run.child(run.CLI, *cmd, "-w", str(store), *extra, timeout=args.timeout)
            loads.append(run.load())
            print(f"{name} on {engine}: {got[engine]['wall']:.1f} s {got[engine].get('error', '')} "
                  f"(load {loads[-1]:.1f})", flush=True)
        cells = [f"{r['wall']:.1f} s, {r.get('rss_mb', 0):,.0f} MB" + (f" (failed: {r['error'][:60]})"
                                                                       if "error" in r else "")
                 for r in (got["duckdb"], got["spark"])]
        rows.append(f"| `{name}` | {cells[0]} | {cells[1]} | {got['spark']['wall'] / got['duckdb']['wall']:.0f}× |")
    md = (f"Synthetic panel (`benchmarks/panel/gen.py`): {args.years} year(s) from 1995, ≈ {args.rows:,} BACI "
          f"rows a year; DuckDB file vs its `export --to parquet-dataset` on Spark `local[2]` (`benchmarks/panel/"
          f"spark.py`).  Export: {ex['wall']:.1f} s.  Load average during the run {min(loads):.1f}–"
          f"{max(loads):.1f}; each verb a fresh process (Spark's includes starting its JVM).\n\n"
          "| verb | DuckDB: wall, peak RSS | Spark local[2]: wall, driver peak RSS | Spark / DuckDB |\n"
          "|---|---:|---:|---:|\n" + "\n".join(rows) + "\n")
    print(md)
    if not args.no_write:
        write_section("panel on Spark local[2]", md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
