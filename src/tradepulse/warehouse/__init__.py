"""The warehouse: a DuckDB file (default) holding the canonical tables, read through Ibis.

Tables: ``flows``, ``firm_flows``, ``services`` and ``macro`` (see :mod:`tradepulse.schema`), ``quarantine``
(rejected input rows with file, line, column and reason) and ``loads`` (one row per ingest).  Relational work
elsewhere in tradepulse takes Ibis tables, so the same expressions run on DuckDB or, via
:mod:`tradepulse.warehouse.backends`, on PySpark.

Storage of ``flows`` (a view; see docs/data-model.md, "Storage"): rows from most sources live in the native
table ``flow_rows`` (the 13 canonical columns); clean BACI loads live *slim* in ``baci_rows`` — the file's
numbers as they are (year, numeric reporter and partner codes, the HS6 code as an integer, value, quantity,
load number) with the per-load constants (flow, HS revision, unit, source, load id) in ``baci_loads`` and each
load's numeric → ISO3 code list in ``baci_countries``.  The view ``flows`` decodes them and appends them to
``flow_rows``, so readers see one canonical table.  Write to ``flow_rows`` (:data:`STORAGE`), never to the view.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:  # ibis and pandas are imported on first use (≈ 0.35 s each): a bulk ingest needs neither
    import ibis
    import pandas as pd

from tradepulse import schema
from tradepulse.config import default_warehouse_path
from tradepulse.warehouse.datasets import COVERAGE as _COVERAGE

QUARANTINE: dict[str, str] = {
    "load_id": "VARCHAR", "file": "VARCHAR", "line": "BIGINT", "column_name": "VARCHAR",
    "value": "VARCHAR", "reason": "VARCHAR", "raw": "VARCHAR",
}
LOADS: dict[str, str] = {
    "load_id": "VARCHAR", "file": "VARCHAR", "sha256": "VARCHAR", "format": "VARCHAR",
    "target": "VARCHAR", "rows_loaded": "BIGINT", "rows_quarantined": "BIGINT",
    "value_usd_loaded": "DOUBLE", "loaded_at": "TIMESTAMP", "note": "VARCHAR",
}
#: The warehouse's tables as readers see them (``flows`` is a view over its storage tables).
TABLES: dict[str, dict[str, str]] = {
    "flows": schema.FLOWS, "services": schema.SERVICES, "macro": schema.MACRO, "firm_flows": schema.FIRM_FLOWS,
    "quarantine": QUARANTINE, "loads": LOADS,
}
#: Where rows of a table are written: ``flows`` rows go to the native table ``flow_rows`` (or, for clean BACI
#: loads, to the slim tables below); every other table is its own storage.
STORAGE: dict[str, str] = {name: ("flow_rows" if name == "flows" else name) for name in TABLES}
#: Slim storage of BACI loads: the file's numbers (see the module docstring).
BACI_ROWS: dict[str, str] = {
    "year": "SMALLINT", "reporter": "INTEGER", "partner": "INTEGER", "product": "INTEGER",
    "value_usd": "DOUBLE", "quantity": "DOUBLE", "load_no": "INTEGER",
}
BACI_LOADS: dict[str, str] = {
    "load_no": "INTEGER", "load_id": "VARCHAR", "flow": "VARCHAR", "hs_revision": "VARCHAR", "unit": "VARCHAR",
    "source": "VARCHAR",
}
BACI_COUNTRIES: dict[str, str] = {"load_no": "INTEGER", "number": "INTEGER", "iso3": "VARCHAR"}
_PHYSICAL: dict[str, dict[str, str]] = {
    **{STORAGE[n]: cols for n, cols in TABLES.items()},
    "baci_rows": BACI_ROWS, "baci_loads": BACI_LOADS, "baci_countries": BACI_COUNTRIES,
    "coverage": _COVERAGE,
}
#: The slim rows decoded to the canonical columns (the second half of the ``flows`` view).
BACI_DECODED = (
    "SELECT b.year, NULL::TINYINT AS month, r.iso3 AS reporter, p.iso3 AS partner, l.flow, "
    "lpad(CAST(b.product AS VARCHAR), 6, '0') AS product, l.hs_revision, b.value_usd, b.quantity, "
    "CASE WHEN b.quantity IS NOT NULL THEN l.unit END AS unit, NULL::VARCHAR AS province, l.source, l.load_id "
    "FROM baci_rows b JOIN baci_loads l ON l.load_no = b.load_no "
    "JOIN baci_countries r ON r.load_no = b.load_no AND r.number = b.reporter "
    "JOIN baci_countries p ON p.load_no = b.load_no AND p.number = b.partner")


#: The class ``Warehouse(path, read_only=True)`` opens instead of a DuckDB file while an engine is in use
#: (set only by :func:`tradepulse.warehouse.spark.use_engine`, i.e. ``--engine spark``); None = DuckDB.
_READER: type | None = None


def reader_engine() -> str:
    """The engine a read-only ``Warehouse(path)`` opens with right now: ``duckdb`` or ``spark``."""
    return "duckdb" if _READER is None else "spark"

#: Version of the ``flows`` view definitions (bump when :func:`flows_view_sql` changes).
VIEW_VERSION = "tradepulse flows view 1: flow_rows + slim BACI"


def _ddl(name: str, columns: dict[str, str]) -> str:
    cols = ", ".join(f'"{c}" {t}' for c, t in columns.items())
    return f'CREATE TABLE IF NOT EXISTS "{name}" ({cols})'


def flows_view_sql(located: bool = False) -> str:
    """SQL of the ``flows`` view: ``flow_rows`` UNION ALL the decoded slim BACI rows.

    ``located=True`` adds ``__store`` ('rows' | 'baci') and ``__rid`` (the storage table's ``rowid``) so that
    the ingest can delete exactly the rows it found through the view (the internal view ``flows_located``).
    """
    cols = ", ".join(f'"{c}"' for c in schema.FLOWS)
    if not located:
        return f"SELECT {cols} FROM flow_rows UNION ALL {BACI_DECODED}"
    slim = BACI_DECODED.replace("SELECT b.year", "SELECT 'baci' AS __store, b.rowid AS __rid, b.year", 1)
    return f"SELECT 'rows' AS __store, rowid AS __rid, {cols} FROM flow_rows UNION ALL {slim}"


#: A 6-digit product code (``[0-9]{6}``) of a ``flow_rows`` row: keyed by its number, like a slim BACI row.
_SIX_DIGITS = "coalesce(regexp_full_match(product, '[0-9]{6}'), false)"


def _country_key(col: str) -> tuple[str, str]:
    """(key, text) SQL of a country code: 3 printable ASCII characters packed into an integer
    (c1·65536 + c2·256 + c3), else (−1, the code)."""
    ok = f"coalesce(regexp_full_match({col}, '[ -~]{{3}}'), false)"
    packed = f"ascii({col}[1]) * 65536 + ascii({col}[2]) * 256 + ascii({col}[3])"
    return f"CASE WHEN {ok} THEN {packed} ELSE -1 END", f"CASE WHEN {ok} THEN '' ELSE {col} END"


def keyed_view_sql() -> str:
    """SQL of ``flows_keyed``: the ``flows`` view plus integer keys of the product and the countries (issue 19).

    ``product_key`` (INTEGER) and ``product_text`` (VARCHAR) name the product as ``product`` does, one to one:
    a 6-digit code ``dddddd`` is (its number, ``''``), any other code (``TOTAL``, ``2709``…) is (−1, the code).
    Grouping by the two instead of ``product`` gives the same groups, but the slim BACI rows are grouped by
    their stored number: the view never builds their 6-character text (``lpad`` of every row and a hash of
    short strings were most of a whole-panel aggregation).  ``reporter_key``/``reporter_text`` and
    ``partner_key``/``partner_text`` do the same for country codes (:func:`_country_key`; for slim rows
    computed once per code in ``baci_countries``).  :func:`tradepulse.indicators.selection.decode_product`
    and :func:`decode_country` turn keys back into codes.
    """
    cols = ", ".join(f'"{c}"' for c in schema.FLOWS)
    six = _SIX_DIGITS
    rk, rt = _country_key("reporter")
    pk, pt = _country_key("partner")
    ck, ct = _country_key("iso3")
    slim = BACI_DECODED.replace(
        " FROM baci_rows b", ", b.product AS product_key, '' AS product_text, r.k AS reporter_key, "
        "r.t AS reporter_text, p.k AS partner_key, p.t AS partner_text FROM baci_rows b", 1)
    dim = f"(SELECT load_no, number, iso3, {ck} AS k, {ct} AS t FROM baci_countries)"
    slim = slim.replace("JOIN baci_countries r", f"JOIN {dim} r").replace("JOIN baci_countries p", f"JOIN {dim} p")
    return (f"SELECT {cols}, CASE WHEN {six} THEN CAST(product AS INTEGER) ELSE -1 END AS product_key, "
            f"CASE WHEN {six} THEN '' ELSE product END AS product_text, {rk} AS reporter_key, "
            f"{rt} AS reporter_text, {pk} AS partner_key, {pt} AS partner_text FROM flow_rows UNION ALL {slim}")


def decode_country(key, text):
    """Country codes from their keys (:func:`_country_key`): numpy/pandas arrays in, a list of str out."""
    cache: dict = {}
    out = []
    for k, t in zip(key, text):
        k = int(k)
        if k < 0:
            out.append(t)
        else:
            if k not in cache:
                cache[k] = chr(k >> 16) + chr((k >> 8) & 255) + chr(k & 255)
            out.append(cache[k])
    return out


class Warehouse:
    """A DuckDB warehouse file.  ``Warehouse(path)`` creates the file and tables when missing.

    ``read_only=True`` lets several readers (web server, reports) share one file.  The DuckDB connection is
    opened at once (``raw``); the Ibis backend wrapping it (``con``) is created on first use, with the
    session settings Ibis applies (time zone UTC, no Python replacement scans) set from the start.
    Inside :func:`tradepulse.warehouse.spark.use_engine` (``--engine spark``) a read-only open returns a
    :class:`~tradepulse.warehouse.spark.SparkWarehouse` over a Parquet dataset instead, so every reader
    follows the engine without an argument of its own; writers always get DuckDB.
    """

    def __new__(cls, path: str | Path | None = None, *, read_only: bool = False, **_kw):
        if cls is Warehouse and read_only and _READER is not None:
            return object.__new__(_READER)   # Python then runs _READER.__init__(path, read_only=True)
        return object.__new__(cls)

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False):
        self.path = Path(path) if path is not None else default_warehouse_path()
        self.read_only = read_only
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            from tradepulse.errors import TradepulseError
            raise TradepulseError(f"no warehouse at {self.path}; run `tradepulse demo` or `tradepulse ingest` first")
        self._raw = duckdb.connect(str(self.path), read_only=read_only)
        self._raw.execute("SET TimeZone = 'UTC'")
        self._raw.execute("SET python_enable_replacements = false")
        self._ibis = None
        if not read_only:
            self.ensure_schema()

    # -- raw DuckDB access (DDL, transactions, bulk loads)
    @property
    def raw(self):
        """The underlying ``duckdb.DuckDBPyConnection``."""
        return self._raw

    @property
    def con(self):
        """The Ibis DuckDB backend over :attr:`raw` (created on first use)."""
        if self._ibis is None:
            import ibis
            self._ibis = ibis.duckdb.from_connection(self._raw)
        return self._ibis

    def ensure_schema(self) -> None:
        """Create missing tables and the ``flows`` views.  A warehouse written before the slim BACI storage
        (``flows`` a native table) is migrated in place: the table is renamed ``flow_rows``."""
        con = self.raw
        kind = con.execute("SELECT table_type FROM information_schema.tables WHERE table_schema = 'main' AND "
                           "table_name = 'flows'").fetchall()
        if kind and kind[0][0] == "BASE TABLE":
            con.execute("ALTER TABLE flows RENAME TO flow_rows")
        for name, cols in _PHYSICAL.items():
            con.execute(_ddl(name, cols))
        # the views carry their definition's version as a comment: a warehouse written by an older tradepulse
        # gets the current definition, an up-to-date one is left untouched (no catalogue write on every open)
        have = dict(con.execute("SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'main' AND "
                                "view_name IN ('flows', 'flows_located')").fetchall())
        for name, sql in (("flows", flows_view_sql()), ("flows_located", flows_view_sql(located=True))):
            if have.get(name) != VIEW_VERSION:
                con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
                con.execute(f"COMMENT ON VIEW {name} IS '{VIEW_VERSION}'")

    # -- Ibis tables
    def table(self, name: str) -> ibis.Table:
        return self.con.table(name)

    def flows(self) -> ibis.Table:
        return self.table("flows")

    def keyed_flows(self) -> ibis.Table:
        """``flows`` with the integer product key (:func:`keyed_view_sql`), a temporary view of this connection
        (created on first use, so read-only and older warehouses have it too)."""
        if not getattr(self, "_keyed", False):
            self.raw.execute(f"CREATE OR REPLACE TEMP VIEW flows_keyed AS {keyed_view_sql()}")
            self._keyed = True
        return self.table("flows_keyed")

    def services(self) -> ibis.Table:
        return self.table("services")

    def macro(self) -> ibis.Table:
        return self.table("macro")

    def quarantine(self) -> ibis.Table:
        return self.table("quarantine")

    def loads(self) -> ibis.Table:
        return self.table("loads")

    # -- summary and export
    def info(self) -> dict:
        """What the warehouse holds: row counts per table, how ``flows`` is stored (``flows_storage``: rows in
        ``flow_rows`` and ``baci_rows``), flow years, reporters, loads, quarantine counts, and the dashboard's
        precomputed summaries (``summaries``: stored, fresh for the current data and code, last refresh)."""
        con = self.raw
        out: dict = {"path": str(self.path), "tables": {}}
        for name in TABLES:
            out["tables"][name] = int(con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])
        present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE "
                                             "table_schema = 'main' AND table_type = 'BASE TABLE'").fetchall()}
        # how the flows rows are stored: canonical rows and slim BACI rows (an old warehouse: one flows table)
        out["flows_storage"] = {name: int(con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])
                                for name in ("flow_rows", "baci_rows", "flows") if name in present}
        years = con.execute("SELECT DISTINCT year FROM flows WHERE year IS NOT NULL ORDER BY year").fetchall()
        out["flow_years"] = [int(y[0]) for y in years]
        out["reporters"] = int(con.execute("SELECT count(DISTINCT reporter) FROM flows").fetchone()[0])
        out["sources"] = {r[0]: int(r[1]) for r in con.execute(
            "SELECT source, count(*) FROM flows GROUP BY source ORDER BY source").fetchall()}
        loads = con.execute("SELECT load_id, file, format, target, rows_loaded, rows_quarantined, value_usd_loaded, "
                            "CAST(loaded_at AS VARCHAR) AS loaded_at FROM loads ORDER BY loaded_at").df()
        out["loads"] = loads.to_dict("records")
        q = con.execute("SELECT reason, count(*) AS n FROM quarantine GROUP BY reason ORDER BY n DESC").fetchall()
        out["quarantine"] = {"rows": int(sum(n for _r, n in q)), "by_reason": {r: int(n) for r, n in q}}
        out["datasets"] = self.datasets().to_dict("records")
        if getattr(self, "engine", "duckdb") == "duckdb":   # a Spark dataset holds no dashboard summaries
            from tradepulse.warehouse.summaries import catalogue
            cat = catalogue(con)
            fresh = cat[cat["fresh"]]
            out["summaries"] = {"stored": int(len(cat)), "fresh": int(len(fresh)),
                                "refreshed_at": str(fresh["created_at"].max())[:19] if len(fresh) else None}
        return out

    def coverage(self) -> "pd.DataFrame":
        """Coverage of every load of goods flows (see :mod:`tradepulse.warehouse.datasets`)."""
        from tradepulse.warehouse.datasets import stored_coverage
        return stored_coverage(self)

    def datasets(self) -> "pd.DataFrame":
        """One row per dataset: source, revision, product level, partner detail, frequency, coverage span."""
        from tradepulse.warehouse.datasets import dataset_summary
        cov = self.coverage()
        return dataset_summary(cov)

    def export(self, out: str | Path, *, table: str = "flows", fmt: str | None = None,
               where: dict | None = None) -> int:
        """Write ``table`` (optionally filtered) to CSV, Parquet or Excel; return the number of rows written.

        ``where`` = {column: value or list of values}; columns are checked against the table and values are
        bound as Ibis literals — no SQL is built from user text.  ``fmt`` defaults to the file extension.
        """
        from tradepulse.errors import NoDataError, TradepulseError, UnknownNameError

        if table not in TABLES:
            raise UnknownNameError("table", table, list(TABLES))
        out = Path(out)
        fmt = (fmt or out.suffix.lstrip(".") or "csv").lower()
        if fmt not in ("csv", "parquet", "xlsx"):
            raise TradepulseError(f"unknown export format {fmt!r}: use csv, parquet or xlsx")
        t = self.table(table)
        for col, val in (where or {}).items():
            if col not in TABLES[table]:
                raise UnknownNameError("column", col, list(TABLES[table]))
            vals = val if isinstance(val, (list, tuple, set)) else [val]
            typed = [_coerce(TABLES[table][col], v) for v in vals]
            t = t.filter(t[col].isin(typed))
        n = int(t.count().execute())
        if n == 0:
            raise NoDataError(f"no rows in {table} match {where}")
        if fmt == "xlsx" and n > 1_048_575:
            raise TradepulseError(f"{n:,} rows do not fit in one Excel sheet; filter with --where or use parquet")
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet":
            self.con.to_parquet(t, out)
        elif fmt == "csv":
            self.con.to_csv(t, out)
        else:
            t.execute().to_excel(out, index=False)
        return n

    def close(self) -> None:
        if self._ibis is not None:
            self._ibis.disconnect()
        else:
            self._raw.close()

    def __enter__(self) -> "Warehouse":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _coerce(sql_type: str, value):
    """Turn a user value (text from the command line) into the column's Python type."""
    from tradepulse.errors import TradepulseError
    if sql_type in ("SMALLINT", "TINYINT", "BIGINT", "INTEGER"):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise TradepulseError(f"expected an integer, got {value!r}") from None
    if sql_type == "DOUBLE":
        try:
            return float(value)
        except (TypeError, ValueError):
            raise TradepulseError(f"expected a number, got {value!r}") from None
    return str(value)


def as_table(data: "pd.DataFrame | ibis.Table | Warehouse", name: str = "flows") -> ibis.Table:
    """Accept a pandas frame, an Ibis table or a warehouse (→ its ``name`` table) and return an Ibis table."""
    import ibis
    import pandas as pd

    if isinstance(data, Warehouse):
        return data.table(name)
    if isinstance(data, ibis.Table):
        return data
    if isinstance(data, pd.DataFrame):
        return ibis.memtable(data)
    raise TypeError(f"expected a pandas DataFrame, an Ibis table or a Warehouse, not {type(data).__name__}")
