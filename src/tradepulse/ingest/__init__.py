"""Validated, atomic, idempotent ingest of trade data into the warehouse.

``ingest_file(warehouse, path, fmt, **options)`` reads BACI (CSV or zip), UN Comtrade (bulk/API CSV, classic
and "+" column names), national customs (Persian headers, provinces), generic CSV/Parquet/Excel with a
mapping, services (EBOPS) and macro (GDP, population) files — customs and generic files also into the firm-level
table ``firm_flows`` (``target="firm_flows"``); ``ingest_frame(...)`` loads a pandas frame
through the same validation (used by the demo world).  Bad rows go to ``quarantine`` with file, line, column
and reason; every load is one transaction recorded in ``loads`` with the input's sha256.
See docs/data-model.md for the conventions.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # pandas is imported on first use: a BACI file load does not need it
    import pandas as pd

from tradepulse.errors import InputError
from tradepulse.ingest._core import (KEYS, OVERLAP_POLICIES, TARGETS, LoadResult, Spec, check_overlap_policy,
                                     file_sha256, frame_sha256, run_load)
from tradepulse.ingest.readers import FORMATS, load_mapping, spec_for_file, tmp_dir

__all__ = ["FORMATS", "KEYS", "OVERLAP_POLICIES", "LoadResult", "ingest_file", "ingest_frame", "load_mapping"]

#: Files smaller than this are hashed before loading; bigger new files are hashed in a thread during the load.
HASH_FIRST_BELOW = 64 << 20


def _open_warehouse(warehouse):
    from tradepulse.warehouse import Warehouse
    if isinstance(warehouse, Warehouse):
        return warehouse, False
    return Warehouse(warehouse), True


def ingest_file(warehouse, path: str | Path, fmt: str, *, replace: bool = False, on_overlap: str = "quarantine",
                progress: Callable[[str], None] | None = None, **options) -> LoadResult:
    """Load one file into the warehouse (a :class:`~tradepulse.warehouse.Warehouse` or a path).

    ``fmt``: baci | comtrade | customs | generic | services | macro.  ``options``: ``mapping`` (YAML/TOML file),
    ``columns`` ({canonical: header}), constants (``year``, ``reporter``, ``partner``, ``flow``, ``product``,
    ``hs_revision``, ``unit``, ``iso3``), ``target`` (customs: flows|firm_flows; generic:
    flows|firm_flows|services|macro), ``country_codes``
    (iso3|numeric|name), ``country_codes_csv`` (BACI code list), ``value_scale``, ``product_digits``,
    ``product_truncate``, ``calendar`` (gregorian|jalali|auto), ``encoding``, ``delimiter``, ``sheet``,
    ``member`` (zip), ``source``.

    ``replace``: first delete the rows of earlier loads of this same file (same path or sha256).
    ``on_overlap``: rows whose key (``KEYS[target]``) an earlier load of *another* file already holds are
    ``"quarantine"``-d (default; the earlier rows stay) or ``"replace"`` the earlier rows (this file
    supersedes them; ``loads`` is updated).  ``LoadResult.rows_overlapping`` counts them.
    """
    path = Path(path)
    check_overlap_policy(on_overlap)
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}", file=str(path))
    if not path.exists():
        raise InputError("file not found", file=str(path))
    wh, own = _open_warehouse(warehouse)
    try:
        step = progress or (lambda _m: None)
        try:
            st = path.stat()
        except OSError as exc:
            raise InputError(f"cannot read file: {exc}", file=str(path)) from exc
        fingerprint = f"{st.st_size}:{st.st_mtime_ns}"
        seen = wh.raw.execute("SELECT count(*) FROM loads WHERE file LIKE ? AND note LIKE ?",
                              [str(path.resolve()) + "%", f'%"fingerprint": "{fingerprint}"%']).fetchall()[0][0]
        pool = None
        if seen or st.st_size < HASH_FIRST_BELOW:
            # probably a repeat (same path, size, mtime) or small: hash first, skip without reading rows
            step("computing sha256")
            try:
                sha = file_sha256(path)
            except OSError as exc:
                raise InputError(f"cannot read file: {exc}", file=str(path)) from exc
        else:  # a new big file: hash it in a thread while DuckDB reads it
            from concurrent.futures import ThreadPoolExecutor
            pool = ThreadPoolExecutor(1)
            future = pool.submit(file_sha256, path)
            sha = future.result
        try:
            step("opening the source")
            with tmp_dir() as tmp:
                spec = spec_for_file(wh.raw, path.resolve(), fmt, options, Path(tmp))
                spec.note["fingerprint"] = fingerprint
                return run_load(wh, spec, sha, replace=replace, on_overlap=on_overlap, progress=progress)
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
    finally:
        try:
            wh.raw.unregister("__tp_excel")
        except Exception:  # noqa: BLE001 - only registered for Excel input
            pass
        if own:
            wh.close()


def ingest_frame(warehouse, frame: pd.DataFrame, *, source: str, name: str, target: str = "flows",
                 replace: bool = False, on_overlap: str = "quarantine",
                 progress: Callable[[str], None] | None = None) -> LoadResult:
    """Load a pandas frame holding ``target``'s columns (except ``load_id``) through the same validation.

    ``name`` stands for the file name (in ``loads`` and ``quarantine``); line = row position + 2 (as if the
    frame were a CSV file with a header).  Country columns hold ISO3 codes (or ``WLD``/Comtrade area codes).
    ``replace`` and ``on_overlap`` as for :func:`ingest_file`.
    """
    if target not in TARGETS:
        raise InputError(f"unknown target {target!r} ({', '.join(TARGETS)})", file=name)
    check_overlap_policy(on_overlap)
    import pandas as pd
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, not {type(frame).__name__}")
    wanted = [c for c in TARGETS[target] if c not in ("load_id", "source")]
    from tradepulse.ingest.readers import REQUIRED
    missing = [c for c in REQUIRED[target] if c not in frame.columns]
    if missing:
        raise InputError(f"frame lacks required column(s) {missing}", file=name, line=1, column=missing[0])
    wh, own = _open_warehouse(warehouse)
    view = "__tp_frame"
    try:
        sha = frame_sha256(frame)
        wh.raw.register(view, frame)
        fields = {c: (f's."{c}"' if c in frame.columns else None) for c in wanted}
        countries = {"flows": {"reporter": "iso3", "partner": "iso3"},
                     "services": {"reporter": "iso3", "partner": "iso3"}, "macro": {"iso3": "iso3"},
                     "firm_flows": {"reporter": "iso3", "partner": "iso3"}}[target]
        spec = Spec(target=target, fmt="frame", file=name, relation=view, columns=list(frame.columns),
                    fields=fields, countries=countries, source_name=source, note={"rows": len(frame)})
        return run_load(wh, spec, sha, replace=replace, on_overlap=on_overlap, progress=progress)
    finally:
        try:
            wh.raw.unregister(view)
        except Exception:  # noqa: BLE001
            pass
        if own:
            wh.close()
