"""CLI command: ``tradepulse brief`` — the weekly brief of a working group as PDF or HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from tradepulse.cli.common import WarehouseOption, console, engine_options, friendly_errors


@friendly_errors
@engine_options
def brief(out: Path = typer.Option(..., "--out", "-o", help="Output file: .pdf (WeasyPrint) or .html."),
          week: Optional[str] = typer.Option(None, "--week", help="Jalali week, e.g. 1405-W35 (weeks run "
                                             "Saturday–Friday; week 1 contains 1 Farvardin)."),
          date: Optional[str] = typer.Option(None, "--date", help="Reference day YYYY-MM-DD: Solar Hijri "
                                             "when the year < 1700 (1405-09-16), else Gregorian; default today."),
          calendar: str = typer.Option("auto", "--calendar", help="Calendar of --date: auto, sh or gregorian."),
          province: Optional[str] = typer.Option(None, "--province", help="Province (default: national)."),
          lang: str = typer.Option("en", "--lang", help="en or fa (Persian, right-to-left)."),
          latin_digits: bool = typer.Option(False, "--latin-digits", help="Use 0-9 in the Persian brief."),
          reporter: Optional[str] = typer.Option(None, "--reporter", help="Focus country ISO3 (default "
                                                 "$TRADEPULSE_FOCUS or IRN)."),
          roadmap: Optional[Path] = typer.Option(None, "--roadmap", help="Roadmap file (default: the "
                                                 "reporter's own roadmap; none → the brief says so)."),
          warehouse: Optional[Path] = WarehouseOption,
          db: Optional[str] = typer.Option(None, "--groups-db", "--db", help="Groups database: SQLite file "
                                           "path or SQLAlchemy URL (default: $TRADEPULSE_GROUPS_DB or "
                                           "groups.sqlite in ~/.tradepulse).")):
    """Write the weekly brief: targets, headline indicators and what changed, opportunities, action items."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from tradepulse.errors import TradepulseError
    from tradepulse.reports.brief import build_brief, write_brief
    from tradepulse.reports.since import SNAPSHOT_FILE

    if out.suffix.lower() not in (".pdf", ".html", ".htm"):
        raise TradepulseError(f"cannot write {out}: use .pdf or .html")
    from tradepulse.groups.dates import parse_day
    from tradepulse.groups.db import groups_url

    digits = "latin" if latin_digits else None
    day = parse_day(date, calendar, "--date")
    db = groups_url(db) if db else None
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("collecting targets, indicators and action items", total=2)
        b = build_brief(warehouse, db, week=week, date=day, province=province, lang=lang,
                        roadmap=str(roadmap) if roadmap else None, reporter=reporter, digits=digits,
                        history=out.parent / SNAPSHOT_FILE)
        progress.update(task, advance=1, description=f"rendering {out.suffix.lstrip('.').upper() or 'file'}")
        path = write_brief(None, None, out=out, brief=b)
        progress.update(task, advance=1)
    console.print(f"wrote {path} (week {b.week.label}, {b.week.start} – {b.week.end}, "
                  f"{b.province or 'national'}, {lang})")
    for section, msg in b.notes.items():
        console.print(f"  [yellow]note[/] {section}: {msg.format(**b.note_args.get(section, {}))}",
                      highlight=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to app."""
    app.command("brief")(brief)
