"""Solar Hijri input (issue 16): the date rule (year < 1700 → SH), ranges, the CLI and --groups-db paths."""

from __future__ import annotations

import datetime as dt

import jdatetime
import pytest

from tradepulse.groups.dates import DateInputError, parse_day, sh_iso, sh_to_gregorian


@pytest.mark.parametrize("text, cal, expected", [
    ("1405-09-16", "auto", dt.date(2026, 12, 7)),          # 16 Azar 1405 (issue 16's example)
    ("۱۴۰۵/۰۹/۱۶", "auto", dt.date(2026, 12, 7)),           # Persian digits and slashes
    ("2026-12-07", "auto", dt.date(2026, 12, 7)),
    ("1403-01-01", "auto", dt.date(2024, 3, 20)),          # Nowruz 1403 (published calendar)
    ("1399-12-30", "auto", dt.date(2021, 3, 20)),          # 1399 is a leap year: 30 Esfand exists
    ("1700-01-01", "sh", None),                            # forced SH: out of range
    ("1405-09-16", "gregorian", None),                     # forced Gregorian: year 1405 < 1900
])
def test_parse_day(text, cal, expected):
    if expected is None:
        with pytest.raises(DateInputError):
            parse_day(text, cal)
    else:
        assert parse_day(text, cal) == expected


def test_independent_oracle_and_ranges():
    """Every 97th day of the accepted SH span round-trips through jdatetime's own formatter (independent
    path: Gregorian → SH string → parse), and the range ends are refused one day outside."""
    day = dt.date(1900, 3, 21)
    while day <= dt.date(2100, 3, 1):
        assert parse_day(jdatetime.date.fromgregorian(date=day).strftime("%Y/%m/%d")) == day
        assert parse_day(sh_iso(day)) == day
        day += dt.timedelta(days=97)
    for bad in ("1278-12-29", "1480-01-01", "1899-12-31", "2101-01-01", "1404-12-30", "1405-07-31",
                "2026-02-29", "16/09/1405", "tomorrow"):
        with pytest.raises(DateInputError) as info:
            parse_day(bad)
        assert "\n" not in str(info.value)
    assert sh_to_gregorian(1279, 1, 1) == dt.date(1900, 3, 21)


def test_cli_sh_dates_and_plain_path(tmp_path):
    """CLI: `record-meeting Tehran 1405-09-16` stores 2026-12-07; `--calendar gregorian` refuses it in one
    line; a plain file path works for --groups-db in every command (list-groups had a traceback)."""
    import typer
    from typer.testing import CliRunner

    from tradepulse.cli.groups import register
    from tradepulse.groups.db import session_factory
    from tradepulse.groups.service import GroupService

    app = typer.Typer()
    register(app)
    db = str(tmp_path / "g.sqlite")                      # a path, not a URL

    def run(*args):
        return CliRunner().invoke(app, ["groups", *args, "--groups-db", db])

    assert run("init").exit_code == 0
    assert run("create-group", "Tehran working group", "--province", "Tehran").exit_code == 0
    r = run("record-meeting", "Tehran", "1405-09-16")
    assert r.exit_code == 0 and "2026-12-07" in r.output and "1405-09-16 Jalali" in r.output
    r = run("add-action", "Tehran", "Call exporters", "--owner", "customs", "--deadline", "1405-09-30")
    assert r.exit_code == 0
    r = run("record-meeting", "Tehran", "1405-09-16", "--calendar", "gregorian")
    assert r.exit_code == 2 and "Gregorian year must be 1900–2100" in r.output and "Traceback" not in r.output
    r = run("record-meeting", "Tehran", "1480-01-01")
    assert r.exit_code == 2 and "Solar Hijri year must be 1279–1479" in r.output
    assert len(r.output.strip().splitlines()) == 1
    r = run("list-groups")
    assert r.exit_code == 0 and "Tehran working group" in r.output
    f = session_factory(db)
    with f() as s:
        svc = GroupService(s)
        assert [m.date for m in svc.meetings()] == [dt.date(2026, 12, 7)]
        assert svc.actions()[0].deadline == dt.date(2026, 12, 21)       # 30 Azar 1405
    f.kw["bind"].dispose()


def test_brief_cli_takes_groups_db_path_and_sh_date(tmp_path):
    """`tradepulse brief --groups-db <plain path> --date 1405-09-16` (a traceback before issue 16): the brief
    is written for the week of 2026-12-07 (no warehouse: its trade sections say so)."""
    import typer
    from typer.testing import CliRunner

    from tradepulse.cli.brief import register
    from tradepulse.groups.seed import seed_demo

    db = tmp_path / "g.sqlite"
    seed_demo(str(db), ("Tehran",), today=dt.date(2026, 12, 7), users=False)
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)            # a second command keeps `brief` a subcommand
    out = tmp_path / "b.html"
    r = CliRunner().invoke(app, ["brief", "--out", str(out), "--groups-db", str(db), "--date", "1405-09-16",
                                 "--province", "Tehran", "--warehouse", str(tmp_path / "none.duckdb")])
    assert r.exit_code == 0, r.output
    assert "2026-12-05 – 2026-12-11" in r.output and out.exists()
    r = CliRunner().invoke(app, ["brief", "--out", str(out), "--groups-db", str(db), "--date", "1480-01-01"])
    assert r.exit_code == 2 and "Solar Hijri year must be 1279–1479" in r.output
