"""Small factory helpers that build valid input for the services."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from app.models import Customer, Product
from app.services.access import Actor
from app.services.customers import create_customer
from app.services.sales import create_product

_counter = itertools.count(1)
SYSTEM = Actor.system()


def customer_data(**overrides: Any) -> dict[str, Any]:
    """Valid CustomerCreate input with a unique code."""
    number = next(_counter)
    data: dict[str, Any] = {
        "code": f"KH9{number:05d}",
        "name": f"Công ty TNHH Thử Nghiệm {number}",
        "kind": "organisation",
        "phone": f"0901{number:06d}",
        "email": f"kh{number}@example.vn",
        "province": "Hà Nội",
        "segment": "SME",
    }
    data.update(overrides)
    return data


def make_customer(session: Session, **overrides: Any) -> Customer:
    """Insert a valid customer through the service."""
    return create_customer(session=session, data=customer_data(**overrides), actor=SYSTEM)


def make_product(session: Session, **overrides: Any) -> Product:
    """Insert a valid product through the service."""
    number = next(_counter)
    data: dict[str, Any] = {
        "code": f"SP{number:05d}",
        "name": f"Sản phẩm {number}",
        "category": "Văn phòng phẩm",
        "unit_price": Decimal("120000"),
        "unit_cost": Decimal("80000"),
    }
    data.update(overrides)
    return create_product(session=session, data=data, actor=SYSTEM)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """An aware UTC datetime."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)
