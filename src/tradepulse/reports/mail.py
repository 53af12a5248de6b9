"""Sending the agenda and the weekly brief by e-mail through a configured SMTP server (issue 16).

``--smtp-url`` (or ``$TRADEPULSE_SMTP_URL``) names the server: ``smtp://[user:password@]host[:port]``
(plain, port 25; add ``?starttls=1`` to upgrade with STARTTLS, port 587) or ``smtps://…`` (implicit TLS,
port 465); ``?from=secretariat@example.org`` sets the sender (default ``tradepulse@<host>``).  Messages are
built with the standard library's :class:`email.message.EmailMessage` (UTF-8 subject and body, RFC 2047 /
RFC 6532), the PDF attached as ``application/pdf``.  Recipients are the group's people who have an
address; a group without any gets a clear error and nothing is sent.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import urllib.parse
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from tradepulse.errors import TradepulseError


@dataclass(frozen=True)
class SmtpConfig:
    scheme: str
    host: str
    port: int
    user: str | None
    password: str | None
    starttls: bool
    sender: str


def parse_smtp_url(url: str) -> SmtpConfig:
    """``smtp://user:pw@host:port?starttls=1&from=a@b`` → :class:`SmtpConfig`; a bad URL raises one line."""
    u = urllib.parse.urlsplit(url or "")
    if u.scheme not in ("smtp", "smtps") or not u.hostname:
        raise TradepulseError(f"bad --smtp-url {url!r}: use smtp://host:port or smtps://user:password@host:port")
    q = dict(urllib.parse.parse_qsl(u.query))
    try:
        port = u.port or (465 if u.scheme == "smtps" else 25)
    except ValueError:
        raise TradepulseError(f"bad port in --smtp-url {url!r}") from None
    return SmtpConfig(u.scheme, u.hostname, port, urllib.parse.unquote(u.username) if u.username else None,
                      urllib.parse.unquote(u.password) if u.password else None,
                      q.get("starttls", "0").lower() in ("1", "true", "yes"), q.get("from") or f"tradepulse@{u.hostname}")


def compose(cfg: SmtpConfig, recipients: list[tuple[str, str]], subject: str, body: str,
            attachments: list[tuple[str, bytes, str]] = ()) -> EmailMessage:
    """A UTF-8 message to ``recipients`` (name, address) with ``attachments`` (file name, bytes, MIME type)."""
    msg = EmailMessage()
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(formataddr((name, addr)) for name, addr in recipients)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=cfg.host)
    msg.set_content(body, charset="utf-8")
    for name, data, mime in attachments:
        main, sub = mime.split("/", 1)
        msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return msg


def send(smtp_url: str, recipients: list[tuple[str, str]], subject: str, body: str,
         attachments: list[tuple[str, bytes, str]] = (), timeout: float = 30.0) -> list[str]:
    """Send one message; returns the addresses the server accepted."""
    cfg = parse_smtp_url(smtp_url)
    if not recipients:
        raise TradepulseError("nobody to send to: no person of this group has an e-mail address "
                              "(tradepulse groups add-person … --email)")
    msg = compose(cfg, recipients, subject, body, attachments)
    try:
        cls = smtplib.SMTP_SSL if cfg.scheme == "smtps" else smtplib.SMTP
        with cls(cfg.host, cfg.port, timeout=timeout) as server:
            if cfg.starttls:
                server.starttls()
            if cfg.user:
                server.login(cfg.user, cfg.password or "")
            refused = server.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise TradepulseError(f"could not send through {cfg.host}:{cfg.port}: {exc}") from None
    return [addr for _, addr in recipients if addr not in refused]


def send_agenda(smtp_url: str, warehouse, groups_url: str | None, group: str | int, *, lang: str = "fa",
                as_of: dt.date | None = None, reporter: str | None = None) -> tuple[list[str], str]:
    """Build the agenda of ``group``'s next meeting and e-mail it (text body + PDF) to the group's people;
    returns (accepted addresses, subject)."""
    from tradepulse.reports.agenda import (
        agenda_pdf,
        agenda_subject,
        agenda_text,
        build_agenda,
    )

    ag = build_agenda(warehouse, groups_url, group, as_of=as_of, lang=lang, reporter=reporter)
    subject = agenda_subject(ag)
    name = f"agenda-{ag.next_meeting.isoformat()}-{lang}.pdf"
    sent = send(smtp_url, ag.recipients, subject, agenda_text(ag), [(name, agenda_pdf(ag), "application/pdf")])
    return sent, subject


def send_brief(smtp_url: str, warehouse, groups_url: str | None, group: str | int, *, lang: str = "fa",
               week: str | None = None, date: dt.date | None = None,
               reporter: str | None = None) -> tuple[list[str], str]:
    """Build the weekly brief of ``group``'s province and e-mail it as PDF to the group's people."""
    import tempfile
    from pathlib import Path

    from tradepulse.groups.db import session_factory
    from tradepulse.groups.service import GroupService
    from tradepulse.reports.brief import build_brief, write_brief
    from tradepulse.reports.i18n import Formatter

    factory = session_factory(groups_url)
    try:
        with factory() as session:
            svc = GroupService(session)
            grp = svc.group(group)
            province, title = grp.province, grp.title(lang)
            recipients = [(p.full_name, p.email) for p in svc.people(grp.id) if p.email]
    finally:
        factory.kw["bind"].dispose()
    b = build_brief(warehouse, groups_url, week=week, date=date, province=province, lang=lang, reporter=reporter)
    fmt = Formatter(lang)
    _ = fmt.gettext
    subject = f"{_('Weekly brief')} — {title} — {fmt.text(b.week.label)}"
    body = (f"{subject}\n{fmt.date(b.week.start)} – {fmt.date(b.week.end)}\n\n"
            + "\n".join(f"• {_(h['label'])}: {fmt.musd(h['current'], 1)}" for h in b.headline) + "\n")
    with tempfile.TemporaryDirectory() as tmp:
        pdf = write_brief(None, None, out=Path(tmp) / "brief.pdf", brief=b).read_bytes()
    sent = send(smtp_url, recipients, subject, body,
                [(f"brief-{b.week.label}-{lang}.pdf", pdf, "application/pdf")])
    return sent, subject
