"""The brief's current-period section: latest month, year to date against the same months a year earlier, and
the 12-month rolling total — exports and imports, each naming its dataset and the month its data end.

The figures come from :func:`tradepulse.indicators.current.current_figures` (the web overview page calls
:func:`tradepulse.indicators.current.overview` — same block, no report module needed); this module adds the
translatable row labels and flattens the figures for the brief's snapshot.
"""

from __future__ import annotations

import datetime as dt

from tradepulse.i18n import N_

__all__ = ["FLOW_LABELS", "current_section", "flat_figures", "overview_current"]

FLOW_LABELS = {"export": N_("Exports"), "import": N_("Imports")}


def current_section(warehouse, reporter: str, province: str | None = None, *, as_of: dt.date | None = None,
                    calendar: str = "solar-hijri", flows=("export", "import")) -> dict:
    """:func:`~tradepulse.indicators.current.current_figures` with a ``label`` (msgid) on every row."""
    from tradepulse.indicators.current import current_figures

    out = current_figures(warehouse, reporter, province, as_of=as_of, calendar=calendar, flows=flows)
    for r in out["rows"]:
        r["label"] = FLOW_LABELS[r["flow"]]
    return out


def overview_current(warehouse=None, reporter: str | None = None, province: str | None = None, *,
                     calendar: str = "solar-hijri") -> dict:
    """:func:`tradepulse.indicators.current.overview` with the row labels."""
    from tradepulse.indicators.current import overview

    out = overview(warehouse, reporter, province, calendar=calendar)
    for r in out["rows"]:
        r["label"] = FLOW_LABELS[r["flow"]]
    return out


def flat_figures(section: dict) -> dict[str, float]:
    """``{"current.export.ytd": value, ...}`` for the snapshot of a brief (None values left out)."""
    out = {}
    for r in section.get("rows", []):
        for key in ("latest", "ytd", "rolling12"):
            if r.get(key) is not None:
                out[f"current.{r['flow']}.{key}"] = float(r[key])
    return out
