"""Data behind the dashboard: cached, read-only calls into the tradepulse Python API.

Every table shown on a page, served by the JSON API or downloaded as CSV / Excel is a *table spec*
(:data:`TABLES`): a function ``(ctx, params) -> DataFrame``.  Results are cached per warehouse
``(path, mtime)`` (a new ingest invalidates the cache) — the dashboard never writes to the warehouse
and opens it read-only.

Conventions:
- Focus country = ``ctx.focus`` (default :data:`tradepulse.config.DEFAULT_FOCUS`, Iran).
- WLD rule (:mod:`tradepulse.schema`): a reporter's yearly export/import total is the sum of its
  ``partner == WLD`` rows when it has any for that year and flow; otherwise the sum of its national
  bilateral rows (``province`` NULL); otherwise the sum of its provincial (customs) rows.
- Oil = :func:`tradepulse.reference.oil_prefixes` ``narrow`` (HS 2709, 2710, 2711); non-oil = the rest.
- A section whose module has not landed raises :class:`Unavailable` (shown as "not available yet").
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import ibis
import pandas as pd

from tradepulse import reference, schema
from tradepulse.config import DEFAULT_FOCUS
from tradepulse.errors import NoDataError, TradepulseError


class Unavailable(Exception):
    """A section needs a module (or function) that is not in this build yet."""

    def __init__(self, what: str):
        self.what = what
        super().__init__(what)


def require(module: str, attr: str | None = None) -> Any:
    """Import ``module`` (and get ``attr``) or raise :class:`Unavailable` naming what is missing."""
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise Unavailable(f"{module} ({exc})") from None
    if attr is None:
        return mod
    obj = getattr(mod, attr, None)
    if obj is None:
        raise Unavailable(f"{module}.{attr}")
    return obj


@dataclass(frozen=True)
class Params:
    """Filters common to every table (all optional)."""

    year: int | None = None
    partner: str | None = None
    product: str | None = None
    province: str | None = None
    lang: str = "en"

    def key(self) -> tuple:
        return (self.year, self.partner, self.product, self.province, self.lang)


class DataContext:
    """One warehouse (read-only) plus the working-group database URL, with a result cache.

    Results are cached in memory keyed by ``(warehouse mtime, table, params)``, LRU-bounded; a new file
    version clears the cache.  The DuckDB connection is opened read-only **only while computing** cache
    misses and closed afterwards: an open DuckDB connection, even read-only, holds a file lock that would
    stop ``tradepulse ingest`` from writing while the dashboard runs.  Computations are serialised by a
    lock (a DuckDB connection is not thread-safe); cache hits never touch the database.
    """

    def __init__(self, warehouse_path: str | Path, groups_url: str | None = None, *,
                 focus: str = DEFAULT_FOCUS, cache_size: int = 256):
        self.path = Path(warehouse_path)
        self.groups_url = groups_url
        self.focus = focus
        self._lock = threading.RLock()
        self._wh = None
        self._depth = 0
        self._mtime: float | None = None
        self._cache: OrderedDict[tuple, Any] = OrderedDict()
        self._cache_size = cache_size
        self._session_factory = None
        self._charts: OrderedDict[str, bytes] = OrderedDict()

    # -- warehouse
    def mtime(self) -> float:
        try:
            return self.path.stat().st_mtime
        except FileNotFoundError:
            return -1.0

    def _check_version(self) -> None:
        m = self.mtime()
        if m != self._mtime:
            self._mtime = m
            self._cache.clear()
            if self._wh is not None and self._depth == 0:
                self._wh.close()
                self._wh = None

    def warehouse(self):
        """The read-only :class:`~tradepulse.warehouse.Warehouse` (call inside :meth:`cached` computations;
        it is closed when the outermost computation ends)."""
        from tradepulse.warehouse import Warehouse
        with self._lock:
            self._check_version()
            if self._wh is None:
                try:
                    self._wh = Warehouse(self.path, read_only=True)
                except TradepulseError:
                    raise
                except Exception as exc:  # noqa: BLE001 - e.g. DuckDB's lock conflict while ingest writes
                    raise TradepulseError(f"cannot open the warehouse {self.path} for reading ({exc}); "
                                          "an ingest may be writing it — try again shortly") from None
            return self._wh

    def cached(self, key: tuple, fn: Callable[[], Any]) -> Any:
        """``fn()`` cached under ``key`` for the current warehouse version (user errors are cached too)."""
        with self._lock:
            self._check_version()
            full = (self._mtime, *key)
            if full in self._cache:
                self._cache.move_to_end(full)
                hit = self._cache[full]
            else:
                self._depth += 1
                try:
                    hit = ("ok", fn())
                except (TradepulseError, Unavailable) as exc:
                    hit = ("err", exc)
                finally:
                    self._depth -= 1
                    if self._depth == 0 and self._wh is not None:
                        self._wh.close()
                        self._wh = None
                if not (hit[0] == "err" and "cannot open the warehouse" in str(hit[1])):
                    self._cache[full] = hit          # a transient lock conflict is not remembered
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        if hit[0] == "err":
            raise hit[1]
        return hit[1]

    def remember_chart(self, name: str, body: bytes) -> None:
        """Keep a chart dataset (content-addressed by ``name``) for ``/charts/data``; the 128 most recent."""
        with self._lock:
            self._charts[name] = body
            self._charts.move_to_end(name)
            while len(self._charts) > 128:
                self._charts.popitem(last=False)

    def chart(self, name: str) -> bytes | None:
        with self._lock:
            return self._charts.get(name)

    def peek(self, key: tuple) -> Any | None:
        """The cached successful value for ``key`` (current warehouse version), or None; never computes."""
        with self._lock:
            if self.mtime() != self._mtime:
                return None
            hit = self._cache.get((self._mtime, *key))
        return hit[1] if hit is not None and hit[0] == "ok" else None

    def flows(self) -> ibis.Table:
        return self.warehouse().flows()

    # -- working groups
    def session(self):
        """A new SQLAlchemy session on the working-group database (migrated to head once)."""
        if not self.groups_url:
            raise Unavailable("working-group database (start with --groups-db)")
        db = require("tradepulse.groups.db")
        with self._lock:
            if self._session_factory is None:
                self._session_factory = db.session_factory(self.groups_url)
        return self._session_factory()

    def close(self) -> None:
        with self._lock:
            if self._wh is not None:
                self._wh.close()
                self._wh = None


# ---------------------------------------------------------------- table functions
def _balance(ctx: DataContext, p: Params, by: str, years) -> pd.DataFrame:
    """:func:`tradepulse.indicators.balance.trade_balance` of the focus country (cached)."""
    trade_balance = require("tradepulse.indicators.balance", "trade_balance")
    return ctx.cached(("balance", ctx.focus, by, years, p.partner, p.product, p.province),
                      lambda: trade_balance(ctx.warehouse(), reporter=ctx.focus, years=years, by=by,
                                            partner=p.partner, product=p.product, province=p.province))


def table_trade(ctx: DataContext, p: Params) -> pd.DataFrame:
    """Exports, imports, balance and non-oil balance of the focus country by year (newest first)."""
    df = _balance(ctx, p, "total", p.year)
    return df.sort_values("year", ascending=False).reset_index(drop=True)


def latest_year(ctx: DataContext) -> int:
    """The latest year with export or import rows for the focus country."""
    df = _balance(ctx, Params(), "total", None)
    return int(df["year"].max())


def _breakdown(ctx: DataContext, p: Params, by: str) -> pd.DataFrame:
    year = p.year if p.year is not None else latest_year(ctx)
    df = _balance(ctx, p, by, year).copy()
    tot = df["exports"].sum()
    df["export_share"] = df["exports"] / tot if tot else float("nan")
    return df.sort_values("exports", ascending=False).reset_index(drop=True)


def table_partners(ctx: DataContext, p: Params) -> pd.DataFrame:
    """Focus country's exports / imports by partner in one year (default: latest), largest first."""
    df = _breakdown(ctx, p, "partner")
    names = reference.countries().set_index("iso3")["name_fa" if p.lang == "fa" else "name_en"]
    df.insert(2, "partner_name", df["partner"].map(names).fillna(df["partner"]))
    return df


def table_products(ctx: DataContext, p: Params) -> pd.DataFrame:
    """Focus country's exports / imports by HS product in one year (default: latest), largest first."""
    df = _breakdown(ctx, p, "product")
    df.insert(2, "product_name", df["product"].astype(str).map(_product_names()).fillna(""))
    return df


@functools.cache
def _product_names() -> pd.Series:
    hs4 = reference.hs_products("HS1992", 4).set_index("code")["name_short_en"]
    hs2 = reference.hs_products("HS1992", 2).set_index("code")["name_short_en"]
    hs6 = reference.hs_products("HS1992", 6).set_index("code")["name_short_en"]
    return pd.concat([hs2, hs4, hs6]).astype(str)


def table_provinces(ctx: DataContext, p: Params) -> pd.DataFrame:
    """Exports / imports by province and year (customs rows), newest year and largest exporter first."""
    df = _balance(ctx, p, "province", p.year)
    return df.sort_values(["year", "exports"], ascending=[False, False]).reset_index(drop=True)


#: Most FLOWS rows one download may return (Excel's sheet limit); larger selections must be filtered.
MAX_DOWNLOAD_ROWS = 1_000_000


def _flows_expr(ctx: DataContext, p: Params):
    select_flows = require("tradepulse.indicators.selection", "select_flows")
    t = select_flows(ctx.warehouse(), partner=p.partner, product=p.product, province=p.province, years=p.year)
    cols = [c for c in schema.FLOWS if c != "load_id"]
    return t.select(cols).order_by(["year", "month", "reporter", "partner", "product", "flow", "province",
                                    "hs_revision", "source", "value_usd"])


def flows_page(ctx: DataContext, p: Params, limit: int, offset: int) -> tuple[int, pd.DataFrame]:
    """One page of raw FLOWS rows, counted and sliced in the database (the table can hold millions of rows)."""
    def count() -> int:
        return int(_flows_expr(ctx, p).count().execute())

    def page() -> pd.DataFrame:
        return _flows_expr(ctx, p).limit(limit, offset=offset).to_pandas()
    total = ctx.cached(("flows-count", p.key()[:4]), count)
    return total, ctx.cached(("flows-page", p.key()[:4], limit, offset), page)


def table_flows(ctx: DataContext, p: Params) -> pd.DataFrame:
    """Raw FLOWS rows of any reporter, filtered — whole selection (downloads; refused above
    :data:`MAX_DOWNLOAD_ROWS`).  The API pages through :func:`flows_page` instead."""
    total, _ = flows_page(ctx, p, 1, 0)
    if total > MAX_DOWNLOAD_ROWS:
        raise TradepulseError(f"{total:,} flow rows match; add filters (year, partner, product, province) "
                              f"to select at most {MAX_DOWNLOAD_ROWS:,}")
    return ctx.cached(("flows", p.key()[:4]), lambda: _flows_expr(ctx, p).to_pandas())


@dataclass(frozen=True)
class TableSpec:
    name: str
    title: str                     # page key of the table (an identifier, not shown to users)
    func: Callable[[DataContext, Params], pd.DataFrame]
    filters: tuple[str, ...] = ("year", "partner", "product", "province")
    description: str = ""
    cacheable: bool = True         # False for working-group tables (they change with every edit)


TABLES: dict[str, TableSpec] = {}


def register(spec: TableSpec) -> TableSpec:
    TABLES[spec.name] = spec
    return spec


register(TableSpec("trade", "overview", table_trade,
                   "Focus country's exports, imports and balances (total and non-oil) by year."))
register(TableSpec("partners", "top_partners", table_partners,
                   description="Focus country's bilateral exports and imports by partner for one year "
                               "(default: latest)."))
register(TableSpec("products", "top_products", table_products,
                   description="Focus country's bilateral exports and imports by HS product for one year "
                               "(default: latest)."))
register(TableSpec("provinces", "provinces", table_provinces,
                   description="Exports and imports by province and year (customs rows)."))
register(TableSpec("flows", "flows", table_flows,
                   description="Canonical FLOWS rows (all reporters), filtered."))


# ---------------------------------------------------------------- indicator modules (other engineers)
def table_diversification(ctx: DataContext, p: Params) -> pd.DataFrame:
    """Product and market diversification of the focus country by year (HHI, Theil, UNCTAD index)."""
    div = require("tradepulse.indicators.diversification")

    def f() -> pd.DataFrame:
        wh = ctx.warehouse()
        prod = div.product_diversification(wh, reporter=ctx.focus, years=p.year, partner=p.partner,
                                           product=p.product, level=4)
        mkt = div.market_diversification(wh, reporter=ctx.focus, years=p.year, product=p.product,
                                         partner=p.partner)
        prod = prod[prod["reporter"] == ctx.focus].assign(dimension="products")
        mkt = mkt[mkt["reporter"] == ctx.focus].assign(dimension="markets")
        out = pd.concat([prod, mkt], ignore_index=True)
        cols = ["dimension", "year"] + [c for c in out.columns if c not in ("dimension", "year", "reporter")]
        return out[cols].sort_values(["dimension", "year"], ascending=[False, False]).reset_index(drop=True)
    return ctx.cached(("diversification", ctx.focus, p.key()[:4]), f)


def table_survival(ctx: DataContext, p: Params) -> pd.DataFrame:
    """Kaplan–Meier survival of the focus country's export relationships (partner × HS4).

    Curves: all relationships, and relationships with Iran's neighbours vs the rest (``neighbours15``).
    """
    surv = require("tradepulse.indicators.survival")

    def f() -> pd.DataFrame:
        spells = surv.export_spells(ctx.warehouse(), reporter=ctx.focus, partner=p.partner, product=p.product,
                                    province=p.province)
        near = set(reference.country_groups().get("neighbours15").members) \
            if "neighbours15" in reference.country_groups() else set()
        spells = spells.assign(group=spells["partner"].isin(near).map({True: "neighbours15", False: "other"}))
        overall = surv.kaplan_meier(spells).assign(group="all")
        by = surv.kaplan_meier(spells, by="group")
        out = pd.concat([overall, by], ignore_index=True)
        out = out.rename(columns={"time": "duration"})
        return out[["group", *[c for c in out.columns if c != "group"]]]
    return ctx.cached(("survival", ctx.focus, p.key()[:4]), f)


def _wld_exports(ctx: DataContext, year: int | None) -> pd.DataFrame:
    """``year, exporter, product, export_value`` at HS4 for complexity, one year (default: the latest).

    Each exporter's world exports by the WLD rule (:func:`~tradepulse.indicators.selection.national_totals`):
    its world-total (partner WLD) rows where it has them, else its bilateral rows summed over partners — so
    a BACI-only warehouse (no WLD rows) has complexity too.  HS6 codes are cut to HS4; all-goods and other
    non-HS product codes are left out."""
    def f() -> pd.DataFrame:
        from tradepulse.indicators.selection import national_totals
        t = ctx.flows()
        t = t.filter((t.flow == "export") & t["product"].re_search(r"^[0-9]{4}([0-9]{2})?$"))
        y = year
        if y is None:
            y = t.year.max().execute()
            if y is None or pd.isna(y):
                raise NoDataError("no export rows with HS4 or HS6 products for complexity")
            y = int(y)
        t = t.filter(t.year == y)
        t = t.mutate(product=t["product"].substr(0, 4))
        frame = (national_totals(t, ["year", "reporter", "product"]).rename(exporter="reporter",
                                                                             export_value="value_usd")
                 .to_pandas())
        if frame.empty:
            raise NoDataError(f"no export rows with HS4 or HS6 products in {y} for complexity")
        return frame
    return ctx.cached(("wld-exports", year), f)


def _complexity_result(ctx: DataContext, year: int | None) -> pd.DataFrame:
    """Complexity indicators for all countries in one year, from world-total export rows (WLD rule)."""
    cx = require("tradepulse.indicators.complexity", "complexity")
    return ctx.cached(("complexity-all", year), lambda: cx(_wld_exports(ctx, year), exporter="exporter",
                                                            product="product", value="export_value",
                                                            year="year"))


def product_space_frames(ctx: DataContext, year: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nodes and edges of the product space picture (:mod:`tradepulse.web.space`) for one year."""
    prox_fn = require("tradepulse.indicators.complexity", "proximity")
    from tradepulse.web import space

    def f():
        prox = prox_fn(_wld_exports(ctx, year), exporter="exporter", product="product", value="export_value",
                       year="year", include_diagonal=False)
        res = _complexity_result(ctx, year)
        return space.product_space(prox, res[res["exporter"] == ctx.focus][["product", "rca"]])
    return ctx.cached(("product-space", ctx.focus, year), f)


def table_complexity(ctx: DataContext, p: Params) -> pd.DataFrame:
    """Focus country's row of the complexity result per HS4 product (RCA, density, PCI, COG), by RCA."""
    res = _complexity_result(ctx, p.year)
    df = res[res["exporter"] == ctx.focus].copy()
    if df.empty:
        raise NoDataError(f"{ctx.focus} is not in the complexity result (too few exports?)")
    if p.product:
        from tradepulse.indicators.selection import resolve_products
        df = df[df["product"].astype(str).str.startswith(resolve_products(p.product))]
    df.insert(3, "product_name", df["product"].astype(str).map(_product_names()).fillna(""))
    return df.sort_values("rca", ascending=False).reset_index(drop=True)


def table_opportunities(ctx: DataContext, p: Params) -> pd.DataFrame:
    opp = require("tradepulse.indicators.complexity", "opportunities")
    res = _complexity_result(ctx, p.year)
    df = ctx.cached(("opportunities", ctx.focus, p.year), lambda: opp(res, ctx.focus, strategy="balanced"))
    df = df.copy()
    if "product" in df.columns:
        df.insert(1, "product_name", df["product"].astype(str).map(_product_names()).fillna(""))
    return df


def table_potential(ctx: DataContext, p: Params) -> pd.DataFrame:
    pot = require("tradepulse.indicators.potential")

    def f() -> pd.DataFrame:
        res = pot.export_potential(ctx.warehouse(), ctx.focus, province=p.province, year=p.year)
        return pot.by_product(res)
    return ctx.cached(("potential", ctx.focus, p.province, p.year), f)


def table_end_use(ctx: DataContext, p: Params) -> pd.DataFrame:
    """Focus country's exports by BEC end use (capital / intermediate / consumption) per year, newest first
    (:func:`tradepulse.indicators.technology.bec_shares`)."""
    bec_shares = require("tradepulse.indicators.technology", "bec_shares")

    def f() -> pd.DataFrame:
        df = bec_shares(ctx.warehouse(), reporter=ctx.focus, years=p.year, partner=p.partner, product=p.product,
                        province=p.province)
        return df.sort_values(["year", "share"], ascending=[False, False]).reset_index(drop=True)
    return ctx.cached(("end-use", ctx.focus, p.key()[:4]), f)


def table_market_fit(ctx: DataContext, p: Params) -> pd.DataFrame:
    """Trade complementarity (Michaely 1996) and trade intensity with every partner, one year
    (:func:`tradepulse.indicators.market_choice.partner_indices`), by complementarity."""
    partner_indices = require("tradepulse.indicators.market_choice", "partner_indices")

    def f() -> pd.DataFrame:
        df = partner_indices(ctx.warehouse(), ctx.focus, province=p.province, year=p.year, partners=p.partner)
        names = reference.countries().set_index("iso3")["name_fa" if p.lang == "fa" else "name_en"]
        df.insert(df.columns.get_loc("partner") + 1, "partner_name", df["partner"].map(names).fillna(df["partner"]))
        return df
    return ctx.cached(("market-fit", ctx.focus, p.key()), f)


#: Columns of the exporters table (:func:`table_exporters`).
EXPORTER_COLUMNS = ["year", "province", "n_exporters", "exports", "mean_exports", "top5_share", "entry_rate",
                    "exit_rate", "entrant_survival", "mean_products", "mean_markets"]


def table_exporters(ctx: DataContext, p: Params) -> pd.DataFrame:
    """Exporters of the focus country by province and year — private-sector capability (World Bank Exporter
    Dynamics Database definitions, :mod:`tradepulse.indicators.firms`): number of exporters, exports, mean per
    exporter, top-5 % share, entry / exit rates and first-year survival of entrants, products and markets per
    exporter.  Needs firm-level customs rows (table ``firm_flows``)."""
    firms = require("tradepulse.indicators.firms")

    def f() -> pd.DataFrame:
        # one selection and aggregation for both the profile and the dynamics
        cells = firms.firm_cells(ctx.warehouse(), reporter=ctx.focus, by="province", partner=p.partner,
                                 product=p.product, province=p.province)
        unit = cells.attrs["unit"]
        prof = firms.profile_from_cells(cells, unit)
        try:   # rates need the year before; computed on the whole panel, then the year filter applies
            dyn = firms.dynamics_from_cells(cells, unit, cells.attrs["panel_years"])[
                ["year", "province", "entry_rate", "exit_rate", "entrant_survival"]]
            prof = prof.merge(dyn, on=["year", "province"], how="left")
        except NoDataError:
            prof = prof.assign(entry_rate=float("nan"), exit_rate=float("nan"), entrant_survival=float("nan"))
        if p.year:
            prof = prof[prof["year"] == p.year]
        return prof[EXPORTER_COLUMNS].sort_values(["year", "exports"], ascending=[False, False]) \
            .reset_index(drop=True)
    return ctx.cached(("exporters", ctx.focus, p.key()), f)


register(TableSpec("exporters", "provinces", table_exporters,
                   description="Exporters (firms) of the focus country by province and year: number, exports, "
                               "top-5 % share, entry and exit rates, entrant survival (needs firm-level data)."))


def target_statuses(ctx: DataContext) -> list:
    """:func:`tradepulse.roadmap.evaluate` of the shipped (or configured) roadmap on the warehouse (cached)."""
    rm = require("tradepulse.roadmap")
    for name in ("load_roadmap", "evaluate", "status_frame"):
        if not hasattr(rm, name):
            raise Unavailable(f"tradepulse.roadmap.{name}")
    return ctx.cached(("target-statuses",), lambda: rm.evaluate(rm.load_roadmap(None), ctx.warehouse()))


def table_targets(ctx: DataContext, p: Params) -> pd.DataFrame:
    """Roadmap target statuses (:func:`tradepulse.roadmap.status_frame`)."""
    rm = require("tradepulse.roadmap")
    statuses = target_statuses(ctx)
    return ctx.cached(("targets",), lambda: rm.status_frame(statuses))


def _groups_service(ctx: DataContext):
    svc = require("tradepulse.groups.service", "GroupService")
    return svc


def table_actions(ctx: DataContext, p: Params) -> pd.DataFrame:
    """Action items of all working groups (not cached: they change with every edit)."""
    GroupService = _groups_service(ctx)
    with ctx.session() as session:
        items = GroupService(session).actions()
        rows = [dict(id=a.id, group=a.group.name, province=a.group.province, title=a.title, owner=a.owner.code,
                     deadline=a.deadline, deadline_jalali=a.deadline_jalali, status=a.status,
                     target_id=a.target_id, indicator=a.indicator, note=a.note, completed_on=a.completed_on,
                     version=a.version) for a in items]
    df = pd.DataFrame(rows, columns=["id", "group", "province", "title", "owner", "deadline", "deadline_jalali",
                                     "status", "target_id", "indicator", "note", "completed_on", "version"])
    if p.province:
        df = df[df["province"].isin(_stored_provinces(df["province"], p.province))]
    return df


def _stored_provinces(column: pd.Series, asked: str) -> list[str]:
    """The province names in ``column`` that ``asked`` denotes (any spelling of the reference list)."""
    from tradepulse.indicators.selection import province_matches
    return province_matches(asked, [str(v) for v in column.dropna().unique()])


def table_meetings(ctx: DataContext, p: Params) -> pd.DataFrame:
    GroupService = _groups_service(ctx)
    with ctx.session() as session:
        ms = GroupService(session).meetings()
        rows = [dict(id=m.id, group=m.group.name, province=m.group.province, date=m.date,
                     date_jalali=m.date_jalali, title=m.title, attendees=len(m.attendees),
                     decisions=" | ".join(d.text for d in m.decisions)) for m in ms]
    df = pd.DataFrame(rows, columns=["id", "group", "province", "date", "date_jalali", "title", "attendees",
                                     "decisions"])
    if p.year:
        df = df[pd.to_datetime(df["date"]).dt.year == p.year]
    if p.province:
        df = df[df["province"].isin(_stored_provinces(df["province"], p.province))]
    return df


register(TableSpec("diversification", "diversification", table_diversification,
                   description="Product (HS4) and market diversification of the focus country by year."))
register(TableSpec("survival", "survival", table_survival,
                   description="Kaplan–Meier survival of the focus country's export relationships."))
register(TableSpec("complexity", "complexity", table_complexity, ("year", "product"),
                   description="Focus country's RCA, density, PCI and COG per HS4 product (one year)."))
register(TableSpec("opportunities", "opportunities", table_opportunities, ("year",),
                   description="Ranked diversification opportunities (balanced strategy)."))
register(TableSpec("potential", "potential", table_potential, ("year", "province"),
                   description="Export potential by product (ITC method)."))
register(TableSpec("end_use", "end_use", table_end_use,
                   description="Exports by BEC end use (capital, intermediate, consumption goods) by year."))
register(TableSpec("market_fit", "market_fit", table_market_fit, ("year", "partner", "province"),
                   description="Trade complementarity and intensity with each partner (one year)."))
register(TableSpec("targets", "targets", table_targets, (),
                   description="Roadmap target statuses."))
register(TableSpec("actions", "action_items", table_actions, ("province",),
                   description="Working-group action items.", cacheable=False))
register(TableSpec("meetings", "meetings", table_meetings, ("year", "province"),
                   description="Working-group meetings.", cacheable=False))


def get_table(ctx: DataContext, name: str, params: Params) -> pd.DataFrame:
    from tradepulse.errors import UnknownNameError
    spec = TABLES.get(name)
    if spec is None:
        raise UnknownNameError("table", name, list(TABLES))
    return spec.func(ctx, params)
