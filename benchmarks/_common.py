"""Helpers for benchmark scripts: peak RSS, timing, and rewriting one section of docs/benchmarks.md."""

from __future__ import annotations

import datetime as _dt
import inspect
import platform
import re
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"


@contextmanager
def timed():
    """``with timed() as t: ...`` then ``t()`` gives elapsed seconds."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def own_peak_mb() -> float:
    """This process's own peak RSS (MB): ``VmHWM`` of /proc/self/status.  On Linux ``ru_maxrss`` keeps, across
    ``exec``, the resident size of the forked copy of the parent, so a child of a large parent looks as large;
    ``ru_maxrss`` is only the fallback where /proc is missing."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


#: :func:`own_peak_mb`'s source, to prepend to a child's ``python -c`` code (which cannot import this module)
PEAK_CODE = "\n" + inspect.getsource(own_peak_mb) + "\n"


def machine() -> str:
    import os
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def run_child(cmd: list[str], *, cwd: str | Path | None = None, timeout: float | None = None) -> tuple[dict, float]:
    """Run one contender in its own process (own interpreter, own peak RSS); return the JSON object it prints
    on its last stdout line and the process's wall seconds.  A failing child raises with its stderr tail."""
    import json
    import subprocess

    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=timeout, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} {' '.join(map(str, cmd[1:3]))} … failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), wall


def write_section(name: str, markdown: str) -> None:
    """Replace (or append) the section of docs/benchmarks.md between markers for ``name``."""
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = f"{begin}\n## {name}\n_Run {stamp} on {machine()}._\n\n{markdown.strip()}\n{end}"
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)
