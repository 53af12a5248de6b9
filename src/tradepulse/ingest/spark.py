"""Ingest on Spark: load a file into a tradepulse Parquet dataset (``tradepulse ingest --engine spark -w DIR``).

The checks are the DuckDB ingest's own: the validating SELECT of :mod:`tradepulse.ingest._sql` (built from the
same :class:`~tradepulse.ingest._spec.Spec` by the same readers) is translated to Spark SQL
(:mod:`tradepulse.ingest._spark_sql`), with the same code tables.  A load:

1. sha256 of the file; a digest already in the dataset's ``loads`` → skipped (nothing written).
2. The CSV is read as text lines with their physical line numbers (line = block's first line + position, no
   Python on the executors); empty lines are skipped as DuckDB skips them; a line that is not N well-formed
   fields is *unreadable* (BACI: the reasons of :func:`~tradepulse.ingest.readers.split_csv_lines`; the
   other formats: DuckDB's ``Expected Number of Columns`` message, :mod:`tradepulse.ingest._spark_read`); a typed BACI
   CSV's fields are converted as DuckDB's CSV reader converts them (NA/empty → NULL; an unconvertible field
   makes the line unreadable with DuckDB's message).
3. The translated SELECT gives each row its verdict (first failing check: column, reason); every row of a key
   occurring twice among the good rows is a duplicate — for customs tariff lines summed to HS6, identical
   lines are the duplicates and the others are summed into one row per key, as in DuckDB; province names are
   keyed on the driver by DuckDB's own rule (:func:`_province_lookup`).  A good row whose key an earlier
   load of the dataset holds is quarantined as ``already loaded by load <id> (<file>)``
   (``on_overlap="quarantine"``; for summed rows every line of the key).
4. ``replace=True`` (earlier loads of the same file go) and ``on_overlap="replace"`` (earlier rows holding a
   key of this load go): copy-on-write by ``(year, reporter)`` partition, see :mod:`tradepulse.ingest.
   _spark_replace` (manifest format 3: a location's ``exclude`` pairs).
5. Written under ``DIR/ingest/<load_id>/`` only: ``flows/year=…/reporter=…`` (the good rows), ``kept/…`` (rows
   of earlier loads rewritten by a replace), ``quarantine.parquet`` (rendered on the driver by DuckDB, so
   ``raw`` and ``value`` texts equal the DuckDB ingest's), ``loads.parquet`` and ``coverage.parquet`` (a replace
   rewrites the small tables whole there).  Then the manifest names them (``parts``) and is replaced
   atomically, last: a crash before leaves the previous dataset as it was (the unnamed directory is never
   read, and is removed when the load fails).

Modules: reading the CSV (:mod:`tradepulse.ingest._spark_read`), the SQL translation
(:mod:`tradepulse.ingest._spark_sql`), the small tables and the manifest (:mod:`tradepulse.ingest._spark_manifest`),
replacing rows (:mod:`tradepulse.ingest._spark_replace`), a dataset at a storage URL — ``file:///…``,
``s3a://…``, ``hdfs://…`` through Spark's Hadoop file system (:mod:`tradepulse.ingest._spark_store`).

Formats: ``baci``, ``comtrade``, ``customs`` and ``generic`` CSV files into ``flows`` (UTF-8).  Not on Spark yet
(one-line error): ``services`` and ``macro``, the ``firm_flows``/``services``/``macro`` targets, zip / Parquet /
Excel input, ``--years``, ``--refresh``.  A malformed CSV line is quarantined either way; for the sniffed
(non-BACI) formats a line whose quoting DuckDB's sniffer reads differently may get another reason.
"""

from __future__ import annotations

import datetime as _dt
import json
import uuid
from pathlib import Path
from typing import Callable

import duckdb

from tradepulse.errors import InputError, TradepulseError
from tradepulse.ingest._core import (LoadResult, _register_code_tables, check_overlap_policy, file_sha256,
                                     no_usable_rows, nothing_loaded)
from tradepulse.ingest import _spark_replace
from tradepulse.ingest._spark_manifest import _small, commit
from tradepulse.ingest._spark_replace import dropped_loads, null_safe_on, prefixed
from tradepulse.ingest._spark_store import Store
from tradepulse.ingest._spark_read import _source, _split, _sq
from tradepulse.ingest._spark_sql import to_spark
from tradepulse.ingest._spec import KEYS, TARGETS, Spec, ident, lit
from tradepulse.ingest._sql import _inner_select, _maps_provinces
from tradepulse.ingest.readers import FORMATS, spec_for_file, tmp_dir
from tradepulse.warehouse import LOADS, QUARANTINE
from tradepulse.warehouse.datasets import COVERAGE, load_dataset_name
from tradepulse.warehouse.parquet import MANIFEST, exclude_sql, locations, read_manifest

#: Formats the Spark ingest reads (CSV); the others answer "not on Spark yet".
SPARK_FORMATS = ("baci", "comtrade", "customs", "generic")
_SQL_TYPES = {"VARCHAR": "string", "SMALLINT": "smallint", "TINYINT": "tinyint", "INTEGER": "int",
              "BIGINT": "bigint", "DOUBLE": "double", "BOOLEAN": "boolean"}


def _not_yet(what: str, file: str) -> InputError:
    return InputError(f"{what} is not on Spark yet (--engine spark ingests {', '.join(SPARK_FORMATS)} CSV "
                      "files into flows); load it with the DuckDB engine", file=file)


def _session(master: str | None):
    from pyspark.sql import SparkSession

    from tradepulse.warehouse.backends import DEFAULT_MASTER, spark_session
    return SparkSession.getActiveSession() or spark_session(master or DEFAULT_MASTER)


def _open_dataset(store: Store, session) -> dict | None:
    """The dataset's manifest, or None when it is missing or empty (a new dataset)."""
    where = store.url or store.local
    state = store.state()
    if state == "file":
        raise TradepulseError(f"{where} is a file; --engine spark ingests into a Parquet dataset directory")
    if state == "missing":
        return None
    if state == "foreign":
        raise TradepulseError(f"{where} is not empty and holds no {MANIFEST}: not a tradepulse Parquet dataset")
    return read_manifest(store.url, session) if store.url else read_manifest(store.local)


# --------------------------------------------------------------------------- the load
def ingest_dataset(dataset: str | Path, path: str | Path, fmt: str, *, on_overlap: str = "quarantine",
                   replace: bool = False, master: str | None = None, session=None, name: str | None = None,
                   progress: Callable[[str], None] | None = None, **options) -> LoadResult:
    """Load the CSV ``path`` read as ``fmt`` into the Parquet dataset directory ``dataset`` through Spark
    (created when missing or empty); see the module docstring.  ``name``: the dataset name of this load (as
    ``--dataset``).  Options as for :func:`tradepulse.ingest.ingest_file`."""
    path = Path(path)
    check_overlap_policy(on_overlap)
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}", file=str(path))
    if fmt not in SPARK_FORMATS:
        raise _not_yet(f"format {fmt}", str(path))
    if not path.is_file():
        raise InputError("file not found", file=str(path))
    if path.suffix.lower() in (".zip", ".parquet", ".pq", ".xlsx", ".xlsm", ".xls", ".gz"):
        raise _not_yet(f"a {path.suffix} input", str(path))
    if options.get("encoding") not in (None, "utf-8", "utf8", "UTF-8"):
        raise _not_yet("a CSV not in UTF-8", str(path))
    store = Store(dataset, lambda: session or _session(master))
    try:
        return _ingest(store, path, fmt, on_overlap, replace, master, session, name, progress, options)
    finally:
        store.close()


def _ingest(store: Store, path: Path, fmt: str, on_overlap: str, replace: bool, master: str | None, session,
            name: str | None, progress, options: dict) -> LoadResult:
    root = store.local   # DuckDB's side: the dataset, or the local copy of a URL's small tables
    manifest = _open_dataset(store, session or (_session(master) if store.url else None))
    seen = store.manifest_bytes() if manifest is not None else None   # checked again at commit
    store.fetch_small(manifest)
    step = progress or (lambda _m: None)
    step("computing sha256")
    try:
        sha = file_sha256(path)
        st = path.stat()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc}", file=str(path)) from exc
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    try:
        loads_rel = _small(con, root, manifest, "loads", LOADS)
        prev = con.execute(f"SELECT load_id FROM {loads_rel} WHERE sha256 = ? AND target = 'flows' "
                           "ORDER BY loaded_at", [sha]).fetchall()
        if prev and not replace:
            return LoadResult(prev[-1][0], str(path.resolve()), 0, 0, 0.0, True, "flows", fmt, sha)
        step("opening the source")
        with tmp_dir() as tmp:
            spec = spec_for_file(con, path.resolve(), fmt, dict(options), Path(tmp))
        if spec.target != "flows":
            raise _not_yet(f"target {spec.target}", spec.file)
        dropped = dropped_loads(con, loads_rel, sha, spec.file) if replace else []
        spec.note["fingerprint"] = f"{st.st_size}:{st.st_mtime_ns}"
        spec.note["engine"] = "spark"
        _register_code_tables(con, spec)
        sess = session or _session(master)
        load_id = f"{_dt.datetime.now(_dt.timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        rel_dir = f"ingest/{load_id}"
        out = root / rel_dir
        try:
            result, parts, edits = _load(sess, con, store, manifest, spec, load_id, out, rel_dir, sha, name,
                                         options.get("delimiter") or ",", step, on_overlap, dropped)
            step("committing")
            commit(con, root, manifest, parts, result, rel_dir, seen, store=store, **edits)
        except BaseException:
            store.remove(rel_dir)   # never named by the manifest: remove what was written
            raise
        return result
    finally:
        con.close()


def _load(sess, con, store: Store, manifest: dict | None, spec: Spec, load_id: str, out: Path, rel_dir: str,
          sha: str, name: str | None, delimiter: str, step, on_overlap: str,
          dropped: list[str]) -> tuple[LoadResult, dict, dict]:
    """Validate, write the load's files under ``out``; return the result, the new parts (table → [(path,
    rows)]) and the changes to earlier locations (``commit``'s keyword arguments)."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    tag = uuid.uuid4().hex[:8]
    keys = list(KEYS["flows"])
    out.mkdir(parents=True, exist_ok=False)
    for kind in set(spec.countries.values()):   # the DuckDB ingest's code tables, as Spark views
        sess.createDataFrame(con.execute(f"SELECT * FROM __tp_codes_{kind}").df()) \
            .createOrReplaceTempView(f"__tp_codes_{kind}")
    step("reading and validating")
    staged = _source(sess, spec, str(Path(spec.read_path or spec.file)), delimiter, spec.slim is not None) \
        .persist(StorageLevel.MEMORY_AND_DISK)   # the file is parsed once
    src, unreadable = _split(staged, spec)
    src_view = f"tp_ingest_{tag}_src"
    src.createOrReplaceTempView(src_view)
    aggregate = spec.product_truncate is not None   # tariff lines summed to HS6 (one row per key)
    sql = _inner_select(spec, with_rn=True, line_key=aggregate)[0].replace("{rel}", src_view)
    if _maps_provinces(spec):
        sql = _province_lookup(sess, con, spec, sql, src_view)
    checked = sess.sql(to_spark(sql)).persist(StorageLevel.MEMORY_AND_DISK)
    held = [staged, checked]   # cached frames, released when the load ends
    try:
        return _write(sess, con, store, manifest, spec, load_id, out, rel_dir, sha, name, keys, src, checked,
                      unreadable, step, F, held, on_overlap, dropped)
    finally:
        for df in held:
            df.unpersist()
        sess.catalog.dropTempView(src_view)


def _province_lookup(sess, con, spec: Spec, sql: str, src_view: str) -> str:
    """Province mapping on Spark: the distinct province texts of the file are keyed on the driver by DuckDB
    with the DuckDB ingest's own rule (:func:`~tradepulse.reference.provinces.province_key_sql`, which uses
    DuckDB functions Spark lacks) and looked up in the province list there; Spark gets the small table (text,
    country, name) as ``__tp_prov`` and the SELECT joins on the text instead of the key."""
    from tradepulse.reference import provinces

    text = f"CAST(({spec.fields['province']}) AS VARCHAR)"
    on_key = f"__pv.key = {provinces.province_key_sql(text)}"
    if on_key not in sql:
        raise RuntimeError("internal error: the province join of the validating SELECT was not found")
    texts = [r[0] for r in sess.sql(to_spark(f"SELECT DISTINCT {text} AS t FROM {src_view} s")).collect()
             if r[0] is not None]
    con.execute("CREATE OR REPLACE TEMP TABLE __tp_prov_texts AS SELECT unnest(?::VARCHAR[]) AS t", [texts])
    keyed = con.execute(f"SELECT x.t AS key, p.country, p.name_en FROM __tp_prov_texts x JOIN __tp_prov p "
                        f"ON p.key = {provinces.province_key_sql('x.t')}").fetchall()
    sess.createDataFrame(keyed or [("", "", "")], "key string, country string, name_en string") \
        .where("key <> '' OR country <> ''").createOrReplaceTempView("__tp_prov")
    countries = [r[0] for r in con.execute("SELECT country FROM __tp_prov_countries").fetchall()]
    sess.createDataFrame([(c,) for c in countries] or [("",)], "country string") \
        .where("country <> ''").createOrReplaceTempView("__tp_prov_countries")
    return sql.replace(on_key, f"__pv.key = {text}")


def _desc(keys) -> str:
    """Spark SQL of the key description of a duplicate/overlapping row (as the DuckDB ingest writes it)."""
    return "concat(" + ", ', ', ".join(f"'{k}=', coalesce(CAST(`{k}` AS STRING), '')" for k in keys) + ")"


def _write(sess, con, store, manifest, spec, load_id, out, rel_dir, sha, name, keys, src, checked, unreadable,
           step, F, held: list, on_overlap: str, dropped: list[str]):
    from pyspark import StorageLevel
    from pyspark.sql import Window

    canon = [c for c in TARGETS["flows"] if c not in ("load_id", "source")]
    root = store.local
    good = checked.where("__reason IS NULL")
    step("checking duplicate keys")
    aggregate = spec.product_truncate is not None
    # tariff lines summed to HS6: identical lines are duplicates (no copy is summed); else duplicate keys
    counted = good.withColumn("__n", F.count(F.lit(1)).over(Window.partitionBy("__line" if aggregate else keys))) \
        .persist(StorageLevel.MEMORY_AND_DISK)
    held.append(counted)
    if aggregate:
        dups = counted.where("__n > 1").selectExpr("__rn", "'dup' AS __kind", "'line' AS __column",
                                                   "concat('duplicate line (', __n, ' identical lines)') AS __reason",
                                                   "CAST(NULL AS STRING) AS __desc")
    else:
        dups = counted.where("__n > 1").selectExpr("__rn", "'dup' AS __kind", "'key' AS __column",
                                                   "concat('duplicate key (', __n, ' rows share it)') AS __reason",
                                                   f"{_desc(keys)} AS __desc")
    clean = counted.where("__n = 1").drop("__n")
    lines = None
    if aggregate:   # the good lines, then one row per key (the DuckDB ingest's sums)
        lines = clean
        sums = {"value_usd": F.sum("value_usd"), "quantity": F.sum("quantity"), "unit": F.min("unit"),
                "hs_revision": F.min("hs_revision")}
        cols = [c for c in canon if c not in sums]
        clean = lines.groupBy(*cols).agg(*[e.alias(c) for c, e in sums.items()]) \
            .persist(StorageLevel.MEMORY_AND_DISK)
        held.append(clean)
    step("checking earlier loads")
    flows_spec = (manifest or {}).get("tables", {}).get("flows")
    ovl, plan, n_sup = None, None, 0
    if flows_spec and (flows_spec.get("rows", 0) or dropped):
        years = [r[0] for r in clean.select("year").distinct().collect()]
        old_all = _read_table(sess, store, flows_spec, with_loc=True)
        live = old_all.where(~F.col("load_id").isin(dropped)) if dropped else old_all
        if dropped or on_overlap == "replace":
            step("replacing earlier rows")
            plan = _spark_replace.plan(sess, old_all, locations(flows_spec), clean, keys, dropped,
                                       on_overlap == "replace", years, store, rel_dir,
                                       lambda df: _coverage_rows(sess, df), held)
        if on_overlap == "replace" and plan.superseded:   # this load's rows whose key was held
            nk = prefixed(live.where(F.col("year").isin(years)), keys, "__o_")
            n_sup = int(clean.join(nk, null_safe_on(clean, nk, keys, "__o_"), "left_semi").count())
    if flows_spec and flows_spec.get("rows", 0) and on_overlap == "quarantine":
        old = prefixed(live.where(F.col("year").isin(years)).groupBy(*keys).agg(F.min("load_id").alias("__old")),
                       keys, "__o_", "__old")
        files = con.execute(f"SELECT load_id, any_value(file) FROM {_small(con, root, manifest, 'loads', LOADS)} "
                            "GROUP BY 1").fetchall()
        names = sess.createDataFrame(files or [("", "")], "__old string, __file string")
        cond = null_safe_on(clean, old, keys, "__o_")
        hit = clean.join(old, cond, "left").drop(*[f"__o_{k}" for k in keys]) \
            .join(F.broadcast(names), "__old", "left")
        hit = hit.persist(StorageLevel.MEMORY_AND_DISK)
        held.append(hit)
        ovl_rows = hit.where("__old IS NOT NULL")
        if aggregate:   # every good line of an overlapping key is quarantined
            ok = prefixed(ovl_rows, keys, "__o_", "__old", "__file")
            ovl_src = lines.join(ok, null_safe_on(lines, ok, keys, "__o_")) \
                .drop(*[f"__o_{k}" for k in keys])
        else:
            ovl_src = ovl_rows
        ovl = ovl_src.selectExpr(
            "__rn", "'ovl' AS __kind", "'key' AS __column",
            "concat('already loaded by load ', coalesce(__old, 'NULL'), ' (', coalesce(__file, 'no load record'), "
            "')') AS __reason", f"{_desc(keys)} AS __desc", "__old", "__file")
        clean = hit.where("__old IS NULL").drop("__old", "__file")
    final = clean.selectExpr(*[f"CAST(`{c}` AS {_SQL_TYPES[TARGETS['flows'][c]]}) AS `{c}`" for c in canon],
                             f"{_sq(spec.source_name)} AS source", f"{_sq(load_id)} AS load_id") \
        .persist(StorageLevel.MEMORY_AND_DISK)
    held.append(final)
    # counts first: a load with nothing usable writes nothing
    n_bad = checked.where("__reason IS NOT NULL").count()
    n_dup = dups.count()
    n_unread = unreadable.count()
    n_ovl = ovl_rows.count() if ovl is not None else 0          # rows (summed rows when aggregated)
    n_ovl_lines = ovl.count() if ovl is not None and aggregate else n_ovl   # their lines
    n_ok = final.count()
    if n_ok == 0 and n_ovl:
        _no_usable_overlap(ovl_rows, ovl, spec, n_ovl, n_bad + n_dup + n_unread)
    step("locating rejected lines")
    q_rel = f"{rel_dir}/quarantine.parquet"
    n_q, problems = _quarantine(sess, con, store, rel_dir, spec, load_id, out, checked, dups, ovl, unreadable, src,
                                n_bad + n_dup + n_unread + n_ovl_lines)
    if n_ok == 0:
        raise nothing_loaded(spec, problems)
    step("writing the rows")
    flows_rel = f"{rel_dir}/flows"
    final.repartition("year", "reporter").write.partitionBy("year", "reporter") \
        .option("compression", "zstd").parquet(store.big(flows_rel))
    cov = _coverage(sess, final, name or spec.note.get("dataset"))
    n_ok_cov = int(sum(r["rows"] for r in cov))
    if n_ok_cov != n_ok:
        raise RuntimeError(f"internal error: {n_ok} good rows but {n_ok_cov} written")
    v_ok = float(sum(r["value_usd"] for r in cov))
    con.register("__tp_cov_df", _frame(cov))
    con.execute(f"COPY (SELECT {', '.join(f'CAST({ident(c)} AS {t}) AS {ident(c)}' for c, t in COVERAGE.items())} "
                f"FROM __tp_cov_df) TO {lit(str(out / 'coverage.parquet'))} (FORMAT PARQUET, COMPRESSION zstd)")
    con.unregister("__tp_cov_df")
    note = dict(spec.note)
    note["dataset"] = cov[0]["dataset"]
    reset: dict = {}
    if plan is not None and plan.changes:   # the small tables are rewritten whole (see _spark_replace)
        reset, more = _spark_replace.small_tables(
            con, lambda t, cols: _small(con, root, manifest, t, cols), plan, load_id, spec.file, out, rel_dir,
            _frame(cov))
        note.update(more)
    con.execute(f"COPY (SELECT ?::VARCHAR AS load_id, ?::VARCHAR AS file, ?::VARCHAR AS sha256, ?::VARCHAR AS format, "
                f"'flows' AS target, ?::BIGINT AS rows_loaded, ?::BIGINT AS rows_quarantined, "
                f"?::DOUBLE AS value_usd_loaded, CAST(now() AS TIMESTAMP) AS loaded_at, ?::VARCHAR AS note) TO "
                f"{lit(str(out / 'loads.parquet'))} (FORMAT PARQUET)",
                [load_id, spec.file, sha, spec.fmt, n_ok, n_q, v_ok, json.dumps(note, ensure_ascii=False, default=str)])
    overlapping = []
    if ovl is not None and n_ovl:
        overlapping = [{"load_id": r[0], "file": r[1], "rows": int(r[2])} for r in
                       ovl_rows.groupBy("__old", "__file").count().orderBy("__old").collect()]
    elif plan is not None and plan.superseded:
        n_ovl = n_sup
        overlapping = [{"load_id": i, "file": note["superseded"][i]["file"], "rows": n} for i, n, _v in
                       plan.superseded]
    result = LoadResult(load_id, spec.file, n_ok, n_q, v_ok, False, "flows", spec.fmt, sha,
                        plan.n_replaced if plan else 0, problems, rows_overlapping=n_ovl,
                        overlapping_loads=overlapping)
    parts = {"flows": [(flows_rel, n_ok)], "quarantine": [(q_rel, n_q)], "loads": [(f"{rel_dir}/loads.parquet", 1)],
             "coverage": [(f"{rel_dir}/coverage.parquet", len(cov))]}
    edits: dict = {}
    if plan is not None and plan.changes:
        if plan.kept:
            parts["flows"].append(plan.kept)
        for t, files in reset.items():   # these tables' earlier locations are replaced by the rewritten files
            files.extend(parts.pop(t, []) if t != "coverage" else [])
        parts.pop("coverage", None)   # coverage_all holds this load's coverage too
        # rows leaving the locations they were read from: the deleted ones and the kept ones (moved to kept/,
        # which commit counts as a new part)
        moved = plan.kept[1] if plan.kept else 0
        edits = {"reset": reset, "exclude": plan.exclude, "drop_locs": plan.drop_locs,
                 "deleted": plan.n_deleted + moved}
    return result, parts, edits


def _frame(recs: list[dict]):
    import pandas as pd
    return pd.DataFrame(recs, columns=list(COVERAGE))


def _read_table(sess, store: Store, spec: dict, with_loc: bool = False):
    """The rows of a manifest table (every location, less its ``exclude`` pairs) as a Spark DataFrame with the
    manifest's columns; ``with_loc``: also ``__loc``, the index of the row's location in :func:`locations`."""
    from pyspark.sql import functions as F

    from tradepulse.warehouse.spark import spark_schema

    df = None
    for i, part in enumerate(locations(spec)):
        loc = store.big(part["path"])
        reader = sess.read.schema(spark_schema(spec["columns"]))
        if spec["partition_by"]:
            reader = reader.option("basePath", loc)
        one = reader.parquet(loc)
        if exclude_sql(part):
            one = one.where(exclude_sql(part))
        one = one.select(*spec["columns"], *([F.lit(i).alias("__loc")] if with_loc else []))
        df = one if df is None else df.unionByName(one)
    return df


def _no_usable_overlap(ovl_rows, ovl, spec: Spec, n_ovl: int, others: int) -> None:
    """Every valid row is already in the dataset: the DuckDB ingest's error, naming the first such line
    (``ovl_rows``: the rows, summed when tariff lines are; ``ovl``: their lines)."""
    from pyspark.sql import functions as F

    hit = ovl_rows.groupBy("__old", "__file").agg(F.count(F.lit(1)).alias("n")).orderBy(F.desc("n"), "__old").collect()
    first_line = spec.line_offset + 1 if not others else int(ovl.agg(F.min("__rn")).collect()[0][0])
    raise no_usable_rows(spec, n_ovl, hit, others, first_line,
                         "load it with --on-overlap replace (Python: on_overlap='replace')")


def _quarantine(sess, con, store: Store, rel_dir: str, spec: Spec, load_id: str, out: Path, checked, dups, ovl,
                unreadable, src, n_expected: int) -> tuple[int, list[dict]]:
    """Write ``out``/quarantine.parquet: the rejected rows with their lines.  Spark stages the rows (line, kind,
    column, reason, key description, the source fields as read); DuckDB on the driver renders ``value`` and
    ``raw`` from the source fields with the DuckDB ingest's own casts, so the texts are equal."""
    from pyspark.sql import functions as F

    target = out / "quarantine.parquet"
    if n_expected == 0:   # nothing rejected: an empty table
        con.execute(f"COPY (SELECT {', '.join(f'CAST(NULL AS {t}) AS {ident(c)}' for c, t in QUARANTINE.items())} "
                    f"LIMIT 0) TO {lit(str(target))} (FORMAT PARQUET)")
        return 0, []
    stage = out / "_quarantine_stage"
    n = len(spec.columns)
    pos = [f"__s{i}" for i in range(n)]
    meta = ["__rn", "__kind", "__column", "__reason", "__desc"]
    rule = checked.where("__reason IS NOT NULL").selectExpr("__rn", "'rule' AS __kind", "__column", "__reason",
                                                            "CAST(NULL AS STRING) AS __desc")
    parts = [rule, dups.select(*meta)] + ([ovl.select(*meta)] if ovl is not None else [])
    rows = parts[0]
    for p in parts[1:]:
        rows = rows.unionByName(p)
    renamed = src.select("__rn", *[F.col(f"`{c.replace('`', '``')}`").alias(p) for c, p in zip(spec.columns, pos)])
    staged = rows.join(renamed, "__rn").withColumn("__text", F.lit(None).cast("string"))
    bad = unreadable.selectExpr("__line AS __rn", "'unread' AS __kind", "__column", "__reason",
                                "CAST(NULL AS STRING) AS __desc",
                                *[f"CAST(NULL AS {renamed.schema[p].dataType.simpleString()}) AS {p}" for p in pos],
                                "__text")
    staged.unionByName(bad).coalesce(1).write.parquet(store.big(f"{rel_dir}/_quarantine_stage"))
    store.download(f"{rel_dir}/_quarantine_stage")   # a URL: DuckDB reads a local copy
    # value of a failing check = the source text of its column (S(c) in _inner_select), rendered by DuckDB
    whens = " ".join(f"WHEN {lit(c)} THEN CAST(({e}) AS VARCHAR)" for c, e in spec.fields.items() if e is not None)
    concat = ", ".join(f"coalesce(CAST(s.{ident(c)} AS VARCHAR), '')" for c in spec.columns)
    inner = ", ".join([*meta, "__text"] + [f"{p} AS {ident(c)}" for p, c in zip(pos, spec.columns)])
    cols = ", ".join(f"CAST({e} AS {t}) AS {ident(c)}" for (c, t), e in zip(QUARANTINE.items(), [
        lit(load_id), lit(spec.file), "__rn", "__column",
        f"CASE __kind WHEN 'rule' THEN CASE __column {whens} END WHEN 'unread' THEN NULL ELSE __desc END",
        "__reason", f"CASE WHEN __kind = 'unread' THEN __text ELSE concat_ws(',', {concat}) END"]))
    con.execute(f"COPY (SELECT {cols} FROM (SELECT {inner} FROM read_parquet({lit(str(stage / '*.parquet'))})) s "
                f"ORDER BY line) TO {lit(str(target))} (FORMAT PARQUET, COMPRESSION zstd)")
    store.remove(f"{rel_dir}/_quarantine_stage")
    n_q = int(con.execute(f"SELECT count(*) FROM read_parquet({lit(str(target))})").fetchone()[0])
    if n_q != n_expected:
        raise RuntimeError(f"internal error: {n_expected} rejected rows but {n_q} quarantine lines")
    problems = [dict(zip(("line", "column_name", "value", "reason"), r)) for r in con.execute(
        f"SELECT line, column_name, value, reason FROM read_parquet({lit(str(target))}) ORDER BY line LIMIT 10"
    ).fetchall()]
    return n_q, problems


def _coverage_rows(sess, df) -> list[dict]:
    """Coverage rows (no dataset name) of a frame of flows: the DuckDB ingest's coverage SELECT, translated."""
    from tradepulse.warehouse.datasets import _coverage_select

    view = f"tp_ingest_{uuid.uuid4().hex[:8]}_flows"
    df.createOrReplaceTempView(view)
    try:
        rows = sess.sql(to_spark(_coverage_select(view))).collect()
    finally:
        sess.catalog.dropTempView(view)
    cols = [c for c in COVERAGE if c != "dataset"]
    return [{c: r[c] for c in cols} for r in rows]


def _coverage(sess, final, dataset: str | None) -> list[dict]:
    """Coverage rows of the load's good rows, named."""
    recs = _coverage_rows(sess, final)
    named = load_dataset_name(recs, dataset)
    return [{"dataset": named, **r} for r in sorted(recs, key=lambda r: (r["reporter"], r["year"]))]
