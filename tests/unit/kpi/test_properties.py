"""Properties of the KPIs on generated data (SQLite only, built inside each example)."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlmodel import Session

from app.db import get_engine
from app.kpi.base import KpiContext
from app.kpi.engine import compute
from app.kpi.period import Period
from app.kpi.rfm import rfm_table
from app.models import (
    Complaint,
    Customer,
    Interaction,
    Order,
    OrderStatus,
    Setting,
    SurveyResponse,
)
from app.settings import set_setting

from .helpers import add_answer, add_complaint, add_customers, add_interaction, add_order, utc

FAST = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ADDITIVE = [
    "revenue",
    "orders_count",
    "profit",
    "new_customers",
    "complaints_opened",
    "interactions_logged",
]
FIRST_DAY = dt.date(2026, 1, 1)
CUSTOMERS = range(1, 7)
STATUSES = [OrderStatus.paid, OrderStatus.confirmed, OrderStatus.cancelled, OrderStatus.draft]

# An event: (customer, minutes after 00:00 UTC 31 Dec 2025, amount in thousands, flag).
events = st.lists(
    st.tuples(
        st.sampled_from(list(CUSTOMERS)),
        st.integers(min_value=0, max_value=95 * 24 * 60),
        st.integers(min_value=0, max_value=5000),
        st.integers(min_value=0, max_value=10),
    ),
    max_size=30,
)


def fresh(session: Session) -> None:
    """Empty the tables an example writes to (examples share the test's database)."""
    for table in (SurveyResponse, Complaint, Interaction, Order, Customer, Setting):
        session.exec(delete(table))
    session.commit()
    add_customers(session, *CUSTOMERS)


def at(minutes: int) -> dt.datetime:
    return utc(2025, 12, 31) + dt.timedelta(minutes=minutes)


def insert(session: Session, rows: list[tuple[int, int, int, int]]) -> None:
    for number, (customer, minutes, amount, flag) in enumerate(rows, start=1):
        status = STATUSES[flag % len(STATUSES)]
        add_order(session, number, customer, at(minutes), amount * 1000, amount * 600, status)
        if flag % 3 == 0:
            add_complaint(session, number, customer, at(minutes + 7))
        if flag % 2 == 0:
            add_interaction(session, number, customer, at(minutes + 13))
        add_answer(session, number, customer, at(minutes), nps=flag, csat=1 + flag % 5)
    session.commit()


@FAST
@given(rows=events, length=st.integers(2, 90), split=st.integers(min_value=1, max_value=89))
def test_additive_kpis_split_at_any_day(
    sqlite_url: str, rows: list[tuple[int, int, int, int]], length: int, split: int
) -> None:
    """KPI over [a, c) == KPI over [a, b) + KPI over [b, c) for any day b strictly inside."""
    end = FIRST_DAY + dt.timedelta(days=length)
    middle = FIRST_DAY + dt.timedelta(days=min(split, length - 1))
    whole, first, second = Period(FIRST_DAY, end), Period(FIRST_DAY, middle), Period(middle, end)
    with Session(get_engine(sqlite_url), expire_on_commit=False) as session:
        fresh(session)
        insert(session, rows)
        totals = {
            part: {r.id: r.value for r in compute(session, ADDITIVE, part, None, None).kpis}
            for part in (whole, first, second)
        }
    for kpi_id in ADDITIVE:
        assert totals[whole][kpi_id] == totals[first][kpi_id] + totals[second][kpi_id], kpi_id


@FAST
@given(rows=events, start_day=st.integers(min_value=0, max_value=60), length=st.integers(1, 40))
def test_churn_plus_retention_is_one_and_nps_in_range(
    sqlite_url: str, rows: list[tuple[int, int, int, int]], start_day: int, length: int
) -> None:
    with Session(get_engine(sqlite_url), expire_on_commit=False) as session:
        fresh(session)
        insert(session, rows)
        start = FIRST_DAY + dt.timedelta(days=start_day)
        period = Period(start, start + dt.timedelta(days=length))
        got = compute(session, ["churn_rate", "retention_rate", "nps"], period, None, None).by_id()
        churn, retention = got["churn_rate"].value, got["retention_rate"].value
        assert (churn is None) == (retention is None)
        if churn is not None:
            assert abs(churn + retention - 1.0) < 1e-12
            assert 0.0 <= churn <= 1.0
        nps = got["nps"].value
        if nps is not None:
            assert -100.0 <= nps <= 100.0


def expected_score(value: float, column: list[float], bins: int, *, ascending: bool) -> int:
    """ceil(bins x rank / n), rank 1-based with ties at the lowest rank (kpis.md, RFM)."""
    if ascending:
        rank = 1 + sum(1 for other in column if other < value)
    else:  # recency: the most recent (fewest days) ranks highest
        rank = 1 + sum(1 for other in column if other > value)
    return -(-bins * rank // len(column))


@FAST
@given(
    rows=events,
    bins=st.integers(min_value=2, max_value=7),
    weights=st.tuples(*[st.sampled_from([0, 0.5, 1, 2, 3])] * 3),
)
def test_rfm_scores_and_settings(
    sqlite_url: str,
    rows: list[tuple[int, int, int, int]],
    bins: int,
    weights: tuple[float, float, float],
) -> None:
    as_of = dt.date(2026, 4, 5)
    with Session(get_engine(sqlite_url), expire_on_commit=False) as session:
        fresh(session)
        insert(session, rows)
        default = rfm_table(KpiContext.create(session=session), as_of=as_of)
        set_setting(session=session, key="rfm_bins", value=bins)
        w_r, w_f, w_m = weights
        set_setting(session=session, key="rfm_weights", value={"r": w_r, "f": w_f, "m": w_m})
        table = rfm_table(KpiContext.create(session=session), as_of=as_of)
    counted = {c for c, _, _, flag in rows if STATUSES[flag % 4] in (STATUSES[0], STATUSES[1])}
    assert set(table["customer_id"]) == counted
    assert len(default) == len(table)
    if table.empty:
        return
    recency = list(table["recency_days"])
    frequency = list(table["frequency"])
    monetary = list(table["monetary"])
    for _, row in table.iterrows():
        for column in ("r_score", "f_score", "m_score"):
            assert 1 <= row[column] <= bins
        assert row["r_score"] == expected_score(row["recency_days"], recency, bins, ascending=False)
        assert row["f_score"] == expected_score(row["frequency"], frequency, bins, ascending=True)
        assert row["m_score"] == expected_score(row["monetary"], monetary, bins, ascending=True)
        assert row["weighted_score"] == w_r * row["r_score"] + w_f * row["f_score"] + (
            w_m * row["m_score"]
        )
    for column in ("r_score", "f_score", "m_score"):
        assert default[column].between(1, 5).all()
    # Segment sizes add up to the customers whatever the bins.
    assert table["segment"].value_counts(dropna=False).sum() == len(table)
    # A best monetary value held by one customer gets the top score (ties share the
    # lowest rank, so when everybody spent the same nobody is "top").
    if (table["monetary"] == table["monetary"].max()).sum() == 1:
        assert table["m_score"].max() == bins
        assert default["m_score"].max() == 5
