"""JSON API (``/api/v1``) and CSV / Excel downloads (``/download``) of every dashboard table.

Pagination: ``limit`` (1–1000, default 100) and ``offset`` (≥ 0); the response gives ``total`` (rows
after filtering) so clients can page.  Filters: ``year`` (Gregorian), ``partner`` (ISO3 code or country
group name such as ``neighbours15``), ``product`` (HS prefix or product group name such as ``carpets``),
``province`` (as stored in customs data).  Unknown names and empty selections are 404 with a message.
NaN values are returned as ``null``.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from fastapi import APIRouter, HTTPException, Path as PathParam, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from tradepulse.web.data import TABLES, DataContext, Params, get_table

router = APIRouter()


class TableInfo(BaseModel):
    name: str
    description: str
    filters: list[str]


class TablePage(BaseModel):
    """One page of a table."""

    table: str
    total: int = Field(description="rows after filtering, before pagination")
    limit: int
    offset: int
    columns: list[str]
    items: list[dict[str, Any]]


class ErrorBody(BaseModel):
    detail: str


ERRORS = {404: {"model": ErrorBody, "description": "unknown name, no data, or section not available yet"},
          400: {"model": ErrorBody, "description": "bad request"}}


def ctx_of(request: Request) -> DataContext:
    return request.app.state.ctx


#: Tables of the working-group database: readable after a login (viewer and up) only.
GROUP_TABLES = {"actions", "meetings"}


def check_access(request: Request, name: str) -> None:
    """401/403 unless the visitor may read table ``name``: group tables need a login; indicator tables too
    when the app was started without public indicators."""
    from tradepulse.web.security import require_role
    if name in GROUP_TABLES or not getattr(request.app.state, "public_indicators", True):
        require_role(request, "viewer")


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe records: NaN/inf → None, NumPy scalars → Python, dates → ISO strings."""
    out = []
    for row in df.to_dict(orient="records"):
        clean = {}
        for k, v in row.items():
            if hasattr(v, "item"):
                v = v.item()
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            elif v is pd.NaT or (v is not None and not isinstance(v, (str, int, float, bool, list, dict))
                                 and pd.isna(v) is True):
                v = None
            elif hasattr(v, "isoformat"):
                v = v.isoformat()
            clean[str(k)] = v
        out.append(clean)
    return out


def params_from(year, partner, product, province, lang="en") -> Params:
    return Params(year=year, partner=partner or None, product=product or None, province=province or None,
                  lang=lang if lang in ("en", "fa") else "en")


YearQ = Query(None, ge=1900, le=2100, description="Gregorian year")
PartnerQ = Query(None, max_length=200, description="ISO3 code(s) or country group name(s), comma-separated")
ProductQ = Query(None, max_length=200, description="HS prefix(es) or product group name(s), comma-separated")
ProvinceQ = Query(None, max_length=200, description="province name(s) as in customs data, comma-separated")
LangQ = Query("en", pattern="^(en|fa)$", description="language of names (en|fa)")


@router.get("/api/v1/tables", response_model=list[TableInfo], tags=["tables"])
def list_tables() -> list[TableInfo]:
    """The tables served under ``/api/v1/tables/{name}`` and ``/download/{name}.csv|xlsx``."""
    return [TableInfo(name=s.name, description=s.description, filters=list(s.filters)) for s in TABLES.values()]


@router.get("/api/v1/tables/{name}", response_model=TablePage, responses=ERRORS, tags=["tables"])
def table(request: Request, name: str = PathParam(..., max_length=64),
          year: int | None = YearQ, partner: str | None = PartnerQ, product: str | None = ProductQ,
          province: str | None = ProvinceQ, lang: str = LangQ,
          limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=10**9)) -> TablePage:
    """One page of table ``name`` after filtering (see ``/api/v1/tables`` for the names)."""
    check_access(request, name)
    ctx = ctx_of(request)
    params = params_from(year, partner, product, province, lang)
    spec = TABLES.get(name)
    if name == "flows":   # millions of rows: count and slice in the database
        from tradepulse.web.data import flows_page
        total, df = flows_page(ctx, params, limit, offset)
        return JSONResponse({"table": name, "total": total, "limit": limit, "offset": offset,
                             "columns": [str(c) for c in df.columns], "items": records(df)})

    def full() -> tuple[list[str], list[dict[str, Any]]]:
        df = get_table(ctx, name, params)
        return [str(c) for c in df.columns], records(df)
    if spec is not None and spec.cacheable:
        columns, items = ctx.cached(("api", name, params.key()), full)
    else:
        columns, items = full()
    body = {"table": name, "total": len(items), "limit": limit, "offset": offset, "columns": columns,
            "items": items[offset:offset + limit]}
    # returned as a ready response (the shape is TablePage; skipping re-validation keeps the API fast)
    return JSONResponse(body)


def _download(df: pd.DataFrame, name: str, fmt: str, lang: str = "en") -> Response:
    from tradepulse.web.downloads import csv_bytes, xlsx_bytes
    if fmt == "csv":
        body = csv_bytes(df, lang)
        media = "text/csv; charset=utf-8"
    else:
        body = xlsx_bytes(df, name, lang)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    suffix = "-fa" if lang == "fa" else ""
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="tradepulse-{name}{suffix}.{fmt}"'})


@router.get("/download/{name}.{fmt}", responses={200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-"
                                                                   "officedocument.spreadsheetml.sheet": {}}},
                                                 **ERRORS}, tags=["downloads"])
def download(request: Request, name: str = PathParam(..., max_length=64),
             fmt: str = PathParam(..., pattern="^(csv|xlsx)$"),
             year: int | None = YearQ, partner: str | None = PartnerQ, product: str | None = ProductQ,
             province: str | None = ProvinceQ, lang: str = LangQ) -> Response:
    """The whole filtered table ``name`` as CSV (UTF-8 with BOM) or Excel."""
    check_access(request, name)
    df = get_table(ctx_of(request), name, params_from(year, partner, product, province, lang))
    if len(df) > 1_048_000:
        raise HTTPException(400, "too many rows for one download; add filters")
    return _download(df, name, fmt, lang)
