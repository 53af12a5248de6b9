"""Tile-grid map of Iran's 31 provinces: one equal square per province, placed to keep neighbours next to
each other (west → east columns, north → south rows).  Chosen over a boundary choropleth because no
maintained package ships admin-1 boundaries offline under a clear licence (docs/decisions.md).

Names are the canonical English names of :mod:`tradepulse.reference.provinces` (``provinces.csv``)."""

from __future__ import annotations

#: (column, row) of each province.
IRAN_GRID: dict[str, tuple[int, int]] = {
    "West Azerbaijan": (0, 0), "East Azerbaijan": (1, 0), "Ardabil": (2, 0), "Gilan": (3, 0),
    "Mazandaran": (4, 0), "Golestan": (5, 0), "North Khorasan": (6, 0),
    "Kurdistan": (0, 1), "Zanjan": (1, 1), "Qazvin": (2, 1), "Alborz": (3, 1), "Tehran": (4, 1),
    "Semnan": (5, 1), "Razavi Khorasan": (6, 1),
    "Kermanshah": (0, 2), "Hamadan": (1, 2), "Markazi": (2, 2), "Qom": (3, 2), "Isfahan": (4, 2),
    "Yazd": (5, 2), "South Khorasan": (6, 2),
    "Ilam": (0, 3), "Lorestan": (1, 3), "Chaharmahal and Bakhtiari": (2, 3),
    "Kohgiluyeh and Boyer-Ahmad": (3, 3), "Fars": (4, 3), "Kerman": (5, 3), "Sistan and Baluchestan": (6, 3),
    "Khuzestan": (1, 4), "Bushehr": (3, 4), "Hormozgan": (5, 4),
}
