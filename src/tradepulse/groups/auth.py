"""Accounts and server-side sessions of the dashboard (OWASP ASVS 4.0.3 level 2, chapters V2 and V3).

User names (V2.1 / look-alike defence): NFKC-normalised; compared case-insensitively through
``username_key`` = ``casefold(NFKC(name))`` (unique); 1–64 characters of letters, marks, digits and
``. _ - @``; control, format (bidi overrides such as U+202E), separator and whitespace characters are
refused, so ``admin `` / ``ADMIN`` / ``ad\u202emin`` cannot sit beside ``admin``.

Passwords (V2.1.1, V2.1.7): at least 12 characters, or a zxcvbn score ≥ 3 (Wheeler 2016, "zxcvbn:
Low-Budget Password Strength Estimation"); never a common password: a whole-password dictionary hit with a
guess rank ≤ :data:`COMMON_RANK`, a zxcvbn score ≤ 1 (under 10^6 guesses, e.g. ``password1234``) or one
repeated character; at most 1024 characters.  Hashes are argon2id
(argon2-cffi defaults, RFC 9106).

Authentication (V2.2): an unknown or inactive user name verifies the password against a dummy argon2 hash,
so the answer takes as long as for a real user (no user enumeration by timing).

Sessions (V3): a random 256-bit token per login, stored only as its SHA-256 in ``web_sessions``; a session
ends at logout, after :data:`IDLE_TIMEOUT` without use, :data:`ABSOLUTE_TIMEOUT` after login, and for every
session of a user whose role or password changes or who is deactivated.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
import unicodedata

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from tradepulse.errors import TradepulseError, UnknownNameError
from tradepulse.groups.models import ROLES, AuditEntry, User, WebSession, utcnow

#: Sessions end after this long without a request (ASVS 3.3.2 level 2: 30 minutes).
IDLE_TIMEOUT = dt.timedelta(minutes=30)
#: … and this long after login whatever the activity (ASVS 3.3.2 level 2: 12 hours).
ABSOLUTE_TIMEOUT = dt.timedelta(hours=12)
#: ``last_seen`` is written at most this often (a write per request would serialise readers on SQLite).
TOUCH_EVERY = dt.timedelta(seconds=60)
#: Minimum password length without a strength score; the score a shorter password needs.
MIN_LENGTH, MIN_SCORE = 12, 3
#: A zxcvbn dictionary match of the whole password with at most this rank is a "common password".
COMMON_RANK = 10_000
MAX_USERNAME, MAX_PASSWORD = 64, 1024


class PolicyError(TradepulseError):
    """A user name or password that the policy refuses (the message says which rule)."""


class LastAdminError(TradepulseError):
    """The change would leave no active administrator."""


# ---------------------------------------------------------------- user names
def normalise_username(name: str) -> str:
    """The stored form of a user name: NFKC, surrounding whitespace removed (``check_username`` refuses
    inner whitespace)."""
    return unicodedata.normalize("NFKC", str(name)).strip()


def username_key(name: str) -> str:
    """What two spellings of one user name share: ``casefold(NFKC(name))`` (NFKC again after casefold, as
    Unicode's identifier caseless matching recommends)."""
    return unicodedata.normalize("NFKC", normalise_username(name).casefold())


def check_username(name: str) -> str:
    """The normalised name, or :class:`PolicyError` naming the rule it breaks."""
    raw = unicodedata.normalize("NFKC", str(name))
    if raw != raw.strip():
        raise PolicyError("a user name may not begin or end with a space")
    if not 1 <= len(raw) <= MAX_USERNAME:
        raise PolicyError(f"a user name has 1–{MAX_USERNAME} characters")
    for ch in raw:
        cat = unicodedata.category(ch)
        if cat[0] in "LMN" or ch in "._-@":
            continue
        shown = f"U+{ord(ch):04X}"
        if cat[0] in "CZ":
            raise PolicyError(f"a user name may not contain control, invisible, direction or space characters "
                              f"({shown})")
        raise PolicyError(f"a user name may contain only letters, digits and . _ - @ (not {shown})")
    return raw


# ---------------------------------------------------------------- passwords
def check_password(password: str, username: str = "") -> None:
    """Raise :class:`PolicyError` unless ``password`` meets the policy of this module's docstring."""
    if not password or not password.strip():
        raise PolicyError("a password may not be empty or only spaces")
    if len(password) > MAX_PASSWORD:
        raise PolicyError(f"a password has at most {MAX_PASSWORD} characters")
    if len(set(password)) == 1:
        raise PolicyError("a password may not repeat one character")
    from zxcvbn import zxcvbn
    result = zxcvbn(password[:100], user_inputs=[username] if username else [])
    for m in result.get("sequence", []):
        if m.get("pattern") == "dictionary" and m.get("token", "").lower() == password.lower() \
                and m.get("rank", COMMON_RANK + 1) <= COMMON_RANK:
            raise PolicyError("this password is too common; choose another")
    if result["score"] <= 1:              # < 10^6 guesses (Wheeler 2016): a common pattern whatever the length
        raise PolicyError("this password is too easy to guess (a common word or pattern); choose another")
    if len(password) < MIN_LENGTH and result["score"] < MIN_SCORE:
        raise PolicyError(f"a password needs at least {MIN_LENGTH} characters (or a stronger mix)")


@functools.cache
def _dummy_hash() -> str:
    from argon2 import PasswordHasher
    return PasswordHasher().hash(secrets.token_hex(16))


# ---------------------------------------------------------------- accounts
class Accounts:
    """User accounts and their sessions, on one SQLAlchemy session (each mutating call commits)."""

    def __init__(self, session: Session):
        self.s = session

    def _audit(self, actor: str, user: User, field: str, old, new) -> None:
        self.s.add(AuditEntry(at=utcnow(), actor=actor, entity="users", entity_id=user.id, action="update",
                              field=field, old_value=None if old is None else str(old),
                              new_value=None if new is None else str(new)))

    def find(self, username: str) -> User | None:
        """The user whose name matches ``username`` case-insensitively after NFKC, or None."""
        return self.s.scalar(select(User).where(User.username_key == username_key(username)))

    def user(self, username: str) -> User:
        u = self.find(username)
        if u is None:
            raise UnknownNameError("user", username)
        return u

    def create(self, username: str, password: str, role: str = "viewer", actor: str = "system",
               *, enforce_policy: bool = True) -> User:
        """A new user; the name and (unless ``enforce_policy=False``, for the SYNTHETIC demo) the password
        must meet the policy, and no user may have the same name up to case and NFKC."""
        from argon2 import PasswordHasher
        if role not in ROLES:
            raise UnknownNameError("role", role, list(ROLES))
        name = check_username(username)
        if enforce_policy:
            check_password(password, name)
        elif not password:
            raise PolicyError("a password may not be empty")
        if self.find(name) is not None:
            raise PolicyError(f"a user named {name!r} already exists (names are compared without case)")
        u = User(username=name, username_key=username_key(name), password_hash=PasswordHasher().hash(password),
                 role=role, active=True)
        self.s.add(u)
        self.s.flush()
        self.s.add(AuditEntry(at=utcnow(), actor=actor, entity="users", entity_id=u.id, action="create",
                              new_value=f'{{"username": "{name}", "role": "{role}"}}'))
        self.s.commit()
        return u

    def authenticate(self, username: str, password: str) -> User | None:
        """The active user whose password matches, else None — in the same time for unknown users (a dummy
        hash is verified).  Rehashes outdated argon2 parameters."""
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError
        ph = PasswordHasher()
        u = self.find(username) if len(username) <= 4 * MAX_USERNAME else None
        try:
            ph.verify(u.password_hash if u is not None and u.active else _dummy_hash(), password[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError):
            return None
        if u is None or not u.active:
            return None
        if ph.check_needs_rehash(u.password_hash):
            u.password_hash = ph.hash(password)
            self.s.commit()
        return u

    def _active_admins(self) -> int:
        return int(self.s.scalar(select(func.count()).select_from(User)
                                 .where(User.role == "admin", User.active.is_(True))) or 0)

    def set_role(self, username: str, role: str, actor: str = "system") -> User:
        """Change a role; ends every session of the user; the last active admin cannot lose the role."""
        if role not in ROLES:
            raise UnknownNameError("role", role, list(ROLES))
        u = self.user(username)
        if u.role == role:
            return u
        if u.role == "admin" and u.active and self._active_admins() <= 1:
            raise LastAdminError(f"{u.username} is the last administrator; make another user admin first")
        self._audit(actor, u, "role", u.role, role)
        u.role = role
        self._end_user_sessions(u.id)
        self.s.commit()
        return u

    def set_password(self, username: str, password: str, actor: str = "system") -> User:
        """Set a new password (policy checked); ends every session of the user."""
        from argon2 import PasswordHasher
        u = self.user(username)
        check_password(password, u.username)
        u.password_hash = PasswordHasher().hash(password)
        self._audit(actor, u, "password", None, "changed")
        self._end_user_sessions(u.id)
        self.s.commit()
        return u

    def set_active(self, username: str, active: bool, actor: str = "system") -> User:
        u = self.user(username)
        if u.active and not active and u.role == "admin" and self._active_admins() <= 1:
            raise LastAdminError(f"{u.username} is the last administrator; make another user admin first")
        if u.active != active:
            self._audit(actor, u, "active", u.active, active)
            u.active = active
            if not active:
                self._end_user_sessions(u.id)
            self.s.commit()
        return u

    # ------------------------------------------------------------ sessions
    def start_session(self, user: User, now: dt.datetime | None = None) -> str:
        """A new session for ``user``; returns the token (only its SHA-256 is stored)."""
        token = secrets.token_urlsafe(32)
        now = now or utcnow()
        self.s.add(WebSession(token_hash=_digest(token), user_id=user.id, created_at=now, last_seen=now))
        self.s.execute(delete(WebSession).where(WebSession.created_at < now - ABSOLUTE_TIMEOUT))
        self.s.commit()
        return token

    def session_user(self, token: str, now: dt.datetime | None = None) -> User | None:
        """The active user of a live session, or None (unknown, ended, idle or too old: then deleted)."""
        if not token or len(token) > 128:
            return None
        now = now or utcnow()
        row = self.s.get(WebSession, _digest(token))
        if row is None:
            return None
        created, seen = _aware(row.created_at), _aware(row.last_seen)
        user = self.s.get(User, row.user_id)
        if user is None or not user.active or now - seen > IDLE_TIMEOUT or now - created > ABSOLUTE_TIMEOUT:
            self.s.delete(row)
            self.s.commit()
            return None
        if now - seen > TOUCH_EVERY:
            self.s.execute(update(WebSession).where(WebSession.token_hash == row.token_hash)
                           .values(last_seen=now))
            self.s.commit()
        return user

    def end_session(self, token: str) -> None:
        if token:
            self.s.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))
            self.s.commit()

    def _end_user_sessions(self, user_id: int) -> None:
        self.s.execute(delete(WebSession).where(WebSession.user_id == user_id))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)
