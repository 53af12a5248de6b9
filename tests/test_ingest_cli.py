"""CLI: ``tradepulse ingest`` (--json, exit codes), ``info`` (--json) and ``export`` (csv/parquet/xlsx, --where)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from tradepulse.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def flat(res) -> str:
    """Output without any whitespace (Rich wraps long lines at the terminal width)."""
    return "".join(res.output.split())


@pytest.fixture
def loaded(tmp_path, shared_data):
    wh = tmp_path / "wh.duckdb"
    res = invoke("ingest", shared_data / "baci_sample.csv", "--format", "baci", "--warehouse", wh, "--json")
    assert res.exit_code == 0, res.output
    return wh, json.loads(res.stdout)


def test_ingest_json_summary_and_skip(loaded, shared_data):
    wh, summary = loaded
    assert summary["rows_loaded"] == 71_192 and summary["rows_quarantined"] == 0
    assert summary["value_usd_loaded"] == pytest.approx(69_369_988_138)
    again = invoke("ingest", shared_data / "baci_sample.csv", "-f", "baci", "-w", wh)
    assert again.exit_code == 0 and "skipped" in flat(again)
    rep = invoke("ingest", shared_data / "baci_sample.csv", "-f", "baci", "-w", wh, "--replace", "--json")
    assert json.loads(rep.stdout)["rows_replaced"] == 71_192


def test_ingest_generic_with_mapping_and_options(tmp_path, shared_data):
    m = tmp_path / "m.toml"
    m.write_text('[columns]\nreporter = "exporter"\n[constants]\npartner = "WLD"\nflow = "export"\n')
    wh = tmp_path / "wh.duckdb"
    res = invoke("ingest", shared_data / "world_trade_2017_hs4.parquet", "-f", "generic", "--mapping", m,
                 "-o", "year=2017", "-w", wh, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["rows_loaded"], out["rows_quarantined"]) == (176_971, 56_461)
    assert out["value_usd_loaded"] == 20_080_692_967_295


def test_unusable_file_exits_nonzero_naming_file_line_column(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("t,i,j,v,q\n2021,4,24,1.0,NA\n")
    res = invoke("ingest", bad, "-f", "baci", "-w", tmp_path / "wh.duckdb")
    assert res.exit_code == 2
    assert str(bad) in flat(res) and "line1" in flat(res) and "'product'" in flat(res)
    res = invoke("ingest", tmp_path / "nothing.csv", "-f", "baci", "-w", tmp_path / "wh.duckdb")
    assert res.exit_code == 2 and "filenotfound" in flat(res)


def test_partly_bad_file_exits_zero_and_prints_summary(tmp_path):
    f = tmp_path / "part.csv"
    f.write_text("t,i,j,k,v,q\n2021,4,24,010121,1.5,NA\n2021,4,24,010122,-2,NA\n")
    res = invoke("ingest", f, "-f", "baci", "-w", tmp_path / "wh.duckdb")
    assert res.exit_code == 0, res.output
    assert "loaded1rows" in flat(res) and "quarantined1" in flat(res) and "negative" in flat(res)


def test_info_json(loaded):
    wh, summary = loaded
    res = invoke("info", "-w", wh, "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["tables"]["flows"] == 71_192 and data["tables"]["loads"] == 1
    assert data["flow_years"] == [2021] and data["reporters"] == 2
    assert data["loads"][0]["load_id"] == summary["load_id"]
    assert invoke("info", "-w", wh).exit_code == 0
    assert invoke("info", "-w", wh.parent / "none.duckdb").exit_code == 2


@pytest.mark.parametrize("ext", ["csv", "parquet", "xlsx"])
def test_export_with_where(loaded, tmp_path, ext, shared_data):
    wh, _ = loaded
    out = tmp_path / f"afg.{ext}"
    res = invoke("export", out, "--table", "flows", "--where", "year=2021", "--where", "reporter=AFG", "-w", wh)
    assert res.exit_code == 0, res.output
    df = {"csv": pd.read_csv, "parquet": pd.read_parquet, "xlsx": pd.read_excel}[ext](out)
    raw = pd.read_csv(shared_data / "baci_sample.csv")
    assert len(df) == 3_070 and set(df["reporter"]) == {"AFG"}
    assert df["value_usd"].sum() == pytest.approx(raw.loc[raw["i"] == 4, "v"].sum() * 1000)


def test_export_rejects_unknown_column_and_empty_selection(loaded, tmp_path):
    wh, _ = loaded
    res = invoke("export", tmp_path / "x.csv", "--where", "year; DROP TABLE flows=1", "-w", wh)
    assert res.exit_code == 2 and "unknowncolumn" in flat(res)
    res = invoke("export", tmp_path / "x.csv", "--where", "year=1999", "-w", wh)
    assert res.exit_code == 2 and "norows" in flat(res)
    res = invoke("export", tmp_path / "x.csv", "--where", "year=abc", "-w", wh)
    assert res.exit_code == 2 and "integer" in flat(res)
    assert invoke("info", "-w", wh, "--json").exit_code == 0  # table still there


def test_export_default_output_name(loaded, tmp_path, monkeypatch):
    wh, _ = loaded
    monkeypatch.chdir(tmp_path)
    res = invoke("export", "--format", "parquet", "--table", "loads", "-w", wh)
    assert res.exit_code == 0, res.output
    assert len(pd.read_parquet(tmp_path / "loads.parquet")) == 1


def test_ingest_customs_persian_default_mapping(tmp_path):
    f = tmp_path / "گمرک.csv"
    f.write_text("سال,استان,نوع جریان,کشور طرف معامله,کد تعرفه,ارزش دلاری,وزن (کیلوگرم)\n"
                 "2022,فارس,صادرات,ترکیه,570110,1200,40\n2022,فارس,صادرات,عراق,5702,800,\n", encoding="utf-8")
    res = invoke("ingest", f, "--format", "customs", "--reporter", "IRN", "-w", tmp_path / "wh.duckdb", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["rows_loaded"], out["rows_quarantined"], out["value_usd_loaded"]) == (2, 0, 2000.0)
    info = json.loads(invoke("info", "-w", tmp_path / "wh.duckdb", "--json").stdout)
    assert info["sources"] == {"customs": 2} and info["flow_years"] == [2022]
