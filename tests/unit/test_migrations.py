"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import app.models  # noqa: F401
from app.db import create_raw_engine, get_engine, migrate


def test_upgrade_from_empty_to_head_matches_models(db_url: str) -> None:
    engine = get_engine(db_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
        assert differences == []
        assert context.get_current_revision() is not None
    assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())


def test_migrate_on_a_brand_new_sqlite_file_and_again_is_idempotent(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    engine = create_raw_engine(url)
    migrate(engine)
    migrate(engine)  # a second run is a no-op, not an error
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"customer", "sales_order", "order_line", "alembic_version"} <= names


def test_sqlite_pragmas_are_set(sqlite_url: str) -> None:
    engine = get_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
