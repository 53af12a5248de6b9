"""CLI: ``tradepulse targets …`` — roadmap target status, target list, import-substitution monitor,
domestic-production entries and mirror-statistics estimates of unrecorded trade."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from tradepulse.cli.common import (WarehouseOption, console, engine_options, friendly_errors, json_result,
                                   print_meta, write_table)

targets_app = typer.Typer(help="Roadmap targets (Solar Hijri years), import substitution, mirror statistics.",
                          no_args_is_help=True)

RoadmapOption = typer.Option(None, "--roadmap", "-r", help="Roadmap file (.toml/.yaml); default: the country's "
                             "roadmap in $TRADEPULSE_HOME/roadmaps or the shipped ones (Iran).")
CountryOption = typer.Option(None, "--country", "-c", help="Focus country ISO3 (default: the --roadmap file's "
                             "country, else $TRADEPULSE_FOCUS or IRN).")
LangOption = typer.Option("en", "--lang", help="Language of titles: en or fa.")
AsOfOption = typer.Option(None, "--as-of", help="Ignore data after this year (roadmap calendar) or Gregorian date "
                          "YYYY-MM-DD; also the current year of the no-recent-data rule (default: today).")

COLUMNS = {  # key → (English, Persian); status first so that narrow terminals never crop it
    "id": ("id", "شناسه"), "title": ("target", "هدف"), "status": ("status", "وضعیت"),
    "deadline": ("deadline", "مهلت"), "target": ("target value", "مقدار هدف"), "actual": ("actual", "مقدار فعلی"),
    "gap": ("gap", "فاصله"), "required": ("req. growth/yr", "رشد لازم سالانه"),
    "projection": ("projection", "پیش‌بینی"),
}
STYLE = {"on-track": "green", "at-risk": "yellow", "off-track": "red", "no-data": "dim", "no-recent-data": "dim"}


def _roadmap(path: Path | None, country: str | None):
    """``(roadmap or None, country)``: the ``--roadmap`` file (which must be ``--country``'s when both are
    given), else the country's roadmap (:func:`tradepulse.roadmap.roadmap_for`); None when it has none."""
    from tradepulse.config import DEFAULT_FOCUS
    from tradepulse.roadmap import load_roadmap, roadmap_for
    if path is not None and country is None:
        rm = load_roadmap(path)
        return rm, rm.reporter
    country = (country or DEFAULT_FOCUS).upper()
    return roadmap_for(country, path), country


def _no_roadmap(country: str) -> str:
    """The sentence for a country without a roadmap (the brief says the same)."""
    from tradepulse.reference import country_name
    from tradepulse.roadmap import roadmap_files
    have = ", ".join(country_name(c, "en") for c in sorted(roadmap_files())) or "none"
    return (f"no roadmap for {country_name(country, 'en')}; targets are shown for countries with a roadmap file "
            f"(found: {have}; add one as $TRADEPULSE_HOME/roadmaps/<name>.toml with reporter = \"{country}\")")




def _money(v, metric: str, lang: str, options: dict | None = None) -> str:
    """A target figure in ``lang`` through :class:`tradepulse.i18n.Formatter` (Persian: digits ۰–۹, ``٬`` ``٫``
    ``٪`` and U+2212 for a negative value): shares as percentages, counts whole, money in B / M."""
    from tradepulse.i18n import formatter
    if v is None:
        return "—"
    from tradepulse.roadmap.axes import value_kind
    fmt = formatter(lang)
    kind = value_kind(metric, options)
    if kind == "share":
        return fmt.pct(v, 2 if metric == "market_share" else 1, sign=False)
    if kind == "count":
        return fmt.num(v, 0)
    if kind == "index":
        return fmt.num(v, 3)
    if kind == "indicator" and abs(v) < 1e6:
        return fmt.numeral(f"{v:,.4g}")
    a = abs(v)
    b, m = (" میلیارد", " میلیون") if lang == "fa" else ("B", "M")
    return fmt.num(v / 1e9, 2) + b if a >= 1e9 else fmt.num(v / 1e6, 1) + m if a >= 1e6 else fmt.num(v, 0)


def _lang(lang: str) -> str:
    from tradepulse.errors import UnknownNameError
    if lang not in ("en", "fa"):
        raise UnknownNameError("language", lang, ["en", "fa"])
    return lang


def _as_of(text: Optional[str]):
    if text is None:
        return None
    import datetime as dt

    from tradepulse.errors import InputError
    try:
        return int(text) if text.isdigit() else dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--as-of must be a year (e.g. 1402) or a Gregorian date YYYY-MM-DD, not {text!r}",
                         column="--as-of") from None


@targets_app.command("status")
@friendly_errors
@engine_options
def status_cmd(
    roadmap: Optional[Path] = RoadmapOption,
    country: str | None = CountryOption,
    lang: str = LangOption,
    warehouse: Optional[Path] = WarehouseOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON (one object per target) instead of a table."),
    as_of: str | None = AsOfOption,
    charts: Optional[Path] = typer.Option(None, "--charts", help="Write one SVG chart per target into this folder."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Also write the table (.csv/.parquet/.xlsx)."),
    ids: bool = typer.Option(False, "--ids", help="Show the target ids as a first column."),
) -> None:
    """Status of every target of the country's roadmap: actual, gap, required growth, projection,
    on-track / at-risk / off-track / no recent data; warnings (e.g. a baseline far from the data) below."""
    from rich.progress import BarColumn, Progress, TextColumn
    from rich.table import Table

    from tradepulse.i18n import formatter
    from tradepulse.meta import ResultMeta, meta_of
    from tradepulse.roadmap import evaluate, status_frame, status_label
    from tradepulse.warehouse import Warehouse

    lang = _lang(lang)
    rm, country = _roadmap(roadmap, country)
    if rm is None:
        meta = ResultMeta(coverage={"reporter": country})
        meta.warn(_no_roadmap(country))
        if as_json:
            typer.echo(json.dumps({"country": country, "roadmap": None, "targets": [], "meta": meta.to_dict()},
                                  ensure_ascii=False, indent=2))
        else:
            from tradepulse.meta import attach
            from tradepulse.roadmap import StatusList
            print_meta(attach(StatusList(), meta))
        return
    with Warehouse(warehouse, read_only=True) as wh:
        if as_json:
            statuses = evaluate(rm, wh, as_of=_as_of(as_of))
        else:
            with Progress(TextColumn("[bold]targets[/] {task.description}"), BarColumn(),
                          TextColumn("{task.completed}/{task.total}"), console=console, transient=True) as bar:
                task = bar.add_task("evaluating", total=len(rm.targets))
                statuses = evaluate(rm, wh, as_of=_as_of(as_of),
                                    progress=lambda done, total: bar.update(task, completed=done))
    if charts is not None:
        from tradepulse.roadmap.charts import target_chart, to_svg
        charts.mkdir(parents=True, exist_ok=True)
        for st in statuses:
            (charts / f"{st.id}.svg").write_text(to_svg(target_chart(st, lang=lang)), encoding="utf-8")
    write_table(status_frame(statuses, lang=lang), out)
    if as_json:
        typer.echo(json.dumps({"country": rm.reporter, "roadmap": rm.id, "source": rm.source,
                               "targets": [s.to_dict() for s in statuses], "meta": meta_of(statuses).to_dict()},
                              ensure_ascii=False, indent=2, default=str))
        return
    fa = lang == "fa"
    fmt = formatter(lang)
    title = rm.title_fa if fa else rm.title_en
    table = Table(title=title, caption=("مقادیر تخمینی با * (تبدیل سال میلادی به شمسی)؛ درصد کنار وضعیت = "
                                        "احتمال رسیدن به هدف (مدل روند)" if fa else
                                        "* estimate (Gregorian data apportioned to SH years)\nP = probability "
                                        "of reaching the target (trend model)"))
    for key, (en, pfa) in COLUMNS.items():
        if key == "id" and not ids:
            continue
        table.add_column(pfa if fa else en, justify="left" if key in ("id", "title", "status") else "right",
                         min_width={"title": 16, "status": 9}.get(key), no_wrap=key == "status" and not any(
                             st.status == "no-recent-data" for st in statuses),
                         overflow="fold")
    for st in statuses:
        t = st.target
        cal_tag = ("ش" if t.calendar == "SH" else "م") if fa else ("SH" if t.calendar == "SH" else "")
        deadline = f"{t.deadline_year} {cal_tag}".strip()
        actual = _money(st.actual, t.metric, lang, t.options)
        if st.actual is not None:
            actual += f"{'*' if st.actual_estimate else ''} ({fmt.text(st.as_of_year)})"
        req = "—" if st.required_growth is None else fmt.pct(st.required_growth, 1, sign=True)
        # the year of the latest data is in the actual column; "no recent data" may wrap between its words
        label = status_label(st.status, lang) if fa or st.status == "no-recent-data" else st.status
        if st.probability is not None and st.status in ("on-track", "at-risk", "off-track"):
            p_word = "احتمال" if fa else "P"   # P(reaching the target), trend model
            label += f"\n{p_word} {fmt.pct(st.probability, 0, sign=False)}"
        title_cell = ("  └ " if t.parent else "") + t.title(lang)
        table.add_row(*([t.id] if ids else []), title_cell, f"[{STYLE[st.status]}]{label}[/]",
                      fmt.text(deadline), _money(st.target_value, t.metric, lang, t.options), actual,
                      _money(st.gap, t.metric, lang, t.options), req,
                      _money(st.projection, t.metric, lang, t.options))
    console.print(table)
    print_meta(statuses)


@targets_app.command("show")
@friendly_errors
@engine_options
def show_cmd(
    target_id: str = typer.Argument(..., help="Target id (see `tradepulse targets list`)."),
    roadmap: Optional[Path] = RoadmapOption,
    country: str | None = CountryOption,
    lang: str = LangOption,
    warehouse: Optional[Path] = WarehouseOption,
    as_of: str | None = AsOfOption,
    svg: Optional[Path] = typer.Option(None, "--svg", help="Write the target's chart as SVG."),
) -> None:
    """One target in detail: its yearly series (estimates marked), the status figures and the rule applied."""
    import dataclasses

    from rich.table import Table

    from tradepulse.errors import NoDataError
    from tradepulse.roadmap import evaluate, status_label
    from tradepulse.warehouse import Warehouse

    lang = _lang(lang)
    rm, country = _roadmap(roadmap, country)
    if rm is None:
        raise NoDataError(_no_roadmap(country))
    target = rm.target(target_id)
    one = dataclasses.replace(rm, targets=(target,))
    with Warehouse(warehouse, read_only=True) as wh:
        [st] = evaluate(one, wh, as_of=_as_of(as_of))
    t = target
    series = Table(title=f"{t.title(lang)} — {t.metric} ({t.calendar} years)")
    for c in ("year", "value", "estimate", "method"):
        series.add_column(c, justify="right")
    for r in st.series.itertuples(index=False):
        series.add_row(str(r.year), _money(r.value, t.metric, "en", t.options), "yes" if r.estimate else "", r.method)
    console.print(series)
    label = status_label(st.status, lang) if lang == "fa" else st.status
    figures = [("status", f"[{STYLE[st.status]}]{label}[/] — {st.reason}"),
               ("baseline", f"{st.baseline_year}: {_money(st.baseline_value, t.metric, 'en', t.options)}"),
               ("target", f"{_money(st.target_value, t.metric, 'en', t.options)} by {t.deadline_year} {t.calendar}"),
               ("actual", f"{_money(st.actual, t.metric, 'en', t.options)} ({st.as_of_year})"),
               ("gap", _money(st.gap, t.metric, 'en', t.options)),
               ("required growth", "—" if st.required_growth is None else f"{st.required_growth:+.1%}/yr"),
               ("trend growth", "—" if st.trend_growth is None else f"{st.trend_growth:+.1%}/yr"),
               ("projection", f"{_money(st.projection, t.metric, 'en', t.options)} ({st.projection_method})")]
    if st.projection_low is not None:
        low = _money(st.projection_low, t.metric, "en", t.options)
        high = _money(st.projection_high, t.metric, "en", t.options)
        figures.append((f"{st.interval_level:.0%} interval", f"{low} – {high}"))
    if st.probability is not None:
        figures.append(("P(reaching the target)",
                        f"{st.probability:.0%} (trend model; the deterministic rule says {st.trend_status})"))
    if st.baseline_data is not None and st.target.baseline_value is not None:
        deviation = f"{_money(st.baseline_data, t.metric, 'en', t.options)} ({st.baseline_deviation:+.0%} in the roadmap)"
        figures.insert(2, ("baseline in the data", deviation))
    for key, value in figures:
        console.print(f"[bold]{key}:[/] {value}")
    print_meta(st)
    if svg is not None:
        from tradepulse.roadmap.charts import target_chart, to_svg
        svg.parent.mkdir(parents=True, exist_ok=True)
        svg.write_text(to_svg(target_chart(st, lang=lang)), encoding="utf-8")


@targets_app.command("list")
@friendly_errors
def list_cmd(roadmap: Path | None = RoadmapOption, country: str | None = CountryOption,
             lang: str = LangOption) -> None:
    """List (and validate) the targets of a roadmap file without touching the warehouse."""
    from rich.table import Table

    from tradepulse.errors import NoDataError

    lang = _lang(lang)
    rm, country = _roadmap(roadmap, country)
    if rm is None:
        raise NoDataError(_no_roadmap(country))
    table = Table(title=f"{rm.title_fa if lang == 'fa' else rm.title_en} — {rm.source}")
    table.add_column("id", min_width=max(len(t.id) for t in rm.targets), no_wrap=True)
    for c in ("title", "metric", "scope", "baseline", "target", "deadline"):
        table.add_column(c, overflow="fold")
    for t in rm.targets:
        sc = t.scope
        scope = "; ".join(f"{k}={','.join(v) if isinstance(v, tuple) else v}" for k, v in
                          (("partner", sc.partner), ("product", sc.product), ("province", sc.province),
                           ("ebops", sc.ebops)) if v) or "world"
        if sc.trade == "services":
            scope = "services; " + scope
        base = "—" if t.baseline_year is None else f"{t.baseline_year}" + (
            f": {_money(t.baseline_value, t.metric, 'en')}" if t.baseline_value is not None else " (from data)")
        goal = _money(t.target_value, t.metric, "en") if t.target_value is not None else f"{t.growth:+.1%}/yr"
        table.add_row(t.id, ("  └ " if t.parent else "") + t.title(lang), t.metric, scope, base, goal,
                      f"{t.deadline_year} {t.calendar}")
    console.print(table)


@targets_app.command("substitution")
@friendly_errors
@engine_options
def substitution_cmd(
    lines: Optional[Path] = typer.Option(None, "--lines", help="Substituted/banned HS lines (.toml/.csv); default: "
                                         "the substitution_file of the reporter's roadmap."),
    reporter: str | None = typer.Option(None, "--reporter", help="Importer ISO3 (default $TRADEPULSE_FOCUS "
                                           "or IRN)."),
    calendar: str = typer.Option("SH", "--calendar", help="Years: SH or gregorian."),
    window: int = typer.Option(3, "--window", help="Years before the start averaged for the baseline (pre3avg)."),
    monthly: str = typer.Option("gregorian", "--monthly", help="Month column holds gregorian months or "
                                "sh-months (Solar Hijri months as stored by the customs reader)."),
    lang: str = LangOption,
    warehouse: Optional[Path] = WarehouseOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON: {rows: [...], meta: {...}}."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Write the table (.csv/.parquet/.xlsx)."),
) -> None:
    """Imports of substituted / banned HS lines before and after, saving (pre-measure 3-year average),
    leakage to other partners and neighbouring HS codes, domestic production entered by users.  Years follow
    the one rule of `targets status` (docs/roadmap.md): the start year is the first after year."""
    import pandas as pd
    from rich.table import Table

    from tradepulse.config import DEFAULT_FOCUS
    from tradepulse.errors import NoDataError, UnknownNameError
    from tradepulse.roadmap import roadmap_for
    from tradepulse.roadmap.substitution import load_lines, monitor
    from tradepulse.warehouse import Warehouse

    lang = _lang(lang)
    if calendar not in ("SH", "gregorian"):
        raise UnknownNameError("calendar", calendar, ["SH", "gregorian"])
    reporter = (reporter or DEFAULT_FOCUS).upper()
    if lines is None:
        rm = roadmap_for(reporter)
        if rm is None or not rm.substitution_file:
            raise NoDataError(f"no substitution lines for {reporter}: its roadmap names no substitution_file; "
                              "give --lines FILE")
        lines = Path(rm.substitution_file)
    with Warehouse(warehouse, read_only=True) as wh:
        table = monitor(wh, load_lines(lines), reporter=reporter, calendar=calendar, window=window,
                        monthly=monthly)
    write_table(table, out)
    if as_json:
        typer.echo(json_result(table))
        return
    view = Table(title=f"Import substitution / bans — {reporter} ({calendar} years, method pre{window}avg)")
    for c in ("hs", "title", "kind", "start", "baseline", "latest", "saving", "cumulative", "leak: partners",
              "leak: neighbours", "domestic prod."):
        view.add_column(c, justify="right" if c not in ("hs", "title", "kind", "start") else "left")
    for r in table.itertuples(index=False):
        view.add_row(r.hs, r.title_fa if lang == "fa" else r.title_en, r.kind, r.start, _money(_f(r.baseline), "", "en"),
                     f"{_money(_f(r.latest_imports), '', 'en')} ({'—' if pd.isna(r.latest_year) else int(r.latest_year)})", _money(_f(r.saving), "", "en"),
                     _money(_f(r.saving_cumulative), "", "en"), _money(_f(r.leakage_partners), "", "en"),
                     _money(_f(r.leakage_neighbours), "", "en"), _money(_f(r.domestic_production), "", "en"))
    console.print(view)
    print_meta(table)


def _f(v):
    import math
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


@targets_app.command("production-add")
@friendly_errors
def production_add_cmd(
    hs: str = typer.Argument(..., help="HS code of the line (2, 4 or 6 digits)."),
    year: int = typer.Argument(..., help="Year of production (SH by default)."),
    value_usd: float = typer.Argument(..., help="Value of domestic production in US dollars."),
    calendar: str = typer.Option("SH", "--calendar", help="Calendar of YEAR: SH or gregorian."),
    quantity: Optional[float] = typer.Option(None, "--quantity"),
    unit: Optional[str] = typer.Option(None, "--unit"),
    province: Optional[str] = typer.Option(None, "--province"),
    by: str = typer.Option("cli", "--by", help="Who entered the figure."),
    note: str = typer.Option("", "--note"),
    warehouse: Optional[Path] = WarehouseOption,
) -> None:
    """Record a domestic-production figure for a substituted line (kept in table domestic_production)."""
    from tradepulse.roadmap.substitution import add_production
    from tradepulse.warehouse import Warehouse

    with Warehouse(warehouse) as wh:
        entry = add_production(wh, hs, year, value_usd, calendar=calendar, quantity=quantity, unit=unit,
                               province=province, entered_by=by, note=note)
    console.print(f"recorded domestic production {hs} {year} {calendar}: {value_usd:,.0f} USD (entry {entry})")


@targets_app.command("mirror")
@friendly_errors
@engine_options
def mirror_cmd(
    reporter: str = typer.Option("IRN", "--reporter", help="Reporter ISO3."),
    products: Optional[str] = typer.Option("handicrafts", "--products", help="Comma-separated product groups or "
                                           "HS prefixes ('all' for all goods)."),
    partners: Optional[str] = typer.Option(None, "--partners", help="Comma-separated ISO3 codes / country groups."),
    direction: str = typer.Option("auto", "--direction", help="exports (partner imports vs reporter exports), "
                                  "imports (partner exports vs reporter imports) or auto (exports when partners' "
                                  "imports exist, else imports)."),
    margin: float = typer.Option(1.10, "--margin", help="CIF/FOB margin: CIF = FOB × margin."),
    detail: bool = typer.Option(False, "--detail", help="Show partner rows, not only totals per group and year."),
    warehouse: Optional[Path] = WarehouseOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON records."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Write the partner-level table."),
) -> None:
    """Mirror statistics: estimated unrecorded ("suitcase") trade = partner-declared − reporter-declared,
    after the CIF/FOB margin (assumption printed with the table)."""
    from rich.table import Table

    from tradepulse.roadmap.mirror import mirror, summary
    from tradepulse.warehouse import Warehouse

    prods = None if products in (None, "all") else [p.strip() for p in products.split(",") if p.strip()]
    parts = None if partners is None else [p.strip() for p in partners.split(",") if p.strip()]
    with Warehouse(warehouse, read_only=True) as wh:
        table = mirror(wh, reporter, direction=direction, partners=parts, products=prods, margin=margin)
    write_table(table, out)
    if as_json:
        typer.echo(table.to_json(orient="records", force_ascii=False, indent=2))
        return
    shown = table if detail else summary(table)
    done = str(table["direction"].iloc[0])
    if direction == "auto" and done == "imports":
        console.print("[yellow]note:[/] partners report no imports from the reporter in these data; showing the "
                      "imports direction (partner exports vs reporter imports).")
    view = Table(title=f"Mirror statistics — {reporter.upper()} {done}",
                 caption=f"assumption: CIF = FOB × {margin:.2f}; unrecorded = max(mirror − declared, 0); "
                         "also absorbs timing, valuation and re-export differences")
    cols = [c for c in ("group", "partner", "year", "reported", "mirror_adjusted", "gap", "unrecorded",
                        "unrecorded_share", "partners") if c in shown.columns]
    for c in cols:
        view.add_column(c, justify="right")
    for r in shown.head(200).itertuples(index=False):
        d = r._asdict()
        view.add_row(*[f"{d[c]:.1%}" if c == "unrecorded_share" and d[c] == d[c] else
                       _money(d[c], "", "en") if c in ("reported", "mirror_adjusted", "gap", "unrecorded")
                       else str(d[c]) for c in cols])
    console.print(view)


def register(app: typer.Typer) -> None:
    """Add the ``targets`` command group to app."""
    app.add_typer(targets_app, name="targets")
