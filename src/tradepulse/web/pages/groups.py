"""Working-group pages (``/groups``): meetings and action items, editing an action, CSV import.

Group data needs a login (viewer and up); editing needs the role secretary in *that* group
(:func:`tradepulse.web.group_forms.group_editor`; the forms of issue 16 live in :mod:`tradepulse.web.group_forms`).
After a save the browser returns to the page it came from, filters and language kept (``back``)."""

from __future__ import annotations

import datetime as dt
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from tradepulse.errors import InputError, TradepulseError
from tradepulse.web.data import DataContext, GroupsUnavailable, Unavailable, require
from tradepulse.web.pages.render import fmt_of, lang_of, render
from tradepulse.web.security import MAX_UPLOAD, check_csrf, require_group_reader, require_role

router = APIRouter(include_in_schema=False)


def _group_rows(svc, lang: str, group: str | None, today: dt.date, user: dict | None = None) -> dict:
    fmt = fmt_of(lang)
    groups = svc.groups()
    meetings = svc.meetings(group=group)[-20:][::-1]
    actions = svc.actions(group=group)
    editable = {g.id for g in groups if user and svc.role_in(user["username"], g.id) in ("secretary", "admin")}
    meeting_rows = []
    for m in meetings:
        att = svc.attendance(m)
        meeting_rows.append(dict(id=m.id, group=m.group.title(lang), date=fmt.numeric_date(m.date), title=m.title,
                                 decisions=[d.text for d in m.decisions], minutes=(m.minutes or "")[:240],
                                 present=[p.full_name for p, ok in att if ok],
                                 absent=[p.full_name for p, ok in att if not ok]))
    return dict(
        groups=[dict(id=g.id, name=g.title(lang), province=g.province or "", scope=g.scope) for g in groups],
        meetings=meeting_rows, editable=editable,
        actions=[dict(id=a.id, group=a.group.title(lang), group_id=a.group_id, title=a.title, owner=a.owner.name(lang),
                      owner_code=a.owner.code, deadline=fmt.numeric_date(a.deadline), deadline_date=a.deadline,
                      deadline_iso=a.deadline.isoformat() if a.deadline else "", status=a.status,
                      version=a.version, note=a.note or "", overdue=a.is_overdue(today)) for a in actions],
    )


def _back_of(request: Request) -> str:
    """This page's path and query (filters, language), for forms to return to after a save."""
    q = [(k, v) for k, v in request.query_params.multi_items() if k != "msg"]
    if "lang" not in request.query_params and lang_of(request) != "en":
        q.append(("lang", lang_of(request)))
    return request.url.path + ("?" + urllib.parse.urlencode(q) if q else "")


@router.get("/groups", response_class=HTMLResponse)
def groups_page(request: Request, group: int | None = Query(None, ge=1, le=10**9), msg: str = ""):
    ctx: DataContext = request.app.state.ctx
    # group data needs a login (viewer and up); without a groups database the page only says so
    user = require_group_reader(request) if ctx.groups_url else None     # a broken database: 503 first
    lang = lang_of(request)
    _ = fmt_of(lang).gettext
    try:
        svc_mod = require("tradepulse.groups.service")
        with ctx.session() as session:
            data = _group_rows(svc_mod.GroupService(session), lang, group, dt.date.today(), user)
        state, message = "ok", ""
    except Unavailable as exc:
        data, state, message = {}, "unavailable", exc.what
    except GroupsUnavailable:
        raise                                  # 503 page (app handler), logged
    except TradepulseError as exc:
        data, state, message = {}, "error", str(exc)
    try:
        statuses = require("tradepulse.groups.models", "ACTION_STATUSES")
        sh_parts = require("tradepulse.groups.dates", "sh_parts")
    except Unavailable:
        statuses, sh_parts = (), None
    return render(request, "groups.html", title=_("Working groups"), state=state, message=message,
                  selected=group, statuses=statuses, msg=msg[:40], back=_back_of(request), sh_parts=sh_parts,
                  sh_year_now=sh_parts(dt.date.today())[0] if sh_parts else 0, **data)


@router.post("/groups/actions/{action_id}")
def edit_action(request: Request, action_id: int = PathParam(..., ge=1, le=2**63 - 1),
                version: int = Form(..., ge=0, le=2**63 - 1),
                status: str = Form(..., max_length=16), note: str = Form("", max_length=4000),
                deadline: str = Form("", max_length=10), deadline_y: str = Form("", max_length=4),
                deadline_m: str = Form("", max_length=2), deadline_d: str = Form("", max_length=2),
                back: str = Form("", max_length=2000), csrf_token: str = Form("")):
    """Status, note and deadline of one action item (secretary of its group); the deadline typed (year
    < 1700 → Solar Hijri) or from the Persian page's SH selects, 1900–2100 Gregorian (else 422)."""
    from tradepulse.web.group_forms import back_with, form_day, group_editor, safe_back
    check_csrf(request, csrf_token)
    require_role(request, "viewer")
    ctx: DataContext = request.app.state.ctx
    svc_mod = require("tradepulse.groups.service")
    changes: dict[str, Any] = {"status": status, "note": note}
    day = form_day({"deadline": deadline, "deadline_y": deadline_y, "deadline_m": deadline_m,
                    "deadline_d": deadline_d}, "deadline", "deadline")
    if day is not None:
        changes["deadline"] = day
    with ctx.session() as session:
        svc = svc_mod.GroupService(session)
        user = group_editor(request, svc, svc.action(action_id).group_id)   # secretary of this group
        to = safe_back(back)
        try:
            svc.update_action(action_id, version, user["username"], **changes)
        except svc_mod.ConflictError:
            return back_with(to, "conflict", f"#action-{action_id}")
    return back_with(to, "saved", f"#action-{action_id}")


@router.post("/groups/import")
async def import_actions(request: Request, file: UploadFile = File(...), csrf_token: str = Form(""),
                         back: str = Form("", max_length=2000)):
    """Import ``actions.csv`` (or ``meetings.csv``): the page's own download or the CLI export (format of
    :mod:`tradepulse.groups.csvio`; idempotent: ids update, unchanged rows stay), ≤ 5 MB.  A dry run first
    finds the groups the file changes: the user must be secretary in every one of them (else 403, nothing
    written).

    Runs in the worker pool.  A file that is not UTF-8 CSV, or a bad row, is a 422 naming the file, the
    line and the column — never a server path."""
    from tradepulse.web.group_forms import back_with, group_editor, safe_back
    check_csrf(request, csrf_token)
    user = require_role(request, "viewer")
    body = await file.read(MAX_UPLOAD + 1)
    if len(body) > MAX_UPLOAD:
        raise HTTPException(413, f"file larger than {MAX_UPLOAD // (1024 * 1024)} MB")
    csvio = require("tradepulse.groups.csvio")
    svc_mod = require("tradepulse.groups.service")
    ctx: DataContext = request.app.state.ctx
    name = "meetings" if (file.filename or "").endswith("meetings.csv") else "actions"

    def run():
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / f"{name}.csv").write_bytes(body)
            try:
                with ctx.session() as session:
                    svc = svc_mod.GroupService(session)
                    dry = csvio.import_csv(svc, tmp, actor=user["username"], dry_run=True)
                    changed = {c[1] for c in dry.changes}
                    for gid in _touched_groups(svc, tmp, name, changed):   # secretary of every group it changes
                        group_editor(request, svc, gid)
                    return csvio.import_csv(svc, tmp, actor=user["username"])
            except InputError as exc:
                msg = str(exc).replace(str(Path(tmp) / f"{name}.csv"), f"{name}.csv").replace(tmp, "")
                raise HTTPException(422, msg) from None
    report = await request.app.state.computer.run(request, None, run, local=True)   # needs the request
    return back_with(safe_back(back), f"imported-{report.changed_rows}")


def _touched_groups(svc, folder: str, name: str, lines: set[int]) -> set[int]:
    """Ids of the groups named by the given lines (1 = header) of an uploaded file (already read once by
    the dry run, so it is UTF-8 CSV)."""
    import csv as _csv
    keys = require("tradepulse.groups.csvio")._header_keys()
    with open(Path(folder) / f"{name}.csv", newline="", encoding="utf-8-sig") as fh:
        rows = list(_csv.reader(fh))
    if not rows:
        return set()
    cols = [keys.get(h.strip(), keys.get(h.strip().casefold(), h.strip())) for h in rows[0]]
    if "group" not in cols:
        return set()
    at = cols.index("group")
    out = set()
    for i, r in enumerate(rows[1:], start=2):
        if i in lines and len(r) > at and r[at].strip():
            try:
                out.add(svc.group(r[at].strip()).id)
            except TradepulseError:
                pass
    return out
