"""Roadmap targets in Solar Hijri (or Gregorian) years, import-substitution monitor, services targets and
mirror-statistics estimates of unrecorded exports.  See docs/roadmap.md.

    from tradepulse.roadmap import load_roadmap, evaluate, status_frame
    statuses = evaluate(load_roadmap(), "warehouse.duckdb")
    status_frame(statuses)

Sub-modules: :mod:`.model` (file format, validation), :mod:`.calendar` (SH helpers), :mod:`.metrics`
(metric series), :mod:`.status` (status rule), :mod:`.charts` (Altair), :mod:`.substitution` (bans and
substitution), :mod:`.mirror` (unrecorded exports).
"""

from __future__ import annotations

from tradepulse.roadmap import calendar
from tradepulse.roadmap.model import EXAMPLE, METRICS, Roadmap, Scope, Target, load_roadmap, parse_roadmap
from tradepulse.roadmap.status import STATUSES, TargetStatus, evaluate, status_frame, status_of

__all__ = ["EXAMPLE", "METRICS", "Roadmap", "STATUSES", "Scope", "Target", "TargetStatus", "calendar",
           "evaluate", "load_roadmap", "parse_roadmap", "status_frame", "status_of"]
