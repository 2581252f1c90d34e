"""Cached KPI reads for the Overview and CRM evaluation pages, and the target write.

Every loader is keyed by the database URL, the filters' ``cache_key()`` and the staff
user whose customers are visible (None for roles that see everyone); none depends on
the language, so Vietnamese and English users share entries. They return plain values
(dicts, lists, DataFrames), never ORM objects; pages format them through components.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session, select

from app.kpi.analyses_sales import (
    DRILLDOWN_KPIS,
    SERIES_KPIS,
    drilldown,
    revenue_profit_series,
    series,
)
from app.kpi.analyses_service import completeness_by, records_to_fix
from app.kpi.base import KpiContext, KpiFilters
from app.kpi.concurrent import run_concurrently
from app.kpi.engine import (
    KpiReport,
    compute_concurrently,
    compute_series,
    json_number,
    kpi_tasks,
    merged_report,
)
from app.kpi.overview import OVERVIEW_KPIS
from app.kpi.period import Period, month_period
from app.kpi.registry import all_kpis
from app.models import Customer, Order, Target, User
from app.services.access import Actor
from components.data import QUERY_MAX_ENTRIES, QUERY_TTL_SECONDS, engine

# The KPIs the Overview compares for its "biggest changes": its cards plus the headline
# results, value, pipeline and service KPIs that move with the period. The slow,
# period-independent database-quality KPIs (duplicates, maturity, freshness...) belong to
# the CRM evaluation page; leaving them out keeps the Overview's cold run short.
OVERVIEW_REPORT_KPIS: tuple[str, ...] = (
    *OVERVIEW_KPIS,
    "interactions_logged",  # the activity line under the cards
    "customers_total",
    "new_customer_rate",
    "retention_rate",
    "repeat_purchase_rate",
    "csat_avg",
    "orders_count",
    "avg_order_value",
    "revenue_per_customer",
    "gross_margin",
    "returning_revenue_share",
    "pipeline_value",
    "win_rate",
    "lead_conversion_rate",
    "complaints_opened",
    "complaint_rate",
    "sla_compliance_rate",
    "first_response_hours",
    "resolution_hours",
    "marketing_cost",
    "marketing_roi",
    "cac",
)
# The cards whose rows can be listed ("rows behind a number").
DRILLDOWN_CARD_KPIS: tuple[str, ...] = tuple(k for k in OVERVIEW_KPIS if k in DRILLDOWN_KPIS)
SPARKLINE_MONTHS = 12
# 0.17-0.34 s each at the medium demo scale, against 0.01-0.12 s for the others.
SLOW_SPARKLINES = frozenset({"weighted_pipeline", "churn_rate", "nps"})
TREND_COLUMNS = ["month", "revenue", "profit"]
TARGET_COLUMNS = ["id", "kpi_id", "period_start", "period_end", "segment", "target_value"]

FilterKey = tuple


def filters_from_key(
    key: FilterKey, visible_to_owner_id: int | None
) -> tuple[Period, str, KpiFilters]:
    """(period, compare mode, KPI filters) from ``GlobalFilters.cache_key()``."""
    start, end, compare, segment, region, province, owner_id, kind = key
    filters = KpiFilters(
        segment=segment,
        region=region,
        province=province,
        owner_id=owner_id,
        kind=kind,
        visible_to_owner_id=visible_to_owner_id,
    )
    return Period(dt.date.fromisoformat(start), dt.date.fromisoformat(end)), compare, filters


def last_months(period: Period, count: int = SPARKLINE_MONTHS) -> list[Period]:
    """The ``count`` calendar months ending with the month of the period's last day."""
    months = [month_period(period.as_of_day)]
    while len(months) < count:
        months.append(month_period(months[-1].start - dt.timedelta(days=1)))
    return months[::-1]


def _plain(value: Any) -> Any:
    """JSON-like plain value: Decimals become floats, nested containers are cleaned."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return json_number(value)


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_has_records(url: str) -> bool:
    """Whether the database holds any customer or order (else pages show an empty state)."""
    with Session(engine(url)) as session:
        # One row is enough: counting 500,000 orders cost 25 ms of every cold run.
        customer = session.exec(select(Customer.id).limit(1)).first()
        order = None if customer is not None else session.exec(select(Order.id).limit(1)).first()
    return customer is not None or order is not None


def report_values(report: KpiReport) -> dict[str, Any]:
    """A KPI report as plain values (see load_kpi_report)."""
    registry = all_kpis()
    other = report.compare_period
    return {
        "period": (report.period.start, report.period.end),
        "compare": report.compare,
        "compare_period": (other.start, other.end) if other else None,
        "kpis": [
            {
                "id": result.id,
                "label": result.label,
                "label_vi": result.label_vi,
                "family": result.family,
                "unit": result.unit,
                "direction": result.direction,
                "additive": registry[result.id].additive,
                "value": _plain(result.value),
                "compare_value": _plain(result.compare_value),
                "change": _plain(result.change),
                "change_pct": result.change_pct,
                "target": _plain(result.target),
                "completion": result.completion,
                "details": _plain(result.details),
            }
            for result in report.kpis
        ],
    }


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_kpi_report(
    url: str,
    key: FilterKey,
    visible_to_owner_id: int | None,
    kpi_ids: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The KPIs (all 56 when ``kpi_ids`` is None) for the filters' period and comparison,
    as plain values, computed on several connections at once.

    {"period": (start, end), "compare": mode, "compare_period": (start, end) or None,
    "kpis": [{id, label, label_vi, family, unit, direction, additive, value,
    compare_value, change, change_pct, target, completion, details}, ...]} in catalogue
    order; numbers are int/float or None.
    """
    period, compare, filters = filters_from_key(key, visible_to_owner_id)
    ids = list(kpi_ids) if kpi_ids else None
    return report_values(compute_concurrently(engine(url), ids, period, filters, compare))


def sparkline_values(
    session: Session, kpi_id: str, months: list[Period], filters: KpiFilters
) -> list:
    """One KPI's values over ``months`` as floats (None where undefined).

    KPIs with a monthly series (sums and counts) come from one GROUP BY; the others
    (ratios, scores, stocks at the month's end) from compute_series, in bulk.
    """
    if kpi_id in SERIES_KPIS:
        ctx = KpiContext.create(session=session, filters=filters)
        span = Period(months[0].start, months[-1].end)
        frame = series(ctx, kpi_id=kpi_id, period=span, grain="month")
        return [float(value) for value in frame["value"]]
    found = compute_series(session, [kpi_id], months, filters)[kpi_id]
    plain = [json_number(value) for value in found]
    return [None if value is None else float(value) for value in plain]


def _trend(session: Session, period: Period, filters: KpiFilters) -> pd.DataFrame:
    """[month, revenue, profit] per calendar month: the last 12 months, or the whole
    period when it is longer; empty when no counted order falls in them."""
    months = last_months(period)
    span = Period(min(months[0].start, period.start.replace(day=1)), months[-1].end)
    ctx = KpiContext.create(session=session, filters=filters)
    both = revenue_profit_series(ctx, period=span)
    frame = pd.DataFrame(
        {
            "month": list(both["bucket_start"]),
            "revenue": [float(value) for value in both["revenue"]],
            "profit": [float(value) for value in both["profit"]],
        },
        columns=TREND_COLUMNS,
    )
    if not (frame["revenue"] != 0).any() and not (frame["profit"] != 0).any():
        return pd.DataFrame(columns=TREND_COLUMNS)
    return frame


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_overview(
    url: str,
    key: FilterKey,
    visible_to_owner_id: int | None,
    report_kpis: tuple[str, ...] = OVERVIEW_REPORT_KPIS,
    card_kpis: tuple[str, ...] = OVERVIEW_KPIS,
) -> dict[str, Any]:
    """Everything the Overview reads, in one pass over several connections:
    {"report": load_kpi_report's dict for ``report_kpis``, "sparklines": KPI id → its
    last 12 monthly values for ``card_kpis``, "trend": the revenue and profit frame}.

    Every KPI, sparkline and the trend is its own task (app.kpi.concurrent), so the
    slow ones (weighted pipeline and churn month by month, the report's comparisons)
    run side by side. The revenue and profit sparklines are the trend's last 12 months.
    """
    period, compare, filters = filters_from_key(key, visible_to_owner_id)
    months = last_months(period)
    registry = all_kpis()
    own_lines = [k for k in card_kpis if k in registry and k not in ("revenue", "profit")]
    # The slowest sparklines (month by month from the raw rows) start first.
    own_lines.sort(key=lambda kpi_id: kpi_id not in SLOW_SPARKLINES)
    tasks: list[Callable[[Session], Any]] = [lambda session: _trend(session, period, filters)]
    tasks += [
        lambda session, kpi_id=kpi_id: sparkline_values(session, kpi_id, months, filters)
        for kpi_id in own_lines
    ]
    tasks += kpi_tasks(list(report_kpis), period, filters, compare)
    results = run_concurrently(engine(url), tasks)
    trend = results[0]
    sparklines = dict(zip(own_lines, results[1 : 1 + len(own_lines)], strict=True))
    reports = results[1 + len(own_lines) :]
    by_month = {} if trend.empty else dict(zip(trend["month"], trend.index, strict=True))
    for kpi_id in ("revenue", "profit"):
        if kpi_id in card_kpis:
            sparklines[kpi_id] = [
                float(trend.at[by_month[month.start], kpi_id]) if month.start in by_month else 0.0
                for month in months
            ]
    report = merged_report(reports) if reports else None
    return {
        "report": report_values(report) if report else None,
        "sparklines": {k: sparklines[k] for k in card_kpis if k in sparklines},
        "trend": trend,
    }


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_drilldown(
    url: str, key: FilterKey, visible_to_owner_id: int | None, kpi_id: str
) -> pd.DataFrame:
    """The rows behind a KPI for the filters' period (at most 1000)."""
    if kpi_id not in DRILLDOWN_KPIS:
        return pd.DataFrame()
    period, _, filters = filters_from_key(key, visible_to_owner_id)
    with Session(engine(url)) as session:
        ctx = KpiContext.create(session=session, filters=filters)
        return drilldown(ctx, kpi_id=kpi_id, period=period)


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_completeness_by_owner(
    url: str, key: FilterKey, visible_to_owner_id: int | None
) -> pd.DataFrame:
    """[group, customers, filled, slots, completeness] per owner (by display name)."""
    _, _, filters = filters_from_key(key, visible_to_owner_id)
    with Session(engine(url)) as session:
        ctx = KpiContext.create(session=session, filters=filters)
        return completeness_by(ctx, by="owner")


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_records_to_fix(
    url: str, key: FilterKey, visible_to_owner_id: int | None, owner_id: int | None
) -> pd.DataFrame:
    """Customers lacking important fields (most gaps first), of one owner or all."""
    _, _, filters = filters_from_key(key, visible_to_owner_id)
    with Session(engine(url)) as session:
        ctx = KpiContext.create(session=session, filters=filters)
        return records_to_fix(ctx, owner_id=owner_id)


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_customer_owners(
    url: str, key: FilterKey, visible_to_owner_id: int | None
) -> list[tuple[int, str]]:
    """(user id, display name) of the users owning customers within the filters."""
    _, _, filters = filters_from_key(key, visible_to_owner_id)
    conditions = [Customer.archived.is_(False), *filters.conditions()]
    with Session(engine(url)) as session:
        rows = session.exec(
            select(User.id, User.display_name)
            .join(Customer, Customer.owner_id == User.id)
            .where(*conditions)
            .distinct()
            .order_by(User.display_name)
        ).all()
    return [(int(user_id), name) for user_id, name in rows]


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_targets(url: str) -> pd.DataFrame:
    """Every KPI target, newest period first."""
    with Session(engine(url)) as session:
        rows = session.exec(
            select(
                Target.id,
                Target.kpi_id,
                Target.period_start,
                Target.period_end,
                Target.segment,
                Target.target_value,
            ).order_by(Target.period_start.desc(), Target.kpi_id)
        ).all()
    return pd.DataFrame(
        [(i, k, s, e, seg, float(v)) for i, k, s, e, seg, v in rows], columns=TARGET_COLUMNS
    )


def clear_kpi_caches() -> None:
    """Forget every cached KPI read; call after a write that changes KPIs or targets."""
    for loader in (
        load_has_records,
        load_kpi_report,
        load_overview,
        load_drilldown,
        load_completeness_by_owner,
        load_records_to_fix,
        load_customer_owners,
        load_targets,
    ):
        loader.clear()


def target_value_from_input(kpi_id: str, entered: float | Decimal | None) -> Decimal | None:
    """The stored target value: percentages are typed as 25 for 25% and stored as 0.25."""
    if entered is None:
        return None
    value = Decimal(str(entered))
    unit = all_kpis()[kpi_id].unit if kpi_id in all_kpis() else None
    return value / 100 if unit == "percent" else value


def save_target(url: str, *, actor: Actor, data: dict[str, Any]) -> tuple[str, int]:
    """Set a target through the target service: create it, or change the value of the one
    already set for the same KPI, period start and segment. Returns ("created" or
    "updated", target id); raises InvalidInput (per field), PermissionDenied, Conflict."""
    from app.errors import Conflict
    from app.services.catalogue import create_target, update_target

    with Session(engine(url)) as session:
        try:
            target = create_target(session=session, data=data, actor=actor)
            outcome = "created"
        except Conflict:
            session.rollback()
            segment = data.get("segment") or None
            existing = session.exec(
                select(Target.id).where(
                    Target.kpi_id == data["kpi_id"],
                    Target.period_start == data["period_start"],
                    Target.segment.is_(None) if segment is None else Target.segment == segment,
                )
            ).first()
            if existing is None:
                raise
            target = update_target(
                session=session,
                target_id=existing,
                data={"target_value": data["target_value"]},
                actor=actor,
            )
            outcome = "updated"
        target_id = int(target.id)
    clear_kpi_caches()
    return outcome, target_id
