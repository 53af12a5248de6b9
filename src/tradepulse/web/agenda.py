"""The next meeting's agenda on the web, printable and as PDF, sending it (or the weekly brief) by e-mail,
and the group's iCalendar feed (issue 16).  Everything needs a login (viewer and up); sending needs the
role secretary in the group and a server started with ``--smtp-url``."""

from __future__ import annotations

import datetime as dt
import urllib.parse

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import escape
from starlette.concurrency import run_in_threadpool

from tradepulse.errors import TradepulseError
from tradepulse.web.data import DataContext, require
from tradepulse.web.group_forms import (
    back_with,
    group_editor,
    may_edit,
    safe_back,
    service,
)
from tradepulse.web.security import check_csrf, csrf_token, require_role

router = APIRouter(include_in_schema=False)


def _lang(request: Request) -> str:
    from tradepulse.web.pages import lang_of
    return lang_of(request)


def _agenda(request: Request, group_id: int, lang: str):
    ctx: DataContext = request.app.state.ctx
    agenda = require("tradepulse.reports.agenda")
    return agenda.build_agenda(ctx.path, ctx.groups_url, group_id, lang=lang, reporter=ctx.focus, cache=ctx.cached)


@router.get("/groups/{group_id}/agenda", response_class=HTMLResponse)
async def agenda_page(request: Request, group_id: int, msg: str = "", back: str = ""):
    """The printable agenda (the browser's Print → PDF works; a server PDF is one click away)."""
    require_role(request, "viewer")
    lang = _lang(request)
    from tradepulse.web.pages import fmt_of
    _ = fmt_of(lang).gettext
    ctx: DataContext = request.app.state.ctx
    with ctx.session() as session:
        svc = service(session)
        svc.group(group_id)
        editor = may_edit(request, svc, group_id)
    ag = await run_in_threadpool(_agenda, request, group_id, lang)
    q = f"?lang={lang}"
    to = safe_back(back, f"/groups?group={group_id}&lang={lang}")
    labels = {"back": _("Working groups"), "pdf": _("Download PDF"), "ics": _("Calendar feed (.ics)"),
              "agenda": _("Send by e-mail"), "brief": _("Weekly brief"), "sent": _("Sent to"),
              "no-smtp": _("E-mail is not configured: start the server with --smtp-url.")}
    parts = [f'<a href="{escape(to)}" id="agenda-back">← {escape(labels["back"])}</a>',
             f'<a href="/groups/{group_id}/agenda.pdf{q}" id="agenda-pdf">{escape(labels["pdf"])}</a>',
             f'<a href="/groups/{group_id}/calendar.ics{q}" id="agenda-ics">{escape(labels["ics"])}</a>']
    if editor:
        here = escape(f"/groups/{group_id}/agenda{q}")
        for what in ("agenda", "brief"):
            parts.append(f'<form method="post" action="/groups/{group_id}/send"><input type="hidden" '
                         f'name="csrf_token" value="{csrf_token(request)}"><input type="hidden" name="what" '
                         f'value="{what}"><input type="hidden" name="lang" value="{lang}"><input type="hidden" '
                         f'name="back" value="{here}"><button type="submit" id="send-{what}">'
                         f'{escape(labels[what])}{" ✉" if what == "brief" else ""}</button></form>')
    if msg.startswith("sent-"):
        parts.append(f'<span class="flash" id="flash">{escape(labels["sent"])} {escape(msg[5:][:400])}</span>')
    elif msg == "no-smtp":
        parts.append(f'<span class="flash" id="flash">{escape(labels["no-smtp"])}</span>')
    fonts = ("/static/fonts/Vazirmatn-Regular.woff2", "/static/fonts/Vazirmatn-Bold.woff2", "woff2") \
        if lang == "fa" else None                  # the dashboard's own font files (the CSP forbids data: fonts)
    html = require("tradepulse.reports.agenda").render_agenda_html(ag, toolbar=" · ".join(parts), fonts=fonts)
    return HTMLResponse(html)


@router.get("/groups/{group_id}/agenda.pdf")
async def agenda_pdf(request: Request, group_id: int):
    require_role(request, "viewer")
    lang = _lang(request)
    mod = require("tradepulse.reports.agenda")
    ag = await run_in_threadpool(_agenda, request, group_id, lang)
    body = await run_in_threadpool(mod.agenda_pdf, ag)
    name = f"agenda-{ag.next_meeting.isoformat()}-{lang}.pdf"
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{urllib.parse.quote(name)}"})


@router.post("/groups/{group_id}/send")
async def send(request: Request, group_id: int):
    """E-mail the agenda (``what=agenda``) or the weekly brief (``what=brief``) to the group's people."""
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    ctx: DataContext = request.app.state.ctx
    with ctx.session() as session:
        group_editor(request, service(session), group_id)
    back = safe_back(str(form.get("back", "")), f"/groups/{group_id}/agenda")
    smtp = getattr(request.app.state, "smtp_url", None)
    if not smtp:
        return back_with(back, "no-smtp")
    lang = str(form.get("lang", "fa"))
    lang = lang if lang in ("en", "fa") else "fa"
    mail = require("tradepulse.reports.mail")
    fn = mail.send_brief if form.get("what") == "brief" else mail.send_agenda
    try:
        sent, _subject = await run_in_threadpool(lambda: fn(smtp, ctx.path, ctx.groups_url, group_id, lang=lang,
                                                           reporter=ctx.focus))
    except TradepulseError as exc:
        raise HTTPException(400, str(exc)) from None
    return back_with(back, "sent-" + ", ".join(sent))


@router.get("/groups/{group_id}/calendar.ics")
def calendar(request: Request, group_id: int):
    """The group's meetings and open deadlines as iCalendar (RFC 5545)."""
    require_role(request, "viewer")
    ctx: DataContext = request.app.state.ctx
    ics = require("tradepulse.groups.ics")
    with ctx.session() as session:
        body = ics.group_calendar(service(session), group_id, _lang(request))
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="group-{group_id}.ics"',
                             "Cache-Control": "private, max-age=300", "Last-Modified":
                             dt.datetime.now(dt.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")})
