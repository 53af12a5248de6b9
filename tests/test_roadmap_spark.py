"""The roadmap metrics' Ibis expressions run unchanged on PySpark: every base metric of a hand case gives the
same series as on DuckDB (the hand values themselves are checked in tests/test_roadmap.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from tradepulse.roadmap import parse_roadmap
from tradepulse.roadmap.metrics import Data, metric_series

pytestmark = [pytest.mark.spark, pytest.mark.slow]

METRICS = ["exports", "imports", "total_trade", "balance", "non_oil_balance", "market_share", "n_products",
           "n_markets"]


@pytest.fixture(scope="module")
def tables(spark):
    from test_roadmap import ROWS, F  # the hand case of tests/test_roadmap.py

    from tradepulse.warehouse.backends import connect
    df = F(ROWS)
    df["month"] = df["month"].astype("float64")
    df["quantity"] = df["quantity"].astype("float64")
    df["year"] = df["year"].astype(int)
    session = spark
    # a temporary view (no files under spark-warehouse/, nothing left behind between runs)
    types = {"year": "SMALLINT", "month": "DOUBLE", "value_usd": "DOUBLE", "quantity": "DOUBLE"}
    ddl = ", ".join(f"{c} {types.get(c, 'STRING')}" for c in df.columns)
    rows = [tuple(None if pd.isna(v) else v for v in r) for r in df.itertuples(index=False)]
    session.createDataFrame(rows, schema=ddl).createOrReplaceTempView("roadmap_flows")
    flows_spark = connect("pyspark", session=session).table("roadmap_flows")
    return df, flows_spark


@pytest.mark.parametrize("scope", [{}, {"partner": "neighbours15", "product": "carpets"}])
def test_metrics_equal_on_spark_and_duckdb(tables, scope):
    df, flows_spark = tables
    targets = [{"id": m, "title_en": m, "metric": m, "scope": scope, "target": {"value": 1}, "deadline": 1404}
               for m in METRICS]
    rm = parse_roadmap({"roadmap": {"calendar": "SH"}, "targets": targets})
    duck, spark = Data({"flows": df}), Data({"flows": flows_spark})
    for t in rm.targets:
        a = metric_series(duck, t).reset_index(drop=True)
        b = metric_series(spark, t).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=f"{t.metric} {scope}")
