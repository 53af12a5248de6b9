"""Trade balance: hand-computed case over the three FLOWS layers, breakdowns, growth, errors, real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradepulse import schema
from tradepulse.errors import NoDataError, UnknownNameError
from tradepulse.indicators.balance import trade_balance


def as_flows(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["year", "reporter", "partner", "flow", "product", "value_usd", "province"])
    for col in schema.FLOWS:
        if col not in df:
            df[col] = None
    df["hs_revision"], df["source"] = "HS2012", "test"
    df["quantity"] = df["quantity"].astype("float64")
    return df[list(schema.FLOWS)]


@pytest.fixture
def flows():
    """IRN.  Exports from the world panel (WLD) AND from customs rows with provinces (same totals, must not
    be added); imports only from customs rows.  2022 is missing (growth must not bridge the gap)."""
    E, I = "export", "import"
    return as_flows([
        (2020, "IRN", "WLD", E, "2709", 100.0, None), (2020, "IRN", "WLD", E, "5701", 20.0, None),
        (2020, "IRN", "TUR", E, "2709", 60.0, "Khuzestan"), (2020, "IRN", "IRQ", E, "2709", 40.0, "Khuzestan"),
        (2020, "IRN", "IRQ", E, "5701", 15.0, "Tehran"), (2020, "IRN", "CHN", E, "5701", 5.0, "Tehran"),
        (2020, "IRN", "TUR", I, "8708", 30.0, "Tehran"), (2020, "IRN", "CHN", I, "8517", 50.0, "Tehran"),
        (2020, "IRN", "IRQ", I, "2710", 10.0, "Khuzestan"),
        (2021, "IRN", "WLD", E, "2709", 150.0, None), (2021, "IRN", "WLD", E, "5701", 30.0, None),
        (2021, "IRN", "TUR", E, "2709", 150.0, "Khuzestan"), (2021, "IRN", "IRQ", E, "5701", 30.0, "Tehran"),
        (2021, "IRN", "TUR", I, "8708", 40.0, "Tehran"), (2021, "IRN", "IRQ", I, "2710", 20.0, "Khuzestan"),
        (2023, "IRN", "WLD", E, "5701", 10.0, None), (2023, "IRN", "CHN", I, "8517", 5.0, "Tehran"),
        (2023, "IRN", "CHN", E, "5701", 10.0, "Tehran"),
        (2020, "TUR", "IRN", E, "8708", 999.0, None),                    # another reporter: ignored
    ])


def test_totals_hand_computed(flows):
    """2020: exports 120 (WLD rows), imports 90 (customs) → balance 30; oil (2709/2710/2711) exports 100,
    imports 10 → non-oil balance 20 − 80 = −60.  2021: 180 / 60 → 120; non-oil 30 − 40 = −10.
    Growth 2021: exports 180/120 − 1 = .5, imports 60/90 − 1 = −⅓, balance change +90.  2023: no growth."""
    r = trade_balance(flows, reporter="IRN").set_index("year")
    assert r.loc[2020, ["exports", "imports", "balance", "non_oil_balance"]].tolist() == [120, 90, 30, -60]
    assert r.loc[2021, ["exports", "imports", "balance", "non_oil_balance"]].tolist() == [180, 60, 120, -10]
    assert r.loc[2020, ["oil_exports", "oil_imports"]].tolist() == [100, 10]
    assert r.loc[2021, "exports_growth"] == pytest.approx(0.5)
    assert r.loc[2021, "imports_growth"] == pytest.approx(-1 / 3)
    assert r.loc[2021, "non_oil_exports_growth"] == pytest.approx(0.5)
    assert r.loc[2021, "balance_change"] == 90 and r.loc[2020, "coverage"] == pytest.approx(120 / 90)
    assert np.isnan(r.loc[2023, "exports_growth"]) and np.isnan(r.loc[2020, "exports_growth"])
    # oil set: all of chapter 27 gives the same here; no oil set → non-oil = total
    r2 = trade_balance(flows, reporter="IRN", oil=None).set_index("year")
    assert (r2.non_oil_balance == r2.balance).all()


def test_breakdowns(flows):
    """By partner 2020 (customs rows): TUR 60/30, IRQ 55/10, CHN 5/50.  neighbours15 = TUR+IRQ: 115/40.
    By province 2020: Khuzestan 100/10, Tehran 20/80.  Product group carpets 2020: 20/0 (WLD rows)."""
    p = trade_balance(flows, reporter="IRN", by="partner", years=2020).set_index("partner")
    assert p.loc[["TUR", "IRQ", "CHN"], "exports"].tolist() == [60, 55, 5]
    assert p.loc[["TUR", "IRQ", "CHN"], "imports"].tolist() == [30, 10, 50]
    assert p.loc["IRQ", "non_oil_balance"] == 15
    g = trade_balance(flows, reporter="IRN", by="partner_group", groups="neighbours15,gcc", years=2020)
    g = g.set_index("group")
    assert g.loc["neighbours15", ["exports", "imports"]].tolist() == [115, 40]
    assert "gcc" not in g.index          # no trade with the GCC
    v = trade_balance(flows, reporter="IRN", by="province", years=2020).set_index("province")
    assert v.loc["Khuzestan", ["exports", "imports"]].tolist() == [100, 10]
    assert v.loc["Tehran", ["exports", "imports"]].tolist() == [20, 80]
    c = trade_balance(flows, reporter="IRN", by="product_group", groups=["carpets", "oil"]).set_index(["group", "year"])
    assert c.loc[("carpets", 2020), ["exports", "imports"]].tolist() == [20, 0]
    assert c.loc[("oil", 2021), ["exports", "imports", "non_oil_balance"]].tolist() == [150, 20, 0]
    assert c.loc[("carpets", 2021), "exports_growth"] == pytest.approx(0.5)
    # a restriction and a breakdown together: Tehran province only, by partner
    t = trade_balance(flows, reporter="IRN", province="Tehran", by="partner", years=2020).set_index("partner")
    assert t.loc["CHN", "balance"] == -45


def test_errors(flows):
    with pytest.raises(UnknownNameError, match="province 'Fars'.*Khuzestan, Tehran"):
        trade_balance(flows, reporter="IRN", province="Fars")
    with pytest.raises(UnknownNameError, match="country group 'mars'"):
        trade_balance(flows, reporter="IRN", by="partner_group", groups="mars")
    with pytest.raises(UnknownNameError, match="breakdown"):
        trade_balance(flows, reporter="IRN", by="weekday")
    with pytest.raises(NoDataError, match="2019"):
        trade_balance(flows, reporter="IRN", years=2019)
    with pytest.raises(NoDataError, match="SYR"):
        trade_balance(flows, reporter="SYR")


def test_same_on_duckdb_warehouse(tmp_warehouse, flows):
    tmp_warehouse.raw.register("src", flows)
    tmp_warehouse.raw.execute("INSERT INTO flow_rows SELECT * FROM src")
    a = trade_balance(tmp_warehouse, reporter="IRN", by="partner")
    b = trade_balance(flows, reporter="IRN", by="partner")
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_world_trade_2017_non_oil(shared_data):
    """IRN 2017 exports 90.833 B USD; crude oil (2709) 41.70 B → non-oil (oil = 2709 only) ≈ 49.13 B."""
    w = pd.read_parquet(shared_data / "world_trade_2017_hs4.parquet")
    w = w[w.exporter == "IRN"].dropna(subset=["value_usd"])
    rows = [(2017, "IRN", "WLD", "export", p, v, None) for p, v in zip(w["product"], w.value_usd)]
    r = trade_balance(as_flows(rows), reporter="IRN", oil=["2709"]).iloc[0]
    assert r.exports == pytest.approx(90_833_257_951)
    assert r.oil_exports == pytest.approx(41.70e9, rel=1e-3)
    assert r.non_oil_exports == pytest.approx(90_833_257_951 - w.set_index("product").value_usd["2709"])
    narrow = trade_balance(as_flows(rows), reporter="IRN").iloc[0]       # 2709 + 2710 + 2711
    assert narrow.oil_exports == pytest.approx(w[w["product"].isin(["2709", "2710", "2711"])].value_usd.sum())


def test_agtpa_mirror_balance(shared_data):
    """agtpa (millions USD): IRN exports to the 68 others 555.0 (1986), 4,883.3 (2006); imports (others'
    exports to IRN, mirrored as IRN import rows) 6,182.0 (1986), 25,255.5 (2006), per PROVENANCE.md."""
    a = pd.read_parquet(shared_data / "agtpa_gravity_1986_2006.parquet")
    a = a[a.exporter != a.importer]
    ex = a[a.exporter == "IRN"]
    im = a[a.importer == "IRN"]
    rows = [(int(y), "IRN", p, "export", "MANUF", v * 1e6, None) for y, p, v in zip(ex.year, ex.importer, ex.trade)]
    rows += [(int(y), "IRN", p, "import", "MANUF", v * 1e6, None) for y, p, v in zip(im.year, im.exporter, im.trade)]
    r = trade_balance(as_flows(rows), reporter="IRN").set_index("year")
    assert len(r) == 21
    assert r.loc[1986, "exports"] / 1e6 == pytest.approx(555.0, abs=0.1)
    assert r.loc[2006, "exports"] / 1e6 == pytest.approx(4883.3, abs=0.1)
    assert r.loc[1986, "imports"] / 1e6 == pytest.approx(6182.0, abs=0.1)
    assert r.loc[2006, "imports"] / 1e6 == pytest.approx(25255.5, abs=0.1)
    assert r.loc[2006, "exports_growth"] == pytest.approx(r.loc[2006, "exports"] / r.loc[2005, "exports"] - 1)
    tur = trade_balance(as_flows(rows), reporter="IRN", by="partner", partner="TUR").set_index("year")
    tr = a[(a.exporter == "IRN") & (a.importer == "TUR")].set_index("year").trade * 1e6
    tm = a[(a.exporter == "TUR") & (a.importer == "IRN")].set_index("year").trade * 1e6
    assert np.allclose(tur.balance, (tr - tm).loc[tur.index])


@pytest.fixture(scope="module")
def demo_small():
    """The small SYNTHETIC demo world: world panel + bilateral rows + the focus country's customs rows."""
    from tradepulse.demo.world import generate

    w = generate(n_countries=40, n_products=150, first_year=2014, last_year=2023)
    flows = pd.concat([w.flows, w.customs], ignore_index=True)
    flows["load_id"] = None
    return flows[list(schema.FLOWS)], pd.DataFrame(w.meta["focus_by_year"]).set_index("year")


def test_demo_world_totals(demo_small):
    """The generator's own summary (computed independently from its frames) equals the balance: exports
    from WLD rows (not + customs rows), imports from customs rows, oil share, neighbours and Syria."""
    flows, meta = demo_small
    r = trade_balance(flows, reporter="IRN").set_index("year")
    assert np.allclose(r.exports, meta.exports_usd, rtol=1e-9)
    assert np.allclose(r.imports, meta.imports_cif_usd, rtol=1e-9)
    assert np.allclose(r.oil_exports / r.exports, meta.oil_share, rtol=1e-9)
    g = trade_balance(flows, reporter="IRN", by="partner_group", groups="neighbours15,syria")
    g = g.set_index(["group", "year"])
    assert np.allclose(g.loc["neighbours15"].exports, meta.exports_neighbours_usd, rtol=1e-9)
    assert np.allclose(g.loc["syria"].exports, meta.exports_syria_usd, rtol=1e-9)
    assert np.allclose(g.loc["syria"].imports, meta.imports_syria_cif_usd, rtol=1e-9)
    # the provinces add up to the national bilateral totals
    p = trade_balance(flows, reporter="IRN", by="province").groupby("year")[["exports", "imports"]].sum()
    b = trade_balance(flows, reporter="IRN", by="partner").groupby("year")[["exports", "imports"]].sum()
    assert np.allclose(p, b, rtol=1e-9)


def test_several_reporters_kept_apart(flows):
    """IRN and TUR together: one row per reporter and year, never summed (TUR 2020 exports 999 to IRN)."""
    r = trade_balance(flows, reporter="IRN,TUR", years=2020).set_index("reporter")
    assert r.loc["IRN", "exports"] == 120 and r.loc["TUR", "exports"] == 999
    one = trade_balance(flows, reporter="IRN")
    assert "reporter" not in one.columns


def test_one_sided_years_marked_in_the_python_result(flows):
    """Issue 14: one-sided data is marked by the Python API, not only by the CLI.  2023 holds exports (WLD +
    customs) and imports (CHN 8517); dropping the 2023 import row leaves 2023 exports only."""
    from tradepulse.meta import meta_of

    both = trade_balance(flows, reporter="IRN")
    assert both["one_sided"].isna().all() and meta_of(both).warnings == []
    no_imp = flows[~((flows.year == 2023) & (flows.flow == "import"))]
    r = trade_balance(no_imp, reporter="IRN").set_index("year")
    assert r.loc[2023, "one_sided"] == "exports only" and r.loc[[2020, 2021], "one_sided"].isna().all()
    assert np.isnan(r.loc[2023, "coverage"])
    assert meta_of(r).warnings == [("IRN: the selection holds no import rows in 2023, so the balance there is "
                                    "one-sided (exports only); coverage is not defined")]
    only_imp = trade_balance(flows[flows.flow == "import"], reporter="IRN")
    assert (only_imp["one_sided"] == "imports only").all()
    assert "no export rows in 2020–2021, 2023" in meta_of(only_imp).warnings[0]
    by_partner = trade_balance(no_imp, reporter="IRN", by="partner")
    assert set(by_partner.loc[by_partner.year == 2023, "one_sided"]) == {"exports only"}
    assert by_partner.loc[by_partner.year == 2020, "one_sided"].isna().all()


def test_one_sided_on_real_comtrade_exports_only(shared_data):
    """The Comtrade partner-totals fixture holds exports only: every ZAF year 2014–2022 is one-sided."""
    from tradepulse.meta import meta_of

    df = pd.read_parquet(shared_data / "comtrade_partner_totals_2014_2022.parquet")
    zaf = df[(df.reporter == "ZAF") & (df.partner != "W00")]
    rows = as_flows([(int(r.year), "ZAF", r.partner, "export", "TOTAL", float(r.value_usd), None)
                     for r in zaf.itertuples()])
    r = trade_balance(rows, reporter="ZAF", oil=None)
    assert (r["one_sided"] == "exports only").all() and r["coverage"].isna().all()
    assert meta_of(r).warnings[0].startswith("ZAF: the selection holds no import rows in 2014–2022")
