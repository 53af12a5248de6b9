"""One translation and formatting mechanism for every user-facing surface (web dashboard, PDF brief).

**Messages** are GNU gettext messages with the English text as ``msgid`` (English is the source language,
so the English "translation" is the identity).  In Jinja templates: ``{{ _("Targets") }}`` and, where one
English word needs two Persian renderings, ``{{ pgettext("dashboard", "Partner") }}`` (the context ``dashboard`` marks the dashboard's short column
labels ``Partner``, ``Actual``, ``RCA``, ``Density`` and ``PCI``, whose Persian differs from the brief's); in Python:
``fmt.gettext("…")`` / ``fmt.pgettext(ctx, "…")``, and ``N_("…")`` / ``NC_(ctx, "…")`` to *mark* a message
for extraction in data-driven tables (column names, status values) that are translated at render time
with :meth:`Formatter.msg`.  There is one catalog for the whole project,
``tradepulse/reports/locale/fa/LC_MESSAGES/messages.po`` (the domain ``messages``; it stays where the brief
put it so packaging is unchanged).  It is compiled to ``.mo`` in memory with Babel the first time a language
is used — no build step, nothing generated is committed.  ``tests/test_brief_weeks.py::test_catalog_complete``
extracts every message from ``tradepulse/{i18n.py,reports,web}`` with Babel and checks that each has a Persian
translation and that no stale entry remains.  Templates use Jinja's *new-style* gettext, which autoescapes
and %-formats every message: write ``%%`` for a literal percent sign in a template message.

**Numbers** follow the CLDR number symbols of the locale (Unicode CLDR, ``numbers.xml``):

============  ==========================  ==========================================
symbol        ``en`` (``latn``)           ``fa`` (default system ``arabext``)
============  ==========================  ==========================================
digits        0–9                         ۰–۹ (U+06F0–U+06F9)
group         ``,``                       ``٬`` (U+066C ARABIC THOUSANDS SEPARATOR)
decimal       ``.``                       ``٫`` (U+066B ARABIC DECIMAL SEPARATOR)
percent       ``%``                       ``٪`` (U+066A ARABIC PERCENT SIGN)
minus         ``-`` (U+002D)              ``−`` (U+2212 MINUS SIGN)
============  ==========================  ==========================================

Deviation from CLDR: CLDR prefixes the ``fa`` plus and minus signs with U+200E LEFT-TO-RIGHT MARK; the
formatter omits the invisible mark so that strings compare, search and copy cleanly.  The mark is added where
text is *displayed*: the web pages' and the brief's templates pass every value through :func:`mark_signs`
(Jinja ``finalize``), so a negative number in right-to-left text reads ``−۱۲`` with the sign on the left —
without the mark the Unicode bidi algorithm puts a leading minus on the right of the digits (``۱۲−``).
Only a number's *sign* becomes ``−``; hyphens inside free text (week labels ``1405-W36``, ISO dates) are
kept (:func:`persian_digits` maps digits, separators and ``%`` only).  ``Formatter("fa", "latin")`` keeps
Latin digits and separators (the Persian brief's ``--digits latin`` option).  **Chart axes** use the same
symbols through a d3-format locale (:meth:`Formatter.d3_locale`): Persian digits, ``٬`` ``٫`` ``٪`` and ``−``.

**Dates** are Solar Hijri (Jalali) via ``jdatetime`` (Farvardin 1 = Nowruz at the March equinox):
``date`` ``۴ آذر ۱۴۰۵`` (English: ``1405-09-04 (2026-11-25)``), ``short_date`` ``۱۴۰۵-۰۹-۰۴`` and
``numeric_date`` ``۱۴۰۳/۰۱/۰۱`` (English: ISO 8601 ``2024-03-20``).  A Gregorian *year* is shown in Persian
first as the Solar Hijri year it mostly overlaps, Y − 621, with the Gregorian year in brackets
(``year``: ``۱۴۰۲ (۲۰۲۳)``).
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext as _gettext
import io
import math
import numbers
import re
import string
from pathlib import Path
from typing import Union

HERE = Path(__file__).parent
#: The project's gettext catalogs: ``<LOCALE_DIR>/<lang>/LC_MESSAGES/messages.po``.
LOCALE_DIR = HERE / "reports" / "locale"
DOMAIN = "messages"
LANGS = ("en", "fa")
RTL = {"fa"}

#: The CLDR symbols of the table above: Latin (``latn``) and Persian (``arabext``) digits, group, decimal,
#: percent.  Every Persian-digit conversion in the project derives from these two strings.
LATIN_SYMBOLS = "0123456789,.%"
ARABEXT_SYMBOLS = "۰۱۲۳۴۵۶۷۸۹٬٫٪"
_PERSIAN = str.maketrans(LATIN_SYMBOLS, ARABEXT_SYMBOLS)
_PERSIAN_DIGITS = str.maketrans(LATIN_SYMBOLS[:10], ARABEXT_SYMBOLS[:10])
MINUS = {"en": "-", "fa": "\u2212"}

#: A marked message: a plain msgid (from :func:`N_`) or ``(context, msgid)`` (from :func:`NC_`).
Message = Union[str, tuple[str, str]]


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now (translate later with :meth:`Formatter.msg`)."""
    return message


def NC_(context: str, message: str) -> tuple[str, str]:
    """Mark ``message`` with a gettext context (``msgctxt``) for extraction; returns ``(context, message)``."""
    return (context, message)


@functools.cache
def translations(lang: str) -> _gettext.NullTranslations:
    """GNU translations for ``lang`` compiled from its ``.po`` with Babel; English → identity."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from tradepulse.errors import UnknownNameError

    if lang not in LANGS:
        raise UnknownNameError("language", lang, list(LANGS))
    if lang == "en":
        return _gettext.NullTranslations()
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with open(po, "rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


_NUMBER_SIGN = re.compile("(?<!\u200e)\u2212(?=[0-9\u06f0-\u06f9])")


def mark_signs(value):
    """A U+200E LEFT-TO-RIGHT MARK before each minus sign (U+2212) that starts a number, for display in
    right-to-left text: the mark is a strong L, so the number's digits resolve to L (Unicode bidi rule W7) and
    the sign stays on their left (CLDR's ``fa`` minus is exactly this mark + U+2212).  Non-strings pass
    through; Jinja ``Markup`` stays ``Markup``; a mark already present is not doubled.  Used as the templates'
    ``finalize``."""
    if not isinstance(value, str) or "\u2212" not in value:
        return value
    marked = _NUMBER_SIGN.sub("\u200e\u2212", value)
    return type(value)(marked) if type(value) is not str else marked


class _LocaleFields(string.Formatter):
    """``str.format`` whose numeric fields come out in the formatter's digits and separators."""

    def __init__(self, fmt: "Formatter"):
        self.fmt = fmt

    def format_field(self, value, format_spec: str) -> str:
        text = super().format_field(value, format_spec)
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return self.fmt.numeral(text)
        return text


def persian_digits(text: object, separators: bool = True) -> str:
    """ASCII digits, ``,`` ``.`` and ``%`` → ``۰–۹ ٬ ٫ ٪`` (CLDR ``arabext``); other characters unchanged.
    With ``separators=False`` only the digits 0–9 are mapped (the old ``roadmap.calendar.to_persian_digits``)."""
    return str(text).translate(_PERSIAN if separators else _PERSIAN_DIGITS)


def d3_locale(digits: str = "latin", minus: str = "-") -> dict:
    """A d3-format locale (Vega's ``formatLocale``, vl-convert's ``format_locale``) with this module's symbols,
    so chart axes read like the text: ``digits="persian"`` → numerals ۰–۹, ``٬`` ``٫`` ``٪``; ``minus`` is the
    locale's sign (``Formatter.minus``: ``-`` in English, U+2212 in Persian).  Currency affixes are empty
    (axes carry the unit in their title)."""
    sym = ARABEXT_SYMBOLS if digits == "persian" else LATIN_SYMBOLS
    out = {"decimal": sym[11], "thousands": sym[10], "grouping": [3], "currency": ["", ""], "percent": sym[12],
           "minus": minus}
    if digits == "persian":
        out["numerals"] = list(sym[:10])
    return out


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(value)  # type: ignore[arg-type]
    except TypeError:
        return False


#: Compact US-dollar units, largest first: (size, message with a ``{value}`` placeholder).
USD_UNITS = ((1e9, N_("${value} bn")), (1e6, N_("${value} m")), (1e3, N_("${value} k")), (1.0, N_("${value}")))


class Formatter:
    """Language-aware messages and formatting: ``Formatter("fa").num(1234.5, 1)`` → ``۱٬۲۳۴٫۵``.

    ``digits`` is ``"persian"`` (default for ``fa``) or ``"latin"``; ``missing`` is what None/NaN show as
    (``–`` in the brief, empty in dashboard tables).
    """

    def __init__(self, lang: str = "en", digits: str | None = None, missing: str = "–"):
        self.lang = lang
        self.digits = digits or ("persian" if lang == "fa" else "latin")
        self.missing = missing
        self.t = translations(lang)
        self.gettext = self.t.gettext
        self.pgettext = self.t.pgettext
        self.minus = MINUS.get(lang, "-")

    # ------------------------------------------------------------ messages
    def msg(self, message: Message) -> str:
        """Translate a message marked with :func:`N_` (a string) or :func:`NC_` (``(context, msgid)``)."""
        if isinstance(message, tuple):
            return self.pgettext(*message)
        return self.gettext(message)

    def warning(self, text: str) -> str:
        """A result warning (:mod:`tradepulse.meta`) in this language: a :class:`~tradepulse.meta.Note`'s
        template translated, its numbers in this locale's digits; other text, and notes whose template has no
        translation, stay as they are (English)."""
        if not self.translates(text):
            return str(text)
        return _LocaleFields(self).format(self.gettext(text.template), **text.params)

    def translates(self, text: str) -> bool:
        """Whether :meth:`warning` shows ``text`` in this language (else it stays English, left to right)."""
        template = getattr(text, "template", None)
        return template is not None and self.lang != "en" and self.gettext(template) != template

    # ------------------------------------------------------------ numbers
    def _d(self, text: str) -> str:
        return persian_digits(text) if self.digits == "persian" else text

    def _n(self, text: str) -> str:
        """A formatted number: locale digits and separators, and the locale's minus sign."""
        if text.startswith("-"):
            text = self.minus + text[1:]
        return self._d(text)

    def numeral(self, text: str) -> str:
        """A number already formatted with Latin symbols (``f"{v:,.4g}"``, ``"-1,234.5"``) in this locale:
        digits, separators, ``%`` and a leading minus sign (U+2212 in Persian)."""
        return self._n(str(text))

    def d3_locale(self) -> dict:
        """The d3-format locale of this formatter (see :func:`d3_locale`), for chart axes."""
        return d3_locale(self.digits, self.minus)

    def num(self, value, decimals: int = 0, sign: bool = False) -> str:
        """Grouped number with ``decimals`` places: ``1,234,567.9`` / ``۱٬۲۳۴٬۵۶۷٫۹``; rounding half-even on the
        binary value (Python's ``format``); a value that rounds to zero has no minus sign (``z`` option)."""
        if _missing(value):
            return self.missing
        return self._n(f"{value:{'+' if sign else ''}z,.{decimals}f}")

    def musd(self, value, decimals: int = 1, sign: bool = False) -> str:
        """US dollars shown in millions."""
        return self.num(None if _missing(value) else value / 1e6, decimals, sign)

    def pct(self, value, decimals: int = 1, sign: bool = True) -> str:
        """A fraction as a percentage (0.123 → ``+12.3%`` / ``+۱۲٫۳٪``)."""
        if _missing(value) or value in (float("inf"), float("-inf")):
            return self.missing
        return self._n(f"{value * 100:{'+' if sign else ''}z,.{decimals}f}%")

    def int(self, value) -> str:
        """An integer without grouping (ids, counts): ``-12`` / ``−۱۲``."""
        if _missing(value):
            return self.missing
        return self._n(str(int(value)))

    def usd(self, value) -> str:
        """Compact US dollars, two decimals above a thousand: ``$1.23 bn``, ``-$878.41 m``, ``$789``
        (Persian ``۱٫۲۳ میلیارد دلار``); the unit words are catalog messages (:data:`USD_UNITS`)."""
        if _missing(value):
            return self.missing
        try:
            x = float(value)
        except (TypeError, ValueError):
            return str(value)
        sign, x = (self.minus if x < 0 else ""), abs(x)
        for size, template in USD_UNITS:
            if x >= size or size == 1.0:
                number = f"{x / size:,.2f}" if size > 1 else f"{x:,.0f}"
                if number == "0":      # −0.4 dollars is shown as $0
                    sign = ""
                return sign + self.gettext(template).format(value=self._d(number))
        raise AssertionError("unreachable")

    def text(self, value) -> str:
        """Digits inside free text (codes, years, week labels); hyphens stay hyphens."""
        return self._d(str(value))

    def year(self, value) -> str:
        """A Gregorian year; in Persian the Solar Hijri year it mostly overlaps (Y − 621) first, the Gregorian
        year in brackets: ``۱۴۰۲ (۲۰۲۳)``."""
        try:
            y = int(value)
        except (TypeError, ValueError):
            return str(value)
        return str(y) if self.lang != "fa" else self._d(f"{y - 621} ({y})")

    # ------------------------------------------------------------ dates
    def date(self, day: dt.date | None) -> str:
        """Jalali date with Gregorian in brackets (en: ``1405-09-04 (2026-11-25)``; fa: ``۴ آذر ۱۴۰۵``)."""
        import jdatetime

        if day is None:
            return self.missing
        try:
            j = jdatetime.date.fromgregorian(date=day)
        except (ValueError, OverflowError):     # outside jdatetime's range: show the Gregorian date
            return day.isoformat()
        if self.lang == "fa":
            return self._d(f"{j.day} {jdatetime.date.j_months_fa[j.month - 1]} {j.year}")
        return f"{j.year:04d}-{j.month:02d}-{j.day:02d} ({day.isoformat()})"

    def short_date(self, day: dt.date | None) -> str:
        """Jalali ``YYYY-MM-DD`` only."""
        import jdatetime

        if day is None:
            return self.missing
        try:
            j = jdatetime.date.fromgregorian(date=day)
        except (ValueError, OverflowError):     # outside jdatetime's range: show the Gregorian date
            return day.isoformat()
        return self._d(f"{j.year:04d}-{j.month:02d}-{j.day:02d}")

    def numeric_date(self, value) -> str:
        """Table dates: ISO 8601 in English, Jalali ``YYYY/MM/DD`` in Persian (2024-03-20 → ``۱۴۰۳/۰۱/۰۱``).

        Accepts a date, a datetime or an ISO string; other text is returned unchanged."""
        if value is None or value == "":
            return self.missing
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value[:10])
            except ValueError:
                return value
        if isinstance(value, dt.datetime):
            value = value.date()
        if not isinstance(value, dt.date):
            return str(value)
        if self.lang == "fa":
            import jdatetime

            try:
                j = jdatetime.date.fromgregorian(date=value)
            except (ValueError, OverflowError):     # outside jdatetime's range (e.g. year 621 or 9999)
                return value.isoformat()
            return self._d(f"{j.year:04d}/{j.month:02d}/{j.day:02d}")
        return value.isoformat()


@functools.cache
def formatter(lang: str, digits: str | None = None, missing: str = "–") -> Formatter:
    """A shared :class:`Formatter` (they are immutable, so one per argument set is enough)."""
    return Formatter(lang, digits, missing)
