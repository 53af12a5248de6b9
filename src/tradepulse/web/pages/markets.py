"""The markets page (``/markets``): top partners, market fit, diversification and export survival."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tradepulse.web import charts
from tradepulse.web.data import DataContext, Params, get_table
from tradepulse.web.pages import formulas, treemaps
from tradepulse.web.pages.labels import COLUMN_LABELS, VALUE_LABELS
from tradepulse.web.pages.render import fmt_of
from tradepulse.web.pages.sections import (
    Section,
    frame_section,
    guarded,
    ignoring,
    page,
)

router = APIRouter(include_in_schema=False)


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
    out.append(guarded(_("Exports by partner"), lang, lambda: treemaps.treemap_section(ctx, p, lang, "partner")))
    def fit() -> Section:
        sec = frame_section(
            _("Market fit: complementarity and intensity"), get_table(ctx, "market_fit", p), lang,
            table="market_fit", params=p, sid="market-fit",
            columns=["year", "partner", "partner_name", "complementarity", "intensity", "exports", "export_share",
                     "partner_imports"],
            note=_("Complementarity (Michaely 1996) and intensity (Brown 1949, Kojima 1964); intensity > 1 = "
                   "more trade than the partner's world weight."))
        sec.formulas = [formulas.COMPLEMENTARITY, formulas.INTENSITY]
        return ignoring(sec, p, lang, "product")
    out.append(guarded(_("Market fit: complementarity and intensity"), lang, fit))

    def div() -> Section:
        df = get_table(ctx, "diversification", p)
        labels = {k: fmt_of(lang).msg(v) for k, v in VALUE_LABELS["dimension"].items()}
        trend = df.assign(dimension=df["dimension"].map(labels).fillna(df["dimension"]))
        sec = frame_section(_("Diversification"), df, lang, table="diversification", params=p,
                            sid="diversification",
                            chart=charts.lines(trend, "year", "hhi", "dimension", lang, _("Year"),
                                                 fmt_of(lang).msg(COLUMN_LABELS["hhi"])))
        sec.formulas = [formulas.HHI]
        sec.wide = True
        return sec
    out.append(guarded(_("Diversification"), lang, div))

    def surv() -> Section:
        df = get_table(ctx, "survival", p)
        group = "group" if "group" in df.columns else None
        curves = df
        if group:
            labels = {k: fmt_of(lang).msg(v) for k, v in VALUE_LABELS["group"].items()}
            curves = df.assign(group=df["group"].map(labels).fillna(df["group"]))
        chart = charts.step_lines(curves, "duration", "survival", group, lang, _("Duration (years)"), "S(t)")
        sec = frame_section(_("Export survival"), df, lang, table="survival", params=p, chart=chart,
                            sid="survival", note=_("Kaplan–Meier survival of export relationships "
                                                   "(partner × product), left-censored spells excluded."))
        sec.formulas = [formulas.KAPLAN_MEIER]
        return ignoring(sec, p, lang, "year")
    out.append(guarded(_("Export survival"), lang, surv))
    return out


@router.get("/markets", response_class=HTMLResponse)
async def markets(request: Request):
    return await page(request, "markets", build_markets, ("year", "partner", "product"))


