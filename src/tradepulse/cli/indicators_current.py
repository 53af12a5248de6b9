"""CLI: ``tradepulse indicators current`` — latest month, year to date and 12-month rolling total."""

from __future__ import annotations

from pathlib import Path

import typer

from tradepulse.cli.common import (
    DatasetOption,
    JsonOption,
    WarehouseOption,
    console,
    engine_options,
    friendly_errors,
    print_meta,
)


def register(indicators_app: typer.Typer) -> None:
    """Add the ``current`` command to the ``indicators`` command group."""

    @indicators_app.command("current")
    @friendly_errors
    @engine_options
    def current_cmd(
        reporter: str = typer.Option("IRN", "--reporter", "-r", help="Reporter ISO3."),
        flow: str = typer.Option("export", "--flow", help="export or import."),
        province: str | None = typer.Option(None, "--province", help="Province (customs data)."),
        partner: str | None = typer.Option(None, "--partner", help="Partner group or ISO3 code(s)."),
        calendar: str = typer.Option("solar-hijri", "--calendar",
                                     help="Year to date: solar-hijri (Farvardin on) or gregorian (January on)."),
        warehouse: Path | None = WarehouseOption, dataset: str | None = DatasetOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Latest month vs a year earlier, year to date vs the same months a year earlier, 12-month rolling
        total — from the one monthly dataset (annual-only data are refused with a message)."""
        import json

        from rich.table import Table

        from tradepulse.indicators.current import current_period
        from tradepulse.warehouse import Warehouse

        with Warehouse(warehouse, read_only=True) as wh:
            cp = current_period(wh, reporter, flow=flow, province=province, partner=partner, calendar=calendar,
                                dataset=dataset)
        if as_json:
            d = cp.to_dict()
            typer.echo(json.dumps({"meta": d.pop("meta"), "rows": [d]}, ensure_ascii=False, indent=1,
                                  default=str))
            return

        def m(v):
            return "–" if v is None else f"{v / 1e6:,.1f}"

        def g(v):
            return "–" if v is None else f"{v * 100:+.1f}%"

        y, mo = cp.end
        sy, sm = cp.sh_end
        first = cp.ytd_start
        view = Table(title=f"{cp.reporter} {flow}s, current period — million USD", title_justify="left")
        for col in ("figure", "period", "value", "a year earlier", "growth"):
            view.add_column(col, justify="right" if col in ("value", "a year earlier", "growth") else "left")
        view.add_row("latest month", f"{y}-{mo:02d} (SH {sy}-{sm:02d})", m(cp.latest), m(cp.latest_prev),
                     g(cp.latest_growth))
        view.add_row("year to date", f"{first[0]}-{first[1]:02d} to {y}-{mo:02d}", m(cp.ytd), m(cp.ytd_prev),
                     g(cp.ytd_growth))
        view.add_row("12 months", f"{cp.rolling_months} of 12 months", m(cp.rolling12), m(cp.rolling12_prev),
                     g(cp.rolling_growth))
        console.print(view)
        console.print(f"[dim]year to date: {cp.calendar} calendar; data end {y}-{mo:02d}[/]")
        print_meta(cp)
