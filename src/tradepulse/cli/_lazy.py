"""The root command group, loading each command's module on first use (issue 19: start-up).

``tradepulse complexity …`` imports ``tradepulse.cli.complexity`` (and what it needs) only; the other
command modules, and their Typer → Click conversion (≈ 0.1 s for all 47 commands), are not paid.  The
names, their modules and their one-line help come from :data:`tradepulse.cli._index.COMMANDS`, which a test
keeps equal to what the modules register.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping

import typer
from typer.core import TyperGroup

from tradepulse.cli._index import COMMANDS

MODULE_OF = {name: module for name, module, _ in COMMANDS}
_LOADED: dict[str, dict] = {}   # module → its Click commands by name (converted once a process)


def load_module(module: str) -> dict:
    """Import ``tradepulse.cli.<module>``, register its commands on a scratch Typer app and return the
    converted Click commands by name (what ``typer.main.get_group`` would have built for the root)."""
    if module not in _LOADED:
        import importlib

        scratch = typer.Typer()
        importlib.import_module(f"tradepulse.cli.{module}").register(scratch)
        _LOADED[module] = dict(typer.main.get_group(scratch).commands)
    return _LOADED[module]


class LazyCommands(MutableMapping):
    """``group.commands`` whose entries of :data:`MODULE_OF` are loaded on first lookup; iteration lists
    every name (eager ones first, then the index order) without loading anything."""

    def __init__(self, eager: MutableMapping) -> None:
        self._cmds = dict(eager)
        self._order = [*self._cmds, *(n for n in MODULE_OF if n not in self._cmds)]

    def __getitem__(self, name: str):
        if name not in self._cmds and name in MODULE_OF:
            for key, cmd in load_module(MODULE_OF[name]).items():
                self._cmds.setdefault(key, cmd)
        return self._cmds[name]

    def __setitem__(self, name: str, cmd) -> None:
        self._cmds[name] = cmd
        if name not in self._order:
            self._order.append(name)

    def __delitem__(self, name: str) -> None:
        self._order.remove(name)
        self._cmds.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, name: object) -> bool:
        return name in self._order


class LazyGroup(TyperGroup):
    """TyperGroup over :class:`LazyCommands` (listing, suggestions and help work as before)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.commands = LazyCommands(self.commands)

    def get_help_option(self, ctx):
        """The root ``--help`` flag without Pydantic: Typer 0.29 builds a Pydantic ``TypeAdapter(bool)`` to
        coerce the flag's value even when it is absent (``None``, returned as is), which imports Pydantic
        (≈ 0.15 s) for every ``tradepulse <command> --help``.  A bool flag's value is ``None`` or a bool, so
        the pass-through coercion (``isinstance(value, bool)``) is exact; left to Typer if its private API
        moves."""
        opt = super().get_help_option(ctx)
        if opt is not None and getattr(opt, "_runtime_param", False) is None:
            try:
                from typer._coercion import PassThroughRuntimeParam

                opt._runtime_param = PassThroughRuntimeParam(annotation=bool,
                                                             parameter_info=opt.type_descriptor.parameter_info)
            except (ImportError, AttributeError, TypeError):   # pragma: no cover - another Typer version
                pass
        return opt
