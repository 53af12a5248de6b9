"""Projections with uncertainty: a prediction interval for a target's value in its deadline year and the
probability of reaching the target.

**Model** (statsmodels ``OLS`` with ``get_prediction``; choice in docs/decisions.md): the same trend as the
deterministic projection of :mod:`.status` — least squares of *y* = ln(value) (all values > 0, not cumulative)
or *y* = value on the year, over the last *k* = 5 years with data — so the point projection is unchanged.  For
the deadline year *D* the model gives the predicted mean ŷ_D and its standard error for a *new observation*,
se_obs = √(s² + Var(ŷ_D)) (s² = residual variance), with *n* − 2 degrees of freedom (Student *t*; e.g. Greene,
*Econometric Analysis*, § 4.6 "Prediction").  Hence

* the interval at level 1 − α: ŷ_D ± t_{1−α/2, n−2} · se_obs (exp of both ends on the log scale);
* the probability of reaching the target *T*: P = 1 − F_t((g(T) − ŷ_D) / se_obs; n − 2) with g = ln or
  identity (for ``better = "lower"``: P = F_t(…)); P = 1 when a log model meets T ≤ 0 (lower: 0).

Needs *n* ≥ 3 points (one degree of freedom); with fewer the projection has no interval (P = None).

**Probability rule** (the default status of :func:`tradepulse.roadmap.evaluate`; ``rule="trend"`` keeps the
deterministic rule): before the deadline and target not yet reached,

* ``on-track`` if P ≥ 0.5 (the median projection reaches the target — the deterministic "on track");
* ``at-risk`` if 0.2 ≤ P < 0.5;
* ``off-track`` if P < 0.2.

Deadline reached, already reached and no recent data are decided as in the deterministic rule.

**Back-test** (:func:`backtest`): on a panel of yearly series, fit at every origin with k points, forecast
h = 1…H years ahead, and count how often the realised value falls in the interval (the *coverage*).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_LEVEL = 0.80
ON_TRACK_P = 0.5
AT_RISK_P = 0.2


@dataclass(frozen=True)
class Projection:
    mean: float            # the point projection (value scale)
    low: float | None      # interval bounds (value scale); None without an interval
    high: float | None
    level: float
    log: bool
    centre: float          # ŷ_D on the model scale
    se: float | None       # se of a new observation on the model scale
    df: int

    def probability(self, target: float, better: str = "higher") -> float | None:
        """P(value in the deadline year ≥ target) (≤ for ``better = "lower"``) under the model."""
        from scipy import stats
        if self.se is None:
            return None
        if self.log and target <= 0:
            p_above = 1.0
        else:
            g = math.log(target) if self.log else target
            p_above = 1.0 if self.se == 0 and self.centre >= g else 0.0 if self.se == 0 else \
                float(stats.t.sf((g - self.centre) / self.se, self.df))
        return p_above if better == "higher" else 1.0 - p_above


def fit_projection(years, values, deadline: int, *, level: float = DEFAULT_LEVEL, log: bool = True
                   ) -> Projection:
    """OLS trend of ``values`` on ``years`` (log scale when ``log`` and all values > 0) projected to ``deadline``
    with a prediction interval at ``level`` (see the module docstring)."""
    return fit_projections(years, values, [deadline], level=level, log=log)[0]


def fit_projections(years, values, deadlines, *, level: float = DEFAULT_LEVEL, log: bool = True
                    ) -> list[Projection]:
    """:func:`fit_projection` for several deadline years from one fit."""
    import statsmodels.api as sm
    x = np.asarray(years, dtype=float)
    v = np.asarray(values, dtype=float)
    use_log = log and bool(np.all(v > 0))
    y = np.log(v) if use_log else v
    back = np.exp if use_log else (lambda z: z)
    n = len(x)
    if n < 2:
        return [Projection(float(v[-1]), None, None, level, use_log, float(y[-1]), None, 0) for _ in deadlines]
    xm = x.mean()   # centred year: a well-conditioned design
    d = np.asarray(deadlines, dtype=float) - xm
    if n < 3:   # a line through two points: no residual degree of freedom, no interval
        slope = (y[1] - y[0]) / (x[1] - x[0])
        return [Projection(float(back(y.mean() + slope * dd)), None, None, level, use_log,
                           float(y.mean() + slope * dd), None, 0) for dd in d]
    res = sm.OLS(y, sm.add_constant(x - xm, has_constant="add")).fit()
    pred = res.get_prediction(np.column_stack([np.ones(len(d)), d]))
    centres = np.asarray(pred.predicted_mean, dtype=float)
    frame = pred.summary_frame(alpha=1 - level)
    se_obs = np.sqrt(np.asarray(pred.var_pred_mean, dtype=float) + float(res.scale))
    return [Projection(float(back(c)), float(back(lo)), float(back(hi)), level, use_log, float(c), float(se), n - 2)
            for c, lo, hi, se in zip(centres, frame["obs_ci_lower"], frame["obs_ci_upper"], se_obs)]


def classify_probability(p: float) -> str:
    """The probability rule: on-track (P ≥ 0.5), at-risk (0.2 ≤ P < 0.5), off-track (P < 0.2)."""
    return "on-track" if p >= ON_TRACK_P else "at-risk" if p >= AT_RISK_P else "off-track"


def backtest(panel: pd.DataFrame, *, k: int = 5, horizons=(1, 2, 3), level: float = DEFAULT_LEVEL,
             key: str = "series", log: bool = True) -> pd.DataFrame:
    """Coverage of the prediction interval on ``panel[key, year, value]`` (consecutive yearly values).

    For every series and origin year *o* with *k* points ≤ *o* and a value in *o* + h: fit on those *k* points
    and check ``low ≤ value ≤ high``.  Returns one row per horizon: ``h, forecasts, coverage, nominal``, plus
    the share of realised values below / above the interval."""
    rows = []
    for _, g in panel.sort_values([key, "year"]).groupby(key, sort=False):
        years = g["year"].to_numpy(int)
        vals = g["value"].to_numpy(float)
        pos = {int(y): i for i, y in enumerate(years)}
        for i in range(k - 1, len(years)):
            window = slice(i - k + 1, i + 1)
            if years[i] - years[i - k + 1] != k - 1:
                continue   # the k points must be consecutive years
            due = [(h, pos[int(years[i]) + h]) for h in horizons if int(years[i]) + h in pos]
            if not due:
                continue
            projs = fit_projections(years[window], vals[window], [int(years[i]) + h for h, _ in due],
                                    level=level, log=log)
            for (h, j), p in zip(due, projs):
                if p.low is not None:
                    rows.append((h, vals[j] < p.low, vals[j] > p.high))
    df = pd.DataFrame(rows, columns=["h", "below", "above"])
    out = df.groupby("h").agg(forecasts=("below", "size"), below=("below", "mean"), above=("above", "mean"))
    out["coverage"] = 1 - out["below"] - out["above"]
    out["nominal"] = level
    return out.reset_index()[["h", "forecasts", "coverage", "nominal", "below", "above"]]
