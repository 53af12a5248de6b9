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
#: Colours of the series in their fixed order (exports, imports, balance …), the same in every language.
SERIES_COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948"]


def _spec(chart: alt.TopLevelMixin, lang: str = "en", money: tuple[str, ...] = ("value_usd",)) -> dict:
    """The Vega-Lite dict of ``chart``: numbers in the language's d3 locale (Persian digits and separators
    through vega-embed's ``formatLocale``, set per spec in ``usermeta.embedOptions``) and the axes of the
    ``money`` fields labelled like the tables (``$1.2 bn`` / ``۱٫۲ میلیارد دلار``, :func:`money_axes`)."""
    spec = chart.configure(font=FONT).configure_view(stroke=None).to_dict()
    return localise(spec, lang, money)


def money_label_expr(lang: str) -> str:
    """A Vega expression labelling a US-dollar axis value in the units of :meth:`Formatter.usd` (bn, m, k),
    with the unit words of the catalog; digits follow the chart's format locale."""
    from tradepulse.i18n import USD_UNITS, formatter
    fmt = formatter(lang)
    parts = []
    for size, template in USD_UNITS:
        pre, _sep, post = fmt.gettext(template).partition("{value}")
        number = f"format(abs(datum.value) / {size:g}, ',.3~r')" if size > 1 else \
            "format(abs(datum.value), ',.0f')"
        parts.append((size, f"{_js(pre)} + {number} + {_js(post)}"))
    body = " : ".join(f"abs(datum.value) >= {size:g} ? ({e})" for size, e in parts[:-1]) + f" : ({parts[-1][1]})"
    return f"(datum.value < 0 ? {_js(fmt.minus)} : '') + ({body})"


def _js(text: str) -> str:
    import json
    return json.dumps(text, ensure_ascii=False)


def localise(spec: dict, lang: str, money: tuple[str, ...] = ("value_usd",)) -> dict:
    """Set the number locale of ``spec`` for ``lang`` and label every x / y axis encoding a field in ``money``
    with :func:`money_label_expr` (replacing SI formats such as ``1G``)."""
    from tradepulse.i18n import formatter
    spec.setdefault("usermeta", {}).setdefault("embedOptions", {})["formatLocale"] = formatter(lang).d3_locale()
    expr = money_label_expr(lang)

    def walk(node):
        if isinstance(node, dict):
            enc = node.get("encoding")
            if isinstance(enc, dict):
                for ch in ("x", "y"):
                    e = enc.get(ch)
                    if isinstance(e, dict) and e.get("field") in money and e.get("axis", {}) is not None:
                        axis = {k: v for k, v in (e.get("axis") or {}).items() if k != "format"}
                        axis["labelExpr"] = expr
                        e["axis"] = axis
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(spec)
    return spec


def trade_lines(df: pd.DataFrame, lang: str) -> dict:
    """Exports, imports and non-oil balance by year (US$ bn)."""
    _ = translations(lang).gettext
    series = {k: v for k, v in {"exports": _("Exports"), "imports": _("Imports"),
                                "non_oil_balance": _("Non-oil balance")}.items() if k in df}
    long = df.melt(id_vars="year", value_vars=[c for c in series if c in df], var_name="series",
                   value_name="value_usd")
    long["series"] = long["series"].map(series)
    long["value_usd"] = long["value_usd"].round(0)
    chart = alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("year:O", title=_("Year")),
        y=alt.Y("value_usd:Q", title=None),
        color=alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=list(series.values()),
                                        range=[SERIES_COLOURS[i] for i, k in enumerate(
                                            ("exports", "imports", "non_oil_balance")) if k in series])),
        tooltip=[alt.Tooltip("year:O", title=_("Year")), alt.Tooltip("series:N", title=_("Series")),
                 alt.Tooltip("value_usd:Q", format="$,.4~s", title=_("US dollars"))],
    ).properties(width="container", height=260)
    return _spec(chart, lang)


def top_bars(df: pd.DataFrame, label: str, lang: str, n: int = 15, value: str = "exports") -> dict:
    """Horizontal bars of the ``n`` largest rows by ``value``."""
    _ = translations(lang).gettext
    d = df.nlargest(n, value)[[label, value]].copy()
    d["value_usd"] = d.pop(value).round(0)
    chart = alt.Chart(d).mark_bar(color=SERIES_COLOURS[0]).encode(
        y=alt.Y(f"{label}:N", sort="-x", title=None),
        x=alt.X("value_usd:Q", title=_("Exports")),
        tooltip=[alt.Tooltip(f"{label}:N", title=" "), alt.Tooltip("value_usd:Q", format="$,.4~s",
                                                                     title=_("US dollars"))],
    ).properties(width="container", height=max(120, 18 * len(d)))
    return _spec(chart, lang)


def province_bars(df: pd.DataFrame, lang: str, n: int = 15) -> dict:
    """Exports and imports of the ``n`` largest exporting provinces in the latest year shown."""
    year = int(df["year"].max())
    d = df[df["year"] == year].nlargest(n, "exports")
    long = d.melt(id_vars="province", value_vars=["exports", "imports"], var_name="flow",
                  value_name="value_usd")
    _ = translations(lang).gettext
    long["flow"] = long["flow"].map({"exports": _("Exports"), "imports": _("Imports")})
    long["value_usd"] = long["value_usd"].round(0)
    flows = [_("Exports"), _("Imports")]
    chart = alt.Chart(long).mark_bar().encode(
        y=alt.Y("province:N", sort=alt.SortField("value_usd", order="descending"), title=None),
        x=alt.X("value_usd:Q", title=fmt_year(year, lang)),
        color=alt.Color("flow:N", title=None, legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=flows, range=SERIES_COLOURS[:2])),
        yOffset="flow:N",
        tooltip=[alt.Tooltip("province:N", title=_("Province")), alt.Tooltip("flow:N", title=_("Flow")),
                 alt.Tooltip("value_usd:Q", format="$,.4~s", title=_("US dollars"))],
    ).properties(width="container", height=max(140, 30 * len(d)))
    return _spec(chart, lang)


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
    return _spec(chart, lang)


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
    return _spec(chart, lang)


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
    return _spec(chart, lang)


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
    return _spec(chart, lang)


#: Atlas product space clusters (atlas-common-data ``hs92_ps_clusters.csv``, ids 0–7) → catalog message and a
#: fixed colour, so each cluster keeps its colour in every language.
ATLAS_CLUSTERS = {0: (N_("Agriculture"), "#f2cf1d"), 1: (N_("Construction, Building, and Home Supplies"), "#c17f4f"),
                  2: (N_("Electronic and Electrical Goods"), "#4e79a7"),
                  3: (N_("Industrial Chemicals and Metals"), "#b07aa1"),
                  4: (N_("Metalworking and Electrical Machinery and Parts"), "#e15759"),
                  5: (N_("Minerals"), "#7a5c45"), 6: (N_("Textile Apparel and Accessories"), "#59a14f"),
                  7: (N_("Textile and Home Goods"), "#76b7b2")}


def atlas_network(nodes: pd.DataFrame, edges: pd.DataFrame, lang: str) -> dict:
    """The product space on the Atlas layout: node area ∝ world trade, the focus country's RCA ≥ 1 products in
    their cluster colour (others grey), opportunities outlined in black; a search box (code or name) rings
    and labels the matching products; zoom (wheel) and pan (drag); a click opens ``/products/<code>``."""
    _ = translations(lang).gettext
    d = nodes.copy()
    d["cluster"] = d["cluster_id"].map(lambda c: _(ATLAS_CLUSTERS[int(c)][0]) if int(c) in ATLAS_CLUSTERS else "")
    d["group"] = d["cluster"].where(d["rca"].fillna(0) >= 1, _(NOT_RCA))
    d["label"] = d["product"] + " " + d["name"].str.slice(0, 30)
    d["url"] = "/products/" + d["product"]
    d["trade_bn"] = (d["world_trade"] / 1e9).round(3)
    d = d[["product", "label", "x", "y", "group", "cluster", "rca", "opportunity", "trade_bn", "url"]]
    domain = [_(m) for m, _c in ATLAS_CLUSTERS.values()] + [_(NOT_RCA)]
    colours = [c for _m, c in ATLAS_CLUSTERS.values()] + ["#dcdcdc"]
    search = alt.param(name="search", value="", bind=alt.binding(
        input="search", name=_("Find a product (HS code or name)") + " ", placeholder="5701"))
    zoom = alt.selection_interval(bind="scales", name="zoom")
    match = ("search != '' && (indexof(datum.product, search) == 0 || "
             "indexof(lower(datum.label), lower(search)) >= 0)")
    x = alt.X("x:Q", axis=None, scale=alt.Scale(zero=False, nice=False))
    y = alt.Y("y:Q", axis=None, scale=alt.Scale(zero=False, nice=False, reverse=True))
    links = alt.Chart(edges).mark_rule(color="#b0b0b0", opacity=0.45, strokeWidth=0.6).encode(
        x=x, y=y, x2="x2:Q", y2="y2:Q")
    dots = alt.Chart(d).mark_circle(opacity=0.95, cursor="pointer").encode(
        x=x, y=y,
        size=alt.Size("trade_bn:Q", scale=alt.Scale(range=[24, 600]), legend=None),
        color=alt.Color("group:N", title=None, scale=alt.Scale(domain=domain, range=colours),
                        legend=alt.Legend(orient="bottom", columns=3, symbolSize=80)),
        stroke={"condition": [{"test": match, "value": "#d62728"}, {"test": "datum.opportunity",
                                                                     "value": "#111111"}], "value": "#ffffff"},
        strokeWidth={"condition": [{"test": match, "value": 3}, {"test": "datum.opportunity", "value": 1.6}],
                     "value": 0.3},
        href="url:N",
        order=alt.Order("trade_bn:Q", sort="descending"),
        tooltip=[alt.Tooltip("label:N", title=_("Product")), alt.Tooltip("cluster:N", title=_("Cluster")),
                 alt.Tooltip("rca:Q", format=".2f", title="RCA"),
                 alt.Tooltip("trade_bn:Q", format=",.1f", title=_("World trade") + " (" + _("US$ bn") + ")")],
    ).add_params(search, zoom)
    labels = alt.Chart(d).transform_filter(match).mark_text(
        align="left", dx=8, dy=-8, fontSize=12, fontWeight="bold", color="#d62728", cursor="pointer").encode(
        x=x, y=y, text="label:N", href="url:N")
    chart = alt.layer(links, dots, labels).properties(width="container", height=560)
    spec = _spec(chart, lang)
    spec["usermeta"]["embedOptions"]["loader"] = {"target": "_self"}     # a click opens the product here
    return spec


def fmt_year(year: int, lang: str) -> str:
    from tradepulse.i18n import formatter
    return formatter(lang).year(year)


def lines(df: pd.DataFrame, x: str, y: str, group: str | None, lang: str, x_title: str, y_title: str) -> dict:
    """A trend per group (e.g. diversification HHI by year, products vs markets), fixed series colours."""
    d = df[[c for c in (x, y, group) if c]].dropna()
    enc = {"x": alt.X(f"{x}:O", title=x_title), "y": alt.Y(f"{y}:Q", title=y_title),
           "tooltip": [alt.Tooltip(f"{x}:O", title=x_title), alt.Tooltip(f"{y}:Q", format=".3f", title=y_title)]}
    if group:
        dom = list(dict.fromkeys(d[group]))      # order of appearance: the same in every language
        enc["color"] = alt.Color(f"{group}:N", title=None, legend=alt.Legend(orient="bottom"),
                                 scale=alt.Scale(domain=dom, range=SERIES_COLOURS[:len(dom)]))
    chart = alt.Chart(d).mark_line(point=True).encode(**enc).properties(width="container", height=220)
    return _spec(chart, lang)


#: One colour per HS section (:data:`tradepulse.web.space.HS_SECTIONS` order), the same in every language.
SECTION_COLOURS = ["#8c6d31", "#637939", "#bd9e39", "#e7ba52", "#843c39", "#d6616b", "#7b4173", "#a55194",
                   "#8ca252", "#b5cf6b", "#ce6dbd", "#de9ed6", "#9c9ede", "#e7cb94", "#6b6ecf", "#3182bd",
                   "#31a354", "#756bb1", "#636363", "#fd8d3c", "#969696"]


def treemap(df: pd.DataFrame, *, key: str, label: str, group: str, value: str, lang: str,
            groups: list[str], colours: list[str], href: str | None = None, height: int = 420) -> dict:
    """A treemap (Vega's ``stratify`` + ``treemap`` transforms, squarified; Bruls, Huizing & van Wijk 2000)
    of ``value`` by ``key`` nested in ``group``; rectangle area ∝ value, so the areas sum to the total.

    ``groups`` / ``colours``: the colour of each group in a fixed order (the same in every language).  Returns
    a Vega spec (not Vega-Lite) marked for vega-embed with ``usermeta.embedOptions.mode = "vega"``; the width
    follows the container."""
    from tradepulse.i18n import formatter
    d = df[df[value] > 0]
    rows: list[dict] = [{"id": "root"}]
    rows += [{"id": f"g:{g}", "parent": "root", "group": g} for g in dict.fromkeys(d[group])]
    for r in d.itertuples(index=False):
        rec = r._asdict()
        rows.append({"id": f"k:{rec[key]}", "parent": f"g:{rec[group]}", "group": rec[group], "key": str(rec[key]),
                     "label": str(rec[label]), "value": float(rec[value]),
                     "money": formatter(lang).usd(rec[value]),
                     **({"url": str(rec[href])} if href else {})})
    spec = {
        "usermeta": {"embedOptions": {"mode": "vega", "formatLocale": formatter(lang).d3_locale(),
                                      "loader": {"target": "_self"}}},
        "height": height, "padding": 4, "autosize": "none",
        "signals": [{"name": "width", "init": "containerSize()[0] || 600",
                     "on": [{"events": "window:resize", "update": "containerSize()[0] || 600"}]}],
        "data": [
            {"name": "tree", "values": rows, "transform": [
                {"type": "stratify", "key": "id", "parentKey": "parent"},
                {"type": "treemap", "field": "value", "sort": {"field": "value", "order": "descending"},
                 "method": "squarify", "round": False, "size": [{"signal": "width - 8"}, {"signal": "height - 64"}]}]},
            {"name": "leaves", "source": "tree", "transform": [{"type": "filter", "expr": "datum.key"}]}],
        "scales": [{"name": "colour", "type": "ordinal", "domain": groups, "range": colours}],
        "legends": [{"fill": "colour", "orient": "none", "legendX": 0, "legendY": {"signal": "height - 58"},
                     "direction": "horizontal", "columns": 7, "labelFont": FONT, "labelFontSize": 10,
                     "values": [g for g in groups if g in set(d[group])], "labelLimit": 220}],
        "marks": [
            {"type": "rect", "name": "cells", "from": {"data": "leaves"}, "encode": {
                "enter": {"fill": {"scale": "colour", "field": "group"}, "stroke": {"value": "#ffffff"},
                          "strokeWidth": {"value": 0.8}, "cursor": {"value": "pointer" if href else "default"},
                          **({"href": {"field": "url"}} if href else {}),
                          "tooltip": {"signal": "{title: datum.key + ' ' + datum.label, 'group': datum.group, "
                                                "'value': datum.money}"}},
                "update": {"x": {"field": "x0"}, "y": {"field": "y0"}, "x2": {"field": "x1"},
                           "y2": {"field": "y1"}}}},
            {"type": "text", "from": {"data": "leaves"}, "interactive": False, "encode": {
                "enter": {"fill": {"value": "#ffffff"}, "fontSize": {"value": 11}, "font": {"value": FONT},
                          "baseline": {"value": "top"}, "limit": {"signal": "datum.x1 - datum.x0 - 6"}},
                "update": {"x": {"signal": "datum.x0 + 3"}, "y": {"signal": "datum.y0 + 3"},
                           "text": {"signal": "(datum.x1 - datum.x0) > 48 && (datum.y1 - datum.y0) > 16 ? "
                                              "datum.key + ' ' + datum.label : ''"}}}}],
    }
    return spec


def tile_map(df: pd.DataFrame, lang: str, value: str = "exports") -> dict:
    """Tile-grid map (:data:`tradepulse.web.tilegrid.IRAN_GRID`): each province a square at its grid cell,
    shaded by ``value`` (sequential scale); the label is the province name and the amount.  Geographic
    orientation (west on the left) in both languages.  ``df``: ``province`` (canonical English), ``label``
    (shown name), ``value``; the value of provinces without data is shown empty."""
    from tradepulse.i18n import formatter
    from tradepulse.web.tilegrid import IRAN_GRID
    fmt = formatter(lang, None, "")
    values = df.set_index("province")[value] if len(df) else pd.Series(dtype=float)
    labels = df.set_index("province")["label"] if len(df) else pd.Series(dtype=str)
    rows = [{"province": p, "label": str(labels.get(p, p)), "col": c, "row": r,
             "value": float(values.get(p)) if p in values.index else None,
             "money": fmt.usd(values.get(p)) if p in values.index else ""} for p, (c, r) in IRAN_GRID.items()]
    d = pd.DataFrame(rows)
    _ = translations(lang).gettext
    x = alt.X("col:O", axis=None, scale=alt.Scale(paddingInner=0.06))
    y = alt.Y("row:O", axis=None, scale=alt.Scale(paddingInner=0.06))
    tiles = alt.Chart(d).mark_rect(cornerRadius=3).encode(
        x=x, y=y, color=alt.Color("value:Q", title=_("Exports"), scale=alt.Scale(range=["#edf8e9", "#5bb36a"]),
                                  legend=alt.Legend(orient="bottom", labelExpr=money_label_expr(lang))),
        tooltip=[alt.Tooltip("label:N", title=_("Province")), alt.Tooltip("money:N", title=_("Exports"))])
    names = alt.Chart(d).mark_text(dy=-7, fontSize=10, fontWeight="bold", limit=120).encode(
        x=x, y=y, text="label:N", color=alt.condition("datum.value > 0", alt.value("#111"), alt.value("#555")))
    money = alt.Chart(d).mark_text(dy=8, fontSize=10).encode(x=x, y=y, text="money:N")
    chart = alt.layer(tiles, names, money).properties(width="container", height=380)
    return _spec(chart, lang)
