"""Static files served from memory (``/static``): the dashboard's own CSS / JS, the vendored Vega, Swagger UI
and the Vazirmatn font (about 3.5 MB in all), read once at start-up.

Starlette's ``StaticFiles`` opens, stats and reads each file through the thread pool; while worker threads
compute (and hold the GIL in pandas), every such hop waits, so a 1 KB script took seconds under load
(benchmarks/web/stress.py).  Answering from memory keeps static files on the event loop alone.
"""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path

#: Browsers may keep a file this long (seconds); the ETag lets them revalidate cheaply afterwards.
MAX_AGE = 3600


class MemoryStatic:
    """A pure ASGI app serving every file under ``directory`` from memory (GET / HEAD; 404 otherwise)."""

    def __init__(self, directory: str | Path):
        root = Path(directory)
        self.files: dict[str, tuple[bytes, list[tuple[bytes, bytes]]]] = {}
        for p in sorted(root.rglob("*")):
            if p.is_file():
                body = p.read_bytes()
                kind = mimetypes.guess_type(p.name)[0] or "application/octet-stream"
                if kind.startswith("text/") or kind in ("application/javascript", "text/javascript"):
                    kind += "; charset=utf-8"
                etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
                self.files["/" + p.relative_to(root).as_posix()] = (body, [
                    (b"content-type", kind.encode()), (b"content-length", str(len(body)).encode()),
                    (b"etag", etag.encode()), (b"cache-control", f"public, max-age={MAX_AGE}".encode())])

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        rel = path[len(root):] if root and path.startswith(root) else path
        hit = self.files.get(rel) if scope.get("method") in ("GET", "HEAD") else None
        if hit is None:
            await send({"type": "http.response.start", "status": 404,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
            await send({"type": "http.response.body", "body": b"not found"})
            return
        body, headers = hit
        etag = dict(headers)[b"etag"]
        if dict(scope.get("headers", ())).get(b"if-none-match") == etag:
            await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", etag)]})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
