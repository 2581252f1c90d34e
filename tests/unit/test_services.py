"""Service tests on SQLite and PostgreSQL: valid input is stored, bad input writes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from app.errors import Conflict, InvalidInput, NotFound
from app.models import (
    AuditAction,
    AuditLog,
    Customer,
    Opportunity,
    OpportunityStageHistory,
    Order,
    OrderLine,
    Stage,
    SurveyResponse,
    User,
)
from app.services.care import create_complaint, create_interaction, create_survey_response
from app.services.customers import (
    create_contact,
    create_customer,
    next_customer_code,
    set_customer_archived,
    update_customer,
)
from app.services.sales import create_opportunity, create_order, move_opportunity_stage
from app.services.users import create_user
from tests.unit.factories import SYSTEM, at, customer_data, make_customer, make_product


def count(session: Session, table: type) -> int:
    """Rows in a table, read fresh from the database."""
    session.expire_all()
    return session.exec(select(func.count()).select_from(table)).one()


def test_create_customer_stores_it_and_audits(session: Session) -> None:
    customer = create_customer(
        session=session, actor=SYSTEM, data=customer_data(code="KH000123", name="  An  ")
    )
    assert customer.id is not None
    assert session.get(Customer, customer.id).name == "An"  # surrounding spaces stripped
    audit = session.exec(select(AuditLog)).one()
    assert (audit.entity, audit.entity_id, audit.action) == ("customer", customer.id, "create")
    assert audit.after["code"] == "KH000123"
    assert audit.before is None


def test_duplicate_customer_code_is_a_clear_conflict_and_writes_nothing(session: Session) -> None:
    create_customer(session=session, actor=SYSTEM, data=customer_data(code="KH000001"))
    with pytest.raises(Conflict, match="KH000001 already exists"):
        create_customer(session=session, actor=SYSTEM, data=customer_data(code="KH000001"))
    assert count(session, Customer) == 1
    assert count(session, AuditLog) == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "must not be empty"),
        ({"code": "K H 1"}, "code", "invalid format"),
        ({"email": "not-an-email"}, "email", "invalid format"),
        ({"phone": "abc"}, "phone", "invalid format"),
        ({"birth_year": 1800}, "birth_year", "at least 1900"),
        ({"kind": "robot"}, "kind", "must be one of"),
    ],
)
def test_invalid_customer_names_the_field_and_writes_nothing(
    session: Session, overrides: dict, field: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        create_customer(session=session, actor=SYSTEM, data=customer_data(**overrides))
    assert field in raised.value.field_errors
    assert message in raised.value.field_errors[field]
    assert count(session, Customer) == 0


def test_customer_reference_to_missing_owner_is_rejected(session: Session) -> None:
    with pytest.raises(InvalidInput) as raised:
        create_customer(session=session, actor=SYSTEM, data=customer_data(owner_id=999))
    assert raised.value.field_errors == {"owner_id": "refers to a record that does not exist"}
    assert count(session, Customer) == 0


def test_update_archive_restore_are_audited(session: Session) -> None:
    customer = make_customer(session, segment="SME")
    update_customer(
        session=session, actor=SYSTEM, customer_id=customer.id, data={"segment": "Doanh nghiệp lớn"}
    )
    set_customer_archived(session=session, actor=SYSTEM, customer_id=customer.id, archived=True)
    restored = set_customer_archived(
        session=session, actor=SYSTEM, customer_id=customer.id, archived=False
    )
    assert restored.segment == "Doanh nghiệp lớn" and restored.archived is False
    actions = session.exec(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == [
        AuditAction.create,
        AuditAction.update,
        AuditAction.archive,
        AuditAction.restore,
    ]
    update_row = session.exec(select(AuditLog).where(AuditLog.action == "update")).one()
    assert update_row.before["segment"] == "SME"
    assert update_row.after["segment"] == "Doanh nghiệp lớn"


def test_update_missing_customer_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        update_customer(session=session, actor=SYSTEM, customer_id=42, data={"name": "X"})


def test_next_customer_code_skips_taken_codes(session: Session) -> None:
    assert next_customer_code(session=session) == "KH000001"  # empty table
    make_customer(session, code="KH000002")  # gets id 1, but KH000002 is now taken
    assert next_customer_code(session=session) == "KH000003"


def test_order_totals_come_from_lines(session: Session) -> None:
    customer = make_customer(session)
    product = make_product(session)
    order = create_order(
        session=session,
        actor=SYSTEM,
        data={
            "customer_id": customer.id,
            "ordered_at": at(2026, 3, 1, 3),
            "lines": [
                # 3 × 100,000 × (1 − 0.1) = 270,000; cost 3 × 60,000 = 180,000
                {
                    "product_id": product.id,
                    "quantity": 3,
                    "unit_price": "100000",
                    "unit_cost": "60000",
                    "discount": "0.1",
                },
                # 1.5 × 20,000 = 30,000; cost 1.5 × 15,000 = 22,500
                {
                    "product_id": product.id,
                    "quantity": "1.5",
                    "unit_price": "20000",
                    "unit_cost": "15000",
                    "customised": True,
                },
            ],
        },
    )
    assert order.amount == Decimal("300000.00")
    assert order.cost == Decimal("202500.00")
    assert order.code.startswith("DH")
    assert order.ordered_at == at(2026, 3, 1, 3)  # stored and read back in UTC
    assert count(session, OrderLine) == 2


@pytest.mark.parametrize(
    ("line_overrides", "field"),
    [
        ({"quantity": -1}, "lines.0.quantity"),
        ({"quantity": 0}, "lines.0.quantity"),
        ({"discount": "1.5"}, "lines.0.discount"),
        ({"unit_price": "-5"}, "lines.0.unit_price"),
        ({"product_id": 9999}, "lines.0.product_id"),
    ],
)
def test_bad_order_line_writes_no_order_and_no_line(
    session: Session, line_overrides: dict, field: str
) -> None:
    customer = make_customer(session)
    product = make_product(session)
    line = {"product_id": product.id, "quantity": 2, "unit_price": "1000", "unit_cost": "500"}
    line.update(line_overrides)
    good_line = {"product_id": product.id, "quantity": 1, "unit_price": "1", "unit_cost": "1"}
    with pytest.raises(InvalidInput) as raised:
        create_order(
            session=session,
            actor=SYSTEM,
            data={"customer_id": customer.id, "lines": [line, good_line]},
        )
    assert field in raised.value.field_errors
    assert count(session, Order) == 0
    assert count(session, OrderLine) == 0


def test_order_without_lines_is_rejected(session: Session) -> None:
    customer = make_customer(session)
    with pytest.raises(InvalidInput) as raised:
        create_order(session=session, actor=SYSTEM, data={"customer_id": customer.id, "lines": []})
    assert "lines" in raised.value.field_errors


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({"nps": 11}, "nps"),
        ({"nps": -1}, "nps"),
        ({"csat": 6}, "csat"),
        ({"csat": 0}, "csat"),
        ({}, "input"),
    ],
)
def test_out_of_range_survey_scores_are_rejected(
    session: Session, answer: dict, field: str
) -> None:
    customer = make_customer(session)
    with pytest.raises(InvalidInput) as raised:
        create_survey_response(
            session=session, actor=SYSTEM, data={"customer_id": customer.id, **answer}
        )
    assert field in raised.value.field_errors
    assert count(session, SurveyResponse) == 0


def test_database_check_constraint_backs_up_validation(session: Session) -> None:
    """Even a row that skips validation cannot store NPS 11."""
    from sqlalchemy.exc import IntegrityError

    customer = make_customer(session)
    session.add(SurveyResponse(customer_id=customer.id, nps=11, answered_at=at(2026, 1, 1)))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    assert count(session, SurveyResponse) == 0


def test_valid_survey_interaction_complaint_contact(session: Session) -> None:
    customer = make_customer(session)
    create_survey_response(
        session=session, actor=SYSTEM, data={"customer_id": customer.id, "nps": 10, "csat": 5}
    )
    create_interaction(
        session=session,
        actor=SYSTEM,
        data={"customer_id": customer.id, "kind": "call", "subject": "Gọi chăm sóc"},
    )
    complaint = create_complaint(
        session=session,
        actor=SYSTEM,
        data={
            "customer_id": customer.id,
            "category": "Giao hàng chậm",
            "severity": "high",
            "opened_at": at(2026, 2, 1),
            "first_response_at": at(2026, 2, 1, 5),
        },
    )
    create_contact(
        session=session, actor=SYSTEM, data={"customer_id": customer.id, "name": "Chị Lan"}
    )
    assert complaint.first_response_at == at(2026, 2, 1, 5)
    assert count(session, AuditLog) == 5  # customer + four records


def test_complaint_response_before_opening_is_rejected(session: Session) -> None:
    customer = make_customer(session)
    with pytest.raises(InvalidInput) as raised:
        create_complaint(
            session=session,
            actor=SYSTEM,
            data={
                "customer_id": customer.id,
                "category": "Bảo hành",
                "opened_at": at(2026, 2, 2),
                "resolved_at": at(2026, 2, 1),
            },
        )
    assert "before opened at" in raised.value.field_errors["input"]


def test_opportunity_stage_moves_write_history_and_lost_needs_reason(session: Session) -> None:
    customer = make_customer(session)
    opportunity = create_opportunity(
        session=session,
        actor=SYSTEM,
        data={"customer_id": customer.id, "title": "Gói thiết bị", "amount": "50000000"},
    )
    move_opportunity_stage(
        session=session,
        actor=SYSTEM,
        opportunity_id=opportunity.id,
        change={"to_stage": "qualified"},
    )
    with pytest.raises(InvalidInput) as raised:
        move_opportunity_stage(
            session=session,
            actor=SYSTEM,
            opportunity_id=opportunity.id,
            change={"to_stage": "lost", "lost_reason": "  "},
        )
    assert "lost reason is required" in raised.value.field_errors["input"]
    lost = move_opportunity_stage(
        session=session,
        actor=SYSTEM,
        opportunity_id=opportunity.id,
        change={"to_stage": "lost", "lost_reason": "Giá cao"},
    )
    assert lost.stage == Stage.lost and lost.closed_at is not None
    history = session.exec(
        select(OpportunityStageHistory.from_stage, OpportunityStageHistory.to_stage).order_by(
            OpportunityStageHistory.id
        )
    ).all()
    assert [(h[0], h[1]) for h in history] == [
        (None, "lead"),
        ("lead", "qualified"),
        ("qualified", "lost"),
    ]
    with pytest.raises(InvalidInput):
        move_opportunity_stage(
            session=session, actor=SYSTEM, opportunity_id=opportunity.id, change={"to_stage": "won"}
        )
    assert session.get(Opportunity, opportunity.id).stage == Stage.lost


def test_create_user_hashes_password(session: Session) -> None:
    user = create_user(
        session=session,
        actor=SYSTEM,
        data={
            "username": "lan.nguyen",
            "display_name": "Lan",
            "role": "manager",
            "password": "s3cret-pass",
        },
    )
    stored = session.get(User, user.id)
    assert stored.password_hash.startswith("$argon2")
    assert "s3cret-pass" not in stored.password_hash
    audit = session.exec(select(AuditLog)).one()
    assert "password_hash" not in audit.after and "password" not in audit.after
    with pytest.raises(Conflict):
        create_user(
            session=session,
            actor=SYSTEM,
            data={"username": "lan.nguyen", "display_name": "L2", "password": "another-pass"},
        )
