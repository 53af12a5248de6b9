"""Issue 20 in a real browser (Playwright + Debian's /usr/bin/chromium, loopback uvicorn, SYNTHETIC demo world),
in English and Persian: the product space search and click-through, treemap areas against the KPI tile, the
overview tile under ``?partner=neighbours15`` against the JSON API, and screenshots of every page.

Screenshots go to pytest's temporary directory, or replace ``docs/screenshots/*.png`` with
``TRADEPULSE_SCREENSHOTS=1`` (as in tests/test_browser_web.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import chromium, demo_app, require_browser, serving, shots_dir, wait_charts

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = [("overview", "/"), ("products", "/products"), ("markets", "/markets"), ("provinces", "/provinces"),
         ("targets", "/targets"), ("groups", "/groups"), ("briefs", "/briefs"), ("product-5701", "/products/5701"),
         ("partner-TUR", "/partners/TUR")]
LANGS = ["en", "fa"]


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_copy):
    require_browser()
    app, _url = demo_app(demo_copy(tmp_path_factory.mktemp("atlas-site")), "browser-test-key")
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
    ctx = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    yield pg
    ctx.close()


@pytest.mark.parametrize("lang", LANGS)
def test_product_space_search_highlights_and_clicks_through(page, lang):
    """Type 5701 into the product space search: the node is ringed red and labelled; clicking the label
    opens /products/5701."""
    page.goto(f"/products?lang={lang}")
    wait_charts(page, timeout=60000)
    box = page.locator("#chart-product-space input[type=search]")
    box.fill("5701")
    label = page.locator("#chart-product-space svg text", has_text="5701")
    label.first.wait_for(timeout=10000)
    assert label.count() == 1
    ringed = page.locator('#chart-product-space svg path[stroke="#d62728"]')
    assert ringed.count() == 1
    rb, lb = ringed.first.bounding_box(), label.first.bounding_box()
    assert abs((rb["x"] + rb["width"] / 2) - lb["x"]) < 30        # the label sits next to the ringed node
    ringed.first.click(force=True)
    page.wait_for_url("**/products/5701**", timeout=15000)
    assert page.locator("h1").inner_text().startswith(("5701", "۵۷۰۱"))


@pytest.mark.parametrize("lang", LANGS)
def test_treemap_areas_sum_to_the_tile(page, lang):
    """Rectangle areas of the exports treemap are proportional to the values and fill the plot; the values
    sum to the total in the section's KPI tile."""
    from tradepulse.i18n import formatter
    page.goto(f"/products?lang={lang}")
    wait_charts(page, timeout=60000)
    leaves = page.evaluate("""() => document.getElementById('chart-treemap-product-exports').__view
        .data('leaves').map(d => ({v: d.value, a: (d.x1 - d.x0) * (d.y1 - d.y0)}))""")
    size = page.evaluate("""() => { const v = document.getElementById('chart-treemap-product-exports').__view;
        return [v.width() - 8, v.height() - 64]; }""")
    total_v, total_a = sum(d["v"] for d in leaves), sum(d["a"] for d in leaves)
    assert total_a == pytest.approx(size[0] * size[1], rel=1e-6)
    for d in leaves:
        assert d["a"] / total_a == pytest.approx(d["v"] / total_v, rel=1e-6, abs=1e-9)
    tile = page.locator("#sec-treemap-product-exports .kpi-value").inner_text()
    assert tile == formatter(lang, None, "").usd(total_v)


@pytest.mark.parametrize("lang", LANGS)
def test_overview_tile_follows_the_partner_filter(page, lang):
    from tradepulse.i18n import formatter
    page.goto(f"/?partner=neighbours15&lang={lang}")
    api = page.request.get("/api/v1/tables/trade?partner=neighbours15").json()["items"]
    latest = max(api, key=lambda r: r["year"])
    assert page.locator(".kpi-value").first.inner_text() == formatter(lang, None, "").usd(latest["exports"])


def test_screenshots_of_every_page_in_both_languages(page, shots):
    for lang in LANGS:
        for name, path in PAGES:
            resp = page.goto(f"{path}{'&' if '?' in path else '?'}lang={lang}")
            assert resp.status == 200, path
            wait_charts(page, timeout=60000)
            assert page.locator(".state-error").count() == 0, (path, lang)
            suffix = "" if lang == "en" else "-fa"
            page.screenshot(path=str(shots / f"{name}{suffix}.png"), full_page=name != "groups")
