"""Replacing rows on Spark: ``--replace`` (earlier loads of the same file go) and ``--on-overlap replace`` (the
earlier rows holding a key of the new load go), as the DuckDB ingest does it (:func:`tradepulse.ingest._core.
_drop_previous`, :func:`~tradepulse.ingest._core._supersede_earlier`), on a Parquet dataset whose files are
never changed in place (used by :mod:`tradepulse.ingest.spark`).

Copy-on-write by ``(year, reporter)`` partition:

* a location (``path`` or part of the manifest's ``flows``) holding a dropped load's rows alone
  (``ingest/<dropped id>/flows``) is removed from the manifest;
* in any other location, every ``(year, reporter)`` pair holding a row that goes is named in the location's
  ``exclude`` list (format 3), and the rows of those pairs that stay are rewritten, with their own load id,
  under the new load's directory (``ingest/<load_id>/kept``) — one more location;
* the small tables change as in DuckDB: ``loads`` loses the dropped loads and recounts the superseded ones
  (``rows_loaded``, ``value_usd_loaded`` and the ``superseded_by`` note), ``coverage`` loses the dropped loads
  and is recounted for the superseded ``(load, year, reporter)`` groups, ``quarantine`` loses the dropped
  loads' rows.  They are written whole into the new load's directory and replace the earlier locations.

Nothing is written outside the new load's directory; the manifest, swapped last, makes the change (a crash
before leaves the previous dataset as it was).  Files no longer named stay on disk until removed by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tradepulse.ingest._core import _note
from tradepulse.ingest._spec import ident, lit
from tradepulse.warehouse import LOADS, QUARANTINE
from tradepulse.warehouse.datasets import COVERAGE


@dataclass
class Plan:
    """What a replacing load removes from the dataset (filled by :func:`plan`)."""

    dropped: list[str] = field(default_factory=list)     # earlier loads of the same file (--replace)
    drop_locs: set[int] = field(default_factory=set)     # locations written by dropped loads only
    exclude: dict[int, list[list]] = field(default_factory=dict)   # location → [[year, reporter], …] going
    n_deleted: int = 0          # rows leaving ``flows`` (dropped loads' and superseded rows)
    n_replaced: int = 0         # rows of the dropped loads
    kept: tuple[str, int] | None = None   # (relative path, rows) of the rewritten rows that stay
    superseded: list[tuple[str, int, float]] = field(default_factory=list)   # (earlier load, rows, value)
    groups: list[tuple[str, int, str]] = field(default_factory=list)   # (load, year, reporter) recounted
    recount: list[dict] = field(default_factory=list)   # their coverage rows after the change (no dataset)

    @property
    def changes(self) -> bool:
        return bool(self.dropped or self.superseded)


def dropped_loads(con, loads_rel: str, sha: str, file: str) -> list[str]:
    """``--replace``: the earlier flows loads of the same input (same digest or same file name)."""
    return [r[0] for r in con.execute(f"SELECT load_id FROM {loads_rel} WHERE target = 'flows' AND "
                                      "(sha256 = ? OR file = ?) ORDER BY load_id", [sha, file]).fetchall()]


def prefixed(df, keys: list[str], prefix: str, *extra: str):
    """``df``'s key columns renamed ``prefix + key`` (plus the ``extra`` columns as they are): the right side
    of a join on the keys (:func:`null_safe_on`)."""
    from pyspark.sql import functions as F

    return df.select(*[F.col(k).alias(f"{prefix}{k}") for k in keys], *extra)


def null_safe_on(left, right, keys: list[str], prefix: str) -> list:
    """Join condition: every key of ``left`` equals ``right``'s ``prefix + key``, NULL equal to NULL (a key
    column such as month or province may be NULL, as DuckDB's ``IS NOT DISTINCT FROM``)."""
    return [left[k].eqNullSafe(right[f"{prefix}{k}"]) for k in keys]


def plan(sess, old_all, locs: list[dict], new_keys, keys: list[str], dropped: list[str], supersede: bool,
         years: list, store, rel_dir: str, coverage_rows, held: list) -> Plan:
    """The rows going and the rows to rewrite; writes the kept rows to ``rel_dir``/kept (``store.big``).

    ``old_all``: the dataset's flows with ``__loc`` (location index); ``new_keys``: the new load's keys (rows
    of earlier loads with these keys go when ``supersede``); ``coverage_rows``: Spark frame → coverage rows."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    p = Plan(dropped=list(dropped))
    # a load's own flows directory holds its rows only (its ``kept`` directory holds other loads' rows)
    p.drop_locs = {i for i, loc in enumerate(locs) if any(loc["path"] == f"ingest/{d}/flows" for d in dropped)}
    nk = prefixed(new_keys, keys, "__n_").distinct()
    live = old_all.where(~F.col("load_id").isin(dropped)) if dropped else old_all
    parts = []
    if supersede:
        gone = live.where(F.col("year").isin(years)).join(nk, null_safe_on(live, nk, keys, "__n_"), "left_semi") \
            .select("__loc", "year", "reporter", "load_id", "value_usd").persist(StorageLevel.MEMORY_AND_DISK)
        held.append(gone)
        p.superseded = [(r[0], int(r[1]), float(r[2] or 0.0)) for r in gone.groupBy("load_id").agg(
            F.count(F.lit(1)), F.sum("value_usd")).orderBy("load_id").collect()]
        p.groups = sorted({(r[0], int(r[1]), r[2]) for r in
                           gone.select("load_id", "year", "reporter").distinct().collect()})
        p.n_deleted += sum(n for _i, n, _v in p.superseded)
        parts.append(gone.select("__loc", "year", "reporter"))
    if dropped:
        mine = old_all.where(F.col("load_id").isin(dropped))
        p.n_replaced = int(mine.count())
        p.n_deleted += p.n_replaced
        parts.append(mine.where(~F.col("__loc").isin(list(p.drop_locs)) if p.drop_locs else F.lit(True))
                     .select("__loc", "year", "reporter"))
    affected = set()
    for df in parts:
        affected |= {(int(r[0]), int(r[1]), r[2]) for r in df.distinct().collect()}
    for loc, year, rep in sorted(affected):
        p.exclude.setdefault(loc, []).append([year, rep])
    if affected:
        pairs = sess.createDataFrame(sorted(affected), "__loc int, year smallint, reporter string")
        stay = old_all.join(F.broadcast(pairs), ["__loc", "year", "reporter"], "left_semi")
        if dropped:
            stay = stay.where(~F.col("load_id").isin(dropped))
        if supersede:
            stay = stay.join(nk, null_safe_on(stay, nk, keys, "__n_"), "left_anti")
        stay = stay.drop("__loc").persist(StorageLevel.MEMORY_AND_DISK)
        held.append(stay)
        n_kept = int(stay.count())
        if n_kept:
            stay.repartition("year", "reporter").write.partitionBy("year", "reporter") \
                .option("compression", "zstd").parquet(store.big(f"{rel_dir}/kept"))
            p.kept = (f"{rel_dir}/kept", n_kept)
    if p.groups:   # coverage of the superseded (load, year, reporter) groups, from the rows that stay
        grp = sess.createDataFrame(p.groups, "load_id string, year smallint, reporter string")
        left = live.join(F.broadcast(grp), ["load_id", "year", "reporter"], "left_semi")
        left = left.join(nk, null_safe_on(left, nk, keys, "__n_"), "left_anti").drop("__loc")
        p.recount = coverage_rows(left)
    return p


def _frame_copy(con, frame, cols: dict[str, str], target: Path) -> None:
    """COPY a pandas frame to Parquet with the warehouse's column types."""
    con.register("__tp_frame", frame)
    try:
        con.execute(f"COPY (SELECT {', '.join(f'CAST({ident(c)} AS {t}) AS {ident(c)}' for c, t in cols.items())} "
                    f"FROM __tp_frame) TO {lit(str(target))} (FORMAT PARQUET, COMPRESSION zstd)")
    finally:
        con.unregister("__tp_frame")


def small_tables(con, small, p: Plan, load_id: str, file: str, out: Path, rel_dir: str,
                 new_cov) -> tuple[dict, dict]:
    """Write the changed small tables under ``out``; return (tables whose locations become these files: name →
    [(path, rows)] — the new load's own loads and quarantine files are added by the caller —, the new load's
    note additions).  ``small(name, cols)``: a DuckDB relation of a small table; ``new_cov``: the new load's
    coverage frame (included in the rewritten coverage)."""
    import pandas as pd

    reset: dict[str, list[tuple[str, int]]] = {}
    dropped = p.dropped
    # coverage: the dropped loads go; the superseded groups are recounted (keeping their dataset name)
    cov = con.execute(f"SELECT * FROM {small('coverage', COVERAGE)}").df()
    cov = cov[~cov["load_id"].isin(dropped)]
    names = cov.groupby("load_id")["dataset"].first().to_dict()
    if p.groups:
        gkey = {(a, int(b), c) for a, b, c in p.groups}
        hit = [(a, int(b), c) in gkey for a, b, c in zip(cov["load_id"], cov["year"], cov["reporter"])]
        cov = cov[[not h for h in hit]]
        rec = pd.DataFrame(p.recount, columns=[c for c in COVERAGE if c != "dataset"])
        rec["dataset"] = rec["load_id"].map(names)
        cov = pd.concat([cov, rec[list(COVERAGE)]], ignore_index=True) if len(rec) else cov
    cov = pd.concat([cov[list(COVERAGE)], new_cov[list(COVERAGE)]], ignore_index=True)
    _frame_copy(con, cov, COVERAGE, out / "coverage_all.parquet")
    reset["coverage"] = [(f"{rel_dir}/coverage_all.parquet", len(cov))]
    # loads: the dropped go; the superseded are recounted from their coverage and noted
    loads = con.execute(f"SELECT * FROM {small('loads', LOADS)}").df()
    loads = loads[~loads["load_id"].isin(dropped)].reset_index(drop=True)
    note: dict = {}
    for old_id, n, v in p.superseded:
        idx = loads.index[loads["load_id"] == old_id]
        note.setdefault("superseded", {})[old_id] = {
            "file": loads.loc[idx[0], "file"] if len(idx) else None, "rows": int(n), "value_usd": float(v)}
        if not len(idx):
            continue
        i = idx[0]
        mine = cov[cov["load_id"] == old_id]
        meta = _note(loads.loc[i, "note"])
        meta.setdefault("superseded_by", {})[load_id] = {"file": file, "rows": int(n)}
        loads.loc[i, "rows_loaded"] = int(mine["rows"].sum())
        loads.loc[i, "value_usd_loaded"] = float(mine["value_usd"].sum())
        loads.loc[i, "note"] = json.dumps(meta, ensure_ascii=False, default=str)
    _frame_copy(con, loads, LOADS, out / "loads_kept.parquet")
    reset["loads"] = [(f"{rel_dir}/loads_kept.parquet", len(loads))]
    if dropped:   # quarantine: the dropped loads' rows go
        q = con.execute(f"SELECT * FROM {small('quarantine', QUARANTINE)} WHERE NOT list_contains(?, load_id)",
                        [dropped]).df()
        _frame_copy(con, q, QUARANTINE, out / "quarantine_kept.parquet")
        reset["quarantine"] = [(f"{rel_dir}/quarantine_kept.parquet", len(q))]
    return reset, note
