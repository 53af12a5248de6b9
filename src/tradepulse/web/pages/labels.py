"""Message tables of the dashboard (gettext ``N_`` / ``NC_`` markers, extracted by Babel): navigation,
column headers, status / value / metric / role labels, and the money columns."""

from __future__ import annotations

from tradepulse import i18n
from tradepulse.i18n import N_, NC_

#: (key, URL, label) of the navigation; the key also names the page (cache key, ``data-nav``).
NAV = (("overview", "/", N_("Overview")), ("products", "/products", N_("Products")),
       ("markets", "/markets", N_("Markets")), ("provinces", "/provinces", N_("Provinces")),
       ("targets", "/targets", N_("Targets")), ("groups", "/groups", N_("Working groups")),
       ("briefs", "/briefs", N_("Briefs")), ("datasets", "/datasets", N_("Datasets")))
PAGE_TITLES = {key: label for key, _href, label in NAV}
PAGE_TITLES.update(product=N_("Product"), partner=N_("Trade partner"))   # titled by their code at run time

#: Column headers (gettext messages); other columns are shown by their name.
COLUMN_LABELS: dict[str, i18n.Message] = {
    "year": N_("Year"), "partner": N_("ISO3 code"), "partner_name": NC_("dashboard", "Partner"),
    "product": N_("Product"), "product_name": N_("Title"), "province": N_("Province"), "exports": N_("Exports"),
    "imports": N_("Imports"), "non_oil_exports": N_("Non-oil exports"), "non_oil_imports": N_("Non-oil imports"),
    "balance": N_("Balance"), "non_oil_balance": N_("Non-oil balance"), "export_share": N_("Share"),
    "status": N_("Status"), "exports_growth": N_("Growth"), "id": N_("ID"), "target_id": N_("ID"),
    "title": N_("Title"), "progress": N_("Progress"), "actual": NC_("dashboard", "Actual"), "target": N_("Target"),
    "dimension": N_("Dimension"), "rank": N_("Rank"), "potential": N_("Export potential"),
    "duration": N_("Duration (years)"), "survival": N_("Survival S(t)"), "complementarity": N_("Complementarity"),
    "intensity": N_("Intensity"), "label": N_("Class"),
    "rca": NC_("dashboard", "RCA"), "density": NC_("dashboard", "Density"), "pci": NC_("dashboard", "PCI"),
    "eci": N_("ECI"), "cog": N_("COG"), "score": N_("Score"), "export_value": N_("Export value"),
    "value_usd": N_("Value"), "hhi": N_("HHI"), "theil": N_("Theil"), "n_active": N_("Active items"),
    "realised": N_("Realised"), "unrealised": N_("Unrealised"), "baseline_value": N_("Baseline"),
    "target_value": N_("Target"), "deadline_year": N_("Deadline"), "as_of_year": N_("As of"),
    "reason": N_("Reason"), "partner_imports": N_("Partner imports"),
    "world_exports": N_("World exports"), "world_imports": N_("World imports"),
    "focus_exports": N_("Focus country's exports"), "focus_share": N_("Focus country's share"),
    # diversification (tradepulse.indicators.diversification)
    "total_value": N_("Total value"), "n_universe": N_("Items in the universe"),
    "n_above": N_("Items above the threshold"), "n_rca": N_("Items with RCA ≥ 1"), "hhi_norm": N_("Normalised HHI"),
    "theil_within": N_("Theil within groups"), "theil_between": N_("Theil between groups"),
    "unctad_diversification": N_("UNCTAD diversification index"),
    "unctad_concentration": N_("UNCTAD concentration index"),
    "axis": N_("Roadmap axis"), "probability": N_("Probability of reaching the target"),
    # Kaplan–Meier survival (tradepulse.indicators.survival)
    "group": N_("Group"), "at_risk": N_("At risk"), "events": N_("Ended"), "censored": N_("Censored"),
    "hazard": N_("Hazard"), "greenwood_var": N_("Greenwood variance"), "ci_lower": N_("95% CI lower"),
    "ci_upper": N_("95% CI upper"), "median": N_("Median survival (years)"),
    # export potential (tradepulse.indicators.potential.by_product)
    "market_imports": N_("Market imports"), "demand": N_("Projected demand"),
    "potential_share": N_("Share of total potential"),
    # exports by end use, balance extras
    "end_use": N_("End use"), "share": N_("Share"), "coverage": N_("Export/import coverage"),
    "oil_exports": N_("Oil exports"), "oil_imports": N_("Oil imports"), "imports_growth": N_("Imports growth"),
    "balance_change": N_("Change in balance"),
    # exporters (tradepulse.indicators.firms)
    "n_exporters": N_("Exporters"), "mean_exports": N_("Mean exports per exporter"),
    "top5_share": N_("Share of the largest 5 percent of exporters"), "entry_rate": N_("Entry rate"),
    "exit_rate": N_("Exit rate"), "entrant_survival": N_("Entrants still exporting a year later"),
    "mean_products": N_("Products per exporter"), "mean_markets": N_("Markets per exporter")}
#: Action-item and target status values (as stored) → their label.
STATUS_LABELS = {"open": N_("open"), "in_progress": N_("in progress"), "done": N_("done"),
                 "cancelled": N_("cancelled"), "on-track": N_("on track"), "at-risk": N_("at risk"),
                 "off-track": N_("off track"), "no-data": N_("no data"),
                 "no-recent-data": N_("no recent data")}
#: Coded values shown in tables, by column: stored value → label (the stored value stays in downloads / API).
VALUE_LABELS: dict[str, dict[str, i18n.Message]] = {
    "dimension": {"products": N_("products"), "markets": N_("markets")},
    "axis": {"trade": N_("trade values"), "balance": N_("non-oil trade balance"),
             "survival": N_("durability of exports"), "diversification": N_("diversity of goods and markets"),
             "complexity": N_("complexity"), "firms": N_("private-sector capability")},
    "group": {"all": N_("all relationships"), "neighbours15": N_("15 neighbours"), "other": N_("other partners")},
    "end_use": {"capital": N_("Capital goods"), "intermediate": N_("Intermediate goods"),
                "consumption": N_("Consumption goods"), "mixed": N_("Mixed / not classified by end use")},
}
#: Roadmap metrics (``tradepulse.roadmap.model.METRICS``) → axis label of the target charts.
METRIC_LABELS = {"exports": N_("Exports"), "imports": N_("Imports"), "total_trade": N_("Total trade"),
                 "balance": N_("Balance"), "non_oil_balance": N_("Non-oil balance"),
                 "market_share": N_("Market share"), "n_products": N_("Number of products"),
                 "n_markets": N_("Number of markets"), "import_saving": N_("Import saving"),
                 "survival_1y": N_("First-year survival of new export relationships"),
                 "product_hhi": N_("Product concentration (HHI)"), "market_hhi": N_("Market concentration (HHI)"),
                 "n_markets_above": N_("Markets above 1 million USD"),
                 "n_new_rca": N_("Products with new RCA ≥ 1"), "eci_rank": N_("ECI rank"),
                 "n_exporters": N_("Active exporters")}
#: Roadmap metrics measured in US dollars (the others are ratios, ranks or counts).
MONEY_METRICS = {"exports", "imports", "total_trade", "balance", "non_oil_balance", "import_saving"}
#: User roles (``tradepulse.groups.models.ROLES``) → label; the stored role is what forms send back.
ROLE_LABELS = {"admin": N_("administrator"), "secretary": N_("secretary"), "viewer": N_("viewer")}
#: Columns holding US dollar amounts (shown compactly: $1.23 bn).
MONEY = {"exports", "imports", "balance", "oil_exports", "oil_imports", "non_oil_exports", "non_oil_imports",
         "non_oil_balance", "balance_change", "total_value", "export_value", "value_usd", "potential",
         "mean_exports",
         "partner_imports",
         "realised", "unrealised", "exports_to_market", "supply", "demand", "actual", "market_imports",
         "market_imports_prev", "world_exports", "world_imports", "focus_exports"}


