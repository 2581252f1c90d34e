"""Row counts and a checksum of every table: "the database is unchanged" in one value."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import app.models  # noqa: F401 - registers every table in the metadata


def fingerprint(engine: Engine) -> dict[str, tuple[int, str]]:
    """Table name → (row count, SHA-256 of its rows in primary-key order)."""
    result: dict[str, tuple[int, str]] = {}
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            columns = sorted(table.columns, key=lambda column: column.name)
            order = list(table.primary_key.columns) or columns
            digest = hashlib.sha256()
            count = connection.execute(select(func.count()).select_from(table)).scalar_one()
            for row in connection.execute(select(*columns).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
            result[table.name] = (count, digest.hexdigest())
    return result
