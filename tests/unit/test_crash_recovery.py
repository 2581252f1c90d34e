"""Crash mid-write on a SQLite file and on PostgreSQL (issue #7).

A large import (customers; orders with their lines) and a merge of duplicate customers
run in a subprocess that is killed with SIGKILL while it is writing
(tests/unit/crash_worker.py pauses it inside the write transaction, or lets it run and
the kill lands wherever it is). Afterwards the database opens cleanly (integrity_check,
migrations), and every table is exactly as before: the importer and the merge each
write in one transaction, so none of the file's rows and no half merge survive. No
order line is left without its order, no order without lines.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

import app.models  # noqa: F401 - registers every table in the metadata
from app.db import create_raw_engine, dispose_engines, get_engine
from app.models import (
    Complaint,
    Contact,
    Customer,
    Inquiry,
    Interaction,
    Order,
    OrderLine,
)
from app.services.care import create_complaint, create_interaction
from app.services.customers import create_contact
from app.services.sales import create_inquiry, create_order
from tests.db_fingerprint import fingerprint
from tests.unit.factories import SYSTEM, make_customer, make_product

PROJECT_ROOT = Path(__file__).resolve().parents[2]
IMPORT_CUSTOMERS = 6_000  # above the importer's 5,000-row chunk: two INSERTs
IMPORT_ORDERS = 3_000  # two lines each: 6,000 lines, two INSERT chunks
MERGED_RECORDS = 6  # per kind of record of the duplicate customer
WAIT_SECONDS = 180  # generous bound for the worker to reach the write phase


# --------------------------------------------------------------------------- helpers
def _line(product_id: int) -> dict:
    return {
        "product_id": product_id,
        "quantity": Decimal(2),
        "unit_price": Decimal("150000"),
        "unit_cost": Decimal("90000"),
    }


def _seed(url: str) -> dict[str, list]:
    """A few rows in every table the writes touch, so "unchanged" means something."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        customers = [make_customer(session) for _ in range(3)]
        products = [make_product(session) for _ in range(2)]
        for customer in customers:
            create_interaction(
                session=session,
                actor=SYSTEM,
                data={"customer_id": customer.id, "kind": "call", "subject": "Hỏi giá"},
            )
            create_order(
                session=session,
                actor=SYSTEM,
                data={"customer_id": customer.id, "lines": [_line(products[0].id)]},
            )
    return {"customers": customers, "products": products}


def _run_and_kill(url: str, table: str, pause_at: int, *command: str) -> None:
    """Start the crash worker; SIGKILL it once it paused (or, with pause_at 0, once it
    started writing). A worker that never gets there is killed after WAIT_SECONDS."""
    wanted = "paused" if pause_at else "writing"
    with tempfile.TemporaryFile("w+") as errors:  # a file, so a chatty worker never blocks
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.unit.crash_worker", url, table, str(pause_at), *command],
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        watchdog = threading.Timer(WAIT_SECONDS, worker.kill)
        watchdog.start()
        try:
            lines = []
            for line in worker.stdout:  # ends if the worker exits (or the watchdog fires)
                lines.append(line.strip())
                if line.strip() == wanted:
                    break
            worker.kill()  # SIGKILL: no cleanup, no rollback in the client
            worker.wait()
            errors.seek(0)
            assert wanted in lines, f"worker never reached {wanted!r}: {lines} {errors.read()}"
        finally:
            watchdog.cancel()
            if worker.poll() is None:
                worker.kill()
                worker.wait()
            worker.stdout.close()


def _reopen(url: str) -> Engine:
    """After the kill: the database opens and migrates cleanly, SQLite passes its checks."""
    dispose_engines()
    if url.startswith("sqlite"):
        raw = create_raw_engine(url)
        with raw.connect() as connection:
            assert connection.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
            assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
        raw.dispose()
    engine = get_engine(url)  # runs the migrations: must not fail on the crashed file
    with engine.connect() as connection:
        orphan_lines = connection.execute(
            select(func.count())
            .select_from(OrderLine)
            .where(~OrderLine.order_id.in_(select(Order.id)))
        ).scalar_one()
        orders_without_lines = connection.execute(
            select(func.count()).select_from(Order).where(~Order.id.in_(select(OrderLine.order_id)))
        ).scalar_one()
    assert orphan_lines == 0
    assert orders_without_lines == 0
    return engine


def _customers_file(path: Path, rows: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "name", "kind", "phone", "province", "segment"])
        for number in range(rows):
            writer.writerow(
                [
                    f"NK{number:07d}",
                    f"Công ty Nhập Khẩu {number}",
                    "organisation",
                    f"0912{number:06d}",
                    "Đà Nẵng",
                    "SME",
                ]
            )
    return path


def _orders_file(path: Path, rows: int, customer_code: str, product_codes: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "order_code",
                "customer_code",
                "ordered_at",
                "product_code",
                "quantity",
                "unit_price",
                "unit_cost",
            ]
        )
        for number in range(rows):
            for product_code in product_codes:
                writer.writerow(
                    [
                        f"NK{number:07d}",
                        customer_code,
                        "2026-05-04 09:30",
                        product_code,
                        "3",
                        "120000",
                        "70000",
                    ]
                )
    return path


# --------------------------------------------------------------------------- imports
@pytest.mark.parametrize("pause_at", [1, 0], ids=["paused-mid-insert", "free-running"])
def test_killed_customer_import_leaves_the_database_as_it_was(
    db_url: str, tmp_path: Path, pause_at: int
) -> None:
    _seed(db_url)
    before = fingerprint(get_engine(db_url))
    path = _customers_file(tmp_path / "customers.csv", IMPORT_CUSTOMERS)
    _run_and_kill(db_url, "customer", pause_at, "import", "customers", str(path))
    after = fingerprint(_reopen(db_url))
    if pause_at or after == before:
        assert after == before  # none of the file's rows
        return
    # Free-running, the kill may land after the commit: then every row is there.
    assert after["customer"][0] == before["customer"][0] + IMPORT_CUSTOMERS
    unchanged = {name for name in before if name not in {"customer", "audit_log"}}
    assert {name: after[name] for name in unchanged} == {name: before[name] for name in unchanged}


def test_killed_order_import_leaves_no_order_and_no_orphan_line(
    db_url: str, tmp_path: Path
) -> None:
    seeded = _seed(db_url)
    before = fingerprint(get_engine(db_url))
    path = _orders_file(
        tmp_path / "orders.csv",
        IMPORT_ORDERS,
        seeded["customers"][1].code,
        [product.code for product in seeded["products"]],
    )
    # Paused after the first chunk of lines: every order header and 5,000 lines are
    # written (uncommitted), the worst moment for orphans.
    _run_and_kill(db_url, "order_line", 1, "import", "orders", str(path))
    assert fingerprint(_reopen(db_url)) == before


# --------------------------------------------------------------------------- merge
def _duplicate_pair(url: str) -> tuple[int, int]:
    """A survivor and a duplicate with MERGED_RECORDS records of every kind."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        product = make_product(session)
        survivor = make_customer(session, email=None, province=None)
        duplicate = make_customer(session, name=survivor.name)
        for number in range(MERGED_RECORDS):
            create_contact(
                session=session,
                actor=SYSTEM,
                data={"customer_id": duplicate.id, "name": f"Người liên hệ {number}"},
            )
            create_interaction(
                session=session,
                actor=SYSTEM,
                data={"customer_id": duplicate.id, "kind": "visit", "subject": f"Lần {number}"},
            )
            create_inquiry(
                session=session,
                actor=SYSTEM,
                data={"customer_id": duplicate.id, "need": f"Cần {number}"},
            )
            create_order(
                session=session,
                actor=SYSTEM,
                data={"customer_id": duplicate.id, "lines": [_line(product.id)]},
            )
            create_complaint(
                session=session,
                actor=SYSTEM,
                data={"customer_id": duplicate.id, "category": "Giao hàng"},
            )
    return survivor.id, duplicate.id


def _owned_records(engine: Engine, customer_id: int) -> dict[str, int]:
    with Session(engine) as session:
        return {
            table.__tablename__: session.exec(
                select(func.count()).select_from(table).where(table.customer_id == customer_id)
            ).one()[0]
            for table in (Contact, Interaction, Inquiry, Order, Complaint)
        }


@pytest.mark.parametrize(
    ("table", "pause_at"),
    # Paused at the first UPDATE of customer (re-pointing referrals): every record has
    # been moved to the survivor, uncommitted, and the duplicate is not archived yet.
    [("customer", 1), ("customer", 0)],
    ids=["paused-after-moving-records", "free-running"],
)
def test_killed_merge_is_all_or_nothing(db_url: str, table: str, pause_at: int) -> None:
    survivor_id, duplicate_id = _duplicate_pair(db_url)
    before = fingerprint(get_engine(db_url))
    _run_and_kill(db_url, table, pause_at, "merge", str(survivor_id), str(duplicate_id))
    engine = _reopen(db_url)
    after = fingerprint(engine)
    survivor_records = _owned_records(engine, survivor_id)
    duplicate_records = _owned_records(engine, duplicate_id)
    with Session(engine) as session:
        duplicate_archived = session.get(Customer, duplicate_id).archived
    if pause_at or after == before:
        assert after == before  # not merged at all
        assert duplicate_archived is False
        assert set(survivor_records.values()) == {0}
        assert set(duplicate_records.values()) == {MERGED_RECORDS}
        return
    # Merged completely: the duplicate is archived and owns nothing any more.
    assert duplicate_archived is True
    assert set(duplicate_records.values()) == {0}
    assert set(survivor_records.values()) == {MERGED_RECORDS}
