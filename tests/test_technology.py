"""Technology content (Lall) and BEC end-use shares: hand cases, concordance handling, real fixtures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import complete_flows
from tradepulse.errors import InputError, NoDataError, UnknownNameError
from tradepulse.indicators import technology as T
from tradepulse.reference.hs_conversion import atlas_step


as_flows = complete_flows


@pytest.fixture
def lall_csv(tmp_path):
    """A tiny hand-made SITC2→Lall table (not the fixture): 3345 RB2; 7810 MT1; 7764 HT1; 9710 Gold;
    SITC stored without leading zero (11 → 0011) as Stata exports do."""
    p = tmp_path / "lall.csv"
    p.write_text("sitc2,lall_code\n11,PP\n3345,RB2\n7810,MT1\n7764,HT1\n9710,Gold\n")
    return p


def test_lall_sitc_hand(lall_csv):
    """Two years of SITC flows.  2000: 0011 10, 3341 30 (→ RB2 by the 3-digit fallback), 7810 40, 7764 20
    → shares PP .1, RB2 .3, MT1 .4, HT1 .2.  2001: 9710 50 (Gold → unclassified), 7764 50."""
    df = pd.DataFrame({"year": [2000] * 4 + [2001] * 2, "reporter": "IRN", "partner": "WLD", "flow": "export",
                       "product": ["0011", "3341", "7810", "7764", "9710", "7764"],
                       "value_usd": [10, 30, 40, 20, 50, 50.0]})
    r = T.lall_shares(as_flows(df), lall=lall_csv, classification="sitc2")
    s = r.set_index(["year", "lall_code"]).share
    assert s.loc[2000].to_dict() == pytest.approx({"PP": .1, "RB2": .3, "MT1": .4, "HT1": .2})
    assert s.loc[2001].to_dict() == pytest.approx({"HT1": .5, "unclassified": .5})
    assert list(r[r.year == 2000].lall_code) == ["PP", "RB2", "MT1", "HT1"]          # Lall order
    no_fb = T.lall_shares(as_flows(df), lall=lall_csv, classification="sitc2", fallback3=False)
    assert no_fb.set_index(["year", "lall_code"]).share.loc[(2000, "unclassified")] == pytest.approx(.3)


def test_lall_hs_concordance_and_hs4_split(lall_csv, tmp_path):
    """HS6→SITC2 file: 870321→7810, 870322→7810, 870390→7810, 854210→7764, 854220→3345 (made up).
    HS4 8542 (value 100) is split equally over its two HS6 children: 50 HT1 + 50 RB2; HS6 870321 (60) → MT1."""
    conc = tmp_path / "hs_sitc.csv"
    conc.write_text("hs6,sitc2\n870321,7810\n870322,7810\n870390,7810\n854210,7764\n854220,3345\n")
    df = pd.DataFrame({"year": 2020, "reporter": "IRN", "partner": "WLD", "flow": "export",
                       "product": ["8542", "870321"], "value_usd": [100.0, 60.0]})
    r = T.lall_shares(as_flows(df), lall=lall_csv, hs_sitc=conc).set_index("lall_code").value_usd
    assert r.to_dict() == pytest.approx({"RB2": 50, "MT1": 60, "HT1": 50})
    # a weighted concordance: 854210 → 70 % 7764, 30 % 3345
    conc.write_text("hs6,sitc2,weight\n854210,7764,7\n854210,3345,3\n")
    r = T.lall_shares(as_flows(df.iloc[:1].assign(product="854210")), lall=lall_csv, hs_sitc=conc)
    assert r.set_index("lall_code").share.to_dict() == pytest.approx({"RB2": .3, "HT1": .7})


def test_bad_files(tmp_path, lall_csv):
    bad = tmp_path / "bad.csv"
    bad.write_text("sitc,lall\n0011,PP\n")
    with pytest.raises(InputError, match="column 'sitc2'"):
        T.load_lall(bad)
    bad.write_text("sitc2,lall_code\n0011,PP\n77X4,HT1\n")
    with pytest.raises(InputError, match=r"line 3, column 'sitc2'.*77X4"):
        T.load_lall(bad)
    with pytest.raises(InputError, match="file not found"):
        T.load_lall(tmp_path / "nope.csv")
    bad.write_text("hs6,sitc2,weight\n010130,0011,-1\n")
    with pytest.raises(InputError, match="line 2, column 'weight'"):
        T.load_concordance(bad)
    df = as_flows(pd.DataFrame({"year": [2020], "reporter": "IRN", "partner": "WLD", "flow": "export",
                                "product": ["0101"], "value_usd": [1.0]}))
    with pytest.raises(UnknownNameError, match="BEC level"):
        T.bec_shares(df, level="bec9")
    with pytest.raises(UnknownNameError, match="BEC split"):
        T.bec_shares(df, split="random")
    with pytest.raises(NoDataError, match="2019"):
        T.bec_shares(df, years=2019)


def test_bec_split_rule():
    """HS 010130 is listed with BEC 111 (intermediate) and 410 (capital): equal split gives 5 + 5 of 10;
    'first' gives all 10 to 111.  HS 870321 (cars) → 510 → mixed.  HS4 0101 spreads over its HS6 codes."""
    df = as_flows(pd.DataFrame({"year": 2020, "reporter": "IRN", "partner": "WLD", "flow": "export",
                                "product": ["010130", "870321"], "value_usd": [10.0, 30.0]}))
    eq = T.bec_shares(df, level="bec").set_index("bec").value_usd
    assert eq.to_dict() == pytest.approx({"111": 5, "410": 5, "510": 30})
    first = T.bec_shares(df, level="bec", split="first").set_index("bec").value_usd
    assert first.to_dict() == pytest.approx({"111": 10, "510": 30})
    eu = T.bec_shares(df).set_index("end_use").share
    assert eu.to_dict() == pytest.approx({"capital": 5 / 40, "intermediate": 5 / 40, "mixed": 30 / 40})
    b1 = T.bec_shares(df, level="bec1").set_index("bec1").value_usd
    assert b1.to_dict() == pytest.approx({"1": 5, "4": 5, "5": 30})


def test_shipped_bec_table_matches_fixture(shared_data):
    """The shipped table is the MIT fixture's hs6/bec columns.  5,511 rows for 5,386 HS6 codes: the 125
    extra rows belong to 100 codes with several BEC codes (93 with 2; 852359 3; 854231/854232/854239
    with 8 ...), not to 125 codes with two as PROVENANCE.md says; equal split handles any number."""
    fx = pd.read_csv(shared_data / "hs6_to_bec.csv", dtype=str)
    eq = T.bec_table("equal")
    assert len(eq) == len(fx) == 5511
    n = eq.groupby("source").size()
    assert len(n) == 5386 and (n == 2).sum() == 93 and (n > 1).sum() == 100 and n.max() == 8
    assert eq.set_index(["source", "target"]).weight.loc[("854231", "700")] == pytest.approx(1 / 8)
    assert T.bec_table("first").source.is_unique
    assert np.allclose(eq.groupby("source").weight.sum(), 1.0)
    assert set(zip(eq.source, eq.target)) == set(zip(fx.hs6, fx.bec))
    assert set(fx.bec) <= set(T.END_USE)


def test_atlas_concordance_weights():
    """Weights derived from atlas-common-data sum to 1 per HS6 code, for HS1992 and a chained HS2017."""
    for rev in ("HS1992", "HS2017"):
        w = T.atlas_hs_to_sitc2(rev)
        sums = w.groupby("source").weight.sum()
        assert np.allclose(sums, 1.0, atol=1e-9) and len(sums) > 4500
        assert w.target.str.len().max() == 4
    hs92 = T.atlas_hs_to_sitc2("HS1992").set_index(["source", "target"]).weight
    assert hs92.loc[("270900", "3330")] == pytest.approx(1.0)   # crude petroleum


def test_lall_real_sitc_fixture(shared_data):
    """world_trade_avg_1998_2000 (SITC2) with lall_sitc2.csv read in place.  Shares sum to 1; equal to a
    plain pandas merge (without the 3-digit fallback); Korea's high-tech share far above Iran's."""
    s = pd.read_parquet(shared_data / "world_trade_avg_1998_2000_sitc4.parquet")
    flows = as_flows(s.rename(columns={"exporter": "reporter"}), year=1999, partner="WLD", flow="export")
    lall = shared_data / "lall_sitc2.csv"
    r = T.lall_shares(flows, lall=lall, classification="sitc2", fallback3=False)
    assert np.allclose(r.groupby("reporter").share.sum(), 1.0)
    table = pd.read_csv(lall, dtype=str)
    m = s.merge(table[["sitc2", "lall_code"]], left_on="product", right_on="sitc2", how="left")
    m["lall_code"] = m["lall_code"].where(~m.lall_code.isin(["Special", "Gold"]) & m.lall_code.notna(),
                                          "unclassified")
    direct = m.groupby(["exporter", "lall_code"]).value_usd.sum()
    ours = r.set_index(["reporter", "lall_code"]).value_usd
    assert np.allclose(ours.sort_index(), direct.loc[ours.sort_index().index])
    assert len(ours) == len(direct)
    fb = T.lall_shares(flows, lall=lall, classification="sitc2", reporter="IRN,KOR").set_index(["reporter", "lall_code"]).share
    assert fb.loc[("KOR", "HT1")] > 10 * fb.loc[("IRN", "HT1")]
    assert fb.loc[("IRN", "PP")] > 0.5                        # oil exporter


def test_lall_real_hs_two_concordances(shared_data):
    """IRN 2017 HS4 exports: Lall shares via the user's HS96→SITC2 file vs via atlas-derived weights —
    two independent concordances agree within 1 point in every class (crude oil ≈ 46 % of exports)."""
    w = pd.read_parquet(shared_data / "world_trade_2017_hs4.parquet").dropna(subset=["value_usd"])
    w = w[w.exporter == "IRN"]
    flows = as_flows(w.rename(columns={"exporter": "reporter"}), year=2017, partner="WLD", flow="export",
                     hs_revision="UNKNOWN")
    lall = shared_data / "lall_sitc2.csv"
    user = T.lall_shares(flows, lall=lall, hs_sitc=shared_data / "hs96_to_sitc2.csv").set_index("lall_code")
    atlas = T.lall_shares(flows, lall=lall).set_index("lall_code")
    assert user.value_usd.sum() == pytest.approx(90_833_257_951)
    assert atlas.value_usd.sum() == pytest.approx(90_833_257_951)
    assert user.share.loc["PP"] > 0.46 and atlas.share.loc["PP"] > 0.46
    diff = (user.share - atlas.share.reindex(user.index)).abs()
    assert diff.max() < 0.01          # measured: PP 0.599 vs 0.595, largest gap 0.005 (LT2)
    bec = T.bec_shares(flows).set_index("end_use").share
    assert bec.sum() == pytest.approx(1.0) and bec.loc["intermediate"] > 0.46   # crude oil BEC 310


def test_hs_revision_from_rows(tmp_path):
    """The atlas concordance follows the rows' HS revision; mixed revisions are refused (one vintage per
    analysis).  HS 270900 (crude petroleum) → SITC2 3330 → PP under both HS1992 and HS2017."""
    lall = tmp_path / "lall.csv"
    lall.write_text("sitc2,lall_code\n3330,PP\n")
    base = pd.DataFrame({"year": 2020, "reporter": "IRN", "partner": "WLD", "flow": "export",
                         "product": ["270900"], "value_usd": [10.0]})
    for rev in ("HS1992", "HS2017"):
        r = T.lall_shares(as_flows(base, hs_revision=rev), lall=lall)
        assert r.set_index("lall_code").share.to_dict() == pytest.approx({"PP": 1.0})
    mixed = pd.concat([as_flows(base, hs_revision="HS1992"), as_flows(base, hs_revision="HS2017")])
    with pytest.raises(InputError, match="mix HS revisions"):
        T.lall_shares(mixed, lall=lall)
    r = T.lall_shares(mixed, lall=lall, hs_revision="HS2017")
    assert r.value_usd.sum() == pytest.approx(20.0)


# ------------------------------------------------------------------ issue 14: HS revision of BEC, unclassified share
def _zaf_baci(shared_data, revision):
    """South Africa's 2021 exports of the BACI sample (HS6, thousand USD → USD) as world-total rows."""
    b = pd.read_csv(shared_data / "baci_sample.csv")
    b = b[b.i == 710]
    f = pd.DataFrame({"year": 2021, "reporter": "ZAF", "partner": "WLD", "flow": "export",
                      "product": b.k.astype(str).str.zfill(6), "value_usd": b.v * 1000.0})
    f = f.groupby(["year", "reporter", "partner", "flow", "product"], as_index=False).value_usd.sum()
    return as_flows(f, hs_revision=revision)


def test_bec_converts_hs1992_and_reports_unclassified(shared_data):
    """Issue 14: on HS1992 data matched code by code to the HS2017 BEC table, 6.1 % of ZAF's 2021 value
    (petroleum 271000 the largest) was unclassified without a word.  Converted HS1992 → HS2017 through the
    atlas weights, 0.002 % remains (380993, US$ 1.27 M) and the total is conserved (68.69 bn)."""
    from tradepulse.meta import meta_of

    as_is = T.bec_shares(_zaf_baci(shared_data, "HS2017"), level="bec")
    m = meta_of(as_is)
    assert m.coverage["unclassified_share"] == pytest.approx(0.06131, abs=5e-5)
    assert m.warnings[0].startswith("BEC: 6.1% of the value has no class (unclassified); largest: 271000 (1.2%)")
    conv = T.bec_shares(_zaf_baci(shared_data, "HS1992"), level="bec")
    m = meta_of(conv)
    assert conv.value_usd.sum() == pytest.approx(68_691_799_014, rel=1e-12)
    assert m.coverage["unclassified_value_usd"] == pytest.approx(1_274_925) and m.warnings == []
    assert m.coverage["unclassified_share"] < 2e-5 and m.coverage["hs_revision"] == "HS1992"
    # unknown revision: matched as is, and the user is told
    unknown = meta_of(T.bec_shares(_zaf_baci(shared_data, None)))
    assert any("HS revision is unknown" in w for w in unknown.warnings)
    # hs_revision= overrides the rows
    over = T.bec_shares(_zaf_baci(shared_data, None), level="bec", hs_revision="HS1992")
    pd.testing.assert_frame_equal(over, conv)


def test_hs_to_hs_weights_equal_an_independent_merge_chain():
    """HS1992 → HS2017 weights: the sparse composition equals a chain of pandas merges over the atlas
    tables (rescaled per source the same way); every source sums to 1; 271000 goes to 2710xx only."""
    steps = [atlas_step(f"H{k}", f"H{k + 1}") for k in range(5)]
    chain = steps[0]
    for st in steps[1:]:
        chain = chain.merge(st, left_on="target", right_on="source", suffixes=("", "_n"))
        chain = chain.assign(weight=chain.weight * chain.weight_n)[["source", "target_n", "weight"]] \
            .rename(columns={"target_n": "target"}).groupby(["source", "target"], as_index=False).weight.sum()
    chain["weight"] /= chain.groupby("source").weight.transform("sum")
    got = T.atlas_hs_to_hs("HS1992", "HS2017")
    m = got.merge(chain, on=["source", "target"], how="outer", suffixes=("", "_ref")).fillna(0.0)
    np.testing.assert_allclose(m.weight, m.weight_ref, atol=1e-12)
    np.testing.assert_allclose(got.groupby("source").weight.sum(), 1.0, atol=1e-12)
    assert set(got.loc[got.source == "271000", "target"]) <= {c for c in got.target if c.startswith("2710")}
    back = T.atlas_hs_to_hs("HS2017", "HS2012")
    np.testing.assert_allclose(back.groupby("source").weight.sum(), 1.0, atol=1e-12)


def test_lall_reports_unclassified_share(shared_data):
    """Lall shares carry the unclassified share in the meta (IRN 2017, atlas weights), equal to the
    unclassified row's share."""
    from tradepulse.meta import meta_of

    w = pd.read_parquet(shared_data / "world_trade_2017_hs4.parquet").dropna(subset=["value_usd"])
    flows = as_flows(w[w.exporter == "IRN"].rename(columns={"exporter": "reporter"}), year=2017, partner="WLD",
                     flow="export", hs_revision="HS1992")
    r = T.lall_shares(flows, lall=shared_data / "lall_sitc2.csv")
    share = r.set_index("lall_code").share.get("unclassified", 0.0)
    assert meta_of(r).coverage["unclassified_share"] == pytest.approx(share, abs=1e-12)
    assert (share > 0.01) == bool(meta_of(r).warnings)
