"""The warehouse: a DuckDB file (default) holding the canonical tables, read through Ibis.

Tables: ``flows`` and ``services`` (see :mod:`tradepulse.schema`), ``quarantine`` (rejected input rows with
file, line, column and reason) and ``loads`` (one row per ingest).  Relational work elsewhere in tradepulse
takes Ibis tables, so the same expressions run on DuckDB or, via :mod:`tradepulse.warehouse.backends`, on
PySpark.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd

from tradepulse import schema
from tradepulse.config import default_warehouse_path

QUARANTINE: dict[str, str] = {
    "load_id": "VARCHAR", "file": "VARCHAR", "line": "BIGINT", "column_name": "VARCHAR",
    "value": "VARCHAR", "reason": "VARCHAR", "raw": "VARCHAR",
}
LOADS: dict[str, str] = {
    "load_id": "VARCHAR", "file": "VARCHAR", "sha256": "VARCHAR", "format": "VARCHAR",
    "target": "VARCHAR", "rows_loaded": "BIGINT", "rows_quarantined": "BIGINT",
    "value_usd_loaded": "DOUBLE", "loaded_at": "TIMESTAMP", "note": "VARCHAR",
}
TABLES: dict[str, dict[str, str]] = {
    "flows": schema.FLOWS, "services": schema.SERVICES, "macro": schema.MACRO,
    "quarantine": QUARANTINE, "loads": LOADS,
}


def _ddl(name: str, columns: dict[str, str]) -> str:
    cols = ", ".join(f'"{c}" {t}' for c, t in columns.items())
    return f'CREATE TABLE IF NOT EXISTS "{name}" ({cols})'


class Warehouse:
    """A DuckDB warehouse file.  ``Warehouse(path)`` creates the file and tables when missing.

    ``read_only=True`` lets several readers (web server, reports) share one file.
    """

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False):
        self.path = Path(path) if path is not None else default_warehouse_path()
        self.read_only = read_only
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            from tradepulse.errors import TradepulseError
            raise TradepulseError(f"no warehouse at {self.path}; run `tradepulse demo` or `tradepulse ingest` first")
        self.con = ibis.duckdb.connect(str(self.path), read_only=read_only)
        if not read_only:
            self.ensure_schema()

    # -- raw DuckDB access (DDL, transactions, bulk loads)
    @property
    def raw(self):
        """The underlying ``duckdb.DuckDBPyConnection``."""
        return self.con.con

    def ensure_schema(self) -> None:
        for name, cols in TABLES.items():
            self.raw.execute(_ddl(name, cols))

    # -- Ibis tables
    def table(self, name: str) -> ibis.Table:
        return self.con.table(name)

    def flows(self) -> ibis.Table:
        return self.table("flows")

    def services(self) -> ibis.Table:
        return self.table("services")

    def macro(self) -> ibis.Table:
        return self.table("macro")

    def quarantine(self) -> ibis.Table:
        return self.table("quarantine")

    def loads(self) -> ibis.Table:
        return self.table("loads")

    def close(self) -> None:
        self.con.disconnect()

    def __enter__(self) -> "Warehouse":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def as_table(data: "pd.DataFrame | ibis.Table | Warehouse", name: str = "flows") -> ibis.Table:
    """Accept a pandas frame, an Ibis table or a warehouse (→ its ``name`` table) and return an Ibis table."""
    if isinstance(data, Warehouse):
        return data.table(name)
    if isinstance(data, ibis.Table):
        return data
    if isinstance(data, pd.DataFrame):
        return ibis.memtable(data)
    raise TypeError(f"expected a pandas DataFrame, an Ibis table or a Warehouse, not {type(data).__name__}")
