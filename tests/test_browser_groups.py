"""The provincial secretary's week in the Persian UI (issue 16), driven in Chromium by Playwright against a real
uvicorn server on loopback (the small SYNTHETIC demo site, as in test_browser_web.py):

a Tehran secretary records a meeting (Solar Hijri date selects) with 3 attendees present, 2 decisions and 2 new
actions, edits one action's title and owner, closes another with a note; a viewer sees them, an anonymous visitor
sees none; the Tehran secretary cannot edit Isfahan's actions.  Screenshots go to pytest's temporary directory,
or with ``TRADEPULSE_SCREENSHOTS=1`` to docs/screenshots/ (``week-*.png``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from browser_support import chromium, demo_app, login, require_browser, serving, shots_dir

from tradepulse.groups.db import session_factory
from tradepulse.groups.service import GroupService

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_copy):
    require_browser()
    app, url = demo_app(demo_copy(tmp_path_factory.mktemp("week")), "browser-week-key")
    f = session_factory(url)
    with f() as s:
        svc = GroupService(s)
        svc.create_user("tehran", "tehran-secretary", "viewer", enforce_policy=False)
        svc.set_group_role("tehran", "Tehran working group", "secretary")
    f.kw["bind"].dispose()
    with serving(app) as base:
        yield base, url


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return shots_dir(tmp_path_factory, "week-shots")


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as b:
        yield b


def _context(browser, base):
    ctx = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900}, locale="fa-IR")
    ctx.add_cookies([{"name": "lang", "value": "fa", "url": base}])
    return ctx


def _db(url):
    f = session_factory(url)
    return f, GroupService(f())


def test_secretary_week_in_persian(browser, server, shots):
    base, url = server
    f, svc = _db(url)
    tehran, isfahan = svc.group("Tehran working group"), svc.group("Isfahan working group")
    people = svc.people(tehran.id)
    open_items = [a for a in svc.actions(tehran.id) if a.status in ("open", "in_progress")]
    to_edit, to_close = open_items[0], open_items[1]
    isfahan_item = svc.actions(isfahan.id)[0]
    f.kw["bind"].dispose()

    ctx = _context(browser, base)
    pg = ctx.new_page()
    login(pg, "tehran", "tehran-secretary")
    pg.goto(f"/groups?group={tehran.id}&lang=fa")
    assert pg.get_attribute("html", "dir") == "rtl"
    pg.click("#record-meeting")
    pg.wait_for_load_state()
    form = pg.locator("#meeting-form")
    form.locator("select[name=date_y]").select_option("1405")
    form.locator("select[name=date_m]").select_option("9")
    form.locator("select[name=date_d]").select_option("16")
    pg.fill("#meeting-title", "جلسه هفتگی کارگروه")
    pg.fill("#meeting-minutes", "صورت‌جلسه: وضعیت نمایشگاه استانی و مشوق‌های صادراتی بررسی شد.")
    for p in people[:3]:
        pg.select_option(f"select[name=att_{p.id}]", "present")
    pg.select_option(f"select[name=att_{people[3].id}]", "absent")
    pg.fill("input[name=dec_text_0]", "فهرست صادرکنندگان فرش برای نمایشگاه تهیه شود")
    pg.select_option("select[name=dec_owner_0]", "chamber_commerce")
    pg.select_option("select[name=dec_link_0]", "handicrafts-exports")
    pg.fill("input[name=dec_text_1]", "پنجره تأمین مالی پیش از حمل برای بنگاه‌های کوچک گشوده شود")
    pg.select_option("select[name=dec_owner_1]", "edbi")
    pg.select_option("select[name=dec_link_1]", "neighbours-exports")
    pg.fill("input[name=act_title_0]", "ارسال فهرست صادرکنندگان به دبیرخانه")
    pg.select_option("select[name=act_owner_0]", "chamber_commerce")
    for part, value in (("y", "1405"), ("m", "9"), ("d", "30")):
        pg.select_option(f"select[name=act_deadline_0_{part}]", value)
    pg.select_option("select[name=act_decision_0]", "0")
    pg.fill("input[name=act_title_1]", "جلسه با بانک توسعه صادرات")
    pg.select_option("select[name=act_owner_1]", "edbi")
    for part, value in (("y", "1405"), ("m", "10"), ("d", "7")):
        pg.select_option(f"select[name=act_deadline_1_{part}]", value)
    pg.select_option("select[name=act_decision_1]", "1")
    pg.screenshot(path=str(shots / "week-meeting-form-fa.png"), full_page=True)
    pg.click("#save-meeting")
    pg.wait_for_load_state()
    assert pg.locator("#flash").inner_text().strip() == "جلسه ثبت شد."
    assert f"group={tehran.id}" in pg.url and "lang=fa" in pg.url and pg.get_attribute("html", "dir") == "rtl"

    # edit one action's title and owner (reassign) with the full form
    pg.click(f"#edit-{to_edit.id}")
    pg.wait_for_load_state()
    pg.fill("#action-title", "فهرست صادرکنندگان فرش و گلیم")
    pg.select_option("#action-owner", "standards")
    pg.click("#save-action")
    pg.wait_for_load_state()
    assert pg.locator("#flash").inner_text().strip() == "ذخیره شد." or "ذخیره" in pg.locator("#flash").inner_text()
    row = pg.locator(f"#action-{to_edit.id}")
    assert "فهرست صادرکنندگان فرش و گلیم" in row.inner_text() and "سازمان ملی استاندارد" in row.inner_text()
    # close another with a note
    close = pg.locator(f"#action-{to_close.id} form.close-action")
    close.locator("input[name=note]").fill("با تأیید دبیرخانه بسته شد")
    close.locator("button[type=submit]").click()
    pg.wait_for_load_state()
    assert pg.locator("#flash").inner_text().strip() == "اقدام بسته شد."
    assert pg.locator(f"#action-{to_close.id} td.status").get_attribute("data-status") == "done"
    assert f"group={tehran.id}" in pg.url and "lang=fa" in pg.url
    pg.evaluate("window.scrollTo(0, 0)")
    pg.screenshot(path=str(shots / "week-groups-secretary-fa.png"))

    # the Tehran secretary cannot edit Isfahan's actions
    pg.goto(f"/groups?group={isfahan.id}&lang=fa")
    assert pg.locator("form.edit-action").count() == 0 and pg.locator("#record-meeting").count() == 0
    token = pg.locator("input[name=csrf_token]").first.get_attribute("value")
    r = pg.request.post(f"{base}/groups/actions/{isfahan_item.id}/edit",
                        form={"csrf_token": token, "version": str(isfahan_item.version), "title": "x",
                              "owner": "customs", "status": "open"})
    assert r.status == 403
    pg.goto(f"/groups/{tehran.id}/agenda?lang=fa")
    assert "دستور جلسه بعدی" in pg.locator("#agenda-title").inner_text()
    pg.screenshot(path=str(shots / "week-agenda-fa.png"), full_page=True)
    ctx.close()

    f, svc = _db(url)
    m = svc.meetings(tehran.id)[-1]
    assert m.date == dt.date(2026, 12, 7) and sum(ok for _, ok in svc.attendance(m)) == 3
    assert len(m.decisions) == 2
    new = [a for a in svc.actions(tehran.id) if a.decision_id in {d.id for d in m.decisions}]
    assert sorted(a.deadline for a in new) == [dt.date(2026, 12, 21), dt.date(2026, 12, 28)]
    edited, closed = svc.action(to_edit.id), svc.action(to_close.id)
    assert (edited.title, edited.owner.code) == ("فهرست صادرکنندگان فرش و گلیم", "standards")
    assert closed.status == "done" and closed.note.endswith("با تأیید دبیرخانه بسته شد")
    assert svc.action(isfahan_item.id).version == isfahan_item.version
    f.kw["bind"].dispose()

    # a viewer sees the meeting and the items
    ctx = _context(browser, base)
    pg = ctx.new_page()
    login(pg, "viewer", "viewer-demo")
    pg.goto(f"/groups?group={tehran.id}&lang=fa")
    assert "جلسه هفتگی کارگروه" in pg.locator("#table-meetings").inner_text()
    assert "فهرست صادرکنندگان فرش و گلیم" in pg.locator("#table-actions").inner_text()
    assert pg.locator("form.edit-action").count() == 0
    pg.click(f"#meeting-{m.id} a")
    pg.wait_for_load_state()
    assert "صورت‌جلسه: وضعیت نمایشگاه" in pg.locator("#minutes").inner_text()
    assert pg.locator("#attendance li.present").count() == 3 and pg.locator("#attendance li.absent").count() == 1
    pg.screenshot(path=str(shots / "week-meeting-viewer-fa.png"), full_page=True)
    ctx.close()

    # an anonymous visitor sees none of it
    ctx = _context(browser, base)
    pg = ctx.new_page()
    pg.goto(f"/groups?group={tehran.id}&lang=fa")
    assert "/login" in pg.url and "جلسه هفتگی کارگروه" not in pg.content()
    assert pg.request.get(f"{base}/api/v1/tables/actions").status == 401
    assert pg.request.get(f"{base}/api/v1/tables/meetings").status == 401
    ctx.close()
