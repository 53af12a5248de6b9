"""Rendering shared by every page: template environments per language, formatters and labels, the page
shell (:func:`render`) and the error page."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from tradepulse import i18n, reference
from tradepulse.errors import TradepulseError
from tradepulse.i18n import Formatter
from tradepulse.web.data import DataContext, Unavailable
from tradepulse.web.pages.labels import NAV, ROLE_LABELS, STATUS_LABELS
from tradepulse.web.security import can, csrf_token, current_user

HERE = Path(__file__).parents[1]   # the web package (templates live in web/templates)


def _templates(lang: str) -> Jinja2Templates:
    """Templates of one language: Jinja's i18n extension with that language's gettext catalog installed
    (``_``, ``gettext``, ``pgettext``; new-style, so translations are autoescaped like any other value)."""
    t = Jinja2Templates(directory=str(HERE / "templates"))
    t.env.finalize = i18n.mark_signs  # negative numbers keep their sign on the left in RTL text
    t.env.add_extension("jinja2.ext.i18n")
    t.env.install_gettext_translations(i18n.translations(lang), newstyle=True)
    return t


#: One template environment per language (the catalog is bound at install time).
TEMPLATES = {lang: _templates(lang) for lang in i18n.LANGS}

# ---------------------------------------------------------------- language & rendering
def fmt_of(lang: str) -> Formatter:
    """The dashboard's formatter for ``lang`` (messages, numbers, dates; None/NaN shown empty)."""
    return i18n.formatter(lang, None, "")


def status_label(status: object, lang: str) -> str:
    """Translated label of a status value; unknown values are shown as they are."""
    label = STATUS_LABELS.get(str(status))
    return fmt_of(lang).gettext(label) if label else str(status)


def role_label(role: object, lang: str) -> str:
    """Translated label of a user role; unknown roles are shown as they are."""
    label = ROLE_LABELS.get(str(role))
    return fmt_of(lang).gettext(label) if label else str(role)


@functools.lru_cache(maxsize=512)
def province_label(name: str, lang: str) -> str:
    """Display name of a stored (canonical English) province: the Persian name from
    :func:`tradepulse.reference.provinces.province_name` in ``fa``; unknown names are shown as stored."""
    if lang == "en" or not name:
        return name
    from tradepulse.reference.provinces import province_name
    return province_name(name, lang)


def province_labels(values: pd.Series, lang: str) -> pd.Series:
    """:func:`province_label` of a column (one look-up per distinct name); missing values stay missing."""
    if lang == "en":
        return values
    names = values.dropna().astype(str).unique()
    return values.map({n: province_label(n, lang) for n in names})


def lang_of(request: Request) -> str:
    q = request.query_params.get("lang")
    if q in i18n.LANGS:
        return q
    c = request.cookies.get("lang")
    return c if c in i18n.LANGS else "en"


@functools.lru_cache(maxsize=64)
def _country_name(iso3: str, lang: str) -> str:
    return reference.country_name(iso3, lang)


def sources_text(ctx: DataContext) -> str:
    """Distinct ``source`` labels of the flows (shows "demo-synthetic" on the demo), '' when unknown: read from
    the warehouse's coverage (one row per load × reporter × year, so no scan of the flows: the distinct scan took
    7 s on the 29-year panel).  Computes on a cold cache: call it in a worker
    (:func:`tradepulse.web.pages.sections.page` does)."""
    from tradepulse.indicators.inputs import coverage

    try:
        return ctx.cached(("sources",), lambda: ", ".join(sorted(
            str(v) for v in coverage(ctx.warehouse())["source"].dropna().unique())))
    except (TradepulseError, Unavailable, OSError):
        return ""


def _sources(ctx: DataContext) -> str:
    """:func:`sources_text` when cached, else '' — the page shell never computes (it runs on the event loop)."""
    return ctx.peek(("sources",)) or ""


class LazyCsrf:
    """The session's CSRF token, created only when a template prints it (a form).  Pages without a form
    (every page an anonymous visitor reads) then create no session: no cookie to sign and send per request."""

    __slots__ = ("_request",)

    def __init__(self, request: Request):
        self._request = request

    def __str__(self) -> str:
        return csrf_token(self._request)

    def __html__(self) -> str:              # a hex token: nothing to escape
        return str(self)

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = context.pop("lang", None) or lang_of(request)
    user = current_user(request)
    base = dict(request=request, lang=lang, dir="rtl" if lang in i18n.RTL else "ltr",
                fmt=fmt_of(lang), status_label=lambda s: status_label(s, lang),
                role_label=lambda r: role_label(r, lang), province_label=lambda p: province_label(p, lang),
                nav=NAV, user=user,
                csrf=LazyCsrf(request), can_edit=can(user, "secretary"), path=request.url.path,
                focus=request.app.state.ctx.focus, focus_name=_country_name(request.app.state.ctx.focus, lang),
                sources=_sources(request.app.state.ctx))
    base.update(context)
    return TEMPLATES[lang].TemplateResponse(request, template, base, status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status=status, title=str(status), message=message)


