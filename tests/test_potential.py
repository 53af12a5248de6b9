"""Export potential (ITC method, Decreux & Spies 2016) on a world small enough to work out by hand.

The hand world: exporters IRN, TUR, CHN; markets SYR, IRQ, AFG (no market is also an exporter, so the
"excluding market j as a supplier" term is zero here — the BACI test exercises it); products
P1..P4 = 0101, 0202, 0303, 0404; year 2021.  Bilateral exports x[i→j, k]:

    IRN: SYR P1 10 | IRQ P1 10, P2 20 | AFG P3 10                     X_IRN = 50
    TUR: SYR P1 20, P2 10 | IRQ P2 20 | AFG P4 20                     X_TUR = 70
    CHN: SYR P3 30, P4 10 | IRQ P1 10 | AFG P1 10, P4 20              X_CHN = 80

World exports X_k: P1 60, P2 50, P3 40, P4 50.  Imports M_jk (mirror):
    SYR: 30, 10, 30, 10 (80) | IRQ: 20, 40, 0, 0 (60) | AFG: 10, 0, 10, 40 (60)

Macro 2016 → 2021 (window 5, horizon 5, so each factor is simply the 2021/2016 ratio):
    GDP factor γ: IRN 1.2, TUR 1.0, CHN 1.5;  SYR pop ×1, GDP/cap ×1 → demand ×1;
    IRQ pop ×2, GDP/cap ×1 → ×2;  AFG pop ×1, GDP/cap ×2 (ε = 1) → ×2.

Base supply S⁰ = (x_IRN,k − x_IRN→j,k) / (X_k − M_jk):
    SYR: P1 10/30 = 1/3, P2 20/40 = 1/2, P3 10/10 = 1, P4 0
    IRQ: P1 10/40 = 1/4, P2 0/10 = 0, P3 10/40 = 1/4
    AFG: P1 20/50 = 2/5, P2 20/50 = 2/5, P3 0/30 = 0
Ease B_j = actual_j / Σ_k S⁰ M (access = none):
    SYR 10 / (10 + 5 + 30) = 2/9 | IRQ 30 / 5 = 6 | AFG 10 / 4 = 5/2
Projected supply S = 1.2 (x_k − x_jk) / (Σ_l γ_l x_lk − Σ_l γ_l x_ljk); Σ_l γ_l x_lk = 74, 54, 57, 65;
γ-weighted imports SYR 32, 10, 45, 15 | IRQ 27, 44, 0, 0 | AFG 15, 0, 12, 50:
    SYR: P1 12/42 = 2/7, P2 24/44 = 6/11, P3 12/12 = 1 | IRQ: P1 12/47, P3 12/57 = 4/19 | AFG: P1 24/59, P2 24/54 = 4/9
Demand D = M × factor: SYR 30, 10, 30, 10 | IRQ 40, 80, 0, 0 | AFG 20, 0, 20, 80.
Potential V = S·D·B:
    SYR P1 2/7·30·2/9 = 40/21, P2 6/11·10·2/9 = 40/33, P3 1·30·2/9 = 20/3
    IRQ P1 12/47·40·6 = 2880/47 | AFG P1 24/59·20·5/2 = 1200/59; every other cell 0.
Unrealised = V − min(V, actual): SYR P1 0 (actual 10 > 40/21), SYR P2 40/33, SYR P3 20/3,
    IRQ P1 2880/47 − 10 = 2410/47, AFG P1 1200/59, IRQ P2 and AFG P3 0 (exported, no potential left).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from tradepulse.errors import NoDataError, UnknownNameError
from tradepulse.indicators.potential import (
    HEAD_MAYER_2014, by_market, by_product, export_potential, gravity_access, macro_factors)

# these hand cases check the plain four-term product; the API default is method="itc" (issue 21)
export_potential = functools.partial(export_potential, method="basic")

ROWS = [("IRN", "SYR", "0101", 10), ("IRN", "IRQ", "0101", 10), ("IRN", "IRQ", "0202", 20),
        ("IRN", "AFG", "0303", 10),
        ("TUR", "SYR", "0101", 20), ("TUR", "SYR", "0202", 10), ("TUR", "IRQ", "0202", 20),
        ("TUR", "AFG", "0404", 20),
        ("CHN", "SYR", "0303", 30), ("CHN", "SYR", "0404", 10), ("CHN", "IRQ", "0101", 10),
        ("CHN", "AFG", "0101", 10), ("CHN", "AFG", "0404", 20)]
MACRO = [("IRN", 100, 10, 120, 10), ("TUR", 100, 10, 100, 10), ("CHN", 100, 10, 150, 10),
         ("SYR", 100, 10, 100, 10), ("IRQ", 100, 10, 200, 20), ("AFG", 100, 10, 200, 10)]


def hand_flows() -> pd.DataFrame:
    f = pd.DataFrame(ROWS, columns=["reporter", "partner", "product", "value_usd"])
    f["value_usd"] = f["value_usd"].astype(float)
    f["year"], f["flow"], f["province"] = 2021, "export", None
    return f


def hand_macro() -> pd.DataFrame:
    rows = []
    for iso, g0, p0, g1, p1 in MACRO:
        rows += [(2016, iso, float(g0), float(p0)), (2021, iso, float(g1), float(p1))]
    return pd.DataFrame(rows, columns=["year", "iso3", "gdp_usd", "population"])


def cell(res: pd.DataFrame, market: str, product: str) -> pd.Series:
    row = res[(res["market"] == market) & (res["product"] == product)]
    assert len(row) == 1, (market, product)
    return row.iloc[0]


@pytest.fixture(scope="module")
def hand():
    return export_potential(hand_flows(), "IRN", macro=hand_macro(), access="none")


def test_hand_supply_base_year(hand):
    expected = {("SYR", "0101"): 1 / 3, ("SYR", "0202"): 1 / 2, ("SYR", "0303"): 1.0, ("IRQ", "0101"): 1 / 4,
                ("IRQ", "0202"): 0.0, ("AFG", "0101"): 2 / 5, ("AFG", "0303"): 0.0}
    for (m, p), s in expected.items():
        assert cell(hand, m, p)["supply_base"] == pytest.approx(s, rel=1e-12, abs=1e-15)


def test_hand_supply_projected(hand):
    expected = {("SYR", "0101"): 2 / 7, ("SYR", "0202"): 6 / 11, ("SYR", "0303"): 1.0,
                ("IRQ", "0101"): 12 / 47, ("AFG", "0101"): 24 / 59}
    for (m, p), s in expected.items():
        assert cell(hand, m, p)["supply"] == pytest.approx(s, rel=1e-12)


def test_hand_demand_projected(hand):
    expected = {("SYR", "0101"): 30, ("SYR", "0303"): 30, ("SYR", "0202"): 10, ("IRQ", "0101"): 40,
                ("IRQ", "0202"): 80, ("AFG", "0101"): 20, ("AFG", "0303"): 20}
    for (m, p), d in expected.items():
        assert cell(hand, m, p)["demand"] == pytest.approx(d, rel=1e-12)


def test_hand_ease(hand):
    ease = hand.groupby("market")["ease"].first()
    assert ease["SYR"] == pytest.approx(2 / 9)
    assert ease["IRQ"] == pytest.approx(6.0)
    assert ease["AFG"] == pytest.approx(2.5)


def test_hand_potential_realised_unrealised(hand):
    pot = {("SYR", "0101"): 40 / 21, ("SYR", "0202"): 40 / 33, ("SYR", "0303"): 20 / 3,
           ("IRQ", "0101"): 2880 / 47, ("AFG", "0101"): 1200 / 59, ("IRQ", "0202"): 0.0, ("AFG", "0303"): 0.0}
    unreal = {("SYR", "0101"): 0.0, ("SYR", "0202"): 40 / 33, ("SYR", "0303"): 20 / 3,
              ("IRQ", "0101"): 2410 / 47, ("AFG", "0101"): 1200 / 59, ("IRQ", "0202"): 0.0, ("AFG", "0303"): 0.0}
    for key, v in pot.items():
        c = cell(hand, *key)
        assert c["potential"] == pytest.approx(v, rel=1e-12, abs=1e-12)
        assert c["unrealised"] == pytest.approx(unreal[key], rel=1e-12, abs=1e-12)
        assert c["realised"] == pytest.approx(min(c["actual"], v), abs=1e-12)
    # exactly the 7 cells with potential or exports, ranked by unrealised potential
    assert len(hand) == 7
    assert list(hand["market"].head(2)) == ["IRQ", "AFG"]
    assert hand.attrs["access_basis"] == "none"


def test_horizon_zero_potential_adds_up_to_actual_exports_by_market():
    """Identity of the ease term: with no projection Σ_k S⁰·M·A·B = actual exports to j (any access)."""
    res = export_potential(hand_flows(), "IRN", horizon=0, geo=hand_geo())
    sums = res.groupby("market")[["potential", "actual"]].sum()
    np.testing.assert_allclose(sums["potential"], sums["actual"], rtol=1e-12)
    assert dict(sums["actual"]) == {"AFG": 10.0, "IRQ": 30.0, "SYR": 10.0}


def hand_geo() -> pd.DataFrame:
    dist = {("IRN", "SYR"): 1000, ("TUR", "SYR"): 500, ("CHN", "SYR"): 5000,
            ("IRN", "IRQ"): 700, ("TUR", "IRQ"): 1400, ("CHN", "IRQ"): 5600,
            ("IRN", "AFG"): 1500, ("TUR", "AFG"): 3000, ("CHN", "AFG"): 2000}
    return pd.DataFrame([{"exporter": e, "importer": i, "distw": d, "dist": d, "contig": 0, "comlang_off": 0}
                         for (e, i), d in dist.items()])


def test_gravity_proxy_access_hand():
    """β_d = −1, no border/language terms: g = 1/distance.  SYR P1 is supplied by IRN 10 and TUR 20, so
    ḡ = (10/30)/1000 + (20/30)/500 = 1/600 and A = (1/1000)/(1/600) = 0.6; SYR P3 only by CHN:
    A = (1/1000)/(1/5000) = 5; IRQ P2 by IRN 20 and TUR 20: ḡ = ½/700 + ½/1400 = 3/2800,
    A = (1/700)/(3/2800) = 4/3."""
    res = export_potential(hand_flows(), "IRN", horizon=0, geo=hand_geo(), distance_elasticity=-1.0,
                           contiguity_effect=0.0, language_effect=0.0)
    assert res.attrs["access_basis"] == "gravity-proxy"
    assert cell(res, "SYR", "0101")["access"] == pytest.approx(0.6)
    assert cell(res, "SYR", "0303")["access"] == pytest.approx(5.0)
    assert cell(res, "IRQ", "0202")["access"] == pytest.approx(4 / 3)
    # ease now: SYR expected = 1/3·30·0.6 + 1/2·10·A(P2) + 1·30·5, A(P2) = (1/1000)/(1/500) = 0.5
    assert cell(res, "SYR", "0101")["ease"] == pytest.approx(10 / (6 + 2.5 + 150))


def test_gravity_access_uses_cepii_geodist_with_legacy_codes():
    g, known = gravity_access(["IRN", "TUR"], ["IRQ", "ROU", "SRB", "MNE"])
    assert known.all()  # ROU → ROM, SRB/MNE → YUG in GeoDist
    # neighbours (contiguity, shorter distance) get a larger trade-cost factor than far markets
    assert g[0, 0] > g[0, 1]
    # the factor is distw^β_d·exp(β_c·contig + β_l·lang) with Head & Mayer (2014) medians
    import atlas_common_data as acd
    geo = acd.load_geo_distances()
    row = geo[(geo.exporter == "IRN") & (geo.importer == "IRQ")].iloc[0]
    b = HEAD_MAYER_2014
    assert g[0, 0] == pytest.approx(row.distw ** b["distance"] *
                                    np.exp(b["contiguity"] * row.contig + b["language"] * row.comlang_off))


def test_tariff_access_replaces_the_proxy():
    """A = ((1+t)/(1+t̄))^−σ: IRN pays 0 % in SYR on P3 where competitors pay 10 %, σ = 5 →
    A = 1.1^5 = 1.61051; other cells without a tariff row keep A = 1."""
    tariffs = pd.DataFrame({"market": ["SYR"], "product": ["0303"], "rate": [0.0], "competitor_rate": [0.10]})
    res = export_potential(hand_flows(), "IRN", horizon=0, tariffs=tariffs)
    assert res.attrs["access_basis"] == "tariff"
    assert cell(res, "SYR", "0303")["access"] == pytest.approx(1.1 ** 5)
    assert cell(res, "SYR", "0101")["access"] == 1.0


def test_income_elasticity_by_hs_prefix():
    """AFG's GDP per capita doubles: ε = 0.5 for chapter 01 → demand factor √2, other products ×2."""
    res = export_potential(hand_flows(), "IRN", macro=hand_macro(), access="none", income_elasticity={"01": 0.5})
    assert cell(res, "AFG", "0101")["demand_factor"] == pytest.approx(np.sqrt(2))
    assert cell(res, "AFG", "0303")["demand_factor"] == pytest.approx(2.0)


def test_macro_factors_cagr_projection():
    """GDP 100 → 121 over 2 years is 10 % a year; 3 years ahead that is 1.1³."""
    macro = pd.DataFrame({"year": [2019, 2020, 2021], "iso3": "IRN", "gdp_usd": [100.0, 110.0, 121.0],
                          "population": [1.0, 1.0, 1.0]})
    fac, missing = macro_factors(macro, 2021, ["IRN", "SYR"], window=2, horizon=3)
    assert fac.at["IRN", "gdp"] == pytest.approx(1.1 ** 3)
    assert "SYR" in missing


def test_missing_gdp_for_a_market_is_named():
    macro = hand_macro()
    macro = macro[macro["iso3"] != "SYR"]
    with pytest.raises(NoDataError, match=r"market\(s\) SYR"):
        export_potential(hand_flows(), "IRN", macro=macro, access="none")
    dropped = export_potential(hand_flows(), "IRN", macro=macro, access="none", missing_macro="drop")
    assert "SYR" not in set(dropped["market"])
    flat = export_potential(hand_flows(), "IRN", macro=macro, access="none", missing_macro="flat")
    assert cell(flat, "SYR", "0303")["demand"] == 30.0
    assert flat.attrs["markets_without_macro"] == ["SYR"]


def test_missing_inputs_messages():
    with pytest.raises(NoDataError, match="needs GDP and population"):
        export_potential(hand_flows(), "IRN")
    with pytest.raises(UnknownNameError, match="unknown product group 'handcrafts'.*handicrafts"):
        export_potential(hand_flows(), "IRN", horizon=0, products="handcrafts")
    with pytest.raises(UnknownNameError, match="unknown exporter 'SYR'"):
        export_potential(hand_flows(), "SYR", horizon=0)
    with pytest.raises(NoDataError, match="no bilateral export rows for 2019"):
        export_potential(hand_flows(), "IRN", horizon=0, year=2019)
    macro = hand_macro()
    with pytest.raises(NoDataError, match="exporter IRN"):
        export_potential(hand_flows(), "IRN", macro=macro[macro.iso3 != "IRN"])


def test_splits_by_product_and_market(hand):
    bp, bm = by_product(hand), by_market(hand)
    assert bp["potential"].sum() == pytest.approx(hand["potential"].sum())
    assert bm.set_index("market").at["IRQ", "unrealised"] == pytest.approx(2410 / 47)
    assert bp.set_index("product").at["0101", "potential"] == pytest.approx(40 / 21 + 2880 / 47 + 1200 / 59)
    assert bm["potential_share"].sum() == pytest.approx(1.0)


def test_output_filters_do_not_change_terms(hand):
    sub = export_potential(hand_flows(), "IRN", macro=hand_macro(), access="none", products="01",
                           markets="SYR,IRQ")
    assert set(sub["market"]) == {"SYR", "IRQ"} and set(sub["product"]) == {"0101"}
    assert cell(sub, "IRQ", "0101")["potential"] == pytest.approx(2880 / 47)


def province_flows() -> pd.DataFrame:
    """National rows plus IRN customs rows split over two provinces (they sum to the national rows)."""
    f = hand_flows()
    prov = pd.DataFrame([("IRN", "SYR", "0101", 6.0, "Tehran"), ("IRN", "IRQ", "0101", 4.0, "Tehran"),
                         ("IRN", "SYR", "0101", 4.0, "Isfahan"), ("IRN", "IRQ", "0101", 6.0, "Isfahan"),
                         ("IRN", "IRQ", "0202", 20.0, "Isfahan"), ("IRN", "AFG", "0303", 10.0, "Isfahan")],
                        columns=["reporter", "partner", "product", "value_usd", "province"])
    prov["year"], prov["flow"] = 2021, "export"
    return pd.concat([f, prov], ignore_index=True)


def test_province_as_exporter():
    """Tehran exports only P1 (SYR 6, IRQ 4).  S⁰: SYR (10−6)/(60−30) = 2/15, IRQ (10−4)/(60−20) = 3/20,
    AFG 10/50 = 1/5.  Ease SYR 6/(2/15·30) = 3/2, IRQ 4/(3/20·20) = 4/3; AFG has no Tehran exports: with
    ease_when_no_trade = 1 its potential is 1/5·10·1 = 2 (0 with the default)."""
    f = province_flows()
    res = export_potential(f, "IRN", province="tehran", horizon=0, access="none", ease_when_no_trade=1.0)
    assert res.attrs["province"] == "Tehran" and set(res["province"]) == {"Tehran"}
    assert cell(res, "SYR", "0101")["supply"] == pytest.approx(2 / 15)
    assert cell(res, "SYR", "0101")["ease"] == pytest.approx(1.5)
    assert cell(res, "IRQ", "0101")["ease"] == pytest.approx(4 / 3)
    assert cell(res, "AFG", "0101")["potential"] == pytest.approx(2.0)
    default = export_potential(f, "IRN", province="Tehran", horizon=0, access="none")
    assert "AFG" not in set(default["market"])
    # national result unchanged by the customs rows (province rows never enter world sums)
    nat = export_potential(f, "IRN", macro=hand_macro(), access="none")
    assert cell(nat, "IRQ", "0101")["potential"] == pytest.approx(2880 / 47)
    with pytest.raises(UnknownNameError, match="unknown province 'Qom'.*Isfahan"):
        export_potential(f, "IRN", province="Qom", horizon=0)


def test_accepts_a_warehouse_with_macro(tmp_warehouse):
    f = hand_flows()
    wh = tmp_warehouse
    cols = ["year", "month", "reporter", "partner", "flow", "product", "hs_revision", "value_usd", "quantity",
            "unit", "province", "source", "load_id"]
    full = f.assign(month=None, hs_revision="HS2017", quantity=None, unit=None, source="test", load_id="t")[cols]
    wh.raw.register("f_df", full)
    wh.raw.execute("INSERT INTO flow_rows SELECT * FROM f_df")
    m = hand_macro().assign(source="test", load_id="t")
    wh.raw.register("m_df", m)
    wh.raw.execute("INSERT INTO macro SELECT * FROM m_df")
    res = export_potential(wh, "IRN", access="none")
    assert cell(res, "IRQ", "0101")["potential"] == pytest.approx(2880 / 47)


def test_tariff_access_by_supplier_import_weighted():
    """MFN 10 % in SYR on P1 (exporter '*'), IRN pays 0 there.  SYR's P1 suppliers: IRN 10 at 0 %, TUR 20
    at 10 % → t̄ = (10·0 + 20·0.1)/30 = 1/15 and A = (1/(16/15))^−5 = (16/15)^5.  IRQ P1 has only a general
    rate (5 %) which IRN pays too → A = 1."""
    tariffs = pd.DataFrame({"exporter": ["*", "IRN", "*"], "market": ["SYR", "SYR", "IRQ"],
                            "product": ["0101", "0101", "0101"], "rate": [0.10, 0.0, 0.05]})
    res = export_potential(hand_flows(), "IRN", horizon=0, tariffs=tariffs)
    assert cell(res, "SYR", "0101")["access"] == pytest.approx((16 / 15) ** 5)
    assert cell(res, "IRQ", "0101")["access"] == pytest.approx(1.0)
    assert cell(res, "SYR", "0303")["access"] == 1.0
    with pytest.raises(Exception, match="lacks column"):
        export_potential(hand_flows(), "IRN", horizon=0, tariffs=tariffs.drop(columns="rate"))


def test_average_years_smooths_flows():
    """2020 at half the 2021 values, averaged over 2 years: every flow is 0.75 × 2021.  All shares and the
    ease are scale-free, so potential and actual are 0.75 × the single-year ones (horizon 0)."""
    f = hand_flows()
    two = pd.concat([f.assign(year=2020, value_usd=f["value_usd"] / 2), f])
    one = export_potential(f, "IRN", horizon=0, access="none").set_index(["market", "product"])
    avg = export_potential(two, "IRN", horizon=0, access="none", average_years=2).set_index(["market", "product"])
    assert avg.attrs["years_averaged"] == [2020, 2021]
    np.testing.assert_allclose(avg.loc[one.index, "potential"], 0.75 * one["potential"], rtol=1e-12)
    np.testing.assert_allclose(avg.loc[one.index, "actual"], 0.75 * one["actual"], rtol=1e-12)
    np.testing.assert_allclose(avg.loc[one.index, "supply"], one["supply"], rtol=1e-12)
    prov = province_flows()
    prov2 = pd.concat([prov.assign(year=2020, value_usd=prov["value_usd"] / 2), prov])
    p = export_potential(prov2, "IRN", province="Tehran", horizon=0, access="none", average_years=2)
    assert cell(p, "SYR", "0101")["actual"] == pytest.approx(0.75 * 6)
