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
def tables():
    pytest.importorskip("pyspark")
    import os
    import shutil
    import sys
    if shutil.which("java") is None:
        pytest.skip("PySpark needs Java")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from test_roadmap import ROWS, F  # the hand case of tests/test_roadmap.py

    from tradepulse.warehouse.backends import connect
    df = F(ROWS)
    df["month"] = df["month"].astype("float64")
    df["year"] = df["year"].astype("int16")
    for c in ("unit", "quantity"):
        df[c] = df[c].astype("float64" if c == "quantity" else "string")
    spark = connect("pyspark")
    flows_spark = spark.create_table("roadmap_flows", df, overwrite=True)
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
