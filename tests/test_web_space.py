"""Product space picture (tradepulse.web.space): backbone by hand, layout properties, HS sections."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradepulse.web import space

PHI = np.array([[0, .9, .1, .2],
                [.9, 0, .3, .8],
                [.1, .3, 0, .6],
                [.2, .8, .6, 0]])


def _long(phi: np.ndarray, codes: list[str]) -> pd.DataFrame:
    i, j = np.nonzero(~np.eye(len(codes), dtype=bool))
    return pd.DataFrame({"product_1": np.array(codes)[i], "product_2": np.array(codes)[j], "proximity": phi[i, j]})


def test_proximity_matrix_round_trip():
    phi, codes = space.proximity_matrix(_long(PHI, ["0101", "0102", "2709", "5701"]))
    assert list(codes) == ["0101", "0102", "2709", "5701"]
    np.testing.assert_allclose(phi, PHI)


def test_backbone_is_maximum_spanning_tree_plus_strong_links():
    """By hand (Kruskal on descending φ): 0.9 (0–1), 0.8 (1–3), 0.6 (2–3) join all four nodes; 0.3 (1–2)
    would close a cycle.  With strong = 0.25 the link 1–2 (0.3) is added; 0.2 and 0.1 never are."""
    assert space.backbone(PHI, strong=0.95).tolist() == [[0, 1], [1, 3], [2, 3]]
    assert space.backbone(PHI, strong=0.25).tolist() == [[0, 1], [1, 2], [1, 3], [2, 3]]
    # the cap keeps only the strongest extra links: with max_extra=3 the links ≥ 0.25 are 0.9, 0.8, 0.6
    # (all tree links already), so 1–2 (0.3) is dropped
    assert space.backbone(PHI, strong=0.25, max_extra=3).tolist() == [[0, 1], [1, 3], [2, 3]]


def test_layout_deterministic_bounded_and_links_short():
    """Two cliques joined by one link: positions repeat exactly, lie in [0, 1]², and linked nodes are on
    average closer than unlinked ones (the force layout's purpose)."""
    a = [(i, j) for i in range(6) for j in range(i + 1, 6)]
    b = [(i + 6, j + 6) for i, j in a]
    edges = np.array(a + b + [(0, 6)])
    p1 = space.layout(12, edges, iterations=80)
    p2 = space.layout(12, edges, iterations=80)
    np.testing.assert_array_equal(p1, p2)
    assert p1.min() >= 0 and p1.max() <= 1
    d = np.sqrt(((p1[:, None] - p1[None]) ** 2).sum(-1))
    linked = np.zeros((12, 12), bool)
    linked[edges[:, 0], edges[:, 1]] = linked[edges[:, 1], edges[:, 0]] = True
    off = ~np.eye(12, dtype=bool)
    assert d[linked].mean() < 0.7 * d[off & ~linked].mean()


def test_hs_sections_and_frames():
    codes = pd.Series(["0101", "2709", "5701", "8703", "9701", "8471"])
    assert space.hs_section(codes).tolist() == ["Animals", "Minerals and fuels", "Textiles", "Transport", "Art",
                                                "Machinery and electrical"]
    nodes, edges = space.product_space(_long(PHI, ["0101", "0102", "2709", "5701"]),
                                       pd.DataFrame({"product": ["0101", "5701"], "rca": [2.0, 0.5]}),
                                       strong=0.95, iterations=30)
    assert nodes["colour_group"].tolist() == ["Animals", "RCA < 1", "RCA < 1", "RCA < 1"]
    assert len(edges) == 3 and edges["proximity"].tolist() == [0.9, 0.8, 0.6]
