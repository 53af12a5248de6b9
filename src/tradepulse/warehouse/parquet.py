"""A warehouse as a partitioned Parquet dataset: the layout Spark (or any Parquet reader) reads.

``export_dataset(warehouse, DIR)`` writes (``tradepulse export --to parquet-dataset DIR``)::

    DIR/manifest.json                      what is here: format, warehouse version, tables, datasets
    DIR/flows/year=2021/reporter=ZAF/…     the decoded ``flows`` view, hive-partitioned by year and reporter
    DIR/firm_flows/year=2021/…             firm-level rows, partitioned by year
    DIR/coverage.parquet                   one file per small table: coverage, loads, quarantine, macro,
    DIR/loads.parquet …                    services and any other table of the warehouse (e.g. summaries)

``flows`` is written decoded (the 13 canonical columns), not as its slim BACI storage: a reader needs no
join to decode it, and Parquet's dictionary encoding keeps the repeated ISO3 and HS codes small.  Partition
columns are also kept inside the files (DuckDB's ``WRITE_PARTITION_COLUMNS``), so every reader sees the
stored types (``year`` SMALLINT, not an integer guessed from a directory name).  ``coverage`` is written
complete (loads whose coverage was not recorded are described at export), so readers never recount it.

The manifest is written last, so a directory with a manifest is a finished export.  Its ``version`` names
the warehouse state exported (the loads: count, last load time, a hash of their ids); readers key caches on it.

Format 2 (written by ``tradepulse ingest --engine spark``, :mod:`tradepulse.ingest.spark`): a table may have
``parts`` — more locations of its rows, one per Spark load (``ingest/<load_id>/flows/year=…/reporter=…``,
``ingest/<load_id>/quarantine.parquet``, …); a location written by Spark keeps its partition columns in the
directory names only (``partition_columns_in_files: false``).  Readers take the union of :func:`locations`.
Files not named by the manifest (a load that crashed before its manifest was renamed in) are never read.

Format 3 (a Spark load that replaced rows, ``--replace`` / ``--on-overlap replace``): a location may have
``exclude`` — the ``[year, reporter]`` pairs whose rows in that location are no longer part of the table
(copy-on-write: the surviving rows of those pairs were rewritten into a new location of the replacing load).
Readers drop them with :func:`exclude_sql` (a filter on partition columns, so Spark prunes those directories).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
import shutil
from pathlib import Path

import duckdb

from tradepulse.errors import TradepulseError
from tradepulse.warehouse import VIEW_VERSION, Warehouse
from tradepulse.warehouse.summaries import is_summary_table

FORMAT = "tradepulse-parquet-dataset"
#: The newest format this tradepulse reads; an export writes format 1, a Spark ingest format 2 (``parts``),
#: or 3 once a location has ``exclude`` (an older reader would count the excluded rows: it refuses format 3).
FORMAT_VERSION = 3
MANIFEST = "manifest.json"
#: Tables written hive-partitioned, by these columns (when they hold no NULL); every other table is one file.
PARTITIONS: dict[str, tuple[str, ...]] = {"flows": ("year", "reporter"), "firm_flows": ("year",)}
#: Storage tables of ``flows`` (exported through the decoded view) and internal views: never exported.
_INTERNAL = {"flow_rows", "baci_rows", "baci_loads", "baci_countries", "flows_located"}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def warehouse_version(con) -> dict:
    """The warehouse state: number of loads, last load time and a short hash of the load ids."""
    rows = con.execute("SELECT load_id, CAST(loaded_at AS VARCHAR) FROM loads ORDER BY load_id").fetchall()
    digest = hashlib.sha256("\n".join(f"{a}|{b}" for a, b in rows).encode()).hexdigest()[:16]
    return {"loads": len(rows), "last_loaded_at": max((b for _a, b in rows if b), default=None),
            "loads_sha256": digest, "view_version": VIEW_VERSION}


def export_dataset(warehouse: Warehouse, out: str | Path, *, overwrite: bool = False) -> dict:
    """Write every table of ``warehouse`` under ``out`` as described in the module docstring; return the
    manifest.  ``out`` must be missing or empty, or (``overwrite=True``) an earlier export (it has a manifest)."""
    from tradepulse import __version__

    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise TradepulseError(f"{out} is not empty; pass --overwrite to replace an earlier export")
        if not (out / MANIFEST).exists():
            raise TradepulseError(f"{out} is not empty and holds no {MANIFEST}: not replacing a directory "
                                  "that is not a tradepulse export")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    con = warehouse.raw.cursor()   # its own cursor: the warehouse's connection is left as it was
    try:
        present = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND "
            "table_catalog = current_database() ORDER BY table_name").fetchall()]
        names = ["flows"] + [n for n in present if n not in _INTERNAL and n not in ("flows", "coverage")
                             and not is_summary_table(n)]     # dashboard summaries stay with the DuckDB file
        tables: dict[str, dict] = {}
        for name in names:
            try:
                tables[name] = _write_table(con, name, out)
            except duckdb.Error as exc:   # disk full, permissions: one line, not a traceback
                raise TradepulseError(f"exporting {name} to {out} failed: {str(exc).splitlines()[0]}") from None
        cov = warehouse.coverage()                     # complete: loads without recorded coverage included
        cov.to_parquet(out / "coverage.parquet", index=False)
        tables["coverage"] = {"path": "coverage.parquet", "partition_by": [], "rows": len(cov),
                              "columns": {c: str(t) for c, t in cov.dtypes.items()}}
        manifest = {
            "format": FORMAT, "format_version": 1, "tradepulse_version": __version__,
            "exported_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "source": str(warehouse.path), "version": warehouse_version(con),
            "tables": tables,
            "datasets": json.loads(warehouse.datasets().to_json(orient="records")),
        }
    finally:
        con.close()
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    return manifest


def _write_table(con, name: str, out: Path) -> dict:
    """COPY one table (hive-partitioned when :data:`PARTITIONS` says so and it has rows) under ``out``."""
    cols = con.execute(f"DESCRIBE {_q(name)}").fetchall()
    columns = {c[0]: c[1] for c in cols}
    n = int(con.execute(f"SELECT count(*) FROM {_q(name)}").fetchone()[0])
    keys = [k for k in PARTITIONS.get(name, ()) if k in columns]
    if keys and n:
        nulls = con.execute("SELECT " + ", ".join(f"count(*) FILTER (WHERE {_q(k)} IS NULL)" for k in keys)
                            + f" FROM {_q(name)}").fetchone()
        keys = [k for k, z in zip(keys, nulls) if not z]   # a NULL would become a 'NULL' directory name
    if keys and n:
        if keys[0] == "year":   # one year at a time: DuckDB buffers one open file per partition it writes
            years = [r[0] for r in con.execute(f"SELECT DISTINCT year FROM {_q(name)} ORDER BY 1").fetchall()]
            for y in years:
                target = out / name / f"year={int(y)}"
                target.mkdir(parents=True, exist_ok=True)
                rest = f"PARTITION_BY ({', '.join(_q(k) for k in keys[1:])}), " if keys[1:] else ""
                con.execute(f"COPY (SELECT * FROM {_q(name)} WHERE year = {int(y)}) TO "
                            f"{_lit(target if rest else target / 'data_0.parquet')} (FORMAT PARQUET, {rest}"
                            + ("WRITE_PARTITION_COLUMNS true, " if rest else "") + "COMPRESSION zstd)")
        else:
            con.execute(f"COPY (SELECT * FROM {_q(name)}) TO {_lit(out / name)} (FORMAT PARQUET, "
                        f"PARTITION_BY ({', '.join(_q(k) for k in keys)}), WRITE_PARTITION_COLUMNS true, "
                        "COMPRESSION zstd)")
        return {"path": name, "partition_by": keys, "rows": n, "columns": columns}
    con.execute(f"COPY (SELECT * FROM {_q(name)}) TO {_lit(out / (name + '.parquet'))} "
                "(FORMAT PARQUET, COMPRESSION zstd)")
    return {"path": name + ".parquet", "partition_by": [], "rows": n, "columns": columns}


#: A URL whose "//" a ``pathlib.Path`` folded into "/" (``s3a:/bucket/x``: a CLI path option).
_FOLDED = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/(?!/)")


def is_url(path: str | Path) -> bool:
    """True for a storage URL (``s3a://…``, ``hdfs://…``, ``file:/…``) rather than a local path."""
    return "://" in str(path) or str(path).startswith("file:") or bool(_FOLDED.match(str(path)))


def as_url(path: str | Path) -> str:
    """A storage URL as text, with the "//" a ``Path`` folded restored (``s3a:/b/x`` → ``s3a://b/x``;
    ``file:/x`` is already a valid URL and stays)."""
    text = str(path)
    if "://" not in text and _FOLDED.match(text) and not text.startswith("file:"):
        text = text.replace(":/", "://", 1)
    return text


def read_manifest(root: str | Path, session=None) -> dict:
    """The manifest of an exported dataset; a one-line error when ``root`` is not one.

    A local directory is read directly; a storage URL through Spark (``session``), which knows its scheme.
    """
    text = None
    if not is_url(root):
        p = Path(root)
        if p.is_file():
            raise TradepulseError(f"{p} is a file; --engine spark reads a Parquet dataset directory written by "
                                  "`tradepulse export --to parquet-dataset DIR`")
        if not (p / MANIFEST).is_file():
            raise TradepulseError(f"no {MANIFEST} in {p}: --engine spark reads a Parquet dataset written by "
                                  "`tradepulse export --to parquet-dataset DIR`")
        text = (p / MANIFEST).read_text(encoding="utf-8")
    else:
        if session is None:
            raise TradepulseError(f"reading {root} needs a Spark session")
        try:
            rows = session.read.text(f"{str(root).rstrip('/')}/{MANIFEST}", wholetext=True).collect()
        except Exception as exc:   # noqa: BLE001  (Spark's AnalysisException: path does not exist)
            raise TradepulseError(f"no {MANIFEST} at {root}: {str(exc).splitlines()[0]}") from None
        text = rows[0][0] if rows else ""
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TradepulseError(f"{root}/{MANIFEST} is not valid JSON ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise TradepulseError(f"{root}/{MANIFEST} is not a tradepulse Parquet dataset")
    if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
        raise TradepulseError(f"{root} was written by a newer tradepulse (format {manifest['format_version']}); "
                              "upgrade tradepulse to read it")
    return manifest


def locations(spec: dict) -> list[dict]:
    """Where a manifest table's rows are: its ``path`` and its ``parts`` (format 2), each as
    ``{"path": relative path, "partition_columns_in_files": bool, "exclude": [[year, reporter], …]}``
    (``exclude``: format 3, empty when absent)."""
    def one(p: dict) -> dict:
        return {"path": p["path"], "partition_columns_in_files": p.get("partition_columns_in_files", True),
                "exclude": [list(e) for e in p.get("exclude", [])]}
    return [one(spec)] + [one(p) for p in spec.get("parts", [])]


#: The columns an ``exclude`` entry names (the partition columns of ``flows``).
EXCLUDE_COLUMNS = ("year", "reporter")


def exclude_sql(part: dict) -> str | None:
    """SQL (DuckDB and Spark alike) keeping the rows of a location outside its ``exclude`` pairs, or None."""
    if not part.get("exclude"):
        return None
    key = "concat_ws('|', " + ", ".join(f"coalesce(CAST({c} AS STRING), '')" for c in EXCLUDE_COLUMNS) + ")"
    vals = sorted({"|".join("" if v is None else str(v) for v in e) for e in part["exclude"]})
    return f"{key} NOT IN ({', '.join(_lit(v) for v in vals)})"


def write_manifest(root: str | Path, manifest: dict) -> None:
    """Replace ``root``/manifest.json atomically: written to a temporary file, flushed, then renamed over the
    old one (a crash leaves the old manifest, so readers see the previous dataset)."""
    import os

    root = Path(root)
    tmp = root / f".{MANIFEST}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(manifest, indent=1, ensure_ascii=False))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / MANIFEST)
