"""Seed data: the standard institutions, and a demo set of working groups (SYNTHETIC).

``seed_demo(url, provinces=...)`` creates one national group and one group per province, each with the
seed member institutions, a few people, weekly meetings with decisions, and action items in every status
(some overdue, some due and some done in the current week), plus three demo users.  Everything is
deterministic for a given ``today`` and ``seed``; names are labelled as demo data.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from tradepulse.groups.db import session_factory
from tradepulse.groups.service import SEED_INSTITUTIONS, GroupService

#: Provinces seeded when none are given (English names as used by the demo customs data).
DEFAULT_PROVINCES = ("Tehran", "Razavi Khorasan", "Isfahan", "Khuzestan", "East Azerbaijan")


def province_fa(name: str) -> str:
    """Persian name of a province of the reference list (:mod:`tradepulse.reference.provinces`), else ``name``."""
    from tradepulse.reference.provinces import province_name

    return province_name(name, "fa")

#: Demo users (username, password, role) — for local demos only; change them in any real deployment.
DEMO_USERS = (("admin", "admin-demo", "admin"), ("secretary", "secretary-demo", "secretary"),
              ("viewer", "viewer-demo", "viewer"))

_ACTIONS = (  # title, owner code, linked target id or None, linked indicator or None
    ("Prepare a list of exporters of carpets (HS 5701/5702) for the next trade fair", "chamber_commerce",
     "handicrafts_exports", None),
    ("Publish border crossing waiting times weekly", "customs", None, "lost_markets"),
    ("Open a pre-shipment finance window for SMEs", "edbi", "non_oil_exports", None),
    ("Certify laboratories for agri-food exports to neighbours", "standards", None, "new_rca_products"),
    ("Agree rail tariff discount for transit cargo", "transport", "neighbour_share", None),
    ("Survey cooperatives on export barriers", "chamber_coop", None, "export_survival"),
    ("Map pistachio and saffron producers by district", "agriculture", None, "top_movers"),
)


def seed_demo(url: str | None = None, provinces: tuple[str, ...] | list[str] | None = DEFAULT_PROVINCES, *,
              today: dt.date | None = None, seed: int = 1400, users: bool = True,
              actor: str = "demo-seed") -> dict:
    """Fill the groups database at ``url`` with SYNTHETIC demo groups; returns counts.

    Meetings are on the Saturdays of the four weeks up to ``today`` (default: the current date).  Per
    group, action deadlines are spread from 3 weeks before to 3 weeks after ``today``; statuses cycle so
    every group has overdue, due-this-week and done-this-week items.
    """
    today = today or dt.date.today()
    rng = np.random.default_rng(seed)
    Session = session_factory(url)
    counts = {"groups": 0, "people": 0, "meetings": 0, "decisions": 0, "actions": 0, "users": 0}
    with Session() as session:
        svc = GroupService(session)
        svc.ensure_seed_institutions(actor)
        members = [c for c, *_ in SEED_INSTITUTIONS if c != "tpo"]
        specs = [("National working group", "کارگروه ملی", None)] + [
            (f"{p} working group", f"کارگروه استان {province_fa(p)}", p) for p in (provinces or ())]
        # Saturday on or before today (Iranian weeks start on Saturday; Monday=0 … Saturday=5)
        saturday = today - dt.timedelta(days=(today.weekday() - 5) % 7)
        for gi, (name, name_fa, province) in enumerate(specs):
            existing = [g for g in svc.groups() if g.name == name]
            if existing:
                continue
            grp = svc.create_group(name, province=province, name_fa=name_fa, members=members, actor=actor)
            counts["groups"] += 1
            people = []
            for pi, code in enumerate(["tpo"] + members[:4]):
                role = "secretary" if code == "tpo" else ("chair" if pi == 1 else "member")
                people.append(svc.add_person(f"Demo person {gi + 1}.{pi + 1} ({code})", code, group=grp.id,
                                             role=role, actor=actor))
                counts["people"] += 1
            decisions = []
            for wk in range(4):
                day = saturday - dt.timedelta(days=7 * (3 - wk))
                chosen = [p.id for p in people if rng.random() < 0.8] or [people[0].id]
                m = svc.record_meeting(grp.id, day, title=f"Weekly meeting {wk + 1}",
                                       minutes="SYNTHETIC demo minutes: reviewed targets and open actions.",
                                       attendees=chosen, actor=actor)
                counts["meetings"] += 1
                d = svc.add_decision(m.id, f"Follow up the export targets reviewed on {day.isoformat()}",
                                     actor=actor)
                decisions.append(d)
                counts["decisions"] += 1
            statuses = ("open", "in_progress", "done", "open", "cancelled", "in_progress", "done")
            for ai, (title, owner, target, indicator) in enumerate(_ACTIONS):
                offset = int(rng.integers(-21, 22))
                deadline = today + dt.timedelta(days=offset)
                status = statuses[(ai + gi) % len(statuses)]
                done_on = (saturday + dt.timedelta(days=int(rng.integers(0, max(1, (today - saturday).days + 1)))))\
                    if status == "done" else None
                svc.add_action(grp.id, title, owner, deadline, decision_id=decisions[ai % 4].id, status=status,
                               target_id=target, indicator=indicator, completed_on=done_on, actor=actor)
                counts["actions"] += 1
            # one item surely overdue and one surely due this week, whatever the random offsets
            svc.add_action(grp.id, "Send the monthly export statistics to the secretariat", "customs",
                           today - dt.timedelta(days=10), status="open", indicator="non_oil_balance", actor=actor)
            svc.add_action(grp.id, "Confirm participants for the provincial export fair", "chamber_commerce",
                           saturday + dt.timedelta(days=6), status="in_progress", actor=actor)
            counts["actions"] += 2
        if users:
            have = {u.username for u in svc.users()}
            for username, password, role in DEMO_USERS:
                if username not in have:
                    svc.create_user(username, password, role, actor=actor, enforce_policy=False)  # SYNTHETIC demo
                    counts["users"] += 1
    Session.kw["bind"].dispose()
    return counts
