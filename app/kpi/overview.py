"""The overview page's numbers: active customers, revenue this month vs last, open complaints.

Periods are calendar months, half-open ``[start, end)`` in the display time zone; the
stored ``ordered_at`` is UTC, so the local month boundaries are converted to UTC
instants before comparing. Orders are read from the KPI summary tables when current
(see docs/performance.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.models import (
    OPEN_COMPLAINT_STATUSES,
    Complaint,
    Customer,
    Order,
)

from .base import KpiContext, KpiFilters
from .finance import order_totals
from .period import Period
from .results import count_active

# The executives' eight cards of the Overview page, in display order (the page, the
# benchmark and the summary tests all use this one list).
OVERVIEW_KPIS: tuple[str, ...] = (
    "revenue",
    "profit",
    "active_customers",
    "new_customers",
    "churn_rate",
    "nps",
    "open_past_sla",
    "weighted_pipeline",
)


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
    ctx = KpiContext.create(
        session=session, filters=KpiFilters(visible_to_owner_id=visible_to_owner_id)
    )
    scope = ctx.filters.conditions()
    tz = ctx.tz
    month_start, month_end = month_bounds(today)
    last_start, last_end = month_bounds(today, months_back=1)
    this_month = Period(month_start, month_end)
    last_month = Period(last_start, last_end)
    # Read from the KPI summary tables when they are current (app/kpi/summaries.py),
    # else from sales_order; either way the same numbers as the KPI engine.
    active, active_last = count_active(ctx, this_month), count_active(ctx, last_month)
    revenue = order_totals(ctx, this_month)[0]
    revenue_last = order_totals(ctx, last_month)[0]

    complaints_query = select(func.count()).where(
        col(Complaint.status).in_(OPEN_COMPLAINT_STATUSES)
    )
    customers_exist = select(Customer.id)
    orders_exist = select(Order.id)
    if scope:
        complaints_query = (
            complaints_query.select_from(Complaint)
            .join(Customer, Customer.id == Complaint.customer_id)
            .where(*scope)
        )
        customers_exist = customers_exist.where(*scope)
        orders_exist = orders_exist.join(Customer, Customer.id == Order.customer_id).where(*scope)
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
