"""Downloads into a cache directory: files by URL (BACI release zips), and JSON API answers.

* :func:`fetch_url` streams a URL to ``cache_dir`` in 64 KiB reads into ``NAME.part``, stops at ``max_bytes``,
  computes the sha256 while writing, checks it against ``sha256`` when given, writes ``NAME.sha256``
  (``sha256sum`` format) beside the file and renames the part file into place only when complete.  A dropped
  connection keeps the part file and the download resumes from it with an HTTP ``Range`` request (RFC 9110
  §14.2, with ``If-Range`` set to the ``ETag`` or ``Last-Modified`` of the first answer, so a file replaced on
  the server in between is downloaded whole; a server that ignores the range answers 200 and the file restarts
  from byte 0).  HTTP 429 and 5xx
  answers and dropped connections are retried with exponential backoff (``Retry-After`` honoured).  A
  checksum mismatch, the size cap or another HTTP error removes the part file.  A cached file whose recorded
  digest matches is reused without any request.
* :func:`get_json` fetches one JSON answer with the same retries and keeps it in a cache file: asked again,
  the answer comes from the file and no request is made.
* :func:`comtrade_query` / :func:`fetch_comtrade` (kept for existing callers) ask the Comtrade API for final
  data; :mod:`tradepulse.ingest.fetch` pages, retries and caches the same queries for ``tradepulse fetch``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pandas as pd

from tradepulse.config import home
from tradepulse.errors import TradepulseError

CHUNK = 1 << 20
#: Network read size: a dropped connection loses at most this much of what was received.
NET_CHUNK = 1 << 16
DEFAULT_MAX_BYTES = 4 << 30  # 4 GiB: a full BACI release is ~2.5 GB
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
#: Longest wait between two attempts, whatever ``Retry-After`` asks (seconds).
MAX_WAIT = 120.0


class DownloadError(TradepulseError):
    """A download failed (HTTP error, size limit, checksum mismatch)."""


def cache_dir(path: str | Path | None = None) -> Path:
    """``path`` or ``$TRADEPULSE_HOME/cache`` (created)."""
    p = Path(path) if path is not None else home() / "cache"
    p.mkdir(parents=True, exist_ok=True)
    return p


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def sidecar(path: Path) -> Path:
    """The ``.sha256`` file recorded beside a cache entry."""
    return path.with_name(path.name + ".sha256")


def recorded_sha256(path: Path) -> str | None:
    """The digest recorded beside ``path`` (``None`` when there is none or it is unreadable)."""
    try:
        text = sidecar(path).read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        return None
    return text[0].lower() if text and re.fullmatch(r"[0-9a-fA-F]{64}", text[0]) else None


def _write_sidecar(path: Path, digest: str) -> None:
    tmp = sidecar(path).with_name(sidecar(path).name + ".tmp")
    tmp.write_text(f"{digest}  {path.name}\n", encoding="ascii")
    os.replace(tmp, sidecar(path))


def _wait(attempt: int, backoff: float, retry_after: str | None) -> float:
    """Seconds to wait before attempt ``attempt + 1``: ``Retry-After`` (seconds) when given, else
    ``backoff * 2**attempt``; at most :data:`MAX_WAIT`."""
    if retry_after and retry_after.strip().isdigit():
        return min(float(retry_after), MAX_WAIT)
    return min(backoff * (2 ** attempt), MAX_WAIT)


def fetch_url(url: str, cache: str | Path | None = None, *, sha256: str | None = None,
              max_bytes: int = DEFAULT_MAX_BYTES, filename: str | None = None, timeout: float = 60.0,
              session=None, progress: Callable[[int, int | None], None] | None = None, retries: int = 4,
              backoff: float = 1.0) -> Path:
    """Download ``url`` into the cache (streamed, resumable, size-limited, sha256-checked); return the path.

    ``progress(done_bytes, total_bytes_or_None)`` is called after each chunk (``done`` counts a resumed
    part file).  ``retries`` more attempts follow a 429/5xx answer or a dropped connection.
    """
    import requests

    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https"):
        raise DownloadError(f"only http(s) URLs can be downloaded, not {url!r}")
    name = filename or Path(unquote(parsed.path)).name or "download"
    if not re.fullmatch(r"[\w.\-+]+", name):
        raise DownloadError(f"unsafe file name {name!r}; pass filename=")
    want = sha256.lower() if sha256 else None
    target = cache_dir(cache) / name
    if target.exists():
        have = recorded_sha256(target)
        if have is None:
            have = _sha256(target)
            _write_sidecar(target, have)
        if want is None or have == want:
            return target
    part = target.with_name(target.name + ".part")
    tag = target.with_name(target.name + ".part.validator")  # ETag or Last-Modified of the part's version
    http = session or requests.Session()
    last, retry_after = "", None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(_wait(attempt - 1, backoff, retry_after))
        retry_after = None
        offset = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        validator = _read(tag) if offset else None
        if validator:  # RFC 9110 §13.1.5: the rest of *this* version, else the whole new one (200)
            headers["If-Range"] = validator
        try:
            with http.get(url, stream=True, timeout=timeout, headers=headers) as resp:
                if resp.status_code in RETRY_STATUS:
                    retry_after = resp.headers.get("Retry-After")
                    last = f"HTTP {resp.status_code}"
                    continue
                if resp.status_code == 416 and offset:  # the part file is not a prefix of this file
                    _drop(part)
                    last = "HTTP 416"
                    continue
                if resp.status_code == 206 and offset and \
                        resp.headers.get("Content-Range", "").startswith(f"bytes {offset}-"):
                    mode = "ab"
                elif resp.status_code == 200:
                    offset, mode = 0, "wb"
                    validator = resp.headers.get("ETag") or resp.headers.get("Last-Modified")
                    if validator and not validator.startswith("W/"):  # weak ETags cannot validate a range
                        tag.write_text(validator, encoding="utf-8")
                    else:
                        tag.unlink(missing_ok=True)
                else:
                    _drop(part)
                    raise DownloadError(f"GET {url} answered HTTP {resp.status_code}")
                length = resp.headers.get("Content-Length")
                total = offset + int(length) if length and length.isdigit() else None
                if total is not None and total > max_bytes:
                    _drop(part)
                    raise DownloadError(f"{url} is {total:,} bytes, over the limit of {max_bytes:,}")
                h = hashlib.sha256()
                if offset:
                    with open(part, "rb") as fh:
                        while chunk := fh.read(CHUNK):
                            h.update(chunk)
                done = offset
                with open(part, mode) as fh:
                    for chunk in resp.iter_content(NET_CHUNK):
                        done += len(chunk)
                        if done > max_bytes:
                            fh.close()
                            _drop(part)
                            raise DownloadError(f"{url} exceeded the size limit of {max_bytes:,} bytes")
                        h.update(chunk)
                        fh.write(chunk)
                        if progress:
                            progress(done, total)
        except requests.RequestException as exc:  # refused, reset, timed out or cut short: resume next time
            last = type(exc).__name__
            continue
        if total is not None and done != total:
            last = f"got {done:,} of {total:,} bytes"
            continue
        digest = h.hexdigest()
        if want is not None and digest != want:
            _drop(part)
            raise DownloadError(f"checksum mismatch for {url}: expected sha256 {want}, got {digest}")
        os.replace(part, target)
        tag.unlink(missing_ok=True)
        _write_sidecar(target, digest)
        return target
    kept = (f"; the {part.stat().st_size:,} bytes received are kept in {part} and the next run resumes from "
            f"them") if part.exists() else ""
    raise DownloadError(f"GET {url} failed after {retries + 1} attempts ({last}){kept}")


def _drop(path: Path) -> None:
    """Remove a part file and the validator beside it."""
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".validator").unlink(missing_ok=True)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def get_json(url: str, params: dict | None = None, *, cache_file: str | Path | None = None,
             headers: dict | None = None, timeout: float = 120.0, session=None, retries: int = 4,
             backoff: float = 1.0, refresh: bool = False) -> Any:
    """GET ``url`` and parse its JSON answer, retrying 429/5xx and dropped connections with backoff.

    With ``cache_file``, an existing file is the answer (no request; ``refresh`` asks again) and a new answer is
    written there (atomically).  Error messages show ``url`` without ``params`` (they may hold a key)."""
    import requests

    if cache_file is not None and not refresh and Path(cache_file).exists():
        try:
            return json.loads(Path(cache_file).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            Path(cache_file).unlink(missing_ok=True)  # a damaged cache entry is fetched again
    http = session or requests.Session()
    last, retry_after = "", None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(_wait(attempt - 1, backoff, retry_after))
        retry_after = None
        try:
            resp = http.get(url, params=params, headers=headers, timeout=timeout)
        except requests.RequestException as exc:
            last = type(exc).__name__
            continue
        if resp.status_code in RETRY_STATUS:
            retry_after, last = resp.headers.get("Retry-After"), f"HTTP {resp.status_code}"
            continue
        if resp.status_code != 200:
            raise DownloadError(f"GET {url} answered HTTP {resp.status_code}: {resp.text[:200]}")
        try:
            data = resp.json()
        except ValueError as exc:
            raise DownloadError(f"GET {url} did not answer JSON ({exc})") from exc
        if cache_file is not None:
            cache_file = Path(cache_file)
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_name(cache_file.name + ".tmp")
            tmp.write_text(resp.text, encoding="utf-8")
            os.replace(tmp, cache_file)
        return data
    raise DownloadError(f"GET {url} failed after {retries + 1} attempts ({last})")


def fetch_baci(url: str, cache: str | Path | None = None, *, sha256: str | None = None, **kw) -> Path:
    """Download a BACI release zip (see :func:`fetch_url`) and check that it is a readable zip."""
    import zipfile
    path = fetch_url(url, cache, sha256=sha256, **kw)
    if not zipfile.is_zipfile(path):
        path.unlink()
        sidecar(path).unlink(missing_ok=True)
        raise DownloadError(f"{url} is not a zip file")
    return path


def comtrade_query(type_code: str = "C", freq_code: str = "A", cl_code: str = "HS", *, period: str,
                   reporter_code: str | None = None, cmd_code: str | None = "TOTAL", flow_code: str | None = "X",
                   partner_code: str | None = None, partner2_code: str | None = "0",
                   customs_code: str | None = "C00", mot_code: str | None = "0", max_records: int | None = None,
                   breakdown_mode: str | None = "classic", include_desc: bool | None = None,
                   subscription_key: str | None = None, base_url: str | None = None, timeout: float = 120.0,
                   session=None) -> pd.DataFrame:
    """Final Comtrade data as a DataFrame (Comtrade "+" column names), see the module docstring."""
    if base_url is None:  # the library and its own host
        import comtradeapicall as cac
        args = {"typeCode": type_code, "freqCode": freq_code, "clCode": cl_code, "period": period,
                "reporterCode": reporter_code, "cmdCode": cmd_code, "flowCode": flow_code,
                "partnerCode": partner_code, "partner2Code": partner2_code, "customsCode": customs_code,
                "motCode": mot_code, "maxRecords": max_records, "breakdownMode": breakdown_mode,
                "includeDesc": include_desc}
        df = cac.getFinalData(subscription_key, **args) if subscription_key else cac.previewFinalData(**args)
        if df is None:
            raise DownloadError("Comtrade query failed (see the message above)")
        return df
    import requests
    root = base_url.rstrip("/")
    path = ("/data/v1/get/" if subscription_key else "/public/v1/preview/") + f"{type_code}/{freq_code}/{cl_code}"
    params = {"reportercode": reporter_code, "flowCode": flow_code, "period": period, "cmdCode": cmd_code,
              "partnerCode": partner_code, "partner2Code": partner2_code, "motCode": mot_code,
              "customsCode": customs_code, "maxRecords": max_records, "format": "JSON",
              "breakdownMode": breakdown_mode, "includeDesc": include_desc, "subscription-key": subscription_key}
    params = {k: v for k, v in params.items() if v is not None}
    http = session or requests.Session()
    try:
        resp = http.get(root + path, params=params, timeout=timeout)
    except requests.RequestException as exc:
        raise DownloadError(f"Comtrade query failed: {exc}") from exc
    if resp.status_code != 200:
        raise DownloadError(f"Comtrade answered HTTP {resp.status_code}: {resp.text[:200]}")
    try:
        data = resp.json()["data"]
    except (ValueError, KeyError, TypeError) as exc:
        raise DownloadError(f"Comtrade answer is not the expected JSON ({exc})") from exc
    return pd.json_normalize(data)


def fetch_comtrade(out: str | Path, **query) -> Path:
    """Run :func:`comtrade_query` and write the rows to ``out`` (CSV) for ``ingest_file(out, "comtrade")``."""
    df = comtrade_query(**query)
    if df.empty:
        raise DownloadError(f"Comtrade returned no rows for {query}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False)
    return out
