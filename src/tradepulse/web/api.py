"""JSON API (``/api/v1``) and CSV / Excel downloads (``/download``) of every dashboard table.

Pagination: ``limit`` (1–1000, default 100) and ``offset`` (≥ 0); the response gives ``total`` (rows
after filtering) so clients can page.  Filters: ``year`` (Gregorian), ``partner`` (ISO3 code or country
group name such as ``neighbours15``), ``product`` (HS prefix or product group name such as ``carpets``),
``province`` (as stored in customs data).  Unknown names and empty selections are 404 with a message.
NaN values are returned as ``null``.
"""

from __future__ import annotations

import functools
import inspect
import math
from typing import Any

import pandas as pd
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from tradepulse.errors import UnknownNameError
from tradepulse.web.data import TABLES, DataContext, Params, TableSpec, get_table
from tradepulse.web.schemas import page_model
from tradepulse.web.validate import check

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
          400: {"model": ErrorBody, "description": "bad request"},
          401: {"model": ErrorBody, "description": "log in first: working-group tables (actions, meetings), "
                                                   "and every table when served with --no-public-indicators"},
          403: {"model": ErrorBody, "description": "the logged-in user's role does not allow this"},
          422: {"model": ErrorBody, "description": "a filter the table does not take, or a value out of range"},
          429: {"model": ErrorBody, "description": "too many uncached computations from this client; retry"},
          503: {"model": ErrorBody, "description": "the warehouse is being written (retry after Retry-After)"}}


def ctx_of(request: Request) -> DataContext:
    return request.app.state.ctx


#: Tables of the working-group database: readable after a login (viewer and up) only.
GROUP_TABLES = {"actions", "meetings"}


def check_access(request: Request, name: str) -> None:
    """401/403 unless the visitor may read table ``name``: group tables need a login; indicator tables too
    when the app was started without public indicators."""
    from tradepulse.web.security import require_group_reader, require_role
    if name in GROUP_TABLES:
        require_group_reader(request)
    elif not getattr(request.app.state, "public_indicators", True):
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


FILTERS = ("year", "partner", "product", "province")
#: Query parameters every table takes besides its filters.
COMMON = {"lang", "limit", "offset"}


@router.get("/api/v1/tables", response_model=list[TableInfo], tags=["tables"])
def list_tables() -> list[TableInfo]:
    """The tables served under ``/api/v1/tables/{name}`` and ``/download/{name}.csv|xlsx``, with the filters
    each one applies (any other filter is refused with 422)."""
    return [TableInfo(name=s.name, description=s.description, filters=list(s.filters)) for s in TABLES.values()]


def checked_params(request: Request, name: str, extra: set[str] = COMMON) -> tuple[TableSpec, Params]:
    """The table's spec and its filters from the query string, refusing unknown tables (404), filters the
    table does not apply and unknown parameters (422)."""
    spec = TABLES.get(name)
    if spec is None:
        raise UnknownNameError("table", name, list(TABLES))
    q = request.query_params
    refused = sorted(k for k in q if k not in spec.filters and k not in extra)
    if refused:
        takes = ", ".join(spec.filters) or "no filters"
        raise HTTPException(422, f"table {name!r} does not take {', '.join(refused)[:100]}; it takes {takes}")
    year = q.get("year")
    if year is not None and (not year.isdigit() or len(year) != 4 or not 1900 <= int(year) <= 2100):
        raise HTTPException(422, "year must be a Gregorian year 1900–2100")
    p = params_from(int(year) if year else None, q.get("partner"), q.get("product"), q.get("province"),
                    q.get("lang", "en"))
    for f in ("partner", "product", "province"):
        v = getattr(p, f)
        if v is not None and len(v) > 200:
            raise HTTPException(422, f"{f} is longer than 200 characters")
    return spec, p


async def compute_table(request: Request, spec: TableSpec, p: Params, key: tuple, fn) -> Any:
    """``fn()`` after checking the filter values (:func:`tradepulse.web.validate.check`), cached under
    ``key`` for cacheable tables, computed in the worker pool."""
    ctx = ctx_of(request)
    if spec.cacheable:
        hit = ctx.peek(key)
        if hit is not None:
            return hit

    job = functools.partial(_table_job, ctx, spec.filters, spec.cacheable, p, key, fn)
    return await request.app.state.computer.run(request, key if spec.cacheable else None, job,
                                                stale_ok=key[0] == "api")


def _table_job(ctx: DataContext, filters: tuple[str, ...], cacheable: bool, p: Params, key: tuple, fn) -> Any:
    """The work of :func:`compute_table` (module level: it runs in a worker process)."""
    check(ctx, p, filters, years=cacheable)
    return ctx.cached(key, fn) if cacheable else fn()


def _full_table(ctx: DataContext, name: str, params: Params) -> tuple[list[str], list[dict[str, Any]], dict[str, Any]]:
    """Columns, JSON rows and metadata of the whole filtered table ``name``."""
    from tradepulse.meta import meta_of
    df = get_table(ctx, name, params)
    return [str(c) for c in df.columns], records(df), meta_of(df).to_dict()


def _download_bytes(ctx: DataContext, name: str, params: Params, fmt: str, lang: str) -> bytes:
    """The whole filtered table ``name`` as CSV or Excel bytes."""
    df = get_table(ctx, name, params)
    if len(df) > 1_048_000:
        raise HTTPException(400, "too many rows for one download; add filters")
    return export_bytes(df, name, fmt, lang)


async def table(request: Request, name: str = PathParam(..., max_length=64),
                limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=10**9)) -> JSONResponse:
    """One page of table ``name`` after filtering (see ``/api/v1/tables`` for the names and their filters)."""
    check_access(request, name)
    spec, params = checked_params(request, name)
    ctx = ctx_of(request)
    if name == "flows":   # millions of rows: count and slice in the database
        from tradepulse.web.data import flows_page
        total, df = await compute_table(request, spec, params, ("api-flows", params.key(), limit, offset),
                                        functools.partial(flows_page, ctx, params, limit, offset))
        return JSONResponse({"table": name, "total": total, "limit": limit, "offset": offset,
                             "columns": [str(c) for c in df.columns], "items": records(df)})
    columns, items, meta = await compute_table(request, spec, params, ("api", name, params.key()),
                                               functools.partial(_full_table, ctx, name, params))
    body = {"table": name, "total": len(items), "limit": limit, "offset": offset, "columns": columns,
            "items": items[offset:offset + limit], "meta": meta}
    # returned as a ready response (the shape is the table's page model; skipping re-validation keeps it fast)
    return JSONResponse(body)


def _endpoint(spec: TableSpec):
    """A route function for one table whose signature declares exactly the table's filters (OpenAPI)."""
    async def endpoint(request: Request, **_kw) -> JSONResponse:
        return await table(request, spec.name, _kw["limit"], _kw["offset"])
    params = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)]
    for f in spec.filters:
        params.append(inspect.Parameter(f, inspect.Parameter.KEYWORD_ONLY, default=FILTER_QUERIES[f],
                                        annotation=int | None if f == "year" else str | None))
    params += [inspect.Parameter("lang", inspect.Parameter.KEYWORD_ONLY, default=LangQ, annotation=str),
               inspect.Parameter("limit", inspect.Parameter.KEYWORD_ONLY, default=Query(100, ge=1, le=1000),
                                 annotation=int),
               inspect.Parameter("offset", inspect.Parameter.KEYWORD_ONLY, default=Query(0, ge=0, le=10**9),
                                 annotation=int)]
    endpoint.__signature__ = inspect.Signature(params)
    endpoint.__name__ = f"table_{spec.name}"
    endpoint.__doc__ = f"{spec.description}\n\nOne page of table ``{spec.name}``; filters: " \
                       f"{', '.join(spec.filters) or 'none'}."
    return endpoint


FILTER_QUERIES = {"year": YearQ, "partner": PartnerQ, "product": ProductQ, "province": ProvinceQ}
for _spec in TABLES.values():
    router.add_api_route(f"/api/v1/tables/{_spec.name}", _endpoint(_spec), methods=["GET"],
                         response_model=page_model(_spec), responses=ERRORS, tags=["tables"],
                         summary=f"Table {_spec.name}")
router.add_api_route("/api/v1/tables/{name}", table, methods=["GET"], include_in_schema=False)


def export_bytes(df: pd.DataFrame, name: str, fmt: str, lang: str = "en") -> bytes:
    """The table as CSV or Excel bytes in ``lang`` (:mod:`tradepulse.web.downloads`; formulas neutralised)."""
    from tradepulse.web.downloads import csv_bytes, xlsx_bytes
    return csv_bytes(df, lang) if fmt == "csv" else xlsx_bytes(df, name, lang)


MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _download(body: bytes, name: str, fmt: str, lang: str = "en") -> Response:
    suffix = "-fa" if lang == "fa" else ""
    return Response(body, media_type=MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="tradepulse-{name}{suffix}.{fmt}"'})


@router.get("/download/{name}.{fmt}", responses={200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-"
                                                                   "officedocument.spreadsheetml.sheet": {}}},
                                                 **ERRORS}, tags=["downloads"])
async def download(request: Request, name: str = PathParam(..., max_length=64),
                   fmt: str = PathParam(..., pattern="^(csv|xlsx)$"),
                   year: int | None = YearQ, partner: str | None = PartnerQ, product: str | None = ProductQ,
                   province: str | None = ProvinceQ, lang: str = LangQ) -> Response:
    """The whole filtered table ``name`` as CSV (UTF-8 with BOM) or Excel; text that a spreadsheet would run
    as a formula is neutralised; ``lang=fa``: Persian headers, labels and Solar Hijri dates.  Filters the
    table does not take are refused (422)."""
    check_access(request, name)
    spec, params = checked_params(request, name, {"lang"})
    ctx = ctx_of(request)
    body = await compute_table(request, spec, params, ("download", name, fmt, lang, params.key()),
                               functools.partial(_download_bytes, ctx, name, params, fmt, lang))
    return _download(body, name, fmt, lang)
