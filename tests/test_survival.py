"""Export survival: spells, censoring, Kaplan–Meier against lifelines and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from tradepulse.errors import InputError, NoDataError
from tradepulse.indicators import survival as sv


def flows_from(active: dict[tuple, list[int]]) -> pd.DataFrame:
    rows = [dict(reporter=k[0], partner=k[1], product=k[2], year=y, value_usd=100.0)
            for k, years in active.items() for y in years]
    return pd.DataFrame(rows)


def test_spells_censoring_and_gaps_hand_computed():
    """Panel 2010–2015.
    A: 2011–2012 and 2014–2015 → spells (2011, 2y, ended) and (2014, 2y, right-censored).
    B: 2010–2012 → left-censored (starts in the first panel year), excluded by default.
    C: 2013 only → 1y, ended.
    With merge_gaps=1 A becomes one spell 2011–2015 (5y, censored)."""
    f = flows_from({("IRN", "TUR", "5701"): [2011, 2012, 2014, 2015],
                    ("IRN", "IRQ", "5701"): [2010, 2011, 2012],
                    ("IRN", "SYR", "0805"): [2013]})
    s = sv.build_spells(f, first_year=2010, last_year=2015).sort_values(["partner", "start"])
    got = [(r.partner, r.start, r.duration, r.event) for r in s.itertuples()]
    assert got == [("SYR", 2013, 1, 1), ("TUR", 2011, 2, 1), ("TUR", 2014, 2, 0)]
    all_s = sv.build_spells(f, first_year=2010, last_year=2015, include_left_censored=True)
    irq = all_s[all_s.partner == "IRQ"].iloc[0]
    assert bool(irq.left_censored) and irq.duration == 3 and irq.event == 1
    merged = sv.build_spells(f, first_year=2010, last_year=2015, merge_gaps=1)
    tur = merged[merged.partner == "TUR"]
    assert len(tur) == 1 and tur.iloc[0].duration == 5 and tur.iloc[0].event == 0


def test_threshold_and_duplicates_collapse():
    f = pd.DataFrame({"reporter": ["A"] * 5, "partner": ["B"] * 5, "product": ["01"] * 5,
                      "year": [2001, 2001, 2002, 2003, 2004], "value_usd": [5, 7, 50, 0.5, 60]})
    s = sv.build_spells(f, threshold=1.0, first_year=2000, last_year=2005)
    assert list(zip(s.start, s.duration, s.event)) == [(2001, 2, 1), (2004, 1, 1)]


def test_km_hand_computed():
    """Durations 1,1,2,3(censored),4: t=1: n=5,d=2 → S=0.6; t=2: n=3,d=1 → S=0.4; t=3: n=2,d=0 → 0.4;
    t=4: n=1,d=1 → 0.  Median = 2 (first S ≤ 0.5).  Greenwood V(1) = 2/(5·3) = 0.1333…"""
    km = sv.KaplanMeier().fit([1, 1, 2, 3, 4], [1, 1, 1, 0, 1])
    tab = km.table.set_index("time")
    assert tab.loc[1.0, "survival"] == pytest.approx(0.6)
    assert tab.loc[2.0, "survival"] == pytest.approx(0.4)
    assert tab.loc[3.0, "survival"] == pytest.approx(0.4)
    assert tab.loc[4.0, "survival"] == pytest.approx(0.0)
    assert tab.loc[1.0, "greenwood_var"] == pytest.approx(0.36 * 2 / 15)
    assert tab.loc[2.0, "hazard"] == pytest.approx(1 / 3)
    assert km.median == 2.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_km_equals_lifelines(seed):
    rng = np.random.default_rng(seed)
    n = 2000
    t = rng.geometric(0.35, n).astype(float)
    e = rng.random(n) < 0.8
    ours = sv.KaplanMeier(alpha=0.05).fit(t, e)
    ref = KaplanMeierFitter(alpha=0.05).fit(t, e)
    sf = ref.survival_function_.iloc[:, 0]
    ci = ref.confidence_interval_
    tab = ours.table.set_index("time")
    assert np.array_equal(tab.index.to_numpy(), sf.index.to_numpy())
    np.testing.assert_allclose(tab["survival"], sf.to_numpy(), atol=1e-10, rtol=0)
    np.testing.assert_allclose(tab["ci_lower"], ci.iloc[:, 0].to_numpy(), atol=1e-10, rtol=0)
    np.testing.assert_allclose(tab["ci_upper"], ci.iloc[:, 1].to_numpy(), atol=1e-10, rtol=0)
    np.testing.assert_array_equal(tab["at_risk"], ref.event_table["at_risk"].to_numpy())
    assert ours.median == ref.median_survival_time_


def test_grouped_km_equals_separate_fits():
    rng = np.random.default_rng(7)
    spells = pd.DataFrame({"cohort": rng.integers(2010, 2015, 3000), "duration": rng.geometric(0.4, 3000),
                           "event": (rng.random(3000) < 0.7).astype(int)})
    grouped = sv.kaplan_meier(spells, by="cohort")
    for cohort, grp in spells.groupby("cohort"):
        ref = KaplanMeierFitter().fit(grp.duration, grp.event)
        mine = grouped[grouped.cohort == cohort]
        np.testing.assert_allclose(mine["survival"], ref.survival_function_.iloc[:, 0], atol=1e-10, rtol=0)
        assert mine["median"].iloc[0] == ref.median_survival_time_


def test_mixed_hs_revisions_and_empty_inputs_are_clear_errors():
    f = flows_from({("A", "B", "01"): [2001]}).assign(hs_revision=["HS1992"])
    mixed = pd.concat([f, f.assign(hs_revision="HS2017")])
    with pytest.raises(InputError, match="HS revisions"):
        sv.build_spells(mixed)
    with pytest.raises(NoDataError):
        sv.build_spells(f.assign(value_usd=0.0))
    with pytest.raises(InputError, match="lack column"):
        sv.build_spells(f.drop(columns="partner"))


def _market_flows(shared_data) -> pd.DataFrame:
    df = pd.read_parquet(shared_data / "comtrade_partner_totals_2014_2022.parquet")
    aggregates = {"W00", "_X", "X1", "X2", "XX", "E19", "F19", "O19", "A59", "A79", "S19"}
    df = df[~df.partner.isin(aggregates) & (df.reporter != df.partner) & df.year.between(2014, 2021)]
    return df.assign(product="TOTAL")


def test_market_survival_on_real_comtrade_panel(shared_data):
    """Reporter × partner total-goods relationships 2014–2021 (2022 is incomplete upstream, see PROVENANCE).
    Market-level relationships last far longer than product-level ones: most spells are censored."""
    flows = _market_flows(shared_data)
    spells = sv.build_spells(flows, keys=("reporter", "partner"), first_year=2014, last_year=2021)
    # every spell lies in the panel, durations add up to the active years outside left-censored spells
    assert spells.start.min() >= 2015 and spells.end.max() <= 2021
    active = flows.groupby(["reporter", "partner"]).year.apply(set)
    sample = spells.sample(200, random_state=0)
    for r in sample.itertuples():
        years = active[(r.reporter, r.partner)]
        assert all(y in years for y in range(r.start, r.end + 1))
        assert (r.start - 1) not in years and ((r.end + 1) not in years or r.end == 2021)
    km = sv.KaplanMeier().fit(spells.duration, spells.event)
    ref = KaplanMeierFitter().fit(spells.duration, spells.event)
    np.testing.assert_allclose(km.table["survival"], ref.survival_function_.iloc[:, 0], atol=1e-10, rtol=0)


def test_product_level_survival_stylised_facts_on_gravity_panel(shared_data):
    """agtpa (manufacturing, 69 countries, 1986–2006, millions USD): bilateral relationships with a
    positive-trade threshold. Domestic pairs dropped. Median duration is short relative to the panel."""
    df = pd.read_parquet(shared_data / "agtpa_gravity_1986_2006.parquet")
    df = df[df.exporter != df.importer].rename(columns={"exporter": "reporter", "importer": "partner",
                                                         "trade": "value_usd"}).assign(product="MANUF")
    spells = sv.build_spells(df, threshold=0.0)
    assert spells.attrs["first_year"] == 1986 and spells.attrs["last_year"] == 2006
    summ = sv.summary(spells)
    # zero flows create exits and re-entries; the hazard is highest in the first year
    tab = sv.KaplanMeier().fit(spells.duration, spells.event).table.set_index("time")
    assert tab.loc[1.0, "hazard"] == max(tab["hazard"])
    assert 0 < summ.hazard_first_year.iloc[0] < 1



def test_export_spells_from_canonical_flows_collapses_provinces_and_respects_wld_rule():
    """Two provinces exporting the same HS4 to TUR in 2015–2016 form one relationship; a WLD total row
    is ignored; HS6 rows roll up to HS4."""
    base = dict(reporter="IRN", flow="export", hs_revision="HS1992", month=None, quantity=None, unit=None,
                source="test", load_id="x")
    rows = [
        dict(base, year=2014, partner="IRQ", product="080510", value_usd=5.0, province="Fars"),
        dict(base, year=2015, partner="TUR", product="570110", value_usd=10.0, province="Tehran"),
        dict(base, year=2016, partner="TUR", product="570190", value_usd=10.0, province="Isfahan"),
        dict(base, year=2017, partner="WLD", product="570110", value_usd=99.0, province=None),
        dict(base, year=2018, partner="IRQ", product="080510", value_usd=5.0, province="Fars"),
    ]
    spells = sv.export_spells(pd.DataFrame(rows), reporter="IRN")
    got = sorted((r.partner, r.product, r.start, r.duration, r.event) for r in spells.itertuples())
    # panel 2014–2018: IRQ 2014 is left-censored (excluded); IRQ 2018 right-censored
    assert got == [("IRQ", "0805", 2018, 1, 0), ("TUR", "5701", 2015, 2, 1)]
    with pytest.raises(Exception, match="unknown country group"):
        sv.export_spells(pd.DataFrame(rows), reporter="IRN", partner="atlantis")


def test_survival_cli_by_cohort(tmp_path):
    """`tradepulse indicators survival` on a warehouse: panel 2014–2018; TUR 5701 2015–2016 (ended, 2 y),
    IRQ 0805 2018 (censored, 1 y), IRQ 2014 left-censored (excluded) → 2 spells, cohorts 2015 and 2018."""
    from typer.testing import CliRunner

    from tradepulse.cli import app
    from tradepulse.warehouse import Warehouse

    base = dict(reporter="IRN", flow="export", hs_revision="HS1992", month=None, quantity=None, unit=None,
                source="test", load_id="x", province=None)
    rows = pd.DataFrame([dict(base, year=y, partner=p, product=c, value_usd=5.0) for y, p, c in
                         [(2014, "IRQ", "0805"), (2015, "TUR", "5701"), (2016, "TUR", "5701"),
                          (2018, "IRQ", "0805")]])
    wh = Warehouse(tmp_path / "wh.duckdb")
    wh.raw.register("src", rows)
    cols = ", ".join(rows.columns)
    wh.raw.execute(f"INSERT INTO flow_rows ({cols}) SELECT {cols} FROM src")
    wh.close()
    out = tmp_path / "km.csv"
    res = CliRunner().invoke(app, ["indicators", "survival", "-w", str(tmp_path / "wh.duckdb"), "--by", "cohort",
                                   "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "2 spells" in res.output
    km = pd.read_csv(out)
    assert sorted(km["cohort"].unique()) == [2015, 2018]
    bad = CliRunner().invoke(app, ["indicators", "survival", "-w", str(tmp_path / "wh.duckdb"), "--by", "planet"])
    assert bad.exit_code == 2 and "unknown grouping 'planet'" in bad.output
