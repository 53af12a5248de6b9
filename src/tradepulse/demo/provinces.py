"""The 31 provinces of Iran as used by the SYNTHETIC demo world.

Names (English and Persian) come from the reference list :mod:`tradepulse.reference.provinces`.
``weight`` is a rough, hand-set economic size used only to skew the SYNTHETIC provincial shares (Tehran
largest); it is not a statistic.  ``borders`` lists the neighbouring countries a
province has a land or sea border crossing with (used to tilt synthetic border trade).
"""

from __future__ import annotations

import pandas as pd

#: (name_en as in the reference list, weight, border partners)
_ROWS: list[tuple[str, float, tuple[str, ...]]] = [
    ("Tehran", 30.0, ()),
    ("Razavi Khorasan", 7.0, ("AFG", "TKM")),
    ("Isfahan", 8.0, ()),
    ("Fars", 5.0, ()),
    ("Khuzestan", 9.0, ("IRQ", "KWT")),
    ("East Azerbaijan", 5.0, ("ARM", "AZE")),
    ("West Azerbaijan", 3.0, ("TUR", "IRQ", "AZE")),
    ("Mazandaran", 3.5, ("RUS", "KAZ")),
    ("Kerman", 3.5, ()),
    ("Alborz", 3.0, ()),
    ("Gilan", 2.5, ("AZE", "RUS")),
    ("Sistan and Baluchestan", 1.5, ("PAK", "AFG")),
    ("Kermanshah", 2.0, ("IRQ",)),
    ("Hormozgan", 4.0, ("ARE", "OMN", "QAT")),
    ("Golestan", 1.5, ("TKM", "KAZ")),
    ("Lorestan", 1.2, ()),
    ("Hamadan", 1.5, ()),
    ("Kurdistan", 1.2, ("IRQ",)),
    ("Markazi", 2.5, ()),
    ("Qom", 1.5, ()),
    ("Qazvin", 2.0, ()),
    ("Ardabil", 1.0, ("AZE",)),
    ("Bushehr", 4.5, ("KWT", "SAU", "BHR", "QAT")),
    ("Yazd", 2.5, ()),
    ("Zanjan", 1.2, ()),
    ("Chaharmahal and Bakhtiari", 0.8, ()),
    ("North Khorasan", 0.7, ("TKM",)),
    ("South Khorasan", 0.7, ("AFG",)),
    ("Kohgiluyeh and Boyer-Ahmad", 0.8, ()),
    ("Semnan", 1.0, ()),
    ("Ilam", 0.8, ("IRQ",)),
]


def provinces(focus: str = "IRN") -> pd.DataFrame:
    """Provinces of the focus country: ``name_en, name_fa, weight, borders``.

    For Iran the 31 real provinces; for any other focus country ten placeholder regions
    ("<ISO3> region 1" …), since the demo ships no other sub-national names.
    """
    if focus == "IRN":
        from tradepulse.reference.provinces import provinces as reference_provinces

        out = pd.DataFrame(_ROWS, columns=["name_en", "weight", "borders"])
        fa = reference_provinces("IRN").set_index("name_en")["name_fa"]
        out.insert(1, "name_fa", out["name_en"].map(fa))
        if out["name_fa"].isna().any():  # the demo list and the reference list must agree
            raise AssertionError(f"demo provinces missing from the reference list: "
                                 f"{out.loc[out['name_fa'].isna(), 'name_en'].tolist()}")
        return out
    n = 10
    return pd.DataFrame({
        "name_en": [f"{focus} region {i}" for i in range(1, n + 1)],
        "name_fa": [f"منطقه {i}" for i in range(1, n + 1)],
        "weight": [10.0 / i for i in range(1, n + 1)],
        "borders": [()] * n,
    })
