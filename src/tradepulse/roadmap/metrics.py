"""Target metrics as yearly series, computed from the warehouse with Ibis and converted to the target's calendar.

Base metrics (``value`` in current USD unless stated):

* ``exports``, ``imports`` — sum of ``value_usd`` of the reporter's flows in scope;
* ``total_trade`` = exports + imports; ``balance`` = exports − imports;
* ``non_oil_balance`` = balance over products outside the oil set (HS 2709/2710/2711, ``options.oil = "chapter27"``
  for all of chapter 27);
* ``market_share`` = reporter's exports in scope / all reporters' exports in the same product and partner scope
  (a fraction, 0.012 = 1.2 %), numerator and denominator from the same rows (WLD totals for a world share);
* ``n_products`` — distinct HS codes with exports > ``options.threshold`` (default 0) USD; ``n_markets`` —
  distinct partners (not WLD) with exports > threshold;
* ``import_saving`` — cumulative saving of imports against a counterfactual (see :mod:`.substitution`);
* axis metrics (``survival_1y``, ``product_hhi``, ``market_hhi``, ``n_markets_above``, ``n_new_rca``,
  ``eci_rank``, ``n_exporters``) — read from the indicator modules by :mod:`.axes`;
* ``indicator:<module>.<function>`` — any function of ``tradepulse.indicators.<module>`` (see :func:`indicator_series`).

**Which rows (the WLD rule of** :mod:`tradepulse.schema` **).**  Flows are tagged by level: *world* (partner = WLD),
*national* (bilateral, province NULL) and *province* (customs rows with province set).  Levels are never summed
together.  A world-scope series uses the world level when present; a partner-scope series uses national or
province rows.  One level is used for a whole series — the one covering most years (ties → world, then national)
— so a series never jumps between sources; ``scope.level`` forces one.

**Calendar.**  Series are built per Gregorian year and month and converted with :mod:`.calendar`: monthly data
to SH years by day weights (``method = "monthly-exact"``), annual data apportioned (``"annual-apportioned"``,
``estimate = True``); counts take the Gregorian year *y* + 621 (``"start-year"``, estimate).
"""

from __future__ import annotations

import importlib
import inspect
import operator

import ibis
import numpy as np
import pandas as pd

from tradepulse import reference
from tradepulse.errors import InputError, NoDataError, UnknownNameError
from tradepulse.indicators.selection import prefix_filter
from tradepulse.meta import ResultMeta, attach, meta_of, provenance
from tradepulse.roadmap import calendar as cal
from tradepulse.roadmap.axes import AXIS_METRICS, gregorian_series
from tradepulse.roadmap.lines import load_lines, saving_series, start_warnings
from tradepulse.roadmap.model import Scope, Target
from tradepulse.schema import WORLD

LEVEL_NAMES = {0: "world", 1: "national", 2: "province"}
LEVEL_CODES = {v: k for k, v in LEVEL_NAMES.items()}
SERIES_COLUMNS = ["year", "value", "estimate", "method"]
#: What the ``month`` column holds: Gregorian months (default), or Solar Hijri months stored by the ingest under
#: the Gregorian month holding their 15th day (``sh-months``: Farvardin → April … Esfand → March).
MONTHLY = ("gregorian", "sh-months")


# ---------------------------------------------------------------- data access
class Data:
    """Access to FLOWS and SERVICES tables of a warehouse, a path, or pandas frames (for tests and notebooks)."""

    def __init__(self, source, monthly: str = "gregorian"):
        from tradepulse.warehouse import Warehouse
        if monthly not in MONTHLY:
            raise InputError(f"monthly data must be one of {', '.join(MONTHLY)}, not {monthly!r}")
        self._own = None
        self.monthly = monthly
        if isinstance(source, Data):
            self.flows, self.services, self.warehouse = source.flows, source.services, source.warehouse
            return
        if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
            source = self._own = Warehouse(source, read_only=True)
        if isinstance(source, Warehouse):
            self.warehouse = source
            self.flows, self.services = source.flows(), source.services()
        elif isinstance(source, dict):
            self.warehouse = None
            self.flows = _mem(source.get("flows"), "flows")
            self.services = _mem(source.get("services"), "services")
        elif isinstance(source, (pd.DataFrame, ibis.Table)):
            self.warehouse = None
            self.flows = _mem(source, "flows")
            self.services = _mem(None, "services")
        else:
            raise TypeError(f"expected a Warehouse, a path, a FLOWS frame or a dict of frames, not {type(source)}")

    def close(self) -> None:
        if self._own is not None:
            self._own.close()


def _mem(frame, name: str) -> ibis.Table:
    from tradepulse import schema
    if isinstance(frame, ibis.Table):
        return frame
    cols = schema.FLOWS if name == "flows" else schema.SERVICES
    if frame is None:
        frame = pd.DataFrame({c: pd.Series(dtype="float64" if t == "DOUBLE" else "object")
                              for c, t in cols.items()})
    frame = frame.copy()
    for c, t in cols.items():
        if c not in frame.columns:
            frame[c] = None
    if "month" in frame.columns:
        frame["month"] = pd.to_numeric(frame["month"], errors="coerce").astype("Int64")
    frame["year"] = frame["year"].astype("int64")
    frame["value_usd"] = frame["value_usd"].astype("float64")
    for c, t in cols.items():
        if t == "VARCHAR":
            frame[c] = frame[c].astype("string")
    return ibis.memtable(frame[list(cols)])


# ---------------------------------------------------------------- scope resolution
def partner_members(names: tuple[str, ...]) -> tuple[str, ...]:
    """ISO3 members of partner names (ISO3 codes or country-group names); () = world."""
    out: list[str] = []
    for n in names:
        out.extend(reference.group_members(n))
    return tuple(dict.fromkeys(out))


def product_prefixes(names: tuple[str, ...], substitution_file=None) -> tuple[str, ...]:
    """HS prefixes of product names (HS codes or product-group names; ``@substitution`` = all listed lines)."""
    out: list[str] = []
    for n in names:
        if n == "@substitution":
            if substitution_file is None:
                raise InputError("product '@substitution' needs a substitution_file in the roadmap's [roadmap] table")
            out.extend(load_lines(substitution_file)["hs"].tolist())
        elif n.isdigit():
            out.append(n)
        else:
            out.extend(reference.product_group_prefixes(n))
    return tuple(dict.fromkeys(out))


# ---------------------------------------------------------------- goods
def dataset_rows(data: Data, scope: Scope, flow: str, *, detail: bool = False, all_reporters: bool = False
                 ) -> ibis.Table:
    """The FLOWS rows of the one dataset that best covers ``scope`` (the input rule of
    :mod:`tradepulse.indicators.inputs`; monthly or annual, whichever covers more; HS detail when products are
    selected).  Inside one metric call every series reads the same dataset."""
    from tradepulse.indicators.inputs import Needs
    from tradepulse.indicators.selection import select_dataset

    needs = Needs(level=2 if detail else 0, bilateral=bool(scope.partner), provincial=scope.province is not None,
                  frequency="any", what="this roadmap metric")
    source = data.warehouse if data.warehouse is not None else data.flows
    return select_dataset(source, needs, reporter=None if all_reporters else scope.reporter, flow=flow)


def goods_rows(data: Data, scope: Scope, flow: str, *, prefixes=(), exclude=(), all_reporters=False,
               ) -> ibis.Table:
    """FLOWS rows of ``flow`` in ``scope`` with an added ``level`` column (0 world, 1 national, 2 province)."""
    t = dataset_rows(data, scope, flow, detail=bool(prefixes or exclude), all_reporters=all_reporters)
    t = t.filter(t.flow == flow)
    if not all_reporters:
        t = t.filter(t.reporter == scope.reporter)
    partners = partner_members(scope.partner)
    if partners:
        t = t.filter(t.partner.isin(partners))
    if scope.province is not None:
        t = t.filter(t.province == scope.province)
    if prefixes:
        t = t.filter(prefix_filter(t.product, prefixes))
    if exclude:
        t = t.filter(~prefix_filter(t.product, exclude))
    level = ibis.cases((t.partner == WORLD, 0), (t.province.isnull(), 1), else_=2)
    return t.mutate(level=level)


def choose_level(frame: pd.DataFrame, forced: str = "auto") -> int | None:
    """The level used for a series: ``forced`` or the one with most distinct years (ties → lower code)."""
    if frame.empty:
        return None
    if forced != "auto":
        return LEVEL_CODES[forced]
    years = frame.groupby("level")["year"].nunique()
    best = years.max()
    return int(min(years[years == best].index))


def coverage(data: Data, scope: Scope, flow: str, exclude_world: bool = False) -> pd.DataFrame:
    """``level, year, month`` in which the reporter declares any ``flow`` (at levels the scope can use).

    A scope cell with no rows in such a period is a true zero (the reporter reported, nothing was traded);
    outside these periods it is missing.
    """
    t = dataset_rows(data, scope, flow)
    t = t.filter((t.reporter == scope.reporter) & (t.flow == flow))
    if scope.partner or exclude_world:
        t = t.filter(t.partner != WORLD)
    if scope.province is not None:
        t = t.filter(t.province.notnull())
    t = t.mutate(level=ibis.cases((t.partner == WORLD, 0), (t.province.isnull(), 1), else_=2))
    return t.select("level", "year", "month").distinct().to_pandas()


def goods_monthly(data: Data, scope: Scope, flow: str, *, prefixes=(), exclude=(), level=None,
                  all_reporters=False) -> tuple[pd.DataFrame, int | None]:
    """``(frame[year, month, value], level)``: sums by Gregorian year and month (month NaN = annual).

    For one reporter, periods the reporter covers (:func:`coverage`) with no rows in scope are filled with 0.
    The level is chosen among levels holding rows in scope, by the reporter's coverage (most years).
    """
    t = goods_rows(data, scope, flow, prefixes=prefixes, exclude=exclude, all_reporters=all_reporters)
    agg = (t.group_by(["level", "year", "month"]).aggregate(value=t.value_usd.sum()).to_pandas())
    agg = agg[agg["value"].notna()]
    if all_reporters:
        lvl = choose_level(agg, scope.level) if level is None else level
        if lvl is None:
            return pd.DataFrame(columns=["year", "month", "value"]), None
        return agg[agg["level"] == lvl][["year", "month", "value"]].reset_index(drop=True), lvl
    cov = coverage(data, scope, flow)
    if level is None:
        if scope.level != "auto":
            level = LEVEL_CODES[scope.level]
        else:
            level = choose_level(cov[cov["level"].isin(agg["level"].unique())])
    if level is None:
        return pd.DataFrame(columns=["year", "month", "value"]), None
    grid = cov[cov["level"] == level][["year", "month"]].astype({"year": int, "month": float})
    vals = agg[agg["level"] == level][["year", "month", "value"]].astype({"year": int, "month": float})
    out = grid.merge(vals, on=["year", "month"], how="left").fillna({"value": 0.0})
    return out.sort_values(["year", "month"]).reset_index(drop=True), level


def to_calendar(frame: pd.DataFrame, calendar: str, by: list[str] | None = None,
                monthly: str = "gregorian") -> pd.DataFrame:
    """Convert ``frame[by…, year, month, value]`` (Gregorian) to complete years of ``calendar``.

    Gregorian: annual sums of years that are complete (an annual row, or 12 months).  SH: SH years whose 13
    month-parts are all present are aggregated by day weights (exact, ``monthly-exact``); the others are
    apportioned from complete Gregorian years (``annual-apportioned``, estimate).  With ``monthly =
    "sh-months"`` each stored month is one whole SH month (:func:`calendar.sh_months_to_sh`) and a SH year
    with its 12 months is exact (``sh-months-exact``).  Returns ``by… + [year, value, estimate, method]``.
    """
    by = list(by or [])
    cols = by + SERIES_COLUMNS
    if frame.empty:
        return pd.DataFrame(columns=cols)
    f = frame.copy()
    f["year"] = f["year"].astype(int)
    months = f[f["month"].notna()]
    stats = f.assign(has_annual=f["month"].isna()).groupby(by + ["year"]).agg(
        has_annual=("has_annual", "any"), months=("month", "nunique"), value=("value", "sum"))
    complete = stats[stats["has_annual"] | (stats["months"] == 12)]
    annual = complete.reset_index()[by + ["year", "value"]]
    if calendar == "gregorian":
        return annual.assign(estimate=False, method="gregorian")[cols]
    parts = []
    if not months.empty and monthly == "sh-months":
        exact = cal.sh_months_to_sh(months.astype({"month": int}), value="value", by=by)
        exact = exact[exact["months"] == 12]
        parts.append(exact.rename(columns={"sh_year": "year"}).assign(estimate=False, method="sh-months-exact"))
    elif not months.empty:
        exact = cal.monthly_to_sh(months.astype({"month": int}), value="value", by=by)
        exact = exact[exact["months"] == 13]
        parts.append(exact.rename(columns={"sh_year": "year"}).assign(estimate=False, method="monthly-exact"))
    if not annual.empty:
        est = cal.annual_to_sh(annual, value="value", by=by)
        parts.append(est.rename(columns={"sh_year": "year"}).assign(estimate=True, method="annual-apportioned"))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat([p[cols] for p in parts], ignore_index=True)
    out["year"] = out["year"].astype(int)
    out = out.sort_values(by + ["year", "estimate"]).drop_duplicates(by + ["year"], keep="first")
    return out.reset_index(drop=True)


def _combine(a: pd.DataFrame, b: pd.DataFrame, op) -> pd.DataFrame:
    """Join two calendar series on year (inner) and combine values with ``op``."""
    m = a.merge(b, on="year", suffixes=("_a", "_b"))
    return pd.DataFrame({"year": m["year"], "value": op(m["value_a"].to_numpy(float), m["value_b"].to_numpy(float)),
                         "estimate": m["estimate_a"] | m["estimate_b"],
                         "method": np.where(m["method_a"] == m["method_b"], m["method_a"],
                                            m["method_a"] + "+" + m["method_b"])})


def _flow_series(data, scope, flow, calendar, prefixes=(), exclude=()):
    frame, _ = goods_monthly(data, scope, flow, prefixes=prefixes, exclude=exclude)
    return to_calendar(frame, calendar, monthly=data.monthly)


def _combined_flows(data, scope, calendar, prefixes, exclude, sign):
    ex = _flow_series(data, scope, "export", calendar, prefixes, exclude)
    im = _flow_series(data, scope, "import", calendar, prefixes, exclude)
    if ex.empty and im.empty:
        return ex
    # a flow with no rows at all counts as zero (e.g. no recorded imports from a partner)
    if ex.empty:
        ex = im.assign(value=0.0)
    if im.empty:
        im = ex.assign(value=0.0)
    return _combine(ex, im, (lambda a, b: a + b) if sign > 0 else (lambda a, b: a - b))


def market_share(data: Data, scope: Scope, calendar: str, prefixes=()) -> pd.DataFrame:
    """Reporter's exports / all reporters' exports in the same scope, both from the same level of rows, in the
    years the reporter reports."""
    den_frame, lvl = goods_monthly(data, scope, "export", prefixes=prefixes, all_reporters=True)
    if lvl is None:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    num_frame, _ = goods_monthly(data, scope, "export", prefixes=prefixes, level=lvl)
    num = to_calendar(num_frame, calendar, monthly=data.monthly)
    den = to_calendar(den_frame, calendar, monthly=data.monthly)
    # years the reporter reports (zeros filled inside them); other years are missing, not a zero share
    return _combine(num, den, lambda a, b: np.divide(a, b, out=np.full_like(a, np.nan), where=b != 0))


def count_series(data: Data, scope: Scope, calendar: str, what: str, prefixes=(), threshold: float = 0.0,
                 ) -> pd.DataFrame:
    """Distinct products or partners with annual exports above ``threshold``, per year (0 in years the reporter
    reports without any in scope)."""
    t = goods_rows(data, scope, "export", prefixes=prefixes)
    if what == "partner":
        t = t.filter(t.partner != WORLD)
    agg = t.group_by(["level", "year", what]).aggregate(value=t.value_usd.sum()).to_pandas()
    cov = coverage(data, scope, "export", exclude_world=what == "partner")
    if scope.level != "auto":
        lvl = LEVEL_CODES[scope.level]
    else:
        lvl = choose_level(cov[cov["level"].isin(agg["level"].unique())])
    if lvl is None:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    agg = agg[(agg["level"] == lvl) & (agg["value"] > threshold)]
    years = pd.Index(sorted(cov.loc[cov["level"] == lvl, "year"].astype(int).unique()), name="year")
    counts = agg.astype({"year": int}).groupby("year")[what].nunique().reindex(years, fill_value=0)
    counts = counts.rename("value").reset_index()
    if calendar == "SH":
        counts["year"] = counts["year"] - cal.SH_OFFSET
        return counts.assign(value=counts["value"].astype(float), estimate=True, method="start-year")[SERIES_COLUMNS]
    return counts.assign(value=counts["value"].astype(float), estimate=False, method="gregorian")[SERIES_COLUMNS]


# ---------------------------------------------------------------- services
def services_series(data: Data, scope: Scope, flow: str, calendar: str) -> pd.DataFrame:
    """SERVICES of ``flow`` in scope (EBOPS prefixes, partners; WLD rule and zeros in reported years as for
    goods), annual → calendar."""
    base = data.services
    base = base.filter((base.reporter == scope.reporter) & (base.flow == flow))
    base = base.mutate(level=ibis.ifelse(base.partner == WORLD, 0, 1))
    t = base
    partners = partner_members(scope.partner)
    if partners:
        t = t.filter(t.partner.isin(partners))
    if scope.ebops:
        t = t.filter(prefix_filter(t.ebops.upper(), scope.ebops))
    agg = t.group_by(["level", "year"]).aggregate(value=t.value_usd.sum()).to_pandas()
    cov = base.select("level", "year").distinct().to_pandas()  # years the reporter reports this flow
    if scope.level in ("world", "national"):
        lvl = LEVEL_CODES[scope.level]
    else:
        lvl = choose_level(cov[cov["level"].isin(agg["level"].unique())])
    if lvl is None:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    years = pd.DataFrame({"year": sorted(cov.loc[cov["level"] == lvl, "year"].astype(int).unique())})
    frame = years.merge(agg[agg["level"] == lvl][["year", "value"]].astype({"year": int}), on="year", how="left")
    frame = frame.fillna({"value": 0.0}).assign(month=np.nan)
    return to_calendar(frame, calendar, monthly=data.monthly)


# ---------------------------------------------------------------- indicators
def indicator_series(data: Data, target: Target) -> pd.DataFrame:
    """``indicator:<module>.<function>``: call ``tradepulse.indicators.<module>.<function>`` and read a yearly value.

    Options: ``input`` = ``"warehouse"`` (default; the Warehouse), ``"table"`` (Ibis FLOWS) or ``"frame"`` (pandas
    FLOWS of all reporters); ``args`` = keyword arguments (``reporter`` = the scope reporter unless given, when
    the function takes one); ``column`` = value column (default ``value``, else the
    only numeric column besides ``year``).  The result must have a ``year`` column (Gregorian); rows are kept
    where a ``reporter``/``exporter``/``iso3``/``country`` column equals the scope reporter.  SH years are
    apportioned (a weighted average of the two Gregorian years for intensive indicators), labelled estimate.
    """
    mod_name, func_name = target.metric.split(":", 1)[1].split(".")
    try:
        module = importlib.import_module(f"tradepulse.indicators.{mod_name}")
    except ModuleNotFoundError:
        raise UnknownNameError("indicator module", mod_name) from None
    func = getattr(module, func_name, None)
    if not callable(func):
        known = [n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))]
        raise UnknownNameError(f"function of tradepulse.indicators.{mod_name}", func_name, known)
    opts = target.options
    kind = opts.get("input", "warehouse")
    if kind == "warehouse":
        arg = data.warehouse if data.warehouse is not None else data.flows
    elif kind == "table":
        arg = data.flows
    elif kind == "frame":
        arg = data.flows.to_pandas()
    else:
        raise InputError(f"target {target.id!r}: options.input must be warehouse, table or frame, not {kind!r}")
    kwargs = dict(opts.get("args", {}))
    if "reporter" not in kwargs and "reporter" in inspect.signature(func).parameters:
        kwargs["reporter"] = target.scope.reporter   # the target's reporter unless the file names one
    result = func(arg, **kwargs)
    if isinstance(result, ibis.Table):
        result = result.to_pandas()
    if isinstance(result, pd.Series):
        result = result.rename("value").rename_axis("year").reset_index()
    if not isinstance(result, pd.DataFrame) or "year" not in result.columns:
        raise InputError(f"target {target.id!r}: {target.metric} must return a frame with a 'year' column")
    for key in ("reporter", "exporter", "iso3", "country"):
        if key in result.columns:
            result = result[result[key] == target.scope.reporter]
            break
    column = opts.get("column")
    if column is None:
        numeric = [c for c in result.select_dtypes("number").columns if c != "year"]
        column = "value" if "value" in result.columns else (numeric[0] if len(numeric) == 1 else None)
    if column is None or column not in result.columns:
        raise InputError(f"target {target.id!r}: set options.column to one of {list(result.columns)}")
    frame = result.groupby("year", as_index=False)[column].sum().rename(columns={column: "value"})
    frame["month"] = np.nan
    return to_calendar(frame, target.calendar, monthly=data.monthly)


def axis_series(source, metric: str, reporter: str, calendar: str, options: dict, monthly: str, *,
                window=None, memo: dict | None = None) -> pd.DataFrame:
    """An axis metric of :mod:`.axes` in ``calendar``: ratios apportioned (day-weighted average of the two
    Gregorian years), counts by the start-year rule (SH y = Gregorian y + 621), both estimates.  ``window``,
    ``memo``: Gregorian years to compute and the evaluation's shared results (:func:`.axes.gregorian_series`)."""
    g = gregorian_series(source, metric, reporter, options, years=window, memo=memo)
    meta = meta_of(g)
    if calendar == "gregorian":
        out = g.assign(estimate=False, method="gregorian")[SERIES_COLUMNS]
    elif AXIS_METRICS[metric][1] == "count":
        out = g.assign(year=g["year"] - cal.SH_OFFSET, estimate=True, method="start-year")[SERIES_COLUMNS]
    else:
        out = to_calendar(g.assign(month=np.nan), calendar, monthly=monthly)
    return attach(out.reset_index(drop=True), meta)


# ---------------------------------------------------------------- dispatch
@provenance
def metric_series(data, target: Target, *, substitution_file=None, window=None, memo: dict | None = None
                  ) -> pd.DataFrame:
    """Yearly series of ``target``'s metric in its calendar: ``year, value, estimate, method``.

    ``window`` (Gregorian years) and ``memo`` reach the axis metrics (:func:`.axes.gregorian_series`): a
    local metric is computed on those years only, and results several targets read are computed once."""
    data = data if isinstance(data, Data) else Data(data)
    sc, calendar, m = target.scope, target.calendar, target.metric
    if m.startswith("indicator:"):
        return indicator_series(data, target)
    if m in AXIS_METRICS:
        source = data.warehouse if data.warehouse is not None else data.flows
        return axis_series(source, m, sc.reporter, calendar, target.options, data.monthly, window=window,
                           memo=memo)
    if sc.trade == "services":
        if m in ("exports", "imports"):
            return services_series(data, sc, m[:-1], calendar)
        if m in ("total_trade", "balance"):
            ex = services_series(data, sc, "export", calendar)
            im = services_series(data, sc, "import", calendar)
            if ex.empty and im.empty:
                return ex
            ex = ex if not ex.empty else im.assign(value=0.0)
            im = im if not im.empty else ex.assign(value=0.0)
            return _combine(ex, im, operator.add if m == "total_trade" else operator.sub)
        raise InputError(f"target {target.id!r}: metric {m!r} is not available for services")
    prefixes = product_prefixes(sc.product, substitution_file)
    if m in ("exports", "imports"):
        return _flow_series(data, sc, m[:-1], calendar, prefixes)
    if m == "total_trade":
        return _combined_flows(data, sc, calendar, prefixes, (), +1)
    if m == "balance":
        return _combined_flows(data, sc, calendar, prefixes, (), -1)
    if m == "non_oil_balance":
        oil = reference.oil_prefixes(target.options.get("oil", "narrow"))
        return _combined_flows(data, sc, calendar, prefixes, oil, -1)
    if m == "market_share":
        return market_share(data, sc, calendar, prefixes)
    if m in ("n_products", "n_markets"):
        return count_series(data, sc, calendar, "product" if m == "n_products" else "partner", prefixes,
                            float(target.options.get("threshold", 0.0)))
    if m == "import_saving":
        imports = _flow_series(data, sc, "import", calendar, prefixes)
        out = saving_series(imports, target)
        if substitution_file is not None and target.baseline_year is not None:
            meta = ResultMeta(coverage={"first_after_year": target.baseline_year + 1})
            for sentence in start_warnings(load_lines(substitution_file), prefixes, target.baseline_year, calendar):
                meta.warn(f"target {target.id}: {sentence}")
            attach(out, meta)
        return out
    raise NoDataError(f"metric {m!r} is not implemented")
