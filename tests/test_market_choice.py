"""Trade complementarity (Michaely), trade intensity and market / product recommendations.

Hand world of tests/test_potential.py (IRN, TUR, CHN → SYR, IRQ, AFG; products P1..P4).
IRN's export shares: P1 20/50 = .4, P2 .4, P3 .2, P4 0;  world exports X_w = 200.

Trade intensity TI_ij = (x_ij/X_i)/(x_wj/X_w):
    SYR (10/50)/(80/200) = 0.5 | IRQ (30/50)/(60/200) = 2 | AFG (10/50)/(60/200) = 2/3
Complementarity TC_ij = 100(1 − ½Σ|m_jk/M_j − x_ik/X_i|):
    SYR imports 30,10,30,10 / 80 = .375,.125,.375,.125 → Σ|·| = .025+.275+.175+.125 = .6 → TC = 70
    IRQ 20,40,0,0 / 60 → Σ|·| = 1/15 + 4/15 + .2 + 0 = 8/15 → TC = 100(1 − 4/15) = 73.33…
    AFG 10,0,10,40 / 60 → Σ|·| = 7/30 + .4 + 1/30 + 2/3 = 4/3 → TC = 100/3
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from tests.test_potential import hand_flows, hand_macro, province_flows
from tradepulse.errors import NoDataError, TradepulseError, UnknownNameError
from tradepulse.indicators.market_choice import (
    complementarity, partner_indices, recommend, recommend_markets, recommend_products, trade_intensity)
from tradepulse.indicators.potential import export_potential

# these hand cases check the plain four-term product; the API default is method="itc" (issue 21)
export_potential = functools.partial(export_potential, method="basic")


def test_trade_intensity_hand():
    ti = trade_intensity(hand_flows(), "IRN")
    assert ti["SYR"] == pytest.approx(0.5)
    assert ti["IRQ"] == pytest.approx(2.0)
    assert ti["AFG"] == pytest.approx(2 / 3)


def test_complementarity_hand():
    tc = complementarity(hand_flows(), "IRN")
    assert tc["SYR"] == pytest.approx(70.0)
    assert tc["IRQ"] == pytest.approx(100 * (1 - 4 / 15))
    assert tc["AFG"] == pytest.approx(100 / 3)
    assert list(tc.index) == ["IRQ", "SYR", "AFG"]  # sorted by complementarity


def test_complementarity_bounds_property():
    """TC is 100 when the partner imports exactly the exporter's basket, 0 when nothing overlaps."""
    f = pd.DataFrame({"reporter": ["IRN", "IRN", "TUR", "TUR", "CHN"], "partner": ["SYR", "SYR", "IRQ", "IRQ", "IRQ"],
                      "product": ["0101", "0202", "0101", "0202", "0303"], "value_usd": [1.0, 3.0, 1.0, 3.0, 0.0]})
    f = pd.concat([f, pd.DataFrame({"reporter": ["CHN"], "partner": ["AFG"], "product": ["0404"], "value_usd": [5.0]})])
    f["year"], f["flow"], f["province"] = 2021, "export", None
    tc = complementarity(f, "TUR")
    assert tc["SYR"] == pytest.approx(100.0)   # SYR buys 1:3 of 0101:0202, TUR sells 1:3
    assert tc["AFG"] == pytest.approx(0.0)     # AFG buys only 0404, which TUR does not sell


def test_partner_indices_for_a_province():
    """Tehran sells only P1 (SYR 6, IRQ 4): TI_SYR = (6/10)/(80/200) = 1.5; TC_SYR = 100(1 − ½(.625 + .125
    + .375 + .125)) = 37.5."""
    pi = partner_indices(province_flows(), "IRN", province="Tehran").set_index("partner")
    assert pi.at["SYR", "intensity"] == pytest.approx(1.5)
    assert pi.at["SYR", "complementarity"] == pytest.approx(37.5)


@pytest.fixture(scope="module")
def hand_result():
    return export_potential(hand_flows(), "IRN", macro=hand_macro(), access="none")


def test_recommend_markets_for_a_product(hand_result):
    """P1 (0101): unrealised IRQ 2410/47, AFG 1200/59, SYR 0; IRN's share of IRQ's P1 imports 10/20;
    projected demand doubles in IRQ over 5 years → 2^(1/5) − 1 a year."""
    rec = recommend_markets(hand_result, "0101")
    assert list(rec["market"]) == ["IRQ", "AFG", "SYR"]
    irq = rec.set_index("market").loc["IRQ"]
    assert irq["unrealised"] == pytest.approx(2410 / 47)
    assert irq["current_value"] == 10.0
    assert irq["exporter_share"] == pytest.approx(0.5)
    assert irq["demand_growth"] == pytest.approx(2 ** 0.2 - 1)
    assert rec.set_index("market").at["IRQ", "market_name"] == "Iraq"
    assert np.isnan(irq["market_growth"])  # one year of data: no historic growth


def test_recommend_products_for_a_market(hand_result):
    rec = recommend_products(hand_result, "syr")
    assert list(rec["product"]) == ["0303", "0202", "0101"]
    assert rec["unrealised"].tolist() == pytest.approx([20 / 3, 40 / 33, 0.0])
    assert rec.set_index("product").at["0101", "product_name"] != "0101"  # HS names attached


def test_recommendation_errors(hand_result):
    with pytest.raises(UnknownNameError, match="unknown product group 'handcraft'"):
        recommend_markets(hand_result, "handcraft")
    with pytest.raises(NoDataError, match="handicrafts"):
        recommend_markets(hand_result, "handicrafts")  # a real group, but nothing in this world
    with pytest.raises(UnknownNameError, match="unknown market 'XYZ'"):
        recommend_products(hand_result, "XYZ")
    with pytest.raises(NoDataError, match="to DEU"):
        recommend_products(hand_result, "DEU")
    with pytest.raises(TradepulseError, match="not both"):
        recommend(hand_flows(), "IRN", product_group="01", market="SYR", horizon=0)


def test_market_growth_from_an_earlier_year():
    """A copy of the world in 2019 at half the value: imports doubled in 2 years → growth √2 − 1."""
    f = hand_flows()
    old = f.assign(year=2019, value_usd=f["value_usd"] / 2)
    res = export_potential(pd.concat([old, f]), "IRN", horizon=0, access="none", growth_window=5)
    assert res.attrs["previous_year"] == 2019
    rec = recommend_markets(res, "0101").set_index("market")
    assert rec.at["IRQ", "market_growth"] == pytest.approx(np.sqrt(2) - 1)


@pytest.mark.slow
def test_demo_world_handicrafts_and_syria_and_provinces():
    """The small demo world: IRN's handicraft markets, products for Syria, and a province."""
    from tradepulse.demo.world import generate
    w = generate(n_countries=40, n_products=150, first_year=2014, last_year=2023)
    data = pd.concat([w.flows, w.customs], ignore_index=True)
    res = export_potential(data, "IRN", macro=w.macro)
    # horizon-independent identity on the national result: unrealised = potential − min(potential, actual)
    np.testing.assert_allclose(res.unrealised, res.potential - np.minimum(res.potential, res.actual))
    hand = recommend_markets(res, "handicrafts")
    assert hand["unrealised"].is_monotonic_decreasing and len(hand) >= 5
    assert hand["exporter_share"].between(0, 1).all()
    syr = recommend_products(res, "SYR")
    assert len(syr) > 0 and syr["unrealised"].is_monotonic_decreasing
    prov = w.customs["province"].dropna().unique()[0]
    rp = export_potential(data, "IRN", province=prov, horizon=0)
    sums = rp.groupby("market")[["potential", "actual"]].sum()
    traded = sums[sums.actual > 0]
    np.testing.assert_allclose(traded.potential, traded.actual, rtol=1e-9)
    pi = partner_indices(data, "IRN")
    assert pi["complementarity"].between(0, 100).all()


def test_recommend_products_over_all_markets(hand_result):
    """Summed over markets: P1 unrealised 2410/47 + 1200/59; P3 20/3; P2 40/33."""
    rec = recommend_products(hand_result, None)
    assert list(rec["product"]) == ["0101", "0303", "0202"]
    assert rec.set_index("product").at["0101", "unrealised"] == pytest.approx(2410 / 47 + 1200 / 59)
    only = recommend_products(hand_result, None, products="02,03")
    assert list(only["product"]) == ["0303", "0202"]
