"""Drill-downs of the Campaigns page KPIs (marketing cost, ROI, CAC), computed by hand.

The data is the ``campaigns`` fixture of test_analyses_sales (March 2026, Asia/Ho_Chi_Minh):
  campaign 1 Email Xuân (acquisition) 15 Feb – 16 Mar, cost 3000: 16 of 30 days → 1600;
  campaign 2 Hội chợ (retention) 10 – 19 Mar, cost 1000: all 10 days → 1000;
  campaign 5 Email nhắc (retention) all of March, cost 310 → 310;
  campaigns 3 (ends 28 Feb) and 4 (starts 1 Apr) do not overlap March.
Counted March orders with a campaign: S1 (c1, 1000 − 600), S2 (c2, 500 − 300), S4 (c1,
400 − 100); S5 is cancelled, S7 falls on 1 April. New customers in March: M1 (first order
S1, campaign 1) and M3 (first counted order S6, no campaign: its S5 was cancelled).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlmodel import Session

from app.kpi import analyses_sales as analyses
from tests.unit.test_analyses_sales import (  # noqa: F401 - the fixture is used by name
    MARCH,
    campaigns,
    ctx_for,
    records,
    value_of,
)


def test_campaign_kpis_have_drilldowns() -> None:
    assert {"marketing_cost", "marketing_roi", "cac"} <= analyses.DRILLDOWN_KPIS


def test_marketing_cost_rows_are_the_campaigns_with_their_share(campaigns: Session) -> None:  # noqa: F811
    frame = analyses.drilldown(ctx_for(campaigns), kpi_id="marketing_cost", period=MARCH)
    assert list(frame.columns) == analyses.MARKETING_DRILL_COLUMNS
    assert records(frame) == [
        (1, "Email Xuân", "email", "acquisition", dt.date(2026, 2, 15), dt.date(2026, 3, 16),
         Decimal("3000.00"), 30, 16, Decimal("1600.00")),
        (5, "Email nhắc", "email", "retention", dt.date(2026, 3, 1), dt.date(2026, 3, 31),
         Decimal("310.00"), 31, 31, Decimal("310.00")),
        (2, "Hội chợ", "event", "retention", dt.date(2026, 3, 10), dt.date(2026, 3, 19),
         Decimal("1000.00"), 10, 10, Decimal("1000.00")),
    ]  # fmt: skip
    assert sum(frame["allocated_cost"]) == value_of(campaigns, "marketing_cost", MARCH)


def test_marketing_roi_rows_add_up_to_the_kpi(campaigns: Session) -> None:  # noqa: F811
    frame = analyses.drilldown(ctx_for(campaigns), kpi_id="marketing_roi", period=MARCH)
    assert list(frame.columns) == analyses.ROI_DRILL_COLUMNS
    assert records(frame) == [
        (1, "Email Xuân", "email", "acquisition", Decimal("1600.00"), 2, Decimal("1400.00"),
         Decimal("700.00")),
        (5, "Email nhắc", "email", "retention", Decimal("310.00"), 0, Decimal("0.00"),
         Decimal("0.00")),
        (2, "Hội chợ", "event", "retention", Decimal("1000.00"), 1, Decimal("500.00"),
         Decimal("200.00")),
    ]  # fmt: skip
    profit, cost = sum(frame["attributed_profit"]), sum(frame["allocated_cost"])
    # (900 − 2910) ÷ 2910
    assert float((profit - cost) / cost) == pytest.approx(-2010 / 2910)
    assert value_of(campaigns, "marketing_roi", MARCH) == pytest.approx(-2010 / 2910)


def test_cac_rows_are_the_new_customers_with_an_equal_share(campaigns: Session) -> None:  # noqa: F811
    frame = analyses.drilldown(ctx_for(campaigns), kpi_id="cac", period=MARCH)
    assert list(frame.columns) == analyses.CAC_DRILL_COLUMNS
    assert list(frame["customer_code"]) == ["M1", "M3"]
    assert [None if v != v else v for v in frame["first_order_campaign"]] == ["Email Xuân", None]
    # 1600 of acquisition cost ÷ 2 new customers.
    assert list(frame["acquisition_cost_share"]) == [Decimal("800.00")] * 2
    assert value_of(campaigns, "cac", MARCH) == Decimal("800.00")
    assert len(frame) == value_of(campaigns, "new_customers", MARCH)
    assert frame["first_order_at"].iloc[0].utcoffset() == dt.timedelta(hours=7)


def test_campaign_drilldowns_respect_the_limit(campaigns: Session) -> None:  # noqa: F811
    ctx = ctx_for(campaigns)
    assert len(analyses.drilldown(ctx, kpi_id="marketing_cost", period=MARCH, limit=1)) == 1
    assert len(analyses.drilldown(ctx, kpi_id="marketing_roi", period=MARCH, limit=2)) == 2
    assert list(analyses.drilldown(ctx, kpi_id="cac", period=MARCH, limit=1)["customer_code"]) == [
        "M1"
    ]
