"""The dashboard's computation pool in worker processes (issue 15): single flight across processes,
per-client cap, a crashed worker answers 503 (never a hang), workers end with the app, and what a worker
computes (pages, chart data, the footer's sources) reaches the server's cache."""

from __future__ import annotations

import asyncio
import functools
import os
import re
import time
from pathlib import Path

import pytest
from fastapi import HTTPException

from tradepulse.web.compute import Computer
from tradepulse.web.data import WarehouseBusy
from tradepulse.web.testing import busy, die, logged_call


@pytest.fixture(scope="module")
def site(tmp_path_factory, demo_copy):
    from tradepulse.web.testing import demo_site
    return demo_site(demo_copy(tmp_path_factory.mktemp("web-compute")))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_single_flight_across_processes(tmp_path):
    """Five concurrent requests for one key run the job once, in one worker process (not this one);
    another key runs on its own."""
    log = tmp_path / "calls.txt"
    computer = Computer(workers=2, per_client=10)
    try:
        async def scenario():
            job = functools.partial(logged_call, str(log), 1.0)
            same = [computer.run(None, ("k",), job, client=f"10.0.0.{i}") for i in range(5)]
            other = computer.run(None, ("other",), functools.partial(logged_call, str(log), 0.0), client="10.0.0.9")
            return await asyncio.gather(*same, other)
        *pids, other = asyncio.run(scenario())
    finally:
        computer.close()
    lines = log.read_text().split()
    assert len(lines) == 2                                   # one run for the five, one for the other key
    assert len(set(pids)) == 1 and pids[0] != os.getpid()    # all five got the one worker's answer
    assert {int(x) for x in lines} >= {pids[0]} and other != os.getpid()


def test_per_client_cap_across_processes(tmp_path):
    """With per_client=2 a client's third concurrent computation is refused (429, Retry-After) while
    another client is still served; the count goes back to 0 when the computations end."""
    computer = Computer(workers=2, per_client=2)
    log = str(tmp_path / "calls.txt")
    try:
        async def scenario():
            async def one(key, who):
                try:
                    await computer.run(None, (key,), functools.partial(logged_call, log, 1.0), client=who)
                    return 200, None
                except HTTPException as exc:
                    return exc.status_code, (exc.headers or {}).get("Retry-After")
            return await asyncio.gather(one("a", "1.1.1.1"), one("b", "1.1.1.1"), one("c", "1.1.1.1"),
                                        one("d", "2.2.2.2"))
        out = asyncio.run(scenario())
        assert sorted(code for code, _ in out[:3]) == [200, 200, 429]
        assert [r for code, r in out if code == 429] == ["2"]
        assert out[3] == (200, None)
        assert computer.running("1.1.1.1") == 0 and computer.running("2.2.2.2") == 0
    finally:
        computer.close()


def test_a_crashed_worker_answers_503_and_the_pool_recovers(tmp_path):
    """A worker that dies (os._exit, as the OOM killer would) answers 503 with Retry-After within
    seconds — not a hang — and the next computation runs in a new worker."""
    computer = Computer(workers=1, per_client=5)
    try:
        async def crash():
            return await asyncio.wait_for(computer.run(None, ("boom",), functools.partial(die, 3)), 60)
        with pytest.raises(HTTPException) as err:
            asyncio.run(crash())
        assert err.value.status_code == 503 and int(err.value.headers["Retry-After"]) > 0
        assert computer.running("-") == 0
        pid = asyncio.run(asyncio.wait_for(
            computer.run(None, ("ok",), functools.partial(logged_call, str(tmp_path / "c.txt"))), 60))
        assert pid != os.getpid() and _alive(pid)
    finally:
        computer.close()


def test_worker_errors_keep_their_status(site):
    """Errors raised in a worker reach the server as themselves: an unknown partner is 404 naming the
    accepted values (UnknownNameError cannot be unpickled from its args), a bad year 422."""
    from fastapi.testclient import TestClient

    from tradepulse.web.app import create_app
    with TestClient(create_app(site[0], site[1], "k"), base_url="http://127.0.0.1") as c:
        r = c.get("/api/v1/tables/partners", params={"partner": "QQQ"})
        assert r.status_code == 404 and "QQQ" in r.json()["detail"] and "caspian" in r.json()["detail"]
        assert c.get("/api/v1/tables/partners", params={"year": 1800}).status_code == 422
        assert c.get("/products", params={"partner": "QQQ"}).status_code == 404


def test_pages_from_workers_are_cached_served_with_their_charts_and_workers_end_with_the_app(site):
    """A page computed in a worker is then a cache hit in the server (peek), its chart datasets are served
    by /charts/data, the footer names the data source, and the app's shutdown ends the worker processes."""
    from fastapi.testclient import TestClient

    from tradepulse.web.app import create_app
    app = create_app(site[0], site[1], "k")
    with TestClient(app, base_url="http://127.0.0.1") as c:
        html = c.get("/products").text
        pids = app.state.computer.worker_pids()
        assert pids and os.getpid() not in pids
        assert any(k[:2] == ("html", "products") for k in _cache_keys(app.state.ctx))
        t0 = time.perf_counter()
        again = c.get("/products")
        assert again.status_code == 200 and time.perf_counter() - t0 < 2.0
        urls = set(re.findall(r"/charts/data/data-[0-9a-f]+\.json", html))
        assert urls, "the products page has large chart datasets"
        for u in urls:
            body = c.get(u)
            assert body.status_code == 200 and body.json()
        assert "demo-synthetic" in c.get("/").text                 # the footer's source (computed in a worker)
    deadline = time.time() + 10
    while any(_alive(p) for p in pids) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in pids)


def _cache_keys(ctx) -> list[tuple]:
    return [k[1:] for k in [*ctx._cache, *ctx._hot]]


def test_static_and_cached_pages_answer_while_workers_compute(site):
    """While a worker process computes an uncached page, a static file and a cached page answer at once."""
    import httpx

    from tradepulse.web.app import create_app
    app = create_app(site[0], site[1], "k")

    async def scenario():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("203.0.113.9", 4000)),
                                     base_url="http://127.0.0.1") as c:
            assert (await c.get("/")).status_code == 200
            slow = asyncio.create_task(c.get("/markets", params={"partner": "TUR", "year": 2020}))
            await asyncio.sleep(0.2)
            t0 = time.perf_counter()
            codes = [(await c.get(p)).status_code for p in ("/static/app.js", "/", "/login")]
            fast = time.perf_counter() - t0
            return codes, fast, (await slow).status_code
    try:
        codes, fast, slow = asyncio.run(scenario())
    finally:
        app.state.computer.close()
    assert codes == [200, 200, 200] and slow == 200
    assert fast < 2.0, f"static + cached + login took {fast:.2f} s behind one computation"


def test_jobs_sent_to_workers_pickle(site):
    """Every kind of job the app sends to a worker pickles (closures would fail only at run time)."""
    from multiprocessing.reduction import ForkingPickler

    from tradepulse.web.data import DataContext
    ctx = DataContext(Path(site[0]), site[1])
    back = ForkingPickler.loads(ForkingPickler.dumps(ctx))
    assert back.path == ctx.path and back.groups_url == ctx.groups_url and back is not ctx
    from tradepulse.web.pages.partner import build_partner
    from tradepulse.web.pages.product import build_product
    for build in (build_partner("TUR"), build_product("2709")):
        ForkingPickler.loads(ForkingPickler.dumps(build))


def test_stale_value_while_a_key_recomputes_and_after_the_ingest_lock(tmp_path, monkeypatch):
    """``stale_ok``: while a key recomputes, other requests get its last value at once (the request that
    started the recomputation waits for the new one); after a recomputation met the ingest's lock
    (WarehouseBusy → 503 for its request), the last value is served for BUSY_RETRY seconds without a new
    attempt, then at once while a new attempt runs in the background."""
    from tradepulse.web import compute
    monkeypatch.setattr(compute, "BUSY_RETRY", 1.5)
    log = tmp_path / "calls.txt"
    computer = Computer(workers=1, per_client=10)
    try:
        async def scenario():
            first = await computer.run(None, ("page",), functools.partial(logged_call, str(log), 0.0), stale_ok=True)
            slow = asyncio.create_task(computer.run(None, ("page",), functools.partial(logged_call, str(log), 3.0),
                                                    client="1.1.1.1", stale_ok=True))
            await asyncio.sleep(0.5)
            t0 = time.perf_counter()
            during = await computer.run(None, ("page",), functools.partial(logged_call, str(log), 0.0),
                                        client="2.2.2.2", stale_ok=True)
            quick = time.perf_counter() - t0
            fresh = await slow
            with pytest.raises(WarehouseBusy):
                await computer.run(None, ("page",), functools.partial(busy, str(log)), stale_ok=True)
            after = await computer.run(None, ("page",), functools.partial(logged_call, str(log), 0.0),
                                       client="3.3.3.3", stale_ok=True)
            attempts = len(log.read_text().split())
            await asyncio.sleep(1.6)
            t0 = time.perf_counter()
            later = await computer.run(None, ("page",), functools.partial(busy, str(log)), stale_ok=True)
            quick2 = time.perf_counter() - t0
            for _ in range(100):                                  # the background attempt runs meanwhile
                if len(log.read_text().split()) > attempts:
                    break
                await asyncio.sleep(0.1)
            return first, during, quick, fresh, after, attempts, later, quick2
        first, during, quick, fresh, after, attempts, later, quick2 = asyncio.run(scenario())
    finally:
        computer.close()
    assert during == first and quick < 0.5                   # the last value, without waiting
    assert fresh == first                                    # (one worker: the same pid, computed anew)
    assert after == fresh and attempts == 3                  # first, the recomputation, the busy attempt
    assert later == fresh and quick2 < 0.5                   # after the window: the last value at once ...
    assert len(log.read_text().split()) == 4                 # ... and one attempt in the background


def test_a_page_meeting_the_ingest_lock_is_503_and_not_cached(site, tmp_path):
    """An uncached page computed while a writer holds the warehouse answers 503 (Retry-After) — it is not
    made of "warehouse busy" sections and cached until the next version — and computes once the writer
    is gone."""
    import shutil
    import subprocess
    import sys

    from fastapi.testclient import TestClient

    from tradepulse.web.app import create_app
    wh = tmp_path / "w.duckdb"
    shutil.copy(site[0], wh)
    hold = ("import sys, time, duckdb; con = duckdb.connect(sys.argv[1]); print('locked', flush=True); "
            "time.sleep(30)")
    with TestClient(create_app(wh, None, "k"), base_url="http://127.0.0.1") as c:
        assert c.get("/").status_code == 200                                 # warm (workers started)
        holder = subprocess.Popen([sys.executable, "-c", hold, str(wh)], stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "locked"
            r = c.get("/markets", params={"year": 2021})
            assert r.status_code == 503 and int(r.headers["retry-after"]) > 0, r.status_code
        finally:
            holder.kill()
            holder.wait()
        r = c.get("/markets", params={"year": 2021})
        assert r.status_code == 200 and "being written" not in r.text
