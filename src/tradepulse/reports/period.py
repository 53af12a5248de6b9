"""The brief's and the overview page's current-period section: latest month, year to date against the same
months a year earlier, and the 12-month rolling total — exports and imports, each naming its dataset and the
month its data end (figures from :func:`tradepulse.indicators.current.current_period`).

``current_section(warehouse, "IRN")`` returns a plain dict (JSON-ready) that the brief template and the web
overview render: ``status`` is ``ok`` (``rows`` filled), ``annual-only`` (the warehouse has only annual data
for the scope: the section says "annual data only") or ``no-data``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tradepulse.errors import NoDataError, UnknownNameError
from tradepulse.i18n import N_

__all__ = ["FLOW_LABELS", "current_section", "flat_figures", "overview_current"]

FLOW_LABELS = {"export": N_("Exports"), "import": N_("Imports")}


def current_section(warehouse, reporter: str, province: str | None = None, *, as_of: dt.date | None = None,
                    calendar: str = "solar-hijri", flows=("export", "import")) -> dict:
    """Current-period figures of ``reporter`` (or one ``province``) for each of ``flows``, up to the month of
    ``as_of`` (default: all months).  See the module docstring for the shape."""
    from tradepulse.indicators.current import AnnualDataOnly, current_period

    until = (as_of.year, as_of.month) if as_of is not None else None
    rows, warnings, annual_only, problems = [], [], [], []
    for flow in flows:
        try:
            cp = current_period(warehouse, reporter, flow=flow, province=province, calendar=calendar,
                                until=until)
        except AnnualDataOnly as exc:
            annual_only.append(str(exc))
            continue
        except (NoDataError, UnknownNameError) as exc:
            problems.append(str(exc))
            continue
        d = cp.to_dict()
        d.update(label=FLOW_LABELS[flow], end_year=cp.end[0], end_month=cp.end[1], sh_year=cp.sh_end[0],
                 sh_month=cp.sh_end[1], ytd_first=list(cp.ytd_start))
        d.pop("meta", None)
        rows.append(d)
        for w in cp.meta.warnings:
            if w not in warnings:
                warnings.append(w)
    status = "ok" if rows else ("annual-only" if annual_only else "no-data")
    return {"status": status, "calendar": calendar, "rows": rows, "warnings": warnings,
            "detail": (annual_only or problems or [""])[0]}


def overview_current(warehouse=None, reporter: str | None = None, province: str | None = None, *,
                     calendar: str = "solar-hijri") -> dict:
    """The current-period block for the web overview page: ``warehouse`` a Warehouse or a path (opened
    read-only; None: the default warehouse), ``reporter`` default ``config.DEFAULT_FOCUS``."""
    from tradepulse.config import DEFAULT_FOCUS
    from tradepulse.warehouse import Warehouse

    own = warehouse is None or isinstance(warehouse, (str, Path))
    wh = Warehouse(warehouse, read_only=True) if own else warehouse
    try:
        return current_section(wh, (reporter or DEFAULT_FOCUS).upper(), province, calendar=calendar)
    finally:
        if own:
            wh.close()


def flat_figures(section: dict) -> dict[str, float]:
    """``{"current.export.ytd": value, ...}`` for the snapshot of a brief (None values left out)."""
    out = {}
    for r in section.get("rows", []):
        for key in ("latest", "ytd", "rolling12"):
            if r.get(key) is not None:
                out[f"current.{r['flow']}.{key}"] = float(r[key])
    return out
