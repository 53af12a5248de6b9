"""Locations and settings.

The default warehouse is ``$TRADEPULSE_WAREHOUSE`` if set, else ``$TRADEPULSE_HOME/warehouse.duckdb``,
else ``~/.tradepulse/warehouse.duckdb``.  The working-group database is ``$TRADEPULSE_GROUPS_DB``
(an SQLAlchemy URL) or ``sqlite:///$TRADEPULSE_HOME/groups.sqlite``.
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    return Path(os.environ.get("TRADEPULSE_HOME", Path.home() / ".tradepulse")).expanduser()


def default_warehouse_path() -> Path:
    env = os.environ.get("TRADEPULSE_WAREHOUSE")
    return Path(env).expanduser() if env else home() / "warehouse.duckdb"


def default_groups_url() -> str:
    env = os.environ.get("TRADEPULSE_GROUPS_DB")
    if env:
        return env if "://" in env else f"sqlite:///{Path(env).expanduser()}"
    return f"sqlite:///{home() / 'groups.sqlite'}"


#: Focus country used when a command is not told otherwise (Iran is the first customer).
DEFAULT_FOCUS = os.environ.get("TRADEPULSE_FOCUS", "IRN")
