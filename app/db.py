"""Engine factory keyed by database URL, schema migrations, and short-lived sessions."""

from __future__ import annotations

import functools
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Connection, event, inspect, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from app import config
from app.errors import CRMError, DatabaseUnavailable

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_HEADER = b"SQLite format 3\x00"
# Tables whose rows a downgrade may drop: they hold no record staff entered. The
# idempotency keys only guard against a retried submit of the last moments (0002);
# the KPI summary tables (kpi_*, 0004) are rebuilt from sales_order.
DISPOSABLE_TABLES = frozenset({"idempotency_key"})
DISPOSABLE_PREFIXES = ("kpi_",)

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


class UnsafeDowngrade(CRMError):
    """A downgrade would drop rows staff entered, or leave no schema at all."""


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


def one_line(message: object) -> str:
    """The message on one line (driver errors span several), for stderr and the page."""
    return " ".join(str(message).split())


def _cannot_open(parsed: URL, reason: object) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"Cannot open the database at {parsed.render_as_string(hide_password=True)}: "
        f"{one_line(reason)}"
    )


# --------------------------------------------------------------------------- revisions
def alembic_config(url: str):  # noqa: ANN201 - alembic.config.Config
    """Alembic configuration pointing at our migrations and the given URL."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@functools.cache
def known_revisions() -> tuple[str, ...]:
    """Every revision this code knows, oldest first (the chain is linear)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return tuple(reversed([rev.revision for rev in script.walk_revisions()]))


def head_revision() -> str:
    """The newest revision this code knows."""
    return known_revisions()[-1]


def newer_schema_message(revision: str) -> str:
    """What a user sees for a database or backup made by a newer version of the app."""
    return (
        f"This database was created by a newer version of the CRM (schema {revision}); "
        f"this version knows up to {head_revision()}. Upgrade the app."
    )


def database_revision(connection: Connection) -> str | None:
    """The schema revision stored in the database, or None when it has none."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate_connection(connection: Connection, revision: str = "head") -> None:
    """Upgrade (or, for ``-N``/older ids, downgrade) inside the caller's transaction."""
    from alembic import command

    cfg = alembic_config(connection.engine.url.render_as_string(hide_password=False))
    cfg.attributes["connection"] = connection
    current = database_revision(connection)
    if current is not None and revision != "head" and _is_older(revision, current):
        command.downgrade(cfg, revision)
    else:
        command.upgrade(cfg, revision)


def _is_older(revision: str, than: str) -> bool:
    order = ("base", *known_revisions())
    return order.index(revision) < order.index(than)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema of the engine's database to the given revision."""
    with engine.begin() as connection:
        migrate_connection(connection, revision)


# --------------------------------------------------------------------------- checks
def sqlite_path(parsed: URL) -> Path | None:
    """The file of a SQLite URL, or None for an in-memory or URI-style database."""
    database = parsed.database or ""
    if not database or database == ":memory:" or parsed.query.get("uri"):
        return None
    if database.startswith("file:"):
        return None
    return Path(database)


def _read_only(path: Path) -> bool:
    # os.access alone is not enough: root may write anywhere, yet a file or folder with
    # no write bit at all was made read-only on purpose, so treat it as such.
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not os.access(path, os.W_OK) or not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def check_sqlite_file(url: str, *, create: bool = False) -> None:
    """Refuse, without touching anything, a SQLite file that the app must not open.

    A missing folder, a missing file (unless ``create`` or the default database), a file
    that is not a SQLite database, a read-only file or folder, and a SQLite file of
    another application or of a newer schema all raise DatabaseUnavailable.
    """
    parsed = parse_url(url)
    path = sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None
    if path is None:
        return
    if not path.parent.is_dir():
        raise _cannot_open(parsed, f"the folder {path.parent} does not exist")
    if not path.exists():
        if create or config.is_default_database(url):
            if _read_only(path.parent):
                raise _cannot_open(parsed, f"the folder {path.parent} is read-only")
            return
        raise _cannot_open(
            parsed,
            f"the file {path} does not exist (run `python -m app migrate` to create a new "
            "database there)",
        )
    if not path.is_file():
        raise _cannot_open(parsed, f"{path} is not a file")
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise _cannot_open(parsed, exc.strerror or exc) from exc
    if header and header != SQLITE_HEADER:
        raise _cannot_open(parsed, f"the file {path} is not a SQLite database")
    if _read_only(path):
        raise _cannot_open(parsed, f"the file {path} is read-only")
    if _read_only(path.parent):
        raise _cannot_open(
            parsed, f"the folder {path.parent} is read-only (SQLite needs to write beside it)"
        )
    if header:
        _check_sqlite_schema(parsed, path)


def _check_sqlite_schema(parsed: URL, path: Path) -> None:
    # A plain connection that only reads: the app's engine would switch the file to WAL
    # (a write) before we know whether the file is ours. Without a -wal file beside it
    # (nobody has it open), read-only and "immutable" create no -wal or -shm file. With
    # one (open elsewhere, or left by a crash), SQLite may have to recover the WAL, which
    # needs write access: that is SQLite's own upkeep, not a change to the data.
    options = "mode=rw" if Path(f"{path}-wal").exists() else "mode=ro&immutable=1"
    try:
        connection = sqlite3.connect(f"file:{quote(str(path))}?{options}", uri=True, timeout=10)
        try:
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            revision = None
            if "alembic_version" in tables:
                revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise _cannot_open(parsed, exc) from exc
    _check_revision(parsed, tables, revision[0] if revision else None)


def _check_revision(parsed: URL, tables: set[str], revision: str | None) -> None:
    user_tables = {name for name in tables if not name.startswith("sqlite_")}
    if revision is None and user_tables - {"alembic_version"}:
        raise _cannot_open(
            parsed,
            "it holds tables of another application (no CRM schema version); point "
            "CRM_DATABASE_URL at a CRM database or an empty one",
        )
    if revision is not None and revision not in known_revisions():
        raise DatabaseUnavailable(newer_schema_message(revision))


def check_schema(engine: Engine) -> None:
    """Refuse a database of another application or of a newer schema (reads only)."""
    parsed = engine.url
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            revision = database_revision(connection) if "alembic_version" in tables else None
    except SQLAlchemyError as exc:
        raise _cannot_open(parsed, getattr(exc, "orig", None) or exc) from exc
    _check_revision(parsed, tables, revision)


def open_engine(url: str, *, create: bool = False) -> Engine:
    """A new engine on a database that passed every check, not migrated, not cached."""
    check_sqlite_file(url, create=create)
    engine = create_raw_engine(url)
    if parse_url(url).get_backend_name() != "sqlite":
        try:
            check_schema(engine)
        except DatabaseUnavailable:
            engine.dispose()
            raise
    return engine


def get_engine(
    url: str | None = None, *, prepare_schema: bool = True, create: bool = False
) -> Engine:
    """The shared engine for the URL (default from config); migrates the schema once.

    Never creates a SQLite file except the default ``data/crm.db`` or with ``create``
    (``python -m app migrate``), and never writes to a foreign or newer database.
    """
    url = url or config.database_url()
    with _engines_lock:
        engine = _engines.get(url)
        if engine is not None:
            return engine
        parsed = parse_url(url)
        if parsed.get_backend_name() == "sqlite" and config.is_default_database(url):
            Path(parsed.database or "").parent.mkdir(parents=True, exist_ok=True)
        engine = open_engine(url, create=create)
        if prepare_schema:
            try:
                migrate(engine)
            except OperationalError as exc:
                engine.dispose()
                raise _cannot_open(parsed, exc.orig) from exc
        _engines[url] = engine
        return engine


def forget_engine(url: str) -> None:
    """Close and drop the cached engine of one URL (after a restore replaced the data)."""
    with _engines_lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


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


# --------------------------------------------------------------------------- downgrade
@functools.cache
def _schema_at(revision: str) -> dict[str, frozenset[str]]:
    """{table: columns} of the schema at a revision, built in a scratch database."""
    scratch = create_engine("sqlite://", poolclass=StaticPool)
    try:
        if revision != "base":
            migrate(scratch, revision)
        inspector = inspect(scratch)
        return {
            name: frozenset(column["name"] for column in inspector.get_columns(name))
            for name in inspector.get_table_names()
            if name != "alembic_version"
        }
    finally:
        scratch.dispose()


def is_disposable_table(table: str) -> bool:
    """Whether a table holds only derived or short-lived rows, never a user's record."""
    return table in DISPOSABLE_TABLES or table.startswith(DISPOSABLE_PREFIXES)


def downgrade_losses(connection: Connection, target: str) -> list[str]:
    """What going from the current revision down to ``target`` would drop, as phrases."""
    current = database_revision(connection)
    if current is None:
        return []
    now, then = _schema_at(current), _schema_at(target)
    losses: list[str] = []
    for table, columns in sorted(now.items()):
        if is_disposable_table(table):
            continue
        quoted = connection.dialect.identifier_preparer.quote(table)
        if table not in then:
            rows = connection.execute(text(f"SELECT COUNT(*) FROM {quoted}")).scalar_one()  # noqa: S608 - names come from the schema, not from input
            if rows:
                losses.append(f"table {table} ({rows:,} rows)")
            continue
        for column in sorted(columns - then[table]):
            name = connection.dialect.identifier_preparer.quote(column)
            values = connection.execute(
                text(f"SELECT COUNT({name}) FROM {quoted}")  # noqa: S608 - schema names
            ).scalar_one()
            if values:
                losses.append(f"column {table}.{column} ({values:,} values)")
    return losses


def migrate_to(engine: Engine, target: str) -> tuple[str | None, str]:
    """Upgrade or downgrade to ``target``; refuse a downgrade that would lose data.

    Returns (revision before, revision after). Raises UnsafeDowngrade with what would be
    lost, and InvalidInput-like CRMError for a revision this code does not know.
    """
    if target == "head":
        target = head_revision()
    if target in {"base", "0"} or target not in known_revisions():
        if target in {"base", "0"}:
            raise UnsafeDowngrade(
                f"Refusing to downgrade below {known_revisions()[0]}: that would drop every "
                "table. To start over, use a new database file or restore a backup."
            )
        raise CRMError(
            f"Unknown schema revision {target!r}; this version knows "
            f"{', '.join(known_revisions())}."
        )
    with engine.begin() as connection:
        before = database_revision(connection)
        if before is not None and _is_older(target, before):
            losses = downgrade_losses(connection, target)
            if losses:
                raise UnsafeDowngrade(
                    f"Refusing to downgrade from {before} to {target}: it would drop "
                    f"{'; '.join(losses)}. Nothing was changed; to run an older version, "
                    "restore a backup taken before the upgrade into a new database."
                )
        migrate_connection(connection, target)
        return before, database_revision(connection) or target
