"""HTML pages of the dashboard (Jinja2 templates, English / Persian), one module per page.

Every indicator page is a list of *sections* (:mod:`.sections`: a table and/or a chart, or an honest "not
available yet" / "no data" note); tables show their first rows with links to the full CSV / Excel download
and the JSON API.  Shared rendering is in :mod:`.render`, the message tables in :mod:`.labels`.

This package imports nothing from :mod:`tradepulse.web.app`; the app includes :data:`router`.
"""

from __future__ import annotations

from fastapi import APIRouter

from tradepulse.web.pages import (
    auth,
    briefs,
    groups,
    markets,
    overview,
    partner,
    product,
    products,
    provinces,
    site,
    targets,
    users,
)
from tradepulse.web.pages.labels import (
    COLUMN_LABELS,
    METRIC_LABELS,
    MONEY,
    NAV,
    PAGE_TITLES,
    ROLE_LABELS,
    STATUS_LABELS,
    VALUE_LABELS,
)
from tradepulse.web.pages.render import (
    TEMPLATES,
    error_page,
    fmt_of,
    lang_of,
    province_label,
    province_labels,
    render,
    role_label,
    status_label,
)
from tradepulse.web.pages.sections import (
    Section,
    fmt_cell,
    frame_section,
    page,
    params_of,
)

router = APIRouter(include_in_schema=False)
for _module in (overview, product, partner, products, markets, provinces, targets, site, auth, groups, users, briefs):
    router.include_router(_module.router)

__all__ = ["COLUMN_LABELS", "METRIC_LABELS", "MONEY", "NAV", "PAGE_TITLES", "ROLE_LABELS", "STATUS_LABELS",
           "TEMPLATES", "VALUE_LABELS", "Section", "error_page", "fmt_cell", "fmt_of", "frame_section", "lang_of",
           "page", "params_of", "province_label", "province_labels", "render", "role_label", "router",
           "status_label"]
