"""The canonical trade data model (see docs/data-model.md).

Every reader turns its source into rows of ``FLOWS`` (goods) or ``SERVICES``; the warehouse stores them
in tables of the same names.  Column order here is the storage order.
"""

from __future__ import annotations

#: Goods flows.  ``partner`` is an ISO3 code or ``WLD`` for "all partners" (world totals).
#: RULE: rows with partner = WLD are the reporter's totals, stored beside bilateral rows when a source
#: gives totals (world panels, Comtrade W00).  Never sum WLD rows together with bilateral rows: filter
#: ``partner == WLD`` for totals or ``partner != WLD`` for bilateral work.
#: Rows with ``province`` set come from national customs data and are the sub-national split of the
#: reporter's bilateral flows (the national bilateral value is their sum).
#: ``product == "TOTAL"`` marks all-goods totals (e.g. Comtrade cmdCode TOTAL); like WLD, never sum them
#: with product rows.  Partner codes may also be Comtrade areas kept as given (S19 = Taiwan, _X, X1, X2,
#: XX, E19, F19, O19, A59, A79): drop or keep them explicitly in market-level work.
#: ``product`` is an HS code string of 2, 4 or 6 digits, zero-padded; ``hs_revision`` names its vintage
#: (HS1992, HS1996, HS2002, HS2007, HS2012, HS2017, HS2022 or UNKNOWN).
FLOWS: dict[str, str] = {
    "year": "SMALLINT",          # Gregorian calendar year
    "month": "TINYINT",          # 1..12, NULL for annual data
    "reporter": "VARCHAR",       # ISO3 of the declaring country
    "partner": "VARCHAR",        # ISO3 of the partner, or WLD
    "flow": "VARCHAR",           # one of FLOW_KINDS
    "product": "VARCHAR",        # HS code, zero-padded, 2/4/6 digits
    "hs_revision": "VARCHAR",
    "value_usd": "DOUBLE",       # current US dollars
    "quantity": "DOUBLE",        # NULL when not reported
    "unit": "VARCHAR",           # e.g. "t", "kg", "u" — NULL when quantity is NULL
    "province": "VARCHAR",       # reporter's sub-national unit (customs data), NULL otherwise
    "source": "VARCHAR",         # baci | comtrade | customs | generic | demo ...
    "load_id": "VARCHAR",        # which ingest wrote the row (see table ``loads``)
}

#: Firm-level (exporter / importer) customs flows: the national customs transactions summed per firm, for the
#: private-sector capability indicators (axis 5: number of exporters, entry, exit, survival, concentration).
#: ``firm`` is the identifier as the source gives it (a customs code, tax id or an anonymised key) — stable
#: across years within one source; tradepulse never needs names.  Rows sum to the reporter's customs flows of
#: the same (year, month, partner, product, province) when the source covers every declarant.
FIRM_FLOWS: dict[str, str] = {
    "year": "SMALLINT",
    "month": "TINYINT",          # 1..12, NULL for annual data
    "reporter": "VARCHAR",       # ISO3 of the declaring country
    "firm": "VARCHAR",           # exporter / importer identifier
    "partner": "VARCHAR",        # ISO3 of the partner
    "flow": "VARCHAR",           # export | import | re-export | re-import
    "product": "VARCHAR",        # HS code, zero-padded, 2/4/6 digits
    "hs_revision": "VARCHAR",
    "value_usd": "DOUBLE",
    "quantity": "DOUBLE",
    "unit": "VARCHAR",
    "province": "VARCHAR",       # the firm's (or customs office's) province, reference spelling
    "source": "VARCHAR",
    "load_id": "VARCHAR",
}

#: Services trade by EBOPS 2010 code.
SERVICES: dict[str, str] = {
    "year": "SMALLINT",
    "reporter": "VARCHAR",
    "partner": "VARCHAR",
    "flow": "VARCHAR",           # export | import
    "ebops": "VARCHAR",          # EBOPS 2010 code, e.g. "SH" or "SJ22" (technical services)
    "value_usd": "DOUBLE",
    "source": "VARCHAR",
    "load_id": "VARCHAR",
}

#: Country macro data (GDP, population) by year, for PRODY/EXPY, export potential and filters.
MACRO: dict[str, str] = {
    "year": "SMALLINT",
    "iso3": "VARCHAR",
    "gdp_usd": "DOUBLE",         # current US dollars
    "population": "DOUBLE",
    "source": "VARCHAR",
    "load_id": "VARCHAR",
}

FLOW_KINDS = ("export", "import", "re-export", "re-import")
WORLD = "WLD"
HS_REVISIONS = ("HS1992", "HS1996", "HS2002", "HS2007", "HS2012", "HS2017", "HS2022", "UNKNOWN")
