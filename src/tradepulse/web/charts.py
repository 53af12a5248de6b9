"""Altair charts for the dashboard, returned as Vega-Lite JSON specs (rendered by the vendored vega-embed).

Conventions: values in US$ billions on axes (``value_bn = value_usd / 1e9``); titles, legends, tooltips and
units are translated through the project's gettext catalog (:mod:`tradepulse.i18n`); axis numbers keep Latin
digits in both languages (the charts stay left-to-right, docs/web.md); charts are sized to the container width
(``width="container"``).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from tradepulse.i18n import N_, translations

FONT = "Vazirmatn, DejaVu Sans, sans-serif"


def _spec(chart: alt.TopLevelMixin) -> dict:
    spec = chart.configure(font=FONT).configure_view(stroke=None).to_dict()
    return spec


def trade_lines(df: pd.DataFrame, lang: str) -> dict:
    """Exports, imports and non-oil balance by year (US$ bn)."""
    _ = translations(lang).gettext
    series = {"exports": _("Exports"), "imports": _("Imports"), "non_oil_balance": _("Non-oil balance")}
    long = df.melt(id_vars="year", value_vars=[c for c in series if c in df], var_name="series",
                   value_name="value_usd")
    long["series"] = long["series"].map(series)
    long["value_bn"] = (long.pop("value_usd") / 1e9).round(4)
    chart = alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("year:O", title=_("Year")),
        y=alt.Y("value_bn:Q", title=_("US$ bn")),
        color=alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("year:O", title=_("Year")), alt.Tooltip("series:N", title=_("Series")),
                 alt.Tooltip("value_bn:Q", format=",.2f", title=_("US$ bn"))],
    ).properties(width="container", height=260)
    return _spec(chart)


def top_bars(df: pd.DataFrame, label: str, lang: str, n: int = 15, value: str = "exports") -> dict:
    """Horizontal bars of the ``n`` largest rows by ``value``."""
    _ = translations(lang).gettext
    d = df.nlargest(n, value)[[label, value]].copy()
    d["value_bn"] = (d.pop(value) / 1e9).round(4)
    chart = alt.Chart(d).mark_bar().encode(
        y=alt.Y(f"{label}:N", sort="-x", title=None),
        x=alt.X("value_bn:Q", title=_("Exports") + " (" + _("US$ bn") + ")"),
        tooltip=[alt.Tooltip(f"{label}:N", title=" "), alt.Tooltip("value_bn:Q", format=",.3f",
                                                                     title=_("US$ bn"))],
    ).properties(width="container", height=max(120, 18 * len(d)))
    return _spec(chart)


def province_bars(df: pd.DataFrame, lang: str, n: int = 15) -> dict:
    """Exports and imports of the ``n`` largest exporting provinces in the latest year shown."""
    year = int(df["year"].max())
    d = df[df["year"] == year].nlargest(n, "exports")
    long = d.melt(id_vars="province", value_vars=["exports", "imports"], var_name="flow",
                  value_name="value_usd")
    _ = translations(lang).gettext
    long["flow"] = long["flow"].map({"exports": _("Exports"), "imports": _("Imports")})
    long["value_m"] = (long.pop("value_usd") / 1e6).round(3)
    chart = alt.Chart(long).mark_bar().encode(
        y=alt.Y("province:N", sort=alt.SortField("value_m", order="descending"), title=None),
        x=alt.X("value_m:Q", title=_("US$ m ({year})").format(year=year)),
        color=alt.Color("flow:N", title=None, legend=alt.Legend(orient="bottom")),
        yOffset="flow:N",
        tooltip=[alt.Tooltip("province:N", title=_("Province")), alt.Tooltip("flow:N", title=_("Flow")),
                 alt.Tooltip("value_m:Q", format=",.1f", title=_("US$ m"))],
    ).properties(width="container", height=max(140, 30 * len(d)))
    return _spec(chart)


def scatter(df: pd.DataFrame, x: str, y: str, label: str, lang: str, color: str | None = None,
            size: str | None = None, x_title: str | None = None, y_title: str | None = None) -> dict:
    """A scatter plot (e.g. the product space view: distance / density against PCI).  Only the encoded
    columns are embedded (rounded to 4 decimals) to keep pages small."""
    df = df[[c for c in dict.fromkeys([x, y, label, color, size]) if c]].copy()
    for c in (x, y, size):
        if c:
            df[c] = df[c].astype(float).round(4)
    enc = dict(x=alt.X(f"{x}:Q", title=x_title or x, scale=alt.Scale(zero=False)),
               y=alt.Y(f"{y}:Q", title=y_title or y, scale=alt.Scale(zero=False)),
               tooltip=[alt.Tooltip(f"{label}:N", title=" "), alt.Tooltip(f"{x}:Q", format=",.3f", title=x_title or x),
                        alt.Tooltip(f"{y}:Q", format=",.3f", title=y_title or y)])
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=None, legend=alt.Legend(orient="bottom"))
    if size:
        enc["size"] = alt.Size(f"{size}:Q", legend=None)
    chart = alt.Chart(df).mark_circle(opacity=0.7).encode(**enc).properties(width="container", height=340)
    return _spec(chart)


def step_lines(df: pd.DataFrame, x: str, y: str, group: str | None, lang: str, x_title: str,
               y_title: str) -> dict:
    """Step curves (Kaplan–Meier survival)."""
    df = df[[c for c in (x, y, group) if c]]
    enc = dict(x=alt.X(f"{x}:Q", title=x_title), y=alt.Y(f"{y}:Q", title=y_title, scale=alt.Scale(domain=[0, 1])),
               tooltip=[alt.Tooltip(f"{x}:Q", title=x_title), alt.Tooltip(f"{y}:Q", format=".3f", title=y_title)])
    if group:
        enc["color"] = alt.Color(f"{group}:N", title=None, legend=alt.Legend(orient="bottom"))
    chart = alt.Chart(df).mark_line(interpolate="step-after").encode(**enc).properties(width="container",
                                                                                      height=260)
    return _spec(chart)


def target_bars(df: pd.DataFrame, label: str, actual: str, target: str, lang: str) -> dict:
    """Actual vs target as paired bars."""
    long = df.melt(id_vars=label, value_vars=[actual, target], var_name="kind", value_name="value")
    tr = translations(lang)
    long["kind"] = long["kind"].map({actual: tr.pgettext("dashboard", "Actual"), target: tr.gettext("Target")})
    chart = alt.Chart(long).mark_bar().encode(
        y=alt.Y(f"{label}:N", title=None), x=alt.X("value:Q", title=None),
        color=alt.Color("kind:N", title=None, legend=alt.Legend(orient="bottom")), yOffset="kind:N",
        tooltip=[f"{label}:N", "kind:N", alt.Tooltip("value:Q", format=",.3s")],
    ).properties(width="container", height=max(140, 36 * len(df)))
    return _spec(chart)


#: The grey class of the product space (products exported without comparative advantage).
NOT_RCA = N_("RCA < 1")


def network(nodes: pd.DataFrame, edges: pd.DataFrame, lang: str) -> dict:
    """Product space network: grey links, products coloured by HS section where RCA ≥ 1 (else light grey).

    ``colour_group`` and ``section`` hold English HS section names (:data:`tradepulse.web.space.HS_SECTIONS`,
    catalog messages) or ``"RCA < 1"``; legend and tooltips show them translated."""
    _ = translations(lang).gettext
    nodes = nodes.assign(colour_group=nodes["colour_group"].map(_), section=nodes["section"].map(_))
    grey = _(NOT_RCA)
    groups = sorted(g for g in nodes["colour_group"].unique() if g != grey) + [grey]
    palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
               "#9c755f", "#17becf", "#bcbd22", "#1f77b4", "#d62728", "#8c564b", "#e377c2", "#2ca02c",
               "#7f7f7f", "#aec7e8", "#ffbb78", "#98df8a", "#c5b0d5"]
    colours = [palette[i % len(palette)] for i in range(len(groups) - 1)] + ["#d9d9d9"]
    axis = dict(axis=None, scale=alt.Scale(domain=[-0.02, 1.02]))
    links = alt.Chart(edges).mark_rule(color="#9e9e9e", opacity=0.35, strokeWidth=0.6).encode(
        x=alt.X("x:Q", **axis), y=alt.Y("y:Q", **axis), x2="x2:Q", y2="y2:Q")
    dots = alt.Chart(nodes).mark_circle(size=28, opacity=0.95, stroke="#ffffff", strokeWidth=0.3).encode(
        x=alt.X("x:Q", **axis), y=alt.Y("y:Q", **axis),
        color=alt.Color("colour_group:N", title=None, scale=alt.Scale(domain=groups, range=colours),
                        legend=alt.Legend(orient="bottom", columns=3, symbolSize=60)),
        order=alt.Order("rca:Q"),
        tooltip=[alt.Tooltip("product:N", title=_("Product")), alt.Tooltip("section:N", title=_("HS section")),
                 alt.Tooltip("rca:Q", format=".2f", title="RCA")])
    chart = alt.layer(links, dots).properties(width="container", height=460)
    return _spec(chart)
