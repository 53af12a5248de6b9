"""Datasets and the one input rule (issue 14): several real sources in ONE warehouse, never summed.

The warehouse holds three real public files (read in place from ../shared/data, see its PROVENANCE.md):

* ``baci_sample.csv`` — BACI, 2021, exporters ZAF and AFG, bilateral HS6 (values in thousand USD);
* ``comtrade_partner_totals_2014_2022.parquet`` — Comtrade all-goods (TOTAL) exports by partner, W00 = World;
* ``world_trade_2017_hs4.parquet`` — exports to the world by HS4, 2017 (NaN values quarantined).

Expected values are computed independently from the files with pandas.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tradepulse.errors import NoDataError, UnknownNameError
from tradepulse.indicators import balance, diversification
from tradepulse.indicators.inputs import Needs, resolve, use_dataset
from tradepulse.ingest import ingest_file, ingest_frame
from tradepulse.meta import meta_of
from tradepulse.warehouse import Warehouse

pytestmark = pytest.mark.xdist_group("datasets")


@pytest.fixture(scope="module")
def mixed(shared_data, tmp_path_factory):
    """A warehouse holding the three real files (module scope: built once)."""
    tmp = tmp_path_factory.mktemp("mixed")
    path = tmp / "mixed.duckdb"
    mapping = tmp / "world_trade.yaml"
    mapping.write_text("columns:\n  reporter: exporter\n  product: product\n  value_usd: value_usd\n")
    with Warehouse(path) as wh:
        ingest_file(wh, shared_data / "baci_sample.csv", "baci")
        ingest_file(wh, shared_data / "comtrade_partner_totals_2014_2022.parquet", "comtrade")
        ingest_file(wh, shared_data / "world_trade_2017_hs4.parquet", "generic", mapping=str(mapping),
                    year="2017", partner="WLD", flow="export")
    return path


@pytest.fixture(scope="module")
def baci(shared_data):
    return pd.read_csv(shared_data / "baci_sample.csv")


@pytest.fixture(scope="module")
def comtrade(shared_data):
    return pd.read_parquet(shared_data / "comtrade_partner_totals_2014_2022.parquet")


def test_three_real_files_are_three_datasets(mixed):
    with Warehouse(mixed, read_only=True) as wh:
        ds = wh.datasets().set_index("dataset")
    assert len(ds) == 3
    b = ds[ds.source == "baci"].iloc[0]
    assert (b.product_level, b.partner_detail, b.frequency, b.first_year, b.last_year) == \
        ("hs6", "bilateral", "annual", 2021, 2021)
    c = ds[ds.source == "comtrade"].iloc[0]
    assert (c.product_level, c.partner_detail, c.first_year, c.last_year, c.reporters) == \
        ("total", "bilateral,world", 2014, 2022, 178)
    g = ds[ds.source == "generic"].iloc[0]
    assert (g.product_level, g.partner_detail, g.reporters) == ("hs4", "world", 224)


def test_zaf_2021_exports_are_one_source_never_the_sum(mixed, baci, comtrade):
    baci_zaf = baci.loc[baci.i == 710, "v"].sum() * 1000            # 68.69 bn
    world = comtrade[(comtrade.reporter == "ZAF") & (comtrade.partner == "W00") & (comtrade.year == 2021)]
    comtrade_zaf = float(world.value_usd.iloc[0])                    # 121.32 bn
    assert round(baci_zaf / 1e9, 2) == 68.69 and round(comtrade_zaf / 1e9, 2) == 121.32
    with Warehouse(mixed, read_only=True) as wh:
        one_year = balance.trade_balance(wh, reporter="ZAF", years=2021)
        panel = balance.trade_balance(wh, reporter="ZAF")
        forced = balance.trade_balance(wh, reporter="ZAF", years=2021, dataset="comtrade-total-annual")
        with use_dataset("comtrade-total-annual"):
            forced_ctx = balance.trade_balance(wh, reporter="ZAF", years=2021)
    # 2021 alone: both datasets cover it; the finer (BACI HS6) wins by precedence
    assert one_year.exports.iloc[0] == pytest.approx(baci_zaf, rel=1e-12)
    assert meta_of(one_year).dataset.startswith("baci-hs6-annual")
    # 2014-2022: only Comtrade covers the request; its World rows (not partner sum + World) give the total
    assert panel.set_index("year").exports.loc[2021] == pytest.approx(comtrade_zaf, rel=1e-12)
    assert meta_of(panel).dataset == "comtrade-total-annual"
    assert any("never summed" in w for w in meta_of(panel).warnings)
    for f in (forced, forced_ctx):
        assert f.exports.iloc[0] == pytest.approx(comtrade_zaf, rel=1e-12)
    with Warehouse(mixed, read_only=True) as wh, pytest.raises(UnknownNameError, match="dataset"):
        balance.trade_balance(wh, reporter="ZAF", dataset="no-such-dataset")


def test_product_diversification_counts_hs6_products_not_total(mixed, baci):
    expected = baci.loc[(baci.i == 710) & (baci.v > 0), "k"].nunique()
    with Warehouse(mixed, read_only=True) as wh:
        d = diversification.product_diversification(wh, reporter="ZAF", years=2021)
        panel = diversification.product_diversification(wh, reporter="ZAF")
    assert d.n_active.iloc[0] == expected >= 4000
    assert "TOTAL" not in set(panel.columns) and (panel.n_active >= 1000).all()
    assert meta_of(panel).dataset.startswith(("baci", "generic"))


def test_total_only_data_refused_for_product_work(mixed):
    with Warehouse(mixed, read_only=True) as wh:
        with pytest.raises(NoDataError, match="needs HS product detail"):
            resolve(wh, reporter="ZAF", years=[2015], needs=Needs(level=2, what="product diversification"),
                    dataset="comtrade-total-annual")


def test_survival_on_a_single_bilateral_year_is_refused(mixed):
    from tradepulse.indicators.survival import export_spells
    with Warehouse(mixed, read_only=True) as wh, pytest.raises(NoDataError):
        export_spells(wh, reporter="ZAF", level=6)


# ---------------------------------------------------------------- property: never more than one dataset
REPORTERS = ["IRN", "TUR", "ARE"]
PARTNERS = ["IRQ", "AFG", "CHN", "DEU"]
PRODUCTS = ["010121", "270900", "570110", "870323"]


def _frames(draw_values, years):
    """Three datasets over the same reporters and years: bilateral HS6 (annual), World TOTAL (annual) and
    monthly customs by province (HS6), each from its own source."""
    rows_b, rows_w, rows_m = [], [], []
    for r in REPORTERS:
        for y in years:
            for p in PARTNERS:
                for k in PRODUCTS:
                    v = draw_values()
                    if v:
                        rows_b.append((y, None, r, p, "export", k, "HS2017", float(v), None))
            rows_w.append((y, None, r, "WLD", "export", "TOTAL", "HS2017", float(draw_values() + 1) * 7, None))
            if r == "IRN":
                for m in range(1, 13):
                    v = draw_values()
                    if v:
                        rows_m.append((y, m, r, "IRQ", "export", "570110", "HS2017", float(v), "Tehran"))
    cols = ["year", "month", "reporter", "partner", "flow", "product", "hs_revision", "value_usd", "province"]
    return [pd.DataFrame(rows, columns=cols) for rows in (rows_b, rows_w, rows_m)]


# no shrinking phase: each example builds a warehouse (≈1 s), and a failing example is already small
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(seed=st.integers(0, 2**31 - 1), years=st.lists(st.integers(2018, 2022), min_size=1, max_size=3,
                                                        unique=True))
def test_no_indicator_total_exceeds_the_largest_single_dataset(tmp_path, seed, years):
    import numpy as np

    rng = np.random.default_rng(seed)
    frames = _frames(lambda: int(rng.integers(0, 4)) * int(rng.integers(1, 1000)), sorted(years))
    path = tmp_path / f"w{seed}.duckdb"
    path.unlink(missing_ok=True)
    with Warehouse(path) as wh:
        for frame, source in zip(frames, ("baci", "comtrade", "customs")):
            if len(frame):
                ingest_frame(wh, frame, source=source, name=f"{source}.csv")
        totals = [f.groupby(["reporter", "year"]).value_usd.sum() for f in frames if len(f)]
        largest = pd.concat(totals, axis=1).max(axis=1)
        for rep in REPORTERS:
            tb = balance.trade_balance(wh, reporter=rep)
            for y, v in tb.set_index("year").exports.items():
                assert v <= largest.loc[(rep, y)] * (1 + 1e-12)
            try:
                pdv = diversification.product_diversification(wh, reporter=rep)
            except NoDataError:
                continue
            for y, v in pdv.set_index("year").total_value.items():
                assert v <= largest.loc[(rep, y)] * (1 + 1e-12)
        md = diversification.market_diversification(wh, reporter="IRN")
        for y, v in md.set_index("year").total_value.items():
            assert v <= largest.loc[("IRN", y)] * (1 + 1e-12)


def test_zaf_brief_has_no_iran_target_no_tota_and_data_notes(mixed):
    from tradepulse.reports.brief import build_brief, render_html

    b = build_brief(mixed, None, reporter="ZAF", lang="en", skip=("actions",))
    html = render_html(b)
    assert b.targets == []                       # South Africa has no roadmap: no other country's targets
    assert not re.search(r"\bTOTA\b", html) and "syria-total-trade" not in html   # no product read as "TOTA"
    assert b.data_notes and b.data_notes[0].startswith("datasets read: ")
    assert "Data notes" in html
    # the Atlas's published projection beside our complexity figures (issue 21), read from atlas-common-data
    from tradepulse.reference.atlas import growth_projection
    gp = growth_projection("ZAF")
    assert b.atlas["rate"] == gp.rate and f"{gp.rate:.1f}% a year" in html and 'id="atlas-reference"' in html
    for section in ("movers", "new_rca"):         # product sections never read all-goods TOTAL rows
        frame = getattr(b, section)
        if frame is not None:
            assert frame["product"].str.fullmatch(r"\d{4}").all()
