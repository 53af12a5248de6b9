"""Benchmark: tradepulse complexity vs PyPI ecomplexity 0.5.3 (py-ecomplexity).

1. One year, 230 countries × 5,000 HS6-like products (synthetic, nested structure, ~40 % non-zero):
   full suite (RCA, M, diversity, ubiquity, ECI, PCI, proximity, density, COI, COG) by each contender in
   its own subprocess (same CSV input); wall time of the computation and peak RSS of the subprocess.
   py-ecomplexity runs with ``check_logsupermodularity=False`` (an extra check tradepulse does not do).
   As a whole process (issue 19): ``tradepulse complexity FILE -o OUT.parquet`` as a user types it (start-up,
   reading, computing and writing; median of 5 runs, 3 before and 2 after the peer) against the peer's
   process (interpreter, pandas, reading the CSV, computing; it writes nothing) — wall and CPU seconds
   and peak RSS from ``os.wait4``.
2. A 25-year panel of the same shape (230 × 5,000 per year) by tradepulse alone.

Usage: ``.venv/bin/python benchmarks/complexity/run.py [--no-peer] [--quick]``.  Figures go to
docs/benchmarks.md (section "complexity").  The peer venv is created under benchmarks/complexity/_work/.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORK = HERE / "_work"
sys.path.insert(0, str(ROOT))

from benchmarks._common import own_peak_mb, run_child, write_section  # noqa: E402
from benchmarks.complexity.peer import peer_python  # noqa: E402


def synthetic(n_countries: int = 230, n_products: int = 5000, years: int = 1, first_year: int = 2000,
              seed: int = 1400) -> pd.DataFrame:
    """Synthetic exports with the nested structure of real trade data: country capability a_c, product
    sophistication b_p, P(export) = logistic(a_c - b_p); values lognormal × country size × product size;
    a slow random walk of capabilities over the years.  Columns year, exporter, product, export_value."""
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 1.5, n_countries)
    b = rng.normal(0.6, 1.2, n_products)
    size_c = rng.lognormal(0, 1.5, n_countries)
    size_p = rng.lognormal(0, 1.2, n_products)
    exporters = np.array([f"C{i:03d}" for i in range(n_countries)])
    products = np.array([f"{100000 + 37 * j:06d}" for j in range(n_products)])
    parts = []
    for t in range(years):
        a = a + rng.normal(0, 0.05, n_countries)
        prob = 1 / (1 + np.exp(-(a[:, None] - b[None, :])))
        present = rng.random((n_countries, n_products)) < prob
        c, p = np.nonzero(present)
        value = np.round(1e5 * size_c[c] * size_p[p] * rng.lognormal(0, 1.5, c.size), 0) + 1.0
        parts.append(pd.DataFrame({"year": first_year + t,
                                   "exporter": pd.Categorical.from_codes(c, categories=exporters),
                                   "product": pd.Categorical.from_codes(p, categories=products),
                                   "export_value": value}))
    return pd.concat(parts, ignore_index=True)


def _worker(inp: str, mode: str) -> None:
    """Run tradepulse on a CSV (one subprocess) and print timing and peak RSS as JSON."""
    from tradepulse.indicators.complexity import complexity
    if inp.endswith(".parquet"):
        df = pd.read_parquet(inp)
    else:   # as the CLI reads CSV: labels as categoricals
        df = pd.read_csv(inp, dtype={"exporter": "category", "product": "category"})
    start = time.perf_counter()
    res = complexity(df)
    seconds = time.perf_counter() - start
    peak = own_peak_mb()
    for col in ("eci", "pci", "density", "coi", "cog"):   # after the RSS reading: no copies counted
        assert not np.isnan(res[col].to_numpy()).any(), col
    print(json.dumps({"seconds": seconds, "rows": len(res), "years": int(res["year"].nunique()),
                      "peak_rss_mb": peak}))


def _run(cmd: list[str], timeout: float = 3600) -> dict:
    out, wall = run_child(cmd, timeout=timeout)
    out["process_wall"] = wall
    return out


CLI = "import sys; from tradepulse.cli import main; sys.argv[0] = 'tradepulse'; main()"


def _process(cmd: list[str]) -> dict:
    """Run a command to its end: wall and CPU seconds, peak RSS (MB) from ``os.wait4``, its stdout."""
    import os
    import subprocess
    import tempfile

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    # the peak RSS is taken by /usr/bin/time of its own child: on Linux ``ru_maxrss`` keeps, across exec, the
    # size of the forked copy of this (pandas-sized) parent, which inflated both contenders alike
    timer = ["/usr/bin/time", "-f", "__peak_kb=%M"] if os.access("/usr/bin/time", os.X_OK) else []
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen([*timer, *cmd], stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        errs = err.read().decode()
        if proc.returncode:
            raise RuntimeError(f"{' '.join(map(str, cmd[:4]))} … failed:\n{errs[-3000:]}")
        kb = [ln for ln in errs.splitlines() if ln.startswith("__peak_kb=")]
        peak = int(kb[-1].split("=")[1]) / 1024 if kb else usage.ru_maxrss / 1024
        return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_rss_mb": peak,
                "stdout": out.read().decode()}


def _median_runs(runs: list[dict]) -> dict:
    return {k: float(np.median([r[k] for r in runs])) for k in ("wall", "cpu", "peak_rss_mb")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-peer", action="store_true", help="skip py-ecomplexity")
    ap.add_argument("--quick", action="store_true", help="smaller sizes (smoke test, not written to docs)")
    ap.add_argument("--worker", nargs=2, metavar=("INPUT", "MODE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        _worker(*args.worker)
        return
    WORK.mkdir(parents=True, exist_ok=True)
    n_c, n_p, n_years = (60, 600, 5) if args.quick else (230, 5000, 25)
    one = synthetic(n_c, n_p, 1)
    one_csv = WORK / f"one_{n_c}x{n_p}.csv"
    one.to_csv(one_csv, index=False)
    density = len(one) / (n_c * n_p)
    print(f"one year: {n_c} × {n_p}, {len(one):,} non-zero rows ({density:.0%})", flush=True)

    import os
    load_start = os.getloadavg()[0]
    ours = _run([sys.executable, __file__, "--worker", str(one_csv), "one"])
    print(f"tradepulse: {ours['seconds']:.2f} s compute, {ours['peak_rss_mb']:.0f} MB peak RSS", flush=True)
    cli_cmd = [sys.executable, "-c", CLI, "complexity", str(one_csv), "-o", str(WORK / "one_out.parquet")]
    cli_runs = [_process(cli_cmd) for _ in range(3)]
    peer = peer_proc = None
    if not args.no_peer:
        py = peer_python(create=True)
        if py is None:
            print("peer venv could not be created; skipping py-ecomplexity", flush=True)
        else:
            peer_proc = _process([str(py), str(HERE / "peer.py"), str(one_csv), "-"])
            peer = json.loads(peer_proc["stdout"].strip().splitlines()[-1])
            peer["process_wall"] = peer_proc["wall"]
            print(f"py-ecomplexity: {peer['seconds']:.2f} s compute, {peer_proc['wall']:.2f} s process wall, "
                  f"{peer_proc['peak_rss_mb']:.0f} MB peak RSS", flush=True)
    cli_runs += [_process(cli_cmd) for _ in range(2)]
    cli = _median_runs(cli_runs)
    load_end = os.getloadavg()[0]
    print(f"tradepulse complexity FILE -o OUT.parquet: {cli['wall']:.2f} s wall, {cli['cpu']:.2f} s CPU, "
          f"{cli['peak_rss_mb']:.0f} MB peak RSS (median of {len(cli_runs)}); load {load_start:.1f} → "
          f"{load_end:.1f}", flush=True)

    panel = synthetic(n_c, n_p, n_years, seed=1401)
    panel_file = WORK / f"panel_{n_years}y_{n_c}x{n_p}.parquet"
    panel.to_parquet(panel_file, index=False)
    print(f"panel: {n_years} years × {n_c} × {n_p}, {len(panel):,} non-zero rows", flush=True)
    pan = _run([sys.executable, __file__, "--worker", str(panel_file), "panel"])
    print(f"tradepulse panel: {pan['seconds']:.2f} s compute, {pan['peak_rss_mb']:.0f} MB peak RSS", flush=True)

    if args.quick:
        return
    rows = ["| run | contender | compute s | process wall s | peak RSS MB |", "|---|---|---:|---:|---:|",
            f"| 1 year, {n_c} × {n_p:,} | tradepulse | {ours['seconds']:.2f} | {ours['process_wall']:.2f} | "
            f"{ours['peak_rss_mb']:.0f} |"]
    rows.append(f"| 1 year, {n_c} × {n_p:,} | `tradepulse complexity FILE -o OUT.parquet` (whole process, "
                f"median of {len(cli_runs)}; CPU {cli['cpu']:.2f} s) | – | {cli['wall']:.2f} | "
                f"{cli['peak_rss_mb']:.0f} |")
    verdict = []
    if peer:
        rows.append(f"| 1 year, {n_c} × {n_p:,} | py-ecomplexity 0.5.3 (whole process: CPU {peer_proc['cpu']:.2f} s) | "
                    f"{peer['seconds']:.2f} | {peer['process_wall']:.2f} | {peer_proc['peak_rss_mb']:.0f} |")
        speed = peer["seconds"] / ours["seconds"]
        mem = ours["peak_rss_mb"] / peer_proc["peak_rss_mb"]
        whole = peer_proc["wall"] / cli["wall"]
        whole_mem = cli["peak_rss_mb"] / peer_proc["peak_rss_mb"]
        verdict.append(f"- Speed-up (compute): **{speed:.0f}×** (goal ≥ 100×: {'met' if speed >= 100 else 'NOT met'}); "
                       f"peak RSS ratio of the compute workers: {mem:.2f}.")
        verdict.append(f"- Whole process, `tradepulse complexity FILE -o OUT.parquet` against py-ecomplexity's "
                       f"process: **{whole:.0f}×** wall (goal ≥ 100×: {'met' if whole >= 100 else 'NOT met'}), "
                       f"{peer_proc['cpu'] / cli['cpu']:.0f}× CPU; peak RSS ratio **{whole_mem:.2f}** (goal ≤ 0.20: "
                       f"{'met' if whole_mem <= 0.2 else 'NOT met'}).  1-minute load average {load_start:.1f} at "
                       f"the start, {load_end:.1f} after the peer (shared 2-core machine).")
    rows.append(f"| {n_years}-year panel, {n_c} × {n_p:,} per year | tradepulse | {pan['seconds']:.2f} | "
                f"{pan['process_wall']:.2f} | {pan['peak_rss_mb']:.0f} |")
    verdict.append(f"- {n_years}-year panel: **{pan['seconds']:.1f} s** (goal ≤ 30 s: "
                   f"{'met' if pan['seconds'] <= 30 else 'NOT met'}), {pan['rows']:,} output rows.")
    text = "\n".join([
        "Synthetic nested exports (benchmarks/complexity/run.py, seed 1400), "
        f"{density:.0%} of country × product cells non-zero; full suite (RCA, M, diversity, ubiquity, ECI, "
        "PCI, proximity, density, COI, COG; one output row per year × exporter × product). Each contender "
        "runs in its own subprocess reading the same CSV; 'compute' excludes interpreter start-up and "
        "reading the file; peak RSS is the subprocess's own (`VmHWM`, or `/usr/bin/time` of a whole process). py-ecomplexity 0.5.3 "
        "(pandas 2.2, NumPy 2.2) runs with `check_logsupermodularity=False`. The machine is shared with "
        "other jobs, so timings vary between runs.", "", *rows, "", *verdict])
    write_section("complexity", text)
    print(text)


if __name__ == "__main__":
    main()
