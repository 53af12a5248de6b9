"""Working-group pages (``/groups``): meetings and action items, editing an action, CSV import."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse

from tradepulse.errors import InputError, TradepulseError
from tradepulse.web.data import DataContext, GroupsUnavailable, Unavailable, require
from tradepulse.web.pages.render import fmt_of, lang_of, render
from tradepulse.web.security import MAX_UPLOAD, check_csrf, require_role

router = APIRouter(include_in_schema=False)


def _group_rows(svc, lang: str, group: str | None, today: dt.date) -> dict:
    fmt = fmt_of(lang)
    groups = svc.groups()
    meetings = svc.meetings(group=group)[-20:][::-1]
    actions = svc.actions(group=group)
    return dict(
        groups=[dict(id=g.id, name=g.title(lang), province=g.province or "", scope=g.scope) for g in groups],
        meetings=[dict(id=m.id, group=m.group.title(lang), date=fmt.numeric_date(m.date), title=m.title,
                       decisions=[d.text for d in m.decisions],
                       attendees=len(m.attendees)) for m in meetings],
        actions=[dict(id=a.id, group=a.group.title(lang), title=a.title, owner=a.owner.name(lang),
                      owner_code=a.owner.code, deadline=fmt.numeric_date(a.deadline),
                      deadline_iso=a.deadline.isoformat() if a.deadline else "", status=a.status,
                      version=a.version, note=a.note or "", overdue=a.is_overdue(today)) for a in actions],
    )


@router.get("/groups", response_class=HTMLResponse)
def groups_page(request: Request, group: int | None = Query(None, ge=1, le=10**9), msg: str = ""):
    lang = lang_of(request)
    _ = fmt_of(lang).gettext
    ctx: DataContext = request.app.state.ctx
    try:
        svc_mod = require("tradepulse.groups.service")
        with ctx.session() as session:
            data = _group_rows(svc_mod.GroupService(session), lang, group, dt.date.today())
        state, message = "ok", ""
    except Unavailable as exc:
        data, state, message = {}, "unavailable", exc.what
    except GroupsUnavailable:
        raise                                  # 503 page (app handler), logged
    except TradepulseError as exc:
        data, state, message = {}, "error", str(exc)
    try:
        statuses = require("tradepulse.groups.models", "ACTION_STATUSES")
    except Unavailable:
        statuses = ()
    return render(request, "groups.html", title=_("Working groups"), state=state, message=message,
                  selected=group, statuses=statuses, msg=msg[:40], **data)


@router.post("/groups/actions/{action_id}")
def edit_action(request: Request, action_id: int = PathParam(..., ge=1, le=2**63 - 1),
                version: int = Form(..., ge=0, le=2**63 - 1),
                status: str = Form(..., max_length=16), note: str = Form("", max_length=4000),
                deadline: str = Form("", max_length=10), csrf_token: str = Form("")):
    check_csrf(request, csrf_token)
    user = require_role(request, "secretary")
    ctx: DataContext = request.app.state.ctx
    svc_mod = require("tradepulse.groups.service")
    changes: dict[str, Any] = {"status": status, "note": note}
    if deadline:
        changes["deadline"] = deadline
    with ctx.session() as session:
        try:
            svc_mod.GroupService(session).update_action(action_id, version, user["username"], **changes)
        except svc_mod.ConflictError:
            return RedirectResponse(f"/groups?msg=conflict#action-{action_id}", status_code=303)
    return RedirectResponse(f"/groups?msg=saved#action-{action_id}", status_code=303)


@router.post("/groups/import")
async def import_actions(request: Request, file: UploadFile = File(...), csrf_token: str = Form("")):
    """Import action items from one ``actions.csv`` (format of :mod:`tradepulse.groups.csvio`), ≤ 5 MB.

    Runs in the worker pool.  A file that is not UTF-8 CSV, or a bad row, is a 422 naming ``actions.csv``,
    the line and the column — never a server path."""
    check_csrf(request, csrf_token)
    user = require_role(request, "secretary")
    body = await file.read(MAX_UPLOAD + 1)
    if len(body) > MAX_UPLOAD:
        raise HTTPException(413, f"file larger than {MAX_UPLOAD // (1024 * 1024)} MB")
    csvio = require("tradepulse.groups.csvio")
    svc_mod = require("tradepulse.groups.service")
    ctx: DataContext = request.app.state.ctx

    def run() -> dict[str, int]:
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "actions.csv").write_bytes(body)
            try:
                with ctx.session() as session:
                    return csvio.import_csv(svc_mod.GroupService(session), tmp, actor=user["username"])
            except InputError as exc:
                msg = str(exc).replace(str(Path(tmp) / "actions.csv"), "actions.csv").replace(tmp, "")
                raise HTTPException(422, msg) from None
    added = await request.app.state.computer.run(request, None, run)
    return RedirectResponse(f"/groups?msg=imported-{added.get('actions', 0)}", status_code=303)
