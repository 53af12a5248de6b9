"""CLI: ``tradepulse indicators survival`` — export-relationship spells and Kaplan–Meier survival."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from tradepulse.cli.common import (DatasetOption, WarehouseOption, engine_options, friendly_errors, print_table,
                                   write_table)


def register(indicators_app: typer.Typer) -> None:
    """Add the survival command to the ``indicators`` command group."""

    @indicators_app.command("survival")
    @friendly_errors
    @engine_options
    def survival_cmd(
        reporter: str = typer.Option("IRN", "--reporter", "-r", help="Exporter ISO3."),
        partner: Optional[str] = typer.Option(None, help="Partner group or ISO3 code(s)."),
        product: Optional[str] = typer.Option(None, help="Product group or HS prefixes."),
        province: Optional[str] = typer.Option(None, help="Province (customs data)."),
        years: Optional[str] = typer.Option(None, help="Panel years, e.g. 2012-2023."),
        by: str = typer.Option("none", help="Group survival by: none, cohort, partner, hs2, province."),
        level: int = typer.Option(4, help="HS digits of the product in a relationship (2, 4 or 6)."),
        threshold: float = typer.Option(0.0, help="A year counts as active when value_usd > threshold."),
        merge_gaps: int = typer.Option(0, help="Merge spells separated by at most this many missing years (spells ending within this many years of the panel end are then censored)."),
        include_left_censored: bool = typer.Option(False, "--include-left-censored",
                                                   help="Keep spells already active in the first year."),
        out: Optional[Path] = typer.Option(None, "-o", "--out", help="Write the KM table (.csv/.parquet/.xlsx)."),
        spells_out: Optional[Path] = typer.Option(None, help="Write the spells table too."),
        warehouse: Optional[Path] = WarehouseOption,
        dataset: Optional[str] = DatasetOption,
    ) -> None:
        """Kaplan–Meier survival of export relationships (reporter × partner × HS product)."""
        from tradepulse.errors import UnknownNameError
        from tradepulse.indicators import survival as sv
        from tradepulse.indicators.inputs import use_dataset
        from tradepulse.meta import attach, meta_of
        from tradepulse.warehouse import Warehouse

        if by not in sv.BY_CHOICES:
            raise UnknownNameError("grouping", by, list(sv.BY_CHOICES))
        with Warehouse(warehouse, read_only=True) as wh, use_dataset(dataset):
            spells = sv.export_spells(wh, reporter=reporter, partner=partner, product=product,
                                      province=province, years=years, level=level, threshold=threshold,
                                      merge_gaps=merge_gaps, include_left_censored=include_left_censored,
                                      by_province=(by == "province"))
        group = None if by == "none" else by
        table = sv.kaplan_meier(spells, by=group)
        summ = attach(sv.summary(spells, by=group), meta_of(spells))
        cols = ([group] if group else []) + ["spells", "median_duration", "survival_1y", "survival_4y",
                                             "hazard_first_year", "censored_share"]
        print_table(summ, f"Export survival of {reporter} (HS{level}, {len(spells):,} spells)", cols,
                    lambda _c, v: f"{v:.3f}" if isinstance(v, float) else str(v))
        write_table(table, out)
        write_table(spells, spells_out)
