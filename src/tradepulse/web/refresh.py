"""``tradepulse refresh``: precompute the dashboard's heavy results and store them as warehouse summaries.

:func:`refresh` calls the same data functions the pages call on a first visit (the default filters: no year,
partner, product or province; English and Persian where the result depends on the language), records every
result whose kind is in :data:`tradepulse.web.precomputed.KINDS` and stores them all in one transaction
(:func:`tradepulse.warehouse.summaries.store`), tagged with the data version they were computed from.  The
dashboard then reads them instead of computing (:meth:`tradepulse.web.data.DataContext.cached`); after the
next ingest they are stale and the pages are computed live again until the next refresh.

Computing happens on a read-only connection (the warehouse stays readable by a running dashboard);
only the final write takes the writer's lock, for the time of one short transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradepulse.config import DEFAULT_FOCUS
from tradepulse.errors import NoDataError, TradepulseError
from tradepulse.warehouse.summaries import NotStorable, Summary
from tradepulse.web import data as d
from tradepulse.web import precomputed
from tradepulse.web.data import DataContext, Params, Unavailable

#: What a first visit of each page computes: (label, call).  Page order: ``/``, ``/products``, ``/markets``,
#: ``/provinces``, ``/targets``.
STEPS: list[tuple[str, Callable[[DataContext], Any]]] = [
    ("overview: trade", lambda c: d.table_trade(c, Params())),
    ("overview: current period", lambda c: _current(c)),
    ("footer: data sources", lambda c: _sources(c)),
    ("overview: target statuses", d.target_statuses),
    ("overview: top partners", lambda c: d.table_partners(c, Params())),
    ("overview: top products", lambda c: d.table_products(c, Params())),
    ("products: export basket", lambda c: d.export_basket(c, Params())),
    ("products: product space", lambda c: d.atlas_space_frames(c, None)),
    ("products: opportunities", lambda c: d.table_opportunities(c, Params())),
    ("products: end use", lambda c: d.table_end_use(c, Params())),
    ("products: export potential", lambda c: d.table_potential(c, Params())),
    ("markets: market fit (en)", lambda c: d.table_market_fit(c, Params())),
    ("markets: market fit (fa)", lambda c: d.table_market_fit(c, Params(lang="fa"))),
    ("markets: diversification", lambda c: d.table_diversification(c, Params())),
    ("markets: survival", lambda c: d.table_survival(c, Params())),
    ("provinces: trade", lambda c: d.table_provinces(c, Params())),
    ("provinces: exporters (en)", lambda c: d.table_exporters(c, Params())),
    ("provinces: exporters (fa)", lambda c: d.table_exporters(c, Params(lang="fa"))),
    ("targets: statuses", lambda c: d.table_targets(c, Params())),
]


def _current(ctx: DataContext) -> Any:
    from tradepulse.web.pages.overview import _current_section
    return _current_section(ctx, Params(), "en")


def _sources(ctx: DataContext) -> Any:
    from tradepulse.web.pages.render import sources_text
    return sources_text(ctx)


class _Recorder(DataContext):
    """A context that records every result it computes; a summary already stored for the current data
    version is read instead (``reuse``) and its key remembered in ``reused``, so a second refresh of
    unchanged data computes nothing."""

    def __init__(self, *args: Any, reuse: bool = True, **kw: Any):
        super().__init__(*args, **kw)
        self.use_summaries = reuse
        self.results: dict[tuple, tuple[str, Any]] = {}
        self.reused: list[tuple] = []

    def _stored(self, key: tuple) -> tuple[str, Any] | None:
        hit = super()._stored(key)
        if hit is not None:
            self.reused.append(key)
        return hit

    def _open(self):
        wh = super()._open()
        wh.raw.execute("SET enable_progress_bar = false")     # DuckDB's own bar would break the CLI's
        return wh

    def cached(self, key: tuple, fn: Callable[[], Any]) -> Any:
        def run() -> Any:
            try:
                value = fn()
            except (TradepulseError, Unavailable) as exc:
                self.results[key] = ("err", exc)
                raise
            self.results[key] = ("ok", value)
            return value
        return super().cached(key, run)


@dataclass
class RefreshResult:
    """What a refresh stored: summaries, rows, the data version, seconds, and what it left out and why."""

    warehouse: str
    focus: str
    data_version: str
    summaries: int = 0
    rows: int = 0
    seconds: float = 0.0
    steps: list[dict] = field(default_factory=list)       # label, seconds, status (ok | no data | ...)
    skipped: list[dict] = field(default_factory=list)     # key, reason
    computed: list[str] = field(default_factory=list)     # kinds of the summaries computed by this refresh
    reused: list[str] = field(default_factory=list)       # kinds of fresh summaries kept as they were
    written: bool = False                                 # False: nothing to write (all were fresh)

    def to_dict(self) -> dict:
        return {"warehouse": self.warehouse, "focus": self.focus, "data_version": self.data_version,
                "summaries": self.summaries, "rows": self.rows, "seconds": round(self.seconds, 3),
                "steps": self.steps, "skipped": self.skipped, "computed": self.computed, "reused": self.reused,
                "written": self.written}


#: Seconds to wait for another process's lock on the warehouse (env ``TRADEPULSE_LOCK_WAIT``, as ingest).
LOCK_WAIT = 120.0


def _open(path: Path, *, read_only: bool, waiting: Callable[[], None] | None = None):
    """The warehouse; while another process holds DuckDB's lock (an ingest, or for the final write the
    dashboard's short read connections) retry for up to :data:`LOCK_WAIT` s, then one line."""
    import os

    import duckdb

    from tradepulse.warehouse import Warehouse
    if not path.exists():
        raise TradepulseError(f"no warehouse at {path}; run `tradepulse demo` or `tradepulse ingest` first")
    wait = float(os.environ.get("TRADEPULSE_LOCK_WAIT", LOCK_WAIT))
    deadline, told = time.monotonic() + wait, False
    while True:
        try:
            return Warehouse(path, read_only=read_only)
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0][:160]
            if "lock" not in first.lower() or time.monotonic() >= deadline:
                what = "for reading" if read_only else "to write the summaries"
                raise TradepulseError(f"cannot open {path.name} {what}: {first}") from None
            if waiting and not told:
                waiting()
                told = True
            time.sleep(0.5)


def refresh(warehouse: str | Path, focus: str = DEFAULT_FOCUS, *,
            progress: Callable[[str, int, int], None] | None = None,
            steps: list[tuple[str, Callable[[DataContext], Any]]] | None = None,
            reuse: bool = True) -> RefreshResult:
    """Compute the first-visit results of every page for ``focus`` and store them as the warehouse's summaries
    (replacing the previous set in one transaction).  ``progress(label, done, total)`` is called before each
    step.  Raises :class:`~tradepulse.errors.TradepulseError` for a missing warehouse and
    :class:`~tradepulse.warehouse.summaries.StaleSummaryError` when an ingest committed meanwhile.

    Incremental: a summary already stored for the current data version (same data, code, focus and, for the
    roadmap statuses, roadmap file and year) is kept, not computed again (``reuse=False``: compute all);
    when every one is, nothing is written.  After an ingest the data version changes and all are computed."""
    import duckdb

    from tradepulse.warehouse import Warehouse
    from tradepulse.warehouse import summaries as sm

    path = Path(warehouse)
    focus = focus.upper()
    start = time.perf_counter()

    def waiting() -> None:
        if progress:
            progress("waiting for another process's lock", 0, 1)

    with _open(path, read_only=True, waiting=waiting) as wh:
        if type(wh) is not Warehouse:
            raise TradepulseError("refresh writes summaries into a DuckDB warehouse; it does not run under "
                                  "--engine spark")
        version = sm.data_version(wh.raw)
    ctx = _Recorder(path, focus=focus, reuse=reuse)
    steps = STEPS if steps is None else steps
    out = RefreshResult(str(path), focus, version)
    try:
        for i, (label, call) in enumerate(steps):
            if progress:
                progress(label, i, len(steps))
            t = time.perf_counter()
            try:
                call(ctx)
                status = "ok"
            except NoDataError as exc:
                status = f"no data: {exc}"
            except Unavailable as exc:
                status = f"not available: {exc.what}"
            except TradepulseError as exc:       # the page shows this section's error; the others go on
                status = f"error: {exc}"
            out.steps.append({"step": label, "seconds": round(time.perf_counter() - t, 3), "status": status})
    finally:
        ctx.close()
    if progress:
        progress("storing summaries", len(steps), len(steps))
    summaries: list[Summary] = []
    names: dict[str, str] = {}                 # storage key → the cache key, for the report
    out.reused = sorted({str(key[0]) for key in ctx.reused})
    for key, hit in ctx.results.items():
        if precomputed.storage_key(focus, key) is None or (hit[0] == "err" and type(hit[1]) is not NoDataError):
            continue                         # other errors are computed again (they may be transient)
        try:
            summaries.append(precomputed.to_summary(focus, key, hit))
            names[summaries[-1].key] = repr(key)
        except NotStorable as exc:
            out.skipped.append({"key": repr(key), "reason": str(exc)})
    out.computed = sorted({s.name for s in summaries})
    stored, retain = _fresh(path, focus, version, waiting)
    retain -= {s.key for s in summaries}
    if not summaries and stored == retain:
        out.summaries = len(retain)
        out.seconds = time.perf_counter() - start
        return out                           # every summary was fresh: no write, no lock taken
    out.written = True
    with _open(path, read_only=False, waiting=waiting) as wh:
        try:
            skipped = sm.store(wh.raw, summaries, version=version, retain=retain)
        except duckdb.Error as exc:
            raise TradepulseError(f"storing the summaries failed ({type(exc).__name__}: "
                                  f"{str(exc).splitlines()[0][:120]}); the previous summaries are unchanged") from None
    bad = {k for k, _ in skipped}
    out.skipped += [{"key": names.get(k, k), "reason": r} for k, r in skipped]
    kept = [s for s in summaries if s.key not in bad]
    out.summaries = len(kept) + len(retain)
    out.rows = sum(sum(len(f) for f in s.frames.values()) for s in kept)
    out.seconds = time.perf_counter() - start
    return out


def _fresh(path: Path, focus: str, version: str, waiting) -> tuple[set[str], set[str]]:
    """The keys of every stored summary, and of those of ``focus`` computed from data ``version`` (still
    right: they are kept, whether or not this refresh read them — e.g. the complexity result behind the
    opportunities, which a refresh that reuses the opportunities never asks for)."""
    from tradepulse.warehouse import summaries as sm
    with _open(path, read_only=True, waiting=waiting) as wh:
        cat = sm.catalogue(wh.raw)
    mine = set()
    for key, made_from in zip(cat["key"], cat["data_version"]):
        try:
            if made_from == version and sm.decode(key)[0] == focus:
                mine.add(key)
        except (ValueError, TypeError, IndexError, sm.NotStorable):   # a key of another format: not kept
            pass
    return set(cat["key"]), mine
