"""The products page (``/products``): top products, complexity, product space, feasibility, opportunities,
end use and export potential."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tradepulse.web import charts
from tradepulse.web.data import DataContext, Params, Unavailable, get_table
from tradepulse.web.pages import treemaps
from tradepulse.web.pages.render import fmt_of
from tradepulse.web.pages.sections import (
    Section,
    frame_section,
    guarded,
    ignores_note,
    ignoring,
    page,
)

router = APIRouter(include_in_schema=False)


def atlas_reference(iso3: str, lang: str) -> str:
    """The Atlas of Economic Complexity's published ECI and growth projection of ``iso3``, as a reference line
    beside our ECI (edition named); empty when the Atlas publishes none."""
    from tradepulse.errors import NoDataError, UnknownNameError
    try:
        from tradepulse.reference.atlas import growth_projection
        gp = growth_projection(iso3)
    except (NoDataError, UnknownNameError, ImportError):
        return ""
    fmt = fmt_of(lang)
    _ = fmt.gettext
    eci = f" · ECI {fmt.num(gp.atlas_eci, 2)}" if gp.atlas_eci is not None else ""
    sep = "، " if lang == "fa" else ", "
    return (f"{_('Published reference')}: {_('Atlas of Economic Complexity')}{sep}{_('edition')} "
            f"{fmt.year(gp.edition)}{eci} · "
            f"{_('projected growth')} {fmt.num(gp.rate, 1)}% {_('a year')}{'، ' if lang == 'fa' else ', '}"
            f"{fmt.year(gp.base_year)}–"
            f"{fmt.year(gp.base_year + gp.horizon_years)}.")


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
    out.append(guarded(_("Exports by product"), lang, lambda: treemaps.treemap_section(ctx, p, lang, "product")))
    out.append(guarded(_("Imports by product"), lang,
                       lambda: treemaps.treemap_section(ctx, p, lang, "product", "imports")))
    out.append(guarded(_("Export basket over time"), lang, lambda: treemaps.basket_section(ctx, p, lang)))
    out.append(guarded(_("Economic complexity"), lang, lambda: ignoring(frame_section(
        _("Revealed comparative advantage"), get_table(ctx, "complexity", p), lang, table="complexity", params=p,
        sid="complexity", columns=["year", "product", "product_name", "export_value", "rca", "density", "pci",
                                   "cog", "eci"], note=atlas_reference(ctx.focus, lang)), p, lang, "partner",
        "province")))
    out.append(guarded(_("Product space"), lang, lambda: _product_space(ctx, p, lang)))
    out.append(guarded(_("Feasibility"), lang,
                       lambda: ignoring(_feasibility(ctx, p, lang), p, lang, "partner", "province")))
    out.append(guarded(_("Opportunities"), lang, lambda: ignoring(frame_section(
        _("Opportunities"), get_table(ctx, "opportunities", p), lang, table="opportunities",
        params=p, sid="opportunities", columns=_OPP_COLUMNS), p, lang, "partner", "product", "province")))
    out.append(guarded(_("Exports by end use (BEC)"), lang, lambda: frame_section(
        _("Exports by end use (BEC)"), get_table(ctx, "end_use", p), lang, table="end_use", params=p, limit=12,
        sid="end-use", columns=["year", "end_use", "value_usd", "share"])))
    out.append(guarded(_("Export potential"), lang, lambda: ignoring(_potential(ctx, p, lang), p, lang,
                                                                      "partner", "product")))
    return out


#: The named oil sets (:data:`tradepulse.reference.OIL_SETS`) the export-potential table can leave out;
#: ``iran_customs`` is offered when the focus country is Iran (its official non-oil definition).
POTENTIAL_OIL_SETS = ("narrow", "chapter27", "iran_customs")


def _oil_label(name: str, lang: str) -> str:
    """The switch label of "non-oil" by oil set ``name``, naming the HS codes it leaves out."""
    from tradepulse import reference
    fmt = fmt_of(lang)
    _ = fmt.gettext
    sep = "، " if lang == "fa" else ", "
    if name == "chapter27":
        return _("Non-oil (without HS chapter {chapter})").format(chapter=fmt.text("27"))
    codes = sep.join(fmt.text(c) for c in reference.oil_prefixes(name))
    if name == "iran_customs":
        return _("Non-oil, Iran customs definition (without HS {codes})").format(codes=codes)
    return _("Non-oil (without HS {codes})").format(codes=codes)


def _potential(ctx: DataContext, p: Params, lang: str) -> Section:
    """The export-potential table by product with a switch: all products, or without a named oil set
    (issue 20: crude oil, refined products and gas rank first).  The non-oil shares of potential are
    recomputed over the non-oil products (= :func:`by_product` of the non-oil cells)."""
    from tradepulse import reference
    _ = fmt_of(lang).gettext
    df = get_table(ctx, "potential", p)
    sec = frame_section(_("Export potential"), df, lang, table="potential", params=p, sid="potential")
    sec.variant_label = _("All products")
    for name in POTENTIAL_OIL_SETS:
        if name == "iran_customs" and ctx.focus != "IRN":
            continue
        keep = df[~reference.matches_prefixes(df["product"], reference.oil_prefixes(name))].copy()
        if "potential_share" in keep.columns:
            total = keep["potential"].sum()
            keep["potential_share"] = keep["potential"] / total if total > 0 else float("nan")
        sub = frame_section(_("Export potential"), keep, lang, sid="potential")
        sec.variants.append((_oil_label(name, lang), sub.rows, len(keep)))
    return sec


_OPP_COLUMNS = ["rank", "product", "product_name", "score", "density", "pci", "cog", "rca", "export_value"]


def _product_space(ctx: DataContext, p: Params, lang: str) -> Section:
    """The Atlas's published HS92 layout (:func:`tradepulse.web.data.atlas_space_frames`); the force layout of
    :mod:`tradepulse.web.space` is the fallback when the data's revision has no bridge to HS92."""
    fmt = fmt_of(lang)
    _ = fmt.gettext
    from tradepulse.errors import UnknownNameError
    from tradepulse.web.data import SPACE_OPPORTUNITIES, atlas_space_frames
    ignored = ignores_note(lang, *[f for f in ("partner", "product", "province") if getattr(p, f)])
    try:
        nodes, edges, revision = atlas_space_frames(ctx, p.year)
    except UnknownNameError:
        return _force_space(ctx, p, lang)
    note = _("{n} HS92 products on the Atlas of Economic Complexity layout (atlas-common-data); area: world "
             "exports; coloured: exported with RCA ≥ 1, by product space cluster; black outline: the top {k} "
             "opportunities (balanced strategy). Scroll to zoom, drag to pan, click a product to open it.").format(
        n=fmt.int(len(nodes)), k=fmt.int(SPACE_OPPORTUNITIES))
    if revision != "HS1992":
        note += " " + _("Data in {rev} restated in HS92 with atlas-common-data conversion weights.").format(
            rev=revision)
    return Section(_("Product space"), state="ok", chart=charts.atlas_network(nodes, edges, lang),
                   id="product-space", wide=True, note=(note + " " + ignored).strip())


def _force_space(ctx: DataContext, p: Params, lang: str) -> Section:
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


@router.get("/products", response_class=HTMLResponse)
async def products(request: Request):
    return await page(request, "products", build_products, ("year", "partner", "product", "province"))


