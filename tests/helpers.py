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


#: Key of a complexity panel row.
PANEL_KEYS = ["year", "exporter", "product"]


def canonical_panel(df: pd.DataFrame) -> pd.DataFrame:
    """Labels as strings, year int64, rows in key order (per-year frames have per-year categories)."""
    import numpy as np

    out = df.copy()
    for c in ("exporter", "product"):
        out[c] = out[c].astype(str)
    out["year"] = out["year"].astype(np.int64)
    return out.sort_values(PANEL_KEYS).reset_index(drop=True)


def assert_same_panel(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Same columns and rows (after :func:`canonical_panel`); floats equal to 1e-12 (the warehouse sums partners
    in parallel: the last bit of a sum may differ between two queries), everything else exactly."""
    import numpy as np

    a, b = canonical_panel(a), canonical_panel(b)
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for c in a.columns:
        if a[c].dtype.kind == "f":
            np.testing.assert_allclose(a[c].to_numpy(), b[c].to_numpy(), rtol=1e-12, atol=1e-12, err_msg=c)
        else:
            assert (a[c].to_numpy() == b[c].to_numpy()).all(), c


def hs4_text_year(rows: pd.DataFrame, year: int = 2020, scale: float = 1.5) -> pd.DataFrame:
    """Canonical flow rows moved to ``year`` with values × ``scale`` and every 7th product cut to its HS4 text
    code (one row per key kept): rows that take the text path of ``flow_rows`` beside slim BACI loads."""
    import numpy as np

    rows = rows.assign(year=year, value_usd=rows["value_usd"] * scale)
    cut = np.arange(len(rows)) % 7 == 0
    rows.loc[cut, "product"] = rows.loc[cut, "product"].str[:4]
    return rows.drop_duplicates(["reporter", "partner", "flow", "product"])


def country_codes_with(codes, dest, line: bytes):
    """A copy of a BACI country-code CSV at ``dest`` with one more line appended; returns ``dest``."""
    text = codes.read_bytes()
    dest.write_bytes(text + (b"" if text.endswith(b"\n") else b"\n") + line + b"\n")
    return dest


def ingest_baci_sample(wh, shared_data) -> str:
    """Load the CEPII BACI sample (2021, slim storage, with its country-code list) into ``wh``; return the
    dataset name its load got (for further loads of the same dataset)."""
    from tradepulse.ingest import ingest_file

    ingest_file(wh, shared_data / "baci_sample.csv", "baci",
                country_codes_csv=shared_data / "baci_country_codes_V202201.csv")
    return wh.raw.execute("SELECT any_value(dataset) FROM coverage").fetchall()[0][0]


def ingest_split_year(wh, sample: pd.DataFrame, tmp, codes, dataset: str, year: int = 2022,
                      factor: float = 1.3) -> None:
    """Load the BACI sample's rows again as ``year`` (values × ``factor``) in two slim loads of ``dataset``,
    reporters below the median number in one and the rest in the other: one year stored by two loads."""
    from tradepulse.ingest import ingest_file

    rows = sample.assign(t=year, v=sample["v"] * factor)
    low = rows["i"] < rows["i"].median()
    for k, part in enumerate((rows[low], rows[~low])):
        f = tmp / f"baci_{year}_{k}.csv"
        part.to_csv(f, index=False)
        ingest_file(wh, f, "baci", country_codes_csv=codes, dataset=dataset)
