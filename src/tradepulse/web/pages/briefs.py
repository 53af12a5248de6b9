"""The briefs page (``/briefs``) and the weekly brief download (``/briefs/download``)."""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
import urllib.parse
from pathlib import Path

import duckdb
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from tradepulse.errors import TradepulseError
from tradepulse.web.data import DataContext, Unavailable, WarehouseBusy, require
from tradepulse.web.pages.render import fmt_of, lang_of, render
from tradepulse.web.pages.sections import _province_names
from tradepulse.web.validate import YEAR_MAX, YEAR_MIN

router = APIRouter(include_in_schema=False)


@router.get("/briefs", response_class=HTMLResponse)
def briefs_page(request: Request):
    lang = lang_of(request)
    _ = fmt_of(lang).gettext
    state, message = "ok", ""
    try:
        require("tradepulse.reports.brief", "build_brief")
    except Unavailable as exc:
        state, message = "unavailable", exc.what
    provinces: list[str] = []
    try:
        provinces = request.app.state.ctx.cached(("province-names",), lambda: _province_names(request.app.state.ctx))
    except (TradepulseError, Unavailable):
        pass
    weeks: list[tuple[str, str]] = []
    sh_parts = None
    try:       # the Persian page offers Solar Hijri weeks (Saturday–Friday) and an SH date
        wk = require("tradepulse.reports.weeks")
        sh_parts = require("tradepulse.groups.dates", "sh_parts")
        fmt = fmt_of(lang)
        today = dt.date.today()
        for back in range(-1, 9):
            w = wk.week_of(today - dt.timedelta(days=7 * back))
            weeks.append((w.label, f"{fmt.numeral(w.label)} ({fmt.numeric_date(w.start)} – {fmt.numeric_date(w.end)})"))
    except Unavailable:
        pass
    return render(request, "briefs.html", title=_("Briefs"), state=state, message=message,
                  provinces=provinces, today=dt.date.today().isoformat(), today_date=dt.date.today(), weeks=weeks,
                  current_week=weeks[1][0] if len(weeks) > 1 else "", sh_parts=sh_parts,
                  sh_year_now=sh_parts(dt.date.today())[0] if sh_parts else 0)


@router.get("/briefs/download")
async def brief_download(request: Request, lang: str = Query("en", pattern="^(en|fa)$"),
                         fmt: str = Query("pdf", pattern="^(pdf|html)$"),
                         date: str | None = Query(None, max_length=10, pattern=r"^\d{4}-\d{2}-\d{2}$"),
                         date_y: str = Query("", max_length=4), date_m: str = Query("", max_length=2),
                         date_d: str = Query("", max_length=2),
                         week: str | None = Query(None, max_length=10, pattern=r"^\d{4}-?[Ww]\d{1,2}$"),
                         province: str | None = Query(None, max_length=200)):
    """The weekly brief as PDF (WeasyPrint) or HTML, built by :mod:`tradepulse.reports.brief` in the worker
    pool (counted in the client's cap).  ``date``: Gregorian 1900–2100 (else 422), or the Persian page's
    Solar Hijri selects ``date_y/_m/_d``; ``week``: a Solar Hijri week label (``1405-W37``)."""
    from tradepulse.web.group_forms import form_day
    require("tradepulse.reports.brief")
    ctx: DataContext = request.app.state.ctx
    try:
        day = dt.date.fromisoformat(date) if date else None
    except ValueError:
        raise HTTPException(422, f"not a valid date: {date!r} (use YYYY-MM-DD)") from None
    if day is None and (date_y or date_m or date_d):      # Solar Hijri selects of the Persian page
        day = form_day({"date_y": date_y, "date_m": date_m, "date_d": date_d}, "date", "date")
    if day is not None and not YEAR_MIN <= day.year <= YEAR_MAX:
        raise HTTPException(422, f"date {date} is out of range: use a date from {YEAR_MIN} to {YEAR_MAX}")

    # not cached (action items change); the brief opens its own read-only warehouse connection
    run = functools.partial(_brief_bytes, ctx.path, ctx.groups_url, day, week or None, province or None, lang,
                            ctx.focus, fmt)
    body = await request.app.state.computer.run(request, None, run)
    media = "application/pdf" if fmt == "pdf" else "text/html; charset=utf-8"
    name = f"tradepulse-brief-{lang}{'-' + province if province else ''}.{fmt}"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{urllib.parse.quote(name)}"})


def _brief_bytes(path: Path, groups_url: str | None, day: dt.date | None, week: str | None, province: str | None,
                 lang: str, focus: str, fmt: str) -> bytes:
    """The weekly brief as PDF or HTML bytes (module level: it runs in a worker process)."""
    brief_mod = require("tradepulse.reports.brief")
    try:
        b = brief_mod.build_brief(path, groups_url, date=day, week=week, province=province, lang=lang,
                                  reporter=focus)
        with tempfile.TemporaryDirectory() as tmp:
            out = brief_mod.write_brief(path, groups_url, brief=b, out=Path(tmp) / f"brief.{fmt}")
            return Path(out).read_bytes()
    except duckdb.Error as exc:
        raise WarehouseBusy(f"the warehouse cannot be read now ({type(exc).__name__}); an ingest may be "
                            "writing it — try again in a few seconds") from None
