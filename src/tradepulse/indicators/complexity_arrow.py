"""``complexity`` of an Arrow table without pandas (issue 19: ``tradepulse complexity FILE -o OUT.parquet``).

pandas was most of the command's cost on a one-year file (importing it ≈ 0.55–0.8 s CPU and ≈ 100 MB, more
than the computation).  For a *clean* input — string exporter and product columns, an integer year column
(or none), numeric values with no missing, negative or duplicated entries and no all-goods total rows, and
none of the sample filters, rolling windows or PRODY options — this path reads the Arrow columns, computes
with the same NumPy core as :func:`tradepulse.indicators.complexity.complexity`
(:func:`~tradepulse.indicators.complexity_core.panel_arrays`) and returns an Arrow table equal to that
function's frame (same columns, types, row order and values; ``tests/test_complexity_arrow.py``).

Any other input returns ``None``: the caller then runs the pandas path, which raises the documented
one-line errors (or handles ``missing="zero"`` / ``duplicates="sum"``).  So an error costs the pandas
import, a clean file does not.
"""

from __future__ import annotations

import json
from typing import Callable

import numpy as np
import pyarrow as pa
from pyarrow._compute import CastOptions, call_function

from tradepulse.indicators.complexity_core import Options, panel_arrays
from tradepulse.meta import ResultMeta

#: The cells pandas' CSV reader takes as missing (``pandas.read_csv`` default ``na_values``): read as nulls
#: here too, so a label such as "NA" sends the file to the pandas path and its "rows have no exporter" error.
PANDAS_NA = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
             "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]

#: Product codes that are aggregates (as :data:`tradepulse.indicators.complexity.AGGREGATE_PRODUCTS`).
_AGGREGATES = ("TOTAL", "ALL")


# PyArrow imports pandas (≈ 0.6 s) when it converts to or from NumPy (``pa.array``, ``to_numpy``: its pandas
# shim probes the objects); NumPy and Arrow share buffers here instead, which never touches that shim.
# Arrow's kernels are called through ``pyarrow._compute.call_function``: the methods (``dictionary_encode``,
# ``take``, ``cast``, ``unique``) import ``pyarrow.compute``, whose wrappers and docstrings of every kernel
# took ≈ 0.07 s CPU of a ≈ 1.2 s ``complexity FILE`` (issue 19).
def _numpy_of(chunk: pa.Array) -> np.ndarray:
    """A null-free integer or floating Arrow array as a NumPy view of its buffer."""
    kind = "f" if pa.types.is_floating(chunk.type) else "i" if pa.types.is_signed_integer(chunk.type) else "u"
    dtype = np.dtype(f"{kind}{chunk.type.bit_width // 8}")
    return np.frombuffer(chunk.buffers()[1], dtype=dtype, count=len(chunk), offset=chunk.offset * dtype.itemsize)


def _numpy(column: pa.ChunkedArray) -> np.ndarray:
    """A null-free integer or floating column as NumPy."""
    parts = [_numpy_of(chunk) for chunk in column.chunks]
    return parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.empty(0)


def _arrow(values: np.ndarray) -> pa.Array:
    """A NumPy integer or floating array as an Arrow array sharing its buffer."""
    values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values), [None, pa.py_buffer(values)])


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _labels(column: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array] | None:
    """(codes, labels) of a string column without nulls: ``labels[codes]`` is the column; None otherwise.

    A dictionary-encoded string column (``complexity FILE`` reads a CSV's labels so: the hashing runs in the
    reader's threads) is taken when its dictionary is what encoding the strings would give — distinct values,
    each used; otherwise (e.g. a pandas categorical with unused categories) None, for the pandas path."""
    if column.null_count:
        return None
    if pa.types.is_dictionary(column.type):
        if not _is_text(column.type.value_type):
            return None
        encoded = column.unify_dictionaries().combine_chunks()
        codes, labels = _numpy_of(encoded.indices), encoded.dictionary
        if labels.null_count or len(set(labels.to_pylist())) != len(labels) or \
                np.bincount(codes, minlength=len(labels)).min(initial=1) == 0:
            return None
        return codes, labels
    if not _is_text(column.type):
        return None
    encoded = call_function("dictionary_encode", [column]).unify_dictionaries().combine_chunks()
    return _numpy_of(encoded.indices), encoded.dictionary


def _sorted_codes(codes: np.ndarray, labels: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Codes into the sorted labels of the codes present (``pandas.factorize(sort=True)`` of the labels:
    Python's string order) and those labels."""
    used = np.flatnonzero(np.bincount(codes, minlength=len(labels)))
    text = np.asarray(labels.to_pylist(), dtype=object)
    order = used[np.argsort(text[used], kind="stable")]
    rank = np.empty(len(text), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    return rank[codes], call_function("take", [labels, _arrow(order.astype(np.int64))])


def _pandas_codes_dtype(n: int) -> type:
    """The codes type pandas gives a categorical of ``n`` categories (its Parquet file's dictionary index)."""
    return np.int8 if n < 2**7 else np.int16 if n < 2**15 else np.int32 if n < 2**31 else np.int64


def complexity_table(table: pa.Table, exporter: str = "exporter", product: str = "product",
                     value: str = "export_value", year: str | None = None, *, threshold: float = 1.0,
                     convention: str = "py", diagonal: float | None = None, cog_form: str = "ecomplexity",
                     continuous: bool = False, asymmetric: bool = False,
                     progress: Callable[[int, int, object], None] | None = None) -> pa.Table | None:
    """RCA, M, diversity, ubiquity, ECI, PCI, density, COI, COG of a clean Arrow table (see the module
    docstring), or ``None`` when the input needs the pandas path.  Arguments as
    :func:`tradepulse.indicators.complexity.complexity`; the result carries its ``ResultMeta`` where pandas
    puts a frame's ``attrs`` in Parquet (schema metadata ``PANDAS_ATTRS``)."""
    opts = Options(threshold=threshold, convention=convention, diagonal=diagonal, cog_form=cog_form,
                   continuous=continuous, asymmetric=asymmetric)
    names = table.column_names
    if year is None and "year" in names and "year" not in (exporter, product, value):
        year = "year"
    wanted = [exporter, product, value] + ([year] if year is not None else [])
    if len(set(wanted)) < len(wanted) or any(names.count(c) != 1 for c in wanted) or table.num_rows == 0:
        return None
    col_value = table.column(value)
    if col_value.null_count or not (pa.types.is_integer(col_value.type) or pa.types.is_floating(col_value.type)):
        return None
    values = _numpy(col_value).astype(np.float64, copy=False)
    if not np.isfinite(values).all() or (values < 0).any() or not (values > 0).any():
        return None
    if year is None:
        years = np.zeros(table.num_rows, dtype=np.int64)
    else:
        col_year = table.column(year)
        if col_year.null_count or not pa.types.is_integer(col_year.type):
            return None
        years = _numpy(col_year)
    exp, prod = _labels(table.column(exporter)), _labels(table.column(product))
    if exp is None or prod is None:
        return None
    (e_all, e_labels), (p_all, p_labels) = exp, prod
    aggregate = np.array([str(v).strip().upper() in _AGGREGATES for v in p_labels.to_pylist()], dtype=bool)
    if aggregate.any():
        return None
    if years.min() == years.max():
        ys, yi = years[:1], np.zeros(len(years), dtype=np.int64)
    else:
        ys, yi = np.unique(years, return_inverse=True)
    n_e, n_p = len(e_labels), len(p_labels)
    year_exporter = yi.astype(np.int64) * n_e + e_all
    key = year_exporter * n_p + p_all
    if len(ys) * n_e * n_p <= 2**26:   # duplicated (year, exporter, product): by counting, else by sorting
        duplicated = np.bincount(key, minlength=len(ys) * n_e * n_p).max() > 1
    else:
        key.sort()
        duplicated = bool((key[1:] == key[:-1]).any())
    if duplicated:
        return None
    # exporters with a row (zero values too) in each year: the pandas path's "left out" count starts there
    per_year = (np.bincount(year_exporter, minlength=len(ys) * n_e) > 0).reshape(len(ys), n_e).sum(axis=1)
    present = dict(zip(ys.tolist(), per_year.tolist()))
    positive = values > 0
    rows = slice(None) if positive.all() else positive
    ci, countries = _sorted_codes(e_all[rows], e_labels)
    pi, products = _sorted_codes(p_all[rows], p_labels)
    cols = panel_arrays(ci, pi, years[rows], values[rows], len(countries), len(products),
                        lambda y: present[int(y)], opts, progress=progress)

    def dictionary(codes: np.ndarray, labels: pa.Array) -> pa.DictionaryArray:
        if labels.type != pa.string():
            labels = call_function("cast", [labels], CastOptions(target_type=pa.string()))
        return pa.DictionaryArray.from_arrays(_arrow(codes.astype(_pandas_codes_dtype(len(labels)), copy=False)),
                                              labels)

    block = cols["block"]
    arrays = {"year": _arrow(cols["year"]), "exporter": dictionary(cols["exporter"], countries),
              "product": dictionary(cols["product"], products)}
    arrays.update((name, _arrow(block[i])) for i, name in enumerate(cols["float_cols"]))
    arrays.update(m=_arrow(cols["m"]), diversity=_arrow(cols["diversity"]), ubiquity=_arrow(cols["ubiquity"]))
    order = ["year", "exporter", "product", "export_value", "rca", "m", "diversity", "ubiquity", "eci", "pci",
             "density", "coi", "cog"]
    meta = {"PANDAS_ATTRS": json.dumps({"meta": ResultMeta().to_dict()})}
    return pa.table([arrays[c] for c in order], names=order, metadata=meta)
