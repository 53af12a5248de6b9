"""Hummels–Klenow margins of every exporter read from the slim BACI storage (issue 19,
:mod:`tradepulse.indicators.hk_storage`): the same margins as the general path (every exporter's served sums
through the ``flows_keyed`` view, :func:`_hk_served_sql`) and as :func:`hummels_klenow` on the cells summed in
pandas, through the Python API and the CLI (``-r all --json``); sums in another order, so floats to 1e-12.

Real fixture: the CEPII BACI sample (2021, slim) and its rows × 1.3 as 2022 split by reporter into two slim
loads (one year from two loads); then (second warehouse) a 2023 load whose country list maps number 0 to WLD
(world rows) and a 2019 load whose list names AFG by two numbers (numbers not canonical: ids through the lists).
Generated: a small BACI-shaped panel (benchmarks/panel/gen.py: the real country and HS6 lists), three years,
one of them loaded twice as a revised release.  A dataset with rows in ``flow_rows`` keeps the general path.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tradepulse.cli import app
from tradepulse.indicators import diversification as dv
from tradepulse.indicators import hk_storage as hs
from tradepulse.ingest import ingest_file, ingest_frame
from tradepulse.warehouse import Warehouse

from helpers import country_codes_with, hs4_text_year, ingest_baci_sample, ingest_split_year

FORMS = [dict(), dict(weights="reference"), dict(reference="world"), dict(aggregate="pooled"),
         dict(by_market=True), dict(by_market=True, reference="world"), dict(use_products=False),
         dict(level=2), dict(level=4, aggregate="pooled"), dict(product="84,85,0901"), dict(years="2022")]


@pytest.fixture(scope="module")
def slim_paths(shared_data, tmp_path_factory):
    """(canonical numbers, not canonical): two all-slim warehouses of one dataset each."""
    tmp = tmp_path_factory.mktemp("hkslim")
    codes = shared_data / "baci_country_codes_V202201.csv"
    sample = pd.read_csv(shared_data / "baci_sample.csv", dtype={"q": str})
    a = tmp / "a.duckdb"
    with Warehouse(a) as wh:
        name = ingest_baci_sample(wh, shared_data)
        ingest_split_year(wh, sample, tmp, codes, name)
    b = tmp / "b.duckdb"
    shutil.copy(a, b)
    with Warehouse(b) as wh:
        wc = country_codes_with(codes, tmp / "codes_wld.csv", b'0,"World","World","W0","WLD"')
        y23 = sample.assign(t=2023, v=sample["v"] * 0.7)
        reps = sorted(y23["i"].unique())[::3]
        wld = y23[y23["i"].isin(reps)].groupby(["i", "k"], as_index=False)["v"].sum().assign(t=2023, j=0, q="NA")
        f = tmp / "baci_2023.csv"
        pd.concat([y23, wld[y23.columns]], ignore_index=True).to_csv(f, index=False)
        ingest_file(wh, f, "baci", country_codes_csv=wc, dataset=name)
        twice = country_codes_with(codes, tmp / "codes_twice.csv", b'999,"Afg","Afg","AF","AFG"')
        y19 = sample.assign(t=2019, v=sample["v"] * 0.9)
        afg = np.flatnonzero(y19["i"].to_numpy() == 4)
        y19.loc[y19.index[afg[::2]], "i"] = 999                   # half of Afghanistan's exports under 999
        bgd = np.flatnonzero(y19["j"].to_numpy() == 4)
        y19.loc[y19.index[bgd[::2]], "j"] = 999                   # and half of its imports
        f = tmp / "baci_2019.csv"
        y19.to_csv(f, index=False)
        ingest_file(wh, f, "baci", country_codes_csv=twice, dataset=name)
        n = wh.raw.execute("SELECT count(*) FILTER (WHERE reporter = 999), count(*) FILTER (WHERE partner = 999), "
                           "count(*) FILTER (WHERE partner = 0) FROM baci_rows").fetchall()[0]
        assert min(n) > 0 and wh.raw.execute("SELECT count(*) FROM flow_rows").fetchall()[0][0] == 0
    return a, b


@pytest.fixture(scope="module")
def mixed_path(slim_paths, tmp_path_factory):
    """The first warehouse plus 2020 as canonical rows of the same dataset in ``flow_rows`` (HS4 codes too)."""
    path = tmp_path_factory.mktemp("hkmixed") / "wh.duckdb"
    shutil.copy(slim_paths[0], path)
    with Warehouse(path) as wh:
        name = wh.raw.execute("SELECT any_value(dataset) FROM coverage").fetchall()[0][0]
        rows = hs4_text_year(wh.raw.execute("SELECT * FROM flows WHERE year = 2021").df())
        ingest_frame(wh, rows.drop(columns=["load_id", "source"]), source="baci", name="baci_2020.csv",
                     dataset=name)
    return path


@pytest.fixture(scope="module")
def generated_path(tmp_path_factory):
    """benchmarks/panel/gen.py: 3 BACI-shaped years (real 232 country numbers × 5,388 HS6), 2018 loaded again as
    a revised release (overlapping rows replaced: the year then lies in two loads)."""
    spec = importlib.util.spec_from_file_location(
        "panel_gen", Path(__file__).resolve().parents[1] / "benchmarks" / "panel" / "gen.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    tmp = tmp_path_factory.mktemp("hkgen")
    pool = gen.key_pool(tmp, 20_000)
    path = tmp / "wh.duckdb"
    with Warehouse(path) as wh:
        for y in (2017, 2018, 2019):
            ingest_file(wh, gen.year_csv(tmp, pool, y), "baci")
        # the revised 2018 file with half of its rows: they replace the first release's rows of those keys
        rev = pd.read_csv(gen.year_csv(tmp, pool, 2018, revision=1), dtype={"q": str})
        f = tmp / "BACI_HS92_Y2018_V202402_half.csv"
        rev.iloc[::2].to_csv(f, index=False)
        ingest_file(wh, f, "baci", on_overlap="replace")
        assert wh.raw.execute("SELECT count(DISTINCT load_no) FROM baci_rows WHERE year = 2018").fetchall()[0][0] == 2
    return path


def _spy(monkeypatch) -> list:
    """Record the plans the storage path made (None: it gave way to the general path)."""
    plans, real = [], hs.HkStorage.plan.__func__
    monkeypatch.setattr(hs.HkStorage, "plan", classmethod(lambda cls, *a, **k: plans.append(real(cls, *a, **k))
                                                          or plans[-1]))
    return plans


def _off(monkeypatch) -> None:
    monkeypatch.setattr(hs.HkStorage, "plan", classmethod(lambda cls, *a, **k: None))


def _same(a: pd.DataFrame, b: pd.DataFrame, rtol: float = 1e-12) -> None:
    assert list(a.columns) == list(b.columns) and len(a) == len(b) and len(a)
    for c in a.columns:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        if a[c].dtype.kind == "f":   # sums in another order: the last bits may differ
            np.testing.assert_allclose(x, y, rtol=rtol, atol=0, err_msg=c)
        else:
            assert a[c].dtype == b[c].dtype and (x == y).all(), c


def _oracle(path: Path, form: dict) -> pd.DataFrame:
    """hummels_klenow on the bilateral cells of the flows view summed in pandas."""
    with Warehouse(path, read_only=True) as wh:
        b = wh.raw.execute("SELECT year, reporter, partner, product, sum(value_usd) AS value_usd FROM flows "
                           "WHERE reporter <> partner AND partner <> 'WLD' GROUP BY ALL").df()
    if "years" in form:
        b = b[b["year"] == int(form["years"])]
    if "product" in form:
        b = b[b["product"].str.startswith(tuple(form["product"].split(",")))]
    b = b.assign(product=b["product"].str[:form.get("level", 6)])
    rest = {k: v for k, v in form.items() if k not in ("use_products", "level", "years", "product")}
    return dv.hummels_klenow(b, product=None if form.get("use_products") is False else "product", **rest)


PIECES = {"canonical": {2021: 1, 2022: 2}, "not canonical": {2019: 1, 2021: 1, 2022: 2, 2023: 1},
          "generated": {2017: 1, 2018: 2, 2019: 1}}


@pytest.mark.parametrize("which", ["canonical", "not canonical", "generated"])
def test_storage_path_equals_the_general_path_and_pandas(slim_paths, generated_path, which, monkeypatch):
    path = {"canonical": slim_paths[0], "not canonical": slim_paths[1], "generated": generated_path}[which]
    forms = FORMS if which != "generated" else [dict(), dict(by_market=True, reference="world"), dict(level=4)]
    for form in forms:
        plans = _spy(monkeypatch)
        with Warehouse(path, read_only=True) as wh:
            new = dv.hk_margins(wh, **form)
        assert len(plans) == 1 and plans[0] is not None, "the storage path was not taken"
        assert plans[0].direct == (which != "not canonical")
        # a year in two loads (2022 split by reporter; 2018 and its revised half): rows summed into cells first
        assert plans[0].pieces == PIECES[which]
        _off(monkeypatch)
        with Warehouse(path, read_only=True) as wh:
            old = dv.hk_margins(wh, **form)
        _same(new, old)
        want = _oracle(path, form)
        keys = [c for c in ("year", "reporter", "partner") if c in new]
        want = want.sort_values(keys).reset_index(drop=True)
        pd.testing.assert_frame_equal(new[list(want.columns)], want, check_dtype=False, rtol=1e-12)
        monkeypatch.undo()


def test_not_canonical_numbers_name_one_exporter_and_one_market(slim_paths):
    """AFG's rows under 999 count as AFG's: one exporter row a year, and as a market its cells add up."""
    with Warehouse(slim_paths[1], read_only=True) as wh:
        got = dv.hk_margins(wh, by_market=True)
        rows = wh.raw.execute("SELECT year, count(*) FILTER (WHERE reporter = 'AFG'), "
                              "count(DISTINCT partner) FILTER (WHERE reporter = 'AFG' AND partner <> 'WLD') FROM flows "
                              "GROUP BY year ORDER BY year").fetchall()
    per = got[got["reporter"] == "AFG"].groupby("year").size()
    assert {y: n for y, _r, n in rows if n} == per.to_dict()
    assert not got["partner"].eq("WLD").any() and set(got["year"]) == {2019, 2021, 2022, 2023}


def test_dataset_with_flow_rows_keeps_the_general_path(mixed_path, monkeypatch):
    plans = _spy(monkeypatch)
    with Warehouse(mixed_path, read_only=True) as wh:
        got = dv.hk_margins(wh)
    assert plans == [None] and set(got["year"]) == {2020, 2021, 2022}
    want = _oracle(mixed_path, {}).sort_values(["year", "reporter"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got[list(want.columns)], want, check_dtype=False, rtol=1e-12)


def test_duckdb_threads_setting_is_restored(slim_paths):
    with Warehouse(slim_paths[0], read_only=True) as wh:
        before = wh.raw.execute("SELECT current_setting('threads')").fetchall()[0][0]
        dv.hk_margins(wh)
        assert wh.raw.execute("SELECT current_setting('threads')").fetchall()[0][0] == before


@pytest.mark.parametrize("which,args", [
    ("not canonical", []), ("not canonical", ["--by-market", "--reference", "world"]), ("generated", []),
    ("generated", ["--hk-aggregate", "pooled"])])
def test_cli_all_exporters_json_equals_the_api_and_the_old_path(slim_paths, generated_path, which, args,
                                                               monkeypatch):
    """``-r all`` gives every exporter; the JSON equals the API's result and the general path's CLI JSON."""
    runner = CliRunner()
    path = slim_paths[1] if which == "not canonical" else generated_path
    cmd = ["indicators", "diversification", "-w", str(path), "--over", "hk", "-r", "all", "--json", *args]
    r = runner.invoke(app, cmd)
    assert r.exit_code == 0, r.output
    new = json.loads(r.output)
    _off(monkeypatch)
    r = runner.invoke(app, cmd)
    assert r.exit_code == 0, r.output
    old = json.loads(r.output)
    assert new.keys() == old.keys() and new["meta"] == old["meta"]
    a, b = pd.DataFrame(new["rows"]), pd.DataFrame(old["rows"])
    _same(a, b, rtol=1e-9)   # the JSON holds 10 significant digits
    with Warehouse(path, read_only=True) as wh:
        every = {r for (r,) in wh.raw.execute("SELECT DISTINCT reporter FROM flows").fetchall()}
        # an exporter none of whose cells anyone else serves has no markets mean (IM = ∞ everywhere)
        assert set(a["reporter"]) <= every and a["reporter"].nunique() >= (2 if which != "generated" else 150)
        api = dv.hk_margins(wh, by_market="--by-market" in args, reference="world" if "world" in args else "rest",
                            aggregate="pooled" if "pooled" in args else "markets")
    api = api.replace([np.inf, -np.inf], np.nan)   # JSON has no ∞: null (IM when nobody else serves j's cells)
    pd.testing.assert_frame_equal(a, api, check_dtype=False, rtol=1e-9)


def test_cli_all_is_only_for_hk(slim_paths):
    r = CliRunner().invoke(app, ["indicators", "diversification", "-w", str(slim_paths[0]), "-r", "all"])
    assert r.exit_code != 0 and "--over hk only" in r.output and "Traceback" not in r.output
