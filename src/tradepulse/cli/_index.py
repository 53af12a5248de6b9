"""Index of the root commands: name, the ``tradepulse.cli`` module that registers it, and the one-line help
the root ``--help`` lists (issue 19: start-up; nothing here imports Typer, Rich or a command module).

Generated from the modules by :func:`generate`; ``tests/test_cli_startup.py`` fails when it differs from what
the modules register.  After adding or renaming a command, or changing a command's docstring first
paragraph, regenerate with ``PYTHONPATH=src python -m tradepulse.cli._index``.
"""

from __future__ import annotations

#: The modules whose ``register(app)`` adds root commands, in registration order.
MODULES = ("ingest", "demo", "complexity", "indicators", "targets", "groups", "brief", "serve", "potential",
           "fetch", "export", "refresh")

#: The root app's help (``Typer(help=…)``).
ROOT_HELP = "Trade indicators, roadmap targets and working-group tools."

#: Commands defined in ``tradepulse/cli/__init__.py`` itself (listed first), with their help.
EAGER_COMMANDS = (("version", "Print the tradepulse version."),)

# --- generated: begin
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ('ingest', 'ingest',
     'Validate and load a trade data file into the warehouse (bad rows go to quarantine).'),
    ('info', 'ingest',
     'Show what the warehouse holds: tables, row counts, years, reporters, loads, quarantine.'),
    ('demo', 'demo',
     'Generate a SYNTHETIC trade world (≈200 countries × ≈1,200 HS4 × 14 years, focus Iran with 31\nprovinces) and load it through the ingest path into OUT/warehouse.duckdb.'),
    ('complexity', 'complexity',
     'RCA, M, diversity, ubiquity, ECI, PCI, density, COI, COG: one row per (year, exporter, product).'),
    ('proximity', 'complexity',
     'Product proximity (minimum of conditional probabilities of RCA ≥ 1) for one year.'),
    ('opportunities', 'complexity',
     'Rank the products a country does not yet export competitively (density, PCI, COG), on the Atlas\nsample (population >= 1 M, exports >= USD 1 bn, HS 99 left out; each filter can be switched off).'),
    ('brief', 'brief',
     'Write the weekly brief: targets, headline indicators and what changed, opportunities, action items.'),
    ('serve', 'serve',
     'Run the dashboard (pages, CSV/Excel downloads, JSON API at /api/v1, OpenAPI at /docs).'),
    ('potential', 'potential',
     'Export potential (ITC method): markets for a product group, or products for a market.'),
    ('export', 'export',
     'Export a warehouse table (optionally filtered) to CSV, Parquet or Excel, or the whole warehouse to a\npartitioned Parquet dataset for `--engine spark`.'),
    ('refresh', 'refresh',
     "Precompute the dashboard's heavy tables (first visit of every page) into summary tables stored in\nthe warehouse; the dashboard serves them until the next ingest changes the data."),
    ('indicators', 'indicators',
     'Trade-structure indicators: balance, diversification, technology, survival, firms (exporters).'),
    ('targets', 'targets',
     'Roadmap targets (Solar Hijri years), import substitution, mirror statistics.'),
    ('groups', 'groups',
     'Provincial working groups: members, meetings, decisions, action items, CSV import/export and the audit log.'),
    ('fetch', 'fetch',
     'Download real data (BACI, UN Comtrade, GDP and population) and load it.'),
)
# --- generated: end


def generate() -> tuple[tuple[str, str, str], ...]:
    """(name, module, help) of every root command, in the order Typer lists them (plain commands in
    registration order, then the sub-apps); help is the first paragraph Typer's rich help shows
    (``typer.rich_utils._make_command_help``: dedented, its ``\\b`` marker dropped).  Raises when a command is
    hidden, deprecated or in its own help panel: the fast root help does not render those."""
    import importlib
    import inspect

    import typer
    from typer.core import TyperGroup

    plain, groups = [], []
    for module in MODULES:
        scratch = typer.Typer()
        importlib.import_module(f"tradepulse.cli.{module}").register(scratch)
        for name, cmd in typer.main.get_group(scratch).commands.items():
            if cmd.hidden or cmd.deprecated or getattr(cmd, "rich_help_panel", None):
                raise ValueError(f"{name}: hidden, deprecated or own-panel commands need the full Typer help")
            first = inspect.cleandoc(cmd.short_help or cmd.help or "").split("\n\n")[0]
            if first.startswith("\b"):
                first = first.replace("\b\n", "")
            (groups if isinstance(cmd, TyperGroup) else plain).append((name, module, inspect.cleandoc(first.strip())))
    return tuple(plain + groups)


def _write() -> None:
    """Rewrite the generated block of this file."""
    from pathlib import Path

    path = Path(__file__)
    text = path.read_text(encoding="utf-8")
    head, rest = text.split("# --- generated: begin\n")
    _, tail = rest.split("# --- generated: end\n")
    rows = "".join(f"    ({name!r}, {module!r},\n     {help_!r}),\n" for name, module, help_ in generate())
    body = f"COMMANDS: tuple[tuple[str, str, str], ...] = (\n{rows})\n"
    path.write_text(f"{head}# --- generated: begin\n{body}# --- generated: end\n{tail}", encoding="utf-8")


if __name__ == "__main__":
    _write()
