"""``tradepulse targets …`` commands on a small hand-built warehouse.

Hand case: IRN exports to IRQ 320 (2021) and 380 (2022) → target 500 by 2025 projects 380·(380/320)³ = 636.3:
on-track (as of 2023; read in 2026 the data would be too old: no-recent-data).  Imports of 851712 from CHN
400 (2021), 300 (2022).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from tradepulse.cli import app

ROADMAP = """\
[roadmap]
id = "hand"
title_en = "Hand roadmap"
title_fa = "نقشه آزمایشی"
calendar = "gregorian"

[[targets]]
id = "irq"
title_en = "Exports to Iraq 500"
title_fa = "صادرات به عراق"
metric = "exports"
scope = { partner = "IRQ" }
target = { value = 500 }
deadline = 2025
"""


@pytest.fixture
def env(tmp_path):
    from tradepulse.warehouse import Warehouse
    rows = [(2021, "IRQ", "export", "5701", 320.0), (2022, "IRQ", "export", "5701", 380.0),
            (2021, "CHN", "import", "851712", 400.0), (2022, "CHN", "import", "851712", 300.0),
            (2022, "IRN", "export", "851712", 330.0)]
    frame = pd.DataFrame([{"year": y, "month": None, "reporter": "IRN" if p != "IRN" else "CHN", "partner": p,
                           "flow": f, "product": k, "hs_revision": "HS1992", "value_usd": v, "quantity": None,
                           "unit": None, "province": "Tehran" if p != "IRN" else None, "source": "test",
                           "load_id": "t"} for y, p, f, k, v in rows])
    path = tmp_path / "wh.duckdb"
    with Warehouse(path) as wh:
        wh.raw.register("tmp_rows", frame)
        wh.raw.execute("INSERT INTO flow_rows SELECT * FROM tmp_rows")
    rm = tmp_path / "r.toml"
    rm.write_text(ROADMAP)
    return path, rm, tmp_path


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_status_json_and_table(env):
    wh, rm, tmp = env
    res = run("targets", "status", "--roadmap", rm, "--warehouse", wh, "--json", "--as-of", "2023")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    [t] = data["targets"]
    assert t["id"] == "irq" and t["status"] == "on-track" and t["actual"] == 380.0
    assert t["projection"] == pytest.approx(380 * (380 / 320) ** 3)
    res = run("targets", "status", "--roadmap", rm, "--warehouse", wh, "--lang", "fa", "--charts", tmp / "c",
              "--out", tmp / "s.csv", "--as-of", "2023")
    assert res.exit_code == 0, res.output
    assert "در مسیر" in res.stdout and "صادرات به عراق" in res.stdout
    assert (tmp / "c" / "irq.svg").read_text().lstrip().startswith("<svg")
    assert pd.read_csv(tmp / "s.csv")["status"].tolist() == ["on-track"]


def test_list_and_malformed_roadmap(env):
    _, rm, tmp = env
    res = run("targets", "list")
    assert res.exit_code == 0 and "syria-total-trade" in res.stdout
    bad = tmp / "bad.toml"
    bad.write_text(ROADMAP.replace('metric = "exports"', 'metric = "export"'))
    res = run("targets", "list", "--roadmap", bad)
    assert res.exit_code == 2
    err = res.stderr.strip()
    # one message (Rich may soft-wrap it at the terminal width; the message itself has no newline)
    assert err.startswith("error:") and err.count("error:") == 1
    err = "".join(err.splitlines())
    assert "line 11" in err and "targets[0].metric" in err and "unknown metric 'export'" in err


def test_substitution_production_and_mirror(env):
    wh, _, tmp = env
    lines = tmp / "lines.csv"
    lines.write_text("hs,start,calendar\n8517,2022-01-01,gregorian\n")
    res = run("targets", "production-add", "8517", "2022", "125", "--calendar", "gregorian", "-w", wh)
    assert res.exit_code == 0, res.output
    res = run("targets", "substitution", "--lines", lines, "--calendar", "gregorian", "--window", "1",
              "-w", wh, "--json")
    assert res.exit_code == 0, res.output
    [row] = json.loads(res.stdout)["rows"]
    assert (row["baseline"], row["latest_imports"], row["saving"], row["domestic_production"]) == \
        (400.0, 300.0, 100.0, 125.0)
    res = run("targets", "mirror", "-w", wh, "--direction", "imports", "--products", "8517", "--json")
    assert res.exit_code == 0, res.output
    [m] = json.loads(res.stdout)
    assert m["partner"] == "CHN" and m["year"] == 2022 and m["mirror_adjusted"] == pytest.approx(363.0)
    res = run("targets", "mirror", "-w", wh, "--direction", "exports")
    assert res.exit_code == 2 and "direction='imports'" in res.stderr
    res = run("targets", "mirror", "-w", wh, "--products", "8517")  # auto → imports, with a note
    assert res.exit_code == 0 and "note:" in res.stdout and "imports" in res.stdout


def test_show_one_target(env):
    wh, rm, tmp = env
    res = run("targets", "show", "irq", "--roadmap", rm, "-w", wh, "--svg", tmp / "irq.svg", "--as-of", "2023")
    assert res.exit_code == 0, res.output
    assert "on-track" in res.stdout and "loglinear-k5" in res.stdout and "380" in res.stdout
    assert (tmp / "irq.svg").exists()
    res = run("targets", "show", "nope", "--roadmap", rm, "-w", wh)
    assert res.exit_code == 2 and "unknown target 'nope'" in res.stderr


def test_status_as_of(env):
    """--as-of 2021 ignores 2022: one point (320) → last-value projection 320 < 450 = 0.9·500: off-track."""
    wh, rm, _ = env
    res = run("targets", "status", "--roadmap", rm, "-w", wh, "--json", "--as-of", "2021")
    [t] = json.loads(res.stdout)["targets"]
    assert (t["as_of_year"], t["actual"], t["projection_method"], t["status"]) == (2021, 320.0, "last-value",
                                                                                   "off-track")
    res = run("targets", "status", "--roadmap", rm, "-w", wh, "--json", "--as-of", "2022-06-30")
    assert json.loads(res.stdout)["targets"][0]["as_of_year"] == 2022
    res = run("targets", "status", "--roadmap", rm, "-w", wh, "--as-of", "soon")
    assert res.exit_code == 2 and "--as-of" in res.stderr


def test_status_for_a_country_without_a_roadmap(env, monkeypatch):
    """Only Iran's (shipped) roadmap exists: `--country ZAF` says there is no roadmap for South Africa and shows
    no target; Iran's file given for ZAF is refused; `list` and `show` say the same."""
    wh, _, tmp = env
    monkeypatch.setenv("TRADEPULSE_HOME", str(tmp / "home"))
    res = run("targets", "status", "--country", "ZAF", "-w", wh)
    assert res.exit_code == 0, res.output
    text = " ".join(res.stdout.split())
    assert "no roadmap for South Africa; targets are shown for countries with a roadmap file" in text
    assert "found: Iran" in text and "Syria" not in text
    res = run("targets", "status", "--country", "zaf", "-w", wh, "--json")
    out = json.loads(res.stdout)
    assert (out["country"], out["roadmap"], out["targets"]) == ("ZAF", None, [])
    assert out["meta"]["warnings"][0].startswith("no roadmap for South Africa")
    from tradepulse.roadmap import EXAMPLE
    res = run("targets", "status", "--country", "ZAF", "--roadmap", EXAMPLE, "-w", wh)
    assert res.exit_code == 2 and "is for IRN, not ZAF" in " ".join(res.stderr.split())
    for args in (("list",), ("show", "syria-total-trade", "-w", wh)):
        res = run("targets", *args, "--country", "ZAF")
        assert res.exit_code == 2 and "no roadmap for South Africa" in " ".join(res.stderr.split())
    res = run("targets", "list", "--country", "IRN")
    assert res.exit_code == 0 and "syria-total-trade" in res.stdout


def test_status_prints_the_baseline_warning_and_writes_parquet(env):
    """Baseline 2021 written as 100 while the data hold 320 → −69 % (|100 − 320| > 0.2·320): a warning line
    under the table and in --json; -o .parquet works although the result carries its meta."""
    wh, rm, tmp = env
    rm.write_text(rm.read_text().replace("target = { value = 500 }",
                                         "baseline = { year = 2021, value = 100 }\ntarget = { value = 500 }"))
    res = run("targets", "status", "--roadmap", rm, "-w", wh, "--as-of", "2023", "-o", tmp / "s.parquet")
    assert res.exit_code == 0, res.output
    text = " ".join(res.stdout.split())
    assert "warning: target irq: the roadmap baseline 100 (2021) is 69% below the data for the same scope (320)" \
        in text
    assert pd.read_parquet(tmp / "s.parquet")["baseline_deviation"].tolist() == [pytest.approx(100 / 320 - 1)]
    out = json.loads(run("targets", "status", "--roadmap", rm, "-w", wh, "--as-of", "2023", "--json").stdout)
    assert out["targets"][0]["baseline_data"] == 320.0 and len(out["meta"]["warnings"]) == 1
