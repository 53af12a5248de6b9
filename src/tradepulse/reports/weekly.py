"""What makes the brief weekly: the current-period section, "since the last brief", the executive summary,
and the display helpers (days overdue, translated "Linked to" labels, month labels) the template uses.

:func:`fill` is called by :func:`tradepulse.reports.brief.build_brief` with the warehouse open;
:func:`store` by :func:`~tradepulse.reports.brief.write_brief` once the file is written;
:func:`template_helpers` by :func:`~tradepulse.reports.brief.render_html`.

**Executive summary** (:func:`summary`): five sentences from templates over the brief's own figures, in this
order — the latest month (or the latest year when the data are annual only), the year to date (or "annual data
only"), the roadmap targets by status, the action items (overdue with the oldest's days, due, done), and what
changed since the last brief.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tradepulse.i18n import N_, Formatter

__all__ = ["LINK_LABELS", "fill", "month_label", "store", "summary", "template_helpers"]

#: Labels of the keys an action item can be linked to (indicators and the demo's target ids).
LINK_LABELS = {
    "lost_markets": N_("Lost markets"), "new_rca_products": N_("Products newly at RCA ≥ 1"),
    "export_survival": N_("Survival of export relationships"), "top_movers": N_("Top movers"),
    "non_oil_exports": N_("Non-oil exports"), "handicrafts_exports": N_("Handicrafts exports"),
    "neighbour_share": N_("Share of the neighbours in exports"), "exports": N_("Exports"),
    "imports": N_("Imports"), "non_oil_balance": N_("Non-oil trade balance"),
    "diversification": N_("Diversification of products and markets"), "complexity": N_("Economic complexity"),
    "exporters": N_("Number of active exporters"), "opportunities": N_("Top opportunities"),
}


def fill(brief, wh, groups_url: str | None, history: str | Path | None, *, trade: bool = True) -> None:
    """Add the current-period section and, with a ``history`` store, the comparison with the last brief."""
    from tradepulse.reports import period, since

    if wh is not None and trade:
        try:
            brief.current = period.current_section(wh, brief.reporter, brief.province, as_of=brief.as_of)
        except Exception as exc:   # noqa: BLE001 — a section must never stop the brief
            brief.current = {"status": "no-data", "rows": [], "warnings": [], "detail": str(exc)}
    figures = {f"headline.{h['key']}": h["current"] for h in brief.headline if h.get("current") is not None}
    figures.update(period.flat_figures(brief.current or {}))
    loads = since.warehouse_loads(wh)
    actions = since.action_states(groups_url, brief.province, brief.as_of)
    brief.snapshot = since.snapshot_of(figures, brief.targets, actions, loads)
    if history is None:
        return
    brief.history = str(history)
    prev = since.SnapshotStore(history).previous(since.scope_key(brief.reporter, brief.province), brief.as_of)
    if prev is None:
        return
    as_of, week, snap = prev
    brief.since = since.compare(snap, brief.snapshot, loads)
    brief.since["as_of"] = as_of.isoformat()
    brief.since["week"] = week


def store(brief) -> None:
    """Save the brief's snapshot in its history store (no-op without one)."""
    from tradepulse.reports import since

    if getattr(brief, "history", None) and getattr(brief, "snapshot", None) is not None:
        since.SnapshotStore(brief.history).save(since.scope_key(brief.reporter, brief.province), brief.as_of,
                                                brief.week.label, brief.snapshot)


def month_label(year: int, month: int, fmt: Formatter) -> str:
    """A data month: Persian ``فروردین ۱۳۹۸ (۲۰۱۹-۰۴)`` (SH month of the label first, see
    :func:`tradepulse.indicators.current.sh_label`), English ``2019-04 (SH 1398-01)``."""
    from tradepulse.indicators.current import sh_label
    from tradepulse.roadmap.calendar import MONTHS_FA

    sy, sm = sh_label(int(year), int(month))
    if fmt.lang == "fa":
        return fmt.text(f"{MONTHS_FA[sm - 1]} {sy} ({int(year)}-{int(month):02d})")
    return f"{int(year)}-{int(month):02d} (SH {sy}-{sm:02d})"


def _days(a: dict, as_of: dt.date) -> int | None:
    d = a.get("deadline")
    if d is None:
        return None
    if isinstance(d, str):
        d = dt.date.fromisoformat(d)
    return (as_of - d).days


def summary(brief, fmt: Formatter) -> list[str]:
    """The five sentences of the executive summary (see the module docstring), translated."""
    _ = fmt.gettext
    out = []
    cur = brief.current or {}
    exp = next((r for r in cur.get("rows", []) if r["flow"] == "export"), None)
    if exp is not None:
        out.append(_("Exports in {month} were {value}, {growth} on the same month a year earlier "
                     "(dataset {dataset}).").format(month=month_label(exp["end_year"], exp["end_month"], fmt),
                                                    value=fmt.usd(exp["latest"]), growth=fmt.pct(exp["latest_growth"]),
                                                    dataset=exp["dataset"]))
        first = exp.get("ytd_first") or [exp["end_year"], exp["end_month"]]
        out.append(_("Year to date ({first} to {last}) exports total {value}, {growth} against the same months "
                     "a year earlier; over the last 12 months {rolling}.").format(
            first=month_label(first[0], first[1], fmt), last=month_label(exp["end_year"], exp["end_month"], fmt),
            value=fmt.usd(exp["ytd"]), growth=fmt.pct(exp["ytd_growth"]), rolling=fmt.usd(exp["rolling12"])))
    else:
        h = next((h for h in brief.headline if h["key"] == "exports"), None)
        if h is not None and brief.latest_year:
            out.append(_("Exports in {year} were {value}, {growth} on the year before.").format(
                year=fmt.year(brief.latest_year), value=fmt.usd(h["current"]), growth=fmt.pct(h["growth"])))
        else:
            out.append(_("There are no trade figures for this scope."))
        out.append(_("The warehouse holds annual data only for this scope: there is no monthly view (latest "
                     "month, year to date)."))
    st = [t["status"] for t in brief.targets]
    if st:
        out.append(_("Roadmap targets: {on} of {n} on track, {risk} at risk, {off} off track.").format(
            n=fmt.int(len(st)), on=fmt.int(st.count("on-track")), risk=fmt.int(st.count("at-risk")),
            off=fmt.int(st.count("off-track"))))
    else:
        out.append(_("No roadmap target is tracked for this scope."))
    if brief.overdue:
        days = max((_days(a, brief.as_of) or 0) for a in brief.overdue)
        out.append(_("Action items: {overdue} overdue (the oldest by {days} days), {due} due this week, {done} "
                     "done this week.").format(
            overdue=fmt.int(len(brief.overdue)), days=fmt.int(days), due=fmt.int(len(brief.due)),
            done=fmt.int(len(brief.done))))
    else:
        out.append(_("Action items: none overdue, {due} due this week, {done} done this week.").format(
            due=fmt.int(len(brief.due)), done=fmt.int(len(brief.done))))
    s = brief.since
    if s:
        out.append(_("Since the last brief ({date}): {loads} new data loads, {targets} target status changes, "
                     "{closed} actions closed, {new} new and {overdue} newly overdue.").format(
            date=fmt.date(dt.date.fromisoformat(s["as_of"])), loads=fmt.int(len(s["loads"])),
            targets=fmt.int(len(s["targets"])), closed=fmt.int(len(s["closed"])), new=fmt.int(len(s["new"])),
            overdue=fmt.int(len(s["newly_overdue"]))))
    else:
        out.append(_("This is the first stored brief for this scope; the next one will say what changed since."))
    return out


def template_helpers(brief, fmt: Formatter) -> dict:
    """Functions and values the template's weekly blocks use."""
    from tradepulse.reports.since import FIGURE_LABELS

    titles = {str(t["id"]).replace("-", "_"): t["title"] for t in brief.targets}

    def link_label(key: str | None) -> str:
        if not key:
            return ""
        norm = str(key).replace("-", "_")
        if norm in titles:
            return titles[norm]
        if norm in LINK_LABELS:
            return fmt.gettext(LINK_LABELS[norm])
        return norm.replace("_", " ")

    def days_overdue(a: dict) -> str:
        n = _days(a, brief.as_of)
        _ = fmt.gettext
        return "" if n is None else _("{n} days").format(n=fmt.int(n))

    def figure_label(key: str) -> str:
        return fmt.gettext(FIGURE_LABELS.get(key, key))

    from tradepulse.reports.hs_names import chapter_name

    return {"summary": summary(brief, fmt), "link_label": link_label, "days_overdue": days_overdue,
            "chapter": lambda code: chapter_name(code, fmt),
            "month_label": lambda y, m: month_label(y, m, fmt), "figure_label": figure_label}
