"""Economic complexity: RCA, ECI/PCI, product space (proximity, density, distance), COI/COG, PRODY/EXPY
and a ranked list of diversification opportunities for one country.

All matrix work is NumPy/SciPy on one dense country × product matrix per year (no Python loops over
countries or products; a panel is looped year by year).  Density and COG are computed without forming
the P × P proximity matrix, by prefix/suffix sums over ubiquity levels (:class:`_ByUbiquity`).  See
``docs/complexity.md`` for the derivations and ``benchmarks/complexity`` for the figures.

Conventions (defaults reproduce PyPI ``ecomplexity`` 0.5.3; ``convention="stata"`` reproduces the Stata
``ecomplexity`` package of the Harvard Growth Lab):

* **RCA** (Balassa 1965): ``RCA_cp = (x_cp / X_c) / (X_p / X)`` with ``X_c`` the country total, ``X_p`` the
  product total and ``X`` the world total of the same year, over the countries and products present.
* **M** (presence): ``M_cp = 1 if RCA_cp >= threshold`` (default 1, inclusive, as py-ecomplexity; Stata
  writes ``RCA > threshold`` — identical unless an RCA equals the threshold exactly).
  ``continuous=True`` keeps M binary for ECI/PCI but uses the continuous RCA for proximity/density
  (correlation proximity, as py-ecomplexity's ``continuous`` option).
* **diversity** ``k_c = Σ_p M_cp``, **ubiquity** ``k_p = Σ_c M_cp``.
* **ECI/PCI** (Hidalgo & Hausmann 2009, PNAS 106:10570; Hausmann et al. 2014, *The Atlas of Economic
  Complexity*): the eigenvector of the second-largest eigenvalue of ``M̃ = D_c⁻¹ M D_p⁻¹ Mᵀ`` (countries)
  and of ``D_p⁻¹ Mᵀ D_c⁻¹ M`` (products) — computed exactly, not by a fixed number of reflections.
  Solver: the similar symmetric matrix ``S = D^{-1/2} … D^{-1/2}`` of the *smaller* side, top eigenpairs
  by dense LAPACK ``eigh`` for n ≤ 512 (the countries, in practice), by Lanczos
  (``scipy.sparse.linalg.eigsh``, machine-precision tolerance) above, then one exact reflection
  ``kp = D_p⁻¹ Mᵀ kc`` (or ``kc = D_c⁻¹ M kp``) gives the other side's eigenvector with the same eigenvalue.
  Sign: ECI correlates positively with diversity.  Normalisation (py-ecomplexity/Stata): with
  ``kc`` the raw country vector, ``ECI = (kc - mean kc) / sd kc`` and ``PCI = (kp - mean kc) / sd kc``
  where ``kc = D_c⁻¹ M kp`` — so ECI is exactly the mean PCI of the country's products.
  ``sd`` is the population sd (ddof 0) over countries (``convention="py"``) or Stata's ``summarize`` sd
  over the rows of the rectangular country × product table (ddof 1 over ``N_c·N_p`` rows;
  ``convention="stata"``) — the only difference of Stata's ECI/PCI from the textbook eigenvector.
* **Proximity** (Hidalgo et al. 2007, Science 317:482): ``φ_pp' = C_pp' / max(k_p, k_p')`` with
  ``C = MᵀM`` (minimum of the two conditional probabilities).  Diagonal: ``φ_pp = 1`` (py-ecomplexity,
  ``diagonal=1``) or ``0`` (Stata ``proxdiscrete`` subtracts the identity, ``diagonal=0``).
  ``asymmetric=True``: ``φ_pp' = C_pp' / k_p`` (the conditional probability P(p' | p); py-ecomplexity's
  ``asymmetric`` option — Stata's ``asym`` matrix is its transpose, so Stata's asymmetric COG differs).
* **Density** ``ω_cp = Σ_p' M_cp' φ_pp' / Σ_p' φ_pp'``; **distance** ``d_cp = 1 - ω_cp``.
* **COI/COG**, ``cog_form="ecomplexity"`` (Stata/py-ecomplexity, default):
  ``COI_c = Σ_p ω_cp (1-M_cp) kp_p`` then standardised (same ddof rule as ECI);
  ``COG_cp = (1-M_cp) Σ_p' (1-M_cp') φ_p'p kp_p' / Σ_p'' φ_p'p''`` divided by ``sd kc``.
  ``cog_form="atlas"`` (Atlas 2014 Technical Box 5.4, with normalised PCI):
  ``COI_c = Σ_p ω_cp (1-M_cp) PCI_p`` (not standardised) and
  ``COG_cp = (1-M_cp) [Σ_p' (1-M_cp') PCI_p' φ_pp' / Σ_p'' φ_p''p' - ω_cp PCI_p]``.
* **PRODY/EXPY** (Hausmann, Hwang & Rodrik 2007, J. Econ. Growth 12:1):
  ``PRODY_p = Σ_c [(x_cp/X_c) / Σ_c' (x_c'p/X_c')] GDPpc_c`` over countries with a GDP per capita;
  ``EXPY_c = Σ_p (x_cp/X_c) PRODY_p``.  Country codes of the GDP-per-capita (and population) input are
  harmonised first (legacy ROM → ROU, ZAR → COD, TMP → TLS, … :data:`tradepulse.reference.LEGACY_ISO3`), so
  an old World Bank file still matches the exporters.  Exporters left without a GDP per capita are out of
  the PRODY weights (their EXPY is still computed); how many and which is a warning in the result's meta.

Input treatment (documented, never a silent NaN table): missing values raise (``missing="zero"``
treats them as 0, as py-ecomplexity does), negative values raise, duplicated (year, exporter, product)
keys raise (``duplicates="sum"`` adds them), countries and products whose total is 0 in a year are left
out of that year (they have no RCA), a year with fewer than 2 countries or products raises NoDataError.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import numpy as np
import pandas as pd

from tradepulse.meta import provenance
from tradepulse import reference
from tradepulse.errors import InputError, NoDataError, UnknownNameError
from tradepulse.i18n import N_
from tradepulse.meta import Note, ResultMeta, attach, meta_of
from tradepulse.indicators.complexity_core import (  # the NumPy core (no pandas)
    COG_FORMS,
    CONVENTIONS,
    Options,
    _proximity_blocks,
    _rca,
    panel_arrays,
)

__all__ = ["COG_FORMS", "CONVENTIONS", "OUTPUT_COLUMNS", "STRATEGIES", "EmptySampleError", "Options", "complexity",
           "proximity", "opportunities", "warehouse_exports", "warehouse_export_years", "ComplexityByYear",
           "warehouse_population", "warehouse_gdp_pc"]

OUTPUT_COLUMNS = ["year", "exporter", "product", "export_value", "rca", "m", "diversity", "ubiquity",
                  "eci", "pci", "density", "coi", "cog"]


#: Opportunity strategies: weights of (density, PCI, COG), each criterion z-scored among the candidate
#: products (RCA < 1).  Named after the Atlas of Economic Complexity's product-opportunity strategies.
STRATEGIES: dict[str, tuple[float, float, float]] = {
    "low_hanging": (0.60, 0.15, 0.25),   # "low-hanging fruit": close to current capabilities
    "balanced": (0.50, 0.15, 0.35),      # "balanced portfolio"
    "long_jumps": (0.45, 0.20, 0.35),    # "long jumps": more weight on complexity and gain
}
_STRATEGY_ALIASES = {"low-hanging": "low_hanging", "low_hanging_fruit": "low_hanging",
                     "low-hanging-fruit": "low_hanging", "long-jumps": "long_jumps",
                     "balanced_portfolio": "balanced", "balanced-portfolio": "balanced"}



class EmptySampleError(NoDataError):
    """The country/product sample filters (Atlas sample, product prefixes) left no exports."""


# --------------------------------------------------------------------------- input preparation
def _check_columns(frame: pd.DataFrame, cols: dict[str, str | None]) -> None:
    for role, col in cols.items():
        if col is not None and col not in frame.columns:
            raise InputError(f"no {role} column {col!r}; columns are {list(frame.columns)}", column=col)


def _prepare(frame, exporter: str, product: str, value: str, year: str | None, *, missing: str,
             duplicates: str) -> pd.DataFrame:
    """Validate and return a frame with columns year, exporter, product, value (pandas)."""
    if not isinstance(frame, pd.DataFrame) and type(frame).__module__.startswith("ibis"):
        frame = frame.to_pandas()
    elif not isinstance(frame, pd.DataFrame):
        from tradepulse.warehouse import Warehouse
        if isinstance(frame, Warehouse):
            return _prepare(warehouse_exports(frame), "exporter", "product", "export_value", "year",
                            missing=missing, duplicates=duplicates)
        raise TypeError(f"expected a pandas DataFrame, an Ibis table or a Warehouse, not {type(frame).__name__}")
    if year is None and "year" in frame.columns and "year" not in (exporter, product, value):
        year = "year"
    _check_columns(frame, {"exporter": exporter, "product": product, "value": value, "year": year})
    if missing not in ("error", "zero"):
        raise UnknownNameError("missing-value treatment", missing, ["error", "zero"])
    if duplicates not in ("error", "sum"):
        raise UnknownNameError("duplicate treatment", duplicates, ["error", "sum"])
    df = pd.DataFrame({   # keeps categorical labels categorical (cheap hashing for big panels)
        "year": frame[year].to_numpy() if year is not None else np.zeros(len(frame), dtype=np.int64),
        "exporter": frame[exporter].reset_index(drop=True),
        "product": frame[product].reset_index(drop=True),
        "value": pd.to_numeric(frame[value], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan),
    })
    if df.empty:
        raise NoDataError("the input has no rows")
    total = _aggregate_products(df["product"])
    if total.any():   # all-goods totals (Comtrade TOTAL) are not a product: never a column of the matrix
        if total.all():
            raise NoDataError("the input holds only all-goods totals (product TOTAL): RCA, complexity and "
                              "opportunities need product-level exports (HS 2/4/6-digit codes); load a "
                              "product-level dataset (e.g. BACI or Comtrade by HS code)")
        df = df[~total].reset_index(drop=True)
        df.attrs["aggregate_rows_dropped"] = int(total.sum())
    for key in ("exporter", "product", "year"):
        bad = df[key].isna().to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{bad.sum()} rows have no {key}", line=i + 2,
                             column={"exporter": exporter, "product": product, "year": year}[key])
    vals = df["value"].to_numpy()
    nan = ~np.isfinite(vals)
    if nan.any():
        if missing == "error":
            i = int(np.flatnonzero(nan)[0])
            raise InputError(f"{nan.sum()} of {len(vals)} values are missing or not numbers (first: data row "
                             f"{i + 1}); pass missing='zero' (CLI --missing zero) to treat them as 0",
                             line=i + 2, column=value)
        vals = np.where(nan, 0.0, vals)
        df["value"] = vals
    neg = vals < 0
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        raise InputError(f"{neg.sum()} values are negative (first: {vals[i]} at data row {i + 1}); "
                         "exports must be >= 0", line=i + 2, column=value)
    dup = _duplicated_keys(df)
    if dup.any():
        if duplicates == "error":
            i = int(np.flatnonzero(dup)[0])
            r = df.iloc[i]
            raise InputError(f"{dup.sum()} duplicated (year, exporter, product) keys, first "
                             f"({r['year']}, {r['exporter']}, {r['product']}) at data row {i + 1}; pass "
                             "duplicates='sum' (CLI --duplicates sum) to add them", line=i + 2)
        df = df.groupby(["year", "exporter", "product"], sort=False, as_index=False,
                        observed=True)["value"].sum()
    if not (df["value"].to_numpy() > 0).any():
        raise NoDataError("no positive export values in the input")
    return df


def _duplicated_keys(df: pd.DataFrame) -> np.ndarray:
    """``df.duplicated(["year", "exporter", "product"])``.  One year's rows with categorical labels in key
    order (a warehouse read, :class:`WarehouseExports`) are compared with their neighbours (O(n), ≈ 0.1 s less
    on a 1.2M-row year); any other frame goes to pandas."""
    e, p, y = df["exporter"], df["product"], df["year"].to_numpy()
    if (isinstance(e.dtype, pd.CategoricalDtype) and isinstance(p.dtype, pd.CategoricalDtype) and len(y)
            and y.min() == y.max()):
        ce, cp = e.cat.codes.to_numpy(), p.cat.codes.to_numpy()
        if (ce >= 0).all() and (cp >= 0).all():
            step = np.diff(ce.astype(np.int64) * len(p.cat.categories) + cp)
            if (step >= 0).all():
                out = np.zeros(len(y), dtype=bool)
                out[1:] = step == 0
                return out
    return df.duplicated(["year", "exporter", "product"]).to_numpy()


#: Product codes that are aggregates, not products (Comtrade cmdCode TOTAL / ALL, see ``schema.FLOWS``).
AGGREGATE_PRODUCTS = ("TOTAL", "ALL")
#: The warning when such rows were in the input and left out.
TOTAL_ROWS_LEFT_OUT = N_("{n:,} all-goods total rows (product TOTAL) left out of the country × product matrix")


def _aggregate_products(codes: pd.Series) -> np.ndarray:
    """True where a product code is an all-goods aggregate (:data:`AGGREGATE_PRODUCTS`, any case).

    The string test runs on the distinct codes (≈ 5k HS6 codes), not on every row (it was 1.7 s of a 2.5M-row
    BACI year's 4 s); a missing code is not an aggregate."""
    if isinstance(codes.dtype, pd.CategoricalDtype):
        codes_, uniq = codes.cat.codes.to_numpy(), codes.cat.categories
    else:
        codes_, uniq = pd.factorize(codes)
    flags = pd.Index(pd.Index(uniq).astype(str)).str.strip().str.upper().isin(AGGREGATE_PRODUCTS)
    return np.where(codes_ >= 0, flags[np.clip(codes_, 0, None)] if len(flags) else False, False)


def _rolling(df: pd.DataFrame, window: int, span: tuple[int, int] | None = None) -> pd.DataFrame:
    """Average of each (exporter, product) value over the ``window`` years ending in each year (missing
    years count as 0); only years whose whole window lies in the data's year range are kept.  ``span``:
    (first, last) year of the whole panel when ``df`` holds only some of its years (read year by year)."""
    if window <= 1:
        return df
    years = np.sort(df["year"].unique()) if span is None else np.asarray(span)
    parts = []
    for lag in range(window):
        shifted = df.copy()
        shifted["year"] = shifted["year"] + lag
        parts.append(shifted)
    out = pd.concat(parts, ignore_index=True).groupby(["year", "exporter", "product"], as_index=False,
                                                     observed=True)["value"].sum()
    out["value"] /= window
    keep = (out["year"] >= years.min() + window - 1) & (out["year"] <= years.max())
    out = out[keep.to_numpy()]
    if out.empty:
        raise NoDataError(f"a {window}-year rolling average needs at least {window} years of data")
    return out.reset_index(drop=True)


def _filters(df: pd.DataFrame, *, min_exports: float | None, min_population: float | None,
             population: pd.DataFrame | None, min_product_exports: float | None,
             products: Iterable[str] | None, exclude_products: Iterable[str] | None) -> pd.DataFrame:
    """Atlas-style sample filters applied per year before RCA (country totals, population, product totals,
    product prefixes)."""
    if products is not None or exclude_products is not None:   # (the text of 1M labels costs ≈ 0.1 s)
        keep = np.ones(len(df), dtype=bool)
        prod = df["product"].astype(str)
        if products is not None:
            keep &= prod.str.startswith(tuple(str(p) for p in products)).to_numpy()
        if exclude_products is not None:
            keep &= ~prod.str.startswith(tuple(str(p) for p in exclude_products)).to_numpy()
        df = df[keep]
    if min_exports is not None:
        tot = df.groupby(["year", "exporter"], observed=True)["value"].transform("sum")
        df = df[(tot >= min_exports).to_numpy()]
    if min_product_exports is not None:
        tot = df.groupby(["year", "product"], observed=True)["value"].transform("sum")
        df = df[(tot >= min_product_exports).to_numpy()]
    if min_population is not None:
        if population is None:
            raise InputError("min_population needs a population frame (columns iso3 or exporter, population, "
                             "optionally year)")
        pop = _by_country(population, "population", df)
        df = df[(pop >= min_population)]
    if df.empty or not (df["value"] > 0).any():
        raise EmptySampleError("no exports left after the country/product filters")
    return df


def _by_country(table: pd.DataFrame, col: str, df: pd.DataFrame,
                renamed: dict[str, str] | None = None) -> np.ndarray:
    """Look up ``table[col]`` for each row of df by (year, exporter) or exporter; NaN when absent.

    Country codes on both sides are harmonised (:func:`tradepulse.reference.harmonise_iso3`: ROM → ROU, …);
    when a table holds a legacy and a current code for one country, the current code's row wins.  The
    legacy codes met in ``table`` are recorded in ``renamed`` (legacy → current) when given.
    """
    key = "iso3" if "iso3" in table.columns else "exporter"
    _check_columns(table, {"country": key, col: col})
    raw = table[key].astype(str).str.strip().str.upper()
    codes = reference.harmonise_iso3(raw).to_numpy()
    legacy = codes != raw.to_numpy()
    if renamed is not None:
        renamed.update(dict(zip(raw.to_numpy()[legacy], codes[legacy])))
    order = np.argsort(legacy, kind="stable")          # current codes first: they win over legacy ones
    vals = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float)[order]
    codes = codes[order]
    ci, uniq = pd.factorize(df["exporter"])            # harmonise each distinct exporter once
    exporters = reference.harmonise_iso3(pd.Series(np.asarray(uniq, dtype=object))).to_numpy()[ci]
    if "year" in table.columns and df["year"].nunique() >= 1 and not (df["year"] == 0).all():
        idx = pd.MultiIndex.from_arrays([table["year"].to_numpy()[order].astype(df["year"].dtype), codes])
        s = pd.Series(vals, index=idx)
        s = s[~s.index.duplicated()]
        return s.reindex(pd.MultiIndex.from_arrays([df["year"].to_numpy(), exporters])).to_numpy()
    s = pd.Series(vals, index=codes)
    s = s[~s.index.duplicated()]
    return s.reindex(exporters).to_numpy()


def _gdp_seen(df: pd.DataFrame) -> tuple[set[str], set[str]]:
    """Exporters with positive exports in ``df``, and those of them without a GDP per capita."""
    pos = df[df["value"].to_numpy() > 0]
    exporters = set(pd.unique(pos["exporter"].astype(str)))
    lacking = set(pd.unique(pos.loc[~np.isfinite(pos["gdp_pc"].to_numpy()), "exporter"].astype(str)))
    return exporters, lacking


def _gdp_meta(df: pd.DataFrame, renamed: dict[str, str], n_show: int = 8,
              seen: tuple[set[str], set[str]] | None = None) -> ResultMeta:
    """Meta of a PRODY run: exporters (with positive exports) lacking a GDP per capita, legacy codes.
    ``seen``: (exporters, lacking) gathered over a panel read year by year (then ``df`` is not used)."""
    meta = ResultMeta()
    exporters, lacking_set = seen if seen is not None else _gdp_seen(df)
    lacking = sorted(lacking_set)
    meta.coverage["prody_exporters"] = len(exporters)
    meta.coverage["prody_exporters_without_gdp"] = lacking
    if renamed:
        meta.coverage["gdp_codes_harmonised"] = dict(sorted(renamed.items()))
    if lacking:
        names = ", ".join(f"{reference.country_name(c)} ({c})" for c in lacking[:n_show])
        more = f" and {len(lacking) - n_show} more" if len(lacking) > n_show else ""
        meta.warn(Note(N_("PRODY/EXPY: {n} of {total} exporters have no GDP per capita and are left out of the "
                          "PRODY weights: {names}"), n=len(lacking), total=len(exporters), names=names + more))
    return meta


@provenance
def warehouse_exports(warehouse, *, years: Iterable[int] | None = None, digits: int | None = None,
                      dataset: str | None = None) -> pd.DataFrame:
    """Exports by (year, exporter, product) from the warehouse ``flows`` table (Ibis).

    Uses the world-panel rows (``flow = 'export'``, ``partner = 'WLD'``, no province) of each
    reporter-year; for reporter-years without such rows it sums the bilateral export rows instead (never
    both, see :mod:`tradepulse.schema`).  Only product-level rows (HS codes of digits) are read: all-goods
    totals (product ``TOTAL``, e.g. a Comtrade totals file in the same warehouse) are neither a product nor
    a world panel, so a reporter-year with a TOTAL world row and bilateral HS rows uses the HS rows.
    ``digits`` truncates HS codes (e.g. 4 → HS4).
    """
    out = warehouse_exports_table(warehouse, years=years, digits=digits, dataset=dataset).to_pandas()
    if out.empty:
        raise NoDataError("the warehouse has no product-level export flows (HS codes)"
                          + (f" for years {list(years)}" if years else "")
                          + "; all-goods totals (product TOTAL) cannot give RCA, complexity or opportunities")
    return _exports_frame(out)


def _exports_frame(out: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`warehouse_exports_table` as :func:`warehouse_exports` returns them: year int64,
    sorted by (year, exporter, product) — also what a Spark task gets of one year."""
    out["year"] = out["year"].astype(np.int64)
    return out.sort_values(["year", "exporter", "product"]).reset_index(drop=True)


def warehouse_exports_table(warehouse, *, years: Iterable[int] | None = None, digits: int | None = None,
                            dataset: str | None = None):
    """The Ibis expression of :func:`warehouse_exports` (columns year, exporter, product, export_value), not
    executed: on Spark it becomes the input of the per-year tasks (:mod:`.complexity_spark`)."""
    from tradepulse.indicators.inputs import Needs
    from tradepulse.indicators.selection import select_dataset
    from tradepulse.schema import WORLD

    f = select_dataset(warehouse, Needs(level=2, what=_EXPORT_NEEDS_WHAT), years=years,
                       flow="export", dataset=dataset)
    f = f.filter((f.flow == "export") & f.province.isnull() & f.value_usd.notnull())
    # product-level rows only: all-goods totals (product TOTAL) are neither a product nor a world panel
    f = f.filter(f["product"].re_search("^[0-9]+$"))
    if years is not None:
        f = f.filter(f.year.isin([int(y) for y in years]))
    prod = f["product"] if digits is None else f["product"].substr(0, digits)
    f = f.mutate(product=prod)
    wld = f.filter(f.partner == WORLD)
    bil = f.filter(f.partner != WORLD)
    keys = ["year", "reporter", "product"]
    agg_w = wld.group_by(keys).aggregate(export_value=wld.value_usd.sum())
    agg_b = bil.group_by(keys).aggregate(export_value=bil.value_usd.sum())
    have = wld.select("year", "reporter").distinct()
    agg_b = agg_b.anti_join(have, ["year", "reporter"])
    return agg_w.union(agg_b).rename(exporter="reporter")


#: What the complexity verbs need of the warehouse (as :func:`warehouse_exports` asks it).
_EXPORT_NEEDS_WHAT = "complexity (exports by product)"


@dataclass
class WarehouseExports:
    """A warehouse's product-level exports, read a few years at a time (:func:`warehouse_export_years`).

    ``years``: the candidate years, ascending (the recorded coverage of the dataset: export rows, HS level,
    national); :meth:`read` returns :func:`warehouse_exports` of some of them (None when they hold no rows).
    The dataset is resolved once for the whole panel, so every year comes from the dataset an all-years read
    uses.  ``reads`` lists the years of each read issued (what was materialised at once).

    On a DuckDB warehouse (``resolution`` given) a read goes straight to the storage (:class:`_DirectExports`:
    slim BACI rows summed by their numbers, decoded after the sum) and :meth:`stream` reads the next year in a
    background thread; the rows equal :func:`warehouse_exports`' (sums to 1e-12: another summation order),
    with labels categorical.
    """

    warehouse: object
    years: list[int]
    dataset: str | None
    digits: int | None = None
    reads: list[list[int]] = field(default_factory=list)
    resolution: object = None
    _direct: object = field(default=None, init=False, repr=False)

    def read(self, years: Iterable[int]) -> pd.DataFrame | None:
        ys = [int(y) for y in years]
        self.reads.append(ys)
        direct = self._direct_reader()
        if direct is not None:
            return direct.fetch(direct.sql(ys), self.warehouse.raw)
        try:
            return warehouse_exports(self.warehouse, years=ys, digits=self.digits, dataset=self.dataset)
        except NoDataError:
            return None
        finally:
            _drop_block_cache(self.warehouse)

    def stream(self, years: Iterable[int]) -> Iterator[tuple[int, pd.DataFrame | None]]:
        """``(year, read([year]))`` for each year in order; on the direct path the next year is read in a
        background thread (its own DuckDB cursor; DuckDB releases the GIL) while the caller works on the
        current one, so at most two years' inputs are held."""
        years = [int(y) for y in years]
        direct = self._direct_reader()
        if direct is None or len(years) < 2:
            for y in years:
                yield y, self.read([y])
            return
        from concurrent.futures import ThreadPoolExecutor

        cur = self.warehouse.raw.cursor()
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tradepulse-read")
        try:
            def submit(y: int):
                self.reads.append([y])
                return pool.submit(direct.fetch, direct.sql([y]), cur)   # SQL built here, run there

            pending = submit(years[0])
            for i, y in enumerate(years):
                frame = pending.result()
                pending = submit(years[i + 1]) if i + 1 < len(years) else None
                yield y, frame
                del frame
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            cur.close()

    def _direct_reader(self) -> "_DirectExports | None":
        if self._direct is None and self.resolution is not None:
            self._direct = _DirectExports.plan(self.warehouse, self.resolution, self.digits)
        return self._direct or None


class _DirectExports:
    """:func:`warehouse_exports` of a DuckDB warehouse, one year at a time, read from the storage tables.

    The ``flows`` view decodes every slim BACI row (three joins with the country lists, ``lpad`` of the
    product) before :func:`warehouse_exports_table` groups them by text: on an 8.6M-row year the joins and the
    hash of short strings were ≈ 3 s of CPU.  Here the slim rows of the dataset's loads are summed by their
    numbers (year, load, reporter number, product number, partner-is-WLD) and only the ≈ 1.2M sums are decoded
    (reporter by a join with ``baci_countries``, product by ``lpad``).  The rows of the dataset kept in
    ``flow_rows`` (other loads) go through the same filters as before, on that table alone.  Then, as
    before: ``digits`` truncation, a sum by (year, exporter, product) where more than one piece can hold a key,
    and the world-panel rule (world rows where a reporter-year has them, else the bilateral sums).

    A year held by one slim load whose country list names distinct codes (the BACI case) is cheaper still:
    DuckDB returns the sums by (reporter number, product number) and :func:`_number_exports` decodes them
    with NumPy (no text per row, no sort).  A list naming one code by two numbers (``shared_codes``) makes
    the sums be summed again by the decoded code.

    Equal to the view's rows because a slim row always has both countries in its load's list and a product
    0–999999 with a non-negative value (the slim ingest deletes any other row, ``ingest._storage``): the view's
    inner joins drop nothing and its product text is numeric.  Not for Spark (no storage tables there).
    """

    def __init__(self, warehouse, res, digits: int | None, slim: list[int], world: list[tuple[int, int]],
                 with_rows: bool, pieces: dict[int, int]) -> None:
        self.warehouse, self.res, self.digits = warehouse, res, digits
        self.slim, self.world, self.with_rows, self.pieces = slim, world, with_rows, pieces
        self.year_load: dict[int, int] = {}                       # year → its one slim load's number
        self.shared_codes = False
        self.countries: dict[int, tuple[np.ndarray, np.ndarray]] = {}   # load → (numbers, ISO3), injective

    @classmethod
    def plan(cls, warehouse, res, digits: int | None):
        """The reader for the resolved dataset ``res`` of a DuckDB ``warehouse``; False when it does not apply
        (another engine, no dataset)."""
        from tradepulse.indicators.inputs import coverage
        from tradepulse.warehouse import Warehouse

        if type(warehouse) is not Warehouse or getattr(res, "dataset", None) is None:
            return False
        con = warehouse.raw
        ids = [x for x in (res.load_ids or []) if x is not None]
        loads = con.execute("SELECT load_no, load_id, flow FROM baci_loads").fetchall()
        slim = sorted(int(n) for n, lid, flow in loads if lid in ids and flow == "export")
        slim_ids = {lid for _n, lid, _f in loads}
        # rows of the dataset in flow_rows: loads not stored slim, or rows kept by source (load id NULL)
        with_rows = None in (res.load_ids or []) or any(x not in slim_ids for x in ids)
        world = [(int(a), int(b)) for a, b in con.execute(
            "SELECT load_no, number FROM baci_countries WHERE iso3 = 'WLD' AND list_contains(?, load_no)",
            [slim]).fetchall()] if slim else []
        cov = coverage(warehouse)
        cov = cov[cov["dataset"] == res.dataset]
        pieces = {int(y): int(n) for y, n in cov.groupby("year")["load_id"].nunique(dropna=False).items()}
        plan = cls(warehouse, res, digits, slim, world, with_rows, pieces)
        # loads whose list names one code by two numbers: their sums are summed again after decoding
        plan.shared_codes = bool(slim) and bool(con.execute(
            "SELECT count(*) FROM (SELECT load_no FROM baci_countries WHERE list_contains(?, load_no) "
            "GROUP BY load_no HAVING count(DISTINCT iso3) < count(*))", [slim]).fetchall()[0][0])
        # a year of one slim load whose country numbers name distinct codes: summed and decoded in NumPy
        no_of = {lid: int(n) for n, lid, _f in loads}
        one = cov.dropna(subset=["load_id"]).groupby("year")["load_id"].first()
        plan.year_load = {int(y): no_of[lid] for y, lid in one.items() if lid in no_of and no_of[lid] in slim}
        plan.countries = {}
        for n in sorted(set(plan.year_load.values())):
            nums = con.execute("SELECT number, iso3 FROM baci_countries WHERE load_no = ? ORDER BY number",
                               [n]).fetchall()
            if len({c for _k, c in nums}) == len(nums):
                plan.countries[n] = (np.array([k for k, _c in nums], dtype=np.int64),
                                     np.array([c for _k, c in nums], dtype=object))
        return plan

    def sql(self, years: list[int]) -> tuple[str, tuple | None]:
        """The query of the years' rows: the SQL of (year, exporter, product, export_value), and for one year
        of one slim load (no truncation, no world rows, no flow_rows rows, distinct country codes) the
        cheaper query of its sums by numbers (year, load number, SQL) that :meth:`fetch` decodes itself.  The
        flow_rows filters, the truncation and the world rule are the Ibis expressions of
        :func:`warehouse_exports_table`, compiled over unbound tables (no query is run here)."""
        n = self.year_load.get(int(years[0])) if len(years) == 1 else None
        if (n is None or n not in self.countries or self.digits is not None or self.world or self.with_rows
                or self.pieces.get(int(years[0]), 1) != 1):
            return self._sql(years), None
        # the general SQL is compiled only when needed (by fetch: Ibis over unbound tables, no connection)
        return "", (int(years[0]), n, f"SELECT reporter, product, sum(value_usd) AS v FROM baci_rows WHERE "
                    f"load_no = {n} AND year = {int(years[0])} AND value_usd IS NOT NULL GROUP BY ALL")

    def _sql(self, years: list[int]) -> str:
        import ibis

        from tradepulse import schema
        from tradepulse.indicators.inputs import Needs, apply

        ylist = ", ".join(str(int(y)) for y in years)
        parts = []
        if self.slim:
            w = " OR ".join(f"(load_no = {a} AND partner = {b})" for a, b in self.world) or "FALSE"
            loads = ", ".join(map(str, self.slim))
            parts.append(
                "SELECT s.year, c.iso3 AS reporter, lpad(CAST(s.pk AS VARCHAR), 6, '0') AS product, s.w, s.v "
                f"FROM (SELECT year, load_no, reporter, product AS pk, ({w}) AS w, sum(value_usd) AS v "
                f"FROM baci_rows WHERE load_no IN ({loads}) AND year IN ({ylist}) AND value_usd IS NOT NULL "
                "GROUP BY ALL) s JOIN baci_countries c ON c.load_no = s.load_no AND c.number = s.reporter")
        if self.with_rows:
            f = apply(ibis.table(_ibis_schema(schema.FLOWS), name="flow_rows"), self.res,
                      Needs(level=2, what=_EXPORT_NEEDS_WHAT))
            f = f.filter((f.flow == "export") & f.province.isnull() & f.value_usd.notnull()
                         & f["product"].re_search("^[0-9]+$") & f.year.isin([int(y) for y in years]))
            f = f.group_by(["year", "reporter", "product", (f.partner == schema.WORLD).name("w")]).aggregate(
                v=f.value_usd.sum())
            parts.append(f"SELECT * FROM ({ibis.to_sql(f, dialect='duckdb')})")
        if not parts:
            return ""
        t = ibis.table({"year": "int16", "reporter": "string", "product": "string", "w": "boolean",
                        "v": "float64"}, name="__cells")
        if self.digits is not None:
            t = t.mutate(product=t["product"].substr(0, self.digits))
        keys = ["year", "reporter", "product"]
        if (self.digits is not None or len(parts) > 1 or self.shared_codes
                or any(self.pieces.get(int(y), 1) > 1 for y in years)):
            t = t.group_by([*keys, "w"]).aggregate(v=t.v.sum())
        if not self.world and not self.with_rows:      # no world row can exist: the bilateral sums
            out = t.select(*keys, export_value=t.v)
        else:
            wld, bil = t.filter(t.w), t.filter(~t.w)
            have = wld.select("year", "reporter").distinct()
            out = wld.select(*keys, export_value=wld.v).union(
                bil.select(*keys, export_value=bil.v).anti_join(have, ["year", "reporter"]))
        body = ibis.to_sql(out.rename(exporter="reporter"), dialect="duckdb")
        cells = " UNION ALL ".join(f"SELECT year::SMALLINT AS year, reporter, product, w, v FROM ({p})"
                                   for p in parts)
        return f'WITH "__cells" AS ({cells}) SELECT * FROM ({body})'

    def fetch(self, query: tuple[str, tuple | None], con) -> pd.DataFrame | None:
        """Run ``query`` (:meth:`sql`) on ``con`` (a connection or cursor used by this thread only) → the rows
        as :func:`warehouse_exports` returns them (year int64, sorted by year, exporter, product), labels
        categorical with sorted categories; None when there is none.  DuckDB's block cache is emptied
        after the read (:func:`_drop_block_cache`), on the same cursor."""
        sql, numbers = query
        if not sql and numbers is None:
            return None
        try:
            out = None
            if numbers is not None:
                year, n, text = numbers
                tab = con.sql(text).to_arrow_table()
                if tab.num_rows == 0:
                    return None
                out = _number_exports(tab, year, *self.countries[n])
                sql = sql if out is not None else self._sql([year])
            if out is None and sql:
                tab = con.sql(sql).to_arrow_table()
                out = _arrow_exports(tab) if tab.num_rows else None
        finally:
            _drop_block_cache(_Con(con))
        return out


def _ibis_schema(columns: dict[str, str]) -> dict[str, str]:
    """SQL column types (``schema.FLOWS``) → Ibis type names."""
    names = {"SMALLINT": "int16", "TINYINT": "int8", "INTEGER": "int32", "BIGINT": "int64", "DOUBLE": "float64",
             "VARCHAR": "string"}
    return {c: names[t] for c, t in columns.items()}


class _Con:
    """Wrap a DuckDB connection/cursor as ``.raw`` for :func:`_drop_block_cache`."""

    def __init__(self, con) -> None:
        self.raw = con


def _number_exports(tab, year: int, numbers: np.ndarray, codes: np.ndarray) -> pd.DataFrame | None:
    """One slim load's sums by (reporter number, product number) → the frame of :func:`_arrow_exports`:
    reporters decoded through the load's country list (``numbers`` ascending → ``codes``; a number not in it
    drops out, as in the view's join), products as 6-digit text (``lpad``), rows in (exporter, product) text
    order — by counting, no sort of the rows.  None when a product number is outside 0–999999."""
    rep = tab.column("reporter").to_numpy()
    pk = tab.column("product").to_numpy()
    v = tab.column("v").to_numpy()
    if pk.min() < 0 or pk.max() > 999_999:
        return None
    at = np.minimum(np.searchsorted(numbers, rep), len(numbers) - 1)
    known = numbers[at] == rep
    if not known.all():
        at, pk, v = at[known], pk[known], v[known]
    if not len(v):
        return None
    used_r = np.bincount(at, minlength=len(numbers)) > 0
    present = np.flatnonzero(used_r)
    order_r = np.argsort(codes[present], kind="stable")          # exporters in text order
    rank_r = np.empty(len(numbers), dtype=np.int32)
    rank_r[present[order_r]] = np.arange(len(present), dtype=np.int32)
    ecode = rank_r[at]
    used_p = np.zeros(1_000_000, dtype=bool)
    used_p[pk] = True
    prods = np.flatnonzero(used_p)                              # ascending number = 6-digit text order
    pcode = (np.cumsum(used_p, dtype=np.int32) - 1)[pk]
    key = ecode.astype(np.int64) * len(prods) + pcode
    slot = np.full(len(present) * len(prods), -1, dtype=np.int64)
    slot[key] = np.arange(len(key))
    idx = slot[slot >= 0]
    if len(idx) != len(key):                                    # a repeated key: not one load's sums
        return None
    return pd.DataFrame({
        "year": np.full(len(idx), year, dtype=np.int64),
        "exporter": pd.Categorical.from_codes(ecode[idx], categories=codes[present][order_r]),
        "product": pd.Categorical.from_codes(pcode[idx], categories=np.char.zfill(prods.astype(str), 6)
                                             .astype(object)),
        "export_value": v[idx],
    })


def _arrow_exports(tab) -> pd.DataFrame:
    """Arrow rows (year, exporter, product, export_value) → the frame of :func:`_exports_frame`, with the
    labels as categoricals (sorted categories) and the rows sorted by (year, exporter, product) through
    their integer codes — the same order as sorting the text."""
    from tradepulse.indicators.arrow_codes import sorted_codes

    if tab.column("exporter").null_count or tab.column("product").null_count:
        return _exports_frame(tab.to_pandas())           # missing labels: _prepare names the data row
    cols = {name: sorted_codes(tab.column(name)) for name in ("exporter", "product")}
    year = tab.column("year").to_numpy().astype(np.int64)
    value = tab.column("export_value").to_numpy()
    idx = np.lexsort((cols["product"][0], cols["exporter"][0], year))
    return pd.DataFrame({
        "year": year[idx],
        "exporter": pd.Categorical.from_codes(cols["exporter"][0][idx], categories=cols["exporter"][1]),
        "product": pd.Categorical.from_codes(cols["product"][0][idx], categories=cols["product"][1]),
        "export_value": value[idx],
    })


def _drop_block_cache(warehouse) -> None:
    """Evict the table blocks DuckDB keeps cached after a query (they are evicted only under memory pressure,
    so reading year after year grew the cache by each year's compressed columns: +14 MB a year on a 2.5M-row
    BACI-shaped year), by lowering ``memory_limit`` to 1 MB and restoring it (≈ 10 ms).  No-op on other
    engines."""
    raw = getattr(warehouse, "raw", None)
    if raw is None or not hasattr(raw, "cursor") or type(raw).__module__.split(".")[0] not in ("duckdb", "_duckdb"):
        return
    con = raw.cursor()
    # pinned blocks or an old DuckDB: the cache stays, the results do not change
    with contextlib.closing(con), contextlib.suppress(Exception):
        limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        try:
            con.execute("SET memory_limit = '1MB'").fetchall()
        finally:
            con.execute(f"SET memory_limit = '{limit}'").fetchall()


def warehouse_export_years(warehouse, *, digits: int | None = None, dataset: str | None = None
                           ) -> WarehouseExports:
    """The warehouse's exports as a :class:`WarehouseExports`: resolve the dataset once (as
    :func:`warehouse_exports` does for all years) and list its candidate years from the recorded coverage
    (no scan of the flows).  A warehouse without recorded coverage gives ``years == []``: read it whole."""
    from tradepulse.indicators.inputs import Needs, coverage, forced_dataset, resolve

    res = resolve(warehouse, flow=["export"], needs=Needs(level=2, what=_EXPORT_NEEDS_WHAT),
                  dataset=dataset or forced_dataset())
    years: list[int] = []
    if res.dataset is not None:
        cov = coverage(warehouse)
        c = cov[(cov["dataset"] == res.dataset) & (cov["flow"] == "export") & (cov["product_level"] > 0)
                & ~cov["provincial"].astype(bool)]
        years = sorted({int(y) for y in c["year"].dropna().unique()})
    return WarehouseExports(warehouse, years, res.dataset, digits, resolution=res)


def year_result(part: pd.DataFrame, opts: Options, filters: dict, gdp_pc: pd.DataFrame | None,
                renamed: dict[str, str], exporters: set[str], lacking: set[str]) -> pd.DataFrame:
    """One year's :func:`complexity` result from its prepared input (:func:`_prepare`, one year): the Atlas
    filters (:class:`EmptySampleError` when nothing is left: the year drops out), GDP per capita for PRODY
    (``renamed``, ``exporters``, ``lacking`` gather the PRODY meta over the years), then :func:`_panel`.
    The one per-year step of :class:`ComplexityByYear` — on DuckDB in this process, on Spark in a task per
    year (:mod:`tradepulse.indicators.complexity_spark`)."""
    part = _filters(part, **filters)
    if gdp_pc is not None:
        part = part.assign(gdp_pc=_by_country(gdp_pc, "gdp_pc", part, renamed))
        seen = _gdp_seen(part)
        exporters |= seen[0]
        lacking |= seen[1]
    return _panel(part, opts, with_prody=gdp_pc is not None)


class ComplexityByYear:
    """:func:`complexity` of a warehouse panel computed one year at a time: iterating yields each year's
    result frame (columns as :func:`complexity`; labels categorical over that year's exporters/products).

    Each step reads one year's country × product exports (:meth:`WarehouseExports.read`, partners summed
    when the dataset is bilateral), computes it and hands it out, so peak memory is one year's input and
    output, not the panel's; with ``rolling=k`` the last k years' inputs are kept (each year is read once).
    Every step of :func:`complexity` is per year (RCA, ECI/PCI, density, COG; the Atlas filters by year and
    exporter/product; PRODY), so the frames, concatenated, equal ``complexity(warehouse_exports(wh))``.
    ``meta`` (warnings: PRODY coverage, …) is complete once the iteration has finished.

    Iterating runs every year in this process.  :func:`tradepulse.indicators.complexity_spark.stream_years`
    iterates it with a Spark task per year when the warehouse is a Spark one (the same :func:`year_result`).
    """

    def __init__(self, source: WarehouseExports, *, rolling: int = 1, missing: str = "error",
                 duplicates: str = "error", gdp_pc: pd.DataFrame | None = None,
                 progress: Callable[[int, int, object], None] | None = None, **options) -> None:
        filters = ("min_exports", "min_population", "population", "min_product_exports", "products",
                   "exclude_products")
        self.filters = {k: options.pop(k, None) for k in filters}
        self.opts = Options(**options)             # validates the options before anything is read
        if missing not in ("error", "zero"):
            raise UnknownNameError("missing-value treatment", missing, ["error", "zero"])
        if duplicates not in ("error", "sum"):
            raise UnknownNameError("duplicate treatment", duplicates, ["error", "sum"])
        self.source, self.rolling, self.missing, self.duplicates = source, int(rolling), missing, duplicates
        self.gdp_pc, self.progress = gdp_pc, progress
        self.meta = ResultMeta()

    def __iter__(self) -> Iterator[pd.DataFrame]:
        src, w = self.source, max(1, self.rolling)
        if not src.years:                           # no recorded coverage: one read of everything
            yield from self._whole()
            return
        kept: list[pd.DataFrame] = []               # prepared frames of the last w years (rolling)
        first: int | None = None                    # first year with rows: the rolling range starts there
        last: int | None = None
        error: NoDataError | None = None
        n_aggregate, emitted = 0, 0
        exporters: set[str] = set()
        lacking: set[str] = set()
        renamed: dict[str, str] = {}
        for i, (y, raw) in enumerate(src.stream(src.years)):
            if raw is None:
                continue
            first = y if first is None else first
            try:
                df = _prepare(raw, "exporter", "product", "export_value", "year", missing=self.missing,
                              duplicates=self.duplicates)
                n_aggregate += int(df.attrs.get("aggregate_rows_dropped", 0))
                kept.append(df)
            except NoDataError as exc:              # no positive value this year: it drops out of the panel
                error = error or exc
            del raw
            targets = [y] if w == 1 or last is None else range(last + 1, y + 1)
            last = y
            for t in targets:
                part = self._year_input(kept, t, w, first)
                if part is None:
                    continue
                try:
                    out = year_result(part, self.opts, self.filters, self.gdp_pc, renamed, exporters, lacking)
                except EmptySampleError as exc:     # nothing left this year: the year drops out
                    error = error or exc
                    continue
                del part
                if len(out):
                    emitted += 1
                    yield out
            kept = [d for d in kept if int(d["year"].iat[0]) > y + 1 - w]
            if self.progress is not None:
                self.progress(i + 1, len(src.years), y)
        if not emitted:
            if w > 1 and error is None:
                raise NoDataError(f"a {w}-year rolling average needs at least {w} years of data")
            raise error or NoDataError("the warehouse has no product-level export flows (HS codes)")
        if n_aggregate:
            self.meta.warn(Note(TOTAL_ROWS_LEFT_OUT, n=n_aggregate))
        if self.gdp_pc is not None:
            self.meta = self.meta.merge(_gdp_meta(pd.DataFrame(), renamed, seen=(exporters, lacking)))

    @staticmethod
    def _year_input(kept: list[pd.DataFrame], year: int, w: int, first: int) -> pd.DataFrame | None:
        """Input rows of output ``year``: that year's frame, or its ``w``-year rolling mean (:func:`_rolling`
        over the kept years of its window, with the panel's first year for the range)."""
        if w == 1:
            return kept[-1] if kept and int(kept[-1]["year"].iat[0]) == year else None
        if year < first + w - 1:
            return None
        parts = [d for d in kept if year - w < int(d["year"].iat[0]) <= year]
        if not parts:
            return None
        out = _rolling(pd.concat(parts, ignore_index=True), w, span=(first, year))
        out = out[out["year"].to_numpy() == year].reset_index(drop=True)
        return out if len(out) else None

    def _whole(self) -> Iterator[pd.DataFrame]:
        """No candidate years: read and compute the whole panel at once (as :func:`complexity`)."""
        frame = warehouse_exports(self.source.warehouse, digits=self.source.digits, dataset=self.source.dataset)
        self.source.reads.append([])
        opts = {k: getattr(self.opts, k) for k in ("threshold", "convention", "diagonal", "cog_form",
                                                    "continuous", "asymmetric")}
        res = complexity(frame, "exporter", "product", "export_value", "year", missing=self.missing,
                         duplicates=self.duplicates, rolling=self.rolling, gdp_pc=self.gdp_pc,
                         progress=self.progress, **opts, **self.filters)
        self.meta = meta_of(res)
        yield res


def warehouse_population(warehouse) -> pd.DataFrame | None:
    """Population by iso3 and year from the warehouse ``macro`` table (for the Atlas population filter);
    None when the table holds no population."""
    from tradepulse.warehouse import as_table

    t = as_table(warehouse, "macro")
    t = t.filter(t.population > 0)
    out = t.group_by(["year", "iso3"]).aggregate(population=t.population.sum()).to_pandas()
    if out.empty:
        return None
    out["year"] = out["year"].astype(np.int64)
    return out


def warehouse_gdp_pc(warehouse) -> pd.DataFrame:
    """GDP per capita (current USD) by iso3 and year from the warehouse ``macro`` table (Ibis):
    ``gdp_usd / population``; columns year, iso3, gdp_pc (for ``complexity(..., gdp_pc=...)``)."""
    from tradepulse.warehouse import as_table

    t = as_table(warehouse, "macro")
    t = t.filter(t.gdp_usd.notnull() & (t.population > 0))
    out = (t.group_by(["year", "iso3"])
           .aggregate(gdp=t.gdp_usd.sum(), pop=t.population.sum())
           .mutate(gdp_pc=lambda r: r.gdp / r["pop"])
           .select("year", "iso3", "gdp_pc").to_pandas())
    if out.empty:
        raise NoDataError("the warehouse macro table has no GDP and population rows; ingest macro data first")
    out["year"] = out["year"].astype(np.int64)
    return out.sort_values(["year", "iso3"]).reset_index(drop=True)


# --------------------------------------------------------------------------- public API
def complexity(frame, exporter: str = "exporter", product: str = "product", value: str = "export_value",
               year: str | None = None, *, threshold: float = 1.0, convention: str = "py",
               diagonal: float | None = None, cog_form: str = "ecomplexity", continuous: bool = False,
               asymmetric: bool = False,
               missing: str = "error", duplicates: str = "error", rolling: int = 1,
               min_exports: float | None = None, min_population: float | None = None,
               population: pd.DataFrame | None = None, min_product_exports: float | None = None,
               products: Iterable[str] | None = None, exclude_products: Iterable[str] | None = None,
               gdp_pc: pd.DataFrame | None = None,
               progress: Callable[[int, int, object], None] | None = None) -> pd.DataFrame:
    """RCA, M, diversity, ubiquity, ECI, PCI, density, COI and COG for every year of a panel.

    ``frame``: pandas frame, Ibis table or Warehouse (→ :func:`warehouse_exports`) with one row per
    (year, exporter, product).  ``year=None`` uses a column named ``year`` when present, else treats the
    frame as one period (output year 0).  Conventions and input treatment: see the module docstring.
    Options: ``threshold`` (M = RCA ≥ threshold), ``convention`` ("py" | "stata"), ``diagonal``
    (proximity diagonal, default 1 for "py" and 0 for "stata"), ``cog_form`` ("ecomplexity" | "atlas"),
    ``continuous``, ``asymmetric``, ``rolling`` (k-year moving average of values), Atlas sample filters ``min_exports``
    (country total), ``min_population`` (with ``population``: iso3/exporter, [year], population),
    ``min_product_exports`` (product world total), ``products``/``exclude_products`` (code prefixes), and
    ``gdp_pc`` (iso3/exporter, [year], gdp_pc) → extra columns ``prody`` and ``expy``.
    ``progress(i, n, year)`` is called after each year.

    Returns one row per (year, exporter, product) of the rectangular table of the countries and
    products with positive totals in that year: columns :data:`OUTPUT_COLUMNS` (+ prody, expy).
    """
    opts = Options(threshold=threshold, convention=convention, diagonal=diagonal, cog_form=cog_form,
                   continuous=continuous, asymmetric=asymmetric)
    df = _prepare(frame, exporter, product, value, year, missing=missing, duplicates=duplicates)
    n_aggregate = int(df.attrs.get("aggregate_rows_dropped", 0))
    df = _rolling(df, int(rolling))
    df = _filters(df, min_exports=min_exports, min_population=min_population, population=population,
                  min_product_exports=min_product_exports, products=products,
                  exclude_products=exclude_products)
    meta = ResultMeta()
    if n_aggregate:
        meta.warn(Note(TOTAL_ROWS_LEFT_OUT, n=n_aggregate))
    if gdp_pc is not None:
        renamed: dict[str, str] = {}
        df = df.assign(gdp_pc=_by_country(gdp_pc, "gdp_pc", df, renamed))
        meta = meta.merge(_gdp_meta(df, renamed))
    return attach(_panel(df, opts, with_prody=gdp_pc is not None, progress=progress), meta)


def _int_dtype(limit: int):
    """The integer type of a code or count column whose values stay below ``limit`` (as ``_panel`` stores
    them)."""
    return np.int16 if limit < 2**15 else np.int32


def _panel(df: pd.DataFrame, opts: Options, *, with_prody: bool, progress=None) -> pd.DataFrame:
    """Compute every year (:func:`~tradepulse.indicators.complexity_core.panel_arrays`) and wrap the
    preallocated output columns in a frame (no per-year frames, no concatenation copy)."""
    positive = df["value"].to_numpy() > 0
    pos = df if positive.all() else df[positive]
    ci, countries = pd.factorize(pos["exporter"], sort=True)
    pi, prods = pd.factorize(pos["product"], sort=True)
    present = df.groupby("year")["exporter"].nunique()
    cols = panel_arrays(ci.astype(np.int32), pi.astype(np.int32), pos["year"].to_numpy(), pos["value"].to_numpy(),
                        len(countries), len(prods), lambda y: int(present.loc[y]), opts,
                        gdp_all=pos["gdp_pc"].to_numpy() if with_prody else None, progress=progress)
    out = pd.DataFrame(cols["block"].T, columns=cols["float_cols"], copy=False)   # one float block, not copied
    out.insert(0, "year", cols["year"])
    out.insert(1, "exporter", pd.Categorical.from_codes(cols["exporter"], categories=np.asarray(countries)))
    out.insert(2, "product", pd.Categorical.from_codes(cols["product"], categories=np.asarray(prods)))
    out.insert(5, "m", cols["m"])
    out.insert(6, "diversity", cols["diversity"])
    out.insert(7, "ubiquity", cols["ubiquity"])
    return out


def _matrix(part: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dense matrix of one year (countries and products with positive totals), sorted labels."""
    pos = part[part["value"].to_numpy() > 0]
    ci, countries = pd.factorize(pos["exporter"], sort=True)
    pi, prods = pd.factorize(pos["product"], sort=True)
    x = np.zeros((len(countries), len(prods)))
    x[ci, pi] = pos["value"].to_numpy()
    return x, np.asarray(countries), np.asarray(prods)


def proximity(frame, exporter: str = "exporter", product: str = "product", value: str = "export_value",
              year: str | None = None, *, threshold: float = 1.0, convention: str = "py",
              diagonal: float | None = None, continuous: bool = False, asymmetric: bool = False,
              missing: str = "error",
              duplicates: str = "error", min_proximity: float | None = None,
              include_diagonal: bool = True) -> pd.DataFrame:
    """Product proximity ``φ_pp' = |{c: M_cp = M_cp' = 1}| / max(k_p, k_p')`` (Hidalgo et al. 2007) for each
    year, long form: ``year, product_1, product_2, proximity`` (all ordered pairs).

    ``diagonal`` as in :func:`complexity` (default 1 = py-ecomplexity, 0 with ``convention="stata"``);
    ``include_diagonal=False`` drops the p = p' rows; ``min_proximity`` keeps only pairs with φ ≥ it.
    """
    opts = Options(threshold=threshold, convention=convention, diagonal=diagonal, continuous=continuous,
                   asymmetric=asymmetric)
    df = _prepare(frame, exporter, product, value, year, missing=missing, duplicates=duplicates)
    parts = []
    for y, part in df.groupby("year", sort=True):
        x, _, prods = _matrix(part)
        if x.shape[0] < 2 or x.shape[1] < 2:
            raise NoDataError(f"year {y}: proximity needs at least 2 countries and 2 products")
        rca = _rca(x)
        m = (rca >= opts.threshold).astype(np.float64)
        kp = m.sum(axis=0)
        if (kp == 0).any():
            raise NoDataError(f"year {y}: some products have no exporter with RCA >= {opts.threshold}")
        n = len(prods)
        for cols, phi in _proximity_blocks(m, kp, opts.diag, rca if opts.continuous else None,
                                           asymmetric=opts.asymmetric):
            r_idx, c_idx = np.meshgrid(np.arange(n), np.arange(cols.start, cols.stop), indexing="ij")
            keep = np.ones(phi.shape, dtype=bool)
            if not include_diagonal:
                keep &= r_idx != c_idx
            if min_proximity is not None:
                keep &= phi >= min_proximity
            # emit rows ordered by (product_1, product_2): product_1 = column block, product_2 = row
            keep_t, phi_t = keep.T, phi.T
            p1 = c_idx.T[keep_t]
            p2 = r_idx.T[keep_t]
            parts.append(pd.DataFrame({
                "year": np.full(p1.size, y),
                "product_1": pd.Categorical.from_codes(p1, categories=prods),
                "product_2": pd.Categorical.from_codes(p2, categories=prods),
                "proximity": phi_t[keep_t]}))
    return pd.concat(parts, ignore_index=True)


def _resolve_strategy(strategy: str) -> tuple[float, float, float]:
    key = _STRATEGY_ALIASES.get(strategy.lower(), strategy.lower())
    if key not in STRATEGIES:
        raise UnknownNameError("strategy", strategy, list(STRATEGIES))
    return STRATEGIES[key]


#: Atlas of Economic Complexity country/product sample (Hausmann, Hidalgo et al. 2014, *The Atlas of Economic
#: Complexity*, MIT Press; the Growth Lab's Atlas rankings): countries with population ≥ 1 million and exports
#: ≥ US$ 1 billion in the year; HS chapter 99 ("commodities not specified", Comtrade/Atlas 9999) left out.
ATLAS_MIN_POPULATION = 1e6
ATLAS_MIN_EXPORTS = 1e9
ATLAS_EXCLUDED_PRODUCTS = ("99",)


def opportunities(frame_or_result, country: str, strategy: str = "balanced", *, year: int | None = None,
                  weights: tuple[float, float, float] | None = None, top: int | None = None,
                  min_population: float | None = ATLAS_MIN_POPULATION, population: pd.DataFrame | None = None,
                  min_exports: float | None = ATLAS_MIN_EXPORTS,
                  exclude_products: Iterable[str] | None = ATLAS_EXCLUDED_PRODUCTS,
                  **options) -> pd.DataFrame:
    """Products the ``country`` does not yet export with RCA ≥ 1, ranked for diversification.

    ``frame_or_result``: a :func:`complexity` result (used as it is) or raw exports: then the **Atlas sample
    filters** are applied before RCA, as the Atlas of Economic Complexity does (Hausmann, Hidalgo et al.
    2014; Growth Lab Atlas rankings — py-ecomplexity leaves the sample to its caller): exporters with
    population ≥ ``min_population`` (1 M; needs ``population``: iso3/exporter, [year], population — without
    it the filter is skipped with a warning in the meta), total exports ≥ ``min_exports`` (US$ 1 bn) and
    products outside ``exclude_products`` (HS prefixes, default ``("99",)``: 9999 / chapter 99 "not
    specified").  Each is switched off with ``0`` / ``None`` / ``()``.  All-goods totals (product TOTAL) never
    reach the matrix; TOTAL-only input is refused.  Then ``complexity(frame, **options)`` runs (column names
    as ``exporter=``, ``product=``, ``value=``, ``year_column=``).
    Uses ``year`` (default: the latest).  Candidates: products with M = 0 (RCA below the
    threshold).  Score = ``w_d·z(density) + w_p·z(PCI) + w_g·z(COG)`` with each criterion z-scored
    (ddof 0) among the candidates and the weights of :data:`STRATEGIES` (``low_hanging``, ``balanced``,
    ``long_jumps``) or ``weights=(w_d, w_p, w_g)``.  Returns rank, product, export_value, rca, density,
    distance, pci, cog, score (descending score); the meta holds the sample and its warnings.
    """
    res = frame_or_result
    meta = ResultMeta()
    if not (isinstance(res, pd.DataFrame) and {"pci", "cog", "density", "m"} <= set(res.columns)):
        res, meta = _atlas_complexity(res, country, year, min_population=min_population, population=population,
                                      min_exports=min_exports, exclude_products=exclude_products, options=options)
    else:
        meta = meta.merge(meta_of(res))
    w = tuple(float(v) for v in weights) if weights is not None else _resolve_strategy(strategy)
    if len(w) != 3:
        raise InputError("weights must be three numbers: density, PCI, COG")
    if year is None:
        year = res["year"].max()
    ry = res[res["year"].to_numpy() == year]
    if ry.empty:
        raise NoDataError(f"no complexity results for year {year}; years are {sorted(res['year'].unique())}")
    ex = ry["exporter"].astype(str).to_numpy()
    if country not in set(ex):
        outside = meta.coverage.get("atlas_sample", {}).get("outside", {}).get(country)
        if outside:
            raise NoDataError(f"{country} is outside the Atlas sample{f' in {year}' if year else ''}: {outside}")
        raise UnknownNameError("exporter", country, sorted(set(ex)))
    cand = ry[(ex == country) & (ry["m"].to_numpy() == 0)]
    if cand.empty:
        raise NoDataError(f"{country} already has RCA ≥ threshold in every product in {year}")
    crit = cand[["density", "pci", "cog"]].to_numpy(dtype=float)
    sd = crit.std(axis=0)
    z = np.where(sd > 0, (crit - crit.mean(axis=0)) / np.where(sd > 0, sd, 1.0), 0.0)
    score = z @ np.asarray(w)
    out = pd.DataFrame({
        "year": year,
        "country": country,
        "product": cand["product"].astype(str).to_numpy(),
        "export_value": cand["export_value"].to_numpy(),
        "rca": cand["rca"].to_numpy(),
        "density": cand["density"].to_numpy(),
        "distance": 1.0 - cand["density"].to_numpy(),
        "pci": cand["pci"].to_numpy(),
        "cog": cand["cog"].to_numpy(),
        "score": score,
    }).sort_values(["score", "product"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return attach(out.head(top) if top else out, meta)


def _atlas_complexity(frame, country: str, year: int | None, *, min_population, population, min_exports,
                      exclude_products, options: dict) -> tuple[pd.DataFrame, ResultMeta]:
    """:func:`complexity` of raw exports with the Atlas sample filters; the meta says what the sample is and
    why ``country`` would be outside it."""
    cols = {k: options.pop(k) for k in ("exporter", "product", "value", "year_column") if k in options}
    df = _prepare(frame, cols.get("exporter", "exporter"), cols.get("product", "product"),
                  cols.get("value", "export_value"), cols.get("year_column"), missing=options.pop("missing", "error"),
                  duplicates=options.pop("duplicates", "error"))
    meta = ResultMeta()
    n_aggregate = int(df.attrs.get("aggregate_rows_dropped", 0))
    if n_aggregate:
        meta.warn(Note(TOTAL_ROWS_LEFT_OUT, n=n_aggregate))
    excl = tuple(str(p) for p in (exclude_products or ()))
    min_exp = float(min_exports) if min_exports else None
    min_pop = float(min_population) if min_population else None
    if min_pop and population is None:
        meta.warn(Note(N_("Atlas sample: the population filter (≥ {population:,.0f}) is not applied — no "
                          "population data (pass population= / --population FILE, or ingest macro data)"),
                       population=min_pop))
        min_pop = None
    # why would the country drop out? (exports after the product exclusion, population)
    mine = df[df["exporter"].astype(str).to_numpy() == country]
    if excl:
        mine = mine[~mine["product"].astype(str).str.startswith(excl).to_numpy()]
    outside: dict[str, str] = {}
    if len(mine):
        pick = mine["year"].max() if year is None else year
        total = float(mine.loc[mine["year"].to_numpy() == pick, "value"].sum())
        reasons = []
        if min_exp and total < min_exp:
            reasons.append(f"exports {total:,.0f} < {min_exp:,.0f} USD (switch off with min_exports=0 / "
                           "--min-exports 0)")
        if min_pop:
            pop = _by_country(population, "population", mine[mine["year"].to_numpy() == pick].head(1))
            if not (len(pop) and np.isfinite(pop[0]) and pop[0] >= min_pop):
                have = f"{pop[0]:,.0f}" if len(pop) and np.isfinite(pop[0]) else "no population data"
                reasons.append(f"population {have} < {min_pop:,.0f} (switch off with min_population=0 / "
                               "--min-population 0)")
        if reasons:
            outside[country] = "; ".join(reasons)
    n_in = df["exporter"].nunique()
    res = complexity(df, "exporter", "product", "value", "year", min_exports=min_exp, min_population=min_pop,
                     population=population if min_pop else None, exclude_products=excl or None, **options)
    meta = meta.merge(meta_of(res))
    meta.coverage["atlas_sample"] = {"min_population": min_pop, "min_exports": min_exp,
                                     "exclude_products": list(excl), "exporters_input": int(n_in),
                                     "exporters_kept": int(res["exporter"].nunique()), "outside": outside}
    return res, meta
