"""Validated, atomic, idempotent ingest of trade data into the warehouse.

``ingest_file(warehouse, path, fmt, **options)`` reads BACI (CSV or zip; ``ingest_release`` loads every year
of a release zip), UN Comtrade (bulk/API CSV, classic
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
from tradepulse.ingest._spec import LineSplitNeeded
from tradepulse.ingest.readers import FORMATS, load_mapping, spec_for_file, split_csv_lines, tmp_dir

__all__ = ["FORMATS", "KEYS", "OVERLAP_POLICIES", "LoadResult", "ingest_file", "ingest_frame", "ingest_release",
           "load_mapping"]

#: Files smaller than this are hashed before loading; bigger new files are hashed in a thread during the load.
HASH_FIRST_BELOW = 64 << 20


def _open_warehouse(warehouse):
    from tradepulse.warehouse import Warehouse
    if isinstance(warehouse, Warehouse):
        return warehouse, False
    return Warehouse(warehouse), True


def ingest_file(warehouse, path: str | Path, fmt: str, *, replace: bool = False, on_overlap: str = "quarantine",
                progress: Callable[[str], None] | None = None, dataset: str | None = None,
                **options) -> LoadResult:
    """Load one file into the warehouse (a :class:`~tradepulse.warehouse.Warehouse` or a path).

    ``fmt``: baci | comtrade | customs | generic | services | macro.  ``options``: ``mapping`` (YAML/TOML file),
    ``columns`` ({canonical: header}), constants (``year``, ``reporter``, ``partner``, ``flow``, ``product``,
    ``hs_revision``, ``unit``, ``iso3``), ``target`` (customs: flows|firm_flows; generic:
    flows|firm_flows|services|macro), ``country_codes``
    (iso3|numeric|name), ``country_codes_csv`` (BACI code list), ``value_scale``, ``product_digits``,
    ``product_truncate``, ``calendar`` (gregorian|jalali|auto), ``encoding``, ``delimiter``, ``sheet``,
    ``member`` (zip), ``source``.

    ``dataset``: the name of the dataset this load belongs to (default: derived from its rows, e.g.
    ``baci-hs6-annual-HS2017``; see :mod:`tradepulse.warehouse.datasets`).
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
        member = options.get("member")
        seen = wh.raw.execute("SELECT count(*) FROM loads WHERE file LIKE ? AND note LIKE ?",
                              [str(path.resolve()) + (f"!{Path(str(member)).name}" if member else "") + "%",
                               f'%"fingerprint": "{fingerprint}"%']).fetchall()[0][0]
        # a zip is identified by the data file it holds (hashed once extracted), so each year of a BACI
        # release is its own load, and the same year loaded from the zip or as a CSV is recognised
        is_zip = fmt == "baci" and path.suffix.lower() == ".zip"
        pool = None
        try:
            sha, pool = (None, None) if is_zip else _digest(path, seen, step)
            step("opening the source")
            with tmp_dir() as tmp:
                spec = spec_for_file(wh.raw, path.resolve(), fmt, options, Path(tmp))
                spec.note["fingerprint"] = fingerprint
                if dataset:
                    spec.note["dataset"] = dataset
                if is_zip:
                    sha, pool = _digest(Path(spec.read_path), seen, step)
                try:
                    return _run(wh, spec, sha, replace=replace, on_overlap=on_overlap, progress=progress)
                except LineSplitNeeded:
                    pass
                # a BACI CSV whose parser lost track of lines (stray quote or line break, bad byte): re-read
                # a copy without the lines at fault; those are quarantined with their real line numbers
                step("setting malformed lines aside")
                copy = Path(tmp) / "lines.csv"
                split = split_csv_lines(Path(spec.read_path), copy, len(spec.columns), options.get("delimiter"),
                                        options.get("encoding"))
                spec = spec_for_file(wh.raw, path.resolve(), fmt, options, Path(tmp), line_split=(copy, split))
                spec.note["fingerprint"] = fingerprint
                spec.note["malformed_lines"] = len(split.bad)
                return _run(wh, spec, sha, replace=replace, on_overlap=on_overlap, progress=progress)
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


def _run(wh, spec: Spec, sha, **kwargs) -> LoadResult:
    """:func:`run_load`, with a DuckDB read error of the input (a corrupt Parquet file, a CSV the parser gives
    up on) as one :class:`InputError` line.  A BACI CSV the parser gives up on → :class:`LineSplitNeeded`."""
    import duckdb

    try:
        return run_load(wh, spec, sha, **kwargs)
    except duckdb.Error as exc:  # run_load rolled back: the warehouse is unchanged
        if isinstance(exc, (duckdb.BinderException, duckdb.ParserException, duckdb.CatalogException,
                            duckdb.InternalException, duckdb.OutOfMemoryException, duckdb.TransactionException)):
            raise  # a fault of the program or the machine, not of the input
        if spec.fmt == "baci" and spec.kind == "csv" and spec.line_split is None:
            raise LineSplitNeeded() from exc
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot read {spec.kind} file (corrupt or truncated?): {first}", file=spec.file) from exc


def _digest(path: Path, seen: bool, step: Callable[[str], None]):
    """(sha256, thread pool or None) of the file to load: computed now when it is small or probably a repeat
    (``seen``: same path, size and mtime as an earlier load — then a repeat is skipped without reading rows);
    a big new file is hashed in a thread while DuckDB reads it (sha256 is then a callable)."""
    if seen or path.stat().st_size < HASH_FIRST_BELOW:
        step("computing sha256")
        try:
            return file_sha256(path), None
        except OSError as exc:
            raise InputError(f"cannot read file: {exc}", file=str(path)) from exc
    from concurrent.futures import ThreadPoolExecutor
    pool = ThreadPoolExecutor(1)
    return pool.submit(file_sha256, path).result, pool


def ingest_release(warehouse, path: str | Path, *, years=None, replace: bool = False,
                   on_overlap: str = "quarantine", progress: Callable[[str, str], None] | None = None,
                   **options) -> list[LoadResult]:
    """Load the yearly CSVs of a BACI release zip, each as its own load (atomic, idempotent) — every year, or
    those in ``years``.  Options as for :func:`ingest_file` (``hs_revision`` defaults to the one the release
    names, e.g. ``BACI_HS17_V202401.zip`` → HS2017; the zip's ``country_codes`` list is used).
    ``progress(member, step)``.  A year already loaded (same data) is skipped; a failing year raises after the
    years before it were committed."""
    from tradepulse.ingest.readers import baci_member_year, baci_members

    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=str(path))
    members = baci_members(path)
    if years is not None:
        wanted = {int(y) for y in years}
        members = [m for m in members if baci_member_year(m) in wanted]
    if not members:
        raise InputError("no yearly data CSV in the zip" + (f" for the years {sorted(wanted)}"
                                                              if years is not None else ""), file=str(path))
    wh, own = _open_warehouse(warehouse)
    try:
        out = []
        for m in members:
            step = (lambda msg, m=m: progress(m, msg)) if progress else None
            out.append(ingest_file(wh, path, "baci", replace=replace, on_overlap=on_overlap, progress=step,
                                   member=m, **options))
        return out
    finally:
        if own:
            wh.close()


def ingest_frame(warehouse, frame: pd.DataFrame, *, source: str, name: str, target: str = "flows",
                 replace: bool = False, on_overlap: str = "quarantine",
                 progress: Callable[[str], None] | None = None, dataset: str | None = None) -> LoadResult:
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
                    fields=fields, countries=countries, source_name=source,
                    note={"rows": len(frame), **({"dataset": dataset} if dataset else {})})
        return run_load(wh, spec, sha, replace=replace, on_overlap=on_overlap, progress=progress)
    finally:
        try:
            wh.raw.unregister(view)
        except Exception:  # noqa: BLE001
            pass
        if own:
            wh.close()
