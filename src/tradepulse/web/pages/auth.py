"""Log in and log out (``/login``, ``/logout``)."""

from __future__ import annotations

import math

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from tradepulse.groups.auth import Accounts
from tradepulse.web.data import DataContext
from tradepulse.web.pages.render import fmt_of, lang_of, render
from tradepulse.web.security import check_csrf, client_ip, forget_sessions, rotate_csrf

router = APIRouter(include_in_schema=False)


def _safe_next(nxt: str | None) -> str:
    return nxt if nxt and nxt.startswith("/") and not nxt.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/"):
    _ = fmt_of(lang_of(request)).gettext
    return render(request, "login.html", title=_("Log in"), next=_safe_next(next),
                  error=None)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, username: str = Form(..., max_length=256), password: str = Form(..., max_length=1024),
          csrf_token: str = Form(""), next: str = Form("/")):
    """Check the password (same time for unknown users), start a server-side session, rotate the CSRF token.
    Failures count per (name, IP), per IP and per name (:class:`~tradepulse.web.security.LoginRateLimiter`)."""
    check_csrf(request, csrf_token)
    lang = lang_of(request)
    _ = fmt_of(lang).gettext
    limiter = request.app.state.limiter
    ip = client_ip(request)
    wait = limiter.blocked(username, ip)
    if wait > 0:
        resp = render(request, "login.html", status=429, title=_("Log in"), next=_safe_next(next),
                      error=_("Too many failed attempts; wait a minute."))
        resp.headers["Retry-After"] = str(math.ceil(wait))
        return resp
    ctx: DataContext = request.app.state.ctx
    with ctx.session() as session:
        accounts = Accounts(session)
        user = accounts.authenticate(username, password)
        token = accounts.start_session(user) if user is not None else None
    if token is None:
        limiter.failure(username, ip)
        return render(request, "login.html", status=401, title=_("Log in"), next=_safe_next(next),
                      error=_("Wrong user name or password."))
    limiter.success(username, ip)
    old = request.session.get("sid")
    request.session.clear()
    forget_sessions(old)
    request.session["sid"] = token
    rotate_csrf(request)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")):
    """End the server-side session (a replayed cookie is then anonymous) and clear the cookie."""
    check_csrf(request, csrf_token)
    token = request.session.get("sid")
    if isinstance(token, str):
        try:
            with request.app.state.ctx.session() as session:
                Accounts(session).end_session(token)
        finally:
            forget_sessions(token)
    request.session.clear()
    return RedirectResponse("/", status_code=303)
