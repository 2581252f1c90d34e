"""Customers and their contact persons."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from app.errors import Conflict
from app.models import (
    AuditAction,
    Contact,
    ContactCreate,
    Customer,
    CustomerCreate,
    CustomerUpdate,
    User,
    utcnow,
)
from app.services.access import Actor, Permission, require, require_customer
from app.services.common import (
    add_audit,
    commit_or_conflict,
    require_existing,
    snapshot,
    validate,
)


def next_customer_code(*, session: Session) -> str:
    """The next free customer code of the form KH000123."""
    highest = session.exec(select(func.max(Customer.id))).one() or 0
    candidate = highest + 1
    while session.exec(select(Customer.id).where(Customer.code == f"KH{candidate:06d}")).first():
        candidate += 1
    return f"KH{candidate:06d}"


def get_customer(*, session: Session, customer_id: int, actor: Actor) -> Customer:
    """The customer with this id if the actor may see it, or NotFound."""
    return require_customer(session=session, actor=actor, customer_id=customer_id)


def create_customer(
    *, session: Session, data: CustomerCreate | dict[str, Any], actor: Actor
) -> Customer:
    """Validate and insert a customer (one transaction, audited).

    Staff own the customers they create; only managers and admins assign other owners.
    """
    require(actor, Permission.write)
    customer_in = validate(CustomerCreate, data)
    if actor.sees_own_customers_only:
        if customer_in.owner_id not in (None, actor.user_id):
            require(actor, Permission.assign_owner)
        customer_in.owner_id = actor.user_id
    require_existing(
        session=session,
        checks={
            "referred_by_id": (Customer, customer_in.referred_by_id),
            "owner_id": (User, customer_in.owner_id),
        },
    )
    if session.exec(select(Customer.id).where(Customer.code == customer_in.code)).first():
        raise Conflict(f"A customer with code {customer_in.code} already exists.")
    now = utcnow()
    customer = Customer.model_validate(customer_in, update={"created_at": now, "updated_at": now})
    session.add(customer)
    session.flush()
    add_audit(
        session=session,
        user_id=actor.user_id,
        entity="customer",
        entity_id=customer.id,
        action=AuditAction.create,
        after=snapshot(customer),
    )
    commit_or_conflict(
        session=session, message=f"A customer with code {customer_in.code} already exists."
    )
    session.refresh(customer)
    return customer


def update_customer(
    *,
    session: Session,
    customer_id: int,
    data: CustomerUpdate | dict[str, Any],
    actor: Actor,
) -> Customer:
    """Apply the given fields to a customer (one transaction, audited)."""
    changes = validate(CustomerUpdate, data).model_dump(exclude_unset=True)
    customer = require_customer(session=session, actor=actor, customer_id=customer_id, write=True)
    if "owner_id" in changes and changes["owner_id"] != customer.owner_id:
        require(actor, Permission.assign_owner)
    require_existing(
        session=session,
        checks={
            "referred_by_id": (Customer, changes.get("referred_by_id")),
            "owner_id": (User, changes.get("owner_id")),
        },
    )
    if changes.get("referred_by_id") == customer_id:
        from app.errors import InvalidInput

        raise InvalidInput({"referred_by_id": "a customer cannot refer itself"})
    before = snapshot(customer)
    customer.sqlmodel_update(changes)
    customer.updated_at = utcnow()
    session.add(customer)
    session.flush()
    add_audit(
        session=session,
        user_id=actor.user_id,
        entity="customer",
        entity_id=customer.id,
        action=AuditAction.update,
        before=before,
        after=snapshot(customer),
    )
    commit_or_conflict(session=session, message="The customer could not be saved.")
    session.refresh(customer)
    return customer


def set_customer_archived(
    *, session: Session, customer_id: int, archived: bool, actor: Actor
) -> Customer:
    """Archive (soft-delete) or restore a customer, audited; restoring is for managers."""
    if not archived:
        require(actor, Permission.restore)
    customer = require_customer(session=session, actor=actor, customer_id=customer_id, write=True)
    before = snapshot(customer)
    customer.archived = archived
    customer.updated_at = utcnow()
    session.add(customer)
    add_audit(
        session=session,
        user_id=actor.user_id,
        entity="customer",
        entity_id=customer.id,
        action=AuditAction.archive if archived else AuditAction.restore,
        before=before,
        after=snapshot(customer),
    )
    session.commit()
    session.refresh(customer)
    return customer


def create_contact(
    *, session: Session, data: ContactCreate | dict[str, Any], actor: Actor
) -> Contact:
    """Validate and insert a contact person of a customer, audited."""
    require(actor, Permission.write)
    contact_in = validate(ContactCreate, data)
    require_customer(session=session, actor=actor, customer_id=contact_in.customer_id, write=True)
    contact = Contact.model_validate(contact_in, update={"created_at": utcnow()})
    session.add(contact)
    session.flush()
    add_audit(
        session=session,
        user_id=actor.user_id,
        entity="contact",
        entity_id=contact.id,
        action=AuditAction.create,
        after=snapshot(contact),
    )
    session.commit()
    session.refresh(contact)
    return contact
