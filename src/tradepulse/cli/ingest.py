"""CLI commands: ``ingest`` (load a file) and ``info`` (what the warehouse holds).

Typer is imported only by :func:`register`: :func:`run_ingest` (the command's body) is also called by the
Typer-free fast path of :mod:`tradepulse.cli._fast`, so a plain ``tradepulse ingest FILE -f FORMAT`` does not
pay Typer's start-up (issue 19)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

from tradepulse.cli._console import console, err_console, friendly_errors

FORMAT_HELP = "baci | comtrade | customs | generic | services | macro"
TARGET_HELP = ("Table to load into, for --format customs or generic: flows (default; customs rows summed over "
               "firms) | firm_flows (firm-level customs extract: needs a firm column such as کد اقتصادی, "
               "شناسه ملی, کد بازرگانی, صادرکننده, firm or exporter; blank firm → quarantine) | services | "
               "macro (generic only).")


#: Seconds an ingest waits for readers (the dashboard computing a page) to release the warehouse file.
LOCK_WAIT = 120.0


def _echo(text: str) -> None:
    """One line to stdout (what ``typer.echo`` does with a str)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _open_writer(warehouse_cls, path, wait: float | None = None):
    """Open the warehouse for writing; while another process holds DuckDB's file lock (the dashboard's
    short-lived read connections), say so once and retry for up to ``LOCK_WAIT`` seconds (env
    ``TRADEPULSE_LOCK_WAIT``), then fail with one line — never a traceback."""
    import os
    import time

    import duckdb

    from tradepulse.errors import TradepulseError
    wait = float(os.environ.get("TRADEPULSE_LOCK_WAIT", LOCK_WAIT)) if wait is None else wait
    deadline, told = time.monotonic() + wait, False
    while True:
        try:
            return warehouse_cls(path)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise TradepulseError(f"the warehouse {path} is in use by another process (the dashboard or "
                                      f"another ingest) and stayed locked for {wait:.0f} s; try again when "
                                      "it is idle") from None
            if not told:
                err_console.print("[yellow]the warehouse is in use by another process (the dashboard computing "
                                  "a page?); waiting for it…[/]", soft_wrap=True)
                told = True
            time.sleep(0.5)


def _parse_options(pairs: list[str]) -> dict:
    """``KEY=VALUE`` reader options (e.g. ``year=2017``, ``partner=WLD``); integers stay integers."""
    from tradepulse.errors import TradepulseError
    out: dict = {}
    for pair in pairs:
        if "=" not in pair:
            raise TradepulseError(f"reader option {pair!r} must look like KEY=VALUE")
        key, value = pair.split("=", 1)
        key, value = key.strip(), value.strip()
        if key == "columns":
            raise TradepulseError("use --mapping FILE to map columns")
        out[key] = int(value) if value.lstrip("-").isdigit() and key not in ("product", "reporter", "partner") \
            else value
    return out


def _parse_years(text: str | None) -> list[int] | None:
    """``2019-2021,2023`` → [2019, 2020, 2021, 2023]; None → None."""
    from tradepulse.errors import TradepulseError
    if text is None:
        return None
    years: list[int] = []
    for part in text.split(","):
        a, _, b = part.strip().partition("-")
        try:
            lo, hi = int(a), int(b or a)
        except ValueError:
            raise TradepulseError(f"--years {text!r}: expected years such as 2019-2021,2023") from None
        years.extend(range(lo, hi + 1))
    return years


def _progress_bar(quiet: bool):
    """The ingest's progress bar on stderr (spinner, step, bar, elapsed time); off for --json or no terminal."""
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    return Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn(),
                    console=err_console, transient=True, disable=quiet or not err_console.is_terminal)


def _print_result(file, result, on_overlap: str) -> None:
    """The summary of one load in words (and its first quarantined rows)."""
    if result.skipped:
        console.print(f"[yellow]skipped[/] {file}: already loaded (load {result.load_id}); "
                      "use --replace to load it again")
        return
    console.print(f"[green]loaded[/] {result.rows_loaded:,} rows into {result.target} "
                  f"(US$ {result.value_usd_loaded:,.0f}), quarantined {result.rows_quarantined:,}, "
                  f"load {result.load_id}" + (f", replaced {result.rows_replaced:,} rows"
                                              if result.rows_replaced else ""), highlight=False)
    if result.rows_overlapping:
        console.print(_overlap_summary(result, on_overlap), highlight=False)
    if result.problems:
        from rich.table import Table
        table = Table("line", "column", "value", "reason", title="first quarantined rows")
        for p in result.problems:
            table.add_row(str(p["line"]), str(p["column_name"] or ""), str(p["value"] or ""), p["reason"])
        console.print(table)


def _overlap_summary(result, on_overlap: str) -> str:
    """Plain words for the rows of this load whose key an earlier load already held."""
    from rich.markup import escape

    def earlier(o: dict) -> str:
        return f"{o['rows']:,} from {escape(str(o['file'] or 'an unrecorded load'))} (load {o['load_id']})"
    loads = result.overlapping_loads
    listed = "; ".join(earlier(o) for o in loads[:5]) + (f"; and {len(loads) - 5} more loads" if len(loads) > 5
                                                          else "")
    n = result.rows_overlapping
    if on_overlap == "replace":
        return (f"[cyan]superseded[/] earlier rows: {n:,} row(s) of this file were already loaded, so the "
                f"earlier copies were deleted — {listed}")
    return (f"[yellow]already loaded[/] {n:,} row(s) of this file were in the warehouse already and went to "
            f"quarantine ({listed}); to let this file supersede them, run again with --replace "
            f"--on-overlap replace")


def _refresh(warehouse: Path | None) -> None:
    """``ingest --refresh``: the dashboard summaries after the load (:mod:`tradepulse.cli.refresh`)."""
    from tradepulse.cli.refresh import print_result, run_refresh
    from tradepulse.config import DEFAULT_FOCUS
    print_result(run_refresh(warehouse, DEFAULT_FOCUS.upper()))


def _with_refresh(loads, warehouse: Path | None) -> dict:
    from tradepulse.cli.refresh import run_refresh
    from tradepulse.config import DEFAULT_FOCUS
    return {"loads": loads, "refresh": run_refresh(warehouse, DEFAULT_FOCUS.upper(), quiet=True).to_dict()}


def _spark_engine(engine: str | None) -> bool:
    """True for ``--engine spark`` (or ``$TRADEPULSE_ENGINE=spark``); a one-line error for an unknown engine."""
    name = (engine or "duckdb").strip().lower()
    if name in ("spark", "pyspark"):
        return True
    if name != "duckdb":
        from tradepulse.errors import UnknownNameError
        raise UnknownNameError("engine", engine, ["duckdb", "spark"])
    return False


def _ingest_spark(file: Path, fmt: str, warehouse: Path | None, options: dict, *, dataset: str | None,
                  replace: bool, on_overlap: str, master: str | None, as_json: bool) -> None:
    """``ingest --engine spark``: load into a Parquet dataset directory (:mod:`tradepulse.ingest.spark`)."""
    import importlib.util

    from tradepulse.config import default_warehouse_path
    from tradepulse.errors import TradepulseError
    if importlib.util.find_spec("pyspark") is None:
        raise TradepulseError("--engine spark needs PySpark: install tradepulse[spark] (and Java 17)")
    root = warehouse if warehouse is not None else default_warehouse_path()
    if str(root).endswith(".duckdb"):
        raise TradepulseError(f"--engine spark loads into a Parquet dataset directory (-w DIR), not the DuckDB "
                              f"file {root}")
    from tradepulse.ingest.spark import ingest_dataset
    steps = ["computing sha256", "opening the source", "reading and validating", "checking duplicate keys",
             "checking earlier loads", "replacing earlier rows", "locating rejected lines", "writing the rows",
             "committing"]
    with _progress_bar(as_json) as bar:
        task = bar.add_task(f"ingest {file.name} (Spark)", total=len(steps))

        def progress(step: str) -> None:
            bar.update(task, completed=steps.index(step) if step in steps else 0,
                       description=f"{file.name}: {step}")

        try:
            result = ingest_dataset(root, file, fmt, replace=replace, on_overlap=on_overlap, master=master,
                                    name=dataset, progress=progress, **options)
        except TradepulseError:
            raise
        except Exception as exc:   # noqa: BLE001 - a Spark/JVM failure: one line, the dataset is unchanged
            if not type(exc).__module__.startswith(("pyspark", "py4j")):
                raise
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise TradepulseError(f"{file}: Spark failed ({first}); the dataset {root} is unchanged") from None
    if as_json:
        _echo(json.dumps(result.to_dict(), ensure_ascii=False, default=str))
        return
    _print_result(file, result, on_overlap)


def _summaries_line(sm: dict) -> str:
    """``info``'s line on the dashboard's precomputed summaries: fresh, stale or none."""
    if not sm["stored"]:
        return "dashboard summaries: none (`tradepulse refresh` precomputes the first pages)"
    if sm["fresh"] == sm["stored"]:
        return f"dashboard summaries: {sm['stored']} fresh, refreshed {sm['refreshed_at']}"
    return (f"dashboard summaries: {sm['fresh']} of {sm['stored']} fresh; the rest predate the data or the code "
            "(`tradepulse refresh`)")


def run_ingest(file: Path, fmt: str, *, mapping: Path | None = None, option: list[str] | tuple[str, ...] = (),
               target: str | None = None, reporter: str | None = None, warehouse: Path | None = None,
               replace: bool = False, on_overlap: str = "quarantine", years: str | None = None,
               as_json: bool = False, dataset: str | None = None, refresh: bool = False,
               engine: str | None = None, master: str | None = None) -> None:
    """``tradepulse ingest``: the command's body, its arguments as the command line gives them."""
    from tradepulse.ingest import ingest_file, ingest_release
    from tradepulse.warehouse import Warehouse

    if str(file).startswith(("http:/", "https:/", "ftp:/")):   # Path() folds "//" into "/"
        from tradepulse.errors import TradepulseError
        raise TradepulseError(f"ingest reads local files, not {str(file).split(':', 1)[0]} addresses; "
                              "download with `tradepulse fetch baci|comtrade|macro` (see docs/real-data.md)")
    options = _parse_options(option)
    if target is not None:
        from tradepulse.errors import TradepulseError
        if "target" in options and options["target"] != target:
            raise TradepulseError(f"--target {target} and --option target={options['target']} disagree")
        options["target"] = target
    if reporter is not None:
        from tradepulse.errors import TradepulseError
        if "reporter" in options and str(options["reporter"]).upper() != reporter.upper():
            raise TradepulseError(f"--reporter {reporter} and --option reporter={options['reporter']} disagree")
        options["reporter"] = reporter.strip().upper()
    if mapping is not None:
        options["mapping"] = str(mapping)
    if _spark_engine(engine):
        if years is not None or refresh:
            from tradepulse.errors import TradepulseError
            raise TradepulseError("--years and --refresh are not on Spark yet (--engine spark)")
        _ingest_spark(file, fmt, warehouse, options, dataset=dataset, replace=replace, on_overlap=on_overlap,
                      master=master, as_json=as_json)
        return
    if dataset:
        options["dataset"] = dataset
    steps = ["computing sha256", "opening the source", "reading and validating", "checking duplicate keys",
             "checking earlier loads", "locating rejected lines", "committing"]
    members: list[str] = []
    if fmt == "baci" and file.suffix.lower() == ".zip" and "member" not in options:
        from tradepulse.ingest.readers import baci_members
        members = baci_members(file) if file.exists() else []
    if years is not None and len(members) < 2:
        from tradepulse.errors import TradepulseError
        raise TradepulseError("--years applies to a BACI release zip holding several yearly CSVs")
    if len(members) > 1:  # a BACI release: one load per year, one progress bar over all steps
        with _open_writer(Warehouse, warehouse) as wh:
            with _progress_bar(as_json) as bar:
                task = bar.add_task(f"ingest {file.name}", total=len(members) * len(steps))
                done: dict[str, int] = {}

                def member_progress(member: str, step: str) -> None:
                    if member not in done:
                        done[member] = len(done)
                    at = done[member] * len(steps) + (steps.index(step) if step in steps else 0)
                    bar.update(task, completed=at, description=f"{Path(member).name}: {step}")

                results = ingest_release(wh, file, years=_parse_years(years), replace=replace,
                                         on_overlap=on_overlap, progress=member_progress, **options)
        if as_json:
            loads = [r.to_dict() for r in results]
            _echo(json.dumps(_with_refresh(loads, warehouse) if refresh else loads, ensure_ascii=False,
                             default=str))
            return
        for r in results:
            _print_result(r.file, r, on_overlap)
        if refresh:
            _refresh(warehouse)
        return
    with _open_writer(Warehouse, warehouse) as wh:
        with _progress_bar(as_json) as bar:
            task = bar.add_task(f"ingest {file.name}", total=len(steps))

            def progress(step: str) -> None:
                done = steps.index(step) if step in steps else 0
                bar.update(task, completed=done, description=f"{file.name}: {step}")

            result = ingest_file(wh, file, fmt, replace=replace, on_overlap=on_overlap, progress=progress,
                                 **options)
            bar.update(task, completed=len(steps))
    if as_json:
        load = result.to_dict()
        _echo(json.dumps(_with_refresh(load, warehouse) if refresh else load, ensure_ascii=False,
                         default=str))
        return
    _print_result(file, result, on_overlap)
    if refresh:
        _refresh(warehouse)


def register(app) -> None:
    """Add ``ingest`` and ``info`` to ``app`` (a ``typer.Typer``)."""
    import typer

    from tradepulse.cli.common import MasterOption, WarehouseOption, engine_options

    @app.command()
    @friendly_errors
    def ingest(
        file: Path = typer.Argument(..., help="Input file (CSV, Parquet, Excel; BACI also .zip)."),
        fmt: str = typer.Option(..., "--format", "-f", help=FORMAT_HELP),
        mapping: Optional[Path] = typer.Option(None, "--mapping", "-m",
                                               help="YAML/TOML column mapping (customs: Persian default)."),
        option: List[str] = typer.Option([], "--option", "-o", help="Reader option KEY=VALUE, repeatable "
                                         "(e.g. year=2017, partner=WLD, hs_revision=HS2017)."),
        target: Optional[str] = typer.Option(None, "--target", "-t", help=TARGET_HELP),
        reporter: str | None = typer.Option(
            None, "--reporter", "-r", help="Reporting country (ISO3, e.g. IRN) of a file without a reporter column; "
                                           "required for such a customs file."),
        warehouse: Optional[Path] = WarehouseOption,
        replace: bool = typer.Option(False, "--replace", help="Replace rows loaded earlier from this file."),
        on_overlap: str = typer.Option(
            "quarantine", "--on-overlap", metavar="quarantine|replace",
            help="Rows whose key (year, month, reporter, partner, flow, product, province; firm_flows: also "
                 "firm) an earlier load of another file already holds: 'quarantine' them (default; the earlier rows stay) or 'replace' "
                 "the earlier rows with them (this file supersedes, e.g. a revised release)."),
        years: Optional[str] = typer.Option(
            None, "--years", help="BACI release zip: load only these years, e.g. 2019-2021,2023 (default: all)."),
        as_json: bool = typer.Option(False, "--json", help="Print a machine-readable summary (a list for a "
                                                           "BACI release zip)."),
        dataset: Optional[str] = typer.Option(None, "--dataset", help="Name of the dataset this load belongs "
                                              "to (default: derived, e.g. baci-hs6-annual-HS2017)."),
        refresh: bool = typer.Option(False, "--refresh", help="Then precompute the dashboard's summaries "
                                     "(`tradepulse refresh`, focus $TRADEPULSE_FOCUS or IRN); with --json the "
                                     "output becomes {\"loads\": …, \"refresh\": …}."),
        engine: Optional[str] = typer.Option(
            None, "--engine", envvar="TRADEPULSE_ENGINE", show_default=False,
            help="duckdb (default) or spark: load into a Parquet dataset (-w DIR, or a URL: file:///…, or "
                 "s3a://… / hdfs://… through Spark's file system — needs what Spark needs for it, e.g. the "
                 "hadoop-aws package and credentials in the Spark configuration; created when missing or empty) "
                 "through Spark, with the same checks, --replace and --on-overlap (BACI, Comtrade, customs and "
                 "generic CSV files into flows)."),
        master: Optional[str] = MasterOption,
    ) -> None:
        """Validate and load a trade data file into the warehouse (bad rows go to quarantine).

        A BACI release zip holding one CSV per year loads every year (or --years), each as its own load."""
        run_ingest(file, fmt, mapping=mapping, option=option, target=target, reporter=reporter,
                   warehouse=warehouse, replace=replace, on_overlap=on_overlap, years=years, as_json=as_json,
                   dataset=dataset, refresh=refresh, engine=engine, master=master)

    @app.command()
    @friendly_errors
    @engine_options
    def info(
        warehouse: Optional[Path] = WarehouseOption,
        as_json: bool = typer.Option(False, "--json", help="Print a machine-readable summary."),
    ) -> None:
        """Show what the warehouse holds: tables, row counts, years, reporters, loads, quarantine."""
        from rich.table import Table

        from tradepulse.warehouse import Warehouse

        with Warehouse(warehouse, read_only=True) as wh:
            data = wh.info()
        if as_json:
            typer.echo(json.dumps(data, ensure_ascii=False, default=str))
            return
        console.print(f"[bold]warehouse[/] {data['path']}", highlight=False)
        t = Table("table", "rows")
        for name, n in data["tables"].items():
            t.add_row(name, f"{n:,}")
        console.print(t)
        stored = data.get("flows_storage", {})
        if "baci_rows" in stored:
            console.print(f"flows stored as {stored.get('flow_rows', 0):,} canonical rows and "
                          f"{stored['baci_rows']:,} slim BACI rows")
        years = data["flow_years"]
        console.print(f"flow years: {years[0]}–{years[-1]} ({len(years)})" if years else "flow years: none")
        console.print(f"reporters: {data['reporters']}; sources: "
                      + (", ".join(f"{k} ({v:,})" for k, v in data["sources"].items()) or "none"))
        if data["loads"]:
            lt = Table("load", "file", "format", "target", "loaded", "quarantined", "value US$", "at")
            for ld in data["loads"]:
                lt.add_row(ld["load_id"], str(ld["file"]), str(ld["format"]), str(ld["target"]),
                           f"{ld['rows_loaded']:,}", f"{ld['rows_quarantined']:,}",
                           f"{ld['value_usd_loaded']:,.0f}", str(ld["loaded_at"])[:19])
            console.print(lt)
        if data.get("datasets"):
            # one row per dataset, narrow enough for 80 columns: what it is, what it covers
            dt = Table("dataset", "level", "partners", "reporters", "years", title="datasets",
                       title_justify="left")
            for d in data["datasets"]:
                span = f"{d['first_year']}–{d['last_year']}" if d["first_year"] != d["last_year"] \
                    else str(d["first_year"])
                dt.add_row(str(d["dataset"]), str(d["product_level"]), str(d["partner_detail"]).replace(",", "+")
                           + (" +prov." if d["provincial"] else ""), f"{d['reporters']:,}",
                           span)
            console.print(dt)
        sm = data.get("summaries")
        if sm is not None:
            console.print(_summaries_line(sm), highlight=False)
        q = data["quarantine"]
        console.print(f"quarantine: {q['rows']:,} rows" + "".join(
            f"\n  {n:,} × {r}" for r, n in list(q["by_reason"].items())[:10]))
