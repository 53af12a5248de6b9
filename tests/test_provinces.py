"""The province reference list and province matching (reference → selection → brief names)."""

from __future__ import annotations

import unicodedata

import pandas as pd
import pytest

from tradepulse.errors import InputError, UnknownNameError
from tradepulse.indicators.selection import select_flows
from tradepulse.reference import provinces as P
from tests.helpers import complete_flows


def test_iran_has_31_provinces_with_unique_codes_and_names():
    df = P.provinces("IRN")
    assert len(df) == 31
    assert df["code"].is_unique and df["name_en"].is_unique and df["name_fa"].is_unique
    assert (df["name_fa"].str.len() > 0).all()


def test_codes_and_romanisations_match_iso_3166_2_via_pycountry():
    """Independent oracle: the iso-codes ISO 3166-2:IR list (pycountry).  Same set of codes, and each ISO
    romanisation (e.g. ``Khorāsān-e Raẕavī``) resolves to the province with that code."""
    pycountry = pytest.importorskip("pycountry")
    iso = {s.code: s.name for s in pycountry.subdivisions.get(country_code="IR")}
    ours = P.provinces("IRN").set_index("code")["name_en"]
    assert set(iso) == set(ours.index)
    for code, name in iso.items():
        assert P.resolve_province(name, "IRN") == ours[code], (code, name)


@pytest.mark.parametrize("spelling, canonical", [
    ("تهران", "Tehran"), ("استان تهران", "Tehran"), ("Tehran Province", "Tehran"), ("TEHERAN", "Tehran"),
    ("IR-23", "Tehran"), ("ir 23", "Tehran"),
    ("خراسان\u200cرضوی", "Razavi Khorasan"),         # zero-width non-joiner instead of a space
    ("Khorasan-e Razavi", "Razavi Khorasan"), ("Khorasan Razavi", "Razavi Khorasan"),
    ("كرمان", "Kerman"),                              # Arabic kaf
    ("ايلام", "Ilam"),                                # Arabic yeh
    ("سیستان وبلوچستان", "Sistan and Baluchestan"),   # Persian "and" typed without its space
    ("Sistan & Baluchestan", "Sistan and Baluchestan"), ("Sistan va Baluchestan", "Sistan and Baluchestan"),
    ("Kohgiluyeh va Boyer-Ahmad", "Kohgiluyeh and Boyer-Ahmad"),
    ("Eşfahān", "Isfahan"), ("Esfahan", "Isfahan"), ("آذربایجان شرقی", "East Azerbaijan"),
])
def test_spellings_resolve(spelling, canonical):
    assert P.resolve_province(spelling, "IRN") == canonical
    assert P.resolve_province(spelling) == canonical      # unambiguous without the country too


def test_every_listed_spelling_resolves_to_its_own_province():
    for row in P.alias_table().itertuples(index=False):
        assert P.resolve_province(row.spelling, row.country) == row.name_en, row


def test_key_rule_by_hand():
    assert P.province_key("Khorāsān-e Raẕavī") == "khorasan e razavi"
    assert P.province_key("  استان   تهران ") == "تهران"
    assert P.province_key("Chaharmahal & Bakhtiari") == "chaharmahal and bakhtiari"
    assert P.province_key("A.B_C") == "a b c"


def test_unknown_spellings():
    assert P.resolve_province("Atlantis", "IRN") is None
    assert P.resolve_province("Shiraz", "IRN") is None    # a city, not a province
    with pytest.raises(UnknownNameError) as e:
        P.canonical_province("Atlantis", "IRN")
    assert "'Atlantis'" in str(e.value) and "Isfahan" in str(e.value)
    assert P.canonical_province(" Bavaria ", "DEU") == "Bavaria"   # no list for Germany: kept as given


def test_display_names():
    assert P.province_name("Tehran", "fa") == "تهران"
    assert P.province_name("Razavi Khorasan", "fa") == "خراسان رضوی"
    assert P.province_name("Tehran", "en") == "Tehran"
    assert P.province_name("Atlantis", "fa") == "Atlantis"


def test_custom_list_and_bad_list(tmp_path):
    good = tmp_path / "prov.csv"
    good.write_text("country,code,name_en,name_fa,aliases\nTUR,TR-34,Istanbul,استانبول,İstanbul|Stamboul\n",
                    encoding="utf-8")
    assert P.resolve_province("ISTANBUL", "TUR", good) == "Istanbul"
    assert P.resolve_province("İstanbul", "tur", good) == "Istanbul"
    assert not P.has_provinces("IRN", good)
    clash = tmp_path / "clash.csv"
    clash.write_text("country,code,name_en,name_fa,aliases\nIRN,X-1,A,,Same\nIRN,X-2,B,,same\n", encoding="utf-8")
    with pytest.raises(InputError, match="names both"):
        P.resolve_province("A", "IRN", clash)
    bad = tmp_path / "bad.csv"
    bad.write_text("country,name\nIRN,A\n", encoding="utf-8")
    with pytest.raises(InputError, match="lacks column"):
        P.provinces(path=bad)


def _provincial_frame() -> pd.DataFrame:
    """National rows plus Tehran rows stored under two spellings (as an older warehouse may hold them)."""
    base = dict(year=2022, reporter="IRN", flow="export", product="5701", hs_revision="HS2017")
    rows = [dict(base, partner="TUR", value_usd=100.0, province=None),
            dict(base, partner="TUR", value_usd=30.0, province="Tehran"),
            dict(base, partner="IRQ", value_usd=20.0, province="تهران"),
            dict(base, partner="IRQ", value_usd=7.0, province="Isfahan")]
    return complete_flows(pd.DataFrame(rows))


@pytest.mark.parametrize("asked", ["Tehran", "tehran", "تهران", "IR-23", "استان تهران", "Teheran"])
def test_selection_accepts_any_spelling_and_finds_both_stored_spellings(asked):
    t = select_flows(_provincial_frame(), reporter="IRN", province=asked)
    assert t.value_usd.sum().execute() == pytest.approx(50.0)     # 30 + 20, not Isfahan, not national


def test_selection_unknown_province_lists_the_stored_ones():
    with pytest.raises(UnknownNameError) as e:
        select_flows(_provincial_frame(), reporter="IRN", province="Atlantis")
    assert "Isfahan" in str(e.value)


def test_no_accents_left_in_canonical_names():
    for name in P.provinces()["name_en"]:
        assert unicodedata.normalize("NFKD", name) == name


_ALPHABET = "abcdeghiklmnorstuvyzāīūşẕḩĀŞ AEIOU-_.,&'()/ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیيكةآ\u200c"


def _sql_keys(values: list[str]) -> list[str]:
    import duckdb
    con = duckdb.connect()
    con.register("v", pd.DataFrame({"s": values, "i": range(len(values))}))
    return [k for k, in con.execute(f"SELECT {P.province_key_sql('s')} FROM v ORDER BY i").fetchall()]


def test_sql_key_equals_python_key_on_every_listed_spelling():
    values = list(P.alias_table()["spelling"]) + ["استان تهران", "Tehran Province", "سیستان وبلوچستان", "", "استان"]
    assert _sql_keys(values) == [P.province_key(v) for v in values]


def test_sql_key_equals_python_key_property():
    """Hypothesis: on strings over Latin (with the accents used in romanisations), Persian/Arabic letters,
    spaces, ZWNJ and the punctuation of the rule, the SQL and Python keys agree."""
    from hypothesis import given, settings, strategies as st

    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.text(alphabet=_ALPHABET, max_size=30), min_size=1, max_size=20))
    def check(values):
        assert _sql_keys(values) == [P.province_key(v) for v in values]

    check()


# ---------------------------------------------------------------- one spelling across modules
def test_working_group_province_is_stored_canonical_and_found_by_any_spelling(tmp_path):
    from tradepulse.groups.db import session_factory
    from tradepulse.groups.service import GroupService
    f = session_factory(f"sqlite:///{tmp_path / 'g.sqlite'}")
    with f() as session:
        svc = GroupService(session)
        svc.ensure_seed_institutions("test")
        g = svc.create_group("Tehran WG", province="استان تهران", actor="t")
        svc.create_group("Markazi WG", province="Central", actor="t")
        assert g.province == "Tehran"
        assert svc.group_for_province("IR-23").name == "Tehran WG"
        assert svc.group_for_province("تهران").name == "Tehran WG"
        assert svc.group("teheran").name == "Tehran WG"
        assert svc.group_for_province("Markazi").name == "Markazi WG"
        assert svc.group_for_province("Isfahan") is None
    f.kw["bind"].dispose()


def test_roadmap_target_province_is_canonical():
    from tradepulse.roadmap.model import parse_roadmap
    road = parse_roadmap({"roadmap": {"id": "r", "title_en": "r"}, "targets": [{
        "id": "t", "title_en": "t", "metric": "exports", "scope": {"province": "تهران"},
        "baseline": {"year": 1399, "value": 1.0}, "target": {"value": 2.0}, "deadline": {"year": 1404}}]})
    assert road.targets[0].scope.province == "Tehran"


def test_brief_sections_find_a_province_by_any_spelling():
    from tradepulse.reports.sections import _scope
    frame = _provincial_frame()
    for asked in ("تهران", "IR-23", "tehran"):
        assert _scope(frame, "IRN", asked).value_usd.sum().execute() == pytest.approx(50.0)
    with pytest.raises(UnknownNameError):
        _scope(frame, "IRN", "Atlantis")


# ---------------------------------------------------------------- ingest
def test_customs_ingest_stores_listed_names_and_quarantines_unknown_provinces(tmp_path):
    """Every spelling of one province lands as one name; a name not in Iran's list is quarantined with its
    line; a reporter without a list keeps its names as given (trimmed)."""
    from tradepulse.ingest import ingest_file
    from tradepulse.warehouse import Warehouse
    f = tmp_path / "customs.csv"
    f.write_text("سال,استان,نوع جریان,کشور طرف معامله,کد تعرفه,ارزش دلاری\n"
                 "1400,تهران,صادرات,ترکیه,570110,100\n"
                 "1400,استان تهران,صادرات,عراق,570110,200\n"
                 "1400,IR-23,صادرات,چین,570110,300\n"
                 "1400,Teheran,صادرات,هند,570110,400\n"
                 "1400,خراسان\u200cرضوی,صادرات,ترکیه,570110,50\n"
                 "1400,شیراز,صادرات,ترکیه,570110,7\n"
                 "1400,,صادرات,ترکیه,570210,9\n", encoding="utf-8")
    with Warehouse(tmp_path / "wh.duckdb") as wh:
        r = ingest_file(wh, f, "customs", reporter="IRN")
        assert (r.rows_loaded, r.rows_quarantined) == (6, 1)
        got = dict(wh.raw.execute("SELECT coalesce(province, '-'), sum(value_usd) FROM flows GROUP BY 1").fetchall())
        assert got == {"Tehran": 1000.0, "Razavi Khorasan": 50.0, "-": 9.0}
        q = wh.raw.execute("SELECT line, column_name, value, reason FROM quarantine").fetchall()
        assert q == [(7, "province", "شیراز", "unknown province of the reporter (not in its province list)")]
        # another reporter without a province list: names kept as given
        g = tmp_path / "tr.csv"
        g.write_text("year,reporter,partner,flow,product,value_usd,province\n"
                     "2021,TUR,IRN,export,5701,10, İstanbul \n", encoding="utf-8")
        assert ingest_file(wh, g, "generic").rows_loaded == 1
        assert wh.raw.execute("SELECT province FROM flows WHERE reporter = 'TUR'").fetchone()[0] == "İstanbul"
