"""The translation layer: no key is missing in either language, placeholders agree."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app import formatting as fmt
from app.i18n import LANGUAGES, all_messages, placeholders, translate


def test_every_key_exists_in_both_languages_with_the_same_placeholders() -> None:
    messages = all_messages()
    english, vietnamese = messages["en"], messages["vi"]
    assert set(english) == set(vietnamese), set(english) ^ set(vietnamese)
    for key, text in english.items():
        assert vietnamese[key].strip(), f"{key} is empty in Vietnamese"
        assert placeholders(text) == placeholders(vietnamese[key]), key


def test_translate_fills_parameters_and_falls_back_to_the_key() -> None:
    assert translate("common.page_overview", "vi") == "Tổng quan"
    assert translate("common.page_overview", "en") == "Overview"
    assert translate("common.compared_with", "en", start="1", end="2") == "compared with 1 – 2"
    assert translate("common.page_overview", "fr") == "Tổng quan"  # unknown → default vi
    assert translate("nowhere.nothing", "en") == "nowhere.nothing"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("vi", ["1.234.567 ₫", "12,3 tỷ ₫", "4,5 triệu ₫", "12,3%", "15/06/2026", "không có"]),
        ("en", ["₫1,234,567", "₫12.3B", "₫4.5M", "12.3%", "15 Jun 2026", "n/a"]),
    ],
)
def test_money_numbers_and_dates_follow_the_locale(language: str, expected: list[str]) -> None:
    got = [
        fmt.money(Decimal("1234567.4"), language),
        fmt.compact_money(12_345_678_901, language),
        fmt.compact_money(4_500_000, language),
        fmt.percent(0.1234, language),
        fmt.date(dt.date(2026, 6, 15), language),
        fmt.money(None, language),
    ]
    assert got == expected


def test_kpi_values_and_changes_by_unit() -> None:
    assert fmt.kpi_value(None, "percent", "en") == "n/a"
    assert fmt.kpi_value(0.5, "percent", "en") == "50.0%"
    assert fmt.kpi_value(1234, "count", "vi") == "1.234"
    assert fmt.kpi_change(0.012, 0.1, "percent", "en") == "+1.2 pp"
    assert fmt.kpi_change(-3, -0.25, "count", "en") == "−25.0%"
    assert fmt.kpi_change(5, None, "count", "en") == "+5"
    assert fmt.kpi_change(None, None, "count", "en") is None
    assert fmt.percent(-0.0001, "en", signed=True) == "0.0%"  # no "-0.0%"


@pytest.mark.parametrize("language", LANGUAGES)
def test_month_names(language: str) -> None:
    assert fmt.month(dt.date(2026, 6, 1), language) in {"Tháng 6/2026", "Jun 2026"}
