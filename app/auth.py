"""Passwords (argon2) and sign-in: lockout, idle expiry, audit rows. No Streamlit here.

Passwords are never stored, logged or audited in clear: only their argon2id hash is
kept, and audit rows of sign-in events carry the username, never what was typed as
the password.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, func, select

from app.errors import PermissionDenied
from app.models import AuditAction, Role, User, utcnow
from app.retry import retrying
from app.services.access import Actor
from app.services.common import add_audit

logger = logging.getLogger(__name__)

MAX_FAILED_ATTEMPTS = 5
LOCKOUT = dt.timedelta(minutes=15)
WRONG_CREDENTIALS = "Wrong username or password."
# Audit rows keep at most this much of a typed username (a password pasted into the
# username field must not end up in the log in full).
_AUDIT_USERNAME_CHARS = 40


def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2id hash of a password."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches the stored hash (False for a missing hash)."""
    if not password_hash:
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    # Verified against when the user is unknown or has no password, so that a sign-in
    # attempt always costs one argon2 verification: timing does not reveal usernames.
    return hash_password("no such user: timing equaliser")


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def lock_message(locked_until: dt.datetime, now: dt.datetime) -> str:
    """The message for a locked account, with the whole minutes left (at least 1)."""
    minutes = max(1, math.ceil((locked_until - now).total_seconds() / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"This account is locked for {minutes} more {unit} after too many failed attempts."


def _audit(
    *, session: Session, user_id: int | None, action: AuditAction, after: dict[str, object]
) -> None:
    add_audit(
        session=session,
        user_id=user_id,
        entity="user",
        entity_id=user_id,
        action=action,
        after=after,
    )


def _fail(
    *, session: Session, user: User | None, username: str, reason: str, message: str
) -> PermissionDenied:
    _audit(
        session=session,
        user_id=user.id if user is not None else None,
        action=AuditAction.sign_in_failed,
        after={"username": username[:_AUDIT_USERNAME_CHARS], "reason": reason},
    )
    session.commit()
    logger.info("sign-in failed for %r (%s)", username[:_AUDIT_USERNAME_CHARS], reason)
    return PermissionDenied(message)


@retrying
def authenticate(
    *, session: Session, username: str, password: str, now: dt.datetime | None = None
) -> Actor:
    """The signed-in Actor for a username and password, or PermissionDenied.

    Unknown users, wrong passwords and inactive accounts get the same message and the
    same work (one argon2 verification). After MAX_FAILED_ATTEMPTS consecutive wrong
    passwords the account is locked for LOCKOUT, during which even the right password
    is refused. Every attempt is audited (committed).
    """
    now = now or utcnow()
    typed = username.strip()
    user = session.exec(select(User).where(User.username == typed)).first()
    stored = user.password_hash if user is not None and user.password_hash else None
    # Prevent user enumeration by timing: always verify one hash.
    password_ok = verify_password(stored or _dummy_hash(), password) and stored is not None

    if user is None:
        raise _fail(
            session=session, user=None, username=typed, reason="unknown", message=WRONG_CREDENTIALS
        )
    locked_until = _aware(user.locked_until)
    if locked_until is not None and locked_until > now:
        raise _fail(
            session=session,
            user=user,
            username=typed,
            reason="locked",
            message=lock_message(locked_until, now),
        )
    if locked_until is not None:  # the lock has run out: start counting afresh
        user.locked_until = None
        user.failed_attempts = 0
    if not password_ok:
        user.failed_attempts = (user.failed_attempts or 0) + 1
        if user.failed_attempts >= MAX_FAILED_ATTEMPTS:
            user.locked_until = now + LOCKOUT
        session.add(user)
        raise _fail(
            session=session,
            user=user,
            username=typed,
            reason="locked_now" if user.locked_until else "wrong_password",
            message=WRONG_CREDENTIALS,
        )
    if not user.active:
        raise _fail(
            session=session, user=user, username=typed, reason="inactive", message=WRONG_CREDENTIALS
        )

    user.failed_attempts = 0
    user.locked_until = None
    if _hasher().check_needs_rehash(stored):
        user.password_hash = hash_password(password)
    session.add(user)
    _audit(
        session=session,
        user_id=user.id,
        action=AuditAction.sign_in,
        after={"username": user.username},
    )
    session.commit()
    logger.info("user %r signed in", user.username)
    return Actor(user_id=user.id, username=user.username, role=Role(user.role))


@retrying
def record_sign_in(*, session: Session, user: User, method: str) -> None:
    """Audit a sign-in made without a password (single sign-on), committed."""
    _audit(
        session=session,
        user_id=user.id,
        action=AuditAction.sign_in,
        after={"username": user.username, "method": method},
    )
    session.commit()
    logger.info("user %r signed in (%s)", user.username, method)


@retrying
def sign_out(*, session: Session, user_id: int | None, username: str, reason: str = "") -> None:
    """Audit a sign-out (``reason``: empty for the button, "expired", "inactive"), committed."""
    after: dict[str, object] = {"username": username}
    if reason:
        after["reason"] = reason
    _audit(session=session, user_id=user_id, action=AuditAction.sign_out, after=after)
    session.commit()
    logger.info("user %r signed out%s", username, f" ({reason})" if reason else "")


def session_expired(last_seen: dt.datetime | None, now: dt.datetime, idle_hours: float) -> bool:
    """Whether a session last seen at ``last_seen`` has been idle for ``idle_hours`` or more."""
    if last_seen is None:
        return True
    return now - _aware(last_seen) >= dt.timedelta(hours=float(idle_hours))


def active_user(*, session: Session, user_id: int | None) -> User | None:
    """The user if it exists and is active, else None."""
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return user if user is not None and user.active else None


def active_user_by_email(*, session: Session, email: str) -> User | None:
    """The active user with this email (case-insensitive), for single sign-on."""
    wanted = email.strip().lower()
    if not wanted:
        return None
    return session.exec(
        select(User).where(func.lower(User.email) == wanted, User.active.is_(True))
    ).first()
