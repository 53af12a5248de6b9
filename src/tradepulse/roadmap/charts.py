"""Altair chart of one target: actual series (hollow points = estimates), the path from the baseline to the
target (straight line for value targets, compound growth for growth targets), the target point at the
deadline and the trend projection; ``to_svg`` renders it with vl-convert for PDF briefs."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from tradepulse.roadmap.status import STATUS_FA, TargetStatus, reason_text

COLORS = {"on-track": "#2e7d32", "at-risk": "#f9a825", "off-track": "#c62828", "no-data": "#757575",
          "no-recent-data": "#757575"}


def _path(st: TargetStatus) -> pd.DataFrame:
    t = st.target
    if st.target_value is None or st.baseline_value is None or t.baseline_year is None:
        return pd.DataFrame(columns=["year", "value", "line"])
    years = np.arange(t.baseline_year, t.deadline_year + 1)
    if t.growth is not None:
        values = st.baseline_value * (1 + t.growth) ** (years - t.baseline_year)
    else:
        values = np.interp(years, [t.baseline_year, t.deadline_year], [st.baseline_value, st.target_value])
    return pd.DataFrame({"year": years, "value": values, "line": "target path"})


#: Tooltip words for the kind of an actual point (the data keep the codes, which the fill condition tests).
KIND_LABELS = {"en": {"estimate": "estimate", "recorded": "recorded", "title": "kind"},
               "fa": {"estimate": "برآورد", "recorded": "ثبت‌شده", "title": "نوع"}}


def target_chart(status: TargetStatus, lang: str = "en", width: int | str = 420, height: int = 220,
                 y_title: str | None = None) -> alt.LayerChart:
    """Layered Altair chart for one :class:`TargetStatus`; ``y_title`` replaces the default axis title
    (``<metric> (USD)``), e.g. with a translated one."""
    t = status.target
    cal_label = "SH year" if t.calendar == "SH" else "year"
    if lang == "fa":
        cal_label = "سال (هجری شمسی)" if t.calendar == "SH" else "سال"
    label = STATUS_FA[status.status] if lang == "fa" else status.status
    title = alt.TitleParams(t.title(lang), subtitle=f"{label} — {reason_text(status.reason, lang)}",
                            subtitleColor=COLORS[status.status])
    x = alt.X("year:Q", title=cal_label, axis=alt.Axis(format="d", tickMinStep=1))
    fmt = ".1%" if t.metric == "market_share" else ("d" if t.metric in ("n_products", "n_markets") else
                                                      ("~s" if not t.metric.startswith("indicator:") else "~g"))
    unit = "" if t.metric in ("market_share", "n_products", "n_markets") or t.metric.startswith("indicator:") \
        else " (USD)"
    y = alt.Y("value:Q", title=y_title or f"{t.metric}{unit}", axis=alt.Axis(format=fmt))
    layers = []
    s = status.series
    if len(s):
        kind = np.where(s["estimate"], "estimate", "recorded")
        words = KIND_LABELS.get(lang, KIND_LABELS["en"])
        actual = s[["year", "value", "estimate"]].assign(
            line="actual", kind=kind, kind_label=[words[k] for k in kind])
        layers.append(alt.Chart(actual).mark_line(color="#1565c0").encode(x=x, y=y))
        layers.append(alt.Chart(actual).mark_point(size=45, color="#1565c0").encode(
            x=x, y=y, fill=alt.condition("datum.kind == 'estimate'", alt.value("white"), alt.value("#1565c0")),
            tooltip=["year:Q", alt.Tooltip("value:Q", format=",.4~s"), alt.Tooltip("kind_label:N", title=words["title"])]))
    path = _path(status)
    if len(path):
        layers.append(alt.Chart(path).mark_line(strokeDash=[6, 4], color="#616161").encode(x=x, y=y))
    if status.target_value is not None:
        goal = pd.DataFrame({"year": [t.deadline_year], "value": [status.target_value], "line": ["target"]})
        layers.append(alt.Chart(goal).mark_point(shape="diamond", size=120, filled=True, color="#000000")
                      .encode(x=x, y=y, tooltip=["year:Q", alt.Tooltip("value:Q", format=",.4~s")]))
    if status.projection is not None and status.as_of_year is not None and status.as_of_year < t.deadline_year:
        proj = pd.DataFrame({"year": [status.as_of_year, t.deadline_year],
                             "value": [status.actual, status.projection], "line": ["projection"] * 2})
        layers.append(alt.Chart(proj).mark_line(strokeDash=[2, 3], color=COLORS[status.status])
                      .encode(x=x, y=y))
    if not layers:
        layers.append(alt.Chart(pd.DataFrame({"year": [t.deadline_year], "value": [0.0]})).mark_point(opacity=0)
                      .encode(x=x, y=y))
    return alt.layer(*layers).properties(title=title, width=width, height=height)


def to_svg(chart: alt.Chart) -> str:
    """SVG text of a chart (vl-convert, no browser needed)."""
    import vl_convert as vlc
    return vlc.vegalite_to_svg(chart.to_json())
