"""Fixtures of the security tests (issue 15): one SYNTHETIC demo site per session, fresh copies of its
working-group database for tests that write, and an async ASGI client that can pose as any IP address."""

from __future__ import annotations

import re
import shutil

import pytest


@pytest.fixture(scope="session")
def demo(tmp_path_factory, demo_copy):
    """(warehouse path, groups.sqlite path) of the small SYNTHETIC demo world (built once)."""
    from tradepulse.web.testing import demo_site
    wh, url = demo_site(demo_copy(tmp_path_factory.mktemp("security-demo")))
    return wh, url.removeprefix("sqlite:///")


@pytest.fixture
def site(demo, tmp_path):
    """A copy of the demo's groups database (tests here write to it); the warehouse is shared read-only."""
    db = tmp_path / "groups.sqlite"
    shutil.copy(demo[1], db)
    return demo[0], f"sqlite:///{db}"


@pytest.fixture
def make_app(site):
    from tradepulse.web.app import create_app

    def make(**kw):
        return create_app(site[0], site[1], "security-test", **kw)
    return make


@pytest.fixture
def client(make_app):
    from fastapi.testclient import TestClient
    with TestClient(make_app(), base_url="http://127.0.0.1") as c:
        yield c


def csrf_of(client, path: str = "/login") -> str:
    m = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', client.get(path).text)
    assert m, "no CSRF token in form"
    return m.group(1)


def login(client, user: str, password: str, **headers):
    token = csrf_of(client)
    return client.post("/login", data={"username": user, "password": password, "csrf_token": token, "next": "/"},
                       follow_redirects=False, headers=headers)
