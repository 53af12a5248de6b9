"""Import substitution and import bans: monitored HS lines, imports before/after, savings, leakage and
domestic production entered by users.

**Lines file** (TOML ``[[lines]]`` or CSV with the same columns): ``hs`` (2, 4 or 6 digits), ``kind``
(``substitution`` | ``ban``), ``start`` (date ``YYYY-MM-DD``), ``calendar`` of ``start`` (``SH`` default or
``gregorian``), ``title_en``, ``title_fa``, ``group`` (e.g. the product group of a sub-target), ``partners``
(optional ISO3 list, ``;``-separated in CSV: the measure applies to imports from these origins only).

**Before/after years** in the monitor's calendar: *s* = the year containing the start date.  If the start is
the first day of *s*, *s* is the first "after" year; otherwise *s* is a transition year left out of both.
"Before" is the ``window`` (default 3) years *s* − window … *s* − 1.

**Saving (method ``pre3avg``)**: counterfactual imports CF = mean of imports in the ``window`` years before
(pre-measure 3-year average, a no-growth counterfactual); saving in an after year *t* = CF − M(*t*), cumulative
saving = Σ over after years up to *t*.  A negative saving means imports rose.

**Leakage** (increases after − before, as annual averages; positive = possible leakage):

* *partners*: for a line restricted to ``partners``, imports of the same line from all other partners;
* *neighbours*: imports under neighbouring HS codes — other HS6 codes of the same HS4 for an HS6 line,
  other HS4 headings of the same HS2 chapter for an HS4 line — not themselves listed (mis-declaration).

**Domestic production** entries typed in by users are stored in the warehouse table ``domestic_production``
(created here with ``CREATE TABLE IF NOT EXISTS``; one row per entry, never overwritten — the latest entry for
a line × year counts).
"""

from __future__ import annotations

import csv
import datetime as _dt
import re
import tomllib
import uuid
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

PRODUCTION = {
    "entry_id": "VARCHAR", "hs": "VARCHAR", "year": "SMALLINT", "calendar": "VARCHAR", "value_usd": "DOUBLE",
    "quantity": "DOUBLE", "unit": "VARCHAR", "province": "VARCHAR", "source": "VARCHAR",
    "entered_by": "VARCHAR", "entered_at": "TIMESTAMP", "note": "VARCHAR",
}


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


def period_years(start: _dt.date, calendar: str, window: int = 3) -> tuple[list[int], int]:
    """``(before_years, first_after_year)`` for a measure starting on ``start`` (see module docstring)."""
    if calendar == "SH":
        s = cal.sh_year_of(start)
        first_day = cal.nowruz(s) == start
    else:
        s = start.year
        first_day = (start.month, start.day) == (1, 1)
    return list(range(s - window, s)), (s if first_day else s + 1)


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
    """Cumulative import saving for an ``import_saving`` target: baseline year *b* = the last pre-measure year.

    CF = mean of imports in the ``options.window`` (default 3) years ending at *b*; value(t) = Σ_{b<s≤t} (CF − M(s)).
    """
    if target.baseline_year is None:
        raise InputError(f"target {target.id!r}: import_saving needs baseline = {{ year = <last year before the measure> }}")
    window = int(target.options.get("window", 3))
    method = target.options.get("method", "pre3avg")
    b = target.baseline_year
    before = list(range(b - window + 1, b + 1))
    cf = counterfactual(imports, before, method)
    after = imports[imports["year"] > b].sort_values("year")
    if after.empty:
        return pd.DataFrame(columns=["year", "value", "estimate", "method"])
    est_before = bool(imports[imports["year"].isin(before)]["estimate"].any())
    return pd.DataFrame({"year": after["year"].to_numpy(),
                         "value": np.cumsum(cf - after["value"].to_numpy(float)),
                         "estimate": after["estimate"].to_numpy(bool) | est_before,
                         "method": f"{method}-cumulative"})


# ---------------------------------------------------------------- domestic production
def ensure_production_table(warehouse) -> None:
    cols = ", ".join(f'"{c}" {t}' for c, t in PRODUCTION.items())
    warehouse.raw.execute(f'CREATE TABLE IF NOT EXISTS domestic_production ({cols})').fetchall()


def add_production(warehouse, hs: str, year: int, value_usd: float, *, calendar: str = "SH",
                   quantity: float | None = None, unit: str | None = None, province: str | None = None,
                   source: str = "user", entered_by: str = "unknown", note: str = "") -> str:
    """Store one domestic-production entry typed in by a user; returns its ``entry_id``."""
    hs = str(hs).strip()
    if not re.fullmatch(r"\d{2}|\d{4}|\d{6}", hs):
        raise InputError(f"hs must be an HS code of 2, 4 or 6 digits, not {hs!r}", column="hs")
    if calendar not in ("SH", "gregorian"):
        raise InputError(f"calendar must be SH or gregorian, not {calendar!r}", column="calendar")
    lo, hi = (1300, 1500) if calendar == "SH" else (1950, 2150)
    if not lo <= int(year) <= hi:
        raise InputError(f"{year} is not a plausible {calendar} year", column="year")
    if value_usd is None or not np.isfinite(value_usd) or value_usd < 0:
        raise InputError(f"value_usd must be a non-negative number, not {value_usd!r}", column="value_usd")
    if warehouse.read_only:
        raise InputError("the warehouse is open read-only", file=str(warehouse.path))
    ensure_production_table(warehouse)
    entry_id = uuid.uuid4().hex[:12]
    warehouse.raw.execute(
        "INSERT INTO domestic_production VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [entry_id, hs, int(year), calendar, float(value_usd), quantity, unit, province, source, entered_by,
         _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None), note]).fetchall()
    return entry_id


def production_frame(warehouse, calendar: str = "SH") -> pd.DataFrame:
    """Latest entry per (hs, year) with years in ``calendar``: ``hs, year, value_usd, estimate``.

    Entries typed in the other calendar are placed at the year that starts in it (SH y ↔ Gregorian y + 621)
    and flagged ``estimate``.
    """
    empty = pd.DataFrame(columns=["hs", "year", "value_usd", "estimate"])
    if warehouse is None:
        return empty
    # fetchall, not fetchone: DuckDB 2 keeps a partly fetched result open and blocks the connection
    found = warehouse.raw.execute("SELECT count(*) FROM information_schema.tables "
                                  "WHERE table_name = 'domestic_production'").fetchall()[0][0]
    if not found:
        return empty
    df = warehouse.raw.execute("SELECT * FROM domestic_production ORDER BY entered_at").fetchdf()
    if df.empty:
        return empty
    df = df.drop_duplicates(["hs", "year", "calendar"], keep="last")
    shift = np.where(df["calendar"] == calendar, 0,
                     np.where(calendar == "SH", -cal.SH_OFFSET, cal.SH_OFFSET))
    out = pd.DataFrame({"hs": df["hs"].astype(str), "year": df["year"].astype(int) + shift,
                        "value_usd": df["value_usd"].astype(float), "estimate": df["calendar"] != calendar})
    return out.groupby(["hs", "year"], as_index=False).agg(value_usd=("value_usd", "sum"),
                                                            estimate=("estimate", "any"))


# ---------------------------------------------------------------- monitor
def _assign_lines(products: pd.Series, codes: list[str]) -> pd.Series:
    """The listed code that is a prefix of each product (longest match), vectorised by prefix length."""
    out = pd.Series(pd.NA, index=products.index, dtype="object")
    for length in sorted({len(c) for c in codes}):  # at most 3 lengths (2, 4, 6)
        table = pd.Series({c: c for c in codes if len(c) == length})
        out = products.str[:length].map(table).where(lambda s: s.notna(), out)
    return out


def _parent(code: str) -> str:
    return code[:4] if len(code) == 6 else code[:2]


def import_panel(data, lines: pd.DataFrame, reporter: str, calendar: str = "SH") -> pd.DataFrame:
    """Yearly imports per listed line in ``calendar``: ``hs, year, imports, from_listed, from_others,
    neighbours, estimate`` (one Ibis query; national bilateral or province rows, one level for all)."""
    import ibis
    from tradepulse.indicators.selection import prefix_filter
    from tradepulse.roadmap.metrics import Data, choose_level, to_calendar

    data = data if isinstance(data, Data) else Data(data)
    codes = lines["hs"].tolist()
    parents = sorted({_parent(c) for c in codes})
    t = data.flows
    t = t.filter((t.reporter == reporter) & (t.flow == "import") & (t.partner != "WLD"))
    t = t.filter(prefix_filter(t.product, codes + parents))
    t = t.mutate(level=ibis.ifelse(t.province.isnull(), 1, 2))
    agg = t.group_by(["level", "year", "month", "product", "partner"]).aggregate(value=t.value_usd.sum()).to_pandas()
    if agg.empty:
        raise NoDataError(f"no imports of {reporter} under the listed HS lines or their neighbours")
    lvl = choose_level(agg)
    agg = agg[agg["level"] == lvl].copy()
    agg["product"] = agg["product"].astype(str)
    agg["line"] = _assign_lines(agg["product"], codes)
    partners = lines.set_index("hs")["partners"]
    listed = agg[agg["line"].notna()].copy()
    restricted = listed["line"].map(lambda c: partners[c])  # per-row tuple lookup (rows of listed lines only)
    listed["is_listed_partner"] = [p in r if r else True for p, r in zip(listed["partner"], restricted)]
    # neighbours: rows under a listed line's parent that are not themselves listed
    rest = agg[agg["line"].isna()]
    neigh = []
    for length in (2, 4):
        kids = [c for c in codes if len(_parent(c)) == length]
        if kids:
            par = pd.Series({_parent(c): c for c in kids})
            m = rest.assign(line=rest["product"].str[:length].map(par)).dropna(subset=["line"])
            neigh.append(m)
    neighbours = pd.concat(neigh) if neigh else rest.iloc[:0].assign(line=pd.Series(dtype=object))

    # periods in which the reporter declares imports at this level: missing line-periods there are zeros
    cov = data.flows
    cov = cov.filter((cov.reporter == reporter) & (cov.flow == "import") & (cov.partner != "WLD"))
    cov = cov.filter(cov.province.isnull() if lvl == 1 else cov.province.notnull())
    grid = cov.select("year", "month").distinct().to_pandas().astype({"year": int, "month": float})
    grid = pd.DataFrame({"line": np.repeat(codes, len(grid)), "year": np.tile(grid["year"].to_numpy(), len(codes)),
                         "month": np.tile(grid["month"].to_numpy(), len(codes))})

    def series(frame):
        g = frame.astype({"year": int, "month": float}).groupby(["line", "year", "month"], dropna=False,
                                                                 as_index=False)["value"].sum()
        g = grid.merge(g, on=["line", "year", "month"], how="left").fillna({"value": 0.0})
        return to_calendar(g, calendar, by=["line"], monthly=data.monthly)

    total = series(listed)
    parts = {"from_listed": series(listed[listed["is_listed_partner"]]),
             "from_others": series(listed[~listed["is_listed_partner"]]),
             "neighbours": series(neighbours)}
    out = total.rename(columns={"value": "imports"})
    for name, frame in parts.items():
        out = out.merge(frame[["line", "year", "value"]].rename(columns={"value": name}),
                        on=["line", "year"], how="left")
    for k in parts:
        out[k] = pd.to_numeric(out[k], errors="coerce").astype(float).fillna(0.0)
    out = out.rename(columns={"line": "hs"})
    return out[["hs", "year", "imports", "from_listed", "from_others", "neighbours", "estimate", "method"]]


def monitor(data, lines: pd.DataFrame | None = None, *, reporter: str = "IRN", calendar: str = "SH",
            method: str = "pre3avg", window: int = 3, as_of: int | None = None,
            monthly: str = "gregorian") -> pd.DataFrame:
    """One row per listed line: imports before (``baseline``, method ``pre3avg``) and in the latest after year,
    ``saving`` (latest year) and ``saving_cumulative``, ``leakage_partners``, ``leakage_neighbours``,
    ``domestic_production`` (latest entry in the latest year) and the years used.  ``monthly``: what the month
    column holds (see :data:`tradepulse.roadmap.metrics.MONTHLY`)."""
    from tradepulse.roadmap.metrics import Data

    lines = load_lines() if lines is None else lines
    data = data if isinstance(data, Data) else Data(data, monthly=monthly)
    panel = import_panel(data, lines, reporter, calendar)
    if as_of is not None:
        panel = panel[panel["year"] <= as_of]
    prod = production_frame(data.warehouse, calendar)
    rows = []
    for line in lines.itertuples(index=False):  # one iteration per monitored line (a short list)
        p = panel[panel["hs"] == line.hs].set_index("year").sort_index()
        before, first_after = period_years(line.start, calendar, window)
        row = {"hs": line.hs, "kind": line.kind, "title_en": line.title_en, "title_fa": line.title_fa,
               "group": line.group, "start": line.start_label, "method": method,
               "before_years": f"{before[0]}–{before[-1]}", "first_after_year": first_after}
        have_before = all(y in p.index for y in before)
        after = p[p.index >= first_after]
        base = float(p.loc[before, "imports"].mean()) if have_before else np.nan
        row["baseline"] = base
        row["latest_year"] = int(after.index.max()) if len(after) else pd.NA
        row["latest_imports"] = float(after["imports"].iloc[-1]) if len(after) else np.nan
        row["saving"] = base - row["latest_imports"] if len(after) else np.nan
        row["saving_cumulative"] = float((base - after["imports"]).sum()) if len(after) else np.nan
        if line.partners and have_before and len(after):
            row["leakage_partners"] = float(after["from_others"].mean() - p.loc[before, "from_others"].mean())
        else:
            row["leakage_partners"] = np.nan
        row["leakage_neighbours"] = (float(after["neighbours"].mean() - p.loc[before, "neighbours"].mean())
                                     if have_before and len(after) else np.nan)
        pr = prod[(prod["hs"] == line.hs) & (prod["year"] == row["latest_year"])]
        row["domestic_production"] = float(pr["value_usd"].sum()) if len(pr) else np.nan
        row["estimate"] = bool(p["estimate"].any()) if len(p) else False
        rows.append(row)
    return pd.DataFrame(rows)
