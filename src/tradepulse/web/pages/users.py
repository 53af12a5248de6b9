"""User administration (``/admin/users``, admin only)."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from tradepulse.errors import TradepulseError
from tradepulse.web.data import DataContext, require
from tradepulse.web.pages.render import fmt_of, lang_of, render, role_label
from tradepulse.web.security import check_csrf, forget_sessions, require_role

router = APIRouter(include_in_schema=False)


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, msg: str = ""):
    require_role(request, "admin")
    ctx: DataContext = request.app.state.ctx
    svc_mod = require("tradepulse.groups.service")
    with ctx.session() as session:
        users = [dict(username=u.username, role=u.role, active=u.active) for u in svc_mod.GroupService(session).users()]
    from tradepulse.groups.models import ROLES
    lang = lang_of(request)
    q = request.query_params
    text, cls = _users_flash(msg, q.get("user", "")[:128], q.get("role", "")[:16], q.get("error", "")[:300], lang)
    return render(request, "users.html", title=fmt_of(lang).gettext("Users"), users=users, roles=ROLES, msg=text,
                  msg_class=cls)


def _users_flash(code: str, user: str, role: str, error: str, lang: str) -> tuple[str, str]:
    """The flash message of the users page from the redirect's ``msg`` code (``created``, ``role``,
    ``short-password``, ``error`` with the error text), translated; (text, css class)."""
    _ = fmt_of(lang).gettext
    if code == "created":
        return _("created {user} ({role})").format(user=user, role=role_label(role, lang)), "ok"
    if code == "role":
        return _("{user} is now {role}").format(user=user, role=role_label(role, lang)), "ok"
    if code == "short-password":
        return _("a password needs at least 8 characters"), "error"
    if code == "error":
        return error, "error"
    return "", "ok"


@router.post("/admin/users")
def users_post(request: Request, username: str = Form(..., min_length=1, max_length=128),
               role: str = Form(..., max_length=16), password: str = Form("", max_length=1024),
               csrf_token: str = Form("")):
    """Create a user (with ``password``; name and password policy of :mod:`tradepulse.groups.auth`) or,
    without a password, change an existing user's role (ending its sessions; never the last admin's)."""
    check_csrf(request, csrf_token)
    admin = require_role(request, "admin")
    ctx: DataContext = request.app.state.ctx
    svc_mod = require("tradepulse.groups.service")
    q: dict[str, str] = {"user": username, "role": role}
    with ctx.session() as session:
        svc = svc_mod.GroupService(session)
        try:
            if password and len(password) < 8:
                q = {"msg": "short-password"}
            elif password:
                svc.create_user(username, password, role, actor=admin["username"])
                q["msg"] = "created"
            else:
                svc.set_role(username, role, actor=admin["username"])   # ends that user's sessions
                forget_sessions()
                q["msg"] = "role"
        except TradepulseError as exc:
            q = {"msg": "error", "error": str(exc)}
    return RedirectResponse(f"/admin/users?{urllib.parse.urlencode(q)}", status_code=303)


