"""Update, archive, campaign, partner and target services on SQLite and PostgreSQL:
valid writes are audited, bad input names the field and writes nothing, staff stay on
their own customers, and a repeated idempotency key never inserts twice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.models import (
    AuditAction,
    AuditLog,
    CampaignMember,
    Complaint,
    ComplaintStatus,
    Contact,
    Customer,
    Interaction,
    Order,
    OrderStatus,
    Partner,
    PartnerLink,
    Role,
    SurveyResponse,
    Target,
    User,
)
from app.services.access import Actor
from app.services.care import (
    create_complaint,
    create_interaction,
    create_survey_response,
    record_first_response,
    resolve_complaint,
    update_complaint,
    update_interaction,
    update_survey_response,
)
from app.services.catalogue import (
    add_campaign_members,
    create_campaign,
    create_partner,
    create_partner_link,
    create_target,
    record_campaign_cost,
    record_campaign_response,
    set_partner_archived,
    update_campaign,
    update_target,
)
from app.services.customers import (
    create_contact,
    create_customer,
    search_customers,
    update_contact,
)
from app.services.sales import (
    create_inquiry,
    create_opportunity,
    create_order,
    update_inquiry,
    update_opportunity,
    update_order,
)
from tests.unit.factories import SYSTEM, at, customer_data, make_customer, make_product


def count(session: Session, table: type) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(table)).one()


def audits(session: Session, entity: str, action: AuditAction) -> list[AuditLog]:
    session.expire_all()
    return list(
        session.exec(
            select(AuditLog).where(AuditLog.entity == entity, AuditLog.action == action)
        ).all()
    )


def add_user(session: Session, username: str, role: Role) -> Actor:
    user = User(username=username, display_name=username, role=role)
    session.add(user)
    session.commit()
    return Actor(user_id=user.id, username=username, role=role)


def campaign_data(**overrides) -> dict:
    data = {
        "name": "Tết 2026",
        "channel": "email",
        "purpose": "retention",
        "start_date": dt.date(2026, 1, 5),
        "end_date": dt.date(2026, 2, 5),
        "budget": Decimal("5000000"),
    }
    data.update(overrides)
    return data


# --------------------------------------------------------------------------- updates
def test_update_interaction_writes_before_and_after(session: Session) -> None:
    customer = make_customer(session)
    interaction = create_interaction(
        session=session,
        actor=SYSTEM,
        data={"customer_id": customer.id, "kind": "call", "subject": "Báo giá"},
    )
    updated = update_interaction(
        session=session,
        actor=SYSTEM,
        interaction_id=interaction.id,
        data={"outcome": "Gửi báo giá", "follow_up_due": dt.date(2026, 7, 1)},
    )
    assert updated.outcome == "Gửi báo giá"
    (audit,) = audits(session, "interaction", AuditAction.update)
    assert audit.before["outcome"] is None
    assert audit.after["outcome"] == "Gửi báo giá"
    assert audit.after["follow_up_due"] == "2026-07-01"


def test_invalid_update_names_the_field_and_changes_nothing(session: Session) -> None:
    customer = make_customer(session)
    interaction = create_interaction(
        session=session,
        actor=SYSTEM,
        data={"customer_id": customer.id, "kind": "call", "subject": "Hello"},
    )
    with pytest.raises(InvalidInput) as raised:
        update_interaction(
            session=session, actor=SYSTEM, interaction_id=interaction.id, data={"subject": ""}
        )
    assert "subject" in raised.value.field_errors
    assert session.get(Interaction, interaction.id).subject == "Hello"
    assert audits(session, "interaction", AuditAction.update) == []


def test_update_missing_record_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        update_interaction(session=session, actor=SYSTEM, interaction_id=999, data={})


def test_order_status_and_cancelled_stays_cancelled(session: Session) -> None:
    customer = make_customer(session)
    product = make_product(session)
    order = create_order(
        session=session,
        actor=SYSTEM,
        data={
            "customer_id": customer.id,
            "lines": [
                {
                    "product_id": product.id,
                    "quantity": 2,
                    "unit_price": product.unit_price,
                    "unit_cost": product.unit_cost,
                }
            ],
        },
    )
    update_order(session=session, actor=SYSTEM, order_id=order.id, data={"status": "delivered"})
    assert session.get(Order, order.id).status == OrderStatus.delivered
    update_order(session=session, actor=SYSTEM, order_id=order.id, data={"status": "cancelled"})
    with pytest.raises(InvalidInput) as raised:
        update_order(session=session, actor=SYSTEM, order_id=order.id, data={"status": "paid"})
    assert "status" in raised.value.field_errors
    with pytest.raises(InvalidInput) as raised:
        update_order(session=session, actor=SYSTEM, order_id=order.id, data={"status": "lost"})
    assert "status" in raised.value.field_errors
    assert len(audits(session, "order", AuditAction.update)) == 2


def test_inquiry_opportunity_contact_updates(session: Session) -> None:
    customer = make_customer(session)
    inquiry = create_inquiry(
        session=session, actor=SYSTEM, data={"customer_id": customer.id, "need": "Giấy A4"}
    )
    update_inquiry(
        session=session,
        actor=SYSTEM,
        inquiry_id=inquiry.id,
        data={"status": "unmet", "reason": "Hết hàng"},
    )
    opportunity = create_opportunity(
        session=session, actor=SYSTEM, data={"customer_id": customer.id, "title": "Hợp đồng năm"}
    )
    updated = update_opportunity(
        session=session, actor=SYSTEM, opportunity_id=opportunity.id, data={"amount": 1_000_000}
    )
    assert updated.amount == Decimal("1000000")
    with pytest.raises(InvalidInput) as raised:
        update_opportunity(
            session=session, actor=SYSTEM, opportunity_id=opportunity.id, data={"amount": -1}
        )
    assert "amount" in raised.value.field_errors
    contact = create_contact(
        session=session, actor=SYSTEM, data={"customer_id": customer.id, "name": "Chị Hoa"}
    )
    update_contact(session=session, actor=SYSTEM, contact_id=contact.id, data={"title": "KTT"})
    assert session.get(Contact, contact.id).title == "KTT"
    for entity in ("inquiry", "opportunity", "contact"):
        assert len(audits(session, entity, AuditAction.update)) == 1


def test_complaint_first_response_and_resolution(session: Session) -> None:
    customer = make_customer(session)
    complaint = create_complaint(
        session=session,
        actor=SYSTEM,
        data={"customer_id": customer.id, "category": "Giao hàng", "opened_at": at(2026, 6, 1)},
    )
    responded = record_first_response(
        session=session, actor=SYSTEM, complaint_id=complaint.id, responded_at=at(2026, 6, 1, 3)
    )
    assert responded.status == ComplaintStatus.in_progress
    with pytest.raises(InvalidInput, match="already recorded"):
        record_first_response(session=session, actor=SYSTEM, complaint_id=complaint.id)
    with pytest.raises(InvalidInput) as raised:
        resolve_complaint(session=session, actor=SYSTEM, complaint_id=complaint.id, resolution=" ")
    assert "resolution" in raised.value.field_errors
    with pytest.raises(InvalidInput) as raised:
        resolve_complaint(
            session=session,
            actor=SYSTEM,
            complaint_id=complaint.id,
            resolution="Đổi hàng",
            resolved_at=at(2026, 5, 1),
        )
    assert "resolved_at" in raised.value.field_errors
    resolved = resolve_complaint(
        session=session, actor=SYSTEM, complaint_id=complaint.id, resolution="Đổi hàng"
    )
    assert resolved.status == ComplaintStatus.resolved
    assert resolved.resolved_at is not None
    update_complaint(
        session=session, actor=SYSTEM, complaint_id=complaint.id, data={"status": "closed"}
    )
    assert session.get(Complaint, complaint.id).status == ComplaintStatus.closed
    assert len(audits(session, "complaint", AuditAction.update)) == 3


def test_survey_answer_update_keeps_a_score(session: Session) -> None:
    customer = make_customer(session)
    answer = create_survey_response(
        session=session, actor=SYSTEM, data={"customer_id": customer.id, "nps": 9}
    )
    update_survey_response(
        session=session, actor=SYSTEM, survey_response_id=answer.id, data={"csat": 4}
    )
    with pytest.raises(InvalidInput) as raised:
        update_survey_response(
            session=session, actor=SYSTEM, survey_response_id=answer.id, data={"nps": 11}
        )
    assert "nps" in raised.value.field_errors
    with pytest.raises(InvalidInput):
        update_survey_response(
            session=session,
            actor=SYSTEM,
            survey_response_id=answer.id,
            data={"nps": None, "csat": None},
        )
    stored = session.get(SurveyResponse, answer.id)
    assert (stored.nps, stored.csat) == (9, 4)


# --------------------------------------------------------------------------- catalogue
def test_campaign_cost_members_and_responses(session: Session) -> None:
    campaign = create_campaign(session=session, actor=SYSTEM, data=campaign_data())
    first, second = make_customer(session), make_customer(session)
    record_campaign_cost(session=session, actor=SYSTEM, campaign_id=campaign.id, amount="1500000")
    updated = record_campaign_cost(
        session=session, actor=SYSTEM, campaign_id=campaign.id, amount=500000
    )
    assert updated.actual_cost == Decimal("2000000")
    with pytest.raises(InvalidInput) as raised:
        record_campaign_cost(session=session, actor=SYSTEM, campaign_id=campaign.id, amount=-5)
    assert "amount" in raised.value.field_errors
    added = add_campaign_members(
        session=session, actor=SYSTEM, campaign_id=campaign.id, customer_ids=[first.id, second.id]
    )
    assert added == 2
    again = add_campaign_members(
        session=session, actor=SYSTEM, campaign_id=campaign.id, customer_ids=[first.id]
    )
    assert again == 0
    member = record_campaign_response(
        session=session,
        actor=SYSTEM,
        campaign_id=campaign.id,
        customer_id=first.id,
        converted=True,
    )
    assert member.responded and member.converted and member.responded_at is not None
    assert count(session, CampaignMember) == 2
    with pytest.raises(InvalidInput) as raised:
        update_campaign(
            session=session,
            actor=SYSTEM,
            campaign_id=campaign.id,
            data={"end_date": dt.date(2025, 1, 1)},
        )
    assert "end_date" in raised.value.field_errors


def test_campaign_end_before_start_writes_nothing(session: Session) -> None:
    with pytest.raises(InvalidInput):
        create_campaign(
            session=session, actor=SYSTEM, data=campaign_data(end_date=dt.date(2025, 1, 1))
        )
    assert count(session, AuditLog) == 0


def test_partners_links_archive_and_restore(session: Session) -> None:
    customer = make_customer(session)
    supplier = create_partner(
        session=session, actor=SYSTEM, data={"name": "NCC Hòa Bình", "kind": "supplier"}
    )
    agent = create_partner(
        session=session, actor=SYSTEM, data={"name": "Đại lý Số 1", "kind": "agent"}
    )
    create_partner_link(
        session=session,
        actor=SYSTEM,
        data={"partner_id": supplier.id, "other_partner_id": agent.id, "relation": "supplies"},
    )
    create_partner_link(
        session=session,
        actor=SYSTEM,
        data={"partner_id": agent.id, "customer_id": customer.id, "relation": "serves"},
    )
    with pytest.raises(InvalidInput):
        create_partner_link(
            session=session,
            actor=SYSTEM,
            data={
                "partner_id": agent.id,
                "customer_id": customer.id,
                "other_partner_id": supplier.id,
                "relation": "x",
            },
        )
    assert count(session, PartnerLink) == 2
    set_partner_archived(session=session, actor=SYSTEM, partner_id=agent.id, archived=True)
    assert session.get(Partner, agent.id).archived
    set_partner_archived(session=session, actor=SYSTEM, partner_id=agent.id, archived=False)
    assert not session.get(Partner, agent.id).archived
    assert len(audits(session, "partner", AuditAction.archive)) == 1
    assert len(audits(session, "partner", AuditAction.restore)) == 1


def test_targets_are_for_managers(session: Session) -> None:
    staff = add_user(session, "lan", Role.staff)
    manager = add_user(session, "quan", Role.manager)
    data = {
        "kpi_id": "revenue",
        "period_start": dt.date(2026, 1, 1),
        "period_end": dt.date(2026, 4, 1),
        "target_value": Decimal("1000000000"),
    }
    with pytest.raises(PermissionDenied):
        create_target(session=session, actor=staff, data=data)
    target = create_target(session=session, actor=manager, data=data)
    with pytest.raises(Conflict):
        create_target(session=session, actor=manager, data=data)
    with pytest.raises(InvalidInput) as raised:
        create_target(
            session=session, actor=manager, data={**data, "period_end": dt.date(2025, 1, 1)}
        )
    assert "period_end" in raised.value.field_errors or "input" in raised.value.field_errors
    update_target(session=session, actor=manager, target_id=target.id, data={"target_value": 5})
    assert session.get(Target, target.id).target_value == Decimal("5")
    assert session.get(Target, target.id).created_by_id == manager.user_id


def test_staff_cannot_touch_other_staff_customers(session: Session) -> None:
    lan = add_user(session, "lan", Role.staff)
    minh = add_user(session, "minh", Role.staff)
    theirs = make_customer(session, owner_id=minh.user_id)
    interaction = create_interaction(
        session=session,
        actor=SYSTEM,
        data={"customer_id": theirs.id, "kind": "call", "subject": "Hi"},
    )
    complaint = create_complaint(
        session=session, actor=SYSTEM, data={"customer_id": theirs.id, "category": "Chất lượng"}
    )
    campaign = create_campaign(session=session, actor=SYSTEM, data=campaign_data())
    with pytest.raises(NotFound):
        update_interaction(
            session=session, actor=lan, interaction_id=interaction.id, data={"subject": "x"}
        )
    with pytest.raises(NotFound):
        record_first_response(session=session, actor=lan, complaint_id=complaint.id)
    with pytest.raises(NotFound):
        add_campaign_members(
            session=session, actor=lan, campaign_id=campaign.id, customer_ids=[theirs.id]
        )
    with pytest.raises(PermissionDenied):
        create_campaign(session=session, actor=lan, data=campaign_data())
    assert search_customers(session=session, actor=lan, query=theirs.name).empty
    assert session.get(Interaction, interaction.id).subject == "Hi"
    assert count(session, CampaignMember) == 0


# --------------------------------------------------------------------------- idempotency
def test_repeated_idempotency_key_returns_the_first_record(session: Session) -> None:
    customer = make_customer(session)
    data = {"customer_id": customer.id, "kind": "call", "subject": "Gọi lại"}
    first = create_interaction(session=session, actor=SYSTEM, data=data, idempotency_key="k-1")
    second = create_interaction(session=session, actor=SYSTEM, data=data, idempotency_key="k-1")
    third = create_interaction(session=session, actor=SYSTEM, data=data, idempotency_key="k-2")
    assert first.id == second.id != third.id
    assert count(session, Interaction) == 2
    (audit, _) = audits(session, "interaction", AuditAction.create)
    assert audit.after["_idempotency_key"] == "k-1"


def test_idempotency_key_is_per_entity_and_covers_customers_and_orders(session: Session) -> None:
    data = customer_data()
    first = create_customer(session=session, actor=SYSTEM, data=data, idempotency_key="same")
    again = create_customer(session=session, actor=SYSTEM, data=data, idempotency_key="same")
    assert first.id == again.id
    assert count(session, Customer) == 1
    product = make_product(session)
    order_data = {
        "customer_id": first.id,
        "lines": [
            {
                "product_id": product.id,
                "quantity": 1,
                "unit_price": product.unit_price,
                "unit_cost": product.unit_cost,
            }
        ],
    }
    order = create_order(session=session, actor=SYSTEM, data=order_data, idempotency_key="same")
    repeat = create_order(session=session, actor=SYSTEM, data=order_data, idempotency_key="same")
    assert order.id == repeat.id
    assert count(session, Order) == 1
