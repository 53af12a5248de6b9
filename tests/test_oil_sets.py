"""Named oil / non-oil sets (issue 21): narrow, chapter27 and Iran's customs (IRICA) definition."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import complete_flows

from tradepulse import reference as r
from tradepulse.errors import UnknownNameError


def test_named_sets_and_their_prefixes():
    assert r.oil_prefixes("narrow") == ("2709", "2710", "2711")
    assert r.oil_prefixes("chapter27") == ("27",)
    assert r.oil_prefixes("iran_customs") == ("2709",)
    codes = pd.Series(["270900", "271012", "271019", "271112", "271121", "290110"])
    # IRICA: everything but crude oil is non-oil — oil products, LPG (271112) and natural gas are non-oil
    assert r.matches_prefixes(codes, r.oil_prefixes("iran_customs")).tolist() == [True] + [False] * 5
    assert r.matches_prefixes(codes, r.oil_prefixes("narrow")).tolist() == [True] * 5 + [False]
    with pytest.raises(UnknownNameError, match="unknown oil set 'brent'"):
        r.oil_prefixes("brent")
    assert "crude oil" in r.OIL_SETS["iran_customs"].source and "2016" in r.OIL_SETS["iran_customs"].source


def test_iran_customs_notes_say_what_hs4_and_hs6_cannot_separate():
    n4 = r.oil_set_notes("iran_customs", [4])
    n6 = r.oil_set_notes("iran_customs", [6, 6])
    assert len(n4) == 1 and "condensate" in n4[0] and "2709" in n4[0]
    assert len(n6) == 1 and "270900" in n6[0] and "271019" in n6[0]
    assert r.oil_set_notes("iran_customs", [2]) == n4
    assert r.oil_set_notes("narrow", [4, 6]) == []


def test_iran_customs_set_in_the_balance(tmp_path):
    """Through the balance's oil option (the product group ``oil_iran_customs``): condensate-free toy
    exports 2709 100, 2710 30, 2711 20, 5701 10 → non-oil 60 (IRICA form) vs 10 (narrow)."""
    from tradepulse.indicators.balance import trade_balance

    rows = [(2020, "IRN", "WLD", p, v) for p, v in (("270900", 100.0), ("271019", 30.0), ("271112", 20.0),
                                                      ("570110", 10.0))]
    flows = complete_flows(pd.DataFrame(rows, columns=["year", "reporter", "partner", "product", "value_usd"]),
                           flow="export", hs_revision="HS2017", source="test")
    official = trade_balance(flows, reporter="IRN", oil="oil_iran_customs").iloc[0]
    narrow = trade_balance(flows, reporter="IRN", oil="narrow").iloc[0]
    assert official.non_oil_exports == 60 and narrow.non_oil_exports == 10


def test_atlas_growth_projection_is_the_published_row():
    """The 2024 edition's own row for IRN, read independently from the package's CSV."""
    import atlas_common_data as acd

    from tradepulse.reference import atlas

    raw = acd.load_growth_projections(2024)
    want = raw[(raw.iso3_code == "IRN") & (raw.year == 2024)].iloc[0]
    got = atlas.growth_projection("irn", edition=2024)
    assert (got.rate, got.base_year, got.edition) == (want.growth_proj, 2024, 2024)
    assert got.atlas_eci == pytest.approx(want.eci) and "2024–2034" in got.label
    assert atlas.growth_projection("IRN", edition=2024, year=2016).rate == pytest.approx(
        raw[(raw.iso3_code == "IRN") & (raw.year == 2016)].growth_proj.iloc[0])
    from tradepulse.errors import NoDataError
    with pytest.raises(NoDataError, match="2015"):
        atlas.growth_projection("IRN", edition=2024, year=2015)     # a gap in the published series
    with pytest.raises(UnknownNameError):
        atlas.growth_projection("XXX")
