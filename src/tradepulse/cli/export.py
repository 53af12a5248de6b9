"""CLI command ``tradepulse export``: one table to a CSV / Parquet / Excel file, or the whole warehouse to a
partitioned Parquet dataset (``--to parquet-dataset DIR``) that ``--engine spark --warehouse DIR`` reads."""

from __future__ import annotations

from pathlib import Path
import typer

from tradepulse.cli.common import WarehouseOption, console, friendly_errors

TARGETS = ("file", "parquet-dataset")


def register(app: typer.Typer) -> None:
    """Add this module's commands to app."""

    @app.command()
    @friendly_errors
    def export(
        out: Path | None = typer.Argument(None, help="Output file (default: TABLE.FORMAT here), or the "
                                             "directory for --to parquet-dataset."),
        to: str = typer.Option("file", "--to", help="file (one table) or parquet-dataset (every table: flows "
                               "hive-partitioned by year and reporter, small tables one file each, "
                               "manifest.json)."),
        fmt: str | None = typer.Option(None, "--format", "-f", help="csv | parquet | xlsx (default: extension)."),
        table: str = typer.Option("flows", "--table", "-t", help="flows | firm_flows | services | macro | "
                                  "quarantine | loads"),
        where: list[str] = typer.Option([], "--where", help="Filter COLUMN=VALUE (repeatable; VALUE may be "
                                        "a comma list, e.g. reporter=IRN,TUR)."),
        overwrite: bool = typer.Option(False, "--overwrite", help="parquet-dataset: replace an earlier export "
                                       "in DIR."),
        warehouse: Path | None = WarehouseOption,
    ) -> None:
        """Export a warehouse table (optionally filtered) to CSV, Parquet or Excel, or the whole warehouse to a
        partitioned Parquet dataset for `--engine spark`."""
        from tradepulse.errors import TradepulseError, UnknownNameError
        from tradepulse.warehouse import Warehouse

        if to not in TARGETS:
            raise UnknownNameError("export target", to, list(TARGETS))
        if to == "parquet-dataset":
            if out is None:
                raise TradepulseError("--to parquet-dataset needs the output directory: tradepulse export "
                                      "--to parquet-dataset DIR")
            if where or fmt:
                raise TradepulseError("--to parquet-dataset writes every table whole; --where and --format "
                                      "apply to --to file")
            from tradepulse.warehouse.parquet import export_dataset

            with Warehouse(warehouse, read_only=True) as wh, console.status(f"exporting the warehouse to {out}"):
                manifest = export_dataset(wh, out, overwrite=overwrite)
            tables = manifest["tables"]
            flows = tables["flows"]
            console.print(f"[green]wrote[/] {len(tables)} tables to {out}: flows {flows['rows']:,} rows"
                          + (f" partitioned by {', '.join(flows['partition_by'])}" if flows["partition_by"] else "")
                          + f"; read it with --engine spark --warehouse {out}", highlight=False, soft_wrap=True)
            return
        if out is None:
            out = Path(f"{table}.{(fmt or 'csv').lower()}")
        filters: dict = {}
        for w in where:
            if "=" not in w:
                raise TradepulseError(f"--where {w!r} must look like COLUMN=VALUE")
            col, val = w.split("=", 1)
            filters[col.strip()] = [v.strip() for v in val.split(",")]
        with Warehouse(warehouse, read_only=True) as wh, console.status(f"exporting {table}"):
            n = wh.export(out, table=table, fmt=fmt, where=filters)
        console.print(f"[green]wrote[/] {n:,} rows of {table} to {out}", highlight=False)
