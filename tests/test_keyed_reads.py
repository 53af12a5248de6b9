"""Whole-panel reads (issue 19): products summed by their integer key (``flows_keyed``), the layer choice skipped
for one-layer datasets and the ``TOTAL`` filter skipped when a dataset has no TOTAL rows — each gives what the
general path (decoded ``product`` text, layer window, TOTAL filter) gives.

Real fixtures: the CEPII BACI sample (2021, stored slim: products are stored as numbers, 4,442 rows with a
leading zero) and the same rows as 2020 loaded as canonical rows into the *same* dataset (so one dataset spans
both storages, with some codes cut to HS4 so that text keys occur too); the Comtrade partner-totals panel
(World rows and bilateral rows of one reporter-year: two layers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradepulse.indicators import diversification as dv
from tradepulse.indicators import inputs
from tradepulse.indicators import selection as sel
from tradepulse.indicators.inputs import Needs
from tradepulse.ingest import ingest_file, ingest_frame
from tradepulse.warehouse import Warehouse


@pytest.fixture(scope="module")
def mixed_wh(shared_data, tmp_path_factory):
    """BACI sample 2021 (slim) + the same rows as 2020 in ``flow_rows`` (values × 1.5, every 7th code cut to
    HS4, the first row of a key kept), one dataset."""
    path = tmp_path_factory.mktemp("keyed") / "wh.duckdb"
    with Warehouse(path) as wh:
        res = ingest_file(wh, shared_data / "baci_sample.csv", "baci",
                          country_codes_csv=shared_data / "baci_country_codes_V202201.csv")
        name = wh.raw.execute("SELECT any_value(dataset) FROM coverage").fetchall()[0][0]
        rows = wh.raw.execute("SELECT * FROM flows").df()
        assert len(rows) == res.rows_loaded and wh.raw.execute("SELECT count(*) FROM baci_rows").fetchall()[0][0]
        rows["year"] = 2020
        rows["value_usd"] = rows["value_usd"] * 1.5
        cut = np.arange(len(rows)) % 7 == 0
        rows.loc[cut, "product"] = rows.loc[cut, "product"].str[:4]
        rows = rows.drop_duplicates(["reporter", "partner", "flow", "product"])   # one row per key
        ingest_frame(wh, rows.drop(columns=["load_id", "source"]), source="baci", name="baci_2020.csv",
                     dataset=name)
        assert wh.raw.execute("SELECT count(*) FROM flow_rows").fetchall()[0][0] > 0.9 * len(rows)
    return path


@pytest.fixture(scope="module")
def layered_wh(shared_data, tmp_path_factory):
    """Comtrade partner totals 2016–2018 (World rows as WLD and bilateral rows)."""
    df = pd.read_parquet(shared_data / "comtrade_partner_totals_2014_2022.parquet")
    df = df[df["year"].between(2016, 2018)]
    path = tmp_path_factory.mktemp("layered") / "wh.duckdb"
    with Warehouse(path) as wh:
        ingest_frame(wh, pd.DataFrame({
            "year": df["year"], "month": None, "reporter": df["reporter"],
            "partner": df["partner"].replace({"W00": "WLD"}), "flow": df["flow"], "product": "TOTAL",
            "hs_revision": None, "value_usd": df["value_usd"], "quantity": None, "unit": None, "province": None}),
            source="comtrade", name="comtrade_partner_totals.parquet")
    return path


@pytest.fixture
def general_path(monkeypatch):
    """Switch the new paths off: no keyed view (products read as text), layers always chosen."""
    def off():
        monkeypatch.setattr(Warehouse, "keyed_flows", lambda self: None)
        monkeypatch.setattr(inputs, "_single_layer", lambda cov: False)
    return off


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for c in a.columns:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        if a[c].dtype.kind == "f":
            # sums in another order may differ in the last bits
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-9, err_msg=c)
        else:
            assert (x == y).all(), c


CALLS = {
    "products": lambda wh: dv.product_diversification(wh, reporter="ZAF"),
    "products all reporters, HS4": lambda wh: dv.product_diversification(wh, level=4, groups=2),
    "products to a partner group": lambda wh: dv.product_diversification(wh, reporter="ZAF", partner="persian_gulf"),
    "markets": lambda wh: dv.market_diversification(wh, reporter="ZAF"),
    "hk": lambda wh: dv.hk_margins(wh, reporter="ZAF"),
    "hk by market, world reference": lambda wh: dv.hk_margins(wh, by_market=True, reference="world"),
    "hk HS2 pooled": lambda wh: dv.hk_margins(wh, level=2, aggregate="pooled"),
    "cdp": lambda wh: dv.cdp_export_concentration(wh, reporter="ZAF"),
    "cdp all, HS4": lambda wh: dv.cdp_export_concentration(wh, level=4),
}


@pytest.mark.parametrize("call", list(CALLS))
def test_keyed_one_layer_path_equals_the_general_path(mixed_wh, general_path, call):
    with Warehouse(mixed_wh, read_only=True) as wh:
        new = CALLS[call](wh)
    general_path()
    with Warehouse(mixed_wh, read_only=True) as wh:
        old = CALLS[call](wh)
    assert len(new) and set(new["year"]) == {2020, 2021}
    _same(new, old)


def test_national_totals_decode_the_product_text(mixed_wh):
    """Keyed sums carry the same product codes as the text: zero-padded HS6 from both storages, HS4 text."""
    with Warehouse(mixed_wh, read_only=True) as wh:
        needs = Needs(level=2)
        keyed, chosen = sel.select_flows(wh, keyed=True, return_selection=True, needs=needs)
        plain = sel.select_flows(wh, needs=needs)
        assert sel.is_keyed(keyed) and not sel.is_keyed(plain) and chosen.single_layer
        a = sel.national_totals(keyed, ["year", "reporter", "product"], single_layer=True).to_pandas()
        b = sel.national_totals(plain, ["year", "reporter", "product"]).to_pandas()
    key = ["year", "reporter", "product"]
    a, b = a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
    assert list(a.columns) == key + ["value_usd"]
    _same(a, b)
    lengths = a.groupby("year")["product"].agg(lambda p: sorted(set(p.str.len())))
    assert lengths[2021] == [6] and lengths[2020] == [4, 6]
    assert a["product"].str.startswith("0").any()


def test_coverage_decides_the_shortcuts(mixed_wh, layered_wh):
    """BACI: one layer, no TOTAL rows; Comtrade partner totals: World and bilateral rows (two layers), TOTAL."""
    with Warehouse(mixed_wh, read_only=True) as wh:
        res = inputs.resolve(wh, needs=Needs(level=2))
        assert res.single_layer and not res.has_total
    with Warehouse(layered_wh, read_only=True) as wh:
        res = inputs.resolve(wh, needs=Needs())
        assert not res.single_layer and res.has_total


def test_layered_data_still_choose_their_layer(layered_wh, general_path):
    """Two layers: product diversification of totals is refused alike; market diversification (bilateral rows)
    and the World-preferring national totals equal the general path."""
    with Warehouse(layered_wh, read_only=True) as wh:
        new = dv.market_diversification(wh, reporter="ZAF")
        t, chosen = sel.select_flows(wh, return_selection=True)
        tot = sel.national_totals(t, ["year", "reporter"], single_layer=chosen.single_layer).to_pandas()
    general_path()
    with Warehouse(layered_wh, read_only=True) as wh:
        old = dv.market_diversification(wh, reporter="ZAF")
        bil = sel.bilateral(sel.select_flows(wh))
        bsum = bil.group_by(["year", "reporter"]).aggregate(v=bil.value_usd.sum()).to_pandas()
        wld = sel.world_totals(sel.select_flows(wh)).to_pandas()
    _same(new, old)
    # the World row wins where a reporter-year has one, not the sum of its bilateral rows (they differ for some)
    key = ["year", "reporter"]
    w = wld.groupby(key, as_index=False)["value_usd"].sum()
    got = w.merge(tot, on=key, suffixes=("_world", ""))
    assert len(got) == len(w)
    np.testing.assert_allclose(got["value_usd"], got["value_usd_world"], rtol=1e-12)
    both = w.merge(bsum, on=key)
    assert (abs(both["v"] / both["value_usd"] - 1) > 1e-6).any()


@pytest.mark.parametrize("level", [None, 4])
def test_cdp_in_the_database_equals_cdp_concentration_of_the_cells(mixed_wh, level):
    """The year-by-year database sums give :func:`cdp_concentration` of the fetched cells (the former path)."""
    with Warehouse(mixed_wh, read_only=True) as wh:
        got = dv.cdp_export_concentration(wh, level=level)
        t = dv._level(sel.select_flows(wh, flow="export", world="exclude"), level)
        t = t.filter(t.reporter != t.partner)
        cells = sel.national_totals(t, ["year", "reporter", "partner", "product"], allow_world=False).to_pandas()
    want = dv.cdp_concentration(cells, n_products=int(cells["product"].nunique()))
    want = want.sort_values(["year", "reporter"]).reset_index(drop=True)
    assert len(got) == len(want) == 4 and set(got["year"]) == {2020, 2021}
    for c in want.columns:
        if want[c].dtype.kind == "f":
            np.testing.assert_allclose(got[c].to_numpy(), want[c].to_numpy(), rtol=1e-10, err_msg=c)
        else:
            assert (got[c].astype(str).to_numpy() == want[c].astype(str).to_numpy()).all(), c


def test_keys_decode_to_the_codes(tmp_path):
    """Every code comes back from its keys: 3-character ASCII codes packed, others (2 or 4 characters,
    non-ASCII, NULL) as text; 6-digit products as numbers, others as text."""
    from tradepulse.warehouse import decode_country
    codes = ["IRN", "S19", "_X", "XX12", "ÄÖÜ", "a b", None]
    products = ["010121", "999999", "2709", "TOTAL", "0101210", "27O900", None]
    with Warehouse(tmp_path / "wh.duckdb") as wh:
        for i, (c, p) in enumerate(zip(codes, products)):
            wh.raw.execute("INSERT INTO flow_rows (year, reporter, partner, flow, product, value_usd) "
                           "VALUES (2020, ?, ?, 'export', ?, ?)", [c, codes[-1 - i], p, float(i)])
        k = wh.keyed_flows()
        t = sel.decode_product(k).to_pandas().sort_values("value_usd")
        k = k.to_pandas().sort_values("value_usd")
    assert list(t["product"]) == products
    assert decode_country(k["reporter_key"], k["reporter_text"]) == codes
    assert decode_country(k["partner_key"], k["partner_text"]) == codes[::-1]
    assert (k["product_key"] >= 0).sum() == 2 and (k["reporter_key"] >= 0).sum() == 3
