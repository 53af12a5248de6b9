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
from typing import Any, Iterable

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tradepulse.errors import TradepulseError, UnknownNameError
from tradepulse.groups.models import (ACTION_STATUSES, SCOPES, ActionItem, AuditEntry, Decision,
                                      Institution, Meeting, Person, User, WorkingGroup, utcnow)
from tradepulse.reference.provinces import listed_name, province_identity


class ConflictError(TradepulseError):
    """An action item was changed by somebody else since it was read (stale ``version``)."""

    def __init__(self, action_id: int, expected: int, current: int | None):
        self.action_id, self.expected, self.current = action_id, expected, current
        super().__init__(
            f"action item {action_id} was changed by someone else (you edited version {expected}, "
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
ACTION_FIELDS = ("title", "owner", "deadline", "status", "target_id", "indicator", "note")


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
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return check_date_range(value.date(), what)
    if isinstance(value, dt.date):
        return check_date_range(value, what)
    try:
        day = dt.date.fromisoformat(str(value).strip()[:32])
    except ValueError:
        raise TradepulseError(f"bad {what} {str(value)[:32]!r}: use YYYY-MM-DD (Gregorian)") from None
    return check_date_range(day, what)


class GroupService:
    """Operations on working groups, institutions, people, meetings, decisions, action items and users."""

    def __init__(self, session: Session):
        self.s = session

    # ------------------------------------------------------------ plumbing
    def _audit(self, actor: str, entity: str, entity_id: int | None, action: str,
               field: str | None = None, old: Any = None, new: Any = None) -> None:
        self.s.add(AuditEntry(at=utcnow(), actor=actor, entity=entity, entity_id=entity_id, action=action,
                              field=field, old_value=_text(old), new_value=_text(new)))

    def _created(self, actor: str, obj: Any, fields: dict[str, Any]) -> None:
        self.s.flush()
        self._audit(actor, obj.__tablename__, obj.id, "create",
                    new=json.dumps({k: _text(v) for k, v in fields.items()}, ensure_ascii=False))

    def _commit(self) -> None:
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
                       attendees: Iterable[str | int] = (), actor: str = "system") -> Meeting:
        """Record a meeting on Gregorian ``date`` with ``attendees`` (people names or ids)."""
        grp = self.group(group)
        day = _as_date(date, "meeting date")
        people = [self.person(a) for a in attendees]
        m = Meeting(group=grp, date=day, title=title, minutes=minutes, attendees=people)
        self.s.add(m)
        self._created(actor, m, {"group": grp.name, "date": day, "title": title, "minutes": minutes,
                                 "attendees": ";".join(p.full_name for p in people)})
        self._commit()
        return m

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
                       date: dt.date | str | None = None, attendees: Iterable[str | int] | None = None) -> Meeting:
        """Change a meeting's title, minutes, date or attendee list (last writer wins; audited per field)."""
        m = self.meeting(meeting_id)
        if title is not None and title != m.title:
            self._audit(actor, "meetings", m.id, "update", "title", m.title, title)
            m.title = title
        if minutes is not None and minutes != m.minutes:
            self._audit(actor, "meetings", m.id, "update", "minutes", m.minutes, minutes)
            m.minutes = minutes
        if date is not None:
            day = _as_date(date, "meeting date")
            if day != m.date:
                self._audit(actor, "meetings", m.id, "update", "date", m.date, day)
                m.date = day
        if attendees is not None:
            people = [self.person(a) for a in attendees]
            old = ";".join(sorted(p.full_name for p in m.attendees))
            new = ";".join(sorted(p.full_name for p in people))
            if old != new:
                self._audit(actor, "meetings", m.id, "update", "attendees", old, new)
                m.attendees = people
        self._commit()
        return m

    def add_decision(self, meeting_id: int, text: str, actor: str = "system") -> Decision:
        m = self.meeting(meeting_id)
        d = Decision(meeting=m, text=text)
        self.s.add(d)
        self._created(actor, d, {"meeting_id": m.id, "text": text})
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
        if status not in ACTION_STATUSES:
            raise UnknownNameError("action status", status, list(ACTION_STATUSES))
        grp, inst = self.group(group), self.institution(owner)
        if decision_id is not None and self.s.get(Decision, decision_id) is None:
            raise UnknownNameError("decision", str(decision_id))
        day = _as_date(deadline, "deadline")
        done = _as_date(completed_on, "completion date")
        if status == "done" and done is None:
            done = dt.date.today()
        now = utcnow()
        a = ActionItem(group=grp, title=title, owner=inst, deadline=day, status=status, decision_id=decision_id,
                       target_id=target_id, indicator=indicator, note=note, completed_on=done, version=1,
                       created_at=now, updated_at=now)
        self.s.add(a)
        self._created(actor, a, {"group": grp.name, "title": title, "owner": inst.code, "deadline": day,
                                 "status": status, "decision_id": decision_id, "target_id": target_id,
                                 "indicator": indicator, "note": note})
        self._commit()
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
            else:
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
