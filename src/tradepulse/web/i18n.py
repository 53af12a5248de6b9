"""English / Persian strings, digits, numbers and dates for the dashboard.

Conventions:
- Language is ``en`` or ``fa``; Persian pages are ``<html lang="fa" dir="rtl">``.
- Persian numbers use Persian digits (U+06F0..U+06F9), the Persian thousands separator ``٬`` (U+066C)
  and decimal separator ``٫`` (U+066B), as in CLDR's ``fa`` locale.
- Persian dates are Solar Hijri (Jalali) via ``jdatetime`` (e.g. 2024-03-20 → ۱۴۰۳/۰۱/۰۱);
  English dates are ISO 8601.
"""

from __future__ import annotations

import datetime as dt
import math

LANGS = ("en", "fa")
_FA_DIGITS = str.maketrans("0123456789,.-", "۰۱۲۳۴۵۶۷۸۹٬٫−")

STRINGS: dict[str, dict[str, str]] = {
    "app_title": {"en": "TradePulse", "fa": "تریدپالس"},
    "overview": {"en": "Overview", "fa": "نمای کلی"},
    "products": {"en": "Products", "fa": "کالاها"},
    "markets": {"en": "Markets", "fa": "بازارها"},
    "provinces": {"en": "Provinces", "fa": "استان‌ها"},
    "targets": {"en": "Targets", "fa": "اهداف"},
    "groups": {"en": "Working groups", "fa": "کارگروه‌ها"},
    "briefs": {"en": "Briefs", "fa": "گزارش‌ها"},
    "login": {"en": "Log in", "fa": "ورود"},
    "logout": {"en": "Log out", "fa": "خروج"},
    "username": {"en": "User name", "fa": "نام کاربری"},
    "password": {"en": "Password", "fa": "گذرواژه"},
    "login_failed": {"en": "Wrong user name or password.", "fa": "نام کاربری یا گذرواژه نادرست است."},
    "too_many": {"en": "Too many failed attempts; wait a minute.", "fa": "تلاش‌های ناموفق زیاد؛ یک دقیقه صبر کنید."},
    "signed_in_as": {"en": "Signed in as", "fa": "کاربر"},
    "language": {"en": "فارسی", "fa": "English"},
    "lang_label": {"en": "Language", "fa": "زبان"},
    "end_use": {"en": "Exports by end use (BEC)", "fa": "صادرات بر حسب مصرف نهایی (BEC)"},
    "market_fit": {"en": "Market fit: complementarity and intensity", "fa": "تناسب بازار: مکملیت و شدت تجارت"},
    "complementarity": {"en": "Complementarity", "fa": "مکملیت"},
    "intensity": {"en": "Intensity", "fa": "شدت تجارت"},
    "label": {"en": "Class", "fa": "گروه"},
    "col_rca": {"en": "RCA", "fa": "مزیت نسبی (RCA)"},
    "col_density": {"en": "Density", "fa": "تراکم"},
    "col_pci": {"en": "PCI", "fa": "پیچیدگی کالا (PCI)"},
    "col_eci": {"en": "ECI", "fa": "پیچیدگی اقتصادی (ECI)"},
    "col_cog": {"en": "COG", "fa": "سود فرصت (COG)"},
    "col_score": {"en": "Score", "fa": "امتیاز"},
    "col_export_value": {"en": "Export value", "fa": "ارزش صادرات"},
    "col_value_usd": {"en": "Value", "fa": "ارزش"},
    "col_hhi": {"en": "HHI", "fa": "شاخص هرفیندال"},
    "col_theil": {"en": "Theil", "fa": "شاخص تایل"},
    "col_n_active": {"en": "Active items", "fa": "اقلام فعال"},
    "col_realised": {"en": "Realised", "fa": "محقق‌شده"},
    "col_unrealised": {"en": "Unrealised", "fa": "محقق‌نشده"},
    "col_baseline_value": {"en": "Baseline", "fa": "مبنا"},
    "col_target_value": {"en": "Target", "fa": "هدف"},
    "col_deadline_year": {"en": "Deadline", "fa": "مهلت"},
    "col_as_of_year": {"en": "As of", "fa": "تا سال"},
    "col_reason": {"en": "Reason", "fa": "دلیل"},
    "col_partner_imports": {"en": "Partner imports", "fa": "واردات شریک"},
    "sources": {"en": "Sources", "fa": "منابع"},
    "exports": {"en": "Exports", "fa": "صادرات"},
    "imports": {"en": "Imports", "fa": "واردات"},
    "non_oil_exports": {"en": "Non-oil exports", "fa": "صادرات غیرنفتی"},
    "non_oil_imports": {"en": "Non-oil imports", "fa": "واردات غیرنفتی"},
    "non_oil_balance": {"en": "Non-oil balance", "fa": "تراز غیرنفتی"},
    "balance": {"en": "Balance", "fa": "تراز"},
    "year": {"en": "Year", "fa": "سال"},
    "partner": {"en": "Partner", "fa": "شریک تجاری"},
    "product": {"en": "Product", "fa": "کالا"},
    "province": {"en": "Province", "fa": "استان"},
    "all": {"en": "All", "fa": "همه"},
    "filter": {"en": "Filter", "fa": "اعمال"},
    "download": {"en": "Download", "fa": "دریافت"},
    "not_available": {"en": "Not available yet", "fa": "هنوز در دسترس نیست"},
    "not_available_why": {"en": "This section needs a module that is not installed in this build yet:",
                          "fa": "این بخش به ماژولی نیاز دارد که هنوز در این نسخه نیست:"},
    "no_data": {"en": "No data for this selection.", "fa": "برای این انتخاب داده‌ای نیست."},
    "error": {"en": "Could not compute this section:", "fa": "محاسبه این بخش ممکن نشد:"},
    "target_status": {"en": "Target status", "fa": "وضعیت اهداف"},
    "top_partners": {"en": "Top partners", "fa": "شرکای اصلی"},
    "top_products": {"en": "Top products", "fa": "کالاهای اصلی"},
    "complexity": {"en": "Economic complexity", "fa": "پیچیدگی اقتصادی"},
    "product_space": {"en": "Product space", "fa": "فضای محصول"},
    "opportunities": {"en": "Opportunities", "fa": "فرصت‌ها"},
    "rca": {"en": "Revealed comparative advantage", "fa": "مزیت نسبی آشکارشده"},
    "diversification": {"en": "Diversification", "fa": "تنوع"},
    "survival": {"en": "Export survival", "fa": "بقای صادرات"},
    "compare_provinces": {"en": "Compare provinces", "fa": "مقایسه استان‌ها"},
    "meetings": {"en": "Meetings", "fa": "جلسات"},
    "action_items": {"en": "Action items", "fa": "اقدامات"},
    "overdue": {"en": "Overdue", "fa": "معوق"},
    "edit": {"en": "Edit", "fa": "ویرایش"},
    "save": {"en": "Save", "fa": "ذخیره"},
    "status": {"en": "Status", "fa": "وضعیت"},
    "due": {"en": "Due", "fa": "مهلت"},
    "owner": {"en": "Owner", "fa": "مسئول"},
    "title": {"en": "Title", "fa": "عنوان"},
    "date": {"en": "Date", "fa": "تاریخ"},
    "saved": {"en": "Saved.", "fa": "ذخیره شد."},
    "conflict": {"en": "Someone else changed this item; reload and try again.",
                 "fa": "این مورد را کس دیگری تغییر داده است؛ دوباره بارگذاری کنید."},
    "forbidden": {"en": "Your role may not do this.", "fa": "نقش شما اجازه این کار را ندارد."},
    "login_to_edit": {"en": "Log in as secretary or admin to edit.", "fa": "برای ویرایش به‌عنوان دبیر یا مدیر وارد شوید."},
    "brief_en": {"en": "English", "fa": "انگلیسی"},
    "brief_fa": {"en": "Persian", "fa": "فارسی"},
    "week": {"en": "Week", "fa": "هفته"},
    "import_csv": {"en": "Import action items (CSV, max 5 MB)", "fa": "ورود اقدامات از CSV (حداکثر ۵ مگابایت)"},
    "upload": {"en": "Upload", "fa": "بارگذاری"},
    "synthetic": {"en": "Data source", "fa": "منبع داده"},
    "focus": {"en": "Focus country", "fa": "کشور مرکزی"},
    "value_usd": {"en": "Value (US$)", "fa": "ارزش (دلار)"},
    "share": {"en": "Share", "fa": "سهم"},
    "growth": {"en": "Growth", "fa": "رشد"},
    "rows": {"en": "rows", "fa": "ردیف"},
    "showing": {"en": "showing first", "fa": "نمایش نخستین"},
    "api": {"en": "API", "fa": "API"},
    "target": {"en": "Target", "fa": "هدف"},
    "id": {"en": "ID", "fa": "شناسه"},
    "st_open": {"en": "open", "fa": "باز"},
    "st_in_progress": {"en": "in progress", "fa": "در حال انجام"},
    "st_done": {"en": "done", "fa": "انجام‌شده"},
    "st_cancelled": {"en": "cancelled", "fa": "لغوشده"},
    "st_on-track": {"en": "on track", "fa": "در مسیر"},
    "st_at-risk": {"en": "at risk", "fa": "در خطر"},
    "st_off-track": {"en": "off track", "fa": "خارج از مسیر"},
    "st_no-data": {"en": "no data", "fa": "بدون داده"},
    "progress": {"en": "Progress", "fa": "پیشرفت"},
    "dimension": {"en": "Dimension", "fa": "بُعد"},
    "rank": {"en": "Rank", "fa": "رتبه"},
    "potential": {"en": "Export potential", "fa": "پتانسیل صادراتی"},
    "duration": {"en": "Duration (years)", "fa": "مدت (سال)"},
    "survival_s": {"en": "Survival S(t)", "fa": "بقا S(t)"},
    "actual": {"en": "Actual", "fa": "واقعی"},
}


def t(key: str, lang: str = "en") -> str:
    """The string ``key`` in ``lang`` (falls back to English, then to the key itself)."""
    entry = STRINGS.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["en"]


def digits(text: object, lang: str) -> str:
    """Persian digits and separators when ``lang == 'fa'``."""
    s = str(text)
    return s.translate(_FA_DIGITS) if lang == "fa" else s


def fmt_number(value: object, lang: str = "en", decimals: int = 0) -> str:
    """Thousands-separated number (``1,234,567``; Persian ``۱٬۲۳۴٬۵۶۷``); empty for None/NaN."""
    if value is None:
        return ""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return digits(value, lang)
    if math.isnan(x):
        return ""
    return digits(f"{x:,.{decimals}f}", lang)


def fmt_usd(value: object, lang: str = "en") -> str:
    """Compact US dollars: 1.23 bn / 45.6 m / 789 k (Persian: میلیارد / میلیون / هزار)."""
    if value is None:
        return ""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return ""
    sign, x = ("−" if x < 0 else ""), abs(x)
    units = (("bn", "میلیارد", 1e9), ("m", "میلیون", 1e6), ("k", "هزار", 1e3))
    for en, fa, size in units:
        if x >= size:
            num = f"{x / size:,.2f}"
            return f"{sign}${num} {en}" if lang == "en" else f"{sign}{digits(num, 'fa')} {fa} دلار"
    return f"{sign}${x:,.0f}" if lang == "en" else f"{sign}{digits(f'{x:,.0f}', 'fa')} دلار"


def fmt_date(value: object, lang: str = "en") -> str:
    """ISO date in English; Solar Hijri ``YYYY/MM/DD`` with Persian digits in Persian."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        return str(value)
    if lang == "fa":
        import jdatetime
        j = jdatetime.date.fromgregorian(date=value)
        return digits(f"{j.year:04d}/{j.month:02d}/{j.day:02d}", "fa")
    return value.isoformat()


def fmt_year(value: object, lang: str = "en") -> str:
    """A Gregorian year; in Persian with its Solar Hijri year, e.g. ``۲۰۲۳ (۱۴۰۲)``.

    Convention: Gregorian year Y mostly overlaps Solar Hijri year Y − 621 (which starts at Nowruz in March).
    """
    try:
        y = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return str(y) if lang == "en" else digits(f"{y} ({y - 621})", "fa")
