"""Every filter field restricts the customers whose records the KPIs use (kpis.md).

Four customers; each filter field selects a different pair of them, so each pair's
revenue is distinct: 1 -> 1,500,000 (two orders), 2 -> 2,000,000, 3 -> 4,000,000,
4 -> 8,000,000. Complaints in P: 1 -> 1, 2 -> 2, 3 -> 0, 4 -> 4.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import Session

from app.kpi.base import KpiFilters
from app.models import Channel, CustomerKind, OrderStatus

from .helpers import add_complaint, add_customer, add_order, add_user, local, values

IDS = ["revenue", "active_customers", "complaints_opened", "avg_order_value"]


def build_filter_fixture(session: Session) -> None:
    add_user(session, 1)
    add_user(session, 2)
    people = {
        # id: segment, region, province, owner, channel, kind
        1: ("SME", "North", "Hà Nội", 1, Channel.web, CustomerKind.organisation),
        2: ("Retail", "South", "TP HCM", 2, Channel.web, CustomerKind.organisation),
        3: ("SME", "South", "Cần Thơ", 1, Channel.referral, CustomerKind.person),
        4: ("Retail", "North", "Hà Nội", 2, Channel.event, CustomerKind.person),
    }
    for customer_id, (segment, region, province, owner, channel, kind) in people.items():
        add_customer(
            session,
            customer_id,
            segment=segment,
            region=region,
            province=province,
            owner_id=owner,
            channel=channel,
            kind=kind,
        )
    add_order(session, 1, 1, local(2026, 3, 2, 9), 1000000)
    add_order(session, 2, 1, local(2026, 3, 3, 9), 500000)
    add_order(session, 3, 2, local(2026, 3, 4, 9), 2000000)
    add_order(session, 4, 2, local(2026, 3, 5, 9), 9000000, status=OrderStatus.cancelled)
    add_order(session, 5, 3, local(2026, 3, 6, 9), 4000000)
    add_order(session, 6, 4, local(2026, 3, 7, 9), 8000000)
    add_order(session, 7, 4, local(2026, 3, 8, 9), 16000000, status=OrderStatus.draft)
    number = 0
    for customer_id, complaints in {1: 1, 2: 2, 4: 4}.items():
        for _ in range(complaints):
            number += 1
            add_complaint(session, number, customer_id, local(2026, 3, 10, 9))


@pytest.mark.parametrize(
    ("filters", "revenue", "orders", "complaints"),
    [
        pytest.param(KpiFilters(segment="SME"), 5500000, 3, 1, id="segment"),  # 1, 3
        pytest.param(KpiFilters(region="South"), 6000000, 2, 2, id="region"),  # 2, 3
        pytest.param(KpiFilters(province="Hà Nội"), 9500000, 3, 5, id="province"),  # 1, 4
        pytest.param(KpiFilters(owner_id=2), 10000000, 2, 6, id="owner_id"),  # 2, 4
        pytest.param(KpiFilters(channel="web"), 3500000, 3, 3, id="channel"),  # 1, 2
        pytest.param(KpiFilters(kind="person"), 12000000, 2, 4, id="kind"),  # 3, 4
    ],
)
def test_each_filter_field_restricts_customers(
    session: Session, filters: KpiFilters, revenue: int, orders: int, complaints: int
) -> None:
    build_filter_fixture(session)
    got = values(session, IDS, filters=filters)
    assert got["revenue"] == Decimal(revenue)
    assert got["active_customers"] == 2
    assert got["complaints_opened"] == complaints
    assert float(got["avg_order_value"]) == pytest.approx(revenue / orders, abs=0.01)


def test_filters_combine_and_can_match_nobody(session: Session) -> None:
    build_filter_fixture(session)
    # SME and person: customer 3 only.
    got = values(session, IDS, filters=KpiFilters(segment="SME", kind="person"))
    assert got == {
        "revenue": Decimal(4000000),
        "active_customers": 1,
        "complaints_opened": 0,
        "avg_order_value": Decimal(4000000),
    }
    got = values(session, IDS, filters=KpiFilters(segment="VIP"))
    assert got["revenue"] == 0
    assert got["active_customers"] == 0
    assert got["avg_order_value"] is None
    # Unfiltered: all four customers.
    assert values(session, ["revenue"])["revenue"] == Decimal(15500000)
