"""`tradepulse indicators balance|diversification|technology` on a small warehouse: output files equal the
Python API, and bad requests exit with code 2 and a one-line message."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from tradepulse import schema
from tradepulse.cli import app
from tradepulse.indicators.balance import trade_balance
from tradepulse.warehouse import Warehouse

runner = CliRunner()


@pytest.fixture
def wh_path(tmp_path):
    E, I = "export", "import"
    rows = [
        (2020, "IRN", "WLD", E, "270900", 100.0, None), (2020, "IRN", "WLD", E, "570110", 20.0, None),
        (2020, "TUR", "WLD", E, "870321", 50.0, None), (2020, "TUR", "WLD", E, "570110", 50.0, None),
        (2020, "IRN", "TUR", E, "270900", 60.0, "Khuzestan"), (2020, "IRN", "IRQ", E, "270900", 40.0, "Khuzestan"),
        (2020, "IRN", "IRQ", E, "570110", 20.0, "Tehran"), (2020, "IRN", "TUR", I, "870321", 30.0, "Tehran"),
        (2021, "IRN", "WLD", E, "270900", 150.0, None), (2021, "IRN", "WLD", E, "570110", 30.0, None),
        (2021, "IRN", "TUR", E, "270900", 150.0, "Khuzestan"), (2021, "IRN", "IRQ", E, "570110", 30.0, "Tehran"),
        (2021, "IRN", "TUR", I, "870321", 40.0, "Tehran"), (2021, "TUR", "IRQ", E, "570110", 10.0, None),
    ]
    df = pd.DataFrame(rows, columns=["year", "reporter", "partner", "flow", "product", "value_usd", "province"])
    for col in schema.FLOWS:
        if col not in df:
            df[col] = None
    df["hs_revision"], df["source"] = "HS2017", "test"
    df["quantity"] = df["quantity"].astype("float64")
    path = tmp_path / "wh.duckdb"
    with Warehouse(path) as wh:
        wh.raw.register("src", df[list(schema.FLOWS)])
        wh.raw.execute("INSERT INTO flow_rows SELECT * FROM src")
    return path


def run(*args):
    return runner.invoke(app, ["indicators", *args])


def test_balance_cli_matches_api(wh_path, tmp_path):
    out = tmp_path / "bal.csv"
    r = run("balance", "-w", str(wh_path), "--by", "partner", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "Trade balance of IRN" in r.output
    got = pd.read_csv(out)
    with Warehouse(wh_path, read_only=True) as wh:
        want = trade_balance(wh, reporter="IRN", by="partner")
    want["one_sided"] = want["one_sided"].astype("float64")   # all None (both sides); NaN in the CSV
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert got.set_index(["year", "partner"]).loc[(2020, "TUR"), "balance"] == 30


def test_diversification_and_technology_cli(wh_path, tmp_path):
    out = tmp_path / "div.parquet"
    r = run("diversification", "-w", str(wh_path), "--over", "markets", "--out", str(out))
    assert r.exit_code == 0, r.output
    d = pd.read_parquet(out).set_index("year")
    assert d.loc[2020, "hhi"] == pytest.approx(0.5 ** 2 + 0.5 ** 2)       # TUR 60, IRQ 60
    r = run("diversification", "-w", str(wh_path), "--over", "markets", "--regions", "continent")
    assert r.exit_code == 0, r.output
    r = run("diversification", "-w", str(wh_path), "--over", "hk")
    assert r.exit_code == 0, r.output
    out = tmp_path / "bec.csv"
    r = run("technology", "-w", str(wh_path), "--classes", "end_use", "--years", "2020", "--out", str(out))
    assert r.exit_code == 0, r.output
    t = pd.read_csv(out).set_index("end_use").share
    assert t.to_dict() == pytest.approx({"intermediate": 100 / 120, "consumption": 20 / 120})


@pytest.mark.parametrize("args, message", [
    (["balance", "--province", "Shiraz"], "unknown province 'Shiraz'; known provinces: Khuzestan, Tehran"),
    (["balance", "--by", "partner_group", "--groups", "mars"], "unknown country group 'mars'"),
    (["balance", "--product", "widgets"], "unknown product group 'widgets'"),
    (["balance", "--years", "2019"], "no data for year(s) 2019"),
    (["balance", "--reporter", "SYR"], "no rows for reporter SYR"),
    (["diversification", "--over", "markets", "--years", "2030"], "no data for year(s) 2030"),
    (["diversification", "--over", "galaxies"], "unknown dimension 'galaxies'"),
    (["diversification", "--over", "markets", "--regions", "planets"], "unknown region kind 'planets'"),
    (["technology", "--classes", "lall"], "needs --lall FILE"),
    (["technology", "--classes", "lall", "--lall", "/nonexistent/lall.csv"], "file not found"),
])
def test_bad_requests_exit_2_one_line(wh_path, args, message):
    r = runner.invoke(app, ["indicators", *args, "-w", str(wh_path)], terminal_width=400)
    assert r.exit_code == 2, r.output
    # one message; Rich (cli.common.err_console) may soft-wrap it at the console width
    text = " ".join((r.stderr if hasattr(r, "stderr") else r.output).split())
    assert message in text
    assert text.startswith("error:") and text.count("error:") == 1
    assert "Traceback" not in r.output


def test_balance_cli_prints_the_one_sided_warning_from_the_api(wh_path):
    """TUR reports exports only: the warning comes from trade_balance's meta, printed under the table."""
    r = run("balance", "-w", str(wh_path), "--reporter", "TUR")
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "warning: TUR: the selection holds no import rows in 2020–2021, so the balance there is one-sided" in text
    assert "warning" not in run("balance", "-w", str(wh_path)).output


def test_technology_cli_prints_the_unclassified_warning(tmp_path):
    """HS1992 code 271000 stated as HS2017 has no BEC code: half the value is unclassified and the CLI says
    so; stated as HS1992 (--hs-revision) it is converted and the warning is gone."""
    df = pd.DataFrame({"year": 2020, "reporter": "IRN", "partner": "WLD", "flow": "export",
                       "product": ["271000", "570110"], "value_usd": [50.0, 50.0], "province": None})
    for col in schema.FLOWS:
        if col not in df:
            df[col] = None
    df["hs_revision"], df["source"] = "HS2017", "test"
    df["quantity"] = df["quantity"].astype("float64")
    path = tmp_path / "t.duckdb"
    with Warehouse(path) as wh:
        wh.raw.register("src", df[list(schema.FLOWS)])
        wh.raw.execute("INSERT INTO flow_rows SELECT * FROM src")
    r = run("technology", "-w", str(path))
    assert r.exit_code == 0, r.output
    assert "warning: BEC: 50.0% of the value has no class (unclassified); largest: 271000 (50.0%)" in \
        " ".join(r.output.split())
    r = run("technology", "-w", str(path), "--hs-revision", "HS1992")
    assert r.exit_code == 0 and "warning" not in r.output


def test_cli_help_imports_neither_pandas_nor_numpy():
    """Start-up (issue 19): ``tradepulse --help`` and ``tradepulse indicators --help`` build the command tree
    without the data stack (pandas alone took 0.55 s of a 0.75–1.2 s start)."""
    import subprocess
    import sys
    code = ("import sys; from tradepulse.cli import app\n"
            "for argv in (['--help'], ['indicators', '--help']):\n"
            "    try:\n        app(argv, prog_name='tradepulse')\n    except SystemExit:\n        pass\n"
            "print('pandas' in sys.modules, 'numpy' in sys.modules, file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.split()[-2:] == ["False", "False"]
