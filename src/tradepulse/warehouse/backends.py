"""Ibis backends for the same relational code: DuckDB (default, the warehouse file) or PySpark.

``connect("duckdb", path=None)`` opens a DuckDB file (in-memory when ``path`` is None);
``connect("pyspark", master="local[2]")`` starts (or reuses) a small Spark session — UI off, 2 shuffle
partitions, driver memory 1g, warehouse directory in a temporary folder — and wraps it in Ibis.  ``copy_table(src, dst, name)`` moves a table between
backends through Arrow (for tests and for pushing a warehouse extract to Spark).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import ibis

from tradepulse.errors import UnknownNameError

KINDS = ("duckdb", "pyspark")


def spark_session(master: str = "local[2]", app_name: str = "tradepulse", **conf):
    """A small local Spark session suited to tests and one-machine runs."""
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.default.parallelism", "2")
               .config("spark.driver.memory", "1g")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.ansi.enabled", "false")
               # managed tables would otherwise land in ./spark-warehouse of the current directory
               .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="tradepulse-spark-")))
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def connect(kind: str = "duckdb", *, path: str | Path | None = None, read_only: bool = False,
            session=None, master: str = "local[2]", **conf):
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
