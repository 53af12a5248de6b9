"""Charts of the weekly brief: Altair specifications rendered to SVG with vl-convert (no browser).

The SVGs hold no words, only numbers and HS codes: titles, units and the legend are HTML around the chart
(translated there), because WeasyPrint's SVG renderer mis-shapes Persian text (it breaks the joining of
ی and reverses runs inside right-to-left pages); in Persian the chart font is Vazirmatn (shipped in
``reports/fonts``, registered with vl-convert).  Values are shown in US$ billions (trend) and US$ millions
(movers).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from tradepulse.reports.i18n import Formatter

FONT_EN = "DejaVu Sans"
#: Series → colour of the trend chart (the HTML legend uses the same colours).
TREND_COLORS = {"exports": "#1f4e79", "non_oil_exports": "#2e8b57", "imports": "#c0504d"}
FONT_FA = "Vazirmatn"


@functools.cache
def _register_fonts() -> None:
    import vl_convert as vlc

    vlc.register_font_directory(str(Path(__file__).with_name("fonts")))   # Vazirmatn, shipped beside the brief


def to_svg(chart, fmt: Formatter | None = None) -> str:
    """Render an Altair chart to an SVG string (without the XML prolog, ready to inline).  Axis numbers follow
    ``fmt`` (:meth:`tradepulse.i18n.Formatter.d3_locale`): Persian digits, ``٬`` ``٫`` ``٪`` and U+2212 for a
    negative number when ``fmt.digits == "persian"``; ``-`` in English.  Without ``fmt``: Vega's default."""
    import vl_convert as vlc
    _register_fonts()
    locale = fmt.d3_locale() if fmt is not None else None
    svg = vlc.vegalite_to_svg(chart.to_dict(), format_locale=locale)
    if svg.startswith("<?xml"):
        svg = svg[svg.index("?>") + 2:].lstrip()
    return svg


def _config(chart, fmt: Formatter):
    font = FONT_FA if fmt.lang == "fa" else FONT_EN
    return (chart.configure(font=font).configure_axis(labelFontSize=10, titleFontSize=11)
            .configure_legend(labelFontSize=10, titleFontSize=10, orient="bottom", columnPadding=28,
                              labelLimit=220)
            .configure_view(stroke="transparent"))


def trend_chart(annual: pd.DataFrame, fmt: Formatter, width: int = 460, height: int = 170) -> str:
    """Exports, non-oil exports and imports by year (US$ bn) as SVG."""
    import altair as alt

    series = {"exports": "exports", "non_oil_exports": "non_oil_exports", "imports": "imports"}
    cols = [c for c in series if c in annual.columns]
    long = annual.melt(id_vars="year", value_vars=cols, var_name="series", value_name="value").dropna()
    long["series"] = long["series"].map(series)
    long["value"] = long["value"] / 1e9
    years = sorted(long["year"].astype(int).unique())
    long["year"] = [fmt.year(int(y)) for y in long["year"]]   # Persian: SH year first, Gregorian in brackets
    chart = alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("year:O", title=None, axis=alt.Axis(labelAngle=0 if fmt.lang != "fa" else -35),
                sort=[fmt.year(y) for y in years]),
        # no rotated axis title: WeasyPrint draws rotated RTL text in wrong order; the unit is in the caption
        y=alt.Y("value:Q", title=None),
        color=alt.Color("series:N", legend=None, scale=alt.Scale(domain=list(TREND_COLORS),
                                                                 range=list(TREND_COLORS.values()))),
    ).properties(width=width, height=height)
    return to_svg(_config(chart, fmt), fmt)


def movers_chart(movers: pd.DataFrame, fmt: Formatter, width: int = 420) -> str:
    """Change in exports of the top movers (US$ million) as a horizontal bar chart SVG."""
    import altair as alt

    df = movers[["product", "change"]].copy()
    df["label"] = ["HS " + fmt.text(p) for p in df["product"].astype(str)]
    df["value"] = df["change"] / 1e6
    df["sign"] = (df["value"] >= 0).map({True: "up", False: "down"})
    chart = alt.Chart(df).mark_bar().encode(
        y=alt.Y("label:N", sort=alt.EncodingSortField("value", order="descending"), title=None),
        x=alt.X("value:Q", title=None),
        color=alt.Color("sign:N", scale=alt.Scale(domain=["up", "down"], range=["#2e8b57", "#c0504d"]),
                        legend=None),
    ).properties(width=width, height=18 * len(df))
    return to_svg(_config(chart, fmt), fmt)


STATUS_COLORS = {"on-track": "#1d6b3f", "at-risk": "#b08900", "off-track": "#a33a36", "no-data": "#777777",
                 "no-recent-data": "#777777"}


def target_sparkline(series: pd.DataFrame, deadline_year: int | None, target_value: float | None, status: str,
                     width: int = 110, height: int = 28) -> str:
    """A word-free sparkline of a target: the actual series (line), the target at its deadline (dot in the
    status colour) and a dashed line from the last actual value to it.  Empty string without data."""
    import altair as alt

    if series is None or len(series) == 0:
        return ""
    df = pd.DataFrame({"year": series["year"].astype(int).to_numpy(),
                       "value": series["value"].astype(float).to_numpy()}).dropna()
    if df.empty:
        return ""
    layers = [alt.Chart(df).mark_line(color="#1f4e79", strokeWidth=1.5).encode(
        x=alt.X("year:Q", axis=None, scale=alt.Scale(zero=False, nice=False)),
        y=alt.Y("value:Q", axis=None, scale=alt.Scale(zero=False)))]
    if deadline_year is not None and target_value is not None and target_value == target_value:
        last = df.iloc[-1]
        path = pd.DataFrame({"year": [int(last["year"]), int(deadline_year)],
                             "value": [float(last["value"]), float(target_value)]})
        if int(deadline_year) > int(last["year"]):     # still to come: dashed path to the target
            layers.append(alt.Chart(path).mark_line(color="#999999", strokeDash=[3, 2], strokeWidth=1).encode(
                x="year:Q", y="value:Q"))
        layers.append(alt.Chart(path.tail(1)).mark_point(filled=True, size=30,
                                                         color=STATUS_COLORS.get(status, "#777777")).encode(
            x="year:Q", y="value:Q"))
    chart = alt.layer(*layers).properties(width=width, height=height).configure(padding=2)\
        .configure_view(stroke="transparent")
    return to_svg(chart)
