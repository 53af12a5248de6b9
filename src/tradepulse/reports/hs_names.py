"""Names of the 21 HS sections and 97 HS chapters (HS 2-digit; atlas-common-data's set: 01–97 without 77, and
99), marked for the gettext catalog so the Persian brief shows them in Persian (contexts ``hs-section`` and
``hs-chapter``).  Heading (HS4) and subheading (HS6) names stay English in both languages (thousands of
names, no reviewed Persian source here); the brief says so under its product tables.

Sections and chapter ranges follow the Harmonized System nomenclature (WCO, 2022 edition); section XXI is
extended to chapter 99 (unclassified).  English chapter names are short forms in the style of the Atlas of
Economic Complexity (atlas-common-data ``name_short_en``), with its typos corrected.
"""

from __future__ import annotations

from tradepulse.i18n import NC_, Formatter

__all__ = ["CHAPTERS", "SECTIONS", "chapter_name", "section_name", "section_of"]

#: Section (Roman numeral) → (first chapter, last chapter, name).
SECTIONS = {
    "I": ("01", "05", NC_("hs-section", "Live animals; animal products")),
    "II": ("06", "14", NC_("hs-section", "Vegetable products")),
    "III": ("15", "15", NC_("hs-section", "Animal or vegetable fats and oils")),
    "IV": ("16", "24", NC_("hs-section", "Prepared foodstuffs; beverages and tobacco")),
    "V": ("25", "27", NC_("hs-section", "Mineral products")),
    "VI": ("28", "38", NC_("hs-section", "Products of the chemical industries")),
    "VII": ("39", "40", NC_("hs-section", "Plastics and rubber")),
    "VIII": ("41", "43", NC_("hs-section", "Hides, skins, leather and furskins")),
    "IX": ("44", "46", NC_("hs-section", "Wood, cork and plaiting materials")),
    "X": ("47", "49", NC_("hs-section", "Pulp, paper and paperboard")),
    "XI": ("50", "63", NC_("hs-section", "Textiles and textile articles")),
    "XII": ("64", "67", NC_("hs-section", "Footwear, headgear and umbrellas")),
    "XIII": ("68", "70", NC_("hs-section", "Articles of stone, ceramics and glass")),
    "XIV": ("71", "71", NC_("hs-section", "Pearls, precious stones and precious metals")),
    "XV": ("72", "83", NC_("hs-section", "Base metals and articles thereof")),
    "XVI": ("84", "85", NC_("hs-section", "Machinery and electrical equipment")),
    "XVII": ("86", "89", NC_("hs-section", "Vehicles, aircraft and vessels")),
    "XVIII": ("90", "92", NC_("hs-section", "Optical, medical and precision instruments; clocks; musical instruments")),
    "XIX": ("93", "93", NC_("hs-section", "Arms and ammunition")),
    "XX": ("94", "96", NC_("hs-section", "Miscellaneous manufactured articles")),
    "XXI": ("97", "99", NC_("hs-section", "Works of art and antiques; other")),
}
#: HS chapter (2 digits) → short name.
CHAPTERS = {
    "01": NC_("hs-chapter", "Live animals"),
    "02": NC_("hs-chapter", "Meat"),
    "03": NC_("hs-chapter", "Fish"),
    "04": NC_("hs-chapter", "Dairy products"),
    "05": NC_("hs-chapter", "Animal products"),
    "06": NC_("hs-chapter", "Plants"),
    "07": NC_("hs-chapter", "Vegetables"),
    "08": NC_("hs-chapter", "Fruits and nuts"),
    "09": NC_("hs-chapter", "Coffee, tea and spices"),
    "10": NC_("hs-chapter", "Cereals"),
    "11": NC_("hs-chapter", "Flours, starches and malts"),
    "12": NC_("hs-chapter", "Oil seeds and oleaginous fruits"),
    "13": NC_("hs-chapter", "Lac and other vegetable extracts"),
    "14": NC_("hs-chapter", "Other vegetable materials"),
    "15": NC_("hs-chapter", "Animal or vegetable fats, oils or waxes"),
    "16": NC_("hs-chapter", "Preparations of meat or fish"),
    "17": NC_("hs-chapter", "Sugar and candy"),
    "18": NC_("hs-chapter", "Cocoa"),
    "19": NC_("hs-chapter", "Preparations of cereals, flour, starch or milk"),
    "20": NC_("hs-chapter", "Preparations of vegetables, fruit or nuts"),
    "21": NC_("hs-chapter", "Miscellaneous edible preparations"),
    "22": NC_("hs-chapter", "Beverages"),
    "23": NC_("hs-chapter", "Food residues and animal feed"),
    "24": NC_("hs-chapter", "Tobacco"),
    "25": NC_("hs-chapter", "Salt, sulphur, earths, stone, lime and cement"),
    "26": NC_("hs-chapter", "Ores, slag and ash"),
    "27": NC_("hs-chapter", "Mineral fuels, oils and waxes"),
    "28": NC_("hs-chapter", "Inorganic chemicals"),
    "29": NC_("hs-chapter", "Organic chemicals"),
    "30": NC_("hs-chapter", "Pharmaceutical products"),
    "31": NC_("hs-chapter", "Fertilisers"),
    "32": NC_("hs-chapter", "Dyes, paints and inks"),
    "33": NC_("hs-chapter", "Essential oils, perfumes and cosmetics"),
    "34": NC_("hs-chapter", "Soaps, waxes and polishes"),
    "35": NC_("hs-chapter", "Albuminoids, modified starches, glues and enzymes"),
    "36": NC_("hs-chapter", "Explosives"),
    "37": NC_("hs-chapter", "Photographic or cinematographic goods"),
    "38": NC_("hs-chapter", "Miscellaneous chemical products"),
    "39": NC_("hs-chapter", "Plastics"),
    "40": NC_("hs-chapter", "Rubber"),
    "41": NC_("hs-chapter", "Raw hides, skins and leather"),
    "42": NC_("hs-chapter", "Articles of leather"),
    "43": NC_("hs-chapter", "Furskins"),
    "44": NC_("hs-chapter", "Wood"),
    "45": NC_("hs-chapter", "Cork"),
    "46": NC_("hs-chapter", "Manufactures of plaiting materials"),
    "47": NC_("hs-chapter", "Pulp of wood"),
    "48": NC_("hs-chapter", "Paper and paperboard"),
    "49": NC_("hs-chapter", "Products of the printing industry"),
    "50": NC_("hs-chapter", "Silk"),
    "51": NC_("hs-chapter", "Wool"),
    "52": NC_("hs-chapter", "Cotton"),
    "53": NC_("hs-chapter", "Other vegetable textile fibres"),
    "54": NC_("hs-chapter", "Man-made filaments"),
    "55": NC_("hs-chapter", "Man-made staple fibres"),
    "56": NC_("hs-chapter", "Wadding, felt and nonwovens"),
    "57": NC_("hs-chapter", "Carpets"),
    "58": NC_("hs-chapter", "Special woven fabrics"),
    "59": NC_("hs-chapter", "Impregnated, coated or laminated textile fabrics"),
    "60": NC_("hs-chapter", "Knitted fabrics"),
    "61": NC_("hs-chapter", "Apparel, knitted"),
    "62": NC_("hs-chapter", "Apparel, not knitted"),
    "63": NC_("hs-chapter", "Other made-up textile articles"),
    "64": NC_("hs-chapter", "Footwear"),
    "65": NC_("hs-chapter", "Headgear"),
    "66": NC_("hs-chapter", "Umbrellas and walking sticks"),
    "67": NC_("hs-chapter", "Feathers and down; artificial flowers"),
    "68": NC_("hs-chapter", "Articles of stone, plaster and cement"),
    "69": NC_("hs-chapter", "Ceramic products"),
    "70": NC_("hs-chapter", "Glass and glassware"),
    "71": NC_("hs-chapter", "Precious metals and stones"),
    "72": NC_("hs-chapter", "Iron and steel"),
    "73": NC_("hs-chapter", "Articles of iron or steel"),
    "74": NC_("hs-chapter", "Copper"),
    "75": NC_("hs-chapter", "Nickel"),
    "76": NC_("hs-chapter", "Aluminium"),
    "78": NC_("hs-chapter", "Lead"),
    "79": NC_("hs-chapter", "Zinc"),
    "80": NC_("hs-chapter", "Tin"),
    "81": NC_("hs-chapter", "Other base metals"),
    "82": NC_("hs-chapter", "Metal tools and cutlery"),
    "83": NC_("hs-chapter", "Miscellaneous articles of base metal"),
    "84": NC_("hs-chapter", "Machinery and mechanical appliances"),
    "85": NC_("hs-chapter", "Electrical machinery and equipment"),
    "86": NC_("hs-chapter", "Railway locomotives and rolling stock"),
    "87": NC_("hs-chapter", "Vehicles other than railway"),
    "88": NC_("hs-chapter", "Aircraft and spacecraft"),
    "89": NC_("hs-chapter", "Ships and boats"),
    "90": NC_("hs-chapter", "Optical, medical and measuring instruments"),
    "91": NC_("hs-chapter", "Clocks and watches"),
    "92": NC_("hs-chapter", "Musical instruments"),
    "93": NC_("hs-chapter", "Arms and ammunition"),
    "94": NC_("hs-chapter", "Furniture, bedding and lamps"),
    "95": NC_("hs-chapter", "Toys, games and sports requisites"),
    "96": NC_("hs-chapter", "Miscellaneous manufactured articles"),
    "97": NC_("hs-chapter", "Works of art and antiques"),
    "99": NC_("hs-chapter", "Other (not classified)"),
}


def section_of(code: str) -> str | None:
    """The Roman numeral of the section holding HS code ``code`` (any length ≥ 2), None when unknown."""
    ch = str(code)[:2]
    for roman, (first, last, _name) in SECTIONS.items():
        if first <= ch <= last:
            return roman
    return None


def chapter_name(code: str, fmt: Formatter) -> str:
    """The translated name of the chapter of HS code ``code`` (any length ≥ 2); the code itself when unknown."""
    msg = CHAPTERS.get(str(code)[:2])
    return fmt.msg(msg) if msg else str(code)[:2]


def section_name(code: str, fmt: Formatter) -> str:
    """The translated name of the section of HS code ``code``, e.g. ``"5701"`` → "Textiles and textile articles"."""
    roman = section_of(code)
    return fmt.msg(SECTIONS[roman][2]) if roman else ""
