"""Online backup and restore of the whole database, with row counts and checksums.

Two formats:

- ``sqlite``: a copy of a SQLite database made with SQLite's backup API, which reads one
  consistent snapshot while others keep writing (WAL). The copy is a self-contained
  SQLite file (journal mode DELETE) that opens with any SQLite tool.
- ``portable``: a zip of ``manifest.json`` (schema revision, row count and checksum per
  table) and one JSON-lines file per table. On PostgreSQL every table is read in ONE
  REPEATABLE READ transaction, so the export is a consistent snapshot too. It restores
  into SQLite or PostgreSQL alike, and does not depend on the ``pg_dump`` version
  matching the server's (a newer server makes an older pg_dump refuse), which is why it
  is the default for PostgreSQL.

A checksum is the sum (mod 2**256) of the SHA-256 of each row's canonical JSON, so it
does not depend on the order the database returns rows in, nor on the backend.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import uuid
import zipfile
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import Column, Connection, MetaData, Table, create_engine, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import app.models  # noqa: F401  (registers every table on SQLModel.metadata)
from app.db import (
    SQLITE_HEADER,
    check_sqlite_file,
    create_raw_engine,
    database_revision,
    forget_engine,
    head_revision,
    is_disposable_table,
    known_revisions,
    migrate,
    migrate_connection,
    one_line,
    open_engine,
    parse_url,
    sqlite_path,
)
from app.errors import CRMError, DatabaseUnavailable

FORMAT_NAME = "crm-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH_ROWS = 2_000
ZIP_MAGIC = b"PK\x03\x04"
VERSION_TABLE = "alembic_version"
FORMATS = ("auto", "sqlite", "portable", "pg-dump")


class BackupError(CRMError):
    """A backup cannot be made or restored; the message says why and what to do."""


@dataclass(frozen=True)
class TableSummary:
    """Row count and order-independent checksum of one table."""

    rows: int
    checksum: str


@dataclass(frozen=True)
class Snapshot:
    """What a database or a backup holds: schema revision and a summary per table."""

    revision: str | None
    tables: dict[str, TableSummary] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        """Rows in every table together."""
        return sum(summary.rows for summary in self.tables.values())


@dataclass(frozen=True)
class BackupResult:
    """A finished backup: file, format and what it holds."""

    path: Path
    kind: str
    snapshot: Snapshot


@dataclass(frozen=True)
class RestoreResult:
    """A finished restore: the backup's revision, the revision now, rows written."""

    kind: str
    backup_revision: str
    revision: str
    rows: int


# --------------------------------------------------------------------------- values
def encode_value(value: Any) -> Any:
    """A JSON value for a column value, the same for SQLite and PostgreSQL."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Decimal):
        # normalize() makes 12.50 (PostgreSQL) and 12.5 (SQLite) the same text.
        return format(value.normalize(), "f")
    if isinstance(value, dt.datetime):
        if value.utcoffset() is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return value
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return str(value)


def _base_type(type_: TypeEngine) -> TypeEngine:
    return type_.impl_instance if isinstance(type_, TypeDecorator) else type_


def decode_value(type_: TypeEngine, value: Any) -> Any:
    """The Python value to insert into a column of ``type_`` for an encoded value."""
    if value is None:
        return None
    base = _base_type(type_)
    if isinstance(base, sa.DateTime) and isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value)
        if parsed.tzinfo is None and getattr(base, "timezone", False):
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed
    if isinstance(base, sa.Date) and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if isinstance(base, sa.Numeric) and not isinstance(base, sa.Float):
        return Decimal(str(value))
    if isinstance(base, sa.LargeBinary) and isinstance(value, str):
        return bytes.fromhex(value)
    return value


Converter = Callable[[Any], Any] | None


def _passes_through(type_: TypeEngine) -> bool:
    # Values of these types are already JSON values (str, int, bool, float, dict, list).
    base = _base_type(type_)
    plain = (sa.Integer, sa.String, sa.Boolean, sa.Float, sa.JSON)
    undecorated = base is type_ or isinstance(type_, AutoString)
    return isinstance(base, plain) and not isinstance(base, sa.Enum) and undecorated


def _encoder(type_: TypeEngine) -> Converter:
    """encode_value, or None where a column's values need no conversion (speed)."""
    return None if _passes_through(type_) else encode_value


def _decoder(type_: TypeEngine) -> Converter:
    """decode_value for one column type, or None where values are inserted as they are."""
    base = _base_type(type_)
    if isinstance(base, sa.DateTime | sa.Date | sa.LargeBinary) or (
        isinstance(base, sa.Numeric) and not isinstance(base, sa.Float)
    ):
        return lambda value: decode_value(type_, value)
    return None


def _row_digest(row: list[Any]) -> int:
    line = json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return int.from_bytes(hashlib.sha256(line.encode("utf-8")).digest(), "big")


class _Checksum:
    def __init__(self) -> None:
        self.rows = 0
        self.total = 0

    def add(self, row: list[Any]) -> None:
        self.rows += 1
        self.total = (self.total + _row_digest(row)) % (1 << 256)

    def summary(self) -> TableSummary:
        return TableSummary(rows=self.rows, checksum=f"{self.total:064x}")


# --------------------------------------------------------------------------- reading
def _typed_table(reflected: Table, metadata: MetaData) -> Table:
    """The reflected table with the app's column types where the models know them.

    The app's types turn stored values into the same Python values on both backends
    (UTC datetimes, scaled decimals, JSON); enums stay plain strings.
    """
    known = SQLModel.metadata.tables.get(reflected.name)
    columns = []
    for column in reflected.columns:
        type_ = column.type
        if known is not None and column.name in known.c:
            known_type = known.c[column.name].type
            if not isinstance(known_type, sa.Enum):
                type_ = known_type
        columns.append(Column(column.name, type_, primary_key=column.primary_key))
    # Columns pointing at the same table (customer.referred_by_id): restore sets them last.
    self_refs = sorted(
        {fk.parent.name for fk in reflected.foreign_keys if fk.references(reflected)}
    )
    return Table(reflected.name, metadata, *columns, info={"self_refs": self_refs})


def _data_tables(connection: Connection) -> list[Table]:
    """Every table of the database except alembic's, parents before children."""
    reflected = MetaData()
    reflected.reflect(connection)
    typed = MetaData()
    return [
        _typed_table(table, typed)
        for table in reflected.sorted_tables
        if table.name != VERSION_TABLE and not table.name.startswith("sqlite_")
    ]


def _table_rows(connection: Connection, table: Table) -> Iterator[list[Any]]:
    order = list(table.primary_key.columns) or list(table.columns)
    result = connection.execution_options(yield_per=BATCH_ROWS).execute(
        select(table).order_by(*order)
    )
    encoders = [_encoder(column.type) for column in table.columns]
    for row in result:
        yield [
            value if encode is None or value is None else encode(value)
            for value, encode in zip(row, encoders, strict=True)
        ]


def _only_columns(table: Table, columns: Collection[str]) -> Table:
    kept = [
        Column(column.name, column.type, primary_key=column.primary_key)
        for column in table.columns
        if column.name in columns
    ]
    return Table(table.name, MetaData(), *kept)


def _snapshot_connection(
    connection: Connection, only: Mapping[str, Collection[str]] | None = None
) -> Snapshot:
    tables: dict[str, TableSummary] = {}
    for table in _data_tables(connection):
        if only is not None:
            if table.name not in only:
                continue
            table = _only_columns(table, only[table.name])
        checksum = _Checksum()
        for row in _table_rows(connection, table):
            checksum.add(row)
        tables[table.name] = checksum.summary()
    return Snapshot(revision=database_revision(connection), tables=tables)


def _read_only_sqlite_engine(path: Path) -> Engine:
    # Plain engine, read-only URI: the app's engine would switch the file to WAL. Without
    # a -wal file (nobody has it open) "immutable" also creates no -wal/-shm beside it.
    options = "mode=ro" if Path(f"{path}-wal").exists() else "mode=ro&immutable=1"
    return create_engine(f"sqlite:///file:{quote(str(path))}?{options}&uri=true")


def snapshot_database(url: str, *, only: Mapping[str, Collection[str]] | None = None) -> Snapshot:
    """Row counts and checksums of every table of a live database, in one transaction.

    ``only`` ({table: columns}) restricts the summary to those tables and columns, e.g.
    to compare the tables of an old schema before and after an upgrade added columns.
    """
    engine = open_engine(url)
    try:
        with _snapshot_connection_for(engine) as connection:
            return _snapshot_connection(connection, only)
    finally:
        engine.dispose()


def _snapshot_connection_for(engine: Engine):  # noqa: ANN202 - a context manager
    if engine.dialect.name == "postgresql":
        return engine.connect().execution_options(isolation_level="REPEATABLE READ")
    return engine.connect()


def snapshot_backup(path: str | Path) -> Snapshot:
    """Row counts and checksums computed from a backup file itself."""
    source = _open_source(Path(path))
    try:
        tables: dict[str, TableSummary] = {}
        for name in source.tables:
            checksum = _Checksum()
            for row in source.rows(name):
                checksum.add(row)
            tables[name] = checksum.summary()
        return Snapshot(revision=source.revision, tables=tables)
    finally:
        source.close()


# --------------------------------------------------------------------------- backup
def backup(url: str, target: str | Path, *, fmt: str = "auto") -> BackupResult:
    """Write a consistent backup of the database at ``url`` to ``target``.

    ``fmt``: ``auto`` (a SQLite file for SQLite unless ``target`` ends in ``.zip``, else
    the portable zip), ``sqlite``, ``portable`` or ``pg-dump`` (PostgreSQL's own custom
    format, when a ``pg_dump`` of the server's version is installed). The file appears
    only when complete (written aside, then renamed).
    """
    if fmt not in FORMATS:
        raise BackupError(f"Unknown backup format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    target = Path(target)
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    if target.is_dir():
        raise BackupError(f"{target} is a folder; give a file name for the backup.")
    backend = parse_url(url).get_backend_name()
    _refuse_same_file(url, target)
    kind = fmt
    if fmt == "auto":
        kind = "sqlite" if backend == "sqlite" and target.suffix != ".zip" else "portable"
    if kind == "sqlite" and backend != "sqlite":
        raise BackupError("The sqlite format needs a SQLite database; use --format portable.")
    if kind == "pg-dump" and backend != "postgresql":
        raise BackupError("The pg-dump format needs a PostgreSQL database; use --format portable.")
    part = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        if kind == "sqlite":
            snapshot = _backup_sqlite(url, part)
        elif kind == "pg-dump":
            snapshot = _backup_pg_dump(url, part)
        else:
            snapshot = _backup_portable(url, part)
        os.replace(part, target)
    except SQLAlchemyError as exc:
        raise BackupError(f"The backup failed: {one_line(getattr(exc, 'orig', exc))}") from exc
    except sqlite3.Error as exc:
        raise BackupError(f"The backup failed: {one_line(exc)}") from exc
    except OSError as exc:
        raise BackupError(f"Cannot write the backup {target}: {exc.strerror or exc}") from exc
    finally:
        part.unlink(missing_ok=True)
    return BackupResult(path=target, kind=kind, snapshot=snapshot)


def pg_tool(name: str) -> str | None:
    """``pg_dump``/``pg_restore`` on PATH, else the newest under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0,
    )
    return str(candidates[-1]) if candidates else None


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URL without the password, and the environment carrying it."""
    parsed = parse_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run_pg_tool(name: str, args: list[str], url: str | None = None) -> str:
    tool = pg_tool(name)
    if tool is None:
        raise BackupError(f"{name} is not installed; use the portable format instead.")
    env = dict(os.environ)
    if url is not None:
        target, env = _libpq(url)
        args = [*args, f"--dbname={target}"]
    result = subprocess.run(  # noqa: S603 - fixed tool, arguments are not shell-parsed
        [tool, *args], capture_output=True, text=True, env=env, check=False
    )
    if result.returncode != 0:
        reason = one_line(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "")
        raise BackupError(
            f"{name} failed: {reason} (a {name} older than the server refuses to run; "
            "the portable format does not depend on it)."
        )
    return result.stdout


def _backup_pg_dump(url: str, part: Path) -> Snapshot:
    engine = open_engine(url)
    try:
        with engine.connect() as connection:
            revision = database_revision(connection)
    finally:
        engine.dispose()
    # pg_dump itself reads one consistent snapshot (a single REPEATABLE READ transaction).
    _run_pg_tool(
        "pg_dump", ["--format=custom", "--no-owner", "--no-privileges", f"--file={part}"], url
    )
    return Snapshot(revision=revision)


def _pg_dump_revision(path: Path) -> str | None:
    script = _run_pg_tool(
        "pg_restore", ["--data-only", "--table=alembic_version", "--file=-", str(path)]
    )
    lines = script.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line:
            value = lines[index + 1] if index + 1 < len(lines) else "\\."
            return None if value == "\\." else value.strip()
    return None


def _pg_dump_tables(path: Path) -> set[str]:
    listing = _run_pg_tool("pg_restore", ["--list", str(path)])
    tables = set()
    for line in listing.splitlines():
        parts = line.split()
        # "215; 1259 16390 TABLE public customer postgres"
        if len(parts) >= 6 and parts[3] == "TABLE" and not line.startswith(";"):
            tables.add(parts[5])
    return tables


def _restore_pg_dump(url: str, path: Path, *, force: bool) -> RestoreResult:
    if parse_url(url).get_backend_name() != "postgresql":
        raise BackupError("A pg_dump archive restores only into PostgreSQL.")
    revision = _pg_dump_revision(path)
    if revision is None or revision not in known_revisions():
        raise BackupError(
            f"This backup was made by a newer version of the CRM (schema {revision}); "
            f"this version knows up to {head_revision()}. Upgrade the app."
        )
    engine = open_engine(url)
    try:
        with engine.begin() as connection:
            if not force:
                _refuse_if_not_empty(connection, url)
            existing = MetaData()
            existing.reflect(connection)
            # Tables the archive does not have (a newer schema here) would block the
            # upgrade afterwards; pg_restore --clean replaces the others atomically.
            archived = _pg_dump_tables(path)
            extra = [table for table in existing.sorted_tables if table.name not in archived]
            for table in reversed(extra):
                table.drop(connection)
        _run_pg_tool(
            "pg_restore",
            [
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                str(path),
            ],
            url,
        )
        migrate(engine)
        with engine.connect() as connection:
            rows = sum(
                connection.execute(select(func.count()).select_from(table)).scalar_one()
                for table in _data_tables(connection)
            )
    finally:
        engine.dispose()
    forget_engine(url)
    return RestoreResult(
        kind="pg-dump", backup_revision=revision, revision=head_revision(), rows=rows
    )


def _refuse_same_file(url: str, file: Path) -> None:
    parsed = parse_url(url)
    database = sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None
    if database is not None and database.resolve() == file.resolve():
        raise BackupError(f"{file} is the database itself; choose another file.")


def _backup_sqlite(url: str, part: Path) -> Snapshot:
    open_engine(url).dispose()  # refuses foreign, newer and unreadable files first
    source_path = sqlite_path(parse_url(url))
    if source_path is None:
        raise BackupError("An in-memory database cannot be backed up.")
    source = sqlite3.connect(source_path, timeout=10)
    destination = sqlite3.connect(part)
    try:
        # pages=-1 (the default) copies the whole database in one step, under one read
        # transaction: a consistent snapshot while other connections keep writing.
        source.backup(destination)
        destination.execute("PRAGMA journal_mode=DELETE")
    finally:
        destination.close()
        source.close()
    engine = _read_only_sqlite_engine(part)
    try:
        with engine.connect() as connection:
            return _snapshot_connection(connection)
    finally:
        engine.dispose()


def _backup_portable(url: str, part: Path) -> Snapshot:
    engine = open_engine(url)
    try:
        with _snapshot_connection_for(engine) as connection, connection.begin():
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            revision = database_revision(connection)
            summaries: dict[str, TableSummary] = {}
            columns: dict[str, list[str]] = {}
            with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for table in _data_tables(connection):
                    checksum = _Checksum()
                    with archive.open(f"tables/{table.name}.jsonl", "w") as handle:
                        for row in _table_rows(connection, table):
                            checksum.add(row)
                            line = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
                            handle.write(line.encode("utf-8") + b"\n")
                    summaries[table.name] = checksum.summary()
                    columns[table.name] = [column.name for column in table.columns]
                manifest = {
                    "format": FORMAT_NAME,
                    "format_version": FORMAT_VERSION,
                    "created_at": dt.datetime.now(dt.UTC).isoformat(),
                    "source_dialect": engine.dialect.name,
                    "revision": revision,
                    "order": list(summaries),
                    "tables": {
                        name: {
                            "columns": columns[name],
                            "rows": summary.rows,
                            "checksum": summary.checksum,
                        }
                        for name, summary in summaries.items()
                    },
                }
                archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
    finally:
        engine.dispose()
    return Snapshot(revision=revision, tables=summaries)


# --------------------------------------------------------------------------- sources
class _Source(Protocol):
    kind: str
    revision: str | None
    tables: list[str]

    def columns(self, name: str) -> list[str]: ...

    def rows(self, name: str) -> Iterator[list[Any]]: ...

    def close(self) -> None: ...


class _ZipSource:
    kind = "portable"

    def __init__(self, path: Path) -> None:
        try:
            self.archive = zipfile.ZipFile(path)
            manifest = json.loads(self.archive.read(MANIFEST))
        except (zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise BackupError(f"{path} is not a CRM backup (no readable manifest).") from exc
        if manifest.get("format") != FORMAT_NAME:
            raise BackupError(f"{path} is not a CRM backup.")
        if manifest.get("format_version", 0) > FORMAT_VERSION:
            raise BackupError(
                f"{path} was written by a newer version of the CRM (backup format "
                f"{manifest.get('format_version')}). Upgrade the app."
            )
        self.manifest = manifest
        self.revision = manifest.get("revision")
        self.tables = list(manifest["order"])

    def columns(self, name: str) -> list[str]:
        return list(self.manifest["tables"][name]["columns"])

    def rows(self, name: str) -> Iterator[list[Any]]:
        with self.archive.open(f"tables/{name}.jsonl") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)

    def close(self) -> None:
        self.archive.close()


class _ConnectionSource:
    kind = "database"

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.revision = database_revision(connection)
        self._tables = {table.name: table for table in _data_tables(connection)}
        self.tables = list(self._tables)

    def columns(self, name: str) -> list[str]:
        return [column.name for column in self._tables[name].columns]

    def rows(self, name: str) -> Iterator[list[Any]]:
        return _table_rows(self.connection, self._tables[name])

    def close(self) -> None:
        pass


class _SqliteSource:
    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.engine = _read_only_sqlite_engine(path)
        try:
            self.connection = self.engine.connect()
            self.connection.begin()
            self.revision = database_revision(self.connection)
            self._tables = {table.name: table for table in _data_tables(self.connection)}
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise BackupError(f"Cannot read the backup {path}: {one_line(exc.orig)}") from exc
        if self.revision is None:
            self.close()
            raise BackupError(f"{path} is a SQLite file but not a CRM backup (no schema version).")
        self.tables = list(self._tables)

    def columns(self, name: str) -> list[str]:
        return [column.name for column in self._tables[name].columns]

    def rows(self, name: str) -> Iterator[list[Any]]:
        return _table_rows(self.connection, self._tables[name])

    def count_rows(self) -> int:
        return sum(
            self.connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in self._tables.values()
        )

    def close(self) -> None:
        self.connection.close()
        self.engine.dispose()


def _is_pg_dump(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(5) == b"PGDMP"
    except OSError:
        return False


def _open_source(path: Path) -> _Source:
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except FileNotFoundError:
        raise BackupError(f"The backup file {path} does not exist.") from None
    except OSError as exc:
        raise BackupError(f"Cannot read the backup file {path}: {exc.strerror or exc}") from exc
    if head.startswith(ZIP_MAGIC):
        return _ZipSource(path)
    if head == SQLITE_HEADER:
        return _SqliteSource(path)
    raise BackupError(f"{path} is not a CRM backup (neither a SQLite file nor a portable zip).")


# --------------------------------------------------------------------------- restore
def restore(url: str, source_path: str | Path, *, force: bool = False) -> RestoreResult:
    """Replace the contents of the database at ``url`` with a backup.

    Refuses a database that holds rows unless ``force``, a backup of a newer schema and
    a database of another application or a newer schema; then nothing is changed. After
    a restore the schema is at head and PostgreSQL's id sequences follow the rows.
    """
    _refuse_same_file(url, Path(source_path))
    if _is_pg_dump(Path(source_path)):
        return _restore_pg_dump(url, Path(source_path), force=force)
    source = _open_source(Path(source_path))
    try:
        revision = source.revision
        if revision is None or revision not in known_revisions():
            raise BackupError(
                f"This backup was made by a newer version of the CRM (schema {revision}); "
                f"this version knows up to {head_revision()}. Upgrade the app."
            )
        if parse_url(url).get_backend_name() == "sqlite":
            rows = _restore_into_sqlite(url, source, force=force)
        else:
            rows = _restore_into_server(url, source, force=force)
    except SQLAlchemyError as exc:
        raise BackupError(f"The restore failed: {one_line(getattr(exc, 'orig', exc))}") from exc
    except sqlite3.Error as exc:
        raise BackupError(f"The restore failed: {one_line(exc)}") from exc
    except OSError as exc:
        raise BackupError(f"The restore failed: {exc.strerror or exc}") from exc
    finally:
        source.close()
    forget_engine(url)
    return RestoreResult(
        kind=source.kind, backup_revision=revision, revision=head_revision(), rows=rows
    )


def _refuse_if_not_empty(connection: Connection, url: str) -> None:
    # Rows the migrations write themselves (the summaries' state) do not make a
    # database "not empty"; a single user record does.
    for table in _data_tables(connection):
        if is_disposable_table(table.name):
            continue
        if connection.execute(select(func.count()).select_from(table)).scalar_one():
            raise BackupError(
                f"The database at {parse_url(url).render_as_string(hide_password=True)} is not "
                f"empty (table {table.name} has rows); nothing was changed. Add --force to "
                "replace its contents with the backup."
            )


def _restore_into_sqlite(url: str, source: _Source, *, force: bool) -> int:
    check_sqlite_file(url, create=True)
    target = sqlite_path(parse_url(url))
    if target is None:
        raise BackupError("Restore needs a SQLite file, not an in-memory database.")
    if target.exists() and target.stat().st_size and not force:
        engine = _read_only_sqlite_engine(target)
        try:
            with engine.connect() as connection:
                _refuse_if_not_empty(connection, url)
        finally:
            engine.dispose()
    # Build the restored database beside the target, then copy it over in one step with
    # the backup API: a failure half-way leaves the target as it was.
    stage = target.with_name(f".{target.name}.restore-{uuid.uuid4().hex[:8]}")
    try:
        if isinstance(source, _SqliteSource):
            shutil.copyfile(source.path, stage)
            rows = source.count_rows()
            stage_engine = create_raw_engine(f"sqlite:///{stage}")
            migrate(stage_engine)
        else:
            stage_engine = create_raw_engine(f"sqlite:///{stage}")
            migrate(stage_engine, source.revision or "head")
            with stage_engine.begin() as connection:
                rows = _copy_rows(source, connection)
            migrate(stage_engine)
        stage_engine.dispose()
        staged = sqlite3.connect(stage)
        destination = sqlite3.connect(target, timeout=10)
        try:
            staged.backup(destination)
        finally:
            destination.close()
            staged.close()
    finally:
        for leftover in (stage, Path(f"{stage}-wal"), Path(f"{stage}-shm")):
            leftover.unlink(missing_ok=True)
    return rows


def _restore_into_server(url: str, source: _Source, *, force: bool) -> int:
    engine = open_engine(url)
    try:
        # One transaction (PostgreSQL DDL is transactional): all of it or nothing.
        with engine.begin() as connection:
            if not force:
                _refuse_if_not_empty(connection, url)
            existing = MetaData()
            existing.reflect(connection)
            existing.drop_all(connection)
            migrate_connection(connection, source.revision or "head")
            rows = _copy_rows(source, connection)
            migrate_connection(connection, "head")
    finally:
        engine.dispose()
    return rows


@contextmanager
def _triggers_suspended(connection: Connection, tables: list[Table]) -> Iterator[None]:
    """Keep triggers (e.g. the KPI summaries' on sales_order) from firing while restoring.

    The backup already holds what they would write; letting them run would count every
    order twice. SQLite cannot disable a trigger, so its triggers are dropped and created
    again from their stored SQL; PostgreSQL disables the tables' own triggers.
    """
    if connection.dialect.name == "sqlite":
        saved = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL"
        ).all()
        for name, _ in saved:
            connection.exec_driver_sql(f'DROP TRIGGER "{name}"')  # noqa: S608 - trigger names read from sqlite_master
        yield
        for _, sql in saved:
            connection.exec_driver_sql(sql)
        return
    names = [connection.dialect.identifier_preparer.quote(table.name) for table in tables]
    for name in names:
        connection.exec_driver_sql(f"ALTER TABLE {name} DISABLE TRIGGER USER")  # noqa: S608 - quoted table names from the metadata
    yield
    for name in names:
        connection.exec_driver_sql(f"ALTER TABLE {name} ENABLE TRIGGER USER")  # noqa: S608 - quoted table names from the metadata


def copy_database_rows(source: Connection, target: Connection) -> int:
    """Copy the rows of ``source`` into ``target``'s tables, keeping ``target``'s columns.

    Tables and columns ``target`` lacks are left out: this fills a database at an older
    schema revision from a newer one (the schema-upgrade tests use it).
    """
    return _copy_rows(_ConnectionSource(source), target, lenient=True)


def _copy_rows(source: _Source, connection: Connection, *, lenient: bool = False) -> int:
    """Replace every row of the connection's tables with the source's rows."""
    tables = _data_tables(connection)
    with _triggers_suspended(connection, tables):
        # Migrations may have written rows (e.g. the summaries' state): start empty.
        for table in reversed(tables):
            connection.execute(table.delete())
        written = _insert_rows(source, connection, tables, lenient=lenient)
    if connection.dialect.name == "postgresql":
        _reset_sequences(connection, tables)
    return written


def _insert_rows(
    source: _Source, connection: Connection, tables: list[Table], *, lenient: bool
) -> int:
    targets = {table.name: table for table in tables}
    extra = [name for name in source.tables if name not in targets]
    if extra and not lenient:
        raise BackupError(f"The backup holds tables this schema does not have: {', '.join(extra)}.")
    written = 0
    for name, table in targets.items():
        if name not in source.tables:
            continue
        columns = source.columns(name)
        missing = [column for column in columns if column not in table.c]
        if missing and not lenient:
            raise BackupError(f"The backup's table {name} has unknown columns: {missing}.")
        self_refs: list[str] = table.info["self_refs"]
        primary = [column.name for column in table.primary_key.columns]
        deferred: list[dict[str, Any]] = []
        batch: list[dict[str, Any]] = []
        # (position in the source row, column name, converter) of the columns kept.
        plan = [
            (index, column, _decoder(table.c[column].type))
            for index, column in enumerate(columns)
            if column in table.c
        ]
        for row in source.rows(name):
            values = {
                column: row[index] if decode is None or row[index] is None else decode(row[index])
                for index, column, decode in plan
            }
            # A row may point at a later row of its own table (a customer referred by a
            # newer one): insert it without the link, set the link once all rows exist.
            for column in self_refs:
                if values.get(column) is not None:
                    deferred.append(
                        {**{f"pk_{key}": values[key] for key in primary}, "link": values[column]}
                        | {"column": column}
                    )
                    values[column] = None
            batch.append(values)
            if len(batch) >= BATCH_ROWS:
                connection.execute(table.insert(), batch)
                written += len(batch)
                batch = []
        if batch:
            connection.execute(table.insert(), batch)
            written += len(batch)
        for column in self_refs:
            updates = [item for item in deferred if item["column"] == column]
            if not updates:
                continue
            statement = (
                table.update()
                .where(*[table.c[key] == sa.bindparam(f"pk_{key}") for key in primary])
                .values({column: sa.bindparam("link")})
            )
            connection.execute(
                statement, [{k: v for k, v in item.items() if k != "column"} for item in updates]
            )
    return written


def _reset_sequences(connection: Connection, tables: list[Table]) -> None:
    # Restored rows carry their ids; move each serial sequence past the largest one.
    # Bound parameters only, as in app/demo.py.
    for table in tables:
        for column in table.primary_key.columns:
            if not isinstance(_base_type(column.type), sa.Integer):
                continue
            next_id = (
                connection.execute(select(func.coalesce(func.max(column), 0))).scalar_one() + 1
            )
            sequence = func.pg_get_serial_sequence(table.name, column.name)
            connection.execute(select(func.setval(sequence, next_id, False)))


def describe_database_error(exc: Exception) -> str:
    """One line for a database error raised outside the checks (CLI fallback)."""
    if isinstance(exc, DatabaseUnavailable | CRMError):
        return one_line(exc)
    return one_line(getattr(exc, "orig", None) or exc)
