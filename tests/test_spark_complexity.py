"""`complexity --engine spark` computes each year in a Spark task (issue 19), with DuckDB's results.

A multi-year SYNTHETIC demo world (2016–2021, 40 countries × 150 HS4 products, with its macro table) plus a
thin year 2015 (IRN exports 2 products, TUR only zeros) is exported to a Parquet dataset; `complexity` runs
through the CLI on the DuckDB file and on the dataset with `--engine spark`.  On Spark the driver must not
read any year's exports (the per-year task path); the tables must agree to 1e-9 relative, with the same
column types; the thin year gives the same warning and error, or is skipped alike by `--min-exports`.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tradepulse.cli import app

runner = CliRunner()
REL = 1e-9
#: The thin year: one exporter with positive exports (2 products) and one whose only row is 0.
THIN = [("IRN", "0101", 1000.0), ("IRN", "0102", 2000.0), ("TUR", "0101", 0.0)]


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """(DuckDB warehouse, exported Parquet dataset) of the demo world 2016–2021 and the thin year 2015."""
    from tradepulse.demo.world import generate
    from tradepulse.ingest import ingest_frame
    from tradepulse.warehouse import Warehouse

    root = tmp_path_factory.mktemp("spark_cx")
    w = generate(n_countries=40, n_products=150, first_year=2016, last_year=2021)
    base = {"month": None, "partner": "WLD", "flow": "export", "hs_revision": "HS1992", "quantity": None,
            "unit": None, "province": None}
    thin = pd.DataFrame([{**base, "year": 2015, "reporter": r, "product": p, "value_usd": v} for r, p, v in THIN])
    path = root / "wh.duckdb"
    with Warehouse(path) as wh:
        ingest_frame(wh, w.flows, source="demo-synthetic", name="demo_flows")
        ingest_frame(wh, w.macro, source="demo-synthetic", name="demo_macro", target="macro")
        ingest_frame(wh, thin, source="demo-synthetic", name="thin_year")
    out = root / "dataset"
    r = runner.invoke(app, ["export", "--to", "parquet-dataset", str(out), "-w", str(path)])
    assert r.exit_code == 0, r.output
    return path, out


@pytest.fixture
def task_path_only(monkeypatch):
    """On Spark the driver reads no year (``WarehouseExports.read`` fails) and the task runner is called:
    yields the list of the calls' candidate years."""
    from tradepulse.indicators import complexity as cx
    from tradepulse.indicators import complexity_spark as cs

    calls: list[list[int]] = []
    real = cs.complexity_tasks

    def spy(stream):
        calls.append(list(stream.source.years))
        yield from real(stream)

    def no_read(self, years):
        if getattr(self.warehouse, "engine", "duckdb") == "spark":
            raise AssertionError(f"the driver read years {list(years)} on Spark")
        return real_read(self, years)

    real_read = cx.WarehouseExports.read
    monkeypatch.setattr(cs, "complexity_tasks", spy)
    monkeypatch.setattr(cx.WarehouseExports, "read", no_read)
    return calls


def _run(args: list[str], store, spark: bool):
    """Exit code, output and the Python warnings' messages of one CLI run."""
    extra = ["-w", str(store)] + (["--engine", "spark"] if spark else [])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = runner.invoke(app, [*args, *extra])
    return r, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


@pytest.mark.spark
@pytest.mark.slow
def test_complexity_years_run_as_spark_tasks(stores, tmp_path, spark, task_path_only, monkeypatch):
    """`complexity --prody --min-exports 1e6`: every year 2016–2021 computed in Spark tasks, the file equal
    to DuckDB's (ECI/PCI per year to 1e-9 relative, same types); the thin year 2015 is skipped on both
    (its exporters are below the filter).  The tasks' result is cached on disk only (in memory, 29 BACI
    years ran a local 1 GB driver out of memory)."""
    from pyspark import StorageLevel

    levels = []
    real_persist = spark.range(1).__class__.persist   # the session's DataFrame class (Spark 4: "classic")

    def persist(self, level=StorageLevel.MEMORY_AND_DISK_DESER):
        levels.append(level)
        return real_persist(self, level)
    monkeypatch.setattr(spark.range(1).__class__, "persist", persist)
    wh, ds = stores
    got = []
    for store, on_spark in ((wh, False), (ds, True)):
        out = tmp_path / f"cx-{on_spark}.parquet"
        r, _ = _run(["complexity", "--prody", "--min-exports", "1e6", "--out", str(out)], store, on_spark)
        assert r.exit_code == 0, r.output
        got.append(pd.read_parquet(out))
    assert task_path_only == [[2015, 2016, 2017, 2018, 2019, 2020, 2021]]   # one call, over every year
    assert levels == [StorageLevel.DISK_ONLY]
    duck, spark_ = got
    assert sorted(duck["year"].unique()) == list(range(2016, 2022))
    assert duck.attrs == spark_.attrs                                        # the meta (PRODY coverage)
    pd.testing.assert_frame_equal(duck, spark_, check_exact=False, rtol=REL, atol=0)
    for y, d in duck.groupby("year", observed=True):                        # ECI/PCI year by year
        s = spark_[spark_["year"] == y]
        assert len(d) == 40 * 150
        np.testing.assert_allclose(s["eci"].to_numpy(), d["eci"].to_numpy(), rtol=REL, atol=0)
        np.testing.assert_allclose(s["pci"].to_numpy(), d["pci"].to_numpy(), rtol=REL, atol=0)
        # an independent check of the year: ECI is the mean PCI of the exporter's products with M = 1
        m = d[d["m"] == 1]
        mean_pci = m.groupby("exporter", observed=True)["pci"].mean()
        eci = d.groupby("exporter", observed=True)["eci"].first()
        np.testing.assert_allclose(eci.loc[mean_pci.index], mean_pci, rtol=1e-9, atol=1e-9)


@pytest.mark.spark
@pytest.mark.slow
def test_thin_year_same_warning_and_error_on_both_engines(stores, tmp_path, spark, task_path_only):
    """Without a filter the thin year 2015 (1 exporter with exports, TUR with zeros only) warns that TUR is
    left out and stops the run with the same one-line error on both engines; no file is left."""
    wh, ds = stores
    seen = []
    for store, on_spark in ((wh, False), (ds, True)):
        out = tmp_path / f"thin-{on_spark}.parquet"
        r, warned = _run(["complexity", "--out", str(out)], store, on_spark)
        assert r.exit_code == 2, r.output
        assert "Traceback" not in r.output and not out.exists()
        error = [line for line in r.output.splitlines() if line.startswith("error:")]
        seen.append((error, [w for w in warned if w.startswith("year ")]))
    assert seen[0] == seen[1]
    assert seen[0][0] == [("error: year 2015: complexity needs at least 2 countries and 2 products with "
                           "exports (got 1 × 2)")]
    assert seen[0][1] == ["year 2015: 1 exporters with zero total exports left out"]
    assert task_path_only == [[2015, 2016, 2017, 2018, 2019, 2020, 2021]]


def test_shipped_package_runs_the_year_task(tmp_path):
    """The zip ``ship_package`` adds to a cluster's executors (``package_zip``) is importable on its own and
    its ``year_task`` gives the in-process result (a fresh interpreter, the zip first on ``sys.path``)."""
    from tradepulse.indicators.complexity import Options
    from tradepulse.indicators.complexity_spark import year_task
    from tradepulse.warehouse.spark import package_zip

    z = package_zip(tmp_path / "tradepulse.zip")
    filters = dict.fromkeys(("min_exports", "min_population", "population", "min_product_exports", "products",
                             "exclude_products"))
    rng = np.random.default_rng(7)
    cells = pd.DataFrame([(2020, e, p, float(rng.integers(1, 1000))) for e in ("ARM", "GEO", "IRN", "TUR", "ZAF")
                          for p in ("0101", "0102", "0201", "5701")],
                         columns=["year", "exporter", "product", "export_value"])
    cells.to_parquet(tmp_path / "cells.parquet")
    code = (f"import sys; sys.path.insert(0, {str(z)!r}); import tradepulse, pandas as pd\n"
            "from tradepulse.indicators.complexity import Options\n"
            "from tradepulse.indicators.complexity_spark import year_task\n"
            f"assert tradepulse.__file__.startswith({str(z)!r}), tradepulse.__file__\n"
            f"out = year_task(pd.read_parquet({str(tmp_path / 'cells.parquet')!r}), opts=Options(), "
            f"filters={filters!r}, gdp_pc=None, missing='error', duplicates='error', with_prody=False)\n"
            f"out.to_parquet({str(tmp_path / 'out.parquet')!r})\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin"}, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    here = year_task(cells, opts=Options(), filters=filters, gdp_pc=None, missing="error", duplicates="error",
                     with_prody=False)
    there = pd.read_parquet(tmp_path / "out.parquet")
    assert len(here) == 5 * 4 + 1                      # the rectangular year and its notes row
    pd.testing.assert_frame_equal(here, there)
