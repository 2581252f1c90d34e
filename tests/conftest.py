"""Shared fixtures: fresh migrated databases on SQLite files and on a real PostgreSQL.

``make test`` starts a throwaway PostgreSQL cluster and exports ``CRM_TEST_PG_URL``;
with ``CRM_REQUIRE_PG=1`` (set by ``make test``) a missing server is an error, not a skip.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from app.db import create_raw_engine, dispose_engines, get_engine, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# A fixed "today" for seeded fixtures, so tests do not depend on the calendar.
DEMO_TODAY = dt.date(2026, 6, 15)
DEMO_SEED = 7


def _pg_admin_url() -> str | None:
    url = os.environ.get("CRM_TEST_PG_URL", "").strip()
    if not url:
        if os.environ.get("CRM_REQUIRE_PG") == "1":
            raise RuntimeError("CRM_REQUIRE_PG=1 but CRM_TEST_PG_URL is not set")
        return None
    return url


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite file that tests copy instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_raw_engine(_sqlite_url(path))
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    """Name of a migrated, empty PostgreSQL template database (None without a server)."""
    admin_url = _pg_admin_url()
    if admin_url is None:
        yield None
        return
    name = f"crm_tpl_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_raw_engine(
        make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    )
    migrate(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fresh_pg_database(template: str) -> tuple[str, callable]:
    """Create a database from the template; return its URL and a function dropping it."""
    admin_url = _pg_admin_url()
    assert admin_url is not None
    name = f"crm_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """URL of a fresh, migrated, empty SQLite file database."""
    path = tmp_path / "crm.db"
    shutil.copyfile(sqlite_template, path)
    yield _sqlite_url(path)
    dispose_engines()


@pytest.fixture
def pg_url(pg_template: str | None) -> Iterator[str]:
    """URL of a fresh, migrated, empty PostgreSQL database."""
    if pg_template is None:
        pytest.skip("PostgreSQL not available (run through `make test`)")
    url, drop = fresh_pg_database(pg_template)
    yield url
    dispose_engines()
    drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh empty database, once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue({"sqlite": "sqlite_url", "postgresql": "pg_url"}[request.param])


@pytest.fixture
def engine(db_url: str) -> Engine:
    """The shared engine for the fresh database of ``db_url``."""
    return get_engine(db_url)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the fresh database of ``db_url``."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture(scope="session")
def seeded_sqlite_template(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A SQLite file with the small demo dataset, generated once per test session."""
    from app.demo import seed_demo

    path = tmp_path_factory.mktemp("seeded") / "seeded.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_raw_engine(_sqlite_url(path))
    seed_demo(engine=engine, scale="small", seed=DEMO_SEED, today=DEMO_TODAY)
    engine.dispose()
    return path


@pytest.fixture
def seeded_sqlite_url(tmp_path: Path, seeded_sqlite_template: Path) -> Iterator[str]:
    """URL of a fresh copy of the seeded small demo database."""
    path = tmp_path / "seeded.db"
    shutil.copyfile(seeded_sqlite_template, path)
    yield _sqlite_url(path)
    dispose_engines()
