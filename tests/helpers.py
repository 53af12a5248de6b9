"""Small helpers shared by test modules (import as ``from helpers import ...``)."""

from __future__ import annotations

import pandas as pd

from tradepulse import schema


def complete_flows(df: pd.DataFrame, **const) -> pd.DataFrame:
    """Canonical FLOWS frame from a frame holding some FLOWS columns: ``const`` columns set, others NULL."""
    out = df.copy()
    for k, v in const.items():
        out[k] = v
    for col in schema.FLOWS:
        if col not in out:
            out[col] = None
    out["quantity"] = out["quantity"].astype("float64")
    out["province"] = out["province"].astype("object")
    return out[list(schema.FLOWS)]
