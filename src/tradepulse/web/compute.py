"""Run dashboard computations off the event loop: a worker pool, single flight per key, per-client caps.

``await Computer.run(request, key, fn)`` returns ``fn()`` computed in a worker thread of a bounded
``ThreadPoolExecutor``.  The event loop never waits on a lock or a query, so static files, cached pages and
the login form are answered while anything computes (issue 15, defect 1).

- *Single flight*: concurrent requests for one ``key`` await one computation (no extra worker, and they do
  not count towards their client's cap).
- *Per-client cap*: a client (its IP, see :func:`tradepulse.web.security.client_ip`) may have at most
  ``per_client`` uncached computations running; the next one gets 429 with ``Retry-After`` — one
  client cannot occupy the whole pool.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import HTTPException, Request

from tradepulse.web.security import client_ip


class Computer:
    """The worker pool and the bookkeeping of computations in flight (one per app)."""

    def __init__(self, workers: int | None = None, per_client: int = 3):
        # one core stays free for the event loop (cached pages and static files): 1 worker on 2 cores
        self.workers = workers or max(1, min(4, (os.cpu_count() or 2) - 1))
        self.per_client = per_client
        self.pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._inflight: dict[tuple, tuple[asyncio.AbstractEventLoop, asyncio.Future]] = {}
        self._running: dict[str, int] = {}

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self.pool is None:
                self.pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="tradepulse-compute")
            return self.pool

    def running(self, client: str) -> int:
        """Uncached computations of ``client`` now running or queued."""
        with self._lock:
            return self._running.get(client, 0)

    async def run(self, request: Request, key: tuple | None, fn: Callable[[], Any]) -> Any:
        """``fn()`` in the pool; joins a computation of the same ``key`` in flight (``None``: never joins)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            joined = self._inflight.get(key) if key is not None else None
        if joined is not None and joined[0] is loop:
            return await asyncio.shield(joined[1])
        client = client_ip(request)
        with self._lock:
            if self._running.get(client, 0) >= self.per_client:
                raise HTTPException(429, f"at most {self.per_client} uncached computations per client at a "
                                         "time; retry in a moment", headers={"Retry-After": "2"})
            self._running[client] = self._running.get(client, 0) + 1

        def job() -> Any:
            try:
                return fn()
            finally:   # counted until the computation itself ends, even when the client went away
                with self._lock:
                    left = self._running.get(client, 1) - 1
                    if left > 0:
                        self._running[client] = left
                    else:
                        self._running.pop(client, None)
        try:
            fut = loop.run_in_executor(self._pool(), job)
        except BaseException:
            with self._lock:
                self._running[client] = self._running.get(client, 1) - 1
            raise
        if key is not None:
            with self._lock:
                self._inflight[key] = (loop, fut)

            def forget(_f: asyncio.Future) -> None:
                with self._lock:
                    if self._inflight.get(key, (None, None))[1] is fut:
                        del self._inflight[key]
            fut.add_done_callback(forget)
        return await asyncio.shield(fut)

    def close(self) -> None:
        with self._lock:
            pool, self.pool = self.pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
