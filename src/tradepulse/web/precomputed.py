"""Which dashboard results are stored as warehouse summaries, and how a result becomes one and back.

:class:`tradepulse.web.data.DataContext` keys (``("balance", "IRN", "total", None, …)``) whose first element is
in :data:`KINDS` are stored by ``tradepulse refresh`` (:mod:`tradepulse.web.refresh`) as summaries
(:mod:`tradepulse.warehouse.summaries`) and read back by :meth:`DataContext.cached` instead of being computed.
A summary is found under :func:`storage_key`: the focus country, the cache key and, for the roadmap statuses,
what besides the data they depend on (the roadmap file and the current year of each target), so a changed
roadmap file or a new year is computed live rather than served from an old summary.

Codecs: ``frame`` (a DataFrame with its ``attrs``), ``json`` (plain values: the footer's source list, the
current-period figures; kept only when they read back equal), ``tuple`` (frames and plain values, e.g. the product
space's nodes, edges and revision), ``statuses`` (:class:`tradepulse.roadmap.StatusList`: one row of fields
per target plus its yearly series; targets are taken from the roadmap file again).  A result that was a
:class:`~tradepulse.errors.NoDataError` is stored as that error (its message).
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import pandas as pd

from tradepulse.errors import NoDataError
from tradepulse.warehouse.summaries import NotStorable, Summary, decode, encode

#: Key kinds stored by a refresh → codec.  Intermediate results that only feed these (``wld-exports``,
#: ``potential-result``: large) are not stored.
KINDS: dict[str, str] = {
    "balance": "frame", "basket": "frame", "complexity-all": "frame", "atlas-space": "tuple",
    "opportunities": "frame", "end-use": "frame", "potential": "frame", "market-fit": "frame",
    "diversification": "frame", "survival": "frame", "exporters": "frame", "targets": "frame",
    "target-statuses": "statuses", "current-period": "json", "sources": "json",
}


def _roadmap_context(focus: str) -> tuple:
    """What the roadmap statuses depend on besides the data: the roadmap file's digest (and its substitution
    file's) and the current year of each target (the no-recent-data test uses today's date)."""
    from tradepulse.roadmap import roadmap_for
    from tradepulse.roadmap.status import current_year

    road = roadmap_for(focus)
    if road is None:
        return ("no roadmap",)
    h = hashlib.sha256()
    for f in (road.source, road.substitution_file):
        if f:
            p = Path(f) if Path(f).is_absolute() or not road.source else Path(road.source).parent / f
            h.update(p.read_bytes() if p.is_file() else str(f).encode())
    return (h.hexdigest()[:16], tuple(current_year(None, t, road.calendar) for t in road.targets))


def storage_key(focus: str, key: tuple) -> str | None:
    """The summary key of a cache key (None: this kind is not stored)."""
    if not key or key[0] not in KINDS:
        return None
    extra = _roadmap_context(focus) if KINDS[key[0]] == "statuses" else ()
    return encode((focus, tuple(key), extra))


def to_summary(focus: str, key: tuple, hit: tuple[str, Any]) -> Summary:
    """A cache entry ``("ok", value)`` or ``("err", NoDataError)`` as a summary (raises NotStorable)."""
    skey = storage_key(focus, key)
    if skey is None:
        raise NotStorable(f"{key[0]!r} results are not stored")
    kind, value = hit
    name = str(key[0])
    if kind == "err":
        if type(value) is not NoDataError:
            raise NotStorable(f"a {type(value).__name__} is not stored")
        said = value.args[0] if len(value.args) == 1 else str(value)      # a Note stays a Note (translated)
        return Summary(name, skey, {}, {"error": "NoDataError", "message": said})
    codec = KINDS[key[0]]
    if codec == "frame" and isinstance(value, pd.DataFrame):
        return Summary(name, skey, {"": value}, {"codec": "frame"})
    if codec == "tuple" and isinstance(value, tuple):
        frames = {str(i): v for i, v in enumerate(value) if isinstance(v, pd.DataFrame)}
        plain = [None if isinstance(v, pd.DataFrame) else v for v in value]
        return Summary(name, skey, frames, {"codec": "tuple", "values": plain})
    if codec == "statuses":
        return _statuses_summary(name, skey, value)
    if codec == "json" and not isinstance(value, pd.DataFrame):
        if decode(encode(value)) != value:
            raise NotStorable(f"{key[0]!r} does not read back equal")
        return Summary(name, skey, {}, {"codec": "json", "value": value})
    raise NotStorable(f"unexpected {type(value).__name__} for {key[0]!r}")


def _statuses_summary(name: str, skey: str, statuses) -> Summary:
    from tradepulse.meta import meta_of

    rows, frames = [], {}
    for i, st in enumerate(statuses):
        fields = {f.name: getattr(st, f.name) for f in dataclasses.fields(st) if f.name not in ("target", "series")}
        rows.append({"target": st.target.id, "fields": fields})
        frames[str(i)] = st.series
    return Summary(name, skey, frames, {"codec": "statuses", "statuses": rows, "meta": meta_of(statuses)})


def from_summary(focus: str, s: Summary) -> tuple[str, Any] | None:
    """The cache entry a summary stands for; None when it cannot be rebuilt (then the result is computed)."""
    meta = s.meta
    if isinstance(meta, dict) and meta.get("error") == "NoDataError":
        return ("err", NoDataError(meta["message"]))
    codec = meta.get("codec") if isinstance(meta, dict) else None
    if codec == "frame":
        return ("ok", s.frames[""])
    if codec == "json":
        return ("ok", meta["value"])
    if codec == "tuple":
        return ("ok", tuple(s.frames[str(i)] if v is None and str(i) in s.frames else v
                            for i, v in enumerate(meta["values"])))
    if codec == "statuses":
        return _statuses_from(focus, s)
    return None


def _statuses_from(focus: str, s: Summary) -> tuple[str, Any] | None:
    from tradepulse.meta import attach
    from tradepulse.roadmap import StatusList, TargetStatus, roadmap_for

    road = roadmap_for(focus)
    targets = {t.id: t for t in road.targets} if road is not None else {}
    out = StatusList()
    for i, row in enumerate(s.meta["statuses"]):
        target = targets.get(row["target"])
        if target is None:
            return None
        out.append(TargetStatus(target=target, series=s.frames[str(i)], **row["fields"]))
    return ("ok", attach(out, s.meta["meta"]))
