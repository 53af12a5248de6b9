"""Conversion weights between HS revisions and SITC from ``atlas-common-data`` (Harvard Growth Lab, Apache-2.0).

The package ships trade-weighted conversion tables between neighbouring classifications (H0 ↔ H1 ↔ … ↔ H6,
H0 → S3, S3 → S2).  A conversion over several steps is their composition: for weights ``a`` (source → mid)
and ``b`` (mid → target), ``w(s, t) = Σ_mid a(s, mid) · b(mid, t)``, computed as a sparse matrix product.

The upstream files drop leading zeros (H0 ``10111`` = 010111, S3 ``15`` = 0015); codes are padded back.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

__all__ = ["ATLAS_HS", "atlas_step", "compose"]

#: HS revision name → atlas-common-data classification code.
ATLAS_HS = {"HS1992": "H0", "HS1996": "H1", "HS2002": "H2", "HS2007": "H3", "HS2012": "H4", "HS2017": "H5",
            "HS2022": "H6"}


@cache
def atlas_step(a: str, b: str) -> pd.DataFrame:
    """One atlas-common-data conversion table ``a → b`` (e.g. ``"H0" → "H1"``) as ``source, target, weight``
    (rows of weight 0 dropped, codes zero-padded to 6 digits for HS and 4 for SITC)."""
    import atlas_common_data as acd

    w = acd.load_conversion_weights(a, b)
    wcol = next(c for c in w.columns if c.startswith("weight"))
    w = w[w[wcol] > 0]

    def pad(s: pd.Series, code: str) -> pd.Series:
        return s.astype(str).str.zfill(6 if code.startswith("H") else 4)

    return pd.DataFrame({"source": pad(w[a], a).to_numpy(), "target": pad(w[b], b).to_numpy(),
                         "weight": w[wcol].to_numpy(dtype="float64")})


def compose(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Weights ``a`` (source → mid) then ``b`` (mid → target): ``Σ_mid a·b``, by a sparse product; both frames
    ``source, target, weight``.  Pairs of weight 0 are dropped."""
    import scipy.sparse as sp

    sa, s_codes = pd.factorize(a["source"], sort=True)
    mid = pd.Index(sorted(set(a["target"]) | set(b["source"])))
    tb, t_codes = pd.factorize(b["target"], sort=True)
    A = sp.csr_matrix((a["weight"].to_numpy(), (sa, mid.get_indexer(a["target"]))), shape=(len(s_codes), len(mid)))
    B = sp.csr_matrix((b["weight"].to_numpy(), (mid.get_indexer(b["source"]), tb)), shape=(len(mid), len(t_codes)))
    C = (A @ B).tocoo()
    keep = C.data > 0
    return pd.DataFrame({"source": s_codes[C.row[keep]], "target": t_codes[C.col[keep]], "weight": C.data[keep]})
