"""An iCalendar (RFC 5545) feed of one working group: its meetings and the deadlines of its open actions.

Built with the ``icalendar`` package.  Meetings and deadlines have a day but no time, so each is an all-day
``VEVENT`` (``DTSTART;VALUE=DATE`` and ``DTEND`` the next day, RFC 5545 §3.6.1).  UIDs are stable
(``meeting-<id>@<group>.tradepulse``, ``action-<id>@…``) so a calendar that subscribes to the feed updates
the events in place; ``SEQUENCE`` is the record's version.  Summaries are in the group's language
(``lang``); the description of a deadline names the owner institution and the status, and gives the
Solar Hijri date.
"""

from __future__ import annotations

import datetime as dt
import re

from tradepulse.groups.models import STATUS_LABELS, jalali
from tradepulse.groups.service import GroupService
from tradepulse.i18n import translations


def group_calendar(svc: GroupService, group: str | int, lang: str = "en",
                   now: dt.datetime | None = None) -> bytes:
    """The ``.ics`` bytes of ``group``'s meetings and open / in-progress action deadlines."""
    from icalendar import Calendar, Event

    _ = translations(lang).gettext
    grp = svc.group(group)
    slug = re.sub(r"[^a-z0-9]+", "-", grp.name.lower()).strip("-") or str(grp.id)
    stamp = (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)
    cal = Calendar()
    cal.add("prodid", "-//tradepulse//working groups//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", grp.title(lang))
    for m in svc.meetings(grp.id):
        ev = Event()
        ev.add("uid", f"meeting-{m.id}@{slug}.tradepulse")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", m.date)
        ev.add("dtend", m.date + dt.timedelta(days=1))
        ev.add("summary", f"{_('Meeting')}: {m.title or grp.title(lang)}")
        ev.add("description", f"{jalali(m.date)} ({_('Solar Hijri')})\n{m.minutes or ''}".strip())
        ev.add("sequence", m.version)
        cal.add_component(ev)
    for a in svc.actions(grp.id, status=("open", "in_progress")):
        if a.deadline is None:
            continue
        ev = Event()
        ev.add("uid", f"action-{a.id}@{slug}.tradepulse")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", a.deadline)
        ev.add("dtend", a.deadline + dt.timedelta(days=1))
        ev.add("summary", f"{_('Deadline')}: {a.title}")
        ev.add("description", f"{_('Owner')}: {a.owner.name(lang)}\n{_('Status')}: "
                              f"{_(STATUS_LABELS.get(a.status, a.status))}\n{a.deadline_jalali} ({_('Solar Hijri')})")
        ev.add("sequence", a.version)
        ev.add("categories", ["deadline"])
        cal.add_component(ev)
    return cal.to_ical()
