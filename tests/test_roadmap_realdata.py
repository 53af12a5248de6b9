"""Roadmap metrics on real data: UN Comtrade total-goods exports by partner, 2014–2022
(``comtrade_partner_totals_2014_2022.parquet``, see ../shared/data/PROVENANCE.md), read in place.

Published figures from PROVENANCE.md: IRN's own World (W00) export totals 9.03e10 (2014), 6.00e10 (2015),
8.31e10 (2016), 1.058e11 (2017), 9.66e10 (2018); IRN is a reporter in 2014–2018 only.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tradepulse.roadmap import evaluate, parse_roadmap
from tradepulse.roadmap import calendar as cal


@pytest.fixture(scope="module")
def comtrade(shared_data, tmp_path_factory):
    from tradepulse.warehouse import Warehouse

    raw = pd.read_parquet(shared_data / "comtrade_partner_totals_2014_2022.parquet")
    raw = raw[raw["reporter"].isin(["IRN", "TUR", "ARE"])]
    frame = pd.DataFrame({
        "year": raw["year"].astype(int), "month": pd.NA, "reporter": raw["reporter"],
        "partner": raw["partner"].replace({"W00": "WLD"}), "flow": "export", "product": "TOTAL",
        "hs_revision": "UNKNOWN", "value_usd": raw["value_usd"].astype(float), "quantity": None, "unit": None,
        "province": None, "source": "comtrade", "load_id": "test"})
    wh = Warehouse(tmp_path_factory.mktemp("ct") / "wh.duckdb")
    # stored as the Comtrade reader stores all-goods totals (product "TOTAL"); partner codes kept as given
    wh.raw.register("tmp_rows", frame)
    wh.raw.execute("INSERT INTO flow_rows SELECT * FROM tmp_rows")
    yield wh, raw
    wh.close()


def _rm(*targets, calendar="gregorian"):
    return parse_roadmap({"roadmap": {"reporter": "IRN", "calendar": calendar}, "targets": list(targets)})


def test_world_exports_match_published_totals(comtrade):
    wh, _ = comtrade
    rm = _rm({"id": "w", "title_en": "w", "metric": "exports", "target": {"value": 1.2e11}, "deadline": 2020})
    [st] = evaluate(rm, wh)
    s = st.series.set_index("year")["value"]
    assert s.to_numpy() == pytest.approx([9.03e10, 6.00e10, 8.31e10, 1.058e11, 9.66e10], rel=2e-3)
    assert st.as_of_year == 2018 and st.projection_method == "loglinear-k5"


def test_neighbour_exports_sh_years_apportioned(comtrade):
    """Exports to neighbours15 in SH 1394 = w₁·G2015 + w₂·G2016 with w from day counts (286/365, 79/366:
    SH 1394 = 21 Mar 2015 – 19 Mar 2016), recomputed from the raw rows."""
    wh, raw = comtrade
    from tradepulse.reference import group_members
    g = raw[(raw["reporter"] == "IRN") & raw["partner"].isin(group_members("neighbours15"))] \
        .groupby("year")["value_usd"].sum()
    w1, w2 = cal.annual_weights(1394)
    assert (w1, w2) == pytest.approx((286 / 365, 79 / 366))
    rm = _rm({"id": "n", "title_en": "n", "metric": "exports", "scope": {"partner": "neighbours15"},
              "target": {"value": 48e9}, "deadline": 1404}, calendar="SH")
    [st] = evaluate(rm, wh)
    s = st.series.set_index("year")["value"]
    assert list(s.index) == [1393, 1394, 1395, 1396]  # needs both Gregorian years 2014–2018
    assert s[1394] == pytest.approx(w1 * g[2015] + w2 * g[2016], rel=1e-12)
    assert st.series["estimate"].all()


def test_market_share_and_markets(comtrade):
    """IRN share of the three reporters' world exports in 2016 = IRN / (IRN + TUR + ARE) W00 totals;
    number of markets = partners with a positive value (ISO3 and other Comtrade partner codes)."""
    wh, raw = comtrade
    w = raw[raw["partner"] == "W00"].pivot(index="year", columns="reporter", values="value_usd")
    rm = _rm({"id": "s", "title_en": "s", "metric": "market_share", "target": {"value": 0.5}, "deadline": 2020},
             {"id": "m", "title_en": "m", "metric": "n_markets", "target": {"value": 200}, "deadline": 2020})
    share, markets = evaluate(rm, wh)
    s = share.series.set_index("year")["value"]
    assert s[2016] == pytest.approx(w.loc[2016, "IRN"] / w.loc[2016].sum())
    assert list(s.index) == [2014, 2015, 2016, 2017, 2018]  # IRN reports 2014–2018 only: no zero shares after
    loaded = set(wh.raw.execute("SELECT DISTINCT partner FROM flows WHERE reporter = 'IRN' AND year = 2017 "
                                "AND partner <> 'WLD'").fetchall())
    assert markets.series.set_index("year")["value"][2017] == len(loaded)
