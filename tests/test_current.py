"""The current period (latest month, year to date, 12-month rolling) on the real Comtrade monthly fixture,
checked against independent pandas sums of the World (W00) rows; the monthly-vs-annual warning against the
annual World totals of comtrade_partner_totals_2014_2022.parquet; annual-only data refused plainly."""

from __future__ import annotations

import pandas as pd
import pytest

from tradepulse.indicators.current import AnnualDataOnly, current_period, sh_label

COLS = ["year", "month", "reporter", "partner", "flow", "product", "hs_revision", "value_usd", "quantity", "unit",
        "province", "source", "load_id"]


def _rows(df: pd.DataFrame, load_id: str, monthly: bool) -> pd.DataFrame:
    out = pd.DataFrame({
        "year": df["year"].astype("int16"),
        "month": df["month"].astype("int8") if monthly else pd.array([pd.NA] * len(df), dtype="Int8"),
        "reporter": df["reporter"], "partner": "WLD", "flow": "export", "product": "TOTAL",
        "hs_revision": "UNKNOWN", "value_usd": df["value_usd"].astype(float), "quantity": None, "unit": None,
        "province": None, "source": "comtrade", "load_id": load_id})
    return out[COLS]


@pytest.fixture(scope="module")
def comtrade(shared_data, tmp_path_factory):
    """A warehouse with the monthly W00 rows (load ``cm``) and the annual W00 rows (load ``ca``) of Comtrade,
    inserted into flow_rows directly (product TOTAL, partner W00 → WLD, source comtrade)."""
    from tradepulse.warehouse import Warehouse

    m = pd.read_parquet(shared_data / "monthly_trade_comtrade_2014_2023.parquet")
    m = m[m["partner"] == "W00"]
    a = pd.read_parquet(shared_data / "comtrade_partner_totals_2014_2022.parquet")
    a = a[a["partner"] == "W00"]
    wh = Warehouse(tmp_path_factory.mktemp("cur") / "wh.duckdb")
    frame = pd.concat([_rows(m, "cm", True), _rows(a, "ca", False)], ignore_index=True)
    wh.raw.register("f", frame)
    wh.raw.execute(f"INSERT INTO flow_rows ({', '.join(COLS)}) SELECT {', '.join(COLS)} FROM f")
    wh.raw.unregister("f")
    yield wh, m, a
    wh.close()


def test_sh_labels():
    assert sh_label(2019, 4) == (1398, 1) and sh_label(2020, 3) == (1398, 12) and sh_label(2020, 1) == (1398, 10)
    assert sh_label(2023, 1) == (1401, 10)


@pytest.mark.parametrize("month", range(1, 13))
def test_turkey_2019_ytd_equals_pandas_sums(comtrade, month):
    """Turkey 2019, through each month: Gregorian YTD = Σ W00 months 1..M of 2019 vs 1..M of 2018; the
    latest month = the W00 row; SH YTD = the months from the last April label; rolling = last 12 labels."""
    wh, m, _a = comtrade
    tur = m[m["reporter"] == "TUR"].set_index(["year", "month"])["value_usd"]
    g = current_period(wh, "TUR", calendar="gregorian", until=(2019, month))
    assert g.dataset == "comtrade-total-monthly"
    assert g.end == (2019, month)
    assert g.latest == pytest.approx(tur[(2019, month)], rel=1e-12)
    assert g.latest_prev == pytest.approx(tur[(2018, month)], rel=1e-12)
    assert g.ytd == pytest.approx(sum(tur[(2019, k)] for k in range(1, month + 1)), rel=1e-12)
    assert g.ytd_prev == pytest.approx(sum(tur[(2018, k)] for k in range(1, month + 1)), rel=1e-12)
    if month == 12:   # the provenance anchor: TUR 2019 = 180,832,854,866
        assert g.ytd == pytest.approx(180_832_854_866, abs=1)
    sh = current_period(wh, "TUR", until=(2019, month))
    start = (2019, 4) if month >= 4 else (2018, 4)
    labels = [(y, k) for y in (2018, 2019) for k in range(1, 13) if start <= (y, k) <= (2019, month)]
    assert sh.ytd == pytest.approx(sum(tur[lab] for lab in labels), rel=1e-12)
    assert sh.ytd_prev == pytest.approx(sum(tur[(y - 1, k)] for y, k in labels), rel=1e-12)
    assert sh.sh_end == sh_label(2019, month) and sh.ytd_start == start
    roll = [(y, k) for y in (2018, 2019) for k in range(1, 13) if (2018, month) < (y, k) <= (2019, month)]
    assert len(roll) == 12 and sh.rolling12 == pytest.approx(sum(tur[lab] for lab in roll), rel=1e-12)
    assert sh.rolling_months == 12


def test_turkey_latest_month_and_gaps(comtrade):
    """Without a cap Turkey's latest W00 month is 2023-01 (provenance); 2022-02/04/11/12 are missing, so the
    rolling window has 8 months and says so."""
    wh, m, _a = comtrade
    tur = m[m["reporter"] == "TUR"].set_index(["year", "month"])["value_usd"]
    cp = current_period(wh, "TUR")
    assert cp.end == (2023, 1) and cp.latest == pytest.approx(tur[(2023, 1)], rel=1e-12)
    assert cp.latest_prev == pytest.approx(tur[(2022, 1)], rel=1e-12)
    want = sum(v for (y, k), v in tur.items() if (2022, 1) < (y, k) <= (2023, 1))
    assert cp.rolling12 == pytest.approx(want, rel=1e-12) and cp.rolling_months == 8
    assert any("8 of 12 months" in w for w in cp.meta.warnings), cp.meta.warnings
    assert cp.meta.coverage["end_month"] == "2023-01"


def test_monthly_vs_annual_disagreement_warns(comtrade):
    """AGO 2019: the monthly sum is 25× the annual total (provenance) → a warning naming 2019; the annual
    check equals independent pandas sums; a reporter-year within 1 % is not listed."""
    wh, m, a = comtrade
    cp = current_period(wh, "AGO")
    chk = cp.annual_check.set_index("year")
    ago_m = m[m["reporter"] == "AGO"].groupby("year")["value_usd"].agg(["sum", "count"])
    ago_a = a[a["reporter"] == "AGO"].set_index("year")["value_usd"]
    assert chk.loc[2019, "monthly_sum"] == pytest.approx(ago_m.loc[2019, "sum"], rel=1e-12)
    assert chk.loc[2019, "annual"] == pytest.approx(ago_a.loc[2019], rel=1e-12)
    assert chk.loc[2019, "ratio"] > 20 and bool(chk.loc[2019, "differs"])
    assert any("2019" in w and "comtrade-total-annual" in w for w in cp.meta.warnings), cp.meta.warnings
    # the whole table against pandas: which complete years differ by more than 1 %
    full = ago_m[ago_m["count"] == 12].join(ago_a, how="inner")
    expect = sorted(int(y) for y, r in full.iterrows() if abs(r["sum"] / r["value_usd"] - 1) > 0.01)
    assert sorted(int(y) for y in chk.index[chk["differs"].astype(bool)]) == expect
    # DEU: every complete year within 1 % (checked here independently) → no disagreement warning
    deu = current_period(wh, "DEU")
    d = deu.annual_check
    assert len(d) and not d["differs"].astype(bool).any()
    assert not any("disagree" in w for w in deu.meta.warnings)


def test_annual_only_is_refused_plainly(comtrade):
    """IRN has no monthly Comtrade rows; a reporter with annual rows only gets AnnualDataOnly."""
    wh, _m, a = comtrade
    only_annual = sorted(set(a["reporter"]) - set(_m["reporter"]))
    assert only_annual
    with pytest.raises(AnnualDataOnly, match="annual data only"):
        current_period(wh, only_annual[0])


def test_cli_current(shared_data, tmp_path, monkeypatch):
    """``tradepulse indicators current``: an 80-column table for TUR (2019 anchor through --json) and one
    clear line for a reporter with annual data only."""
    import json

    from typer.testing import CliRunner

    from tradepulse.cli import app
    from tradepulse.warehouse import Warehouse

    m = pd.read_parquet(shared_data / "monthly_trade_comtrade_2014_2023.parquet")
    m = m[(m["partner"] == "W00") & (m["reporter"] == "TUR")]
    a = pd.read_parquet(shared_data / "comtrade_partner_totals_2014_2022.parquet")
    a = a[(a["partner"] == "W00") & (a["reporter"].isin(["TUR", "IRN"]))]
    path = tmp_path / "wh.duckdb"
    with Warehouse(path) as wh:
        frame = pd.concat([_rows(m, "cm", True), _rows(a, "ca", False)], ignore_index=True)
        wh.raw.register("f", frame)
        wh.raw.execute(f"INSERT INTO flow_rows ({', '.join(COLS)}) SELECT {', '.join(COLS)} FROM f")
    from tradepulse.cli import common
    monkeypatch.setattr(common.console, "width", 80)          # an 80-column terminal
    runner = CliRunner()
    res = runner.invoke(app, ["indicators", "current", "-r", "TUR", "--warehouse", str(path)])
    assert res.exit_code == 0, res.output
    assert "2023-01 (SH 1401-10)" in res.output and "2022-04 to 2023-01" in res.output and "comtrade-total-monthly" in res.output
    assert max(len(line.rstrip()) for line in res.output.splitlines()) <= 80
    res = runner.invoke(app, ["indicators", "current", "-r", "TUR", "--calendar", "gregorian", "--json",
                              "--warehouse", str(path)])
    d = json.loads(res.output)
    assert d["meta"]["dataset"] == "comtrade-total-monthly" and d["rows"][0]["end"] == "2023-01"
    assert d["rows"][0]["ytd_prev"] == pytest.approx(m[(m["year"] == 2022) & (m["month"] == 1)]["value_usd"].sum())
    res = runner.invoke(app, ["indicators", "current", "-r", "IRN", "--warehouse", str(path)])
    assert res.exit_code != 0 and "annual data only" in res.output and "Traceback" not in res.output


def test_coverage_cache_tells_warehouses_apart(tmp_path):
    """Regression (found with the brief tests): the coverage cache keyed Ibis tables by their expression only,
    so warehouse B's ``flows`` table got warehouse A's coverage (same name and schema) and its rows were then
    filtered by A's load ids — "no export rows" for data that are there.  The key now holds the database file
    and its loads."""
    from tradepulse.indicators.inputs import coverage
    from tradepulse.warehouse import Warehouse

    def make(name: str, load_id: str) -> Warehouse:
        wh = Warehouse(tmp_path / f"{name}.duckdb")
        frame = pd.DataFrame([{"year": 2020, "month": None, "reporter": "IRN", "partner": "TUR", "flow": "export",
                               "product": "0101", "hs_revision": "HS1992", "value_usd": 1.0, "quantity": None,
                               "unit": None, "province": None, "source": "x", "load_id": load_id}])[COLS]
        wh.raw.register("f", frame)
        wh.raw.execute(f"INSERT INTO flow_rows ({', '.join(COLS)}) SELECT {', '.join(COLS)} FROM f")
        return wh

    a, b = make("a", "A"), make("b", "B")
    try:
        assert coverage(a.flows())["load_id"].tolist() == ["A"]
        assert coverage(b.flows())["load_id"].tolist() == ["B"]
        assert coverage(a.table("flows"))["load_id"].tolist() == ["A"]
    finally:
        a.close()
        b.close()
