"""The py-ecomplexity peer: its own venv under benchmarks/complexity/_work/ and a runner.

``peer_python()`` returns the venv's interpreter, creating the venv (PyPI ``ecomplexity==0.5.3`` with
pandas/NumPy of its time) when missing; ``None`` when it cannot be created (offline).  Run as a script
inside that venv (``python peer.py IN.csv OUT.csv [--proximity | --asymmetric | --continuous]``) it computes py-ecomplexity's output
for a CSV with columns year, exporter, product, export_value and writes CSV (float repr round-trips).
Tradepulse never imports ecomplexity; it is a benchmark/test peer only.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

WORK = Path(__file__).resolve().parent / "_work"
VENV = WORK / "peer-venv"
REQUIREMENTS = ["ecomplexity==0.5.3", "pandas>=2.2,<2.3", "numpy>=1.26,<2.3", "scikit-learn>=1.3,<1.7"]


def peer_python(create: bool = True) -> Path | None:
    """Interpreter of the peer venv (created on first use); None if it cannot be built."""
    py = VENV / "bin" / "python"
    marker = VENV / ".ready"
    if marker.exists() and py.exists():
        return py
    if not create:
        return None
    import fcntl

    try:
        WORK.mkdir(parents=True, exist_ok=True)
        with open(WORK / "peer-venv.lock", "w") as lock:   # parallel test workers build it once
            fcntl.flock(lock, fcntl.LOCK_EX)
            if marker.exists() and py.exists():
                return py
            if not py.exists():
                venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
            subprocess.run([str(py), "-m", "pip", "install", "--quiet", *REQUIREMENTS], check=True,
                           capture_output=True, timeout=900)
            marker.write_text("\n".join(REQUIREMENTS) + "\n")
            return py
    except (OSError, subprocess.SubprocessError):
        return None


def _run(inp: str, out: str, mode: str) -> None:   # executed inside the peer venv
    import json
    import time
    import warnings

    import pandas as pd

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))   # the repository: only the stdlib helper
    from benchmarks._common import own_peak_mb

    warnings.simplefilter("ignore")
    df = pd.read_csv(inp, dtype={"exporter": str, "product": str})
    start = time.perf_counter()
    cols = {"time": "year", "loc": "exporter", "prod": "product", "val": "export_value"}
    if mode == "--proximity":
        from ecomplexity import proximity
        res = proximity(df, cols)
    else:
        from ecomplexity import ecomplexity
        res = ecomplexity(df, cols, check_logsupermodularity=False, verbose=False,
                          asymmetric=(mode == "--asymmetric"), continuous=(mode == "--continuous"))
    seconds = time.perf_counter() - start
    if out != "-":
        res.to_csv(out, index=False)
    print(json.dumps({"seconds": seconds, "rows": len(res),
                      "peak_rss_mb": own_peak_mb()}))


if __name__ == "__main__":
    _run(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "")
