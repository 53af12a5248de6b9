"""CLI commands: ``tradepulse groups ...`` — working groups, meetings, action items, CSV, audit."""

from __future__ import annotations

import datetime as dt
import getpass
from contextlib import contextmanager
from pathlib import Path
from typing import List, Optional

import typer

from tradepulse.cli.common import console, friendly_errors

groups_app = typer.Typer(name="groups", help="Provincial working groups: members, meetings, decisions, "
                         "action items, CSV import/export and the audit log.", no_args_is_help=True)

DbOption = typer.Option(None, "--groups-db", "--db", help="Groups database: a SQLite file path or an "
                        "SQLAlchemy URL (default: $TRADEPULSE_GROUPS_DB, else groups.sqlite in ~/.tradepulse).")
CalendarOption = typer.Option("auto", "--calendar", help="Calendar of typed dates: auto (year < 1700 is "
                              "Solar Hijri, e.g. 1405-09-16; else Gregorian, e.g. 2026-12-07), sh or gregorian.")
ActorOption = typer.Option(None, "--actor", help="Name recorded in the audit log (default: your login).")


def _actor(actor: Optional[str]) -> str:
    if actor:
        return actor
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no login name in some containers
        return "cli"


@contextmanager
def _service(db: Optional[str]):
    from tradepulse.groups.db import groups_url, session_factory
    from tradepulse.groups.service import GroupService
    factory = session_factory(groups_url(db))
    try:
        with factory() as session:
            yield GroupService(session)
    finally:
        factory.kw["bind"].dispose()


def _date(value: Optional[str], what: str, calendar: str = "auto") -> Optional[dt.date]:
    """A typed date (Solar Hijri when the year < 1700 unless ``--calendar``) → Gregorian; one-line error."""
    from tradepulse.groups.dates import parse_day
    return parse_day(value, calendar, what)


def _actions_table(actions, title: str, as_of: dt.date):
    from rich.table import Table
    t = Table(title=title)
    for col in ("id", "v", "group", "title", "owner", "deadline", "jalali", "status", "link"):
        t.add_column(col, overflow="fold", no_wrap=col in ("id", "v", "deadline", "jalali"),
                     min_width=12 if col == "title" else None)
    for a in actions:
        style = "red" if a.is_overdue(as_of) else None
        t.add_row(str(a.id), str(a.version), a.group.name, a.title, a.owner.code,
                  a.deadline.isoformat() if a.deadline else "", a.deadline_jalali, a.status,
                  a.target_id or a.indicator or "", style=style)
    return t


@groups_app.command("init")
@friendly_errors
def init(db: Optional[str] = DbOption, actor: Optional[str] = ActorOption,
         demo: bool = typer.Option(False, "--demo", help="Also create SYNTHETIC demo groups, meetings and actions."),
         province: Optional[List[str]] = typer.Option(None, "--province", help="Provinces for --demo (repeat).")):
    """Create or upgrade the database (Alembic migrations) and the seed institutions."""
    with _service(db) as svc:
        insts = svc.ensure_seed_institutions(_actor(actor))
    console.print(f"groups database ready: {len(insts)} institutions")
    if demo:
        from tradepulse.groups.seed import DEFAULT_PROVINCES, seed_demo
        counts = seed_demo(db, tuple(province) if province else DEFAULT_PROVINCES, actor=_actor(actor))
        console.print("demo data (SYNTHETIC): " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@groups_app.command("create-group")
@friendly_errors
def create_group(name: str = typer.Argument(..., help="Group name, e.g. 'Khorasan Razavi working group'."),
                 province: Optional[str] = typer.Option(None, "--province", help="Province (omit for national)."),
                 name_fa: str = typer.Option("", "--name-fa", help="Persian name."),
                 secretariat: str = typer.Option("tpo", "--secretariat", help="Secretariat institution code."),
                 member: Optional[List[str]] = typer.Option(None, "--member", help="Member institution (repeat)."),
                 db: Optional[str] = DbOption, actor: Optional[str] = ActorOption):
    """Create a provincial (--province) or national working group."""
    with _service(db) as svc:
        g = svc.create_group(name, province=province, name_fa=name_fa, secretariat=secretariat,
                             members=member or (), actor=_actor(actor))
        console.print(f"created group {g.id}: {g.name} ({g.scope})")


@groups_app.command("add-member")
@friendly_errors
def add_member(group: str, institution: str, db: Optional[str] = DbOption, actor: Optional[str] = ActorOption):
    """Add a member institution (code or name) to a group."""
    with _service(db) as svc:
        g = svc.add_member(group, institution, actor=_actor(actor))
        console.print(f"{g.name}: members " + ", ".join(m.code for m in g.members))


@groups_app.command("add-person")
@friendly_errors
def add_person(full_name: str, institution: str,
               group: Optional[str] = typer.Option(None, "--group"),
               role: str = typer.Option("member", "--role", help="chair, secretary, member, focal_point ..."),
               email: Optional[str] = typer.Option(None, "--email"),
               db: Optional[str] = DbOption, actor: Optional[str] = ActorOption):
    """Add a person working for an institution, optionally with a role in a group."""
    with _service(db) as svc:
        p = svc.add_person(full_name, institution, group=group, role=role, email=email, actor=_actor(actor))
        console.print(f"added person {p.id}: {p.full_name} ({p.institution.code}, {p.role})")


@groups_app.command("record-meeting")
@friendly_errors
def record_meeting(group: str, date: str = typer.Argument(..., help="Date YYYY-MM-DD: Solar Hijri when the "
                                                         "year < 1700 (1405-09-16), else Gregorian."),
                   title: str = typer.Option("", "--title"), minutes: str = typer.Option("", "--minutes"),
                   minutes_file: Optional[Path] = typer.Option(None, "--minutes-file", exists=True),
                   attendee: Optional[List[str]] = typer.Option(None, "--attendee", help="Person name (repeat)."),
                   absent: Optional[List[str]] = typer.Option(None, "--absent", help="Absent person (repeat)."),
                   calendar: str = CalendarOption,
                   db: Optional[str] = DbOption, actor: Optional[str] = ActorOption):
    """Record a meeting with attendees (present / absent) and minutes."""
    text = minutes_file.read_text(encoding="utf-8") if minutes_file else minutes
    with _service(db) as svc:
        m = svc.record_meeting(group, _date(date, "date", calendar), title=title, minutes=text,
                               attendees=attendee or (), absent=absent or (), actor=_actor(actor))
        console.print(f"recorded meeting {m.id} on {m.date} ({m.date_jalali} Jalali), "
                      f"{len(m.attendees)} attendees")


@groups_app.command("update-meeting")
@friendly_errors
def update_meeting(meeting_id: int, title: Optional[str] = typer.Option(None, "--title"),
                   minutes: Optional[str] = typer.Option(None, "--minutes"),
                   minutes_file: Optional[Path] = typer.Option(None, "--minutes-file", exists=True),
                   date: Optional[str] = typer.Option(None, "--date", help="YYYY-MM-DD (SH when year < 1700)."),
                   attendee: Optional[List[str]] = typer.Option(None, "--attendee", help="Replaces the list (repeat)."),
                   calendar: str = CalendarOption, db: Optional[str] = DbOption, actor: Optional[str] = ActorOption):
    """Change a meeting's title, minutes, date or attendees (audited)."""
    text = minutes_file.read_text(encoding="utf-8") if minutes_file else minutes
    with _service(db) as svc:
        m = svc.update_meeting(meeting_id, _actor(actor), title=title, minutes=text,
                               date=_date(date, "date", calendar),
                               attendees=attendee)
        console.print(f"meeting {m.id} on {m.date} ({m.date_jalali} Jalali), {len(m.attendees)} attendees")


@groups_app.command("add-decision")
@friendly_errors
def add_decision(meeting_id: int, text: str, db: Optional[str] = DbOption, actor: Optional[str] = ActorOption):
    """Add a decision to a meeting."""
    with _service(db) as svc:
        d = svc.add_decision(meeting_id, text, actor=_actor(actor))
        console.print(f"added decision {d.id} to meeting {meeting_id}")


@groups_app.command("add-action")
@friendly_errors
def add_action(group: str, title: str,
               owner: str = typer.Option(..., "--owner", help="Owner institution code or name."),
               deadline: Optional[str] = typer.Option(None, "--deadline", help="YYYY-MM-DD (SH when year < 1700)."),
               decision: Optional[int] = typer.Option(None, "--decision", help="Decision id."),
               target: Optional[str] = typer.Option(None, "--target", help="Linked roadmap target id."),
               indicator: Optional[str] = typer.Option(None, "--indicator", help="Linked indicator name."),
               status: str = typer.Option("open", "--status"), calendar: str = CalendarOption,
               db: Optional[str] = DbOption, actor: Optional[str] = ActorOption):
    """Add an action item."""
    with _service(db) as svc:
        a = svc.add_action(group, title, owner, _date(deadline, "deadline", calendar), decision_id=decision, status=status,
                           target_id=target, indicator=indicator, actor=_actor(actor))
        console.print(f"added action {a.id} (version {a.version})")


@groups_app.command("update-action")
@friendly_errors
def update_action(action_id: int,
                  version: int = typer.Option(..., "--version", help="The version you last saw (optimistic lock)."),
                  status: Optional[str] = typer.Option(None, "--status"),
                  deadline: Optional[str] = typer.Option(None, "--deadline"),
                  owner: Optional[str] = typer.Option(None, "--owner"),
                  title: Optional[str] = typer.Option(None, "--title"),
                  note: Optional[str] = typer.Option(None, "--note"),
                  target: Optional[str] = typer.Option(None, "--target"),
                  indicator: Optional[str] = typer.Option(None, "--indicator"),
                  calendar: str = CalendarOption,
                  db: Optional[str] = DbOption, actor: Optional[str] = ActorOption):
    """Change an action item; fails with a conflict if someone saved a newer version first."""
    changes = {k: v for k, v in dict(status=status, deadline=_date(deadline, "deadline", calendar), owner=owner, title=title, note=note,
                                     target_id=target, indicator=indicator).items() if v is not None}
    with _service(db) as svc:
        a = svc.update_action(action_id, version, _actor(actor), **changes)
        console.print(f"action {a.id} now version {a.version}: {a.status}")


@groups_app.command("list-actions")
@friendly_errors
def list_actions(group: Optional[str] = typer.Option(None, "--group"),
                 status: Optional[str] = typer.Option(None, "--status"),
                 overdue: bool = typer.Option(False, "--overdue", help="Only open items past their deadline."),
                 as_of: Optional[str] = typer.Option(None, "--as-of", help="Date for --overdue (default today)."),
                 calendar: str = CalendarOption, db: Optional[str] = DbOption):
    """List action items (overdue ones in red)."""
    day = _date(as_of, "date", calendar) or dt.date.today()
    with _service(db) as svc:
        items = svc.overdue_actions(day, group=group) if overdue else svc.actions(group=group, status=status)
        title = f"overdue actions as of {day}" if overdue else "actions"
        console.print(_actions_table(items, f"{title} ({len(items)})", day))


@groups_app.command("list-groups")
@friendly_errors
def list_groups(db: Optional[str] = DbOption):
    """List working groups with their members."""
    from rich.table import Table
    with _service(db) as svc:
        t = Table(title="working groups")
        for col in ("id", "name", "scope", "province", "secretariat", "members"):
            t.add_column(col)
        for g in svc.groups():
            t.add_row(str(g.id), g.name, g.scope, g.province or "", g.secretariat.code if g.secretariat else "",
                      ", ".join(m.code for m in g.members))
        console.print(t)


@groups_app.command("export-csv")
@friendly_errors
def export_csv(out_dir: Path = typer.Argument(..., help="Directory to write the CSV files into."),
               db: Optional[str] = DbOption):
    """Export the database as CSV files (institutions, groups, people, meetings, decisions, actions)."""
    from tradepulse.groups.csvio import export_csv as _export
    with _service(db) as svc:
        counts = _export(svc, out_dir)
    console.print(f"wrote {out_dir}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@groups_app.command("import-csv")
@friendly_errors
def import_csv(in_dir: Path = typer.Argument(..., help="Directory with CSV files as written by export-csv "
                                             "(or the web's actions / meetings downloads)."),
               dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; write nothing."),
               db: Optional[str] = DbOption, actor: Optional[str] = ActorOption):
    """Import CSV files idempotently: rows with an id update that record, others match their natural key;
    an unchanged export changes nothing (all or nothing; errors name file, line and column)."""
    from rich.table import Table

    from tradepulse.groups.csvio import import_csv as _import
    with _service(db) as svc:
        report = _import(svc, in_dir, actor=_actor(actor), dry_run=dry_run)
    if report.changes:
        t = Table(title="would change" if dry_run else "changes")
        for col in ("file", "line", "record", "field", "old", "new"):
            t.add_column(col, overflow="fold")
        for f, line, key, fld, old, new in report.changes:
            t.add_row(f, str(line), key, fld, old, new)
        console.print(t)
    console.print(report.summary())


@groups_app.command("audit")
@friendly_errors
def audit(entity: Optional[str] = typer.Option(None, "--entity", help="Table, e.g. action_items."),
          entity_id: Optional[int] = typer.Option(None, "--id"),
          limit: int = typer.Option(50, "--limit", help="Show the last N entries."),
          db: Optional[str] = DbOption):
    """Show the audit log: who changed what, when, old → new."""
    from rich.table import Table
    with _service(db) as svc:
        rows = svc.audit(entity, entity_id, limit=limit)
        t = Table(title=f"audit log (last {len(rows)})")
        for col in ("when (UTC)", "who", "entity", "id", "action", "field", "old", "new"):
            t.add_column(col, overflow="fold")
        for r in rows:
            t.add_row(r.at.strftime("%Y-%m-%d %H:%M:%S"), r.actor, r.entity, str(r.entity_id or ""), r.action,
                      r.field or "", r.old_value or "", r.new_value or "")
        console.print(t)


@groups_app.command("add-user")
@friendly_errors
def add_user(username: str, role: str = typer.Option("viewer", "--role", help="viewer, secretary or admin."),
             password: Optional[str] = typer.Option(None, "--password", help="Prompted when omitted."),
             db: Optional[str] = DbOption, actor: Optional[str] = ActorOption):
    """Create a web user (argon2 password hash)."""
    pw = password or typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with _service(db) as svc:
        u = svc.create_user(username, pw, role, actor=_actor(actor))
        console.print(f"created user {u.username} ({u.role})")


@groups_app.command("set-group-role")
@friendly_errors
def set_group_role(username: str, group: str,
                   role: str = typer.Argument(..., help="viewer, secretary or admin; 'none' removes it."),
                   db: Optional[str] = DbOption, actor: Optional[str] = ActorOption):
    """Give a user a role in one working group (a Tehran secretary edits Tehran only)."""
    with _service(db) as svc:
        svc.set_group_role(username, group, None if role == "none" else role, actor=_actor(actor))
        g = svc.group(group)
        console.print(f"{username} in {g.name}: {svc.role_in(username, g.id)}")


@groups_app.command("undo")
@friendly_errors
def undo(group: Optional[str] = typer.Option(None, "--group", help="Only a change in this group."),
         db: Optional[str] = DbOption, actor: Optional[str] = ActorOption):
    """Undo your last change (one unit of work: a meeting with its decisions and actions, an edit, an import)."""
    with _service(db) as svc:
        n = svc.undo_last(_actor(actor), group)
    console.print(f"undid {n} change(s)" if n else "nothing to undo")


SmtpOption = typer.Option(None, "--smtp-url", envvar="TRADEPULSE_SMTP_URL",
                          help="SMTP server: smtp://host[:port] or smtps://host[:port], with user:pw@ before the host and "
                               "?starttls=1&from=addr after it when needed.")


@groups_app.command("agenda")
@friendly_errors
def agenda(group: str, out: Path = typer.Option(..., "--out", "-o", help="agenda.pdf or agenda.html"),
           lang: str = typer.Option("fa", "--lang", help="fa or en."),
           as_of: Optional[str] = typer.Option(None, "--as-of", help="Reference day (SH when year < 1700)."),
           warehouse: Optional[Path] = typer.Option(None, "--warehouse", "-w", help="DuckDB warehouse file."),
           db: Optional[str] = DbOption):
    """Write the next meeting's agenda: overdue actions, actions due within 7 days, targets that changed
    status since the last meeting, latest indicator changes of the province."""
    from tradepulse.groups.db import groups_url
    from tradepulse.reports.agenda import agenda_pdf, build_agenda, render_agenda_html

    ag = build_agenda(warehouse, groups_url(db), group, as_of=_date(as_of, "--as-of"), lang=lang)
    if out.suffix.lower() == ".pdf":
        out.write_bytes(agenda_pdf(ag))
    else:
        out.write_text(render_agenda_html(ag), encoding="utf-8")
    console.print(f"wrote {out}: {len(ag.overdue)} overdue, {len(ag.due)} due within 7 days, "
                  f"{len(ag.targets_changed)} targets changed status, next meeting {ag.next_meeting}")


@groups_app.command("send")
@friendly_errors
def send(group: str, what: str = typer.Option("agenda", "--what", help="agenda or brief."),
         smtp_url: Optional[str] = SmtpOption, lang: str = typer.Option("fa", "--lang", help="fa or en."),
         warehouse: Optional[Path] = typer.Option(None, "--warehouse", "-w", help="DuckDB warehouse file."),
         db: Optional[str] = DbOption):
    """E-mail the agenda (PDF attached) or the weekly brief to the group's people who have an address."""
    from tradepulse.errors import TradepulseError
    from tradepulse.groups.db import groups_url
    from tradepulse.reports.mail import send_agenda, send_brief

    if not smtp_url:
        raise TradepulseError("no SMTP server: give --smtp-url smtp://host:port (or set TRADEPULSE_SMTP_URL)")
    if what not in ("agenda", "brief"):
        raise TradepulseError(f"--what must be agenda or brief, not {what!r}")
    fn = send_agenda if what == "agenda" else send_brief
    sent, subject = fn(smtp_url, warehouse, groups_url(db), group, lang=lang)
    console.print(f"sent {subject!r} to {len(sent)}: " + ", ".join(sent))


@groups_app.command("ics")
@friendly_errors
def ics(group: str, out: Path = typer.Option(..., "--out", "-o", help="group.ics"),
        lang: str = typer.Option("en", "--lang"), db: Optional[str] = DbOption):
    """Write the group's meetings and open deadlines as an iCalendar file."""
    from tradepulse.groups.ics import group_calendar
    with _service(db) as svc:
        out.write_bytes(group_calendar(svc, group, lang))
    console.print(f"wrote {out}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to app."""
    app.add_typer(groups_app, name="groups")
