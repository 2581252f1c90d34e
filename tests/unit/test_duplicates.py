"""Folding, duplicate detection and merging customers (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from app.errors import InvalidInput, PermissionDenied
from app.models import (
    AuditAction,
    AuditLog,
    CampaignMember,
    Contact,
    Customer,
    Interaction,
    Order,
    Role,
)
from app.services.access import Actor
from app.services.care import create_interaction
from app.services.catalogue import add_campaign_members, create_campaign, record_campaign_response
from app.services.customers import create_contact, search_customers
from app.services.duplicates import likely_duplicates
from app.services.merge import merge_customers
from app.services.sales import create_order
from app.text import fold, like_skeleton, normalise_phone
from tests.unit.factories import SYSTEM, make_customer, make_product


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Cty TNHH Thanh Phú", "CONG TY TNHH THANH PHU"),
        ("Công ty Cổ phần Đức Anh", "CTCP Duc Anh"),
        ("  Nguyễn   Văn  Ánh ", "nguyen van anh"),
        ("Cty. TNHH Hòa Bình", "công ty trách nhiệm hữu hạn hoà bình"),
    ],
)
def test_fold_makes_spellings_equal(left: str, right: str) -> None:
    assert fold(left) == fold(right)


def test_fold_details() -> None:
    assert fold("Đặng Đức") == "dang duc"
    assert fold(None) == ""
    assert fold("Cty ABC", company=False) == "cty abc"
    assert like_skeleton("thanh phu") == "th_nh%ph_"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("+84 901 234 567", "0901234567"),
        ("0084901234567", "0901234567"),
        ("0901.234.567", "0901234567"),
        ("(028) 3822 1234", "02838221234"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalise_phone(raw: str | None, normalised: str) -> None:
    assert normalise_phone(raw) == normalised


def test_thanh_phu_matches_by_name(session: Session) -> None:
    existing = make_customer(session, name="CONG TY TNHH THANH PHU", phone=None, email=None)
    make_customer(session, name="Công ty TNHH Minh Long", phone=None, email=None)

    found = likely_duplicates(
        session=session, actor=SYSTEM, candidate={"name": "Cty TNHH Thanh Phú"}
    )

    assert list(found.columns) == ["customer_id", "code", "name", "reason"]
    assert found["customer_id"].tolist() == [existing.id]
    assert found["reason"].iloc[0] == "same name"


def test_similar_name_with_a_typo_matches(session: Session) -> None:
    existing = make_customer(session, name="Công ty TNHH Thanh Phú Thịnh", phone=None, email=None)
    found = likely_duplicates(
        session=session, actor=SYSTEM, candidate={"name": "Cty TNHH Thanh Phu Thinhh"}
    )
    assert found["customer_id"].tolist() == [existing.id]
    assert found["reason"].iloc[0] == "similar name"


def test_phone_email_tax_code_match(session: Session) -> None:
    by_phone = make_customer(session, name="Anh Bình", phone="+84 912 345 678", email=None)
    by_email = make_customer(session, name="Chị Lan", phone=None, email="Lan@Example.vn")
    by_tax = make_customer(session, name="Cty Xyz", phone=None, email=None, tax_code="0101234567")

    found = likely_duplicates(
        session=session,
        actor=SYSTEM,
        candidate={
            "name": "Hoàn toàn khác",
            "phone": "0912.345.678",
            "email": "lan@example.vn",
            "tax_code": "0101234567",
        },
    )
    reasons = dict(zip(found["customer_id"], found["reason"], strict=True))
    assert reasons == {
        by_tax.id: "same tax code",
        by_phone.id: "same phone",
        by_email.id: "same email",
    }
    assert found["customer_id"].tolist() == [by_tax.id, by_phone.id, by_email.id]


def test_empty_fields_never_match(session: Session) -> None:
    make_customer(session, name="Khách lẻ", phone=None, email=None, tax_code=None)
    found = likely_duplicates(
        session=session,
        actor=SYSTEM,
        candidate={"name": "", "phone": "", "email": None, "tax_code": "  "},
    )
    assert found.empty


def test_archived_and_invisible_customers_are_not_offered(session: Session) -> None:
    from app.models import User

    user = User(username="lan", display_name="lan", role=Role.staff)
    other = User(username="minh", display_name="minh", role=Role.staff)
    session.add_all([user, other])
    session.commit()
    lan = Actor(user_id=user.id, username="lan", role=Role.staff)
    make_customer(session, name="Cty TNHH Thanh Phú", owner_id=other.id, phone=None, email=None)
    found = likely_duplicates(session=session, actor=lan, candidate={"name": "Thanh Phu"})
    assert found.empty


def test_search_customers_ignores_diacritics(session: Session) -> None:
    target = make_customer(session, name="Công ty TNHH Thanh Phú", phone="0987 654 321")
    make_customer(session, name="Công ty Minh Long", phone="0911111111")
    for query in ("thanh phu", "THANH PHÚ", target.code.lower(), "654321", "0987"):
        found = search_customers(session=session, actor=SYSTEM, query=query)
        assert found["customer_id"].tolist() == [target.id], query
    assert len(search_customers(session=session, actor=SYSTEM, query="")) == 2


# --------------------------------------------------------------------------- merge
def test_merge_moves_everything_and_archives_the_duplicate(session: Session) -> None:
    survivor = make_customer(session, name="Cty TNHH Thanh Phú", email=None, industry=None)
    duplicate = make_customer(
        session, name="CONG TY TNHH THANH PHU", email="tp@example.vn", industry="Bán lẻ"
    )
    referred = make_customer(session, referred_by_id=duplicate.id)
    product = make_product(session)
    create_contact(session=session, actor=SYSTEM, data={"customer_id": duplicate.id, "name": "A"})
    create_interaction(
        session=session,
        actor=SYSTEM,
        data={"customer_id": duplicate.id, "kind": "call", "subject": "x"},
    )
    create_order(
        session=session,
        actor=SYSTEM,
        data={
            "customer_id": duplicate.id,
            "lines": [{"product_id": product.id, "quantity": 1, "unit_price": 1, "unit_cost": 1}],
        },
    )
    shared = create_campaign(
        session=session,
        actor=SYSTEM,
        data={
            "name": "Both",
            "channel": "sms",
            "purpose": "retention",
            "start_date": dt.date(2026, 1, 1),
            "end_date": dt.date(2026, 1, 31),
        },
    )
    only_dup = create_campaign(
        session=session,
        actor=SYSTEM,
        data={
            "name": "Dup only",
            "channel": "sms",
            "purpose": "retention",
            "start_date": dt.date(2026, 2, 1),
            "end_date": dt.date(2026, 2, 28),
        },
    )
    add_campaign_members(
        session=session, actor=SYSTEM, campaign_id=shared.id, customer_ids=[survivor.id]
    )
    add_campaign_members(
        session=session,
        actor=SYSTEM,
        campaign_id=shared.id,
        customer_ids=[duplicate.id],
    )
    record_campaign_response(
        session=session,
        actor=SYSTEM,
        campaign_id=shared.id,
        customer_id=duplicate.id,
        converted=True,
    )
    add_campaign_members(
        session=session, actor=SYSTEM, campaign_id=only_dup.id, customer_ids=[duplicate.id]
    )

    moved = merge_customers(
        session=session, actor=SYSTEM, survivor_id=survivor.id, duplicate_id=duplicate.id
    )

    session.expire_all()
    assert moved["contacts"] == moved["interactions"] == moved["orders"] == 1
    assert moved["campaign_members"] == 1 and moved["campaign_members_combined"] == 1
    assert moved["referred_customers"] == 1
    for table in (Contact, Interaction, Order, CampaignMember):
        owners = session.exec(select(table.customer_id)).all()
        assert set(owners) == {survivor.id}, table
    members = session.exec(
        select(CampaignMember).where(CampaignMember.campaign_id == shared.id)
    ).all()
    assert len(members) == 1 and members[0].responded and members[0].converted
    kept = session.get(Customer, survivor.id)
    assert (kept.email, kept.industry, kept.archived) == ("tp@example.vn", "Bán lẻ", False)
    assert session.get(Customer, duplicate.id).archived
    assert session.get(Customer, referred.id).referred_by_id == survivor.id
    audit = session.exec(select(AuditLog).where(AuditLog.action == AuditAction.merge)).one()
    assert audit.entity_id == survivor.id
    assert audit.before["duplicate"]["email"] == "tp@example.vn"
    assert audit.after["moved"]["orders"] == 1
    assert audit.after["duplicate"]["archived"] is True


def test_merge_needs_the_permission_and_two_customers(session: Session) -> None:
    from app.models import User

    user = User(username="lan", display_name="lan", role=Role.staff)
    session.add(user)
    session.commit()
    lan = Actor(user_id=user.id, username="lan", role=Role.staff)
    first, second = make_customer(session), make_customer(session)
    with pytest.raises(PermissionDenied):
        merge_customers(session=session, actor=lan, survivor_id=first.id, duplicate_id=second.id)
    with pytest.raises(InvalidInput):
        merge_customers(session=session, actor=SYSTEM, survivor_id=first.id, duplicate_id=first.id)
    session.expire_all()
    assert not session.get(Customer, second.id).archived
