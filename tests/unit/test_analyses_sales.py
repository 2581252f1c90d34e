"""Sales analyses on tiny hand-built data, on SQLite and PostgreSQL (fixture ``session``).

Asia/Ho_Chi_Minh is UTC+7 all year, so local midnight is 17:00 UTC of the day before:
  March 2026 = [1 March 00:00 local, 1 April 00:00 local) = [28 Feb 17:00Z, 31 March 17:00Z).
Rows carry explicit ids where other rows refer to them; every boundary row is commented.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from sqlmodel import Session

from app.errors import InvalidInput
from app.kpi import analyses_sales as analyses
from app.kpi.base import KpiContext, KpiFilters
from app.kpi.engine import compute
from app.kpi.period import Period
from app.models import (
    Campaign,
    CampaignChannel,
    CampaignMember,
    CampaignPurpose,
    Complaint,
    ComplaintStatus,
    Customer,
    CustomerKind,
    Gender,
    Interaction,
    InteractionKind,
    Opportunity,
    OpportunityStageHistory,
    Order,
    OrderStatus,
    Severity,
    Stage,
    SurveyResponse,
    User,
)

MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 4, 1))
FEBRUARY = Period(dt.date(2026, 2, 1), dt.date(2026, 3, 1))
SPRING = Period(dt.date(2026, 3, 1), dt.date(2026, 6, 1))
CREATED = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def utc(*parts: int) -> dt.datetime:
    """An aware UTC datetime."""
    return dt.datetime(*parts, tzinfo=dt.UTC)


def d(text: str) -> Decimal:
    return Decimal(text)


def ctx_for(session: Session) -> KpiContext:
    return KpiContext.create(session=session)


def value_of(session: Session, kpi_id: str, period: Period):  # noqa: ANN201
    return compute(session, [kpi_id], period, compare=None).by_id()[kpi_id].value


def records(frame: pd.DataFrame) -> list[tuple]:
    """The frame's rows as tuples (NaN shown as None) to compare with rows written by hand."""
    return [
        tuple(None if isinstance(v, float) and v != v else v for v in row)
        for row in frame.itertuples(index=False, name=None)
    ]


def add_customer(session: Session, customer_id: int, code: str, **fields) -> None:
    fields.setdefault("created_at", CREATED)
    session.add(Customer(id=customer_id, code=code, name=f"Customer {code}", **fields))
    session.flush()


def add_order(
    session: Session,
    code: str,
    customer_id: int,
    ordered_at: dt.datetime,
    amount: str,
    cost: str = "0",
    status: OrderStatus = OrderStatus.paid,
    **fields,
) -> None:
    session.add(
        Order(
            code=code,
            customer_id=customer_id,
            ordered_at=ordered_at,
            status=status,
            amount=d(amount),
            cost=d(cost),
            **fields,
        )
    )


# ---------------------------------------------------------------- the empty database
EMPTY_CASES = {
    "loyalty_levels": (lambda c: analyses.loyalty_levels(c, as_of_end=MARCH.end), "LEVEL"),
    "loyalty_ladder": (lambda c: analyses.loyalty_ladder(c, period=MARCH), "LADDER"),
    "cohort_retention": (lambda c: analyses.cohort_retention(c, period=MARCH), "COHORT"),
    "pipeline_by_stage": (lambda c: analyses.pipeline_by_stage(c, period=MARCH), "PIPELINE"),
    "stage_funnel": (lambda c: analyses.stage_funnel(c, period=MARCH), "FUNNEL"),
    "forecast": (lambda c: analyses.forecast_by_close_month(c, period=MARCH), "FORECAST"),
    "time_in_stage": (lambda c: analyses.time_in_stage(c, period=MARCH), "TIME_IN_STAGE"),
    "sales_cycle": (lambda c: analyses.sales_cycle(c, period=MARCH), "SALES_CYCLE"),
    "lost_reasons": (lambda c: analyses.lost_reasons(c, period=MARCH), "LOST_REASON"),
    "owners": (lambda c: analyses.owner_performance(c, period=MARCH), "OWNER"),
    "campaigns": (lambda c: analyses.campaign_results(c, period=MARCH), "CAMPAIGN"),
    "channels": (lambda c: analyses.campaigns_by_channel(c, period=MARCH), "CHANNEL"),
}


@pytest.mark.parametrize("name", sorted(EMPTY_CASES))
def test_empty_database_gives_empty_frames(session: Session, name: str) -> None:
    function, columns = EMPTY_CASES[name]
    frame = function(ctx_for(session))
    assert frame.empty
    assert list(frame.columns) == getattr(analyses, f"{columns}_COLUMNS")


def test_empty_database_series_and_matrix(session: Session) -> None:
    ctx = ctx_for(session)
    frame = analyses.series(ctx, kpi_id="revenue", period=SPRING, grain="month")
    # Every bucket is present even with no data; empty ones are 0.
    assert list(frame["bucket_start"]) == [
        dt.date(2026, 3, 1),
        dt.date(2026, 4, 1),
        dt.date(2026, 5, 1),
    ]
    assert list(frame["value"]) == [Decimal("0.00")] * 3
    matrix = analyses.loyalty_migration(ctx, period=MARCH, previous=FEBRUARY)
    assert matrix.empty
    assert list(matrix.columns) == list(analyses.LEVELS)


@pytest.mark.parametrize("kpi_id", sorted(analyses.DRILLDOWN_KPIS))
def test_empty_database_drilldowns(session: Session, kpi_id: str) -> None:
    frame = analyses.drilldown(ctx_for(session), kpi_id=kpi_id, period=MARCH)
    assert frame.empty
    assert len(frame.columns) > 0


# ---------------------------------------------------------------- orders, complaints, contacts
@pytest.fixture
def sales(session: Session) -> Session:
    """Customers A-F with orders, interactions and complaints around March 2026."""
    for customer_id, code in enumerate(["KH_A", "KH_B", "KH_C", "KH_D", "KH_E", "KH_F"], start=1):
        add_customer(session, customer_id, code)
    a, b, c, dd, e, f = 1, 2, 3, 4, 5, 6
    # 00:00 local Sunday 1 March, exactly the period start: March (start inclusive).
    add_order(session, "O1", a, utc(2026, 2, 28, 17, 0), "100", "60")
    # 23:30 local Sunday 8 March: the ISO week starting Monday 2 March.
    add_order(session, "O2", a, utc(2026, 3, 8, 16, 30), "10", "5")
    # 00:30 local Monday 9 March (the UTC date is still Sunday 8): the week of 9 March.
    add_order(session, "O3", b, utc(2026, 3, 8, 17, 30), "20", "5")
    # 12:00 local Sunday 15 March: still the week of 9 March.
    add_order(session, "O4", a, utc(2026, 3, 15, 5, 0), "50", "20")
    # 23:59 local 30 April, the last minute of April: April.
    add_order(session, "O5", b, utc(2026, 4, 30, 16, 59), "200", "150")
    # 00:00 local 1 June, exactly the end of SPRING: not counted (end exclusive).
    add_order(session, "O6", b, utc(2026, 5, 31, 17, 0), "999", "1")
    # Cancelled: never counted.
    add_order(session, "O7", c, utc(2026, 4, 10, 3, 0), "500", "1", OrderStatus.cancelled)
    # 23:59 local 28 February, one minute before March: C is active in February only.
    add_order(session, "O8", c, utc(2026, 2, 28, 16, 59), "70", "10")
    # Lapsed in March: last order day in [28 Feb 2025, 31 Mar 2025) local (window 365).
    add_order(session, "O9", dd, utc(2025, 3, 15, 3, 0), "10")
    # 00:00 local 28 February 2025, the first lapsing day: lapsed in March 2026.
    add_order(session, "O10", f, utc(2025, 2, 27, 17, 0), "10")
    # 00:00 local 31 March 2025, one day too late: lapses in April, not in March.
    add_order(session, "O11", e, utc(2025, 3, 30, 17, 0), "10")
    # Interactions: 23:59 local 31 March (March) and 00:00 local 1 April (April).
    for occurred in (utc(2026, 3, 31, 16, 59), utc(2026, 3, 31, 17, 0)):
        session.add(
            Interaction(customer_id=a, kind=InteractionKind.call, subject="x", occurred_at=occurred)
        )
    # 00:00 local 1 January 2026 = end − 90 days exactly: B counts as touched.
    session.add(
        Interaction(
            customer_id=b, kind=InteractionKind.call, subject="x", occurred_at=utc(2025, 12, 31, 17)
        )
    )
    # One minute earlier: C is left untouched.
    session.add(
        Interaction(
            customer_id=c,
            kind=InteractionKind.call,
            subject="x",
            occurred_at=utc(2025, 12, 31, 16, 59),
        )
    )
    complaints = [
        # 00:00 local 1 March, high (24 h), never resolved: open past SLA at the end.
        (a, utc(2026, 2, 28, 17), Severity.high, ComplaintStatus.open, None),
        # Critical (4 h) opened 16:00Z 31 March: deadline 20:00Z, after the end: not past.
        (b, utc(2026, 3, 31, 16), Severity.critical, ComplaintStatus.open, None),
        # Opened in February and resolved in March: not opened in March, not open at the end.
        (c, utc(2026, 2, 1, 3), Severity.low, ComplaintStatus.resolved, utc(2026, 3, 10, 3)),
        # Resolved exactly at the end: still open at the end, and past its 72 h.
        (c, utc(2026, 3, 2, 3), Severity.medium, ComplaintStatus.resolved, utc(2026, 3, 31, 17)),
        # 23:00 local 31 May: May.
        (a, utc(2026, 5, 31, 16), Severity.low, ComplaintStatus.open, None),
    ]
    for customer_id, opened, severity, status, resolved in complaints:
        session.add(
            Complaint(
                customer_id=customer_id,
                category="delivery",
                severity=severity,
                status=status,
                opened_at=opened,
                resolved_at=resolved,
            )
        )
    session.commit()
    return session


EXPECTED_MONTHS = {
    # March: O1 + O2 + O3 + O4; April: O5; May: nothing (filled with 0).
    "revenue": [d("180.00"), d("200.00"), d("0.00")],
    "profit": [d("90.00"), d("50.00"), d("0.00")],
    "orders_count": [4, 1, 0],
    "active_customers": [2, 1, 0],
    # A (O1) and B (O3) first buy in March; C's first order is in February.
    "new_customers": [2, 0, 0],
    "interactions_logged": [1, 1, 0],
    "complaints_opened": [3, 0, 1],
}


@pytest.mark.parametrize("kpi_id", sorted(EXPECTED_MONTHS))
def test_monthly_series(sales: Session, kpi_id: str) -> None:
    frame = analyses.series(ctx_for(sales), kpi_id=kpi_id, period=SPRING, grain="month")
    assert list(frame.columns) == ["bucket_start", "value"]
    assert list(frame["bucket_start"]) == [
        dt.date(2026, 3, 1),
        dt.date(2026, 4, 1),
        dt.date(2026, 5, 1),
    ]
    assert list(frame["value"]) == EXPECTED_MONTHS[kpi_id]


@pytest.mark.parametrize("kpi_id", ["revenue", "profit", "orders_count", "complaints_opened"])
def test_series_sums_to_the_kpi(sales: Session, kpi_id: str) -> None:
    frame = analyses.series(ctx_for(sales), kpi_id=kpi_id, period=SPRING, grain="month")
    assert sum(frame["value"]) == value_of(sales, kpi_id, SPRING)
    weekly = analyses.series(ctx_for(sales), kpi_id=kpi_id, period=SPRING, grain="week")
    assert sum(weekly["value"]) == value_of(sales, kpi_id, SPRING)


def test_weekly_series_starts_on_monday(sales: Session) -> None:
    # Wednesday 4 March to Wednesday 11 March (exclusive): O1 (1 March) is outside.
    period = Period(dt.date(2026, 3, 4), dt.date(2026, 3, 12))
    frame = analyses.series(ctx_for(sales), kpi_id="revenue", period=period, grain="week")
    assert list(frame["bucket_start"]) == [dt.date(2026, 3, 2), dt.date(2026, 3, 9)]
    # O2 (Sunday 8 March local) and O3 (Monday 9 March local); O4 (15 March) is after.
    assert list(frame["value"]) == [d("10.00"), d("20.00")]


def test_series_rejects_unknown_kpi_and_grain(session: Session) -> None:
    with pytest.raises(InvalidInput):
        analyses.series(ctx_for(session), kpi_id="nps", period=MARCH)
    with pytest.raises(InvalidInput):
        analyses.series(ctx_for(session), kpi_id="revenue", period=MARCH, grain="day")


COUNT_DRILLDOWNS = [
    "active_customers",
    "new_customers",
    "lapsed_customers",
    "orders_count",
    "complaints_opened",
    "open_past_sla",
]


@pytest.mark.parametrize("kpi_id", COUNT_DRILLDOWNS)
def test_drilldown_rows_equal_the_kpi(sales: Session, kpi_id: str) -> None:
    frame = analyses.drilldown(ctx_for(sales), kpi_id=kpi_id, period=MARCH)
    assert len(frame) == value_of(sales, kpi_id, MARCH)


def test_drilldown_rows_by_hand(sales: Session) -> None:
    ctx = ctx_for(sales)

    def codes(kpi_id: str) -> list[str]:
        frame = analyses.drilldown(ctx, kpi_id=kpi_id, period=MARCH)
        return sorted(frame["customer_code"])

    assert codes("active_customers") == ["KH_A", "KH_B"]
    assert codes("new_customers") == ["KH_A", "KH_B"]
    # C bought in February (the previous period of equal length) but not in March.
    assert codes("churn_rate") == ["KH_C"]
    assert value_of(sales, "churn_rate", MARCH) == 1.0
    assert codes("lapsed_customers") == ["KH_D", "KH_F"]
    # Buyers of the last 365 days: A (touched in March), B (touched exactly at the
    # 90-day boundary), C (touched one minute before it).
    assert codes("untouched_customer_rate") == ["KH_C"]
    assert value_of(sales, "untouched_customer_rate", MARCH) == pytest.approx(1 / 3)
    orders = analyses.drilldown(ctx, kpi_id="revenue", period=MARCH)
    assert sorted(orders["order_code"]) == ["O1", "O2", "O3", "O4"]
    assert sum(orders["amount"]) == value_of(sales, "revenue", MARCH)
    # Times are shown in the display time zone: O1 is at local midnight.
    first = orders.sort_values("ordered_at").iloc[0]
    assert first["ordered_at"].isoformat() == "2026-03-01T00:00:00+07:00"
    past_sla = analyses.drilldown(ctx, kpi_id="open_past_sla", period=MARCH)
    assert sorted(past_sla["customer_code"]) == ["KH_A", "KH_C"]
    assert set(past_sla["severity"]) == {"high", "medium"}
    high = past_sla[past_sla["severity"] == "high"].iloc[0]
    # Opened 00:00 local 1 March + 24 h; the end is 00:00 local 1 April: 30 days late.
    assert high["hours_past_sla"] == pytest.approx(30 * 24)
    limited = analyses.drilldown(ctx, kpi_id="orders_count", period=MARCH, limit=2)
    assert list(limited["order_code"]) == ["O1", "O2"]


def test_drilldown_rejects_unknown_kpi(session: Session) -> None:
    assert {"active_customers", "win_rate", "duplicate_rate"} <= analyses.DRILLDOWN_KPIS
    with pytest.raises(InvalidInput):
        analyses.drilldown(ctx_for(session), kpi_id="nps", period=MARCH)
    with pytest.raises(InvalidInput):
        analyses.drilldown(ctx_for(session), kpi_id="revenue", period=MARCH, limit=0)


# ---------------------------------------------------------------- data quality
def test_duplicates_with_the_keys_they_share(session: Session) -> None:
    # 1 and 2 share a phone once normalised (+84 → 0); 1 and 3 an e-mail (case, spaces).
    add_customer(session, 1, "D1", phone="+84 901 234 567", email="A@x.vn")
    add_customer(session, 2, "D2", phone="0901234567", email="b@x.vn")
    add_customer(session, 3, "D3", email=" a@X.vn ")
    # 4 shares its tax code only with an archived customer: not a duplicate.
    add_customer(session, 4, "D4", tax_code="0101234567")
    add_customer(session, 5, "D5", tax_code="0101234567", archived=True)
    # Empty e-mails never match.
    add_customer(session, 6, "D6", email="")
    add_customer(session, 7, "D7", email="")
    session.commit()
    frame = analyses.drilldown(ctx_for(session), kpi_id="duplicate_rate", period=MARCH)
    assert list(frame["customer_code"]) == ["D1", "D2", "D3"]
    assert list(frame["shared_on"]) == ["email, phone", "phone", "email"]
    assert list(frame["shared_keys"]) == [
        "email=a@x.vn, phone=0901234567",
        "phone=0901234567",
        "email=a@x.vn",
    ]
    # Three of the six non-archived customers.
    assert value_of(session, "duplicate_rate", MARCH) == len(frame) / 6


def test_incomplete_customers_list_missing_fields(session: Session) -> None:
    session.add(User(id=1, username="lan", display_name="Lan"))
    session.flush()
    common = {
        "phone": "0901000001",
        "email": "x@x.vn",
        "address": "1 Phố Huế",
        "province": "Hà Nội",
        "segment": "SME",
        "owner_id": 1,
    }
    # A blank representative counts as missing.
    add_customer(session, 1, "X1", industry="Retail", representative="  ", **common)
    add_customer(session, 2, "X2", kind=CustomerKind.person, gender=Gender.female, **common)
    add_customer(
        session, 3, "X3", kind=CustomerKind.person, gender=Gender.male, birth_year=1980, **common
    )
    # Archived customers are out of scope however incomplete.
    add_customer(session, 4, "X4", archived=True)
    session.commit()
    frame = analyses.drilldown(ctx_for(session), kpi_id="data_completeness", period=MARCH)
    assert list(frame["customer_code"]) == ["X1", "X2"]
    assert list(frame["missing_fields"]) == ["representative", "birth_year"]
    assert list(frame["kind"]) == ["organisation", "person"]
    # 8 important fields each: 22 of 24 filled.
    assert value_of(session, "data_completeness", MARCH) == pytest.approx(
        1 - frame["missing_count"].sum() / 24
    )


def test_blank_text_counts_as_missing(session: Session) -> None:
    # Only a blank address and representative: both are listed as missing.
    add_customer(
        session, 1, "X1", address="  ", representative="", industry="Retail", phone="0901000001"
    )
    session.commit()
    frame = analyses.drilldown(ctx_for(session), kpi_id="data_completeness", period=MARCH)
    assert list(frame["missing_fields"]) == [
        "email, address, province, segment, owner_id, representative"
    ]
    assert list(frame["missing_count"]) == [6]


# ---------------------------------------------------------------- loyalty ladder
@pytest.fixture
def loyalty(session: Session) -> Session:
    """Customers whose level changes between the end of February and the end of March."""
    add_customer(session, 1, "L_PROSPECT")
    for customer_id, code in [(2, "L_ONCE"), (3, "L_TWO_DAYS"), (4, "L_REFERRER")]:
        add_customer(session, customer_id, code)
    add_customer(session, 5, "L_PROMOTER")
    add_customer(session, 6, "L_DETRACTOR")
    # Referred by 4, created 10 March: makes 4 an advocate at the end of March only.
    add_customer(session, 7, "L_REFERRED", referred_by_id=4, created_at=utc(2026, 3, 10))
    # Referred by 6 but created at 00:00 local 1 April, the end: not before it, not counted.
    add_customer(session, 8, "L_LATE", referred_by_id=6, created_at=utc(2026, 3, 31, 17))
    add_customer(session, 10, "L_NEW")
    # 1 never has a counted order.
    add_order(session, "P1", 1, utc(2026, 2, 3, 3), "10", status=OrderStatus.cancelled)
    # 2: two orders on the same local day (08:00 and 17:00 local 10 Feb): 1 purchase day.
    add_order(session, "P2", 2, utc(2026, 2, 10, 1), "10")
    add_order(session, "P3", 2, utc(2026, 2, 10, 10), "10")
    # 3: the same UTC date but 23:30 local 10 Feb and 00:30 local 11 Feb: 2 purchase days.
    add_order(session, "P4", 3, utc(2026, 2, 10, 16, 30), "10")
    add_order(session, "P5", 3, utc(2026, 2, 10, 17, 30), "10")
    # 4: one day in February, a second in March.
    add_order(session, "P6", 4, utc(2026, 2, 5, 3), "10")
    add_order(session, "P7", 4, utc(2026, 3, 5, 3), "10")
    # 5 and 6: two days in February.
    for code, customer_id, day in [("P8", 5, 5), ("P9", 5, 6), ("P10", 6, 5), ("P11", 6, 6)]:
        add_order(session, code, customer_id, utc(2026, 2, day, 3), "10")
    # 10: first order in March.
    add_order(session, "P12", 10, utc(2026, 3, 3, 3), "10")
    answers = [
        (5, 3, utc(2026, 2, 20, 3)),  # 5: detractor in February ...
        (5, 9, utc(2026, 3, 20, 3)),  # ... promoter (9) in March: advocate at the end.
        (6, 10, utc(2026, 2, 20, 3)),  # 6: promoter in February: advocate then ...
        (6, 6, utc(2026, 3, 20, 3)),  # ... latest answer 6 in March: back to repeat.
        (10, 10, utc(2026, 3, 4, 3)),  # 10: NPS 10 but one purchase day: a customer.
    ]
    for customer_id, score, answered in answers:
        session.add(SurveyResponse(customer_id=customer_id, nps=score, answered_at=answered))
    session.commit()
    return session


def test_loyalty_levels_and_ladder(loyalty: Session) -> None:
    ctx = ctx_for(loyalty)
    levels = analyses.loyalty_levels(ctx, as_of_end=MARCH.end)
    assert dict(zip(levels["customer_id"], levels["level"], strict=True)) == {
        1: "prospect",
        2: "customer",
        3: "repeat",
        4: "advocate",
        5: "advocate",
        6: "repeat",
        7: "prospect",
        10: "customer",
    }
    ladder = analyses.loyalty_ladder(ctx, period=MARCH)
    assert list(ladder["level"]) == ["prospect", "customer", "repeat", "advocate"]
    assert list(ladder["customers"]) == [2, 2, 2, 2]
    # At the end of February: 7 does not exist yet; 10 has not bought; 6 is an advocate.
    february = analyses.loyalty_ladder(ctx, period=FEBRUARY)
    assert list(february["customers"]) == [2, 2, 2, 1]


def test_loyalty_migration(loyalty: Session) -> None:
    ctx = ctx_for(loyalty)
    matrix = analyses.loyalty_migration(ctx, period=MARCH, previous=FEBRUARY)
    assert list(matrix.index) == list(analyses.LEVELS)
    assert list(matrix.columns) == list(analyses.LEVELS)
    expected = pd.DataFrame(
        [
            # 1 and 7 (created in March) stay prospects; 10 buys for the first time.
            [2, 1, 0, 0],
            # 2 stays a customer; 4 buys again and a referral makes it an advocate.
            [0, 1, 0, 1],
            # 3 stays repeat; 5 becomes an advocate by its March NPS of 9.
            [0, 0, 1, 1],
            # 6 falls back to repeat: its latest NPS is now 6.
            [0, 0, 1, 0],
        ],
        index=pd.Index(analyses.LEVELS, name="previous_level"),
        columns=pd.Index(analyses.LEVELS, name="level"),
    )
    pd.testing.assert_frame_equal(matrix, expected, check_dtype=False)
    ladder = analyses.loyalty_ladder(ctx, period=MARCH)
    assert int(matrix.to_numpy().sum()) == int(ladder["customers"].sum())


# ---------------------------------------------------------------- cohorts
def test_cohort_retention(session: Session) -> None:
    for customer_id in range(1, 6):
        add_customer(session, customer_id, f"C{customer_id}")
    # 1: 00:00 local 1 January, exactly the start: cohort 2026-01; buys again in February.
    add_order(session, "Q1", 1, utc(2025, 12, 31, 17), "10")
    add_order(session, "Q2", 1, utc(2026, 2, 15, 3), "10")
    # 2: cohort 2026-01; a cancelled February order does not make it active.
    add_order(session, "Q3", 2, utc(2026, 1, 20, 3), "10")
    add_order(session, "Q4", 2, utc(2026, 2, 20, 3), "10", status=OrderStatus.cancelled)
    # 3: cohort 2026-02; 23:59 local 31 March is March (offset 1); 00:00 local 1 April is
    # after the period end and never observed.
    add_order(session, "Q5", 3, utc(2026, 2, 10, 3), "10")
    add_order(session, "Q6", 3, utc(2026, 3, 31, 16, 59), "10")
    add_order(session, "Q7", 3, utc(2026, 3, 31, 17), "10")
    # 4: first order 23:59 local 31 December, before the period: in no cohort.
    add_order(session, "Q8", 4, utc(2025, 12, 31, 16, 59), "10")
    add_order(session, "Q9", 4, utc(2026, 1, 5, 3), "10")
    # 5: cohort 2026-03.
    add_order(session, "Q10", 5, utc(2026, 3, 5, 3), "10")
    session.commit()
    quarter = Period(dt.date(2026, 1, 1), dt.date(2026, 4, 1))
    frame = analyses.cohort_retention(ctx_for(session), period=quarter, months=2)
    expected = pd.DataFrame(
        [
            ("2026-01", 2, 0, 2, 1.0),
            ("2026-01", 2, 1, 1, 0.5),
            ("2026-01", 2, 2, 0, 0.0),
            ("2026-02", 1, 0, 1, 1.0),
            ("2026-02", 1, 1, 1, 1.0),
            ("2026-03", 1, 0, 1, 1.0),
        ],
        columns=analyses.COHORT_COLUMNS,
    )
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False)


# ---------------------------------------------------------------- pipeline
def add_opportunity(
    session: Session,
    opportunity_id: int,
    amount: str,
    history: list[tuple[Stage, dt.datetime]],
    *,
    owner_id: int | None = None,
    expected_close: dt.date | None = None,
    lost_reason: str | None = None,
) -> None:
    """An opportunity with its stage history; the last step sets its stage and closing."""
    final_stage, final_at = history[-1]
    closed = final_stage in (Stage.won, Stage.lost)
    session.add(
        Opportunity(
            id=opportunity_id,
            customer_id=1,
            title=f"Deal {opportunity_id}",
            amount=d(amount),
            stage=final_stage,
            expected_close=expected_close,
            lost_reason=lost_reason,
            owner_id=owner_id,
            created_at=history[0][1],
            closed_at=final_at if closed else None,
        )
    )
    session.flush()
    previous = None
    for stage, changed_at in history:
        session.add(
            OpportunityStageHistory(
                opportunity_id=opportunity_id,
                from_stage=previous,
                to_stage=stage,
                changed_at=changed_at,
            )
        )
        previous = stage


def march(day: int) -> dt.datetime:
    return utc(2026, 3, day, 3)


@pytest.fixture
def pipeline(session: Session) -> Session:
    """Seven opportunities around March 2026 with two owners and one unassigned."""
    session.add_all(
        [
            User(id=1, username="lan", display_name="Lan"),
            User(id=2, username="minh", display_name="Minh"),
        ]
    )
    add_customer(session, 1, "KH_P")
    # 1: lead → qualified → proposal → lost in March: lost at proposal.
    add_opportunity(
        session,
        1,
        "1000",
        [
            (Stage.lead, march(2)),
            (Stage.qualified, march(5)),
            (Stage.proposal, march(10)),
            (Stage.lost, march(20)),
        ],
        owner_id=1,
        lost_reason="Giá cao",
    )
    # 2: lead → won directly in March: reached every stage.
    add_opportunity(
        session, 2, "2000", [(Stage.lead, march(3)), (Stage.won, march(25))], owner_id=1
    )
    # 3: qualified and open at the end, expected in April.
    add_opportunity(
        session,
        3,
        "500",
        [(Stage.lead, march(4)), (Stage.qualified, march(6))],
        owner_id=2,
        expected_close=dt.date(2026, 4, 15),
    )
    # 4: lost at lead, no reason given.
    add_opportunity(session, 4, "300", [(Stage.lead, march(5)), (Stage.lost, march(7))], owner_id=2)
    # 5: created in February (outside the March cohort), in negotiation, overdue.
    add_opportunity(
        session,
        5,
        "4000",
        [(Stage.lead, utc(2026, 2, 10, 3)), (Stage.negotiation, utc(2026, 2, 20, 3))],
        expected_close=dt.date(2026, 2, 28),
    )
    # 6: won at 00:00 local 1 April, exactly the end: still open (proposal) at the end.
    add_opportunity(
        session,
        6,
        "800",
        [(Stage.lead, march(6)), (Stage.proposal, march(30)), (Stage.won, utc(2026, 3, 31, 17))],
        owner_id=2,
    )
    # 7: lost at 23:59 local 28 February: closed before March.
    add_opportunity(
        session,
        7,
        "700",
        [
            (Stage.lead, utc(2026, 1, 10, 3)),
            (Stage.qualified, utc(2026, 1, 15, 3)),
            (Stage.lost, utc(2026, 2, 28, 16, 59)),
        ],
        owner_id=1,
        lost_reason="Giá cao",
    )
    # Revenue per order taker in March: Lan 5000, no user 100.
    add_order(session, "R1", 1, march(12), "5000", user_id=1)
    add_order(session, "R2", 1, march(13), "100")
    session.commit()
    return session


def test_pipeline_by_stage(pipeline: Session) -> None:
    frame = analyses.pipeline_by_stage(ctx_for(pipeline), period=MARCH)
    assert list(frame.columns) == analyses.PIPELINE_COLUMNS
    assert records(frame) == [
        ("lead", 0, d("0.00"), 0.10, d("0.00")),
        ("qualified", 1, d("500.00"), 0.25, d("125.00")),  # 3
        ("proposal", 1, d("800.00"), 0.50, d("400.00")),  # 6, won only at the end
        ("negotiation", 1, d("4000.00"), 0.75, d("3000.00")),  # 5
        ("won", 1, d("2000.00"), 1.0, d("2000.00")),  # 2
        ("lost", 2, d("1300.00"), 0.0, d("0.00")),  # 1 and 4; 7 closed in February
    ]
    open_rows = frame[frame["stage"].isin(["lead", "qualified", "proposal", "negotiation"])]
    assert sum(open_rows["amount"]) == value_of(pipeline, "pipeline_value", MARCH)
    assert sum(open_rows["weighted"]) == value_of(pipeline, "weighted_pipeline", MARCH)


def test_stage_funnel_keeps_lost_deals(pipeline: Session) -> None:
    frame = analyses.stage_funnel(ctx_for(pipeline), period=MARCH)
    # March cohort: 1 (lost at proposal), 2 (won), 3 (qualified), 4 (lost at lead),
    # 6 (proposal; skipped qualified, which still counts as reached).
    assert list(frame.columns) == analyses.FUNNEL_COLUMNS
    assert records(frame) == [
        ("lead", 5, 1, 4 / 5),
        ("qualified", 4, 0, 3 / 4),
        ("proposal", 3, 1, 1 / 3),
        ("negotiation", 1, 0, 1.0),
        ("won", 1, 0, None),
    ]


def test_deal_lost_at_proposal_stays_in_the_funnel(session: Session) -> None:
    add_customer(session, 1, "KH_P")
    add_opportunity(
        session,
        1,
        "1000",
        [
            (Stage.lead, march(2)),
            (Stage.qualified, march(5)),
            (Stage.proposal, march(10)),
            (Stage.lost, march(20)),
        ],
        lost_reason="Giá cao",
    )
    session.commit()
    frame = analyses.stage_funnel(ctx_for(session), period=MARCH)
    assert list(frame["reached"]) == [1, 1, 1, 0, 0]
    assert list(frame["lost_here"]) == [0, 0, 1, 0, 0]
    # Seen at 00:00 local 15 March the deal is at proposal and not lost yet.
    early = analyses.stage_funnel(
        ctx_for(session), period=Period(dt.date(2026, 3, 1), dt.date(2026, 3, 15))
    )
    assert list(early["reached"]) == [1, 1, 1, 0, 0]
    assert list(early["lost_here"]) == [0, 0, 0, 0, 0]


def test_forecast_by_close_month(pipeline: Session) -> None:
    frame = analyses.forecast_by_close_month(ctx_for(pipeline), period=MARCH, months=2)
    expected = [
        ("overdue", d("4000.00"), d("3000.00"), 1),  # 5, expected 28 February
        ("2026-04", d("500.00"), d("125.00"), 1),  # 3
        ("2026-05", d("0.00"), d("0.00"), 0),  # empty month kept
        ("no date", d("800.00"), d("400.00"), 1),  # 6
    ]
    assert list(frame.columns) == analyses.FORECAST_COLUMNS
    assert records(frame) == expected
    assert sum(frame["open_amount"]) == value_of(pipeline, "pipeline_value", MARCH)


def test_time_in_stage_and_sales_cycle(pipeline: Session) -> None:
    ctx = ctx_for(pipeline)
    frame = analyses.time_in_stage(ctx, period=MARCH)
    # Lead stays ended in March: 1 (3 days), 2 (22), 3 (2), 4 (2), 6 (24); 5 and 7 left
    # lead before March. Stays still open at the end (3 qualified, 6 proposal) are out.
    assert list(frame["stage"]) == ["lead", "qualified", "proposal", "negotiation"]
    assert list(frame["n"]) == [5, 1, 1, 0]
    assert frame["median_days"].iloc[0] == pytest.approx(3.0)
    # p90 of [2, 2, 3, 22, 24]: position 3.6 → 22 + 0.6 × 2.
    assert frame["p90_days"].iloc[0] == pytest.approx(23.2)
    assert frame["median_days"].iloc[1] == pytest.approx(5.0)
    assert frame["median_days"].iloc[2] == pytest.approx(10.0)
    assert frame["median_days"].iloc[3] is None
    cycle = analyses.sales_cycle(ctx, period=MARCH)
    # Only 2 was won in March: 3 → 25 March.
    assert list(cycle.columns) == analyses.SALES_CYCLE_COLUMNS
    assert cycle["median_days"].iloc[0] == pytest.approx(22.0)
    assert cycle["n"].iloc[0] == 1
    assert cycle["median_days"].iloc[0] == pytest.approx(
        value_of(pipeline, "sales_cycle_days", MARCH)
    )


def test_lost_reasons_and_owners(pipeline: Session) -> None:
    ctx = ctx_for(pipeline)
    reasons = analyses.lost_reasons(ctx, period=MARCH)
    expected = pd.DataFrame(
        [("(not given)", 1, d("300.00"), 0.5), ("Giá cao", 1, d("1000.00"), 0.5)],
        columns=analyses.LOST_REASON_COLUMNS,
    )
    pd.testing.assert_frame_equal(reasons, expected, check_dtype=False)
    owners = analyses.owner_performance(ctx, period=MARCH)
    expected = [
        # Lan: 2 won and 1 lost in March (7 closed in February); R1 taken by Lan.
        (1, "Lan", d("0.00"), 1, 1, 0.5, d("2000.00"), d("5000.00")),
        # Minh: 3 and 6 open at the end; 4 lost.
        (2, "Minh", d("1300.00"), 0, 1, 0.0, d("0.00"), d("0.00")),
        # No owner: 5 open; R2 has no user; no closed deal, so no win rate.
        (None, "(unassigned)", d("4000.00"), 0, 0, None, d("0.00"), d("100.00")),
    ]
    assert list(owners.columns) == analyses.OWNER_COLUMNS
    assert records(owners) == expected


def test_drilldown_pipeline_and_win_rate(pipeline: Session) -> None:
    ctx = ctx_for(pipeline)
    open_deals = analyses.drilldown(ctx, kpi_id="pipeline_value", period=MARCH)
    assert sorted(open_deals["opportunity_id"]) == [3, 5, 6]
    assert sum(open_deals["amount"]) == value_of(pipeline, "pipeline_value", MARCH)
    assert set(open_deals["customer_code"]) == {"KH_P"}
    closed = analyses.drilldown(ctx, kpi_id="win_rate", period=MARCH)
    assert sorted(closed["opportunity_id"]) == [1, 2, 4]
    won_share = (closed["stage"] == "won").sum() / len(closed)
    assert won_share == pytest.approx(value_of(pipeline, "win_rate", MARCH))


# ---------------------------------------------------------------- campaigns
@pytest.fixture
def campaigns(session: Session) -> Session:
    """Five campaigns around March 2026 (31 days), members and attributed orders."""
    rows = [
        # 15 Feb - 16 Mar: 30 days, 16 in March → 3000 × 16 / 30 = 1600 allocated.
        (
            1,
            "Email Xuân",
            CampaignChannel.email,
            CampaignPurpose.acquisition,
            (2, 15),
            (3, 16),
            "4000",
            "3000",
        ),
        # Entirely in March: all 1000 allocated.
        (
            2,
            "Hội chợ",
            CampaignChannel.event,
            CampaignPurpose.retention,
            (3, 10),
            (3, 19),
            "1000",
            "1000",
        ),
        # Ends 28 February, the day before the period: not listed.
        (3, "SMS Tết", CampaignChannel.sms, CampaignPurpose.retention, (1, 1), (2, 28), "10", "10"),
        # Starts 1 April, the period end: not listed.
        (
            4,
            "Email Hè",
            CampaignChannel.email,
            CampaignPurpose.awareness,
            (4, 1),
            (4, 30),
            "10",
            "10",
        ),
        # All of March with no member and no sale: rates are None.
        (
            5,
            "Email nhắc",
            CampaignChannel.email,
            CampaignPurpose.retention,
            (3, 1),
            (3, 31),
            "500",
            "310",
        ),
    ]
    for campaign_id, name, channel, purpose, first, last, budget, cost in rows:
        session.add(
            Campaign(
                id=campaign_id,
                name=name,
                channel=channel,
                purpose=purpose,
                start_date=dt.date(2026, *first),
                end_date=dt.date(2026, *last),
                budget=d(budget),
                actual_cost=d(cost),
            )
        )
    for customer_id in range(1, 7):
        add_customer(session, customer_id, f"M{customer_id}")
    members = [
        (1, 1, march(2), True, True),
        (1, 2, march(3), True, False),
        (1, 3, march(4), False, False),
        # 23:59 local 28 February: contacted before the period, not counted.
        (1, 4, utc(2026, 2, 28, 16, 59), True, True),
        # 23:59 local 31 March: counted.
        (2, 3, utc(2026, 3, 31, 16, 59), False, False),
        # 00:00 local 1 April, the end: not counted.
        (2, 5, utc(2026, 3, 31, 17), True, True),
    ]
    for campaign_id, customer_id, contacted, responded, converted in members:
        session.add(
            CampaignMember(
                campaign_id=campaign_id,
                customer_id=customer_id,
                contacted_at=contacted,
                responded=responded,
                converted=converted,
            )
        )
    session.flush()
    # 1's first order ever comes from campaign 1: a new customer of campaign 1.
    add_order(session, "S1", 1, march(5), "1000", "600", campaign_id=1)
    # 1's second order is attributed to campaign 2, which did not win 1.
    add_order(session, "S2", 1, march(20), "500", "300", campaign_id=2)
    # 2 bought in January: its campaign-1 order adds revenue but no new customer.
    add_order(session, "S3", 2, utc(2026, 1, 10, 3), "50")
    add_order(session, "S4", 2, march(6), "400", "100", campaign_id=1)
    # 3's campaign order was cancelled; its first counted order has no campaign.
    add_order(session, "S5", 3, march(7), "900", "1", OrderStatus.cancelled, campaign_id=1)
    add_order(session, "S6", 3, march(8), "90")
    # 00:00 local 1 April: after the period.
    add_order(session, "S7", 6, utc(2026, 3, 31, 17), "700", "1", campaign_id=1)
    session.commit()
    return session


def test_campaign_results(campaigns: Session) -> None:
    frame = analyses.campaign_results(ctx_for(campaigns), period=MARCH)
    expected = [
        {
            "campaign_id": 1,
            "name": "Email Xuân",
            "channel": "email",
            "purpose": "acquisition",
            "budget": d("4000.00"),
            "actual_cost": d("3000.00"),
            "allocated_cost": d("1600.00"),
            "members": 3,
            "responses": 2,
            "conversions": 1,
            "response_rate": 2 / 3,
            "conversion_rate": 1 / 3,
            "revenue": d("1400.00"),
            "margin": d("700.00"),
            "roi": (700 - 1600) / 1600,
            "new_customers": 1,
            "cac": d("1600.00"),
        },
        {
            "campaign_id": 5,
            "name": "Email nhắc",
            "channel": "email",
            "purpose": "retention",
            "budget": d("500.00"),
            "actual_cost": d("310.00"),
            "allocated_cost": d("310.00"),
            "members": 0,
            "responses": 0,
            "conversions": 0,
            "response_rate": None,
            "conversion_rate": None,
            "revenue": d("0.00"),
            "margin": d("0.00"),
            "roi": -1.0,
            "new_customers": 0,
            "cac": None,
        },
        {
            "campaign_id": 2,
            "name": "Hội chợ",
            "channel": "event",
            "purpose": "retention",
            "budget": d("1000.00"),
            "actual_cost": d("1000.00"),
            "allocated_cost": d("1000.00"),
            "members": 1,
            "responses": 0,
            "conversions": 0,
            "response_rate": 0.0,
            "conversion_rate": 0.0,
            "revenue": d("500.00"),
            "margin": d("200.00"),
            "roi": -0.8,
            "new_customers": 0,
            "cac": None,
        },
    ]
    assert list(frame.columns) == analyses.CAMPAIGN_COLUMNS
    assert records(frame) == [tuple(row.values()) for row in expected]


def test_campaigns_by_channel(campaigns: Session) -> None:
    frame = analyses.campaigns_by_channel(ctx_for(campaigns), period=MARCH)
    assert list(frame.columns) == analyses.CHANNEL_COLUMNS
    email = frame[frame["channel"] == "email"].iloc[0]
    assert email["campaigns"] == 2
    assert email["allocated_cost"] == d("1910.00")
    assert email["members"] == 3
    assert email["response_rate"] == pytest.approx(2 / 3)
    assert email["roi"] == pytest.approx((700 - 1910) / 1910)
    assert email["cac"] == d("1910.00")
    event = frame[frame["channel"] == "event"].iloc[0]
    assert event["campaigns"] == 1
    assert event["cac"] is None
    assert list(frame["channel"]) == ["email", "event"]


def test_series_respects_customer_filters(sales: Session) -> None:
    customer = sales.get(Customer, 1)
    customer.segment = "SME"
    sales.add(customer)
    sales.commit()
    ctx = KpiContext.create(session=sales, filters=KpiFilters(segment="SME"))
    frame = analyses.series(ctx, kpi_id="revenue", period=SPRING)
    # Only A's orders: O1 + O2 + O4 in March.
    assert list(frame["value"]) == [d("160.00"), d("0.00"), d("0.00")]
    rows = analyses.drilldown(ctx, kpi_id="active_customers", period=MARCH)
    assert list(rows["customer_code"]) == ["KH_A"]
