"""Agreement with PyPI ``ecomplexity==0.5.3`` (the peer), run in its own venv under
benchmarks/complexity/_work/ through a subprocess — never imported into tradepulse.

Skipped with the reason when the peer venv cannot be created (no package index reachable)."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradepulse.indicators.complexity import complexity, proximity

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("complexity-peer")]


@pytest.fixture(scope="module")
def peer():
    spec = importlib.util.spec_from_file_location("cx_peer", ROOT / "benchmarks" / "complexity" / "peer.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    py = mod.peer_python(create=True)
    if py is None:
        pytest.skip("peer venv (ecomplexity==0.5.3) could not be created under benchmarks/complexity/_work/ "
                    "— no package index reachable?")

    def run(frame: pd.DataFrame, tmp: Path, mode: str = "") -> pd.DataFrame:
        inp, out = tmp / "peer_in.csv", tmp / "peer_out.csv"
        frame.to_csv(inp, index=False)
        subprocess.run([str(py), str(mod.__file__), str(inp), str(out), *([mode] if mode else [])], check=True,
                       capture_output=True, timeout=600)
        return pd.read_csv(out, dtype={"exporter": str, "product": str, "product_1": str, "product_2": str})
    return run


def test_every_column_agrees_with_ecomplexity_053_on_world_trade_2017(peer, shared_data, tmp_path):
    """World trade 2017, HS4 (224 exporters × 1,222 products; 56,461 NaN values, which py-ecomplexity
    coerces to 0 — our ``missing="zero"``).  Every output column agrees to 1e-6 (observed ~1e-13)."""
    d = pd.read_parquet(shared_data / "world_trade_2017_hs4.parquet").rename(columns={"value_usd": "export_value"})
    d.insert(0, "year", 2017)
    theirs = peer(d, tmp_path)
    theirs = theirs[theirs["mcp"].notna()]            # py-ecomplexity re-appends the NaN input rows
    ours = complexity(d, missing="zero")
    ours = ours.assign(exporter=ours["exporter"].astype(str), product=ours["product"].astype(str))
    assert len(ours) == len(theirs) == 224 * 1222
    m = ours.merge(theirs, on=["year", "exporter", "product"], suffixes=("", "_peer"), validate="1:1")
    assert len(m) == len(ours)
    assert (m["m"] == m["mcp"]).all()
    for col in ("diversity", "ubiquity"):
        assert (m[col] == m[f"{col}_peer"]).all(), col
    np.testing.assert_allclose(m["rca"], m["rca_peer"], rtol=1e-9)
    np.testing.assert_allclose(m["export_value"], m["export_value_peer"], rtol=0)
    for col in ("eci", "pci", "density", "coi", "cog"):
        np.testing.assert_allclose(m[col], m[f"{col}_peer"], atol=1e-6, rtol=0, err_msg=col)
    assert (m["eci"] - m["eci_peer"]).abs().max() < 1e-9   # in fact to rounding error


def test_proximity_agrees_with_ecomplexity_053(peer, shared_data, tmp_path):
    g = pd.read_csv(shared_data / "ecomplexity_fixtures" / "trade_data_sample.csv", dtype={"hs92": str})
    g = g.rename(columns={"origin": "exporter", "hs92": "product", "export_val": "export_value"})
    theirs = peer(g, tmp_path, "--proximity")
    ours = proximity(g)
    ours = ours.assign(product_1=ours["product_1"].astype(str), product_2=ours["product_2"].astype(str))
    m = ours.merge(theirs.rename(columns={"product_1": "product_1", "product_2": "product_2"}),
                   on=["year", "product_1", "product_2"], suffixes=("", "_peer"), validate="1:1")
    assert len(m) == len(ours) == len(theirs) == 2 * 30 * 30
    np.testing.assert_allclose(m["proximity"], m["proximity_peer"], atol=1e-12)


@pytest.mark.parametrize("option", ["asymmetric", "continuous"])
def test_options_agree_with_ecomplexity_053(peer, shared_data, tmp_path, option):
    """py-ecomplexity ``asymmetric=True`` / ``continuous=True`` on the Atlas sample (2 years × 10
    countries × 30 products)."""
    g = pd.read_csv(shared_data / "ecomplexity_fixtures" / "trade_data_sample.csv", dtype={"hs92": str})
    g = g.rename(columns={"origin": "exporter", "hs92": "product", "export_val": "export_value"})
    theirs = peer(g, tmp_path, f"--{option}")
    ours = complexity(g, **{option: True})
    ours = ours.assign(exporter=ours["exporter"].astype(str), product=ours["product"].astype(str))
    m = ours.merge(theirs, on=["year", "exporter", "product"], suffixes=("", "_peer"), validate="1:1")
    assert len(m) == len(ours) == 600
    for col in ("rca", "eci", "pci", "density", "coi", "cog"):
        np.testing.assert_allclose(m[col], m[f"{col}_peer"], atol=1e-9, rtol=0, err_msg=col)
