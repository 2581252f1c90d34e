"""Pure formatting helpers and card builders of components.kpi_cards, without a Streamlit run."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.kpi.overview import OverviewNumbers
from components.kpi_cards import (
    format_count,
    format_date,
    format_datetime,
    format_month,
    format_pct,
    format_signed_count,
    format_vnd,
    format_vnd_compact,
    overview_caption,
    overview_cards,
)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("1234567"), "1.234.567 ₫"),
        (Decimal("0"), "0 ₫"),
        (Decimal("999"), "999 ₫"),
        (Decimal("1000"), "1.000 ₫"),
        # Đồng has no subunit in use: round half up to whole đồng.
        (Decimal("1234567.49"), "1.234.567 ₫"),
        (Decimal("1234567.50"), "1.234.568 ₫"),
        (Decimal("-2500000"), "-2.500.000 ₫"),
        (12_300_000_000, "12.300.000.000 ₫"),
        (1500.5, "1.501 ₫"),
    ],
)
def test_format_vnd(amount: Decimal | int | float, expected: str) -> None:
    assert format_vnd(amount) == expected


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("12345678901"), "12,3 tỷ ₫"),
        (Decimal("4500000"), "4,5 triệu ₫"),
        (Decimal("1000000000"), "1,0 tỷ ₫"),
        (Decimal("1000000"), "1,0 triệu ₫"),
        (Decimal("1250000000000"), "1.250 tỷ ₫"),
        # 999,96 triệu would round to "1.000 triệu": it is shown as 1 tỷ.
        (Decimal("999960000"), "1,0 tỷ ₫"),
        # 0,949 tỷ rounds to 0,9 tỷ, less than one unit: shown in triệu, from 100
        # units up without decimals (about three significant digits).
        (Decimal("949000000"), "949 triệu ₫"),
        (Decimal("99960000"), "100 triệu ₫"),
        (Decimal("99940000"), "99,9 triệu ₫"),
        (Decimal("4040000000"), "4,0 tỷ ₫"),
        # 949.999 đồng rounds to 0,9 triệu, less than one unit: the full amount.
        (Decimal("949999"), "949.999 ₫"),
        # 950.000 đồng rounds to 1,0 triệu.
        (Decimal("950000"), "1,0 triệu ₫"),
        (Decimal("0"), "0 ₫"),
        (Decimal("-4500000"), "-4,5 triệu ₫"),
        (4_560_000, "4,6 triệu ₫"),
    ],
)
def test_format_vnd_compact(amount: Decimal | int, expected: str) -> None:
    assert format_vnd_compact(amount) == expected


@pytest.mark.parametrize(
    ("count", "expected"), [(0, "0"), (7, "7"), (1234, "1.234"), (1234567, "1.234.567")]
)
def test_format_count(count: int, expected: str) -> None:
    assert format_count(count) == expected


@pytest.mark.parametrize(
    ("change", "expected"), [(3, "+3"), (0, "0"), (-2, "-2"), (1500, "+1.500")]
)
def test_format_signed_count(change: int, expected: str) -> None:
    assert format_signed_count(change) == expected


@pytest.mark.parametrize(
    ("fraction", "signed", "expected"),
    [
        (0.1234, False, "12,3%"),
        (0.25, False, "25,0%"),
        (1.5, False, "150,0%"),
        (12.3456, False, "1.234,6%"),
        (0.1234, True, "+12,3%"),
        (-0.318, True, "-31,8%"),
        (-0.318, False, "-31,8%"),
        # Rounds to zero: no sign either way.
        (-0.0004, True, "0,0%"),
        (0.0, True, "0,0%"),
        (Decimal("0.0005"), False, "0,1%"),
        (None, False, "n/a"),
        (None, True, "n/a"),
    ],
)
def test_format_pct(fraction: float | Decimal | None, signed: bool, expected: str) -> None:
    assert format_pct(fraction, signed=signed) == expected


def test_dates() -> None:
    moment = dt.datetime(2026, 6, 15, 9, 5, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    assert format_date(dt.date(2026, 6, 5)) == "05/06/2026"
    assert format_datetime(moment) == "15/06/2026 09:05"
    assert format_month(dt.date(2026, 6, 15)) == "June 2026"
    assert format_month(dt.date(2025, 12, 1)) == "December 2025"


NUMBERS = OverviewNumbers(
    today=dt.date(2026, 6, 15),
    timezone="Asia/Ho_Chi_Minh",
    month_start=dt.date(2026, 6, 1),
    month_end=dt.date(2026, 7, 1),
    last_month_start=dt.date(2026, 5, 1),
    last_month_end=dt.date(2026, 6, 1),
    active_customers=1234,
    active_customers_last_month=1200,
    active_customers_change=34,
    revenue_this_month=Decimal("3850000.50"),
    revenue_last_month=Decimal("5500000.00"),
    revenue_change_pct=-1_649_999.50 / 5_500_000,
    open_complaints=3,
    has_records=True,
    as_of=dt.datetime(2026, 6, 15, 9, 5, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),
)


def test_overview_cards() -> None:
    active, revenue, complaints = overview_cards(NUMBERS)

    assert (active.label, active.value, active.delta, active.trend) == (
        "Active customers",
        "1.234",
        "+34",
        1,
    )
    assert active.delta_description == "vs last month (1.200)"
    assert (revenue.label, revenue.value, revenue.delta, revenue.trend) == (
        "Revenue this month",
        "3,9 triệu ₫",
        "-30,0%",
        -1,
    )
    assert "This month: 3.850.001 ₫; last month: 5.500.000 ₫." in revenue.help
    assert revenue.delta_description == "vs last month (5,5 triệu ₫)"
    assert (complaints.label, complaints.value, complaints.delta) == ("Open complaints", "3", None)
    # Every card explains its formula on hover.
    assert all(card.help for card in (active, revenue, complaints))


def test_overview_cards_without_a_previous_month() -> None:
    numbers = dataclasses.replace(
        NUMBERS,
        active_customers_change=0,
        revenue_last_month=Decimal("0"),
        revenue_change_pct=None,
    )

    active, revenue, _ = overview_cards(numbers)

    # No change and "n/a" are grey and arrowless (trend 0).
    assert (active.delta, active.trend) == ("0", 0)
    assert (revenue.delta, revenue.trend) == ("n/a", 0)


def test_overview_caption() -> None:
    assert overview_caption(NUMBERS) == (
        "June 2026 · today 15/06/2026 (Asia/Ho_Chi_Minh) · computed 15/06/2026 09:05"
    )


def test_records_to_fix_name_the_missing_fields_in_the_language() -> None:
    import pandas as pd

    from components.kpi_cards import records_to_fix_frame

    frame = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "code": ["KH1", "KH2"],
            "name": ["A", "B"],
            "owner_id": [None, 5],
            "owner_name": [None, "Vũ Minh Dung"],
            "missing": ["email, owner_id, gender", "something_new"],
        }
    )
    shown = records_to_fix_frame(frame, "vi")
    missing = list(shown[shown.columns[-1]])
    # owner_id is the "owner" field ("Người phụ trách"), never the stored column name.
    assert missing[0] == "Email, Người phụ trách, Giới tính"
    assert missing[1] == "something_new"  # unknown names stay as stored
