"""The CLI's Rich consoles and its one-line error report, without Typer (issue 19: ``complexity FILE``
runs without importing Typer, :mod:`tradepulse.cli.complexity_file`).  :mod:`tradepulse.cli.common`
re-exports them: both paths print through the same objects."""

from __future__ import annotations

from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def print_error(message: str) -> None:
    """``error: MESSAGE`` on stderr, one line (what :func:`tradepulse.cli.common.friendly_errors` prints
    before exiting with code 2)."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
