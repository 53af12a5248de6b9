"""CSV export and import of the working-group database (UTF-8, one file per table, header row).

Files (natural keys instead of database ids, so a dump loads into any database):

- ``institutions.csv``: code, name_en, name_fa, kind
- ``groups.csv``: name, name_fa, scope, province, secretariat, members (institution codes joined by ``;``)
- ``people.csv``: full_name, institution, group, role, email
- ``meetings.csv``: ref, group, date (Gregorian YYYY-MM-DD), date_jalali (informative, ignored on import),
  title, minutes, attendees (full names joined by ``;``)
- ``decisions.csv``: ref, meeting_ref, text
- ``actions.csv``: ref, group, decision_ref, title, owner, deadline, deadline_jalali (ignored on import),
  status, target_id, indicator, note, completed_on, version

``ref`` columns are the ids in the exporting database, used only to link rows across files.  Import adds
the rows (existing institutions, groups and people with the same key are reused) in one transaction;
imported action items are new records (version 1; the ``version`` column is informative).  When
``actions.csv`` comes without ``decisions.csv``, ``decision_ref`` must be a decision id of the target
database (the case of re-importing an edited export into the same database — which adds the rows again,
it does not update existing ones);
any bad row raises :class:`~tradepulse.errors.InputError` with file, line and column and nothing is
written.  Import is audited like any other change.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from tradepulse.errors import InputError, TradepulseError
from tradepulse.groups.models import ACTION_STATUSES
from tradepulse.groups.service import GroupService

FILES = {
    "institutions": ["code", "name_en", "name_fa", "kind"],
    "groups": ["name", "name_fa", "scope", "province", "secretariat", "members"],
    "people": ["full_name", "institution", "group", "role", "email"],
    "meetings": ["ref", "group", "date", "date_jalali", "title", "minutes", "attendees"],
    "decisions": ["ref", "meeting_ref", "text"],
    "actions": ["ref", "group", "decision_ref", "title", "owner", "deadline", "deadline_jalali", "status",
                "target_id", "indicator", "note", "completed_on", "version"],
}
#: Columns that may be missing on import.
OPTIONAL = {"ref", "date_jalali", "deadline_jalali", "version", "decision_ref", "target_id", "indicator", "note",
            "completed_on", "email", "name_fa", "kind", "members", "secretariat", "scope", "province",
            "minutes", "attendees", "title", "role", "group", "deadline", "status"}


def _d(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def export_csv(svc: GroupService, out_dir: str | Path) -> dict[str, int]:
    """Write the six CSV files into ``out_dir``; returns rows written per file."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[list]] = {
        "institutions": [[i.code, i.name_en, i.name_fa, i.kind] for i in svc.institutions()],
        "groups": [[g.name, g.name_fa, g.scope, g.province or "", g.secretariat.code if g.secretariat else "",
                    ";".join(m.code for m in g.members)] for g in svc.groups()],
        "people": [[p.full_name, p.institution.code, p.group.name if p.group else "", p.role, p.email or ""]
                   for p in svc.people()],
        "meetings": [[m.id, m.group.name, _d(m.date), m.date_jalali, m.title, m.minutes,
                      ";".join(p.full_name for p in m.attendees)] for m in svc.meetings()],
        "decisions": [[d.id, d.meeting_id, d.text] for d in svc.decisions()],
        "actions": [[a.id, a.group.name, a.decision_id or "", a.title, a.owner.code, _d(a.deadline),
                     a.deadline_jalali, a.status, a.target_id or "", a.indicator or "", a.note,
                     _d(a.completed_on), a.version] for a in svc.actions()],
    }
    for name, header in FILES.items():
        with open(out / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows[name])
    return {k: len(v) for k, v in rows.items()}


def _read(path: Path, header: list[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows of one CSV file (UTF-8, BOM optional); any other encoding, binary content or a malformed CSV
    (e.g. a field over the csv module's limit) is an :class:`InputError` naming the file and line."""
    if not path.exists():
        return []
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise InputError("not a text file (it contains NUL bytes); save it as CSV UTF-8", file=str(path))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as CSV UTF-8",
                         file=str(path), line=line) from None
    import io
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        missing = [c for c in header if c not in (reader.fieldnames or []) and c not in OPTIONAL]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)}; expected {', '.join(header)}",
                             file=str(path), line=1, column=missing[0])
        return [(i + 2, {**{c: "" for c in header}, **{k: (v or "").strip() if isinstance(v, str) else ""
                                                          for k, v in row.items() if k}})
                for i, row in enumerate(reader)]
    except csv.Error as exc:
        raise InputError(f"malformed CSV ({exc})", file=str(path), line=reader.line_num) from None


def import_csv(svc: GroupService, in_dir: str | Path, actor: str = "csv-import") -> dict[str, int]:
    """Load the CSV files in ``in_dir`` (those present); returns rows added per file."""
    from tradepulse.groups.models import ActionItem, Decision, Institution, Meeting, Person, WorkingGroup
    from sqlalchemy import select

    src = Path(in_dir)
    if not src.is_dir():
        raise TradepulseError(f"{src} is not a directory of CSV files")
    s = svc.s
    added = {k: 0 for k in FILES}

    def fail(name: str, line: int, column: str, msg: str):
        s.rollback()
        raise InputError(msg, file=str(src / f"{name}.csv"), line=line, column=column)

    def day(name: str, line: int, column: str, value: str) -> dt.date | None:
        if not value:
            return None
        try:
            d = dt.date.fromisoformat(value[:32])
        except ValueError:
            fail(name, line, column, f"bad date {value[:32]!r}: use YYYY-MM-DD (Gregorian)")
        if not 1900 <= d.year <= 2100:
            fail(name, line, column, f"date {value} is out of range: use a date from 1900 to 2100")
        return d

    def lookup(model, column, value, name, line, col, kind):
        obj = s.scalar(select(model).where(column == value))
        if obj is None:
            fail(name, line, col, f"unknown {kind} {value!r}")
        return obj

    data = {name: _read(src / f"{name}.csv", header) for name, header in FILES.items()}
    try:
        for line, r in data["institutions"]:
            if not r["code"]:
                fail("institutions", line, "code", "empty institution code")
            if s.scalar(select(Institution).where(Institution.code == r["code"])) is None:
                inst = Institution(code=r["code"], name_en=r["name_en"] or r["code"], name_fa=r["name_fa"],
                                   kind=r["kind"] or "government")
                s.add(inst)
                svc._created(actor, inst, r)
                added["institutions"] += 1
        s.flush()
        for line, r in data["groups"]:
            grp = s.scalar(select(WorkingGroup).where(WorkingGroup.name == r["name"]))
            if grp is None:
                scope = r["scope"] or ("province" if r["province"] else "national")
                if scope not in ("province", "national"):
                    fail("groups", line, "scope", f"scope must be province or national, not {scope!r}")
                sec = lookup(Institution, Institution.code, r["secretariat"], "groups", line, "secretariat",
                             "institution") if r["secretariat"] else None
                grp = WorkingGroup(name=r["name"], name_fa=r["name_fa"], scope=scope,
                                   province=r["province"] or None, secretariat=sec)
                s.add(grp)
                svc._created(actor, grp, r)
                added["groups"] += 1
            for code in filter(None, r["members"].split(";")):
                inst = lookup(Institution, Institution.code, code.strip(), "groups", line, "members", "institution")
                svc._add_member(grp, inst, actor)
        s.flush()
        for line, r in data["people"]:
            inst = lookup(Institution, Institution.code, r["institution"], "people", line, "institution",
                          "institution")
            if s.scalar(select(Person).where(Person.full_name == r["full_name"],
                                             Person.institution_id == inst.id)) is None:
                grp = lookup(WorkingGroup, WorkingGroup.name, r["group"], "people", line, "group",
                             "working group") if r["group"] else None
                p = Person(full_name=r["full_name"], institution=inst, group=grp, role=r["role"] or "member",
                           email=r["email"] or None)
                s.add(p)
                svc._created(actor, p, r)
                added["people"] += 1
        s.flush()
        meetings: dict[str, Meeting] = {}
        for line, r in data["meetings"]:
            grp = lookup(WorkingGroup, WorkingGroup.name, r["group"], "meetings", line, "group", "working group")
            when = day("meetings", line, "date", r["date"])
            if when is None:
                fail("meetings", line, "date", "a meeting needs a date")
            people = [lookup(Person, Person.full_name, n.strip(), "meetings", line, "attendees", "person")
                      for n in r["attendees"].split(";") if n.strip()]
            m = Meeting(group=grp, date=when, title=r["title"], minutes=r["minutes"], attendees=people)
            s.add(m)
            svc._created(actor, m, {k: v for k, v in r.items() if k != "date_jalali"})
            meetings[r["ref"]] = m
            added["meetings"] += 1
        decisions: dict[str, Decision] = {}
        for line, r in data["decisions"]:
            if r["meeting_ref"] not in meetings:
                fail("decisions", line, "meeting_ref", f"no meeting with ref {r['meeting_ref']!r} in meetings.csv")
            d = Decision(meeting=meetings[r["meeting_ref"]], text=r["text"])
            s.add(d)
            svc._created(actor, d, r)
            decisions[r["ref"]] = d
            added["decisions"] += 1
        for line, r in data["actions"]:
            grp = lookup(WorkingGroup, WorkingGroup.name, r["group"], "actions", line, "group", "working group")
            owner = lookup(Institution, Institution.code, r["owner"], "actions", line, "owner", "institution")
            status = r["status"] or "open"
            if status not in ACTION_STATUSES:
                fail("actions", line, "status", f"status must be one of {', '.join(ACTION_STATUSES)}, not {status!r}")
            decision_id = None
            if r["decision_ref"]:
                if data["decisions"]:
                    if r["decision_ref"] not in decisions:
                        fail("actions", line, "decision_ref",
                             f"no decision with ref {r['decision_ref']!r} in decisions.csv")
                    s.flush()
                    decision_id = decisions[r["decision_ref"]].id
                else:   # actions.csv alone: the ref is a decision id of this database
                    ok = r["decision_ref"].isdigit() and s.get(Decision, int(r["decision_ref"])) is not None
                    if not ok:
                        fail("actions", line, "decision_ref",
                             f"no decision {r['decision_ref']!r} in the database (and no decisions.csv)")
                    decision_id = int(r["decision_ref"])
            a = ActionItem(group=grp, title=r["title"], owner=owner, status=status,
                           deadline=day("actions", line, "deadline", r["deadline"]),
                           completed_on=day("actions", line, "completed_on", r["completed_on"]),
                           target_id=r["target_id"] or None, indicator=r["indicator"] or None,
                           note=r["note"], version=1, decision_id=decision_id)
            s.add(a)
            svc._created(actor, a, {k: v for k, v in r.items() if k != "deadline_jalali"})
            added["actions"] += 1
        s.commit()
    except InputError:
        raise
    except Exception:
        s.rollback()
        raise
    return added
