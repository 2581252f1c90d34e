"""Demand forecast, backtest and pipeline forecast on hand-built histories, both databases.

Display zone Asia/Ho_Chi_Minh (UTC+7): local midnight is 17:00 UTC the day before.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from sqlmodel import Session

from app.kpi.base import KpiContext
from app.kpi.forecast import (
    FORECAST_METHODS,
    demand_forecast,
    forecast_backtest,
    forecast_values,
    holt_winters,
    sales_forecast,
    seasonal_naive,
)
from app.kpi.period import Period
from app.models import (
    Customer,
    Opportunity,
    OpportunityStageHistory,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Stage,
)

UTC = dt.UTC
AS_OF = dt.date(2026, 1, 15)  # history ends with December 2025
SEASONAL = [10, 12, 15, 11, 9, 20, 25, 22, 14, 13, 30, 40]  # quantity per calendar month


def utc(*parts: int) -> dt.datetime:
    """An aware UTC datetime."""
    return dt.datetime(*parts, tzinfo=UTC)


def month_start(index: int) -> tuple[int, int]:
    """(year, month) of the ``index``-th month after January 2023."""
    return 2023 + index // 12, index % 12 + 1


class Sales:
    """Inserts one counted order with one line per call."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.next_id = 1

    def add(
        self,
        product_id: int,
        ordered_at: dt.datetime,
        quantity: float,
        status: OrderStatus = OrderStatus.paid,
        unit_price: str = "1000",
        discount: str = "0",
    ) -> None:
        number = self.next_id
        self.next_id += 1
        price = Decimal(unit_price)
        amount = Decimal(str(quantity)) * price * (1 - Decimal(discount))
        self.session.add(
            Order(
                id=number,
                code=f"DH{number:05d}",
                customer_id=1,
                ordered_at=ordered_at,
                status=status,
                amount=amount,
            )
        )
        self.session.flush()
        self.session.add(
            OrderLine(
                id=number,
                order_id=number,
                product_id=product_id,
                quantity=Decimal(str(quantity)),
                unit_price=price,
                unit_cost=Decimal("0"),
                discount=Decimal(discount),
            )
        )


def base(session: Session) -> Sales:
    """One customer and three products in three categories."""
    session.add(Customer(id=1, code="KH_A", name="A"))
    session.add_all(
        [
            Product(
                id=1,
                code="SP1",
                name="Giấy",
                category="Seasonal",
                unit_price=Decimal("1000"),
                unit_cost=Decimal("0"),
            ),
            Product(
                id=2,
                code="SP2",
                name="Máy",
                category="Trend",
                unit_price=Decimal("1000"),
                unit_cost=Decimal("0"),
            ),
            Product(
                id=3,
                code="SP3",
                name="Mực",
                category="Young",
                unit_price=Decimal("1000"),
                unit_cost=Decimal("0"),
            ),
        ]
    )
    session.flush()
    return Sales(session)


@pytest.fixture
def history(session: Session) -> Session:
    """36 months (Jan 2023 - Dec 2025): a perfectly seasonal and a linear category,
    and 5 months of a young category, with boundary orders around the as-of month."""
    sales = base(session)
    for index in range(36):
        year, month = month_start(index)
        # The 15th at noon local time.
        moment = utc(year, month, 15, 5)
        sales.add(1, moment, SEASONAL[month - 1])
        sales.add(2, moment, 100 + 5 * index)
    # One extra unit at 23:59 local 31 Jan 2023 (16:59Z): January's. (The first year is
    # not used by the seasonal forecast or its backtest, so the pattern stays exact.)
    sales.add(1, utc(2023, 1, 31, 16, 59), 1)
    # One extra unit at 00:00 local 1 Feb 2023 (17:00Z on 31 Jan): February's.
    sales.add(1, utc(2023, 1, 31, 17, 0), 1)
    # 00:00 local 1 Jan 2026, the as-of month: not history.
    sales.add(1, utc(2025, 12, 31, 17, 0), 999)
    # Cancelled orders never count.
    sales.add(2, utc(2025, 12, 20), 999, status=OrderStatus.cancelled)
    # Young: Aug - Dec 2025, with September empty (filled with 0).
    for month, quantity in ((8, 4), (10, 6), (11, 8), (12, 10)):
        sales.add(3, utc(2025, month, 10), quantity, discount="0.5")
    session.commit()
    return session


def test_methods_are_described() -> None:
    assert set(FORECAST_METHODS) == {"seasonal_naive", "holt_winters"}
    assert all(text.endswith(".") for text in FORECAST_METHODS.values())


def test_empty_database_gives_empty_frames(session: Session) -> None:
    ctx = KpiContext.create(session=session)
    for method in FORECAST_METHODS:
        frame = demand_forecast(ctx, as_of=AS_OF, method=method)  # type: ignore[arg-type]
        assert frame.empty
        assert list(frame.columns) == ["category", "month", "kind", "quantity", "revenue"]
        backtest = forecast_backtest(ctx, as_of=AS_OF, method=method)  # type: ignore[arg-type]
        assert backtest.empty
        assert list(backtest.columns) == ["category", "mape", "mae", "months_tested"]
    frame = sales_forecast(ctx, period=Period(dt.date(2026, 6, 1), dt.date(2026, 7, 1)))
    assert frame.empty
    assert list(frame.columns) == ["month", "weighted_pipeline"]


def test_history_months_and_boundaries(history: Session) -> None:
    frame = demand_forecast(KpiContext.create(session=history), as_of=AS_OF)
    actual = frame[frame["kind"] == "actual"]
    seasonal = actual[actual["category"] == "Seasonal"].set_index("month")
    assert seasonal.index[0] == "2023-01"
    assert seasonal.index[-1] == "2025-12"  # January 2026 (as-of month) is not history
    assert len(seasonal) == 36
    # January 2023 got the 23:59 local order, February 2023 the 00:00 local one.
    assert seasonal.loc["2023-01", "quantity"] == SEASONAL[0] + 1
    assert seasonal.loc["2023-02", "quantity"] == SEASONAL[1] + 1
    assert seasonal.loc["2024-01", "quantity"] == SEASONAL[0]
    trend = actual[actual["category"] == "Trend"].set_index("month")
    assert trend.loc["2025-12", "quantity"] == 100 + 5 * 35  # the cancelled order is left out
    assert trend.loc["2025-12", "revenue"] == 1000 * (100 + 5 * 35)
    young = actual[actual["category"] == "Young"]
    assert list(young["month"]) == ["2025-08", "2025-09", "2025-10", "2025-11", "2025-12"]
    assert list(young["quantity"]) == [4, 0, 6, 8, 10]
    assert list(young["revenue"]) == [2000, 0, 3000, 4000, 5000]  # 50% discount


def test_seasonal_naive_repeats_last_year(history: Session) -> None:
    frame = demand_forecast(KpiContext.create(session=history), as_of=AS_OF, horizon=3)
    forecast = frame[frame["kind"] == "forecast"]
    seasonal = forecast[forecast["category"] == "Seasonal"]
    assert list(seasonal["month"]) == ["2026-01", "2026-02", "2026-03"]
    assert list(seasonal["quantity"]) == SEASONAL[:3]
    assert list(seasonal["revenue"]) == [1000 * q for q in SEASONAL[:3]]
    young = forecast[forecast["category"] == "Young"]
    assert list(young["quantity"]) == [10, 10, 10]  # under a year: the last value


def test_seasonal_naive_backtest_is_exact_on_a_seasonal_history(history: Session) -> None:
    frame = forecast_backtest(KpiContext.create(session=history), as_of=AS_OF, horizon=3)
    row = frame.set_index("category").loc["Seasonal"]
    # Oct - Dec 2025 forecast from Oct - Dec 2024: the same values.
    assert row["mape"] == 0.0
    assert row["mae"] == 0.0
    assert row["months_tested"] == 3
    young = frame.set_index("category").loc["Young"]
    # Five months, the last three held out: trained on Aug, Sep (2000, 0) it forecasts the
    # last value 0, so the revenue errors are 3000, 4000, 5000, each 100% of the actual.
    assert young["months_tested"] == 3
    assert young["mae"] == pytest.approx(4000.0)
    assert young["mape"] == pytest.approx(1.0)


def test_holt_winters_follows_a_linear_trend(history: Session) -> None:
    frame = demand_forecast(
        KpiContext.create(session=history), as_of=AS_OF, horizon=3, method="holt_winters"
    )
    trend = frame[(frame["category"] == "Trend") & (frame["kind"] == "forecast")]
    expected = [100 + 5 * index for index in (36, 37, 38)]
    assert list(trend["month"]) == ["2026-01", "2026-02", "2026-03"]
    assert list(trend["quantity"]) == pytest.approx(expected, rel=0.01)
    assert list(trend["revenue"]) == pytest.approx([1000 * q for q in expected], rel=0.01)
    backtest = forecast_backtest(
        KpiContext.create(session=history), as_of=AS_OF, method="holt_winters"
    )
    assert backtest.set_index("category").loc["Trend", "mape"] < 0.01


def test_backtest_mape_is_none_when_every_actual_is_zero(session: Session) -> None:
    sales = base(session)
    # November 2025 sold, December 2025 nothing: one held-out month with actual 0.
    sales.add(3, utc(2025, 11, 10), 5)
    session.commit()
    frame = forecast_backtest(KpiContext.create(session=session), as_of=AS_OF, horizon=3)
    row = frame.set_index("category").loc["Young"]
    assert row["months_tested"] == 1
    assert row["mape"] is None or np.isnan(row["mape"])
    assert row["mae"] == pytest.approx(5000.0)


def test_single_month_cannot_be_backtested(session: Session) -> None:
    sales = base(session)
    sales.add(3, utc(2025, 12, 10), 5)
    session.commit()
    frame = forecast_backtest(KpiContext.create(session=session), as_of=AS_OF)
    assert frame.to_dict("records") == [
        {"category": "Young", "mape": None, "mae": None, "months_tested": 0}
    ]


def test_numpy_methods_directly() -> None:
    seasonal = np.array(SEASONAL * 3, dtype=float)
    assert list(seasonal_naive(seasonal, 14)) == SEASONAL + SEASONAL[:2]
    line = np.array([50 + 3 * t for t in range(30)], dtype=float)
    assert holt_winters(line, 2) == pytest.approx([140, 143], rel=0.01)
    # Under 24 months: simple exponential smoothing, a flat forecast.
    short = holt_winters(np.array([5.0, 5.0, 5.0]), 3)
    assert list(short) == pytest.approx([5.0, 5.0, 5.0])
    # Trend plus season: still close.
    mixed = np.array([200 + 2 * t + 10 * np.sin(2 * np.pi * t / 12) for t in range(48)])
    future = [200 + 2 * t + 10 * np.sin(2 * np.pi * t / 12) for t in range(48, 51)]
    assert holt_winters(mixed, 3) == pytest.approx(future, rel=0.02)
    # Forecasts never go below zero.
    falling = np.array([100 - 10 * t for t in range(10)], dtype=float)
    assert min(forecast_values(falling, 3, "holt_winters")) >= 0
    with pytest.raises(ValueError):
        forecast_values(falling, 3, "arima")  # type: ignore[arg-type]


def test_sales_forecast_by_expected_close_month(session: Session) -> None:
    session.add(Customer(id=1, code="KH_A", name="A"))
    session.flush()
    end = utc(2026, 6, 30, 17, 0)  # 00:00 local 1 July: end of June
    deals = [
        # (id, amount, stage path, expected close, created, closed)
        (1, "1000000", [Stage.lead, Stage.proposal], dt.date(2026, 7, 15), utc(2026, 5, 1), None),
        # Expected in June but still open at the end: counts in the first month (July).
        (2, "2000000", [Stage.lead], dt.date(2026, 6, 10), utc(2026, 5, 2), None),
        (3, "4000000", [Stage.negotiation], dt.date(2026, 9, 30), utc(2026, 5, 3), None),
        # Won before the end: not open.
        (
            4,
            "8000000",
            [Stage.lead, Stage.won],
            dt.date(2026, 7, 1),
            utc(2026, 5, 4),
            utc(2026, 6, 20),
        ),
        # Expected after the three months: left out.
        (5, "1000000", [Stage.qualified], dt.date(2026, 10, 1), utc(2026, 5, 5), None),
        # Created exactly at the end: not open at the end.
        (6, "3000000", [Stage.lead], dt.date(2026, 7, 20), end, None),
        # No expected close date: left out.
        (7, "5000000", [Stage.lead], None, utc(2026, 5, 6), None),
    ]
    history_id = 1
    for deal_id, amount, stages, expected, created, closed in deals:
        session.add(
            Opportunity(
                id=deal_id,
                customer_id=1,
                title=f"Deal {deal_id}",
                amount=Decimal(amount),
                stage=stages[-1],
                expected_close=expected,
                created_at=created,
                closed_at=closed,
            )
        )
        session.flush()
        previous = None
        for step, stage in enumerate(stages):
            changed = (
                closed if (closed and stage == Stage.won) else created + dt.timedelta(days=step)
            )
            session.add(
                OpportunityStageHistory(
                    id=history_id,
                    opportunity_id=deal_id,
                    from_stage=previous,
                    to_stage=stage,
                    changed_at=changed,
                )
            )
            history_id += 1
            previous = stage
    session.commit()
    frame = sales_forecast(
        KpiContext.create(session=session),
        period=Period(dt.date(2026, 6, 1), dt.date(2026, 7, 1)),
        months=3,
    )
    assert frame.to_dict("records") == [
        # 1 000 000 × 50% (proposal) + 2 000 000 × 10% (lead, overdue).
        {"month": "2026-07", "weighted_pipeline": 700_000.0},
        {"month": "2026-08", "weighted_pipeline": 0.0},
        {"month": "2026-09", "weighted_pipeline": 3_000_000.0},  # 4 000 000 × 75%
    ]
