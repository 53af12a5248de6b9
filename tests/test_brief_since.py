"""Two demo briefs a week apart with a month of new SYNTHETIC customs data loaded between them: the
current-period and since-last-brief sections differ, and their figures equal independent DuckDB SQL over
the warehouse and the groups database.  The Persian PDF (the one PDF render of this module) names every year
Solar Hijri first (pdftotext)."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import re
import shutil
import sqlite3
import subprocess

import duckdb
import numpy as np
import pytest

TODAY = dt.date(2026, 11, 25)          # week 1405-W36
BEFORE = dt.date(2026, 11, 18)         # one week earlier, 1405-W35
HEADER = ["سال", "ماه", "استان", "نوع جریان", "کشور طرف معامله", "کد تعرفه", "ارزش دلاری", "وزن (کیلوگرم)"]


def write_customs(path, months, seed):
    """A SYNTHETIC customs file in Solar Hijri months (Persian headers, the customs reader's format)."""
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for y, m in months:
            for prov in ("تهران", "فارس"):
                for flow in ("صادرات", "واردات"):
                    for partner in ("عراق", "ترکیه"):
                        for code in ("080251", "570110"):
                            w.writerow([y, m, prov, flow, partner, code, round(float(rng.uniform(1e5, 5e6)), 2),
                                        1000])
    return path


@pytest.fixture(scope="module")
def two_briefs(tmp_path_factory, demo_copy):
    from tradepulse.groups.db import session_factory
    from tradepulse.groups.seed import seed_demo
    from tradepulse.groups.service import GroupService
    from tradepulse.ingest import ingest_file
    from tradepulse.reports.brief import build_brief, write_brief
    from tradepulse.reports.since import SNAPSHOT_FILE

    root = demo_copy(tmp_path_factory.mktemp("since"))   # demo.build(root, small=True), built once
    url = f"sqlite:///{root / 'groups.sqlite'}"
    seed_demo(url, ("Tehran",), today=TODAY)
    wh = root / "warehouse.duckdb"
    history = root / "out" / SNAPSHOT_FILE
    from tradepulse.reports.period import overview_current
    annual_only = overview_current(wh, "IRN")                                      # the demo is annual
    first = [(1404, m) for m in range(1, 13)] + [(1405, m) for m in range(1, 7)]     # to Shahrivar 1405
    ingest_file(wh, write_customs(root / "SYNTHETIC-customs-monthly-1.csv", first, 1), "customs", reporter="IRN")
    b1 = build_brief(wh, url, lang="en", date=BEFORE, today=TODAY, history=history)
    write_brief(None, None, out=root / "out" / "brief1.html", brief=b1)
    # between the briefs: one action closed, and Mehr 1405 loaded
    factory = session_factory(url)
    with factory() as s:
        svc = GroupService(s)
        open_ = [a for a in svc.actions(group=svc.group_for_province(None).id) if a.status in ("open", "in_progress")]
        closed = open_[0]
        svc.update_action(closed.id, closed.version, "test", today=TODAY - dt.timedelta(days=2), status="done")
    factory.kw["bind"].dispose()
    ingest_file(wh, write_customs(root / "SYNTHETIC-customs-monthly-2.csv", [(1405, 7)], 2), "customs", reporter="IRN")
    b2 = build_brief(wh, url, lang="en", date=TODAY, today=TODAY, history=history)
    write_brief(None, None, out=root / "out" / "brief2.html", brief=b2)
    return root, wh, url, b1, b2, closed.id, annual_only


def _sql_months(wh, flow: str, first: tuple[int, int], last: tuple[int, int]) -> float | None:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(
            "SELECT sum(value_usd) FROM flows WHERE reporter = 'IRN' AND flow = ? AND month IS NOT NULL "
            "AND year * 12 + month BETWEEN ? AND ?", [flow, first[0] * 12 + first[1], last[0] * 12 + last[1]]
        ).fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("flow", ["export", "import"])
def test_current_period_equals_sql(two_briefs, which, flow):
    """Latest month, SH year to date (Farvardin = April label … latest) and its previous-year months, 12-month
    rolling total: equal to SQL sums of the monthly customs rows."""
    _root, wh, _url, b1, b2, _c, _ao = two_briefs
    b = (b1, b2)[which]
    end = ((2026, 9), (2026, 10))[which]
    row = next(r for r in b.current["rows"] if r["flow"] == flow)
    assert b.current["status"] == "ok" and row["dataset"] == "customs-hs6-monthly"
    assert (row["end_year"], row["end_month"]) == end and (row["sh_year"], row["sh_month"]) == (1405, end[1] - 3)
    assert row["latest"] == pytest.approx(_sql_months(wh, flow, end, end), rel=1e-12)
    assert row["latest_prev"] == pytest.approx(_sql_months(wh, flow, (2025, end[1]), (2025, end[1])), rel=1e-12)
    assert row["ytd"] == pytest.approx(_sql_months(wh, flow, (2026, 4), end), rel=1e-12)
    assert row["ytd_prev"] == pytest.approx(_sql_months(wh, flow, (2025, 4), (2025, end[1])), rel=1e-12)
    assert row["rolling12"] == pytest.approx(_sql_months(wh, flow, (2025, end[1] + 1), end), rel=1e-12)
    assert row["rolling12_prev"] is None          # the 12 months before are incomplete: no rolling growth


def test_briefs_differ_and_since_section_equals_sql(two_briefs):
    root, wh, _url, b1, b2, closed_id, _ao = two_briefs
    assert b1.since is None and b2.since is not None                     # the first brief has no predecessor
    assert b1.current["rows"] != b2.current["rows"]
    s = b2.since
    assert s["as_of"] == BEFORE.isoformat() and s["week"] == b1.week.label
    # data loaded since: exactly the second customs file (SQL over the loads table)
    con = duckdb.connect(str(wh), read_only=True)
    new = [r[0] for r in con.execute("SELECT load_id FROM loads WHERE file LIKE '%customs-monthly-2.csv' ").fetchall()]
    con.close()
    assert [ld["load_id"] for ld in s["loads"]] == new and len(new) == 1
    # actions: closed = the one closed between; newly overdue = open items whose deadline fell in [BEFORE, TODAY)
    db = sqlite3.connect(root / "groups.sqlite")
    group = db.execute("SELECT id FROM working_groups WHERE province IS NULL").fetchone()[0]
    overdue_sql = sorted(str(r[0]) for r in db.execute(
        "SELECT id FROM action_items WHERE group_id = ? AND status IN ('open', 'in_progress') "
        "AND deadline >= ? AND deadline < ?", (group, BEFORE.isoformat(), TODAY.isoformat())))
    db.close()
    assert [a["id"] for a in s["closed"]] == [str(closed_id)]
    assert sorted(a["id"] for a in s["newly_overdue"]) == overdue_sql and overdue_sql
    assert s["new"] == [] and s["targets"] == []       # same roadmap, same annual data: no status change
    # indicator changes beyond 1 %: exactly the current-period figures that moved, with both values
    changes = {c["key"]: c for c in s["changes"]}
    for r1, r2 in zip(b1.current["rows"], b2.current["rows"]):
        for key in ("latest", "ytd", "rolling12"):
            k = f"current.{r1['flow']}.{key}"
            moved = abs(r2[key] / r1[key] - 1) > 0.01
            assert (k in changes) == moved, k
            if moved:
                assert changes[k]["before"] == pytest.approx(r1[key]) and changes[k]["now"] == pytest.approx(r2[key])
    assert not any(k.startswith("headline.") for k in changes)            # annual figures unchanged
    # the executive summary: five sentences naming the latest month and the change since the last brief
    from tradepulse.i18n import Formatter
    from tradepulse.reports import weekly
    en = weekly.summary(b2, Formatter("en"))
    assert len(en) == 5 and "2026-10 (SH 1405-07)" in en[0] and "customs-hs6-monthly" in en[0]
    assert f"{len(overdue_sql)} newly overdue" in en[4] and "1 actions closed" in en[4]
    html = (root / "out" / "brief2.html").read_text(encoding="utf-8")
    assert "Since the last brief" in html and "SYNTHETIC-customs-monthly-2.csv" in html
    assert "export_survival" not in html or "Survival of export relationships" in html


def test_annual_only_and_overview(two_briefs):
    """Before monthly data exist the section says "annual data only" (and so does the summary); the web's
    overview function gives the brief's figures."""
    import dataclasses

    from tradepulse.i18n import Formatter
    from tradepulse.indicators.current import overview
    from tradepulse.reports import weekly
    from tradepulse.reports.period import overview_current

    _root, wh, _url, _b1, b2, _c, ao = two_briefs
    assert ao["status"] == "annual-only" and ao["rows"] == [] and "annual data only" in ao["detail"]
    en = weekly.summary(dataclasses.replace(b2, current=ao), Formatter("en"))
    assert len(en) == 5 and "annual data only" in en[1] and "Exports in 2023" in en[0]
    ov = overview_current(wh, "IRN")
    assert ov["status"] == "ok" and [r["ytd"] for r in ov["rows"]] == [r["ytd"] for r in b2.current["rows"]]
    assert overview(wh, "IRN")["rows"][0]["latest"] == b2.current["rows"][0]["latest"]


def test_overdue_days_and_linked_labels(two_briefs):
    """Overdue rows show how many days overdue (as_of − deadline); "Linked to" shows labels, not keys."""
    root, _wh, _url, _b1, b2, _c, _ao = two_briefs
    from tradepulse.i18n import Formatter
    from tradepulse.reports import weekly
    h = weekly.template_helpers(b2, Formatter("fa"))
    for a in b2.overdue:
        assert h["days_overdue"](a) == Formatter("fa").int((TODAY - a["deadline"]).days) + " روز"
    assert h["link_label"]("export_survival") == "ماندگاری روابط صادراتی"
    html = (root / "out" / "brief2.html").read_text(encoding="utf-8")
    for key in ("export_survival", "lost_markets", "new_rca_products", "top_movers"):
        assert f">{key}<" not in html


@pytest.mark.slow
def test_persian_pdf_years_solar_hijri_first(two_briefs, tmp_path):
    """The Persian PDF: every Gregorian year shown follows its Solar Hijri year in brackets (pdftotext), the
    current-period and since-last-brief sections are there, and money reads in Persian units."""
    from tradepulse.reports.brief import build_brief, write_brief

    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils not installed")
    root, wh, url, _b1, _b2, _c, _ao = two_briefs
    b = build_brief(wh, url, lang="fa", date=TODAY, today=TODAY, history=root / "out" / "brief_snapshots.sqlite")
    out = write_brief(None, None, out=tmp_path / "brief_fa.pdf", brief=b)
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub("[\u200c\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", text)
    from tradepulse.i18n import Formatter
    from tradepulse.reports.hs_names import chapter_name
    chapters = [n for n in (chapter_name(p, Formatter("fa")).replace("\u200c", "") for p in b.movers["product"])
                if not re.search("لا|ٔ|أ", n)]                # the movers' chapters, in Persian
    assert chapters
    squeezed = re.sub(r"\s+", "", flat)   # cells wrap words over lines; (pdftotext splits لا and ٔ: avoided)
    for words in ("مدیریتی", "از گزارش قبلی تاکنون", "آخرین ماه", "روزهای", "میلیون",
                  "ماندگاری روابط صادراتی", *chapters[:1]):
        assert words.replace(" ", "") in squeezed, words
    assert "export_survival" not in flat
    digits = "۰۱۲۳۴۵۶۷۸۹"
    to_latin, to_fa = str.maketrans(digits, "0123456789"), str.maketrans("0123456789", digits)
    found = 0
    for m in re.finditer(f"(?<![{digits}٬٫])([{digits}]{{4}})(?![{digits}٬٫])", flat):
        g = int(m.group(1).translate(to_latin))
        if not 1990 <= g <= 2100:
            continue                                   # a Solar Hijri year (13xx/14xx) or another number
        found += 1
        # a Gregorian year is always bracketed (as a year "(2023)" or a month "(2026-10)"; pdftotext gives the
        # visual order, so either bracket may come first) and its Solar Hijri year is next to it
        around = flat[max(0, m.start() - 16):m.end() + 16]
        bracketed = re.search(f"[()]{m.group(1)}|{m.group(1)}[()]|[()][{digits}]{{2}}-{m.group(1)}|"
                              f"{m.group(1)}-[{digits}]{{2}}[()]", around)
        sh = {str(g - 621).translate(to_fa), str(g - 622).translate(to_fa)}
        assert bracketed and any(y in around for y in sh), around
    assert found >= 5


def test_hs_sections_and_chapters_translated():
    """21 sections tile the chapters 01–99 without gaps; every chapter of the product list has a Persian
    name; HS4 codes resolve to their chapter's and section's names."""
    from tradepulse import reference
    from tradepulse.i18n import Formatter
    from tradepulse.reports import hs_names as H

    fa, en = Formatter("fa"), Formatter("en")
    ranges = sorted((int(a), int(b)) for a, b, _n in H.SECTIONS.values())
    assert len(ranges) == 21 and ranges[0][0] == 1 and ranges[-1][1] == 99
    assert all(nxt[0] == cur[1] + 1 for cur, nxt in itertools.pairwise(ranges))
    codes = reference.hs_products("HS1992", 2)["code"].tolist()
    assert len(codes) == 97 and sorted(codes) == sorted(H.CHAPTERS)
    for c in codes:
        assert H.chapter_name(c, fa) != H.chapter_name(c, en) and re.search("[\u0600-\u06ff]", H.chapter_name(c, fa))
    for roman in H.SECTIONS:
        assert H.section_name(H.SECTIONS[roman][0], fa) != H.section_name(H.SECTIONS[roman][0], en)
    assert H.section_of("5701") == "XI" and H.chapter_name("5701", fa) == "فرش و کفپوش‌های نسجی"
    assert H.section_of("2709") == "V" and H.section_name("270900", en) == "Mineral products"
