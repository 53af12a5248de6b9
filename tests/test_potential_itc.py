"""Export potential, ITC method term by term (Decreux & Spies 2016; issue 21), on the hand world of
tests/test_potential.py (its docstring works out the plain terms).  Each ITC term is checked against a
hand-worked value from its formula, and the plain form is the reference where a term leaves it alone."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from test_potential import cell, hand_flows, hand_geo, hand_macro

from tradepulse.errors import UnknownNameError
from tradepulse.indicators import potential as pot
from tradepulse.indicators.potential import (
    bilateral_year,
    export_potential,
    projection_factors,
)
from tradepulse.meta import meta_of

# these hand cases check the plain four-term product; the API default is method="itc" (issue 21)
export_potential = functools.partial(export_potential, method="basic")


def test_cap_at_projected_demand_hand():
    """Plain potential: IRQ P1 2880/47 ≈ 61.3 > demand 40 and AFG P1 1200/59 ≈ 20.3 > demand 20; capped
    they are 40 and 20; every other cell is unchanged; the two capped cells are counted and said."""
    plain = export_potential(hand_flows(), "IRN", macro=hand_macro(), access="none")
    capped = export_potential(hand_flows(), "IRN", macro=hand_macro(), access="none", cap="demand")
    assert cell(capped, "IRQ", "0101")["potential"] == pytest.approx(40.0)
    assert cell(capped, "AFG", "0101")["potential"] == pytest.approx(20.0)
    assert cell(capped, "SYR", "0303")["potential"] == pytest.approx(cell(plain, "SYR", "0303")["potential"])
    assert (capped["potential"] <= capped["demand"] * (1 + 1e-12)).all()
    assert capped.attrs["cells_capped"] == 2
    assert any("capped" in w for w in meta_of(capped).warnings)


def test_tariff_advantage_and_relative_distance_together():
    """ITC access = tariff advantage × relative distance.  Distance (β = −1): SYR P1 0.6, SYR P3 5 (see
    test_gravity_proxy_access_hand); tariff: SYR P3 1.1^5.  Together: SYR P3 5·1.1^5, SYR P1 0.6·1."""
    tariffs = pd.DataFrame({"market": ["SYR"], "product": ["0303"], "rate": [0.0], "competitor_rate": [0.10]})
    kw = {"horizon": 0, "geo": hand_geo(), "distance_elasticity": -1.0}
    both = export_potential(hand_flows(), "IRN", tariffs=tariffs, access="tariff+distance", **kw)
    assert both.attrs["access_basis"] == "tariff+distance"
    assert cell(both, "SYR", "0303")["access"] == pytest.approx(5 * 1.1 ** 5)
    assert cell(both, "SYR", "0101")["access"] == pytest.approx(0.6)
    dist = export_potential(hand_flows(), "IRN", access="distance", **kw)
    assert cell(dist, "SYR", "0303")["access"] == pytest.approx(5.0)
    assert any("relative distance only" in w for w in meta_of(dist).warnings)
    # the ITC preset picks tariff+distance when tariffs are given, distance alone otherwise
    itc = export_potential(hand_flows(), "IRN", tariffs=tariffs, method="itc", supply_adjustments=(),
                           cap="none", **kw)
    assert itc.attrs["access_basis"] == "tariff+distance"
    with pytest.raises(Exception, match="needs a tariffs table"):
        export_potential(hand_flows(), "IRN", access="tariff+distance", **kw)


def test_product_specific_tariff_elasticity():
    """σ by HS prefix: chapter 03 at σ = 2 → SYR P3 A = 1.1²; unlisted products keep σ = 5."""
    tariffs = pd.DataFrame({"market": ["SYR", "SYR"], "product": ["0303", "0101"], "rate": [0.0, 0.0],
                            "competitor_rate": [0.10, 0.10]})
    res = export_potential(hand_flows(), "IRN", horizon=0, tariffs=tariffs, tariff_elasticity={"03": 2.0})
    assert cell(res, "SYR", "0303")["access"] == pytest.approx(1.1 ** 2)
    assert cell(res, "SYR", "0101")["access"] == pytest.approx(1.1 ** 5)


def test_trade_surplus_condition():
    """TUR sells IRN 50 of P1: IRN imports P1 (50) more than it exports it (20) → no supply of P1 (a
    re-export, not capacity); P2's potential is the plain one (S⁰ and the ease are unchanged)."""
    f = pd.concat([hand_flows(), hand_flows().iloc[:1].assign(reporter="TUR", partner="IRN", value_usd=50.0)])
    plain = export_potential(f, "IRN", horizon=0, access="none")
    adj = export_potential(f, "IRN", horizon=0, access="none", supply_adjustments=("surplus",))
    assert (adj.loc[adj["product"] == "0101", "potential"] == 0).all()
    assert cell(adj, "SYR", "0202")["potential"] == pytest.approx(cell(plain, "SYR", "0202")["potential"])
    assert adj.attrs["products_net_imported"] == 1
    with pytest.raises(UnknownNameError):
        export_potential(f, "IRN", horizon=0, supply_adjustments=("magic",))


def test_rca_growth_adjustment_hand():
    """2016 = 2021 except IRN→SYR P1 = 5.  RCA_P1: 2021 (20/50)/(60/200) = 4/3, 2016 (15/45)/(55/195) = 13/11
    → factor (4/3)/(13/11) = 44/39 (h = t − t0 = 5).  RCA_P2: 1.6 vs (20/45)/(50/195) = 26/15 → 12/13."""
    f = hand_flows()
    old = f.assign(year=2016)
    old.loc[(old.reporter == "IRN") & (old.partner == "SYR"), "value_usd"] = 5.0
    data = pd.concat([old, f])
    plain = export_potential(data, "IRN", macro=hand_macro(), access="none")
    adj = export_potential(data, "IRN", macro=hand_macro(), access="none", supply_adjustments=("rca_growth",))
    assert cell(adj, "SYR", "0101")["supply"] == pytest.approx(cell(plain, "SYR", "0101")["supply"] * 44 / 39)
    assert cell(adj, "SYR", "0202")["supply"] == pytest.approx(cell(plain, "SYR", "0202")["supply"] * 12 / 13)
    assert adj.attrs["rca_growth_from"] == 2016


def test_ease_for_markets_without_trade_gravity_fit():
    """ln B = 0.5 − 1.2 ln d + 0.3 contig + 0.2 lang holds exactly on 10 served markets: the fit recovers
    it and predicts the 2 unserved markets; with too few markets the geometric mean is used."""
    rng = np.random.default_rng(3)
    markets = pd.Index([f"M{i:02d}" for i in range(12)])
    d = rng.uniform(300, 9000, 12)
    contig, lang = (rng.random(12) < 0.3).astype(float), (rng.random(12) < 0.4).astype(float)
    law = np.exp(0.5 - 1.2 * np.log(d) + 0.3 * contig + 0.2 * lang)
    geo = pd.DataFrame({"exporter": "IRN", "importer": markets, "distw": d, "dist": d, "contig": contig,
                        "comlang_off": lang})
    actual = np.where(np.arange(12) < 10, 1.0, 0.0)
    B = np.where(actual > 0, law, 0.0)
    notes: dict = {}
    out, basis = pot._ease_without_trade(B, actual, np.ones(12), "IRN", markets, geo, notes)
    np.testing.assert_allclose(out, law, rtol=1e-9)
    assert list(basis[10:]) == ["gravity fit"] * 2 and notes["markets_with_predicted_ease"] == 2
    few = np.where(np.arange(12) < 3, 1.0, 0.0)
    out2, basis2 = pot._ease_without_trade(np.where(few > 0, law, 0), few, np.ones(12), "IRN", markets, geo, {})
    assert out2[5] == pytest.approx(np.exp(np.log(law[:3]).mean())) and basis2[5] == "mean of observed"


def test_published_projections_for_demand():
    """Atlas projections: GDP per capita ×(1 + g/100)^h with the published g (IRN 2024 edition), population
    on its trend (IRN flat in the hand macro); SYR and AFG have no published projection → the trend."""
    from tradepulse.reference.atlas import growth_projection

    fac, missing = projection_factors(hand_macro(), 2021, ["IRN", "SYR", "AFG"], horizon=5, source="atlas")
    g = growth_projection("IRN").rate
    assert fac.at["IRN", "gdppc"] == pytest.approx((1 + g / 100) ** 5)
    assert fac.at["IRN", "pop"] == pytest.approx(1.0) and fac.at["IRN", "basis"].startswith("atlas")
    assert fac.at["AFG", "basis"] == "trend" and fac.at["AFG", "gdppc"] == pytest.approx(2.0)
    assert missing == {}
    res = export_potential(hand_flows(), "IRN", macro=hand_macro(), access="none", projections="atlas")
    assert set(res.loc[res.market.isin(["SYR", "AFG"]), "demand_basis"]) == {"trend"}
    assert any("no published Atlas growth projection" in w for w in meta_of(res).warnings)


def test_mirror_reconciliation():
    """IRN→TUR: exporter says 10, TUR's import declaration 12 → importer rule 12, mean 11; IRN→IRQ only the
    exporter (5); IRN→AFG only AFG's import declaration (3)."""
    rows = [("IRN", "TUR", "export", 10.0), ("TUR", "IRN", "import", 12.0), ("IRN", "IRQ", "export", 5.0),
            ("AFG", "IRN", "import", 3.0)]
    f = pd.DataFrame(rows, columns=["reporter", "partner", "flow", "value_usd"])
    f["product"], f["year"], f["province"] = "0101", 2021, None

    def values(rule):
        t, _ = bilateral_year(f, 2021, mirror=rule)
        return t.to_pandas().set_index("partner")["value"].to_dict()

    assert values("exporter") == {"TUR": 10.0, "IRQ": 5.0}
    assert values("importer") == {"TUR": 12.0, "IRQ": 5.0, "AFG": 3.0}
    assert values("mean") == {"TUR": 11.0, "IRQ": 5.0, "AFG": 3.0}
    with pytest.raises(UnknownNameError):
        bilateral_year(f, 2021, mirror="both")


def test_itc_preset_end_to_end():
    res = export_potential(hand_flows(), "IRN", macro=hand_macro(), geo=hand_geo(), method="itc")
    a = res.attrs
    assert (a["method_preset"], a["projections"], a["cap"], a["mirror"]) == ("itc", "atlas", "demand", "importer")
    assert a["supply_adjustments"] == ["surplus", "rca_growth", "tariff_conditions"]
    assert a["access_basis"] == "distance" and a["tariff_conditions"] == "not applied: no tariff table"
    assert (res["potential"] <= res["demand"] * (1 + 1e-12)).all()
    with pytest.raises(UnknownNameError):
        export_potential(hand_flows(), "IRN", horizon=0, method="wto")


def test_global_tariff_conditions_on_supply():
    """IRN pays 0 in SYR on P1 where competitors pay 10 %: A_SYR,P1 = 1.1^5; IRN sells P1 to SYR (10) and
    IRQ (10, A = 1) → its export-weighted tariff advantage on P1 is (1.1^5 + 1)/2 and its P1 supply is
    divided by it (ITC's "global tariff conditions"); P2 (no tariff rows) is unchanged."""
    tariffs = pd.DataFrame({"market": ["SYR"], "product": ["0101"], "rate": [0.0], "competitor_rate": [0.10]})
    plain = export_potential(hand_flows(), "IRN", horizon=0, tariffs=tariffs)
    adj = export_potential(hand_flows(), "IRN", horizon=0, tariffs=tariffs, supply_adjustments=("tariff_conditions",))
    avg = (1.1 ** 5 + 1) / 2
    assert cell(adj, "IRQ", "0101")["supply"] == pytest.approx(cell(plain, "IRQ", "0101")["supply"] / avg)
    assert cell(adj, "SYR", "0202")["supply"] == pytest.approx(cell(plain, "SYR", "0202")["supply"])
