"""Reference tables: countries, Persian names, groups, product groups, oil set."""

from __future__ import annotations

import pandas as pd
import pytest

from tradepulse import reference as r
from tradepulse.errors import UnknownNameError


def test_every_country_with_an_alpha2_code_has_a_persian_name():
    c = r.countries()
    assert c["iso3"].is_unique and len(c) > 200
    named = c[c["iso2"] != ""]
    assert len(named) >= len(c) - 3  # only ANS (undeclared), USP (services partners) lack codes
    translated = (named["name_fa"] != named["name_en"]).mean()
    assert translated > 0.97
    assert r.country_name("IRN", "fa") == "ایران" and r.country_name("ITA", "fa") == "ایتالیا"
    assert r.country_name("SYR") == "Syria"


def test_groups_and_errors():
    assert len(r.group_members("neighbours15")) == 15
    assert set(r.group_members("gcc")) < set(r.group_members("persian_gulf"))
    assert set(r.group_members("caspian_and_persian_gulf")) == set(r.group_members("caspian")) | set(
        r.group_members("persian_gulf"))
    assert r.group_members("tur") == ("TUR",)
    with pytest.raises(UnknownNameError, match="unknown country group 'atlantis'"):
        r.group_members("atlantis")
    with pytest.raises(UnknownNameError, match="unknown product group"):
        r.product_group_prefixes("spaceships")


def test_oil_set_and_prefix_matching():
    codes = pd.Series(["2709", "270900", "2710", "2711", "2701", "5701", "27"])
    narrow = r.matches_prefixes(codes, r.oil_prefixes("narrow"))
    wide = r.matches_prefixes(codes, r.oil_prefixes("chapter27"))
    assert narrow.tolist() == [True, True, True, True, False, False, False]
    assert wide.tolist() == [True, True, True, True, True, False, True]
    with pytest.raises(UnknownNameError):
        r.oil_prefixes("brent")


def test_hs_products_levels():
    hs4 = r.hs_products("HS1992", 4)
    assert hs4["code"].str.len().eq(4).all() and 1200 <= len(hs4) <= 1260
    assert r.product_name("5701") == "Carpets, knotted"
    assert r.hs_products("HS1992", 2)["code"].str.len().eq(2).all()


def test_product_names_vectorised_match_single_lookups_and_keep_unknown_codes():
    from tradepulse import reference
    codes = ["5701", "27", "270900", "0000", "12", "x"]
    names = reference.product_names(codes)
    assert names[:3] == [reference.product_name(c) for c in codes[:3]]
    assert "arpet" in names[0] and names[0] != "5701"
    assert names[3] == "0000" and names[5] == "x"          # not HS codes: returned as given
