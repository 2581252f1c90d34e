"""Cached loaders of the analysis pages: Pipeline, Campaigns, Complaints and Forecast.

One loader per page runs every analysis the page shows in one session and returns a
plain, picklable bundle of DataFrames and KPI results (never ORM objects). The cache key
is the database URL, the global filters' ``cache_key()``, the actor's visible scope
(staff see their own and unassigned customers only) and today, so two users with
different scopes never share an entry. Results do not depend on the language: pages
format them through ``components/charts_*``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from app.kpi import analyses_sales as sales
from app.kpi import analyses_service as service
from app.kpi import forecast
from app.kpi.base import KpiContext, KpiFilters
from app.kpi.engine import KpiResult, compute
from app.kpi.period import Period
from app.services.access import Actor
from components.data import (
    QUERY_MAX_ENTRIES,
    QUERY_TTL_SECONDS,
    database_url,
    engine,
    load_today,
)
from components.filters import GlobalFilters

PIPELINE_KPIS = ("pipeline_value", "weighted_pipeline", "win_rate", "sales_cycle_days")
CAMPAIGN_KPIS = ("marketing_cost", "marketing_roi", "cac")
COMPLAINT_KPIS = (
    "complaints_opened",
    "complaint_rate",
    "sla_compliance_rate",
    "open_past_sla",
    "first_response_hours",
    "resolution_hours",
)
FORECAST_HORIZON = 3


# ------------------------------------------------------------------------------ bundles
@dataclass
class PipelineData:
    """Everything the Pipeline page shows."""

    period: Period
    kpis: dict[str, KpiResult]
    by_stage: pd.DataFrame
    cohort: pd.DataFrame
    close_months: pd.DataFrame
    forecast_as_of: dt.date
    time_in_stage: pd.DataFrame
    cycle: pd.DataFrame
    lost: pd.DataFrame
    owners: pd.DataFrame

    @property
    def has_data(self) -> bool:
        return not (self.by_stage.empty and self.cohort.empty and self.owners.empty)


@dataclass
class CampaignData:
    """Everything the Campaigns page shows."""

    period: Period
    kpis: dict[str, KpiResult]
    campaigns: pd.DataFrame
    channels: pd.DataFrame
    options: dict[int, str] = field(default_factory=dict)

    @property
    def has_data(self) -> bool:
        return not self.campaigns.empty

    def row(self, campaign_id: int | None) -> dict[str, Any] | None:
        """One campaign's figures as a dict, or None."""
        if campaign_id is None or self.campaigns.empty:
            return None
        rows = self.campaigns[self.campaigns["campaign_id"] == campaign_id]
        return None if rows.empty else rows.iloc[0].to_dict()


@dataclass
class ComplaintData:
    """Everything the Complaints page shows."""

    period: Period
    kpis: dict[str, KpiResult]
    by_category: pd.DataFrame
    by_severity: pd.DataFrame
    by_status: pd.DataFrame
    trend: pd.DataFrame
    backlog: pd.DataFrame
    response: pd.DataFrame
    rate: pd.DataFrame
    breach: pd.DataFrame

    @property
    def has_data(self) -> bool:
        return not (
            self.by_category.empty
            and self.backlog.empty
            and self.response.empty
            and self.breach.empty
        )


@dataclass
class ForecastData:
    """Everything the Forecast page shows, for one method."""

    as_of: dt.date
    method: str
    demand: pd.DataFrame
    backtest: pd.DataFrame
    sales: pd.DataFrame
    categories: list[str]

    @property
    def has_data(self) -> bool:
        return not (self.demand.empty and self.sales.empty)


# ------------------------------------------------------------------------------ helpers
def visible_scope(actor: Actor) -> int | None:
    """The owner id a staff user is restricted to (None: every customer)."""
    return actor.user_id if actor.sees_own_customers_only else None


def _unpack(key: tuple, visible_to_owner_id: int | None) -> tuple[Period, str, KpiFilters]:
    """Period, compare mode and KPI filters back from ``GlobalFilters.cache_key()``."""
    start, end, compare, segment, region, province, owner_id, kind = key
    period = Period(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    filters = KpiFilters(
        segment=segment,
        region=region,
        province=province,
        owner_id=owner_id,
        kind=kind,
        visible_to_owner_id=visible_to_owner_id,
    )
    return period, compare, filters


def until_today(period: Period, today: dt.date) -> Period:
    """The period cut at the end of today: "open at the end" of a period that has not
    ended yet means open now, so forecasts start with the current month."""
    end = min(period.end, today + dt.timedelta(days=1))
    return Period(period.start, end) if end > period.start else period


def _kpis(
    session: Session, ids: tuple[str, ...], period: Period, compare: str, filters: KpiFilters
):  # noqa: ANN202
    report = compute(session, list(ids), period, filters, compare)
    return report.by_id()


# ------------------------------------------------------------------------------ loaders
@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_pipeline(
    url: str, key: tuple, visible_to_owner_id: int | None, today_iso: str
) -> PipelineData:
    """The Pipeline page's frames and KPI results."""
    period, compare, filters = _unpack(key, visible_to_owner_id)
    now_period = until_today(period, dt.date.fromisoformat(today_iso))
    with Session(engine(url)) as session:
        ctx = KpiContext.create(session=session, filters=filters)
        return PipelineData(
            period=period,
            kpis=_kpis(session, PIPELINE_KPIS, period, compare, filters),
            by_stage=sales.pipeline_by_stage(ctx, period=period),
            cohort=sales.stage_funnel(ctx, period=period),
            close_months=sales.forecast_by_close_month(ctx, period=now_period),
            forecast_as_of=now_period.as_of_day,
            time_in_stage=sales.time_in_stage(ctx, period=period),
            cycle=sales.sales_cycle(ctx, period=period),
            lost=sales.lost_reasons(ctx, period=period),
            owners=sales.owner_performance(ctx, period=period),
        )


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_campaigns(
    url: str, key: tuple, visible_to_owner_id: int | None, today_iso: str
) -> CampaignData:
    """The Campaigns page's frames and KPI results."""
    period, compare, filters = _unpack(key, visible_to_owner_id)
    with Session(engine(url)) as session:
        ctx = KpiContext.create(session=session, filters=filters)
        campaigns = sales.campaign_results(ctx, period=period)
        return CampaignData(
            period=period,
            kpis=_kpis(session, CAMPAIGN_KPIS, period, compare, filters),
            campaigns=campaigns,
            channels=sales.campaigns_by_channel(ctx, period=period),
            options=(
                {}
                if campaigns.empty
                else dict(zip(campaigns["campaign_id"].astype(int), campaigns["name"], strict=True))
            ),
        )


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_complaints(
    url: str, key: tuple, visible_to_owner_id: int | None, today_iso: str
) -> ComplaintData:
    """The Complaints page's frames and KPI results."""
    period, compare, filters = _unpack(key, visible_to_owner_id)
    today = dt.date.fromisoformat(today_iso)
    with Session(engine(url)) as session:
        ctx = KpiContext.create(session=session, filters=filters)
        trend = service.complaint_trend(ctx, period=period)
        if not trend.empty:
            # Months after the current one have nothing yet: leave them off the chart.
            trend = trend[trend["month"] <= today.strftime("%Y-%m")].reset_index(drop=True)
        return ComplaintData(
            period=period,
            kpis=_kpis(session, COMPLAINT_KPIS, period, compare, filters),
            by_category=service.complaint_counts(ctx, period=period, by="category"),
            by_severity=service.complaint_counts(ctx, period=period, by="severity"),
            by_status=service.complaint_counts(ctx, period=period, by="status"),
            trend=trend,
            backlog=service.backlog_aging(ctx, period=period),
            response=service.response_times(ctx, period=period),
            rate=service.complaint_rate_per_100(ctx, period=period),
            breach=service.breach_impact(ctx, period=period),
        )


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_forecast(
    url: str, key: tuple, visible_to_owner_id: int | None, today_iso: str, method: str
) -> ForecastData:
    """Demand forecast and backtest of ``method``, and the weighted sales forecast."""
    period, _, filters = _unpack(key, visible_to_owner_id)
    today = dt.date.fromisoformat(today_iso)
    now_period = until_today(period, today)
    as_of = now_period.as_of_day
    with Session(engine(url)) as session:
        ctx = KpiContext.create(session=session, filters=filters)
        demand = forecast.demand_forecast(ctx, as_of=as_of, horizon=FORECAST_HORIZON, method=method)
        return ForecastData(
            as_of=as_of,
            method=method,
            demand=demand,
            backtest=forecast.forecast_backtest(
                ctx, as_of=as_of, horizon=FORECAST_HORIZON, method=method
            ),
            sales=forecast.sales_forecast(ctx, period=now_period),
            categories=[] if demand.empty else sorted(demand["category"].unique().tolist()),
        )


# ------------------------------------------------------------------------------ for pages
def _args(filters: GlobalFilters, actor: Actor) -> tuple[str, tuple, int | None, str]:
    url = database_url()
    return url, filters.cache_key(), visible_scope(actor), load_today(url)


def pipeline_data(filters: GlobalFilters, actor: Actor) -> PipelineData:
    """The Pipeline page's data for these filters and this user."""
    return load_pipeline(*_args(filters, actor))


def campaign_data(filters: GlobalFilters, actor: Actor) -> CampaignData:
    """The Campaigns page's data for these filters and this user."""
    return load_campaigns(*_args(filters, actor))


def complaint_data(filters: GlobalFilters, actor: Actor) -> ComplaintData:
    """The Complaints page's data for these filters and this user."""
    return load_complaints(*_args(filters, actor))


def forecast_data(filters: GlobalFilters, actor: Actor, method: str) -> ForecastData:
    """The Forecast page's data for these filters, this user and a method."""
    if method not in forecast.FORECAST_METHODS:
        method = next(iter(forecast.FORECAST_METHODS))
    return load_forecast(*_args(filters, actor), method)


def today() -> dt.date:
    """Today in the display time zone (or ``CRM_AS_OF``)."""
    return dt.date.fromisoformat(load_today(database_url()))


def clear_analysis_caches() -> None:
    """Forget every cached analysis; call after writing opportunities, campaigns,
    complaints, orders or customers."""
    for loader in (load_pipeline, load_campaigns, load_complaints, load_forecast):
        loader.clear()
