"""``tradepulse ingest --engine spark`` gives the dataset a DuckDB ingest + export gives.

The real BACI sample (2021, AFG and ZAF, 71,192 rows) and a small BACI-format file with deliberately bad rows
(year out of range and not a number, unknown country code, negative / NaN / missing value, a duplicated key,
a key the sample already holds, an unknown HS chapter, a negative and an infinite quantity, a blank line, a
line with too few fields) are loaded (a) into a DuckDB warehouse, exported with ``export --to
parquet-dataset``, and (b) through the CLI with ``--engine spark`` into a new dataset.  Both datasets are then
read through Spark and must agree: flows rows, quarantine rows (line, column, value, reason, raw text),
coverage, ``info --json`` and ``indicators balance -r ZAF --json``.  Load ids differ by construction and are
compared through the file they name.
"""

from __future__ import annotations

import json
import math
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from tradepulse.cli import app

pytestmark = [pytest.mark.spark, pytest.mark.slow]
runner = CliRunner()
REL = 1e-9

#: Line 2 repeats a key of the sample; lines 9/10 share a key; line 13 is blank; line 15 has 3 fields.
BAD = '''"t","i","j","k","v","q"
2021,4,24,382390,52.051,"       13.235"
1850,4,24,481890,0.041,"        0.022"
abc,4,24,481890,0.041,"        0.022"
2021,1,24,690790,3.403,"        1.854"
2021,4,24,732393,-5,"        1.854"
2021,4,24,732394,nan,"        1.854"
2021,4,24,732395,NA,"          NA"
2021,710,4,100110,1.5,"          NA"
2021,710,4,100110,2.5,"        3"
2021,710,4,7701,1.5,"          NA"
2021,710,4,100190,12345678.9,"        -1"

2021,710,24,100190,1e-5,"1e400"
2021,710,24
2022,710,24,100190,0.5,"nan"
2022,710,4,30110,1e-5,"2.5"
2021.0,710,24,30110,7,"  1"
'''


def _cli(*args: str) -> str:
    res = runner.invoke(app, list(args))
    assert res.exit_code == 0, (args, res.output, res.exception)
    return res.stdout


@pytest.fixture(scope="module")
def pair(spark, shared_data, tmp_path_factory):
    """(dataset exported from DuckDB, dataset written by the Spark ingest, bad file)."""
    from tradepulse.ingest import ingest_file
    from tradepulse.warehouse import Warehouse
    from tradepulse.warehouse.parquet import export_dataset

    root = tmp_path_factory.mktemp("spark_ingest")
    bad = root / "bad_baci.csv"
    bad.write_text(BAD, encoding="utf-8")
    with Warehouse(root / "wh.duckdb") as wh:
        ingest_file(wh, shared_data / "baci_sample.csv", "baci")
        ingest_file(wh, bad, "baci")
        export_dataset(wh, root / "from_duckdb")
    ds = root / "from_spark"
    for f in (shared_data / "baci_sample.csv", bad):
        out = json.loads(_cli("ingest", str(f), "-f", "baci", "--engine", "spark", "-w", str(ds), "--json"))
        assert not out["skipped"]
    return root / "from_duckdb", ds, bad


def _read(ds, table: str) -> pd.DataFrame:
    from tradepulse.warehouse.spark import SparkWarehouse
    wh = SparkWarehouse(ds)
    try:
        return wh.raw.execute(f'SELECT * FROM "{table}"').df(), wh.raw.execute("SELECT load_id, file FROM loads").df()
    finally:
        wh.close()


def _by_file(df: pd.DataFrame, loads: pd.DataFrame) -> pd.DataFrame:
    """``load_id`` → the file it loaded (ids differ between the two datasets); load ids in text too."""
    names = dict(zip(loads["load_id"], loads["file"].map(lambda f: f.rsplit("/", 1)[-1])))
    out = df.copy()
    out["load_id"] = out["load_id"].map(names)
    for col in ("reason",):
        if col in out:
            out[col] = out[col].map(lambda r: re.sub(r"load (\S+)", lambda m: "load " + names.get(m[1], "?"), r))
    return out


def _sorted(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return df.sort_values(by, kind="stable").reset_index(drop=True)


def test_flows_equal(pair):
    a, b, _ = pair
    fa, la = _read(a, "flows")
    fb, lb = _read(b, "flows")
    keys = ["load_id", "year", "reporter", "partner", "product"]
    fa, fb = _sorted(_by_file(fa, la), keys), _sorted(_by_file(fb, lb), keys)
    assert len(fa) == 71192 + 3
    pd.testing.assert_frame_equal(fa.astype({"year": "int64"}), fb[fa.columns].astype({"year": "int64"}),
                                  check_dtype=False)


def test_quarantine_equal(pair):
    a, b, bad = pair
    qa, la = _read(a, "quarantine")
    qb, lb = _read(b, "quarantine")
    qa, qb = _sorted(_by_file(qa, la), ["line"]), _sorted(_by_file(qb, lb), ["line"])
    assert set(qa["file"]) == {str(bad.resolve())}
    # every bad line is there, each with the reason the DuckDB ingest gave it
    assert qa["line"].tolist() == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15]
    pd.testing.assert_frame_equal(qa, qb[qa.columns], check_dtype=False)


def test_coverage_and_loads_equal(pair):
    a, b, _ = pair
    ca, la = _read(a, "coverage")
    cb, lb = _read(b, "coverage")
    keys = ["load_id", "reporter", "year", "partner_detail"]
    ca, cb = _sorted(_by_file(ca, la), keys), _sorted(_by_file(cb, lb), keys)
    pd.testing.assert_frame_equal(ca.drop(columns="value_usd"), cb[ca.columns].drop(columns="value_usd"),
                                  check_dtype=False)
    assert ca["value_usd"].tolist() == pytest.approx(cb["value_usd"].tolist(), rel=REL)


def _close(x, y, path="") -> None:
    if isinstance(x, dict):
        assert set(x) == set(y), path
        for k in x:
            _close(x[k], y[k], f"{path}.{k}")
    elif isinstance(x, list):
        assert len(x) == len(y), path
        for i, (u, v) in enumerate(zip(x, y)):
            _close(u, v, f"{path}[{i}]")
    elif isinstance(x, float) and isinstance(y, (int, float)):
        assert math.isclose(x, y, rel_tol=REL, abs_tol=1e-9), (path, x, y)
    else:
        assert x == y, (path, x, y)


def _info(ds) -> dict:
    data = json.loads(_cli("info", "--json", "--engine", "spark", "-w", str(ds)))
    for k in ("path", "version", "exported_from", "master"):
        data.pop(k)
    names = {ld["load_id"]: ld["file"].rsplit("/", 1)[-1] for ld in data["loads"]}
    for ld in data["loads"]:
        ld.pop("loaded_at")
        ld["load_id"] = names[ld["load_id"]]
    data["quarantine"]["by_reason"] = {re.sub(r"load (\S+)", lambda m: "load " + names[m[1]], r): n
                                       for r, n in data["quarantine"]["by_reason"].items()}
    return data


def test_info_json_equal(pair):
    a, b, _ = pair
    ia, ib = _info(a), _info(b)
    assert ia["tables"]["flows"] == 71192 + 3 and ia["quarantine"]["rows"] == 13
    _close(ia, ib)


def test_balance_equal(pair):
    a, b, _ = pair
    out = [json.loads(_cli("indicators", "balance", "-r", "ZAF", "--json", "--engine", "spark", "-w", str(d)))
           for d in (a, b)]
    assert out[0]
    _close(out[0], out[1])


def test_same_file_again_is_skipped(pair):
    _a, b, bad = pair
    before = (b / "manifest.json").read_bytes()
    out = json.loads(_cli("ingest", str(bad), "-f", "baci", "--engine", "spark", "-w", str(b), "--json"))
    assert out["skipped"] and out["rows_loaded"] == 0
    assert (b / "manifest.json").read_bytes() == before


def test_crash_before_the_manifest_leaves_the_dataset(pair, shared_data, tmp_path, monkeypatch):
    """A replacing load (``--on-overlap replace`` of a revised sample row: the 3,069 other AFG 2021 rows are
    rewritten under the load's directory first) failing at its last step (the manifest) leaves the manifest
    and what it names unchanged, and removes its files; files of a load no manifest names are never read."""
    import tradepulse.ingest._spark_manifest as spm
    from tradepulse.ingest.spark import ingest_dataset

    _a, b, _ = pair
    before = (b / "manifest.json").read_bytes()
    dirs = sorted(p.name for p in (b / "ingest").iterdir())
    n_before = len(_read(b, "flows")[0])
    lines = (shared_data / "baci_sample.csv").read_bytes().split(b"\r\n")
    afg = lines[2].split(b",")   # 2021, AFG (4) → 24, 481890: a row of the sample load
    assert afg[:2] == [b"2021", b"4"]
    other = tmp_path / "other.csv"
    other.write_bytes(b"\r\n".join([lines[0], b",".join([*afg[:4], b"9.5", afg[5]]), b""]))

    def boom(*_a, **_k):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(spm, "write_manifest", boom)
    with pytest.raises(OSError, match="simulated"):
        ingest_dataset(b, other, "baci", on_overlap="replace")
    assert (b / "manifest.json").read_bytes() == before
    assert sorted(p.name for p in (b / "ingest").iterdir()) == dirs
    # an orphan load directory (a crash that could not clean up) is not read
    orphan = b / "ingest" / "orphan" / "flows" / "year=2019" / "reporter=ZAF"
    orphan.mkdir(parents=True)
    sample = next((b / "ingest").glob("*/flows/year=2021/reporter=ZAF/*.parquet"))
    (orphan / sample.name).write_bytes(sample.read_bytes())
    assert len(_read(b, "flows")[0]) == n_before


@pytest.mark.parametrize("args, words", [
    (["missing.csv", "-f", "baci"], "file not found"),
    (["{bad}", "-f", "macro"], "format macro is not on Spark yet"),
    (["{bad}", "-f", "nonsense"], "unknown format 'nonsense'"),
])
def test_errors_are_one_line(pair, tmp_path, args, words):
    _a, _b, bad = pair
    ds = tmp_path / "ds"
    args = [a.replace("{bad}", str(bad)) for a in args]
    res = runner.invoke(app, ["ingest", *args, "--engine", "spark", "-w", str(ds)])
    assert res.exit_code == 2, res.output
    text = res.stderr.strip()
    assert words in text and "Traceback" not in text and len(text.splitlines()) == 1, text
    assert not ds.exists() or not any(ds.iterdir())


def test_engine_from_the_environment(pair, tmp_path, monkeypatch):
    """``TRADEPULSE_ENGINE=spark`` makes ``ingest`` write a dataset, as it makes the readers read one."""
    _a, _b, bad = pair
    monkeypatch.setenv("TRADEPULSE_ENGINE", "spark")
    ds = tmp_path / "env_ds"
    out = json.loads(_cli("ingest", str(bad), "-f", "baci", "-w", str(ds), "--json"))
    assert out["rows_loaded"] == 4 and out["rows_quarantined"] == 12   # no earlier load: line 2 is good here
    assert (ds / "manifest.json").is_file()


def test_spark_sql_translation_keeps_duckdb_results(spark):
    """The rewrites of _spark_sql on the edge cases where DuckDB and Spark differ (number syntax, rounding,
    NaN/inf, NULLs): every expression gives DuckDB's value."""
    import duckdb

    from tradepulse.ingest._spark_sql import to_spark

    vals = ["2021", " 2021 ", "2021.0", "+2021", "2021.5", "2022.5", "-2.5", "1e3", "1_000", "1__0", "_1",
            "99999999999", "1e400", "inf", "-Infinity", "NaN", "nan", "1.5d", "0x1p3", "1_000.5", ".5", "5.",
            "1e16", "abc", "", "NA", "1,000", "2147483647.4", "2147483647.6", "-0.0", "1E+2", "1e-5", "  3  ",
            "1.5f", "e5", ".", "+.5e-3", None]
    exprs = ["TRY_CAST(TRY_CAST(trim(x) AS DOUBLE) AS INTEGER)", "TRY_CAST(NULLIF(trim(x), '') AS DOUBLE)",
             "isfinite(TRY_CAST(NULLIF(trim(x), '') AS DOUBLE) * 1000.0)", "regexp_full_match(trim(x), '[0-9 .]+')",
             "isnan(TRY_CAST(NULLIF(trim(x), '') AS DOUBLE))"]
    sql = "SELECT i, " + ", ".join(f"{e} AS e{k}" for k, e in enumerate(exprs)) + " FROM v"
    con = duckdb.connect()
    con.execute("CREATE TABLE v AS SELECT unnest(range(?)) AS i, unnest(?::VARCHAR[]) AS x", [len(vals), vals])
    want = sorted(con.execute(sql).fetchall())
    spark.createDataFrame(list(enumerate(vals)), "i bigint, x string").createOrReplaceTempView("v")
    got = sorted(tuple(r) for r in spark.sql(to_spark(sql)).collect())

    def same(u, v):
        if isinstance(u, float) and isinstance(v, float):
            return (math.isnan(u) and math.isnan(v)) or u == v
        return u == v
    diffs = [(vals[w[0]], w, g) for w, g in zip(want, got) if not all(same(u, v) for u, v in zip(w, g))]
    assert not diffs


#: A generic CSV (read as text): Persian digits and a thousands separator, an all-goods total, 2/4-digit and
#: odd-length HS codes, re-export, month; bad: unknown flow, unknown ISO3, blank reporter, HS chapter 77,
#: 5-digit code after padding rules, a comma decimal, month 13, a duplicate key.
GENERIC = '''year,month,reporter,partner,flow,product,value_usd,quantity,unit
2020,1,IRN,TUR,export,0101,"1,234.5",10,kg
۲۰۲۰,2,IRN,TUR,export,0101,۱۲۳,,kg
2020,3,IRN,WLD,import,TOTAL,5e6,,
2020,3,IRN,ARE,re-export,101,7,3,kg
2020,3,IRN,ARE,smuggled,0102,7,3,kg
2020,3,XXX,ARE,export,0102,7,3,kg
2020,3,,ARE,export,0102,7,3,kg
2020,3,IRN,ARE,export,7701,7,3,kg
2020,3,IRN,ARE,export,01023,7,3,kg
2020,3,IRN,ARE,export,0103,"7,5",3,kg
2020,13,IRN,ARE,export,0104,7,3,kg
2020,4,IRN,IRQ,x,0105,1,1,kg
2020,4,IRN,IRQ,export,0105,2,1,kg
2021,4,TUR,IRQ,m,87,2.5e3,NA,
'''


def test_generic_csv_parity(spark, tmp_path):
    """The text path (every column read as text, Persian digits, thousands separators) agrees too."""
    from tradepulse.ingest import ingest_file
    from tradepulse.warehouse import Warehouse
    from tradepulse.warehouse.parquet import export_dataset

    f = tmp_path / "generic.csv"
    f.write_text(GENERIC, encoding="utf-8")
    with Warehouse(tmp_path / "g.duckdb") as wh:
        r = ingest_file(wh, f, "generic")
        export_dataset(wh, tmp_path / "a")
    out = json.loads(_cli("ingest", str(f), "-f", "generic", "--engine", "spark", "-w",   # a new dataset at a URL
                          (tmp_path / "b").as_uri(), "--json"))
    assert (out["rows_loaded"], out["rows_quarantined"]) == (r.rows_loaded, r.rows_quarantined)
    assert out["value_usd_loaded"] == pytest.approx(r.value_usd_loaded, rel=REL)
    for table, keys in (("flows", ["year", "month", "reporter", "partner", "flow", "product"]),
                        ("quarantine", ["line"])):
        (da, la), (db, lb) = _read(tmp_path / "a", table), _read(tmp_path / "b", table)
        da, db = _sorted(_by_file(da, la), keys), _sorted(_by_file(db, lb), keys)
        assert len(da) > 3
        pd.testing.assert_frame_equal(da, db[da.columns], check_dtype=False)


def test_concurrent_commit_keeps_nothing(spark, tmp_path):
    """A load that finds the manifest changed by another writer at commit fails and leaves no files."""
    from tradepulse.errors import TradepulseError
    from tradepulse.ingest.spark import ingest_dataset

    ds = tmp_path / "ds"
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    one.write_text('"t","i","j","k","v","q"\n2019,710,4,100110,1.5,"          NA"\n', encoding="utf-8")
    two.write_text('"t","i","j","k","v","q"\n2019,710,4,100120,1.5,"          NA"\n', encoding="utf-8")
    ingest_dataset(ds, one, "baci")
    before = (ds / "manifest.json").read_bytes()

    def other_writer(step: str) -> None:
        if step == "committing":
            (ds / "manifest.json").write_bytes(before + b" ")
    with pytest.raises(TradepulseError, match="another load changed the dataset"):
        ingest_dataset(ds, two, "baci", progress=other_writer)
    assert len(list((ds / "ingest").iterdir())) == 1


def test_line_numbers_across_file_blocks(spark, shared_data):
    """Line numbers stay physical when Spark splits the file into many blocks (64 KB splits of a 3 MB file)."""
    from tradepulse.ingest._spark_read import _numbered_lines

    path = shared_data / "baci_sample.csv"
    old = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(64 << 10))
    try:
        df = _numbered_lines(spark, str(path))
        assert df.rdd.getNumPartitions() > 20
        got = [(r[0], r[1]) for r in df.orderBy("__line").collect()]
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", old)
    want = list(enumerate(path.read_text(encoding="utf-8").splitlines(), start=1))
    assert got == want


# ------------------------------------------------------------------ replacing rows (issue 19, step 1)
def _revision(shared_data, path, doubled: range, moved: range, tripled: range) -> pd.DataFrame:
    """A revised BACI file from the sample's data lines (1-based data line numbers): ``doubled`` keep their
    key with v × 2, ``moved`` go to 2022 (new keys), ``tripled`` keep their key with v × 3; one bad line
    (unknown country 1) ends it.  Returns the (kind, t, v_old, v_new) of each row written."""
    lines = (shared_data / "baci_sample.csv").read_bytes().split(b"\r\n")
    out, rows = [lines[0]], []
    for kind, span, factor in (("doubled", doubled, 2), ("moved", moved, 1), ("tripled", tripled, 3)):
        for i in span:
            t, c, j, k, v, qq = lines[i].split(b",")
            new_t = b"2022" if kind == "moved" else t
            new_v = f"{float(v) * factor:.3f}".encode()
            out.append(b",".join([new_t, c, j, k, new_v, qq]))
            rows.append((kind, int(new_t), float(v), float(new_v)))
    out.append(b'2021,1,24,100110,1.5,"NA"')
    path.write_bytes(b"\r\n".join(out + [b""]))
    return pd.DataFrame(rows, columns=["kind", "t", "v_old", "v_new"])


@pytest.fixture(scope="module")
def replaced(pair, shared_data, tmp_path_factory):
    """The pair's two datasets, then a revised release loaded with ``--on-overlap replace`` (sample lines 2–301
    doubled, 302–401 moved to 2022), then a shrunk revision under the same name with ``--replace --on-overlap
    replace`` (lines 2–201 doubled, 402–501 tripled; into the dataset's ``file://`` URL): through DuckDB (a copy
    of the pair's warehouse, exported) and through ``--engine spark`` (a copy of the Spark dataset).  Returns
    (DuckDB warehouse, its export, Spark dataset, results, revisions)."""
    import shutil

    from tradepulse.ingest import ingest_file
    from tradepulse.warehouse import Warehouse
    from tradepulse.warehouse.parquet import export_dataset

    a, b, _bad = pair
    root = tmp_path_factory.mktemp("spark_replace")
    shutil.copy(a.parent / "wh.duckdb", root / "wh.duckdb")
    ds = root / "spark"
    shutil.copytree(b, ds)
    rev = root / "BACI_HS17_Y2021_V202501_slice.csv"
    rev1 = _revision(shared_data, rev, range(1, 301), range(301, 401), range(0))

    results = []
    with Warehouse(root / "wh.duckdb") as wh:
        duck = ingest_file(wh, rev, "baci", on_overlap="replace").to_dict()
    spark_out = json.loads(_cli("ingest", str(rev), "-f", "baci", "--on-overlap", "replace", "--engine", "spark",
                                "-w", str(ds), "--json"))
    results.append((duck, spark_out))
    rev2 = _revision(shared_data, rev, range(1, 201), range(0), range(401, 501))
    with Warehouse(root / "wh.duckdb") as wh:
        duck = ingest_file(wh, rev, "baci", replace=True, on_overlap="replace").to_dict()
        export_dataset(wh, root / "from_duckdb")
    # the second through a storage URL (Spark's Hadoop file system, as for s3a:// or hdfs://)
    spark_out = json.loads(_cli("ingest", str(rev), "-f", "baci", "--replace", "--on-overlap", "replace",
                                "--engine", "spark", "-w", ds.as_uri(), "--json"))
    results.append((duck, spark_out))
    return root / "wh.duckdb", root / "from_duckdb", ds, results, (rev1, rev2)


def test_replace_results_equal(replaced):
    """The load summaries agree: rows loaded / quarantined / replaced / overlapping, value, earlier loads hit."""
    *_x, results, (rev1, rev2) = replaced
    for step, (duck, spark_out) in enumerate(results):
        for k in ("rows_loaded", "rows_quarantined", "rows_replaced", "rows_overlapping", "problems", "skipped"):
            assert duck[k] == spark_out[k], (step, k)
        assert spark_out["value_usd_loaded"] == pytest.approx(duck["value_usd_loaded"], rel=REL)
        assert [(o["file"], o["rows"]) for o in duck["overlapping_loads"]] == \
            [(o["file"], o["rows"]) for o in spark_out["overlapping_loads"]]
    # by hand: 400 + 100 good lines, then 200 + 100; the first revision supersedes 300 sample rows (its 2022
    # rows are new keys), the second drops the first (400 rows) and supersedes 100 more sample rows
    assert [(r[1]["rows_loaded"], r[1]["rows_quarantined"], r[1]["rows_replaced"], r[1]["rows_overlapping"])
            for r in results] == [(400, 1, 0, 300), (300, 1, 400, 100)]
    assert results[1][1]["value_usd_loaded"] == pytest.approx(1000 * rev2["v_new"].sum(), rel=REL)


def test_replace_tables_equal(replaced, shared_data):
    """flows, quarantine, coverage and loads (counts, values, supersession notes) of the Spark dataset equal
    the DuckDB export's; the 2021 AFG total is the sample's less the replaced rows plus their revisions."""
    _wh, a, b, _r, (rev1, rev2) = replaced
    keys = {"flows": ["load_id", "year", "reporter", "partner", "product"], "quarantine": ["load_id", "line"],
            "coverage": ["load_id", "reporter", "year", "partner_detail"]}
    for table, by in keys.items():
        (da, la), (db, lb) = _read(a, table), _read(b, table)
        da, db = _sorted(_by_file(da, la), by), _sorted(_by_file(db, lb), by)
        if table == "flows":
            assert len(da) == 71192 + 3 - 300 - 100 + 300
            assert json.loads((b / "manifest.json").read_text())["tables"]["flows"]["rows"] == len(db)
        num = [c for c in ("value_usd", "quantity") if c in da]
        pd.testing.assert_frame_equal(da.drop(columns=num), db[da.columns].drop(columns=num), check_dtype=False)
        for c in num:
            assert da[c].fillna(-1).tolist() == pytest.approx(db[c].fillna(-1).tolist(), rel=REL)
    fa = _read(a, "flows")[0]
    la_, lb_ = _read(a, "loads")[0], _read(b, "loads")[0]
    sample = pd.read_csv(shared_data / "baci_sample.csv")
    afg = sample.loc[sample["i"] == 4, "v"].sum()
    doubled = rev1[rev1["kind"] == "doubled"]
    tripled = rev2[rev2["kind"] == "tripled"]
    # the first revision's lines 201-300 were dropped with it: their sample rows are gone for good
    want = afg - doubled["v_old"].sum() - tripled["v_old"].sum() + rev2["v_new"].sum()
    got = fa.loc[(fa["reporter"] == "AFG") & (fa["year"] == 2021), "value_usd"].sum()
    assert got == pytest.approx(want * 1000, rel=1e-9)

    def table(df, loads):
        names = dict(zip(loads["load_id"], loads["file"].map(lambda f: f.rsplit("/", 1)[-1])))
        out = {}
        for r in df.itertuples():
            note = json.loads(r.note)
            sup = {k: {names.get(i, "?"): v for i, v in note.get(k, {}).items()} for k in ("superseded",
                                                                                           "superseded_by")}
            out[names[r.load_id]] = (r.rows_loaded, r.rows_quarantined, round(r.value_usd_loaded, 3), sup,
                                     note.get("dataset"))
        return out
    ta, tb = table(la_, la_), table(lb_, lb_)
    assert ta == tb and len(ta) == 3


def test_replace_indicator_cli_equal(replaced):
    """An indicator verb on the replaced Spark dataset (``--engine spark``, by its path and by its URL) answers
    as DuckDB on the DuckDB warehouse the same files went into."""
    wh, _a, b, _r, _rev = replaced
    duck = json.loads(_cli("indicators", "balance", "-r", "AFG", "--json", "-w", str(wh)))
    assert duck
    for where in (str(b), b.as_uri()):
        _close(duck, json.loads(_cli("indicators", "balance", "-r", "AFG", "--json", "--engine", "spark", "-w",
                                     where)))


# ------------------------------------------------------------------ comtrade and customs CSV (issue 19, step 2)
#: Customs (Persian headers, Solar Hijri, Persian digits, partner names, 8-digit tariff lines summed to HS6,
#: provinces in any spelling): bad = unknown partner (6), unknown province (7), two identical lines (8, 9),
#: month 13 (12); lines 2+3 and 10+11 are summed (Kerman / كرمان are one province).
CUSTOMS_1 = ("سال,ماه,استان,نوع جریان,کشور طرف معامله,کد تعرفه,ارزش دلاری,وزن\n"
             "1400,1,تهران,صادرات,ترکیه,57011010,۱۰۰۰,50\n"
             "1400,1,تهران,صادرات,ترکیه,57011090,500,25\n"
             "1400,10,اصفهان,صادرات,عراق,57021000,\"2,500\",\n"
             "1401,12,كرمان,واردات,چین,85171300,7000,3\n"
             "1401,12,كرمان,واردات,ناکجاآباد,85171300,7000,3\n"
             "1401,12,استان ناموجود,واردات,چین,85171300,7000,3\n"
             "1401,11,كرمان,واردات,چین,85171300,7000,3\n"
             "1401,11,كرمان,واردات,چین,85171300,7000,3\n"
             "1401,10,Kerman,واردات,چین,85171310,70,3\n"
             "1401,10,کرمان,واردات,چین,85171320,30,\n"
             "1401,13,تهران,واردات,چین,85171310,70,3\n")
#: A later customs extract: lines 2-3 sum to a key of CUSTOMS_1 (Tehran 1400/1 570110: both lines quarantined),
#: line 4 is new, line 5 repeats Isfahan's key.
CUSTOMS_2 = ("سال,ماه,استان,نوع جریان,کشور طرف معامله,کد تعرفه,ارزش دلاری,وزن\n"
             "1400,1,Tehran,صادرات,ترکیه,57011010,1100,50\n"
             "1400,1,تهران,صادرات,ترکیه,57011020,10,1\n"
             "1400,2,تهران,صادرات,ترکیه,57011010,900,40\n"
             "1400,10,Esfahan,صادرات,عراق,57021000,2600,\n")


def _no_ids(problems: list[dict]) -> list[dict]:
    """Quarantine rows with the load id in "already loaded by load <id> (<file>)" left out (the file names it)."""
    return [{**p, "reason": re.sub(r"load \S+ \(", "load … (", p["reason"])} for p in problems]


def test_comtrade_and_customs_csv_parity(spark, shared_data, tmp_path):
    """A Comtrade CSV (API column names, numeric partner codes; 1,500 real rows of the monthly Comtrade fixture
    plus bad lines) and two customs CSVs load into one dataset through ``--engine spark`` as into a DuckDB
    warehouse: same results, flows, quarantine (lines, columns, values, reasons) and coverage."""
    from tradepulse.ingest import ingest_file
    from tradepulse.warehouse import Warehouse
    from tradepulse.warehouse.parquet import export_dataset

    d = pd.read_parquet(shared_data / "monthly_trade_comtrade_2014_2023.parquet")
    d = d[d["year"] == 2023].head(1500)
    ct = pd.DataFrame({"refYear": d["year"], "refMonth": d["month"], "reporterISO": d["reporter"],
                       "partnerCode": d["partner_code"], "flowCode": d["flow"], "cmdCode": d["product"],
                       "primaryValue": d["value_usd"]})
    first = ct.iloc[0]
    comtrade = tmp_path / "comtrade_2023M.csv"
    comtrade.write_text(ct.to_csv(index=False)
                        + "2023,1,AND,12,X,TOTAL,-5\n"           # negative value
                        + "2023,13,AND,12,X,TOTAL,7\n"            # refMonth 13: not a month (annual row)
                        + "2023,2,ZZZ,12,X,TOTAL,7\n"             # unknown reporter
                        + "2023,1,AND,12,X,TOTAL,nan\n"           # missing value
                        + "2023,3,AND,12,X,TOTAL,1,2\n"           # too many fields
                        + f"{first.refYear},{first.refMonth},{first.reporterISO},{first.partnerCode},X,TOTAL,1\n",
                        encoding="utf-8")                         # a key of line 2: both lines quarantined
    c1, c2 = tmp_path / "customs_1401.csv", tmp_path / "customs_1401_rev.csv"
    c1.write_text(CUSTOMS_1, encoding="utf-8")
    c2.write_text(CUSTOMS_2, encoding="utf-8")
    loads = [(comtrade, "comtrade", []), (c1, "customs", ["-r", "IRN"]), (c2, "customs", ["-r", "IRN"])]
    duck = []
    with Warehouse(tmp_path / "w.duckdb") as wh:
        for f, fmt, extra in loads:
            duck.append(ingest_file(wh, f, fmt, **({"reporter": "IRN"} if extra else {})).to_dict())
        export_dataset(wh, tmp_path / "a")
    for (f, fmt, extra), want in zip(loads, duck):
        got = json.loads(_cli("ingest", str(f), "-f", fmt, *extra, "--engine", "spark", "-w", str(tmp_path / "b"),
                              "--json"))
        for k in ("rows_loaded", "rows_quarantined", "rows_overlapping"):
            assert got[k] == want[k], (f.name, k)
        assert _no_ids(got["problems"]) == _no_ids(want["problems"])
        assert got["value_usd_loaded"] == pytest.approx(want["value_usd_loaded"], rel=REL)
    # by hand: customs 1 → Tehran 570110 (1,000 + 500), Isfahan, Kerman 851713 ×1 and 851713 (70 + 30);
    # customs 2 → lines 2-3 and 5 overlap, line 4 loads
    assert [(r["rows_loaded"], r["rows_quarantined"], r["rows_overlapping"]) for r in duck[1:]] == \
        [(4, 5, 0), (1, 3, 2)]
    assert duck[0]["rows_quarantined"] >= 7
    for table, keys in (("flows", ["load_id", "year", "month", "reporter", "partner", "flow", "product",
                                   "province"]), ("quarantine", ["load_id", "line"]),
                        ("coverage", ["load_id", "reporter", "year", "flow", "partner_detail", "product_level",
                                      "provincial"])):
        (da, la), (db, lb) = _read(tmp_path / "a", table), _read(tmp_path / "b", table)
        da, db = _sorted(_by_file(da, la), keys), _sorted(_by_file(db, lb), keys)
        num = [c for c in ("value_usd", "quantity") if c in da]
        pd.testing.assert_frame_equal(da.drop(columns=num), db[da.columns].drop(columns=num), check_dtype=False)
        for c in num:
            assert da[c].fillna(-1).tolist() == pytest.approx(db[c].fillna(-1).tolist(), rel=REL)
