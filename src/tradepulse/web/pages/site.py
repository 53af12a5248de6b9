"""Small site routes: externalised chart data (``/charts/data``) and the language switch (``/lang``)."""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from tradepulse import i18n

router = APIRouter(include_in_schema=False)


@router.get("/charts/data/{name}.json")
def chart_data(request: Request, name: str):
    """A chart dataset moved out of its page by :func:`externalise` (content-addressed, immutable)."""
    body = request.app.state.ctx.chart(name) if re.fullmatch(r"data-[0-9a-f]{1,64}", name) else None
    if body is None:
        raise HTTPException(404, "chart data expired; reload the page")
    return Response(body, media_type="application/json", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/lang/{code}")
def set_lang(request: Request, code: str, next: str = "/"):
    if code not in i18n.LANGS:
        raise HTTPException(404, f"unknown language {code!r}; use en or fa")
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie("lang", code, max_age=365 * 24 * 3600, httponly=True, samesite="lax")
    return resp


