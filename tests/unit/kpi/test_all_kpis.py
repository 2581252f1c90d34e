"""Every registered KPI on the empty database, and SQLite vs PostgreSQL on one fixture."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlmodel import Session

from app.db import get_engine
from app.kpi.engine import compute
from app.kpi.registry import all_kpis
from app.models import CampaignPurpose, InquiryStatus, InteractionKind, Severity, Stage
from app.settings import set_setting

from .helpers import (
    MARCH,
    add_answer,
    add_campaign,
    add_complaint,
    add_inquiry,
    add_interaction,
    add_member,
    add_opportunity,
    add_order,
    add_target,
    add_user,
    local,
    utc,
)
from .test_results import build_results

COUNT_UNITS = {"count", "money"}


def test_registry_has_the_56_catalogue_ids() -> None:
    assert len(all_kpis()) == 56


def test_every_kpi_on_the_empty_database(session: Session) -> None:
    report = compute(session, None, MARCH, None, "previous")
    assert len(report.kpis) == 56
    for result in report.kpis:
        if result.id == "crm_maturity_level":
            assert result.value == 0
        elif result.unit in COUNT_UNITS and result.id not in {
            "avg_order_value",
            "revenue_per_customer",
            "cac",
            "customer_lifetime_value",
        }:
            assert result.value == 0, result.id
            assert result.change == 0, result.id
            assert result.change_pct is None, result.id
        else:
            assert result.value is None, result.id
            assert result.change is None, result.id


def build_everything(session: Session) -> None:
    """The results fixture plus rows for every other table the KPIs read."""
    build_results(session)  # customers 1-12, products 1-3, orders, complaints 1-7
    for user_id in (1, 2):
        add_user(session, user_id)
    add_campaign(
        session, 1, CampaignPurpose.acquisition, dt.date(2026, 2, 20), dt.date(2026, 3, 11), 2000000
    )
    add_campaign(
        session, 2, CampaignPurpose.retention, dt.date(2026, 3, 22), dt.date(2026, 4, 30), 1200000
    )
    add_member(session, 1, 1, 6, local(2026, 3, 3, 9))
    add_order(
        session, 5001, 6, local(2026, 3, 4, 9), 700000, 300000, campaign_id=1, promotion="-10%"
    )
    add_order(session, 5002, 2, local(2026, 3, 5, 9), 900000, 100000, lines=[(1, True, "0.1")])
    t = utc(2026, 3, 3)
    h = dt.timedelta(hours=1)
    add_complaint(
        session,
        100,
        1,
        t,
        severity=Severity.critical,
        first_response_at=t + h,
        resolved_at=t + 3 * h,
    )
    add_complaint(
        session,
        101,
        3,
        t,
        severity=Severity.high,
        first_response_at=t + 5 * h,
        resolved_at=t + 30 * h,
    )
    add_complaint(session, 102, 4, utc(2026, 3, 20), severity=Severity.low)
    for number, (customer, nps, csat) in enumerate(
        [(1, 10, 5), (3, 6, 2), (4, 8, 4), (1, 3, None)]
    ):
        add_answer(session, number + 1, customer, local(2026, 3, 5 + number, 9), nps=nps, csat=csat)
    add_interaction(session, 1, 1, local(2026, 3, 2, 9), user_id=1)
    add_interaction(session, 2, 1, local(2026, 3, 3, 9), user_id=2, kind=InteractionKind.feedback)
    add_interaction(session, 3, 3, local(2026, 3, 4, 9), user_id=1)
    add_inquiry(session, 1, 6, local(2026, 3, 1, 9), InquiryStatus.fulfilled)
    add_inquiry(session, 2, 3, local(2026, 3, 2, 9), InquiryStatus.unmet)
    add_opportunity(
        session, 1, 1, local(2026, 2, 1, 9), amount=2000000,
        history=[(Stage.lead, local(2026, 2, 1, 9)), (Stage.won, local(2026, 3, 12, 9))],
        closed_at=local(2026, 3, 12, 9),
    )  # fmt: skip
    add_opportunity(
        session, 2, 3, local(2026, 3, 2, 9), amount=1000000,
        history=[(Stage.lead, local(2026, 3, 2, 9)), (Stage.proposal, local(2026, 3, 9, 9))],
    )  # fmt: skip
    add_opportunity(
        session, 3, 4, local(2026, 3, 3, 9), amount=500000,
        history=[(Stage.lead, local(2026, 3, 3, 9)), (Stage.lost, local(2026, 3, 13, 9))],
        closed_at=local(2026, 3, 13, 9),
    )  # fmt: skip
    add_target(session, 1, "revenue", MARCH.start, MARCH.end, 5000000)
    add_target(session, 2, "orders_count", MARCH.start, MARCH.end, 100)
    session.commit()
    set_setting(session=session, key="equity", value=50000000)


def same(left: Any, right: Any) -> bool:
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, float) or isinstance(right, float):
        return left is not None and right is not None and left == pytest.approx(right, rel=1e-9)
    return left == right


def test_sqlite_and_postgresql_agree(sqlite_url: str, pg_url: str) -> None:
    reports = {}
    for url in (sqlite_url, pg_url):
        with Session(get_engine(url), expire_on_commit=False) as session:
            build_everything(session)
            reports[url] = compute(session, None, MARCH, None, "previous").by_id()
    lite, pg = reports[sqlite_url], reports[pg_url]
    assert lite.keys() == pg.keys() and len(lite) == 56
    differing = [
        (kpi_id, lite[kpi_id].value, pg[kpi_id].value)
        for kpi_id in lite
        if not (
            same(lite[kpi_id].value, pg[kpi_id].value)
            and same(lite[kpi_id].compare_value, pg[kpi_id].compare_value)
            and same(lite[kpi_id].details, pg[kpi_id].details)
        )
    ]
    assert differing == []
    # The fixture is not trivial: most KPIs have a value.
    assert sum(result.value not in (None, 0) for result in pg.values()) >= 45


def test_registry_follows_the_catalogue_order() -> None:
    """Listings follow kpis.md whatever module was imported first."""
    from app.kpi.registry import CATALOGUE_ORDER, all_kpis

    assert tuple(all_kpis()) == CATALOGUE_ORDER
