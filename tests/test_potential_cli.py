"""``tradepulse potential``: the hand world of tests/test_potential.py loaded through the ingest API."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.test_potential import hand_macro, province_flows
from tradepulse.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def wh_path(tmp_path_factory):
    from tradepulse.ingest import ingest_frame
    from tradepulse.warehouse import Warehouse
    path = tmp_path_factory.mktemp("pot") / "wh.duckdb"
    flows = province_flows().assign(month=None, hs_revision="HS2017", quantity=None, unit=None)
    with Warehouse(path) as wh:
        r = ingest_frame(wh, flows, source="test", name="hand_flows", target="flows")
        assert r.rows_loaded == len(flows)
        ingest_frame(wh, hand_macro(), source="test", name="hand_macro", target="macro")
    return path


def run(*args):
    """Invoke the CLI; ``.text`` is the output with Rich's line wrapping folded back into single spaces."""
    res = runner.invoke(app, ["potential", "-w", *args], env={"COLUMNS": "160"})
    res.text = " ".join(res.output.split())
    return res


def test_markets_for_a_product_group_to_csv(wh_path, tmp_path):
    out = tmp_path / "m.csv"
    res = run(str(wh_path), "--exporter", "IRN", "--product-group", "01", "-o", str(out))
    assert res.exit_code == 0, res.output
    assert "markets ranked by unrealised potential" in res.text and "Iraq" in res.text
    df = pd.read_csv(out)
    assert list(df["market"]) == ["IRQ", "AFG", "SYR"]
    # gravity proxy by default, so only the ranking is checked here; values are in test_potential.py
    assert (df["unrealised"] >= 0).all()


def test_products_for_a_market_to_parquet_and_excel(wh_path, tmp_path):
    res = run(str(wh_path), "--market", "SYR", "--horizon", "0", "-o", str(tmp_path / "p.parquet"))
    assert res.exit_code == 0, res.output
    df = pd.read_parquet(tmp_path / "p.parquet")
    assert set(df["product"]) == {"0101", "0202", "0303"}
    res = run(str(wh_path), "--market", "SYR", "--cells", "--method", "basic", "-o", str(tmp_path / "c.xlsx"))
    assert res.exit_code == 0, res.output
    cells = pd.read_excel(tmp_path / "c.xlsx", dtype={"product": str})
    assert {"supply", "demand", "access", "ease", "potential", "unrealised"} <= set(cells.columns)
    assert len(cells) == 7


def test_province_and_partners(wh_path):
    res = run(str(wh_path), "--province", "Tehran", "--horizon", "0")
    assert res.exit_code == 0, res.output
    assert "IRN / Tehran" in res.text
    res = run(str(wh_path), "--partners")
    assert res.exit_code == 0, res.output
    assert "complementarity" in res.text and "70.00" in res.text  # TC(IRN, SYR) = 70


def test_errors_are_one_line_with_exit_2(wh_path):
    res = run(str(wh_path), "--product-group", "handcrafts")
    assert res.exit_code == 2 and "unknown product group 'handcrafts'" in res.text
    res = run(str(wh_path), "--product-group", "01", "--market", "SYR")
    assert res.exit_code == 2 and "not both" in res.text
    res = run(str(wh_path), "--province", "Qom")
    assert res.exit_code == 2 and "unknown province 'Qom'" in res.text
    res = run(str(wh_path), "--year", "2019")
    assert res.exit_code == 2 and "no bilateral export rows for 2019" in res.text


def test_tariff_file(wh_path, tmp_path):
    tf = tmp_path / "tariffs.csv"
    tf.write_text("exporter,market,product,rate\n*,SYR,0101,0.10\nIRN,SYR,0101,0\n")
    out = tmp_path / "cells.csv"
    res = run(str(wh_path), "--market", "SYR", "--horizon", "0", "--tariffs", str(tf), "--cells", "-o", str(out),
              "--method", "basic")
    assert res.exit_code == 0, res.output
    assert "access: tariff" in res.text
    cells = pd.read_csv(out, dtype={"product": str}).set_index(["market", "product"])
    assert cells.at[("SYR", "0101"), "access"] == pytest.approx((16 / 15) ** 5)
    tf.write_text("exporter,market,product,rate\n*,SYR,0101,ten\n")
    res = run(str(wh_path), "--tariffs", str(tf))
    assert res.exit_code == 2 and "line 2" in res.text and "'rate'" in res.text


def test_products_ranked_over_all_markets(wh_path, tmp_path):
    out = tmp_path / "p.csv"
    res = run(str(wh_path), "--by", "product", "--product-group", "01,03", "-o", str(out))
    assert res.exit_code == 0, res.output
    assert "all markets (01,03): products ranked" in res.text
    assert set(pd.read_csv(out, dtype={"product": str})["product"]) == {"0101", "0303"}
    res = run(str(wh_path), "--by", "country")
    assert res.exit_code == 2 and "--by must be market or product" in res.text


def test_itc_method_is_the_cli_default(wh_path, tmp_path):
    """The CLI runs the ITC preset unless told otherwise: projected demand caps every cell, and the warnings
    (no tariff table → relative distance; markets without a published projection) are printed."""
    out = tmp_path / "itc.csv"
    res = run(str(wh_path), "--cells", "-o", str(out))
    assert res.exit_code == 0, res.output
    assert "itc method, access: distance" in res.text and "warning:" in res.text
    cells = pd.read_csv(out, dtype={"product": str})
    assert (cells["potential"] <= cells["demand"] * (1 + 1e-12)).all()
    assert {"demand_basis", "ease_basis"} <= set(cells.columns)
    res = run(str(wh_path), "--method", "wto")
    assert res.exit_code == 2 and "unknown export-potential method 'wto'" in res.text


def test_write_table_parquet_with_result_meta(tmp_path):
    """Regression (found here): a result carrying a ResultMeta in attrs could not be written to Parquet
    (pandas JSON-encodes attrs into the file metadata and raised TypeError)."""
    from tradepulse.cli.common import write_table
    from tradepulse.meta import meta_of, warn

    df = pd.DataFrame({"a": [1.0, 2.0]})
    warn(df, "a warning")
    write_table(df, tmp_path / "x.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "x.parquet"), df)
    assert meta_of(df).warnings == ["a warning"]       # the caller's frame keeps its meta
