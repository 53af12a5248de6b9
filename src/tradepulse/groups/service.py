"""The working-group service: every read and write of the groups database goes through here.

``GroupService(session)`` — each mutating method is one unit of work: it writes the change and its audit
rows and commits (or rolls back on error).  Every change is audited: one ``create`` row per new record
(``new_value`` = JSON of its fields) and one ``update`` row per changed field (old → new), with the actor
and a UTC timestamp.

Optimistic locking (action items): ``update_action(id, expected_version, actor, **changes)`` issues
``UPDATE action_items SET ..., version = version + 1 WHERE id = :id AND version = :expected``; if no
row matches, someone else saved first and :class:`ConflictError` is raised — nothing is overwritten.
The UPDATE is atomic on both SQLite (writers serialised by the database lock) and PostgreSQL (the row
lock makes the second writer re-check ``version`` after the first commits).

Names: groups are found by ``name`` (or province), institutions by ``code`` or English/Persian name,
people by full name; unknown names raise :class:`~tradepulse.errors.UnknownNameError`.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any, Iterable

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tradepulse.errors import TradepulseError, UnknownNameError
from tradepulse.groups.dates import parse_day
from tradepulse.groups.models import (ACTION_STATUSES, ROLES, SCOPES, ActionItem, AuditEntry, Decision,
                                      GroupRole, Institution, Meeting, Person, User, WebSession, WorkingGroup,
                                      meeting_attendees, utcnow)
from tradepulse.reference.provinces import listed_name, province_identity


class ConflictError(TradepulseError):
    """An action item was changed by somebody else since it was read (stale ``version``)."""

    def __init__(self, action_id: int, expected: int, current: int | None, what: str = "action item"):
        self.action_id, self.expected, self.current = action_id, expected, current
        super().__init__(
            f"{what} {action_id} was changed by someone else (you edited version {expected}, "
            f"it is now version {current}); reload it and apply your change again")


#: The seed list of member institutions (code, English, Persian, kind).  ``tpo`` is the default secretariat.
SEED_INSTITUTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("tpo", "Trade Promotion Organization", "سازمان توسعه تجارت", "secretariat"),
    ("customs", "Customs Administration", "گمرک", "government"),
    ("transport", "Ministry of Roads and Transport", "وزارت راه و شهرسازی", "government"),
    ("edbi", "Export Development Bank", "بانک توسعه صادرات", "bank"),
    ("standards", "National Standards Organization", "سازمان ملی استاندارد", "government"),
    ("chamber_commerce", "Chamber of Commerce", "اتاق بازرگانی", "chamber"),
    ("chamber_coop", "Chamber of Cooperatives", "اتاق تعاون", "chamber"),
    ("agriculture", "Ministry of Agriculture", "وزارت جهاد کشاورزی", "government"),
)

#: Fields of an action item a caller may change with ``update_action``.
ACTION_FIELDS = ("title", "owner", "deadline", "status", "target_id", "indicator", "note", "decision_id")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


#: Dates a working group may record (Gregorian years; Solar Hijri 1279–1479 covers the same span).
DATE_YEARS = (1900, 2100)


def check_date_range(day: dt.date, what: str = "date") -> dt.date:
    """``day`` when its year is within :data:`DATE_YEARS`, else :class:`TradepulseError`."""
    if not DATE_YEARS[0] <= day.year <= DATE_YEARS[1]:
        raise TradepulseError(f"{what} {day.isoformat()} is out of range: use a date from "
                              f"{DATE_YEARS[0]} to {DATE_YEARS[1]}")
    return day


def _as_date(value: Any, what: str = "date") -> dt.date | None:
    """A date object, or a typed date (SH when the year < 1700, else Gregorian; :mod:`.dates`), within
    :data:`DATE_YEARS`."""
    day = parse_day(value, "auto", what)
    return check_date_range(day, what) if day is not None else None


class GroupService:
    """Operations on working groups, institutions, people, meetings, decisions, action items and users."""

    def __init__(self, session: Session):
        self.s = session
        self._batch: str | None = None      # audit rows written before the next commit share one batch id

    # ------------------------------------------------------------ plumbing
    def _audit(self, actor: str, entity: str, entity_id: int | None, action: str,
               field: str | None = None, old: Any = None, new: Any = None) -> None:
        if self._batch is None:
            self._batch = uuid.uuid4().hex
        self.s.add(AuditEntry(at=utcnow(), actor=actor, entity=entity, entity_id=entity_id, action=action,
                              field=field, old_value=_text(old), new_value=_text(new), batch=self._batch))

    def _created(self, actor: str, obj: Any, fields: dict[str, Any]) -> None:
        self.s.flush()
        self._audit(actor, obj.__tablename__, obj.id, "create",
                    new=json.dumps({k: _text(v) for k, v in fields.items()}, ensure_ascii=False))

    def _commit(self) -> None:
        self._batch = None
        try:
            self.s.commit()
        except IntegrityError as exc:
            self.s.rollback()
            raise TradepulseError(f"already exists or violates a constraint: {exc.orig}") from None
        except Exception:
            self.s.rollback()
            raise

    # ------------------------------------------------------------ institutions
    def ensure_seed_institutions(self, actor: str = "system") -> list[Institution]:
        """Create the seed institutions that are missing (idempotent)."""
        have = set(self.s.scalars(select(Institution.code)))
        for code, en, fa, kind in SEED_INSTITUTIONS:
            if code not in have:
                inst = Institution(code=code, name_en=en, name_fa=fa, kind=kind)
                self.s.add(inst)
                self._created(actor, inst, {"code": code, "name_en": en, "name_fa": fa, "kind": kind})
        self._commit()
        return self.institutions()

    def add_institution(self, code: str, name_en: str, name_fa: str = "", kind: str = "government",
                        actor: str = "system") -> Institution:
        if self.s.scalar(select(Institution).where(Institution.code == code)) is not None:
            raise TradepulseError(f"institution {code!r} already exists")
        inst = Institution(code=code, name_en=name_en, name_fa=name_fa, kind=kind)
        self.s.add(inst)
        self._created(actor, inst, {"code": code, "name_en": name_en, "name_fa": name_fa, "kind": kind})
        self._commit()
        return inst

    def institutions(self) -> list[Institution]:
        return list(self.s.scalars(select(Institution).order_by(Institution.code)))

    def institution(self, key: str | int | Institution) -> Institution:
        """Find an institution by id, code, English or Persian name (case-insensitive)."""
        if isinstance(key, Institution):
            return key
        if isinstance(key, int):
            inst = self.s.get(Institution, key)
        else:
            k = str(key).strip()
            inst = self.s.scalar(select(Institution).where(or_(
                func.lower(Institution.code) == k.lower(), func.lower(Institution.name_en) == k.lower(),
                Institution.name_fa == k)))
        if inst is None:
            raise UnknownNameError("institution", str(key), [i.code for i in self.institutions()])
        return inst

    # ------------------------------------------------------------ groups
    def create_group(self, name: str, *, province: str | None = None, scope: str | None = None,
                     name_fa: str = "", secretariat: str | None = "tpo", members: Iterable[str] = (),
                     actor: str = "system") -> WorkingGroup:
        """A working group for ``province`` (scope ``province``) or the whole country (``national``).

        The secretariat defaults to the trade promotion organisation (seed code ``tpo``).
        """
        scope = scope or ("province" if province else "national")
        if scope not in SCOPES:
            raise UnknownNameError("group scope", scope, list(SCOPES))
        if scope == "province" and not province:
            raise TradepulseError("a provincial working group needs --province")
        if province:  # one spelling per province (تهران, IR-23 → Tehran), so briefs find the customs rows
            province = listed_name(province)
        if self.s.scalar(select(WorkingGroup).where(WorkingGroup.name == name)) is not None:
            raise TradepulseError(f"working group {name!r} already exists")
        if secretariat == "tpo" and self.s.scalar(select(Institution).where(Institution.code == "tpo")) is None:
            self.ensure_seed_institutions(actor)
        sec = self.institution(secretariat) if secretariat else None
        grp = WorkingGroup(name=name, name_fa=name_fa, scope=scope, province=province, secretariat=sec)
        self.s.add(grp)
        self._created(actor, grp, {"name": name, "name_fa": name_fa, "scope": scope, "province": province,
                                   "secretariat": sec.code if sec else None})
        for m in members:
            self._add_member(grp, self.institution(m), actor)
        self._commit()
        return grp

    def groups(self) -> list[WorkingGroup]:
        return list(self.s.scalars(select(WorkingGroup).order_by(WorkingGroup.scope, WorkingGroup.name)))

    def group(self, key: str | int | WorkingGroup) -> WorkingGroup:
        """Find a group by id, name (English or Persian) or province (case-insensitive)."""
        if isinstance(key, WorkingGroup):
            return key
        if isinstance(key, int):
            grp = self.s.get(WorkingGroup, key)
        else:
            k = str(key).strip().lower()
            grp = self.s.scalars(select(WorkingGroup).where(or_(
                func.lower(WorkingGroup.name) == k, WorkingGroup.name_fa == str(key).strip()))
                .order_by(WorkingGroup.id)).first() or self.group_for_province(str(key))
        if grp is None:
            raise UnknownNameError("working group", str(key), [g.name for g in self.groups()])
        return grp

    def group_for_province(self, province: str | None) -> WorkingGroup | None:
        """The group of ``province`` in any spelling of the reference list (None → the national group);
        None when there is none."""
        if province is None:
            return self.s.scalars(select(WorkingGroup).where(WorkingGroup.scope == "national")
                                  .order_by(WorkingGroup.id)).first()
        same = province_identity(province)
        return next((grp for grp in self.s.scalars(select(WorkingGroup).where(WorkingGroup.province.is_not(None))
                                                   .order_by(WorkingGroup.id))
                     if province_identity(grp.province) == same), None)

    def _add_member(self, grp: WorkingGroup, inst: Institution, actor: str) -> None:
        if inst in grp.members:
            return
        grp.members.append(inst)
        self._audit(actor, "group_members", grp.id, "create", field="institution", new=inst.code)

    def add_member(self, group: str | int, institution: str | int, actor: str = "system") -> WorkingGroup:
        grp, inst = self.group(group), self.institution(institution)
        self._add_member(grp, inst, actor)
        self._commit()
        return grp

    # ------------------------------------------------------------ people
    def add_person(self, full_name: str, institution: str | int, *, group: str | int | None = None,
                   role: str = "member", email: str | None = None, actor: str = "system") -> Person:
        inst = self.institution(institution)
        grp = self.group(group) if group is not None else None
        p = Person(full_name=full_name.strip(), institution=inst, group=grp, role=role, email=email)
        self.s.add(p)
        self._created(actor, p, {"full_name": p.full_name, "institution": inst.code,
                                 "group": grp.name if grp else None, "role": role, "email": email})
        self._commit()
        return p

    def people(self, group: str | int | None = None) -> list[Person]:
        q = select(Person).order_by(Person.full_name)
        if group is not None:
            q = q.where(Person.group_id == self.group(group).id)
        return list(self.s.scalars(q))

    def person(self, key: str | int) -> Person:
        p = self.s.get(Person, key) if isinstance(key, int) else self.s.scalars(
            select(Person).where(func.lower(Person.full_name) == str(key).strip().lower())).first()
        if p is None:
            raise UnknownNameError("person", str(key), [x.full_name for x in self.people()])
        return p

    # ------------------------------------------------------------ meetings and decisions
    def record_meeting(self, group: str | int, date: dt.date | str, *, title: str = "", minutes: str = "",
                       attendees: Iterable[str | int] = (), absent: Iterable[str | int] = (),
                       decisions: Iterable[dict] = (), actions: Iterable[dict] = (),
                       actor: str = "system") -> Meeting:
        """Record a meeting on ``date`` (a date, or typed: SH when the year < 1700) with ``attendees``
        present and ``absent`` people (names or ids), and optionally its ``decisions`` (dicts of
        :meth:`add_decision` keyword arguments) and new ``actions`` (dicts of :meth:`add_action` keyword
        arguments; ``decision`` = index into ``decisions``) — one unit of work and one undo step."""
        grp = self.group(group)
        day = _as_date(date, "meeting date")
        if day is None:
            raise TradepulseError("a meeting needs a date")
        present = [self.person(a) for a in attendees]
        away = [p for p in (self.person(a) for a in absent) if p not in present]
        m = Meeting(group=grp, date=day, title=title, minutes=minutes, attendees=present + away, version=1)
        self.s.add(m)
        self._created(actor, m, {"group": grp.name, "date": day, "title": title, "minutes": minutes,
                                 "attendees": ";".join(p.full_name for p in present),
                                 "absent": ";".join(p.full_name for p in away)})
        self._set_absent(m.id, [p.id for p in away])
        made = [self._new_decision(m, actor=actor, **d) for d in decisions]
        for a in actions:
            a = dict(a)
            idx = a.pop("decision", None)
            self._new_action(grp, actor=actor, decision=made[int(idx)] if idx not in (None, "") else None, **a)
        self._commit()
        return m

    def _set_absent(self, meeting_id: int, absent_ids: list[int]) -> None:
        self.s.flush()
        self.s.execute(update(meeting_attendees).where(meeting_attendees.c.meeting_id == meeting_id)
                       .values(present=True))
        if absent_ids:
            self.s.execute(update(meeting_attendees).where(meeting_attendees.c.meeting_id == meeting_id,
                                                           meeting_attendees.c.person_id.in_(absent_ids))
                           .values(present=False))

    def attendance(self, meeting: int | Meeting) -> list[tuple[Person, bool]]:
        """(person, present) of a meeting's attendee list, by name."""
        m = meeting if isinstance(meeting, Meeting) else self.meeting(meeting)
        flags = dict(self.s.execute(select(meeting_attendees.c.person_id, meeting_attendees.c.present)
                                    .where(meeting_attendees.c.meeting_id == m.id)).all())
        return sorted(((p, bool(flags.get(p.id, True))) for p in m.attendees), key=lambda x: (x[0].full_name, x[0].id))

    def meeting(self, meeting_id: int) -> Meeting:
        m = self.s.get(Meeting, meeting_id)
        if m is None:
            raise UnknownNameError("meeting", str(meeting_id))
        return m

    def meetings(self, group: str | int | None = None, start: dt.date | None = None,
                 end: dt.date | None = None) -> list[Meeting]:
        """Meetings (of ``group``) with ``start <= date <= end``, oldest first."""
        q = select(Meeting).order_by(Meeting.date, Meeting.id)
        if group is not None:
            q = q.where(Meeting.group_id == self.group(group).id)
        if start is not None:
            q = q.where(Meeting.date >= start)
        if end is not None:
            q = q.where(Meeting.date <= end)
        return list(self.s.scalars(q))

    def update_meeting(self, meeting_id: int, actor: str, *, title: str | None = None, minutes: str | None = None,
                       date: dt.date | str | None = None, attendees: Iterable[str | int] | None = None,
                       absent: Iterable[str | int] | None = None,
                       expected_version: int | None = None, new_decisions: Iterable[dict] = ()) -> Meeting:
        """Change a meeting's title, minutes, date or attendee lists (audited per field) and add
        ``new_decisions`` (dicts of :meth:`add_decision` keyword arguments) — one unit of work.  With
        ``expected_version`` a stale edit raises :class:`ConflictError` (optimistic locking)."""
        m = self.meeting(meeting_id)
        self.s.refresh(m)
        if expected_version is not None and m.version != expected_version:
            raise ConflictError(meeting_id, expected_version, m.version, "meeting")
        changed = False
        if title is not None and title != m.title:
            self._audit(actor, "meetings", m.id, "update", "title", m.title, title)
            m.title, changed = title, True
        if minutes is not None and minutes != m.minutes:
            self._audit(actor, "meetings", m.id, "update", "minutes", m.minutes, minutes)
            m.minutes, changed = minutes, True
        if date is not None:
            day = _as_date(date, "meeting date")
            if day != m.date:
                self._audit(actor, "meetings", m.id, "update", "date", m.date, day)
                m.date, changed = day, True
        if attendees is not None or absent is not None:
            now = self.attendance(m)
            present = [self.person(a) for a in attendees] if attendees is not None else [p for p, ok in now if ok]
            away = [self.person(a) for a in absent] if absent is not None else [p for p, ok in now if not ok]
            away = [p for p in away if p not in present]
            for name, old_list, new_list in (("attendees", [p for p, ok in now if ok], present),
                                             ("absent", [p for p, ok in now if not ok], away)):
                old = ";".join(sorted(p.full_name for p in old_list))
                new = ";".join(sorted(p.full_name for p in new_list))
                if old != new:
                    self._audit(actor, "meetings", m.id, "update", name, old, new)
                    changed = True
            if changed:
                m.attendees = present + away
                self._set_absent(m.id, [p.id for p in away])
        for d in new_decisions:
            self._new_decision(m, actor=actor, **d)
            changed = True
        if changed:
            stmt = (update(Meeting).where(Meeting.id == m.id, Meeting.version == m.version)
                    .values(version=Meeting.version + 1).execution_options(synchronize_session=False))
            self.s.flush()
            if self.s.execute(stmt).rowcount != 1:
                self.s.rollback()
                self._batch = None
                raise ConflictError(meeting_id, m.version, None, "meeting")
        self._commit()
        if changed:
            self.s.refresh(m)
        return m

    def _new_decision(self, m: Meeting, text: str, owner: str | int | None = None, target_id: str | None = None,
                      actor: str = "system") -> Decision:
        if not str(text).strip():
            raise TradepulseError("a decision needs a text")
        inst = self.institution(owner) if owner not in (None, "") else None
        d = Decision(meeting=m, text=text, owner=inst, target_id=target_id or None)
        self.s.add(d)
        self._created(actor, d, {"meeting_id": m.id, "text": text, "owner": inst.code if inst else None,
                                 "target_id": target_id or None})
        return d

    def add_decision(self, meeting_id: int, text: str, *, owner: str | int | None = None,
                     target_id: str | None = None, actor: str = "system") -> Decision:
        """A decision of a meeting, optionally owned by an institution and linked to a roadmap axis or
        target id."""
        d = self._new_decision(self.meeting(meeting_id), text, owner, target_id, actor)
        self._commit()
        return d

    def decision(self, decision_id: int) -> Decision:
        d = self.s.get(Decision, decision_id)
        if d is None:
            raise UnknownNameError("decision", str(decision_id))
        return d

    def update_decision(self, decision_id: int, actor: str, *, text: str | None = None,
                        owner: str | int | None = None, target_id: str | None = None) -> Decision:
        """Change a decision's text, owner institution or roadmap link ('' clears owner / link)."""
        d = self.decision(decision_id)
        if text is not None and text != d.text:
            self._audit(actor, "decisions", d.id, "update", "text", d.text, text)
            d.text = text
        if owner is not None:
            inst = self.institution(owner) if owner != "" else None
            if (inst.id if inst else None) != d.owner_id:
                self._audit(actor, "decisions", d.id, "update", "owner", d.owner.code if d.owner else None,
                            inst.code if inst else None)
                d.owner = inst
        if target_id is not None and (target_id or None) != d.target_id:
            self._audit(actor, "decisions", d.id, "update", "target_id", d.target_id, target_id or None)
            d.target_id = target_id or None
        self._commit()
        return d

    def decisions(self, group: str | int | None = None) -> list[Decision]:
        q = select(Decision).join(Meeting).order_by(Meeting.date, Decision.id)
        if group is not None:
            q = q.where(Meeting.group_id == self.group(group).id)
        return list(self.s.scalars(q))

    # ------------------------------------------------------------ action items
    def add_action(self, group: str | int, title: str, owner: str | int, deadline: dt.date | str | None = None,
                   *, decision_id: int | None = None, status: str = "open", target_id: str | None = None,
                   indicator: str | None = None, note: str = "", completed_on: dt.date | str | None = None,
                   actor: str = "system") -> ActionItem:
        """A new action item (version 1) owned by an institution, optionally linked to a roadmap target
        id or an indicator name."""
        if decision_id is not None and self.s.get(Decision, decision_id) is None:
            raise UnknownNameError("decision", str(decision_id))
        a = self._new_action(self.group(group), title, owner, deadline, decision_id=decision_id, status=status,
                             target_id=target_id, indicator=indicator, note=note, completed_on=completed_on,
                             actor=actor)
        self._commit()
        return a

    def _new_action(self, grp: WorkingGroup, title: str, owner: str | int, deadline: dt.date | str | None = None,
                    *, decision_id: int | None = None, decision: Decision | None = None, status: str = "open",
                    target_id: str | None = None, indicator: str | None = None, note: str = "",
                    completed_on: dt.date | str | None = None, actor: str = "system") -> ActionItem:
        if status not in ACTION_STATUSES:
            raise UnknownNameError("action status", status, list(ACTION_STATUSES))
        if not str(title).strip():
            raise TradepulseError("an action item needs a title")
        inst = self.institution(owner)
        day = _as_date(deadline, "deadline")
        done = _as_date(completed_on, "completion date")
        if status == "done" and done is None:
            done = dt.date.today()
        if decision is not None:
            self.s.flush()
            decision_id = decision.id
        now = utcnow()
        a = ActionItem(group=grp, title=title, owner=inst, deadline=day, status=status, decision_id=decision_id,
                       target_id=target_id or None, indicator=indicator or None, note=note, completed_on=done,
                       version=1, created_at=now, updated_at=now)
        self.s.add(a)
        self._created(actor, a, {"group": grp.name, "title": title, "owner": inst.code, "deadline": day,
                                 "status": status, "decision_id": decision_id, "target_id": target_id,
                                 "indicator": indicator, "note": note})
        return a

    def action(self, action_id: int) -> ActionItem:
        a = self.s.get(ActionItem, action_id, populate_existing=True)
        if a is None:
            raise UnknownNameError("action item", str(action_id))
        return a

    def update_action(self, action_id: int, expected_version: int, actor: str, *,
                      today: dt.date | None = None, **changes: Any) -> ActionItem:
        """Change fields of an action item if it is still at ``expected_version``.

        ``changes`` keys: title, owner (institution code/name), deadline, status, target_id, indicator,
        note.  Setting status ``done`` records ``completed_on`` (= ``today``, default the current date);
        leaving ``done`` clears it.  Raises :class:`ConflictError` when the stored version differs
        (also when it changes between our read and our write).  Audits one row per changed field.
        """
        unknown = set(changes) - set(ACTION_FIELDS)
        if unknown:
            raise UnknownNameError("action field", sorted(unknown)[0], list(ACTION_FIELDS))
        current = self.action(action_id)
        if current.version != expected_version:
            raise ConflictError(action_id, expected_version, current.version)
        values: dict[str, Any] = {}
        for key, val in changes.items():
            if key == "owner":
                inst = self.institution(val)
                if inst.id != current.owner_id:
                    values["owner_id"] = (current.owner.code, inst.code, inst.id)
            elif key == "deadline":
                day = _as_date(val, "deadline")
                if day != current.deadline:
                    values["deadline"] = (current.deadline, day, day)
            elif key == "status":
                if val not in ACTION_STATUSES:
                    raise UnknownNameError("action status", str(val), list(ACTION_STATUSES))
                if val != current.status:
                    values["status"] = (current.status, val, val)
                    done = (today or dt.date.today()) if val == "done" else None
                    if done != current.completed_on:
                        values["completed_on"] = (current.completed_on, done, done)
            elif key == "decision_id":
                val = int(val) if val not in (None, "") else None
                if val is not None and self.s.get(Decision, val) is None:
                    raise UnknownNameError("decision", str(val))
                if val != current.decision_id:
                    values[key] = (current.decision_id, val, val)
            else:
                if key == "title" and not str(val).strip():
                    raise TradepulseError("an action item needs a title")
                if val != getattr(current, key):
                    values[key] = (getattr(current, key), val, val)
        if not values:
            return current
        stmt = (update(ActionItem).where(ActionItem.id == action_id, ActionItem.version == expected_version)
                .values({**{k: v[2] for k, v in values.items()}, "version": ActionItem.version + 1,
                         "updated_at": utcnow()})
                .execution_options(synchronize_session=False))
        try:
            result = self.s.execute(stmt)
            if result.rowcount != 1:
                self.s.rollback()
                now = self.s.scalar(select(ActionItem.version).where(ActionItem.id == action_id))
                raise ConflictError(action_id, expected_version, now)
            for key, (old, new, _) in values.items():
                self._audit(actor, "action_items", action_id, "update",
                            field="owner" if key == "owner_id" else key, old=old, new=new)
            self._batch = None
            self.s.commit()
        except ConflictError:
            raise
        except Exception:
            self.s.rollback()
            raise
        return self.action(action_id)

    def actions(self, group: str | int | None = None, status: str | Iterable[str] | None = None) -> list[ActionItem]:
        q = select(ActionItem).order_by(ActionItem.deadline, ActionItem.id)
        if group is not None:
            q = q.where(ActionItem.group_id == self.group(group).id)
        if status is not None:
            q = q.where(ActionItem.status.in_([status] if isinstance(status, str) else list(status)))
        return list(self.s.scalars(q))

    def overdue_actions(self, as_of: dt.date | None = None, group: str | int | None = None) -> list[ActionItem]:
        """Open or in-progress items whose deadline is strictly before ``as_of`` (default today)."""
        as_of = as_of or dt.date.today()
        q = (select(ActionItem).where(ActionItem.deadline < as_of,
                                      ActionItem.status.in_(("open", "in_progress")))
             .order_by(ActionItem.deadline, ActionItem.id))
        if group is not None:
            q = q.where(ActionItem.group_id == self.group(group).id)
        return list(self.s.scalars(q))

    def actions_due(self, start: dt.date, end: dt.date, group: str | int | None = None) -> list[ActionItem]:
        """Open or in-progress items with ``start <= deadline <= end``."""
        q = (select(ActionItem).where(ActionItem.deadline >= start, ActionItem.deadline <= end,
                                      ActionItem.status.in_(("open", "in_progress")))
             .order_by(ActionItem.deadline, ActionItem.id))
        if group is not None:
            q = q.where(ActionItem.group_id == self.group(group).id)
        return list(self.s.scalars(q))

    def actions_done(self, start: dt.date, end: dt.date, group: str | int | None = None) -> list[ActionItem]:
        """Items marked done with ``start <= completed_on <= end``."""
        q = (select(ActionItem).where(ActionItem.status == "done", ActionItem.completed_on >= start,
                                      ActionItem.completed_on <= end)
             .order_by(ActionItem.completed_on, ActionItem.id))
        if group is not None:
            q = q.where(ActionItem.group_id == self.group(group).id)
        return list(self.s.scalars(q))

    # ------------------------------------------------------------ audit
    def audit(self, entity: str | None = None, entity_id: int | None = None, actor: str | None = None,
              limit: int | None = None) -> list[AuditEntry]:
        """Audit rows, oldest first (filter by entity table name, id, actor)."""
        q = select(AuditEntry).order_by(AuditEntry.id)
        if entity is not None:
            q = q.where(AuditEntry.entity == entity)
        if entity_id is not None:
            q = q.where(AuditEntry.entity_id == entity_id)
        if actor is not None:
            q = q.where(AuditEntry.actor == actor)
        rows = list(self.s.scalars(q))
        return rows[-limit:] if limit else rows

    # ------------------------------------------------------------ undo
    def last_change(self, actor: str, group: str | int | None = None) -> list[AuditEntry]:
        """The audit rows of ``actor``'s latest unit of work that is not undone yet (of ``group`` when
        given), oldest first; [] when there is none."""
        undone = set(self.s.scalars(select(AuditEntry.new_value).where(AuditEntry.action == "undo")))
        gid = self.group(group).id if group is not None else None
        q = (select(AuditEntry.batch).where(AuditEntry.actor == actor, AuditEntry.batch.is_not(None),
                                            AuditEntry.action.in_(("create", "update")),
                                            AuditEntry.entity.in_(("meetings", "decisions", "action_items")))
             .order_by(AuditEntry.id.desc()))
        for batch in dict.fromkeys(self.s.scalars(q)):
            if batch in undone:
                continue
            rows = list(self.s.scalars(select(AuditEntry).where(AuditEntry.batch == batch).order_by(AuditEntry.id)))
            if gid is None or gid in {self._group_of(r) for r in rows}:
                return rows
        return []

    def _group_of(self, row: AuditEntry) -> int | None:
        model = {"meetings": Meeting, "decisions": Decision, "action_items": ActionItem}.get(row.entity)
        obj = self.s.get(model, row.entity_id) if model and row.entity_id else None
        if obj is None:
            return None
        return obj.meeting.group_id if isinstance(obj, Decision) else obj.group_id

    def undo_last(self, actor: str, group: str | int | None = None) -> int:
        """Revert ``actor``'s latest unit of work (records created are deleted, fields changed get their old
        value back); returns the number of audit rows reverted (0: nothing to undo).  Refused with
        :class:`ConflictError` when somebody changed one of those records since."""
        rows = self.last_change(actor, group)
        if not rows:
            return 0
        batch = rows[0].batch
        bumped: set[tuple[str, int]] = set()      # each record's version goes up once per undo
        for r in reversed(rows):
            if r.entity == "action_items" and r.action == "update":
                a = self.action(r.entity_id)
                later = self.s.scalar(select(func.count()).select_from(AuditEntry).where(
                    AuditEntry.entity == "action_items", AuditEntry.entity_id == a.id, AuditEntry.id > r.id,
                    AuditEntry.batch != batch))
                if later:
                    raise ConflictError(a.id, a.version, a.version)
                value: Any = r.old_value
                if r.field == "owner":
                    a.owner = self.institution(value)
                elif r.field in ("deadline", "completed_on"):
                    setattr(a, r.field, dt.date.fromisoformat(value) if value else None)
                elif r.field == "decision_id":
                    a.decision_id = int(value) if value else None
                else:
                    setattr(a, r.field, value if value is not None or r.field in ("target_id", "indicator")
                            else "")
                if ("a", a.id) not in bumped:
                    bumped.add(("a", a.id))
                    a.version += 1
                a.updated_at = utcnow()
            elif r.entity == "meetings" and r.action == "update":
                m = self.meeting(r.entity_id)
                if r.field == "date":
                    m.date = dt.date.fromisoformat(r.old_value)
                elif r.field in ("title", "minutes"):
                    setattr(m, r.field, r.old_value or "")
                elif r.field in ("attendees", "absent"):
                    names = [n for n in (r.old_value or "").split(";") if n]
                    now = self.attendance(m)
                    keep = [p for p, ok in now if ok != (r.field == "attendees")]
                    people = [self.person(n) for n in names]
                    m.attendees = [p for p in keep if p not in people] + people
                    absent = people if r.field == "absent" else [p for p in keep if p not in people]
                    self._set_absent(m.id, [p.id for p in absent])
                if ("m", m.id) not in bumped:
                    bumped.add(("m", m.id))
                    m.version += 1
            elif r.entity == "decisions" and r.action == "update":
                d = self.decision(r.entity_id)
                if r.field == "owner":
                    d.owner = self.institution(r.old_value) if r.old_value else None
                else:
                    setattr(d, r.field, r.old_value if r.field == "text" else r.old_value or None)
            elif r.action == "create":
                model = {"meetings": Meeting, "decisions": Decision, "action_items": ActionItem}[r.entity]
                obj = self.s.get(model, r.entity_id)
                if obj is not None:
                    self.s.delete(obj)
                    self.s.flush()
        self._audit(actor, "audit_log", None, "undo", field="batch", new=batch)
        self._commit()
        return len(rows)

    # ------------------------------------------------------------ per-group roles
    def set_group_role(self, username: str, group: str | int, role: str | None, actor: str = "system") -> None:
        """Give ``username`` ``role`` in one group (None removes it)."""
        if role is not None and role not in ROLES:
            raise UnknownNameError("role", role, list(ROLES))
        u, grp = self.user(username), self.group(group)
        gr = self.s.get(GroupRole, (u.id, grp.id))
        old = gr.role if gr else None
        if old == role:
            return
        if role is None:
            self.s.delete(gr)
        elif gr is None:
            self.s.add(GroupRole(user_id=u.id, group_id=grp.id, role=role))
        else:
            gr.role = role
        self._audit(actor, "group_roles", u.id, "update", field=f"role@{grp.name}", old=old, new=role)
        # like a change of the global role (:meth:`Accounts.set_role`): every session of the user ends
        self.s.execute(delete(WebSession).where(WebSession.user_id == u.id))
        self._commit()

    def group_roles(self, username: str) -> dict[int, str]:
        """{group id: role} of a user's per-group roles."""
        u = self.user(username)
        return {gr.group_id: gr.role for gr in self.s.scalars(select(GroupRole).where(GroupRole.user_id == u.id))}

    def role_in(self, username: str, group: str | int) -> str | None:
        """The user's effective role in one group: a global ``admin`` is admin everywhere; a user with
        per-group roles has exactly those (no role elsewhere beyond a global viewer's read access); a user
        without any per-group role keeps the global role in every group (deployments before per-group roles)."""
        from tradepulse.groups.auth import Accounts
        u = Accounts(self.s).find(username)
        if u is None or not u.active:
            return None
        if u.role == "admin":
            return "admin"
        roles = self.group_roles(username)
        if not roles:
            return u.role
        return roles.get(self.group(group).id, "viewer")

    # ------------------------------------------------------------ users
    def create_user(self, username: str, password: str, role: str = "viewer", actor: str = "system", *,
                    enforce_policy: bool = True) -> User:
        """A user with an argon2id password hash; name and password rules of :mod:`tradepulse.groups.auth`."""
        from tradepulse.groups.auth import Accounts
        return Accounts(self.s).create(username, password, role, actor, enforce_policy=enforce_policy)

    def authenticate(self, username: str, password: str) -> User | None:
        """The active user whose password matches, else None (:meth:`tradepulse.groups.auth.Accounts.authenticate`)."""
        from tradepulse.groups.auth import Accounts
        return Accounts(self.s).authenticate(username, password)

    def user(self, username: str) -> User:
        from tradepulse.groups.auth import Accounts
        return Accounts(self.s).user(username)

    def users(self) -> list[User]:
        return list(self.s.scalars(select(User).order_by(User.username)))

    def set_role(self, username: str, role: str, actor: str = "system") -> User:
        """Change a user's role (ends the user's sessions; the last admin keeps the role)."""
        from tradepulse.groups.auth import Accounts
        return Accounts(self.s).set_role(username, role, actor)
