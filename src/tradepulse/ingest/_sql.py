"""The validating SELECT: one SQL statement that maps a source's columns to a target's, types them and gives
each row a verdict (first pass: good/bad; second pass, with line numbers: the first failing check's column,
value and reason).  Pure SQL text built from a :class:`~tradepulse.ingest._spec.Spec`; nothing runs here.
"""

from __future__ import annotations

import re

from tradepulse.ingest import codes
from tradepulse.ingest._spec import GOODS_TARGETS, TARGETS, Spec, ident, lit

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


def _inner_select(spec: Spec, with_rn: bool, line_key: bool = False) -> tuple[str, list[tuple[str, str, str, str]]]:
    """SELECT producing typed canonical columns plus ``__reason``, ``__column``, ``__value``.

    ``line_key``: also ``__line``, the list of the source line's texts (every column), which tells exact
    duplicate lines apart from distinct lines summed into one row (tariff lines → HS6).

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
    if line_key:
        raw += ", [" + ", ".join(f"CAST(s.{ident(c)} AS VARCHAR)" for c in spec.columns) + "] AS __line"
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
        """A non-negative finite number.  NaN, ±inf and overflow (``1e309`` parses to inf) are never loaded:
        the text ``nan``/``NA``/blank means "not reported" (quarantined as missing when required, NULL
        otherwise); any other NaN or an infinite value (also after scaling) is quarantined."""
        v = number(c)
        blank = D(f"blank_{c}", _blank(T(c)))
        nan = f"isnan({v})"
        vs = f"({v} * {lit(float(scale))})" if scale != 1.0 else v
        if required:
            checks.append((c, blank, lit("missing value"), S(c)))
        checks.append((c, f"(NOT {blank} AND ({v} IS NULL OR {nan}))", lit(f"{c} is not a number"), S(c)))
        checks.append((c, f"(NOT isfinite({vs}) AND NOT {nan})",
                       lit(f"{c} is not finite (infinite or too large for a number)"), S(c)))
        checks.append((c, f"({v} < 0)", lit(f"negative {c}"), S(c)))
        if required:
            goods.append(f"isfinite({vs}) AND {v} >= 0")
        else:  # blank (NULL or the text nan) = not reported
            goods.append(f"CASE WHEN {v} IS NOT NULL AND NOT {nan} THEN isfinite({vs}) AND {v} >= 0 ELSE {blank} END")
        typed[c] = f"(CASE WHEN {nan} THEN NULL ELSE {vs} END)"

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
        marker = (f"regexp_replace(replace(replace(upper(trim({T('product')})), 'ي', 'ی'), 'ك', 'ک'), "
                  f"'\\s+', ' ', 'g')")
        total = (D("product_total", f"{marker} IN ({', '.join(lit(t) for t in codes.PRODUCT_TOTALS)})")
                 if spec.allow_total else "FALSE")
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
    if line_key:
        outs.append("u.__line AS __line")
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


def _maps_provinces(spec: Spec) -> bool:
    """Province names are mapped to the reference list when a goods source (flows, firm_flows) has a province
    column."""
    return spec.target in GOODS_TARGETS and spec.fields.get("province") is not None


_LITERAL = re.compile(r"'(?:[^']|'')*'")


def _constant_field(spec: Spec, column: str) -> bool:
    """True when ``column`` gets the same canonical value on every row of this load: it has no source (NULL)
    or is a SQL literal constant.  ``year`` is excluded (a Solar Hijri year maps by month)."""
    e = spec.fields.get(column)
    return e is None or (column != "year" and _LITERAL.fullmatch(e.strip()) is not None)

