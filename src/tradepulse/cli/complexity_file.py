"""``tradepulse complexity FILE -o OUT.parquet`` without pandas and without Typer (issue 19).

:func:`arrow_complexity` reads the file with PyArrow, computes with the NumPy core
(:func:`tradepulse.indicators.complexity_arrow.complexity_table`) and writes Parquet with PyArrow; the
``complexity`` command (:mod:`tradepulse.cli.complexity`) takes it for every file it can handle.

:func:`run` is the same command for the plain command lines of that path (``complexity FILE -o OUT.parquet``
with the Arrow path's own options) parsed without Typer: Typer, Click and Pydantic were ≈ 0.3 s of a ≈ 1.6 s
process.  Anything else — ``--help``, another option, an option given twice or as ``--opt=value``, a value
that is not a plain number, ``--engine`` or ``TRADEPULSE_ENGINE``, shell completion, an input the Arrow path
leaves to pandas — returns ``False`` (having printed nothing of its own), and the caller runs Typer, whose
help, errors and results are therefore unchanged.  Its own outcomes print what the Typer command prints: the
same progress bar and summary line (:mod:`tradepulse.cli._console`), the same one-line ``error:`` and exit
code 2 for a :class:`~tradepulse.errors.TradepulseError` (``friendly_errors``), exit code 130 on Ctrl-C,
Typer's traceback for a bug (``tests/test_complexity_file_cli.py`` compares both paths' bytes).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    import threading

#: The options :func:`tradepulse.indicators.complexity_arrow.complexity_table` takes.
ARROW_OPTIONS = ("threshold", "convention", "diagonal", "cog_form", "continuous", "asymmetric")

#: Parquet columns given dictionary pages: those whose values repeat (keys, per-country and per-product
#: columns); on the ≈ all-distinct RCA/density/COG columns they were 40 % of the write and made the file larger.
DICTIONARY_COLUMNS = ["year", "exporter", "product", "m", "diversity", "ubiquity", "eci", "pci", "coi", "prody",
                      "expy"]

#: Rows the Parquet writer takes at a time (Arrow's default 1,024): the statistics of a dictionary column are
#: updated once a batch from the dictionary values it references, which was ≈ 0.07 s CPU of the 1.15M-row
#: exporter and product columns at 1,024 (the same file, statistics and pages otherwise: pages still close
#: at ``data_page_size``).
WRITE_BATCH_ROWS = 65536

_declined: set[tuple[str, str]] = set()   # (input, output) the Arrow path already left to pandas in this process


def arrow_eligible(input_path: Path, out: Path, options: dict) -> bool:
    """``complexity FILE -o OUT.parquet`` with no sample filter, rolling window or PRODY: the pandas-free path
    (:func:`tradepulse.indicators.complexity_arrow.complexity_table`) may take it."""
    unset = ("gdp_pc", "min_exports", "min_product_exports", "exclude_products")
    return (input_path.suffix.lower() in (".csv", ".txt", ".parquet") and out.suffix.lower() == ".parquet"
            and (str(input_path), str(out)) not in _declined and input_path.is_file()
            and options["rolling"] == 1 and all(options[k] is None for k in unset))


def arrow_complexity(input_path: Path, exporter: str, product: str, value: str, year: Optional[str], out: Path,
                     options: dict) -> bool:
    """Read with PyArrow, compute with NumPy, write with PyArrow (issue 19: no pandas import).  False when the
    file cannot be read this way or its content needs the pandas path (errors, missing values, duplicates,
    all-goods totals): the caller then runs that path, which reports or handles them exactly as before."""
    import pyarrow as pa

    previous = pa.default_memory_pool()
    # the system allocator: Arrow's default (mimalloc) spent ≈ 0.7 s of kernel time reserving its arenas on the
    # first read of a 12 MB CSV (0.1 s with malloc), and its freed memory is not reused by NumPy's arrays
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        done = _arrow_run(input_path, exporter, product, value, year, out, options)
    finally:
        pa.set_memory_pool(previous)
    if not done:
        _declined.add((str(input_path), str(out)))
    return done


def _progress():
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from tradepulse.cli._console import console

    return Progress(TextColumn("[bold]complexity[/] {task.description}"), BarColumn(),
                    TextColumn("{task.completed}/{task.total} years"), TimeElapsedColumn(),
                    console=console, transient=True)


def _preload() -> None:
    """Import what the computation needs (≈ 0.07 s: Rich, the NumPy core, threadpoolctl) while Arrow reads
    the file with the GIL released."""
    import rich.progress
    import threadpoolctl

    import tradepulse.cli._console
    import tradepulse.indicators.complexity_arrow

    del rich, threadpoolctl, tradepulse   # imported for their side effect: loaded modules


def _preload_writer() -> None:
    """Import ``pyarrow.parquet`` (≈ 0.03 s with ``pyarrow.fs``) while the computation runs."""
    import pyarrow.parquet

    del pyarrow


def _in_thread(target) -> "threading.Thread":
    import threading

    thread = threading.Thread(target=target, name=f"tradepulse{target.__name__}", daemon=True)
    thread.start()
    return thread


def _arrow_run(input_path: Path, exporter: str, product: str, value: str, year: Optional[str], out: Path,
               options: dict) -> bool:
    import pyarrow as pa

    loader = _in_thread(_preload)
    try:
        if input_path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq
            table = pq.read_table(input_path)
        else:
            import pyarrow.csv as pcsv

            from tradepulse.indicators.complexity_arrow import PANDAS_NA
            # labels dictionary-encoded by the reader, in its threads (exact strings: leading zeros kept)
            labels = pa.dictionary(pa.int32(), pa.string())
            table = pcsv.read_csv(input_path, convert_options=pcsv.ConvertOptions(
                column_types={exporter: labels, product: labels}, null_values=PANDAS_NA,
                strings_can_be_null=True))
    except (OSError, pa.ArrowException, ValueError):
        return False
    finally:
        loader.join()
    writer = _in_thread(_preload_writer)
    from tradepulse.cli._console import console
    from tradepulse.indicators.complexity_arrow import complexity_table

    try:
        with _progress() as bar:
            task = bar.add_task("computing", total=None)

            def tick(i, n, y):
                bar.update(task, completed=i, total=n, description=f"year {y}")

            res = complexity_table(table, exporter, product, value, year, progress=tick,
                                   **{k: options[k] for k in ARROW_OPTIONS})
    finally:
        writer.join()
    del table
    if res is None:
        return False
    import pyarrow.parquet as pq

    out.parent.mkdir(parents=True, exist_ok=True)
    # written to OUT.part and renamed: a failed write leaves the previous OUT as it was
    part = out.with_name(out.name + ".part")
    try:
        pq.write_table(res, part, compression="snappy", use_dictionary=DICTIONARY_COLUMNS,
                       write_batch_size=WRITE_BATCH_ROWS)
        os.replace(part, out)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    from tradepulse.indicators.complexity_arrow import _numpy

    years = _numpy(res.column("year"))   # NumPy's min and max: no Python int per row
    first, last = int(years.min()), int(years.max())
    span = "one period" if year is None and first == last == 0 else f"years {first}–{last}"
    console.print(f"{res.num_rows:,} rows ({len(res.column('exporter').chunk(0).dictionary)} exporters × "
                  f"{len(res.column('product').chunk(0).dictionary)} products, {span}) → {out}")
    return True


# --------------------------------------------------------------------------- the command line without Typer
_TEXT = {"-o": "out", "--out": "out", "--exporter": "exporter", "--product": "product", "--value": "value",
         "--year": "year", "--convention": "convention", "--cog-form": "cog_form"}
_NUMBER = {"--threshold": "threshold", "--diagonal": "diagonal"}
_FLAG = {"--continuous": "continuous", "--asymmetric": "asymmetric"}
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _parse(args: list[str]) -> dict | None:
    """The command's values for ``args`` (after ``complexity``) when they are one input file and options of
    the tables above, each once and as separate words; None for anything else (Typer's to parse)."""
    from tradepulse.cli._fast import read_words

    options = {**{k: (v, "value") for k, v in {**_TEXT, **_NUMBER}.items()},
               **{k: (v, "flag") for k, v in _FLAG.items()}}
    read = read_words(args, options, joined=False, repeat=False)
    if read is None:
        return None
    inputs, got = read
    if len(inputs) != 1 or "out" not in got or any(
            name in got and not _PLAIN_NUMBER.fullmatch(got[name]) for name in _NUMBER.values()):
        return None
    return {"input_path": Path(inputs[0]), "out": Path(got["out"]), "exporter": got.get("exporter", "exporter"),
            "product": got.get("product", "product"), "value": got.get("value", "export_value"),
            "year": got.get("year"), "options": {
                "threshold": float(got.get("threshold", 1.0)), "convention": got.get("convention", "py"),
                "diagonal": float(got["diagonal"]) if "diagonal" in got else None,
                "cog_form": got.get("cog_form", "ecomplexity"), "continuous": "continuous" in got,
                "asymmetric": "asymmetric" in got, "rolling": 1, "missing": "error", "duplicates": "error",
                "gdp_pc": None, "min_exports": None, "min_product_exports": None, "exclude_products": None}}


def run(args: list[str]) -> bool:
    """Run ``tradepulse complexity ARGS`` when the Arrow path takes it (then exit: 0, or 2 with the one-line
    error); return False, having printed nothing, for the caller to run Typer."""
    if os.environ.get("TRADEPULSE_ENGINE", "") not in ("", "duckdb") or any(
            k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ):
        return False
    cmd = _parse(args)
    if cmd is None or not arrow_eligible(cmd["input_path"], cmd["out"], cmd["options"]):
        return False
    if "numpy" not in sys.modules:
        # the NumPy core runs BLAS on one thread (complexity_core._single_thread_blas); told before NumPy loads,
        # OpenBLAS starts no thread pool (≈ 0.05 s CPU of the import).  A value the user set is kept.
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from tradepulse.cli._console import friendly_errors

    try:   # a TradepulseError: the command's one red line and exit code 2 (friendly_errors, as under Typer)
        done = friendly_errors(arrow_complexity)(cmd["input_path"], cmd["exporter"], cmd["product"], cmd["value"],
                                                 cmd["year"], cmd["out"], cmd["options"])
    except KeyboardInterrupt:   # Typer's ``_main``: Exit(130)
        sys.exit(130)
    except Exception as exc:   # a bug: Typer's traceback, as the command run by Typer shows it
        _typer_traceback(exc)
        raise
    if not done:
        return False
    _finish()
    return True   # pragma: no cover - not reached


#: :func:`run` ends the process with ``os._exit(0)`` after a success (see :func:`_finish`); code that calls
#: ``tradepulse.cli.main()`` in-process and goes on after its ``SystemExit`` sets this to False.
EXIT_WITHOUT_TEARDOWN = True


def _finish() -> None:
    """Exit 0 without the interpreter's teardown: with NumPy and PyArrow loaded and ≈ 250 MB allocated,
    finalizing modules (a full garbage collection among them) took 0.1–0.2 s at load 5–9, ≈ 0.03–0.05 s on
    a quiet machine.  The file is written and renamed, every thread joined, stdout and stderr flushed first;
    if flushing fails (a closed pipe), the normal exit runs and reports it as Python does."""
    if not EXIT_WITHOUT_TEARDOWN:
        sys.exit(0)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(0)
    os._exit(0)


def _typer_traceback(exc: Exception) -> None:
    """Mark ``exc`` for Typer's exception hook (what ``typer.Typer.__call__`` does; plain Python traceback if
    Typer's private names moved)."""
    try:
        from typer.main import _typer_developer_exception_attr_name, except_hook
        from typer.models import DeveloperExceptionConfig
    except ImportError:   # pragma: no cover
        return
    sys.excepthook = except_hook
    setattr(exc, _typer_developer_exception_attr_name, DeveloperExceptionConfig(
        pretty_exceptions_enable=True, pretty_exceptions_show_locals=False, pretty_exceptions_short=True))
