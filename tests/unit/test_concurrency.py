"""Concurrent writers on a SQLite file and on PostgreSQL (issue #7).

8 threads, and separately 2 processes, submit interactions and orders through the
services for CRM_CONCURRENCY_SECONDS (default 10 s) each: no caller sees an error, and
the rows in the database are exactly the submits that reported success, each once.
Simultaneous submits of one idempotency key give one row, returned to every caller.
Unit tests of app/retry.py show busy errors are retried and validation errors are not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from app import retry
from app.db import get_engine, session_scope
from app.errors import Conflict, InvalidInput
from app.models import AuditLog, IdempotencyKey, Interaction, Order, OrderLine
from app.retry import DatabaseBusy, retrying, run_unit_of_work
from app.services.care import create_interaction
from app.services.sales import create_order
from tests.unit.concurrency_worker import LINES_PER_ORDER, Tally, submit_loop
from tests.unit.factories import SYSTEM, make_customer, make_product

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SECONDS = float(os.environ.get("CRM_CONCURRENCY_SECONDS", "10"))
THREADS = 8
PROCESSES = 2


def _prepare(url: str) -> None:
    with Session(get_engine(url), expire_on_commit=False) as session:
        for _ in range(4):
            make_customer(session)
        for _ in range(3):
            make_product(session)


def _merge(tallies: list[Tally]) -> Tally:
    merged = Tally()
    for tally in tallies:
        merged.interactions.update(tally.interactions)
        merged.orders.update(tally.orders)
        merged.errors.extend(tally.errors)
    return merged


def _assert_database_matches(url: str, tally: Tally) -> None:
    """Rows are exactly the successful submits: none missing, none extra, none twice."""
    assert tally.errors == []
    assert tally.interactions and tally.orders, "the writers made no progress at all"
    with session_scope(url) as session:
        interactions = dict(session.exec(select(Interaction.subject, Interaction.id)).all())
        orders = dict(session.exec(select(Order.notes, Order.id)).all())
        lines = Counter(session.exec(select(OrderLine.order_id)).all())
        audited = Counter(
            session.exec(
                select(AuditLog.entity).where(AuditLog.entity.in_(["interaction", "order"]))
            ).all()
        )
        total_interactions = session.exec(select(func.count()).select_from(Interaction)).one()
        total_orders = session.exec(select(func.count()).select_from(Order)).one()
    assert total_interactions == len(tally.interactions)
    assert total_orders == len(tally.orders)
    assert interactions == tally.interactions
    assert orders == tally.orders
    assert set(lines) == set(tally.orders.values())
    assert set(lines.values()) == {LINES_PER_ORDER}
    assert audited == {"interaction": len(tally.interactions), "order": len(tally.orders)}


# --------------------------------------------------------------------------- concurrent writers
def test_eight_threads_submit_without_errors_and_every_success_is_one_row(db_url: str) -> None:
    _prepare(db_url)
    with ThreadPoolExecutor(THREADS) as pool:
        futures = [
            pool.submit(submit_loop, db_url, SECONDS, f"t{number}") for number in range(THREADS)
        ]
        tally = _merge([future.result() for future in futures])
    _assert_database_matches(db_url, tally)


def test_two_processes_submit_without_errors_and_every_success_is_one_row(db_url: str) -> None:
    _prepare(db_url)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.unit.concurrency_worker", db_url, str(SECONDS), f"p{n}"],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    # Bounded: workers that hang are killed, and the test fails on their missing output.
    watchdog = threading.Timer(SECONDS + 180, lambda: [worker.kill() for worker in workers])
    watchdog.start()
    try:
        # Both processes have imported the app and opened the database before either
        # starts writing, so they really overlap.
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready", worker.stderr.read()
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        tallies = []
        for worker in workers:
            out, err = worker.communicate()
            assert worker.returncode == 0, err
            tallies.append(Tally(**json.loads(out.strip().splitlines()[-1])))
    finally:
        watchdog.cancel()
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    _assert_database_matches(db_url, _merge(tallies))


def test_simultaneous_submits_of_one_key_give_one_row_returned_to_everyone(db_url: str) -> None:
    _prepare(db_url)
    with session_scope(db_url) as session:
        customer_id = make_customer(session).id
        product_id = make_product(session).id
    rounds = 6
    barrier = threading.Barrier(THREADS)

    def submit(round_no: int, kind: str) -> int:
        key = f"form:{kind}:{round_no}"
        barrier.wait()  # every thread sends the same key at the same moment
        with session_scope(db_url) as session:
            if kind == "interaction":
                data = {"customer_id": customer_id, "kind": "call", "subject": key}
                return create_interaction(
                    session=session, actor=SYSTEM, data=data, idempotency_key=key
                ).id
            line = {
                "product_id": product_id,
                "quantity": Decimal(1),
                "unit_price": Decimal(5),
                "unit_cost": Decimal(3),
            }
            data = {"customer_id": customer_id, "notes": key, "lines": [line]}
            return create_order(session=session, actor=SYSTEM, data=data, idempotency_key=key).id

    with ThreadPoolExecutor(THREADS) as pool:
        for round_no in range(rounds):
            for kind in ("interaction", "order"):
                ids = list(pool.map(submit, [round_no] * THREADS, [kind] * THREADS))
                assert len(set(ids)) == 1, f"{kind} round {round_no} returned {ids}"
    with session_scope(db_url) as session:
        assert session.exec(select(func.count()).select_from(Interaction)).one() == rounds
        assert session.exec(select(func.count()).select_from(Order)).one() == rounds
        assert session.exec(select(func.count()).select_from(OrderLine)).one() == rounds
        assert session.exec(select(func.count()).select_from(IdempotencyKey)).one() == 2 * rounds
        created = session.exec(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.entity.in_(["interaction", "order"]))
        ).one()
        assert created == 2 * rounds


# --------------------------------------------------------------------------- the retry policy
class _Orig(Exception):
    def __init__(self, text: str, sqlstate: str | None = None):
        super().__init__(text)
        self.sqlstate = sqlstate


def _locked() -> OperationalError:
    return OperationalError("INSERT ...", {}, _Orig("database is locked"))


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real pauses between attempts."""
    monkeypatch.setattr(retry.time, "sleep", lambda _seconds: None)


def test_busy_errors_are_retried_in_a_clean_session(
    fast_retries: None, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = []
    with session_scope(sqlite_url) as session:
        rollbacks = []
        monkeypatch.setattr(session, "rollback", lambda: rollbacks.append(1))

        def work() -> str:
            attempts.append(1)
            if len(attempts) < 3:
                raise _locked()
            return "saved"

        assert run_unit_of_work(session, work) == "saved"
    assert len(attempts) == 3
    assert len(rollbacks) == 2  # each retry starts after a rollback


@pytest.mark.parametrize("sqlstate", ["40001", "40P01"])
def test_postgresql_serialization_failures_and_deadlocks_are_retried(
    fast_retries: None, sqlite_url: str, sqlstate: str
) -> None:
    attempts = []

    def work() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise OperationalError("UPDATE ...", {}, _Orig("could not serialize", sqlstate))
        return "saved"

    with session_scope(sqlite_url) as session:
        assert run_unit_of_work(session, work) == "saved"
    assert len(attempts) == 2


def test_a_database_busy_for_too_long_gives_one_clear_message(
    fast_retries: None, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = iter(range(0, 10_000, 5))
    monkeypatch.setattr(retry.time, "monotonic", lambda: float(next(clock)))

    def work() -> None:
        raise _locked()

    with session_scope(sqlite_url) as session, pytest.raises(DatabaseBusy) as caught:
        run_unit_of_work(session, work)
    assert str(caught.value) == "The database is busy; please try again."


def test_validation_errors_are_not_retried(fast_retries: None, sqlite_url: str) -> None:
    attempts = []

    @retrying
    def service(*, session: Session) -> None:
        attempts.append(1)
        raise InvalidInput({"subject": "must not be empty"})

    with session_scope(sqlite_url) as session, pytest.raises(InvalidInput):
        service(session=session)
    assert attempts == [1]


def test_a_lasting_integrity_error_ends_as_conflict(fast_retries: None, sqlite_url: str) -> None:
    attempts = []

    @retrying
    def service(*, session: Session) -> None:
        attempts.append(1)
        raise IntegrityError("INSERT ...", {}, _Orig("UNIQUE constraint failed"))

    with session_scope(sqlite_url) as session, pytest.raises(Conflict):
        service(session=session)
    assert len(attempts) == retry.INTEGRITY_ATTEMPTS


def test_nested_services_retry_only_the_outer_unit(fast_retries: None, sqlite_url: str) -> None:
    inner_calls, outer_calls = [], []

    @retrying
    def inner(*, session: Session) -> None:
        inner_calls.append(1)
        if len(inner_calls) == 1:
            raise _locked()

    @retrying
    def outer(*, session: Session) -> str:
        outer_calls.append(1)
        inner(session=session)
        return "saved"

    with session_scope(sqlite_url) as session:
        assert outer(session=session) == "saved"
    assert (len(outer_calls), len(inner_calls)) == (2, 2)


def _lock_first_commit(session: Session, monkeypatch: pytest.MonkeyPatch) -> list:
    """Make the session's next commit fail with "database is locked" once; the returned
    list is empty once that has happened."""
    real_commit = session.commit
    failures = [_locked()]

    def flaky_commit() -> None:
        if failures:
            raise failures.pop()
        real_commit()

    monkeypatch.setattr(session, "commit", flaky_commit)
    return failures


def test_the_interaction_service_retries_a_locked_database(
    fast_retries: None, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(sqlite_url) as session:
        customer_id = make_customer(session).id
        failures = _lock_first_commit(session, monkeypatch)
        row = create_interaction(
            session=session,
            actor=SYSTEM,
            data={"customer_id": customer_id, "kind": "call", "subject": "retried"},
        )
        monkeypatch.undo()
        assert not failures  # the locked commit happened
        assert session.exec(select(func.count()).select_from(Interaction)).one() == 1
        assert session.get(Interaction, row.id).subject == "retried"


def _import_one_customer(session: Session) -> None:
    from app.transfer import import_rows

    import_rows(
        session=session,
        actor=SYSTEM,
        entity="customers",
        headers=["code", "name", "kind"],
        rows=[["KHRETRY1", "Retried import", "person"]],
    )


def _add_staff_user(session: Session) -> None:
    from app.auth import hash_password
    from app.models import Role, User

    password_hash = hash_password("pw-123456")
    session.add(
        User(username="retry", display_name="Retry", role=Role.staff, password_hash=password_hash)
    )
    session.commit()


def _sign_in(session: Session) -> None:
    from app.auth import authenticate

    authenticate(session=session, username="retry", password="pw-123456")


def _sign_out(session: Session) -> None:
    from app.auth import sign_out

    sign_out(session=session, user_id=None, username="retry")


def _save_setting(session: Session) -> None:
    from app.settings import set_setting

    set_setting(session=session, key="churn_window_days", value=120)


@pytest.mark.parametrize(
    ("setup", "write", "check"),
    [
        (None, _import_one_customer, "SELECT count(*) FROM customer WHERE code = 'KHRETRY1'"),
        (_add_staff_user, _sign_in, "SELECT count(*) FROM audit_log WHERE action = 'sign_in'"),
        (None, _sign_out, "SELECT count(*) FROM audit_log WHERE action = 'sign_out'"),
        (None, _save_setting, "SELECT count(*) FROM setting WHERE key = 'churn_window_days'"),
    ],
    ids=["import", "sign_in", "sign_out", "setting"],
)
def test_imports_sign_in_and_settings_retry_a_locked_database(
    fast_retries: None,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    setup: Callable[[Session], None] | None,
    write: Callable[[Session], None],
    check: str,
) -> None:
    # The write's commit first meets "database is locked" (another writer): the user
    # sees no error, and the write is stored once.
    with session_scope(sqlite_url) as session:
        if setup is not None:
            setup(session)
        failures = _lock_first_commit(session, monkeypatch)
        write(session)
        monkeypatch.undo()
        assert not failures  # the locked commit happened, and the write was run again
        assert session.connection().exec_driver_sql(check).scalar() == 1
