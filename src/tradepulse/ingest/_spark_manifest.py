"""The Spark ingest's small tables and manifest: the dataset's small tables read on the driver (DuckDB), and
the commit — the manifest naming the load's files, replaced atomically, last (see :mod:`tradepulse.ingest.spark`)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from pathlib import Path

from tradepulse.errors import TradepulseError
from tradepulse.ingest._core import LoadResult
from tradepulse.ingest._spec import ident, lit
from tradepulse.warehouse import LOADS, QUARANTINE, VIEW_VERSION
from tradepulse.warehouse.datasets import COVERAGE, dataset_summary
from tradepulse.warehouse.parquet import FORMAT, MANIFEST, locations, write_manifest


def _small(con, root: Path, manifest: dict | None, name: str, cols: dict[str, str]) -> str:
    """A DuckDB relation of a small table of the dataset (all its locations), or an empty one of ``cols``."""
    spec = (manifest or {}).get("tables", {}).get(name)
    if spec is None:
        return "(SELECT " + ", ".join(f"CAST(NULL AS {t}) AS {ident(c)}" for c, t in cols.items()) + " LIMIT 0)"
    files = ", ".join(lit(str(root / p["path"])) for p in locations(spec))
    return f"read_parquet([{files}], union_by_name = true)"


def _set_locations(spec: dict, locs: list[dict]) -> None:
    """Write ``locs`` (as :func:`locations` gives them) back into a manifest table: the first is ``path``, the
    others ``parts``; ``exclude`` only where it is not empty."""
    def one(loc: dict) -> dict:
        out = {"path": loc["path"], "partition_columns_in_files": loc["partition_columns_in_files"]}
        if loc.get("exclude"):
            out["exclude"] = loc["exclude"]
        return out
    for k in ("path", "partition_columns_in_files", "exclude", "parts"):
        spec.pop(k, None)
    spec.update(one(locs[0]))
    if locs[1:]:
        spec["parts"] = [one(loc) for loc in locs[1:]]


def commit(con, root: Path, manifest: dict | None, parts: dict, result: LoadResult, rel_dir: str,
           seen: bytes | None, *, store=None, reset: dict | None = None, exclude: dict | None = None,
           drop_locs: set | None = None, deleted: int = 0) -> None:
    """Name the load's files in the manifest and replace it atomically.  ``seen``: the manifest as this load
    read it; another load that committed meanwhile makes this one fail (one writer at a time).

    ``parts``: table → [(path, rows)] appended as new locations.  A replacing load (:mod:`tradepulse.ingest.
    _spark_replace`) also gives ``reset`` (table → [(path, rows)]: the table's locations become these),
    ``exclude`` (flows location index → [[year, reporter], …] no longer read there), ``drop_locs`` (flows
    locations removed) and ``deleted`` (flows rows no longer read where they were: the deleted ones and
    the ones rewritten into a new part, which ``parts`` adds back).  ``store``
    (:class:`~tradepulse.ingest._spark_store.Store`): a dataset at a storage URL, whose local copy is ``root``:
    the load's small files are uploaded, then the manifest is replaced there."""
    from tradepulse import __version__, schema

    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    if manifest is None:   # a new dataset: the other tables exist, empty (readers list every table)
        manifest = {"format": FORMAT, "format_version": 2, "tradepulse_version": __version__, "exported_at": now,
                    "source": f"tradepulse ingest --engine spark ({root})", "tables": {}}
        empty = {"services": schema.SERVICES, "macro": schema.MACRO, "firm_flows": schema.FIRM_FLOWS}
        for name, cols in empty.items():
            rel = f"{rel_dir}/{name}.parquet"
            con.execute(f"COPY (SELECT {', '.join(f'CAST(NULL AS {t}) AS {ident(c)}' for c, t in cols.items())} "
                        f"LIMIT 0) TO {lit(str(root / rel))} (FORMAT PARQUET)")
            manifest["tables"][name] = {"path": rel, "partition_by": [], "rows": 0, "columns": dict(cols)}
    manifest = json.loads(json.dumps(manifest))
    columns = {"flows": schema.FLOWS, "quarantine": QUARANTINE, "loads": LOADS, "coverage": COVERAGE}
    tables = manifest["tables"]
    if (exclude or drop_locs or deleted) and "flows" in tables:   # the replaced rows of earlier loads
        flows = tables["flows"]
        locs = locations(flows)
        for i, pairs in (exclude or {}).items():
            have = {tuple(e) for e in locs[i]["exclude"]}
            locs[i]["exclude"] = [list(e) for e in sorted(have | {tuple(e) for e in pairs})]
        locs = [loc for i, loc in enumerate(locs) if i not in (drop_locs or set())]
        new = parts.pop("flows", [])
        locs += [{"path": rel, "partition_columns_in_files": False, "exclude": []} for rel, _n in new]
        _set_locations(flows, locs)
        flows["rows"] = int(flows.get("rows", 0)) - int(deleted) + sum(int(n) for _r, n in new)
    for name, files in (reset or {}).items():   # small tables rewritten whole
        spec = tables.setdefault(name, {"partition_by": [], "columns": dict(columns[name])})
        spec["columns"] = dict(columns[name])
        _set_locations(spec, [{"path": rel, "partition_columns_in_files": True, "exclude": []} for rel, _n in files])
        spec["rows"] = sum(int(n) for _r, n in files)
    for name, files in parts.items():
        for rel, n in files:
            spec = tables.get(name)
            loc = {"path": rel, "partition_columns_in_files": name != "flows"}
            if spec is None:
                tables[name] = {**loc, "partition_by": ["year", "reporter"] if name == "flows" else [],
                                "rows": int(n), "columns": dict(columns[name])}
            else:
                spec.setdefault("parts", []).append(loc)
                spec["rows"] = int(spec.get("rows", 0)) + int(n)
    # format 3 once a location excludes rows (an older reader would count them): see warehouse.parquet
    manifest["format_version"] = 3 if any(loc["exclude"] for spec in tables.values() for loc in locations(spec)) \
        else 2
    manifest["updated_at"] = now
    files = lambda name: "[" + ", ".join(lit(str(root / p["path"])) for p in locations(manifest["tables"][name])) + "]"  # noqa: E731
    loads = con.execute(f"SELECT load_id, CAST(loaded_at AS VARCHAR) FROM read_parquet({files('loads')}, "
                        "union_by_name = true) ORDER BY load_id").fetchall()
    digest = hashlib.sha256("\n".join(f"{a}|{b}" for a, b in loads).encode()).hexdigest()[:16]
    manifest["version"] = {"loads": len(loads), "last_loaded_at": max((b for _a, b in loads if b), default=None),
                           "loads_sha256": digest, "view_version": VIEW_VERSION}
    cov = con.execute(f"SELECT * FROM read_parquet({files('coverage')}, union_by_name = true)").df()
    manifest["datasets"] = json.loads(dataset_summary(cov).to_json(orient="records"))
    remote = store is not None and store.url is not None
    if remote:
        store.upload(rel_dir)
        now_bytes = store.manifest_bytes()
    else:
        now_bytes = (root / MANIFEST).read_bytes() if (root / MANIFEST).exists() else None
    if now_bytes != seen:
        raise TradepulseError(f"another load changed the dataset {store.url if remote else root} while this one "
                              "ran; nothing of this load was kept: run it again")
    if remote:
        store.write_manifest(manifest)
    else:
        write_manifest(root, manifest)
