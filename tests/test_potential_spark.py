"""The same export-potential and complementarity code on PySpark: equal to the DuckDB/pandas results on the
hand world of tests/test_potential.py (province rows included)."""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def spark_flows(spark):
    import os

    from tests.test_potential import province_flows
    from tradepulse.warehouse.backends import connect

    df = province_flows()[["year", "reporter", "partner", "flow", "product", "value_usd", "province"]]
    df = df.astype({"year": "int16", "province": object})
    df["province"] = df["province"].where(df["province"].notna(), None)
    con = connect("pyspark", session=spark)
    name = f"flows_test_potential_{os.getpid()}"
    yield con.create_table(name, df, overwrite=True), df
    con._session.sql(f"DROP TABLE IF EXISTS {name}")  # ibis' drop_table emits bad SQL on PySpark


def test_potential_on_spark_equals_pandas(spark_flows):
    from tests.test_potential import hand_macro
    from tradepulse.indicators.market_choice import partner_indices
    import functools

    from tradepulse.indicators.potential import export_potential
    export_potential = functools.partial(export_potential, method="basic")   # the plain form (API default: itc)

    spark_t, df = spark_flows
    for kwargs in ({}, {"province": "Tehran", "ease_when_no_trade": 1.0}):
        a = export_potential(spark_t, "IRN", macro=hand_macro(), access="none", **kwargs)
        b = export_potential(df, "IRN", macro=hand_macro(), access="none", **kwargs)
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
    a = export_potential(spark_t, "IRN", macro=hand_macro(), access="none")
    row = a[(a.market == "IRQ") & (a["product"] == "0101")].iloc[0]
    assert row["potential"] == pytest.approx(2880 / 47)
    pd.testing.assert_frame_equal(partner_indices(spark_t, "IRN"), partner_indices(df, "IRN"), check_dtype=False)
