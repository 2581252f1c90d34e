"""Internal, external, pipeline and complaint KPIs (kpis.md) on hand-built rows.

P = March 2026 = [00:00 local 1 Mar, 00:00 local 1 Apr) = [28 Feb 17:00Z, 31 Mar 17:00Z).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session

from app.models import (
    CampaignPurpose,
    InquiryStatus,
    InteractionKind,
    OrderStatus,
    Severity,
    Stage,
)
from app.settings import set_setting

from .helpers import (
    add_answer,
    add_campaign,
    add_complaint,
    add_customers,
    add_inquiry,
    add_interaction,
    add_member,
    add_opportunity,
    add_order,
    add_product,
    add_user,
    kpis,
    local,
    utc,
    values,
)

OPERATION_IDS = [
    "time_to_decision_days",
    "shared_customer_rate",
    "acquisition_rate",
    "interactions_logged",
    "interest_to_purchase_rate",
    "custom_request_rate",
    "dissatisfaction_rate",
    "unmet_inquiry_rate",
    "pipeline_value",
    "weighted_pipeline",
    "win_rate",
    "lead_conversion_rate",
    "sales_cycle_days",
    "complaints_opened",
    "complaint_rate",
    "first_response_hours",
    "resolution_hours",
    "sla_compliance_rate",
    "open_past_sla",
]
COUNTS_AND_SUMS = {"interactions_logged", "pipeline_value", "weighted_pipeline"} | {
    "complaints_opened",
    "open_past_sla",
}
H = dt.timedelta(hours=1)


def test_operations_empty_database(session: Session) -> None:
    got = kpis(session, OPERATION_IDS)
    for kpi_id in OPERATION_IDS:
        if kpi_id in COUNTS_AND_SUMS:
            assert got[kpi_id].value == 0, kpi_id
        else:
            assert got[kpi_id].value is None, kpi_id
    for kpi_id in ("time_to_decision_days", "sales_cycle_days", "first_response_hours"):
        assert got[kpi_id].details["p90"] is None
    assert got["interactions_logged"].details["per_active_user"] is None


# ---------------------------------------------------------------- opportunities
def build_closed_opportunities(session: Session) -> None:
    add_customers(session, 1)
    # Created in February, won 10 days later in P.
    add_opportunity(
        session, 1, 1, utc(2026, 2, 20, 10),
        history=[(Stage.lead, utc(2026, 2, 20, 10)), (Stage.won, utc(2026, 3, 2, 10))],
        closed_at=utc(2026, 3, 2, 10),
    )  # fmt: skip
    # Lost after 4 days.
    add_opportunity(
        session, 2, 1, utc(2026, 3, 1, 0),
        history=[(Stage.lead, utc(2026, 3, 1, 0)), (Stage.lost, utc(2026, 3, 5, 0))],
        closed_at=utc(2026, 3, 5, 0),
    )  # fmt: skip
    # Won after 20 days.
    add_opportunity(
        session, 3, 1, utc(2026, 3, 10, 0),
        history=[(Stage.lead, utc(2026, 3, 10, 0)), (Stage.won, utc(2026, 3, 30, 0))],
        closed_at=utc(2026, 3, 30, 0),
    )  # fmt: skip
    # Lost exactly at 00:00 local 1 Apr = the end of P: closed in April, not in P.
    add_opportunity(
        session, 4, 1, utc(2026, 1, 1, 0),
        history=[(Stage.lead, utc(2026, 1, 1, 0)), (Stage.lost, utc(2026, 3, 31, 17, 0))],
        closed_at=utc(2026, 3, 31, 17, 0),
    )  # fmt: skip
    # Created exactly at the start of P, won at 23:00 local 31 Mar: 30 days 23 hours.
    add_opportunity(
        session, 5, 1, utc(2026, 2, 28, 17, 0),
        history=[(Stage.lead, utc(2026, 2, 28, 17, 0)), (Stage.won, utc(2026, 3, 31, 16, 0))],
        closed_at=utc(2026, 3, 31, 16, 0),
    )  # fmt: skip
    # Created in P, still open.
    add_opportunity(
        session, 6, 1, local(2026, 3, 15, 9),
        history=[(Stage.lead, local(2026, 3, 15, 9)), (Stage.proposal, local(2026, 3, 25, 9))],
    )  # fmt: skip
    # Created in P, won only after the end (5 Apr).
    add_opportunity(
        session, 7, 1, local(2026, 3, 20, 9),
        history=[(Stage.lead, local(2026, 3, 20, 9)), (Stage.won, utc(2026, 4, 5, 0))],
        closed_at=utc(2026, 4, 5, 0),
    )  # fmt: skip


LONGEST = 30 + 23 / 24  # opportunity 5


def test_closed_opportunity_kpis(session: Session) -> None:
    build_closed_opportunities(session)
    got = kpis(
        session, ["time_to_decision_days", "win_rate", "lead_conversion_rate", "sales_cycle_days"]
    )
    # Closed in P: 1 won (10 d), 2 lost (4 d), 3 won (20 d), 5 won (30.96 d).
    assert got["win_rate"].value == pytest.approx(3 / 4)
    # Days to decision [4, 10, 20, 30.96]: median (10 + 20) / 2; p90 by linear interpolation
    # at position 0.9 * 3 = 2.7: 20 + 0.7 * (30.96 - 20).
    assert got["time_to_decision_days"].value == pytest.approx(15.0)
    assert got["time_to_decision_days"].details["p90"] == pytest.approx(20 + 0.7 * (LONGEST - 20))
    # Won in P: [10, 20, 30.96]: median 20; p90 at position 1.8: 20 + 0.8 * 10.96.
    assert got["sales_cycle_days"].value == pytest.approx(20.0)
    assert got["sales_cycle_days"].details["p90"] == pytest.approx(20 + 0.8 * (LONGEST - 20))
    # Created in P: 2, 3, 5 (start instant), 6, 7; won before the end: 3 and 5.
    assert got["lead_conversion_rate"].value == pytest.approx(2 / 5)


def test_closed_opportunity_zero_denominators(session: Session) -> None:
    """Only an open opportunity created in February: nothing closed or created in P."""
    add_customers(session, 1)
    add_opportunity(session, 1, 1, local(2026, 2, 10, 9))
    got = kpis(
        session, ["time_to_decision_days", "win_rate", "lead_conversion_rate", "sales_cycle_days"]
    )
    for kpi_id in got:
        assert got[kpi_id].value is None, kpi_id


def build_pipeline(session: Session) -> None:
    add_customers(session, 1)
    # Proposal at the end: 1,000,000 x 50%.
    add_opportunity(
        session, 6, 1, local(2026, 3, 15, 9), amount=1000000,
        history=[(Stage.lead, local(2026, 3, 15, 9)), (Stage.proposal, local(2026, 3, 25, 9))],
    )  # fmt: skip
    # Negotiation at the end, won only on 5 Apr (its current stage is won): 2,000,000 x 75%.
    add_opportunity(
        session, 7, 1, local(2026, 3, 20, 9), amount=2000000,
        history=[
            (Stage.lead, local(2026, 3, 20, 9)),
            (Stage.negotiation, local(2026, 3, 28, 9)),
            (Stage.won, utc(2026, 4, 5, 0)),
        ],
        closed_at=utc(2026, 4, 5, 0),
    )  # fmt: skip
    # Created in February, qualified since: 400,000 x 25%.
    add_opportunity(
        session, 8, 1, local(2026, 2, 1, 9), amount=400000,
        history=[(Stage.lead, local(2026, 2, 1, 9)), (Stage.qualified, local(2026, 2, 10, 9))],
    )  # fmt: skip
    # Created after the end: not in the pipeline at the end of March.
    add_opportunity(session, 9, 1, local(2026, 4, 2, 9), amount=5000000)
    # Qualified at 23:59 local 31 Mar, proposal only in April: qualified, 800,000 x 25%.
    add_opportunity(
        session, 10, 1, local(2026, 3, 1, 9), amount=800000,
        history=[
            (Stage.lead, local(2026, 3, 1, 9)),
            (Stage.qualified, utc(2026, 3, 31, 16, 59)),
            (Stage.proposal, local(2026, 4, 3, 9)),
        ],
    )  # fmt: skip
    # Won and lost in P: closed, not in the pipeline.
    add_opportunity(
        session, 11, 1, local(2026, 2, 1, 9), amount=3000000,
        history=[(Stage.lead, local(2026, 2, 1, 9)), (Stage.won, local(2026, 3, 10, 9))],
        closed_at=local(2026, 3, 10, 9),
    )  # fmt: skip
    add_opportunity(
        session, 12, 1, local(2026, 2, 1, 9), amount=3000000,
        history=[(Stage.lead, local(2026, 2, 1, 9)), (Stage.lost, local(2026, 3, 11, 9))],
        closed_at=local(2026, 3, 11, 9),
    )  # fmt: skip


def test_pipeline_value_and_weighted(session: Session) -> None:
    build_pipeline(session)
    got = values(session, ["pipeline_value", "weighted_pipeline"])
    # Open at the end: 6 (1,000,000), 7 (2,000,000), 8 (400,000), 10 (800,000).
    assert got["pipeline_value"] == 4200000
    # 500,000 + 1,500,000 + 100,000 + 200,000.
    assert got["weighted_pipeline"] == 2300000


def test_weighted_pipeline_uses_the_probability_setting(session: Session) -> None:
    build_pipeline(session)
    probabilities = {
        "lead": 0.1,
        "qualified": 0.25,
        "proposal": 0.6,
        "negotiation": 0.75,
        "won": 1.0,
        "lost": 0.0,
    }
    set_setting(session=session, key="stage_probabilities", value=probabilities)
    # Opportunity 6 now weighs 600,000 instead of 500,000.
    assert values(session, ["weighted_pipeline"])["weighted_pipeline"] == 2400000


def test_pipeline_at_end_of_february(session: Session) -> None:
    """At 00:00 local 1 Mar only 8 (qualified), 11 and 12 (still lead) are open."""
    from app.kpi.period import Period

    build_pipeline(session)
    got = values(
        session,
        ["pipeline_value", "weighted_pipeline"],
        Period(dt.date(2026, 2, 1), dt.date(2026, 3, 1)),
    )
    assert got["pipeline_value"] == 6400000
    # 400,000 x 25% + 2 x 3,000,000 x 10%.
    assert got["weighted_pipeline"] == 700000


# ---------------------------------------------------------------- complaints
def build_complaints(session: Session) -> None:
    add_customers(session, 1, 2, 3, 4)
    for customer_id in (1, 2, 3, 4):
        add_order(session, customer_id, customer_id, local(2026, 3, 10, 10))
    crit, high, med, low = Severity.critical, Severity.high, Severity.medium, Severity.low
    t = utc(2026, 3, 2)
    # Resolved exactly at each severity's SLA hours: within the SLA.
    add_complaint(session, 1, 1, t, severity=crit, first_response_at=t + H, resolved_at=t + 4 * H)
    t = utc(2026, 3, 3)
    add_complaint(
        session, 2, 2, t, severity=crit, first_response_at=t + 2 * H, resolved_at=t + 5 * H
    )
    t = utc(2026, 3, 4)
    add_complaint(
        session, 3, 3, t, severity=high, first_response_at=t + 3 * H, resolved_at=t + 24 * H
    )
    t = utc(2026, 3, 5)
    add_complaint(
        session, 4, 4, t, severity=med, first_response_at=t + 10 * H, resolved_at=t + 80 * H
    )
    t = utc(2026, 3, 6)
    add_complaint(
        session, 5, 1, t, severity=low, first_response_at=t + 20 * H, resolved_at=t + 168 * H
    )
    t = utc(2026, 3, 7)
    add_complaint(
        session, 9, 2, t, severity=med, first_response_at=t + 30 * H, resolved_at=t + 72 * H
    )
    # Opened in February, resolved in P after 216 h (low: 168 h): a breach in P.
    add_complaint(
        session, 6, 3, utc(2026, 2, 20), severity=low,
        first_response_at=utc(2026, 2, 20, 5), resolved_at=utc(2026, 3, 1),
    )  # fmt: skip
    # Open at the end; medium deadline 29 Mar + 72 h = 1 Apr 00:00Z, after the end.
    add_complaint(
        session, 7, 4, utc(2026, 3, 29), severity=med, first_response_at=utc(2026, 3, 29, 6)
    )
    # Open, never answered; high deadline 31 Mar 00:00Z is before the end: past SLA.
    add_complaint(session, 8, 1, utc(2026, 3, 30), severity=high)
    # Critical at 13:00Z 31 Mar: deadline 17:00Z = exactly the end, not before it.
    add_complaint(session, 10, 2, utc(2026, 3, 31, 13, 0), severity=crit)
    # Critical at 12:59Z: deadline 16:59Z, one minute before the end: past SLA.
    add_complaint(session, 11, 3, utc(2026, 3, 31, 12, 59), severity=crit)
    # Opened in January, resolved only on 2 Apr: open at the end and long past SLA.
    add_complaint(session, 12, 4, utc(2026, 1, 10), severity=low, resolved_at=utc(2026, 4, 2))
    # Opened and resolved in February: neither open at the end nor in P.
    add_complaint(session, 13, 1, utc(2026, 2, 1), severity=high, resolved_at=utc(2026, 2, 3))
    # Opened exactly at the end of P: not in P, not open "at end".
    add_complaint(session, 14, 2, utc(2026, 3, 31, 17, 0), severity=med)
    # Opened exactly at the start of P, low, still open: deadline 7 Mar 17:00Z: past SLA.
    add_complaint(session, 15, 3, utc(2026, 2, 28, 17, 0), severity=low)


COMPLAINT_IDS = [
    "complaints_opened",
    "complaint_rate",
    "first_response_hours",
    "resolution_hours",
    "sla_compliance_rate",
    "open_past_sla",
]


def test_complaint_kpis(session: Session) -> None:
    build_complaints(session)
    got = kpis(session, COMPLAINT_IDS)
    # Opened in P: 1, 2, 3, 4, 5, 9, 7, 8, 10, 11, 15.
    assert got["complaints_opened"].value == 11
    # 11 complaints / 4 active customers x 100.
    assert got["complaint_rate"].value == pytest.approx(275.0)
    # First responses of complaints opened in P: [1, 2, 3, 6, 10, 20, 30] h.
    assert got["first_response_hours"].value == pytest.approx(6.0)
    assert got["first_response_hours"].details["p90"] == pytest.approx(20 + 0.4 * 10)
    # Resolved in P: [4, 5, 24, 72, 80, 168, 216] h (6 was opened in February).
    assert got["resolution_hours"].value == pytest.approx(72.0)
    assert got["resolution_hours"].details["p90"] == pytest.approx(168 + 0.4 * 48)
    # Within SLA: 1 (crit 4 h), 3 (high 24 h), 5 (low 168 h), 9 (medium 72 h);
    # breaches: 2 (crit 5 h), 4 (medium 80 h), 6 (low 216 h).
    assert got["sla_compliance_rate"].value == pytest.approx(4 / 7)
    # Open at the end and past the deadline: 8, 11, 12, 15 (not 7, not 10).
    assert got["open_past_sla"].value == 4


def test_sla_hours_setting_per_severity(session: Session) -> None:
    """Critical 6 h makes complaint 2 (5 h) compliant; medium 90 h makes 4 (80 h) compliant."""
    build_complaints(session)
    sla = {"critical": 6, "high": 24, "medium": 90, "low": 168}
    set_setting(session=session, key="sla_hours", value=sla)
    got = values(session, ["sla_compliance_rate", "open_past_sla"])
    assert got["sla_compliance_rate"] == pytest.approx(6 / 7)
    # Complaint 11 (critical, 12:59Z 31 Mar) now has until 18:59Z: no longer past SLA.
    assert got["open_past_sla"] == 3


def test_sla_resolved_exactly_at_the_limit_is_within(session: Session) -> None:
    """Critical 5 h and medium 80 h: complaints 2 (5 h) and 4 (80 h) end exactly on time."""
    build_complaints(session)
    sla = {"critical": 5, "high": 24, "medium": 80, "low": 168}
    set_setting(session=session, key="sla_hours", value=sla)
    assert values(session, ["sla_compliance_rate"])["sla_compliance_rate"] == pytest.approx(6 / 7)


def test_complaint_zero_denominators(session: Session) -> None:
    """Complaints but no active customer and nothing resolved or answered in P."""
    add_customers(session, 1)
    add_complaint(session, 1, 1, local(2026, 3, 5, 9))
    got = values(session, COMPLAINT_IDS)
    assert got["complaints_opened"] == 1
    assert got["complaint_rate"] is None  # no active customers
    assert got["first_response_hours"] is None
    assert got["resolution_hours"] is None
    assert got["sla_compliance_rate"] is None
    # Still open at the end, and its medium deadline (5 Mar + 72 h) passed before it.
    assert got["open_past_sla"] == 1


def test_first_response_after_the_end_still_counts(session: Session) -> None:
    add_customers(session, 1)
    # Opened 30 Mar 00:00Z, first response 2 Apr 00:00Z = 72 h, after the end of P.
    add_complaint(session, 1, 1, utc(2026, 3, 30), first_response_at=utc(2026, 4, 2))
    add_complaint(session, 2, 1, utc(2026, 3, 2), first_response_at=utc(2026, 3, 2, 2))
    result = kpis(session, ["first_response_hours"])["first_response_hours"]
    assert result.value == pytest.approx((2 + 72) / 2)


# ---------------------------------------------------------------- interactions
def test_shared_customers_and_interactions_logged(session: Session) -> None:
    for user_id in (1, 2, 3):
        add_user(session, user_id)
    add_customers(session, 1, 2, 3, 4)
    add_interaction(session, 1, 1, local(2026, 3, 5, 9), user_id=1)
    add_interaction(session, 2, 1, local(2026, 3, 6, 9), user_id=2)
    add_interaction(session, 3, 2, local(2026, 3, 7, 9), user_id=1)
    add_interaction(session, 4, 2, local(2026, 3, 8, 9), user_id=1)  # same user twice
    add_interaction(session, 5, 3, local(2026, 3, 9, 9), user_id=2)
    # Exactly at the end: user 1 on customer 3 does not count.
    add_interaction(session, 6, 3, utc(2026, 3, 31, 17, 0), user_id=1)
    # Exactly at the start and in the last minute: both count for customer 4.
    add_interaction(session, 7, 4, utc(2026, 2, 28, 17, 0), user_id=1)
    add_interaction(session, 8, 4, utc(2026, 3, 31, 16, 59), user_id=3)
    # One minute before the start: not in P.
    add_interaction(session, 9, 4, utc(2026, 2, 28, 16, 59), user_id=2)
    # No user recorded: counts as an interaction, not as a second user.
    add_interaction(session, 10, 2, local(2026, 3, 10, 9))
    got = kpis(session, ["shared_customer_rate", "interactions_logged"])
    # >= 2 distinct users: customers 1 (users 1, 2) and 4 (1, 3) of 1, 2, 3, 4.
    assert got["shared_customer_rate"].value == pytest.approx(2 / 4)
    # In P: 1, 2, 3, 4, 5, 7, 8, 10; logged by users 1, 2, 3.
    assert got["interactions_logged"].value == 8
    assert got["interactions_logged"].details["per_active_user"] == pytest.approx(8 / 3)


def test_shared_customer_rate_zero_denominator(session: Session) -> None:
    add_customers(session, 1)
    add_interaction(session, 1, 1, local(2026, 2, 5, 9))  # February only
    got = values(session, ["shared_customer_rate", "interactions_logged"])
    assert got["shared_customer_rate"] is None
    assert got["interactions_logged"] == 0


def test_acquisition_rate(session: Session) -> None:
    add_customers(session, *range(1, 9))
    add_campaign(
        session, 1, CampaignPurpose.acquisition, dt.date(2026, 2, 1), dt.date(2026, 3, 31), 0
    )
    # 1: touched by an interaction in P, first order in P.
    add_interaction(session, 1, 1, local(2026, 3, 3, 9))
    add_order(session, 1, 1, local(2026, 3, 4, 9))
    # 2: touched by an inquiry; 3: by an opportunity created in P; neither buys.
    add_inquiry(session, 1, 2, local(2026, 3, 5, 9))
    add_opportunity(session, 1, 3, local(2026, 3, 6, 9))
    # 4: contacted by the campaign in P, buys in P.
    add_member(session, 1, 1, 4, local(2026, 3, 7, 9))
    add_order(session, 4, 4, local(2026, 3, 20, 9))
    # 5: contacted in February only, buys in P: new but not in the denominator.
    add_member(session, 2, 1, 5, local(2026, 2, 20, 9))
    add_order(session, 5, 5, local(2026, 3, 21, 9))
    # 6: bought in 2025: not a prospect.
    add_order(session, 6, 6, local(2025, 6, 1, 9))
    add_interaction(session, 6, 6, local(2026, 3, 8, 9))
    # 7: touched only exactly at the end.
    add_interaction(session, 7, 7, utc(2026, 3, 31, 17, 0))
    # 8: only a cancelled order before P: still a prospect.
    add_order(session, 8, 8, local(2026, 1, 15, 9), status=OrderStatus.cancelled)
    add_interaction(session, 8, 8, local(2026, 3, 9, 9))
    # New: 1, 4, 5. Touched prospects: 1, 2, 3, 4, 8.
    assert values(session, ["acquisition_rate"])["acquisition_rate"] == pytest.approx(3 / 5)


def test_acquisition_rate_zero_denominator(session: Session) -> None:
    """A new customer but no touched prospect."""
    add_customers(session, 1)
    add_order(session, 1, 1, local(2026, 3, 4, 9))
    assert values(session, ["acquisition_rate"])["acquisition_rate"] is None


# ---------------------------------------------------------------- inquiries
def build_inquiries(session: Session) -> None:
    add_customers(session, *range(1, 7))
    asked = utc(2026, 3, 2, 3, 17)
    window = dt.timedelta(days=30)
    # 1: ordered 30 days minus one minute after asking: converted.
    add_inquiry(session, 1, 1, asked, InquiryStatus.fulfilled)
    add_order(session, 1, 1, asked + window - dt.timedelta(minutes=1))
    # 2: ordered exactly 30 days after asking: outside [asked, asked + 30 days).
    add_inquiry(session, 2, 2, asked, InquiryStatus.unmet)
    add_order(session, 2, 2, asked + window)
    # 3: ordered only the day before asking.
    add_inquiry(session, 3, 3, local(2026, 3, 10, 9), InquiryStatus.unmet)
    add_order(session, 3, 3, local(2026, 3, 9, 9))
    # 4: the order after asking was cancelled.
    add_inquiry(session, 4, 4, local(2026, 3, 10, 9), InquiryStatus.unmet)
    add_order(session, 4, 4, local(2026, 3, 11, 9), status=OrderStatus.cancelled)
    # 5: asked exactly at the end of P: not in P.
    add_inquiry(session, 5, 5, utc(2026, 3, 31, 17, 0), InquiryStatus.unmet)
    add_order(session, 5, 5, local(2026, 4, 2, 9))
    # 6: asked in February (not in P); asked again on 25 Mar and ordered on 5 Apr, after
    # the end but within 30 days: converted.
    add_inquiry(session, 6, 6, local(2026, 2, 20, 9), InquiryStatus.fulfilled)
    add_order(session, 6, 6, local(2026, 3, 1, 10))
    add_inquiry(session, 7, 6, local(2026, 3, 25, 9), InquiryStatus.fulfilled)
    add_order(session, 7, 6, local(2026, 4, 5, 9))


def test_inquiry_kpis(session: Session) -> None:
    build_inquiries(session)
    got = values(session, ["interest_to_purchase_rate", "unmet_inquiry_rate"])
    # Asked in P: 1, 2, 3, 4, 7; converted: 1 and 7.
    assert got["interest_to_purchase_rate"] == pytest.approx(2 / 5)
    # Unmet: 2, 3, 4.
    assert got["unmet_inquiry_rate"] == pytest.approx(3 / 5)


def test_conversion_window_setting(session: Session) -> None:
    """A 31-day window also converts inquiry 2 (ordered exactly 30 days later)."""
    build_inquiries(session)
    set_setting(session=session, key="conversion_window_days", value=31)
    got = values(session, ["interest_to_purchase_rate"])
    assert got["interest_to_purchase_rate"] == pytest.approx(3 / 5)


def test_inquiry_zero_denominator(session: Session) -> None:
    add_customers(session, 1)
    add_inquiry(session, 1, 1, local(2026, 2, 10, 9), InquiryStatus.unmet)
    got = values(session, ["interest_to_purchase_rate", "unmet_inquiry_rate"])
    assert got["interest_to_purchase_rate"] is None
    assert got["unmet_inquiry_rate"] is None


# ---------------------------------------------------------------- orders and satisfaction
def test_custom_request_rate(session: Session) -> None:
    add_customers(session, 1)
    add_product(session, 1, "Giấy")
    add_order(session, 1, 1, local(2026, 3, 2, 9), lines=[(1, False, 0), (1, True, 0)])
    add_order(session, 2, 1, local(2026, 3, 3, 9), lines=[(1, False, 0)])
    add_order(session, 3, 1, local(2026, 3, 4, 9))  # no lines
    add_order(
        session, 4, 1, local(2026, 3, 5, 9), status=OrderStatus.cancelled, lines=[(1, True, 0)]
    )
    add_order(session, 5, 1, utc(2026, 3, 31, 17, 0), lines=[(1, True, 0)])  # at the end
    add_order(session, 6, 1, local(2026, 3, 6, 9), lines=[(1, True, 0), (1, True, 0)])
    # Counted in P: 1, 2, 3, 6; with a customised line: 1 and 6 (once each).
    assert values(session, ["custom_request_rate"])["custom_request_rate"] == pytest.approx(2 / 4)


def test_custom_request_rate_zero_denominator(session: Session) -> None:
    add_customers(session, 1)
    add_product(session, 1, "Giấy")
    add_order(
        session, 1, 1, local(2026, 3, 5, 9), status=OrderStatus.cancelled, lines=[(1, True, 0)]
    )
    assert values(session, ["custom_request_rate"])["custom_request_rate"] is None


def build_unhappy(session: Session) -> None:
    """Customers 1-7: 1-5 and 7 active in P, 6 only in February."""
    add_customers(session, *range(1, 8))
    for customer_id in (1, 2, 3, 4, 5, 7):
        add_order(session, customer_id, customer_id, local(2026, 3, 3, 9))
    add_order(session, 6, 6, local(2026, 2, 3, 9))
    add_complaint(session, 1, 1, local(2026, 3, 5, 9))
    add_answer(session, 2, 2, local(2026, 3, 6, 9), csat=2)
    add_answer(session, 3, 3, local(2026, 3, 7, 9), csat=3)
    add_complaint(session, 4, 4, local(2026, 3, 8, 9))
    add_answer(session, 4, 4, local(2026, 3, 9, 9), csat=1, nps=0)
    add_complaint(session, 5, 5, local(2026, 2, 20, 9))  # February
    add_complaint(session, 6, 6, local(2026, 3, 10, 9))  # not an active customer
    add_answer(session, 7, 7, utc(2026, 3, 31, 17, 0), csat=1)  # exactly at the end
    add_interaction(session, 1, 1, local(2026, 3, 11, 9), kind=InteractionKind.feedback)
    add_interaction(session, 2, 5, local(2026, 3, 12, 9), kind=InteractionKind.call)


def test_dissatisfaction_rate(session: Session) -> None:
    build_unhappy(session)
    # Active: 1, 2, 3, 4, 5, 7. Unhappy in P: 1 (complaint), 2 (CSAT 2), 4 (both, once).
    assert values(session, ["dissatisfaction_rate"])["dissatisfaction_rate"] == pytest.approx(3 / 6)


def test_dissatisfaction_rate_zero_denominator(session: Session) -> None:
    add_customers(session, 1)
    add_complaint(session, 1, 1, local(2026, 3, 5, 9))
    assert values(session, ["dissatisfaction_rate"])["dissatisfaction_rate"] is None
