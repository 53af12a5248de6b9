"""``tradepulse complexity FILE -o OUT.parquet`` without pandas (issue 19): the Arrow/NumPy path writes the
same table as the pandas path (``complexity()`` on the file read as the CLI reads it), falls back to that path
for every input it does not handle, and imports neither pandas nor SciPy."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tradepulse.indicators.complexity import complexity

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _exports(n_c: int = 40, n_p: int = 300, years: int = 3, seed: int = 7) -> pd.DataFrame:
    """Nested synthetic exports (P(export) = logistic(a_c - b_p)), a zero-valued row, an exporter whose
    only rows are zero in the first year (dropped with a warning) and product codes with leading zeros."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(0, 1.5, n_c), rng.normal(0.3, 1.2, n_p)
    parts = []
    for t in range(years):
        present = rng.random((n_c, n_p)) < 1 / (1 + np.exp(-(a[:, None] - b[None, :])))
        c, p = np.nonzero(present)
        parts.append(pd.DataFrame({"year": 2001 + t, "exporter": [f"X{i:02d}" for i in c],
                                   "product": [f"{(37 * j) % 1000:03d}{j:03d}" for j in p],
                                   "export_value": np.round(rng.lognormal(10, 2, c.size), 2)}))
    df = pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=1).reset_index(drop=True)
    df.loc[df.index[3], "export_value"] = 0.0
    zero = (df["year"] == 2001) & (df["exporter"] == "X00")
    df.loc[zero, "export_value"] = 0.0
    return df


def _cli(*args: str):
    from tradepulse.cli import app
    return CliRunner().invoke(app, ["complexity", *args])


def _pandas_path(path: Path, **kw) -> pd.DataFrame:
    """What the CLI computed before: the file read by pandas as ``cli.complexity._load`` reads it."""
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
    else:
        frame = pd.read_csv(path, dtype={"exporter": "category", "product": "category"}, low_memory=False)
    return complexity(frame, **kw)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_arrow_path_writes_the_pandas_result(tmp_path, suffix):
    df = _exports()
    src = tmp_path / f"x{suffix}"
    df.to_csv(src, index=False) if suffix == ".csv" else df.to_parquet(src, index=False)
    out = tmp_path / "cx.parquet"
    with pytest.warns(RuntimeWarning, match="year 2001: 1 exporters with zero total exports left out"):
        r = _cli(str(src), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert "rows (40 exporters × 300 products, years 2001–2003)" in " ".join(r.output.split())
    got = pd.read_parquet(out)
    with pytest.warns(RuntimeWarning):
        want = _pandas_path(src)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.attrs == {"meta": want.attrs["meta"].to_dict()}
    assert got["product"].astype(str).str.len().eq(6).all() and "000000" in set(got["product"].astype(str))


def test_arrow_path_options_and_one_period(tmp_path):
    df = _exports(years=1).drop(columns="year")
    src = tmp_path / "x.csv"
    df.to_csv(src, index=False)
    out = tmp_path / "cx.parquet"
    with pytest.warns(RuntimeWarning):
        r = _cli(str(src), "-o", str(out), "--convention", "stata", "--cog-form", "atlas", "--threshold", "0.9")
    assert r.exit_code == 0 and "one period" in r.output
    with pytest.warns(RuntimeWarning):
        want = _pandas_path(src, convention="stata", cog_form="atlas", threshold=0.9)
    pd.testing.assert_frame_equal(pd.read_parquet(out), want, check_exact=True)
    assert (want["year"] == 0).all()


def test_inputs_the_arrow_path_leaves_to_pandas(tmp_path):
    """Missing values, duplicated keys and all-goods totals take the pandas path: same errors, same
    ``--duplicates sum`` result and TOTAL warning as before."""
    df = _exports(years=1)
    bad = tmp_path / "missing.csv"
    df.assign(export_value=df["export_value"].where(df.index != 5)).to_csv(bad, index=False)
    r = _cli(str(bad), "-o", str(tmp_path / "a.parquet"))
    assert r.exit_code == 2 and "values are missing or not numbers" in r.output and "Traceback" not in r.output

    dup = tmp_path / "dup.csv"
    pd.concat([df, df.iloc[[10]]]).to_csv(dup, index=False)
    r = _cli(str(dup), "-o", str(tmp_path / "b.parquet"))
    assert r.exit_code == 2 and "duplicated (year, exporter, product) keys" in r.output
    with pytest.warns(RuntimeWarning):
        r = _cli(str(dup), "-o", str(tmp_path / "b.parquet"), "--duplicates", "sum")
    assert r.exit_code == 0
    with pytest.warns(RuntimeWarning):
        want = _pandas_path(dup, duplicates="sum")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "b.parquet"), want, check_exact=True)

    total = tmp_path / "total.csv"
    pd.concat([df, pd.DataFrame({"year": [2001], "exporter": ["X05"], "product": ["TOTAL"],
                                 "export_value": [1e9]})]).to_csv(total, index=False)
    with pytest.warns(RuntimeWarning):
        r = _cli(str(total), "-o", str(tmp_path / "c.parquet"))
    assert r.exit_code == 0 and "all-goods total rows" in " ".join(r.output.split())

    na = tmp_path / "na.csv"   # "NA" is a missing label to pandas: the same error as before, not an exporter
    df.assign(exporter=df["exporter"].where(df.index != 7, "NA")).to_csv(na, index=False)
    r = _cli(str(na), "-o", str(tmp_path / "e.parquet"))
    assert r.exit_code == 2 and "1 rows have no exporter" in r.output

    text = tmp_path / "text.csv"   # a value column that is not numbers: the pandas path's error
    df.astype({"export_value": str}).assign(export_value=lambda d: d["export_value"] + " USD").to_csv(text,
                                                                                                   index=False)
    r = _cli(str(text), "-o", str(tmp_path / "d.parquet"))
    assert r.exit_code == 2 and "not numbers" in r.output


def test_cli_complexity_file_imports_no_pandas_or_scipy(tmp_path):
    df = _exports(years=1)
    src = tmp_path / "x.csv"
    df.to_csv(src, index=False)
    code = ("import sys, warnings; warnings.simplefilter('ignore')\n"
            "import tradepulse.cli.complexity_file as cf; cf.EXIT_WITHOUT_TEARDOWN = False\n"
            f"sys.argv = ['tradepulse', 'complexity', {str(src)!r}, '-o', {str(tmp_path / 'o.parquet')!r}]\n"
            "from tradepulse.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('pandas', 'scipy', 'duckdb', 'ibis') if m in sys.modules), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": SRC})
    assert out.stderr.strip().splitlines()[-1] == "[]", out.stderr
    assert (tmp_path / "o.parquet").exists()


def test_options_the_arrow_path_leaves_to_pandas(tmp_path):
    """--rolling, --min-exports, --exclude-products and --gdp-pc take the pandas path (same result as
    the API with those options)."""
    df = _exports()
    src = tmp_path / "x.csv"
    df.to_csv(src, index=False)
    gdp = tmp_path / "gdp.csv"
    pd.DataFrame({"iso3": [f"X{i:02d}" for i in range(40)], "gdp_pc": np.linspace(500, 60000, 40)}).to_csv(
        gdp, index=False)
    cases = [(["--rolling", "2"], {"rolling": 2}), (["--min-exports", "1e6"], {"min_exports": 1e6}),
             (["--exclude-products", "00"], {"exclude_products": ["00"]}),
             (["--gdp-pc", str(gdp)], {"gdp_pc": pd.read_csv(gdp)})]
    for args, kw in cases:
        out = tmp_path / "o.parquet"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # the dropped exporter (not with --rolling 2)
            r = _cli(str(src), "-o", str(out), *args)
            want = _pandas_path(src, **kw)
        assert r.exit_code == 0, (args, r.output)
        pd.testing.assert_frame_equal(pd.read_parquet(out), want, check_exact=True, obj=" ".join(args))
