"""The weekly brief: section numbers against independent computations and hand cases, HTML/PDF in English
and Persian (pdftotext on the PDF), briefs that must say "no data" plainly, and the CLI."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import duckdb
import numpy as np
import pandas as pd
import pytest

from tradepulse.reports import sections

TODAY = dt.date(2026, 11, 25)        # Wednesday, 4 Azar 1405, week 1405-W36 (2026-11-21 … 11-27)


def own_annual_totals(flows, reporter: str, province: str | None = None, oil: str = "narrow") -> pd.DataFrame:
    """The brief's annual totals computed independently with Ibis from ``export``/``import`` rows only
    (equal to :func:`sections.annual_totals` when there are no re-export/re-import rows)."""
    from tradepulse import reference
    from tradepulse.errors import NoDataError
    from tradepulse.indicators.selection import national_totals, prefix_filter

    t = sections._scope(flows, reporter, province)
    t = t.filter(t.flow.isin(["export", "import"]) & t.value_usd.notnull())
    t = t.mutate(is_oil=prefix_filter(t["product"], reference.oil_prefixes(oil)))
    if province is None:
        agg = national_totals(t, ["year", "flow", "is_oil"])
    else:
        agg = t.group_by(["year", "flow", "is_oil"]).aggregate(value_usd=t.value_usd.sum())
    df = agg.to_pandas()
    where = f"{reporter}" + (f", province {province}" if province else "")
    if df.empty:
        raise NoDataError(f"no export or import flows for {where}")
    wide = df.pivot_table(index="year", columns=["flow", "is_oil"], values="value_usd", aggfunc="sum",
                          fill_value=0.0)
    out = pd.DataFrame(index=wide.index.astype(int))

    def col(flow, oil_flag):
        return wide[(flow, oil_flag)] if (flow, oil_flag) in wide.columns else 0.0

    out["oil_exports"] = col("export", True)
    out["non_oil_exports"] = col("export", False)
    out["oil_imports"] = col("import", True)
    out["non_oil_imports"] = col("import", False)
    out["exports"] = out["oil_exports"] + out["non_oil_exports"]
    out["imports"] = out["oil_imports"] + out["non_oil_imports"]
    has_imports = df.loc[df["flow"] == "import", "year"].astype(int).unique()
    out.loc[~out.index.isin(has_imports), ["imports", "oil_imports", "non_oil_imports"]] = float("nan")
    out["non_oil_balance"] = out["non_oil_exports"] - out["non_oil_imports"]
    return out.reset_index().rename(columns={"index": "year"}).sort_values("year").reset_index(drop=True)


# ------------------------------------------------------------------ hand cases (no warehouse)
def _row(year, reporter, partner, product, value, flow="export", province=None):
    return {"year": year, "month": None, "reporter": reporter, "partner": partner, "flow": flow,
            "product": product, "hs_revision": "HS1992", "value_usd": value, "quantity": None, "unit": None,
            "province": province, "source": "test", "load_id": "t"}


@pytest.fixture
def tiny() -> pd.DataFrame:
    """World panel (partner WLD) of IRN, AAA, BBB in 2022–2023 (US$ million), IRN bilateral exports and
    two IRN import rows (2023)."""
    rows = []
    panel = {  # (year, reporter): {product: value}
        (2022, "IRN"): {"0101": 5, "0901": 10, "2709": 85},
        (2022, "AAA"): {"0101": 40, "0901": 40, "2709": 20},
        (2022, "BBB"): {"0101": 55, "0901": 50, "2709": 95},
        (2023, "IRN"): {"0101": 10, "0901": 30, "2709": 60},
        (2023, "AAA"): {"0101": 40, "0901": 30, "2709": 30},
        (2023, "BBB"): {"0101": 50, "0901": 40, "2709": 110},
    }
    for (y, r), prods in panel.items():
        rows += [_row(y, r, "WLD", p, v * 1e6) for p, v in prods.items()]
    # IRN bilateral: 2022 AAA+BBB+CCC, 2023 AAA+BBB only (CCC lost), one pair ended (BBB, 0901)
    for y, p, partner, v in [(2022, "0101", "AAA", 5), (2022, "0901", "BBB", 6), (2022, "0901", "CCC", 4),
                             (2022, "2709", "AAA", 85), (2023, "0101", "AAA", 10), (2023, "0901", "AAA", 30),
                             (2023, "2709", "AAA", 20), (2023, "2709", "BBB", 40)]:
        rows.append(_row(y, "IRN", partner, p, v * 1e6))
    rows.append(_row(2023, "IRN", "AAA", "8703", 7e6, flow="import"))
    rows.append(_row(2023, "IRN", "AAA", "2710", 3e6, flow="import"))
    return pd.DataFrame(rows)


def test_new_rca_hand_case(tiny):
    """RCA_IRN,p = (x_p / 100) / (w_p / W).  2023: w = {0101: 100, 0901: 100, 2709: 200}, W = 400 →
    RCA 0101 = 0.10/0.25 = 0.4, 0901 = 0.30/0.25 = 1.2, 2709 = 0.60/0.50 = 1.2.
    2022: w = {0101: 100, 0901: 100, 2709: 200}, W = 400 → 0901 = 0.10/0.25 = 0.4, 2709 = 0.85/0.5 = 1.7.
    Only 0901 crossed 1 (0.4 → 1.2); 2709 was already ≥ 1."""
    out = sections.new_rca(tiny, "IRN", 2023)
    assert out["product"].tolist() == ["0901"]
    assert out["rca_previous"].iloc[0] == pytest.approx(0.4) and out["rca"].iloc[0] == pytest.approx(1.2)
    assert out["exports"].iloc[0] == pytest.approx(30e6)


def test_movers_and_totals_hand_case(tiny):
    """National totals use the world rows (never added to bilateral rows): exports 2023 = 100 M, oil
    (2709) 60 M → non-oil exports 40 M; imports 10 M of which 3 M oil (2710) → non-oil balance 40 − 7 = 33 M.
    Movers 2022 → 2023: 0901 +20, 0101 +5, 2709 −25."""
    tot = sections.annual_totals(tiny, "IRN").set_index("year")
    assert tot.loc[2023, "exports"] == pytest.approx(100e6)
    assert tot.loc[2023, "non_oil_exports"] == pytest.approx(40e6)
    assert tot.loc[2023, "non_oil_balance"] == pytest.approx(33e6)
    assert np.isnan(tot.loc[2022, "imports"])            # no import rows in 2022: unknown, not zero
    own = own_annual_totals(tiny, "IRN").set_index("year")
    pd.testing.assert_frame_equal(own.loc[[2023], tot.columns], tot.loc[[2023]], check_dtype=False)
    mv = sections.top_movers(tiny, "IRN", 2023, n=5)
    assert list(zip(mv["product"], mv["change"] / 1e6, mv["direction"])) == \
        [("0901", pytest.approx(20), "up"), ("0101", pytest.approx(5), "up"), ("2709", pytest.approx(-25), "down")]
    assert mv.loc[mv["product"] == "0901", "growth"].iloc[0] == pytest.approx(2.0)


def test_market_changes_hand_case(tiny):
    """Pairs 2022: (AAA,0101) (BBB,0901) (CCC,0901) (AAA,2709); 2023: (AAA,0101) (AAA,0901) (AAA,2709)
    (BBB,2709).  Ended: (BBB,0901) 6 M and (CCC,0901) 4 M → 2 pairs, 10 M; new: (AAA,0901) and
    (BBB,2709) → 2 pairs, 70 M.  Lost market: CCC (4 M); BBB still buys 2709."""
    m = sections.market_changes(tiny, "IRN", 2023)
    assert (m["ended"], m["new"], m["pairs_previous"]) == (2, 2, 4)
    assert m["ended_value"] == pytest.approx(10e6) and m["new_value"] == pytest.approx(70e6)
    assert m["lost_markets"]["partner"].tolist() == ["CCC"]
    assert m["top_ended"]["partner"].tolist() == ["BBB", "CCC"]
    # the survival module's spells agree: two spells end in 2022, each one year long
    sp = sections.ended_spell_lengths(tiny, "IRN", 2023)
    assert (sp["ended"], sp["median_years"], sp["one_year_share"]) == (2, 1.0, 1.0)


def test_sections_unknown_province(tiny):
    from tradepulse.errors import NoDataError
    with pytest.raises(NoDataError, match="no provincial"):
        sections.annual_totals(tiny, "IRN", "Fars")


# ------------------------------------------------------------------ demo world
@pytest.fixture(scope="module")
def demo_env(tmp_path_factory, demo_copy):
    """A small SYNTHETIC demo warehouse and seeded working groups (Tehran, Razavi Khorasan, national)."""
    from tradepulse.groups.seed import seed_demo

    root = demo_copy(tmp_path_factory.mktemp("brief"))   # demo.build(root, small=True), built once
    url = f"sqlite:///{root / 'groups.sqlite'}"
    seed_demo(url, ("Tehran", "Razavi Khorasan"), today=TODAY)
    return root / "warehouse.duckdb", url, root


@pytest.fixture(scope="module")
def brief_en(demo_env):
    from tradepulse.reports.brief import build_brief
    wh, url, _ = demo_env
    return build_brief(wh, url, lang="en", today=TODAY)


@pytest.fixture(scope="module")
def brief_fa_targets(demo_env):
    """The Persian brief's targets and data notes (trade and actions skipped), read by two tests."""
    from tradepulse.reports.brief import build_brief
    wh, url, _ = demo_env
    return build_brief(wh, url, lang="fa", today=TODAY, skip=("trade", "actions"))


@pytest.mark.parametrize("province", [None, "Tehran"])
def test_annual_totals_two_implementations_agree(demo_env, province):
    """indicators.balance.trade_balance (used by the brief) = this module's own Ibis aggregation."""
    wh, _, _ = demo_env
    from tradepulse.warehouse import Warehouse
    with Warehouse(wh, read_only=True) as w:
        a = sections.annual_totals(w, "IRN", province).set_index("year")
        b = own_annual_totals(w, "IRN", province).set_index("year")[a.columns]
    pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=1e-9)


def test_headline_matches_sql(demo_env, brief_en):
    """Headline exports = Σ world-total rows of IRN (DuckDB SQL, independent of Ibis); imports = Σ of the
    customs (province) import rows; non-oil excludes HS 2709/2710/2711."""
    wh, _, _ = demo_env
    y = brief_en.latest_year
    con = duckdb.connect(str(wh), read_only=True)
    oil = "(product LIKE '2709%' OR product LIKE '2710%' OR product LIKE '2711%')"
    q = lambda sql: con.execute(sql).fetchone()[0]   # noqa: E731
    exports = q(f"SELECT sum(value_usd) FROM flows WHERE reporter='IRN' AND partner='WLD' AND flow='export' "
                f"AND province IS NULL AND year={y}")
    non_oil = q(f"SELECT sum(value_usd) FROM flows WHERE reporter='IRN' AND partner='WLD' AND flow='export' "
                f"AND province IS NULL AND year={y} AND NOT {oil}")
    imports = q(f"SELECT sum(value_usd) FROM flows WHERE reporter='IRN' AND flow='import' AND year={y} "
                f"AND province IS NOT NULL")
    non_oil_imports = q(f"SELECT sum(value_usd) FROM flows WHERE reporter='IRN' AND flow='import' AND year={y} "
                        f"AND province IS NOT NULL AND NOT {oil}")
    con.close()
    h = {r["key"]: r for r in brief_en.headline}
    assert y == 2023
    assert h["exports"]["current"] == pytest.approx(exports, rel=1e-9)
    assert h["non_oil_exports"]["current"] == pytest.approx(non_oil, rel=1e-9)
    assert h["imports"]["current"] == pytest.approx(imports, rel=1e-9)
    assert h["non_oil_balance"]["current"] == pytest.approx(non_oil - non_oil_imports, rel=1e-9)


@pytest.mark.parametrize("province", [None, "Tehran"])
def test_ended_spells_two_implementations_agree(demo_env, province):
    """Pairs exported in y−1 and not in y (set difference, sections.market_changes) = spells of the survival
    module ending in y−1 (run-length coding over all years)."""
    wh, _, _ = demo_env
    from tradepulse.warehouse import Warehouse
    with Warehouse(wh, read_only=True) as w:
        a = sections.market_changes(w, "IRN", 2023, province)["ended"]
        b = sections.ended_spell_lengths(w, "IRN", 2023, province)
    assert a == b["ended"] > 0 and b["median_years"] >= 1


def test_brief_content_en(demo_env, brief_en):
    from tradepulse.reports.brief import render_html
    b = brief_en
    assert b.week.label == "1405-W36" and b.as_of == TODAY and b.synthetic
    assert b.group["name"] == "National working group"
    assert b.overdue and b.due and b.done and b.meetings        # seed_demo guarantees each
    assert all(a["deadline"] < TODAY for a in b.overdue)
    assert all(TODAY <= a["deadline"] <= b.week.end for a in b.due)
    assert all(b.week.start <= a["completed_on"] <= TODAY for a in b.done)
    assert b.movers is not None and len(b.movers) and b.opportunities is not None and len(b.opportunities) == 8
    assert "<svg" in b.charts["trend"] and "<svg" in b.charts["movers"]
    d = b.to_dict()
    assert d["week"] == "1405-W36" and d["as_of"] == "2026-11-25" and d["overdue"][0]["deadline"] < "2026-11-25"
    assert d["markets"]["ended"] == b.markets["ended"]
    html = render_html(b)
    assert 'dir="ltr"' in html and "Roadmap targets" in html and "Top opportunities" in html
    assert "SYNTHETIC demo data" in html and "1405-W36" in html
    if b.targets:                                                # roadmap module present
        assert {t["status"] for t in b.targets} <= {"on-track", "at-risk", "off-track", "no-data", "no-recent-data"}
        assert all(t["spark"].startswith("<svg") for t in b.targets if t["actual"] is not None)


def test_target_sparkline_is_word_free_svg():
    """The sparkline has the series line, the dashed path to a future deadline and the target dot in the
    status colour — and no text (WeasyPrint cannot lay out Persian inside SVG)."""
    from tradepulse.reports.charts import STATUS_COLORS, target_sparkline
    series = pd.DataFrame({"year": [1398, 1399, 1400], "value": [1.0, 2.0, 3.0]})
    svg = target_sparkline(series, 1404, 10.0, "at-risk")
    assert svg.startswith("<svg") and "<text" not in svg
    assert STATUS_COLORS["at-risk"] in svg and "stroke-dasharray" in svg
    past = target_sparkline(series, 1399, 10.0, "off-track")       # deadline passed: no dashed path
    assert "stroke-dasharray" not in past and STATUS_COLORS["off-track"] in past
    assert target_sparkline(series.iloc[:0], 1404, 10.0, "no-data") == ""


@pytest.mark.slow
def test_persian_pdf_text_and_png(demo_env, tmp_path):
    """Persian PDF: pdftotext finds the Persian headings, the Jalali week in Persian digits and the
    headline export value formatted with Persian digits; pdftoppm renders page 1 to a PNG."""
    from tradepulse.reports.brief import build_brief, write_brief
    from tradepulse.reports.i18n import Formatter

    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils not installed")
    wh, url, _ = demo_env
    b = build_brief(wh, url, lang="fa", today=TODAY)
    out = write_brief(None, None, out=tmp_path / "brief.pdf", brief=b)
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    for heading in ("اهداف نقشه راه", "شاخص‌های اصلی و تغییرات", "فرصت‌های برتر", "اقدامات کارگروه",
                    "سررسید این هفته", "کارگروه ملی"):
        assert heading.replace("\u200c", "") in text.replace("\u200c", ""), heading
    exports = next(h["current"] for h in b.headline if h["key"] == "exports")
    assert Formatter("fa").musd(exports, 0) in text            # e.g. ۱۲۳٬۷۵۸
    assert "۱۴۰۵" in text and "۳۶" in text                    # week 1405-W36 in Persian digits
    html = (write_brief(None, None, out=tmp_path / "brief.html", brief=b)).read_text(encoding="utf-8")
    assert 'dir="rtl"' in html and 'lang="fa"' in html and "Vazirmatn" in html
    # every negative number carries a left-to-right mark before its sign (sign on the left in RTL text)
    assert "\u200e\u2212" in html and not re.search("(?<!\u200e)\u2212[0-9\u06f0-\u06f9]", html)
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(out), str(tmp_path / "p")],
                   check=True)
    png = next(tmp_path.glob("p*.png"))
    assert png.stat().st_size > 5000


def test_province_without_data_or_group_says_so(demo_env, tmp_path):
    """A province missing from the data and from the groups database: the brief is produced and says
    so in plain words (English and Persian)."""
    from tradepulse.reports.brief import build_brief, render_html, write_brief
    wh, url, _ = demo_env
    b = build_brief(wh, url, province="Atlantis", lang="en", today=TODAY, skip=["targets"])
    html = render_html(b)
    assert "The warehouse has no trade data for the province Atlantis." in html
    assert "There is no working group for Atlantis in the database." in html
    assert b.headline == [] and b.group is None
    fa = render_html(build_brief(wh, url, province="Atlantis", lang="fa", today=TODAY, skip=["targets"]))
    assert "در انبار داده هیچ داده تجاری برای استان Atlantis وجود ندارد." in fa
    out = write_brief(None, None, out=tmp_path / "x.html", brief=b)
    assert out.exists()


def test_province_with_data_but_no_meetings(demo_env):
    """Fars has customs data but no seeded group; Tehran has data and a group with meetings only on
    Saturdays before this week's — the brief of a past week without meetings says so."""
    from tradepulse.reports.brief import build_brief, render_html
    wh, url, _ = demo_env
    fars = build_brief(wh, url, province="Fars", lang="en", today=TODAY, skip=["targets"])
    assert fars.headline and fars.group is None
    assert "There is no working group for Fars" in render_html(fars)
    old = build_brief(wh, url, province="Tehran", week="1405-W20", lang="en", today=TODAY,
                      skip=["targets", "trade"])
    assert old.group["name"] == "Tehran working group" and old.meetings == []
    assert old.as_of == old.week.end                            # a past week is seen from its Friday
    assert "No meeting of this group was recorded this week." in render_html(old)


@pytest.mark.slow
def test_write_demo_briefs(demo_env):
    """The demo writes an English and a Persian brief (HTML here; PDF is covered above)."""
    from tradepulse.reports.brief import write_demo_briefs
    _, url, root = demo_env
    paths = write_demo_briefs(root, url, today=TODAY, formats=("html",))
    assert [p.name for p in paths] == ["brief_en.html", "brief_fa.html"]
    fa = paths[1].read_text(encoding="utf-8")
    assert 'dir="rtl"' in fa and "کارگروه ملی" in fa and "اقدامات کارگروه" in fa


def test_no_warehouse(tmp_path):
    from tradepulse.reports.brief import build_brief, render_html
    b = build_brief(tmp_path / "missing.duckdb", f"sqlite:///{tmp_path / 'g.sqlite'}", today=TODAY)
    html = render_html(b)
    assert "There is no warehouse yet" in html and "There is no national working group" in html


def test_cli_brief(demo_env, tmp_path):
    import typer
    from typer.testing import CliRunner

    from tradepulse.cli.brief import register

    wh, url, _ = demo_env
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)          # keep "brief" a sub-command
    run = CliRunner().invoke
    out = tmp_path / "b.html"
    r = run(app, ["brief", "--warehouse", str(wh), "--db", url, "--province", "Atlantis", "--date",
                  "2026-11-25", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "1405-W36" in r.output and out.exists()
    r = run(app, ["brief", "--warehouse", str(wh), "--db", url, "--week", "1405-W99", "-o", str(out)])
    assert r.exit_code == 2 and "1405 has weeks 1 to" in " ".join(r.output.split())
    r = run(app, ["brief", "--warehouse", str(wh), "--db", url, "-o", str(tmp_path / "b.docx")])
    assert r.exit_code == 2 and "use .pdf or .html" in " ".join(r.output.split())


def test_brief_exporters_match_the_firm_indicators(demo_env, brief_en, tmp_path):
    """The exporters paragraph (axis 5) shows the firm indicators of the latest year: number of exporters, the
    year before, top-5 % share and entry / exit rates equal :mod:`tradepulse.indicators.firms`; in Persian too;
    a warehouse without firm-level rows says so."""
    from tradepulse.indicators import firms
    from tradepulse.reports.brief import build_brief, render_html
    from tradepulse.warehouse import Warehouse
    wh, url, _ = demo_env
    e = brief_en.exporters
    with Warehouse(wh, read_only=True) as w:
        prof = firms.exporter_profile(w, reporter="IRN")
        dyn = firms.exporter_dynamics(w, reporter="IRN")
    p = prof[prof["year"] == e["year"]].iloc[0]
    d = dyn[dyn["year"] == e["year"]].iloc[0]
    assert e["year"] == brief_en.latest_year
    assert (e["n"], e["n_prev"]) == (p["n_exporters"], d["n_exporters_prev"])
    assert e["top5_share"] == pytest.approx(p["top5_share"]) and e["entry_rate"] == pytest.approx(d["entry_rate"])
    assert brief_en.to_dict()["exporters"]["n"] == e["n"]
    html = render_html(brief_en)
    assert "Firms that exported in" in html and f"<strong>{e['n']:,}</strong>" in html
    fa = render_html(build_brief(wh, url, lang="fa", today=TODAY, skip=("targets", "actions")))
    assert "شرکت‌های صادرکننده در سال" in fa and "نرخ ورود" in fa
    # Tehran's brief counts Tehran's exporters only
    teh = build_brief(wh, url, province="تهران", today=TODAY, skip=("targets", "actions")).exporters
    with Warehouse(wh, read_only=True) as w:
        tp = firms.exporter_profile(w, reporter="IRN", province="Tehran")
    assert teh["n"] == tp.loc[tp["year"] == teh["year"], "n_exporters"].iloc[0] < e["n"]
    # no firm-level rows → a plain note
    bare = tmp_path / "bare.duckdb"
    import shutil
    shutil.copy(wh, bare)
    with Warehouse(bare) as w:
        w.raw.execute("DELETE FROM firm_flows")
    b = build_brief(bare, url, today=TODAY, skip=("targets", "actions"))
    assert b.exporters is None and "No firm-level (exporter) data in the warehouse." in render_html(b)


# ------------------------------------------------------------------ roadmaps are per country (issue 14)
def test_demo_brief_no_recent_data_and_baseline_note(demo_env, brief_en, brief_fa_targets):
    """Reference day 25 Nov 2026 = SH 1405; the demo's data end in 2023, so SH 1401 is the latest year:
    targets due in 1404 read "no recent data (latest data 1401)" (1401 < 1404 − 1 and < 1405 − 2), never on
    track.  The handicrafts baseline written in the roadmap (250 M for 1399) is compared with the same scope in
    the data: the data note appears exactly when it is more than 20 % away, in English and Persian."""
    from tradepulse.reports.brief import render_html
    from tradepulse.roadmap import evaluate, load_roadmap
    wh, url, _ = demo_env
    by_id = {t["id"]: t for t in brief_en.targets}
    for tid in ("neighbours-exports", "handicrafts-exports", "syria-technical-services"):
        assert (by_id[tid]["status"], by_id[tid]["as_of_year"]) == ("no-recent-data", 1401)
    html = render_html(brief_en)
    stale = [t for t in brief_en.targets if (t["status"], t["as_of_year"]) == ("no-recent-data", 1401)]
    assert len(stale) >= 3 and html.count("no recent data (latest data 1401)") == len(stale)
    from tradepulse.warehouse import Warehouse
    with Warehouse(wh, read_only=True) as w:
        hc = {s.id: s for s in evaluate(load_roadmap(), w, as_of=TODAY)}["handicrafts-exports"]
    far = abs(250e6 - hc.baseline_data) > 0.2 * hc.baseline_data
    assert far == bool(brief_en.target_notes)
    assert not any("roadmap baseline" in n for n in brief_en.data_notes)   # shown translated, not twice
    assert any("no recent data" in n for n in brief_en.data_notes)       # the other roadmap warnings, in English
    if far:
        dev = f"{250e6 / hc.baseline_data - 1:+.0%}"
        assert f"the roadmap baseline 250.0 US$ million (1399) is {dev} away from the data" in html
    fa = render_html(brief_fa_targets)
    if far:
        assert "یادداشت‌های داده" in fa and "مقدار پایهٔ نقشهٔ راه" in fa
    assert "بدون دادهٔ تازه (آخرین داده: ۱۴۰۱)" in fa
    # the roadmap's no-recent-data warnings are data notes in Persian too (meta.Note), not English sentences
    assert "دادهٔ تازه نیست — آخرین داده" in fa and "no recent data —" not in fa
    assert "مجموعه‌داده‌های خوانده‌شده" in fa


@pytest.fixture(scope="module")
def zaf_warehouse(shared_data, tmp_path_factory):
    """The real BACI sample (South Africa and Afghanistan exports 2021) loaded as a new user would:
    ``tradepulse ingest --format baci``."""
    from typer.testing import CliRunner

    from tradepulse.cli import app
    wh = tmp_path_factory.mktemp("zaf") / "wh.duckdb"
    res = CliRunner().invoke(app, ["ingest", str(shared_data / "baci_sample.csv"), "--format", "baci",
                                   "-w", str(wh)])
    assert res.exit_code == 0, res.output
    return wh


@pytest.mark.parametrize("lang, sentence", [
    ("en", "No roadmap for South Africa; targets are shown for countries with a roadmap file."),
    ("fa", "برای افریقای جنوبی نقشهٔ راهی نیست؛ اهداف فقط برای کشورهایی نشان داده می‌شوند که پروندهٔ نقشهٔ "
           "راه دارند."),
])
def test_zaf_brief_shows_no_iran_target(zaf_warehouse, tmp_path, monkeypatch, lang, sentence):
    """Only Iran's roadmap exists (the shipped one; TRADEPULSE_HOME holds none): a South Africa brief says
    there is no roadmap for South Africa and shows none of Iran's targets (before: Iran–Syria under "Reporter:
    South Africa").  Giving Iran's roadmap explicitly for ZAF is refused with a sentence too."""
    from tradepulse.reports.brief import build_brief, render_html
    from tradepulse.roadmap import EXAMPLE, load_roadmap
    monkeypatch.setenv("TRADEPULSE_HOME", str(tmp_path))
    url = f"sqlite:///{tmp_path / 'g.sqlite'}"
    b = build_brief(zaf_warehouse, url, reporter="ZAF", lang=lang, today=TODAY, skip=("trade", "actions"))
    html = render_html(b)
    assert b.reporter == "ZAF" and b.targets == [] and b.roadmap_country is None
    assert sentence in html
    iran = load_roadmap()
    for t in iran.targets:
        assert t.title(lang) not in html and t.id not in html
    assert "Syria" not in html and "سوریه" not in html
    b = build_brief(zaf_warehouse, url, reporter="ZAF", roadmap=str(EXAMPLE), today=TODAY,
                    skip=("trade", "actions"))
    assert b.targets == []
    assert "The roadmap iran-tpo-seed is for Iran, not South Africa; its targets are not shown." in render_html(b)


def test_targets_table_explains_progress_probability_and_sh_deadlines(demo_env, brief_en, brief_fa_targets):
    """Issue 17: a line says what progress means and why it can be negative, P is explained and shown under
    a judged status, deadlines read SH (Gregorian) — ۱۴۰۴ (۲۰۲۵) in Persian; the axis targets use their units."""
    import dataclasses

    from tradepulse.reports.brief import render_html
    html = render_html(brief_en)
    assert "Progress = (actual − baseline) ÷ (target − baseline): 0% at the baseline, 100% when" in html
    assert "It is negative when the value has moved away from the target" in html
    assert "1404 (2025)" in html and "1400 (2021)" in html
    units = {t["id"]: t["unit"] for t in brief_en.targets}
    assert units["non-oil-surplus"] == "money" and units["first-year-survival"] == "share"
    assert units["product-concentration"] == "index" and units["active-exporters"] == "count"
    judged = dataclasses.replace(brief_en, targets=[{**brief_en.targets[1], "status": "at-risk",
                                                     "probability": 0.42}])
    assert "P = 42%" in render_html(judged)
    fa = render_html(brief_fa_targets)
    assert "۱۴۰۴ (۲۰۲۵)" in fa and "پیشرفت = (عملکرد − مبنا)" in fa and "شاخص" in fa
