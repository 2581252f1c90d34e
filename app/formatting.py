"""Locale-aware formatting of money, numbers, percentages and dates (Babel).

Vietnamese: ``1.234.567 ₫``, ``12,3 tỷ ₫``, ``15/06/2026``; English: ``₫1,234,567``,
``₫12.3B``, ``15 Jun 2026``. ``None`` is shown as "n/a" in the user's language.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_currency, format_decimal

from app.i18n import normalise_language, translate

LOCALES = {"vi": "vi_VN", "en": "en_US"}
DATE_LOCALES = {"vi": "vi_VN", "en": "en_GB"}
_COMPACT = {
    "vi": ((Decimal(10) ** 9, "tỷ"), (Decimal(10) ** 6, "triệu"), (Decimal(10) ** 3, "nghìn")),
    "en": ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "K")),
}


def _locale(language: str) -> str:
    return LOCALES[normalise_language(language)]


def not_available(language: str) -> str:
    """The "n/a" text of the language."""
    return translate("common.not_available", language)


def money(value: Any, language: str, *, currency: str = "VND") -> str:
    """A full amount: ``1.234.567 ₫`` (vi) or ``₫1,234,567`` (en)."""
    if value is None:
        return not_available(language)
    places = 0 if currency == "VND" else 2
    amount = round(Decimal(str(value)), places)
    return format_currency(
        amount,
        currency,
        locale=_locale(language),
        format_type="standard",
        currency_digits=False,
        decimal_quantization=True,
        format=None if places else "#,##0 ¤" if normalise_language(language) == "vi" else "¤#,##0",
    )


def compact_number(value: Any, language: str) -> str:
    """A large number shortened: ``12,3 tỷ`` (vi) or ``12.3B`` (en)."""
    if value is None:
        return not_available(language)
    language = normalise_language(language)
    number = Decimal(str(value))
    magnitude = abs(number)
    for unit, name in _COMPACT[language]:
        if magnitude >= unit:
            scaled = number / unit
            digits = "#,##0" if abs(scaled) >= 100 else "#,##0.0"
            text = format_decimal(scaled, format=digits, locale=_locale(language))
            return f"{text} {name}" if language == "vi" else f"{text}{name}"
    return format_decimal(round(number), format="#,##0", locale=_locale(language))


def compact_money(value: Any, language: str, *, currency: str = "VND") -> str:
    """Money shortened for cards: ``12,3 tỷ ₫`` (vi) or ``₫12.3B`` (en)."""
    if value is None:
        return not_available(language)
    symbol = "₫" if currency == "VND" else currency + " "
    text = compact_number(value, language)
    return (
        f"{text} {symbol}".strip() if normalise_language(language) == "vi" else (f"{symbol}{text}")
    )


def number(value: Any, language: str, *, places: int = 0) -> str:
    """A plain number with the locale's separators."""
    if value is None:
        return not_available(language)
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(Decimal(str(value)), format=pattern, locale=_locale(language))


def percent(fraction: Any, language: str, *, places: int = 1, signed: bool = False) -> str:
    """A fraction as a percentage: 0.1234 → ``12,3%`` (vi) or ``12.3%`` (en)."""
    if fraction is None:
        return not_available(language)
    value = Decimal(str(fraction)) * 100
    text = number(abs(value), language, places=places) + "%"
    rounded_zero = round(value, places) == 0
    if value < 0 and not rounded_zero:
        return "−" + text
    return ("+" + text) if signed and not rounded_zero else text


def date(day: dt.date | None, language: str) -> str:
    """A date: ``15/06/2026`` (vi) or ``15 Jun 2026`` (en)."""
    if day is None:
        return not_available(language)
    language = normalise_language(language)
    return babel_date(
        day, "dd/MM/yyyy" if language == "vi" else "d MMM yyyy", locale=DATE_LOCALES[language]
    )


def datetime(moment: dt.datetime | None, language: str) -> str:
    """A date and time to the minute, in the moment's own time zone."""
    if moment is None:
        return not_available(language)
    language = normalise_language(language)
    pattern = "dd/MM/yyyy HH:mm" if language == "vi" else "d MMM yyyy HH:mm"
    return babel_datetime(moment, pattern, tzinfo=moment.tzinfo, locale=DATE_LOCALES[language])


def month(day: dt.date, language: str) -> str:
    """A month: ``Tháng 6/2026`` (vi) or ``Jun 2026`` (en)."""
    language = normalise_language(language)
    if language == "vi":
        return f"Tháng {day.month}/{day.year}"
    return babel_date(day, "MMM yyyy", locale=DATE_LOCALES[language])


def kpi_value(value: Any, unit: str, language: str) -> str:
    """A KPI value formatted for its unit."""
    if value is None:
        return not_available(language)
    if unit == "money":
        return compact_money(value, language)
    if unit == "percent":
        return percent(value, language)
    if unit in ("days", "hours", "score"):
        return number(value, language, places=1)
    return number(value, language)


def kpi_change(change: Any, change_pct: float | None, unit: str, language: str) -> str | None:
    """The change shown under a KPI: percentage points for rates, relative otherwise."""
    if change is None:
        return None
    if unit == "percent":
        points = number(abs(Decimal(str(change))) * 100, language, places=1)
        sign = "+" if change > 0 else "−" if change < 0 else ""
        return f"{sign}{points} {'điểm %' if normalise_language(language) == 'vi' else 'pp'}"
    if change_pct is not None:
        return percent(change_pct, language, signed=True)
    if unit == "money":
        prefix = "+" if change > 0 else ""
        return prefix + compact_money(change, language)
    return ("+" if change > 0 else "") + number(
        change, language, places=0 if unit in ("count", "level") else 1
    )
