"""Atomic ingest: a real ingest process killed with SIGKILL midway leaves the warehouse as it was.

The big input (3M BACI rows, made with DuckDB in tmp_path) is large enough that the kill lands inside the
load transaction (the child prints its progress steps; we kill after "reading and validating" and check it
never reached "committing").
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from tradepulse.ingest import ingest_file
from tradepulse.warehouse import Warehouse

CHILD = r"""
import sys
from tradepulse.ingest import ingest_file
from tradepulse.warehouse import Warehouse
with Warehouse(sys.argv[1]) as wh:
    ingest_file(wh, sys.argv[2], "baci", progress=lambda m: print(m, flush=True))
print("finished", flush=True)
"""


def _big_baci(path, rows: int) -> None:
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT 2022 AS t, [4, 36, 76, 156, 251, 276, 364, 392, 710, 842][1 + r % 10] AS i,
                           [8, 40, 124, 208, 300, 356, 380, 484, 792, 826][1 + (r // 10) % 10] AS j,
                           10000 + r // 100 AS k, round((r % 997) / 7.0, 3) AS v, '   1.000' AS q
                    FROM range({rows}) t(r)) TO '{path}' (HEADER)""")
    con.close()


def _state(path):
    with Warehouse(path, read_only=True) as wh:
        con = wh.raw
        return (con.execute("SELECT count(*), sum(value_usd) FROM flows").fetchone(),
                con.execute("SELECT count(*) FROM loads").fetchone()[0],
                con.execute("SELECT count(*) FROM quarantine").fetchone()[0])


@pytest.mark.slow
def test_sigkill_midway_keeps_previous_state(tmp_path, shared_data):
    wh_path = tmp_path / "wh.duckdb"
    with Warehouse(wh_path) as wh:
        ingest_file(wh, shared_data / "baci_sample.csv", "baci")
    before = _state(wh_path)
    assert before[0][0] == 71_192 and before[1] == 1

    big = tmp_path / "big.csv"
    _big_baci(big, 3_000_000)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(wh_path), str(big)], stdout=subprocess.PIPE,
                            text=True, env=env)
    seen = []
    deadline = time.monotonic() + 120
    for line in proc.stdout:          # wait until the load transaction is running
        seen.append(line.strip())
        if line.startswith("reading and validating") or time.monotonic() > deadline:
            break
    time.sleep(0.15)   # inside the insert: the slim BACI load reads ≈ 4M rows/s, so 3M rows take ≈ 0.75 s
    os.kill(proc.pid, signal.SIGKILL)
    rest = proc.stdout.read()
    proc.wait(timeout=30)
    seen += rest.split()
    assert proc.returncode == -signal.SIGKILL
    assert "reading and validating" in seen and "committing" not in seen and "finished" not in seen

    assert _state(wh_path) == before               # same rows, same sum, same loads, no quarantine rows
    with Warehouse(wh_path) as wh:                 # and the warehouse takes the next ingest normally
        r = ingest_file(wh, big, "baci")
        assert (r.rows_loaded, r.rows_quarantined) == (3_000_000, 0)
        again = ingest_file(wh, shared_data / "baci_sample.csv", "baci")
        assert again.skipped
    after = _state(wh_path)
    assert after[0][0] == 71_192 + 3_000_000 and after[1] == 2
