"""The Typer-free ``tradepulse ingest`` path (tradepulse.cli._fast): same parse as Typer, same result, no Typer."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tradepulse.cli._fast import INGEST_OPTIONS, parse_ingest

ROOT = Path(__file__).resolve().parents[1]


def _ingest_command():
    """The click command Typer builds for ``ingest``."""
    import typer
    from typer.main import get_command

    from tradepulse.cli import ingest
    app = typer.Typer()
    ingest.register(app)
    return get_command(app).commands["ingest"]


def _kind(param) -> str:
    if param.is_flag:
        return "flag"
    if param.multiple:
        return "multi"
    return "path" if param.type_descriptor.annotation is Path else "value"


def test_option_table_is_the_typer_commands():
    """Every option of the Typer command is in the table with its parameter and kind, except the Spark ones
    (and --help), which the fast path leaves to Typer; the table names nothing else."""
    from typer.core import TyperOption
    seen = set()
    for param in _ingest_command().params:
        if not isinstance(param, TyperOption) or param.name in ("engine", "master", "help"):
            continue
        for name in param.opts + param.secondary_opts:
            assert INGEST_OPTIONS.get(name) == (param.name, _kind(param)), name
            seen.add(name)
    assert seen == set(INGEST_OPTIONS)


ARGVS = [
    ["f.csv", "-f", "baci"],
    ["f.csv", "--format", "baci", "-w", "wh.duckdb", "--json"],
    ["-f", "customs", "--reporter", "irn", "data/x.xlsx", "-m", "map.yaml", "-t", "firm_flows"],
    ["f.csv", "--format=generic", "--warehouse=w.duckdb", "--option", "year=2017", "-o", "partner=WLD",
     "--option=flow=export"],
    ["rel.zip", "-f", "baci", "--years", "2019-2021,2023", "--replace", "--on-overlap", "replace",
     "--dataset", "d1", "--refresh"],
    ["f.csv", "-f", "baci", "-f", "generic", "-w", "a.duckdb", "-w", "b.duckdb"],   # the last one wins
    ["https://example.org/x.csv", "-f", "baci"],
]


@pytest.mark.parametrize("argv", ARGVS, ids=range(len(ARGVS)))
def test_parse_equals_typers(argv, monkeypatch):
    """The fast parse gives run_ingest the values Typer's parse gives the command (defaults from run_ingest)."""
    for name in ("TRADEPULSE_ENGINE", "TRADEPULSE_SPARK_MASTER"):
        monkeypatch.delenv(name, raising=False)
    from tradepulse.cli.ingest import run_ingest
    typer_params = _ingest_command().make_context("ingest", list(argv)).params
    fast = parse_ingest(list(argv))
    assert fast is not None
    defaults = {k: p.default for k, p in inspect.signature(run_ingest).parameters.items()}
    for key, want in typer_params.items():
        got = fast.get(key, defaults.get(key))
        if key == "option":
            want, got = list(want or []), list(got or [])
        assert got == want, key
        assert type(got) is type(want) or want is None, key


@pytest.mark.parametrize("argv", [
    ["--help"], ["f.csv", "-f", "baci", "--help"], ["f.csv"], ["f.csv", "-f"], ["f.csv", "-f", "-w", "x"],
    ["f.csv", "-f", "baci", "--engine", "spark"], ["f.csv", "-f", "baci", "--master", "local[2]"],
    ["f.csv", "-fbaci"], ["f.csv", "-f=baci"], ["a.csv", "b.csv", "-f", "baci"], ["-f", "baci"],
    ["f.csv", "-f", "baci", "--bogus"], ["f.csv", "-f", "baci", "--json=1"], ["-", "-f", "baci"],
    ["f.csv", "-f", "baci", "--", "x"],
])
def test_unusual_command_lines_go_to_typer(argv, monkeypatch):
    monkeypatch.delenv("TRADEPULSE_ENGINE", raising=False)
    assert parse_ingest(argv) is None


def test_engine_environment_goes_to_typer(monkeypatch):
    monkeypatch.setenv("TRADEPULSE_ENGINE", "duckdb")
    assert parse_ingest(["f.csv", "-f", "baci"]) is None


def _tradepulse(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``tradepulse ARGV`` through the console script's ``main`` in a fresh interpreter; the last stderr line
    says whether Typer was imported."""
    code = ("import sys\nsys.argv = ['tradepulse', *sys.argv[1:]]\nfrom tradepulse.cli import main\n"
            "try:\n    main()\nfinally:\n    print('typer imported:', 'typer' in sys.modules, file=sys.stderr)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("TRADEPULSE_ENGINE", "TRADEPULSE_SPARK_MASTER")}
    env["PYTHONPATH"] = str(ROOT / "src")
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=120)


def test_fast_ingest_loads_as_typer_does(tmp_path, shared_data):
    """The real BACI sample loaded through the fast path and through Typer: the same load summary (ids and
    times aside) and the same stored flows; only the Typer run imports Typer."""
    from typer.testing import CliRunner

    from tradepulse.cli import app
    from tradepulse.warehouse import Warehouse
    sample, codes = shared_data / "baci_sample.csv", shared_data / "baci_country_codes_V202201.csv"
    args = [str(sample), "-f", "baci", "-o", f"country_codes_csv={codes}", "--json"]
    fast = _tradepulse(["ingest", *args, "-w", str(tmp_path / "fast.duckdb")], tmp_path)
    assert fast.returncode == 0, fast.stderr
    assert fast.stderr.strip().splitlines()[-1] == "typer imported: False"
    slow = CliRunner().invoke(app, ["ingest", *args, "-w", str(tmp_path / "typer.duckdb")])
    assert slow.exit_code == 0, slow.output
    a, b = json.loads(fast.stdout), json.loads(slow.stdout)
    assert a["rows_loaded"] > 0
    assert {k: v for k, v in a.items() if k != "load_id"} == {k: v for k, v in b.items() if k != "load_id"}
    q = "SELECT year, reporter, partner, product, value_usd, quantity FROM flows ORDER BY ALL"
    with Warehouse(tmp_path / "fast.duckdb", read_only=True) as f, \
            Warehouse(tmp_path / "typer.duckdb", read_only=True) as t:
        assert f.raw.execute(q).fetchall() == t.raw.execute(q).fetchall()


def test_fast_ingest_errors_and_fallbacks(tmp_path):
    """A bad format ends in Typer's one red line with exit code 2 without Typer; --help and a missing --format
    reach Typer (its help, its usage error)."""
    csv = tmp_path / "t.csv"
    csv.write_text("t,i,j,k,v,q\n2021,4,8,10129,74.594,1.0\n")
    bad = _tradepulse(["ingest", str(csv), "-f", "bacix", "-w", str(tmp_path / "w.duckdb")], tmp_path)
    assert bad.returncode == 2
    err = bad.stderr.strip().splitlines()
    assert err[0].startswith("error: ") and "unknown format 'bacix'" in err[0]
    assert err[-1] == "typer imported: False"
    helped = _tradepulse(["ingest", "--help"], tmp_path)
    assert helped.returncode == 0 and "--on-overlap" in helped.stdout
    assert helped.stderr.strip().splitlines()[-1] == "typer imported: True"
    missing = _tradepulse(["ingest", str(csv), "-w", str(tmp_path / "w.duckdb")], tmp_path)
    assert missing.returncode == 2 and "Missing option" in missing.stderr
