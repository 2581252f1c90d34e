"""Customers and their contact persons."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from app.errors import Conflict, NotFound
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


def get_customer(*, session: Session, customer_id: int) -> Customer:
    """The customer with this id, or NotFound."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"Customer {customer_id} does not exist.")
    return customer


def create_customer(
    *, session: Session, data: CustomerCreate | dict[str, Any], acting_user_id: int | None = None
) -> Customer:
    """Validate and insert a customer (one transaction, audited)."""
    customer_in = validate(CustomerCreate, data)
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
        user_id=acting_user_id,
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
    acting_user_id: int | None = None,
) -> Customer:
    """Apply the given fields to a customer (one transaction, audited)."""
    changes = validate(CustomerUpdate, data).model_dump(exclude_unset=True)
    customer = get_customer(session=session, customer_id=customer_id)
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
        user_id=acting_user_id,
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
    *, session: Session, customer_id: int, archived: bool, acting_user_id: int | None = None
) -> Customer:
    """Archive (soft-delete) or restore a customer, audited."""
    customer = get_customer(session=session, customer_id=customer_id)
    before = snapshot(customer)
    customer.archived = archived
    customer.updated_at = utcnow()
    session.add(customer)
    add_audit(
        session=session,
        user_id=acting_user_id,
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
    *, session: Session, data: ContactCreate | dict[str, Any], acting_user_id: int | None = None
) -> Contact:
    """Validate and insert a contact person of a customer, audited."""
    contact_in = validate(ContactCreate, data)
    require_existing(session=session, checks={"customer_id": (Customer, contact_in.customer_id)})
    contact = Contact.model_validate(contact_in, update={"created_at": utcnow()})
    session.add(contact)
    session.flush()
    add_audit(
        session=session,
        user_id=acting_user_id,
        entity="contact",
        entity_id=contact.id,
        action=AuditAction.create,
        after=snapshot(contact),
    )
    session.commit()
    session.refresh(contact)
    return contact
