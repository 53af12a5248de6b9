"""Integer codes of an Arrow string column in the sorted order of its distinct values.

Shared by the warehouse reads of :mod:`tradepulse.indicators.complexity` and
:mod:`tradepulse.indicators.potential`: the column is dictionary-encoded in C++ and only its distinct values
reach Python (sorted there, Python's string order — ``pandas.factorize(sort=True)``), so no Python string is
made per row.
"""

from __future__ import annotations

import numpy as np


def sorted_codes(column) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, values)`` of an Arrow string array or chunked array without nulls: ``values`` are its distinct
    values ascending (an object array), ``codes`` (int64) index them, ``values[codes]`` is the column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    enc = pc.dictionary_encode(arr)
    values = np.asarray(enc.dictionary.to_pylist(), dtype=object)
    order = np.argsort(values, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[enc.indices.to_numpy(zero_copy_only=False)], values[order]
