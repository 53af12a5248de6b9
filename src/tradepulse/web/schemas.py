"""Typed OpenAPI response models of the API tables (issue 15, defect 9), so a client generator gets real
column types.

:data:`COLUMNS` lists each table's columns with their JSON type (read from the tables on the SYNTHETIC demo
world; every value may be ``null``: NaN and missing values are sent as ``null``).  Rows may carry further
columns when an indicator module adds one (``additionalProperties`` stays allowed).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, create_model

from tradepulse.web.data import TableSpec

date = dt.date

#: Table → column → Python type of its JSON values.
COLUMNS: dict[str, dict[str, type]] = {
    "trade": {"year": int, "exports": float, "imports": float, "balance": float, "coverage": float, "oil_exports": float, "oil_imports": float, "non_oil_exports": float, "non_oil_imports": float, "non_oil_balance": float, "exports_growth": float, "imports_growth": float, "non_oil_exports_growth": float, "non_oil_imports_growth": float, "balance_change": float},
    "partners": {"year": int, "partner": str, "partner_name": str, "exports": float, "imports": float, "balance": float, "coverage": float, "oil_exports": float, "oil_imports": float, "non_oil_exports": float, "non_oil_imports": float, "non_oil_balance": float, "exports_growth": float, "imports_growth": float, "non_oil_exports_growth": float, "non_oil_imports_growth": float, "balance_change": float, "export_share": float},
    "products": {"year": int, "product": str, "product_name": str, "exports": float, "imports": float, "balance": float, "coverage": float, "oil_exports": float, "oil_imports": float, "non_oil_exports": float, "non_oil_imports": float, "non_oil_balance": float, "exports_growth": float, "imports_growth": float, "non_oil_exports_growth": float, "non_oil_imports_growth": float, "balance_change": float, "export_share": float},
    "provinces": {"year": int, "province": str, "exports": float, "imports": float, "balance": float, "coverage": float, "oil_exports": float, "oil_imports": float, "non_oil_exports": float, "non_oil_imports": float, "non_oil_balance": float, "exports_growth": float, "imports_growth": float, "non_oil_exports_growth": float, "non_oil_imports_growth": float, "balance_change": float},
    "flows": {"year": int, "month": str, "reporter": str, "partner": str, "flow": str, "product": str, "hs_revision": str, "value_usd": float, "quantity": float, "unit": str, "province": str, "source": str},
    "exporters": {"year": int, "province": str, "n_exporters": int, "exports": float, "mean_exports": float, "top5_share": float, "entry_rate": float, "exit_rate": float, "entrant_survival": float, "mean_products": float, "mean_markets": float},
    "diversification": {"dimension": str, "year": int, "total_value": float, "n_active": int, "n_universe": int, "n_above": int, "n_rca": int, "hhi": float, "hhi_norm": float, "theil": float, "theil_within": float, "theil_between": float, "unctad_diversification": float},
    "survival": {"group": str, "duration": float, "at_risk": int, "events": int, "censored": int, "survival": float, "hazard": float, "greenwood_var": float, "ci_lower": float, "ci_upper": float, "median": float},
    "complexity": {"year": int, "exporter": str, "product": str, "product_name": str, "export_value": float, "rca": float, "m": int, "diversity": int, "ubiquity": int, "eci": float, "pci": float, "density": float, "coi": float, "cog": float},
    "opportunities": {"rank": int, "product_name": str, "year": int, "country": str, "product": str, "export_value": float, "rca": float, "density": float, "distance": float, "pci": float, "cog": float, "score": float},
    "potential": {"product": str, "potential": float, "actual": float, "realised": float, "unrealised": float, "market_imports": float, "demand": float, "potential_share": float},
    "end_use": {"year": int, "reporter": str, "end_use": str, "label": str, "value_usd": float, "share": float},
    "market_fit": {"exporter": str, "province": str, "year": int, "partner": str, "partner_name": str, "exports": float, "export_share": float, "partner_imports": float, "world_share": float, "intensity": float, "complementarity": float},
    "targets": {"id": str, "parent": str, "title": str, "metric": str, "calendar": str, "baseline_year": int, "baseline_value": float, "target_value": float, "deadline_year": int, "as_of_year": int, "actual": float, "actual_estimate": bool, "gap": float, "progress": float, "required_growth": float, "trend_growth": float, "projection": float, "projection_method": str, "calendar_method": str, "status": str, "status_label": str, "reason": str},
    "actions": {"id": int, "group": str, "province": str, "title": str, "owner": str, "deadline": date, "deadline_jalali": str, "status": str, "target_id": str, "indicator": str, "note": str, "completed_on": date, "version": int},
    "meetings": {"id": int, "group": str, "province": str, "date": date, "date_jalali": str, "title": str, "attendees": int, "decisions": str}
}


def row_model(name: str) -> type[BaseModel]:
    """The pydantic model of one row of table ``name`` (every column optional / nullable)."""
    fields = {c: (Optional[t], Field(default=None)) for c, t in COLUMNS.get(name, {}).items()}
    title = "".join(p.capitalize() for p in name.split("_")) + "Row"
    return create_model(title, __config__=ConfigDict(extra="allow"), **fields)


def page_model(spec: TableSpec) -> type[BaseModel]:
    """The response model of one page of ``spec``'s table: ``table, total, limit, offset, columns, items``."""
    title = "".join(p.capitalize() for p in spec.name.split("_")) + "Page"
    return create_model(title, __doc__=f"One page of table {spec.name}.",
                        table=(str, ...), total=(int, Field(description="rows after filtering, before pagination")),
                        limit=(int, ...), offset=(int, ...), columns=(list[str], ...),
                        items=(list[row_model(spec.name)], ...),
                        meta=(Meta | None, Field(None, description="what the rows stand on: dataset, coverage, "
                                                 "warnings (tradepulse.meta)")))


class Meta(BaseModel):
    """Provenance of a table: the dataset it was computed from, its coverage and warnings."""

    dataset: str | None = None
    coverage: dict[str, Any] = {}
    warnings: list[str] = []
    considered: list[str] = []
