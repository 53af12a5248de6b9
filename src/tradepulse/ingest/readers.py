"""Readers: turn a file (BACI, Comtrade, customs, generic CSV/Parquet/Excel, services, macro) into a :class:`Spec`.

A reader only decides *which source column feeds which canonical column* (plus constants and conventions);
typing, code mapping and validation are the same for every format (:mod:`tradepulse.ingest._sql`,
:mod:`tradepulse.ingest._core`).

Column mapping: ``{canonical: source header or [candidates]}``; the first candidate present in the file wins.
Headers are compared case-insensitively after trimming, collapsing spaces and unifying Arabic/Persian
``ي/ی`` and ``ك/ک`` and the zero-width non-joiner.  Any canonical column may instead be a *constant* passed as
an option (``year=2017``, ``partner="WLD"``, ``reporter="IRN"``, ``flow="export"``, ``hs_revision="HS2017"``).
"""

from __future__ import annotations

import re
import tempfile
import tomllib
import zipfile
from pathlib import Path

import duckdb
import yaml

from tradepulse.errors import InputError
from tradepulse.ingest._spec import TARGETS, LineSplit, Spec, ident, lit

HERE = Path(__file__).parent
FORMATS = ("baci", "comtrade", "customs", "generic", "services", "macro")

#: Canonical columns that must be mapped (or given as constants) per target.
REQUIRED = {"flows": ("year", "reporter", "partner", "flow", "product", "value_usd"),
            "services": ("year", "reporter", "partner", "flow", "ebops", "value_usd"),
            "macro": ("year", "iso3"),
            "firm_flows": ("year", "reporter", "firm", "partner", "flow", "product", "value_usd")}

COMTRADE_COLUMNS = {
    "year": ["refYear", "Year", "yr", "year"],
    "reporter": ["reporterISO", "Reporter ISO", "reporterCodeIsoAlpha3", "rt3ISO", "reporter"],
    "partner": ["partnerISO", "Partner ISO", "partnerCodeIsoAlpha3", "pt3ISO", "partner"],
    "flow": ["flowCode", "Trade Flow Code", "rgCode", "Trade Flow", "flowDesc", "flow"],
    "product": ["cmdCode", "Commodity Code", "product"],
    "hs_revision": ["classificationCode", "Classification", "pfCode", "hs_revision"],
    "value_usd": ["primaryValue", "Trade Value (US$)", "TradeValue", "value_usd"],
    "quantity": ["netWgt", "Netweight (kg)", "NetWeight", "quantity"],
}
COMTRADE_NUMERIC = {"reporter": ["reporterCode", "Reporter Code", "rtCode"],
                    "partner": ["partnerCode", "Partner Code", "ptCode"]}

SERVICES_COLUMNS = {
    "year": ["year", "refYear", "period", "time_period"],
    "reporter": ["reporter", "reporterISO", "reporter_iso", "ref_area"],
    "partner": ["partner", "partnerISO", "partner_iso", "counterpart_area"],
    "flow": ["flow", "flowCode", "indicator_flow"],
    "ebops": ["ebops", "service", "cmdCode", "service_code", "code"],
    "value_usd": ["value_usd", "value", "primaryValue", "obs_value"],
}
MACRO_COLUMNS = {
    "year": ["year", "date", "time"],
    "iso3": ["iso3", "iso", "country_code", "reporter_iso", "countrycode", "reporter"],
    "gdp_usd": ["gdp_usd", "gdp_current_usd", "gdp", "NY.GDP.MKTP.CD"],
    "population": ["population", "population_total", "pop", "SP.POP.TOTL"],
}


def _norm(h: str) -> str:
    h = str(h).replace("\u200c", " ").replace("ي", "ی").replace("ك", "ک")
    return re.sub(r"\s+", " ", h.strip().strip('"').lower())


def load_mapping(path: str | Path | None) -> dict:
    """Read a YAML or TOML mapping file: ``{target, columns: {canonical: header | [headers]}, constants, options}``.

    ``None`` → ``{}``; the name ``customs_fa`` selects the shipped Persian customs mapping.
    """
    if path is None:
        return {}
    p = Path(path)
    if str(path) == "customs_fa":
        p = HERE / "mappings" / "customs_fa.yaml"
    try:
        text = p.read_bytes()
        data = tomllib.loads(text.decode("utf-8")) if p.suffix.lower() == ".toml" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read mapping file: {exc}", file=str(p)) from exc
    if not isinstance(data, dict):
        raise InputError("mapping file must hold a table with 'columns'", file=str(p))
    if "columns" not in data:  # a bare {canonical: header} table
        data = {"columns": data}
    bad = set(data) - {"target", "columns", "constants", "options", "format"}
    if bad:
        raise InputError(f"unknown mapping keys {sorted(bad)} (allowed: target, columns, constants, options)",
                         file=str(p))
    return data


class Source:
    """A readable source: its SQL relation, column names and how lines are counted."""

    def __init__(self, con, path: Path | None, *, kind: str, relation: str, relation_pass2: str | None,
                 columns: list[str], rejects: bool, display: str):
        self.path, self.kind, self.relation, self.relation_pass2 = path, kind, relation, relation_pass2
        self.columns, self.rejects, self.display = columns, rejects, display

    def find(self, candidates) -> str | None:
        if candidates is None:
            return None
        if isinstance(candidates, str):
            candidates = [candidates]
        normed = {_norm(c): c for c in self.columns}
        for cand in candidates:
            if _norm(cand) in normed:
                return normed[_norm(cand)]
        return None


BACI_TYPES = {"t": "INTEGER", "i": "INTEGER", "j": "INTEGER", "k": "BIGINT", "v": "DOUBLE", "q": "VARCHAR"}


def baci_slim_constants(consts: dict, display: str) -> dict:
    """The per-load constants of a slim BACI load as canonical words: flow, HS revision, unit."""
    from tradepulse.ingest import codes
    hs = codes.HS_CLASSIFICATIONS.get(str(consts.get("hs_revision", "UNKNOWN")).upper().strip())
    if hs is None:
        raise InputError(f"unknown HS revision {consts.get('hs_revision')!r}", file=display)
    flow = codes.FLOW_WORDS.get(str(consts.get("flow", "export")).lower().strip())
    if flow is None:
        raise InputError(f"unknown flow {consts.get('flow')!r}", file=display)
    return {"flow": flow, "hs_revision": hs, "unit": str(consts.get("unit", "t"))}


def csv_header(path: Path, encoding: str | None = None, delimiter: str | None = None) -> list[str] | None:
    """The column names on a CSV file's first line (quotes removed), or None when it cannot be read."""
    import csv

    try:
        with open(path, "rb") as fh:
            first = fh.readline(1 << 16)
        text = first.decode(encoding or "utf-8-sig").rstrip("\r\n")
        names = next(csv.reader([text], delimiter=delimiter or ","))
    except (OSError, UnicodeDecodeError, LookupError, csv.Error, StopIteration):
        return None
    return [n.strip() for n in names] if names and all(n.strip() for n in names) else None


def open_source(con, path: Path, *, display: str, encoding: str | None = None, delimiter: str | None = None,
                sheet: str | int | None = None, kind: str | None = None, types: dict | None = None,
                pinned: list[str] | None = None) -> Source:
    """Open a CSV / Parquet / Excel file as a DuckDB relation (CSV read as text, malformed lines kept aside).

    ``pinned``: the CSV's header names; the dialect is then fixed (``,`` or ``delimiter``, ``"`` quotes, no
    sniffing), so one malformed line cannot make the sniffer misread the whole file (BACI)."""
    if not path.exists():
        raise InputError("file not found", file=display)
    suffix = path.suffix.lower()
    kind = kind or ("parquet" if suffix in (".parquet", ".pq") else
                    "excel" if suffix in (".xlsx", ".xlsm", ".xls") else "csv")
    try:
        if kind == "parquet":
            rel = f"read_parquet({lit(str(path))})"
            rel2, rejects = rel, False
        elif kind == "excel":
            import pandas as pd
            try:
                frame = pd.read_excel(path, sheet_name=sheet or 0, dtype=str, keep_default_na=False)
            except Exception as exc:  # openpyxl/xlrd raise many kinds (BadZipFile, KeyError, ...)
                what = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise InputError(f"cannot read Excel file (corrupt, truncated or not a workbook): {what}",
                                 file=display) from exc
            con.register("__tp_excel", frame)
            rel = rel2 = "__tp_excel"
            rejects = False
        else:
            if pinned:
                tmap = ", ".join(f"{lit(k)}: {lit((types or {}).get(k, 'VARCHAR'))}" for k in pinned)
                opts = (f"auto_detect = false, header = true, delim = {lit(delimiter or ',')}, quote = '\"', "
                        f"escape = '\"', columns = {{{tmap}}}" + (", nullstr = ['NA', '']" if types else ""))
                delimiter = None
            elif types:
                tmap = ", ".join(f"{lit(k)}: {lit(v)}" for k, v in types.items())
                opts = f"header = true, types = {{{tmap}}}, nullstr = ['NA', '']"
            else:
                opts = "all_varchar = true, header = true"
            if encoding:
                opts += f", encoding = {lit(encoding)}"
            if delimiter:
                opts += f", delim = {lit(delimiter)}"
            for t in ("__tp_rejects", "__tp_rejects_scan"):
                con.execute(f"DROP TABLE IF EXISTS {t}")
            rel = (f"read_csv({lit(str(path))}, {opts}, store_rejects = true, rejects_table = '__tp_rejects', "
                   f"rejects_scan = '__tp_rejects_scan')")
            rel2 = f"read_csv({lit(str(path))}, {opts}, ignore_errors = true)"
            rejects = True
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {rel2}").fetchall()]
    except (duckdb.Error, OSError, ValueError) as exc:
        raise InputError(f"cannot read {kind} file: {str(exc).splitlines()[0]}", file=display) from exc
    return Source(con, path, kind=kind, relation=rel, relation_pass2=rel2, columns=cols, rejects=rejects,
                  display=display)


_CSV_FIELD = rb'(?:"(?:[^"]|"")*"|[^",\r\n]*)'


def split_csv_lines(path: Path, out: Path, n_fields: int, delimiter: str | None = None,
                    encoding: str | None = None) -> LineSplit:
    """Copy a CSV to ``out`` without the lines that are not ``n_fields`` well-formed fields of text in
    ``encoding`` (default UTF-8; a stray quote or line break, a bad byte) and without empty lines; keep the
    header.  Each left-out line is reported
    with its real line number and why; the copy's lines map back through :attr:`LineSplit.kept`."""
    from array import array

    delimiter = delimiter or ","
    d = re.escape(delimiter.encode())
    field = _CSV_FIELD.replace(b",", d)
    ok = re.compile(field + b"(?:" + d + field + b"){" + str(n_fields - 1).encode() + b"}")
    kept, bad, blank = array("q"), [], []
    with open(path, "rb") as src, open(out, "wb") as dst:
        dst.write(src.readline().rstrip(b"\r\n") + b"\n")
        for no, line in enumerate(src, start=2):
            body = line.rstrip(b"\r\n")
            if not body:  # an empty line: skipped, as DuckDB does
                blank.append(no)
                continue
            reason = None
            try:
                body.decode(encoding or "utf-8")
            except UnicodeDecodeError as exc:
                reason = (f"not {encoding or 'UTF-8'} text (byte 0x{body[exc.start]:02x} at character "
                          f"{exc.start + 1})")
            if reason is None and ok.fullmatch(body) is None:
                quotes = body.count(b'"') % 2
                reason = ("unbalanced quote" if quotes else
                          f"expected {n_fields} fields, found {len(body.split(delimiter.encode()))}")
            if reason is None:
                dst.write(body + b"\n")
                kept.append(no)
            else:
                bad.append((no, None, reason, body.decode(encoding or "utf-8", "replace")))
    return LineSplit(kept=kept.tolist(), bad=bad, blank=blank)


def build_spec(src: Source, *, fmt: str, target: str, columns: dict, constants: dict, countries: dict,
               sha_note: dict | None = None, **spec_opts) -> Spec:
    """Resolve the column mapping against the file's headers, add constants, check required columns."""
    fields: dict[str, str | None] = {}
    looked: dict[str, list[str]] = {}
    for canon in TARGETS[target]:
        if canon in ("load_id", "source"):
            continue
        if f"__{canon}_expr" in constants:  # a reader-built SQL expression (not user text)
            fields[canon] = constants[f"__{canon}_expr"]
            continue
        if canon in constants and constants[canon] is not None:
            fields[canon] = lit(str(constants[canon]))
            continue
        cands = columns.get(canon)
        col = src.find(cands)
        looked[canon] = [cands] if isinstance(cands, str) else list(cands or [])
        fields[canon] = f"s.{ident(col)}" if col is not None else None
    for canon in REQUIRED[target]:
        if fields.get(canon) is None:
            tried = ", ".join(repr(c) for c in looked.get(canon, [])) or "no mapping"
            raise InputError(f"missing required column for {canon!r} (looked for {tried}; map it with --mapping "
                             f"or give it as a constant)", file=src.display, line=1, column=canon)
    if target == "macro" and fields.get("gdp_usd") is None and fields.get("population") is None:
        raise InputError("macro file needs a GDP or a population column", file=src.display, line=1)
    return Spec(target=target, fmt=fmt, file=src.display, relation=src.relation, columns=src.columns, kind=src.kind,
                fields=fields, countries=countries, rejects=src.rejects, relation_pass2=src.relation_pass2,
                note=sha_note or {}, read_path=str(src.path) if src.path is not None else None, **spec_opts)


def _check_province_header(src: Source, candidates, display: str) -> None:
    """A file whose province column is not found but which has a header that looks like one (a misspelling
    such as ``provnice`` or ``استانn``, or another header naming a province) is refused: loading it would
    silently store every row as national.  Looks like = contains ``province``/``استان`` or is at least 75 %
    similar (difflib ratio) to an accepted header."""
    import difflib

    if candidates is None or src.find(candidates) is not None:
        return
    accepted = [candidates] if isinstance(candidates, str) else list(candidates)
    normed = [_norm(c) for c in accepted]
    for col in src.columns:
        h = _norm(col)
        if ("province" in h or "provin" in h or "استان" in h
                or max(difflib.SequenceMatcher(None, h, n).ratio() for n in normed) >= 0.75):
            raise InputError(f"unknown province header {str(col)!r}: expected one of "
                             f"{', '.join(repr(a) for a in accepted)} (rename the column, or map it with "
                             f"--mapping)", file=display, line=1, column=str(col))


# ------------------------------------------------------------------ per-format readers
CONSTANT_KEYS = ("year", "month", "reporter", "partner", "flow", "product", "hs_revision", "unit", "province",
                 "ebops", "iso3")
SPEC_OPTIONS = ("value_scale", "product_pad", "product_digits", "product_truncate", "allow_total", "calendar",
                "local_digits")


def _split_options(options: dict) -> tuple[dict, dict, dict]:
    consts = {k: options.pop(k) for k in list(options) if k in CONSTANT_KEYS}
    spec_opts = {k: options.pop(k) for k in list(options) if k in SPEC_OPTIONS}
    if "product_digits" in spec_opts and isinstance(spec_opts["product_digits"], int):
        spec_opts["product_digits"] = (spec_opts["product_digits"],)
    elif "product_digits" in spec_opts:
        spec_opts["product_digits"] = tuple(int(d) for d in spec_opts["product_digits"])
    return consts, spec_opts, options


_BACI_YEAR = re.compile(r"_Y(\d{4})_", re.I)
_BACI_HS = re.compile(r"BACI_(HS\d{2})", re.I)


def baci_members(path: Path) -> list[str]:
    """The yearly data CSVs in a BACI zip (a release holds one per year, ``BACI_HS17_Y2021_V202401.csv``),
    sorted; the ``country_codes`` and ``product_codes`` lists are not data."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(f"not a readable zip file: {exc}", file=str(path)) from exc
    return sorted(n for n in names if n.lower().endswith(".csv") and "country_codes" not in n.lower()
                  and "product_codes" not in n.lower())


def baci_member_year(name: str) -> int | None:
    """The year in a BACI data file name (``…_Y2021_…`` → 2021), or None."""
    m = _BACI_YEAR.search(Path(name).name)
    return int(m.group(1)) if m else None


def baci_hs_revision(*names: str | Path) -> str | None:
    """The HS revision a BACI file or release name states (``BACI_HS17_…`` → ``HS2017``), or None."""
    from tradepulse.ingest import codes
    for name in names:
        m = _BACI_HS.search(Path(str(name)).name)
        if m and m.group(1).upper() in codes.HS_CLASSIFICATIONS:
            return codes.HS_CLASSIFICATIONS[m.group(1).upper()]
    return None


def baci_zip_member(path: Path, member: str | None, workdir: Path) -> tuple[Path, Path | None]:
    """Extract the data CSV (and ``country_codes_*.csv`` when present) of a BACI zip into ``workdir``."""
    data = baci_members(path)
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        if member:
            data = [n for n in names if n == member or Path(n).name == member]
        if len(data) != 1:
            raise InputError(f"zip holds {len(data)} data CSV files ({', '.join(data[:10])}"
                             f"{', …' if len(data) > 10 else ''}); choose one with member=NAME, or load them "
                             f"all with `tradepulse ingest` (Python: tradepulse.ingest.ingest_release)",
                             file=str(path))
        out = Path(zf.extract(data[0], workdir))
        cc = [n for n in names if "country_codes" in n.lower() and n.lower().endswith(".csv")]
        cc_path = Path(zf.extract(cc[0], workdir)) if cc else None
    return out, cc_path


def spec_for_file(con, path: Path, fmt: str, options: dict, tmpdir: Path,
                  line_split: tuple[Path, LineSplit] | None = None) -> Spec:
    """Build the :class:`Spec` for ``path`` read as ``fmt`` with reader ``options``.

    ``line_split``: (copy, split) — read the copy of the (BACI) CSV made by :func:`split_csv_lines` instead,
    reporting the file's own name and line numbers."""
    options = dict(options)
    mapping = load_mapping(options.pop("mapping", None))
    if fmt == "customs" and not mapping.get("columns"):
        mapping = load_mapping("customs_fa")
    map_cols = dict(mapping.get("columns", {}))
    map_consts = dict(mapping.get("constants", {}))
    map_opts = dict(mapping.get("options", {}))
    merged = {**map_consts, **map_opts, **options}
    display = str(path)
    encoding = merged.pop("encoding", None)
    delimiter = merged.pop("delimiter", None)
    sheet = merged.pop("sheet", None)
    member = merged.pop("member", None)
    country_codes_csv = merged.pop("country_codes_csv", None)
    country_kind = merged.pop("country_codes", None)
    source_name = merged.pop("source", None)
    asked = merged.pop("target", None)
    fixed = {"baci": "flows", "comtrade": "flows", "services": "services", "macro": "macro"}.get(fmt)
    if asked is not None and fixed is not None and asked != fixed:
        raise InputError(f"format {fmt} loads into {fixed}, not {asked!r} (target= applies to customs and "
                         f"generic files)", file=display)
    target = asked or mapping.get("target")
    extra_cols = merged.pop("columns", None) or {}
    map_cols.update(extra_cols)
    consts, spec_opts, rest = _split_options(merged)
    if rest:
        raise InputError(f"unknown reader options: {', '.join(sorted(rest))}", file=display)

    read_path = path
    if fmt == "baci" and path.suffix.lower() == ".zip":
        read_path, cc = baci_zip_member(path, member, tmpdir)
        country_codes_csv = country_codes_csv or cc
        display = f"{path}!{read_path.name}"
    if line_split is not None:
        read_path = line_split[0]
    is_csv = read_path.suffix.lower() not in (".parquet", ".pq", ".xlsx", ".xlsm", ".xls")
    # BACI CSV: the dialect is fixed from the header (no sniffing a possibly damaged sample)
    pinned = csv_header(read_path, encoding, delimiter) if fmt == "baci" and is_csv else None
    typed = None
    if fmt == "baci" and not map_cols and (country_kind or "numeric") == "numeric" and is_csv \
            and pinned is not None and sorted(pinned) == sorted(BACI_TYPES):
        try:  # the usual BACI CSV: open it typed at once; anything else → the text open below
            typed = open_source(con, read_path, display=display, encoding=encoding, delimiter=delimiter,
                                types=BACI_TYPES, pinned=pinned)
            if not all(typed.find(c) == c for c in BACI_TYPES):
                typed = None
        except InputError:
            typed = None
    src = typed or open_source(con, read_path, display=display, encoding=encoding, delimiter=delimiter,
                               sheet=sheet, pinned=pinned)
    note = {"format": fmt, **{k: v for k, v in consts.items()}}

    if fmt == "baci":
        cols = {"year": "t", "reporter": "i", "partner": "j", "product": "k", "value_usd": "v", "quantity": "q"}
        cols.update(map_cols)
        consts = {"flow": "export", "unit": "t", **consts}
        if "hs_revision" not in consts:  # BACI names its files by HS vintage: BACI_HS17_Y2021_V202401.csv
            stated = baci_hs_revision(read_path, path)
            if stated:
                consts["hs_revision"] = stated
                note["hs_revision"] = f"{stated} (from the file name)"
        spec = dict(value_scale=1000.0, product_pad=6, product_digits=(6,), allow_total=False)
        spec.update(spec_opts)
        kind = country_kind or "numeric"
        fast = (typed is not None and spec["product_digits"] == (6,) and spec["product_pad"] == 6
                and set(consts) <= {"flow", "unit", "hs_revision"})
        if typed is not None and not fast:  # options the slim load does not cover: read the file as text
            src = open_source(con, read_path, display=display, encoding=encoding, delimiter=delimiter,
                              pinned=pinned)
        out = build_spec(src, fmt=fmt, target="flows", columns=cols, constants=consts,
                         countries={"reporter": kind, "partner": kind},
                         sha_note=note, source_name=source_name or "baci",
                         country_codes_csv=str(country_codes_csv) if country_codes_csv else None, **spec)
        if fast:  # stored slim (numbers as in the file): see tradepulse.warehouse
            out.slim = baci_slim_constants(consts, display)
        if line_split is not None:
            out.line_split = line_split[1]
        return out
    if fmt == "comtrade":
        cols = {k: list(v) for k, v in COMTRADE_COLUMNS.items()}
        kinds = {"reporter": "iso3", "partner": "iso3"}
        for c, numeric in COMTRADE_NUMERIC.items():  # numeric codes when no ISO column
            if src.find(cols[c]) is None and src.find(numeric) is not None and c not in consts:
                cols[c], kinds[c] = numeric, "numeric"
        cols.update(map_cols)
        if src.find(cols["quantity"]) is not None:
            consts.setdefault("unit", "kg")
        # a totals file (by partner, or monthly) has no commodity column: its rows are all goods
        if src.find(cols["product"]) is None and "product" not in consts and "__product_expr" not in consts:
            consts["product"] = "TOTAL"
            note["product"] = "TOTAL (no commodity column: all-goods totals)"
        # months: "+" refMonth (52 = annual), classic/"+" period YYYYMM, or a plain month column (1-12);
        # year from period when no year column
        period, ref_month = src.find(["period", "Period"]), src.find(["refMonth"])
        if "month" not in consts and "month" not in map_cols:
            if ref_month is not None:
                m = f"s.{ident(ref_month)}"
                cols["month"] = None
                consts["__month_expr"] = (f"CASE WHEN TRY_CAST({m} AS INTEGER) BETWEEN 1 AND 12 "
                                          f"THEN CAST({m} AS VARCHAR) END")
            elif src.find(["month", "Month"]) is not None:
                cols["month"] = ["month", "Month"]
            elif period is not None:
                pe = f"trim(CAST(s.{ident(period)} AS VARCHAR))"
                consts["__month_expr"] = f"CASE WHEN length({pe}) = 6 THEN right({pe}, 2) END"
        if src.find(cols["year"]) is None and period is not None and "year" not in consts:
            consts["__year_expr"] = f"left(trim(CAST(s.{ident(period)} AS VARCHAR)), 4)"
        spec = dict(allow_total=True)
        spec.update(spec_opts)
        return build_spec(src, fmt=fmt, target="flows", columns=cols, constants=consts, countries=kinds,
                          sha_note=note, source_name=source_name or "comtrade", **spec)
    if fmt in ("customs", "generic"):
        tgt = target or "flows"
        if tgt not in TARGETS:
            raise InputError(f"unknown target {tgt!r} ({', '.join(TARGETS)})", file=display)
        cols = {c: [c] for c in TARGETS[tgt]}
        cols.update(map_cols)
        kind = country_kind or ("name" if fmt == "customs" else "iso3")
        if "province" in TARGETS[tgt] and "province" not in consts:
            _check_province_header(src, cols.get("province"), display)
        if fmt == "customs":
            if "reporter" not in consts and src.find(cols.get("reporter")) is None:
                raise InputError("customs file without a reporter column: name the reporting country with "
                                 "--reporter ISO3, e.g. --reporter IRN (Python: reporter='IRN')", file=display,
                                 line=1, column="reporter")
            spec_opts.setdefault("calendar", "auto")
            spec_opts.setdefault("product_truncate", 6)
        cc = {c: kind for c in ("reporter", "partner", "iso3")}
        if "reporter" in consts:
            cc["reporter"] = "iso3"
        spec_opts.setdefault("local_digits", True)
        return build_spec(src, fmt=fmt, target=tgt, columns=cols, constants=consts, countries=cc,
                          sha_note=note, source_name=source_name or fmt,
                          country_codes_csv=str(country_codes_csv) if country_codes_csv else None, **spec_opts)
    if fmt == "services":
        cols = {k: list(v) for k, v in SERVICES_COLUMNS.items()}
        cols.update(map_cols)
        kind = country_kind or "iso3"
        return build_spec(src, fmt=fmt, target="services", columns=cols, constants=consts,
                          countries={"reporter": kind, "partner": kind}, sha_note=note,
                          source_name=source_name or "services", **spec_opts)
    if fmt == "macro":
        cols = {k: list(v) for k, v in MACRO_COLUMNS.items()}
        cols.update(map_cols)
        return build_spec(src, fmt=fmt, target="macro", columns=cols, constants=consts,
                          countries={"iso3": country_kind or "iso3"}, sha_note=note,
                          source_name=source_name or "macro", **spec_opts)
    raise InputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}", file=display)


def tmp_dir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="tradepulse-ingest-")
