"""One partner (``/partners/{iso3}``): the focus country's trade with it by year, what is exported to it
(treemap and table), market fit and export potential there.  Every number comes from
:mod:`tradepulse.web.data`; the page only lays it out."""

from __future__ import annotations

import functools
import re

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from tradepulse import reference
from tradepulse.web import charts
from tradepulse.web.data import DataContext, Params, get_table
from tradepulse.web.pages import treemaps
from tradepulse.web.pages.render import fmt_of
from tradepulse.web.pages.sections import Section, frame_section, guarded, page
from tradepulse.web.validate import check

router = APIRouter(include_in_schema=False)


def build_partner(iso3: str):
    """The page builder for one partner (a picklable partial: pages compute in worker processes)."""
    return functools.partial(_build_partner, iso3)


def _build_partner(iso3: str, ctx: DataContext, p: Params, lang: str) -> list[Section]:
    check(ctx, Params(partner=iso3), ("partner",))         # 404 for an unknown code
    fmt = fmt_of(lang)
    _ = fmt.gettext
    theirs = Params(year=p.year, partner=iso3, province=p.province, lang=lang)
    out: list[Section] = []

    def trend() -> Section:
        df = get_table(ctx, "trade", Params(partner=iso3, province=p.province, lang=lang))
        sec = frame_section(_("Trade with this partner"), df, lang, table="trade",
                            params=Params(partner=iso3, province=p.province), sid="trade",
                            chart=charts.trade_lines(df, lang),
                            columns=["year", "exports", "imports", "balance", "non_oil_exports",
                                     "non_oil_balance"])
        last = df.sort_values("year").iloc[-1]
        sec.kpis = [(f"{_(label)} {fmt.year(last['year'])}", fmt.usd(last[c]), "neg" if last[c] < 0 else "")
                    for label, c in (("Exports", "exports"), ("Imports", "imports"), ("Balance", "balance"))]
        sec.wide = True
        return sec
    out.append(guarded(_("Trade with this partner"), lang, trend))
    out.append(guarded(_("Exports by product"), lang,
                       lambda: treemaps.treemap_section(ctx, theirs, lang, "product")))
    out.append(guarded(_("Top products"), lang, lambda: frame_section(
        _("Top products"), get_table(ctx, "products", theirs), lang, table="products", params=theirs,
        sid="products", columns=["year", "product", "product_name", "exports", "imports", "export_share"])))
    out.append(guarded(_("Market fit: complementarity and intensity"), lang, lambda: frame_section(
        _("Market fit: complementarity and intensity"), get_table(ctx, "market_fit", theirs), lang,
        table="market_fit", params=theirs, sid="market-fit",
        columns=["year", "complementarity", "intensity", "exports", "export_share", "partner_imports"])))
    return out


@router.get("/partners/{iso3}", response_class=HTMLResponse)
async def partner(request: Request, iso3: str):
    if not re.fullmatch(r"[A-Z]{3}", iso3):
        raise HTTPException(404, "a partner is an ISO3 code such as TUR")
    return await page(request, "partner", build_partner(iso3), ("year", "province"),
                      title=lambda lang: f"{reference.country_name(iso3, lang)} ({iso3})")
