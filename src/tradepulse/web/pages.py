"""HTML pages of the dashboard (Jinja2 templates, English / Persian).

Every page is a list of *sections* (a table and/or a chart, or an honest "not available yet" / "no data"
note); tables show their first rows with links to the full CSV / Excel download and the JSON API.
Sections are cached per warehouse version, page, filters and language (:meth:`DataContext.cached`).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd
from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from tradepulse import i18n, reference
from tradepulse.errors import NoDataError, TradepulseError
from tradepulse.i18n import NC_, Formatter, N_
from tradepulse.web import charts
from tradepulse.web.data import DataContext, Params, Unavailable, get_table, require
from tradepulse.web.security import (can, check_csrf, csrf_token, current_user, require_role,
                                     rotate_csrf)

HERE = Path(__file__).parent
router = APIRouter(include_in_schema=False)


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

#: (key, URL, label) of the navigation; the key also names the page (cache key, ``data-nav``).
NAV = (("overview", "/", N_("Overview")), ("products", "/products", N_("Products")),
       ("markets", "/markets", N_("Markets")), ("provinces", "/provinces", N_("Provinces")),
       ("targets", "/targets", N_("Targets")), ("groups", "/groups", N_("Working groups")),
       ("briefs", "/briefs", N_("Briefs")))
PAGE_TITLES = {key: label for key, _href, label in NAV}

#: Column headers (gettext messages); other columns are shown by their name.
COLUMN_LABELS: dict[str, i18n.Message] = {
    "year": N_("Year"), "partner": NC_("dashboard", "Partner"), "partner_name": NC_("dashboard", "Partner"),
    "product": N_("Product"), "product_name": N_("Title"), "province": N_("Province"), "exports": N_("Exports"),
    "imports": N_("Imports"), "non_oil_exports": N_("Non-oil exports"), "non_oil_imports": N_("Non-oil imports"),
    "balance": N_("Balance"), "non_oil_balance": N_("Non-oil balance"), "export_share": N_("Share"),
    "status": N_("Status"), "exports_growth": N_("Growth"), "id": N_("ID"), "target_id": N_("ID"),
    "title": N_("Title"), "progress": N_("Progress"), "actual": NC_("dashboard", "Actual"), "target": N_("Target"),
    "dimension": N_("Dimension"), "rank": N_("Rank"), "potential": N_("Export potential"),
    "duration": N_("Duration (years)"), "survival": N_("Survival S(t)"), "complementarity": N_("Complementarity"),
    "intensity": N_("Intensity"), "label": N_("Class"),
    "rca": NC_("dashboard", "RCA"), "density": NC_("dashboard", "Density"), "pci": NC_("dashboard", "PCI"),
    "eci": N_("ECI"), "cog": N_("COG"), "score": N_("Score"), "export_value": N_("Export value"),
    "value_usd": N_("Value"), "hhi": N_("HHI"), "theil": N_("Theil"), "n_active": N_("Active items"),
    "realised": N_("Realised"), "unrealised": N_("Unrealised"), "baseline_value": N_("Baseline"),
    "target_value": N_("Target"), "deadline_year": N_("Deadline"), "as_of_year": N_("As of"),
    "reason": N_("Reason"), "partner_imports": N_("Partner imports"),
    # diversification (tradepulse.indicators.diversification)
    "total_value": N_("Total value"), "n_universe": N_("Items in the universe"),
    "n_above": N_("Items above the threshold"), "n_rca": N_("Items with RCA ≥ 1"), "hhi_norm": N_("Normalised HHI"),
    "theil_within": N_("Theil within groups"), "theil_between": N_("Theil between groups"),
    "unctad_diversification": N_("UNCTAD diversification index"),
    # Kaplan–Meier survival (tradepulse.indicators.survival)
    "group": N_("Group"), "at_risk": N_("At risk"), "events": N_("Ended"), "censored": N_("Censored"),
    "hazard": N_("Hazard"), "greenwood_var": N_("Greenwood variance"), "ci_lower": N_("95% CI lower"),
    "ci_upper": N_("95% CI upper"), "median": N_("Median survival (years)"),
    # export potential (tradepulse.indicators.potential.by_product)
    "market_imports": N_("Market imports"), "demand": N_("Projected demand"),
    "potential_share": N_("Share of total potential"),
    # exports by end use, balance extras
    "end_use": N_("End use"), "share": N_("Share"), "coverage": N_("Export/import coverage"),
    "oil_exports": N_("Oil exports"), "oil_imports": N_("Oil imports"), "imports_growth": N_("Imports growth"),
    "balance_change": N_("Change in balance"),
    # exporters (tradepulse.indicators.firms)
    "n_exporters": N_("Exporters"), "mean_exports": N_("Mean exports per exporter"),
    "top5_share": N_("Share of the largest 5 percent of exporters"), "entry_rate": N_("Entry rate"),
    "exit_rate": N_("Exit rate"), "entrant_survival": N_("Entrants still exporting a year later"),
    "mean_products": N_("Products per exporter"), "mean_markets": N_("Markets per exporter")}
#: Action-item and target status values (as stored) → their label.
STATUS_LABELS = {"open": N_("open"), "in_progress": N_("in progress"), "done": N_("done"),
                 "cancelled": N_("cancelled"), "on-track": N_("on track"), "at-risk": N_("at risk"),
                 "off-track": N_("off track"), "no-data": N_("no data")}
#: Coded values shown in tables, by column: stored value → label (the stored value stays in downloads / API).
VALUE_LABELS: dict[str, dict[str, i18n.Message]] = {
    "dimension": {"products": N_("products"), "markets": N_("markets")},
    "group": {"all": N_("all relationships"), "neighbours15": N_("15 neighbours"), "other": N_("other partners")},
    "end_use": {"capital": N_("Capital goods"), "intermediate": N_("Intermediate goods"),
                "consumption": N_("Consumption goods"), "mixed": N_("Mixed / not classified by end use")},
}
#: Roadmap metrics (``tradepulse.roadmap.model.METRICS``) → axis label of the target charts.
METRIC_LABELS = {"exports": N_("Exports"), "imports": N_("Imports"), "total_trade": N_("Total trade"),
                 "balance": N_("Balance"), "non_oil_balance": N_("Non-oil balance"),
                 "market_share": N_("Market share"), "n_products": N_("Number of products"),
                 "n_markets": N_("Number of markets"), "import_saving": N_("Import saving")}
#: User roles (``tradepulse.groups.models.ROLES``) → label; the stored role is what forms send back.
ROLE_LABELS = {"admin": N_("administrator"), "secretary": N_("secretary"), "viewer": N_("viewer")}
#: Columns holding US dollar amounts (shown compactly: $1.23 bn).
MONEY = {"exports", "imports", "balance", "oil_exports", "oil_imports", "non_oil_exports", "non_oil_imports",
         "non_oil_balance", "balance_change", "total_value", "export_value", "value_usd", "potential",
         "mean_exports",
         "partner_imports",
         "realised", "unrealised", "exports_to_market", "supply", "demand", "actual", "market_imports",
         "market_imports_prev"}


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


def _sources(ctx: DataContext) -> str:
    """Distinct ``source`` labels of the flows (shows "demo-synthetic" on the demo), '' when unknown."""
    hit = ctx.peek(("sources",))
    if hit is not None:
        return hit
    try:
        return ctx.cached(("sources",), lambda: ", ".join(sorted(
            str(v) for v in ctx.flows().select("source").distinct().to_pandas()["source"].dropna())))
    except (TradepulseError, Unavailable, OSError):
        return ""


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = context.pop("lang", None) or lang_of(request)
    user = current_user(request)
    base = dict(request=request, lang=lang, dir="rtl" if lang in i18n.RTL else "ltr",
                fmt=fmt_of(lang), status_label=lambda s: status_label(s, lang),
                role_label=lambda r: role_label(r, lang), province_label=lambda p: province_label(p, lang),
                nav=NAV, user=user,
                csrf=csrf_token(request), can_edit=can(user, "secretary"), path=request.url.path,
                focus=request.app.state.ctx.focus, focus_name=_country_name(request.app.state.ctx.focus, lang),
                sources=_sources(request.app.state.ctx))
    base.update(context)
    return TEMPLATES[lang].TemplateResponse(request, template, base, status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status=status, title=str(status), message=message)


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


def fmt_cell(col: str, value: Any, lang: str) -> str:
    """One table cell: money compact (``$1.23 bn``), shares and growth as percentages without sign, years
    with their Solar Hijri year in Persian, statuses translated, floats with 3 decimals below 100."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    fmt = fmt_of(lang)
    if col.endswith("_usd") or col in MONEY:
        return fmt.usd(value)
    if "share" in col or col.endswith(("_growth", "_rate")) or col == "entrant_survival":
        try:
            return fmt.pct(float(value), 1, sign=False)
        except (TypeError, ValueError):
            return str(value)
    if col == "year":
        return fmt.year(value)
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
    return Section(title=title, columns=headers, rows=rows, total=len(df), chart=chart, links=links,
                   id=sid or (table or title).replace(" ", "-"), note=note)


#: Datasets with more rows than this are served from ``/charts/data/<name>.json`` instead of inline.
INLINE_ROWS = 300


def externalise(ctx: DataContext, spec: dict | None) -> dict | None:
    """Move large inline datasets of a Vega-Lite spec to URLs served by :func:`chart_data`.

    Altair names inline datasets by a hash of their content (``data-<md5>``), so the URL is immutable and the
    browser may cache it; the page itself stays small.
    """
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


def guarded(title: str, lang: str, build: Callable[[], Section]) -> Section:
    """Run ``build``; turn missing modules, empty selections and user errors into a note."""
    try:
        return build()
    except Unavailable as exc:
        return Section(title, "unavailable", exc.what)
    except NoDataError as exc:
        return Section(title, "nodata", str(exc))
    except TradepulseError as exc:
        return Section(title, "error", str(exc))


def params_of(request: Request, lang: str) -> Params:
    q = request.query_params

    def s(name: str) -> str | None:
        v = (q.get(name) or "").strip()
        return v[:200] or None
    year = None
    if (q.get("year") or "").strip().isdigit():
        year = int(q["year"])
    return Params(year=year, partner=s("partner"), product=s("product"), province=s("province"), lang=lang)


def _content(ctx: DataContext, path: str, key: str, build: Callable[[DataContext, Params, str], list[Section]],
             filters: tuple[str, ...], p: Params, lang: str) -> str:
    """The page body (filters + sections) as HTML, cached: it depends only on the data, filters and language
    (never on the user), so every visitor shares it and a warm request only renders the small shell."""
    def make() -> str:
        try:
            sections = build(ctx, p, lang)
        except TradepulseError as exc:  # e.g. no warehouse
            sections = [Section(fmt_of(lang).gettext(PAGE_TITLES[key]), "error", str(exc))]
        for sec in sections:
            sec.chart = externalise(ctx, sec.chart)
        years = ctx.cached(("years", ctx.focus), lambda: _years(ctx)) if filters else []
        choices = province_choices(ctx, p.province, lang) if "province" in filters else []
        return TEMPLATES[lang].get_template("_content.html").render(
            sections=sections, params=p, filters=filters, years=years, path=path, lang=lang, fmt=fmt_of(lang),
            province_choices=choices)
    return ctx.cached(("html", key, path, p.key()), make)


async def page(request: Request, key: str, build: Callable[[DataContext, Params, str], list[Section]],
               filters: tuple[str, ...] = ("year", "partner", "product", "province")) -> HTMLResponse:
    if not getattr(request.app.state, "public_indicators", True):
        require_role(request, "viewer")
    ctx: DataContext = request.app.state.ctx
    lang = lang_of(request)
    p = params_of(request, lang)
    path = request.url.path
    html = ctx.peek(("html", key, path, p.key()))
    if html is None:   # compute in a worker thread, never on the event loop
        html = await run_in_threadpool(_content, ctx, path, key, build, filters, p, lang)
    return render(request, "page.html", title=fmt_of(lang).gettext(PAGE_TITLES[key]), key=key,
                  content=Markup(html))


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


# ---------------------------------------------------------------- page builders
def build_overview(ctx: DataContext, p: Params, lang: str) -> list[Section]:
    fmt = fmt_of(lang)
    _ = fmt.gettext
    out: list[Section] = []

    def trade() -> Section:
        df = get_table(ctx, "trade", Params(lang=lang))
        sec = frame_section(_("Overview"), df.sort_values("year", ascending=False), lang,
                            table="trade", chart=charts.trade_lines(df, lang), sid="trade",
                            columns=["year", "exports", "imports", "non_oil_exports",
                                     "non_oil_imports", "non_oil_balance"])
        last = df.sort_values("year").iloc[-1]
        year = fmt.year(last["year"])
        sec.kpis = [(f"{_(label)} {year}", fmt.usd(last[c]), "neg" if last[c] < 0 else "") for label, c in
                    ((N_("Exports"), "exports"), (N_("Imports"), "imports"),
                     (N_("Non-oil exports"), "non_oil_exports"), (N_("Non-oil balance"), "non_oil_balance"))]
        sec.wide = True
        return sec
    out.append(guarded(_("Overview"), lang, trade))
    out.append(guarded(_("Target status"), lang, lambda: _targets_section(ctx, lang, compact=True)))
    out.append(guarded(_("Top partners"), lang, lambda: frame_section(
        _("Top partners"), get_table(ctx, "partners", p), lang, table="partners", params=p, limit=10,
        columns=["year", "partner", "partner_name", "exports", "imports", "export_share"])))
    out.append(guarded(_("Top products"), lang, lambda: frame_section(
        _("Top products"), get_table(ctx, "products", p), lang, table="products", params=p, limit=10,
        columns=["year", "product", "product_name", "exports", "imports", "export_share"])))
    return out


def build_products(ctx: DataContext, p: Params, lang: str) -> list[Section]:
    _ = fmt_of(lang).gettext
    out: list[Section] = []

    def top() -> Section:
        df = get_table(ctx, "products", p)
        lab = df.assign(label=df["product"] + " " + df["product_name"].str.slice(0, 30))
        return frame_section(_("Top products"), df, lang, table="products", params=p,
                             chart=charts.top_bars(lab, "label", lang), sid="products",
                             columns=["year", "product", "product_name", "exports", "imports",
                                      "export_share"])
    out.append(guarded(_("Top products"), lang, top))
    out.append(guarded(_("Economic complexity"), lang, lambda: frame_section(
        _("Revealed comparative advantage"), get_table(ctx, "complexity", p), lang, table="complexity", params=p,
        sid="complexity", columns=["year", "product", "product_name", "export_value", "rca", "density", "pci",
                                   "cog", "eci"])))
    out.append(guarded(_("Product space"), lang, lambda: _product_space(ctx, p, lang)))
    out.append(guarded(_("Feasibility"), lang, lambda: _feasibility(ctx, p, lang)))
    out.append(guarded(_("Opportunities"), lang, lambda: frame_section(
        _("Opportunities"), get_table(ctx, "opportunities", p), lang, table="opportunities",
        params=p, sid="opportunities", columns=_OPP_COLUMNS)))
    out.append(guarded(_("Exports by end use (BEC)"), lang, lambda: frame_section(
        _("Exports by end use (BEC)"), get_table(ctx, "end_use", p), lang, table="end_use", params=p, limit=12,
        sid="end-use", columns=["year", "end_use", "value_usd", "share"])))
    out.append(guarded(_("Export potential"), lang, lambda: frame_section(
        _("Export potential"), get_table(ctx, "potential", p), lang, table="potential", params=p,
        sid="potential")))
    return out


_OPP_COLUMNS = ["rank", "product", "product_name", "score", "density", "pci", "cog", "rca", "export_value"]


def _product_space(ctx: DataContext, p: Params, lang: str) -> Section:
    fmt = fmt_of(lang)
    _ = fmt.gettext
    from tradepulse.web.data import product_space_frames
    nodes, edges = product_space_frames(ctx, p.year)
    names = nodes.assign(product=nodes["product"] + " " + nodes["product"].map(
        lambda c: _short_name(c)))
    return Section(_("Product space"), state="ok", chart=charts.network(names, edges, lang),
                   id="product-space", wide=True,
                   note=_("{n} HS4 products; links: maximum spanning tree of proximity plus links with "
                          "proximity ≥ {strong} (Hidalgo et al. 2007). Coloured: exported with RCA ≥ 1.").format(
                       n=fmt.int(len(nodes)), strong=fmt.num(0.55, 2)))


def _short_name(code: str) -> str:
    from tradepulse.web.data import _product_names
    return str(_product_names().get(code, ""))[:40]


def _feasibility(ctx: DataContext, p: Params, lang: str) -> Section:
    _ = fmt_of(lang).gettext
    df = get_table(ctx, "complexity", p)
    if not {"density", "pci", "product"} <= set(df.columns):
        raise Unavailable("tradepulse.indicators.complexity (density / pci columns)")
    d = df.dropna(subset=["density", "pci"]).copy()
    d["has_rca"] = (d["rca"] >= 1).map({True: _("RCA ≥ 1"), False: _("RCA < 1")})
    return Section(_("Feasibility: density × PCI"), chart=charts.scatter(
        d, "density", "pci", "product", lang, color="has_rca", x_title=_("density (relatedness)"),
        y_title=_("product complexity (PCI)")), id="feasibility",
        note=_("Each point is a product: x = density (share of related products already exported with "
               "RCA ≥ 1), y = product complexity index; upper right = complex and close to current exports."))


def build_markets(ctx: DataContext, p: Params, lang: str) -> list[Section]:
    _ = fmt_of(lang).gettext
    out: list[Section] = []

    def top() -> Section:
        df = get_table(ctx, "partners", p)
        return frame_section(_("Top partners"), df, lang, table="partners", params=p,
                             chart=charts.top_bars(df, "partner_name", lang), sid="partners",
                             columns=["year", "partner", "partner_name", "exports", "imports",
                                      "export_share"])
    out.append(guarded(_("Top partners"), lang, top))
    out.append(guarded(_("Market fit: complementarity and intensity"), lang, lambda: frame_section(
        _("Market fit: complementarity and intensity"), get_table(ctx, "market_fit", p), lang, table="market_fit", params=p,
        sid="market-fit", columns=["year", "partner", "partner_name", "complementarity", "intensity",
                                   "exports", "export_share", "partner_imports"],
        note=_("Complementarity TC = 100·(1 − ½Σ|m_jk/M_j − x_ik/X_i|) (Michaely 1996); intensity TI = "
               "(x_ij/X_i)/(x_wj/X_w) (Brown 1949, Kojima 1964); > 1 = more trade than the partner's world "
               "weight."))))
    out.append(guarded(_("Diversification"), lang, lambda: frame_section(
        _("Diversification"), get_table(ctx, "diversification", p), lang, table="diversification",
        params=p, sid="diversification")))

    def surv() -> Section:
        df = get_table(ctx, "survival", p)
        group = "group" if "group" in df.columns else None
        curves = df
        if group:
            labels = {k: fmt_of(lang).msg(v) for k, v in VALUE_LABELS["group"].items()}
            curves = df.assign(group=df["group"].map(labels).fillna(df["group"]))
        chart = charts.step_lines(curves, "duration", "survival", group, lang, _("Duration (years)"), "S(t)")
        return frame_section(_("Export survival"), df, lang, table="survival", params=p, chart=chart,
                             sid="survival", note=_("Kaplan–Meier survival of export relationships "
                                                    "(partner × product), left-censored spells excluded."))
    out.append(guarded(_("Export survival"), lang, surv))
    return out


def build_provinces(ctx: DataContext, p: Params, lang: str) -> list[Section]:
    _ = fmt_of(lang).gettext
    def prov() -> Section:
        df = get_table(ctx, "provinces", p)
        shown = df.assign(province=province_labels(df["province"], lang))
        return frame_section(_("Compare provinces"), df, lang, table="provinces", params=p, limit=40,
                             chart=charts.province_bars(shown, lang), sid="provinces",
                             columns=["year", "province", "exports", "imports", "balance", "non_oil_exports",
                                      "non_oil_imports", "non_oil_balance", "exports_growth"])
    def exporters() -> Section:
        df = get_table(ctx, "exporters", p)
        sec = frame_section(_("Exporters by province"), df, lang, table="exporters", params=p, limit=40,
                            sid="exporters", columns=list(df.columns))
        sec.wide = True
        return sec
    return [guarded(_("Compare provinces"), lang, prov), guarded(_("Exporters by province"), lang, exporters)]


TARGET_COLUMNS = ["id", "title", "status", "baseline_value", "actual", "target_value", "progress",
                  "deadline_year", "as_of_year"]


def _targets_section(ctx: DataContext, lang: str, compact: bool = False) -> Section:
    _ = fmt_of(lang).gettext
    df = get_table(ctx, "targets", Params(lang=lang))
    if lang != "en" and "id" in df.columns:
        from tradepulse.web.data import target_statuses
        titles = {st.target.id: st.target.title(lang) for st in target_statuses(ctx)}
        df = df.assign(title=df["id"].map(titles).fillna(df["title"]))
    if lang != "en" and "reason" in df.columns:
        reason_text = require("tradepulse.roadmap.status", "reason_text")
        reasons = {r: reason_text(r, lang) for r in df["reason"].dropna().unique()}
        df = df.assign(reason=df["reason"].map(reasons))
    cols = ["id", "title", "status", "progress"] if compact else TARGET_COLUMNS + ["reason"]
    return frame_section(_("Target status"), df, lang, table="targets", limit=8 if compact else 50,
                         columns=cols, sid="targets" if not compact else "targets-glance")


def _target_y_title(metric: str, lang: str) -> str | None:
    """Translated y-axis title of a target chart (``None`` → the chart's own English title)."""
    if lang == "en":
        return None
    fmt = fmt_of(lang)
    label = METRIC_LABELS.get(metric)
    if label is None:
        return metric
    money = metric not in ("market_share", "n_products", "n_markets")
    unit = fmt.gettext("US dollars")
    return fmt.gettext(label) + (f" ({unit})" if money else "")


def build_targets(ctx: DataContext, p: Params, lang: str) -> list[Section]:
    _ = fmt_of(lang).gettext
    out = [guarded(_("Targets"), lang, lambda: _targets_section(ctx, lang))]

    def charts_() -> list[Section]:
        from tradepulse.web.data import target_statuses
        target_chart = require("tradepulse.roadmap.charts", "target_chart")
        secs = []
        for st in target_statuses(ctx):
            spec = target_chart(st, lang=lang, width="container", height=200,
                                y_title=_target_y_title(st.target.metric, lang)).to_dict()
            secs.append(Section(st.target.title(lang), chart=spec, id=f"target-{st.target.id}"))
        return secs
    try:
        out.extend(charts_())
    except (Unavailable, TradepulseError) as exc:
        out.append(Section(_("Targets"), "unavailable", str(exc)))
    return out


# ---------------------------------------------------------------- routes: pages
@router.get("/", response_class=HTMLResponse)
async def overview(request: Request):
    return await page(request, "overview", build_overview, ("year", "partner", "product"))


@router.get("/products", response_class=HTMLResponse)
async def products(request: Request):
    return await page(request, "products", build_products, ("year", "partner", "product"))


@router.get("/markets", response_class=HTMLResponse)
async def markets(request: Request):
    return await page(request, "markets", build_markets, ("year", "partner", "product"))


@router.get("/provinces", response_class=HTMLResponse)
async def provinces(request: Request):
    return await page(request, "provinces", build_provinces, ("year", "partner", "product", "province"))


@router.get("/targets", response_class=HTMLResponse)
async def targets(request: Request):
    return await page(request, "targets", build_targets, ())


@router.get("/charts/data/{name}.json")
def chart_data(request: Request, name: str):
    """A chart dataset moved out of its page by :func:`externalise` (content-addressed, immutable)."""
    body = request.app.state.ctx.chart(name) if re.fullmatch(r"data-[0-9a-f]{1,64}", name) else None
    if body is None:
        raise HTTPException(404, "chart data expired; reload the page")
    return Response(body, media_type="application/json", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/lang/{code}")
def set_lang(request: Request, code: str, next: str = "/"):
    if code not in i18n.LANGS:
        raise HTTPException(404, f"unknown language {code!r}; use en or fa")
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie("lang", code, max_age=365 * 24 * 3600, httponly=True, samesite="lax")
    return resp


# ---------------------------------------------------------------- routes: auth
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


# ---------------------------------------------------------------- routes: working groups
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
    user = require_role(request, "viewer") if ctx.groups_url else None
    lang = lang_of(request)
    _ = fmt_of(lang).gettext
    try:
        svc_mod = require("tradepulse.groups.service")
        with ctx.session() as session:
            data = _group_rows(svc_mod.GroupService(session), lang, group, dt.date.today(), user)
        state, message = "ok", ""
    except Unavailable as exc:
        data, state, message = {}, "unavailable", exc.what
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
def edit_action(request: Request, action_id: int, version: int = Form(..., ge=0),
                status: str = Form(..., max_length=16), note: str = Form("", max_length=4000),
                deadline: str = Form("", max_length=10), deadline_y: str = Form("", max_length=4),
                deadline_m: str = Form("", max_length=2), deadline_d: str = Form("", max_length=2),
                back: str = Form("", max_length=2000), csrf_token: str = Form("")):
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
    :mod:`tradepulse.groups.csvio`; idempotent: ids update, unchanged rows stay), ≤ 5 MB."""
    from tradepulse.web.app import MAX_UPLOAD
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
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / f"{name}.csv").write_bytes(body)
        with ctx.session() as session:
            svc = svc_mod.GroupService(session)
            dry = csvio.import_csv(svc, tmp, actor=user["username"], dry_run=True)
            changed = {c[1] for c in dry.changes}
            for gid in _touched_groups(svc, tmp, name, changed):   # a secretary of every group it changes
                group_editor(request, svc, gid)
            report = csvio.import_csv(svc, tmp, actor=user["username"])
    return back_with(safe_back(back), f"imported-{report.changed_rows}")


def _touched_groups(svc, folder: str, name: str, lines: set[int]) -> set[int]:
    """Ids of the groups named by the given lines (1 = header) of an uploaded file."""
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


# ---------------------------------------------------------------- routes: users (admin)
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
    """Create a user (with ``password``) or, without a password, change an existing user's role."""
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
                svc.set_role(username, role, actor=admin["username"])
                q["msg"] = "role"
        except TradepulseError as exc:
            q = {"msg": "error", "error": str(exc)}
    return RedirectResponse(f"/admin/users?{urllib.parse.urlencode(q)}", status_code=303)


# ---------------------------------------------------------------- routes: briefs
@router.get("/briefs", response_class=HTMLResponse)
def briefs_page(request: Request):
    lang = lang_of(request)
    _ = fmt_of(lang).gettext
    state, message = "ok", ""
    try:
        require("tradepulse.reports.brief", "build_brief")
    except Unavailable as exc:
        state, message = "unavailable", exc.what
    provinces: list[str] = []
    try:
        provinces = request.app.state.ctx.cached(("province-names",), lambda: _province_names(request.app.state.ctx))
    except (TradepulseError, Unavailable):
        pass
    weeks: list[tuple[str, str]] = []
    sh_parts = None
    try:       # the Persian page offers Solar Hijri weeks (Saturday–Friday) and an SH date
        wk = require("tradepulse.reports.weeks")
        sh_parts = require("tradepulse.groups.dates", "sh_parts")
        fmt = fmt_of(lang)
        today = dt.date.today()
        for back in range(-1, 9):
            w = wk.week_of(today - dt.timedelta(days=7 * back))
            weeks.append((w.label, f"{fmt.numeral(w.label)} ({fmt.numeric_date(w.start)} – {fmt.numeric_date(w.end)})"))
    except Unavailable:
        pass
    return render(request, "briefs.html", title=_("Briefs"), state=state, message=message,
                  provinces=provinces, today=dt.date.today().isoformat(), today_date=dt.date.today(), weeks=weeks,
                  current_week=weeks[1][0] if len(weeks) > 1 else "", sh_parts=sh_parts,
                  sh_year_now=sh_parts(dt.date.today())[0] if sh_parts else 0)


def _province_names(ctx: DataContext) -> list[str]:
    t = ctx.flows()
    t = t.filter(t.province.notnull())
    return sorted(str(p) for p in t.select("province").distinct().to_pandas()["province"])


@router.get("/briefs/download")
def brief_download(request: Request, lang: str = Query("en", pattern="^(en|fa)$"),
                   fmt: str = Query("pdf", pattern="^(pdf|html)$"),
                   date: str | None = Query(None, max_length=10, pattern=r"^\d{4}-\d{2}-\d{2}$"),
                   date_y: str = Query("", max_length=4), date_m: str = Query("", max_length=2),
                   date_d: str = Query("", max_length=2),
                   week: str | None = Query(None, max_length=10, pattern=r"^\d{4}-?[Ww]\d{1,2}$"),
                   province: str | None = Query(None, max_length=200)):
    """The weekly brief as PDF (WeasyPrint) or HTML, built by :mod:`tradepulse.reports.brief`."""
    brief_mod = require("tradepulse.reports.brief")
    ctx: DataContext = request.app.state.ctx
    from tradepulse.web.group_forms import form_day
    try:
        day = dt.date.fromisoformat(date) if date else None
    except ValueError:
        raise HTTPException(422, f"not a valid date: {date!r} (use YYYY-MM-DD)") from None
    if day is None and (date_y or date_m or date_d):      # Solar Hijri selects of the Persian page
        day = form_day({"date_y": date_y, "date_m": date_m, "date_d": date_d}, "date", "date")
    # Not cached (action items change) and not under the data lock: the brief opens its own read-only
    # connection to the warehouse file, so a slow PDF does not hold up other requests.
    b = brief_mod.build_brief(ctx.path, ctx.groups_url, date=day, week=week or None, province=province or None,
                              lang=lang,
                              reporter=ctx.focus)
    with tempfile.TemporaryDirectory() as tmp:
        out = brief_mod.write_brief(ctx.path, ctx.groups_url, brief=b, out=Path(tmp) / f"brief.{fmt}")
        body = Path(out).read_bytes()
    media = "application/pdf" if fmt == "pdf" else "text/html; charset=utf-8"
    name = f"tradepulse-brief-{lang}{'-' + province if province else ''}.{fmt}"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{urllib.parse.quote(name)}"})
