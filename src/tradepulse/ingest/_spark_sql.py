"""The ingest's DuckDB SQL as Spark SQL: the validating SELECT of :mod:`tradepulse.ingest._sql` is written once
(for DuckDB) and translated here with sqlglot, plus the few rewrites where the two engines differ in meaning,
not only in spelling.  So the Spark ingest runs the *same* checks, reasons and code mappings.

Rewrites (each keeps DuckDB's result):

* ``regexp_full_match(x, p)`` → ``x RLIKE '^(?:p)$'``; ``isfinite(x)`` → ``abs(x) < Infinity`` (NULL stays NULL,
  NaN is not finite); ``strlen`` (bytes) → ``octet_length``.
* ``TRY_CAST(text AS DOUBLE)``: Java's parser also takes ``1.5d``, ``0x1p3`` and a trailing ``f``, which DuckDB
  refuses; the text must first match :data:`NUMBER_RE` (decimal or exponent form, ``_`` between digits,
  ``inf``/``infinity``/``nan``), as DuckDB's cast does.
* ``TRY_CAST(<double> AS INTEGER)``: DuckDB rounds to the nearest integer (halves to even: 2022.5 → 2022), Spark
  truncates; the value is rounded first with ``bround`` (half-even); NaN, ±inf and out-of-range give NULL.
* ``isnan(NULL)`` is NULL in DuckDB, false in Spark: NULL is kept.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

#: A number as DuckDB's text → DOUBLE cast accepts it (hex and other exotic forms aside: see docs/scale-out.md).
NUMBER_RE = (r"^\s*[+-]?(?:(?:[0-9](?:_?[0-9])*(?:\.(?:[0-9](?:_?[0-9])*)?)?|\.[0-9](?:_?[0-9])*)"
             r"(?:[eE][+-]?[0-9]+)?|(?i:inf|infinity|nan))\s*$")
#: Integer range of DuckDB's INTEGER after rounding (a wider bound is refused, as DuckDB's TRY_CAST does).
_INT_BOUND = {"INT": 2147483647.5, "SMALLINT": 32767.5, "TINYINT": 127.5, "BIGINT": 9.2233720368547e18}


def _lit(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def _parse_number(x: exp.Expression) -> exp.Expression:
    """``CASE WHEN x RLIKE NUMBER_RE THEN CAST(replace(trim(x), '_', '') AS DOUBLE) END``."""
    ok = exp.RegexpLike(this=x.copy(), expression=_lit(NUMBER_RE))
    clean = exp.Anonymous(this="replace", expressions=[exp.Trim(this=x.copy()), _lit("_"), _lit("")])
    return exp.Case(ifs=[exp.If(this=ok, true=exp.Cast(this=clean, to=exp.DataType.build("DOUBLE")))])


def _round_to_int(x: exp.Expression, to: exp.DataType) -> exp.Expression:
    bound = _INT_BOUND.get(to.sql("spark").upper(), 2147483647.5)
    ok = exp.LT(this=exp.Abs(this=x.copy()), expression=exp.Literal.number(repr(bound)))
    rounded = exp.Cast(this=exp.Anonymous(this="bround", expressions=[x.copy()]), to=to.copy())
    return exp.Case(ifs=[exp.If(this=ok, true=rounded)])


def _rewrite_double(node: exp.Expression) -> exp.Expression:
    """First pass: text → DOUBLE casts (so that the second pass sees the rewritten numbers)."""
    if isinstance(node, exp.TryCast) and node.to.this == exp.DataType.Type.DOUBLE:
        inner = node.this
        if not (isinstance(inner, (exp.TryCast, exp.Cast)) and inner.to.this == exp.DataType.Type.DOUBLE):
            return _parse_number(inner)
    return node


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.IsNan):
        x = node.this
        return exp.Case(ifs=[exp.If(this=exp.Not(this=exp.Is(this=x.copy(), expression=exp.Null())),
                                    true=exp.IsNan(this=x.copy()))])
    if isinstance(node, exp.RegexpFullMatch):
        pattern = node.expression
        if isinstance(pattern, exp.Literal) and pattern.is_string:
            pattern = _lit(f"^(?:{pattern.this})$")
        else:
            pattern = exp.Concat(expressions=[_lit("^(?:"), pattern, _lit(")$")])
        return exp.RegexpLike(this=node.this, expression=pattern)
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "isfinite":
        inf = exp.Cast(this=_lit("Infinity"), to=exp.DataType.build("DOUBLE"))
        return exp.Paren(this=exp.LT(this=exp.Abs(this=node.expressions[0]), expression=inf))
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "strlen":
        return exp.Anonymous(this="octet_length", expressions=node.expressions)
    if isinstance(node, (exp.TryCast, exp.Cast)):
        to = node.to
        if to.this in (exp.DataType.Type.INT, exp.DataType.Type.SMALLINT, exp.DataType.Type.TINYINT,
                       exp.DataType.Type.BIGINT):
            inner = node.this
            if isinstance(inner, exp.Case) or (isinstance(inner, (exp.TryCast, exp.Cast))
                                               and inner.to.this == exp.DataType.Type.DOUBLE):
                if isinstance(node, exp.TryCast) or not isinstance(inner, exp.Case):
                    return _round_to_int(inner, to)
    return node


def _bottom_up(node: exp.Expression, fn) -> exp.Expression:
    """Apply ``fn`` to every node, children first (sqlglot's ``transform`` does not visit the children of a
    node it replaced, and the rewrites nest)."""
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expression):
            node.set(key, _bottom_up(value, fn))
        elif isinstance(value, list):
            node.set(key, [_bottom_up(v, fn) if isinstance(v, exp.Expression) else v for v in value])
    return fn(node)


def to_spark(sql: str) -> str:
    """DuckDB SQL (as built by :mod:`tradepulse.ingest._sql`) → Spark SQL with the same results."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    tree = _bottom_up(_bottom_up(tree, _rewrite_double), _rewrite)
    return tree.sql(dialect="spark")
