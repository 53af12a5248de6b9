"""The 31 provinces of Iran (English and Persian names) used by the SYNTHETIC demo world.

Names follow the usual English transliteration used by the Statistical Centre of Iran; Persian names are the
official province names.  ``weight`` is a rough, hand-set economic size used only to skew the SYNTHETIC
provincial shares (Tehran largest); it is not a statistic.  ``borders`` lists the neighbouring countries a
province has a land or sea border crossing with (used to tilt synthetic border trade).
"""

from __future__ import annotations

import pandas as pd

#: (name_en, name_fa, weight, border partners)
_ROWS: list[tuple[str, str, float, tuple[str, ...]]] = [
    ("Tehran", "تهران", 30.0, ()),
    ("Razavi Khorasan", "خراسان رضوی", 7.0, ("AFG", "TKM")),
    ("Isfahan", "اصفهان", 8.0, ()),
    ("Fars", "فارس", 5.0, ()),
    ("Khuzestan", "خوزستان", 9.0, ("IRQ", "KWT")),
    ("East Azerbaijan", "آذربایجان شرقی", 5.0, ("ARM", "AZE")),
    ("West Azerbaijan", "آذربایجان غربی", 3.0, ("TUR", "IRQ", "AZE")),
    ("Mazandaran", "مازندران", 3.5, ("RUS", "KAZ")),
    ("Kerman", "کرمان", 3.5, ()),
    ("Alborz", "البرز", 3.0, ()),
    ("Gilan", "گیلان", 2.5, ("AZE", "RUS")),
    ("Sistan and Baluchestan", "سیستان و بلوچستان", 1.5, ("PAK", "AFG")),
    ("Kermanshah", "کرمانشاه", 2.0, ("IRQ",)),
    ("Hormozgan", "هرمزگان", 4.0, ("ARE", "OMN", "QAT")),
    ("Golestan", "گلستان", 1.5, ("TKM", "KAZ")),
    ("Lorestan", "لرستان", 1.2, ()),
    ("Hamadan", "همدان", 1.5, ()),
    ("Kurdistan", "کردستان", 1.2, ("IRQ",)),
    ("Markazi", "مرکزی", 2.5, ()),
    ("Qom", "قم", 1.5, ()),
    ("Qazvin", "قزوین", 2.0, ()),
    ("Ardabil", "اردبیل", 1.0, ("AZE",)),
    ("Bushehr", "بوشهر", 4.5, ("KWT", "SAU", "BHR", "QAT")),
    ("Yazd", "یزد", 2.5, ()),
    ("Zanjan", "زنجان", 1.2, ()),
    ("Chaharmahal and Bakhtiari", "چهارمحال و بختیاری", 0.8, ()),
    ("North Khorasan", "خراسان شمالی", 0.7, ("TKM",)),
    ("South Khorasan", "خراسان جنوبی", 0.7, ("AFG",)),
    ("Kohgiluyeh and Boyer-Ahmad", "کهگیلویه و بویراحمد", 0.8, ()),
    ("Semnan", "سمنان", 1.0, ()),
    ("Ilam", "ایلام", 0.8, ("IRQ",)),
]


def provinces(focus: str = "IRN") -> pd.DataFrame:
    """Provinces of the focus country: ``name_en, name_fa, weight, borders``.

    For Iran the 31 real provinces; for any other focus country ten placeholder regions
    ("<ISO3> region 1" …), since the demo ships no other sub-national names.
    """
    if focus == "IRN":
        return pd.DataFrame(_ROWS, columns=["name_en", "name_fa", "weight", "borders"])
    n = 10
    return pd.DataFrame({
        "name_en": [f"{focus} region {i}" for i in range(1, n + 1)],
        "name_fa": [f"منطقه {i}" for i in range(1, n + 1)],
        "weight": [10.0 / i for i in range(1, n + 1)],
        "borders": [()] * n,
    })
