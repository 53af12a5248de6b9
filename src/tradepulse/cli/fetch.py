"""CLI: ``tradepulse fetch baci|comtrade|macro`` — download real data into the cache and load it.

Mirrors: ``--base-url`` or the environment variables ``TRADEPULSE_BACI_URL``, ``TRADEPULSE_COMTRADE_URL``,
``TRADEPULSE_WORLDBANK_URL``.  The cache is ``--cache-dir`` or ``$TRADEPULSE_HOME/cache``.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from tradepulse.cli.common import WarehouseOption, console, err_console, friendly_errors

fetch_app = typer.Typer(help="Download real data (BACI, UN Comtrade, GDP and population) and load it.",
                        no_args_is_help=True)

CacheOption = typer.Option(None, "--cache-dir", help="Download cache (default: $TRADEPULSE_HOME/cache).")
JsonOption = typer.Option(False, "--json", help="Print a machine-readable summary (source, files, sha256, "
                                                "requests, loads, meta).")
RefreshOption = typer.Option(False, "--refresh", help="Ask the API again instead of using cached answers "
                             "(sources revise their figures).")
OverlapOption = typer.Option("quarantine", "--on-overlap", metavar="quarantine|replace",
                             help="Rows another load already holds: quarantine them (default) or replace the "
                                  "earlier rows (a newer release or source supersedes).")


def _years(text: str | None):
    from tradepulse.cli.ingest import _parse_years
    return _parse_years(text)


def _report(result, as_json: bool) -> None:
    """The loads of a fetch in words (or JSON), then the warnings to read before trusting the data."""
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, default=str))
        return
    from tradepulse.cli.ingest import _print_result

    got = ("no request (cached or shipped copy)" if result.requests == 0
           else f"with {result.requests} request(s)")
    console.print(f"[bold]{result.kind}[/] {result.source} {got}", highlight=False, soft_wrap=True)
    for name, digest in result.sha256.items():
        console.print(f"  {name}\n  sha256 {digest}", highlight=False)
    for r in result.loads:
        _print_result(Path(r.file).name if r.file else result.kind, r, "quarantine")
    for w in result.meta.warnings:
        console.print(f"[yellow]{w}[/]", highlight=False)


def _download_bar(quiet: bool):
    """Bytes, rate and time left of a download, on stderr; off for --json or without a terminal."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                    TimeRemainingColumn(), console=err_console, transient=True,
                    disable=quiet or not err_console.is_terminal)


@fetch_app.command("baci")
@friendly_errors
def baci_cmd(
    release: str = typer.Option(..., "--release", help="BACI release, e.g. V202501."),
    hs: str = typer.Option(..., "--hs", help="Nomenclature: HS92, HS96, HS02, HS07, HS12, HS17 or HS22."),
    years: str | None = typer.Option(None, "--years", help="Load only these years, e.g. 2019-2023 "
                                        "(default: every year in the zip)."),
    base_url: str | None = typer.Option(None, "--base-url", envvar="TRADEPULSE_BACI_URL",
                                           help="Mirror holding BACI_{HS}_V{release}.zip (default: CEPII)."),
    cache: Path | None = CacheOption,
    sha256: str | None = typer.Option(None, "--sha256", help="Published sha256 of the zip; a different "
                                         "file is refused and nothing is loaded."),
    max_gb: float = typer.Option(4.0, "--max-gb", help="Refuse downloads larger than this (GB)."),
    warehouse: Path | None = WarehouseOption,
    on_overlap: str = OverlapOption,
    as_json: bool = JsonOption,
) -> None:
    """Download a BACI release zip (resumable, checksummed) and load its years, one atomic load per year."""
    from tradepulse.ingest.fetch import baci_url, fetch_baci_release
    from tradepulse.warehouse import Warehouse

    url = baci_url(release, hs, base_url)
    with _download_bar(as_json) as bar:
        task = bar.add_task(Path(url).name, total=None)

        def progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        def step(member: str, what: str) -> None:
            bar.update(task, description=f"{Path(member).name}: {what}")

        with Warehouse(warehouse) as wh:
            result = fetch_baci_release(wh, release, hs, years=_years(years), base_url=base_url, cache=cache,
                                        sha256=sha256, max_bytes=int(max_gb * 1e9), progress=progress,
                                        ingest_progress=step, on_overlap=on_overlap)
    _report(result, as_json)


@fetch_app.command("comtrade")
@friendly_errors
def comtrade_cmd(
    reporter: str = typer.Option(..., "--reporter", help="Reporter ISO3 code(s), comma-separated, e.g. IRN,TUR."),
    years: str = typer.Option(..., "--years", help="Years, e.g. 2015-2024."),
    freq: str = typer.Option("A", "--freq", help="A (annual) or M (monthly)."),
    flow: str = typer.Option("X,M", "--flow", help="Flows: X (exports), M (imports), RX, RM; comma-separated."),
    partner: str | None = typer.Option(None, "--partner", help="Partner ISO3 code(s) (default: every partner "
                                          "and the World)."),
    cmd: str = typer.Option("TOTAL", "--cmd", help="TOTAL, or every product at HS level AG2, AG4 or AG6."),
    refresh: bool = RefreshOption,
    base_url: str | None = typer.Option(None, "--base-url", envvar="TRADEPULSE_COMTRADE_URL",
                                           help="API root (default: the UN Comtrade API)."),
    cache: Path | None = CacheOption,
    warehouse: Path | None = WarehouseOption,
    on_overlap: str = OverlapOption,
    as_json: bool = JsonOption,
) -> None:
    """Ask the UN Comtrade API (key from $COMTRADE_API_KEY, else the public preview) and load the answer."""
    from tradepulse.ingest.fetch import fetch_comtrade_data
    from tradepulse.warehouse import Warehouse

    status = err_console.status("asking Comtrade", spinner="dots") if not as_json else _nothing()
    with Warehouse(warehouse) as wh, status:
        result = fetch_comtrade_data(wh, reporter.split(","), _years(years), freq=freq, flows=flow.split(","),
                                     partners=partner.split(",") if partner else None, cmd=cmd,
                                     base_url=base_url, cache=cache, on_overlap=on_overlap, refresh=refresh)
    _report(result, as_json)


@fetch_app.command("macro")
@friendly_errors
def macro_cmd(
    source: str = typer.Option("wdi", "--source", help="wdi or imf (offline: the caches shipped in "
                               "atlas-common-data) or worldbank (the World Bank API)."),
    years: str | None = typer.Option(None, "--years", help="Only these years (default: all; worldbank: "
                                        "1995 to this year)."),
    refresh: bool = RefreshOption,
    base_url: str | None = typer.Option(None, "--base-url", envvar="TRADEPULSE_WORLDBANK_URL",
                                           help="World Bank API root (--source worldbank)."),
    cache: Path | None = CacheOption,
    warehouse: Path | None = WarehouseOption,
    on_overlap: str = OverlapOption,
    as_json: bool = JsonOption,
) -> None:
    """Load GDP (current US$) and population by country and year into the macro table.

    GDP per capita is GDP / population."""
    from tradepulse.ingest.fetch import fetch_macro
    from tradepulse.warehouse import Warehouse

    with Warehouse(warehouse) as wh:
        result = fetch_macro(wh, source=source, years=_years(years), base_url=base_url, cache=cache,
                             on_overlap=on_overlap, refresh=refresh)
    _report(result, as_json)


def _nothing():
    import contextlib
    return contextlib.nullcontext()


def register(app: typer.Typer) -> None:
    """Add ``fetch baci|comtrade|macro`` to ``app``."""
    app.add_typer(fetch_app, name="fetch")
