"""Sign-in (lockout, no enumeration, expiry, audit) and the admin-only user services."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlmodel import Session, select

from app import auth
from app.auth import (
    LOCKOUT,
    MAX_FAILED_ATTEMPTS,
    WRONG_CREDENTIALS,
    authenticate,
    session_expired,
    sign_out,
)
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.models import AuditAction, AuditLog, Role, User
from app.services.access import Actor
from app.services.users import (
    audit_log,
    change_role,
    create_user,
    deactivate_user,
    list_users,
    reactivate_user,
    reset_password,
)
from tests.unit.factories import SYSTEM

PASSWORD = "correct horse battery"
NOW = dt.datetime(2026, 6, 15, 9, 0, tzinfo=dt.UTC)


def make_user(session: Session, username: str, role: Role = Role.staff, **extra) -> User:
    """A user created through the service, with PASSWORD."""
    data = {"username": username, "display_name": username.title(), "role": role.value}
    data.update(extra)
    return create_user(session=session, actor=SYSTEM, data={**data, "password": PASSWORD})


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, username=user.username, role=Role(user.role))


def audit_rows(session: Session, action: AuditAction) -> list[AuditLog]:
    return list(session.exec(select(AuditLog).where(AuditLog.action == action)).all())


def fail(session: Session, username: str, password: str, now: dt.datetime) -> str:
    with pytest.raises(PermissionDenied) as excinfo:
        authenticate(session=session, username=username, password=password, now=now)
    return str(excinfo.value)


# --------------------------------------------------------------------------- sign-in
def test_right_password_signs_in_and_is_audited(session: Session) -> None:
    user = make_user(session, "lan", Role.manager)

    actor = authenticate(session=session, username=" lan ", password=PASSWORD, now=NOW)

    assert actor == Actor(user_id=user.id, username="lan", role=Role.manager)
    [row] = audit_rows(session, AuditAction.sign_in)
    assert (row.user_id, row.entity, row.entity_id) == (user.id, "user", user.id)
    assert row.after == {"username": "lan"}


def test_unknown_user_and_wrong_password_look_the_same(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(session, "lan")
    verified: list[str] = []
    real_verify = PasswordHasher.verify

    def spy(self, hash, password):  # noqa: ANN001, ANN202, A002
        verified.append(hash)
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", spy)

    unknown = fail(session, "nobody", PASSWORD, NOW)
    assert len(verified) == 1  # against the dummy hash: the same work as a real check
    wrong = fail(session, "lan", "not the password", NOW)
    assert len(verified) == 2

    assert unknown == wrong == WRONG_CREDENTIALS
    assert verified[0] != verified[1]
    rows = audit_rows(session, AuditAction.sign_in_failed)
    assert [(r.user_id is None, r.after["username"]) for r in rows] == [
        (True, "nobody"),
        (False, "lan"),
    ]


def test_inactive_user_and_user_without_password_get_the_same_message(
    session: Session,
) -> None:
    user = make_user(session, "lan")
    deactivate_user(session=session, actor=SYSTEM, user_id=user.id)
    session.add(User(username="nopass", display_name="No password"))
    session.commit()

    assert fail(session, "lan", PASSWORD, NOW) == WRONG_CREDENTIALS
    assert fail(session, "nopass", "", NOW) == WRONG_CREDENTIALS


def test_five_failures_lock_the_account_for_fifteen_minutes(session: Session) -> None:
    user = make_user(session, "lan")
    for attempt in range(MAX_FAILED_ATTEMPTS):
        # The fifth failure still says "wrong": the lock applies from the next attempt.
        assert fail(session, "lan", f"wrong {attempt}", NOW) == WRONG_CREDENTIALS
    session.refresh(user)
    assert user.failed_attempts == MAX_FAILED_ATTEMPTS
    assert auth._aware(user.locked_until) == NOW + LOCKOUT

    # Locked: even the right password is refused, with the minutes left.
    message = fail(session, "lan", PASSWORD, NOW + dt.timedelta(minutes=1))
    assert message == ("This account is locked for 14 more minutes after too many failed attempts.")
    message = fail(session, "lan", PASSWORD, NOW + LOCKOUT - dt.timedelta(seconds=30))
    assert "locked for 1 more minute " in message

    # The lock runs out at exactly 15 minutes.
    actor = authenticate(session=session, username="lan", password=PASSWORD, now=NOW + LOCKOUT)
    assert actor.user_id == user.id
    session.refresh(user)
    assert (user.failed_attempts, user.locked_until) == (0, None)


def test_success_resets_the_failure_count(session: Session) -> None:
    user = make_user(session, "lan")
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        fail(session, "lan", "wrong", NOW)
    authenticate(session=session, username="lan", password=PASSWORD, now=NOW)
    # Four more failures after a success do not lock: the count started again.
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        fail(session, "lan", "wrong", NOW)
    session.refresh(user)
    assert user.failed_attempts == MAX_FAILED_ATTEMPTS - 1
    assert user.locked_until is None


def test_an_expired_lock_starts_counting_afresh(session: Session) -> None:
    user = make_user(session, "lan")
    for _ in range(MAX_FAILED_ATTEMPTS):
        fail(session, "lan", "wrong", NOW)
    later = NOW + LOCKOUT + dt.timedelta(minutes=1)
    assert fail(session, "lan", "wrong again", later) == WRONG_CREDENTIALS
    session.refresh(user)
    assert (user.failed_attempts, user.locked_until) == (1, None)


def test_outdated_hash_parameters_are_rehashed(session: Session) -> None:
    user = make_user(session, "lan")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    user.password_hash = weak
    session.add(user)
    session.commit()

    authenticate(session=session, username="lan", password=PASSWORD, now=NOW)

    session.refresh(user)
    assert user.password_hash != weak
    assert not PasswordHasher().check_needs_rehash(user.password_hash)


def test_password_is_hashed_and_never_stored_or_logged(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = make_user(session, "lan", Role.admin)
    authenticate(session=session, username="lan", password=PASSWORD, now=NOW)
    fail(session, "lan", "a wrong secret", NOW)
    reset_password(session=session, actor=SYSTEM, user_id=user.id, password="new secret 123")
    sign_out(session=session, user_id=user.id, username="lan")

    session.refresh(user)
    assert user.password_hash.startswith("$argon2id$")
    dumped = []
    for table in ("app_user", "audit_log"):
        for row in session.connection().execute(text(f"SELECT * FROM {table}")):
            dumped.append(" ".join(str(value) for value in row))
    everything = "\n".join(dumped)
    for secret in (PASSWORD, "a wrong secret", "new secret 123"):
        assert secret not in everything
        assert secret not in caplog.text
    assert "lan" in caplog.text  # the log does record who signed in
    for row in session.exec(select(AuditLog)).all():
        assert "password_hash" not in str(row.after or {})


def test_sign_out_is_audited(session: Session) -> None:
    user = make_user(session, "lan")
    sign_out(session=session, user_id=user.id, username="lan", reason="expired")
    [row] = audit_rows(session, AuditAction.sign_out)
    assert (row.user_id, row.after) == (user.id, {"username": "lan", "reason": "expired"})


@pytest.mark.parametrize(
    ("idle", "expired"),
    [
        (dt.timedelta(hours=7, minutes=59), False),
        (dt.timedelta(hours=8), True),  # boundary: exactly the limit has expired
        (dt.timedelta(days=2), True),
    ],
)
def test_session_expiry(idle: dt.timedelta, expired: bool) -> None:
    assert session_expired(NOW - idle, NOW, 8) is expired


def test_session_expiry_accepts_naive_utc_and_missing_times() -> None:
    assert not session_expired((NOW - dt.timedelta(hours=1)).replace(tzinfo=None), NOW, 8)
    assert session_expired(None, NOW, 8)


# --------------------------------------------------------------------------- users admin
@pytest.fixture
def admin(session: Session) -> Actor:
    return actor_of(make_user(session, "boss", Role.admin))


def test_user_services_need_the_users_permission(session: Session) -> None:
    manager = actor_of(make_user(session, "manager", Role.manager))
    staff = make_user(session, "lan")
    for call in (
        lambda: deactivate_user(session=session, actor=manager, user_id=staff.id),
        lambda: reactivate_user(session=session, actor=manager, user_id=staff.id),
        lambda: reset_password(
            session=session, actor=manager, user_id=staff.id, password="whatever123"
        ),
        lambda: change_role(session=session, actor=manager, user_id=staff.id, role="admin"),
        lambda: list_users(session=session, actor=manager),
    ):
        with pytest.raises(PermissionDenied, match="not allowed to manage users"):
            call()
    with pytest.raises(PermissionDenied, match="not allowed to read the audit log"):
        audit_log(session=session, actor=manager)


def test_deactivate_reactivate_and_role_changes_are_audited(session: Session, admin: Actor) -> None:
    staff = make_user(session, "lan")

    deactivate_user(session=session, actor=admin, user_id=staff.id)
    assert fail(session, "lan", PASSWORD, NOW) == WRONG_CREDENTIALS
    reactivate_user(session=session, actor=admin, user_id=staff.id)
    change_role(session=session, actor=admin, user_id=staff.id, role="manager")

    session.refresh(staff)
    assert staff.active and staff.role == Role.manager
    assert authenticate(session=session, username="lan", password=PASSWORD).role == Role.manager
    log = audit_log(session=session, actor=admin, entity="user", action="update")
    assert list(log["after"]) == ['{"role": "manager"}', '{"active": true}', '{"active": false}']
    assert set(log["username"]) == {"boss"}


def test_reset_password_lifts_the_lock(session: Session, admin: Actor) -> None:
    staff = make_user(session, "lan")
    for _ in range(MAX_FAILED_ATTEMPTS):
        fail(session, "lan", "wrong", NOW)
    with pytest.raises(InvalidInput):
        reset_password(session=session, actor=admin, user_id=staff.id, password="short")

    reset_password(session=session, actor=admin, user_id=staff.id, password="brand new pw")

    assert authenticate(session=session, username="lan", password="brand new pw", now=NOW)
    with pytest.raises(PermissionDenied):
        authenticate(session=session, username="lan", password=PASSWORD, now=NOW)


def test_an_admin_cannot_deactivate_or_demote_themselves(session: Session, admin: Actor) -> None:
    with pytest.raises(PermissionDenied, match="cannot deactivate your own account"):
        deactivate_user(session=session, actor=admin, user_id=admin.user_id)
    with pytest.raises(PermissionDenied, match="cannot change your own role"):
        change_role(session=session, actor=admin, user_id=admin.user_id, role="staff")
    assert session.get(User, admin.user_id).active


def test_the_last_active_admin_stays(session: Session, admin: Actor) -> None:
    # The system actor (command line) has no user id, so only the last-admin rule stops it.
    with pytest.raises(Conflict, match="last active admin"):
        deactivate_user(session=session, actor=SYSTEM, user_id=admin.user_id)
    with pytest.raises(Conflict, match="last active admin"):
        change_role(session=session, actor=SYSTEM, user_id=admin.user_id, role="manager")
    with pytest.raises(NotFound):
        deactivate_user(session=session, actor=admin, user_id=999_999)
    with pytest.raises(InvalidInput):
        change_role(session=session, actor=admin, user_id=admin.user_id, role="king")


def test_list_users_has_no_password_hash(session: Session, admin: Actor) -> None:
    make_user(session, "lan")
    users = list_users(session=session, actor=admin)
    assert list(users["username"]) == ["boss", "lan"]
    assert "password_hash" not in users.columns
    assert list(users["role"]) == ["admin", "staff"]


def test_audit_log_filters(session: Session, admin: Actor) -> None:
    staff = make_user(session, "lan")
    authenticate(session=session, username="lan", password=PASSWORD, now=NOW)
    fail(session, "ghost", "x", NOW)

    everything = audit_log(session=session, actor=admin)
    assert {"create", "sign_in", "sign_in_failed"} <= set(everything["action"])
    mine = audit_log(session=session, actor=admin, user_id=staff.id)
    assert list(mine["action"]) == ["sign_in"]
    failed = audit_log(session=session, actor=admin, action=AuditAction.sign_in_failed)
    assert list(failed["after"]) == ['{"username": "ghost", "reason": "unknown"}']
    future = NOW.replace(year=2100)
    assert audit_log(session=session, actor=admin, start=future).empty
    assert len(audit_log(session=session, actor=admin, end=future, limit=2)) == 2
    with pytest.raises(InvalidInput):
        audit_log(session=session, actor=admin, start=future, end=NOW)


# --------------------------------------------------------------------------- demo accounts
def test_seed_demo_demo_users_sets_and_prints_the_demo_passwords(
    seeded_sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main
    from app.db import get_engine
    from app.demo import DEMO_ACCOUNTS

    args = ["--database-url", seeded_sqlite_url, "seed-demo", "--if-empty", "--demo-users"]
    assert main(args) == 0
    out = capsys.readouterr().out
    for username, (role, password) in DEMO_ACCOUNTS.items():
        assert re.search(rf"{username}\s+{role}\s+{password}", out)
    with Session(get_engine(seeded_sqlite_url)) as session:
        for username, (role, password) in DEMO_ACCOUNTS.items():
            actor = authenticate(session=session, username=username, password=password)
            assert actor.role == Role(role)
        admin = actor_of(session.exec(select(User).where(User.username == "admin")).one())
        reset_password(session=session, actor=admin, user_id=admin.user_id, password="changed pw 1")

    # Again: harmless, and the changed password is neither reset nor printed.
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "admin-demo-2026" not in out and "manager-demo-2026" in out
    with Session(get_engine(seeded_sqlite_url)) as session:
        authenticate(session=session, username="admin", password="changed pw 1")
