"""What the web benchmarks share: start ``tradepulse serve`` on a free loopback port, closed-loop keep-alive
clients (a minimal asyncio HTTP/1.1 client), percentiles and the machine's load.

Used by ``run.py`` (50 clients per page on the demo world) and ``stress.py`` (cached pages while pages
compute and an ingest writes the warehouse).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    """Percentile by linear interpolation between closest ranks (NumPy's default 'linear' method)."""
    xs = sorted(values)
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def env(**extra: str) -> dict[str, str]:
    """The environment of the server and CLI children: this checkout's ``src`` first on the path."""
    path = os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "TRADEPULSE_SECRET_KEY": "benchmark", **extra}


def cli(*args: str) -> list[str]:
    """The ``tradepulse`` command line run by this interpreter (so ``PYTHONPATH`` picks this checkout)."""
    code = "import sys; from tradepulse.cli import main; sys.argv[0] = 'tradepulse'; sys.exit(main())"
    return [sys.executable, "-c", code, *args]


@contextlib.contextmanager
def server(warehouse: Path, groups: str, *, extra_env: dict[str, str] | None = None,
           log: Path | None = None) -> Iterator[str]:
    """``tradepulse serve`` (one uvicorn worker) on a free 127.0.0.1 port; yields its base URL once
    ``/api/v1/tables`` answers, and stops it (SIGTERM: a graceful shutdown that ends its workers)."""
    import httpx
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cli("serve", "--host", "127.0.0.1", "--port", str(port), "--warehouse", str(warehouse),
                                "--groups-db", groups), stdout=out, stderr=subprocess.STDOUT,
                            env=env(**(extra_env or {})))
    try:
        for _ in range(1200):
            if proc.poll() is not None:
                raise SystemExit(f"the server exited with {proc.returncode}")
            try:
                if httpx.get(base + "/api/v1/tables", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise SystemExit("server did not start")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log:
            out.close()


async def http_get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str) -> int:
    """One HTTP/1.1 keep-alive GET on an open connection; returns the status code (body read and dropped)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/html\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


class Samples:
    """Latencies per path, with the time each request started (seconds since ``t0``), and status codes."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.lat: dict[str, list[float]] = {}
        self.at: dict[str, list[float]] = {}
        self.codes: Counter = Counter()

    def add(self, path: str, start: float, seconds: float, status: int) -> None:
        self.lat.setdefault(path, []).append(seconds)
        self.at.setdefault(path, []).append(start - self.t0)
        self.codes[status] += 1


async def closed_loop(base: str, paths: list[str], samples: Samples, *, requests: int | None = None,
                      stop: threading.Event | None = None) -> float:
    """One keep-alive client per entry of ``paths`` (closed loop: the next request when the answer came),
    ``requests`` timed requests each, or until ``stop`` is set; each client first sends one untimed warm-up
    request, and the timed requests of all clients start together.  Returns the timed wall seconds.

    A minimal asyncio HTTP/1.1 client (a few µs of CPU per request) rather than httpx, whose per-request
    overhead on a 2-core machine would dominate what is measured."""
    host_port = base.split("//", 1)[1]
    host, port = host_port.split(":")
    start, ready = asyncio.Event(), []

    async def one(path: str) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            await http_get(reader, writer, host_port, path)             # warm-up: connection open, not timed
            ready.append(1)
            await start.wait()
            n = 0
            while (requests is None or n < requests) and not (stop is not None and stop.is_set()):
                t = time.perf_counter()
                status = await http_get(reader, writer, host_port, path)
                samples.add(path, t, time.perf_counter() - t, status)
                n += 1
        finally:
            writer.close()
    tasks = [asyncio.create_task(one(p)) for p in paths]
    while len(ready) < len(paths):
        if any(t.done() for t in tasks):          # a client failed to connect: raise its error
            await asyncio.gather(*tasks)
        await asyncio.sleep(0.01)
    t0 = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    return time.perf_counter() - t0


class LoadWatch:
    """Samples the 1-minute load average every ``every`` seconds in a thread (the machine is shared)."""

    def __init__(self, every: float = 5.0):
        self.values: list[float] = [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.values.append(os.getloadavg()[0])

    def stop(self) -> str:
        self._stop.set()
        self._thread.join()
        v = self.values
        return f"1-minute load average {min(v):.1f}–{max(v):.1f} (mean {sum(v) / len(v):.1f}) on {os.cpu_count()} cores"
