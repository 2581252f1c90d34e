"""Analyses of app.kpi.analyses_service on a tiny hand-built CRM, on SQLite and PostgreSQL.

The display zone Asia/Ho_Chi_Minh is UTC+7 all year, so local midnight is 17:00 UTC of
the day before. The period P is June 2026:
  P  = [1 June 00:00 local, 1 July 00:00 local) = [31 May 17:00Z, 30 June 17:00Z)
  P' = the 30 days before = [2 May 00:00 local, 1 June) = [1 May 17:00Z, 31 May 17:00Z)
SLA hours: critical 4, high 24, medium 72, low 168.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from sqlmodel import Session

from app.kpi import analyses_service as analyses
from app.kpi.base import KpiContext, KpiFilters, median_and_p90
from app.kpi.engine import compute
from app.kpi.period import Period
from app.models import (
    Complaint,
    ComplaintStatus,
    Contact,
    Customer,
    CustomerKind,
    Gender,
    Inquiry,
    InquiryStatus,
    Order,
    OrderStatus,
    Product,
    Severity,
    SurveyResponse,
    User,
)

UTC = dt.UTC
JUNE = Period(dt.date(2026, 6, 1), dt.date(2026, 7, 1))
START = dt.datetime(2026, 5, 31, 17, 0, tzinfo=UTC)
END = dt.datetime(2026, 6, 30, 17, 0, tzinfo=UTC)


def utc(*parts: int) -> dt.datetime:
    """An aware UTC datetime."""
    return dt.datetime(*parts, tzinfo=UTC)


def context(session: Session, **filters: object) -> KpiContext:
    """A context with the stored settings and the given filters."""
    return KpiContext.create(session=session, filters=KpiFilters(**filters))


def customer(customer_id: int, code: str, **fields: object) -> Customer:
    """A fully filled organisation unless fields say otherwise."""
    data: dict[str, object] = {
        "kind": CustomerKind.organisation,
        "phone": f"090100{customer_id:04d}",
        "email": f"{code.lower()}@example.vn",
        "address": "1 Tràng Tiền",
        "province": "Hà Nội",
        "region": "Miền Bắc",
        "segment": "SME",
        "owner_id": 1,
        "industry": "Bán lẻ",
        "representative": "Ông Một",
    }
    data.update(fields)
    return Customer(id=customer_id, code=code, name=f"Khách {code}", **data)


def order(
    order_id: int,
    customer_id: int,
    ordered_at: dt.datetime,
    amount: str,
    cost: str,
    status: OrderStatus = OrderStatus.paid,
    **fields: object,
) -> Order:
    """An order header (analyses read amount and cost, not the lines)."""
    return Order(
        id=order_id,
        code=f"DH{order_id:04d}",
        customer_id=customer_id,
        ordered_at=ordered_at,
        status=status,
        amount=Decimal(amount),
        cost=Decimal(cost),
        **fields,
    )


def complaint(
    complaint_id: int,
    customer_id: int,
    severity: Severity,
    category: str,
    opened_at: dt.datetime,
    *,
    response_h: float | None = None,
    resolved_h: float | None = None,
    status: ComplaintStatus = ComplaintStatus.open,
) -> Complaint:
    """A complaint with its first response and resolution given in hours after opening."""
    return Complaint(
        id=complaint_id,
        customer_id=customer_id,
        severity=severity,
        category=category,
        opened_at=opened_at,
        first_response_at=None
        if response_h is None
        else opened_at + dt.timedelta(hours=response_h),
        resolved_at=None if resolved_h is None else opened_at + dt.timedelta(hours=resolved_h),
        status=status,
    )


def answer(
    answer_id: int, customer_id: int, answered_at: dt.datetime, nps: int | None, csat: int | None
) -> SurveyResponse:
    """A survey answer."""
    return SurveyResponse(
        id=answer_id, customer_id=customer_id, answered_at=answered_at, nps=nps, csat=csat
    )


@pytest.fixture
def crm(session: Session) -> Session:
    """Customers A B C D F (+ archived E), their orders, complaints, answers, inquiries."""
    session.add_all(
        [
            User(id=1, username="lan", display_name="Lan"),
            User(id=2, username="minh", display_name="Minh"),
        ]
    )
    session.flush()
    session.add_all(
        [
            # A: organisation, every important field filled.
            customer(1, "KH_A"),
            # B: organisation without e-mail and representative.
            customer(2, "KH_B", email=None, representative=None),
            # C: person, Retail, owner Minh, no birth year.
            customer(
                3,
                "KH_C",
                kind=CustomerKind.person,
                segment="Retail",
                province="TP. Hồ Chí Minh",
                region="Miền Nam",
                owner_id=2,
                industry=None,
                representative=None,
                gender=Gender.female,
                birth_year=None,
            ),
            # D: person with a blank phone (counts as empty), no segment, owner, gender.
            customer(
                4,
                "KH_D",
                kind=CustomerKind.person,
                phone="   ",
                segment=None,
                province=None,
                region=None,
                owner_id=None,
                industry=None,
                representative=None,
                birth_year=1990,
            ),
            # E: archived and empty: never listed for fixing, never "no purchase".
            Customer(id=5, code="KH_E", name="Khách KH_E", archived=True),
            # F: organisation, Retail, owner Minh, every field filled.
            customer(
                6,
                "KH_F",
                segment="Retail",
                province="TP. Hồ Chí Minh",
                region="Miền Nam",
                owner_id=2,
            ),
        ]
    )
    session.flush()
    session.add_all(
        [
            # A: 23:59 local 31 Dec 2025, and 00:00 local 1 Jan 2026 (different local years).
            order(9, 1, utc(2025, 12, 31, 16, 59), "400000", "300000"),
            order(10, 1, utc(2025, 12, 31, 17, 0), "600000", "200000"),
            order(1, 1, utc(2026, 5, 10, 3, 0), "1000000", "600000"),  # P': A active in P'
            # 00:00 local 1 June, exactly the start of P: counts in P.
            order(2, 1, START, "2000000", "1200000"),
            # B: first order ever in P, so B is new.
            order(
                3,
                2,
                utc(2026, 6, 15),
                "3000000",
                "2000000",
                payment_due=dt.date(2026, 7, 1),
                delivery_due=dt.date(2026, 6, 20),
            ),
            order(8, 2, utc(2026, 6, 16), "1000000", "500000", payment_due=dt.date(2026, 7, 1)),
            # C: exactly at the end of P (not in P); C bought in P' only, so churned.
            order(4, 3, END, "9000000", "1000000"),
            order(5, 3, utc(2026, 5, 20), "500000", "100000"),
            # D: a cancelled order never counts; the counted one sells at a loss.
            order(6, 4, utc(2026, 6, 20), "7000000", "1000", OrderStatus.cancelled),
            order(7, 4, utc(2026, 6, 20, 5), "1000000", "1100000"),
            # F: bought in P' and again in P.
            order(11, 6, utc(2026, 5, 15), "2000000", "1000000"),
            order(12, 6, utc(2026, 6, 5), "500000", "200000"),
        ]
    )
    session.add_all(
        [
            # In P, high, answered after 2 h, resolved after 10 h: inside the 24 h SLA.
            complaint(
                1,
                1,
                Severity.high,
                "Delivery",
                utc(2026, 6, 1),
                response_h=2,
                resolved_h=10,
                status=ComplaintStatus.resolved,
            ),
            # In P, high, resolved after 30 h: late.
            complaint(
                2,
                2,
                Severity.high,
                "Delivery",
                utc(2026, 6, 2),
                response_h=4,
                resolved_h=30,
                status=ComplaintStatus.resolved,
            ),
            # In P, critical, still open at the end: 20 d 17 h old, "7-30 d".
            complaint(3, 2, Severity.critical, "Quality", utc(2026, 6, 10), response_h=1),
            # Opened exactly one day before the end: "1-3 d" (buckets are [lower, upper)).
            complaint(4, 4, Severity.low, "Billing", END - dt.timedelta(days=1)),
            # Opened an hour before the end: "0-1 d".
            complaint(
                5,
                4,
                Severity.medium,
                "Billing",
                END - dt.timedelta(hours=1),
                status=ComplaintStatus.in_progress,
            ),
            # Opened in April, still open: "> 30 d", and past its SLA at the end of P' (C).
            complaint(6, 3, Severity.medium, "Quality", utc(2026, 4, 1)),
            # In P', low, resolved after 240 h > 168 h: a late resolution in P' (A).
            complaint(
                7,
                1,
                Severity.low,
                "Delivery",
                utc(2026, 5, 10),
                resolved_h=240,
                status=ComplaintStatus.resolved,
            ),
            # Opened exactly at the end: not in P, not open at the end.
            complaint(8, 6, Severity.low, "Other", END),
            # 23:59 local 31 May (before P), resolved in P after 12 h: within SLA.
            complaint(
                9,
                2,
                Severity.medium,
                "Billing",
                utc(2026, 5, 31, 16, 59),
                resolved_h=12,
                status=ComplaintStatus.resolved,
            ),
        ]
    )
    session.add_all(
        [
            answer(1, 1, utc(2026, 6, 5), 10, 4),
            answer(2, 1, utc(2026, 6, 20), 3, 2),  # A's latest June answer: a detractor
            answer(3, 3, utc(2026, 6, 10), 9, None),
            answer(4, 6, utc(2026, 6, 12), 10, 5),
            answer(5, 2, utc(2026, 6, 15), 6, 2),
            answer(6, 4, utc(2026, 6, 21), None, 4),  # CSAT only: no NPS answer for D
            answer(7, 2, utc(2026, 5, 20), 9, 5),  # May
            answer(8, 1, END, 0, 1),  # exactly at the end: July, not June
        ]
    )
    session.add_all(
        [
            Product(
                id=1,
                code="SP1",
                name="Giấy A4",
                category="Văn phòng phẩm",
                unit_price=Decimal("100000"),
                unit_cost=Decimal("80000"),
            ),
            # A unit cost of 0 counts as not filled in.
            Product(
                id=2,
                code="SP2",
                name="Chuột",
                category="Điện tử",
                unit_price=Decimal("50000"),
                unit_cost=Decimal("0"),
            ),
        ]
    )
    session.add_all(
        [
            Contact(id=1, customer_id=1, name="Chị Hoa", phone="0901000001", email="h@a.vn"),
            Contact(id=2, customer_id=2, name="Anh Nam", phone="0901000002"),
            Contact(id=3, customer_id=5, name="Archived"),  # archived customer: not counted
        ]
    )
    session.flush()
    session.add_all(
        [
            Inquiry(
                id=1,
                customer_id=1,
                product_id=1,
                need="Giấy",
                asked_at=utc(2026, 6, 2),
                status=InquiryStatus.unmet,
            ),
            Inquiry(
                id=2,
                customer_id=2,
                product_id=1,
                need="Giấy",
                asked_at=utc(2026, 6, 3),
                status=InquiryStatus.unmet,
            ),
            Inquiry(
                id=3,
                customer_id=2,
                product_id=1,
                need="Giấy",
                asked_at=utc(2026, 6, 4),
                status=InquiryStatus.fulfilled,
            ),
            # A asks again: the group keeps 2 customers.
            Inquiry(
                id=8,
                customer_id=1,
                product_id=1,
                need="Giấy",
                asked_at=utc(2026, 6, 9),
                status=InquiryStatus.unmet,
            ),
            # Free-text needs match after trimming outer spaces.
            Inquiry(
                id=4,
                customer_id=3,
                need="  Lắp đặt tại nhà ",
                asked_at=utc(2026, 6, 5),
                status=InquiryStatus.unmet,
            ),
            Inquiry(
                id=5,
                customer_id=4,
                need="Lắp đặt tại nhà",
                asked_at=utc(2026, 6, 6),
                status=InquiryStatus.unmet,
            ),
            # Open, not unmet: no group.
            Inquiry(id=6, customer_id=1, need="Giao hàng nhanh", asked_at=utc(2026, 6, 7)),
            # Exactly at the end: not in P.
            Inquiry(
                id=7,
                customer_id=6,
                product_id=1,
                need="Giấy",
                asked_at=END,
                status=InquiryStatus.unmet,
            ),
        ]
    )
    session.commit()
    return session


def rows(frame: pd.DataFrame) -> list[dict]:
    """The frame as a list of row dicts (None for missing values)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


# ---------------------------------------------------------------- empty database
EMPTY_CALLS = {
    "complaint_counts": lambda ctx: analyses.complaint_counts(ctx, period=JUNE, by="category"),
    "complaint_trend": lambda ctx: analyses.complaint_trend(ctx, period=JUNE),
    "backlog_aging": lambda ctx: analyses.backlog_aging(ctx, period=JUNE),
    "response_times": lambda ctx: analyses.response_times(ctx, period=JUNE),
    "complaint_rate_per_100": lambda ctx: analyses.complaint_rate_per_100(ctx, period=JUNE),
    "breach_impact": lambda ctx: analyses.breach_impact(ctx, period=JUNE),
    "satisfaction_by_month": lambda ctx: analyses.satisfaction_by_month(ctx, period=JUNE),
    "satisfaction_by_segment": lambda ctx: analyses.satisfaction_by_segment(ctx, period=JUNE),
    "satisfaction_by_revenue_band": lambda ctx: analyses.satisfaction_by_revenue_band(
        ctx, period=JUNE
    ),
    "value_by_group": lambda ctx: analyses.value_by_group(ctx, period=JUNE, by="old_new"),
    "profit_per_customer": lambda ctx: analyses.profit_per_customer(ctx, period=JUNE),
    "completeness_by": lambda ctx: analyses.completeness_by(ctx, by="owner"),
    "records_to_fix": lambda ctx: analyses.records_to_fix(ctx),
    "completeness_by_entity": lambda ctx: analyses.completeness_by_entity(ctx),
    "unmet_needs": lambda ctx: analyses.unmet_needs(ctx, period=JUNE),
}
EXPECTED_COLUMNS = {
    "complaint_counts": ["key", "complaints", "share"],
    "complaint_trend": ["month", "opened", "resolved"],
    "backlog_aging": ["bucket", "complaints"],
    "response_times": analyses.RESPONSE_TIME_COLUMNS,
    "complaint_rate_per_100": ["complaints", "active_customers", "complaints_per_100"],
    "breach_impact": ["group", "customers", "churn_rate", "nps"],
    "satisfaction_by_month": ["month", "answers", "nps", "csat_avg", "csat_share"],
    "satisfaction_by_segment": ["segment", "answers", "nps", "csat_avg"],
    "satisfaction_by_revenue_band": ["band", "customers", "nps", "csat_avg"],
    "value_by_group": ["group", "customers", "revenue", "profit", "revenue_share", "profit_share"],
    "profit_per_customer": analyses.PROFIT_COLUMNS,
    "completeness_by": ["group", "customers", "filled", "slots", "completeness"],
    "records_to_fix": ["customer_id", "code", "name", "owner_id", "owner_name", "missing"],
    "completeness_by_entity": ["entity", "field", "filled", "total", "completeness"],
    "unmet_needs": ["need", "inquiries", "unmet", "customers"],
}


@pytest.mark.parametrize("name", sorted(EMPTY_CALLS))
def test_empty_database_gives_empty_frames_with_the_columns(session: Session, name: str) -> None:
    frame = EMPTY_CALLS[name](context(session))
    assert frame.empty
    assert list(frame.columns) == EXPECTED_COLUMNS[name]


def test_empty_database_customer_profitability(session: Session) -> None:
    result = analyses.customer_profitability(
        context(session), customer_id=1, as_of_end=dt.date(2026, 7, 1)
    )
    assert {key: list(frame.columns) for key, frame in result.items()} == {
        "per_transaction": ["order_code", "ordered_at", "revenue", "cost", "profit"],
        "per_year": ["year", "orders", "revenue", "profit"],
        "lifetime": ["orders", "revenue", "profit", "first_order", "last_order"],
    }
    assert all(frame.empty for frame in result.values())


# ---------------------------------------------------------------- complaints
def test_complaint_counts_by_category_severity_and_status(crm: Session) -> None:
    ctx = context(crm)
    # Opened in P: complaints 1-5 (9 opened before the start, 8 exactly at the end).
    by_category = analyses.complaint_counts(ctx, period=JUNE, by="category")
    assert rows(by_category) == [
        {"key": "Billing", "complaints": 2, "share": 0.4},
        {"key": "Delivery", "complaints": 2, "share": 0.4},
        {"key": "Quality", "complaints": 1, "share": 0.2},
    ]
    by_severity = analyses.complaint_counts(ctx, period=JUNE, by="severity")
    assert list(by_severity["key"]) == ["high", "critical", "low", "medium"]
    assert list(by_severity["complaints"]) == [2, 1, 1, 1]
    by_status = analyses.complaint_counts(ctx, period=JUNE, by="status")
    assert dict(zip(by_status["key"], by_status["complaints"], strict=True)) == {
        "open": 2,
        "resolved": 2,
        "in_progress": 1,
    }
    for frame in (by_category, by_severity, by_status):
        assert frame["share"].sum() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        analyses.complaint_counts(ctx, period=JUNE, by="owner")  # type: ignore[arg-type]


def test_complaint_trend_lists_every_month(crm: Session) -> None:
    frame = analyses.complaint_trend(context(crm), period=Period(dt.date(2026, 3, 1), JUNE.end))
    assert rows(frame) == [
        {"month": "2026-03", "opened": 0, "resolved": 0},  # nothing: still listed
        {"month": "2026-04", "opened": 1, "resolved": 0},  # complaint 6
        # 7 (10 May) and 9 (23:59 local 31 May) opened; 7 resolved on 20 May.
        {"month": "2026-05", "opened": 2, "resolved": 1},
        # 1-5 opened; 1, 2 and 9 (11:59 local 1 June) resolved; 8 at the end is July's.
        {"month": "2026-06", "opened": 5, "resolved": 3},
    ]


def test_backlog_aging_buckets_at_the_end(crm: Session) -> None:
    frame = analyses.backlog_aging(context(crm), period=JUNE)
    assert rows(frame) == [
        {"bucket": "0-1 d", "complaints": 1},  # 5: one hour old
        {"bucket": "1-3 d", "complaints": 1},  # 4: exactly one day old
        {"bucket": "3-7 d", "complaints": 0},
        {"bucket": "7-30 d", "complaints": 1},  # 3
        {"bucket": "> 30 d", "complaints": 1},  # 6
    ]


def test_response_times_per_severity(crm: Session) -> None:
    frame = analyses.response_times(context(crm), period=JUNE).set_index("severity")
    assert list(frame.index) == ["critical", "high", "medium", "low"]
    high = frame.loc["high"]
    # First responses of 1 and 2: 2 h and 4 h; resolutions 10 h and 30 h.
    assert high["first_response_median_h"] == pytest.approx(3.0, abs=1e-6)
    assert high["first_response_p90_h"] == pytest.approx(3.8, abs=1e-6)
    assert high["resolution_median_h"] == pytest.approx(20.0, abs=1e-6)
    assert high["resolution_p90_h"] == pytest.approx(28.0, abs=1e-6)
    assert (high["resolved"], high["within_sla"], high["sla_rate"]) == (2, 1, 0.5)
    assert high["sla_hours"] == 24.0
    critical = frame.loc["critical"]
    assert critical["first_response_median_h"] == pytest.approx(1.0, abs=1e-6)
    assert critical["resolved"] == 0
    assert critical["sla_rate"] is None or pd.isna(critical["sla_rate"])  # 0 resolved: None
    medium = frame.loc["medium"]  # 9: opened before P, resolved in P after 12 h
    assert medium["resolution_median_h"] == pytest.approx(12.0, abs=1e-6)
    assert medium["first_response_median_h"] is None or pd.isna(medium["first_response_median_h"])
    assert (medium["resolved"], medium["within_sla"], medium["sla_rate"]) == (1, 1, 1.0)


def test_quantiles_match_median_and_p90(session: Session) -> None:
    session.add(Customer(id=1, code="KH_A", name="A"))
    session.flush()
    hours = [5.0, 1.0, 8.0, 2.0, 13.0, 3.0, 21.0, 34.0, 55.0, 89.0, 144.0]
    for number, value in enumerate(hours, start=1):
        session.add(
            complaint(
                number,
                1,
                Severity.low,
                "X",
                utc(2026, 6, 1),
                response_h=value,
                resolved_h=value + 1,
            )
        )
    session.commit()
    frame = analyses.response_times(context(session), period=JUNE).set_index("severity")
    median, p90 = median_and_p90(hours)
    assert frame.loc["low", "first_response_median_h"] == pytest.approx(median, abs=1e-6)
    assert frame.loc["low", "first_response_p90_h"] == pytest.approx(p90, abs=1e-6)
    median, p90 = median_and_p90([value + 1 for value in hours])
    assert frame.loc["low", "resolution_median_h"] == pytest.approx(median, abs=1e-6)
    assert frame.loc["low", "resolution_p90_h"] == pytest.approx(p90, abs=1e-6)


def test_complaint_rate_matches_the_kpi(crm: Session) -> None:
    frame = analyses.complaint_rate_per_100(context(crm), period=JUNE)
    # 5 complaints opened, 4 active customers (A, B, D, F).
    assert rows(frame) == [{"complaints": 5, "active_customers": 4, "complaints_per_100": 125.0}]
    kpi = compute(crm, ["complaint_rate"], JUNE, compare=None).by_id()["complaint_rate"]
    assert kpi.value == pytest.approx(125.0)


def test_complaint_rate_without_active_customers_is_none(session: Session) -> None:
    session.add(Customer(id=1, code="KH_A", name="A"))
    session.flush()
    session.add(complaint(1, 1, Severity.low, "X", utc(2026, 6, 3)))
    session.commit()
    frame = analyses.complaint_rate_per_100(context(session), period=JUNE)
    assert rows(frame) == [{"complaints": 1, "active_customers": 0, "complaints_per_100": None}]


def test_breach_impact(crm: Session) -> None:
    frame = analyses.breach_impact(context(crm), period=JUNE)
    # Active in P': A (order 1), C (order 5), F (order 11). A breached (7 resolved late
    # in P'), C breached (6 open past SLA at the end of P'); F not.
    # Churn: C has no order in P (its order 4 is exactly at the end) → 1 of 2; F stays.
    # NPS in P: A's latest is 3 (detractor), C's 9 (promoter) → 0; F's 10 → 100.
    assert rows(frame) == [
        {"group": "breached", "customers": 2, "churn_rate": 0.5, "nps": 0.0},
        {"group": "not breached", "customers": 1, "churn_rate": 0.0, "nps": 100.0},
    ]


# ---------------------------------------------------------------- satisfaction
def test_satisfaction_by_month(crm: Session) -> None:
    frame = analyses.satisfaction_by_month(
        context(crm), period=Period(dt.date(2026, 4, 1), JUNE.end)
    )
    assert rows(frame) == [
        {"month": "2026-04", "answers": 0, "nps": None, "csat_avg": None, "csat_share": None},
        {"month": "2026-05", "answers": 1, "nps": 100.0, "csat_avg": 5.0, "csat_share": 1.0},
        # Answers 1-6 (8 is exactly at the end). Latest NPS per customer: A 3, B 6, C 9,
        # F 10 → (2 − 2) / 4. CSAT 4, 2, 5, 2, 4 → 3.4, three of five ≥ 4.
        {"month": "2026-06", "answers": 6, "nps": 0.0, "csat_avg": 3.4, "csat_share": 0.6},
    ]


def test_satisfaction_by_segment(crm: Session) -> None:
    frame = analyses.satisfaction_by_segment(context(crm), period=JUNE)
    result = rows(frame)
    assert [row["segment"] for row in result] == ["(none)", "Retail", "SME"]
    assert result[0] == {"segment": "(none)", "answers": 1, "nps": None, "csat_avg": 4.0}  # D
    assert result[1] == {"segment": "Retail", "answers": 2, "nps": 100.0, "csat_avg": 5.0}
    # SME: A (4, 2) and B (2); latest NPS A 3, B 6: both detractors.
    assert result[2]["answers"] == 3
    assert result[2]["nps"] == -100.0
    assert result[2]["csat_avg"] == pytest.approx(8 / 3)


def test_satisfaction_by_revenue_band(crm: Session) -> None:
    frame = analyses.satisfaction_by_revenue_band(context(crm), period=JUNE)
    # Revenue in P: F 0.5 M < D 1 M < A 2 M < B 4 M → one customer per quartile.
    # No purchase: C only (E is archived).
    assert rows(frame) == [
        {"band": "Q1 (lowest)", "customers": 1, "nps": 100.0, "csat_avg": 5.0},  # F
        {"band": "Q2", "customers": 1, "nps": None, "csat_avg": 4.0},  # D
        {"band": "Q3", "customers": 1, "nps": -100.0, "csat_avg": 3.0},  # A
        {"band": "Q4 (highest)", "customers": 1, "nps": -100.0, "csat_avg": 2.0},  # B
        {"band": "no purchase", "customers": 1, "nps": 100.0, "csat_avg": None},  # C
    ]


def test_revenue_band_ties_share_the_lowest_band(session: Session) -> None:
    session.add_all([Customer(id=n, code=f"KH_{n}", name=str(n)) for n in range(1, 6)])
    session.flush()
    amounts = {1: "100", 2: "100", 3: "100", 4: "200", 5: "300"}
    session.add_all(order(n, n, utc(2026, 6, 10), amount, "0") for n, amount in amounts.items())
    session.commit()
    frame = analyses.satisfaction_by_revenue_band(context(session), period=JUNE)
    # Ranks 1, 1, 1, 4, 5 of 5: ceil(4 × rank / 5) = 1, 1, 1, 4, 4.
    assert list(frame["customers"]) == [3, 0, 0, 2, 0]


# ---------------------------------------------------------------- value
def test_value_by_segment_and_shares(crm: Session) -> None:
    frame = analyses.value_by_group(context(crm), period=JUNE, by="segment")
    # In P: A 2 M (cost 1.2 M), B 3 M + 1 M (cost 2.5 M), D 1 M (cost 1.1 M), F 0.5 M
    # (cost 0.2 M). C's order at the end and D's cancelled order do not count.
    assert rows(frame) == [
        {
            "group": "SME",
            "customers": 2,
            "revenue": 6_000_000.0,
            "profit": 2_300_000.0,
            "revenue_share": 0.8,
            "profit_share": pytest.approx(0.92),
        },
        {
            "group": "(none)",
            "customers": 1,
            "revenue": 1_000_000.0,
            "profit": -100_000.0,
            "revenue_share": pytest.approx(2 / 15),
            "profit_share": pytest.approx(-0.04),
        },
        {
            "group": "Retail",
            "customers": 1,
            "revenue": 500_000.0,
            "profit": 300_000.0,
            "revenue_share": pytest.approx(1 / 15),
            "profit_share": pytest.approx(0.12),
        },
    ]
    assert frame["revenue_share"].sum() == pytest.approx(1.0)
    assert frame["profit_share"].sum() == pytest.approx(1.0)


@pytest.mark.parametrize("by", ["segment", "province", "region", "old_new", "kind"])
def test_value_by_group_sums_to_the_revenue_kpi(crm: Session, by: str) -> None:
    frame = analyses.value_by_group(context(crm), period=JUNE, by=by)  # type: ignore[arg-type]
    report = compute(crm, ["revenue", "profit"], JUNE, compare=None).by_id()
    assert Decimal(str(round(frame["revenue"].sum(), 2))) == report["revenue"].value
    assert Decimal(str(round(frame["profit"].sum(), 2))) == report["profit"].value
    assert frame["revenue_share"].sum() == pytest.approx(1.0)


def test_value_by_old_new_and_kind(crm: Session) -> None:
    ctx = context(crm)
    old_new = rows(analyses.value_by_group(ctx, period=JUNE, by="old_new"))
    # Old: A and F bought before P. New: B and D's first counted orders are in P.
    assert [(r["group"], r["customers"], r["revenue"], r["profit"]) for r in old_new] == [
        ("new", 2, 5_000_000.0, 1_400_000.0),
        ("old", 2, 2_500_000.0, 1_100_000.0),
    ]
    kind = rows(analyses.value_by_group(ctx, period=JUNE, by="kind"))
    assert [(r["group"], r["revenue"]) for r in kind] == [
        ("organisation", 6_500_000.0),
        ("person", 1_000_000.0),
    ]


def test_value_by_group_respects_filters(crm: Session) -> None:
    frame = analyses.value_by_group(context(crm, segment="SME"), period=JUNE, by="region")
    assert rows(frame) == [
        {
            "group": "Miền Bắc",
            "customers": 2,
            "revenue": 6_000_000.0,
            "profit": 2_300_000.0,
            "revenue_share": 1.0,
            "profit_share": 1.0,
        }
    ]


def test_profit_per_customer(crm: Session) -> None:
    frame = analyses.profit_per_customer(context(crm), period=JUNE)
    assert rows(frame) == [
        {
            "customer_id": 2,
            "code": "KH_B",
            "name": "Khách KH_B",
            "orders": 2,
            "revenue": 4_000_000.0,
            "profit": 1_500_000.0,
            "profit_per_order": 750_000.0,
        },
        {
            "customer_id": 1,
            "code": "KH_A",
            "name": "Khách KH_A",
            "orders": 1,
            "revenue": 2_000_000.0,
            "profit": 800_000.0,
            "profit_per_order": 800_000.0,
        },
        {
            "customer_id": 6,
            "code": "KH_F",
            "name": "Khách KH_F",
            "orders": 1,
            "revenue": 500_000.0,
            "profit": 300_000.0,
            "profit_per_order": 300_000.0,
        },
        {
            "customer_id": 4,
            "code": "KH_D",
            "name": "Khách KH_D",
            "orders": 1,
            "revenue": 1_000_000.0,
            "profit": -100_000.0,
            "profit_per_order": -100_000.0,
        },
    ]
    assert len(analyses.profit_per_customer(context(crm), period=JUNE, limit=2)) == 2


def test_customer_profitability(crm: Session) -> None:
    result = analyses.customer_profitability(
        context(crm), customer_id=1, as_of_end=dt.date(2026, 7, 1)
    )
    transactions = result["per_transaction"]
    assert list(transactions["order_code"]) == ["DH0009", "DH0010", "DH0001", "DH0002"]
    # Local times: 23:59 31 Dec 2025 and 00:00 1 Jan 2026.
    assert transactions["ordered_at"].iloc[0] == dt.datetime(2025, 12, 31, 23, 59)
    assert transactions["ordered_at"].iloc[1] == dt.datetime(2026, 1, 1, 0, 0)
    assert list(transactions["profit"]) == [100_000.0, 400_000.0, 400_000.0, 800_000.0]
    assert rows(result["per_year"]) == [
        {"year": 2025, "orders": 1, "revenue": 400_000.0, "profit": 100_000.0},
        {"year": 2026, "orders": 3, "revenue": 3_600_000.0, "profit": 1_600_000.0},
    ]
    assert rows(result["lifetime"]) == [
        {
            "orders": 4,
            "revenue": 4_000_000.0,
            "profit": 1_700_000.0,
            "first_order": dt.date(2025, 12, 31),
            "last_order": dt.date(2026, 6, 1),
        }
    ]
    # Ending at local midnight 1 June: order 2 (exactly then) is left out.
    earlier = analyses.customer_profitability(
        context(crm), customer_id=1, as_of_end=dt.date(2026, 6, 1)
    )
    assert earlier["lifetime"]["orders"].iloc[0] == 3


# ---------------------------------------------------------------- data quality
def test_records_to_fix_lists_exactly_the_empty_fields(crm: Session) -> None:
    frame = analyses.records_to_fix(context(crm))
    assert rows(frame) == [
        {
            "customer_id": 4,
            "code": "KH_D",
            "name": "Khách KH_D",
            "owner_id": None,
            "owner_name": None,
            "missing": "phone, province, segment, owner_id, gender",
        },
        {
            "customer_id": 2,
            "code": "KH_B",
            "name": "Khách KH_B",
            "owner_id": 1,
            "owner_name": "Lan",
            "missing": "email, representative",
        },
        {
            "customer_id": 3,
            "code": "KH_C",
            "name": "Khách KH_C",
            "owner_id": 2,
            "owner_name": "Minh",
            "missing": "birth_year",
        },
    ]
    assert list(analyses.records_to_fix(context(crm), owner_id=2)["customer_id"]) == [3]
    assert list(analyses.records_to_fix(context(crm), limit=1)["customer_id"]) == [4]


def test_completeness_by_groups(crm: Session) -> None:
    ctx = context(crm)
    # Slots: 8 per customer (6 common + 2 for its kind); gaps: B 2, C 1, D 5.
    assert rows(analyses.completeness_by(ctx, by="kind")) == [
        {
            "group": "organisation",
            "customers": 3,
            "filled": 22,
            "slots": 24,
            "completeness": pytest.approx(22 / 24),
        },
        {
            "group": "person",
            "customers": 2,
            "filled": 10,
            "slots": 16,
            "completeness": pytest.approx(10 / 16),
        },
    ]
    assert rows(analyses.completeness_by(ctx, by="owner")) == [
        {
            "group": "(no owner)",
            "customers": 1,
            "filled": 3,
            "slots": 8,
            "completeness": pytest.approx(3 / 8),
        },
        {
            "group": "Lan",
            "customers": 2,
            "filled": 14,
            "slots": 16,
            "completeness": pytest.approx(14 / 16),
        },
        {
            "group": "Minh",
            "customers": 2,
            "filled": 15,
            "slots": 16,
            "completeness": pytest.approx(15 / 16),
        },
    ]
    segment = analyses.completeness_by(ctx, by="segment")
    assert list(segment["group"]) == ["(none)", "Retail", "SME"]
    assert segment["filled"].sum() == 32
    assert segment["slots"].sum() == 40


def test_completeness_by_entity(crm: Session) -> None:
    frame = analyses.completeness_by_entity(context(crm))
    found = {(r["entity"], r["field"]): (r["filled"], r["total"]) for r in rows(frame)}
    assert found == {
        ("customer", "phone"): (4, 5),  # D's phone is blank
        ("customer", "email"): (4, 5),
        ("customer", "address"): (5, 5),
        ("customer", "province"): (4, 5),
        ("customer", "segment"): (4, 5),
        ("customer", "owner_id"): (4, 5),
        ("customer", "industry"): (3, 3),  # organisations only
        ("customer", "representative"): (2, 3),
        ("customer", "gender"): (1, 2),  # persons only
        ("customer", "birth_year"): (1, 2),
        ("contact", "phone"): (2, 2),  # the archived customer's contact is left out
        ("contact", "email"): (1, 2),
        ("product", "category"): (2, 2),
        ("product", "unit_cost"): (1, 2),
        # 11 counted orders (the cancelled one is left out).
        ("order", "payment_due"): (2, 11),
        ("order", "delivery_due"): (1, 11),
        # Resolved complaints 1, 2, 7, 9; 7 and 9 have no first response.
        ("complaint", "first_response_at"): (2, 4),
    }


# ---------------------------------------------------------------- unmet needs
def test_unmet_needs(crm: Session) -> None:
    frame = analyses.unmet_needs(context(crm), period=JUNE)
    assert rows(frame) == [
        # Inquiries 1, 2, 3, 8 (7 is at the end): 3 unmet from A (twice) and B.
        {"need": "Giấy A4", "inquiries": 4, "unmet": 3, "customers": 2},
        {"need": "Lắp đặt tại nhà", "inquiries": 2, "unmet": 2, "customers": 2},
    ]
