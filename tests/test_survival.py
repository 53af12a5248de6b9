"""Export survival: spells, censoring, Kaplan–Meier against lifelines and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from tradepulse.errors import InputError, NoDataError
from tradepulse.indicators import survival as sv
from tradepulse.meta import meta_of


def flows_from(active: dict[tuple, list[int]]) -> pd.DataFrame:
    rows = [dict(reporter=k[0], partner=k[1], product=k[2], year=y, value_usd=100.0)
            for k, years in active.items() for y in years]
    return pd.DataFrame(rows)


def test_spells_censoring_and_gaps_hand_computed():
    """Panel 2010–2015.
    A: 2011–2012 and 2014–2015 → spells (2011, 2y, ended) and (2014, 2y, right-censored).
    B: 2010–2012 → left-censored (starts in the first panel year), excluded by default.
    C: 2013 only → 1y, ended.
    With merge_gaps=1 A becomes one spell 2011–2015 (5y, censored); it is also left-censored, since activity
    in 2009 (before the panel) would bridge the one-year gap of 2010 into it."""
    f = flows_from({("IRN", "TUR", "5701"): [2011, 2012, 2014, 2015],
                    ("IRN", "IRQ", "5701"): [2010, 2011, 2012],
                    ("IRN", "SYR", "0805"): [2013]})
    s = sv.build_spells(f, first_year=2010, last_year=2015).sort_values(["partner", "start"])
    got = [(r.partner, r.start, r.duration, r.event) for r in s.itertuples()]
    assert got == [("SYR", 2013, 1, 1), ("TUR", 2011, 2, 1), ("TUR", 2014, 2, 0)]
    all_s = sv.build_spells(f, first_year=2010, last_year=2015, include_left_censored=True)
    irq = all_s[all_s.partner == "IRQ"].iloc[0]
    assert bool(irq.left_censored) and irq.duration == 3 and irq.event == 1
    merged = sv.build_spells(f, first_year=2010, last_year=2015, merge_gaps=1, include_left_censored=True)
    tur = merged[merged.partner == "TUR"]
    assert len(tur) == 1 and tur.iloc[0].duration == 5 and tur.iloc[0].event == 0
    assert bool(tur.iloc[0].left_censored)
    assert "TUR" not in set(sv.build_spells(f, first_year=2010, last_year=2015, merge_gaps=1).partner)


def test_threshold_and_duplicates_collapse():
    f = pd.DataFrame({"reporter": ["A"] * 5, "partner": ["B"] * 5, "product": ["01"] * 5,
                      "year": [2001, 2001, 2002, 2003, 2004], "value_usd": [5, 7, 50, 0.5, 60]})
    # A reports every year 2000–2005 (2003 below the threshold is observed: 0.5 > 0 rows exist)
    seen = pd.DataFrame({"reporter": "A", "year": range(2000, 2006)})
    s = sv.build_spells(f, threshold=1.0, first_year=2000, last_year=2005, observed=seen)
    assert list(zip(s.start, s.duration, s.event)) == [(2001, 2, 1), (2004, 1, 1)]
    # without that coverage, 2000 and 2005 have no row of A at all: not observed → 2001 spell has an
    # unknown start (left-censored, dropped) and the 2004 spell is censored, not failed
    s = sv.build_spells(f, threshold=1.0, first_year=2000, last_year=2005)
    assert list(zip(s.start, s.duration, s.event, s.gap_after)) == [(2004, 1, 0, True)]


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
    # panel 2014–2018; 2017 holds only a WLD total, so IRN's bilateral relationships are not observed that
    # year: TUR 2015–2016 is censored (not failed), IRQ 2018 starts after the gap (left-censored, excluded),
    # IRQ 2014 is left-censored at the panel start
    assert got == [("TUR", "5701", 2015, 2, 0)]
    assert bool(spells.gap_after.iloc[0])
    warnings = meta_of(spells).warnings
    assert any(w.startswith("1 spells censored at non-reporting years") for w in warnings)
    assert any(w.startswith("1 spells start right after a non-reporting year") for w in warnings)
    # one bilateral row in 2017 (another partner) makes the year observed: TUR ends, IRQ 2018 starts
    rows.append(dict(base, year=2017, partner="ARM", product="010110", value_usd=1.0, province=None))
    spells = sv.export_spells(pd.DataFrame(rows), reporter="IRN")
    got = sorted((r.partner, r.product, r.start, r.duration, r.event) for r in spells.itertuples())
    assert got == [("ARM", "0101", 2017, 1, 1), ("IRQ", "0805", 2018, 1, 0), ("TUR", "5701", 2015, 2, 1)]
    assert meta_of(spells).warnings == []
    rows.pop()
    with pytest.raises(Exception, match="unknown country group"):
        sv.export_spells(pd.DataFrame(rows), reporter="IRN", partner="atlantis")


def test_survival_cli_by_cohort(tmp_path):
    """`tradepulse indicators survival` on a warehouse: panel 2014–2018; TUR 5701 2015–2016 (ended, 2 y),
    ARM 0101 2017 (ended, 1 y), IRQ 0805 2018 (censored, 1 y), IRQ 2014 left-censored (excluded) → 3 spells,
    cohorts 2015, 2017 and 2018.  Without the 2017 row, 2017 is a non-reporting year: TUR is censored, IRQ
    2018 is left-censored, and the CLI prints both warnings."""
    from typer.testing import CliRunner

    from tradepulse.cli import app
    from tradepulse.warehouse import Warehouse

    base = dict(reporter="IRN", flow="export", hs_revision="HS1992", month=None, quantity=None, unit=None,
                source="test", load_id="x", province=None)
    rows = pd.DataFrame([dict(base, year=y, partner=p, product=c, value_usd=5.0) for y, p, c in
                         [(2014, "IRQ", "0805"), (2015, "TUR", "5701"), (2016, "TUR", "5701"),
                          (2017, "ARM", "0101"), (2018, "IRQ", "0805")]])

    def warehouse(frame, name):
        wh = Warehouse(tmp_path / name)
        wh.raw.register("src", frame)
        cols = ", ".join(frame.columns)
        wh.raw.execute(f"INSERT INTO flow_rows ({cols}) SELECT {cols} FROM src")
        wh.close()
        return str(tmp_path / name)

    out = tmp_path / "km.csv"
    res = CliRunner().invoke(app, ["indicators", "survival", "-w", warehouse(rows, "wh.duckdb"), "--by", "cohort",
                                   "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "3 spells" in res.output and "warning" not in res.output
    km = pd.read_csv(out)
    assert sorted(km["cohort"].unique()) == [2015, 2017, 2018]
    gap = CliRunner().invoke(app, ["indicators", "survival", "-w", warehouse(rows[rows.year != 2017], "gap.duckdb")])
    assert gap.exit_code == 0, gap.output
    assert "1 spells" in gap.output
    assert "warning: 1 spells censored at non-reporting years" in " ".join(gap.output.split())
    bad = CliRunner().invoke(app, ["indicators", "survival", "-w", str(tmp_path / "wh.duckdb"), "--by", "planet"])
    assert bad.exit_code == 2 and "unknown grouping 'planet'" in bad.output


# ------------------------------------------------------------------ coverage: non-reporting years
def test_non_reporting_year_censors_instead_of_failing_hand_computed():
    """Panel 2010–2016.  Reporter A has no row at all in 2013 (it did not report).  A→B active 2011–2012:
    its end is not seen (2013 unobserved) → censored, gap_after.  A→B 2014–2015: starts right after the gap
    → left-censored (excluded by default).  A→C 2011: 2012 observed and inactive → a real failure.
    Reporter Z reports every year: Z→B 2012–2013 ends in 2013 (2014 observed) → failure; A's gap is A's only."""
    f = flows_from({("A", "B", "01"): [2011, 2012, 2014, 2015], ("A", "C", "01"): [2011],
                    ("A", "D", "01"): [2010, 2016], ("Z", "B", "01"): [2012, 2013],
                    ("Z", "D", "01"): [2010, 2011, 2014, 2015, 2016]})
    s = sv.build_spells(f, first_year=2010, last_year=2016, include_left_censored=True)
    got = {(r.reporter, r.partner, r.start): (r.duration, r.event, r.left_censored, r.gap_before, r.gap_after)
           for r in s.itertuples()}
    assert got[("A", "B", 2011)] == (2, 0, False, False, True)
    # A→B 2014–2015: unknown start; its end is seen (2016 observed through the A→D row, inactive)
    assert got[("A", "B", 2014)] == (2, 1, True, True, False)
    assert got[("A", "C", 2011)] == (1, 1, False, False, False)
    assert got[("Z", "B", 2012)] == (2, 1, False, False, False)
    assert got[("Z", "D", 2014)] == (3, 0, False, False, False)   # right edge, not a gap
    # the coverage-blind rule (before this fix) called the 2012 end a failure
    blind = sv.build_spells(f, first_year=2010, last_year=2016, censor_gaps=False)
    assert blind.set_index(["reporter", "partner", "start"]).loc[("A", "B", 2011), "event"] == 1
    default = sv.build_spells(f, first_year=2010, last_year=2016)
    assert ("A", "B", 2014) not in set(zip(default.reporter, default.partner, default.start))
    w = meta_of(default).warnings
    assert "1 spells censored at non-reporting years" in w[0]
    assert w[1].startswith("1 spells start right after a non-reporting year") and "excluded" in w[1]


def test_merge_gaps_censors_at_the_panel_edge():
    """merge_gaps=1, panel 2010–2016, one reporter observed every year.  B: 2012–2014 ends with 2015 and 2016
    inactive → failure.  C: 2012–2015, 2016 inactive: a 2017 export would bridge 2016 → censored.  D: 2013 only
    with 2014–2015 inactive → failure (two-year gap).  Without merging, C's end in 2015 is a failure."""
    f = flows_from({("A", "B", "01"): [2012, 2013, 2014], ("A", "C", "01"): [2012, 2013, 2014, 2015],
                    ("A", "D", "01"): [2013], ("A", "E", "01"): [2010, 2016], ("A", "F", "01"): [2011]})
    s = sv.build_spells(f, first_year=2010, last_year=2016, merge_gaps=1).set_index("partner")
    assert s.loc["B", "event"] == 1 and s.loc["D", "event"] == 1
    assert s.loc["C", "event"] == 0 and not s.loc["C", "gap_after"]
    assert "F" not in s.index                   # left-censored: start ≤ first year + merge_gaps
    assert (s.loc["E", "start"], s.loc["E", "event"]) == (2016, 0)   # E 2010 left-censored; 2016 at the edge
    assert any("1 spells ending within 1 year(s) of the panel end are censored" in w
               for w in meta_of(s).warnings)
    plain = sv.build_spells(f, first_year=2010, last_year=2016).set_index("partner")
    assert plain.loc["C", "event"] == 1


@pytest.mark.parametrize("years", [[2021], [2014, 2016, 2018]])
def test_survival_refused_without_two_consecutive_observed_years(years):
    """One BACI year (or years with holes only) cannot show a spell ending: refused, naming the years."""
    f = flows_from({("ZAF", "DEU", "01"): years, ("ZAF", "USA", "02"): years[:1]})
    with pytest.raises(NoDataError, match="at least 2 consecutive observed years") as exc:
        sv.build_spells(f, first_year=min(years), last_year=max(years))
    assert str(years[0]) in str(exc.value)


def test_one_baci_year_survival_is_refused(shared_data):
    """The real BACI sample holds 2021 only (issue 14: it reported S(1) = 0.001 before)."""
    df = pd.read_csv(shared_data / "baci_sample.csv")
    flows = df.rename(columns={"t": "year", "i": "reporter", "j": "partner", "k": "product", "v": "value_usd"})
    with pytest.raises(NoDataError, match="2 consecutive observed years.*2021"):
        sv.build_spells(flows)


def _spells_by_loop(flows: pd.DataFrame, first: int, last: int, g: int) -> pd.DataFrame:
    """Independent oracle: per relationship, walk the years in Python and apply the coverage rule."""
    observed = set(zip(flows.reporter, flows.year))
    rows = []
    for (rep, par), grp in flows[flows.value_usd > 0].groupby(["reporter", "partner"]):
        years = sorted(set(grp.year))
        runs, cur = [], [years[0]]
        for y in years[1:]:
            if y - cur[-1] - 1 <= g:
                cur.append(y)
            else:
                runs.append(cur)
                cur = [y]
        runs.append(cur)
        for run in runs:
            s, e = run[0], run[-1]
            seen_end = all(first <= e + k <= last and (rep, e + k) in observed for k in range(1, g + 2))
            seen_start = all(first <= s - k <= last and (rep, s - k) in observed for k in range(1, g + 2))
            if seen_start:
                rows.append((rep, par, s, e - s + 1, int(seen_end)))
    return pd.DataFrame(rows, columns=["reporter", "partner", "start", "duration", "event"])


@pytest.mark.parametrize("g", [0, 1, 2])
def test_spells_with_gaps_equal_an_independent_loop_and_km_equals_lifelines(g):
    """Random panel: 30 reporters that each skip random years, 12 partners, 2000–2014, zeros included.
    The vectorised spells equal a plain Python walk over each relationship, and Kaplan–Meier on these
    censored data equals lifelines' table (survival, band, risk sets, median)."""
    rng = np.random.default_rng(g)
    rows = []
    for r in range(30):
        reported = [y for y in range(2000, 2015) if rng.random() > 0.15]
        for p in range(12):
            for y in reported:
                rows.append((f"R{r}", f"P{p}", "X", y, float(rng.random() < 0.6)))
    flows = pd.DataFrame(rows, columns=["reporter", "partner", "product", "year", "value_usd"])
    got = sv.build_spells(flows, keys=("reporter", "partner"), first_year=2000, last_year=2014, merge_gaps=g)
    want = _spells_by_loop(flows, 2000, 2014, g)
    cols = ["reporter", "partner", "start", "duration", "event"]
    pd.testing.assert_frame_equal(got[cols].sort_values(cols).reset_index(drop=True),
                                  want.sort_values(cols).reset_index(drop=True), check_dtype=False)
    assert (got.event == 0).sum() > (got.end == 2014).sum()     # some censored inside the panel
    ours = sv.KaplanMeier().fit(got.duration, got.event).table.set_index("time")
    ref = KaplanMeierFitter().fit(got.duration, got.event)
    assert np.array_equal(ours.index.to_numpy(), ref.survival_function_.index.to_numpy())
    np.testing.assert_allclose(ours["survival"], ref.survival_function_.iloc[:, 0], atol=1e-12, rtol=0)
    np.testing.assert_allclose(ours["ci_lower"], ref.confidence_interval_.iloc[:, 0], atol=1e-10, rtol=0)
    np.testing.assert_array_equal(ours["at_risk"], ref.event_table["at_risk"].to_numpy())
    np.testing.assert_array_equal(ours["censored"], ref.event_table["censored"].to_numpy())


def _comtrade_panel(shared_data) -> pd.DataFrame:
    """The panel of issue 14: Comtrade partner totals 2014–2021 (2022 incomplete upstream), reporter ×
    partner, partner aggregates dropped (W00 World, _X, X1, X2, XX, E19, F19, O19, A59, A79) but S19
    (Taiwan) kept as a partner, self-trade dropped; left-censored spells (2014) excluded."""
    df = pd.read_parquet(shared_data / "comtrade_partner_totals_2014_2022.parquet")
    aggregates = {"W00", "_X", "X1", "X2", "XX", "E19", "F19", "O19", "A59", "A79"}
    return df[~df.partner.isin(aggregates) & (df.reporter != df.partner) & df.year.between(2014, 2021)]


def test_non_reporting_years_on_real_comtrade_panel(shared_data):
    """Issue 14's figures: 1,230 of 8,989 failures fall on a reporter's non-reporting year; censoring them
    moves S(1) from 0.571 to 0.618.  The default also drops the 1,390 spells that start right after a
    non-reporting year (unknown start): S(1) = 0.584 on 12,339 spells."""
    flows = _comtrade_panel(shared_data)
    kw = {"keys": ("reporter", "partner"), "first_year": 2014, "last_year": 2021}
    blind = sv.build_spells(flows, censor_gaps=False, **kw)
    assert (len(blind), int(blind.event.sum())) == (13_729, 8_989)
    assert sv.KaplanMeier().fit(blind.duration, blind.event).survival_at(1) == pytest.approx(0.5708, abs=5e-5)
    every = sv.build_spells(flows, include_left_censored=True, **kw)
    same = every[every.start > 2014]                      # the blind panel's spells, post-gap starts kept
    assert len(same) == len(blind) and int(same.gap_after.sum()) == 1_230
    assert int(blind.event.sum() - same.event.sum()) == 1_230
    assert sv.KaplanMeier().fit(same.duration, same.event).survival_at(1) == pytest.approx(0.6183, abs=5e-5)
    default = sv.build_spells(flows, **kw)
    assert len(default) == 12_339 and int(default.gap_after.sum()) == 860
    assert int(every.gap_before.sum()) == 1_390
    km = sv.KaplanMeier().fit(default.duration, default.event)
    assert km.survival_at(1) == pytest.approx(0.5840, abs=5e-5)
    ref = KaplanMeierFitter().fit(default.duration, default.event)
    np.testing.assert_allclose(km.table["survival"], ref.survival_function_.iloc[:, 0], atol=1e-12, rtol=0)
    # a censored spell really ends before a year the reporter is absent from the whole file
    raw = pd.read_parquet(shared_data / "comtrade_partner_totals_2014_2022.parquet")
    present = set(zip(raw.reporter, raw.year))
    gaps = default[default.gap_after]
    assert all((r, e + 1) not in present for r, e in zip(gaps.reporter, gaps.end))
    assert meta_of(sv.summary(default)).warnings[0].startswith("860 spells censored at non-reporting years")


def test_export_spells_on_one_year_is_refused():
    """The warehouse path too: one year of bilateral rows (a single BACI year) cannot give survival."""
    base = {"reporter": "ZAF", "flow": "export", "hs_revision": "HS1992", "month": None, "quantity": None,
            "unit": None, "source": "test", "load_id": "x", "province": None, "year": 2021}
    rows = pd.DataFrame([dict(base, partner=p, product="080510", value_usd=5.0) for p in ("DEU", "USA")])
    with pytest.raises(NoDataError, match="at least 2 consecutive observed years.*2021"):
        sv.export_spells(rows, reporter="ZAF")
