"""The multi-period (batch) paths of compute_series equal the single-period KPI functions.

churn_rate / retention_rate, nps, open_past_sla and weighted_pipeline are computed for
many periods in one grouped query each (app/kpi/series_batch.py); every value must be
exactly what the registry's function gives for that period alone, on SQLite and
PostgreSQL, with filters, over months with data, partly empty and empty months, and
with the ties the single-period lookups break by id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from app.db import get_engine
from app.demo import seed_demo
from app.kpi.base import KpiContext, KpiFilters
from app.kpi.engine import compute_series
from app.kpi.period import Period, month_period
from app.kpi.registry import all_kpis
from app.kpi.series_batch import BATCHES, nps_series
from app.models import (
    Customer,
    Opportunity,
    OpportunityStageHistory,
    Stage,
    SurveyResponse,
)
from tests.unit.kpi.helpers import filter_sets

TODAY = dt.date(2026, 6, 15)
BATCHED = sorted(BATCHES)


def months_ending(last: dt.date, count: int = 12) -> list[Period]:
    """``count`` calendar months, oldest first, the last one containing ``last``."""
    months = [month_period(last)]
    while len(months) < count:
        months.append(month_period(months[-1].start - dt.timedelta(days=1)))
    return months[::-1]


SERIES = {
    # The overview's sparklines: the 12 months ending with the current, partial month.
    "last_12_months": months_ending(TODAY),
    # Half with data, half after it (stocks such as the open pipeline carry on).
    "into_the_future": months_ending(dt.date(2026, 12, 1)),
    # Before any record: every month empty.
    "before_the_data": months_ending(dt.date(2014, 12, 1)),
    # Irregular, non-contiguous periods of different lengths, one a single day.
    "irregular": [
        Period(dt.date(2025, 11, 3), dt.date(2025, 11, 10)),
        Period(dt.date(2026, 1, 1), dt.date(2026, 3, 1)),
        Period(dt.date(2026, 5, 10), dt.date(2026, 5, 11)),
        Period(dt.date(2026, 6, 1), dt.date(2026, 6, 16)),
    ],
}


@pytest.fixture
def demo_url(db_url: str) -> str:
    """The small demo dataset plus rows that tie on their timestamps."""
    engine = get_engine(db_url)
    seed_demo(engine=engine, scale="small", seed=7, today=TODAY)
    with Session(engine) as session:
        _add_ties(session)
    return db_url


def _add_ties(session: Session) -> None:
    """Rows whose order is decided by id: the single-period KPIs take the higher id."""
    customer_id = session.exec(select(Customer.id).order_by(Customer.id).limit(1)).one()[0]
    answered = dt.datetime(2026, 4, 10, 3, 0, tzinfo=dt.UTC)
    # Same customer, same instant: the later row (a detractor) is the latest answer.
    session.add(SurveyResponse(customer_id=customer_id, nps=10, answered_at=answered))
    session.add(SurveyResponse(customer_id=customer_id, nps=2, answered_at=answered))
    opportunity = session.exec(
        select(Opportunity).where(Opportunity.closed_at.is_(None)).order_by(Opportunity.id)
    ).first()[0]
    changed = dt.datetime(2026, 3, 5, 8, 0, tzinfo=dt.UTC)
    # Two changes at the same instant: the second (negotiation) is the stage after it.
    session.add(
        OpportunityStageHistory(
            opportunity_id=opportunity.id, to_stage=Stage.proposal, changed_at=changed
        )
    )
    session.add(
        OpportunityStageHistory(
            opportunity_id=opportunity.id, to_stage=Stage.negotiation, changed_at=changed
        )
    )
    session.commit()


def _one_by_one(session: Session, kpi_id: str, periods: list[Period], filters: KpiFilters) -> list:
    """The registry's function for each period in a fresh context (no shared memo)."""
    compute = all_kpis()[kpi_id].compute
    return [
        compute(KpiContext.create(session=session, filters=filters), period) for period in periods
    ]


def test_batches_equal_single_period_functions(demo_url: str) -> None:
    with Session(get_engine(demo_url)) as session:
        non_trivial: dict[str, set[Any]] = {kpi_id: set() for kpi_id in BATCHED}
        for filters in filter_sets(session):
            for name, periods in SERIES.items():
                ctx = KpiContext.create(session=session, filters=filters)
                for kpi_id in BATCHED:
                    batch = BATCHES[kpi_id](ctx, periods)
                    expected = _one_by_one(session, kpi_id, periods, filters)
                    assert batch == expected, (kpi_id, name, filters)
                    non_trivial[kpi_id].update(value for value in batch if value)
                    if name == "before_the_data":
                        assert all(not value for value in batch), (kpi_id, batch)
        # The comparison is not vacuous: every KPI took several non-zero values.
        assert all(len(values) > 3 for values in non_trivial.values()), non_trivial


def test_compute_series_uses_batches_and_matches_reference(demo_url: str) -> None:
    ids = ["revenue", "active_customers", *BATCHED, "csat_avg"]
    with Session(get_engine(demo_url)) as session:
        for filters in filter_sets(session):
            for periods in (SERIES["last_12_months"], SERIES["into_the_future"]):
                fast = compute_series(session, ids, periods, filters)
                reference = compute_series(session, ids, periods, filters, use_summaries=False)
                assert fast == reference, filters
                assert all(len(values) == len(periods) for values in fast.values())


def test_overlapping_periods_fall_back_and_stay_exact(demo_url: str) -> None:
    # An answer belongs to two of these periods, so NPS cannot bucket it: the series is
    # computed period by period; the others batch any periods (ends, previous periods).
    periods = [
        Period(dt.date(2026, 1, 1), dt.date(2026, 4, 1)),
        Period(dt.date(2026, 3, 1), dt.date(2026, 6, 1)),
        Period(dt.date(2026, 3, 1), dt.date(2026, 6, 1)),  # a duplicate
    ]
    with Session(get_engine(demo_url)) as session:
        ctx = KpiContext.create(session=session)
        assert nps_series(ctx, periods) is None
        for kpi_id in BATCHED:
            expected = _one_by_one(session, kpi_id, periods, KpiFilters())
            assert compute_series(session, [kpi_id], periods)[kpi_id] == expected, kpi_id


def test_ties_are_broken_by_id(demo_url: str) -> None:
    april = month_period(dt.date(2026, 4, 1))
    with Session(get_engine(demo_url)) as session:
        ctx = KpiContext.create(session=session)
        assert nps_series(ctx, [april]) == _one_by_one(session, "nps", [april], KpiFilters())
        # The opportunity with the tied changes counts in negotiation at March's end.
        march = month_period(dt.date(2026, 3, 1))
        assert BATCHES["weighted_pipeline"](ctx, [march]) == _one_by_one(
            session, "weighted_pipeline", [march], KpiFilters()
        )
