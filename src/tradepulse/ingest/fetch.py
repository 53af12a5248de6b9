"""Real data in: fetch a BACI release, Comtrade API queries and macro data, then load them (``tradepulse fetch``).

* :func:`fetch_baci_release` downloads ``BACI_{HS}_V{release}.zip`` from CEPII's published location
  (:data:`CEPII_BACI`, or a mirror) with :func:`~tradepulse.ingest.download.fetch_url` (streamed, resumable,
  size cap, sha256) and loads each year through :func:`~tradepulse.ingest.ingest_release` (one atomic load per
  year).
* :func:`fetch_comtrade_data` asks the UN Comtrade API (v1 final data: ``/data/v1/get/C/{A|M}/HS`` with a
  subscription key sent in the ``Ocp-Apim-Subscription-Key`` header, else the public preview
  ``/public/v1/preview/C/{A|M}/HS``; the same paths and parameters ``comtradeapicall.getFinalData`` /
  ``previewFinalData`` send).  Each call stays under the record cap (100,000 rows with a key, 500 in the
  preview): a query whose answer reaches the cap is split by flow, then by period, then by partner; one that
  still reaches it is reported as truncated.  Every answer is cached; the rows are written to one CSV with
  Comtrade's own column names and loaded through the Comtrade reader.
* :func:`fetch_macro` loads GDP (current US$) and population into ``macro``: offline from the World
  Development Indicators or IMF WEO caches shipped in ``atlas-common-data``, or from the World Bank API
  (indicators ``NY.GDP.MKTP.CD`` and ``SP.POP.TOTL``).  GDP per capita is ``gdp_usd / population`` (the
  convention of ``indicators.complexity``).

Every fetch is appended to ``fetched.jsonl`` in the cache directory (what, when, from where, sha256):
:func:`fetch_log` reads it back.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tradepulse.errors import InputError, TradepulseError
from tradepulse.ingest.download import (
    DEFAULT_MAX_BYTES,
    DownloadError,
    cache_dir,
    fetch_url,
    get_json,
    recorded_sha256,
)
from tradepulse.meta import ResultMeta

__all__ = ["BACI_HS", "CEPII_BACI", "COMTRADE_API", "WORLD_BANK_API", "FetchResult", "baci_url",
           "comtrade_code", "fetch_baci_release", "fetch_comtrade_data", "fetch_log", "fetch_macro"]

#: CEPII's published location of BACI release zips (``BACI_HS17_V202501.zip`` …).
CEPII_BACI = "https://www.cepii.fr/DATA_DOWNLOAD/baci/data"
#: HS vintages BACI is published in.
BACI_HS = ("HS92", "HS96", "HS02", "HS07", "HS12", "HS17", "HS22")
#: The UN Comtrade API root (the host ``comtradeapicall`` calls).
COMTRADE_API = "https://comtradeapi.un.org"
#: Most rows one Comtrade call returns: with a subscription key, and in the keyless public preview.
KEY_CAP, PREVIEW_CAP = 100_000, 500
COMTRADE_FLOWS = ("X", "M", "RX", "RM")
COMTRADE_CMD = ("TOTAL", "AG2", "AG4", "AG6")
#: Most periods one Comtrade call may ask for.
MAX_PERIODS = 12
#: The World Bank indicators API root.
WORLD_BANK_API = "https://api.worldbank.org"
WB_INDICATORS = {"gdp_usd": "NY.GDP.MKTP.CD", "population": "SP.POP.TOTL"}
LOG_NAME = "fetched.jsonl"


@dataclass
class FetchResult:
    """What one fetch did: the source, the files it wrote and their sha256, how many HTTP requests it made
    (0: everything came from the cache), the loads, and the warnings to read first (``meta``)."""

    kind: str
    source: str
    files: list[str]
    sha256: dict[str, str]
    requests: int
    fetched_at: str
    loads: list = field(default_factory=list)
    meta: ResultMeta = field(default_factory=ResultMeta)

    def to_dict(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if k not in ("loads", "meta")}
        out["loads"] = [r.to_dict() for r in self.loads]
        out["meta"] = self.meta.to_dict()
        return out


def _session():
    """A ``requests`` session that counts the requests it sends (``session.sent``)."""
    import requests

    class Counting(requests.Session):
        sent = 0

        def request(self, *a, **kw):
            self.sent += 1
            return super().request(*a, **kw)
    return Counting()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _log(cache: Path, result: FetchResult) -> None:
    entry = {k: v for k, v in result.to_dict().items() if k not in ("loads", "meta")}
    entry["loads"] = [r.load_id for r in result.loads]
    with open(cache / LOG_NAME, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")


def fetch_log(cache: str | Path | None = None) -> list[dict]:
    """Every fetch recorded in the cache directory, oldest first (kind, source, files, sha256, requests,
    fetched_at, loads)."""
    path = cache_dir(cache) / LOG_NAME
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


# ---------------------------------------------------------------- BACI
def baci_url(release: str, hs: str, base_url: str | None = None) -> str:
    """The URL of a BACI release zip, e.g. ``baci_url("V202501", "HS17")`` →
    ``{CEPII_BACI}/BACI_HS17_V202501.zip``."""
    hs = hs.strip().upper()
    if hs not in BACI_HS:
        raise InputError(f"unknown BACI nomenclature {hs!r}; choose one of {', '.join(BACI_HS)}")
    rel = release.strip()
    rel = rel[1:] if rel[:1] in "vV" else rel
    if not re.fullmatch(r"\d{6}[a-z]?", rel):
        raise InputError(f"BACI release {release!r} should look like V202501 (V, year, month, maybe a letter)")
    return f"{(base_url or CEPII_BACI).rstrip('/')}/BACI_{hs}_V{rel}.zip"


def fetch_baci_release(warehouse, release: str, hs: str, *, years: Iterable[int] | None = None,
                       base_url: str | None = None, cache: str | Path | None = None, sha256: str | None = None,
                       max_bytes: int = DEFAULT_MAX_BYTES, progress: Callable[[int, int | None], None] | None = None,
                       ingest_progress: Callable[[str, str], None] | None = None, replace: bool = False,
                       on_overlap: str = "quarantine", retries: int = 4, backoff: float = 1.0,
                refresh: bool = False) -> FetchResult:
    """Download a BACI release zip into ``cache/baci`` and load its years (all, or ``years``).

    ``sha256``: the published checksum; the file is refused (and nothing loaded) when it differs.
    ``progress(bytes_done, bytes_total)`` during the download, ``ingest_progress(member, step)`` during the
    loads.  A cached zip whose recorded digest matches is used without a request."""
    import zipfile

    from tradepulse.ingest import ingest_release

    url = baci_url(release, hs, base_url)
    root = cache_dir(cache)
    http = _session()
    path = fetch_url(url, root / "baci", sha256=sha256, max_bytes=max_bytes, session=http, progress=progress,
                     retries=retries, backoff=backoff)
    if not zipfile.is_zipfile(path):  # e.g. an HTML page answered with 200: not kept, not loaded
        path.unlink()
        path.with_name(path.name + ".sha256").unlink(missing_ok=True)
        raise DownloadError(f"{url} did not answer a zip file (a login or error page?); nothing was loaded")
    digest = recorded_sha256(path) or ""
    result = FetchResult("baci", url, [str(path)], {path.name: digest}, http.sent, _now())
    if not http.sent:
        result.meta.warn(f"used the cached {path.name} (sha256 {digest[:12]}…); delete it to download again")
    result.loads = ingest_release(warehouse, path, years=years, replace=replace, on_overlap=on_overlap,
                                  progress=ingest_progress)
    result.meta.dataset = f"BACI {hs.upper()} {release}"
    _log(root, result)
    return result


# ---------------------------------------------------------------- Comtrade
def comtrade_code(country: str) -> int:
    """The Comtrade numeric area code of an ISO3 code (``IRN`` → 364; ``WLD``/``W00`` → 0), or the number
    itself.  Comtrade's reporter codes are M49 except a few historical ones (USA 842, FRA 251, IND 699, CHE
    757, NOR 579, ITA 381; ``S19`` Other Asia nes and ``TWN`` 490) — see ``ingest.codes.BACI_NUMERIC``."""
    from tradepulse import reference
    from tradepulse.ingest.codes import ALIASES, BACI_NUMERIC

    c = country.strip().upper()
    if c.isdigit():
        return int(c)
    c = ALIASES.get(c, c)
    special = {v: k for k, v in BACI_NUMERIC.items() if v in ("WLD", "USA", "FRA", "IND", "CHE", "NOR", "ITA",
                                                               "S19")}
    special["TWN"] = special["S19"]  # Comtrade reports Taiwan as "Other Asia, nes"
    if c in special:
        return special[c]
    ref = reference.countries()
    hit = ref.loc[ref["iso3"] == c, "m49"]
    if hit.empty:
        raise InputError(f"unknown country code {country!r} (use ISO3, e.g. IRN, or a Comtrade number)")
    return int(hit.iloc[0])


def _split(q: dict) -> list[dict] | None:
    """Two or more smaller queries covering ``q`` (by flow, then period, then partner), or None."""
    for key in ("flowCode", "period", "partnerCode"):
        vals = (q.get(key) or "").split(",")
        if len(vals) > 1:
            half = len(vals) // 2
            return [{**q, key: ",".join(vals[:half])}, {**q, key: ",".join(vals[half:])}]
    return None


def _comtrade_rows(url: str, q: dict, *, cap: int, headers: dict, store: Path, http, retries: int,
                   backoff: float, meta: ResultMeta, refresh: bool = False) -> list[dict]:
    params = {**q, "maxRecords": cap, "format": "JSON", "breakdownMode": "classic", "includeDesc": "true"}
    token = hashlib.sha256(json.dumps([url, sorted(params.items())]).encode()).hexdigest()[:24]
    answer = get_json(url, params, cache_file=store / f"{token}.json", headers=headers, session=http,
                      retries=retries, backoff=backoff, refresh=refresh)
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
        raise DownloadError(f"Comtrade answer is not the expected JSON ({str(answer)[:200]})")
    if answer.get("error"):
        raise DownloadError(f"Comtrade refused the query {q}: {answer['error']}")
    rows = answer["data"]
    if len(rows) < cap:
        return rows
    parts = _split(q)
    if parts is None:
        meta.warn(f"Comtrade returned the maximum of {cap:,} rows for {q}; the answer is truncated — ask for "
                  f"fewer partners or a coarser --cmd" + ("" if cap == KEY_CAP else ", or set COMTRADE_API_KEY"))
        return rows
    out: list[dict] = []
    for sub in parts:
        out += _comtrade_rows(url, sub, cap=cap, headers=headers, store=store, http=http, retries=retries,
                              backoff=backoff, meta=meta, refresh=refresh)
    return out


def fetch_comtrade_data(warehouse, reporters: Iterable[str], years: Iterable[int], *, freq: str = "A",
                        flows: Iterable[str] = ("X", "M"), partners: Iterable[str] | None = None,
                        cmd: str = "TOTAL", key: str | None = None, base_url: str | None = None,
                        cache: str | Path | None = None, replace: bool = False, on_overlap: str = "quarantine",
                        retries: int = 4, backoff: float = 2.0, refresh: bool = False) -> FetchResult:
    """Ask Comtrade for final goods data (HS, as reported) and load it through the Comtrade reader.

    ``reporters`` / ``partners``: ISO3 codes (``partners`` None = every partner and the World);
    ``freq``: A (annual) or M (monthly: the 12 months of each year); ``flows``: X, M, RX, RM;
    ``cmd``: TOTAL, AG2, AG4 or AG6 (all products at that HS level).  ``key``: the subscription key (default
    ``$COMTRADE_API_KEY``); without one the public preview is used (:data:`PREVIEW_CAP` rows per call).
    ``refresh``: ask again instead of using cached answers (Comtrade revises its data)."""
    import pandas as pd

    from tradepulse.ingest import ingest_file

    freq, cmd = freq.strip().upper(), cmd.strip().upper()
    if freq not in ("A", "M"):
        raise InputError(f"--freq must be A (annual) or M (monthly), not {freq!r}")
    if cmd not in COMTRADE_CMD:
        raise InputError(f"--cmd must be one of {', '.join(COMTRADE_CMD)}, not {cmd!r}")
    flows = [f.strip().upper() for f in flows if f.strip()]
    bad = [f for f in flows if f not in COMTRADE_FLOWS]
    if bad or not flows:
        raise InputError(f"--flow takes {', '.join(COMTRADE_FLOWS)}; got {', '.join(bad) or 'nothing'}")
    reporters = [r.strip().upper() for r in reporters if r.strip()]
    years = sorted({int(y) for y in years})
    if not reporters or not years:
        raise InputError("give at least one reporter and one year")
    key = key if key is not None else os.environ.get("COMTRADE_API_KEY") or None
    root = (base_url or COMTRADE_API).rstrip("/")
    url = root + ("/data/v1/get" if key else "/public/v1/preview") + f"/C/{freq}/HS"
    cap = KEY_CAP if key else PREVIEW_CAP
    headers = {"Ocp-Apim-Subscription-Key": key} if key else {}
    periods = [str(y) for y in years] if freq == "A" else [f"{y}{m:02d}" for y in years for m in range(1, 13)]
    partner_codes = None if partners is None else ",".join(str(comtrade_code(p)) for p in partners)
    meta = ResultMeta(dataset="UN Comtrade (as reported)")
    if not key:
        meta.warn(f"no COMTRADE_API_KEY: used the public preview, which returns at most {PREVIEW_CAP} rows per "
                  "call and allows few calls per hour; big queries are split into many calls and may stop at "
                  "the rate limit — a free subscription key lifts the cap to 100,000 rows per call")
    cache = cache_dir(cache)
    store = cache / "comtrade"
    store.mkdir(exist_ok=True)
    http = _session()
    rows: list[dict] = []
    for rep in reporters:
        code = comtrade_code(rep)
        for i in range(0, len(periods), MAX_PERIODS):
            q = {"reportercode": str(code), "period": ",".join(periods[i:i + MAX_PERIODS]), "cmdCode": cmd,
                 "flowCode": ",".join(flows), "partnerCode": partner_codes, "partner2Code": "0",
                 "customsCode": "C00", "motCode": "0"}
            q = {k: v for k, v in q.items() if v is not None}
            rows += _comtrade_rows(url, q, cap=cap, headers=headers, store=store, http=http, retries=retries,
                                   backoff=backoff, meta=meta, refresh=refresh)
    if not rows:
        raise DownloadError(f"Comtrade has no {'annual' if freq == 'A' else 'monthly'} data for "
                            f"{', '.join(reporters)} in {years[0]}–{years[-1]} ({cmd}, flows {','.join(flows)})")
    label = f"{'-'.join(reporters)}_{years[0]}-{years[-1]}_{freq}_{'-'.join(flows)}_{cmd}"
    tag = hashlib.sha256(json.dumps([url, reporters, years, flows, partner_codes]).encode()).hexdigest()[:8]
    out = store / f"comtrade_{label[:80]}_{tag}.csv"
    pd.DataFrame(rows).to_csv(out, index=False)
    from tradepulse.ingest._core import file_sha256
    sha = file_sha256(out)
    result = FetchResult("comtrade", url, [str(out)], {out.name: sha}, http.sent, _now(), meta=meta)
    result.meta.coverage = {"reporters": reporters, "years": years, "freq": freq, "flows": flows, "cmd": cmd,
                            "rows": len(rows)}
    result.loads = [ingest_file(warehouse, out, "comtrade", replace=replace, on_overlap=on_overlap)]
    _log(cache, result)
    return result


# ---------------------------------------------------------------- macro
def atlas_macro_file(source: str) -> Path:
    """The WDI (``wdi``) or IMF WEO (``imf``) cache shipped in ``atlas-common-data``."""
    import importlib.util

    spec = importlib.util.find_spec("atlas_common_data")
    if spec is None or not spec.submodule_search_locations:
        raise TradepulseError("the atlas-common-data package is not installed")
    name = {"wdi": "wdi_data.parquet", "imf": "imf_data.parquet"}[source]
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "cache" / name
    if not path.exists():
        raise TradepulseError(f"atlas-common-data lacks {path.name} (expected at {path})")
    return path


def _known_codes(frame, meta: ResultMeta):
    """Keep rows whose iso3 is a country or area code the ingest knows; say what was left out."""
    from tradepulse.ingest.codes import iso3_table

    known = set(iso3_table()["key"])
    keep = frame["iso3"].isin(known)
    if (~keep).any():
        left = sorted(frame.loc[~keep, "iso3"].astype(str).unique())
        meta.warn(f"left out {int((~keep).sum()):,} rows of {len(left)} code(s) the country list does not hold "
                  f"(regions, income groups, territories): {', '.join(left[:8])}{' …' if len(left) > 8 else ''}")
    return frame[keep]


def _worldbank_frame(base_url: str | None, years: list[int] | None, store: Path, http, retries: int,
                     backoff: float, refresh: bool = False):
    import pandas as pd

    root = (base_url or WORLD_BANK_API).rstrip("/")
    span = f"{years[0]}:{years[-1]}" if years else f"1995:{datetime.now(UTC).year}"
    cols = {}
    for column, indicator in WB_INDICATORS.items():
        url = f"{root}/v2/country/all/indicator/{indicator}"
        page, pages, values = 1, 1, {}
        while page <= pages:
            params = {"format": "json", "per_page": 20000, "date": span, "page": page}
            token = hashlib.sha256(json.dumps([url, sorted(params.items())]).encode()).hexdigest()[:24]
            answer = get_json(url, params, cache_file=store / f"{token}.json", session=http, retries=retries,
                              backoff=backoff, refresh=refresh)
            if not (isinstance(answer, list) and len(answer) == 2 and isinstance(answer[0], dict)):
                raise DownloadError(f"the World Bank API answered {str(answer)[:200]} for {indicator}")
            pages = int(answer[0].get("pages") or 1)
            for r in answer[1] or []:
                iso, year = (r.get("countryiso3code") or "").upper(), str(r.get("date") or "")
                if iso and year.isdigit() and r.get("value") is not None:
                    values[(iso, int(year))] = float(r["value"])
            page += 1
        cols[column] = pd.Series(values, dtype="float64")
    frame = pd.DataFrame(cols)
    frame.index = frame.index.set_names(["iso3", "year"])
    return frame.reset_index()


def fetch_macro(warehouse, *, source: str = "wdi", years: Iterable[int] | None = None,
                base_url: str | None = None, cache: str | Path | None = None, replace: bool = False,
                on_overlap: str = "quarantine", retries: int = 4, backoff: float = 1.0,
                refresh: bool = False) -> FetchResult:
    """Load GDP (current US$) and population by country and year into ``macro``.

    ``source``: ``wdi`` (World Development Indicators cache shipped in atlas-common-data; offline), ``imf``
    (IMF WEO cache shipped there; offline) or ``worldbank`` (the World Bank API, ``base_url`` for a mirror;
    every page is cached; ``refresh`` asks again)."""
    import pandas as pd

    from tradepulse.ingest import ingest_frame

    source = source.strip().lower()
    if source not in ("wdi", "imf", "worldbank"):
        raise InputError(f"--source must be wdi, imf or worldbank, not {source!r}")
    wanted = sorted({int(y) for y in years}) if years is not None else None
    cache = cache_dir(cache)
    meta = ResultMeta(dataset=f"macro ({source})")
    http = _session()
    if source == "worldbank":
        store = cache / "worldbank"
        store.mkdir(exist_ok=True)
        frame = _worldbank_frame(base_url, wanted, store, http, retries, backoff, refresh)
        where = (base_url or WORLD_BANK_API).rstrip("/") + "/v2"
        sha = {}
    else:
        path = atlas_macro_file(source)
        from importlib.metadata import version
        raw = pd.read_parquet(path, columns=["iso3_code", "year", "gdp", "population"])
        frame = raw.rename(columns={"iso3_code": "iso3", "gdp": "gdp_usd"})
        where = f"{path} (atlas-common-data {version('atlas-common-data')})"
        from tradepulse.ingest._core import file_sha256
        sha = {path.name: file_sha256(path)}
    if wanted is not None:
        frame = frame[frame["year"].isin(wanted)]
    frame = frame.dropna(subset=["gdp_usd", "population"], how="all")
    frame = _known_codes(frame, meta)
    if frame.empty:
        raise DownloadError(f"no GDP or population rows from {where}" + (f" for {wanted[0]}–{wanted[-1]}"
                                                                          if wanted else ""))
    frame = frame.assign(year=frame["year"].astype("int64")).sort_values(["iso3", "year"]).reset_index(drop=True)
    meta.coverage = {"countries": int(frame["iso3"].nunique()), "years": [int(frame["year"].min()),
                                                                          int(frame["year"].max())]}
    result = FetchResult("macro", where, [], sha, http.sent, _now(), meta=meta)
    result.loads = [ingest_frame(warehouse, frame[["year", "iso3", "gdp_usd", "population"]], source=source,
                                 name=where, target="macro", replace=replace, on_overlap=on_overlap)]
    _log(cache, result)
    return result
