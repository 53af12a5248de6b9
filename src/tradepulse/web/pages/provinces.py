"""The provinces page (``/provinces``): provinces compared and exporters by province."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tradepulse.web import charts
from tradepulse.web.data import DataContext, Params, get_table
from tradepulse.web.pages.render import fmt_of, province_labels
from tradepulse.web.pages.sections import Section, frame_section, guarded, page

router = APIRouter(include_in_schema=False)


def build_provinces(ctx: DataContext, p: Params, lang: str) -> list[Section]:
    _ = fmt_of(lang).gettext
    def prov() -> Section:
        df = get_table(ctx, "provinces", p)
        shown = df.assign(province=province_labels(df["province"], lang))
        sec = frame_section(_("Compare provinces"), df, lang, table="provinces", params=p, limit=40,
                            chart=charts.province_bars(shown, lang, n=31), sid="provinces",
                            columns=["year", "province", "exports", "imports", "balance", "non_oil_exports",
                                     "non_oil_imports", "non_oil_balance", "exports_growth"])
        sec.wide = True
        return sec
    def exporters() -> Section:
        df = get_table(ctx, "exporters", p)
        sec = frame_section(_("Exporters by province"), df, lang, table="exporters", params=p, limit=40,
                            sid="exporters", columns=list(df.columns))
        sec.wide = True
        return sec
    def tiles() -> Section:
        df = get_table(ctx, "provinces", p)
        year = p.year if p.year is not None else int(df["year"].max())
        d = df[df["year"] == year]
        d = d.assign(label=province_labels(d["province"], lang))
        fmt = fmt_of(lang)
        return Section(_("Province map") + " " + fmt.year(year), chart=charts.tile_map(d, lang), id="province-map",
                       wide=True, note=_("Tile-grid map: one square per province, neighbours kept next to each "
                                         "other; shade = exports."))
    return [guarded(_("Province map"), lang, tiles), guarded(_("Compare provinces"), lang, prov),
            guarded(_("Exporters by province"), lang, exporters)]


@router.get("/provinces", response_class=HTMLResponse)
async def provinces(request: Request):
    return await page(request, "provinces", build_provinces, ("year", "partner", "product", "province"))


