"""Jalali week notation (weeks Saturday–Friday, week 1 contains 1 Farvardin) and report formatting."""

from __future__ import annotations

import datetime as dt

import jdatetime
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradepulse.errors import TradepulseError
from tradepulse.reports.i18n import Formatter, persian_digits, translations
from tradepulse.reports.weeks import JalaliWeek, parse_week, week1_start, week_of, weeks_in_year


def test_known_weeks():
    """1 Farvardin 1405 = Saturday 2026-03-21 → 1405-W01 starts that day; W35 = 2026-11-14 … 11-20.
    1 Farvardin 1404 = Friday 2025-03-21 → 1404-W01 starts Saturday 2025-03-15 (24 Esfand 1403).
    1 Farvardin 1403 = Wednesday 2024-03-20 → W01 starts 2024-03-16; 2025-03-15 − 2024-03-16 = 364 days,
    so 1403 has 52 weeks and Friday 2025-03-14 is 1403-W52."""
    assert parse_week("1405-W01").start == dt.date(2026, 3, 21)
    w = parse_week("1405-W35")
    assert (w.start, w.end, w.label) == (dt.date(2026, 11, 14), dt.date(2026, 11, 20), "1405-W35")
    assert week1_start(1404) == dt.date(2025, 3, 15)
    assert week_of(dt.date(2025, 3, 15)) == JalaliWeek(1404, 1)
    assert week_of(dt.date(2025, 3, 14)) == JalaliWeek(1403, 52)
    assert weeks_in_year(1403) == 52
    assert week_of(dt.date(2026, 11, 25)).label == "1405-W36"
    assert parse_week("1405w5") == JalaliWeek(1405, 5)


def test_week1_contains_nowruz_and_years_tile():
    """For SH 1370–1430: week 1 contains 1 Farvardin, starts on a Saturday, and the weeks of consecutive
    years tile the calendar without gap or overlap (52 or 53 weeks)."""
    for y in range(1370, 1431):
        nowruz = jdatetime.date(y, 1, 1).togregorian()
        w1 = parse_week(f"{y}-W01")
        assert w1.contains(nowruz) and w1.start.weekday() == 5
        last = JalaliWeek(y, weeks_in_year(y))
        assert last.end + dt.timedelta(days=1) == parse_week(f"{y + 1}-W01").start
        assert weeks_in_year(y) in (52, 53)


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2060, 12, 31)))
def test_week_of_properties(day):
    w = week_of(day)
    assert w.contains(day) and w.start.weekday() == 5 and (w.end - w.start).days == 6
    assert 1 <= w.week <= weeks_in_year(w.year)
    assert parse_week(w.label) == w
    # the next day is in the same week unless today is Friday, then in the next week
    nxt = week_of(day + dt.timedelta(days=1))
    assert (nxt == w) == (day.weekday() != 4)


@pytest.mark.parametrize("bad", ["1405-W00", "1405-W54", "1405-35", "W35", "1405-Wx"])
def test_bad_weeks(bad):
    with pytest.raises(TradepulseError, match="bad week"):
        parse_week(bad)


def test_formatter():
    en, fa = Formatter("en"), Formatter("fa")
    assert en.num(1234567.891, 1) == "1,234,567.9"
    assert fa.num(1234567.891, 1) == "۱٬۲۳۴٬۵۶۷٫۹"
    assert fa.pct(0.1234) == "+۱۲٫۳٪" and en.pct(-0.05) == "-5.0%" and fa.pct(-0.05) == "−۵٫۰٪"
    assert fa.musd(-25e6, 0, sign=True) == "−۲۵" and fa.text("1405-W36") == "۱۴۰۵-W۳۶"   # sign vs hyphen
    assert en.musd(2.5e9, 0) == "2,500" and en.num(None) == "–" and en.num(float("nan")) == "–"
    assert Formatter("fa", "latin").num(1234) == "1,234"
    # 2026-11-25 = 4 Azar 1405
    assert fa.date(dt.date(2026, 11, 25)) == "۴ آذر ۱۴۰۵"
    assert en.date(dt.date(2026, 11, 25)) == "1405-09-04 (2026-11-25)"
    assert persian_digits("2023") == "۲۰۲۳"
    assert translations("fa").gettext("Roadmap targets") == "اهداف نقشه راه"
    assert translations("en").gettext("Roadmap targets") == "Roadmap targets"


def test_number_symbols_are_cldr():
    """The Persian symbols are CLDR's ``fa``/``arabext`` ones (read independently from Babel's CLDR data):
    decimal ٫, group ٬, percent ٪, minus − (CLDR prefixes U+200E, which we omit); English uses CLDR ``en``.
    Digits: 0–9 → U+06F0–U+06F9 (EXTENDED ARABIC-INDIC DIGIT ZERO … NINE, by Unicode character name)."""
    import unicodedata

    from babel import Locale

    sym = Locale.parse("fa").number_symbols["arabext"]
    en = Locale.parse("en").number_symbols["latn"]
    fa_fmt, en_fmt = Formatter("fa"), Formatter("en")
    assert fa_fmt.num(-1234.5, 1) == (sym["minusSign"].lstrip("\u200e") + "۱" + sym["group"] + "۲۳۴"
                                      + sym["decimal"] + "۵")
    assert fa_fmt.pct(0.5, 0, sign=False) == "۵۰" + sym["percentSign"]
    assert en_fmt.num(-1234.5, 1) == en["minusSign"] + "1" + en["group"] + "234" + en["decimal"] + "5"
    assert en_fmt.pct(0.5, 0, sign=False) == "50" + en["percentSign"]
    assert [unicodedata.name(c) for c in persian_digits("0123456789")] == [
        f"EXTENDED ARABIC-INDIC DIGIT {n}" for n in
        ("ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE")]


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), st.integers(0, 3))
def test_persian_number_matches_babel(x, decimals):
    """``Formatter("fa").num`` = Babel's CLDR ``fa`` pattern ``#,##0.00…`` (arabext symbols) with Persian
    digits and U+2212 as the sign — an independent implementation of grouping, rounding and separators."""
    from decimal import ROUND_HALF_EVEN, Decimal

    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    # Python's format() rounds the binary value half-even; give Babel the same exact decimal
    exact = Decimal(x).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
    ref = format_decimal(exact, pattern, locale="fa", numbering_system="arabext", decimal_quantization=False)
    ref = persian_digits(ref.replace("\u200e", "")).replace("-", "\u2212")
    if exact == 0:
        ref = ref.replace("\u2212", "")
    got = Formatter("fa").num(x, decimals)
    assert got.replace("\u2212", "") == ref.replace("\u2212", "") and (got.startswith("\u2212") ==
                                                                      ref.startswith("\u2212")), (x, got, ref)


#: Where the project's messages live (paths relative to the ``tradepulse`` package) and how Babel reads them.
CATALOG_SOURCES = [("i18n.py", "python"), ("reports/templates/**.html", "jinja2"), ("reports/**.py", "python"),
                   ("web/templates/**.html", "jinja2"), ("web/**.py", "python"), ("groups/**.py", "python"),
                   ("indicators/**.py", "python"), ("roadmap/**.py", "python")]   # translatable warnings (meta.Note)
#: Marker functions: ``_``/``gettext``/``N_`` take the msgid; ``pgettext``/``NC_`` take (context, msgid).
CATALOG_KEYWORDS = {"_": None, "N_": None, "gettext": None, "pgettext": ((1, "c"), 2), "NC_": ((1, "c"), 2)}


def _extracted() -> dict[tuple[str | None, str], list[str]]:
    """(msgctxt, msgid) → places, extracted with Babel from the reports and the web dashboard."""
    from babel.messages.extract import extract_from_dir

    from tradepulse import i18n

    found: dict[tuple[str | None, str], list[str]] = {}
    for fname, line, msg, _c, ctx in extract_from_dir(str(i18n.HERE), method_map=CATALOG_SOURCES,
                                                      keywords=CATALOG_KEYWORDS):
        found.setdefault((ctx, msg), []).append(f"{fname}:{line}")
    return found


def test_catalog_complete():
    """Every message in the templates and Python sources of tradepulse.reports, tradepulse.web and
    tradepulse.i18n has a non-empty Persian translation, and the one catalog holds no message that no
    longer occurs (extracted with Babel; messages are (msgctxt, msgid) pairs)."""
    from babel.messages.pofile import read_po

    from tradepulse import i18n

    found = _extracted()
    with open(i18n.LOCALE_DIR / "fa" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        cat = read_po(fh, locale="fa")
    have = {(m.context, m.id): m.string for m in cat if m.id}
    assert found, "no messages extracted"
    places = {m.split(":")[0].split("/")[0] for ms in found.values() for m in ms}
    assert {"reports", "web", "i18n.py"} <= places, places        # all three sources were scanned
    assert sorted(k for k in found if k not in have) == []
    assert sorted(k for k in have if k not in found) == []
    assert [k for k, v in have.items() if not v] == []
    # brace placeholders survive translation ({value}, {province}, …)
    import re
    for (ctx, msgid), msgstr in have.items():
        assert sorted(re.findall(r"{\w*}", msgid)) == sorted(re.findall(r"{\w*}", msgstr)), msgid


def test_extraction_finds_web_markers():
    """The extraction mapping reaches the dashboard: a template ``_()``, a template ``pgettext`` with its
    context, a Python ``N_`` column label and an ``NC_`` label (hand-picked from the sources)."""
    found = _extracted()
    assert any(p.startswith("web/templates/login.html") for p in found[(None, "Password")])
    assert any(p.startswith("web/templates/_content.html") for p in found[("dashboard", "Partner")])
    assert any(p.startswith("web/pages/labels.py") for p in found[(None, "Partner imports")])
    assert any(p.startswith("web/pages/labels.py") for p in found[("dashboard", "RCA")])
    assert any(p.startswith("i18n.py") for p in found[(None, "${value} bn")])


def test_warnings_translate_with_locale_digits():
    """A result warning built as a :class:`tradepulse.meta.Note` reads in Persian on Persian pages and briefs
    (numbers in Persian digits and separators, codes and dataset names untouched); plain English warnings
    and notes whose template has no translation stay English."""
    from tradepulse.i18n import Formatter
    from tradepulse.meta import Note, ResultMeta

    n = Note("{n:,} spells censored at non-reporting years (the reporter has no data in the year after the "
             "spell, so its end is not seen)", n=1230)
    assert str(n).startswith("1,230 spells censored")
    fa, en = Formatter("fa"), Formatter("en")
    assert fa.translates(n) and not en.translates(n)
    assert fa.warning(n).startswith("۱٬۲۳۰ دورهٔ صادراتی") and en.warning(n) == str(n)
    d = Note("datasets read: {names}", names="baci-hs6-annual-HS2017")
    assert fa.warning(d).endswith("baci-hs6-annual-HS2017")            # identifiers keep their digits
    assert fa.warning("plain English") == "plain English" and not fa.translates("plain English")
    assert not fa.translates(Note("no such {x}", x=1)) and fa.warning(Note("no such {x}", x=1)) == "no such 1"
    m = ResultMeta()
    m.warn(n)
    m.warn(str(n))                                                     # the same sentence is kept once
    assert m.warnings == [n] and fa.translates(m.merge(ResultMeta()).warnings[0])
    import pickle
    assert fa.warning(pickle.loads(pickle.dumps(n))) == fa.warning(n)  # survives worker processes
