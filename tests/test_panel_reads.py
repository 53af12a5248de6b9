"""Reads of a many-year warehouse (issue 19): ``complexity`` streams year by year, ``potential``,
``proximity`` and ``opportunities`` read only the years they use — with the results of an all-years read.

Real fixtures: the py-ecomplexity Atlas sample (2 years, world rows) and the CEPII BACI sample (bilateral rows,
summed over partners); the SYNTHETIC demo world for a longer panel with macro data.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tradepulse.cli import app
from tradepulse.indicators.complexity import (
    ComplexityByYear,
    complexity,
    warehouse_export_years,
    warehouse_exports,
)
from tradepulse.ingest import ingest_file, ingest_frame
from tradepulse.meta import meta_of
from tradepulse.warehouse import Warehouse

from helpers import assert_same_panel

@pytest.fixture(scope="module")
def demo_wh(tmp_path_factory):
    """SYNTHETIC demo world, 2014–2023 with bilateral rows in every year, plus its macro table."""
    from tradepulse.demo.world import generate

    w = generate(n_countries=40, n_products=150, first_year=2014, last_year=2023, bilateral_years=10)
    path = tmp_path_factory.mktemp("panel") / "wh.duckdb"
    with Warehouse(path) as wh:
        ingest_frame(wh, w.flows, source="demo-synthetic", name="demo_flows")
        ingest_frame(wh, w.macro, source="demo-synthetic", name="demo_macro", target="macro")
    return path, w


@pytest.fixture(scope="module")
def atlas_wh(shared_data, tmp_path_factory):
    """Real: the py-ecomplexity Atlas sample (1995–1996, 10 countries × 30 HS4 products) as world rows."""
    g = pd.read_csv(shared_data / "ecomplexity_fixtures" / "trade_data_sample.csv", dtype={"hs92": str})
    g = g[g["origin"] != "blx"]   # Belgium-Luxembourg has no ISO3 code of its own
    path = tmp_path_factory.mktemp("atlas") / "wh.duckdb"
    with Warehouse(path) as wh:
        ingest_frame(wh, pd.DataFrame({"year": g["year"], "month": None, "reporter": g["origin"].str.upper(),
                                       "partner": "WLD", "flow": "export", "product": g["hs92"],
                                       "hs_revision": "HS1992", "value_usd": g["export_val"].astype(float),
                                       "quantity": None, "unit": None, "province": None}),
                     source="generic", name="trade_data_sample.csv")
    return path


@pytest.fixture(scope="module")
def baci_wh(shared_data, tmp_path_factory):
    """Real: the CEPII BACI sample (2021, bilateral rows: partners are summed)."""
    path = tmp_path_factory.mktemp("baci") / "wh.duckdb"
    with Warehouse(path) as wh:
        ingest_file(wh, shared_data / "baci_sample.csv", "baci",
                    country_codes_csv=shared_data / "baci_country_codes_V202201.csv")
    return path


def _both(path, **options):
    """(all years at once, year by year, the source) on the warehouse at ``path``."""
    with Warehouse(path, read_only=True) as wh:
        whole = complexity(warehouse_exports(wh), "exporter", "product", "export_value", "year", **options)
        src = warehouse_export_years(wh)
        stream = ComplexityByYear(src, **options)
        parts = list(stream)
    return whole, parts, stream, src


@pytest.mark.parametrize("fixture", ["atlas_wh", "baci_wh"])
def test_year_by_year_equals_all_years_on_real_fixtures(fixture, request):
    whole, parts, stream, src = _both(request.getfixturevalue(fixture))
    assert_same_panel(whole, pd.concat(parts, ignore_index=True))
    assert src.reads == [[y] for y in src.years]                       # one year per read
    assert [int(p["year"].iat[0]) for p in parts] == sorted(whole["year"].unique())
    assert all(p["year"].nunique() == 1 for p in parts)
    assert meta_of(whole).warnings == stream.meta.warnings


def test_bilateral_rows_are_summed_over_partners(baci_wh):
    with Warehouse(baci_wh, read_only=True) as wh:
        one = warehouse_export_years(wh).read([2021])
        flows = wh.raw.execute("SELECT reporter, sum(value_usd) FROM flows WHERE flow = 'export' GROUP BY 1"
                               ).fetchall()
    got = one.groupby("exporter", observed=True)["export_value"].sum()
    for reporter, total in flows:
        assert got[reporter] == pytest.approx(total, rel=1e-12)


@pytest.mark.parametrize("options", [{}, {"rolling": 3}, {"min_exports": 5e8, "exclude_products": ["27"]},
                                     {"convention": "stata", "cog_form": "atlas"}, {"prody": True}])
def test_year_by_year_equals_all_years_on_the_demo_world(demo_wh, options):
    path, w = demo_wh
    options = dict(options)
    if options.pop("prody", False):
        gdp = w.macro.assign(gdp_pc=w.macro.gdp_usd / w.macro.population)[["year", "iso3", "gdp_pc"]]
        gdp = gdp[gdp["iso3"] != "IRN"]   # one exporter without GDP per capita: a warning to carry over
        options["gdp_pc"] = gdp
    whole, parts, stream, src = _both(path, **options)
    assert_same_panel(whole, pd.concat(parts, ignore_index=True))
    assert src.reads == [[y] for y in src.years] and len(src.years) == 10
    assert meta_of(whole).to_dict() == stream.meta.to_dict()
    if "gdp_pc" in options:
        assert any("IRN" in x for x in stream.meta.warnings)


def test_rows_materialised_at_once_are_one_years(demo_wh, monkeypatch):
    """The property behind bounded memory: no read and no frame handed out holds more than one year (the
    direct DuckDB reader, :class:`_DirectExports`, and the Ibis path it replaces on other engines)."""
    from tradepulse.indicators import complexity as cx

    path, _ = demo_wh
    real, real_fetch = cx.warehouse_exports, cx._DirectExports.fetch
    for direct in (True, False):
        read_years: list[list[int]] = []

        def spy(warehouse, *, years=None, **kw):
            read_years.append(years)
            out = real(warehouse, years=years, **kw)
            assert out["year"].nunique() == 1
            return out

        def spy_fetch(self, sql, con):
            out = real_fetch(self, sql, con)
            assert out["year"].nunique() == 1
            read_years.append([int(out["year"].iat[0])])
            return out

        monkeypatch.setattr(cx, "warehouse_exports", spy)
        monkeypatch.setattr(cx._DirectExports, "fetch", spy_fetch)
        if not direct:
            monkeypatch.setattr(cx._DirectExports, "plan", classmethod(lambda cls, *a: False))
        out = path.parent / "cx.parquet"
        r = CliRunner().invoke(app, ["complexity", "-w", str(path), "-o", str(out)])
        assert r.exit_code == 0, r.output
        assert read_years == [[y] for y in range(2014, 2024)]              # never None (all years)
        got = pd.read_parquet(out)
        assert sorted(got["year"].unique()) == list(range(2014, 2024))


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_cli_complexity_writes_what_the_all_years_computation_gives(demo_wh, suffix, tmp_path):
    from tradepulse.cli.common import write_table

    path, _ = demo_wh
    out = tmp_path / f"cx.{suffix}"
    r = CliRunner().invoke(app, ["complexity", "-w", str(path), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "years 2014–2023" in r.output and not (tmp_path / f"cx.{suffix}.part").exists()
    with Warehouse(path, read_only=True) as wh:
        whole = complexity(warehouse_exports(wh))
    ref = tmp_path / f"ref.{suffix}"
    write_table(whole, ref)
    if suffix == "csv":
        a, b = (pd.read_csv(f, dtype={"product": str}) for f in (ref, out))
    else:
        a, b = pd.read_parquet(ref), pd.read_parquet(out)
        assert b.attrs == a.attrs and b.attrs["meta"]["warnings"] == []
        assert isinstance(b["exporter"].dtype, pd.CategoricalDtype) and b["m"].dtype == a["m"].dtype
    assert_same_panel(a, b)


def test_cli_complexity_error_leaves_no_file(demo_wh, tmp_path):
    path, _ = demo_wh
    out = tmp_path / "cx.parquet"
    r = CliRunner().invoke(app, ["complexity", "-w", str(path), "-o", str(out), "--threshold", "1e9"])
    assert r.exit_code == 2
    assert not out.exists() and not (tmp_path / "cx.parquet.part").exists()


def test_proximity_and_opportunities_read_only_their_year(demo_wh, tmp_path, monkeypatch):
    from tradepulse.indicators import complexity as cx
    from tradepulse.indicators.complexity import _prepare, opportunities, proximity

    path, _ = demo_wh
    read_years: list = []
    real, real_fetch = cx.warehouse_exports, cx._DirectExports.fetch
    monkeypatch.setattr(cx, "warehouse_exports",
                        lambda wh, *, years=None, **kw: read_years.append(years) or real(wh, years=years, **kw))

    def spy_fetch(self, sql, con):   # the direct DuckDB reader (one year per call)
        out = real_fetch(self, sql, con)
        read_years.append(sorted(int(v) for v in out["year"].unique()))
        return out

    monkeypatch.setattr(cx._DirectExports, "fetch", spy_fetch)
    with Warehouse(path, read_only=True) as wh:
        exports = real(wh)
    df = _prepare(exports, "exporter", "product", "export_value", "year", missing="error", duplicates="error")
    runner = CliRunner()
    for in_year in (None, 2019):
        out = tmp_path / f"prox{in_year}.parquet"
        args = ["proximity", "-w", str(path), "-o", str(out)] + (["--in-year", str(in_year)] if in_year else [])
        read_years.clear()
        r = runner.invoke(app, args)
        assert r.exit_code == 0, r.output
        y = in_year or 2023
        assert read_years == [[y]]
        ref = proximity(df[df["year"] == y], "exporter", "product", "value", "year", duplicates="sum")
        got = pd.read_parquet(out)
        pd.testing.assert_series_equal(got["proximity"], ref["proximity"], rtol=1e-12)
        assert (got["product_1"].astype(str).to_numpy() == ref["product_1"].astype(str).to_numpy()).all()

        out = tmp_path / f"opp{in_year}.csv"
        args = ["opportunities", "--country", "IRN", "-w", str(path), "-o", str(out), "--min-exports", "1e8"]
        read_years.clear()
        r = runner.invoke(app, args + (["--in-year", str(in_year)] if in_year else []))
        assert r.exit_code == 0, r.output
        assert read_years == [[y]]
        ref = opportunities(exports, "IRN", year=in_year, year_column="year", min_exports=1e8)
        got = pd.read_csv(out, dtype={"product": str})
        assert got["product"].tolist() == ref["product"].tolist()
        np.testing.assert_allclose(got["score"], ref["score"], rtol=1e-9)
    r = runner.invoke(app, ["proximity", "-w", str(path), "-o", str(tmp_path / "p.parquet"), "--in-year", "1990"])
    assert r.exit_code == 2 and "no data for year 1990" in r.output


# ---------------------------------------------------------------- potential
def _sql_log(monkeypatch) -> list[str]:
    """Every SQL statement the DuckDB backend compiles from an Ibis expression."""
    from ibis.backends.duckdb import Backend

    seen: list[str] = []
    real = Backend.compile

    def compile_(self, expr, *args, **kwargs):
        sql = real(self, expr, *args, **kwargs)
        seen.append(str(sql))
        return sql

    monkeypatch.setattr(Backend, "compile", compile_)
    return seen


def _years_in(sql: str) -> set[int]:
    years: set[int] = set()
    for m in re.finditer(r'"year"\s*(?:IN\s*\(([^)]*)\)|=\s*(\d+))', sql):
        years.update(int(v) for v in re.findall(r"\d+", m.group(1) or m.group(2)))
    return years


@pytest.mark.parametrize("method", ["itc", "basic"])
def test_potential_reads_only_the_years_it_uses(demo_wh, tmp_path, monkeypatch, method):
    """Base year 2023, growth window 5: potential uses 2023 and 2018 (the earliest bilateral year of the
    window).  A warehouse holding only those two years gives the same table, and on the 10-year warehouse
    every query of the flows is pinned to those years (the year probes, LIMIT 1 each, to 2018–2023)."""
    from tradepulse.indicators.potential import export_potential

    path, w = demo_wh
    small = tmp_path / "two_years.duckdb"
    with Warehouse(small) as wh:
        ingest_frame(wh, w.flows[w.flows["year"].isin([2018, 2023])], source="demo-synthetic", name="demo_flows")
        ingest_frame(wh, w.macro, source="demo-synthetic", name="demo_macro", target="macro")
    with Warehouse(small, read_only=True) as wh:
        ref = export_potential(wh, "IRN", year=2023, growth_window=5, method=method)
    log = _sql_log(monkeypatch)
    with Warehouse(path, read_only=True) as wh:
        got = export_potential(wh, "IRN", year=2023, growth_window=5, method=method)
    keys = ["market", "product"]
    a, b = (x.sort_values(keys).reset_index(drop=True) for x in (ref, got))
    num = [c for c in a.columns if a[c].dtype.kind == "f"]
    pd.testing.assert_frame_equal(a[num], b[num], rtol=1e-12, atol=1e-9)
    assert (a[keys].astype(str).to_numpy() == b[keys].astype(str).to_numpy()).all()
    flows = [s for s in log if re.search(r'FROM "flows(?:_keyed)?"', s)]   # the keyed view too (issue 19)
    assert flows
    for sql in flows:
        if re.search(r"LIMIT 1\b", sql):                              # the year probes: within the window
            assert _years_in(sql) and _years_in(sql) <= set(range(2018, 2024)), sql
            continue
        assert _years_in(sql) and _years_in(sql) <= {2018, 2023}, sql
    # without a year: the latest year is found by probing down from the latest candidate
    log.clear()
    with Warehouse(path, read_only=True) as wh:
        again = export_potential(wh, "IRN", growth_window=5, method=method)
    assert again.attrs["year"] == 2023 and len(again) == len(got)
    assert all(_years_in(sql) <= set(range(2018, 2024)) for sql in log if re.search(r'FROM "flows(?:_keyed)?"', sql))
