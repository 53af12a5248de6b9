"""One product (``/products/{hs}``): the world market, top exporters and importers, the focus country's
trend, export potential by market and the provinces exporting it.  Every number comes from
:mod:`tradepulse.web.data` (the Python API); the page only lays it out."""

from __future__ import annotations

import functools
import re

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from tradepulse.web import charts
from tradepulse.web.data import (
    DataContext,
    Params,
    get_table,
    potential_by_market,
    product_name,
    top_traders,
    world_market,
)
from tradepulse.web.pages.render import fmt_of
from tradepulse.web.pages.sections import Section, frame_section, guarded, page
from tradepulse.web.validate import check

router = APIRouter(include_in_schema=False)


def build_product(hs: str):
    """The page builder for one product (a picklable partial: pages compute in worker processes)."""
    return functools.partial(_build_product, hs)


def _build_product(hs: str, ctx: DataContext, p: Params, lang: str) -> list[Section]:
    check(ctx, Params(product=hs), ("product",))          # 404 for a code that is nowhere
    fmt = fmt_of(lang)
    _ = fmt.gettext
    mine = Params(year=p.year, product=hs, province=p.province, lang=lang)
    out: list[Section] = []

    def world() -> Section:
        df = world_market(ctx, hs)
        long = df.rename(columns={"world_exports": "exports", "focus_exports": "non_oil_balance"})
        cols = ["year", "world_exports", "world_imports", "focus_exports", "focus_share"]
        if not (df["world_imports"] > 0).any():          # no world-total import rows in the data
            cols.remove("world_imports")
        sec = frame_section(_("World market"), df, lang, sid="world-market", columns=cols,
                            chart=charts.trade_lines(long[["year", "exports"]], lang))
        last = df.iloc[0]
        sec.kpis = [(f"{_('World exports')} {fmt.year(last['year'])}", fmt.usd(last["world_exports"]), ""),
                    (f"{_('Exports')} {fmt.year(last['year'])}", fmt.usd(last["focus_exports"]), ""),
                    (_("Share"), fmt.pct(last["focus_share"], 2, sign=False), "")]
        sec.wide = True
        return sec
    out.append(guarded(_("World market"), lang, world))

    def trend() -> Section:
        df = get_table(ctx, "trade", Params(product=hs, province=p.province, lang=lang))
        return frame_section(_("Trend"), df, lang, table="trade", params=Params(product=hs,
                                                                               province=p.province),
                             sid="trend", chart=charts.trade_lines(df, lang),
                             columns=["year", "exports", "imports", "balance"])
    out.append(guarded(_("Trend"), lang, trend))
    out.append(guarded(_("Top exporters"), lang, lambda: frame_section(
        _("Top exporters"), top_traders(ctx, hs, "export", p.year, lang), lang, sid="top-exporters", limit=12,
        columns=["year", "partner", "partner_name", "value_usd", "share"])))
    out.append(guarded(_("Top importers"), lang, lambda: frame_section(
        _("Top importers"), top_traders(ctx, hs, "import", p.year, lang), lang, sid="top-importers", limit=12,
        columns=["year", "partner", "partner_name", "value_usd", "share"])))
    out.append(guarded(_("Export potential by market"), lang, lambda: frame_section(
        _("Export potential by market"), potential_by_market(ctx, mine, hs), lang, sid="potential-market",
        columns=["partner", "partner_name", "potential", "actual", "unrealised", "potential_share"])))

    def provinces() -> Section:
        df = get_table(ctx, "provinces", mine)
        year = p.year if p.year is not None else int(df["year"].max())
        df = df[(df["year"] == year) & (df["exports"] > 0)]
        return frame_section(_("Provinces exporting it"), df, lang, table="provinces", params=mine,
                             sid="provinces", limit=31, columns=["year", "province", "exports", "imports"])
    out.append(guarded(_("Provinces exporting it"), lang, provinces))
    return out


@router.get("/products/{hs}", response_class=HTMLResponse)
async def product(request: Request, hs: str):
    if not re.fullmatch(r"\d{2,6}", hs):
        raise HTTPException(404, "an HS code has 2 to 6 digits")
    return await page(request, "product", build_product(hs), ("year", "province"),
                      title=lambda lang: f"{fmt_of(lang).text(hs)} {product_name(hs, lang)}".strip())
