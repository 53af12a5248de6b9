"""Working-group forms (issue 16): record a meeting (attendees present / absent, minutes, decisions with an
owner institution and a roadmap link, new action items), edit every field of an action item, reassign,
close with a note, undo the last change, and a meeting's page.

Rules:
- Reading needs a login (viewer and up); writing needs the role ``secretary`` or ``admin`` *in that group*
  (:meth:`tradepulse.groups.service.GroupService.role_in`: a Tehran secretary edits Tehran only).
- Dates: the Persian page shows Solar Hijri year / month / day selects (``<name>_y``, ``_m``, ``_d``), the
  English page an ISO date input (``<name>``); typed text follows the CLI rule (year < 1700 → SH).  Every
  date is stored Gregorian; a malformed or out-of-range one is refused with 422.
- After a save the browser returns to the page it came from (``back``: its filters and language kept),
  with a flash message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from tradepulse.errors import TradepulseError
from tradepulse.web.data import DataContext, Unavailable, require
from tradepulse.web.security import ROLE_RANK, check_csrf, forget_sessions, require_role

router = APIRouter(include_in_schema=False)

#: Blank rows offered by the meeting form.
DECISION_ROWS, ACTION_ROWS = 4, 4


# ---------------------------------------------------------------- helpers
def form_day(form: Mapping[str, Any], name: str, what: str) -> dt.date | None:
    """The Gregorian date a form sends as ``name`` (typed) or ``name_y``/``name_m``/``name_d`` (SH selects);
    None when empty; 422 with one line when malformed or out of range."""
    dates = require("tradepulse.groups.dates")
    y, m, d = (str(form.get(f"{name}_{k}", "") or "").strip() for k in "ymd")
    try:
        if y or m or d:
            if not (y and m and d):
                raise dates.DateInputError(f"{what}: choose year, month and day")
            if not (y.isdigit() and m.isdigit() and d.isdigit()):
                raise dates.DateInputError(f"{what}: year, month and day must be numbers")
            return dates.sh_to_gregorian(int(y), int(m), int(d), what)
        return dates.parse_day(str(form.get(name, "") or ""), "auto", what)
    except dates.DateInputError as exc:
        raise HTTPException(422, str(exc)) from None


def safe_back(back: str | None, default: str = "/groups") -> str:
    """A same-site path to return to (no scheme, no host), without an old ``msg``."""
    if not back or not back.startswith("/") or back.startswith("//") or "\\" in back:
        return default
    parts = urllib.parse.urlsplit(back)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "msg"]
    return urllib.parse.urlunsplit(("", "", parts.path, urllib.parse.urlencode(query), ""))


def back_with(back: str, msg: str, anchor: str = "") -> RedirectResponse:
    sep = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{sep}msg={urllib.parse.quote(msg)}{anchor}", status_code=303)


def service(session):
    return require("tradepulse.groups.service", "GroupService")(session)


def group_editor(request: Request, svc, group_id: int) -> dict:
    """The logged-in user if they may edit ``group_id``: 401 anonymous, 403 without the role there."""
    user = require_role(request, "viewer")
    role = svc.role_in(user["username"], group_id)
    if ROLE_RANK.get(role or "", 0) < ROLE_RANK["secretary"]:
        raise HTTPException(403, f"needs role secretary in this working group; you are {role or 'not a member'}")
    return user


async def _posted(request: Request):
    """The POSTed form, its CSRF token checked."""
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    return form


def _version(form: Mapping[str, Any]) -> int:
    """The record version the editor saw (optimistic locking); 422 when it is not a whole number."""
    version = str(form.get("version", ""))
    if not version.isdigit():
        raise HTTPException(422, "version: a whole number is required")
    return int(version)


@contextlib.contextmanager
def _editing(request: Request, form: Mapping[str, Any], group_of: Callable[[Any], int]) -> Iterator[tuple]:
    """A groups-database session for an edit: ``(service, back URL, editing user)``, the user checked as an
    editor of the group that ``group_of(service)`` names."""
    ctx: DataContext = request.app.state.ctx
    with ctx.session() as session:
        svc = service(session)
        gid = group_of(svc)
        back = safe_back(str(form.get("back", "")), f"/groups?group={gid}")
        yield svc, back, group_editor(request, svc, gid)

def may_edit(request: Request, svc, group_id: int) -> bool:
    try:
        group_editor(request, svc, group_id)
        return True
    except HTTPException:
        return False


def roadmap_links(lang: str) -> list[tuple[str, str]]:
    """(id, label) of the roadmap's axes (targets without a parent) and targets, for decision links."""
    try:
        rm = require("tradepulse.roadmap")
        targets = rm.load_roadmap(None).targets
    except (Unavailable, TradepulseError, OSError):
        return []
    axes = [(t.id, f"▸ {t.title(lang)}") for t in targets if not t.parent]
    subs = [(t.id, f"  {t.title(lang)}") for t in targets if t.parent]
    return axes + subs


def _owners(grp) -> list:
    owners = list(grp.members)
    if grp.secretariat is not None and grp.secretariat not in owners:
        owners.insert(0, grp.secretariat)
    return owners


def _render(request: Request, template: str, **context: Any) -> HTMLResponse:
    from tradepulse.web.pages.render import render
    dates = require("tradepulse.groups.dates")
    return render(request, template, sh_parts=dates.sh_parts, sh_year_now=dates.sh_parts(dt.date.today())[0],
                  **context)


def _lang(request: Request) -> str:
    from tradepulse.web.pages.render import lang_of
    return lang_of(request)


def _gettext(request: Request):
    from tradepulse.web.pages.render import fmt_of
    return fmt_of(_lang(request)).gettext


# ---------------------------------------------------------------- meetings
@router.get("/groups/{group_id}/meetings/new", response_class=HTMLResponse)
def meeting_form(request: Request, group_id: int, back: str = ""):
    ctx: DataContext = request.app.state.ctx
    lang = _lang(request)
    with ctx.session() as session:
        svc = service(session)
        grp = svc.group(group_id)
        group_editor(request, svc, grp.id)
        people = [dict(id=p.id, name=p.full_name, institution=p.institution.name(lang), role=p.role)
                  for p in svc.people(grp.id)]
        owners = [(i.code, i.name(lang)) for i in _owners(grp)]
        title = grp.title(lang)
    _ = _gettext(request)
    return _render(request, "meeting_form.html", title=_("Record a meeting") + " · " + title,
                   group_id=group_id, people=people, owners=owners, links=roadmap_links(lang),
                   decision_rows=range(DECISION_ROWS), action_rows=range(ACTION_ROWS), m=None,
                   back=safe_back(back, f"/groups?group={group_id}"), today=dt.date.today())


@router.post("/groups/{group_id}/meetings")
async def meeting_create(request: Request, group_id: int):
    form = await _posted(request)
    ctx: DataContext = request.app.state.ctx
    back = safe_back(str(form.get("back", "")), f"/groups?group={group_id}")
    day = form_day(form, "date", "meeting date")
    if day is None:
        raise HTTPException(422, "meeting date: a meeting needs a date")
    present, absent = [], []
    for key, value in form.items():
        if key.startswith("att_") and key[4:].isdigit():
            (present if value == "present" else absent if value == "absent" else []).append(int(key[4:]))
    decisions = []
    for i in range(DECISION_ROWS * 4):
        text = str(form.get(f"dec_text_{i}", "")).strip()
        if text:
            decisions.append(dict(text=text[:4000], owner=str(form.get(f"dec_owner_{i}", "")) or None,
                                  target_id=str(form.get(f"dec_link_{i}", "")) or None, row=i))
    rows = {d.pop("row"): n for n, d in enumerate(decisions)}
    actions = []
    for i in range(ACTION_ROWS * 4):
        title = str(form.get(f"act_title_{i}", "")).strip()
        if not title:
            continue
        dec = str(form.get(f"act_decision_{i}", ""))
        actions.append(dict(title=title[:2000], owner=str(form.get(f"act_owner_{i}", "")),
                            deadline=form_day(form, f"act_deadline_{i}", "deadline"),
                            decision=rows.get(int(dec)) if dec.isdigit() else None))
    with ctx.session() as session:
        svc = service(session)
        user = group_editor(request, svc, group_id)
        try:
            m = svc.record_meeting(group_id, day, title=str(form.get("title", ""))[:255],
                                   minutes=str(form.get("minutes", ""))[:20000], attendees=present, absent=absent,
                                   decisions=decisions, actions=actions, actor=user["username"])
        except TradepulseError as exc:
            raise HTTPException(422, str(exc)) from None
        mid = m.id
    return back_with(back, "meeting-saved", f"#meeting-{mid}")


def _decision_rows(form) -> list[dict]:
    out = []
    for i in range(DECISION_ROWS * 4):
        text = str(form.get(f"dec_text_{i}", "")).strip()
        if text:
            out.append(dict(text=text[:4000], owner=str(form.get(f"dec_owner_{i}", "")) or None,
                            target_id=str(form.get(f"dec_link_{i}", "")) or None))
    return out


@router.get("/groups/meetings/{meeting_id}/edit", response_class=HTMLResponse)
def meeting_edit_form(request: Request, meeting_id: int, back: str = ""):
    ctx: DataContext = request.app.state.ctx
    lang = _lang(request)
    with ctx.session() as session:
        svc = service(session)
        m = svc.meeting(meeting_id)
        grp = m.group
        group_editor(request, svc, grp.id)
        people = [dict(id=p.id, name=p.full_name, institution=p.institution.name(lang), role=p.role)
                  for p in svc.people(grp.id)]
        data = dict(id=m.id, date=m.date, title=m.title, minutes=m.minutes, version=m.version,
                    attendance={p.id: "present" if ok else "absent" for p, ok in svc.attendance(m)},
                    decisions=[d.text for d in m.decisions])
        owners = [(i.code, i.name(lang)) for i in _owners(grp)]
        gid, title = grp.id, grp.title(lang)
    _ = _gettext(request)
    return _render(request, "meeting_form.html", title=_("Meeting") + " · " + title, group_id=gid, people=people,
                   owners=owners, links=roadmap_links(lang), decision_rows=range(DECISION_ROWS), action_rows=(),
                   m=data, back=safe_back(back, f"/groups?group={gid}"), today=dt.date.today())


@router.post("/groups/meetings/{meeting_id}/edit")
async def meeting_update(request: Request, meeting_id: int):
    """Change a meeting's date, title, minutes and attendance and add decisions (optimistic locking on
    ``version``; one undo step)."""
    form = await _posted(request)
    day = form_day(form, "date", "meeting date")
    if day is None:
        raise HTTPException(422, "meeting date: a date is required")
    version = _version(form)
    present = [int(k[4:]) for k, v in form.items() if k.startswith("att_") and k[4:].isdigit() and v == "present"]
    absent = [int(k[4:]) for k, v in form.items() if k.startswith("att_") and k[4:].isdigit() and v == "absent"]
    svc_mod = require("tradepulse.groups.service")
    with _editing(request, form, lambda svc: svc.meeting(meeting_id).group_id) as (svc, back, user):
        try:
            svc.update_meeting(meeting_id, user["username"], title=str(form.get("title", ""))[:255],
                               minutes=str(form.get("minutes", ""))[:20000], date=day, attendees=present,
                               absent=absent, expected_version=version, new_decisions=_decision_rows(form))
        except svc_mod.ConflictError:
            return back_with(back, "conflict", f"#meeting-{meeting_id}")
        except TradepulseError as exc:
            raise HTTPException(422, str(exc)) from None
    return back_with(back, "meeting-saved", f"#meeting-{meeting_id}")


@router.get("/groups/meetings/{meeting_id}", response_class=HTMLResponse)
def meeting_page(request: Request, meeting_id: int, back: str = ""):
    require_role(request, "viewer")
    ctx: DataContext = request.app.state.ctx
    lang = _lang(request)
    with ctx.session() as session:
        svc = service(session)
        m = svc.meeting(meeting_id)
        links = dict(roadmap_links(lang))
        data = dict(id=m.id, group_id=m.group_id, group=m.group.title(lang), date=m.date, title=m.title,
                    minutes=m.minutes,
                    attendance=[dict(name=p.full_name, institution=p.institution.name(lang), present=ok)
                                for p, ok in svc.attendance(m)],
                    decisions=[dict(id=d.id, text=d.text, owner=d.owner.name(lang) if d.owner else "",
                                    link=links.get(d.target_id, d.target_id or "").lstrip("▸ ").strip(),
                                    actions=[dict(id=a.id, title=a.title, status=a.status)
                                             for a in svc.actions(m.group_id) if a.decision_id == d.id])
                               for d in m.decisions])
        editable = may_edit(request, svc, m.group_id)
    _ = _gettext(request)
    return _render(request, "meeting.html", title=_("Meeting") + f" · {data['group']}",
                   m=data, editable=editable, back=safe_back(back, f"/groups?group={data['group_id']}"))


# ---------------------------------------------------------------- action items
def _action_context(request: Request, svc, grp, lang: str) -> dict:
    return dict(owners=[(i.code, i.name(lang)) for i in _owners(grp)], links=roadmap_links(lang),
                decisions=[(d.id, f"{d.meeting.date.isoformat()} · {d.text[:60]}") for d in svc.decisions(grp.id)],
                statuses=require("tradepulse.groups.models", "ACTION_STATUSES"))


@router.get("/groups/{group_id}/actions/new", response_class=HTMLResponse)
def action_new_form(request: Request, group_id: int, back: str = ""):
    ctx: DataContext = request.app.state.ctx
    lang = _lang(request)
    with ctx.session() as session:
        svc = service(session)
        grp = svc.group(group_id)
        group_editor(request, svc, grp.id)
        extra = _action_context(request, svc, grp, lang)
        title = grp.title(lang)
    _ = _gettext(request)
    return _render(request, "action_form.html", title=_("New action item") + " · " + title,
                   a=None, group_id=group_id, back=safe_back(back, f"/groups?group={group_id}"), **extra)


@router.post("/groups/{group_id}/actions")
async def action_create(request: Request, group_id: int):
    form = await _posted(request)
    ctx: DataContext = request.app.state.ctx
    back = safe_back(str(form.get("back", "")), f"/groups?group={group_id}")
    deadline = form_day(form, "deadline", "deadline")
    dec = str(form.get("decision_id", ""))
    with ctx.session() as session:
        svc = service(session)
        user = group_editor(request, svc, group_id)
        try:
            a = svc.add_action(group_id, str(form.get("title", "")).strip()[:2000], str(form.get("owner", "")),
                               deadline, decision_id=int(dec) if dec.isdigit() else None,
                               status=str(form.get("status", "open")),
                               target_id=str(form.get("target_id", "")) or None,
                               indicator=str(form.get("indicator", "")).strip() or None,
                               note=str(form.get("note", ""))[:4000], actor=user["username"])
        except TradepulseError as exc:
            raise HTTPException(422, str(exc)) from None
        aid = a.id
    return back_with(back, "saved", f"#action-{aid}")


@router.get("/groups/actions/{action_id}/edit", response_class=HTMLResponse)
def action_edit_form(request: Request, action_id: int, back: str = ""):
    ctx: DataContext = request.app.state.ctx
    lang = _lang(request)
    with ctx.session() as session:
        svc = service(session)
        a = svc.action(action_id)
        group_editor(request, svc, a.group_id)
        extra = _action_context(request, svc, a.group, lang)
        item = dict(id=a.id, title=a.title, owner=a.owner.code, deadline=a.deadline, status=a.status,
                    target_id=a.target_id or "", indicator=a.indicator or "", note=a.note or "",
                    decision_id=a.decision_id, version=a.version, group=a.group.title(lang))
        gid = a.group_id
    _ = _gettext(request)
    return _render(request, "action_form.html", title=_("Edit action item") + f" #{action_id}",
                   a=item, group_id=gid, back=safe_back(back, f"/groups?group={gid}"), **extra)


@router.post("/groups/actions/{action_id}/edit")
async def action_update(request: Request, action_id: int):
    """Every field of an action item (title, owner = reassign, deadline, status, link, indicator, note,
    decision), optimistic locking on ``version``."""
    form = await _posted(request)
    deadline = form_day(form, "deadline", "deadline")
    version = _version(form)
    svc_mod = require("tradepulse.groups.service")
    with _editing(request, form, lambda svc: svc.action(action_id).group_id) as (svc, back, user):
        changes = {k: str(form.get(k, "")).strip() for k in ("title", "owner", "status", "note")
                   if form.get(k) is not None}
        changes["deadline"] = deadline
        for k in ("target_id", "indicator", "decision_id"):
            if form.get(k) is not None:
                changes[k] = str(form.get(k, "")).strip() or None
        try:
            svc.update_action(action_id, version, user["username"], **changes)
        except svc_mod.ConflictError:
            return back_with(back, "conflict", f"#action-{action_id}")
        except TradepulseError as exc:
            raise HTTPException(422, str(exc)) from None
    return back_with(back, "saved", f"#action-{action_id}")


@router.post("/groups/actions/{action_id}/close")
async def action_close(request: Request, action_id: int):
    """Close an item (status done) with a closing note appended to its note."""
    form = await _posted(request)
    version = _version(form)
    svc_mod = require("tradepulse.groups.service")
    with _editing(request, form, lambda svc: svc.action(action_id).group_id) as (svc, back, user):
        old = svc.action(action_id).note
        note = str(form.get("note", "")).strip()[:4000]
        full = f"{old}\n{note}".strip() if old and note else (note or old)
        try:
            svc.update_action(action_id, version, user["username"], status="done", note=full)
        except svc_mod.ConflictError:
            return back_with(back, "conflict", f"#action-{action_id}")
    return back_with(back, "closed", f"#action-{action_id}")


@router.post("/groups/{group_id}/undo")
async def undo(request: Request, group_id: int):
    """Undo the current user's last change in this group (one unit of work: a meeting with its decisions
    and actions, an edit, a close)."""
    form = await _posted(request)
    svc_mod = require("tradepulse.groups.service")
    with _editing(request, form, lambda _svc: group_id) as (svc, back, user):
        try:
            n = svc.undo_last(user["username"], group_id)
        except svc_mod.ConflictError:
            return back_with(back, "undo-conflict")
    return back_with(back, "undone" if n else "nothing-to-undo")


# ---------------------------------------------------------------- per-group roles (admin)
@router.get("/admin/group-roles", response_class=HTMLResponse)
def group_roles_page(request: Request, msg: str = ""):
    """Who has which role in which working group (global admins are admins everywhere)."""
    require_role(request, "admin")
    ctx: DataContext = request.app.state.ctx
    lang = _lang(request)
    with ctx.session() as session:
        svc = service(session)
        groups = [(g.id, g.title(lang)) for g in svc.groups()]
        rows = [dict(username=u.username, role=u.role, roles=svc.group_roles(u.username)) for u in svc.users()]
    _ = _gettext(request)
    return _render(request, "group_roles.html", title=_("Roles in working groups"), groups=groups, rows=rows,
                   roles=require("tradepulse.groups.models", "ROLES"), msg=msg[:40])


@router.post("/admin/group-roles")
async def group_roles_post(request: Request):
    form = await _posted(request)
    admin = require_role(request, "admin")
    ctx: DataContext = request.app.state.ctx
    group = str(form.get("group", ""))
    role = str(form.get("role", ""))
    with ctx.session() as session:
        try:
            service(session).set_group_role(str(form.get("username", "")), int(group) if group.isdigit() else group,
                                            role or None, actor=admin["username"])   # ends the user's sessions
        except TradepulseError as exc:
            raise HTTPException(422, str(exc)) from None
    forget_sessions()                          # and this process's cached look-ups of them
    return back_with(safe_back(str(form.get("back", "")), "/admin/group-roles"), "saved")
