"""Treemaps (OEC / Atlas style) of the focus country's trade by product or partner, and the export basket
over time; shared by the products and markets pages.  Data: :func:`tradepulse.web.data.get_table`
(``products`` / ``partners``) and :func:`tradepulse.web.data.export_basket` under the page's filters."""

from __future__ import annotations

import altair as alt

from tradepulse import reference
from tradepulse.web import charts
from tradepulse.web.data import DataContext, Params, export_basket, get_table
from tradepulse.web.pages.render import fmt_of
from tradepulse.web.pages.sections import Section
from tradepulse.web.space import HS_SECTIONS, hs_section

FLOWS = {"exports": "Exports", "imports": "Imports"}


def treemap_section(ctx: DataContext, p: Params, lang: str, by: str, flow: str = "exports") -> Section:
    """Treemap of ``flow`` by ``by`` (``product``: HS4 coloured by HS section; ``partner``: coloured
    neighbours15 vs other partners) with the total in a KPI tile; each cell links to its page."""
    fmt = fmt_of(lang)
    _ = fmt.gettext
    if by == "product":
        df = get_table(ctx, "products", p)
        section_en = hs_section(df["product"].astype(str))
        df = df.assign(group=section_en.map(_), label=df["product_name"].str.slice(0, 40),
                       url="/products/" + df["product"].astype(str))
        groups = [_(n) for _s, n in HS_SECTIONS]
        spec = charts.treemap(df, key="product", label="label", group="group", value=flow, lang=lang,
                              groups=groups, colours=charts.SECTION_COLOURS, href="url")
        title = _("Exports by product") if flow == "exports" else _("Imports by product")
    else:
        df = get_table(ctx, "partners", p)
        groups_ref = reference.country_groups()
        near = set(groups_ref["neighbours15"].members) if "neighbours15" in groups_ref else set()
        labels = [fmt.gettext("15 neighbours"), fmt.gettext("other partners")]
        df = df.assign(group=df["partner"].isin(near).map({True: labels[0], False: labels[1]}),
                       url="/partners/" + df["partner"].astype(str))
        spec = charts.treemap(df, key="partner", label="partner_name", group="group", value=flow, lang=lang,
                              groups=labels, colours=charts.SERIES_COLOURS[:2], href="url")
        title = _("Exports by partner") if flow == "exports" else _("Imports by partner")
    year = int(df["year"].iloc[0]) if len(df) else p.year
    total = float(df.loc[df[flow] > 0, flow].sum())
    sid = f"treemap-{by}-{flow}"
    sec = Section(title, chart=spec, id=sid, wide=True,
                  note=_("Area of each rectangle ∝ value; click a rectangle to open its page."))
    sec.kpis = [(f"{_(FLOWS[flow])} {fmt.year(year)}", fmt.usd(total), "")]
    return sec


def basket_section(ctx: DataContext, p: Params, lang: str, flow: str = "exports") -> Section:
    """Stacked areas of ``flow`` by HS section and year (the Atlas's "export basket over time")."""
    fmt = fmt_of(lang)
    _ = fmt.gettext
    df = export_basket(ctx, p, flow)
    d = df.assign(section=df["section"].map(_))
    groups = [_(n) for _s, n in HS_SECTIONS]
    chart = alt.Chart(d).mark_area().encode(
        x=alt.X("year:O", title=_("Year")),
        y=alt.Y("value_usd:Q", stack="zero", title=None),
        color=alt.Color("section:N", title=None, scale=alt.Scale(domain=groups, range=charts.SECTION_COLOURS),
                        legend=alt.Legend(orient="bottom", columns=4)),
        order=alt.Order("section:N"),
        tooltip=[alt.Tooltip("year:O", title=_("Year")), alt.Tooltip("section:N", title=_("HS section")),
                 alt.Tooltip("value_usd:Q", format="$,.4~s", title=_("US dollars")),
                 alt.Tooltip("share:Q", format=".1%", title=_("Share"))],
    ).properties(width="container", height=300)
    title = _("Export basket over time") if flow == "exports" else _("Import basket over time")
    return Section(title, chart=charts._spec(chart, lang), id=f"basket-{flow}", wide=True)
