"""Diversification indices: hand-computed cases, identities, and real fixtures (read in place)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import complete_flows
from tradepulse import schema
from tradepulse.errors import InputError, NoDataError, UnknownNameError
from tradepulse.indicators.diversification import (
    cdp_concentration, hk_margins, hummels_klenow, indices, market_diversification, product_diversification,
    theil_direct, unctad_concentration, unctad_indices,
)
from tradepulse.meta import meta_of

# Comtrade partner codes that are not markets: the world total (kept as WLD for cross-checks),
# "nes" areas and special categories.  S19 ("Other Asia, nes" = Taiwan in Comtrade) IS kept as a market.
COMTRADE_AGGREGATES = {"W00", "_X", "X1", "X2", "XX", "A59", "A79", "E19", "F19", "O19"}


as_flows = complete_flows


# ---------------------------------------------------------------- hand-computed
@pytest.fixture
def toy():
    """Two exporters, universe A–D.  J: A=6, B=2.  K: B=2, C=4, D=2.  World: A 6, B 4, C 4, D 2 (W=16)."""
    return pd.DataFrame({"reporter": ["J", "J", "K", "K", "K"], "product": ["A", "B", "B", "C", "D"],
                         "value_usd": [6, 2, 2, 4, 2.0]})


def test_indices_hand_computed(toy):
    """J: s=(.75,.25); HHI=.625; n=2 → HHI*=(.625−.5)/.5=.25; RCA_A=.75/.375=2, RCA_B=1 → n_rca=2.
    Theil over N=4, μ=2, x/μ=(3,1,0,0): T=¾·ln3; between=ln(4/2); within=½(1.5 ln1.5+.5 ln.5).
    UNCTAD: ½(|.75−.375|+0+.25+.125)=.375.
    K: s=(0,.25,.5,.25); HHI=.375; HHI*=(.375−⅓)/(⅔)=.0625; RCA B=1,C=2,D=2 → 3; T=½ ln2;
    between=ln(4/3); UNCTAD ½(.375+0+.25+.125)=.375.  threshold 2.5 → one product each."""
    r = indices(toy, year=None, threshold=2.5).set_index("reporter")
    j, k = r.loc["J"], r.loc["K"]
    assert (j.n_active, j.n_universe, j.n_rca, j.n_above) == (2, 4, 2, 1)
    assert (k.n_active, k.n_universe, k.n_rca, k.n_above) == (3, 4, 3, 1)
    assert j.hhi == pytest.approx(0.625) and j.hhi_norm == pytest.approx(0.25)
    assert k.hhi == pytest.approx(0.375) and k.hhi_norm == pytest.approx(0.0625)
    assert j.theil == pytest.approx(0.75 * np.log(3))
    assert j.theil_between == pytest.approx(np.log(2))
    assert j.theil_within == pytest.approx(0.5 * (1.5 * np.log(1.5) + 0.5 * np.log(0.5)))
    assert k.theil == pytest.approx(0.5 * np.log(2))
    assert k.theil_between == pytest.approx(np.log(4 / 3))
    assert j.unctad_diversification == pytest.approx(0.375)
    assert k.unctad_diversification == pytest.approx(0.375)


def test_theil_group_decomposition_hand(toy):
    """Groups g1={A,B}, g2={C,D}.  K: S1=.25 (B only, T_g1 = ln2), S2=.75 (C 4, D 2: T_g2 =
    ½(4/3 ln4/3 + 2/3 ln2/3)); within = .25 ln2 + .75 T_g2; between = .25 ln(.25·4/2) + .75 ln(.75·4/2)."""
    r = indices(toy, year=None, groups={"A": 1, "B": 1, "C": 2, "D": 2}).set_index("reporter").loc["K"]
    tg2 = 0.5 * (4 / 3 * np.log(4 / 3) + 2 / 3 * np.log(2 / 3))
    assert r.theil_within_groups == pytest.approx(0.25 * np.log(2) + 0.75 * tg2)
    assert r.theil_between_groups == pytest.approx(0.25 * np.log(0.5) + 0.75 * np.log(1.5))
    assert r.theil_within_groups + r.theil_between_groups == pytest.approx(r.theil, abs=1e-15)


def test_single_product_conventions():
    r = indices(pd.DataFrame({"reporter": ["J", "K"], "product": ["A", "B"], "value_usd": [5.0, 5.0]}),
                year=None).set_index("reporter").loc["J"]
    assert r.hhi == 1 and r.hhi_norm == 1 and r.theil == pytest.approx(np.log(2)) and r.theil_within == 0


def test_hummels_klenow_hand():
    """Cells (M1,p) J4 K6; (M1,q) K2; (M2,p) K4; (M2,q) J2 L8; world 26.
    J, rest of world: served cells' reference 6+8=14, denominator 26−6=20 → EM=.7, IM=6/14, OM=.3.
    J, world: EM=20/26, IM=6/20.  J by market (rest): M1 EM=6/(12−4)=.75, IM=4/6; M2 EM=8/12, IM=2/8."""
    df = pd.DataFrame({"reporter": ["J", "K", "K", "K", "J", "L"], "partner": ["M1", "M1", "M1", "M2", "M2", "M2"],
                       "product": ["p", "p", "q", "p", "q", "q"], "value_usd": [4, 6, 2, 4, 2, 8.0], "year": 2000})
    r = hummels_klenow(df, aggregate="pooled").set_index("reporter")
    assert r.loc["J", "extensive_margin"] == pytest.approx(0.7)
    assert r.loc["J", "intensive_margin"] == pytest.approx(6 / 14)
    assert r.loc["J", "overall_share"] == pytest.approx(0.3)
    assert r.loc["L", "extensive_margin"] == pytest.approx(2 / 18) and r.loc["L", "intensive_margin"] == 4
    w = hummels_klenow(df, reference="world", aggregate="pooled").set_index("reporter").loc["J"]
    assert (w.extensive_margin, w.intensive_margin) == pytest.approx((20 / 26, 0.3))
    m = hummels_klenow(df, by_market=True).set_index(["reporter", "partner"])
    assert m.loc[("J", "M1"), ["extensive_margin", "intensive_margin"]].tolist() == pytest.approx([0.75, 4 / 6])
    assert m.loc[("J", "M2"), ["extensive_margin", "intensive_margin"]].tolist() == pytest.approx([8 / 12, 0.25])
    assert np.allclose(r.extensive_margin * r.intensive_margin, r.overall_share)


def test_random_identities():
    """Property: on random sparse data Theil = within + between exactly (both splits), equals the
    direct formula over the dense universe, and HHI equals numpy's Σ s²."""
    rng = np.random.default_rng(7)
    dense = rng.lognormal(3, 2, size=(30, 80)) * (rng.random((30, 80)) < 0.3)
    dense[:, 0] += 1.0                           # every unit exports something
    u, p = np.nonzero(dense)
    df = pd.DataFrame({"reporter": u, "product": [f"{i:04d}" for i in p], "value_usd": dense[u, p]})
    r = indices(df, year=None, groups=2).set_index("reporter").sort_index()
    universe = dense[:, dense.sum(0) > 0]
    assert np.allclose(r.theil, [theil_direct(row) for row in universe], rtol=1e-12)
    assert np.allclose(r.theil, r.theil_within + r.theil_between, rtol=0, atol=1e-12)
    assert np.allclose(r.theil, r.theil_within_groups + r.theil_between_groups, rtol=0, atol=1e-12)
    s = universe / universe.sum(1, keepdims=True)
    assert np.allclose(r.hhi, (s ** 2).sum(1))
    h = universe.sum(0) / universe.sum()
    assert np.allclose(r.unctad_diversification, 0.5 * np.abs(s - h).sum(1))
    assert np.array_equal(r.n_rca, (s / h >= 1).sum(1))


# ---------------------------------------------------------------- FLOWS wrappers + errors
@pytest.fixture
def flows_small():
    rows = [  # world panel (WLD) and bilateral rows of the same exports; customs rows with provinces
        (2020, "IRN", "WLD", "2709", 80.0, None), (2020, "IRN", "WLD", "5701", 20.0, None),
        (2020, "TUR", "WLD", "5701", 50.0, None), (2020, "TUR", "WLD", "8708", 50.0, None),
        (2020, "IRN", "TUR", "2709", 80.0, "Khuzestan"), (2020, "IRN", "IRQ", "5701", 15.0, "Tehran"),
        (2020, "IRN", "IRQ", "5701", 5.0, "Isfahan"), (2020, "TUR", "IRQ", "5701", 50.0, None),
        (2020, "TUR", "IRN", "8708", 50.0, None),
    ]
    df = pd.DataFrame(rows, columns=["year", "reporter", "partner", "product", "value_usd", "province"])
    return as_flows(df, flow="export", hs_revision="HS2012", source="test")


def test_product_diversification_wld_rule(flows_small):
    """Uses the WLD rows (not WLD + bilateral): IRN s = (.8, .2) → HHI .68; world = 2709 80, 5701 70, 8708 50."""
    r = product_diversification(flows_small, reporter="IRN").iloc[0]
    assert r.total_value == 100 and r.hhi == pytest.approx(0.68) and r.n_universe == 3
    # RCA: h = (.4, .35, .25); 2709 .8/.4 = 2 ≥ 1; 5701 .2/.35 = .57 < 1
    assert r.n_rca == 1


def test_market_diversification_and_province(flows_small):
    """IRN markets from customs rows: TUR 80, IRQ 20 → HHI .68; provinces are separate units."""
    r = market_diversification(flows_small, reporter="IRN").iloc[0]
    assert r.total_value == 100 and r.hhi == pytest.approx(0.68) and r.n_active == 2
    p = market_diversification(flows_small, reporter="IRN", province="Tehran").iloc[0]
    assert p.province == "Tehran" and p.hhi == 1 and p.total_value == 15
    with pytest.raises(UnknownNameError, match="province 'Fars'"):
        market_diversification(flows_small, reporter="IRN", province="Fars")
    with pytest.raises(NoDataError, match="2019"):
        market_diversification(flows_small, reporter="IRN", years=2019)
    with pytest.raises(UnknownNameError, match="product group"):
        product_diversification(flows_small, reporter="IRN", product="widgets")


# ---------------------------------------------------------------- real fixtures
def test_world_trade_2017_product_level(shared_data):
    """world_trade_2017_hs4: IRN 90.83 B USD, 2709 = 41.70 B.  Indices vs direct numpy computations."""
    w = pd.read_parquet(shared_data / "world_trade_2017_hs4.parquet").dropna(subset=["value_usd"])
    flows = as_flows(w.rename(columns={"exporter": "reporter"}), year=2017, partner="WLD", flow="export",
                     hs_revision="UNKNOWN", source="ots")
    r = product_diversification(flows, reporter="IRN").iloc[0]
    assert r.total_value == pytest.approx(90_833_257_951)
    irn = w[w.exporter == "IRN"].set_index("product").value_usd
    s = irn / irn.sum()
    assert s["2709"] == pytest.approx(41.70e9 / 90.833e9, rel=1e-3)
    assert r.hhi == pytest.approx(float((s.to_numpy() ** 2).sum()), rel=1e-12)
    universe = w.groupby("product").value_usd.sum()
    dense = irn.reindex(universe.index, fill_value=0.0).to_numpy()
    assert r.n_universe == len(universe) == 1222
    assert r.theil == pytest.approx(theil_direct(dense), rel=1e-12)
    assert r.theil_within + r.theil_between == pytest.approx(r.theil, abs=1e-12)
    h = universe / universe.sum()
    assert r.unctad_diversification == pytest.approx(0.5 * np.abs(dense / dense.sum() - h.to_numpy()).sum())
    assert r.n_rca == int(((s / h.reindex(s.index)) >= 1).sum())
    # Oil dependence (2709 ≈ 46 % of exports) makes Iran more concentrated than the median exporter
    allr = product_diversification(flows, groups=2)
    assert r.hhi > allr.hhi.median() and r.hhi >= s["2709"] ** 2
    assert np.allclose(allr.theil, allr.theil_within_groups + allr.theil_between_groups, atol=1e-12)


@pytest.fixture(scope="module")
def comtrade_flows(shared_data):
    c = pd.read_parquet(shared_data / "comtrade_partner_totals_2014_2022.parquet")
    c = c[~c.partner.isin(COMTRADE_AGGREGATES - {"W00"})].copy()
    c["partner"] = c["partner"].replace({"W00": "WLD"})
    c["product"] = "TOTAL"
    c["year"] = c["year"].astype("int64")
    return as_flows(c[["year", "reporter", "partner", "product", "value_usd"]], flow="export",
                    hs_revision="UNKNOWN", source="comtrade")


def test_comtrade_market_diversification(comtrade_flows):
    """TUR 2014–2022 market HHI / Theil vs numpy on the raw partner rows; WLD rows never mixed in."""
    r = market_diversification(comtrade_flows, reporter="TUR").set_index("year")
    assert list(r.index) == list(range(2014, 2023))
    bil = comtrade_flows[(comtrade_flows.partner != "WLD") & (comtrade_flows.reporter != comtrade_flows.partner)]
    for year in (2016, 2020):
        x = bil[(bil.reporter == "TUR") & (bil.year == year)].value_usd.to_numpy()
        assert r.loc[year, "hhi"] == pytest.approx(((x / x.sum()) ** 2).sum(), rel=1e-12)
        yr = bil[bil.year == year]
        universe = yr.groupby("partner").value_usd.sum().index.drop("TUR")   # not its own market
        assert r.loc[year, "n_universe"] == len(universe)
        dense = bil[(bil.reporter == "TUR") & (bil.year == year)].set_index("partner").value_usd \
            .reindex(universe, fill_value=0.0).to_numpy()
        assert r.loc[year, "theil"] == pytest.approx(theil_direct(dense), rel=1e-12)
    wld = comtrade_flows[(comtrade_flows.partner == "WLD") & (comtrade_flows.reporter == "TUR")].set_index("year")
    ratio = r.total_value / wld.value_usd
    assert ratio.loc[2016] == pytest.approx(0.47, abs=0.01)      # the documented TUR 2016 quirk
    assert ratio.drop([2016, 2021]).between(0.99, 1.0 + 1e-9).all()
    # fixture quirk found here: TUR 2021 has only 34 partner rows and no World (W00) row
    assert 2021 not in wld.index and r.loc[2021, "n_active"] <= 34
    assert np.allclose(r.theil, r.theil_within + r.theil_between, atol=1e-12)
    # IRN is a reporter 2014–2018 only; later years have no data for it
    irn = market_diversification(comtrade_flows, reporter="IRN", years="2014-2018")
    n_rows = bil[bil.reporter == "IRN"].groupby("year").size()
    assert irn.n_active.tolist() == n_rows.tolist() and irn.n_active.between(120, 152).all()
    with pytest.raises(NoDataError, match="years with data: 2014–2018"):
        market_diversification(comtrade_flows, reporter="IRN", years="2020")
    with pytest.raises(NoDataError, match="SYR"):
        market_diversification(comtrade_flows, reporter="SYR")


def test_comtrade_hk_market_margins(comtrade_flows):
    """HK with markets as cells: EM × IM = overall share, and (reference = rest of world)
    EM_j = 1 − Σ_{m not served by j} W_m / (W − X_j), checked for DEU and IRN with plain pandas."""
    m = hk_margins(comtrade_flows, years=2017, use_products=False).set_index("reporter")
    assert np.allclose(m.extensive_margin * m.intensive_margin, m.overall_share)
    assert m.extensive_margin.between(0, 1).all()
    b = comtrade_flows[(comtrade_flows.year == 2017) & (comtrade_flows.partner != "WLD")
                       & (comtrade_flows.reporter != comtrade_flows.partner)]
    w_m = b.groupby("partner").value_usd.sum()
    for j in ("DEU", "IRN"):
        served = set(b[b.reporter == j].partner)
        x_j = b[b.reporter == j].value_usd.sum()
        em = 1 - w_m[~w_m.index.isin(served)].sum() / (w_m.sum() - x_j)
        assert m.loc[j, "extensive_margin"] == pytest.approx(em, rel=1e-12)
    assert m.loc["DEU", "extensive_margin"] > 0.9   # Germany serves every market but itself
    assert m.overall_share.sum() > 1   # reference = rest of world, so shares do not sum to 1


def test_hk_margins_in_the_database_equal_the_pandas_margins(tmp_warehouse, shared_data, tmp_path):
    """hk_margins sums the cells in the database year by year (no detail rows in pandas); the result equals
    hummels_klenow on the same bilateral cells summed in pandas — real BACI sample (2021, HS6) loaded twice
    as two years, for the HK 2005 markets mean, the pooled form and the per-market margins."""
    from tradepulse.ingest import ingest_file
    text = (shared_data / "baci_sample.csv").read_text()
    (tmp_path / "y2020.csv").write_text(text.replace("\n2021,", "\n2020,"))
    ingest_file(tmp_warehouse, shared_data / "baci_sample.csv", "baci")
    ingest_file(tmp_warehouse, tmp_path / "y2020.csv", "baci")
    b = tmp_warehouse.raw.execute("SELECT year, reporter, partner, product, sum(value_usd) AS value_usd FROM flows "
                                  "WHERE reporter <> partner GROUP BY ALL").df()
    for aggregate, by_market in (("markets", False), ("pooled", False), ("markets", True)):
        want = hummels_klenow(b, aggregate=aggregate, by_market=by_market)
        got = hk_margins(tmp_warehouse, aggregate=aggregate, by_market=by_market)
        keys = [c for c in ("year", "partner", "reporter") if c in want]
        assert len(got) == len(want) >= 4 and set(got.year) == {2020, 2021}
        pd.testing.assert_frame_equal(got.sort_values(keys).reset_index(drop=True)[list(want.columns)],
                                      want.sort_values(keys).reset_index(drop=True), check_dtype=False,
                                      rtol=1e-9)


def _spy_focus(monkeypatch) -> list:
    """Record the calls of the focus path of hk_margins (so that a test knows which path it checked)."""
    from tradepulse.indicators import diversification as dv
    calls, real = [], dv._hk_focus_sql
    monkeypatch.setattr(dv, "_hk_focus_sql", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def test_hk_focus_path_equals_the_all_exporters_path(tmp_warehouse, shared_data, tmp_path, monkeypatch):
    """Issue 19: with --reporter only the reporter's cells are joined to their reference values and the world
    per market is a plain sum of the rows; the margins equal those of the all-exporters path (every exporter's
    served sums, year by year) and hummels_klenow on the cells summed in pandas, for every form of the
    margins — real BACI sample (2021, HS6) loaded slim as 2021 and, with other values, as 2020."""
    from tradepulse.ingest import ingest_file
    lines = (shared_data / "baci_sample.csv").read_text().splitlines()
    # 2020: every third row's value halved, every fifth row left out (other served sets than 2021)
    y2020 = [lines[0]] + [ln.replace("2021,", "2020,", 1) if i % 3 else _halve(ln.replace("2021,", "2020,", 1))
                          for i, ln in enumerate(lines[1:]) if i % 5]
    (tmp_path / "y2020.csv").write_text("\n".join(y2020) + "\n")
    ingest_file(tmp_warehouse, shared_data / "baci_sample.csv", "baci")
    ingest_file(tmp_warehouse, tmp_path / "y2020.csv", "baci")
    b = tmp_warehouse.raw.execute("SELECT year, reporter, partner, product, sum(value_usd) AS value_usd FROM flows "
                                  "WHERE reporter <> partner GROUP BY ALL").df()
    calls = _spy_focus(monkeypatch)
    forms = [dict(), dict(weights="reference"), dict(reference="world"), dict(aggregate="pooled"),
             dict(by_market=True), dict(by_market=True, reference="world"), dict(use_products=False),
             dict(level=2)]
    for form in forms:
        every = hk_margins(tmp_warehouse, **form)
        oracle = hummels_klenow(b.assign(product=b["product"].str[:form.get("level", 6)]),
                                product=None if form.get("use_products") is False else "product",
                                **{k: v for k, v in form.items() if k not in ("use_products", "level")})
        for reporter in ("AFG", "ZAF,AFG"):
            n = len(calls)
            got = hk_margins(tmp_warehouse, reporter=reporter, **form)
            assert len(calls) == n + 1, "the focus path was not taken"
            keys = [c for c in ("year", "reporter", "partner") if c in got]
            reps = reporter.split(",")
            for want in (every, oracle):
                want = want[want["reporter"].isin(reps)].sort_values(keys).reset_index(drop=True)
                assert len(got) == len(want) >= 2 and set(got.year) == {2020, 2021}
                pd.testing.assert_frame_equal(got[list(want.columns)], want, check_dtype=False, rtol=1e-12)


def _halve(line: str) -> str:
    t, i, j, k, v, q = line.split(",", 5)
    return ",".join([t, i, j, k, repr(float(v) / 2), q])


def test_hk_focus_path_many_exporters_and_negative_values(shared_data, monkeypatch):
    """agtpa gravity (69 exporters × markets, 21 years, a frame): IRN's margins by the focus path equal the
    all-exporters path and hummels_klenow; with negative values (a plain sum of the rows is then not the sum of
    the positive cells) the focus path gives way to the cell-by-cell path, and the margins still agree."""
    a = pd.read_parquet(shared_data / "agtpa_gravity_1986_2006.parquet")
    a = a[a.exporter != a.importer]
    df = pd.DataFrame({"year": a.year.astype("int64"), "reporter": a.exporter, "partner": a.importer,
                       "product": "MANUF", "value_usd": a.trade * 1e6})
    neg = df.copy()
    neg.loc[neg.index[::7], "value_usd"] *= -1   # one row in seven negative: those cells are not served
    # one market whose rows sum below 0 while TUR still serves it (its world total is that of its positive cells)
    tur = df[(df.year == 2000) & (df.reporter == "TUR")].sort_values("value_usd").partner.iloc[-1]
    mk = df[(df.year == 2000) & (df.partner == tur)]
    one = mk[~mk.reporter.isin(["TUR", "IRN"])].index[0]
    sunk = df.copy()
    sunk.loc[one, "value_usd"] = -(mk.value_usd.sum() + 1.0)
    from tradepulse.indicators import diversification as dv
    calls, cell_by_cell, real = _spy_focus(monkeypatch), [], dv._hk_served_sql
    monkeypatch.setattr(dv, "_hk_served_sql", lambda *a, **k: cell_by_cell.append(1) or real(*a, **k))
    for frame, fallback in ((df, False), (neg, True), (sunk, True)):
        flows = as_flows(frame, flow="export", hs_revision="UNKNOWN", source="agtpa")
        n = len(calls)
        got = hk_margins(flows, reporter="IRN,TUR", use_products=False)
        assert len(calls) == n + 1 and bool(cell_by_cell) == fallback, "not the path this case checks"
        every = hk_margins(flows, use_products=False)
        oracle = hummels_klenow(frame, product=None)
        cell_by_cell.clear()
        for want in (every, oracle):
            want = want[want["reporter"].isin(["IRN", "TUR"])].sort_values(["year", "reporter"])
            pd.testing.assert_frame_equal(got[list(want.columns)], want.reset_index(drop=True),
                                          check_dtype=False, rtol=1e-12)
    assert (neg.value_usd < 0).any() and not np.allclose(
        hk_margins(as_flows(neg, flow="export", hs_revision="UNKNOWN", source="agtpa"), reporter="IRN",
                   use_products=False).extensive_margin,
        hk_margins(as_flows(df, flow="export", hs_revision="UNKNOWN", source="agtpa"), reporter="IRN",
                   use_products=False).extensive_margin)


def test_agtpa_market_diversification(shared_data):
    """agtpa (millions USD → USD, domestic pairs dropped, zeros ignored): IRN exports 4,883.3 M (2006)."""
    a = pd.read_parquet(shared_data / "agtpa_gravity_1986_2006.parquet")
    a = a[a.exporter != a.importer]
    df = pd.DataFrame({"year": a.year.astype("int64"), "reporter": a.exporter, "partner": a.importer,
                       "product": "MANUF", "value_usd": a.trade * 1e6})
    flows = as_flows(df, flow="export", hs_revision="UNKNOWN", source="agtpa")
    r = market_diversification(flows, reporter="IRN").set_index("year")
    assert len(r) == 21
    assert r.loc[1986, "total_value"] / 1e6 == pytest.approx(555.0, abs=0.1)
    assert r.loc[2006, "total_value"] / 1e6 == pytest.approx(4883.3, abs=0.1)
    x = a[(a.exporter == "IRN") & (a.year == 2006) & (a.trade > 0)].trade.to_numpy()
    assert r.loc[2006, "hhi"] == pytest.approx(((x / x.sum()) ** 2).sum(), rel=1e-12)
    assert r.loc[2006, "n_active"] == len(x)
    # issue 21 regression: 69 countries, IRN serves all 68 others in 2006 → between-Theil ln(68/68) = 0
    # (it was ln(69/68) = 0.0146 while IRN counted as one of its own possible markets)
    assert r.loc[2006, "n_universe"] == 68 and r.loc[2006, "theil_between"] == 0
    assert np.allclose(r.theil, r.theil_within + r.theil_between, atol=1e-12)
    hk = hk_margins(flows, reporter="IRN", use_products=False)
    assert len(hk) == 21 and np.allclose(hk.extensive_margin * hk.intensive_margin, hk.overall_share)


@pytest.fixture(scope="module")
def demo_small():
    """The small SYNTHETIC demo world: world panel + bilateral rows + the focus country's customs rows."""
    from tradepulse.demo.world import generate

    w = generate(n_countries=40, n_products=150, first_year=2014, last_year=2023)
    flows = pd.concat([w.flows, w.customs], ignore_index=True)
    flows["load_id"] = None
    return flows[list(schema.FLOWS)], w


def test_demo_partner_group_and_province(demo_small):
    """IRN exports to neighbours15 by product (2021–2023, bilateral layer) equal the generator's summary;
    HHI equals numpy on the customs rows; a province's indices use only its own rows."""
    flows, w = demo_small
    meta = pd.DataFrame(w.meta["focus_by_year"]).set_index("year")
    r = product_diversification(flows, reporter="IRN", partner="neighbours15", years="2021-2023").set_index("year")
    assert np.allclose(r.total_value, meta.loc[2021:2023, "exports_neighbours_usd"], rtol=1e-9)
    c = w.customs
    nb = c[(c.flow == "export") & (c.year == 2022) & c.partner.isin(
        ["AFG", "ARM", "AZE", "BHR", "IRQ", "KAZ", "KWT", "OMN", "PAK", "QAT", "RUS", "SAU", "TUR", "TKM", "ARE"])]
    x = nb.groupby("product").value_usd.sum()
    assert r.loc[2022, "hhi"] == pytest.approx(((x / x.sum()) ** 2).sum(), rel=1e-9)
    assert r.loc[2022, "theil_within"] + r.loc[2022, "theil_between"] == pytest.approx(r.loc[2022, "theil"])
    prov = c.province.dropna().iloc[0]
    p = market_diversification(flows, reporter="IRN", province=prov, years=2016).iloc[0]
    y = c[(c.flow == "export") & (c.year == 2016) & (c.province == prov)].groupby("partner").value_usd.sum()
    assert p.province == prov and p.total_value == pytest.approx(y.sum())
    assert p.hhi == pytest.approx(((y / y.sum()) ** 2).sum()) and p.n_active == len(y)
    cg = product_diversification(flows, reporter="IRN", product="carpets", years=2023).iloc[0]
    assert cg.n_universe <= 2 and cg.n_active <= 2          # HS 5701, 5702 only


# ---------------------------------------------------------------- properties (hypothesis)
from hypothesis import given, settings, strategies as st  # noqa: E402


@st.composite
def sparse_panels(draw):
    n_units = draw(st.integers(1, 6))
    n_items = draw(st.integers(1, 12))
    vals = draw(st.lists(st.integers(0, 10**9), min_size=n_units * n_items, max_size=n_units * n_items))
    m = np.array(vals, dtype="float64").reshape(n_units, n_items) / 100    # USD with cents
    m[:, 0] += 1.0                               # every unit exports something
    u, i = np.nonzero(m)
    return pd.DataFrame({"reporter": u, "product": [f"{k:02d}{k % 3}" for k in i], "value_usd": m[u, i]}), m


@settings(max_examples=25, deadline=None)
@given(sparse_panels(), st.floats(1e-3, 1e3))
def test_properties(panel, scale):
    """Theil = within + between (both splits) = the direct formula; 0 ≤ HHI* ≤ 1, 1/n ≤ HHI ≤ 1,
    0 ≤ UNCTAD < 1; all indices are invariant to the currency unit (scaling every value)."""
    df, m = panel
    r = indices(df, year=None, groups=3).set_index("reporter").sort_index()
    universe = m[:, m.sum(0) > 0]
    assert np.allclose(r.theil, [theil_direct(row) for row in universe], rtol=1e-9, atol=1e-12)
    assert np.allclose(r.theil, r.theil_within + r.theil_between, atol=1e-9)
    assert np.allclose(r.theil, r.theil_within_groups + r.theil_between_groups, atol=1e-9)
    assert ((r.hhi_norm >= -1e-12) & (r.hhi_norm <= 1 + 1e-12)).all()
    assert ((r.hhi >= 1 / r.n_active - 1e-12) & (r.hhi <= 1 + 1e-12)).all()
    assert ((r.unctad_diversification >= -1e-12) & (r.unctad_diversification < 1)).all()
    s = indices(df.assign(value_usd=df.value_usd * scale), year=None, groups=3).set_index("reporter").sort_index()
    for col in ("hhi", "hhi_norm", "theil", "theil_within", "theil_between", "unctad_diversification"):
        assert np.allclose(r[col], s[col], rtol=1e-9, atol=1e-12)
    assert (r.n_rca == s.n_rca).all()


def test_comtrade_market_regions(comtrade_flows):
    """Theil of TUR's 2018 markets split between / within regions (atlas-common-data regions); the between
    part checked by hand: Σ_g S_g ln(S_g N / N_g) over the reporting world's market universe."""
    from tradepulse.indicators.diversification import market_regions

    r = market_diversification(comtrade_flows, reporter="TUR", years=2018, groups="region").iloc[0]
    assert r.theil_within_groups + r.theil_between_groups == pytest.approx(r.theil, abs=1e-12)
    regions = market_regions("region")
    assert regions["IRN"] == "Asia" and regions["DEU"] == "Europe"
    b = comtrade_flows[(comtrade_flows.year == 2018) & (comtrade_flows.partner != "WLD")
                       & (comtrade_flows.reporter != comtrade_flows.partner)]
    universe = pd.Series(b.partner.unique())
    universe = universe[universe != "TUR"]          # a reporter is not its own market (issue 21)
    n_g = universe.map(regions).fillna("(other)").value_counts()
    x = b[b.reporter == "TUR"].groupby("partner").value_usd.sum()
    s_g = x.groupby(x.index.map(lambda c: regions.get(c, "(other)"))).sum() / x.sum()
    between = float((s_g * np.log(s_g * len(universe) / n_g.reindex(s_g.index))).sum())
    assert r.theil_between_groups == pytest.approx(between, rel=1e-10)
    with pytest.raises(UnknownNameError, match="region kind"):
        market_diversification(comtrade_flows, reporter="TUR", years=2018, groups="planets")


# ---------------------------------------------------------------- issue 21: reference forms
def test_hummels_klenow_per_market_geometric_hand():
    """Geometric aggregate with weights="reference" (same toy as above): J serves M1 (EM .75, IM 4/6, rest's exports 12−4 = 8) and
    M2 (EM 8/12, IM 2/8, rest 14−2 = 12).  Weights 8/20, 12/20: EM = .75^.4 (2/3)^.6, IM = (2/3)^.4 .25^.6,
    OM = EM·IM = (4/8)^.4 (2/12)^.6.  L serves only M2: EM = 8/(14−8) ... = its per-market margins."""
    df = pd.DataFrame({"reporter": ["J", "K", "K", "K", "J", "L"], "partner": ["M1", "M1", "M1", "M2", "M2", "M2"],
                       "product": ["p", "p", "q", "p", "q", "q"], "value_usd": [4, 6, 2, 4, 2, 8.0], "year": 2000})
    r = hummels_klenow(df, weights="reference").set_index("reporter")
    j = r.loc["J"]
    assert j.extensive_margin == pytest.approx(0.75 ** 0.4 * (2 / 3) ** 0.6, rel=1e-12)
    assert j.intensive_margin == pytest.approx((4 / 6) ** 0.4 * 0.25 ** 0.6, rel=1e-12)
    assert j.overall_share == pytest.approx((4 / 8) ** 0.4 * (2 / 12) ** 0.6, rel=1e-12)
    assert j.overall_share == pytest.approx(j.extensive_margin * j.intensive_margin, rel=1e-12)
    assert (j.n_markets, j.n_markets_unserved) == (2, 0)
    m2 = hummels_klenow(df, by_market=True).set_index(["reporter", "partner"]).loc[("L", "M2")]
    r = hummels_klenow(df).set_index("reporter")                     # default weights: one market, same
    lrow = r.loc["L"]
    assert (lrow.extensive_margin, lrow.intensive_margin) == pytest.approx((m2.extensive_margin,
                                                                           m2.intensive_margin))
    assert lrow.n_markets == 1 and lrow.n_markets_unserved == 1      # L does not reach M1


def _log_mean(a: float, b: float) -> float:
    return a if a == b else (a - b) / (np.log(a) - np.log(b))


def test_hummels_klenow_logmean_weights_hand():
    """HK 2005 (AER 95(3), section I) aggregate as documented in docs/indicators.md ("Source status"): EM_j = Π_m EM_jm^a_jm,
    a_jm = L(s_jm, s_km) / Σ_m L(s_jm, s_km), L the logarithmic mean (Sato 1976, Vartia 1976), s_jm = X_jm/X_j,
    s_km = X_km/X_k over the markets m ≠ j.  Toy of test_hummels_klenow_hand plus K → J 10 (J's own market,
    excluded from J's s_km).  J: X_J,M1 = 4, X_J,M2 = 2 → s_J = (2/3, 1/3); rest of world k: X_k,M1 = 12 − 4 = 8,
    X_k,M2 = 14 − 2 = 12 → s_k = (.4, .6).  L(2/3, .4) = (4/15)/ln(5/3) = .52203, L(1/3, .6) = .45368,
    a = (.53503, .46497); EM = .75^a1 (2/3)^a2 = .71003, IM = (4/6)^a1 (2/8)^a2, OM = (4/8)^a1 (2/12)^a2."""
    df = pd.DataFrame({"reporter": ["J", "K", "K", "K", "J", "L", "K"],
                       "partner": ["M1", "M1", "M1", "M2", "M2", "M2", "J"],
                       "product": ["p", "p", "q", "p", "q", "q", "p"], "value_usd": [4, 6, 2, 4, 2, 8.0, 10],
                       "year": 2000})
    l1, l2 = _log_mean(2 / 3, 0.4), _log_mean(1 / 3, 0.6)
    assert (l1, l2) == pytest.approx((0.52203, 0.45368), abs=5e-6)
    a1, a2 = l1 / (l1 + l2), l2 / (l1 + l2)
    j = hummels_klenow(df).set_index("reporter").loc["J"]
    assert j.extensive_margin == pytest.approx(0.75 ** a1 * (2 / 3) ** a2, rel=1e-12)
    assert j.extensive_margin == pytest.approx(0.71003, abs=5e-6)
    assert j.intensive_margin == pytest.approx((4 / 6) ** a1 * 0.25 ** a2, rel=1e-12)
    assert j.overall_share == pytest.approx((4 / 8) ** a1 * (2 / 12) ** a2, rel=1e-12)
    assert j.overall_share == pytest.approx(j.extensive_margin * j.intensive_margin, rel=1e-12)
    # "world" reference keeps J in k: X_k = (12, 14), s_k = (12/26, 14/26)
    w = hummels_klenow(df, reference="world").set_index("reporter").loc["J"]
    b1, b2 = _log_mean(2 / 3, 12 / 26), _log_mean(1 / 3, 14 / 26)
    assert w.extensive_margin == pytest.approx((10 / 12) ** (b1 / (b1 + b2)) * (10 / 14) ** (b2 / (b1 + b2)),
                                               rel=1e-12)
    with pytest.raises(InputError, match="weights"):
        hummels_klenow(df, weights="gdp")


def test_unctad_concentration_formula_and_bounds():
    """UNCTAD/STAT/IE/2019/2 p. 4: H = (√HHI − √(1/N))/(1 − √(1/N)); 1 = a single product, 0 = all N
    products in equal shares.  Two of N = 261 products at .75/.25: HHI = .625."""
    assert unctad_concentration(1.0, 261) == pytest.approx(1.0)
    assert unctad_concentration(1 / 261, 261) == pytest.approx(0.0, abs=1e-15)
    r = np.sqrt(1 / 261)
    assert unctad_concentration(0.625, 261) == pytest.approx((np.sqrt(0.625) - r) / (1 - r), rel=1e-15)
    # the normalised HHI is a different index: (.625 − ½)/(1 − ½) = .25 on the same exports
    toy = pd.DataFrame({"reporter": ["J", "J", "K"], "product": ["A", "B", "C"], "value_usd": [3.0, 1.0, 9.0]})
    out = indices(toy, year=None, universe_size=261).set_index("reporter").loc["J"]
    assert out.hhi_norm == pytest.approx(0.25)
    assert out.unctad_concentration == pytest.approx((np.sqrt(0.625) - r) / (1 - r))


def test_market_universe_excludes_the_reporter():
    """Regression (issue 21): A, B, C each export to the other two; A's universe is {B, C}, not {A, B, C}:
    equal exports to B and C → between-Theil ln(2/2) = 0 (it was ln(3/2)), Theil 0, UNCTAD concentration 0."""
    df = pd.DataFrame({"reporter": list("AABBCC"), "partner": list("BCACAB"), "value_usd": [5.0] * 6})
    r = indices(df, year=None, item="partner", exclude_self=True).set_index("reporter").loc["A"]
    assert r.n_universe == 2 and r.theil_between == 0 and r.theil == pytest.approx(0, abs=1e-15)
    assert r.unctad_concentration == pytest.approx(0, abs=1e-15)
    assert r.unctad_diversification == pytest.approx(0, abs=1e-15)   # world without A: B, C at ½ each
    old = indices(df, year=None, item="partner").set_index("reporter").loc["A"]
    assert old.theil_between == pytest.approx(np.log(3 / 2))


def test_cdp_concentration_hand():
    """Bruckner (2023, CDP BP 59): Theil over product × market cells, T = ln N + Σ s ln s.
    J exports p→M1 6, q→M2 2 (markets in the data: M1, M2, J — J is not its own market, N_M = 2;
    products p, q: N_P = 2; N = 4): T = ln 4 + .75 ln .75 + .25 ln .25; T_products = ln 2 + same sum."""
    df = pd.DataFrame({"reporter": ["J", "J", "K", "K"], "partner": ["M1", "M2", "J", "M1"],
                       "product": ["p", "q", "p", "q"], "value_usd": [6.0, 2.0, 1.0, 1.0]})
    r = cdp_concentration(df, year=None).set_index("reporter").loc["J"]
    sls = 0.75 * np.log(0.75) + 0.25 * np.log(0.25)
    assert (r.n_products_universe, r.n_markets_universe) == (2, 2)
    assert r.cdp_concentration == pytest.approx(np.log(4) + sls, rel=1e-14)
    assert r.cdp_concentration_norm == pytest.approx((np.log(4) + sls) / np.log(4), rel=1e-14)
    assert r.theil_products == pytest.approx(np.log(2) + sls) and r.theil_markets == pytest.approx(np.log(2) + sls)
    # direct Theil over the dense 2 × 2 cell grid
    assert r.cdp_concentration == pytest.approx(theil_direct(np.array([6.0, 0, 0, 2.0])), rel=1e-14)


def test_unctad_indices_sitc3_real(shared_data):
    """IRN 2017 (world_trade_2017_hs4) on SITC Rev.3 3-digit: conversion keeps value; H and S match a
    direct numpy computation from the converted shares; the HS4 approximation is reported in meta."""
    from tradepulse.reference import sitc
    w = pd.read_parquet(shared_data / "world_trade_2017_hs4.parquet").dropna(subset=["value_usd"])
    flows = as_flows(w.rename(columns={"exporter": "reporter"}), year=2017, partner="WLD", flow="export",
                     hs_revision="HS1992", source="ots")
    r = unctad_indices(flows, reporter="IRN").iloc[0]
    assert any("HS4" in m for m in meta_of(unctad_indices(flows, reporter="IRN")).warnings)
    wt = sitc.hs_to_sitc3("HS1992", 4)
    irn = w[w.exporter == "IRN"].merge(wt, left_on="product", right_on="source")
    x = (irn.value_usd * irn.weight).groupby(irn.target).sum()
    assert r.total_value == pytest.approx(x.sum(), rel=1e-12)
    assert x.sum() == pytest.approx(w[w.exporter == "IRN"].value_usd.sum(), rel=2e-3)   # 9999 etc. unmapped
    s = x / x.sum()
    hhi = float((s ** 2).sum())
    assert r.unctad_concentration == pytest.approx((np.sqrt(hhi) - np.sqrt(1 / 261)) / (1 - np.sqrt(1 / 261)))
    ww = w.merge(wt, left_on="product", right_on="source")
    hw = (ww.value_usd * ww.weight).groupby(ww.target).sum()
    h = hw / hw.sum()
    assert r.unctad_diversification == pytest.approx(0.5 * np.abs(s.reindex(h.index, fill_value=0) - h).sum())
    # crude oil (SITC 333) dominates: IRN is more concentrated than the median exporter (H = 0.436 here)
    allr = unctad_indices(flows)
    assert r.unctad_concentration > allr.unctad_concentration.median()
    assert 0 < r.n_products_unctad <= r.n_sitc3_active <= 261


def test_cli_unctad_cdp_and_hk_aggregate(tmp_path, monkeypatch):
    """`tradepulse indicators diversification --over unctad|cdp|hk`: the written table equals the API and
    the table fits an 80-column terminal."""
    from typer.testing import CliRunner

    from tradepulse.cli import app, common
    monkeypatch.setattr(common.console, "width", 80)
    from tradepulse.indicators.diversification import cdp_export_concentration
    from tradepulse.warehouse import Warehouse

    rows = [(2020, "IRN", "TUR", "270900", 60.0), (2020, "IRN", "IRQ", "570110", 20.0),
            (2020, "TUR", "IRQ", "870321", 50.0), (2020, "TUR", "IRN", "570110", 10.0),
            (2020, "IRQ", "TUR", "270900", 30.0)]
    df = as_flows(pd.DataFrame(rows, columns=["year", "reporter", "partner", "product", "value_usd"]),
                  flow="export", hs_revision="HS2017", source="test")
    path = tmp_path / "wh.duckdb"
    with Warehouse(path) as wh:
        wh.raw.register("src", df[list(schema.FLOWS)])
        wh.raw.execute("INSERT INTO flow_rows SELECT * FROM src")
    runner = CliRunner()
    for over, api in (("unctad", unctad_indices), ("cdp", cdp_export_concentration)):
        out = tmp_path / f"{over}.csv"
        r = runner.invoke(app, ["indicators", "diversification", "-w", str(path), "--over", over,
                                "--out", str(out)])
        assert r.exit_code == 0, r.output
        assert max(len(line) for line in r.output.splitlines()) <= 80, r.output
        with Warehouse(path, read_only=True) as wh:
            want = api(wh, reporter="IRN")
        pd.testing.assert_frame_equal(pd.read_csv(out), want, check_dtype=False)
    # IRN: 270900 → SITC 333, 570110 → 659; shares .75/.25 → H = (√.625 − √(1/261))/(1 − √(1/261))
    assert want is not None
    got = pd.read_csv(tmp_path / "unctad.csv").iloc[0]
    r261 = np.sqrt(1 / 261)
    assert got.unctad_concentration == pytest.approx((np.sqrt(0.625) - r261) / (1 - r261))
    r = runner.invoke(app, ["indicators", "diversification", "-w", str(path), "--over", "hk",
                            "--hk-aggregate", "pooled"])
    assert r.exit_code == 0, r.output
