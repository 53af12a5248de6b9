"""A failure inside Spark (a Py4J/PySpark exception) reaches the user as one line, never a traceback.

Seen on one full synthetic BACI year: `potential --engine spark` on `local[2]` ran the 1 GB local driver out
of memory and the CLI printed Rich's traceback of the Py4JJavaError (docs/benchmarks.md, "panel on Spark
local[2] (one full year)")."""

from __future__ import annotations

import pytest


def _py4j_error(message: str) -> Exception:
    cls = type("Py4JJavaError", (Exception,), {"__module__": "py4j.protocol"})
    return cls(message)


JAVA_OOM = ("An error occurred while calling o211.collectToPython.\n: java.util.concurrent.ExecutionException: "
            "Boxed Exception\n\tat scala.concurrent.impl.Promise$.resolveTry(Promise.scala:103)\n"
            "Caused by: java.lang.OutOfMemoryError: Java heap space\n\tat java.base/java.util.Arrays.copyOf")


@pytest.mark.parametrize("message, said", [
    (JAVA_OOM, "Spark ran out of memory (java.lang.OutOfMemoryError: Java heap space); give the driver more"),
    ("An error occurred while calling o9.sql.\n: org.apache.spark.SparkException: Job aborted\n\tat x.y(z)",
     "Spark failed: An error occurred while calling o9.sql."),
])
def test_spark_failures_are_one_line(capsys, message, said):
    from tradepulse.cli.common import friendly_errors

    @friendly_errors
    def verb():
        raise _py4j_error(message)

    with pytest.raises(SystemExit) as e:
        verb()
    err = capsys.readouterr().err
    assert e.value.code == 2 and said in " ".join(err.split())
    assert "Traceback" not in err and "\tat " not in err and len(err.strip().splitlines()) <= 3


def test_other_errors_still_raise():
    """A bug (not Spark's, not a TradepulseError) is not hidden as a user error."""
    from tradepulse.cli.common import friendly_errors

    @friendly_errors
    def verb():
        raise KeyError("bug")

    with pytest.raises(KeyError):
        verb()
