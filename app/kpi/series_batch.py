"""Several periods of one KPI in one grouped query, for series such as the sparklines.

Each function here returns, for a list of periods, exactly what the KPI's single-period
function in the registry returns for each of them (tests/unit/kpi/test_series_batch.py
compares them), but reads the rows once instead of once per period:

- ``churn_rate`` / ``retention_rate``: one UNION ALL with, per period, one pass over the
  previous period's ``kpi_order_day`` rows counting its customers and those also active
  in the period;
- ``nps``: each answer is bucketed into its period with a CASE, then ranked per
  (period, customer), so one scan of the answers in the span gives every period;
- ``open_past_sla``: the complaints possibly open at any period end are read once, with
  one conditional count per period end;
- ``weighted_pipeline``: each stage-history row of an opportunity possibly open at a
  period end gets the time of the next change (LEAD), so "the stage at instant T" is
  the row with changed_at < T <= next change; rows are grouped by the range of period
  ends at which they count.

The filters apply as in the single-period functions (``ctx.in_scope``). Measurements
and limits: docs/performance.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, and_, case, distinct, func, literal, or_, union_all
from sqlmodel import select

from app.models import (
    OPEN_STAGES,
    Complaint,
    KpiOrderDay,
    Opportunity,
    OpportunityStageHistory,
    SurveyResponse,
)

from .base import KpiContext, ratio, to_decimal
from .period import Period

BatchFunction = Callable[[KpiContext, list[Period]], list[Any] | None]


def _disjoint(periods: list[Period]) -> bool:
    ordered = sorted(periods)
    return all(left.end <= right.start for left, right in zip(ordered, ordered[1:], strict=False))


def _retained_and_base(ctx: KpiContext, periods: list[Period]) -> dict[Period, tuple[int, int]]:
    """Period → (|active(P') ∩ active(P)|, |active(P')|) for its previous period P'.

    One statement: per period, one pass over the previous period's days (day index)
    counts its customers and those also in the period's set (built once per period).
    """
    unique = sorted(set(periods))
    customer = KpiOrderDay.customer_id
    pieces = []
    for number, period in enumerate(unique):
        previous = period.previous()
        active_now = select(customer).where(*ctx.order_days_in(period.start, period.end))
        pieces.append(
            select(
                literal(number, Integer).label("number"),
                func.count(distinct(case((customer.in_(active_now), customer)))),
                func.count(distinct(customer)),
            ).where(*ctx.order_days_in(previous.start, previous.end))
        )
    rows = ctx.session.exec(union_all(*pieces)).all()
    found = {int(number): (int(retained), int(base)) for number, retained, base in rows}
    return {period: found[number] for number, period in enumerate(unique)}


def churn_rate_series(ctx: KpiContext, periods: list[Period]) -> list[float | None] | None:
    """``churn_rate`` of every period; None when the summaries cannot answer."""
    if not ctx.summaries():
        return None
    counts = ctx.memo(("retained_series", tuple(periods)), lambda: _retained_and_base(ctx, periods))
    return [ratio(counts[p][1] - counts[p][0], counts[p][1]) for p in periods]


def retention_rate_series(ctx: KpiContext, periods: list[Period]) -> list[float | None] | None:
    """``retention_rate`` of every period; None when the summaries cannot answer."""
    if not ctx.summaries():
        return None
    counts = ctx.memo(("retained_series", tuple(periods)), lambda: _retained_and_base(ctx, periods))
    return [ratio(counts[p][0], counts[p][1]) for p in periods]


def nps_series(ctx: KpiContext, periods: list[Period]) -> list[float | None] | None:
    """``nps`` of every period; None when periods overlap (an answer has one bucket)."""
    unique = sorted(set(periods))
    if not _disjoint(unique):
        return None
    bounds = [ctx.bounds(period) for period in unique]
    answered = SurveyResponse.answered_at
    # The periods are sorted and disjoint: one comparison per period end, plus one per
    # gap before a period (answers in a gap belong to no period).
    arms: list[tuple[Any, int | None]] = []
    for number, (start, end) in enumerate(bounds):
        if number and start != bounds[number - 1][1]:
            arms.append((answered < start, None))
        arms.append((answered < end, number))
    bucket = case(*arms, else_=None)
    ranked = (
        select(
            bucket.label("bucket"),
            SurveyResponse.nps,
            func.row_number()
            .over(
                partition_by=(bucket, SurveyResponse.customer_id),
                order_by=(answered.desc(), SurveyResponse.id.desc()),
            )
            .label("rank"),
        )
        .where(
            answered >= min(start for start, _ in bounds),
            answered < max(end for _, end in bounds),
            SurveyResponse.nps.is_not(None),
            ctx.in_scope(SurveyResponse.customer_id),
        )
        .subquery()
    )
    rows = ctx.session.exec(
        select(
            ranked.c.bucket,
            func.count().filter(ranked.c.nps >= 9),
            func.count().filter(ranked.c.nps <= 6),
            func.count(),
        )
        .where(ranked.c.rank == 1, ranked.c.bucket.is_not(None))
        .group_by(ranked.c.bucket)
    ).all()
    counts = {
        int(number): (promoters, detractors, total) for number, promoters, detractors, total in rows
    }
    values: dict[Period, float | None] = {}
    for number, period in enumerate(unique):
        promoters, detractors, total = counts.get(number, (0, 0, 0))
        share = ratio(promoters - detractors, total)
        values[period] = None if share is None else share * 100
    return [values[period] for period in periods]


def open_past_sla_series(ctx: KpiContext, periods: list[Period]) -> list[int]:
    """``open_past_sla`` at the end of every period."""
    from .operations import sla_hours

    ends = sorted({ctx.bounds(period)[1] for period in periods})
    limits = sla_hours(ctx)

    def past_sla_at(instant: Any) -> Any:
        overdue = or_(
            *[
                and_(
                    Complaint.severity == severity,
                    Complaint.opened_at < instant - dt.timedelta(hours=limit),
                )
                for severity, limit in limits.items()
            ]
        )
        return and_(
            Complaint.opened_at < instant,
            or_(Complaint.resolved_at.is_(None), Complaint.resolved_at >= instant),
            overdue,
        )

    counts = ctx.session.exec(
        select(*[func.count(Complaint.id).filter(past_sla_at(end)) for end in ends]).where(
            # Possibly open at some end: unresolved, or resolved after the first end
            # (a union so each half uses the resolved_at index, as the single-period KPI).
            Complaint.id.in_(
                union_all(
                    select(Complaint.id).where(Complaint.resolved_at.is_(None)),
                    select(Complaint.id).where(Complaint.resolved_at >= ends[0]),
                )
            ),
            Complaint.opened_at < ends[-1],
            ctx.in_scope(Complaint.customer_id),
        )
    ).one()
    by_end = {end: int(count or 0) for end, count in zip(ends, counts, strict=True)}
    return [by_end[ctx.bounds(period)[1]] for period in periods]


def weighted_pipeline_series(ctx: KpiContext, periods: list[Period]) -> list[Decimal]:
    """``weighted_pipeline`` at the end of every period."""
    ends = sorted({ctx.bounds(period)[1] for period in periods})
    first, last = ends[0], ends[-1]
    # Opportunities possibly open at some end: unresolved or closed after the first end
    # (a union so each half uses the closed_at index, as the single-period lookup).
    candidates = select(Opportunity.id).where(
        Opportunity.id.in_(
            union_all(
                select(Opportunity.id).where(Opportunity.closed_at.is_(None)),
                select(Opportunity.id).where(Opportunity.closed_at >= first),
            )
        ),
        Opportunity.created_at < last,
        ctx.in_scope(Opportunity.customer_id),
    )
    history = OpportunityStageHistory
    # A change is the stage at T when changed_at < T <= the next change (ties on
    # changed_at are ordered by id, as the single-period lookup orders them).
    changes = (
        select(
            history.opportunity_id,
            history.to_stage,
            history.changed_at,
            func.lead(history.changed_at)
            .over(
                partition_by=history.opportunity_id,
                order_by=(history.changed_at, history.id),
            )
            .label("next_at"),
        )
        .where(history.opportunity_id.in_(candidates), history.changed_at < last)
        .subquery()
    )
    # The change counts at the ends numbered first_in .. first_out - 1 (ends are sorted):
    # from the first end after both the change and the creation to the first end after
    # the next change or the closing; a CASE per bound, not a condition per end and row.
    first_in = case(
        *[
            (and_(changes.c.changed_at < end, Opportunity.created_at < end), number)
            for number, end in enumerate(ends)
        ],
        else_=len(ends),
    )
    first_out = case(
        *[
            (or_(changes.c.next_at < end, Opportunity.closed_at < end), number)
            for number, end in enumerate(ends)
        ],
        else_=len(ends),
    )
    rows = ctx.session.exec(
        select(changes.c.to_stage, first_in, first_out, func.sum(Opportunity.amount))
        .join(Opportunity, Opportunity.id == changes.c.opportunity_id)
        .where(
            changes.c.to_stage.in_([stage.value for stage in OPEN_STAGES]),
            or_(changes.c.next_at.is_(None), changes.c.next_at >= first),
        )
        .group_by(changes.c.to_stage, first_in, first_out)
    ).all()
    # (stage, end index) → Σ amount, then × the stage probability as the KPI does.
    amounts: dict[tuple[str, int], Decimal] = {}
    for stage, first_index, last_index, amount in rows:
        key = getattr(stage, "value", stage)
        for number in range(int(first_index), int(last_index)):
            amounts[key, number] = amounts.get((key, number), Decimal(0)) + Decimal(str(amount))
    probabilities = ctx.settings.get("stage_probabilities") or {}
    totals = [Decimal("0.00") for _ in ends]
    for (stage, number), amount in amounts.items():
        probability = Decimal(str(probabilities.get(stage, 0)))
        totals[number] += to_decimal(amount) * probability
    by_end = dict(zip(ends, totals, strict=True))
    return [by_end[ctx.bounds(period)[1]].quantize(Decimal("0.01")) for period in periods]


BATCHES: dict[str, BatchFunction] = {
    "churn_rate": churn_rate_series,
    "retention_rate": retention_rate_series,
    "nps": nps_series,
    "open_past_sla": open_past_sla_series,
    "weighted_pipeline": weighted_pipeline_series,
}


def batch_series(
    ctx: KpiContext, kpi_ids: list[str], periods: list[Period]
) -> dict[str, list[Any]]:
    """KPI id → its values over ``periods`` for the KPIs computed in bulk here; KPIs
    missing from the result are computed period by period by the caller."""
    if not periods:
        return {}
    found: dict[str, list[Any]] = {}
    for kpi_id in kpi_ids:
        batch = BATCHES.get(kpi_id)
        values = batch(ctx, periods) if batch else None
        if values is not None:
            found[kpi_id] = values
    return found
