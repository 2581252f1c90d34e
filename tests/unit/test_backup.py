"""Backup and restore: an online backup taken while staff write restores row for row.

Checksums are computed from the backup file itself (never from the live database, which
kept changing), then from the restored database, and must agree table by table.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.backup import (
    BackupError,
    backup,
    pg_tool,
    restore,
    snapshot_backup,
    snapshot_database,
)
from app.cli import main
from app.db import dispose_engines, get_engine
from app.models import Customer, Interaction, Order
from app.services.access import Actor
from app.services.care import create_interaction
from app.services.sales import create_order
from tests.conftest import fresh_pg_database
from tests.unit.factories import make_customer, make_product

SYSTEM = Actor.system()
# Writes the writer thread makes before the backup starts, so the backup is "during".
WRITES_BEFORE_BACKUP = 5


@dataclass
class CliResult:
    """Exit code and output of one in-process ``python -m app`` run."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(capsys: pytest.CaptureFixture[str], *args: str, url: str) -> CliResult:
    """Run the CLI's ``main`` in this process (a subprocess would add seconds per call).

    An exception escaping ``main`` would be the traceback a user sees, so it fails here.
    """
    capsys.readouterr()
    code = main(["--database-url", url, *args])
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


@pytest.fixture
def empty_target(
    request: pytest.FixtureRequest, db_url: str, tmp_path: Path
) -> Iterator[Callable[[], str]]:
    """A factory of fresh, empty databases of the same kind as ``db_url``."""
    drops: list[Callable[[], None]] = []

    def make() -> str:
        if db_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / f'restored-{uuid.uuid4().hex[:6]}.db'}"
        url, drop = fresh_pg_database(request.getfixturevalue("pg_template"))
        drops.append(drop)
        return url

    yield make
    dispose_engines()
    for drop in drops:
        drop()


def _fill(url: str) -> tuple[int, int]:
    """A few customers, a product and one order; returns (customer id, product id)."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        customers = [make_customer(session) for _ in range(3)]
        # A customer referred by a later one: restore must cope with the forward link.
        customers[0].referred_by_id = customers[2].id
        session.add(customers[0])
        session.commit()
        product = make_product(session)
        _order(session, customers[1].id, product.id, 1)
        return customers[1].id, product.id


def _order(session: Session, customer_id: int, product_id: int, number: int) -> None:
    create_order(
        session=session,
        actor=SYSTEM,
        data={
            "customer_id": customer_id,
            "ordered_at": dt.datetime(2026, 6, 1, 3, tzinfo=dt.UTC) + dt.timedelta(hours=number),
            "lines": [
                {
                    "product_id": product_id,
                    "quantity": Decimal("2.5"),
                    "unit_price": Decimal("120000.50"),
                    "unit_cost": Decimal("80000"),
                }
            ],
        },
    )


class Writer(threading.Thread):
    """Staff writing through the services until told to stop."""

    def __init__(self, url: str, customer_id: int, product_id: int) -> None:
        super().__init__(daemon=True)
        self.url, self.customer_id, self.product_id = url, customer_id, product_id
        self.stop = threading.Event()
        self.started_writing = threading.Event()
        self.done = 0
        self.errors: list[BaseException] = []

    def run(self) -> None:
        while not self.stop.is_set() and self.done < 2_000:
            try:
                with Session(get_engine(self.url)) as session:
                    create_interaction(
                        session=session,
                        actor=SYSTEM,
                        data={
                            "customer_id": self.customer_id,
                            "kind": "call",
                            "subject": f"Gọi lần {self.done} <b>&</b>",
                            "notes": "ghi chú " * 20,
                        },
                    )
                    _order(session, self.customer_id, self.product_id, self.done + 2)
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                self.errors.append(exc)
                return
            self.done += 1
            if self.done >= WRITES_BEFORE_BACKUP:
                self.started_writing.set()


def _count(url: str, model: type) -> int:
    with Session(get_engine(url)) as session:
        return len(session.exec(select(model.id)).all())


def test_backup_during_writes_restores_every_row(
    db_url: str, empty_target: Callable[[], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    customer_id, product_id = _fill(db_url)
    writer = Writer(db_url, customer_id, product_id)
    writer.start()
    assert writer.started_writing.wait(60), writer.errors
    file = tmp_path / "crm-backup.bin"
    result = run_cli(capsys, "backup", str(file), url=db_url)
    writes_after_backup = writer.done
    # Let the writer go on a little, so the live database moves past the backup.
    while writer.done < writes_after_backup + 3 and not writer.errors and writer.is_alive():
        writer.join(0.05)
    writer.stop.set()
    writer.join(60)
    assert not writer.errors
    assert result.returncode == 0, result.stderr
    assert "Backed up" in result.stdout

    backed_up = snapshot_backup(file)
    # Written from one snapshot: every order the backup holds has its interaction, and it
    # holds at least the writes made before it started and not those made after it ended.
    interactions = backed_up.tables["interaction"].rows
    assert WRITES_BEFORE_BACKUP <= interactions <= writes_after_backup
    # Each writer round is an interaction then an order: the snapshot may fall between.
    assert backed_up.tables["sales_order"].rows - 1 in {interactions - 1, interactions}
    assert backed_up.tables["order_line"].rows == backed_up.tables["sales_order"].rows
    assert _count(db_url, Interaction) > interactions

    target = empty_target()
    restored = run_cli(capsys, "restore", str(file), url=target)
    assert restored.returncode == 0, restored.stderr
    after = snapshot_database(target)
    assert after.revision == backed_up.revision
    assert set(after.tables) == set(backed_up.tables)
    for name, summary in backed_up.tables.items():
        assert after.tables[name] == summary, name
    # The portable copy of the restored database holds the same rows again.
    portable = tmp_path / "again.zip"
    assert backup(target, portable).snapshot.tables == backed_up.tables
    assert snapshot_backup(portable).tables == backed_up.tables


def test_restore_refuses_a_non_empty_database_unless_forced(
    db_url: str, empty_target: Callable[[], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(db_url)
    file = tmp_path / "one.zip"
    backup(db_url, file)
    target = empty_target()
    with Session(get_engine(target, create=True)) as session:
        make_customer(session, name="Khách hàng đã có")
    dispose_engines()  # SQLite: checkpoint the WAL, so the file alone holds the data
    before = snapshot_database(target)
    sqlite_file = Path(target.removeprefix("sqlite:///")) if target.startswith("sqlite") else None
    content = sqlite_file.read_bytes() if sqlite_file else None

    refused = run_cli(capsys, "restore", str(file), url=target)
    assert refused.returncode == 2
    assert "not empty" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert snapshot_database(target) == before
    if sqlite_file:
        assert sqlite_file.read_bytes() == content
        assert sorted(p.name for p in sqlite_file.parent.iterdir() if "restored" in p.name) == [
            sqlite_file.name
        ]

    forced = run_cli(capsys, "restore", "--force", str(file), url=target)
    assert forced.returncode == 0, forced.stderr
    assert snapshot_database(target).tables == snapshot_backup(file).tables
    # New rows get fresh ids after the restore (PostgreSQL's sequences were moved on).
    with Session(get_engine(target)) as session:
        names = set(session.exec(select(Customer.name)).all())
        assert "Khách hàng đã có" not in names
        restored_ids = session.exec(select(Customer.id)).all()
        newest = make_customer(session)
        assert newest.id > max(restored_ids)
        assert len(session.exec(select(Order.id)).all()) == 1


def test_restore_refuses_a_backup_of_a_newer_schema(
    db_url: str, empty_target: Callable[[], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(db_url)
    portable = tmp_path / "new.zip"
    backup(db_url, portable)
    newer = tmp_path / "newer.zip"
    with zipfile.ZipFile(portable) as source, zipfile.ZipFile(newer, "w") as target_zip:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "manifest.json":
                manifest = json.loads(data)
                manifest["revision"] = "9999"
                data = json.dumps(manifest).encode()
            target_zip.writestr(item, data)
    target = empty_target()
    get_engine(target, create=True)
    before = snapshot_database(target)
    result = run_cli(capsys, "restore", "--force", str(newer), url=target)
    assert result.returncode == 2
    assert "newer version of the CRM (schema 9999)" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot_database(target) == before


def test_sqlite_backup_is_a_plain_sqlite_file_and_restores_into_postgresql(
    sqlite_url: str, pg_url: str, tmp_path: Path
) -> None:
    _fill(sqlite_url)
    file = tmp_path / "backup.db"
    made = backup(sqlite_url, file)
    assert made.kind == "sqlite"
    with sqlite3.connect(file) as connection:  # any SQLite tool opens it
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert connection.execute("SELECT COUNT(*) FROM customer").fetchone()[0] == 3
    restore(pg_url, file)
    assert snapshot_database(pg_url).tables == snapshot_backup(file).tables


def test_sqlite_backup_with_a_newer_schema_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    _fill(sqlite_url)
    file = tmp_path / "backup.db"
    backup(sqlite_url, file)
    with sqlite3.connect(file) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    target = f"sqlite:///{tmp_path / 'target.db'}"
    with pytest.raises(BackupError, match="newer version"):
        restore(target, file)
    assert not (tmp_path / "target.db").exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"name,phone\nAn,0901\n", "not a CRM backup"), (b"\x89PNG\r\n\x1a\n" + bytes(64), "not a")],
)
def test_restore_of_a_file_that_is_not_a_backup_is_one_clear_line(
    sqlite_url: str,
    tmp_path: Path,
    content: bytes,
    expected: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    file = tmp_path / "not-a-backup"
    file.write_bytes(content)
    result = run_cli(capsys, "restore", str(file), url=sqlite_url)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_backup_onto_the_database_itself_is_refused(sqlite_url: str) -> None:
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    with pytest.raises(BackupError, match="the database itself"):
        backup(sqlite_url, database)
    with pytest.raises(BackupError, match="the database itself"):
        restore(sqlite_url, database, force=True)


def test_backup_into_a_missing_folder_is_one_clear_line(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, "backup", str(tmp_path / "missing" / "b.db"), url=sqlite_url)
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_pg_dump_format_backs_up_and_restores(
    pg_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if pg_tool("pg_dump") is None:
        pytest.skip("pg_dump not installed")
    _fill(pg_url)
    expected = snapshot_database(pg_url)  # nobody writes here, so the live DB is the backup
    file = tmp_path / "crm.dump"
    made = backup(pg_url, file, fmt="pg-dump")
    assert made.kind == "pg-dump" and file.read_bytes().startswith(b"PGDMP")
    url, drop = fresh_pg_database(request.getfixturevalue("pg_template"))
    try:
        restore(url, file)
        assert snapshot_database(url) == expected
        with pytest.raises(BackupError, match="not empty"):
            restore(url, file)
        with Session(get_engine(url)) as session:  # sequences came back with the rows
            assert make_customer(session).id > 3
    finally:
        dispose_engines()
        drop()
