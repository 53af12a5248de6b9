"""Sessions, CSRF tokens, roles and login rate limiting for the dashboard.

Conventions:
- The session is a signed cookie (Starlette ``SessionMiddleware``, itsdangerous) that is ``HttpOnly`` and
  ``SameSite=Lax``; it holds the user name, role and a per-session CSRF token (32 random bytes, hex).
- Every state-changing request (POST) must carry the session's CSRF token in the form field
  ``csrf_token`` or the ``X-CSRF-Token`` header; a mismatch is 403 (synchronizer-token pattern, OWASP
  CSRF Prevention Cheat Sheet).  The token is rotated at login (no session fixation).
- Roles are ordered ``viewer < secretary < admin``; a page that needs a role returns 401 when nobody is
  logged in and 403 when the role is too low.
- Login rate limit: at most ``max_failures`` failed attempts per (user name, client IP) in a sliding
  window of ``window`` seconds (default 5 per 60 s); further attempts get 429 until the window clears.
  Success clears the counter.
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
    """Raise 403 unless ``submitted`` (or the X-CSRF-Token header) equals the session token."""
    expected = request.session.get("csrf")
    given = submitted or request.headers.get("x-csrf-token") or ""
    if not expected or not hmac.compare_digest(str(expected), str(given)):
        raise HTTPException(status_code=403, detail="missing or wrong CSRF token; reload the page and retry")


def current_user(request: Request) -> dict | None:
    """``{"username", "role"}`` of the logged-in user, or None."""
    user = request.session.get("user")
    if isinstance(user, dict) and user.get("role") in ROLE_RANK:
        return user
    return None


def require_role(request: Request, role: str) -> dict:
    """The current user if their role is at least ``role``; else 401 (anonymous) or 403 (too low)."""
    user = current_user(request)
    if user is None:
        raise HTTPException(status_code=401, detail="log in first")
    if ROLE_RANK[user["role"]] < ROLE_RANK[role]:
        raise HTTPException(status_code=403, detail=f"needs role {role} or higher; you are {user['role']}")
    return user


def can(user: dict | None, role: str) -> bool:
    return user is not None and ROLE_RANK.get(user.get("role", ""), 0) >= ROLE_RANK[role]


class LoginRateLimiter:
    """Sliding-window counter of failed logins per key (user name + IP); thread-safe, in memory."""

    def __init__(self, max_failures: int = 5, window: float = 60.0, clock=time.monotonic):
        self.max_failures, self.window, self.clock = max_failures, window, clock
        self._fails: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _prune(self, key: tuple[str, str]) -> deque[float]:
        q = self._fails[key]
        cutoff = self.clock() - self.window
        while q and q[0] <= cutoff:
            q.popleft()
        return q

    def blocked(self, username: str, ip: str) -> float:
        """Seconds until the next attempt is allowed (0 when allowed)."""
        key = (username.casefold(), ip)
        with self._lock:
            q = self._prune(key)
            wait = max(0.0, q[0] + self.window - self.clock()) if len(q) >= self.max_failures else 0.0
            if not q:
                del self._fails[key]          # keep memory bounded by recent failures only
            return wait

    def failure(self, username: str, ip: str) -> None:
        with self._lock:
            self._prune((username.casefold(), ip)).append(self.clock())

    def success(self, username: str, ip: str) -> None:
        with self._lock:
            self._fails.pop((username.casefold(), ip), None)
