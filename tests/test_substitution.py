"""Import substitution / bans monitor (tradepulse.roadmap.substitution) on a hand-built case.

Lines (Gregorian): 8517 substitution from 2019-01-01 (before 2016–2018, after from 2019);
8708 ban on imports from KOR from 2019-07-01 (2019 is a partial first after year: the one year rule of
tradepulse.roadmap.lines, shared with the import_saving target metric).

Imports of IRN (customs rows by province):
  851712 from CHN: 100, 120, 140 (2016–18) → pre3avg baseline 120; 60 (2019), 40 (2020)
      → saving 2020 = 80, cumulative = 60 + 80 = 140.
  8504 (neighbour of 8517 in chapter 85, not listed): 10, 10, 10 → 30, 50 → leakage = 40 − 10 = 30.
  8708 from KOR: 50 a year 2016–18, 40 in 2019, 10 in 2020; from DEU: 20 a year, then 30, 45
      → baseline 70, latest 55, saving 2019 = 0, 2020 = 15 (cumulative 15), partner leakage = mean(30, 45) − 20
      = 17.5.
  8703 (neighbour of 8708): 5 every year → neighbour leakage 0.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tradepulse.errors import InputError, NoDataError
from tradepulse.roadmap import evaluate, parse_roadmap
from tradepulse.roadmap.substitution import (add_production, load_lines, monitor, period_years,
                                             production_frame)

LINES_CSV = """hs,kind,start,calendar,title_en,partners,group
8517,substitution,2019-01-01,gregorian,Telephones,,telecom_equipment
8708,ban,2019-07-01,gregorian,Car parts,KOR,car_parts
"""


def _rows():
    rows = []
    add = lambda y, p, prod, v: rows.append(  # noqa: E731
        {"year": y, "month": None, "reporter": "IRN", "partner": p, "flow": "import", "product": prod,
         "hs_revision": "HS2017", "value_usd": float(v), "quantity": None, "unit": None, "province": "Tehran",
         "source": "test", "load_id": "test"})
    for y, v in zip(range(2016, 2021), [100, 120, 140, 60, 40]):
        add(y, "CHN", "851712", v)
    for y, v in zip(range(2016, 2021), [10, 10, 10, 30, 50]):
        add(y, "CHN", "8504", v)
    for y, (k, d) in zip(range(2016, 2021), [(50, 20), (50, 20), (50, 20), (40, 30), (10, 45)]):
        add(y, "KOR", "8708", k)
        add(y, "DEU", "8708", d)
        add(y, "DEU", "8703", 5)
    # exports and WLD rows must not count
    rows.append({**rows[0], "flow": "export", "value_usd": 1e6})
    rows.append({**rows[0], "partner": "WLD", "province": None, "value_usd": 1e6})
    return pd.DataFrame(rows)


@pytest.fixture
def wh(tmp_warehouse):
    tmp_warehouse.raw.register("tmp_rows", _rows())
    tmp_warehouse.raw.execute("INSERT INTO flow_rows SELECT * FROM tmp_rows")
    return tmp_warehouse


@pytest.fixture
def lines(tmp_path):
    path = tmp_path / "lines.csv"
    path.write_text(LINES_CSV)
    return load_lines(path)


def test_period_years():
    import datetime as dt
    assert period_years(dt.date(2019, 1, 1), "gregorian") == ([2016, 2017, 2018], 2019)
    # 1 Farvardin 1398 = 21 March 2019: SH 1398 is the first after year
    assert period_years(dt.date(2019, 3, 21), "SH") == ([1395, 1396, 1397], 1398)
    # 1 Tir 1397 = 22 June 2018: 1397 is the (partial) first after year, as for the import_saving target
    assert period_years(dt.date(2018, 6, 22), "SH") == ([1394, 1395, 1396], 1397)
    assert period_years(dt.date(2019, 7, 1), "gregorian") == ([2016, 2017, 2018], 2019)


def test_monitor_hand_case(wh, lines):
    m = monitor(wh, lines, calendar="gregorian").set_index("hs")
    t = m.loc["8517"]
    assert (t.baseline, t.latest_year, t.latest_imports, t.saving, t.saving_cumulative) == (120, 2020, 40, 80, 140)
    assert t.leakage_neighbours == pytest.approx(30.0)
    assert pd.isna(t.leakage_partners)  # not partner-restricted
    c = m.loc["8708"]
    assert (c.baseline, c.first_after_year, c.latest_imports, c.saving, c.saving_cumulative) == (70, 2019, 55, 15, 15)
    assert c.leakage_partners == pytest.approx(17.5) and c.leakage_neighbours == pytest.approx(0.0)
    assert list(m["partial_first_year"]) == [False, True]
    from tradepulse.meta import meta_of
    expected = ("partial first after year counted as an after year (measure started after its first day): "
                "8708 2019")
    assert meta_of(m).warnings == [expected]
    assert not m["estimate"].any() and (m["method"] == "pre3avg").all()


def test_domestic_production_entries(wh, lines):
    add_production(wh, "8517", 2020, 70.0, calendar="gregorian", entered_by="alice")
    add_production(wh, "8517", 2020, 75.0, calendar="gregorian", entered_by="bob", note="revised")
    add_production(wh, "8708", 1399, 12.0, calendar="SH", entered_by="alice")
    prod = production_frame(wh, "gregorian").set_index(["hs", "year"])
    assert prod.loc[("8517", 2020), "value_usd"] == 75.0  # latest entry wins
    assert prod.loc[("8708", 2020), "estimate"]  # SH 1399 placed at 2020, flagged
    m = monitor(wh, lines, calendar="gregorian").set_index("hs")
    assert m.loc["8517", "domestic_production"] == 75.0
    # regression: no half-fetched DuckDB result is left open on the warehouse connection
    assert int(wh.flows().count().execute()) == len(_rows())
    with pytest.raises(InputError, match="hs must be"):
        add_production(wh, "85x7", 2020, 1.0)
    with pytest.raises(InputError, match="non-negative"):
        add_production(wh, "8517", 1399, -1.0)


def test_import_saving_target(wh, lines, tmp_path):
    """Target: saving on 8517 from baseline 2018 (pre3avg 120) to 2020 of 130: cumulative 60, 140 → achieved.
    Same with the lines file as product scope (@substitution: 8517 + 8708): 2020 = 140 + (70 − 70) + (70 − 55)."""
    path = tmp_path / "lines.csv"
    rm = parse_roadmap({"roadmap": {"calendar": "gregorian", "substitution_file": str(path)}, "targets": [
        {"id": "tel", "title_en": "t", "metric": "import_saving", "scope": {"product": "8517"},
         "baseline": {"year": 2018}, "target": {"value": 130}, "deadline": 2020},
        {"id": "all", "title_en": "a", "metric": "import_saving", "scope": {"product": "@substitution"},
         "baseline": {"year": 2018}, "target": {"value": 1000}, "deadline": 2020}]})
    tel, allst = evaluate(rm, wh)
    assert tel.series["value"].tolist() == [60.0, 140.0] and tel.status == "on-track"
    assert allst.series["value"].tolist() == [60.0 + 0.0, 140.0 + 15.0] and allst.status == "off-track"
    late = parse_roadmap({"roadmap": {"calendar": "gregorian"}, "targets": [
        {"id": "x", "title_en": "x", "metric": "import_saving", "scope": {"product": "8517"},
         "baseline": {"year": 2014}, "target": {"value": 1}, "deadline": 2020}]})
    [st] = evaluate(late, wh)
    assert st.status == "no-data" and "2012" in st.reason


def test_shipped_lines_and_errors(tmp_path):
    shipped = load_lines()
    assert {"8517", "8708"} <= set(shipped["hs"]) and set(shipped["group"]) == {"telecom_equipment", "car_parts"}
    bad = tmp_path / "bad.csv"
    bad.write_text(LINES_CSV.replace("8708,ban", "87O8,ban"))
    with pytest.raises(InputError) as info:
        load_lines(bad)
    assert info.value.line == 3 and info.value.column == "hs"
    toml = tmp_path / "bad.toml"
    toml.write_text('[[lines]]\nhs = "8517"\nstart = "1397-04-01"\n\n[[lines]]\nhs = "8708"\nkind = "embargo"\n'
                    'start = "1397-04-01"\n')
    with pytest.raises(InputError) as info:
        load_lines(toml)
    assert info.value.line == 5 and info.value.column == "kind" and "embargo" in str(info.value)
    toml.write_text('[[lines]]\nhs = "8517"\nstart = "1397-13-01"\n')
    with pytest.raises(InputError, match="not a valid SH date"):
        load_lines(toml)


def test_no_imports_raises(tmp_warehouse, lines):
    with pytest.raises(NoDataError):
        monitor(tmp_warehouse, lines, calendar="gregorian")


def test_missing_line_years_are_zero_when_the_reporter_reports(wh, tmp_path):
    """8471 imported 30 a year in 2016–18 and never after, while IRN keeps reporting other imports:
    2019 and 2020 are zeros (not missing) → latest 0, saving 30, cumulative 60.  Years before 2016 are not
    reported by IRN at all, so a 2013 start has no baseline (NaN, not zero)."""
    extra = pd.DataFrame([{**_rows().iloc[0].to_dict(), "year": y, "product": "847130", "value_usd": 30.0}
                          for y in (2016, 2017, 2018)])
    wh.raw.register("extra_rows", extra)
    wh.raw.execute("INSERT INTO flow_rows SELECT * FROM extra_rows")
    path = tmp_path / "l.csv"
    path.write_text("hs,start,calendar\n8471,2019-01-01,gregorian\n8501,2014-01-01,gregorian\n")
    m = monitor(wh, load_lines(path), calendar="gregorian").set_index("hs")
    r = m.loc["8471"]
    assert (r.latest_year, r.latest_imports, r.saving, r.saving_cumulative) == (2020, 0.0, 30.0, 60.0)
    assert pd.isna(m.loc["8501", "baseline"])


AGREE_LINES = """hs,kind,start,calendar,title_en,group
8517,substitution,2019-07-01,gregorian,Telephones,telecom_equipment
8708,ban,2019-07-01,gregorian,Car parts,car_parts
"""

AGREE_ROADMAP = """\
[roadmap]
id = "agree"
reporter = "IRN"
calendar = "gregorian"
substitution_file = "lines.csv"

[[targets]]
id = "telecom"
title_en = "Telecom saving 100"
metric = "import_saving"
scope = { product = "8517" }
baseline = { year = 2018 }
target = { value = 100 }
deadline = 2020

[[targets]]
id = "car-parts"
title_en = "Car parts saving 20"
metric = "import_saving"
scope = { product = "8708" }
baseline = { year = 2018 }
target = { value = 20 }
deadline = 2020
"""


def test_status_and_substitution_commands_count_the_same_years(wh, tmp_path):
    """Both measures start on 1 July 2019, so 2019 is a partial year — the case on which the two commands used to
    disagree.  One rule now: 2019 is the first after year in both.
      telecom 8517: CF = mean(100, 120, 140) = 120; savings 2019 = 60, 2020 = 80 → cumulative 140 ≥ 100: achieved
        (leaving 2019 out would give 80 < 100: missed — the verdict that used to flip);
      car parts 8708 (KOR + DEU): CF = 70; savings 2019 = 0, 2020 = 15 → cumulative 15 < 20: missed.
    ``targets status`` and ``targets substitution`` (CLI, JSON) give the same cumulative savings and verdicts."""
    import json

    from typer.testing import CliRunner

    from tradepulse.cli import app
    wh.close()
    (tmp_path / "lines.csv").write_text(AGREE_LINES)
    (tmp_path / "r.toml").write_text(AGREE_ROADMAP)
    run = CliRunner().invoke
    res = run(app, ["targets", "status", "--roadmap", str(tmp_path / "r.toml"), "-w", str(wh.path), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    status = {t["id"]: t for t in out["targets"]}
    assert (status["telecom"]["actual"], status["telecom"]["status"]) == (140.0, "on-track")
    assert (status["car-parts"]["actual"], status["car-parts"]["status"]) == (15.0, "off-track")
    assert any("partial first after year" in w for w in out["meta"]["warnings"])
    res = run(app, ["targets", "substitution", "--lines", str(tmp_path / "lines.csv"), "--calendar", "gregorian",
                    "-w", str(wh.path), "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["hs"]: r for r in json.loads(res.stdout)["rows"]}
    assert (rows["8517"]["first_after_year"], rows["8517"]["saving_cumulative"]) == (2019, 140.0)
    assert (rows["8708"]["first_after_year"], rows["8708"]["saving_cumulative"]) == (2019, 15.0)
    goals = {"telecom": ("8517", 100.0), "car-parts": ("8708", 20.0)}
    for tid, (hs, goal) in goals.items():
        monitor_verdict = "on-track" if rows[hs]["saving_cumulative"] >= goal else "off-track"
        assert monitor_verdict == status[tid]["status"]
        assert rows[hs]["saving_cumulative"] == status[tid]["actual"]


def test_saving_target_warns_when_its_baseline_does_not_fit_the_lines(wh, tmp_path):
    """Lines start 1 July 2019 (first after year 2019).  A target with baseline 2018 counts from 2019: only the
    partial-year note.  Baseline 2019 would leave the measure's first (partial) year out of the saving: warned."""
    from tradepulse.meta import meta_of
    (tmp_path / "lines.csv").write_text(AGREE_LINES)
    head = {"calendar": "gregorian", "substitution_file": str(tmp_path / "lines.csv")}

    def warnings(base):
        rm = parse_roadmap({"roadmap": head, "targets": [
            {"id": "tel", "title_en": "t", "metric": "import_saving", "scope": {"product": "8517"},
             "baseline": {"year": base}, "target": {"value": 100}, "deadline": 2020}]})
        return [w for w in meta_of(evaluate(rm, wh)).warnings if w.startswith("target ")]
    assert warnings(2018) == ["target tel: gregorian 2019 is a partial first after year, counted as an after year "
                              "(1 line from 2019-07-01: 8517)"]
    assert warnings(2019) == ["target tel: measures do not start in gregorian 2020, the first year after the "
                              "baseline year 2019 (1 line from 2019-07-01: 8517)"]
