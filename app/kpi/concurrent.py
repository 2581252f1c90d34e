"""Independent reads on several database connections at once.

A dashboard page needs many independent aggregations (the Overview: 30 KPIs with their
comparison, 8 sparklines, the trend). SQLite runs a query without holding Python's GIL
and PostgreSQL runs it in its own server process, so spreading them over a few threads,
each with its own connection, uses every core of the machine: measured at the medium
demo scale on this 2-core machine, the Overview's reads took 1.6 s one after another and
0.97 s on four threads (docs/performance.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

T = TypeVar("T")

# More threads than this gain nothing on the machines we measured and only hold
# connections that writers may want.
MAX_WORKERS = 8


def query_workers() -> int:
    """Threads a page may use for its reads: ``CRM_QUERY_WORKERS``, else one per core
    (at least 2, at most 4); 1 turns concurrent reads off."""
    default = min(4, max(2, os.cpu_count() or 1))
    raw = os.environ.get("CRM_QUERY_WORKERS", "").strip()
    if not raw.isascii() or not raw.isdigit():
        return default
    return min(MAX_WORKERS, max(1, int(raw)))


def reads_concurrently(engine: Engine) -> bool:
    """Whether several connections see the same data: PostgreSQL, or a SQLite file (an
    in-memory SQLite database is private to its connection)."""
    if engine.dialect.name != "sqlite":
        return True
    database = engine.url.database
    return bool(database) and database != ":memory:" and not engine.url.query.get("uri")


def run_concurrently(
    engine: Engine,
    tasks: Sequence[Callable[[Session], T]],
    *,
    workers: int | None = None,
) -> list[T]:
    """Each task's result, in order; every worker thread reads through its own Session.

    Tasks must only read. They run one after another in one Session when the database
    cannot be shared between connections or one worker is asked for. The first
    exception a task raises is raised here, after the other tasks have finished.
    """
    count = query_workers() if workers is None else workers
    count = min(count, len(tasks))
    if count <= 1 or not reads_concurrently(engine):
        with Session(engine) as session:
            return [task(session) for task in tasks]

    def run(task: Callable[[Session], T]) -> T:
        # A Session per task: Sessions are not thread-safe, and the pool hands the
        # thread's connection back afterwards, so this costs no new connection.
        with Session(engine) as session:
            return task(session)

    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="crm-read") as pool:
        futures = [pool.submit(run, task) for task in tasks]
    return [future.result() for future in futures]
