"""Translations and number/date formatting for reports — the project-wide mechanism of :mod:`tradepulse.i18n`.

Kept as the reports' import path (``from tradepulse.reports.i18n import Formatter, N_, RTL``); everything here
is :mod:`tradepulse.i18n`, which the web dashboard uses too (one gettext catalog, one number/date convention).
"""

from __future__ import annotations

from pathlib import Path

from tradepulse.i18n import (DOMAIN, LANGS, LOCALE_DIR, NC_, RTL, Formatter, N_, formatter, persian_digits,
                             translations)

HERE = Path(__file__).parent

__all__ = ["DOMAIN", "HERE", "LANGS", "LOCALE_DIR", "NC_", "N_", "RTL", "Formatter", "formatter",
           "persian_digits", "translations"]
