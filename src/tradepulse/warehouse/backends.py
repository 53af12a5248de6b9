"""Ibis backends for the same relational code: DuckDB (default, the warehouse file) or PySpark.

``connect("duckdb", path=None)`` opens a DuckDB file (in-memory when ``path`` is None);
``connect("pyspark", master="local[2]")`` starts (or reuses) a Spark session and wraps it in Ibis.  On a
``local[…]`` master the session is small — UI off, 2 shuffle partitions, driver memory 1g; on a cluster master
(``spark://…``, ``yarn``, ``k8s://…``) only the UI, time zone and ANSI settings are fixed and the cluster's
``spark-defaults.conf`` decides the rest.  ``copy_table(src, dst, name)`` moves a table between backends
through Arrow (tests, small extracts).  Whole warehouses go to Spark as a Parquet dataset instead
(:mod:`tradepulse.warehouse.parquet`, read by :class:`tradepulse.warehouse.spark.SparkWarehouse`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import ibis

from tradepulse.errors import UnknownNameError

KINDS = ("duckdb", "pyspark")
#: Spark master when none is given (``--master`` / ``$TRADEPULSE_SPARK_MASTER``).
DEFAULT_MASTER = "local[2]"


def spark_session(master: str = DEFAULT_MASTER, app_name: str = "tradepulse", **conf):
    """A Spark session: small and local on ``local[…]`` (tests, one machine), cluster defaults otherwise.

    An already running session is reused as it is (Spark allows one per process): its master wins.
    """
    import os
    import sys

    from pyspark.sql import SparkSession

    if master.startswith("local"):   # local Python workers run this interpreter (a cluster sets its own)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")   # no progress bars under the CLI's tables
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.ansi.enabled", "false")
               # managed tables would otherwise land in ./spark-warehouse of the current directory
               .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="tradepulse-spark-")))
    if master.startswith("local"):
        builder = (builder.config("spark.sql.shuffle.partitions", "2").config("spark.default.parallelism", "2")
                   .config("spark.driver.memory", os.environ.get("TRADEPULSE_SPARK_DRIVER_MEMORY", "1g"))
                   # list a dataset's partition directories on the driver (a listing job costs more locally)
                   .config("spark.sql.sources.parallelPartitionDiscovery.threshold", "4096"))
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def connect(kind: str = "duckdb", *, path: str | Path | None = None, read_only: bool = False,
            session=None, master: str = DEFAULT_MASTER, **conf):
    """Return an Ibis backend of ``kind`` (duckdb | pyspark)."""
    if kind == "duckdb":
        if path is None:
            return ibis.duckdb.connect()
        return ibis.duckdb.connect(str(path), read_only=read_only)
    if kind == "pyspark":
        return ibis.pyspark.connect(session or spark_session(master, **conf))
    raise UnknownNameError("backend", kind, list(KINDS))


def copy_table(expr: ibis.Table, backend, name: str, *, overwrite: bool = True) -> ibis.Table:
    """Materialise an Ibis table expression (from any backend) as table ``name`` in ``backend``.

    DuckDB gets an Ibis memtable: with ibis 12 + duckdb 2.0, ``create_table`` from a pyarrow table or a
    pandas frame, or with ``overwrite=True``, fails (``DROP ... IF EXISTS`` without a name); a memtable works.
    """
    data = expr.to_pyarrow()
    if getattr(backend, "name", "") == "duckdb":
        if overwrite:  # ibis' own overwrite path hits the same bug: drop first
            backend.con.execute('DROP TABLE IF EXISTS "' + name.replace('"', '""') + '"')
        return backend.create_table(name, ibis.memtable(data))
    if getattr(backend, "name", "") == "pyspark":  # a temporary view: nothing written to disk
        session = backend._session
        session.createDataFrame(data).createOrReplaceTempView(name)  # Arrow keeps the column types
        return backend.table(name)
    return backend.create_table(name, data, overwrite=overwrite)
