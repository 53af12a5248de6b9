"""The ``tradepulse`` command line (Typer + Rich).

Each sub-module owns its commands and exposes ``register(app)``; commands import their heavy
dependencies lazily and only call the Python API.

Start-up (issue 19): importing this package imports neither Typer nor Rich.  ``app`` is built on first
access (PEP 562); its root group loads a command's module only when that command runs
(:mod:`tradepulse.cli._lazy`, names from :mod:`tradepulse.cli._index`), and ``tradepulse --help`` (or no
arguments) is drawn by :mod:`tradepulse.cli._roothelp` from the index without Typer — the same bytes as
Typer's help, which ``tests/test_cli_startup.py`` checks.  A plain ``tradepulse ingest FILE -f FORMAT …`` runs
without Typer too (:mod:`tradepulse.cli._fast`).
"""

from __future__ import annotations

import os
import sys

from tradepulse.cli._index import ROOT_HELP


def _build_app():
    """The root Typer app (``version`` here; every other command loaded on demand)."""
    import typer

    from tradepulse.cli._helptable import install
    from tradepulse.cli._lazy import LazyGroup

    install()   # option names are never cut in a command's help
    root = typer.Typer(name="tradepulse", help=ROOT_HELP, cls=LazyGroup,
                       no_args_is_help=True, pretty_exceptions_show_locals=False, add_completion=False)

    @root.callback()
    def _root() -> None:   # a group even though only ``version`` is registered here (the rest is lazy)
        pass

    @root.command()
    def version() -> None:
        """Print the tradepulse version."""
        from tradepulse import __version__
        typer.echo(__version__)

    return root


def __getattr__(name: str):
    if name == "app":
        globals()["app"] = built = _build_app()
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    argv = sys.argv[1:]
    if argv in ([], ["--help"]) and os.path.basename(sys.argv[0]) == "tradepulse":
        from tradepulse.cli._roothelp import print_root_help
        print_root_help("tradepulse", trailing_newline=bool(argv))
        sys.exit(0 if argv else 2)
    if argv[:1] == ["ingest"]:   # the plain load without Typer's start-up (tradepulse.cli._fast)
        from tradepulse.cli._fast import fast_ingest
        if fast_ingest(argv[1:]):
            return
    __getattr__("app")()
