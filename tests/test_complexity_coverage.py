"""Coverage-aware complexity (issue 14): PRODY/EXPY with legacy GDP codes and the dropped exporters in the
meta; ``opportunities`` with the Atlas sample filters and no TOTAL/aggregate rows in the matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradepulse import reference
from tradepulse.errors import NoDataError
from tradepulse.indicators.complexity import complexity
from tradepulse.meta import meta_of


def _independent_prody(trade: pd.DataFrame, gdp: pd.Series) -> pd.Series:
    """Hausmann, Hwang & Rodrik (2007) with pandas group sums: PRODY_p = Σ_c s_cp/Σ_c' s_c'p · GDPpc_c over
    exporters with a GDP per capita, s_cp = x_cp / X_c."""
    d = trade[trade.value > 0].copy()
    d["share"] = d.value / d.groupby("exporter").value.transform("sum")
    d["gdp"] = d.exporter.map(gdp)
    k = d[d.gdp.notna()]
    return (k.share * k.gdp).groupby(k["product"]).sum() / k.groupby("product").share.sum()


def test_prody_world_2017_reports_exporters_without_gdp(shared_data):
    """world_trade_2017_hs4 (224 exporters; NaN values = no trade) with the WDI 2017 file (ROM for Romania,
    aggregates, 12 missing GDPs): 30 exporters have no GDP per capita — each is absent from the GDP file or
    NaN there — and PRODY equals an independent pandas computation over the others."""
    trade = pd.read_parquet(shared_data / "world_trade_2017_hs4.parquet")
    gdp = pd.read_csv(shared_data / "world_gdp_and_population_2017.csv")
    res = complexity(trade, "exporter", "product", "value_usd", missing="zero",
                     gdp_pc=gdp.rename(columns={"gdp_pc_usd": "gdp_pc"}))
    meta = meta_of(res)
    lacking = meta.coverage["prody_exporters_without_gdp"]
    known = gdp.dropna(subset=["gdp_pc_usd"]).assign(iso3=lambda g: reference.harmonise_iso3(g.iso3))
    exporters = set(trade.loc[trade.value_usd > 0, "exporter"])
    assert lacking == sorted(exporters - set(known.iso3)) and len(lacking) == 30
    assert "SYR" in lacking and "IRN" not in lacking
    assert meta.coverage["gdp_codes_harmonised"] == {"ROM": "ROU"}
    assert meta.warnings == [(
        "PRODY/EXPY: 30 of 224 exporters have no GDP per capita and are left out of the PRODY weights: "
        "Anguilla (AIA), French Southern and Antarctic Lands (ATF), Bouvet Island (BVT), Cocos (Keeling) "
        "Islands (CCK), Cook Islands (COK), Christmas Island (CXR), Cayman Islands (CYM), Eritrea (ERI) and "
        "22 more")]
    want = _independent_prody(trade.rename(columns={"value_usd": "value"}).fillna({"value": 0.0}),
                              known.set_index("iso3").gdp_pc_usd)
    got = res.groupby("product", observed=True)["prody"].first()
    np.testing.assert_allclose(got.reindex(want.index).to_numpy(), want.to_numpy(), rtol=1e-12)


def test_prody_legacy_exporter_code_rom_matches_gdp_rou(shared_data):
    """world_trade_avg_1998_2000_sitc4 names Romania ROM, its GDP file ROU: harmonised, Romania's GDP per
    capita weighs in PRODY (before: Romania silently dropped).  EXPY of ROM is computed from it."""
    trade = pd.read_parquet(shared_data / "world_trade_avg_1998_2000_sitc4.parquet")
    gdp = pd.read_csv(shared_data / "world_gdp_pc_avg_1998_2000.csv").rename(columns={"gdp_pc_const_usd": "gdp_pc"})
    res = complexity(trade, "exporter", "product", "value_usd", gdp_pc=gdp)
    lacking = meta_of(res).coverage["prody_exporters_without_gdp"]
    assert "ROM" not in lacking and "AFG" in lacking
    g = gdp.set_index("iso3").gdp_pc.rename(index={"ROU": "ROM"})
    want = _independent_prody(trade.rename(columns={"value_usd": "value"}), g)
    got = res.groupby("product", observed=True)["prody"].first()
    np.testing.assert_allclose(got.reindex(want.index).to_numpy(), want.to_numpy(), rtol=1e-12)
    without_rom = _independent_prody(trade.rename(columns={"value_usd": "value"}), g.drop("ROM"))
    assert (got.reindex(without_rom.index) - without_rom).abs().max() > 1.0   # Romania matters


@pytest.mark.filterwarnings("ignore:the country-product network is disconnected", "ignore::RuntimeWarning")
def test_prody_hand_case_legacy_codes_and_current_code_wins():
    """Two exporters; the GDP table holds ZAR (legacy DR Congo) and both ROM and ROU: the current code wins.
    x: COD exports P1 only (value 1), ROU exports P1 1 and P2 3.  s(COD,P1)=1, s(ROU,P1)=.25, s(ROU,P2)=.75.
    PRODY_P1 = (1·500 + .25·10000)/1.25 = 2400; PRODY_P2 = 10000; EXPY_ROU = .25·2400 + .75·10000 = 8100."""
    x = pd.DataFrame({"exporter": ["COD", "ROU", "ROU"], "product": ["P1", "P1", "P2"],
                      "export_value": [1.0, 1.0, 3.0]})
    gdp = pd.DataFrame({"iso3": ["ZAR", "ROM", "ROU"], "gdp_pc": [500.0, 1.0, 10000.0]})
    res = complexity(x, gdp_pc=gdp)
    prody = res.groupby("product", observed=True)["prody"].first()
    assert prody.tolist() == pytest.approx([2400.0, 10000.0])
    assert res.loc[res.exporter == "ROU", "expy"].iloc[0] == pytest.approx(8100.0)
    assert meta_of(res).warnings == []
    assert meta_of(res).coverage["gdp_codes_harmonised"] == {"ROM": "ROU", "ZAR": "COD"}


def test_cli_gdp_pc_column_option_and_warning(shared_data, tmp_path):
    """`complexity --gdp-pc FILE --gdp-pc-column gdp_pc_usd` on the real 2017 files: prody/expy written, the
    dropped exporters printed as a warning; a wrong column is a one-line error; the help text is whole."""
    from typer.testing import CliRunner

    from tradepulse.cli import app

    out = tmp_path / "cx.parquet"
    args = ["complexity", str(shared_data / "world_trade_2017_hs4.parquet"), "--value", "value_usd",
            "--missing", "zero", "--gdp-pc", str(shared_data / "world_gdp_and_population_2017.csv"), "-o", str(out)]
    r = CliRunner().invoke(app, [*args, "--gdp-pc-column", "gdp_pc_usd"])
    assert r.exit_code == 0, r.output
    assert "warning: PRODY/EXPY: 30 of 224 exporters have no GDP per capita" in " ".join(r.output.split())
    got = pd.read_parquet(out)
    assert got["prody"].notna().all() and got.loc[got.exporter == "IRN", "expy"].notna().all()
    # regression: a result carrying a ResultMeta could not be written to Parquet; its meta now travels along
    assert got.attrs["meta"]["coverage"]["gdp_codes_harmonised"] == {"ROM": "ROU"}
    bad = CliRunner().invoke(app, args)
    assert bad.exit_code == 2 and "no column 'gdp_pc' (set --gdp-pc-column)" in " ".join(bad.output.split())
    assert "gdp_pc_usd" in bad.output and "Traceback" not in bad.output
    help_text = " ".join(CliRunner().invoke(app, ["complexity", "--help"], terminal_width=200).output.split())
    assert "iso3, , gdp_pc" not in help_text and "--gdp-pc-column" in help_text


# ------------------------------------------------------------------ opportunities: Atlas sample, no TOTAL
def _warehouse(tmp_path, frames: list[pd.DataFrame]):
    """A warehouse holding the given (year, reporter, partner, product, value_usd) export rows verbatim."""
    from tradepulse.schema import FLOWS
    from tradepulse.warehouse import Warehouse

    df = pd.concat(frames, ignore_index=True).assign(
        month=None, flow="export", hs_revision="UNKNOWN", quantity=None, unit=None, province=None,
        source="test", load_id="t")
    path = tmp_path / "wh.duckdb"
    with Warehouse(path) as wh:
        wh.raw.register("rows_", df[list(FLOWS)])
        wh.raw.execute("INSERT INTO flow_rows SELECT * FROM rows_")
    return path


def _comtrade_world_totals(shared_data) -> pd.DataFrame:
    """Comtrade partner-totals W00 rows as the readers store them: partner WLD, product TOTAL."""
    ct = pd.read_parquet(shared_data / "comtrade_partner_totals_2014_2022.parquet")
    w = ct[ct.partner == "W00"]
    return pd.DataFrame({"year": w.year.astype(int), "reporter": w.reporter, "partner": "WLD",
                         "product": "TOTAL", "value_usd": w.value_usd})


def _world_2017(shared_data) -> pd.DataFrame:
    t = pd.read_parquet(shared_data / "world_trade_2017_hs4.parquet").dropna(subset=["value_usd"])
    return pd.DataFrame({"year": 2017, "reporter": t.exporter, "partner": "WLD", "product": t["product"],
                         "value_usd": t.value_usd})


def test_opportunities_mixed_warehouse_never_sees_total(shared_data, tmp_path):
    """Issue 14: Comtrade all-goods totals (TOTAL, WLD) beside the HS4 world panel of 2017 in one warehouse.
    Before, each 2017 reporter-year summed TOTAL with its HS4 rows and TOTAL became a product (later years:
    "got 169 × 1").  Now the matrix holds HS4 products only, and 2021 (TOTAL only) is refused clearly."""
    from tradepulse.indicators.complexity import opportunities, warehouse_exports
    from tradepulse.warehouse import Warehouse

    path = _warehouse(tmp_path, [_comtrade_world_totals(shared_data), _world_2017(shared_data)])
    with Warehouse(path, read_only=True) as wh:
        ex = warehouse_exports(wh)
        assert set(ex.year) == {2017} and "TOTAL" not in set(ex["product"])
        zaf = ex[(ex.exporter == "ZAF")].export_value.sum()
        t = pd.read_parquet(shared_data / "world_trade_2017_hs4.parquet")
        assert zaf == pytest.approx(t.loc[t.exporter == "ZAF", "value_usd"].sum(), rel=1e-12)   # not + TOTAL
        opp = opportunities(wh, "ZAF")
        assert set(opp.year) == {2017} and opp["product"].str.fullmatch(r"\d{4}").all()
        assert not opp["product"].str.startswith("99").any()
    # the command of the issue now runs; without macro data it says the population filter was skipped
    from typer.testing import CliRunner

    from tradepulse.cli import app
    r = CliRunner().invoke(app, ["opportunities", "--country", "ZAF", "-w", str(path), "--top", "5"])
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "Opportunities for ZAF (2017" in text and "TOTAL" not in text
    assert "warning: Atlas sample: the population filter" in text
    r = CliRunner().invoke(app, ["opportunities", "--country", "ZAF", "-w", str(path), "--min-population", "0"])
    assert r.exit_code == 0 and "warning" not in r.output
    # a TOTAL-only warehouse: one clear refusal
    only = _warehouse(tmp_path / "only", [_comtrade_world_totals(shared_data)])
    with Warehouse(only, read_only=True) as wh, pytest.raises(NoDataError, match="needs HS product detail"):
        opportunities(wh, "ZAF")
    r = CliRunner().invoke(app, ["opportunities", "--country", "ZAF", "-w", str(only)])
    assert r.exit_code == 2 and "needs HS product detail" in " ".join(r.output.split())
    totals = _comtrade_world_totals(shared_data).rename(columns={"reporter": "exporter", "value_usd": "export_value"})
    with pytest.raises(NoDataError, match="only all-goods totals"):
        opportunities(totals, "ZAF")


def test_opportunities_atlas_sample_filters_on_real_2017(shared_data):
    """world_trade_2017_hs4 with WDI 2017 population: the Atlas sample keeps exporters with population ≥ 1 M
    (ROM harmonised to ROU) and exports ≥ US$ 1 bn outside chapter 99 — the same set an independent pandas
    filter gives — and 9999 is not a candidate.  Each filter can be switched off."""
    from tradepulse.indicators.complexity import opportunities

    trade = pd.read_parquet(shared_data / "world_trade_2017_hs4.parquet")
    pop = pd.read_csv(shared_data / "world_gdp_and_population_2017.csv").rename(
        columns={"population_total": "population"})
    kw = {"exporter": "exporter", "product": "product", "value": "value_usd", "missing": "zero"}
    opp = opportunities(trade, "IRN", population=pop, **kw)
    sample = meta_of(opp).coverage["atlas_sample"]
    t = trade[~trade["product"].str.startswith("99")]
    tot = t.groupby("exporter").value_usd.sum()
    p = pop.assign(iso3=reference.harmonise_iso3(pop.iso3)).set_index("iso3").population
    want = {c for c in tot.index if tot[c] >= 1e9 and p.get(c, np.nan) >= 1e6}
    assert sample["exporters_input"] == 224 and sample["exporters_kept"] == len(want)
    assert "9999" not in set(opp["product"]) and meta_of(opp).warnings == []
    # all filters off: every exporter, and 9999 is back as a candidate of the largest exporter whose RCA in
    # 9999 (computed here with pandas) is below 1
    x = trade.fillna({"value_usd": 0.0})
    totals = x.groupby("exporter").value_usd.sum()
    rca = (x[x["product"] == "9999"].set_index("exporter").value_usd / totals) / (
        x.loc[x["product"] == "9999", "value_usd"].sum() / totals.sum())
    who = totals[rca.reindex(totals.index) < 1].idxmax()
    off = opportunities(trade, who, population=pop, min_population=0, min_exports=0, exclude_products=(), **kw)
    assert meta_of(off).coverage["atlas_sample"]["exporters_kept"] == 224
    assert "9999" in set(off["product"])
    # without population data the filter is skipped, with a warning
    nopop = opportunities(trade, "IRN", **kw)
    assert any("population filter (≥ 1,000,000) is not applied" in w for w in meta_of(nopop).warnings)
    # a country outside the sample: a clear refusal naming the filter and its switch
    small = next(c for c in tot.index if 0 < tot[c] < 1e9 and p.get(c, 0) >= 1e6)
    with pytest.raises(NoDataError, match=rf"{small} is outside the Atlas sample: exports .* < "
                                        r"1,000,000,000 USD \(switch off with min_exports=0"):
        opportunities(trade, small, population=pop, **kw)
