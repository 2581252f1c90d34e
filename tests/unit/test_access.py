"""Roles are enforced in the services: calling a service directly cannot skip them."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from app.errors import NotFound, PermissionDenied
from app.models import Customer, Interaction, Role, User
from app.services.access import Actor, Permission, visible_customers
from app.services.care import create_interaction
from app.services.customers import create_customer, set_customer_archived, update_customer
from app.services.sales import create_order, create_product
from app.services.users import create_user
from tests.unit.factories import SYSTEM, customer_data, make_customer, make_product


def add_user(session: Session, username: str, role: Role) -> Actor:
    """Insert a user row and return it as an actor."""
    user = User(username=username, display_name=username, role=role)
    session.add(user)
    session.commit()
    return Actor(user_id=user.id, username=username, role=role)


@pytest.fixture
def people(session: Session) -> dict[str, Actor]:
    return {
        "lan": add_user(session, "lan", Role.staff),
        "minh": add_user(session, "minh", Role.staff),
        "boss": add_user(session, "boss", Role.executive),
        "manager": add_user(session, "manager", Role.manager),
    }


def test_staff_cannot_read_or_change_another_staff_users_customer(
    session: Session, people: dict[str, Actor]
) -> None:
    theirs = make_customer(session, owner_id=people["minh"].user_id)
    with pytest.raises(NotFound):  # reported as missing: ids cannot be probed
        update_customer(
            session=session, actor=people["lan"], customer_id=theirs.id, data={"segment": "VIP"}
        )
    with pytest.raises(NotFound):
        create_interaction(
            session=session,
            actor=people["lan"],
            data={"customer_id": theirs.id, "kind": "call", "subject": "Hello"},
        )
    assert session.exec(select(func.count(Interaction.id))).one() == 0
    assert session.get(Customer, theirs.id).segment == "SME"


def test_staff_work_on_own_and_unassigned_customers(
    session: Session, people: dict[str, Actor]
) -> None:
    lan = people["lan"]
    unassigned = make_customer(session)
    create_interaction(
        session=session,
        actor=lan,
        data={"customer_id": unassigned.id, "kind": "visit", "subject": "Thăm khách"},
    )
    created = create_customer(session=session, actor=lan, data=customer_data())
    assert created.owner_id == lan.user_id  # staff own what they create
    with pytest.raises(PermissionDenied, match="assign customer owners"):
        update_customer(
            session=session,
            actor=lan,
            customer_id=created.id,
            data={"owner_id": people["minh"].user_id},
        )
    theirs = make_customer(session, owner_id=people["minh"].user_id)
    visible = session.exec(select(Customer.id).where(visible_customers(lan))).all()
    assert set(visible) == {unassigned.id, created.id}
    assert theirs.id not in visible


def test_executive_reads_but_enters_nothing(session: Session, people: dict[str, Actor]) -> None:
    boss = people["boss"]
    customer = make_customer(session)
    product = make_product(session)
    with pytest.raises(PermissionDenied, match="executive"):
        create_customer(session=session, actor=boss, data=customer_data())
    with pytest.raises(PermissionDenied):
        create_order(
            session=session,
            actor=boss,
            data={
                "customer_id": customer.id,
                "lines": [
                    {"product_id": product.id, "quantity": 1, "unit_price": 1, "unit_cost": 1}
                ],
            },
        )
    assert boss.can(Permission.read) and boss.can(Permission.export)
    assert session.exec(select(func.count(Customer.id))).one() == 1


def test_only_managers_restore_and_change_the_catalogue(
    session: Session, people: dict[str, Actor]
) -> None:
    lan, manager = people["lan"], people["manager"]
    mine = make_customer(session, owner_id=lan.user_id)
    set_customer_archived(session=session, actor=lan, customer_id=mine.id, archived=True)
    with pytest.raises(PermissionDenied, match="restore"):
        set_customer_archived(session=session, actor=lan, customer_id=mine.id, archived=False)
    set_customer_archived(session=session, actor=manager, customer_id=mine.id, archived=False)
    assert session.get(Customer, mine.id).archived is False
    with pytest.raises(PermissionDenied):
        create_product(
            session=session,
            actor=lan,
            data={"code": "SP1", "name": "X", "category": "Y", "unit_price": 1, "unit_cost": 1},
        )


def test_only_admins_manage_users(session: Session, people: dict[str, Actor]) -> None:
    data = {"username": "new.user", "display_name": "New", "password": "long-enough-1"}
    with pytest.raises(PermissionDenied, match="manage users"):
        create_user(session=session, actor=people["manager"], data=data)
    assert create_user(session=session, actor=SYSTEM, data=data).username == "new.user"
