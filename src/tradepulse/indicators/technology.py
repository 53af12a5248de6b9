"""Technology content (Lall 2000 classes) and end use (BEC Rev.4 / SNA classes) of trade, shares over time.

**Lall** (Lall 2000, "The technological structure and performance of developing country manufactured
exports, 1985–98", Oxford Development Studies 28(3)) classifies SITC Rev.2 4-digit products into PP
(primary), RB1/RB2 (resource-based), LT1/LT2 (low tech), MT1–MT3 (medium tech), HT1/HT2 (high tech).
tradepulse does **not** ship a SITC→Lall table (the copies we know state no licence): pass one with
``lall=FILE`` (CSV with columns ``sitc2`` and ``lall_code``; ``lall_label`` optional).  HS data need an
HS6→SITC2 concordance: ``hs_sitc=FILE`` (CSV ``hs6, sitc2`` [, ``weight``]) or, by default, one derived
from the conversion weights shipped in ``atlas-common-data`` (Apache-2.0; HS revision → … → HS1992 → SITC3
→ SITC2, composed as sparse matrices; a code's weights sum to 1).

**BEC**: the HS2017 6-digit → BEC Rev.4 table of the R package *concordance* (MIT, licence notice in
``data/hs2017_bec4.csv``) is shipped.  Data of another HS revision are first converted to HS2017 through the
same atlas-common-data weights as Lall (H_k → H_{k±1} → … → H5, trade-weighted splits): an HS1992 code such
as 271000 (petroleum oils) is spread over its HS2017 successors instead of falling into ``unclassified``.
Rows whose revision is unknown are matched code by code (a warning says so).  100 HS6 codes map to several BEC codes (93 to two, up to eight):
their value is split equally (``split="equal"``, default) or given to the first listed code
(``split="first"``).  BEC codes group into the SNA basic classes of BEC Rev.4 (UN Statistics Division,
Series M No. 53 Rev.4): capital (410, 521), intermediate (111, 121, 210, 220, 310, 322, 420, 530),
consumption (112, 122, 522, 610, 620, 630), and *mixed / not classified*
(510 passenger cars, 321 motor spirit, 320 unsplit fuels, 700 goods n.e.s.).

**Codes shorter than 6 digits** (HS4 / HS2 data) are spread equally over the 6-digit codes under them in
the concordance (no trade weights are available: documented approximation).  Products without a mapping
form the class ``unclassified`` so that shares sum to 1.

**Unclassified value** is reported in the result's :mod:`tradepulse.meta`: ``coverage["unclassified_share"]``
(over the whole result) and a warning when it exceeds 1 % naming the largest unclassified codes.

Shares: share_c = value_c / Σ_c value_c per year × unit.  All mappings are applied as sparse matrices
(SciPy) to the product × (year, unit) value matrix.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tradepulse.meta import provenance
from tradepulse.errors import InputError, NoDataError, UnknownNameError
from tradepulse.indicators import selection as sel
from tradepulse.i18n import N_
from tradepulse.meta import Note, ResultMeta, attach
from tradepulse.reference.hs_conversion import ATLAS_HS, atlas_step, compose

DATA = Path(__file__).parent / "data"

LALL_LABELS = {
    "PP": "Primary products", "RB1": "Resource-based: agro-based", "RB2": "Resource-based: other",
    "LT1": "Low technology: textile, garment and footwear", "LT2": "Low technology: other products",
    "MT1": "Medium technology: automotive", "MT2": "Medium technology: process",
    "MT3": "Medium technology: engineering", "HT1": "High technology: electronic and electrical",
    "HT2": "High technology: other", "unclassified": "Unclassified (special transactions, gold, unmapped)",
}
LALL_ORDER = list(LALL_LABELS)

BEC_LABELS = {
    "111": "Food and beverages, primary, mainly for industry",
    "112": "Food and beverages, primary, mainly for household consumption",
    "121": "Food and beverages, processed, mainly for industry",
    "122": "Food and beverages, processed, mainly for household consumption",
    "210": "Industrial supplies n.e.s., primary", "220": "Industrial supplies n.e.s., processed",
    "310": "Fuels and lubricants, primary", "320": "Fuels and lubricants, processed (not split)",
    "321": "Fuels and lubricants, processed, motor spirit",
    "322": "Fuels and lubricants, processed (other than motor spirit)",
    "410": "Capital goods (except transport equipment)",
    "420": "Parts and accessories of capital goods (except transport equipment)",
    "510": "Transport equipment, passenger motor cars", "521": "Transport equipment, other, industrial",
    "522": "Transport equipment, other, non-industrial", "530": "Parts and accessories of transport equipment",
    "610": "Consumption goods n.e.s., durable", "620": "Consumption goods n.e.s., semi-durable",
    "630": "Consumption goods n.e.s., non-durable", "700": "Goods n.e.s.",
    "unclassified": "Unclassified (no BEC code)",
}
END_USE = {
    "410": "capital", "521": "capital",
    **{c: "intermediate" for c in ("111", "121", "210", "220", "310", "322", "420", "530")},
    **{c: "consumption" for c in ("112", "122", "522", "610", "620", "630")},
    **{c: "mixed" for c in ("320", "321", "510", "700")},
}
END_USE_LABELS = {"capital": "Capital goods", "intermediate": "Intermediate goods",
                  "consumption": "Consumption goods", "mixed": "Mixed / not classified by end use",
                  "unclassified": "Unclassified (no BEC code)"}
BEC_LEVELS = ("end_use", "bec", "bec1")

__all__ = ["load_lall", "load_concordance", "atlas_hs_to_sitc2", "atlas_hs_to_hs", "bec_table", "map_values",
           "lall_shares", "bec_shares", "lall_mapping", "LALL_LABELS", "BEC_LABELS", "END_USE"]


# ---------------------------------------------------------------- tables
def _read_csv(path, required: list[str]) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=str(path))
    try:
        df = pd.read_csv(path, dtype=str, comment="#", keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV file ({exc})", file=str(path)) from None
    for col in required:
        if col not in df.columns:
            raise InputError(f"missing column; the file has {list(df.columns)}", file=str(path), column=col)
    return df


def _check_codes(df: pd.DataFrame, col: str, digits: tuple[int, ...], path) -> pd.Series:
    codes = df[col].str.strip()
    bad = ~codes.str.fullmatch(r"\d+") | ~codes.str.len().isin(digits)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{codes.iloc[i]!r} is not a {'/'.join(map(str, digits))}-digit code",
                         file=str(path), line=i + 2, column=col)
    return codes


def load_lall(path) -> pd.DataFrame:
    """A SITC Rev.2 → Lall table from CSV (``sitc2``, ``lall_code`` [, ``lall_label``]).

    SITC codes of 1–3 digits are zero-padded to 4 (files exported from Stata store them as integers).
    Codes other than the ten Lall classes (e.g. ``Special``, ``Gold``) become ``unclassified``.
    """
    df = _read_csv(path, ["sitc2", "lall_code"])
    sitc = _check_codes(df, "sitc2", (1, 2, 3, 4), path).str.zfill(4)
    code = df["lall_code"].str.strip().str.upper()
    code = code.where(code.isin(LALL_ORDER[:-1]), "unclassified")
    out = pd.DataFrame({"sitc2": sitc, "lall_code": code})
    if out["sitc2"].duplicated().any():
        i = int(np.flatnonzero(out["sitc2"].duplicated().to_numpy())[0])
        raise InputError(f"SITC code {out['sitc2'].iloc[i]} appears twice", file=str(path), line=i + 2,
                         column="sitc2")
    return out


def load_concordance(path, source: str = "hs6", target: str = "sitc2") -> pd.DataFrame:
    """A concordance CSV with columns ``source``, ``target`` and optional ``weight`` → ``source, target,
    weight`` with weights normalised to sum to 1 per source code (equal split when no weight column)."""
    df = _read_csv(path, [source, target])
    src = _check_codes(df, source, (5, 6) if source == "hs6" else (1, 2, 3, 4, 5, 6), path)
    src = src.str.zfill(6) if source == "hs6" else src
    tgt = _check_codes(df, target, (1, 2, 3, 4), path)
    tgt = tgt.str.zfill(4) if target == "sitc2" else tgt
    if "weight" in df.columns:
        w = pd.to_numeric(df["weight"], errors="coerce")
        if w.isna().any() or (w < 0).any():
            i = int(np.flatnonzero((w.isna() | (w < 0)).to_numpy())[0])
            raise InputError("weight must be a number ≥ 0", file=str(path), line=i + 2, column="weight")
    else:
        w = pd.Series(1.0, index=df.index)
    out = pd.DataFrame({"source": src, "target": tgt, "weight": w.to_numpy(dtype="float64")})
    out["weight"] = out["weight"] / out.groupby("source")["weight"].transform("sum")
    return out


def _sparse(src: pd.Series, tgt: pd.Series, w: np.ndarray):
    si, s_codes = pd.factorize(src, sort=True)
    ti, t_codes = pd.factorize(tgt, sort=True)
    m = sp.csr_matrix((w, (si, ti)), shape=(len(s_codes), len(t_codes)))
    return m, pd.Index(s_codes), pd.Index(t_codes)


@cache
def atlas_hs_to_sitc2(revision: str = "HS1992") -> pd.DataFrame:
    """HS6 (of ``revision``) → SITC Rev.2 4-digit weights from atlas-common-data's conversion weights.

    Chain: H_k → H_{k−1} → … → H0 → S3 → S2; weights compose by sparse matrix product.  Returns
    ``source`` (HS6), ``target`` (SITC2), ``weight`` (Σ per source = 1 where the chain is complete).
    """
    chain = compose(atlas_hs_to_hs(revision, "HS1992"), atlas_step("H0", "S3")) \
        if revision != "HS1992" else atlas_step("H0", "S3")
    chain = compose(chain, atlas_step("S3", "S2"))
    return chain.groupby(["source", "target"], as_index=False)["weight"].sum()


@cache
def atlas_hs_to_hs(source: str, target: str) -> pd.DataFrame:
    """HS6 of revision ``source`` → HS6 of revision ``target`` (e.g. HS1992 → HS2017) from atlas-common-data's
    conversion weights between neighbouring revisions (H0 ↔ H1 ↔ … ↔ H6, trade-weighted splits), composed as
    sparse products forward or backward.  ``source, target, weight``; a code's weights sum to 1.

    The atlas H0 → H1 table spreads some groups over codes that are not HS1996 codes (e.g. HS1992 271000
    petroleum oils: 21 % to 271000, the rest to 2710xx codes of later revisions), which the H1 → H2 table
    does not continue; composed as is, 76 % of 271000 would vanish.  The composed weights are therefore
    rescaled to sum to 1 per source code (20 of 5,039 HS1992 codes are affected): value is conserved and
    spread over the reachable targets in proportion."""
    for rev in (source, target):
        if rev not in ATLAS_HS:
            raise UnknownNameError("HS revision", rev, list(ATLAS_HS))
    i, j = int(ATLAS_HS[source][1]), int(ATLAS_HS[target][1])
    if i == j:
        raise ValueError("source and target revisions are the same")
    step = 1 if j > i else -1
    chain = atlas_step(f"H{i}", f"H{i + step}")
    for k in range(i + step, j, step):              # at most 6 steps
        chain = compose(chain, atlas_step(f"H{k}", f"H{k + step}"))
    chain = chain.groupby(["source", "target"], as_index=False)["weight"].sum()
    chain["weight"] /= chain.groupby("source")["weight"].transform("sum")
    return chain


@cache
def bec_table(split: str = "equal") -> pd.DataFrame:
    """The shipped HS2017 HS6 → BEC Rev.4 table as ``source, target, weight``.

    ``split="equal"``: an HS6 code listed with two BEC codes gives each half its value; ``"first"``: all
    of it to the first code listed upstream.
    """
    df = pd.read_csv(DATA / "hs2017_bec4.csv", dtype=str, comment="#")
    if split == "first":
        df = df.drop_duplicates("hs6", keep="first")
    elif split != "equal":
        raise UnknownNameError("BEC split rule", split, ["equal", "first"])
    out = pd.DataFrame({"source": df["hs6"].str.zfill(6), "target": df["bec"], "weight": 1.0})
    out["weight"] = 1.0 / out.groupby("source")["source"].transform("size")
    return out


# ---------------------------------------------------------------- mapping
def _expand_short_codes(mapping: pd.DataFrame, codes: pd.Index) -> pd.DataFrame:
    """Add rows for product codes shorter than the mapping's source codes (HS4, HS2): each is spread
    equally over the source codes under it, then through their own weights."""
    lens = pd.Series(codes.str.len(), index=codes).unique()
    src_len = int(mapping["source"].str.len().max())
    parts = [mapping]
    for L in sorted(int(x) for x in lens if x < src_len):
        m = mapping.assign(prefix=mapping["source"].str[:L])
        n_children = m.groupby("prefix")["source"].transform("nunique")
        parts.append(pd.DataFrame({"source": m["prefix"], "target": m["target"],
                                   "weight": m["weight"] / n_children}))
    out = pd.concat(parts, ignore_index=True)
    return out.groupby(["source", "target"], as_index=False)["weight"].sum()


def map_values(frame: pd.DataFrame, mapping: pd.DataFrame, *, keys: list[str], product: str = "product",
               value: str = "value_usd", target: str = "class", classes: dict[str, str] | None = None
               ) -> pd.DataFrame:
    """Distribute ``value`` of each product over mapping targets: V[k, c] = Σ_p X[k, p] · M[p, c].

    ``mapping``: ``source, target, weight``; ``classes`` optionally maps targets on to coarser classes.
    Products absent from the mapping go to ``unclassified``.  Returns ``keys + [target, value]``.
    """
    df = frame[[*keys, product, value]].copy()
    df[value] = pd.to_numeric(df[value], errors="coerce").fillna(0.0)
    df[product] = df[product].astype(str)
    mp = _expand_short_codes(mapping, pd.Index(df[product].unique()))
    if classes is not None:
        mp = mp.assign(target=mp["target"].map(classes).fillna("unclassified"))
        mp = mp.groupby(["source", "target"], as_index=False)["weight"].sum()
    # unmapped products → unclassified (weight 1)
    missing = pd.Index(df[product].unique()).difference(pd.Index(mp["source"].unique()))
    if len(missing):
        mp = pd.concat([mp, pd.DataFrame({"source": missing, "target": "unclassified", "weight": 1.0})],
                       ignore_index=True)
    ki = df.groupby(keys, sort=True).ngroup().to_numpy() if keys else np.zeros(len(df), dtype=int)
    key_frame = df[keys].assign(_k=ki).drop_duplicates("_k").sort_values("_k") if keys else None
    M, prods, tcodes = _sparse(mp["source"], mp["target"], mp["weight"].to_numpy())
    pi = prods.get_indexer(df[product])
    X = sp.csr_matrix((df[value].to_numpy(), (ki, pi)), shape=(int(ki.max()) + 1 if len(ki) else 0, len(prods)))
    V = (X @ M).tocoo()
    out = pd.DataFrame({"_k": V.row, target: tcodes[V.col], value: V.data})
    if keys:
        out = out.merge(key_frame, on="_k").drop(columns="_k")
    else:
        out = out.drop(columns="_k")
    return out[[*keys, target, value]]


def _shares(df: pd.DataFrame, keys: list[str], target: str, labels: dict[str, str], order: list[str]) -> pd.DataFrame:
    df = df[df["value_usd"] != 0].copy()
    df["share"] = df["value_usd"] / df.groupby(keys)["value_usd"].transform("sum")
    df["label"] = df[target].map(labels).fillna(df[target])
    rank = {c: i for i, c in enumerate(order)}
    df["_o"] = df[target].map(rank).fillna(len(order))
    return df.sort_values([*keys, "_o", target]).drop(columns="_o").reset_index(drop=True)[
        [*keys, target, "label", "value_usd", "share"]]


def _flows_frame(data, *, reporter, years, partner, product, province, flow, groups_file,
                 product_groups_file, hs_revision_out: list | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Values by year × unit × product from FLOWS (or a plain frame with those columns)."""
    from tradepulse.indicators.inputs import Needs
    t = sel.select_flows(data, reporter=reporter, years=years, partner=partner, product=product,
                         province=province, flow=flow, strict_years=False, groups_file=groups_file,
                         product_groups_file=product_groups_file,
                         needs=Needs(level=4, bilateral=partner is not None or province is not None,
                                     provincial=province is not None, what="technology content shares"))
    if province is not None:
        units = ["reporter", "province"]
        df = t.group_by(["year", *units, "product"]).aggregate(value_usd=t.value_usd.sum()).to_pandas()
    else:
        units = ["reporter"]
        df = sel.national_totals(t, ["year", "reporter", "product"], allow_world=partner is None).to_pandas()
    if df.empty:
        raise NoDataError("no flows in this selection")
    if hs_revision_out is not None:
        hs_revision_out.append(t)
    return df, ["year", *units]


# ---------------------------------------------------------------- shares
@provenance
def lall_shares(data, *, lall, hs_sitc=None, classification: str = "hs", hs_revision: str | None = None,
                fallback3: bool = True, reporter=None, years=None, partner=None, product=None, province=None, flow: str = "export",
                groups_file: str | None = None, product_groups_file: str | None = None) -> pd.DataFrame:
    """Lall technology-class shares of trade per year × reporter (× province).

    ``lall``: path of a SITC2→Lall CSV (or a frame from :func:`load_lall`).  ``classification``: ``hs``
    (FLOWS products are HS codes: mapped through ``hs_sitc`` — a path or frame — or, when None, the
    atlas-common-data weights for ``hs_revision``, default the revision stored in the rows, else HS1992)
    or ``sitc2`` (products are already SITC Rev.2 codes).
    ``fallback3``: see :func:`lall_mapping`.
    Returns ``year, reporter, [province,] lall_code, label, value_usd, share``.
    """
    table = lall if isinstance(lall, pd.DataFrame) else load_lall(lall)
    if classification not in ("hs", "sitc2"):
        raise UnknownNameError("product classification", classification, ["hs", "sitc2"])
    selected: list = []
    df, keys = _flows_frame(data, reporter=reporter, years=years, partner=partner, product=product,
                            province=province, flow=flow, groups_file=groups_file,
                            product_groups_file=product_groups_file, hs_revision_out=selected)
    if classification == "sitc2":
        mapping = lall_mapping(table, df["product"].astype(str).unique(), fallback3=fallback3)
    else:
        if hs_sitc is None:
            rev = hs_revision or _stored_revision(selected[0])
            conc = atlas_hs_to_sitc2(rev)
        else:
            conc = hs_sitc if isinstance(hs_sitc, pd.DataFrame) else load_concordance(hs_sitc)
        mapping = compose(conc, lall_mapping(table, conc["target"].unique(), fallback3=fallback3))
    out = map_values(df, mapping, keys=keys, target="lall_code")
    meta = _unclassified_meta(df, mapping, out, "lall_code", "Lall")
    return attach(_shares(out, keys, "lall_code", LALL_LABELS, LALL_ORDER), meta)


UNCLASSIFIED_WARN = 0.01   # warn when more than 1 % of the value has no class


def _unclassified_meta(df: pd.DataFrame, mapping: pd.DataFrame, out: pd.DataFrame, target: str, what: str,
                       classes: dict[str, str] | None = None, n_show: int = 3) -> ResultMeta:
    """Meta with the unclassified share of ``out`` (mapped values) and, above 1 %, a warning naming the
    product codes that contribute most to it (from a product-level run of the same mapping)."""
    meta = ResultMeta()
    total = float(out["value_usd"].sum())
    un = float(out.loc[out[target] == "unclassified", "value_usd"].sum())
    share = un / total if total > 0 else 0.0
    meta.coverage["unclassified_share"] = share
    meta.coverage["unclassified_value_usd"] = un
    if share > UNCLASSIFIED_WARN:
        by_product = df.groupby("product", as_index=False)["value_usd"].sum().assign(code=lambda d: d["product"])
        per = map_values(by_product, mapping, keys=["code"], target=target, classes=classes)
        top = per[per[target] == "unclassified"].nlargest(n_show, "value_usd")
        codes = ", ".join(f"{c} ({v / total:.1%})" for c, v in zip(top["code"], top["value_usd"]))
        meta.warn(Note(N_("{classification}: {share:.1%} of the value has no class (unclassified); largest: "
                          "{codes}"), classification=what, share=share, codes=codes))
    return meta


def lall_mapping(table: pd.DataFrame, codes, *, fallback3: bool = True) -> pd.DataFrame:
    """SITC2 → Lall as ``source, target, weight`` covering ``codes``.

    A 4-digit code missing from the table takes the class of its 3-digit group when every listed code of
    that group has the same class (``fallback3``; e.g. SITC 3341–3344 → RB2 like 3345, the only listed
    code of group 334); other missing codes → ``unclassified``.
    """
    known = table.set_index("sitc2")["lall_code"]
    codes = pd.Index(pd.unique(pd.Series(list(codes), dtype=str)))
    missing = codes.difference(known.index)
    g3 = table.groupby(table["sitc2"].str[:3])["lall_code"]
    by3 = g3.first().where(g3.nunique() == 1, "unclassified")
    fill = pd.Series(missing.str[:3], index=missing).map(by3) if fallback3 else pd.Series(index=missing, dtype=object)
    fill = fill.fillna("unclassified")
    src = np.concatenate([known.index.to_numpy(dtype=object), missing.to_numpy(dtype=object)])
    tgt = np.concatenate([known.to_numpy(dtype=object), fill.to_numpy(dtype=object)])
    return pd.DataFrame({"source": src, "target": tgt, "weight": 1.0})


def _stored_revision(t, unknown: str | None = "HS1992") -> str | None:
    """The one HS revision of the selected rows (``unknown`` when none is stated); mixed revisions are
    refused."""
    revs = [r for r in sel.available(t, "hs_revision") if r in ATLAS_HS]
    if len(revs) > 1:
        raise InputError(f"the flows mix HS revisions {revs}; pass hs_revision= (one vintage per analysis)")
    return revs[0] if revs else unknown


@provenance
def bec_shares(data, *, level: str = "end_use", split: str = "equal", hs_revision: str | None = None,
               reporter=None, years=None, partner=None,
               product=None, province=None, flow: str = "export", groups_file: str | None = None,
               product_groups_file: str | None = None) -> pd.DataFrame:
    """BEC shares of trade per year × reporter (× province).

    ``level``: ``end_use`` (capital / intermediate / consumption / mixed), ``bec`` (3-digit BEC Rev.4) or
    ``bec1`` (1-digit BEC).  ``split``: ``equal`` or ``first`` for HS6 codes with two BEC codes.  The table
    is HS2017: data of another revision (``hs_revision``, default the revision stored in the rows) are
    converted to HS2017 first with :func:`atlas_hs_to_hs` (the atlas-common-data weights Lall uses too);
    rows of unknown revision are matched code by code, with a warning.  The meta reports the unclassified
    share (warning above 1 %).  Imports: pass ``flow="import"``.
    """
    if level not in BEC_LEVELS:
        raise UnknownNameError("BEC level", level, list(BEC_LEVELS))
    selected: list = []
    df, keys = _flows_frame(data, reporter=reporter, years=years, partner=partner, product=product,
                            province=province, flow=flow, groups_file=groups_file,
                            product_groups_file=product_groups_file, hs_revision_out=selected)
    table = bec_table(split)
    rev = hs_revision or _stored_revision(selected[0], unknown=None)
    note = None
    if rev is None:
        note = Note(N_("BEC: the rows' HS revision is unknown, so their codes are matched to the HS2017 BEC "
                       "table as they are (pass hs_revision= to convert)"))
    elif rev not in ATLAS_HS:
        raise UnknownNameError("HS revision", rev, list(ATLAS_HS))
    elif rev != "HS2017":
        table = compose(atlas_hs_to_hs(rev, "HS2017"), table)
    if level == "end_use":
        target, classes, labels = "end_use", END_USE, END_USE_LABELS
    elif level == "bec1":
        target, classes = "bec1", {c: c[0] for c in BEC_LABELS if c != "unclassified"}
        labels = {"1": "Food and beverages", "2": "Industrial supplies n.e.s.", "3": "Fuels and lubricants",
                  "4": "Capital goods (except transport) and parts", "5": "Transport equipment and parts",
                  "6": "Consumption goods n.e.s.", "7": "Goods n.e.s.", "unclassified": "Unclassified"}
    else:
        target, classes, labels = "bec", None, BEC_LABELS
    out = map_values(df, table, keys=keys, target=target, classes=classes)
    meta = _unclassified_meta(df, table, out, target, "BEC", classes)
    meta.coverage["hs_revision"] = rev or "UNKNOWN"
    if note:
        meta.warn(note)
    return attach(_shares(out, keys, target, labels, list(labels)), meta)
