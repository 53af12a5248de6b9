"""What a load is made of: the target tables and their keys, and :class:`Spec` — how one source relation
becomes rows of one target (which SQL expression feeds each canonical column, code kinds, conventions).
Readers build a Spec; :mod:`tradepulse.ingest._core` runs it.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

from tradepulse import schema

TARGETS = {"flows": schema.FLOWS, "services": schema.SERVICES, "macro": schema.MACRO,
           "firm_flows": schema.FIRM_FLOWS}


#: Key columns per target; two good rows with the same key are duplicates.
KEYS = {"flows": ("year", "month", "reporter", "partner", "flow", "product", "province"),
        "services": ("year", "reporter", "partner", "flow", "ebops"),
        "macro": ("year", "iso3"),
        "firm_flows": ("year", "month", "reporter", "firm", "partner", "flow", "product", "province")}


#: Value columns whose sum is reported as ``value_usd_loaded``.
VALUE = {"flows": "value_usd", "services": "value_usd", "macro": None, "firm_flows": "value_usd"}


#: Targets holding goods flows by HS product (same product, value, quantity and province rules).
GOODS_TARGETS = ("flows", "firm_flows")


class LineSplitNeeded(Exception):  # a signal, not an error shown to anyone
    """Internal: a BACI CSV has lines the CSV parser cannot keep apart (a stray quote or line break, a bad
    byte); the load is rolled back and re-run on a copy without those lines (see :class:`LineSplit`)."""


@dataclass
class LineSplit:
    """A CSV re-read without its structurally bad lines: ``kept[i]`` = the original line number of the copy's
    line i + 2 (after the header), ``bad`` = the lines left out as (line, column, error, text), ``blank`` = the
    empty lines left out (not data, not quarantined)."""

    kept: list[int]
    bad: list[tuple]
    blank: list[int] = field(default_factory=list)

    def remap(self, rejects: list) -> list:
        """The copy's unreadable lines (line numbers in the copy) in original line numbers, plus the lines
        left out of the copy; sorted by line."""
        out = [(self.kept[int(r[0]) - 2], *r[1:]) for r in rejects] + list(self.bad)
        return sorted(out, key=lambda r: int(r[0]))


def blank_lines(path: str) -> list[int]:
    """Line numbers of the empty lines of a text file.  DuckDB's CSV reader skips them without a word, so
    they are counted out when quarantined rows get their physical line numbers."""
    with open(path, "rb") as fh:
        return [no for no, line in enumerate(fh, start=1) if line in (b"\n", b"\r\n", b"\r")]


def lit(value) -> str:
    """SQL literal for a Python constant (strings are quoted with '' escaping; None → NULL)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, numbers.Real):  # Python and NumPy numbers
        return str(int(value)) if isinstance(value, numbers.Integral) else repr(float(value))
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


@dataclass
class Spec:
    """How to turn one source relation into rows of one target table.

    ``fields`` maps each canonical column to a SQL expression over the source alias ``s`` (its text is
    validated) or to ``None`` (column absent → NULL).  ``countries`` names the code kind of country columns:
    ``iso3`` (ISO3 / aliases / Comtrade areas), ``numeric`` (M49/BACI) or ``name`` (English/Persian names).
    """

    target: str
    fmt: str
    file: str
    relation: str                       # SQL table expression (read_csv(...), a view name, ...)
    columns: list[str]                  # source column names, in order (raw text of quarantined rows)
    fields: dict[str, str | None]
    countries: dict[str, str] = field(default_factory=dict)
    value_scale: float = 1.0
    product_pad: int | None = None      # zero-pad product codes to this many digits (BACI: 6)
    product_digits: tuple[int, ...] = (2, 4, 6)
    product_truncate: int | None = None  # national tariff lines → HS6 (then rows are aggregated)
    allow_total: bool = True            # all-goods markers (codes.PRODUCT_TOTALS) → product "TOTAL"
    calendar: str = "gregorian"         # gregorian | jalali | auto (year < 1700 → Solar Hijri)
    source_name: str = "generic"
    line_offset: int = 1                # line = row number + line_offset (CSV with header: 1)
    country_codes_csv: str | None = None
    rejects: bool = False               # CSV: DuckDB stores malformed lines in a rejects table
    read_path: str | None = None        # the local file read (for a zip: the extracted member)
    #: clean typed BACI CSV → the slim storage ``baci_rows`` (:func:`_insert_slim`); holds the per-load
    #: constants {"flow", "hs_revision", "unit"} (canonical words)
    slim: dict | None = None
    local_digits: bool = False          # accept Persian/Arabic digits and thousands separators in numbers
    relation_pass2: str | None = None   # same relation for the line-number pass (CSV without rejects)
    kind: str = "frame"                 # csv | parquet | excel | frame (the input's kind, for messages)
    line_split: LineSplit | None = None  # read from a copy without the structurally bad lines (BACI CSV)
    _skipped: list[int] | None = field(default=None, repr=False)

    def skipped_lines(self) -> list[int]:
        """Physical lines the reader passed over silently (empty CSV lines), found on first use (only a load
        with quarantined rows needs them)."""
        if self._skipped is None:
            if self.line_split is not None:
                self._skipped = list(self.line_split.blank)
            elif self.kind == "csv" and self.read_path is not None:
                self._skipped = blank_lines(self.read_path)
            else:
                self._skipped = []
        return self._skipped
    note: dict = field(default_factory=dict)

