"""How much of a many-year warehouse ``complexity`` and ``potential`` read: wall time and peak RSS of each verb
on a synthetic BACI-shaped panel (``gen.py``), for one source tree (``--src``: run it on the code before and
after a change, same warehouse).

    PYTHONPATH=src .venv/bin/python benchmarks/panel/reads.py prepare --years 4 --rows 2500000
    PYTHONPATH=src .venv/bin/python benchmarks/panel/reads.py measure --label before --src /tmp/old/src
    PYTHONPATH=src .venv/bin/python benchmarks/panel/reads.py measure --label after

Each verb runs in its own interpreter (``/usr/bin/time``-like: its own peak RSS, ``VmHWM``); the 1-minute load
average is printed with each run (the machine is shared).  Results are appended as JSON lines to
``_work/reads.jsonl``; ``table`` prints them as the Markdown of ``docs/benchmarks.md`` (section
``panel-reads``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import run  # noqa: E402 - the panel benchmark's CLI runner, shared

def child(src: Path, *argv: str, timeout: float = 1800) -> dict:
    """One CLI run in a fresh interpreter with ``PYTHONPATH=src`` (``run.py``'s runner): its JSON plus ``wall``
    seconds and the 1-minute load."""
    res = run.child(run.CLI, *argv, timeout=timeout, src=src)
    res["load"] = os.getloadavg()[0]
    return res


def warehouse_path(work: Path, rows: int, years: int) -> Path:
    return work / f"reads_{rows}_{years}.duckdb"


def prepare(work: Path, first: int, n_years: int, rows: int) -> Path:
    """Generate the panel's CSVs (cached) and ingest them with ``tradepulse ingest -f baci`` (+ macro)."""
    import duckdb
    import gen

    years = list(range(first, first + n_years))
    pool = gen.key_pool(work, rows)
    wh = warehouse_path(work, rows, n_years)
    for p in (wh, wh.with_name(wh.name + ".wal")):
        p.unlink(missing_ok=True)
    src = ROOT / "src"
    for y in years:
        f = gen.year_csv(work, pool, y)
        r = child(src, "ingest", str(f), "-f", "baci", "-w", str(wh))
        print(f"ingest {y}: {r['wall']:.1f} s {r.get('error', '')}", flush=True)
    macro = work / "macro.csv"   # GDP and population for every panel year (2017 values), for potential
    duckdb.execute(f"COPY (SELECT y AS year, iso3, gdp_current_usd AS gdp_usd, population_total AS population "
                   f"FROM read_csv('{gen.DATA / 'world_gdp_and_population_2017.csv'}'), range({first - 5}, "
                   f"{years[-1] + 1}) r(y) WHERE gdp_current_usd IS NOT NULL) TO '{macro}' (HEADER)")
    r = child(src, "ingest", str(macro), "-f", "macro", "-w", str(wh))
    print(f"macro: {r['wall']:.1f} s {r.get('error', '')}", flush=True)
    return wh


VERBS = ("complexity", "potential", "proximity", "opportunities")


def verbs(wh: Path, out: Path, focus: str) -> dict[str, list[str]]:
    w = ["-w", str(wh)]
    return {
        "complexity": ["complexity", *w, "-o", str(out / "cx.parquet")],
        "potential": ["potential", "-e", focus, "--missing-macro", "drop", *w],
        "proximity": ["proximity", *w, "-o", str(out / "prox.parquet")],
        "opportunities": ["opportunities", "--country", focus, "--min-population", "0", "--min-exports", "0",
                          *w],
    }


def measure(work: Path, wh: Path, label: str, src: Path, focus: str, only: list[str]) -> None:
    out = work / f"out_{label}"
    out.mkdir(parents=True, exist_ok=True)
    with open(work / "reads.jsonl", "a") as log:
        for name, argv in verbs(wh, out, focus).items():
            if only and name not in only:
                continue
            r = child(src, *argv)
            r.update(label=label, verb=name, warehouse=wh.name, at=time.strftime("%H:%M UTC", time.gmtime()))
            r.pop("tail", None)
            print(json.dumps(r), flush=True)
            log.write(json.dumps(r) + "\n")


def table(work: Path, labels: tuple[str, str] = ("before", "after")) -> str:
    """Markdown: per verb and number of stored years, the last run of each of two labels (wall s, peak RSS
    MB, load)."""
    rows = [json.loads(line) for line in (work / "reads.jsonl").read_text().splitlines() if line.strip()]
    last: dict[tuple, dict] = {}
    for r in rows:
        years = int(r["warehouse"].rsplit("_", 1)[1].split(".")[0])
        last[(r["verb"], years, r["label"])] = r
    head = (f"| verb | years stored | {labels[0]}: wall s, peak RSS MB (load) | {labels[1]}: wall s, peak RSS MB "
            "(load) |")
    lines = [head, "|---|---:|---:|---:|"]
    for verb, years in sorted({(v, y) for v, y, _ in last}, key=lambda k: (list(VERBS).index(k[0]), k[1])):
        cells = []
        for lab in labels:
            r = last.get((verb, years, lab))
            cells.append("–" if r is None else f"{r['wall']:.1f} s, {r.get('rss_mb', 0):,.0f} MB ({r['load']:.1f})"
                         + (f" {r['error']}" if "error" in r else ""))
        lines.append(f"| {verb} | {years} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("step", choices=["prepare", "measure", "table"])
    ap.add_argument("--years", type=int, default=4)
    ap.add_argument("--first", type=int, default=1995)
    ap.add_argument("--rows", type=int, default=2_500_000, help="rows a year")
    ap.add_argument("--work", type=Path, default=HERE / "_work")
    ap.add_argument("--label", default="after")
    ap.add_argument("--src", type=Path, default=ROOT / "src", help="source tree to measure (PYTHONPATH)")
    ap.add_argument("--focus", default="IRN")
    ap.add_argument("--only", default="", help="comma list of verbs")
    ap.add_argument("--labels", default="before,after", help="table: the two labels compared")
    args = ap.parse_args(argv)
    wh = warehouse_path(args.work, args.rows, args.years)
    if args.step == "prepare":
        prepare(args.work, args.first, args.years, args.rows)
    elif args.step == "measure":
        measure(args.work, wh, args.label, args.src, args.focus, [v for v in args.only.split(",") if v])
    else:
        print(table(args.work, tuple(args.labels.split(",")[:2])))


if __name__ == "__main__":
    main()
