"""Where a Spark load writes: a local dataset directory, or a storage URL (``file:///…``, ``s3a://…``,
``hdfs://…``) reached through Spark's own (Hadoop) file system, so the URL needs only what Spark needs for it
(the ``hadoop-aws`` package and credentials for ``s3a://``, the cluster's configuration for ``hdfs://``).

For a URL the small tables (loads, coverage, quarantine) are copied to a local working directory, read and
written there by DuckDB on the driver as for a local dataset, and the new load's small files are uploaded
before the manifest is replaced.  The manifest is written to a temporary name and renamed over the old one
(``FileContext.rename`` with ``OVERWRITE``: atomic on HDFS and local file systems; on S3 the new object
appears whole, as a single PUT).  Spark reads and writes the big tables at the URL itself.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from tradepulse.errors import TradepulseError
from tradepulse.warehouse.parquet import MANIFEST, as_url, is_url, locations


class Store:
    """A dataset's location: ``local`` = the directory DuckDB reads and writes (the dataset itself, or a local
    working copy of its small tables for a URL); :meth:`big` = where Spark reads and writes a relative path."""

    def __init__(self, dataset, session_fn):
        self.url = as_url(dataset).rstrip("/") if is_url(dataset) else None
        self._session_fn = session_fn
        self._tmp = None
        if self.url is None:
            self.local = Path(dataset)
        else:
            self._tmp = tempfile.mkdtemp(prefix="tradepulse-spark-ingest-")
            self.local = Path(self._tmp)

    # -- Hadoop file system (URL only)
    def _fs(self):
        sess = self._session_fn()
        jvm = sess._jvm
        conf = sess._jsc.hadoopConfiguration()
        path = jvm.org.apache.hadoop.fs.Path(self.url)
        return jvm, conf, path.getFileSystem(conf)

    def _hpath(self, rel: str = ""):
        jvm, _c, _f = self._fs()
        return jvm.org.apache.hadoop.fs.Path(f"{self.url}/{rel}" if rel else self.url)

    def big(self, rel: str) -> str:
        """The location Spark reads or writes for a path relative to the dataset."""
        return f"{self.url}/{rel}" if self.url else str(self.local / rel)

    def state(self) -> str:
        """``missing`` (or empty), ``file``, ``foreign`` (not empty, no manifest) or ``dataset``."""
        if self.url is None:
            root = self.local
            if root.is_file():
                return "file"
            if not root.exists() or not any(root.iterdir()):
                return "missing"
            return "dataset" if (root / MANIFEST).is_file() else "foreign"
        try:
            _j, _c, fs = self._fs()
            root = self._hpath()
            if not fs.exists(root):
                return "missing"
            if fs.isFile(root):
                return "file"
            if not fs.listStatus(root):
                return "missing"
            return "dataset" if fs.exists(self._hpath(MANIFEST)) else "foreign"
        except Exception as exc:   # noqa: BLE001 - py4j: an unknown scheme, no credentials, …
            raise TradepulseError(f"cannot reach {self.url} through Spark's file system: "
                                  f"{_first_line(exc)}") from None

    def manifest_bytes(self) -> bytes | None:
        if self.url is None:
            p = self.local / MANIFEST
            return p.read_bytes() if p.exists() else None
        _j, _c, fs = self._fs()
        p = self._hpath(MANIFEST)
        if not fs.exists(p):
            return None
        stream = fs.open(p)
        try:
            out = bytearray()
            buf = self._session_fn()._jvm.org.apache.commons.io.IOUtils.toByteArray(stream)
            out.extend(bytes(buf))
            return bytes(out)
        finally:
            stream.close()

    def fetch_small(self, manifest: dict | None) -> None:
        """URL: copy the manifest and the files of the small tables a load reads to the local directory."""
        if self.url is None or manifest is None:
            return
        (self.local / MANIFEST).write_bytes(self.manifest_bytes() or b"")
        _j, _c, fs = self._fs()
        for name in ("loads", "coverage", "quarantine"):
            spec = manifest.get("tables", {}).get(name)
            for part in locations(spec) if spec else []:
                self.download(part["path"])

    def download(self, rel: str) -> Path:
        """URL: copy ``rel`` (a file or a directory) to the local directory; return the local path."""
        dest = self.local / rel
        if self.url is not None:
            _j, _c, fs = self._fs()
            dest.parent.mkdir(parents=True, exist_ok=True)
            fs.copyToLocalFile(False, self._hpath(rel), self._local_hpath(dest), True)
        return dest

    def _local_hpath(self, p: Path):
        jvm, _c, _f = self._fs()
        return jvm.org.apache.hadoop.fs.Path(p.resolve().as_uri())

    def upload(self, rel_dir: str) -> None:
        """URL: copy the files DuckDB wrote under the local ``rel_dir`` (not Spark's directories) to the URL."""
        if self.url is None:
            return
        _j, _c, fs = self._fs()
        for f in sorted((self.local / rel_dir).glob("*.parquet")):
            if f.is_file():
                fs.copyFromLocalFile(False, True, self._local_hpath(f), self._hpath(f"{rel_dir}/{f.name}"))

    def remove(self, rel_dir: str) -> None:
        """Remove a load's directory (a failed load), wherever it is."""
        shutil.rmtree(self.local / rel_dir, ignore_errors=True)
        if self.url is not None:
            try:
                _j, _c, fs = self._fs()
                fs.delete(self._hpath(rel_dir), True)
            except Exception:   # noqa: BLE001 - cleanup only: an unnamed directory is never read
                pass

    def write_manifest(self, manifest: dict) -> None:
        """Replace the manifest atomically (see the module docstring)."""
        import json
        import uuid

        from tradepulse.warehouse.parquet import write_manifest
        if self.url is None:
            write_manifest(self.local, manifest)
            return
        jvm, conf, fs = self._fs()
        tmp = self._hpath(f".{MANIFEST}.{uuid.uuid4().hex[:8]}.tmp")
        out = fs.create(tmp, True)
        try:
            out.write(bytearray(json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8")))
            out.hsync()
        finally:
            out.close()
        ctx = jvm.org.apache.hadoop.fs.FileContext.getFileContext(self._hpath().toUri(), conf)
        gw = self._session_fn().sparkContext._gateway
        opts = gw.new_array(jvm.org.apache.hadoop.fs.Options.Rename, 1)
        opts[0] = jvm.org.apache.hadoop.fs.Options.Rename.OVERWRITE
        ctx.rename(tmp, self._hpath(MANIFEST), opts)

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
