"""Database quality and continuity KPIs (kpis.md, slides 131-132, seed 001).

P = March 2026 = [28 Feb 17:00Z, 31 Mar 17:00Z); the 365-day window before the end is
[00:00 local 1 Apr 2025, 00:00 local 1 Apr 2026) = [31 Mar 2025 17:00Z, 31 Mar 2026 17:00Z).
"""

from __future__ import annotations

import pytest
from sqlmodel import Session

from app.models import CustomerKind, Gender, InteractionKind, OrderStatus
from app.settings import set_setting

from .helpers import (
    add_answer,
    add_complaint,
    add_customer,
    add_customers,
    add_interaction,
    add_order,
    add_product,
    add_user,
    kpis,
    local,
    utc,
    values,
)
from .test_operations import build_unhappy

QUALITY_IDS = [
    "data_completeness",
    "feedback_coverage",
    "record_freshness",
    "duplicate_rate",
    "untouched_customer_rate",
    "crm_maturity_level",
]
OLD = utc(2024, 1, 1)  # an updated_at long before every window

COMPLETE_ORGANISATION = {
    "kind": CustomerKind.organisation,
    "phone": "0281234567",
    "email": "a@example.vn",
    "address": "1 Lê Lợi",
    "province": "TP HCM",
    "segment": "SME",
    "owner_id": 1,
    "industry": "Bán lẻ",
    "representative": "Nguyễn Văn A",
}


def test_quality_empty_database(session: Session) -> None:
    got = kpis(session, QUALITY_IDS)
    for kpi_id in QUALITY_IDS[:-1]:
        assert got[kpi_id].value is None, kpi_id
    # No condition holds, not even "orders are recorded": level 0 with all four unmet.
    assert got["crm_maturity_level"].value == 0
    assert len(got["crm_maturity_level"].details["unmet"]) == 4


def test_data_completeness(session: Session) -> None:
    add_user(session, 1)
    # Organisation with all 6 + 2 important fields: 8 of 8.
    add_customer(session, 1, **COMPLETE_ORGANISATION)
    # Person: phone, email, gender, birth year filled; address, province, segment, owner
    # missing: 4 of 8.
    add_customer(
        session,
        2,
        kind=CustomerKind.person,
        phone="0901234567",
        email="b@example.vn",
        gender=Gender.female,
        birth_year=1990,
    )
    # Organisation with nothing filled: 0 of 8.
    add_customer(session, 3, kind=CustomerKind.organisation)
    # Archived customers are left out.
    add_customer(session, 4, kind=CustomerKind.person, archived=True)
    assert values(session, ["data_completeness"])["data_completeness"] == pytest.approx(12 / 24)


def test_data_completeness_empty_text_is_not_filled(session: Session) -> None:
    """An empty string is not a filled field (fixed in 51ad617 after this test found it)."""
    add_user(session, 1)
    add_customer(session, 1, **COMPLETE_ORGANISATION)
    # Same fields, but address and representative are empty strings: 6 of 8.
    add_customer(session, 2, **COMPLETE_ORGANISATION | {"address": "", "representative": ""})
    assert values(session, ["data_completeness"])["data_completeness"] == pytest.approx(14 / 16)


def test_data_completeness_setting_and_zero_denominator(session: Session) -> None:
    add_customer(session, 1, phone="0901234567")
    add_customer(session, 2)
    # Only the phone is important: 1 of 2.
    set_setting(
        session=session,
        key="important_fields",
        value={"all": ["phone"], "organisation": [], "person": []},
    )
    assert values(session, ["data_completeness"])["data_completeness"] == pytest.approx(1 / 2)
    # No important field at all: 0 slots.
    set_setting(
        session=session, key="important_fields", value={"all": [], "organisation": [], "person": []}
    )
    assert values(session, ["data_completeness"])["data_completeness"] is None


def test_feedback_coverage(session: Session) -> None:
    build_unhappy(session)
    # Active in P: 1, 2, 3, 4, 5, 7. Feedback in P: 1 (feedback interaction), 2, 3, 4
    # (answers); 5 only had a call; 7 answered exactly at the end.
    assert values(session, ["feedback_coverage"])["feedback_coverage"] == pytest.approx(4 / 6)


def test_feedback_coverage_zero_denominator(session: Session) -> None:
    add_customers(session, 1)
    add_answer(session, 1, 1, local(2026, 3, 5, 9), csat=5)  # answers, but buys nothing
    assert values(session, ["feedback_coverage"])["feedback_coverage"] is None


def test_record_freshness(session: Session) -> None:
    add_customer(session, 1, updated_at=local(2026, 3, 15, 9))  # updated in the window
    add_customer(session, 2, updated_at=OLD)
    add_interaction(session, 1, 2, local(2025, 6, 1, 9))  # an interaction in the window
    add_customer(session, 3, updated_at=OLD)
    # 23:59 local 31 Mar 2025: one minute before the window starts.
    add_interaction(session, 2, 3, utc(2025, 3, 31, 16, 59))
    # Updated exactly at the first instant of the window.
    add_customer(session, 4, updated_at=utc(2025, 3, 31, 17, 0))
    # Updated exactly at the end of P: after the window.
    add_customer(session, 5, updated_at=utc(2026, 3, 31, 17, 0))
    # Archived: in neither count.
    add_customer(session, 6, updated_at=local(2026, 3, 15, 9), archived=True)
    # Fresh: 1, 2, 4 of the non-archived 1-5.
    assert values(session, ["record_freshness"])["record_freshness"] == pytest.approx(3 / 5)


def test_record_freshness_zero_denominator(session: Session) -> None:
    add_customer(session, 1, archived=True)
    assert values(session, ["record_freshness", "duplicate_rate", "data_completeness"]) == {
        "record_freshness": None,
        "duplicate_rate": None,
        "data_completeness": None,
    }


def test_duplicate_rate(session: Session) -> None:
    # "+84 90 123 4567" -> digits 84901234567 -> leading 84 becomes 0 -> 0901234567.
    add_customer(session, 1, phone="+84 90 123 4567")
    add_customer(session, 2, phone="0901234567")
    # E-mails compare in lower case.
    add_customer(session, 3, email="Sales@Example.vn")
    add_customer(session, 4, email="sales@example.vn")
    # Empty e-mails never match each other.
    add_customer(session, 5, email="")
    add_customer(session, 6, email="")
    # A tax code shared only with an archived customer is not a duplicate.
    add_customer(session, 7, tax_code="0101234567")
    add_customer(session, 8, tax_code="0101234567", archived=True)
    add_customer(session, 10, tax_code="0312345678")
    add_customer(session, 11, tax_code="0312345678")
    # Non-archived: 1-7, 10, 11 = 9; duplicates: 1, 2, 3, 4, 10, 11.
    assert values(session, ["duplicate_rate"])["duplicate_rate"] == pytest.approx(6 / 9)


def test_duplicate_rate_without_duplicates(session: Session) -> None:
    add_customer(session, 1, phone="0901234567", email="")
    add_customer(session, 2, phone="0901234568", email="")
    assert values(session, ["duplicate_rate"])["duplicate_rate"] == 0.0


def test_untouched_customer_rate(session: Session) -> None:
    # 90 days before 1 Apr 2026 is 1 Jan 2026: the touch window is [00:00 local 1 Jan, end).
    add_customers(session, *range(1, 8))
    add_order(session, 1, 1, local(2025, 10, 1, 9))
    add_interaction(session, 1, 1, utc(2025, 12, 31, 17, 0))  # 00:00 local 1 Jan: touched
    add_order(session, 2, 2, local(2026, 2, 1, 9))
    add_interaction(session, 2, 2, utc(2025, 12, 31, 16, 59))  # 23:59 local 31 Dec: too early
    add_order(session, 3, 3, local(2026, 3, 15, 9))  # never touched
    # Bought exactly at 00:00 local 1 Apr 2025, the first instant of the 365-day window.
    add_order(session, 4, 4, utc(2025, 3, 31, 17, 0))
    add_interaction(session, 4, 4, local(2026, 3, 20, 9))
    add_order(session, 5, 5, utc(2025, 3, 31, 16, 0))  # 23:00 local 31 Mar 2025: outside
    add_order(session, 6, 6, local(2026, 3, 1, 9), status=OrderStatus.cancelled)
    add_order(session, 7, 7, local(2026, 3, 2, 9))
    add_interaction(session, 7, 7, utc(2026, 3, 31, 17, 0))  # exactly at the end: too late
    # Buyers: 1, 2, 3, 4, 7; untouched: 2, 3, 7.
    got = values(session, ["untouched_customer_rate"])
    assert got["untouched_customer_rate"] == pytest.approx(3 / 5)


def test_untouched_customer_rate_zero_denominator(session: Session) -> None:
    add_customers(session, 1)
    add_order(session, 1, 1, local(2025, 3, 1, 9))  # more than 365 days before the end
    assert values(session, ["untouched_customer_rate"])["untouched_customer_rate"] is None


def build_maturity(session: Session, *, discount: bool, complaint_at) -> None:  # noqa: ANN001
    """Two complete customers active in P; customer 1 may get a discounted line."""
    add_user(session, 1)
    add_product(session, 1, "Giấy")
    add_customer(session, 1, **COMPLETE_ORGANISATION)
    add_customer(session, 2, **COMPLETE_ORGANISATION | {"phone": "0281234568"})
    add_order(session, 1, 1, local(2026, 3, 10, 9), lines=[(1, False, "0.1" if discount else 0)])
    add_order(session, 2, 2, local(2026, 3, 11, 9), lines=[(1, False, 0)])
    add_complaint(session, 1, 2, complaint_at)


def test_crm_maturity_level_4(session: Session) -> None:
    # A complaint exactly 90 days before the end (00:00 local 1 Jan 2026) is in the window.
    build_maturity(session, discount=True, complaint_at=utc(2025, 12, 31, 17, 0))
    result = kpis(session, ["crm_maturity_level", "data_completeness"])
    assert result["data_completeness"].value == 1.0
    # 1 of 2 active customers got an offer: exactly 50%.
    assert result["crm_maturity_level"].value == 4
    assert result["crm_maturity_level"].details["unmet"] == []


def test_crm_maturity_level_3(session: Session) -> None:
    build_maturity(session, discount=False, complaint_at=utc(2025, 12, 31, 17, 0))
    result = kpis(session, ["crm_maturity_level"])["crm_maturity_level"]
    assert result.value == 3
    assert len(result.details["unmet"]) == 1
    assert "180" in result.details["unmet"][0]


def test_crm_maturity_stops_at_the_first_unmet_level(session: Session) -> None:
    """Conditions 3 and 4 hold but 2 does not (complaint at 23:59 local 31 Dec): level 1."""
    build_maturity(session, discount=True, complaint_at=utc(2025, 12, 31, 16, 59))
    result = kpis(session, ["crm_maturity_level"])["crm_maturity_level"]
    assert result.value == 1
    assert len(result.details["unmet"]) == 1
    assert "90" in result.details["unmet"][0]


def test_crm_maturity_level_2(session: Session) -> None:
    """Orders and a recent complaint, but poor data: level 2, conditions 3 and 4 unmet."""
    add_customers(session, 1, 2)
    add_order(session, 1, 1, local(2026, 3, 10, 9))
    add_complaint(session, 1, 2, local(2026, 3, 20, 9))
    add_interaction(session, 1, 1, local(2026, 3, 21, 9), kind=InteractionKind.feedback)
    result = kpis(session, ["crm_maturity_level"])["crm_maturity_level"]
    assert result.value == 2
    unmet = result.details["unmet"]
    assert len(unmet) == 2
    assert "completeness" in unmet[0]
    assert "180" in unmet[1]
