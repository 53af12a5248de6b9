"""``complexity`` of a DuckDB warehouse read straight from the storage (issue 19: the 29-year BACI panel in
≤ 60 s): :class:`tradepulse.indicators.complexity._DirectExports` sums the slim BACI rows by their numbers and
decodes the sums, the next year is read in a background thread and the output written in another.  Oracle: the
Ibis path through the ``flows`` view (``warehouse_exports``), which the direct reader replaces — same rows, sums
equal to 1e-12 (another summation order), and the CLI output of the whole pipeline equal to the old one.

Real fixture: the CEPII BACI sample (2021, slim), the same rows as 2022 split by reporter into two slim loads
(one year from two loads), a 2023 slim load whose country list maps a number to WLD (world rows in some
reporter-years), and 2020 as canonical rows of the same dataset in ``flow_rows`` (some codes cut to HS4, world
rows for some reporters, all-goods TOTAL rows).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tradepulse.cli import app
from tradepulse.indicators import complexity as cx
from tradepulse.ingest import ingest_file, ingest_frame
from tradepulse.warehouse import Warehouse

from helpers import (assert_same_panel, canonical_panel, country_codes_with, hs4_text_year, ingest_baci_sample,
                     ingest_split_year)

@pytest.fixture(scope="module")
def panel_wh(shared_data, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("direct")
    path = tmp / "wh.duckdb"
    codes = shared_data / "baci_country_codes_V202201.csv"
    sample = pd.read_csv(shared_data / "baci_sample.csv", dtype={"q": str})
    with Warehouse(path) as wh:
        name = ingest_baci_sample(wh, shared_data)
        # 2022: the same rows × 1.3, two slim loads (reporters split): one year from two loads
        ingest_split_year(wh, sample, tmp, codes, name)
        # 2023: a country list that maps number 0 to WLD; some reporters get world rows (partner 0)
        wc = country_codes_with(codes, tmp / "codes_wld.csv", b'0,"World","World","W0","WLD"')
        y23 = sample.assign(t=2023, v=sample["v"] * 0.7)
        reps = sorted(y23["i"].unique())[::3]
        wld = (y23[y23["i"].isin(reps)].groupby(["i", "k"], as_index=False)["v"].sum()
               .assign(t=2023, j=0, q="NA"))
        wld["v"] *= 1.1                                  # world rows differ from the partner sums
        f = tmp / "baci_2023.csv"
        pd.concat([y23, wld[y23.columns]], ignore_index=True).to_csv(f, index=False)
        ingest_file(wh, f, "baci", country_codes_csv=wc, dataset=name)
        # 2020: canonical rows of the same dataset in flow_rows, with HS4 codes, world rows and TOTAL rows
        rows = hs4_text_year(wh.raw.execute("SELECT * FROM flows WHERE year = 2021").df())
        some = rows["reporter"].isin(sorted(rows["reporter"].unique())[::4])
        world = rows[some].groupby(["year", "reporter", "flow", "product", "hs_revision"], as_index=False)[
            "value_usd"].sum().assign(partner="WLD")
        total = rows.groupby(["year", "reporter", "partner", "flow", "hs_revision"], as_index=False)[
            "value_usd"].sum().assign(product="TOTAL")
        extra = pd.concat([world, total], ignore_index=True).assign(month=None, quantity=None, unit=None,
                                                                    province=None)
        ingest_frame(wh, pd.concat([rows.drop(columns=["load_id", "source"]), extra[rows.columns.drop(
            ["load_id", "source"])]], ignore_index=True), source="baci", name="baci_2020.csv", dataset=name)
        stored = dict(wh.raw.execute("SELECT 'flow_rows', count(*) FROM flow_rows UNION ALL "
                                     "SELECT 'wld', count(*) FROM baci_countries WHERE iso3 = 'WLD'").fetchall())
        assert stored["flow_rows"] > 0 and stored["wld"] == 1
    return path


def _direct_off(monkeypatch) -> None:
    monkeypatch.setattr(cx._DirectExports, "plan", classmethod(lambda cls, *a: False))


@pytest.mark.parametrize("digits", [None, 4, 2])
def test_direct_read_equals_the_flows_view_read(panel_wh, digits):
    with Warehouse(panel_wh, read_only=True) as wh:
        src = cx.warehouse_export_years(wh, digits=digits)
        assert src.years == [2020, 2021, 2022, 2023]
        direct = src._direct_reader()
        assert direct and direct.slim and direct.world and direct.with_rows and direct.pieces[2022] == 2
        streamed = dict(src.stream(src.years))            # background reads
        for y in src.years:
            old = cx.warehouse_exports(wh, years=[y], digits=digits, dataset=src.dataset)
            new = src.read([y])
            assert isinstance(new["exporter"].dtype, pd.CategoricalDtype)
            assert_same_panel(new, old)
            # the row order of the old read (data-row numbers of errors): year, exporter, product as text
            assert (new["exporter"].astype(str).to_numpy() == old["exporter"].to_numpy()).all()
            assert (new["product"].astype(str).to_numpy() == old["product"].to_numpy()).all()
            assert_same_panel(streamed[y], old)
    # the world rule was exercised: some 2023 reporters have world rows, and they are what was read
    w23 = canonical_panel(streamed[2023])
    assert len(w23) and digits is not None or "TOTAL" not in set(w23["product"])


@pytest.mark.parametrize("args", [[], ["--digits", "4"], ["--rolling", "2"],
                                  ["--exclude-products", "27,99", "--min-exports", "1e8"],
                                  ["--convention", "stata", "--cog-form", "atlas"]])
def test_cli_output_equals_the_old_path(panel_wh, args, tmp_path, monkeypatch):
    runner = CliRunner()
    new, old = tmp_path / "new.parquet", tmp_path / "old.parquet"
    r = runner.invoke(app, ["complexity", "-w", str(panel_wh), "-o", str(new), *args])
    assert r.exit_code == 0, r.output
    with monkeypatch.context() as m:
        _direct_off(m)
        r_old = runner.invoke(app, ["complexity", "-w", str(panel_wh), "-o", str(old), *args])
    assert r_old.exit_code == 0, r_old.output
    assert r.output.replace(str(new), "OUT") == r_old.output.replace(str(old), "OUT")
    a, b = pd.read_parquet(new), pd.read_parquet(old)
    assert a.attrs == b.attrs
    assert [str(t) for t in a.dtypes] == [str(t) for t in b.dtypes]
    assert_same_panel(a, b)


def test_csv_output_and_background_writer_equal_the_foreground_writer(panel_wh, tmp_path, monkeypatch):
    from tradepulse.cli.common import TableWriter

    runner = CliRunner()
    out = tmp_path / "bg.csv"
    assert runner.invoke(app, ["complexity", "-w", str(panel_wh), "-o", str(out)]).exit_code == 0
    real_init = TableWriter.__init__
    monkeypatch.setattr(TableWriter, "__init__", lambda self, o, **kw: real_init(self, o))   # foreground
    _direct_off(monkeypatch)
    ref = tmp_path / "fg.csv"
    assert runner.invoke(app, ["complexity", "-w", str(panel_wh), "-o", str(ref)]).exit_code == 0
    a, b = (pd.read_csv(f, dtype={"product": str}) for f in (out, ref))
    assert_same_panel(a, b)


def test_a_failing_background_write_leaves_no_file(panel_wh, tmp_path, monkeypatch):
    from tradepulse.cli.common import TableWriter
    from tradepulse.errors import TradepulseError

    def boom(self, df, first):
        raise TradepulseError("disk full (test)")

    monkeypatch.setattr(TableWriter, "_write", boom)
    out = tmp_path / "cx.parquet"
    r = CliRunner().invoke(app, ["complexity", "-w", str(panel_wh), "-o", str(out)])
    assert r.exit_code == 2 and "disk full (test)" in r.output
    assert not out.exists() and not (tmp_path / "cx.parquet.part").exists()


@pytest.fixture(scope="module")
def slim_wh(shared_data, tmp_path_factory):
    """Slim loads only: the BACI sample (2021) and its rows × 1.3 as 2022, loaded with a country list where a
    second number (999) also names Afghanistan (rows moved to it: two numbers, one code)."""
    tmp = tmp_path_factory.mktemp("slim")
    path = tmp / "wh.duckdb"
    codes = shared_data / "baci_country_codes_V202201.csv"
    sample = pd.read_csv(shared_data / "baci_sample.csv", dtype={"q": str})
    with Warehouse(path) as wh:
        name = ingest_baci_sample(wh, shared_data)
        twice = country_codes_with(codes, tmp / "codes_twice.csv", b'999,"Afg","Afg","AF","AFG"')
        y22 = sample.assign(t=2022, v=sample["v"] * 1.3)
        afg = np.flatnonzero(y22["i"].to_numpy() == 4)
        y22.loc[y22.index[afg[::2]], "i"] = 999                 # half of Afghanistan's rows under 999
        f = tmp / "baci_2022.csv"
        y22.to_csv(f, index=False)
        ingest_file(wh, f, "baci", country_codes_csv=twice, dataset=name)
        assert wh.raw.execute("SELECT count(*) FROM baci_rows WHERE reporter = 999").fetchall()[0][0] > 0
    return path


@pytest.mark.parametrize("digits", [None, 4])
def test_numbers_decoded_in_numpy_equal_the_flows_view_read(slim_wh, digits, monkeypatch):
    used: list[int] = []
    real = cx._number_exports

    def spy(tab, year, numbers, codes):
        out = real(tab, year, numbers, codes)
        used.append(year)
        return out

    monkeypatch.setattr(cx, "_number_exports", spy)
    with Warehouse(slim_wh, read_only=True) as wh:
        src = cx.warehouse_export_years(wh, digits=digits)
        assert src.years == [2021, 2022]
        for y, new in src.stream(src.years):
            old = cx.warehouse_exports(wh, years=[y], digits=digits, dataset=src.dataset)
            assert_same_panel(new, old)
            assert (new["exporter"].astype(str).to_numpy() == old["exporter"].to_numpy()).all()
            assert (new["product"].astype(str).to_numpy() == old["product"].to_numpy()).all()
    # 2021: one load, distinct codes → NumPy; 2022: two numbers name AFG → SQL; digits → SQL
    assert used == ([2021] if digits is None else [])


def test_cli_output_on_slim_loads_equals_the_old_path(slim_wh, tmp_path, monkeypatch):
    runner = CliRunner()
    new, old = tmp_path / "new.parquet", tmp_path / "old.parquet"
    assert runner.invoke(app, ["complexity", "-w", str(slim_wh), "-o", str(new)]).exit_code == 0
    _direct_off(monkeypatch)
    assert runner.invoke(app, ["complexity", "-w", str(slim_wh), "-o", str(old)]).exit_code == 0
    a, b = pd.read_parquet(new), pd.read_parquet(old)
    assert a.attrs == b.attrs and [str(t) for t in a.dtypes] == [str(t) for t in b.dtypes]
    assert_same_panel(a, b)
