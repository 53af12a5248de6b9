"""CSV / Excel files of the dashboard's tables, in English or Persian (issue 16).

Persian (``lang=fa``) downloads:

- headers translated (the dashboard's column labels; the working-group columns use
  :data:`tradepulse.groups.csvio.HEADER_LABELS`, which the import maps back, so a Persian download
  uploaded again changes nothing);
- numbers stay numbers (never formatted text): in CSV with Latin digits and no separators, money rounded to
  cents and other decimals to 6 places (no more ``25199794727.981598``); in Excel with number formats
  ``[$-3000429]#,##0.00`` — locale ``fa-IR`` (LCID 0x0429) with native digits (the ``3`` calendar/digit
  flag of the ``[$-…]`` locale prefix), so Excel shows ۱٬۲۳۴٫۵۰ while the cell holds 1234.5;
- a Solar Hijri column beside every Gregorian date column that has none yet;
- status codes shown as their translated label;
- the Excel sheet right-to-left (``sheetView rightToLeft``) with a bold, frozen header row.

English downloads are the table as it is (ISO dates, codes).  In every download, text a spreadsheet
would run as a formula (``=HYPERLINK(…)``) is neutralised (issue 15: :func:`csv_bytes`, :func:`xlsx_bytes`).
"""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd

from tradepulse.groups.csvio import neutralise, write_safe_rows
from tradepulse.i18n import N_

#: Download headers the dashboard's pages do not show (so :data:`tradepulse.web.pages.COLUMN_LABELS` lacks them).
EXTRA_LABELS = {"non_oil_exports_growth": N_("Non-oil exports growth"),
                "non_oil_imports_growth": N_("Non-oil imports growth"),
                "one_sided": N_("One-sided (exports or imports missing)")}

#: Excel number formats of Persian sheets (fa-IR, native digits).
FA_MONEY = "[$-3000429]#,##0.00"
FA_DECIMAL = "[$-3000429]#,##0.######"
FA_INTEGER = "[$-3000429]0"
FA_GROUPED = "[$-3000429]#,##0"


def _sh(day) -> str:
    import jdatetime
    if day is None or (not isinstance(day, (dt.date, pd.Timestamp)) and pd.isna(day)):
        return ""
    if isinstance(day, pd.Timestamp):
        day = day.date()
    try:
        return jdatetime.date.fromgregorian(date=day).strftime("%Y/%m/%d")
    except (ValueError, OverflowError):      # a year jdatetime cannot convert (stored before the range check)
        return ""


def _is_date_column(s: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(s):
        return True
    vals = s.dropna()
    return len(vals) > 0 and all(isinstance(v, dt.date) for v in vals.head(20))


def _label(col: str, lang: str) -> str:
    from tradepulse.groups.csvio import HEADER_LABELS
    from tradepulse.web.pages import COLUMN_LABELS, fmt_of
    fmt = fmt_of(lang)
    if col in HEADER_LABELS:
        return fmt.gettext(HEADER_LABELS[col])
    if col in COLUMN_LABELS:
        return fmt.msg(COLUMN_LABELS[col])
    if col in EXTRA_LABELS:
        return fmt.gettext(EXTRA_LABELS[col])
    if col.endswith("_jalali") and col[:-7] in HEADER_LABELS:
        return fmt.gettext(HEADER_LABELS[col[:-7]]) + " (" + fmt.gettext("Solar Hijri") + ")"
    return col


def localise(df: pd.DataFrame, lang: str, labels: bool = True) -> pd.DataFrame:
    """The frame a ``lang`` download holds (see the module docstring); English → unchanged.  ``labels=False``
    keeps the column keys (the Excel writer formats by key, then writes the labels)."""
    if lang != "fa":
        return df
    from tradepulse.web.pages import MONEY, status_label
    out = df.copy()
    for col in list(out.columns):
        if col.endswith("_jalali"):
            continue
        if _is_date_column(out[col]) and f"{col}_jalali" not in out.columns:
            at = list(out.columns).index(col) + 1
            out.insert(at, f"{col}_jalali", out[col].map(_sh))
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_float_dtype(s):
            out[col] = s.round(2 if col in MONEY else 6)
        elif col == "status":
            out[col] = s.map(lambda v: status_label(v, lang) if isinstance(v, str) else v)
    if labels:
        out.columns = [_label(str(c), lang) for c in out.columns]
    return out


def csv_bytes(df: pd.DataFrame, lang: str = "en") -> bytes:
    """UTF-8 CSV with a BOM (Excel then reads Persian text correctly), written by ``defusedcsv``, which
    escapes formula-looking text cells (``= + - @ | %``); tab / CR prefixes, which it leaves, get the
    apostrophe of :func:`neutralise`.  :func:`tradepulse.groups.csvio.import_csv` removes both again."""
    import math

    out = localise(df, lang)
    buf = io.StringIO()
    write_safe_rows(buf, [[str(c) for c in out.columns],
                          *([("" if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)) else v)
                             for v in row] for row in out.itertuples(index=False, name=None))])
    return buf.getvalue().encode("utf-8-sig")


def xlsx_bytes(df: pd.DataFrame, name: str, lang: str = "en") -> bytes:
    """An Excel workbook of one sheet in which every text cell stays text (formula-looking text gets the
    apostrophe of :func:`neutralise` and is typed as a string); Persian: right-to-left, Persian number
    formats, bold frozen header."""
    from openpyxl.styles import Font

    from tradepulse.web.pages import MONEY

    out = localise(df, lang, labels=False)
    sheet = name[:31] or "data"
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        out.map(neutralise).to_excel(xw, index=False, sheet_name=sheet)
        ws = xw.sheets[sheet]
        for row in ws.iter_rows():          # openpyxl stores "=…" text as a formula: keep it text
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
        if lang == "fa":
            ws.sheet_view.rightToLeft = True
            ws.freeze_panes = "A2"
            for j, col in enumerate(out.columns, start=1):
                head = ws.cell(row=1, column=j)
                head.value = _label(str(col), lang)
                head.font = Font(bold=True)
                src = out[col]
                fmt = None
                if pd.api.types.is_float_dtype(src):
                    fmt = FA_MONEY if col in MONEY else FA_DECIMAL
                elif pd.api.types.is_integer_dtype(src):
                    fmt = FA_INTEGER if str(col) in ("id", "year", "version") else FA_GROUPED
                if fmt:
                    for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                        cell.number_format = fmt
                width = min(60, max(10, len(str(head.value)) + 2, *(len(str(v)) + 2 for v in src.head(50))))
                ws.column_dimensions[head.column_letter].width = width
    return buf.getvalue()
