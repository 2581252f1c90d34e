"""overview_numbers on tiny hand-built data, on SQLite and PostgreSQL (fixture ``session``).

Asia/Ho_Chi_Minh is UTC+7 all year, so local midnight is 17:00 UTC of the day before.
With today = 15 June 2026:
  this month = [1 June 00:00 local, 1 July 00:00 local) = [31 May 17:00Z, 30 June 17:00Z)
  last month = [1 May 00:00 local, 1 June 00:00 local)  = [30 April 17:00Z, 31 May 17:00Z)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlmodel import Session

from app.kpi.overview import month_bounds, overview_numbers, relative_change
from app.models import Complaint, ComplaintStatus, Customer, Order, OrderStatus
from app.settings import set_setting

TODAY = dt.date(2026, 6, 15)
UTC = dt.UTC


def utc(*parts: int) -> dt.datetime:
    """An aware UTC datetime."""
    return dt.datetime(*parts, tzinfo=UTC)


def add_customers(session: Session, *codes: str, archived: bool = False) -> dict[str, int]:
    """Insert customers by code; return their ids."""
    rows = [Customer(code=code, name=f"Customer {code}", archived=archived) for code in codes]
    session.add_all(rows)
    session.flush()
    return {row.code: row.id for row in rows}


def add_order(
    session: Session,
    code: str,
    customer_id: int,
    ordered_at: dt.datetime,
    amount: str,
    status: OrderStatus = OrderStatus.paid,
) -> None:
    """Insert one order with the given amount (no lines: only the header is read)."""
    session.add(
        Order(
            code=code,
            customer_id=customer_id,
            ordered_at=ordered_at,
            status=status,
            amount=Decimal(amount),
        )
    )


@pytest.fixture
def boundary_data(session: Session) -> Session:
    """Orders around both month boundaries and complaints in every status."""
    ids = add_customers(session, "KH_A", "KH_B", "KH_C", "KH_D", "KH_E", "KH_F")
    ids |= add_customers(session, "KH_G", archived=True)
    a, b, c, d, e, f, g = (ids[f"KH_{x}"] for x in "ABCDEFG")
    # --- this month
    # 00:00 local 1 June, exactly the month start: counts (start is inclusive).
    add_order(session, "O01", a, utc(2026, 5, 31, 17, 0), "1000000", OrderStatus.confirmed)
    # A second order of A this month: revenue adds, A is still one active customer.
    add_order(session, "O02", a, utc(2026, 6, 10, 3, 0), "500000.50", OrderStatus.delivered)
    # 00:00 local 1 July, exactly the month end: not this month (end is exclusive).
    add_order(session, "O03", b, utc(2026, 6, 30, 17, 0), "9000000")
    # 23:59:59 local 30 June, the last second of the month: counts.
    add_order(session, "O04", b, utc(2026, 6, 30, 16, 59, 59), "2000000")
    # Cancelled and draft orders never count, so C is not active.
    add_order(session, "O05", c, utc(2026, 6, 5, 2, 0), "7000000", OrderStatus.cancelled)
    add_order(session, "O06", c, utc(2026, 6, 6, 2, 0), "3000000", OrderStatus.draft)
    # 06:30 local 1 June = 23:30 UTC 31 May: the UTC date is in May, the order is June's.
    add_order(session, "O07", d, utc(2026, 5, 31, 23, 30), "250000")
    # An archived customer still counts (the catalogue does not filter archived ones).
    add_order(session, "O08", g, utc(2026, 6, 12, 4, 0), "100000")
    # --- last month
    # 23:30 local 31 May = 16:30 UTC 31 May: last month, half an hour before the boundary.
    add_order(session, "O09", e, utc(2026, 5, 31, 16, 30), "4000000")
    # 00:30 local 1 May = 17:30 UTC 30 April: the UTC date is in April, the order is May's.
    add_order(session, "O10", a, utc(2026, 4, 30, 17, 30), "1500000")
    # 23:30 local 30 April = 16:30 UTC 30 April: before last month, in neither month.
    add_order(session, "O11", f, utc(2026, 4, 30, 16, 30), "800000")
    # Cancelled last month: not counted, so C is not active last month either.
    add_order(session, "O12", c, utc(2026, 5, 20, 2, 0), "600000", OrderStatus.cancelled)
    # --- complaints: open, in_progress and reopened are open; resolved and closed are not.
    statuses = {
        a: ComplaintStatus.open,
        b: ComplaintStatus.in_progress,
        c: ComplaintStatus.reopened,
        d: ComplaintStatus.resolved,
        e: ComplaintStatus.closed,
    }
    for customer_id, status in statuses.items():
        session.add(
            Complaint(
                customer_id=customer_id,
                category="delivery",
                opened_at=utc(2026, 3, 1, 2, 0),
                status=status,
            )
        )
    session.commit()
    return session


def test_boundaries_statuses_and_time_zone(boundary_data: Session) -> None:
    numbers = overview_numbers(session=boundary_data, today=TODAY)

    assert numbers.month_start == dt.date(2026, 6, 1)
    assert numbers.month_end == dt.date(2026, 7, 1)
    assert numbers.last_month_start == dt.date(2026, 5, 1)
    assert numbers.last_month_end == dt.date(2026, 6, 1)
    assert numbers.timezone == "Asia/Ho_Chi_Minh"
    # A (O01, O02), B (O04), D (O07), G (O08).
    assert numbers.active_customers == 4
    # E (O09), A (O10).
    assert numbers.active_customers_last_month == 2
    assert numbers.active_customers_change == 2
    # 1,000,000 + 500,000.50 + 2,000,000 + 250,000 + 100,000
    assert numbers.revenue_this_month == Decimal("3850000.50")
    # 4,000,000 + 1,500,000
    assert numbers.revenue_last_month == Decimal("5500000.00")
    assert isinstance(numbers.revenue_this_month, Decimal)
    assert numbers.revenue_change_pct == pytest.approx(-1_649_999.50 / 5_500_000)
    assert numbers.open_complaints == 3
    assert numbers.has_records is True
    assert numbers.as_of.tzinfo is not None


def test_time_zone_setting_moves_the_boundaries(boundary_data: Session) -> None:
    set_setting(session=boundary_data, key="timezone", value="UTC")

    numbers = overview_numbers(session=boundary_data, today=TODAY)

    # In UTC this month is [1 June 00:00Z, 1 July 00:00Z): O01 (31 May 17:00Z) and
    # O07 (31 May 23:30Z) move to May; O03 (30 June 17:00Z) now counts.
    # This month: A (O02), B (O03, O04), G (O08).
    assert numbers.active_customers == 3
    assert numbers.revenue_this_month == Decimal("11600000.50")
    # Last month [1 May, 1 June) UTC: A (O01), D (O07), E (O09); O10 (30 April) drops out.
    assert numbers.active_customers_last_month == 3
    assert numbers.revenue_last_month == Decimal("5250000.00")
    assert numbers.timezone == "UTC"


def test_empty_database_gives_zeros_and_no_change(session: Session) -> None:
    numbers = overview_numbers(session=session, today=TODAY)

    assert numbers.active_customers == 0
    assert numbers.active_customers_last_month == 0
    assert numbers.active_customers_change == 0
    assert numbers.revenue_this_month == Decimal("0")
    assert numbers.revenue_last_month == Decimal("0")
    assert numbers.revenue_change_pct is None
    assert numbers.open_complaints == 0
    assert numbers.has_records is False


def test_zero_previous_month_gives_no_change(session: Session) -> None:
    ids = add_customers(session, "KH_A")
    # Only an order this month (10:00 local 3 June); last month has no revenue.
    add_order(session, "O01", ids["KH_A"], utc(2026, 6, 3, 3, 0), "1200000")
    session.commit()

    numbers = overview_numbers(session=session, today=TODAY)

    assert numbers.active_customers == 1
    assert numbers.active_customers_last_month == 0
    assert numbers.active_customers_change == 1
    assert numbers.revenue_this_month == Decimal("1200000")
    assert numbers.revenue_last_month == Decimal("0")
    assert numbers.revenue_change_pct is None
    assert numbers.has_records is True


def test_customers_without_orders_are_records(session: Session) -> None:
    add_customers(session, "KH_A")
    session.commit()

    numbers = overview_numbers(session=session, today=TODAY)

    assert numbers.has_records is True
    assert numbers.active_customers == 0


@pytest.mark.parametrize(
    ("day", "months_back", "expected"),
    [
        (dt.date(2026, 6, 15), 0, (dt.date(2026, 6, 1), dt.date(2026, 7, 1))),
        (dt.date(2026, 6, 15), 1, (dt.date(2026, 5, 1), dt.date(2026, 6, 1))),
        # December rolls into the next year, January back into the previous one.
        (dt.date(2026, 12, 31), 0, (dt.date(2026, 12, 1), dt.date(2027, 1, 1))),
        (dt.date(2026, 1, 1), 1, (dt.date(2025, 12, 1), dt.date(2026, 1, 1))),
        # A leap-year February ends where March starts.
        (dt.date(2028, 3, 31), 1, (dt.date(2028, 2, 1), dt.date(2028, 3, 1))),
    ],
)
def test_month_bounds(day: dt.date, months_back: int, expected: tuple[dt.date, dt.date]) -> None:
    assert month_bounds(day, months_back) == expected


def test_relative_change() -> None:
    assert relative_change(Decimal("150"), Decimal("100")) == pytest.approx(0.5)
    assert relative_change(Decimal("0"), Decimal("100")) == pytest.approx(-1.0)
    assert relative_change(Decimal("100"), Decimal("0")) is None
