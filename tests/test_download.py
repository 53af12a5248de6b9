"""Downloads against a local http.server on 127.0.0.1 only (never the internet)."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from tradepulse.ingest import ingest_file
from tradepulse.ingest.download import DownloadError, fetch_baci, fetch_comtrade, fetch_url


class Server:
    """Serves ``routes[path] = (status, content_type, body)`` and records every request."""

    def __init__(self):
        self.routes: dict[str, tuple[int, str, bytes]] = {}
        self.requests: list[tuple[str, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server API
                u = urlparse(self.path)
                outer.requests.append((u.path, parse_qs(u.query)))
                status, ctype, body = outer.routes.get(u.path, (404, "text/plain", b"not found"))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def _baci_zip(shared_data) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(shared_data / "baci_sample.csv", "BACI_HS17_Y2021_V202401.csv")
    return buf.getvalue()


def test_fetch_baci_zip_checksum_cache_and_ingest(server, tmp_path, shared_data, tmp_warehouse):
    body = _baci_zip(shared_data)
    digest = hashlib.sha256(body).hexdigest()
    server.routes["/baci/BACI_HS17_V202401.zip"] = (200, "application/zip", body)
    url = server.url + "/baci/BACI_HS17_V202401.zip"
    seen = []
    path = fetch_baci(url, tmp_path / "cache", sha256=digest, progress=lambda d, t: seen.append((d, t)))
    assert path.read_bytes() == body and seen[-1] == (len(body), len(body))
    assert fetch_baci(url, tmp_path / "cache", sha256=digest) == path      # cached: no second request
    assert len(server.requests) == 1
    r = ingest_file(tmp_warehouse, path, "baci")
    assert r.rows_loaded == 71_192 and r.value_usd_loaded == pytest.approx(69_369_988_138, abs=0.5)


def test_checksum_mismatch_size_limit_and_http_error_leave_nothing(server, tmp_path):
    server.routes["/f.zip"] = (200, "application/zip", b"x" * 5000)
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match="checksum mismatch"):
        fetch_url(server.url + "/f.zip", cache, sha256="0" * 64)
    with pytest.raises(DownloadError, match="limit"):
        fetch_url(server.url + "/f.zip", cache, max_bytes=1000)
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch_url(server.url + "/missing.zip", cache)
    with pytest.raises(DownloadError, match="only http"):
        fetch_url("file:///etc/passwd", cache)
    with pytest.raises(DownloadError, match="not a zip"):
        fetch_baci(server.url + "/f.zip", cache)
    assert list(cache.iterdir()) == []


def test_comtrade_query_parameters_and_ingest(server, tmp_path, tmp_warehouse):
    """Same path and query names as comtradeapicall.getFinalData; the JSON answer ingests as Comtrade."""
    rows = [
        {"typeCode": "C", "freqCode": "A", "refYear": 2021, "reporterISO": "IRN", "flowCode": "X",
         "partnerISO": "W00", "classificationCode": "H5", "cmdCode": "TOTAL", "primaryValue": 4.5e10},
        {"typeCode": "C", "freqCode": "A", "refYear": 2021, "reporterISO": "IRN", "flowCode": "X",
         "partnerISO": "TUR", "classificationCode": "H5", "cmdCode": "TOTAL", "primaryValue": 5.5e9},
        {"typeCode": "C", "freqCode": "A", "refYear": 2021, "reporterISO": "IRN", "flowCode": "X",
         "partnerISO": "S19", "classificationCode": "H5", "cmdCode": "TOTAL", "primaryValue": 1.0e6},
    ]
    server.routes["/data/v1/get/C/A/HS"] = (200, "application/json", json.dumps({"data": rows}).encode())
    out = fetch_comtrade(tmp_path / "irn.csv", period="2021", reporter_code="364", subscription_key="k",
                         base_url=server.url)
    path, query = server.requests[0]
    assert path == "/data/v1/get/C/A/HS"
    assert query["reportercode"] == ["364"] and query["period"] == ["2021"] and query["cmdCode"] == ["TOTAL"]
    assert query["flowCode"] == ["X"] and query["subscription-key"] == ["k"]
    assert query["breakdownMode"] == ["classic"] and query["format"] == ["JSON"]
    r = ingest_file(tmp_warehouse, out, "comtrade")
    assert (r.rows_loaded, r.rows_quarantined) == (3, 0)
    got = dict(tmp_warehouse.raw.execute("SELECT partner, value_usd FROM flows").fetchall())
    assert got == {"WLD": 4.5e10, "TUR": 5.5e9, "S19": 1.0e6}
    server.routes["/public/v1/preview/C/A/HS"] = (500, "text/plain", b"boom")
    with pytest.raises(DownloadError, match="HTTP 500"):
        fetch_comtrade(tmp_path / "x.csv", period="2021", base_url=server.url)
