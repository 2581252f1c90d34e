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
    ContactUpdate,
    Customer,
    CustomerCreate,
    CustomerUpdate,
    User,
    utcnow,
)
from app.retry import retrying
from app.services.access import Actor, Permission, require, require_customer
from app.services.common import (
    add_audit,
    apply_update,
    audit_create,
    commit_or_conflict,
    find_by_idempotency_key,
    get_or_not_found,
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


@retrying
def create_customer(
    *,
    session: Session,
    data: CustomerCreate | dict[str, Any],
    actor: Actor,
    idempotency_key: str | None = None,
) -> Customer:
    """Validate and insert a customer (one transaction, audited).

    Staff own the customers they create; only managers and admins assign other owners.
    A repeated ``idempotency_key`` returns the customer the first call created.
    """
    require(actor, Permission.write)
    existing = find_by_idempotency_key(
        session=session, table=Customer, entity="customer", key=idempotency_key
    )
    if existing is not None:
        return existing
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
    audit_create(
        session=session,
        actor=actor,
        entity="customer",
        row=customer,
        idempotency_key=idempotency_key,
    )
    commit_or_conflict(
        session=session, message=f"A customer with code {customer_in.code} already exists."
    )
    session.refresh(customer)
    return customer


@retrying
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


@retrying
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


@retrying
def create_contact(
    *,
    session: Session,
    data: ContactCreate | dict[str, Any],
    actor: Actor,
    idempotency_key: str | None = None,
) -> Contact:
    """Validate and insert a contact person of a customer, audited."""
    require(actor, Permission.write)
    existing = find_by_idempotency_key(
        session=session, table=Contact, entity="contact", key=idempotency_key
    )
    if existing is not None:
        return existing
    contact_in = validate(ContactCreate, data)
    require_customer(session=session, actor=actor, customer_id=contact_in.customer_id, write=True)
    contact = Contact.model_validate(contact_in, update={"created_at": utcnow()})
    session.add(contact)
    session.flush()
    audit_create(
        session=session,
        actor=actor,
        entity="contact",
        row=contact,
        idempotency_key=idempotency_key,
    )
    session.commit()
    session.refresh(contact)
    return contact


@retrying
def update_contact(
    *,
    session: Session,
    contact_id: int,
    data: ContactUpdate | dict[str, Any],
    actor: Actor,
) -> Contact:
    """Change the given fields of a contact person, audited."""
    require(actor, Permission.write)
    changes = validate(ContactUpdate, data).model_dump(exclude_unset=True)
    contact = get_or_not_found(session=session, table=Contact, key=contact_id, label="Contact")
    require_customer(session=session, actor=actor, customer_id=contact.customer_id, write=True)
    return apply_update(
        session=session, actor=actor, row=contact, changes=changes, entity="contact"
    )


def search_customers(*, session: Session, actor: Actor, query: str, limit: int = 20):  # noqa: ANN201
    """Up to ``limit`` visible, active customers matching ``query`` as a DataFrame
    [customer_id, code, name, phone, label]: diacritics- and case-insensitive on the
    name, case-insensitive on the code, digits on the phone.

    SQL preselects by code, phone digits or the name's accent-agnostic LIKE skeleton
    ("thanh phu" → "th_nh%ph_"); the exact folded match is checked in Python.
    """
    import pandas as pd
    from sqlalchemy import or_

    from app.services.access import visible_customers
    from app.text import fold, like_skeleton, phone_digits, without_control_characters

    require(actor, Permission.read)
    columns = ["customer_id", "code", "name", "phone", "label"]
    text = without_control_characters(query or "").strip()[:100]
    base = select(Customer.id, Customer.code, Customer.name, Customer.phone).where(
        Customer.archived.is_(False), visible_customers(actor)
    )
    if not text:
        rows = list(session.exec(base.order_by(Customer.updated_at.desc()).limit(limit)).all())
    else:
        folded = fold(text, company=False)
        digits = phone_digits(text)
        # LIKE's specials (and PostgreSQL's default escape, the backslash) are dropped.
        escaped = text.replace("%", "").replace("_", "").replace("\\", "")
        conditions = [Customer.code.ilike(f"%{escaped}%")]
        if len(digits) >= 3:
            conditions.append(_phone_digits_sql(Customer.phone).like(f"%{digits}%"))
        if folded:
            conditions.append(Customer.name.ilike(f"%{like_skeleton(folded)}%"))
        candidates = session.exec(
            base.where(or_(*conditions)).order_by(Customer.code).limit(limit * 10)
        ).all()
        rows = [
            row
            for row in candidates
            if escaped.lower() in row[1].lower()
            or (len(digits) >= 3 and digits in phone_digits(row[3]))
            or (folded and folded in fold(row[2], company=False))
        ][:limit]
    frame = pd.DataFrame([(r[0], r[1], r[2], r[3] or "") for r in rows], columns=columns[:4])
    frame["label"] = (
        frame["code"] + " · " + frame["name"] + frame["phone"].map(lambda p: f" · {p}" if p else "")
    )
    return frame[columns]


def _phone_digits_sql(column):  # noqa: ANN001, ANN202 - a SQL expression
    """The column with the usual phone separators removed, in SQL (SQLite and PostgreSQL)."""
    expression = func.coalesce(column, "")
    for char in (" ", ".", "-", "(", ")", "+"):
        expression = func.replace(expression, char, "")
    return expression
