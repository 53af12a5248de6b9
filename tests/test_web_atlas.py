"""Issue 20 (exploration at the level of the Atlas and OEC) on the small SYNTHETIC demo world: the overview
honours its filter bar, progress bars, readable money, the Atlas product space, treemaps, product and partner
pages.  Oracles: the JSON API (itself checked against SQL in test_web.py) and atlas-common-data's files."""

from __future__ import annotations

import re

import pytest

from tradepulse.web import pages


@pytest.fixture(scope="module")
def site(tmp_path_factory, demo_copy):
    from tradepulse.web.testing import demo_site
    return demo_site(demo_copy(tmp_path_factory.mktemp("atlas")))


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
            for thead in re.findall(r"<thead>(.*?)</thead>", html, re.DOTALL):
                heads = re.findall(r"<th>([^<]*)</th>", thead)
                assert len(heads) == len(set(heads)), (path, lang, heads)


def test_targets_section_says_it_ignores_filters(client):
    html = client.get("/", params={"partner": "neighbours15"}).text
    assert "This section ignores the filters: Partner." in html
    assert "ignores the filters" not in client.get("/").text


def test_durations_in_whole_years():
    assert pages.fmt_cell("duration", 1.0, "en") == "1" and pages.fmt_cell("duration", 2.5, "fa") == "۲٫۵"


# ---------------------------------------------------------------- the Atlas product space
def _spec(html: str, sid: str) -> dict:
    import json
    m = re.search(rf'<script type="application/json" id="spec-{sid}">(.*?)</script>', html, re.DOTALL)
    assert m, f"no chart spec {sid}"
    return json.loads(m.group(1))


def _datasets(client, spec: dict) -> list[list[dict]]:
    """Every dataset of a Vega-Lite spec: inline ones and those served from /charts/data."""
    out = [v for v in spec.get("datasets", {}).values()]

    def walk(node):
        if isinstance(node, dict):
            url = (node.get("data") or {}).get("url") if isinstance(node.get("data"), dict) else None
            if url:
                out.append(client.get(url).json())
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(spec)
    return out


def _all_items(client, table: str, **params) -> list[dict]:
    items: list[dict] = []
    while True:
        page = client.get(f"/api/v1/tables/{table}", params={**params, "limit": 1000, "offset": len(items)})
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        if len(items) >= page.json()["total"]:
            return items


def _atlas_csv() -> dict[str, tuple[float, float, int]]:
    """HS92 4-digit positions and clusters read straight from atlas-common-data's hs92.csv (stdlib csv)."""
    import csv
    import importlib.util
    from pathlib import Path
    root = Path(importlib.util.find_spec("atlas_common_data").origin).parent
    with open(root / "data" / "classification" / "product" / "hs92.csv", encoding="utf-8") as fh:
        return {r["code"].zfill(4): (float(r["product_space_x"]), float(r["product_space_y"]),
                                     int(float(r["cluster_id"])))
                for r in csv.DictReader(fh) if r["product_level"] == "4" and r["product_space_x"]}


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_product_space_uses_the_atlas_coordinates(client, lang):
    """Every node of the drawn product space sits at atlas-common-data's published (x, y); all 865 HS92
    products are drawn; nodes are coloured only where the demo's IRN has RCA ≥ 1 (checked against the
    complexity API); every node links to its product page."""
    spec = _spec(client.get("/products", params={"lang": lang}).text, "product-space")
    nodes = next(d for d in _datasets(client, spec) if d and "product" in d[0] and "url" in d[0])
    atlas = _atlas_csv()
    assert len(nodes) == len(atlas) == 865
    for n in nodes:
        x, y, _cl = atlas[n["product"]]
        assert n["x"] == pytest.approx(x, abs=1e-12) and n["y"] == pytest.approx(y, abs=1e-12)
        assert n["url"] == f"/products/{n['product']}"
    rca = {r["product"]: r["rca"] for r in _all_items(client, "complexity")}
    grey = pages.fmt_of(lang).gettext("RCA < 1")
    coloured = {n["product"] for n in nodes if n["group"] != grey}
    assert coloured == {p for p, v in rca.items() if v is not None and v >= 1 and p in atlas}
    assert sum(n["opportunity"] for n in nodes) > 0
    edges = next(d for d in _datasets(client, spec) if d and "x2" in d[0])
    assert len(edges) > 4000                 # hs92_ps_edges.csv: 4,316 links


def test_cluster_colours_do_not_depend_on_the_language(client):
    en, fa = (_spec(client.get("/products", params={"lang": g}).text, "product-space") for g in ("en", "fa"))

    def colours(spec):
        for layer in spec["layer"]:
            c = layer.get("encoding", {}).get("color")
            if c and "scale" in c:
                return c["scale"]["range"]
    assert colours(en) == colours(fa) and len(colours(en)) == 9


def test_other_revisions_map_to_hs92_through_the_conversion_weights():
    """HS2012 → HS92: weights per source heading sum to 1; restating values keeps the total (a hand case:
    one heading split over two HS92 headings)."""
    from tradepulse.reference.product_space import hs4_to_hs92, to_hs92
    w = hs4_to_hs92("HS2012")
    assert w.groupby("code")["weight"].sum().to_numpy() == pytest.approx(1.0)
    split = w.groupby("code").filter(lambda g: len(g) == 2).iloc[:2]
    code = split["code"].iloc[0]
    import pandas as pd
    frame = pd.DataFrame({"year": [2020], "exporter": ["IRN"], "product": [code], "export_value": [100.0]})
    out = to_hs92(frame, "HS2012").set_index("product")["export_value"]
    assert out.sum() == pytest.approx(100.0)
    assert out.to_dict() == pytest.approx(dict(zip(split["hs92"], 100.0 * split["weight"])))


# ---------------------------------------------------------------- treemaps and the export basket
@pytest.mark.parametrize("lang", ["en", "fa"])
@pytest.mark.parametrize("path,sid,table,col,query", [
    ("/products", "treemap-product-exports", "products", "exports", {}),
    ("/products", "treemap-product-imports", "products", "imports", {"partner": "neighbours15"}),
    ("/products", "treemap-product-exports", "products", "exports", {"province": "Tehran", "year": 2020}),
    ("/markets", "treemap-partner-exports", "partners", "exports", {"year": 2019})])
def test_treemap_cells_sum_to_the_tile_and_the_api(client, lang, path, sid, table, col, query):
    """The treemap's leaf values (rectangle areas are proportional to them) sum to the section's KPI tile,
    and equal the API table of the same filters row by row (positive values only)."""
    html = client.get(path, params={**query, "lang": lang}).text
    spec = _spec(html, sid)
    tree = spec["data"][0]
    values = tree["values"] if "values" in tree else client.get(tree["url"]).json()   # large: served by URL
    leaves = [r for r in values if "key" in r]
    api = {str(r["product" if table == "products" else "partner"]): r[col]
           for r in _all_items(client, table, **query) if r[col] and r[col] > 0}
    assert {r["key"]: r["value"] for r in leaves} == pytest.approx(api)
    sec = html[html.index(f'id="sec-{sid}"'):]
    tile = _kpis(sec[:sec.index("</section>")])
    assert list(tile.values()) == [pages.fmt_of(lang).usd(sum(api.values()))]
    assert all(r["url"] == ("/products/" if table == "products" else "/partners/") + r["key"] for r in leaves)


def test_export_basket_sums_to_the_product_table_each_year(client):
    spec = _spec(client.get("/products").text, "basket-exports")
    rows = next(d for d in _datasets(client, spec) if d and "section" in d[0])
    by_year: dict[int, float] = {}
    for r in rows:
        by_year[r["year"]] = by_year.get(r["year"], 0.0) + r["value_usd"]
    for year in (2014, 2023):
        api = sum(r["exports"] for r in _all_items(client, "products", year=year))
        assert by_year[year] == pytest.approx(api, rel=1e-9)


# ---------------------------------------------------------------- product and partner pages
@pytest.mark.parametrize("lang", ["en", "fa"])
def test_codes_link_to_their_pages(client, lang):
    """Every product code and partner ISO3 code in a table links to its page, on every indicator page."""
    for path in ("/", "/products", "/partners/TUR"):
        html = client.get(path, params={"lang": lang}).text
        assert re.search(r'<td><a class="code" href="/products/\d{4}">', html), path
    for path in ("/", "/markets", "/products/2709"):
        html = client.get(path, params={"lang": lang}).text
        assert re.search(r'<td><a class="code" href="/partners/[A-Z]{3}">[A-Z]{3}</a></td>', html), path


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_product_page_numbers_come_from_the_api(client, lang):
    """/products/2709: the trend equals the trade API filtered to the product; top exporters' shares sum to
    at most 1 and the first is the largest; the provinces table equals the provinces API for the year."""
    html = client.get("/products/2709", params={"lang": lang}).text
    assert "state-error" not in html
    fmt = pages.fmt_of(lang)
    api = {r["year"]: r for r in _all_items(client, "trade", product="2709")}
    latest = max(api)
    assert f'<td><span class="money">{fmt.usd(api[latest]["exports"])}</span></td>' in html
    prov = [r for r in _all_items(client, "provinces", product="2709") if r["year"] == latest and r["exports"] > 0]
    sec = html[html.index('id="sec-provinces"'):]
    sec = sec[:sec.index("</section>")]
    assert len(re.findall(r"<tr><td>", sec)) == len(prov)
    assert fmt.usd(max(r["exports"] for r in prov)) in sec


def test_partner_page_and_unknown_codes(client):
    html = client.get("/partners/TUR").text
    api = {r["year"]: r for r in _all_items(client, "trade", partner="TUR")}
    tiles = _kpis(html)
    assert tiles[f"Exports {max(api)}"] == pages.fmt_of("en").usd(api[max(api)]["exports"])
    assert client.get("/partners/tur").status_code == 404
    assert client.get("/products/57x").status_code == 404


def test_sections_say_which_filters_they_ignore(client):
    """Opportunities are computed for the whole country: under a partner filter the section says so; survival
    spans every year, so a year filter is named on the markets page."""
    html = client.get("/products", params={"partner": "TUR"}).text
    sec = html[html.index('id="sec-opportunities"'):]
    assert "This section ignores the filters: Partner." in sec[:sec.index("</section>")]
    html = client.get("/markets", params={"year": 2020}).text
    sec = html[html.index('id="sec-survival"'):]
    assert "This section ignores the filters: Year." in sec[:sec.index("</section>")]


def test_export_potential_names_its_products(client):
    items = _all_items(client, "potential")
    named = [r for r in items if r["product"] == "2709"]
    assert named and named[0]["product_name"] == "Petroleum oils, crude"
