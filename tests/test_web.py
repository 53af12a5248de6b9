"""Web dashboard tests with FastAPI's TestClient on the small SYNTHETIC demo world.

Covers: pages in English and Persian (RTL), session cookie flags, CSRF, login rate limiting, roles,
editing action items (optimistic locking), the 5 MB upload limit, JSON API pagination and filters checked
against independent SQL on the warehouse, CSV / Excel downloads, honest "not available yet" sections,
the cache, i18n formatting and the ``serve`` command.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from tradepulse.web import pages
from tradepulse.web.security import LoginRateLimiter

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "src" / "tradepulse" / "web"
PAGES = ["/", "/products", "/markets", "/provinces", "/targets", "/groups", "/briefs"]


# ---------------------------------------------------------------- pure units
def test_jalali_dates_and_persian_digits():
    """Nowruz 1403 = 2024-03-20 (Solar Hijri year start); 2023-03-20 is 1401/12/29 (last day of 1401).
    Dashboard formats (shared :class:`tradepulse.i18n.Formatter`, None/NaN shown empty): compact dollars
    −878.41e6 → ``-$878.41 m`` (CLDR en minus U+002D), in Persian ``−۸۷۸٫۴۱ میلیون دلار`` (U+2212);
    shares as percentages without sign, 0.1234 → ``۱۲٫۳٪`` (CLDR arabext percent sign U+066A)."""
    en, fa = pages.fmt_of("en"), pages.fmt_of("fa")
    assert fa.numeric_date(dt.date(2024, 3, 20)) == "۱۴۰۳/۰۱/۰۱"
    assert fa.numeric_date(dt.date(2023, 3, 20)) == "۱۴۰۱/۱۲/۲۹"
    assert en.numeric_date("2024-03-20") == "2024-03-20"
    assert fa.year(2023) == "۱۴۰۲ (۲۰۲۳)" and en.year(2023) == "2023"
    assert fa.num(1234567.891, 2) == "۱٬۲۳۴٬۵۶۷٫۸۹"
    assert en.usd(-878.41e6) == "-$878.41 m"
    assert fa.usd(-878.41e6) == "−۸۷۸٫۴۱ میلیون دلار"
    assert en.usd(123_760_000_000) == "$123.76 bn" and fa.usd(123_760_000_000) == "۱۲۳٫۷۶ میلیارد دلار"
    assert en.usd(45_600) == "$45.60 k" and en.usd(789.4) == "$789" and fa.usd(789.4) == "۷۸۹ دلار"
    assert en.usd(float("nan")) == "" and en.usd(None) == ""
    assert pages.fmt_cell("export_share", 0.1234, "fa") == "۱۲٫۳٪"
    assert pages.fmt_cell("exports_growth", -0.05, "en") == "-5.0%"
    assert pages.fmt_cell("status", "in_progress", "fa") == "در حال انجام"
    assert pages.fmt_cell("status", "on-track", "en") == "on track"
    assert pages.fmt_cell("id", -12, "fa") == "−۱۲" and pages.fmt_cell("pci", 1.23456, "en") == "1.235"


def test_column_labels_and_statuses_are_translated():
    """Every column, status and page-title label of the dashboard has a Persian translation (different from
    its English msgid), and the ``dashboard`` context keeps the dashboard's wording where the brief words the
    same English differently."""
    from tradepulse.web.space import HS_SECTIONS
    fa = pages.fmt_of("fa")
    for label in [*pages.COLUMN_LABELS.values(), *pages.STATUS_LABELS.values(), *pages.PAGE_TITLES.values(),
                  *pages.ROLE_LABELS.values(), *pages.METRIC_LABELS.values(),
                  *(v for t in pages.VALUE_LABELS.values() for v in t.values()), *(n for _, n in HS_SECTIONS)]:
        assert fa.msg(label) != (label[1] if isinstance(label, tuple) else label), label
    assert fa.msg(pages.COLUMN_LABELS["partner_name"]) == "شریک تجاری"  # the brief says «کشور طرف تجاری»
    assert fa.msg(pages.COLUMN_LABELS["partner"]) == "کد ISO3"          # issue 20: no two "Partner" columns
    assert fa.gettext("Partner") == "کشور طرف تجاری"
    assert fa.msg(pages.COLUMN_LABELS["rca"]) == "مزیت نسبی (RCA)" and fa.gettext("RCA") == "مزیت نسبی"
    assert pages.fmt_of("en").msg(pages.COLUMN_LABELS["rca"]) == "RCA"


def test_province_labels():
    """Stored canonical names → Persian display names from the province list (Tehran → تهران, Razavi Khorasan →
    خراسان رضوی); English unchanged; a name the list does not know is shown as stored; missing values stay."""
    import pandas as pd
    assert pages.province_label("Tehran", "fa") == "تهران" and pages.province_label("Tehran", "en") == "Tehran"
    assert pages.province_label("Razavi Khorasan", "fa") == "خراسان رضوی"
    assert pages.province_label("Atlantis", "fa") == "Atlantis"
    got = pages.province_labels(pd.Series(["Tehran", None, "Fars", "Tehran"]), "fa")
    assert got.iloc[[0, 2, 3]].tolist() == ["تهران", "فارس", "تهران"] and pd.isna(got.iloc[1])


def test_rate_limiter_sliding_window():
    """5 failures within 60 s block the (user, IP) pair; others are unaffected; the window slides."""
    now = [1000.0]
    lim = LoginRateLimiter(5, 60.0, clock=lambda: now[0])
    for i in range(5):
        assert lim.blocked("Alice", "1.1.1.1") == 0
        lim.failure("alice", "1.1.1.1")
        now[0] += 1
    assert lim.blocked("alice", "1.1.1.1") == pytest.approx(55.0)   # first failure at 1000, now 1005
    assert lim.blocked("alice", "2.2.2.2") == 0
    assert lim.blocked("bob", "1.1.1.1") == 0
    now[0] = 1060.5                                                  # first failure has left the window
    assert lim.blocked("alice", "1.1.1.1") == 0
    lim.success("alice", "1.1.1.1")
    assert lim.blocked("alice", "1.1.1.1") == 0


def test_no_cdn_in_templates_or_app_assets():
    """Templates, CSS and app.js reference only this server (no http(s):// or protocol-relative URLs)."""
    for path in [*(WEB / "templates").glob("*.html"), WEB / "static" / "app.css", WEB / "static" / "app.js"]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text), path
        assert "http://" not in text and "https://" not in text, path
    vendor = WEB / "static" / "vendor"
    for name in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "LICENSE.vega", "LICENSE.vega-lite",
                 "LICENSE.vega-embed"):
        assert (vendor / name).stat().st_size > 1000
    assert (WEB / "static" / "fonts" / "Vazirmatn-Regular.woff2").exists()


# ---------------------------------------------------------------- app fixtures
@pytest.fixture(scope="module")
def site(tmp_path_factory, demo_copy):
    from tradepulse.web.testing import demo_site
    return demo_site(demo_copy(tmp_path_factory.mktemp("web")))


@pytest.fixture(scope="module")
def app(site):
    from tradepulse.web.app import create_app
    return create_app(site[0], site[1], "test-secret", login_max_failures=5, login_window=60)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def csrf_of(client, path: str = "/login") -> str:
    html = client.get(path).text
    m = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html)
    assert m, "no CSRF token in form"
    return m.group(1)


def login(client, user: str, password: str, **headers):
    token = csrf_of(client)
    return client.post("/login", data={"username": user, "password": password, "csrf_token": token, "next": "/"},
                       follow_redirects=False, headers=headers)


# ---------------------------------------------------------------- pages
@pytest.mark.parametrize("path", PAGES)
def test_pages_render_in_both_languages(client, path):
    r = client.get(path)
    assert r.status_code == 200
    assert '<html lang="en" dir="ltr">' in r.text
    assert "state-error" not in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    r = client.get(path, params={"lang": "fa"})
    assert '<html lang="fa" dir="rtl">' in r.text


def test_language_switch_sets_cookie_and_redirects_locally(client):
    r = client.get("/lang/fa", params={"next": "/products"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/products"
    assert '<html lang="fa" dir="rtl">' in client.get("/products").text
    r = client.get("/lang/en", params={"next": "//evil.example/"}, follow_redirects=False)
    assert r.headers["location"] == "/"                               # no open redirect
    assert client.get("/lang/xx").status_code == 404


def test_overview_kpis_match_independent_sql(client, site):
    """Overview totals = the WLD rule in plain SQL: per year and flow, WLD rows if any, else national
    bilateral rows (province NULL), else the sum of provincial customs rows (schema.py)."""
    con = duckdb.connect(str(site[0]), read_only=True)
    rows = con.execute("""
        WITH k AS (
          SELECT year, flow, CASE WHEN partner = 'WLD' THEN 0 WHEN province IS NULL THEN 1 ELSE 2 END AS layer,
                 SUM(value_usd) AS v
          FROM flows WHERE reporter = 'IRN' AND flow IN ('export', 're-export', 'import', 're-import')
          GROUP BY ALL),
        best AS (SELECT year, flow, MIN(layer) AS layer FROM k GROUP BY ALL)
        SELECT k.year, SUM(CASE WHEN k.flow IN ('export','re-export') THEN v ELSE 0 END) AS x,
               SUM(CASE WHEN k.flow IN ('import','re-import') THEN v ELSE 0 END) AS m
        FROM k JOIN best USING (year, flow) WHERE k.layer = best.layer GROUP BY k.year ORDER BY k.year""").fetchall()
    con.close()
    api = client.get("/api/v1/tables/trade", params={"limit": 1000}).json()
    got = {row["year"]: row for row in api["items"]}
    assert api["total"] == len(rows) == 10                             # small demo: 2014–2023
    for year, x, m in rows:
        assert got[year]["exports"] == pytest.approx(x, rel=1e-9)
        assert got[year]["imports"] == pytest.approx(m, rel=1e-9)
        assert got[year]["balance"] == pytest.approx(x - m, rel=1e-9, abs=1e-3)
    latest = max(got)
    page = client.get("/").text
    assert pages.fmt_of("en").usd(got[latest]["exports"]) in page


# ---------------------------------------------------------------- API
def test_api_pagination_is_consistent(client):
    full = client.get("/api/v1/tables/products", params={"limit": 1000}).json()
    assert full["total"] == len(full["items"]) > 10
    a = client.get("/api/v1/tables/products", params={"limit": 5, "offset": 0}).json()
    b = client.get("/api/v1/tables/products", params={"limit": 5, "offset": 5}).json()
    assert a["total"] == b["total"] == full["total"]
    assert a["items"] + b["items"] == full["items"][:10]
    end = client.get("/api/v1/tables/products", params={"limit": 5, "offset": full["total"]}).json()
    assert end["items"] == []
    for bad in ({"limit": 0}, {"limit": 1001}, {"offset": -1}, {"year": "abc"}):
        assert client.get("/api/v1/tables/products", params=bad).status_code == 422


def test_api_filters(client, site):
    p = client.get("/api/v1/tables/partners", params={"partner": "TUR", "year": 2022}).json()
    assert [r["partner"] for r in p["items"]] == ["TUR"] and p["items"][0]["year"] == 2022
    groups = client.get("/api/v1/tables/partners", params={"partner": "caspian", "limit": 1000}).json()
    assert {r["partner"] for r in groups["items"]} <= {"AZE", "KAZ", "RUS", "TKM"}
    carpets = client.get("/api/v1/tables/products", params={"product": "carpets", "limit": 1000}).json()
    assert carpets["total"] >= 1
    assert all(r["product"][:4] in ("5701", "5702") for r in carpets["items"])
    prov = client.get("/api/v1/tables/provinces", params={"province": "tehran", "limit": 1000}).json()
    assert {r["province"] for r in prov["items"]} == {"Tehran"} and prov["total"] == 10
    for spelling in ("تهران", "IR-23"):   # any spelling of the province list
        again = client.get("/api/v1/tables/provinces", params={"province": spelling, "limit": 1000}).json()
        assert again["total"] == prov["total"]
        for a, b in zip(again["items"], prov["items"]):   # same rows (sums may differ in the last bits)
            assert a.keys() == b.keys() and (a["year"], a["province"]) == (b["year"], b["province"])
            assert a["exports"] == pytest.approx(b["exports"], rel=1e-12)
    assert login(client, "viewer", "viewer-demo").status_code == 303        # group data needs a login
    acts = client.get("/api/v1/tables/actions", params={"province": "استان تهران", "limit": 1000}).json()
    assert acts["total"] > 0 and {r["province"] for r in acts["items"]} == {"Tehran"}
    # exports of Tehran in 2023 equal the sum of its customs export rows (independent SQL)
    con = duckdb.connect(str(site[0]), read_only=True)
    x = con.execute("SELECT SUM(value_usd) FROM flows WHERE reporter='IRN' AND province='Tehran' "
                    "AND flow='export' AND year=2023").fetchone()[0]
    con.close()
    row = [r for r in prov["items"] if r["year"] == 2023][0]
    assert row["exports"] == pytest.approx(x, rel=1e-9)
    flows = client.get("/api/v1/tables/flows", params={"year": 2023, "partner": "TUR", "limit": 50}).json()
    assert flows["total"] > 0 and all(r["year"] == 2023 and r["partner"] == "TUR" for r in flows["items"])


def test_api_errors_are_clear_and_not_5xx(client):
    r = client.get("/api/v1/tables/partners", params={"partner": "atlantis"})
    assert r.status_code == 404 and "unknown country group" in r.json()["detail"]
    r = client.get("/api/v1/tables/provinces", params={"province": "x' OR 1=1 --"})
    assert r.status_code == 404 and "unknown province" in r.json()["detail"]
    r = client.get("/api/v1/tables/trade", params={"year": 1950})
    assert r.status_code == 404
    r = client.get("/api/v1/tables/nope")
    assert r.status_code == 404 and "unknown table" in r.json()["detail"]


def test_downloads_csv_and_excel_match_api(client):
    import openpyxl
    api = client.get("/api/v1/tables/partners", params={"year": 2023, "limit": 1000}).json()
    r = client.get("/download/partners.csv", params={"year": 2023})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == api["total"]
    assert [row["partner"] for row in rows] == [it["partner"] for it in api["items"]]
    r = client.get("/download/partners.xlsx", params={"year": 2023})
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert ws.max_row == api["total"] + 1
    assert [c.value for c in ws[1]] == api["columns"]
    assert client.get("/download/partners.pdf").status_code in (404, 422)


def test_openapi_lists_tables_and_filters(client):
    """Each table has its own path declaring exactly the filters /api/v1/tables lists for it."""
    spec = client.get("/openapi.json").json()
    tables = client.get("/api/v1/tables").json()
    for t in tables:
        params = {p["name"] for p in spec["paths"][f"/api/v1/tables/{t['name']}"]["get"]["parameters"]}
        assert params == {*t["filters"], "lang", "limit", "offset"}, t["name"]
    params = {p["name"] for p in spec["paths"]["/api/v1/tables/trade"]["get"]["parameters"]}
    assert {"year", "partner", "product", "province", "limit", "offset"} <= params
    names = {t["name"] for t in tables}
    assert {"trade", "partners", "products", "provinces", "flows", "complexity", "targets", "actions"} <= names


# ---------------------------------------------------------------- auth, CSRF, rate limit, roles
def test_session_cookie_is_httponly_and_samesite(client):
    r = client.get("/login")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_anonymous_pages_create_no_session(client):
    """An indicator page has no form for an anonymous reader: no CSRF token, so no session cookie is made
    (and signed) per request; the login form creates one, and its token is what a POST must send back."""
    client.cookies.clear()
    r = client.get("/")
    assert r.status_code == 200 and "set-cookie" not in r.headers
    r = client.get("/login")
    assert "tradepulse_session=" in r.headers.get("set-cookie", "")
    assert re.search(r'name="csrf_token" value="[0-9a-f]{64}"', r.text)


def test_anonymous_page_cache_is_exact_and_never_personal(client):
    """An anonymous reader's page is rendered once per body and then served as bytes: the second answer
    is byte-identical to the first, a signed-in user still gets a page with their own name and logout
    token, and after logging out (a fresh, empty session) the anonymous page names no one."""
    client.cookies.clear()
    first = client.get("/products", params={"lang": "fa"})
    again = client.get("/products", params={"lang": "fa"})
    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert 'dir="rtl"' in again.text and 'id="login-link"' in again.text and "Signed in" not in again.text
    assert login(client, "viewer", "viewer-demo").status_code == 303
    mine = client.get("/products", params={"lang": "fa"}).text
    assert "<b>viewer</b>" in mine and 'id="logout"' in mine and 'id="login-link"' not in mine
    client.cookies.clear()
    anon = client.get("/products", params={"lang": "fa"})
    assert anon.content == first.content and "<b>viewer</b>" not in anon.text


def test_csrf_required_on_post(client):
    csrf_of(client)
    r = client.post("/login", data={"username": "admin", "password": "admin-demo"}, follow_redirects=False)
    assert r.status_code == 403
    r = client.post("/login", data={"username": "admin", "password": "admin-demo", "csrf_token": "0" * 64},
                    follow_redirects=False)
    assert r.status_code == 403
    assert login(client, "admin", "admin-demo").status_code == 303


def test_login_rate_limit_429(app):
    from fastapi.testclient import TestClient
    with TestClient(app, base_url="http://127.0.0.1", client=("10.0.0.7", 5000)) as c:
        for _ in range(5):
            assert login(c, "viewer", "wrong").status_code == 401
        r = login(c, "viewer", "viewer-demo")              # right password, but blocked
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    with TestClient(app, base_url="http://127.0.0.1", client=("10.0.0.8", 5000)) as c:
        assert login(c, "viewer", "viewer-demo").status_code == 303   # other IP not blocked


def test_roles_and_action_editing_with_optimistic_locking(client, site):
    from tradepulse.groups.db import session_factory
    from tradepulse.groups.service import GroupService
    Session = session_factory(site[1])
    with Session() as s:
        a = GroupService(s).actions(status="open")[0]
        aid, version = a.id, a.version

    token = csrf_of(client)                                   # anonymous session (login form)
    form = {"version": version, "status": "in_progress", "note": "web test", "csrf_token": token}
    assert client.post(f"/groups/actions/{aid}", data=form, follow_redirects=False).status_code == 401

    assert login(client, "viewer", "viewer-demo").status_code == 303
    form["csrf_token"] = csrf_of(client, "/groups")
    assert client.post(f"/groups/actions/{aid}", data=form, follow_redirects=False).status_code == 403
    assert "edit-action" not in client.get("/groups").text

    client.cookies.clear()
    assert login(client, "secretary", "secretary-demo").status_code == 303
    page = client.get("/groups").text
    assert "edit-action" in page
    form["csrf_token"] = csrf_of(client, "/groups")
    r = client.post(f"/groups/actions/{aid}", data=form, follow_redirects=False)
    assert r.status_code == 303 and "msg=saved" in r.headers["location"]
    with Session() as s:
        a = GroupService(s).action(aid)
        assert (a.status, a.note, a.version) == ("in_progress", "web test", version + 1)
        audit = GroupService(s).audit(entity="action_items", entity_id=aid, actor="secretary")
        assert {e.field for e in audit} >= {"status", "note"}
    # the same (now stale) version again → conflict, nothing changed
    form["status"] = "done"
    r = client.post(f"/groups/actions/{aid}", data=form, follow_redirects=False)
    assert "msg=conflict" in r.headers["location"]
    with Session() as s:
        assert GroupService(s).action(aid).status == "in_progress"
    assert "Someone else changed this item" in client.get("/groups", params={"msg": "conflict"}).text


def test_upload_limit_and_csv_import(client, site, tmp_path):
    from tradepulse.groups.csvio import export_csv
    from tradepulse.groups.db import session_factory
    from tradepulse.groups.service import GroupService

    assert login(client, "secretary", "secretary-demo").status_code == 303
    token = csrf_of(client, "/groups")
    big = b"x" * (5 * 1024 * 1024 + 10)
    r = client.post("/groups/import", data={"csrf_token": token}, files={"file": ("actions.csv", big, "text/csv")},
                    follow_redirects=False)
    assert r.status_code == 413

    Session = session_factory(site[1])
    with Session() as s:
        export_csv(GroupService(s), tmp_path)
        before = len(GroupService(s).actions())
    lines = (tmp_path / "actions.csv").read_text(encoding="utf-8").splitlines()
    rows = list(csv.DictReader(lines))
    row = {**rows[0], "id": "", "decision_id": "", "title": "Imported from the web", "version": "1"}
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerow(row)
    r = client.post("/groups/import", data={"csrf_token": token},
                    files={"file": ("actions.csv", buf.getvalue().encode(), "text/csv")}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("imported-1")
    with Session() as s:
        titles = [a.title for a in GroupService(s).actions()]
    assert len(titles) == before + 1 and "Imported from the web" in titles


def test_groups_page_persian_dates(client, site):
    from tradepulse.groups.db import session_factory
    from tradepulse.groups.service import GroupService
    with session_factory(site[1])() as s:
        m = GroupService(s).meetings()[-1]
    assert login(client, "viewer", "viewer-demo").status_code == 303
    html = client.get("/groups", params={"lang": "fa"}).text
    assert pages.fmt_of("fa").numeric_date(m.date) in html


def test_brief_download(client):
    pytest.importorskip("tradepulse.reports.brief", reason="tradepulse.reports.brief has not landed yet")
    r = client.get("/briefs/download", params={"lang": "fa", "fmt": "html"})
    assert r.status_code == 200 and 'dir="rtl"' in r.text
    assert client.get("/briefs/download", params={"date": "2023-02-30"}).status_code == 422


# ---------------------------------------------------------------- honesty and caching
def test_missing_module_gives_not_available_section(site, monkeypatch):
    """A section whose module is missing says so instead of failing the page."""
    from fastapi.testclient import TestClient

    from tradepulse.web import data
    from tradepulse.web.app import create_app
    real = data.require

    def fake(module, attr=None):
        if module == "tradepulse.indicators.complexity":
            raise data.Unavailable(module)
        return real(module, attr)
    monkeypatch.setattr(data, "require", fake)
    # threads: the patch lives in this process (worker processes would import the real module)
    with TestClient(create_app(site[0], site[1], "k", processes=False)) as c:
        html = c.get("/products").text
        assert "Not available yet" in html and "tradepulse.indicators.complexity" in html
        assert 'id="sec-products"' in html                      # the other sections still render
        assert c.get("/api/v1/tables/complexity").status_code == 404


def test_cache_is_invalidated_when_the_warehouse_changes(tmp_path):
    from tradepulse.warehouse import Warehouse
    from tradepulse.web.data import DataContext
    path = tmp_path / "w.duckdb"
    Warehouse(path).close()
    ctx = DataContext(path)
    calls = []
    assert ctx.cached(("k",), lambda: calls.append(1) or len(calls)) == 1
    assert ctx.cached(("k",), lambda: calls.append(1) or len(calls)) == 1      # cached
    st = path.stat()
    os.utime(path, (st.st_atime, st.st_mtime + 10))
    assert ctx.cached(("k",), lambda: calls.append(1) or len(calls)) == 2      # recomputed
    ctx.close()


# ---------------------------------------------------------------- CLI
def test_serve_command_errors_and_help(tmp_path):
    from typer.testing import CliRunner

    from tradepulse.cli import app as cli
    runner = CliRunner()
    r = runner.invoke(cli, ["serve", "--help"])
    assert r.exit_code == 0 and "--groups-db" in r.output
    r = runner.invoke(cli, ["serve", "--warehouse", str(tmp_path / "none.duckdb")])
    assert r.exit_code == 2 and "no warehouse" in r.output


def test_groups_url_accepts_plain_path(tmp_path):
    from tradepulse.web.app import normalise_groups_url
    assert normalise_groups_url(tmp_path / "g.sqlite") == f"sqlite:///{(tmp_path / 'g.sqlite').resolve()}"
    assert normalise_groups_url("postgresql+psycopg://u@127.0.0.1/db") == "postgresql+psycopg://u@127.0.0.1/db"


def test_admin_manages_users(client, app):
    """Only admins see /admin/users; an admin creates a user and changes its role; the user can log in."""
    r = client.get("/admin/users", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert login(client, "secretary", "secretary-demo").status_code == 303
    assert client.get("/admin/users").status_code == 403
    client.cookies.clear()
    assert login(client, "admin", "admin-demo").status_code == 303
    token = csrf_of(client, "/admin/users")
    r = client.post("/admin/users", data={"username": "analyst", "password": "long-enough-pw", "role": "viewer",
                                          "csrf_token": token}, follow_redirects=True)
    assert "created analyst (viewer)" in r.text
    r = client.post("/admin/users", data={"username": "analyst", "role": "secretary", "csrf_token": token},
                    follow_redirects=True)
    assert "analyst is now secretary" in r.text
    r = client.post("/admin/users", data={"username": "x", "password": "short", "role": "viewer",
                                          "csrf_token": token}, follow_redirects=True)
    assert "at least 8 characters" in r.text
    client.cookies.clear()
    assert login(client, "analyst", "long-enough-pw").status_code == 303
    assert "(secretary)" in client.get("/").text


def test_large_chart_data_is_served_by_url(site, monkeypatch):
    """Datasets above INLINE_ROWS leave the page: the spec points to /charts/data/<hash>.json, which serves
    exactly the rows that were inline."""
    import json

    from fastapi.testclient import TestClient

    from tradepulse.web.app import create_app
    from tradepulse.web.pages import sections
    monkeypatch.setattr(sections, "INLINE_ROWS", 10)
    with TestClient(create_app(site[0], site[1], "k", processes=False)) as c:    # the patch is in this process
        html = c.get("/products").text
        spec = json.loads(re.search(r'<script type="application/json" id="spec-feasibility">(.*?)</script>',
                                    html, re.S).group(1))
        url = spec["data"]["url"]
        assert re.fullmatch(r"/charts/data/data-[0-9a-f]+\.json", url) and "datasets" not in spec
        rows = c.get(url).json()
        api = c.get("/api/v1/tables/complexity", params={"limit": 1000}).json()
        assert len(rows) == sum(1 for r in api["items"] if r["density"] is not None and r["pci"] is not None)
        assert {"density", "pci", "product"} <= set(rows[0])
        assert c.get("/charts/data/data-0.json").status_code == 404
        # the product space network: nodes and links (layers) both moved out of the page
        net = json.loads(re.search(r'<script type="application/json" id="spec-product-space">(.*?)</script>',
                                   html, re.S).group(1))
        urls = [layer["data"]["url"] for layer in net["layer"]]
        nodes = [c.get(u).json() for u in urls if "url" in c.get(u).json()[0]][0]
        assert len(nodes) == 865                # issue 20: every HS92 product of the Atlas layout


def test_serve_seeds_demo_groups_only_for_a_fresh_demo(tmp_path, capsys):
    """`serve` on a demo warehouse (demo_summary.json beside it) without a groups database seeds the demo
    groups and users; an existing database or a non-demo warehouse is left alone."""
    from tradepulse.cli.serve import _seed_demo_groups
    from tradepulse.groups.db import session_factory
    from tradepulse.groups.service import GroupService

    url = f"sqlite:///{tmp_path / 'groups.sqlite'}"
    _seed_demo_groups(tmp_path / "warehouse.duckdb", url)
    assert not (tmp_path / "groups.sqlite").exists()                   # not a demo directory
    (tmp_path / "demo_summary.json").write_text("{}")
    _seed_demo_groups(tmp_path / "warehouse.duckdb", url)
    with session_factory(url)() as s:
        svc = GroupService(s)
        assert {u.username for u in svc.users()} == {"admin", "secretary", "viewer"}
        assert svc.authenticate("secretary", "secretary-demo") is not None
        n = len(svc.actions())
    _seed_demo_groups(tmp_path / "warehouse.duckdb", url)               # second start: untouched
    with session_factory(url)() as s:
        assert len(GroupService(s).actions()) == n


def test_end_use_and_market_fit_tables(client):
    """BEC end-use shares of a year sum to 1; complementarity lies in [0, 100] and the table is sorted by it;
    the partner filter narrows the market-fit table."""
    eu = client.get("/api/v1/tables/end_use", params={"year": 2023, "limit": 100}).json()
    assert eu["total"] >= 3 and sum(r["share"] for r in eu["items"]) == pytest.approx(1.0, abs=1e-9)
    mf = client.get("/api/v1/tables/market_fit", params={"limit": 1000}).json()
    tc = [r["complementarity"] for r in mf["items"]]
    assert all(0 <= v <= 100 for v in tc) and tc == sorted(tc, reverse=True)
    one = client.get("/api/v1/tables/market_fit", params={"partner": "TUR"}).json()
    assert [r["partner"] for r in one["items"]] == ["TUR"]
    assert one["items"][0]["complementarity"] == pytest.approx(
        [r for r in mf["items"] if r["partner"] == "TUR"][0]["complementarity"])


def test_dashboard_does_not_lock_out_ingest(site, tmp_path):
    """Between requests the dashboard holds no DuckDB connection, so a writer (ingest) can open the file;
    after the write (new mtime) the cache is dropped and the page is recomputed."""
    import shutil
    import subprocess
    import sys

    from fastapi.testclient import TestClient

    from tradepulse.web.app import create_app
    wh = tmp_path / "copy.duckdb"
    shutil.copy(site[0], wh)
    app = create_app(wh, site[1], "k")
    with TestClient(app) as c:
        assert c.get("/").status_code == 200
        before = c.get("/api/v1/tables/trade", params={"year": 2023}).json()["items"][0]["exports"]
        code = ("import duckdb; c = duckdb.connect(%r); "
                "c.execute(\"DELETE FROM flow_rows WHERE reporter = 'IRN' AND flow = 'export' AND year = 2023\"); "
                "c.close()" % str(wh))
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        st = wh.stat()
        os.utime(wh, (st.st_atime, st.st_mtime + 5))      # make sure the version changes on coarse clocks
        after = c.get("/api/v1/tables/trade", params={"year": 2023}).json()["items"][0]["exports"]
        assert before > 1e9 and after == 0                 # recomputed from the new file version
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr                 # closed again after the computation: a writer gets in


def test_bad_csv_import_reports_file_line_column(client):
    """A bad action-item CSV is rejected with the file, line and column of the problem; nothing is added."""
    assert login(client, "secretary", "secretary-demo").status_code == 303
    token = csrf_of(client, "/groups")
    header = ("ref,group,decision_ref,title,owner,deadline,deadline_jalali,status,target_id,indicator,note,"
              "completed_on,version")
    body = header + "\nx1,National working group,,Bad status row,customs,2026-01-01,,bogus,,,,,1\n"
    before = client.get("/api/v1/tables/actions", params={"limit": 1}).json()["total"]
    r = client.post("/groups/import", data={"csrf_token": token},
                    files={"file": ("actions.csv", body.encode(), "text/csv")}, follow_redirects=False)
    assert r.status_code == 422                 # a clear 422 naming the file, never a server path
    assert "actions.csv" in r.text and "line 2" in r.text and "status" in r.text
    assert "/tmp" not in r.text and "tmp" not in r.text.split("actions.csv")[0][-20:]
    assert client.get("/api/v1/tables/actions", params={"limit": 1}).json()["total"] == before


def test_without_groups_database_pages_say_so(site):
    """Started without a working-group database, the groups page explains it, login is refused cleanly,
    and the indicator pages still work."""
    from fastapi.testclient import TestClient

    from tradepulse.web.app import create_app
    with TestClient(create_app(site[0], None, "k")) as c:
        html = c.get("/groups").text
        assert "Not available yet" in html and "--groups-db" in html
        assert c.get("/").status_code == 200
        token = csrf_of(c)
        r = c.post("/login", data={"username": "admin", "password": "x", "csrf_token": token})
        assert r.status_code == 404 and "--groups-db" in r.text


def test_flows_api_pages_in_the_database(client, site, monkeypatch):
    """The raw flows table is counted and sliced by DuckDB: totals equal COUNT(*) in SQL, pages are
    consecutive, and a download larger than the cap asks for filters (400)."""
    from tradepulse.web import data
    con = duckdb.connect(str(site[0]), read_only=True)
    n = con.execute("SELECT COUNT(*) FROM flows WHERE year = 2022 AND partner = 'TUR'").fetchone()[0]
    con.close()
    a = client.get("/api/v1/tables/flows", params={"year": 2022, "partner": "TUR", "limit": 7}).json()
    b = client.get("/api/v1/tables/flows", params={"year": 2022, "partner": "TUR", "limit": 7, "offset": 7}).json()
    both = client.get("/api/v1/tables/flows", params={"year": 2022, "partner": "TUR", "limit": 14}).json()
    assert a["total"] == b["total"] == n > 14
    assert a["items"] + b["items"] == both["items"]
    monkeypatch.setattr(data, "MAX_DOWNLOAD_ROWS", n - 1)
    from fastapi.testclient import TestClient

    from tradepulse.web.app import create_app
    with TestClient(create_app(site[0], site[1], "k", processes=False)) as local:   # the patch is in this process
        r = local.get("/download/flows.csv", params={"year": 2022, "partner": "TUR", "product": "01"})
        assert r.status_code in (200, 404)                 # a narrower selection is fine (or empty)
        r = local.get("/download/flows.csv", params={"year": 2022, "partner": "TUR"})
        assert r.status_code == 400 and "add filters" in r.text


# ---------------------------------------------------------------- Persian pages: nothing left in English
class _Visible(HTMLParser):
    """Visible text of a page: text nodes outside <script>/<style>, placeholders, and <th> cells apart."""

    def __init__(self):
        super().__init__()
        self.skip, self.in_th, self.texts, self.headers, self.placeholders = 0, False, [], [], []

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("script", "style")
        self.in_th = self.in_th or tag == "th"
        self.placeholders += [v for k, v in attrs if k == "placeholder" and v]

    def handle_endtag(self, tag):
        self.skip -= tag in ("script", "style")
        self.in_th = self.in_th and tag != "th"

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.texts.append(data.strip())
            if self.in_th:
                self.headers.append(data.strip())


def _english_labels() -> set[str]:
    """English labels that must not appear on a Persian page: every data-driven label table of the dashboard
    (columns, statuses, coded values, roles, navigation, metrics), the HS section names of the product space,
    and the words the first Persian version left in English (hand-listed)."""
    from tradepulse.web import space
    tables = [pages.COLUMN_LABELS, pages.STATUS_LABELS, pages.ROLE_LABELS, pages.PAGE_TITLES, pages.METRIC_LABELS,
              *pages.VALUE_LABELS.values()]
    labels = {v[1] if isinstance(v, tuple) else v for t in tables for v in t.values()}
    labels |= {name for _, name in space.HS_SECTIONS}
    labels |= {"Feasibility", "Feasibility: density × PCI", "Export potential", "Users", "Role", "Active",
               "New user", "Format", "note", "Not available yet", "Log in", "Filter", "Download", "Save", "All",
               "Tehran", "Isfahan", "Fars"}
    # codes and names that read the same in both languages
    return labels - {"RCA", "PCI", "ECI", "COG", "HHI", "ID"}


#: Sentences of notes and flash messages that must not appear in English on a Persian page.
_ENGLISH_PHRASES = ("Each point is a product", "Kaplan–Meier survival of", "more trade than the partner",
                    "maximum spanning tree", "HS4 products", "trend projection", "deadline passed",
                    "achieved by the deadline", "Signed in as", "US$", "density (relatedness)")
_LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
_PERSIAN_LETTER = re.compile(r"[\u0600-\u06FF]")


def _chart_titles(html: str) -> list[str]:
    """Axis, legend and tooltip titles of every Vega-Lite spec embedded in a page."""
    import json
    out = []

    def walk(node):
        if isinstance(node, dict):
            out.extend(v for k, v in node.items() if k == "title" and isinstance(v, str))
            for k, v in node.items():
                if k not in ("datasets", "data"):
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    for m in re.finditer(r'<script type="application/json" id="spec-[^"]+">(.*?)</script>', html, re.S):
        walk(json.loads(m.group(1)))
    return out


@pytest.mark.parametrize("who", [None, "secretary", "admin"])
def test_persian_pages_show_no_untranslated_english(app, who):
    """Every page in ``fa`` (anonymous, as secretary, as admin; the users page for the admin): no text node or
    placeholder equals an English label of the dashboard, no English note sentence remains, every table header
    and every chart title holds Persian letters (allowed: ``#`` and the codes RCA, S(t)), and the user's role is
    shown translated."""
    from fastapi.testclient import TestClient
    labels = _english_labels()
    with TestClient(app, base_url="http://127.0.0.1") as c:
        if who:
            assert login(c, who, f"{who}-demo").status_code == 303
        paths = PAGES + ["/login"] + (["/admin/users"] if who == "admin" else [])
        for path in paths:
            r = c.get(path, params={"lang": "fa"})
            assert r.status_code == 200 and '<html lang="fa" dir="rtl">' in r.text, path
            v = _Visible()
            v.feed(r.text)
            names = {"admin", "secretary", "viewer", "tahlilgar", "analyst"}   # demo user names (not roles)
            shown = [t for t in v.texts if t not in names] + v.placeholders
            assert sorted(set(shown) & labels) == [], path
            assert [p for p in _ENGLISH_PHRASES if p in r.text] == [], path
            assert [h for h in v.headers if h != "#" and not _PERSIAN_LETTER.search(h)] == [], path
            titles = [t for t in _chart_titles(r.text) if t.strip() and t not in ("RCA", "S(t)")]
            assert [t for t in titles if _LATIN_WORD.search(t) and not _PERSIAN_LETTER.search(t)] == [], path
            roles = re.findall(r'<td data-role="[^"]+">([^<]*)</td>', r.text)
            assert all(_PERSIAN_LETTER.search(x) for x in roles) and (roles or path != "/admin/users"), path
        if who:
            fa = pages.fmt_of("fa")
            assert f"({fa.gettext(pages.ROLE_LABELS[who])})" in c.get("/", params={"lang": "fa"}).text


def test_persian_users_page_and_flash(client):
    """The admin's users page in Persian: headings, role names as option labels with the stored role as value,
    and the translated flash after creating a user; anonymous visitors are sent to a Persian login form."""
    r = client.get("/admin/users", params={"lang": "fa"}, follow_redirects=False)
    assert r.status_code == 303 and "lang=fa" in r.headers["location"]
    assert 'dir="rtl"' in client.get(r.headers["location"]).text
    assert login(client, "admin", "admin-demo").status_code == 303
    client.cookies.set("lang", "fa")
    html = client.get("/admin/users").text
    for word in ("کاربران", "نقش", "فعال", "کاربر جدید"):
        assert word in html
    assert '<option value="viewer">بیننده</option>' in html
    token = csrf_of(client, "/admin/users")
    r = client.post("/admin/users", data={"username": "tahlilgar", "password": "long-enough-pw", "role": "viewer",
                                          "csrf_token": token}, follow_redirects=True)
    assert "کاربر tahlilgar با نقش بیننده ایجاد شد" in r.text
    r = client.post("/admin/users", data={"username": "x", "password": "short", "role": "viewer",
                                          "csrf_token": token}, follow_redirects=True)
    assert "گذرواژه باید دست‌کم ۸ نویسه باشد" in r.text


def _table(html: str, table_id: str) -> tuple[list[str], list[list[str]]]:
    """Header cells and body rows (cell texts) of the dashboard table ``table_id``."""
    m = re.search(rf'<table class="data" id="{table_id}">(.*?)</table>', html, re.S)
    assert m, table_id
    def cells(tag: str, text: str) -> list[str]:
        return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(rf"<{tag}>(.*?)</{tag}>", text, re.S)]
    head = cells("th", m.group(1))
    rows = [cells("td", tr) for tr in re.findall(r"<tr>(.*?)</tr>", m.group(1).split("</thead>")[-1], re.S)]
    return head, rows


def test_provinces_in_persian_keep_english_form_values(client):
    """Provinces page in ``fa``: the table, the chart and the filter show Persian names (تهران), while the
    filter's option values, the download links and the API keep the stored English name (Tehran).  The Persian
    column equals the English column mapped through the province list's own name_en → name_fa columns."""
    import json

    from tradepulse.reference.provinces import provinces
    to_fa = dict(zip(provinces("IRN")["name_en"], provinces("IRN")["name_fa"]))
    en_head, en_rows = _table(client.get("/provinces", params={"lang": "en"}).text, "table-provinces")
    html = client.get("/provinces", params={"lang": "fa"}).text
    fa_head, fa_rows = _table(html, "table-provinces")
    i, j = en_head.index("Province"), fa_head.index("استان")
    assert [r[j] for r in fa_rows] == [to_fa[r[i]] for r in en_rows] and "تهران" in [r[j] for r in fa_rows]
    assert '<option value="Tehran" >تهران</option>' in html
    spec = json.loads(re.search(r'id="spec-provinces">(.*?)</script>', html, re.S).group(1))
    shown = {row["province"] for rows in spec["datasets"].values() for row in rows}
    assert "تهران" in shown and not shown & set(to_fa)
    # one province selected: the option stays Tehran (selected), the links carry province=Tehran
    html = client.get("/provinces", params={"lang": "fa", "province": "Tehran"}).text
    assert '<option value="Tehran" selected>تهران</option>' in html
    assert {r[j] for r in _table(html, "table-provinces")[1]} == {"تهران"}
    assert "/download/provinces.csv?province=Tehran" in html
    # a comparison typed in the URL is kept as the selected value and shown in Persian
    html = client.get("/provinces", params={"lang": "fa", "province": "Tehran,Isfahan"}).text
    assert '<option value="Tehran,Isfahan" selected>تهران، اصفهان</option>' in html
    assert {r[j] for r in _table(html, "table-provinces")[1]} == {"تهران", "اصفهان"}
    # the brief form: Persian labels, English values; English pages unchanged
    assert '<option value="Tehran">تهران</option>' in client.get("/briefs", params={"lang": "fa"}).text
    assert '<option value="Tehran">Tehran</option>' in client.get("/briefs", params={"lang": "en"}).text
    assert '<option value="Tehran" >Tehran</option>' in client.get("/provinces", params={"lang": "en"}).text


def test_brief_chart_axes_follow_the_formatter():
    """Chart axes of the brief (reports.charts.to_svg) use the Formatter's d3 locale: the tick labels at
    −2500, 0, 1000 with format ``,.1f`` are exactly ``Formatter.num(v, 1)`` — Persian ``−۲٬۵۰۰٫۰`` (U+2212,
    U+066C, U+066B), English ``-2,500.0`` — and Persian digits with the Latin-digit option keep 0–9."""
    import altair as alt
    import pandas as pd

    from tradepulse.i18n import Formatter
    from tradepulse.reports.charts import to_svg
    ticks = [-2500.0, 0.0, 1000.0]
    chart = alt.Chart(pd.DataFrame({"k": ["a", "b"], "v": [-2500.0, 1000.0]})).mark_bar().encode(
        x="k:N", y=alt.Y("v:Q", axis=alt.Axis(values=ticks, format=",.1f")))
    for fmt in (Formatter("fa"), Formatter("en"), Formatter("fa", "latin")):
        texts = re.findall(r"<text[^>]*>([^<]*)</text>", to_svg(chart, fmt))
        assert [fmt.num(v, 1) for v in ticks] == [t for t in texts if t in {fmt.num(v, 1) for v in ticks}]
    assert Formatter("fa").num(-2500, 1) == "\u2212۲\u066c۵۰۰\u066b۰"


def test_exporters_table_counts_firms_like_sql(client, site):
    """Exporters by province (firm_flows): the number of exporters of a province-year equals an independent
    count of distinct firms with positive exports; the Persian provinces page shows the section."""
    api = client.get("/api/v1/tables/exporters", params={"limit": 1000}).json()
    assert api["total"] > 0
    row = api["items"][0]
    con = duckdb.connect(str(site[0]), read_only=True)
    n, x = con.execute("SELECT count(*), sum(v) FROM (SELECT firm, sum(value_usd) AS v FROM firm_flows "
                       "WHERE reporter = 'IRN' AND flow = 'export' AND year = ? AND province = ? GROUP BY firm) "
                       "WHERE v > 0", [row["year"], row["province"]]).fetchone()
    con.close()
    assert row["n_exporters"] == n and row["exports"] == pytest.approx(x, rel=1e-9)
    assert 0 < row["top5_share"] <= 1
    html = client.get("/provinces", params={"lang": "fa"}).text
    assert "صادرکنندگان بر حسب استان" in html and "نرخ ورود" in html


def test_persian_pages_mark_the_sign_of_negative_numbers(client):
    """In right-to-left pages a leading minus would be shown on the right of the digits (Unicode bidi); every
    number's sign is preceded by a left-to-right mark (i18n.mark_signs, the templates' finalize), and the
    formatter's own strings stay free of it."""
    from tradepulse import i18n
    assert i18n.mark_signs("−۱۲ و Y − 621") == "\u200e−۱۲ و Y − 621"
    assert i18n.mark_signs("\u200e−۱۲") == "\u200e−۱۲" and i18n.mark_signs(3) == 3
    unmarked = re.compile("(?<!\u200e)\u2212[0-9\u06f0-\u06f9]")
    marked = 0
    for path in ("/", "/products", "/markets", "/provinces", "/targets"):
        html = client.get(path + "?lang=fa").text
        assert not unmarked.search(html), path
        marked += html.count("\u200e\u2212")
    assert marked > 0


def test_complexity_from_bilateral_rows_when_no_world_rows(tmp_path, shared_data):
    """A BACI-like warehouse (bilateral HS6 rows, no WLD rows) gives the dashboard the same complexity input
    as world-total HS4 rows: each exporter's rows summed over partners and cut to HS4 (real Atlas 2017 HS4
    exports of 40 countries, split over two partners and two HS6 codes)."""
    import duckdb as _duckdb
    import numpy as np
    import pandas as pd

    from tradepulse import schema
    from tradepulse.warehouse import Warehouse
    from tradepulse.web.data import DataContext, _complexity_result, _wld_exports
    w = pd.read_parquet(shared_data / "world_trade_2017_hs4.parquet").dropna()
    w = w[w.exporter.isin(sorted(w.exporter.unique())[:40]) & (w.value_usd > 0)]
    base = {c: None for c in schema.FLOWS}
    world = pd.DataFrame([dict(base, year=2017, reporter=r.exporter, partner="WLD", flow="export",
                               product=r.product, value_usd=float(r.value_usd), hs_revision="HS2017",
                               load_id="w") for r in w.itertuples()])
    split = pd.concat([world.assign(partner=p, product=world["product"] + s, value_usd=world.value_usd * f)
                       for p, s, f in (("USA", "10", 0.25), ("CHN", "90", 0.75))], ignore_index=True)
    got = {}
    for name, rows in (("world", world), ("bilateral", split)):
        path = tmp_path / f"{name}.duckdb"
        Warehouse(path).close()
        con = _duckdb.connect(str(path))
        con.register("r", rows[list(schema.FLOWS)])
        con.execute("INSERT INTO flow_rows SELECT * FROM r")
        con.close()
        ctx = DataContext(path)
        got[name] = (_wld_exports(ctx, None).sort_values(["exporter", "product"]).reset_index(drop=True),
                     _complexity_result(ctx, None).sort_values(["exporter", "product"]).reset_index(drop=True))
        ctx.close()
    assert len(got["world"][0]) == len(w)
    pd.testing.assert_frame_equal(got["bilateral"][0], got["world"][0], check_dtype=False, rtol=1e-12)
    assert np.allclose(got["bilateral"][1]["eci"], got["world"][1]["eci"], equal_nan=True)


def _leaf_routes(router) -> list:
    """Every route with a path under ``router`` (included routers flattened)."""
    out = []
    for r in router.routes:
        sub = getattr(r, "original_router", None)
        if sub is not None:
            out += _leaf_routes(sub)
        elif getattr(r, "path_regex", None) is not None:
            out.append(r)
    return out


def test_page_routes_first_change_no_answer():
    """The page router is included first (most requests are pages): that reorders nothing that matters only
    if no page route can match a path of the API, datasets, groups or agenda routes, and the other way
    round — checked on a sample path of every route (path parameters filled with a letter)."""
    from tradepulse.web import agenda, api, datasets, group_forms

    def sample(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "x1", path)
    page_routes = _leaf_routes(pages.router)
    others = [r for m in (api, datasets, group_forms, agenda) for r in _leaf_routes(m.router)]
    assert len(page_routes) > 10 and len(others) > 20
    clashes = [(a.path, b.path) for a in page_routes for b in others
               if (a.path_regex.match(sample(b.path)) or b.path_regex.match(sample(a.path)))
               and set(getattr(a, "methods", None) or ()) & set(getattr(b, "methods", None) or ())]
    assert clashes == []


def test_plain_pages_serve_the_same_bytes_only_to_cookieless_gets(app, client):
    """Regression for the fast path of issue 15 (``PlainPages``): a cookieless GET of a cached page gets the
    exact bytes and headers the page route sends; a request with a cookie (``lang=fa``) still goes through
    the app (Persian page, not the English bytes); when the cached content changes the kept bytes are not
    served; with ``public_indicators`` off nothing is served from them."""
    from tradepulse.web.pages.sections import _plain_pages
    client.cookies.clear()
    first = client.get("/products", params={"year": "2020"})
    second = client.get("/products", params={"year": "2020"})                # route: remembers the bytes
    plain = _plain_pages(app)
    key = ("/products", b"year=2020")
    assert first.status_code == second.status_code == 200 and key in plain
    ck, html, _sources, body = plain[key]
    third = client.get("/products", params={"year": "2020"})                 # served by PlainPages
    assert third.content == second.content == body
    for h in ("content-security-policy", "x-content-type-options", "referrer-policy", "content-type"):
        assert third.headers[h] == second.headers[h], h
    assert "set-cookie" not in third.headers
    plain[key] = (ck, html, _sources, body + b"<!-- kept -->")              # proof of which path answered
    assert client.get("/products", params={"year": "2020"}).content.endswith(b"<!-- kept -->")
    plain[key] = (ck, html, _sources, body)
    fa = client.get("/products", params={"year": "2020"}, cookies={"lang": "fa"})
    assert fa.status_code == 200 and 'lang="fa"' in fa.text and fa.content != body
    ctx = app.state.ctx
    with ctx._lock:                                    # the page's content recomputed: the kept bytes are stale
        full = (ctx._version(), *ck)
        for seg in (ctx._cache, ctx._hot):
            if full in seg:
                seg[full] = ("ok", html + "<!-- new -->")
    assert ctx.peek(ck) is not html
    fresh = client.get("/products", params={"year": "2020"})
    assert fresh.status_code == 200 and b"<!-- new -->" in fresh.content
    app.state.public_indicators = False
    try:
        assert client.get("/products", params={"year": "2020"}, follow_redirects=False).status_code in (303, 401)
    finally:
        app.state.public_indicators = True


def test_product_page_no_data_note_is_translated(client):
    """Regression (screenshot product-5701-fa): a section with no data says so in Persian on the Persian page
    (the error carries a translated Note), and in English on the English page."""
    client.cookies.clear()
    fa = client.get("/products/5701", params={"lang": "fa"}).text
    en = client.get("/products/5701", params={"lang": "en"}).text
    if "no world-total import rows" not in en:
        pytest.skip("the demo world has world-total import rows for 5701")
    assert "no world-total import rows" not in fa and "ردیف واردات از کل جهان" in fa


def test_indicator_warnings_read_in_persian(site, client):
    """Regression (screenshot product-5701-fa: the export-potential card's warnings were English sentences in
    right-to-left text): the warnings of export potential, Hummels–Klenow margins and the BEC end-use shares
    on the demo world are translated Notes, and the Persian product page shows none of the English
    sentences the English page shows."""
    from tradepulse.i18n import Formatter
    from tradepulse.indicators import diversification, potential, technology
    from tradepulse.meta import meta_of
    from tradepulse.warehouse import Warehouse

    fa = Formatter("fa")
    with Warehouse(site[0], read_only=True) as wh:
        results = {"potential": potential.export_potential(wh, "IRN"),
                   "hk": diversification.hk_margins(wh, reporter="IRN"),
                   "end use": technology.bec_shares(wh, reporter="IRN")}
    warned = {k: meta_of(r).warnings for k, r in results.items()}
    assert warned["potential"], "the demo world's potential carries no warning: the test would prove nothing"
    for name, ws in warned.items():
        for w in ws:
            assert fa.translates(w), f"{name}: English only: {w}"
            assert any("\u0600" <= ch <= "\u06ff" for ch in fa.warning(w)), w
    client.cookies.clear()
    en_page = client.get("/products/5701", params={"lang": "en"}).text
    fa_page = client.get("/products/5701", params={"lang": "fa"}).text
    shown = [w for w in warned["potential"] if html.escape(str(w), quote=False) in en_page]
    assert shown, "the English product page shows none of the potential's warnings"
    for w in shown:
        assert html.escape(str(w), quote=False) not in fa_page, w
        assert html.escape(fa.warning(w), quote=False) in fa_page, w
