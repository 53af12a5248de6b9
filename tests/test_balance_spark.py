"""The same Ibis expressions on PySpark: trade balance, layered totals and market diversification equal the
DuckDB results (selection rules and errors included)."""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def spark_flows(spark):
    from tradepulse.warehouse.backends import connect

    from test_balance import as_flows  # the hand-computed case of tests/test_balance.py
    E, I = "export", "import"
    rows = [
        (2020, "IRN", "WLD", E, "2709", 100.0, None), (2020, "IRN", "WLD", E, "5701", 20.0, None),
        (2020, "IRN", "TUR", E, "2709", 60.0, "Khuzestan"), (2020, "IRN", "IRQ", E, "2709", 40.0, "Khuzestan"),
        (2020, "IRN", "IRQ", E, "5701", 15.0, "Tehran"), (2020, "IRN", "CHN", E, "5701", 5.0, "Tehran"),
        (2020, "IRN", "TUR", I, "8708", 30.0, "Tehran"), (2020, "IRN", "CHN", I, "8517", 50.0, "Tehran"),
        (2021, "IRN", "WLD", E, "2709", 150.0, None), (2021, "IRN", "TUR", E, "2709", 150.0, "Khuzestan"),
        (2021, "IRN", "TUR", I, "8708", 40.0, "Tehran"), (2021, "TUR", "IRQ", E, "5701", 10.0, None),
        (2021, "TUR", "IRN", E, "8708", 50.0, None),
    ]
    df = as_flows(rows)
    df["month"] = df["month"].astype("float64")
    df["year"] = df["year"].astype("int16")
    for c in ("unit", "load_id"):
        df[c] = df[c].astype("string")
    con = connect("pyspark", session=spark)
    # a temporary view: nothing is written to spark-warehouse/
    spark.createDataFrame(df).createOrReplaceTempView("flows_test_indicators")
    return con.table("flows_test_indicators"), df


def test_balance_on_spark_equals_pandas(spark_flows):
    from tradepulse.indicators.balance import trade_balance

    spark_t, df = spark_flows
    for by in ("total", "partner", "partner_group", "province", "product_group"):
        a = trade_balance(spark_t, reporter="IRN", by=by, groups="neighbours15" if by == "partner_group" else
                          ("oil,carpets" if by == "product_group" else None))
        b = trade_balance(df, reporter="IRN", by=by, groups="neighbours15" if by == "partner_group" else
                          ("oil,carpets" if by == "product_group" else None))
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert trade_balance(spark_t, reporter="IRN").set_index("year").loc[2020, "balance"] == 40


def test_diversification_and_errors_on_spark(spark_flows):
    from tradepulse.errors import NoDataError, UnknownNameError
    from tradepulse.indicators.diversification import market_diversification

    spark_t, df = spark_flows
    a = market_diversification(spark_t, reporter="IRN")
    b = market_diversification(df, reporter="IRN")
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    with pytest.raises(UnknownNameError, match="province 'Fars'"):
        market_diversification(spark_t, reporter="IRN", province="Fars")
    with pytest.raises(NoDataError, match="2019"):
        market_diversification(spark_t, reporter="IRN", years=2019)
