"""Projections with uncertainty (tradepulse.roadmap.projection): the interval against the textbook formula
of an OLS prediction interval, the probability rule, and the back-test coverage on simulated and real panels.

Oracle: ŷ ± t_{1−α/2, n−2} · s · √(1 + 1/n + (x₀ − x̄)² / Σ(x − x̄)²) (Greene, Econometric Analysis, § 4.6),
computed here with numpy and scipy only.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tradepulse.roadmap import status_of
from tradepulse.roadmap.model import Scope, Target
from tradepulse.roadmap.projection import backtest, classify_probability, fit_projection

YEARS = np.array([1396, 1397, 1398, 1399, 1400])
VALUES = np.array([100.0, 112.0, 118.0, 135.0, 141.0])


def _oracle(x, v, x0, level, log=True):
    y = np.log(v) if log else v
    n = len(x)
    xb = x.mean()
    sxx = ((x - xb) ** 2).sum()
    b = ((x - xb) * (y - y.mean())).sum() / sxx
    a = y.mean() - b * xb
    resid = y - (a + b * x)
    s = math.sqrt((resid ** 2).sum() / (n - 2))
    se = s * math.sqrt(1 + 1 / n + (x0 - xb) ** 2 / sxx)
    yh = a + b * x0
    t = stats.t.ppf(0.5 + level / 2, n - 2)
    f = np.exp if log else (lambda z: z)
    return f(yh), f(yh - t * se), f(yh + t * se), yh, se


@pytest.mark.parametrize("log", [True, False])
def test_interval_is_the_ols_prediction_interval(log):
    p = fit_projection(YEARS, VALUES, 1404, level=0.8, log=log)
    mean, lo, hi, _yh, se = _oracle(YEARS.astype(float), VALUES, 1404.0, 0.8, log)
    assert (p.mean, p.low, p.high) == pytest.approx((mean, lo, hi), rel=1e-10)
    assert p.se == pytest.approx(se, rel=1e-10) and p.df == 3
    # the point is the deterministic log-linear projection of status.trend (np.polyfit)
    slope, icpt = np.polyfit(YEARS, np.log(VALUES) if log else VALUES, 1)
    det = icpt + slope * 1404
    assert p.mean == pytest.approx(math.exp(det) if log else det, rel=1e-9)


def test_probability_matches_the_interval():
    p = fit_projection(YEARS, VALUES, 1404, level=0.8)
    assert p.probability(p.mean) == pytest.approx(0.5, abs=1e-12)
    assert p.probability(p.high) == pytest.approx(0.1, abs=1e-9)     # 10 % above an 80 % interval
    assert p.probability(p.low) == pytest.approx(0.9, abs=1e-9)
    assert p.probability(p.high, "lower") == pytest.approx(0.9, abs=1e-9)
    assert p.probability(-5.0) == 1.0          # a log model never goes below 0
    assert fit_projection(YEARS[:2], VALUES[:2], 1404).probability(200.0) is None   # no residual df


def test_probability_rule_thresholds():
    assert [classify_probability(p) for p in (0.5, 0.49, 0.2, 0.19)] == \
        ["on-track", "at-risk", "at-risk", "off-track"]


def _target(goal, better="higher"):
    return Target(id="t", title_en="t", title_fa="t", metric="exports", scope=Scope(reporter="IRN"),
                  deadline_year=1404, calendar="SH", baseline_year=1396, target_value=goal, better=better)


SERIES = pd.DataFrame({"year": YEARS, "value": VALUES, "estimate": False, "method": "gregorian"})


def test_status_probability_and_trend_rule_side_by_side():
    p = fit_projection(YEARS, VALUES, 1404)
    # a goal just above the point projection: the trend rule says at-risk (within 10 %), P slightly < 0.5
    goal = p.mean * 1.05
    st = status_of(_target(goal), SERIES, rule="probability")
    assert st.trend_status == "at-risk" and st.status == "at-risk"
    assert st.probability == pytest.approx(p.probability(goal), rel=1e-12) and 0.2 < st.probability < 0.5
    # a goal at the interval's upper bound: P = 10 % → off-track, though the trend rule says at-risk or worse
    st = status_of(_target(p.high), SERIES, rule="probability")
    assert st.status == "off-track" and st.probability == pytest.approx(0.1, abs=1e-9)
    assert st.trend_status == status_of(_target(p.high), SERIES).status
    assert (st.projection_low, st.projection_high) == pytest.approx((p.low, p.high))
    # lower-is-better: a goal below the series that the trend reaches is on track
    down = SERIES.assign(value=VALUES[::-1])
    st = status_of(_target(90.0, "lower"), down, rule="probability")
    assert st.trend_status == "on-track" and st.status == "on-track" and st.probability > 0.5


def test_backtest_coverage_when_the_model_is_true():
    """Log-linear trend + iid normal noise: the 80 % interval must cover ≈ 80 % of 1–3-year-ahead values."""
    rng = np.random.default_rng(17)
    years = np.arange(2000, 2012)
    rows = [{"series": i, "year": int(y), "value": float(np.exp(3 + 0.05 * (y - 2000) + rng.normal(0, 0.1)))}
            for i in range(120) for y in years]
    res = backtest(pd.DataFrame(rows), k=5, horizons=(1, 3)).set_index("h")
    assert res.loc[1, "forecasts"] == 120 * 7 and res.loc[3, "forecasts"] == 120 * 5
    for h in (1, 3):
        assert abs(res.loc[h, "coverage"] - 0.8) < 0.04, res


def test_backtest_on_real_panels(shared_data):
    """Real series are not a straight trend plus iid noise: coverage falls short of the nominal 80 %
    (numbers in docs/roadmap.md); a sample keeps the test fast.  The figures asserted are loose bands around
    the full back-test (gravity 600 pairs: 0.745 / 0.658 / 0.604; Comtrade 3000 pairs: see docs)."""
    rng = np.random.default_rng(2026)
    g = pd.read_parquet(shared_data / "agtpa_gravity_1986_2006.parquet")
    g = g[g["exporter"] != g["importer"]].rename(columns={"trade": "value"})
    g["series"] = g["exporter"].astype(str) + "-" + g["importer"].astype(str)
    g = g[g["series"].isin(rng.choice(g["series"].unique(), 40, replace=False))]
    res = backtest(g[["series", "year", "value"]]).set_index("h")
    assert res.loc[1, "forecasts"] == 40 * 16
    assert 0.6 < res.loc[1, "coverage"] < 0.9 and res.loc[3, "coverage"] < res.loc[1, "coverage"]
    c = pd.read_parquet(shared_data / "comtrade_partner_totals_2014_2022.parquet")
    c = c[c["partner"] == "W00"].rename(columns={"value_usd": "value", "reporter": "series"})
    res = backtest(c[["series", "year", "value"]]).set_index("h")
    assert res.loc[1, "forecasts"] > 300
    assert 0.6 < res.loc[1, "coverage"] < 0.9


def test_probability_reason_in_persian():
    from tradepulse.roadmap.status import reason_text
    assert reason_text("9% probability of reaching the target (trend model)", "fa") == \
        "احتمال رسیدن به هدف ۹٪ (مدل روند)"
