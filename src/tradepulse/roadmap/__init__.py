"""Roadmap targets in Solar Hijri (or Gregorian) years, import-substitution monitor, services targets and
mirror-statistics estimates of unrecorded exports.  See docs/roadmap.md.

    from tradepulse.roadmap import roadmap_for, evaluate, status_frame
    rm = roadmap_for("IRN")                  # the country's roadmap file, None when it has none
    statuses = evaluate(rm, "warehouse.duckdb")
    status_frame(statuses)                   # warnings: tradepulse.meta.meta_of(statuses).warnings

Roadmaps are per country: a roadmap file names its ``reporter`` and :func:`roadmap_for` finds it in
``$TRADEPULSE_HOME/roadmaps`` or among the shipped files; another country's roadmap is never used.

Sub-modules (imports go one way, no cycles): :mod:`.model` (file format, validation, per-country lookup),
:mod:`.calendar` (SH helpers), :mod:`.lines` (substituted lines, the before/after year rule, saving series),
:mod:`.metrics` (metric series), :mod:`.status` (status rule), :mod:`.charts` (Altair), :mod:`.substitution`
(bans and substitution monitor), :mod:`.mirror` (unrecorded exports).
"""

from __future__ import annotations

from tradepulse.roadmap import calendar
from tradepulse.roadmap.model import (EXAMPLE, METRICS, Roadmap, Scope, Target, load_roadmap, parse_roadmap,
                                     roadmap_files, roadmap_for)
from tradepulse.roadmap.status import (STATUSES, StatusList, TargetStatus, evaluate, status_frame, status_label,
                                      status_of)

__all__ = ["EXAMPLE", "METRICS", "Roadmap", "STATUSES", "Scope", "StatusList", "Target", "TargetStatus",
           "calendar", "evaluate", "load_roadmap", "parse_roadmap", "roadmap_files", "roadmap_for",
           "status_frame", "status_label", "status_of"]
