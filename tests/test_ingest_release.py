"""BACI release zips: one CSV per year, loaded year by year (``ingest_release``, ``tradepulse ingest ZIP``).

The release is built in tmp_path from the real baci_sample.csv (2021) with its year column rewritten to 2019
and 2020 — the data stay real, only the year differs — plus BACI's real country code list.  Nothing is
copied into the project.
"""

from __future__ import annotations

import json
import zipfile

import pytest
from typer.testing import CliRunner

from tradepulse.errors import InputError
from tradepulse.ingest import ingest_file, ingest_release
from tradepulse.warehouse import Warehouse

ROWS = 71_192
YEARS = (2019, 2020, 2021)


def _year_csv(shared_data, tmp_path, year: int):
    """baci_sample.csv with t = year (byte-for-byte otherwise)."""
    text = (shared_data / "baci_sample.csv").read_bytes()
    out = tmp_path / f"BACI_HS17_Y{year}_V202401.csv"
    out.write_bytes(text.replace(b"\n2021,", f"\n{year},".encode()))
    return out


@pytest.fixture
def release(shared_data, tmp_path):
    z = tmp_path / "BACI_HS17_V202401.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for y in YEARS:
            zf.write(_year_csv(shared_data, tmp_path, y), f"BACI_HS17_Y{y}_V202401.csv")
        zf.write(shared_data / "baci_country_codes_V202201.csv", "country_codes_V202401.csv")
        zf.writestr("product_codes_HS17_V202401.csv", "code,description\n010121,Horses\n")
    return z


def test_every_year_is_its_own_load_with_the_release_hs_revision(tmp_warehouse, release, shared_data):
    rs = ingest_release(tmp_warehouse, release)
    assert [(r.rows_loaded, r.rows_quarantined, r.skipped) for r in rs] == [(ROWS, 0, False)] * 3
    assert len({r.load_id for r in rs}) == 3 and len({r.sha256 for r in rs}) == 3
    by_year = dict(tmp_warehouse.raw.execute("SELECT year, count(*) FROM flows GROUP BY 1").fetchall())
    assert by_year == {y: ROWS for y in YEARS}
    assert tmp_warehouse.raw.execute("SELECT DISTINCT hs_revision FROM flows").fetchall() == [("HS2017",)]
    # the same values every year (only t was rewritten): each year's total is the sample's
    totals = {r.value_usd_loaded for r in rs}
    assert len(totals) == 1
    # again: every year skipped; one year's CSV loaded on its own is recognised as the same data
    assert all(r.skipped for r in ingest_release(tmp_warehouse, release))
    assert ingest_file(tmp_warehouse, shared_data / "baci_sample.csv", "baci").skipped


def test_years_filter_and_errors(tmp_warehouse, release):
    rs = ingest_release(tmp_warehouse, release, years=[2020])
    assert len(rs) == 1 and rs[0].file.endswith("!BACI_HS17_Y2020_V202401.csv")
    assert tmp_warehouse.raw.execute("SELECT DISTINCT year FROM flows").fetchall() == [(2020,)]
    with pytest.raises(InputError, match="no yearly data CSV in the zip for the years"):
        ingest_release(tmp_warehouse, release, years=[1999])
    with pytest.raises(InputError, match="zip holds 3 data CSV files"):  # one file: name the member
        ingest_file(tmp_warehouse, release, "baci")
    r = ingest_file(tmp_warehouse, release, "baci", member="BACI_HS17_Y2019_V202401.csv")
    assert r.rows_loaded == ROWS


def test_hs_revision_from_the_file_name_unless_given(tmp_warehouse, shared_data, tmp_path):
    csv = _year_csv(shared_data, tmp_path, 2018)
    r = ingest_file(tmp_warehouse, csv, "baci")
    assert tmp_warehouse.raw.execute("SELECT DISTINCT hs_revision FROM flows").fetchall() == [("HS2017",)]
    note = json.loads(tmp_warehouse.raw.execute("SELECT note FROM loads WHERE load_id = ?",
                                                [r.load_id]).fetchall()[0][0])
    assert note["hs_revision"] == "HS2017 (from the file name)"
    other = tmp_path / "plain.csv"
    other.write_bytes((shared_data / "baci_sample.csv").read_bytes().replace(b"\n2021,", b"\n2017,"))
    ingest_file(tmp_warehouse, other, "baci", hs_revision="HS12")
    assert tmp_warehouse.raw.execute("SELECT hs_revision, count(*) FROM flows WHERE year = 2017 "
                                     "GROUP BY 1").fetchall() == [("HS2012", ROWS)]


def test_cli_loads_a_release_with_years(tmp_path, release):
    from tradepulse.cli import app
    wh = tmp_path / "cli.duckdb"
    res = CliRunner().invoke(app, ["ingest", str(release), "--format", "baci", "--warehouse", str(wh),
                                   "--years", "2020-2021", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert [o["rows_loaded"] for o in out] == [ROWS, ROWS]
    assert [o["file"].rsplit("!", 1)[1] for o in out] == ["BACI_HS17_Y2020_V202401.csv", "BACI_HS17_Y2021_V202401.csv"]
    res = CliRunner().invoke(app, ["ingest", str(release), "--format", "baci", "--warehouse", str(wh)])
    assert res.exit_code == 0 and res.output.count("skipped") == 2 and res.output.count("loaded 71,192") == 1
    res = CliRunner().invoke(app, ["ingest", str(release), "--format", "baci", "--warehouse", str(wh),
                                   "--years", "20x9"])
    assert res.exit_code != 0 and "--years" in res.output
    with Warehouse(wh, read_only=True) as w:
        assert w.raw.execute("SELECT count(DISTINCT year) FROM flows").fetchall() == [(3,)]
