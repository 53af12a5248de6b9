"""The targets page (``/targets``): roadmap target statuses and one chart per target."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from tradepulse.errors import TradepulseError
from tradepulse.web import charts
from tradepulse.web.data import DataContext, Params, Unavailable, get_table, require
from tradepulse.web.pages.labels import METRIC_LABELS
from tradepulse.web.pages.render import fmt_of
from tradepulse.web.pages.sections import Section, frame_section, guarded, page

router = APIRouter(include_in_schema=False)


TARGET_COLUMNS = ["title", "axis", "status", "probability", "baseline_value", "actual", "target_value",
                  "progress", "deadline_year", "as_of_year"]


def _targets_section(ctx: DataContext, lang: str, compact: bool = False) -> Section:
    _ = fmt_of(lang).gettext
    df = get_table(ctx, "targets", Params(lang=lang))
    if lang != "en" and "id" in df.columns:
        from tradepulse.web.data import target_statuses
        titles = {st.target.id: st.target.title(lang) for st in target_statuses(ctx)}
        df = df.assign(title=df["id"].map(titles).fillna(df["title"]))
    if lang != "en" and "reason" in df.columns:
        reason_text = require("tradepulse.roadmap.status", "reason_text")
        reasons = {r: reason_text(r, lang) for r in df["reason"].dropna().unique()}
        df = df.assign(reason=df["reason"].map(reasons))
    if not compact:
        df = _formatted_figures(ctx, df, lang)
    cols = ["title", "status", "progress"] if compact else TARGET_COLUMNS + ["reason"]
    sec = frame_section(_("Target status"), df, lang, table="targets", limit=8 if compact else 50,
                        columns=cols, sid="targets" if not compact else "targets-glance")
    sec.wide = not compact            # the full status table needs the page width (no clipped progress bars)
    return sec


#: Target figures shown in each target's own unit (money, share, count, index) rather than raw numbers.
FIGURE_COLUMNS = ("baseline_value", "actual", "target_value")


def target_figure(value: object, metric: str, options: dict | None, lang: str) -> Markup:
    """A target's baseline / actual / target value in its unit (:func:`tradepulse.roadmap.axes.value_kind`):
    money compact and unbreakable (``$1.23 bn``, ``۱٫۲۳ میلیارد دلار``), shares as percentages, counts whole,
    indices with 3 decimals, other indicator values with 4 significant digits."""
    import math

    from tradepulse.roadmap.axes import value_kind
    from tradepulse.web.pages.labels import MONEY_METRICS
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return Markup("")
    if math.isnan(v):
        return Markup("")
    fmt = fmt_of(lang)
    kind = "money" if metric in MONEY_METRICS else value_kind(metric, options)
    if kind == "money":
        return Markup('<span class="money">{0}</span>').format(fmt.usd(v))
    if kind == "share":
        text = fmt.pct(v, 2 if metric == "market_share" else 1, sign=False)
    elif kind == "count":
        text = fmt.num(v, 0)
    elif kind == "index":
        text = fmt.num(v, 3)
    else:
        text = fmt.numeral(f"{v:,.4g}") if abs(v) < 1e6 else fmt.num(v, 0)
    return Markup("{0}").format(text)      # a Markup cell: not re-read as money by the column name


def _formatted_figures(ctx: DataContext, df, lang: str):
    """``df`` with :data:`FIGURE_COLUMNS` as formatted cells (by each row's target metric)."""
    if "id" not in df.columns:
        return df
    from tradepulse.web.data import target_statuses
    units = {st.target.id: (st.target.metric, st.target.options) for st in target_statuses(ctx)}
    out = df.copy()
    for col in FIGURE_COLUMNS:
        if col in out.columns:
            out[col] = [target_figure(v, *units.get(i, (m, None)), lang)
                        for i, m, v in zip(out["id"], out.get("metric", out["id"]), out[col])]
    return out


def _metric_key(target) -> str:
    """The metric a target's chart shows: an ``indicator:<module>.<function>`` metric by the column it reads."""
    return str(target.options.get("column", "value")) if target.metric.startswith("indicator:") else target.metric


def _target_y_title(target, lang: str) -> str:
    """Translated y-axis title of a target chart in both languages (never the metric's identifier); money
    metrics carry their unit in the axis labels (:func:`tradepulse.web.charts.money_label_expr`)."""
    from tradepulse.web.pages.labels import COLUMN_LABELS
    fmt = fmt_of(lang)
    key = _metric_key(target)
    if key in METRIC_LABELS:
        return fmt.gettext(METRIC_LABELS[key])
    return fmt.msg(COLUMN_LABELS[key]) if key in COLUMN_LABELS else fmt.gettext("Value")


def _money_metric(target) -> bool:
    from tradepulse.web.pages.labels import MONEY_METRICS
    return _metric_key(target) in MONEY_METRICS


def build_targets(ctx: DataContext, p: Params, lang: str) -> list[Section]:
    _ = fmt_of(lang).gettext
    out = [guarded(_("Targets"), lang, lambda: _targets_section(ctx, lang))]

    def charts_() -> list[Section]:
        from tradepulse.web.data import target_statuses
        target_chart = require("tradepulse.roadmap.charts", "target_chart")
        secs = []
        for st in target_statuses(ctx):
            spec = target_chart(st, lang=lang, width="container", height=200,
                                y_title=_target_y_title(st.target, lang)).to_dict()
            spec = charts.localise(spec, lang, ("value",) if _money_metric(st.target) else ())
            secs.append(Section(st.target.title(lang), chart=spec, id=f"target-{st.target.id}"))
        return secs
    try:
        out.extend(charts_())
    except (Unavailable, TradepulseError) as exc:
        out.append(Section(_("Targets"), "unavailable", str(exc)))
    return out


@router.get("/targets", response_class=HTMLResponse)
async def targets(request: Request):
    return await page(request, "targets", build_targets, ())


