"""The next meeting's agenda, e-mail through a local aiosmtpd server (recipients, Persian subject and body,
PDF attached) and the per-group iCalendar feed validated with the ``icalendar`` package (issue 16)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

import pytest

from tradepulse.groups.db import session_factory
from tradepulse.groups.service import GroupService

TODAY = dt.date(2026, 12, 7)


@pytest.fixture(scope="module")
def site(tmp_path_factory, demo_copy):
    from tradepulse.web.testing import demo_site
    wh, url = demo_site(demo_copy(tmp_path_factory.mktemp("agenda")), today=TODAY)
    f = session_factory(url)
    with f() as s:
        svc = GroupService(s)
        svc.add_person("Sara Ahmadi", "customs", group="Tehran working group", email="sara@example.org")
        svc.add_person("Reza Karimi", "edbi", group="Tehran working group", email="reza@example.org")
        svc.add_person("No Mail", "edbi", group="Tehran working group")
        svc.add_person("Isfahan Person", "edbi", group="Isfahan working group", email="isf@example.org")
    f.kw["bind"].dispose()
    return wh, url


@pytest.fixture
def smtpd():
    """A local SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it receives."""
    from aiosmtpd.controller import Controller

    class Keep:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            return "250 OK"

    import socket
    with socket.socket() as probe:                  # a free port on the loopback interface
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Keep()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield f"smtp://127.0.0.1:{port}?from=secretariat@example.org", handler
    finally:
        ctl.stop()


def _svc(site):
    f = session_factory(site[1])
    return f, GroupService(f())


def test_agenda_sections_from_the_data(site):
    """Overdue = open/in progress with deadline < D; due = D ≤ deadline ≤ D + 7 (independent filter of all
    items); indicators = the brief's headline; the next meeting is a week after the last one."""
    from tradepulse.reports.agenda import build_agenda, render_agenda_html

    f, svc = _svc(site)
    grp = svc.group("Tehran working group")
    items = svc.actions(grp.id)
    last = max(m.date for m in svc.meetings(grp.id) if m.date <= TODAY)
    f.kw["bind"].dispose()
    ag = build_agenda(site[0], site[1], "Tehran working group", as_of=TODAY, lang="fa")
    live = [a for a in items if a.status in ("open", "in_progress") and a.deadline]
    assert {r["id"] for r in ag.overdue} == {a.id for a in live if a.deadline < TODAY} != set()
    assert {r["id"] for r in ag.due} == {a.id for a in live if TODAY <= a.deadline <= TODAY + dt.timedelta(7)}
    assert ag.last_meeting == last and ag.next_meeting == max(TODAY, last + dt.timedelta(7))
    assert [h["key"] for h in ag.indicators] == ["exports", "non_oil_exports", "imports", "non_oil_balance"]
    assert all(h["change"] == pytest.approx(h["current"] - h["previous"]) for h in ag.indicators)
    assert {n for n, _ in ag.recipients} == {"Sara Ahmadi", "Reza Karimi"}
    html = render_agenda_html(ag)
    assert 'dir="rtl"' in html and "اقدام‌های معوق" in html and "کارگروه استان تهران" in html
    # targets: evaluated as of the last meeting and today; with no new trade data in between nothing changed
    assert ag.targets_changed == [] and ag.notes["targets"] == "None."


def test_send_agenda_and_brief_by_email(site, smtpd):
    from tradepulse.reports.mail import send_agenda, send_brief

    url, box = smtpd
    sent, subject = send_agenda(url, site[0], site[1], "Tehran working group", lang="fa", as_of=TODAY)
    assert sorted(sent) == ["reza@example.org", "sara@example.org"]
    mail_from, rcpt, raw = box.messages[-1]
    assert mail_from == "secretariat@example.org" and sorted(rcpt) == sorted(sent)   # not the Isfahan person
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == subject and subject.startswith("دستور جلسه بعدی کارگروه استان تهران")
    body = msg.get_body(("plain",)).get_content()
    assert "اقدام‌های معوق" in body and "اقدام‌های با مهلت تا ۷ روز آینده" in body
    pdfs = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1 and pdfs[0].get_content()[:5] == b"%PDF-" and pdfs[0].get_filename().endswith("-fa.pdf")

    sent, subject = send_brief(url, site[0], site[1], "Tehran working group", lang="fa", date=TODAY)
    msg = email.message_from_bytes(box.messages[-1][2], policy=email.policy.default)
    assert msg["Subject"].startswith("گزارش هفتگی") and "کارگروه استان تهران" in msg["Subject"]
    assert [p.get_content()[:5] for p in msg.iter_attachments()] == [b"%PDF-"]
    assert len(box.messages) == 2


def test_send_errors_are_one_line(site, smtpd):
    from tradepulse.errors import TradepulseError
    from tradepulse.reports.mail import parse_smtp_url, send

    with pytest.raises(TradepulseError, match="bad --smtp-url"):
        parse_smtp_url("http://127.0.0.1")
    with pytest.raises(TradepulseError, match="no person of this group has an e-mail address"):
        send(smtpd[0], [], "s", "b")
    with pytest.raises(TradepulseError, match="could not send through 127.0.0.1:9"):
        send("smtp://127.0.0.1:9", [("a", "a@example.org")], "s", "b", timeout=2)
    cfg = parse_smtp_url("smtps://u%40x:p%20w@mail.example.org?from=a@b")
    assert (cfg.port, cfg.user, cfg.password, cfg.sender) == (465, "u@x", "p w", "a@b")


def test_ics_feed_validates(site):
    """The feed parses with icalendar; one all-day VEVENT per meeting and per open deadline, unique stable
    UIDs, DTEND = DTSTART + 1 day, CRLF lines folded at 75 octets (RFC 5545 §3.1)."""
    from icalendar import Calendar

    from tradepulse.groups.ics import group_calendar

    f, svc = _svc(site)
    grp = svc.group("Tehran working group")
    raw = group_calendar(svc, grp.id, "fa")
    meetings = svc.meetings(grp.id)
    live = [a for a in svc.actions(grp.id, status=("open", "in_progress")) if a.deadline]
    f.kw["bind"].dispose()
    cal = Calendar.from_ical(raw)
    events = cal.walk("VEVENT")
    assert len(events) == len(meetings) + len(live)
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == len(uids)
    for e in events:
        start, end = e.decoded("DTSTART"), e.decoded("DTEND")
        assert type(start) is dt.date and end - start == dt.timedelta(days=1)
    assert sorted(e.decoded("DTSTART") for e in events if str(e["UID"]).startswith("meeting-")) == \
        sorted(m.date for m in meetings)
    assert any("مهلت" in str(e["SUMMARY"]) for e in events) and str(cal["X-WR-CALNAME"]) == grp.title("fa")
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines) and raw.endswith(b"\r\n")
