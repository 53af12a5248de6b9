"""The next meeting's agenda of a working group, built from the data (issue 16).

    agenda = build_agenda("warehouse.duckdb", "sqlite:///groups.sqlite", "Tehran working group", lang="fa")
    html = render_agenda_html(agenda); pdf = agenda_pdf(agenda)

Sections, for reference day *D* (default today) and the group's last meeting *L* (before or on *D*):

1. **Overdue actions**: open or in progress with deadline < *D* (oldest first, with days overdue).
2. **Due within 7 days**: open or in progress with *D* ≤ deadline ≤ *D* + 7.
3. **Targets that changed status**: the roadmap targets of the group's province (national targets for a
   national group, or when the province has none) evaluated as of *L* and as of *D*
   (:func:`tradepulse.roadmap.evaluate`, data after the day ignored); those whose status differs.  Without a
   previous meeting every target is listed with its current status.
4. **Latest indicator changes** of the province: the weekly brief's headline indicators (latest year with
   data vs the year before, :mod:`tradepulse.reports.brief`).

The next meeting is dated *L* + 7 days when that is on or after *D* (weekly meetings), else *D*.  A
section that cannot be filled says why; the agenda is still produced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from tradepulse.errors import TradepulseError
from tradepulse.reports.i18n import N_, Formatter

#: Days ahead counted as "due soon".
DUE_DAYS = 7


@dataclass
class Agenda:
    lang: str
    group: dict                                   # id, name, title, province
    as_of: dt.date
    last_meeting: dt.date | None
    next_meeting: dt.date
    overdue: list[dict] = field(default_factory=list)
    due: list[dict] = field(default_factory=list)
    targets_changed: list[dict] = field(default_factory=list)
    indicators: list[dict] = field(default_factory=list)
    latest_year: int | None = None
    recipients: list[tuple[str, str]] = field(default_factory=list)   # (name, e-mail) of the group's people
    notes: dict[str, str] = field(default_factory=dict)


def _row(a, fmt: Formatter, day: dt.date) -> dict:
    return {"id": a.id, "title": a.title, "owner": a.owner.name(fmt.lang), "deadline": a.deadline,
            "status": a.status, "days_overdue": (day - a.deadline).days if a.deadline and a.deadline < day else 0,
            "version": a.version}


def build_agenda(warehouse, groups_url: str | None, group: str | int, *, as_of: dt.date | None = None,
                 lang: str = "en", roadmap=None, reporter: str | None = None, cache=None) -> Agenda:
    """Collect the agenda of ``group``'s next meeting (see the module docstring).  ``cache``: optional
    ``cache(key, compute)`` for the roadmap evaluations (they depend on the warehouse and the day only; the
    dashboard passes its per-warehouse-version cache)."""
    from tradepulse.groups.db import session_factory
    from tradepulse.groups.service import GroupService

    fmt = Formatter(lang)
    day = as_of or dt.date.today()
    factory = session_factory(groups_url)
    try:
        with factory() as session:
            svc = GroupService(session)
            grp = svc.group(group)
            past = [m for m in svc.meetings(grp.id) if m.date <= day]
            last = past[-1].date if past else None
            nxt = last + dt.timedelta(days=7) if last and last + dt.timedelta(days=7) >= day else day
            ag = Agenda(lang=lang, group={"id": grp.id, "name": grp.name, "title": grp.title(lang),
                                          "province": grp.province}, as_of=day, last_meeting=last, next_meeting=nxt)
            ag.overdue = [_row(a, fmt, day) for a in svc.overdue_actions(day, group=grp.id)]
            ag.due = [_row(a, fmt, day) for a in svc.actions_due(day, day + dt.timedelta(days=DUE_DAYS), group=grp.id)]
            ag.recipients = [(p.full_name, p.email) for p in svc.people(grp.id) if p.email]
    finally:
        factory.kw["bind"].dispose()
    _trade_parts(ag, warehouse, groups_url, roadmap, reporter, cache)
    if not ag.overdue:
        ag.notes["overdue"] = N_("None.")
    if not ag.due:
        ag.notes["due"] = N_("None.")
    return ag


def _indicators(ag: Agenda, warehouse, reporter: str | None) -> None:
    """Latest year with trade data for the province (national without one) vs the year before, as in the
    weekly brief's headline cards (:func:`tradepulse.reports.sections.annual_totals`)."""
    from tradepulse.config import DEFAULT_FOCUS
    from tradepulse.errors import NoDataError, UnknownNameError
    from tradepulse.reports import sections
    from tradepulse.reports.brief import _open_warehouse

    wh, close = _open_warehouse(warehouse)
    try:
        if wh is None:
            ag.notes["indicators"] = N_("There is no warehouse yet: run tradepulse demo or tradepulse ingest.")
            return
        annual = sections.annual_totals(wh, (reporter or DEFAULT_FOCUS).upper(), ag.group["province"])
    except (NoDataError, UnknownNameError):
        ag.notes["indicators"] = N_("None.")
        return
    finally:
        if wh is not None and close:
            wh.close()
    annual = annual[annual["year"] <= ag.as_of.year]
    if len(annual) == 0:
        ag.notes["indicators"] = N_("None.")
        return
    ag.latest_year, cards = sections.headline(annual)
    ag.indicators.extend(cards)


def _trade_parts(ag: Agenda, warehouse, groups_url, roadmap, reporter, cache=None) -> None:
    """Targets that changed status (the brief's target section as of the last meeting and as of today) and
    the headline indicator changes."""
    from tradepulse.reports.brief import build_brief

    _indicators(ag, warehouse, reporter)
    only_targets = dict(province=ag.group["province"], lang=ag.lang, roadmap=roadmap, reporter=reporter,
                        skip=("actions", "trade"))

    def targets_at(day: dt.date) -> tuple[list[dict], str | None]:
        def compute():
            b = build_brief(warehouse, groups_url, date=day, **only_targets)
            return b.targets, b.notes.get("targets")
        if cache is None or roadmap is not None:
            return compute()
        return cache(("agenda-targets", ag.group["province"], ag.lang, reporter, day), compute)

    try:
        now, why = targets_at(ag.as_of)
    except TradepulseError as exc:
        ag.notes["targets"] = str(exc)
        return
    if not now:
        ag.notes["targets"] = why or N_("None.")
        return
    before: dict[str, str] = {}
    if ag.last_meeting is not None:
        try:
            before = {t["id"]: t["status"] for t in targets_at(ag.last_meeting)[0]}
        except TradepulseError:
            before = {}
    for t in now:
        old = before.get(t["id"])
        if ag.last_meeting is None or old != t["status"]:
            ag.targets_changed.append({"id": t["id"], "title": t["title"], "before": old, "now": t["status"],
                                       "actual": t["actual"], "target": t["target"], "unit": t["unit"]})
    if not ag.targets_changed:
        ag.notes["targets"] = N_("None.")


def render_agenda_html(ag: Agenda, *, for_pdf: bool = False, toolbar: str = "",
                       fonts: tuple[str, str, str] | None = None) -> str:
    """The agenda as a standalone, printable HTML page (the brief's fonts and styles); ``toolbar``: trusted
    HTML shown on screen above it (links, forms), hidden when printed.  ``fonts``: (regular URL, bold URL,
    CSS format) to use instead of the embedded Vazirmatn (the web serves its own font files)."""
    from markupsafe import Markup

    from tradepulse.reports import brief as brief_mod

    fmt = Formatter(ag.lang)
    env = brief_mod._env().overlay()
    env.install_gettext_translations(fmt.t, newstyle=True)
    _ = fmt.gettext
    css = (brief_mod.HERE / "templates" / "brief.css").read_text(encoding="utf-8")
    font_regular, font_bold = fonts[:2] if fonts else brief_mod._font_sources(ag.lang, for_pdf)
    font_format = fonts[2] if fonts else "truetype"

    def value(v: Any, unit: str = "money") -> str:
        if v is None:
            return "–"
        return fmt.musd(v, 1) if unit == "money" else fmt.pct(v, 2, sign=False) if unit == "share" else fmt.num(v, 2)

    return env.get_template("agenda.html").render(
        a=ag, f=fmt, css=Markup(css), toolbar=Markup(toolbar), font_format=font_format, font_regular=font_regular, font_bold=font_bold, for_pdf=for_pdf,
        dir="rtl" if ag.lang == "fa" else "ltr", value=value, textdir=brief_mod.textdir,
        status_label=lambda s: _(brief_mod.ACTION_STATUS_LABELS.get(s, s)),
        target_label=lambda s: _(brief_mod.TARGET_STATUS_LABELS.get(s, s)) if s else "–",
        note=lambda key: _(ag.notes[key]) if key in ag.notes else "")


def agenda_pdf(ag: Agenda) -> bytes:
    """The agenda as PDF (WeasyPrint)."""
    from weasyprint import HTML

    from tradepulse.reports import brief as brief_mod
    return HTML(string=render_agenda_html(ag, for_pdf=True), base_url=str(brief_mod.HERE)).write_pdf()


def agenda_subject(ag: Agenda) -> str:
    fmt = Formatter(ag.lang)
    return f"{fmt.gettext('Agenda of the next meeting of')} {ag.group['title']} — {fmt.numeric_date(ag.next_meeting)}"


def agenda_text(ag: Agenda) -> str:
    """A plain-text body of the agenda (for the e-mail)."""
    fmt = Formatter(ag.lang)
    _ = fmt.gettext
    lines = [agenda_subject(ag), ""]

    def actions(title: str, rows: list[dict], key: str) -> None:
        lines.append(f"{_(title)} ({fmt.text(len(rows))})")
        for r in rows:
            lines.append(f"  • {r['title']} — {r['owner']} — {fmt.numeric_date(r['deadline'])}")
        if not rows:
            lines.append(f"  {_('None.')}")
        lines.append("")
    actions("Overdue actions", ag.overdue, "overdue")
    actions("Actions due within 7 days", ag.due, "due")
    lines.append(_("Targets that changed status"))
    for t in ag.targets_changed:
        lines.append(f"  • {t['title']}: {t['before'] or '–'} → {t['now']}")
    if not ag.targets_changed:
        lines.append(f"  {_('None.')}")
    lines.append("")
    lines.append(_("Latest indicator changes"))
    for h in ag.indicators:
        lines.append(f"  • {_(h['label'])}: {fmt.musd(h.get('previous'), 1)} → {fmt.musd(h.get('current'), 1)}")
    return "\n".join(lines) + "\n"
