"""Sections of the indicator pages (a table and/or a chart, or an honest note), their cells, the filter
parameters and the cached page body (:func:`page`)."""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from tradepulse.errors import NoDataError, TradepulseError
from tradepulse.web.data import DataContext, Params, Unavailable, WarehouseBusy
from tradepulse.web.pages.labels import (
    COLUMN_LABELS,
    MONEY,
    PAGE_TITLES,
    STATUS_LABELS,
    VALUE_LABELS,
)
from tradepulse.web.pages.render import (
    TEMPLATES,
    _sources,
    fmt_of,
    lang_of,
    province_label,
    render,
    sources_text,
    status_label,
)
from tradepulse.web.security import require_role
from tradepulse.web.validate import check, parse_year


# ---------------------------------------------------------------- sections
@dataclass
class Section:
    title: str
    state: str = "ok"               # ok | unavailable | nodata | error
    message: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    total: int = 0
    chart: dict | None = None
    links: dict[str, str] = field(default_factory=dict)
    id: str = ""
    note: str = ""
    wide: bool = False              # span the whole page width
    kpis: list[tuple[str, str, str]] = field(default_factory=list)   # (label, value, css class)
    formulas: list[Markup] = field(default_factory=list)               # MathML (:mod:`.formulas`)
    #: other row sets of the same columns, shown by a switch above the table: (label, rows, total); the
    #: first switch position is ``variant_label`` with ``rows`` (issue 20: the non-oil potential table)
    variants: list[tuple[str, list[list[str]], int]] = field(default_factory=list)
    variant_label: str = ""


def fmt_cell(col: str, value: Any, lang: str) -> str:
    """One table cell: money compact (``$1.23 bn``), shares and growth as percentages without sign, years
    with their Solar Hijri year in Persian, statuses translated, floats with 3 decimals below 100."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, Markup):                   # formatted by the page (targets: per-row units)
        return value
    fmt = fmt_of(lang)
    if col.endswith("_usd") or col in MONEY:        # one unbreakable line (issue 20: no money on 3 lines)
        return Markup('<span class="money">{0}</span>').format(fmt.usd(value))
    if col == "progress":
        return progress_bar(value, lang)
    if col == "product" and re.fullmatch(r"\d{2,6}", str(value)):
        return Markup('<a class="code" href="/products/{0}">{1}</a>').format(str(value), fmt.text(value))
    if col == "partner" and re.fullmatch(r"[A-Z]{3}", str(value)) and value != "WLD":
        return Markup('<a class="code" href="/partners/{0}">{0}</a>').format(str(value))
    if "share" in col or col.endswith(("_growth", "_rate")) or col in ("entrant_survival", "probability"):
        try:
            return fmt.pct(float(value), 1, sign=False)
        except (TypeError, ValueError):
            return str(value)
    if col == "year":
        return fmt.year(value)
    if col in ("duration", "median"):        # survival times are whole years
        x = float(value)
        return fmt.num(x, 0 if x.is_integer() else 1)
    if col == "status" and str(value) in STATUS_LABELS:
        return status_label(value, lang)
    if col in VALUE_LABELS and str(value) in VALUE_LABELS[col]:
        return fmt.msg(VALUE_LABELS[col][str(value)])
    if col == "province" and isinstance(value, str):
        return province_label(value, lang)
    if isinstance(value, (dt.date, dt.datetime)):
        return fmt.numeric_date(value)
    if isinstance(value, bool):
        return "✓" if value else ""
    if isinstance(value, float):
        return fmt.num(value, 3 if abs(value) < 100 else 0)
    if isinstance(value, int):
        return fmt.int(value)
    return str(value)


def progress_bar(value: Any, lang: str) -> Markup | str:
    """Target progress (a fraction: 0 = baseline, 1 = target reached) as an HTML ``<progress>`` bar clipped to
    [0, 1] with the unclipped percentage beside it (−168.6 % stays visible as text)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return ""
    text = fmt_of(lang).pct(x, 1, sign=False)
    return Markup('<span class="progress"><progress max="1" value="{v}"></progress> {t}</span>').format(
        v=f"{min(max(x, 0.0), 1.0):.4f}", t=text)


def ignores_note(lang: str, *filters: str) -> str:
    """The sentence a section shows when it does not apply some of the page's filters."""
    if not filters:
        return ""
    fmt = fmt_of(lang)
    names = {"year": fmt.gettext("Year"), "partner": fmt.pgettext("dashboard", "Partner"),
             "product": fmt.gettext("Product"), "province": fmt.gettext("Province")}
    sep = "، " if lang == "fa" else ", "
    return fmt.gettext("This section ignores the filters: {names}.").format(
        names=sep.join(names.get(f, f) for f in filters))


def ignoring(sec: Section, p: Params, lang: str, *filters: str) -> Section:
    """Append to ``sec``'s note which of ``filters`` it ignores — only those the visitor actually set."""
    note = ignores_note(lang, *[f for f in filters if getattr(p, f, None) not in (None, "")])
    sec.note = f"{sec.note} {note}".strip() if note else sec.note
    return sec


def frame_section(title: str, df: pd.DataFrame, lang: str, *, table: str | None = None, params: Params | None = None,
                  limit: int = 15, columns: list[str] | None = None, chart: dict | None = None,
                  sid: str = "", note: str = "") -> Section:
    cols = [c for c in (columns or list(df.columns)) if c in df.columns]
    head = df[cols].head(limit)
    rows = [[fmt_cell(c, v, lang) for c, v in zip(cols, r)] for r in head.itertuples(index=False, name=None)]
    fmt = fmt_of(lang)
    headers = [fmt.msg(COLUMN_LABELS[c]) if c in COLUMN_LABELS else c for c in cols]
    links = {}
    if table:
        q = {k: v for k, v in (params.__dict__ if params else {}).items() if v not in (None, "")}
        qs = ("?" + urllib.parse.urlencode(q)) if q else ""
        links = {"CSV": f"/download/{table}.csv{qs}", "Excel": f"/download/{table}.xlsx{qs}",
                 "JSON": f"/api/v1/tables/{table}{qs}"}
    notice = data_notice(df, lang)
    return Section(title=title, columns=headers, rows=rows, total=len(df), chart=chart, links=links,
                   id=sid or (table or title).replace(" ", "-"), note=Markup(" ").join(x for x in (note, notice) if x))


def data_notice(result, lang: str) -> str:
    """What a table stands on, for the reader: its dataset and every warning of its meta (English text under
    a translated lead, like other module details).  Empty when the result carries no meta."""
    from tradepulse.meta import meta_of

    meta = meta_of(result)
    if not meta.dataset and not meta.warnings:
        return ""
    fmt = fmt_of(lang)
    dataset, warning = fmt.gettext("Dataset"), fmt.gettext("Warning")
    # each text in its own <bdi>: inside a right-to-left Persian paragraph an English sentence keeps its word
    # order; warnings with a translation (tradepulse.meta.Note) read in the page's language
    parts = [Markup("{0}: <bdi>{1}.</bdi>").format(dataset, meta.dataset)] if meta.dataset else []
    parts += [Markup("{0}: <bdi>{1}</bdi>").format(warning, fmt.warning(w)) for w in meta.warnings]
    return Markup(" ").join(parts)


#: Datasets with more rows than this are served from ``/charts/data/<name>.json`` instead of inline.
INLINE_ROWS = 300


def externalise(ctx: DataContext, spec: dict | None) -> dict | None:
    """Move large inline datasets of a Vega-Lite spec to URLs served by :func:`chart_data`.

    Altair names inline datasets by a hash of their content (``data-<md5>``), so the URL is immutable and the
    browser may cache it; the page itself stays small.
    """
    if spec and spec.get("usermeta", {}).get("embedOptions", {}).get("mode") == "vega":
        return _externalise_vega(ctx, spec)
    if not spec or "datasets" not in spec:
        return spec
    spec = dict(spec)
    datasets = dict(spec["datasets"])
    moved = {}
    for name, values in datasets.items():
        if isinstance(values, list) and len(values) > INLINE_ROWS and re.fullmatch(r"data-[0-9a-f]+", name):
            import json
            ctx.remember_chart(name, json.dumps(values, separators=(",", ":")).encode())
            moved[name] = f"/charts/data/{name}.json"
    if not moved:
        return spec

    def walk(node):
        if isinstance(node, dict):
            out = {k: walk(v) for k, v in node.items() if k != "datasets"}
            data = out.get("data")
            if isinstance(data, dict) and data.get("name") in moved:
                out["data"] = {"url": moved[data["name"]], "format": {"type": "json"}}
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node
    out = walk(spec)
    keep = {k: v for k, v in datasets.items() if k not in moved}
    if keep:
        out["datasets"] = keep
    return out


#: Vega (not Vega-Lite) datasets with more rows than this are served by URL (treemaps: one row per cell).
VEGA_INLINE_ROWS = 40


def _externalise_vega(ctx: DataContext, spec: dict) -> dict:
    """Move the large ``values`` of a raw Vega spec's data entries to ``/charts/data/data-<md5>.json``
    (content-addressed like Altair's datasets), keeping their transforms."""
    import hashlib
    import json
    data = []
    for entry in spec.get("data", []):
        values = entry.get("values")
        if isinstance(values, list) and len(values) > VEGA_INLINE_ROWS:
            body = json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode()
            name = "data-" + hashlib.md5(body, usedforsecurity=False).hexdigest()
            ctx.remember_chart(name, body)
            entry = {k: v for k, v in entry.items() if k != "values"}
            entry.update(url=f"/charts/data/{name}.json", format={"type": "json"})
        data.append(entry)
    return {**spec, "data": data}


def guarded(title: str, lang: str, build: Callable[[], Section]) -> Section:
    """Run ``build``; turn missing modules, empty selections and user errors into a note."""
    try:
        return build()
    except WarehouseBusy:     # the ingest holds the warehouse: the page is not made (503), never cached half-empty
        raise
    except Unavailable as exc:
        return Section(title, "unavailable", exc.what)
    except NoDataError as exc:
        return Section(title, "nodata", _said(exc, lang))
    except TradepulseError as exc:
        return Section(title, "error", _said(exc, lang))


def _said(exc: Exception, lang: str) -> str:
    """An error's message in ``lang`` when it was raised with a translated :class:`~tradepulse.meta.Note`."""
    return fmt_of(lang).warning(exc.args[0]) if len(exc.args) == 1 else str(exc)


def params_of(request: Request, lang: str, filters: tuple[str, ...] = ("year", "partner", "product", "province")
              ) -> Params:
    """The page's filters from the query string; only the filters the page uses are read (others never
    enter the cache key).  Syntax is checked here (422); existence by :func:`tradepulse.web.validate.check`."""
    q = request.query_params

    def s(name: str) -> str | None:
        if name not in filters:
            return None
        v = (q.get(name) or "").strip()
        if len(v) > 200:
            raise HTTPException(422, f"{name} is longer than 200 characters")
        return v or None
    year = parse_year(q.get("year")) if "year" in filters else None
    return Params(year=year, partner=s("partner"), product=s("product"), province=s("province"), lang=lang)


def _content(ctx: DataContext, path: str, key: str, build: Callable[[DataContext, Params, str], list[Section]],
             filters: tuple[str, ...], p: Params, lang: str) -> str:
    """The page body (filters + sections) as HTML, cached: it depends only on the data, filters and language
    (never on the user), so every visitor shares it and a warm request only renders the small shell.
    The filter values are checked first (:func:`tradepulse.web.validate.check`), so an unknown value is a
    404 and never enters the cache."""
    check(ctx, p, filters)

    def make() -> str:
        try:
            sections = build(ctx, p, lang)
        except WarehouseBusy:
            raise
        except TradepulseError as exc:  # e.g. no warehouse
            sections = [Section(fmt_of(lang).gettext(PAGE_TITLES[key]), "error", str(exc))]
        for sec in sections:
            sec.chart = externalise(ctx, sec.chart)
        years = ctx.cached(("years", ctx.focus), lambda: _years(ctx)) if filters else []
        choices = province_choices(ctx, p.province, lang) if "province" in filters else []
        return TEMPLATES[lang].get_template("_content.html").render(
            sections=sections, params=p, filters=filters, years=years, path=path, lang=lang, fmt=fmt_of(lang),
            province_choices=choices)
    html = ctx.cached(("html", key, path, p.key()), make)
    sources_text(ctx)             # for the page shell's footer (it only peeks)
    return html


async def page(request: Request, key: str, build: Callable[[DataContext, Params, str], list[Section]],
               filters: tuple[str, ...] = ("year", "partner", "product", "province"),
               title: Callable[[str], str] | None = None) -> HTMLResponse:
    """An indicator page: the cached body when there is one, else computed in the worker pool (single
    flight per page and filters, per-client cap) — the event loop never computes or waits on a lock.
    Started with ``public_indicators=False``, the app asks a login (viewer and up) first."""
    if not getattr(request.app.state, "public_indicators", True):
        require_role(request, "viewer")
    ctx: DataContext = request.app.state.ctx
    lang = lang_of(request)
    p = params_of(request, lang, filters)
    path = request.url.path
    ck = ("html", key, path, p.key())
    html = ctx.peek(ck)
    if html is None:
        html = await request.app.state.computer.run(
            request, ck, functools.partial(_content, ctx, path, key, build, filters, p, lang), stale_ok=True)
    shown = title(lang) if title else fmt_of(lang).gettext(PAGE_TITLES[key])
    if request.session:                          # a user or a form token: the shell is this visitor's own
        return render(request, "page.html", title=shown, key=key, content=Markup(html))
    # an anonymous reader without a session: the whole page depends only on what is in ``sk`` and on the
    # body, so it is rendered once per body (a cached page then costs no template work on the event loop)
    shells = _shells(request.app)
    sk = (ck, path, shown, _sources(ctx))
    hit = shells.get(sk)
    if hit is not None and hit[0] is html:
        shells.move_to_end(sk)
        _remember_plain(request, ck, html, sk[3], hit[1])
        return HTMLResponse(hit[1])
    resp = render(request, "page.html", title=shown, key=key, content=Markup(html))
    if not request.session and resp.status_code == 200:    # still no session: nothing personal was printed
        shells[sk] = (html, bytes(resp.body))
        while len(shells) > SHELLS:
            shells.popitem(last=False)
    return resp


def _plain_pages(app) -> OrderedDict:
    plain = getattr(app.state, "plain_pages", None)
    if plain is None:
        plain = app.state.plain_pages = OrderedDict()
    return plain


def _remember_plain(request: Request, ck: tuple, html: str, sources: str, body: bytes) -> None:
    """Keep a page sent to a request *without any cookie* for :class:`PlainPages`: such a request's page
    depends only on its path and query string (language from ``?lang``, no session, no CSRF token)."""
    if request.method != "GET" or any(k == b"cookie" for k, _ in request.scope.get("headers", ())):
        return
    plain = _plain_pages(request.app)
    plain[(request.scope["path"], request.scope.get("query_string", b""))] = (ck, html, sources, body)
    while len(plain) > SHELLS:
        plain.popitem(last=False)


class PlainPages:
    """Pure ASGI middleware in front of routing and sessions: a GET without any cookie for a page whose
    rendered bytes are kept (:func:`_remember_plain`) is answered from them while they are current — the
    same body the page route would send (its cached content is still the one in the data cache, under the
    same warehouse version, with the same footer sources).  Anything else goes through the app unchanged.
    A cached anonymous page then costs a dictionary lookup and a stat instead of routing and dependency
    resolution (issue 15: the event loop's own cost per request sets the latency of every request)."""

    HEADERS = [(b"content-type", b"text/html; charset=utf-8")]

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "GET":
            state = scope["app"].state
            plain = getattr(state, "plain_pages", None)
            hit = plain.get((scope["path"], scope.get("query_string", b""))) if plain else None
            if hit is not None and getattr(state, "public_indicators", True) and \
                    not any(k == b"cookie" for k, _ in scope.get("headers", ())):
                ck, html, sources, body = hit
                ctx = state.ctx
                if ctx.peek(ck) is html and _sources(ctx) == sources:
                    await send({"type": "http.response.start", "status": 200,
                                "headers": [(b"content-length", str(len(body)).encode()), *self.HEADERS]})
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)


#: Rendered pages kept for anonymous readers (one per page, filters and language; replaced with the body).
SHELLS = 256


def _shells(app) -> OrderedDict:
    shells = getattr(app.state, "shells", None)
    if shells is None:
        shells = app.state.shells = OrderedDict()
    return shells


def province_choices(ctx: DataContext, current: str | None, lang: str) -> list[tuple[str, str]]:
    """``(value, label)`` options of the province filter: every province in the data (value = the stored
    English name, label = :func:`province_label`), plus the current filter when it is another spelling or a
    comma-separated comparison (``Tehran,Isfahan`` → ``تهران، اصفهان``), so the form sends it back unchanged."""
    try:
        names = ctx.cached(("province-names",), lambda: _province_names(ctx))
    except (TradepulseError, Unavailable):
        names = []
    out = [(n, province_label(n, lang)) for n in names]
    if current and current not in names:
        from tradepulse.reference.provinces import listed_name
        parts = [x.strip() for x in current.split(",") if x.strip()]
        sep = "، " if lang == "fa" else ", "
        out.append((current, sep.join(province_label(listed_name(x), lang) for x in parts)))
    return out


def _years(ctx: DataContext) -> list[int]:
    t = ctx.flows()
    return sorted(int(y) for y in t.filter(t.reporter == ctx.focus).select("year").distinct().to_pandas()["year"])


def _province_names(ctx: DataContext) -> list[str]:
    t = ctx.flows()
    t = t.filter(t.province.notnull())
    return sorted(str(p) for p in t.select("province").distinct().to_pandas()["province"])


