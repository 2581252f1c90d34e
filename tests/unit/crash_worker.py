"""A write that tests/unit/test_crash_recovery.py kills with SIGKILL while it is writing.

``python -m tests.unit.crash_worker URL TABLE PAUSE_AT import ENTITY FILE`` runs the
real ``python -m app import ENTITY FILE``; ``... merge SURVIVOR DUPLICATE`` runs the
merge service. A SQLAlchemy hook (in this test helper only, nothing in the app) watches
the statements: at the first INSERT or UPDATE on TABLE it prints ``writing``; at the
PAUSE_AT-th one it prints ``paused`` and blocks, so the kill lands inside the write
transaction, after some of its statements ran and before its commit. PAUSE_AT 0 never
pauses: the kill then lands wherever the write happens to be.
"""

from __future__ import annotations

import re
import sys
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


def watch(table: str, pause_at: int) -> None:
    """Announce the first write on ``table``; block for ever at the ``pause_at``-th."""
    pattern = re.compile(rf"^\s*(INSERT INTO|UPDATE)\s+\"?{re.escape(table)}\b", re.IGNORECASE)
    seen = 0

    def after_execute(*args: Any) -> None:
        nonlocal seen
        statement = args[2]
        if not pattern.match(statement):
            return
        seen += 1
        if seen == 1:
            print("writing", flush=True)
        if seen == pause_at:
            print("paused", flush=True)
            threading.Event().wait()  # until the test's SIGKILL

    event.listen(Engine, "after_cursor_execute", after_execute)


def main(argv: list[str]) -> int:
    """Entry point (see the module docstring)."""
    url, table, pause_at, mode, *rest = argv
    watch(table, int(pause_at))
    if mode == "import":
        from app.cli import main as cli_main

        entity, path = rest
        return cli_main(["--database-url", url, "import", entity, path])
    if mode == "merge":
        from app.db import session_scope
        from app.services.access import Actor
        from app.services.merge import merge_customers

        survivor, duplicate = (int(value) for value in rest)
        with session_scope(url) as session:
            merge_customers(
                session=session, actor=Actor.system(), survivor_id=survivor, duplicate_id=duplicate
            )
        print("merged", flush=True)
        return 0
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
