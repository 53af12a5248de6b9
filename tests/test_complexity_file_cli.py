"""``tradepulse complexity FILE -o OUT.parquet`` without Typer (issue 19, ``cli/complexity_file.run``): for every
command line it takes, the same bytes (stdout, stderr, exit code, output file) as the command run by Typer; every
other command line is left to Typer; the threaded halves of the NumPy core give the sequential halves' numbers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from test_complexity_arrow import _exports

SRC = str(Path(__file__).resolve().parents[1] / "src")
FAST = "import sys; sys.argv = ['tradepulse'] + sys.argv[1:]\nfrom tradepulse.cli import main\nmain()"
TYPER = "import sys\nfrom tradepulse.cli import app\napp(sys.argv[1:], prog_name='tradepulse')"
_TERMINAL = ("COLUMNS", "LINES", "FORCE_COLOR", "PY_COLORS", "GITHUB_ACTIONS", "TERMINAL_WIDTH",
             "_TYPER_FORCE_DISABLE_TERMINAL", "NO_COLOR", "TRADEPULSE_ENGINE")


def _run(code: str, args: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in _TERMINAL}
    return subprocess.run([sys.executable, "-c", code, "complexity", *args], capture_output=True, check=False,
                          env={**full, "PYTHONPATH": SRC, **(env or {})})


def _both(tmp_path: Path, args: list[str], out: str = "o.parquet", env: dict | None = None):
    """Run ``complexity ARGS -o OUT`` both ways, one after the other to the same OUT (so Rich wraps the same
    text at the same place: the path is printed and may be folded); return both results and files."""
    runs = []
    target = tmp_path / "run" / out
    target.parent.mkdir(exist_ok=True)
    for code in (FAST, TYPER):
        target.unlink(missing_ok=True)
        r = _run(code, [*args, "-o", str(target)], env)
        runs.append((r.returncode, r.stdout, r.stderr, target.read_bytes() if target.exists() else None))
    return runs


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cxfile")
    df = _exports()
    df.to_csv(d / "x.csv", index=False)
    one = _exports(years=1)
    one.drop(columns="year").to_csv(d / "one.csv", index=False)
    pd.concat([one, one.iloc[[10]]]).to_csv(d / "dup.csv", index=False)
    return d


@pytest.mark.parametrize("args", [
    [], ["--convention", "stata", "--cog-form", "atlas", "--threshold", "0.9"], ["--continuous"],
    ["--asymmetric", "--diagonal", "0"], ["--year", "year", "--value", "export_value", "--exporter", "exporter"],
], ids=lambda a: " ".join(a) or "defaults")
def test_fast_path_is_the_typer_command_byte_for_byte(files, tmp_path, args):
    fast, typer = _both(tmp_path, [str(files / "x.csv"), *args])
    assert fast == typer
    code, stdout, stderr, data = fast
    assert code == 0 and b"rows (40 exporters \xc3\x97 300 products, years 2001\xe2\x80\x932003)" in \
        b" ".join(stdout.split())
    assert b"year 2001: 1 exporters with zero total exports left out" in stderr and data[:4] == b"PAR1"


def test_fast_path_one_period(files, tmp_path):
    fast, typer = _both(tmp_path, [str(files / "one.csv"), "--threshold", "1.5"])
    assert fast == typer and fast[0] == 0 and b"one period" in fast[1]


@pytest.mark.parametrize("args", [
    ["--convention", "bogus"],                     # a TradepulseError inside the fast path: its one line
    ["--threshold", "-1"],                          # a value starting with '-': left to Typer
    ["--threshold", "0x10"],                        # not a plain number: Typer's error
    ["--help"], ["--out-of-range"], ["--rolling", "2"], ["--continuous", "--continuous"],
], ids=lambda a: " ".join(a))
def test_errors_help_and_other_options_are_the_typer_commands(files, tmp_path, args):
    fast, typer = _both(tmp_path, [str(files / "one.csv"), *args])
    assert fast == typer


def test_inputs_and_outputs_left_to_typer(files, tmp_path):
    for args, out in (([str(files / "dup.csv")], "o.parquet"),           # duplicates: the pandas path's error
                      ([str(files / "missing.csv")], "o.parquet"),       # no such file
                      ([str(files / "one.csv")], "o.csv"),               # not a Parquet output
                      ([str(files / "one.csv"), "--engine", "duckdb"], "o.parquet")):
        fast, typer = _both(tmp_path, args, out=out)
        assert fast == typer, args
    fast, typer = _both(tmp_path, [str(files / "one.csv")], env={"TRADEPULSE_ENGINE": "nonsense"})
    assert fast == typer and fast[0] != 0


def test_fast_path_imports_no_typer_pandas_or_scipy(files, tmp_path):
    code = FAST.replace("main()", "import tradepulse.cli.complexity_file as cf\ncf.EXIT_WITHOUT_TEARDOWN = False\n"
                        "try:\n    main()\nexcept SystemExit:\n    pass\nprint(sorted(m for m in "
                        "('typer', 'click', 'pydantic', 'pandas', 'scipy', 'pyarrow.compute') if m in sys.modules), "
                        "file=sys.stderr)")
    r = _run(code, [str(files / "one.csv"), "-o", str(tmp_path / "o.parquet")])
    assert r.stderr.decode().strip().splitlines()[-1] == "[]", r.stderr
    assert pd.read_parquet(tmp_path / "o.parquet")["eci"].notna().all()


def test_a_declined_input_is_read_once_by_arrow(files, tmp_path, monkeypatch):
    """The fast path gives a duplicated file to Typer, whose command then skips the Arrow attempt."""
    from tradepulse.cli import complexity_file as cf

    calls = []
    monkeypatch.setattr(cf, "_arrow_run", lambda *a: calls.append(a) or False)
    monkeypatch.setattr(cf, "_declined", set())
    args = [str(files / "dup.csv"), "-o", str(tmp_path / "o.parquet")]
    assert cf.run(args) is False and len(calls) == 1
    cmd = cf._parse(args)
    assert not cf.arrow_eligible(cmd["input_path"], cmd["out"], cmd["options"])


def test_parse_takes_only_plain_command_lines():
    from tradepulse.cli.complexity_file import _parse

    ok = _parse(["in.csv", "-o", "o.parquet", "--threshold", "1.5e0", "--asymmetric"])
    assert ok["options"]["threshold"] == 1.5 and ok["options"]["asymmetric"] and ok["year"] is None
    for bad in (["in.csv"], ["-o", "o.parquet"], ["a.csv", "b.csv", "-o", "o.parquet"],
                ["in.csv", "--out=o.parquet"], ["in.csv", "-o", "o.parquet", "-o", "p.parquet"],
                ["in.csv", "-o", "o.parquet", "--threshold", "nan"], ["in.csv", "-o", "o.parquet", "--"],
                ["in.csv", "-o"], ["in.csv", "-o", "o.parquet", "--diagonal", "1_0"],
                ["in.csv", "-o", "o.parquet", "--continuous", "--continuous"], ["-", "-o", "o.parquet"]):
        assert _parse(bad) is None, bad


def test_threaded_halves_equal_sequential_halves_and_the_whole(monkeypatch):
    """Two threads or one: the same halves, the same numbers; the halves match the whole-matrix products to
    1e-12 (BLAS may sum in another order)."""
    from tradepulse.indicators import complexity_core as core

    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1.5, 60), rng.normal(0.3, 1.2, 900)
    x = np.where(rng.random((60, 900)) < 1 / (1 + np.exp(-(a[:, None] - b[None, :]))),
                 rng.lognormal(10, 2, (60, 900)), 0.0)
    x = x[x.sum(axis=1) > 0][:, x.sum(axis=0) > 0]
    opts = core.Options()
    monkeypatch.setattr(core, "THREADED_CELLS", 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    threaded = core._year(x, opts)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    sequential = core._year(x, opts)
    monkeypatch.setattr(core, "THREADED_CELLS", 10**12)
    whole = core._year(x, opts)
    for key in ("density", "cog", "coi", "eci", "rca"):
        np.testing.assert_array_equal(threaded[key], sequential[key], err_msg=key)
        np.testing.assert_allclose(threaded[key], whole[key], rtol=1e-12, atol=1e-14, err_msg=key)


def test_dictionary_labels_give_the_string_columns_result():
    """Labels read dictionary-encoded (as ``complexity FILE`` reads a CSV) give the table of the same labels
    as strings; a dictionary that is not the strings' own encoding (an unused or repeated entry) is left to
    the pandas path (None)."""
    import pyarrow as pa

    from tradepulse.indicators.complexity_arrow import complexity_table

    df = _exports(years=2)
    df = df[df["export_value"] > 0]   # no dropped exporter: no warning here
    plain = pa.table({c: pa.array(df[c].tolist()) for c in df.columns})
    coded = plain.set_column(1, "exporter", plain.column("exporter").dictionary_encode()) \
                 .set_column(2, "product", plain.column("product").dictionary_encode())
    want = complexity_table(plain)
    assert want is not None and complexity_table(coded).equals(want, check_metadata=True)
    chunked = pa.concat_tables([coded.slice(0, 1000), coded.slice(1000)])   # one dictionary per chunk
    assert complexity_table(chunked).equals(want, check_metadata=True)

    labels = plain.column("exporter").unique()
    codes = pa.array([labels.to_pylist().index(v) for v in df["exporter"]], pa.int32())
    unused = pa.DictionaryArray.from_arrays(codes, pa.concat_arrays([labels, pa.array(["ZZZ"])]))
    first = codes.to_pylist()[0]   # one row of that exporter points at a second copy of its label
    twice = pa.array([len(labels)] + codes.to_pylist()[1:], pa.int32())
    repeated = pa.DictionaryArray.from_arrays(twice, pa.concat_arrays([labels, labels.slice(first, 1)]))
    for column in (unused, repeated):
        assert complexity_table(plain.set_column(1, "exporter", column)) is None


def test_categorical_parquet_takes_the_arrow_path_with_the_pandas_result(tmp_path):
    """A Parquet file of pandas categoricals (dictionary columns, every category used) is now computed by the
    Arrow path: the same frame as the pandas API on the file (values, dtypes, labels, attrs)."""
    import warnings

    from tradepulse.indicators.complexity import complexity

    src = tmp_path / "cat.parquet"
    _exports().astype({"exporter": "category", "product": "category"}).to_parquet(src, index=False)
    out = tmp_path / "o.parquet"
    r = _run(FAST, [str(src), "-o", str(out)])
    assert r.returncode == 0 and b"40 exporters" in r.stdout, r.stderr
    got = pd.read_parquet(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = complexity(pd.read_parquet(src))
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.attrs == {"meta": want.attrs["meta"].to_dict()}
