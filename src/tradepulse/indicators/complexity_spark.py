"""Complexity on Spark: one task per year, the same NumPy step as on DuckDB (issue 19).

:func:`stream_years` iterates a :class:`~tradepulse.indicators.complexity.ComplexityByYear`; over a
:class:`~tradepulse.warehouse.spark.SparkWarehouse` (``complexity --engine spark``) it runs here
(:func:`complexity_tasks`):

1. the year × exporter × product cells of :func:`~tradepulse.indicators.complexity.warehouse_exports_table`
   (the Ibis expression, compiled to Spark SQL) stay in Spark;
2. ``groupBy("year").applyInPandas(year_task, schema)`` computes each year in a Python task on an executor:
   :func:`year_task` prepares the year (``_prepare``) and calls
   :func:`~tradepulse.indicators.complexity.year_result` — the function the DuckDB stream calls, so RCA,
   ECI/PCI, density, COI/COG and PRODY have one implementation;
3. each task returns its result rows plus one *notes* row (column ``_notes``, JSON: rows, skip reason,
   error, Python warnings, PRODY coverage), the result is persisted on the executors' disks, the notes are
   collected (one small job that computes every year in parallel), then the years are brought back one at a
   time (``toArrow`` of one year), so the driver holds one year's result, never the panel's.

The driver re-issues each year's warnings and raises a year's error in year order, as the DuckDB stream
does.  ``--rolling k`` (k > 1) mixes years and stays on the driver stream.
"""

from __future__ import annotations

import builtins
import functools
import json
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tradepulse.meta import Note
from tradepulse.errors import InputError, NoDataError, TradepulseError, UnknownNameError
from tradepulse.indicators.complexity import (
    OUTPUT_COLUMNS,
    TOTAL_ROWS_LEFT_OUT,
    EmptySampleError,
    Options,
    _exports_frame,
    _gdp_meta,
    _int_dtype,
    _prepare,
    warehouse_exports_table,
    year_result,
)

if TYPE_CHECKING:   # pragma: no cover
    from tradepulse.indicators.complexity import ComplexityByYear

#: The column of the notes row each task adds to its year's rows (null on result rows).
NOTES = "_notes"
_SPARK_TYPES = {"year": "int", "exporter": "string", "product": "string", "m": "tinyint", "diversity": "int",
                "ubiquity": "int"}


def output_schema(with_prody: bool) -> str:
    """The explicit DDL schema of the tasks' output: the result columns (+ prody, expy) and ``_notes``."""
    cols = OUTPUT_COLUMNS + (["prody", "expy"] if with_prody else []) + [NOTES]
    return ", ".join(f"`{c}` {_SPARK_TYPES.get(c, 'string' if c == NOTES else 'double')}" for c in cols)


def _describe(exc: TradepulseError) -> dict:
    return {"type": type(exc).__name__, "message": str(exc),
            **{k: getattr(exc, k) for k in ("file", "line", "column") if getattr(exc, k, None) is not None}}


def _rebuild(d: dict) -> TradepulseError:
    """The driver-side exception of a task's :func:`_describe` (same class and message)."""
    classes = {c.__name__: c for c in (EmptySampleError, NoDataError, InputError, UnknownNameError)}
    cls = classes.get(d["type"], TradepulseError)
    exc = cls.__new__(cls)
    Exception.__init__(exc, d["message"])
    for k in ("file", "line", "column"):
        if cls is InputError:
            setattr(exc, k, d.get(k))
    return exc


def year_task(pdf: pd.DataFrame, *, opts: Options, filters: dict, gdp_pc: pd.DataFrame | None, missing: str,
              duplicates: str, with_prody: bool) -> pd.DataFrame:
    """One year's cells (year, exporter, product, export_value) → its result rows and one notes row.

    Runs in a Spark Python worker.  As one step of :class:`ComplexityByYear`: the rows are ordered as
    :func:`warehouse_exports` orders them (so an input error names the same data row), ``_prepare``'s
    :class:`NoDataError` and the filters' :class:`EmptySampleError` skip the year, any other tradepulse
    error is the year's error (raised by the driver), Python warnings are recorded."""
    year = int(pdf["year"].iat[0])
    notes: dict = {"year": year, "rows": 0, "aggregate": 0, "skip": None, "error": None, "warnings": []}
    renamed: dict[str, str] = {}
    exporters: set[str] = set()
    lacking: set[str] = set()
    out = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            try:
                df = _prepare(_exports_frame(pdf), "exporter", "product", "export_value", "year",
                              missing=missing, duplicates=duplicates)
            except NoDataError as exc:          # no positive value this year: it drops out of the panel
                notes["skip"], df = _describe(exc), None
            if df is not None:
                notes["aggregate"] = int(df.attrs.get("aggregate_rows_dropped", 0))
                try:
                    out = year_result(df, opts, filters, gdp_pc, renamed, exporters, lacking)
                except EmptySampleError as exc:  # nothing left after the filters: the year drops out
                    notes["skip"] = _describe(exc)
        except TradepulseError as exc:
            notes["error"], out = _describe(exc), None
    notes["warnings"] = [[w.category.__name__, str(w.message)] for w in caught]
    notes.update(exporters=sorted(exporters), lacking=sorted(lacking), renamed=renamed)
    cols = OUTPUT_COLUMNS + (["prody", "expy"] if with_prody else [])
    if out is not None and len(out):
        notes["rows"] = len(out)
        out = out.assign(year=out["year"].astype(np.int32), exporter=out["exporter"].astype(str),
                         product=out["product"].astype(str), m=out["m"].astype(np.int8),
                         diversity=out["diversity"].astype(np.int32), ubiquity=out["ubiquity"].astype(np.int32))
        out[NOTES] = None
    else:
        out = None
    # the notes row: labels null; the integer columns 0 (keeps them integer in pandas), floats NaN
    row = {c: [np.nan] for c in cols}
    row.update(year=np.array([year], dtype=np.int32), exporter=[None], product=[None],
               m=np.zeros(1, dtype=np.int8), diversity=np.zeros(1, dtype=np.int32),
               ubiquity=np.zeros(1, dtype=np.int32))
    row[NOTES] = [json.dumps(notes)]
    note = pd.DataFrame(row, columns=[*cols, NOTES])
    return note if out is None else pd.concat([out[[*cols, NOTES]], note], ignore_index=True)


def _as_panel_frame(table) -> pd.DataFrame:
    """One year's result rows (Arrow, from Spark) with the column types of the DuckDB stream (``_panel``):
    year SMALLINT, labels categorical over the year's sorted labels, m int8, counts int16/int32."""
    df = table.to_pandas()
    n_c, n_p = df["exporter"].nunique(), df["product"].nunique()
    year = df["year"].to_numpy()
    small = year.min() >= 0 and year.max() < 2**15
    return df.assign(year=year.astype(np.int16 if small else np.int64),
                     exporter=pd.Categorical(df["exporter"]), product=pd.Categorical(df["product"]),
                     m=df["m"].astype(np.int8), diversity=df["diversity"].astype(_int_dtype(n_p + 1)),
                     ubiquity=df["ubiquity"].astype(_int_dtype(n_c + 1)))


def _reissue(messages: list[list[str]]) -> None:
    for category, message in messages:
        cls = getattr(builtins, category, RuntimeWarning)
        warnings.warn(message, cls if isinstance(cls, type) and issubclass(cls, Warning) else RuntimeWarning,
                      stacklevel=4)


def stream_years(stream: ComplexityByYear) -> Iterator[pd.DataFrame]:
    """The years of ``stream`` (:class:`ComplexityByYear`): computed in Spark tasks
    (:func:`complexity_tasks`) when its warehouse is a Spark one, it has candidate years and ``rolling`` is
    1; otherwise iterated in this process.  Either way one year's result at a time, the same frames."""
    src = stream.source
    if stream.rolling <= 1 and src.years and getattr(src.warehouse, "engine", "duckdb") == "spark":
        return complexity_tasks(stream)
    return iter(stream)


def complexity_tasks(stream: ComplexityByYear) -> Iterator[pd.DataFrame]:
    """Iterate :class:`ComplexityByYear` on Spark: every year computed in a Spark task, the years handed out
    one at a time in ascending order (see the module docstring).  Fills ``stream.meta`` as the DuckDB stream
    does; ``stream.source.reads`` records the one read of all candidate years (no year is materialised on the
    driver)."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from tradepulse.warehouse.spark import ship_package

    src = stream.source
    wh = src.warehouse
    with_prody = stream.gdp_pc is not None
    cells = wh.spark_frame(warehouse_exports_table(wh, years=src.years, digits=src.digits, dataset=src.dataset))
    src.reads.append(list(src.years))
    ship_package(cells.sparkSession)
    task = functools.partial(year_task, opts=stream.opts, filters=stream.filters, gdp_pc=stream.gdp_pc,
                             missing=stream.missing, duplicates=stream.duplicates, with_prody=with_prody)
    result = cells.groupBy("year").applyInPandas(task, schema=output_schema(with_prody))
    # on disk only: the panel's result (29 years × 1.25M cells at BACI HS6) cached in the heap of a local
    # session's 1 GB driver, beside a year being collected, ran out of memory (benchmarks/panel/spark.py)
    result = result.persist(StorageLevel.DISK_ONLY)
    try:
        notes = {}
        for (text,) in result.filter(F.col(NOTES).isNotNull()).select(NOTES).collect():   # runs every year
            note = json.loads(text)
            notes[int(note["year"])] = note
        error: TradepulseError | None = None
        n_aggregate, emitted = 0, 0
        exporters: set[str] = set()
        lacking: set[str] = set()
        renamed: dict[str, str] = {}
        for i, y in enumerate(src.years):
            note = notes.get(int(y))
            if note is not None:
                _reissue(note["warnings"])
                if note["error"] is not None:
                    raise _rebuild(note["error"])
                if note["skip"] is not None:
                    error = error or _rebuild(note["skip"])
                n_aggregate += note["aggregate"]
                exporters.update(note["exporters"])
                lacking.update(note["lacking"])
                renamed.update(note["renamed"])
                if note["rows"]:
                    part = result.filter((F.col("year") == int(y)) & F.col(NOTES).isNull()).drop(NOTES)
                    out = _as_panel_frame(part.toArrow())
                    del part
                    emitted += 1
                    yield out
                    del out
            if stream.progress is not None:
                stream.progress(i + 1, len(src.years), y)
        if not emitted:
            raise error or NoDataError("the warehouse has no product-level export flows (HS codes)")
        if n_aggregate:
            stream.meta.warn(Note(TOTAL_ROWS_LEFT_OUT, n=n_aggregate))
        if with_prody:
            stream.meta = stream.meta.merge(_gdp_meta(pd.DataFrame(), renamed, seen=(exporters, lacking)))
    finally:
        result.unpersist()
