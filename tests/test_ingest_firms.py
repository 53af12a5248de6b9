"""Ingest of firm-level customs data into ``firm_flows`` (target ``firm_flows``): the customs reader with Persian
headers, the generic reader, ``ingest_frame``, the CLI ``--target`` option, duplicate keys, repeats and the
cross-load overlap guard.  Every expected value below is worked out by hand in the test's docstring."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tradepulse.errors import InputError
from tradepulse.ingest import KEYS, ingest_file, ingest_frame

HEADER = "سال,ماه,استان,کد اقتصادی,کشور طرف معامله,نوع جریان,کد تعرفه,ارزش دلاری,وزن (کیلوگرم)\n"
#: Solar Hijri 1402 month 1 (Farvardin) → Gregorian 2023-04 (by the month's 15th day); month 10 (Dey) → 2024-01.
LINES = [
    "1402,1,تهران,10101,ترکیه,صادرات,57011010,1000,10\n",        # line 2
    "1402,1,استان تهران,10101,ترکیه,صادرات,57011090,500,5\n",     # line 3: same key after HS6 + province map
    "1402,10,اصفهان, 20202 ,عراق,صادرات,5701,300,3\n",            # line 4: firm trimmed, Dey → 2024-01
    "1402,1,تهران,,ترکیه,صادرات,57011010,200,2\n",               # line 5: blank firm → quarantine
    "1402,1,Tehran,20202,ترکیه,صادرات,57011010,700,7\n",          # line 6: other firm, same cell as line 2
    "1402,1,تهران,۳۰۳۰۳,ترکیه,صادرات,5702,100,1\n",             # line 7: Persian digits in the firm id
    "1402,1,استان ناموجود,10101,ترکیه,صادرات,5702,50,1\n",        # line 8: not a province of Iran
]


def firm_rows(wh) -> pd.DataFrame:
    return wh.raw.execute("SELECT year, month, reporter, firm, partner, flow, product, value_usd, quantity, unit, "
                          "province, source FROM firm_flows ORDER BY year, month, firm, product").df()


@pytest.fixture
def customs_file(tmp_path):
    path = tmp_path / "customs-firms.csv"
    path.write_text(HEADER + "".join(LINES), encoding="utf-8")
    return path


def test_customs_firm_file_by_hand(tmp_warehouse, customs_file):
    """Lines 2 + 3: tariff lines 57011010 and 57011090 → HS6 570110, 'تهران' and 'استان تهران' → Tehran, so one
    key: 1000 + 500 = 1500 USD, 10 + 5 = 15 kg, year 1402 + 621 = 2023, month (1 + 2) mod 12 + 1 = 4.
    Line 6: firm 20202 in the same cell → its own row (700).  Line 4: Dey (10) 1402 → 2024-01, firm ' 20202 '
    trimmed, Isfahan, Iraq, HS4 5701.  Line 7: firm '۳۰۳۰۳' → '30303'.  Line 5 (blank firm) and line 8 (unknown
    province) are quarantined with their lines.  Loaded 4 rows, 1500 + 700 + 300 + 100 = 2600 USD."""
    res = ingest_file(tmp_warehouse, customs_file, "customs", target="firm_flows", reporter="IRN")
    assert (res.target, res.rows_loaded, res.rows_quarantined) == ("firm_flows", 4, 2)
    assert res.value_usd_loaded == pytest.approx(2600.0)
    got = firm_rows(tmp_warehouse)
    want = pd.DataFrame({
        "year": [2023, 2023, 2023, 2024], "month": [4, 4, 4, 1], "reporter": "IRN",
        "firm": ["10101", "20202", "30303", "20202"], "partner": ["TUR", "TUR", "TUR", "IRQ"], "flow": "export",
        "product": ["570110", "570110", "5702", "5701"], "value_usd": [1500.0, 700.0, 100.0, 300.0],
        "quantity": [15.0, 7.0, 1.0, 3.0], "unit": "kg", "province": ["Tehran", "Tehran", "Tehran", "Isfahan"],
        "source": "customs"})
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_dtype=False)
    q = tmp_warehouse.raw.execute("SELECT line, column_name, value, reason, raw FROM quarantine ORDER BY line").df()
    assert q["line"].tolist() == [5, 8]
    assert q["column_name"].tolist() == ["firm", "province"]
    assert q.loc[0, "reason"] == "missing firm"
    assert q.loc[1, "reason"].startswith("unknown province") and q.loc[1, "value"] == "استان ناموجود"
    assert q.loc[0, "raw"].startswith("1402,1,تهران,,ترکیه")
    # the flows table is untouched; the load is booked against firm_flows
    assert tmp_warehouse.raw.execute("SELECT count(*) FROM flows").fetchone()[0] == 0
    assert tmp_warehouse.raw.execute("SELECT target FROM loads").fetchall() == [("firm_flows",)]


def test_same_firm_file_as_flows_sums_over_firms(tmp_warehouse, customs_file):
    """The firm file read with the default target (flows) drops the firm column and sums per flows key:
    Tehran–Turkey 570110 in 2023-04 = 1000 + 500 + 700 + 200 (line 5's firm is blank, which flows do not need)
    = 2400 USD — the flows row equals the sum of its firm rows when every declarant is identified."""
    res = ingest_file(tmp_warehouse, customs_file, "customs", reporter="IRN")
    assert (res.target, res.rows_quarantined) == ("flows", 1)  # only line 8 (unknown province)
    v = tmp_warehouse.raw.execute("SELECT value_usd FROM flows WHERE product = '570110'").fetchall()
    assert v == [(2400.0,)]


def test_same_file_twice_is_skipped_and_replace_reloads(tmp_warehouse, customs_file):
    first = ingest_file(tmp_warehouse, customs_file, "customs", target="firm_flows", reporter="IRN")
    again = ingest_file(tmp_warehouse, customs_file, "customs", target="firm_flows", reporter="IRN")
    assert again.skipped and again.load_id == first.load_id and again.rows_loaded == 0
    assert tmp_warehouse.raw.execute("SELECT count(*) FROM firm_flows").fetchone()[0] == 4
    # the same bytes loaded as flows is another target: not a repeat
    other = ingest_file(tmp_warehouse, customs_file, "customs", reporter="IRN")
    assert not other.skipped and other.target == "flows"
    rep = ingest_file(tmp_warehouse, customs_file, "customs", target="firm_flows", replace=True, reporter="IRN")
    assert not rep.skipped and rep.rows_replaced == 4
    assert tmp_warehouse.raw.execute("SELECT count(*), sum(value_usd) FROM firm_flows").fetchone() == (4, 2600.0)


GENERIC = "year,month,reporter,firm,partner,flow,product,value_usd\n"


def test_generic_duplicate_keys_are_quarantined(tmp_warehouse, tmp_path):
    """Generic files are not aggregated: lines 2 and 4 share (2022, 3, IRN, A-1, TUR, export, 570110, NULL) → both
    quarantined as 'duplicate key (2 rows share it)'; line 3 differs by firm only (B-2) and loads, as does
    line 5 (A-1 with another product).  Loaded 2 rows, 30 + 40 = 70 USD."""
    path = tmp_path / "firms.csv"
    path.write_text(GENERIC + "2022,3,IRN,A-1,TUR,export,570110,10\n2022,3,IRN,B-2,TUR,export,570110,30\n"
                    "2022,3,IRN,A-1,TUR,export,570110,20\n2022,3,IRN,A-1,TUR,export,570210,40\n")
    res = ingest_file(tmp_warehouse, path, "generic", target="firm_flows")
    assert (res.rows_loaded, res.rows_quarantined, res.value_usd_loaded) == (2, 2, 70.0)
    q = tmp_warehouse.raw.execute("SELECT line, column_name, reason FROM quarantine ORDER BY line").fetchall()
    assert q == [(2, "key", "duplicate key (2 rows share it)"), (4, "key", "duplicate key (2 rows share it)")]
    assert KEYS["firm_flows"] == ("year", "month", "reporter", "firm", "partner", "flow", "product", "province")


def test_generic_without_firm_column_names_it(tmp_warehouse, tmp_path):
    path = tmp_path / "nofirm.csv"
    path.write_text("year,reporter,partner,flow,product,value_usd\n2022,IRN,TUR,export,5701,1\n")
    with pytest.raises(InputError, match="firm") as exc:
        ingest_file(tmp_warehouse, path, "generic", target="firm_flows")
    assert exc.value.line == 1 and exc.value.column == "firm"
    with pytest.raises(InputError, match="loads into flows"):
        ingest_file(tmp_warehouse, path, "baci", target="firm_flows")


def test_overlap_guard_quarantines_or_replaces(tmp_warehouse, tmp_path):
    """A revised extract repeating a (year, month, reporter, firm, partner, flow, product, province) key of an
    earlier load: by default its line goes to quarantine naming the earlier load (old value 10 stays); with
    on_overlap='replace' the new value 15 supersedes it.  Firm C-3 in the same cell is a new key and loads."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(GENERIC + "2022,3,IRN,A-1,TUR,export,570110,10\n2022,4,IRN,A-1,TUR,export,570110,11\n")
    b.write_text(GENERIC + "2022,3,IRN,A-1,TUR,export,570110,15\n2022,3,IRN,C-3,TUR,export,570110,5\n")
    first = ingest_file(tmp_warehouse, a, "generic", target="firm_flows")
    res = ingest_file(tmp_warehouse, b, "generic", target="firm_flows")
    assert (res.rows_loaded, res.rows_quarantined, res.rows_overlapping) == (1, 1, 1)
    assert res.overlapping_loads == [{"load_id": first.load_id, "file": str(a), "rows": 1}]
    q = tmp_warehouse.raw.execute("SELECT line, reason FROM quarantine WHERE load_id = ?", [res.load_id]).fetchall()
    assert q == [(2, f"already loaded by load {first.load_id} ({a})")]
    v = dict(tmp_warehouse.raw.execute("SELECT firm || '/' || month, value_usd FROM firm_flows").fetchall())
    assert v == {"A-1/3": 10.0, "A-1/4": 11.0, "C-3/3": 5.0}
    rep = ingest_file(tmp_warehouse, b, "generic", target="firm_flows", on_overlap="replace", replace=True)
    assert (rep.rows_loaded, rep.rows_overlapping) == (2, 1)
    v = dict(tmp_warehouse.raw.execute("SELECT firm || '/' || month, value_usd FROM firm_flows").fetchall())
    assert v == {"A-1/3": 15.0, "A-1/4": 11.0, "C-3/3": 5.0}
    assert tmp_warehouse.raw.execute("SELECT rows_loaded, value_usd_loaded FROM loads WHERE load_id = ?",
                                     [first.load_id]).fetchone() == (1, 11.0)


def test_ingest_frame_firm_flows(tmp_warehouse):
    """A frame: row position 1 has a blank firm → quarantined at line 1 + 2 = 3; row position 2 has the 5-digit
    code '57011', which gets one leading zero (odd length: a zero lost by a spreadsheet) → '057011' (chapter 05,
    valid).  Loaded 10 + 7 = 17 USD."""
    frame = pd.DataFrame({"year": [2021, 2021, 2021], "reporter": "IRN", "firm": ["F1", "  ", "F2"],
                          "partner": "ARE", "flow": "export", "product": ["5701", "5701", "57011"],
                          "value_usd": [10.0, 3.0, 7.0]})
    res = ingest_frame(tmp_warehouse, frame, source="test", name="frame", target="firm_flows")
    assert (res.rows_loaded, res.rows_quarantined, res.value_usd_loaded) == (2, 1, 17.0)
    assert tmp_warehouse.raw.execute("SELECT line, reason FROM quarantine").fetchall() == [(3, "missing firm")]
    assert sorted(tmp_warehouse.raw.execute("SELECT firm, product FROM firm_flows").fetchall()) == \
        [("F1", "5701"), ("F2", "057011")]
    with pytest.raises(InputError, match="firm"):
        ingest_frame(tmp_warehouse, frame.drop(columns="firm"), source="t", name="f2", target="firm_flows")


def test_atomic_failure_leaves_firm_flows_unchanged(tmp_warehouse, tmp_path):
    """A file whose every row is bad (blank firms) raises and writes nothing: no rows, no quarantine, no load."""
    path = tmp_path / "blank.csv"
    path.write_text(GENERIC + "2022,3,IRN,,TUR,export,570110,10\n")
    with pytest.raises(InputError, match="missing firm") as exc:
        ingest_file(tmp_warehouse, path, "generic", target="firm_flows")
    assert exc.value.line == 2
    for t in ("firm_flows", "quarantine", "loads"):
        assert tmp_warehouse.raw.execute(f"SELECT count(*) FROM {t}").fetchone()[0] == 0


def test_cli_target_firm_flows(tmp_path, customs_file):
    from typer.testing import CliRunner

    from tradepulse.cli import app
    wh = tmp_path / "cli.duckdb"
    res = CliRunner().invoke(app, ["ingest", str(customs_file), "--format", "customs", "--reporter", "IRN",
                                   "--target", "firm_flows", "-w", str(wh), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["target"], out["rows_loaded"], out["rows_quarantined"]) == ("firm_flows", 4, 2)
    res = CliRunner().invoke(app, ["ingest", str(customs_file), "-f", "customs", "--reporter", "IRN", "--target", "firms",
                                   "-w", str(wh)])
    assert res.exit_code == 2 and "unknown target 'firms'" in res.output
    res = CliRunner().invoke(app, ["info", "-w", str(wh), "--json"])
    assert json.loads(res.stdout)["tables"]["firm_flows"] == 4
