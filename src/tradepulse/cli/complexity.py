"""CLI commands: ``complexity``, ``proximity`` and ``opportunities`` (economic complexity engine)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Optional

import typer

from tradepulse.cli.common import (
    WarehouseOption,
    console,
    engine_options,
    friendly_errors,
    print_warnings,
    write_table,
)

_INPUT = typer.Argument(None, help="Exports file (.parquet or .csv), one row per (year, exporter, product). "
                        "Omit to read the warehouse (world-panel export rows, else summed bilateral rows).")
_EXPORTER = typer.Option("exporter", "--exporter", help="Exporter column.")
_PRODUCT = typer.Option("product", "--product", help="Product column.")
_VALUE = typer.Option("export_value", "--value", help="Export value column.")
_YEAR = typer.Option(None, "--year", help="Year column (default: 'year' if present, else one period).")
_DIGITS = typer.Option(None, "--digits", help="Warehouse input: truncate HS codes to this many digits.")
_THRESHOLD = typer.Option(1.0, "--threshold", help="M = 1 when RCA >= threshold.")
_CONVENTION = typer.Option("py", "--convention",
                           help="py (py-ecomplexity 0.5.3: diagonal 1, ddof 0) or stata (diagonal 0, Stata sd).")
_MISSING = typer.Option("error", "--missing", help="Missing values: error or zero.")
_DUPLICATES = typer.Option("error", "--duplicates", help="Duplicated keys: error or sum.")


def _load(input_path: Optional[Path], exporter: str, product: str, value: str, year: Optional[str],
          warehouse: Optional[Path], digits: Optional[int]):
    """Return (frame, exporter, product, value, year) from a file or the warehouse."""
    import pandas as pd

    from tradepulse.errors import InputError

    if input_path is None:
        from tradepulse.indicators.complexity import warehouse_exports
        from tradepulse.warehouse import Warehouse
        with Warehouse(warehouse, read_only=True) as wh:
            return warehouse_exports(wh, digits=digits), "exporter", "product", "export_value", "year"
    if not input_path.exists():
        raise InputError("no such file", file=str(input_path))
    suffix = input_path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(input_path)
        elif suffix in (".csv", ".txt"):
            # labels as categoricals: exact codes (leading zeros kept) at a fraction of the memory
            frame = pd.read_csv(input_path, dtype={exporter: "category", product: "category"},
                                low_memory=False)
        else:
            raise InputError("use a .parquet or .csv file", file=str(input_path))
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read: {exc}", file=str(input_path)) from None
    return frame, exporter, product, value, year


def _warehouse_years(warehouse: Path | None, digits: int | None, in_year: int | None):
    """Yield ``(year, frame)`` of the warehouse's exports for ``in_year``, or (default) for the latest year
    with rows then earlier ones on demand — one year read at a time (``proximity`` and ``opportunities``
    use one year: reading the others was all of their cost on a many-year warehouse)."""
    from tradepulse.errors import NoDataError
    from tradepulse.indicators.complexity import (
        warehouse_export_years,
        warehouse_exports,
    )
    from tradepulse.warehouse import Warehouse

    with Warehouse(warehouse, read_only=True) as wh:
        src = warehouse_export_years(wh, digits=digits)
        if not src.years:   # no recorded coverage: one read of everything
            frame = warehouse_exports(wh, digits=digits, dataset=src.dataset)
            years = sorted(int(y) for y in frame["year"].unique())
            pick = years[-1] if in_year is None else in_year
            if pick not in years:
                raise NoDataError(f"no data for year {pick}; years are {years}")
            yield pick, frame[frame["year"].to_numpy() == pick]
            return
        found = False
        for y in ([in_year] if in_year is not None and in_year in src.years else
                  [] if in_year is not None else reversed(src.years)):
            frame = src.read([y])
            if frame is not None:
                found = True
                yield y, frame
                del frame
        if not found:
            if in_year is not None:
                raise NoDataError(f"no data for year {in_year}; years are {src.years}")
            warehouse_exports(wh, digits=digits, dataset=src.dataset)   # raises its own "no rows" error


def _gdp_table(path: Path, country: str, column: str):
    """GDP per capita file → frame ``iso3, [year], gdp_pc`` (a missing column is a one-line error naming the
    file, the column and the columns present)."""
    from tradepulse.errors import InputError

    frame, *_ = _load(path, country, "product", column, None, None, None)
    for col, option in ((country, "--gdp-pc-country"), (column, "--gdp-pc-column")):
        if col not in frame.columns:
            raise InputError(f"no column {col!r} (set {option}); the file has {list(frame.columns)}",
                             file=str(path), column=col)
    keep = {country: "iso3", column: "gdp_pc", **({"year": "year"} if "year" in frame.columns else {})}
    return frame[list(keep)].rename(columns=keep)


def _progress():
    from tradepulse.cli.complexity_file import _progress as progress

    return progress()


def _run_complexity(frame, exporter, product, value, year, **options):
    from tradepulse.indicators.complexity import complexity

    with _progress() as bar:
        task = bar.add_task("computing", total=None)

        def tick(i, n, y):
            bar.update(task, completed=i, total=n, description=f"year {y}")

        return complexity(frame, exporter, product, value, year, progress=tick, **options)


def _stream_complexity(warehouse: Path | None, digits: int | None, out: Path, options: dict) -> None:
    """``complexity`` of the warehouse, one year at a time (:class:`ComplexityByYear`): read a year's
    exports, compute it, append it to ``out`` (:class:`TableWriter`), release it — peak memory is one
    year's, whatever the number of years stored.  On Spark the years are computed in Spark tasks and
    fetched one at a time (:func:`~tradepulse.indicators.complexity_spark.stream_years`)."""
    from types import SimpleNamespace

    from tradepulse.cli.common import TableWriter
    from tradepulse.indicators.complexity import (
        ComplexityByYear,
        warehouse_export_years,
    )
    from tradepulse.indicators.complexity_spark import stream_years
    from tradepulse.warehouse import Warehouse

    from tradepulse.cli.complexity_file import DICTIONARY_COLUMNS

    # written in a worker thread while the next year computes; dictionary pages only where values repeat
    # (as the Arrow path of ``complexity FILE``: on the ≈ all-distinct float columns they cost time and space)
    writer = TableWriter(out, background=True, dictionary=DICTIONARY_COLUMNS)
    exporters: set[str] = set()
    products: set[str] = set()
    years: list[int] = []
    with Warehouse(warehouse, read_only=True) as wh, _progress() as bar:
        task = bar.add_task("computing", total=None)

        def tick(i, n, y):
            bar.update(task, completed=i, total=n, description=f"year {y}")

        stream = ComplexityByYear(warehouse_export_years(wh, digits=digits), progress=tick, **options)
        try:
            for part in stream_years(stream):   # on Spark: a Spark task per year
                writer.write(part)
                for seen, col in ((exporters, part["exporter"]), (products, part["product"])):
                    seen.update(map(str, col.cat.categories if hasattr(col, "cat") else col.unique()))
                years.extend(int(v) for v in part["year"].unique())
                del part
            writer.close(stream.meta)
        except BaseException:
            writer.abort()
            raise
    print_warnings(SimpleNamespace(meta=stream.meta))
    console.print(f"{writer.rows:,} rows ({len(exporters)} exporters × {len(products)} products, "
                  f"years {min(years)}–{max(years)}) → {out}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to app."""

    @app.command("complexity")
    @friendly_errors
    @engine_options
    def complexity_cmd(
        input_path: Optional[Path] = _INPUT,
        exporter: str = _EXPORTER, product: str = _PRODUCT, value: str = _VALUE, year: Optional[str] = _YEAR,
        out: Path = typer.Option(..., "-o", "--out", help="Output file (.parquet, .csv or .xlsx)."),
        threshold: float = _THRESHOLD, convention: str = _CONVENTION,
        diagonal: Optional[float] = typer.Option(None, "--diagonal",
                                                 help="Proximity diagonal (default 1 for py, 0 for stata)."),
        cog_form: str = typer.Option("ecomplexity", "--cog-form", help="COI/COG form: ecomplexity or atlas."),
        continuous: bool = typer.Option(False, "--continuous", help="Correlation proximity and RCA density."),
        asymmetric: bool = typer.Option(False, "--asymmetric", help="Asymmetric proximity C/k_p (py-ecomplexity)."),
        rolling: int = typer.Option(1, "--rolling", help="Average values over this many years first."),
        min_exports: Optional[float] = typer.Option(None, "--min-exports",
                                                    help="Keep exporters with total exports >= this (USD)."),
        min_product_exports: Optional[float] = typer.Option(None, "--min-product-exports",
                                                            help="Keep products with world exports >= this."),
        exclude_products: Optional[str] = typer.Option(None, "--exclude-products",
                                                       help="Comma-separated product code prefixes to drop."),
        gdp_pc: Optional[Path] = typer.Option(None, "--gdp-pc", help="CSV/Parquet of GDP per capita by country "
                                              "(and optionally year) → adds prody and expy columns."),
        gdp_pc_column: str = typer.Option("gdp_pc", "--gdp-pc-column", help="GDP per capita column of --gdp-pc."),
        gdp_pc_country: str = typer.Option("iso3", "--gdp-pc-country",
                                           help="Country (ISO3) column of --gdp-pc; legacy codes such as ROM "
                                           "are harmonised."),
        prody: bool = typer.Option(False, "--prody", help="Add prody/expy from the warehouse macro table."),
        missing: str = _MISSING, duplicates: str = _DUPLICATES, digits: Optional[int] = _DIGITS,
        warehouse: Optional[Path] = WarehouseOption,
    ) -> None:
        """RCA, M, diversity, ubiquity, ECI, PCI, density, COI, COG: one row per (year, exporter, product)."""
        gdp = None
        if gdp_pc is not None:
            gdp = _gdp_table(gdp_pc, gdp_pc_country, gdp_pc_column)
        elif prody:
            from tradepulse.indicators.complexity import warehouse_gdp_pc
            from tradepulse.warehouse import Warehouse
            with Warehouse(warehouse, read_only=True) as wh:
                gdp = warehouse_gdp_pc(wh)
        options = {"threshold": threshold, "convention": convention, "diagonal": diagonal, "cog_form": cog_form,
                   "continuous": continuous, "asymmetric": asymmetric, "rolling": rolling, "missing": missing,
                   "duplicates": duplicates, "gdp_pc": gdp, "min_exports": min_exports,
                   "min_product_exports": min_product_exports,
                   "exclude_products": [c.strip() for c in exclude_products.split(",") if c.strip()]
                   if exclude_products else None}
        if input_path is None:   # the warehouse: year by year, each year written and released
            _stream_complexity(warehouse, digits, out, options)
            return
        from tradepulse.cli.complexity_file import arrow_complexity, arrow_eligible

        if arrow_eligible(input_path, out, options) and arrow_complexity(input_path, exporter, product, value, year,
                                                                         out, options):
            return
        frame, e, p, v, y = _load(input_path, exporter, product, value, year, warehouse, digits)
        res = _run_complexity(frame, e, p, v, y, **options)
        write_table(res, out)
        print_warnings(res)
        years = sorted(res["year"].unique())
        span = "one period" if y is None and years == [0] else f"years {years[0]}–{years[-1]}"
        console.print(f"{len(res):,} rows ({res['exporter'].nunique()} exporters × {res['product'].nunique()} "
                      f"products, {span}) → {out}")

    @app.command("proximity")
    @friendly_errors
    @engine_options
    def proximity_cmd(
        input_path: Optional[Path] = _INPUT,
        exporter: str = _EXPORTER, product: str = _PRODUCT, value: str = _VALUE, year: Optional[str] = _YEAR,
        out: Path = typer.Option(..., "-o", "--out", help="Output file: product_1, product_2, proximity."),
        in_year: Optional[int] = typer.Option(None, "--in-year", help="Which year (default: the latest)."),
        threshold: float = _THRESHOLD, convention: str = _CONVENTION,
        diagonal: Optional[float] = typer.Option(None, "--diagonal", help="Proximity diagonal value."),
        min_proximity: Optional[float] = typer.Option(None, "--min-proximity", help="Drop pairs below this."),
        no_diagonal: bool = typer.Option(False, "--no-diagonal", help="Leave out product_1 = product_2 rows."),
        asymmetric: bool = typer.Option(False, "--asymmetric", help="Asymmetric proximity C/k_product_1."),
        missing: str = _MISSING, duplicates: str = _DUPLICATES, digits: Optional[int] = _DIGITS,
        warehouse: Optional[Path] = WarehouseOption,
    ) -> None:
        """Product proximity (minimum of conditional probabilities of RCA ≥ 1) for one year."""
        from tradepulse.errors import NoDataError
        from tradepulse.indicators.complexity import _prepare, proximity

        if input_path is None:   # the warehouse: read only the year used
            with contextlib.closing(_warehouse_years(warehouse, digits, in_year)) as years_read:
                _, frame = next(years_read)
            e, p, v, y = "exporter", "product", "export_value", "year"
        else:
            frame, e, p, v, y = _load(input_path, exporter, product, value, year, warehouse, digits)
        df = _prepare(frame, e, p, v, y, missing=missing, duplicates=duplicates)
        years = sorted(df["year"].unique())
        pick = years[-1] if in_year is None else in_year
        if pick not in years:
            raise NoDataError(f"no data for year {pick}; years are {years}")
        res = proximity(df[df["year"] == pick], "exporter", "product", "value", "year", threshold=threshold,
                        convention=convention, diagonal=diagonal, min_proximity=min_proximity,
                        include_diagonal=not no_diagonal, duplicates="sum", asymmetric=asymmetric)
        write_table(res[["product_1", "product_2", "proximity"]], out)
        console.print(f"{len(res):,} product pairs for {pick} → {out}")

    @app.command("opportunities")
    @friendly_errors
    @engine_options
    def opportunities_cmd(
        input_path: Optional[Path] = _INPUT,
        country: Optional[str] = typer.Option(None, "--country", help="Exporter (default $TRADEPULSE_FOCUS or IRN)."),
        strategy: str = typer.Option("balanced", "--strategy",
                                     help="low_hanging, balanced or long_jumps (Atlas strategies)."),
        top: int = typer.Option(25, "--top", help="Rows to print."),
        in_year: Optional[int] = typer.Option(None, "--in-year", help="Which year (default: the latest)."),
        exporter: str = _EXPORTER, product: str = _PRODUCT, value: str = _VALUE, year: Optional[str] = _YEAR,
        out: Optional[Path] = typer.Option(None, "-o", "--out", help="Write the whole ranked list."),
        threshold: float = _THRESHOLD, convention: str = _CONVENTION,
        min_population: float = typer.Option(1e6, "--min-population",
                                             help="Atlas sample: exporters with population >= this (0: off)."),
        population: Optional[Path] = typer.Option(None, "--population", help="CSV/Parquet with iso3, year "
                                                  "(optional) and population (default: the warehouse macro table)."),
        min_exports: float = typer.Option(1e9, "--min-exports",
                                          help="Atlas sample: exporters with total exports >= this USD (0: off)."),
        exclude_products: str = typer.Option("99", "--exclude-products", help="Atlas sample: product code "
                                             "prefixes left out, comma-separated (99 = 9999 not specified; "
                                             "'none': off)."),
        missing: str = _MISSING, duplicates: str = _DUPLICATES, digits: Optional[int] = _DIGITS,
        warehouse: Optional[Path] = WarehouseOption,
    ) -> None:
        """Rank the products a country does not yet export competitively (density, PCI, COG), on the Atlas
        sample (population >= 1 M, exports >= USD 1 bn, HS 99 left out; each filter can be switched off)."""
        from rich.table import Table

        from tradepulse import reference
        from tradepulse.config import DEFAULT_FOCUS
        from tradepulse.indicators.complexity import (
            EmptySampleError,
            _resolve_strategy,
            opportunities,
        )

        _resolve_strategy(strategy)   # fail fast on an unknown strategy
        country = country or DEFAULT_FOCUS
        pop = None
        if population is not None:
            pop, *_ = _load(population, "iso3", "product", "population", None, None, None)
        elif input_path is None and min_population:
            from tradepulse.indicators.complexity import warehouse_population
            from tradepulse.warehouse import Warehouse
            with Warehouse(warehouse, read_only=True) as wh:
                pop = warehouse_population(wh)
        excl = [c.strip() for c in exclude_products.split(",") if c.strip() and c.strip().lower() != "none"]

        def rank(frame, e, p, v, y, bar, task):
            return opportunities(frame, country, strategy, year=in_year, exporter=e, product=p, value=v,
                                 year_column=y, threshold=threshold, convention=convention, missing=missing,
                                 duplicates=duplicates, min_population=min_population, population=pop,
                                 min_exports=min_exports, exclude_products=excl,
                                 progress=lambda i, n, yr: bar.update(task, completed=i, total=n,
                                                                      description=f"year {yr}"))

        with _progress() as bar:
            task = bar.add_task("computing", total=None)
            if input_path is not None:
                frame, e, p, v, y = _load(input_path, exporter, product, value, year, warehouse, digits)
                opp = rank(frame, e, p, v, y, bar, task)
            else:   # the warehouse: only the year ranked (the latest whose Atlas sample is not empty)
                y, opp, empty = "year", None, None
                with contextlib.closing(_warehouse_years(warehouse, digits, in_year)) as years_read:
                    for _, frame in years_read:
                        try:
                            opp = rank(frame, "exporter", "product", "export_value", "year", bar, task)
                            break
                        except EmptySampleError as exc:
                            empty = empty or exc
                if opp is None:
                    raise empty
        write_table(opp, out)
        when = "" if y is None and opp["year"].iloc[0] == 0 else f"{opp['year'].iloc[0]}, "
        view = Table(title=f"Opportunities for {country} ({when}strategy {strategy})")
        for col in ("rank", "product", "name", "rca", "density", "pci", "cog", "score"):
            view.add_column(col, justify="left" if col == "name" else "right")
        shown = opp.head(top)
        names = reference.product_names(shown["product"])
        for r, name in zip(shown.itertuples(index=False), names):
            view.add_row(str(r.rank), str(r.product), name, f"{r.rca:.2f}", f"{r.density:.3f}", f"{r.pci:.2f}",
                         f"{r.cog:.3f}", f"{r.score:.3f}")
        console.print(view)
        print_warnings(opp)
        if out is not None:
            console.print(f"{len(opp):,} ranked products → {out}")
