"""What the browser test modules share: a uvicorn server on loopback, Chromium through Playwright, the
screenshot folder, logging in and waiting for charts (import as ``from browser_support import ...``).

Chromium is Debian's ``/usr/bin/chromium``, started with the flags this machine's closed network needs.  Screenshots
go to pytest's temporary directory, or replace the committed ``docs/screenshots/*.png`` when
``TRADEPULSE_SCREENSHOTS=1`` is in the environment (see docs/web.md).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
DOC_SHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def require_browser() -> None:
    """Skip the module's tests when Chromium or Playwright is missing."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing (install Debian's chromium package: apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")


@contextlib.contextmanager
def serving(app) -> Iterator[str]:
    """Run ``app`` under uvicorn in a daemon thread on a free loopback port; yields its base URL."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        th.join(timeout=10)


def demo_app(folder: Path, key: str):
    """The dashboard on the small SYNTHETIC demo world built in ``folder``; returns (app, groups-db URL)."""
    from tradepulse.web.app import create_app
    from tradepulse.web.testing import demo_site

    wh, url = demo_site(folder)
    return create_app(wh, url, key), url


def shots_dir(tmp_path_factory, name: str = "screenshots") -> Path:
    """``docs/screenshots`` when ``TRADEPULSE_SCREENSHOTS=1``, else a fresh temporary directory."""
    if os.environ.get("TRADEPULSE_SCREENSHOTS") == "1":
        DOC_SHOTS.mkdir(parents=True, exist_ok=True)
        return DOC_SHOTS
    return tmp_path_factory.mktemp(name)


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Chromium browser driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


def login(pg, user: str, password: str) -> None:
    """Sign in through the login form."""
    pg.goto("/login")
    pg.fill("input[name=username]", user)
    pg.fill("input[name=password]", password)
    pg.click("#login-form button[type=submit]")
    pg.wait_for_load_state()


def wait_charts(pg, timeout: int = 20000) -> None:
    """Wait until every ``.chart`` has rendered, and fail naming the ones that did not render."""
    pg.wait_for_function("() => [...document.querySelectorAll('.chart')].every(e => e.dataset.rendered)",
                         timeout=timeout)
    bad = pg.eval_on_selector_all(".chart", "els => els.filter(e => e.dataset.rendered !== 'ok').map(e => e.id)")
    assert bad == [], f"charts failed to render: {bad}"
