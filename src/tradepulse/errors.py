"""Exceptions shared across tradepulse.  Every user-facing error says what is wrong and where."""

from __future__ import annotations


class TradepulseError(Exception):
    """Base class: a problem the user can fix (bad input, unknown name, missing data)."""


class InputError(TradepulseError):
    """A problem in an input file, located by file, line and column when known."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 column: str | None = None):
        self.file, self.line, self.column = file, line, column
        where = ", ".join(p for p in (
            f"file {file}" if file else "",
            f"line {line}" if line is not None else "",
            f"column {column!r}" if column else "") if p)
        super().__init__(f"{where}: {message}" if where else message)


class UnknownNameError(TradepulseError, KeyError):
    """An unknown country, group, product group, province or similar name."""

    def __init__(self, kind: str, name: str, known: list[str] | None = None):
        self.kind, self.name = kind, name
        hint = ""
        if known:
            shown = ", ".join(sorted(known)[:20])
            hint = f"; known {kind}s: {shown}" + (" …" if len(known) > 20 else "")
        super().__init__(f"unknown {kind} {name!r}{hint}")

    def __str__(self) -> str:  # KeyError would add quotes
        return self.args[0]


class NoDataError(TradepulseError):
    """The request is valid but the data hold nothing for it (e.g. a year with no flows)."""
