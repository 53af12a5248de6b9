"""Export potential with the base year's sums computed by the engine (issue 19) equals the former path, which
fetched every (exporter, market, product) cell and summed in NumPy (``potential._FORCE_CELLS``).

Fixtures: the real CEPII BACI sample (2021, stored slim: integer keys) with the same rows as 2020 in the native
``flow_rows`` table of the same dataset (every 7th code cut to HS4, so text keys occur: both storages and both
key forms in one read); the SYNTHETIC demo world (text HS4 codes, import declarations — the mirror rules' outer
join — provinces, macro data for the projections).  Sums run in another order, so floats agree to 1e-12
relative (``unrealised`` = potential − realised to 1e-12 of the potential), labels and row order exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradepulse.indicators import potential as pt
from tradepulse.ingest import ingest_frame
from tradepulse.warehouse import Warehouse

from helpers import hs4_text_year, ingest_baci_sample


@pytest.fixture(scope="module")
def mixed_wh(shared_data, tmp_path_factory):
    """BACI sample 2021 (slim) + the same rows as 2020 in ``flow_rows`` (values × 1.5, every 7th code cut to
    HS4, one row per key), one dataset."""
    path = tmp_path_factory.mktemp("pot_engine") / "wh.duckdb"
    with Warehouse(path) as wh:
        name = ingest_baci_sample(wh, shared_data)
        rows = hs4_text_year(wh.raw.execute("SELECT * FROM flows").df())
        ingest_frame(wh, rows.drop(columns=["load_id", "source"]), source="baci", name="baci_2020.csv",
                     dataset=name)
        assert wh.raw.execute("SELECT count(*) FROM baci_rows").fetchall()[0][0] > 70_000
    return path


@pytest.fixture(scope="module")
def demo_wh(tmp_path_factory):
    """SYNTHETIC demo world 2016–2023, bilateral rows (exports and partners' import declarations) in 2018–2023,
    the focus country's customs rows by province."""
    from tradepulse.demo.world import generate

    w = generate(n_countries=30, n_products=120, first_year=2016, last_year=2023, bilateral_years=6)
    assert (w.flows["flow"] == "import").any() and w.customs["province"].notna().all()
    path = tmp_path_factory.mktemp("pot_engine_demo") / "wh.duckdb"
    with Warehouse(path) as wh:
        ingest_frame(wh, w.flows, source="demo-synthetic", name="demo_flows")
        ingest_frame(wh, w.customs, source="demo-synthetic", name="demo_customs")
        ingest_frame(wh, w.macro, source="demo-synthetic", name="demo_macro", target="macro")
    return path


def _both(path, monkeypatch, **kw) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(engine sums, every cell fetched) for the same call; the engine path must fetch no cell."""
    def no_cells(*_a, **_k):
        raise AssertionError("the engine path fetched the cells")

    with monkeypatch.context() as m:
        m.setattr(pt, "_coded", no_cells)
        with Warehouse(path, read_only=True) as wh:
            new = pt.export_potential(wh, **kw)
    with monkeypatch.context() as m:
        m.setattr(pt, "_FORCE_CELLS", True)
        with Warehouse(path, read_only=True) as wh:
            old = pt.export_potential(wh, **kw)
    return new, old


def _same(new: pd.DataFrame, old: pd.DataFrame) -> None:
    assert list(new.columns) == list(old.columns) and len(new) == len(old) > 0
    for c in new.columns:
        a, b = new[c].to_numpy(), old[c].to_numpy()
        if c == "unrealised":   # a difference of two near-equal numbers: relative to the potential
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12 * float(old["potential"].abs().max()), err_msg=c)
        elif new[c].dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, err_msg=c)
        else:
            assert (a == b).all(), c
    keys = set(new.attrs) - {"meta"}
    assert keys == set(old.attrs) - {"meta"}
    for k in keys:
        _close(new.attrs[k], old.attrs[k], k)


def _close(a, b, where: str) -> None:
    """Equal settings and notes; numbers (the ease regression's coefficients) to 1e-12."""
    if isinstance(a, dict):
        assert set(a) == set(b), where
        for k in a:
            _close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15), where
    else:
        assert str(a) == str(b), where


#: ITC calls project with the Atlas growth projections (the sample has no macro table; countries without a
#: projection are held flat), so the RCA-growth adjustment (2020 → 2021) is applied.
BACI_CALLS = {
    "itc, base 2021 (RCA growth from 2020)": dict(exporter="ZAF", missing_macro="flat"),
    "itc, AFG": dict(exporter="AFG", horizon=0),
    "basic, every cell": dict(exporter="ZAF", horizon=0, method="basic", keep_zero=True),
    "itc, base 2020 (text keys)": dict(exporter="ZAF", year=2020, horizon=0),
    "itc, two years averaged": dict(exporter="ZAF", missing_macro="flat", average_years=2),
    "itc, HS4": dict(exporter="ZAF", missing_macro="flat", level=4),
    "basic, exporter rows, tariffs by market": dict(exporter="ZAF", horizon=0, method="basic",
                                                    access="tariff", mirror="exporter"),
}


@pytest.mark.parametrize("call", list(BACI_CALLS))
def test_engine_sums_equal_the_cells_on_baci(mixed_wh, monkeypatch, call):
    kw = dict(BACI_CALLS[call])
    if kw.get("access") == "tariff":
        with Warehouse(mixed_wh, read_only=True) as wh:
            cells = wh.raw.execute("SELECT DISTINCT partner AS market, product FROM flows WHERE year = 2021 "
                                   "ORDER BY 1, 2 LIMIT 4000").df()
        kw["tariffs"] = cells.assign(rate=np.arange(len(cells)) % 13 / 100.0,
                                     competitor_rate=np.arange(len(cells)) % 7 / 100.0)
    new, old = _both(mixed_wh, monkeypatch, **kw)
    _same(new, old)
    if "average_years" in kw:
        assert new.attrs["years_averaged"] == [2020, 2021]
    if call.startswith("itc, base 2021"):
        assert new.attrs["rca_growth_from"] == 2020


DEMO_CALLS = {
    "itc (importer mirror, Atlas projections)": dict(exporter="IRN", missing_macro="drop"),
    "itc, mean mirror, trend": dict(exporter="IRN", mirror="mean", projections="trend", missing_macro="flat"),
    "basic": dict(exporter="IRN", method="basic", missing_macro="drop"),
    "itc, a province": dict(exporter="IRN", province="Tehran", missing_macro="drop"),
    "itc, HS2, averaged": dict(exporter="IRN", level=2, average_years=2, missing_macro="drop"),
    "itc, another exporter": dict(exporter="TUR", missing_macro="drop"),
}


@pytest.mark.parametrize("call", list(DEMO_CALLS))
def test_engine_sums_equal_the_cells_on_the_demo_world(demo_wh, monkeypatch, call):
    new, old = _both(demo_wh, monkeypatch, **DEMO_CALLS[call])
    _same(new, old)
    assert new.attrs["previous_year"] == 2018


def test_supplier_tariffs_still_read_the_cells(mixed_wh, monkeypatch):
    """Supplier-specific tariff rates weight each cell by its supplier's rate: that path fetches the cells."""
    with Warehouse(mixed_wh, read_only=True) as wh:
        cells = wh.raw.execute("SELECT DISTINCT reporter AS exporter, partner AS market, product FROM flows "
                               "WHERE year = 2021 ORDER BY 1, 2, 3 LIMIT 3000").df()
    tariffs = cells.assign(rate=np.arange(len(cells)) % 11 / 100.0)
    calls = []
    real = pt._coded
    monkeypatch.setattr(pt, "_coded", lambda t: calls.append(1) or real(t))
    with Warehouse(mixed_wh, read_only=True) as wh:
        out = pt.export_potential(wh, "ZAF", horizon=0, tariffs=tariffs)
    assert calls and out.attrs["access_basis"] == "tariff+distance" and len(out)


def test_mirror_without_import_rows_is_the_export_side(mixed_wh):
    """No import row in the years: the importer and mean rules give the exporters' rows (checked against the
    outer join itself, summed by market)."""
    with Warehouse(mixed_wh, read_only=True) as wh:
        assert not pt._has_imports(wh, [2021])
        for rule in ("importer", "mean"):
            fast = pt._year_rows(wh, [2021], None, rule)
            join = pt._mirrored_rows(wh, rule, [2021])
            a = fast.group_by("partner_key").aggregate(v=fast.value.sum()).to_pandas()
            b = join.group_by("partner").aggregate(v=join.value_usd.sum()).to_pandas()
            assert len(a) == len(b) > 200
            np.testing.assert_allclose(np.sort(a["v"].to_numpy()), np.sort(b["v"].to_numpy()), rtol=1e-12)
