"""Internal, external, pipeline, complaint, data-quality and continuity KPIs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    String,
    and_,
    case,
    distinct,
    exists,
    func,
    literal,
    or_,
    union,
    union_all,
)
from sqlalchemy.sql.expression import ColumnElement
from sqlmodel import select
from sqlmodel.sql.sqltypes import AutoString

from app.models import (
    OPEN_STAGES,
    CampaignMember,
    Complaint,
    Customer,
    CustomerKind,
    Inquiry,
    InquiryStatus,
    Interaction,
    InteractionKind,
    KpiCustomerFact,
    KpiOrderDay,
    Opportunity,
    OpportunityStageHistory,
    Order,
    OrderLine,
    Severity,
    Stage,
    SurveyResponse,
    Target,
)

from .base import KpiContext, median_and_p90, ratio, to_decimal
from .period import Period
from .registry import REGISTRY, Measured, kpi
from .results import active_ids, count_active, count_new, first_orders
from .sql import days_between, hours_between


# ---------------------------------------------------------------- internal (slide 145)
@kpi(
    "goal_completion_rate",
    en="Goal completion rate",
    vi="Tỷ lệ hoàn thành mục tiêu",
    formula="Targets whose period lies inside this period and that are met ÷ those targets",
    unit="percent",
    family="internal",
    note="A target is met when actual ≥ target (≤ for lower-is-better KPIs).",
)
def goal_completion_rate(ctx: KpiContext, period: Period) -> Measured:
    segment = ctx.filters.segment or None
    targets = ctx.session.exec(
        select(Target)
        .where(
            Target.period_start >= period.start,
            Target.period_end <= period.end,
            Target.segment == segment if segment else Target.segment.is_(None),
        )
        .order_by(Target.period_start, Target.kpi_id)
    ).all()
    rows = []
    met = 0
    for target in targets:
        definition = REGISTRY.get(target.kpi_id)
        if definition is None or target.kpi_id == "goal_completion_rate":
            continue
        value = definition.compute(ctx, Period(target.period_start, target.period_end))
        actual = value.value if isinstance(value, Measured) else value
        goal = Decimal(str(target.target_value))
        if actual is None:
            is_met, completion = False, None
        else:
            actual_dec = Decimal(str(actual))
            if definition.direction == "higher":
                is_met = actual_dec >= goal
                completion = ratio(actual_dec, goal)
            else:
                is_met = actual_dec <= goal
                completion = ratio(goal, actual_dec)
        met += int(is_met)
        rows.append(
            {
                "kpi_id": target.kpi_id,
                "period_start": target.period_start.isoformat(),
                "target": float(goal),
                "actual": None if actual is None else float(actual),
                "met": is_met,
                "completion": completion,
            }
        )
    return Measured(ratio(met, len(rows)), {"targets": rows})


def _durations(ctx: KpiContext, expression: ColumnElement[float], *conditions) -> list[float]:
    return [
        float(v)
        for v in ctx.session.exec(select(expression).where(*conditions)).all()
        if v is not None
    ]


@kpi(
    "time_to_decision_days",
    en="Time from information to decision",
    vi="Thời gian từ thu nhận thông tin đến quyết định",
    formula="Median days from opportunity creation to closing, over opportunities won or "
    "lost in the period (p90 beside)",
    unit="days",
    family="internal",
    direction="lower",
)
def time_to_decision_days(ctx: KpiContext, period: Period) -> Measured:
    start, end = ctx.bounds(period)
    values = _durations(
        ctx,
        days_between(Opportunity.created_at, Opportunity.closed_at),
        Opportunity.closed_at >= start,
        Opportunity.closed_at < end,
        Opportunity.stage.in_([Stage.won, Stage.lost]),
        ctx.in_scope(Opportunity.customer_id),
    )
    median, p90 = median_and_p90(values)
    return Measured(median, {"p90": p90, "n": len(values)})


def _interactions_in(ctx: KpiContext, period: Period) -> list[ColumnElement[bool]]:
    start, end = ctx.bounds(period)
    return [
        Interaction.occurred_at >= start,
        Interaction.occurred_at < end,
        ctx.in_scope(Interaction.customer_id),
    ]


@kpi(
    "shared_customer_rate",
    en="Customer information shared",
    vi="Tỷ lệ thông tin KH được dùng chung",
    formula="Customers with interactions in the period logged by at least 2 different users ÷ "
    "customers with interactions in the period",
    unit="percent",
    family="internal",
    note="Proxy for sharing across departments.",
)
def shared_customer_rate(ctx: KpiContext, period: Period) -> float | None:
    per_customer = (
        select(Interaction.customer_id, func.count(distinct(Interaction.user_id)).label("users"))
        .where(*_interactions_in(ctx, period))
        .group_by(Interaction.customer_id)
        .subquery()
    )
    shared, total = ctx.session.exec(
        select(func.count().filter(per_customer.c.users >= 2), func.count()).select_from(
            per_customer
        )
    ).one()
    return ratio(shared, total)


@kpi(
    "acquisition_rate",
    en="Acquisition rate",
    vi="Tỷ lệ thu nhận khách hàng",
    formula="New customers ÷ prospects (no counted order before the period) that had an "
    "interaction, inquiry, opportunity or campaign contact in the period",
    unit="percent",
    family="internal",
)
def acquisition_rate(ctx: KpiContext, period: Period) -> float | None:
    start, end = ctx.bounds(period)
    touched = union(
        select(Interaction.customer_id.label("customer_id")).where(*_interactions_in(ctx, period)),
        select(Inquiry.customer_id).where(Inquiry.asked_at >= start, Inquiry.asked_at < end),
        select(Opportunity.customer_id).where(
            Opportunity.created_at >= start, Opportunity.created_at < end
        ),
        select(CampaignMember.customer_id).where(
            CampaignMember.contacted_at >= start, CampaignMember.contacted_at < end
        ),
    ).subquery()
    if ctx.summaries():
        bought_before = select(KpiCustomerFact.customer_id).where(
            KpiCustomerFact.first_day < period.start
        )
    else:
        first = first_orders(ctx)
        bought_before = select(first.c.customer_id).where(first.c.first_at < start)
    prospects = ctx.scalar(
        select(func.count(distinct(touched.c.customer_id))).where(
            touched.c.customer_id.not_in(bought_before), ctx.in_scope(touched.c.customer_id)
        )
    )
    return ratio(count_new(ctx, period), prospects)


@kpi(
    "interactions_logged",
    en="Interactions logged",
    vi="Khả năng tiếp nhận thông tin KH",
    formula="Interactions that occurred in the period (per active user beside)",
    unit="count",
    family="internal",
    additive=True,
)
def interactions_logged(ctx: KpiContext, period: Period) -> Measured:
    count, users = ctx.session.exec(
        select(func.count(Interaction.id), func.count(distinct(Interaction.user_id))).where(
            *_interactions_in(ctx, period)
        )
    ).one()
    return Measured(int(count), {"per_active_user": ratio(count, users), "users": int(users)})


# ---------------------------------------------------------------- external (slide 146)
def _inquiries_in(ctx: KpiContext, period: Period) -> list[ColumnElement[bool]]:
    start, end = ctx.bounds(period)
    return [Inquiry.asked_at >= start, Inquiry.asked_at < end, ctx.in_scope(Inquiry.customer_id)]


@kpi(
    "interest_to_purchase_rate",
    en="Interest-to-purchase conversion",
    vi="Tỷ lệ chuyển từ quan tâm sang mua",
    formula="Inquiries asked in the period whose customer placed a counted order within 30 "
    "days after asking ÷ inquiries asked in the period",
    unit="percent",
    family="external",
)
def interest_to_purchase_rate(ctx: KpiContext, period: Period) -> float | None:
    window_hours = 24.0 * int(ctx.settings.get("conversion_window_days") or 30)
    gap = hours_between(Inquiry.asked_at, Order.ordered_at)
    converted_order = exists(
        select(Order.id).where(
            Order.customer_id == Inquiry.customer_id,
            *ctx.counted_orders(None, None),
            Order.ordered_at >= Inquiry.asked_at,
            gap < window_hours,
        )
    )
    converted, total = ctx.session.exec(
        select(func.count(Inquiry.id).filter(converted_order), func.count(Inquiry.id)).where(
            *_inquiries_in(ctx, period)
        )
    ).one()
    return ratio(converted, total)


@kpi(
    "custom_request_rate",
    en="Products changed at customers' request",
    vi="Tỷ lệ thay đổi sản phẩm theo yêu cầu KH",
    formula="Counted orders in the period with at least one customised line ÷ counted orders",
    unit="percent",
    family="external",
)
def custom_request_rate(ctx: KpiContext, period: Period) -> float | None:
    start, end = ctx.bounds(period)
    customised = exists(
        select(OrderLine.id).where(OrderLine.order_id == Order.id, OrderLine.customised.is_(True))
    )
    flagged, total = ctx.session.exec(
        select(func.count(Order.id).filter(customised), func.count(Order.id)).where(
            *ctx.counted_orders(start, end)
        )
    ).one()
    return ratio(flagged, total)


@kpi(
    "dissatisfaction_rate",
    en="Dissatisfaction rate",
    vi="Tỷ lệ không hài lòng",
    formula="Active customers who opened a complaint or answered CSAT ≤ 2 in the period ÷ "
    "active customers",
    unit="percent",
    family="external",
    direction="lower",
)
def dissatisfaction_rate(ctx: KpiContext, period: Period) -> float | None:
    start, end = ctx.bounds(period)
    unhappy = union(
        select(Complaint.customer_id.label("customer_id")).where(
            Complaint.opened_at >= start, Complaint.opened_at < end
        ),
        select(SurveyResponse.customer_id).where(
            SurveyResponse.answered_at >= start,
            SurveyResponse.answered_at < end,
            SurveyResponse.csat <= 2,
        ),
    ).subquery()
    count = ctx.scalar(
        select(func.count(distinct(unhappy.c.customer_id))).where(
            unhappy.c.customer_id.in_(active_ids(ctx, period))
        )
    )
    return ratio(count, count_active(ctx, period))


@kpi(
    "unmet_inquiry_rate",
    en="Unmet inquiries",
    vi="Tỷ lệ hỏi hàng chưa đáp ứng",
    formula="Inquiries asked in the period with status unmet ÷ inquiries asked in the period",
    unit="percent",
    family="external",
    direction="lower",
    note="Uses the inquiry's current status; status history is not kept.",
)
def unmet_inquiry_rate(ctx: KpiContext, period: Period) -> float | None:
    unmet, total = ctx.session.exec(
        select(
            func.count(Inquiry.id).filter(Inquiry.status == InquiryStatus.unmet),
            func.count(Inquiry.id),
        ).where(*_inquiries_in(ctx, period))
    ).one()
    return ratio(unmet, total)


# ---------------------------------------------------------------- pipeline (seed 001)
def stage_at(ctx: KpiContext, instant: dt.datetime):  # noqa: ANN201
    """Subquery: opportunities open at ``instant`` with their stage at that time.

    The opportunities open at the instant are few (thousands) next to the stage history
    (hundreds of thousands), so each one's latest change before the instant is looked
    up through the opportunity_id index instead of ranking the whole history.
    """
    latest = (
        select(OpportunityStageHistory.id)
        .where(
            OpportunityStageHistory.opportunity_id == Opportunity.id,
            OpportunityStageHistory.changed_at < instant,
        )
        .order_by(OpportunityStageHistory.changed_at.desc(), OpportunityStageHistory.id.desc())
        .limit(1)
        .correlate(Opportunity)
        .scalar_subquery()
    )
    return (
        select(
            Opportunity.id,
            Opportunity.amount,
            OpportunityStageHistory.to_stage.label("stage"),
        )
        .join(OpportunityStageHistory, OpportunityStageHistory.id == latest)
        .where(
            # Open at the instant, as a union so each half uses the closed_at index
            # (the planner otherwise walks every opportunity created before it).
            Opportunity.id.in_(
                union_all(
                    select(Opportunity.id).where(Opportunity.closed_at.is_(None)),
                    select(Opportunity.id).where(Opportunity.closed_at >= instant),
                )
            ),
            Opportunity.created_at < instant,
            OpportunityStageHistory.to_stage.in_([stage.value for stage in OPEN_STAGES]),
            ctx.in_scope(Opportunity.customer_id),
        )
        .subquery()
    )


def open_pipeline_by_stage(ctx: KpiContext, period: Period) -> dict[str, tuple[int, Decimal]]:
    """Open opportunities at the end of the period: stage → (count, amount), memoised."""

    def compute() -> dict[str, tuple[int, Decimal]]:
        _, end = ctx.bounds(period)
        open_now = stage_at(ctx, end)
        rows = ctx.session.exec(
            select(open_now.c.stage, func.count(), func.sum(open_now.c.amount)).group_by(
                open_now.c.stage
            )
        ).all()
        return {
            getattr(stage, "value", stage): (int(count), to_decimal(amount))
            for stage, count, amount in rows
        }

    return ctx.memo(("pipeline", period), compute)


@kpi(
    "pipeline_value",
    en="Pipeline value",
    vi="Giá trị cơ hội đang mở",
    formula="Σ amount of opportunities open at the end of the period",
    unit="money",
    family="pipeline",
)
def pipeline_value(ctx: KpiContext, period: Period) -> Decimal:
    stages = open_pipeline_by_stage(ctx, period)
    return sum((amount for _, amount in stages.values()), Decimal("0.00"))


@kpi(
    "weighted_pipeline",
    en="Weighted pipeline",
    vi="Giá trị cơ hội có trọng số",
    formula="Σ amount × probability of its stage at the end of the period (lead 10%, "
    "qualified 25%, proposal 50%, negotiation 75%)",
    unit="money",
    family="pipeline",
)
def weighted_pipeline(ctx: KpiContext, period: Period) -> Decimal:
    probabilities = ctx.settings.get("stage_probabilities") or {}
    total = Decimal("0.00")
    for stage, (_, amount) in open_pipeline_by_stage(ctx, period).items():
        total += amount * Decimal(str(probabilities.get(stage, 0)))
    return total.quantize(Decimal("0.01"))


def _closed_in(ctx: KpiContext, period: Period) -> list[ColumnElement[bool]]:
    start, end = ctx.bounds(period)
    return [
        Opportunity.closed_at >= start,
        Opportunity.closed_at < end,
        ctx.in_scope(Opportunity.customer_id),
    ]


@kpi(
    "win_rate",
    en="Win rate",
    vi="Tỷ lệ thắng",
    formula="Won ÷ (won + lost), over opportunities closed in the period",
    unit="percent",
    family="pipeline",
)
def win_rate(ctx: KpiContext, period: Period) -> float | None:
    won, closed = ctx.session.exec(
        select(
            func.count(Opportunity.id).filter(Opportunity.stage == Stage.won),
            func.count(Opportunity.id),
        ).where(*_closed_in(ctx, period), Opportunity.stage.in_([Stage.won, Stage.lost]))
    ).one()
    return ratio(won, closed)


@kpi(
    "lead_conversion_rate",
    en="Lead-to-customer conversion",
    vi="Tỷ lệ chuyển đổi cơ hội",
    formula="Opportunities created in the period and won before its end ÷ opportunities "
    "created in the period",
    unit="percent",
    family="pipeline",
)
def lead_conversion_rate(ctx: KpiContext, period: Period) -> float | None:
    start, end = ctx.bounds(period)
    won, created = ctx.session.exec(
        select(
            func.count(Opportunity.id).filter(
                Opportunity.stage == Stage.won, Opportunity.closed_at < end
            ),
            func.count(Opportunity.id),
        ).where(
            Opportunity.created_at >= start,
            Opportunity.created_at < end,
            ctx.in_scope(Opportunity.customer_id),
        )
    ).one()
    return ratio(won, created)


@kpi(
    "sales_cycle_days",
    en="Sales cycle",
    vi="Chu kỳ bán hàng",
    formula="Median days from creation to closing over opportunities won in the period "
    "(p90 beside)",
    unit="days",
    family="pipeline",
    direction="lower",
)
def sales_cycle_days(ctx: KpiContext, period: Period) -> Measured:
    values = _durations(
        ctx,
        days_between(Opportunity.created_at, Opportunity.closed_at),
        *_closed_in(ctx, period),
        Opportunity.stage == Stage.won,
    )
    median, p90 = median_and_p90(values)
    return Measured(median, {"p90": p90, "n": len(values)})


# ---------------------------------------------------------------- complaints (seed 003)
def opened_in(ctx: KpiContext, period: Period) -> list[ColumnElement[bool]]:
    """Conditions: complaints of scoped customers opened in the period."""
    start, end = ctx.bounds(period)
    return [
        Complaint.opened_at >= start,
        Complaint.opened_at < end,
        ctx.in_scope(Complaint.customer_id),
    ]


def resolved_in(ctx: KpiContext, period: Period) -> list[ColumnElement[bool]]:
    """Conditions: complaints of scoped customers resolved in the period."""
    start, end = ctx.bounds(period)
    return [
        Complaint.resolved_at >= start,
        Complaint.resolved_at < end,
        ctx.in_scope(Complaint.customer_id),
    ]


def sla_hours(ctx: KpiContext) -> dict[str, float]:
    """SLA hours per severity from the settings."""
    configured = ctx.settings.get("sla_hours") or {}
    defaults = {"critical": 4, "high": 24, "medium": 72, "low": 168}
    return {
        severity.value: float(configured.get(severity.value, defaults[severity.value]))
        for severity in Severity
    }


def within_sla(ctx: KpiContext) -> ColumnElement[bool]:
    """Condition: a resolved complaint took no longer than its severity's SLA."""
    hours = hours_between(Complaint.opened_at, Complaint.resolved_at)
    return or_(
        *[
            and_(Complaint.severity == severity, hours <= limit)
            for severity, limit in sla_hours(ctx).items()
        ]
    )


@kpi(
    "complaints_opened",
    en="Complaints opened",
    vi="Số khiếu nại",
    formula="Complaints opened in the period",
    unit="count",
    family="complaints",
    direction="lower",
    additive=True,
)
def complaints_opened(ctx: KpiContext, period: Period) -> int:
    return ctx.memo(
        ("complaints", period),
        lambda: ctx.scalar(select(func.count(Complaint.id)).where(*opened_in(ctx, period))),
    )


@kpi(
    "complaint_rate",
    en="Complaints per 100 active customers",
    vi="Tỷ lệ khiếu nại",
    formula="Complaints opened ÷ active customers × 100",
    unit="score",
    family="complaints",
    direction="lower",
)
def complaint_rate(ctx: KpiContext, period: Period) -> float | None:
    share = ratio(complaints_opened(ctx, period), count_active(ctx, period))
    return None if share is None else share * 100


@kpi(
    "first_response_hours",
    en="First response time",
    vi="Thời gian phản hồi đầu tiên",
    formula="Median hours from opening to first response, complaints opened in the period "
    "(p90 beside)",
    unit="hours",
    family="complaints",
    direction="lower",
)
def first_response_hours(ctx: KpiContext, period: Period) -> Measured:
    values = _durations(
        ctx,
        hours_between(Complaint.opened_at, Complaint.first_response_at),
        *opened_in(ctx, period),
        Complaint.first_response_at.is_not(None),
    )
    median, p90 = median_and_p90(values)
    return Measured(median, {"p90": p90, "n": len(values)})


@kpi(
    "resolution_hours",
    en="Resolution time",
    vi="Thời gian xử lý khiếu nại",
    formula="Median hours from opening to resolution, complaints resolved in the period "
    "(p90 beside)",
    unit="hours",
    family="complaints",
    direction="lower",
)
def resolution_hours(ctx: KpiContext, period: Period) -> Measured:
    values = _durations(
        ctx, hours_between(Complaint.opened_at, Complaint.resolved_at), *resolved_in(ctx, period)
    )
    median, p90 = median_and_p90(values)
    return Measured(median, {"p90": p90, "n": len(values)})


@kpi(
    "sla_compliance_rate",
    en="Resolved within SLA",
    vi="Tỷ lệ xử lý đúng hạn",
    formula="Complaints resolved in the period within the SLA hours of their severity ÷ "
    "complaints resolved in the period (critical 4 h, high 24 h, medium 72 h, low 168 h)",
    unit="percent",
    family="complaints",
)
def sla_compliance_rate(ctx: KpiContext, period: Period) -> float | None:
    inside, total = ctx.session.exec(
        select(func.count(Complaint.id).filter(within_sla(ctx)), func.count(Complaint.id)).where(
            *resolved_in(ctx, period)
        )
    ).one()
    return ratio(inside, total)


def open_past_sla_condition(ctx: KpiContext, instant: dt.datetime) -> ColumnElement[bool]:
    """Complaints open at ``instant`` whose SLA deadline is before it."""
    overdue = or_(
        *[
            and_(
                Complaint.severity == severity,
                Complaint.opened_at < instant - dt.timedelta(hours=limit),
            )
            for severity, limit in sla_hours(ctx).items()
        ]
    )
    return and_(
        # Unresolved at the instant, as a union so each half uses the resolved_at index
        # (the planner otherwise walks every complaint opened before the instant).
        Complaint.id.in_(
            union_all(
                select(Complaint.id).where(Complaint.resolved_at.is_(None)),
                select(Complaint.id).where(Complaint.resolved_at >= instant),
            )
        ),
        Complaint.opened_at < instant,
        overdue,
        ctx.in_scope(Complaint.customer_id),
    )


@kpi(
    "open_past_sla",
    en="Open complaints past SLA",
    vi="Khiếu nại quá hạn",
    formula="Complaints open at the end of the period whose SLA deadline is before it",
    unit="count",
    family="complaints",
    direction="lower",
)
def open_past_sla(ctx: KpiContext, period: Period) -> int:
    _, end = ctx.bounds(period)
    return ctx.scalar(select(func.count(Complaint.id)).where(open_past_sla_condition(ctx, end)))


# ---------------------------------------------------------------- database quality
def important_field_columns(ctx: KpiContext) -> dict[str, list[str]]:
    """Important customer fields per kind ('all', 'organisation', 'person') from settings."""
    configured = ctx.settings.get("important_fields") or {}
    columns = set(Customer.__table__.columns.keys())
    return {
        group: [name for name in configured.get(group, []) if name in columns]
        for group in ("all", "organisation", "person")
    }


def _filled(column_name: str) -> ColumnElement[bool]:
    column = getattr(Customer, column_name)
    # AutoString reports python_type object, so test the SQL type, not the Python one.
    if isinstance(column.type, String | AutoString):
        return and_(column.is_not(None), func.trim(column) != "")
    return column.is_not(None)


@kpi(
    "data_completeness",
    en="Data completeness",
    vi="Mức độ đầy đủ dữ liệu",
    formula="Filled important fields ÷ (customers × important fields); important fields: "
    "phone, email, address, province, segment, owner, plus industry and representative "
    "for organisations, gender and birth year for persons",
    unit="percent",
    family="database quality",
    note="Current state of non-archived customers; not tied to the period.",
)
def data_completeness(ctx: KpiContext, period: Period) -> float | None:
    # The current state, not tied to the period: computed once per context (the
    # comparison period and the CRM maturity level reuse it).
    return ctx.memo("data_completeness", lambda: _data_completeness(ctx))


def _data_completeness(ctx: KpiContext) -> float | None:
    groups = important_field_columns(ctx)
    base = [Customer.archived.is_(False), ctx.customers_in_scope()]
    filled_terms = []
    for name in groups["all"]:
        filled_terms.append(func.count(Customer.id).filter(_filled(name)))
    for kind in ("organisation", "person"):
        for name in groups[kind]:
            filled_terms.append(
                func.count(Customer.id).filter(Customer.kind == CustomerKind(kind), _filled(name))
            )
    counts = ctx.session.exec(
        select(
            func.count(Customer.id),
            func.count(Customer.id).filter(Customer.kind == CustomerKind.organisation),
            func.count(Customer.id).filter(Customer.kind == CustomerKind.person),
            *filled_terms,
        ).where(*base)
    ).one()
    total, organisations, persons, *filled = counts
    slots = (
        total * len(groups["all"])
        + organisations * len(groups["organisation"])
        + persons * len(groups["person"])
    )
    return ratio(sum(filled), slots)


@kpi(
    "feedback_coverage",
    en="Feedback coverage",
    vi="Tỷ lệ thu thập phản hồi",
    formula="Active customers with a survey answer or a feedback interaction in the period ÷ "
    "active customers",
    unit="percent",
    family="database quality",
)
def feedback_coverage(ctx: KpiContext, period: Period) -> float | None:
    start, end = ctx.bounds(period)
    # Active customers are few next to the period's interactions: probe each one's
    # answers and interactions through the (customer_id, time) indexes instead of
    # collecting every customer who gave feedback.
    active = active_ids(ctx, period).subquery()
    gave_feedback = or_(
        exists(
            select(SurveyResponse.id).where(
                SurveyResponse.customer_id == active.c.customer_id,
                SurveyResponse.answered_at >= start,
                SurveyResponse.answered_at < end,
            )
        ),
        exists(
            select(Interaction.id).where(
                Interaction.customer_id == active.c.customer_id,
                Interaction.occurred_at >= start,
                Interaction.occurred_at < end,
                Interaction.kind == InteractionKind.feedback,
            )
        ),
    )
    count = ctx.scalar(select(func.count()).select_from(active).where(gave_feedback))
    return ratio(count, count_active(ctx, period))


@kpi(
    "record_freshness",
    en="Record freshness",
    vi="Mức độ cập nhật dữ liệu",
    formula="Customers updated or with an interaction in the 365 days before the end ÷ all "
    "non-archived customers",
    unit="percent",
    family="database quality",
)
def record_freshness(ctx: KpiContext, period: Period) -> float | None:
    _, end = ctx.bounds(period)
    since = ctx.instant(period.end - dt.timedelta(days=365))
    touched = exists(
        select(Interaction.id).where(
            Interaction.customer_id == Customer.id,
            Interaction.occurred_at >= since,
            Interaction.occurred_at < end,
        )
    )
    fresh, total = ctx.session.exec(
        select(
            func.count(Customer.id).filter(
                or_(and_(Customer.updated_at >= since, Customer.updated_at < end), touched)
            ),
            func.count(Customer.id),
        ).where(Customer.archived.is_(False), ctx.customers_in_scope())
    ).one()
    return ratio(fresh, total)


def _phone_digits(column: ColumnElement[str]) -> ColumnElement[str]:
    """The phone without separators: the first step of ``normalised_phone``."""
    digits = column
    for character in (" ", ".", "-", "(", ")", "+"):
        digits = func.replace(digits, character, "")
    return digits


def _leading_84_as_0(digits: ColumnElement[str]) -> ColumnElement[str]:
    """The second step of ``normalised_phone``: a leading 84 turned into 0."""
    return case(
        (func.substr(digits, 1, 2) == "84", literal("0").concat(func.substr(digits, 3))),
        else_=digits,
    )


def normalised_phone(column: ColumnElement[str]) -> ColumnElement[str]:
    """Digits only, with a leading 84 turned into 0 (SQL, both dialects)."""
    return _leading_84_as_0(_phone_digits(column))


def duplicate_customer_ids(ctx: KpiContext):  # noqa: ANN201
    """Select of non-archived scoped customers sharing a phone, email or tax code."""
    # One pass computes every customer's keys into a CTE that both databases materialise
    # (it is read four times); the six nested replaces of the phone, evaluated once per
    # row here instead of a dozen times, were most of the cost of one GROUP BY per key
    # followed by a second scan per key.
    keys = (
        select(
            Customer.id.label("customer_id"),
            _phone_digits(Customer.phone).label("digits"),
            func.lower(func.trim(Customer.email)).label("email"),
            func.trim(Customer.tax_code).label("tax_code"),
        )
        .where(Customer.archived.is_(False), ctx.customers_in_scope())
        .cte("customer_keys")
    )
    shared_on = []
    for key in (_leading_84_as_0(keys.c.digits), keys.c.email, keys.c.tax_code):
        shared = (
            select(key.label("k"))
            .where(key.is_not(None), key != "")
            .group_by(key)
            .having(func.count() > 1)
        )
        shared_on.append(key.in_(shared))
    return select(keys.c.customer_id).where(or_(*shared_on))


@kpi(
    "duplicate_rate",
    en="Likely duplicates",
    vi="Tỷ lệ trùng lặp",
    formula="Non-archived customers sharing a normalised phone, e-mail or tax code with "
    "another ÷ non-archived customers",
    unit="percent",
    family="database quality",
    direction="lower",
    note="Current state; an empty field never matches.",
)
def duplicate_rate(ctx: KpiContext, period: Period) -> float | None:
    def compute() -> float | None:
        duplicates = duplicate_customer_ids(ctx).subquery()
        count = ctx.scalar(select(func.count(distinct(duplicates.c.customer_id))))
        total = ctx.scalar(
            select(func.count(Customer.id)).where(
                Customer.archived.is_(False), ctx.customers_in_scope()
            )
        )
        return ratio(count, total)

    # The current state, not tied to the period: the comparison period reuses it.
    return ctx.memo("duplicate_rate", compute)


# ---------------------------------------------------------------- continuity (seed 001)
@kpi(
    "untouched_customer_rate",
    en="Customers left untouched",
    vi="Tỷ lệ khách hàng bị gián đoạn",
    formula="Customers with a counted order in the 365 days before the end and no interaction "
    "in the last 90 days ÷ customers with a counted order in those 365 days",
    unit="percent",
    family="continuity",
    direction="lower",
)
def untouched_customer_rate(ctx: KpiContext, period: Period) -> float | None:
    _, end = ctx.bounds(period)
    since_year = ctx.instant(period.end - dt.timedelta(days=365))
    untouched_days = int(ctx.settings.get("untouched_days") or 90)
    since_touch = ctx.instant(period.end - dt.timedelta(days=untouched_days))
    if ctx.summaries():
        buyers = (
            select(KpiOrderDay.customer_id.label("customer_id"))
            .where(*ctx.order_days_in(period.end - dt.timedelta(days=365), period.end))
            .distinct()
            .subquery()
        )
    else:
        buyers = (
            select(Order.customer_id)
            .where(*ctx.counted_orders(since_year, end))
            .distinct()
            .subquery()
        )
    touched = exists(
        select(Interaction.id).where(
            Interaction.customer_id == buyers.c.customer_id,
            Interaction.occurred_at >= since_touch,
            Interaction.occurred_at < end,
        )
    )
    untouched, total = ctx.session.exec(
        select(func.count().filter(~touched), func.count()).select_from(buyers)
    ).one()
    return ratio(untouched, total)


def segmented_active_customers(ctx: KpiContext, period: Period) -> int:
    """Active customers of the period that have an RFM segment as of its last day."""
    from .rfm import rfm_settings, rfm_table, segment_for

    _, bins, lookback = rfm_settings(ctx)
    if any(
        segment_for(r_score, f_score, bins) is None
        for r_score in range(1, bins + 1)
        for f_score in range(1, bins + 1)
    ):
        # Some score pair has no segment: only the full table can tell who has one.
        table = rfm_table(ctx, as_of=period.as_of_day)
        if table.empty:
            return 0
        active_customer_ids = set(ctx.session.exec(active_ids(ctx, period)).all())
        in_period = table[table["customer_id"].isin(active_customer_ids)]
        return int(in_period["segment"].notna().sum())
    # Every (R, F) pair is named (SEGMENT_RULES cover the 5 × 5 grid), so a customer has
    # a segment exactly when it is in the RFM table, i.e. has a counted order in the
    # lookback window ending with the period. Active customers have one in the period,
    # so the answer is the active customers of the window's overlap with the period:
    # one memoised count instead of scoring 70,000 customers per period.
    if lookback is None or lookback >= period.days:
        return count_active(ctx, period)
    if lookback < 1:
        return 0
    return count_active(ctx, Period(period.end - dt.timedelta(days=lookback), period.end))


@kpi(
    "crm_maturity_level",
    en="CRM maturity level",
    vi="Cấp độ phát triển CRM",
    formula="Highest level whose condition and all lower ones hold: 1 orders recorded; 2 "
    "complaints or support interactions in the last 90 days; 3 data completeness ≥ 80% "
    "and ≥ 90% of active customers have an RFM segment; 4 ≥ 50% of active customers "
    "received a customer-specific policy or offer in the last 180 days",
    unit="level",
    note="0 when not even level 1 holds (no counted order recorded yet).",
    family="continuity",
)
def crm_maturity_level(ctx: KpiContext, period: Period) -> Measured:
    _, end = ctx.bounds(period)
    last_90 = ctx.instant(period.end - dt.timedelta(days=90))
    last_180 = ctx.instant(period.end - dt.timedelta(days=180))
    if ctx.summaries():
        has_orders = ctx.scalar(
            select(
                select(KpiOrderDay.customer_id).where(*ctx.order_days_in(None, period.end)).exists()
            )
        )
    else:
        has_orders = ctx.scalar(
            select(select(Order.id).where(*ctx.counted_orders(None, end)).exists())
        )
    # Only whether any exists matters: EXISTS stops at the first row instead of counting
    # the 90 days' interactions (tens of thousands) through the table.
    support = ctx.scalar(
        select(
            select(Complaint.id)
            .where(
                Complaint.opened_at >= last_90,
                Complaint.opened_at < end,
                ctx.in_scope(Complaint.customer_id),
            )
            .exists()
        )
    ) or ctx.scalar(
        select(
            select(Interaction.id)
            .where(
                Interaction.occurred_at >= last_90,
                Interaction.occurred_at < end,
                Interaction.kind.in_([InteractionKind.feedback, InteractionKind.call]),
                ctx.in_scope(Interaction.customer_id),
            )
            .exists()
        )
    )
    completeness = data_completeness(ctx, period)
    active = count_active(ctx, period)
    segmented = segmented_active_customers(ctx, period)
    # Each active customer stops at its first offered order, instead of every counted
    # order of the 180 days being checked for discounted lines.
    active_customers = active_ids(ctx, period).subquery()
    offered = ctx.scalar(
        select(func.count())
        .select_from(active_customers)
        .where(
            exists(
                select(Order.id).where(
                    Order.customer_id == active_customers.c.customer_id,
                    *ctx.counted_orders(last_180, end),
                    or_(
                        Order.promotion.is_not(None),
                        exists(
                            select(OrderLine.id).where(
                                OrderLine.order_id == Order.id, OrderLine.discount > 0
                            )
                        ),
                    ),
                )
            )
        )
    )
    conditions = [
        ("orders are recorded", has_orders),
        ("complaints or support interactions logged in the last 90 days", bool(support)),
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
    unmet = [name for name, holds in conditions if not holds]
    return Measured(level, {"unmet": unmet})
