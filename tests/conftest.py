"""Shared test fixtures.  Real data fixtures are read from ../shared/data (never copied here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Rich consoles are created at import time and read COLUMNS then: fix the width for every test so CLI
# output does not depend on which test imported the CLI first.
os.environ["COLUMNS"] = "200"

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TRADEPULSE_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ../shared/data; tests that need it are skipped loudly when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"real-data fixtures not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def spark():
    """One local Spark session (``local[2]``, UI off) shared by every Spark test of this worker.

    Skipped with a reason when PySpark or Java 17 is missing.  Workers run the venv's Python.
    """
    import shutil
    import sys

    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("PySpark needs Java 17 (Debian openjdk-17-jre-headless)")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from tradepulse.warehouse.backends import spark_session

    return spark_session()


@pytest.fixture
def tmp_warehouse(tmp_path):
    from tradepulse.warehouse import Warehouse
    wh = Warehouse(tmp_path / "wh.duckdb")
    yield wh
    wh.close()


def pytest_collection_modifyitems(config, items):
    """Keep every Spark test on one xdist worker (one JVM) and the browser tests on one worker."""
    for item in items:
        if item.get_closest_marker("spark"):
            item.add_marker(pytest.mark.xdist_group("spark"))
        elif item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))
