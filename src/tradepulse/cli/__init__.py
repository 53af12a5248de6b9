"""The ``tradepulse`` command line (Typer + Rich).

Each sub-module owns its commands and exposes ``register(app)``; commands import their heavy
dependencies lazily and only call the Python API.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(name="tradepulse", help="Trade indicators, roadmap targets and working-group tools.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False, add_completion=False)

COMMAND_MODULES = ("ingest", "demo", "complexity", "indicators", "targets", "groups", "brief", "serve",
                   "potential")
COMMAND_MODULES += ("fetch", "export", "refresh")



@app.command()
def version() -> None:
    """Print the tradepulse version."""
    from tradepulse import __version__
    typer.echo(__version__)


for _name in COMMAND_MODULES:
    importlib.import_module(f"tradepulse.cli.{_name}").register(app)


def main() -> None:
    app()
