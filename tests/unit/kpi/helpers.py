"""Row builders and a compute shortcut for the hand-computed KPI tests.

Every builder inserts one table row with an explicit id (and flushes, so foreign keys
hold on PostgreSQL whatever the insert order). Times are aware UTC datetimes;
``local(...)`` converts a wall-clock time in Ho Chi Minh City (UTC+7, no DST) to UTC,
so a comment can say "00:00 local 1 March" and the row says the same thing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from app.kpi.base import KpiFilters
from app.kpi.engine import KpiResult, compute
from app.kpi.period import Period
from app.models import (
    Campaign,
    CampaignChannel,
    CampaignMember,
    CampaignPurpose,
    Complaint,
    ComplaintStatus,
    Customer,
    Inquiry,
    InquiryStatus,
    Interaction,
    InteractionKind,
    Opportunity,
    OpportunityStageHistory,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Severity,
    Stage,
    SurveyResponse,
    Target,
    User,
)

UTC = dt.UTC
HCM = ZoneInfo("Asia/Ho_Chi_Minh")

# March 2026: [00:00 local 1 March, 00:00 local 1 April) = [28 Feb 17:00Z, 31 Mar 17:00Z).
MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 4, 1))
MARCH_START = dt.datetime(2026, 2, 28, 17, 0, tzinfo=UTC)
MARCH_END = dt.datetime(2026, 3, 31, 17, 0, tzinfo=UTC)
# Its previous period has the same 31 days: [29 Jan, 1 Mar) local.
MARCH_PREVIOUS = Period(dt.date(2026, 1, 29), dt.date(2026, 3, 1))


def utc(*parts: int) -> dt.datetime:
    """An aware UTC datetime."""
    return dt.datetime(*parts, tzinfo=UTC)


def local(*parts: int) -> dt.datetime:
    """The aware UTC datetime of a wall-clock time in Ho Chi Minh City (UTC+7)."""
    return dt.datetime(*parts, tzinfo=HCM).astimezone(UTC)


def d(value: str | int) -> Decimal:
    """A Decimal from text (money in the fixtures)."""
    return Decimal(str(value))


def add_user(session: Session, user_id: int) -> User:
    row = User(id=user_id, username=f"user{user_id}", display_name=f"User {user_id}")
    session.add(row)
    session.flush()
    return row


def add_customer(session: Session, customer_id: int, **fields: Any) -> Customer:
    fields.setdefault("code", f"KH{customer_id:04d}")
    fields.setdefault("name", f"Customer {customer_id}")
    row = Customer(id=customer_id, **fields)
    session.add(row)
    session.flush()
    return row


def add_customers(session: Session, *customer_ids: int, **fields: Any) -> None:
    for customer_id in customer_ids:
        add_customer(session, customer_id, **fields)


def add_product(session: Session, product_id: int, category: str) -> Product:
    row = Product(
        id=product_id,
        code=f"SP{product_id:04d}",
        name=f"Product {product_id}",
        category=category,
        unit_price=d(100000),
        unit_cost=d(60000),
    )
    session.add(row)
    session.flush()
    return row


def add_order(
    session: Session,
    order_id: int,
    customer_id: int,
    ordered_at: dt.datetime,
    amount: str | int = 1000000,
    cost: str | int = 600000,
    status: OrderStatus = OrderStatus.paid,
    *,
    campaign_id: int | None = None,
    promotion: str | None = None,
    lines: Iterable[tuple[int, bool, str | int]] = (),
) -> Order:
    """An order with explicit amount and cost; ``lines`` are (product, customised, discount)."""
    row = Order(
        id=order_id,
        code=f"DH{order_id:05d}",
        customer_id=customer_id,
        ordered_at=ordered_at,
        status=status,
        amount=d(amount),
        cost=d(cost),
        campaign_id=campaign_id,
        promotion=promotion,
    )
    session.add(row)
    session.flush()
    for number, (product_id, customised, discount) in enumerate(lines):
        session.add(
            OrderLine(
                id=order_id * 100 + number,
                order_id=order_id,
                product_id=product_id,
                quantity=d(1),
                unit_price=d(amount),
                unit_cost=d(cost),
                discount=d(discount),
                customised=customised,
            )
        )
    session.flush()
    return row


def add_complaint(
    session: Session,
    complaint_id: int,
    customer_id: int,
    opened_at: dt.datetime,
    *,
    severity: Severity = Severity.medium,
    first_response_at: dt.datetime | None = None,
    resolved_at: dt.datetime | None = None,
) -> Complaint:
    row = Complaint(
        id=complaint_id,
        customer_id=customer_id,
        category="Chất lượng",
        severity=severity,
        opened_at=opened_at,
        first_response_at=first_response_at,
        resolved_at=resolved_at,
        status=ComplaintStatus.resolved if resolved_at else ComplaintStatus.open,
    )
    session.add(row)
    session.flush()
    return row


def add_answer(
    session: Session,
    answer_id: int,
    customer_id: int,
    answered_at: dt.datetime,
    *,
    nps: int | None = None,
    csat: int | None = None,
) -> SurveyResponse:
    row = SurveyResponse(
        id=answer_id, customer_id=customer_id, answered_at=answered_at, nps=nps, csat=csat
    )
    session.add(row)
    session.flush()
    return row


def add_interaction(
    session: Session,
    interaction_id: int,
    customer_id: int,
    occurred_at: dt.datetime,
    *,
    user_id: int | None = None,
    kind: InteractionKind = InteractionKind.call,
) -> Interaction:
    row = Interaction(
        id=interaction_id,
        customer_id=customer_id,
        user_id=user_id,
        kind=kind,
        occurred_at=occurred_at,
        subject="Liên hệ",
    )
    session.add(row)
    session.flush()
    return row


def add_inquiry(
    session: Session,
    inquiry_id: int,
    customer_id: int,
    asked_at: dt.datetime,
    status: InquiryStatus = InquiryStatus.open,
) -> Inquiry:
    row = Inquiry(
        id=inquiry_id, customer_id=customer_id, need="Báo giá", asked_at=asked_at, status=status
    )
    session.add(row)
    session.flush()
    return row


def add_campaign(
    session: Session,
    campaign_id: int,
    purpose: CampaignPurpose,
    first_day: dt.date,
    last_day: dt.date,
    actual_cost: str | int,
) -> Campaign:
    """A campaign running on the local days [first_day, last_day], both included."""
    row = Campaign(
        id=campaign_id,
        name=f"Campaign {campaign_id}",
        channel=CampaignChannel.email,
        purpose=purpose,
        start_date=first_day,
        end_date=last_day,
        budget=d(actual_cost),
        actual_cost=d(actual_cost),
    )
    session.add(row)
    session.flush()
    return row


def add_member(
    session: Session,
    member_id: int,
    campaign_id: int,
    customer_id: int,
    contacted_at: dt.datetime | None,
) -> CampaignMember:
    row = CampaignMember(
        id=member_id, campaign_id=campaign_id, customer_id=customer_id, contacted_at=contacted_at
    )
    session.add(row)
    session.flush()
    return row


def add_opportunity(
    session: Session,
    opportunity_id: int,
    customer_id: int,
    created_at: dt.datetime,
    *,
    amount: str | int = 1000000,
    history: Iterable[tuple[Stage, dt.datetime]] = (),
    closed_at: dt.datetime | None = None,
) -> Opportunity:
    """An opportunity whose current stage is the last of its stage history."""
    history = list(history) or [(Stage.lead, created_at)]
    current = history[-1][0]
    row = Opportunity(
        id=opportunity_id,
        customer_id=customer_id,
        title=f"Opportunity {opportunity_id}",
        amount=d(amount),
        stage=current,
        lost_reason="Giá cao" if current == Stage.lost else None,
        created_at=created_at,
        closed_at=closed_at,
    )
    session.add(row)
    session.flush()
    previous = None
    for number, (stage, changed_at) in enumerate(history):
        session.add(
            OpportunityStageHistory(
                id=opportunity_id * 100 + number,
                opportunity_id=opportunity_id,
                from_stage=previous,
                to_stage=stage,
                changed_at=changed_at,
            )
        )
        previous = stage
    session.flush()
    return row


def add_target(
    session: Session,
    target_id: int,
    kpi_id: str,
    start: dt.date,
    end: dt.date,
    value: str | int,
    segment: str | None = None,
) -> Target:
    row = Target(
        id=target_id,
        kpi_id=kpi_id,
        period_start=start,
        period_end=end,
        segment=segment,
        target_value=d(value),
    )
    session.add(row)
    session.flush()
    return row


def kpis(
    session: Session,
    ids: list[str] | None,
    period: Period = MARCH,
    filters: KpiFilters | None = None,
    compare: Any = None,
) -> dict[str, KpiResult]:
    """Commit the fixture and compute the KPIs (no comparison unless asked)."""
    session.commit()
    return compute(session, ids, period, filters, compare).by_id()


def values(
    session: Session,
    ids: list[str] | None,
    period: Period = MARCH,
    filters: KpiFilters | None = None,
) -> dict[str, Any]:
    """KPI id → value."""
    return {key: result.value for key, result in kpis(session, ids, period, filters).items()}


def filter_sets(session: Session) -> list[KpiFilters]:
    """Three filter sets over the demo data: none, a segment and kind, a staff scope."""
    from sqlalchemy import select

    from app.models import CustomerKind

    owner = session.execute(
        select(Customer.owner_id).where(Customer.owner_id.is_not(None)).limit(1)
    ).scalar_one()
    segment = session.execute(
        select(Customer.segment).where(Customer.segment.is_not(None)).limit(1)
    ).scalar_one()
    return [
        KpiFilters(),
        KpiFilters(segment=segment, kind=CustomerKind.person.value),
        KpiFilters(visible_to_owner_id=owner),
    ]
