"""Export potential on the real CEPII BACI sample (2021, exporters South Africa and Afghanistan, 211 markets),
read through the BACI reader of :mod:`tradepulse.ingest`.

With only two exporters in the data the supply term has closed forms that an independent pandas
computation reproduces: for a third market j, S_ZAF,k(−j) + S_AFG,k(−j) = 1 whenever either exports k
elsewhere; for market AFG the only other supplier is ZAF itself, so S_ZAF,k(−AFG) = 1 for every product ZAF
exports to some other market.  The ease term satisfies ease_j · Σ_k S⁰·M·A = actual_j.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from tradepulse.indicators.potential import export_potential

# these hand cases check the plain four-term product; the API default is method="itc" (issue 21)
export_potential = functools.partial(export_potential, method="basic")


@pytest.fixture(scope="module")
def baci_wh(shared_data, tmp_path_factory):
    from tradepulse.ingest import ingest_file
    from tradepulse.warehouse import Warehouse
    wh = Warehouse(tmp_path_factory.mktemp("baci") / "wh.duckdb")
    res = ingest_file(wh, shared_data / "baci_sample.csv", "baci",
                      country_codes_csv=shared_data / "baci_country_codes_V202201.csv")
    assert res.rows_loaded == 71_192
    yield wh
    wh.close()


@pytest.fixture(scope="module")
def flows(baci_wh) -> pd.DataFrame:
    return baci_wh.raw.execute("SELECT reporter, partner, product, value_usd AS v FROM flows "
                               "WHERE reporter <> partner").df()


def test_sample_read_through_baci_reader(flows):
    # PROVENANCE: value sum 69,369,988.138 thousand USD; exporters 710 (ZAF, 68,122 rows) and 4 (AFG, 3,070)
    assert flows["v"].sum() == pytest.approx(69_369_988_138.0, rel=1e-12)
    assert flows.groupby("reporter").size().to_dict() == {"AFG": 3070, "ZAF": 68122}


@pytest.fixture(scope="module")
def zaf(baci_wh):
    return export_potential(baci_wh, "ZAF", horizon=0, keep_zero=True)


@pytest.fixture(scope="module")
def afg(baci_wh):
    return export_potential(baci_wh, "AFG", horizon=0, keep_zero=True)


def test_supply_matches_independent_pandas(zaf, flows):
    """S⁰_ik(−j) = (x_ik − x_ijk) / (X_k − M_jk − X_jk), written out with groupby/merge."""
    x_k = flows[flows.reporter == "ZAF"].groupby("product").v.sum().rename("xk")
    x_jk = flows[flows.reporter == "ZAF"].set_index(["partner", "product"]).v.rename("xjk")
    X_k = flows.groupby("product").v.sum().rename("Xk")
    M_jk = flows.groupby(["partner", "product"]).v.sum().rename("Mjk")
    own_j = flows.groupby(["reporter", "product"]).v.sum().rename("Xjk").rename_axis(["partner", "product"])
    t = zaf.set_index(["market", "product"]).rename_axis(["partner", "product"])[["supply"]]
    t = t.join(x_jk).join(M_jk).join(own_j).join(x_k, on="product").join(X_k, on="product").fillna(0.0)
    den = t.Xk - t.Mjk - t.Xjk
    expect = np.where(den > 0, (t.xk - t.xjk) / den.where(den > 0, 1.0), 0.0)
    np.testing.assert_allclose(t["supply"], expect, rtol=1e-10, atol=1e-15)
    assert len(t) > 500_000  # every product × market cell (keep_zero)


def test_supply_shares_add_to_one_across_the_two_exporters(zaf, afg):
    both = zaf.set_index(["market", "product"])["supply"].to_frame("zaf").join(
        afg.set_index(["market", "product"])["supply"].rename("afg"), how="inner")
    third = both[~both.index.get_level_values("market").isin(["ZAF", "AFG"])]
    served = third[(third.zaf > 0) | (third.afg > 0)]
    np.testing.assert_allclose(served.zaf + served.afg, 1.0, rtol=1e-12)
    assert len(served) > 100_000
    # market AFG: ZAF is the only other supplier → share 1 for everything ZAF sells elsewhere
    in_afg = zaf[(zaf.market == "AFG") & (zaf.supply > 0)]
    np.testing.assert_allclose(in_afg["supply"], 1.0)
    assert len(in_afg) > 4000


def test_ease_identity_and_values(zaf, flows):
    """ease_j = actual_j / Σ_k S⁰·M·A; at horizon 0 the potential to each market sums to actual exports."""
    expected = (zaf.supply * zaf.market_imports * zaf.access).groupby(zaf.market).sum()
    actual = flows[flows.reporter == "ZAF"].groupby("partner").v.sum()
    ease = zaf.groupby("market").ease.first()
    traded = actual.index.intersection(expected[expected > 0].index)
    np.testing.assert_allclose(ease[traded], actual[traded] / expected[traded], rtol=1e-10)
    pot = zaf.groupby("market").potential.sum()
    np.testing.assert_allclose(pot[traded], actual[traded], rtol=1e-9)
    # ZAF supplies almost everything its partners buy from these two countries: ease close to 1 for GBR
    assert 0.9 < ease["GBR"] < 1.1
    assert len(traded) == 210


def test_unrealised_potential_is_non_negative_and_bounded(zaf):
    assert (zaf.unrealised >= 0).all()
    np.testing.assert_allclose(zaf.realised + zaf.unrealised, zaf.potential, rtol=1e-12)
    assert (zaf.realised <= zaf.actual + 1e-6).all()


def test_actual_exports_equal_the_raw_csv(zaf, afg, shared_data):
    """Read the CSV with pandas alone (v in thousand USD, i = 710 ZAF, 4 AFG): the potential table's actual
    exports add up to each exporter's total, and its markets are the importers of the file."""
    raw = pd.read_csv(shared_data / "baci_sample.csv")
    totals = raw.groupby("i")["v"].sum() * 1000
    assert zaf["actual"].sum() == pytest.approx(totals[710], rel=1e-12)
    assert afg["actual"].sum() == pytest.approx(totals[4], rel=1e-12)
    assert zaf.loc[zaf.actual > 0, "market"].nunique() == raw.loc[raw.i == 710, "j"].nunique()


def test_itc_method_caps_and_predicts_ease_on_real_data(baci_wh, zaf):
    """Issue 21: the plain form lets potential exceed the market's demand (here horizon 0, so demand =
    current imports) in many cells; the ITC preset caps every cell at demand and counts them, and markets
    ZAF does not serve yet get a predicted (positive) ease instead of 0."""
    plain_over = int((zaf["potential"] > zaf["demand"] * (1 + 1e-12)).sum())
    assert plain_over > 0.5 * (zaf["potential"] > 0).sum()        # 53,515 cells measured
    itc = export_potential(baci_wh, "ZAF", horizon=0, keep_zero=True, method="itc")
    uncapped = export_potential(baci_wh, "ZAF", horizon=0, keep_zero=True, method="itc", cap="none")
    over = (uncapped["potential"] > uncapped["demand"] * (1 + 1e-12)) & (uncapped["market"] != "ZAF")
    assert itc.attrs["cells_capped"] == int(over.sum()) > 0
    assert (itc["potential"] <= itc["demand"] * (1 + 1e-12)).all()
    unserved = itc.groupby("market")["actual"].sum() == 0
    ease = itc.groupby("market")["ease"].first()
    if unserved.any():
        assert (ease[unserved] > 0).all()
        assert set(itc.loc[itc.market.isin(unserved[unserved].index), "ease_basis"]) <= {"gravity fit",
                                                                                          "mean of observed"}
    assert itc.attrs["access_basis"] == "distance"
