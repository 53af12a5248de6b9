"""The targets page (``/targets``): roadmap target statuses and one chart per target."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

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
    cols = ["title", "status", "progress"] if compact else TARGET_COLUMNS + ["reason"]
    sec = frame_section(_("Target status"), df, lang, table="targets", limit=8 if compact else 50,
                        columns=cols, sid="targets" if not compact else "targets-glance")
    sec.wide = not compact            # the full status table needs the page width (no clipped progress bars)
    return sec


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


