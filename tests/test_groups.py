"""Working groups: migrations, service, optimistic locking under concurrent writers, audit, users, CSV, CLI.

Every database test runs on SQLite and — when ``TRADEPULSE_TEST_PG_URL`` is set (scripts/run-tests.sh
starts a server) — on PostgreSQL, each test in its own schema so parallel workers never collide.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import uuid

import pytest
from sqlalchemy import event, inspect, text

from tradepulse.errors import InputError, TradepulseError, UnknownNameError
from tradepulse.groups.db import current_revision, downgrade, make_engine, session_factory, upgrade
from tradepulse.groups.service import SEED_INSTITUTIONS, ConflictError, GroupService

PG_URL = os.environ.get("TRADEPULSE_TEST_PG_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def groups_url(request, tmp_path):
    """A fresh groups database URL: a SQLite file, or a private schema on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'groups.sqlite'}"
        return
    if not PG_URL:
        pytest.skip("TRADEPULSE_TEST_PG_URL not set (scripts/run-tests.sh starts PostgreSQL)")
    schema = f"tp_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def factory(groups_url):
    f = session_factory(groups_url)
    yield f
    f.kw["bind"].dispose()


@pytest.fixture
def svc(factory):
    with factory() as session:
        s = GroupService(session)
        s.ensure_seed_institutions("test")
        yield s


def _group_with_action(svc: GroupService):
    g = svc.create_group("Tehran working group", province="Tehran", name_fa="کارگروه تهران",
                         members=["customs", "edbi"], actor="alice")
    a = svc.add_action(g.name, "Publish waiting times", "customs", dt.date(2026, 3, 1), actor="alice")
    return g, a


def test_migrations_create_schema_at_head(factory):
    """Alembic (programmatic config, no alembic.ini) creates every table and stamps the head revision."""
    from alembic.script import ScriptDirectory

    from tradepulse.groups.db import alembic_config
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head == "0003"      # one chain: 0001 → 0002 (sessions, issue 15) → 0003 (week forms, issue 16)
    engine = factory.kw["bind"]
    names = set(inspect(engine).get_table_names())
    assert {"institutions", "working_groups", "group_members", "people", "meetings", "meeting_attendees",
            "decisions", "action_items", "audit_log", "users", "web_sessions", "group_roles", "alembic_version"} <= names
    assert current_revision(engine) == head
    # running the factory again is a no-op (idempotent upgrade)
    session_factory(str(engine.url.render_as_string(hide_password=False))).kw["bind"].dispose()
    assert current_revision(engine) == head
    # the migration is reversible: down to base leaves only alembic_version, up again restores all
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"} and current_revision(engine) is None
    upgrade(engine)
    assert "action_items" in inspect(engine).get_table_names() and current_revision(engine) == head


def test_seed_institutions_bilingual_and_idempotent(svc):
    """The seed list has 8 institutions (TPO = secretariat) with English and Persian names; seeding twice
    adds nothing."""
    insts = svc.ensure_seed_institutions("again")
    assert [i.code for i in insts] == sorted(c for c, *_ in SEED_INSTITUTIONS)
    assert all(i.name_en and i.name_fa for i in insts)
    assert svc.institution("Customs Administration").name_fa == "گمرک"
    assert svc.institution("سازمان توسعه تجارت").code == "tpo"
    assert len(svc.audit("institutions")) == len(SEED_INSTITUTIONS)


def test_group_people_meeting_decision(svc):
    g, _ = _group_with_action(svc)
    assert g.secretariat.code == "tpo" and g.scope == "province"
    assert [m.code for m in svc.group("tehran").members] == ["customs", "edbi"]   # found by province
    svc.add_member(g.name, "standards", actor="bob")
    assert [m.code for m in svc.group(g.id).members] == ["customs", "edbi", "standards"]
    p1 = svc.add_person("Sara Ahmadi", "customs", group=g.name, role="chair")
    p2 = svc.add_person("Reza Karimi", "edbi", group=g.name)
    # 1404-12-10 Jalali is 2026-03-01 Gregorian (1 Farvardin 1405 = 2026-03-21)
    m = svc.record_meeting(g.name, "2026-03-01", title="Weekly", minutes="Reviewed targets",
                           attendees=["Sara Ahmadi", p2.id])
    assert m.date == dt.date(2026, 3, 1) and m.date_jalali == "1404-12-10"
    assert {p.full_name for p in m.attendees} == {"Sara Ahmadi", "Reza Karimi"}
    d = svc.add_decision(m.id, "Ask customs for weekly data")
    assert [x.text for x in svc.meeting(m.id).decisions] == [d.text]
    assert svc.meetings(g.name, dt.date(2026, 3, 1), dt.date(2026, 3, 1))[0].id == m.id
    assert svc.meetings(g.name, dt.date(2026, 3, 2)) == []
    assert p1.role == "chair"
    svc.update_meeting(m.id, "sara", minutes="Reviewed targets; customs to send data", attendees=["Sara Ahmadi"])
    m2 = svc.meeting(m.id)
    assert m2.minutes.endswith("send data") and [p.full_name for p in m2.attendees] == ["Sara Ahmadi"]
    assert {(r.field, r.old_value, r.new_value) for r in svc.audit("meetings", m.id) if r.action == "update"} == {
        ("minutes", "Reviewed targets", "Reviewed targets; customs to send data"),
        ("attendees", "Reza Karimi;Sara Ahmadi", "Sara Ahmadi")}
    national = svc.create_group("National working group")
    assert national.scope == "national" and svc.group_for_province(None).id == national.id
    assert svc.group_for_province("TEHRAN").id == g.id and svc.group_for_province("Fars") is None


def test_unknown_names_and_bad_values(svc):
    _group_with_action(svc)
    with pytest.raises(UnknownNameError, match="unknown working group 'Nowhere'"):
        svc.group("Nowhere")
    with pytest.raises(UnknownNameError, match="known institutions: agriculture"):
        svc.institution("ministry of magic")
    with pytest.raises(UnknownNameError, match="action status"):
        svc.add_action("Tehran", "x", "customs", status="finished")
    with pytest.raises(TradepulseError, match="bad deadline"):
        svc.add_action("Tehran", "x", "customs", "01/03/2026")
    with pytest.raises(TradepulseError, match="already exists"):
        svc.create_group("Tehran working group", province="Tehran")
    with pytest.raises(TradepulseError, match="needs --province"):
        svc.create_group("X", scope="province")


def test_update_action_audits_old_and_new(svc):
    _, a = _group_with_action(svc)
    assert a.version == 1
    b = svc.update_action(a.id, 1, "bob", status="done", owner="edbi", deadline="2026-03-05",
                          today=dt.date(2026, 3, 4))
    assert (b.version, b.status, b.owner.code, b.deadline, b.completed_on) == \
        (2, "done", "edbi", dt.date(2026, 3, 5), dt.date(2026, 3, 4))
    rows = {(r.field, r.old_value, r.new_value) for r in svc.audit("action_items", a.id)
            if r.action == "update"}
    assert rows == {("status", "open", "done"), ("owner", "customs", "edbi"),
                    ("deadline", "2026-03-01", "2026-03-05"), ("completed_on", None, "2026-03-04")}
    assert all(r.actor == "bob" and r.at is not None for r in svc.audit("action_items", a.id)[1:])
    # an update that changes nothing keeps the version and writes no audit row
    n = len(svc.audit())
    assert svc.update_action(a.id, 2, "bob", status="done").version == 2 and len(svc.audit()) == n
    # reopening clears completed_on
    c = svc.update_action(a.id, 2, "bob", status="in_progress")
    assert c.version == 3 and c.completed_on is None


def test_stale_version_raises_conflict(svc):
    _, a = _group_with_action(svc)
    svc.update_action(a.id, 1, "alice", note="first")
    with pytest.raises(ConflictError, match="version 1, it is now version 2"):
        svc.update_action(a.id, 1, "bob", note="second")
    assert svc.action(a.id).note == "first"


def test_conflict_when_row_changes_between_read_and_write(factory):
    """The race the version check alone cannot catch: writer A has read version 1 and passed its check,
    writer B commits before A's UPDATE runs.  A's ``UPDATE ... WHERE version = 1`` matches no row, so A
    gets ConflictError and B's value survives."""
    with factory() as sa_, factory() as sb_:
        a_svc, b_svc = GroupService(sa_), GroupService(sb_)
        a_svc.ensure_seed_institutions("t")
        _, item = _group_with_action(a_svc)
        fired = []

        def before(conn, cursor, statement, params, context, executemany):
            if statement.lstrip().upper().startswith("UPDATE ACTION_ITEMS") and not fired:
                fired.append(1)
                b_svc.update_action(item.id, 1, "bob", note="bob wins")

        engine = factory.kw["bind"]
        conn = sa_.connection()
        event.listen(conn, "before_cursor_execute", before)
        try:
            with pytest.raises(ConflictError):
                a_svc.update_action(item.id, 1, "alice", note="alice loses")
        finally:
            event.remove(conn, "before_cursor_execute", before)
        assert fired and engine is not None
        fresh = b_svc.action(item.id)
        assert (fresh.note, fresh.version) == ("bob wins", 2)
        notes = [r.new_value for r in b_svc.audit("action_items", item.id) if r.field == "note"]
        assert notes == ["bob wins"]


def test_concurrent_writers_threads(factory):
    """Six threads, each with its own session, all read version 1 then write at once: exactly one
    succeeds, five get ConflictError, and the stored note is the winner's."""
    with factory() as s:
        svc = GroupService(s)
        svc.ensure_seed_institutions("t")
        _, item = _group_with_action(svc)
    n = 6
    barrier = threading.Barrier(n)
    results: dict[int, str] = {}

    def writer(i: int) -> None:
        with factory() as session:
            w = GroupService(session)
            seen = w.action(item.id).version
            barrier.wait()
            try:
                w.update_action(item.id, seen, f"writer{i}", note=f"note {i}")
                results[i] = "ok"
            except ConflictError:
                results[i] = "conflict"
            except Exception as exc:  # pragma: no cover - reported by the assertion below
                results[i] = repr(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results.values()) == ["conflict"] * (n - 1) + ["ok"], results
    winner = next(i for i, r in results.items() if r == "ok")
    with factory() as s:
        svc = GroupService(s)
        final = svc.action(item.id)
        assert (final.version, final.note) == (2, f"note {winner}")
        assert [(r.actor, r.new_value) for r in svc.audit("action_items", item.id) if r.field == "note"] == \
            [(f"writer{winner}", f"note {winner}")]


def test_overdue_due_and_done(svc):
    """As of 2026-03-10: deadline 03-01 open → overdue; 03-10 (same day) is due, not overdue; done and
    cancelled items are never overdue."""
    g, a = _group_with_action(svc)                                   # deadline 2026-03-01, open
    b = svc.add_action(g.name, "due today", "edbi", "2026-03-10")
    c = svc.add_action(g.name, "done late", "edbi", "2026-02-01", status="done", completed_on="2026-03-08")
    svc.add_action(g.name, "cancelled", "edbi", "2026-02-01", status="cancelled")
    svc.add_action(g.name, "no deadline", "edbi")
    as_of = dt.date(2026, 3, 10)
    assert [x.id for x in svc.overdue_actions(as_of)] == [a.id]
    assert [x.id for x in svc.overdue_actions(as_of, group="Tehran")] == [a.id]
    assert [x.id for x in svc.actions_due(dt.date(2026, 3, 7), dt.date(2026, 3, 13))] == [b.id]
    assert [x.id for x in svc.actions_done(dt.date(2026, 3, 7), dt.date(2026, 3, 13))] == [c.id]
    assert svc.actions_done(dt.date(2026, 3, 9), dt.date(2026, 3, 13)) == []
    assert len(svc.actions(group=g.id, status=["open", "in_progress"])) == 3


def test_users_argon2(svc):
    u = svc.create_user("maryam", "saffron-harbour-71", "secretary")
    assert u.password_hash.startswith("$argon2id$") and "saffron" not in u.password_hash
    assert svc.authenticate("maryam", "saffron-harbour-71").role == "secretary"
    assert svc.authenticate("maryam", "wrong") is None
    assert svc.authenticate("nobody", "saffron-harbour-71") is None
    with pytest.raises(UnknownNameError, match="unknown role 'boss'"):
        svc.create_user("x", "y", "boss")
    with pytest.raises(TradepulseError, match="already exists"):
        svc.create_user("maryam", "another-long-passphrase")
    assert svc.set_role("maryam", "admin", actor="root").can_edit()
    assert [(r.field, r.old_value, r.new_value) for r in svc.audit("users") if r.action == "update"] == \
        [("role", "secretary", "admin")]


def test_csv_round_trip_and_errors(svc, factory, tmp_path, groups_url):
    """export → import into an empty database → export gives the same content (refs renumbered)."""
    import pandas as pd

    from tradepulse.groups.csvio import export_csv, import_csv
    from tradepulse.groups.seed import seed_demo

    seed_demo(groups_url, ("Tehran", "Fars"), today=dt.date(2026, 3, 10), users=False)
    counts = export_csv(svc, tmp_path / "a")
    assert counts["groups"] == 3 and counts["actions"] == 27 and counts["meetings"] == 12

    other = session_factory(f"sqlite:///{tmp_path / 'other.sqlite'}")
    with other() as s2:
        assert import_csv(GroupService(s2), tmp_path / "a").added == counts
        export_csv(GroupService(s2), tmp_path / "b")
    other.kw["bind"].dispose()

    def canon(folder):
        out = {}
        for name in ("institutions", "groups", "people"):
            out[name] = pd.read_csv(folder / f"{name}.csv", dtype=str).fillna("").sort_values(
                list(pd.read_csv(folder / f"{name}.csv", nrows=0).columns)).reset_index(drop=True)
        m = pd.read_csv(folder / "meetings.csv", dtype=str).fillna("")
        d = pd.read_csv(folder / "decisions.csv", dtype=str).fillna("")
        a = pd.read_csv(folder / "actions.csv", dtype=str).fillna("")
        d = d.merge(m[["id", "group", "date", "title"]].rename(columns={"id": "meeting_id"}), on="meeting_id")
        a = a.merge(d[["id", "text"]].rename(columns={"id": "decision_id"}), on="decision_id", how="left")
        out["meetings"] = m.drop(columns="id").sort_values(["group", "date"]).reset_index(drop=True)
        out["decisions"] = d.drop(columns=["id", "meeting_id"]).sort_values(["group", "date"]).reset_index(drop=True)
        out["actions"] = a.drop(columns=["id", "decision_id"]).fillna("").sort_values(
            ["group", "title", "deadline"]).reset_index(drop=True)
        return out

    ca, cb = canon(tmp_path / "a"), canon(tmp_path / "b")
    for name in ca:
        pd.testing.assert_frame_equal(ca[name], cb[name], obj=name)

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "institutions.csv").write_text("code,name_en,name_fa,kind\nnewinst,New,,government\n")
    (bad / "actions.csv").write_text(
        "ref,group,decision_ref,title,owner,deadline,status,target_id,indicator,note,completed_on,version\n"
        "1,Tehran working group,,ok,customs,2026-03-01,open,,,,,1\n"
        "2,Tehran working group,,bad,customs,2026-03-01,finished,,,,,1\n")
    with pytest.raises(InputError) as info:
        import_csv(svc, bad)
    assert (info.value.line, info.value.column) == (3, "status") and info.value.file.endswith("actions.csv")
    # all or nothing: neither the institution nor the good action were written
    with pytest.raises(UnknownNameError):
        svc.institution("newinst")
    assert len(svc.actions(group="Tehran")) == 9


def test_import_actions_csv_alone(svc, tmp_path):
    """actions.csv without decisions.csv (the web upload): decision_ref is a decision id of this database;
    missing optional columns are allowed; rows are added as new items at version 1."""
    from tradepulse.groups.csvio import import_csv

    g, _ = _group_with_action(svc)
    m = svc.record_meeting(g.name, "2026-03-01")
    d = svc.add_decision(m.id, "Do it")
    folder = tmp_path / "up"
    folder.mkdir()
    (folder / "actions.csv").write_text(
        "group,decision_ref,title,owner,deadline,status,version\n"
        f"Tehran working group,{d.id},Call the exporters,edbi,2026-04-01,in_progress,7\n", encoding="utf-8")
    assert import_csv(svc, folder, actor="web").added["actions"] == 1
    new = [a for a in svc.actions(group=g.id) if a.title == "Call the exporters"][0]
    assert (new.decision_id, new.version, new.status, new.owner.code) == (d.id, 1, "in_progress", "edbi")
    assert svc.audit("action_items", new.id)[0].actor == "web"
    (folder / "actions.csv").write_text(
        "group,decision_ref,title,owner\nTehran working group,999,x,edbi\n", encoding="utf-8")
    with pytest.raises(InputError, match="no decision '999' in the database"):
        import_csv(svc, folder)
    (folder / "actions.csv").write_text("group,title\nTehran working group,y\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column"):
        import_csv(svc, folder)


def test_seed_demo_has_overdue_due_and_done(groups_url):
    from tradepulse.groups.seed import seed_demo

    today = dt.date(2026, 3, 11)                  # a Wednesday; its week started Saturday 2026-03-07
    counts = seed_demo(groups_url, ("Tehran",), today=today)
    assert counts == {"groups": 2, "people": 10, "meetings": 8, "decisions": 8, "actions": 18, "users": 3}
    f = session_factory(groups_url)
    with f() as s:
        svc = GroupService(s)
        for g in svc.groups():
            assert svc.overdue_actions(today, group=g.id)
            assert svc.actions_due(today, dt.date(2026, 3, 13), group=g.id)
            assert svc.actions_done(dt.date(2026, 3, 7), today, group=g.id)
            assert [m.date.weekday() for m in svc.meetings(g.id)] == [5, 5, 5, 5]    # Saturdays
        assert svc.authenticate("admin", "admin-demo").role == "admin"
    f.kw["bind"].dispose()
    assert seed_demo(groups_url, ("Tehran",), today=today)["groups"] == 0      # idempotent


def test_cli_groups(tmp_path, monkeypatch):
    """The CLI end to end on SQLite: create, add, record, update with a stale version, list, audit, CSV."""
    import typer
    from typer.testing import CliRunner

    from tradepulse.cli.common import console
    from tradepulse.cli.groups import register

    monkeypatch.setattr(console, "_width", 250)        # wide tables, no folding in assertions

    app = typer.Typer()
    register(app)
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    run = CliRunner().invoke

    def ok(*args):
        r = run(app, ["groups", *args, "--db", db], catch_exceptions=False)
        assert r.exit_code == 0, r.output
        return r.output

    assert "8 institutions" in ok("init")
    ok("create-group", "Fars working group", "--province", "Fars", "--member", "customs", "--member", "edbi")
    ok("add-member", "Fars", "standards")
    ok("add-person", "Ali Rezaei", "customs", "--group", "Fars", "--role", "chair")
    assert "1404-12-10 Jalali" in ok("record-meeting", "Fars", "2026-03-01", "--attendee", "Ali Rezaei")
    ok("add-decision", "1", "Collect border data")
    assert "1 attendees" in ok("update-meeting", "1", "--minutes", "Short", "--title", "First")
    ok("add-action", "Fars", "Collect border data", "--owner", "customs", "--deadline", "2026-03-05",
       "--decision", "1", "--indicator", "lost_markets", "--actor", "ali")
    assert "version 2" in ok("update-action", "1", "--version", "1", "--status", "in_progress", "--actor", "ali")
    r = run(app, ["groups", "update-action", "1", "--version", "1", "--note", "late", "--db", db])
    assert r.exit_code == 2 and "changed by someone else" in r.output
    out = ok("list-actions", "--overdue", "--as-of", "2026-03-10")
    assert "Collect border data" in out and "(1)" in out
    assert "(0)" in ok("list-actions", "--overdue", "--as-of", "2026-03-05")
    assert "Short" in ok("audit", "--entity", "meetings")
    audit = ok("audit", "--entity", "action_items")
    assert "in_progress" in audit and "ali" in audit
    ok("export-csv", str(tmp_path / "dump"))
    assert (tmp_path / "dump" / "actions.csv").read_text().count("Collect border data") == 1
    r = run(app, ["groups", "add-action", "Nowhere", "x", "--owner", "customs", "--db", db])
    assert r.exit_code == 2 and "unknown working group 'Nowhere'" in r.output


def test_version_property_random_edit_sequences():
    """Property (Hypothesis, in-memory SQLite): for any sequence of edits, each made with either the current
    or a stale version, an edit succeeds iff its version is current and it changes something; the final
    version = 1 + successful edits, and the audit holds exactly one row per changed field."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    edit = st.tuples(st.booleans(), st.sampled_from(["open", "in_progress", "done", "cancelled"]),
                     st.sampled_from(["", "a", "b"]))

    @settings(max_examples=25, deadline=None)
    @given(st.lists(edit, min_size=1, max_size=8))
    def run(edits):
        f = session_factory("sqlite://")
        with f() as s:
            svc = GroupService(s)
            svc.ensure_seed_institutions("t")
            _, a = _group_with_action(svc)
            version, ok, fields = 1, 0, 0
            status, note = "open", ""
            for stale, new_status, new_note in edits:
                use = version - 1 if stale else version
                changed = (new_status != status) + (new_note != note) + \
                    (new_status != status and "done" in (new_status, status))   # completed_on follows done
                try:
                    svc.update_action(a.id, use, "p", status=new_status, note=new_note)
                    assert not stale
                    if changed:
                        version, ok, fields = version + 1, ok + 1, fields + changed
                        status, note = new_status, new_note
                except ConflictError:
                    assert stale
            final = svc.action(a.id)
            assert (final.version, final.status, final.note) == (1 + ok, status, note)
            assert len([r for r in svc.audit("action_items", a.id) if r.action == "update"]) == fields
        f.kw["bind"].dispose()

    run()
