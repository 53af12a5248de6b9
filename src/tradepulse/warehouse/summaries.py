"""Summary tables versioned with the warehouse: precomputed results stored next to the detail rows.

A *summary* is one named result (one or more pandas frames plus JSON metadata) stored as DuckDB tables
``summary__<name>__<hash>_<part>`` and listed in the catalogue table :data:`CATALOGUE` with its key, the
warehouse *data version* it was computed from, when it was created and its row count.

The data version (:func:`data_version`) is a digest of the ``loads`` table (load ids, targets, rows and value
loaded) and of the row counts of the storage tables, so every ingest (new load, ``--replace``, superseded rows)
and every direct write changes it.  A summary whose version differs from the current one is *stale* and
:func:`read` never returns it.  :func:`store` replaces the whole set in one transaction: a failure (or a
crash) leaves the previous summaries as they were, and a warehouse whose data changed while the results were
computed is refused (:class:`StaleSummaryError`).

Metadata travels as *tagged JSON* (:func:`encode` / :func:`decode`): tuples, numpy scalars, dates,
:class:`~tradepulse.meta.Note` sentences and :class:`~tradepulse.meta.ResultMeta` come back as they were.
No pickle: a warehouse file never runs code when it is read.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tradepulse.errors import TradepulseError
from tradepulse.warehouse.datasets import table_names

if TYPE_CHECKING:
    import pandas as pd

#: The catalogue table: one row per stored summary.
CATALOGUE = "summary_catalogue"
CATALOGUE_COLUMNS: dict[str, str] = {
    "key": "VARCHAR", "name": "VARCHAR", "data_version": "VARCHAR", "created_at": "TIMESTAMP",
    "rows": "BIGINT", "parts": "VARCHAR", "meta": "VARCHAR",
}
#: Prefix of every summary table (never a name an ingest writes).
PREFIX = "summary__"
#: Storage tables whose row counts enter the data version (with the ``loads`` table).
_COUNTED = ("flow_rows", "baci_rows", "firm_flows", "services", "macro", "loads")


class StaleSummaryError(TradepulseError):
    """The warehouse's data changed while summaries were computed (an ingest committed meanwhile)."""


class NotStorable(TradepulseError):
    """A value that cannot be stored exactly (unknown type, or a frame that does not round-trip)."""


@dataclass
class Summary:
    """One stored result: ``frames`` by part name, tagged-JSON ``meta``, and its catalogue facts."""

    name: str
    key: str
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    meta: Any = None
    data_version: str = ""
    created_at: _dt.datetime | None = None
    rows: int = 0


def is_summary_table(name: str) -> bool:
    """True for the catalogue and the summary tables (not data: an export of the warehouse leaves them out)."""
    return name == CATALOGUE or name.startswith(PREFIX)


# ---------------------------------------------------------------- data version
@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """Digest of this installation's ``tradepulse`` source files (paths and contents), read once per process:
    summaries computed by other code (an upgrade, a fix) are stale, never served as this code's answer."""
    from pathlib import Path

    import tradepulse
    root = Path(tradepulse.__file__).parent
    h = hashlib.sha256()
    for f in sorted(root.rglob("*")):
        if f.is_file() and f.suffix in (".py", ".toml", ".yaml", ".yml", ".csv", ".json"):
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def data_version(con) -> str:
    """Digest of what the warehouse holds (the ``loads`` records and the storage tables' row counts) and of the
    code that reads it (:func:`code_version`).

    ``con``: a DuckDB connection on the warehouse.  Changes with every ingest (a new or replaced load, rows
    superseded by a later load), with rows written without a load and with another version of tradepulse;
    summaries never change it."""
    have = table_names(con)
    h = hashlib.sha256(code_version().encode())
    if "loads" in have:
        for row in con.execute("SELECT load_id, target, rows_loaded, value_usd_loaded FROM loads "
                               "ORDER BY load_id, target").fetchall():
            h.update(repr(row).encode())
    for t in _COUNTED:
        n = con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] if t in have else 0
        h.update(f"|{t}={n}".encode())
    return h.hexdigest()[:20]


# ---------------------------------------------------------------- tagged JSON
def _enc(v: Any) -> Any:
    import numpy as np

    from tradepulse.meta import Note, ResultMeta
    if v is None or isinstance(v, (bool, str)) and not isinstance(v, Note):
        return v
    if isinstance(v, Note):
        return {"$note": v.template, "params": _enc(v.params)}
    if isinstance(v, int) and type(v) is int:
        return v
    if isinstance(v, float) and type(v) is float:
        return v if math.isfinite(v) else {"$float": repr(v)}
    if isinstance(v, np.generic):
        return {"$np": v.dtype.str, "v": _enc(v.item())}
    if isinstance(v, list):
        return [_enc(x) for x in v]
    if isinstance(v, tuple):
        return {"$tuple": [_enc(x) for x in v]}
    if isinstance(v, dict):
        return {"$dict": [[_enc(k), _enc(x)] for k, x in v.items()]}
    if isinstance(v, ResultMeta):
        return {"$meta": _enc(dict(vars(v)))}
    if isinstance(v, _dt.datetime):
        return {"$datetime": v.isoformat()}
    if isinstance(v, _dt.date):
        return {"$date": v.isoformat()}
    raise NotStorable(f"cannot store a {type(v).__name__} in a summary")


def _dec(v: Any) -> Any:
    if isinstance(v, list):
        return [_dec(x) for x in v]
    if not isinstance(v, dict):
        return v
    import numpy as np

    from tradepulse.meta import Note, ResultMeta
    if "$note" in v:
        return Note(v["$note"], **_dec(v["params"]))
    if "$float" in v:
        return float(v["$float"])
    if "$np" in v:
        return np.dtype(v["$np"]).type(_dec(v["v"]))
    if "$tuple" in v:
        return tuple(_dec(x) for x in v["$tuple"])
    if "$dict" in v:
        return {_dec(k): _dec(x) for k, x in v["$dict"]}
    if "$meta" in v:
        return ResultMeta(**_dec(v["$meta"]))
    if "$datetime" in v:
        return _dt.datetime.fromisoformat(v["$datetime"])
    if "$date" in v:
        return _dt.date.fromisoformat(v["$date"])
    raise NotStorable(f"unknown tag in stored metadata: {sorted(v)}")


def encode(value: Any) -> str:
    """``value`` as tagged JSON (raises :class:`NotStorable` for a type it cannot restore exactly)."""
    return json.dumps(_enc(value), ensure_ascii=False, allow_nan=False)


def decode(text: str) -> Any:
    """The value :func:`encode` wrote."""
    return _dec(json.loads(text))


# ---------------------------------------------------------------- frames
def _layout(df: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The frame as stored (index as columns ``__index_<i>`` unless a default range) and how to undo it."""
    import pandas as pd

    cols = list(df.columns)
    if len(set(map(str, cols))) != len(cols) or any(str(c).startswith("__index_") for c in cols):
        raise NotStorable("a frame with duplicate column names")
    plain = isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1
    out = df.copy()
    out.columns = [str(c) for c in cols]
    index_names: list | None = None
    if not plain:
        index_names = list(df.index.names)
        out.index = out.index.set_names([f"__index_{i}" for i in range(df.index.nlevels)])
        out = out.reset_index()
    out.attrs = {}
    index_dtypes = None if plain else [_spec(t) for t in (df.index.dtypes if df.index.nlevels > 1
                                                           else [df.index.dtype])]
    layout = {"empty": len(df) if not cols else None, "columns": cols, "dtypes": [_spec(t) for t in df.dtypes],
              "index": index_names, "index_dtypes": index_dtypes, "attrs": df.attrs}
    return out, layout


def _spec(dtype) -> Any:
    """A dtype as JSON: its name, or for a categorical its categories and order."""
    import pandas as pd
    if isinstance(dtype, pd.CategoricalDtype):
        return {"categories": list(dtype.categories), "ordered": bool(dtype.ordered)}
    return str(dtype)


def _as(col: pd.Series, spec: Any) -> pd.Series:
    """``col`` in the dtype ``spec`` describes (unchanged when it already is)."""
    import pandas as pd
    if isinstance(spec, dict):
        want = pd.CategoricalDtype(spec["categories"], ordered=spec["ordered"])
        return col if col.dtype == want else pd.Series(
            pd.Categorical(col.astype(object).where(col.notna(), None), dtype=want), index=col.index, name=col.name)
    return col if str(col.dtype) == spec else col.astype(spec)


def _restore(stored: pd.DataFrame, layout: dict) -> pd.DataFrame:
    """Undo :func:`_layout` (column names, dtypes, index, attrs)."""
    import pandas as pd
    if layout.get("empty") is not None:
        df = pd.DataFrame(index=pd.RangeIndex(layout["empty"]))
        df.attrs = layout["attrs"]
        return df
    df = stored
    if layout["index"] is not None:
        n = len(layout["index"])
        idx = [f"__index_{i}" for i in range(n)]
        for c, t in zip(idx, layout["index_dtypes"]):
            df[c] = _as(df[c], t)
        df = df.set_index(idx)
        df.index = df.index.set_names(layout["index"])
    for i, t in enumerate(layout["dtypes"]):
        df[df.columns[i]] = _as(df.iloc[:, i], t)
    df.columns = layout["columns"]
    df.attrs = layout["attrs"]
    return df


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    import pandas as pd
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    except AssertionError:
        return False
    return encode(a.attrs) == encode(b.attrs)


# ---------------------------------------------------------------- catalogue
def _table_name(name: str, key: str, part: int) -> str:
    slug = "".join(c if c.isalnum() else "_" for c in name.lower())[:40]
    return f"{PREFIX}{slug}__{hashlib.sha256(key.encode()).hexdigest()[:12]}_{part}"


def catalogue(con) -> pd.DataFrame:
    """The catalogue (``key, name, data_version, created_at, rows, parts``) plus ``fresh`` (its version is the
    current one); an empty frame on a warehouse without summaries."""
    import pandas as pd

    if CATALOGUE not in table_names(con):
        return pd.DataFrame(columns=[*CATALOGUE_COLUMNS, "fresh"]).drop(columns=["meta"])
    df = con.execute(f"SELECT key, name, data_version, created_at, rows, parts FROM {CATALOGUE} "
                     "ORDER BY name, key").df()
    df["fresh"] = df["data_version"] == data_version(con)
    return df


def fresh_keys(con, version: str) -> set[str]:
    """The keys of the summaries computed from data version ``version``."""
    if CATALOGUE not in table_names(con):
        return set()
    return {k for (k,) in con.execute(f"SELECT key FROM {CATALOGUE} WHERE data_version = ?", [version]).fetchall()}


def read(con, key: str, *, version: str | None = None) -> Summary | None:
    """The summary stored under ``key`` when it was computed from the current data (``version``: the current
    :func:`data_version`, computed when not given); None when missing or stale."""
    if CATALOGUE not in table_names(con):
        return None
    version = version or data_version(con)
    row = con.execute(f"SELECT name, created_at, rows, parts, meta FROM {CATALOGUE} WHERE key = ? AND "
                      "data_version = ?", [key, version]).fetchone()
    if row is None:
        return None
    name, created, rows, parts, meta = row
    frames = {part: _restore(con.execute(f'SELECT * FROM "{table}"').df() if table else None, layout)
              for part, table, layout in decode(parts)}
    return Summary(name, key, frames, decode(meta), version, created, int(rows))


def store(con, summaries: list[Summary], *, version: str, keep: bool = False,
          retain: set[str] | frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """Store ``summaries`` (computed from data ``version``) in one transaction and return the ``(key,
    reason)`` of those left out because they do not round-trip exactly (checked first on a scratch in-memory
    database, so the warehouse's transaction only meets statements known to work).

    Every earlier summary is dropped in the same transaction (``keep=True``: only those under the same keys;
    ``retain``: keys of summaries of this ``version`` that stay as they are — a refresh that reused them).
    Raises :class:`StaleSummaryError` when the warehouse's data version is no longer ``version``; any failure
    rolls back, leaving the previous summaries."""
    import duckdb

    skipped: list[tuple[str, str]] = []
    ready: list[tuple[Summary, str, list]] = []
    scratch = duckdb.connect()
    try:
        for s in summaries:
            try:
                ready.append((s, encode(s.meta), [(part, *_checked(scratch, df)) for part, df in s.frames.items()]))
            except NotStorable as exc:
                skipped.append((s.key, str(exc)))
    finally:
        scratch.close()
    con.execute("BEGIN TRANSACTION")
    try:
        cols = ", ".join(f'"{c}" {t}' for c, t in CATALOGUE_COLUMNS.items())
        con.execute(f"CREATE TABLE IF NOT EXISTS {CATALOGUE} ({cols})")
        if data_version(con) != version:
            raise StaleSummaryError("the warehouse changed while the summaries were computed (an ingest "
                                    "committed meanwhile); run the refresh again")
        mine = {s.key for s in summaries}
        for key, parts, made_from in con.execute(f"SELECT key, parts, data_version FROM {CATALOGUE}").fetchall():
            if keep and key not in mine or key in retain and key not in mine and made_from == version:
                continue
            for _part, table, _layout in decode(parts):
                if table:
                    con.execute(f'DROP TABLE IF EXISTS "{table}"')
            con.execute(f"DELETE FROM {CATALOGUE} WHERE key = ?", [key])
        for s, meta, frames in ready:
            _store_one(con, s, version, meta, frames)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return skipped


def _write(con, table: str, stored: pd.DataFrame) -> None:
    con.register("__tp_summary", stored)
    try:
        con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM __tp_summary')
    finally:
        con.unregister("__tp_summary")


def _checked(scratch, df: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The frame as stored and its layout, after checking on ``scratch`` that it reads back identical."""
    import duckdb
    stored, layout = _layout(df)
    if layout["empty"] is not None:              # no columns (e.g. ``pd.DataFrame()``): nothing to write
        if not _same(df, _restore(None, decode(encode(layout)))):
            raise NotStorable("a frame without columns and with an index")
        return stored, layout
    encode(layout)                               # attrs it cannot restore: NotStorable
    try:
        scratch.execute("DROP TABLE IF EXISTS t")
        _write(scratch, "t", stored)
        back = _restore(scratch.execute("SELECT * FROM t").df(), decode(encode(layout)))
    except (duckdb.Error, TypeError, ValueError) as exc:
        raise NotStorable(f"cannot be stored ({type(exc).__name__}: {str(exc)[:80]})") from None
    if not _same(df, back):
        raise NotStorable("does not read back identical")
    return stored, layout


def _store_one(con, s: Summary, version: str, meta: str, frames: list) -> None:
    """Write one summary's tables and catalogue row (inside :func:`store`'s transaction)."""
    parts = []
    for i, (part, stored, layout) in enumerate(frames):
        table = None if layout["empty"] is not None else _table_name(s.name, s.key, i)
        if table:
            con.execute(f'DROP TABLE IF EXISTS "{table}"')     # an orphan of a catalogue row removed by hand
            _write(con, table, stored)
        parts.append([part, table, layout])
    con.execute(f"INSERT INTO {CATALOGUE} VALUES (?, ?, ?, current_timestamp, ?, ?, ?)",
                [s.key, s.name, version, sum(len(f) for _p, f, _l in frames), encode(parts), meta])
