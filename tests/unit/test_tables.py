"""Table helpers: stored enum values labelled, numbers in the user's locale for display."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
import streamlit as st

from app.models import ComplaintStatus, Severity, Stage
from components.tables import (
    _format_of,
    format_number_cell,
    localise_numbers,
    translate_enum_columns,
)


@pytest.mark.parametrize(
    ("value", "kind", "vi", "en"),
    [
        (Decimal("1234567.4"), "money", "1.234.567 ₫", "₫1,234,567"),
        (1234567.5, "number", "1.234.567,5", "1,234,567.5"),
        (1234567, "integer", "1.234.567", "1,234,567"),
        (0.1234, "percent", "12,3%", "12.3%"),
        (12.345, "decimal1", "12,3", "12.3"),
        (12.346, "decimal2", "12,35", "12.35"),
        (2026, "plain", "2026", "2026"),
        (None, "money", "", ""),
        (float("nan"), "number", "", ""),
        (pd.NA, "integer", "", ""),
    ],
)
def test_number_cells_follow_the_locale(value: object, kind: str, vi: str, en: str) -> None:
    assert format_number_cell(value, kind, "vi") == vi
    assert format_number_cell(value, kind, "en") == en


def test_localise_numbers_formats_a_copy() -> None:
    frame = pd.DataFrame({"name": ["a", "b"], "amount": [1000.0, 2500000.0], "n": [1, 2]})
    shown = localise_numbers(frame, {"amount": "money", "missing": "money"}, "vi")
    assert list(shown["amount"]) == ["1.000 ₫", "2.500.000 ₫"]
    assert list(shown["n"]) == [1, 2]
    # The frame itself (what the downloads export) keeps its numbers.
    assert list(frame["amount"]) == [1000.0, 2500000.0]


def test_grid_formats_map_to_locale_kinds() -> None:
    assert _format_of(st.column_config.NumberColumn(format="localized")) == "number"
    assert _format_of(st.column_config.NumberColumn(format="percent")) == "percent"
    assert _format_of(st.column_config.NumberColumn(format="%.1f")) == "decimal1"
    assert _format_of(st.column_config.NumberColumn(format="%d")) == "plain"
    assert _format_of(st.column_config.NumberColumn()) is None
    assert _format_of(st.column_config.DatetimeColumn(format="DD/MM/YYYY")) is None
    assert _format_of("A title") is None


def test_translate_enum_columns_labels_stored_values() -> None:
    frame = pd.DataFrame(
        {
            "stage": ["won", Stage.lost, None, "something new"],
            "severity": ["critical", "low", "high", "medium"],
            "status": ["in_progress"] * 4,
            "name": ["won"] * 4,
        }
    )
    shown = translate_enum_columns(
        frame, {"stage": Stage, "severity": Severity, "status": ComplaintStatus}, "vi"
    )
    assert list(shown["stage"])[:2] == ["Thành công", "Thất bại"]
    assert pd.isna(shown["stage"].iloc[2])
    assert shown["stage"].iloc[3] == "something new"
    assert list(shown["severity"]) == ["Nghiêm trọng", "Thấp", "Cao", "Trung bình"]
    assert set(shown["status"]) == {"Đang xử lý"}
    assert set(shown["name"]) == {"won"}  # not named: left alone
    assert list(frame["severity"])[0] == "critical"  # a copy
    english = translate_enum_columns(frame, {"status": ComplaintStatus}, "en")
    assert set(english["status"]) == {"In progress"}
