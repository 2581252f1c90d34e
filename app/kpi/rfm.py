"""RFM: recency, frequency and monetary value per customer, quintile scores and segments."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Float, String, func, type_coerce, union_all
from sqlmodel import select

from app.models import KpiCustomerFact, KpiOrderDay, Order

from .base import KpiContext
from .period import offset_minutes

# (segment, R range, F range) on the 1-5 scale; the first matching rule wins (kpis.md).
SEGMENT_RULES: tuple[tuple[str, tuple[int, int], tuple[int, int]], ...] = (
    ("champions", (4, 5), (4, 5)),
    ("loyal", (3, 5), (3, 5)),
    ("potential_loyalists", (4, 5), (2, 3)),
    ("new", (5, 5), (1, 1)),
    ("promising", (4, 4), (1, 1)),
    ("need_attention", (3, 3), (3, 3)),
    ("about_to_sleep", (3, 3), (1, 2)),
    ("at_risk", (1, 2), (3, 4)),
    ("cannot_lose", (1, 2), (5, 5)),
    ("hibernating", (2, 2), (1, 2)),
    ("lost", (1, 1), (1, 2)),
)

RFM_COLUMNS = [
    "customer_id",
    "last_order_day",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "weighted_score",
    "segment",
]


def quantile_scores(values: pd.Series, bins: int, *, higher_is_better: bool = True) -> pd.Series:
    """score = ceil(bins × rank / n), rank 1-based with ties at the lowest rank."""
    n = len(values)
    if n == 0:
        return pd.Series([], dtype="int64")
    ranked = (values if higher_is_better else -values).rank(method="min")
    # Vectorised: the same float operations as math.ceil(bins * rank / n) per value.
    scores = np.ceil(bins * ranked.to_numpy(dtype="float64") / n)
    return pd.Series(np.maximum(scores, 1).astype("int64"), index=values.index)


def segment_for(r_score: int, f_score: int, bins: int = 5) -> str | None:
    """The named segment of an (R, F) pair; scores on other scales map onto 1-5 first."""
    r5 = math.ceil(r_score * 5 / bins)
    f5 = math.ceil(f_score * 5 / bins)
    for name, (r_low, r_high), (f_low, f_high) in SEGMENT_RULES:
        if r_low <= r5 <= r_high and f_low <= f5 <= f_high:
            return name
    return None


def rfm_settings(ctx: KpiContext) -> tuple[dict[str, float], int, int | None]:
    """(weights, bins, lookback days) from the settings, with catalogue defaults."""
    weights = ctx.settings.get("rfm_weights") or {}
    bins = int(ctx.settings.get("rfm_bins") or 5)
    lookback = ctx.settings.get("rfm_lookback_days")
    return (
        {key: float(weights.get(key, 1.0)) for key in ("r", "f", "m")},
        max(2, min(bins, 10)),
        int(lookback) if lookback else None,
    )


def rfm_table(
    ctx: KpiContext,
    *,
    as_of: dt.date,
    weights: dict[str, float] | None = None,
    bins: int | None = None,
) -> pd.DataFrame:
    """One row per customer with a counted order up to ``as_of`` (inclusive): R, F, M, scores."""
    stored_weights, stored_bins, lookback = rfm_settings(ctx)
    weights = {**stored_weights, **(weights or {})}
    bins = bins or stored_bins
    # The summaries hold the same per-customer numbers, 70,000 rows instead of 475,000.
    summarised = ctx.summaries()
    if summarised:
        rows = _summary_rows(ctx, as_of=as_of, lookback=lookback)
    else:
        rows = _raw_rows(ctx, as_of=as_of, lookback=lookback)
    if not rows:
        return pd.DataFrame(columns=RFM_COLUMNS)
    customer_ids, newest, frequency, monetary = zip(*rows, strict=True)
    last_days = _days(newest) if summarised else _local_days(ctx, newest, as_of)
    frame = pd.DataFrame(
        {
            "customer_id": np.fromiter(customer_ids, dtype="int64", count=len(rows)),
            "last_order_day": last_days,
            "frequency": np.fromiter(frequency, dtype="int64", count=len(rows)),
            "monetary": np.fromiter(
                (float(value or 0) for value in monetary), dtype="float64", count=len(rows)
            ),
        }
    )
    frame["recency_days"] = (
        pd.Timestamp(as_of) - pd.to_datetime(frame["last_order_day"])
    ).dt.days.astype("int64")
    frame["r_score"] = quantile_scores(frame["recency_days"], bins, higher_is_better=False)
    frame["f_score"] = quantile_scores(frame["frequency"], bins)
    frame["m_score"] = quantile_scores(frame["monetary"], bins)
    frame["weighted_score"] = (
        weights["r"] * frame["r_score"]
        + weights["f"] * frame["f_score"]
        + weights["m"] * frame["m_score"]
    )
    # bins × bins possible (R, F) pairs: name each pair once, then look the rows up.
    names = {
        (r, f): segment_for(r, f, bins) for r in range(1, bins + 1) for f in range(1, bins + 1)
    }
    frame["segment"] = pd.Series(
        list(zip(frame["r_score"], frame["f_score"], strict=True)), index=frame.index, dtype=object
    ).map(names)
    return frame[RFM_COLUMNS]


def _raw_rows(ctx: KpiContext, *, as_of: dt.date, lookback: int | None) -> list[Any]:
    """(customer_id, newest order instant, orders, amount) per customer from sales_order."""
    end = ctx.instant(as_of + dt.timedelta(days=1))
    start = ctx.instant(as_of - dt.timedelta(days=lookback - 1)) if lookback else None
    # One index-only pass (ix_sales_order_customer_ordered) per customer; the newest
    # instant is turned into a local day afterwards, 70,000 times instead of 500,000.
    statement = (
        select(
            Order.customer_id,
            # Raw values: SQLite's text is parsed below in one vectorised call.
            type_coerce(func.max(Order.ordered_at), String),
            func.count(Order.id),
            # Float, not Numeric: the column becomes float64 below anyway, and building
            # 70,000 Decimal objects first costs more than the query.
            type_coerce(func.sum(Order.amount), Float),
        )
        .where(*ctx.counted_orders(start, end))
        .group_by(Order.customer_id)
        .order_by(Order.customer_id)
    )
    # Core execution: the ORM's per-row bookkeeping costs more than the query here.
    return list(ctx.session.connection().execute(statement).all())


def _summary_rows(ctx: KpiContext, *, as_of: dt.date, lookback: int | None) -> list[Any]:
    """(customer_id, last order day, orders, revenue) per customer from the summaries.

    The same numbers as ``_raw_rows``: a kpi_order_day row is one customer's counted
    orders of one local day, so the counts and sums over days up to ``as_of`` are those
    over the orders before the next local midnight.
    """
    day_sums = (
        KpiOrderDay.customer_id,
        type_coerce(func.max(KpiOrderDay.day), String),
        func.sum(KpiOrderDay.orders),
        type_coerce(func.sum(KpiOrderDay.revenue), Float),
    )
    if lookback:
        statement = (
            select(*day_sums)
            .where(*ctx.order_days_in(as_of - dt.timedelta(days=lookback - 1), None))
            .where(KpiOrderDay.day <= as_of)
            .group_by(KpiOrderDay.customer_id)
            .order_by(KpiOrderDay.customer_id)
        )
        return list(ctx.session.connection().execute(statement).all())
    # Without a window: a customer's facts are its totals up to as_of unless it has an
    # order day after as_of (none when as_of is today); only those few customers are
    # summed from their day rows.
    later = select(KpiOrderDay.customer_id).where(KpiOrderDay.day > as_of)
    untouched = select(
        KpiCustomerFact.customer_id,
        type_coerce(KpiCustomerFact.last_day, String),
        KpiCustomerFact.orders,
        type_coerce(KpiCustomerFact.revenue, Float),
    ).where(KpiCustomerFact.last_day <= as_of, ctx.in_scope(KpiCustomerFact.customer_id))
    touched = (
        select(*day_sums)
        .where(
            KpiOrderDay.customer_id.in_(later),
            KpiOrderDay.day <= as_of,
            ctx.in_scope(KpiOrderDay.customer_id),
        )
        .group_by(KpiOrderDay.customer_id)
    )
    both = union_all(untouched, touched).subquery("rfm_rows")
    statement = select(*both.c).order_by(both.c[0])
    return list(ctx.session.connection().execute(statement).all())


def _days(values: tuple[Any, ...]) -> list[dt.date]:
    """Dates of a date column: 'YYYY-MM-DD' text on SQLite, dates on PostgreSQL."""
    return pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601").dt.date.tolist()


def _local_days(ctx: KpiContext, instants: tuple[Any, ...], as_of: dt.date) -> list[dt.date]:
    """Local calendar days of UTC instants, as ``ctx.local_day`` computes them in SQL:
    SQLite shifts by the zone's offset on ``as_of``, PostgreSQL converts exactly."""
    stamps = pd.to_datetime(pd.Series(instants, dtype=object), utc=True, format="ISO8601")
    if ctx.session.get_bind().dialect.name == "sqlite":
        minutes = offset_minutes(ctx.tz, as_of)
        local = stamps.dt.tz_localize(None) + pd.Timedelta(minutes=minutes)
    else:
        local = stamps.dt.tz_convert(ctx.tz.key).dt.tz_localize(None)
    return local.dt.date.tolist()


def rfm_segments(ctx: KpiContext, *, as_of: dt.date, **overrides: Any) -> pd.DataFrame:
    """Segment table: customers, share of customers, monetary value and its share."""
    return segments_of(rfm_table(ctx, as_of=as_of, **overrides))


def segments_of(table: pd.DataFrame) -> pd.DataFrame:
    """The segment table of an RFM table (``rfm_table``'s output): a caller that already
    holds the table skips the second pass over the orders."""
    columns = [
        "segment",
        "customers",
        "customer_share",
        "monetary",
        "monetary_share",
        "avg_recency_days",
        "avg_frequency",
    ]
    if table.empty:
        return pd.DataFrame(columns=columns)
    grouped = (
        table.groupby("segment", dropna=False)
        .agg(
            customers=("customer_id", "count"),
            monetary=("monetary", "sum"),
            avg_recency_days=("recency_days", "mean"),
            avg_frequency=("frequency", "mean"),
        )
        .reset_index()
    )
    grouped["customer_share"] = grouped["customers"] / grouped["customers"].sum()
    total_value = grouped["monetary"].sum()
    grouped["monetary_share"] = grouped["monetary"] / total_value if total_value else None
    order = {name: index for index, (name, _, _) in enumerate(SEGMENT_RULES)}
    grouped["_order"] = grouped["segment"].map(lambda name: order.get(name, len(order)))
    return grouped.sort_values("_order")[columns].reset_index(drop=True)
