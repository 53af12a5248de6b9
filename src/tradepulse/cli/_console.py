"""The CLI's consoles and its one-line error handling, without Typer (so the fast ``ingest`` path of
:mod:`tradepulse.cli._fast` can use them; :mod:`tradepulse.cli.common` re-exports them)."""

from __future__ import annotations

import functools
import sys

from rich.console import Console

from tradepulse.errors import TradepulseError

console = Console()
err_console = Console(stderr=True)


def friendly_errors(func):
    """Turn TradepulseError into a one-line red message and exit code 2 (no traceback)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except TradepulseError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            sys.exit(2)
        except Exception as exc:   # noqa: BLE001 - only Spark's own failures are turned into one line
            if not type(exc).__module__.startswith(("py4j", "pyspark")):
                raise
            err_console.print(f"[bold red]error:[/] {spark_failure(exc)}", highlight=False, soft_wrap=True)
            sys.exit(2)
    return wrapper


def spark_failure(exc: BaseException) -> str:
    """One line for a failure inside Spark (a Py4J/PySpark exception): its root cause, and what to do when
    the driver ran out of memory (the JVM's stack trace is not shown)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    causes = [ln.removeprefix("Caused by: ") for ln in lines if ln.startswith("Caused by: ")]
    cause = (causes or lines or [type(exc).__name__])[-1 if causes else 0][:200]
    if "OutOfMemoryError" in str(exc):
        return (f"Spark ran out of memory ({cause}); give the driver more (TRADEPULSE_SPARK_DRIVER_MEMORY=8g on "
                "a local master, which starts with 1g; spark-submit --driver-memory on a cluster) or run on a "
                "cluster")
    return f"Spark failed: {cause}"
