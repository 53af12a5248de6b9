"""Helpers shared by CLI modules: consoles, warehouse option, error handling, table output."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from tradepulse.errors import TradepulseError

console = Console()
err_console = Console(stderr=True)

WarehouseOption = typer.Option(None, "--warehouse", "-w", help="DuckDB warehouse file, or with --engine spark a "
                               "Parquet dataset directory or URL (default: $TRADEPULSE_WAREHOUSE or "
                               "~/.tradepulse/warehouse.duckdb).")
EngineOption = typer.Option(None, "--engine", envvar="TRADEPULSE_ENGINE", show_default=False,
                            help="duckdb (default) or spark: read a Parquet dataset written by `tradepulse export "
                            "--to parquet-dataset` on Spark.")
MasterOption = typer.Option(None, "--master", envvar="TRADEPULSE_SPARK_MASTER", show_default=False,
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


def friendly_errors(func):
    """Turn TradepulseError into a one-line red message and exit code 2 (no traceback)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except TradepulseError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            sys.exit(2)
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
