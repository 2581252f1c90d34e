"""Reads spread over several connections (app.kpi.concurrent) give exactly the serial
results, really run side by side where the database allows it, and fall back to one
connection where it does not (an in-memory SQLite database)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, select

from app.db import get_engine
from app.demo import seed_demo
from app.kpi.base import KpiFilters
from app.kpi.concurrent import query_workers, reads_concurrently, run_concurrently
from app.kpi.engine import compute, compute_concurrently
from app.kpi.period import month_period
from app.models import Customer, User

TODAY = dt.date(2026, 6, 15)


@pytest.fixture
def demo_url(db_url: str) -> str:
    seed_demo(engine=get_engine(db_url), scale="small", seed=7, today=TODAY)
    return db_url


def test_concurrent_report_equals_the_serial_one(demo_url: str) -> None:
    engine = get_engine(demo_url)
    with Session(engine) as session:
        segment = session.exec(
            select(Customer.segment).where(Customer.segment.is_not(None))
        ).first()
        staff_id = session.exec(select(User.id).where(User.username == "staff1")).one()
    period = month_period(TODAY)
    for filters, compare in (
        (KpiFilters(), "previous"),
        (KpiFilters(segment=segment), "last_year"),
        (KpiFilters(visible_to_owner_id=staff_id), "target"),
    ):
        with Session(engine) as session:
            serial = compute(session, None, period, filters, compare)
        spread = compute_concurrently(engine, None, period, filters, compare, workers=4)
        assert [r.id for r in spread.kpis] == [r.id for r in serial.kpis]
        # Every value, comparison, target and detail, KPI by KPI.
        assert spread.kpis == serial.kpis
        assert spread.compare_period == serial.compare_period
    # A subset keeps the order asked for, slow KPIs included.
    ids = ["duplicate_rate", "revenue", "untouched_customer_rate", "nps"]
    report = compute_concurrently(engine, ids, period, KpiFilters(), workers=3)
    assert [r.id for r in report.kpis] == ids


def test_tasks_run_side_by_side_on_a_shared_database(db_url: str) -> None:
    engine = get_engine(db_url)
    assert reads_concurrently(engine)
    # Both tasks must be inside at once to pass the barrier: a serial run would time out.
    barrier = threading.Barrier(2, timeout=10)

    def task(session: Session, index: int) -> tuple[int, int]:
        barrier.wait()
        return index, session.exec(select(Customer.id).limit(1)).all().__len__()

    results = run_concurrently(engine, [lambda s, i=i: task(s, i) for i in range(2)], workers=2)
    assert [index for index, _ in results] == [0, 1]


def test_an_in_memory_database_is_read_on_one_connection() -> None:
    engine = create_engine("sqlite://")
    assert not reads_concurrently(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        connection.exec_driver_sql("INSERT INTO t VALUES (1), (2)")
    # Another connection would see an empty database without the table.
    results = run_concurrently(
        engine,
        [
            lambda s: threading.current_thread().name,
            lambda s: s.connection().exec_driver_sql("SELECT count(*) FROM t").scalar(),
        ],
        workers=4,
    )
    assert results == [threading.current_thread().name, 2]


def test_the_first_error_is_raised(db_url: str) -> None:
    engine = get_engine(db_url)

    def fails(session: Session) -> None:
        raise ValueError("task failed")

    with pytest.raises(ValueError, match="task failed"):
        run_concurrently(engine, [lambda s: 1, fails, lambda s: 3], workers=3)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("3", 3), ("1", 1), ("0", 1), ("99", 8), ("abc", None), ("", None), ("²", None)],
)
def test_query_workers_from_the_environment(
    raw: str, expected: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_QUERY_WORKERS", raw)
    workers = query_workers()
    if expected is None:
        assert 2 <= workers <= 4  # the default: one per core, at least 2, at most 4
    else:
        assert workers == expected
