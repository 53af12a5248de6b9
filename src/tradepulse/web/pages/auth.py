"""Log in and log out (``/login``, ``/logout``)."""

from __future__ import annotations

import math

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from tradepulse.web.data import DataContext, require
from tradepulse.web.pages.render import fmt_of, lang_of, render
from tradepulse.web.security import (check_csrf, rotate_csrf)

router = APIRouter(include_in_schema=False)


def _safe_next(nxt: str | None) -> str:
    return nxt if nxt and nxt.startswith("/") and not nxt.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/"):
    _ = fmt_of(lang_of(request)).gettext
    return render(request, "login.html", title=_("Log in"), next=_safe_next(next),
                  error=None)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, username: str = Form(..., max_length=128), password: str = Form(..., max_length=1024),
          csrf_token: str = Form(""), next: str = Form("/")):
    check_csrf(request, csrf_token)
    lang = lang_of(request)
    _ = fmt_of(lang).gettext
    limiter = request.app.state.limiter
    ip = request.client.host if request.client else "?"
    wait = limiter.blocked(username, ip)
    if wait > 0:
        resp = render(request, "login.html", status=429, title=_("Log in"), next=_safe_next(next),
                      error=_("Too many failed attempts; wait a minute."))
        resp.headers["Retry-After"] = str(int(math.ceil(wait)))
        return resp
    ctx: DataContext = request.app.state.ctx
    svc_mod = require("tradepulse.groups.service")
    with ctx.session() as session:
        user = svc_mod.GroupService(session).authenticate(username, password)
        info = {"username": user.username, "role": user.role} if user is not None else None
    if info is None:
        limiter.failure(username, ip)
        return render(request, "login.html", status=401, title=_("Log in"), next=_safe_next(next),
                      error=_("Wrong user name or password."))
    limiter.success(username, ip)
    request.session.clear()
    request.session["user"] = info
    rotate_csrf(request)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")):
    check_csrf(request, csrf_token)
    request.session.clear()
    return RedirectResponse("/", status_code=303)


