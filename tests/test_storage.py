"""Storage of ``flows``: the view over ``flow_rows`` and the slim BACI tables (``baci_rows``, ``baci_loads``,
``baci_countries``).

Clean typed BACI CSVs are stored as the file's numbers; every other load as canonical rows.  These tests check
that the two storages are one table to every reader: the decoded slim rows equal the general path's rows, the
overlap guard and ``replace`` work across them, duplicate keys are judged on the decoded key, an old warehouse
is migrated, and the slim load imports neither pandas nor numpy (its speed depends on it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tradepulse.errors import InputError
from tradepulse.ingest import codes, ingest_file, ingest_frame
from tradepulse.schema import FLOWS
from tradepulse.warehouse import TABLES, Warehouse

ALL = ", ".join(c for c in FLOWS if c != "load_id")


def _count(wh, sql: str, params=None) -> int:
    return int(wh.raw.execute(sql, params or []).fetchall()[0][0])


def _text_mapping(tmp_path):
    """An explicit column mapping forces the general (text) path for a BACI file."""
    m = tmp_path / "text.yaml"
    m.write_text("columns: {year: t, reporter: i, partner: j, product: k, value_usd: v, quantity: q}\n")
    return m


@pytest.mark.parametrize("with_codes", [False, True])
def test_slim_baci_rows_decode_to_the_general_paths_rows(tmp_path, shared_data, with_codes):
    """Every canonical column of the decoded slim rows equals the general path's rows (same file, same code
    list), and each load sits in its own storage."""
    opts = {"country_codes_csv": shared_data / "baci_country_codes_V202201.csv"} if with_codes else {}
    out = {}
    for name, extra in (("slim", {}), ("text", {"mapping": _text_mapping(tmp_path)})):
        with Warehouse(tmp_path / f"{name}.duckdb") as wh:
            r = ingest_file(wh, shared_data / "baci_sample.csv", "baci", hs_revision="HS2017", **opts, **extra)
            frame = wh.raw.execute(f"SELECT {ALL} FROM flows ORDER BY ALL").df()
            stored = (_count(wh, "SELECT count(*) FROM baci_rows"), _count(wh, "SELECT count(*) FROM flow_rows"))
            assert wh.info()["flows_storage"] == {"baci_rows": stored[0], "flow_rows": stored[1]}
            out[name] = (r, frame, stored)
    slim, text = out["slim"], out["text"]
    assert slim[0].rows_loaded == text[0].rows_loaded == 71_192
    assert slim[0].value_usd_loaded == text[0].value_usd_loaded
    pd.testing.assert_frame_equal(slim[1], text[1])
    assert slim[2] == (71_192, 0) and text[2] == (0, 71_192)
    assert set(slim[1]["hs_revision"]) == {"HS2017"} and set(slim[1]["source"]) == {"baci"}
    # unit only where a quantity is reported
    assert (slim[1]["unit"].isna() == slim[1]["quantity"].isna()).all()


def _numeric_codes_by_pandas(country_codes_csv=None) -> dict[str, str]:
    """Independent oracle for ``codes.numeric_codes_sql``: the reference M49 codes (``reference.countries()``,
    read through pandas), overridden by ``codes.BACI_NUMERIC``, overridden by the BACI code file."""
    from tradepulse import reference
    ref = reference.countries()
    table = dict(zip(ref["m49"].astype(int), ref["iso3"]))
    table.update(codes.BACI_NUMERIC)
    if country_codes_csv is not None:
        cc = pd.read_csv(country_codes_csv, encoding="latin-1", dtype=str, keep_default_na=False)
        cc = cc[cc["iso_3digit_alpha"].str.strip() != ""]
        table.update({int(k): v.strip().upper() for k, v in zip(cc["country_code"], cc["iso_3digit_alpha"])})
    return {str(k): v for k, v in table.items()}


def test_numeric_code_table_built_by_duckdb_equals_the_pandas_table(shared_data):
    con = duckdb.connect()
    for cc in (None, shared_data / "baci_country_codes_V202201.csv"):
        by_sql = dict(con.execute(codes.numeric_codes_sql(cc)).fetchall())
        assert by_sql == _numeric_codes_by_pandas(cc) and len(by_sql) > 250


def _load_baci_text(wh, tmp_path, name: str, text: str):
    """Write a small BACI CSV into ``tmp_path`` and load it (slim path)."""
    path = tmp_path / name
    path.write_text(text)
    return ingest_file(wh, path, "baci")


def _frame_of(wh, where: str) -> pd.DataFrame:
    """Rows of the warehouse (canonical columns) as an ``ingest_frame`` input."""
    return wh.raw.execute(f"SELECT {', '.join(c for c in FLOWS if c not in ('load_id', 'source'))} FROM flows "
                          f"WHERE {where} ORDER BY ALL").df()


def test_overlap_between_a_slim_load_and_a_general_load(tmp_warehouse, shared_data):
    """A frame repeating 10 keys of a slim BACI load: quarantined by default; with replace it supersedes the
    slim rows (deleted from ``baci_rows``, the BACI load recounted)."""
    wh = tmp_warehouse
    first = ingest_file(wh, shared_data / "baci_sample.csv", "baci")
    again = _frame_of(wh, "reporter = 'ZAF' AND partner = 'YEM'").head(10)
    again["value_usd"] = again["value_usd"] * 2
    with pytest.raises(InputError, match="already in the warehouse"):  # every row overlaps: nothing loads
        ingest_frame(wh, again, source="revision", name="revision.csv")
    assert _count(wh, "SELECT count(*) FROM baci_rows") == 71_192
    assert _count(wh, "SELECT count(*) FROM loads") == 1
    r = ingest_frame(wh, again, source="revision", name="revision-2.csv", on_overlap="replace")
    assert (r.rows_loaded, r.rows_overlapping) == (10, 10)
    assert r.overlapping_loads == [{"load_id": first.load_id, "file": first.file, "rows": 10}]
    assert _count(wh, "SELECT count(*) FROM baci_rows") == 71_192 - 10
    assert _count(wh, "SELECT count(*) FROM flows") == 71_192
    total_now = wh.raw.execute("SELECT sum(value_usd) FROM flows").fetchone()[0]
    assert total_now == pytest.approx(first.value_usd_loaded + again["value_usd"].sum() / 2)
    rows_loaded, note = wh.raw.execute("SELECT rows_loaded, note FROM loads WHERE load_id = ?",
                                       [first.load_id]).fetchone()
    assert rows_loaded == 71_192 - 10 and r.load_id in json.loads(note)["superseded_by"]


def test_slim_load_supersedes_general_rows_and_replace_drops_its_own_storage(tmp_warehouse, shared_data, tmp_path):
    wh = tmp_warehouse
    # general rows first: 25 keys of the sample, at other values
    with Warehouse(tmp_path / "scratch.duckdb") as scratch:
        ingest_file(scratch, shared_data / "baci_sample.csv", "baci")
        earlier = _frame_of(scratch, "reporter = 'ZAF'").head(25)
    earlier["value_usd"] = 1.0
    old = ingest_frame(wh, earlier, source="customs", name="older.csv")
    assert _count(wh, "SELECT count(*) FROM flow_rows") == 25
    # default: the 25 lines whose keys the older load holds are quarantined (with their lines), the rest loads
    r = ingest_file(wh, shared_data / "baci_sample.csv", "baci")
    assert (r.rows_loaded, r.rows_quarantined, r.rows_overlapping) == (71_192 - 25, 25, 25)
    q = wh.raw.execute("SELECT min(line), count(DISTINCT line), min(reason) FROM quarantine").fetchone()
    assert q[0] >= 2 and q[1] == 25 and q[2].startswith(f"already loaded by load {old.load_id}")
    assert _count(wh, "SELECT count(*) FROM baci_rows") == 71_192 - 25
    assert _count(wh, "SELECT sum(value_usd) FROM flow_rows") == 25
    # the same file again, replacing its earlier load and superseding the older rows: nothing doubles
    r2 = ingest_file(wh, shared_data / "baci_sample.csv", "baci", replace=True, on_overlap="replace")
    assert (r2.rows_replaced, r2.rows_loaded, r2.rows_overlapping) == (71_192 - 25, 71_192, 25)
    assert r2.overlapping_loads[0]["load_id"] == old.load_id
    assert _count(wh, "SELECT count(*) FROM flow_rows") == 0
    assert _count(wh, "SELECT count(*) FROM flows") == 71_192
    assert _count(wh, "SELECT count(*) FROM baci_rows") == 71_192
    assert _count(wh, "SELECT count(DISTINCT load_no) FROM baci_rows") == 1
    assert _count(wh, "SELECT count(*) FROM baci_loads") == 1
    assert _count(wh, "SELECT count(DISTINCT load_no) FROM baci_countries") == 1


@pytest.mark.parametrize("bitmap_bits", [None, 5, 1])
def test_slim_duplicates_are_judged_on_the_decoded_key(tmp_warehouse, tmp_path, bitmap_bits, monkeypatch):
    """Numbers 56 and 58 both decode to BEL: two rows differing only in that number are one key twice, and
    both go to quarantine, as on the general path (one bitmap; bitmaps per year × reporter when one bitmap
    would be wider than the limit — 2 × 2 × 2 = 8 bits > 5; the hash count when even those are too wide)."""
    from tradepulse.ingest import _keys
    if bitmap_bits is not None:
        monkeypatch.setattr(_keys, "BITSTRING_MAX_BITS", bitmap_bits)
    r = _load_baci_text(tmp_warehouse, tmp_path, "baci_dup.csv", "t,i,j,k,v,q\n2021,56,364,100190,1.5,2.0\n"
                        "2021,58,364,100190,2.5,NA\n2021,56,364,100199,3.0,NA\n")
    assert (r.rows_loaded, r.rows_quarantined) == (1, 2)
    lines = tmp_warehouse.raw.execute("SELECT line, reason FROM quarantine ORDER BY line").fetchall()
    assert [x[0] for x in lines] == [2, 3] and all("duplicate key" in x[1] for x in lines)
    assert tmp_warehouse.raw.execute("SELECT reporter, product FROM flows").fetchall() == [("BEL", "100199")]
    assert _count(tmp_warehouse, "SELECT count(*) FROM baci_rows") == 1


def test_slim_plan_sizes_bitmaps_to_the_key_space():
    """A real BACI year (232 × 232 × 5,388 ≈ 2.9·10⁸ keys) is one bitmap, past the old 2²⁸ cap; a load of
    5 such years is one bitmap per year (DuckDB's range is < 10⁹ bits); 29 years in ONE load (BACI ships one
    file per year, each its own load) would exceed 256 MB of bits per thread: hash count."""
    from tradepulse.ingest._keys import BITSTRING_MAX_BITS, _slim_plan
    assert 232 * 232 * 5388 > 1 << 28
    assert _slim_plan(1, 232, 5388) == 0
    assert _slim_plan(3, 232, 5388) == 0
    assert _slim_plan(5, 232, 5388) == 1
    assert _slim_plan(29, 232, 5388) is None
    assert _slim_plan(1, 300, 20_000) == 2   # 1.8·10⁹ keys: per year × reporter
    assert _slim_plan(10**6, 10**3, 10**6) is None
    assert 232 * 232 * 5388 <= BITSTRING_MAX_BITS


@pytest.mark.parametrize("years", [1, 2])
def test_slim_duplicates_exact_at_the_real_key_space(tmp_warehouse, tmp_path, years):
    """Every one of 232 country numbers and 5,388 HS6 codes present (key space 232² × 5,388 per year, above
    the old bitmap cap): exactly the 3 repeated keys (6 rows) are quarantined; a second year (one bitmap per
    year when 2 × 2.9·10⁸ still fits, as here) repeats the same triples without counting as duplicates."""
    # the panel benchmark's code lists (232 BACI numbers tradepulse maps, one per ISO3), loaded by path under a
    # name of its own: benchmarks/ingest has a gen.py too, and a worker may have imported that one first
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "panel_gen", Path(__file__).resolve().parents[1] / "benchmarks" / "panel" / "gen.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    cs, ks = gen.country_numbers(), gen.hs6_codes()
    assert (len(cs), len(ks)) == (232, 5388)
    lines = ["t,i,j,k,v,q"]
    for y in range(2020, 2020 + years):
        lines += [f"{y},{cs[n % 232]},{cs[(n * 7 + 1) % 232]},{k},1.0,NA" for n, k in enumerate(ks)]
        lines += [f"{y},{cs[n % 232]},{cs[(n * 7 + 1) % 232]},{ks[n]},2.0,NA" for n in (0, 100, 5387)]
    r = _load_baci_text(tmp_warehouse, tmp_path, "baci_big.csv", "\n".join(lines) + "\n")
    assert (r.rows_loaded, r.rows_quarantined) == (5385 * years, 6 * years)


@pytest.mark.parametrize("slim_path", [True, False])
@pytest.mark.parametrize("policy", ["replace", "quarantine"])
@pytest.mark.parametrize("bel", ["58", "56"])
def test_slim_overlap_on_stored_numbers_equals_the_decoded_key(tmp_warehouse, tmp_path, monkeypatch, slim_path,
                                                              policy, bel):
    """Overlap between two slim BACI loads found on the stored numbers (no decoding view) is the overlap of
    the decoded keys: 56 and 58 both decode to BEL, so (2021, 58→BEL, IRN, 100190) repeats (2021, 56→BEL, IRN,
    100190) (ranked ISO3 codes), as 56 does 56 (the stored numbers packed as they are); another product or
    year does not.  The general path (view) gives the same answer."""
    from tradepulse.ingest import _core
    found = []
    slim = _core._find_overlap_slim
    monkeypatch.setattr(_core, "_find_overlap_slim",
                        (lambda *a: found.append(slim(*a)) or found[-1]) if slim_path else (lambda *a: None))
    _load_baci_text(tmp_warehouse, tmp_path, "a.csv", "t,i,j,k,v,q\n2021,56,364,100190,1.5,NA\n"
                    "2021,364,368,100199,2.0,NA\n2020,58,364,100190,7.0,NA\n")
    (tmp_path / "b.csv").write_text(f"t,i,j,k,v,q\n2021,{bel},364,100190,3.0,NA\n2021,364,368,100190,4.0,NA\n")
    r = ingest_file(tmp_warehouse, tmp_path / "b.csv", "baci", on_overlap=policy)
    assert r.rows_overlapping == 1 and found == ([1] if slim_path else [])
    got = sorted(tmp_warehouse.raw.execute("SELECT year, reporter, partner, product, value_usd FROM flows")
                 .fetchall())
    kept_bel = 3000.0 if policy == "replace" else 1500.0
    assert got == sorted([(2020, "BEL", "IRN", "100190", 7000.0), (2021, "BEL", "IRN", "100190", kept_bel),
                          (2021, "IRN", "IRQ", "100199", 2000.0), (2021, "IRN", "IRQ", "100190", 4000.0)])


def test_slim_unknown_country_number_is_quarantined_with_its_line(tmp_warehouse, tmp_path):
    r = _load_baci_text(tmp_warehouse, tmp_path, "baci_unknown.csv", "t,i,j,k,v,q\n2021,364,368,100190,1.5,2.0\n"
                        "2021,997,368,100190,2.5,NA\n2021,364,998,100199,3.0,NA\n2021,364,368,100199,4.0,NA\n")
    assert (r.rows_loaded, r.rows_quarantined) == (2, 2)
    q = tmp_warehouse.raw.execute("SELECT line, column_name, reason FROM quarantine ORDER BY line").fetchall()
    assert q == [(3, "reporter", "unknown numeric country code"), (4, "partner", "unknown numeric country code")]
    assert sorted(tmp_warehouse.raw.execute("SELECT reporter, partner FROM flows").fetchall()) == \
        [("IRN", "IRQ"), ("IRN", "IRQ")]
    assert tmp_warehouse.raw.execute("SELECT list_sort(list(number)) FROM baci_countries").fetchone()[0] == [364, 368]


def test_old_warehouse_with_a_flows_table_is_migrated(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    for name, cols in TABLES.items():  # the layout before the slim storage: every table native
        con.execute(f"CREATE TABLE {name} (" + ", ".join(f'"{c}" {t}' for c, t in cols.items()) + ")")
    con.execute("INSERT INTO flows VALUES (2021, NULL, 'IRN', 'IRQ', 'export', '100190', 'HS2017', 5.0, NULL, "
                "NULL, NULL, 'old', 'L1')")
    con.close()
    with Warehouse(path, read_only=True) as wh:  # read-only: the old layout is read as it is
        assert _count(wh, "SELECT count(*) FROM flows") == 1
        assert wh.info()["flows_storage"] == {"flows": 1}
    with Warehouse(path) as wh:
        kinds = dict(wh.raw.execute("SELECT table_name, table_type FROM information_schema.tables "
                                    "WHERE table_name IN ('flows', 'flow_rows')").fetchall())
        assert kinds == {"flows": "VIEW", "flow_rows": "BASE TABLE"}
        assert wh.raw.execute(f"SELECT {ALL}, load_id FROM flows").fetchall() == [
            (2021, None, "IRN", "IRQ", "export", "100190", "HS2017", 5.0, None, None, None, "old", "L1")]
        assert int(wh.flows().count().execute()) == 1
        assert wh.info()["flows_storage"] == {"flow_rows": 1, "baci_rows": 0}


def test_slim_baci_load_imports_neither_pandas_nor_numpy(tmp_path, shared_data):
    """The speed goal of ``benchmarks/ingest`` rests on this: a clean BACI load imports only DuckDB."""
    code = ("import sys; from tradepulse.ingest import ingest_file; from tradepulse.warehouse import Warehouse\n"
            "with Warehouse(sys.argv[2]) as wh:\n"
            "    r = ingest_file(wh, sys.argv[1], 'baci')\n"
            "print(r.rows_loaded, 'pandas' in sys.modules, 'numpy' in sys.modules, 'ibis' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(shared_data / "baci_sample.csv"),
                          str(tmp_path / "wh.duckdb")], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["71192", "False", "False", "False"]


def test_indicators_read_both_storages_alike(tmp_path, shared_data):
    """Indicators see the storage only through the ``flows`` view: exports by HS4 and product diversification
    computed on the slim and on the canonical storage of the same file are equal."""
    from tradepulse.indicators import complexity, diversification
    res = {}
    for name, extra in (("slim", {}), ("text", {"mapping": _text_mapping(tmp_path)})):
        with Warehouse(tmp_path / f"{name}.duckdb") as wh:
            ingest_file(wh, shared_data / "baci_sample.csv", "baci", **extra)
            ex = complexity.warehouse_exports(wh, digits=4)
            div = diversification.product_diversification(wh, reporter="ZAF")
            res[name] = (ex.sort_values(list(ex.columns[:3])).reset_index(drop=True),
                         div.reset_index(drop=True) if hasattr(div, "reset_index") else div)
    assert len(res["slim"][0]) > 1_000
    pd.testing.assert_frame_equal(res["slim"][0], res["text"][0])
    pd.testing.assert_frame_equal(res["slim"][1], res["text"][1])


def test_outdated_view_definitions_are_replaced(tmp_path, shared_data):
    path = tmp_path / "wh.duckdb"
    with Warehouse(path) as wh:
        ingest_file(wh, shared_data / "baci_sample.csv", "baci")
        # as if an older tradepulse had defined the view without the slim rows
        wh.raw.execute("CREATE OR REPLACE VIEW flows AS SELECT * FROM flow_rows")
        wh.raw.execute("COMMENT ON VIEW flows IS 'older definition'")
    with Warehouse(path, read_only=True) as wh:
        assert _count(wh, "SELECT count(*) FROM flows") == 0
    with Warehouse(path) as wh:
        assert _count(wh, "SELECT count(*) FROM flows") == 71_192
        from tradepulse.warehouse import VIEW_VERSION
        assert dict(wh.raw.execute("SELECT view_name, comment FROM duckdb_views() WHERE view_name IN "
                                   "('flows', 'flows_located')").fetchall()) == \
            {"flows": VIEW_VERSION, "flows_located": VIEW_VERSION}
