"""Retrying a write service when the database is momentarily busy or a race was lost.

Every write service runs as one unit of work: check rights, validate, read, write,
commit. Two things can make a correct unit of work fail only because another writer
was there at the same moment:

- the database is busy: SQLite's "database is locked" (after its own busy_timeout),
  PostgreSQL's serialization failures, deadlocks and lock timeouts, a dropped pooled
  connection. The whole unit is rolled back and run again after a short, jittered,
  growing pause, for at most ``RETRY_SECONDS``; then the user gets ``DatabaseBusy``
  ("The database is busy; please try again.") instead of a traceback.
- a uniqueness race: two submits read "code DH000042 is free" or "idempotency key
  unused" and both insert; the loser's insert fails with an IntegrityError. Running the
  unit again re-reads, so the loser now takes the next code, or finds the winner's row
  through the idempotency key and returns it. After ``INTEGRITY_ATTEMPTS`` attempts the
  error is a ``Conflict``, as before.

Validation, permission and not-found errors are never retried: the same input gives the
same answer. Nested write services (a service calling another) retry only at the
outermost level, so a retry always restarts the whole unit of work in a clean session.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.errors import Conflict, DatabaseUnavailable

BUSY_MESSAGE = "The database is busy; please try again."
INTEGRITY_MESSAGE = "The record conflicts with existing data."
# How long one submit keeps trying before the user is told; SQLite also waits up to its
# busy_timeout (10 s, app/db.py) inside each attempt before reporting "locked".
RETRY_SECONDS = 20.0
# A lost uniqueness race resolves on the next attempt unless many writers race for the
# same next code; a real duplicate is caught by the service's own check on attempt two.
INTEGRITY_ATTEMPTS = 8
FIRST_PAUSE = 0.005
MAX_PAUSE = 0.5

# PostgreSQL SQLSTATEs worth retrying: serialization_failure, deadlock_detected,
# lock_not_available, and the admin/crash shutdowns a pooled connection may meet.
_PG_TRANSIENT = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03"}
_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "database is busy")
_ACTIVE = "crm_retry_active"

P = ParamSpec("P")
R = TypeVar("R")


class DatabaseBusy(DatabaseUnavailable):
    """The database stayed busy for longer than one submit may wait."""


def is_transient(exc: BaseException) -> bool:
    """Whether the error means "another writer was busy": the same work may succeed now."""
    if not isinstance(exc, DBAPIError) or isinstance(exc, IntegrityError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in _PG_TRANSIENT:
        return True
    if isinstance(exc, OperationalError):
        text = str(orig).lower()
        return any(marker in text for marker in _SQLITE_TRANSIENT)
    return False


def is_lost_race(exc: BaseException) -> bool:
    """An integrity error, raw or already turned into Conflict by commit_or_conflict."""
    return isinstance(exc, IntegrityError) or (
        isinstance(exc, Conflict) and isinstance(exc.__cause__, IntegrityError)
    )


def _pause(attempt: int) -> float:
    # Full jitter: writers that collided do not all come back at the same moment.
    return random.uniform(0, min(MAX_PAUSE, FIRST_PAUSE * 2**attempt))


def _rollback(session: Session) -> None:
    try:
        session.rollback()
    except DBAPIError:
        # A connection that died mid-transaction cannot roll back; closing the session
        # returns it to the pool, which discards it, and the next attempt gets a new one.
        session.close()


def run_unit_of_work(session: Session, work: Callable[[], R]) -> R:
    """Run ``work`` (one whole unit of work on ``session``), retrying busy and race errors."""
    if session.info.get(_ACTIVE):
        return work()  # an outer service retries the whole unit
    session.info[_ACTIVE] = True
    try:
        deadline = time.monotonic() + RETRY_SECONDS
        busy_attempts = race_attempts = 0
        while True:
            try:
                return work()
            except Exception as exc:
                if is_transient(exc):
                    _rollback(session)
                    busy_attempts += 1
                    if time.monotonic() >= deadline:
                        raise DatabaseBusy(BUSY_MESSAGE) from exc
                    time.sleep(_pause(busy_attempts))
                    continue
                if is_lost_race(exc):
                    _rollback(session)
                    race_attempts += 1
                    if race_attempts < INTEGRITY_ATTEMPTS and time.monotonic() < deadline:
                        time.sleep(_pause(race_attempts))
                        continue
                    if isinstance(exc, Conflict):
                        raise
                    raise Conflict(INTEGRITY_MESSAGE) from exc
                raise
    finally:
        session.info.pop(_ACTIVE, None)


def retrying(service: Callable[P, R]) -> Callable[P, R]:
    """Decorate a keyword-only write service taking ``session=`` with ``run_unit_of_work``."""

    @functools.wraps(service)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        session: Any = kwargs.get("session")
        if not isinstance(session, Session):
            return service(*args, **kwargs)
        return run_unit_of_work(session, lambda: service(*args, **kwargs))

    return wrapper
