"""Engine factory keyed by database URL, schema migrations, and short-lived sessions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, inspect
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlmodel import Session, create_engine

from app import config
from app.errors import DatabaseUnavailable

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _set_sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    cursor = dbapi_connection.cursor()
    # WAL lets the dashboards read while staff write; NORMAL is durable under WAL
    # except for the last transactions on power loss, and halves commit time.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_raw_engine(url: str) -> Engine:
    """A new engine for the URL, with SQLite pragmas set, without touching the schema."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 10},
        )
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise DatabaseUnavailable(
            f"The database URL {parsed.render_as_string(hide_password=True)} names a database "
            f"driver that is not installed or not supported: {exc}"
        ) from exc


def parse_url(url: str) -> URL:
    """The parsed URL, or DatabaseUnavailable with a readable message."""
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailable(
            "The database URL is not valid; expected e.g. sqlite:///data/crm.db or "
            "postgresql+psycopg://user@host/db."
        ) from exc


def alembic_config(url: str):  # noqa: ANN201 - alembic.config.Config
    """Alembic configuration pointing at our migrations and the given URL."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema of the engine's database to the given revision."""
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def get_engine(url: str | None = None, *, prepare_schema: bool = True) -> Engine:
    """The shared engine for the URL (default from config); migrates the schema once."""
    url = url or config.database_url()
    with _engines_lock:
        engine = _engines.get(url)
        if engine is not None:
            return engine
        parsed = parse_url(url)
        if parsed.get_backend_name() == "sqlite" and config.is_default_database(url):
            Path(parsed.database or "").parent.mkdir(parents=True, exist_ok=True)
        engine = create_raw_engine(url)
        if prepare_schema:
            try:
                migrate(engine)
            except OperationalError as exc:
                engine.dispose()
                raise DatabaseUnavailable(
                    f"Cannot open the database at {parsed.render_as_string(hide_password=True)}:"
                    f" {exc.orig}"
                ) from exc
        _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every cached engine (tests and shutdown)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A short-lived session on the shared engine for the URL."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        yield session


def table_names(engine: Engine) -> list[str]:
    """Names of the tables present in the database."""
    return sorted(inspect(engine).get_table_names())
