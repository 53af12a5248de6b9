"""Issue 20 (exploration at the level of the Atlas and OEC) on the small SYNTHETIC demo world: the overview
honours its filter bar, progress bars, readable money, the Atlas product space, treemaps, product and partner
pages.  Oracles: the JSON API (itself checked against SQL in test_web.py) and atlas-common-data's files."""

from __future__ import annotations

import re

import pytest

from tradepulse.web import pages


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from tradepulse.web.testing import demo_site
    return demo_site(tmp_path_factory.mktemp("atlas"))


@pytest.fixture(scope="module")
def client(site):
    from fastapi.testclient import TestClient

    from tradepulse.web.app import create_app
    with TestClient(create_app(site[0], site[1], "test-secret"), base_url="http://127.0.0.1") as c:
        yield c


def _kpis(html: str) -> dict[str, str]:
    return dict(re.findall(r'<span class="kpi-label">([^<]*)</span><span class="kpi-value">([^<]*)</span>', html))


@pytest.mark.parametrize("lang", ["en", "fa"])
@pytest.mark.parametrize("query", [{"partner": "neighbours15"}, {"partner": "neighbours15", "year": 2019},
                                   {"product": "27"}])
def test_overview_tiles_follow_the_filter_bar(client, lang, query):
    """The KPI tiles under a filter equal the API's trade table under the same filter (latest year, or the
    chosen year) — and differ from the unfiltered world total."""
    api = client.get("/api/v1/tables/trade", params={k: v for k, v in query.items() if k != "year"}).json()
    rows = {r["year"]: r for r in api["items"]}
    year = query.get("year", max(rows))
    fmt = pages.fmt_of(lang)
    tiles = _kpis(client.get("/", params={**query, "lang": lang}).text)
    label = f"{fmt.gettext('Exports')} {fmt.year(year)}"
    assert tiles[label] == fmt.usd(rows[year]["exports"])
    assert tiles[f"{fmt.gettext('Imports')} {fmt.year(year)}"] == fmt.usd(rows[year]["imports"])
    world = {r["year"]: r for r in client.get("/api/v1/tables/trade").json()["items"]}
    assert rows[year]["exports"] < world[year]["exports"]


def test_overview_targets_show_progress_bars_without_ids(client):
    html = client.get("/").text
    sec = html[html.index('id="sec-targets-glance"'):]
    sec = sec[:sec.index("</section>")]
    head = re.findall(r"<th>([^<]*)</th>", sec)
    assert head[0] != "ID" and "ID" not in head
    bars = re.findall(r'<progress max="1" value="([0-9.]+)"></progress> ([^<]*)</span>', sec)
    assert bars and all(0 <= float(v) <= 1 for v, _ in bars)
    api = client.get("/api/v1/tables/targets").json()["items"]
    shown = {t for _, t in bars}
    assert {pages.fmt_of("en").pct(r["progress"], 1, sign=False) for r in api if r["progress"] is not None} \
        & shown


def test_no_two_columns_share_a_header(client):
    """'Partner' appears once per table (the ISO3 code has its own header), on every page in both languages."""
    for path in ("/", "/markets", "/products"):
        for lang in ("en", "fa"):
            html = client.get(path, params={"lang": lang}).text
            for thead in re.findall(r"<thead>(.*?)</thead>", html, re.S):
                heads = re.findall(r"<th>([^<]*)</th>", thead)
                assert len(heads) == len(set(heads)), (path, lang, heads)


def test_targets_section_says_it_ignores_filters(client):
    html = client.get("/", params={"partner": "neighbours15"}).text
    assert "This section ignores the filters: Partner." in html
    assert "ignores the filters" not in client.get("/").text


def test_durations_in_whole_years():
    assert pages.fmt_cell("duration", 1.0, "en") == "1" and pages.fmt_cell("duration", 2.5, "fa") == "۲٫۵"
