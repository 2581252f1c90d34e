"""Likely duplicates of a customer about to be created: same phone, email, tax code or a
very similar name once case, diacritics and company forms are folded away."""

from __future__ import annotations

import difflib
from typing import Any

import pandas as pd
from pydantic import BaseModel
from sqlalchemy import func, or_
from sqlmodel import Session, select

from app.models import Customer
from app.services.access import Actor, Permission, require, visible_customers
from app.services.customers import _phone_digits_sql
from app.text import fold, like_skeleton, normalise_phone, significant_words

NAME_RATIO = 0.9
# Names compared in Python after the SQL preselection, at most.
NAME_CANDIDATES = 2000
COLUMNS = ["customer_id", "code", "name", "reason"]


def _value(candidate: BaseModel | dict[str, Any], name: str) -> str:
    raw = candidate.get(name) if isinstance(candidate, dict) else getattr(candidate, name, None)
    return str(raw).strip() if raw is not None else ""


def likely_duplicates(
    *,
    session: Session,
    actor: Actor,
    candidate: BaseModel | dict[str, Any],
    limit: int = 5,
    exclude_id: int | None = None,
) -> pd.DataFrame:
    """Existing, non-archived customers the actor may see that look like ``candidate``.

    Columns customer_id, code, name, reason; strongest reasons first (tax code, phone,
    email, then name similarity). Empty fields never match.
    """
    require(actor, Permission.read)
    found: dict[int, tuple[int, str, str, list[str]]] = {}

    def note(rank: int, row: Any, reason: str) -> None:
        entry = found.setdefault(row.id, (rank, row.code, row.name, []))
        if reason not in entry[3]:
            entry[3].append(reason)
        if rank < entry[0]:
            found[row.id] = (rank, entry[1], entry[2], entry[3])

    base = select(Customer.id, Customer.code, Customer.name, Customer.phone).where(
        Customer.archived.is_(False), visible_customers(actor)
    )
    if exclude_id is not None:
        base = base.where(Customer.id != exclude_id)

    tax_code = _value(candidate, "tax_code")
    if tax_code:
        for row in session.exec(base.where(Customer.tax_code == tax_code).limit(limit)):
            note(0, row, "same tax code")

    phone = normalise_phone(_value(candidate, "phone"))
    if len(phone) >= 7:
        # The last 9 digits are the same with or without the 0/84 prefix.
        tail = phone[-9:]
        rows = session.exec(
            base.where(_phone_digits_sql(Customer.phone).like(f"%{tail}")).limit(limit * 4)
        )
        for row in rows:
            if normalise_phone(row.phone) == phone:
                note(1, row, "same phone")

    email = _value(candidate, "email").lower()
    if email:
        for row in session.exec(base.where(func.lower(Customer.email) == email).limit(limit)):
            note(2, row, "same email")

    name = fold(_value(candidate, "name"))
    words = significant_words(name)
    if words:
        # Preselect in SQL: names containing the first significant word in any accented
        # spelling (vowels and d are wildcards), or, for a short word, starting like it.
        first = words[0]
        patterns = [Customer.name.ilike(f"%{like_skeleton(first)}%")]
        if len(first) < 3 and len(words) > 1:
            patterns = [Customer.name.ilike(f"%{like_skeleton(' '.join(words[:2]))}%")]
        rows = session.exec(base.where(or_(*patterns)).limit(NAME_CANDIDATES))
        for row in rows:
            other = fold(row.name)
            if other == name:
                note(3, row, "same name")
            elif difflib.SequenceMatcher(None, name, other).ratio() >= NAME_RATIO:
                note(4, row, "similar name")

    ordered = sorted(found.items(), key=lambda item: (item[1][0], item[1][1]))[:limit]
    return pd.DataFrame(
        [(cid, code, cname, ", ".join(reasons)) for cid, (_, code, cname, reasons) in ordered],
        columns=COLUMNS,
    )
