"""What a number stands on: the dataset it was computed from, the coverage of that dataset, and warnings.

Every indicator result carries a :class:`ResultMeta`.  A pandas result keeps it in ``frame.attrs["meta"]``
(pandas copies ``attrs`` through most operations); any other result object gets a ``meta`` attribute.
The CLI prints ``meta.warnings`` under its table, the JSON API returns ``meta.to_dict()`` in a ``meta`` block,
web pages show a notice, and the brief lists the warnings in its "data notes" box.

A number without its dataset, coverage and warnings is not finished: callers that combine several results
merge their metas with :meth:`ResultMeta.merge` so no warning is lost on the way to the reader.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Note", "ResultMeta", "attach", "meta_of", "warn", "provenance", "record", "current_collector",
           "use_dataset", "forced_dataset", "collecting"]


class Note(str):
    """A warning sentence that can be translated: the English sentence (the string itself) remembers its
    message template (a msgid marked with ``N_``, ``str.format`` fields) and the values that fill it, so a
    Persian page or brief can show it translated (:meth:`tradepulse.i18n.Formatter.warning`).

    >>> n = Note("{n:,} spells censored", n=1230)
    >>> str(n), n.template, n.params
    ('1,230 spells censored', '{n:,} spells censored', {'n': 1230})
    """

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> "Note":
        self = super().__new__(cls, template.format(**params))
        self.template = template
        self.params = params
        return self

    def __reduce__(self):              # pickled (worker processes, snapshots) with its template
        return (_note, (self.template, self.params))


def _note(template: str, params: dict[str, Any]) -> Note:
    return Note(template, **params)


@dataclass
class ResultMeta:
    """Provenance of one indicator result.

    ``dataset``: the name of the dataset the rows came from (see ``warehouse.datasets``), ``None`` when the
    input was a frame handed in by the caller; ``coverage``: what the dataset holds for the request
    (reporters, years, flows, months, product level, partner detail); ``warnings``: plain sentences a user
    must read before trusting the number (one-sided data, censored spells, unclassified value, ...).
    """

    dataset: str | None = None
    coverage: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    considered: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        """Add a warning once (the same sentence is not repeated)."""
        if message and message not in self.warnings:
            self.warnings.append(message)

    def merge(self, other: "ResultMeta | None") -> "ResultMeta":
        """A meta holding both: datasets joined with ``+`` when they differ, warnings united in order."""
        if other is None:
            return self
        names = [n for n in (self.dataset, other.dataset) if n]
        out = ResultMeta(dataset=" + ".join(dict.fromkeys(names)) or None,
                         coverage={**other.coverage, **self.coverage},
                         warnings=list(self.warnings),
                         considered=list(dict.fromkeys(self.considered + other.considered)))
        for w in other.warnings:
            out.warn(w)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the API's ``meta`` block)."""
        return _jsonable(asdict(self))


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):   # numpy scalars
        try:
            return value.item()
        except (TypeError, ValueError):
            pass
    return value


def meta_of(result) -> ResultMeta:
    """The :class:`ResultMeta` of a result (a new empty one when it has none; never ``None``)."""
    attrs = getattr(result, "attrs", None)
    if isinstance(attrs, dict):
        meta = attrs.get("meta")
    else:
        meta = getattr(result, "meta", None)
    if isinstance(meta, ResultMeta):
        return meta
    if isinstance(meta, dict):   # attrs copied through JSON, or an older pickle
        return ResultMeta(**{k: meta.get(k, v) for k, v in asdict(ResultMeta()).items()})
    return ResultMeta()


def attach(result, meta: ResultMeta | None):
    """Attach ``meta`` to ``result`` (a DataFrame's ``attrs["meta"]``, else a ``meta`` attribute); return it."""
    if meta is None:
        return result
    attrs = getattr(result, "attrs", None)
    if isinstance(attrs, dict):
        attrs["meta"] = meta
    else:
        try:
            setattr(result, "meta", meta)
        except AttributeError:   # frozen dataclasses and slotted objects
            object.__setattr__(result, "meta", meta)
    return result


def warn(result, message: str):
    """Add ``message`` to the warnings of ``result``'s meta (creating the meta when missing); return it."""
    meta = meta_of(result)
    meta.warn(message)
    return attach(result, meta)


# ---------------------------------------------------------------- collecting metas inside one indicator call
import contextlib as _ctx  # noqa: E402
import contextvars as _cv  # noqa: E402
import functools as _ft  # noqa: E402


@dataclass
class Collector:
    """What one indicator call has read so far: the metas of its input resolutions, the resolutions pinned
    per need (so every selection inside the call reads the same dataset), and the call's focus reporter/years."""

    metas: list[ResultMeta] = field(default_factory=list)
    pinned: dict = field(default_factory=dict)
    reporter: Any = None
    years: Any = None

    def merged(self) -> ResultMeta | None:
        out: ResultMeta | None = None
        for m in self.metas:
            out = m if out is None else out.merge(m)
        return out


_COLLECTOR: _cv.ContextVar[Collector | None] = _cv.ContextVar("tradepulse_meta_collector", default=None)


def current_collector() -> Collector | None:
    """The collector of the indicator call in progress (None outside :func:`provenance` calls)."""
    return _COLLECTOR.get()


def record(meta: ResultMeta | None) -> None:
    """Record ``meta`` in the indicator call in progress (a no-op outside one)."""
    col = _COLLECTOR.get()
    if col is not None and meta is not None:
        col.metas.append(meta)


_FORCED: _cv.ContextVar[str | None] = _cv.ContextVar("tradepulse_dataset", default=None)


@_ctx.contextmanager
def use_dataset(name: str | None):
    """Within the block every selection reads dataset ``name`` (``--dataset`` on the command line, ``dataset=``
    on any indicator function; None: the input rule chooses)."""
    token = _FORCED.set(name)
    try:
        yield
    finally:
        _FORCED.reset(token)


def forced_dataset() -> str | None:
    """The dataset forced by :func:`use_dataset` (None when the input rule chooses)."""
    return _FORCED.get()


def provenance(func):
    """Decorator for public indicator functions: every input resolution made during the call (nested calls
    included) is merged into the result's meta.  The outermost decorated call owns the collector.

    A ``dataset=NAME`` keyword is accepted by every decorated function (passed on when the function takes it,
    else applied with :func:`use_dataset`)."""
    import inspect
    takes_dataset = "dataset" in inspect.signature(func).parameters

    @_ft.wraps(func)
    def wrapper(*args, **kwargs):
        if not takes_dataset and "dataset" in kwargs:
            name = kwargs.pop("dataset")
            with use_dataset(name or forced_dataset()):
                return wrapper(*args, **kwargs)
        outer = _COLLECTOR.get()
        if outer is not None:
            return func(*args, **kwargs)
        col = Collector(reporter=kwargs.get("reporter", kwargs.get("exporter", kwargs.get("country"))),
                        years=kwargs.get("years", kwargs.get("year")))
        token = _COLLECTOR.set(col)
        try:
            result = func(*args, **kwargs)
        finally:
            _COLLECTOR.reset(token)
        merged = col.merged()
        if merged is not None:
            merged = merged.merge(meta_of(result)) if isinstance(getattr(result, "attrs", None), dict) and \
                "meta" in result.attrs else merged
            try:
                attach(result, merged)
            except (AttributeError, TypeError):   # tuples and other immutable results carry no meta
                pass
        return result

    return wrapper


@_ctx.contextmanager
def collecting(reporter=None, years=None):
    """Collect every input resolution made inside the block (a report that calls many indicators): yields the
    :class:`Collector`; ``collector.merged()`` is the union of their metas."""
    col = Collector(reporter=reporter, years=years)
    token = _COLLECTOR.set(col)
    try:
        yield col
    finally:
        _COLLECTOR.reset(token)
