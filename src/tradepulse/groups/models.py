"""SQLAlchemy 2 models of the working-group database (see docs/working-groups.md).

Conventions:
- Dates (meeting dates, deadlines) are stored as Gregorian ``DATE``; Jalali is derived for display
  (``jdatetime``), never stored, so there is one source of truth.
- Timestamps are timezone-aware UTC.
- ``ActionItem.version`` is the optimistic-locking counter: every update runs
  ``UPDATE action_items SET ..., version = version + 1 WHERE id = :id AND version = :expected`` and a
  zero row count means somebody else changed the row first (``ConflictError``).
- The schema is created only by the Alembic migrations in ``groups/migrations`` (``db.session_factory``).
"""

from __future__ import annotations

import datetime as dt

import jdatetime
from sqlalchemy import (Boolean, Column, Date, DateTime, ForeignKey, Integer, MetaData, String, Table,
                        Text, UniqueConstraint, true)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from tradepulse.i18n import N_

#: Naming convention so Alembic migrations get stable constraint names on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ACTION_STATUSES = ("open", "in_progress", "done", "cancelled")
#: Action statuses → label (gettext msgids shared with the web's status labels).
STATUS_LABELS = {"open": N_("open"), "in_progress": N_("in progress"), "done": N_("done"),
                 "cancelled": N_("cancelled")}
ROLES = ("viewer", "secretary", "admin")
SCOPES = ("province", "national")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def jalali(day: dt.date | None) -> str:
    """Gregorian date → Jalali ``YYYY-MM-DD`` (Solar Hijri, via jdatetime); '' for None and for dates
    jdatetime cannot convert (stored before dates were range-checked)."""
    if not day:
        return ""
    try:
        return jdatetime.date.fromgregorian(date=day).strftime("%Y-%m-%d")
    except (ValueError, OverflowError):
        return ""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


group_members = Table(
    "group_members", Base.metadata,
    Column("group_id", ForeignKey("working_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("institution_id", ForeignKey("institutions.id", ondelete="CASCADE"), primary_key=True),
)

meeting_attendees = Table(
    "meeting_attendees", Base.metadata,
    Column("meeting_id", ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    Column("present", Boolean, nullable=False, default=True, server_default=true()),
)


class Institution(Base):
    __tablename__ = "institutions"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_en: Mapped[str] = mapped_column(String(255))
    name_fa: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[str] = mapped_column(String(64), default="government")

    def name(self, lang: str = "en") -> str:
        return (self.name_fa or self.name_en) if lang == "fa" else self.name_en


class WorkingGroup(Base):
    __tablename__ = "working_groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    name_fa: Mapped[str] = mapped_column(String(255), default="")
    scope: Mapped[str] = mapped_column(String(16), default="province")   # province | national
    province: Mapped[str | None] = mapped_column(String(128), nullable=True)
    secretariat_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    secretariat: Mapped[Institution | None] = relationship(lazy="joined")
    members: Mapped[list[Institution]] = relationship(secondary=group_members, lazy="selectin",
                                                      order_by=Institution.code)

    def title(self, lang: str = "en") -> str:
        return (self.name_fa or self.name) if lang == "fa" else self.name


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("full_name", "institution_id", name="uq_people_name_institution"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(255))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("working_groups.id"), nullable=True)
    role: Mapped[str] = mapped_column(String(64), default="member")   # chair | secretary | member | ...
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)

    institution: Mapped[Institution] = relationship(lazy="joined")
    group: Mapped[WorkingGroup | None] = relationship(lazy="joined")


class Meeting(Base):
    __tablename__ = "meetings"
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id", ondelete="CASCADE"), index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)    # Gregorian; Jalali via .date_jalali
    title: Mapped[str] = mapped_column(String(255), default="")
    minutes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1", nullable=False)

    group: Mapped[WorkingGroup] = relationship(lazy="joined")
    attendees: Mapped[list[Person]] = relationship(secondary=meeting_attendees, lazy="selectin",
                                                   order_by=Person.full_name)
    decisions: Mapped[list["Decision"]] = relationship(back_populates="meeting", lazy="selectin",
                                                       order_by="Decision.id")

    @property
    def date_jalali(self) -> str:
        return jalali(self.date)


class Decision(Base):
    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"), nullable=True)
    target_id: Mapped[str | None] = mapped_column(String(128), nullable=True)   # roadmap axis or target id

    meeting: Mapped[Meeting] = relationship(back_populates="decisions")
    owner: Mapped[Institution | None] = relationship(lazy="joined")


class ActionItem(Base):
    __tablename__ = "action_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id", ondelete="CASCADE"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id", ondelete="SET NULL"),
                                                    nullable=True)
    title: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    deadline: Mapped[dt.date | None] = mapped_column(Date, nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    target_id: Mapped[str | None] = mapped_column(String(128), nullable=True)   # roadmap target id
    indicator: Mapped[str | None] = mapped_column(String(128), nullable=True)   # indicator name
    note: Mapped[str] = mapped_column(Text, default="")
    completed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)   # set when status → done
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    group: Mapped[WorkingGroup] = relationship(lazy="joined")
    owner: Mapped[Institution] = relationship(lazy="joined")

    @property
    def deadline_jalali(self) -> str:
        return jalali(self.deadline)

    def is_overdue(self, as_of: dt.date) -> bool:
        return (self.deadline is not None and self.deadline < as_of
                and self.status in ("open", "in_progress"))


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    entity: Mapped[str] = mapped_column(String(64))       # table name, e.g. "action_items"
    entity_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(16))       # create | update | delete
    field: Mapped[str | None] = mapped_column(String(64), nullable=True)
    old_value: Mapped[str | None] = mapped_column(Text, nullable=True)
    new_value: Mapped[str | None] = mapped_column(Text, nullable=True)
    batch: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)   # one unit of work


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    #: ``casefold(NFKC(username))`` (:func:`tradepulse.groups.auth.username_key`): look-alikes collide here.
    username_key: Mapped[str] = mapped_column(String(128), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="viewer")   # viewer | secretary | admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def can_edit(self) -> bool:
        return self.role in ("secretary", "admin")


class WebSession(Base):
    """A dashboard login (:mod:`tradepulse.groups.auth`): only the SHA-256 of the cookie's token is stored."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GroupRole(Base):
    """A user's role in one working group (a Tehran secretary edits Tehran only); see
    :meth:`tradepulse.groups.service.GroupService.role_in`."""
    __tablename__ = "group_roles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))

    group: Mapped[WorkingGroup] = relationship(lazy="joined")
