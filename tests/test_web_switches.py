"""Issue 20 leftovers on the small SYNTHETIC demo world: Persian placeholders in the filter bar, the non-oil
switch of the products page's export-potential table, and target figures in their units.  Oracles: the JSON
API (checked against SQL in test_web.py), the named oil sets of :mod:`tradepulse.reference` and the
:class:`tradepulse.i18n.Formatter`."""

from __future__ import annotations

import re

import pytest

from tradepulse import reference
from tradepulse.web import pages


@pytest.fixture(scope="module")
def client(tmp_path_factory, demo_copy):
    from fastapi.testclient import TestClient

    from tradepulse.web.app import create_app
    from tradepulse.web.testing import demo_site
    wh, url = demo_site(demo_copy(tmp_path_factory.mktemp("switches")))
    with TestClient(create_app(wh, url, "test-secret"), base_url="http://127.0.0.1") as c:
        yield c


def _section(html: str, sid: str) -> str:
    sec = html[html.index(f'id="sec-{sid}"'):]
    return sec[:sec.index("</section>")]


def _items(client, table: str) -> list[dict]:
    items: list[dict] = []
    while True:
        page = client.get(f"/api/v1/tables/{table}", params={"limit": 1000, "offset": len(items)})
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        if len(items) >= page.json()["total"]:
            return items


@pytest.mark.parametrize("lang, partner, product", [
    ("en", "e.g. TUR or neighbours15", "e.g. 5701 or carpets"),
    ("fa", "مثلاً TUR یا neighbours15", "مثلاً 5701 یا carpets")])
def test_filter_placeholders_are_in_the_page_language(client, lang, partner, product):
    """Persian pages had English placeholders (``TUR, neighbours15``) laid out right to left; now each language
    has its own sentence, the codes to type staying in Latin letters and ASCII digits (what the filter reads)."""
    html = client.get("/products", params={"lang": lang}).text
    assert f'name="partner" value="" placeholder="{partner}"' in html
    assert f'name="product" value="" placeholder="{product}"' in html
    assert 'placeholder="TUR, neighbours15"' not in html


def _bodies(sec: str) -> dict[int, list[str]]:
    """Product codes (linked cells) of each ``tbody.variant-N`` of a section."""
    out = {}
    for n, body in re.findall(r'<tbody class="variant variant-(\d+)"[^>]*>(.*?)</tbody>', sec, flags=re.DOTALL):
        out[int(n)] = [m for m in re.findall(r'<a class="code" href="/products/(\d+)">', body)]
    return out


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_potential_table_has_a_non_oil_switch(client, lang):
    """All products (oil first today), and one view per named oil set without its HS codes; the IRN focus
    also gets Iran's customs definition.  Each view's rows are the API's potential table (ranked by
    unrealised potential) less the set's products, and the share of potential is recomputed over them."""
    fmt = pages.fmt_of(lang)
    sec = _section(client.get("/products", params={"lang": lang}).text, "potential")
    api = _items(client, "potential")
    bodies = _bodies(sec)
    assert bodies[0] == [r["product"] for r in api][:15]
    assert bodies[0][0] == "2709"                      # crude oil ranks first without the switch
    assert sorted(bodies) == [0, 1, 2, 3]
    for n, name in enumerate(("narrow", "chapter27", "iran_customs"), start=1):
        oil = reference.oil_prefixes(name)
        keep = [r for r in api if not str(r["product"]).startswith(oil)]
        assert bodies[n] == [r["product"] for r in keep][:15], name
        assert not any(c.startswith(oil) for c in bodies[n])
        total = sum(r["potential"] for r in keep)
        body = re.search(rf'<tbody class="variant variant-{n}"[^>]*>(.*?)</tbody>', sec, flags=re.DOTALL).group(1)
        first = re.findall(r"<td>(.*?)</td>", body.split("</tr>")[0], flags=re.DOTALL)
        assert fmt.pct(keep[0]["potential"] / total, 1, sign=False) in first
    labels = re.findall(r'<input type="radio" name="switch-potential" value="\d"[^>]*> ([^<]*)</label>', sec)
    assert labels[0] == fmt.gettext("All products")
    if lang == "en":
        assert labels[1:] == ["Non-oil (without HS 2709, 2710, 2711)", "Non-oil (without HS chapter 27)",
                              "Non-oil, Iran customs definition (without HS 2709)"]
    else:
        assert labels[1] == "غیرنفتی (بدون کدهای ۲۷۰۹، ۲۷۱۰، ۲۷۱۱)"
        assert not re.search(r"[0-9]", " ".join(labels))    # Persian digits only


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_target_figures_are_formatted_in_their_units(client, lang):
    """Baseline, actual and target of the targets table: money as ``$1.23 bn`` / ``۱٫۲۳ میلیارد دلار``,
    shares as percentages, counts whole, HHIs with 3 decimals — never raw floats like 27169941837.18."""
    fmt = pages.fmt_of(lang)
    sec = _section(client.get("/targets", params={"lang": lang}).text, "targets")
    api = {r["id"]: r for r in client.get("/api/v1/tables/targets").json()["items"]}
    rows = re.findall(r"<tr>(.*?)</tr>", sec.split("<tbody", 1)[1], flags=re.DOTALL)
    cells = [re.findall(r"<td>(.*?)</td>", r, flags=re.DOTALL) for r in rows]
    want = {
        "non-oil-surplus": lambda v: f'<span class="money">{fmt.usd(v)}</span>',    # a balance column
        "first-year-survival": lambda v: fmt.pct(v, 1, sign=False),                  # a share
        "product-concentration": lambda v: fmt.num(v, 3),                            # an index
        "markets-above-1m": lambda v: fmt.num(v, 0),                                 # a count
    }
    for tid, f in want.items():
        t = api[tid]
        expect = [f(t["baseline_value"]), f(t["actual"]), f(t["target_value"])]
        assert any(c[4:7] == expect for c in cells), (tid, expect)
    raw = f"{api['non-oil-surplus']['baseline_value']}"
    assert raw not in sec and "27169941837" not in sec
