"""Import substitution and import bans: monitored HS lines, imports before/after, savings, leakage and
domestic production entered by users.

The lines file, the before/after **year rule** and the saving series live in :mod:`.lines` (shared with the
``import_saving`` target metric, so ``targets status`` and ``targets substitution`` count the same years): the
start year *s* is the first "after" year (partial when the measure starts after its first day), "before" is the
``window`` (default 3) years *s* − window … *s* − 1.

**Saving (method ``pre3avg``)**: CF = mean imports of the before years; saving in an after year *t* = CF − M(*t*);
cumulative saving = Σ over after years up to *t*.  A negative saving means imports rose.

**Leakage** (increases after − before, as annual averages; positive = possible leakage):

* *partners*: for a line restricted to ``partners``, imports of the same line from all other partners;
* *neighbours*: imports under neighbouring HS codes — other HS6 codes of the same HS4 for an HS6 line,
  other HS4 headings of the same HS2 chapter for an HS4 line — not themselves listed (mis-declaration).

**Domestic production** entries typed in by users are stored in the warehouse table ``domestic_production``
(created here with ``CREATE TABLE IF NOT EXISTS``; one row per entry, never overwritten — the latest entry for
a line × year counts).
"""

from __future__ import annotations

import datetime as _dt
import re
import uuid

import ibis
import numpy as np
import pandas as pd

from tradepulse.errors import InputError, NoDataError
from tradepulse.indicators.selection import prefix_filter
from tradepulse.i18n import N_
from tradepulse.meta import Note, ResultMeta, attach
from tradepulse.roadmap import calendar as cal
from tradepulse.roadmap.lines import (EXAMPLE_LINES, KINDS, LINE_COLUMNS, METHODS, counterfactual, load_lines,
                                     period_years, saving_series, start_year)
from tradepulse.roadmap.metrics import Data, choose_level, to_calendar

__all__ = ["EXAMPLE_LINES", "KINDS", "LINE_COLUMNS", "METHODS", "PRODUCTION", "add_production", "counterfactual",
           "ensure_production_table", "import_panel", "load_lines", "monitor", "period_years",
           "production_frame", "saving_series"]

PRODUCTION = {
    "entry_id": "VARCHAR", "hs": "VARCHAR", "year": "SMALLINT", "calendar": "VARCHAR", "value_usd": "DOUBLE",
    "quantity": "DOUBLE", "unit": "VARCHAR", "province": "VARCHAR", "source": "VARCHAR",
    "entered_by": "VARCHAR", "entered_at": "TIMESTAMP", "note": "VARCHAR",
}


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
    column holds (see :data:`tradepulse.roadmap.metrics.MONTHLY`).

    ``first_after_year`` follows the year rule of :mod:`.lines`; ``partial_first_year`` is True when the measure
    started after that year's first day (a warning in the result's meta says so)."""
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
               "before_years": f"{before[0]}–{before[-1]}", "first_after_year": first_after,
               "partial_first_year": start_year(line.start, calendar)[1]}
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
    out = pd.DataFrame(rows)
    meta = ResultMeta(coverage={"reporter": reporter, "calendar": calendar, "window": window})
    partial = out[out["partial_first_year"]]
    if len(partial):
        meta.warn(Note(N_("partial first after year counted as an after year (measure started after its first "
                          "day): {lines}"),
                       lines=", ".join(f"{r.hs} {r.first_after_year}" for r in partial.itertuples(index=False))))
    return attach(out, meta)
