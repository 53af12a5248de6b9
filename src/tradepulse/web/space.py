"""The product space as a network picture: backbone, layout and the chart.

Following Hidalgo, Klinger, Barabási & Hausmann (2007, "The product space conditions the development of
nations", Science 317): nodes are products, link weights are proximities φ (from
:func:`tradepulse.indicators.complexity.proximity`).  The drawn network is the **maximum spanning tree**
of φ (every product connected through its strongest links) plus the links with φ ≥ ``strong``
(0.55 in the paper), at most one per product (the strongest first).  Positions come from a Fruchterman–Reingold force layout (Fruchterman & Reingold
1991, "Graph drawing by force-directed placement", Software—Practice and Experience 21(11)) on that
backbone, started from a spectral layout (two smallest non-trivial Laplacian eigenvectors) and run a fixed
number of iterations, so the picture is deterministic.  All steps are NumPy/SciPy on n × n arrays.

Colour convention (as in the Atlas of Economic Complexity): products the focus country exports with
RCA ≥ 1 are coloured by HS section, the others grey.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import minimum_spanning_tree

from tradepulse.i18n import N_

#: HS sections by first chapter (WCO Harmonized System sections I–XXI, short English names; catalog
#: messages, translated where shown).
HS_SECTIONS = [(1, N_("Animals")), (6, N_("Vegetables")), (15, N_("Fats and oils")),
               (16, N_("Food, drinks, tobacco")), (25, N_("Minerals and fuels")), (28, N_("Chemicals")),
               (39, N_("Plastics and rubber")), (41, N_("Hides and leather")), (44, N_("Wood")), (47, N_("Paper")),
               (50, N_("Textiles")), (64, N_("Footwear")), (68, N_("Stone and glass")),
               (71, N_("Precious stones and metals")), (72, N_("Base metals")), (84, N_("Machinery and electrical")),
               (86, N_("Transport")), (90, N_("Instruments")), (93, N_("Arms")), (94, N_("Miscellaneous")),
               (97, N_("Art"))]


def hs_section(codes: pd.Series) -> pd.Series:
    """HS section name of each HS code (by its 2-digit chapter)."""
    chapter = pd.to_numeric(codes.astype(str).str[:2], errors="coerce").fillna(0).to_numpy()
    starts = np.array([s for s, _ in HS_SECTIONS])
    names = np.array([n for _, n in HS_SECTIONS], dtype=object)
    idx = np.clip(np.searchsorted(starts, chapter, side="right") - 1, 0, len(starts) - 1)
    return pd.Series(names[idx], index=codes.index)


def proximity_matrix(prox: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric n × n matrix of φ from long form ``product_1, product_2, proximity`` (diagonal set to 0)."""
    codes, uniques = pd.factorize(pd.concat([prox["product_1"], prox["product_2"]]).astype(str), sort=True)
    n, m = len(uniques), len(prox)
    phi = np.zeros((n, n))
    phi[codes[:m], codes[m:]] = prox["proximity"].to_numpy(dtype=float)
    phi = np.maximum(phi, phi.T)
    np.fill_diagonal(phi, 0.0)
    return phi, np.asarray(uniques, dtype=str)


def backbone(phi: np.ndarray, strong: float = 0.55, max_extra: int | None = None) -> np.ndarray:
    """Edges ``(i, j)`` with i < j: the maximum spanning tree (forest) of φ plus the links with φ ≥ ``strong``
    — at most ``max_extra`` of them, the strongest (default: as many as there are products, so that small
    worlds, where proximities run high, still give a readable picture).

    The maximum spanning tree is SciPy's minimum spanning tree of ``2 − φ`` on the links with φ > 0
    (a constant shift keeps every weight positive and preserves the order of the weights).
    """
    w = np.where(phi > 0, 2.0 - phi, 0.0)
    tree = minimum_spanning_tree(csr_matrix(np.triu(w))).tocoo()
    pairs = np.stack([np.minimum(tree.row, tree.col), np.maximum(tree.row, tree.col)], axis=1)
    si, sj = np.nonzero(np.triu(phi >= strong, k=1))
    cap = len(phi) if max_extra is None else max_extra
    if len(si) > cap:
        keep = np.argsort(-phi[si, sj], kind="stable")[:cap]
        si, sj = si[keep], sj[keep]
    pairs = np.concatenate([pairs, np.stack([si, sj], axis=1)])
    return np.unique(pairs, axis=0) if len(pairs) else pairs.reshape(0, 2)


def layout(n: int, edges: np.ndarray, weights: np.ndarray | None = None, iterations: int = 120,
           seed: int = 0) -> np.ndarray:
    """Fruchterman–Reingold positions (n × 2, in [0, 1]²) of a graph, vectorised over all node pairs.

    Ideal distance k = 1/√n; repulsion k²/d between all pairs, attraction w·d²/k along edges; the step is
    capped by a temperature falling linearly from 0.1 to 0.  Start: spectral layout of the edge graph
    (two smallest non-trivial eigenvectors of the Laplacian) plus tiny seeded jitter.
    """
    if n == 0:
        return np.zeros((0, 2))
    w = np.ones(len(edges)) if weights is None else np.asarray(weights, dtype=float)
    rng = np.random.default_rng(seed)
    if n > 3 and len(edges):
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import laplacian
        a = coo_matrix((np.r_[w, w], (np.r_[edges[:, 0], edges[:, 1]], np.r_[edges[:, 1], edges[:, 0]])),
                       shape=(n, n)).toarray()
        _, vecs = np.linalg.eigh(laplacian(a))
        pos = vecs[:, 1:3].copy()
    else:
        pos = rng.random((n, 2))
    pos = (pos - pos.min(axis=0)) / np.maximum(np.ptp(pos, axis=0), 1e-12)
    pos += rng.normal(scale=1e-3, size=pos.shape)
    k = 1.0 / np.sqrt(n)
    x, y = pos[:, 0].astype(np.float32), pos[:, 1].astype(np.float32)
    ei, ej = (edges[:, 0], edges[:, 1]) if len(edges) else (np.zeros(0, int), np.zeros(0, int))
    for it in range(iterations):
        # repulsion k²/d along (dx, dy)/d between all pairs: n × n float32 arrays, no Python loop
        dx = x[:, None] - x[None, :]
        dy = y[:, None] - y[None, :]
        d2 = dx * dx + dy * dy
        np.fill_diagonal(d2, np.inf)
        np.maximum(d2, 1e-8, out=d2)
        rep = (k * k) / d2
        disp_x, disp_y = (dx * rep).sum(axis=1), (dy * rep).sum(axis=1)
        # attraction w·d²/k along (dx, dy)/d on edges only
        ex, ey = x[ei] - x[ej], y[ei] - y[ej]
        att = w * np.sqrt(ex * ex + ey * ey) / k
        disp_x -= np.bincount(ei, ex * att, n) - np.bincount(ej, ex * att, n)
        disp_y -= np.bincount(ei, ey * att, n) - np.bincount(ej, ey * att, n)
        length = np.maximum(np.sqrt(disp_x ** 2 + disp_y ** 2), 1e-12)
        step = np.minimum(length, 0.1 * (1 - it / iterations)) / length
        x = (x + disp_x * step).astype(np.float32)
        y = (y + disp_y * step).astype(np.float32)
    pos = np.stack([x, y], axis=1).astype(float)
    pos = (pos - pos.min(axis=0)) / np.maximum(np.ptp(pos, axis=0), 1e-12)
    return pos


def product_space(prox: pd.DataFrame, focus_rows: pd.DataFrame, *, strong: float = 0.55,
                  iterations: int = 120) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nodes ``product, x, y, section, rca, colour_group`` and edges ``x, y, x2, y2, proximity`` for the chart.

    ``focus_rows``: the focus country's rows of the complexity result (``product, rca``).
    """
    phi, products = proximity_matrix(prox)
    edges = backbone(phi, strong)
    pos = layout(len(products), edges, phi[edges[:, 0], edges[:, 1]] if len(edges) else None, iterations)
    rca = focus_rows.assign(product=focus_rows["product"].astype(str)).set_index("product")["rca"]
    nodes = pd.DataFrame({"product": products, "x": pos[:, 0].round(4), "y": pos[:, 1].round(4)})
    nodes["section"] = hs_section(nodes["product"])
    nodes["rca"] = nodes["product"].map(rca).astype(float).round(3)
    nodes["colour_group"] = np.where(nodes["rca"] >= 1, nodes["section"], "RCA < 1")
    e = pd.DataFrame({"x": pos[edges[:, 0], 0], "y": pos[edges[:, 0], 1], "x2": pos[edges[:, 1], 0],
                      "y2": pos[edges[:, 1], 1], "proximity": phi[edges[:, 0], edges[:, 1]]}).round(4)
    return nodes, e


# ---------------------------------------------------------------- the Atlas layout (HS92, published)
def atlas_space(layout_nodes: pd.DataFrame, layout_edges: pd.DataFrame, world: pd.Series, rca: pd.Series,
                opportunities: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nodes and edges of the product space on the Atlas of Economic Complexity's published HS92 layout.

    ``layout_nodes``/``layout_edges``: :func:`tradepulse.reference.product_space.atlas_nodes` / ``atlas_edges``
    (positions used unchanged); ``world``: world exports by HS92 code (node size); ``rca``: the focus
    country's RCA by HS92 code; ``opportunities``: codes to outline (top N of the chosen strategy).
    Nodes: ``product, name, x, y, cluster_id, cluster, world_trade, rca, opportunity``; colour follows the
    Atlas convention: the focus country's RCA ≥ 1 products in their cluster colour, the others grey."""
    n = layout_nodes
    nodes = pd.DataFrame({"product": n["product"], "name": n["name_short_en"], "x": n["x"], "y": n["y"],
                          "cluster_id": n["cluster_id"], "cluster": n["cluster"]})
    nodes["world_trade"] = nodes["product"].map(world).fillna(0.0).astype(float)
    nodes["rca"] = nodes["product"].map(rca).astype(float).round(3)
    nodes["opportunity"] = nodes["product"].isin(set(opportunities))
    pos = nodes.set_index("product")[["x", "y"]]
    e = layout_edges[layout_edges["source"].isin(pos.index) & layout_edges["target"].isin(pos.index)]
    edges = pd.DataFrame({"x": pos.loc[e["source"], "x"].to_numpy(), "y": pos.loc[e["source"], "y"].to_numpy(),
                          "x2": pos.loc[e["target"], "x"].to_numpy(), "y2": pos.loc[e["target"], "y"].to_numpy()})
    return nodes, edges
