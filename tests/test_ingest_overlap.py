"""Ingest: rows whose key an earlier load of *another* file already holds (no double counting across loads).

Key = ``KEYS[target]`` with NULLs equal (flows: year, month, reporter, partner, flow, product, province; not
hs_revision).  Policies: ``on_overlap="quarantine"`` (default; the new rows go to quarantine, the earlier rows
stay) and ``"replace"`` (the new file supersedes; ``loads`` counts of the earlier load are updated).
Expected figures are worked out by hand in the docstrings, or computed independently with pandas from the
same bytes.  Real-data cases use slices of ../shared/data/baci_sample.csv written to tmp_path.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tradepulse.errors import InputError, UnknownNameError
from tradepulse.ingest import ingest_file, ingest_frame

BACI_TOTAL_USD = 69_369_988_138  # PROVENANCE.md: sum v = 69,369,988.138 thousand USD, 71,192 rows

A_CSV = ("year,reporter,partner,flow,product,value_usd\n"
         "2021,IRN,TUR,export,5701,10\n"          # line 2
         "2021,IRN,IRQ,export,5701,20\n"          # line 3
         "2022,IRN,TUR,export,5701,30\n")         # line 4
B_CSV = ("year,month,reporter,partner,flow,product,hs_revision,value_usd\n"
         "2021,,IRN,CHN,export,5701,HS2017,1\n"      # line 2: new partner
         "2021,,IRN,TUR,export,5701,HS2017,11\n"     # line 3: = A line 2 (NULL month = NULL month; HS vintage ignored)
         "x,,IRN,TUR,export,5701,HS2017,5\n"         # line 4: bad year
         "2022,,IRN,TUR,export,5701,HS2017,33\n"     # line 5: = A line 4
         "2022,,IRN,TUR,import,5701,HS2017,7\n"      # line 6: new (flow differs)
         "2022,,TUR,IRN,export,5701,HS2017,8\n"      # line 7: new (reporter differs)
         "2021,,IRN,TUR,export,570110,HS2017,9\n"    # line 8: new (product differs)
         "2021,3,IRN,TUR,export,5701,HS2017,4\n")    # line 9: new (month 3 ≠ annual NULL)
KEY_2021 = "year=2021, month=, reporter=IRN, partner=TUR, flow=export, product=5701, province="
KEY_2022 = KEY_2021.replace("2021", "2022")


def q(wh, sql, *params):
    return wh.raw.execute(sql, list(params)).fetchall()


def by_year(wh, table="flows"):
    return dict(q(wh, f"SELECT year, sum(value_usd) FROM {table} GROUP BY 1"))


def loads(wh):
    return {r[0]: r[1:] for r in q(wh, "SELECT load_id, rows_loaded, rows_quarantined, value_usd_loaded, note "
                                       "FROM loads")}


def consistent(wh, table="flows", value="value_usd"):
    """``loads`` tells the truth: per load, rows_loaded and value_usd_loaded equal what the table holds."""
    held = {r[0]: (r[1], r[2]) for r in q(wh, f"SELECT load_id, count(*), coalesce(sum({value}), 0) FROM {table} "
                                              "GROUP BY 1")}
    mine = {r[0] for r in q(wh, "SELECT load_id FROM loads WHERE target = ?", table)}
    for lid, (n, _nq, v, _note) in loads(wh).items():
        if lid not in mine:
            continue
        got = held.get(lid, (0, 0.0))
        assert n == got[0] and v == pytest.approx(got[1], abs=1e-6), lid
    return True


@pytest.fixture
def ab(tmp_path):
    a, b = tmp_path / "release_a.csv", tmp_path / "release_b.csv"
    a.write_text(A_CSV)
    b.write_text(B_CSV)
    return a, b


# ------------------------------------------------------------------ hand-checked policies
def test_quarantine_policy_hand_checked(tmp_warehouse, ab):
    """B after A: lines 3 and 5 repeat A's keys (line 3 with another HS vintage) → quarantined with
    column ``key`` and reason naming A; line 4 has a bad year.  Loaded: lines 2, 6, 7, 8, 9 =
    1 + 7 + 8 + 9 + 4 = 29.  Totals by year: 2021 = A 10 + 20 + B 1 + 9 + 4 = 44, 2022 = A 30 + B 7 + 8 = 45
    (no double counting: 11 and 33 are not added).  A's rows are untouched."""
    a, b = ab
    ra = ingest_file(tmp_warehouse, a, "generic")
    rb = ingest_file(tmp_warehouse, b, "generic")
    assert (ra.rows_overlapping, rb.rows_loaded, rb.rows_quarantined, rb.value_usd_loaded) == (0, 5, 3, 29.0)
    assert rb.rows_overlapping == 2
    assert rb.overlapping_loads == [{"load_id": ra.load_id, "file": str(a), "rows": 2}]
    reason = f"already loaded by load {ra.load_id} ({a})"
    assert q(tmp_warehouse, "SELECT line, column_name, value, reason, raw FROM quarantine ORDER BY line") == [
        (3, "key", KEY_2021, reason, "2021,,IRN,TUR,export,5701,HS2017,11"),
        (4, "year", "x", "year is not an integer", "x,,IRN,TUR,export,5701,HS2017,5"),
        (5, "key", KEY_2022, reason, "2022,,IRN,TUR,export,5701,HS2017,33")]
    assert [p["line"] for p in rb.problems] == [3, 4, 5]
    assert by_year(tmp_warehouse) == {2021: 44.0, 2022: 45.0}
    assert sorted(x[0] for x in q(tmp_warehouse, "SELECT value_usd FROM flows WHERE load_id = ?", ra.load_id)) \
        == [10.0, 20.0, 30.0]
    ld = loads(tmp_warehouse)
    assert ld[ra.load_id][:3] == (3, 0, 60.0) and ld[rb.load_id][:3] == (5, 3, 29.0)
    assert consistent(tmp_warehouse)


def test_replace_policy_supersedes_and_keeps_loads_true(tmp_warehouse, ab):
    """B after A with on_overlap='replace': A's rows for lines 2 (10) and 4 (30) are deleted, all 7 good rows of
    B stay (1 + 11 + 33 + 7 + 8 + 9 + 4 = 73).  A keeps 1 row worth 20; B's note records 2 rows / 40 USD
    superseded from A, A's note the reverse.  Totals: 2021 = 20 + 1 + 11 + 9 + 4 = 45, 2022 = 33 + 7 + 8 = 48."""
    a, b = ab
    ra = ingest_file(tmp_warehouse, a, "generic")
    rb = ingest_file(tmp_warehouse, b, "generic", on_overlap="replace")
    assert (rb.rows_loaded, rb.rows_quarantined, rb.value_usd_loaded, rb.rows_overlapping) == (7, 1, 73.0, 2)
    assert rb.overlapping_loads == [{"load_id": ra.load_id, "file": str(a), "rows": 2}]
    assert rb.rows_replaced == 0   # rows_replaced = same-file replace only
    assert by_year(tmp_warehouse) == {2021: 45.0, 2022: 48.0}
    assert q(tmp_warehouse, "SELECT partner, value_usd FROM flows WHERE load_id = ?", ra.load_id) == [("IRQ", 20.0)]
    assert q(tmp_warehouse, "SELECT line, column_name FROM quarantine") == [(4, "year")]
    ld = loads(tmp_warehouse)
    assert ld[ra.load_id][:3] == (1, 0, 20.0) and ld[rb.load_id][:3] == (7, 1, 73.0)
    assert json.loads(ld[rb.load_id][3])["superseded"] == {ra.load_id: {"file": str(a), "rows": 2,
                                                                        "value_usd": 40.0}}
    assert json.loads(ld[ra.load_id][3])["superseded_by"] == {rb.load_id: {"file": str(b), "rows": 2}}
    assert consistent(tmp_warehouse)
    # info (what `tradepulse info` prints) agrees
    info = {x["load_id"]: x for x in tmp_warehouse.info()["loads"]}
    assert (info[ra.load_id]["rows_loaded"], info[ra.load_id]["value_usd_loaded"]) == (1, 20.0)


def test_replace_across_three_loads_and_repeat(tmp_warehouse, tmp_path):
    """A = {k1: 1, k2: 2}; B = {k2: 3, k3: 4} → B's k2 quarantined, k3 loads.  C = {k1: 6, k2: 7, k3: 8} with
    replace supersedes k1, k2 of A (2 rows) and k3 of B (1 row): A and B keep 0 rows, C holds all 3 and the
    flows total is C's, 6 + 7 + 8 = 21."""
    head = "year,reporter,partner,flow,product,value_usd\n"
    k = {1: "2021,IRN,TUR,export,0101,", 2: "2021,IRN,TUR,export,0102,", 3: "2021,IRN,TUR,export,0103,"}
    fa, fb, fc = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    fa.write_text(head + k[1] + "1\n" + k[2] + "2\n")
    fb.write_text(head + k[2] + "3\n" + k[3] + "4\n")
    fc.write_text(head + k[1] + "6\n" + k[2] + "7\n" + k[3] + "8\n")
    ra = ingest_file(tmp_warehouse, fa, "generic")
    rb = ingest_file(tmp_warehouse, fb, "generic")
    assert (rb.rows_loaded, rb.rows_quarantined, rb.rows_overlapping) == (1, 1, 1)
    rc = ingest_file(tmp_warehouse, fc, "generic", on_overlap="replace")
    assert (rc.rows_loaded, rc.rows_overlapping) == (3, 3)
    assert sorted(rc.overlapping_loads, key=lambda o: o["file"]) == [
        {"load_id": ra.load_id, "file": str(fa), "rows": 2}, {"load_id": rb.load_id, "file": str(fb), "rows": 1}]
    assert q(tmp_warehouse, "SELECT count(*), sum(value_usd), min(load_id) FROM flows")[0] == (3, 21.0, rc.load_id)
    ld = loads(tmp_warehouse)
    assert ld[ra.load_id][0] == ld[rb.load_id][0] == 0 and ld[ra.load_id][2] == ld[rb.load_id][2] == 0.0
    assert consistent(tmp_warehouse)
    # loading A again: same sha → still skipped (nothing to double count)
    assert ingest_file(tmp_warehouse, fa, "generic").skipped


def test_everything_overlapping_raises_and_leaves_warehouse_unchanged(tmp_warehouse, tmp_path):
    """A file whose good rows all repeat earlier keys: InputError naming the earlier load and file, the first
    overlapping line (2) and column 'key', and how to supersede (--on-overlap replace); nothing is written."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(A_CSV)
    b.write_text(A_CSV.replace(",10\n", ",12\n") + "2021,IRN,TUR,export,5701,-1\n")  # + a bad row
    ra = ingest_file(tmp_warehouse, a, "generic")
    with pytest.raises(InputError) as exc:
        ingest_file(tmp_warehouse, b, "generic")
    e = exc.value
    assert (e.file, e.line, e.column) == (str(b), 2, "key")
    msg = str(e)
    assert "no usable rows" in msg and "3 valid row(s) are already in the warehouse" in msg
    assert f"3 by load {ra.load_id} ({a})" in msg and "--on-overlap replace" in msg
    assert "1 other row(s) were rejected" in msg
    assert q(tmp_warehouse, "SELECT count(*), sum(value_usd) FROM flows")[0] == (3, 60.0)
    assert q(tmp_warehouse, "SELECT count(*) FROM loads")[0][0] == 1
    assert q(tmp_warehouse, "SELECT count(*) FROM quarantine")[0][0] == 0
    # the advice works: replace → B's 3 rows supersede A's
    r = ingest_file(tmp_warehouse, b, "generic", on_overlap="replace")
    assert (r.rows_loaded, r.rows_quarantined, r.rows_overlapping) == (3, 1, 3)
    assert q(tmp_warehouse, "SELECT count(*), sum(value_usd) FROM flows")[0] == (3, 62.0)
    assert consistent(tmp_warehouse)


def test_overlap_line_numbers_after_unreadable_lines(tmp_warehouse, tmp_path):
    """Malformed CSV lines (too many fields) are skipped by the line-numbering pass; the overlapping rows still
    get their physical lines: C = line 2 new, line 3 unreadable, lines 4 and 5 repeat A's keys, line 6
    unreadable, line 7 repeats A → quarantine lines 3, 4, 5, 6, 7; only line 2 loads.  D (all good rows
    overlapping, an unreadable line 2 first) fails naming line 3."""
    a, c, d = tmp_path / "a.csv", tmp_path / "c.csv", tmp_path / "d.csv"
    a.write_text(A_CSV)
    head = "year,reporter,partner,flow,product,value_usd\n"
    c.write_text(head + "2021,IRN,CHN,export,5701,1\n2021,IRN,TUR,export,5701,10,x\n2021,IRN,IRQ,export,5701,21\n"
                        "2022,IRN,TUR,export,5701,31\n1,2,3,4,5,6,7,8\n2021,IRN,TUR,export,5701,12\n")
    d.write_text(head + "2021,IRN,TUR,export,5701,10,x\n2021,IRN,IRQ,export,5701,22\n")
    ra = ingest_file(tmp_warehouse, a, "generic")
    r = ingest_file(tmp_warehouse, c, "generic")
    assert (r.rows_loaded, r.rows_quarantined, r.rows_overlapping) == (1, 5, 3)
    got = q(tmp_warehouse, "SELECT line, column_name, reason FROM quarantine ORDER BY line")
    assert [g[0] for g in got] == [3, 4, 5, 6, 7]
    assert [g[0] for g in got if g[2] == f"already loaded by load {ra.load_id} ({a})"] == [4, 5, 7]
    assert got[0][2].startswith("unreadable line") and got[3][2].startswith("unreadable line")
    assert q(tmp_warehouse, "SELECT raw FROM quarantine WHERE line = 7") == [("2021,IRN,TUR,export,5701,12",)]
    with pytest.raises(InputError, match="1 valid row.*1 other row") as exc:
        ingest_file(tmp_warehouse, d, "generic")
    assert (exc.value.line, exc.value.column) == (3, "key")


def test_overlap_lines_match_physical_lines_with_random_unreadable_lines(tmp_path):
    """Random files: rows with distinct products, a random subset loaded first (A), then all rows again (C)
    with malformed lines (too many fields) at random places.  The quarantined 'key' lines of C are exactly
    the physical lines (counted by hand while writing the file) of the rows A holds."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tradepulse.warehouse import Warehouse
    head = "year,reporter,partner,flow,product,value_usd\n"
    counter = iter(range(10_000))

    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(st.booleans(), st.integers(0, 2)), min_size=2, max_size=30))
    def check(spec):
        i = next(counter)
        rows = [f"2021,IRN,TUR,export,{1000 + j:04d},{j + 1}" for j in range(len(spec))]
        in_a = [r for r, (keep, _bad) in zip(rows, spec) if keep]
        if not in_a or len(in_a) == len(rows):
            return
        fa, fc = tmp_path / f"a{i}.csv", tmp_path / f"c{i}.csv"
        fa.write_text(head + "\n".join(in_a) + "\n")
        lines, want, line = [], [], 1
        for r, (keep, bad) in zip(rows, spec):
            for _ in range(bad):
                lines.append("1,2,3,4,5,6,7")
                line += 1
            lines.append(r)
            line += 1
            if keep:
                want.append(line)
        fc.write_text(head + "\n".join(lines) + "\n")
        with Warehouse(tmp_path / f"w{i}.duckdb") as wh:
            ingest_file(wh, fa, "generic")
            r = ingest_file(wh, fc, "generic")
            got = [x[0] for x in q(wh, "SELECT line FROM quarantine WHERE column_name = 'key' ORDER BY 1")]
            assert got == want and r.rows_overlapping == len(in_a)
            assert r.rows_loaded == len(rows) - len(in_a)

    check()


def test_unknown_policy_is_a_clear_error(tmp_warehouse, ab):
    with pytest.raises(UnknownNameError, match="unknown on_overlap value 'merge'.*quarantine, replace"):
        ingest_file(tmp_warehouse, ab[0], "generic", on_overlap="merge")
    with pytest.raises(UnknownNameError):
        ingest_frame(tmp_warehouse, pd.DataFrame({"year": [2021]}), source="x", name="y", target="macro",
                     on_overlap="")
    assert q(tmp_warehouse, "SELECT count(*) FROM loads")[0][0] == 0


# ------------------------------------------------------------------ real data: a revised BACI release
def _baci_revision(shared_data, tmp_path, n: int, keep: int, name: str):
    """The first ``n`` data lines of baci_sample.csv with v doubled (a revised release); lines after the first
    ``keep`` moved to year 2022 (new keys).  Returns (path, frame of (t, v_old, v_new))."""
    lines = (shared_data / "baci_sample.csv").read_bytes().split(b"\r\n")
    out, rows = [lines[0]], []
    for i, ln in enumerate(lines[1:n + 1]):
        t, i_, j, k, v, qq = ln.split(b",")
        new_t = t if i < keep else b"2022"
        new_v = f"{float(v) * 2:.3f}".encode()
        out.append(b",".join([new_t, i_, j, k, new_v, qq]))
        rows.append((int(new_t), float(v), float(new_v)))
    path = tmp_path / name
    path.write_bytes(b"\r\n".join(out + [b""]))
    return path, pd.DataFrame(rows, columns=["t", "v_old", "v_new"])


def test_real_baci_revision_quarantine_and_replace(tmp_path, shared_data):
    """BACI sample, then a 'V202501' slice of its first 1,000 rows (values doubled; rows 501–1,000 moved to
    2022).  Quarantine: lines 2–501 go to quarantine, 2021 stays the sample total, 2022 = Σ new v of the moved
    rows × 1000.  Replace: 2021 = total − Σ old v + Σ new v of the first 500 rows (× 1000); the sample's
    load keeps 70,692 rows.  Expected sums from pandas over the same bytes."""
    from tradepulse.warehouse import Warehouse
    path, rev = _baci_revision(shared_data, tmp_path, 1000, 500, "BACI_HS17_Y2021_V202501_slice.csv")
    first, moved = rev.iloc[:500], rev.iloc[500:]
    for policy in ("quarantine", "replace"):
        with Warehouse(tmp_path / f"{policy}.duckdb") as wh:
            sample = (shared_data / "baci_sample.csv").resolve()   # loads record the resolved path
            base = ingest_file(wh, sample, "baci")
            r = ingest_file(wh, path, "baci", on_overlap=policy)
            assert r.rows_overlapping == 500
            assert r.overlapping_loads == [{"load_id": base.load_id, "file": str(sample), "rows": 500}]
            years = by_year(wh)
            assert years[2022] == pytest.approx(moved["v_new"].sum() * 1000, rel=1e-12)
            if policy == "quarantine":
                assert (r.rows_loaded, r.rows_quarantined) == (500, 500)
                assert years[2021] == pytest.approx(BACI_TOTAL_USD, abs=1e-3)
                lines = [x[0] for x in q(wh, "SELECT line FROM quarantine WHERE column_name = 'key' ORDER BY 1")]
                assert lines == list(range(2, 502))
                assert {x[0] for x in q(wh, "SELECT reason FROM quarantine")} == {
                    f"already loaded by load {base.load_id} ({sample})"}
            else:
                assert (r.rows_loaded, r.rows_quarantined) == (1000, 0)
                want = BACI_TOTAL_USD + (first["v_new"].sum() - first["v_old"].sum()) * 1000
                assert years[2021] == pytest.approx(want, abs=1e-3)
                ld = loads(wh)
                assert ld[base.load_id][0] == 71_192 - 500
                assert ld[base.load_id][2] == pytest.approx(BACI_TOTAL_USD - first["v_old"].sum() * 1000, abs=1e-3)
                sup = json.loads(ld[r.load_id][3])["superseded"][base.load_id]
                assert sup["rows"] == 500 and sup["value_usd"] == pytest.approx(first["v_old"].sum() * 1000)
            # the 2021 total is never double counted: one row per key
            assert q(wh, "SELECT count(*) = count(DISTINCT (year, reporter, partner, product)) FROM flows")[0][0]
            assert consistent(wh)


def test_same_file_skip_and_same_file_replace_are_unchanged(tmp_warehouse, shared_data, tmp_path, monkeypatch):
    """The same bytes again (same path, or a copy under another name, hashed before or during the load) are
    *skipped*, not reported as overlapping; ``replace=True`` drops the earlier load of the same file first, so
    its rows do not count as overlapping either.  A shrunk file under the same name with replace=True:
    rows_replaced = the old 2,000, no overlap."""
    import shutil

    import tradepulse.ingest as ingest
    sample = shared_data / "baci_sample.csv"
    first = ingest_file(tmp_warehouse, sample, "baci")
    again = ingest_file(tmp_warehouse, sample, "baci")
    assert again.skipped and again.rows_overlapping == 0 and again.load_id == first.load_id
    copy = tmp_path / "copy.csv"
    shutil.copy(sample, copy)
    assert ingest_file(tmp_warehouse, copy, "baci").skipped                   # hashed first (small file)
    monkeypatch.setattr(ingest, "HASH_FIRST_BELOW", 0)
    assert ingest_file(tmp_warehouse, copy, "baci").skipped                   # hashed during the load
    rep = ingest_file(tmp_warehouse, sample, "baci", replace=True)
    assert (rep.rows_replaced, rep.rows_loaded, rep.rows_overlapping, rep.rows_quarantined) == (71_192, 71_192, 0, 0)
    assert q(tmp_warehouse, "SELECT count(*), count(DISTINCT load_id), sum(value_usd) FROM flows")[0] == \
        (71_192, 1, pytest.approx(BACI_TOTAL_USD))
    rep2 = ingest_file(tmp_warehouse, copy, "baci", replace=True)            # deferred digest + replace
    assert (rep2.rows_replaced, rep2.rows_overlapping) == (71_192, 0)
    assert q(tmp_warehouse, "SELECT count(*) FROM loads")[0][0] == 1
    monkeypatch.setattr(ingest, "HASH_FIRST_BELOW", 64 << 20)
    # a changed file under one name, in a warehouse of its own
    from tradepulse.warehouse import Warehouse
    lines = sample.read_bytes().split(b"\r\n")
    part = tmp_path / "part.csv"
    with Warehouse(tmp_path / "part.duckdb") as wh:
        part.write_bytes(b"\r\n".join(lines[:2001] + [b""]))
        assert ingest_file(wh, part, "baci").rows_loaded == 2000
        part.write_bytes(b"\r\n".join(lines[:1001] + [b""]))
        r = ingest_file(wh, part, "baci", replace=True)
        assert (r.rows_loaded, r.rows_replaced, r.rows_overlapping) == (1000, 2000, 0)
        assert q(wh, "SELECT count(*) FROM flows")[0][0] == 1000


# ------------------------------------------------------------------ provinces, services, macro
CUSTOMS_HEAD = "سال,ماه,استان,نوع جریان,کشور طرف معامله,کد تعرفه,ارزش دلاری,وزن\n"


def test_customs_province_rows_do_not_collide_with_national_rows(tmp_warehouse, tmp_path):
    """National rows (province NULL) for IRN→TUR 570110 in Gregorian 2021-03 and the customs rows for the same
    flow split by province are different keys: no overlap.  A second customs file repeating Tehran's key
    overlaps the first customs load only: Tehran's two 8-digit tariff lines (summed to one HS6 row, lines 2, 3)
    and Isfahan's export line 4 (also in the first file) are quarantined — 2 overlapping rows, 3 lines;
    Isfahan's import (a new key) loads."""
    nat = pd.DataFrame({"year": [2021], "month": [3], "reporter": ["IRN"], "partner": ["TUR"], "flow": ["export"],
                        "product": ["570110"], "value_usd": [5000.0]})
    rn = ingest_frame(tmp_warehouse, nat, source="comtrade", name="national")
    c1 = tmp_path / "customs_1399.csv"     # 1399/12 (Esfand) → Gregorian 2021-03
    c1.write_text(CUSTOMS_HEAD + "1399,12,تهران,صادرات,ترکیه,57011010,1000,5\n"
                                 "1399,12,اصفهان,صادرات,ترکیه,57011010,4000,9\n", encoding="utf-8")
    r1 = ingest_file(tmp_warehouse, c1, "customs", calendar="jalali", reporter="IRN")
    assert (r1.rows_loaded, r1.rows_overlapping) == (2, 0)
    assert q(tmp_warehouse, "SELECT DISTINCT year, month, product FROM flows") == [(2021, 3, "570110")]
    c2 = tmp_path / "customs_1399_rev.csv"
    c2.write_text(CUSTOMS_HEAD + "1399,12,تهران,صادرات,ترکیه,57011010,600,2\n"
                                 "1399,12,تهران,صادرات,ترکیه,57011090,500,1\n"
                                 "1399,12,اصفهان,صادرات,ترکیه,57011020,700,1\n"
                                 "1399,12,اصفهان,واردات,ترکیه,57011020,70,1\n", encoding="utf-8")
    r2 = ingest_file(tmp_warehouse, c2, "customs", calendar="jalali", reporter="IRN")
    assert r2.rows_overlapping == 2                      # Tehran export, Isfahan export (both in c1)
    assert (r2.rows_loaded, r2.rows_quarantined) == (1, 3)  # Isfahan import loads; 3 source lines quarantined
    assert [x[0] for x in q(tmp_warehouse, "SELECT line FROM quarantine ORDER BY 1")] == [2, 3, 4]
    assert {x[0] for x in q(tmp_warehouse, "SELECT reason FROM quarantine")} == {
        f"already loaded by load {r1.load_id} ({c1})"}
    assert r2.overlapping_loads == [{"load_id": r1.load_id, "file": str(c1), "rows": 2}]
    # national row untouched; province rows sum to the customs split, not double counted
    assert q(tmp_warehouse, "SELECT value_usd FROM flows WHERE load_id = ?", rn.load_id) == [(5000.0,)]
    assert q(tmp_warehouse, "SELECT sum(value_usd) FROM flows WHERE province IS NOT NULL AND flow = 'export'")[0][0] \
        == 5000.0
    assert consistent(tmp_warehouse)


def test_services_and_macro_targets(tmp_warehouse, tmp_path):
    """Services key (year, reporter, partner, flow, ebops): SD export repeated → quarantined; SJ22 new.  Macro
    key (year, iso3), via frames: IRN 2020 repeated → replace supersedes it (macro has no value column:
    value_usd_loaded stays 0).  Flows rows with the same year/reporter do not interfere (per target)."""
    s1, s2 = tmp_path / "svc_2023.csv", tmp_path / "svc_2024.csv"
    s1.write_text("year,reporter,partner,flow,ebops,value\n2021,IRN,TUR,X,SD,100\n2021,IRN,TUR,M,SD,50\n")
    s2.write_text("year,reporter,partner,flow,ebops,value\n2021,IRN,TUR,X,SJ22,7\n2021,IRN,TUR,X,SD,120\n")
    ingest_frame(tmp_warehouse, pd.DataFrame({"year": [2021], "reporter": ["IRN"], "partner": ["TUR"],
                                              "flow": ["export"], "product": ["5701"], "value_usd": [1.0]}),
                 source="x", name="flows")
    r1 = ingest_file(tmp_warehouse, s1, "services")
    r2 = ingest_file(tmp_warehouse, s2, "services")
    assert (r1.rows_overlapping, r2.rows_loaded, r2.rows_quarantined, r2.rows_overlapping) == (0, 1, 1, 1)
    assert q(tmp_warehouse, "SELECT line, column_name, value, reason FROM quarantine") == [
        (3, "key", "year=2021, reporter=IRN, partner=TUR, flow=export, ebops=SD",
         f"already loaded by load {r1.load_id} ({s1})")]
    assert q(tmp_warehouse, "SELECT sum(value_usd) FROM services")[0][0] == 157.0
    assert consistent(tmp_warehouse, "services")

    m1 = pd.DataFrame({"year": [2020, 2020], "iso3": ["IRN", "TUR"], "gdp_usd": [2.4e11, 7.2e11],
                       "population": [8.4e7, 8.3e7]})
    m2 = pd.DataFrame({"year": [2021, 2020], "iso3": ["IRN", "IRN"], "gdp_usd": [3.6e11, 2.5e11],
                       "population": [8.5e7, None]})
    a = ingest_frame(tmp_warehouse, m1, source="wdi", name="wdi_2023", target="macro")
    with pytest.raises(InputError, match="already in the warehouse"):   # only the overlapping row is usable
        ingest_frame(tmp_warehouse, m2.iloc[1:], source="wdi", name="wdi_2024_irn", target="macro")
    qb = ingest_frame(tmp_warehouse, m2, source="wdi", name="wdi_2024", target="macro")
    assert (qb.rows_loaded, qb.rows_quarantined, qb.rows_overlapping) == (1, 1, 1)
    assert q(tmp_warehouse, "SELECT line, reason FROM quarantine WHERE file = 'wdi_2024'") == [
        (3, f"already loaded by load {a.load_id} (wdi_2023)")]
    b = ingest_frame(tmp_warehouse, m2.iloc[1:], source="wdi", name="wdi_2024_rev",
                     target="macro", on_overlap="replace")
    assert (b.rows_loaded, b.rows_overlapping, b.value_usd_loaded) == (1, 1, 0.0)
    got = q(tmp_warehouse, "SELECT year, iso3, gdp_usd, load_id FROM macro ORDER BY year, iso3")
    assert got == [(2020, "IRN", 2.5e11, b.load_id), (2020, "TUR", 7.2e11, a.load_id),
                   (2021, "IRN", 3.6e11, qb.load_id)]
    assert loads(tmp_warehouse)[a.load_id][:3] == (1, 0, 0.0)
    assert consistent(tmp_warehouse, "macro", "0")


# ------------------------------------------------------------------ property: same as a pandas merge
@pytest.mark.parametrize("join", ["packed", "columns"])
def test_overlap_equals_pandas_merge_on_random_frames(tmp_path, join, monkeypatch):
    """Random frames A, B over a small key space with NULL months/provinces (duplicates inside B removed):
    rows_overlapping = |B ⋈ A| by pandas merge on the 7 key columns (NaN keys match NaN, as IS NOT DISTINCT
    FROM); quarantine keeps A ∪ (B − overlap), replace keeps (A − overlap) ∪ B.  Both joins: on the packed
    dense-rank key and (key space forced too big) on the key columns."""
    import tradepulse.ingest._keys as keys_module
    if join == "columns":
        monkeypatch.setattr(keys_module, "PACKED_KEY_SPACE", 0)
    from hypothesis import HealthCheck, assume, given, settings
    from hypothesis import strategies as st

    from tradepulse.ingest._core import frame_sha256
    from tradepulse.warehouse import Warehouse
    keys = ["year", "month", "reporter", "partner", "flow", "product", "province"]

    def frame(rng, n):
        f = pd.DataFrame({"year": rng.choice([2020, 2021], n), "month": rng.choice([np.nan, 1.0], n),
                          "reporter": rng.choice(["IRN", "TUR"], n), "partner": rng.choice(["CHN", "IRQ"], n),
                          "flow": rng.choice(["export", "import"], n), "product": rng.choice(["5701", "0101"], n),
                          "province": rng.choice([None, "Tehran"], n), "value_usd": rng.integers(1, 100, n) * 1.0})
        return f.drop_duplicates(keys).reset_index(drop=True)

    def rows(wh):
        return wh.raw.execute("SELECT year, month, reporter, partner, flow, product, province, value_usd FROM flows"
                              ).df().sort_values(keys).reset_index(drop=True)

    counter = iter(range(10_000))

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.integers(0, 2**32 - 1), st.integers(1, 40), st.integers(1, 40))
    def check(seed, na, nb):
        rng = np.random.default_rng(seed)
        a, b = frame(rng, na), frame(rng, nb)
        assume(frame_sha256(a) != frame_sha256(b))   # the same bytes would be skipped, not checked
        hit = b.merge(a[keys], on=keys, how="left", indicator=True)["_merge"].eq("both").to_numpy()
        for policy in ("quarantine", "replace"):
            with Warehouse(tmp_path / f"p{next(counter)}.duckdb") as wh:
                ingest_frame(wh, a, source="a", name="A")
                r = ingest_frame(wh, b, source="b", name="B", on_overlap=policy) if not hit.all() or \
                    policy == "replace" else None
                if r is None:
                    with pytest.raises(InputError):
                        ingest_frame(wh, b, source="b", name="B", on_overlap=policy)
                    continue
                assert r.rows_overlapping == int(hit.sum())
                a_hit = a.merge(b[keys], on=keys, how="left", indicator=True)["_merge"].eq("both").to_numpy()
                want = pd.concat([a, b[~hit]]) if policy == "quarantine" else pd.concat([a[~a_hit], b])
                want = want.assign(month=want["month"].astype("float64")).sort_values(keys).reset_index(drop=True)
                got = rows(wh)
                got["year"] = got["year"].astype("int64")
                got["month"] = got["month"].astype("float64")
                got["province"] = got["province"].where(got["province"].notna(), None)
                want["province"] = want["province"].where(want["province"].notna(), None)
                pd.testing.assert_frame_equal(got, want[got.columns.tolist()], check_dtype=False)
                assert consistent(wh)

    check()


def test_check_is_skipped_when_target_holds_no_other_load(tmp_warehouse, ab, monkeypatch):
    """Into an empty target (even with other targets filled) the overlap join never runs: one count(*)."""
    import tradepulse.ingest._core as core
    called = []
    real = core._find_overlap
    monkeypatch.setattr(core, "_find_overlap", lambda *a: called.append(a[1]) or real(*a))
    svc = ab[0].with_name("svc.csv")
    svc.write_text("year,reporter,partner,flow,ebops,value\n2021,IRN,TUR,X,SD,100\n")
    ingest_file(tmp_warehouse, svc, "services")
    ingest_file(tmp_warehouse, ab[0], "generic")
    assert called == []
    ingest_file(tmp_warehouse, ab[1], "generic")
    assert called == ["flows"]


def test_prefilter_other_year_finds_nothing(tmp_warehouse, tmp_path):
    """Rows of another year share every other key column: no overlap, both loads complete; the (year,
    reporter) pre-filter table holds only the new load's pair."""
    import tradepulse.ingest._core as core
    a = pd.DataFrame({"year": [2020] * 3, "reporter": ["IRN"] * 3, "partner": ["TUR", "CHN", "IRQ"],
                      "flow": ["export"] * 3, "product": ["5701"] * 3, "value_usd": [1.0, 2.0, 3.0]})
    ingest_frame(tmp_warehouse, a, source="a", name="A")
    r = ingest_frame(tmp_warehouse, a.assign(year=2021), source="a", name="A2021")
    assert (r.rows_loaded, r.rows_overlapping) == (3, 0)
    assert by_year(tmp_warehouse) == {2020: 6.0, 2021: 6.0}
    # the pre-filter table held only the new load's (year, reporter) pair (dropped after the load)
    assert core._find_overlap(tmp_warehouse.raw, "flows", r.load_id) == 0
    assert q(tmp_warehouse, "SELECT * FROM __tp_pairs") == [(2021, "IRN")]


# ------------------------------------------------------------------ CLI
def test_cli_on_overlap_flag_json_and_summary(ab, tmp_path):
    from tradepulse.cli import app
    runner = CliRunner()
    a, b = ab

    def run(*args):
        return runner.invoke(app, [str(x) for x in args])

    wh = tmp_path / "cli.duckdb"
    assert run("ingest", a, "-f", "generic", "-w", wh).exit_code == 0
    res = run("ingest", b, "-f", "generic", "-w", wh, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["rows_overlapping"], out["rows_loaded"], out["rows_quarantined"]) == (2, 5, 3)
    assert out["overlapping_loads"][0]["file"] == str(a) and out["overlapping_loads"][0]["rows"] == 2
    # plain words: how many rows, which earlier file, and how to supersede
    wh2 = tmp_path / "cli2.duckdb"
    run("ingest", a, "-f", "generic", "-w", wh2)
    res = run("ingest", b, "-f", "generic", "-w", wh2)
    flat = " ".join(res.output.split())
    assert res.exit_code == 0 and "2 row(s) of this file were in the warehouse already" in flat
    assert a.name in "".join(res.output.split()) and "--on-overlap replace" in flat
    res = run("ingest", b, "-f", "generic", "-w", wh2, "--replace", "--on-overlap", "replace", "--json")
    out = json.loads(res.stdout)
    assert (out["rows_overlapping"], out["rows_loaded"], out["rows_replaced"]) == (2, 7, 5)
    info = json.loads(run("info", "-w", wh2, "--json").stdout)
    assert sum(x["rows_loaded"] for x in info["loads"]) == info["tables"]["flows"] == 8
    wh3 = tmp_path / "cli3.duckdb"
    run("ingest", a, "-f", "generic", "-w", wh3)
    res = run("ingest", b, "-f", "generic", "-w", wh3, "--on-overlap", "replace")
    assert res.exit_code == 0 and "superseded" in res.output and "2 row(s)" in " ".join(res.output.split())
    bad = run("ingest", b, "-f", "generic", "-w", wh3, "--on-overlap", "merge")
    assert bad.exit_code == 2 and "unknown on_overlap value 'merge'" in " ".join(bad.output.split())
    all_dup = tmp_path / "again.csv"
    all_dup.write_text(A_CSV.replace(",30\n", ",31\n"))   # other bytes, same keys
    wh4 = tmp_path / "cli4.duckdb"
    run("ingest", a, "-f", "generic", "-w", wh4)
    res = run("ingest", all_dup, "-f", "generic", "-w", wh4)
    flat = " ".join(res.output.split())
    assert res.exit_code == 2 and "already in the warehouse" in flat and "--on-overlap replace" in flat
    assert "--on-overlap" in run("ingest", "--help").output


# ------------------------------------------------------------------ scale (slow): a revised 1M-row release
@pytest.mark.slow
def test_second_million_row_load_over_a_million_rows(tmp_path, capsys):
    """1M synthetic BACI rows (benchmarks/ingest/gen.py, seed 1), then (a) the same keys with other values
    (seed 2, a revised release): quarantine fails naming line 2, replace supersedes all 1M rows and the
    flows total becomes the revision's Σ v × 1000 (read independently with DuckDB); (b) the same rows moved
    to 2023: no overlap.  Timings are printed (numbers in docs/data-model.md), not asserted."""
    import sys
    import time

    import duckdb

    from tradepulse.warehouse import Warehouse
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "benchmarks" / "ingest"))
    from gen import generate
    n = 1_000_000
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    generate(a, n, seed=1)
    generate(b, n, seed=2)
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 2023 AS t, i, j, k, v, q FROM read_csv('{a}', types={{'q': 'VARCHAR'}})) TO '{c}' "
                f"(HEADER, QUOTE '\"', FORCE_QUOTE (q))")
    sum_a, sum_b = (con.execute(f"SELECT sum(v) * 1000 FROM read_csv('{f}')").fetchone()[0] for f in (a, b))
    con.close()
    times = {}
    with Warehouse(tmp_path / "wh.duckdb") as wh:
        t = time.perf_counter()
        first = ingest_file(wh, a, "baci")
        times["first"] = time.perf_counter() - t
        assert (first.rows_loaded, first.rows_overlapping) == (n, 0)
        t = time.perf_counter()
        with pytest.raises(InputError, match="1,000,000 valid row.*already in the warehouse") as exc:
            ingest_file(wh, b, "baci")
        times["revised, quarantine"] = time.perf_counter() - t
        assert (exc.value.line, exc.value.column) == (2, "key")
        t = time.perf_counter()
        other = ingest_file(wh, c, "baci")
        times["other year"] = time.perf_counter() - t
        assert (other.rows_loaded, other.rows_overlapping) == (n, 0)
        t = time.perf_counter()
        rev = ingest_file(wh, b, "baci", on_overlap="replace")
        times["revised, replace"] = time.perf_counter() - t
        assert (rev.rows_loaded, rev.rows_overlapping) == (n, n)
        assert by_year(wh) == {2022: pytest.approx(sum_b, rel=1e-12), 2023: pytest.approx(sum_a, rel=1e-12)}
        assert loads(wh)[first.load_id][:3] == (0, 0, 0.0)
        assert consistent(wh)
    with capsys.disabled():
        print("\n1M-row loads: " + ", ".join(f"{k} {v:.2f} s" for k, v in times.items()))


def test_fully_superseded_baci_load_costs_no_scan_of_the_flows(tmp_path, shared_data):
    """A revised BACI release replacing every row of the earlier load leaves that load in ``baci_loads`` with
    no rows and no coverage.  Regression (29-year panel): every read then rebuilt its coverage through the
    ``flows`` view, 15 s of every verb.  Now its coverage is looked up in the slim numbers: nothing found,
    no query of ``flows``, and the coverage equals the recorded one."""
    from types import SimpleNamespace

    from tradepulse.warehouse import Warehouse
    from tradepulse.warehouse.datasets import stored_coverage
    n = 71_192
    path, _ = _baci_revision(shared_data, tmp_path, n, n, "BACI_HS17_Y2021_V202501.csv")
    with Warehouse(tmp_path / "w.duckdb") as wh:
        base = ingest_file(wh, (shared_data / "baci_sample.csv").resolve(), "baci")
        ingest_file(wh, path, "baci", on_overlap="replace")
        assert loads(wh)[base.load_id][0] == 0
        assert q(wh, "SELECT count(*) FROM baci_loads WHERE load_id = ?", base.load_id)[0][0] == 1
        seen = []

        class Recording:
            def execute(self, sql, *args):
                seen.append(sql)
                return wh.raw.execute(sql, *args)
        cov = stored_coverage(SimpleNamespace(raw=Recording()))
        assert not [s for s in seen if " flows " in f"{s} " or "FROM flows" in s]
        recorded = wh.raw.execute("SELECT * FROM coverage").df()
        key = ["load_id", "reporter", "year"]
        assert cov.sort_values(key).reset_index(drop=True).equals(recorded.sort_values(key).reset_index(drop=True))
        assert set(cov["load_id"]) == {r for r in loads(wh) if r != base.load_id}
