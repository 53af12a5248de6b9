"""CLI: the ``tradepulse indicators`` group — ``balance``, ``diversification``, ``technology``, ``firms``
(+ ``survival``).

Every command reads the warehouse (read-only), selects with the shared selection rules (unknown groups,
provinces not in the data and years without data exit with code 2 and one line), prints a Rich table and
writes the full result with ``--out`` (.csv, .parquet or .xlsx).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer

from tradepulse.cli.common import (DatasetOption, JsonOption, WarehouseOption, cell_format, console, engine_options,
                                   friendly_errors, json_result, print_table, write_table)
from tradepulse.config import DEFAULT_FOCUS


def use_dataset(name):
    """:func:`tradepulse.indicators.inputs.use_dataset`, imported when a command runs (it imports pandas,
    which ``tradepulse --help`` must not pay for)."""
    from tradepulse.indicators.inputs import use_dataset as _use
    return _use(name)


indicators_app = typer.Typer(name="indicators", no_args_is_help=True,
                             help="Trade-structure indicators: balance, diversification, technology, survival, "
                             "firms (exporters).")

_REPORTER = typer.Option(DEFAULT_FOCUS, "--reporter", "-r", help="Reporter ISO3 code(s), comma-separated.")
_PARTNER = typer.Option(None, "--partner", help="Partner group name(s) or ISO3 code(s), e.g. neighbours15,CHN.")
_PRODUCT = typer.Option(None, "--product", help="Product group name(s) or HS prefixes, e.g. carpets or 5701.")
_PROVINCE = typer.Option(None, "--province", help="Province name(s), any spelling of the province list "
                                                  "(Tehran, تهران, IR-23) or as stored in the customs data.")
_YEARS = typer.Option(None, "--years", "-y", help="Years: 2020, 2014-2023 or 2014,2018.")
_OUT = typer.Option(None, "--out", "-o", help="Write the full table (.csv, .parquet or .xlsx).")
_GROUPS_FILE = typer.Option(None, "--groups-file", help="Country-group TOML file (default: shipped groups).")
_PGROUPS_FILE = typer.Option(None, "--product-groups-file", help="Product-group TOML file.")


@contextmanager
def _working(what: str):
    """A transient Rich progress line while the warehouse is queried."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn(f"[bold]indicators[/] {what}"), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        bar.add_task(what, total=None)
        yield


MONEY = ("exports", "imports", "balance", "non_oil_exports", "non_oil_imports", "non_oil_balance",
         "total_value", "export_value", "value_usd")
PERCENT = ("share", "exports_growth", "imports_growth", "non_oil_exports_growth", "non_oil_imports_growth",
           "extensive_margin", "intensive_margin", "overall_share")
DIV_LABELS = {"unctad_concentration": "H unct", "unctad_diversification": "S unct", "total_value": "value",
              "n_products_unctad": "products", "hhi_norm": "HHI norm", "cdp_concentration": "CDP Theil",
              "cdp_concentration_norm": "CDP / ln N", "theil_products": "T prod.", "theil_markets": "T mkts",
              "n_markets": "markets", "n_active": "n", "n_rca": "RCA≥1", "n_above": "n ≥ thr.", "hhi": "HHI",
              "theil": "Theil", "theil_between": "T betw", "theil_within": "T within",
              "theil_between_groups": "T grp", "export_value": "exports"}


_fmt = cell_format(MONEY, PERCENT)


def _show(df, title: str, columns: list[str], max_rows: int = 40, labels: dict[str, str] | None = None) -> None:
    """Print the first rows of ``df`` (money in million USD, growth and shares in %)."""
    cols = [c for c in columns if not (c == "reporter" and c in df.columns and df[c].nunique() == 1)]
    print_table(df, title + " — values in million USD", cols, _fmt, max_rows=max_rows,  # one reporter: in title
                labels=labels)


def _paths(p: Optional[Path]) -> Optional[str]:
    return str(p) if p is not None else None


@indicators_app.command("balance")
@friendly_errors
@engine_options
def balance_cmd(
    reporter: str = _REPORTER, partner: Optional[str] = _PARTNER, product: Optional[str] = _PRODUCT,
    province: Optional[str] = _PROVINCE, years: Optional[str] = _YEARS,
    by: str = typer.Option("total", "--by", help="Breakdown: total, partner, partner_group, product, "
                           "product_group, province."),
    groups: Optional[str] = typer.Option(None, "--groups", help="Groups for --by partner_group / product_group "
                                         "(default: all)."),
    oil: str = typer.Option("narrow", "--oil", help="Oil set: narrow (2709-2711), chapter27, none, or HS "
                            "prefixes / a product group."),
    out: Optional[Path] = _OUT, groups_file: Optional[Path] = _GROUPS_FILE,
    product_groups_file: Optional[Path] = _PGROUPS_FILE, warehouse: Optional[Path] = WarehouseOption,
    dataset: Optional[str] = DatasetOption, as_json: bool = JsonOption,
) -> None:
    """Exports, imports, balance and non-oil balance with year-on-year growth."""
    from tradepulse.indicators.balance import trade_balance
    from tradepulse.warehouse import Warehouse

    with Warehouse(warehouse, read_only=True) as wh, _working("trade balance"), use_dataset(dataset):
        df = trade_balance(wh, reporter=reporter, years=years, by=by, partner=partner, product=product,
                           province=province, oil=None if oil == "none" else oil, groups=groups,
                           groups_file=_paths(groups_file), product_groups_file=_paths(product_groups_file))
    if as_json:
        typer.echo(json_result(df))
        write_table(df, out)
        return
    key = {"partner": "partner", "partner_group": "group", "product": "product", "product_group": "group",
           "province": "province"}.get(by)
    _show(df, f"Trade balance of {reporter}", ["year", "reporter"] + ([key] if key else []) +
          ["exports", "imports", "balance", "non_oil_balance", "exports_growth", "non_oil_exports_growth"])
    write_table(df, out)


@indicators_app.command("diversification")
@friendly_errors
@engine_options
def diversification_cmd(
    reporter: str = typer.Option(DEFAULT_FOCUS, "--reporter", "-r", help="Reporter ISO3 code(s), comma-separated; "
                                 "with --over hk also all (every exporter)."),
    partner: Optional[str] = _PARTNER, product: Optional[str] = _PRODUCT,
    province: Optional[str] = _PROVINCE, years: Optional[str] = _YEARS,
    over: str = typer.Option("products", "--over", help="products, markets, hk (Hummels–Klenow margins), "
                             "unctad (UNCTADstat indices on SITC Rev.3 3-digit) or cdp (UN CDP Theil over "
                             "products × markets)."),
    threshold: float = typer.Option(0.0, "--threshold", help="Count items with value ≥ this (USD)."),
    level: Optional[int] = typer.Option(None, "--level", help="Truncate HS codes to 2, 4 or 6 digits."),
    hs_groups: Optional[int] = typer.Option(None, "--theil-groups", help="Products: also split Theil between/"
                                            "within HS chapters of this many digits (e.g. 2)."),
    regions: Optional[str] = typer.Option(None, "--regions", help="Markets: also split Theil between/within "
                                          "regions: region, continent, subregion or wdi_region."),
    reference: str = typer.Option("rest", "--reference", help="HK reference: rest (of world) or world."),
    by_market: bool = typer.Option(False, "--by-market", help="HK: margins per market."),
    hk_aggregate: str = typer.Option("markets", "--hk-aggregate", help="HK: markets (per importing market, "
                                     "then a weighted geometric mean, as HK 2005) or pooled (all cells)."),
    hk_weights: str = typer.Option("logmean", "--hk-weights", help="HK markets aggregate weights: logmean "
                                   "(Sato–Vartia, HK 2005) or reference (the rest of world's export shares)."),
    out: Optional[Path] = _OUT, groups_file: Optional[Path] = _GROUPS_FILE,
    product_groups_file: Optional[Path] = _PGROUPS_FILE, warehouse: Optional[Path] = WarehouseOption,
    dataset: Optional[str] = DatasetOption, as_json: bool = JsonOption,
) -> None:
    """HHI, normalised HHI, UNCTAD concentration, counts, Theil (between + within), UNCTAD diversification;
    or UNCTADstat's indices on SITC Rev.3 (unctad), the UN CDP index (cdp) or Hummels–Klenow margins (hk)."""
    from tradepulse.errors import UnknownNameError
    from tradepulse.indicators import diversification as dv
    from tradepulse.warehouse import Warehouse

    overs = ["products", "markets", "hk", "unctad", "cdp"]
    if over not in overs:
        raise UnknownNameError("dimension", over, overs)
    every = reporter.strip().lower() == "all"
    if every and over != "hk":
        from tradepulse.errors import TradepulseError
        raise TradepulseError("--reporter all (every exporter) is for --over hk only")
    files = dict(groups_file=_paths(groups_file), product_groups_file=_paths(product_groups_file))
    with Warehouse(warehouse, read_only=True) as wh, _working(f"diversification over {over}"), \
            use_dataset(dataset):
        if over == "products":
            df = dv.product_diversification(wh, reporter=reporter, years=years, partner=partner, product=product,
                                            province=province, level=level, threshold=threshold,
                                            groups=hs_groups, **files)
        elif over == "markets":
            df = dv.market_diversification(wh, reporter=reporter, years=years, product=product, partner=partner,
                                           province=province, threshold=threshold, groups=regions, **files)
        elif over == "unctad":
            if province is not None:
                from tradepulse.errors import TradepulseError
                raise TradepulseError("UNCTAD indices are national: drop --province")
            df = dv.unctad_indices(wh, reporter=reporter, years=years, partner=partner, product=product, **files)
        else:
            if province is not None or partner is not None:
                from tradepulse.errors import TradepulseError
                raise TradepulseError(f"{'Hummels–Klenow margins' if over == 'hk' else 'The CDP index'} take "
                                      "--reporter, --product and --years only")
            if over == "cdp":
                df = dv.cdp_export_concentration(wh, reporter=reporter, years=years, level=level, **files)
            else:
                df = dv.hk_margins(wh, reporter=None if every else reporter, years=years, product=product, level=level,
                                   reference=reference, by_market=by_market, aggregate=hk_aggregate,
                                   weights=hk_weights, **files)
    if as_json:
        typer.echo(json_result(df))
        write_table(df, out)
        return
    if over == "hk":
        cols = ["year", "partner", "reporter", "n_markets", "export_value", "extensive_margin",
                "intensive_margin", "overall_share"]
    elif over == "unctad":
        cols = ["year", "reporter", "total_value", "n_products_unctad", "unctad_concentration", "hhi_norm",
                "unctad_diversification"]
    elif over == "cdp":
        cols = ["year", "reporter", "total_value", "n_cells", "cdp_concentration", "cdp_concentration_norm",
                "theil_products", "theil_markets"]
    else:
        cols = ["year", "reporter", "province", "total_value", "n_active"] + (["n_above"] if threshold > 0 else []) + \
            ["hhi", "hhi_norm", "unctad_concentration", "theil", "theil_between", "theil_between_groups",
             "unctad_diversification"]   # n_rca and theil_within (= Theil − between) are in --out
    _show(df, f"Diversification of {'every exporter' if every else reporter} over {over}", cols, labels=DIV_LABELS)
    write_table(df, out)


@indicators_app.command("technology")
@friendly_errors
@engine_options
def technology_cmd(
    reporter: str = _REPORTER, partner: Optional[str] = _PARTNER, product: Optional[str] = _PRODUCT,
    province: Optional[str] = _PROVINCE, years: Optional[str] = _YEARS,
    classes: str = typer.Option("end_use", "--classes", help="lall, end_use (BEC/SNA), bec (3-digit) or bec1."),
    lall: Optional[Path] = typer.Option(None, "--lall", help="SITC2→Lall CSV (columns sitc2, lall_code); "
                                        "required for --classes lall (not shipped: no licence)."),
    hs_sitc: Optional[Path] = typer.Option(None, "--hs-sitc", help="HS6→SITC2 CSV (hs6, sitc2[, weight]); "
                                           "default: derived from atlas-common-data conversion weights."),
    sitc: bool = typer.Option(False, "--sitc", help="Products in the warehouse are SITC Rev.2 codes."),
    hs_revision: Optional[str] = typer.Option(None, "--hs-revision", help="HS revision of the data (default: as "
                                              "stored) for the atlas conversion (Lall and BEC)."),
    split: str = typer.Option("equal", "--split", help="HS6 codes with several BEC codes: equal or first."),
    flow: str = typer.Option("export", "--flow", help="export or import."),
    out: Optional[Path] = _OUT, groups_file: Optional[Path] = _GROUPS_FILE,
    product_groups_file: Optional[Path] = _PGROUPS_FILE, warehouse: Optional[Path] = WarehouseOption,
    dataset: Optional[str] = DatasetOption, as_json: bool = JsonOption,
) -> None:
    """Shares of trade by Lall technology class or by BEC end use, over years."""
    from tradepulse.errors import InputError, UnknownNameError
    from tradepulse.indicators import technology as tc
    from tradepulse.warehouse import Warehouse

    if classes not in ("lall", "end_use", "bec", "bec1"):
        raise UnknownNameError("classification", classes, ["lall", "end_use", "bec", "bec1"])
    if classes == "lall" and lall is None:
        raise InputError("--classes lall needs --lall FILE (a SITC Rev.2 → Lall table; none is shipped "
                         "because the known copies state no licence)")
    common = dict(reporter=reporter, years=years, partner=partner, product=product, province=province,
                  flow=flow, groups_file=_paths(groups_file), product_groups_file=_paths(product_groups_file))
    with Warehouse(warehouse, read_only=True) as wh, _working(f"{classes} shares"), use_dataset(dataset):
        if classes == "lall":
            df = tc.lall_shares(wh, lall=lall, hs_sitc=hs_sitc, classification="sitc2" if sitc else "hs",
                                hs_revision=hs_revision, **common)
        else:
            df = tc.bec_shares(wh, level=classes, split=split, hs_revision=hs_revision, **common)
    if as_json:
        typer.echo(json_result(df))
        write_table(df, out)
        return
    key = {"lall": "lall_code", "end_use": "end_use", "bec": "bec", "bec1": "bec1"}[classes]
    _show(df, f"{flow.capitalize()} of {reporter} by {classes}", ["year", "reporter", "province", key, "label",
                                                                  "value_usd", "share"], max_rows=60)
    write_table(df, out)


FIRM_VIEWS = ("profile", "dynamics", "cohorts", "top")
FIRM_MONEY = ("exports", "mean_exports", "median_exports", "exports_prev", "change", "entry", "exit",
              "incumbents_change", "new_pairs", "dropped_pairs", "continuing_pairs", "value_usd")
FIRM_PERCENT = ("top1_share", "top5_share", "top25_share", "single_product_market_share", "entry_rate",
                "exit_rate", "entrant_survival", "entrants_share", "exiters_share", "survival_rate", "share",
                "cumulative_share")


FIRM_LABELS = {"n_exporters": "exporters", "mean_exports": "mean", "median_exports": "median", "hhi": "HHI",
               "top1_share": "top 1%", "top5_share": "top 5%", "top25_share": "top 25%",
               "mean_products": "products/firm", "mean_markets": "markets/firm",
               "single_product_market_share": "1 prod. 1 mkt", "entry_rate": "entry rate", "exit_rate": "exit rate",
               "entrant_survival": "entrant surv.", "incumbents_change": "incumbents Δ", "new_pairs": "new pairs",
               "dropped_pairs": "dropped pairs", "continuing_pairs": "contin. pairs", "change": "ΔX",
               "value_usd": "value", "cumulative_share": "cum. share", "n_products": "products",
               "n_markets": "markets", "survival_rate": "survival"}


#: mean and median exports per exporter are often below one million: three decimals
_fmt_firms = cell_format({**dict.fromkeys(FIRM_MONEY, 2), "mean_exports": 3, "median_exports": 3}, FIRM_PERCENT)


@indicators_app.command("firms")
@friendly_errors
@engine_options
def firms_cmd(
    view: str = typer.Argument("profile", help="profile, dynamics, cohorts or top."),
    reporter: str = typer.Option(DEFAULT_FOCUS, "--reporter", "-r", help="Reporter ISO3 code (one: firm ids "
                                 "belong to one country's customs)."),
    partner: Optional[str] = _PARTNER, product: Optional[str] = _PRODUCT,
    province: Optional[str] = typer.Option(None, "--province", help="Province name (any spelling: Tehran, "
                                           "تهران, IR-23)."),
    years: Optional[str] = _YEARS,
    by_province: bool = typer.Option(False, "--by-province", help="One row per province as well "
                                     "(profile, dynamics, cohorts)."),
    level: Optional[int] = typer.Option(None, "--level", help="Count products at 2, 4 or 6 HS digits "
                                        "(default: as stored)."),
    flow: str = typer.Option("export", "--flow", help="export (exporters) or import (importers)."),
    year: Optional[int] = typer.Option(None, "--year", help="top: the year ranked (default: the last year)."),
    n: int = typer.Option(20, "--n", help="top: how many firms."),
    out: Optional[Path] = _OUT, groups_file: Optional[Path] = _GROUPS_FILE,
    product_groups_file: Optional[Path] = _PGROUPS_FILE, warehouse: Optional[Path] = WarehouseOption,
) -> None:
    """Exporters from firm-level customs data (table firm_flows; World Bank Exporter Dynamics conventions).

    profile: number of exporters, exports per exporter, concentration (HHI, top 1/5/25 %), products and markets
    per exporter; dynamics: entry, exit, entrant survival and the firm-margin decomposition of export growth;
    cohorts: survival of each entry cohort; top: the largest exporters of a year (ids as stored).
    """
    from tradepulse.errors import TradepulseError, UnknownNameError
    from tradepulse.indicators import firms
    from tradepulse.warehouse import Warehouse

    if view not in FIRM_VIEWS:
        raise UnknownNameError("firm view", view, list(FIRM_VIEWS))
    if view == "top" and by_province:
        raise TradepulseError("top ranks firms of the whole selection; use --province to rank one province")
    common = dict(reporter=reporter, years=years, province=province, partner=partner, product=product, flow=flow,
                  level=level, groups_file=_paths(groups_file), product_groups_file=_paths(product_groups_file))
    by = "province" if by_province else None
    with Warehouse(warehouse, read_only=True) as wh, _working(f"firm {view}"):
        if view == "profile":
            df = firms.exporter_profile(wh, by=by, **common)
        elif view == "dynamics":
            df = firms.exporter_dynamics(wh, by=by, **common)
        elif view == "cohorts":
            df = firms.cohort_survival(wh, by=by, **common)
        else:
            df = firms.top_exporters(wh, year=year, n=n, **common)
    prov = ["province"] if by_province else []
    cols = {
        "profile": ["year", *prov, "n_exporters", "exports", "mean_exports", "median_exports", "hhi", "top1_share",
                    "top5_share", "top25_share", "mean_products", "mean_markets", "single_product_market_share"],
        "dynamics": ["year", *prov, "n_exporters", "entrants", "exiters", "entry_rate", "exit_rate",
                     "entrant_survival", "change", "entry", "exit", "incumbents_change", "new_pairs",
                     "dropped_pairs", "continuing_pairs"],
        "cohorts": [*prov, "cohort", "k", "year", "entrants", "survivors", "survival_rate"],
        "top": ["year", "rank", "firm", "value_usd", "share", "cumulative_share", "n_products", "n_markets",
                "years_active", "first_year"],
    }[view]
    who = "Importers" if flow == "import" else "Exporters"
    from tradepulse.reference.provinces import listed_name
    where = f", province {listed_name(province, reporter)}" if province else ""
    unit = "" if view == "cohorts" else " — values in million USD"
    print_table(df, f"{who} of {reporter}{where}: {view}{unit}", cols, _fmt_firms, max_rows=60,
                labels=FIRM_LABELS)
    write_table(df, out)


def register(app: typer.Typer) -> None:
    """Add the ``indicators`` group to ``app``."""
    app.add_typer(indicators_app, name="indicators")


# the survival engineer's command joins this group (tradepulse.cli.indicators_survival)
from tradepulse.cli import indicators_survival  # noqa: E402

indicators_survival.register(indicators_app)

# the current period (latest month, year to date, 12-month rolling: tradepulse.cli.indicators_current)
from tradepulse.cli import indicators_current

indicators_current.register(indicators_app)
