"""Ingest: readers, validation, quarantine line numbers, idempotence — on the real fixtures in ../shared/data.

Expected figures come from PROVENANCE.md (published with the fixtures) or from an independent pandas reading
of the same file; corrupted copies are made in tmp_path, never in the project.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradepulse.errors import InputError
from tradepulse.ingest import ingest_file, ingest_frame

BACI_TOTAL_USD = 69_369_988_138  # PROVENANCE.md: sum v = 69,369,988.138 thousand USD


def q(wh, sql, *params):
    return wh.raw.execute(sql, list(params)).fetchall()


# ------------------------------------------------------------------ BACI
def test_baci_sample_total_codes_and_padding(tmp_warehouse, shared_data):
    """Total = file's v sum × 1000; i 710 → ZAF, 4 → AFG; k zero-padded to 6 (4,442 five-digit codes);
    q "NA" (2,306 rows, padded with spaces) → NULL quantity; unit t."""
    r = ingest_file(tmp_warehouse, shared_data / "baci_sample.csv", "baci")
    assert (r.rows_loaded, r.rows_quarantined, r.skipped) == (71_192, 0, False)
    assert r.value_usd_loaded == pytest.approx(BACI_TOTAL_USD, abs=0.5)
    raw = pd.read_csv(shared_data / "baci_sample.csv")
    assert raw["v"].sum() * 1000 == pytest.approx(r.value_usd_loaded, rel=1e-12)
    rows = dict(q(tmp_warehouse, "SELECT reporter, count(*) FROM flows GROUP BY 1"))
    assert rows == {"ZAF": 68_122, "AFG": 3_070}
    (n5,) = q(tmp_warehouse, "SELECT count(*) FROM flows WHERE product LIKE '0%'")[0]
    assert n5 == int((raw["k"] < 100_000).sum()) == 4_442
    assert q(tmp_warehouse, "SELECT DISTINCT length(product) FROM flows") == [(6,)]
    (nq, nu, units) = q(tmp_warehouse, "SELECT count(*) FILTER (quantity IS NULL), count(*) FILTER (unit IS NULL), "
                                       "list(DISTINCT unit) FILTER (unit IS NOT NULL) FROM flows")[0]
    assert nq == nu == 2_306 and units == ["t"]
    qty = pd.to_numeric(raw["q"].str.strip(), errors="coerce").sum()
    assert q(tmp_warehouse, "SELECT sum(quantity) FROM flows")[0][0] == pytest.approx(qty, rel=1e-12)
    # partners: BACI 842 → USA, 251 → FRA, 699 → IND (codes that differ from ISO numeric)
    (usa,) = q(tmp_warehouse, "SELECT sum(value_usd) FROM flows WHERE partner = 'USA'")[0]
    assert usa == pytest.approx(raw.loc[raw["j"] == 842, "v"].sum() * 1000)
    assert q(tmp_warehouse, "SELECT DISTINCT flow, year, source FROM flows") == [("export", 2021, "baci")]


def _corrupt(shared_data, tmp_path, edits: dict[int, bytes], append: list[bytes] = ()) -> tuple:
    lines = (shared_data / "baci_sample.csv").read_bytes().split(b"\r\n")
    assert lines[-1] == b""
    original = {ln: lines[ln - 1] for ln in edits}
    for ln, text in edits.items():
        lines[ln - 1] = text
    lines = lines[:-1] + list(append) + [b""]
    out = tmp_path / "baci_corrupt.csv"
    out.write_bytes(b"\r\n".join(lines))
    return out, original


def test_baci_five_corrupted_lines_are_quarantined_with_line_numbers(tmp_warehouse, shared_data, tmp_path):
    """Five bad lines (unknown country, negative value, text value, 8-digit product, truncated last line):
    the other 71,187 rows load; exactly those 5 lines are quarantined; value = total − their v × 1000."""
    edits = {3: b"2021,1,24,481890,0.041,\"        0.022\"",       # unknown numeric country code
             1000: None, 20000: None, 40000: None, 71193: b"2021,710,4"}
    lines = (shared_data / "baci_sample.csv").read_bytes().split(b"\r\n")
    t, i, j, k, v, qq = lines[999].split(b",")
    edits[1000] = b",".join([t, i, j, k, b"-" + v, qq])                   # negative value
    t, i, j, k, v, qq = lines[19999].split(b",")
    edits[20000] = b",".join([t, i, j, k, b"abc", qq])                    # value not a number
    t, i, j, k, v, qq = lines[39999].split(b",")
    edits[40000] = b",".join([t, i, j, b"12345678", v, qq])               # product of 8 digits
    path, original = _corrupt(shared_data, tmp_path, edits)
    r = ingest_file(tmp_warehouse, path, "baci")
    assert (r.rows_loaded, r.rows_quarantined) == (71_187, 5)
    lost = sum(float(original[ln].split(b",")[4]) for ln in edits) * 1000
    assert r.value_usd_loaded == pytest.approx(BACI_TOTAL_USD - lost, abs=1e-3)
    qrows = q(tmp_warehouse, "SELECT line, column_name, reason, file, raw FROM quarantine ORDER BY line")
    assert [x[0] for x in qrows] == [3, 1000, 20000, 40000, 71193]
    cols = [x[1] for x in qrows]
    assert cols[0] == "reporter" and cols[1] == "value_usd" and cols[2] == "v" and cols[3] == "product"
    assert "unknown numeric country code" in qrows[0][2]
    assert qrows[1][2] == "negative value_usd"
    assert "wrong HS code length" in qrows[3][2]
    assert all(x[3] == str(path) for x in qrows)
    assert qrows[4][4] == "2021,710,4"


def test_duplicate_keys_quarantine_every_copy(tmp_warehouse, shared_data, tmp_path):
    """Line 5 repeated at the end: both copies quarantined (neither is trusted), lines 5 and 71194."""
    lines = (shared_data / "baci_sample.csv").read_bytes().split(b"\r\n")
    path, _ = _corrupt(shared_data, tmp_path, {}, append=[lines[4]])
    r = ingest_file(tmp_warehouse, path, "baci")
    assert (r.rows_loaded, r.rows_quarantined) == (71_191, 2)
    qrows = q(tmp_warehouse, "SELECT line, column_name, reason FROM quarantine ORDER BY line")
    assert [(x[0], x[1]) for x in qrows] == [(5, "key"), (71194, "key")]
    assert qrows[0][2].startswith("duplicate key")
    v5 = float(lines[4].split(b",")[4]) * 1000
    assert r.value_usd_loaded == pytest.approx(BACI_TOTAL_USD - v5, abs=1e-3)


def test_same_file_twice_is_skipped_and_replace_reloads(tmp_warehouse, shared_data, tmp_path):
    first = ingest_file(tmp_warehouse, shared_data / "baci_sample.csv", "baci")
    again = ingest_file(tmp_warehouse, shared_data / "baci_sample.csv", "baci")
    assert again.skipped and again.load_id == first.load_id and again.rows_loaded == 0
    assert q(tmp_warehouse, "SELECT count(*), sum(value_usd) FROM flows")[0] == (71_192, pytest.approx(BACI_TOTAL_USD))
    rep = ingest_file(tmp_warehouse, shared_data / "baci_sample.csv", "baci", replace=True)
    assert not rep.skipped and rep.rows_replaced == 71_192
    assert q(tmp_warehouse, "SELECT count(*), count(DISTINCT load_id) FROM flows")[0] == (71_192, 1)
    assert q(tmp_warehouse, "SELECT count(*) FROM loads")[0][0] == 1
    # a changed file under the same name replaces the old rows
    lines = (shared_data / "baci_sample.csv").read_bytes().split(b"\r\n")
    path = tmp_path / "part.csv"
    path.write_bytes(b"\r\n".join(lines[:2001] + [b""]))   # header + first 2,000 rows
    # its 2,000 rows repeat keys of the sample (another file): superseding them must be asked for
    assert ingest_file(tmp_warehouse, path, "baci", on_overlap="replace").rows_loaded == 2000
    assert q(tmp_warehouse, "SELECT count(*) FROM flows")[0][0] == 71_192
    path.write_bytes(b"\r\n".join(lines[:1001] + [b""]))   # header + first 1,000 rows
    r = ingest_file(tmp_warehouse, path, "baci", replace=True)
    assert r.rows_loaded == 1000 and r.rows_replaced == 2000 and r.rows_overlapping == 0
    assert q(tmp_warehouse, "SELECT count(*) FROM flows")[0][0] == 71_192 - 1000


def test_baci_zip_and_country_code_file(tmp_warehouse, shared_data, tmp_path):
    """A BACI zip (data CSV + country_codes CSV) loads like the CSV; 380 (ISO Italy) is still known."""
    import zipfile
    z = tmp_path / "BACI_HS17_V202201.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(shared_data / "baci_sample.csv", "BACI_HS17_Y2021_V202201.csv")
        zf.write(shared_data / "baci_country_codes_V202201.csv", "country_codes_V202201.csv")
    r = ingest_file(tmp_warehouse, z, "baci", hs_revision="HS17")
    assert (r.rows_loaded, r.rows_quarantined) == (71_192, 0)
    assert r.value_usd_loaded == pytest.approx(BACI_TOTAL_USD, abs=0.5)
    assert q(tmp_warehouse, "SELECT DISTINCT hs_revision FROM flows") == [("HS2017",)]
    (ita,) = q(tmp_warehouse, "SELECT count(*) FROM flows WHERE partner = 'ITA'")[0]
    raw = pd.read_csv(shared_data / "baci_sample.csv")
    assert ita == int(raw["j"].isin([380, 381]).sum()) > 0


# ------------------------------------------------------------------ generic / comtrade on real fixtures
def test_world_trade_2017_generic_mapping(tmp_warehouse, shared_data, tmp_path):
    """world_trade_2017_hs4: 56,461 null values quarantined as missing; 176,971 rows; total and IRN from
    PROVENANCE.md; partner WLD, year 2017 given as options."""
    m = tmp_path / "map.yaml"
    m.write_text("columns:\n  reporter: exporter\n  product: product\n  value_usd: value_usd\n")
    r = ingest_file(tmp_warehouse, shared_data / "world_trade_2017_hs4.parquet", "generic", mapping=m,
                    year=2017, partner="WLD", flow="export")
    assert (r.rows_loaded, r.rows_quarantined) == (176_971, 56_461)
    assert r.value_usd_loaded == 20_080_692_967_295
    (irn, n_irn) = q(tmp_warehouse, "SELECT sum(value_usd), count(*) FROM flows WHERE reporter = 'IRN'")[0]
    assert (irn, n_irn) == (90_833_257_951, 1_138)
    assert q(tmp_warehouse, "SELECT DISTINCT reason, column_name FROM quarantine") == [("missing value", "value_usd")]
    # line numbers are record positions + 1 (as if written to CSV with a header)
    raw = pd.read_parquet(shared_data / "world_trade_2017_hs4.parquet")
    expect = (np.flatnonzero(raw["value_usd"].isna().to_numpy()) + 2).tolist()
    got = [x[0] for x in q(tmp_warehouse, "SELECT line FROM quarantine ORDER BY line")]
    assert got == expect
    assert q(tmp_warehouse, "SELECT DISTINCT partner, year FROM flows") == [("WLD", 2017)]
    (top,) = q(tmp_warehouse, "SELECT product FROM flows GROUP BY 1 ORDER BY sum(value_usd) DESC LIMIT 1")[0]
    assert top == "2709"


def test_comtrade_partner_totals_w00_becomes_wld(tmp_warehouse, shared_data):
    """Comtrade totals by partner: W00 → WLD (1,392 rows), area codes (S19, _X, X1 ...) kept, sums equal."""
    path = shared_data / "comtrade_partner_totals_2014_2022.parquet"
    r = ingest_file(tmp_warehouse, path, "comtrade", product="TOTAL")
    raw = pd.read_parquet(path)
    assert (r.rows_loaded, r.rows_quarantined) == (200_721, 0)
    assert r.value_usd_loaded == pytest.approx(raw["value_usd"].sum(), rel=1e-12)
    assert q(tmp_warehouse, "SELECT count(*) FROM flows WHERE partner = 'WLD'")[0][0] == 1_392
    assert q(tmp_warehouse, "SELECT count(*) FROM flows WHERE partner = 'W00'")[0][0] == 0
    (s19,) = q(tmp_warehouse, "SELECT count(*) FROM flows WHERE reporter = 'S19'")[0]
    assert s19 == 1_749
    irn = dict(q(tmp_warehouse, "SELECT year, value_usd FROM flows WHERE reporter = 'IRN' AND partner = 'WLD'"))
    assert irn[2014] == pytest.approx(9.03e10, rel=1e-3) and sorted(irn) == [2014, 2015, 2016, 2017, 2018]
    assert q(tmp_warehouse, "SELECT DISTINCT product, flow FROM flows") == [("TOTAL", "export")]


def test_comtrade_classic_and_plus_column_names(tmp_warehouse, tmp_path):
    """Both Comtrade layouts map to the same rows: flow codes X/M/RX and 2/1/3, H5 → HS2017, W00 → WLD."""
    plus = tmp_path / "plus.csv"
    plus.write_text(
        "typeCode,freqCode,refYear,reporterISO,flowCode,partnerISO,classificationCode,cmdCode,primaryValue,netWgt\n"
        "C,A,2021,IRN,X,W00,H5,5701,1000.5,20\n"
        "C,A,2021,IRN,X,TUR,H5,5701,600,12\n"
        "C,A,2021,IRN,M,CHN,H5,8517,2500,\n"
        "C,A,2021,IRN,RX,_X,H5,570110,10,1\n")
    classic = tmp_path / "classic.csv"
    classic.write_text(
        "Classification,Year,Trade Flow Code,Reporter ISO,Partner ISO,Commodity Code,Trade Value (US$),"
        "Netweight (kg)\n"
        "H5,2021,2,IRN,WLD,5701,1000.5,20\n"
        "H5,2021,2,IRN,TUR,5701,600,12\n"
        "H5,2021,1,IRN,CHN,8517,2500,\n"
        "H5,2021,3,IRN,_X,570110,10,1\n")
    from tradepulse.warehouse import Warehouse
    cols = "year, reporter, partner, flow, product, hs_revision, value_usd, quantity, unit"
    a = ingest_file(tmp_warehouse, plus, "comtrade")
    with Warehouse(tmp_path / "classic.duckdb") as other:  # the same rows again would be "already loaded"
        b = ingest_file(other, classic, "comtrade")
        rows = [q(wh, f"SELECT {cols} FROM flows ORDER BY ALL") for wh in (tmp_warehouse, other)]
    assert (a.rows_loaded, b.rows_loaded, a.rows_quarantined, b.rows_quarantined) == (4, 4, 0, 0)
    assert rows[0] == rows[1]
    assert ("export", "WLD", 1000.5) in [(x[3], x[2], x[6]) for x in rows[0]]
    assert {x[3] for x in rows[0]} == {"export", "import", "re-export"}
    assert {x[5] for x in rows[0]} == {"HS2017"}
    assert [x[7] for x in rows[0] if x[2] == "CHN"] == [None] and [x[8] for x in rows[0] if x[2] == "CHN"] == [None]


# ------------------------------------------------------------------ generic text path: every check
def test_generic_csv_each_check_and_line(tmp_warehouse, tmp_path):
    """One bad value per line; each reason and line number is checked (header = line 1)."""
    f = tmp_path / "g.csv"
    f.write_text(
        "year,month,reporter,partner,flow,product,value_usd,quantity,unit\n"
        "2021,1,IRN,TUR,export,5701,100,5,kg\n"          # 2 ok
        "20x1,1,IRN,TUR,export,5702,100,5,kg\n"          # 3 year not integer
        "2021,13,IRN,TUR,export,5703,100,5,kg\n"         # 4 month
        "2021,1,XYZ,TUR,export,5704,100,5,kg\n"          # 5 unknown reporter
        "2021,1,IRN,TUR,sideways,5705,100,5,kg\n"        # 6 flow
        "2021,1,IRN,TUR,export,57A1,100,5,kg\n"          # 7 ill-formed product
        "2021,1,IRN,TUR,export,57011,100,5,kg\n"         # 8 5 digits → padded 057011 → ok (odd length rule)
        "2021,1,IRN,TUR,export,7701,100,5,kg\n"          # 9 chapter 77 unknown
        "2021,1,IRN,TUR,export,5706,,5,kg\n"             # 10 missing value
        "2021,1,IRN,TUR,export,5707,-1,5,kg\n"           # 11 negative value
        "2021,1,IRN,TUR,export,5708,100,-5,kg\n"         # 12 negative quantity
        "2021,1,IRN,W00,export,5709,1e3,,\n"             # 13 ok: W00 → WLD, quantity missing
        "2021,1,IRN,TUR,export,5710,100,5,kg,extra\n"    # 14 malformed line (too many fields)
        "2021,1,IRN,S19,import,5711,\"1,234.5\",5,kg\n"  # 15 ok: area code kept; thousands separator
        "1400,1,IRN,TUR,export,5712,100,5,kg\n")         # 16 ok (year 1400 < 1900 → out of range, gregorian)
    r = ingest_file(tmp_warehouse, f, "generic")
    got = {x[0]: (x[1], x[2]) for x in q(tmp_warehouse, "SELECT line, column_name, reason FROM quarantine")}
    assert got[3] == ("year", "year is not an integer")
    assert got[4] == ("month", "month is not 1-12")
    assert got[5] == ("reporter", "unknown country code")
    assert got[6][0] == "flow"
    assert got[7] == ("product", "ill-formed product code (digits expected)")
    assert got[9] == ("product", "unknown HS chapter")
    assert got[10] == ("value_usd", "missing value")
    assert got[11] == ("value_usd", "negative value_usd")
    assert got[12] == ("quantity", "negative quantity")
    assert got[14][1].startswith("unreadable line")
    assert got[16] == ("year", "year out of range 1900-2100")
    assert sorted(got) == [3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 16]
    assert r.rows_loaded == 4 and r.rows_quarantined == 11
    ok = q(tmp_warehouse, "SELECT product, partner, value_usd, quantity FROM flows ORDER BY product")
    assert ok == [("057011", "TUR", 100.0, 5.0), ("5701", "TUR", 100.0, 5.0), ("5709", "WLD", 1000.0, None),
                  ("5711", "S19", 1234.5, 5.0)]


def test_unusable_files_raise_input_error_and_leave_warehouse_unchanged(tmp_warehouse, tmp_path, shared_data):
    ingest_file(tmp_warehouse, shared_data / "baci_sample.csv", "baci")
    before = q(tmp_warehouse, "SELECT count(*), sum(value_usd) FROM flows")
    f = tmp_path / "nocol.csv"
    f.write_text("t,i,j,v,q\n2021,4,24,1.0,NA\n")
    with pytest.raises(InputError) as e:
        ingest_file(tmp_warehouse, f, "baci")
    assert e.value.column == "product" and e.value.line == 1 and e.value.file == str(f)
    bad = tmp_path / "allbad.csv"
    bad.write_text("t,i,j,k,v,q\n2021,4,24,010121,-1,NA\n2021,4,24,010122,-2,NA\n")
    with pytest.raises(InputError) as e:
        ingest_file(tmp_warehouse, bad, "baci")
    assert e.value.line == 2 and e.value.column == "value_usd" and "no usable rows" in str(e.value)
    with pytest.raises(InputError):
        ingest_file(tmp_warehouse, tmp_path / "missing.csv", "baci")
    with pytest.raises(InputError, match="unknown format"):
        ingest_file(tmp_warehouse, f, "nope")
    assert q(tmp_warehouse, "SELECT count(*), sum(value_usd) FROM flows") == before
    assert q(tmp_warehouse, "SELECT count(*) FROM quarantine")[0][0] == 0
    assert q(tmp_warehouse, "SELECT count(*) FROM loads")[0][0] == 1


# ------------------------------------------------------------------ customs (Persian), services, macro, frames
def test_customs_persian_headers_jalali_and_hs6_aggregation(tmp_warehouse, tmp_path):
    """Persian headers via the shipped mapping; Solar Hijri year/month → Gregorian (checked with jdatetime);
    Persian digits; partner by Persian name; 8-digit tariff lines summed to HS6; Persian province names (also
    with Arabic kaf) stored as the reference list's name."""
    import jdatetime
    f = tmp_path / "customs.csv"
    f.write_text(
        "سال,ماه,استان,نوع جریان,کشور طرف معامله,کد تعرفه,ارزش دلاری,وزن\n"
        "1400,1,تهران,صادرات,ترکیه,57011010,۱۰۰۰,50\n"
        "1400,1,تهران,صادرات,ترکیه,57011090,500,25\n"
        "1400,10,اصفهان,صادرات,عراق,57021000,\"2,500\",\n"
        "1401,12,كرمان,واردات,چین,85171300,7000,3\n"
        "1401,12,كرمان,واردات,ناکجاآباد,85171300,7000,3\n", encoding="utf-8")
    r = ingest_file(tmp_warehouse, f, "customs", reporter="IRN")
    assert (r.rows_loaded, r.rows_quarantined) == (3, 1)
    assert q(tmp_warehouse, "SELECT line, column_name FROM quarantine") == [(6, "partner")]
    rows = q(tmp_warehouse, "SELECT year, month, province, flow, reporter, partner, product, value_usd, quantity, "
                            "unit FROM flows ORDER BY year, month")
    def greg(y, m):
        g = jdatetime.date(y, m, 15).togregorian()
        return g.year, g.month
    assert rows[0] == (*greg(1400, 1), "Tehran", "export", "IRN", "TUR", "570110", 1500.0, 75.0, "kg")
    assert rows[1] == (*greg(1400, 10), "Isfahan", "export", "IRN", "IRQ", "570210", 2500.0, None, None)
    assert rows[2] == (*greg(1401, 12), "Kerman", "import", "IRN", "CHN", "851713", 7000.0, 3.0, "kg")


def test_jalali_month_rule_matches_jdatetime_for_all_months(tmp_warehouse, tmp_path):
    """(y, m) Solar Hijri → Gregorian (year, month) of the month's 15th day, for 1390–1405 × 12 months."""
    import jdatetime
    ys, ms = np.meshgrid(np.arange(1390, 1406), np.arange(1, 13), indexing="ij")
    frame = pd.DataFrame({"year": ys.ravel(), "month": ms.ravel()})
    frame["product"] = [f"{57 + 0:02d}{i % 100:02d}" for i in range(len(frame))]
    frame["product"] = [f"57{i:04d}" for i in range(len(frame))]
    frame = frame.assign(reporter="IRN", partner="TUR", flow="export", value_usd=1.0)
    f = tmp_path / "j.csv"
    frame.to_csv(f, index=False)
    ingest_file(tmp_warehouse, f, "generic", calendar="jalali")
    got = q(tmp_warehouse, "SELECT product, year, month FROM flows ORDER BY product")
    expect = []
    for i, (y, m) in enumerate(zip(frame["year"], frame["month"])):
        g = jdatetime.date(int(y), int(m), 15).togregorian()
        expect.append((f"57{i:04d}", g.year, g.month))
    assert got == expect


def test_macro_csv_world_bank(tmp_warehouse, shared_data):
    """GDP/population 2017: IRN values from PROVENANCE.md; ROM → ROU; WB aggregates (EUU, ARB ...) quarantined."""
    r = ingest_file(tmp_warehouse, shared_data / "world_gdp_and_population_2017.csv", "macro", year=2017)
    assert r.rows_loaded + r.rows_quarantined == 262
    irn = q(tmp_warehouse, "SELECT gdp_usd, population FROM macro WHERE iso3 = 'IRN'")[0]
    assert irn[0] == pytest.approx(4.540e11, rel=1e-3) and irn[1] == 81_162_788
    assert q(tmp_warehouse, "SELECT count(*) FROM macro WHERE iso3 = 'ROU'")[0][0] == 1
    reasons = dict(q(tmp_warehouse, "SELECT value, reason FROM quarantine"))
    assert reasons["EUU"] == "unknown country code" and reasons["ARB"] == "unknown country code"
    assert "IRN" not in reasons


def test_services_csv(tmp_warehouse, tmp_path):
    f = tmp_path / "svc.csv"
    f.write_text("year,reporter,partner,flow,ebops,value\n2021,IRN,TUR,X,SD,100\n2021,IRN,TUR,M,SJ22,50\n"
                 "2021,IRN,TUR,re-export,SD,1\n2021,IRN,TUR,X,??,1\n")
    r = ingest_file(tmp_warehouse, f, "services")
    assert (r.rows_loaded, r.rows_quarantined, r.value_usd_loaded) == (2, 2, 150.0)
    assert dict(q(tmp_warehouse, "SELECT line, column_name FROM quarantine")) == {4: "flow", 5: "ebops"}


def test_ingest_frame_validates_like_a_file(tmp_warehouse):
    frame = pd.DataFrame({"year": [2021, 2021, 2022], "month": [None, None, None],
                          "reporter": ["IRN", "IRN", "IRN"], "partner": ["TUR", "ZZZ", "WLD"],
                          "flow": ["export"] * 3, "product": ["5701", "5702", "5701"],
                          "hs_revision": ["HS2012"] * 3, "value_usd": [10.0, 20.0, 30.0],
                          "quantity": [1.0, None, None], "unit": ["kg", None, None], "province": [None] * 3})
    r = ingest_frame(tmp_warehouse, frame, source="demo-synthetic", name="demo_flows")
    assert (r.rows_loaded, r.rows_quarantined, r.value_usd_loaded) == (2, 1, 40.0)
    assert q(tmp_warehouse, "SELECT file, line, value FROM quarantine") == [("demo_flows", 3, "ZZZ")]
    assert q(tmp_warehouse, "SELECT DISTINCT source, hs_revision FROM flows") == [("demo-synthetic", "HS2012")]
    assert ingest_frame(tmp_warehouse, frame, source="demo-synthetic", name="demo_flows").skipped
    macro = pd.DataFrame({"year": [2021], "iso3": ["IRN"], "gdp_usd": [4e11], "population": [8.5e7]})
    m = ingest_frame(tmp_warehouse, macro, source="wdi", name="m", target="macro")
    assert m.rows_loaded == 1 and m.value_usd_loaded == 0.0
    with pytest.raises(InputError, match="lacks required"):
        ingest_frame(tmp_warehouse, frame.drop(columns="product"), source="x", name="y")


def test_comtrade_months_from_refmonth_and_period(tmp_warehouse, tmp_path):
    """"+" refMonth 1–12 → month (52 = annual → NULL); classic Period YYYYMM → year and month."""
    plus = tmp_path / "m.csv"
    plus.write_text("freqCode,refYear,refMonth,period,reporterISO,flowCode,partnerISO,cmdCode,primaryValue\n"
                    "M,2021,1,202101,IRN,X,TUR,5701,10\nM,2021,2,202102,IRN,X,TUR,5701,20\n"
                    "A,2021,52,2021,IRN,X,TUR,5701,30\n")
    classic = tmp_path / "c.csv"
    classic.write_text("Period,Trade Flow Code,Reporter ISO,Partner ISO,Commodity Code,Trade Value (US$)\n"
                       "202103,2,IRN,TUR,5701,40\n202104,2,IRN,TUR,5701,50\n")
    a = ingest_file(tmp_warehouse, plus, "comtrade")
    b = ingest_file(tmp_warehouse, classic, "comtrade")
    assert (a.rows_loaded, b.rows_loaded, a.rows_quarantined, b.rows_quarantined) == (3, 2, 0, 0)
    got = q(tmp_warehouse, "SELECT year, month, value_usd FROM flows ORDER BY value_usd")
    assert got == [(2021, 1, 10.0), (2021, 2, 20.0), (2021, None, 30.0), (2021, 3, 40.0), (2021, 4, 50.0)]


def test_generic_excel_lines_and_options(tmp_warehouse, tmp_path):
    """Excel: row 1 is the header, so the bad record in sheet row 3 is quarantined as line 3."""
    f = tmp_path / "x.xlsx"
    pd.DataFrame({"Exporter": ["IRN", "QQQ", "TUR"], "HS": ["5701", "5702", "0101"],
                  "Value": [5.0, 6.0, 7.0]}).to_excel(f, index=False)
    m = tmp_path / "m.yaml"
    m.write_text("columns: {reporter: Exporter, product: HS, value_usd: Value}\n"
                 "constants: {year: 2020, partner: WLD, flow: export}\n")
    r = ingest_file(tmp_warehouse, f, "generic", mapping=m)
    assert (r.rows_loaded, r.rows_quarantined, r.value_usd_loaded) == (2, 1, 12.0)
    assert q(tmp_warehouse, "SELECT line, value FROM quarantine") == [(3, "QQQ")]
    with pytest.raises(InputError, match="unknown reader options"):
        ingest_file(tmp_warehouse, f, "generic", mapping=m, __month_expr="1")


def test_true_lines_matches_brute_force():
    """Line of the n-th accepted record when some physical lines were rejected: vectorised vs a plain walk."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from tradepulse.ingest._core import _true_lines

    @settings(max_examples=200, deadline=None)
    @given(st.sets(st.integers(2, 60), max_size=20), st.integers(1, 30))
    def check(rejected, n):
        accepted = [ln for ln in range(2, 200) if ln not in rejected]
        rn = np.arange(1, n + 1)
        got = _true_lines(rn, 2, np.array(sorted(rejected), dtype=np.int64))
        assert got.tolist() == accepted[:n]

    check()


def test_mapping_files(tmp_path):
    from tradepulse.ingest import load_mapping
    fa = load_mapping("customs_fa")
    assert fa["columns"]["province"][0] == "استان" and fa["options"]["product_truncate"] == 6
    bare = tmp_path / "bare.yaml"
    bare.write_text("reporter: exporter\n")
    assert load_mapping(bare) == {"columns": {"reporter": "exporter"}}
    bad = tmp_path / "bad.toml"
    bad.write_text("columns = [")
    with pytest.raises(InputError, match="cannot read mapping"):
        load_mapping(bad)
    odd = tmp_path / "odd.yaml"
    odd.write_text("columns: {}\nsql: DROP\n")
    with pytest.raises(InputError, match="unknown mapping keys"):
        load_mapping(odd)


def test_deferred_digest_skips_and_replaces_inside_the_transaction(tmp_warehouse, shared_data, tmp_path,
                                                                   monkeypatch):
    """Big new files are hashed while loading: a copy of a loaded file under another name is rolled back
    and reported as skipped; with replace it takes the earlier load's place."""
    import shutil

    import tradepulse.ingest as ingest
    monkeypatch.setattr(ingest, "HASH_FIRST_BELOW", 0)
    first = ingest_file(tmp_warehouse, shared_data / "baci_sample.csv", "baci")
    copy = tmp_path / "copy.csv"
    shutil.copy(shared_data / "baci_sample.csv", copy)
    again = ingest_file(tmp_warehouse, copy, "baci")
    assert again.skipped and again.load_id == first.load_id and again.sha256 == first.sha256
    assert q(tmp_warehouse, "SELECT count(*), count(DISTINCT load_id) FROM flows")[0] == (71_192, 1)
    rep = ingest_file(tmp_warehouse, copy, "baci", replace=True)
    assert rep.rows_replaced == 71_192 and rep.rows_loaded == 71_192
    assert q(tmp_warehouse, "SELECT count(*), min(load_id) FROM flows")[0] == (71_192, rep.load_id)
    assert q(tmp_warehouse, "SELECT count(*) FROM loads")[0][0] == 1


def test_baci_fast_path_equals_generic_text_path(tmp_path, shared_data):
    """The typed BACI first pass and the generic text path (forced by an explicit column mapping) load the
    same rows and quarantine the same lines of a corrupted copy."""
    from tradepulse.warehouse import Warehouse
    lines = (shared_data / "baci_sample.csv").read_bytes().split(b"\r\n")
    t, i, j, k, v, qq = lines[99].split(b",")
    edits = {50: b"2021,4,24,770000,1.0,NA", 100: b",".join([t, i, j, k, v, b"\"  -3\""]),
             200: b"1850,4,24,010121,1.0,NA", 300: b"2021,4,24,12,1.0,NA", 400: b"2021,4,24,010121,x,NA"}
    path, _ = _corrupt(shared_data, tmp_path, edits)
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns: {year: t, reporter: i, partner: j, product: k, value_usd: v, quantity: q}\n")
    out = {}
    for name, opts in (("fast", {}), ("text", {"mapping": mapping})):
        with Warehouse(tmp_path / f"{name}.duckdb") as wh:
            r = ingest_file(wh, path, "baci", **opts)
            rows = wh.raw.execute("SELECT year, reporter, partner, product, value_usd, quantity, unit FROM flows "
                                  "ORDER BY ALL").df()
            qlines = [x[0] for x in wh.raw.execute("SELECT line FROM quarantine ORDER BY line").fetchall()]
            out[name] = (r.rows_loaded, r.rows_quarantined, rows, qlines)
    assert out["fast"][:2] == out["text"][:2] == (71_187, 5)
    pd.testing.assert_frame_equal(out["fast"][2], out["text"][2])
    assert out["fast"][3] == out["text"][3] == [50, 100, 200, 300, 400]


def test_first_and_second_pass_agree_on_messy_values(tmp_path):
    """Random tricky cells (blank, NA, nan, -nan, inf, negatives, separators, Persian digits, bad codes):
    the lean first pass and the detailed second pass must reject the same rows (run_load raises otherwise),
    and every row is either loaded or quarantined."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tradepulse.warehouse import Warehouse

    palette = {
        "year": ["2021", "1400", "20x1", "", "NA", "nan", "1850", "2021.0", "۱۴۰۰"],
        "month": ["", "1", "12", "13", "0", "x", "nan", "۳"],
        "reporter": ["IRN", "irn", "XYZ", "", "W00", "S19", "NA", "ترکیه"],
        "partner": ["TUR", "WLD", "_X", "", "QQ", "nan"],
        "flow": ["export", "X", "M", "rx", "sideways", "", "صادرات"],
        "product": ["5701", "57011", "570110", "7701", "57A1", "", "TOTAL", "0101.21", "1"],
        "hs_revision": ["", "H5", "HS2017", "H9", "nan"],
        "value_usd": ["10", "-1", "", "NA", "nan", "-nan", "inf", "-inf", "1e309", "Infinity", "1,234.5", "1,5",
                      "۱۰۰", "abc", "0"],
        "quantity": ["", "5", "-5", "NA", "nan", "-nan", "x", "1e3", "inf", "1e309"],
    }
    cols = list(palette)
    row = st.tuples(*[st.sampled_from(palette[c]) for c in cols])

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(row, min_size=1, max_size=30), st.sampled_from(["generic", "customs"]))
    def check(rows, fmt):
        d = tmp_path / f"h{abs(hash((tuple(rows), fmt)))}"
        d.mkdir(exist_ok=True)
        f = d / "m.csv"
        pd.DataFrame(rows, columns=cols).to_csv(f, index=False)
        opts = {"country_codes": "name", "calendar": "auto"} if fmt == "customs" else {}
        with Warehouse(d / "wh.duckdb") as wh:
            try:
                r = ingest_file(wh, f, fmt, mapping=None, **opts) if fmt == "generic" else \
                    ingest_file(wh, f, "generic", local_digits=True, **opts)
            except InputError as exc:
                assert "no usable rows" in str(exc)
                return
            n_aggregated = r.rows_loaded + r.rows_quarantined
            assert n_aggregated == len(rows)
            bad = wh.raw.execute("SELECT count(*) FROM flows WHERE NOT isfinite(value_usd) OR isnan(quantity) "
                                 "OR isinf(quantity)").fetchone()[0]
            assert bad == 0   # NaN, ±inf and overflow never stored

    check()


def test_duplicate_keys_with_constant_key_columns(tmp_warehouse, tmp_path):
    """Flow and partner given as constants (left out of the quick key hash), month varies per row.

    Lines 2/3 differ only in month → both kept; lines 4 and 6 share every key → both quarantined;
    line 5 differs from 4 only in product → kept.  Loaded value = 10 + 20 + 40 = 70.
    """
    f = tmp_path / "c.csv"
    f.write_text("year,month,reporter,product,value_usd\n"
                 "2021,1,IRN,5701,10\n"      # 2 ok
                 "2021,2,IRN,5701,20\n"      # 3 ok (other month)
                 "2021,3,IRN,5701,30\n"      # 4 duplicate of 6
                 "2021,3,IRN,5702,40\n"      # 5 ok (other product)
                 "2021,3,IRN,5701,50\n")     # 6 duplicate of 4
    r = ingest_file(tmp_warehouse, f, "generic", flow="export", partner="TUR")
    assert (r.rows_loaded, r.rows_quarantined, r.value_usd_loaded) == (3, 2, 70.0)
    got = q(tmp_warehouse, "SELECT line, column_name, reason FROM quarantine ORDER BY line")
    assert [(x[0], x[1]) for x in got] == [(4, "key"), (6, "key")]
    assert got[0][2] == "duplicate key (2 rows share it)"
    assert q(tmp_warehouse, "SELECT DISTINCT flow, partner FROM flows") == [("export", "TUR")]


@pytest.mark.parametrize("bitmap_bits", [1 << 28, 16])  # the rank bitmap, and the hash fallback
def test_distinct_keys_equals_pandas(bitmap_bits, monkeypatch):
    """``_distinct_keys`` = (rows of the load, distinct key tuples) as counted independently by pandas
    (``drop_duplicates``, NULL equal to NULL), on random keys with NULLs and repeats; other loads' rows and
    an empty column list (one key for all rows) included."""
    import duckdb

    from tradepulse.ingest import _keys

    monkeypatch.setattr(_keys, "KEY_BITMAP_BITS", bitmap_bits)
    rng = np.random.default_rng(7)
    con = duckdb.connect()
    for trial in range(4):
        n = int(rng.integers(1, 400))
        df = pd.DataFrame({
            "year": rng.integers(2000, 2003, n).astype("int16"),
            "reporter": rng.choice(["IRN", "TUR", None], n),
            "product": rng.choice([f"{k:06d}" for k in range(10101, 10101 + int(rng.integers(1, 40)))], n),
            "load_id": rng.choice(["a", "b"], n, p=[0.8, 0.2]),
        })
        con.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM df")
        mine = df[df["load_id"] == "a"]
        cols = ["year", "reporter", "product"]
        assert _keys._distinct_keys(con, "t", "a", cols) == (len(mine), len(mine[cols].drop_duplicates()))
        assert _keys._distinct_keys(con, "t", "a", []) == (len(mine), min(len(mine), 1))
    assert _keys._distinct_keys(con, "t", "none", ["year"]) == (0, 0)
