"""Complexity engine: hand-computed cases, the Stata ground truth, an independent textbook implementation,
bad input, PRODY/EXPY, panels, opportunities, the warehouse path and the CLI."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from tradepulse.errors import InputError, NoDataError, UnknownNameError
from tradepulse.indicators.complexity import (OUTPUT_COLUMNS, STRATEGIES, complexity, opportunities,
                                              proximity, warehouse_exports)

R15 = math.sqrt(1.5)

# a disconnected country-product network (non-unique ECI) must not slip into a test silently
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def _frame(x: np.ndarray, year: int = 2020) -> pd.DataFrame:
    c, p = np.nonzero(x >= 0)
    return pd.DataFrame({"year": year, "exporter": [f"C{i:02d}" for i in c],
                         "product": [f"P{j:02d}" for j in p],
                         "export_value": x[c, p].astype(float)})


def _mat(res: pd.DataFrame, col: str) -> np.ndarray:
    return res.pivot(index="exporter", columns="product", values=col).to_numpy()


# The triangle: X = [[1,1,1],[1,1,0],[1,0,0]] (countries C0..C2 × products P0..P2), X = 6.
# RCA_cp = x_cp·X/(X_c·X_p) = 6/(X_c X_p): C0: 2/3, 1, 2; C1: 1, 3/2, 0; C2: 2, 0, 0.
# threshold 0.6 → M = X (nested); k_c = (3,2,1), k_p = (3,2,1).
# M̃cc = D_c⁻¹ M D_p⁻¹ Mᵀ has eigenvalues 1, 1/4, 1/9 (trace 49/36, det 1/36); for 1/4 the eigenvector is
# (2,-1,-4) → z-score (ddof 0): ECI = (√1.5, 0, -√1.5).  kp = D_p⁻¹ Mᵀ kc = (-1, 1/2, 2), kc = D_c⁻¹M kp =
# (1/2, -1/4, -1): mean -1/4, sd 0.75·√(2/3) → PCI = (kp - mean)/sd = (-√1.5, √1.5, 3√1.5).
# Proximity φ = C/max(k_p,k_p'): φ01 = 2/3, φ02 = 1/3, φ12 = 1/2.
TRI = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0]], dtype=float)


def test_hand_computed_triangle_rca_m_eci_pci():
    res = complexity(_frame(TRI), threshold=0.6)
    assert list(res.columns) == OUTPUT_COLUMNS
    np.testing.assert_allclose(_mat(res, "rca"), [[2 / 3, 1, 2], [1, 1.5, 0], [2, 0, 0]], rtol=1e-15)
    assert (_mat(res, "m") == TRI).all()
    assert res.groupby("exporter", observed=True)["diversity"].first().tolist() == [3, 2, 1]
    assert res.groupby("product", observed=True)["ubiquity"].first().tolist() == [3, 2, 1]
    np.testing.assert_allclose(res.groupby("exporter", observed=True)["eci"].first(), [R15, 0, -R15], atol=1e-12)
    np.testing.assert_allclose(res.groupby("product", observed=True)["pci"].first(), [-R15, R15, 3 * R15],
                               atol=1e-12)
    # default threshold 1 (inclusive): RCA 2/3 of C0-P0 drops out, the RCA = 1 cells stay
    res1 = complexity(_frame(TRI))
    assert (_mat(res1, "m") == [[0, 1, 1], [1, 1, 0], [1, 0, 0]]).all()


def test_hand_computed_density_and_cog_both_diagonals():
    """C2 has M = (1,0,0).  Diagonal 0 (Stata): density(C2,P1) = φ01/(φ01+φ21) = (2/3)/(7/6) = 4/7,
    density(C2,P2) = φ02/(φ02+φ12) = (1/3)/(5/6) = 2/5.  Diagonal 1 (py-ecomplexity): 4/13 and 2/11.
    COG (ecomplexity form, diagonal 0): kp/sd = √1.5·(-4/3, 2/3, 8/3), den = (1, 7/6, 5/6):
    COG(C2,P1) = φ21·(8/3)√1.5/(5/6) = 8/5·√1.5, COG(C2,P2) = φ12·(2/3)√1.5/(7/6) = 2/7·√1.5."""
    r0 = complexity(_frame(TRI), threshold=0.6, diagonal=0)
    d0 = _mat(r0, "density")
    np.testing.assert_allclose(d0[2, 1:], [4 / 7, 2 / 5], rtol=1e-14)
    np.testing.assert_allclose(_mat(r0, "cog")[2], [0, 8 / 5 * R15, 2 / 7 * R15], rtol=1e-13, atol=1e-15)
    r1 = complexity(_frame(TRI), threshold=0.6)
    np.testing.assert_allclose(_mat(r1, "density")[2, 1:], [4 / 13, 2 / 11], rtol=1e-14)
    # ECI/PCI do not depend on the proximity diagonal
    np.testing.assert_allclose(r0["eci"], r1["eci"], atol=1e-13)


def test_proximity_long_form_hand_values():
    p = proximity(_frame(TRI), threshold=0.6)
    assert list(p.columns) == ["year", "product_1", "product_2", "proximity"]
    assert len(p) == 9
    mat = p.pivot(index="product_1", columns="product_2", values="proximity").to_numpy()
    np.testing.assert_allclose(mat, [[1, 2 / 3, 1 / 3], [2 / 3, 1, 1 / 2], [1 / 3, 1 / 2, 1]], rtol=1e-15)
    p0 = proximity(_frame(TRI), threshold=0.6, convention="stata", include_diagonal=False, min_proximity=0.4)
    assert sorted(zip(p0.product_1.astype(str), p0.product_2.astype(str))) == [
        ("P00", "P01"), ("P01", "P00"), ("P01", "P02"), ("P02", "P01")]


# ------------------------------------------------------------------ Stata ground truth
@pytest.fixture(scope="module")
def stata(shared_data):
    return pd.read_csv(shared_data / "ecomplexity_fixtures" / "stata_ground_truth.csv", dtype={"hs92": str})


def _merge_stata(stata, res):
    res = res.assign(exporter=res["exporter"].astype(str), product=res["product"].astype(str))
    m = stata.merge(res, left_on=["year", "origin", "hs92"], right_on=["year", "exporter", "product"],
                    suffixes=("_stata", ""))
    assert len(m) == len(stata) == 600
    return m


def test_stata_ground_truth_exact_with_stata_convention(stata):
    """Input = the ground truth's own export_val (Stata read it as float32).  With convention="stata"
    (proximity diagonal 0; sd of Stata's ``summarize`` = ddof 1 over the 300 country×product rows of a
    year) every column agrees: rca to CSV precision, M/diversity/ubiquity exactly, the rest to 1e-9."""
    res = complexity(stata, exporter="origin", product="hs92", value="export_val", year="year",
                     convention="stata")
    m = _merge_stata(stata, res)
    np.testing.assert_allclose(m["rca"], m["rca_stata"], rtol=1e-7)
    assert (m["m"] == m["M"]).all()
    assert (m["diversity"] == m["diversity_stata"]).all() and (m["ubiquity"] == m["ubiquity_stata"]).all()
    for col in ("density", "eci", "pci", "coi", "cog"):
        np.testing.assert_allclose(m[col], m[f"{col}_stata"], atol=1e-9, err_msg=col)


def test_stata_differs_from_textbook_only_by_sd_ddof(stata):
    """The default (py-ecomplexity, textbook z-score ddof 0 over countries) ECI differs from Stata's by
    the factor √((N-1)/N), N = 10 countries × 30 products = 300 rows: gap up to ~3.6e-3 (PROVENANCE)."""
    py = _merge_stata(stata, complexity(stata, exporter="origin", product="hs92", value="export_val",
                                        year="year"))
    gap = (py["eci"] - py["eci_stata"]).abs().max()
    assert 1e-3 < gap < 1e-2
    np.testing.assert_allclose(py["eci"] * math.sqrt(299 / 300), py["eci_stata"], atol=1e-12)
    np.testing.assert_allclose(py["pci"] * math.sqrt(299 / 300), py["pci_stata"], atol=1e-12)
    # density with diagonal 0 equals Stata's whatever the convention
    d0 = _merge_stata(stata, complexity(stata, exporter="origin", product="hs92", value="export_val",
                                        year="year", diagonal=0))
    np.testing.assert_allclose(d0["density"], d0["density_stata"], atol=1e-9)
    assert (py["density"] - py["density_stata"]).abs().max() > 0.01   # the diagonal-1 convention


# ------------------------------------------------------------------ independent textbook implementation
def _textbook(x: np.ndarray, diag: float):
    """Plain transcription of the definitions with Python loops and a general (non-symmetric) eigen
    solver on the product matrix — independent of the production code path."""
    n_c, n_p = x.shape
    rca = np.zeros_like(x)
    tot = x.sum()
    for c in range(n_c):
        for p in range(n_p):
            rca[c, p] = (x[c, p] / x[c].sum()) / (x[:, p].sum() / tot)
    m = (rca >= 1).astype(float)
    kc, kp = m.sum(1), m.sum(0)
    mpp = np.zeros((n_p, n_p))
    for p in range(n_p):
        for q in range(n_p):
            mpp[p, q] = sum(m[c, p] * m[c, q] / (kc[c] * kp[p]) for c in range(n_c))
    vals, vecs = np.linalg.eig(mpp)
    vp = np.real(vecs[:, np.argsort(np.real(vals))[-2]])
    vc = np.array([sum(m[c, p] * vp[p] for p in range(n_p)) / kc[c] for c in range(n_c)])
    if np.corrcoef(kc, vc)[0, 1] < 0:
        vc, vp = -vc, -vp
    eci = (vc - vc.mean()) / vc.std()
    pci = (vp - vc.mean()) / vc.std()
    phi = np.zeros((n_p, n_p))
    for p in range(n_p):
        for q in range(n_p):
            both = sum(m[c, p] * m[c, q] for c in range(n_c))
            phi[p, q] = diag if p == q else both / max(kp[p], kp[q])
    dens = np.zeros_like(x)
    for c in range(n_c):
        for p in range(n_p):
            dens[c, p] = sum(m[c, q] * phi[p, q] for q in range(n_p)) / phi[p].sum()
    return rca, m, eci, pci, dens


def test_matches_independent_textbook_implementation():
    rng = np.random.default_rng(7)
    x = rng.lognormal(3, 2, size=(12, 25)) * (rng.random((12, 25)) < 0.7)
    res = complexity(_frame(x))
    rca, m, eci, pci, dens = _textbook(x, 1.0)
    np.testing.assert_allclose(_mat(res, "rca"), rca, rtol=1e-12)
    assert (_mat(res, "m") == m).all()
    np.testing.assert_allclose(res.groupby("exporter", observed=True)["eci"].first(), eci, atol=1e-9)
    np.testing.assert_allclose(res.groupby("product", observed=True)["pci"].first(), pci, atol=1e-9)
    np.testing.assert_allclose(_mat(res, "density"), dens, atol=1e-12)
    # property: ECI is the mean PCI of the country's products
    mm, p = _mat(res, "m"), res.groupby("product", observed=True)["pci"].first().to_numpy()
    np.testing.assert_allclose((mm @ p) / mm.sum(1), eci, atol=1e-9)


def test_product_side_solver_when_more_countries_than_products():
    rng = np.random.default_rng(3)
    x = rng.lognormal(2, 1.5, size=(30, 8)) * (rng.random((30, 8)) < 0.8)
    res = complexity(_frame(x))
    _, _, eci, pci, _ = _textbook(x, 1.0)
    np.testing.assert_allclose(res.groupby("exporter", observed=True)["eci"].first(), eci, atol=1e-9)
    np.testing.assert_allclose(res.groupby("product", observed=True)["pci"].first(), pci, atol=1e-9)


def test_atlas_form_of_coi_cog():
    """Atlas (2014, Box 5.4): COI_c = Σ_p ω_cp(1-M_cp)PCI_p;
    COG_cp = Σ_p' (1-M_cp') PCI_p' φ_pp'/Σ_p'' φ_p''p' - ω_cp PCI_p (reported where M_cp = 0)."""
    rng = np.random.default_rng(11)
    x = rng.lognormal(3, 2, size=(10, 14)) * (rng.random((10, 14)) < 0.75)
    res = complexity(_frame(x), cog_form="atlas")
    m, dens = _mat(res, "m"), _mat(res, "density")
    pci = res.groupby("product", observed=True)["pci"].first().to_numpy()
    phi = proximity(_frame(x)).pivot(index="product_1", columns="product_2", values="proximity").to_numpy()
    coi = ((1 - m) * dens) @ pci
    cog = (1 - m) * (((1 - m) * pci) @ (phi / phi.sum(0)[:, None]) - dens * pci)
    np.testing.assert_allclose(res.groupby("exporter", observed=True)["coi"].first(), coi, atol=1e-12)
    np.testing.assert_allclose(_mat(res, "cog"), cog, atol=1e-12)


def test_asymmetric_proximity_matches_dense_py_ecomplexity_formulas():
    """py-ecomplexity ``asymmetric=True``: φ[p, p'] = C_pp'/k_p; density = M φᵀ / rowsum(φ);
    COG = (1-M) ∘ ((1-M) (φ ∘ (kp_raw / rowsum(φ))[:, None])) / sd — evaluated densely here."""
    rng = np.random.default_rng(11)
    x = rng.lognormal(3, 2, size=(10, 14)) * (rng.random((10, 14)) < 0.75)
    for diag in (1.0, 0.0):
        res = complexity(_frame(x), asymmetric=True, diagonal=diag)
        m = _mat(res, "m").astype(float)
        kp = m.sum(0)
        phi = (m.T @ m) / kp[:, None]
        np.fill_diagonal(phi, diag)
        dens = m @ (phi.T / phi.sum(1)[None, :])
        np.testing.assert_allclose(_mat(res, "density"), dens, atol=1e-12)
        p = proximity(_frame(x), asymmetric=True, diagonal=diag)
        np.testing.assert_allclose(p.pivot(index="product_1", columns="product_2", values="proximity"), phi,
                                   atol=1e-15)
        sym = complexity(_frame(x), diagonal=diag)
        pd.testing.assert_series_equal(res["pci"], sym["pci"])      # ECI/PCI do not depend on φ
        # raw product eigenvector as py-ecomplexity gets it (general eig of the product matrix)
        kc = m.sum(1)
        vals, vecs = np.linalg.eig((m / kp).T @ (m / kc[:, None]))
        vp = np.real(vecs[:, np.argsort(np.real(vals))[-2]])
        vc = (m / kc[:, None]) @ vp
        if np.corrcoef(kc, vc)[0, 1] < 0:
            vc, vp = -vc, -vp
        cog = (1 - m) * ((1 - m) @ (phi * (vp / phi.sum(1))[:, None])) / vc.std()
        np.testing.assert_allclose(_mat(res, "cog"), cog, atol=1e-12)


def test_continuous_proximity_is_rca_correlation():
    rng = np.random.default_rng(5)
    x = rng.lognormal(3, 2, size=(9, 6))
    p = proximity(_frame(x), continuous=True)
    rca = _mat(complexity(_frame(x)), "rca")
    want = (1 + np.corrcoef(rca.T)) / 2
    np.testing.assert_allclose(p.pivot(index="product_1", columns="product_2", values="proximity"),
                               want, atol=1e-12)


# ------------------------------------------------------------------ PRODY / EXPY
def test_prody_expy_hand_computed():
    """X = [[3,1],[1,3]], GDPpc = (10, 30).  Shares s = [[.75,.25],[.25,.75]].
    PRODY_0 = (.75·10 + .25·30)/1 = 15, PRODY_1 = (.25·10 + .75·30)/1 = 25;
    EXPY = (.75·15 + .25·25, .25·15 + .75·25) = (17.5, 22.5)."""
    x = np.array([[3.0, 1.0], [1.0, 3.0]])
    gdp = pd.DataFrame({"iso3": ["C00", "C01"], "gdp_pc": [10.0, 30.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # 2×2 network is disconnected: ECI not unique
        res = complexity(_frame(x), gdp_pc=gdp)
    assert res.groupby("product", observed=True)["prody"].first().tolist() == pytest.approx([15, 25])
    assert res.groupby("exporter", observed=True)["expy"].first().tolist() == pytest.approx([17.5, 22.5])


# ------------------------------------------------------------------ panels, rolling, filters
def test_panel_equals_years_computed_separately_and_rolling_average():
    rng = np.random.default_rng(2)
    xa = rng.lognormal(3, 2, size=(12, 20))
    xb = rng.lognormal(3, 2, size=(12, 20))
    panel = pd.concat([_frame(xa, 2001), _frame(xb, 2002)])
    res = complexity(panel)
    for y, x in ((2001, xa), (2002, xb)):
        one = complexity(_frame(x, y))
        got = res[res.year == y].reset_index(drop=True)
        np.testing.assert_allclose(got["eci"], one["eci"], atol=1e-12)
        np.testing.assert_allclose(got["cog"], one["cog"], atol=1e-12)
    cat = panel.astype({"exporter": "category", "product": "category"})
    pd.testing.assert_frame_equal(complexity(cat), res)
    roll = complexity(panel, rolling=2)
    assert roll["year"].unique().tolist() == [2002]
    np.testing.assert_allclose(roll["export_value"], ((xa + xb) / 2).ravel(), rtol=1e-14)


def test_filters_min_exports_and_products():
    rng = np.random.default_rng(2)
    x = rng.lognormal(3, 1, size=(6, 8))
    x[0] /= 1e6                                   # C0 is tiny
    f = _frame(x)
    res = complexity(f, min_exports=1.0, exclude_products=["P07"])
    assert "C00" not in set(res.exporter.astype(str)) and "P07" not in set(res["product"].astype(str))
    pop = pd.DataFrame({"iso3": [f"C{i:02d}" for i in range(6)], "population": [5e6] * 5 + [1e5]})
    res = complexity(f, min_population=1e6, population=pop)
    assert sorted(set(res.exporter.astype(str))) == ["C00", "C01", "C02", "C03", "C04"]


# ------------------------------------------------------------------ bad input
def test_bad_input_errors_and_treatments():
    rng = np.random.default_rng(4)
    x = rng.lognormal(3, 2, size=(12, 20))
    f = _frame(x)
    g = f.copy()
    g.loc[3, "export_value"] = np.nan
    with pytest.raises(InputError, match="missing"):
        complexity(g)
    z = f.copy()
    z.loc[3, "export_value"] = 0.0
    pd.testing.assert_frame_equal(complexity(g, missing="zero"), complexity(z))
    neg = f.copy()
    neg.loc[2, "export_value"] = -1.0
    with pytest.raises(InputError, match="negative"):
        complexity(neg)
    dup = pd.concat([f, f.iloc[[4]].assign(export_value=10.0)])
    with pytest.raises(InputError, match="duplicated"):
        complexity(dup)
    summed = f.copy()
    summed.loc[4, "export_value"] += 10.0
    pd.testing.assert_frame_equal(complexity(dup, duplicates="sum"), complexity(summed))
    with pytest.raises(NoDataError, match="no positive"):
        complexity(f.assign(export_value=0.0))
    with pytest.raises(InputError, match="no value column"):
        complexity(f, value="usd")
    with pytest.raises(UnknownNameError):
        complexity(f, convention="matlab")
    with pytest.raises(NoDataError, match="2 countries"):
        complexity(f[f.exporter == "C00"])


def test_zero_export_country_is_left_out_with_warning():
    rng = np.random.default_rng(6)
    x = rng.lognormal(3, 1, size=(5, 6))
    x[2] = 0.0
    with pytest.warns(RuntimeWarning, match="zero total"):
        res = complexity(_frame(x))
    assert "C02" not in set(res.exporter.astype(str))
    assert not res.drop(columns=["exporter", "product"]).isna().any().any()
    keep = np.delete(x, 2, axis=0)
    np.testing.assert_allclose(res["eci"], complexity(_frame(keep))["eci"], atol=1e-12)


# ------------------------------------------------------------------ opportunities
def test_opportunities_ranking(stata):
    res = complexity(stata, exporter="origin", product="hs92", value="export_val", year="year")
    opp = opportunities(res, "pol", year=1996)
    mine = res[(res.year == 1996) & (res.exporter.astype(str) == "pol")]
    assert len(opp) == int((mine["m"] == 0).sum()) and (opp["rca"] < 1).all()
    assert opp["rank"].tolist() == list(range(1, len(opp) + 1))
    assert opp["score"].is_monotonic_decreasing
    z = lambda s: (s - s.mean()) / s.std(ddof=0)   # noqa: E731
    wd, wp, wg = STRATEGIES["balanced"]
    np.testing.assert_allclose(opp["score"], wd * z(opp["density"]) + wp * z(opp["pci"]) + wg * z(opp["cog"]),
                               atol=1e-12)
    by_density = opportunities(res, "pol", weights=(1, 0, 0))
    assert by_density["density"].is_monotonic_decreasing
    assert set(opportunities(res, "pol", "long_jumps")["product"]) == set(opp["product"])
    with pytest.raises(UnknownNameError, match="exporter"):
        opportunities(res, "IRN")
    with pytest.raises(UnknownNameError, match="strategy"):
        opportunities(res, "pol", "moonshot")
    # raw input is accepted too (complexity is run first, with the Atlas sample filters unless switched off)
    cols = {"exporter": "origin", "product": "hs92", "value": "export_val"}
    raw = opportunities(stata, "pol", year=1996, min_exports=0, exclude_products=(), **cols)
    assert raw["product"].tolist() == opp["product"].tolist()
    atlas = opportunities(stata, "pol", year=1996, **cols)
    filtered = complexity(stata, year="year", min_exports=1e9, exclude_products=["99"], **cols)
    assert atlas["product"].tolist() == opportunities(filtered, "pol", year=1996)["product"].tolist()
    assert atlas["product"].tolist() != raw["product"].tolist()     # the sample filter changes the ranking


# ------------------------------------------------------------------ warehouse
def _insert_flows(wh, rows):
    df = pd.DataFrame(rows, columns=["year", "reporter", "partner", "product", "value_usd"])
    df = df.assign(month=None, flow="export", hs_revision="HS2017", quantity=None, unit=None, province=None,
                   source="test", load_id="t1")
    from tradepulse.schema import FLOWS
    wh.raw.register("tmp_rows", df[list(FLOWS)])
    wh.raw.execute("INSERT INTO flow_rows SELECT * FROM tmp_rows")
    wh.raw.unregister("tmp_rows")


def test_warehouse_exports_prefers_world_rows_and_falls_back_to_bilateral(tmp_warehouse):
    _insert_flows(tmp_warehouse, [
        (2020, "AAA", "WLD", "010101", 10.0), (2020, "AAA", "BBB", "010101", 4.0),   # WLD wins
        (2020, "BBB", "AAA", "010101", 3.0), (2020, "BBB", "CCC", "010102", 2.0),    # bilateral only
        (2020, "BBB", "CCC", "010101", 1.0),
    ])
    got = warehouse_exports(tmp_warehouse)
    assert got.to_dict("list") == {"year": [2020, 2020, 2020], "exporter": ["AAA", "BBB", "BBB"],
                                   "product": ["010101", "010101", "010102"], "export_value": [10.0, 4.0, 2.0]}
    hs4 = warehouse_exports(tmp_warehouse, digits=4)
    assert hs4["export_value"].tolist() == [10.0, 6.0]
    with pytest.raises(NoDataError):
        warehouse_exports(tmp_warehouse, years=[1999])


# ------------------------------------------------------------------ CLI
def test_cli_complexity_proximity_opportunities(tmp_path, stata):
    from typer.testing import CliRunner

    from tradepulse.cli import app

    inp = tmp_path / "in.csv"
    stata[["year", "origin", "hs92", "export_val"]].to_csv(inp, index=False)
    run = CliRunner().invoke
    out = tmp_path / "out.parquet"
    r = run(app, ["complexity", str(inp), "--exporter", "origin", "--product", "hs92", "--value", "export_val",
                  "--year", "year", "--convention", "stata", "-o", str(out)])
    assert r.exit_code == 0, r.output
    got = pd.read_parquet(out)
    assert list(got.columns) == OUTPUT_COLUMNS and len(got) == 600
    m = _merge_stata(stata, got)
    np.testing.assert_allclose(m["eci"], m["eci_stata"], atol=1e-9)
    r = run(app, ["complexity", str(inp), "--exporter", "origin", "--product", "hs92", "--value", "export_val",
                  "--exclude-products", "94,1704", "--min-exports", "1e9", "-o", str(tmp_path / "f.csv")])
    assert r.exit_code == 0, r.output
    f = pd.read_csv(tmp_path / "f.csv", dtype={"product": str})
    assert not f["product"].str.startswith(("94", "1704")).any() and f["product"].nunique() == 28
    kept = stata[~stata["hs92"].str.startswith(("94", "1704"))]
    tot = kept.groupby(["year", "origin"])["export_val"].sum()
    assert 0 < (tot >= 1e9).sum() < len(tot)            # the filter bites
    assert len(f) == 28 * int((tot >= 1e9).sum())
    prox = tmp_path / "prox.csv"
    r = run(app, ["proximity", str(inp), "--exporter", "origin", "--product", "hs92", "--value", "export_val",
                  "--year", "year", "--in-year", "1995", "-o", str(prox)])
    assert r.exit_code == 0, r.output
    p = pd.read_csv(prox, dtype={"product_1": str, "product_2": str})
    assert list(p.columns) == ["product_1", "product_2", "proximity"] and len(p) == 900
    opp = tmp_path / "opp.csv"
    r = run(app, ["opportunities", str(inp), "--country", "pol", "--exporter", "origin", "--product", "hs92",
                  "--value", "export_val", "--year", "year", "--strategy", "long_jumps", "-o", str(opp)])
    assert r.exit_code == 0, r.output
    assert "pol" in r.output and len(pd.read_csv(opp)) > 0
    r = run(app, ["opportunities", str(inp), "--country", "XXX", "--exporter", "origin", "--product", "hs92",
                  "--value", "export_val", "--year", "year"])
    assert r.exit_code == 2 and "unknown exporter" in r.output
    bad = tmp_path / "bad.csv"
    stata.assign(export_val=np.where(np.arange(600) == 5, np.nan, stata["export_val"]))[
        ["year", "origin", "hs92", "export_val"]].to_csv(bad, index=False)
    r = run(app, ["complexity", str(bad), "--exporter", "origin", "--product", "hs92", "--value", "export_val",
                  "-o", str(tmp_path / "x.csv")])
    assert r.exit_code == 2 and "missing" in r.output


@pytest.mark.slow
def test_demo_warehouse_to_opportunities_for_iran(tmp_path):
    """End to end on the SYNTHETIC demo world: ingest → warehouse → complexity → IRN opportunities."""
    from typer.testing import CliRunner

    from tradepulse.cli import app
    from tradepulse.demo.world import generate
    from tradepulse.ingest import ingest_frame
    from tradepulse.warehouse import Warehouse

    world = generate(n_countries=40, n_products=150, first_year=2020, last_year=2023)
    path = tmp_path / "wh.duckdb"
    with Warehouse(path) as wh:
        ingest_frame(wh, world.flows, source="demo-synthetic", name="demo_flows")
        exports = warehouse_exports(wh)
        res = complexity(wh)
    wld = world.flows[(world.flows.partner == "WLD") & (world.flows.flow == "export")]
    assert exports["export_value"].sum() == pytest.approx(wld["value_usd"].sum(), rel=1e-12)
    assert sorted(res["year"].unique()) == [2020, 2021, 2022, 2023]
    assert not res[["eci", "pci", "density", "coi", "cog"]].isna().any().any()
    opp = opportunities(res, "IRN")
    assert len(opp) > 0 and set(opp["year"]) == {2023}
    out = tmp_path / "opp.csv"
    r = CliRunner().invoke(app, ["opportunities", "--country", "IRN", "--warehouse", str(path), "-o", str(out)])
    assert r.exit_code == 0, r.output
    # the CLI applies the Atlas sample filters (no macro data yet: the population filter is skipped)
    atlas = opportunities(exports, "IRN", year_column="year")
    assert pd.read_csv(out, dtype={"product": str})["product"].tolist() == atlas["product"].tolist()
    from tradepulse import reference
    assert reference.product_name(atlas["product"].iloc[0])[:20] in r.output   # the table names the products
    # PRODY/EXPY from the macro table: EXPY is a share-weighted mean of PRODY, within the GDPpc range
    with Warehouse(path) as wh:
        ingest_frame(wh, world.macro, source="demo-synthetic", name="demo_macro", target="macro")
    cx_out = tmp_path / "cx.parquet"
    r = CliRunner().invoke(app, ["complexity", "--warehouse", str(path), "--prody", "-o", str(cx_out)])
    assert r.exit_code == 0, r.output
    got = pd.read_parquet(cx_out)
    gdp = world.macro.assign(pc=world.macro.gdp_usd / world.macro.population)
    assert got["prody"].between(gdp["pc"].min() * (1 - 1e-9), gdp["pc"].max() * (1 + 1e-9)).all()
    assert got["expy"].between(got["prody"].min() - 1e-6, got["prody"].max() + 1e-6).all()


def test_ibis_table_input_equals_pandas():
    from tradepulse.warehouse import as_table

    rng = np.random.default_rng(2)
    f = _frame(rng.lognormal(3, 2, size=(12, 20)))
    pd.testing.assert_frame_equal(complexity(as_table(f)), complexity(f))


def test_invariant_to_row_order_and_currency_scale():
    """Properties: RCA and everything downstream are homogeneous of degree 0 in the values (USD vs
    thousand USD) and do not depend on the order of the input rows."""
    rng = np.random.default_rng(2)
    f = _frame(rng.lognormal(3, 2, size=(12, 20)) * (rng.random((12, 20)) < 0.8))
    base = complexity(f)
    shuffled = f.sample(frac=1.0, random_state=3).assign(export_value=lambda d: d.export_value / 1000)
    other = complexity(shuffled)
    pd.testing.assert_frame_equal(other.drop(columns="export_value"), base.drop(columns="export_value"),
                                  rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(other["export_value"] * 1000, base["export_value"], rtol=1e-15)
