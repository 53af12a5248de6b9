"""Substituted / banned HS lines, the before/after year rule and the import-saving series.

Shared by the target metrics (:mod:`.metrics`, metric ``import_saving``) and the import-substitution monitor
(:mod:`.substitution`); both import this module and neither imports the other's caller, so the year rule is
written once.

**Lines file** (TOML ``[[lines]]`` or CSV with the same columns): ``hs`` (2, 4 or 6 digits), ``kind``
(``substitution`` | ``ban``), ``start`` (date ``YYYY-MM-DD``), ``calendar`` of ``start`` (``SH`` default or
``gregorian``), ``title_en``, ``title_fa``, ``group`` (e.g. the product group of a sub-target), ``partners``
(optional ISO3 list, ``;``-separated in CSV: the measure applies to imports from these origins only).

**Year rule (one for ``targets status`` and ``targets substitution``).**  *s* = the year (monitor's or target's
calendar) containing the start date.  *s* is the **first "after" year**, a *partial* one when the measure
started after its first day (1 Tir 1397 → SH 1397 has about 9 months under the measure); "before" is the
``window`` (default 3) years *s* − window … *s* − 1.  For an ``import_saving`` target the baseline year *b* is the
last pre-measure year, so *b* = *s* − 1 and the after years are *b* + 1, *b* + 2, ….  Counting a partial start
year errs on the low side of the saving (its pre-measure months carry pre-measure imports) and never inflates
it; leaving it out would drop the months in which the measure was in force.  See docs/roadmap.md and
docs/decisions.md ("Import substitution: one year rule").

**Saving (method ``pre3avg``)**: counterfactual imports CF = mean of imports in the ``window`` years before
(pre-measure 3-year average, a no-growth counterfactual); saving in an after year *t* = CF − M(*t*), cumulative
saving = Σ over after years up to *t*.  A negative saving means imports rose.
"""

from __future__ import annotations

import csv
import datetime as _dt
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from tradepulse.errors import InputError, NoDataError
from tradepulse.roadmap import calendar as cal

HERE = Path(__file__).parent
EXAMPLE_LINES = HERE / "iran_substitution.toml"
LINE_COLUMNS = ["hs", "kind", "start", "calendar", "title_en", "title_fa", "group", "partners"]
KINDS = ("substitution", "ban")
METHODS = ("pre3avg",)


# ---------------------------------------------------------------- lines file
def _start_date(text: str, calendar: str, fail) -> _dt.date:
    m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*", str(text))
    if not m:
        fail("start", f"start must be a date YYYY-MM-DD, not {text!r}")
    y, mo, d = map(int, m.groups())
    try:
        return cal.to_gregorian(y, mo, d) if calendar == "SH" else _dt.date(y, mo, d)
    except ValueError as exc:
        fail("start", f"not a valid {calendar} date {text!r}: {exc}")


def load_lines(path: str | Path | None = None) -> pd.DataFrame:
    """Read a lines file (TOML or CSV; ``None`` → the shipped Iran example) into a frame.

    Columns: ``hs, kind, start`` (Gregorian ``datetime.date``), ``start_label`` (as written), ``calendar``,
    ``title_en, title_fa, group, partners`` (tuple of ISO3).  Errors name file, line and column.
    """
    from tradepulse.reference import iso3_codes

    path = Path(path) if path is not None else EXAMPLE_LINES
    if not path.exists():
        raise InputError("substitution lines file not found", file=str(path))
    text = path.read_text(encoding="utf-8")
    records: list[tuple[int, dict]] = []
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        missing = {"hs", "start"} - set(reader.fieldnames or [])
        if missing:
            raise InputError(f"missing column(s) {sorted(missing)}", file=str(path), line=1)
        for n, row in enumerate(reader, start=2):
            row = {k: v for k, v in row.items() if v not in (None, "")}
            if "partners" in row:
                row["partners"] = [p.strip() for p in row["partners"].split(";") if p.strip()]
            records.append((n, row))
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"line (\d+)", str(exc))
            raise InputError(f"not valid TOML: {exc}", file=str(path), line=int(m.group(1)) if m else None) from None
        heads = [n for n, s in enumerate(text.splitlines(), 1) if re.match(r"\s*\[\[\s*lines\s*\]\]", s)]
        items = data.get("lines", [])
        if not isinstance(items, list) or not items:
            raise InputError("no [[lines]] in the file", file=str(path))
        records = [(heads[i] if i < len(heads) else None, item) for i, item in enumerate(items)]
    rows = []
    for line, rec in records:
        def fail(column, msg, line=line):
            raise InputError(msg, file=str(path), line=line, column=column)
        for key in rec:
            if key not in LINE_COLUMNS:
                fail(key, f"unknown field {key!r}; allowed: {', '.join(LINE_COLUMNS)}")
        hs = str(rec.get("hs", "")).strip()
        if not re.fullmatch(r"\d{2}|\d{4}|\d{6}", hs):
            fail("hs", f"hs must be an HS code of 2, 4 or 6 digits (zero-padded), not {hs!r}")
        kind = rec.get("kind", "substitution")
        if kind not in KINDS:
            fail("kind", f"kind must be substitution or ban, not {kind!r}")
        calendar = rec.get("calendar", "SH")
        if calendar not in ("SH", "gregorian"):
            fail("calendar", f"calendar must be SH or gregorian, not {calendar!r}")
        if "start" not in rec:
            fail("start", "missing start date")
        start = _start_date(rec["start"], calendar, fail)
        partners = tuple(str(p).upper() for p in rec.get("partners", []))
        bad = [p for p in partners if p not in iso3_codes()]
        if bad:
            fail("partners", f"unknown ISO3 code(s) {bad}")
        rows.append({"hs": hs, "kind": kind, "start": start, "start_label": str(rec["start"]),
                     "calendar": calendar, "title_en": str(rec.get("title_en", hs)),
                     "title_fa": str(rec.get("title_fa", rec.get("title_en", hs))),
                     "group": str(rec.get("group", "")), "partners": partners})
    out = pd.DataFrame(rows)
    dup = out["hs"].duplicated()
    if dup.any():
        raise InputError(f"HS line {out['hs'][dup].iloc[0]} is listed twice", file=str(path))
    return out


def start_year(start: _dt.date, calendar: str) -> tuple[int, bool]:
    """``(s, partial)``: the year of ``calendar`` containing ``start`` and whether the measure started after its
    first day (1 Farvardin for SH, 1 January for Gregorian years)."""
    if calendar == "SH":
        s = cal.sh_year_of(start)
        return s, cal.nowruz(s) != start
    return start.year, (start.month, start.day) != (1, 1)


def period_years(start: _dt.date, calendar: str, window: int = 3) -> tuple[list[int], int]:
    """``(before_years, first_after_year)`` for a measure starting on ``start``: the year rule of the module
    docstring — the start year *s* is the first "after" year (partial when the start is not its first day) and
    "before" is the ``window`` years *s* − window … *s* − 1.  One rule for :func:`saving_series` (the
    ``import_saving`` target metric) and :func:`tradepulse.roadmap.substitution.monitor`."""
    s, _partial = start_year(start, calendar)
    return rule_years(s, window)


def rule_years(first_after: int, window: int = 3) -> tuple[list[int], int]:
    """The year rule itself: ``(before_years, first_after_year)`` = ``([s − window … s − 1], s)``."""
    return list(range(first_after - window, first_after)), first_after


# ---------------------------------------------------------------- savings
def counterfactual(series: pd.DataFrame, before: list[int], method: str = "pre3avg") -> float:
    """Counterfactual annual imports: mean of ``series`` over ``before`` years (all must be present)."""
    if method not in METHODS:
        from tradepulse.errors import UnknownNameError
        raise UnknownNameError("saving method", method, list(METHODS))
    have = series.set_index("year")["value"]
    missing = [y for y in before if y not in have.index]
    if missing:
        raise NoDataError(f"no import data for baseline year(s) {missing} (method {method} needs "
                          f"{before[0]}–{before[-1]})")
    return float(have.loc[before].mean())


def saving_series(imports: pd.DataFrame, target) -> pd.DataFrame:
    """Cumulative import saving for an ``import_saving`` target: baseline year *b* = the last pre-measure year,
    so the measure's first after year is *s* = *b* + 1 (:func:`rule_years`).

    CF = mean of imports in the ``options.window`` (default 3) years ending at *b*; value(t) = Σ_{s≤u≤t} (CF − M(u)).
    """
    if target.baseline_year is None:
        raise InputError(f"target {target.id!r}: import_saving needs baseline = {{ year = <last year before the measure> }}")
    window = int(target.options.get("window", 3))
    method = target.options.get("method", "pre3avg")
    before, first_after = rule_years(target.baseline_year + 1, window)
    cf = counterfactual(imports, before, method)
    after = imports[imports["year"] >= first_after].sort_values("year")
    if after.empty:
        return pd.DataFrame(columns=["year", "value", "estimate", "method"])
    est_before = bool(imports[imports["year"].isin(before)]["estimate"].any())
    return pd.DataFrame({"year": after["year"].to_numpy(),
                         "value": np.cumsum(cf - after["value"].to_numpy(float)),
                         "estimate": after["estimate"].to_numpy(bool) | est_before,
                         "method": f"{method}-cumulative"})


def start_warnings(lines: pd.DataFrame, prefixes: tuple[str, ...], baseline_year: int, calendar: str) -> list[str]:
    """Sentences about the listed lines under ``prefixes`` (all lines when empty): lines whose measure does not
    start in the target's first after year ``baseline_year`` + 1, and a partial first after year — so a reader
    sees which years a saving target counts, the same ones as the monitor."""
    wrong: dict[str, list[str]] = {}
    partial: dict[str, list[str]] = {}
    for line in lines.itertuples(index=False):
        if prefixes and not any(line.hs.startswith(p) or p.startswith(line.hs) for p in prefixes):
            continue
        s, part = start_year(line.start, calendar)
        if s != baseline_year + 1:
            wrong.setdefault(line.start_label, []).append(line.hs)
        elif part:
            partial.setdefault(line.start_label, []).append(line.hs)

    def lines_text(groups: dict[str, list[str]]) -> str:
        return "; ".join(f"{len(hs)} line{'s' if len(hs) > 1 else ''} from {start}: {', '.join(hs)}"
                         for start, hs in groups.items())
    out = []
    if wrong:
        out.append(f"measures do not start in {calendar} {baseline_year + 1}, the first year after the baseline "
                   f"year {baseline_year} ({lines_text(wrong)})")
    if partial:
        out.append(f"{calendar} {baseline_year + 1} is a partial first after year, counted as an after year "
                   f"({lines_text(partial)})")
    return out
