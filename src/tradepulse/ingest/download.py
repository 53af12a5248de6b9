"""Downloads into a cache directory: BACI zips by URL, and UN Comtrade API queries.

* :func:`fetch_url` streams a URL to ``cache_dir`` in 1 MiB chunks, stops at ``max_bytes``, computes the
  sha256 while writing, checks it against ``sha256`` when given, and renames the part file into place only
  when complete (a failed download leaves nothing behind).  A cached file with the right digest is reused
  without any request.
* :func:`comtrade_query` asks the Comtrade API for final data.  ``comtradeapicall`` hard-codes its base URL
  (it only accepts a proxy), so with ``base_url`` given the same path and query parameters as
  ``comtradeapicall.getFinalData`` / ``previewFinalData`` (``/data/v1/get/{type}/{freq}/{cl}`` with a
  subscription key, ``/public/v1/preview/...`` without; ``reportercode``, ``flowCode``, ``period``, ``cmdCode``,
  ``partnerCode``, ``partner2Code``, ``motCode``, ``customsCode``, ``maxRecords``, ``format``, ``aggregateBy``,
  ``breakdownMode``, ``countOnly``, ``includeDesc``, ``subscription-key``) are sent with ``requests``; without
  it the call goes through ``comtradeapicall`` itself.  :func:`fetch_comtrade` writes the result as a CSV with
  Comtrade "+" column names, ready for ``ingest_file(..., "comtrade")``.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pandas as pd

from tradepulse.config import home
from tradepulse.errors import TradepulseError

CHUNK = 1 << 20
DEFAULT_MAX_BYTES = 4 << 30  # 4 GiB: a full BACI release is ~2.5 GB


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


def fetch_url(url: str, cache: str | Path | None = None, *, sha256: str | None = None,
              max_bytes: int = DEFAULT_MAX_BYTES, filename: str | None = None, timeout: float = 60.0,
              session=None, progress=None) -> Path:
    """Download ``url`` into the cache (streamed, size-limited, sha256-checked); return the file path.

    ``progress(done_bytes, total_bytes_or_None)`` is called after each chunk.
    """
    import requests

    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https"):
        raise DownloadError(f"only http(s) URLs can be downloaded, not {url!r}")
    name = filename or Path(unquote(parsed.path)).name or "download"
    if not re.fullmatch(r"[\w.\-+]+", name):
        raise DownloadError(f"unsafe file name {name!r}; pass filename=")
    target = cache_dir(cache) / name
    if target.exists() and (sha256 is None or _sha256(target) == sha256.lower()):
        return target
    part = target.with_name(target.name + ".part")
    http = session or requests.Session()
    h = hashlib.sha256()
    done = 0
    try:
        with http.get(url, stream=True, timeout=timeout) as resp:
            if resp.status_code != 200:
                raise DownloadError(f"GET {url} answered HTTP {resp.status_code}")
            total = resp.headers.get("Content-Length")
            total = int(total) if total and total.isdigit() else None
            if total is not None and total > max_bytes:
                raise DownloadError(f"{url} is {total:,} bytes, over the limit of {max_bytes:,}")
            with open(part, "wb") as fh:
                for chunk in resp.iter_content(CHUNK):
                    done += len(chunk)
                    if done > max_bytes:
                        raise DownloadError(f"{url} exceeded the size limit of {max_bytes:,} bytes")
                    h.update(chunk)
                    fh.write(chunk)
                    if progress:
                        progress(done, total)
        digest = h.hexdigest()
        if sha256 is not None and digest != sha256.lower():
            raise DownloadError(f"checksum mismatch for {url}: expected sha256 {sha256}, got {digest}")
        os.replace(part, target)
    except requests.RequestException as exc:
        raise DownloadError(f"GET {url} failed: {exc}") from exc
    finally:
        if part.exists():
            part.unlink()
    return target


def fetch_baci(url: str, cache: str | Path | None = None, *, sha256: str | None = None, **kw) -> Path:
    """Download a BACI release zip (see :func:`fetch_url`) and check that it is a readable zip."""
    import zipfile
    path = fetch_url(url, cache, sha256=sha256, **kw)
    if not zipfile.is_zipfile(path):
        path.unlink()
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
        args = dict(typeCode=type_code, freqCode=freq_code, clCode=cl_code, period=period,
                    reporterCode=reporter_code, cmdCode=cmd_code, flowCode=flow_code, partnerCode=partner_code,
                    partner2Code=partner2_code, customsCode=customs_code, motCode=mot_code,
                    maxRecords=max_records, breakdownMode=breakdown_mode, includeDesc=include_desc)
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
