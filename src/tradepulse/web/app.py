"""The dashboard application: ``create_app(warehouse_path, groups_url, secret_key=None) -> FastAPI``.

HTML pages (Jinja2, English / Persian with RTL), a JSON API under ``/api/v1`` (OpenAPI at
``/openapi.json``, docs at ``/docs``), CSV / Excel downloads of every table under ``/download``, and
static assets (vendored Vega, Vega-Lite, vega-embed and the Vazirmatn font) under ``/static`` — nothing
is fetched from another host, and the Content-Security-Policy forbids it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import urllib.parse
from collections.abc import Iterable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from tradepulse.config import DEFAULT_FOCUS
from tradepulse.errors import NoDataError, TradepulseError, UnknownNameError
from tradepulse.web import api, datasets, pages
from tradepulse.web.assets import MemoryStatic
from tradepulse.web.data import (
    DataContext,
    GroupsUnavailable,
    Unavailable,
    WarehouseBusy,
)
from tradepulse.web.pages.render import error_page
from tradepulse.web.pages.sections import PlainPages
from tradepulse.web.security import MAX_UPLOAD, LoginRateLimiter

HERE = Path(__file__).parent
CSP = ("default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
       "form-action 'self'; base-uri 'self'")


class SecurityHeaders:
    """Pure ASGI middleware (cheaper than ``BaseHTTPMiddleware``): rejects bodies declared larger than the
    upload limit with 413 before reading them, and adds CSP / nosniff / referrer headers to every response."""

    HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
               (b"referrer-policy", b"same-origin")]

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > MAX_UPLOAD + 64 * 1024:
                body = json.dumps({"detail": f"request body larger than {MAX_UPLOAD // (1024 * 1024)} MB"})
                await send({"type": "http.response.start", "status": 413,
                            "headers": [(b"content-type", b"application/json"), *self.HEADERS]})
                await send({"type": "http.response.body", "body": body.encode()})
                return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", ())}
                message["headers"] = [*message.get("headers", ()), *(h for h in self.HEADERS if h[0] not in have)]
            await send(message)
        await self.app(scope, receive, send_with_headers)


def normalise_groups_url(groups: str | Path | None) -> str | None:
    """Accept an SQLAlchemy URL or a plain file path (→ ``sqlite:///<absolute path>``)."""
    if groups is None:
        return None
    s = str(groups)
    return s if "://" in s else f"sqlite:///{Path(s).expanduser().resolve()}"


def create_app(warehouse_path: str | Path, groups_url: str | Path | None, secret_key: str | None = None, *,
               focus: str = DEFAULT_FOCUS, login_max_failures: int = 5, login_window: float = 60.0,
               https_only: bool = False, trusted_proxies: Iterable[str] = (), per_client: int = 3,
               workers: int | None = None, allowed_origins: Iterable[str] = (), public_indicators: bool = True,
               smtp_url: str | None = None, processes: bool = True) -> FastAPI:
    """Build the dashboard for one warehouse (opened read-only) and one working-group database.

    Working-group data (pages, API, downloads) needs a login; ``public_indicators`` (default True) keeps
    the indicator pages, tables and downloads open to anonymous visitors — False asks a login for them too.
    ``secret_key`` signs the session cookie; default ``$TRADEPULSE_SECRET_KEY`` or a random key (sessions
    then end when the server restarts).  ``https_only`` adds the cookie's ``Secure`` flag (set it behind TLS).
    ``trusted_proxies``: peer addresses whose ``X-Forwarded-For`` is believed (none by default).
    ``per_client``: uncached computations one client may run at a time (then 429); ``workers``: size of the
    computation pool; ``processes`` (default True): computations run in worker processes, False: in threads of
    the server process (needed only when a test patches functions in this process; always so under
    ``--engine spark``, where Spark computes in its own JVM and a worker process would start a session of its own
    without the engine's setting).  ``allowed_origins``: other origins (``https://host``) a POST may come from.
    ``smtp_url``: server for e-mailing agendas and briefs (default ``$TRADEPULSE_SMTP_URL``).
    """
    from tradepulse.warehouse import reader_engine
    from tradepulse.web import agenda, group_forms
    from tradepulse.web.compute import Computer

    @contextlib.asynccontextmanager
    async def lifespan(app_: FastAPI):
        app_.state.computer.start()
        yield
        app_.state.computer.close()
        app_.state.ctx.close()

    app = FastAPI(title="tradepulse", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Trade indicators, roadmap targets and working groups of a trade promotion "
                              "organisation.  Tables are paginated (`limit`, `offset`) and filtered by the "
                              "filters each table lists in `/api/v1/tables` (others are refused with 422).")
    app.state.ctx = DataContext(warehouse_path, normalise_groups_url(groups_url), focus=focus)
    app.state.limiter = LoginRateLimiter(login_max_failures, login_window)
    processes = processes and reader_engine() == "duckdb"
    app.state.computer = Computer(workers, per_client, processes=processes, ctx=app.state.ctx)
    app.state.trusted_proxies = frozenset(trusted_proxies)
    app.state.allowed_origins = frozenset(o.rstrip("/") for o in allowed_origins)
    app.state.public_indicators = public_indicators
    app.state.smtp_url = smtp_url or os.environ.get("TRADEPULSE_SMTP_URL") or None   # e-mail of agendas, briefs
    key = secret_key or os.environ.get("TRADEPULSE_SECRET_KEY") or secrets.token_hex(32)
    app.add_middleware(SessionMiddleware, secret_key=key, session_cookie="tradepulse_session",
                       same_site="lax", https_only=https_only, max_age=12 * 3600)
    app.add_middleware(PlainPages)        # inside the security headers, before sessions and routing
    app.add_middleware(SecurityHeaders)

    app.mount("/static", MemoryStatic(HERE / "static"), name="static")
    # pages first: the most requested routes are matched first (routes are tried in order; the paths of the
    # pages, the API and the datasets routers are disjoint, so the order changes no answer)
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(datasets.router)
    app.include_router(group_forms.router)
    app.include_router(agenda.router)

    @app.get("/docs", include_in_schema=False)
    def docs() -> FileResponse:
        """Swagger UI from the vendored bundle (works offline; no CDN)."""
        return FileResponse(HERE / "static" / "docs.html", media_type="text/html")

    def wants_json(request: Request) -> bool:
        path = request.url.path
        return path.startswith("/api/") or path == "/openapi.json" or \
            (path.startswith("/download/") and "text/html" not in request.headers.get("accept", ""))

    def error(request: Request, status: int, msg: str, headers: dict | None = None):
        if wants_json(request):
            return JSONResponse({"detail": msg}, status_code=status, headers=headers)
        resp = error_page(request, status, msg)
        for k, v in (headers or {}).items():
            resp.headers[k] = v
        return resp

    @app.exception_handler(TradepulseError)
    async def tradepulse_error(request: Request, exc: TradepulseError):
        if isinstance(exc, WarehouseBusy):
            return error(request, 503, str(exc), {"Retry-After": "5"})
        if isinstance(exc, GroupsUnavailable):
            return error(request, 503, str(exc), {"Retry-After": "60"})
        status = 404 if isinstance(exc, (UnknownNameError, NoDataError)) else 400
        return error(request, status, str(exc))

    @app.exception_handler(SQLAlchemyError)
    async def groups_db_error(request: Request, exc: SQLAlchemyError):
        logging.getLogger("tradepulse.web").error("working-group database error: %r", exc)
        return error(request, 503, "the working-group database is unavailable (locked, corrupt or gone); "
                                   "try again later", {"Retry-After": "30"})

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, exc: Unavailable):
        return error(request, 404, f"not available yet: needs {exc.what}")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        parts = []
        for e in exc.errors()[:5]:
            where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "path", "body"))
            parts.append(f"{where}: {e.get('msg', 'invalid')}" if where else str(e.get("msg", "invalid")))
        return error(request, 422, "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        headers = getattr(exc, "headers", None)
        if wants_json(request) or exc.status_code == 429 and \
                "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)
        if exc.status_code == 401 and request.method == "GET":
            q = {"next": request.url.path}
            if request.query_params.get("lang") in ("en", "fa"):      # keep the page's language on the login form
                q["lang"] = request.query_params["lang"]
            return RedirectResponse(f"/login?{urllib.parse.urlencode(q)}", status_code=303)
        return error(request, exc.status_code, str(exc.detail), headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        # never a traceback to the user: log it, answer one line
        logging.getLogger("tradepulse.web").exception("unexpected error on %s", request.url.path)
        return error(request, 500, "internal error; it has been logged")

    return app
