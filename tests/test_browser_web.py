"""Browser tests: Playwright drives Debian's /usr/bin/chromium against a real uvicorn server on loopback.

The server runs the dashboard on the small SYNTHETIC demo world (``tradepulse.web.testing.demo_site``).
Screenshots of the main pages (English and Persian) go to pytest's temporary directory, so a test run
leaves the git tree clean; with ``TRADEPULSE_SCREENSHOTS=1`` in the environment they replace the committed
``docs/screenshots/*.png`` instead (see docs/web.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import chromium, demo_app, login, require_browser, serving, shots_dir, wait_charts

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = [("overview", "/"), ("products", "/products"), ("markets", "/markets"), ("provinces", "/provinces"),
         ("targets", "/targets"), ("groups", "/groups"), ("briefs", "/briefs")]


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_copy):
    require_browser()
    app, _url = demo_app(demo_copy(tmp_path_factory.mktemp("site")), "browser-test-key")
    with serving(app) as base:
        yield base


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return shots_dir(tmp_path_factory)


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    pg = ctx.new_page()
    requests: list[str] = []
    pg.on("request", lambda r: requests.append(r.url))
    pg.requests = requests  # type: ignore[attr-defined]
    yield pg
    ctx.close()


def test_every_page_renders_with_local_assets_only(page, server, shots):
    """Each page loads, its charts render with the vendored Vega files, no request leaves 127.0.0.1."""
    login(page, "viewer", "viewer-demo")          # working-group data needs a login
    for name, path in PAGES:
        resp = page.goto(path)
        assert resp.status == 200, path
        assert page.locator("h1").inner_text().strip()
        wait_charts(page)
        assert page.locator(".state-error").count() == 0, page.locator(".state-error").first.inner_text()
        # the working-group lists are long: their screenshots show the first screen only
        page.screenshot(path=str(shots / f"{name}.png"), full_page=name != "groups")
    assert page.locator(".chart").count() >= 0
    foreign = [u for u in page.requests if not u.startswith(server)]
    assert foreign == []
    # the overview and products pages have rendered SVG charts
    page.goto("/products")
    wait_charts(page)
    assert page.locator(".chart svg").count() >= 2


def test_login_edit_action_item_and_logout(page, shots):
    """A secretary logs in, changes an action item's status and sees it saved; a viewer cannot edit."""
    login(page, "viewer", "viewer-demo")
    page.goto("/groups")
    assert page.locator("form.edit-action").count() == 0
    page.click("#logout")
    page.wait_for_load_state()

    login(page, "secretary", "secretary-demo")
    page.goto("/groups")
    assert "secretary" in page.locator(".user").inner_text()
    row = page.locator("#table-actions tbody tr").first
    row_id = row.get_attribute("id")
    current = row.locator("td.status").get_attribute("data-status")
    new = "done" if current != "done" else "open"
    row.locator("select[name=status]").select_option(new)
    row.locator("input[name=note]").fill("checked in browser test")
    row.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("#flash").inner_text().strip() == "Saved."
    assert page.locator(f"#{row_id} td.status").get_attribute("data-status") == new
    assert "checked in browser test" in page.locator(f"#{row_id}").inner_text()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shots / "groups-secretary.png"))


def test_persian_switch_is_rtl_with_jalali_dates(page, shots):
    """The language link switches to Persian: html dir=rtl, lang=fa, Persian digits and Jalali dates."""
    login(page, "viewer", "viewer-demo")
    page.goto("/")
    page.click("#lang-switch")
    page.wait_for_load_state()
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.get_attribute("html", "lang") == "fa"
    assert page.locator("nav a[data-nav=products]").inner_text() == "کالاها"
    # catalog wording: the dashboard's own «شریک تجاری» (msgctxt dashboard), shares with the Persian ٪ sign
    assert "شریک تجاری" in page.locator("form.filters").inner_text()
    assert page.locator("#table-partners thead").inner_text().count("شریک تجاری") == 1   # + «کد ISO3» (issue 20)
    assert "٪" in page.locator("#table-partners tbody").inner_text()
    wait_charts(page)
    page.screenshot(path=str(shots / "overview-fa.png"), full_page=True)
    page.goto("/groups")
    dates = page.locator("#table-meetings tbody tr td").first.inner_text()
    assert dates.startswith("۱۴"), dates  # Solar Hijri year 14xx in Persian digits
    page.screenshot(path=str(shots / "groups-fa.png"))
    # the choice persists (cookie) across pages; switching back restores LTR
    page.goto("/products")
    assert page.get_attribute("html", "dir") == "rtl"
    page.click("#lang-switch")
    page.wait_for_load_state()
    assert page.get_attribute("html", "dir") == "ltr"


def test_download_brief_pdf(page):
    """The briefs page offers PDF downloads in English and Persian (built by tradepulse.reports.brief)."""
    pytest.importorskip("tradepulse.reports.brief", reason="tradepulse.reports.brief has not landed yet")
    page.goto("/briefs")
    with page.expect_download(timeout=120000) as dl:
        page.click("#brief-fa-pdf")
    path = dl.value.path()
    assert Path(path).read_bytes()[:5] == b"%PDF-"
    assert dl.value.suggested_filename.endswith(".pdf")


def test_table_download_csv(page):
    """Every table has a CSV link; the overview's trade table downloads with its header row."""
    page.goto("/")
    with page.expect_download() as dl:
        page.locator("#sec-trade a.dl-csv").click()
    text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("year,")
    assert len(text.splitlines()) >= 10  # small demo world: 2014–2023


def test_persian_provinces_page(page, shots):
    """Provinces in Persian: the chart's axis and the table show Persian names (rendered by Vega in the
    browser), the filter offers تهران and sends the stored name back (``province=Tehran`` in the URL)."""
    page.goto("/provinces?lang=fa")
    wait_charts(page)
    assert "تهران" in page.locator("#chart-provinces svg.marks").text_content()
    assert "Tehran" not in page.locator("#chart-provinces svg.marks").text_content()
    assert "تهران" in page.locator("#table-provinces tbody").inner_text()
    page.screenshot(path=str(shots / "provinces-fa.png"), full_page=True)
    page.locator("#province-filter").select_option(label="تهران")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_load_state()
    assert "province=Tehran" in page.url
    assert page.get_attribute("html", "dir") == "rtl"
    names = set(page.locator("#table-provinces tbody tr td:nth-child(2)").all_inner_texts())
    assert names == {"تهران"}, names


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_potential_non_oil_switch_in_the_browser(page, shots, lang):
    """The switch of the products page's potential table (CSS only): all products first (crude oil 2709 on
    top), one click shows the view without HS 2709/2710/2711 and hides the other row sets."""
    page.goto(f"/products?lang={lang}")
    sec = page.locator("#sec-potential")
    visible = sec.locator("tbody.variant:visible")
    assert visible.count() == 1
    assert visible.locator("a.code").first.inner_text().strip() in ("2709", "۲۷۰۹")
    sec.locator('input[type=radio][value="1"]').check()
    visible = sec.locator("tbody.variant:visible")
    assert visible.count() == 1 and "variant-1" in (visible.get_attribute("class") or "")
    codes = [c.strip() for c in visible.locator("a.code").all_inner_texts()]
    digits = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")
    assert codes and not any(c.translate(digits).startswith(("2709", "2710", "2711")) for c in codes)
    sec.screenshot(path=str(shots / f"products-potential-non-oil{'' if lang == 'en' else '-fa'}.png"))
