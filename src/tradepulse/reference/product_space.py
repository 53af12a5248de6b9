"""The Atlas of Economic Complexity's published product space (HS 1992, 4 digits) and HS revision bridges.

Source: the ``atlas-common-data`` package (Harvard Growth Lab, Apache-2.0): node positions
``product_space_x`` / ``product_space_y`` and ``cluster_id`` in ``classification/product/hs92.csv``, the
drawn links in ``hs92_ps_edges.csv`` (pairs of ``product_id``) and the cluster names in
``hs92_ps_clusters.csv``.  These are the coordinates of the Atlas's product space view, so a picture drawn
from them is the one analysts know.

Other HS revisions are mapped onto HS92 through atlas-common-data's HS6 conversion weights
(``conversion_weights_H<k>_to_H<k-1>.csv``; each source code's weights sum to 1), chained down to H0 and
aggregated to 4 digits with every HS6 code of a heading weighted equally (no trade values are needed).
"""

from __future__ import annotations

import functools

import pandas as pd

from tradepulse.errors import UnknownNameError

#: tradepulse HS revision names → atlas-common-data's nomenclature codes (H0 = HS 1992 … H6 = HS 2022).
REVISION_CODES = {"HS1992": 0, "HS1996": 1, "HS2002": 2, "HS2007": 3, "HS2012": 4, "HS2017": 5, "HS2022": 6}


@functools.cache
def atlas_nodes() -> pd.DataFrame:
    """HS92 4-digit products of the Atlas layout: ``product, product_id, x, y, cluster_id, cluster,
    name_en, name_short_en`` (865 rows; codes zero-padded to 4 digits)."""
    import atlas_common_data as acd

    raw = acd.load_products("hs92")
    raw = raw[(raw["product_level"] == 4) & raw["product_space_x"].notna()]
    clusters = acd.load_product_space_clusters("hs92").set_index("cluster_id")["name_en"]
    out = pd.DataFrame({
        "product": raw["code"].astype(str).str.zfill(4).to_numpy(),
        "product_id": raw["product_id"].astype(int).to_numpy(),
        "x": raw["product_space_x"].astype(float).to_numpy(),
        "y": raw["product_space_y"].astype(float).to_numpy(),
        "cluster_id": raw["cluster_id"].astype(int).to_numpy(),
        "name_en": raw["name_en"].astype(str).to_numpy(),
        "name_short_en": raw["name_short_en"].astype(str).to_numpy(),
    })
    out["cluster"] = out["cluster_id"].map(clusters).astype(str)
    return out.sort_values("product").reset_index(drop=True)


@functools.cache
def atlas_edges() -> pd.DataFrame:
    """Links of the Atlas product space as pairs of 4-digit HS92 codes: ``source, target``."""
    import atlas_common_data as acd

    ids = atlas_nodes().set_index("product_id")["product"]
    e = acd.load_product_space_edges("hs92")
    out = pd.DataFrame({"source": e["source"].map(ids), "target": e["target"].map(ids)}).dropna()
    return out.reset_index(drop=True)


@functools.cache
def hs4_to_hs92(revision: str) -> pd.DataFrame:
    """Weights ``code, hs92, weight`` mapping 4-digit codes of ``revision`` onto 4-digit HS92 codes
    (each source code's weights sum to 1).  HS1992 is the identity on the Atlas products."""
    if revision not in REVISION_CODES:
        raise UnknownNameError("HS revision", revision, list(REVISION_CODES))
    k = REVISION_CODES[revision]
    if k == 0:
        codes = atlas_nodes()["product"]
        return pd.DataFrame({"code": codes, "hs92": codes, "weight": 1.0})
    import atlas_common_data as acd

    chain: pd.DataFrame | None = None           # HS6 of revision k → HS6 of the current target
    for src in range(k, 0, -1):
        w = acd.load_conversion_weights(f"H{src}", f"H{src - 1}")
        w = w.rename(columns={f"H{src}": "a", f"H{src - 1}": "b", f"weight_H{src}_H{src - 1}": "w"})[["a", "b", "w"]]
        w = w[w["w"] > 0]
        if chain is None:
            chain = w.rename(columns={"a": "code6", "b": "to6"})
        else:
            chain = chain.merge(w, left_on="to6", right_on="a")
            chain = chain.assign(w=chain["w_x"] * chain["w_y"])[["code6", "b", "w"]].rename(columns={"b": "to6"})
            chain = chain.groupby(["code6", "to6"], as_index=False)["w"].sum()
    assert chain is not None
    chain = chain.assign(code=chain["code6"].astype(str).str.zfill(6).str[:4],
                         hs92=chain["to6"].astype(str).str.zfill(6).str[:4])
    per6 = chain.groupby(["code", "code6", "hs92"], as_index=False)["w"].sum()
    n6 = per6.groupby("code")["code6"].nunique()
    out = per6.groupby(["code", "hs92"], as_index=False)["w"].sum()
    out["weight"] = out["w"] / out["code"].map(n6)
    out["weight"] /= out.groupby("code")["weight"].transform("sum")     # codes losing a zero-weight link
    return out[["code", "hs92", "weight"]].sort_values(["code", "hs92"]).reset_index(drop=True)


def to_hs92(frame: pd.DataFrame, revision: str, product: str = "product", value: str = "export_value"
            ) -> pd.DataFrame:
    """``frame`` with its 4-digit ``product`` codes of ``revision`` restated in HS92: every row is split over
    its HS92 headings by :func:`hs4_to_hs92` weights (``value`` multiplied) and rows are summed again over
    the other columns.  Codes without a bridge keep their code (they fall outside the Atlas layout)."""
    if revision == "HS1992":
        return frame
    w = hs4_to_hs92(revision)
    keys = [c for c in frame.columns if c not in (product, value)]
    m = frame.assign(**{product: frame[product].astype(str)}).merge(w, left_on=product, right_on="code",
                                                                     how="left")
    m["hs92"] = m["hs92"].fillna(m[product])
    m[value] = m[value] * m["weight"].fillna(1.0)
    out = m.drop(columns=[product, "code", "weight"]).rename(columns={"hs92": product})
    return out.groupby([*keys, product], as_index=False)[value].sum()[frame.columns.tolist()]
