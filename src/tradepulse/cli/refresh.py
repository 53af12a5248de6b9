"""CLI command ``tradepulse refresh``: precompute the dashboard's heavy tables into summaries in the warehouse."""

from __future__ import annotations

from pathlib import Path

import typer

from tradepulse.cli.common import WarehouseOption, console, friendly_errors
from tradepulse.config import DEFAULT_FOCUS


def run_refresh(warehouse: Path | None, focus: str, *, quiet: bool = False):
    """Run :func:`tradepulse.web.refresh.refresh` with a Rich progress bar (none when ``quiet``); return its
    result.  Shared by ``refresh``, ``ingest --refresh`` and ``demo``."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from tradepulse.config import default_warehouse_path
    from tradepulse.web.refresh import refresh

    path = Path(warehouse) if warehouse is not None else default_warehouse_path()
    with Progress(TextColumn("[bold]{task.description:<34}"), BarColumn(bar_width=20),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(), console=console,
                  transient=True, disable=quiet) as bar:
        task = bar.add_task("refresh", total=1)

        def progress(label: str, done: int, total: int) -> None:
            bar.update(task, description=label[:34], completed=done, total=total)

        return refresh(path, focus, progress=progress)


def print_result(res) -> None:
    """One line per step and a summary line (fits 80 columns)."""
    from rich.table import Table

    t = Table(title=f"Dashboard summaries for {res.focus}", title_justify="left")
    t.add_column("step")
    t.add_column("s", justify="right")
    t.add_column("result", overflow="ellipsis", no_wrap=True, max_width=30)
    for s in res.steps:
        t.add_row(s["step"], f"{s['seconds']:.1f}", s["status"])
    console.print(t)
    if not res.written:
        console.print(f"[green]up to date:[/] the {res.summaries} summaries of data version {res.data_version} "
                      f"were all fresh; nothing computed or written ({res.seconds:.1f} s)", highlight=False,
                      soft_wrap=True)
    else:
        kept = f"; {len(res.reused)} kinds kept as they were" if res.reused else ""
        console.print(f"[green]stored[/] {res.summaries} summaries ({res.rows:,} new rows) for data version "
                      f"{res.data_version} in {res.seconds:.1f} s (computed: {', '.join(res.computed) or 'none'}"
                      f"{kept})", highlight=False, soft_wrap=True)
    for s in res.skipped:
        console.print(f"[yellow]not stored:[/] {s['key'][:60]}: {s['reason']}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the ``refresh`` command to app."""

    @app.command()
    @friendly_errors
    def refresh(
        focus: str | None = typer.Option(None, "--focus", help="ISO3 code of the focus country, as given to "
                                         "`tradepulse serve --focus` (default: $TRADEPULSE_FOCUS or IRN)."),
        as_json: bool = typer.Option(False, "--json", help="Print a machine-readable summary."),
        warehouse: Path | None = WarehouseOption,
    ) -> None:
        """Precompute the dashboard's heavy tables (first visit of every page) into summary tables stored in
        the warehouse; the dashboard serves them until the next ingest changes the data."""
        import json

        from tradepulse import reference
        from tradepulse.errors import TradepulseError

        iso3 = (focus or DEFAULT_FOCUS).strip().upper()
        if len(iso3) != 3 or not iso3.isalpha() or reference.country_name(iso3, "en") in ("", iso3):
            raise TradepulseError(f"unknown focus country {focus!r}: give an ISO3 code such as IRN")
        res = run_refresh(warehouse, iso3, quiet=as_json)
        if as_json:
            typer.echo(json.dumps(res.to_dict(), indent=2, ensure_ascii=False))
        else:
            print_result(res)
