"""Option names are never cut in a command's help (80-column rule: no word broken across lines).

Typer draws a command's options as a Rich table without column settings.  When a panel is too wide, Rich
narrows every wrappable column to the same width, so long flag pairs such as
``--public-indicators/--no-public-indicators`` were cut with "…" while the help column still had room.
Here the name and type columns are made non-wrapping: only the help column wraps (it holds whole words).

:func:`install` patches ``format_help`` of Typer's command and group classes so that the table class is
swapped only when help is drawn (``typer.rich_utils`` stays unimported at start-up).
"""

from __future__ import annotations

_installed = False


def _swap_table() -> None:
    from rich.table import Table
    from typer import rich_utils

    if getattr(rich_utils.Table, "_tradepulse", False):
        return

    class HelpTable(Table):
        """A Rich table whose columns but the last never wrap (they hold option names and types)."""
        _tradepulse = True

        def add_row(self, *renderables, **kwargs) -> None:
            super().add_row(*renderables, **kwargs)
            for column in self.columns[:-1]:
                column.no_wrap = True

    rich_utils.Table = HelpTable


def install() -> None:
    """Make Typer's help tables use :func:`_swap_table`'s table (idempotent)."""
    global _installed
    if _installed:
        return
    from typer import core

    for cls in (core.TyperCommand, core.TyperGroup):
        original = cls.format_help

        def format_help(self, ctx, formatter, _original=original):
            _swap_table()
            return _original(self, ctx, formatter)
        cls.format_help = format_help
    _installed = True
