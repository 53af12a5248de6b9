"""Mirror statistics (tradepulse.roadmap.mirror) on hand cases.

Exports direction, carpets (5701), 2021, margin 1.10:
  IRN → TUR 100 declared; TUR declares imports from IRN 165 (CIF) → FOB 150, gap 50, unrecorded 50.
  IRN → ARE 80 declared; ARE declares 66 → 60, gap −20, unrecorded 0.
  IRN → AZE 30 declared; AZE reports no imports at all in 2021 → left out (not reported ≠ zero).
  IRN → KAZ 0 declared; KAZ (reports imports of 8517 from CHN) declares 22 of carpets from IRN → 20 unrecorded.
Imports direction, telecom (8517), margin 1.10: IRN imports from CHN 400 (CIF); CHN exports to IRN 330 (FOB)
  → 363 CIF, gap −37, unrecorded 0.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tradepulse.errors import InputError, NoDataError
from tradepulse.roadmap.mirror import mirror, summary


def _frame():
    rows = [
        (2021, "IRN", "TUR", "export", "5701", 100, "Tehran"), (2021, "TUR", "IRN", "import", "5701", 165, None),
        (2021, "IRN", "ARE", "export", "5701", 80, "Tehran"), (2021, "ARE", "IRN", "import", "5701", 66, None),
        (2021, "IRN", "AZE", "export", "5701", 30, "Tabriz"),
        (2021, "KAZ", "IRN", "import", "5702", 22, None), (2021, "KAZ", "CHN", "import", "8517", 999, None),
        (2021, "IRN", "CHN", "import", "8517", 400, "Tehran"), (2021, "CHN", "IRN", "export", "8517", 330, None),
        (2021, "IRN", "WLD", "export", "5701", 5000, None), (2021, "TUR", "WLD", "import", "5701", 9000, None),
    ]
    return pd.DataFrame([{"year": y, "month": None, "reporter": r, "partner": p, "flow": f, "product": k,
                          "hs_revision": "HS1992", "value_usd": float(v), "quantity": None, "unit": None,
                          "province": prov, "source": "test"} for y, r, p, f, k, v, prov in rows])


def test_exports_mirror_hand_case():
    t = mirror(_frame(), "IRN", products=["carpets"]).set_index("partner")
    assert sorted(t.index) == ["ARE", "KAZ", "TUR"]
    assert t.loc["TUR", "mirror_adjusted"] == pytest.approx(150.0)
    assert t.loc["TUR", "gap"] == pytest.approx(50.0) and t.loc["TUR", "unrecorded"] == pytest.approx(50.0)
    assert t.loc["ARE", "gap"] == pytest.approx(-20.0) and t.loc["ARE", "unrecorded"] == 0.0
    assert t.loc["KAZ", "reported"] == 0.0 and t.loc["KAZ", "unrecorded"] == pytest.approx(20.0)
    assert t.loc["TUR", "ratio"] == pytest.approx(1.5) and pd.isna(t.loc["KAZ", "ratio"])
    s = summary(t.reset_index()).iloc[0]
    assert (s.reported, s.unrecorded, s.partners) == (180.0, pytest.approx(70.0), 3)
    assert s.unrecorded_share == pytest.approx(70 / 250)


def test_margin_partner_group_and_imports_direction():
    t = mirror(_frame(), "IRN", products="carpets", partners="persian_gulf", margin=1.0)
    assert t["partner"].tolist() == ["ARE"] and t["gap"].iloc[0] == pytest.approx(-14.0)
    imp = mirror(_frame(), "IRN", direction="imports", products=["telecom_equipment"])
    row = imp.set_index("partner").loc["CHN"]
    assert row["mirror_adjusted"] == pytest.approx(363.0) and row["gap"] == pytest.approx(-37.0)
    assert row["unrecorded"] == 0.0 and row["direction"] == "imports"


def test_errors():
    with pytest.raises(InputError, match="margin"):
        mirror(_frame(), "IRN", margin=10)
    with pytest.raises(InputError, match="direction"):
        mirror(_frame(), "IRN", direction="both")
    exports_only = _frame()
    exports_only = exports_only[exports_only["flow"] == "export"]
    with pytest.raises(NoDataError, match="direction='imports'"):
        mirror(exports_only, "IRN", products=["carpets"])


def test_auto_direction():
    """auto = exports when partners' imports exist (hand case above), else imports (exports-only data: CHN's
    exports of 8517 to IRN 330 × 1.10 = 363 vs IRN's 400 → gap −37)."""
    assert set(mirror(_frame(), "IRN", direction="auto", products=["carpets"])["direction"]) == {"exports"}
    f = _frame()
    only_exports_from_partners = f[~((f["flow"] == "import") & (f["reporter"] != "IRN"))]
    t = mirror(only_exports_from_partners, "IRN", direction="auto", products=["telecom_equipment"])
    assert set(t["direction"]) == {"imports"} and t["gap"].iloc[0] == pytest.approx(-37.0)
