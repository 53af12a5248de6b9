"""Warehouse: schema, info(), export() with parameter filters, read-only sharing, backends.connect."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from tradepulse import schema
from tradepulse.errors import NoDataError, TradepulseError, UnknownNameError
from tradepulse.ingest import ingest_file
from tradepulse.warehouse import TABLES, Warehouse, as_table
from tradepulse.warehouse.backends import connect, copy_table


def test_new_warehouse_has_canonical_tables(tmp_warehouse):
    for name, cols in TABLES.items():
        got = tmp_warehouse.table(name).columns
        assert list(got) == list(cols), name
    assert list(TABLES["flows"]) == list(schema.FLOWS)
    info = tmp_warehouse.info()
    assert info["tables"] == {n: 0 for n in TABLES} and info["flow_years"] == [] and info["loads"] == []


def test_info_and_export_after_ingest(tmp_warehouse, shared_data, tmp_path):
    r = ingest_file(tmp_warehouse, shared_data / "baci_sample.csv", "baci")
    info = tmp_warehouse.info()
    assert info["tables"]["flows"] == 71_192 and info["reporters"] == 2 and info["flow_years"] == [2021]
    assert info["sources"] == {"baci": 71_192} and info["loads"][0]["load_id"] == r.load_id
    assert info["quarantine"] == {"rows": 0, "by_reason": {}}
    raw = pd.read_csv(shared_data / "baci_sample.csv")
    n = tmp_warehouse.export(tmp_path / "x.parquet", where={"partner": ["USA", "FRA"], "year": "2021"})
    df = pd.read_parquet(tmp_path / "x.parquet")
    assert n == len(df) == int(raw["j"].isin([842, 251]).sum())
    assert set(df.columns) == set(schema.FLOWS)
    assert tmp_warehouse.export(tmp_path / "loads.csv", table="loads") == 1
    with pytest.raises(UnknownNameError):
        tmp_warehouse.export(tmp_path / "x.csv", table="nope")
    with pytest.raises(NoDataError):
        tmp_warehouse.export(tmp_path / "x.csv", where={"reporter": "IRN"})
    with pytest.raises(TradepulseError, match="format"):
        tmp_warehouse.export(tmp_path / "x.json")


def test_read_only_readers_share_the_file(tmp_path, shared_data):
    path = tmp_path / "wh.duckdb"
    with Warehouse(path) as wh:
        ingest_file(wh, shared_data / "baci_sample.csv", "baci")
    a, b = Warehouse(path, read_only=True), Warehouse(path, read_only=True)
    assert a.flows().count().execute() == b.flows().count().execute() == 71_192
    a.close(), b.close()
    with pytest.raises(TradepulseError, match="no warehouse"):
        Warehouse(tmp_path / "missing.duckdb", read_only=True)


def test_backends_connect_and_as_table(tmp_path):
    con = connect("duckdb", path=tmp_path / "x.duckdb")
    src = connect("duckdb")
    t = copy_table(ibis.memtable(pd.DataFrame({"a": [1, 2, 3]})), src, "s")
    t = copy_table(t, con, "t")
    assert int(as_table(t).a.sum().execute()) == 6 and int(con.table("t").count().execute()) == 3
    assert int(as_table(pd.DataFrame({"a": [4]})).a.sum().execute()) == 4
    with pytest.raises(UnknownNameError):
        connect("oracle")


def test_ibis_backend_is_built_on_first_use(tmp_path, shared_data):
    """A bulk ingest runs on the raw DuckDB connection only (no Ibis backend built); the session already
    has Ibis's settings (time zone UTC, so ``loads.loaded_at`` is UTC); ``con`` then wraps that connection."""
    import datetime as dt

    with Warehouse(tmp_path / "wh.duckdb") as wh:
        r = ingest_file(wh, shared_data / "baci_sample.csv", "baci")
        assert wh._ibis is None
        assert wh.raw.execute("SELECT current_setting('TimeZone')").fetchone()[0] == "UTC"
        loaded_at = wh.raw.execute("SELECT loaded_at FROM loads").fetchone()[0]
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        assert abs((now - loaded_at).total_seconds()) < 600
        backend = wh.con
        assert backend is wh.con and backend.con is wh.raw
        assert wh.flows().count().execute() == r.rows_loaded == 71_192
