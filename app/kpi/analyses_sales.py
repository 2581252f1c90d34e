"""Sales analyses for the pages: series, loyalty, cohorts, pipeline, campaigns, drill-downs.

Every function aggregates in SQL and returns a small DataFrame with the documented
columns; with no data at all it returns an empty frame with those columns. Frames over a
fixed list of categories (levels, stages) list every category once there is any data.
Money is ``Decimal``; ratios are floats, ``None`` when the denominator is 0; times are
aware datetimes in the display time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

import pandas as pd
from sqlalchemy import and_, case, distinct, exists, func, literal, or_, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlalchemy.types import Date, String
from sqlalchemy.types import Enum as SAEnum
from sqlmodel import select
from sqlmodel.sql.sqltypes import AutoString

from app.errors import InvalidInput
from app.models import (
    COUNTED_ORDER_STATUSES,
    OPEN_STAGES,
    Campaign,
    CampaignMember,
    Complaint,
    Customer,
    CustomerKind,
    Interaction,
    KpiCustomerFact,
    KpiOrderDay,
    Opportunity,
    OpportunityStageHistory,
    Order,
    Stage,
    SurveyResponse,
    User,
)

from .base import KpiContext, median_and_p90, ratio, to_decimal
from .operations import (
    important_field_columns,
    normalised_phone,
    open_past_sla_condition,
    sla_hours,
    stage_at,
)
from .period import Period, offset_minutes
from .results import active_ids, first_orders
from .sql import days_between

Grain = Literal["month", "week"]

LEVELS = ("prospect", "customer", "repeat", "advocate")
PIPELINE_STAGES = tuple(stage.value for stage in Stage)
FUNNEL_STAGES = tuple(stage.value for stage in (*OPEN_STAGES, Stage.won))
_STAGE_RANK = {name: rank for rank, name in enumerate(FUNNEL_STAGES, start=1)}
ZERO = Decimal("0.00")

SERIES_COLUMNS = ["bucket_start", "value"]
SERIES_KPIS = frozenset(
    {
        "revenue",
        "profit",
        "orders_count",
        "new_customers",
        "interactions_logged",
        "complaints_opened",
        "active_customers",
    }
)
_MONEY_KPIS = frozenset({"revenue", "profit"})
_MONEY_COLUMNS = frozenset({"budget", "actual_cost", "allocated_cost", "revenue", "margin"})
LEVEL_COLUMNS = ["customer_id", "level"]
LADDER_COLUMNS = ["level", "customers"]
COHORT_COLUMNS = ["cohort", "size", "month_offset", "active", "rate"]
PIPELINE_COLUMNS = ["stage", "opportunities", "amount", "probability", "weighted"]
FUNNEL_COLUMNS = ["stage", "reached", "lost_here", "conversion_to_next"]
FORECAST_COLUMNS = ["month", "open_amount", "weighted_amount", "opportunities"]
TIME_IN_STAGE_COLUMNS = ["stage", "median_days", "p90_days", "n"]
SALES_CYCLE_COLUMNS = ["median_days", "p90_days", "n"]
LOST_REASON_COLUMNS = ["reason", "opportunities", "amount", "share"]
OWNER_COLUMNS = [
    "owner_id",
    "owner_name",
    "open_amount",
    "won",
    "lost",
    "win_rate",
    "won_amount",
    "revenue",
]
CAMPAIGN_COLUMNS = [
    "campaign_id",
    "name",
    "channel",
    "purpose",
    "budget",
    "actual_cost",
    "allocated_cost",
    "members",
    "responses",
    "conversions",
    "response_rate",
    "conversion_rate",
    "revenue",
    "margin",
    "roi",
    "new_customers",
    "cac",
]
CHANNEL_COLUMNS = ["channel", "campaigns", *CAMPAIGN_COLUMNS[4:]]
UNSPECIFIED_REASON = "(not given)"


# ---------------------------------------------------------------- SQL helpers
class _local_week(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """The Monday (ISO week start) of a UTC timestamp's local calendar day."""

    type = Date()
    inherit_cache = True

    def __init__(self, column: Any, tz_name: str, offset_minutes: int) -> None:
        self.tz_name = tz_name
        self.offset_minutes = offset_minutes
        super().__init__(column)


@compiles(_local_week, "sqlite")
def _local_week_sqlite(element: _local_week, compiler: Any, **kw: Any) -> str:
    column = compiler.process(list(element.clauses)[0], **kw)
    # 'weekday 0' moves forward to the next Sunday (or stays on one); 6 days back is Monday.
    offset = int(element.offset_minutes)
    return f"date({column}, '{offset:+d} minutes', 'weekday 0', '-6 days')"


@compiles(_local_week, "postgresql")
def _local_week_pg(element: _local_week, compiler: Any, **kw: Any) -> str:
    column = compiler.process(list(element.clauses)[0], **kw)
    tz = element.tz_name.replace("'", "")
    return f"CAST(date_trunc('week', timezone('{tz}', {column})) AS DATE)"


class _date_month(FunctionElement):  # noqa: N801
    """'YYYY-MM' of a DATE column (no time zone involved)."""

    type = String()
    inherit_cache = True


@compiles(_date_month, "sqlite")
def _date_month_sqlite(element: _date_month, compiler: Any, **kw: Any) -> str:
    column = compiler.process(list(element.clauses)[0], **kw)
    return f"strftime('%Y-%m', {column})"


@compiles(_date_month, "postgresql")
def _date_month_pg(element: _date_month, compiler: Any, **kw: Any) -> str:
    column = compiler.process(list(element.clauses)[0], **kw)
    return f"to_char({column}, 'YYYY-MM')"


# ---------------------------------------------------------------- Python helpers
def _frame(rows: Iterable[dict[str, Any]] | Iterable[tuple], columns: list[str]) -> pd.DataFrame:
    """A frame with exactly ``columns`` (empty when there are no rows); None stays None."""
    rows = list(rows)
    if not rows:
        return pd.DataFrame(columns=columns)
    if isinstance(rows[0], dict):
        values = [tuple(row[name] for name in columns) for row in rows]
    else:
        values = [tuple(row) for row in rows]
    frame = pd.DataFrame(values, columns=columns)
    for index, name in enumerate(columns):
        # pandas turns None into NaN (and ints into floats) in numeric columns; an undefined
        # ratio or a missing owner stays None instead.
        if frame[name].dtype.kind in "fiu" and frame[name].isna().any():
            frame[name] = pd.Series([row[index] for row in values], dtype=object)
    return frame


def _as_date(value: Any) -> dt.date:
    """A SQL date result (date, datetime or 'YYYY-MM-DD' text) as a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _month_start(label: str) -> dt.date:
    """'YYYY-MM' → the first day of that month."""
    return dt.date(int(label[:4]), int(label[5:7]), 1)


def _add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _name(value: Any) -> Any:
    """An enum's value (SQL enum columns come back as members), other values unchanged."""
    return value.value if isinstance(value, Enum) else value


def _local(ctx: KpiContext, value: dt.datetime | None) -> dt.datetime | None:
    """A UTC timestamp in the display time zone."""
    if value is None or pd.isna(value):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(ctx.tz)


def _probabilities(ctx: KpiContext) -> dict[str, Decimal]:
    """Stage probabilities from the settings; won is 100% and lost 0% unless set."""
    configured = ctx.settings.get("stage_probabilities") or {}
    defaults = {"won": 1.0, "lost": 0.0}
    return {
        stage: Decimal(str(configured.get(stage, defaults.get(stage, 0.0))))
        for stage in PIPELINE_STAGES
    }


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise InvalidInput({"limit": "must be at least 1"})


# ---------------------------------------------------------------- series
def _bucket_starts(period: Period, grain: Grain) -> list[dt.date]:
    """Every month or ISO week (from Monday) touching the period, by its first day."""
    if grain == "month":
        current, step = period.start.replace(day=1), None
    else:
        current = period.start - dt.timedelta(days=period.start.weekday())
        step = dt.timedelta(days=7)
    starts = []
    while current <= period.as_of_day:
        starts.append(current)
        current = _add_months(current, 1) if step is None else current + step
    return starts


def series(ctx: KpiContext, *, kpi_id: str, period: Period, grain: Grain = "month") -> pd.DataFrame:
    """[bucket_start, value]: an additive KPI per calendar month or ISO week, empty buckets 0."""
    if grain not in ("month", "week"):
        raise InvalidInput({"grain": "must be month or week"})
    if kpi_id not in SERIES_KPIS:
        raise InvalidInput({"kpi": f"no series for {kpi_id!r}"})
    from .summaries import summary_buckets  # the order KPIs from the summary tables

    summarised = summary_buckets(ctx, kpi_id=kpi_id, period=period, grain=grain)
    if summarised is not None:
        zero: Any = ZERO if kpi_id in _MONEY_KPIS else 0
        rows = [(day, summarised.get(day, zero)) for day in _bucket_starts(period, grain)]
        return _frame(rows, SERIES_COLUMNS)
    start, end = ctx.bounds(period)
    offset = offset_minutes(ctx.tz, period.start)

    def bucket(column: Any) -> ColumnElement[Any]:
        if grain == "month":
            return ctx.local_month(column, period)
        return _local_week(column, ctx.tz.key, offset)

    if kpi_id in ("revenue", "profit", "orders_count", "active_customers"):
        key = bucket(Order.ordered_at)
        measure = {
            "revenue": func.sum(Order.amount),
            "profit": func.sum(Order.amount - Order.cost),
            "orders_count": func.count(Order.id),
            "active_customers": func.count(distinct(Order.customer_id)),
        }[kpi_id]
        statement = select(key, measure).where(*ctx.counted_orders(start, end)).group_by(key)
    elif kpi_id == "new_customers":
        first = first_orders(ctx)
        key = bucket(first.c.first_at)
        statement = (
            select(key, func.count())
            .select_from(first)
            .where(first.c.first_at >= start, first.c.first_at < end)
            .group_by(key)
        )
    elif kpi_id == "interactions_logged":
        key = bucket(Interaction.occurred_at)
        statement = (
            select(key, func.count(Interaction.id))
            .where(
                Interaction.occurred_at >= start,
                Interaction.occurred_at < end,
                ctx.in_scope(Interaction.customer_id),
            )
            .group_by(key)
        )
    else:  # complaints_opened
        key = bucket(Complaint.opened_at)
        statement = (
            select(key, func.count(Complaint.id))
            .where(
                Complaint.opened_at >= start,
                Complaint.opened_at < end,
                ctx.in_scope(Complaint.customer_id),
            )
            .group_by(key)
        )
    found: dict[dt.date, Any] = {}
    for label, value in ctx.session.exec(statement).all():
        day = _month_start(label) if grain == "month" else _as_date(label)
        found[day] = to_decimal(value) if kpi_id in _MONEY_KPIS else int(value or 0)
    empty: Any = ZERO if kpi_id in _MONEY_KPIS else 0
    return _frame(
        [(day, found.get(day, empty)) for day in _bucket_starts(period, grain)], SERIES_COLUMNS
    )


REVENUE_PROFIT_COLUMNS = ["bucket_start", "revenue", "profit"]


def revenue_profit_series(ctx: KpiContext, *, period: Period) -> pd.DataFrame:
    """[bucket_start, revenue, profit] per calendar month, empty months 0: the two
    series of ``series`` from one GROUP BY of the summaries when they can answer."""
    from .summaries import summary_revenue_profit

    found = summary_revenue_profit(ctx, period=period)
    if found is None:
        revenue = series(ctx, kpi_id="revenue", period=period, grain="month")
        profit = series(ctx, kpi_id="profit", period=period, grain="month")
        rows = zip(revenue["bucket_start"], revenue["value"], profit["value"], strict=True)
        return _frame(list(rows), REVENUE_PROFIT_COLUMNS)
    return _frame(
        [(day, *found.get(day, (ZERO, ZERO))) for day in _bucket_starts(period, "month")],
        REVENUE_PROFIT_COLUMNS,
    )


# ---------------------------------------------------------------- loyalty ladder
def _latest_nps(ctx: KpiContext, end: dt.datetime, name: str):  # noqa: ANN202
    """Subquery (customer_id, nps): each customer's latest NPS answer before ``end``."""
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
        .where(SurveyResponse.answered_at < end, SurveyResponse.nps.is_not(None))
        .subquery(f"ranked_{name}")
    )
    return select(ranked.c.customer_id, ranked.c.nps).where(ranked.c.rank == 1).subquery(name)


def _nps_of(end: dt.datetime) -> Any:
    """Correlated scalar: the customer row's latest NPS answer before ``end`` (or NULL),
    the same answer ``_latest_nps`` ranks first (ix_survey_response_customer_answered)."""
    return (
        select(SurveyResponse.nps)
        .where(
            SurveyResponse.customer_id == Customer.id,
            SurveyResponse.answered_at < end,
            SurveyResponse.nps.is_not(None),
        )
        .order_by(SurveyResponse.answered_at.desc(), SurveyResponse.id.desc())
        .limit(1)
        .correlate(Customer)
        .scalar_subquery()
    )


def _level(purchase_days: Any, nps: Any, end: dt.datetime) -> Any:
    """The loyalty level CASE of a customer row, given its purchase days and latest NPS."""
    referee = aliased(Customer)
    referred = exists(
        select(referee.id).where(referee.referred_by_id == Customer.id, referee.created_at < end)
    )
    purchase_days = func.coalesce(purchase_days, 0)
    return case(
        (and_(purchase_days >= 2, or_(referred, nps >= 9)), literal("advocate")),
        (purchase_days >= 2, literal("repeat")),
        (purchase_days == 1, literal("customer")),
        else_=literal("prospect"),
    )


def _levels_subquery(
    ctx: KpiContext, *, as_of_end: dt.date, population_end: dt.date, name: str = "levels"
):  # noqa: ANN202
    """Subquery (customer_id, level) at as_of_end of customers created before population_end."""
    end = ctx.instant(as_of_end)
    day = ctx.local_day(Order.ordered_at, Period(as_of_end - dt.timedelta(days=1), as_of_end))
    days = (
        select(Order.customer_id, func.count(distinct(day)).label("days"))
        .where(*ctx.counted_orders(None, end))
        .group_by(Order.customer_id)
        .subquery("purchase_days")
    )
    latest = _latest_nps(ctx, end, "nps")
    return (
        select(
            Customer.id.label("customer_id"), _level(days.c.days, latest.c.nps, end).label("level")
        )
        .outerjoin(days, days.c.customer_id == Customer.id)
        .outerjoin(latest, latest.c.customer_id == Customer.id)
        .where(Customer.created_at < ctx.instant(population_end), ctx.customers_in_scope())
        .subquery(name)
    )


def loyalty_levels(ctx: KpiContext, *, as_of_end: dt.date) -> pd.DataFrame:
    """[customer_id, level]: each scoped customer created before ``as_of_end`` on the ladder."""
    levels = _levels_subquery(ctx, as_of_end=as_of_end, population_end=as_of_end)
    rows = ctx.session.exec(
        select(levels.c.customer_id, levels.c.level).order_by(levels.c.customer_id)
    ).all()
    return _frame(rows, LEVEL_COLUMNS)


def loyalty_ladder(ctx: KpiContext, *, period: Period) -> pd.DataFrame:
    """[level, customers]: customers per loyalty level at the end of the period."""
    levels = _levels_subquery(ctx, as_of_end=period.end, population_end=period.end)
    counts = dict(
        ctx.session.exec(select(levels.c.level, func.count()).group_by(levels.c.level)).all()
    )
    if not counts:
        return _frame([], LADDER_COLUMNS)
    return _frame([(level, int(counts.get(level, 0))) for level in LEVELS], LADDER_COLUMNS)


def _purchase_days(ctx: KpiContext, *, period: Period, previous: Period):  # noqa: ANN202
    """Subquery (customer_id, days, days_before): distinct local purchase days of each
    customer before the end of ``period`` and of ``previous``."""
    if ctx.summaries():
        # A kpi_order_day row is one purchase day: the days before an end are the
        # customer's order days minus its (few, recent) day rows on or after it.
        first = min(period.end, previous.end)
        recent = (
            select(
                KpiOrderDay.customer_id,
                func.count(case((KpiOrderDay.day >= period.end, 1))).label("after"),
                func.count(case((KpiOrderDay.day >= previous.end, 1))).label("after_before"),
            )
            .where(KpiOrderDay.day >= first)
            .group_by(KpiOrderDay.customer_id)
            .subquery("recent_days")
        )
        return (
            select(
                KpiCustomerFact.customer_id,
                (KpiCustomerFact.order_days - func.coalesce(recent.c.after, 0)).label("days"),
                (KpiCustomerFact.order_days - func.coalesce(recent.c.after_before, 0)).label(
                    "days_before"
                ),
            )
            .outerjoin(recent, recent.c.customer_id == KpiCustomerFact.customer_id)
            .subquery("purchase_days")
        )
    end, before_end = ctx.instant(period.end), ctx.instant(previous.end)
    day = ctx.local_day(Order.ordered_at, Period(period.end - dt.timedelta(days=1), period.end))
    day_before = ctx.local_day(
        Order.ordered_at, Period(previous.end - dt.timedelta(days=1), previous.end)
    )
    return (
        select(
            Order.customer_id,
            func.count(distinct(case((Order.ordered_at < end, day)))).label("days"),
            func.count(distinct(case((Order.ordered_at < before_end, day_before)))).label(
                "days_before"
            ),
        )
        .where(*ctx.counted_orders(None, max(end, before_end)))
        .group_by(Order.customer_id)
        .subquery("purchase_days")
    )


def loyalty_migration(ctx: KpiContext, *, period: Period, previous: Period) -> pd.DataFrame:
    """Customer counts by level at the end of previous (index) and of period (columns)."""
    # Customers created after the end of ``previous`` count as prospects there, so the
    # matrix total equals the ladder total at the end of ``period``.
    # Both levels of a customer come from one row: a single pass over the orders counts
    # the purchase days before either end (ix_sales_order_customer_ordered covers it).
    end, before_end = ctx.instant(period.end), ctx.instant(previous.end)
    days = _purchase_days(ctx, period=period, previous=previous)
    if ctx.summaries():
        # The latest NPS is looked up per customer only where the level needs it (two
        # purchase days, not referring): the CASE stops before the probe otherwise, so
        # this reads a few thousand answers instead of ranking all of them twice.
        level_before = _level(days.c.days_before, _nps_of(before_end), before_end)
        level_now = _level(days.c.days, _nps_of(end), end)
        statement = select(level_before, level_now, func.count()).select_from(Customer)
    else:
        latest = _latest_nps(ctx, end, "nps")
        latest_before = _latest_nps(ctx, before_end, "nps_before")
        level_before = _level(days.c.days_before, latest_before.c.nps, before_end)
        level_now = _level(days.c.days, latest.c.nps, end)
        statement = (
            select(level_before, level_now, func.count())
            .select_from(Customer)
            .outerjoin(latest, latest.c.customer_id == Customer.id)
            .outerjoin(latest_before, latest_before.c.customer_id == Customer.id)
        )
    rows = ctx.session.exec(
        statement.outerjoin(days, days.c.customer_id == Customer.id)
        .where(Customer.created_at < end, ctx.customers_in_scope())
        .group_by(level_before, level_now)
    ).all()
    matrix = pd.DataFrame(0, index=pd.Index(LEVELS, name="previous_level"), columns=list(LEVELS))
    matrix.columns.name = "level"
    if not rows:
        return matrix.iloc[0:0]
    for previous_level, level, count in rows:
        matrix.loc[previous_level, level] = int(count)
    return matrix


def ladder_of(migration: pd.DataFrame) -> pd.DataFrame:
    """``loyalty_ladder`` of the period from its ``loyalty_migration`` matrix: both count
    the same customers (created before the period end) at the period end, so the column
    sums are the ladder and the page needs one pass over the orders instead of two."""
    if migration.empty:
        return _frame([], LADDER_COLUMNS)
    totals = migration.sum(axis=0)
    return _frame([(level, int(totals.get(level, 0))) for level in LEVELS], LADDER_COLUMNS)


# ---------------------------------------------------------------- cohorts
def cohort_retention(ctx: KpiContext, *, period: Period, months: int = 12) -> pd.DataFrame:
    """[cohort, size, month_offset, active, rate] by acquisition month, observed until the end."""
    if months < 0:
        raise InvalidInput({"months": "must not be negative"})
    start, end = ctx.bounds(period)
    first = first_orders(ctx)
    cohort = ctx.local_month(first.c.first_at, period)
    acquired = [first.c.first_at >= start, first.c.first_at < end]
    sizes = dict(
        ctx.session.exec(
            select(cohort, func.count()).select_from(first).where(*acquired).group_by(cohort)
        ).all()
    )
    if not sizes:
        return _frame([], COHORT_COLUMNS)
    month = ctx.local_month(Order.ordered_at, period)
    active = {
        (label, order_month): int(count)
        for label, order_month, count in ctx.session.exec(
            select(cohort, month, func.count(distinct(Order.customer_id)))
            .join(first, first.c.customer_id == Order.customer_id)
            .where(*acquired, *ctx.counted_orders(start, end))
            .group_by(cohort, month)
        ).all()
    }
    rows = []
    for label in sorted(sizes):
        size = int(sizes[label])
        for offset in range(months + 1):
            # Months starting at or after the period end are not observed yet.
            if _add_months(_month_start(label), offset) >= period.end:
                break
            order_month = _add_months(_month_start(label), offset).strftime("%Y-%m")
            count = active.get((label, order_month), 0)
            rows.append((label, size, offset, count, ratio(count, size)))
    return _frame(rows, COHORT_COLUMNS)


# ---------------------------------------------------------------- pipeline
def _closed_in(ctx: KpiContext, period: Period) -> list[ColumnElement[bool]]:
    start, end = ctx.bounds(period)
    return [
        Opportunity.closed_at >= start,
        Opportunity.closed_at < end,
        Opportunity.stage.in_([Stage.won, Stage.lost]),
        ctx.in_scope(Opportunity.customer_id),
    ]


def pipeline_by_stage(ctx: KpiContext, *, period: Period) -> pd.DataFrame:
    """[stage, opportunities, amount, probability, weighted]: open at the end, closed in P."""
    _, end = ctx.bounds(period)
    open_now = stage_at(ctx, end)
    found: dict[str, tuple[int, Decimal]] = {}
    for stage, count, amount in ctx.session.exec(
        select(open_now.c.stage, func.count(), func.sum(open_now.c.amount)).group_by(
            open_now.c.stage
        )
    ).all():
        found[_name(stage)] = (int(count), to_decimal(amount))
    for stage, count, amount in ctx.session.exec(
        select(Opportunity.stage, func.count(Opportunity.id), func.sum(Opportunity.amount))
        .where(*_closed_in(ctx, period))
        .group_by(Opportunity.stage)
    ).all():
        found[_name(stage)] = (int(count), to_decimal(amount))
    if not found:
        return _frame([], PIPELINE_COLUMNS)
    probabilities = _probabilities(ctx)
    rows = []
    for stage in PIPELINE_STAGES:
        count, amount = found.get(stage, (0, ZERO))
        probability = probabilities[stage]
        weighted = (amount * probability).quantize(Decimal("0.01"))
        rows.append((stage, count, amount, float(probability), weighted))
    return _frame(rows, PIPELINE_COLUMNS)


def stage_funnel(ctx: KpiContext, *, period: Period) -> pd.DataFrame:
    """[stage, reached, lost_here, conversion_to_next] for opportunities created in P."""
    # The furthest stage the history reached before the end counts; a lost deal is lost
    # at that stage, so it never vanishes from the funnel.
    start, end = ctx.bounds(period)
    history = OpportunityStageHistory
    rank = case(
        *[(history.to_stage == Stage(name), rank) for name, rank in _STAGE_RANK.items()],
        else_=None,
    )
    per_history = (
        select(
            history.opportunity_id,
            func.max(rank).label("reached"),
            func.max(case((history.to_stage == Stage.lost, 1), else_=0)).label("lost"),
        )
        .where(history.changed_at < end)
        .group_by(history.opportunity_id)
        .subquery("reached_stages")
    )
    won = and_(Opportunity.stage == Stage.won, Opportunity.closed_at < end)
    lost = or_(
        per_history.c.lost == 1, and_(Opportunity.stage == Stage.lost, Opportunity.closed_at < end)
    )
    per_opportunity = (
        select(
            # Every opportunity reached lead; a won one reached every stage (history or not).
            case((won, _STAGE_RANK["won"]), else_=func.coalesce(per_history.c.reached, 1)).label(
                "reached"
            ),
            case((lost, 1), else_=0).label("lost"),
        )
        .outerjoin(per_history, per_history.c.opportunity_id == Opportunity.id)
        .where(
            Opportunity.created_at >= start,
            Opportunity.created_at < end,
            ctx.in_scope(Opportunity.customer_id),
        )
        .subquery("per_opportunity")
    )
    counts = ctx.session.exec(
        select(per_opportunity.c.reached, per_opportunity.c.lost, func.count()).group_by(
            per_opportunity.c.reached, per_opportunity.c.lost
        )
    ).all()
    if not counts:
        return _frame([], FUNNEL_COLUMNS)
    reached = {name: 0 for name in FUNNEL_STAGES}
    lost_here = {name: 0 for name in FUNNEL_STAGES}
    last_open = _STAGE_RANK[Stage.negotiation.value]
    for furthest, is_lost, count in counts:
        for name, stage_rank in _STAGE_RANK.items():
            if stage_rank <= int(furthest):
                reached[name] += int(count)
        if is_lost:
            lost_here[FUNNEL_STAGES[min(int(furthest), last_open) - 1]] += int(count)
    rows = []
    for index, name in enumerate(FUNNEL_STAGES):
        following = FUNNEL_STAGES[index + 1] if index + 1 < len(FUNNEL_STAGES) else None
        conversion = ratio(reached[following], reached[name]) if following else None
        rows.append((name, reached[name], lost_here[name], conversion))
    return _frame(rows, FUNNEL_COLUMNS)


def forecast_by_close_month(ctx: KpiContext, *, period: Period, months: int = 6) -> pd.DataFrame:
    """[month, open_amount, weighted_amount, opportunities] by expected close month."""
    # Months from the one containing the period end; "overdue", "later" and "no date"
    # rows follow when they hold an opportunity, so the rows sum to the pipeline value.
    if months < 1:
        raise InvalidInput({"months": "must be at least 1"})
    _, end = ctx.bounds(period)
    open_now = stage_at(ctx, end)
    month = func.coalesce(_date_month(Opportunity.expected_close), literal(""))
    rows = ctx.session.exec(
        select(month, open_now.c.stage, func.count(), func.sum(open_now.c.amount))
        .join(Opportunity, Opportunity.id == open_now.c.id)
        .group_by(month, open_now.c.stage)
    ).all()
    if not rows:
        return _frame([], FORECAST_COLUMNS)
    first = period.end.replace(day=1)
    labels = [_add_months(first, step).strftime("%Y-%m") for step in range(months)]
    totals = {label: [ZERO, ZERO, 0] for label in [*labels, "overdue", "later", "no date"]}
    probabilities = _probabilities(ctx)
    for label, stage, count, amount in rows:
        if not label:
            bucket = "no date"
        elif label < labels[0]:
            bucket = "overdue"
        elif label > labels[-1]:
            bucket = "later"
        else:
            bucket = label
        amount = to_decimal(amount)
        totals[bucket][0] += amount
        totals[bucket][1] += amount * probabilities[_name(stage)]
        totals[bucket][2] += int(count)
    ordered = ["overdue", *labels, "later", "no date"]
    return _frame(
        [
            (label, open_amount, weighted.quantize(Decimal("0.01")), count)
            for label in ordered
            for open_amount, weighted, count in [totals[label]]
            if label in labels or count
        ],
        FORECAST_COLUMNS,
    )


def time_in_stage(ctx: KpiContext, *, period: Period) -> pd.DataFrame:
    """[stage, median_days, p90_days, n] of open-stage stays that ended in the period."""
    start, end = ctx.bounds(period)
    # A stay that ended in the period is the predecessor of a stage change made in the
    # period: start from those few changes and find each one's previous row through
    # ix_opportunity_stage_history_opportunity_changed, instead of numbering the whole
    # history with a window function.
    left = aliased(OpportunityStageHistory, name="left_stage")
    earlier = aliased(OpportunityStageHistory, name="earlier_stage")
    entered = aliased(OpportunityStageHistory, name="entered_stage")
    previous_id = (
        select(earlier.id)
        .where(
            earlier.opportunity_id == left.opportunity_id,
            or_(
                earlier.changed_at < left.changed_at,
                and_(earlier.changed_at == left.changed_at, earlier.id < left.id),
            ),
        )
        .order_by(earlier.changed_at.desc(), earlier.id.desc())
        .limit(1)
        .correlate(left)
        .scalar_subquery()
    )
    duration = days_between(entered.changed_at, left.changed_at)
    rows = ctx.session.exec(
        select(entered.to_stage, duration)
        .select_from(left)
        .join(entered, entered.id == previous_id)
        .join(Opportunity, Opportunity.id == left.opportunity_id)
        .where(
            left.changed_at >= start,
            left.changed_at < end,
            entered.to_stage.in_(list(OPEN_STAGES)),
            ctx.in_scope(Opportunity.customer_id),
        )
    ).all()
    if not rows:
        return _frame([], TIME_IN_STAGE_COLUMNS)
    values: dict[str, list[float]] = {stage.value: [] for stage in OPEN_STAGES}
    for stage, days in rows:
        if days is not None:
            values[_name(stage)].append(float(days))
    out = []
    for stage in OPEN_STAGES:
        median, p90 = median_and_p90(values[stage.value])
        out.append((stage.value, median, p90, len(values[stage.value])))
    return _frame(out, TIME_IN_STAGE_COLUMNS)


def sales_cycle(ctx: KpiContext, *, period: Period) -> pd.DataFrame:
    """[median_days, p90_days, n]: days from creation to closing of deals won in P."""
    values = [
        float(value)
        for value in ctx.session.exec(
            select(days_between(Opportunity.created_at, Opportunity.closed_at)).where(
                *_closed_in(ctx, period), Opportunity.stage == Stage.won
            )
        ).all()
        if value is not None
    ]
    if not values:
        return _frame([], SALES_CYCLE_COLUMNS)
    median, p90 = median_and_p90(values)
    return _frame([(median, p90, len(values))], SALES_CYCLE_COLUMNS)


def lost_reasons(ctx: KpiContext, *, period: Period) -> pd.DataFrame:
    """[reason, opportunities, amount, share] of opportunities lost in P, most frequent first."""
    reason = func.coalesce(
        func.nullif(func.trim(Opportunity.lost_reason), ""), literal(UNSPECIFIED_REASON)
    )
    rows = ctx.session.exec(
        select(reason, func.count(Opportunity.id), func.sum(Opportunity.amount))
        .where(*_closed_in(ctx, period), Opportunity.stage == Stage.lost)
        .group_by(reason)
    ).all()
    total = sum(int(count) for _, count, _ in rows)
    ordered = sorted(rows, key=lambda row: (-int(row[1]), row[0]))
    return _frame(
        [
            (name, int(count), to_decimal(amount), ratio(count, total))
            for name, count, amount in ordered
        ],
        LOST_REASON_COLUMNS,
    )


def owner_performance(ctx: KpiContext, *, period: Period) -> pd.DataFrame:
    """[owner_id, owner_name, open_amount, won, lost, win_rate, won_amount, revenue]."""
    # Revenue is credited to the user who took the order (Order.user_id).
    start, end = ctx.bounds(period)
    open_now = stage_at(ctx, end)
    figures: dict[int | None, dict[str, Any]] = {}

    def entry(owner_id: int | None) -> dict[str, Any]:
        return figures.setdefault(
            owner_id,
            {"open_amount": ZERO, "won": 0, "lost": 0, "won_amount": ZERO, "revenue": ZERO},
        )

    for owner_id, amount in ctx.session.exec(
        select(Opportunity.owner_id, func.sum(open_now.c.amount))
        .join(Opportunity, Opportunity.id == open_now.c.id)
        .group_by(Opportunity.owner_id)
    ).all():
        entry(owner_id)["open_amount"] = to_decimal(amount)
    for owner_id, won, lost, won_amount in ctx.session.exec(
        select(
            Opportunity.owner_id,
            func.count(Opportunity.id).filter(Opportunity.stage == Stage.won),
            func.count(Opportunity.id).filter(Opportunity.stage == Stage.lost),
            func.sum(Opportunity.amount).filter(Opportunity.stage == Stage.won),
        )
        .where(*_closed_in(ctx, period))
        .group_by(Opportunity.owner_id)
    ).all():
        row = entry(owner_id)
        row.update(won=int(won), lost=int(lost), won_amount=to_decimal(won_amount))
    for user_id, amount in ctx.session.exec(
        select(Order.user_id, func.sum(Order.amount))
        .where(*ctx.counted_orders(start, end))
        .group_by(Order.user_id)
    ).all():
        entry(user_id)["revenue"] = to_decimal(amount)
    if not figures:
        return _frame([], OWNER_COLUMNS)
    known = [owner_id for owner_id in figures if owner_id is not None]
    names = dict(
        ctx.session.exec(select(User.id, User.display_name).where(User.id.in_(known))).all()
        if known
        else []
    )
    rows = []
    for owner_id in sorted(figures, key=lambda key: (key is None, key or 0)):
        row = figures[owner_id]
        rows.append(
            {
                "owner_id": owner_id,
                "owner_name": names.get(owner_id, "(unassigned)")
                if owner_id is not None
                else "(unassigned)",
                **row,
                "win_rate": ratio(row["won"], row["won"] + row["lost"]),
            }
        )
    return _frame(rows, OWNER_COLUMNS)


# ---------------------------------------------------------------- campaigns
def _allocated(cost: Decimal, first_day: dt.date, last_day: dt.date, period: Period) -> Decimal:
    """The campaign cost share of the days [first_day, last_day] that fall in the period."""
    campaign_days = (last_day - first_day).days + 1
    overlap = (min(last_day + dt.timedelta(days=1), period.end) - max(first_day, period.start)).days
    if overlap <= 0 or campaign_days <= 0:
        return ZERO
    return (Decimal(cost or 0) * overlap / campaign_days).quantize(Decimal("0.01"))


def campaign_results(ctx: KpiContext, *, period: Period) -> pd.DataFrame:
    """One row per campaign overlapping the period, columns CAMPAIGN_COLUMNS."""
    # The Campaigns page also asks campaigns_by_channel, which sums these rows.
    return ctx.memo(
        ("campaign_results", period), lambda: _campaign_results(ctx, period=period)
    ).copy()


def _campaign_results(ctx: KpiContext, *, period: Period) -> pd.DataFrame:
    start, end = ctx.bounds(period)
    campaigns = ctx.session.exec(
        select(
            Campaign.id,
            Campaign.name,
            Campaign.channel,
            Campaign.purpose,
            Campaign.budget,
            Campaign.actual_cost,
            Campaign.start_date,
            Campaign.end_date,
        )
        .where(Campaign.start_date < period.end, Campaign.end_date >= period.start)
        .order_by(Campaign.start_date, Campaign.id)
    ).all()
    if not campaigns:
        return _frame([], CAMPAIGN_COLUMNS)
    members = {
        campaign_id: (int(total), int(responses), int(conversions))
        for campaign_id, total, responses, conversions in ctx.session.exec(
            select(
                CampaignMember.campaign_id,
                func.count(CampaignMember.id),
                func.count(CampaignMember.id).filter(CampaignMember.responded.is_(True)),
                func.count(CampaignMember.id).filter(CampaignMember.converted.is_(True)),
            )
            .where(
                CampaignMember.contacted_at >= start,
                CampaignMember.contacted_at < end,
                ctx.in_scope(CampaignMember.customer_id),
            )
            .group_by(CampaignMember.campaign_id)
        ).all()
    }
    sales = {
        campaign_id: (to_decimal(revenue), to_decimal(margin))
        for campaign_id, revenue, margin in ctx.session.exec(
            select(Order.campaign_id, func.sum(Order.amount), func.sum(Order.amount - Order.cost))
            .where(*ctx.counted_orders(start, end), Order.campaign_id.is_not(None))
            .group_by(Order.campaign_id)
        ).all()
    }
    # A customer's first counted order (by time, then id) is one with no counted order
    # of the same customer before it. Probing ix_sales_order_customer_ordered for the
    # period's campaign orders replaces numbering every order of every customer.
    earlier = aliased(Order)
    first = ~exists(
        select(earlier.id).where(
            earlier.customer_id == Order.customer_id,
            earlier.status.in_(COUNTED_ORDER_STATUSES),
            or_(
                earlier.ordered_at < Order.ordered_at,
                and_(earlier.ordered_at == Order.ordered_at, earlier.id < Order.id),
            ),
        )
    )
    acquired = dict(
        ctx.session.exec(
            select(Order.campaign_id, func.count())
            .where(*ctx.counted_orders(start, end), Order.campaign_id.is_not(None), first)
            .group_by(Order.campaign_id)
        ).all()
    )
    rows = []
    for campaign_id, name, channel, purpose, budget, cost, first_day, last_day in campaigns:
        allocated = _allocated(cost, first_day, last_day, period)
        total, responses, conversions = members.get(campaign_id, (0, 0, 0))
        revenue, margin = sales.get(campaign_id, (ZERO, ZERO))
        new = int(acquired.get(campaign_id, 0))
        rows.append(
            {
                "campaign_id": campaign_id,
                "name": name,
                "channel": _name(channel),
                "purpose": _name(purpose),
                "budget": to_decimal(budget),
                "actual_cost": to_decimal(cost),
                "allocated_cost": allocated,
                "members": total,
                "responses": responses,
                "conversions": conversions,
                "response_rate": ratio(responses, total),
                "conversion_rate": ratio(conversions, total),
                "revenue": revenue,
                "margin": margin,
                "roi": ratio(margin - allocated, allocated),
                "new_customers": new,
                "cac": None if new == 0 else (allocated / new).quantize(Decimal("0.01")),
            }
        )
    return _frame(rows, CAMPAIGN_COLUMNS)


def campaigns_by_channel(ctx: KpiContext, *, period: Period) -> pd.DataFrame:
    """campaign_results summed per channel (columns in CHANNEL_COLUMNS), rates recomputed."""
    results = campaign_results(ctx, period=period)
    if results.empty:
        return _frame([], CHANNEL_COLUMNS)
    summed = [
        "budget",
        "actual_cost",
        "allocated_cost",
        "members",
        "responses",
        "conversions",
        "revenue",
        "margin",
        "new_customers",
    ]
    rows = []
    for channel, group in results.groupby("channel", sort=True):
        totals = {name: sum(group[name], ZERO if name in _MONEY_COLUMNS else 0) for name in summed}
        allocated, new = totals["allocated_cost"], totals["new_customers"]
        rows.append(
            {
                "channel": channel,
                "campaigns": len(group),
                **totals,
                "response_rate": ratio(totals["responses"], totals["members"]),
                "conversion_rate": ratio(totals["conversions"], totals["members"]),
                "roi": ratio(totals["margin"] - allocated, allocated),
                "cac": None if new == 0 else (allocated / new).quantize(Decimal("0.01")),
            }
        )
    return _frame(rows, CHANNEL_COLUMNS)


# ---------------------------------------------------------------- drill-down
def _customer_columns() -> list[Any]:
    return [
        Customer.id.label("customer_id"),
        Customer.code.label("customer_code"),
        Customer.name.label("customer_name"),
    ]


def _rows(
    ctx: KpiContext, statement: Any, columns: list[str], times: Iterable[str] = ()
) -> pd.DataFrame:
    """Run a select whose columns are ``columns``; convert the named time columns to local."""
    frame = _frame(ctx.session.exec(statement).all(), columns)
    for name in times:
        if not frame.empty:
            frame[name] = [_local(ctx, value) for value in frame[name]]
    for name in frame.columns:
        if not frame.empty and frame[name].map(lambda value: isinstance(value, Enum)).any():
            frame[name] = frame[name].map(_name)
    return frame


def _drill_active(ctx: KpiContext, period: Period, limit: int) -> pd.DataFrame:
    start, end = ctx.bounds(period)
    columns = [
        "customer_id",
        "customer_code",
        "customer_name",
        "orders",
        "revenue",
        "last_order_at",
    ]
    revenue = func.sum(Order.amount)
    statement = (
        select(
            *_customer_columns(),
            func.count(Order.id),
            revenue,
            func.max(Order.ordered_at),
        )
        .join(Customer, Customer.id == Order.customer_id)
        .where(*ctx.counted_orders(start, end))
        .group_by(Customer.id, Customer.code, Customer.name)
        .order_by(revenue.desc(), Customer.code)
        .limit(limit)
    )
    return _rows(ctx, statement, columns, ["last_order_at"])


def _drill_new(ctx: KpiContext, period: Period, limit: int) -> pd.DataFrame:
    start, end = ctx.bounds(period)
    first = first_orders(ctx)
    columns = ["customer_id", "customer_code", "customer_name", "first_order_at", "channel"]
    statement = (
        select(*_customer_columns(), first.c.first_at, Customer.channel)
        .join(first, first.c.customer_id == Customer.id)
        .where(first.c.first_at >= start, first.c.first_at < end)
        .order_by(first.c.first_at, Customer.code)
        .limit(limit)
    )
    return _rows(ctx, statement, columns, ["first_order_at"])


def _drill_churned(ctx: KpiContext, period: Period, limit: int) -> pd.DataFrame:
    prev_start, prev_end = ctx.bounds(period.previous())
    columns = [
        "customer_id",
        "customer_code",
        "customer_name",
        "previous_orders",
        "previous_revenue",
        "last_order_at",
    ]
    revenue = func.sum(Order.amount)
    statement = (
        select(*_customer_columns(), func.count(Order.id), revenue, func.max(Order.ordered_at))
        .join(Customer, Customer.id == Order.customer_id)
        .where(
            *ctx.counted_orders(prev_start, prev_end),
            Order.customer_id.not_in(active_ids(ctx, period)),
        )
        .group_by(Customer.id, Customer.code, Customer.name)
        .order_by(revenue.desc(), Customer.code)
        .limit(limit)
    )
    return _rows(ctx, statement, columns, ["last_order_at"])


def _drill_lapsed(ctx: KpiContext, period: Period, limit: int) -> pd.DataFrame:
    # Same rule as the lapsed_customers KPI: last order day in
    # [start − window − 1, end − window − 1) in local days.
    window = int(ctx.settings.get("churn_window_days") or 365)
    _, end = ctx.bounds(period)
    low = ctx.instant(period.start - dt.timedelta(days=window + 1))
    high = ctx.instant(period.end - dt.timedelta(days=window + 1))
    last = (
        select(Order.customer_id, func.max(Order.ordered_at).label("last_at"))
        .where(*ctx.counted_orders(None, end))
        .group_by(Order.customer_id)
        .subquery("last_orders")
    )
    columns = ["customer_id", "customer_code", "customer_name", "last_order_at"]
    statement = (
        select(*_customer_columns(), last.c.last_at)
        .join(last, last.c.customer_id == Customer.id)
        .where(last.c.last_at >= low, last.c.last_at < high)
        .order_by(last.c.last_at, Customer.code)
        .limit(limit)
    )
    return _rows(ctx, statement, columns, ["last_order_at"])


def _drill_orders(ctx: KpiContext, period: Period, limit: int) -> pd.DataFrame:
    start, end = ctx.bounds(period)
    columns = [
        "order_id",
        "order_code",
        "ordered_at",
        "status",
        "customer_id",
        "customer_code",
        "customer_name",
        "amount",
        "cost",
        "campaign_id",
    ]
    statement = (
        select(
            Order.id,
            Order.code,
            Order.ordered_at,
            Order.status,
            *_customer_columns(),
            Order.amount,
            Order.cost,
            Order.campaign_id,
        )
        .join(Customer, Customer.id == Order.customer_id)
        .where(*ctx.counted_orders(start, end))
        .order_by(Order.ordered_at, Order.id)
        .limit(limit)
    )
    return _rows(ctx, statement, columns, ["ordered_at"])


_COMPLAINT_COLUMNS = [
    "complaint_id",
    "customer_id",
    "customer_code",
    "customer_name",
    "category",
    "severity",
    "status",
    "opened_at",
    "first_response_at",
    "resolved_at",
]


def _complaint_select() -> Any:
    return select(
        Complaint.id,
        *_customer_columns(),
        Complaint.category,
        Complaint.severity,
        Complaint.status,
        Complaint.opened_at,
        Complaint.first_response_at,
        Complaint.resolved_at,
    ).join(Customer, Customer.id == Complaint.customer_id)


def _drill_complaints_opened(ctx: KpiContext, period: Period, limit: int) -> pd.DataFrame:
    start, end = ctx.bounds(period)
    statement = (
        _complaint_select()
        .where(
            Complaint.opened_at >= start,
            Complaint.opened_at < end,
            ctx.in_scope(Complaint.customer_id),
        )
        .order_by(Complaint.opened_at, Complaint.id)
        .limit(limit)
    )
    return _rows(
        ctx, statement, _COMPLAINT_COLUMNS, ["opened_at", "first_response_at", "resolved_at"]
    )


def _drill_past_sla(ctx: KpiContext, period: Period, limit: int) -> pd.DataFrame:
    _, end = ctx.bounds(period)
    statement = (
        _complaint_select()
        .where(open_past_sla_condition(ctx, end))
        .order_by(Complaint.opened_at, Complaint.id)
        .limit(limit)
    )
    frame = _rows(ctx, statement, _COMPLAINT_COLUMNS, [])
    columns = [*_COMPLAINT_COLUMNS, "sla_deadline", "hours_past_sla"]
    if frame.empty:
        return _frame([], columns)
    limits = sla_hours(ctx)
    deadlines = [
        opened + dt.timedelta(hours=limits[severity])
        for opened, severity in zip(frame["opened_at"], frame["severity"], strict=True)
    ]
    frame["sla_deadline"] = deadlines
    frame["hours_past_sla"] = [(end - deadline).total_seconds() / 3600 for deadline in deadlines]
    for name in ("opened_at", "first_response_at", "resolved_at", "sla_deadline"):
        frame[name] = [_local(ctx, value) for value in frame[name]]
    return frame[columns]


def _drill_pipeline(ctx: KpiContext, period: Period, limit: int) -> pd.DataFrame:
    _, end = ctx.bounds(period)
    open_now = stage_at(ctx, end)
    columns = [
        "opportunity_id",
        "title",
        "customer_id",
        "customer_code",
        "customer_name",
        "stage",
        "amount",
        "expected_close",
        "owner_id",
        "created_at",
    ]
    statement = (
        select(
            Opportunity.id,
            Opportunity.title,
            *_customer_columns(),
            open_now.c.stage,
            Opportunity.amount,
            Opportunity.expected_close,
            Opportunity.owner_id,
            Opportunity.created_at,
        )
        .join(open_now, open_now.c.id == Opportunity.id)
        .join(Customer, Customer.id == Opportunity.customer_id)
        .order_by(Opportunity.amount.desc(), Opportunity.id)
        .limit(limit)
    )
    return _rows(ctx, statement, columns, ["created_at"])


def _drill_closed(ctx: KpiContext, period: Period, limit: int) -> pd.DataFrame:
    columns = [
        "opportunity_id",
        "title",
        "customer_id",
        "customer_code",
        "customer_name",
        "stage",
        "amount",
        "created_at",
        "closed_at",
        "lost_reason",
        "owner_id",
    ]
    statement = (
        select(
            Opportunity.id,
            Opportunity.title,
            *_customer_columns(),
            Opportunity.stage,
            Opportunity.amount,
            Opportunity.created_at,
            Opportunity.closed_at,
            Opportunity.lost_reason,
            Opportunity.owner_id,
        )
        .join(Customer, Customer.id == Opportunity.customer_id)
        .where(*_closed_in(ctx, period))
        .order_by(Opportunity.closed_at, Opportunity.id)
        .limit(limit)
    )
    return _rows(ctx, statement, columns, ["created_at", "closed_at"])


def _drill_duplicates(ctx: KpiContext, period: Period, limit: int) -> pd.DataFrame:
    live = [Customer.archived.is_(False), ctx.customers_in_scope()]
    keys = {
        "phone": normalised_phone(Customer.phone),
        "email": func.lower(func.trim(Customer.email)),
        "tax_code": func.trim(Customer.tax_code),
    }
    selects = []
    for name, key in keys.items():
        shared = (
            select(key.label("k"))
            .where(*live, key.is_not(None), key != "")
            .group_by(key)
            .having(func.count() > 1)
        )
        selects.append(
            select(
                Customer.id.label("customer_id"),
                literal(name).label("key_type"),
                key.label("key_value"),
            ).where(*live, key.in_(shared))
        )
    matches = union_all(*selects).subquery("shared_keys")
    chosen = (
        select(matches.c.customer_id)
        .group_by(matches.c.customer_id)
        .order_by(matches.c.customer_id)
        .limit(limit)
        .subquery("chosen")
    )
    rows = ctx.session.exec(
        select(Customer.id, Customer.code, Customer.name, matches.c.key_type, matches.c.key_value)
        .join(matches, matches.c.customer_id == Customer.id)
        .where(Customer.id.in_(select(chosen.c.customer_id)))
        .order_by(Customer.id, matches.c.key_type)
    ).all()
    columns = ["customer_id", "customer_code", "customer_name", "shared_on", "shared_keys"]
    grouped: dict[int, dict[str, Any]] = {}
    for customer_id, code, name, key_type, key_value in rows:
        entry = grouped.setdefault(
            customer_id,
            {"customer_id": customer_id, "customer_code": code, "customer_name": name, "keys": []},
        )
        entry["keys"].append((key_type, key_value))
    return _frame(
        [
            {
                **entry,
                "shared_on": ", ".join(key_type for key_type, _ in entry["keys"]),
                "shared_keys": ", ".join(
                    f"{key_type}={value}" for key_type, value in entry["keys"]
                ),
            }
            for entry in grouped.values()
        ],
        columns,
    )


def _missing(column_name: str) -> ColumnElement[bool]:
    column = getattr(Customer, column_name)
    kind = column.type
    if isinstance(kind, AutoString) or (isinstance(kind, String) and not isinstance(kind, SAEnum)):
        # A blank text counts as missing.
        return or_(column.is_(None), func.trim(column) == "")
    return column.is_(None)


def _drill_incomplete(ctx: KpiContext, period: Period, limit: int) -> pd.DataFrame:
    groups = important_field_columns(ctx)
    checks: list[tuple[str, ColumnElement[bool]]] = [
        (name, _missing(name)) for name in groups["all"]
    ]
    for kind in ("organisation", "person"):
        checks += [
            (name, and_(Customer.kind == CustomerKind(kind), _missing(name)))
            for name in groups[kind]
        ]
    columns = [
        "customer_id",
        "customer_code",
        "customer_name",
        "kind",
        "missing_fields",
        "missing_count",
    ]
    if not checks:
        return _frame([], columns)
    flags = [case((condition, 1), else_=0) for _, condition in checks]
    missing_count = sum(flags[1:], flags[0])
    rows = ctx.session.exec(
        select(*_customer_columns(), Customer.kind, missing_count, *flags)
        .where(Customer.archived.is_(False), ctx.customers_in_scope(), or_(*[c for _, c in checks]))
        .order_by(missing_count.desc(), Customer.code)
        .limit(limit)
    ).all()
    return _frame(
        [
            (
                customer_id,
                code,
                name,
                _name(kind),
                ", ".join(field for (field, _), flag in zip(checks, values, strict=True) if flag),
                int(count),
            )
            for customer_id, code, name, kind, count, *values in rows
        ],
        columns,
    )


def _drill_untouched(ctx: KpiContext, period: Period, limit: int) -> pd.DataFrame:
    _, end = ctx.bounds(period)
    since_year = ctx.instant(period.end - dt.timedelta(days=365))
    untouched_days = int(ctx.settings.get("untouched_days") or 90)
    since_touch = ctx.instant(period.end - dt.timedelta(days=untouched_days))
    buyers = (
        select(Order.customer_id, func.max(Order.ordered_at).label("last_order_at"))
        .where(*ctx.counted_orders(since_year, end))
        .group_by(Order.customer_id)
        .subquery("buyers")
    )
    last_touch = (
        select(func.max(Interaction.occurred_at))
        .where(Interaction.customer_id == Customer.id, Interaction.occurred_at < end)
        .scalar_subquery()
    )
    touched = exists(
        select(Interaction.id).where(
            Interaction.customer_id == buyers.c.customer_id,
            Interaction.occurred_at >= since_touch,
            Interaction.occurred_at < end,
        )
    )
    columns = [
        "customer_id",
        "customer_code",
        "customer_name",
        "last_order_at",
        "last_interaction_at",
    ]
    statement = (
        select(*_customer_columns(), buyers.c.last_order_at, last_touch)
        .join(buyers, buyers.c.customer_id == Customer.id)
        .where(~touched)
        .order_by(buyers.c.last_order_at.desc(), Customer.code)
        .limit(limit)
    )
    frame = _rows(ctx, statement, columns, ["last_order_at"])
    if not frame.empty:
        # A MAX over a correlated subquery loses the column type on SQLite: parse it here.
        frame["last_interaction_at"] = [
            _local(ctx, _parse_time(value)) for value in frame["last_interaction_at"]
        ]
    return frame


def _parse_time(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


_CAMPAIGN_DRILL_COLUMNS = ["campaign_id", "campaign_name", "channel", "purpose"]
MARKETING_DRILL_COLUMNS = [
    *_CAMPAIGN_DRILL_COLUMNS,
    "start_date",
    "end_date",
    "actual_cost",
    "campaign_days",
    "days_in_period",
    "allocated_cost",
]
ROI_DRILL_COLUMNS = [
    *_CAMPAIGN_DRILL_COLUMNS,
    "allocated_cost",
    "attributed_orders",
    "attributed_revenue",
    "attributed_profit",
]
CAC_DRILL_COLUMNS = [
    "customer_id",
    "customer_code",
    "customer_name",
    "first_order_at",
    "channel",
    "first_order_campaign",
    "acquisition_cost_share",
]


def _campaign_costs(ctx: KpiContext, period: Period) -> list[dict[str, Any]]:
    """Every campaign overlapping the period with its cost allocated pro rata by days.

    Campaigns are company-wide, as in the marketing_cost KPI: customer filters do not
    apply. Shares are rounded per campaign, so their sum can differ from the KPI (which
    rounds the total) by a few hundredths.
    """
    campaigns = ctx.session.exec(
        select(
            Campaign.id,
            Campaign.name,
            Campaign.channel,
            Campaign.purpose,
            Campaign.start_date,
            Campaign.end_date,
            Campaign.actual_cost,
        )
        .where(Campaign.start_date < period.end, Campaign.end_date >= period.start)
        .order_by(Campaign.start_date, Campaign.id)
    ).all()
    rows = []
    for campaign_id, name, channel, purpose, first_day, last_day, cost in campaigns:
        inside = min(last_day + dt.timedelta(days=1), period.end) - max(first_day, period.start)
        rows.append(
            {
                "campaign_id": campaign_id,
                "campaign_name": name,
                "channel": _name(channel),
                "purpose": _name(purpose),
                "start_date": first_day,
                "end_date": last_day,
                "actual_cost": to_decimal(cost),
                "campaign_days": (last_day - first_day).days + 1,
                "days_in_period": max(inside.days, 0),
                "allocated_cost": _allocated(cost, first_day, last_day, period),
            }
        )
    return rows


def _drill_marketing_cost(ctx: KpiContext, period: Period, limit: int) -> pd.DataFrame:
    return _frame(_campaign_costs(ctx, period)[:limit], MARKETING_DRILL_COLUMNS)


def _drill_marketing_roi(ctx: KpiContext, period: Period, limit: int) -> pd.DataFrame:
    # ROI = (Σ attributed_profit − Σ allocated_cost) ÷ Σ allocated_cost: the campaigns
    # with a cost in the period, and those whose earlier work brought orders into it.
    start, end = ctx.bounds(period)
    costs = {row["campaign_id"]: row for row in _campaign_costs(ctx, period)}
    attributed = {
        campaign_id: (int(orders), to_decimal(revenue), to_decimal(margin))
        for campaign_id, orders, revenue, margin in ctx.session.exec(
            select(
                Order.campaign_id,
                func.count(Order.id),
                func.sum(Order.amount),
                func.sum(Order.amount - Order.cost),
            )
            .where(*ctx.counted_orders(start, end), Order.campaign_id.is_not(None))
            .group_by(Order.campaign_id)
        ).all()
    }
    campaigns = ctx.session.exec(
        select(Campaign.id, Campaign.name, Campaign.channel, Campaign.purpose)
        .where(Campaign.id.in_(set(costs) | set(attributed)))
        .order_by(Campaign.start_date, Campaign.id)
    ).all()
    rows = []
    for campaign_id, name, channel, purpose in campaigns:
        orders, revenue, margin = attributed.get(campaign_id, (0, ZERO, ZERO))
        cost = costs[campaign_id]["allocated_cost"] if campaign_id in costs else ZERO
        rows.append(
            {
                "campaign_id": campaign_id,
                "campaign_name": name,
                "channel": _name(channel),
                "purpose": _name(purpose),
                "allocated_cost": cost,
                "attributed_orders": orders,
                "attributed_revenue": revenue,
                "attributed_profit": margin,
            }
        )
    return _frame(rows[:limit], ROI_DRILL_COLUMNS)


def _drill_cac(ctx: KpiContext, period: Period, limit: int) -> pd.DataFrame:
    # CAC = acquisition-purpose cost ÷ new customers: the new customers, each with an
    # equal share of that cost (the shares add up to the cost, each equals the KPI); the
    # cost's campaigns are in the marketing_cost drill-down (purpose "acquisition").
    from app.kpi.finance import cac

    start, end = ctx.bounds(period)
    first = first_orders(ctx)
    ranked = (
        select(
            Order.customer_id,
            Order.campaign_id,
            func.row_number()
            .over(partition_by=Order.customer_id, order_by=(Order.ordered_at, Order.id))
            .label("rank"),
        )
        .where(*ctx.counted_orders(None, None))
        .subquery("first_order_rows")
    )
    statement = (
        select(*_customer_columns(), first.c.first_at, Customer.channel, Campaign.name)
        .join(first, first.c.customer_id == Customer.id)
        .join(ranked, and_(ranked.c.customer_id == Customer.id, ranked.c.rank == 1))
        .join(Campaign, Campaign.id == ranked.c.campaign_id, isouter=True)
        .where(first.c.first_at >= start, first.c.first_at < end)
        .order_by(first.c.first_at, Customer.code)
        .limit(limit)
    )
    frame = _rows(ctx, statement, CAC_DRILL_COLUMNS[:-1], ["first_order_at"])
    share = cac(ctx, period)
    if share is None or frame.empty:
        frame["acquisition_cost_share"] = pd.Series(dtype=object)
    else:
        frame["acquisition_cost_share"] = [share] * len(frame)
    return frame[CAC_DRILL_COLUMNS]


_DRILLDOWNS: dict[str, Callable[[KpiContext, Period, int], pd.DataFrame]] = {
    "active_customers": _drill_active,
    "new_customers": _drill_new,
    "churn_rate": _drill_churned,
    "lapsed_customers": _drill_lapsed,
    "revenue": _drill_orders,
    "orders_count": _drill_orders,
    "profit": _drill_orders,
    "open_past_sla": _drill_past_sla,
    "complaints_opened": _drill_complaints_opened,
    "pipeline_value": _drill_pipeline,
    "weighted_pipeline": _drill_pipeline,
    "win_rate": _drill_closed,
    "duplicate_rate": _drill_duplicates,
    "data_completeness": _drill_incomplete,
    "untouched_customer_rate": _drill_untouched,
    "marketing_cost": _drill_marketing_cost,
    "marketing_roi": _drill_marketing_roi,
    "cac": _drill_cac,
}
DRILLDOWN_KPIS: frozenset[str] = frozenset(_DRILLDOWNS)


def drilldown(ctx: KpiContext, *, kpi_id: str, period: Period, limit: int = 1000) -> pd.DataFrame:
    """The rows behind a KPI (at most ``limit``), with customer code and name columns."""
    if kpi_id not in _DRILLDOWNS:
        raise InvalidInput({"kpi": f"no drill-down for {kpi_id!r}"})
    _check_limit(limit)
    return _DRILLDOWNS[kpi_id](ctx, period, limit).reset_index(drop=True)
