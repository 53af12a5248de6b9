"""What the warehouse holds, for people and machines: ``/datasets`` (a page) and ``/api/v1/datasets`` (JSON).

Each dataset (:mod:`tradepulse.warehouse.datasets`) with its source, HS revision, product level, partner
detail, frequency, reporters and years; its coverage by reporter and year; and what ``tradepulse fetch``
downloaded — when, from where, and the file's sha256 (:func:`tradepulse.ingest.fetch.fetch_log`).
The web only calls the Python API: the warehouse's ``datasets()`` / ``coverage()`` and the fetch log.
"""

from __future__ import annotations

import functools
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from tradepulse.web.data import DataContext

router = APIRouter()


def datasets_summary(ctx: DataContext) -> dict[str, Any]:
    """``{"datasets": [...], "coverage": [...], "fetched": [...]}`` (cached with the warehouse's other tables)."""
    def build() -> dict[str, Any]:
        import json

        wh = ctx.warehouse()
        ds = wh.datasets()
        cov = wh.coverage()
        by_year = (cov.groupby(["dataset", "reporter"])["year"].agg(["min", "max", "nunique"]).reset_index()
                   .rename(columns={"min": "first_year", "max": "last_year", "nunique": "years"}))
        try:
            from tradepulse.ingest.fetch import fetch_log
            fetched = fetch_log()
        except Exception:  # noqa: BLE001 - no cache folder yet, or an unreadable log: nothing fetched to show
            fetched = []
        return json.loads(json.dumps({"datasets": ds.to_dict("records"), "coverage": by_year.to_dict("records"),
                                      "fetched": list(fetched)}, default=str))
    return ctx.cached(("datasets-summary",), build)


@router.get("/api/v1/datasets", tags=["datasets"], summary="Datasets and coverage")
async def api_datasets(request: Request) -> JSONResponse:
    """The warehouse's datasets (source, revision, product level, partner detail, frequency, span), their
    coverage per reporter, and the downloads made by ``tradepulse fetch``."""
    ctx: DataContext = request.app.state.ctx
    body = await request.app.state.computer.run(request, ("api-datasets",), functools.partial(datasets_summary, ctx))
    return JSONResponse(body)


@router.get("/datasets", response_class=HTMLResponse, include_in_schema=False)
async def datasets_page(request: Request):
    from tradepulse.web.pages.render import fmt_of, lang_of, render

    ctx: DataContext = request.app.state.ctx
    lang = lang_of(request)
    body = await request.app.state.computer.run(request, ("page-datasets",), functools.partial(datasets_summary, ctx))
    _ = fmt_of(lang).gettext
    return render(request, "datasets.html", title=_("Datasets"), key="datasets", data=body)
