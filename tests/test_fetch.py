"""``tradepulse fetch``: the real download code against a local HTTP server on 127.0.0.1 (never the internet).

The server serves a BACI-named release zip built here from ../shared/data/baci_sample.csv (honouring HTTP
Range, able to cut the connection half-way or answer 429/503 first), and a Comtrade API answering from real
rows of ../shared/data/comtrade_partner_totals_2014_2022.parquet in the API's JSON shape (filtered by the
query's reporter, period, flow and partner, at most ``maxRecords`` rows, as the API does).
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from tradepulse.ingest.download import NET_CHUNK, DownloadError, recorded_sha256
from tradepulse.ingest.fetch import (
    PREVIEW_CAP,
    baci_url,
    comtrade_code,
    fetch_baci_release,
    fetch_comtrade_data,
    fetch_log,
    fetch_macro,
)

RELEASE, HS = "V202501", "HS17"
ZIP_NAME = "BACI_HS17_V202501.zip"
SAMPLE_ROWS, SAMPLE_KUSD = 71_192, 69_369_988.138  # PROVENANCE.md: rows and sum of v (thousand USD)


class LocalServer:
    """A threaded HTTP server on 127.0.0.1.

    ``files[path] = bytes`` are served with Range support; ``cut[path] = n`` cuts the next n full answers
    half-way (Content-Length announces the whole file); ``failures[path] = [status, …]`` answers those
    statuses first (with ``Retry-After: 0``); ``no_length`` paths are sent without Content-Length;
    ``comtrade_rows`` answers ``/data/v1/get/…`` and ``/public/v1/preview/…``; ``worldbank[indicator]`` rows
    answer ``/v2/country/all/indicator/…`` in pages.  ``log`` holds (path, query, headers) of every request.
    """

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.cut: dict[str, int] = {}
        self.failures: dict[str, list[int]] = {}
        self.no_length: set[str] = set()
        self.etags: dict[str, str] = {}
        self.comtrade_rows: list[dict] = []
        self.worldbank: dict[str, list[dict]] = {}
        self.log: list[tuple[str, dict, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                u = urlparse(self.path)
                q = parse_qs(u.query)
                outer.log.append((u.path, q, dict(self.headers)))
                if outer.failures.get(u.path):
                    status = outer.failures[u.path].pop(0)
                    self.send_response(status)
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", "4")
                    self.end_headers()
                    self.wfile.write(b"busy")
                    return
                if u.path in outer.files:
                    return self._file(u.path)
                if u.path.startswith(("/data/v1/get/", "/public/v1/preview/")):
                    return self._json(outer.comtrade_answer(u.path, q))
                if u.path.startswith("/v2/country/all/indicator/"):
                    return self._json(outer.worldbank_answer(u.path.rsplit("/", 1)[1], q))
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _json(self, obj):
                body = json.dumps(obj).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _file(self, path):
                body = outer.files[path]
                start = 0
                rng = self.headers.get("Range")
                if_range = self.headers.get("If-Range")
                if if_range is not None and if_range != outer.etags.get(path):
                    rng = None  # RFC 9110 §13.1.5: the file changed, send all of it
                if rng and rng.startswith("bytes=") and rng.endswith("-"):
                    start = int(rng[6:-1])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                part = body[start:]
                if path not in outer.no_length:
                    self.send_header("Content-Length", str(len(part)))
                if path in outer.etags:
                    self.send_header("ETag", outer.etags[path])
                self.send_header("Content-Type", "application/zip")
                self.end_headers()
                if outer.cut.get(path):
                    outer.cut[path] -= 1
                    self.wfile.write(part[: len(body) // 2 - start])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(part)

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def comtrade_answer(self, path: str, q: dict) -> dict:
        """The Comtrade v1 envelope: rows matching reportercode, period, flowCode, partnerCode, cmdCode."""
        def wanted(name):
            return set(q[name][0].split(",")) if name in q else None
        rep, per, flow, partner = (wanted(n) for n in ("reportercode", "period", "flowCode", "partnerCode"))
        freq = path.split("/")[-2]
        rows = [r for r in self.comtrade_rows if r["freqCode"] == freq
                and (rep is None or str(r["reporterCode"]) in rep) and (per is None or r["period"] in per)
                and (flow is None or r["flowCode"] in flow) and (partner is None or str(r["partnerCode"]) in partner)
                and r["cmdCode"] == q.get("cmdCode", ["TOTAL"])[0]]
        cap = int(q.get("maxRecords", ["500"])[0])
        return {"elapsedTime": "0.1 secs", "count": min(len(rows), cap), "data": rows[:cap], "error": ""}

    def worldbank_answer(self, indicator: str, q: dict):
        rows = self.worldbank.get(indicator, [])
        lo, hi = (int(x) for x in q["date"][0].split(":"))
        rows = [r for r in rows if lo <= int(r["date"]) <= hi]
        per, page = int(q["per_page"][0]), int(q["page"][0])
        pages = max(1, -(-len(rows) // per))
        return [{"page": page, "pages": pages, "per_page": per, "total": len(rows)},
                rows[(page - 1) * per: page * per]]

    def requests_to(self, prefix: str) -> list[tuple[str, dict, dict]]:
        return [r for r in self.log if r[0].startswith(prefix)]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = LocalServer()
    yield s
    s.close()


def baci_release_zip(shared_data) -> bytes:
    """A release zip as CEPII names it: one yearly CSV (the real 2021 sample) and the country code list."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(shared_data / "baci_sample.csv", "BACI_HS17_Y2021_V202501.csv")
        zf.write(shared_data / "baci_country_codes_V202201.csv", "country_codes_V202501.csv")
    return buf.getvalue()


def comtrade_api_rows(shared_data, reporters=("IRN",), years=range(2014, 2023)) -> list[dict]:
    """Real rows of the partner-totals fixture in the Comtrade v1 "final data" JSON shape (annual, exports,
    commodity TOTAL, HS as reported)."""
    import pandas as pd

    df = pd.read_parquet(shared_data / "comtrade_partner_totals_2014_2022.parquet")
    df = df[df["reporter"].isin(reporters) & df["year"].isin(list(years))]
    return [{"typeCode": "C", "freqCode": "A", "refPeriodId": int(r.year) * 10000 + 101, "refYear": int(r.year),
             "refMonth": 52, "period": str(r.year), "reporterCode": int(r.reporter_code),
             "reporterISO": r.reporter, "reporterDesc": r.reporter_name, "flowCode": "X", "flowDesc": "Export",
             "partnerCode": int(r.partner_code), "partnerISO": r.partner, "partnerDesc": r.partner_name,
             "partner2Code": 0, "partner2ISO": "W00", "partner2Desc": "World", "classificationCode": "HS",
             "classificationSearchCode": "HS", "isOriginalClassification": True, "cmdCode": "TOTAL",
             "cmdDesc": "All Commodities", "aggrLevel": 0, "isLeaf": False, "customsCode": "C00",
             "customsDesc": "TOTAL CPC", "mosCode": "0", "motCode": 0, "motDesc": "TOTAL MOT",
             "qtyUnitCode": -1, "qtyUnitAbbr": "N/A", "qty": None, "isQtyEstimated": False,
             "altQtyUnitCode": -1, "altQtyUnitAbbr": "N/A", "altQty": None, "netWgt": None, "grossWgt": None,
             "cifvalue": None, "fobvalue": float(r.value_usd), "primaryValue": float(r.value_usd),
             "legacyEstimationFlag": 0, "isReported": True, "isAggregate": True}
            for r in df.itertuples(index=False)]


def _serve_zip(server, shared_data) -> tuple[bytes, str]:
    body = baci_release_zip(shared_data)
    server.files["/baci/" + ZIP_NAME] = body
    return body, hashlib.sha256(body).hexdigest()


def _loaded(wh) -> tuple[int, float]:
    n, v = wh.raw.execute("SELECT count(*), coalesce(sum(value_usd), 0) FROM flows").fetchall()[0]
    return n, v


# ---------------------------------------------------------------- BACI
def test_baci_url_follows_cepii_pattern():
    assert baci_url("V202501", "hs17") == "https://www.cepii.fr/DATA_DOWNLOAD/baci/data/BACI_HS17_V202501.zip"
    assert baci_url("202401b", "HS92", "http://m/x/") == "http://m/x/BACI_HS92_V202401b.zip"
    for bad in [("V2025", "HS17"), ("V202501", "HS19")]:
        with pytest.raises(Exception, match="BACI"):
            baci_url(*bad)


def test_fetch_and_ingest_loads_every_sample_row_then_the_cache_answers(server, tmp_path, shared_data,
                                                                         tmp_warehouse):
    body, digest = _serve_zip(server, shared_data)
    seen = []
    r = fetch_baci_release(tmp_warehouse, RELEASE, HS, base_url=server.url + "/baci", cache=tmp_path / "c",
                           sha256=digest, progress=lambda d, t: seen.append((d, t)))
    assert [x.rows_loaded for x in r.loads] == [SAMPLE_ROWS] and r.requests == 1
    rows, value = _loaded(tmp_warehouse)
    assert rows == SAMPLE_ROWS and value == pytest.approx(SAMPLE_KUSD * 1000, abs=1)
    assert seen[-1] == (len(body), len(body))
    cached = tmp_path / "c" / "baci" / ZIP_NAME
    assert cached.read_bytes() == body and recorded_sha256(cached) == digest
    assert (tmp_path / "c" / "baci" / (ZIP_NAME + ".sha256")).read_text() == f"{digest}  {ZIP_NAME}\n"
    n = len(server.log)
    again = fetch_baci_release(tmp_warehouse, RELEASE, HS, base_url=server.url + "/baci", cache=tmp_path / "c",
                               sha256=digest)
    assert len(server.log) == n and again.requests == 0            # second fetch: cache, no request
    assert again.loads[0].skipped and _loaded(tmp_warehouse)[0] == SAMPLE_ROWS
    assert any("cached" in w for w in again.meta.warnings)
    log = fetch_log(tmp_path / "c")
    assert [e["requests"] for e in log] == [1, 0] and log[0]["sha256"] == {ZIP_NAME: digest}


def test_cut_at_half_resumes_with_range_and_gives_the_same_sha256(server, tmp_path, shared_data, tmp_warehouse):
    body, digest = _serve_zip(server, shared_data)
    path = "/baci/" + ZIP_NAME
    server.cut[path] = 1
    part = tmp_path / "c" / "baci" / (ZIP_NAME + ".part")
    # no retry in this run: the cut leaves the first half in the part file
    with pytest.raises(DownloadError, match="resumes"):
        fetch_baci_release(tmp_warehouse, RELEASE, HS, base_url=server.url + "/baci", cache=tmp_path / "c",
                           retries=0)
    kept = part.stat().st_size      # what arrived before the cut, less at most one unfinished 64 KiB read
    assert len(body) // 2 - NET_CHUNK < kept <= len(body) // 2 and _loaded(tmp_warehouse)[0] == 0
    assert part.read_bytes() == body[:kept]
    r = fetch_baci_release(tmp_warehouse, RELEASE, HS, base_url=server.url + "/baci", cache=tmp_path / "c")
    ranges = [h.get("Range") for p, _, h in server.log if p == path]
    assert ranges == [None, f"bytes={kept}-"]
    assert r.sha256[ZIP_NAME] == digest == hashlib.sha256((tmp_path / "c" / "baci" / ZIP_NAME).read_bytes()).hexdigest()
    assert not part.exists() and r.loads[0].rows_loaded == SAMPLE_ROWS


def test_cut_within_one_run_is_retried_from_the_received_bytes(server, tmp_path, shared_data, tmp_warehouse):
    _, digest = _serve_zip(server, shared_data)
    server.cut["/baci/" + ZIP_NAME] = 1
    r = fetch_baci_release(tmp_warehouse, RELEASE, HS, base_url=server.url + "/baci", cache=tmp_path / "c",
                           sha256=digest, backoff=0)
    assert r.requests == 2 and r.sha256[ZIP_NAME] == digest and r.loads[0].rows_loaded == SAMPLE_ROWS


def test_file_replaced_between_cut_and_resume_is_downloaded_whole(server, tmp_path, shared_data,
                                                                   tmp_warehouse):
    old, _ = _serve_zip(server, shared_data)
    path = "/baci/" + ZIP_NAME
    server.etags[path], server.cut[path] = '"v1"', 1
    with pytest.raises(DownloadError):
        fetch_baci_release(tmp_warehouse, RELEASE, HS, base_url=server.url + "/baci", cache=tmp_path / "c",
                           retries=0)
    new = io.BytesIO()  # the same data stored uncompressed: another file under the same name
    with zipfile.ZipFile(new, "w", zipfile.ZIP_STORED) as zf:
        zf.write(shared_data / "baci_sample.csv", "BACI_HS17_Y2021_V202501.csv")
    server.files[path], server.etags[path] = new.getvalue(), '"v2"'
    r = fetch_baci_release(tmp_warehouse, RELEASE, HS, base_url=server.url + "/baci", cache=tmp_path / "c")
    assert server.log[-1][2].get("If-Range") == '"v1"' and server.log[-1][2].get("Range")
    assert r.sha256[ZIP_NAME] == hashlib.sha256(new.getvalue()).hexdigest() != hashlib.sha256(old).hexdigest()
    assert r.loads[0].rows_loaded == SAMPLE_ROWS


def test_an_html_answer_is_not_kept_nor_loaded(server, tmp_path, tmp_warehouse):
    server.files["/baci/" + ZIP_NAME] = b"<html><body>please log in</body></html>"
    with pytest.raises(DownloadError, match="did not answer a zip"):
        fetch_baci_release(tmp_warehouse, RELEASE, HS, base_url=server.url + "/baci", cache=tmp_path / "c")
    assert list((tmp_path / "c" / "baci").iterdir()) == [] and _loaded(tmp_warehouse)[0] == 0


def test_wrong_checksum_is_refused_and_nothing_is_ingested(server, tmp_path, shared_data, tmp_warehouse):
    _serve_zip(server, shared_data)
    with pytest.raises(DownloadError, match="checksum mismatch"):
        fetch_baci_release(tmp_warehouse, RELEASE, HS, base_url=server.url + "/baci", cache=tmp_path / "c",
                           sha256="0" * 64)
    assert _loaded(tmp_warehouse)[0] == 0
    assert tmp_warehouse.raw.execute("SELECT count(*) FROM loads").fetchall()[0][0] == 0
    assert list((tmp_path / "c" / "baci").iterdir()) == []


@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "streamed"])
def test_size_cap_stops_the_download(server, tmp_path, shared_data, tmp_warehouse, announced):
    body, _ = _serve_zip(server, shared_data)
    if not announced:
        server.no_length.add("/baci/" + ZIP_NAME)
    with pytest.raises(DownloadError, match="limit"):
        fetch_baci_release(tmp_warehouse, RELEASE, HS, base_url=server.url + "/baci", cache=tmp_path / "c",
                           max_bytes=len(body) // 3)
    assert list((tmp_path / "c" / "baci").iterdir()) == [] and _loaded(tmp_warehouse)[0] == 0


def test_busy_server_is_retried_then_gives_up_keeping_nothing(server, tmp_path, shared_data, tmp_warehouse):
    _, digest = _serve_zip(server, shared_data)
    server.failures["/baci/" + ZIP_NAME] = [503, 429]
    r = fetch_baci_release(tmp_warehouse, RELEASE, HS, base_url=server.url + "/baci", cache=tmp_path / "c",
                           backoff=0)
    assert r.requests == 3 and r.sha256[ZIP_NAME] == digest
    server.failures["/baci/BACI_HS92_V202501.zip"] = [503] * 3
    with pytest.raises(DownloadError, match="after 3 attempts"):
        fetch_baci_release(tmp_warehouse, RELEASE, "HS92", base_url=server.url + "/baci", cache=tmp_path / "c",
                           retries=2, backoff=0)


# ---------------------------------------------------------------- Comtrade
def test_comtrade_preview_pages_under_the_cap_and_loads_every_row(server, tmp_path, shared_data, tmp_warehouse,
                                                                  monkeypatch):
    monkeypatch.delenv("COMTRADE_API_KEY", raising=False)
    server.comtrade_rows = comtrade_api_rows(shared_data)
    expected = [r for r in server.comtrade_rows if 2015 <= r["refYear"] <= 2018]
    assert len(expected) > PREVIEW_CAP                                   # 599 rows: one call cannot hold them
    r = fetch_comtrade_data(tmp_warehouse, ["IRN"], range(2015, 2019), flows=["X"], base_url=server.url,
                            cache=tmp_path / "c")
    calls = server.requests_to("/public/v1/preview/C/A/HS")
    assert [c[1]["period"][0] for c in calls] == ["2015,2016,2017,2018", "2015,2016", "2017,2018"]
    assert all(c[1]["reportercode"] == ["364"] and c[1]["maxRecords"] == ["500"] for c in calls)
    assert r.requests == 3 and r.meta.coverage["rows"] == len(expected)
    load = r.loads[0]
    assert load.rows_loaded + load.rows_quarantined == len(expected)
    world = {x["refYear"]: x["primaryValue"] for x in expected if x["partnerISO"] == "W00"}
    got = dict(tmp_warehouse.raw.execute(
        "SELECT year, value_usd FROM flows WHERE reporter = 'IRN' AND partner = 'WLD' AND product = 'TOTAL'"
    ).fetchall())
    assert got == world and len(world) == 4
    assert any("public preview" in w for w in r.meta.warnings)
    n = len(server.log)
    again = fetch_comtrade_data(tmp_warehouse, ["IRN"], range(2015, 2019), flows=["X"], base_url=server.url,
                                cache=tmp_path / "c")
    assert len(server.log) == n and again.requests == 0 and again.loads[0].skipped
    fresh = fetch_comtrade_data(tmp_warehouse, ["IRN"], range(2015, 2019), flows=["X"], base_url=server.url,
                                cache=tmp_path / "c", refresh=True)
    assert fresh.requests == 3 and fresh.loads[0].skipped                # same answers: same file, no new load


def test_comtrade_key_goes_in_a_header_and_429_is_retried(server, tmp_path, shared_data, tmp_warehouse,
                                                          monkeypatch):
    monkeypatch.setenv("COMTRADE_API_KEY", "secret-key-123")
    server.comtrade_rows = comtrade_api_rows(shared_data)
    server.failures["/data/v1/get/C/A/HS"] = [429]
    r = fetch_comtrade_data(tmp_warehouse, ["IRN"], [2017], flows=["X", "M"], partners=["TUR", "WLD"],
                            base_url=server.url, cache=tmp_path / "c", backoff=0)
    calls = server.requests_to("/data/v1/get/C/A/HS")
    assert len(calls) == 2 and r.requests == 2                          # 429, then 200
    _, q, headers = calls[1]
    assert headers["Ocp-Apim-Subscription-Key"] == "secret-key-123" and "subscription-key" not in q
    assert q["partnerCode"] == ["792,0"] and q["flowCode"] == ["X,M"] and q["maxRecords"] == ["100000"]
    assert r.loads[0].rows_loaded == 2 and not r.meta.warnings
    for f in (tmp_path / "c").rglob("*"):
        if f.is_file():
            assert "secret-key-123" not in f.read_text(encoding="utf-8", errors="replace") + f.name


def test_comtrade_codes():
    assert (comtrade_code("IRN"), comtrade_code("usa"), comtrade_code("W00"), comtrade_code("364"),
            comtrade_code("TWN")) == (364, 842, 0, 364, 490)
    with pytest.raises(Exception, match="unknown country"):
        comtrade_code("XYZ")


# ---------------------------------------------------------------- macro
def test_macro_offline_from_the_shipped_wdi_cache(tmp_path, tmp_warehouse):
    import pandas as pd

    from tradepulse.ingest.fetch import atlas_macro_file

    r = fetch_macro(tmp_warehouse, years=[2021, 2022], cache=tmp_path / "c")
    raw = pd.read_parquet(atlas_macro_file("wdi"))
    irn = raw[(raw.iso3_code == "IRN") & (raw.year == 2022)].iloc[0]
    got = tmp_warehouse.raw.execute("SELECT gdp_usd, population, source FROM macro WHERE iso3 = 'IRN' AND "
                                    "year = 2022").fetchall()
    assert got == [(irn.gdp, irn.population, "wdi")]
    assert r.requests == 0 and r.loads[0].rows_quarantined == 0 and r.meta.coverage["years"] == [2021, 2022]
    # GDP per capita of the macro table (gdp_usd / population) against WDI's own NY.GDP.PCAP.CD
    assert irn.gdp / irn.population == pytest.approx(irn.gdppc, rel=1e-6)


def test_macro_from_the_world_bank_api_pages_and_caches(server, tmp_path, tmp_warehouse):
    rows = {"NY.GDP.MKTP.CD": [], "SP.POP.TOTL": []}
    for iso, gdp, pop in [("IRN", 4.0e11, 8.9e7), ("TUR", 9.0e11, 8.5e7), ("EUU", 1.6e13, 4.5e8)]:
        for year in (2021, 2022):
            rows["NY.GDP.MKTP.CD"].append({"countryiso3code": iso, "date": str(year), "value": gdp + year})
            rows["SP.POP.TOTL"].append({"countryiso3code": iso, "date": str(year), "value": pop})
    server.worldbank = rows
    import tradepulse.ingest.fetch as f
    wdi = f.fetch_macro(tmp_warehouse, years=[2021, 2022], cache=tmp_path / "c").loads[0]
    # regression: superseding rows of a table without a value column (macro) used to fail in DuckDB
    r = f.fetch_macro(tmp_warehouse, source="worldbank", years=[2021, 2022], base_url=server.url,
                      cache=tmp_path / "c", on_overlap="replace")
    assert r.loads[0].rows_overlapping == 4 and r.loads[0].overlapping_loads[0]["load_id"] == wdi.load_id
    assert tmp_warehouse.raw.execute("SELECT rows_loaded FROM loads WHERE load_id = ?",
                                     [wdi.load_id]).fetchall() == [(wdi.rows_loaded - 4,)]
    got = tmp_warehouse.raw.execute("SELECT iso3, year, gdp_usd, population FROM macro WHERE source = "
                                    "'worldbank' ORDER BY 1, 2").fetchall()
    assert got == [("IRN", 2021, 4.0e11 + 2021, 8.9e7), ("IRN", 2022, 4.0e11 + 2022, 8.9e7),
                   ("TUR", 2021, 9.0e11 + 2021, 8.5e7), ("TUR", 2022, 9.0e11 + 2022, 8.5e7)]
    assert any("EUU" in w for w in r.meta.warnings) and r.requests == 2
    assert server.log[0][1]["date"] == ["2021:2022"] and server.log[0][1]["per_page"] == ["20000"]
    assert server.log[0][1]["date"] == ["2021:2022"] and server.log[0][1]["format"] == ["json"]
    again = f.fetch_macro(tmp_warehouse, source="worldbank", years=[2021, 2022], base_url=server.url,
                          cache=tmp_path / "c")
    assert again.requests == 0 and again.loads[0].skipped


# ---------------------------------------------------------------- CLI
def test_cli_json_summary_and_one_line_errors(server, tmp_path, shared_data, monkeypatch):
    from typer.testing import CliRunner

    from tradepulse.cli import app

    _, digest = _serve_zip(server, shared_data)
    monkeypatch.setenv("TRADEPULSE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TRADEPULSE_WAREHOUSE", raising=False)
    runner = CliRunner()
    base = ["fetch", "baci", "--release", RELEASE, "--hs", HS, "--base-url", server.url + "/baci"]
    bad = runner.invoke(app, [*base, "--sha256", "f" * 64])
    assert bad.exit_code == 2 and "checksum mismatch" in bad.output and "Traceback" not in bad.output
    res = runner.invoke(app, [*base, "--years", "2021", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["sha256"] == {ZIP_NAME: digest} and out["requests"] == 1
    assert [ld["rows_loaded"] for ld in out["loads"]] == [SAMPLE_ROWS] and out["meta"]["dataset"] == "BACI HS17 V202501"
    assert fetch_log(tmp_path / "home" / "cache")[-1]["loads"] == [out["loads"][0]["load_id"]]
    res = runner.invoke(app, ["fetch", "comtrade", "--reporter", "XYZ", "--years", "2020", "--base-url", server.url])
    assert res.exit_code == 2 and "unknown country code 'XYZ'" in res.output
