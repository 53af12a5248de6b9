"""Helpers shared by CLI modules: consoles, warehouse option, error handling, table output."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Optional

import typer

from tradepulse.cli._console import console, err_console, friendly_errors, spark_failure
from tradepulse.errors import TradepulseError

#: the consoles and error handling live in the Typer-free :mod:`tradepulse.cli._console`; re-exported here
REEXPORTED = (console, err_console, friendly_errors, spark_failure)

WarehouseOption = typer.Option(None, "--warehouse", "-w", help="DuckDB warehouse file, or with --engine spark a "
                               "Parquet dataset directory or URL (default: $TRADEPULSE_WAREHOUSE or "
                               "warehouse.duckdb in ~/.tradepulse).")
#: Panel of the engine options in a command's help (its own table: its long env-var names do not narrow the
#: help column of the command's other options at 80 columns).
ENGINE_PANEL = "Engine"
EngineOption = typer.Option(None, "--engine", envvar="TRADEPULSE_ENGINE", show_default=False,
                            rich_help_panel=ENGINE_PANEL,
                            help="duckdb (default) or spark: read a Parquet dataset written by `tradepulse export "
                            "--to parquet-dataset` on Spark.")
MasterOption = typer.Option(None, "--master", envvar="TRADEPULSE_SPARK_MASTER", show_default=False,
                            rich_help_panel=ENGINE_PANEL,
                            help="Spark master URL for --engine spark: local[2] (default), spark://host:7077, "
                            "yarn, k8s://….")


def engine_options(func):
    """Add ``--engine`` and ``--master`` to a reading command: while it runs, ``Warehouse(path, read_only=True)``
    opens ``path`` with that engine (:func:`tradepulse.warehouse.spark.use_engine`).  Place it under
    :func:`friendly_errors`, so a bad engine or dataset exits with one line."""
    import inspect

    sig = inspect.signature(func)
    extra = [inspect.Parameter("engine", inspect.Parameter.KEYWORD_ONLY, default=EngineOption,
                               annotation=Optional[str]),
             inspect.Parameter("master", inspect.Parameter.KEYWORD_ONLY, default=MasterOption,
                               annotation=Optional[str])]

    @functools.wraps(func)
    def wrapper(*args, engine: Optional[str] = None, master: Optional[str] = None, **kwargs):
        if engine in (None, "", "duckdb"):
            return func(*args, **kwargs)
        from tradepulse.warehouse.spark import use_engine
        with use_engine(engine, master=master):
            return func(*args, **kwargs)

    wrapper.__signature__ = sig.replace(parameters=[*sig.parameters.values(), *extra])
    wrapper.__annotations__ = {**getattr(func, "__annotations__", {}), "engine": Optional[str],
                               "master": Optional[str]}
    return wrapper


def write_table(df, out: Optional[Path]) -> None:
    """Write a DataFrame to CSV, Parquet or Excel by the file extension."""
    if out is None:
        return
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        # pandas stores attrs as JSON in the Parquet metadata: the ResultMeta goes in as its dict form
        from tradepulse.meta import ResultMeta

        df = df.copy(deep=False)
        df.attrs = {k: v.to_dict() if isinstance(v, ResultMeta) else v for k, v in df.attrs.items()}
        df.to_parquet(out, index=False)
    elif suffix in (".xlsx", ".xls"):
        df.to_excel(out, index=False)
    elif suffix in (".csv", ""):
        df.to_csv(out, index=False)
    else:
        raise TradepulseError(f"cannot write {out}: use .csv, .parquet or .xlsx")


class TableWriter:
    """Write a table piece by piece (e.g. one year at a time), so only one piece is in memory.

    ``.parquet``: one row group per piece (``pyarrow.parquet.ParquetWriter``); the schema is the first piece's,
    with categorical labels as ``dictionary<int32, string>`` (each piece has its own categories; pandas reads
    the column back as one categorical); the meta goes in as pandas ``attrs`` at :meth:`close`, as
    :func:`write_table` stores it.  ``.csv``: appended, header once — the same text as :func:`write_table` of
    the concatenated pieces.  ``.xlsx``: the pieces are gathered and written at :meth:`close` (no streaming
    Excel writer here).  Written to ``OUT.part`` and renamed at :meth:`close`: a failed run leaves no file.

    ``background=True``: each piece is converted and written in a worker thread while the caller computes the
    next one (Arrow's encoder releases the GIL); one piece at most is in flight, and a write error is raised by
    the next :meth:`write` or by :meth:`close`.  ``dictionary``: the Parquet columns given dictionary pages
    (default: all); the values read back are the same either way.
    """

    def __init__(self, out: Path, *, background: bool = False, dictionary: list[str] | None = None) -> None:
        self.out = out
        self.suffix = out.suffix.lower()
        if self.suffix not in (".parquet", ".xlsx", ".xls", ".csv", ""):
            raise TradepulseError(f"cannot write {out}: use .csv, .parquet or .xlsx")
        self.tmp = out.with_name(out.name + ".part")
        self.rows = 0
        self.dictionary = dictionary
        self._writer = None
        self._schema = None
        self._pieces: list = []
        self._pool = None
        self._pending = None
        if background and self.suffix in (".parquet", ".csv", ""):
            from concurrent.futures import ThreadPoolExecutor
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tradepulse-write")

    def write(self, df) -> None:
        """Append the rows of ``df`` (same columns as the first piece)."""
        self.out.parent.mkdir(parents=True, exist_ok=True)
        first = self.rows == 0
        if self._pool is None:
            self._write(df, first)
        else:
            self._wait()
            self._pending = self._pool.submit(self._write, df, first)
        self.rows += len(df)

    def _wait(self) -> None:
        """Wait for the piece in flight (re-raising its error)."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def _stop(self) -> None:
        if self._pool is not None:
            try:
                self._wait()
            finally:
                self._pool.shutdown(wait=True)
                self._pool = None

    def _write(self, df, first: bool) -> None:
        if self.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(df, preserve_index=False)
            if self._writer is None:
                fields = [pa.field(f.name, pa.dictionary(pa.int32(), f.type.value_type))
                          if pa.types.is_dictionary(f.type) else f for f in table.schema]
                self._schema = pa.schema(fields, metadata=table.schema.metadata)
                dictionary = True if self.dictionary is None else \
                    [c for c in self.dictionary if c in self._schema.names]
                self._writer = pq.ParquetWriter(self.tmp, self._schema, use_dictionary=dictionary)
            self._writer.write_table(table.cast(self._schema))
        elif self.suffix in (".csv", ""):
            df.to_csv(self.tmp, index=False, header=first, mode="w" if first else "a")
        else:
            self._pieces.append(df)

    def close(self, meta=None) -> None:
        """Finish the file (``meta``: the :class:`~tradepulse.meta.ResultMeta` to store) and move it in place."""
        import json
        import os

        self._stop()
        if self.suffix == ".parquet":
            if self._writer is None:
                raise TradepulseError(f"nothing to write to {self.out}")
            if meta is not None:
                # pandas reads attrs from the Arrow schema stored in the file (key ARROW:schema, written when
                # the writer opened): store it again with PANDAS_ATTRS in its metadata (the key is replaced)
                import base64

                attrs = json.dumps({"meta": meta.to_dict()})
                schema = self._schema.with_metadata({**(self._schema.metadata or {}), b"PANDAS_ATTRS": attrs})
                self._writer.add_key_value_metadata({
                    "PANDAS_ATTRS": attrs,
                    "ARROW:schema": base64.b64encode(schema.serialize().to_pybytes()).decode()})
            self._writer.close()
        elif self.suffix in (".xlsx", ".xls"):
            import pandas as pd

            pd.concat(self._pieces, ignore_index=True).to_excel(self.tmp, index=False)
            self._pieces = []
        os.replace(self.tmp, self.out)

    def abort(self) -> None:
        """Drop the partial file."""
        try:
            self._stop()
        except Exception:   # noqa: BLE001 - the error being handled is the one to report
            pass
        if self._writer is not None:
            self._writer.close()
        self.tmp.unlink(missing_ok=True)


def cell_format(money, percent, *, money_decimals: int = 1, float_decimals: int = 3):
    """A ``fmt(column, value)`` for :func:`print_table`: missing (None / NaN) → ``–``; ``money`` columns in
    million USD (``money`` is a list of columns, or a mapping column → decimals); ``percent`` columns as
    percentages with one decimal; other floats with ``float_decimals`` decimals."""
    import math

    decimals = dict(money) if isinstance(money, dict) else dict.fromkeys(money, money_decimals)
    percent = frozenset(percent)

    def fmt(col: str, v) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "–"
        if col in decimals:
            return f"{v / 1e6:,.{decimals[col]}f}"
        if col in percent:
            return f"{v:.1%}"
        if isinstance(v, float):
            return f"{v:,.{float_decimals}f}"
        return str(v)
    return fmt


def print_table(df, title: str, columns: list[str], fmt, *, max_rows: int = 40, caption: str | None = None,
                labels: dict[str, str] | None = None, column_style=None) -> None:
    """Print the first ``max_rows`` rows of ``df[columns]`` (the columns present) as a Rich table.

    ``fmt(column, value) -> str`` formats each cell; ``labels`` renames headers (default: ``_`` → space);
    ``column_style(column) -> dict`` adds Rich column options.  Says how many rows were left out.
    """
    from rich.table import Table

    view = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    cols = [c for c in columns if c in df.columns]
    for c in cols:
        view.add_column((labels or {}).get(c, c.replace("_", " ")),
                        justify="left" if df[c].dtype == object else "right",
                        **(column_style(c) if column_style else {}))
    for row in df[cols].head(max_rows).itertuples(index=False):
        view.add_row(*[fmt(c, v) for c, v in zip(cols, row)])
    console.print(view)
    if len(df) > max_rows:
        console.print(f"[dim]… {len(df) - max_rows} more rows; use --out FILE for the full table[/]")
    print_meta(df)


def print_meta(result) -> None:
    """Print what a result stands on: its dataset (dim) and every warning (yellow), one per line."""
    from rich.markup import escape

    from tradepulse.meta import meta_of

    meta = meta_of(result)
    if meta.dataset:
        cov = meta.coverage
        years = cov.get("years") or []
        span = f", {years[0]}–{years[-1]}" if len(years) > 1 else (f", {years[0]}" if years else "")
        level = f", {cov['product_level']}" if cov.get("product_level") else ""
        console.print(f"[dim]dataset: {escape(meta.dataset)}{escape(level)}{escape(span)}[/]", soft_wrap=False)
    for w in meta.warnings:
        console.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)


def json_result(df) -> str:
    """``{"meta": {...}, "rows": [...]}`` for ``--json``: the rows and what they stand on."""
    import json

    from tradepulse.meta import meta_of

    rows = json.loads(df.to_json(orient="records", force_ascii=False, date_format="iso"))
    return json.dumps({"meta": meta_of(df).to_dict(), "rows": rows}, ensure_ascii=False, indent=1, default=str)


DatasetOption = typer.Option(None, "--dataset", help="Read this dataset (see `tradepulse info`); default: the "
                             "most detailed dataset covering the request.")
JsonOption = typer.Option(False, "--json", help="Print JSON ({meta, rows}) instead of a table.")


def print_warnings(result) -> None:
    """For output that is not a :func:`print_table` table: the result's dataset and warnings
    (see :func:`print_meta`)."""
    print_meta(result)
