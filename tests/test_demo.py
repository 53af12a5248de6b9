"""Tests of the SYNTHETIC demo world (tradepulse.demo): determinism, nested structure, focus-country stories,
consistency of world totals with bilateral and provincial rows, validity against the reference tables, and
``build`` into a warehouse through the ingest API."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradepulse import reference
from tradepulse.demo import CUSTOMS_FLOWS, CUSTOMS_HEADERS, FIRM_HEADERS, build, firm_stats, generate, generate_firms
from tradepulse.demo.world import EBOPS, SMALL, SOURCE
from tradepulse.errors import TradepulseError, UnknownNameError
from tradepulse.schema import FLOWS, MACRO, SERVICES, WORLD

NEIGHBOURS = reference.group_members("neighbours15")


@pytest.fixture(scope="module")
def world():
    return generate(**SMALL)


# ---------------------------------------------------------------- helpers (independent implementations)
def nodf(m: np.ndarray) -> float:
    """NODF nestedness (Almeida-Neto et al. 2008, Oikos 117:1227), 0..100, of a 0/1 matrix.

    For each pair of rows i, j with deg_i > deg_j: N_ij = 100·|row_i ∧ row_j| / deg_j, else 0; same for
    columns; NODF = mean of all N over the n(n−1)/2 + m(m−1)/2 pairs.  Hand cases: the upper-triangular
    3×3 matrix [[1,1,1],[1,1,0],[1,0,0]] is perfectly nested → 100; the identity → 0 (equal degrees).
    """
    def half(x):
        deg = x.sum(axis=1)
        ov = x @ x.T
        dec = deg[:, None] > deg[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            n = np.where(dec & (deg[None, :] > 0), 100.0 * ov / deg[None, :], 0.0)
        k = len(deg)
        return n.sum(), k * (k - 1) / 2
    a, na = half(m.astype(float))
    b, nb = half(m.T.astype(float))
    return (a + b) / (na + nb)


def rca_matrix(flows: pd.DataFrame, year: int) -> tuple[np.ndarray, pd.Index, pd.Index]:
    """Binary M_cp = [RCA_cp ≥ 1], RCA = (x_cp / x_c) / (x_p / x), from WLD rows of ``year``."""
    w = flows[(flows.partner == WORLD) & (flows.year == year)]
    x = w.pivot_table(index="reporter", columns="product", values="value_usd", aggfunc="sum", fill_value=0.0)
    v = x.to_numpy()
    rca = (v / v.sum(1, keepdims=True)) / (v.sum(0, keepdims=True) / v.sum())
    return (rca >= 1).astype(int), x.index, x.columns


def test_nodf_hand_cases():
    assert nodf(np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0]])) == pytest.approx(100.0)
    assert nodf(np.eye(4, dtype=int)) == pytest.approx(0.0)
    # [[1,1],[1,0]]: rows: deg 2>1, overlap 1 → 100; cols: deg 2>1, overlap 1 → 100 → 100
    assert nodf(np.array([[1, 1], [1, 0]])) == pytest.approx(100.0)


# ---------------------------------------------------------------- determinism
def test_same_seed_same_world(world):
    again = generate(**SMALL)
    for name in ("flows", "customs", "services", "macro"):
        pd.testing.assert_frame_equal(getattr(world, name), getattr(again, name))
    other = generate(seed=7, **SMALL)
    assert not np.allclose(other.flows["value_usd"].sum(), world.flows["value_usd"].sum(), rtol=1e-9)


# ---------------------------------------------------------------- validity
def test_columns_match_the_schema(world):
    assert list(world.flows.columns) == [c for c in FLOWS if c != "load_id"]
    assert list(world.customs.columns) == [c for c in FLOWS if c != "load_id"]
    assert list(world.services.columns) == [c for c in SERVICES if c != "load_id"]
    assert list(world.macro.columns) == [c for c in MACRO if c != "load_id"]
    assert world.meta["label"] == "SYNTHETIC"
    for name in ("flows", "customs", "services", "macro"):
        assert (getattr(world, name)["source"] == SOURCE).all()


def test_every_row_is_valid_against_reference_tables(world):
    iso = reference.iso3_codes()
    hs4 = set(reference.hs_products("HS1992", 4)["code"])
    for df in (world.flows, world.customs):
        assert df["reporter"].isin(iso).all()
        assert df["partner"].isin(iso | {WORLD}).all()
        assert (df["partner"] != df["reporter"]).all()
        assert df["product"].isin(hs4).all() and (df["product"].str.len() == 4).all()
        assert (df["hs_revision"] == "HS1992").all()
        assert df["flow"].isin(["export", "import"]).all()
        assert np.isfinite(df["value_usd"]).all() and (df["value_usd"] > 0).all()
        assert not df.duplicated(["year", "reporter", "partner", "flow", "product", "province"]).any()
    fl = world.flows
    # national rows only; exports, except partners' imports from the focus country (step 6)
    assert fl["province"].isna().all()
    imp = fl["flow"] == "import"
    assert (fl.loc[~imp, "flow"] == "export").all() and (fl.loc[imp, "partner"] == "IRN").all()
    c = world.customs
    assert c["province"].notna().all() and (c["quantity"] > 0).all() and (c["unit"] == "kg").all()
    s = world.services
    assert s["ebops"].isin(list(EBOPS)).all() and s["partner"].isin(iso).all() and (s["value_usd"] > 0).all()
    m = world.macro
    assert len(m) == 40 * 10 and (m["gdp_usd"] > 0).all() and (m["population"] > 0).all()


def test_sizes_of_small_world(world):
    assert world.flows["reporter"].nunique() == 40
    assert world.flows["product"].nunique() == 150
    assert sorted(world.flows["year"].unique()) == list(range(2014, 2024))
    required = {"IRN", "SYR", *NEIGHBOURS}
    assert required <= set(world.meta["countries"])
    assert {"5701", "5702", "2709", "2710", "2711", "8517", "8708"} <= set(world.meta["products"])


# ---------------------------------------------------------------- consistency
def test_world_totals_equal_bilateral_sums(world):
    f = world.flows
    wld = f[f.partner == WORLD].set_index(["year", "reporter", "product"])["value_usd"]
    bil = f[(f.partner != WORLD) & (f.flow == "export")]
    assert sorted(bil["year"].unique()) == [2021, 2022, 2023]
    sums = bil.groupby(["year", "reporter", "product"])["value_usd"].sum()
    joined = pd.concat([wld[wld.index.get_level_values("year") >= 2021], sums], axis=1,
                       keys=["wld", "bil"])
    assert joined.notna().all().all()  # same keys on both sides
    np.testing.assert_allclose(joined["bil"], joined["wld"], rtol=1e-9)


def test_customs_split_sums_to_national_rows(world):
    """Provincial customs exports summed over provinces = the focus country's bilateral rows (bilateral years)
    and its WLD totals (every year)."""
    f, c = world.flows, world.customs
    cx = c[c.flow == "export"]
    by_partner = cx.groupby(["year", "partner", "product"])["value_usd"].sum()
    nat = f[(f.reporter == "IRN") & (f.partner != WORLD) & (f.flow == "export")] \
        .set_index(["year", "partner", "product"])["value_usd"]
    j = pd.concat([nat, by_partner[by_partner.index.get_level_values("year") >= 2021]], axis=1, keys=["n", "c"])
    assert j.notna().all().all()
    np.testing.assert_allclose(j["c"], j["n"], rtol=1e-9)
    tot = cx.groupby(["year", "product"])["value_usd"].sum()
    wld = f[(f.reporter == "IRN") & (f.partner == WORLD)].set_index(["year", "product"])["value_usd"]
    j = pd.concat([wld, tot], axis=1, keys=["w", "c"])
    assert j.notna().all().all()
    np.testing.assert_allclose(j["c"], j["w"], rtol=1e-9)


def test_customs_imports_are_cif_mirrors_of_partner_exports(world):
    """IRN imports (CIF) vs partners' exports to IRN (FOB) in bilateral years: ratio in [1.03, 1.12]."""
    f, c = world.flows, world.customs
    m = c[(c.flow == "import") & (c.year >= 2021)].groupby(["year", "partner", "product"])["value_usd"].sum()
    x = f[(f.partner == "IRN") & (f.flow == "export")].set_index(["year", "reporter", "product"])["value_usd"]
    x.index.names = m.index.names
    j = pd.concat([m, x], axis=1, keys=["cif", "fob"])
    assert j.notna().all().all()
    ratio = j["cif"] / j["fob"]
    assert ratio.between(1.03 - 1e-9, 1.12 + 1e-9).all()


# ---------------------------------------------------------------- partners' imports and suitcase exports
HANDICRAFTS = reference.product_group_prefixes("handicrafts")
MARKETS = reference.group_members("caspian_and_persian_gulf")


def _imports_vs_exports(world) -> pd.DataFrame:
    """Partners' import rows from IRN (CIF) outer-joined to IRN's export rows (FOB) on year × partner ×
    product, with ``suitcase`` = the cell is a handicraft sold to a Caspian / Persian-Gulf market."""
    f = world.flows
    m = f[(f.flow == "import") & (f.partner == "IRN")].rename(columns={"reporter": "who"})
    x = f[(f.flow == "export") & (f.reporter == "IRN") & (f.partner != WORLD)].rename(columns={"partner": "who"})
    j = m.set_index(["year", "who", "product"])["value_usd"].to_frame("cif").join(
        x.set_index(["year", "who", "product"])["value_usd"].rename("fob"), how="outer").reset_index()
    j["suitcase"] = j["who"].isin(MARKETS) & reference.matches_prefixes(j["product"], HANDICRAFTS)
    return j


def test_partner_imports_exist_only_in_bilateral_years(world):
    """Every partner of IRN reports imports from it in each bilateral year (2021-2023) and in no other
    year; rows are national (province NULL), HS4, labelled SYNTHETIC, reporter = the partner."""
    f = world.flows
    imp = f[f.flow == "import"]
    assert sorted(imp["year"].unique()) == world.meta["bilateral_years"] == [2021, 2022, 2023]
    assert (imp["partner"] == "IRN").all() and (imp["reporter"] != "IRN").all()
    assert imp["province"].isna().all() and (imp["source"] == SOURCE).all() and (imp["product"].str.len() == 4).all()
    x = f[(f.flow == "export") & (f.reporter == "IRN") & (f.partner != WORLD)]
    assert (x.groupby("year")["partner"].agg(set) == imp.groupby("year")["reporter"].agg(set)).all()
    assert len(imp) > 0.9 * len(x)  # one import row per IRN export row (+ the suitcase-only cells)


def test_partner_imports_mirror_focus_exports_times_cif_factor(world):
    """Outside the suitcase cells, partner j's import = IRN's export × φ_jt with one factor per partner ×
    year in [1.06, 1.14] (e.g. IRN → TUR 100 FOB, φ = 1.08 → TUR declares 108 CIF); the factors average
    ≈ 1.10, the CIF/FOB margin the roadmap's mirror assumes; no import row lacks an export row there."""
    j = _imports_vs_exports(world)
    rest = j[~j["suitcase"]]
    assert rest[["cif", "fob"]].notna().all().all()
    ratio = rest["cif"] / rest["fob"]
    assert ratio.between(1.06 - 1e-9, 1.14 + 1e-9).all()
    per = ratio.groupby([rest["year"], rest["who"]])
    assert (per.max() - per.min()).max() < 1e-9      # one factor per partner × year
    assert per.first().mean() == pytest.approx(1.10, abs=0.01) and per.first().std() > 0.015
    known = world.meta["cif_fob_factors"].set_index(["year", "partner"])["factor"]
    np.testing.assert_allclose(per.first(), known.reindex(per.first().index), rtol=1e-9)


def test_suitcase_exports_are_the_partners_surplus(world):
    """In the suitcase cells, s = m/φ − x ≥ 0 with φ taken from the same partner's other rows (independent of
    the generator's bookkeeping); Σs per year = meta informal total, every market gets some, and the
    informal total is 0.85-1.15 × the formal handicraft exports to those markets (formal ≈ informal)."""
    j = _imports_vs_exports(world)
    rest = j[~j["suitcase"]]
    phi = (rest["cif"] / rest["fob"]).groupby([rest["year"], rest["who"]]).median()
    sc = j[j["suitcase"]].fillna({"cif": 0.0, "fob": 0.0})
    sc = sc.join(phi.rename("phi"), on=["year", "who"])
    assert sc["phi"].notna().all() and (sc["cif"] > 0).all()
    sc["s"] = sc["cif"] / sc["phi"] - sc["fob"]
    assert (sc["s"] > -1e-6 * sc["cif"]).all()
    by_year = sc.groupby("year")[["s", "fob"]].sum()
    truth = world.meta["suitcase_by_year"].set_index("year")
    np.testing.assert_allclose(by_year["s"], truth["informal_fob_usd"], rtol=1e-9)
    np.testing.assert_allclose(by_year["fob"], truth["formal_fob_usd"], rtol=1e-9)
    assert (truth["informal_fob_usd"] / truth["formal_fob_usd"]).between(0.85, 1.15).all()
    per_market = sc[sc["s"] > 0].groupby("year")["who"].agg(set)
    assert all(s == set(MARKETS) for s in per_market) and len(per_market) == 3
    detail = world.meta["suitcase_detail"].set_index(["year", "partner", "product"])["informal_fob_usd"]
    got = sc[sc["s"] > 1e-6 * sc["cif"]].set_index(["year", "who", "product"])["s"]
    got.index.names = detail.index.names
    np.testing.assert_allclose(got.sort_index(), detail.sort_index(), rtol=1e-6)


# ---------------------------------------------------------------- structure
def test_matrix_is_nested_and_complexity_is_meaningful(world):
    """M (RCA ≥ 1) is far more nested than a random matrix of the same fill, and diversified countries
    export less ubiquitous products (negative diversity–mean-ubiquity correlation, Hidalgo & Hausmann 2009)."""
    M, countries, _ = rca_matrix(world.flows, 2023)
    M = M[:, M.sum(0) > 0]
    rng = np.random.default_rng(0)
    shuffled = rng.permutation(M.ravel()).reshape(M.shape)
    n_real, n_shuf = nodf(M), nodf(shuffled)
    assert n_real > 1.5 * n_shuf, (n_real, n_shuf)
    div = M.sum(1)
    ubi = M.sum(0)
    mean_ubi = (M @ ubi) / np.maximum(div, 1)
    assert np.corrcoef(div, mean_ubi)[0, 1] < -0.3
    # richer countries are more diversified (capability endowments follow GDP per capita)
    mac = world.macro[world.macro.year == 2023].set_index("iso3").loc[countries]
    gdppc = np.log(mac["gdp_usd"] / mac["population"]).to_numpy()
    rank = lambda a: np.argsort(np.argsort(a))  # noqa: E731
    assert np.corrcoef(rank(div), rank(gdppc))[0, 1] > 0.3


def test_export_relationships_enter_and_exit(world):
    """Spells of positive WLD exports per country × product: many short ones and some spanning all years."""
    w = world.flows[world.flows.partner == WORLD]
    x = w.pivot_table(index=["reporter", "product"], columns="year", values="value_usd", aggfunc="size",
                      fill_value=0).to_numpy() > 0
    pad = np.pad(x, ((0, 0), (1, 1)))
    starts = np.argwhere(np.diff(pad.astype(int), axis=1) == 1)
    ends = np.argwhere(np.diff(pad.astype(int), axis=1) == -1)
    lengths = ends[:, 1] - starts[:, 1]
    assert len(lengths) > 1000
    assert (lengths <= 2).mean() > 0.3
    assert (lengths == x.shape[1]).sum() > 100


def test_bilateral_relationships_persist_like_real_ones(world):
    """Focus-country export relationships (partner × product, customs summed over provinces): about half of
    the spells that start inside the panel last one year (Besedeš & Prusa 2006, J. Int. Econ. 70:339:
    median duration of US import relationships 2-4 years, high first-year hazard), and some last ≥ 8 years."""
    c = world.customs[world.customs.flow == "export"]
    x = c.pivot_table(index=["partner", "product"], columns="year", values="value_usd", aggfunc="size",
                      fill_value=0).to_numpy() > 0
    d = np.diff(np.pad(x, ((0, 0), (1, 1))).astype(int), axis=1)
    s, e = np.argwhere(d == 1), np.argwhere(d == -1)
    lengths, start, end = e[:, 1] - s[:, 1], s[:, 1], e[:, 1]
    inner = (start > 0) & (end < x.shape[1])          # neither left- nor right-censored
    assert 0.35 < (lengths[inner] == 1).mean() < 0.8
    assert (lengths >= 8).sum() > 50


# ---------------------------------------------------------------- focus country
def test_focus_country_stories(world):
    f, c = world.flows, world.customs
    irn = f[(f.reporter == "IRN") & (f.partner == WORLD)]
    tot = irn.groupby("year")["value_usd"].sum()
    oil = irn[irn["product"].isin(["2709", "2710", "2711"])].groupby("year")["value_usd"].sum()
    share = oil / tot
    assert share.between(0.45, 0.7).all(), share
    np.testing.assert_allclose(world.meta["focus_by_year"].set_index("year")["oil_share"], share, rtol=1e-9)
    # 31 provinces with Persian names
    assert c["province"].nunique() == 31
    prov = world.meta["provinces"]
    assert set(c["province"]) == set(prov["name_en"])
    assert prov.set_index("name_en").at["Tehran", "name_fa"] == "تهران"
    assert c.groupby("province")["value_usd"].sum().idxmax() in ("Tehran", "Khuzestan")
    # partners include Syria and all 15 neighbours every year, both ways
    for flow in ("export", "import"):
        per_year = c[c.flow == flow].groupby("year")["partner"].agg(set)
        assert all({"SYR", *NEIGHBOURS} <= s for s in per_year), flow
    # Iran–Syria total trade 0.3–0.6 B; exports to the 15 neighbours 20–30 B
    syr = c[c.partner == "SYR"].groupby("year")["value_usd"].sum()
    assert syr.between(0.3e9, 0.6e9).all(), syr
    nb = c[(c.flow == "export") & c.partner.isin(NEIGHBOURS)].groupby("year")["value_usd"].sum()
    assert nb.between(20e9, 30e9).all(), nb
    # handicrafts (formal exports ≈ $200-300 M): carpets go largely to Caspian and Persian-Gulf markets
    hand = reference.matches_prefixes(c["product"], reference.product_group_prefixes("handicrafts"))
    assert c[hand & (c.flow == "export")].groupby("year")["value_usd"].sum().between(1.5e8, 4.5e8).all()
    carp = c[(c.flow == "export") & c["product"].isin(["5701", "5702"])]
    cpg = reference.group_members("caspian_and_persian_gulf")
    assert carp.loc[carp.partner.isin(cpg), "value_usd"].sum() > 0.3 * carp["value_usd"].sum()
    # telecom + car-part imports fall after the ban year
    ban = world.meta["ban_year"]
    grp = reference.matches_prefixes(c["product"], reference.product_group_prefixes("telecom_equipment")
                                     + reference.product_group_prefixes("car_parts"))
    m = c[grp & (c.flow == "import")].groupby("year")["value_usd"].sum()
    assert m[m.index >= ban].max() < 0.9 * m[ban - 1]
    assert m[m.index > ban].mean() < 0.7 * m[m.index < ban].mean()
    assert 1.5e9 < m[m.index < ban].mean() < 3.5e9


def test_oil_exporters_and_shares_are_plausible(world):
    w = world.flows[world.flows.partner == WORLD]
    total = w.groupby("year")["value_usd"].sum()
    gdp = world.macro.groupby("year")["gdp_usd"].sum()
    np.testing.assert_allclose(total / gdp, 0.22, rtol=0.1)  # world exports ≈ 22 % of GDP (before focus rescaling)
    crude = w[(w["product"] == "2709") & (w.year == 2023)].set_index("reporter")["value_usd"]
    assert {"SAU", "IRQ", "KWT"} & set(crude.nlargest(8).index)


def test_other_focus_country_gets_placeholder_regions_and_its_own_neighbours():
    w = generate(focus="TUR", **SMALL)
    assert w.customs["reporter"].eq("TUR").all() and w.customs["province"].nunique() == 10
    nb = set(w.meta["neighbours"])
    assert {"IRN", "IRQ", "SYR", "ARM", "AZE"} <= nb and "TUR" not in nb and "SAU" not in nb
    ex = w.customs[w.customs.flow == "export"].groupby("year")["partner"].agg(set)
    assert all(nb <= s for s in ex)


def test_bad_arguments_raise_friendly_errors():
    with pytest.raises(UnknownNameError, match="XYZ"):
        generate(focus="XYZ", **SMALL)
    with pytest.raises(TradepulseError, match="too small"):
        generate(n_countries=5, n_products=150, first_year=2014, last_year=2023)
    with pytest.raises(TradepulseError, match="bilateral_years"):
        generate(bilateral_years=0, **SMALL)
    with pytest.raises(TradepulseError, match="before first_year"):
        generate(n_countries=40, n_products=150, first_year=2020, last_year=2019)


def test_edge_sizes():
    """One year with every year bilateral; the minimum country set; more products than HS4 has → all."""
    w = generate(n_countries=17, n_products=60, first_year=2020, last_year=2020, bilateral_years=5)
    assert w.meta["bilateral_years"] == [2020] and len(w.meta["countries"]) == 17
    assert (w.flows["partner"] != WORLD).any() and w.flows["year"].eq(2020).all()
    assert (w.flows["flow"] == "import").any() and w.meta["suitcase_by_year"]["year"].tolist() == [2020]
    n_hs4 = reference.hs_products("HS1992", 4)["code"].str.isdigit().sum() - 1  # all but 9999
    w = generate(n_countries=17, n_products=5000, first_year=2022, last_year=2023)
    assert len(w.meta["products"]) == n_hs4


# ---------------------------------------------------------------- build into a warehouse
@dataclass
class _StandInResult:
    load_id: str
    file: str
    rows_loaded: int
    rows_quarantined: int
    value_usd_loaded: float
    skipped: bool = False

    def to_dict(self):
        return asdict(self)


@pytest.fixture
def ingest_api(monkeypatch):
    """The real ingest API when it exists; otherwise a minimal stand-in (agreed signature) for this test."""
    import tradepulse.ingest as ingest
    if hasattr(ingest, "ingest_frame"):
        return ingest
    from tradepulse.warehouse import TABLES

    def ingest_frame(warehouse, frame, *, source, name, target="flows"):
        df = frame.copy()
        df["source"] = source
        df["load_id"] = f"standin-{name}"
        df = df[list(TABLES[target])]
        warehouse.raw.register("_standin", df)
        warehouse.raw.execute(f'INSERT INTO "{target}" SELECT * FROM _standin')
        warehouse.raw.unregister("_standin")
        return _StandInResult(df["load_id"].iat[0], name, len(df), 0, float(df["value_usd"].sum())
                              if "value_usd" in df else 0.0)
    monkeypatch.setattr(ingest, "ingest_frame", ingest_frame, raising=False)
    return ingest


def test_build_small_world_into_warehouse(tmp_path, ingest_api, world):
    from tradepulse.warehouse import Warehouse
    steps = []
    summary = build(tmp_path / "demo", small=True, progress=lambda s, f: steps.append(f))
    assert steps == sorted(steps) and steps[-1] == 1.0
    assert summary["label"] == "SYNTHETIC" and summary["rows_quarantined"] == 0
    if "customs" in getattr(ingest_api, "FORMATS", ()):
        assert summary["customs_loader"] == "customs reader"  # the Persian CSV went through the real reader
    assert json.loads((tmp_path / "demo" / "demo_summary.json").read_text())["rows"] == summary["rows"]
    with Warehouse(tmp_path / "demo" / "warehouse.duckdb", read_only=True) as wh:
        got = wh.raw.execute("""SELECT province IS NULL AS national, count(*), sum(value_usd) FROM flows
                                GROUP BY 1 ORDER BY 1""").fetchall()
        services = wh.raw.execute("SELECT count(*), sum(value_usd) FROM services").fetchone()
        macro = wh.raw.execute("SELECT count(*), sum(gdp_usd) FROM macro").fetchone()
        provinces = wh.raw.execute("SELECT count(DISTINCT province) FROM flows").fetchone()[0]
        sources = {r[0] for r in wh.raw.execute("SELECT DISTINCT source FROM flows").fetchall()}
        load_files = [r[0] for r in wh.raw.execute("SELECT file FROM loads").fetchall()]
        by_partner = wh.raw.execute("""SELECT year, flow, partner, sum(value_usd) FROM flows
                                       WHERE province IS NOT NULL GROUP BY ALL""").df()
        firm_sums = wh.raw.execute("""SELECT year, province, partner, product, sum(value_usd) AS v,
                                      count(*) AS n FROM firm_flows GROUP BY ALL""").df()
        firm_meta = wh.raw.execute("""SELECT count(*), count(DISTINCT firm), bool_and(regexp_full_match(firm,
                                      'IR-SYN-[0-9]{6}')), bool_and(flow = 'export' AND reporter = 'IRN'
                                      AND month IS NULL AND source = 'demo-synthetic') FROM firm_flows""").fetchone()
    (_, n_prov, v_prov), (_, n_nat, v_nat) = got
    assert (n_nat, n_prov) == (len(world.flows), len(world.customs))
    assert v_nat == pytest.approx(world.flows["value_usd"].sum(), rel=1e-9)
    assert v_prov == pytest.approx(world.customs["value_usd"].sum(), rel=1e-9)
    assert services == (len(world.services), pytest.approx(world.services["value_usd"].sum(), rel=1e-9))
    assert macro == (len(world.macro), pytest.approx(world.macro["gdp_usd"].sum(), rel=1e-9))
    assert provinces == 31 and sources == {SOURCE} and len(load_files) == 5
    assert all(Path(f).name.startswith("SYNTHETIC") for f in load_files)
    assert (tmp_path / "demo" / "README-SYNTHETIC.txt").read_text().startswith("SYNTHETIC DATA")
    # customs partners (written as Persian country names) map back to the same ISO3 codes and values
    want = world.customs.groupby(["year", "flow", "partner"])["value_usd"].sum()
    got = by_partner.set_index(["year", "flow", "partner"]).iloc[:, 0].reindex(want.index)
    np.testing.assert_allclose(got, want, rtol=1e-9)
    # SYNTHETIC exporters: loaded from the Persian firm CSV through the customs reader; they sum to the
    # customs export rows per (year, province, partner, product), key for key
    assert firm_meta == (summary["rows"]["firm_flows"], summary["firms"]["firms"], True, True)
    exports = world.customs[world.customs.flow == "export"].set_index(["year", "province", "partner", "product"])
    fs = firm_sums.set_index(["year", "province", "partner", "product"]).reindex(exports.index)
    assert len(firm_sums) == len(exports) and fs["v"].notna().all()
    np.testing.assert_allclose(fs["v"], exports["value_usd"], rtol=1e-12)
    assert (fs["n"] >= 1).all() and fs["n"].max() > 1
    assert list(pd.read_csv(summary["firms_csv"], nrows=1).columns) == list(FIRM_HEADERS)
    # the customs CSV has Persian headers and round-trips to the customs frame
    csv = pd.read_csv(summary["customs_csv"], dtype={"کد تعرفه": str})
    assert list(csv.columns) == list(CUSTOMS_HEADERS)
    back = csv.rename(columns=CUSTOMS_HEADERS)
    back["flow"] = back["flow"].map(CUSTOMS_FLOWS)
    np.testing.assert_allclose(back["value_usd"], world.customs["value_usd"], rtol=1e-12)
    assert (back["flow"] == world.customs["flow"]).all() and (back["product"] == world.customs["product"]).all()


def test_cli_demo_small_json(tmp_path, ingest_api):
    from typer.testing import CliRunner

    from tradepulse.cli import app
    res = CliRunner().invoke(app, ["demo", "--small", "--out", str(tmp_path / "d"), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output[res.output.index("{"):])
    assert out["label"] == "SYNTHETIC" and out["countries"] == 40 and out["products"] == 150
    assert out["refresh"]["summaries"] >= 15          # the dashboard's summaries, computed at the end
    res = CliRunner().invoke(app, ["demo", "--small", "--out", str(tmp_path / "d"), "--no-refresh"])
    assert res.exit_code == 0 and "SYNTHETIC" in res.output and "What to do next" in res.output
    (tmp_path / "file").write_text("x")
    res = CliRunner().invoke(app, ["demo", "--small", "--out", str(tmp_path / "file")])
    assert res.exit_code == 2 and "not a directory" in res.output


@pytest.fixture(scope="module")
def full_world():
    """The full-size world (default arguments), generated once for the tests that read it."""
    return generate()


@pytest.mark.slow
def test_full_size_world(full_world):
    """Default arguments: ≈200 countries × ≈1,200 HS4 × 14 years, ≤ 4 M rows in total."""
    w = full_world
    assert w.flows["reporter"].nunique() == 200 and w.flows["product"].nunique() == 1200
    assert w.flows["year"].nunique() == 14
    total = len(w.flows) + len(w.customs) + len(w.services) + len(w.macro)
    assert 1_500_000 < total <= 4_000_000
    fb = w.meta["focus_by_year"]
    assert fb["oil_share"].between(0.45, 0.7).all()
    assert fb["exports_neighbours_usd"].between(20e9, 30e9).all()


def test_next_steps_only_name_existing_commands():
    from tradepulse.cli.demo import next_steps
    s = {"warehouse": "/w/warehouse.duckdb", "out_dir": "/w", "customs_csv": "/w/c.csv"}
    steps = next_steps(s, commands={"serve", "info"})
    cmds = [c for c, _ in steps]
    assert cmds[0] == "export TRADEPULSE_WAREHOUSE=/w/warehouse.duckdb"
    assert cmds[1] == "tradepulse info"
    assert cmds[2].startswith("tradepulse serve --warehouse /w/warehouse.duckdb")
    assert len(cmds) == 3


@pytest.mark.slow
def test_full_world_eci_follows_income(full_world):
    """On the full world, ECI (computed by tradepulse.indicators.complexity) rises with GDP per capita
    (Spearman > 0.4) — the capability model makes complexity informative, as in real data."""
    cx = pytest.importorskip("tradepulse.indicators.complexity")
    w = full_world
    f = w.flows[(w.flows.partner == WORLD) & (w.flows.year == 2023)]
    df = f.rename(columns={"reporter": "exporter", "value_usd": "export_value"})
    res = cx.complexity(df[["year", "exporter", "product", "export_value"]], year="year")
    eci = res.drop_duplicates("exporter").set_index("exporter")["eci"]
    mac = w.macro[w.macro.year == 2023].set_index("iso3")
    gdppc = np.log(mac["gdp_usd"] / mac["population"]).reindex(eci.index)
    assert eci.corr(gdppc, method="spearman") > 0.4


@pytest.mark.parametrize("seed", [2, 99, 2024])
def test_focus_bands_hold_for_other_seeds(seed):
    """The focus-country stories are targets of the model, not luck of seed 1400."""
    w = generate(seed=seed, **SMALL)
    fb = w.meta["focus_by_year"].set_index("year")
    assert fb["oil_share"].between(0.45, 0.72).all()
    assert fb["exports_neighbours_usd"].between(20e9, 30e9).all()
    syr = w.customs[w.customs.partner == "SYR"].groupby("year")["value_usd"].sum()
    assert syr.between(0.3e9, 0.6e9).all()
    np.testing.assert_allclose(fb["exports_syria_usd"] + fb["imports_syria_cif_usd"], syr, rtol=1e-9)
    sb = w.meta["suitcase_by_year"]
    assert (sb["informal_fob_usd"] / sb["formal_fob_usd"]).between(0.85, 1.15).all()
    assert w.meta["cif_fob_factors"]["factor"].between(1.06, 1.14).all()


def test_without_wdi_cache_sizes_are_synthetic(monkeypatch):
    """No WDI cache → log-normal GDP and population; the world still has the agreed shape."""
    from tradepulse.demo import world as world_mod
    monkeypatch.setattr(world_mod, "_wdi", lambda: pd.DataFrame(columns=["iso3", "year", "gdp", "population"]))
    w = generate(**SMALL)
    assert len(w.meta["countries"]) == 40 and {"IRN", "SYR"} <= set(w.meta["countries"])
    assert (w.macro["gdp_usd"] > 0).all() and (w.macro["population"] > 0).all()
    assert w.meta["focus_by_year"]["exports_neighbours_usd"].between(20e9, 30e9).all()


# ---------------------------------------------------------------- SYNTHETIC exporters (firm_flows)
@pytest.fixture(scope="module")
def firms(world):
    return generate_firms(world.customs, focus="IRN", seed=1400)


def test_firm_rows_sum_exactly_to_customs_exports(world, firms):
    """Σ over firms of value (and weight) = the customs export row of the same (year, province, partner,
    product): the firm with the largest share of a cell takes the remainder, so only the last bit may differ."""
    from tradepulse.schema import FIRM_FLOWS
    assert list(firms.columns) == [c for c in FIRM_FLOWS if c != "load_id"]
    key = ["year", "province", "partner", "product"]
    x = world.customs[world.customs.flow == "export"].set_index(key)
    s = firms.groupby(key)[["value_usd", "quantity"]].sum().reindex(x.index)
    assert len(s) == len(x) and s["value_usd"].notna().all()
    np.testing.assert_allclose(s["value_usd"], x["value_usd"], rtol=1e-14)
    np.testing.assert_allclose(s["quantity"], x["quantity"], rtol=1e-12)
    assert (firms["value_usd"] > 0).all() and not firms.duplicated(key + ["firm"]).any()
    assert firms["firm"].str.fullmatch(r"IR-SYN-\d{6}").all()
    assert (firms.groupby("firm")["province"].nunique() == 1).all()  # a firm belongs to one province
    pd.testing.assert_frame_equal(firms, generate_firms(world.customs, focus="IRN", seed=1400))
    other = generate_firms(world.customs, focus="IRN", seed=7)
    assert len(other) != len(firms) or not np.allclose(other["value_usd"], firms["value_usd"])


def test_firm_structure_is_realistic(firms):
    """Ranges (World Bank Exporter Dynamics Database; Cebeci, Fernandes, Freund & Pierola 2012, WB PRWP 6229;
    Fernandes, Freund & Pierola 2016, J. Dev. Econ. 119): the top 5 % of exporters ship 70-90 % of a year's
    exports (country averages mostly in that band); yearly entry rate (entrants ÷ exporters of t) and exit
    rate (exporters of t−1 gone in t ÷ exporters of t−1) of 15-50 % (developing-country averages ≈ 25-45 %);
    about half of the entrants survive their first year (30-70 % here); entrants and exiters each ship under
    12 % of the value (EDD: a few per cent, entrants being small).  Large firms persist: the top 5 %
    exit at under a third of the overall rate.  Small firms sell few products and markets.
    Computed here from a firm × year presence matrix (independent of ``firm_stats``, which must agree)."""
    tot = firms.groupby(["firm", "year"])["value_usd"].sum().unstack(fill_value=0.0)
    v = tot.to_numpy()
    present = v > 0
    # top-5 % share per year: sort each year's column descending
    n = present.sum(axis=0)
    srt = -np.sort(-v, axis=0)
    k = np.ceil(0.05 * n).astype(int)
    top5 = np.array([srt[:k[j], j].sum() for j in range(v.shape[1])]) / v.sum(axis=0)
    assert 0.70 <= top5.mean() <= 0.90 and (top5 > 0.6).all()
    prev, cur = present[:, :-1], present[:, 1:]
    entry = (cur & ~prev).sum(axis=0) / cur.sum(axis=0)
    exit_ = (prev & ~cur).sum(axis=0) / prev.sum(axis=0)
    assert 0.15 <= entry.mean() <= 0.5 and 0.15 <= exit_.mean() <= 0.5
    new = present[:, 1:-1] & ~present[:, :-2]
    survival = (new & present[:, 2:]).sum(axis=0) / new.sum(axis=0)
    assert 0.3 <= survival.mean() <= 0.7
    st = firm_stats(firms)
    assert st["top5_share"] == pytest.approx(top5.mean()) and st["entry_rate"] == pytest.approx(entry.mean())
    assert st["exit_rate"] == pytest.approx(exit_.mean())
    assert st["entrant_survival_1y"] == pytest.approx(survival.mean())
    # entrants start small and exiters fade (EDD: both ship a small share of a year's exports)
    assert ((v[:, 1:] * (cur & ~prev)).sum(axis=0) / v[:, 1:].sum(axis=0)).mean() < 0.12
    assert ((v[:, :-1] * (prev & ~cur)).sum(axis=0) / v[:, :-1].sum(axis=0)).mean() < 0.12
    big = v.sum(axis=1) >= np.quantile(v.sum(axis=1), 0.95)
    exit_big = (prev[big] & ~cur[big]).sum() / prev[big].sum()
    assert exit_big < exit_.mean() / 3
    per = firms.groupby(["firm", "year"]).agg(products=("product", "nunique"), markets=("partner", "nunique"))
    assert per["products"].median() <= 2 and per["markets"].median() <= 3
    size = tot.sum(axis=1).reindex(per.index.get_level_values(0)).to_numpy()
    assert per["products"][size >= np.quantile(size, 0.95)].mean() > per["products"].mean()


def test_firms_for_an_empty_or_import_only_customs_frame(world):
    imports = world.customs[world.customs.flow == "import"]
    out = generate_firms(imports, focus="IRN")
    assert out.empty and "firm" in out.columns
