"""Solar Hijri calendar helpers (tradepulse.roadmap.calendar).

Known dates (Iranian calendar, published Nowruz dates): 1 Farvardin 1399 = 20 March 2020,
1 Farvardin 1400 = 21 March 2021, 1 Farvardin 1403 = 20 March 2024; 1399 and 1403 are leap years
(30 Esfand exists).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradepulse.roadmap import calendar as cal


@pytest.mark.parametrize("sh, greg", [(1399, dt.date(2020, 3, 20)), (1400, dt.date(2021, 3, 21)),
                                      (1401, dt.date(2022, 3, 21)), (1402, dt.date(2023, 3, 21)),
                                      (1403, dt.date(2024, 3, 20)), (1404, dt.date(2025, 3, 21))])
def test_nowruz_known_dates(sh, greg):
    assert cal.nowruz(sh) == greg
    assert cal.to_gregorian(sh, 1, 1) == greg
    assert cal.sh_year_of(greg) == sh
    assert cal.sh_year_of(greg - dt.timedelta(days=1)) == sh - 1


def test_other_known_dates():
    # 30 Esfand 1399 (leap year) = 20 March 2021; 1 Mehr 1400 = 23 September 2021; 1 Dey 1402 = 22 Dec 2023
    assert cal.to_gregorian(1399, 12, 30) == dt.date(2021, 3, 20)
    assert cal.to_gregorian(1400, 7, 1) == dt.date(2021, 9, 23)
    assert cal.to_gregorian(1402, 10, 1) == dt.date(2023, 12, 22)
    assert cal.sh_year_length(1399) == 366 and cal.sh_year_length(1400) == 365
    assert cal.sh_year_length(1403) == 366
    assert cal.format_sh(dt.date(2024, 3, 20)) == "1403-01-01"
    assert cal.format_sh(dt.date(2021, 3, 21), lang="fa") == "۱ فروردین ۱۴۰۰"
    assert cal.sh_to_gregorian_year(1400) == 2021 and cal.gregorian_to_sh_year(2021) == 1400


def test_annual_weights_hand_counted():
    """SH 1400 = 21 Mar 2021 – 20 Mar 2022: 11 + 275 = 286 days in 2021, 31 + 28 + 20 = 79 in 2022.
    SH 1399 = 20 Mar 2020 – 20 Mar 2021: 12 + 275 = 287 days of leap 2020 (366), 79 days of 2021."""
    assert cal.annual_weights(1400) == pytest.approx((286 / 365, 79 / 365))
    assert cal.annual_weights(1399) == pytest.approx((287 / 366, 79 / 365))


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1300, max_value=1480))
def test_weights_reproduce_day_counts(sh):
    """Property: w₁·len(G₁) + w₂·len(G₂) = days of the SH year, and w₁ ≈ ¾ … ⅘, w₂ ≈ ⅕ … ¼."""
    w1, w2 = cal.annual_weights(sh)
    g1 = sh + 621
    n1 = (dt.date(g1 + 1, 1, 1) - dt.date(g1, 1, 1)).days
    n2 = (dt.date(g1 + 2, 1, 1) - dt.date(g1 + 1, 1, 1)).days
    assert round(w1 * n1 + w2 * n2) == cal.sh_year_length(sh)
    assert 0.77 < w1 < 0.80 and 0.20 < w2 < 0.23


def test_month_split_march():
    assert cal.month_split(2021, 3) == [(1399, pytest.approx(20 / 31)), (1400, pytest.approx(11 / 31))]
    assert cal.month_split(2020, 3) == [(1398, pytest.approx(19 / 31)), (1399, pytest.approx(12 / 31))]
    assert cal.month_split(2021, 4) == [(1400, 1.0)]
    assert cal.month_split(2022, 2) == [(1400, 1.0)]


def _daily_frame(g_years):
    """Monthly values = days in the month (1 USD per day)."""
    rows = [(y, m, (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.date(y, m, 1)).days)
            for y in g_years for m in range(1, 13)]
    return pd.DataFrame(rows, columns=["year", "month", "value"])


def test_monthly_to_sh_exact_with_daily_flows():
    """1 USD per day → each complete SH year sums to its number of days (366 for 1399, 365 for 1400–1402)."""
    out = cal.monthly_to_sh(_daily_frame(range(2020, 2024)))
    complete = out[out["months"] == 13].set_index("sh_year")["value"]
    assert list(complete.index) == [1399, 1400, 1401]
    assert complete.to_numpy() == pytest.approx([366, 365, 365])


def test_monthly_to_sh_matches_day_by_day_jdatetime():
    """Independent check: expand random monthly values to days (uniform within the month), label each day
    with its SH year through jdatetime, and sum."""
    rng = np.random.default_rng(1)
    frame = _daily_frame([2021, 2022])
    frame["value"] = rng.uniform(1, 100, len(frame))
    days = pd.date_range("2021-01-01", "2022-12-31", freq="D")
    per_day = frame.set_index(["year", "month"])["value"] / frame.set_index(["year", "month"])["value"].pipe(
        lambda s: pd.Series([pd.Period(f"{y}-{m:02d}").days_in_month for y, m in s.index], index=s.index))
    sh = [cal.sh_year_of(d.date()) for d in days]
    vals = per_day.loc[list(zip(days.year, days.month))].to_numpy()
    expected = pd.Series(vals).groupby(sh).sum()
    got = cal.monthly_to_sh(frame).set_index("sh_year")["value"]
    assert got.loc[1400] == pytest.approx(expected.loc[1400])
    assert got.loc[1399] == pytest.approx(expected.loc[1399])  # partial SH years too


def test_annual_to_sh_hand_computed():
    """G2021 = 365, G2022 = 730 → SH 1400 = 286/365·365 + 79/365·730 = 286 + 158 = 444."""
    frame = pd.DataFrame({"k": ["a", "a", "a"], "year": [2021, 2022, 2023], "value": [365.0, 730.0, 0.0]})
    out = cal.annual_to_sh(frame, by=["k"])
    assert out["sh_year"].tolist() == [1400, 1401]
    assert out["value"].iloc[0] == pytest.approx(444.0)
    assert out["value"].iloc[1] == pytest.approx(730 * 286 / 365)
    loose = cal.annual_to_sh(frame, by=["k"], require_both=False)
    assert 1399 in loose["sh_year"].tolist() and 1402 in loose["sh_year"].tolist()


def test_annual_apportioning_of_constant_daily_flow_is_close():
    """With 1 USD/day, apportioned annual totals equal the SH year's days exactly (weights are day counts)."""
    frame = pd.DataFrame({"year": [2020, 2021, 2022, 2023], "value": [366.0, 365.0, 365.0, 365.0]})
    out = cal.annual_to_sh(frame).set_index("sh_year")["value"]
    assert out.to_numpy() == pytest.approx([366, 365, 365])


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=2000, max_value=2030), st.integers(min_value=1, max_value=3),
       st.lists(st.floats(min_value=0, max_value=1e9, allow_nan=False), min_size=36, max_size=36))
def test_monthly_to_sh_conserves_totals(first, n_years, values):
    """Property: day-weight aggregation only moves value between SH years, never creates or loses any."""
    frame = pd.DataFrame([(first + k // 12, k % 12 + 1) for k in range(12 * n_years)], columns=["year", "month"])
    frame["value"] = values[: len(frame)]
    out = cal.monthly_to_sh(frame)
    assert out["value"].sum() == pytest.approx(frame["value"].sum(), rel=1e-9, abs=1e-6)
    assert out["months"].max() <= 13


def test_sh_months_stored_under_gregorian_labels():
    """The customs reader files SH month m of year y under the Gregorian month holding its 15th day
    (Farvardin 1400 → April 2021, Dey 1400 → January 2022, Esfand 1400 → March 2022); mapping back is exact."""
    for m in range(1, 13):
        mid = cal.to_gregorian(1400, m, 15)
        frame = pd.DataFrame({"year": [mid.year], "month": [mid.month], "value": [1.0]})
        assert cal.sh_months_to_sh(frame)["sh_year"].tolist() == [1400], m
    labels = [(cal.to_gregorian(1400, m, 15).year, cal.to_gregorian(1400, m, 15).month) for m in range(1, 13)]
    assert len(set(labels)) == 12 and labels[0] == (2021, 4) and labels[-1] == (2022, 3)


def test_apportioning_error_for_smooth_and_lumpy_flows():
    """Daily flows growing 10 %/yr (no seasonality): apportioned SH totals are within 0.1 % of the exact
    day-by-day totals (measured 0.08 %); of a single shipment in February only 79/365 lands in its SH year — the
    apportioning is an estimate, exact only with monthly data."""
    days = pd.date_range("2015-01-01", "2020-12-31")
    t = (days - days[0]).days.to_numpy() / 365.25
    frame = pd.DataFrame({"day": days, "v": np.exp(np.log(1.1) * t)})
    frame["sh"] = [cal.sh_year_of(d.date()) for d in days]
    exact = frame.groupby("sh")["v"].sum()
    annual = frame.groupby(frame["day"].dt.year)["v"].sum().rename_axis("year").reset_index(name="value")
    est = cal.annual_to_sh(annual).set_index("sh_year")["value"]
    rel = (est / exact.loc[est.index] - 1).abs()
    assert rel.max() < 1e-3
    lumpy = pd.DataFrame({"year": [2021, 2022], "value": [0.0, 100.0]})  # all of it in Feb 2022 (SH 1400)
    assert cal.annual_to_sh(lumpy)["value"].iloc[0] == pytest.approx(100 * 79 / 365)  # exact answer: 100


def test_leap_years_match_the_official_list():
    """Official SH leap years 1370–1410 (Iranian calendar tables; note the 5-year gaps 1370→1375, 1403→1408)."""
    leap = {1370, 1375, 1379, 1383, 1387, 1391, 1395, 1399, 1403, 1408}
    assert {y for y in range(1370, 1411) if cal.sh_year_length(y) == 366} == leap


# ---------------------------------------------------------------- Persian digits: one table (tradepulse.i18n)
@given(st.text(alphabet="0123456789,.%-+ ab", max_size=30))
def test_to_persian_digits_is_the_i18n_table_without_separators(text):
    """``to_persian_digits`` (used for Jalali dates) maps only 0–9, through the same table as
    :func:`tradepulse.i18n.persian_digits`: U+06F0 + d for digit d; separators, signs and letters unchanged."""
    from tradepulse.i18n import persian_digits
    got = cal.to_persian_digits(text)
    assert got == persian_digits(text, separators=False)
    assert got == "".join(chr(0x06F0 + int(c)) if c.isdigit() else c for c in text)
    # with separators: the CLDR arabext group, decimal and percent signs as well (U+066C, U+066B, U+066A)
    full = persian_digits(text)
    assert full == got.replace(",", "\u066c").replace(".", "\u066b").replace("%", "\u066a")


def test_targets_cli_figures_use_the_formatter():
    """``tradepulse targets status --lang fa`` figures: −1.5e9 → ``−۱٫۵۰ میلیارد`` (U+2212 sign, ٫ decimal),
    2,345,678 → ``۲٫۳ میلیون``, a share 0.1234 → ``۱۲٫۳۴٪``, a count 1234 → ``۱٬۲۳۴``; English unchanged from
    Python's format (``-1.50B``, ``2.3M``, ``12.34%``, ``1,234``)."""
    from tradepulse.cli.targets import _money
    assert _money(-1.5e9, "exports", "fa") == "\u2212۱٫۵۰ میلیارد"
    assert _money(2_345_678, "exports", "fa") == "۲٫۳ میلیون"
    assert _money(0.1234, "market_share", "fa") == "۱۲٫۳۴٪" and _money(1234, "n_products", "fa") == "۱٬۲۳۴"
    assert _money(-1.5e9, "exports", "en") == f"{-1.5:,.2f}B" == "-1.50B"
    assert _money(2_345_678, "exports", "en") == "2.3M" and _money(0.1234, "market_share", "en") == f"{0.1234:.2%}"
    assert _money(1234, "n_products", "en") == "1,234" and _money(None, "exports", "fa") == "—"
    assert _money(-1234.5678, "indicator:x.y", "fa") == "\u2212۱٬۲۳۵"     # 4 significant digits
