"""Sessions, CSRF tokens, roles, client addresses and login rate limiting for the dashboard.

Conventions (OWASP ASVS 4.0.3 level 2; docs/security.md maps each rule to its test):
- The cookie ``tradepulse_session`` (Starlette ``SessionMiddleware``, signed with itsdangerous, ``HttpOnly``,
  ``SameSite=Lax``, ``Secure`` with ``--secure-cookies``) holds only a CSRF token and, when logged in, a random
  session token.  The session itself is server-side (:mod:`tradepulse.groups.auth`, table ``web_sessions``):
  logout, a role or password change, deactivation, 30 min idle and 12 h absolute end it, so a replayed cookie
  is worthless afterwards.  The user's role is read from the database (cached for :data:`SESSION_TTL`
  seconds in this process; every local revocation clears that cache at once).
- Every POST must carry the session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``;
  synchronizer-token pattern) and, when the browser sends ``Origin`` (or else ``Referer``), it must be this
  site's; a mismatch is 403.  The token is rotated at login (no session fixation).
- Roles are ordered ``viewer < secretary < admin``; a page that needs a role returns 401 when nobody is
  logged in and 403 when the role is too low.
- Client address: the TCP peer; ``X-Forwarded-For`` is believed only when the peer is one of the configured
  trusted proxies (``--trusted-proxy``), and then its right-most untrusted hop is the client.
- Login rate limits (:class:`LoginRateLimiter`), sliding windows: failures per (user name, IP), failures per
  IP over all names (password spraying) and failures per user name over all IPs (distributed guessing, with a
  higher bound so that one attacker cannot lock the real user out).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque

from fastapi import HTTPException, Request

ROLE_RANK = {"viewer": 1, "secretary": 2, "admin": 3}
#: Upload limit for CSV imports (bytes); larger bodies get 413.
MAX_UPLOAD = 5 * 1024 * 1024


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use)."""
    tok = request.session.get("csrf")
    if not tok:
        tok = secrets.token_hex(32)
        request.session["csrf"] = tok
    return tok


def rotate_csrf(request: Request) -> str:
    request.session["csrf"] = secrets.token_hex(32)
    return request.session["csrf"]


def check_csrf(request: Request, submitted: str | None) -> None:
    """Raise 403 unless the request is same-origin (:func:`check_origin`) and ``submitted`` (or the
    X-CSRF-Token header) equals the session token."""
    check_origin(request)
    expected = request.session.get("csrf")
    given = submitted or request.headers.get("x-csrf-token") or ""
    if not expected or not hmac.compare_digest(str(expected), str(given)):
        raise HTTPException(status_code=403, detail="missing or wrong CSRF token; reload the page and retry")


#: Seconds a session look-up is reused within this process (revocations here clear it at once).
SESSION_TTL = 2.0
_SESSION_CACHE: dict[str, tuple[float, dict | None]] = {}
_SESSION_LOCK = threading.Lock()


def forget_sessions(token: str | None = None) -> None:
    """Drop cached session look-ups (one token, or all after a role / password change)."""
    with _SESSION_LOCK:
        if token is None:
            _SESSION_CACHE.clear()
        else:
            _SESSION_CACHE.pop(token, None)


def current_user(request: Request) -> dict | None:
    """``{"username", "role"}`` of the logged-in user (a live server-side session), or None."""
    if hasattr(request.state, "user"):
        return request.state.user
    token = request.session.get("sid")
    user = None
    if isinstance(token, str) and token:
        now = time.monotonic()
        with _SESSION_LOCK:
            hit = _SESSION_CACHE.get(token)
        if hit is not None and hit[0] > now:
            user = hit[1]
        else:
            user = _lookup(request, token)
            with _SESSION_LOCK:
                if len(_SESSION_CACHE) > 10_000:
                    _SESSION_CACHE.clear()
                _SESSION_CACHE[token] = (now + SESSION_TTL, user)
    request.state.user = user
    return user


def _lookup(request: Request, token: str) -> dict | None:
    from tradepulse.groups.auth import Accounts
    try:
        with request.app.state.ctx.session() as session:
            u = Accounts(session).session_user(token)
            return {"username": u.username, "role": u.role} if u is not None and u.role in ROLE_RANK else None
    except Exception:  # noqa: BLE001 - no usable groups database: nobody is logged in
        return None


def client_ip(request: Request) -> str:
    """The client's address: the TCP peer, or the right-most ``X-Forwarded-For`` hop that is not a trusted
    proxy when the peer is one (``app.state.trusted_proxies``)."""
    peer = request.client.host if request.client else "?"
    trusted = getattr(request.app.state, "trusted_proxies", frozenset())
    if peer not in trusted:
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop[:64]
    return peer


def check_origin(request: Request) -> None:
    """403 when the browser says the request comes from another site (``Origin``, else ``Referer``).

    "This site" is the ``Host`` header (``X-Forwarded-Host`` when the peer is a trusted proxy) or one of
    ``app.state.allowed_origins`` (``--allowed-origin``)."""
    import urllib.parse
    host = request.headers.get("host", "")
    peer = request.client.host if request.client else "?"
    if peer in getattr(request.app.state, "trusted_proxies", frozenset()):
        host = request.headers.get("x-forwarded-host", host).split(",")[0].strip()
    origin = request.headers.get("origin")
    source = origin if origin is not None else request.headers.get("referer")
    if source is None:
        return                       # non-browser clients; the CSRF token still applies
    netloc = urllib.parse.urlsplit(source).netloc if source != "null" else "null"
    allowed = getattr(request.app.state, "allowed_origins", frozenset())
    if netloc != host and source.rstrip("/") not in allowed:
        raise HTTPException(status_code=403, detail="cross-site request refused (Origin / Referer is another site)")


def require_role(request: Request, role: str) -> dict:
    """The current user if their role is at least ``role``; else 401 (anonymous) or 403 (too low)."""
    user = current_user(request)
    if user is None:
        raise HTTPException(status_code=401, detail="log in first")
    if ROLE_RANK[user["role"]] < ROLE_RANK[role]:
        raise HTTPException(status_code=403, detail=f"needs role {role} or higher; you are {user['role']}")
    return user


def require_group_reader(request: Request) -> dict:
    """:func:`require_role` ``viewer`` for working-group data (issue 16) — after checking that the
    working-group database opens, so a broken one answers 503 (``GroupsUnavailable``) instead of a login
    that nobody could pass."""
    ctx = request.app.state.ctx
    if ctx.groups_url:
        ctx.session().close()
    return require_role(request, "viewer")


def can(user: dict | None, role: str) -> bool:
    return user is not None and ROLE_RANK.get(user.get("role", ""), 0) >= ROLE_RANK[role]


class LoginRateLimiter:
    """Sliding-window counters of failed logins (thread-safe, in memory).

    Three keys, each with its bound within ``window`` seconds: (user name, IP) ``max_failures``; IP over all
    names ``per_ip`` (spraying); user name over all IPs ``per_account`` (higher, so one source cannot lock
    the real user out).  User names are compared like logins (NFKC, case-insensitive).
    """

    def __init__(self, max_failures: int = 5, window: float = 60.0, clock=time.monotonic, *,
                 per_ip: int | None = None, per_account: int | None = None):
        self.max_failures, self.window, self.clock = max_failures, window, clock
        self.per_ip = per_ip if per_ip is not None else 4 * max_failures
        self.per_account = per_account if per_account is not None else 10 * max_failures
        self._fails: dict[tuple, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    @staticmethod
    def _keys(username: str, ip: str) -> list[tuple]:
        from tradepulse.groups.auth import username_key
        name = username_key(username[:256])
        return [("pair", name, ip), ("ip", ip), ("account", name)]

    def _limit(self, key: tuple) -> int:
        return {"pair": self.max_failures, "ip": self.per_ip, "account": self.per_account}[key[0]]

    def _prune(self, key: tuple) -> deque[float]:
        q = self._fails[key]
        cutoff = self.clock() - self.window
        while q and q[0] <= cutoff:
            q.popleft()
        return q

    def blocked(self, username: str, ip: str) -> float:
        """Seconds until the next attempt is allowed (0 when allowed)."""
        wait = 0.0
        with self._lock:
            for key in self._keys(username, ip):
                q = self._prune(key)
                limit = self._limit(key)
                if len(q) >= limit:
                    wait = max(wait, q[-limit] + self.window - self.clock())
                if not q:
                    del self._fails[key]          # keep memory bounded by recent failures only
        return max(0.0, wait)

    def failure(self, username: str, ip: str) -> None:
        with self._lock:
            for key in self._keys(username, ip):
                self._prune(key).append(self.clock())

    def success(self, username: str, ip: str) -> None:
        with self._lock:
            self._fails.pop(self._keys(username, ip)[0], None)
