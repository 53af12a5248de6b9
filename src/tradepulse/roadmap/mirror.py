"""Mirror statistics: compare a reporter's declared trade with its partners' declarations to estimate
unrecorded ("suitcase") trade, per product group × partner × year.

Conventions (UN Comtrade / IMTS 2010: exports are valued FOB, imports CIF):

* ``direction="exports"`` — the reporter's exports to P (FOB, reporter-declared) against P's imports from the
  reporter (CIF, partner-declared).  Mirror FOB value = partner imports / *m*, with the CIF/FOB margin *m*
  (default **1.10**, i.e. freight and insurance = 10 % of the FOB value; configurable).
  ``gap = mirror_fob − reported``; ``unrecorded = max(gap, 0)`` is the estimate of unrecorded exports.
* ``direction="imports"`` — for data holding only exports (other countries report
  exports): the reporter's imports from P (CIF) against P's exports to the reporter (FOB) × *m*;
  ``unrecorded = max(mirror_cif − reported, 0)`` estimates unrecorded imports (smuggling, suitcase imports).
* ``direction="auto"``: exports when partners' imports are in the data, else imports (the ``direction`` column
  says which was done).
* A partner-year enters the comparison only when the partner reported the mirror flow to anyone that year
  (otherwise a missing row means "not reported", not zero); within such years missing pairs count as zero.
* Rows: reporter side from national bilateral rows, or the province split when no national rows exist (the
  level covering most years); partner side from national rows; WLD rows never.

The estimate also absorbs timing (goods shipped in December, recorded in January), valuation, partner
attribution (re-exports via hubs such as ARE) and classification differences; read it as an upper bound on
unrecorded trade unless those are known to be small.  Reference: IMF/UN "International Merchandise Trade
Statistics: Concepts and Definitions 2010"; Javorcik & Narciso (2008) on mirror gaps and evasion.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from tradepulse import reference
from tradepulse.errors import InputError, NoDataError
from tradepulse.indicators.selection import prefix_filter
from tradepulse.roadmap.metrics import Data, choose_level, partner_members, product_prefixes
from tradepulse.schema import WORLD

DEFAULT_MARGIN = 1.10
DIRECTIONS = ("exports", "imports", "auto")


def mirror(data, reporter: str = "IRN", *, direction: str = "exports", partners=None, products=None,
           years=None, margin: float = DEFAULT_MARGIN) -> pd.DataFrame:
    """Mirror comparison per ``group`` (product group) × ``partner`` × ``year``.

    ``partners``: ISO3 codes and/or country-group names (default: every partner); ``products``: product-group
    names or HS prefixes (default: all goods, group ``all``).  Columns: ``group, partner, year, reported,
    mirror`` (as declared by the partner), ``mirror_adjusted`` (converted to the reporter's valuation with the
    CIF/FOB ``margin``), ``gap, unrecorded, ratio`` (mirror_adjusted / reported), ``direction, margin``.
    """
    if direction not in DIRECTIONS:
        raise InputError(f"direction must be exports, imports or auto, not {direction!r}", column="direction")
    if direction == "auto":
        try:
            return mirror(data, reporter, direction="exports", partners=partners, products=products, years=years,
                          margin=margin)
        except NoDataError as first:
            try:
                return mirror(data, reporter, direction="imports", partners=partners, products=products,
                              years=years, margin=margin)
            except NoDataError as second:
                raise NoDataError(f"exports: {first}; imports: {second}") from None
    if not (1.0 <= float(margin) <= 2.0):
        raise InputError(f"the CIF/FOB margin is a factor such as 1.10, not {margin!r}", column="margin")
    data = data if isinstance(data, Data) else Data(data)
    reporter = reporter.upper()
    if reporter not in reference.iso3_codes():
        from tradepulse.errors import UnknownNameError
        raise UnknownNameError("country", reporter)
    names = [products] if isinstance(products, str) else list(products or [])
    groups = {n: product_prefixes((n,)) for n in names} or {"all": ()}
    members = partner_members(tuple([partners] if isinstance(partners, str) else (partners or ())))
    own_flow, mirror_flow = ("export", "import") if direction == "exports" else ("import", "export")
    all_prefixes = tuple(dict.fromkeys(p for ps in groups.values() for p in ps))

    t = data.flows.filter(data.flows.partner != WORLD)
    if all_prefixes:
        t = t.filter(prefix_filter(t.product, all_prefixes))
    if years is not None:
        t = t.filter(t.year.isin([int(y) for y in years]))
    own = t.filter((t.reporter == reporter) & (t.flow == own_flow))
    if members:
        own = own.filter(own.partner.isin(members))
    own = own.mutate(level=ibis.ifelse(own.province.isnull(), 1, 2))
    own_agg = own.group_by(["level", "year", "partner", "product"]).aggregate(value=own.value_usd.sum()).to_pandas()
    if own_agg.empty:
        raise NoDataError(f"no {own_flow}s of {reporter} in the selection")
    lvl = choose_level(own_agg)
    own_agg = own_agg[own_agg["level"] == lvl].drop(columns="level")

    mir = t.filter((t.partner == reporter) & (t.flow == mirror_flow) & t.province.isnull())
    if members:
        mir = mir.filter(mir.reporter.isin(members))
    mir_agg = mir.group_by(["year", "reporter", "product"]).aggregate(value=mir.value_usd.sum()).to_pandas() \
        .rename(columns={"reporter": "partner"})
    # which partners report the mirror flow (to anyone) in which years
    rep = data.flows.filter((data.flows.flow == mirror_flow) & (data.flows.partner != WORLD))
    if members:
        rep = rep.filter(rep.reporter.isin(members))
    reporting = rep.select("reporter", "year").distinct().to_pandas().rename(columns={"reporter": "partner"})
    if reporting.empty or mir_agg.empty:
        hint = ("partners' imports are absent (only exports reported?); try direction='imports'"
                if direction == "exports" else "partners' exports to the reporter are absent")
        raise NoDataError(f"no mirror data for {reporter}: {hint}")

    out = []
    for name, prefixes in groups.items():  # a handful of product groups
        def pick(frame):
            f = frame if not prefixes else frame[reference.matches_prefixes(frame["product"], prefixes)]
            return f.groupby(["partner", "year"], as_index=False)["value"].sum()
        a = pick(own_agg).rename(columns={"value": "reported"})
        b = pick(mir_agg).rename(columns={"value": "mirror"})
        m = reporting.merge(a, on=["partner", "year"], how="left").merge(b, on=["partner", "year"], how="left")
        m = m[m["partner"] != reporter]
        m = m.fillna({"reported": 0.0, "mirror": 0.0})
        m = m[(m["reported"] > 0) | (m["mirror"] > 0)]
        m.insert(0, "group", name)
        out.append(m)
    res = pd.concat(out, ignore_index=True)
    if res.empty:
        raise NoDataError(f"no partner reports {mirror_flow}s with {reporter} in the selection")
    factor = 1.0 / margin if direction == "exports" else margin
    res["mirror_adjusted"] = res["mirror"] * factor
    res["gap"] = res["mirror_adjusted"] - res["reported"]
    res["unrecorded"] = np.maximum(res["gap"], 0.0)
    res["ratio"] = np.divide(res["mirror_adjusted"], res["reported"], out=np.full(len(res), np.nan),
                             where=res["reported"].to_numpy() > 0)
    res["direction"] = direction
    res["margin"] = float(margin)
    res["year"] = res["year"].astype(int)
    return res.sort_values(["group", "year", "partner"]).reset_index(drop=True)


def summary(table: pd.DataFrame, by: tuple[str, ...] = ("group", "year")) -> pd.DataFrame:
    """Totals of a :func:`mirror` table by ``by``: reported, mirror_adjusted, gap, unrecorded, partners."""
    g = table.groupby(list(by), as_index=False).agg(
        reported=("reported", "sum"), mirror_adjusted=("mirror_adjusted", "sum"), gap=("gap", "sum"),
        unrecorded=("unrecorded", "sum"), partners=("partner", "nunique"))
    g["unrecorded_share"] = np.divide(g["unrecorded"], g["reported"] + g["unrecorded"],
                                      out=np.full(len(g), np.nan), where=(g["reported"] + g["unrecorded"]) > 0)
    return g
