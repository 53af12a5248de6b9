"""The load engine: one vectorised SQL pass that maps, validates and inserts; quarantine; atomic, idempotent loads.

How a load runs (all inside one DuckDB transaction, so a killed process leaves the warehouse unchanged):

1. ``sha256`` of the input (file bytes, or the frame's row hashes).  Same digest already in ``loads`` for the
   same target → *skipped* (nothing written).  With ``replace=True`` the rows of earlier loads of the same
   file (same path or same digest) are deleted first.
2. One ``INSERT … SELECT`` reads the source (DuckDB ``read_csv``/``read_parquet`` or a registered frame), maps
   the columns, types them with ``TRY_CAST`` and computes a *reason* per row (first failing check).  Every row
   is inserted; bad rows are tagged ``load_id || '#bad'`` and deleted again at once (so a clean file is read once).
3. Duplicate keys among the good rows are found by grouping a 64-bit hash of the key, then confirmed exactly.
   Every row of a duplicated key is moved to quarantine (neither copy is trusted).
4. Only when something was rejected is the source read a second time with ``row_number()`` to give the
   quarantine rows their line numbers (line 1 = header; for Parquet/Excel/frames, line = record number + 1,
   as if the table were written to CSV with a header).
5. Overlap with earlier loads (:func:`_find_overlap`): the load's rows whose key (``KEYS[target]``, NULLs
   equal) is already in the target from *another* load — a revised release, a repeated extract — would be
   counted twice by every indicator.  ``on_overlap="quarantine"`` (default) moves them to quarantine (reason
   ``already loaded by load <id> (<file>)``, lines from the line-numbered second read, written by one
   ``INSERT … SELECT``); ``"replace"`` deletes the earlier rows instead (the new file supersedes them),
   recounts the earlier loads in ``loads`` and records per earlier load how many rows went in this load's
   ``note``.  The check costs one ``count(*)`` when the target holds no other load's rows.
6. Zero good rows → the transaction is rolled back and :class:`~tradepulse.errors.InputError` is raised.

Targets: ``flows``, ``firm_flows`` (the same goods rules — calendar, countries, flow words, HS codes and
tariff-line truncation, value signs, province mapping — plus a required ``firm`` id, trimmed text with
Persian/Arabic digits and letters unified), ``services`` and ``macro``; keys in :data:`KEYS`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import numbers
import os
import re
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from typing import TYPE_CHECKING

from tradepulse import schema
from tradepulse.errors import InputError, UnknownNameError
from tradepulse.ingest import codes

if TYPE_CHECKING:  # imported on first use: a clean BACI load needs neither numpy, pandas nor the province list
    import numpy as np
    import pandas as pd

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
#: What to do with rows whose key another load already holds: quarantine them, or supersede the old rows.
OVERLAP_POLICIES = ("quarantine", "replace")


@dataclass
class LoadResult:
    """What one ingest did.  ``skipped`` = the same input was loaded before (nothing written)."""

    load_id: str
    file: str
    rows_loaded: int
    rows_quarantined: int
    value_usd_loaded: float
    skipped: bool
    target: str = "flows"
    format: str = ""
    sha256: str = ""
    rows_replaced: int = 0
    problems: list[dict] = field(default_factory=list)  # first few quarantine rows (line, column, reason)
    #: rows of this load whose key an earlier load already held (quarantined, or superseding the old rows)
    rows_overlapping: int = 0
    #: per earlier load hit: {"load_id", "file", "rows"} — rows = this load's rows quarantined against it
    #: (quarantine) or its rows deleted (replace)
    overlapping_loads: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


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
    allow_total: bool = False           # accept product "TOTAL" (Comtrade all-goods totals)
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
    note: dict = field(default_factory=dict)


# ------------------------------------------------------------------ SQL building
_FA_DIGITS = ("translate({x}, '۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩٫٬', '01234567890123456789.,')")


def _clean_num(text_col: str, local_digits: bool) -> str:
    """Number text: trimmed; thousands separators removed; Persian/Arabic digits when ``local_digits``."""
    x = f"trim({text_col})"
    if local_digits:  # translate() is costly: only for strings that are not plain ASCII
        x = f"(CASE WHEN strlen({x}) = length({x}) THEN {x} ELSE {_FA_DIGITS.format(x=x)} END)"
        # thousands separators only in the unambiguous form 1,234,567.89 (a decimal comma stays invalid)
        x = f"(CASE WHEN contains({x}, ',') AND regexp_full_match({x}, '-?[0-9]{{1,3}}(,[0-9]{{3}})+(\\.[0-9]*)?') " \
            f"THEN replace({x}, ',', '') ELSE {x} END)"
    return x


def _blank(text_col: str) -> str:
    return f"({text_col} IS NULL OR trim({text_col}) = '' OR upper(trim({text_col})) IN ('NA', 'NAN', 'NULL'))"


def _country_key(kind: str, text_col: str, local_digits: bool) -> str:
    if kind == "numeric":
        return f"CAST(TRY_CAST(TRY_CAST({_clean_num(text_col, local_digits)} AS DOUBLE) AS INTEGER) AS VARCHAR)"
    if kind == "name":
        return f"replace(replace(lower(trim({text_col})), 'ي', 'ی'), 'ك', 'ک')"
    return f"upper(trim({text_col}))"


def _flow_case(text_col: str) -> str:
    whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in codes.FLOW_WORDS.items())
    return f"(CASE lower(trim({text_col})) {whens} ELSE NULL END)"


def _hs_case(text_col: str) -> str:
    whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in codes.HS_CLASSIFICATIONS.items())
    return f"(CASE upper(trim({text_col})) {whens} ELSE NULL END)"


def _inner_select(spec: Spec, with_rn: bool) -> tuple[str, list[tuple[str, str, str, str]]]:
    """SELECT producing typed canonical columns plus ``__reason``, ``__column``, ``__value``.

    Three layers so that each expression is evaluated once: ``t`` = source texts and mapped codes (joins),
    ``u`` = derived values (numbers, normalised codes), outer = checks and output columns.
    Returns (sql with a ``{rel}`` placeholder, checks) with checks = [(column, condition, reason, value)].
    """
    cols = TARGETS[spec.target]
    loc = spec.local_digits
    sel: list[str] = []
    joins: list[str] = []
    checks: list[tuple[str, str, str, str]] = []
    derived: dict[str, str] = {}

    def src(c: str) -> str | None:
        e = spec.fields.get(c)
        return None if e is None else f"CAST(({e}) AS VARCHAR)"

    for c in cols:
        if c in ("load_id", "source"):
            continue
        e = src(c)
        sel.append(f"{e if e is not None else 'NULL::VARCHAR'} AS {ident('__src_' + c)}")
    for c, kind in spec.countries.items():
        if spec.fields.get(c) is None:
            continue
        alias = f"__cc_{c}"
        joins.append(f"LEFT JOIN __tp_codes_{kind} {alias} ON {alias}.key = {_country_key(kind, src(c), loc)}")
        sel.append(f"{alias}.code AS {ident('__map_' + c)}")
    mapped_provinces = _maps_provinces(spec)
    if mapped_provinces:  # reporter's province list (reference.provinces): any spelling → the listed name
        from tradepulse.reference import provinces
        rep = "__cc_reporter.code" if spec.fields.get("reporter") is not None else "NULL"
        joins.append(f"LEFT JOIN __tp_prov __pv ON __pv.country = {rep} AND __pv.key = "
                     f"{provinces.province_key_sql(src('province'))}")
        joins.append(f"LEFT JOIN __tp_prov_countries __pc ON __pc.country = {rep}")
        sel.append("__pv.name_en AS __map_province, __pc.country AS __prov_listed")
    rn = "s.__rn AS __rn, " if with_rn else ""
    raw = ""
    if with_rn:
        raw = ", concat_ws(',', " + ", ".join(f"coalesce(CAST(s.{ident(c)} AS VARCHAR), '')"
                                               for c in spec.columns) + ") AS __raw"
    inner = f"SELECT {rn}{', '.join(sel)}{raw} FROM {{rel}} s {' '.join(joins)}"

    def S(c):  # source text in layer u (passed through from t)
        return f"u.{ident('__src_' + c)}"

    def D(name: str, expr_over_t: str) -> str:
        """Register a derived column computed once in layer u (empty expr: already registered); return its
        reference in the outer layer."""
        if expr_over_t:
            derived[name] = expr_over_t
        assert name in derived, name
        return f"u.{ident('__d_' + name)}"

    def T(c):
        return f"t.{ident('__src_' + c)}"

    typed: dict[str, str] = {}
    # goods: per column, TRUE exactly when none of that column's checks fires — a cheap AND for the first
    # pass (the detailed checks above only run in the second pass, on files with rejected rows)
    goods: list[str] = []

    def need(c: str, label: str | None = None):
        checks.append((c, D(f"blank_{c}", _blank(T(c))), lit(f"missing {label or c}"), S(c)))

    def number(c: str) -> str:
        return D(f"num_{c}", f"TRY_CAST(NULLIF({_clean_num(T(c), loc)}, '') AS DOUBLE)")

    def year_month():
        y = D("year_int", f"TRY_CAST(TRY_CAST({_clean_num(T('year'), loc)} AS DOUBLE) AS INTEGER)")
        has_month = "month" in cols and spec.fields.get("month") is not None
        m = (D("month_int", f"TRY_CAST(TRY_CAST({_clean_num(T('month'), loc)} AS DOUBLE) AS INTEGER)")
             if has_month else "NULL")
        cal = spec.calendar
        jal = "TRUE" if cal == "jalali" else (f"({y} < 1700)" if cal == "auto" else "FALSE")
        # Solar Hijri → Gregorian by the month's 15th day: month m of year y falls in Gregorian month
        # ((m + 2) mod 12) + 1 of year y + 621 (+1 from Dey, m ≥ 10); a whole year y → y + 621.
        gy = f"(CASE WHEN {jal} THEN {y} + 621 + (CASE WHEN {m} >= 10 THEN 1 ELSE 0 END) ELSE {y} END)"
        gm = f"(CASE WHEN {jal} THEN (({m} + 2) % 12) + 1 ELSE {m} END)" if has_month else "NULL"
        need("year")
        checks.append(("year", f"({y} IS NULL)", lit("year is not an integer"), S("year")))
        checks.append(("year", f"({gy} NOT BETWEEN 1900 AND 2100)", lit("year out of range 1900-2100"),
                       S("year")))
        if has_month:
            checks.append(("month", f"(NOT {D('blank_month', _blank(T('month')))} AND ({m} IS NULL OR "
                                    f"{m} NOT BETWEEN 1 AND 12))", lit("month is not 1-12"), S("month")))
        goods.append(f"{gy} BETWEEN 1900 AND 2100")
        if has_month:
            goods.append(f"CASE WHEN {m} IS NOT NULL THEN {m} BETWEEN 1 AND 12 ELSE {D('blank_month', '')} END")
        typed["year"] = f"CAST({gy} AS SMALLINT)"
        if "month" in cols:
            typed["month"] = f"CAST({gm} AS TINYINT)"

    def country(c: str):
        kind = spec.countries.get(c, "iso3")
        need(c)
        mapped = f"u.{ident('__map_' + c)}"
        checks.append((c, f"({mapped} IS NULL)",
                       lit(f"unknown {'numeric ' if kind == 'numeric' else ''}country code"), S(c)))
        goods.append(f"{mapped} IS NOT NULL")
        typed[c] = mapped

    def money(c: str, scale: float = 1.0, required: bool = True):
        v = number(c)
        blank = D(f"blank_{c}", _blank(T(c)))
        if required:
            checks.append((c, blank, lit("missing value"), S(c)))
        checks.append((c, f"(NOT {blank} AND {v} IS NULL)", lit(f"{c} is not a number"), S(c)))
        checks.append((c, f"({v} < 0)", lit(f"negative {c}"), S(c)))
        if required:  # v = NaN only for texts like 'nan', which count as blank
            goods.append(f"{v} IS NOT NULL AND NOT ({v} < 0) AND (NOT isnan({v}) OR NOT {blank})")
        else:
            goods.append(f"CASE WHEN {v} IS NOT NULL THEN NOT ({v} < 0) ELSE {blank} END")
        typed[c] = f"({v} * {lit(float(scale))})" if scale != 1.0 else v

    if spec.target in ("flows", "services", "firm_flows"):
        year_month()
        country("reporter")
        country("partner")
        need("flow")
        f = D("flow", _flow_case(T("flow")))
        allowed = "('export', 'import')" if spec.target == "services" else \
            "('export', 'import', 're-export', 're-import')"
        checks.append(("flow", f"({f} IS NULL OR {f} NOT IN {allowed})",
                       lit("unknown flow (" + allowed.replace("'", "").strip("()").replace(", ", "/") + ")"),
                       S("flow")))
        goods.append(f"{f} IN {allowed}")
        typed["flow"] = f
    if spec.target == "firm_flows":  # firm id: required text, trimmed, digits and Arabic letters unified
        need("firm")
        blank = D("blank_firm", "")
        goods.append(f"NOT {blank}")
        fid = f"trim({S('firm')})"
        fid = f"(CASE WHEN strlen({fid}) = length({fid}) THEN {fid} ELSE " \
              f"replace(replace({_FA_DIGITS.format(x=fid)}, 'ي', 'ی'), 'ك', 'ک') END)"
        typed["firm"] = f"(CASE WHEN {blank} THEN NULL ELSE {fid} END)"
    if spec.target in GOODS_TARGETS:
        p = f"regexp_replace(trim({T('product')}), '[ .]', '', 'g')"
        if spec.product_pad:  # pad short codes only (lpad would also cut long ones)
            n = int(spec.product_pad)
            p = f"(CASE WHEN length({p}) < {n} THEN lpad({p}, {n}, '0') ELSE {p} END)"
        else:  # a leading zero dropped by a spreadsheet: odd length → pad one zero
            p = f"(CASE WHEN length({p}) % 2 = 1 THEN '0' || {p} ELSE {p} END)"
        if spec.product_truncate:
            n = int(spec.product_truncate)
            p = f"(CASE WHEN length({p}) > {n} THEN left({p}, {n}) ELSE {p} END)"
        p = D("product", p)
        total = D("product_total", f"upper(trim({T('product')})) = 'TOTAL'") if spec.allow_total else "FALSE"
        is_num = D("product_isnum", f"regexp_full_match(trim({T('product')}), '[0-9 .]+')")
        digits = ", ".join(str(d) for d in spec.product_digits)
        need("product")
        checks.append(("product", f"(NOT {total} AND NOT {is_num})",
                       lit("ill-formed product code (digits expected)"), S("product")))
        checks.append(("product", f"(NOT {total} AND length({p}) NOT IN ({digits}))",
                       lit(f"wrong HS code length (expected {'/'.join(map(str, spec.product_digits))} digits)"),
                       S("product")))
        checks.append(("product", f"(NOT {total} AND NOT (left({p}, 2) BETWEEN '01' AND '97' AND "
                                  f"left({p}, 2) <> '77' OR left({p}, 2) = '99'))",
                       lit("unknown HS chapter"), S("product")))
        goods.append(f"({total} OR ({is_num} AND length({p}) IN ({digits}) AND (left({p}, 2) BETWEEN '01' AND "
                     f"'97' AND left({p}, 2) <> '77' OR left({p}, 2) = '99')))")
        typed["product"] = f"(CASE WHEN {total} THEN 'TOTAL' ELSE {p} END)"
        if spec.fields.get("hs_revision") is not None:
            h = D("hs", _hs_case(T("hs_revision")))
            checks.append(("hs_revision", f"(NOT {D('blank_hs', _blank(T('hs_revision')))} AND {h} IS NULL)",
                           lit("unknown HS revision"), S("hs_revision")))
            goods.append(f"CASE WHEN {h} IS NOT NULL THEN TRUE ELSE {D('blank_hs', '')} END")
            typed["hs_revision"] = f"coalesce({h}, 'UNKNOWN')"
        else:
            typed["hs_revision"] = "'UNKNOWN'"
        money("value_usd", spec.value_scale)
        if spec.fields.get("quantity") is not None:
            money("quantity", required=False)
        else:
            typed["quantity"] = "NULL"
        typed["unit"] = (f"(CASE WHEN {typed['quantity']} IS NULL THEN NULL ELSE nullif(trim({S('unit')}), '') END)"
                         if spec.fields.get("unit") is not None else "NULL")
        as_given = f"nullif(replace(replace(trim({S('province')}), 'ي', 'ی'), 'ك', 'ک'), '')"
        if mapped_provinces:
            blank = D("blank_province", _blank(T("province")))
            unknown = f"(NOT {blank} AND u.__prov_listed IS NOT NULL AND u.__map_province IS NULL)"
            checks.append(("province", unknown, lit("unknown province of the reporter (not in its province list)"),
                           S("province")))
            goods.append(f"NOT {unknown}")
            typed["province"] = f"coalesce(u.__map_province, {as_given})"
        else:
            typed["province"] = as_given if spec.fields.get("province") is not None else "NULL"
    elif spec.target == "services":
        e = D("ebops", f"upper(trim({T('ebops')}))")
        need("ebops", "EBOPS code")
        checks.append(("ebops", f"NOT regexp_full_match({e}, 'S[A-L]?[0-9]{{0,4}}|[0-9]{{3,4}}')",
                       lit("ill-formed EBOPS code"), S("ebops")))
        goods.append(f"regexp_full_match({e}, 'S[A-L]?[0-9]{{0,4}}|[0-9]{{3,4}}')")
        typed["ebops"] = e
        money("value_usd", spec.value_scale)
    elif spec.target == "macro":
        year_month()
        country("iso3")
        for c in ("gdp_usd", "population"):
            if spec.fields.get(c) is None:
                typed[c] = "NULL"
        present = [c for c in ("gdp_usd", "population") if spec.fields.get(c) is not None]
        both = " AND ".join(D(f"blank_{c}", _blank(T(c))) for c in present)
        checks.append((present[0], f"({both})", lit("missing value (neither GDP nor population)"), "NULL"))
        goods.append(f"NOT ({both})")
        for c in present:
            money(c, spec.value_scale if c == "gdp_usd" else 1.0, required=False)

    outs = [f"{typed.get(c, 'NULL')} AS {ident(c)}" for c in cols if c not in ("load_id", "source")]
    dsel = ", ".join(f"{e} AS {ident('__d_' + n)}" for n, e in derived.items())
    middle = f"SELECT t.*{', ' + dsel if dsel else ''} FROM ({inner}) t"
    if with_rn:  # second pass: which check failed first, on which column, with which value
        reason = "CASE " + " ".join(f"WHEN {cond} THEN {r}" for _c, cond, r, _v in checks) + " END"
        column = "CASE " + " ".join(f"WHEN {cond} THEN {lit(c)}" for c, cond, _r, _v in checks) + " END"
        value = "CASE " + " ".join(f"WHEN {cond} THEN {v}" for _c, cond, _r, v in checks) + " END"
        sql = (f"SELECT u.__rn AS __rn, u.__raw AS __raw, {', '.join(outs)}, {reason} AS __reason, "
               f"{column} AS __column, {value} AS __value FROM ({middle}) u")
    else:  # first pass: only good / bad (DuckDB inlines the layers, so keep this expression lean)
        bad = "NOT coalesce(" + " AND ".join(f"({g})" for g in goods) + ", FALSE)"
        sql = f"SELECT {', '.join(outs)}, CASE WHEN {bad} THEN 'bad' END AS __reason FROM ({middle}) u"
    return sql, checks


# ------------------------------------------------------------------ helpers
def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def frame_sha256(frame: pd.DataFrame) -> str:
    import pandas as pd

    h = hashlib.sha256()
    h.update("\x1f".join(map(str, frame.columns)).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _maps_provinces(spec: Spec) -> bool:
    """Province names are mapped to the reference list when a goods source (flows, firm_flows) has a province
    column."""
    return spec.target in GOODS_TARGETS and spec.fields.get("province") is not None


def _register_code_tables(con, spec: Spec) -> None:
    if _maps_provinces(spec):
        from tradepulse.reference import provinces

        con.register("__tp_prov_df", provinces.alias_table())
        con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_prov AS SELECT DISTINCT country, "
                    f"{provinces.province_key_sql('spelling')} AS key, name_en FROM __tp_prov_df")
        con.unregister("__tp_prov_df")
        clash = con.execute("SELECT country, key, string_agg(name_en, ' / ') FROM __tp_prov GROUP BY ALL "
                            "HAVING count(*) > 1 LIMIT 1").fetchone()
        if clash:
            raise InputError(f"the province list gives {clash[0]} spelling {clash[1]!r} to {clash[2]}")
        con.execute("CREATE OR REPLACE TEMP TABLE __tp_prov_countries AS SELECT DISTINCT country FROM __tp_prov")
    for kind in set(spec.countries.values()):
        if kind == "numeric":  # built by DuckDB (no pandas): the same table as codes.numeric_table
            try:
                con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_codes_numeric AS "
                            f"{codes.numeric_codes_sql(spec.country_codes_csv)}")
            except Exception as exc:  # noqa: BLE001 - a DuckDB error reading the code file
                raise InputError(f"cannot read the country code file (it needs columns country_code and "
                                 f"iso_3digit_alpha): {str(exc).splitlines()[0]}",
                                 file=str(spec.country_codes_csv or "country codes"), line=1) from exc
            continue
        if kind == "name":
            df = codes.name_table()
        else:
            df = codes.iso3_table()
        con.register(f"__tp_codes_{kind}_df", df)
        con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_codes_{kind} AS SELECT * FROM __tp_codes_{kind}_df")
        con.unregister(f"__tp_codes_{kind}_df")


def _true_lines(rn: np.ndarray, first_line: int, rejected: np.ndarray) -> np.ndarray:
    """Physical line of the rn-th (1-based) accepted record when the lines ``rejected`` were skipped.

    The accepted lines are the integers ≥ ``first_line`` minus ``rejected``; with a_i = R_i − i (R sorted),
    line = first_line + rn − 1 + #{i : a_i ≤ first_line + rn − 1 + …} — solved by ``searchsorted`` on a.
    """
    import numpy as np

    if len(rejected) == 0:
        return rn + first_line - 1
    r = np.unique(rejected)
    a = r - np.arange(len(r))
    base = rn + first_line - 1
    return base + np.searchsorted(a, base, side="right")


_LITERAL = re.compile(r"'(?:[^']|'')*'")


def _constant_field(spec: Spec, column: str) -> bool:
    """True when ``column`` gets the same canonical value on every row of this load: it has no source (NULL)
    or is a SQL literal constant.  ``year`` is excluded (a Solar Hijri year maps by month)."""
    e = spec.fields.get(column)
    return e is None or (column != "year" and _LITERAL.fullmatch(e.strip()) is not None)


#: Largest key bitmap (bits) for :func:`_distinct_keys`; beyond it a hash ``count(DISTINCT)`` is used.
KEY_BITMAP_BITS = 1 << 28  # 32 MB per DuckDB thread


def _distinct_keys(con, table: str, load_id: str, cols: list[str]) -> tuple[int, int]:
    """(rows, distinct keys over ``cols``) among the rows of ``load_id`` in ``table``.

    Exact when the key space is small: each column is replaced by its dense rank among the load's distinct
    values (NULL counts as a value), the ranks are packed mixed-radix into one integer
    (((r₁·n₂ + r₂)·n₃ + r₃)…, injective) and set in a bitmap with DuckDB's ``bitstring_agg``; distinct keys =
    ``bit_count``.  Used when Π nᵢ ≤ :data:`KEY_BITMAP_BITS` (a BACI year: ≈ 230 × 230 × 5,400 ≈ 2.9·10⁸ bits
    at most; in practice the products present).  Otherwise: ``count(DISTINCT hash(cols))`` (64-bit; a
    collision can only lower the count, which sends the caller to its exact check).  No columns → every row
    has the same key.
    """
    where = f"load_id = {lit(load_id)}"
    if not cols:
        n = con.execute(f"SELECT count(*) FROM {ident(table)} WHERE {where}").fetchone()[0]
        return int(n), min(int(n), 1)
    cards = con.execute("SELECT count(*), " + ", ".join(
        f"count(DISTINCT {ident(c)}) + CAST(count(*) > count({ident(c)}) AS BIGINT)" for c in cols)
        + f" FROM {ident(table)} WHERE {where}").fetchone()
    n_rows, cards = int(cards[0]), [int(x) for x in cards[1:]]
    if n_rows == 0:
        return 0, 0
    space = 1
    for n in cards:
        space *= n
    if space > KEY_BITMAP_BITS:
        h = "hash(" + ", ".join(ident(c) for c in cols) + ")"
        return n_rows, int(con.execute(f"SELECT count(DISTINCT {h}) FROM {ident(table)} WHERE {where}")
                           .fetchone()[0])
    packed, joins = "0", []
    for i, (c, n) in enumerate(zip(cols, cards)):
        con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_rank{i} AS SELECT v, CAST(row_number() OVER () - 1 AS "
                    f"BIGINT) AS r FROM (SELECT DISTINCT {ident(c)} AS v FROM {ident(table)} WHERE {where})")
        joins.append(f"JOIN __tp_rank{i} k{i} ON f.{ident(c)} IS NOT DISTINCT FROM k{i}.v")
        packed = f"({packed}) * {n} + k{i}.r"
    try:
        n_keys = con.execute(f"SELECT bit_count(bitstring_agg({packed}, 0, {space - 1})) FROM {ident(table)} f "
                             f"{' '.join(joins)} WHERE f.{where}").fetchone()[0]
    finally:
        for i in range(len(cols)):
            con.execute(f"DROP TABLE IF EXISTS __tp_rank{i}")
    return n_rows, int(n_keys)


#: Storage labels of the located view (``__store``) → physical table, per target (see tradepulse.warehouse).
def _stores(target: str) -> dict[str, str]:
    from tradepulse.warehouse import STORAGE
    return {"rows": STORAGE[target], "baci": "baci_rows"} if target == "flows" else {"rows": STORAGE[target]}


def _located(target: str) -> str:
    """Relation of ``target``'s rows (canonical columns) with ``__store`` and ``__rid`` naming where each row is
    stored (storage label, ``rowid``): the view ``flows_located``, or the table itself for other targets."""
    if target == "flows":
        return "flows_located"
    from tradepulse.warehouse import STORAGE
    return f"(SELECT 'rows' AS __store, rowid AS __rid, * FROM {ident(STORAGE[target])})"


def _delete_located(con, target: str, rows_sql: str) -> None:
    """Delete the stored rows named by ``rows_sql`` (a query giving ``__store``, ``__rid``)."""
    for label, table in _stores(target).items():
        con.execute(f"DELETE FROM {ident(table)} WHERE rowid IN (SELECT __rid FROM ({rows_sql}) WHERE __store = "
                    f"{lit(label)})")


def _others_exist(con, target: str, load_id: str) -> bool:
    """Does ``target`` hold rows of any load other than ``load_id``?  (Reads storage, not the decoding view.)"""
    from tradepulse.warehouse import STORAGE
    q = f"SELECT EXISTS (SELECT 1 FROM {ident(STORAGE[target])} WHERE load_id IS DISTINCT FROM {lit(load_id)})"
    if target == "flows":
        q += f" OR EXISTS (SELECT 1 FROM baci_loads WHERE load_id <> {lit(load_id)})"
    return bool(con.execute(q).fetchone()[0])


def _drop_loads(con, target: str, load_ids: list[str]) -> None:
    """Delete every stored row of ``load_ids`` from ``target`` (both storages of ``flows``)."""
    from tradepulse.warehouse import STORAGE
    con.execute(f"DELETE FROM {ident(STORAGE[target])} WHERE list_contains(?, load_id)", [load_ids])
    if target == "flows":
        nos = "(SELECT load_no FROM baci_loads WHERE list_contains(?, load_id))"
        for table in ("baci_rows", "baci_countries"):
            con.execute(f"DELETE FROM {table} WHERE load_no IN {nos}", [load_ids])
        con.execute("DELETE FROM baci_loads WHERE list_contains(?, load_id)", [load_ids])


# ------------------------------------------------------------------ slim BACI storage
def _insert_slim(con, spec: Spec, load_id: str) -> tuple[int, int, int]:
    """Append a typed BACI CSV to the slim storage; return (load number, good rows, rejected rows).

    One read: the file's numbers go to ``baci_rows`` as they are, the row's verdict in the sign of its load
    number (``-load_no`` = rejected).  The verdict equals the general checks (:func:`_inner_select`): year
    1900–2100, both country codes present and known, 0 ≤ k ≤ 999999 with an HS chapter in use (k // 10000: 1–97
    without 77, or 99), v ≥ 0 and present, q ≥ 0 or blank/NA (q is text: BACI pads it, ``"          NA"``).
    Country codes are checked once per distinct number (rows with an unknown one are re-marked), and the
    load's numbers with their ISO3 codes go to ``baci_countries``; the constants to ``baci_loads``.  Rejected
    rows are deleted again (their lines reach the quarantine through the second pass).
    """
    consts = spec.slim or {}
    n = int(con.execute("SELECT coalesce(max(load_no), 0) + 1 FROM baci_loads").fetchone()[0])
    ch = "s.k // 10000"
    good = (f"s.t BETWEEN 1900 AND 2100 AND s.i IS NOT NULL AND s.j IS NOT NULL "
            f"AND s.k BETWEEN 0 AND 999999 AND (({ch} BETWEEN 1 AND 97 AND {ch} <> 77) OR {ch} = 99) "
            f"AND s.v >= 0 AND CASE WHEN s.qd IS NOT NULL THEN s.qd >= 0 ELSE (s.q IS NULL OR upper(trim(s.q)) "
            f"IN ('', 'NA', 'NAN', 'NULL')) END")
    n_all = con.execute(
        f"INSERT INTO baci_rows SELECT TRY_CAST(s.t AS SMALLINT), s.i, s.j, TRY_CAST(s.k AS INTEGER), "
        f"s.v * {lit(float(spec.value_scale))}, s.qd, CASE WHEN coalesce({good}, FALSE) THEN {n} ELSE {-n} END "
        f"FROM (SELECT *, TRY_CAST(q AS DOUBLE) AS qd FROM {spec.relation}) s").fetchone()[0]
    # one scan for the distinct values: country numbers (checked here), years and products (ranked by
    # _slim_distinct_keys); values of rows re-marked below only widen the ranks
    con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_slim_values AS SELECT list(DISTINCT year) AS years, "
                f"list(DISTINCT product) AS products, list_distinct(list(DISTINCT reporter) || "
                f"list(DISTINCT partner)) AS numbers FROM baci_rows WHERE load_no = {n}")
    con.execute("CREATE OR REPLACE TEMP TABLE __tp_nums AS SELECT u.number, c.code FROM (SELECT unnest(numbers) "
                "AS number FROM __tp_slim_values) u "
                "LEFT JOIN __tp_codes_numeric c ON c.key = CAST(u.number AS VARCHAR)")
    unknown = [r[0] for r in con.execute("SELECT number FROM __tp_nums WHERE code IS NULL").fetchall()]
    if unknown:
        con.execute(f"UPDATE baci_rows SET load_no = {-n} WHERE load_no = {n} AND (list_contains(?, reporter) OR "
                    f"list_contains(?, partner))", [unknown, unknown])
    con.execute(f"INSERT INTO baci_countries SELECT {n}, number, code FROM __tp_nums WHERE code IS NOT NULL")
    con.execute("INSERT INTO baci_loads VALUES (?, ?, ?, ?, ?, ?)",
                [n, load_id, consts.get("flow", "export"), consts.get("hs_revision", "UNKNOWN"),
                 consts.get("unit", "t"), spec.source_name])
    n_bad = int(con.execute(f"SELECT count(*) FROM baci_rows WHERE load_no = {-n}").fetchone()[0])
    if n_bad:
        con.execute(f"DELETE FROM baci_rows WHERE load_no = {-n}")
    return n, int(n_all) - n_bad, n_bad


def _slim_distinct_keys(con, load_no: int) -> tuple[int, int]:
    """(rows, distinct keys) of a slim load, as :func:`_distinct_keys` but on the stored numbers.

    The key is (year, reporter, partner, product) — month, flow and province are constant in a BACI load.
    Country numbers are ranked by their ISO3 code (dense rank), so two numbers of one country (56 and 58
    for Belgium) count as one key, as in the decoded ``flows``.  Ranks are packed mixed-radix into a bitmap
    (``bitstring_agg``) when the space fits :data:`KEY_BITMAP_BITS`, else counted as distinct 64-bit hashes.
    """
    where = f"load_no = {int(load_no)}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_srk_c AS SELECT number AS v, CAST(dense_rank() OVER "
                f"(ORDER BY iso3) - 1 AS BIGINT) AS r FROM baci_countries WHERE {where}")
    n_c = int(con.execute("SELECT coalesce(max(r), -1) + 1 FROM __tp_srk_c").fetchone()[0])
    for c, values in (("year", "years"), ("product", "products")):  # distinct values found by _insert_slim
        con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_srk_{c} AS SELECT v, CAST(row_number() OVER () - 1 AS "
                    f"BIGINT) AS r FROM (SELECT unnest({values}) AS v FROM __tp_slim_values)")
    n_y, n_p, n_rows = con.execute(f"SELECT (SELECT count(*) FROM __tp_srk_year), (SELECT count(*) FROM "
                                   f"__tp_srk_product), (SELECT count(*) FROM baci_rows WHERE {where})").fetchone()
    try:
        if n_rows == 0:
            return 0, 0
        space = n_y * n_c * n_c * n_p
        packed = f"((y.r * {n_c} + rc.r) * {n_c} + pc.r) * {n_p} + p.r"
        joins = ("JOIN __tp_srk_year y ON y.v = f.year JOIN __tp_srk_c rc ON rc.v = f.reporter "
                 "JOIN __tp_srk_c pc ON pc.v = f.partner JOIN __tp_srk_product p ON p.v = f.product")
        agg = f"bit_count(bitstring_agg({packed}, 0, {space - 1}))" if space <= KEY_BITMAP_BITS else \
            "count(DISTINCT hash(y.r, rc.r, pc.r, p.r))"
        n_keys = con.execute(f"SELECT {agg} FROM baci_rows f {joins} WHERE f.{where}").fetchone()[0]
        return int(n_rows), int(n_keys)
    finally:
        for t in ("c", "year", "product"):
            con.execute(f"DROP TABLE IF EXISTS __tp_srk_{t}")


class _Skip(Exception):
    """Internal: the input turned out to be loaded already (deferred digest)."""


def _previous(con, sha256: str, target: str) -> list:
    return con.execute("SELECT load_id FROM loads WHERE sha256 = ? AND target = ? ORDER BY loaded_at",
                       [sha256, target]).fetchall()


def _key_on(a: str, b: str, keys) -> str:
    """Join condition on every key column, NULLs equal (``IS NOT DISTINCT FROM``)."""
    return " AND ".join(f"{a}.{k} IS NOT DISTINCT FROM {b}.{k}" for k in keys)


#: Largest packed key space for :func:`_find_overlap`'s one-integer join (beyond it: a join on the key columns).
PACKED_KEY_SPACE = 1 << 62


def _find_overlap(con, target: str, load_id: str) -> int:
    """Fill temp table ``__tp_overlap`` (``old_rid``, ``new_rid``, ``old_load_id``, ``old_value``): one row per
    pair of an earlier row and a row of ``load_id`` with the same key in ``target``; return the pair count.

    Keys are ``KEYS[target]`` compared with ``IS NOT DISTINCT FROM`` (NULL month/province equal).
    ``hs_revision`` is not part of the key: the same flow in two HS vintages still doubles totals.
    1. Cheap pre-filter: only earlier rows in a (year, reporter) pair — (year, iso3) for macro — that the
       new load has are considered, so a load of another year or country costs one small join.
    2. Exact one-integer join: each key column is replaced by its dense rank among the *new* load's values
       (NULL counts as a value; an earlier row with a value the new load lacks cannot match and drops out of
       the inner join), ranks are packed mixed-radix (((r₁·n₂ + r₂)·n₃ + r₃)…, injective while Π nᵢ ≤
       :data:`PACKED_KEY_SPACE`) and the two sides are joined on that BIGINT — ≈ 4× faster than a hash join
       on seven mostly-text columns under the ingest memory limit.  Key columns constant in the new load
       become a filter on the earlier rows.  Larger key spaces fall back to the join on the key columns.
    Rows are named by their storage and DuckDB ``rowid`` (``__store``, ``__rid`` of :func:`_located`; valid
    within the transaction), so the deletes that follow (:func:`_delete_located`) are semi-joins on one
    integer.  Columns: ``old_store``, ``old_rid``, ``new_store``, ``new_rid``, ``old_load_id``, ``old_value``.
    """
    keys = KEYS[target]
    pre = [k for k in keys if k in ("year", "reporter", "iso3")]
    t = _located(target)
    value = f"o.{VALUE[target]}" if VALUE[target] else "NULL::DOUBLE"
    mine = f"load_id = {lit(load_id)}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_pairs AS SELECT DISTINCT {', '.join(pre)} FROM {t} WHERE {mine}")
    on_pre = " AND ".join(f"o.{k} = p.{k}" for k in pre)
    earlier = (f"FROM {t} o JOIN __tp_pairs p ON {on_pre} "
               f"WHERE o.load_id IS DISTINCT FROM {lit(load_id)}")
    if not con.execute(f"SELECT EXISTS (SELECT 1 {earlier})").fetchall()[0][0]:
        return 0  # no earlier row shares a (year, reporter) pair with this load
    cards = []
    for i, k in enumerate(keys):  # dense ranks of the new load's values (NULL included), per key column
        con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_ork{i} AS SELECT v, CAST(row_number() OVER () - 1 AS "
                    f"BIGINT) AS r FROM (SELECT DISTINCT {ident(k)} AS v FROM {t} WHERE {mine})")
        cards.append(int(con.execute(f"SELECT count(*) FROM __tp_ork{i}").fetchall()[0][0]))
    space = 1
    for n in cards:
        space *= max(n, 1)
    if space > PACKED_KEY_SPACE:
        for i in range(len(keys)):
            con.execute(f"DROP TABLE IF EXISTS __tp_ork{i}")
        kcols = ", ".join(f"o.{k}" for k in keys)
        con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_overlap AS SELECT o.__store AS old_store, o.__rid AS "
                    f"old_rid, n.__store AS new_store, n.__rid AS new_rid, o.load_id AS old_load_id, o.__v AS "
                    f"old_value FROM (SELECT o.__store, o.__rid, {kcols}, o.load_id, {value} AS __v {earlier}) o "
                    f"JOIN {t} n ON {_key_on('n', 'o', keys)} WHERE n.{mine}")
        return int(con.execute("SELECT count(*) FROM __tp_overlap").fetchall()[0][0])
    packed, new_joins, old_joins, old_filters = "0", [], [], []
    try:
        for i, (k, n) in enumerate(zip(keys, cards)):
            if n <= 1:   # one value in the new load: nothing to pack, a filter on the earlier rows
                old_filters.append(f"o.{ident(k)} IS NOT DISTINCT FROM (SELECT v FROM __tp_ork{i})")
                continue
            new_joins.append(f"JOIN __tp_ork{i} k{i} ON f.{ident(k)} IS NOT DISTINCT FROM k{i}.v")
            old_joins.append(f"JOIN __tp_ork{i} k{i} ON o.{ident(k)} IS NOT DISTINCT FROM k{i}.v")
            packed = f"({packed}) * {n} + k{i}.r"
        filt = "".join(f" AND {x}" for x in old_filters)
        con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_overlap AS SELECT o.old_store, o.old_rid, n.new_store, "
                    f"n.new_rid, o.old_load_id, o.old_value FROM (SELECT o.__store AS old_store, o.__rid AS old_rid, "
                    f"o.load_id AS old_load_id, {value} AS old_value, "
                    f"{packed} AS pk FROM {t} o JOIN __tp_pairs p ON {on_pre} {' '.join(old_joins)} "
                    f"WHERE o.load_id IS DISTINCT FROM {lit(load_id)}{filt}) o "
                    f"JOIN (SELECT f.__store AS new_store, f.__rid AS new_rid, {packed} AS pk FROM {t} f "
                    f"{' '.join(new_joins)} WHERE f.{mine}) n ON o.pk = n.pk")
    finally:
        for i in range(len(keys)):
            con.execute(f"DROP TABLE IF EXISTS __tp_ork{i}")
    return int(con.execute("SELECT count(*) FROM __tp_overlap").fetchall()[0][0])


def _overlap_lines(con, spec: Spec, load_id: str, rejected: list[int], *, first_only: bool = False) -> int:
    """Quarantine the source lines whose good row has a key in ``__tp_ovl_keys``; return how many.

    Pure SQL (``INSERT … SELECT`` over the line-numbered second pass joined to the keys): a revised release
    can repeat millions of rows, which must not travel through pandas.  Line = record number + line offset,
    plus the count of rejected (unreadable) lines before it, as :func:`_true_lines`: with a_i = R_i − i over
    the sorted rejected lines R, line = base + #{i : a_i ≤ base}, found by an ASOF join on a.
    ``first_only``: insert nothing, return the first such line (for the "no usable rows" error).
    """
    keys = KEYS[spec.target]
    sql2 = _inner_select(spec, with_rn=True)[0].replace(
        "{rel}", f"(SELECT row_number() OVER () AS __rn, * FROM {spec.relation_pass2 or spec.relation})")
    desc = " || ', ' || ".join(f"'{k}=' || coalesce(CAST(q.{k} AS VARCHAR), '')" for k in keys)
    rows = (f"SELECT q.__rn + {int(spec.line_offset)} AS __base, {desc} AS __value, q.__raw, v.old_load_id "
            f"FROM ({sql2}) q JOIN __tp_ovl_keys v ON {_key_on('v', 'q', keys)} WHERE q.__reason IS NULL")
    if len(rejected):
        import numpy as np

        r = np.unique(rejected)
        a = r - np.arange(len(r))                       # non-decreasing
        ua = np.unique(a)
        k = np.searchsorted(a, ua, side="right")        # #{i : a_i ≤ ua}
        con.execute("CREATE OR REPLACE TEMP TABLE __tp_rej_a AS SELECT unnest(?::BIGINT[]) AS a, "
                    "unnest(?::BIGINT[]) AS k", [ua.tolist(), k.tolist()])
        rows = f"SELECT x.*, x.__base + coalesce(r.k, 0) AS __line FROM ({rows}) x " \
               f"ASOF LEFT JOIN __tp_rej_a r ON x.__base >= r.a"
    else:
        rows = f"SELECT x.*, x.__base AS __line FROM ({rows}) x"
    if first_only:
        return int(con.execute(f"SELECT min(__line) FROM ({rows})").fetchone()[0])
    return int(con.execute(f"INSERT INTO quarantine SELECT {lit(load_id)}, {lit(spec.file)}, y.__line, 'key', "
                           f"y.__value, l.reason, y.__raw FROM ({rows}) y JOIN __tp_ovl_loads l "
                           f"ON l.old_load_id IS NOT DISTINCT FROM y.old_load_id").fetchone()[0])


def check_overlap_policy(on_overlap: str) -> str:
    """``on_overlap`` itself if it names a policy, else :class:`~tradepulse.errors.UnknownNameError`."""
    if on_overlap not in OVERLAP_POLICIES:
        raise UnknownNameError("on_overlap value", str(on_overlap), list(OVERLAP_POLICIES))
    return on_overlap


def _note(text) -> dict:
    try:
        out = json.loads(text) if text else {}
    except (TypeError, ValueError):
        out = {}
    return out if isinstance(out, dict) else {"note": out}


def run_load(warehouse, spec: Spec, sha256: "str | Callable[[], str]", *, replace: bool = False,
             on_overlap: str = "quarantine", progress: Callable[[str], None] | None = None) -> LoadResult:
    """Run one load described by ``spec`` in a single transaction (see module docstring).

    ``sha256`` is the digest, or a callable giving it later (a file hashed in a background thread while
    the rows are read): then the "already loaded?" check runs after the insert, inside the transaction,
    and a repeated input is rolled back and reported as skipped.  ``on_overlap`` (``quarantine`` |
    ``replace``) says what happens to rows whose key another load already holds (step 5).
    """
    check_overlap_policy(on_overlap)
    step = progress or (lambda _msg: None)
    con = warehouse.raw
    target = spec.target
    tcols = TARGETS[target]
    from tradepulse.warehouse import STORAGE
    store = ident(STORAGE[target])   # where this load's rows are written (``flows`` is a view)
    slim = spec.slim is not None and target == "flows"
    deferred = callable(sha256)
    if not deferred:
        prev = _previous(con, sha256, target)
        if prev and not replace:
            return LoadResult(prev[-1][0], spec.file, 0, 0, 0.0, True, target, spec.fmt, sha256)

    load_id = f"{_dt.datetime.now(_dt.timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    con.execute("SET enable_progress_bar = false")
    # cap DuckDB's memory during the load (it spills to disk beyond): peak RSS stays well under 2 GB
    old_limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.execute(f"SET memory_limit = {lit(os.environ.get('TRADEPULSE_INGEST_MEMORY', '1GB'))}")
    _register_code_tables(con, spec)
    value_col = VALUE[target]
    con.execute("BEGIN TRANSACTION")
    skipped_by = None
    try:
        replaced = 0

        def drop_previous() -> int:
            old = [r[0] for r in con.execute(
                "SELECT load_id FROM loads WHERE target = ? AND (sha256 = ? OR file = ?)",
                [target, sha256, spec.file]).fetchall()]
            if not old:
                return 0
            n = con.execute(f"SELECT count(*) FROM {ident(target)} WHERE list_contains(?, load_id)",
                            [old]).fetchone()[0]
            _drop_loads(con, target, old)
            for t in ("quarantine", "loads"):
                con.execute(f"DELETE FROM {ident(t)} WHERE list_contains(?, load_id)", [old])
            return int(n)

        if replace and not deferred:
            replaced = drop_previous()
        step("reading and validating")
        sql = "" if slim else _inner_select(spec, with_rn=False)[0].replace("{rel}", spec.relation)
        names = [c for c in tcols if c not in ("load_id", "source")]
        outs = ", ".join(ident(c) for c in names)
        bad_id = load_id + "#bad"
        keys = KEYS[target]
        aggregate = spec.product_truncate is not None and target in GOODS_TARGETS and not slim
        load_no = None
        if slim:
            load_no, n_mine, n_bad = _insert_slim(con, spec, load_id)
        elif aggregate:
            con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_stage AS {sql}")
            sums = {"value_usd": "sum(value_usd)", "quantity": "sum(quantity)", "unit": "min(unit)",
                    "hs_revision": "min(hs_revision)"}
            sel = ", ".join(sums.get(c, c) for c in names)
            grp = ", ".join(c for c in names if c not in sums)
            n_mine = con.execute(f"INSERT INTO {store} ({outs}, source, load_id) SELECT {sel}, "
                                 f"{lit(spec.source_name)}, {lit(load_id)} FROM __tp_stage WHERE __reason IS NULL "
                                 f"GROUP BY {grp}").fetchone()[0]
            n_bad = con.execute("SELECT count(*) FROM __tp_stage WHERE __reason IS NOT NULL").fetchone()[0]
            con.execute("DROP TABLE __tp_stage")
        else:
            n_mine = con.execute(f"INSERT INTO {store} ({outs}, source, load_id) SELECT {outs}, "
                                 f"{lit(spec.source_name)}, CASE WHEN __reason IS NULL THEN {lit(load_id)} "
                                 f"ELSE {lit(bad_id)} END FROM ({sql})").fetchone()[0]
            n_bad = con.execute(f"SELECT count(*) FROM {store} WHERE load_id = ?", [bad_id]).fetchone()[0]
            n_mine -= n_bad
            if n_bad:
                con.execute(f"DELETE FROM {store} WHERE load_id = ?", [bad_id])
        if deferred:  # the digest was computed meanwhile: now decide skip / replace
            sha256 = sha256()
            prev = _previous(con, sha256, target)
            if prev and not replace:
                skipped_by = prev[-1][0]
                raise _Skip()
            if replace:
                replaced = drop_previous()
        rejected: list[int] = []  # physical lines of unreadable rows (DuckDB's rejects table)
        if spec.rejects:
            rej = con.execute("SELECT line, min(column_name), min(error_message), min(csv_line) "
                              "FROM __tp_rejects GROUP BY line ORDER BY line").fetchall()
            rejected = [int(r[0]) for r in rej]
        else:
            rej = []
        # duplicate keys among the good rows
        step("checking duplicate keys")
        n_dup = 0
        if not aggregate:
            # key columns that hold one value for the whole load (no source column, or a literal constant)
            # cannot tell rows apart: leave them out of the quick test (the exact check uses every key)
            varying = [k for k in keys if not _constant_field(spec, k)]
            kh = "hash(" + ", ".join(varying or keys) + ")"
            # quick test: as many distinct keys as rows → no duplicates
            if slim:
                n_rows, n_hash = _slim_distinct_keys(con, load_no)
            else:
                n_rows, n_hash = _distinct_keys(con, STORAGE[target], load_id, varying)
            if n_rows != n_hash:  # some key repeats: find which (exactly), by hash then by value
                mine_rel = ident(target) if slim else store  # slim rows are compared decoded, through the view
                con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_dups AS SELECT {', '.join(keys)}, count(*) AS n "
                            f"FROM {mine_rel} WHERE load_id = ? AND {kh} IN (SELECT h FROM (SELECT {kh} AS h, "
                            f"count(*) AS n FROM {mine_rel} WHERE load_id = ? GROUP BY h) WHERE n > 1) "
                            f"GROUP BY ALL HAVING count(*) > 1", [load_id, load_id])
                n_dup = con.execute("SELECT coalesce(sum(n), 0) FROM __tp_dups").fetchone()[0]
            if n_dup:
                on = " AND ".join(f"d.{k} IS NOT DISTINCT FROM f.{k}" for k in keys)
                if slim:
                    _delete_located(con, target, f"SELECT f.__store, f.__rid FROM {_located(target)} f "
                                                 f"JOIN __tp_dups d ON {on} WHERE f.load_id = {lit(load_id)}")
                else:
                    con.execute(f"DELETE FROM {store} f USING __tp_dups d WHERE f.load_id = ? AND {on}", [load_id])
                n_mine -= n_dup
        # keys that earlier loads already hold (skipped at the cost of a count(*) when there are none)
        step("checking earlier loads")
        n_ovl, n_ovl_lines, overlapping, note = 0, 0, [], dict(spec.note)
        quarantine_ovl = False
        if _others_exist(con, target, load_id) and _find_overlap(con, target, load_id):
            tbl = ident(target)
            if on_overlap == "quarantine":  # the new rows go; each names the (first) earlier load holding its key
                quarantine_ovl = True
                n_ovl = con.execute("SELECT count(DISTINCT new_rid) FROM __tp_overlap").fetchall()[0][0]
                if n_ovl == n_mine:  # nothing would load: say so without writing quarantine rows (rolled back)
                    hit = con.execute("SELECT o.old_load_id, any_value(l.file), count(DISTINCT o.new_rid) FROM "
                                      "__tp_overlap o LEFT JOIN loads l ON l.load_id = o.old_load_id GROUP BY 1 "
                                      "ORDER BY 3 DESC, 1").fetchall()
                    others = n_bad + n_dup + len(rej)
                    # no other problem: every line is good and overlapping, so the first data line is the first
                    first_line = spec.line_offset + 1
                    if others:
                        con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_ovl_keys AS SELECT {', '.join(keys)}, "
                                    f"NULL::VARCHAR AS old_load_id FROM {tbl} WHERE load_id = ?", [load_id])
                        first_line = _overlap_lines(con, spec, load_id, rejected, first_only=True)
                    earlier = "; ".join(f"{n:,} by load {i} ({f or 'no load record'})" for i, f, n in hit[:3]) \
                        + ("; …" if len(hit) > 3 else "")
                    raise InputError(f"no usable rows: the {n_ovl:,} valid row(s) are already in the warehouse "
                                     f"(loaded {earlier}); nothing was loaded.  To let this file supersede the "
                                     f"earlier rows, load it with --on-overlap replace (Python: on_overlap='replace')"
                                     + (f"; {others:,} other row(s) were rejected" if others else ""),
                                     file=spec.file, line=first_line, column="key")
                fk = ", ".join("f." + k for k in keys)
                con.execute(f"CREATE OR REPLACE TEMP TABLE __tp_ovl_keys AS SELECT {fk}, v.old_load_id FROM "
                            f"{_located(target)} f JOIN (SELECT new_store, new_rid, min(old_load_id) AS old_load_id "
                            f"FROM __tp_overlap GROUP BY 1, 2) v ON f.__store = v.new_store AND f.__rid = v.new_rid")
                con.execute("CREATE OR REPLACE TEMP TABLE __tp_ovl_loads AS SELECT o.old_load_id, any_value(l.file) "
                            "AS file, 'already loaded by load ' || coalesce(o.old_load_id, 'NULL') || ' (' || "
                            "coalesce(any_value(l.file), 'no load record') || ')' AS reason, count(*) AS n "
                            "FROM __tp_ovl_keys o LEFT JOIN loads l ON l.load_id = o.old_load_id GROUP BY 1")
                _delete_located(con, target, "SELECT new_store AS __store, new_rid AS __rid FROM __tp_overlap")
                overlapping = [{"load_id": i, "file": f, "rows": int(n)} for i, f, n in con.execute(
                    "SELECT old_load_id, file, n FROM __tp_ovl_loads ORDER BY 1").fetchall()]
            else:  # replace: the earlier rows go; their loads' counts are brought up to date
                sup = con.execute("SELECT old_load_id, count(*), coalesce(sum(old_value), 0) FROM __tp_overlap "
                                  "GROUP BY 1 ORDER BY 1").fetchall()
                n_ovl = con.execute("SELECT count(DISTINCT new_rid) FROM __tp_overlap").fetchall()[0][0]
                _delete_located(con, target, "SELECT old_store AS __store, old_rid AS __rid FROM __tp_overlap")
                old = {r[0]: (r[1], r[2]) for r in con.execute(
                    "SELECT load_id, file, note FROM loads WHERE list_contains(?, load_id)",
                    [[r[0] for r in sup]]).fetchall()}
                vsum_old = f"coalesce(sum({value_col}), 0)" if value_col else "0"
                for old_id, n, v in sup:
                    file, old_note = old.get(old_id, (None, None))
                    overlapping.append({"load_id": old_id, "file": file, "rows": int(n)})
                    note.setdefault("superseded", {})[old_id] = {"file": file, "rows": int(n), "value_usd": float(v)}
                    if old_id in old:
                        old_meta = _note(old_note)
                        old_meta.setdefault("superseded_by", {})[load_id] = {"file": spec.file, "rows": int(n)}
                        con.execute(f"UPDATE loads SET rows_loaded = (SELECT count(*) FROM {tbl} WHERE load_id = $1), "
                                    f"value_usd_loaded = (SELECT {vsum_old} FROM {tbl} WHERE load_id = $1), "
                                    f"note = $2 WHERE load_id = $1",
                                    [old_id, json.dumps(old_meta, ensure_ascii=False, default=str)])
        if quarantine_ovl:
            step("locating rejected lines")
            n_ovl_lines = _overlap_lines(con, spec, load_id, rejected)
            if n_ovl_lines != n_ovl and not aggregate:  # aggregated loads: several lines per key
                raise RuntimeError(f"internal error: {n_ovl} overlapping rows but {n_ovl_lines} lines")
        # quarantine with line numbers (second pass only when needed)
        if n_bad or n_dup or len(rej):
            import numpy as np
            import pandas as pd

            step("locating rejected lines")
            rel2 = spec.relation_pass2 or spec.relation
            sql2, _ = _inner_select(spec, with_rn=True)
            sql2 = sql2.replace("{rel}", f"(SELECT row_number() OVER () AS __rn, * FROM {rel2})")
            desc = " || ', ' || ".join(f"'{k}=' || coalesce(CAST(q.{k} AS VARCHAR), '')" for k in keys)
            parts = [f"SELECT __rn, __raw, __column, __value, __reason, 'rule' AS __kind FROM ({sql2}) "
                     f"WHERE __reason IS NOT NULL"]
            if n_dup:
                parts.append(f"SELECT q.__rn, q.__raw, 'key' AS __column, {desc} AS __value, "
                             f"'duplicate key (' || d.n || ' rows share it)' AS __reason, 'dup' AS __kind "
                             f"FROM ({sql2}) q JOIN __tp_dups d ON {_key_on('d', 'q', keys)} WHERE q.__reason IS NULL")
            qdf = con.execute(" UNION ALL ".join(parts)).df()
            n_rule = int((qdf["__kind"] == "rule").sum())
            if n_rule != n_bad:  # both passes must agree on which rows are bad
                raise RuntimeError(f"internal error: first pass rejected {n_bad} rows, second pass {n_rule}")
            qdf["line"] = _true_lines(qdf["__rn"].to_numpy("int64"), spec.line_offset + 1,
                                      np.asarray(rejected, dtype="int64"))
            if len(rej):
                qdf = pd.concat([qdf, pd.DataFrame({
                    "line": [r[0] for r in rej], "__column": [r[1] for r in rej], "__value": None,
                    "__reason": [f"unreadable line: {str(r[2]).splitlines()[0]}" for r in rej],
                    "__raw": [str(r[3] or "").strip("\r\n") for r in rej]})], ignore_index=True)
            qdf = qdf.sort_values("line", kind="stable")
            out = pd.DataFrame({"load_id": load_id, "file": spec.file, "line": qdf["line"].astype("int64"),
                                "column_name": qdf["__column"], "value": qdf["__value"],
                                "reason": qdf["__reason"], "raw": qdf["__raw"]})
            con.register("__tp_q_df", out)
            con.execute("INSERT INTO quarantine SELECT * FROM __tp_q_df")
            con.unregister("__tp_q_df")
        n_q = n_bad + n_dup + len(rej) + n_ovl_lines
        step("committing")
        vsum = f"coalesce(sum({value_col}), 0)" if value_col else "0"
        n_ok, v_ok = (con.execute(f"SELECT count(*), {vsum} FROM baci_rows WHERE load_no = ?", [load_no]) if slim
                      else con.execute(f"SELECT count(*), {vsum} FROM {store} WHERE load_id = ?", [load_id])
                      ).fetchone()
        problems = [dict(zip(("line", "column_name", "value", "reason"), r)) for r in con.execute(
            "SELECT line, column_name, value, reason FROM quarantine WHERE load_id = ? ORDER BY line LIMIT 10",
            [load_id]).fetchall()]
        if n_ok == 0:
            first = problems[0] if problems else None
            raise InputError("no usable rows" + (f"; first problem: {first['reason']} (value {first['value']!r})"
                                                 if first else " (the input is empty)"),
                             file=spec.file, line=first["line"] if first else None,
                             column=first["column_name"] if first else None)
        con.execute("INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, current_timestamp, ?)",
                    [load_id, spec.file, sha256, spec.fmt, target, int(n_ok), int(n_q), float(v_ok),
                     json.dumps(note, ensure_ascii=False, default=str)])
        con.execute("COMMIT")
    except _Skip:
        con.execute("ROLLBACK")
        return LoadResult(skipped_by, spec.file, 0, 0, 0.0, True, target, spec.fmt, sha256)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute(f"SET memory_limit = {lit(old_limit)}")
        for t in ("__tp_dups", "__tp_stage", "__tp_pairs", "__tp_overlap", "__tp_ovl_keys", "__tp_ovl_loads",
                  "__tp_rej_a", "__tp_nums", "__tp_slim_values"):
            try:
                con.execute(f"DROP TABLE IF EXISTS {t}")
            except Exception:  # noqa: BLE001 - cleanup only
                pass
    return LoadResult(load_id, spec.file, int(n_ok), int(n_q), float(v_ok), False, target, spec.fmt, sha256,
                      int(replaced), problems, rows_overlapping=int(n_ovl), overlapping_loads=overlapping)
