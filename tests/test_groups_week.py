"""Service level of the working group's week (issue 16): a meeting with attendance, decisions and actions is
one unit of work; undo reverts exactly the actor's last unit (and refuses when somebody changed the record
since); per-group roles; the CLI's dry-run import and undo."""

from __future__ import annotations

import datetime as dt

import pytest

import test_groups
from tradepulse.groups.db import session_factory
from tradepulse.groups.service import ConflictError, GroupService

#: The SQLite / PostgreSQL database fixture of test_groups (a private schema per test on PostgreSQL).
groups_url = test_groups.groups_url


def _world(f):
    with f() as s:
        svc = GroupService(s)
        svc.ensure_seed_institutions("t")
        svc.create_group("Tehran working group", province="Tehran", members=["customs", "edbi"])
        svc.create_group("Isfahan working group", province="Isfahan", members=["customs"])
        for name, inst in (("Ali", "customs"), ("Sara", "edbi"), ("Reza", "tpo"), ("Nima", "customs")):
            svc.add_person(name, inst, group="Tehran working group")
        yield svc


@pytest.fixture
def svc(groups_url):  # noqa: F811 - pytest passes the fixture of that name
    """Two groups and four Tehran people, on SQLite and (with TRADEPULSE_TEST_PG_URL) PostgreSQL."""
    f = session_factory(groups_url)
    yield from _world(f)
    f.kw["bind"].dispose()


@pytest.fixture
def file_svc(tmp_path):
    f = session_factory(str(tmp_path / "g.sqlite"))
    yield from _world(f)
    f.kw["bind"].dispose()


def test_meeting_is_one_undo_step(svc):
    m = svc.record_meeting("Tehran", "1405-09-16", title="w", minutes="m", attendees=["Ali", "Sara", "Reza"],
                           absent=["Nima"], decisions=[dict(text="d1", owner="edbi", target_id="neighbours-exports"),
                                                      dict(text="d2")],
                           actions=[dict(title="a1", owner="customs", deadline="1405-09-30", decision=0),
                                    dict(title="a2", owner="edbi")], actor="sec")
    assert m.date == dt.date(2026, 12, 7)
    assert [(p.full_name, ok) for p, ok in svc.attendance(m)] == [("Ali", True), ("Nima", False), ("Reza", True),
                                                                  ("Sara", True)]
    a1 = next(a for a in svc.actions("Tehran") if a.title == "a1")
    assert (a1.deadline, a1.decision_id) == (dt.date(2026, 12, 21), m.decisions[0].id)
    batches = {r.batch for r in svc.audit(actor="sec")}
    assert len(batches) == 1                                   # meeting + 2 decisions + 2 actions, one batch
    other = svc.add_action("Tehran", "someone else's", "customs", actor="other")
    assert svc.undo_last("sec") == 5
    assert svc.meetings("Tehran") == [] and [a.title for a in svc.actions("Tehran")] == ["someone else's"]
    assert svc.undo_last("sec") == 0                           # nothing left for this actor
    assert svc.action(other.id).title == "someone else's"


def test_undo_of_an_edit_and_its_conflict(svc):
    a = svc.add_action("Tehran", "t", "customs", "2026-12-10", actor="sec")
    a = svc.update_action(a.id, 1, "sec", title="t2", owner="edbi", deadline="1405-09-25")
    assert (a.title, a.owner.code, a.deadline, a.version) == ("t2", "edbi", dt.date(2026, 12, 16), 2)
    assert svc.undo_last("sec") == 3
    a = svc.action(a.id)
    assert (a.title, a.owner.code, a.deadline, a.version) == ("t", "customs", dt.date(2026, 12, 10), 3)
    # the undo itself is not undone again; the creation is next
    svc.update_action(a.id, 3, "sec", note="n")
    svc.update_action(a.id, 4, "boss", note="changed by the boss")
    with pytest.raises(ConflictError):
        svc.undo_last("sec")                                    # the boss changed it since
    assert svc.action(a.id).note == "changed by the boss"


def test_group_roles(svc):
    svc.create_user("tehran", "pw", "viewer", enforce_policy=False)
    svc.create_user("old", "pw", "secretary", enforce_policy=False)
    svc.create_user("root", "pw", "admin", enforce_policy=False)
    assert svc.role_in("tehran", "Tehran") == "viewer"
    svc.set_group_role("tehran", "Tehran", "secretary", actor="root")
    assert (svc.role_in("tehran", "Tehran"), svc.role_in("tehran", "Isfahan")) == ("secretary", "viewer")
    assert (svc.role_in("old", "Isfahan"), svc.role_in("root", "Isfahan")) == ("secretary", "admin")
    svc.set_group_role("tehran", "Tehran", None)
    assert svc.role_in("tehran", "Tehran") == "viewer" and svc.role_in("nobody", "Tehran") is None


def test_group_role_change_ends_sessions(svc):
    """Like a change of the global role (issue 15), a change of a per-group role ends the user's sessions
    (and only theirs); setting the same role again changes nothing and keeps them."""
    from tradepulse.groups.auth import Accounts
    acc = Accounts(svc.s)
    u = svc.create_user("tehran", "pw", "viewer", enforce_policy=False)
    other = svc.create_user("isf", "pw", "viewer", enforce_policy=False)
    svc.set_group_role("tehran", "Tehran", "secretary", actor="root")
    mine, theirs = acc.start_session(u), acc.start_session(other)
    svc.set_group_role("tehran", "Tehran", "secretary", actor="root")        # no change
    assert acc.session_user(mine) is not None
    svc.set_group_role("tehran", "Tehran", "viewer", actor="root")
    assert acc.session_user(mine) is None and acc.session_user(theirs).username == "isf"
    mine = acc.start_session(u)
    svc.set_group_role("tehran", "Tehran", None, actor="root")               # removal too
    assert acc.session_user(mine) is None


def test_cli_dry_run_and_undo(file_svc, tmp_path):
    import typer
    from typer.testing import CliRunner

    from tradepulse.cli.common import console
    from tradepulse.cli.groups import register
    from tradepulse.groups.csvio import export_csv

    svc = file_svc
    a = svc.add_action("Tehran", "t", "customs", "2026-12-10", actor="cli")
    export_csv(svc, tmp_path / "x")
    p = tmp_path / "x" / "actions.csv"
    p.write_text(p.read_text(encoding="utf-8").replace(",t,", ",renamed,"), encoding="utf-8")
    app = typer.Typer()
    register(app)
    db = str(tmp_path / "g.sqlite")
    console._width = 200
    r = CliRunner().invoke(app, ["groups", "import-csv", str(tmp_path / "x"), "--dry-run", "--groups-db", db])
    assert r.exit_code == 0 and "would update 1" in r.output and "renamed" in r.output
    assert svc.action(a.id).title == "t"
    r = CliRunner().invoke(app, ["groups", "import-csv", str(tmp_path / "x"), "--groups-db", db, "--actor", "cli"])
    assert r.exit_code == 0 and "updated 1" in r.output and svc.action(a.id).title == "renamed"
    r = CliRunner().invoke(app, ["groups", "undo", "--groups-db", db, "--actor", "cli"])
    assert r.exit_code == 0 and "undid 1" in r.output and svc.action(a.id).title == "t"


def test_migration_0003_keeps_existing_rows(tmp_path):
    """A database at 0001 with a meeting, attendees, a decision and a linked action upgrades to head: attendees
    count as present, the meeting is at version 1, decisions have no owner, the action keeps its decision;
    downgrading to 0001 keeps every row (regression: SQLite's table rebuild cascaded deletes / SET NULL)."""
    from sqlalchemy import text

    from tradepulse.groups.db import downgrade, make_engine, upgrade

    eng = make_engine(str(tmp_path / "old.sqlite"))
    upgrade(eng, "0001")
    with eng.begin() as c:
        c.execute(text("INSERT INTO institutions (id, code, name_en, name_fa, kind) VALUES (1, 'customs', 'C', '', 'g')"))
        c.execute(text("INSERT INTO working_groups (id, name, name_fa, scope, created_at) "
                       "VALUES (1, 'G', '', 'national', '2026-01-01')"))
        c.execute(text("INSERT INTO people (id, full_name, institution_id, role) VALUES (1, 'Ali', 1, 'member')"))
        c.execute(text("INSERT INTO meetings (id, group_id, date, title, minutes) VALUES (1, 1, '2026-12-07', 't', '')"))
        c.execute(text("INSERT INTO meeting_attendees (meeting_id, person_id) VALUES (1, 1)"))
        c.execute(text("INSERT INTO decisions (id, meeting_id, text) VALUES (1, 1, 'd')"))
        c.execute(text("INSERT INTO action_items (id, group_id, decision_id, title, owner_id, status, note, version, "
                       "created_at, updated_at) VALUES (1, 1, 1, 'a', 1, 'open', '', 1, '2026-01-01', '2026-01-01')"))
    upgrade(eng)    # rebuilding `decisions` on SQLite must not fire the action items' ON DELETE SET NULL
    f = session_factory(str(tmp_path / "old.sqlite"))
    with f() as s:
        svc = GroupService(s)
        m = svc.meeting(1)
        assert m.version == 1 and [(p.full_name, ok) for p, ok in svc.attendance(m)] == [("Ali", True)]
        assert m.decisions[0].owner is None and m.decisions[0].target_id is None
        assert svc.action(1).decision_id == 1
    f.kw["bind"].dispose()
    downgrade(eng, "0001")
    with eng.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM meeting_attendees")).scalar() == 1
        assert c.execute(text("SELECT decision_id FROM action_items")).scalar() == 1
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1          # switched back on
    eng.dispose()
