"""CSV export and idempotent import of the working-group database (UTF-8, one file per table, header row).

Files (natural keys besides the ids, so a dump also loads into another database):

- ``institutions.csv``: code, name_en, name_fa, kind                       — key: code
- ``groups.csv``: name, name_fa, scope, province, secretariat, members      — key: name
- ``people.csv``: full_name, institution, group, role, email                — key: full_name + institution
- ``meetings.csv``: id, group, date (Gregorian), date_jalali (ignored), title, minutes, attendees (present,
  full names joined by ``;``), absent, version                               — key: id, else group + date + title
- ``decisions.csv``: id, meeting_id, text, owner, target_id                 — key: id, else meeting + text
- ``actions.csv``: id, group, decision_id, title, owner, deadline, deadline_jalali (ignored), status,
  target_id, indicator, note, completed_on, version                         — key: id, else group + title

**Idempotent import** (issue 16): a row whose ``id`` names a record of the same group (meeting, action) or
meeting (decision) *updates* that record; a row without one is matched on its natural key; only the rest
are added.  A column that is absent leaves that field alone.  Importing an unchanged export therefore
changes 0 rows; ``dry_run=True`` computes the same :class:`ImportReport` (what would be added and which
fields would change, old → new) and writes nothing.  An action row whose ``version`` is older than the
stored one and that would change it is refused (someone edited it after the export: optimistic locking).
The web downloads of ``actions`` and ``meetings`` (English or Persian headers, see :data:`HEADER_LABELS`)
are accepted too; the old column names ``ref``, ``meeting_ref`` and ``decision_ref`` still are.

Any bad row raises :class:`~tradepulse.errors.InputError` with file, line and column and nothing is
written.  Every change is audited like any other (one undo step per import).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tradepulse.errors import InputError, TradepulseError, UnknownNameError
from tradepulse.groups.dates import DateInputError, parse_day
from tradepulse.groups.models import (
    ACTION_STATUSES,
    ActionItem,
    Decision,
    Institution,
    Meeting,
    Person,
    WorkingGroup,
)
from tradepulse.groups.service import GroupService
from tradepulse.i18n import N_

FILES = {
    "institutions": ["code", "name_en", "name_fa", "kind"],
    "groups": ["name", "name_fa", "scope", "province", "secretariat", "members"],
    "people": ["full_name", "institution", "group", "role", "email"],
    "meetings": ["id", "group", "date", "date_jalali", "title", "minutes", "attendees", "absent", "version"],
    "decisions": ["id", "meeting_id", "text", "owner", "target_id"],
    "actions": ["id", "group", "decision_id", "title", "owner", "deadline", "deadline_jalali", "status",
                "target_id", "indicator", "note", "completed_on", "version"],
}
#: The columns a file must have (the rest may be missing: the field is then left as it is).
REQUIRED = {"institutions": ["code"], "groups": ["name"], "people": ["full_name", "institution"],
            "meetings": ["group", "date"], "decisions": ["text"], "actions": ["group", "title", "owner"]}
#: Old column names → current ones.
ALIASES = {"ref": "id", "meeting_ref": "meeting_id", "decision_ref": "decision_id"}

#: Column headers of downloads, translated (gettext); the import maps them back to the keys.
HEADER_LABELS = {
    "id": N_("ID"), "group": N_("Working group"), "province": N_("Province"), "title": N_("Title"),
    "owner": N_("Owner"), "deadline": N_("Deadline"), "deadline_jalali": N_("Deadline (Solar Hijri)"),
    "status": N_("Status"), "target_id": N_("Roadmap target"), "indicator": N_("Indicator"), "note": N_("Note"),
    "completed_on": N_("Completed on"), "completed_on_jalali": N_("Completed on (Solar Hijri)"),
    "version": N_("Version"), "date": N_("Date"), "date_jalali": N_("Date (Solar Hijri)"),
    "minutes": N_("Minutes"), "attendees": N_("Present"), "absent": N_("Absent"), "decisions": N_("Decisions"),
    "decision_id": N_("Decision"), "meeting_id": N_("Meeting"), "text": N_("Text"),
}
#: Columns of a download that are derived and ignored on import.
DERIVED = {"province", "date_jalali", "deadline_jalali", "completed_on_jalali", "decisions"}


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do): rows added / updated / unchanged per file and each
    field change as (file, line, key, field, old, new)."""

    dry_run: bool = False
    added: dict[str, int] = field(default_factory=lambda: {k: 0 for k in FILES})
    updated: dict[str, int] = field(default_factory=lambda: {k: 0 for k in FILES})
    unchanged: dict[str, int] = field(default_factory=lambda: {k: 0 for k in FILES})
    changes: list[tuple[str, int, str, str, str, str]] = field(default_factory=list)

    @property
    def changed_rows(self) -> int:
        return sum(self.added.values()) + sum(self.updated.values())

    def summary(self) -> str:
        verb = "would add" if self.dry_run else "added"
        parts = [f"{k}: +{self.added[k]} ~{self.updated[k]} ={self.unchanged[k]}" for k in FILES
                 if self.added[k] or self.updated[k] or self.unchanged[k]]
        return f"{verb} {sum(self.added.values())}, {'would update' if self.dry_run else 'updated'} " \
               f"{sum(self.updated.values())} rows ({'; '.join(parts) or 'no rows'})"


def _d(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def _names(people) -> str:
    return ";".join(sorted(p.full_name for p in people))


def export_rows(svc: GroupService) -> dict[str, list[list]]:
    """The rows of the six files (without headers), in :data:`FILES` column order."""
    meetings = []
    for m in svc.meetings():
        att = svc.attendance(m)
        meetings.append([m.id, m.group.name, _d(m.date), m.date_jalali, m.title, m.minutes,
                         _names(p for p, ok in att if ok), _names(p for p, ok in att if not ok), m.version])
    return {
        "institutions": [[i.code, i.name_en, i.name_fa, i.kind] for i in svc.institutions()],
        "groups": [[g.name, g.name_fa, g.scope, g.province or "", g.secretariat.code if g.secretariat else "",
                    ";".join(m.code for m in g.members)] for g in svc.groups()],
        "people": [[p.full_name, p.institution.code, p.group.name if p.group else "", p.role, p.email or ""]
                   for p in svc.people()],
        "meetings": meetings,
        "decisions": [[d.id, d.meeting_id, d.text, d.owner.code if d.owner else "", d.target_id or ""]
                      for d in svc.decisions()],
        "actions": [[a.id, a.group.name, a.decision_id or "", a.title, a.owner.code, _d(a.deadline),
                     a.deadline_jalali, a.status, a.target_id or "", a.indicator or "", a.note,
                     _d(a.completed_on), a.version] for a in svc.actions()],
    }


#: First characters that make a spreadsheet run a cell as a formula (OWASP CSV Injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "|", "%")


def neutralise(value):
    """A text cell a spreadsheet would run as a formula (first character in :data:`FORMULA_START`) gets a
    leading apostrophe; numbers and other values are unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_safe_rows(fh, rows) -> None:
    """Write ``rows`` as CSV to the text file ``fh`` so that no cell runs as a spreadsheet formula:
    ``defusedcsv`` escapes text starting with ``= + - @ | %``; tab / CR prefixes, which it leaves, get the
    apostrophe of :func:`neutralise`.  :func:`import_csv` removes both again (:func:`_defused`)."""
    from defusedcsv import csv as dcsv

    w = dcsv.writer(fh, lineterminator="\r\n")
    for row in rows:
        w.writerow([neutralise(v) if isinstance(v, str) and v[:1] in "\t\r" else v for v in row])


def export_csv(svc: GroupService, out_dir: str | Path) -> dict[str, int]:
    """Write the six CSV files into ``out_dir``, formula-looking text neutralised (:func:`write_safe_rows`);
    returns rows written per file."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = export_rows(svc)
    for name, header in FILES.items():
        with open(out / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            write_safe_rows(fh, [header, *rows[name]])
    return {k: len(v) for k, v in rows.items()}


def _header_keys() -> dict[str, str]:
    """Every accepted spelling of a header (key, alias, English label, Persian label) → key."""
    from tradepulse.i18n import translations
    fa = translations("fa").gettext
    out = {k: k for keys in FILES.values() for k in keys}
    out.update(ALIASES)
    for key, label in HEADER_LABELS.items():
        out.setdefault(key, key)
        out[label.casefold()] = key
        out[fa(label)] = key
    return out


def _defused(value: str) -> str:
    """A cell as it was before an export neutralised it (issue 15: ``'`` before ``= + - @ | %`` and tab / CR, and
    ``defusedcsv`` escapes ``|`` as ``\\|`` in those cells), so downloads load back unchanged."""
    if len(value) > 1 and value[0] == "'" and (value[1] in "=+-@|%\t\r" or value.startswith("'\\|")):
        return value[1:].replace("\\|", "|")
    return value


def _read(path: Path, name: str) -> tuple[set[str], list[tuple[int, dict[str, str]]]]:
    """(columns present, [(line, row)]) of one file; missing file → (set(), []).  The file must be UTF-8
    text (BOM optional); any other encoding, binary content or a malformed CSV (e.g. a field over the csv
    module's limit) is an :class:`InputError` naming the file and line."""
    if not path.exists():
        return set(), []
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise InputError("not a text file (it contains NUL bytes); save it as CSV UTF-8", file=str(path))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as CSV UTF-8",
                         file=str(path), line=line) from None
    keys = _header_keys()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        try:
            header = next(reader)
        except StopIteration:
            return set(), []
        cols = [keys.get(h.strip(), keys.get(h.strip().casefold(), h.strip())) for h in header]
        missing = [c for c in REQUIRED[name] if c not in cols]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)}; expected {', '.join(FILES[name])}",
                             file=str(path), line=1, column=missing[0])
        rows = []
        for i, values in enumerate(reader):
            if not any(v.strip() for v in values):
                continue
            rows.append((i + 2, {c: _defused((v or "").strip()) for c, v in zip(cols, values) if c}))
        return set(cols), rows
    except csv.Error as exc:
        raise InputError(f"malformed CSV ({exc})", file=str(path), line=reader.line_num) from None


def _status_of(value: str) -> str:
    """A status code, or its English / Persian label (Persian downloads) → code."""
    from tradepulse.i18n import translations
    if value in ACTION_STATUSES:
        return value
    from tradepulse.groups.models import STATUS_LABELS
    fa = translations("fa").gettext
    for code, label in STATUS_LABELS.items():
        if value in (label, fa(label)) or value.casefold() == label.casefold():
            return code
    return value


class _Importer:
    def __init__(self, svc: GroupService, src: Path, actor: str, report: ImportReport):
        self.svc, self.s, self.src, self.actor, self.report = svc, svc.s, src, actor, report
        self.name, self.line = "", 0
        self.claimed: set[tuple[str, int]] = set()    # records this import already matched or added

    def pick(self, model, by_id: str, natural) -> Any:
        """The record a row denotes: by ``id`` when it names an unclaimed record passing ``natural``'s
        group check, else the first unclaimed record of the natural-key query; None → a new record."""
        obj = self.s.get(model, int(by_id)) if by_id.isdigit() else None
        if obj is not None and (model.__tablename__, obj.id) not in self.claimed and natural[0](obj):
            return self.claim(obj)
        for obj in self.s.scalars(natural[1].order_by(model.id)):
            if (model.__tablename__, obj.id) not in self.claimed:
                return self.claim(obj)
        return None

    def claim(self, obj: Any) -> Any:
        self.s.flush()
        self.claimed.add((obj.__tablename__, obj.id))
        return obj

    # -------------------------------------------------------------- helpers
    def fail(self, column: str, msg: str):
        raise InputError(msg, file=str(self.src / f"{self.name}.csv"), line=self.line, column=column)

    def find(self, kind: str, column: str, fn, value):
        try:
            return fn(value)
        except (UnknownNameError, TradepulseError) as exc:
            if isinstance(exc, InputError):
                raise
            self.fail(column, f"unknown {kind} {value!r}")

    def day(self, column: str, value: str) -> dt.date | None:
        try:
            return parse_day(value, "auto", column)
        except DateInputError as exc:
            self.fail(column, str(exc))

    def change(self, obj: Any, key: str, field_: str, old: Any, new: Any, setter=None) -> bool:
        """Record and apply one field change when ``old != new``."""
        if old == new:
            return False
        shown = lambda v: v.isoformat() if isinstance(v, dt.date) else ("" if v is None else str(v))
        self.report.changes.append((self.name, self.line, key, field_, shown(old), shown(new)))
        if setter is not None:
            setter(new)
        else:
            setattr(obj, field_, new)
        self.svc._audit(self.actor, obj.__tablename__, obj.id, "update", field_, shown(old), shown(new))
        return True

    def tally(self, changed: bool) -> None:
        (self.report.updated if changed else self.report.unchanged)[self.name] += 1

    def added(self, obj: Any, row: dict) -> None:
        self.s.add(obj)
        self.svc._created(self.actor, obj, row)
        self.claimed.add((obj.__tablename__, obj.id))
        self.report.added[self.name] += 1
        self.report.changes.append((self.name, self.line, "(new)", "", "", ";".join(f"{k}={v}" for k, v in
                                                                                   row.items() if v)))

    # -------------------------------------------------------------- tables
    def institutions(self, cols, rows):
        for self.line, r in rows:
            if not r.get("code"):
                self.fail("code", "empty institution code")
            inst = self.s.scalar(select(Institution).where(Institution.code == r["code"]))
            if inst is None:
                self.added(Institution(code=r["code"], name_en=r.get("name_en") or r["code"],
                                       name_fa=r.get("name_fa", ""), kind=r.get("kind") or "government"), r)
                continue
            ch = False
            for f in ("name_en", "name_fa", "kind"):
                if f in cols and (r[f] or f == "name_fa"):
                    ch |= self.change(inst, r["code"], f, getattr(inst, f), r[f])
            self.tally(ch)
        self.s.flush()

    def groups(self, cols, rows):
        for self.line, r in rows:
            grp = self.s.scalar(select(WorkingGroup).where(WorkingGroup.name == r["name"]))
            scope = r.get("scope") or ("province" if r.get("province") else "national")
            if scope not in ("province", "national"):
                self.fail("scope", f"scope must be province or national, not {scope!r}")
            sec = self.find("institution", "secretariat", self.svc.institution, r["secretariat"]) \
                if r.get("secretariat") else None
            members = [self.find("institution", "members", self.svc.institution, c.strip())
                       for c in r.get("members", "").split(";") if c.strip()]
            if grp is None:
                grp = WorkingGroup(name=r["name"], name_fa=r.get("name_fa", ""), scope=scope,
                                   province=r.get("province") or None, secretariat=sec)
                self.added(grp, r)
                for inst in members:
                    self.svc._add_member(grp, inst, self.actor)
                continue
            ch = False
            if "name_fa" in cols:
                ch |= self.change(grp, grp.name, "name_fa", grp.name_fa, r["name_fa"])
            if "scope" in cols:
                ch |= self.change(grp, grp.name, "scope", grp.scope, scope)
            if "province" in cols:
                ch |= self.change(grp, grp.name, "province", grp.province, r["province"] or None)
            if "secretariat" in cols:
                ch |= self.change(grp, grp.name, "secretariat", grp.secretariat.code if grp.secretariat else None,
                                  sec.code if sec else None, lambda _v, g=grp, x=sec: setattr(g, "secretariat", x))
            if "members" in cols:
                old, new = ";".join(m.code for m in grp.members), ";".join(sorted({m.code for m in members}))
                ch |= self.change(grp, grp.name, "members", ";".join(sorted(old.split(";"))) if old else "", new,
                                  lambda _v, g=grp, ms=members: setattr(g, "members", sorted(set(ms), key=lambda i: i.code)))
            self.tally(ch)
        self.s.flush()

    def people(self, cols, rows):
        for self.line, r in rows:
            inst = self.find("institution", "institution", self.svc.institution, r["institution"])
            grp = self.find("working group", "group", self.svc.group, r["group"]) if r.get("group") else None
            p = self.s.scalar(select(Person).where(Person.full_name == r["full_name"], Person.institution_id == inst.id))
            if p is None:
                self.added(Person(full_name=r["full_name"], institution=inst, group=grp,
                                  role=r.get("role") or "member", email=r.get("email") or None), r)
                continue
            ch = False
            key = f"{p.full_name} ({inst.code})"
            if "group" in cols:
                ch |= self.change(p, key, "group", p.group.name if p.group else None, grp.name if grp else None,
                                  lambda _v, x=p, g=grp: setattr(x, "group", g))
            if "role" in cols and r["role"]:
                ch |= self.change(p, key, "role", p.role, r["role"])
            if "email" in cols:
                ch |= self.change(p, key, "email", p.email, r["email"] or None)
            self.tally(ch)
        self.s.flush()

    def meetings(self, cols, rows) -> dict[str, Meeting]:
        refs: dict[str, Meeting] = {}
        for self.line, r in rows:
            grp = self.find("working group", "group", self.svc.group, r["group"])
            when = self.day("date", r["date"])
            if when is None:
                self.fail("date", "a meeting needs a date")

            present, absent = (
                [self.find("person", col, self.svc.person, n.strip()) for n in r.get(col, "").split(";") if n.strip()]
                for col in ("attendees", "absent"))
            m = self.pick(Meeting, r.get("id", ""), (
                lambda o, gid=grp.id: o.group_id == gid,
                select(Meeting).where(Meeting.group_id == grp.id, Meeting.date == when,
                                      Meeting.title == r.get("title", ""))))
            if m is None:
                m = Meeting(group=grp, date=when, title=r.get("title", ""), minutes=r.get("minutes", ""),
                            attendees=present + absent, version=1)
                self.added(m, {k: v for k, v in r.items() if k not in DERIVED})
                self.svc._set_absent(m.id, [p.id for p in absent])
            else:
                key = f"meeting {m.id}"
                ch = self.change(m, key, "date", m.date, when)
                for f in ("title", "minutes"):
                    if f in cols:
                        ch |= self.change(m, key, f, getattr(m, f), r[f])
                if "attendees" in cols or "absent" in cols:
                    now = self.svc.attendance(m)
                    p_old = [p for p, ok in now if ok]
                    a_old = [p for p, ok in now if not ok]
                    p_new = present if "attendees" in cols else p_old
                    a_new = [p for p in (absent if "absent" in cols else a_old) if p not in p_new]
                    if (_names(p_old), _names(a_old)) != (_names(p_new), _names(a_new)):
                        self.change(m, key, "attendees", _names(p_old), _names(p_new), lambda _v: None)
                        self.change(m, key, "absent", _names(a_old), _names(a_new), lambda _v: None)
                        m.attendees = p_new + a_new
                        self.svc._set_absent(m.id, [p.id for p in a_new])
                        ch = True
                if ch:
                    m.version += 1
                self.tally(ch)
            if r.get("id"):
                refs[r["id"]] = m
        self.s.flush()
        return refs

    def decisions(self, cols, rows, meetings: dict[str, Meeting], have_meetings: bool) -> dict[str, Decision]:
        refs: dict[str, Decision] = {}
        for self.line, r in rows:
            ref = r.get("meeting_id", "")
            m = meetings.get(ref)
            if m is None and not have_meetings and ref.isdigit():
                m = self.s.get(Meeting, int(ref))
            if m is None:
                self.fail("meeting_id", f"no meeting {ref!r} in meetings.csv or the database")
            owner = self.find("institution", "owner", self.svc.institution, r["owner"]) if r.get("owner") else None
            d = self.pick(Decision, r.get("id", ""), (
                lambda o, mid=m.id: o.meeting_id == mid,
                select(Decision).where(Decision.meeting_id == m.id, Decision.text == r["text"])))
            if d is None:
                d = Decision(meeting=m, text=r["text"], owner=owner, target_id=r.get("target_id") or None)
                self.added(d, r)
            else:
                key = f"decision {d.id}"
                ch = self.change(d, key, "text", d.text, r["text"])
                if "owner" in cols:
                    ch |= self.change(d, key, "owner", d.owner.code if d.owner else None,
                                      owner.code if owner else None, lambda _v, x=d, o=owner: setattr(x, "owner", o))
                if "target_id" in cols:
                    ch |= self.change(d, key, "target_id", d.target_id, r["target_id"] or None)
                self.tally(ch)
            if r.get("id"):
                refs[r["id"]] = d
        self.s.flush()
        return refs

    def actions(self, cols, rows, decisions: dict[str, Decision], have_decisions: bool):
        for self.line, r in rows:
            grp = self.find("working group", "group", self.svc.group, r["group"])
            owner = self.find("institution", "owner", self.svc.institution, r["owner"])
            status = _status_of(r.get("status") or "open")
            if status not in ACTION_STATUSES:
                self.fail("status", f"status must be one of {', '.join(ACTION_STATUSES)}, not {status!r}")
            decision_id = None
            ref = r.get("decision_id", "")
            if ref:
                if have_decisions:
                    if ref not in decisions:
                        self.fail("decision_id", f"no decision with id {ref!r} in decisions.csv")
                    decision_id = decisions[ref].id
                elif ref.isdigit() and self.s.get(Decision, int(ref)) is not None:
                    decision_id = int(ref)
                else:
                    self.fail("decision_id", f"no decision {ref!r} in the database (and no decisions.csv)")
            deadline = self.day("deadline", r.get("deadline", ""))
            done = self.day("completed_on", r.get("completed_on", ""))
            a = self.pick(ActionItem, r.get("id", ""), (
                lambda o, gid=grp.id: o.group_id == gid,
                select(ActionItem).where(ActionItem.group_id == grp.id, ActionItem.title == r["title"])))
            if a is None:
                a = ActionItem(group=grp, title=r["title"], owner=owner, status=status, deadline=deadline,
                               completed_on=done, target_id=r.get("target_id") or None,
                               indicator=r.get("indicator") or None, note=r.get("note", ""), version=1,
                               decision_id=decision_id)
                self.added(a, {k: v for k, v in r.items() if k not in DERIVED})
                continue
            key = f"action {a.id}"
            before = len(self.report.changes)
            ch = self.change(a, key, "title", a.title, r["title"])
            ch |= self.change(a, key, "owner", a.owner.code, owner.code, lambda _v, x=a, o=owner: setattr(x, "owner", o))
            wanted = {"deadline": deadline, "status": status, "completed_on": done,
                      "target_id": r.get("target_id") or None, "indicator": r.get("indicator") or None,
                      "note": r.get("note", ""), "decision_id": decision_id}
            for f, v in wanted.items():
                if f in cols:
                    ch |= self.change(a, key, f, getattr(a, f), v)
            if ch and r.get("version", "").isdigit() and int(r["version"]) != a.version:
                del self.report.changes[before:]
                self.fail("version", f"action {a.id} was changed in the database after this file was written "
                                     f"(file version {r['version']}, now {a.version}); export again and redo the edit")
            if ch:
                a.version += 1
            self.tally(ch)


def import_csv(svc: GroupService, in_dir: str | Path, actor: str = "csv-import", *,
               dry_run: bool = False) -> ImportReport:
    """Load the CSV files in ``in_dir`` (those present) idempotently; see the module docstring."""
    src = Path(in_dir)
    if not src.is_dir():
        raise TradepulseError(f"{src} is not a directory of CSV files")
    report = ImportReport(dry_run=dry_run)
    data = {name: _read(src / f"{name}.csv", name) for name in FILES}
    imp = _Importer(svc, src, actor, report)
    s = svc.s
    try:
        for name in ("institutions", "groups", "people"):
            imp.name = name
            getattr(imp, name)(*data[name])
        imp.name = "meetings"
        meetings = imp.meetings(*data["meetings"])
        imp.name = "decisions"
        decisions = imp.decisions(*data["decisions"], meetings, bool(data["meetings"][1]))
        imp.name = "actions"
        imp.actions(*data["actions"], decisions, bool(data["decisions"][1]))
        s.flush()
        if dry_run:
            s.rollback()
        else:
            svc._commit()
    except Exception:
        s.rollback()
        raise
    finally:
        svc._batch = None
    return report
