"""Run dashboard computations off the event loop: worker processes, single flight per key, per-client caps.

``await Computer.run(request, key, fn)`` returns ``fn()`` computed in a worker *process* (default) or a
worker thread.  The event loop never waits on a lock or a query, so static files, cached pages and the
login form are answered while anything computes (issue 15, defect 1).

- *Processes* (``processes=True``, the default): a ``ProcessPoolExecutor`` on the ``forkserver`` start
  method (never ``fork`` from the threaded server).  Workers run at a lower priority (``os.nice``) so the
  event-loop process wins the CPU, and pandas in a worker cannot hold the server's GIL.  ``fn`` must be
  picklable: a module-level function or a ``functools.partial`` of one; a :class:`DataContext` argument
  travels as (path, groups URL, focus) and becomes the worker's own read-only context (its own cache and
  short-lived DuckDB connections).  What a worker computes comes back pickled (HTML strings, JSON rows):
  the value is stored in the server's cache under ``key`` (so the next request is a cache hit on the event
  loop), and the chart datasets it remembered and the cache entries the page shell peeks at
  (:data:`SHARED_KEYS`) are copied into the server's context.  A worker that dies (killed, out of memory)
  answers 503 with ``Retry-After`` and the pool is rebuilt — never a hang.
- *Threads* (``processes=False``, or ``local=True`` for one call): ``fn`` runs in a thread of the server
  process and may close over the request (e.g. the CSV import checks the user's groups as it writes).
- *Single flight*: concurrent requests for one ``key`` await one computation (no extra worker, and they do
  not count towards their client's cap).
- *Stale while recomputing* (``stale_ok=True``: pages and API tables): when an ingest commits a new
  warehouse version, the first request of a page recomputes it and waits; requests arriving meanwhile get
  the page of the previous version at once.  Once a recomputation met the ingest's lock (503 for the request
  that started it), the previous page is served and retried in the background every :data:`BUSY_RETRY` s.
- *Per-client cap*: a client (its IP, see :func:`tradepulse.web.security.client_ip`) may have at most
  ``per_client`` uncached computations running; the next one gets 429 with ``Retry-After`` — one
  client cannot occupy the whole pool.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.reduction import ForkingPickler
from typing import Any

from fastapi import HTTPException, Request

from tradepulse.errors import TradepulseError
from tradepulse.web.data import DataContext, Unavailable, WarehouseBusy
from tradepulse.web.security import client_ip

#: Niceness added to worker processes: the event-loop process (cached pages, static files) wins the CPU.
WORKER_NICE = 10
#: Cache entries a worker computes that the page shell reads on the event loop (``peek``): copied back.
SHARED_KEYS: tuple[tuple, ...] = (("sources",),)
#: Last values kept for ``stale_ok`` requests (pages and API tables; a few MB of HTML and JSON rows).
STALE_KEYS = 256
#: Seconds the last value is served without a new attempt after a recomputation met the ingest's lock.
BUSY_RETRY = 5.0
#: The "client" that background refreshes are counted under (they never take a user's share of the pool).
REFRESH = "(refresh)"
#: Modules the fork server imports once, so a new worker starts in milliseconds, not seconds.
PRELOAD = ["tradepulse.web.app"]

log = logging.getLogger("tradepulse.web")


# ---------------------------------------------------------------- worker side
class WorkerContext(DataContext):
    """A worker process's own read-only context; records the chart datasets a computation remembers."""

    def __init__(self, *args: Any, **kw: Any):
        super().__init__(*args, **kw)
        self.new_charts: dict[str, bytes] = {}

    def remember_chart(self, name: str, body: bytes) -> None:
        super().remember_chart(name, body)
        self.new_charts[name] = body


_CONTEXTS: dict[tuple, WorkerContext] = {}


def _worker_context(path: str, groups_url: str | None, focus: str) -> DataContext:
    """The worker's context for one warehouse (unpickled :class:`DataContext` arguments land here)."""
    key = (path, groups_url, focus)
    ctx = _CONTEXTS.get(key)
    if ctx is None:
        ctx = _CONTEXTS[key] = WorkerContext(path, groups_url, focus=focus)
    return ctx


def _reduce_context(ctx: DataContext):
    return _worker_context, (str(ctx.path), ctx.groups_url, ctx.focus)


# jobs sent to a process pool pickle a DataContext as its address (locks and caches stay behind)
ForkingPickler.register(DataContext, _reduce_context)
ForkingPickler.register(WorkerContext, _reduce_context)


def _rebuild_exception(cls: type, args: tuple, state: dict) -> BaseException:
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class ComputationFailed(RuntimeError):
    """An unexpected error in a worker process (logged there with its traceback)."""


def _portable(exc: BaseException) -> BaseException:
    """``exc`` in a form that survives pickling: same class, args and attributes (an exception whose
    ``__init__`` takes other arguments than its ``args`` cannot be unpickled the usual way)."""
    with contextlib.suppress(Exception):   # most exceptions travel as they are; the others are rebuilt below
        pickle.loads(pickle.dumps(exc))
        return exc
    try:
        state = dict(vars(exc))
        carrier = _Portable(type(exc), exc.args, state)
        pickle.loads(pickle.dumps(carrier)).unwrap()
        return carrier
    except Exception:  # noqa: BLE001 - last resort: the message only
        return ComputationFailed(f"{type(exc).__name__}: {exc}")


class _Portable(Exception):
    """Carries an exception whose class cannot be unpickled from its ``args``; unwrapped by the server."""

    def __init__(self, cls: type, args: tuple, state: dict):
        super().__init__(cls, args, state)

    def unwrap(self) -> BaseException:
        return _rebuild_exception(*self.args)


def _init_worker(nice: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)      # Ctrl-C stops the server, which stops its workers
    if nice:
        try:
            os.nice(nice)
        except OSError:
            pass


def _work(fn: Callable[[], Any]) -> tuple[tuple[str, Any], dict[str, bytes], dict[tuple, Any]]:
    """Run one job in a worker: ``(("ok", value) | ("err", exception), new charts, shared cache entries)``."""
    for ctx in _CONTEXTS.values():
        ctx.new_charts = {}
    try:
        out: tuple[str, Any] = ("ok", fn())
    except (TradepulseError, Unavailable, HTTPException) as exc:      # the user's problem: 4xx / 503
        out = ("err", _portable(exc))
    except Exception as exc:  # a bug: logged here with its traceback, 500 in the server
        log.exception("computation failed in worker process %d", os.getpid())
        out = ("err", ComputationFailed(f"{type(exc).__name__}: {exc}"))
    charts: dict[str, bytes] = {}
    shared: dict[tuple, Any] = {}
    for ctx in _CONTEXTS.values():
        charts.update(ctx.new_charts)
        ctx.new_charts = {}
        for k in SHARED_KEYS:
            v = ctx.peek(k)
            if v is not None:
                shared[k] = v
    return out, charts, shared


def _noop() -> int:
    return os.getpid()


# ---------------------------------------------------------------- server side
class Computer:
    """The worker pool and the bookkeeping of computations in flight (one per app)."""

    def __init__(self, workers: int | None = None, per_client: int = 3, *, processes: bool = True,
                 ctx: DataContext | None = None, nice: int = WORKER_NICE):
        # one core stays free for the event loop (cached pages and static files): 1 worker on 2 cores
        self.workers = workers or max(1, min(4, (os.cpu_count() or 2) - 1))
        self.per_client = per_client
        self.processes = processes
        self.ctx = ctx
        self.nice = nice
        self.pool: Executor | None = None           # processes (or threads when processes=False)
        self.threads: ThreadPoolExecutor | None = None   # local=True jobs in process mode
        self._lock = threading.Lock()
        self._inflight: dict[tuple, tuple[asyncio.AbstractEventLoop, asyncio.Future]] = {}
        self._running: dict[str, int] = {}
        self._last: OrderedDict[tuple, tuple[Any]] = OrderedDict()   # last value per key (any version)
        self._retry_at: dict[tuple, float] = {}                         # key → when to try again (ingest lock)

    # -- pools
    def _pool(self) -> Executor:
        with self._lock:
            if self.pool is None:
                if self.processes:
                    mp = multiprocessing.get_context("forkserver")
                    mp.set_forkserver_preload(PRELOAD)
                    self.pool = ProcessPoolExecutor(self.workers, mp_context=mp, initializer=_init_worker,
                                                    initargs=(self.nice,))
                else:
                    self.pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="tradepulse-compute")
            return self.pool

    def _thread_pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self.threads is None:
                self.threads = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="tradepulse-local")
            return self.threads

    def _discard(self, pool: Executor) -> None:
        """Forget a broken pool (the next computation starts a new one)."""
        with self._lock:
            if self.pool is pool:
                self.pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def start(self) -> None:
        """Start the worker processes now (app start-up), so the first page does not wait for them."""
        if self.processes:
            try:
                pool = self._pool()
                for _ in range(self.workers):
                    pool.submit(_noop)
            except Exception as exc:  # noqa: BLE001 - a failed warm-up shows up (as 503) on first use
                log.warning("could not start the computation workers: %r", exc)

    def worker_pids(self) -> list[int]:
        """Process ids of the live worker processes (empty in thread mode)."""
        pool = self.pool
        procs = getattr(pool, "_processes", None) or {}
        return [p.pid for p in list(procs.values()) if p.is_alive()]

    def running(self, client: str) -> int:
        """Uncached computations of ``client`` now running or queued."""
        with self._lock:
            return self._running.get(client, 0)

    # -- computations
    def _submit(self, fn: Callable[[], Any], local: bool) -> tuple[concurrent.futures.Future, Executor]:
        if local or not self.processes:
            pool = self._thread_pool() if self.processes else self._pool()
            return pool.submit(fn), pool
        for attempt in (0, 1):
            pool = self._pool()
            try:
                return pool.submit(_work, fn), pool
            except BrokenProcessPool:
                self._discard(pool)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def run(self, request: Request | None, key: tuple | None, fn: Callable[[], Any], *,
                  local: bool = False, client: str | None = None, stale_ok: bool = False) -> Any:
        """``fn()`` in the pool; joins a computation of the same ``key`` in flight (``None``: never joins).

        ``local=True``: in a thread of this process (``fn`` may use the request).  ``client`` overrides the
        client address (default :func:`client_ip` of ``request``).  ``stale_ok=True``: while ``key`` is being
        recomputed (a new warehouse version), answer the last value computed for ``key`` at once instead of
        waiting — the request that starts a recomputation still waits for (and gets) the new value.  Once a
        recomputation has met the ingest's lock (:class:`WarehouseBusy`, 503 for its request), the last value
        is served and a new attempt runs in the background at most every :data:`BUSY_RETRY` seconds."""
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        with self._lock:
            joined = self._inflight.get(key) if key is not None else None
            last = self._last.get(key) if key is not None and stale_ok else None
            retry_at = self._retry_at.get(key) if last is not None else None
        if last is not None and (joined is not None or (retry_at is not None and now < retry_at)):
            return last[0]
        background = last is not None and retry_at is not None      # the last attempt met the ingest's lock
        if joined is not None and joined[0] is loop:
            return await asyncio.shield(joined[1])
        who = REFRESH if background else client or (client_ip(request) if request is not None else "-")
        with self._lock:
            if self._running.get(who, 0) >= self.per_client:
                if background:
                    return last[0]
                raise HTTPException(429, f"at most {self.per_client} uncached computations per client at a "
                                         "time; retry in a moment", headers={"Retry-After": "2"})
            self._running[who] = self._running.get(who, 0) + 1
            if background:
                self._retry_at[key] = now + BUSY_RETRY

        def done(_f: concurrent.futures.Future) -> None:
            # counted until the computation itself ends, even when the client went away
            with self._lock:
                left = self._running.get(who, 1) - 1
                if left > 0:
                    self._running[who] = left
                else:
                    self._running.pop(who, None)
        try:
            cf, pool = self._submit(fn, local)
        except BaseException as exc:
            done(None)  # type: ignore[arg-type]
            if isinstance(exc, (BrokenProcessPool, RuntimeError)):
                raise self._unavailable() from None
            raise
        cf.add_done_callback(done)
        fut = asyncio.ensure_future(self._result(cf, pool, key, local), loop=loop)
        if key is not None:
            with self._lock:
                self._inflight[key] = (loop, fut)

            def forget(_f: asyncio.Future) -> None:
                with self._lock:
                    if self._inflight.get(key, (None, None))[1] is fut:
                        del self._inflight[key]
            fut.add_done_callback(forget)
        if background:
            fut.add_done_callback(lambda f: f.cancelled() or f.exception())   # retrieved: WarehouseBusy is expected
            return last[0]
        return await asyncio.shield(fut)

    def _unavailable(self) -> HTTPException:
        return HTTPException(503, "a computation worker stopped unexpectedly; try again in a moment",
                             headers={"Retry-After": "5"})

    async def _result(self, cf: concurrent.futures.Future, pool: Executor, key: tuple | None, local: bool) -> Any:
        try:
            value = await self._outcome(cf, pool, key, local)
        except WarehouseBusy:
            if key is not None:
                with self._lock:
                    self._retry_at[key] = time.monotonic() + BUSY_RETRY
            raise
        if key is not None:
            with self._lock:
                self._last[key] = (value,)
                self._last.move_to_end(key)
                while len(self._last) > STALE_KEYS:
                    self._last.popitem(last=False)
                self._retry_at.pop(key, None)
        return value

    async def _outcome(self, cf: concurrent.futures.Future, pool: Executor, key: tuple | None, local: bool) -> Any:
        version = self.ctx.mtime() if self.ctx is not None else None
        try:
            out = await asyncio.wrap_future(cf)
        except BrokenProcessPool:
            log.error("a computation worker process died; restarting the pool")
            self._discard(pool)
            raise self._unavailable() from None
        except concurrent.futures.CancelledError:
            raise self._unavailable() from None
        if local or not self.processes:
            return out
        (status, value), charts, shared = out
        ctx = self.ctx
        if ctx is not None:
            for name, body in charts.items():
                ctx.remember_chart(name, body)
            for k, v in shared.items():
                if ctx.peek(k) is None:
                    ctx.cached(k, lambda v=v: v)
        if status == "err":
            raise value.unwrap() if isinstance(value, _Portable) else value
        if key is not None and ctx is not None and ctx.mtime() == version:
            ctx.cached(key, lambda: value)          # the next request is a cache hit on the event loop
        return value

    def close(self) -> None:
        """Stop the pools; worker processes still computing are terminated (app shutdown)."""
        with self._lock:
            pool, self.pool = self.pool, None
            threads, self.threads = self.threads, None
        if threads is not None:
            threads.shutdown(wait=False, cancel_futures=True)
        if pool is None:
            return
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=5)
