"""Reads and writes behind the edit forms of the Customer 360° page: one customer's
records with their ids and editable fields, and a contact list saved in one go."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlmodel import Session, select

from app.errors import InvalidInput, NotFound
from app.models import (
    AuditAction,
    Complaint,
    Contact,
    ContactUpdate,
    Inquiry,
    Interaction,
    Opportunity,
    Order,
    SurveyResponse,
)
from app.retry import retrying
from app.services.access import Actor, Permission, require, require_customer
from app.services.common import add_audit, commit_or_conflict, snapshot, validate

# Per kind: the table, the column it is ordered by (newest first) and the columns read.
RECORD_KINDS: dict[str, tuple[Any, str, tuple[str, ...]]] = {
    "interaction": (
        Interaction,
        "occurred_at",
        ("kind", "direction", "subject", "notes", "outcome", "follow_up_due"),
    ),
    "inquiry": (Inquiry, "asked_at", ("need", "quantity", "status", "reason")),
    "order": (
        Order,
        "ordered_at",
        ("code", "status", "amount", "payment_due", "delivery_due", "promotion", "notes"),
    ),
    "opportunity": (
        Opportunity,
        "created_at",
        ("title", "stage", "amount", "expected_close"),
    ),
    "complaint": (
        Complaint,
        "opened_at",
        ("category", "severity", "status", "description"),
    ),
    "survey": (SurveyResponse, "answered_at", ("nps", "csat", "comment")),
    "contact": (Contact, "created_at", ("name", "title", "phone", "email", "is_primary")),
}
# At most this many records of a kind are offered for editing (the newest).
RECORD_LIMIT = 200


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)  # SQLite returns naive datetimes, stored as UTC
    return value


def customer_records(
    *, session: Session, actor: Actor, customer_id: int, kind: str, limit: int = RECORD_LIMIT
) -> pd.DataFrame:
    """The customer's records of ``kind`` (newest first) with ``id``, ``at`` (UTC) and the
    editable fields, as plain values; NotFound when the actor may not see the customer."""
    if kind not in RECORD_KINDS:
        raise InvalidInput({"kind": f"unknown record kind {kind!r}"})
    require_customer(session=session, actor=actor, customer_id=customer_id)
    table, at_column, columns = RECORD_KINDS[kind]
    order = getattr(table, at_column)
    rows = session.exec(
        select(table.id, order, *(getattr(table, name) for name in columns))
        .where(table.customer_id == customer_id)
        .order_by(order.desc(), table.id.desc())
        .limit(limit)
    ).all()
    return pd.DataFrame(
        [tuple(_plain(value) for value in row) for row in rows],
        columns=["id", "at", *columns],
    )


@retrying
def update_contacts(
    *,
    session: Session,
    actor: Actor,
    customer_id: int,
    changes: dict[int, dict[str, Any]],
) -> int:
    """Apply edited fields to several contact persons of one customer: every row is
    validated first (errors named ``<contact id>.<field>``), then all are written in one
    transaction with an audit row each. Returns the number of contacts changed."""
    require(actor, Permission.write)
    require_customer(session=session, actor=actor, customer_id=customer_id, write=True)
    errors: dict[str, str] = {}
    validated: dict[int, dict[str, Any]] = {}
    for contact_id, fields in changes.items():
        try:
            validated[contact_id] = validate(ContactUpdate, fields).model_dump(exclude_unset=True)
        except InvalidInput as exc:
            errors.update({f"{contact_id}.{name}": text for name, text in exc.field_errors.items()})
            continue
        if "name" in validated[contact_id] and validated[contact_id]["name"] is None:
            errors[f"{contact_id}.name"] = "must not be empty"
    if errors:
        raise InvalidInput(errors)
    contacts = {}
    for contact_id in validated:
        contact = session.get(Contact, contact_id)
        if contact is None or contact.customer_id != customer_id:
            raise NotFound(f"Contact {contact_id} does not exist.")
        contacts[contact_id] = contact
    for contact_id, fields in validated.items():
        contact = contacts[contact_id]
        before = snapshot(contact)
        for name, value in fields.items():
            setattr(contact, name, value)
        session.add(contact)
        add_audit(
            session=session,
            user_id=actor.user_id,
            entity="contact",
            entity_id=contact_id,
            action=AuditAction.update,
            before=before,
            after=snapshot(contact),
        )
    commit_or_conflict(session=session, message="The contacts could not be saved.")
    return len(validated)
