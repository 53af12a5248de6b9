"""Idempotent CSV import (issue 16): an unchanged export re-imported changes 0 rows (every file the CLI
export writes), ids update, natural keys match rows without ids, --dry-run shows the diff and writes
nothing, a stale version is refused with file, line and column."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from tradepulse.errors import InputError
from tradepulse.groups.csvio import FILES, export_csv, import_csv
from tradepulse.groups.db import session_factory
from tradepulse.groups.seed import seed_demo
from tradepulse.groups.service import GroupService


@pytest.fixture
def svc(tmp_path):
    url = f"sqlite:///{tmp_path / 'g.sqlite'}"
    seed_demo(url, ("Tehran", "Isfahan"), today=dt.date(2026, 12, 7), users=False)
    f = session_factory(url)
    with f() as s:
        yield GroupService(s)
    f.kw["bind"].dispose()


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_unchanged_export_changes_nothing(svc, tmp_path):
    counts = export_csv(svc, tmp_path / "a")
    assert counts["actions"] == 27 and counts["meetings"] == 12 and counts["decisions"] == 12
    audit_before = len(svc.audit())
    for dry in (True, False):
        rep = import_csv(svc, tmp_path / "a", dry_run=dry)
        assert rep.changed_rows == 0 and rep.changes == []
        assert rep.unchanged == counts                  # every row of every file matched, none changed
    assert len(svc.audit()) == audit_before
    # each file alone, too (the web uploads one file)
    for name in FILES:
        one = tmp_path / f"only-{name}"
        one.mkdir()
        (one / f"{name}.csv").write_bytes((tmp_path / "a" / f"{name}.csv").read_bytes())
        assert import_csv(svc, one).changed_rows == 0, name
    # without the id column: matched on the natural key
    rows = _rows(tmp_path / "a" / "actions.csv")
    for r in rows:
        r.pop("id")
    nid = tmp_path / "noid"
    nid.mkdir()
    _write(nid / "actions.csv", rows)
    assert import_csv(svc, nid).changed_rows == 0
    export_csv(svc, tmp_path / "b")
    for name in FILES:
        assert (tmp_path / "a" / f"{name}.csv").read_bytes() == (tmp_path / "b" / f"{name}.csv").read_bytes()


def test_edits_update_by_id_dry_run_first(svc, tmp_path):
    export_csv(svc, tmp_path / "a")
    rows = _rows(tmp_path / "a" / "actions.csv")
    first = rows[0]
    old_title, version = first["title"], int(first["version"])
    first["title"] = "Renamed in a spreadsheet"
    first["deadline"] = "1405-10-01"                      # typed as SH: 1 Dey 1405 = 2026-12-22
    rows.append({**rows[1], "id": "", "title": "A brand new item", "version": ""})
    _write(tmp_path / "a" / "actions.csv", rows)

    dry = import_csv(svc, tmp_path / "a", dry_run=True)
    assert (dry.added["actions"], dry.updated["actions"]) == (1, 1)
    assert {(c[2], c[3], c[4], c[5]) for c in dry.changes if c[3]} == {
        (f"action {first['id']}", "title", old_title, "Renamed in a spreadsheet"),
        (f"action {first['id']}", "deadline", first_deadline(svc, int(first["id"])), "2026-12-22")}
    assert svc.action(int(first["id"])).title == old_title               # nothing written

    rep = import_csv(svc, tmp_path / "a", actor="sara")
    assert (rep.added["actions"], rep.updated["actions"], rep.changed_rows) == (1, 1, 2)
    a = svc.action(int(first["id"]))
    assert (a.title, a.deadline, a.version) == ("Renamed in a spreadsheet", dt.date(2026, 12, 22), version + 1)
    assert {r.field for r in svc.audit("action_items", a.id) if r.actor == "sara"} == {"title", "deadline"}
    # the same file again: the new row now matches by natural key, the edited one is unchanged
    assert import_csv(svc, tmp_path / "a").changed_rows == 0
    # a further edit to the stale file (version is now older) is refused and writes nothing
    rows[0]["note"] = "late edit"
    _write(tmp_path / "a" / "actions.csv", rows)
    with pytest.raises(InputError) as info:
        import_csv(svc, tmp_path / "a")
    assert (info.value.line, info.value.column) == (2, "version") and "changed in the database" in str(info.value)
    assert svc.action(a.id).note == ""


def first_deadline(svc, action_id):
    return svc.action(action_id).deadline.isoformat()


def test_meeting_attendance_round_trip(svc, tmp_path):
    m = svc.meetings("Tehran working group")[-1]
    people = svc.people("Tehran working group")
    svc.update_meeting(m.id, "t", attendees=[p.id for p in people[:3]], absent=[people[3].id])
    export_csv(svc, tmp_path / "a")
    row = [r for r in _rows(tmp_path / "a" / "meetings.csv") if r["id"] == str(m.id)][0]
    assert row["absent"] == people[3].full_name and len(row["attendees"].split(";")) == 3
    assert import_csv(svc, tmp_path / "a").changed_rows == 0


def test_cli_export_neutralises_formulas_and_reimports_unchanged(svc, tmp_path):
    """Regression: ``groups export-csv`` wrote ``=HYPERLINK(…)`` titles as live spreadsheet formulas (the web
    downloads were fixed for issue 15, the CLI export was not).  Every text cell that starts with a formula
    character now starts with an apostrophe, and importing the export back changes nothing."""
    grp = svc.groups()[0]
    owner = grp.members[0].code
    titles = ['=HYPERLINK("http://evil.example","x")', "+1+2", "-cmd", "@SUM(A1)", "\tTAB", "|pipe", "%p"]
    for t in titles:
        svc.add_action(grp.name, t, owner, dt.date(2027, 1, 1))
    export_csv(svc, tmp_path / "x")
    raw = list(csv.reader(open(tmp_path / "x" / "actions.csv", newline="", encoding="utf-8")))
    cells = [c for row in raw[1:] for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r", "|", "%")]
    assert not [c for c in cells if c[:1] == "-" and not c.lstrip("-").replace(".", "").isdigit()]
    assert sum(c.startswith("'") for c in cells) == len(titles)
    rep = import_csv(svc, tmp_path / "x")
    assert rep.changed_rows == 0, rep.changes
