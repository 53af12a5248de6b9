"""The datasets page and API (issue 14): what the warehouse holds, its coverage, and the meta of every table."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.xdist_group("datasets")


@pytest.fixture(scope="module")
def client(shared_data, tmp_path_factory):
    from fastapi.testclient import TestClient

    from tradepulse.ingest import ingest_file
    from tradepulse.warehouse import Warehouse
    from tradepulse.web.app import create_app

    tmp = tmp_path_factory.mktemp("webds")
    path = tmp / "w.duckdb"
    with Warehouse(path) as wh:
        ingest_file(wh, shared_data / "baci_sample.csv", "baci")
        ingest_file(wh, shared_data / "comtrade_partner_totals_2014_2022.parquet", "comtrade")
    app = create_app(path, tmp / "groups.sqlite", focus="ZAF")
    with TestClient(app) as c:
        yield c


def test_api_datasets_lists_both_sources_with_coverage(client):
    body = client.get("/api/v1/datasets").json()
    names = {d["dataset"]: d for d in body["datasets"]}
    assert set(names) == {"baci-hs6-annual", "comtrade-total-annual"}
    assert names["baci-hs6-annual"]["product_level"] == "hs6"
    assert names["comtrade-total-annual"]["first_year"] == 2014
    zaf = [c for c in body["coverage"] if c["reporter"] == "ZAF"]
    assert {c["dataset"] for c in zaf} == set(names)


def test_datasets_page_in_both_languages(client):
    en = client.get("/datasets")
    assert en.status_code == 200 and "baci-hs6-annual" in en.text and "Datasets" in en.text
    fa = client.get("/datasets?lang=fa")
    assert fa.status_code == 200 and "مجموعه‌داده‌ها" in fa.text


def test_table_api_carries_meta(client):
    r = client.get("/api/v1/tables/trade")
    assert r.status_code == 200, r.text
    meta = r.json()["meta"]
    assert meta["dataset"] in ("baci-hs6-annual", "comtrade-total-annual")
    assert isinstance(meta["warnings"], list)


def test_products_page_names_the_atlas_projection_beside_the_eci():
    """Issue 21: the Atlas's published ECI and growth projection (atlas-common-data) as a reference line."""
    from tradepulse.reference.atlas import growth_projection
    from tradepulse.web.pages.products import atlas_reference

    gp = growth_projection("IRN")
    en = atlas_reference("IRN", "en")
    assert f"{gp.rate:.1f}% a year" in en and f"edition {gp.edition}" in en and f"{gp.base_year}" in en
    assert "اطلس پیچیدگی اقتصادی" in atlas_reference("IRN", "fa")
    assert atlas_reference("ATA", "en") == ""          # no projection published: no line
