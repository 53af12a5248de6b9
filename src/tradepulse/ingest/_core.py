"""The load engine: one vectorised SQL pass that maps, validates and inserts; quarantine; atomic, idempotent loads.

How a load runs (all inside one DuckDB transaction, so a killed process leaves the warehouse unchanged):

1. ``sha256`` of the input (file bytes, or the frame's row hashes).  Same digest already in ``loads`` for the
   same target → *skipped* (nothing written).  With ``replace=True`` the rows of earlier loads of the same
   file (same path or same digest) are deleted first.
2. One ``INSERT … SELECT`` reads the source (DuckDB ``read_csv``/``read_parquet`` or a registered frame), maps
   the columns, types them with ``TRY_CAST`` and computes a *reason* per row (first failing check).  Every row
   is inserted; bad rows are tagged ``load_id || '#bad'`` and deleted again at once (so a clean file is read once).
3. Duplicate keys among the good rows are found by grouping a 64-bit hash of the key, then confirmed exactly.
   Every row of a duplicated key is moved to quarantine (neither copy is trusted).
4. Only when something was rejected is the source read a second time with ``row_number()`` to give the
   quarantine rows their line numbers (line 1 = header; for Parquet/Excel/frames, line = record number + 1,
   as if the table were written to CSV with a header).
5. Overlap with earlier loads (:func:`_find_overlap`): the load's rows whose key (``KEYS[target]``, NULLs
   equal) is already in the target from *another* load — a revised release, a repeated extract — would be
   counted twice by every indicator.  ``on_overlap="quarantine"`` (default) moves them to quarantine (reason
   ``already loaded by load <id> (<file>)``, lines from the line-numbered second read, written by one
   ``INSERT … SELECT``); ``"replace"`` deletes the earlier rows instead (the new file supersedes them),
   recounts the earlier loads in ``loads`` and records per earlier load how many rows went in this load's
   ``note``.  The check costs one ``count(*)`` when the target holds no other load's rows.
6. Zero good rows → the transaction is rolled back and :class:`~tradepulse.errors.InputError` is raised.

Targets: ``flows``, ``firm_flows`` (the same goods rules — calendar, countries, flow words, HS codes and
tariff-line truncation, value signs, province mapping — plus a required ``firm`` id, trimmed text with
Persian/Arabic digits and letters unified), ``services`` and ``macro``; keys in :data:`KEYS`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from tradepulse.errors import InputError, UnknownNameError
from tradepulse.ingest import codes
from tradepulse.ingest._keys import (_distinct_keys, _distinct_rids, _dup_lines_part, _find_overlap,
                                     _find_overlap_slim, _key_on, _overlap_lines, _slim_distinct_keys,
                                     _stage_duplicate_lines, _true_lines)
from tradepulse.ingest._spec import GOODS_TARGETS, KEYS, TARGETS, VALUE, LineSplitNeeded, Spec, ident, lit
from tradepulse.ingest._sql import _constant_field, _inner_select, _maps_provinces
from tradepulse.ingest._storage import (_delete_located, _drop_loads, _insert_slim, _located, _others_exist,
                                        _structural_rejects)

if TYPE_CHECKING:  # imported on first use: a clean BACI load needs neither pandas nor the province list
    import pandas as pd

#: What to do with rows whose key another load already holds: quarantine them, or supersede the old rows.
OVERLAP_POLICIES = ("quarantine", "replace")


@dataclass
class LoadResult:
    """What one ingest did.  ``skipped`` = the same input was loaded before (nothing written)."""

    load_id: str
    file: str
    rows_loaded: int
    rows_quarantined: int
    value_usd_loaded: float
    skipped: bool
    target: str = "flows"
    format: str = ""
    sha256: str = ""
    rows_replaced: int = 0
    problems: list[dict] = field(default_factory=list)  # first few quarantine rows (line, column, reason)
    #: rows of this load whose key an earlier load already held (quarantined, or superseding the old rows)
    rows_overlapping: int = 0
    #: per earlier load hit: {"load_id", "file", "rows"} — rows = this load's rows quarantined against it
    #: (quarantine) or its rows deleted (replace)
    overlapping_loads: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def frame_sha256(frame: pd.DataFrame) -> str:
    import pandas as pd

    h = hashlib.sha256()
    h.update("\x1f".join(map(str, frame.columns)).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _register_code_tables(con, spec: Spec) -> None:
    if _maps_provinces(spec):
        from tradepulse.reference import provinces

        con.register("__tp_prov_df", provinces.alias_table())
        con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_prov AS SELECT DISTINCT country, "
                    f"{provinces.province_key_sql('spelling')} AS key, name_en FROM __tp_prov_df")
        con.unregister("__tp_prov_df")
        clash = con.execute("SELECT country, key, string_agg(name_en, ' / ') FROM __tp_prov GROUP BY ALL "
                            "HAVING count(*) > 1 LIMIT 1").fetchone()
        if clash:
            raise InputError(f"the province list gives {clash[0]} spelling {clash[1]!r} to {clash[2]}")
        con.execute("CREATE OR REPLACE TEMP TABLE __tp_prov_countries AS SELECT DISTINCT country FROM __tp_prov")
    for kind in set(spec.countries.values()):
        if kind == "numeric":  # built by DuckDB (no pandas)
            try:
                con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_codes_numeric AS "
                            f"{codes.numeric_codes_sql(spec.country_codes_csv)}")
            except Exception as exc:  # noqa: BLE001 - a DuckDB error reading the code file
                raise InputError(f"cannot read the country code file (it needs columns country_code and "
                                 f"iso_3digit_alpha): {str(exc).splitlines()[0]}",
                                 file=str(spec.country_codes_csv or "country codes"), line=1) from exc
            continue
        if kind == "name":
            df = codes.name_table()
        else:
            df = codes.iso3_table()
        con.register(f"__tp_codes_{kind}_df", df)
        con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_codes_{kind} AS SELECT * FROM __tp_codes_{kind}_df")
        con.unregister(f"__tp_codes_{kind}_df")


class _Skip(Exception):
    """Internal: the input turned out to be loaded already (deferred digest)."""


def _previous(con, sha256: str, target: str) -> list:
    return con.execute("SELECT load_id FROM loads WHERE sha256 = ? AND target = ? ORDER BY loaded_at",
                       [sha256, target]).fetchall()


def check_overlap_policy(on_overlap: str) -> str:
    """``on_overlap`` itself if it names a policy, else :class:`~tradepulse.errors.UnknownNameError`."""
    if on_overlap not in OVERLAP_POLICIES:
        raise UnknownNameError("on_overlap value", str(on_overlap), list(OVERLAP_POLICIES))
    return on_overlap


def _note(text) -> dict:
    try:
        out = json.loads(text) if text else {}
    except (TypeError, ValueError):
        out = {}
    return out if isinstance(out, dict) else {"note": out}


@dataclass
class _Load:
    """One load in progress, inside its transaction: where its rows are and what became of them."""

    con: object
    spec: Spec
    load_id: str
    store: str                   # quoted physical table of the load's rows (``flows`` → ``flow_rows``)
    slim: bool                   # a clean typed BACI CSV stored in ``baci_rows`` (see tradepulse.warehouse)
    aggregate: bool              # tariff lines cut to HS6 and summed (several lines per row)
    load_no: int | None = None   # the slim load's number
    n_mine: int = 0              # good rows stored so far
    n_bad: int = 0               # rows failing a check (first pass)
    n_dup: int = 0               # rows of duplicated keys (all copies)
    rej: list = field(default_factory=list)        # DuckDB's unreadable lines: (line, column, error, text)

    @property
    def target(self) -> str:
        return self.spec.target

    @property
    def keys(self) -> tuple[str, ...]:
        return KEYS[self.spec.target]

    @property
    def rejected(self) -> list[int]:
        """Physical lines holding no row: the unreadable ones and the empty ones the CSV reader skipped."""
        return [int(r[0]) for r in self.rej] + self.spec.skipped_lines()


def _drop_previous(con, target: str, sha256: str, file: str) -> int:
    """Delete the rows, quarantine entries and load records of earlier loads of the same input (same digest
    or same file name); return how many rows went."""
    old = [r[0] for r in con.execute("SELECT load_id FROM loads WHERE target = ? AND (sha256 = ? OR file = ?)",
                                     [target, sha256, file]).fetchall()]
    if not old:
        return 0
    n = con.execute(f"SELECT count(*) FROM {ident(target)} WHERE list_contains(?, load_id)", [old]).fetchone()[0]
    _drop_loads(con, target, old)
    for t in ("quarantine", "loads", "coverage"):
        con.execute(f"DELETE FROM {ident(t)} WHERE list_contains(?, load_id)", [old])
    return int(n)


def _insert_rows(ld: _Load) -> None:
    """Step 2: read, map, check and store the rows (slim BACI storage, summed tariff lines, or one
    ``INSERT … SELECT`` whose bad rows are tagged ``load_id#bad`` and deleted again)."""
    con, spec = ld.con, ld.spec
    if ld.slim:
        ld.load_no, ld.n_mine, ld.n_bad = _insert_slim(con, spec, ld.load_id)
        return
    sql = _inner_select(spec, with_rn=False, line_key=ld.aggregate)[0].replace("{rel}", spec.relation)
    names = [c for c in TARGETS[spec.target] if c not in ("load_id", "source")]
    outs = ", ".join(ident(c) for c in names)
    if ld.aggregate:
        con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_stage AS {sql}")
        sums = {"value_usd": "sum(value_usd)", "quantity": "sum(quantity)", "unit": "min(unit)",
                "hs_revision": "min(hs_revision)"}
        sel = ", ".join(sums.get(c, c) for c in names)
        grp = ", ".join(c for c in names if c not in sums)
        ld.n_dup = _stage_duplicate_lines(con)  # exact duplicate lines: quarantined, not summed
        ld.n_mine = con.execute(f"INSERT INTO {ld.store} ({outs}, source, load_id) SELECT {sel}, "
                                f"{lit(spec.source_name)}, {lit(ld.load_id)} FROM __tp_stage s ANTI JOIN "
                                f"__tp_duplines d ON s.__line IS NOT DISTINCT FROM d.__line "
                                f"WHERE s.__reason IS NULL GROUP BY {grp}").fetchone()[0]
        ld.n_bad = con.execute("SELECT count(*) FROM __tp_stage WHERE __reason IS NOT NULL").fetchone()[0]
        con.execute("DROP TABLE __tp_stage")
        return
    bad_id = ld.load_id + "#bad"
    n_all = con.execute(f"INSERT INTO {ld.store} ({outs}, source, load_id) SELECT {outs}, "
                        f"{lit(spec.source_name)}, CASE WHEN __reason IS NULL THEN {lit(ld.load_id)} "
                        f"ELSE {lit(bad_id)} END FROM ({sql})").fetchone()[0]
    ld.n_bad = con.execute(f"SELECT count(*) FROM {ld.store} WHERE load_id = ?", [bad_id]).fetchone()[0]
    ld.n_mine = n_all - ld.n_bad
    if ld.n_bad:
        con.execute(f"DELETE FROM {ld.store} WHERE load_id = ?", [bad_id])


def _remove_duplicates(ld: _Load) -> None:
    """Step 3: every row of a key that occurs more than once in this load is deleted (and later
    quarantined); the duplicated keys stay in ``__tp_dups``.  Not for summed tariff lines (one row per key)."""
    if ld.aggregate:
        return
    con, keys = ld.con, ld.keys
    # key columns that hold one value for the whole load (no source column, or a literal constant) cannot
    # tell rows apart: leave them out of the quick test (the exact check uses every key)
    varying = [k for k in keys if not _constant_field(ld.spec, k)]
    from tradepulse.warehouse import STORAGE
    # quick test: as many distinct keys as rows → no duplicates
    n_rows, n_keys = (_slim_distinct_keys(con, ld.load_no) if ld.slim
                      else _distinct_keys(con, STORAGE[ld.target], ld.load_id, varying))
    if n_rows == n_keys:
        return
    kh = "hash(" + ", ".join(varying or keys) + ")"
    mine = ident(ld.target) if ld.slim else ld.store  # slim rows are compared decoded, through the view
    con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_dups AS SELECT {', '.join(keys)}, count(*) AS n "
                f"FROM {mine} WHERE load_id = ? AND {kh} IN (SELECT h FROM (SELECT {kh} AS h, "
                f"count(*) AS n FROM {mine} WHERE load_id = ? GROUP BY h) WHERE n > 1) "
                f"GROUP BY ALL HAVING count(*) > 1", [ld.load_id, ld.load_id])
    ld.n_dup = int(con.execute("SELECT coalesce(sum(n), 0) FROM __tp_dups").fetchone()[0])
    if not ld.n_dup:
        return
    on = " AND ".join(f"d.{k} IS NOT DISTINCT FROM f.{k}" for k in keys)
    if ld.slim:
        _delete_located(con, ld.target, f"SELECT f.__store, f.__rid FROM {_located(ld.target)} f "
                                        f"JOIN __tp_dups d ON {on} WHERE f.load_id = {lit(ld.load_id)}")
    else:
        con.execute(f"DELETE FROM {ld.store} f USING __tp_dups d WHERE f.load_id = ? AND {on}", [ld.load_id])
    ld.n_mine -= ld.n_dup


def _overlap(ld: _Load) -> int:
    """Step 5's overlap set ``__tp_overlap`` and its size: on the slim numbers for a slim load among slim
    loads (:func:`_find_overlap_slim`), else through the decoding view (:func:`_find_overlap`)."""
    n = _find_overlap_slim(ld.con, ld.load_id, ld.load_no) if ld.slim else None
    return _find_overlap(ld.con, ld.target, ld.load_id) if n is None else n


def no_usable_rows(spec: Spec, n_ovl: int, hit: list, others: int, first_line: int, remedy: str) -> InputError:
    """The error when every valid row is already loaded: ``hit`` = (earlier load id, its file, rows) by rows
    descending; ``remedy`` completes "To let this file supersede the earlier rows, …"."""
    earlier = "; ".join(f"{n:,} by load {i} ({f or 'no load record'})" for i, f, n in hit[:3]) \
        + ("; …" if len(hit) > 3 else "")
    return InputError(f"no usable rows: the {n_ovl:,} valid row(s) are already in the warehouse "
                      f"(loaded {earlier}); nothing was loaded.  To let this file supersede the "
                      f"earlier rows, {remedy}" + (f"; {others:,} other row(s) were rejected" if others else ""),
                      file=spec.file, line=first_line, column="key")


def nothing_loaded(spec: Spec, problems: list[dict]) -> InputError:
    """The error when no row of the input is usable: its first quarantined problem (``problems``: quarantine
    rows as dicts with line, column_name, value, reason, by line), or that the input is empty."""
    first = problems[0] if problems else None
    return InputError("no usable rows" + (f"; first problem: {first['reason']} (value {first['value']!r})"
                                          if first else " (the input is empty)"),
                      file=spec.file, line=first["line"] if first else None,
                      column=first["column_name"] if first else None)


def _quarantine_overlap(ld: _Load) -> tuple[int, list[dict]]:
    """Step 5, policy ``quarantine``: this load's rows whose key an earlier load holds are deleted; their keys
    and the earlier load go to ``__tp_ovl_keys`` / ``__tp_ovl_loads`` for :func:`_overlap_lines`.  When no row
    would remain, :class:`InputError` says so (naming the first such line) before anything is written."""
    con, spec, keys, target = ld.con, ld.spec, ld.keys, ld.target
    n_ovl = _distinct_rids(con, "__tp_overlap", "new_rid")
    if n_ovl == ld.n_mine:  # nothing would load: say so without writing quarantine rows (rolled back)
        hit = con.execute("SELECT o.old_load_id, any_value(l.file), count(DISTINCT o.new_rid) FROM "
                          "__tp_overlap o LEFT JOIN loads l ON l.load_id = o.old_load_id GROUP BY 1 "
                          "ORDER BY 3 DESC, 1").fetchall()
        others = ld.n_bad + ld.n_dup + len(ld.rej)
        # no other problem: every line is good and overlapping, so the first data line is the first
        first_line = spec.line_offset + 1
        if others:
            con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_ovl_keys AS SELECT {', '.join(keys)}, "
                        f"NULL::VARCHAR AS old_load_id FROM {ident(target)} WHERE load_id = ?", [ld.load_id])
            first_line = _overlap_lines(con, spec, ld.load_id, ld.rejected, first_only=True)
        raise no_usable_rows(spec, n_ovl, hit, others, first_line,
                             "load it with --on-overlap replace (Python: on_overlap='replace')")
    fk = ", ".join("f." + k for k in keys)
    con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_ovl_keys AS SELECT {fk}, v.old_load_id FROM "
                f"{_located(target)} f JOIN (SELECT new_store, new_rid, min(old_load_id) AS old_load_id "
                f"FROM __tp_overlap GROUP BY 1, 2) v ON f.__store = v.new_store AND f.__rid = v.new_rid")
    con.execute("CREATE OR REPLACE TEMP TABLE __tp_ovl_loads AS SELECT o.old_load_id, any_value(l.file) "
                "AS file, 'already loaded by load ' || coalesce(o.old_load_id, 'NULL') || ' (' || "
                "coalesce(any_value(l.file), 'no load record') || ')' AS reason, count(*) AS n "
                "FROM __tp_ovl_keys o LEFT JOIN loads l ON l.load_id = o.old_load_id GROUP BY 1")
    _delete_located(con, target, "SELECT new_store AS __store, new_rid AS __rid FROM __tp_overlap")
    overlapping = [{"load_id": i, "file": f, "rows": int(n)} for i, f, n in con.execute(
        "SELECT old_load_id, file, n FROM __tp_ovl_loads ORDER BY 1").fetchall()]
    return int(n_ovl), overlapping


def _supersede_earlier(ld: _Load, note: dict) -> tuple[int, list[dict]]:
    """Step 5, policy ``replace``: the earlier rows holding this load's keys are deleted; each earlier load is
    recounted in ``loads`` and the supersession is noted both ways (``superseded`` / ``superseded_by``)."""
    from tradepulse.warehouse import STORAGE
    con, target = ld.con, ld.target
    sup = con.execute("SELECT old_load_id, count(*), coalesce(sum(old_value), 0) FROM __tp_overlap "
                      "GROUP BY 1 ORDER BY 1").fetchall()
    n_ovl = _distinct_rids(con, "__tp_overlap", "new_rid")
    _delete_located(con, target, "SELECT old_store AS __store, old_rid AS __rid FROM __tp_overlap")
    old = {r[0]: (r[1], r[2]) for r in con.execute(
        "SELECT load_id, file, note FROM loads WHERE list_contains(?, load_id)", [[r[0] for r in sup]]).fetchall()}
    value_col = VALUE[target]
    vsum_old = f"coalesce(sum({value_col}), 0)" if value_col else "0 * count(*)"  # one row either way
    overlapping = []
    for old_id, n, v in sup:
        file, old_note = old.get(old_id, (None, None))
        overlapping.append({"load_id": old_id, "file": file, "rows": int(n)})
        note.setdefault("superseded", {})[old_id] = {"file": file, "rows": int(n), "value_usd": float(v)}
        if old_id in old:
            old_meta = _note(old_note)
            old_meta.setdefault("superseded_by", {})[ld.load_id] = {"file": ld.spec.file, "rows": int(n)}
            # counted in storage (the ``flows`` view would decode every BACI row to find one load's)
            parts = [f"SELECT count(*) AS n, {vsum_old} AS v FROM {ident(STORAGE[target])} WHERE load_id = $1"]
            if target == "flows":
                parts.append("SELECT count(*), coalesce(sum(value_usd), 0) FROM baci_rows WHERE load_no IN "
                             "(SELECT load_no FROM baci_loads WHERE load_id = $1)")
            n_left, v_left = con.execute(f"SELECT sum(n), sum(v) FROM ({' UNION ALL '.join(parts)})",
                                         [old_id]).fetchone()
            con.execute("UPDATE loads SET rows_loaded = $2, value_usd_loaded = $3, note = $4 WHERE load_id = $1",
                        [old_id, int(n_left), float(v_left),
                         json.dumps(old_meta, ensure_ascii=False, default=str)])
            if target == "flows":
                from tradepulse.warehouse.datasets import refresh_load
                refresh_load(con, old_id)
    return int(n_ovl), overlapping


def _quarantine_rejected(ld: _Load) -> None:
    """Step 4: the rejected, duplicated and unreadable rows go to ``quarantine`` with their real line numbers,
    read in a second, line-numbered pass of the source (only when something was rejected)."""
    import numpy as np
    import pandas as pd

    con, spec, keys = ld.con, ld.spec, ld.keys
    rel2 = spec.relation_pass2 or spec.relation
    sql2 = _inner_select(spec, with_rn=True, line_key=ld.aggregate)[0].replace(
        "{rel}", f"(SELECT row_number() OVER () AS __rn, * FROM {rel2})")
    desc = " || ', ' || ".join(f"'{k}=' || coalesce(CAST(q.{k} AS VARCHAR), '')" for k in keys)
    parts = [f"SELECT __rn, __raw, __column, __value, __reason, 'rule' AS __kind FROM ({sql2}) "
             f"WHERE __reason IS NOT NULL"]
    if ld.n_dup and ld.aggregate:
        parts.append(_dup_lines_part(sql2))
    elif ld.n_dup:
        parts.append(f"SELECT q.__rn, q.__raw, 'key' AS __column, {desc} AS __value, "
                     f"'duplicate key (' || d.n || ' rows share it)' AS __reason, 'dup' AS __kind "
                     f"FROM ({sql2}) q JOIN __tp_dups d ON {_key_on('d', 'q', keys)} WHERE q.__reason IS NULL")
    qdf = con.execute(" UNION ALL ".join(parts)).df()
    n_rule = int((qdf["__kind"] == "rule").sum())
    if n_rule != ld.n_bad:  # both passes must agree on which rows are bad
        raise RuntimeError(f"internal error: first pass rejected {ld.n_bad} rows, second pass {n_rule}")
    qdf["line"] = _true_lines(qdf["__rn"].to_numpy("int64"), spec.line_offset + 1,
                              np.asarray(ld.rejected, dtype="int64"))
    rej = ld.rej
    if rej:
        qdf = pd.concat([qdf, pd.DataFrame({
            "line": [r[0] for r in rej], "__column": [r[1] for r in rej], "__value": None,
            "__reason": [f"unreadable line: {str(r[2]).splitlines()[0]}" for r in rej],
            "__raw": [str(r[3] or "").strip("\r\n") for r in rej]})], ignore_index=True)
    qdf = qdf.sort_values("line", kind="stable")
    out = pd.DataFrame({"load_id": ld.load_id, "file": spec.file, "line": qdf["line"].astype("int64"),
                        "column_name": qdf["__column"], "value": qdf["__value"],
                        "reason": qdf["__reason"], "raw": qdf["__raw"]})
    con.register("__tp_q_df", out)
    con.execute("INSERT INTO quarantine SELECT * FROM __tp_q_df")
    con.unregister("__tp_q_df")


def run_load(warehouse, spec: Spec, sha256: "str | Callable[[], str]", *, replace: bool = False,
             on_overlap: str = "quarantine", progress: Callable[[str], None] | None = None) -> LoadResult:
    """Run one load described by ``spec`` in a single transaction (see module docstring).

    ``sha256`` is the digest, or a callable giving it later (a file hashed in a background thread while
    the rows are read): then the "already loaded?" check runs after the insert, inside the transaction,
    and a repeated input is rolled back and reported as skipped.  ``on_overlap`` (``quarantine`` |
    ``replace``) says what happens to rows whose key another load already holds (step 5).
    """
    check_overlap_policy(on_overlap)
    step = progress or (lambda _msg: None)
    con = warehouse.raw
    target = spec.target
    deferred = callable(sha256)
    if not deferred:
        prev = _previous(con, sha256, target)
        if prev and not replace:
            return LoadResult(prev[-1][0], spec.file, 0, 0, 0.0, True, target, spec.fmt, sha256)

    from tradepulse.warehouse import STORAGE
    slim = spec.slim is not None and target == "flows"
    ld = _Load(con, spec, f"{_dt.datetime.now(_dt.timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}",
               store=ident(STORAGE[target]), slim=slim,
               aggregate=spec.product_truncate is not None and target in GOODS_TARGETS and not slim)
    load_id = ld.load_id
    con.execute("SET enable_progress_bar = false")
    # cap DuckDB's memory during the load (it spills to disk beyond): peak RSS stays well under 2 GB
    old_limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.execute(f"SET memory_limit = {lit(os.environ.get('TRADEPULSE_INGEST_MEMORY', '1GB'))}")
    _register_code_tables(con, spec)
    con.execute("BEGIN TRANSACTION")
    skipped_by = None
    try:
        replaced = 0
        if replace and not deferred:
            replaced = _drop_previous(con, target, sha256, spec.file)
        step("reading and validating")
        _insert_rows(ld)
        if deferred:  # the digest was computed meanwhile: now decide skip / replace
            sha256 = sha256()
            prev = _previous(con, sha256, target)
            if prev and not replace:
                skipped_by = prev[-1][0]
                raise _Skip()
            if replace:
                replaced = _drop_previous(con, target, sha256, spec.file)
        if spec.rejects:
            ld.rej = con.execute("SELECT line, min(column_name), min(error_message), min(csv_line) "
                                 "FROM __tp_rejects GROUP BY line ORDER BY line").fetchall()
            if spec.line_split is not None:  # a copy without the bad lines: back to the file's line numbers
                ld.rej = spec.line_split.remap(ld.rej)
            elif spec.fmt == "baci" and _structural_rejects(con):
                raise LineSplitNeeded()  # rolled back; ingest_file re-reads without the lines at fault
        step("checking duplicate keys")
        _remove_duplicates(ld)
        # keys that earlier loads already hold (skipped at the cost of one EXISTS when there are none)
        step("checking earlier loads")
        n_ovl, n_ovl_lines, overlapping, note = 0, 0, [], dict(spec.note)
        if _others_exist(con, target, load_id) and _overlap(ld):
            if on_overlap == "quarantine":  # the new rows go; each names the (first) earlier load holding its key
                n_ovl, overlapping = _quarantine_overlap(ld)
                step("locating rejected lines")
                n_ovl_lines = _overlap_lines(con, spec, load_id, ld.rejected)
                if n_ovl_lines != n_ovl and not ld.aggregate:  # aggregated loads: several lines per key
                    raise RuntimeError(f"internal error: {n_ovl} overlapping rows but {n_ovl_lines} lines")
            else:  # replace: the earlier rows go; their loads' counts are brought up to date
                n_ovl, overlapping = _supersede_earlier(ld, note)
        if ld.n_bad or ld.n_dup or ld.rej:  # quarantine with line numbers (second pass only when needed)
            step("locating rejected lines")
            _quarantine_rejected(ld)
        n_q = ld.n_bad + ld.n_dup + len(ld.rej) + n_ovl_lines
        step("committing")
        value_col = VALUE[target]
        vsum = f"coalesce(sum({value_col}), 0)" if value_col else "0"
        n_ok, v_ok = (con.execute(f"SELECT count(*), {vsum} FROM baci_rows WHERE load_no = ?", [ld.load_no])
                      if slim else
                      con.execute(f"SELECT count(*), {vsum} FROM {ld.store} WHERE load_id = ?", [load_id])
                      ).fetchone()
        problems = [dict(zip(("line", "column_name", "value", "reason"), r)) for r in con.execute(
            "SELECT line, column_name, value, reason FROM quarantine WHERE load_id = ? ORDER BY line LIMIT 10",
            [load_id]).fetchall()]
        if n_ok == 0:
            raise nothing_loaded(spec, problems)
        if target == "flows":   # what the load covers, and the dataset it belongs to (warehouse.datasets)
            from tradepulse.warehouse.datasets import record_load
            note["dataset"] = record_load(con, load_id, baci_load_no=ld.load_no if slim else None,
                                          dataset=note.get("dataset"))
        con.execute("INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, current_timestamp, ?)",
                    [load_id, spec.file, sha256, spec.fmt, target, int(n_ok), int(n_q), float(v_ok),
                     json.dumps(note, ensure_ascii=False, default=str)])
        con.execute("COMMIT")
    except _Skip:
        con.execute("ROLLBACK")
        return LoadResult(skipped_by, spec.file, 0, 0, 0.0, True, target, spec.fmt, sha256)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute(f"SET memory_limit = {lit(old_limit)}")
        for t in ("__tp_dups", "__tp_stage", "__tp_pairs", "__tp_overlap", "__tp_ovl_keys", "__tp_ovl_loads",
                  "__tp_rej_a", "__tp_nums", "__tp_slim_values", "__tp_duplines"):
            try:
                con.execute(f"DROP TABLE IF EXISTS {t}")
            except Exception:  # noqa: BLE001 - cleanup only
                pass
    return LoadResult(load_id, spec.file, int(n_ok), int(n_q), float(v_ok), False, target, spec.fmt, sha256,
                      int(replaced), problems, rows_overlapping=int(n_ovl), overlapping_loads=overlapping)
