"""CLI: ``tradepulse potential`` — ITC export potential, market recommendations, complementarity/intensity.

    tradepulse potential --exporter IRN --product-group handicrafts      # markets ranked for a product group
    tradepulse potential --exporter IRN --market SYR                     # products ranked for a market
    tradepulse potential --exporter IRN --province Tehran -o tehran.xlsx # a province as the exporter
    tradepulse potential --exporter IRN --partners                       # complementarity + trade intensity

Reads bilateral flows and macro (GDP, population) from the warehouse (read-only), prints a Rich table and
writes the ranking (or, with ``--cells``, every product × market row) to ``--out`` (.csv/.parquet/.xlsx).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from tradepulse.cli.common import (WarehouseOption, cell_format, console, engine_options, friendly_errors,
                                   print_table, write_table)
from tradepulse.config import DEFAULT_FOCUS

MONEY = ("potential", "current_value", "realised", "unrealised", "market_imports", "demand", "exports",
         "partner_imports", "actual")
PERCENT = ("market_growth", "demand_growth", "exporter_share", "export_share", "world_share", "supply",
           "potential_share")


LABELS = {"current_value": "current", "market_imports": "imports", "market_growth": "import growth/y",
          "demand_growth": "demand growth/y", "exporter_share": "share", "product_name": "name",
          "market_name": "name", "partner_imports": "partner imports", "export_share": "export share",
          "world_share": "world share", "complementarity": "TC", "intensity": "TI"}


_fmt = cell_format(MONEY, PERCENT, money_decimals=2, float_decimals=2)


def _name_columns_short(c: str) -> dict:
    return {"overflow": "ellipsis", "no_wrap": c.endswith("_name"), "max_width": 28 if c.endswith("_name") else None}


def _show(df, title: str, columns: list[str], max_rows: int) -> None:
    print_table(df, title, columns, _fmt, max_rows=max_rows, caption="values in million USD", labels=LABELS,
                column_style=_name_columns_short)


def _read_tariffs(path: Path):
    """Read a tariff table; product codes as strings, rates as fractions."""
    import pandas as pd

    from tradepulse.errors import InputError

    if not path.exists():
        raise InputError("file not found", file=str(path))
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            df = pd.read_parquet(path)
        elif suffix in (".xlsx", ".xls"):
            df = pd.read_excel(path, dtype={"product": str, "market": str, "exporter": str})
        else:
            df = pd.read_csv(path, dtype={"product": str, "market": str, "exporter": str})
    except Exception as exc:  # noqa: BLE001 — any parser failure is a bad input file
        raise InputError(f"cannot read tariff table: {exc}", file=str(path)) from exc
    for col in ("market", "product", "rate"):
        if col not in df.columns:
            raise InputError(f"missing column {col!r} (need market, product, rate)", file=str(path), line=1,
                             column=col)
    bad = pd.to_numeric(df["rate"], errors="coerce").isna()
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise InputError(f"rate {df['rate'].iat[i]!r} is not a number", file=str(path), line=i + 2, column="rate")
    df["rate"] = pd.to_numeric(df["rate"])
    return df


def register(app: typer.Typer) -> None:
    """Add the ``potential`` command to ``app``."""

    @app.command("potential")
    @friendly_errors
    @engine_options
    def potential(
        exporter: str = typer.Option(DEFAULT_FOCUS, "--exporter", "-e", help="Exporter ISO3 code."),
        province: Optional[str] = typer.Option(None, "--province", help="A province of the exporter "
                                               "(customs rows) as the exporter."),
        product_group: Optional[str] = typer.Option(None, "--product-group", "-p",
                                                    help="Rank markets for a product group or HS prefixes, "
                                                    "e.g. handicrafts or 5701,5702."),
        market: Optional[str] = typer.Option(None, "--market", "-m", help="Rank products for one market (ISO3)."),
        by: str = typer.Option("market", "--by", help="Without --market: rank markets (default) or products "
                               "(summed over all markets)."),
        partners: bool = typer.Option(False, "--partners", help="Show trade complementarity and trade "
                                      "intensity with every partner instead."),
        year: Optional[int] = typer.Option(None, "--year", "-y", help="Base year (default: latest bilateral)."),
        horizon: int = typer.Option(5, "--horizon", help="Projection horizon in years (0 = no projection)."),
        window: int = typer.Option(5, "--growth-window", help="Years of GDP/population trend to project."),
        average: int = typer.Option(1, "--average-years", help="Average flows over the last N bilateral years."),
        level: Optional[int] = typer.Option(None, "--level", help="Cut HS codes to 2, 4 or 6 digits."),
        missing_macro: str = typer.Option("error", "--missing-macro",
                                          help="Markets without GDP/population: error, drop or flat."),
        tariffs: Optional[Path] = typer.Option(None, "--tariffs", help="Tariff table (.csv/.parquet/.xlsx): "
                                               "market, product, rate [, exporter | competitor_rate]; "
                                               "without it access is relative distance (itc) or a "
                                               "gravity proxy (basic)."),
        method: str = typer.Option("itc", "--method", help="itc: every ITC term (tariff × distance, "
                                   "published projections, supply adjustments, cap, ease for new markets); "
                                   "basic: the plain four-term product."),
        projections: str | None = typer.Option(None, "--projections", help="trend or atlas (published "
                                                  "Atlas growth projections); default by --method."),
        cap: str | None = typer.Option(None, "--cap", help="none or demand (potential ≤ projected "
                                          "demand); default by --method."),
        mirror: str | None = typer.Option(None, "--mirror", help="exporter, importer or mean: which "
                                             "declaration of a flow to use; default by --method."),
        cells: bool = typer.Option(False, "--cells", help="Write every product × market row to --out."),
        top: int = typer.Option(25, "--top", help="Rows to print."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the table (.csv, .parquet, .xlsx)."),
        warehouse: Optional[Path] = WarehouseOption,
    ) -> None:
        """Export potential (ITC method): markets for a product group, or products for a market."""
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from tradepulse.errors import TradepulseError
        from tradepulse.indicators import market_choice as mc
        from tradepulse.indicators.potential import STEPS, export_potential
        from tradepulse.indicators.selection import resolve_products
        from tradepulse.warehouse import Warehouse

        if product_group and market:
            raise TradepulseError("give --product-group (markets ranked) or --market (products ranked), not both")
        if by not in ("market", "product"):
            raise TradepulseError(f"--by must be market or product, not {by!r}")
        if product_group:
            resolve_products(product_group)  # unknown group: fail before reading anything
        tariff_table = _read_tariffs(tariffs) if tariffs is not None else None
        who = f"{exporter.upper()}{' / ' + province if province else ''}"
        with Warehouse(warehouse, read_only=True) as wh:
            if partners:
                table = mc.partner_indices(wh, exporter, province=province, year=year, level=level)
                _show(table, f"{who}: trade complementarity (Michaely) and trade intensity, {table['year'].iat[0]}",
                      ["partner", "exports", "export_share", "partner_imports", "world_share", "intensity",
                       "complementarity"], top)
                write_table(table, out)
                return
            with Progress(TextColumn("[bold]potential[/] {task.description}"), BarColumn(), TimeElapsedColumn(),
                          console=console, transient=True) as bar:
                task = bar.add_task("starting", total=len(STEPS))

                def step(name: str) -> None:
                    bar.update(task, description=name, completed=STEPS.index(name))

                result = export_potential(wh, exporter, province=province, year=year, horizon=horizon,
                                          growth_window=window, level=level, missing_macro=missing_macro,
                                          tariffs=tariff_table, average_years=average, progress=step,
                                          method=method, projections=projections, cap=cap, mirror=mirror)
                bar.update(task, completed=len(STEPS))
        basis = result.attrs.get("access_basis")
        meta = f"{result.attrs['year']}, horizon {horizon} y, {method} method, access: {basis}"
        if market or by == "product":
            table = mc.recommend_products(result, market, products=product_group)
            where = f" → {market.upper()}" if market else ", all markets"
            what = f" ({product_group})" if product_group else ""
            _show(table, f"{who}{where}{what}: products ranked by unrealised potential ({meta})",
                  ["product", "product_name", "unrealised", "potential", "current_value", "market_imports",
                   "market_growth", "demand_growth", "exporter_share"], top)
        else:
            table = mc.recommend_markets(result, product_group)
            what = product_group or "all products"
            _show(table, f"{who}, {what}: markets ranked by unrealised potential ({meta})",
                  ["market", "market_name", "unrealised", "potential", "current_value", "market_imports",
                   "market_growth", "demand_growth", "exporter_share"], top)
        for key in ("markets_without_macro", "markets_without_gravity"):
            if result.attrs.get(key):
                console.print(f"[yellow]note:[/] {key.replace('_', ' ')}: {', '.join(result.attrs[key][:15])}")
        from tradepulse.meta import meta_of

        if meta_of(table).warnings != meta_of(result).warnings:   # print_table showed the table's own meta
            for w in meta_of(result).warnings:
                console.print(f"[yellow]warning:[/] {w}")
        write_table(result if cells else table, out)
        if out is not None:
            console.print(f"wrote {out}")
