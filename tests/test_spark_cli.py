"""Every indicator verb through the CLI gives the same result on DuckDB and on Spark.

One DuckDB warehouse of real samples (BACI 2021 ZAF/AFG bilateral HS6; the 2017 world exports of the
Open Trade Statistics HS4 panel with World Bank GDP and population; UN Comtrade monthly and annual W00 totals
of TUR and IRN) plus the hand-computed firm panel of tests/test_firms.py is exported with
``tradepulse export --to parquet-dataset``; then each command runs twice in this process (Typer's CliRunner,
one shared ``local[2]`` session): ``-w WAREHOUSE.duckdb`` and ``-w DATASET --engine spark``.  ``--json`` output
(or the ``--out`` Parquet table where a verb has no ``--json``) must agree to 1e-9 relative, text exactly.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from typer.testing import CliRunner

from tradepulse.cli import app

runner = CliRunner()
REL = 1e-9


#: The hand-computed survival panel of tests/test_survival.py::test_survival_cli_by_cohort: IRQ 2014 is
#: left-censored, TUR 5701 2015–2016, ARM 0101 2017 and IRQ 0805 2018 are the cohorts 2015, 2017 and 2018.
SURVIVAL_BASE = dict(reporter="ARM", flow="export", hs_revision="HS1992", month=None, quantity=None, unit=None,
                     source="test", load_id="x", province=None)
SURVIVAL_ROWS = [(2014, "IRQ", "0805"), (2015, "TUR", "5701"), (2016, "TUR", "5701"), (2017, "GEO", "0101"),
                 (2018, "IRQ", "0805")]
#: A three-target roadmap over the Comtrade totals and the 2017 HS4 panel (targets status on both engines).
ROADMAP = """
[roadmap]
id = "spark-parity"
title_en = "Parity roadmap"
reporter = "TUR"
calendar = "gregorian"

[[targets]]
id = "exports"
title_en = "Exports reach $300 billion"
metric = "exports"
baseline = { year = 2015 }
target = { value = 3e11 }
deadline = { year = 2025 }

[[targets]]
id = "carpets-share"
title_en = "Carpets: 10 % of world exports"
metric = "market_share"
scope = { product = "5701" }
target = { value = 0.1 }
deadline = { year = 2025 }

[[targets]]
id = "products"
title_en = "Exports of 1,200 HS4 products"
metric = "n_products"
target = { value = 1200 }
deadline = { year = 2025 }
"""


@pytest.fixture(scope="module")
def stores(shared_data, tmp_path_factory):
    """(DuckDB warehouse path, exported Parquet dataset directory)."""
    from test_current import COLS, _rows
    from test_firms import ROWS, as_firm_flows
    from test_mirror import _frame as mirror_frame

    from tradepulse.ingest import ingest_file, ingest_frame
    from tradepulse.warehouse import Warehouse

    root = tmp_path_factory.mktemp("spark_cli")
    path = root / "wh.duckdb"
    with Warehouse(path) as wh:
        ingest_file(wh, shared_data / "baci_sample.csv", "baci")
        w = pd.read_parquet(shared_data / "world_trade_2017_hs4.parquet").dropna(subset=["value_usd"])
        top = w.groupby("exporter")["value_usd"].sum().nlargest(60).index.union(["IRN", "TUR"])
        w = w[w["exporter"].isin(top)]
        ingest_frame(wh, pd.DataFrame({"year": 2017, "month": None, "reporter": w["exporter"], "partner": "WLD",
                                       "flow": "export", "product": w["product"], "hs_revision": "HS2012",
                                       "value_usd": w["value_usd"], "quantity": None, "unit": None,
                                       "province": None}),
                     source="comtrade", name="world_trade_2017_hs4.parquet", target="flows")
        g = pd.read_csv(shared_data / "world_gdp_and_population_2017.csv").dropna()
        ingest_frame(wh, pd.DataFrame({"year": 2017, "iso3": g["iso3"], "gdp_usd": g["gdp_current_usd"],
                                       "population": g["population_total"]}),
                     source="wdi", name="world_gdp_and_population_2017.csv", target="macro")
        m = pd.read_parquet(shared_data / "monthly_trade_comtrade_2014_2023.parquet")
        m = m[(m["partner"] == "W00") & (m["reporter"] == "TUR")]
        a = pd.read_parquet(shared_data / "comtrade_partner_totals_2014_2022.parquet")
        a = a[(a["partner"] == "W00") & a["reporter"].isin(["TUR", "IRN"])]
        frame = pd.concat([_rows(m, "cm", True), _rows(a, "ca", False)], ignore_index=True)
        wh.raw.register("f", frame)
        wh.raw.execute(f"INSERT INTO flow_rows ({', '.join(COLS)}) SELECT {', '.join(COLS)} FROM f")
        wh.raw.unregister("f")
        hand = pd.DataFrame([dict(SURVIVAL_BASE, year=y, partner=p, product=c, value_usd=5.0) for y, p, c in
                             SURVIVAL_ROWS])
        wh.raw.register("h", hand)
        wh.raw.execute(f"INSERT INTO flow_rows ({', '.join(hand.columns)}) SELECT * FROM h")
        wh.raw.unregister("h")
        ingest_frame(wh, mirror_frame().drop(columns="source"), source="test", name="mirror_hand", target="flows")
        firms = as_firm_flows(ROWS)
        wh.raw.register("ff", firms)
        wh.raw.execute("INSERT INTO firm_flows SELECT * FROM ff")
        wh.raw.unregister("ff")
    out = root / "dataset"
    r = runner.invoke(app, ["export", "--to", "parquet-dataset", str(out), "-w", str(path)])
    assert r.exit_code == 0, r.output
    return path, out


def _close(a, b, where: str = "") -> None:
    """Equal JSON values: numbers to REL relative (NaN/None alike), everything else exactly."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), f"{where}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            _close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{where}: {len(a)} != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{where}[{i}]")
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if isinstance(a, float) and math.isnan(a):
            assert isinstance(b, float) and math.isnan(b), f"{where}: NaN != {b}"
        else:
            assert b == pytest.approx(a, rel=REL, abs=1e-12), f"{where}: {a} != {b}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _run(args: list[str], store, spark: bool) -> str:
    extra = ["-w", str(store)] + (["--engine", "spark"] if spark else [])
    r = runner.invoke(app, [*args, *extra])
    assert r.exit_code == 0, f"{' '.join(args)} {'spark' if spark else 'duckdb'}: {r.output}"
    return r.stdout


#: (command, arguments) of every indicator verb with --json output.
JSON_CASES = {
    "balance": ["indicators", "balance", "-r", "ZAF", "--by", "partner_group"],
    "diversification-products": ["indicators", "diversification", "-r", "ZAF", "--theil-groups", "2"],
    "diversification-markets": ["indicators", "diversification", "-r", "ZAF", "--over", "markets",
                                "--regions", "region"],
    "diversification-hk": ["indicators", "diversification", "-r", "ZAF", "--over", "hk"],
    "diversification-cdp": ["indicators", "diversification", "-r", "ZAF", "--over", "cdp"],
    "technology": ["indicators", "technology", "-r", "ZAF"],
    "current": ["indicators", "current", "-r", "TUR", "--calendar", "gregorian"],
    "targets-status": ["targets", "status", "--roadmap", "{roadmap}"],
    "targets-mirror": ["targets", "mirror", "--reporter", "IRN", "--products", "carpets", "--detail"],
}


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.parametrize("case", list(JSON_CASES))
def test_json_verbs_equal_on_duckdb_and_spark(stores, case, spark):
    wh, ds = stores
    roadmap = ds.parent / "roadmap.toml"
    roadmap.write_text(ROADMAP, encoding="utf-8")
    args = [a.replace("{roadmap}", str(roadmap)) for a in JSON_CASES[case]] + ["--json"]
    duck = json.loads(_run(args, wh, False))
    spark = json.loads(_run(args, ds, True))
    _close(duck, spark, case)
    if case == "targets-mirror":   # the hand case of tests/test_mirror.py: TUR declares 165 CIF → 150 FOB
        tur = next(r for r in spark if r["partner"] == "TUR")
        assert (tur["mirror_adjusted"], tur["gap"], tur["unrecorded"]) == (pytest.approx(150.0), 50.0, 50.0)


#: Verbs without --json: their --out table (Parquet) is compared.
OUT_CASES = {
    "complexity": ["complexity", "--prody"],
    "proximity": ["proximity"],
    "opportunities": ["opportunities", "--country", "IRN"],
    "potential": ["potential", "-e", "ZAF", "--year", "2021", "--horizon", "0", "--by", "product"],
    "survival": ["indicators", "survival", "-r", "ARM", "--by", "cohort"],
    "firms": ["indicators", "firms", "profile", "-r", "IRN", "--by-province"],
}


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.parametrize("case", list(OUT_CASES))
def test_out_verbs_equal_on_duckdb_and_spark(stores, case, tmp_path, spark):
    wh, ds = stores
    got = []
    for store, on_spark in ((wh, False), (ds, True)):
        out = tmp_path / f"{case}-{'spark' if on_spark else 'duckdb'}.parquet"
        _run([*OUT_CASES[case], "--out", str(out)], store, on_spark)
        got.append(pd.read_parquet(out))
    assert len(got[0]) > 0
    if case == "survival":   # the hand-computed cohorts (tests/test_survival.py)
        assert sorted(got[0]["cohort"].unique()) == [2015, 2017, 2018]
    pd.testing.assert_frame_equal(got[0], got[1], check_dtype=False, rtol=REL, obj=case)


#: Dashboard tables (``tradepulse serve``'s JSON API) for the focus country ZAF.
WEB_TABLES = ["trade", "partners", "diversification", "end_use"]


@pytest.mark.spark
@pytest.mark.slow
def test_dashboard_api_equal_on_duckdb_and_spark(stores, tmp_path, spark):
    """`serve --engine spark` opens the dataset through the same switch as the CLI: the JSON API's tables for
    ZAF equal the DuckDB dashboard's (numbers to 1e-9 relative)."""
    import contextlib

    from fastapi.testclient import TestClient

    from tradepulse.warehouse.spark import use_engine
    from tradepulse.web.app import create_app

    wh, ds = stores
    got = {}
    for store, on_spark in ((wh, False), (ds, True)):
        with use_engine("spark") if on_spark else contextlib.nullcontext():
            app_ = create_app(store, f"sqlite:///{tmp_path / 'groups.sqlite'}", focus="ZAF")
            with TestClient(app_, base_url="http://127.0.0.1") as c:
                got[on_spark] = {n: c.get(f"/api/v1/tables/{n}") for n in WEB_TABLES}
    for n in WEB_TABLES:
        a, b = got[False][n], got[True][n]
        assert a.status_code == 200 and b.status_code == 200, (n, a.text[:300], b.text[:300])
        _close(a.json(), b.json(), n)


@pytest.mark.spark
@pytest.mark.slow
def test_brief_identical_on_duckdb_and_spark(stores, tmp_path, spark):
    """`tradepulse brief` (HTML) for ZAF on a fixed day: byte for byte the same document on both engines."""
    wh, ds = stores
    html = []
    for store, on_spark in ((wh, False), (ds, True)):
        out = tmp_path / f"brief-{on_spark}.html"
        _run(["brief", "--out", str(out), "--reporter", "ZAF", "--date", "2022-06-01", "--db",
              str(tmp_path / "groups.sqlite")], store, on_spark)
        html.append(out.read_text(encoding="utf-8"))
    assert "South Africa" in html[0]
    assert html[0] == html[1]


def test_export_layout_manifest_and_errors(stores, tmp_path, shared_data):
    """The exported layout (no Spark needed): flows hive-partitioned by year and reporter with the stored
    types inside the files, small tables as single files, a manifest whose row counts and datasets equal the
    warehouse's; DuckDB reading the files back gets every row; clear one-line errors for misuse."""
    import duckdb

    from tradepulse.warehouse import Warehouse

    wh, ds = stores
    manifest = json.loads((ds / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "tradepulse-parquet-dataset"
    flows = manifest["tables"]["flows"]
    assert flows["partition_by"] == ["year", "reporter"] and flows["columns"]["year"] == "SMALLINT"
    assert (ds / "flows" / "year=2021" / "reporter=ZAF").is_dir()
    assert manifest["tables"]["macro"]["path"] == "macro.parquet"
    con = duckdb.connect()
    with Warehouse(wh, read_only=True) as w:
        for name, spec in manifest["tables"].items():
            if name == "coverage":
                continue
            n = w.raw.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            assert spec["rows"] == n, name
        datasets = w.datasets()["dataset"].tolist()
        zaf = w.raw.execute("SELECT sum(value_usd) FROM flows WHERE reporter = 'ZAF' AND year = 2021").fetchone()[0]
    assert [d["dataset"] for d in manifest["datasets"]] == datasets
    files = str(ds / "flows" / "**" / "*.parquet")
    back = con.execute(f"SELECT count(*), sum(value_usd) FILTER (WHERE reporter = 'ZAF' AND year = 2021), any_value(typeof(year)) "
                       f"FROM read_parquet('{files}', hive_partitioning = false)").fetchone()
    assert back[0] == flows["rows"] and back[1] == pytest.approx(zaf, rel=1e-12) and back[2] == "SMALLINT"
    raw = pd.read_csv(shared_data / "baci_sample.csv")   # an independent figure: BACI v × 1000
    assert zaf == pytest.approx(raw.loc[raw["i"] == 710, "v"].sum() * 1000, rel=1e-12)
    again = runner.invoke(app, ["export", "--to", "parquet-dataset", str(ds), "-w", str(wh)])
    assert again.exit_code == 2 and "--overwrite" in again.output
    bad = runner.invoke(app, ["indicators", "balance", "-r", "ZAF", "-w", str(wh), "--engine", "spark"])
    assert bad.exit_code == 2 and "is a file" in bad.output and "Traceback" not in bad.output
    bad = runner.invoke(app, ["indicators", "balance", "-r", "ZAF", "-w", str(tmp_path), "--engine", "spark"])
    assert bad.exit_code == 2 and "no manifest.json" in bad.output
    bad = runner.invoke(app, ["indicators", "balance", "-w", str(wh), "--engine", "flink"])
    assert bad.exit_code == 2 and "unknown engine 'flink'" in bad.output


@pytest.mark.spark
@pytest.mark.slow
def test_storage_url_reads_like_the_directory(stores, spark):
    """`-w file:///…` takes the storage-URL path (manifest and small tables read through Spark, as for
    s3a:// or hdfs://): `info` counts and the balance equal the DuckDB warehouse's."""
    wh, ds = stores
    url = ds.resolve().as_uri()
    info = json.loads(_run(["info", "--json"], url, True))
    with_duck = json.loads(_run(["info", "--json"], wh, False))
    assert info["tables"] == with_duck["tables"] and info["flow_years"] == with_duck["flow_years"]
    assert info["sources"] == with_duck["sources"] and info["reporters"] == with_duck["reporters"]
    args = ["indicators", "balance", "-r", "ZAF", "--json"]
    _close(json.loads(_run(args, wh, False)), json.loads(_run(args, url, True)), "balance via URL")


@pytest.mark.spark
@pytest.mark.slow
def test_spark_submit_runs_the_cli_as_the_driver(stores):
    """`spark-submit --master local[1] "$(python -m tradepulse.cli.where)" info --engine spark -w DATASET`: the
    CLI runs as the submitted application and its session takes spark-submit's master (local[1], not
    tradepulse's default local[2]); the counts equal the DuckDB warehouse's."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import pyspark

    import tradepulse
    from tradepulse.warehouse.backends import DEFAULT_MASTER

    wh, ds = stores
    driver = subprocess.run([sys.executable, "-m", "tradepulse.cli.where"], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert driver.endswith("cli/__main__.py") and Path(driver).is_file()
    src = str(Path(tradepulse.__file__).parents[1])
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable,
               PYTHONPATH=os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])))
    env.pop("TRADEPULSE_SPARK_MASTER", None)
    submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    p = subprocess.run([str(submit), "--master", "local[1]", driver, "info", "--engine", "spark", "-w", str(ds),
                        "--json"], capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    got = json.loads(p.stdout.strip().splitlines()[-1])
    assert got["master"] == "local[1]" != DEFAULT_MASTER
    assert got["tables"] == json.loads(_run(["info", "--json"], wh, False))["tables"]
