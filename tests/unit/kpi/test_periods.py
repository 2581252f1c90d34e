"""Periods (half-open, local days), their comparisons, and the engine's compare modes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlmodel import Session

from app.errors import InvalidInput
from app.kpi.engine import compute
from app.kpi.period import Period

from .helpers import MARCH, add_customers, add_order, add_target, kpis, local


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.mark.parametrize(
    ("start", "end", "previous_start"),
    [
        ("2026-02-01", "2026-03-01", "2026-01-04"),  # February: 28 days
        ("2026-04-01", "2026-05-01", "2026-03-02"),  # April: 30 days
        ("2026-03-01", "2026-04-01", "2026-01-29"),  # March: 31 days
        ("2024-02-01", "2024-03-01", "2024-01-03"),  # leap February: 29 days
        ("2026-03-10", "2026-03-17", "2026-03-03"),  # custom week
        ("2026-03-10", "2026-03-11", "2026-03-09"),  # one day
        ("2025-11-15", "2026-02-15", "2025-08-15"),  # 92 days across a year end
    ],
)
def test_previous_has_the_same_length_and_ends_at_the_start(
    start: str, end: str, previous_start: str
) -> None:
    period = Period(day(start), day(end))
    previous = period.previous()
    assert previous == Period(day(previous_start), day(start))
    assert previous.days == period.days


@pytest.mark.parametrize(
    ("start", "end", "expected_start", "expected_end"),
    [
        ("2026-03-01", "2026-04-01", "2025-03-01", "2025-04-01"),
        ("2025-03-01", "2025-04-01", "2024-03-01", "2024-04-01"),
        ("2024-02-01", "2024-03-01", "2023-02-01", "2023-03-01"),
        # 29 Feb at the start of a period becomes 28 Feb.
        ("2024-02-29", "2024-03-31", "2023-02-28", "2023-03-31"),
        ("2025-03-10", "2025-03-17", "2024-03-10", "2024-03-17"),
    ],
)
def test_last_year_shifts_both_ends(
    start: str, end: str, expected_start: str, expected_end: str
) -> None:
    assert Period(day(start), day(end)).last_year() == Period(
        day(expected_start), day(expected_end)
    )


def test_last_year_of_a_period_ending_on_29_february() -> None:
    # The one day 28 Feb 2024; a year earlier it is the one day 28 Feb 2023.
    assert Period(day("2024-02-28"), day("2024-02-29")).last_year() == Period(
        day("2023-02-28"), day("2023-03-01")
    )


def test_period_properties_and_invalid_periods() -> None:
    assert MARCH.days == 31
    assert MARCH.as_of_day == day("2026-03-31")
    with pytest.raises(InvalidInput):
        Period(day("2026-03-01"), day("2026-03-01"))
    with pytest.raises(InvalidInput):
        Period(day("2026-03-02"), day("2026-03-01"))


def build_compare(session: Session) -> None:
    add_customers(session, 1, 2)
    # Customer 1: March 2025, February 2026 (P') and March 2026 (P).
    add_order(session, 1, 1, local(2025, 3, 10, 9), 4000000)
    add_order(session, 2, 1, local(2026, 2, 10, 9), 2000000)
    add_order(session, 3, 1, local(2026, 3, 10, 9), 3000000)
    # Customer 2: first order in P (P' has no new customer).
    add_order(session, 4, 2, local(2026, 3, 11, 9), 0)
    add_target(session, 1, "revenue", MARCH.start, MARCH.end, 2500000)


def test_compare_previous(session: Session) -> None:
    build_compare(session)
    got = kpis(
        session,
        ["revenue", "new_customers", "new_customer_rate", "retention_rate"],
        compare="previous",
    )
    revenue = got["revenue"]
    assert revenue.value == Decimal(3000000)
    assert revenue.compare_value == Decimal(2000000)  # P' = [29 Jan, 1 Mar)
    assert revenue.change == Decimal(1000000)
    assert revenue.change_pct == pytest.approx(0.5)
    assert revenue.target == Decimal(2500000)
    assert revenue.completion == pytest.approx(1.2)
    # New customers 1 vs 0: the change is 1, its percentage undefined.
    assert got["new_customers"].value == 1
    assert got["new_customers"].compare_value == 0
    assert got["new_customers"].change == 1
    assert got["new_customers"].change_pct is None
    # New-customer rate 1/2 vs 0/1: a zero base again.
    assert got["new_customer_rate"].compare_value == 0.0
    assert got["new_customer_rate"].change == pytest.approx(0.5)
    assert got["new_customer_rate"].change_pct is None
    # Retention of P' needs P'' = [29 Dec, 29 Jan): nobody active, so None; no change.
    assert got["retention_rate"].value == pytest.approx(1.0)
    assert got["retention_rate"].compare_value is None
    assert got["retention_rate"].change is None
    assert got["retention_rate"].change_pct is None


def test_compare_last_year(session: Session) -> None:
    build_compare(session)
    report = compute(session, ["revenue"], MARCH, None, "last_year")
    assert report.compare_period == Period(day("2025-03-01"), day("2025-04-01"))
    revenue = report.by_id()["revenue"]
    assert revenue.compare_value == Decimal(4000000)
    assert revenue.change == Decimal(-1000000)
    assert revenue.change_pct == pytest.approx(-0.25)


def test_compare_target_and_none(session: Session) -> None:
    build_compare(session)
    revenue = kpis(session, ["revenue"], compare="target")["revenue"]
    assert revenue.compare_value == Decimal(2500000)
    assert revenue.change == Decimal(500000)
    assert revenue.change_pct == pytest.approx(0.2)
    # No target for orders_count: nothing to compare.
    orders = kpis(session, ["orders_count"], compare="target")["orders_count"]
    assert orders.compare_value is None
    assert orders.change is None
    assert orders.change_pct is None
    report = compute(session, ["revenue"], MARCH, None, None)
    assert report.compare_period is None
    revenue = report.by_id()["revenue"]
    assert revenue.compare_value is None
    assert revenue.change is None
    assert revenue.change_pct is None
    assert revenue.target == Decimal(2500000)  # the target is shown whatever the comparison


def test_engine_rejects_bad_input(session: Session) -> None:
    with pytest.raises(InvalidInput):
        compute(session, ["revenue", "no_such_kpi"], MARCH)
    with pytest.raises(InvalidInput):
        compute(session, ["revenue"], Period(day("2026-03-01"), day("2026-03-01")))
