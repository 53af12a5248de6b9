"""Independent implementation check: the pandas groupby/merge peer of benchmarks/potential/run.py (written
term by term from the formulas, no shared code except the gravity table) gives the same potentials as
``export_potential`` on the small demo world (2021, horizon 5, gravity-proxy access)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def test_pandas_peer_agrees_on_demo_world(tmp_path):
    sys.path.insert(0, str(ROOT))
    from benchmarks.potential import run as bench
    from tradepulse.demo.world import generate
    from tradepulse.indicators.potential import export_potential
    from tradepulse.ingest import ingest_frame
    from tradepulse.warehouse import Warehouse

    w = generate(n_countries=40, n_products=150, first_year=2014, last_year=2023)
    path = tmp_path / "wh.duckdb"
    with Warehouse(path) as wh:
        ingest_frame(wh, w.flows, source="demo-synthetic", name="demo_flows")
        ingest_frame(wh, w.macro, source="demo-synthetic", name="demo_macro", target="macro")
        ours = export_potential(wh, bench.FOCUS, year=bench.YEAR, horizon=bench.HORIZON,
                                growth_window=bench.WINDOW, method="basic")
    info = bench.run_pandas(str(path), str(tmp_path / "peer.parquet"))
    peer = pd.read_parquet(tmp_path / "peer.parquet").set_index(["market", "product"])["potential"]
    mine = ours.set_index(["market", "product"])["potential"]
    both = pd.concat([mine, peer], axis=1, keys=["ours", "peer"]).fillna(0.0)
    assert len(both) > 500 and info["cells"] == len(ours)
    np.testing.assert_allclose(both["ours"], both["peer"], rtol=1e-9, atol=1e-6)
    assert ours["potential"].sum() > 0
