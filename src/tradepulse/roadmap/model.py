"""Roadmap files: a declarative list of targets (TOML or YAML), validated with one-line errors.

File form (TOML; YAML has the same keys)::

    [roadmap]
    id = "iran-tpo"
    title_en = "..."
    title_fa = "..."
    reporter = "IRN"           # the roadmap's country and default reporter of every target (default:
                               # $TRADEPULSE_FOCUS or IRN; a file is found by country only when it names it)
    calendar = "SH"            # default calendar of years: "SH" (Solar Hijri) or "gregorian"

    [[targets]]
    id = "syria-trade"
    title_en = "Iran–Syria total trade $1 billion"
    title_fa = "..."
    metric = "total_trade"     # see METRICS, or "indicator:<module>.<function>"
    scope = { partner = "SYR" }            # reporter, partner, product, province, trade, ebops, level
    baseline = { year = 1397 }             # value optional: computed from the data when absent
    target = { value = 1e9 }               # or { growth = 0.08 } (annual rate from the baseline);
                                           # better = "lower" when a fall is progress (HHI, a rank)
    deadline = { year = 1400, calendar = "SH" }
    parent = "..."             # optional: id of the target this one is a sub-target of
    options = { ... }          # optional metric options
    axis = "balance"           # optional: the roadmap axis (default from the metric, see roadmap/axes.py)
    source = "..."             # optional: where the target comes from, or "illustrative"

Errors name the file, line and field, e.g. ``file r.toml, line 12, column 'targets[1].metric': unknown metric
'exprts'; known: ...``.  Line numbers come from the TOML text (the line of the offending key inside the
target's ``[[targets]]`` block) or from the YAML node marks.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradepulse.errors import InputError, UnknownNameError

HERE = Path(__file__).parent
EXAMPLE = HERE / "iran_roadmap.toml"

#: Base metrics computed by :mod:`tradepulse.roadmap.metrics`.
METRICS = ("exports", "imports", "total_trade", "balance", "non_oil_balance", "market_share",
           "n_products", "n_markets", "import_saving", "survival_1y", "product_hhi", "market_hhi",
           "n_markets_above", "n_new_rca", "eci_rank", "n_exporters")
CALENDARS = ("SH", "gregorian")
TRADE_KINDS = ("goods", "services")
LEVELS = ("auto", "world", "national", "province")
SCOPE_KEYS = ("reporter", "partner", "product", "province", "trade", "ebops", "level")
TARGET_KEYS = ("id", "title_en", "title_fa", "metric", "scope", "baseline", "target", "deadline", "parent",
               "options", "note", "axis", "source")


@dataclass(frozen=True)
class Scope:
    reporter: str
    partner: tuple[str, ...] = ()        # names as written: ISO3 codes and/or group names; () = world
    product: tuple[str, ...] = ()        # HS prefixes and/or product-group names; () = all products
    province: str | None = None
    trade: str = "goods"                 # goods | services
    ebops: tuple[str, ...] = ()          # EBOPS code prefixes (services); () = all services
    level: str = "auto"                  # which rows: auto | world | national | province


@dataclass(frozen=True)
class Target:
    id: str
    title_en: str
    title_fa: str
    metric: str
    scope: Scope
    deadline_year: int
    calendar: str                        # calendar of deadline_year and baseline_year
    baseline_year: int | None = None
    baseline_value: float | None = None
    target_value: float | None = None
    growth: float | None = None          # annual growth rate (0.08 = 8 %/yr) from the baseline
    parent: str | None = None
    options: dict = field(default_factory=dict)
    note: str = ""
    line: int | None = None              # line of the target in its file
    axis: str = "trade"                  # the roadmap axis (tradepulse.roadmap.axes.AXES)
    better: str = "higher"               # higher | lower: which direction is progress
    source: str = ""                     # where the target value comes from, or "illustrative"

    @property
    def illustrative(self) -> bool:
        return self.source.strip().lower().startswith("illustrative")

    def title(self, lang: str = "en") -> str:
        return self.title_fa if lang == "fa" else self.title_en

    def goal(self, baseline_value: float | None = None) -> float:
        """The target value: ``value``, or baseline × (1 + growth)^(deadline − baseline year)."""
        if self.target_value is not None:
            return float(self.target_value)
        base = self.baseline_value if self.baseline_value is not None else baseline_value
        if base is None or self.baseline_year is None:
            raise InputError(f"target {self.id!r}: a growth target needs a baseline value")
        return float(base) * (1.0 + float(self.growth)) ** (self.deadline_year - self.baseline_year)


@dataclass(frozen=True)
class Roadmap:
    id: str
    title_en: str
    title_fa: str
    reporter: str
    calendar: str
    targets: tuple[Target, ...]
    source: str = ""
    substitution_file: str | None = None  # list of substituted / banned lines (see substitution.py)
    monthly_data: str = "gregorian"       # month column holds Gregorian months, or SH months (sh-months)

    def target(self, target_id: str) -> Target:
        for t in self.targets:
            if t.id == target_id:
                return t
        raise UnknownNameError("target", target_id, [t.id for t in self.targets])

    def children(self, target_id: str) -> list[Target]:
        return [t for t in self.targets if t.parent == target_id]


# ---------------------------------------------------------------- locating lines
class _Locator:
    """Find the line of ``targets[i].field`` in TOML text or YAML node marks."""

    def __init__(self, text: str, kind: str, yaml_lines: dict | None = None):
        self.lines = text.splitlines()
        self.kind = kind
        self.yaml_lines = yaml_lines or {}
        self.headers = [n for n, s in enumerate(self.lines, 1) if re.match(r"\s*\[\[\s*targets\s*\]\]", s)]

    def line(self, index: int | None, key: str | None) -> int | None:
        if self.kind == "yaml":
            for path in ((index, key), (index, None), (None, key)):
                if path in self.yaml_lines:
                    return self.yaml_lines[path]
            return None
        if index is None:  # [roadmap] table
            start = next((n for n, s in enumerate(self.lines, 1) if re.match(r"\s*\[\s*roadmap\s*\]", s)), 1)
            end = self.headers[0] if self.headers else len(self.lines) + 1
        else:
            if index >= len(self.headers):
                return None
            start = self.headers[index]
            end = self.headers[index + 1] if index + 1 < len(self.headers) else len(self.lines) + 1
        if key:
            pat = re.compile(rf"\s*\"?{re.escape(key)}\"?\s*(=|\.)")
            for n in range(start, end):
                if pat.match(self.lines[n - 1]):
                    return n
            # sub-table form: [targets.scope]
            pat = re.compile(rf"\s*\[\s*targets\s*\.\s*{re.escape(key)}\s*\]")
            for n in range(start, end):
                if pat.match(self.lines[n - 1]):
                    return n
        return start


def _yaml_lines(text: str) -> dict:
    import yaml
    out: dict = {}
    root = yaml.compose(text)
    if not isinstance(root, yaml.MappingNode):
        return out
    for k, v in root.value:
        if k.value == "roadmap" and isinstance(v, yaml.MappingNode):
            for kk, _vv in v.value:
                out[(None, kk.value)] = kk.start_mark.line + 1
        if k.value == "targets" and isinstance(v, yaml.SequenceNode):
            for i, item in enumerate(v.value):
                out[(i, None)] = item.start_mark.line + 1
                if isinstance(item, yaml.MappingNode):
                    for kk, _vv in item.value:
                        out[(i, kk.value)] = kk.start_mark.line + 1
    return out


# ---------------------------------------------------------------- parsing
def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return (str(value),)


def load_roadmap(path: str | Path | None = None) -> Roadmap:
    """Read and validate a roadmap file (``.toml``, ``.yaml``/``.yml``); ``None`` → the shipped Iran example.

    Raises :class:`~tradepulse.errors.InputError` with file, line and field for the first problem found.
    """
    path = Path(path) if path is not None else EXAMPLE
    if not path.exists():
        raise InputError("roadmap file not found", file=str(path))
    text = path.read_text(encoding="utf-8")
    kind = "yaml" if path.suffix.lower() in (".yaml", ".yml") else "toml"
    try:
        if kind == "toml":
            data = tomllib.loads(text)
            loc = _Locator(text, "toml")
        else:
            import yaml
            data = yaml.safe_load(text) or {}
            loc = _Locator(text, "yaml", _yaml_lines(text))
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise InputError(f"not valid TOML: {exc}", file=str(path),
                         line=int(m.group(1)) if m else None) from None
    except Exception as exc:  # yaml.YAMLError
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"not valid YAML: {getattr(exc, 'problem', exc)}", file=str(path),
                         line=mark.line + 1 if mark else None) from None
    rm = parse_roadmap(data, source=str(path), locator=loc)
    if rm.substitution_file:
        sub = Path(rm.substitution_file)
        sub = sub if sub.is_absolute() else path.parent / sub
        if not sub.exists():
            raise InputError(f"substitution file {str(sub)!r} not found", file=str(path),
                             line=loc.line(None, "substitution_file"), column="roadmap.substitution_file")
        rm = dataclasses.replace(rm, substitution_file=str(sub))
    return rm


# ---------------------------------------------------------------- one roadmap per country
ROADMAP_SUFFIXES = (".toml", ".yaml", ".yml")


def roadmap_dirs() -> list[Path]:
    """Folders searched for a country's roadmap, first match wins: ``$TRADEPULSE_HOME/roadmaps`` (the
    organisation's own files), then the roadmaps shipped with tradepulse (Iran's example)."""
    from tradepulse.config import home
    return [home() / "roadmaps", HERE]


def _declared_reporter(path: Path) -> str | None:
    """The ``reporter`` written in a file's ``[roadmap]`` table (upper case); None for files that are not
    roadmaps (no ``[roadmap]`` table, e.g. a substitution lines file) or name no reporter."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return None
    else:
        import yaml
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            return None
    head = data.get("roadmap") if isinstance(data, dict) else None
    if not isinstance(head, dict) or "targets" not in data or not head.get("reporter"):
        return None
    return str(head["reporter"]).upper()


def roadmap_files(dirs: list[Path] | None = None) -> dict[str, Path]:
    """Country (ISO3) → its roadmap file in :func:`roadmap_dirs` (a file counts only when its ``[roadmap]``
    table names the ``reporter``; the first folder holding a country's roadmap wins, files sorted by name)."""
    found: dict[str, Path] = {}
    for folder in dirs if dirs is not None else roadmap_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in ROADMAP_SUFFIXES and path.is_file():
                country = _declared_reporter(path)
                if country and country not in found:
                    found[country] = path
    return found


def roadmap_for(country: str, path: str | Path | Roadmap | None = None) -> Roadmap | None:
    """The roadmap of ``country`` (ISO3): ``path`` (a file or a loaded :class:`Roadmap`, which must be that
    country's) or the country's file among :func:`roadmap_files`; None when the country has no roadmap.

    A roadmap for another country raises :class:`~tradepulse.errors.InputError` (its targets are never shown
    under a different reporter).
    """
    country = str(country).upper()
    if path is None:
        file = roadmap_files().get(country)
        return None if file is None else load_roadmap(file)
    rm = path if isinstance(path, Roadmap) else load_roadmap(path)
    if rm.reporter != country:
        raise InputError(f"roadmap {rm.id!r} is for {rm.reporter}, not {country}; its targets are not shown",
                         file=rm.source or None)
    return rm


def parse_roadmap(data: dict, *, source: str = "<dict>", locator: _Locator | None = None) -> Roadmap:
    """Validate a roadmap given as a dict (the parsed file)."""
    loc = locator or _Locator("", "toml")

    def fail(msg: str, index: int | None, fld: str) -> None:
        where = f"targets[{index}].{fld}" if index is not None else f"roadmap.{fld}"
        raise InputError(msg, file=source, line=loc.line(index, fld.split(".")[0]), column=where)

    if not isinstance(data, dict):
        raise InputError("a roadmap file must hold a mapping with [roadmap] and [[targets]]", file=source)
    head = data.get("roadmap", {})
    if not isinstance(head, dict):
        fail("must be a table", None, "roadmap")
    for key in head:
        if key not in ("id", "title_en", "title_fa", "reporter", "calendar", "substitution_file", "monthly_data"):
            fail(f"unknown key {key!r}", None, key)
    from tradepulse.config import DEFAULT_FOCUS
    reporter = str(head.get("reporter", DEFAULT_FOCUS)).upper()
    _check_country(reporter, lambda m: fail(m, None, "reporter"))
    calendar = head.get("calendar", "SH")
    if calendar not in CALENDARS:
        fail(f"calendar must be one of {', '.join(CALENDARS)}, not {calendar!r}", None, "calendar")
    monthly = head.get("monthly_data", "gregorian")
    if monthly not in ("gregorian", "sh-months"):
        fail(f"monthly_data must be gregorian or sh-months, not {monthly!r}", None, "monthly_data")
    raw_targets = data.get("targets")
    if not isinstance(raw_targets, list) or not raw_targets:
        raise InputError("no [[targets]] in the roadmap", file=source, column="targets")
    targets: list[Target] = []
    for i, raw in enumerate(raw_targets):
        targets.append(_parse_target(raw, i, reporter, calendar, fail, loc))
    ids = [t.id for t in targets]
    for i, t in enumerate(targets):
        if ids.index(t.id) != i:
            fail(f"duplicate target id {t.id!r}", i, "id")
        if t.parent is not None and t.parent not in ids:
            fail(f"parent {t.parent!r} is not a target id; known: {', '.join(ids)}", i, "parent")
    return Roadmap(id=str(head.get("id", Path(source).stem)), title_en=str(head.get("title_en", "Roadmap")),
                   title_fa=str(head.get("title_fa", head.get("title_en", "Roadmap"))), reporter=reporter,
                   calendar=calendar, targets=tuple(targets), source=source,
                   substitution_file=head.get("substitution_file"), monthly_data=monthly)


def _check_country(code: str, fail) -> None:
    from tradepulse.reference import iso3_codes
    if code not in iso3_codes():
        fail(f"unknown country {code!r} (use an ISO3 code)")


def _parse_target(raw: Any, i: int, reporter: str, calendar: str, fail, loc: _Locator) -> Target:
    from tradepulse.reference import country_groups, iso3_codes, product_groups

    if not isinstance(raw, dict):
        fail("each target must be a table", i, "id")
    for key in raw:
        if key not in TARGET_KEYS:
            fail(f"unknown key {key!r}; allowed: {', '.join(TARGET_KEYS)}", i, key)
    for key in ("id", "title_en", "metric", "deadline"):
        if key not in raw:
            fail(f"missing required field {key!r}", i, key)
    tid = raw["id"]
    if not isinstance(tid, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", tid):
        fail(f"id must be a word of letters, digits, '_', '-' or '.', not {tid!r}", i, "id")
    metric = raw["metric"]
    if not isinstance(metric, str):
        fail("metric must be a string", i, "metric")
    if metric.startswith("indicator:"):
        if not re.fullmatch(r"indicator:[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*", metric):
            fail(f"indicator metrics are written 'indicator:<module>.<function>', not {metric!r}", i, "metric")
    elif metric not in METRICS:
        fail(f"unknown metric {metric!r}; known: {', '.join(METRICS)}, indicator:<module>.<function>",
             i, "metric")

    # scope
    sc = raw.get("scope", {})
    if not isinstance(sc, dict):
        fail("scope must be a table, e.g. { partner = \"SYR\" }", i, "scope")
    for key in sc:
        if key not in SCOPE_KEYS:
            fail(f"unknown scope key {key!r}; allowed: {', '.join(SCOPE_KEYS)}", i, "scope")
    rep = str(sc.get("reporter", reporter)).upper()
    _check_country(rep, lambda m: fail(m, i, "scope.reporter"))
    partners = _as_tuple(sc.get("partner"))
    groups = country_groups()
    for p in partners:
        if p not in groups and p.upper() not in iso3_codes():
            fail(f"unknown partner or country group {p!r}; known groups: {', '.join(sorted(groups))}",
                 i, "scope.partner")
    products = _as_tuple(sc.get("product"))
    pgroups = product_groups()
    for p in products:
        if p not in pgroups and p != "@substitution" and not re.fullmatch(r"\d{2}|\d{4}|\d{6}", p):
            fail(f"unknown product group or HS code {p!r}; known groups: {', '.join(sorted(pgroups))}",
                 i, "scope.product")
    trade = sc.get("trade", "goods")
    if trade not in TRADE_KINDS:
        fail(f"trade must be goods or services, not {trade!r}", i, "scope.trade")
    ebops = _as_tuple(sc.get("ebops"))
    if ebops and trade != "services":
        fail("ebops is only allowed with trade = \"services\"", i, "scope.ebops")
    if trade == "services" and (products or sc.get("province")):
        fail("services targets take ebops codes, not product or province", i, "scope.trade")
    if trade == "services" and metric in ("non_oil_balance", "n_products", "import_saving"):
        fail(f"metric {metric!r} is for goods only", i, "metric")
    level = sc.get("level", "auto")
    if level not in LEVELS:
        fail(f"level must be one of {', '.join(LEVELS)}, not {level!r}", i, "scope.level")
    province = sc.get("province")
    scope = Scope(reporter=rep, partner=partners, product=products,
                  province=_canonical_province(province), trade=trade,
                  ebops=tuple(e.upper() for e in ebops), level=level)

    # deadline and calendar
    dl = raw["deadline"]
    if isinstance(dl, int):
        dl = {"year": dl}
    if not isinstance(dl, dict) or "year" not in dl or not isinstance(dl["year"], int):
        fail("deadline must be a year or { year = 1404, calendar = \"SH\" }", i, "deadline")
    cal = dl.get("calendar", calendar)
    if cal not in CALENDARS:
        fail(f"calendar must be one of {', '.join(CALENDARS)}, not {cal!r}", i, "deadline")
    deadline = int(dl["year"])
    lo, hi = (1300, 1500) if cal == "SH" else (1950, 2150)
    if not lo <= deadline <= hi:
        fail(f"deadline year {deadline} is not a plausible {cal} year ({lo}–{hi})", i, "deadline")

    # baseline
    bl = raw.get("baseline", {})
    if isinstance(bl, int):
        bl = {"year": bl}
    if not isinstance(bl, dict):
        fail("baseline must be { year = ..., value = ... }", i, "baseline")
    for key in bl:
        if key not in ("year", "value"):
            fail(f"unknown baseline key {key!r}; allowed: year, value", i, "baseline")
    b_year = bl.get("year")
    b_value = bl.get("value")
    if b_year is not None:
        if not isinstance(b_year, int) or not lo <= b_year <= hi:
            fail(f"baseline year must be a {cal} year ({lo}–{hi}), not {b_year!r}", i, "baseline")
        if b_year >= deadline:
            fail(f"baseline year {b_year} is not before the deadline {deadline}", i, "baseline")
    if b_value is not None and not isinstance(b_value, (int, float)):
        fail(f"baseline value must be a number, not {b_value!r}", i, "baseline")

    # target
    tg = raw.get("target")
    if not isinstance(tg, dict) or ("value" in tg) == ("growth" in tg):
        fail("target must be { value = ... } or { growth = 0.08 } (exactly one)", i, "target")
    for key in tg:
        if key not in ("value", "growth", "better"):
            fail(f"unknown target key {key!r}; allowed: value, growth, better", i, "target")
    from tradepulse.roadmap.axes import AXES, axis_of, better_of
    better = tg.get("better", better_of(metric))
    if better not in ("higher", "lower"):
        fail(f"better must be higher or lower, not {better!r}", i, "target")
    axis = raw.get("axis", axis_of(metric))
    if axis not in AXES:
        fail(f"unknown axis {axis!r}; known: {', '.join(AXES)}", i, "axis")
    t_value = tg.get("value")
    growth = tg.get("growth")
    if t_value is not None and not isinstance(t_value, (int, float)):
        fail(f"target value must be a number, not {t_value!r}", i, "target")
    if growth is not None:
        if not isinstance(growth, (int, float)) or not -0.9 < growth < 5:
            fail(f"growth is an annual rate such as 0.08 for 8 %/yr, not {growth!r}", i, "target")
        if b_year is None:
            fail("a growth target needs a baseline year", i, "baseline")
    options = raw.get("options", {})
    if not isinstance(options, dict):
        fail("options must be a table", i, "options")
    _check_options(metric, options, b_year, lambda m: fail(m, i, "options"))
    if metric == "import_saving" and b_year is None:
        fail("import_saving needs baseline = { year = <last year before the measure> }", i, "baseline")
    parent = raw.get("parent")
    if parent is not None and not isinstance(parent, str):
        fail("parent must be a target id", i, "parent")
    return Target(id=tid, title_en=str(raw["title_en"]), title_fa=str(raw.get("title_fa", raw["title_en"])),
                  metric=metric, scope=scope, deadline_year=deadline, calendar=cal, baseline_year=b_year,
                  baseline_value=float(b_value) if b_value is not None else None,
                  target_value=float(t_value) if t_value is not None else None,
                  growth=float(growth) if growth is not None else None, parent=parent, options=dict(options),
                  note=str(raw.get("note", "")), line=loc.line(i, None), axis=axis, better=better,
                  source=str(raw.get("source", "")))



#: Allowed ``options`` per metric: key → check (returns True when the value is valid) and a hint.
_OPTIONS = {
    "non_oil_balance": {"oil": (lambda v: v in ("narrow", "chapter27"), "narrow or chapter27")},
    "n_products": {"threshold": (lambda v: isinstance(v, (int, float)) and v >= 0, "a number ≥ 0")},
    "n_markets": {"threshold": (lambda v: isinstance(v, (int, float)) and v >= 0, "a number ≥ 0")},
    "import_saving": {"method": (lambda v: v == "pre3avg", "pre3avg"),
                      "window": (lambda v: isinstance(v, int) and 1 <= v <= 10, "a whole number of years 1–10")},
    "n_markets_above": {"threshold": (lambda v: isinstance(v, (int, float)) and v >= 0, "a number ≥ 0")},
    "survival_1y": {"level": (lambda v: v in (2, 4, 6), "2, 4 or 6")},
    "indicator": {"input": (lambda v: v in ("warehouse", "table", "frame"), "warehouse, table or frame"),
                  "args": (lambda v: isinstance(v, dict), "a table of keyword arguments"),
                  "column": (lambda v: isinstance(v, str), "a column name")},
}


def _check_options(metric: str, options: dict, baseline_year, fail) -> None:
    allowed = _OPTIONS.get("indicator" if metric.startswith("indicator:") else metric, {})
    for key, value in options.items():
        if key not in allowed:
            fail(f"option {key!r} is not used by metric {metric!r}"
                 + (f"; allowed: {', '.join(allowed)}" if allowed else ""))
        ok, hint = allowed[key]
        if not ok(value):
            fail(f"option {key} must be {hint}, not {value!r}")


def _canonical_province(name) -> str | None:
    """The reference spelling of a target's province (تهران, IR-23 → Tehran), as the ingest stores it."""
    if name is None:
        return None
    from tradepulse.reference.provinces import listed_name
    return listed_name(str(name))
