"""CLI: ``tradepulse indicators survival`` (placeholder until implemented)."""

from __future__ import annotations

import typer


def register(indicators_app: typer.Typer) -> None:
    """Add the survival command to the ``indicators`` command group."""
