"""Private-sector capability indicators (tradepulse.indicators.firms) on a hand-computed firm panel.

The panel (reporter IRN, exports, USD; cells = firm × partner × HS6, months already summed)::

    firm prov.     2019                    2020                    2021                    2022
    A    Tehran    TUR/570110 60 (25+35)   TUR/570110 80           TUR/570110 90           TUR/570110 100
                   IRQ/570110 40           IRQ/080250 20
    B    Tehran    IRQ/080250 30           IRQ/080250 50           IRQ/080250 0 (no value)
    C    Tehran    CHN/270900 10           –                       CHN/270900 5
    D    Razavi    –                       TUR/080250 40           TUR/080250 30, IRQ/080250 30
    E    Razavi    –                       ARE/570110 10           –                       ARE/570110 15
    F    Isfahan   –                       –                       CHN/570110 50           CHN/570110 20
    G    Isfahan   –                       –                       ARE/940360 5
    plus a row without firm id (dropped) and an import row of A (not an export).

Exporters x_f: 2019 A100 B30 C10 (X=140); 2020 A100 B50 D40 E10 (X=200); 2021 A90 D60 F50 C5 G5 (X=210);
2022 A100 F20 E15 (X=135).

Profile (top p %: m = max(1, ⌈p·n/100⌉) firms; n = 3, 4 → m = 1 for every p; n = 5 → top 25 % m = 2):

    year n  X    mean     median HHI                    top1=top5     top25        products markets single
    2019 3  140  46.667   30     11000/19600=0.561224   100/140       100/140      1        4/3     2/3
    2020 4  200  50       45     14200/40000=0.355      0.5           0.5          5/4      5/4     3/4
    2021 5  210  42       50     14250/44100=0.323129   90/210        150/210      1        6/5     4/5
    2022 3  135  45       20     10625/18225=0.582990   100/135       100/135      1        1       1

Dynamics (t−1 in the panel):

    year ent exit inc entry_rate exit_rate surv.  ent.share  exit.share  ΔX   entry exit incΔ  new drop cont
    2020 2   1    2   2/4        1/3       NaN    50/200     10/140      60   50    −10  20    20  −40  40
    2021 3   2    2   3/5        2/4       1/2    60/210     60/200      10   60    −60  10    30  −20  0
    2022 1   3    2   1/3        3/5       1/3    15/135     70/210      −75  15    −70  −20   0   0    −20

(2021: entrants F, C (re-entry), G; exiters B, E; survival = D of the 2020 entrants D, E.  Pairs 2020: A's
IRQ/080250 new +20, A's IRQ/570110 dropped −40, A TUR +20 and B +20 continuing.)

Cohorts: 2020 (D, E): k=1 1/2, k=2 0/2 (E is back in 2022 but not continuously); 2021 (F, C, G): k=1 1/3;
2019 is no cohort (left-censored), 2022 cannot be followed (right-censored).

Top 2021: A 90 (3/7, cum 3/7, years active 3, first 2019), D 60 (2/7, 5/7, 2 markets, 2, 2020),
F 50 (5/21, 20/21, 1, 2021), C 5 (1/42, 2 years, first 2019), G 5 (1/42; tie broken by id).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradepulse import schema
from tradepulse.errors import NoDataError, UnknownNameError
from tradepulse.indicators import firms

ROWS = [  # firm, province, year, month, partner, product, value, flow
    ("A", "Tehran", 2019, 1, "TUR", "570110", 25.0, "export"), ("A", "Tehran", 2019, 2, "TUR", "570110", 35.0, "export"),
    ("A", "Tehran", 2019, 3, "IRQ", "570110", 40.0, "export"), ("B", "Tehran", 2019, 1, "IRQ", "080250", 30.0, "export"),
    ("C", "Tehran", 2019, 5, "CHN", "270900", 10.0, "export"),
    ("A", "Tehran", 2020, 1, "TUR", "570110", 80.0, "export"), ("A", "Tehran", 2020, 2, "IRQ", "080250", 20.0, "export"),
    ("B", "Tehran", 2020, 1, "IRQ", "080250", 50.0, "export"),
    ("D", "Razavi Khorasan", 2020, 4, "TUR", "080250", 40.0, "export"),
    ("E", "Razavi Khorasan", 2020, 6, "ARE", "570110", 10.0, "export"),
    ("A", "Tehran", 2021, 1, "TUR", "570110", 90.0, "export"), ("B", "Tehran", 2021, 1, "IRQ", "080250", 0.0, "export"),
    ("C", "Tehran", 2021, 7, "CHN", "270900", 5.0, "export"),
    ("D", "Razavi Khorasan", 2021, 1, "TUR", "080250", 30.0, "export"),
    ("D", "Razavi Khorasan", 2021, 2, "IRQ", "080250", 30.0, "export"),
    ("F", "Isfahan", 2021, 3, "CHN", "570110", 50.0, "export"), ("G", "Isfahan", 2021, 3, "ARE", "940360", 5.0, "export"),
    ("A", "Tehran", 2022, 1, "TUR", "570110", 100.0, "export"), ("F", "Isfahan", 2022, 1, "CHN", "570110", 20.0, "export"),
    ("E", "Razavi Khorasan", 2022, 1, "ARE", "570110", 15.0, "export"),
    (None, "Tehran", 2022, 1, "TUR", "570110", 999.0, "export"),       # no firm id: dropped
    ("A", "Tehran", 2021, 1, "CHN", "847130", 500.0, "import"),       # an import: not an export
]


def as_firm_flows(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["firm", "province", "year", "month", "partner", "product", "value_usd", "flow"])
    df["reporter"], df["hs_revision"], df["source"], df["load_id"] = "IRN", "HS2017", "test", "t1"
    df["quantity"], df["unit"] = np.nan, None
    return df[list(schema.FIRM_FLOWS)]


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return as_firm_flows(ROWS)


def approx(x):
    return pytest.approx(x, rel=1e-12, abs=1e-12)


# ------------------------------------------------------------------ hand-computed case
def test_profile_hand_computed(panel):
    p = firms.exporter_profile(panel, reporter="IRN").set_index("year")
    assert list(p.index) == [2019, 2020, 2021, 2022]
    assert (p["reporter"] == "IRN").all()
    assert p["n_exporters"].tolist() == [3, 4, 5, 3]
    assert p["exports"].tolist() == [140, 200, 210, 135]
    assert p["mean_exports"].tolist() == approx([140 / 3, 50, 42, 45])
    assert p["median_exports"].tolist() == [30, 45, 50, 20]
    assert p["hhi"].tolist() == approx([11000 / 19600, 0.355, 14250 / 44100, 10625 / 18225])
    assert p["top1_share"].tolist() == approx([100 / 140, 0.5, 90 / 210, 100 / 135])
    assert p["top5_share"].tolist() == approx([100 / 140, 0.5, 90 / 210, 100 / 135])
    assert p["top25_share"].tolist() == approx([100 / 140, 0.5, 150 / 210, 100 / 135])
    assert p["mean_products"].tolist() == approx([1, 1.25, 1, 1])
    assert p["mean_markets"].tolist() == approx([4 / 3, 1.25, 1.2, 1])
    assert p["single_product_market_share"].tolist() == approx([2 / 3, 0.75, 0.8, 1])


def test_dynamics_hand_computed(panel):
    d = firms.exporter_dynamics(panel, reporter="IRN").set_index("year")
    assert list(d.index) == [2020, 2021, 2022]
    assert d["n_exporters"].tolist() == [4, 5, 3]
    assert d["n_exporters_prev"].tolist() == [3, 4, 5]
    assert d["entrants"].tolist() == [2, 3, 1]
    assert d["exiters"].tolist() == [1, 2, 3]
    assert d["incumbents"].tolist() == [2, 2, 2]
    assert d["entry_rate"].tolist() == approx([2 / 4, 3 / 5, 1 / 3])
    assert d["exit_rate"].tolist() == approx([1 / 3, 2 / 4, 3 / 5])
    assert math.isnan(d.loc[2020, "entrant_survival"])          # 2018 is not in the panel
    assert d.loc[[2021, 2022], "entrant_survival"].tolist() == approx([1 / 2, 1 / 3])
    assert d["entrants_share"].tolist() == approx([50 / 200, 60 / 210, 15 / 135])
    assert d["exiters_share"].tolist() == approx([10 / 140, 60 / 200, 70 / 210])
    assert d["exports"].tolist() == [200, 210, 135]
    assert d["exports_prev"].tolist() == [140, 200, 210]
    assert d["change"].tolist() == [60, 10, -75]
    assert d["entry"].tolist() == [50, 60, 15]
    assert d["exit"].tolist() == [-10, -60, -70]
    assert d["incumbents_change"].tolist() == [20, 10, -20]
    assert d["new_pairs"].tolist() == [20, 30, 0]
    assert d["dropped_pairs"].tolist() == [-40, -20, 0]
    assert d["continuing_pairs"].tolist() == [40, 0, -20]


def test_cohorts_hand_computed(panel):
    c = firms.cohort_survival(panel, reporter="IRN")
    assert c[["cohort", "k", "year", "entrants", "survivors"]].values.tolist() == [
        [2020, 1, 2021, 2, 1], [2020, 2, 2022, 2, 0], [2021, 1, 2022, 3, 1]]
    assert c["survival_rate"].tolist() == approx([0.5, 0.0, 1 / 3])
    # k = 1 equals the dynamics' entrant survival of year c + 1
    d = firms.exporter_dynamics(panel, reporter="IRN").set_index("year")
    one = c[c["k"] == 1].set_index("year")["survival_rate"]
    assert one.tolist() == approx(d.loc[one.index, "entrant_survival"].tolist())


def test_top_exporters_hand_computed(panel):
    t = firms.top_exporters(panel, reporter="IRN", year=2021)
    assert t["firm"].tolist() == ["A", "D", "F", "C", "G"]
    assert t["rank"].tolist() == [1, 2, 3, 4, 5]
    assert t["value_usd"].tolist() == [90, 60, 50, 5, 5]
    assert t["share"].tolist() == approx([3 / 7, 2 / 7, 5 / 21, 1 / 42, 1 / 42])
    assert t["cumulative_share"].tolist() == approx([3 / 7, 5 / 7, 20 / 21, 41 / 42, 1.0])
    assert t["n_products"].tolist() == [1, 1, 1, 1, 1]
    assert t["n_markets"].tolist() == [1, 2, 1, 1, 1]
    assert t["years_active"].tolist() == [3, 2, 1, 2, 1]
    assert t["first_year"].tolist() == [2019, 2020, 2021, 2019, 2021]
    top2 = firms.top_exporters(panel, reporter="IRN", n=2)           # default: last panel year 2022
    assert top2["year"].tolist() == [2022, 2022] and top2["firm"].tolist() == ["A", "F"]
    assert top2["share"].tolist() == approx([100 / 135, 20 / 135])


def test_selection_filters(panel):
    """Province by any spelling, partner and product groups, years and levels select the right cells."""
    for spelling in ("تهران", "Tehran", "IR-23", "teheran"):
        p = firms.exporter_profile(panel, reporter="IRN", province=spelling).set_index("year")
        assert p.loc[2019, "n_exporters"] == 3 and p.loc[2019, "exports"] == 140    # A, B, C are in Tehran
        assert p.loc[2021, "n_exporters"] == 2 and p.loc[2021, "exports"] == 95     # A 90, C 5 (B has 0)
    # by province: Razavi Khorasan 2021 has D only; E exits, nobody enters
    d = firms.exporter_dynamics(panel, reporter="IRN", by="province").set_index(["year", "province"])
    assert d.loc[(2021, "Razavi Khorasan"), ["entrants", "exiters", "incumbents"]].tolist() == [0, 1, 1]
    assert d.loc[(2021, "Isfahan"), ["entrants", "exiters", "entry_rate"]].tolist() == [2, 0, 1.0]
    # cohorts by province: Isfahan 2021 (F, G) → F in 2022; Tehran 2021 (C re-enters) → gone in 2022
    c = firms.cohort_survival(panel, reporter="IRN", by="province")
    assert c[["province", "cohort", "k", "entrants", "survivors"]].values.tolist() == [
        ["Isfahan", 2021, 1, 2, 1], ["Razavi Khorasan", 2020, 1, 2, 1], ["Razavi Khorasan", 2020, 2, 2, 0],
        ["Tehran", 2021, 1, 1, 0]]
    # the panel is the source's coverage 2019–2022: Isfahan has no exporter before 2021, so F and G enter in 2021
    d = firms.exporter_dynamics(panel, reporter="IRN", province="Isfahan").set_index("year")
    assert d["n_exporters"].tolist() == [0, 2, 1] and d["entrants"].tolist() == [0, 2, 0]   # 2022: F only
    assert math.isnan(d.loc[2021, "exit_rate"]) and d.loc[2021, "entry_rate"] == 1.0
    assert d.loc[2022, ["exiters", "exports", "change", "entry", "exit", "incumbents_change"]].tolist() == \
        [1, 20, -35, 0, -5, -30]
    c = firms.cohort_survival(panel, reporter="IRN", province="Isfahan")
    assert c[["cohort", "k", "entrants", "survivors"]].values.tolist() == [[2021, 1, 2, 1]]
    # partner TUR: 2020 A 80, D 40
    p = firms.exporter_profile(panel, reporter="IRN", partner="TUR").set_index("year")
    assert p.loc[2020, ["n_exporters", "exports"]].tolist() == [2, 120]
    # product HS prefix 0802 (nuts): 2019 B 30; 2020 A 20, B 50, D 40; 2021 D 60
    p = firms.exporter_profile(panel, reporter="IRN", product="0802", years="2019-2021").set_index("year")
    assert p["exports"].tolist() == [30, 110, 60]
    assert p["n_exporters"].tolist() == [1, 3, 1]
    # HS2 level merges nothing here, but a chapter prefix 57 counts A's two markets as one product
    p = firms.exporter_profile(panel, reporter="IRN", level=2).set_index("year")
    assert p.loc[2020, "mean_products"] == 1.25
    # imports are their own flow
    imp = firms.exporter_profile(panel, reporter="IRN", flow="import")
    assert imp[["year", "n_exporters", "exports"]].values.tolist() == [[2021, 1, 500]]


def test_errors(panel, tmp_path):
    with pytest.raises(NoDataError, match="--target firm_flows"):
        firms.exporter_profile(panel.iloc[:0], reporter="IRN")
    with pytest.raises(UnknownNameError, match="province 'Fars'"):
        firms.exporter_profile(panel, reporter="IRN", province="Fars")
    with pytest.raises(UnknownNameError, match="country group"):
        firms.exporter_profile(panel, reporter="IRN", partner="nowhere")
    with pytest.raises(NoDataError, match="2018"):
        firms.exporter_profile(panel, reporter="IRN", years="2018-2019")
    with pytest.raises(NoDataError, match="two consecutive years"):
        firms.exporter_dynamics(panel, reporter="IRN", years="2019,2021")
    with pytest.raises(NoDataError, match="no entry cohort"):
        firms.cohort_survival(panel, reporter="IRN", years=2019)
    with pytest.raises(NoDataError, match="no exporter in 2030"):
        firms.top_exporters(panel, reporter="IRN", year=2030)
    with pytest.raises(UnknownNameError, match="breakdown"):
        firms.exporter_profile(panel, reporter="IRN", by="partner")
    # an old warehouse (created before FIRM_FLOWS) opened read-only has no firm_flows table
    import duckdb

    from tradepulse.warehouse import Warehouse
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE flows (year SMALLINT)")
    con.close()
    with Warehouse(path, read_only=True) as wh, pytest.raises(NoDataError, match="no firm-level data"):
        firms.exporter_dynamics(wh, reporter="IRN")


def test_gap_in_panel(panel):
    """Years 2019, 2021, 2022: 2021 has no dynamics (2020 missing), cohorts start only in 2022 (not followable)."""
    d = firms.exporter_dynamics(panel, reporter="IRN", years="2019,2021-2022")
    assert d["year"].tolist() == [2022]
    assert math.isnan(d["entrant_survival"].iloc[0])   # 2020 not in the panel: 2021 entrants unknown
    with pytest.raises(NoDataError, match="no cohort can be followed"):
        firms.cohort_survival(panel, reporter="IRN", years="2019,2021-2022")


# ------------------------------------------------------------------ an independent dynamics implementation
def _ref_transitions(f: pd.DataFrame, fk: list[str], years: list[int]) -> pd.DataFrame:
    """Firm rows of (t, firm) for every t with t−1 in the panel: x_t, x_prev (0 when absent), status."""
    cur = f[["year", *fk, "x"]]
    prev = cur.assign(year=cur["year"] + 1).rename(columns={"x": "x_prev"})
    m = cur.merge(prev, on=["year", *fk], how="outer")
    ys = np.asarray(years)
    m = m[np.isin(m["year"], ys) & np.isin(m["year"] - 1, ys)].copy()
    m["x"] = m["x"].fillna(0.0)
    m["x_prev"] = m["x_prev"].fillna(0.0)
    now, before = m["x"].to_numpy() > 0, m["x_prev"].to_numpy() > 0
    m["_ent"], m["_exit"], m["_inc"] = now & ~before, before & ~now, now & before
    return m


def reference_dynamics(cells: pd.DataFrame, unit: Sequence[str] = (),
                        panel_years: Sequence[int] | None = None) -> pd.DataFrame:
    """Independent implementation of ``firms.dynamics_from_cells``: pandas merges on the text keys of
    (year, firm) and (year, firm, partner, product) against the same frames shifted by one year."""
    unit = list(unit)
    g, fk = ["year", *unit], [*unit, "firm"]
    years = sorted(panel_years if panel_years is not None else cells["year"].unique())
    f = cells.groupby(["year", *fk], observed=True)["value_usd"].sum().rename("x").reset_index()
    m = _ref_transitions(f, fk, years)
    if m.empty:
        raise NoDataError("exporter dynamics need two consecutive years in the selection; panel years: "
                          + ", ".join(map(str, years)))
    x, xp = m["x"].to_numpy(), m["x_prev"].to_numpy()
    m["_now"], m["_before"] = x > 0, xp > 0
    m["_entry"] = np.where(m["_ent"], x, 0.0)
    m["_exitv"] = np.where(m["_exit"], xp, 0.0)
    m["_incd"] = np.where(m["_inc"], x - xp, 0.0)
    out = m.groupby(g, sort=True, observed=True).agg(
        n_exporters=("_now", "sum"), n_exporters_prev=("_before", "sum"), entrants=("_ent", "sum"),
        exiters=("_exit", "sum"), incumbents=("_inc", "sum"), exports=("x", "sum"), exports_prev=("x_prev", "sum"),
        entry=("_entry", "sum"), _exitv=("_exitv", "sum"), incumbents_change=("_incd", "sum")).reset_index()
    if not unit:      # every panel year t with t−1 in the panel gets a row, even with no exporter in both
        valid = [y for y in years if y - 1 in set(years)]
        out = out.set_index("year").reindex(valid, fill_value=0).rename_axis("year").reset_index()
    out["exit"] = -out.pop("_exitv")
    out["change"] = out["exports"] - out["exports_prev"]

    # pairs (partner, product) of incumbent firms
    pk = ["year", *fk, "partner", "product"]
    c = cells.groupby(pk, observed=True)["value_usd"].sum().rename("v").reset_index()
    cp = c.assign(year=c["year"] + 1).rename(columns={"v": "v_prev"})
    pm = c.merge(cp, on=pk, how="outer")
    pm = pm.merge(m.loc[m["_inc"], ["year", *fk]], on=["year", *fk], how="inner")
    v, vp = pm["v"].fillna(0.0).to_numpy(), pm["v_prev"].fillna(0.0).to_numpy()
    pm["new_pairs"] = np.where((v > 0) & (vp <= 0), v, 0.0)
    pm["dropped_pairs"] = np.where((vp > 0) & (v <= 0), -vp, 0.0)
    pm["continuing_pairs"] = np.where((v > 0) & (vp > 0), v - vp, 0.0)
    pairs = pm.groupby(g, observed=True)[["new_pairs", "dropped_pairs", "continuing_pairs"]].sum().reset_index()
    out = out.merge(pairs, on=g, how="left")
    out[["new_pairs", "dropped_pairs", "continuing_pairs"]] = \
        out[["new_pairs", "dropped_pairs", "continuing_pairs"]].fillna(0.0)

    # entrant survival: entrants of t−1 (t−2 in the panel) still exporting in t
    ent_prev = m.loc[m["_ent"], ["year", *fk]].assign(year=lambda d: d["year"] + 1)
    ent_prev = ent_prev[np.isin(ent_prev["year"], np.asarray(years))]
    surv = ent_prev.merge(f[["year", *fk]], on=["year", *fk], how="left", indicator=True)
    surv["_alive"] = (surv.pop("_merge") == "both").to_numpy()
    s = surv.groupby(g, observed=True).agg(_n=("_alive", "size"), _k=("_alive", "sum")).reset_index()
    out = out.merge(s, on=g, how="left")

    with np.errstate(divide="ignore", invalid="ignore"):
        out["entry_rate"] = out["entrants"] / out["n_exporters"].where(out["n_exporters"] > 0)
        out["exit_rate"] = out["exiters"] / out["n_exporters_prev"].where(out["n_exporters_prev"] > 0)
        out["entrant_survival"] = out["_k"] / out["_n"].where(out["_n"] > 0)
        out["entrants_share"] = out["entry"] / out["exports"].where(out["exports"] > 0)
        out["exiters_share"] = -out["exit"] / out["exports_prev"].where(out["exports_prev"] > 0)
    for col in ("n_exporters", "n_exporters_prev", "entrants", "exiters", "incumbents"):
        out[col] = out[col].astype("int64")
    return out[[*g, *firms.DYNAMICS_COLUMNS]].reset_index(drop=True)


# ------------------------------------------------------------------ properties on random panels
@st.composite
def random_cells(draw, max_firms: int = 12):
    """Positive integer cells (exact float sums) of a random firm × year × (partner, product) panel."""
    n_firms = draw(st.integers(1, max_firms))
    n_years = draw(st.integers(2, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    density = draw(st.floats(0.05, 0.9))
    rng = np.random.default_rng(seed)
    firm, year, partner, product = np.meshgrid(np.arange(n_firms), np.arange(n_years), np.arange(3), np.arange(3),
                                               indexing="ij")
    keep = rng.random(firm.size) < density
    cells = pd.DataFrame({
        "year": 2010 + year.ravel()[keep], "firm": np.char.add("f", firm.ravel()[keep].astype(str)),
        "partner": np.array(["TUR", "IRQ", "CHN"])[partner.ravel()[keep]],
        "product": np.array(["570110", "080250", "270900"])[product.ravel()[keep]],
        "value_usd": rng.integers(1, 1000, keep.sum()).astype("float64")})
    if cells.empty:
        cells = pd.DataFrame({"year": [2010], "firm": ["f0"], "partner": ["TUR"], "product": ["570110"],
                              "value_usd": [1.0]})
    return cells, list(range(2010, 2010 + n_years))


@settings(max_examples=60, deadline=None)
@given(random_cells())
def test_dynamics_properties(case):
    """ΔX = entry + exit + incumbents' change exactly (integer values: exact float sums), incumbents' change =
    new + dropped + continuing pairs, n_t = incumbents + entrants, n_{t−1} = incumbents + exiters, rates in
    [0, 1]."""
    cells, years = case
    d = firms.dynamics_from_cells(cells, panel_years=years)
    assert d["year"].tolist() == years[1:]
    assert (d["change"] == d["entry"] + d["exit"] + d["incumbents_change"]).all()
    assert (d["incumbents_change"] == d["new_pairs"] + d["dropped_pairs"] + d["continuing_pairs"]).all()
    assert (d["n_exporters"] == d["incumbents"] + d["entrants"]).all()
    assert (d["n_exporters_prev"] == d["incumbents"] + d["exiters"]).all()
    for col in ("entry_rate", "exit_rate", "entrant_survival", "entrants_share", "exiters_share"):
        v = d[col].dropna()
        assert ((v >= 0) & (v <= 1)).all(), col
    assert (d["entry"] >= 0).all() and (d["exit"] <= 0).all()
    assert (d["new_pairs"] >= 0).all() and (d["dropped_pairs"] <= 0).all()
    # cohorts: k = 1 survival equals the dynamics' entrant survival; survival never rises with k
    try:
        c = firms.cohorts_from_cells(cells, panel_years=years)
    except NoDataError:
        assert d["entrants"].iloc[:-1].sum() == 0 or len(years) < 3
        return
    one = c[c["k"] == 1].set_index("year")["survival_rate"]
    pd.testing.assert_series_equal(one, d.set_index("year").loc[one.index, "entrant_survival"],
                                   check_names=False)
    assert (c.groupby("cohort")["survivors"].diff().dropna() <= 0).all()
    assert (c["year"] <= years[-1]).all() and (c["cohort"] > years[0]).all()


@settings(max_examples=60, deadline=None)
@given(random_cells(max_firms=150))
def test_profile_properties_and_independent_pandas(case):
    """Shares in [0, 1] and top1 ≤ top5 ≤ top25; every column equals a per-year computation with plain
    pandas / NumPy (sorted values, m = ⌈p·n/100⌉ from Python integers)."""
    cells, _years = case
    p = firms.profile_from_cells(cells).set_index("year")
    assert ((p["top1_share"] <= p["top5_share"] + 1e-15) & (p["top5_share"] <= p["top25_share"] + 1e-15)).all()
    assert ((p["top25_share"] <= 1 + 1e-12) & (p["hhi"] <= 1 + 1e-12) & (p["hhi"] > 0)).all()
    for year, grp in cells.groupby("year"):
        x = np.sort(grp.groupby("firm")["value_usd"].sum().to_numpy())[::-1]
        n, X = len(x), x.sum()
        row = p.loc[year]
        assert row["n_exporters"] == n and row["exports"] == X
        assert row["median_exports"] == pytest.approx(np.median(x))
        assert row["mean_exports"] == pytest.approx(X / n)
        assert row["hhi"] == pytest.approx(((x / X) ** 2).sum())
        for pct in (1, 5, 25):
            m = max(1, -(-pct * n // 100))
            assert row[f"top{pct}_share"] == pytest.approx(x[:m].sum() / X)
        per_firm = grp.groupby("firm").agg(np_=("product", "nunique"), nm=("partner", "nunique"))
        assert row["mean_products"] == pytest.approx(per_firm["np_"].mean())
        assert row["mean_markets"] == pytest.approx(per_firm["nm"].mean())
        assert row["single_product_market_share"] == pytest.approx(((per_firm["np_"] == 1) &
                                                                    (per_firm["nm"] == 1)).mean())


def test_top_share_convention_large_n():
    """n = 200 firms with values 1..200: top 1 % = 2 firms (399), top 5 % = 10 (1955), top 25 % = 50 (8775);
    X = 20100."""
    cells = pd.DataFrame({"year": 2020, "firm": [f"f{i}" for i in range(200)], "partner": "TUR",
                          "product": "570110", "value_usd": np.arange(1, 201, dtype="float64")})
    p = firms.profile_from_cells(cells).iloc[0]
    assert (p["top1_share"], p["top5_share"], p["top25_share"]) == approx((399 / 20100, 1955 / 20100, 8775 / 20100))


def test_api_equals_core_on_random_panel():
    """The Ibis path (selection + aggregation of raw monthly rows) equals the core functions on cells."""
    rng = np.random.default_rng(7)
    k = 3000
    raw = pd.DataFrame({"firm": rng.integers(0, 300, k).astype(str), "province": "Tehran",
                        "year": rng.integers(2015, 2021, k), "month": rng.integers(1, 13, k),
                        "partner": rng.choice(["TUR", "IRQ", "CHN", "ARE"], k),
                        "product": rng.choice(["570110", "080250", "270900", "940360"], k),
                        "value_usd": rng.integers(1, 10_000, k).astype("float64"), "flow": "export"})
    df = as_firm_flows(raw.values.tolist())
    cells = raw.groupby(["year", "firm", "partner", "product"], as_index=False)["value_usd"].sum()
    years = sorted(cells["year"].unique())
    got = firms.exporter_profile(df, reporter="IRN").drop(columns="reporter")
    pd.testing.assert_frame_equal(got, firms.profile_from_cells(cells), check_dtype=False)
    got = firms.exporter_dynamics(df, reporter="IRN").drop(columns="reporter")
    pd.testing.assert_frame_equal(got, firms.dynamics_from_cells(cells, panel_years=years), check_dtype=False)


# ------------------------------------------------------------------ PySpark parity
@pytest.mark.spark
@pytest.mark.slow
def test_spark_parity(spark, panel):
    from tradepulse.warehouse.backends import connect

    spark_types = {"SMALLINT": "short", "TINYINT": "short", "VARCHAR": "string", "DOUBLE": "double"}
    ddl = ", ".join(f"{c} {spark_types[t]}" for c, t in schema.FIRM_FLOWS.items())
    rows = panel.astype(object).where(panel.notna(), None).values.tolist()
    spark.createDataFrame(rows, schema=ddl).createOrReplaceTempView("firm_flows_test_firms")
    t = connect("pyspark", session=spark).table("firm_flows_test_firms")
    for fn in (firms.exporter_profile, firms.exporter_dynamics, firms.cohort_survival, firms.top_exporters):
        pd.testing.assert_frame_equal(fn(t, reporter="IRN"), fn(panel, reporter="IRN"), check_dtype=False)
    a = firms.exporter_dynamics(t, reporter="IRN", province="تهران", by="province")
    b = firms.exporter_dynamics(panel, reporter="IRN", province="Tehran", by="province")
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    a = firms.exporter_profile(t, reporter="IRN", level=4, partner="TUR,IRQ", product="57,08", years="2020-2022")
    b = firms.exporter_profile(panel, reporter="IRN", level=4, partner="TUR,IRQ", product="57,08", years="2020-2022")
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    with pytest.raises(UnknownNameError, match="province 'Fars'"):
        firms.cohort_survival(t, reporter="IRN", province="Fars")


# ------------------------------------------------------------------ CLI
@pytest.fixture
def wh_path(tmp_path, panel):
    from tradepulse.warehouse import Warehouse

    path = tmp_path / "wh.duckdb"
    with Warehouse(path) as wh:
        wh.raw.register("src", panel)
        wh.raw.execute("INSERT INTO firm_flows SELECT * FROM src")
    return path


def test_cli(wh_path, tmp_path):
    from typer.testing import CliRunner

    from tradepulse.cli import app
    from tradepulse.warehouse import Warehouse

    runner = CliRunner()
    out = tmp_path / "dyn.csv"
    r = runner.invoke(app, ["indicators", "firms", "dynamics", "-w", str(wh_path), "-r", "IRN", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "Exporters of IRN: dynamics" in r.output and "million USD" in r.output
    with Warehouse(wh_path, read_only=True) as wh:
        want = firms.exporter_dynamics(wh, reporter="IRN")
    pd.testing.assert_frame_equal(pd.read_csv(out), want, check_dtype=False)

    r = runner.invoke(app, ["indicators", "firms", "-w", str(wh_path), "-r", "IRN", "--province", "تهران",
                            "--years", "2019-2020"])
    assert r.exit_code == 0, r.output
    assert "0.00" in r.output and "71.4%" in r.output          # 140 USD = 0.00 M; top share 100/140
    r = runner.invoke(app, ["indicators", "firms", "top", "-w", str(wh_path), "-r", "IRN", "--year", "2021",
                            "--n", "2", "-o", str(tmp_path / "top.xlsx")])
    assert r.exit_code == 0, r.output
    assert pd.read_excel(tmp_path / "top.xlsx")["firm"].tolist() == ["A", "D"]
    r = runner.invoke(app, ["indicators", "firms", "cohorts", "-w", str(wh_path), "-r", "IRN", "--by-province"])
    assert r.exit_code == 0 and "Razavi Khorasan" in r.output, r.output

    r = runner.invoke(app, ["indicators", "firms", "profile", "-w", str(wh_path), "-r", "IRN", "--province", "Fars"])
    assert r.exit_code == 2 and "unknown province 'Fars'" in r.output
    r = runner.invoke(app, ["indicators", "firms", "entry", "-w", str(wh_path)])
    assert r.exit_code == 2 and "unknown firm view 'entry'" in r.output
    empty = tmp_path / "empty.duckdb"
    Warehouse(empty).close()
    r = runner.invoke(app, ["indicators", "firms", "-w", str(empty), "-r", "IRN"])
    assert r.exit_code == 2 and "--target firm_flows" in r.output


def test_warehouse_api_twice_on_one_connection(wh_path, panel):
    """Several calls on one open warehouse (the table check leaves no unfinished DuckDB result behind)."""
    from tradepulse.warehouse import Warehouse

    with Warehouse(wh_path, read_only=True) as wh:
        for fn in (firms.exporter_profile, firms.exporter_dynamics, firms.cohort_survival, firms.top_exporters):
            pd.testing.assert_frame_equal(fn(wh, reporter="IRN"), fn(panel, reporter="IRN"), check_dtype=False)


def test_demo_exporters_through_ingest_match_demo_stats(tmp_path):
    """SYNTHETIC demo exporters loaded with ``ingest_frame(..., target="firm_flows")``: the yearly means of
    top5_share, entry_rate, exit_rate and entrant_survival equal ``demo.firms.firm_stats`` (an independent
    loop-over-years implementation by another module), and exports equal the customs export rows."""
    from tradepulse import ingest
    from tradepulse.demo.firms import firm_stats, generate_firms
    from tradepulse.demo.world import SMALL, generate
    from tradepulse.warehouse import Warehouse

    if not hasattr(ingest, "ingest_frame"):
        pytest.skip("ingest_frame not available")
    world = generate(**SMALL)
    frame = generate_firms(world.customs, focus="IRN", seed=1400)
    stats = firm_stats(frame)
    with Warehouse(tmp_path / "demo.duckdb") as wh:
        ingest.ingest_frame(wh, frame, source="demo", name="firms.csv", target="firm_flows")
        p = firms.exporter_profile(wh, reporter="IRN")
        d = firms.exporter_dynamics(wh, reporter="IRN")
    assert p["top5_share"].mean() == pytest.approx(stats["top5_share"], rel=1e-12)
    assert p["n_exporters"].mean() == pytest.approx(stats["exporters_per_year"], rel=1e-12)
    assert d["entry_rate"].mean() == pytest.approx(stats["entry_rate"], rel=1e-12)
    assert d["exit_rate"].mean() == pytest.approx(stats["exit_rate"], rel=1e-12)
    assert d["entrant_survival"].dropna().mean() == pytest.approx(stats["entrant_survival_1y"], rel=1e-12)
    cust = world.customs[world.customs["flow"] == "export"].groupby("year")["value_usd"].sum()
    np.testing.assert_allclose(p.set_index("year")["exports"], cust.loc[p["year"]], rtol=1e-12)
    assert np.allclose(d["change"], d["entry"] + d["exit"] + d["incumbents_change"], rtol=0, atol=1e-3)


@settings(max_examples=40, deadline=None)
@given(random_cells(max_firms=30), st.booleans())
def test_dynamics_equals_merge_implementation(case, by_province):
    """The integer-code implementation equals a plain pandas-merge implementation (also by province: firms
    are put in two provinces at random, some firm in both)."""
    cells, years = case
    unit = []
    if by_province:
        cells = cells.assign(province=np.where(cells["firm"].str[-1].isin(list("02468")), "Tehran", "Fars"))
        cells.loc[cells.index[::7], "province"] = "Fars"
        unit = ["province"]
    want = reference_dynamics(cells, unit, years)
    got = firms.dynamics_from_cells(cells, unit, years)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
