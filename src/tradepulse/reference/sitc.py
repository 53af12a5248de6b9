"""HS → SITC Rev.3 3-digit conversion weights (for UNCTADstat's concentration and diversification indices).

UNCTADstat computes its product concentration and diversification indices on SITC Rev.3 at the 3-digit
level (UNCTAD/STAT/IE/2019/2; UNCTAD Handbook of Statistics, "Concentration and diversification indices").
HS data are converted here with the trade-weighted conversion weights that ``atlas-common-data`` (Harvard
Growth Lab, Apache-2.0) ships: H_k → H_{k−1} → … → H0 → S3, composed by sparse matrix products
(:mod:`tradepulse.reference.hs_conversion`), then SITC 4-digit codes cut to their 3-digit group.  There are :data:`N_SITC3` = 261 SITC Rev.3 3-digit groups.

"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from tradepulse.errors import UnknownNameError
from tradepulse.reference.hs_conversion import ATLAS_HS, atlas_step, compose

__all__ = ["ATLAS_HS", "N_SITC3", "convert_to_sitc3", "hs_to_sitc3", "sitc3_codes"]

#: Number of SITC Rev.3 3-digit groups (the N of UNCTAD's concentration index).
N_SITC3 = 261


@cache
def hs_to_sitc3(revision: str = "HS1992", level: int = 6) -> pd.DataFrame:
    """Weights ``source`` (HS code of ``revision`` at ``level`` 6 or 4 digits) → ``target`` (SITC Rev.3
    3-digit group), ``weight`` (Σ per source = 1).

    HS4 weights are the unweighted mean of the HS6 subheadings' weights (no trade values are available
    to weight subheadings inside a heading: an approximation, which callers must say).
    """
    if revision not in ATLAS_HS:
        raise UnknownNameError("HS revision", revision, list(ATLAS_HS))
    if level not in (4, 6):
        raise ValueError(f"HS level must be 4 or 6 for SITC conversion, not {level}")
    k = int(ATLAS_HS[revision][1])
    chain = atlas_step("H0", "S3")
    for i in range(1, k + 1):
        chain = compose(atlas_step(f"H{i}", f"H{i - 1}"), chain)
    chain = chain.assign(target=chain["target"].str[:3])
    chain = chain.groupby(["source", "target"], as_index=False)["weight"].sum()
    if level == 4:
        chain = chain.assign(source=chain["source"].str[:4])
        n_sub = chain.groupby("source")["weight"].transform("sum")   # = number of subheadings
        chain = chain.assign(weight=chain["weight"] / n_sub).groupby(["source", "target"],
                                                                     as_index=False)["weight"].sum()
    return chain


@cache
def sitc3_codes() -> tuple[str, ...]:
    """The SITC Rev.3 3-digit groups reachable from HS1992 (261 codes)."""
    return tuple(sorted(hs_to_sitc3("HS1992", 6)["target"].unique()))


def convert_to_sitc3(frame: pd.DataFrame, *, product: str = "product", value: str = "value_usd",
                     revision: str = "HS1992") -> tuple[pd.DataFrame, float]:
    """``frame`` with HS codes (all 6 or all 4 digits) re-expressed in SITC Rev.3 3-digit groups.

    Every other column is kept as a key; values are split by the weights and summed.  Returns (frame,
    unmapped share): the share of value whose HS code has no weight (dropped)."""
    codes = frame[product].astype(str)
    lengths = set(codes.str.len())
    if lengths - {4, 6} or len(lengths) != 1:
        raise ValueError(f"SITC conversion needs HS codes of one level, 4 or 6 digits; got lengths {sorted(lengths)}")
    w = hs_to_sitc3(revision, lengths.pop())
    keys = [c for c in frame.columns if c not in (product, value)]
    m = frame.merge(w, left_on=product, right_on="source", how="left")
    total = float(pd.to_numeric(frame[value], errors="coerce").clip(lower=0).sum())
    lost = float(m.loc[m["target"].isna(), value].clip(lower=0).sum())
    m = m.dropna(subset=["target"])
    m[value] = m[value].to_numpy(dtype="float64") * m["weight"].to_numpy()
    out = m.drop(columns=[product, "source", "weight"]).rename(columns={"target": product})
    out = out.groupby([*keys, product], as_index=False, observed=True)[value].sum()
    return out, (lost / total if total > 0 else np.nan)
