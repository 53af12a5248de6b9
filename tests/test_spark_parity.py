"""The same Ibis aggregates give the same results on DuckDB (the warehouse) and on PySpark ``local[2]``.

Data: baci_sample.csv ingested into a DuckDB warehouse (71,192 rows), copied to Spark through Arrow.
One small Spark session for the module (UI off, 2 shuffle partitions).
"""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def backends(tmp_path_factory, shared_data, spark):
    from tradepulse.ingest import ingest_file
    from tradepulse.warehouse import Warehouse
    from tradepulse.warehouse.backends import connect, copy_table

    wh = Warehouse(tmp_path_factory.mktemp("spark") / "wh.duckdb")
    ingest_file(wh, shared_data / "baci_sample.csv", "baci")
    con = connect("pyspark", session=spark)
    copy_table(wh.flows(), con, "flows")
    yield wh.flows(), con.table("flows")
    wh.close()


def exports_by_reporter_year(t: ibis.Table) -> ibis.Table:
    t = t.filter((t.flow == "export") & (t.partner != "WLD"))
    return t.group_by(["reporter", "year"]).aggregate(value_usd=t.value_usd.sum(), rows=t.count(),
                                                      partners=t.partner.nunique())


def top_products(t: ibis.Table, reporter: str, n: int = 10) -> ibis.Table:
    t = t.filter(t.reporter == reporter)
    hs4 = t.mutate(hs4=t["product"].substr(0, 4))
    agg = hs4.group_by("hs4").aggregate(value_usd=hs4.value_usd.sum())
    return agg.order_by([ibis.desc("value_usd"), "hs4"]).limit(n)


def _frame(expr: ibis.Table, sort: list[str]) -> pd.DataFrame:
    df = expr.to_pandas().sort_values(sort).reset_index(drop=True)
    for c in df.columns:
        if pd.api.types.is_integer_dtype(df[c]):
            df[c] = df[c].astype("int64")
    return df


def test_exports_by_reporter_year_equal_on_duckdb_and_spark(backends, shared_data):
    duck, spark = backends
    a = _frame(exports_by_reporter_year(duck), ["reporter", "year"])
    b = _frame(exports_by_reporter_year(spark), ["reporter", "year"])
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)
    raw = pd.read_csv(shared_data / "baci_sample.csv")   # independent check of one cell
    zaf = a.set_index("reporter").loc["ZAF"]
    assert zaf["value_usd"] == pytest.approx(raw.loc[raw["i"] == 710, "v"].sum() * 1000, rel=1e-12)
    assert zaf["rows"] == 68_122


def test_top_products_equal_on_duckdb_and_spark(backends, shared_data):
    duck, spark = backends
    a = top_products(duck, "ZAF").to_pandas().reset_index(drop=True)
    b = top_products(spark, "ZAF").to_pandas().reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)
    raw = pd.read_csv(shared_data / "baci_sample.csv")
    raw = raw[raw["i"] == 710]
    hs4 = (raw["k"].astype(str).str.zfill(6).str[:4])
    expect = (raw.groupby(hs4)["v"].sum() * 1000).sort_values(ascending=False).head(10)
    assert list(a["hs4"]) == list(expect.index)
