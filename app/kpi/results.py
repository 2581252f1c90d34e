"""Results of CRM (slide 142) and customer indicators (slide 148): who buys, stays, returns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, distinct, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import select

from app.models import (
    COUNTED_ORDER_STATUSES,
    Complaint,
    Customer,
    KpiCustomerFact,
    KpiOrderDay,
    Order,
    OrderLine,
    Product,
    SurveyResponse,
)

from .base import KpiContext, ratio
from .period import Period
from .registry import kpi


# ---------------------------------------------------------------- shared building blocks
def first_orders(ctx: KpiContext):  # noqa: ANN201 - a SQLAlchemy subquery
    """Subquery: each scoped customer's first counted order time (customer_id, first_at)."""
    return (
        select(Order.customer_id.label("customer_id"), func.min(Order.ordered_at).label("first_at"))
        .where(*ctx.counted_orders(None, None))
        .group_by(Order.customer_id)
        .subquery("first_orders")
    )


def active_ids(ctx: KpiContext, period: Period):  # noqa: ANN201
    """Select of the distinct customers with a counted order in the period."""
    if ctx.summaries():
        return (
            select(KpiOrderDay.customer_id)
            .where(*ctx.order_days_in(period.start, period.end))
            .distinct()
        )
    start, end = ctx.bounds(period)
    return select(Order.customer_id).where(*ctx.counted_orders(start, end)).distinct()


def count_active(ctx: KpiContext, period: Period) -> int:
    """Number of active customers in the period (memoised per context)."""

    def compute() -> int:
        if ctx.summaries():
            return ctx.scalar(
                select(func.count(distinct(KpiOrderDay.customer_id))).where(
                    *ctx.order_days_in(period.start, period.end)
                )
            )
        start, end = ctx.bounds(period)
        return ctx.scalar(
            select(func.count(distinct(Order.customer_id))).where(*ctx.counted_orders(start, end))
        )

    return ctx.memo(("active", period), compute)


def facts_first_in(ctx: KpiContext, start: dt.date | None, end: dt.date | None) -> list:
    """Conditions on kpi_customer_fact: scoped customers whose first order day is in
    [start, end) (either bound may be open)."""
    conditions = [ctx.in_scope(KpiCustomerFact.customer_id)]
    if start is not None:
        conditions.append(KpiCustomerFact.first_day >= start)
    if end is not None:
        conditions.append(KpiCustomerFact.first_day < end)
    return conditions


def count_new(ctx: KpiContext, period: Period) -> int:
    """Customers whose first counted order ever falls in the period."""

    def compute() -> int:
        if ctx.summaries():
            return ctx.scalar(
                select(func.count()).where(*facts_first_in(ctx, period.start, period.end))
            )
        start, end = ctx.bounds(period)
        first = first_orders(ctx)
        return ctx.scalar(
            select(func.count())
            .select_from(first)
            .where(first.c.first_at >= start, first.c.first_at < end)
        )

    return ctx.memo(("new", period), compute)


def count_old(ctx: KpiContext, period: Period) -> int:
    """Active customers in the period who had a counted order before it started."""

    def compute() -> int:
        if ctx.summaries():
            return ctx.scalar(
                select(func.count()).where(
                    *facts_first_in(ctx, None, period.start),
                    KpiCustomerFact.customer_id.in_(active_ids(ctx, period)),
                )
            )
        start, end = ctx.bounds(period)
        first = first_orders(ctx)
        return ctx.scalar(
            select(func.count())
            .select_from(first)
            .where(first.c.first_at < start, first.c.customer_id.in_(active_ids(ctx, period)))
        )

    return ctx.memo(("old", period), compute)


def count_retained(ctx: KpiContext, period: Period) -> tuple[int, int]:
    """(|active(P') ∩ active(P)|, |active(P')|) for the period before P."""
    previous = period.previous()
    if ctx.summaries():
        retained = ctx.scalar(
            select(func.count(distinct(KpiOrderDay.customer_id))).where(
                *ctx.order_days_in(previous.start, previous.end),
                KpiOrderDay.customer_id.in_(active_ids(ctx, period)),
            )
        )
        return retained, count_active(ctx, previous)
    prev_start, prev_end = ctx.bounds(previous)
    retained = ctx.scalar(
        select(func.count(distinct(Order.customer_id))).where(
            *ctx.counted_orders(prev_start, prev_end),
            Order.customer_id.in_(active_ids(ctx, period)),
        )
    )
    return retained, count_active(ctx, previous)


# ---------------------------------------------------------------- results (slide 142)
@kpi(
    "customers_total",
    en="Customer assets (number)",
    vi="Tài sản khách hàng (số lượng)",
    formula="Customers with at least one counted order before the end of the period",
    unit="count",
    family="results",
)
def customers_total(ctx: KpiContext, period: Period) -> int:
    if ctx.summaries():
        return ctx.scalar(select(func.count()).where(*facts_first_in(ctx, None, period.end)))
    _, end = ctx.bounds(period)
    first = first_orders(ctx)
    return ctx.scalar(select(func.count()).select_from(first).where(first.c.first_at < end))


@kpi(
    "active_customers",
    en="Active customers",
    vi="Khách hàng hoạt động",
    formula="Customers with at least one counted order in the period",
    unit="count",
    family="results",
)
def active_customers(ctx: KpiContext, period: Period) -> int:
    return count_active(ctx, period)


@kpi(
    "new_customers",
    en="New customers",
    vi="Khách hàng mới",
    formula="Customers whose first counted order ever falls in the period",
    unit="count",
    family="results",
    additive=True,
)
def new_customers(ctx: KpiContext, period: Period) -> int:
    return count_new(ctx, period)


@kpi(
    "new_customer_rate",
    en="New-customer rate",
    vi="Tỷ lệ khách hàng mới",
    formula="New customers ÷ active customers",
    unit="percent",
    family="results",
)
def new_customer_rate(ctx: KpiContext, period: Period) -> float | None:
    return ratio(count_new(ctx, period), count_active(ctx, period))


@kpi(
    "retention_rate",
    en="Retention rate",
    vi="Tỷ lệ giữ chân",
    formula="Customers active in the previous period and again in this one ÷ customers "
    "active in the previous period",
    unit="percent",
    family="results",
    note="Cohort form (Farris et al.): never above 100%, unlike (E − N) / S.",
)
def retention_rate(ctx: KpiContext, period: Period) -> float | None:
    retained, base = count_retained(ctx, period)
    return ratio(retained, base)


@kpi(
    "churn_rate",
    en="Churn rate",
    vi="Tỷ lệ khách hàng mất đi",
    formula="Customers active in the previous period but not in this one ÷ customers "
    "active in the previous period (= 1 − retention rate)",
    unit="percent",
    family="results",
    direction="lower",
)
def churn_rate(ctx: KpiContext, period: Period) -> float | None:
    retained, base = count_retained(ctx, period)
    return ratio(base - retained, base)


@kpi(
    "lapsed_customers",
    en="Lapsed customers",
    vi="Khách hàng rời bỏ",
    formula="Customers whose last counted order is more than the churn window (365 days) "
    "before the as-of day, and was within it one period earlier",
    unit="count",
    family="results",
    direction="lower",
    additive=True,
)
def lapsed_customers(ctx: KpiContext, period: Period) -> int:
    window = int(ctx.settings.get("churn_window_days") or 365)
    if ctx.summaries():
        low = period.start - dt.timedelta(days=window + 1)
        high = period.end - dt.timedelta(days=window + 1)
        fact = KpiCustomerFact
        # The last order day before the end is the fact's last_day unless the customer
        # ordered again since; only those few look it up (primary key customer_id, day),
        # instead of grouping every order day before the end.
        last_before_end = (
            select(func.max(KpiOrderDay.day))
            .where(KpiOrderDay.customer_id == fact.customer_id, KpiOrderDay.day < period.end)
            .scalar_subquery()
        )
        return ctx.scalar(
            select(func.count()).where(
                ctx.in_scope(fact.customer_id),
                or_(
                    and_(fact.last_day < period.end, fact.last_day >= low, fact.last_day < high),
                    and_(
                        fact.last_day >= period.end,
                        fact.first_day < period.end,
                        last_before_end >= low,
                        last_before_end < high,
                    ),
                ),
            )
        )
    _, end = ctx.bounds(period)
    # Last order day L lapses in P when as_of − L > window and (start − 1) − L ≤ window,
    # i.e. L ∈ [start − window − 1, end − window − 1) in local days.
    low = ctx.instant(period.start - dt.timedelta(days=window + 1))
    high = ctx.instant(period.end - dt.timedelta(days=window + 1))
    last = (
        select(Order.customer_id, func.max(Order.ordered_at).label("last_at"))
        .where(*ctx.counted_orders(None, end))
        .group_by(Order.customer_id)
        .subquery()
    )
    return ctx.scalar(
        select(func.count()).select_from(last).where(last.c.last_at >= low, last.c.last_at < high)
    )


def _purchase_day_counts(ctx: KpiContext, start: dt.datetime, end: dt.datetime, period: Period):  # noqa: ANN202
    """Subquery (customer_id, days): counted purchase days per customer in [start, end)."""
    if ctx.summaries():
        # Each kpi_order_day row is one purchase day; the instants are local midnights.
        first_day = start.astimezone(ctx.tz).date()
        end_day = end.astimezone(ctx.tz).date()
        return (
            select(KpiOrderDay.customer_id, func.count().label("days"))
            .where(*ctx.order_days_in(first_day, end_day))
            .group_by(KpiOrderDay.customer_id)
            .subquery()
        )
    day = ctx.local_day(Order.ordered_at, period)
    return (
        select(Order.customer_id, func.count(distinct(day)).label("days"))
        .where(*ctx.counted_orders(start, end))
        .group_by(Order.customer_id)
        .subquery()
    )


@kpi(
    "loyal_customer_rate",
    en="Loyal-customer rate",
    vi="Tỷ lệ khách hàng trung thành",
    formula="Customers with at least 3 purchase days in the 365 days before the end ÷ "
    "customers with at least one",
    unit="percent",
    family="results",
)
def loyal_customer_rate(ctx: KpiContext, period: Period) -> float | None:
    minimum = int(ctx.settings.get("loyal_min_purchase_days") or 3)
    start = ctx.instant(period.end - dt.timedelta(days=365))
    _, end = ctx.bounds(period)
    counts = _purchase_day_counts(ctx, start, end, period)
    loyal, buyers = ctx.session.exec(
        select(
            func.count().filter(counts.c.days >= minimum),
            func.count(),
        ).select_from(counts)
    ).one()
    return ratio(loyal, buyers)


@kpi(
    "repeat_purchase_rate",
    en="Repeat-purchase rate",
    vi="Tỷ lệ mua lại",
    formula="Active customers with at least 2 purchase days in the period ÷ active customers",
    unit="percent",
    family="results",
)
def repeat_purchase_rate(ctx: KpiContext, period: Period) -> float | None:
    start, end = ctx.bounds(period)
    counts = _purchase_day_counts(ctx, start, end, period)
    repeaters = ctx.scalar(select(func.count()).select_from(counts).where(counts.c.days >= 2))
    return ratio(repeaters, count_active(ctx, period))


def _new_customers_query(ctx: KpiContext, period: Period):  # noqa: ANN202
    start, end = ctx.bounds(period)
    first = first_orders(ctx)
    return first, select(first.c.customer_id, first.c.first_at).where(
        first.c.first_at >= start, first.c.first_at < end
    ).subquery("new_in_period")


@kpi(
    "referral_rate",
    en="Referral rate",
    vi="Tỷ lệ giới thiệu",
    formula="New customers with a referrer ÷ new customers",
    unit="percent",
    family="results",
)
def referral_rate(ctx: KpiContext, period: Period) -> float | None:
    if ctx.summaries():
        referred = ctx.scalar(
            select(func.count())
            .select_from(KpiCustomerFact)
            .join(Customer, Customer.id == KpiCustomerFact.customer_id)
            .where(
                *facts_first_in(ctx, period.start, period.end),
                Customer.referred_by_id.is_not(None),
            )
        )
        return ratio(referred, count_new(ctx, period))
    _, new = _new_customers_query(ctx, period)
    referred = ctx.scalar(
        select(func.count())
        .select_from(new)
        .join(Customer, Customer.id == new.c.customer_id)
        .where(Customer.referred_by_id.is_not(None))
    )
    return ratio(referred, count_new(ctx, period))


@kpi(
    "complaint_resolution_rate",
    en="Complaint resolution rate",
    vi="Kết quả xử lý khiếu nại",
    formula="Complaints opened in the period and resolved before its end ÷ complaints opened "
    "in the period",
    unit="percent",
    family="results",
)
def complaint_resolution_rate(ctx: KpiContext, period: Period) -> float | None:
    start, end = ctx.bounds(period)
    opened = and_(
        Complaint.opened_at >= start, Complaint.opened_at < end, ctx.in_scope(Complaint.customer_id)
    )
    resolved, total = ctx.session.exec(
        select(
            func.count(Complaint.id).filter(
                Complaint.resolved_at.is_not(None), Complaint.resolved_at < end
            ),
            func.count(Complaint.id),
        ).where(opened)
    ).one()
    return ratio(resolved, total)


@kpi(
    "complaint_recovery_rate",
    en="Recovery after complaints",
    vi="Hài lòng và mua lại sau khiếu nại",
    formula="Customers with a complaint resolved in the previous period who placed a counted "
    "order in this period ÷ customers with a complaint resolved in the previous period",
    unit="percent",
    family="results",
)
def complaint_recovery_rate(ctx: KpiContext, period: Period) -> float | None:
    prev_start, prev_end = ctx.bounds(period.previous())
    complainers = (
        select(Complaint.customer_id)
        .where(
            Complaint.resolved_at >= prev_start,
            Complaint.resolved_at < prev_end,
            ctx.in_scope(Complaint.customer_id),
        )
        .distinct()
        .subquery()
    )
    total = ctx.scalar(select(func.count()).select_from(complainers))
    recovered = ctx.scalar(
        select(func.count())
        .select_from(complainers)
        .where(complainers.c.customer_id.in_(active_ids(ctx, period)))
    )
    return ratio(recovered, total)


def answers_in(ctx: KpiContext, period: Period) -> list:
    """Conditions: survey answers of scoped customers given in the period."""
    start, end = ctx.bounds(period)
    return [
        SurveyResponse.answered_at >= start,
        SurveyResponse.answered_at < end,
        ctx.in_scope(SurveyResponse.customer_id),
    ]


@kpi(
    "csat_avg",
    en="Average satisfaction (CSAT)",
    vi="Mức độ hài lòng",
    formula="Mean CSAT score (1-5) of the answers in the period",
    unit="score",
    family="satisfaction",
)
def csat_avg(ctx: KpiContext, period: Period) -> float | None:
    value = ctx.scalar(
        select(func.avg(SurveyResponse.csat)).where(
            *answers_in(ctx, period), SurveyResponse.csat.is_not(None)
        )
    )
    return None if value is None else float(value)


@kpi(
    "csat_share",
    en="Satisfied share",
    vi="Tỷ lệ hài lòng",
    formula="Answers in the period with CSAT 4 or 5 ÷ answers with a CSAT score",
    unit="percent",
    family="satisfaction",
)
def csat_share(ctx: KpiContext, period: Period) -> float | None:
    satisfied, total = ctx.session.exec(
        select(
            func.count(SurveyResponse.id).filter(SurveyResponse.csat >= 4),
            func.count(SurveyResponse.id),
        ).where(*answers_in(ctx, period), SurveyResponse.csat.is_not(None))
    ).one()
    return ratio(satisfied, total)


def latest_nps_answers(ctx: KpiContext, period: Period):  # noqa: ANN201
    """Subquery: each customer's latest answer with an NPS score in the period."""
    ranked = (
        select(
            SurveyResponse.customer_id,
            SurveyResponse.nps,
            func.row_number()
            .over(
                partition_by=SurveyResponse.customer_id,
                order_by=(SurveyResponse.answered_at.desc(), SurveyResponse.id.desc()),
            )
            .label("rank"),
        )
        .where(*answers_in(ctx, period), SurveyResponse.nps.is_not(None))
        .subquery()
    )
    return select(ranked.c.customer_id, ranked.c.nps).where(ranked.c.rank == 1).subquery()


@kpi(
    "nps",
    en="Net Promoter Score",
    vi="NPS",
    formula="Each customer's latest answer in the period: (% promoters 9-10 − % detractors "
    "0-6) × 100",
    unit="score",
    family="satisfaction",
    note="One answer per customer so a vocal customer is not counted twice (Reichheld).",
)
def nps(ctx: KpiContext, period: Period) -> float | None:
    latest = latest_nps_answers(ctx, period)
    promoters, detractors, total = ctx.session.exec(
        select(
            func.count().filter(latest.c.nps >= 9),
            func.count().filter(latest.c.nps <= 6),
            func.count(),
        ).select_from(latest)
    ).one()
    share = ratio(promoters - detractors, total)
    return None if share is None else share * 100


# ---------------------------------------------------------------- customer indicators
@kpi(
    "old_customers",
    en="Returning customers",
    vi="Khách hàng cũ",
    formula="Active customers in the period with a counted order before it started",
    unit="count",
    family="customer",
)
def old_customers(ctx: KpiContext, period: Period) -> int:
    return count_old(ctx, period)


@kpi(
    "referred_new_customers",
    en="New customers referred by existing ones",
    vi="KH mới có quan hệ với KH cũ",
    formula="New customers whose referrer had a counted order before their own first order",
    unit="count",
    family="customer",
    additive=True,
)
def referred_new_customers(ctx: KpiContext, period: Period) -> int:
    if ctx.summaries():
        return _referred_new_from_facts(ctx, period)
    first, new = _new_customers_query(ctx, period)
    referrer_first = (
        select(Order.customer_id.label("customer_id"), func.min(Order.ordered_at).label("first_at"))
        .where(Order.status.in_(COUNTED_ORDER_STATUSES))
        .group_by(Order.customer_id)
        .subquery("referrer_first")
    )
    return ctx.scalar(
        select(func.count())
        .select_from(new)
        .join(Customer, Customer.id == new.c.customer_id)
        .join(referrer_first, referrer_first.c.customer_id == Customer.referred_by_id)
        .where(referrer_first.c.first_at < new.c.first_at)
    )


def _referred_new_from_facts(ctx: KpiContext, period: Period) -> int:
    """``referred_new_customers`` from kpi_customer_fact instead of two passes over
    every order: first days decide, and only a same-day tie compares the instants."""
    new = aliased(KpiCustomerFact, name="new_fact")
    referrer = aliased(KpiCustomerFact, name="referrer_fact")

    def first_at(customer_id: Any) -> Any:
        # The customer's first counted order, through ix_sales_order_customer_ordered.
        return (
            select(func.min(Order.ordered_at))
            .where(Order.customer_id == customer_id, Order.status.in_(COUNTED_ORDER_STATUSES))
            .scalar_subquery()
        )

    # Both days are local days of the same zone, so an earlier day means an earlier
    # instant and a later day a later one; the referrer's fact is not scoped, like the
    # raw formulation's referrer_first.
    return ctx.scalar(
        select(func.count())
        .select_from(new)
        .join(Customer, Customer.id == new.customer_id)
        .join(referrer, referrer.customer_id == Customer.referred_by_id)
        .where(
            new.first_day >= period.start,
            new.first_day < period.end,
            ctx.in_scope(new.customer_id),
            or_(
                referrer.first_day < new.first_day,
                and_(
                    referrer.first_day == new.first_day,
                    first_at(referrer.customer_id) < first_at(new.customer_id),
                ),
            ),
        )
    )


@kpi(
    "cross_sell_rate",
    en="Cross-sell rate",
    vi="Tỷ lệ bán chéo",
    formula="Active customers buying from at least 2 product categories in the period ÷ "
    "active customers",
    unit="percent",
    family="customer",
)
def cross_sell_rate(ctx: KpiContext, period: Period) -> float | None:
    start, end = ctx.bounds(period)
    categories = (
        select(Order.customer_id, func.count(distinct(Product.category)).label("categories"))
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Product, Product.id == OrderLine.product_id)
        .where(*ctx.counted_orders(start, end))
        .group_by(Order.customer_id)
        .subquery()
    )
    cross = ctx.scalar(
        select(func.count()).select_from(categories).where(categories.c.categories >= 2)
    )
    return ratio(cross, count_active(ctx, period))
