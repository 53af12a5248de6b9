"""``tradepulse refresh``: dashboard summaries stored in the warehouse (issue 19).

Pages and API tables must be identical with and without a refresh; after an ingest the summaries are stale and
the pages are computed live (and correct); a failure while storing leaves the previous summaries.  Web-level
tests use the small SYNTHETIC demo site; one test uses the real BACI sample (``shared/data/baci_sample.csv``).
"""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tradepulse.meta import Note, ResultMeta
from tradepulse.warehouse import Warehouse
from tradepulse.warehouse import summaries as sm

PAGES = ["/", "/products", "/markets", "/provinces", "/targets", "/?lang=fa", "/markets?lang=fa"]
TABLES = ["trade", "partners", "products", "provinces", "potential", "market_fit", "diversification", "survival",
          "end_use", "exporters", "targets", "complexity", "opportunities"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from tradepulse.web.testing import demo_site
    return demo_site(tmp_path_factory.mktemp("refresh-site"))


def _copy(site, dest):
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(site[0], dest / "warehouse.duckdb")
    return dest / "warehouse.duckdb"


def _normalise(html: str) -> str:
    """Per-request tokens out of a page (CSRF token, CSP nonces)."""
    return re.sub(r'(nonce|value|content)="[A-Za-z0-9_\-]{20,}={0,2}"', r'\1="-"', html)


def _snapshot(wh, groups_url) -> dict:
    from fastapi.testclient import TestClient

    from tradepulse.web.app import create_app
    out = {}
    with TestClient(create_app(wh, groups_url, "k", processes=False), base_url="http://127.0.0.1") as c:
        for page in PAGES:
            r = c.get(page)
            out[page] = (r.status_code, _normalise(r.text))
        for name in TABLES:
            r = c.get(f"/api/v1/tables/{name}", params={"limit": 1000})
            out[name] = (r.status_code, r.json())
    return out


# ---------------------------------------------------------------- warehouse layer
def _frames() -> dict[str, pd.DataFrame]:
    a = pd.DataFrame({"year": [2020, 2021, 2022], "value": [1.5, np.nan, 3.0], "name": ["a", None, "c"],
                      "code": pd.Categorical(["x", "y", "x"], categories=["y", "x"]),
                      "n": pd.array([1, None, 3], dtype="Int64"), "flag": [True, False, True]})
    a.attrs["meta"] = ResultMeta(dataset="d", coverage={"years": (2020, 2022), "n": np.int64(3)},
                                 warnings=[Note("{n:,} spells censored", n=1230)])
    b = pd.DataFrame({"v": [1.0, 2.0]}, index=pd.Index(["p", "q"], name="product"))
    return {"a": a, "b": b, "empty": pd.DataFrame()}


def test_store_and_read_back_identical_and_stale_after_a_write(tmp_path):
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        v = sm.data_version(wh.raw)
        frames = _frames()
        skipped = sm.store(wh.raw, [sm.Summary("t", "k1", frames, {"x": (1, 2)})], version=v)
        assert skipped == []
        back = sm.read(wh.raw, "k1")
        for name, df in frames.items():
            pd.testing.assert_frame_equal(back.frames[name], df, check_exact=True)
        assert back.frames["a"].attrs["meta"].warnings[0].template == "{n:,} spells censored"
        assert back.frames["a"].attrs["meta"].coverage == {"years": (2020, 2022), "n": np.int64(3)}
        assert back.meta == {"x": (1, 2)} and back.rows == 5
        wh.raw.execute("INSERT INTO macro (year, iso3, gdp_usd) VALUES (2020, 'IRN', 1e9)")
        assert sm.data_version(wh.raw) != v
        assert sm.read(wh.raw, "k1") is None                       # stale: never served
        assert not sm.catalogue(wh.raw)["fresh"].any()
        with pytest.raises(sm.StaleSummaryError):
            sm.store(wh.raw, [sm.Summary("t", "k2", frames)], version=v)


def test_summaries_of_other_code_are_stale(tmp_path, monkeypatch):
    """Summaries carry the code's digest too: after an upgrade (other source files) they are never served,
    the pages are computed live by the new code until the next refresh."""
    real = sm.code_version()
    assert len(real) == 12 and real == sm.code_version()          # the digest of this installation, read once
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        sm.store(wh.raw, [sm.Summary("t", "k1", _frames())], version=sm.data_version(wh.raw))
        assert sm.read(wh.raw, "k1") is not None
        monkeypatch.setattr(sm, "code_version", lambda: "another-release")
        assert sm.read(wh.raw, "k1") is None and not sm.catalogue(wh.raw)["fresh"].any()


def test_a_failure_while_storing_leaves_the_previous_summaries(tmp_path, monkeypatch):
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        v = sm.data_version(wh.raw)
        sm.store(wh.raw, [sm.Summary("t", "old", _frames())], version=v)
        tables = {r[0] for r in wh.raw.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        real = sm._store_one
        calls = []

        def failing(con, s, *args):
            calls.append(s.key)
            if len(calls) == 2:
                raise RuntimeError("disk full")
            return real(con, s, *args)
        monkeypatch.setattr(sm, "_store_one", failing)
        with pytest.raises(RuntimeError, match="disk full"):
            sm.store(wh.raw, [sm.Summary("t", "new1", _frames()), sm.Summary("t", "new2", _frames())], version=v)
        assert calls == ["new1", "new2"]
        assert list(sm.catalogue(wh.raw)["key"]) == ["old"]
        assert {r[0] for r in wh.raw.execute("SELECT table_name FROM information_schema.tables").fetchall()} == tables
        pd.testing.assert_frame_equal(sm.read(wh.raw, "old").frames["a"], _frames()["a"])


def test_a_frame_that_does_not_round_trip_is_left_out(tmp_path):
    with Warehouse(tmp_path / "w.duckdb") as wh:
        odd = pd.DataFrame({"x": [object(), object()]})
        skipped = sm.store(wh.raw, [sm.Summary("t", "odd", {"": odd}), sm.Summary("t", "ok", _frames())],
                           version=sm.data_version(wh.raw))
        assert [k for k, _ in skipped] == ["odd"]
        assert list(sm.catalogue(wh.raw)["key"]) == ["ok"]


# ---------------------------------------------------------------- dashboard
def test_pages_and_tables_equal_with_and_without_refresh_then_live_after_ingest(site, tmp_path, monkeypatch):
    from tradepulse.web.data import DataContext, Params, table_trade
    from tradepulse.web.refresh import refresh

    live = _snapshot(_copy(site, tmp_path / "live"), site[1])
    wh = _copy(site, tmp_path / "pre")
    res = refresh(wh)
    assert res.summaries >= 15 and not res.skipped
    assert {s["step"]: s["status"] for s in res.steps}["overview: target statuses"] == "ok"
    with Warehouse(wh, read_only=True) as w:
        cat = sm.catalogue(w.raw)
    assert cat["fresh"].all() and {"balance", "target-statuses", "market-fit", "potential", "current-period", "sources"} <= \
        set(cat["name"])

    # served from the summaries: the heavy computations must not run at all
    from tradepulse import roadmap
    from tradepulse.indicators import balance, current

    def boom(*a, **k):
        raise AssertionError("computed although a fresh summary exists")
    with monkeypatch.context() as m:
        m.setattr(balance, "trade_balance", boom)
        m.setattr(roadmap, "evaluate", boom)
        m.setattr(current, "overview", boom)
        pre = _snapshot(wh, site[1])
    for k in live:
        assert pre[k] == live[k], k
    assert {k: v[0] for k, v in live.items() if v[0] != 200} == {}
    assert len(live["trade"][1]["items"]) == 10 and len(live["targets"][1]["items"]) > 3

    # a new ingest: the summaries are stale, pages are computed live and show the new numbers
    from tradepulse.ingest import ingest_frame
    before = table_trade(DataContext(wh), Params())
    year = int(before["year"].max())
    with Warehouse(wh) as w:    # a revised row of IRN's world exports (same dataset): it replaces the old one
        row = w.raw.execute("SELECT * FROM flows WHERE reporter = 'IRN' AND year = ? AND flow = 'export' AND "
                            "partner = 'WLD' ORDER BY product LIMIT 1", [year]).df()
        dataset = w.raw.execute("SELECT DISTINCT dataset FROM coverage WHERE reporter = 'IRN' AND year = ? AND "
                                "partner_detail = 'world'", [year]).fetchall()[0][0]
        res = ingest_frame(w, row.drop(columns=["load_id", "source"]).assign(value_usd=7.0e11),
                           source=row["source"].iloc[0], name="revised.csv", on_overlap="replace", dataset=dataset)
        assert res.rows_loaded == 1 and res.rows_overlapping == 1
        assert not sm.catalogue(w.raw)["fresh"].any()
    after = _snapshot(wh, site[1])
    ctx = DataContext(wh)
    ctx.use_summaries = False
    expect = table_trade(ctx, Params())
    got = pd.DataFrame(after["trade"][1]["items"])
    assert not np.isclose(expect.loc[expect.year == year, "exports"].iloc[0],
                          before.loc[before.year == year, "exports"].iloc[0])
    assert np.allclose(got.sort_values("year")["exports"], expect.sort_values("year")["exports"])


def test_a_second_refresh_computes_nothing_and_a_dropped_summary_alone_is_computed(site, tmp_path, monkeypatch):
    """Incremental: with nothing changed a second refresh reuses every summary (no computation, no write);
    with one summary gone only that one is computed and the others stay as they were."""
    from tradepulse import roadmap
    from tradepulse.indicators import balance, complexity, current, diversification, market_choice, potential
    from tradepulse.indicators import survival
    from tradepulse.web.refresh import refresh

    wh = _copy(site, tmp_path / "inc")
    first = refresh(wh)
    assert first.written and first.reused == [] and {"balance", "target-statuses", "market-fit"} <= set(first.computed)
    with Warehouse(wh, read_only=True) as w:
        before = sm.catalogue(w.raw).set_index("key")

    ran: list[str] = []

    def boom(name):
        def f(*a, **k):
            ran.append(name)
            raise AssertionError(f"{name} computed although a fresh summary exists")
        return f
    heavy = [(balance, "trade_balance"), (roadmap, "evaluate"), (current, "overview"),
             (potential, "export_potential"), (market_choice, "partner_indices"), (complexity, "complexity"),
             (survival, "export_spells"), (diversification, "product_diversification")]
    with monkeypatch.context() as m:
        for mod, name in heavy:
            m.setattr(mod, name, boom(name))
        second = refresh(wh)
    assert ran == [] and second.computed == [] and not second.written
    assert set(second.reused) <= set(first.computed) and second.summaries == len(before)
    assert [s["status"] for s in second.steps] == [s["status"] for s in first.steps]
    with Warehouse(wh, read_only=True) as w:
        same = sm.catalogue(w.raw).set_index("key")
    pd.testing.assert_frame_equal(same, before)

    # one summary gone (the Persian market fit): only it is computed, the English one is kept as it was
    fa = [k for k, r in before.iterrows() if r["name"] == "market-fit" and '"fa"' in k]
    assert len(fa) == 1
    with Warehouse(wh) as w:
        for _part, table, _layout in sm.decode(w.raw.execute(f"SELECT parts FROM {sm.CATALOGUE} WHERE key = ?",
                                                             fa).fetchone()[0]):
            w.raw.execute(f'DROP TABLE "{table}"')
        w.raw.execute(f"DELETE FROM {sm.CATALOGUE} WHERE key = ?", fa)
    third = refresh(wh)
    assert third.computed == ["market-fit"] and third.written
    with Warehouse(wh, read_only=True) as w:
        after = sm.catalogue(w.raw).set_index("key")
    assert set(after.index) == set(before.index) and after["fresh"].all()
    kept = after.index.difference(fa)
    pd.testing.assert_series_equal(after.loc[kept, "created_at"], before.loc[kept, "created_at"])
    assert after.loc[fa[0], "created_at"] > before.loc[fa[0], "created_at"]


def test_refresh_on_the_real_baci_sample_equals_live(shared_data, tmp_path):
    """Real data (CEPII BACI sample, 2021, exporters ZAF and AFG): the CLI verb with --json, focus ZAF; the
    tables read from its summaries equal the live computation."""
    from tradepulse.cli import app
    from tradepulse.web.data import DataContext, Params, get_table

    wh = tmp_path / "baci.duckdb"
    r = CliRunner().invoke(app, ["ingest", str(shared_data / "baci_sample.csv"), "-f", "baci", "-w", str(wh),
                                 "--refresh", "--json"], env={"TRADEPULSE_FOCUS": "IRN"})
    assert r.exit_code == 0, r.output
    both = json.loads(r.output)          # IRN is not a reporter of the sample: its results are "no data"
    assert both["loads"]["rows_loaded"] == 71_192 and both["refresh"]["focus"] == "IRN"
    assert any(s["status"].startswith("no data") for s in both["refresh"]["steps"])
    r = CliRunner().invoke(app, ["refresh", "-w", str(wh), "--focus", "ZAF", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["focus"] == "ZAF" and out["summaries"] > 5
    live, stored = DataContext(wh, focus="ZAF"), DataContext(wh, focus="ZAF")
    live.use_summaries = False
    for name in ("trade", "partners", "products", "diversification", "market_fit"):
        a, b = get_table(live, name, Params()), get_table(stored, name, Params())
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    trade = get_table(stored, "trade", Params())
    assert trade["year"].tolist() == [2021]
    # ZAF's 2021 exports in the sample: the value column is in thousand USD
    zaf = pd.read_csv(shared_data / "baci_sample.csv")
    assert np.isclose(trade["exports"].iloc[0], zaf.loc[zaf["i"] == 710, "v"].sum() * 1000, rtol=1e-9)
    assert stored._summaries is not None and stored._summaries[2]      # it did read the summaries


def test_cli_refresh_missing_warehouse_is_one_line(tmp_path):
    from tradepulse.cli import app
    r = CliRunner().invoke(app, ["refresh", "-w", str(tmp_path / "none.duckdb")])
    assert r.exit_code == 2
    assert "Traceback" not in r.output and r.output.strip().count("\n") == 0
    assert "no warehouse" in r.output
    r = CliRunner().invoke(app, ["refresh", "-w", str(tmp_path / "none.duckdb"), "--focus", "QQQ"])
    assert r.exit_code == 2 and "unknown focus country" in r.output


def test_parquet_dataset_export_leaves_the_summaries_out(tmp_path):
    from tradepulse.warehouse.parquet import export_dataset
    with Warehouse(tmp_path / "w.duckdb") as wh:
        wh.raw.execute("INSERT INTO flow_rows (year, reporter, partner, flow, product, value_usd, source, load_id) "
                       "VALUES (2021, 'IRN', 'TUR', 'export', '0101', 5.0, 'test', 'l1')")
        sm.store(wh.raw, [sm.Summary("t", "k", _frames())], version=sm.data_version(wh.raw))
        manifest = export_dataset(wh, tmp_path / "ds")
    assert not [t for t in manifest["tables"] if sm.is_summary_table(t)]
    assert "flows" in manifest["tables"]
    assert not [p for p in (tmp_path / "ds").rglob("*") if "summary" in p.name]


def test_cli_refresh_on_a_locked_warehouse_is_one_line(tmp_path, monkeypatch):
    """Another process holds the writer's lock (an ingest): the refresh waits TRADEPULSE_LOCK_WAIT s, then one
    line, exit 2, no traceback."""
    import subprocess
    import sys
    import time

    from tradepulse.cli import app
    path = tmp_path / "w.duckdb"
    Warehouse(path).close()
    hold = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); time.sleep(30)"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        monkeypatch.setenv("TRADEPULSE_LOCK_WAIT", "1")
        t = time.perf_counter()
        r = CliRunner().invoke(app, ["refresh", "-w", str(path)])
        assert r.exit_code == 2, r.output
        assert "Traceback" not in r.output and r.output.strip().count("\n") == 0 and "lock" in r.output.lower()
        assert 0.9 < time.perf_counter() - t < 20
    finally:
        holder.kill()
        holder.wait()


def test_roadmap_statuses_key_follows_the_roadmap_file_and_the_year(monkeypatch):
    """The statuses also depend on the roadmap file and today's year: either change → another key (computed
    live), never an old summary."""
    from tradepulse.roadmap import status
    from tradepulse.web import precomputed
    key = precomputed.storage_key("IRN", ("target-statuses",))
    assert key == precomputed.storage_key("IRN", ("target-statuses",))
    assert precomputed.storage_key("IRN", ("balance", "IRN", "total", None, None, None, None)) is not None
    assert precomputed.storage_key("IRN", ("html", "overview")) is None
    monkeypatch.setattr(status, "current_year", lambda *a, **k: 9999)
    assert precomputed.storage_key("IRN", ("target-statuses",)) != key


def test_info_says_whether_the_dashboard_summaries_are_fresh(tmp_path):
    """`tradepulse info` (text and --json) tells none / fresh / stale: after storing a summary it is fresh,
    after a write to the data it is stale and the line points to `tradepulse refresh`."""
    from typer.testing import CliRunner

    from tradepulse.cli import app

    run = CliRunner()
    path = tmp_path / "w.duckdb"
    with Warehouse(path):
        pass

    def info() -> tuple[dict, str]:
        j = run.invoke(app, ["info", "-w", str(path), "--json"])
        t = run.invoke(app, ["info", "-w", str(path)], env={"COLUMNS": "80"})
        assert j.exit_code == 0 and t.exit_code == 0, (j.output, t.output)
        return json.loads(j.stdout)["summaries"], t.stdout

    s, text = info()
    assert s == {"stored": 0, "fresh": 0, "refreshed_at": None} and "dashboard summaries: none" in text
    with Warehouse(path) as wh:
        sm.store(wh.raw, [sm.Summary("t", "k1", _frames()), sm.Summary("t", "k2", _frames())],
                 version=sm.data_version(wh.raw))
        created = str(sm.catalogue(wh.raw)["created_at"].max())[:19]
    s, text = info()
    assert s == {"stored": 2, "fresh": 2, "refreshed_at": created}
    assert f"dashboard summaries: 2 fresh, refreshed {created}" in text
    with Warehouse(path) as wh:
        wh.raw.execute("INSERT INTO macro (year, iso3, gdp_usd) VALUES (2020, 'IRN', 1e9)")
    s, text = info()
    assert s["stored"] == 2 and s["fresh"] == 0 and "0 of 2 fresh" in text and "tradepulse refresh" in text


def test_latest_export_year_by_probes_equals_the_max(site, tmp_path):
    """The dashboard's latest export year (coverage candidates confirmed by LIMIT 1 probes) is max(year) of the
    selection, also when the latest covered years hold no row of it (they are skipped)."""
    from tradepulse.web.data import DataContext, _latest_year

    ctx = DataContext(_copy(site, tmp_path / "probe"))
    try:
        t = ctx.flows()
        t = t.filter((t.flow == "export") & t["product"].re_search(r"^[0-9]{4}([0-9]{2})?$"))
        top = int(t.year.max().execute())
        assert _latest_year(ctx, t) == top
        older = t.filter(t.year <= top - 2)
        assert _latest_year(ctx, older) == int(older.year.max().execute()) == top - 2
        assert _latest_year(ctx, t.filter(t.year > top)) is None
    finally:
        ctx.close()


def test_footer_sources_come_from_the_coverage_and_equal_the_flows(tmp_path, shared_data):
    """The footer's data sources are read from the coverage (no distinct scan of the flows, 7 s on the 29-year
    panel) and equal the distinct ``source`` of the flows: a BACI load plus a generic frame of another source."""
    from tradepulse.ingest import ingest_file, ingest_frame
    from tradepulse.web.data import DataContext
    from tradepulse.web.pages.render import sources_text

    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        ingest_file(wh, shared_data / "baci_sample.csv", "baci")
        ingest_frame(wh, pd.DataFrame({"year": [2021], "reporter": ["IRN"], "partner": ["WLD"], "flow": ["export"],
                                       "product": ["010121"], "value_usd": [5.0]}),
                     source="customs-test", name="one_row")
        want = sorted(r[0] for r in wh.raw.execute("SELECT DISTINCT source FROM flows").fetchall())
    assert len(want) == 2
    ctx = DataContext(path)
    assert sources_text(ctx) == ", ".join(want)
