"""A target on every roadmap axis of the shipped Iran roadmap, evaluated on the SYNTHETIC demo warehouse.

Each figure is checked against a direct call of the indicator module that computes it, converted to SH
years independently: ratios and flows by the day weights SH y = w₁·G(y+621) + w₂·G(y+622), counts by the
start-year rule SH y = G(y+621).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from tradepulse.roadmap import calendar as cal
from tradepulse.roadmap import evaluate, load_roadmap
from tradepulse.roadmap.axes import AXES, eci_ranks, new_rca_counts


@pytest.fixture(scope="module")
def demo(tmp_path_factory, demo_copy):
    out = demo_copy(tmp_path_factory.mktemp("demo_axes"))   # build(out, small=True), built once
    return out / "warehouse.duckdb"


@pytest.fixture(scope="module")
def wh(demo):
    from tradepulse.warehouse import Warehouse
    w = Warehouse(demo, read_only=True)
    yield w
    w.close()


@pytest.fixture(scope="module")
def statuses(wh):
    rm = load_roadmap()
    axis_ids = [t.id for t in rm.targets if t.axis != "trade"]
    import dataclasses
    sub = dataclasses.replace(rm, targets=tuple(t for t in rm.targets if t.id in axis_ids))
    return {s.id: s for s in evaluate(sub, wh, as_of=1402)}


def _sh(g: pd.Series, sh_year: int) -> float:
    w1, w2 = cal.annual_weights(sh_year)
    return w1 * g[sh_year + 621] + w2 * g[sh_year + 622]


def test_every_axis_has_a_target_with_a_source():
    rm = load_roadmap()
    for axis in AXES:
        assert any(t.axis == axis for t in rm.targets), axis
    for t in rm.targets:
        if t.axis != "trade":
            assert t.source, t.id          # a source, or "illustrative" said out loud
            assert t.illustrative, t.id     # none of the axis values is published in the roadmap text


def test_every_axis_evaluated_on_demo(statuses):
    by_axis = {}
    for st in statuses.values():
        by_axis.setdefault(st.target.axis, []).append(st)
        assert st.status in ("on-track", "at-risk", "off-track"), (st.id, st.reason)
    assert set(by_axis) == set(AXES) - {"trade"}


def test_non_oil_balance_is_the_balance_module(wh, statuses):
    from tradepulse.indicators.balance import trade_balance
    g = trade_balance(wh, reporter="IRN").set_index("year")["non_oil_balance"]
    st = statuses["non-oil-surplus"]
    assert st.as_of_year == 1401
    assert st.actual == pytest.approx(_sh(g, 1401), rel=1e-9)
    assert st.baseline_value == pytest.approx(_sh(g, 1399), rel=1e-9)


def test_survival_is_the_survival_module(wh, statuses):
    from tradepulse.indicators import survival
    spells = survival.export_spells(wh, reporter="IRN")
    s = survival.summary(spells, by="cohort").set_index("cohort")["survival_1y"]
    st = statuses["first-year-survival"]
    # data end 2023: the 2023 cohort's first year is not over, so SH 1400 (2021/2022) is the latest
    assert st.as_of_year == 1400
    assert st.actual == pytest.approx(_sh(s, 1400), rel=1e-9)
    assert 0 < st.actual < 1


@pytest.mark.parametrize("tid, func", [("product-concentration", "product_diversification"),
                                       ("market-concentration", "market_diversification")])
def test_hhi_is_the_diversification_module(wh, statuses, tid, func):
    from tradepulse.indicators import diversification
    g = getattr(diversification, func)(wh, reporter="IRN").set_index("year")["hhi"]
    st = statuses[tid]
    assert st.actual == pytest.approx(_sh(g, st.as_of_year), rel=1e-9)
    # a lower-is-better target: the goal is below the baseline and the trend rule is applied to −value
    assert st.target.better == "lower" and st.target_value < st.baseline_value
    assert st.target_value == pytest.approx(st.baseline_value * (1 - 0.044) ** 5, rel=1e-12)


def test_markets_above_1m_is_the_diversification_module(wh, statuses):
    from tradepulse.indicators.diversification import market_diversification
    g = market_diversification(wh, reporter="IRN", threshold=1e6).set_index("year")["n_above"]
    st = statuses["markets-above-1m"]
    assert st.as_of_year == 1402 and st.actual == g[2023]
    assert st.baseline_value == g[1399 + 621]


def test_new_rca_products_is_the_complexity_module(wh, statuses):
    from tradepulse.indicators.complexity import complexity
    c = complexity(wh)
    irn = c[(c["exporter"] == "IRN")]
    now = set(irn.loc[(irn["year"] == 2023) & (irn["rca"] >= 1), "product"])
    before = set(irn.loc[(irn["year"] == 2022) & (irn["rca"] >= 1), "product"])
    st = statuses["products-gaining-rca"]
    assert st.as_of_year == 1402 and st.actual == len(now - before)
    base_now = set(irn.loc[(irn["year"] == 2020) & (irn["rca"] >= 1), "product"])
    base_before = set(irn.loc[(irn["year"] == 2019) & (irn["rca"] >= 1), "product"])
    assert st.baseline_value == len(base_now - base_before)


def test_active_exporters_is_the_firms_module(wh, statuses):
    from tradepulse.indicators.firms import exporter_profile
    g = exporter_profile(wh, reporter="IRN").set_index("year")["n_exporters"]
    st = statuses["active-exporters"]
    assert st.as_of_year == 1402 and st.actual == g[2023] and st.baseline_value == g[2020]


def test_new_rca_and_eci_rank_hand_case():
    frame = pd.DataFrame({"year": [2020, 2020, 2021, 2021, 2021, 2020, 2021],
                          "exporter": ["A", "A", "A", "A", "A", "B", "B"],
                          "product": ["p", "q", "p", "q", "r", "p", "p"],
                          "m": [True, False, True, True, True, True, True],
                          "eci": [0.5, 0.5, -1.0, -1.0, -1.0, 0.2, 0.3]})
    assert new_rca_counts(frame, "A").to_dict("records") == [{"year": 2021, "value": 2.0}]   # q and r
    assert eci_ranks(frame, "A").to_dict("records") == [{"year": 2020, "value": 1.0}, {"year": 2021, "value": 2.0}]


def test_targets_status_cli_lists_every_axis(demo):
    from tradepulse.cli import app
    res = CliRunner().invoke(app, ["targets", "status", "--warehouse", str(demo), "--as-of", "1402", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    axes = {t["axis"] for t in data["targets"] if t["status"] in ("on-track", "at-risk", "off-track")}
    assert axes == set(AXES)
    one = next(t for t in data["targets"] if t["id"] == "product-concentration")
    assert one["probability"] is not None and one["projection_low"] <= one["projection"] <= one["projection_high"]
    table = CliRunner().invoke(app, ["targets", "status", "--warehouse", str(demo), "--as-of", "1402"],
                               env={"COLUMNS": "80"})
    assert table.exit_code == 0, table.output
    assert "Export product concentration" in table.stdout and "0.1" in table.stdout   # HHI not printed as 0


def test_target_ids_do_not_shadow_indicator_link_keys():
    """Regression: an action's "Linked to" key is looked up among target ids first (``-`` read as ``_``); a
    target called ``export-survival`` hid the indicator label "export survival" in the brief."""
    from tradepulse.reports.weekly import LINK_LABELS
    ids = {t.id.replace("-", "_") for t in load_roadmap().targets if t.axis != "trade"}
    assert not ids & set(LINK_LABELS)


def test_status_span_gives_the_same_statuses_from_fewer_years(wh, monkeypatch):
    """``span="status"`` (the dashboard): every status field equals the whole-series evaluation; each series
    is the whole series from the first year the status reads; complexity runs on the window's years only
    and the market diversification once for both market metrics."""
    import dataclasses

    from tradepulse.indicators import complexity, diversification
    from tradepulse.roadmap.status import status_span

    rm = load_roadmap()
    full = evaluate(rm, wh, as_of=1402)
    years_run, market_calls = [], []
    real_by_year, real_market = complexity.ComplexityByYear, diversification.market_diversification

    class Recording(real_by_year):
        def __iter__(self):
            years_run.extend(self.source.years)
            yield from super().__iter__()

    def market(*a, **kw):
        market_calls.append(kw.get("years"))
        return real_market(*a, **kw)
    monkeypatch.setattr(complexity, "ComplexityByYear", Recording)
    monkeypatch.setattr(diversification, "market_diversification", market)
    part = evaluate(rm, wh, as_of=1402, span="status")
    assert [s.id for s in part] == [s.id for s in full]
    for a, b in zip(full, part):
        da, db = a.to_dict(), b.to_dict()
        sa, sb = da.pop("series"), db.pop("series")
        ma, mb = da.pop("meta"), db.pop("meta")     # its coverage names the years read: fewer
        assert da == db, a.id
        assert ma.get("dataset") == mb.get("dataset"), a.id
        # asking for the window's years, the input rule also says which of their cells the dataset lacks
        wa, wb = ma.get("warnings", []), mb.get("warnings", [])
        assert [w for w in wa if w not in wb] == [], a.id
        assert all(" does not cover " in str(w) for w in wb if w not in wa), a.id
        first = status_span(a.series, a.target, as_of_year=1402)[0]
        assert sb == [r for r in sa if first is None or r["year"] >= first], a.id
    # complexity: the window of the new-RCA target (SH 1397–1402 → Gregorian 2018–2023, plus 2017 to compare)
    all_years = sorted({int(y) for y in complexity.warehouse_export_years(wh).years})
    assert sorted(years_run) == list(range(2017, all_years[-1] + 1)) and len(years_run) < len(all_years)
    assert len(market_calls) == 1 and market_calls[0] is not None
    # the whole evaluation shares the market result too
    market_calls.clear()
    sub = dataclasses.replace(rm, targets=tuple(t for t in rm.targets if t.metric in ("market_hhi",
                                                                                     "n_markets_above")))
    evaluate(sub, wh, as_of=1402)
    assert market_calls == [None]
