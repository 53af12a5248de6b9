"""Provincial and national working groups: institutions, people, meetings, decisions, action items
(optimistic locking), audit log and users.  See docs/working-groups.md.

Entry points: :func:`tradepulse.groups.db.session_factory`, :class:`tradepulse.groups.service.GroupService`,
:func:`tradepulse.groups.seed.seed_demo`, :mod:`tradepulse.groups.csvio`.
"""
