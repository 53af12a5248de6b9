"""The weekly brief of a working group: targets, headline indicators and what changed, opportunities and
the group's action items — as HTML (Jinja2) or PDF (WeasyPrint), in English or Persian (RTL).

    brief = build_brief("warehouse.duckdb", "sqlite:///groups.sqlite", week="1405-W35", province="Fars",
                        lang="fa")
    write_brief("warehouse.duckdb", None, out=Path("brief.pdf"), lang="fa")

Conventions:

- **Reference day** *D*: ``date`` if given; with ``week`` the current day clamped into that week (a past
  week → its Friday, a future week → its Saturday); otherwise today.  The brief's week is the Jalali week
  (Saturday–Friday, :mod:`tradepulse.reports.weeks`) containing *D*.
- **Action items** of the province's group (national group without ``province``): *overdue* = open or in
  progress with deadline < *D*; *due this week* = open or in progress with *D* ≤ deadline ≤ week end;
  *done this week* = status done with completion date in [week start, *D*].
- **Trade sections** use the latest year *y* with data for the scope and compare with *y − 1*
  (:mod:`tradepulse.reports.sections`).  The reporter is ``reporter`` (default ``config.DEFAULT_FOCUS``).
- A section that cannot be filled (no data for the province, no roadmap module, no meetings) shows a plain
  sentence saying so; the brief is still produced.
- **Roadmap targets** come from the reporter's own roadmap (:func:`tradepulse.roadmap.roadmap_for`): a reporter
  without a roadmap file gets a sentence saying so and no targets, and a ``roadmap`` given for another country
  is not shown.  A target whose data stop years before its deadline reads "no recent data (latest data *a*)".
  A roadmap baseline more than 20 % away from the data for the same scope is listed under "Data notes".
- Charts are Altair specifications rendered to SVG with vl-convert and inlined.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from tradepulse.config import DEFAULT_FOCUS
from tradepulse.errors import TradepulseError
from tradepulse.meta import Note, collecting
from tradepulse.reports.i18n import RTL, Formatter, N_
from tradepulse.reports.weeks import JalaliWeek, parse_week, week_of

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
FONTS = HERE / "fonts"

#: Status labels (translated in the catalogs).
ACTION_STATUS_LABELS = {"open": N_("open"), "in_progress": N_("in progress"), "done": N_("done"),
                        "cancelled": N_("cancelled")}
#: Roadmap metrics → display unit: money in US$ million, shares in percent, counts as whole numbers.
MONEY_METRICS = ("exports", "imports", "total_trade", "balance", "non_oil_balance", "import_saving")
UNIT_LABELS = {"money": N_("US$ million"), "share": N_("percent"), "count": N_("count"), "value": N_("value"),
               "index": N_("index")}
TARGET_STATUS_LABELS = {"on-track": N_("on track"), "at-risk": N_("at risk"), "off-track": N_("off track"),
                        "no-data": N_("no data"), "no-recent-data": N_("no recent data")}
#: A no-recent-data status with the latest year of data.
NO_RECENT_DATA = N_("no recent data (latest data {year})")
#: Data-note sentence for a roadmap baseline far from the data (tradepulse.roadmap.status.BASELINE_TOLERANCE).
BASELINE_NOTE = N_("{target}: the roadmap baseline {baseline} ({year}) is {deviation} away from the data for the "
                   "same scope ({data}).")


@dataclass
class Brief:
    """Everything the templates need; tables are pandas frames or lists of dicts."""

    lang: str
    digits: str
    reporter: str
    province: str | None
    week: JalaliWeek
    as_of: dt.date
    generated: dt.date
    group: dict | None = None               # name, title, secretariat, members
    synthetic: bool = False
    latest_year: int | None = None
    headline: list[dict] = field(default_factory=list)     # label, previous, current, change, growth
    annual: pd.DataFrame | None = None
    movers: pd.DataFrame | None = None
    new_rca: pd.DataFrame | None = None
    markets: dict | None = None
    exporters: dict | None = None                          # firm-level figures (sections.exporters)
    opportunities: pd.DataFrame | None = None
    atlas: dict | None = None                              # the Atlas's published ECI and growth projection
    targets: list[dict] = field(default_factory=list)
    targets_scope: str = ""
    overdue: list[dict] = field(default_factory=list)
    due: list[dict] = field(default_factory=list)
    done: list[dict] = field(default_factory=list)
    meetings: list[dict] = field(default_factory=list)
    charts: dict[str, str] = field(default_factory=dict)
    data_notes: list[str] = field(default_factory=list)    # datasets read and warnings (tradepulse.meta)
    notes: dict[str, str] = field(default_factory=dict)    # section → reason it is empty (untranslated msgid)
    note_args: dict[str, dict] = field(default_factory=dict)
    roadmap_country: str | None = None                     # ISO3 of the roadmap whose targets are shown
    target_notes: list[dict] = field(default_factory=list) # translated data notes {"msg": msgid, "args": {…},
                                                           # "en": the English warning they replace}
    current: dict | None = None            # current-period section (reports.period.current_section)
    since: dict | None = None              # comparison with the last brief (reports.since.compare)
    snapshot: dict | None = None           # this brief's figures, stored when written (reports.weekly)
    history: str | None = None             # the snapshot store (reports.since.SnapshotStore path)

    @property
    def rtl(self) -> bool:
        return self.lang in RTL

    def to_dict(self) -> dict:
        """JSON-friendly summary (dates as ISO strings, NaN as None; charts left out)."""
        import json
        import math

        def frame(df):
            return None if df is None else df.to_dict(orient="records")

        def clean(v):
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, (list, tuple)):
                return [clean(x) for x in v]
            if isinstance(v, pd.DataFrame):
                return clean(frame(v))
            if hasattr(v, "item") and not isinstance(v, (str, bytes)):   # numpy scalars
                return clean(v.item())
            return v

        markets = None if self.markets is None else {k: v for k, v in self.markets.items()}
        targets = [{k: v for k, v in t.items() if k != "spark"} for t in self.targets]
        raw = {"lang": self.lang, "reporter": self.reporter, "province": self.province, "week": self.week.label,
                "week_start": self.week.start.isoformat(), "week_end": self.week.end.isoformat(),
                "as_of": self.as_of.isoformat(), "latest_year": self.latest_year, "group": self.group,
                "headline": self.headline, "movers": frame(self.movers), "new_rca": frame(self.new_rca),
                "opportunities": frame(self.opportunities), "atlas": self.atlas, "targets": targets, "markets": markets,
                "exporters": self.exporters,
                "overdue": self.overdue, "due": self.due, "done": self.done, "meetings": self.meetings,
                "notes": self.notes, "data_notes": self.data_notes, "synthetic": self.synthetic,
                "roadmap_country": self.roadmap_country, "current": self.current, "since": self.since}
        return json.loads(json.dumps(clean(raw), default=str))


# ------------------------------------------------------------------ building
def _reference_day(week: str | None, date: dt.date | str | None, today: dt.date) -> dt.date:
    if week is not None and date is not None:
        raise TradepulseError("give either --week or --date, not both")
    if date is not None:
        if isinstance(date, str):
            try:
                return dt.date.fromisoformat(date)
            except ValueError:
                raise TradepulseError(f"bad date {date!r}: use YYYY-MM-DD (Gregorian)") from None
        return date
    if week is not None:
        w = parse_week(week)
        return min(max(today, w.start), w.end)
    return today


def _open_warehouse(warehouse):
    from tradepulse.warehouse import Warehouse
    if warehouse is None or isinstance(warehouse, (str, Path)):
        path = Path(warehouse) if warehouse is not None else None
        try:
            return Warehouse(path, read_only=True), True
        except TradepulseError:
            return None, False
    return warehouse, False


def _action_row(a, fmt: Formatter) -> dict:
    return {"id": a.id, "title": a.title, "owner": a.owner.name(fmt.lang), "owner_code": a.owner.code,
            "deadline": a.deadline, "status": a.status, "link": a.target_id or a.indicator or "",
            "completed_on": a.completed_on, "version": a.version}


def _groups_part(brief: Brief, groups_url: str | None, fmt: Formatter) -> None:
    from tradepulse.groups.db import session_factory
    from tradepulse.groups.service import GroupService

    try:
        factory = session_factory(groups_url)
    except Exception as exc:   # unreachable DB server, bad URL: say so in the brief
        brief.notes["actions"] = N_("The working-group database could not be opened: {error}")
        brief.note_args["actions"] = {"error": str(exc).splitlines()[0]}
        return
    try:
        with factory() as session:
            svc = GroupService(session)
            grp = svc.group_for_province(brief.province)
            if grp is None:
                brief.notes["actions"] = (N_("There is no working group for {province} in the database.")
                                          if brief.province else
                                          N_("There is no national working group in the database."))
                brief.note_args["actions"] = {"province": brief.province or ""}
                return
            brief.group = {"name": grp.name, "title": grp.title(fmt.lang),
                           "secretariat": grp.secretariat.name(fmt.lang) if grp.secretariat else "",
                           "members": [m.name(fmt.lang) for m in grp.members]}
            w, d = brief.week, brief.as_of
            brief.overdue = [_action_row(a, fmt) for a in svc.overdue_actions(d, group=grp.id)]
            brief.due = [_action_row(a, fmt) for a in svc.actions_due(d, w.end, group=grp.id)]
            brief.done = [_action_row(a, fmt) for a in svc.actions_done(w.start, d, group=grp.id)]
            brief.meetings = [{"date": m.date, "title": m.title, "minutes": m.minutes,
                               "attendees": len(m.attendees), "decisions": [x.text for x in m.decisions]}
                              for m in svc.meetings(grp.id, w.start, w.end)]
            if not brief.meetings:
                brief.notes["meetings"] = N_("No meeting of this group was recorded this week.")
            if not (brief.overdue or brief.due or brief.done):
                brief.notes["actions"] = N_("No action items are overdue, due or done this week.")
    finally:
        factory.kw["bind"].dispose()


def _trade_part(brief: Brief, wh, fmt: Formatter, n_top: int) -> None:
    from tradepulse.errors import NoDataError, UnknownNameError
    from tradepulse.reports import charts, sections

    where = {"province": brief.province or "", "reporter": brief.reporter}
    try:
        brief.synthetic = sections.is_synthetic(wh)
        annual = sections.annual_totals(wh, brief.reporter, brief.province)
    except (NoDataError, UnknownNameError) as exc:
        for key in ("headline", "movers", "new_rca", "markets", "exporters", "opportunities"):
            brief.notes[key] = (N_("The warehouse has no trade data for the province {province}.")
                                if brief.province else N_("The warehouse has no trade data for {reporter}."))
            brief.note_args[key] = where
        brief.note_args["headline"] = {**where, "detail": str(exc)}
        return
    limit = brief.as_of.year
    annual = annual[annual["year"] <= limit]
    if len(annual) == 0:
        brief.notes["headline"] = N_("No trade data up to this date.")
        return
    brief.annual = annual
    y, cards = sections.headline(annual)
    brief.latest_year = y
    brief.headline.extend(cards)
    brief.charts["trend"] = charts.trend_chart(annual, fmt)

    def attempt(key, fn):
        try:
            return fn()
        except (NoDataError, UnknownNameError) as exc:
            brief.notes[key] = N_("Not available: {detail}")
            brief.note_args[key] = {"detail": str(exc)}
        except ImportError:
            brief.notes[key] = N_("This section needs a module that is not installed yet.")
        return None

    brief.movers = attempt("movers", lambda: sections.top_movers(wh, brief.reporter, y, brief.province, n_top))
    if brief.movers is not None and len(brief.movers):
        brief.charts["movers"] = charts.movers_chart(brief.movers, fmt)
    brief.new_rca = attempt("new_rca", lambda: sections.new_rca(wh, brief.reporter, y, brief.province, n_top))
    if brief.new_rca is not None and brief.new_rca.empty:
        brief.notes["new_rca"] = N_("No product newly reached RCA ≥ 1 in {year}.")
        brief.note_args["new_rca"] = {"year": y}
    brief.markets = attempt("markets", lambda: sections.market_changes(wh, brief.reporter, y, brief.province,
                                                                       n_top))
    if brief.markets is not None and brief.markets["ended"]:
        try:
            brief.markets["spells"] = sections.ended_spell_lengths(wh, brief.reporter, y, brief.province)
        except (NoDataError, UnknownNameError, ImportError):
            pass
    brief.exporters = attempt("exporters", lambda: sections.exporters(wh, brief.reporter, y, brief.province))
    if brief.exporters is None and "exporters" not in brief.notes:
        brief.notes["exporters"] = N_("No firm-level (exporter) data in the warehouse.")
    if brief.province is None:
        brief.opportunities = attempt("opportunities",
                                      lambda: sections.opportunities(wh, brief.reporter, y, n_top))
        try:   # a published reference beside our own complexity figures (issue 21)
            from tradepulse.reference.atlas import growth_projection
            gp = growth_projection(brief.reporter)
            brief.atlas = {"rate": gp.rate, "base_year": gp.base_year, "end_year": gp.base_year + gp.horizon_years,
                           "edition": gp.edition, "eci": gp.atlas_eci}
        except (NoDataError, UnknownNameError, ImportError):
            brief.atlas = None
    else:
        brief.notes["opportunities"] = N_("Opportunities are computed for the whole country; see the national "
                                          "brief.")


def _spark(status) -> str:
    from tradepulse.reports import charts
    try:
        return charts.target_sparkline(status.series, status.target.deadline_year, status.target_value,
                                       status.status)
    except Exception:   # a chart must never stop the brief; the table still has the numbers
        return ""


def _metric_unit(metric: str, options: dict | None = None) -> str:
    """Display unit of a target metric (:func:`tradepulse.roadmap.axes.value_kind`)."""
    from tradepulse.roadmap.axes import value_kind
    if metric in MONEY_METRICS:
        return "money"
    kind = value_kind(metric, options)
    return kind if kind in ("money", "share", "count", "index") else "value"


def deadline_label(fmt, year: int, calendar: str) -> str:
    """A target's deadline year: a Solar Hijri year first with the Gregorian year it mostly overlaps (Y + 621)
    in brackets, ``1404 (2025)`` (Persian digits in Persian); a Gregorian deadline as the Formatter's year."""
    if calendar == "SH":
        return fmt.text(f"{int(year)} ({int(year) + 621})")
    return fmt.year(year)


def _roadmap_of(brief: Brief, roadmap, rm):
    """The roadmap whose targets the brief shows, or None with a note: the reporter's own roadmap
    (``roadmap`` None → found by country), never another country's."""
    if roadmap is None:
        road = rm.roadmap_for(brief.reporter)
    else:
        road = roadmap if isinstance(roadmap, rm.Roadmap) else rm.load_roadmap(roadmap)
    if road is None:
        brief.notes["targets"] = N_("No roadmap for {country}; targets are shown for countries with a roadmap "
                                    "file.")
        brief.note_args["targets"] = {"country": brief.reporter}
        return None
    if road.reporter != brief.reporter:
        brief.notes["targets"] = N_("The roadmap {roadmap} is for {roadmap_country}, not {country}; its targets "
                                    "are not shown.")
        brief.note_args["targets"] = {"roadmap": road.id, "roadmap_country": road.reporter,
                                      "country": brief.reporter}
        return None
    return road


def _targets_part(brief: Brief, wh, roadmap, fmt: Formatter) -> None:
    try:
        from tradepulse import roadmap as rm
    except ImportError:
        brief.notes["targets"] = N_("This section needs a module that is not installed yet.")
        return
    try:
        road = _roadmap_of(brief, roadmap, rm)
        if road is None:
            return
        statuses = rm.evaluate(road, wh, as_of=brief.as_of)
    except TradepulseError as exc:
        brief.notes["targets"] = N_("Not available: {detail}")
        brief.note_args["targets"] = {"detail": str(exc)}
        return
    brief.roadmap_country = road.reporter
    from tradepulse.reference.provinces import province_identity

    def same(name: str | None) -> str:   # one key per province, whatever the spelling
        return province_identity(name) if name else ""

    def prov(st):
        return same(st.target.scope.province) if getattr(st.target, "scope", None) else ""
    if brief.province:
        mine = [s for s in statuses if prov(s) == same(brief.province)]
        brief.targets_scope = "province" if mine else "national"
        chosen = mine or [s for s in statuses if not prov(s)]
    else:
        brief.targets_scope = "national"
        chosen = [s for s in statuses if not prov(s)]
    for s in chosen:
        t = s.target
        title = (t.title_fa or t.title_en) if fmt.lang == "fa" else t.title_en
        brief.targets.append({
            "id": t.id, "title": title,
            "metric": t.metric, "status": s.status, "actual": s.actual, "target": s.target_value,
            "as_of_year": s.as_of_year, "deadline_year": t.deadline_year, "progress": s.progress,
            "required_growth": s.required_growth, "projection": s.projection, "estimate": s.actual_estimate,
            "calendar": t.calendar, "unit": _metric_unit(t.metric, t.options),
            "deadline_label": deadline_label(fmt, t.deadline_year, t.calendar),
            "probability": getattr(s, "probability", None), "baseline_year": t.baseline_year,
            "spark": _spark(s),
        })
        # baseline far from the data: translated here (data 0 → infinite deviation: the English warning stays)
        if s.baseline_deviation not in (None, float("inf")) and any("roadmap baseline" in w for w in s.meta.warnings):
            def amount(v: float, metric: str = t.metric, options: dict = t.options) -> str:
                unit = UNIT_LABELS["money"]
                return (f"{fmt.musd(v, 1)} {fmt.gettext(unit)}" if _metric_unit(metric, options) == "money"
                        else fmt.num(v, 2))
            english = next(w for w in s.meta.warnings if "roadmap baseline" in w)
            brief.target_notes.append({"msg": BASELINE_NOTE, "en": english, "args": {
                "target": title, "year": fmt.text(t.baseline_year), "baseline": amount(s.baseline_value),
                "data": amount(s.baseline_data), "deviation": fmt.pct(s.baseline_deviation, 0)}})
    if not brief.targets:
        brief.notes["targets"] = N_("The roadmap has no targets for this scope.")


def _data_notes(col) -> list[str]:
    """The datasets the brief read and every warning its figures carry (each once)."""
    used = list(dict.fromkeys(m.dataset for m in col.metas if m.dataset))
    notes: list[str] = [Note(N_("datasets read: {names}"), names=", ".join(used))] if used else []
    for m in col.metas:
        for w in m.warnings:
            if w not in notes:
                notes.append(w)
    return notes


def build_brief(warehouse, groups_url: str | None, *, week: str | None = None, date: dt.date | str | None = None,
                province: str | None = None, lang: str = "en", roadmap=None, reporter: str | None = None,
                digits: str | None = None, today: dt.date | None = None, n_top: int = 8,
                skip: tuple[str, ...] | list[str] = (), history: str | Path | None = None) -> Brief:
    """Collect the brief's content.  ``warehouse``: Warehouse, path or None (default warehouse; a missing
    file gives a brief saying there is no trade data).  ``groups_url``: SQLAlchemy URL or None (default).
    ``digits``: ``latin`` or ``persian`` (default: Persian digits for ``fa``).  ``skip``: sections to leave
    out (``targets``, ``trade``, ``actions``), e.g. for a quick preview.  ``history``: the snapshot store of
    earlier briefs (:mod:`tradepulse.reports.since`) for "since the last brief"; :func:`write_brief` saves
    this brief's snapshot there."""
    fmt = Formatter(lang, digits)
    today = today or dt.date.today()
    day = _reference_day(week, date, today)
    brief = Brief(lang=lang, digits=fmt.digits, reporter=(reporter or DEFAULT_FOCUS).upper(),
                  province=province.strip() if province else None, week=week_of(day), as_of=day, generated=today)
    wh, close = _open_warehouse(warehouse)
    try:
        if wh is None:
            for key in ("headline", "movers", "new_rca", "markets", "exporters", "opportunities", "targets"):
                brief.notes[key] = N_("There is no warehouse yet: run tradepulse demo or tradepulse ingest.")
        else:
            with collecting(reporter=brief.reporter) as col:   # what every figure stands on: the data notes
                if "trade" not in skip:
                    _trade_part(brief, wh, fmt, n_top)
                else:
                    for key in ("headline", "movers", "new_rca", "markets", "exporters", "opportunities"):
                        brief.notes[key] = N_("Left out of this brief.")
                if "targets" not in skip:
                    _targets_part(brief, wh, roadmap, fmt)
                else:
                    brief.notes["targets"] = N_("Left out of this brief.")
            translated = {n["en"] for n in brief.target_notes}   # shown in the brief's language instead
            brief.data_notes = [n for n in _data_notes(col) if n not in translated]
        from tradepulse.reports import weekly
        weekly.fill(brief, wh, groups_url if "actions" not in skip else None, history, trade="trade" not in skip)
    finally:
        if close:
            wh.close()
    if "actions" not in skip:
        _groups_part(brief, groups_url, fmt)
    else:
        brief.notes["actions"] = brief.notes["meetings"] = N_("Left out of this brief.")
    return brief


# ------------------------------------------------------------------ rendering
_RTL_CHARS = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")


def textdir(text: str | None) -> str:
    """``rtl`` if the text contains Hebrew/Arabic-script letters, else ``ltr`` (user text such as action
    titles keeps its own direction inside a page of the other direction; WeasyPrint lacks ``dir=auto``)."""
    return "rtl" if text and _RTL_CHARS.search(text) else "ltr"

@functools.cache
def _env():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from tradepulse.i18n import mark_signs
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True,
                      finalize=mark_signs)  # negative numbers keep their sign on the left in RTL text
    return env


def _font_sources(lang: str, for_pdf: bool) -> tuple[str, str]:
    """Vazirmatn for the @font-face rules: file URIs for WeasyPrint; for a Persian HTML file, data URIs so
    the file is self-contained (≈ 330 kB); nothing for English HTML (system fonts)."""
    import base64
    files = (FONTS / "Vazirmatn-Regular.ttf", FONTS / "Vazirmatn-Bold.ttf")
    if for_pdf:
        return tuple(f.resolve().as_uri() for f in files)
    if lang in RTL:
        return tuple("data:font/ttf;base64," + base64.b64encode(f.read_bytes()).decode("ascii") for f in files)
    return "", ""


def render_html(brief: Brief, *, for_pdf: bool = False) -> str:
    """The brief as a standalone HTML page (``lang``/``dir`` set, fonts from ``reports/fonts``)."""
    from markupsafe import Markup

    fmt = Formatter(brief.lang, brief.digits)
    env = _env().overlay()
    env.install_gettext_translations(fmt.t, newstyle=True)
    _ = fmt.gettext

    def metric_value(value, unit: str) -> str:
        if unit == "money":
            return fmt.musd(value, 0 if value is not None and abs(value) >= 1e8 else 1)
        if unit == "share":
            return fmt.pct(value, 2, sign=False)
        if unit == "count":
            return fmt.num(value, 0)
        if unit == "index":
            return fmt.num(value, 3)
        return fmt.num(value, 2)

    def province_name(name: str) -> str:
        from tradepulse.reference.provinces import province_name as display_name
        return display_name(name, brief.lang)

    def note(key: str) -> str:
        msg = brief.notes.get(key)
        if not msg:
            return ""
        args = {k: province_name(v) if k == "province" else country(v) if k in ("country", "roadmap_country")
                else fmt.year(v) if k == "year" else fmt.text(v) for k, v in brief.note_args.get(key, {}).items()}
        return _(msg).format(**args)

    def data_note(item: dict) -> str:
        message = item["msg"]
        return _(message).format(**item["args"])

    def target_label(status: str, year=None) -> str:
        if status == "no-recent-data" and year is not None:
            return _(NO_RECENT_DATA).format(year=fmt.text(year))
        return _(TARGET_STATUS_LABELS.get(status, status))

    def country(iso3: str) -> str:
        from tradepulse import reference
        return reference.country_name(iso3, brief.lang)

    from tradepulse.reports import weekly
    css = (HERE / "templates" / "brief.css").read_text(encoding="utf-8")
    font_regular, font_bold = _font_sources(brief.lang, for_pdf)
    return env.get_template("brief.html").render(
        b=brief, f=fmt, note=note, country=country, province_name=province_name, textdir=textdir,
        metric_value=metric_value, unit_label=lambda u: _(UNIT_LABELS.get(u, u)),
        comma="، " if brief.lang == "fa" else ", ", semicolon="؛" if brief.lang == "fa" else ";",
        css=Markup(css), font_regular=font_regular, font_bold=font_bold, for_pdf=for_pdf,
        status_label=lambda s: _(ACTION_STATUS_LABELS.get(s, s)),
        target_label=target_label, data_note=data_note,
        svg=lambda key: Markup(brief.charts.get(key, "")), raw_svg=Markup, dir="rtl" if brief.rtl else "ltr",
        **weekly.template_helpers(brief, fmt))


def write_demo_briefs(out_dir: str | Path, groups_url: str | None = None, *, province: str | None = None,
                      today: dt.date | None = None, formats: tuple[str, ...] = ("pdf", "html")) -> list[Path]:
    """Write ``brief_en.*`` and ``brief_fa.*`` for the demo in ``out_dir`` (warehouse
    ``out_dir/warehouse.duckdb``, groups ``groups_url`` or ``sqlite:///out_dir/groups.sqlite``)."""
    from tradepulse.reports import since
    out_dir = Path(out_dir)
    url = groups_url or f"sqlite:///{out_dir / 'groups.sqlite'}"
    paths = []
    for lang in ("en", "fa"):
        b = build_brief(out_dir / "warehouse.duckdb", url, province=province, lang=lang, today=today,
                        history=out_dir / since.SNAPSHOT_FILE)
        for ext in formats:
            paths.append(write_brief(None, None, out=out_dir / f"brief_{lang}.{ext}", brief=b))
    return paths


def write_brief(warehouse, groups_url: str | None, *, out: Path, brief: Brief | None = None, **kwargs: Any) -> Path:
    """Build (unless ``brief`` is given) and write the brief to ``out``: ``.pdf`` (WeasyPrint) or ``.html``."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".html", ".htm"):
        raise TradepulseError(f"cannot write {out}: use .pdf or .html")
    brief = brief or build_brief(warehouse, groups_url, **kwargs)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".pdf":
        from weasyprint import HTML
        html = render_html(brief, for_pdf=True)
        HTML(string=html, base_url=str(HERE)).write_pdf(str(out))
    else:
        out.write_text(render_html(brief), encoding="utf-8")
    from tradepulse.reports import weekly
    weekly.store(brief)        # only once the file is written: a failed brief leaves no snapshot
    return out
