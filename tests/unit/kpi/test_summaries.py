"""KPIs read from the summary tables equal the KPIs computed from the raw rows.

The small demo dataset is seeded, then changed through every write path (services,
the importer, a merge, archive/restore, status changes, raw SQL deletes, a rollback);
after each step the trigger-maintained summaries must equal a rebuild from scratch and
every summary-backed KPI must equal its raw-row computation, over several periods
(including empty ones) and filters.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.db import create_raw_engine, get_engine, migrate
from app.demo import seed_demo
from app.kpi.analyses_sales import revenue_profit_series, series
from app.kpi.base import KpiContext
from app.kpi.engine import compute, compute_series
from app.kpi.overview import OVERVIEW_KPIS
from app.kpi.period import Period, month_period
from app.kpi.summaries import SUMMARY_SERIES_KPIS, rebuild_summaries, summaries_usable
from app.models import (
    Customer,
    KpiCustomerFact,
    KpiOrderDay,
    Order,
    OrderLine,
    OrderStatus,
    Product,
)
from app.services.access import Actor
from app.services.customers import set_customer_archived, update_customer
from app.services.merge import merge_customers
from app.services.sales import create_order, update_order
from app.settings import set_setting
from app.transfer import import_rows
from tests.unit.kpi.helpers import filter_sets

TODAY = dt.date(2026, 6, 15)
ADMIN = Actor.system()

# Every KPI that reads kpi_order_day or kpi_customer_fact (directly or via active/new).
SUMMARY_KPIS = [
    "customers_total",
    "active_customers",
    "new_customers",
    "new_customer_rate",
    "retention_rate",
    "churn_rate",
    "lapsed_customers",
    "loyal_customer_rate",
    "repeat_purchase_rate",
    "referral_rate",
    "complaint_recovery_rate",
    "revenue",
    "acquisition_rate",
    "returning_revenue_share",
    "dissatisfaction_rate",
    "orders_count",
    "avg_order_value",
    "revenue_per_customer",
    "profit",
    "gross_margin",
    "cac",
    "customer_lifetime_value",
    "old_customers",
    "complaint_rate",
    "feedback_coverage",
    "untouched_customer_rate",
]
PERIODS = [
    month_period(TODAY),  # the current month, data up to the 15th
    month_period(dt.date(2026, 2, 1)),  # 28 days: its previous period is not a month
    Period(dt.date(2025, 1, 1), dt.date(2026, 1, 1)),
    Period(dt.date(2026, 5, 10), dt.date(2026, 5, 11)),  # a single day
    month_period(dt.date(2015, 1, 1)),  # before any order: empty
    month_period(dt.date(2027, 3, 1)),  # after the data: empty
]


@pytest.fixture
def demo_url(db_url: str) -> str:
    """The fresh database of ``db_url`` with the small demo dataset."""
    seed_demo(engine=get_engine(db_url), scale="small", seed=7, today=TODAY)
    return db_url


def assert_kpis_match_raw(session: Session, periods: list[Period] = PERIODS) -> int:
    """Compare every summary-backed KPI with its raw computation; return comparisons.

    The first two periods are also compared with their previous periods.
    """
    checked = 0
    for filters in filter_sets(session):
        assert KpiContext.create(session=session, filters=filters).summaries()
        for index, period in enumerate(periods):
            compare = "previous" if index < 2 else None
            fast = compute(session, SUMMARY_KPIS, period, filters, compare)
            raw = compute(session, SUMMARY_KPIS, period, filters, compare, use_summaries=False)
            for ours, reference in zip(fast.kpis, raw.kpis, strict=True):
                context = (ours.id, period, filters)
                assert ours.value == reference.value, context
                assert ours.compare_value == reference.compare_value, context
                checked += 1
    return checked


def assert_series_match_raw(session: Session) -> None:
    """Monthly/weekly series and the overview's multi-period series equal the raw ones."""
    span = Period(dt.date(2025, 11, 20), dt.date(2026, 6, 16))
    for filters in filter_sets(session):
        for kpi_id in sorted(SUMMARY_SERIES_KPIS):
            for grain in ("month", "week"):
                fast = series(
                    KpiContext.create(session=session, filters=filters),
                    kpi_id=kpi_id,
                    period=span,
                    grain=grain,
                )
                raw = series(
                    KpiContext.create(session=session, filters=filters, use_summaries=False),
                    kpi_id=kpi_id,
                    period=span,
                    grain=grain,
                )
                pd.testing.assert_frame_equal(fast, raw)
        # The Overview's trend: revenue and profit in one pass, equal to the two series.
        both = revenue_profit_series(
            KpiContext.create(session=session, filters=filters), period=span
        )
        raw_both = revenue_profit_series(
            KpiContext.create(session=session, filters=filters, use_summaries=False), period=span
        )
        pd.testing.assert_frame_equal(both, raw_both)
        for kpi_id in ("revenue", "profit"):
            alone = series(
                KpiContext.create(session=session, filters=filters, use_summaries=False),
                kpi_id=kpi_id,
                period=span,
            )
            assert list(both["bucket_start"]) == list(alone["bucket_start"])
            assert list(both[kpi_id]) == list(alone["value"])
    months = [month_period(dt.date(2026, month, 1)) for month in range(1, 7)]
    fast_series = compute_series(session, OVERVIEW_KPIS, months)
    raw_series = compute_series(session, OVERVIEW_KPIS, months, use_summaries=False)
    assert fast_series == raw_series
    by_month = [compute(session, OVERVIEW_KPIS, month, None, None).by_id() for month in months]
    assert fast_series == {
        kpi_id: [report[kpi_id].value for report in by_month] for kpi_id in OVERVIEW_KPIS
    }


def _summary_rows(session: Session) -> tuple[list, list]:
    days = session.execute(
        select(
            KpiOrderDay.customer_id,
            KpiOrderDay.day,
            KpiOrderDay.orders,
            KpiOrderDay.revenue,
            KpiOrderDay.cost,
        ).order_by(KpiOrderDay.customer_id, KpiOrderDay.day)
    ).all()
    facts = session.execute(
        select(
            KpiCustomerFact.customer_id,
            KpiCustomerFact.first_day,
            KpiCustomerFact.last_day,
            KpiCustomerFact.order_days,
            KpiCustomerFact.orders,
            KpiCustomerFact.revenue,
        ).order_by(KpiCustomerFact.customer_id)
    ).all()
    return (
        [(c, d, n, Decimal(r).quantize(Decimal("0.01")), Decimal(k)) for c, d, n, r, k in days],
        [(*fact[:5], Decimal(fact[5]).quantize(Decimal("0.01"))) for fact in facts],
    )


def assert_summaries_equal_rebuild(session: Session) -> None:
    """The trigger-maintained tables hold exactly what a rebuild from sales_order gives."""
    session.commit()
    maintained = _summary_rows(session)
    rebuild_summaries(session.connection())
    rebuilt = _summary_rows(session)
    session.rollback()
    assert maintained == rebuilt
    assert maintained[0], "the summaries are empty"


def _order(customer_id: int, product_id: int, ordered_at: dt.datetime, **extra: Any) -> dict:
    return {
        "customer_id": customer_id,
        "ordered_at": ordered_at,
        "status": OrderStatus.paid,
        "lines": [
            {"product_id": product_id, "quantity": "2", "unit_price": "150000.50", "unit_cost": "1"}
        ],
        **extra,
    }


def test_summaries_follow_every_write_path_and_equal_the_raw_kpis(demo_url: str) -> None:
    with Session(get_engine(demo_url), expire_on_commit=False) as session:
        assert_summaries_equal_rebuild(session)

        product = session.execute(select(Product.id).limit(1)).scalar_one()
        first, second, third, fourth = session.execute(
            select(Customer.id).order_by(Customer.id).limit(4)
        ).scalars()
        # Service writes: new counted orders (one at local midnight, the day boundary),
        # a draft that becomes confirmed, a paid order that is cancelled.
        midnight = dt.datetime(2026, 6, 1, 17, 0, tzinfo=dt.UTC)  # 00:00 local 2 June
        create_order(session=session, data=_order(first, product, midnight), actor=ADMIN)
        just_before = midnight - dt.timedelta(microseconds=1)  # still 1 June locally
        create_order(session=session, data=_order(first, product, just_before), actor=ADMIN)
        draft = create_order(
            session=session,
            data=_order(second, product, midnight, status=OrderStatus.draft),
            actor=ADMIN,
        )
        update_order(session=session, order_id=draft.id, data={"status": "confirmed"}, actor=ADMIN)
        paid = session.execute(
            select(Order.id).where(Order.status == OrderStatus.paid).order_by(Order.id).limit(1)
        ).scalar_one()
        update_order(session=session, order_id=paid, data={"status": "cancelled"}, actor=ADMIN)
        # A filter dimension changes: the customer's rows follow it at read time.
        update_customer(
            session=session, customer_id=third, data={"segment": "vip-test"}, actor=ADMIN
        )
        set_customer_archived(session=session, customer_id=fourth, archived=True, actor=ADMIN)
        set_customer_archived(session=session, customer_id=fourth, archived=False, actor=ADMIN)
        assert_summaries_equal_rebuild(session)

        # The bulk importer (core inserts) for an existing customer's code.
        code = session.execute(select(Customer.code).where(Customer.id == third)).scalar_one()
        product_code = session.execute(
            select(Product.code).where(Product.id == product)
        ).scalar_one()
        result = import_rows(
            session=session,
            actor=ADMIN,
            entity="orders",
            headers=[
                "order_code",
                "customer_code",
                "ordered_at",
                "status",
                "product_code",
                "quantity",
                "unit_price",
                "unit_cost",
            ],
            rows=[
                ["IMP-1", code, "2026-06-03 08:00", "paid", product_code, "1", "99", "10"],
                ["IMP-2", code, "2026-05-03 08:00", "delivered", product_code, "3", "5", "1"],
            ],
        )
        assert not result.errors
        # A merge moves every order of the duplicate onto the survivor.
        merge_customers(session=session, actor=ADMIN, survivor_id=first, duplicate_id=second)
        assert_summaries_equal_rebuild(session)

        # Raw SQL: a bulk status change, a moved order date and deletes.
        session.execute(
            update(Order)
            .where(Order.customer_id == third)
            .values(status=OrderStatus.cancelled.value)
        )
        session.execute(
            update(Order)
            .where(Order.customer_id == fourth)
            .values(ordered_at=dt.datetime(2026, 2, 10, 3, 0, tzinfo=dt.UTC))
        )
        doomed = (
            session.execute(select(Order.id).order_by(Order.id.desc()).limit(5)).scalars().all()
        )
        session.execute(delete(OrderLine).where(OrderLine.order_id.in_(doomed)))
        session.execute(delete(Order).where(Order.id.in_(doomed)))
        session.commit()
        # A rolled-back write leaves no trace in the summaries.
        create_order(session=session, data=_order(fourth, product, midnight), actor=ADMIN)
        before = _summary_rows(session)
        session.execute(delete(OrderLine))
        session.execute(delete(Order).where(Order.customer_id == fourth))
        session.rollback()
        assert _summary_rows(session) == before
        assert_summaries_equal_rebuild(session)
        assert assert_kpis_match_raw(session) > 300
        assert_series_match_raw(session)

        # A time zone change: the KPIs fall back to the raw rows until a rebuild.
        set_setting(session=session, key="timezone", value="Asia/Tokyo")
        ctx = KpiContext.create(session=session)
        assert not ctx.summaries()
        # Still correct: every KPI reads the raw rows.
        raw = compute(session, SUMMARY_KPIS, PERIODS[0], None, "previous", use_summaries=False)
        auto = compute(session, SUMMARY_KPIS, PERIODS[0], None, "previous")
        assert [k.value for k in auto.kpis] == [k.value for k in raw.kpis]
        rebuild_summaries(session.connection())
        session.commit()
        assert summaries_usable(session.connection(), ctx.tz)
        assert_summaries_equal_rebuild(session)
        assert_kpis_match_raw(session, PERIODS[:1])
        assert_series_match_raw(session)


def _insert_orders(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            Customer.__table__.insert(),
            [
                {
                    "id": 1,
                    "code": "C1",
                    "name": "An",
                    "kind": "person",
                    "archived": False,
                    "created_at": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
                    "updated_at": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
                }
            ],
        )
        rows = [
            # 23:30 local 31 March (16:30Z) and 00:30 local 1 April (17:30Z): two days.
            ("O1", dt.datetime(2026, 3, 31, 16, 30), "paid", "100.10"),
            ("O2", dt.datetime(2026, 3, 31, 17, 30), "confirmed", "50.05"),
            ("O3", dt.datetime(2026, 4, 2, 1, 0), "cancelled", "999"),
            ("O4", dt.datetime(2026, 4, 2, 2, 0), "draft", "999"),
        ]
        connection.execute(
            Order.__table__.insert(),
            [
                {
                    "code": code,
                    "customer_id": 1,
                    "ordered_at": at.replace(tzinfo=dt.UTC),
                    "status": status,
                    "currency": "VND",
                    "amount": Decimal(amount),
                    "cost": Decimal("1.00"),
                    "created_at": at.replace(tzinfo=dt.UTC),
                }
                for code, at, status, amount in rows
            ],
        )


def test_upgrading_a_database_with_orders_builds_the_summaries(tmp_path: Path) -> None:
    engine = create_raw_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0003")
    _insert_orders(engine)
    migrate(engine)
    with Session(engine) as session:
        days = session.execute(select(KpiOrderDay.day, KpiOrderDay.revenue)).all()
        assert sorted((day, Decimal(r)) for day, r in days) == [
            (dt.date(2026, 3, 31), Decimal("100.10")),
            (dt.date(2026, 4, 1), Decimal("50.05")),
        ]
        april = Period(dt.date(2026, 4, 1), dt.date(2026, 5, 1))
        report = compute(session, ["revenue", "active_customers", "new_customers"], april)
        assert [k.value for k in report.kpis] == [Decimal("50.05"), 1, 0]
        assert session.execute(text("SELECT count(*) FROM kpi_customer_fact")).scalar_one() == 1
    engine.dispose()
