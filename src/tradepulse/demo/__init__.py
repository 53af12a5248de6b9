"""The SYNTHETIC demo world: ``generate`` (in :mod:`tradepulse.demo.world`) and ``build`` (world → warehouse).

``build(out_dir)`` generates a world and loads it through the same ingest path as real data
(:func:`tradepulse.ingest.ingest_frame`, and the customs reader for the Persian-headed customs CSV), so the demo
exercises validation, quarantine and load bookkeeping.  Every row carries ``source="demo-synthetic"`` and every
load's file name starts with ``SYNTHETIC``.  The focus country's customs exports are also split among SYNTHETIC
exporters (:mod:`tradepulse.demo.firms`, ids ``IR-SYN-000123``) and loaded into ``firm_flows`` from a
Persian-headed firm CSV through the customs reader (``target="firm_flows"``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import pandas as pd

from tradepulse.demo.firms import FIRM_HEADERS, firm_stats, generate_firms, write_firms_csv
from tradepulse.demo.world import LABEL, SMALL, SOURCE, DemoWorld, generate
from tradepulse.errors import TradepulseError

__all__ = ["build", "generate", "DemoWorld", "write_customs_csv", "CUSTOMS_HEADERS", "LABEL", "SOURCE",
           "FIRM_HEADERS", "generate_firms", "write_firms_csv", "firm_stats"]

#: Persian column headers of the demo customs CSV (as national customs extracts are laid out) → canonical names.
CUSTOMS_HEADERS: dict[str, str] = {
    "سال": "year",
    "استان": "province",
    "نوع جریان": "flow",
    "کشور طرف معامله": "partner",
    "کد تعرفه": "product",
    "ارزش دلاری": "value_usd",
    "وزن (کیلوگرم)": "quantity",
}
#: Persian flow names used in the customs CSV.
CUSTOMS_FLOWS: dict[str, str] = {"صادرات": "export", "واردات": "import"}


def write_customs_csv(customs: pd.DataFrame, path: Path) -> Path:
    """Write the focus country's customs rows as a CSV with Persian headers (UTF-8, ``CUSTOMS_HEADERS``),
    laid out as a national customs extract: flows in Persian (صادرات export, واردات import), partner countries
    by Persian name (CLDR names from :func:`tradepulse.reference.countries`), provinces by Persian name
    (:mod:`tradepulse.reference.provinces`), Gregorian years, HS4 codes as
    text, values in USD and weights in kilograms.
    """
    from tradepulse import reference

    inv = {v: k for k, v in CUSTOMS_HEADERS.items()}
    flow_fa = {v: k for k, v in CUSTOMS_FLOWS.items()}
    name_fa = reference.countries().set_index("iso3")["name_fa"]
    out = pd.DataFrame({inv[c]: customs[c] for c in CUSTOMS_HEADERS.values()})
    out[inv["flow"]] = customs["flow"].map(flow_fa)
    out[inv["partner"]] = customs["partner"].map(name_fa).fillna(customs["partner"])
    # provinces by Persian name, as a national customs extract names them (the ingest maps them back to the
    # reference list's names)
    from tradepulse.reference.provinces import provinces
    prov_fa = provinces().set_index("name_en")["name_fa"]
    out[inv["province"]] = customs["province"].map(prov_fa).fillna(customs["province"])
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, encoding="utf-8")
    return path


def _customs_reader_options(focus: str):
    """Options for ``ingest_file(..., "customs", **options)`` when the ingest package ships its customs reader
    (default Persian mapping ``customs_fa``); ``None`` → load the customs frame with ``ingest_frame``."""
    from tradepulse import ingest
    if "customs" not in getattr(ingest, "FORMATS", ()) or not hasattr(ingest, "ingest_file"):
        return None
    return {"reporter": focus, "hs_revision": "HS1992", "calendar": "gregorian", "source": SOURCE}


def _firm_reader_options(focus: str) -> dict:
    return {"reporter": focus, "hs_revision": "HS1992", "calendar": "gregorian", "source": SOURCE}


def build(out_dir: str | Path, seed: int = 1400, small: bool = False, *,
          progress: Callable[[str, float], None] | None = None) -> dict:
    """Generate the SYNTHETIC world and load it into ``out_dir/warehouse.duckdb``; return a summary dict.

    An existing ``out_dir/warehouse.duckdb`` is replaced (the demo always starts clean).  Also writes
    ``out_dir/SYNTHETIC-customs-fa.csv`` (the focus country's customs data with Persian headers),
    ``out_dir/SYNTHETIC-customs-firms-fa.csv`` (its customs exports split among SYNTHETIC exporters, loaded into
    ``firm_flows``),
    ``out_dir/demo_summary.json`` (the returned summary) and ``out_dir/README-SYNTHETIC.txt``.
    ``progress(step, fraction)`` reports progress.
    """
    from tradepulse import ingest
    from tradepulse.warehouse import Warehouse

    report = progress or (lambda step, frac: None)
    t0 = time.perf_counter()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise TradepulseError(f"--out {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    kwargs = dict(SMALL) if small else {}
    world = generate(seed=seed, progress=lambda s, f: report(f"generating: {s}", 0.35 * f), **kwargs)
    t_gen = time.perf_counter() - t0

    wh_path = out / "warehouse.duckdb"
    for p in (wh_path, wh_path.with_name(wh_path.name + ".wal")):
        if p.exists():
            p.unlink()
    customs_csv = write_customs_csv(world.customs, out / "SYNTHETIC-customs-fa.csv")
    loads = []
    with Warehouse(wh_path) as wh:
        report("loading world flows", 0.4)
        loads.append(ingest.ingest_frame(wh, world.flows, source=SOURCE, name="SYNTHETIC-demo-flows",
                                         target="flows"))
        report("loading customs (provinces)", 0.8)
        opts = _customs_reader_options(world.meta["focus"])
        customs_loader = "ingest_frame (no customs reader)"
        if opts is not None:
            try:
                loads.append(ingest.ingest_file(wh, customs_csv, "customs", **opts))
                customs_loader = "customs reader"
            except TradepulseError as exc:  # an ingest is atomic, so falling back is safe
                customs_loader = f"ingest_frame (customs reader failed: {exc})"
        if customs_loader != "customs reader":
            loads.append(ingest.ingest_frame(wh, world.customs, source=SOURCE, name=customs_csv.name,
                                             target="flows"))
        report("SYNTHETIC exporters (firm_flows)", 0.85)
        firms = generate_firms(world.customs, focus=world.meta["focus"], seed=seed)
        firms_csv = write_firms_csv(firms, out / "SYNTHETIC-customs-firms-fa.csv")
        loads.append(ingest.ingest_file(wh, firms_csv, "customs", target="firm_flows",
                                        **(opts or _firm_reader_options(world.meta["focus"]))))
        report("loading services and macro", 0.9)
        loads.append(ingest.ingest_frame(wh, world.services, source=SOURCE, name="SYNTHETIC-demo-services",
                                         target="services"))
        loads.append(ingest.ingest_frame(wh, world.macro, source=SOURCE, name="SYNTHETIC-demo-macro",
                                         target="macro"))
    m = world.meta
    summary = {
        "label": LABEL,
        "note": m["note"],
        "out_dir": str(out),
        "warehouse": str(wh_path),
        "customs_csv": str(customs_csv),
        "customs_loader": customs_loader,
        "firms_csv": str(firms_csv),
        "seed": seed,
        "small": small,
        "focus": m["focus"],
        "countries": len(m["countries"]),
        "products": len(m["products"]),
        "years": [m["first_year"], m["last_year"]],
        "bilateral_years": m["bilateral_years"],
        "ban_year": m["ban_year"],
        "rows": {"flows": len(world.flows), "customs": len(world.customs), "firm_flows": len(firms),
                 "services": len(world.services), "macro": len(world.macro)},
        "firms": firm_stats(firms) if len(firms) else {},
        "loads": [r.to_dict() for r in loads],
        "rows_loaded": int(sum(r.rows_loaded for r in loads)),
        "rows_quarantined": int(sum(r.rows_quarantined for r in loads)),
        "focus_by_year": m["focus_by_year"].to_dict(orient="records"),
        "seconds": {"generate": round(t_gen, 2), "total": round(time.perf_counter() - t0, 2)},
    }
    (out / "README-SYNTHETIC.txt").write_text(
        "SYNTHETIC DATA. Everything in this directory was generated by `tradepulse demo` "
        f"(seed {seed}) for demonstration and testing; it is not real trade data.\n", encoding="utf-8")
    (out / "demo_summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str),
                                           encoding="utf-8")
    report("done", 1.0)
    return summary
