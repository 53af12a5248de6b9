"""Shared selection helpers: filter FLOWS by reporter, partner (group), product (group), province, years.

Every indicator module (balance, diversification, technology, survival, ...) selects its rows here so that
bad requests fail the same way everywhere:

* an unknown country group, product group or oil set → :class:`~tradepulse.errors.UnknownNameError`;
* a province that does not occur in the data → :class:`~tradepulse.errors.UnknownNameError` listing the
  provinces that do occur;
* a reporter / year / selection with no rows → :class:`~tradepulse.errors.NoDataError` listing what exists.

Conventions
-----------
* **WLD rule** (:mod:`tradepulse.schema`): rows with ``partner == "WLD"`` are reporter totals.  ``world=``
  chooses ``"exclude"`` (bilateral rows only, the default whenever a partner filter is given), ``"only"``
  (totals only) or ``"keep"`` (no filter; the caller must not sum both kinds).
* **Partner specs** are a country-group name from ``reference/country_groups.toml`` (or ``groups_file``),
  a single ISO3 code, or a list / comma-separated string of either; members are united.
* **Product specs** are a product-group name (``reference/product_groups.toml``), an HS prefix of 2–6
  digits, or a list / comma-separated string of either; a product matches when its code starts with a prefix.
* **Years** are an int, an iterable of ints, or a string ``"2014"``, ``"2014-2018"``, ``"2014,2016"``.

Everything is built as Ibis expressions (runs on DuckDB or PySpark); the only queries executed are the
small ``DISTINCT`` look-ups needed to validate provinces and years.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

from tradepulse import reference, schema
from tradepulse.errors import NoDataError, UnknownNameError
from tradepulse.indicators.specs import parse_years
from tradepulse.indicators.specs import split_list as _split
from tradepulse.reference import provinces
from tradepulse.warehouse import Warehouse, as_table

WORLD_MODES = ("exclude", "only", "keep")

__all__ = [
    "Selection", "parse_years", "resolve_partners", "resolve_products", "prefix_filter",
    "select_flows", "select_dataset", "available", "check_provinces", "check_years", "bilateral", "world_totals",
    "national_totals",
]


# ---------------------------------------------------------------- parsing
def resolve_partners(spec: str | Iterable[str] | None, groups_file: str | None = None,
                     data_codes: Callable[[], Iterable[str]] | None = None) -> tuple[str, ...] | None:
    """ISO3 codes of a partner spec (group names and/or ISO3 codes, united, sorted); ``None`` → no filter.

    ``"WLD"`` is returned as itself (the reporter's world total).  ``data_codes`` (a callable giving the
    partner codes present in the data) lets codes outside the reference country list — Comtrade's ``S19``,
    territories such as ``ESH`` — be selected when the data hold them.  Unknown names raise
    :class:`UnknownNameError` with the known group names.
    """
    if spec is None:
        return None
    members: set[str] = set()
    present: set[str] | None = None
    for name in _split(spec):
        if name.upper() == schema.WORLD:
            members.add(schema.WORLD)
            continue
        try:
            members.update(reference.group_members(name, groups_file))
        except UnknownNameError:
            if data_codes is None:
                raise
            if present is None:
                present = {str(c) for c in data_codes()}
            if name.upper() not in present:
                raise
            members.add(name.upper())
    if not members:
        raise UnknownNameError("country group", str(spec), list(reference.country_groups(groups_file)))
    return tuple(sorted(members))


def resolve_products(spec: str | Iterable[str] | None, groups_file: str | None = None) -> tuple[str, ...] | None:
    """HS prefixes of a product spec (group names and/or 2–6-digit HS prefixes); ``None`` → no filter."""
    if spec is None:
        return None
    prefixes: list[str] = []
    for name in _split(spec):
        if re.fullmatch(r"\d{2,6}", name):
            prefixes.append(name)
        elif name == "oil:chapter27":
            prefixes.extend(reference.oil_prefixes("chapter27"))
        else:
            prefixes.extend(reference.product_group_prefixes(name, groups_file))
    if not prefixes:
        raise UnknownNameError("product group", str(spec), list(reference.product_groups(groups_file)))
    return tuple(dict.fromkeys(prefixes))


def prefix_filter(column: ir.StringColumn, prefixes: Sequence[str]) -> ir.BooleanColumn:
    """Ibis predicate: ``column`` starts with any of ``prefixes`` (an OR of ``startswith``)."""
    pred = None
    for p in prefixes:
        term = column.startswith(p)
        pred = term if pred is None else (pred | term)
    return pred if pred is not None else ibis.literal(False)


# ---------------------------------------------------------------- validation
def available(table: ir.Table, column: str) -> list:
    """Sorted distinct non-null values of ``column`` (executes one small query)."""
    vals = table.select(column).distinct().to_pandas()[column].dropna().tolist()
    return sorted(vals)


def province_matches(name: str, known: Sequence[str], country: str | None = None) -> list[str]:
    """Stored province names that ``name`` denotes: the same text (any case), the same matching key, or the
    same province of the reference list (``"تهران"``, ``"IR-23"``, ``"Teheran"`` → ``"Tehran"``)."""
    same = provinces.province_identity(name, country)
    return [k for k in known if k == name or provinces.province_identity(k, country) == same]


def check_provinces(table: ir.Table, provinces_: Sequence[str], country: str | None = None) -> None:
    """Raise unless every name in ``provinces_`` denotes a province present in ``table.province``
    (any spelling of the reference list, see :mod:`tradepulse.reference.provinces`)."""
    known = [str(p) for p in available(table, "province")]
    if not known:
        raise NoDataError("the data hold no provincial (customs) rows, so no province can be selected; "
                          "ingest national customs data with a province column first")
    for p in provinces_:
        if not province_matches(p, known, country):
            raise UnknownNameError("province", p, known)


def _canonical_provinces(table: ir.Table, provinces_: Sequence[str], country: str | None = None) -> list[str]:
    """The stored names to filter on (an old warehouse may hold two spellings of one province)."""
    known = [str(p) for p in available(table, "province")]
    out: list[str] = []
    for p in provinces_:
        out += [k for k in province_matches(p, known, country) if k not in out]
    return out


def check_years(table: ir.Table, years: Sequence[int], *, strict: bool = True, what: str = "the selection") -> None:
    """Raise :class:`NoDataError` when requested years have no rows in ``table``.

    ``strict=True``: every requested year must have data; ``False``: at least one must.
    """
    have = [int(y) for y in available(table, "year")]
    missing = sorted(set(years) - set(have))
    if not have:
        raise NoDataError(f"no rows in {what}")
    if (strict and missing) or len(missing) == len(set(years)):
        span = f"{have[0]}–{have[-1]}" if have == list(range(have[0], have[-1] + 1)) else \
            ", ".join(map(str, have))
        raise NoDataError(f"no data for year(s) {', '.join(map(str, missing))} in {what}; "
                          f"years with data: {span}")


# ---------------------------------------------------------------- selection
@dataclass
class Selection:
    """A validated request.  Fields mirror :func:`select_flows` arguments; ``describe()`` names it."""

    reporter: tuple[str, ...] | None = None
    partners: tuple[str, ...] | None = None
    products: tuple[str, ...] | None = None
    provinces: tuple[str, ...] | None = None
    years: list[int] | None = None
    flow: tuple[str, ...] | None = None
    world: str = "keep"
    labels: dict[str, str] = field(default_factory=dict)
    dataset: str | None = None
    meta: object = None
    #: one layer per (year, reporter, flow) in the dataset (see :func:`national_totals`)
    single_layer: bool = False

    def describe(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in self.labels.items()) or "all flows"


def bilateral(table: ir.Table) -> ir.Table:
    """Bilateral rows only (``partner != WLD``)."""
    return table.filter(table.partner != schema.WORLD)


def world_totals(table: ir.Table) -> ir.Table:
    """Reporter world-total rows only (``partner == WLD``)."""
    return table.filter(table.partner == schema.WORLD)


def select_flows(data, *, reporter: str | Iterable[str] | None = None,
                 partner: str | Iterable[str] | None = None,
                 product: str | Iterable[str] | None = None,
                 province: str | Iterable[str] | None = None,
                 years: int | str | Iterable[int] | None = None,
                 flow: str | Iterable[str] | None = None,
                 world: str | None = None,
                 strict_years: bool = True,
                 groups_file: str | None = None,
                 product_groups_file: str | None = None,
                 return_selection: bool = False,
                 needs=None, dataset: str | None = None, keyed: bool = False):
    """Filter FLOWS (warehouse, Ibis table or pandas frame) and validate the request.

    ``reporter``: ISO3 code(s); ``partner``: group name(s)/ISO3 code(s)/``WLD``; ``product``: product group
    name(s) or HS prefixes; ``province``: province name(s) in any spelling of the reference list (Persian, ISO 3166-2, variants; see
    :mod:`tradepulse.reference.provinces`) or as stored (case-insensitive); ``years``: see
    :func:`parse_years`; ``flow``: ``export``/``import``/...; ``world``: one of ``exclude|only|keep`` —
    default ``exclude`` when ``partner`` or ``province`` is given (provinces only exist on bilateral rows),
    else ``keep``.

    **One dataset** (:mod:`tradepulse.indicators.inputs`): the rows are first restricted to the one dataset
    (and product level) that best covers the request; ``needs`` (an :class:`~tradepulse.indicators.inputs.Needs`)
    says what the indicator needs of it (default: from the arguments), ``dataset`` forces one by name.  Inside
    a :func:`tradepulse.meta.provenance` call every selection reads the same dataset for the same needs, and the
    resolution's meta (dataset, coverage, warnings) reaches the result; ``Selection.meta`` holds it too.

    ``keyed=True``: read a DuckDB warehouse through ``flows_keyed`` (the same rows and columns plus the
    integer product key, :func:`tradepulse.warehouse.keyed_view_sql`), so that :func:`national_totals` groups
    products by their key; other inputs are read as they are.

    Returns the filtered Ibis table (and the :class:`Selection` when ``return_selection``).  Raises
    :class:`UnknownNameError` for unknown groups / provinces and :class:`NoDataError` for empty selections.
    """
    t = as_table(data, "flows")
    if keyed and isinstance(data, Warehouse):
        keyed_t = data.keyed_flows()
        t = keyed_t if keyed_t is not None else t
    sel = Selection()
    t = _one_dataset(data, t, sel, reporter=reporter, years=years, flow=flow, partner=partner,
                     product=product, province=province, world=world, needs=needs, dataset=dataset)

    if world is None:
        world = "exclude" if (partner is not None or province is not None) else "keep"
    if world not in WORLD_MODES:
        raise UnknownNameError("world mode", world, list(WORLD_MODES))
    partners = resolve_partners(partner, groups_file, data_codes=lambda: available(t, "partner"))
    if partners is not None and schema.WORLD in partners:
        if len(partners) > 1:
            raise NoDataError("cannot mix WLD (world totals) with bilateral partners in one selection: "
                              "by the WLD rule they must not be summed together")
        world = "only"
        partners = None
    sel.world = world
    if world == "exclude":
        t = bilateral(t)
    elif world == "only":
        t = world_totals(t)

    if flow is not None:
        flows = tuple(_split(flow))
        for f in flows:
            if f not in schema.FLOW_KINDS:
                raise UnknownNameError("flow", f, list(schema.FLOW_KINDS))
        t = t.filter(t.flow.isin(flows))
        sel.flow = flows
        if set(flows) != set(schema.FLOW_KINDS):
            sel.labels["flow"] = "+".join(flows)

    if reporter is not None:
        reps = tuple(r.upper() for r in _split(reporter))
        t_rep = t.filter(t.reporter.isin(reps))
        sel.reporter = reps
        sel.labels["reporter"] = "+".join(reps)
        unknown = [r for r in reps if r not in reference.iso3_codes()]
        present = set(available(t_rep, "reporter"))
        for r in reps:
            if r not in present:
                if r in unknown:
                    raise UnknownNameError("country", r, sorted(available(t, "reporter")))
                kind = f"{sel.labels['flow']} " if "flow" in sel.labels else ""
                raise NoDataError(f"no {kind}rows for reporter {r} in the data")
        t = t_rep

    if partners is not None:
        t = t.filter(t.partner.isin(partners))
        sel.partners = partners
        sel.labels["partner"] = str(partner) if isinstance(partner, str) else ",".join(partner)

    if product is not None:
        prefixes = resolve_products(product, product_groups_file)
        t = t.filter(prefix_filter(t["product"], prefixes))
        sel.products = prefixes
        sel.labels["product"] = str(product) if isinstance(product, str) else ",".join(product)

    if province is not None:
        provs = _split(province)
        country = sel.reporter[0] if sel.reporter and len(sel.reporter) == 1 else None
        check_provinces(t, provs, country)
        provs = _canonical_provinces(t, provs, country)
        t = t.filter(t.province.isin(provs))
        sel.provinces = tuple(provs)
        sel.labels["province"] = ",".join(provs)

    yrs = parse_years(years)
    if yrs is not None:
        check_years(t, yrs, strict=strict_years, what=sel.describe())
        t = t.filter(t.year.isin(yrs))
        sel.years = yrs
        sel.labels["years"] = f"{yrs[0]}–{yrs[-1]}" if len(yrs) > 1 else str(yrs[0])
    elif partners is not None or product is not None or province is not None:
        if int(t.count().execute()) == 0:
            raise NoDataError(f"no rows for {sel.describe()}")

    return (t, sel) if return_selection else t


def default_needs(*, partner=None, product=None, province=None, world: str | None = None):
    """The needs a selection implies by itself: bilateral rows for partners/provinces or ``world="exclude"``,
    provincial rows for provinces, HS detail for products."""
    from tradepulse.indicators.inputs import Needs
    bilateral = world == "exclude" or (world is None and (partner is not None or province is not None))
    return Needs(level=2 if product is not None else 0, bilateral=bilateral, provincial=province is not None)


def select_dataset(data, needs, *, reporter=None, years=None, flow=None, dataset: str | None = None,
                   keyed: bool = False) -> ir.Table:
    """The flows of ``data`` restricted to the one dataset (and product level) that best answers ``needs`` for
    the request — for indicators that filter rows themselves instead of through :func:`select_flows`.
    ``reporter``/``years``/``flow`` only guide the choice (coverage); they do not filter.  ``keyed``: read a
    DuckDB warehouse through ``flows_keyed`` (as :func:`select_flows`)."""
    t = as_table(data, "flows")
    if keyed and isinstance(data, Warehouse):
        keyed_t = data.keyed_flows()
        t = keyed_t if keyed_t is not None else t
    return _one_dataset(data, t, Selection(), reporter=reporter, years=years, flow=flow, partner=None,
                        product=None, province=None, world=None, needs=needs, dataset=dataset)


def _one_dataset(data, t: ir.Table, sel: Selection, *, reporter, years, flow, partner, product, province, world,
                 needs, dataset):
    """Restrict ``t`` to one dataset (see :func:`select_flows`); record the resolution's meta."""
    from tradepulse import meta as _meta
    from tradepulse.indicators import inputs

    if "firm" in t.columns:   # firm_flows: one customs source by construction (datasets describe goods flows)
        return t
    if needs is None:
        needs = default_needs(partner=partner, product=product, province=province, world=world)
    dataset = dataset or inputs.forced_dataset()
    col = _meta.current_collector()
    key = (needs, dataset)
    res = col.pinned.get(key) if col is not None else None
    if res is None:
        focus = reporter if reporter is not None else (col.reporter if col is not None else None)
        yrs = years if years is not None else (col.years if col is not None else None)
        try:
            yrs_list = parse_years(yrs) if yrs is not None else None
        except (NoDataError, UnknownNameError):
            yrs_list = None
        flows = None if flow is None else _split(flow)
        res = inputs.resolve(data, reporter=focus, years=yrs_list, flow=flows, needs=needs, dataset=dataset)
        if col is not None:
            col.pinned[key] = res
            _meta.record(res.meta)
    sel.meta = res.meta
    sel.dataset = res.dataset
    sel.single_layer = res.single_layer
    return inputs.apply(t, res, needs)


# ---------------------------------------------------------------- layered totals
def national_totals(table, keys: Sequence[str], *, allow_world: bool = True,
                    single_layer: bool = False) -> ir.Table:
    """Sum ``value_usd`` by ``keys`` without double counting the three layers FLOWS may hold.

    Layers, per (year, reporter, flow): 0 = world totals (``partner == WLD``), 1 = national bilateral rows
    (``province`` NULL), 2 = provincial customs rows (their sum is the national bilateral value).  For each
    (year, reporter, flow) only the lowest layer present is used (``allow_world=False`` drops layer 0 first,
    as needed when ``keys`` contains ``partner``).  This implements the WLD rule of :mod:`tradepulse.schema`
    and keeps customs rows from being added to another source's bilateral rows.

    ``single_layer=True`` (:attr:`Selection.single_layer`: the dataset's coverage holds one layer per
    (year, reporter, flow)) skips the layer choice, which then keeps every row: a plain sum by ``keys``.
    A table with the integer product key (``select_flows(keyed=True)``) is grouped by the key and the
    product decoded on the sums (:func:`decode_product`).
    """
    t = as_table(table, "flows")
    if not allow_world:
        t = bilateral(t)
    keyed = "product" in keys and is_keyed(t)
    gkeys = [k for c in keys for k in (KEY_COLUMNS if (keyed and c == "product") else (c,))]
    if single_layer:
        out = t.group_by(gkeys).aggregate(value_usd=t.value_usd.sum())
        return decode_product(out, [*keys, "value_usd"]) if keyed else out
    t = t.mutate(_layer=ibis.cases((t.partner == schema.WORLD, 0), (t.province.isnull(), 1), else_=2))
    lead = ["year", "reporter", "flow"]
    # one pass over the detail rows: sums by keys × lead × layer; the layer choice is a window over those
    # (far fewer) sums.  A self-join of the detail rows with their per-lead minimum made DuckDB materialise
    # every decoded row (4.3 GB on six BACI years, issue 19).  Σ over the best layer's rows = Σ of its sums.
    group = list(dict.fromkeys([*gkeys, *lead, "_layer"]))
    part = t.group_by(group).aggregate(value_usd=t.value_usd.sum())
    # the window goes into a column first: a window inside a filter compiles to SQL that Spark cannot resolve
    part = part.mutate(_best=part._layer.min().over(group_by=[part[c] for c in lead]))
    part = part.filter(part._layer == part._best)
    out = part.group_by(gkeys).aggregate(value_usd=part.value_usd.sum())
    return decode_product(out, [*keys, "value_usd"]) if keyed else out


#: The integer product key of a keyed table (see :func:`tradepulse.warehouse.keyed_view_sql`).
KEY_COLUMNS = ("product_key", "product_text")


def is_keyed(table: ir.Table) -> bool:
    """Does ``table`` carry the integer product key (``select_flows(keyed=True)`` on a DuckDB warehouse)?"""
    return all(c in table.columns for c in KEY_COLUMNS)


def decode_product(table: ir.Table, columns: Sequence[str] | None = None) -> ir.Table:
    """``product`` from the key columns of an aggregate (a 6-digit key → its zero-padded number, else the
    text), the key columns dropped; ``columns`` orders the result (default: ``product`` where the key was)."""
    product = ibis.cases((table.product_key >= 0, table.product_key.cast("string").lpad(6, "0")),
                         else_=table.product_text)
    if columns is None:   # a ``product`` column of the table itself gives way to the decoded one
        columns = [c for c in table.columns if c not in ("product", "product_text")]
        columns = ["product" if c == "product_key" else c for c in columns]
    return table.mutate(product=product).select(*columns)


#: The integer country keys of a keyed table (:func:`tradepulse.warehouse.keyed_view_sql`).
COUNTRY_KEYS = {"reporter": ("reporter_key", "reporter_text"), "partner": ("partner_key", "partner_text")}


def decode_countries(frame, columns: Sequence[str]):
    """A fetched frame's country key columns back to ``reporter``/``partner`` codes (in pandas; see
    :func:`tradepulse.warehouse.decode_country`); ``columns`` leads the result, the other columns follow."""
    from tradepulse.warehouse import decode_country
    out = frame.copy()
    keys = []
    for name, (k, t) in COUNTRY_KEYS.items():
        if k in out.columns:
            out[name] = decode_country(out[k].to_numpy(), out[t].to_numpy())
            keys += [k, t]
    rest = [c for c in out.columns if c not in keys and c not in columns]
    return out[[*columns, *rest]]


def unkeyed(table: ir.Table) -> ir.Table:
    """After ``product`` was rewritten (an HS level cut), key the new text (−1, the text) so that a keyed
    table stays one to one with its ``product``."""
    if not is_keyed(table):
        return table
    return table.mutate(product_key=ibis.literal(-1).cast(table.product_key.type()), product_text=table["product"])
