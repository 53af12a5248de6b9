"""Roadmap files, metrics and the status rule (tradepulse.roadmap).

Hand-computed cases are given in each docstring; the seed targets are evaluated on the small SYNTHETIC demo
world in tests/test_roadmap_demo.py.
"""

from __future__ import annotations

import math
import sys
import types

import pandas as pd
import pytest

from tradepulse.errors import InputError, UnknownNameError
from tradepulse.roadmap import evaluate, load_roadmap, parse_roadmap, status_frame, status_of
from tradepulse.roadmap.metrics import metric_series


def F(rows):
    """FLOWS frame from tuples (year, reporter, partner, flow, product, value[, province[, month]])."""
    out = []
    for r in rows:
        y, rep, par, flow, prod, val = r[:6]
        out.append({"year": y, "month": r[7] if len(r) > 7 else None, "reporter": rep, "partner": par,
                    "flow": flow, "product": prod, "hs_revision": "HS1992", "value_usd": float(val),
                    "quantity": None, "unit": None, "province": r[6] if len(r) > 6 else None,
                    "source": "test"})
    return pd.DataFrame(out)


def roadmap(*targets, calendar="gregorian"):
    return parse_roadmap({"roadmap": {"reporter": "IRN", "calendar": calendar}, "targets": list(targets)})


def T(metric="exports", scope=None, target=None, deadline=2026, baseline=None, **kw):
    d = {"id": kw.pop("id", "t"), "title_en": "t", "metric": metric, "scope": scope or {},
         "target": target or {"value": 1.0}, "deadline": deadline}
    if baseline is not None:
        d["baseline"] = baseline
    d.update(kw)
    return d


def series_of(metric, rows, calendar="gregorian", services=None, **kw):
    rm = roadmap(T(metric, **kw), calendar=calendar)
    data = {"flows": F(rows), "services": services}
    return metric_series(data, rm.targets[0]).set_index("year")["value"]


# ---------------------------------------------------------------- the shipped example
def test_example_roadmap_holds_the_seed_targets():
    rm = load_roadmap()
    ids = [t.id for t in rm.targets]
    assert ids[:6] == ["syria-total-trade", "neighbours-exports", "handicrafts-exports", "import-substitution",
                       "substitution-telecom", "substitution-car-parts"]
    syr = rm.target("syria-total-trade")
    assert (syr.metric, syr.scope.partner, syr.target_value, syr.deadline_year, syr.calendar) == \
        ("total_trade", ("SYR",), 1e9, 1400, "SH")
    nb = rm.target("neighbours-exports")
    assert nb.target_value == 2 * nb.baseline_value == 48e9
    hc = rm.target("handicrafts-exports")
    assert hc.growth == 0.08 and hc.scope.product == ("handicrafts",) and hc.baseline_value == 250e6
    assert hc.scope.partner == ("caspian_and_persian_gulf",)
    assert rm.target("import-substitution").target_value == 10e9
    kids = {t.id: t.target_value for t in rm.children("import-substitution")}
    assert kids == {"substitution-telecom": 500e6, "substitution-car-parts": 400e6}
    assert rm.target("syria-technical-services").scope.trade == "services"
    assert all(t.title_fa and t.title_fa != t.title_en for t in rm.targets)
    with pytest.raises(UnknownNameError):
        rm.target("nope")


# ---------------------------------------------------------------- malformed files → one line naming line and field
GOOD = """\
[roadmap]
reporter = "IRN"
calendar = "SH"

[[targets]]
id = "a"
title_en = "A"
metric = "exports"
deadline = 1404
target = { value = 1e9 }

[[targets]]
id = "b"
title_en = "B"
metric = "exports"
scope = { partner = "neighbours15" }
deadline = { year = 1404, calendar = "SH" }
target = { growth = 0.08 }
baseline = { year = 1400 }
"""


@pytest.mark.parametrize("old, new, line, field, words", [
    ('metric = "exports"\nscope', 'metric = "exprts"\nscope', 15, "targets[1].metric", "unknown metric"),
    ('partner = "neighbours15"', 'partner = "neighbors"', 16, "targets[1].scope.partner", "unknown partner"),
    ("deadline = 1404\n", "deadline = 14040\n", 9, "targets[0].deadline", "plausible"),
    ("target = { value = 1e9 }", "target = { value = 1e9, growth = 0.1 }", 10, "targets[0].target", "exactly one"),
    ('id = "b"', 'id = "a"', 13, "targets[1].id", "duplicate"),
    ("baseline = { year = 1400 }", "baseline = { year = 1405 }", 19, "targets[1].baseline", "not before"),
    ('title_en = "B"\n', 'title_en = "B"\ncolour = "red"\n', 15, "targets[1].colour", "unknown key"),
    ('calendar = "SH"\n\n', 'calendar = "lunar"\n\n', 3, "roadmap.calendar", "calendar"),
])
def test_malformed_roadmap_one_line_error(tmp_path, old, new, line, field, words):
    assert old in GOOD
    path = tmp_path / "r.toml"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(InputError) as info:
        load_roadmap(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert info.value.line == line and info.value.column == field, msg
    assert f"line {line}" in msg and field in msg and words in msg and "r.toml" in msg


def test_missing_substitution_file_named(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text(GOOD.replace('calendar = "SH"\n', 'calendar = "SH"\nsubstitution_file = "lines.csv"\n'))
    with pytest.raises(InputError) as info:
        load_roadmap(path)
    assert info.value.line == 4 and info.value.column == "roadmap.substitution_file"
    (tmp_path / "lines.csv").write_text("hs,start\n8517,1399-01-01\n")
    assert load_roadmap(path).substitution_file == str(tmp_path / "lines.csv")


def test_good_file_loads_and_missing_field(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text(GOOD)
    rm = load_roadmap(path)
    assert [t.line for t in rm.targets] == [5, 12]
    path.write_text(GOOD.replace('metric = "exports"\ndeadline = 1404\n', "deadline = 1404\n"))
    with pytest.raises(InputError, match=r"line 5.*targets\[0\]\.metric.*missing required field"):
        load_roadmap(path)


def test_toml_syntax_error_names_line(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text(GOOD.replace('title_en = "B"', 'title_en = "B'))
    with pytest.raises(InputError, match=r"line 14") as info:
        load_roadmap(path)
    assert "\n" not in str(info.value)


def test_yaml_roadmap_and_its_error_lines(tmp_path):
    text = ("roadmap:\n  reporter: IRN\n  calendar: gregorian\ntargets:\n"
            "  - id: a\n    title_en: A\n    metric: exports\n    deadline: 2030\n    target: {value: 5}\n"
            "  - id: b\n    title_en: B\n    metric: imports\n    scope: {product: car_parts}\n"
            "    deadline: 2030\n    target: {value: 5}\n")
    path = tmp_path / "r.yaml"
    path.write_text(text)
    rm = load_roadmap(path)
    assert [t.metric for t in rm.targets] == ["exports", "imports"] and rm.calendar == "gregorian"
    path.write_text(text.replace("car_parts", "car_partz"))
    with pytest.raises(InputError) as info:
        load_roadmap(path)
    assert info.value.line == 13 and info.value.column == "targets[1].scope.product"


# ---------------------------------------------------------------- status rule: one hand case per branch
def _series(years, values):
    return pd.DataFrame({"year": years, "value": values, "estimate": False, "method": "gregorian"})


def _target(value=None, growth=None, deadline=2026, baseline=None, metric="exports"):
    tg = {"value": value} if value is not None else {"growth": growth}
    return roadmap(T(metric, target=tg, deadline=deadline, baseline=baseline)).targets[0]


GROW = _series([2020, 2021, 2022], [100.0, 110.0, 121.0])  # +10 %/yr exactly


def test_status_on_track_by_projection():
    """Log-linear fit of 100, 110, 121 → growth 10 %; projection 2026 = 121·1.1⁴ = 177.161; target 160.
    Required CAGR = (160/121)^(1/4) − 1 = 7.237 %."""
    st = status_of(_target(160.0), GROW)
    assert st.status == "on-track" and st.projection_method == "loglinear-k5"
    assert st.projection == pytest.approx(121 * 1.1 ** 4)
    assert st.trend_growth == pytest.approx(0.10)
    assert st.required_growth == pytest.approx((160 / 121) ** 0.25 - 1)
    assert (st.as_of_year, st.actual, st.gap, st.years_left) == (2022, 121.0, 39.0, 4)


def test_status_at_risk_and_off_track():
    """Projection 177.161: target 185 → 0.9·185 = 166.5 ≤ 177.16 < 185: at-risk; target 250 → off-track."""
    assert status_of(_target(185.0), GROW).status == "at-risk"
    st = status_of(_target(250.0), GROW)
    assert st.status == "off-track" and "short" in st.reason


def test_status_already_reached_and_deadline_cases():
    """Actual 121 ≥ 115: on-track (already reached).  Deadline 2021 with 110 in 2021: target 105 achieved,
    target 111 missed (value in the deadline year is used, later years ignored)."""
    st = status_of(_target(115.0), GROW)
    assert st.status == "on-track" and "already" in st.reason
    hit = status_of(_target(105.0, deadline=2021), GROW)
    assert (hit.status, hit.as_of_year, hit.actual) == ("on-track", 2021, 110.0) and "achieved" in hit.reason
    miss = status_of(_target(111.0, deadline=2021), GROW)
    assert miss.status == "off-track" and "missed" in miss.reason


def test_status_growth_target_and_baseline_from_data():
    """Growth 8 %/yr from the 2020 value 100 (from the data) to 2026: target = 100·1.08⁶ = 158.687."""
    st = status_of(_target(growth=0.08, baseline={"year": 2020}), GROW)
    assert st.baseline_value == 100.0 and st.target_value == pytest.approx(100 * 1.08 ** 6)
    assert st.progress == pytest.approx((121 - 100) / (100 * 1.08 ** 6 - 100))
    assert st.status == "on-track"


def test_status_negative_values_use_linear_trend_and_no_data():
    """Balance −30, −20, −10: linear fit slope 10/yr → projection 2026 = 30; target 0: on-track."""
    st = status_of(_target(0.0, metric="balance"), _series([2020, 2021, 2022], [-30.0, -20.0, -10.0]))
    assert st.projection_method == "linear-k5" and st.projection == pytest.approx(30.0)
    assert st.required_growth is None and st.status == "on-track"
    nd = status_of(_target(1.0), _series([], []))
    assert nd.status == "no-data"


def test_status_as_of_and_k():
    """as_of 2021 uses 100, 110 only: projection 2026 = 110·1.1⁵; k = 2 on 100, 110, 150 uses 110, 150."""
    st = status_of(_target(160.0), GROW, as_of_year=2021)
    assert st.as_of_year == 2021 and st.projection == pytest.approx(110 * 1.1 ** 5)
    st2 = status_of(_target(1000.0), _series([2020, 2021, 2022], [100.0, 110.0, 150.0]), k=2)
    assert st2.projection_method == "loglinear-k2"
    assert st2.projection == pytest.approx(150 * (150 / 110) ** 4)


# ---------------------------------------------------------------- metrics on hand-built flows
ROWS = [
    # WLD totals of IRN and TUR (world panel) beside bilateral rows: must not be added together
    (2021, "IRN", "WLD", "export", "2709", 500), (2021, "IRN", "WLD", "export", "5701", 50),
    (2022, "IRN", "WLD", "export", "2709", 600), (2022, "IRN", "WLD", "export", "5701", 60),
    (2021, "TUR", "WLD", "export", "2709", 1500), (2021, "TUR", "WLD", "export", "5701", 450),
    (2022, "TUR", "WLD", "export", "2709", 1400), (2022, "TUR", "WLD", "export", "5701", 540),
    # IRN customs rows by province (the bilateral split)
    (2021, "IRN", "IRQ", "export", "2709", 300, "Khuzestan"), (2021, "IRN", "IRQ", "export", "5701", 20, "Tehran"),
    (2021, "IRN", "SYR", "export", "5701", 10, "Tehran"), (2021, "IRN", "CHN", "export", "2709", 200, "Bushehr"),
    (2021, "IRN", "CHN", "import", "8517", 400, "Tehran"), (2021, "IRN", "SYR", "import", "0804", 5, "Tehran"),
    (2022, "IRN", "IRQ", "export", "2709", 350, "Khuzestan"), (2022, "IRN", "IRQ", "export", "5701", 30, "Tehran"),
    (2022, "IRN", "CHN", "export", "2709", 250, "Bushehr"), (2022, "IRN", "CHN", "import", "8517", 300, "Tehran"),
    (2022, "IRN", "TUR", "import", "2710", 40, "Tabriz"),
]


def test_world_exports_use_wld_rows_only():
    """World exports 2021 = 500 + 50 = 550 (WLD), not 550 + 530 bilateral; 2022 = 660."""
    s = series_of("exports", ROWS)
    assert s.to_dict() == {2021: 550.0, 2022: 660.0}


def test_partner_group_and_province_scope():
    """Exports to neighbours15 (IRQ): 2021 = 300 + 20 = 320, 2022 = 380; province Tehran exports 2021 = 30."""
    assert series_of("exports", ROWS, scope={"partner": "neighbours15"}).to_dict() == {2021: 320.0, 2022: 380.0}
    assert series_of("exports", ROWS, scope={"province": "Tehran"}).to_dict() == {2021: 30.0, 2022: 30.0}


def test_total_trade_balance_and_non_oil_balance():
    """Imports (province rows): 2021 = 405, 2022 = 340.  Total trade 2021 = 550 + 405 = 955.
    Balance 2022 = 660 − 340 = 320.  Non-oil balance 2022: exports 60 − imports (300, 2710 is oil) = −240.
    With Syria: total trade 2021 = 10 + 5 = 15; 2022 = 0 (IRN reports flows in 2022, none with SYR: a true zero)."""
    assert series_of("total_trade", ROWS).to_dict() == {2021: 955.0, 2022: 1000.0}
    assert series_of("balance", ROWS)[2022] == 320.0
    assert series_of("non_oil_balance", ROWS).to_dict() == {2021: 50.0 - 400.0 - 5.0, 2022: -240.0}
    assert series_of("total_trade", ROWS, scope={"partner": "SYR"}).to_dict() == {2021: 15.0, 2022: 0.0}


def test_market_share_and_counts():
    """Carpet (5701) world share 2021 = 50 / (50 + 450) = 0.10, 2022 = 60 / 600 = 0.10; all-goods share
    2022 = 660 / (660 + 1940).  Products exported (WLD level) = 2; markets 2021 = {IRQ, SYR, CHN} = 3."""
    share = series_of("market_share", ROWS, scope={"product": "carpets"})
    assert share.to_numpy() == pytest.approx([0.10, 0.10])
    assert series_of("market_share", ROWS)[2022] == pytest.approx(660 / 2600)
    assert series_of("n_products", ROWS).to_dict() == {2021: 2.0, 2022: 2.0}
    assert series_of("n_markets", ROWS).to_dict() == {2021: 3.0, 2022: 2.0}
    assert series_of("n_markets", ROWS, options={"threshold": 100}).to_dict() == {2021: 2.0, 2022: 2.0}


def test_sh_calendar_apportions_annual_data_as_estimate():
    """SH 1400 exports = 286/365·550 + 79/365·660 (an estimate, method annual-apportioned)."""
    rm = roadmap(T("exports", deadline=1404), calendar="SH")
    s = metric_series({"flows": F(ROWS)}, rm.targets[0])
    assert s["year"].tolist() == [1400]
    assert s["value"].iloc[0] == pytest.approx(286 / 365 * 550 + 79 / 365 * 660)
    assert bool(s["estimate"].iloc[0]) and s["method"].iloc[0] == "annual-apportioned"


def test_sh_calendar_monthly_data_exact():
    """Monthly exports of 31 USD per 31-day month etc. (1 USD/day) for 2021–2022 → SH 1400 = 365, exact."""
    rows = []
    for y in (2021, 2022):
        for m in range(1, 13):
            days = (pd.Timestamp(y + (m == 12), m % 12 + 1, 1) - pd.Timestamp(y, m, 1)).days
            rows.append((y, "IRN", "IRQ", "export", "5701", days, None, m))
    rm = roadmap(T("exports", deadline=1404, scope={"partner": "IRQ"}), calendar="SH")
    s = metric_series({"flows": F(rows)}, rm.targets[0])
    assert s["year"].tolist() == [1400] and s["value"].iloc[0] == pytest.approx(365.0)
    assert not s["estimate"].iloc[0] and s["method"].iloc[0] == "monthly-exact"


def test_services_target():
    """Services exports SJ to SYR: 2021 = 7 + 3 (SJ1, SJ2), SC rows and WLD rows ignored → 10; 2022 = 12.
    World scope: bilateral rows cover 2 years, the WLD row 1 → bilateral level (2021 = 7 + 3 + 50 = 60) unless
    ``level = "world"`` forces the WLD row (900)."""
    sv = pd.DataFrame({"year": [2021, 2021, 2021, 2022, 2021], "reporter": "IRN",
                       "partner": ["SYR", "SYR", "SYR", "SYR", "WLD"], "flow": "export",
                       "ebops": ["SJ1", "SJ2", "SC", "SJ", "SJ"], "value_usd": [7.0, 3.0, 50.0, 12.0, 900.0],
                       "source": "test"})
    s = series_of("exports", ROWS, services=sv, scope={"trade": "services", "ebops": "SJ", "partner": "SYR"})
    assert s.to_dict() == {2021: 10.0, 2022: 12.0}
    world = series_of("exports", ROWS, services=sv, scope={"trade": "services"})
    assert world.to_dict() == {2021: 60.0, 2022: 12.0}
    forced = series_of("exports", ROWS, services=sv, scope={"trade": "services", "level": "world"})
    assert forced.to_dict() == {2021: 900.0}


def test_unknown_names_and_empty_selection():
    with pytest.raises(InputError, match="unknown partner"):
        roadmap(T(scope={"partner": "atlantis"}))
    with pytest.raises(InputError, match="unknown product group"):
        roadmap(T(scope={"product": "spaceships"}))
    rm = roadmap(T("exports", scope={"partner": "KAZ"}))
    [st] = evaluate(rm, F(ROWS))
    assert st.status == "no-data"


def test_indicator_metric_resolved_dynamically(monkeypatch):
    """indicator:fakemod.hhi calls tradepulse.indicators.fakemod.hhi(frame) and reads column hhi for IRN."""
    mod = types.ModuleType("tradepulse.indicators.fakemod")

    def hhi(frame, power=2):
        g = frame[frame["partner"] == "WLD"].groupby(["reporter", "year"])["value_usd"]
        shares = frame[frame["partner"] == "WLD"]["value_usd"] / g.transform("sum")
        out = (shares ** power).groupby([frame["reporter"], frame["year"]]).sum().rename("hhi").reset_index()
        return out

    mod.hhi = hhi
    monkeypatch.setitem(sys.modules, "tradepulse.indicators.fakemod", mod)
    rm = roadmap(T("indicator:fakemod.hhi", target={"value": 0.5},
                   options={"input": "frame", "column": "hhi", "args": {"power": 2}}))
    s = metric_series({"flows": F(ROWS)}, rm.targets[0]).set_index("year")["value"]
    # IRN 2021: (500/550)² + (50/550)² = 0.8347
    assert s[2021] == pytest.approx((500 / 550) ** 2 + (50 / 550) ** 2)
    bad = roadmap(T("indicator:fakemod.nothing"))
    with pytest.raises(UnknownNameError, match="nothing"):
        metric_series({"flows": F(ROWS)}, bad.targets[0])
    with pytest.raises(InputError, match="indicator:<module>.<function>"):
        roadmap(T("indicator:Fake-Mod"))


def test_evaluate_on_warehouse_and_status_frame(tmp_warehouse):
    """The same hand case through a DuckDB warehouse: exports to IRQ 320 → 380 (+18.75 %); target 500 in 2025:
    projection = 380·1.1875³ = 636.3 ≥ 500 → on-track (as of 2023: data to 2022 are recent)."""
    frame = F(ROWS).assign(load_id="test")
    tmp_warehouse.raw.register("tmp_rows", frame)
    tmp_warehouse.raw.execute("INSERT INTO flow_rows SELECT * FROM tmp_rows")
    rm = roadmap(T("exports", id="irq", scope={"partner": "IRQ"}, target={"value": 500}, deadline=2025),
                 T("imports", id="imp", target={"value": 100}, deadline=2025))
    sts = evaluate(rm, tmp_warehouse, as_of=2023)
    assert sts[0].projection == pytest.approx(380 * (380 / 320) ** 3) and sts[0].status == "on-track"
    df = status_frame(sts, lang="fa")
    assert list(df["id"]) == ["irq", "imp"] and df.loc[0, "status_label"] == "در مسیر"
    d = sts[0].to_dict()
    assert d["series"][0] == {"year": 2021, "value": 320.0, "estimate": False}
    assert d["scope"]["partner"] == ("IRQ",) and not any(isinstance(v, float) and math.isnan(v) for v in d.values())


def test_target_chart_and_svg():
    from tradepulse.roadmap.charts import target_chart, to_svg
    st = status_of(_target(160.0, baseline={"year": 2020}), GROW)
    chart = target_chart(st)
    spec = chart.to_dict()
    assert len(spec["layer"]) == 5  # line, points, target path, target point, projection
    svg = to_svg(chart)
    assert svg.lstrip().startswith("<svg") and "on-track" in svg
    fa = target_chart(st, lang="fa").to_dict()
    assert "در مسیر" in str(fa["title"])


@pytest.mark.parametrize("target, words", [
    (T("import_saving", options={"window": 3}), "needs baseline"),  # reported on the baseline field
    (T("import_saving", baseline={"year": 2020}, options={"method": "trend"}), "method must be pre3avg"),
    (T("exports", options={"oil": "narrow"}), "not used by metric 'exports'"),
    (T("n_markets", options={"threshold": -1}), "threshold must be a number"),
    (T("indicator:m.f", options={"input": "csv"}), "input must be warehouse, table or frame"),
])
def test_options_validated(target, words):
    with pytest.raises(InputError, match=words) as info:
        roadmap(target)
    assert info.value.column == ("targets[0].baseline" if "baseline" in words else "targets[0].options")


def test_sh_month_data_exact_with_roadmap_setting():
    """SH months 1..12 of 1400 with values 1..12 (sum 78), stored under Gregorian labels Apr 2021 … Mar 2022,
    plus Esfand 1399 (value 100, label Mar 2021) and Farvardin 1401 (label Apr 2022).  With
    monthly_data = "sh-months" SH 1400 = 78 exactly; misread as Gregorian months, March would be split by days:
    11/31·100 (Esfand 1399) + (1 + … + 11) + 20/31·12 (Esfand 1400) = 109.226."""
    rows = [(2021 + (m >= 10), "IRN", "IRQ", "export", "5701", m, None, (m + 2) % 12 + 1) for m in range(1, 13)]
    rows += [(2021, "IRN", "IRQ", "export", "5701", 100, None, 3), (2022, "IRN", "IRQ", "export", "5701", 7, None, 4)]
    data = {"flows": F(rows)}
    for monthly, expect in (("sh-months", {1400: 78.0}), ("gregorian", {1400: 1100 / 31 + 66 + 240 / 31})):
        rm = parse_roadmap({"roadmap": {"calendar": "SH", "monthly_data": monthly},
                            "targets": [T("exports", deadline=1404, scope={"partner": "IRQ"})]})
        [st] = evaluate(rm, data)
        got = st.series.set_index("year")["value"].to_dict() if len(st.series) else {}
        assert got == pytest.approx(expect)
        assert st.calendar_method == ("sh-months-exact" if monthly == "sh-months" else "monthly-exact")
    with pytest.raises(InputError, match="monthly_data"):
        parse_roadmap({"roadmap": {"monthly_data": "lunar"}, "targets": [T()]})


def test_counts_are_zero_in_reported_years_without_trade():
    """Carpet (5701) markets: 2021 IRQ and SYR → 2; 2022 IRQ → 1.  HS 8517 exports: no row at all → no data
    (no level holds the scope); with one zero-valued 8517 row the province level is used and IRN reports
    exports in 2021 and 2022 → 0, 0 (not missing)."""
    assert series_of("n_markets", ROWS, scope={"product": "carpets"}).to_dict() == {2021: 2.0, 2022: 1.0}
    assert series_of("n_markets", ROWS, scope={"product": "8517"}).to_dict() == {}
    rows = ROWS + [(2021, "IRN", "TUR", "export", "8517", 0.0, "Tehran")]
    assert series_of("n_markets", rows, scope={"product": "8517"}).to_dict() == {2021: 0.0, 2022: 0.0}


def test_services_file_ingested_then_used_by_a_target(tmp_warehouse, tmp_path):
    """A services CSV (EBOPS 2010 × partner) loaded with the ingest API feeds a services target:
    SJ exports to SYR 100 (2019) → 121 (2021): trend +10 %/yr, projection 2024 = 121·1.1³ = 161.05 ≥ 150."""
    from tradepulse.ingest import ingest_file
    csv = tmp_path / "services.csv"
    csv.write_text("year,reporter,partner,flow,ebops,value_usd\n2019,IRN,SYR,export,SJ,100\n"
                   "2020,IRN,SYR,export,SJ,110\n2021,IRN,SYR,export,SJ,121\n2021,IRN,SYR,export,SC,999\n"
                   "2021,IRN,IRQ,export,SJ,50\n2021,IRN,SYR,import,SJ,7\n")
    res = ingest_file(tmp_warehouse, csv, "services")
    assert res.rows_loaded == 6
    rm = roadmap(T("exports", scope={"trade": "services", "ebops": "SJ", "partner": "SYR"},
                   target={"value": 150}, deadline=2024),
                 T("balance", id="b", scope={"trade": "services", "ebops": "SJ", "partner": "SYR"},
                   target={"value": 200}, deadline=2024))
    ex, bal = evaluate(rm, tmp_warehouse, as_of=2022)
    assert ex.series["value"].tolist() == [100.0, 110.0, 121.0]
    assert ex.projection == pytest.approx(121 * 1.1 ** 3) and ex.status == "on-track"
    # balance: imports reported only in 2021 → 2019/2020 imports count as missing years of the import series
    assert bal.series.set_index("year")["value"].to_dict() == {2021: 121.0 - 7.0}


def test_services_zero_in_reported_years():
    """IRN reports SJ exports to IRQ in 2020 and to SYR in 2021: SJ exports to SYR = 0 (2020), 5 (2021)."""
    sv = pd.DataFrame({"year": [2020, 2021], "reporter": "IRN", "partner": ["IRQ", "SYR"], "flow": "export",
                       "ebops": "SJ", "value_usd": [3.0, 5.0], "source": "test"})
    s = series_of("exports", ROWS, services=sv, scope={"trade": "services", "ebops": "SJ", "partner": "SYR"})
    assert s.to_dict() == {2020: 0.0, 2021: 5.0}


def test_reasons_in_persian_and_chart_axis_format():
    from tradepulse.roadmap.charts import target_chart
    from tradepulse.roadmap.status import reason_text
    st = status_of(_target(250.0), GROW)
    assert st.reason == "trend projection more than 10% short of the target"
    assert reason_text(st.reason, "fa") == "پیش‌بینی روند بیش از ۱۰٪ از هدف عقب است"
    assert reason_text("trend projection within 12.5% of the target", "fa").startswith("پیش‌بینی روند کمتر از ۱۲٫۵")  # CLDR fa decimal separator
    assert status_frame([st], lang="fa").loc[0, "reason"].startswith("پیش‌بینی")
    spec = target_chart(st).to_dict()
    assert spec["layer"][0]["encoding"]["y"]["axis"]["format"] == "~s"
    fa = target_chart(st, lang="fa", y_title="صادرات (دلار)").to_dict()
    assert fa["layer"][0]["encoding"]["y"]["title"] == "صادرات (دلار)"
    tips = [t for t in fa["layer"][1]["encoding"]["tooltip"] if t["field"] == "kind_label"]
    assert tips and tips[0]["title"] == "نوع"
    share = status_of(_target(0.5, metric="market_share"), _series([2020, 2021], [0.1, 0.2]))
    assert target_chart(share).to_dict()["layer"][0]["encoding"]["y"]["axis"]["format"] == ".1%"
