"""Validation completeness of the ingest readers (issue 14), on real rows of ../shared/data:

* NaN, +inf, -inf and overflow (the text ``1e309`` parses to inf) are quarantined with their line numbers in
  every reader (baci, comtrade, customs, generic) and input kind (CSV, Parquet, xlsx) and in frames; the
  loaded values are then exactly the other lines' values (compared row by row, summed with ``math.fsum``);
* exact duplicate lines are quarantined in every format (customs: not summed, while distinct tariff lines
  still are);
* a malformed line in a BACI CSV (bad byte, stray quote or line break) is quarantined alone, with its line;
* a customs file without a reporter column needs ``--reporter``; a misspelt province header is an error;
* a corrupt Parquet / xlsx file is one clear error line, the warehouse unchanged;
* Comtrade totals files load with ``--format comtrade`` alone; all-goods product markers become ``TOTAL``.

Expected values come from an independent reading of the same rows (Python ``float`` of the text, pandas).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradepulse.errors import InputError
from tradepulse.ingest import ingest_file, ingest_frame

N_ROWS = 1200                       # rows of each real sample used (keeps every case well under a second)
BAD_VALUE = {40: "nan", 41: "inf", 300: "-inf", 777: "1e309"}      # position → value text
BAD_QTY = {500: "inf", 901: "1e309"}                                # quantity never infinite
NAN_QTY = 1000                                                      # quantity "nan" = not reported → NULL
BACI_TOTAL_USD = 69_369_988_138  # PROVENANCE.md: sum v = 69,369,988.138 thousand USD, 71,192 rows


def q(wh, sql, *params):
    return wh.raw.execute(sql, list(params)).fetchall()


# ------------------------------------------------------------------ real samples, one per reader
def _baci_rows(shared_data) -> pd.DataFrame:
    """The first rows of baci_sample.csv as the file's texts (t, i, j, k, v, q)."""
    return pd.read_csv(shared_data / "baci_sample.csv", dtype=str, keep_default_na=False, nrows=N_ROWS)


def _sample(reader: str, shared_data):
    """(source frame of texts, value column, quantity column or None, scale, reader options)."""
    if reader == "baci":
        return _baci_rows(shared_data), "v", "q", 1000.0, {}
    if reader == "comtrade":
        raw = pd.read_parquet(shared_data / "comtrade_partner_totals_2014_2022.parquet").head(N_ROWS)
        raw["value_usd"] = [repr(float(v)) for v in raw["value_usd"]]
        return raw.astype(str), "value_usd", None, 1.0, {}
    if reader == "generic":
        raw = pd.read_parquet(shared_data / "world_trade_2017_hs4.parquet")
        raw = raw[raw["value_usd"].notna()].head(N_ROWS)
        raw["value_usd"] = [repr(float(v)) for v in raw["value_usd"]]
        opts = {"columns": {"reporter": "exporter"}, "year": 2017, "partner": "WLD", "flow": "export"}
        return raw.astype(str).reset_index(drop=True), "value_usd", None, 1.0, opts
    # customs: Afghanistan's BACI exports written as a customs extract with Persian headers (ISO3 partners
    # from BACI's own code list, HS6 codes, value in USD, weight in kg)
    codes = pd.read_csv(shared_data / "baci_country_codes_V202201.csv", encoding="latin-1")
    iso = dict(zip(codes["country_code"], codes["iso_3digit_alpha"]))
    b = pd.read_csv(shared_data / "baci_sample.csv", dtype=str, keep_default_na=False)
    b = b[b["i"] == "4"]
    from tradepulse import reference
    b = b[b["j"].astype(int).map(iso).isin(set(reference.iso3_codes()))].head(N_ROWS)
    assert len(b) == N_ROWS
    out = pd.DataFrame({
        "سال": b["t"], "نوع جریان": "صادرات", "کشور طرف معامله": b["j"].astype(int).map(iso),
        "کد تعرفه": b["k"].str.zfill(6), "ارزش دلاری": [repr(float(v) * 1000) for v in b["v"]],
        "وزن": [t.strip() if t.strip() == "NA" else repr(float(t) * 1000) for t in b["q"]]})
    return out.reset_index(drop=True), "ارزش دلاری", "وزن", 1.0, {"reporter": "AFG"}


def _write(frame: pd.DataFrame, kind: str, path: Path, value_col: str) -> Path:
    if kind == "csv":
        frame.to_csv(path, index=False)
    elif kind == "parquet":  # the value column as numbers (NaN, ±inf as IEEE doubles)
        typed = frame.copy()
        typed[value_col] = [float(v) for v in typed[value_col]]
        typed.to_parquet(path, index=False)
    else:
        frame.to_excel(path, index=False)
    return path


@pytest.mark.parametrize("kind", ["csv", "parquet", "xlsx"])
@pytest.mark.parametrize("reader", ["baci", "comtrade", "customs", "generic"])
def test_nan_inf_overflow_are_quarantined_in_every_reader(reader, kind, shared_data, tmp_path, tmp_warehouse):
    """Values nan, inf, -inf, 1e309 (and inf/1e309 quantities) → those lines quarantined (line = position +
    2); a quantity nan loads as NULL; the loaded values are exactly the other lines' values × scale."""
    frame, vcol, qcol, scale, opts = _sample(reader, shared_data)
    frame = frame.copy()
    bad = dict(BAD_VALUE)
    for pos, text in BAD_VALUE.items():
        frame.loc[pos, vcol] = text
    if qcol is not None:
        for pos, text in BAD_QTY.items():
            frame.loc[pos, qcol] = text
            bad[pos] = text
        frame.loc[NAN_QTY, qcol] = "nan"
    path = _write(frame, kind, tmp_path / f"{reader}.{kind}", vcol)
    r = ingest_file(tmp_warehouse, path, reader, **opts)

    lines = [x[0] for x in q(tmp_warehouse, "SELECT line FROM quarantine ORDER BY line")]
    assert lines == sorted(p + 2 for p in bad)
    reasons = dict(q(tmp_warehouse, "SELECT line, reason FROM quarantine"))
    for pos, text in bad.items():
        want = "missing value" if text == "nan" else "not finite"
        assert want in reasons[pos + 2], (pos, text, reasons[pos + 2])
    keep = frame.drop(index=list(bad))
    want = sorted(float(v) * scale for v in keep[vcol])
    got = sorted(x[0] for x in q(tmp_warehouse, "SELECT value_usd FROM flows"))
    assert got == want                                     # row by row, bit for bit
    assert (r.rows_loaded, r.rows_quarantined) == (len(keep), len(bad))
    assert math.isfinite(r.value_usd_loaded)
    assert math.fsum(got) == math.fsum(want)
    assert r.value_usd_loaded == pytest.approx(math.fsum(want), rel=1e-12)
    if qcol is not None:  # the nan quantity is NULL (not NaN); no stored quantity is NaN or infinite
        (n_nan, n_inf) = q(tmp_warehouse, "SELECT count(*) FILTER (isnan(quantity)), "
                                          "count(*) FILTER (isinf(quantity)) FROM flows")[0]
        assert (n_nan, n_inf) == (0, 0)
        texts = [t.strip() for t in keep[qcol]]
        want_null = sum(t in ("NA", "nan", "") for t in texts)
        assert q(tmp_warehouse, "SELECT count(*) FROM flows WHERE quantity IS NULL")[0][0] == want_null


def test_baci_slim_path_rejects_nan_inf_and_overflow_after_scaling(shared_data, tmp_path, tmp_warehouse):
    """The slim BACI load (numbers stored as in the file): v = 1e306 is finite but × 1000 overflows →
    quarantined; the clean remainder still goes to the slim storage."""
    frame = _baci_rows(shared_data)
    frame.loc[5, "v"] = "1e306"
    frame.loc[6, "v"] = "NaN"
    frame.loc[7, "q"] = "-inf"
    path = tmp_path / "b.csv"
    frame.to_csv(path, index=False)
    r = ingest_file(tmp_warehouse, path, "baci")
    assert [x[0] for x in q(tmp_warehouse, "SELECT line FROM quarantine ORDER BY line")] == [7, 8, 9]
    assert q(tmp_warehouse, "SELECT count(*) FROM baci_rows")[0][0] == r.rows_loaded == N_ROWS - 3
    want = math.fsum(float(v) * 1000 for v in frame.drop(index=[5, 6, 7])["v"])
    assert r.value_usd_loaded == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("general", [False, True], ids=["slim", "general"])
def test_baci_product_and_value_bounds(general, shared_data, tmp_path, tmp_warehouse):
    """The slim load checks products and values as ranges (k in 10000–979999 but not 770000–779999, or
    990000–999999; 0 ≤ v·1000 ≤ the largest double): at each boundary its verdict equals the HS chapter rule
    written out here (chapter k // 10000 in 1–97 except 77, or 99) and the general path's (a column mapping
    sends the same file through the canonical checks)."""
    frame = _baci_rows(shared_data).head(40).copy()
    codes = [-1, 0, 9999, 10000, 769999, 770000, 779999, 780000, 979999, 980000, 989999, 990000, 999999,
             1000000]
    frame.loc[:len(codes) - 1, "k"] = [str(c) for c in codes]
    values = {20: "-0.0", 21: "-1e-300", 22: "1.7976931348623157e305", 23: "1.7976931348623158e305", 24: "0"}
    for pos, text in values.items():
        frame.loc[pos, "v"] = text
    path = tmp_path / "b.csv"
    frame.to_csv(path, index=False)
    opts = {"columns": {"year": "t", "reporter": "i", "partner": "j", "product": "k", "value_usd": "v",
                        "quantity": "q"}} if general else {}
    ingest_file(tmp_warehouse, path, "baci", **opts)
    slim = q(tmp_warehouse, "SELECT count(*) FROM baci_rows")[0][0]
    assert bool(slim) is not general   # each case took the path it names
    bad = {line - 2 for (line,) in q(tmp_warehouse, "SELECT line FROM quarantine")}

    def good_product(k: int) -> bool:
        return 0 <= k <= 999999 and (1 <= k // 10000 <= 97 and k // 10000 != 77 or k // 10000 == 99)

    def good_value(text: str) -> bool:
        v = float(text) * 1000
        return math.isfinite(v) and float(text) >= 0
    want = {i for i, (k, v) in enumerate(zip(frame["k"], frame["v"])) if not (good_product(int(k))
                                                                               and good_value(v))}
    assert {0, 1, 2, 5, 6, 9, 13, 21, 23} <= want   # the boundaries written out
    assert bad == want


def test_frames_quarantine_nan_and_inf(tmp_warehouse, shared_data):
    """ingest_frame: NaN value → missing, ±inf value or inf quantity → not finite; NaN quantity → NULL."""
    raw = pd.read_parquet(shared_data / "comtrade_partner_totals_2014_2022.parquet").head(200)
    f = raw.assign(partner=raw["partner"].replace({"W00": "WLD"}), flow="export", product="TOTAL",
                   quantity=1.0)[["year", "reporter", "partner", "flow", "product", "value_usd", "quantity"]]
    f.loc[3, "value_usd"], f.loc[4, "value_usd"], f.loc[5, "value_usd"] = np.nan, np.inf, -np.inf
    f.loc[6, "quantity"], f.loc[7, "quantity"] = np.inf, np.nan
    r = ingest_frame(tmp_warehouse, f, source="t", name="frame")
    got = q(tmp_warehouse, "SELECT line, column_name, reason FROM quarantine ORDER BY line")
    assert [(x[0], x[1]) for x in got] == [(5, "value_usd"), (6, "value_usd"), (7, "value_usd"), (8, "quantity")]
    assert got[0][2] == "missing value" and all("not finite" in x[2] for x in got[1:])
    keep = f.drop(index=[3, 4, 5, 6])
    assert r.rows_loaded == len(keep)
    assert sorted(x[0] for x in q(tmp_warehouse, "SELECT value_usd FROM flows")) == sorted(keep["value_usd"])
    assert q(tmp_warehouse, "SELECT count(*) FROM flows WHERE quantity IS NULL")[0][0] == 1


# ------------------------------------------------------------------ duplicate lines
def test_customs_exact_duplicate_lines_are_quarantined_not_summed(tmp_warehouse, tmp_path):
    """Lines 2 and 3 are distinct tariff lines of HS6 570110 → summed (1000 + 500); lines 4 and 6 are the same
    line twice → both quarantined ('duplicate line'), never summed; line 5 differs from 4 in its weight only
    → loaded.  Loaded: 570110 = 1000 + 500 + 700 = 2200; 570210 = 300."""
    f = tmp_path / "customs.csv"
    f.write_text("سال,ماه,استان,نوع جریان,کشور طرف معامله,کد تعرفه,ارزش دلاری,وزن\n"
                 "1400,1,تهران,صادرات,ترکیه,57011010,1000,50\n"
                 "1400,1,تهران,صادرات,ترکیه,57011090,500,25\n"
                 "1400,1,تهران,صادرات,ترکیه,57011090,200,10\n"
                 "1400,1,تهران,صادرات,ترکیه,57011090,700,11\n"
                 "1400,1,تهران,صادرات,ترکیه,57011090,200,10\n"
                 "1400,1,تهران,صادرات,عراق,57021000,300,\n", encoding="utf-8")
    r = ingest_file(tmp_warehouse, f, "customs", reporter="IRN")
    assert (r.rows_loaded, r.rows_quarantined, r.value_usd_loaded) == (2, 2, 2500.0)
    assert q(tmp_warehouse, "SELECT line, reason FROM quarantine ORDER BY line") == [
        (4, "duplicate line (2 identical lines)"), (6, "duplicate line (2 identical lines)")]
    assert dict(q(tmp_warehouse, "SELECT product, value_usd FROM flows")) == {"570110": 2200.0, "570210": 300.0}


@pytest.mark.parametrize("kind", ["csv", "parquet", "xlsx"])
def test_exact_duplicate_lines_are_quarantined_in_every_format(kind, tmp_warehouse, tmp_path, shared_data):
    """A real Comtrade line repeated (CSV, Parquet, xlsx): both copies quarantined, lines 19 and 302."""
    raw = pd.read_parquet(shared_data / "comtrade_partner_totals_2014_2022.parquet").head(300)
    frame = pd.concat([raw, raw.iloc[[17]]], ignore_index=True)
    frame["value_usd"] = frame["value_usd"].astype(float)
    path = tmp_path / f"dup.{kind}"
    if kind == "csv":
        frame.to_csv(path, index=False)
    elif kind == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_excel(path, index=False)
    r = ingest_file(tmp_warehouse, path, "comtrade")
    assert [x[0] for x in q(tmp_warehouse, "SELECT line FROM quarantine ORDER BY line")] == [19, 302]
    assert r.rows_loaded == 299
    assert r.value_usd_loaded == pytest.approx(raw["value_usd"].drop(index=17).sum(), rel=1e-12)


# ------------------------------------------------------------------ BACI malformed lines
def _baci_lines(shared_data) -> list[bytes]:
    lines = (shared_data / "baci_sample.csv").read_bytes().split(b"\r\n")
    assert lines[-1] == b""
    return lines[:-1]


def test_baci_malformed_lines_are_quarantined_one_by_one(tmp_warehouse, shared_data, tmp_path):
    """A bad byte (line 10), a stray quote at a line end (line 500: the parser would join it with line 501),
    a stray quote inside a line within the sniffed sample (line 3), too many fields (line 40000) and a bare
    line feed splitting line 60000 in two (physical lines 60000-60001): exactly those physical lines are
    quarantined; every other line loads, into the slim storage; value = total − their v × 1000."""
    lines = _baci_lines(shared_data)
    lost = [3, 10, 500, 40000, 60000]
    out = list(lines)
    out[2] = lines[2].replace(b",", b',"', 1)
    out[9] = lines[9][:-2] + b'\xe9"'
    out[499] = lines[499] + b'"'
    out[39999] = lines[39999] + b",7"
    t, rest = lines[59999].split(b",", 1)
    out[59999] = t + b"\n" + rest
    path = tmp_path / "BACI_HS17_Y2021_V202401.csv"
    path.write_bytes(b"\r\n".join(out) + b"\r\n")
    r = ingest_file(tmp_warehouse, path, "baci")
    got = q(tmp_warehouse, "SELECT line, reason FROM quarantine ORDER BY line")
    assert [x[0] for x in got] == [3, 10, 500, 40000, 60000, 60001]
    assert all(x[1].startswith("unreadable line") for x in got)
    assert "not UTF-8" in got[1][1] and "quote" in got[2][1] and "expected 6 fields, found 7" in got[3][1]
    assert (r.rows_loaded, r.rows_quarantined) == (71_192 - len(lost), 6)
    v_lost = math.fsum(float(lines[ln - 1].split(b",")[4]) for ln in lost) * 1000
    assert r.value_usd_loaded == pytest.approx(BACI_TOTAL_USD - v_lost, abs=1e-3)
    assert q(tmp_warehouse, "SELECT count(*) FROM baci_rows")[0][0] == r.rows_loaded   # still slim
    # the neighbours of the bad lines loaded (line 501 was not swallowed by line 500's quote)
    _, _, _, k, v, _ = lines[500].split(b",")
    (n,) = q(tmp_warehouse, "SELECT count(*) FROM flows WHERE product = ? AND value_usd = ?",
             k.decode().zfill(6), float(v) * 1000)[0]
    assert n >= 1


def test_baci_malformed_lines_with_other_problems_keep_true_line_numbers(tmp_warehouse, shared_data, tmp_path):
    """Malformed lines (re-read without them), an empty line (skipped, not data) and value problems found in
    the re-read (a negative value, an unconvertible number) are numbered in the original file."""
    lines = _baci_lines(shared_data)
    out = list(lines)
    out[99] = lines[99] + b'"'                                            # 100: stray quote
    out[149] = b""                                                        # 150: empty line
    t, i, j, k, v, qq = lines[199].split(b",")
    out[199] = b",".join([t, i, j, k, b"-" + v, qq])                      # 200: negative value
    t, i, j, k, v, qq = lines[299].split(b",")
    out[299] = b",".join([t, i, j, k, b"abc", qq])                        # 300: value not a number
    path = tmp_path / "b.csv"
    path.write_bytes(b"\r\n".join(out) + b"\r\n")
    r = ingest_file(tmp_warehouse, path, "baci")
    got = q(tmp_warehouse, "SELECT line, column_name FROM quarantine ORDER BY line")
    assert got == [(100, None), (200, "value_usd"), (300, "v")]
    assert r.rows_loaded == 71_192 - 4   # lines 100, 150 (replaced by the empty line), 200, 300


@pytest.mark.parametrize("fmt", ["baci", "generic"])
def test_empty_lines_do_not_shift_quarantine_line_numbers(fmt, tmp_warehouse, shared_data, tmp_path):
    """Regression: the CSV reader skips empty lines silently, which moved every later quarantined line up by
    one per empty line (a negative value on line 100 was reported on line 99)."""
    lines = _baci_lines(shared_data)
    out = list(lines)
    out[49], out[60] = b"", b""                                           # lines 50 and 61 empty
    t, i, j, k, v, qq = lines[99].split(b",")
    out[99] = b",".join([t, i, j, k, b"-" + v, qq])                       # 100: negative value
    t, i, j, k, v, qq = lines[199].split(b",")
    out[199] = b",".join([t, i, j, k, b"abc", qq])                        # 200: value not a number
    path = tmp_path / "b.csv"
    path.write_bytes(b"\r\n".join(out) + b"\r\n")
    opts = {} if fmt == "baci" else {"columns": {"year": "t", "reporter": "i", "partner": "j", "product": "k",
                                                 "value_usd": "v", "quantity": "q"},
                                     "country_codes": "numeric", "flow": "export", "product_pad": 6}
    r = ingest_file(tmp_warehouse, path, fmt, **opts)
    assert [x[0] for x in q(tmp_warehouse, "SELECT line FROM quarantine ORDER BY line")] == [100, 200]
    assert r.rows_loaded == 71_192 - 4


# ------------------------------------------------------------------ customs headers
def test_customs_without_reporter_column_needs_reporter(tmp_warehouse, tmp_path):
    """No reporter column and no --reporter → one error naming the file and --reporter; nothing loads (no
    silent IRN).  With reporter='TUR' the rows are Turkey's."""
    f = tmp_path / "c.csv"
    f.write_text("سال,نوع جریان,کشور طرف معامله,کد تعرفه,ارزش دلاری\n1400,صادرات,عراق,570110,100\n",
                 encoding="utf-8")
    with pytest.raises(InputError) as e:
        ingest_file(tmp_warehouse, f, "customs")
    assert e.value.file == str(f.resolve()) and "--reporter" in str(e.value)
    assert q(tmp_warehouse, "SELECT count(*) FROM flows")[0][0] == 0
    ingest_file(tmp_warehouse, f, "customs", reporter="TUR")
    assert q(tmp_warehouse, "SELECT reporter, partner FROM flows") == [("TUR", "IRQ")]


def test_customs_cli_reporter_option(tmp_path):
    from typer.testing import CliRunner

    from tradepulse.cli import app
    f = tmp_path / "c.csv"
    f.write_text("year,flow,partner,product,value_usd\n2022,export,IRQ,570110,100\n", encoding="utf-8")
    wh = tmp_path / "wh.duckdb"
    res = CliRunner().invoke(app, ["ingest", str(f), "-f", "customs", "-w", str(wh)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "--reporter" in res.output and str(f) in res.output.replace("\n", "")
    res = CliRunner().invoke(app, ["ingest", str(f), "-f", "customs", "--reporter", "irn", "-w", str(wh), "--json"])
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("header", ["provnice", "استانn", "Province Name", "استان مبدا"])
def test_misspelt_province_header_is_an_error(header, tmp_warehouse, tmp_path):
    """A province column under an unknown name would load every row as national: refused, naming the
    accepted headers."""
    f = tmp_path / "c.csv"
    f.write_text(f"سال,{header},نوع جریان,کشور طرف معامله,کد تعرفه,ارزش دلاری\n"
                 "1400,تهران,صادرات,عراق,570110,100\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        ingest_file(tmp_warehouse, f, "customs", reporter="IRN")
    assert "province" in str(e.value) and "'استان'" in str(e.value) and e.value.column == header
    assert q(tmp_warehouse, "SELECT count(*) FROM flows")[0][0] == 0
    ok = tmp_path / "ok.csv"   # the right header loads the province
    ok.write_text(f.read_text(encoding="utf-8").replace(header, "استان"), encoding="utf-8")
    ingest_file(tmp_warehouse, ok, "customs", reporter="IRN")
    assert q(tmp_warehouse, "SELECT province FROM flows") == [("Tehran",)]


# ------------------------------------------------------------------ corrupt files
def _corrupt_files(shared_data, tmp_path) -> list[Path]:
    src = (shared_data / "world_trade_2017_hs4.parquet").read_bytes()
    trunc = tmp_path / "truncated.parquet"
    trunc.write_bytes(src[:5000])
    pages = tmp_path / "pages.parquet"   # footer intact, data pages damaged
    raw = pd.read_parquet(shared_data / "world_trade_2017_hs4.parquet")
    raw.to_parquet(pages, row_group_size=20000, compression=None)
    b = bytearray(pages.read_bytes())
    for off in range(len(b) // 3, len(b) // 3 + 4000, 7):
        b[off] ^= 0xFF
    pages.write_bytes(bytes(b))
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"this is not a workbook\n")
    good = tmp_path / "good.xlsx"
    raw.head(50).to_excel(good, index=False)
    half = tmp_path / "half.xlsx"
    half.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    return [trunc, pages, garbage, half]


def test_corrupt_parquet_and_xlsx_give_one_clear_line(shared_data, tmp_path):
    """CLI: exit code 2, one 'error:' line naming the file, no traceback; the warehouse keeps its rows."""
    from typer.testing import CliRunner

    from tradepulse.cli import app
    from tradepulse.warehouse import Warehouse
    wh = tmp_path / "wh.duckdb"
    with Warehouse(wh) as w:
        ingest_file(w, shared_data / "baci_sample.csv", "baci")
    m = tmp_path / "m.yaml"
    m.write_text("columns:\n  reporter: exporter\n")
    for path in _corrupt_files(shared_data, tmp_path):
        res = CliRunner().invoke(app, ["ingest", str(path), "-f", "generic", "-m", str(m), "-o", "year=2017",
                                       "-o", "partner=WLD", "-o", "flow=export", "-w", str(wh)])
        out = " ".join(res.output.split())
        assert res.exit_code == 2, (path.name, res.output)
        assert "Traceback" not in res.output and out.startswith("error:") and path.name in out, out
        assert res.exception is None or isinstance(res.exception, SystemExit)
        with Warehouse(wh, read_only=True) as w:
            assert q(w, "SELECT count(*), sum(value_usd) FROM flows")[0] == (71_192, pytest.approx(BACI_TOTAL_USD))
            assert q(w, "SELECT count(*) FROM loads")[0][0] == 1


# ------------------------------------------------------------------ Comtrade totals, product markers
def test_comtrade_partner_totals_load_without_options(tmp_warehouse, shared_data):
    """--format comtrade alone: product TOTAL (no commodity column), W00 → WLD; each reporter-year World
    total and the grand total equal pandas sums of the file (value by value)."""
    path = shared_data / "comtrade_partner_totals_2014_2022.parquet"
    raw = pd.read_parquet(path)
    r = ingest_file(tmp_warehouse, path, "comtrade")
    assert (r.rows_loaded, r.rows_quarantined) == (len(raw), 0) == (200_721, 0)
    assert q(tmp_warehouse, "SELECT DISTINCT product, flow, month FROM flows") == [("TOTAL", "export", None)]
    assert sorted(x[0] for x in q(tmp_warehouse, "SELECT value_usd FROM flows")) == sorted(raw["value_usd"])
    world = raw[raw["partner"] == "W00"].set_index(["reporter", "year"])["value_usd"].to_dict()
    got = {(a, int(y)): v for a, y, v in q(tmp_warehouse, "SELECT reporter, year, value_usd FROM flows "
                                                          "WHERE partner = 'WLD'")}
    assert got == {(a, int(y)): v for (a, y), v in world.items()} and len(got) == 1_392
    assert got[("ZAF", 2021)] == pytest.approx(121.32e9, rel=1e-4)


def test_comtrade_monthly_totals_load_without_options(tmp_warehouse, shared_data):
    """The monthly file: month column kept (1-12), product TOTAL; counts per month and sums per reporter-year
    equal pandas."""
    path = shared_data / "monthly_trade_comtrade_2014_2023.parquet"
    raw = pd.read_parquet(path)
    r = ingest_file(tmp_warehouse, path, "comtrade")
    assert (r.rows_loaded, r.rows_quarantined) == (len(raw), 0)
    assert r.value_usd_loaded == pytest.approx(raw["value_usd"].sum(), rel=1e-12)
    months = dict(q(tmp_warehouse, "SELECT month, count(*) FROM flows GROUP BY 1"))
    assert months == {int(k): int(v) for k, v in raw["month"].value_counts().items()}
    assert q(tmp_warehouse, "SELECT DISTINCT product FROM flows") == [("TOTAL",)]
    want = raw[raw["partner"] == "W00"].groupby(["reporter", "year"])["value_usd"].sum()
    got = {(a, int(y)): v for a, y, v in q(
        tmp_warehouse, "SELECT reporter, year, sum(value_usd) FROM flows WHERE partner = 'WLD' GROUP BY 1, 2")}
    assert got.keys() == {(a, int(y)) for a, y in want.index}
    for key, v in want.items():
        assert got[(key[0], int(key[1]))] == pytest.approx(v, rel=1e-12)


def test_product_aggregate_markers_become_total(tmp_warehouse, tmp_path):
    """TOTAL, Total, ALL, AG0, ' all products ', جمع کل (Arabic kaf too) → TOTAL; 'TOTA', 'TOTALS', 'AG2'
    are no products (quarantined), never an HS code."""
    markers = ["TOTAL", "Total", "ALL", "AG0", " all  products ", "جمع كل", "TOTA", "TOTALS", "AG2"]
    partners = ["TUR", "IRQ", "CHN", "IND", "ARE", "PAK", "AFG", "RUS", "DEU"]
    f = tmp_path / "g.csv"
    f.write_text("year,reporter,partner,flow,product,value_usd\n" + "".join(
        f"2021,IRN,{p},export,{m},{i + 1}\n" for i, (m, p) in enumerate(zip(markers, partners))), encoding="utf-8")
    r = ingest_file(tmp_warehouse, f, "generic")
    assert r.rows_loaded == 6
    assert q(tmp_warehouse, "SELECT DISTINCT product FROM flows") == [("TOTAL",)]
    assert [x[0] for x in q(tmp_warehouse, "SELECT line FROM quarantine ORDER BY line")] == [8, 9, 10]
    c = tmp_path / "customs.csv"   # customs: a total line is not cut to a tariff code
    c.write_text("سال,نوع جریان,کشور طرف معامله,کد تعرفه,ارزش دلاری\n1400,صادرات,OMN,جمع کل,100\n"
                 "1400,صادرات,OMN,57011010,60\n", encoding="utf-8")
    ingest_file(tmp_warehouse, c, "customs", reporter="IRN")
    assert sorted(q(tmp_warehouse, "SELECT product, value_usd FROM flows WHERE partner = 'OMN' "
                                   "AND source = 'customs'")) == [("570110", 60.0), ("TOTAL", 100.0)]
