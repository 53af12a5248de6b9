"""Data behind the dashboard: cached, read-only calls into the tradepulse Python API.

Every table shown on a page, served by the JSON API or downloaded as CSV / Excel is a *table spec*
(:data:`TABLES`): a function ``(ctx, params) -> DataFrame``.  Results are cached per warehouse
``(path, mtime)`` (a new ingest invalidates the cache) — the dashboard never writes to the warehouse
and opens it read-only.  A result that ``tradepulse refresh`` stored as a summary of the current data
(:mod:`tradepulse.web.precomputed`, :mod:`tradepulse.warehouse.summaries`) is read instead of computed.

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
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from tradepulse import reference, schema
from tradepulse.config import DEFAULT_FOCUS
from tradepulse.errors import NoDataError, TradepulseError
from tradepulse.i18n import N_
from tradepulse.meta import Note


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


class WarehouseBusy(TradepulseError):
    """The warehouse file is locked by a writer (an ingest) and stayed locked through the retries."""


class GroupsUnavailable(TradepulseError):
    """The working-group database is missing, empty or corrupt (group features answer 503)."""


class _Flight:
    """One computation in progress: other threads asking for the same key wait for its result."""

    def __init__(self) -> None:
        self.owner = threading.get_ident()
        self.done = threading.Event()
        self.result: tuple[str, Any] | None = None


#: DuckDB threads per dashboard query: one core stays free for the event loop on small machines.
DUCKDB_THREADS = max(1, (os.cpu_count() or 2) - 1)
#: Retries (count, seconds between) when opening the warehouse meets a writer's lock.
OPEN_RETRIES, OPEN_DELAY = 5, 0.2


class DataContext:
    """One warehouse (read-only) plus the working-group database URL, with a result cache.

    Cache: results are kept per warehouse *version* (file mtime) in a segmented LRU (SLRU): a new entry
    enters a probation segment and moves to a protected segment on its second use, so a flood of one-time
    requests can only churn probation and never flushes the pages people actually use.  A new version
    clears both.  While a writer is active (DuckDB's ``<file>.wal`` exists) the last version stays current,
    so cached pages keep being served during an ingest.

    Concurrency: :meth:`cached` is *single flight* per key (concurrent callers of one key wait for the one
    computation) and holds the cache lock only to look up and store, never while computing.  Each worker
    thread opens its own short-lived read-only DuckDB connection for its outermost computation and closes
    it afterwards (an open connection holds a file lock that would stop ``tradepulse ingest``).  Opening
    meets a writer's lock → :data:`OPEN_RETRIES` retries, then :class:`WarehouseBusy` (HTTP 503).
    """

    def __init__(self, warehouse_path: str | Path, groups_url: str | None = None, *,
                 focus: str = DEFAULT_FOCUS, cache_size: int = 256):
        self.path = Path(warehouse_path)
        self._file, self._wal = str(self.path), str(self.path) + ".wal"    # stat() per request: plain strings
        self.groups_url = groups_url
        self.focus = focus
        self._lock = threading.Lock()
        self._local = threading.local()
        self._mtime: float | None = None
        self._cache: OrderedDict[tuple, Any] = OrderedDict()      # probation segment
        self._hot: OrderedDict[tuple, Any] = OrderedDict()        # protected segment
        self._cache_size = cache_size
        self._inflight: dict[tuple, _Flight] = {}
        self._session_factory = None
        self._groups_error: str | None = None
        self._charts: OrderedDict[str, bytes] = OrderedDict()
        #: read fresh summaries (``tradepulse refresh``) instead of computing; off while refreshing
        self.use_summaries = True
        self._summaries: tuple[float | None, str, set[str]] | None = None   # (mtime, data version, keys)

    # -- warehouse
    def mtime(self) -> float:
        try:
            return os.stat(self._file).st_mtime
        except FileNotFoundError:
            return -1.0

    def writing(self) -> bool:
        """True while a writer has the warehouse open (DuckDB keeps ``<file>.wal`` until its checkpoint)."""
        return os.path.exists(self._wal)

    def _version(self) -> float | None:
        """The current cache version (call with the lock held); clears the cache when it changes."""
        if self._mtime is not None and self.writing():
            return self._mtime
        m = self.mtime()
        if m != self._mtime:
            self._mtime = m
            self._cache.clear()
            self._hot.clear()
        return self._mtime

    def warehouse(self):
        """This thread's read-only :class:`~tradepulse.warehouse.Warehouse` (call inside :meth:`cached`
        computations; it is closed when this thread's outermost computation ends)."""
        wh = getattr(self._local, "wh", None)
        if wh is None:
            wh = self._local.wh = self._open()
        return wh

    def _open(self):
        import time

        from tradepulse.warehouse import Warehouse
        last = None
        for attempt in range(OPEN_RETRIES + 1):
            try:
                wh = Warehouse(self.path, read_only=True)
                wh.raw.execute(f"SET threads = {DUCKDB_THREADS}")
                return wh
            except TradepulseError:
                raise
            except Exception as exc:  # noqa: BLE001 - DuckDB's lock conflict while an ingest writes
                last = exc
                if attempt < OPEN_RETRIES:
                    time.sleep(OPEN_DELAY)
        raise WarehouseBusy(f"the warehouse is being written by an ingest ({type(last).__name__}); "
                            "try again in a few seconds")

    def _release(self) -> None:
        wh = getattr(self._local, "wh", None)
        if wh is not None:
            self._local.wh = None
            try:
                wh.close()
            except Exception:  # noqa: BLE001, S110 - closing a broken connection must not mask the result
                pass

    def _get(self, full: tuple) -> tuple[str, Any] | None:
        if full in self._hot:
            self._hot.move_to_end(full)
            return self._hot[full]
        if full in self._cache:                      # second use: promote to the protected segment
            hit = self._cache.pop(full)
            self._hot[full] = hit
            while len(self._hot) > self._cache_size:
                old, val = self._hot.popitem(last=False)
                self._cache[old] = val
            self._trim()
            return hit
        return None

    def _trim(self) -> None:
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def cached(self, key: tuple, fn: Callable[[], Any]) -> Any:
        """``fn()`` cached under ``key`` for the current warehouse version (user errors are cached too),
        computed once however many threads ask at the same time (single flight)."""
        with self._lock:
            full = (self._version(), *key)
            hit = self._get(full)
            flight = None if hit is not None else self._inflight.get(full)
            owner = hit is None and (flight is None or flight.owner == threading.get_ident())
            if owner:
                flight = _Flight()
                self._inflight.setdefault(full, flight)
        if hit is None and not owner:
            flight.done.wait()
            hit = flight.result
        elif hit is None:
            depth = getattr(self._local, "depth", 0)
            self._local.depth = depth + 1
            try:
                hit = self._stored(key) or ("ok", fn())
            except (TradepulseError, Unavailable) as exc:
                hit = ("err", exc)
            finally:
                self._local.depth = depth
                if depth == 0:
                    self._release()
                with self._lock:
                    if hit is not None and not (hit[0] == "err" and isinstance(hit[1], WarehouseBusy)):
                        self._cache[full] = hit          # a transient lock conflict is not remembered
                        self._trim()
                    if self._inflight.get(full) is flight:
                        del self._inflight[full]
                flight.result = hit or ("err", TradepulseError("computation failed"))
                flight.done.set()
        if hit[0] == "err":
            raise hit[1]
        return hit[1]

    def _stored(self, key: tuple) -> tuple[str, Any] | None:
        """The cache entry of a fresh summary stored for ``key`` (``tradepulse refresh``), or None.  Any
        problem reading it (an old warehouse, a summary that cannot be rebuilt) means: compute as usual."""
        from tradepulse.web import precomputed
        if not self.use_summaries or not key or key[0] not in precomputed.KINDS:
            return None
        try:
            from tradepulse.warehouse import Warehouse
            from tradepulse.warehouse import summaries as sm
            wh = self.warehouse()
            if type(wh) is not Warehouse:            # --engine spark: no summaries in a Parquet dataset
                return None
            with self._lock:
                state, mtime = self._summaries, self._mtime
            if state is None or state[0] != mtime:
                version = sm.data_version(wh.raw)
                state = (mtime, version, sm.fresh_keys(wh.raw, version))
                with self._lock:
                    self._summaries = state
            if not state[2]:
                return None
            skey = precomputed.storage_key(self.focus, key)
            if skey not in state[2]:
                return None
            summary = sm.read(wh.raw, skey, version=state[1])
            return None if summary is None else precomputed.from_summary(self.focus, summary)
        except WarehouseBusy:
            raise
        except Exception as exc:  # noqa: BLE001 - a summary must never break a page: compute instead
            import logging
            logging.getLogger("tradepulse.web").warning("summary for %r not used: %r", key[:2], exc)
            return None

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
        """The cached successful value for ``key`` (current warehouse version), or None; never computes and
        never waits for a computation."""
        with self._lock:
            hit = self._get((self._version(), *key))
        return hit[1] if hit is not None and hit[0] == "ok" else None

    def flows(self) -> ibis.Table:
        return self.warehouse().flows()

    # -- working groups
    def session(self):
        """A new SQLAlchemy session on the working-group database (migrated to head once).

        A missing, empty or corrupt database file raises :class:`GroupsUnavailable` (HTTP 503 for group
        features) and is never re-created: only ``tradepulse groups`` commands create a database.
        """
        if not self.groups_url:
            raise Unavailable("working-group database (start with --groups-db)")
        db = require("tradepulse.groups.db")
        with self._lock:
            if self._session_factory is None:
                self._session_factory = self._open_groups(db)
        return self._session_factory()

    def _open_groups(self, db):
        import logging

        from sqlalchemy.engine import make_url
        try:
            u = make_url(self.groups_url)
            if u.get_backend_name() == "sqlite" and u.database not in (None, "", ":memory:"):
                f = Path(u.database)
                if not f.exists() or f.stat().st_size == 0:
                    raise GroupsUnavailable(f"the working-group database {f.name} is "
                                            f"{'missing' if not f.exists() else 'empty'}; create it with "
                                            "`tradepulse groups init` (or restore a backup)")
                _check_sqlite_file(f)
            return db.session_factory(self.groups_url)
        except GroupsUnavailable as exc:
            logging.getLogger("tradepulse.web").error("groups database unavailable: %s", exc)
            raise
        except Exception as exc:  # noqa: BLE001 - sqlite3.DatabaseError, alembic errors, ...
            logging.getLogger("tradepulse.web").error("groups database unavailable: %r", exc)
            raise GroupsUnavailable("the working-group database cannot be opened (corrupt or not a "
                                    f"tradepulse database: {type(exc).__name__}); restore a backup") from None

    def close(self) -> None:
        self._release()


def _check_sqlite_file(f: Path) -> None:
    """:class:`GroupsUnavailable` unless ``f`` is an SQLite database — asked of SQLite itself, never by
    opening the file: closing any descriptor of a file drops all of this process's POSIX locks on it
    (SQLite's included), and another process could then delete the WAL under the live connections
    (https://www.sqlite.org/howtocorrupt.html, 2.2; tests/test_groups_sqlite_locks.py)."""
    import sqlite3

    con = sqlite3.connect(str(f), timeout=30)
    try:
        con.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError as exc:
        if "not a database" not in str(exc):
            raise
        raise GroupsUnavailable(f"the working-group database {f.name} is not an SQLite database (corrupt?); "
                                "restore a backup") from None
    finally:
        con.close()


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


def export_basket(ctx: DataContext, p: Params, flow: str = "exports") -> pd.DataFrame:
    """The focus country's ``flow`` (exports / imports) by HS section and year — the Atlas's "export basket
    over time" — under the partner / product / province filters: ``year, section, value_usd, share``.
    Sections: :data:`tradepulse.web.space.HS_SECTIONS` (English names, catalog messages)."""
    from tradepulse.web.space import hs_section

    def f() -> pd.DataFrame:
        df = _balance(ctx, p, "product", None)
        d = pd.DataFrame({"year": df["year"], "section": hs_section(df["product"].astype(str)),
                          "value_usd": df[flow]})
        out = d.groupby(["year", "section"], as_index=False)["value_usd"].sum()
        out["share"] = out["value_usd"] / out.groupby("year")["value_usd"].transform("sum")
        return out.sort_values(["year", "value_usd"], ascending=[True, False]).reset_index(drop=True)
    return ctx.cached(("basket", ctx.focus, flow, p.partner, p.product, p.province), f)


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
                   description="Focus country's exports, imports and balances (total and non-oil) by year."))
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
            y = _latest_year(ctx, t)
            if y is None:
                raise NoDataError("no export rows with HS4 or HS6 products for complexity")
        t = t.filter(t.year == y)
        t = t.mutate(product=t["product"].substr(0, 4))
        frame = (national_totals(t, ["year", "reporter", "product"]).rename(exporter="reporter",
                                                                             export_value="value_usd")
                 .to_pandas())
        if frame.empty:
            raise NoDataError(f"no export rows with HS4 or HS6 products in {y} for complexity")
        return frame
    return ctx.cached(("wld-exports", year), f)


def _latest_year(ctx: DataContext, t: ibis.Table) -> int | None:
    """The latest year holding rows of the export selection ``t``.  On a DuckDB warehouse: the years its
    recorded coverage lists with product-level export rows, probed from the latest down with a ``LIMIT 1``
    pushed down to the year (exact, as :func:`tradepulse.indicators.potential.latest_bilateral_year`): the
    ``max(year)`` it replaces tested the product code of every stored row (≈ 30 s CPU on a 29-year BACI
    panel).  Without coverage (Spark, rows written without a load): that ``max(year)``."""
    from tradepulse.warehouse import Warehouse
    wh = ctx.warehouse()
    if type(wh) is Warehouse:
        from tradepulse.indicators.inputs import coverage
        cov = coverage(wh)
        cands = sorted({int(y) for y in cov.loc[(cov["flow"] == "export") & (cov["product_level"] > 0),
                                                "year"].dropna().unique()}, reverse=True)
        for y in cands:
            if t.filter(t.year == y).select("year").limit(1).to_pyarrow().num_rows:
                return y
    y = t.year.max().execute()
    return None if y is None or pd.isna(y) else int(y)


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


def _wld_revision(ctx: DataContext, year: int | None) -> str:
    """The HS revision of the world-total export rows (the most frequent one; HS1992 when unknown)."""
    def f() -> str:
        t = ctx.flows()
        t = t.filter((t.partner == schema.WORLD) & (t.flow == "export"))
        if year is not None:
            t = t.filter(t.year == year)
        c = t.group_by("hs_revision").aggregate(n=t.count()).order_by(ibis.desc("n")).limit(1).to_pandas()
        return str(c["hs_revision"].iloc[0]) if len(c) and c["hs_revision"].iloc[0] else "HS1992"
    return ctx.cached(("wld-revision", year), f)


#: Opportunities outlined in the product space (top N of the balanced strategy).
SPACE_OPPORTUNITIES = 25


def atlas_space_frames(ctx: DataContext, year: int | None) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Nodes, edges and the source revision of the product space on the Atlas's HS92 layout
    (:func:`tradepulse.web.space.atlas_space`).  Data in another HS revision is restated in HS92 through
    atlas-common-data's conversion weights (:func:`tradepulse.reference.product_space.to_hs92`) before RCA
    and opportunities are computed (:mod:`tradepulse.indicators.complexity`)."""
    cx = require("tradepulse.indicators.complexity")
    from tradepulse.reference import product_space as ps
    from tradepulse.web import space

    def f():
        revision = _wld_revision(ctx, year)
        if revision == "HS1992":
            res = _complexity_result(ctx, year)
            wld = _wld_exports(ctx, year)
        else:
            wld = ps.to_hs92(_wld_exports(ctx, year), revision)
            res = cx.complexity(wld, exporter="exporter", product="product", value="export_value", year="year")
        world = wld.groupby(wld["product"].astype(str))["export_value"].sum()
        mine = res[res["exporter"] == ctx.focus]
        rca = mine.assign(product=mine["product"].astype(str)).set_index("product")["rca"]
        try:
            top = cx.opportunities(res, ctx.focus, strategy="balanced", top=SPACE_OPPORTUNITIES)[
                "product"].astype(str).tolist()
        except NoDataError:
            top = []
        nodes, edges = space.atlas_space(ps.atlas_nodes(), ps.atlas_edges(), world, rca, top)
        return nodes, edges, revision
    return ctx.cached(("atlas-space", ctx.focus, year), f)


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


def _potential_result(ctx: DataContext, province: str | None, year: int | None) -> pd.DataFrame:
    """:func:`tradepulse.indicators.potential.export_potential` of the focus country (product × market), cached."""
    pot = require("tradepulse.indicators.potential")
    return ctx.cached(("potential-result", ctx.focus, province, year),
                      lambda: pot.export_potential(ctx.warehouse(), ctx.focus, province=province, year=year))


def table_potential(ctx: DataContext, p: Params) -> pd.DataFrame:
    pot = require("tradepulse.indicators.potential")
    def f() -> pd.DataFrame:
        df = pot.by_product(_potential_result(ctx, p.province, p.year)).copy()
        if "product" in df.columns:     # issue 20: names beside the bare HS codes
            df.insert(df.columns.get_loc("product") + 1, "product_name",
                      df["product"].astype(str).map(_product_names()).fillna(""))
        return df
    return ctx.cached(("potential", ctx.focus, p.province, p.year), f)


def potential_by_market(ctx: DataContext, p: Params, product: str) -> pd.DataFrame:
    """Export potential of the focus country for one product (HS prefix ``product``) by market, largest
    unrealised potential first (:func:`tradepulse.indicators.potential.by_market` on the product's rows)."""
    pot = require("tradepulse.indicators.potential")

    def f() -> pd.DataFrame:
        res = _potential_result(ctx, p.province, p.year)
        rows = res[res["product"].astype(str).str.startswith(product)]
        if rows.empty:
            raise NoDataError(f"no export potential computed for HS {product}")
        out = pot.by_market(rows)
        names = reference.countries().set_index("iso3")["name_fa" if p.lang == "fa" else "name_en"]
        out.insert(1, "partner_name", out["market"].map(names).fillna(out["market"]))
        return out.rename(columns={"market": "partner"})
    return ctx.cached(("potential-market", ctx.focus, product, p.province, p.year, p.lang), f)


def _hs_level(product: str) -> int:
    return 4 if len(product) <= 4 else 6


def world_market(ctx: DataContext, product: str) -> pd.DataFrame:
    """World trade in one product (HS prefix) by year from every reporter's world-total rows (WLD rule):
    ``year, world_exports, world_imports, focus_exports, focus_share``."""
    def f() -> pd.DataFrame:
        t = ctx.flows()
        t = t.filter((t.partner == schema.WORLD) & (t["product"].length() == _hs_level(product))
                     & t["product"].startswith(product))
        d = t.group_by(["year", "reporter", "flow"]).aggregate(v=t.value_usd.sum()).to_pandas()
        if d.empty:
            raise NoDataError(Note(N_("no world-total rows for HS {product}"), product=product))
        x = d[d["flow"].isin(["export", "re-export"])]
        m = d[d["flow"].isin(["import", "re-import"])]
        out = pd.DataFrame({"world_exports": x.groupby("year")["v"].sum(),
                            "world_imports": m.groupby("year")["v"].sum(),
                            "focus_exports": x[x["reporter"] == ctx.focus].groupby("year")["v"].sum()}).fillna(0.0)
        out["focus_share"] = out["focus_exports"] / out["world_exports"].where(out["world_exports"] > 0)
        return out.reset_index().sort_values("year", ascending=False).reset_index(drop=True)
    return ctx.cached(("world-market", product), f)


def top_traders(ctx: DataContext, product: str, flow: str, year: int | None, lang: str = "en") -> pd.DataFrame:
    """Largest exporters (``flow="export"``) or importers of one product in one year (default: the latest with
    world-total rows): ``year, partner (ISO3), partner_name, value_usd, share``."""
    def f() -> pd.DataFrame:
        t = ctx.flows()
        t = t.filter((t.partner == schema.WORLD) & (t.flow == flow) & (t["product"].length() == _hs_level(product))
                     & t["product"].startswith(product))
        y = year if year is not None else t.year.max().execute()
        if y is None or pd.isna(y):
            said = N_("no world-total export rows for HS {product}") if flow == "export" else \
                N_("no world-total import rows for HS {product}")
            raise NoDataError(Note(said, product=product))
        t = t.filter(t.year == int(y))
        d = t.group_by("reporter").aggregate(value_usd=t.value_usd.sum()).to_pandas()
        d = d.sort_values("value_usd", ascending=False).reset_index(drop=True)
        d["share"] = d["value_usd"] / d["value_usd"].sum()
        names = reference.countries().set_index("iso3")["name_fa" if lang == "fa" else "name_en"]
        return pd.DataFrame({"year": int(y), "partner": d["reporter"], "partner_name":
                             d["reporter"].map(names).fillna(d["reporter"]), "value_usd": d["value_usd"],
                             "share": d["share"]})
    return ctx.cached(("top-traders", product, flow, year, lang), f)


def product_name(product: str, lang: str = "en") -> str:
    """English short name of an HS code (atlas-common-data), '' when unknown."""
    return str(_product_names().get(product, ""))


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
        # the indices once for every language (an intermediate, not stored): only the names differ
        df = ctx.cached(("market-fit-result", ctx.focus, p.key()[:4]), lambda: partner_indices(
            ctx.warehouse(), ctx.focus, province=p.province, year=p.year, partners=p.partner)).copy()
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
    """:func:`tradepulse.roadmap.evaluate` of the focus country's own roadmap on the warehouse (cached); a focus
    country without a roadmap file raises NoDataError (shown as a note), never another country's targets.
    Series span ``status``: each target's series from the first year its status reads (the statuses are
    those of the whole series; the local axis metrics are computed on those years only)."""
    rm = require("tradepulse.roadmap")
    for name in ("roadmap_for", "evaluate", "status_frame"):
        if not hasattr(rm, name):
            raise Unavailable(f"tradepulse.roadmap.{name}")

    def run():
        road = rm.roadmap_for(ctx.focus)
        if road is None:
            raise NoDataError(f"no roadmap for {reference.country_name(ctx.focus, 'en')}; targets are shown for "
                              "countries with a roadmap file")
        return rm.evaluate(road, ctx.warehouse(), span="status")
    return ctx.cached(("target-statuses",), run)


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
        fa = p.lang == "fa"
        rows = [{"id": a.id, "group": a.group.title(p.lang), "province": a.group.province, "title": a.title,
                     "owner": a.owner.name("fa") if fa else a.owner.code,
                     "deadline": a.deadline, "deadline_jalali": a.deadline_jalali, "status": a.status,
                     "target_id": a.target_id, "indicator": a.indicator, "note": a.note, "completed_on": a.completed_on,
                     "version": a.version} for a in items]
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
    """Meetings with minutes and attendees (present / absent names), importable back as ``meetings.csv``."""
    GroupService = _groups_service(ctx)
    with ctx.session() as session:
        svc = GroupService(session)
        rows = []
        for m in svc.meetings():
            att = svc.attendance(m)
            rows.append({"id": m.id, "group": m.group.title(p.lang), "province": m.group.province, "date": m.date,
                             "date_jalali": m.date_jalali, "title": m.title, "minutes": m.minutes,
                             "attendees": ";".join(sorted(x.full_name for x, ok in att if ok)),
                             "absent": ";".join(sorted(x.full_name for x, ok in att if not ok)),
                             "decisions": " | ".join(d.text for d in m.decisions), "version": m.version})
    df = pd.DataFrame(rows, columns=["id", "group", "province", "date", "date_jalali", "title", "minutes",
                                     "attendees", "absent", "decisions", "version"])
    if p.year:
        df = df[pd.to_datetime(df["date"]).dt.year == p.year]
    if p.province:
        df = df[df["province"].isin(_stored_provinces(df["province"], p.province))]
    return df


register(TableSpec("diversification", "diversification", table_diversification, ("year", "partner", "product"),
                   description="Product (HS4) and market diversification of the focus country by year."))
register(TableSpec("survival", "survival", table_survival, ("partner", "product", "province"),
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
