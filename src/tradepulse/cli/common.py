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

WarehouseOption = typer.Option(None, "--warehouse", "-w", help="DuckDB warehouse file "
                               "(default: $TRADEPULSE_WAREHOUSE or ~/.tradepulse/warehouse.duckdb).")


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
        df.to_parquet(out, index=False)
    elif suffix in (".xlsx", ".xls"):
        df.to_excel(out, index=False)
    elif suffix in (".csv", ""):
        df.to_csv(out, index=False)
    else:
        raise TradepulseError(f"cannot write {out}: use .csv, .parquet or .xlsx")
