"""The faster formulations of the evaluation page's slow KPIs equal the old ones.

Each rewritten KPI (issue #8) is compared with its previous formulation, kept here as a
private reference, on the small demo dataset plus a few crafted boundary rows, over
several periods (including empty ones and a single day), filters and settings, on
SQLite and PostgreSQL. KPIs whose raw-row path did not change are compared with
``compute(..., use_summaries=False)``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import distinct, exists, func, or_, union
from sqlmodel import Session, select

from app.db import get_engine
from app.demo import seed_demo
from app.kpi.base import KpiContext, KpiFilters, ratio
from app.kpi.engine import compute
from app.kpi.operations import (
    crm_maturity_level,
    data_completeness,
    duplicate_rate,
    feedback_coverage,
    normalised_phone,
    segmented_active_customers,
)
from app.kpi.period import Period, month_period
from app.kpi.registry import Measured
from app.kpi.results import active_ids, count_active
from app.kpi.rfm import rfm_table
from app.models import (
    Complaint,
    Customer,
    CustomerKind,
    Interaction,
    InteractionKind,
    Order,
    OrderLine,
    OrderStatus,
    SurveyResponse,
)
from app.settings import set_setting
from tests.unit.kpi.helpers import filter_sets

TODAY = dt.date(2026, 6, 15)
PERIODS = [
    month_period(TODAY),  # the current month, data up to the 15th
    month_period(dt.date(2026, 2, 1)),  # 28 days
    month_period(dt.date(2026, 5, 1)),
    Period(dt.date(2025, 1, 1), dt.date(2026, 1, 1)),  # longer than the RFM lookbacks below
    Period(dt.date(2026, 5, 10), dt.date(2026, 5, 11)),  # a single day
    month_period(dt.date(2015, 1, 1)),  # before any order: empty
    month_period(dt.date(2027, 3, 1)),  # after the data: empty
]


# ---------------------------------------------------------------- the old formulations
def _old_duplicate_rate(ctx: KpiContext) -> float | None:
    live = [Customer.archived.is_(False), ctx.customers_in_scope()]
    keys = [
        normalised_phone(Customer.phone),
        func.lower(func.trim(Customer.email)),
        func.trim(Customer.tax_code),
    ]
    selects = []
    for key in keys:
        shared = (
            select(key.label("k"))
            .where(*live, key.is_not(None), key != "")
            .group_by(key)
            .having(func.count() > 1)
        )
        selects.append(select(Customer.id.label("customer_id")).where(*live, key.in_(shared)))
    duplicates = union(*selects).subquery()
    count = ctx.scalar(select(func.count(distinct(duplicates.c.customer_id))))
    total = ctx.scalar(
        select(func.count(Customer.id)).where(
            Customer.archived.is_(False), ctx.customers_in_scope()
        )
    )
    return ratio(count, total)


def _old_segmented(ctx: KpiContext, period: Period) -> int:
    table = rfm_table(ctx, as_of=period.as_of_day)
    active_customer_ids = set(ctx.session.exec(active_ids(ctx, period)).all())
    if table.empty:
        return 0
    return int(table[table["customer_id"].isin(active_customer_ids)]["segment"].notna().sum())


def _old_crm_maturity_level(ctx: KpiContext, period: Period) -> Measured:
    _, end = ctx.bounds(period)
    last_90 = ctx.instant(period.end - dt.timedelta(days=90))
    last_180 = ctx.instant(period.end - dt.timedelta(days=180))
    has_orders = ctx.scalar(select(func.count(Order.id)).where(*ctx.counted_orders(None, end))) > 0
    support = ctx.scalar(
        select(func.count(Complaint.id)).where(
            Complaint.opened_at >= last_90,
            Complaint.opened_at < end,
            ctx.in_scope(Complaint.customer_id),
        )
    ) + ctx.scalar(
        select(func.count(Interaction.id)).where(
            Interaction.occurred_at >= last_90,
            Interaction.occurred_at < end,
            Interaction.kind.in_([InteractionKind.feedback, InteractionKind.call]),
            ctx.in_scope(Interaction.customer_id),
        )
    )
    completeness = data_completeness(ctx, period)
    active = count_active(ctx, period)
    segmented = _old_segmented(ctx, period)
    offered = ctx.scalar(
        select(func.count(distinct(Order.customer_id))).where(
            *ctx.counted_orders(last_180, end),
            or_(
                Order.promotion.is_not(None),
                exists(
                    select(OrderLine.id).where(
                        OrderLine.order_id == Order.id, OrderLine.discount > 0
                    )
                ),
            ),
            Order.customer_id.in_(active_ids(ctx, period)),
        )
    )
    conditions = [
        ("orders are recorded", has_orders),
        ("complaints or support interactions logged in the last 90 days", support > 0),
        (
            "data completeness ≥ 80% and ≥ 90% of active customers have an RFM segment",
            (completeness or 0) >= 0.8 and (ratio(segmented, active) or 0) >= 0.9,
        ),
        (
            "≥ 50% of active customers received a customer-specific policy or offer in the last "
            "180 days",
            (ratio(offered, active) or 0) >= 0.5,
        ),
    ]
    level = 0
    for _, holds in conditions:
        if not holds:
            break
        level += 1
    return Measured(level, {"unmet": [name for name, holds in conditions if not holds]})


def _old_feedback_coverage(ctx: KpiContext, period: Period) -> float | None:
    start, end = ctx.bounds(period)
    gave_feedback = union(
        select(SurveyResponse.customer_id.label("customer_id")).where(
            SurveyResponse.answered_at >= start, SurveyResponse.answered_at < end
        ),
        select(Interaction.customer_id).where(
            Interaction.occurred_at >= start,
            Interaction.occurred_at < end,
            Interaction.kind == InteractionKind.feedback,
        ),
    ).subquery()
    count = ctx.scalar(
        select(func.count(distinct(gave_feedback.c.customer_id))).where(
            gave_feedback.c.customer_id.in_(active_ids(ctx, period))
        )
    )
    return ratio(count, count_active(ctx, period))


PAIRS = [
    (crm_maturity_level, _old_crm_maturity_level),
    (feedback_coverage, _old_feedback_coverage),
]
# Rewritten on the summary path only: the raw path is the old formulation.
RAW_REFERENCE_KPIS = ["referred_new_customers", "lapsed_customers", "crm_maturity_level"]


# ---------------------------------------------------------------- data
def _add_boundary_rows(session: Session) -> None:
    """Duplicates that only normalisation reveals, and same-day referral ties."""
    customers = [
        # Phone matches only after normalisation ("+84 90-..." ≡ "090...").
        Customer(code="DUPA", name="A", phone="+84 (90) 111.2233"),
        Customer(code="DUPB", name="B", phone="0901112233"),
        # E-mail matches after trimming and lower-casing; tax code after trimming.
        Customer(code="DUPC", name="C", email="  Same@Example.com "),
        Customer(code="DUPD", name="D", email="same@example.com", tax_code=" 0312345678 "),
        Customer(code="DUPE", name="E", tax_code="0312345678"),
        # Shares a phone only with an archived customer: not a duplicate.
        Customer(code="DUPF", name="F", phone="0987654321"),
        Customer(code="DUPG", name="G", phone="84987654321", archived=True),
        # Empty keys never match.
        Customer(code="DUPH", name="H", phone="", email=" ", tax_code=""),
        Customer(code="DUPI", name="I", phone="", email=" ", tax_code=""),
        # Referral ties: referrer and referred first buy on the same local day.
        Customer(code="REF1", name="Referrer", kind=CustomerKind.person),
    ]
    session.add_all(customers)
    session.flush()
    referrer = customers[-1]
    early = Customer(code="REF2", name="Referred later", referred_by_id=referrer.id)
    late = Customer(code="REF3", name="Referred earlier", referred_by_id=referrer.id)
    session.add_all([early, late])
    session.flush()
    # Local day 2026-06-03 (UTC+7): the referrer at 09:00, one referred at 10:00 (counts)
    # and one at 08:00 (does not); another referred buys on a later day (counts).
    day = dt.datetime(2026, 6, 3, 2, 0, tzinfo=dt.UTC)
    for code, customer, at in [
        ("OR-REF1", referrer, day),
        ("OR-REF2", early, day + dt.timedelta(hours=1)),
        ("OR-REF3", late, day - dt.timedelta(hours=1)),
        # The referrer's later order: lapsed_customers sees a reorder after a period.
        ("OR-REF4", referrer, day + dt.timedelta(days=20)),
    ]:
        session.add(
            Order(
                code=code,
                customer_id=customer.id,
                ordered_at=at,
                status=OrderStatus.paid,
                amount=Decimal("100.00"),
                cost=Decimal("40.00"),
            )
        )
    session.commit()


@pytest.fixture
def demo_url(db_url: str) -> str:
    """The fresh database of ``db_url`` with the small demo dataset and boundary rows."""
    seed_demo(engine=get_engine(db_url), scale="small", seed=7, today=TODAY)
    with Session(get_engine(db_url)) as session:
        _add_boundary_rows(session)
    return db_url


def _plain(value: Any) -> Any:
    return (value.value, value.details) if isinstance(value, Measured) else value


def _assert_pairs_match(session: Session, filters: KpiFilters) -> None:
    for use_summaries in (True, False):
        ctx = KpiContext.create(session=session, filters=filters, use_summaries=use_summaries)
        reference = KpiContext.create(session=session, filters=filters, use_summaries=use_summaries)
        assert ctx.summaries() is use_summaries
        assert duplicate_rate(ctx, PERIODS[0]) == _old_duplicate_rate(reference)
        for period in PERIODS:
            context = (period, filters, use_summaries)
            assert segmented_active_customers(ctx, period) == _old_segmented(reference, period), (
                context
            )
            for new, old in PAIRS:
                assert _plain(new(ctx, period)) == _plain(old(reference, period)), (
                    new.__name__,
                    *context,
                )


# ---------------------------------------------------------------- tests
def test_rewritten_kpis_equal_their_old_formulations(demo_url: str) -> None:
    with Session(get_engine(demo_url)) as session:
        filters = filter_sets(session)
        for kpi_filters in filters:
            _assert_pairs_match(session, kpi_filters)
        for kpi_filters in filters:
            for period in PERIODS[:4]:
                fast = compute(session, RAW_REFERENCE_KPIS, period, kpi_filters, "previous")
                raw = compute(
                    session,
                    RAW_REFERENCE_KPIS,
                    period,
                    kpi_filters,
                    "previous",
                    use_summaries=False,
                )
                for ours, reference in zip(fast.kpis, raw.kpis, strict=True):
                    context = (ours.id, period, kpi_filters)
                    assert ours.value == reference.value, context
                    assert ours.compare_value == reference.compare_value, context
                    assert ours.details == reference.details, context


def test_boundary_rows_are_seen(demo_url: str) -> None:
    """The crafted rows exercise the cases the rewrites must get right."""
    with Session(get_engine(demo_url)) as session:
        ctx = KpiContext.create(session=session)
        codes = set(
            session.execute(
                select(Customer.code).where(
                    Customer.code.in_([f"DUP{letter}" for letter in "ABCDEFGHI"])
                )
            ).scalars()
        )
        assert len(codes) == 9
        duplicates = _old_duplicate_rate(ctx)
        assert duplicates is not None and duplicates > 0
        june = month_period(TODAY)
        # REF2 (an hour after the referrer, same day) counts; REF3 (an hour before) not.
        referred = compute(session, ["referred_new_customers"], june, None, None).kpis[0]
        raw = compute(
            session, ["referred_new_customers"], june, None, None, use_summaries=False
        ).kpis[0]
        assert referred.value == raw.value >= 1


@pytest.mark.parametrize("lookback", [10, 400, -3])
def test_segmented_customers_follow_the_rfm_settings(demo_url: str, lookback: int) -> None:
    with Session(get_engine(demo_url)) as session:
        set_setting(session=session, key="rfm_lookback_days", value=lookback)
        set_setting(session=session, key="rfm_bins", value=3)
        session.commit()
        for period in PERIODS:
            ctx = KpiContext.create(session=session)
            reference = KpiContext.create(session=session)
            assert segmented_active_customers(ctx, period) == _old_segmented(reference, period)
            assert _plain(crm_maturity_level(ctx, period)) == _plain(
                _old_crm_maturity_level(reference, period)
            )
