"""The roadmap's informal ("suitcase") handicraft export estimate, demonstrated on the SYNTHETIC demo world.

The demo (``tradepulse.demo.world``, step 6) makes each partner j of IRN declare its imports from IRN at CIF
``m_jp = (x_jp + s_jp)·φ_jt``: x the FOB exports IRN recorded, φ_jt ~ U(1.06, 1.14) one CIF/FOB factor per
partner × year, s the unrecorded handicraft exports it injected, only toward the Caspian / Persian-Gulf markets
(truth: ``meta["suitcase_by_year"]``, S_t per year, with formal exports F_t to those markets).

``tradepulse.roadmap.mirror.mirror(direction="exports", margin=1.10)`` estimates per partner-year
``gap = m/1.10 − x = s + (x + s)·(φ/1.10 − 1)``.  With φ ∈ [1.06, 1.14], ``|φ/1.10 − 1| ≤ 0.04/1.10 ≈ 3.64 %``, so
while no gap is negative (then ``unrecorded = max(gap, 0) = gap``; asserted below)

    |Σ unrecorded − S_t| ≤ (0.04/1.10)·(F_t + S_t)          (≈ 7.3 % of S_t since F_t ≈ S_t).

Hand case: x = 100, s = 100, φ = 1.14 → m = 228, m/1.10 = 207.3, gap = 107.3; |107.3 − 100| = 7.3 ≤ 0.0364·200.
Markets where nothing is injected (handicrafts to other partners) show only the valuation noise:
``Σ unrecorded ≤ (0.04/1.10)·Σ x``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tradepulse.demo.world import CIF_FOB, SMALL, generate
from tradepulse.roadmap.mirror import DEFAULT_MARGIN, mirror, summary

MARKETS = "caspian_and_persian_gulf"
#: worst relative error of one partner-year's mirror value: |φ/m − 1| over φ in CIF_FOB, m = 1.10
SLACK = max(abs(CIF_FOB[0] / DEFAULT_MARGIN - 1), abs(CIF_FOB[1] / DEFAULT_MARGIN - 1))


@pytest.fixture(scope="module")
def demo(tmp_path_factory, demo_copy):
    """(warehouse path, truth per year) of the small demo world (seed 1400), built through the ingest API."""
    out = demo_copy(tmp_path_factory.mktemp("suitcase"))   # build(out, small=True), built once
    truth = generate(**SMALL).meta["suitcase_by_year"].set_index("year")  # same seed → same world
    return out / "warehouse.duckdb", truth


@pytest.fixture(scope="module")
def table(demo):
    from tradepulse.warehouse import Warehouse
    with Warehouse(demo[0], read_only=True) as wh:
        return mirror(wh, "IRN", direction="exports", products=["handicrafts"], partners=[MARKETS])


def test_slack_hand_case():
    """x = 100, s = 100, φ = 1.14: gap = 228/1.10 − 100 = 107.27; error 7.27 ≤ SLACK·200 = 7.27."""
    assert SLACK == pytest.approx(0.04 / 1.10)
    gap = (100 + 100) * 1.14 / 1.10 - 100
    assert gap == pytest.approx(107.2727, abs=1e-4) and abs(gap - 100) <= SLACK * 200 + 1e-9


def test_mirror_recovers_injected_suitcase_exports(demo, table):
    warehouse, truth = demo
    assert set(table["direction"]) == {"exports"} and set(table["margin"]) == {DEFAULT_MARGIN}
    assert (table["gap"] > 0).all()                  # so max(gap, 0) clips nothing and the bound applies
    s = summary(table, by=("year",)).set_index("year")
    assert s.index.tolist() == truth.index.tolist() == [2021, 2022, 2023]
    # reporter side: IRN's recorded handicraft exports to the markets (customs provinces, summed)
    np.testing.assert_allclose(s["reported"], truth["formal_fob_usd"], rtol=1e-9)
    bound = SLACK * (truth["formal_fob_usd"] + truth["informal_fob_usd"])
    err = (s["unrecorded"] - truth["informal_fob_usd"]).abs()
    assert (err <= bound).all(), pd.concat([s["unrecorded"], truth["informal_fob_usd"], bound], axis=1)
    # the estimate is of the roadmap's size: informal ≈ formal, so about half of all handicraft exports there
    assert s["unrecorded_share"].between(0.4, 0.6).all()
    assert (s["partners"] == 11).all()


def test_other_markets_show_only_valuation_noise(demo):
    """Handicrafts to partners outside the Caspian / Persian Gulf carry no injected trade: the estimate there is
    bounded by the CIF/FOB spread of the recorded exports."""
    from tradepulse import reference
    from tradepulse.warehouse import Warehouse
    with Warehouse(demo[0], read_only=True) as wh:
        allp = mirror(wh, "IRN", direction="exports", products=["handicrafts"])
    rest = allp[~allp["partner"].isin(reference.group_members(MARKETS))]
    assert len(rest) > 0 and (rest["reported"] > 0).all()
    assert rest["unrecorded"].sum() <= SLACK * rest["reported"].sum()
    assert rest["ratio"].between(CIF_FOB[0] / DEFAULT_MARGIN - 1e-9, CIF_FOB[1] / DEFAULT_MARGIN + 1e-9).all()


def test_auto_direction_now_uses_partner_imports(demo):
    from tradepulse.warehouse import Warehouse
    with Warehouse(demo[0], read_only=True) as wh:
        t = mirror(wh, "IRN", direction="auto", products=["carpets"])
    assert set(t["direction"]) == {"exports"}


def test_cli_prints_the_estimate(demo, table):
    """``tradepulse targets mirror`` shows the per-year estimate (table) and the same rows as JSON."""
    from tradepulse.cli import app
    from tradepulse.cli.targets import _money
    args = ["targets", "mirror", "--warehouse", str(demo[0]), "--products", "handicrafts",
            "--partners", MARKETS, "--direction", "exports"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "Mirror statistics — IRN exports" in res.output and "CIF = FOB × 1.10" in res.output
    s = summary(table, by=("group", "year"))
    for u in s["unrecorded"]:
        assert _money(u, "", "en") in res.output
    res = CliRunner().invoke(app, args + ["--json"])
    assert res.exit_code == 0, res.output
    rows = pd.DataFrame(json.loads(res.output))
    got = rows.groupby("year")["unrecorded"].sum()
    np.testing.assert_allclose(got.to_numpy(), s["unrecorded"].to_numpy(), rtol=1e-9)
