"""One regression test per numbered defect of issue 15 (each failed on main before the fix).

Every test drives the real app (FastAPI TestClient or an in-process ASGI client posing as chosen IP
addresses) on the small SYNTHETIC demo world; none stubs the code under test.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import sqlite3
import subprocess
import sys
import time

import httpx
import openpyxl
import pytest

from .conftest import csrf_of, login

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _slow_table(monkeypatch, name: str, seconds: float, calls: list | None = None):
    """Make table ``name`` take ``seconds`` longer (wrapping the real function: results stay real)."""
    from tradepulse.web import data
    spec = data.TABLES[name]

    def slow(ctx, p):
        if calls is not None:
            calls.append(p)
        time.sleep(seconds)
        return spec.func(ctx, p)
    monkeypatch.setitem(data.TABLES, name, dataclasses.replace(spec, func=slow))


def _asgi(app, ip: str = "203.0.113.7") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 40000)),
                             base_url="http://127.0.0.1")


# ---------------------------------------------------------------- 1. the server stalls
def test_d01_static_and_cached_pages_answer_while_a_page_computes(make_app, monkeypatch):
    """While an uncached page computes for 6 s, a static file, a cached page and the login form answer at
    once (under 2 s even on a loaded 2-core CI machine; on main they waited for the computation).  Threads:
    the slow table is patched in this process (tests/test_web_compute.py checks worker processes)."""
    app = make_app(processes=False)

    async def scenario():
        async with _asgi(app) as c:
            assert (await c.get("/")).status_code == 200                      # warm the overview
            _slow_table(monkeypatch, "products", 6.0)
            slow = asyncio.create_task(c.get("/products", params={"partner": "TUR", "year": 2023}))
            await asyncio.sleep(0.3)
            t0 = time.perf_counter()
            static = await c.get("/static/app.js")
            cached = await c.get("/")
            form = await c.get("/login")
            fast = time.perf_counter() - t0
            assert not slow.done()                       # the slow page was still computing meanwhile
            r = await slow
            return fast, static.status_code, cached.status_code, form.status_code, r.status_code
    fast, *codes = asyncio.run(scenario())
    assert codes == [200, 200, 200, 200]
    assert fast < 2.0, f"static + cached + login took {fast:.2f} s behind one computation"


def test_d01_per_client_cap_answers_429(make_app, monkeypatch):
    """One client's fourth concurrent uncached computation is refused with 429 and Retry-After."""
    app = make_app(per_client=3, processes=False)      # the patch is in this process
    _slow_table(monkeypatch, "products", 1.5)

    async def scenario():
        async with _asgi(app) as c:
            years = (2020, 2021, 2022, 2023)
            rs = await asyncio.gather(*(c.get("/api/v1/tables/products", params={"year": y}) for y in years))
            return [r.status_code for r in rs], [r.headers.get("retry-after") for r in rs]
    codes, retry = asyncio.run(scenario())
    assert sorted(codes) == [200, 200, 200, 429]
    assert retry[codes.index(429)] is not None


# ---------------------------------------------------------------- 2. the cache can be flushed
def test_d02_junk_filter_values_are_refused_and_cannot_flush_the_cache(make_app, monkeypatch):
    """300 junk partner values answer 404 naming the accepted values, never compute, and the cached
    page stays cached (threads: the counting patch is in this process)."""
    from fastapi.testclient import TestClient
    with TestClient(make_app(processes=False), base_url="http://127.0.0.1") as client:
        _d02(client, monkeypatch)


def _d02(client, monkeypatch) -> None:
    calls: list = []
    _slow_table(monkeypatch, "products", 0.0, calls)
    assert client.get("/products").status_code == 200
    warm = len(calls)
    assert warm >= 1
    for i in range(300):
        r = client.get("/products", params={"partner": f"JUNK{i}"})
        assert r.status_code == 404, (i, r.status_code)
    assert "neighbours15" in r.text                         # the answer names accepted values
    assert client.get("/products", params={"year": "20x7"}).status_code == 422
    assert client.get("/products").status_code == 200
    assert len(calls) == warm                               # nothing recomputed: the cache was not flushed


# ---------------------------------------------------------------- 3. logout does not end a session
def _first_action(site) -> dict:
    """id and version of the first action item, read from the database (group tables need a login)."""
    from tradepulse.groups.db import session_factory
    from tradepulse.groups.service import GroupService
    with session_factory(site[1])() as s:
        a = GroupService(s).actions()[0]
        return {"id": a.id, "version": a.version, "status": a.status}


def test_d03_a_cookie_replayed_after_logout_is_anonymous(client, site):
    assert login(client, "secretary", "secretary-demo").status_code == 303
    token = csrf_of(client, "/groups")
    cookie = client.cookies.get("tradepulse_session")
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    client.cookies.set("tradepulse_session", cookie)        # the attacker replays the old cookie
    assert client.get("/api/v1/tables/actions").status_code == 401      # anonymous: no group data
    a = _first_action(site)
    r = client.post(f"/groups/actions/{a['id']}", data={"version": a["version"], "status": "done", "note": "x",
                                                         "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 401
    assert _first_action(site)["version"] == a["version"]


# ---------------------------------------------------------------- 4. role changes do not reach sessions
def test_d04_a_role_change_ends_the_users_sessions(make_app, site):
    from fastapi.testclient import TestClient

    from tradepulse.groups.db import session_factory
    from tradepulse.groups.service import GroupService
    with session_factory(site[1])() as s:
        GroupService(s).create_user("admin2", "second-admin-passphrase", "admin", actor="test")
    app = make_app()
    with TestClient(app, base_url="http://127.0.0.1") as boss, \
            TestClient(app, base_url="http://127.0.0.1") as sec, TestClient(app, base_url="http://127.0.0.1") as adm:
        assert login(boss, "admin", "admin-demo").status_code == 303
        assert login(sec, "secretary", "secretary-demo").status_code == 303
        assert login(adm, "admin2", "second-admin-passphrase").status_code == 303
        assert adm.get("/admin/users").status_code == 200
        token = csrf_of(boss, "/admin/users")
        for user in ("secretary", "admin2"):
            r = boss.post("/admin/users", data={"username": user, "role": "viewer", "csrf_token": token},
                          follow_redirects=False)
            assert r.status_code == 303 and "msg=role" in r.headers["location"]
        a = _first_action(site)
        r = sec.post(f"/groups/actions/{a['id']}", data={"version": a["version"], "status": "done",
                                                          "csrf_token": csrf_of(sec, "/login")},
                     follow_redirects=False)
        assert r.status_code == 401                              # the session ended with the role change
        assert adm.get("/admin/users", follow_redirects=False).status_code in (303, 401)


def test_d04_a_per_group_role_change_ends_the_users_sessions(make_app, site):
    """Issue 16's per-group roles follow the same rule: changing one ends the user's sessions at once."""
    from fastapi.testclient import TestClient

    from tradepulse.groups.db import session_factory
    from tradepulse.groups.service import GroupService
    with session_factory(site[1])() as s:
        gid = GroupService(s).groups()[0].id
    app = make_app()
    with TestClient(app, base_url="http://127.0.0.1") as boss, TestClient(app, base_url="http://127.0.0.1") as sec:
        assert login(boss, "admin", "admin-demo").status_code == 303
        assert login(sec, "secretary", "secretary-demo").status_code == 303
        assert sec.get("/api/v1/tables/actions").status_code == 200
        r = boss.post("/admin/group-roles", data={"username": "secretary", "group": str(gid), "role": "secretary",
                                                  "csrf_token": csrf_of(boss, "/admin/group-roles")},
                      follow_redirects=False)
        assert r.status_code == 303 and "msg=saved" in r.headers["location"]
        assert sec.get("/api/v1/tables/actions").status_code == 401          # logged out by the change
        assert boss.get("/api/v1/tables/actions").status_code == 200         # other users keep theirs


# ---------------------------------------------------------------- 5. downloads run formulas
def test_d05_downloads_neutralise_formulas(client, site):
    from tradepulse.groups.db import session_factory
    from tradepulse.groups.service import GroupService
    evil = ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)", "\t=1+1",
            "\r=1+1"]
    with session_factory(site[1])() as s:
        svc = GroupService(s)
        group = svc.groups()[0].name
        ids = [svc.add_action(group, title, "customs", actor="test").id for title in evil]
    assert login(client, "viewer", "viewer-demo").status_code == 303     # group tables need a login (issue 16)
    for lang in ("en", "fa"):                                  # the Persian downloads (issue 16) too
        r = client.get("/download/actions.csv", params={"lang": lang})
        assert r.status_code == 200
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        by_id = {int(row[0]): row for row in rows[1:]}         # columns: id, group, province, title, ...
        for i, title in zip(ids, evil):      # defusedcsv also escapes "|" (DDE payloads) as "\|"
            cell = by_id[i][3]
            assert cell.startswith("'") and cell[1:].replace("\\|", "|") == title, (lang, cell)
        for row in rows:                                         # no cell of any row starts a formula
            assert not any(str(v).startswith(FORMULA_START) for v in row), (lang, row)
        wb = openpyxl.load_workbook(io.BytesIO(client.get("/download/actions.xlsx", params={"lang": lang}).content))
        cells = [c for row in wb.active.iter_rows() for c in row]
        assert not [c.coordinate for c in cells if c.data_type == "f"], lang
        titles = {c.value.replace("\r", "\n") for c in cells if isinstance(c.value, str)}   # XML reads CR as LF
        assert {"'" + t.replace("\r", "\n") for t in evil} <= titles, lang


# ---------------------------------------------------------------- 6. one bad deadline breaks pages
def test_d06_out_of_range_deadlines_are_refused_and_old_ones_do_not_break_pages(client, site):
    assert login(client, "secretary", "secretary-demo").status_code == 303
    a = _first_action(site)
    token = csrf_of(client, "/groups")
    for bad in ("0621-12-31", "9999-12-31", "1899-12-31"):
        r = client.post(f"/groups/actions/{a['id']}", data={"version": a["version"], "status": a["status"],
                                                             "deadline": bad, "csrf_token": token},
                        follow_redirects=False)
        assert r.status_code in (400, 422) and "out of range" in r.text, (bad, r.status_code)
    assert _first_action(site)["version"] == a["version"]
    # a date stored before the check existed must not break anything for anyone
    con = sqlite3.connect(site[1].removeprefix("sqlite:///"))
    con.execute("UPDATE action_items SET deadline = '9999-12-31' WHERE id = ?", (a["id"],))
    con.commit()
    con.close()
    for path in ("/groups?lang=fa", "/groups", "/api/v1/tables/actions", "/download/actions.csv",
                 "/download/actions.xlsx", "/download/actions.csv?lang=fa", "/download/actions.xlsx?lang=fa",
                 "/briefs/download?fmt=html&lang=fa"):
        assert client.get(path).status_code == 200, path


# ---------------------------------------------------------------- 7. other bad input gives 500s
def test_d07_bad_input_is_a_clear_4xx(client):
    assert client.get("/", params={"year": "9" * 4301}).status_code == 422
    assert client.get("/briefs/download", params={"date": "9999-12-31"}).status_code == 422
    assert login(client, "secretary", "secretary-demo").status_code == 303
    token = csrf_of(client, "/groups")
    r = client.post("/groups/actions/9223372036854775808", data={"version": 1, "status": "open",
                                                                 "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 422
    header = ("ref,group,decision_ref,title,owner,deadline,deadline_jalali,status,target_id,indicator,note,"
              "completed_on,version\n")
    row = "x1,National working group,,Tâche à faire,customs,2026-01-01,,open,,,,,1\n"
    bodies = {"latin-1": (header + row).encode("latin-1"), "utf-16": (header + row).encode("utf-16"),
              "binary": bytes(range(256)) * 40,
              "huge field": (header + "x1,National working group,," + "a" * 140_000 + ",customs,,,open,,,,,1\n")
              .encode()}
    for what, body in bodies.items():
        r = client.post("/groups/import", data={"csrf_token": token},
                        files={"file": ("actions.csv", body, "text/csv")}, follow_redirects=False)
        assert r.status_code == 422, (what, r.status_code)
        assert "actions.csv" in r.text and "/tmp" not in r.text and "tmp" not in r.text.lower().split("actions")[0][-12:]


# ---------------------------------------------------------------- 8. ingest and the dashboard block each other
HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == 'ro')
print('locked', flush=True)
time.sleep(float(sys.argv[3]))
con.close()
"""


def _hold(path, mode: str, seconds: float) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(path), mode, str(seconds)], stdout=subprocess.PIPE,
                         text=True)
    assert p.stdout.readline().strip() == "locked"
    return p


def test_d08_a_writer_gives_503_with_retry_after_never_400(demo, tmp_path, monkeypatch):
    import shutil

    from fastapi.testclient import TestClient

    from tradepulse.web import data
    from tradepulse.web.app import create_app
    wh = tmp_path / "w.duckdb"
    shutil.copy(demo[0], wh)
    monkeypatch.setattr(data, "OPEN_RETRIES", 2)
    monkeypatch.setattr(data, "OPEN_DELAY", 0.05)
    with TestClient(create_app(wh, None, "k"), base_url="http://127.0.0.1") as c:
        assert c.get("/").status_code == 200                              # cached before the writer comes
        holder = _hold(wh, "rw", 20)
        try:
            r = c.get("/api/v1/tables/products", params={"year": 2022})
            assert r.status_code == 503 and int(r.headers["retry-after"]) > 0, r.status_code
            assert c.get("/").status_code == 200                          # cached pages keep being served
        finally:
            holder.kill()
            holder.wait()
        assert c.get("/api/v1/tables/products", params={"year": 2022}).status_code == 200


def test_d08_an_ingest_meeting_a_reader_fails_with_one_line(demo, tmp_path):
    import shutil

    from tradepulse.cli.ingest import _open_writer
    from tradepulse.errors import TradepulseError
    from tradepulse.warehouse import Warehouse
    wh = tmp_path / "w.duckdb"
    shutil.copy(demo[0], wh)
    holder = _hold(wh, "ro", 20)
    try:
        t0 = time.perf_counter()
        with pytest.raises(TradepulseError) as err:
            _open_writer(Warehouse, wh, wait=1.0)
        assert 0.9 < time.perf_counter() - t0 < 10
    finally:
        holder.kill()
        holder.wait()
    msg = str(err.value)
    assert "\n" not in msg and "in use by another process" in msg
    _open_writer(Warehouse, wh, wait=5.0).close()                       # free again: the writer gets in


# ---------------------------------------------------------------- 9. the API catalogue is wrong
def test_d09_api_catalogue_is_right(client):
    tables = {t["name"]: t for t in client.get("/api/v1/tables").json()}
    assert tables["trade"]["filters"] == ["year", "partner", "product", "province"]
    assert all(t["description"] for t in tables.values())
    assert "province" not in tables["diversification"]["filters"]
    r = client.get("/api/v1/tables/diversification", params={"province": "Tehran"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/json")
    assert "takes year, partner, product" in r.json()["detail"]
    r = client.get("/api/v1/tables/partners", params={"partner": "ZZZ"})
    assert r.status_code == 404 and "neighbours15" in r.json()["detail"]
    for path in ("/api/v1/nope", "/api/v1/tables/nope", "/download/nope.csv"):
        r = client.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/json"), path
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/static/vendor/swagger-ui-bundle.js" in docs.text
    assert "https://" not in docs.text
    assert client.get("/static/vendor/swagger-ui-bundle.js").status_code == 200
    spec = client.get("/openapi.json").json()
    row = spec["components"]["schemas"]["TradeRow"]["properties"]
    assert {"type": "integer"} in row["year"]["anyOf"] and {"type": "number"} in row["exports"]["anyOf"]


# ---------------------------------------------------------------- 10. login hardening is missing
def test_d10_unknown_users_take_as_long_as_real_ones(site):
    from tradepulse.groups.auth import Accounts
    from tradepulse.groups.db import session_factory
    with session_factory(site[1])() as s:
        acc = Accounts(s)
        acc.authenticate("nobody-at-all", "x")                          # warm the dummy hash

        def median(user: str) -> float:
            ts = []
            for _ in range(5):
                t0 = time.perf_counter()
                assert acc.authenticate(user, "wrong password") is None
                ts.append(time.perf_counter() - t0)
            return sorted(ts)[2]
        real, unknown = median("admin"), median("nobody-at-all")
    assert unknown > 0.5 * real, (unknown, real)


def test_d10_spraying_lockout_and_forwarded_for(make_app):
    app = make_app(login_max_failures=5, login_window=60)

    async def attempt(c, user, password, **headers) -> int:
        page = await c.get("/login")
        import re
        token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text).group(1)
        r = await c.post("/login", data={"username": user, "password": password, "csrf_token": token},
                         headers=headers)
        return r.status_code

    async def scenario():
        out = {}
        async with _asgi(app, "198.51.100.1") as sprayer:               # one password over many names
            out["spray"] = [await attempt(sprayer, f"user{i}", "Winter2026!") for i in range(25)]
        async with _asgi(app, "198.51.100.2") as guesser:               # rotating X-Forwarded-For: ignored
            out["xff"] = [await attempt(guesser, "admin", "guess", **{"X-Forwarded-For": f"10.0.0.{i}"})
                          for i in range(7)]
        async with _asgi(app, "192.0.2.50") as real:                    # the real admin elsewhere
            out["real"] = await attempt(real, "admin", "admin-demo")
        return out
    out = asyncio.run(scenario())
    assert 429 in out["spray"] and out["spray"][0] == 401
    assert out["xff"][:5] == [401] * 5 and out["xff"][5:] == [429, 429]
    assert out["real"] == 303                                          # not locked out by the attacker


def test_d10_origin_secure_cookies_password_and_names(client, make_app):
    from fastapi.testclient import TestClient

    from tradepulse.cli.serve import is_loopback
    from tradepulse.groups.auth import PolicyError, check_password, check_username
    token = csrf_of(client)
    r = client.post("/login", data={"username": "admin", "password": "admin-demo", "csrf_token": token},
                    headers={"Origin": "http://evil.example"}, follow_redirects=False)
    assert r.status_code == 403
    assert not is_loopback("0.0.0.0") and is_loopback("127.0.0.1") and is_loopback("::1")
    with TestClient(make_app(https_only=True), base_url="https://127.0.0.1") as c:
        assert "secure" in c.get("/login").headers["set-cookie"].lower()
    for weak in ("password", "12345678", " " * 8, "admin-dem", "aaaaaaaaaaaaaaaa", "password1234"):
        with pytest.raises(PolicyError):
            check_password(weak)
    check_password("correct horse battery staple")
    check_password("Tq7#vL9$wX")                                       # short but strong (zxcvbn ≥ 3)
    for name in ("admin ", "ad\u202emin", "ad\u200bmin", "a\u0007b", ""):
        with pytest.raises(PolicyError):
            check_username(name)


def test_d10_look_alike_names_and_last_admin(client, site):
    from tradepulse.groups.auth import LastAdminError, PolicyError
    from tradepulse.groups.db import session_factory
    from tradepulse.groups.service import GroupService
    with session_factory(site[1])() as s:
        svc = GroupService(s)
        for name in ("ADMIN", "Admin", "ａｄｍｉｎ"):                        # case and NFKC (full-width) variants
            with pytest.raises(PolicyError, match="already exists"):
                svc.create_user(name, "a long enough passphrase", "viewer")
        with pytest.raises(LastAdminError):
            svc.set_role("admin", "viewer")
    assert login(client, "ADMIN", "admin-demo").status_code == 303     # names compare without case
    token = csrf_of(client, "/admin/users")
    r = client.post("/admin/users", data={"username": "admin", "role": "viewer", "csrf_token": token},
                    follow_redirects=False)
    assert "msg=error" in r.headers["location"] and "last+administrator" in r.headers["location"]
    assert client.get("/admin/users").status_code == 200                # still admin


# ---------------------------------------------------------------- 11. corrupt or empty groups database
@pytest.mark.parametrize("content", [b"", b"this is not a database" * 100])
def test_d11_a_broken_groups_db_is_a_clear_503_and_is_never_recreated(demo, tmp_path, content):
    from fastapi.testclient import TestClient

    from tradepulse.web.app import create_app
    db = tmp_path / "groups.sqlite"
    db.write_bytes(content)
    with TestClient(create_app(demo[0], f"sqlite:///{db}", "k"), base_url="http://127.0.0.1") as c:
        for path in ("/groups", "/api/v1/tables/actions"):
            r = c.get(path)
            assert r.status_code == 503 and "database" in r.text, path
        token = csrf_of(c)
        r = c.post("/login", data={"username": "admin", "password": "admin-demo", "csrf_token": token},
                   follow_redirects=False)
        assert r.status_code == 503
        assert c.get("/").status_code == 200                            # indicator pages keep working
        assert c.get("/api/v1/tables/trade").status_code == 200
    assert db.read_bytes() == content                                   # never silently re-created


def test_d10_proxy_headers_are_believed_only_from_a_trusted_proxy(make_app):
    """Behind ``--trusted-proxy``: the client address comes from X-Forwarded-For (limits per real client)
    and the public host from X-Forwarded-Host (the Origin check passes); from any other peer both are
    ignored."""
    import re
    app = make_app(trusted_proxies=["203.0.113.9"], login_max_failures=2)

    async def attempt(c, ip: str, origin: str) -> int:
        token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', (await c.get("/login")).text).group(1)
        r = await c.post("/login", data={"username": "admin", "password": "nope", "csrf_token": token},
                         headers={"X-Forwarded-For": ip, "X-Forwarded-Host": "public.example", "Origin": origin})
        return r.status_code

    async def scenario():
        async with _asgi(app, "203.0.113.9") as proxy:
            a = [await attempt(proxy, "198.51.100.10", "https://public.example") for _ in range(3)]
            b = await attempt(proxy, "198.51.100.11", "https://public.example")   # another real client
            c = await attempt(proxy, "198.51.100.12", "https://evil.example")
        async with _asgi(app, "198.51.100.99") as direct:                      # not a proxy: headers ignored
            d = await attempt(direct, "1.2.3.4", "https://public.example")
        return a, b, c, d
    a, b, c, d = asyncio.run(scenario())
    assert a == [401, 401, 429] and b == 401 and c == 403 and d == 403
