"""Selection helpers: filters by reporter / partner group / product group / province / years, and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradepulse import schema
from tradepulse.errors import NoDataError, UnknownNameError
from tradepulse.indicators.selection import (
    parse_years, resolve_partners, resolve_products, select_flows,
)


def flows_frame(rows) -> pd.DataFrame:
    """Canonical FLOWS frame from (year, reporter, partner, flow, product, value, province) tuples."""
    df = pd.DataFrame(rows, columns=["year", "reporter", "partner", "flow", "product", "value_usd", "province"])
    for col in schema.FLOWS:
        if col not in df:
            df[col] = None
    df["hs_revision"] = "HS2012"
    df["source"] = "test"
    df["quantity"] = df["quantity"].astype("float64")
    return df[list(schema.FLOWS)]


@pytest.fixture
def small():
    return flows_frame([
        (2020, "IRN", "WLD", "export", "2709", 100.0, None),
        (2020, "IRN", "TUR", "export", "2709", 60.0, None),
        (2020, "IRN", "IRQ", "export", "5701", 30.0, None),
        (2020, "IRN", "CHN", "export", "8708", 10.0, None),
        (2021, "IRN", "TUR", "export", "5702", 5.0, "Tehran"),
        (2021, "IRN", "IRQ", "import", "8708", 7.0, "Isfahan"),
        (2021, "TUR", "IRN", "export", "8517", 9.0, None),
    ])


def test_parse_years():
    assert parse_years(None) is None
    assert parse_years(2017) == [2017]
    assert parse_years("2014-2016,2020") == [2014, 2015, 2016, 2020]
    assert parse_years([2016, 2014]) == [2014, 2016]
    with pytest.raises(UnknownNameError):
        parse_years("last year")
    with pytest.raises(NoDataError):
        parse_years("2018-2014")


def test_resolve_groups():
    assert resolve_partners("gcc") == ("ARE", "BHR", "KWT", "OMN", "QAT", "SAU")
    assert resolve_partners("caspian,TUR") == ("AZE", "KAZ", "RUS", "TKM", "TUR")
    assert resolve_partners("wld") == ("WLD",)
    assert resolve_products("carpets") == ("5701", "5702")
    assert resolve_products(["oil", "5701"]) == ("2709", "2710", "2711", "5701")
    with pytest.raises(UnknownNameError, match="known country groups: .*caspian"):
        resolve_partners("atlantis")
    with pytest.raises(UnknownNameError, match="unknown product group 'widgets'"):
        resolve_products("widgets")


def test_partner_group_excludes_world_rows(small):
    """neighbours15 contains TUR and IRQ but not CHN; the WLD row must never be included."""
    t = select_flows(small, reporter="IRN", partner="neighbours15", years=2020)
    df = t.to_pandas()
    assert sorted(df.partner) == ["IRQ", "TUR"]
    assert df.value_usd.sum() == 90.0


def test_world_only_and_mix_rejected(small):
    df = select_flows(small, reporter="IRN", partner="WLD").to_pandas()
    assert df.value_usd.tolist() == [100.0]
    with pytest.raises(NoDataError, match="WLD"):
        select_flows(small, partner="WLD,TUR")


def test_product_group_and_flow(small):
    df = select_flows(small, reporter="IRN", product="carpets", flow="export", world="exclude").to_pandas()
    assert sorted(df["product"]) == ["5701", "5702"] and df.value_usd.sum() == 35.0
    with pytest.raises(UnknownNameError, match="flow"):
        select_flows(small, flow="smuggling")


def test_province(small):
    df = select_flows(small, province="tehran").to_pandas()   # case-insensitive match
    assert df.province.tolist() == ["Tehran"] and df.value_usd.tolist() == [5.0]
    with pytest.raises(UnknownNameError, match="unknown province 'Shiraz'; known provinces: Isfahan, Tehran"):
        select_flows(small, province="Shiraz")


def test_no_province_column_data(small):
    with pytest.raises(NoDataError, match="no provincial"):
        select_flows(small[small.province.isna()], province="Tehran")


def test_years_errors(small):
    with pytest.raises(NoDataError, match=r"no data for year\(s\) 2019 .*years with data: 2020–2021"):
        select_flows(small, reporter="IRN", years="2019-2020")
    # non-strict: some years may be missing, but not all
    df = select_flows(small, reporter="IRN", years="2019-2020", strict_years=False).to_pandas()
    assert set(df.year) == {2020}
    with pytest.raises(NoDataError):
        select_flows(small, reporter="IRN", years="2000-2001", strict_years=False)


def test_reporter_errors(small):
    with pytest.raises(UnknownNameError, match="unknown country 'XYZ'"):
        select_flows(small, reporter="XYZ")
    with pytest.raises(NoDataError, match="no rows for reporter SYR"):
        select_flows(small, reporter="SYR")
    with pytest.raises(NoDataError, match="no import rows for reporter TUR"):
        select_flows(small, reporter="TUR", flow="import")


def test_empty_partner_selection(small):
    with pytest.raises(NoDataError, match="no rows for .*partner syria"):
        select_flows(small, reporter="IRN", partner="syria")


def test_on_warehouse(tmp_warehouse, small):
    """The same filters on a DuckDB warehouse give the same rows as on the pandas frame."""
    tmp_warehouse.raw.register("src", small)
    tmp_warehouse.raw.execute("INSERT INTO flow_rows SELECT * FROM src")
    a = select_flows(tmp_warehouse, reporter="IRN", partner="neighbours15").to_pandas()
    b = select_flows(small, reporter="IRN", partner="neighbours15").to_pandas()
    assert sorted(a.value_usd) == sorted(b.value_usd) == [5.0, 7.0, 30.0, 60.0]


def test_national_totals_layers(small):
    """IRN exports 2020: WLD row 100 is used (layer 0), not WLD + bilateral (200).  2021 IRN exports exist
    only as a provincial row (5) and imports only as a provincial row (7): layer 2 is used.  Without WLD
    (partner keys) 2020 exports come from the national bilateral rows: 60 + 30 + 10."""
    from tradepulse.indicators.selection import national_totals

    tot = national_totals(small, ["year", "reporter", "flow"]).to_pandas().set_index(["year", "reporter", "flow"])
    assert tot.loc[(2020, "IRN", "export"), "value_usd"] == 100
    assert tot.loc[(2021, "IRN", "export"), "value_usd"] == 5
    assert tot.loc[(2021, "IRN", "import"), "value_usd"] == 7
    bil = national_totals(small, ["year", "reporter", "partner"], allow_world=False).to_pandas()
    assert bil[(bil.year == 2020) & (bil.reporter == "IRN")].value_usd.sum() == 100
    mixed = small.copy()
    mixed.loc[len(mixed)] = mixed.iloc[1].copy()
    mixed.loc[len(mixed) - 1, ["province", "value_usd"]] = ["Tehran", 999.0]    # customs row beside bilateral
    bil = national_totals(mixed, ["year", "reporter", "partner"], allow_world=False).to_pandas()
    assert bil[(bil.year == 2020) & (bil.reporter == "IRN")].value_usd.sum() == 100   # layer 1 wins


def test_partner_codes_outside_reference(small):
    """Codes missing from the reference country list (Comtrade S19, ESH) are accepted when the data hold
    them; otherwise the unknown-group error stands."""
    df = pd.concat([small, small.iloc[[1]].assign(partner="S19", value_usd=3.0)], ignore_index=True)
    got = select_flows(df, reporter="IRN", partner="S19,TUR").to_pandas()
    assert sorted(got.partner) == ["S19", "TUR", "TUR"]
    with pytest.raises(UnknownNameError, match="unknown country group 'X99'"):
        select_flows(df, partner="X99")
    with pytest.raises(UnknownNameError):
        resolve_partners("S19")


def _national_totals_oracle(df: pd.DataFrame, keys, allow_world: bool = True) -> pd.DataFrame:
    """Independent pandas implementation of the layer rule: per (year, reporter, flow) only the lowest layer
    present (0 = WLD partner, 1 = national bilateral, 2 = provincial) is summed by ``keys``."""
    d = df if allow_world else df[df.partner != "WLD"]
    layer = np.where(d.partner == "WLD", 0, np.where(d.province.isna(), 1, 2))
    d = d.assign(_layer=layer)
    best = d.groupby(["year", "reporter", "flow"])["_layer"].transform("min")
    return d[d._layer == best].groupby(list(keys), dropna=False, as_index=False)["value_usd"].sum()


@pytest.mark.parametrize("keys,allow_world", [
    (["year", "reporter", "flow"], True), (["year", "reporter", "product"], True),
    (["year", "reporter", "partner"], False), (["year", "product"], True), (["reporter", "flow", "partner"], False)])
def test_national_totals_equals_the_layer_rule_on_mixed_layers(small, keys, allow_world):
    """The one-pass form (sums by keys × layer, layer chosen by a window) equals an independent pandas
    implementation of the rule on the hand case plus a customs row beside bilateral rows and a reporter
    with only provincial rows — the cases where a wrong layer choice would double count."""
    from tradepulse.indicators.selection import national_totals

    mixed = small.copy()
    mixed.loc[len(mixed)] = mixed.iloc[1].copy()
    mixed.loc[len(mixed) - 1, ["province", "value_usd"]] = ["Tehran", 999.0]
    extra = mixed.iloc[[1]].assign(reporter="TUR", partner="IRN", province="Izmir", value_usd=4.0)
    mixed = pd.concat([mixed, extra, extra.assign(province="Ankara", value_usd=6.0)], ignore_index=True)
    got = national_totals(mixed, keys, allow_world=allow_world).to_pandas()
    want = _national_totals_oracle(mixed, keys, allow_world)
    pd.testing.assert_frame_equal(got.sort_values(keys).reset_index(drop=True)[list(keys) + ["value_usd"]],
                                  want.sort_values(keys).reset_index(drop=True), check_dtype=False)
