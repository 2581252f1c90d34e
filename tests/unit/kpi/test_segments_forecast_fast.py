"""The Segments and Forecast pages' fast paths equal their raw-row computations.

RFM and the loyalty purchase days read kpi_order_day / kpi_customer_fact (0004); the
forecast history reads kpi_product_month (0005), kept current by triggers on order_line
and sales_order. The small demo dataset is seeded and changed through the services, the
importer, a merge and raw SQL (lines added, moved, repriced and deleted; order status
and date changes; a rollback); after each step kpi_product_month must equal a rebuild
and every fast result must equal the raw one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import delete, select, text, update
from sqlmodel import Session

from app.db import create_raw_engine, get_engine, migrate
from app.demo import seed_demo
from app.kpi import forecast
from app.kpi.analyses_sales import loyalty_migration
from app.kpi.base import KpiContext, KpiFilters
from app.kpi.period import Period, month_period
from app.kpi.rfm import rfm_table
from app.kpi.summaries import product_month_usable, rebuild_summaries
from app.models import (
    Customer,
    KpiProductMonth,
    Order,
    OrderLine,
    OrderStatus,
    Product,
)
from app.services.access import Actor
from app.services.merge import merge_customers
from app.services.sales import create_order, update_order
from app.settings import set_setting
from app.transfer import import_rows
from tests.unit.kpi.helpers import filter_sets

TODAY = dt.date(2026, 6, 15)
ADMIN = Actor.system()
# Today (no order after it), a past day (customers with later orders), before any order.
AS_OF = [TODAY, dt.date(2026, 2, 28), dt.date(2015, 1, 1)]
# (period, previous) pairs of the loyalty migration, including an empty early one.
LOYALTY_PERIODS = [
    (month_period(TODAY), month_period(dt.date(2026, 5, 1))),
    (month_period(dt.date(2026, 3, 1)), month_period(dt.date(2025, 3, 1))),
    (Period(dt.date(2026, 5, 10), dt.date(2026, 5, 11)), month_period(dt.date(2015, 1, 1))),
]


@pytest.fixture
def demo_url(db_url: str) -> str:
    """The fresh database of ``db_url`` with the small demo dataset."""
    seed_demo(engine=get_engine(db_url), scale="small", seed=7, today=TODAY)
    return db_url


def _contexts(session: Session, filters: KpiFilters) -> tuple[KpiContext, KpiContext]:
    fast = KpiContext.create(session=session, filters=filters)
    raw = KpiContext.create(session=session, filters=filters, use_summaries=False)
    return fast, raw


def _assert_history_equal(fast: dict, raw: dict) -> None:
    assert fast.keys() == raw.keys()
    for category, (first, quantity, revenue) in raw.items():
        assert fast[category][0] == first, category
        np.testing.assert_array_equal(fast[category][1], quantity)
        # SQLite sums floats in another order (per product-month, then per category).
        np.testing.assert_allclose(fast[category][2], revenue, rtol=1e-12)


def assert_fast_equals_raw(session: Session, *, lookback: bool = True) -> None:
    """RFM, loyalty migration and forecast history/frames: fast == raw."""
    session.commit()
    assert KpiContext.create(session=session).summaries()
    assert product_month_usable(session.connection(), KpiContext.create(session=session).tz)
    for filters in filter_sets(session):
        for as_of in AS_OF:
            fast, raw = _contexts(session, filters)
            ours, reference = rfm_table(fast, as_of=as_of), rfm_table(raw, as_of=as_of)
            pd.testing.assert_frame_equal(
                ours.drop(columns="monetary"), reference.drop(columns="monetary"), check_exact=True
            )
            if not reference.empty:
                np.testing.assert_allclose(ours["monetary"], reference["monetary"], rtol=1e-12)
        for period, previous in LOYALTY_PERIODS:
            fast, raw = _contexts(session, filters)
            pd.testing.assert_frame_equal(
                loyalty_migration(fast, period=period, previous=previous),
                loyalty_migration(raw, period=period, previous=previous),
                check_exact=True,
            )
        for as_of in (TODAY, dt.date(2026, 3, 1), dt.date(2015, 1, 1)):
            fast, raw = _contexts(session, filters)
            _assert_history_equal(
                forecast.monthly_history(fast, as_of=as_of),
                forecast.monthly_history(raw, as_of=as_of),
            )
    fast, raw = _contexts(session, KpiFilters())
    assert forecast._product_months_usable(fast)
    for method in forecast.FORECAST_METHODS:
        pd.testing.assert_frame_equal(
            forecast.demand_forecast(fast, as_of=TODAY, method=method),
            forecast.demand_forecast(raw, as_of=TODAY, method=method),
            rtol=1e-9,
        )
        pd.testing.assert_frame_equal(
            forecast.forecast_backtest(fast, as_of=TODAY, method=method),
            forecast.forecast_backtest(raw, as_of=TODAY, method=method),
            rtol=1e-9,
        )
    if lookback:
        # A look-back window reads the day rows instead of the customer facts.
        set_setting(session=session, key="rfm_lookback_days", value=90)
        session.commit()
        for as_of in AS_OF:
            fast, raw = _contexts(session, KpiFilters())
            ours, reference = rfm_table(fast, as_of=as_of), rfm_table(raw, as_of=as_of)
            pd.testing.assert_frame_equal(
                ours.drop(columns="monetary"), reference.drop(columns="monetary"), check_exact=True
            )
        set_setting(session=session, key="rfm_lookback_days", value=None)
        session.commit()


def _product_months(session: Session) -> list[tuple]:
    rows = session.execute(
        select(
            KpiProductMonth.product_id,
            KpiProductMonth.month,
            KpiProductMonth.lines,
            KpiProductMonth.quantity,
            KpiProductMonth.revenue,
        ).order_by(KpiProductMonth.product_id, KpiProductMonth.month)
    ).all()
    # Revenue to 6 places: SQLite stores floats, and adding then removing a line leaves
    # rounding noise far below the currency's precision.
    return [
        (p, str(m)[:10], n, Decimal(q), Decimal(str(r)).quantize(Decimal("0.000001")))
        for p, m, n, q, r in rows
    ]


def assert_product_month_equals_rebuild(session: Session) -> None:
    """The trigger-maintained kpi_product_month holds exactly what a rebuild gives."""
    session.commit()
    maintained = _product_months(session)
    rebuild_summaries(session.connection())
    rebuilt = _product_months(session)
    session.rollback()
    assert maintained == rebuilt
    assert maintained, "kpi_product_month is empty"


def _order(customer_id: int, product_id: int, ordered_at: dt.datetime, **extra: Any) -> dict:
    return {
        "customer_id": customer_id,
        "ordered_at": ordered_at,
        "status": OrderStatus.paid,
        "lines": [
            {
                "product_id": product_id,
                "quantity": "2",
                "unit_price": "150000.50",
                "unit_cost": "1",
                "discount": "0.125",
            }
        ],
        **extra,
    }


def test_fast_paths_follow_every_write_and_equal_the_raw_paths(demo_url: str) -> None:
    with Session(get_engine(demo_url), expire_on_commit=False) as session:
        assert_product_month_equals_rebuild(session)
        assert_fast_equals_raw(session)

        product, other_product = session.execute(
            select(Product.id).order_by(Product.id).limit(2)
        ).scalars()
        first, second, third, fourth = session.execute(
            select(Customer.id).order_by(Customer.id).limit(4)
        ).scalars()
        # Service writes: a counted order at local midnight of 1 June (a month
        # boundary: 31 May 17:00Z is 1 June locally), a draft that becomes confirmed,
        # a paid order that is cancelled.
        midnight = dt.datetime(2026, 5, 31, 17, 0, tzinfo=dt.UTC)
        create_order(session=session, data=_order(first, product, midnight), actor=ADMIN)
        just_before = midnight - dt.timedelta(microseconds=1)  # still 31 May locally
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
        assert_product_month_equals_rebuild(session)

        # The bulk importer and a merge.
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
        merge_customers(session=session, actor=ADMIN, survivor_id=first, duplicate_id=second)
        assert_product_month_equals_rebuild(session)

        # Raw SQL on the lines: repriced, moved to another product and to another order
        # (of another month), and deleted.
        lines = (
            session.execute(
                select(OrderLine.id)
                .join(Order, Order.id == OrderLine.order_id)
                .where(Order.status == OrderStatus.paid)
                .order_by(OrderLine.id)
                .limit(4)
            )
            .scalars()
            .all()
        )
        session.execute(
            update(OrderLine)
            .where(OrderLine.id == lines[0])
            .values(quantity=Decimal("7"), discount=Decimal("0.5"))
        )
        session.execute(
            update(OrderLine).where(OrderLine.id == lines[1]).values(product_id=other_product)
        )
        session.execute(update(OrderLine).where(OrderLine.id == lines[2]).values(order_id=draft.id))
        session.execute(delete(OrderLine).where(OrderLine.id == lines[3]))
        # Raw SQL on the orders: a bulk status change, a moved date and deletes.
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
        assert_product_month_equals_rebuild(session)

        # A rolled-back write leaves no trace.
        create_order(session=session, data=_order(fourth, product, midnight), actor=ADMIN)
        before = _product_months(session)
        session.execute(delete(OrderLine))
        session.rollback()
        assert _product_months(session) == before
        assert_product_month_equals_rebuild(session)
        assert_fast_equals_raw(session)

        # A time zone change: the fast paths step aside until a rebuild.
        set_setting(session=session, key="timezone", value="Asia/Tokyo")
        session.commit()
        ctx = KpiContext.create(session=session)
        assert not ctx.summaries()
        assert not forecast._product_months_usable(ctx)
        rebuild_summaries(session.connection())
        session.commit()
        assert_product_month_equals_rebuild(session)
        assert_fast_equals_raw(session, lookback=False)


def test_upgrading_from_0004_builds_the_product_months(tmp_path: Path) -> None:
    engine = create_raw_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine)
    seed_demo(engine=engine, scale="small", seed=7, today=TODAY)
    with engine.begin() as connection:
        reference = connection.execute(
            text(
                "SELECT product_id, month, lines FROM kpi_product_month ORDER BY product_id, month"
            )
        ).all()
    migrate(engine, "0004")
    with engine.begin() as connection:
        assert "kpi_product_month" not in {
            row[0] for row in connection.execute(text("SELECT name FROM sqlite_master"))
        }
    migrate(engine)
    with Session(engine) as session:
        rows = session.execute(
            text(
                "SELECT product_id, month, lines FROM kpi_product_month ORDER BY product_id, month"
            )
        ).all()
        # The downgrade dropped the table and its triggers; the upgrade rebuilt it.
        assert rows == reference
        assert_product_month_equals_rebuild(session)
        assert forecast._product_months_usable(KpiContext.create(session=session))
    engine.dispose()
