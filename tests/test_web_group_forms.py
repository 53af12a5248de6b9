"""Working-group web forms (issue 16) with FastAPI's TestClient on the small SYNTHETIC demo site:
meeting with attendees / decisions / actions in SH dates, edit every field, close with a note, undo,
per-group roles (a Tehran secretary edits Tehran only), login for group data, filters and language kept
after a save, 422 for out-of-range dates, downloads that re-import with 0 changes."""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse

import pytest

from tradepulse.groups.db import session_factory
from tradepulse.groups.service import GroupService


@pytest.fixture(scope="module")
def site(tmp_path_factory, demo_copy):
    from tradepulse.web.testing import demo_site
    wh, url = demo_site(demo_copy(tmp_path_factory.mktemp("forms")))
    f = session_factory(url)
    with f() as s:
        svc = GroupService(s)
        svc.create_user("sec_tehran", "tehran-pass", "viewer", enforce_policy=False)
        svc.set_group_role("sec_tehran", "Tehran working group", "secretary")
        svc.add_person("Sara Ahmadi", "customs", group="Tehran working group", email="sara@example.org")
    f.kw["bind"].dispose()
    return wh, url


@pytest.fixture(scope="module")
def app(site):
    from tradepulse.web.app import create_app
    return create_app(site[0], site[1], "test-secret", login_max_failures=50)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def token(client, path="/login"):
    m = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', client.get(path).text)
    assert m, path
    return m.group(1)


def login(client, user, password):
    r = client.post("/login", data={"username": user, "password": password, "csrf_token": token(client),
                                    "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text


def svc_of(site):
    """A service on the site's database, already migrated by the ``site`` fixture.  No migration here: in two
    of six full parallel runs (CI and a fresh clone, session 6) re-running the migration check while the app
    held connections raised ``sqlite3.OperationalError: disk I/O error`` at ``PRAGMA foreign_key_check``
    (not reproduced alone; the cause is open, see the issue note)."""
    f = session_factory(site[1], migrate=False)
    return f, GroupService(f())


def test_group_data_needs_login(client, app):
    assert client.get("/groups", follow_redirects=False).status_code == 303
    for path in ("/api/v1/tables/actions", "/api/v1/tables/meetings"):
        assert client.get(path).status_code == 401, path
    for path in ("/download/actions.csv", "/download/meetings.xlsx"):      # a browser is sent to the login
        r = client.get(path, follow_redirects=False, headers={"accept": "text/html,*/*;q=0.8"})
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
        assert client.get(path).status_code == 401, path                # a script gets 401 (issue 15: JSON)
    assert client.get("/groups/meetings/1", follow_redirects=False).headers["location"].startswith("/login")
    assert client.get("/").status_code == 200                      # indicators stay public by default
    assert client.get("/api/v1/tables/trade").status_code == 200
    app.state.public_indicators = False                               # serve --no-public-indicators
    try:
        assert client.get("/", follow_redirects=False).status_code == 303
        assert client.get("/api/v1/tables/trade").status_code == 401
        assert client.get("/download/trade.csv", follow_redirects=False,
                          headers={"accept": "text/html"}).status_code == 303
        assert client.get("/download/trade.csv").status_code == 401
    finally:
        app.state.public_indicators = True
    login(client, "viewer", "viewer-demo")
    assert client.get("/api/v1/tables/actions").json()["total"] > 0
    assert client.get("/groups").status_code == 200


def test_secretary_week_in_solar_hijri(client, site):
    f, svc = svc_of(site)
    tehran, isfahan = svc.group("Tehran working group"), svc.group("Isfahan working group")
    people = svc.people(tehran.id)
    f.kw["bind"].dispose()
    login(client, "sec_tehran", "tehran-pass")
    page = client.get("/groups", params={"group": tehran.id, "lang": "fa"}).text
    assert 'id="record-meeting"' in page and 'name="deadline_y"' in page      # SH selects in Persian
    back = f"/groups?group={tehran.id}&lang=fa"
    form_page = client.get(f"/groups/{tehran.id}/meetings/new", params={"back": back, "lang": "fa"}).text
    assert 'name="date_y"' in form_page and "آذر" in form_page and 'type="date"' not in form_page
    data = {"csrf_token": token(client, "/groups"), "back": back, "date_y": "1405", "date_m": "9", "date_d": "16",
            "title": "جلسه هفتگی", "minutes": "صورت‌جلسه: بررسی اقدام‌ها",
            f"att_{people[0].id}": "present", f"att_{people[1].id}": "present", f"att_{people[2].id}": "present",
            f"att_{people[3].id}": "absent",
            "dec_text_0": "تهیه فهرست صادرکنندگان", "dec_owner_0": "chamber_commerce",
            "dec_link_0": "handicrafts-exports",
            "dec_text_1": "پیگیری مشوق‌های صادراتی", "dec_owner_1": "edbi", "dec_link_1": "neighbours-exports",
            "act_title_0": "ارسال فهرست به دبیرخانه", "act_owner_0": "chamber_commerce",
            "act_deadline_0_y": "1405", "act_deadline_0_m": "9", "act_deadline_0_d": "30", "act_decision_0": "0",
            "act_title_1": "جلسه با بانک", "act_owner_1": "edbi", "act_decision_1": "1"}
    bad = {**data, "date_y": "1480"}
    r = client.post(f"/groups/{tehran.id}/meetings", data=bad, follow_redirects=False)
    assert r.status_code == 422 and "1279–1479" in r.text
    r = client.post(f"/groups/{tehran.id}/meetings", data=data, follow_redirects=False)
    assert r.status_code == 303
    loc = urllib.parse.urlsplit(r.headers["location"])
    assert dict(urllib.parse.parse_qsl(loc.query)) == {"group": str(tehran.id), "lang": "fa",
                                                       "msg": "meeting-saved"}
    f, svc = svc_of(site)
    m = svc.meetings(tehran.id)[-1]
    assert m.date == dt.date(2026, 12, 7) and m.minutes.startswith("صورت‌جلسه")
    att = svc.attendance(m)
    assert sorted(ok for _, ok in att) == [False, True, True, True]
    assert [(d.owner.code, d.target_id) for d in m.decisions] == [("chamber_commerce", "handicrafts-exports"),
                                                                 ("edbi", "neighbours-exports")]
    new = [a for a in svc.actions(tehran.id) if a.decision_id in {d.id for d in m.decisions}]
    assert sorted((a.title, a.deadline) for a in new) == [("ارسال فهرست به دبیرخانه", dt.date(2026, 12, 21)),
                                                         ("جلسه با بانک", None)]
    target = [a for a in svc.actions(tehran.id) if a.status == "open" and a not in new][0]
    to_close = [a for a in svc.actions(tehran.id) if a.status == "in_progress"][0]
    other = svc.actions(isfahan.id)[0]
    f.kw["bind"].dispose()
    html = client.get(f"/groups/meetings/{m.id}", params={"lang": "fa"}).text
    assert "صورت‌جلسه" in html and "۱۴۰۵/۰۹/۱۶" in html and html.count('class="absent"') == 1

    # edit every field (title, owner = reassign, SH deadline) and keep the filters and language
    edit = {"csrf_token": token(client, "/groups"), "back": back, "version": str(target.version),
            "title": "عنوان تازه", "owner": "standards", "status": "in_progress", "note": "",
            "deadline_y": "1405", "deadline_m": "10", "deadline_d": "1"}
    r = client.post(f"/groups/actions/{target.id}/edit", data=edit, follow_redirects=False)
    assert r.status_code == 303 and "lang=fa" in r.headers["location"] and f"group={tehran.id}" in r.headers["location"]
    r = client.post(f"/groups/actions/{target.id}/edit", data=edit, follow_redirects=False)   # stale version
    assert "msg=conflict" in r.headers["location"]
    r = client.post(f"/groups/actions/{target.id}/edit", data={**edit, "version": str(target.version + 1),
                                                               "deadline_y": "1480"})
    assert r.status_code == 422
    # close another with a note, then undo it
    r = client.post(f"/groups/actions/{to_close.id}/close", data={
        "csrf_token": token(client, "/groups"), "back": back, "version": str(to_close.version), "note": "انجام شد"},
        follow_redirects=False)
    assert "msg=closed" in r.headers["location"]
    f, svc = svc_of(site)
    a, c = svc.action(target.id), svc.action(to_close.id)
    assert (a.title, a.owner.code, a.deadline, a.version) == ("عنوان تازه", "standards", dt.date(2026, 12, 22),
                                                              target.version + 1)
    assert (c.status, c.note.endswith("انجام شد"), c.completed_on) == ("done", True, dt.date.today())
    f.kw["bind"].dispose()
    r = client.post(f"/groups/{tehran.id}/undo", data={"csrf_token": token(client, "/groups"), "back": back},
                    follow_redirects=False)
    assert "msg=undone" in r.headers["location"]
    f, svc = svc_of(site)
    c = svc.action(to_close.id)
    assert (c.status, c.note, c.completed_on) == ("in_progress", to_close.note, to_close.completed_on)
    f.kw["bind"].dispose()

    # the Tehran secretary cannot edit Isfahan's items, nor record its meetings
    r = client.post(f"/groups/actions/{other.id}/edit", data={**edit, "version": str(other.version)})
    assert r.status_code == 403
    r = client.post(f"/groups/actions/{other.id}", data={"csrf_token": token(client, "/groups"),
                                                         "version": str(other.version), "status": "done"})
    assert r.status_code == 403
    assert client.get(f"/groups/{isfahan.id}/meetings/new").status_code == 403
    isf = client.get("/groups", params={"group": isfahan.id}).text
    assert 'class="edit-action"' not in isf and 'id="record-meeting"' not in isf


def test_english_form_is_gregorian_and_checks_range(client, site):
    f, svc = svc_of(site)
    tehran = svc.group("Tehran working group")
    f.kw["bind"].dispose()
    login(client, "admin", "admin-demo")
    html = client.get(f"/groups/{tehran.id}/actions/new", params={"lang": "en"}).text
    assert 'type="date"' in html and "deadline_y" not in html
    data = {"csrf_token": token(client, "/groups"), "title": "Gregorian item", "owner": "customs",
            "deadline": "2101-01-01"}
    assert client.post(f"/groups/{tehran.id}/actions", data=data).status_code == 422
    r = client.post(f"/groups/{tehran.id}/actions", data={**data, "deadline": "2026-12-07"}, follow_redirects=False)
    assert r.status_code == 303
    f, svc = svc_of(site)
    assert [a.deadline for a in svc.actions(tehran.id) if a.title == "Gregorian item"] == [dt.date(2026, 12, 7)]
    f.kw["bind"].dispose()


@pytest.mark.parametrize("name", ["actions", "meetings"])
@pytest.mark.parametrize("lang", ["en", "fa"])
def test_page_downloads_reimport_with_no_change(client, site, name, lang):
    """The page's own download (English or Persian headers) uploaded again changes 0 rows (54 duplicates
    before issue 16)."""
    login(client, "admin", "admin-demo")
    body = client.get(f"/download/{name}.csv", params={"lang": lang}).content
    before = client.get(f"/api/v1/tables/{name}", params={"limit": 1}).json()["total"]
    r = client.post("/groups/import", data={"csrf_token": token(client, "/groups"), "back": "/groups?lang=fa"},
                    files={"file": (f"{name}.csv", body, "text/csv")}, follow_redirects=False)
    assert r.status_code == 303 and "msg=imported-0" in r.headers["location"] and "lang=fa" in r.headers["location"]
    assert client.get(f"/api/v1/tables/{name}", params={"limit": 1}).json()["total"] == before


def test_persian_downloads(client):
    """Persian CSV / XLSX: translated headers, numbers as numbers (rounded, Persian Excel formats), SH dates
    beside Gregorian, translated statuses and names, right-to-left sheet."""
    import csv
    import io

    import openpyxl

    login(client, "viewer", "viewer-demo")
    text = client.get("/download/actions.csv", params={"lang": "fa"}).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    head = rows[0]
    assert head[:3] == ["شناسه", "کارگروه", "استان"] and "مهلت (شمسی)" in head and "تاریخ انجام (شمسی)" in head
    body = [dict(zip(head, r)) for r in rows[1:]]
    assert {r["وضعیت"] for r in body} <= {"باز", "در حال انجام", "انجام‌شده", "لغوشده", "انجام شده", "لغو شده"} \
        or all(re.search(r"[\u0600-\u06FF]", r["وضعیت"]) for r in body)
    done = [r for r in body if r["تاریخ انجام"]][0]
    y, mth, d = (int(x) for x in done["تاریخ انجام (شمسی)"].split("/"))
    from tradepulse.groups.dates import sh_to_gregorian
    assert sh_to_gregorian(y, mth, d).isoformat() == done["تاریخ انجام"]
    assert all(re.search(r"[\u0600-\u06FF]", r["کارگروه"]) for r in body)
    wb = openpyxl.load_workbook(io.BytesIO(client.get("/download/actions.xlsx", params={"lang": "fa"}).content))
    ws = wb.active
    assert ws.sheet_view.rightToLeft is True and ws.cell(1, 1).value == "شناسه"
    assert isinstance(ws.cell(2, 1).value, int) and ws.cell(2, 1).number_format.startswith("[$-3000429]")
    # an indicator table: money stays a number, rounded to cents, with the Persian format
    wb = openpyxl.load_workbook(io.BytesIO(client.get("/download/trade.xlsx", params={"lang": "fa"}).content))
    ws = wb.active
    heads = [c.value for c in ws[1]]
    assert ws.sheet_view.rightToLeft and all(re.search(r"[\u0600-\u06FF]", h) for h in heads if h != "year")
    exports, ratio = ws.cell(2, heads.index("صادرات") + 1), ws.cell(2, heads.index("نسبت صادرات به واردات") + 1)
    assert isinstance(exports.value, float) and round(exports.value, 2) == exports.value
    assert exports.number_format == "[$-3000429]#,##0.00" and ratio.number_format == "[$-3000429]#,##0.######"
    assert round(ratio.value, 6) == ratio.value
    en = client.get("/download/trade.csv").content.decode("utf-8-sig").splitlines()[0]
    assert en.startswith("year,") or "exports" in en                 # English download unchanged


def test_agenda_page_pdf_send_and_ics(client, app, site):
    """The agenda on the web (viewer: read; secretary of the group: send), its PDF, the e-mail through a local
    aiosmtpd server and the .ics feed; anonymous visitors get none of them."""
    import socket

    from aiosmtpd.controller import Controller
    from icalendar import Calendar

    f, svc = svc_of(site)
    tehran = svc.group("Tehran working group").id
    f.kw["bind"].dispose()
    for path in (f"/groups/{tehran}/agenda", f"/groups/{tehran}/agenda.pdf", f"/groups/{tehran}/calendar.ics"):
        assert client.get(path, follow_redirects=False).status_code == 303, path
    login(client, "viewer", "viewer-demo")
    html = client.get(f"/groups/{tehran}/agenda", params={"lang": "fa"}).text
    assert "دستور جلسه بعدی" in html and 'id="agenda-overdue"' in html and 'id="send-agenda"' not in html
    assert Calendar.from_ical(client.get(f"/groups/{tehran}/calendar.ics").content).walk("VEVENT")

    class Keep:
        messages: list = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ctl = Controller(Keep(), hostname="127.0.0.1", port=port)
    ctl.start()
    app.state.smtp_url = f"smtp://127.0.0.1:{port}"
    try:
        login(client, "sec_tehran", "tehran-pass")
        page = client.get(f"/groups/{tehran}/agenda", params={"lang": "fa"}).text
        assert 'id="send-agenda"' in page
        r = client.post(f"/groups/{tehran}/send", data={"csrf_token": token(client, "/groups"), "what": "agenda",
                                                        "lang": "fa", "back": f"/groups/{tehran}/agenda?lang=fa"},
                        follow_redirects=False)
        assert r.status_code == 303 and "sara%40example.org" in r.headers["location"]
        assert [m.rcpt_tos for m in Keep.messages] == [["sara@example.org"]]
    finally:
        ctl.stop()
        app.state.smtp_url = None
    pdf = client.get(f"/groups/{tehran}/agenda.pdf", params={"lang": "fa"})
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"


def test_persian_briefs_page_offers_sh_weeks(client):
    """The Persian briefs page chooses a Solar Hijri week (the CLI's --week), not a Gregorian date picker;
    an SH date from selects is read too, and an out-of-range one is 422."""
    html = client.get("/briefs", params={"lang": "fa"}).text
    assert 'id="brief-week"' in html and 'type="date"' not in html and "W" in html
    assert 'type="date"' in client.get("/briefs", params={"lang": "en"}).text
    r = client.get("/briefs/download", params={"lang": "fa", "fmt": "html", "date_y": "1480", "date_m": "1",
                                               "date_d": "1"})
    assert r.status_code == 422 and "1279–1479" in r.text
    r = client.get("/briefs/download", params={"lang": "fa", "fmt": "html", "week": "1405-W38"})
    assert r.status_code == 200 and "۱۴۰۵-W۳۸" in r.text


def test_admin_sets_group_roles_on_the_web(client, site):
    """The admin's page of per-group roles: giving a viewer the secretary role in Isfahan lets them edit Isfahan
    only; a non-admin gets 403."""
    f, svc = svc_of(site)
    svc.create_user("isf", "isfahan-pass", "viewer", enforce_policy=False)
    isfahan, tehran = svc.group("Isfahan working group").id, svc.group("Tehran working group").id
    f.kw["bind"].dispose()
    login(client, "viewer", "viewer-demo")
    assert client.get("/admin/group-roles", follow_redirects=False).status_code == 403
    login(client, "admin", "admin-demo")
    html = client.get("/admin/group-roles", params={"lang": "fa"}).text
    assert "نقش‌ها در کارگروه‌ها" in html and "isf" in html
    r = client.post("/admin/group-roles", data={"csrf_token": token(client, "/admin/group-roles"), "username": "isf",
                                                "group": str(isfahan), "role": "secretary"}, follow_redirects=False)
    assert r.status_code == 303 and "msg=saved" in r.headers["location"]
    f, svc = svc_of(site)
    assert (svc.role_in("isf", isfahan), svc.role_in("isf", tehran)) == ("secretary", "viewer")
    f.kw["bind"].dispose()


def test_edit_meeting_with_version_and_undo(client, site):
    """Editing a meeting: SH date, minutes, attendance and a new decision in one save; a stale version is a
    conflict; undo restores minutes and removes the decision."""
    f, svc = svc_of(site)
    tehran = svc.group("Tehran working group")
    m = svc.meetings(tehran.id)[0]
    people = svc.people(tehran.id)
    before = (m.minutes, len(m.decisions), m.version)
    f.kw["bind"].dispose()
    login(client, "admin", "admin-demo")
    html = client.get(f"/groups/meetings/{m.id}/edit", params={"lang": "fa"}).text
    assert 'name="version"' in html and "new-actions" not in html
    data = {"csrf_token": token(client, "/groups"), "version": str(m.version), "date_y": "1405", "date_m": "9",
            "date_d": "1", "title": m.title, "minutes": "صورت‌جلسهٔ اصلاح‌شده", f"att_{people[0].id}": "present",
            f"att_{people[1].id}": "absent", "dec_text_0": "مصوبهٔ افزوده", "dec_owner_0": "customs"}
    r = client.post(f"/groups/meetings/{m.id}/edit", data=data, follow_redirects=False)
    assert "msg=meeting-saved" in r.headers["location"]
    assert "msg=conflict" in client.post(f"/groups/meetings/{m.id}/edit", data=data,
                                         follow_redirects=False).headers["location"]
    f, svc = svc_of(site)
    m2 = svc.meeting(m.id)
    assert (m2.date, m2.minutes, m2.version) == (dt.date(2026, 11, 22), "صورت‌جلسهٔ اصلاح‌شده", m.version + 1)
    assert [(p.id, ok) for p, ok in svc.attendance(m2)] == sorted(
        [(people[0].id, True), (people[1].id, False)], key=lambda x: svc.person(x[0]).full_name)
    assert m2.decisions[-1].text == "مصوبهٔ افزوده" and m2.decisions[-1].owner.code == "customs"
    f.kw["bind"].dispose()
    r = client.post(f"/groups/{tehran.id}/undo", data={"csrf_token": token(client, "/groups")},
                    follow_redirects=False)
    assert "msg=undone" in r.headers["location"]
    f, svc = svc_of(site)
    m3 = svc.meeting(m.id)
    assert (m3.minutes, len(m3.decisions), m3.date) == (before[0], before[1], m.date)
    f.kw["bind"].dispose()


def test_upload_needs_the_role_in_each_changed_group(client, site):
    """The Tehran secretary may upload the whole actions download unchanged (0 changes), may change a Tehran
    row, and is refused (403, nothing written) when a row of Isfahan changes."""
    import csv
    import io

    login(client, "sec_tehran", "tehran-pass")
    text = client.get("/download/actions.csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))

    def upload(rs):
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rs)
        return client.post("/groups/import", data={"csrf_token": token(client, "/groups")},
                           files={"file": ("actions.csv", buf.getvalue().encode("utf-8"), "text/csv")},
                           follow_redirects=False)
    assert "msg=imported-0" in upload(rows).headers["location"]
    isf = next(r for r in rows if r["group"] == "Isfahan working group")
    r = upload([{**isf, "note": "from Tehran"}])
    assert r.status_code == 403
    teh = next(r for r in rows if r["group"] == "Tehran working group")
    assert "msg=imported-1" in upload([{**teh, "note": "from Tehran"}]).headers["location"]
    f, svc = svc_of(site)
    assert svc.action(int(isf["id"])).note == isf["note"] and svc.action(int(teh["id"])).note == "from Tehran"
    f.kw["bind"].dispose()


def test_neutralised_download_reimports_with_no_change(client, site):
    """Regression (merge of issues 15 and 16): downloads neutralise formula-looking text (``'=…``, ``\\|``);
    the import takes that back off, so such a download still loads back with 0 changes and the titles stay."""
    evil = ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)", "|pipe"]
    f, svc = svc_of(site)
    group = svc.groups()[0].name
    ids = [svc.add_action(group, t, "customs", actor="test").id for t in evil]
    f.kw["bind"].dispose()
    login(client, "admin", "admin-demo")
    body = client.get("/download/actions.csv").content
    assert b"'=HYPERLINK" in body                                   # inert in the spreadsheet
    r = client.post("/groups/import", data={"csrf_token": token(client, "/groups")},
                    files={"file": ("actions.csv", body, "text/csv")}, follow_redirects=False)
    assert r.status_code == 303 and "msg=imported-0" in r.headers["location"]
    f, svc = svc_of(site)
    assert [svc.action(i).title for i in ids] == evil
    f.kw["bind"].dispose()
