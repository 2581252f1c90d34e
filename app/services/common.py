"""Helpers every service uses: validation at the boundary, audit rows, FK checks."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel

from app.errors import Conflict, InvalidInput, from_validation_error
from app.models import AuditAction, AuditLog, utcnow
from app.retry import retrying
from app.services.access import Actor, Permission, require, require_customer

InputModel = TypeVar("InputModel", bound=BaseModel)


def validate(model: type[InputModel], data: BaseModel | dict[str, Any]) -> InputModel:
    """Validate raw input into ``model``; raise InvalidInput with per-field messages."""
    if isinstance(data, model):
        # Re-validate: a model built with model_construct or mutated after creation
        # must not slip past the constraints.
        data = data.model_dump()
    elif isinstance(data, BaseModel):
        data = data.model_dump()
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def json_safe(value: Any) -> Any:
    """Convert a value to something the JSON audit columns can hold."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def snapshot(row: SQLModel | None) -> dict[str, Any] | None:
    """A JSON-safe dict of a row's column values, for the audit log."""
    if row is None:
        return None
    return json_safe({column.name: getattr(row, column.name) for column in row.__table__.columns})


def add_audit(
    *,
    session: Session,
    user_id: int | None,
    entity: str,
    entity_id: int | None,
    action: AuditAction,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Stage an audit row in the caller's transaction (committed with the change)."""
    session.add(
        AuditLog(
            user_id=user_id,
            at=utcnow(),
            entity=entity,
            entity_id=entity_id,
            action=action,
            before=before,
            after=after,
        )
    )


def require_existing(
    *, session: Session, checks: dict[str, tuple[type[SQLModel], int | None]]
) -> None:
    """Raise InvalidInput naming every field whose referenced row does not exist."""
    missing = {
        field: "refers to a record that does not exist"
        for field, (table, key) in checks.items()
        if key is not None and session.get(table, key) is None
    }
    if missing:
        raise InvalidInput(missing)


def commit_or_conflict(*, session: Session, message: str) -> None:
    """Commit; on an integrity error roll back everything and raise Conflict(message)."""
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(message) from exc


TableRow = TypeVar("TableRow", bound=SQLModel)


@retrying
def create_record(
    *,
    session: Session,
    create_model: type[BaseModel],
    table: type[TableRow],
    data: BaseModel | dict[str, Any],
    entity: str,
    references: dict[str, type[SQLModel]],
    actor: Actor,
    permission: Permission = Permission.write,
    customer_field: str | None = "customer_id",
    extra: dict[str, Any] | None = None,
    conflict_message: str = "The record conflicts with existing data.",
) -> TableRow:
    """Check the actor's rights, validate input and references, insert the row and its
    audit row in one transaction."""
    require(actor, permission)
    record_in = validate(create_model, data)
    if customer_field is not None and getattr(record_in, customer_field, None) is not None:
        require_customer(
            session=session,
            actor=actor,
            customer_id=getattr(record_in, customer_field),
            write=True,
        )
    require_existing(
        session=session,
        checks={field: (ref, getattr(record_in, field)) for field, ref in references.items()},
    )
    row = table.model_validate(record_in, update=extra or {})
    session.add(row)
    session.flush()
    add_audit(
        session=session,
        user_id=actor.user_id,
        entity=entity,
        entity_id=row.id,
        action=AuditAction.create,
        after=snapshot(row),
    )
    commit_or_conflict(session=session, message=conflict_message)
    session.refresh(row)
    return row


# --------------------------------------------------------------------------- idempotency, updates
IDEMPOTENCY_FIELD = "_idempotency_key"


def find_by_idempotency_key(
    *, session: Session, table: type[TableRow], entity: str, key: str | None
) -> TableRow | None:
    """The row an earlier create with this key produced, or None (also when key is None).

    A double click or a browser retry sends the same key and gets the first record back;
    the key's primary key on (entity, key) stops two simultaneous submits both inserting.
    """
    if not key:
        return None
    from app.models import IdempotencyKey

    remembered = session.get(IdempotencyKey, (entity, key))
    return session.get(table, remembered.record_id) if remembered is not None else None


def audit_create(
    *,
    session: Session,
    actor: Actor,
    entity: str,
    row: SQLModel,
    idempotency_key: str | None = None,
    extra_after: dict[str, Any] | None = None,
) -> None:
    """Stage the create audit row of ``row`` (flushed), remembering the idempotency key."""
    after = snapshot(row) or {}
    after.update(extra_after or {})
    if idempotency_key:
        from app.models import IdempotencyKey

        after[IDEMPOTENCY_FIELD] = idempotency_key
        session.add(IdempotencyKey(entity=entity, key=idempotency_key, record_id=row.id))
    add_audit(
        session=session,
        user_id=actor.user_id,
        entity=entity,
        entity_id=row.id,
        action=AuditAction.create,
        after=after,
    )


@retrying
def create_record_once(
    *,
    session: Session,
    create_model: type[BaseModel],
    table: type[TableRow],
    data: BaseModel | dict[str, Any],
    entity: str,
    references: dict[str, type[SQLModel]],
    actor: Actor,
    idempotency_key: str | None = None,
    permission: Permission = Permission.write,
    customer_field: str | None = "customer_id",
    extra: dict[str, Any] | None = None,
    conflict_message: str = "The record conflicts with existing data.",
) -> TableRow:
    """``create_record`` with an idempotency key: a repeated key returns the first row."""
    require(actor, permission)
    existing = find_by_idempotency_key(
        session=session, table=table, entity=entity, key=idempotency_key
    )
    if existing is not None:
        return existing
    record_in = validate(create_model, data)
    if customer_field is not None and getattr(record_in, customer_field, None) is not None:
        require_customer(
            session=session,
            actor=actor,
            customer_id=getattr(record_in, customer_field),
            write=True,
        )
    require_existing(
        session=session,
        checks={field: (ref, getattr(record_in, field)) for field, ref in references.items()},
    )
    row = table.model_validate(record_in, update=extra or {})
    session.add(row)
    session.flush()
    audit_create(
        session=session, actor=actor, entity=entity, row=row, idempotency_key=idempotency_key
    )
    commit_or_conflict(session=session, message=conflict_message)
    session.refresh(row)
    return row


def get_or_not_found(*, session: Session, table: type[TableRow], key: int, label: str) -> TableRow:
    """The row with this primary key, or NotFound naming it."""
    from app.errors import NotFound

    row = session.get(table, key)
    if row is None:
        raise NotFound(f"{label} {key} does not exist.")
    return row


@retrying
def apply_update(
    *,
    session: Session,
    actor: Actor,
    row: TableRow,
    changes: dict[str, Any],
    entity: str,
    action: AuditAction = AuditAction.update,
    conflict_message: str = "The change could not be saved.",
) -> TableRow:
    """Apply ``changes`` to ``row`` and write the audit row with before/after, committed."""
    before = snapshot(row)
    for name, value in changes.items():
        setattr(row, name, value)
    session.add(row)
    session.flush()
    add_audit(
        session=session,
        user_id=actor.user_id,
        entity=entity,
        entity_id=row.id,
        action=action,
        before=before,
        after=snapshot(row),
    )
    commit_or_conflict(session=session, message=conflict_message)
    session.refresh(row)
    return row
