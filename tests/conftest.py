"""Shared test fixtures.  Real data fixtures are read from ../shared/data (never copied here)."""

from __future__ import annotations

import os
import shutil
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

    return spark_session(**{"spark.driver.extraJavaOptions": SPARK_TEST_JAVA_OPTIONS})


#: JVM options of the tests' Spark session: the C1 compiler only and the serial collector.  The test JVM lives
#: a few minutes and runs hundreds of small queries, so C2's compiler threads and the parallel collector's
#: threads burn CPU that never pays back, on 2 cores shared with the other xdist worker (first Spark test with
#: the JVM start, loaded machine: 58 s CPU by default, 34 s with these).  Neither option changes what the JVM
#: computes; `tradepulse` itself (and test_spark_cli's spark-submit run) keeps the JVM defaults.
SPARK_TEST_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


@pytest.fixture(scope="session")
def demo_world(tmp_path_factory) -> Path:
    """The folder ``tradepulse.demo.build(out, small=True)`` (seed 1400, through the real ingest) wrote: its
    warehouse, customs CSVs, summary and README.  Built once per run: xdist workers share it under a file lock
    (the first to need it builds it, the other waits).  Read it through ``demo_copy``, never in place."""
    import fcntl

    from tradepulse.demo import build

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent                      # this run's folder, shared by its workers
    out, done = root / "demo-world", root / "demo-world.built"
    with open(root / "demo-world.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(out, ignore_errors=True)
            build(out, small=True)
            done.touch()
    return out


@pytest.fixture(scope="session")
def demo_copy(demo_world):
    """``demo_copy(folder)`` fills ``folder`` with a copy of the small demo world's files (what ``build`` writes,
    byte for byte) and returns it, so each module gets its own warehouse without building the world again.
    ``web.testing.demo_site(folder)`` then only seeds the working groups, as after its own build."""
    def copy(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for f in demo_world.iterdir():
            if f.is_file():
                shutil.copyfile(f, folder / f.name)
        return folder
    return copy


@pytest.fixture
def tmp_warehouse(tmp_path):
    from tradepulse.warehouse import Warehouse
    wh = Warehouse(tmp_path / "wh.duckdb")
    yield wh
    wh.close()


def _shared_fixtures(item) -> set[tuple[str, str]]:
    """(module, name) of the module-scoped fixtures ``item`` uses, directly or through other fixtures."""
    info = getattr(item, "_fixtureinfo", None)
    out = set()
    for name, defs in (info.name2fixturedefs.items() if info is not None else ()):
        if defs and defs[-1].scope in ("class", "module", "package"):
            out.add((getattr(defs[-1], "baseid", "") or item.nodeid.split("::")[0], name))
    return out


def _groups(items) -> dict:
    """The xdist group of each item that needs one (a work unit runs on one worker, start to end):

    * every Spark test in ``spark`` (one JVM) and every browser test in ``browser``;
    * explicit ``xdist_group`` marks as they are;
    * any other test that shares a module-scoped fixture (a warehouse, a demo site) with a grouped test joins
      that test's group, else its module's tests that share module fixtures form one group, so each such
      fixture is built once per run rather than once per worker.
    """
    group = {}
    for item in items:
        if item.get_closest_marker("spark"):
            group[item] = "spark"
        elif item.get_closest_marker("browser"):
            group[item] = "browser"
        else:
            marks = [m.args[0] if m.args else m.kwargs.get("name", "default")
                     for m in item.iter_markers("xdist_group")]
            if marks:
                group[item] = "_".join(sorted(set(map(str, marks))))
    owner = {}
    for item, g in group.items():
        for key in _shared_fixtures(item):
            owner.setdefault(key, g)
    for item in items:
        if item in group:
            continue
        keys = sorted(_shared_fixtures(item))
        if keys:
            group[item] = next((owner[k] for k in keys if k in owner), item.nodeid.split("::")[0])
    return group


def pytest_collection_modifyitems(config, items):
    """Group tests for ``pytest -n 2 --dist loadgroup`` (see ``_groups``).

    pytest-xdist 3.8 groups by appending ``@group`` to ``item._nodeid``, which pytest 9 no longer reads (the
    node id lives in ``item._id``): every mark was silently ignored and each test was its own work unit, so
    the Spark tests started a JVM on both workers and every module fixture was built on both.  The suffix is
    set here on whichever attribute this pytest reads; xdist's own suffix is never doubled.
    """
    groups = _groups(items)
    for item, g in groups.items():
        if not any(m.args[:1] == (g,) for m in item.iter_markers("xdist_group")):
            item.add_marker(pytest.mark.xdist_group(g))
    if not getattr(config.option, "loadgroup", False):   # set on xdist workers under --dist loadgroup
        return
    for item, g in groups.items():
        if item.nodeid.endswith("@" + g):
            continue
        node_id = getattr(item, "_id", None)
        if node_id is not None and hasattr(type(node_id), "parse"):
            item._id = type(node_id).parse(f"{item.nodeid}@{g}")
        else:
            item._nodeid = f"{item.nodeid}@{g}"
