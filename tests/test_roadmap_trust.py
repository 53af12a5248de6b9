"""Issue 14 (trustworthy numbers), roadmap part: one roadmap per country, "no recent data", the baseline check
and the import structure of tradepulse.roadmap.  Hand-computed cases in each docstring.
"""

from __future__ import annotations

import ast
import graphlib
import json
from pathlib import Path

import pandas as pd
import pytest

from tradepulse.errors import InputError
from tradepulse.meta import meta_of
from tradepulse.roadmap import (STATUSES, evaluate, load_roadmap, parse_roadmap, roadmap_files, roadmap_for,
                                status_frame, status_label, status_of)
from tradepulse.roadmap.status import STATUS_FA, reason_text


def _series(years, values):
    return pd.DataFrame({"year": years, "value": values, "estimate": False, "method": "gregorian"})


def _target(value=None, deadline=2026, baseline=None, metric="exports", growth=None, tid="t"):
    tg = {"value": value} if value is not None else {"growth": growth}
    raw = {"id": tid, "title_en": tid, "metric": metric, "target": tg, "deadline": deadline}
    if baseline is not None:
        raw["baseline"] = baseline
    return parse_roadmap({"roadmap": {"reporter": "IRN", "calendar": "gregorian"}, "targets": [raw]}).targets[0]


GROW = _series([2020, 2021, 2022], [100.0, 110.0, 121.0])  # +10 %/yr: projection 2026 = 121·1.1⁴ = 177.16


# ---------------------------------------------------------------- no recent data
@pytest.mark.parametrize("current, deadline, expect", [
    # a = 2022.  Rule: no-recent-data iff a < D − 1 and a < c − 2
    (2024, 2026, "on-track"),         # c − 2 = 2022: data as recent as the publication lag allows
    (2025, 2026, "no-recent-data"),   # 2022 < 2025 and 2022 < 2023
    (2030, 2023, "off-track"),        # a = D − 1: judged by the rule (121·1.1 = 133.1 < 0.9·160 = 144)
    (2030, 2024, "no-recent-data"),   # deadline passed two years after the last data: never "on track"
    (None, 2026, "on-track"),         # status_of without a current year: the clock plays no part
])
def test_no_recent_data_rule(current, deadline, expect):
    """Target 160; projection to 2026 = 177.16 ≥ 160 → on-track by the rule unless the data are not recent."""
    st = status_of(_target(160.0, deadline=deadline), GROW, current_year=current)
    assert st.status == expect
    if expect == "no-recent-data":
        assert st.reason == f"latest data 2022, deadline {deadline}"
        assert (st.as_of_year, st.actual) == (2022, 121.0)        # the figures stay for the reader
        assert any("no recent data" in w and "2022" in w for w in st.meta.warnings)
    else:
        assert not st.meta.warnings


def test_no_recent_data_through_evaluate_and_labels(tmp_warehouse):
    """evaluate's current year is its as_of (else today): exports 320 (2021), 380 (2022), target 500 in 2026.
    As of 2024: c − 2 = 2022 = a → on-track (projection 380·1.1875⁴ = 755.6).  As of 2025 → no-recent-data;
    the label comes from the gettext catalog (EN and FA) and the Persian reason names the years."""
    from tests.test_roadmap import F
    tmp_warehouse.raw.register("tmp_rows", F([(2021, "IRN", "IRQ", "export", "5701", 320),
                                              (2022, "IRN", "IRQ", "export", "5701", 380)]).assign(load_id="t"))
    tmp_warehouse.raw.execute("INSERT INTO flow_rows SELECT * FROM tmp_rows")
    rm = parse_roadmap({"roadmap": {"reporter": "IRN", "calendar": "gregorian"}, "targets": [
        {"id": "irq", "title_en": "irq", "metric": "exports", "scope": {"partner": "IRQ"},
         "target": {"value": 500}, "deadline": 2026}]})
    [st] = evaluate(rm, tmp_warehouse, as_of=2024)
    assert st.status == "on-track" and st.projection == pytest.approx(380 * (380 / 320) ** 4)
    sts = evaluate(rm, tmp_warehouse, as_of=2025)
    assert sts[0].status == "no-recent-data"
    assert any("no recent data" in w for w in meta_of(sts).warnings)
    assert status_label("no-recent-data", "en") == "no recent data"
    assert status_label("no-recent-data", "fa") == "بدون دادهٔ تازه"
    assert reason_text(sts[0].reason, "fa") == "آخرین داده ۲۰۲۲، مهلت ۲۰۲۶"
    assert status_frame(sts, lang="fa").loc[0, "status_label"] == "بدون دادهٔ تازه"


def test_status_labels_come_from_the_catalog():
    """The hand-written Persian labels (charts) equal the gettext catalog's for every status."""
    assert {s: status_label(s, "fa") for s in STATUSES} == {s: STATUS_FA[s] for s in STATUSES}


# ---------------------------------------------------------------- baseline check
@pytest.mark.parametrize("written, warned", [(250e6, True), (59.5e6, False), (59.6e6, True), (39.7e6, False),
                                             (39.6e6, True)])
def test_baseline_far_from_the_data_warns(written, warned):
    """Data 49.6 M in the baseline year 2020; tolerance 20 % of the data = 9.92 M.  59.5 M (+9.9 M) and
    39.7 M (−9.9 M) are within; 59.6 M and 39.6 M (±10.0 M) warn.  250 M: 250 / 49.6 − 1 = +404 % → warns;
    progress is still computed from the file's 250 M as (A − B) / (T − B)."""
    series = _series([2020, 2021, 2022], [49.6e6, 52e6, 55e6])
    st = status_of(_target(growth=0.08, baseline={"year": 2020, "value": written}), series)
    assert st.baseline_data == 49.6e6
    assert st.baseline_deviation == pytest.approx(written / 49.6e6 - 1)
    msgs = [w for w in st.meta.warnings if "roadmap baseline" in w]
    assert bool(msgs) == warned
    if written == 250e6:
        expected = ("target t: the roadmap baseline 250.0 M (2020) is 404% above the data for the same scope "
                    "(49.6 M); check the baseline or the scope")
        assert msgs == [expected]
        goal = 250e6 * 1.08 ** 6
        assert st.progress == pytest.approx((55e6 - 250e6) / (goal - 250e6))


def test_baseline_check_skipped_without_a_written_value_or_data():
    """No written value → the baseline comes from the data, nothing to compare; no data in the baseline year
    → nothing to compare either (no warning, deviation None)."""
    st = status_of(_target(growth=0.08, baseline={"year": 2020}), GROW)
    assert st.baseline_value == 100.0 and st.baseline_deviation is None and not st.meta.warnings
    st = status_of(_target(200.0, baseline={"year": 2019, "value": 10.0}), GROW)
    assert st.baseline_data is None and not st.meta.warnings


def test_warnings_reach_the_status_frame_and_json(tmp_warehouse):
    """The baseline warning of one target reaches evaluate's meta, status_frame's attrs and to_dict."""
    from tests.test_roadmap import F
    rows = [(y, "IRN", "IRQ", "export", "5701", v) for y, v in ((2020, 49.6e6), (2021, 52e6), (2022, 55e6))]
    tmp_warehouse.raw.register("tmp_rows", F(rows).assign(load_id="t"))
    tmp_warehouse.raw.execute("INSERT INTO flow_rows SELECT * FROM tmp_rows")
    rm = parse_roadmap({"roadmap": {"reporter": "IRN", "calendar": "gregorian"}, "targets": [
        {"id": "hc", "title_en": "hc", "metric": "exports", "scope": {"partner": "IRQ"},
         "baseline": {"year": 2020, "value": 250e6}, "target": {"growth": 0.08}, "deadline": 2026}]})
    sts = evaluate(rm, tmp_warehouse, as_of=2023)
    want = [w for w in meta_of(sts).warnings if "roadmap baseline" in w]
    assert len(want) == 1 and "404% above" in want[0]
    assert meta_of(status_frame(sts)).warnings == meta_of(sts).warnings
    d = sts[0].to_dict()
    assert d["baseline_deviation"] == pytest.approx(250 / 49.6 - 1) and want[0] in d["meta"]["warnings"]
    json.dumps(d)


# ---------------------------------------------------------------- one roadmap per country
ZAF_ROADMAP = """\
[roadmap]
id = "zaf-dtic"
title_en = "South Africa export targets"
reporter = "ZAF"
calendar = "gregorian"

[[targets]]
id = "exports"
title_en = "Exports reach $80 billion"
metric = "exports"
target = { value = 80e9 }
deadline = 2026
"""


def test_roadmap_files_by_country(tmp_path, monkeypatch):
    """Shipped: Iran's only (the substitution lines file is not a roadmap).  A file in
    $TRADEPULSE_HOME/roadmaps naming reporter ZAF becomes South Africa's; a file naming no reporter belongs to
    no country; a user file for IRN wins over the shipped one."""
    monkeypatch.setenv("TRADEPULSE_HOME", str(tmp_path))
    assert set(roadmap_files()) == {"IRN"}
    assert roadmap_for("ZAF") is None and roadmap_for("irn").id == "iran-tpo-seed"
    folder = tmp_path / "roadmaps"
    folder.mkdir()
    (folder / "zaf.toml").write_text(ZAF_ROADMAP)
    (folder / "nobody.toml").write_text(ZAF_ROADMAP.replace('reporter = "ZAF"\n', ""))
    (folder / "own_iran.toml").write_text(ZAF_ROADMAP.replace('"ZAF"', '"IRN"').replace("zaf-dtic", "irn-own"))
    files = roadmap_files()
    assert files == {"IRN": folder / "own_iran.toml", "ZAF": folder / "zaf.toml"}
    assert roadmap_for("ZAF").id == "zaf-dtic" and roadmap_for("IRN").id == "irn-own"
    with pytest.raises(InputError, match="is for IRN, not ZAF"):
        roadmap_for("ZAF", load_roadmap())


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tradepulse.roadmap"):
            mod = node.module.split(".")
            if len(mod) > 2:
                out.add(mod[2])
            else:                              # from tradepulse.roadmap import calendar
                out.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[2] for a in node.names if a.name.startswith("tradepulse.roadmap."))
    return out


def test_no_import_cycles_between_roadmap_modules():
    """Every import between the files of tradepulse.roadmap (top-level and inside functions) forms a DAG —
    metrics ↔ substitution was a cycle; the lines file and the year rule now live in roadmap/lines.py."""
    import tradepulse.roadmap as pkg
    folder = Path(pkg.__file__).parent
    modules = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    graph = {m: _imports(folder / f"{m}.py") & modules - {m} for m in modules}
    assert graph["metrics"] >= {"lines"} and "substitution" not in graph["metrics"]
    assert "metrics" in graph["substitution"] and "lines" in graph["substitution"]
    list(graphlib.TopologicalSorter(graph).static_order())     # raises CycleError on a cycle


def test_dashboard_targets_are_the_focus_countrys(tmp_warehouse, tmp_path, monkeypatch):
    """The dashboard's target statuses follow its focus country: ZAF (no roadmap file) → a no-data note
    naming South Africa, never Iran's targets; IRN → Iran's seed targets."""
    from tradepulse.errors import NoDataError
    from tradepulse.web.data import DataContext, target_statuses
    monkeypatch.setenv("TRADEPULSE_HOME", str(tmp_path))
    tmp_warehouse.close()
    with pytest.raises(NoDataError, match="no roadmap for South Africa"):
        target_statuses(DataContext(tmp_warehouse.path, focus="ZAF"))
    ids = [st.id for st in target_statuses(DataContext(tmp_warehouse.path, focus="IRN"))]
    assert ids[0] == "syria-total-trade" and len(ids) == len(load_roadmap().targets)
