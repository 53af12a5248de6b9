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
