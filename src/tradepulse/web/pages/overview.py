"""The overview page (``/``): trade by year, target status at a glance, top partners and products."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tradepulse.i18n import N_
from tradepulse.web import charts
from tradepulse.web.data import DataContext, Params, get_table
from tradepulse.web.pages.render import fmt_of
from tradepulse.web.pages.sections import (
    Section,
    frame_section,
    guarded,
    ignores_note,
    ignoring,
    page,
)
from tradepulse.web.pages.targets import _targets_section

router = APIRouter(include_in_schema=False)


def _current_section(ctx: DataContext, p: Params, lang: str) -> Section:
    """Latest month, Solar Hijri year to date and the 12-month rolling total against the same period a year
    earlier (:func:`tradepulse.indicators.current.overview`), each naming its dataset and its end month."""
    from tradepulse.indicators.current import overview

    fmt = fmt_of(lang)
    _ = fmt.gettext
    fig = ctx.cached(("current-period", p.province), lambda: overview(ctx.warehouse(), ctx.focus, p.province))
    if fig["status"] != "ok":
        return Section(_("Current period"), "nodata", _("Annual data only: no monthly dataset covers this "
                                                         "selection.") if fig["status"] == "annual-only"
                       else fig.get("detail", ""))
    flows = {"export": _("Exports"), "import": _("Imports")}
    cols = [_("Flow"), _("Latest month"), _("Value"), _("vs same month last year"), _("Year to date"),
            _("vs same period last year"), _("12 months"), _("Dataset")]
    rows = []
    for r in fig["rows"]:
        month = f"{fmt.text(r['sh_year'])}/{fmt.text(r['sh_month'])} ({r['end']})"
        growth = [fmt.pct(r[k]) if r.get(k) is not None else "–" for k in ("latest_growth", "ytd_growth")]
        rows.append([flows.get(r["flow"], r["flow"]), month, fmt.usd(r["latest"]), growth[0], fmt.usd(r["ytd"]),
                     growth[1], fmt.usd(r["rolling12"]), r.get("dataset") or ""])
    warning = _("Warning")
    note = " ".join(f"{warning}: {fmt.warning(w)}" for w in fig.get("warnings", []))
    sec = Section(_("Current period"), columns=cols, rows=rows, total=len(rows), id="current-period", note=note)
    return ignoring(sec, p, lang, "year", "partner", "product")


def build_overview(ctx: DataContext, p: Params, lang: str) -> list[Section]:
    fmt = fmt_of(lang)
    _ = fmt.gettext
    out: list[Section] = []

    def trade() -> Section:
        # the filter bar applies: partner / product / province narrow the totals; the year picks the KPI year
        # (the table and chart keep every year so the trend stays visible)
        df = get_table(ctx, "trade", Params(partner=p.partner, product=p.product, province=p.province,
                                            lang=lang))
        sec = frame_section(_("Overview"), df.sort_values("year", ascending=False), lang,
                            table="trade", params=Params(partner=p.partner, product=p.product,
                                                         province=p.province, lang=lang),
                            chart=charts.trade_lines(df, lang), sid="trade",
                            columns=["year", "exports", "imports", "non_oil_exports",
                                     "non_oil_imports", "non_oil_balance"])
        chosen = df[df["year"] == p.year] if p.year is not None else df.iloc[0:0]
        last = (chosen if len(chosen) else df.sort_values("year")).iloc[-1]
        year = fmt.year(last["year"])
        sec.kpis = [(f"{_(label)} {year}", fmt.usd(last[c]), "neg" if last[c] < 0 else "") for label, c in
                    ((N_("Exports"), "exports"), (N_("Imports"), "imports"),
                     (N_("Non-oil exports"), "non_oil_exports"), (N_("Non-oil balance"), "non_oil_balance"))]
        sec.wide = True
        return sec
    out.append(guarded(_("Overview"), lang, trade))
    out.append(guarded(_("Current period"), lang, lambda: _current_section(ctx, p, lang)))

    def status() -> Section:
        sec = _targets_section(ctx, lang, compact=True)
        sec.note = ignores_note(lang, *[f for f in ("year", "partner", "product")
                                        if getattr(p, f) not in (None, "")])
        return sec
    out.append(guarded(_("Target status"), lang, status))
    out.append(guarded(_("Top partners"), lang, lambda: frame_section(
        _("Top partners"), get_table(ctx, "partners", p), lang, table="partners", params=p, limit=10,
        columns=["year", "partner", "partner_name", "exports", "imports", "export_share"])))
    out.append(guarded(_("Top products"), lang, lambda: frame_section(
        _("Top products"), get_table(ctx, "products", p), lang, table="products", params=p, limit=10,
        columns=["year", "product", "product_name", "exports", "imports", "export_share"])))
    return out


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request):
    return await page(request, "overview", build_overview, ("year", "partner", "product"))


