"""The one input rule: every indicator reads ONE dataset, the most detailed one covering the request.

A warehouse may hold several datasets for the same reporter-year (a BACI release, a Comtrade World-totals file,
monthly customs data); summing them double counts.  :func:`resolve` chooses one dataset for a request:

1. **Eligible**: the dataset has rows that can answer the request — product level ≥ ``needs.level`` (0 = an
   all-goods TOTAL is enough; product work needs HS digits), bilateral rows when partners are needed, provincial
   rows when provinces are needed, monthly rows when months are needed.
2. **Coverage**: among eligible datasets, the one covering the most requested (reporter, year, flow) cells
   fully (monthly rows cover an annual cell fully with all 12 months), then the most cells at all.  Incomplete
   years of monthly data are summed over the months present, with a warning naming them.
3. **Precedence** among equals: frequency of the request (annual data for annual figures: Comtrade's monthly and
   annual submissions differ), then national rows over a sum of provinces (unless provinces are asked for), then
   the finest product level, then bilateral detail over World totals, then the
   source rank (:data:`SOURCE_RANK`: national customs, Comtrade, BACI, generic, demo), then the most recent load.

``dataset=NAME`` (``--dataset`` on the command line) overrides the choice; it must still be eligible.  When no
dataset can answer, :class:`~tradepulse.errors.NoDataError` says what is missing (e.g. "product diversification
needs HS product detail; the warehouse holds only TOTAL rows for ZAF 2014–2022 (comtrade-total-annual)").

Inside the chosen dataset, all-goods ``TOTAL`` rows are dropped whenever the dataset has HS rows (they are their
aggregate); a dataset mixing HS levels is read as it is, with a warning (national data report some lines at
HS4 only; if the coarse rows are totals of fine ones, load them as separate datasets).  World rows and bilateral
rows of the dataset remain layered by :func:`~tradepulse.indicators.selection.national_totals`.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tradepulse.errors import NoDataError, UnknownNameError
from tradepulse.i18n import N_
from tradepulse.meta import Note, ResultMeta
from tradepulse.warehouse.datasets import coverage_of_table, level_name

__all__ = ["Needs", "Resolution", "resolve", "coverage", "use_dataset", "forced_dataset", "SOURCE_RANK"]

#: Source precedence among otherwise equal datasets (higher first).
SOURCE_RANK = {"customs": 5, "comtrade": 4, "baci": 3, "generic": 2, "demo-synthetic": 1}


@dataclass(frozen=True)
class Needs:
    """What an indicator needs of its input rows.

    ``level``: minimal product level (0 = TOTAL suffices, 2/4/6 = HS digits); ``bilateral``: partner detail;
    ``provincial``: provincial rows; ``frequency``: ``annual`` (monthly data count only for complete years),
    ``monthly`` or ``any``; ``what``: the indicator's name for messages.
    """

    level: int = 0
    bilateral: bool = False
    provincial: bool = False
    frequency: str = "annual"
    what: str = "this indicator"


@dataclass
class Resolution:
    """The chosen dataset: its name, the load ids and the product level to read, and the meta to attach."""

    dataset: str | None
    load_ids: list | None
    level: int | None
    meta: ResultMeta = field(default_factory=ResultMeta)
    sources: list = field(default_factory=list)
    #: the dataset holds all-goods ``TOTAL`` rows (else :func:`apply` need not filter them out)
    has_total: bool = True
    #: every (reporter, year, flow) of the dataset holds one layer only (world totals, national bilateral or
    #: provincial rows): :func:`~tradepulse.indicators.selection.national_totals` then has no layer to choose
    single_layer: bool = False


# ---------------------------------------------------------------- a dataset forced by the caller
from tradepulse.meta import forced_dataset, use_dataset  # noqa: E402,F401  (re-exported)


# ---------------------------------------------------------------- coverage of an input
_CACHE: "weakref.WeakKeyDictionary | dict" = {}


def coverage(data) -> pd.DataFrame:
    """Coverage rows of ``data`` (a Warehouse: its recorded coverage; an Ibis table or frame: from its rows)."""
    from tradepulse.warehouse import Warehouse, as_table

    if isinstance(data, Warehouse):
        sig = data.raw.execute("SELECT count(*), max(loaded_at)::VARCHAR FROM loads").fetchall()[0]
        key = ("wh", str(data.path), id(data), sig)
        if key not in _CACHE:
            _CACHE.clear() if len(_CACHE) > 32 else None
            _CACHE[key] = data.coverage()
        return _CACHE[key]
    t = as_table(data, "flows")
    try:
        key = ("t", _source_signature(t), t.op())
        hash(key)
    except TypeError:
        return coverage_of_table(t)
    if key not in _CACHE:
        _CACHE.clear() if len(_CACHE) > 32 else None
        _CACHE[key] = coverage_of_table(t)
    return _CACHE[key]


def _source_signature(t) -> tuple:
    """What identifies the data behind an Ibis table beyond its expression: two warehouses' ``flows`` tables
    are equal expressions (same name and schema), so the cache key also holds the database file and its loads
    (count, last load time); a backend that cannot say (Spark, memtables) is keyed by its identity."""
    try:
        be = t._find_backend(use_default=False)
    except Exception:   # noqa: BLE001  (no single backend: key on the expression alone)
        return ()
    con = getattr(be, "con", None)
    if con is None or not hasattr(con, "cursor"):
        return ("backend", id(be))
    try:
        con = con.cursor()      # its own cursor: never disturbs a result pending on the backend's connection
        path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
                           ).fetchone()[0]
    except Exception:   # noqa: BLE001  (not DuckDB)
        if con is not getattr(be, "con", None):
            con.close()
        return ("backend", id(be))
    try:
        loads = tuple(con.execute("SELECT count(*), max(loaded_at)::VARCHAR FROM loads").fetchone())
    except Exception:   # noqa: BLE001  (no loads table: an ad-hoc database)
        loads = ()
    finally:
        con.close()
    return ("duckdb", path or id(be), loads)


# ---------------------------------------------------------------- resolution
def _span(years: Iterable[int]) -> str:
    ys = sorted({int(y) for y in years})
    if not ys:
        return "no years"
    return f"{ys[0]}–{ys[-1]}" if ys == list(range(ys[0], ys[-1] + 1)) and len(ys) > 1 else ", ".join(map(str, ys))


def _eligible(cov: pd.DataFrame, needs: Needs) -> pd.DataFrame:
    ok = cov["product_level"] >= needs.level
    if needs.bilateral:
        ok &= cov["partner_detail"] == "bilateral"
    if needs.provincial:
        ok &= cov["provincial"]
    if needs.frequency == "monthly":
        ok &= cov["months"] > 0
    return cov[ok]


def _requested(cov: pd.DataFrame, reporters, years, flows) -> pd.DataFrame:
    c = cov
    if reporters is not None:
        c = c[c["reporter"].isin(reporters)]
    if years is not None:
        c = c[c["year"].isin(years)]
    if flows is not None:
        c = c[c["flow"].isin(flows)]
    return c


def _missing_message(cov: pd.DataFrame, needs: Needs, reporters, years) -> str:
    """Why no dataset can answer: the first unmet need, then what the data hold for the request instead."""
    who = "+".join(reporters) if reporters else "the request"
    held = []
    for name, g in cov.groupby("dataset"):
        levels = "/".join(level_name(v) for v in sorted(g["product_level"].unique()))
        detail = "/".join(sorted(g["partner_detail"].unique()))
        freq = "monthly" if g["months"].max() > 0 else "annual"
        held.append(f"{name} ({levels}, {detail}, {freq}, {_span(g['year'])})")
    holds = ("; the data hold: " + "; ".join(held)) if held else ""
    if needs.provincial and not cov["provincial"].any():
        return ("the data hold no provincial (customs) rows, so no province can be selected; ingest national "
                "customs data with a province column first" + holds)
    if needs.bilateral and not (cov["partner_detail"] == "bilateral").any():
        return (f"no bilateral rows (partners other than WLD) for {who}: {needs.what} needs partner detail"
                + holds)
    if needs.level and not (cov["product_level"] >= needs.level).any():
        return (f"{needs.what} needs HS product detail (≥ {needs.level} digits); for {who} the data hold only "
                f"all-goods TOTAL or coarser rows" + holds)
    if needs.frequency == "monthly" and not (cov["months"] > 0).any():
        return f"{needs.what} needs monthly data; for {who} the data hold annual data only" + holds
    want = []
    if needs.level:
        want.append(f"HS product detail (≥ {needs.level} digits)")
    if needs.bilateral:
        want.append("partner (bilateral) detail")
    if needs.provincial:
        want.append("provincial rows")
    if needs.frequency == "monthly":
        want.append("monthly data")
    elif needs.frequency == "annual":
        want.append("complete years")
    return f"{needs.what} needs {' and '.join(want) or 'rows'} in one dataset for {who}" + holds


def resolve(data, *, reporter=None, years=None, flow=None, needs: Needs = Needs(),
            dataset: str | None = None) -> Resolution:
    """Choose the dataset for a request (see the module docstring); raise :class:`NoDataError` when none can.

    ``reporter``: ISO3 code(s) or None (all reporters); ``years``: list of ints or None; ``flow``: flow kinds
    or None.  The returned :class:`Resolution` carries the meta (dataset, coverage, warnings) to attach.
    """
    from tradepulse.indicators.specs import parse_years
    from tradepulse.indicators.specs import split_list as _split

    cov = coverage(data)
    reps = [r.upper() for r in _split(reporter)] if reporter is not None else None
    yrs = parse_years(years) if years is not None and not isinstance(years, list) else years
    flows = list(_split(flow)) if flow is not None else None
    if cov.empty:
        return Resolution(None, None, None)
    names = sorted(cov["dataset"].unique())
    if dataset is not None and dataset not in names:
        raise UnknownNameError("dataset", dataset, names)
    asked = _requested(cov, reps, yrs, flows)
    if asked.empty:   # nothing at all for this reporter/years: the selection's own checks will say so
        asked = _requested(cov, None, None, flows)
        reps = yrs = None
        if asked.empty:
            asked = cov
    cells = asked[["reporter", "year", "flow"]].drop_duplicates()
    elig = _eligible(asked, needs)
    if dataset is not None:
        elig = elig[elig["dataset"] == dataset]
    if elig.empty:
        scope = asked if not asked.empty else cov
        raise NoDataError(_missing_message(scope if dataset is None else scope[scope["dataset"] == dataset],
                                           needs, reps, yrs))
    scores = []
    for name, g in elig.groupby("dataset"):
        covered = g[["reporter", "year", "flow"]].drop_duplicates()
        # a reporter-year of monthly rows covers an annual request fully only with all 12 months
        full = g[(g["months"] == 0) | (g["months"] >= 12) | (needs.frequency != "annual")]
        n_full = len(full[["reporter", "year", "flow"]].drop_duplicates())
        monthly = bool(g["months"].max() > 0)
        freq_match = (needs.frequency != "annual") or not monthly
        if needs.frequency == "monthly":
            freq_match = monthly
        finest = int(g["product_level"].max())
        bilateral = bool((g["partner_detail"] == "bilateral").any())
        rank = max(SOURCE_RANK.get(str(s), 0) for s in g["source"].fillna(""))
        # national figures from a national dataset rather than from a sum of provinces
        national = needs.provincial or bool((~g["provincial"].astype(bool)).any())
        loads = [x for x in g["load_id"].unique() if x is not None]
        scores.append(((n_full, len(covered), freq_match, national, finest, bilateral, rank, max(map(str, loads), default="")),
                       name, covered, finest, g))
    scores.sort(key=lambda s: s[0], reverse=True)
    _score, name, covered, finest, g = scores[0]
    level = finest if needs.level > 0 or finest > 0 else 0
    load_ids = sorted({x for x in cov.loc[cov["dataset"] == name, "load_id"].unique()}, key=str)
    meta = ResultMeta(dataset=name, considered=[s[1] for s in scores])
    years_cov = sorted(int(y) for y in covered["year"].unique())
    meta.coverage = {
        "reporters": sorted(str(r) for r in covered["reporter"].unique())[:50],
        "n_reporters": int(covered["reporter"].nunique()),
        "years": years_cov, "flows": sorted(str(f) for f in covered["flow"].unique()),
        "product_level": level_name(level), "frequency": "monthly" if g["months"].max() > 0 else "annual",
        "partner_detail": ",".join(sorted(g["partner_detail"].unique())),
    }
    gaps = cells.merge(covered, how="left", indicator=True)
    gaps = gaps[gaps["_merge"] == "left_only"]
    if len(gaps) and (reps is not None or yrs is not None):
        sample = ", ".join(f"{r} {y}" for r, y in gaps[["reporter", "year"]].drop_duplicates().head(6)
                           .itertuples(index=False))
        meta.warn(Note(N_("dataset {name} does not cover {n} requested reporter-year-flow cell(s) ({sample}); "
                          "other datasets are not added to it"),
                       name=name, n=len(gaps), sample=sample + (", …" if len(gaps) > 6 else "")))
    others = [s[1] for s in scores[1:]]
    if others:
        meta.warn(Note(N_("read from dataset {name}; also in the warehouse for this request: {others} (never "
                          "summed; choose one with dataset=/--dataset)"), name=name, others=", ".join(others)))
    hs_levels = sorted(int(v) for v in g["product_level"].unique() if v > 0)
    if len(hs_levels) > 1:
        meta.warn(Note(N_("dataset {name} mixes HS levels ({levels}); they are read as distinct products — if "
                          "the coarse rows are totals of the fine ones, load them as separate datasets"),
                       name=name, levels=", ".join(level_name(v) for v in hs_levels)))
    if needs.frequency == "annual" and g["months"].max() > 0:
        meta.warn(Note(N_("annual figures summed from the monthly dataset {name} (complete years only)"), name=name))
    if needs.frequency == "annual":
        part = g[(g["months"] > 0) & (g["months"] < 12)].groupby(["reporter", "year"])["months"].max()
        if len(part):
            listed = ", ".join(f"{r} {y} ({m}/12)" for (r, y), m in list(part.items())[:6])
            meta.warn(Note(N_("{n} reporter-year(s) of the monthly dataset {name} are incomplete; their annual "
                              "figures are sums of the months present (months of 12): {listed}"),
                           n=len(part), name=name, listed=listed + (", …" if len(part) > 6 else "")))
    whole = cov[cov["dataset"] == name]
    return Resolution(name, load_ids, level, meta, sorted({str(s) for s in g["source"].dropna()}),
                      has_total=bool((whole["product_level"] == 0).any()), single_layer=_single_layer(whole))


def _single_layer(cov: pd.DataFrame) -> bool:
    """Does every (reporter, year, flow) of these coverage rows hold one layer only — 0 world totals
    (``partner_detail`` world), 1 national bilateral rows, 2 provincial rows (the layers of
    :func:`~tradepulse.indicators.selection.national_totals`)?  Any subset of the rows then has one too."""
    if cov.empty:
        return False
    bilateral = (cov["partner_detail"] == "bilateral").to_numpy()
    layer = pd.Series(np.where(bilateral, 1 + cov["provincial"].astype(bool).to_numpy(), 0), index=cov.index)
    per = layer.groupby([cov["reporter"], cov["year"], cov["flow"]], dropna=False).nunique()
    return bool(per.max() <= 1)


def apply(table, res: Resolution, needs: Needs):
    """Restrict an Ibis flows table to the resolved dataset's loads and product level (and complete years of
    monthly data for annual requests)."""
    if res.dataset is None:
        return table
    t = table
    ids = [x for x in (res.load_ids or []) if x is not None]
    has_load, has_source = "load_id" in t.columns, "source" in t.columns
    pred = t.load_id.cast("string").isin(ids) if ids and has_load else None   # NULL-typed on Spark otherwise
    if None in (res.load_ids or []) or not has_load:
        by_source = t.source.isin(res.sources) if (res.sources and has_source) else None
        null_pred = t.load_id.isnull() if has_load else None
        if by_source is not None:
            null_pred = by_source if null_pred is None else (null_pred & by_source)
        if null_pred is not None:
            pred = null_pred if pred is None else (pred | null_pred)
    if pred is not None:
        t = t.filter(pred)
    if res.level and res.has_total:   # the dataset has HS rows: its all-goods TOTAL rows are aggregates of them
        t = t.filter(t["product"] != "TOTAL")
    return t
