"""Translations and number/date formatting for reports (English and Persian).

Fixed labels are gettext messages: in templates ``{{ _("Targets") }}``, in Python ``_(...)`` /
``N_(...)`` (marked for extraction, translated at render time).  The catalogs are the ``.po`` files in
``reports/locale/<lang>/LC_MESSAGES/messages.po``; they are compiled to ``.mo`` in memory at runtime with
Babel (no build step, nothing generated is committed).  English is the source language (identity).

Number conventions: thousands separator ``,`` and decimal point ``.`` in English; with Persian digits
(``digits="persian"``) the digits are ۰–۹, the separators ``٬`` (U+066C) and ``٫`` (U+066B) and the
percent sign ``٪`` (U+066A), as in the CLDR ``arabext`` numbering system used for Persian.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import io
from pathlib import Path

import jdatetime

HERE = Path(__file__).parent
LOCALE_DIR = HERE / "locale"
DOMAIN = "messages"
LANGS = ("en", "fa")
RTL = {"fa"}

_DIGITS = str.maketrans("0123456789,.%", "۰۱۲۳۴۵۶۷۸۹٬٫٪")


def N_(message: str) -> str:
    """Mark a message for extraction without translating it now."""
    return message


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """GNU translations for ``lang`` compiled from its ``.po`` with Babel; English → identity."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from tradepulse.errors import UnknownNameError

    if lang not in LANGS:
        raise UnknownNameError("language", lang, list(LANGS))
    if lang == "en":
        return gettext.NullTranslations()
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with open(po, "rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def persian_digits(text: str) -> str:
    """ASCII digits and separators → Persian (۰–۹, ٬ ٫ ٪)."""
    return str(text).translate(_DIGITS)


class Formatter:
    """Language-aware formatting: ``fmt.num(1234.5, 1)`` → ``1,234.5`` or ``۱٬۲۳۴٫۵``."""

    def __init__(self, lang: str = "en", digits: str | None = None):
        self.lang = lang
        self.digits = digits or ("persian" if lang == "fa" else "latin")
        self.t = translations(lang)
        self.gettext = self.t.gettext

    def _d(self, text: str) -> str:
        return persian_digits(text) if self.digits == "persian" else text

    def num(self, value, decimals: int = 0, sign: bool = False) -> str:
        if value is None or value != value:   # None or NaN
            return "–"
        text = f"{value:{'+' if sign else ''},.{decimals}f}"
        return self._d(text)

    def musd(self, value, decimals: int = 1, sign: bool = False) -> str:
        """US dollars shown in millions."""
        return self.num(None if value is None else value / 1e6, decimals, sign)

    def pct(self, value, decimals: int = 1, sign: bool = True) -> str:
        """A fraction as a percentage (0.123 → +12.3%)."""
        if value is None or value != value or value in (float("inf"), float("-inf")):
            return "–"
        return self._d(f"{value * 100:{'+' if sign else ''},.{decimals}f}%")

    def int(self, value) -> str:
        return self._d(str(int(value))) if value is not None else "–"

    def text(self, value) -> str:
        """Digits inside free text (codes, years, week labels)."""
        return self._d(str(value))

    def date(self, day: dt.date | None) -> str:
        """Jalali date with Gregorian in brackets (en: ``1405-09-04 (2026-11-25)``; fa: ``۴ آذر ۱۴۰۵``)."""
        if day is None:
            return "–"
        j = jdatetime.date.fromgregorian(date=day)
        if self.lang == "fa":
            return self._d(f"{j.day} {jdatetime.date.j_months_fa[j.month - 1]} {j.year}")
        return f"{j.year:04d}-{j.month:02d}-{j.day:02d} ({day.isoformat()})"

    def short_date(self, day: dt.date | None) -> str:
        """Jalali ``YYYY-MM-DD`` only."""
        if day is None:
            return "–"
        j = jdatetime.date.fromgregorian(date=day)
        return self._d(f"{j.year:04d}-{j.month:02d}-{j.day:02d}")
