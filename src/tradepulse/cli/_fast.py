"""A Typer-free path for the plain ``tradepulse ingest FILE -f FORMAT …`` (issue 19: start-up).

Typer (with Click and pydantic) takes ≈ 0.25 s to import, more than a tenth of a small load and ≈ 6 % of a
full BACI year.  :func:`parse_ingest` reads the common options of ``ingest`` from a table
(:data:`INGEST_OPTIONS`, checked against the Typer command by ``tests/test_cli_fast.py``) and
:func:`fast_ingest` runs :func:`tradepulse.cli.ingest.run_ingest`, the command's own body, with them.
Anything else — ``--help``, an unknown or malformed option, a missing value or argument, ``--engine`` or
``--master`` (or their environment variables) — returns ``None``/``False`` and the caller lets Typer parse
the command line, so every help text, usage error and Spark path stays Typer's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: option name → (parameter of run_ingest, kind): "value" (one string), "path", "multi" (repeatable) or "flag"
INGEST_OPTIONS: dict[str, tuple[str, str]] = {
    "--format": ("fmt", "value"), "-f": ("fmt", "value"),
    "--mapping": ("mapping", "path"), "-m": ("mapping", "path"),
    "--option": ("option", "multi"), "-o": ("option", "multi"),
    "--target": ("target", "value"), "-t": ("target", "value"),
    "--reporter": ("reporter", "value"), "-r": ("reporter", "value"),
    "--warehouse": ("warehouse", "path"), "-w": ("warehouse", "path"),
    "--on-overlap": ("on_overlap", "value"),
    "--years": ("years", "value"),
    "--dataset": ("dataset", "value"),
    "--replace": ("replace", "flag"),
    "--json": ("as_json", "flag"),
    "--refresh": ("refresh", "flag"),
}

#: environment variables read by options the fast path leaves to Typer
_TYPER_ENV = ("TRADEPULSE_ENGINE", "TRADEPULSE_SPARK_MASTER")


def read_words(args: list[str], options: dict[str, tuple[str, str]], *, joined: bool,
               repeat: bool) -> tuple[list[str], dict] | None:
    """(the positional words, {parameter: value}) of a plain command line, or None when Typer should parse it.

    ``options``: name → (parameter, kind) — ``"flag"`` (True), ``"multi"`` (repeatable: a list) or any other
    kind (one string: the next word, which may not start with ``-``).  ``joined``: also ``--name=value``.
    ``repeat``: a repeated option keeps its last value, as Click does; otherwise a repetition returns None.
    A word starting with ``-`` that ``options`` does not name (``--help``, ``--``, ``-``, ``-fbaci``) returns
    None."""
    values: dict = {}
    words: list[str] = []
    i = 0
    while i < len(args):
        word = args[i]
        i += 1
        if not word.startswith("-"):
            words.append(word)
            continue
        name, eq, inline = word.partition("=") if joined else (word, "", "")
        spec = options.get(name)
        if spec is None or (eq and not name.startswith("--")):
            return None
        dest, kind = spec
        if kind != "multi" and dest in values and not repeat:
            return None
        if kind == "flag":
            if eq:
                return None
            values[dest] = True
            continue
        if eq:
            value = inline
        else:
            if i >= len(args) or args[i].startswith("-"):
                return None
            value = args[i]
            i += 1
        if kind == "multi":
            values.setdefault(dest, []).append(value)
        else:
            values[dest] = value
    return words, values


def parse_ingest(args: list[str]) -> dict | None:
    """``ingest``'s arguments (after the word ``ingest``) as keyword arguments of ``run_ingest``, or None when
    Typer should parse them.  Values are taken as Click takes them: the next word or ``--name=value``; a
    repeated option keeps its last value (``--option`` collects every one)."""
    if any(os.environ.get(name) is not None for name in _TYPER_ENV):
        return None
    read = read_words(args, INGEST_OPTIONS, joined=True, repeat=True)
    if read is None:
        return None
    files, out = read
    if len(files) != 1 or "fmt" not in out:
        return None
    for dest, kind in INGEST_OPTIONS.values():
        if kind == "path" and dest in out:
            out[dest] = Path(out[dest])
    return {"file": Path(files[0]), "option": [], **out}


def fast_ingest(args: list[str]) -> bool:
    """Run ``tradepulse ingest`` without Typer when :func:`parse_ingest` reads ``args``; False otherwise.
    Errors end as the Typer command ends: a TradepulseError in one red line with exit code 2
    (:func:`~tradepulse.cli._console.friendly_errors`), Ctrl-C as Click's ``Aborted!`` with exit code 1."""
    kwargs = parse_ingest(args)
    if kwargs is None:
        return False
    from tradepulse.cli._console import friendly_errors
    from tradepulse.cli.ingest import run_ingest
    file, fmt = kwargs.pop("file"), kwargs.pop("fmt")
    try:
        friendly_errors(run_ingest)(file, fmt, **kwargs)
    except (KeyboardInterrupt, EOFError):
        sys.stderr.write("\nAborted!\n")
        sys.exit(1)
    return True
