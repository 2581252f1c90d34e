"""The overview page's numbers: active customers, revenue this month vs last, open complaints.

Periods are calendar months, half-open ``[start, end)`` in the display time zone; the
stored ``ordered_at`` is UTC, so the local month boundaries are converted to UTC
instants before comparing. Every aggregate runs in SQL (see performance-notes.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from sqlalchemy import and_, case, distinct, func
from sqlmodel import Session, col, select

from app.models import (
    COUNTED_ORDER_STATUSES,
    OPEN_COMPLAINT_STATUSES,
    Complaint,
    Customer,
    Order,
)
from app.settings import display_timezone, local_midnight_utc

from .base import KpiFilters


@dataclass(frozen=True)
class OverviewNumbers:
    """The overview KPIs for the month containing ``today`` and the month before it."""

    today: dt.date
    timezone: str
    month_start: dt.date
    month_end: dt.date
    last_month_start: dt.date
    last_month_end: dt.date
    active_customers: int
    active_customers_last_month: int
    active_customers_change: int
    revenue_this_month: Decimal
    revenue_last_month: Decimal
    revenue_change_pct: Optional[float]
    open_complaints: int
    # False when the database holds neither customers nor orders: the page then shows
    # how to load data instead of a row of zeros.
    has_records: bool
    as_of: dt.datetime


def month_bounds(day: dt.date, months_back: int = 0) -> tuple[dt.date, dt.date]:
    """First day of the month ``months_back`` before ``day``'s month, and of the month after."""
    index = day.year * 12 + (day.month - 1) - months_back
    start = dt.date(index // 12, index % 12 + 1, 1)
    following = index + 1
    return start, dt.date(following // 12, following % 12 + 1, 1)


def relative_change(current: Decimal, previous: Decimal) -> Optional[float]:
    """(current − previous) / previous as a float; None when previous is 0 (catalogue rule)."""
    if previous == 0:
        return None
    return float((current - previous) / previous)


def overview_numbers(
    *, session: Session, today: dt.date, visible_to_owner_id: int | None = None
) -> OverviewNumbers:
    """Compute the overview KPIs in SQL for the month of ``today`` (display time zone).

    ``visible_to_owner_id`` (set for staff) counts only the customers that user owns and
    unassigned ones, like ``KpiFilters.visible_to_owner_id``.
    """
    scope = KpiFilters(visible_to_owner_id=visible_to_owner_id).conditions()
    tz = display_timezone(session=session)
    month_start, month_end = month_bounds(today)
    last_start, last_end = month_bounds(today, months_back=1)
    # last_end == month_start, so three instants bound both months.
    last_start_utc = local_midnight_utc(last_start, tz)
    month_start_utc = local_midnight_utc(month_start, tz)
    month_end_utc = local_midnight_utc(month_end, tz)

    ordered_at = col(Order.ordered_at)
    in_this_month = ordered_at >= month_start_utc
    in_last_month = ordered_at < month_start_utc
    # One scan over both months: the WHERE clause uses ix_sales_order_ordered_status and
    # the CASE expressions split the rows; a customer counts once per month.
    orders_query = select(
        func.count(distinct(case((in_this_month, col(Order.customer_id))))),
        func.count(distinct(case((in_last_month, col(Order.customer_id))))),
        func.coalesce(func.sum(case((in_this_month, col(Order.amount)), else_=0)), 0),
        func.coalesce(func.sum(case((in_last_month, col(Order.amount)), else_=0)), 0),
    ).where(
        and_(
            ordered_at >= last_start_utc,
            ordered_at < month_end_utc,
            col(Order.status).in_(COUNTED_ORDER_STATUSES),
        )
    )
    complaints_query = select(func.count()).where(
        col(Complaint.status).in_(OPEN_COMPLAINT_STATUSES)
    )
    customers_exist = select(Customer.id)
    orders_exist = select(Order.id)
    if scope:
        orders_query = (
            orders_query.select_from(Order)
            .join(Customer, Customer.id == Order.customer_id)
            .where(*scope)
        )
        complaints_query = (
            complaints_query.select_from(Complaint)
            .join(Customer, Customer.id == Complaint.customer_id)
            .where(*scope)
        )
        customers_exist = customers_exist.where(*scope)
        orders_exist = orders_exist.join(Customer, Customer.id == Order.customer_id).where(*scope)
    orders_row = session.exec(orders_query).one()
    active, active_last, revenue_raw, revenue_last_raw = orders_row
    revenue = _money(revenue_raw)
    revenue_last = _money(revenue_last_raw)

    open_complaints = session.exec(complaints_query).one()
    has_records = session.exec(select(customers_exist.exists() | orders_exist.exists())).one()

    return OverviewNumbers(
        today=today,
        timezone=tz.key,
        month_start=month_start,
        month_end=month_end,
        last_month_start=last_start,
        last_month_end=last_end,
        active_customers=int(active),
        active_customers_last_month=int(active_last),
        active_customers_change=int(active) - int(active_last),
        revenue_this_month=revenue,
        revenue_last_month=revenue_last,
        revenue_change_pct=relative_change(revenue, revenue_last),
        open_complaints=int(open_complaints),
        has_records=bool(has_records),
        as_of=dt.datetime.now(tz),
    )


def _money(value: object) -> Decimal:
    # SQLite returns SUM over NUMERIC as int or float; go through str so that a float
    # like 0.1 + 0.2 does not leak binary noise, and keep two decimal places like the column.
    if isinstance(value, Decimal):
        return value.quantize(Decimal("0.01"))
    return Decimal(str(value)).quantize(Decimal("0.01"))
