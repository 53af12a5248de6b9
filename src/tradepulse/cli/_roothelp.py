"""``tradepulse --help`` without Typer (issue 19: start-up ≤ 0.3 s).

Typer's help renderer (``typer.rich_utils``) imports Markdown, Pygments and Rich's traceback machinery
(≈ 0.1 s CPU of a 0.37 s start); the root help needs none of them.  This module draws the same panels with
Rich alone from :mod:`tradepulse.cli._index` — a copy of ``typer.rich_utils.rich_format_help`` reduced to
the root group (usage, help, the ``--help`` option, one "Commands" panel), its styles and its terminal
settings (``TERMINAL_WIDTH``, ``FORCE_COLOR``/``PY_COLORS``/``GITHUB_ACTIONS``,
``_TYPER_FORCE_DISABLE_TERMINAL``).  ``tests/test_cli_startup.py`` compares its bytes with Typer's at
several widths, with and without colour; a Typer upgrade that changes the layout fails that test.
"""

from __future__ import annotations

import sys
from os import getenv

from rich.columns import Columns
from rich.console import Console, group
from rich.highlighter import RegexHighlighter
from rich.align import Align
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.theme import Theme

from tradepulse.cli._index import COMMANDS, EAGER_COMMANDS, ROOT_HELP


class _OptionHighlighter(RegexHighlighter):   # typer.rich_utils.OptionHighlighter
    highlights = [
        r"(^|\W)(?P<switch>\-\w+)(?![a-zA-Z0-9])",
        r"(^|\W)(?P<option>\-\-[\w\-]+)(?![a-zA-Z0-9])",
        r"(?P<types>\<[^\>]+\>)",
        r"(?P<usage>Usage: )",
    ]


class _NegativeOptionHighlighter(RegexHighlighter):
    highlights = [
        r"(^|\W)(?P<negative_switch>\-\w+)(?![a-zA-Z0-9])",
        r"(^|\W)(?P<negative_option>\-\-[\w\-]+)(?![a-zA-Z0-9])",
    ]


class _TypesHighlighter(RegexHighlighter):
    highlights = [
        r"^(?P<types_sep>(\[|<))",
        r"(?P<types_sep>\|)",
        r"(?P<types_sep>(\]|>))(\.\.\.)?$",
    ]


_highlighter = _OptionHighlighter()
_THEME = {"option": "bold cyan", "switch": "bold green", "negative_option": "bold magenta",
          "negative_switch": "bold red", "types": "bold yellow", "types_sep": "dim", "usage": "yellow"}


def _console() -> Console:
    """``typer.rich_utils._get_rich_console()`` (the same environment variables)."""
    width = getenv("TERMINAL_WIDTH")
    force = True if getenv("GITHUB_ACTIONS") or getenv("FORCE_COLOR") or getenv("PY_COLORS") else None
    if getenv("_TYPER_FORCE_DISABLE_TERMINAL"):
        force = False
    return Console(theme=Theme(_THEME), highlighter=_highlighter, color_system="auto", force_terminal=force,
                   width=int(width) if width else None)


def _rich_text(text: str) -> Text:
    """``typer.rich_utils._make_rich_text`` in "rich" markup mode (texts are already dedented)."""
    if "\033[" in text:
        return _highlighter(Text.from_ansi(text, style=""))
    return _highlighter(Text.from_markup(text, style=""))


@group()
def _help_text():
    yield _rich_text(ROOT_HELP.split("\n\n")[0].replace("\n", " ").strip())


def print_root_help(prog: str, *, trailing_newline: bool = True) -> None:
    """Print the root help as Typer does for ``prog --help`` (``trailing_newline``: Click's echo of the empty
    formatter after it; not printed for the no-arguments case)."""
    console = _console()
    console.print(Padding(_highlighter(f"Usage: {prog} [OPTIONS] COMMAND [ARGS]..."), 1), style="bold")
    console.print(Padding(Align(_help_text(), pad=False), (0, 1, 1, 1)))

    options = Table(highlight=True, show_header=False, expand=True, box=None, show_lines=False, leading=0,
                    border_style=None, row_styles=None, pad_edge=False, padding=(0, 1))
    types = Text(style="bold yellow", overflow="fold")
    types.append("<bool>")
    options.add_row(_highlighter(Text("--help")), _highlighter(Text("")), _NegativeOptionHighlighter()(Text("")),
                    _NegativeOptionHighlighter()(Text("")), _TypesHighlighter()(types),
                    Columns([_rich_text("Show this message and exit.")]))
    console.print(Panel(options, border_style="dim", title="Options", title_align="left"))

    rows = [*EAGER_COMMANDS, *((name, text) for name, _, text in COMMANDS)]
    commands = Table(highlight=False, show_header=False, expand=True, box=None, show_lines=False, leading=0,
                     border_style=None, row_styles=None, pad_edge=False, padding=(0, 1))
    commands.add_column(style="bold cyan", no_wrap=True, width=max(len(name) for name, _ in rows))
    commands.add_column("Description", justify="left", no_wrap=False, ratio=10)
    for name, text in rows:
        commands.add_row(Text(name), _rich_text(text))
    console.print(Panel(commands, border_style="dim", title="Commands", title_align="left"))
    if trailing_newline:
        sys.stdout.write("\n")
        sys.stdout.flush()
