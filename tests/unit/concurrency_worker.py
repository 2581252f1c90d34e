"""Submit interactions and orders through the services in a loop, as staff would.

Used by tests/unit/test_concurrency.py both in threads (``submit_loop``) and as a
separate process: ``python -m tests.unit.concurrency_worker URL SECONDS WORKER`` prints
``ready``, waits for a line on stdin, submits for SECONDS, then prints one JSON line
with what succeeded and every error a caller saw.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from sqlmodel import select

from app.db import session_scope
from app.models import Customer, Product
from app.services.access import Actor
from app.services.care import create_interaction
from app.services.sales import create_order

ACTOR = Actor.system()
LINES_PER_ORDER = 2


@dataclass
class Tally:
    """What one worker's callers saw: the tags of successful submits and every error."""

    interactions: dict[str, int] = field(default_factory=dict)  # subject tag → id
    orders: dict[str, int] = field(default_factory=dict)  # notes tag → id
    errors: list[str] = field(default_factory=list)


def reference_ids(url: str) -> tuple[list[int], list[int]]:
    """The ids of the customers and products the submits refer to."""
    with session_scope(url) as session:
        customers = list(session.exec(select(Customer.id).order_by(Customer.id)).all())
        products = list(session.exec(select(Product.id).order_by(Product.id)).all())
    return customers, products


def submit_loop(url: str, seconds: float, worker: str) -> Tally:
    """Alternate interaction and order submits for ``seconds``, one session per submit."""
    customers, products = reference_ids(url)
    tally = Tally()
    deadline = time.monotonic() + seconds
    number = 0
    while time.monotonic() < deadline:
        number += 1
        tag = f"{worker}-{number}"
        customer_id = customers[number % len(customers)]
        try:
            with session_scope(url) as session:
                if number % 2:
                    row = create_interaction(
                        session=session,
                        actor=ACTOR,
                        data={"customer_id": customer_id, "kind": "call", "subject": tag},
                    )
                    tally.interactions[tag] = row.id
                else:
                    row = create_order(
                        session=session,
                        actor=ACTOR,
                        data={
                            "customer_id": customer_id,
                            "notes": tag,
                            "lines": [
                                {
                                    "product_id": products[(number + offset) % len(products)],
                                    "quantity": Decimal(1 + offset),
                                    "unit_price": Decimal("100000"),
                                    "unit_cost": Decimal("60000"),
                                }
                                for offset in range(LINES_PER_ORDER)
                            ],
                        },
                    )
                    tally.orders[tag] = row.id
        except Exception as exc:  # noqa: BLE001 - every error a caller would see is the finding
            tally.errors.append(f"{tag}: {type(exc).__name__}: {exc}")
    return tally


def main(argv: list[str]) -> int:
    """Entry point of the worker process (see the module docstring)."""
    url, seconds, worker = argv[0], float(argv[1]), argv[2]
    reference_ids(url)  # open the engine (and check the schema) before the start signal
    print("ready", flush=True)
    sys.stdin.readline()
    tally = submit_loop(url, seconds, worker)
    print(json.dumps(asdict(tally)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
