"""User accounts and the audit log: admin-only services, every change audited."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
from sqlmodel import Session, select

from app.auth import hash_password
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.models import AuditAction, AuditLog, Role, User, UserCreate, utcnow
from app.retry import retrying
from app.services.access import Actor, Permission, require
from app.services.common import add_audit, commit_or_conflict, json_safe, snapshot, validate


@retrying
def create_user(*, session: Session, data: UserCreate | dict[str, Any], actor: Actor) -> User:
    """Validate and insert a user with an argon2 password hash, audited without the hash."""
    require(actor, Permission.users)
    user_in = validate(UserCreate, data)
    if session.exec(select(User.id).where(User.username == user_in.username)).first():
        raise Conflict(f"A user named {user_in.username} already exists.")
    user = User.model_validate(
        user_in.model_dump(exclude={"password"}),
        update={"password_hash": hash_password(user_in.password), "created_at": utcnow()},
    )
    session.add(user)
    session.flush()
    after = snapshot(user) or {}
    after.pop("password_hash", None)
    add_audit(
        session=session,
        user_id=actor.user_id,
        entity="user",
        entity_id=user.id,
        action=AuditAction.create,
        after=after,
    )
    commit_or_conflict(session=session, message=f"A user named {user_in.username} already exists.")
    session.refresh(user)
    return user


def count_users(*, session: Session) -> int:
    """How many user accounts exist."""
    return len(session.exec(select(User.id)).all())


# Columns of the users table shown to admins: never the password hash.
USER_COLUMNS = [
    "id",
    "username",
    "display_name",
    "email",
    "department",
    "role",
    "active",
    "failed_attempts",
    "locked_until",
    "created_at",
]
AUDIT_COLUMNS = ["at", "username", "entity", "entity_id", "action", "before", "after"]
MIN_PASSWORD_LENGTH = 8


def _get_user(*, session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} does not exist.")
    return user


def _other_active_admins(*, session: Session, user_id: int) -> int:
    return len(
        session.exec(
            select(User.id).where(
                User.role == Role.admin, User.active.is_(True), User.id != user_id
            )
        ).all()
    )


def _save_change(
    *,
    session: Session,
    actor: Actor,
    user: User,
    before: dict[str, Any],
    after: dict[str, Any],
) -> User:
    session.add(user)
    add_audit(
        session=session,
        user_id=actor.user_id,
        entity="user",
        entity_id=user.id,
        action=AuditAction.update,
        before=json_safe(before),
        after=json_safe(after),
    )
    session.commit()
    session.refresh(user)
    return user


@retrying
def set_user_active(*, session: Session, actor: Actor, user_id: int, active: bool) -> User:
    """Deactivate or reactivate an account; admins cannot deactivate themselves."""
    require(actor, Permission.users)
    user = _get_user(session=session, user_id=user_id)
    if not active and user.id == actor.user_id:
        raise PermissionDenied("You cannot deactivate your own account.")
    if (
        not active
        and user.role == Role.admin
        and not _other_active_admins(session=session, user_id=user.id)
    ):
        raise Conflict("The last active admin cannot be deactivated.")
    if user.active == active:
        return user
    before = {"active": user.active}
    user.active = active
    if active:  # a fresh start for a reactivated account
        user.failed_attempts = 0
        user.locked_until = None
    return _save_change(
        session=session, actor=actor, user=user, before=before, after={"active": active}
    )


@retrying
def deactivate_user(*, session: Session, actor: Actor, user_id: int) -> User:
    """Deactivate an account: it can no longer sign in, and open sessions end."""
    return set_user_active(session=session, actor=actor, user_id=user_id, active=False)


@retrying
def reactivate_user(*, session: Session, actor: Actor, user_id: int) -> User:
    """Reactivate a deactivated account."""
    return set_user_active(session=session, actor=actor, user_id=user_id, active=True)


@retrying
def reset_password(*, session: Session, actor: Actor, user_id: int, password: str) -> User:
    """Set a new password (argon2 hash) and lift any lockout; audited without the password."""
    require(actor, Permission.users)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput({"password": f"must have at least {MIN_PASSWORD_LENGTH} characters"})
    if len(password) > 200:
        raise InvalidInput({"password": "must have at most 200 characters"})
    user = _get_user(session=session, user_id=user_id)
    user.password_hash = hash_password(password)
    user.failed_attempts = 0
    user.locked_until = None
    return _save_change(
        session=session, actor=actor, user=user, before={}, after={"password": "reset"}
    )


@retrying
def change_role(*, session: Session, actor: Actor, user_id: int, role: Role | str) -> User:
    """Give a user another role; admins cannot demote themselves."""
    require(actor, Permission.users)
    try:
        new_role = Role(role)
    except ValueError:
        raise InvalidInput({"role": f"must be one of {', '.join(r.value for r in Role)}"}) from None
    user = _get_user(session=session, user_id=user_id)
    if user.role == new_role:
        return user
    if user.id == actor.user_id:
        raise PermissionDenied("You cannot change your own role; ask another admin.")
    if (
        user.role == Role.admin
        and user.active
        and not _other_active_admins(session=session, user_id=user.id)
    ):
        raise Conflict("The last active admin cannot be given another role.")
    before = {"role": Role(user.role).value}
    user.role = new_role
    return _save_change(
        session=session, actor=actor, user=user, before=before, after={"role": new_role.value}
    )


def list_users(*, session: Session, actor: Actor) -> pd.DataFrame:
    """Every account, without password hashes, ordered by username."""
    require(actor, Permission.users)
    rows = session.exec(select(User).order_by(User.username)).all()
    frame = pd.DataFrame(
        [{column: getattr(user, column) for column in USER_COLUMNS} for user in rows],
        columns=USER_COLUMNS,
    )
    frame["role"] = frame["role"].map(lambda value: Role(value).value)
    return frame


def audit_log(
    *,
    session: Session,
    actor: Actor,
    user_id: int | None = None,
    entity: str | None = None,
    action: AuditAction | str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    limit: int = 1000,
) -> pd.DataFrame:
    """The newest audit rows (at most ``limit``), filtered; ``[start, end)`` in UTC.

    ``before``/``after`` are JSON text, so the frame exports to CSV as shown.
    """
    require(actor, Permission.audit)
    if start is not None and end is not None and start > end:
        raise InvalidInput({"start": "must not be after the end"})
    query = select(AuditLog, User.username).join(User, AuditLog.user_id == User.id, isouter=True)
    if user_id is not None:
        query = query.where(AuditLog.user_id == user_id)
    if entity:
        query = query.where(AuditLog.entity == entity)
    if action:
        query = query.where(AuditLog.action == AuditAction(action))
    if start is not None:
        query = query.where(AuditLog.at >= start)
    if end is not None:
        query = query.where(AuditLog.at < end)
    query = query.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)
    records = [
        {
            "at": row.at,
            "username": username,
            "entity": row.entity,
            "entity_id": row.entity_id,
            "action": AuditAction(row.action).value,
            "before": None if row.before is None else json.dumps(row.before, ensure_ascii=False),
            "after": None if row.after is None else json.dumps(row.after, ensure_ascii=False),
        }
        for row, username in session.exec(query).all()
    ]
    frame = pd.DataFrame(records, columns=AUDIT_COLUMNS)
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame


def audit_entities(*, session: Session, actor: Actor) -> list[str]:
    """The entity names present in the audit log, for a filter."""
    require(actor, Permission.audit)
    return sorted(session.exec(select(AuditLog.entity).distinct()).all())
