"""Schema upgrades keep every row; downgrades run only when they lose no user data.

The fixture is a database created by the first migration ("0001") and filled with the
demo rows that fit its tables, then upgraded through whatever 0002.. head contain.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

import app.db
from app.backup import Snapshot, copy_database_rows, snapshot_database
from app.cli import main
from app.db import create_raw_engine, dispose_engines, get_engine, head_revision, migrate
from app.services.access import Actor
from app.services.care import create_interaction
from tests.conftest import _pg_admin_url

FIRST = "0001"


def _admin_url() -> str:
    admin_url = _pg_admin_url()
    if admin_url is None:
        pytest.skip("PostgreSQL not available (run through `make test`)")
    return admin_url


def _create_pg_database(template: str | None = None) -> tuple[str, Callable[[], None]]:
    admin_url = _admin_url()
    name = f"crm_up_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        suffix = f' TEMPLATE "{template}"' if template else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{suffix}'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


@dataclass(frozen=True)
class FirstRevision:
    """A database at 0001 filled once per module, to copy for each test."""

    kind: str
    location: str  # SQLite file path or PostgreSQL database name
    tables: dict[str, set[str]]  # the 0001 tables and their columns
    snapshot: Snapshot  # counts and checksums of those tables before any upgrade


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def first_revision_template(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    seeded_sqlite_template: Path,
) -> Iterator[FirstRevision]:
    """The demo rows that fit the 0001 tables, in a database created at 0001."""
    drop = None
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("first") / "first.db"
        url, location = f"sqlite:///{path}", str(path)
    else:
        url, drop = _create_pg_database()
        location = make_url(url).database
    engine = create_raw_engine(url)
    migrate(engine, FIRST)
    source = create_engine(f"sqlite:///file:{seeded_sqlite_template}?mode=ro&uri=true")
    with source.connect() as reading, engine.begin() as writing:
        copied = copy_database_rows(reading, writing)
    source.dispose()
    engine.dispose()
    assert copied > 10_000
    tables = _schema(url)
    yield FirstRevision(request.param, location, tables, snapshot_database(url, only=tables))
    dispose_engines()
    if drop is not None:
        drop()


@pytest.fixture
def first_revision(
    first_revision_template: FirstRevision, tmp_path: Path
) -> Iterator[tuple[str, FirstRevision]]:
    """(URL of a fresh copy of the 0001 database, what it holds)."""
    template = first_revision_template
    drop = None
    if template.kind == "sqlite":
        path = tmp_path / "old.db"
        shutil.copyfile(template.location, path)
        url = f"sqlite:///{path}"
    else:
        url, drop = _create_pg_database(template.location)
    yield url, template
    dispose_engines()
    if drop is not None:
        drop()


def _schema(url: str) -> dict[str, set[str]]:
    engine = create_raw_engine(url)
    try:
        inspector = inspect(engine)
        return {
            name: {column["name"] for column in inspector.get_columns(name)}
            for name in inspector.get_table_names()
            if name != "alembic_version"
        }
    finally:
        engine.dispose()


def _cli(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--database-url", url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_upgrade_from_the_first_revision_keeps_every_row(
    first_revision: tuple[str, FirstRevision], capsys: pytest.CaptureFixture[str]
) -> None:
    url, old = first_revision
    assert old.snapshot.revision == FIRST
    assert old.snapshot.tables["customer"].rows == 2_000
    assert old.snapshot.tables["order_line"].rows > 10_000

    code, out, err = _cli(capsys, url, "migrate")
    assert code == 0, err
    after = snapshot_database(url, only=old.tables)
    assert after.revision == head_revision()
    assert after.tables == old.snapshot.tables  # every row of every 0001 table, as it was


def test_safe_downgrade_runs_and_upgrading_again_keeps_every_row(
    first_revision: tuple[str, FirstRevision], capsys: pytest.CaptureFixture[str]
) -> None:
    url, old = first_revision
    get_engine(url)  # the app opens it: upgraded to head
    dispose_engines()
    # Above 0001 only derived or short-lived tables are added (idempotency keys, KPI
    # summaries), so going back to 0001 loses nothing staff entered.
    code, out, err = _cli(capsys, url, "migrate", "--to", FIRST)
    assert code == 0, err
    assert f"to {FIRST}" in out
    assert _schema(url) == old.tables
    assert snapshot_database(url, only=old.tables) == old.snapshot
    code, _, err = _cli(capsys, url, "migrate")
    assert code == 0, err
    assert snapshot_database(url, only=old.tables).tables == old.snapshot.tables


def test_downgrade_that_would_drop_rows_is_refused_and_changes_nothing(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(get_engine(db_url)) as session:
        from tests.unit.factories import make_customer

        customer = make_customer(session)
        create_interaction(
            session=session,
            actor=Actor.system(),
            data={"customer_id": customer.id, "kind": "call", "subject": "Gọi"},
            idempotency_key="form-1",
        )
    dispose_engines()
    # Pretend the idempotency keys were records staff entered: 0002 created their table,
    # so going below 0002 would drop them.
    monkeypatch.setattr(app.db, "DISPOSABLE_TABLES", frozenset())
    before = snapshot_database(db_url)
    code, out, err = _cli(capsys, db_url, "migrate", "--to", FIRST)
    assert code == 2
    assert err.startswith("error: Refusing to downgrade from ")
    assert "table idempotency_key (1 rows)" in err
    assert len(err.strip().splitlines()) == 1
    assert snapshot_database(db_url) == before


@pytest.mark.parametrize("target", ["base", "0"])
def test_downgrade_below_the_first_revision_is_refused(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    before = snapshot_database(sqlite_url)
    code, _, err = _cli(capsys, sqlite_url, "migrate", "--to", target)
    assert code == 2
    assert f"below {FIRST}" in err
    assert snapshot_database(sqlite_url) == before


def test_unknown_target_revision_is_one_clear_line(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _cli(capsys, sqlite_url, "migrate", "--to", "0099")
    assert code == 2
    assert "Unknown schema revision '0099'" in err
    assert snapshot_database(sqlite_url).revision == head_revision()


def test_upgrade_to_an_intermediate_revision_then_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'stepwise.db'}"
    code, out, err = _cli(capsys, url, "migrate", "--to", "0002")
    assert code == 0, err
    assert "from empty to 0002" in out
    code, _, err = _cli(capsys, url, "migrate")
    assert code == 0, err
    assert snapshot_database(url).revision == head_revision()
