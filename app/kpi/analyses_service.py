"""Analyses behind the complaint, satisfaction, value and data-quality pages.

Every function takes a ``KpiContext`` (session, filters, settings, display zone) and
returns a small DataFrame: the grouping happens in SQL and only the few aggregated rows
reach pandas. Money columns are floats in the currency's unit; shares and rates are
fractions; a zero denominator gives None. Grouping on computed expressions (CASE, local
months) is done through a subquery so PostgreSQL sees one expression, not two copies
with different bound parameters.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Literal

import pandas as pd
from sqlalchemy import Enum, String, and_, case, distinct, func, literal, or_
from sqlalchemy.sql.expression import ColumnElement
from sqlmodel import AutoString, select

from app.models import (
    COUNTED_ORDER_STATUSES,
    Complaint,
    Contact,
    Customer,
    CustomerKind,
    Inquiry,
    InquiryStatus,
    Order,
    Product,
    Severity,
    SurveyResponse,
    User,
)

from .base import KpiContext, ratio
from .operations import (
    complaints_opened,
    important_field_columns,
    open_past_sla_condition,
    opened_in,
    resolved_in,
    sla_hours,
    within_sla,
)
from .period import Period
from .results import active_ids, answers_in, count_active, first_orders, latest_nps_answers
from .sql import hours_between

ComplaintKey = Literal["category", "severity", "status"]
ValueGroup = Literal["segment", "province", "region", "old_new", "kind"]
QualityGroup = Literal["segment", "owner", "kind"]

NO_VALUE = "(none)"
NO_OWNER = "(no owner)"
SEVERITY_ORDER = [Severity.critical, Severity.high, Severity.medium, Severity.low]
AGING_BUCKETS: tuple[tuple[str, float | None], ...] = (
    # (label, upper bound of the age in days, exclusive); ages are measured at the end.
    ("0-1 d", 1),
    ("1-3 d", 3),
    ("3-7 d", 7),
    ("7-30 d", 30),
    ("> 30 d", None),
)
REVENUE_BANDS = ["Q1 (lowest)", "Q2", "Q3", "Q4 (highest)"]
NO_PURCHASE = "no purchase"

COMPLAINT_COUNT_COLUMNS = ["key", "complaints", "share"]
COMPLAINT_TREND_COLUMNS = ["month", "opened", "resolved"]
BACKLOG_COLUMNS = ["bucket", "complaints"]
RESPONSE_TIME_COLUMNS = [
    "severity",
    "first_response_median_h",
    "first_response_p90_h",
    "resolution_median_h",
    "resolution_p90_h",
    "resolved",
    "within_sla",
    "sla_rate",
    "sla_hours",
]
COMPLAINT_RATE_COLUMNS = ["complaints", "active_customers", "complaints_per_100"]
BREACH_COLUMNS = ["group", "customers", "churn_rate", "nps"]
SATISFACTION_MONTH_COLUMNS = ["month", "answers", "nps", "csat_avg", "csat_share"]
SATISFACTION_SEGMENT_COLUMNS = ["segment", "answers", "nps", "csat_avg"]
SATISFACTION_BAND_COLUMNS = ["band", "customers", "nps", "csat_avg"]
VALUE_COLUMNS = ["group", "customers", "revenue", "profit", "revenue_share", "profit_share"]
TRANSACTION_COLUMNS = ["order_code", "ordered_at", "revenue", "cost", "profit"]
YEAR_COLUMNS = ["year", "orders", "revenue", "profit"]
LIFETIME_COLUMNS = ["orders", "revenue", "profit", "first_order", "last_order"]
PROFIT_COLUMNS = [
    "customer_id",
    "code",
    "name",
    "orders",
    "revenue",
    "profit",
    "profit_per_order",
]
COMPLETENESS_COLUMNS = ["group", "customers", "filled", "slots", "completeness"]
FIX_COLUMNS = ["customer_id", "code", "name", "owner_id", "owner_name", "missing"]
ENTITY_COLUMNS = ["entity", "field", "filled", "total", "completeness"]
UNMET_COLUMNS = ["need", "inquiries", "unmet", "customers"]


# ---------------------------------------------------------------- small helpers
def _plain(value: Any) -> Any:
    """An enum member as its value; anything else unchanged."""
    return value.value if isinstance(value, enum.Enum) else value


def _label(value: Any, empty: str = NO_VALUE) -> str:
    """A group label: the text, or ``empty`` for NULL or blank."""
    value = _plain(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return empty
    return str(value)


def _money(value: Any) -> float:
    """A SQL sum as a float rounded to the cent (0 for NULL)."""
    return 0.0 if value is None else round(float(value), 2)


def _nps(promoters: int, detractors: int, answers: int) -> float | None:
    """(promoters − detractors) / answers × 100; None without answers."""
    share = ratio((promoters or 0) - (detractors or 0), answers or 0)
    return None if share is None else share * 100


def _months(period: Period) -> list[str]:
    """Every 'YYYY-MM' from the period's first to its last day."""
    months = []
    year, month = period.start.year, period.start.month
    last = period.as_of_day
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _frame(rows: Iterable[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """A DataFrame with exactly ``columns`` (empty but typed by name when no rows)."""
    rows = list(rows)
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(rows, columns=columns)


def quantiles_by(
    ctx: KpiContext,
    key: ColumnElement[Any],
    value: ColumnElement[Any],
    conditions: list[ColumnElement[bool]],
    quantiles: tuple[float, ...] = (0.5, 0.9),
) -> dict[Any, tuple[float | None, ...]]:
    """Per key, the quantiles of ``value`` (linear interpolation, as ``median_and_p90``).

    Window functions rank the values in SQL and only the one or two rows around each
    quantile's position leave the database.
    """
    inner = (
        select(key.label("key"), value.label("value"))
        .where(*conditions, value.is_not(None))
        .subquery()
    )
    ranked = select(
        inner.c.key,
        inner.c.value,
        (func.row_number().over(partition_by=inner.c.key, order_by=inner.c.value) - 1).label("i"),
        func.count().over(partition_by=inner.c.key).label("n"),
    ).subquery()
    near = or_(
        *[
            and_(ranked.c.i > (ranked.c.n - 1) * q - 1, ranked.c.i < (ranked.c.n - 1) * q + 1)
            for q in quantiles
        ]
    )
    values: dict[Any, dict[int, float]] = defaultdict(dict)
    sizes: dict[Any, int] = {}
    for group, index, size, number in ctx.session.exec(
        select(ranked.c.key, ranked.c.i, ranked.c.n, ranked.c.value).where(near)
    ).all():
        values[_plain(group)][int(index)] = float(number)
        sizes[_plain(group)] = int(size)
    result: dict[Any, tuple[float | None, ...]] = {}
    for group, size in sizes.items():
        found = values[group]
        figures: list[float | None] = []
        for q in quantiles:
            position = (size - 1) * q
            lower = int(position)
            if position == lower:
                figures.append(found[lower])
            else:
                figures.append(
                    found[lower] + (found[lower + 1] - found[lower]) * (position - lower)
                )
        result[group] = tuple(figures)
    return result


# ---------------------------------------------------------------- complaints
def complaint_counts(ctx: KpiContext, *, period: Period, by: ComplaintKey) -> pd.DataFrame:
    """Complaints opened in the period per category, severity or current status.

    Columns [key, complaints, share], most complaints first.
    """
    columns = {
        "category": Complaint.category,
        "severity": Complaint.severity,
        "status": Complaint.status,
    }
    if by not in columns:
        raise ValueError(f"complaint_counts: unknown grouping {by!r}")
    column = columns[by]
    rows = ctx.session.exec(
        select(column, func.count(Complaint.id)).where(*opened_in(ctx, period)).group_by(column)
    ).all()
    total = sum(count for _, count in rows)
    frame = _frame(
        (
            {"key": _label(key), "complaints": int(count), "share": ratio(count, total)}
            for key, count in rows
        ),
        COMPLAINT_COUNT_COLUMNS,
    )
    if frame.empty:
        return frame
    return frame.sort_values(["complaints", "key"], ascending=[False, True]).reset_index(drop=True)


def complaint_trend(ctx: KpiContext, *, period: Period) -> pd.DataFrame:
    """Complaints opened and resolved per local month of the period: [month, opened, resolved]."""
    opened_month = ctx.local_month(Complaint.opened_at, period)
    resolved_month = ctx.local_month(Complaint.resolved_at, period)
    opened = dict(
        ctx.session.exec(
            select(opened_month, func.count(Complaint.id))
            .where(*opened_in(ctx, period))
            .group_by(opened_month)
        ).all()
    )
    resolved = dict(
        ctx.session.exec(
            select(resolved_month, func.count(Complaint.id))
            .where(*resolved_in(ctx, period))
            .group_by(resolved_month)
        ).all()
    )
    if not opened and not resolved:
        return pd.DataFrame(columns=COMPLAINT_TREND_COLUMNS)
    return _frame(
        (
            {
                "month": month,
                "opened": int(opened.get(month, 0)),
                "resolved": int(resolved.get(month, 0)),
            }
            for month in _months(period)
        ),
        COMPLAINT_TREND_COLUMNS,
    )


def _open_at(ctx: KpiContext, instant: dt.datetime) -> list[ColumnElement[bool]]:
    """Complaints opened before ``instant`` and not resolved by then."""
    return [
        Complaint.opened_at < instant,
        or_(Complaint.resolved_at.is_(None), Complaint.resolved_at >= instant),
        ctx.in_scope(Complaint.customer_id),
    ]


def backlog_aging(ctx: KpiContext, *, period: Period) -> pd.DataFrame:
    """Complaints open at the end of the period by age then (every bucket): [bucket, complaints].

    A complaint aged exactly one day falls in "1-3 d": each bucket is [lower, upper).
    """
    _, end = ctx.bounds(period)
    whens = [
        (Complaint.opened_at > end - dt.timedelta(days=upper), label)
        for label, upper in AGING_BUCKETS
        if upper is not None
    ]
    bucket = case(*whens, else_=AGING_BUCKETS[-1][0])
    inner = select(bucket.label("bucket")).where(*_open_at(ctx, end)).subquery()
    counts = dict(
        ctx.session.exec(select(inner.c.bucket, func.count()).group_by(inner.c.bucket)).all()
    )
    if not counts:
        return pd.DataFrame(columns=BACKLOG_COLUMNS)
    return _frame(
        ({"bucket": label, "complaints": int(counts.get(label, 0))} for label, _ in AGING_BUCKETS),
        BACKLOG_COLUMNS,
    )


def response_times(ctx: KpiContext, *, period: Period) -> pd.DataFrame:
    """Response and resolution hours (median, p90) and SLA compliance, every severity.

    First response: complaints opened in the period, answered before its end;
    resolution and SLA: complaints resolved in the period. Rows critical, high, medium,
    low; columns as ``RESPONSE_TIME_COLUMNS``.
    """
    _, end = ctx.bounds(period)
    first = quantiles_by(
        ctx,
        Complaint.severity,
        hours_between(Complaint.opened_at, Complaint.first_response_at),
        [*opened_in(ctx, period), Complaint.first_response_at < end],
    )
    resolution = quantiles_by(
        ctx,
        Complaint.severity,
        hours_between(Complaint.opened_at, Complaint.resolved_at),
        resolved_in(ctx, period),
    )
    sla = {
        _plain(severity): (int(resolved), int(inside))
        for severity, resolved, inside in ctx.session.exec(
            select(
                Complaint.severity,
                func.count(Complaint.id),
                func.count(Complaint.id).filter(within_sla(ctx)),
            )
            .where(*resolved_in(ctx, period))
            .group_by(Complaint.severity)
        ).all()
    }
    if not first and not resolution and not sla:
        return pd.DataFrame(columns=RESPONSE_TIME_COLUMNS)
    limits = sla_hours(ctx)
    rows = []
    for severity in SEVERITY_ORDER:
        name = severity.value
        first_median, first_p90 = first.get(name, (None, None))
        resolution_median, resolution_p90 = resolution.get(name, (None, None))
        resolved, inside = sla.get(name, (0, 0))
        rows.append(
            {
                "severity": name,
                "first_response_median_h": first_median,
                "first_response_p90_h": first_p90,
                "resolution_median_h": resolution_median,
                "resolution_p90_h": resolution_p90,
                "resolved": resolved,
                "within_sla": inside,
                "sla_rate": ratio(inside, resolved),
                "sla_hours": limits[name],
            }
        )
    return _frame(rows, RESPONSE_TIME_COLUMNS)


def complaint_rate_per_100(ctx: KpiContext, *, period: Period) -> pd.DataFrame:
    """The ``complaint_rate`` KPI with its parts.

    Columns [complaints, active_customers, complaints_per_100]: one row, empty when both
    counts are 0.
    """
    complaints = complaints_opened(ctx, period)
    active = count_active(ctx, period)
    if complaints == 0 and active == 0:
        return pd.DataFrame(columns=COMPLAINT_RATE_COLUMNS)
    share = ratio(complaints, active)
    return _frame(
        [
            {
                "complaints": int(complaints),
                "active_customers": int(active),
                "complaints_per_100": None if share is None else share * 100,
            }
        ],
        COMPLAINT_RATE_COLUMNS,
    )


def breach_impact(ctx: KpiContext, *, period: Period) -> pd.DataFrame:
    """Churn and NPS of the previous period's active customers with and without an SLA breach.

    Breached: a complaint resolved in P' later than its SLA, or open past its SLA at the
    end of P'. Both groups are customers active in P' (the churn base of ``churn_rate``);
    churn = no counted order in P; NPS = their latest answers in P. Columns [group,
    customers, churn_rate, nps], rows "breached" then "not breached".
    """
    prev_start, prev_end = ctx.bounds(period.previous())
    late = select(Complaint.customer_id).where(
        Complaint.resolved_at >= prev_start,
        Complaint.resolved_at < prev_end,
        ~within_sla(ctx),
    )
    overdue = select(Complaint.customer_id).where(open_past_sla_condition(ctx, prev_end))
    previous_active = (
        select(Order.customer_id.label("customer_id"))
        .where(*ctx.counted_orders(prev_start, prev_end))
        .distinct()
        .subquery()
    )
    customer = previous_active.c.customer_id
    base = select(
        customer.label("customer_id"),
        case((or_(customer.in_(late), customer.in_(overdue)), 1), else_=0).label("breached"),
        case((customer.in_(active_ids(ctx, period)), 0), else_=1).label("churned"),
    ).subquery()
    latest = latest_nps_answers(ctx, period)
    rows = ctx.session.exec(
        select(
            base.c.breached,
            func.count(),
            func.sum(base.c.churned),
            func.count(latest.c.nps),
            func.count().filter(latest.c.nps >= 9),
            func.count().filter(latest.c.nps <= 6),
        )
        .select_from(base)
        .outerjoin(latest, latest.c.customer_id == base.c.customer_id)
        .group_by(base.c.breached)
    ).all()
    if not rows:
        return pd.DataFrame(columns=BREACH_COLUMNS)
    found = {int(flag): row for flag, *row in rows}
    output = []
    for flag, name in ((1, "breached"), (0, "not breached")):
        customers, churned, answers, promoters, detractors = found.get(flag, (0, 0, 0, 0, 0))
        output.append(
            {
                "group": name,
                "customers": int(customers),
                "churn_rate": ratio(churned or 0, customers),
                "nps": _nps(promoters, detractors, answers),
            }
        )
    return _frame(output, BREACH_COLUMNS)


# ---------------------------------------------------------------- satisfaction
def satisfaction_by_month(ctx: KpiContext, *, period: Period) -> pd.DataFrame:
    """Answers, NPS, mean CSAT and satisfied share per local month of the period.

    Columns [month, answers, nps, csat_avg, csat_share], every month present.

    ``answers`` counts every survey answer; NPS takes each customer's latest answer with
    an NPS score within the month.
    """
    month = ctx.local_month(SurveyResponse.answered_at, period)
    scored = (
        select(month.label("month"), SurveyResponse.csat).where(*answers_in(ctx, period)).subquery()
    )
    csat = {
        row[0]: row[1:]
        for row in ctx.session.exec(
            select(
                scored.c.month,
                func.count(),
                func.avg(scored.c.csat),
                func.count(scored.c.csat),
                func.count().filter(scored.c.csat >= 4),
            ).group_by(scored.c.month)
        ).all()
    }
    ranked = (
        select(
            month.label("month"),
            SurveyResponse.nps,
            func.row_number()
            .over(
                partition_by=(SurveyResponse.customer_id, month),
                order_by=(SurveyResponse.answered_at.desc(), SurveyResponse.id.desc()),
            )
            .label("rank"),
        )
        .where(*answers_in(ctx, period), SurveyResponse.nps.is_not(None))
        .subquery()
    )
    nps = {
        row[0]: _nps(row[1], row[2], row[3])
        for row in ctx.session.exec(
            select(
                ranked.c.month,
                func.count().filter(ranked.c.nps >= 9),
                func.count().filter(ranked.c.nps <= 6),
                func.count(),
            )
            .where(ranked.c.rank == 1)
            .group_by(ranked.c.month)
        ).all()
    }
    if not csat:
        return pd.DataFrame(columns=SATISFACTION_MONTH_COLUMNS)
    rows = []
    for label in _months(period):
        answers, average, rated, satisfied = csat.get(label, (0, None, 0, 0))
        rows.append(
            {
                "month": label,
                "answers": int(answers),
                "nps": nps.get(label),
                "csat_avg": None if average is None else float(average),
                "csat_share": ratio(satisfied, rated),
            }
        )
    return _frame(rows, SATISFACTION_MONTH_COLUMNS)


def _segment_label() -> ColumnElement[str]:
    return func.coalesce(func.nullif(func.trim(Customer.segment), ""), NO_VALUE)


def satisfaction_by_segment(ctx: KpiContext, *, period: Period) -> pd.DataFrame:
    """Answers, NPS and mean CSAT per customer segment: [segment, answers, nps, csat_avg]."""
    answers = (
        select(_segment_label().label("segment"), SurveyResponse.csat)
        .join(Customer, Customer.id == SurveyResponse.customer_id)
        .where(*answers_in(ctx, period))
        .subquery()
    )
    csat = {
        row[0]: row[1:]
        for row in ctx.session.exec(
            select(answers.c.segment, func.count(), func.avg(answers.c.csat)).group_by(
                answers.c.segment
            )
        ).all()
    }
    latest = latest_nps_answers(ctx, period)
    with_segment = (
        select(_segment_label().label("segment"), latest.c.nps)
        .join(Customer, Customer.id == latest.c.customer_id)
        .subquery()
    )
    nps = {
        row[0]: _nps(row[1], row[2], row[3])
        for row in ctx.session.exec(
            select(
                with_segment.c.segment,
                func.count().filter(with_segment.c.nps >= 9),
                func.count().filter(with_segment.c.nps <= 6),
                func.count(),
            ).group_by(with_segment.c.segment)
        ).all()
    }
    rows = [
        {
            "segment": segment,
            "answers": int(count),
            "nps": nps.get(segment),
            "csat_avg": None if average is None else float(average),
        }
        for segment, (count, average) in csat.items()
    ]
    frame = _frame(rows, SATISFACTION_SEGMENT_COLUMNS)
    if frame.empty:
        return frame
    return frame.sort_values("segment").reset_index(drop=True)


def satisfaction_by_revenue_band(ctx: KpiContext, *, period: Period) -> pd.DataFrame:
    """NPS and mean CSAT per revenue quartile of the period's buyers.

    Columns [band, customers, nps, csat_avg], bands Q1 (lowest)..Q4 (highest), no purchase.

    Customers with revenue > 0 in the period are ranked by revenue (ties share the lowest
    rank) and banded ceil(4 × rank / n); other non-archived scoped customers are "no purchase".
    ``customers`` counts the band's customers, answered or not; CSAT averages answers.
    """
    start, end = ctx.bounds(period)
    revenue = (
        select(Order.customer_id.label("customer_id"), func.sum(Order.amount).label("revenue"))
        .where(*ctx.counted_orders(start, end))
        .group_by(Order.customer_id)
        .having(func.sum(Order.amount) > 0)
        .subquery()
    )
    rank = func.rank().over(order_by=revenue.c.revenue)
    size = func.count().over()
    banded = select(
        revenue.c.customer_id,
        # ceil(4 × rank / n) in integer arithmetic, identical on both databases.
        ((rank * 4 + size - 1) // size).label("band"),
    ).subquery()
    latest = latest_nps_answers(ctx, period)
    csat = (
        select(
            SurveyResponse.customer_id.label("customer_id"),
            func.sum(SurveyResponse.csat).label("total"),
            func.count(SurveyResponse.csat).label("rated"),
        )
        .where(*answers_in(ctx, period), SurveyResponse.csat.is_not(None))
        .group_by(SurveyResponse.customer_id)
        .subquery()
    )
    per_customer = (
        select(
            func.coalesce(banded.c.band, 0).label("band"),
            latest.c.nps,
            csat.c.total,
            csat.c.rated,
        )
        .select_from(Customer)
        .outerjoin(banded, banded.c.customer_id == Customer.id)
        .outerjoin(latest, latest.c.customer_id == Customer.id)
        .outerjoin(csat, csat.c.customer_id == Customer.id)
        # Archived customers count in a band when they bought, never as "no purchase".
        .where(
            ctx.customers_in_scope(),
            or_(banded.c.customer_id.is_not(None), Customer.archived.is_(False)),
        )
        .subquery()
    )
    found = {
        int(row[0]): row[1:]
        for row in ctx.session.exec(
            select(
                per_customer.c.band,
                func.count(),
                func.count().filter(per_customer.c.nps >= 9),
                func.count().filter(per_customer.c.nps <= 6),
                func.count(per_customer.c.nps),
                func.sum(per_customer.c.total),
                func.sum(per_customer.c.rated),
            ).group_by(per_customer.c.band)
        ).all()
    }
    if not found:
        return pd.DataFrame(columns=SATISFACTION_BAND_COLUMNS)
    rows = []
    for number, label in [*enumerate(REVENUE_BANDS, start=1), (0, NO_PURCHASE)]:
        customers, promoters, detractors, answers, total, rated = found.get(
            number, (0, 0, 0, 0, None, 0)
        )
        rows.append(
            {
                "band": label,
                "customers": int(customers),
                "nps": _nps(promoters, detractors, answers),
                "csat_avg": ratio(total, rated),
            }
        )
    return _frame(rows, SATISFACTION_BAND_COLUMNS)


# ---------------------------------------------------------------- value
def value_by_group(ctx: KpiContext, *, period: Period, by: ValueGroup) -> pd.DataFrame:
    """Revenue and profit of counted orders in the period per customer group, with shares.

    Columns [group, customers, revenue, profit, revenue_share, profit_share]; ``by`` is
    segment, province, region, kind or old_new ("old": a counted order before the
    start; "new": first counted order in the period). Sorted by revenue, largest first.
    """
    start, end = ctx.bounds(period)
    if by == "old_new":
        first = first_orders(ctx)
        key: ColumnElement[Any] = case((first.c.first_at < start, "old"), else_="new")
        inner = (
            select(key.label("grp"), Order.customer_id, Order.amount, Order.cost)
            .join(first, first.c.customer_id == Order.customer_id)
            .where(*ctx.counted_orders(start, end))
            .subquery()
        )
    else:
        columns = {
            "segment": Customer.segment,
            "province": Customer.province,
            "region": Customer.region,
            "kind": Customer.kind,
        }
        if by not in columns:
            raise ValueError(f"value_by_group: unknown grouping {by!r}")
        inner = (
            select(columns[by].label("grp"), Order.customer_id, Order.amount, Order.cost)
            .join(Customer, Customer.id == Order.customer_id)
            .where(*ctx.counted_orders(start, end))
            .subquery()
        )
    rows = ctx.session.exec(
        select(
            inner.c.grp,
            func.count(distinct(inner.c.customer_id)),
            func.sum(inner.c.amount),
            func.sum(inner.c.cost),
        ).group_by(inner.c.grp)
    ).all()
    if not rows:
        return pd.DataFrame(columns=VALUE_COLUMNS)
    groups: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for group, customers, amount, cost in rows:
        # NULL and blank labels merge into one "(none)" group.
        entry = groups[_label(group)]
        entry[0] += int(customers)
        entry[1] += _money(amount)
        entry[2] += _money(amount) - _money(cost)
    total_revenue = sum(entry[1] for entry in groups.values())
    total_profit = sum(entry[2] for entry in groups.values())
    frame = _frame(
        (
            {
                "group": group,
                "customers": customers,
                "revenue": round(amount, 2),
                "profit": round(profit, 2),
                "revenue_share": ratio(amount, total_revenue),
                "profit_share": ratio(profit, total_profit),
            }
            for group, (customers, amount, profit) in groups.items()
        ),
        VALUE_COLUMNS,
    )
    return frame.sort_values(["revenue", "group"], ascending=[False, True]).reset_index(drop=True)


def customer_profitability(
    ctx: KpiContext, *, customer_id: int, as_of_end: dt.date
) -> dict[str, pd.DataFrame]:
    """One customer's profit per transaction, per local year and over the relationship.

    Counted orders before local midnight starting ``as_of_end`` (exclusive, like a
    period end). Keys: per_transaction [order_code, ordered_at (local, naive),
    revenue, cost, profit], per_year [year, orders, revenue, profit], lifetime
    [orders, revenue, profit, first_order, last_order] (local dates, one row).
    """
    end = ctx.instant(as_of_end)
    orders = ctx.session.exec(
        select(Order.code, Order.ordered_at, Order.amount, Order.cost)
        .where(Order.customer_id == customer_id, *ctx.counted_orders(None, end))
        .order_by(Order.ordered_at, Order.id)
    ).all()
    if not orders:
        return {
            "per_transaction": pd.DataFrame(columns=TRANSACTION_COLUMNS),
            "per_year": pd.DataFrame(columns=YEAR_COLUMNS),
            "lifetime": pd.DataFrame(columns=LIFETIME_COLUMNS),
        }
    transactions = pd.DataFrame(
        [
            {
                "order_code": code,
                "ordered_at": ordered_at.astimezone(ctx.tz).replace(tzinfo=None),
                "revenue": _money(amount),
                "cost": _money(cost),
                "profit": round(_money(amount) - _money(cost), 2),
            }
            for code, ordered_at, amount, cost in orders
        ],
        columns=TRANSACTION_COLUMNS,
    )
    years = transactions["ordered_at"].map(lambda moment: moment.year)
    per_year = (
        transactions.assign(year=years)
        .groupby("year", as_index=False)
        .agg(
            orders=("order_code", "count"),
            revenue=("revenue", "sum"),
            profit=("profit", "sum"),
        )[YEAR_COLUMNS]
    )
    per_year[["revenue", "profit"]] = per_year[["revenue", "profit"]].round(2)
    lifetime = pd.DataFrame(
        [
            {
                "orders": len(transactions),
                "revenue": round(float(transactions["revenue"].sum()), 2),
                "profit": round(float(transactions["profit"].sum()), 2),
                "first_order": transactions["ordered_at"].iloc[0].date(),
                "last_order": transactions["ordered_at"].iloc[-1].date(),
            }
        ],
        columns=LIFETIME_COLUMNS,
    )
    return {"per_transaction": transactions, "per_year": per_year, "lifetime": lifetime}


def profit_per_customer(ctx: KpiContext, *, period: Period, limit: int = 50) -> pd.DataFrame:
    """The period's most profitable customers, by profit descending.

    Columns [customer_id, code, name, orders, revenue, profit, profit_per_order].
    """
    start, end = ctx.bounds(period)
    profit = func.sum(Order.amount) - func.sum(Order.cost)
    rows = ctx.session.exec(
        select(
            Customer.id,
            Customer.code,
            Customer.name,
            func.count(Order.id),
            func.sum(Order.amount),
            profit,
        )
        .join(Customer, Customer.id == Order.customer_id)
        .where(*ctx.counted_orders(start, end))
        .group_by(Customer.id, Customer.code, Customer.name)
        .order_by(profit.desc(), Customer.id)
        .limit(limit)
    ).all()
    return _frame(
        (
            {
                "customer_id": int(customer_id),
                "code": code,
                "name": name,
                "orders": int(orders),
                "revenue": _money(amount),
                "profit": _money(gain),
                "profit_per_order": None if not orders else round(float(gain) / orders, 2),
            }
            for customer_id, code, name, orders, amount, gain in rows
        ),
        PROFIT_COLUMNS,
    )


# ---------------------------------------------------------------- data quality
def _field_slots(ctx: KpiContext) -> list[tuple[str, CustomerKind | None]]:
    """(field, kind it applies to or None for every customer) for the important fields."""
    groups = important_field_columns(ctx)
    slots: list[tuple[str, CustomerKind | None]] = [(name, None) for name in groups["all"]]
    for kind in (CustomerKind.organisation, CustomerKind.person):
        slots.extend((name, kind) for name in groups[kind.value])
    return slots


def _filled(name: str) -> ColumnElement[bool]:
    """SQL condition: the customer field is set, and for text not blank."""
    column = getattr(Customer, name)
    # sqlmodel's AutoString reports python_type object, so test the SQL type itself.
    is_text = isinstance(column.type, AutoString) or (
        isinstance(column.type, String) and not isinstance(column.type, Enum)
    )
    if is_text:
        return _text_filled(column)
    return column.is_not(None)


def _missing_flag(name: str, kind: CustomerKind | None) -> ColumnElement[int]:
    """SQL CASE: 1 when the field applies to the customer and is empty, else 0."""
    if kind is None:
        return case((_filled(name), 0), else_=1)
    return case((and_(Customer.kind == kind, ~_filled(name)), 1), else_=0)


def _applies(kind: CustomerKind | None) -> ColumnElement[int]:
    """SQL CASE: 1 when a field for ``kind`` applies to the customer."""
    if kind is None:
        return literal(1)
    return case((Customer.kind == kind, 1), else_=0)


def completeness_by(ctx: KpiContext, *, by: QualityGroup) -> pd.DataFrame:
    """Important-field completeness of non-archived customers per segment, owner or kind.

    Columns [group, customers, filled, slots, completeness]; owners by display name.
    """
    keys = {"segment": Customer.segment, "owner": Customer.owner_id, "kind": Customer.kind}
    if by not in keys:
        raise ValueError(f"completeness_by: unknown grouping {by!r}")
    slots_of = _field_slots(ctx)
    slots = sum((_applies(kind) for _, kind in slots_of), literal(0))
    filled = sum(
        (_applies(kind) - _missing_flag(name, kind) for name, kind in slots_of), literal(0)
    )
    inner = (
        select(keys[by].label("grp"), filled.label("filled"), slots.label("slots"))
        .where(Customer.archived.is_(False), ctx.customers_in_scope())
        .subquery()
    )
    rows = ctx.session.exec(
        select(
            inner.c.grp, func.count(), func.sum(inner.c.filled), func.sum(inner.c.slots)
        ).group_by(inner.c.grp)
    ).all()
    if not rows:
        return pd.DataFrame(columns=COMPLETENESS_COLUMNS)
    names: dict[Any, str] = {}
    if by == "owner":
        owner_ids = [group for group, *_ in rows if group is not None]
        names = dict(
            ctx.session.exec(select(User.id, User.display_name).where(User.id.in_(owner_ids))).all()
        )
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for group, customers, filled_count, slot_count in rows:
        if by == "owner":
            label = names.get(group, f"user {group}") if group is not None else NO_OWNER
        else:
            label = _label(group)
        entry = groups[label]
        entry[0] += int(customers)
        entry[1] += int(filled_count or 0)
        entry[2] += int(slot_count or 0)
    frame = _frame(
        (
            {
                "group": label,
                "customers": customers,
                "filled": filled_count,
                "slots": slot_count,
                "completeness": ratio(filled_count, slot_count),
            }
            for label, (customers, filled_count, slot_count) in groups.items()
        ),
        COMPLETENESS_COLUMNS,
    )
    return frame.sort_values("group").reset_index(drop=True)


def records_to_fix(
    ctx: KpiContext, *, owner_id: int | None = None, limit: int = 500
) -> pd.DataFrame:
    """Non-archived customers lacking important fields, most gaps first.

    Columns [customer_id, code, name, owner_id, owner_name, missing]; ``missing`` lists
    the empty fields by column name, comma-separated, in settings order.
    """
    slots_of = _field_slots(ctx)
    if not slots_of:
        return pd.DataFrame(columns=FIX_COLUMNS)
    flags = [
        _missing_flag(name, kind).label(f"m{index}") for index, (name, kind) in enumerate(slots_of)
    ]
    conditions = [Customer.archived.is_(False), ctx.customers_in_scope()]
    if owner_id is not None:
        conditions.append(Customer.owner_id == owner_id)
    inner = (
        select(
            Customer.id.label("customer_id"),
            Customer.code,
            Customer.name,
            Customer.owner_id,
            User.display_name.label("owner_name"),
            *flags,
        )
        .outerjoin(User, User.id == Customer.owner_id)
        .where(*conditions)
        .subquery()
    )
    flag_columns = [inner.c[f"m{index}"] for index in range(len(slots_of))]
    gaps = sum(flag_columns[1:], flag_columns[0])
    rows = ctx.session.exec(
        select(
            inner.c.customer_id,
            inner.c.code,
            inner.c.name,
            inner.c.owner_id,
            inner.c.owner_name,
            *flag_columns,
        )
        .where(gaps > 0)
        .order_by(gaps.desc(), inner.c.customer_id)
        .limit(limit)
    ).all()
    return _frame(
        (
            {
                "customer_id": int(customer_id),
                "code": code,
                "name": name,
                "owner_id": owner,
                "owner_name": owner_name,
                "missing": ", ".join(
                    field for (field, _), flag in zip(slots_of, marks, strict=True) if flag
                ),
            }
            for customer_id, code, name, owner, owner_name, *marks in rows
        ),
        FIX_COLUMNS,
    )


def _text_filled(column: Any) -> ColumnElement[bool]:
    return and_(column.is_not(None), func.trim(column) != "")


def completeness_by_entity(ctx: KpiContext) -> pd.DataFrame:
    """Filled share of the important fields of each entity.

    Columns [entity, field, filled, total, completeness].

    customer: the important fields of non-archived customers (kind-specific fields over
    customers of that kind); contact: phone, email of their contacts; product: category
    and unit cost (> 0); order: payment and delivery due dates of counted orders;
    complaint: first response time of resolved complaints.
    """
    rows: list[dict[str, Any]] = []

    def add(entity: str, fields: list[str], totals: list[int], filled: list[int]) -> None:
        for field, total, count in zip(fields, totals, filled, strict=True):
            rows.append(
                {
                    "entity": entity,
                    "field": field,
                    "filled": int(count or 0),
                    "total": int(total or 0),
                    "completeness": ratio(count or 0, total or 0),
                }
            )

    slots_of = _field_slots(ctx)
    live = [Customer.archived.is_(False), ctx.customers_in_scope()]
    if slots_of:
        result = ctx.session.exec(
            select(
                *[func.sum(_applies(kind)) for _, kind in slots_of],
                *[func.sum(_applies(kind) - _missing_flag(name, kind)) for name, kind in slots_of],
            ).where(*live)
        ).one()
        count = len(slots_of)
        add("customer", [name for name, _ in slots_of], result[:count], result[count:])
    contact = ctx.session.exec(
        select(
            func.count(Contact.id),
            func.count(Contact.id).filter(_text_filled(Contact.phone)),
            func.count(Contact.id).filter(_text_filled(Contact.email)),
        )
        .join(Customer, Customer.id == Contact.customer_id)
        .where(*live)
    ).one()
    add("contact", ["phone", "email"], [contact[0]] * 2, contact[1:])
    product = ctx.session.exec(
        select(
            func.count(Product.id),
            func.count(Product.id).filter(_text_filled(Product.category)),
            func.count(Product.id).filter(Product.unit_cost > 0),
        )
    ).one()
    add("product", ["category", "unit_cost"], [product[0]] * 2, product[1:])
    order = ctx.session.exec(
        select(
            func.count(Order.id),
            func.count(Order.id).filter(Order.payment_due.is_not(None)),
            func.count(Order.id).filter(Order.delivery_due.is_not(None)),
        ).where(Order.status.in_(COUNTED_ORDER_STATUSES), ctx.in_scope(Order.customer_id))
    ).one()
    add("order", ["payment_due", "delivery_due"], [order[0]] * 2, order[1:])
    complaint = ctx.session.exec(
        select(
            func.count(Complaint.id),
            func.count(Complaint.id).filter(Complaint.first_response_at.is_not(None)),
        ).where(Complaint.resolved_at.is_not(None), ctx.in_scope(Complaint.customer_id))
    ).one()
    add("complaint", ["first_response_at"], [complaint[0]], complaint[1:])
    if all(row["total"] == 0 for row in rows):
        return pd.DataFrame(columns=ENTITY_COLUMNS)
    return _frame(rows, ENTITY_COLUMNS)


# ---------------------------------------------------------------- unmet needs (seed 003)
def unmet_needs(ctx: KpiContext, *, period: Period) -> pd.DataFrame:
    """Groups of customers sharing an unmet need among the period's inquiries.

    Columns [need, inquiries, unmet, customers].

    The need is the inquired product's name, else the need text with outer spaces
    trimmed (case kept: SQL lower() differs between SQLite and PostgreSQL for
    Vietnamese letters). ``inquiries`` counts the group's inquiries asked in the period,
    ``unmet`` those whose status is unmet, ``customers`` the distinct customers with an
    unmet one. Only groups with an unmet inquiry; most customers first.
    """
    start, end = ctx.bounds(period)
    need = func.coalesce(Product.name, func.trim(Inquiry.need))
    is_unmet = Inquiry.status == InquiryStatus.unmet
    inner = (
        select(
            need.label("need"),
            Inquiry.customer_id,
            case((is_unmet, 1), else_=0).label("unmet"),
        )
        .outerjoin(Product, Product.id == Inquiry.product_id)
        .where(
            Inquiry.asked_at >= start,
            Inquiry.asked_at < end,
            ctx.in_scope(Inquiry.customer_id),
        )
        .subquery()
    )
    unmet = func.sum(inner.c.unmet)
    rows = ctx.session.exec(
        select(
            inner.c.need,
            func.count(),
            unmet,
            func.count(distinct(case((inner.c.unmet == 1, inner.c.customer_id)))),
        )
        .group_by(inner.c.need)
        .having(unmet > 0)
    ).all()
    frame = _frame(
        (
            {
                "need": need_text,
                "inquiries": int(inquiries),
                "unmet": int(unmet_count),
                "customers": int(customers),
            }
            for need_text, inquiries, unmet_count, customers in rows
        ),
        UNMET_COLUMNS,
    )
    if frame.empty:
        return frame
    return frame.sort_values(
        ["customers", "unmet", "need"], ascending=[False, False, True]
    ).reset_index(drop=True)
