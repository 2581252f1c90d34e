"""Financial KPIs (kpis.md, slides 145 and 148), targets and the engine's completion.

P = March 2026 = [28 Feb 17:00Z, 31 Mar 17:00Z); P' = [29 Jan, 1 Mar) local.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlmodel import Session

from app.kpi.base import KpiFilters
from app.kpi.period import Period
from app.models import CampaignPurpose, OrderStatus
from app.settings import set_setting

from .helpers import (
    MARCH,
    add_campaign,
    add_customers,
    add_order,
    add_target,
    d,
    kpis,
    local,
    utc,
    values,
)

FINANCE_IDS = [
    "revenue",
    "orders_count",
    "avg_order_value",
    "revenue_per_customer",
    "profit",
    "gross_margin",
    "marketing_cost",
    "marketing_roi",
    "cac",
    "roe",
    "customer_lifetime_value",
    "returning_revenue_share",
    "goal_completion_rate",
]
SUMS = {"revenue", "orders_count", "profit", "marketing_cost"}
A, B, C, D = 1, 2, 3, 4
Q1 = Period(dt.date(2026, 1, 1), dt.date(2026, 4, 1))


def build_finance(session: Session) -> None:
    add_customers(session, A, B, C, D)
    acq = CampaignPurpose.acquisition
    ret = CampaignPurpose.retention
    awa = CampaignPurpose.awareness
    # Campaign days are [start_date, end_date], both included; cost is spread evenly.
    # 20 Feb..11 Mar straddles the start: 20 days, 11 of them in March -> 11/20 of 2,000,000.
    add_campaign(session, 1, acq, dt.date(2026, 2, 20), dt.date(2026, 3, 11), 2000000)
    add_campaign(session, 2, ret, dt.date(2026, 3, 10), dt.date(2026, 3, 19), 500000)  # inside
    # 22 Mar..30 Apr: 40 days, 10 in March -> 10/40 of 1,200,000 = 300,000.
    add_campaign(session, 3, awa, dt.date(2026, 3, 22), dt.date(2026, 4, 30), 1200000)
    add_campaign(session, 4, acq, dt.date(2026, 4, 1), dt.date(2026, 4, 10), 900000)  # after P
    add_campaign(session, 5, ret, dt.date(2026, 1, 1), dt.date(2026, 2, 28), 800000)  # before P
    add_campaign(session, 6, awa, dt.date(2026, 3, 31), dt.date(2026, 3, 31), 70000)  # last day

    # A: old customer (first order Nov 2025).
    add_order(session, 1, A, local(2025, 11, 5, 10), 2000000, 1500000)
    # Exactly 00:00 local 1 Mar = start of P: counts; attributed to campaign 1.
    add_order(session, 2, A, utc(2026, 2, 28, 17, 0), 1000000, 600000, campaign_id=1)
    add_order(session, 3, A, local(2026, 3, 15, 10), "500000.40", "300000.20")
    # B: new in P; attributed to campaign 2. B's cancelled order (campaign 1) never counts.
    add_order(session, 4, B, local(2026, 3, 10, 10), 3000000, 2000000, campaign_id=2)
    add_order(
        session,
        7,
        B,
        local(2026, 3, 12, 10),
        7000000,
        1000000,
        OrderStatus.cancelled,
        campaign_id=1,
    )
    # C: new in P at 23:30 local 31 Mar (the last half hour of P).
    add_order(session, 5, C, utc(2026, 3, 31, 16, 30), 1500000, 1200000)
    # Exactly 00:00 local 1 Apr = end of P: not in P, and not "before end" either.
    add_order(session, 6, C, utc(2026, 3, 31, 17, 0), 9999999, 1)
    add_order(session, 8, C, local(2026, 3, 13, 10), 5000000, 1000000, OrderStatus.draft)
    # D: 23:30 local 28 Feb belongs to P' (the last half hour of February).
    add_order(session, 9, D, utc(2026, 2, 28, 16, 30), 800000, 500000)
    add_order(session, 10, D, local(2025, 12, 20, 10), 400000, 100000)


# Counted orders in P: 2 (1,000,000 / 600,000), 3 (500,000.40 / 300,000.20),
# 4 (3,000,000 / 2,000,000), 5 (1,500,000 / 1,200,000).
REVENUE = d("6000000.40")
COST = d("4100000.20")
PROFIT = d("1900000.20")
MARKETING = d(1970000)  # 1,100,000 + 500,000 + 300,000 + 70,000


def test_finance_on_hand_fixture(session: Session) -> None:
    build_finance(session)
    got = kpis(session, FINANCE_IDS)
    assert got["revenue"].value == REVENUE
    assert got["orders_count"].value == 4
    assert float(got["avg_order_value"].value) == pytest.approx(1500000.10, abs=0.01)
    # Active: A, B, C.
    assert float(got["revenue_per_customer"].value) == pytest.approx(6000000.40 / 3, abs=0.01)
    assert got["profit"].value == PROFIT
    assert got["gross_margin"].value == pytest.approx(1900000.20 / 6000000.40)
    assert got["marketing_cost"].value == MARKETING
    assert got["marketing_cost"].details["by_purpose"] == {
        "acquisition": d(1100000),
        "retention": d(500000),
        "awareness": d(370000),
    }
    # Attributed profit in P: order 2 (400,000) + order 4 (1,000,000); the cancelled
    # order 7 of campaign 1 is not counted.
    assert got["marketing_roi"].value == pytest.approx((1400000 - 1970000) / 1970000)
    # Acquisition cost 1,100,000 / new customers B and C.
    assert float(got["cac"].value) == pytest.approx(550000, abs=0.01)
    assert got["roe"].value is None  # the equity setting is not set
    # Profit of every counted order before the end: 500,000 + 400,000 + 200,000.20
    # + 1,000,000 + 300,000 (C) + 300,000 + 300,000 (D) = 3,000,000.20 over A, B, C, D.
    assert float(got["customer_lifetime_value"].value) == pytest.approx(750000.05, abs=0.01)
    # Old customers in P: A only, 1,500,000.40 of 6,000,000.40.
    assert got["returning_revenue_share"].value == pytest.approx(1500000.40 / 6000000.40)
    assert got["goal_completion_rate"].value is None  # no targets


def test_roe_with_equity(session: Session) -> None:
    build_finance(session)
    set_setting(session=session, key="equity", value=10000000)
    assert values(session, ["roe"])["roe"] == pytest.approx(1900000.20 / 10000000)
    # Equity 0 is a zero denominator.
    set_setting(session=session, key="equity", value=0)
    assert values(session, ["roe"])["roe"] is None


def test_finance_previous_period(session: Session) -> None:
    build_finance(session)
    got = kpis(
        session,
        ["revenue", "profit", "marketing_cost"],
        Period(MARCH.start.replace(month=2), MARCH.start),
    )
    # February: order 9 (23:30 local 28 Feb) only.
    assert got["revenue"].value == d(800000)
    assert got["profit"].value == d(300000)
    # Campaign 1: 9 of its 20 days fall in February; campaign 5 (1 Jan - 28 Feb) runs 59
    # days, 28 of them in February.
    expected = Decimal(2000000) * 9 / 20 + Decimal(800000) * 28 / 59
    assert float(got["marketing_cost"].value) == pytest.approx(float(expected), abs=0.01)
    assert got["marketing_cost"].details["by_purpose"]["awareness"] == 0


def test_finance_empty_database(session: Session) -> None:
    got = values(session, FINANCE_IDS)
    for kpi_id in FINANCE_IDS:
        if kpi_id in SUMS:
            assert got[kpi_id] == 0, kpi_id
        else:
            assert got[kpi_id] is None, kpi_id


def test_finance_zero_denominators(session: Session) -> None:
    """A free order (amount 0), an acquisition campaign but no new customer, equity 0."""
    add_customers(session, 1)
    add_order(session, 1, 1, local(2025, 6, 1, 10), 100000, 100000)
    add_order(session, 2, 1, local(2026, 3, 10, 10), 0, 0)
    add_campaign(
        session, 1, CampaignPurpose.acquisition, dt.date(2026, 3, 1), dt.date(2026, 3, 10), 1000
    )
    set_setting(session=session, key="equity", value=0)
    # A target outside P is not a target of P.
    add_target(session, 1, "revenue", dt.date(2026, 2, 1), dt.date(2026, 3, 1), 1)
    got = values(session, FINANCE_IDS)
    assert got["revenue"] == 0
    assert got["orders_count"] == 1
    assert got["avg_order_value"] == 0  # 0 / 1 order: defined
    assert got["revenue_per_customer"] == 0
    assert got["gross_margin"] is None  # revenue 0
    assert got["returning_revenue_share"] is None  # revenue 0
    assert got["cac"] is None  # no new customers
    assert got["roe"] is None  # equity 0
    assert got["goal_completion_rate"] is None
    assert got["marketing_roi"] == pytest.approx(-1.0)  # (0 - 1000) / 1000
    assert got["customer_lifetime_value"] == 0  # profit 0 over 1 customer


def test_marketing_roi_without_campaign_cost(session: Session) -> None:
    """Attributed profit but no campaign cost in P: ROI is undefined."""
    add_customers(session, 1)
    add_campaign(
        session, 1, CampaignPurpose.retention, dt.date(2026, 2, 1), dt.date(2026, 2, 10), 5000
    )
    add_order(session, 1, 1, local(2026, 3, 10, 10), 1000, 500, campaign_id=1)
    got = values(session, ["marketing_roi", "marketing_cost", "cac"])
    assert got["marketing_cost"] == 0
    assert got["marketing_roi"] is None
    assert got["cac"] == 0  # no acquisition cost over one new customer


def add_march_targets(session: Session) -> None:
    # Inside P: revenue for all of March, met (6,000,000.40 >= 5,000,000).
    add_target(session, 1, "revenue", dt.date(2026, 3, 1), dt.date(2026, 4, 1), 5000000)
    # Inside P: orders in [1 Mar, 16 Mar) = orders 2, 4, 3 (15 Mar) = 3 >= 3: met.
    add_target(session, 2, "orders_count", dt.date(2026, 3, 1), dt.date(2026, 3, 16), 3)
    # Inside P, lower is better: marketing cost 1,970,000 > 1,500,000: not met.
    add_target(session, 3, "marketing_cost", dt.date(2026, 3, 1), dt.date(2026, 4, 1), 1500000)
    # Not inside P: February, and a range ending in April.
    add_target(session, 4, "revenue", dt.date(2026, 2, 1), dt.date(2026, 3, 1), 1)
    add_target(session, 7, "revenue", dt.date(2026, 3, 15), dt.date(2026, 4, 15), 1)
    # A segment target is not a target of the unfiltered view.
    add_target(session, 5, "revenue", dt.date(2026, 3, 1), dt.date(2026, 4, 1), 1, segment="SME")
    # Inside P: new customers in [16 Mar, 1 Apr) = C only = 1 < 2: not met.
    add_target(session, 6, "new_customers", dt.date(2026, 3, 16), dt.date(2026, 4, 1), 2)


def test_goal_completion_rate(session: Session) -> None:
    build_finance(session)
    add_march_targets(session)
    result = kpis(session, ["goal_completion_rate"])["goal_completion_rate"]
    assert result.value == pytest.approx(2 / 4)
    rows = {row["kpi_id"]: row for row in result.details["targets"]}
    assert set(rows) == {"revenue", "orders_count", "marketing_cost", "new_customers"}
    assert rows["revenue"]["met"] is True
    assert rows["revenue"]["completion"] == pytest.approx(6000000.40 / 5000000)
    assert rows["orders_count"]["met"] is True
    assert rows["orders_count"]["actual"] == 3
    assert rows["marketing_cost"]["met"] is False
    assert rows["new_customers"]["met"] is False
    assert rows["new_customers"]["completion"] == pytest.approx(1 / 2)


def test_engine_target_for_exact_period(session: Session) -> None:
    build_finance(session)
    add_march_targets(session)
    got = kpis(session, ["revenue", "orders_count", "gross_margin"])
    assert got["revenue"].target == d(5000000)
    assert got["revenue"].completion == pytest.approx(6000000.40 / 5000000)
    # The only orders_count target covers half of March: no target for the month.
    assert got["orders_count"].target is None
    assert got["orders_count"].completion is None
    assert got["gross_margin"].target is None


def test_engine_target_summed_over_a_quarter(session: Session) -> None:
    """Monthly targets of an additive KPI that cover a quarter add up to its target."""
    build_finance(session)
    for number, (start, end) in enumerate(
        [((2026, 1, 1), (2026, 2, 1)), ((2026, 2, 1), (2026, 3, 1)), ((2026, 3, 1), (2026, 4, 1))]
    ):
        first, last = dt.date(*start), dt.date(*end)
        add_target(session, 10 + number, "profit", first, last, 700000)
        add_target(session, 20 + number, "gross_margin", first, last, "0.3")
        if number != 1:  # orders_count has no February target: the quarter is not covered
            add_target(session, 30 + number, "orders_count", first, last, 2)
    got = kpis(session, ["profit", "gross_margin", "orders_count"], Q1)
    # Profit in Q1: March 1,900,000.20 + order 9 (23:30 local 28 Feb) 300,000.
    assert got["profit"].value == d("2200000.20")
    assert got["profit"].target == d(2100000)
    assert got["profit"].completion == pytest.approx(2200000.20 / 2100000)
    # Ratios are not additive: monthly margin targets give no quarter target.
    assert got["gross_margin"].target is None
    assert got["orders_count"].target is None


def test_engine_completion_lower_is_better_met(session: Session) -> None:
    """A lower-is-better KPI under its target is met (marketing 1,970,000 <= 2,000,000)."""
    build_finance(session)
    add_target(session, 1, "marketing_cost", dt.date(2026, 3, 1), dt.date(2026, 4, 1), 2000000)
    result = kpis(session, ["goal_completion_rate"])["goal_completion_rate"]
    assert result.value == 1.0
    assert result.details["targets"][0]["met"] is True


def test_goal_completion_with_segment_filter(session: Session) -> None:
    """With segment=SME only the SME target counts; no customer is SME so revenue is 0."""
    build_finance(session)
    add_march_targets(session)
    result = kpis(session, ["goal_completion_rate", "revenue"], filters=KpiFilters(segment="SME"))
    assert result["revenue"].value == 0
    assert result["revenue"].target == d(1)
    assert result["goal_completion_rate"].value == 0.0
