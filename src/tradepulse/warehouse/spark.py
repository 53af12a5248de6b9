"""Spark as the engine: a Parquet dataset (see :mod:`tradepulse.warehouse.parquet`) read as a warehouse.

:class:`SparkWarehouse` is a read-only :class:`~tradepulse.warehouse.Warehouse` whose tables are Spark
DataFrames (temporary views) wrapped by Ibis' PySpark backend, so every indicator, the brief and the dashboard
run their Ibis expressions on Spark unchanged.  Its :attr:`raw` is a small in-memory DuckDB *catalogue*: the
small tables (loads, coverage, macro, …) and — for a local directory — views over the partitioned files, so
the few metadata queries written in SQL (load signatures, table existence) keep working.  Heavy relational
work goes through :meth:`table`, i.e. Spark.

:func:`use_engine` (``--engine spark``, ``$TRADEPULSE_ENGINE``) makes ``Warehouse(path, read_only=True)``
open a :class:`SparkWarehouse` for the duration of a command, so the readers (indicators, brief, dashboard,
roadmap) need no engine argument of their own.  Writers (ingest, fetch) use DuckDB; ``ingest --engine spark``
writes a dataset instead (:mod:`tradepulse.ingest.spark`).
"""

from __future__ import annotations

import hashlib
import threading
from contextlib import contextmanager
from pathlib import Path

import duckdb

import tradepulse.warehouse as _wh
from tradepulse.errors import TradepulseError, UnknownNameError
from tradepulse.warehouse import Warehouse
from tradepulse.warehouse.backends import DEFAULT_MASTER
from tradepulse.warehouse.parquet import _lit, as_url, exclude_sql, is_url, locations, read_manifest

ENGINES = ("duckdb", "spark")
_LOCK = threading.Lock()
#: (root, manifest version, session id) → {table: temporary view name}: reopening a dataset costs nothing.
_VIEWS: dict[tuple, dict[str, str]] = {}
_BACKENDS: dict[int, object] = {}
_state = {"master": None}
#: id(SparkContext) → the tradepulse zip added to it (:func:`ship_package`).
_SHIPPED: dict[int, Path] = {}


class SparkWarehouse(Warehouse):
    """A Parquet dataset directory (or storage URL) read through Spark; read-only.

    ``session``: an existing SparkSession (default: the running one, else a new one on ``master``, default
    ``$TRADEPULSE_SPARK_MASTER`` or ``local[2]``).
    """

    engine = "spark"

    def __init__(self, path: str | Path | None = None, *, read_only: bool = True, session=None,
                 master: str | None = None):
        if path is None:
            from tradepulse.config import default_warehouse_path
            path = default_warehouse_path()
        self.path = as_url(path) if is_url(path) else Path(path)
        self.read_only = True
        local = None if is_url(path) else read_manifest(self.path)   # a wrong path fails before Spark starts
        self._session = session or _session(master)
        self.manifest = local or read_manifest(self.path, self._session)
        self._views = _register(self._session, self.path, self.manifest)
        self._ibis = _backend(self._session)
        self._raw = _catalogue(self.path, self.manifest, self._session)

    # -- the catalogue (raw) and the Spark tables
    def ensure_schema(self) -> None:   # read-only: nothing to create
        return None

    def keyed_flows(self):
        """None: a Parquet dataset holds the canonical ``flows`` only (readers group by ``product`` itself)."""
        return None

    def table(self, name: str):
        if name not in self._views:
            raise TradepulseError(f"the Parquet dataset at {self.path} has no table {name!r} (it holds "
                                  f"{', '.join(sorted(self._views))})")
        return self._ibis.table(self._views[name])

    def dataframe(self, name: str):
        """The Spark DataFrame of table ``name``."""
        self.table(name)   # the one-line error for an unknown table
        return self._session.table(self._views[name])

    def spark_frame(self, expr):
        """The Spark DataFrame of an Ibis expression over this dataset's tables (compiled, not run): for work
        that continues in Spark itself, e.g. the per-year complexity tasks."""
        self._ibis._run_pre_execute_hooks(expr)   # registers in-memory tables the expression uses
        return self._session.sql(self._ibis.compile(expr))

    def coverage(self):
        """The coverage written at export (complete: no recount)."""
        return self._raw.execute("SELECT * FROM coverage").df()

    def info(self) -> dict:
        """As :meth:`Warehouse.info`; for a storage URL the flows figures come from Spark (the catalogue holds
        only the small tables there)."""
        if not is_url(self.path):
            out = super().info()
        else:
            from pyspark.sql import functions as F

            big = {n for n, spec in self.manifest["tables"].items() if spec["partition_by"]}
            saved = {n: self.manifest["tables"][n]["rows"] for n in big}
            out = super().info()   # the big tables are empty schemas in the catalogue: fix their figures
            out["tables"].update({n: int(v) for n, v in saved.items() if n in out["tables"]})
            f = self.dataframe("flows")
            out["flow_years"] = sorted(int(r[0]) for r in f.select("year").distinct().collect() if r[0] is not None)
            out["reporters"] = int(f.select(F.countDistinct("reporter")).collect()[0][0])
            out["sources"] = {r[0]: int(r[1]) for r in f.groupBy("source").count().orderBy("source").collect()}
        out["engine"] = "spark"
        out["master"] = self._session.sparkContext.master
        out["exported_from"] = self.manifest.get("source")
        out["version"] = self.manifest.get("version")
        return out

    def export(self, *args, **kwargs) -> int:
        raise TradepulseError("export reads a DuckDB warehouse; a Parquet dataset already is an export")

    def close(self) -> None:   # the Spark session and its views outlive one command (they are shared)
        self._raw.close()


# --------------------------------------------------------------------------- helpers
def _session(master: str | None):
    from pyspark.sql import SparkSession

    from tradepulse.warehouse.backends import spark_session

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    return spark_session(master or _state["master"] or submitted_master() or DEFAULT_MASTER)


def submitted_master() -> str | None:
    """The master ``spark-submit`` was given when it launched this process as the driver (None otherwise):
    its ``--master`` and ``--conf`` then configure the session, as for any PySpark application."""
    import os

    if not os.environ.get("PYSPARK_GATEWAY_PORT"):   # set by spark-submit's Python runner
        return None
    from pyspark import SparkConf, SparkContext

    SparkContext._ensure_initialized()   # attach to spark-submit's JVM: its system properties hold the conf
    return SparkConf().get("spark.master", None)


def _backend(session):
    """One Ibis PySpark backend per session."""
    import ibis

    with _LOCK:
        be = _BACKENDS.get(id(session))
        if be is None:
            be = _BACKENDS[id(session)] = ibis.pyspark.connect(session)
        return be


def _location(root, rel: str) -> str:
    return f"{str(root).rstrip('/')}/{rel}" if is_url(root) else str(Path(root) / rel)


def _register(session, root, manifest: dict) -> dict[str, str]:
    """Temporary views of the dataset's tables (columns in the warehouse's order); cached per export."""
    key = (str(root), json_key(manifest), id(session))
    with _LOCK:
        if key in _VIEWS:
            return _VIEWS[key]
        tag = hashlib.sha256(repr(key).encode()).hexdigest()[:10]
        views = {}
        for name, spec in manifest["tables"].items():
            df = None
            for part in locations(spec):   # the export, then one part per Spark load (format 2)
                loc = _location(root, part["path"])
                reader = session.read
                ddl = spark_schema(spec["columns"])
                if ddl is not None:   # no inference job, and partition columns keep their stored types
                    reader = reader.schema(ddl)
                if spec["partition_by"]:
                    reader = reader.option("basePath", loc)
                one = reader.parquet(loc)
                if exclude_sql(part):   # format 3: rows of these (year, reporter) pairs were replaced
                    one = one.where(exclude_sql(part))
                one = one.select(*[c for c in spec["columns"] if c in one.columns])
                df = one if df is None else df.unionByName(one)
            view = f"tp_{tag}_{name}"
            df.createOrReplaceTempView(view)
            views[name] = view
        _VIEWS[key] = views
        return views


#: DuckDB column types (as in the manifest) → Spark SQL types.
_SPARK_TYPES = {"VARCHAR": "string", "SMALLINT": "smallint", "TINYINT": "tinyint", "INTEGER": "int",
                "BIGINT": "bigint", "DOUBLE": "double", "FLOAT": "float", "BOOLEAN": "boolean", "DATE": "date",
                "TIMESTAMP": "timestamp_ntz", "TIMESTAMP WITH TIME ZONE": "timestamp",
                # pandas dtypes of the coverage frame
                "object": "string", "int8": "tinyint", "int16": "smallint", "int32": "int", "int64": "bigint",
                "float64": "double", "bool": "boolean"}


def spark_schema(columns: dict[str, str]) -> str | None:
    """A Spark DDL schema for the manifest's ``columns``, or None when a type has no entry (then inferred)."""
    parts = []
    for col, typ in columns.items():
        spark = _SPARK_TYPES.get(str(typ).upper()) or _SPARK_TYPES.get(str(typ))
        if spark is None:
            return None
        parts.append(f"`{col.replace('`', '``')}` {spark}")
    return ", ".join(parts)


def json_key(manifest: dict) -> str:
    v = manifest.get("version") or {}
    return f"{manifest.get('exported_at')}|{v.get('loads_sha256')}"


def _catalogue(root, manifest: dict, session):
    """An in-memory DuckDB holding the dataset's catalogue (see the module docstring)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, spec in manifest["tables"].items():
        if not is_url(root):   # DuckDB reads the local files itself, lazily (a view)
            con.execute(f'CREATE VIEW "{name}" AS ' + " UNION ALL BY NAME ".join(
                _local_select(root, spec, part) for part in locations(spec)))
        elif not spec["partition_by"]:   # a small table from remote storage: collected once through Spark
            arrow = session.table(_register(session, root, manifest)[name]).toArrow()
            con.register("_incoming", arrow)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _incoming')
            con.unregister("_incoming")
        else:   # a big remote table: its schema only (existence checks); its rows are read through Spark
            cols = ", ".join(f'"{c}" {t}' for c, t in spec["columns"].items())
            con.execute(f'CREATE TABLE "{name}" ({cols})')
    return con


def ship_package(session, *, force: bool = False) -> Path | None:
    """Make ``tradepulse`` importable in the executors' Python workers (they run its per-year complexity
    tasks): zip the package this driver runs (``tradepulse/**``, no ``__pycache__``) into a temporary file
    and ``SparkContext.addPyFile`` it, once per Spark context.  Executors then run the driver's exact code
    (the zip comes first on their ``sys.path``); they need its dependencies (NumPy, pandas, SciPy, PyArrow).
    A ``local[…]`` master needs nothing — its workers run this interpreter with the driver's ``sys.path``
    — unless ``force``.  Returns the zip's path, or None when nothing was shipped."""
    import atexit
    import shutil
    import tempfile

    sc = session.sparkContext
    if (sc.master == "local" or sc.master.startswith("local[")) and not force:   # not local-cluster[…]
        return None
    with _LOCK:
        key = id(sc)
        if key in _SHIPPED:
            return _SHIPPED[key]
        tmp = Path(tempfile.mkdtemp(prefix="tradepulse-pyfiles-"))
        atexit.register(shutil.rmtree, tmp, ignore_errors=True)   # served to executors while the session runs
        zpath = package_zip(tmp / "tradepulse.zip")
        sc.addPyFile(str(zpath))
        _SHIPPED[key] = zpath
        return zpath


def package_zip(dest: Path) -> Path:
    """Write the running ``tradepulse`` package (every file under it but ``__pycache__``) to the zip
    ``dest``, importable from ``sys.path`` (zipimport); return ``dest``."""
    import zipfile

    import tradepulse

    pkg = Path(tradepulse.__file__).resolve().parent
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(pkg.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc":
                z.write(f, (Path("tradepulse") / f.relative_to(pkg)).as_posix())
    return dest

def _local_select(root, spec: dict, part: dict) -> str:
    """DuckDB SELECT of one location of a table (a file, or a hive-partitioned directory: with the partition
    columns inside the files as exported, or only in the directory names as a Spark load writes them)."""
    loc = _location(root, part["path"])
    is_dir = Path(loc).is_dir()
    files = _lit(f"{loc}/**/*.parquet" if is_dir else loc)
    where = f" WHERE {exclude_sql(part)}" if exclude_sql(part) else ""
    if not spec["partition_by"] or part["partition_columns_in_files"]:
        return f"SELECT * FROM read_parquet({files}, hive_partitioning = false){where}"
    types = ", ".join(f"{_lit(k)}: {_lit(spec['columns'][k])}" for k in spec["partition_by"])
    cols = ", ".join(f'"{c}"' for c in spec["columns"])
    return f"SELECT {cols} FROM read_parquet({files}, hive_partitioning = true, hive_types = {{{types}}}){where}"


@contextmanager
def use_engine(engine: str | None, *, master: str | None = None):
    """For the ``with`` block, ``Warehouse(path, read_only=True)`` opens ``path`` with ``engine``.

    ``engine``: ``duckdb`` (or None: unchanged) or ``spark`` (``pyspark`` accepted); ``master``: the Spark
    master URL for a session started in the block (an already running session is reused as it is).
    """
    name = (engine or "duckdb").strip().lower()
    name = "spark" if name == "pyspark" else name
    if name not in ENGINES:
        raise UnknownNameError("engine", engine, list(ENGINES))
    if name == "duckdb":
        yield
        return
    import importlib.util
    if importlib.util.find_spec("pyspark") is None:
        raise TradepulseError("--engine spark needs PySpark: install tradepulse[spark] (and Java 17)")
    saved = (_wh._READER, _state["master"])
    _wh._READER, _state["master"] = SparkWarehouse, master
    try:
        yield
    finally:
        _wh._READER, _state["master"] = saved
