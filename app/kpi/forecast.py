"""Demand forecast per product category, its backtest, and the pipeline by close month.

Monthly history comes from SQL (GROUP BY category × local month of counted orders);
the forecasting itself runs on those few numbers with numpy (Hyndman & Athanasopoulos,
*Forecasting: Principles and Practice*, 3rd ed., ch. 5 and 8).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from decimal import Decimal
from typing import Literal

import numpy as np
import pandas as pd
from sqlalchemy import func
from sqlmodel import select

from app.models import KpiProductMonth, Opportunity, Order, OrderLine, Product

from .base import KpiContext
from .operations import stage_at
from .period import Period

Method = Literal["seasonal_naive", "holt_winters"]
SEASON = 12

FORECAST_METHODS: dict[str, str] = {
    "seasonal_naive": "Each future month repeats the same month of last year (the last month's "
    "value when there is less than a year of history).",
    "holt_winters": "Holt-Winters exponential smoothing with additive trend and 12-month "
    "seasonality when there are at least 24 months of history, else simple exponential "
    "smoothing; smoothing weights chosen to minimise the one-step-ahead errors.",
}

DEMAND_COLUMNS = ["category", "month", "kind", "quantity", "revenue"]
BACKTEST_COLUMNS = ["category", "mape", "mae", "months_tested"]
PIPELINE_COLUMNS = ["month", "weighted_pipeline"]

_ALPHAS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
_BETAS = (0.01, 0.05, 0.1, 0.2, 0.4)
_GAMMAS = (0.01, 0.05, 0.1, 0.3, 0.5)


# ---------------------------------------------------------------- months
def _month_index(label: str) -> int:
    year, month = label.split("-")
    return int(year) * 12 + int(month) - 1


def _month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _first_of_month(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


# ---------------------------------------------------------------- methods (numpy)
def seasonal_naive(history: np.ndarray, horizon: int) -> np.ndarray:
    """Same month last year; the last value when there is less than a year of history."""
    n = len(history)
    if n == 0:
        return np.zeros(horizon)
    if n < SEASON:
        return np.full(horizon, float(history[-1]))
    return np.array([history[n - SEASON + h % SEASON] for h in range(horizon)], dtype=float)


def _ses(history: np.ndarray, horizon: int) -> np.ndarray:
    """Simple exponential smoothing, alpha chosen by the smallest one-step squared error."""
    best: tuple[float, float] | None = None
    for alpha in _ALPHAS:
        level, sse = float(history[0]), 0.0
        for value in history[1:]:
            sse += (value - level) ** 2
            level = alpha * value + (1 - alpha) * level
        if best is None or sse < best[0]:
            best = (sse, level)
    assert best is not None
    return np.full(horizon, best[1])


def _holt_winters(history: np.ndarray, horizon: int) -> np.ndarray:
    """Additive Holt-Winters (period 12), weights chosen on a grid by one-step squared error.

    Initial state: a straight line fitted to the first two years gives level and trend;
    the mean detrended value of each calendar month gives the seasonal indices.
    """
    n, m = len(history), SEASON
    t = np.arange(2 * m, dtype=float)
    slope, intercept = np.polyfit(t, history[: 2 * m], 1)
    detrended = history[: 2 * m] - (intercept + slope * t)
    season0 = detrended.reshape(2, m).mean(axis=0)
    season0 = season0 - season0.mean()
    best: tuple[float, float, float, np.ndarray] | None = None
    for alpha, beta, gamma in itertools.product(_ALPHAS, _BETAS, _GAMMAS):
        level, trend, season = intercept - slope, slope, season0.copy()
        sse = 0.0
        for index in range(n):
            value = history[index]
            seasonal = season[index % m]
            sse += (value - (level + trend + seasonal)) ** 2
            new_level = alpha * (value - seasonal) + (1 - alpha) * (level + trend)
            season[index % m] = gamma * (value - level - trend) + (1 - gamma) * seasonal
            trend = beta * (new_level - level) + (1 - beta) * trend
            level = new_level
        if best is None or sse < best[0]:
            best = (sse, level, trend, season.copy())
    assert best is not None
    _, level, trend, season = best
    return np.array([level + h * trend + season[(n - 1 + h) % m] for h in range(1, horizon + 1)])


def holt_winters(history: np.ndarray, horizon: int) -> np.ndarray:
    """Holt-Winters with ≥ 24 months of history, else simple exponential smoothing."""
    if len(history) == 0:
        return np.zeros(horizon)
    if len(history) >= 2 * SEASON:
        return _holt_winters(history, horizon)
    return _ses(history, horizon)


def forecast_values(history: np.ndarray, horizon: int, method: Method) -> np.ndarray:
    """The next ``horizon`` values of a monthly series, never below zero."""
    if method == "seasonal_naive":
        values = seasonal_naive(history, horizon)
    elif method == "holt_winters":
        values = holt_winters(history, horizon)
    else:
        raise ValueError(f"unknown forecast method {method!r}")
    return np.clip(values, 0.0, None)


# ---------------------------------------------------------------- history from SQL
def monthly_history(
    ctx: KpiContext, *, as_of: dt.date
) -> dict[str, tuple[int, np.ndarray, np.ndarray]]:
    """Per category: (index of its first month, quantity series, revenue series).

    Counted orders up to the month before ``as_of``'s month, one value per local month
    from the category's first sale to that month, months without sales filled with 0.
    """
    # The demand forecast and its backtest read the same history: one pass per context
    # over the order lines (the dearest query of the Forecast page).
    return ctx.memo(("monthly_history", as_of), lambda: _monthly_history(ctx, as_of=as_of))


def _monthly_history(
    ctx: KpiContext, *, as_of: dt.date
) -> dict[str, tuple[int, np.ndarray, np.ndarray]]:
    month_start = as_of.replace(day=1)
    if _product_months_usable(ctx):
        rows = _summary_rows(ctx, month_start)
    else:
        rows = _raw_rows(ctx, month_start, as_of)
    last = _month_index(f"{month_start.year:04d}-{month_start.month:02d}") - 1
    by_category: dict[str, dict[int, tuple[float, float]]] = defaultdict(dict)
    for category, label, quantity, revenue in rows:
        by_category[category][_month_index(label)] = (float(quantity or 0), float(revenue or 0))
    history = {}
    for category, months in by_category.items():
        first = min(months)
        span = range(first, last + 1)
        history[category] = (
            first,
            np.array([months.get(index, (0.0, 0.0))[0] for index in span]),
            np.array([months.get(index, (0.0, 0.0))[1] for index in span]),
        )
    return history


def _product_months_usable(ctx: KpiContext) -> bool:
    """Whether kpi_product_month answers: summaries allowed, built for this zone and
    maintained, and no customer filter (the table is not keyed by customer)."""
    if not ctx.use_summaries or not ctx.filters.is_empty():
        return False

    def check() -> bool:
        from .summaries import product_month_usable

        return product_month_usable(ctx.session.connection(), ctx.tz)

    return ctx.memo("product_month_usable", check)


def _summary_rows(ctx: KpiContext, month_start: dt.date) -> list[tuple]:
    """(category, 'YYYY-MM', quantity, revenue) of the months before ``month_start``
    from kpi_product_month: a few thousand rows instead of a million order lines."""
    rows = ctx.session.exec(
        select(
            Product.category,
            KpiProductMonth.month,
            func.sum(KpiProductMonth.quantity),
            func.sum(KpiProductMonth.revenue),
        )
        .join(Product, Product.id == KpiProductMonth.product_id)
        .where(KpiProductMonth.month < month_start)
        .group_by(Product.category, KpiProductMonth.month)
    ).all()
    return [
        (category, _month_label(_month_index(str(month)[:7])), quantity, revenue)
        for category, month, quantity, revenue in rows
    ]


def _raw_rows(ctx: KpiContext, month_start: dt.date, as_of: dt.date) -> list[tuple]:
    """(category, 'YYYY-MM', quantity, revenue) of the months before ``month_start``
    from the order lines of counted orders."""
    end = ctx.instant(month_start)
    month = ctx.local_month(Order.ordered_at, Period(month_start, as_of + dt.timedelta(days=1)))
    lines = (
        select(
            Product.category.label("category"),
            month.label("month"),
            OrderLine.quantity.label("quantity"),
            (OrderLine.quantity * OrderLine.unit_price * (1 - OrderLine.discount)).label("revenue"),
        )
        # "+ 0" keeps SQLite from driving the join through the order_line indexes (a
        # random probe per line, 3 s at a million lines): it scans order_line once and
        # looks orders and products up by primary key instead (1.5 s). PostgreSQL
        # hash-joins either way.
        .join(OrderLine, (OrderLine.order_id + 0) == Order.id)
        .join(Product, Product.id == (OrderLine.product_id + 0))
        .where(*ctx.counted_orders(None, end))
        .subquery()
    )
    rows = ctx.session.exec(
        select(
            lines.c.category,
            lines.c.month,
            func.sum(lines.c.quantity),
            func.sum(lines.c.revenue),
        )
        .group_by(lines.c.category, lines.c.month)
        .order_by(lines.c.category, lines.c.month)
    ).all()
    return list(rows)


def demand_forecast(
    ctx: KpiContext, *, as_of: dt.date, horizon: int = 3, method: Method = "seasonal_naive"
) -> pd.DataFrame:
    """Monthly quantity and revenue per category, actual then ``horizon`` forecast months.

    Columns [category, month ('YYYY-MM'), kind ('actual' | 'forecast'), quantity,
    revenue]; history ends with the month before ``as_of``'s month, which is the first
    forecast month.
    """
    if method not in FORECAST_METHODS:
        raise ValueError(f"unknown forecast method {method!r}")
    rows = []
    for category, (first, quantity, revenue) in sorted(monthly_history(ctx, as_of=as_of).items()):
        for offset, (amount, money) in enumerate(zip(quantity, revenue, strict=True)):
            rows.append((category, _month_label(first + offset), "actual", amount, money))
        next_month = first + len(quantity)
        predicted = zip(
            forecast_values(quantity, horizon, method),
            forecast_values(revenue, horizon, method),
            strict=True,
        )
        for offset, (amount, money) in enumerate(predicted):
            rows.append(
                (category, _month_label(next_month + offset), "forecast", amount, round(money, 2))
            )
    if not rows:
        return pd.DataFrame(columns=DEMAND_COLUMNS)
    frame = pd.DataFrame(rows, columns=DEMAND_COLUMNS)
    frame[["quantity", "revenue"]] = frame[["quantity", "revenue"]].astype(float)
    return frame


def forecast_backtest(
    ctx: KpiContext, *, as_of: dt.date, horizon: int = 3, method: Method = "seasonal_naive"
) -> pd.DataFrame:
    """Revenue error when the last ``horizon`` months are forecast from the earlier ones.

    Columns [category, mape, mae, months_tested]: MAPE over held-out months with a
    non-zero actual (None when there is none), MAE over all of them; a category needs
    two months of history (then fewer months are held out), else it reports None and 0.
    """
    if method not in FORECAST_METHODS:
        raise ValueError(f"unknown forecast method {method!r}")
    rows = []
    for category, (_, _, revenue) in sorted(monthly_history(ctx, as_of=as_of).items()):
        tested = min(horizon, len(revenue) - 1)
        if tested < 1:
            rows.append({"category": category, "mape": None, "mae": None, "months_tested": 0})
            continue
        actual = revenue[-tested:]
        predicted = forecast_values(revenue[:-tested], tested, method)
        errors = np.abs(actual - predicted)
        nonzero = actual != 0
        mape = float(np.mean(errors[nonzero] / np.abs(actual[nonzero]))) if nonzero.any() else None
        rows.append(
            {
                "category": category,
                "mape": mape,
                "mae": float(np.mean(errors)),
                "months_tested": int(tested),
            }
        )
    if not rows:
        return pd.DataFrame(columns=BACKTEST_COLUMNS)
    return pd.DataFrame(rows, columns=BACKTEST_COLUMNS)


# ---------------------------------------------------------------- pipeline
def sales_forecast(ctx: KpiContext, *, period: Period, months: int = 6) -> pd.DataFrame:
    """Weighted pipeline (Σ amount × stage probability) open at the period end by close month.

    Columns [month, weighted_pipeline] for ``months`` months from the month of the
    period end; deals whose expected close has already passed count in the first month,
    deals without an expected close date or closing later are left out.
    """
    _, end = ctx.bounds(period)
    first = period.end.year * 12 + period.end.month - 1
    horizon_end = _first_of_month(first + months)
    open_now = stage_at(ctx, end)
    rows = ctx.session.exec(
        select(Opportunity.expected_close, open_now.c.stage, func.sum(open_now.c.amount))
        .join(Opportunity, Opportunity.id == open_now.c.id)
        .where(Opportunity.expected_close.is_not(None), Opportunity.expected_close < horizon_end)
        .group_by(Opportunity.expected_close, open_now.c.stage)
    ).all()
    probabilities = ctx.settings.get("stage_probabilities") or {}
    totals: dict[int, Decimal] = defaultdict(lambda: Decimal("0"))
    for close_day, stage, amount in rows:
        index = max(first, close_day.year * 12 + close_day.month - 1)
        weight = Decimal(str(probabilities.get(getattr(stage, "value", stage), 0)))
        totals[index] += Decimal(str(amount or 0)) * weight
    if not rows:
        return pd.DataFrame(columns=PIPELINE_COLUMNS)
    return pd.DataFrame(
        [
            {
                "month": _month_label(index),
                "weighted_pipeline": float(totals[index].quantize(Decimal("0.01"))),
            }
            for index in range(first, first + months)
        ],
        columns=PIPELINE_COLUMNS,
    )
