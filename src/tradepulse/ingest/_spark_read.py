"""Reading a CSV on Spark as the DuckDB ingest reads it: physical line numbers, empty lines skipped, malformed
lines set aside with :func:`~tradepulse.ingest.readers.split_csv_lines`' reasons, and a typed BACI CSV's
fields converted as DuckDB's CSV reader converts them (used by :mod:`tradepulse.ingest.spark`)."""

from __future__ import annotations

from tradepulse.ingest._spark_sql import NUMBER_RE
from tradepulse.ingest._spec import Spec
from tradepulse.ingest.readers import BACI_TYPES


def _numbered_lines(session, path: str):
    """(``__line``, ``__text``) of every line of a text file, ``__line`` = physical line number (1 = header).

    ``monotonically_increasing_id`` is consecutive within a partition; each file split (block) starts a new
    run, so line = lines of the earlier blocks + position in the block (a small aggregate on the driver)."""
    from pyspark.sql import functions as F

    t = session.read.text(path).select(F.col("value").alias("__text"),
                                       F.input_file_block_start().alias("__blk"),
                                       F.monotonically_increasing_id().alias("__id"))
    blocks = sorted((int(r[0]), int(r[1]), int(r[2])) for r in
                    t.groupBy("__blk").agg(F.count(F.lit(1)), F.min("__id")).collect())
    off, rows = 0, []
    for blk, n, first in blocks:
        rows.append((blk, first, off))
        off += n
    starts = session.createDataFrame(rows, "__blk long, __first long, __off long")
    return (t.join(F.broadcast(starts), "__blk")
            .select((F.col("__id") - F.col("__first") + F.col("__off") + 1).alias("__line"), "__text"))


def _sq(text: str) -> str:
    """A Spark SQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _int_sql(x: str, bound: float) -> str:
    """DuckDB's text → integer conversion: digits, or a decimal/exponent form rounded half-to-even."""
    num = (f"(CASE WHEN {x} RLIKE {_sq(NUMBER_RE)} AND NOT lower({x}) RLIKE 'inf|nan' "
           f"THEN CAST(replace(trim({x}), '_', '') AS DOUBLE) END)")
    return (f"(CASE WHEN trim({x}) RLIKE '^[+-]?[0-9]{{1,18}}$' THEN CASE WHEN abs(CAST(trim({x}) AS BIGINT)) < "
            f"{bound!r} THEN CAST(trim({x}) AS BIGINT) END "
            f"ELSE CASE WHEN abs({num}) < {bound!r} THEN CAST(bround({num}) AS BIGINT) END END)")


def _typed_sql(x: str, typ: str) -> str:
    """Spark SQL converting the text ``x`` to DuckDB type ``typ`` as DuckDB's CSV reader does (NULL = fails)."""
    if typ == "VARCHAR":
        return x
    if typ == "DOUBLE":
        return f"(CASE WHEN {x} RLIKE {_sq(NUMBER_RE)} THEN CAST(replace(trim({x}), '_', '') AS DOUBLE) END)"
    if typ == "INTEGER":
        return f"CAST({_int_sql(x, 2147483647.5)} AS INT)"
    return _int_sql(x, 9.2e18)


def _source(session, spec: Spec, path: str, delimiter: str, typed: bool):
    """The file's data lines, parsed: ``__line`` (physical line), the source columns (typed as DuckDB reads them
    when ``typed``), ``__why`` (NULL, or why the line is unreadable), ``__col`` and ``__text`` (the line's text,
    kept for unreadable lines only).  Split by :func:`_split`.

    A line with the wrong number of fields is described as the DuckDB ingest describes it: for BACI (read with a
    fixed dialect, bad lines split off by :func:`~tradepulse.ingest.readers.split_csv_lines`) with that
    function's reasons; for the other formats (DuckDB's sniffed CSV reader) with DuckDB's message ``Expected
    Number of Columns: N Found: M`` (no column: for a short line DuckDB names a column by a rule of its own,
    not reproduced here)."""

    n = len(spec.columns)
    d = delimiter
    dq = "\\" + d if not d.isalnum() else d
    field = f'(?:"(?:[^"]|"")*"|[^"{dq}\\r\\n]*)'
    ok = f"^{field}(?:{dq}{field}){{{n - 1}}}$"
    lines = _numbered_lines(session, path).where("__line > 1 AND __text <> ''")
    fields = ", ".join(f"`c{i}` STRING" for i in range(n))
    parsed = lines.selectExpr(
        "__line", "__text", f"__text RLIKE {_sq(ok)} AS __ok",
        f"from_csv(__text, {_sq(fields)}, map('sep', {_sq(d)}, 'quote', '\"', 'escape', '\"', "
        f"'nullValue', '', 'emptyValue', '')) AS __f")
    cols, errs = [], []
    for i, name in enumerate(spec.columns):
        raw = f"__f.`c{i}`"
        if typed:
            typ = BACI_TYPES.get(name, "VARCHAR")
            x = f"(CASE WHEN {raw} IN ('NA', '') THEN NULL ELSE {raw} END)"
            conv = _typed_sql(x, typ)
            cols.append(f"{conv} AS `{name}`")
            if typ != "VARCHAR":
                msg = (f"concat('Error when converting column \"{name}\". Could not convert string \"', {raw}, "
                       f"'\" to \\'{typ}\\'')")
                errs.append((f"({x} IS NOT NULL AND {conv} IS NULL)", _sq(name), msg))
        else:
            cols.append(f"{raw} AS `{name.replace('`', '``')}`")
    quote_odd = "(length(__text) - length(replace(__text, '\"', ''))) % 2 = 1"
    found = f"size(split(__text, {_sq(dq if len(d) == 1 else d)}, -1))"
    if spec.fmt == "baci":
        struct = (f"CASE WHEN {quote_odd} THEN 'unbalanced quote' ELSE concat('expected {n} fields, found ', "
                  f"{found}) END")
        short_col = "NULL"
    else:
        struct = (f"CASE WHEN {quote_odd} THEN 'unbalanced quote' ELSE concat('Expected Number of Columns: {n} "
                  f"Found: ', {found}) END")
        short_col = "NULL"
    conv_reason = "CASE " + " ".join(f"WHEN {c} THEN {m}" for c, _n, m in errs) + " END" if errs else "NULL"
    conv_col = "CASE " + " ".join(f"WHEN {c} THEN {nm}" for c, nm, _m in errs) + " END" if errs else "NULL"
    staged = parsed.selectExpr("__line", "__text", "__ok", *cols,
                               f"CASE WHEN NOT __ok THEN {struct} ELSE {conv_reason} END AS __why",
                               f"CASE WHEN __ok THEN {conv_col} ELSE {short_col} END AS __col")
    return staged.selectExpr("*", "CASE WHEN __why IS NOT NULL THEN __text END AS __keep").drop("__text", "__ok") \
        .withColumnRenamed("__keep", "__text")


def _split(staged, spec: Spec):
    """(rows, unreadable) of :func:`_source`'s lines: the source relation of ``spec`` (``__rn`` = physical line,
    then the source columns) and the unreadable lines (``__line``, ``__column``, ``__reason``, ``__text``)."""
    from pyspark.sql import functions as F

    rows = staged.where("__why IS NULL").select(F.col("__line").alias("__rn"),
                                                *[F.col(f"`{c.replace('`', '``')}`") for c in spec.columns])
    bad = staged.where("__why IS NOT NULL").selectExpr("__line", "__col AS __column",
                                                       "concat('unreadable line: ', __why) AS __reason", "__text")
    return rows, bad
