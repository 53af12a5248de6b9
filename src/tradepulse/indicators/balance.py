"""Trade balance: exports, imports, balance, non-oil balance and growth rates, over years.

For one reporter (a country) the table can be broken down ``by`` partner, partner group, product, product
group or province, and restricted to a partner (group), product (group), province or years — the same
selection rules (and errors) as every indicator, see :mod:`tradepulse.indicators.selection`.

Conventions
-----------
* **General trade system**: exports = ``export`` + ``re-export`` rows, imports = ``import`` + ``re-import``
  rows (UN IMTS 2010, general trade system: its totals include re-exports and re-imports).
* **Balance** = exports − imports; **coverage** = exports / imports (NaN without imports).
* **Oil set**: HS prefixes from :func:`tradepulse.reference.oil_prefixes` — ``narrow`` (2709, 2710, 2711,
  default) or ``chapter27`` — or any tuple of prefixes.  **Non-oil** exports / imports / balance exclude it.
* **Growth** (year-on-year) = v_t / v_{t−1} − 1, only between consecutive calendar years (NaN when the
  previous year is missing or zero).
* **One-sided data**: a year (× reporter) whose selection holds export rows but no import rows, or the
  reverse, gives a balance that is only one side.  Such rows carry ``one_sided`` = ``"exports only"`` /
  ``"imports only"`` (None when both sides are present) and the result's :mod:`tradepulse.meta` holds one
  warning per reporter and side naming the years (the CLI prints it under the table).
* **Layers / WLD rule**: totals come from :func:`~tradepulse.indicators.selection.national_totals`
  (world-total rows preferred, else national bilateral rows, else the sum of provincial customs rows, chosen
  per year × reporter × flow, never added together).  Breakdowns by partner or province only use bilateral
  rows.

All aggregation runs in Ibis (DuckDB or PySpark); only the final small table is pivoted in pandas.
"""

from __future__ import annotations

from collections.abc import Iterable

import ibis
import numpy as np
import pandas as pd

from tradepulse import reference
from tradepulse.errors import NoDataError, UnknownNameError
from tradepulse.indicators import selection as sel
from tradepulse.i18n import N_
from tradepulse.meta import Note, ResultMeta, attach, provenance, warn

BY_CHOICES = ("total", "partner", "partner_group", "product", "product_group", "province")
EXPORT_KINDS = ("export", "re-export")
IMPORT_KINDS = ("import", "re-import")
VALUE_COLUMNS = ["exports", "imports", "balance", "coverage", "oil_exports", "oil_imports",
                 "non_oil_exports", "non_oil_imports", "non_oil_balance"]
GROWTH_OF = ["exports", "imports", "non_oil_exports", "non_oil_imports"]

__all__ = ["trade_balance", "BY_CHOICES", "resolve_oil"]


def resolve_oil(oil: str | Iterable[str] | None) -> tuple[str, ...]:
    """Oil prefixes from a named oil set (``narrow``/``chapter27``/``iran_customs``, see
    :data:`tradepulse.reference.OIL_SETS`), a product-group name or prefixes; None → ()."""
    if oil is None:
        return ()
    if isinstance(oil, str) and oil in reference.OIL_SETS:
        return reference.oil_prefixes(oil)
    return sel.resolve_products(oil)


def _labelled_groups(t: ibis.Table, column: str, groups: dict[str, tuple[str, ...]], *, prefix: bool) -> ibis.Table:
    parts = []
    for name, members in groups.items():
        pred = sel.prefix_filter(t[column], members) if prefix else t[column].isin(members)
        parts.append(t.filter(pred).mutate(group=ibis.literal(name)))
    if not parts:
        raise NoDataError("no groups to break down by")
    return ibis.union(*parts) if len(parts) > 1 else parts[0]


@provenance
def trade_balance(data, *, reporter: str, years=None, by: str = "total", partner=None, product=None,
                  province=None, oil: str | Iterable[str] | None = "narrow",
                  groups: str | Iterable[str] | None = None, groups_file: str | None = None,
                  product_groups_file: str | None = None) -> pd.DataFrame:
    """Exports, imports, balance and non-oil balance of ``reporter`` by year (and ``by`` key).

    ``by``: ``total`` | ``partner`` | ``partner_group`` | ``product`` | ``product_group`` | ``province``.
    ``groups``: the group names for ``partner_group`` / ``product_group`` (default: every group in the
    reference file).  Several reporters (``"IRN,TUR"``) are kept apart in a ``reporter`` column, never
    summed.  Returns columns ``year``, [``reporter``,] the ``by`` key (``partner``, ``group``, ``product`` or
    ``province``), :data:`VALUE_COLUMNS` and ``<v>_growth`` for ``v`` in :data:`GROWTH_OF`
    (+ ``balance_change``, the absolute change of the balance).
    """
    if by not in BY_CHOICES:
        raise UnknownNameError("breakdown", by, list(BY_CHOICES))
    oil_prefixes = resolve_oil(oil)
    t, chosen = sel.select_flows(data, reporter=reporter, years=years, partner=partner, product=product,
                                 province=province, flow=EXPORT_KINDS + IMPORT_KINDS,
                                 world="exclude" if by in ("partner", "partner_group", "province") else None,
                                 strict_years=False, groups_file=groups_file,
                                 product_groups_file=product_groups_file, return_selection=True)
    level = (getattr(chosen.meta, "coverage", None) or {}).get("product_level")
    if by == "province":
        t = t.filter(t.province.notnull())
    t = t.mutate(is_oil=sel.prefix_filter(t["product"], oil_prefixes) if oil_prefixes else ibis.literal(False),
                 direction=t.flow.isin(EXPORT_KINDS).ifelse("exports", "imports"))

    keys = ["year", "reporter", "flow", "direction", "is_oil"]
    key_col: str | None = None
    if by == "partner":
        keys.append("partner"); key_col = "partner"
    elif by == "product":
        keys.append("product"); key_col = "product"
    elif by == "province":
        keys.append("province"); key_col = "province"
    elif by == "partner_group":
        names = sel._split(groups) if groups is not None else list(reference.country_groups(groups_file))
        gm = {n: reference.group_members(n, groups_file) for n in names}
        t = _labelled_groups(sel.bilateral(t), "partner", gm, prefix=False)
        keys.append("group"); key_col = "group"
    elif by == "product_group":
        names = sel._split(groups) if groups is not None else list(reference.product_groups(product_groups_file))
        gm = {n: reference.product_group_prefixes(n, product_groups_file) for n in names}
        t = _labelled_groups(t, "product", gm, prefix=True)
        keys.append("group"); key_col = "group"

    allow_world = by not in ("partner", "partner_group", "province")
    if key_col == "group":
        # layers are chosen per group so that a group's total never mixes layers
        agg = sel.national_totals(t.mutate(flow=t.flow + ibis.literal("|") + t.group), keys, allow_world=allow_world)
    else:
        agg = sel.national_totals(t, keys, allow_world=allow_world)
    df = agg.to_pandas()
    if df.empty:
        raise NoDataError(f"no export or import rows for reporter {reporter} in this selection")
    several = len(sel._split(reporter)) > 1
    out = _finish(df, (["reporter"] if several else []) + ([key_col] if key_col else []))
    out = _mark_one_sided(out, df)
    if oil_prefixes and level == "total":   # all-goods totals cannot be split into oil and non-oil
        out[["oil_exports", "oil_imports", "non_oil_exports", "non_oil_imports", "non_oil_balance",
             "non_oil_exports_growth", "non_oil_imports_growth"]] = np.nan
        warn(out, Note(N_("the dataset holds all-goods TOTAL rows only: oil and non-oil values cannot be "
                          "separated (left empty)")))
    elif oil_prefixes and isinstance(oil, str) and oil in reference.OIL_SETS and level:
        for note in reference.oil_set_notes(oil, [int(level.removeprefix("hs"))]):
            warn(out, note)
    return out


def _span(years: list[int]) -> str:
    """``2014–2016, 2019`` from a sorted year list."""
    runs: list[list[int]] = []
    for y in years:
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _mark_one_sided(out: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Add ``one_sided`` per year × reporter (from which directions have rows in the selection) and a meta
    warning per reporter and missing side."""
    have = rows.groupby(["year", "reporter"])["direction"].agg(lambda d: frozenset(d))
    label = have.map(lambda d: None if len(d) == 2 else f"{next(iter(d))} only")
    label.index = label.index.set_levels(label.index.levels[0].astype("int64"), level=0)
    meta = ResultMeta(coverage={"years_with_exports": sorted(int(y) for (y, _), d in have.items() if "exports" in d),
                                "years_with_imports": sorted(int(y) for (y, _), d in have.items() if "imports" in d)})
    for (rep, side), grp in label.dropna().groupby([label.dropna().index.get_level_values("reporter"),
                                                     label.dropna()]):
        years = sorted(int(y) for y in grp.index.get_level_values("year"))
        meta.warn(Note(N_("{reporter}: the selection holds no import rows in {years}, so the balance there is "
                          "one-sided (exports only); coverage is not defined") if side == "exports only" else
                       N_("{reporter}: the selection holds no export rows in {years}, so the balance there is "
                          "one-sided (imports only); coverage is not defined"), reporter=rep, years=_span(years)))
    if "reporter" in out.columns:
        idx = pd.MultiIndex.from_arrays([out["year"].astype("int64"), out["reporter"]])
        out["one_sided"] = label.reindex(idx).to_numpy()
    else:
        out["one_sided"] = label.droplevel("reporter").reindex(out["year"].astype("int64")).to_numpy()
    return attach(out, meta)


def _finish(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    idx = ["year", *keys]
    df["oil"] = np.where(df["is_oil"].astype(bool), "oil", "non_oil")
    wide = df.pivot_table(index=idx, columns=["direction", "oil"], values="value_usd", aggfunc="sum",
                          fill_value=0.0)
    get = lambda d, o: wide[(d, o)] if (d, o) in wide.columns else pd.Series(0.0, index=wide.index)  # noqa: E731
    out = pd.DataFrame(index=wide.index)
    out["oil_exports"], out["non_oil_exports"] = get("exports", "oil"), get("exports", "non_oil")
    out["oil_imports"], out["non_oil_imports"] = get("imports", "oil"), get("imports", "non_oil")
    out["exports"] = out["oil_exports"] + out["non_oil_exports"]
    out["imports"] = out["oil_imports"] + out["non_oil_imports"]
    out["balance"] = out["exports"] - out["imports"]
    out["coverage"] = out["exports"] / out["imports"].where(out["imports"] > 0)
    out["non_oil_balance"] = out["non_oil_exports"] - out["non_oil_imports"]
    out = out.reset_index()
    out["year"] = out["year"].astype("int64")
    out = out.sort_values([*keys, "year"]).reset_index(drop=True)
    # growth between consecutive calendar years only
    grp = out.groupby(keys, sort=False) if keys else None
    prev_year = (grp["year"].shift(1) if grp is not None else out["year"].shift(1))
    consecutive = prev_year == out["year"] - 1
    for col in GROWTH_OF + ["balance"]:
        prev = grp[col].shift(1) if grp is not None else out[col].shift(1)
        prev = prev.where(consecutive)
        if col == "balance":
            out["balance_change"] = out[col] - prev
        else:
            out[f"{col}_growth"] = out[col] / prev.where(prev != 0) - 1
    cols = idx + VALUE_COLUMNS + [f"{c}_growth" for c in GROWTH_OF] + ["balance_change"]
    return out[cols].sort_values(idx).reset_index(drop=True)
