""""Since the last brief": every written brief stores a snapshot of its figures; the next brief of the same
scope (reporter + province) compares itself with the latest snapshot dated *before* its reference day.

**Store** (docs/decisions.md, "Brief snapshots"): a small SQLite file beside the briefs
(``brief_snapshots.sqlite`` in the output directory; standard-library ``sqlite3``), table ``brief_snapshots``
with one row per (scope, reference day) — a second brief of the same day (the other language) replaces it.
A snapshot is JSON: ``figures`` (headline and current-period values, US$), ``targets`` (id → status, actual),
``actions`` (id → status, deadline, overdue, title) and ``loads`` (the warehouse load ids seen).

**Comparison** (:func:`compare`):

- *data loaded since*: rows of the warehouse ``loads`` table whose load id the previous snapshot had not seen;
- *targets whose status changed*: same target id, different status (new targets are listed as changed from
  "–");
- *actions*: **closed** = open or in progress before, done or cancelled now; **new** = ids not in the previous
  snapshot; **newly overdue** = overdue now and not overdue before (new overdue items included);
- *indicator changes*: figures present in both whose relative change |now / before − 1| exceeds ``threshold``
  (default 1 %), or that appeared.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sqlite3
from pathlib import Path

from tradepulse.i18n import N_

__all__ = ["FIGURE_LABELS", "SNAPSHOT_FILE", "SnapshotStore", "action_states", "compare", "snapshot_of"]

SNAPSHOT_FILE = "brief_snapshots.sqlite"
OPEN = ("open", "in_progress")

#: Labels of the figures compared between briefs (translated in the catalog).
FIGURE_LABELS = {
    "headline.exports": N_("Exports (latest year)"), "headline.imports": N_("Imports (latest year)"),
    "headline.non_oil_exports": N_("Non-oil exports (latest year)"),
    "headline.non_oil_balance": N_("Non-oil trade balance (latest year)"),
    "current.export.latest": N_("Exports, latest month"), "current.export.ytd": N_("Exports, year to date"),
    "current.export.rolling12": N_("Exports, 12 months rolling"),
    "current.import.latest": N_("Imports, latest month"), "current.import.ytd": N_("Imports, year to date"),
    "current.import.rolling12": N_("Imports, 12 months rolling"),
}


def scope_key(reporter: str, province: str | None) -> str:
    from tradepulse.reference.provinces import province_identity
    return f"{reporter.upper()}|{province_identity(province) if province else ''}"


class SnapshotStore:
    """The SQLite file of brief snapshots (created on first write)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def _con(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path)
        con.execute("CREATE TABLE IF NOT EXISTS brief_snapshots (scope TEXT NOT NULL, as_of TEXT NOT NULL, "
                    "week TEXT, written_at TEXT, snapshot TEXT NOT NULL, PRIMARY KEY (scope, as_of))")
        return con

    def save(self, scope: str, as_of: dt.date, week: str, snapshot: dict) -> None:
        con = self._con()
        try:
            with con:
                con.execute("INSERT OR REPLACE INTO brief_snapshots VALUES (?, ?, ?, ?, ?)",
                            (scope, as_of.isoformat(), week,
                             dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                             json.dumps(snapshot, default=str)))
        finally:
            con.close()

    def previous(self, scope: str, before: dt.date) -> tuple[dt.date, str, dict] | None:
        """The latest snapshot of ``scope`` dated strictly before ``before``: (as_of, week, snapshot)."""
        if not self.path.exists():
            return None
        con = self._con()
        try:
            row = con.execute("SELECT as_of, week, snapshot FROM brief_snapshots WHERE scope = ? AND as_of < ? "
                              "ORDER BY as_of DESC LIMIT 1", (scope, before.isoformat())).fetchone()
        finally:
            con.close()
        if row is None:
            return None
        return dt.date.fromisoformat(row[0]), row[1], json.loads(row[2])


def action_states(groups_url: str | None, province: str | None, as_of: dt.date) -> dict[str, dict]:
    """Every action item of the scope's working group: id → status, deadline, overdue (open or in progress
    with deadline < ``as_of``), title.  Empty when there is no group or the database cannot be opened."""
    from tradepulse.groups.db import session_factory
    from tradepulse.groups.service import GroupService

    try:
        factory = session_factory(groups_url)
    except Exception:   # noqa: BLE001  (the actions section already says why)
        return {}
    try:
        with factory() as session:
            svc = GroupService(session)
            grp = svc.group_for_province(province)
            if grp is None:
                return {}
            return {str(a.id): {"status": a.status, "deadline": a.deadline.isoformat() if a.deadline else None,
                                "overdue": bool(a.status in OPEN and a.deadline is not None and a.deadline < as_of),
                                "title": a.title}
                    for a in svc.actions(group=grp.id)}
    except Exception:   # noqa: BLE001  (a brief is still produced without the comparison)
        return {}
    finally:
        factory.kw["bind"].dispose()


def warehouse_loads(wh) -> list[dict]:
    """The warehouse's loads (id, file, format, rows, value, loaded_at), oldest first."""
    if wh is None:
        return []
    rows = wh.raw.execute("SELECT load_id, file, format, target, rows_loaded, value_usd_loaded, "
                          "CAST(loaded_at AS VARCHAR) FROM loads ORDER BY loaded_at, load_id").fetchall()
    keys = ("load_id", "file", "format", "target", "rows", "value_usd", "loaded_at")
    return [dict(zip(keys, r)) for r in rows]


def snapshot_of(figures: dict[str, float], targets: list[dict], actions: dict[str, dict],
                loads: list[dict]) -> dict:
    """The JSON snapshot of one brief (see the module docstring)."""
    return {"figures": {k: float(v) for k, v in figures.items() if v is not None and not math.isnan(v)},
            "targets": {str(t["id"]): {"status": t.get("status"), "actual": t.get("actual"),
                                       "title": t.get("title")} for t in targets},
            "actions": actions, "loads": [ld["load_id"] for ld in loads]}


def compare(previous: dict, current: dict, loads: list[dict], threshold: float = 0.01) -> dict:
    """What changed from the ``previous`` snapshot to the ``current`` one (see the module docstring)."""
    seen = set(previous.get("loads", []))
    new_loads = [ld for ld in loads if ld["load_id"] not in seen]
    t0, t1 = previous.get("targets", {}), current.get("targets", {})
    targets = [{"id": k, "title": v.get("title"), "before": (t0.get(k) or {}).get("status"), "now": v.get("status")}
               for k, v in t1.items() if (t0.get(k) or {}).get("status") != v.get("status")]
    a0, a1 = previous.get("actions", {}), current.get("actions", {})
    closed = [dict(id=k, **v) for k, v in a1.items()
              if k in a0 and a0[k]["status"] in OPEN and v["status"] not in OPEN]
    new = [dict(id=k, **v) for k, v in a1.items() if k not in a0]
    overdue = [dict(id=k, **v) for k, v in a1.items() if v["overdue"] and not (a0.get(k) or {}).get("overdue")]
    f0, f1 = previous.get("figures", {}), current.get("figures", {})
    changes = []
    for k, now in f1.items():
        before = f0.get(k)
        if before is None:
            changes.append({"key": k, "before": None, "now": now, "growth": None})
        elif before != 0 and abs(now / before - 1) > threshold:
            changes.append({"key": k, "before": before, "now": now, "growth": now / before - 1})
        elif before == 0 and now != 0:
            changes.append({"key": k, "before": before, "now": now, "growth": None})
    return {"loads": new_loads, "targets": targets, "closed": closed, "new": new, "newly_overdue": overdue,
            "changes": changes, "threshold": threshold}
