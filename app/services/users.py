"""User accounts."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from app.auth import hash_password
from app.errors import Conflict
from app.models import AuditAction, User, UserCreate, utcnow
from app.services.access import Actor, Permission, require
from app.services.common import add_audit, commit_or_conflict, snapshot, validate


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
