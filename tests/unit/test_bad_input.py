"""Bad input gets a clear error and changes nothing (issue 4), on SQLite and PostgreSQL.

Every case calls a service with one bad value and checks two things: the error is a
``CRMError`` a person can act on (``InvalidInput`` naming the field, or ``NotFound`` /
``Conflict`` / ``PermissionDenied`` with a readable message), and the database is exactly
as before (row counts of every table plus a checksum of the rows of the main tables).

Texts that look dangerous (SQL injection, ``<script>``, Markdown) or are merely
non-ASCII (emoji, Vietnamese, in NFC and NFD) are valid input: they are stored verbatim
and read back byte for byte. The importer's bad files are tested on SQLite below.

Not a rule today, so not tested as an error: an order (or interaction, complaint...)
dated in the future is accepted by the services; no future-date rule exists to check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text
from sqlmodel import Session, SQLModel

from app.db import get_engine
from app.errors import Conflict, CRMError, InvalidInput, NotFound, PermissionDenied
from app.models import Customer, Interaction, Role, User
from app.services.access import Actor
from app.services.care import (
    create_complaint,
    create_interaction,
    create_survey_response,
    resolve_complaint,
)
from app.services.catalogue import create_campaign, record_campaign_cost, update_campaign
from app.services.customers import create_contact, create_customer
from app.services.sales import (
    create_inquiry,
    create_opportunity,
    create_order,
    move_opportunity_stage,
)
from app.transfer import MAX_FILE_BYTES, import_file
from tests.unit.factories import SYSTEM, customer_data, make_customer, make_product

CHECKSUM_TABLES = (
    "customer",
    "contact",
    "product",
    "sales_order",
    "order_line",
    "interaction",
    "inquiry",
    "opportunity",
    "opportunity_stage_history",
    "campaign",
    "complaint",
    "survey_response",
    "audit_log",
)
HUGE = "x" * 10_000
ABSURD = Decimal("1e30")
BEFORE_OPEN = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
OPENED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


# --------------------------------------------------------------------------- snapshot
def snapshot(session: Session) -> dict[str, Any]:
    """Row counts of every table plus a SHA-256 of all rows of the main tables.

    Read through the session's own connection, so rows a failed call flushed but did not
    roll back would show up as a change too.
    """
    session.expire_all()
    connection = session.connection()
    counts = {
        table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
        for table in SQLModel.metadata.sorted_tables
    }
    digest = hashlib.sha256()
    for name in CHECKSUM_TABLES:
        table = SQLModel.metadata.tables[name]
        columns = sorted(table.columns, key=lambda column: column.name)
        for row in connection.execute(select(*columns).order_by(table.c.id)):
            digest.update(repr((name, tuple(row))).encode())
    session.commit()
    return {"counts": counts, "checksum": digest.hexdigest()}


def add_user(session: Session, username: str, role: Role) -> Actor:
    user = User(username=username, display_name=username, role=role)
    session.add(user)
    session.commit()
    return Actor(user_id=user.id, username=username, role=role)


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    """A small valid world the bad input refers to."""
    customer = make_customer(session)
    product = make_product(session)
    staff = add_user(session, "lan", Role.staff)
    executive = add_user(session, "sep", Role.executive)
    campaign = create_campaign(
        session=session,
        data={
            "name": "Tết 2026",
            "channel": "email",
            "purpose": "retention",
            "start_date": dt.date(2026, 1, 5),
            "end_date": dt.date(2026, 2, 5),
        },
        actor=SYSTEM,
    )
    complaint = create_complaint(
        session=session,
        data={"customer_id": customer.id, "category": "Giao hàng", "opened_at": OPENED},
        actor=SYSTEM,
    )
    opportunity = create_opportunity(
        session=session,
        data={"customer_id": customer.id, "title": "Gói văn phòng", "amount": "1000000"},
        actor=SYSTEM,
    )
    existing_order = {
        "customer_id": customer.id,
        "code": "DH-EXIST",
        "lines": [{"product_id": product.id, "quantity": 1, "unit_price": 100, "unit_cost": 50}],
    }
    create_order(session=session, data=existing_order, actor=SYSTEM)
    return {
        "customer": customer.id,
        "product": product.id,
        "staff": staff,
        "executive": executive,
        "campaign": campaign.id,
        "complaint": complaint.id,
        "opportunity": opportunity.id,
    }


# --------------------------------------------------------------------------- input builders
def interaction(w: dict, **overrides: Any) -> dict:
    data = {"customer_id": w["customer"], "kind": "call", "subject": "Gọi chào hàng"}
    return {**data, **overrides}


def order(w: dict, line: dict | None = None, **overrides: Any) -> dict:
    base_line = {
        "product_id": w["product"],
        "quantity": Decimal("2"),
        "unit_price": Decimal("120000"),
        "unit_cost": Decimal("80000"),
    }
    data = {"customer_id": w["customer"], "lines": [{**base_line, **(line or {})}]}
    return {**data, **overrides}


def complaint(w: dict, **overrides: Any) -> dict:
    data = {"customer_id": w["customer"], "category": "Chất lượng", "opened_at": OPENED}
    return {**data, **overrides}


def survey(w: dict, **overrides: Any) -> dict:
    return {"customer_id": w["customer"], "nps": 9, **overrides}


def opportunity(w: dict, **overrides: Any) -> dict:
    return {"customer_id": w["customer"], "title": "Hợp đồng năm", **overrides}


def inquiry(w: dict, **overrides: Any) -> dict:
    return {
        "customer_id": w["customer"],
        "product_id": w["product"],
        "need": "Giấy A4",
        **overrides,
    }


def campaign(**overrides: Any) -> dict:
    data = {
        "name": "Hè 2026",
        "channel": "email",
        "purpose": "acquisition",
        "start_date": dt.date(2026, 6, 1),
        "end_date": dt.date(2026, 6, 30),
    }
    return {**data, **overrides}


Call = Callable[[Session, dict], Any]


def customer_call(**overrides: Any) -> Call:
    return lambda s, w: create_customer(session=s, data=customer_data(**overrides), actor=SYSTEM)


def service(
    function: Callable, build: Callable, actor: str | None = None, **overrides: Any
) -> Call:
    def call(s: Session, w: dict) -> Any:
        data = build(w, **overrides) if build is not campaign else build(**overrides)
        return function(session=s, data=data, actor=w[actor] if actor else SYSTEM)

    return call


# (id, call, expected error, field named by InvalidInput or a regex of the message)
CASES: list[tuple[str, Call, type[CRMError], str]] = [
    # customers
    ("customer-empty-name", customer_call(name=""), InvalidInput, "name"),
    ("customer-blank-name", customer_call(name="   "), InvalidInput, "name"),
    ("customer-no-name", customer_call(name=None), InvalidInput, "name"),
    ("customer-empty-code", customer_call(code=""), InvalidInput, "code"),
    ("customer-10k-name", customer_call(name=HUGE), InvalidInput, "name"),
    ("customer-10k-code", customer_call(code=HUGE), InvalidInput, "code"),
    ("customer-10k-address", customer_call(address=HUGE), InvalidInput, "address"),
    ("customer-absurd-birth-year", customer_call(birth_year=10**30), InvalidInput, "birth_year"),
    ("customer-negative-birth-year", customer_call(birth_year=-1), InvalidInput, "birth_year"),
    ("customer-bad-email", customer_call(email="not an email"), InvalidInput, "email"),
    ("customer-injection-code", customer_call(code="'; DROP TABLE--"), InvalidInput, "code"),
    (
        "customer-unknown-referrer",
        customer_call(referred_by_id=999_999),
        InvalidInput,
        "referred_by_id",
    ),
    ("customer-unknown-owner", customer_call(owner_id=999_999), InvalidInput, "owner_id"),
    (
        "customer-duplicate-code",
        lambda s, w: create_customer(
            session=s,
            data=customer_data(code=s.get(Customer, w["customer"]).code),
            actor=SYSTEM,
        ),
        Conflict,
        "already exists",
    ),
    (
        "customer-executive-may-not-write",
        lambda s, w: create_customer(session=s, data=customer_data(), actor=w["executive"]),
        PermissionDenied,
        "not allowed to create",
    ),
    (
        "contact-unknown-customer",
        lambda s, w: create_contact(
            session=s, data={"customer_id": 999_999, "name": "An"}, actor=SYSTEM
        ),
        NotFound,
        "Customer 999999 does not exist",
    ),
    # interactions
    (
        "interaction-empty-subject",
        service(create_interaction, interaction, subject=""),
        InvalidInput,
        "subject",
    ),
    (
        "interaction-blank-subject",
        service(create_interaction, interaction, subject="   "),
        InvalidInput,
        "subject",
    ),
    (
        "opportunity-blank-title",
        service(create_opportunity, opportunity, title=" \t "),
        InvalidInput,
        "title",
    ),
    (
        "interaction-10k-subject",
        service(create_interaction, interaction, subject=HUGE),
        InvalidInput,
        "subject",
    ),
    (
        "interaction-10k-notes",
        service(create_interaction, interaction, notes=HUGE),
        InvalidInput,
        "notes",
    ),
    (
        "interaction-bad-kind",
        service(create_interaction, interaction, kind="telepathy"),
        InvalidInput,
        "kind",
    ),
    (
        "interaction-no-customer",
        service(create_interaction, interaction, customer_id=None),
        InvalidInput,
        "customer_id",
    ),
    (
        "interaction-unknown-customer",
        service(create_interaction, interaction, customer_id=999_999),
        NotFound,
        "Customer 999999 does not exist",
    ),
    (
        "interaction-unknown-user",
        service(create_interaction, interaction, user_id=999_999),
        InvalidInput,
        "user_id",
    ),
    (
        "interaction-bad-date",
        service(create_interaction, interaction, occurred_at="31/02/2026"),
        InvalidInput,
        "occurred_at",
    ),
    (
        "interaction-executive",
        service(create_interaction, interaction, actor="executive"),
        PermissionDenied,
        "not allowed",
    ),
    # orders
    ("order-no-lines", service(create_order, order, lines=[]), InvalidInput, "lines"),
    (
        "order-negative-quantity",
        service(create_order, order, line={"quantity": Decimal("-1")}),
        InvalidInput,
        "lines.0.quantity",
    ),
    (
        "order-zero-quantity",
        service(create_order, order, line={"quantity": 0}),
        InvalidInput,
        "lines.0.quantity",
    ),
    (
        "order-absurd-quantity",
        service(create_order, order, line={"quantity": ABSURD}),
        InvalidInput,
        "lines.0.quantity",
    ),
    (
        "order-float-absurd-quantity",
        service(create_order, order, line={"quantity": 1e30}),
        InvalidInput,
        "lines.0.quantity",
    ),
    (
        "order-negative-price",
        service(create_order, order, line={"unit_price": Decimal("-5")}),
        InvalidInput,
        "lines.0.unit_price",
    ),
    (
        "order-absurd-price",
        service(create_order, order, line={"unit_price": ABSURD}),
        InvalidInput,
        "lines.0.unit_price",
    ),
    (
        "order-nan-price",
        service(create_order, order, line={"unit_price": "NaN"}),
        InvalidInput,
        "lines.0.unit_price",
    ),
    (
        "order-discount-over-one",
        service(create_order, order, line={"discount": Decimal("1.5")}),
        InvalidInput,
        "lines.0.discount",
    ),
    (
        "order-total-overflows",
        service(
            create_order,
            order,
            line={
                "quantity": Decimal("99999999999.999"),
                "unit_price": Decimal("9999999999999999"),
            },
        ),
        InvalidInput,
        "lines",
    ),
    (
        "order-total-exceeds-money-column",
        service(
            create_order,
            order,
            line={"quantity": Decimal("1000000"), "unit_price": Decimal("99999999999")},
        ),
        InvalidInput,
        "lines",
    ),
    (
        "order-unknown-product",
        service(create_order, order, line={"product_id": 999_999}),
        InvalidInput,
        "lines.0.product_id",
    ),
    (
        "order-unknown-customer",
        service(create_order, order, customer_id=999_999),
        NotFound,
        "Customer 999999 does not exist",
    ),
    (
        "order-unknown-campaign",
        service(create_order, order, campaign_id=999_999),
        InvalidInput,
        "campaign_id",
    ),
    ("order-10k-notes", service(create_order, order, notes=HUGE), InvalidInput, "notes"),
    ("order-bad-currency", service(create_order, order, currency="dong"), InvalidInput, "currency"),
    (
        "order-duplicate-code",
        service(create_order, order, code="DH-EXIST"),
        Conflict,
        "already exists",
    ),
    # complaints
    (
        "complaint-empty-category",
        service(create_complaint, complaint, category=""),
        InvalidInput,
        "category",
    ),
    (
        "complaint-10k-description",
        service(create_complaint, complaint, description=HUGE),
        InvalidInput,
        "description",
    ),
    (
        "complaint-resolved-before-opened",
        service(create_complaint, complaint, resolved_at=BEFORE_OPEN),
        InvalidInput,
        "resolved at must not be before opened at",
    ),
    (
        "complaint-responded-before-opened",
        service(create_complaint, complaint, first_response_at=BEFORE_OPEN),
        InvalidInput,
        "first response at must not be before opened at",
    ),
    (
        "complaint-unknown-customer",
        service(create_complaint, complaint, customer_id=999_999),
        NotFound,
        "Customer 999999 does not exist",
    ),
    (
        "complaint-resolve-before-opened",
        lambda s, w: resolve_complaint(
            session=s,
            complaint_id=w["complaint"],
            resolution="Đổi hàng",
            resolved_at=BEFORE_OPEN,
            actor=SYSTEM,
        ),
        InvalidInput,
        "resolved_at",
    ),
    (
        "complaint-resolve-empty-resolution",
        lambda s, w: resolve_complaint(
            session=s, complaint_id=w["complaint"], resolution="  ", actor=SYSTEM
        ),
        InvalidInput,
        "resolution",
    ),
    (
        "complaint-resolve-unknown",
        lambda s, w: resolve_complaint(
            session=s, complaint_id=999_999, resolution="Đổi hàng", actor=SYSTEM
        ),
        NotFound,
        "Complaint 999999 does not exist",
    ),
    # survey answers
    ("survey-nps-11", service(create_survey_response, survey, nps=11), InvalidInput, "nps"),
    ("survey-nps-negative", service(create_survey_response, survey, nps=-1), InvalidInput, "nps"),
    ("survey-csat-0", service(create_survey_response, survey, csat=0), InvalidInput, "csat"),
    ("survey-csat-6", service(create_survey_response, survey, csat=6), InvalidInput, "csat"),
    (
        "survey-no-score",
        service(create_survey_response, survey, nps=None),
        InvalidInput,
        "NPS score",
    ),
    (
        "survey-10k-comment",
        service(create_survey_response, survey, comment=HUGE),
        InvalidInput,
        "comment",
    ),
    (
        "survey-unknown-complaint",
        service(create_survey_response, survey, complaint_id=999_999),
        InvalidInput,
        "complaint_id",
    ),
    (
        "survey-unknown-customer",
        service(create_survey_response, survey, customer_id=999_999),
        NotFound,
        "Customer 999999 does not exist",
    ),
    # opportunities
    (
        "opportunity-empty-title",
        service(create_opportunity, opportunity, title=""),
        InvalidInput,
        "title",
    ),
    (
        "opportunity-10k-title",
        service(create_opportunity, opportunity, title=HUGE),
        InvalidInput,
        "title",
    ),
    (
        "opportunity-negative-amount",
        service(create_opportunity, opportunity, amount=-1),
        InvalidInput,
        "amount",
    ),
    (
        "opportunity-absurd-amount",
        service(create_opportunity, opportunity, amount=ABSURD),
        InvalidInput,
        "amount",
    ),
    (
        "opportunity-starts-won",
        service(create_opportunity, opportunity, stage="won"),
        InvalidInput,
        "stage",
    ),
    (
        "opportunity-lost-without-reason",
        service(create_opportunity, opportunity, stage="lost"),
        InvalidInput,
        "lost reason is required",
    ),
    (
        "opportunity-unknown-customer",
        service(create_opportunity, opportunity, customer_id=999_999),
        NotFound,
        "Customer 999999 does not exist",
    ),
    (
        "move-lost-without-reason",
        lambda s, w: move_opportunity_stage(
            session=s, opportunity_id=w["opportunity"], change={"to_stage": "lost"}, actor=SYSTEM
        ),
        InvalidInput,
        "lost reason is required",
    ),
    (
        "move-to-same-stage",
        lambda s, w: move_opportunity_stage(
            session=s, opportunity_id=w["opportunity"], change={"to_stage": "lead"}, actor=SYSTEM
        ),
        InvalidInput,
        "to_stage",
    ),
    (
        "move-before-created",
        lambda s, w: move_opportunity_stage(
            session=s,
            opportunity_id=w["opportunity"],
            change={"to_stage": "qualified", "changed_at": dt.datetime(2000, 1, 1, tzinfo=dt.UTC)},
            actor=SYSTEM,
        ),
        InvalidInput,
        "changed_at",
    ),
    (
        "move-unknown-opportunity",
        lambda s, w: move_opportunity_stage(
            session=s, opportunity_id=999_999, change={"to_stage": "won"}, actor=SYSTEM
        ),
        NotFound,
        "Opportunity 999999 does not exist",
    ),
    # inquiries
    ("inquiry-empty-need", service(create_inquiry, inquiry, need=""), InvalidInput, "need"),
    ("inquiry-10k-need", service(create_inquiry, inquiry, need=HUGE), InvalidInput, "need"),
    (
        "inquiry-negative-quantity",
        service(create_inquiry, inquiry, quantity=-3),
        InvalidInput,
        "quantity",
    ),
    (
        "inquiry-absurd-quantity",
        service(create_inquiry, inquiry, quantity=ABSURD),
        InvalidInput,
        "quantity",
    ),
    (
        "inquiry-unknown-product",
        service(create_inquiry, inquiry, product_id=999_999),
        InvalidInput,
        "product_id",
    ),
    (
        "inquiry-unknown-customer",
        service(create_inquiry, inquiry, customer_id=999_999),
        NotFound,
        "Customer 999999 does not exist",
    ),
    # campaigns
    (
        "campaign-end-before-start",
        service(create_campaign, campaign, end_date=dt.date(2026, 5, 1)),
        InvalidInput,
        "end date must not be before the start date",
    ),
    ("campaign-empty-name", service(create_campaign, campaign, name=""), InvalidInput, "name"),
    (
        "campaign-negative-budget",
        service(create_campaign, campaign, budget=-1),
        InvalidInput,
        "budget",
    ),
    (
        "campaign-absurd-budget",
        service(create_campaign, campaign, budget=ABSURD),
        InvalidInput,
        "budget",
    ),
    (
        "campaign-staff-may-not-create",
        service(create_campaign, campaign, actor="staff"),
        PermissionDenied,
        "not allowed to change products, campaigns",
    ),
    (
        "campaign-update-end-before-start",
        lambda s, w: update_campaign(
            session=s,
            campaign_id=w["campaign"],
            data={"end_date": dt.date(2025, 12, 31)},
            actor=SYSTEM,
        ),
        InvalidInput,
        "end_date",
    ),
    (
        "campaign-negative-cost",
        lambda s, w: record_campaign_cost(
            session=s, campaign_id=w["campaign"], amount="-100", actor=SYSTEM
        ),
        InvalidInput,
        "amount",
    ),
    (
        "campaign-absurd-cost",
        lambda s, w: record_campaign_cost(
            session=s, campaign_id=w["campaign"], amount=1e30, actor=SYSTEM
        ),
        InvalidInput,
        "amount",
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "expected"),
    [pytest.param(call, error, expected, id=name) for name, call, error, expected in CASES],
)
def test_bad_input_is_a_clear_error_and_changes_nothing(
    session: Session, world: dict, call: Call, error: type[CRMError], expected: str
) -> None:
    before = snapshot(session)
    with pytest.raises(error) as caught:
        call(session, world)
    session.rollback()
    if error is InvalidInput and expected in caught.value.field_errors:
        assert caught.value.field_errors[expected].strip()
    else:
        assert expected in str(caught.value), str(caught.value)
    assert str(caught.value).strip()
    assert snapshot(session) == before


# --------------------------------------------------------------------------- verbatim text
TRICKY_TEXTS = [
    "'; DROP TABLE customer; --",
    'Robert"); DELETE FROM audit_log WHERE ("1"="1',
    "x' OR '1'='1",
    "<script>alert('xss')</script>",
    '<img src=x onerror="alert(1)">',
    "**Đậm** _nghiêng_ [link](javascript:alert(1)) `code` # tiêu đề",
    "| a | b |\n|---|---|",
    "Công ty 😀🚀 Ánh Dương 👨‍👩‍👧",
    "Cty TNHH Thanh Phú – Nguyễn Thị Hằng (Đà Nẵng)",
    "Nguyê\u0302\u0303n",  # Vietnamese in NFD: combining marks must not be normalised away
    "Percent 100% and_underscore \\ backslash",
]


@pytest.mark.parametrize("tricky", TRICKY_TEXTS, ids=range(len(TRICKY_TEXTS)))
def test_tricky_text_is_stored_verbatim(session: Session, tricky: str) -> None:
    tables_before = set(inspect(session.connection()).get_table_names())
    session.commit()
    customer = make_customer(session, name=tricky, address=tricky, representative=tricky[:120])
    interaction_row = create_interaction(
        session=session,
        data={
            "customer_id": customer.id,
            "kind": "call",
            "subject": tricky[:200],
            "notes": tricky,
        },
        actor=SYSTEM,
    )
    session.expire_all()
    stored = session.get(Customer, customer.id)
    assert (stored.name, stored.address, stored.representative) == (tricky, tricky, tricky[:120])
    stored_interaction = session.get(Interaction, interaction_row.id)
    assert (stored_interaction.subject, stored_interaction.notes) == (tricky[:200], tricky)
    raw = session.connection().execute(
        text("SELECT name FROM customer WHERE id = :id"), {"id": customer.id}
    )
    assert raw.scalar_one() == tricky
    assert set(inspect(session.connection()).get_table_names()) == tables_before
    assert session.scalar(select(func.count()).select_from(Customer)) == 1


# --------------------------------------------------------------------------- importer bad files
def import_customers(session: Session, data: bytes, entity: str = "customers", **kwargs: Any):  # noqa: ANN201
    kwargs.setdefault("atomic", True)  # these files must change nothing: all-or-nothing mode
    return import_file(
        session=session, actor=SYSTEM, entity=entity, data=data, filename=f"{entity}.csv", **kwargs
    )


@pytest.fixture
def sqlite_session(sqlite_url: str):  # noqa: ANN201
    with Session(get_engine(sqlite_url), expire_on_commit=False) as session:
        make_customer(session, code="KH000001", name="Khách cũ")
        make_product(session, code="SP000001")
        yield session


@pytest.mark.parametrize(
    ("entity", "data", "rows_and_messages"),
    [
        pytest.param(
            "customers",
            b"code,name,phone\r\nKH500001,A,0901234567,extra\r\nKH500002\r\nKH500003,Ok,\r\n",
            [(2, "has 4 values but the header has 3"), (3, "has 1 values but the header has 3")],
            id="ragged-rows",
        ),
        pytest.param(
            "customers",
            b"code,name\r\n",
            [(1, "the file has a header but no data rows")],
            id="only-a-header",
        ),
        pytest.param(
            "interactions",
            b"customer_code,kind,subject\r\nKH000001,call,Hi\r\nNOPE,call,Hi\r\n",
            [(3, "unknown customer code 'NOPE'")],
            id="unknown-customer-code",
        ),
        pytest.param(
            "orders",
            b"order_code,customer_code,product_code,quantity,unit_price\r\n"
            b"DH9,KH404,SP404,1,100\r\n",
            [(2, "unknown customer code 'KH404'"), (2, "unknown product code 'SP404'")],
            id="unknown-codes-in-orders",
        ),
        pytest.param(
            "orders",
            b"order_code,customer_code,product_code,quantity,unit_price,unit_cost\r\n"
            b"DH8,KH000001,SP000001,-2,100,50\r\n"
            b"DH9,KH000001,SP000001,99999999999,9999999999999999,1\r\n",
            [(2, "must be greater than 0"), (3, "the order total is too large")],
            id="negative-and-absurd-order-amounts",
        ),
        pytest.param(
            "customers",
            b"code,name,birth_year\r\nKH500009,A,1e30\r\nKH500010,B,-1\r\n"
            b"KH500011,C,99999999999999999999999999999999\r\n",
            [(2, "is not a number"), (3, "at least 1900"), (4, "at most 2100")],
            id="absurd-number",
        ),
    ],
)
def test_bad_rows_are_reported_and_nothing_is_written(
    sqlite_session: Session, entity: str, data: bytes, rows_and_messages: list
) -> None:
    before = snapshot(sqlite_session)
    result = import_customers(sqlite_session, data, entity=entity)
    assert not result.written and not result.ok
    reported = [(error.row, error.message) for error in result.errors]
    for row, message in rows_and_messages:
        assert any(r == row and message in m for r, m in reported), reported
    assert all(error.message.strip() for error in result.errors)
    sqlite_session.rollback()
    assert snapshot(sqlite_session) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"", "the file is empty", id="empty"),
        pytest.param(b"\r\n \r\n\t\r\n", "the file is empty", id="only-blank-lines"),
        pytest.param(
            "code,name\r\nKH500001,Nguyễn Thị Hằng\r\n".encode("latin-1", errors="replace")
            + "KH500002,Crème brûlée\r\n".encode("latin-1"),
            "not UTF-8 or UTF-16",
            id="latin-1",
        ),
        pytest.param(b"\x00\x01\x02\xff\xfe\x80" * 50, "", id="binary-garbage"),
    ],
)
def test_unreadable_files_are_a_clear_error(
    sqlite_session: Session, data: bytes, message: str
) -> None:
    before = snapshot(sqlite_session)
    try:
        result = import_customers(sqlite_session, data)
    except InvalidInput as exc:
        assert "file" in exc.field_errors
        assert message in exc.field_errors["file"]
    else:  # read as text after all (e.g. as UTF-16): it must then fail row by row
        assert not message, "expected a file error"
        assert not result.written and result.errors
    sqlite_session.rollback()
    assert snapshot(sqlite_session) == before


LARGE_BYTES = 50 * 1024 * 1024


def test_a_50_mb_file_with_one_bad_row_is_refused_whole(
    sqlite_session: Session, tmp_path: Path
) -> None:
    """~50 MB of customer rows (under the importer's limit) with one bad row near the end:
    atomic mode reports that row and writes nothing."""
    assert LARGE_BYTES < MAX_FILE_BYTES
    line = "KH{:07d},Công ty TNHH Thử Nghiệm Số {:07d} – " + "x" * 120 + ",0901234567\r\n"
    count = LARGE_BYTES // len(line.format(0, 0).encode()) + 1
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("code,name,phone\r\n")
        handle.writelines(line.format(n, n) for n in range(1, count - 1))
        handle.write("KH_BAD ROW,,0901234567\r\n")
        handle.write(line.format(count, count))
    data = path.read_bytes()
    assert len(data) >= LARGE_BYTES
    before = snapshot(sqlite_session)
    # How long this takes is the benchmark's business (make bench), not a test's.
    result = import_customers(sqlite_session, data)
    assert not result.written
    assert {(error.row, error.column) for error in result.errors} == {
        (count, "code"),
        (count, "name"),
    }
    sqlite_session.rollback()
    assert snapshot(sqlite_session) == before


def test_a_file_over_the_limit_is_refused_with_its_size(sqlite_session: Session) -> None:
    before = snapshot(sqlite_session)
    data = b"code,name\r\n" + b"KH1,A\r\n" * (MAX_FILE_BYTES // 7 + 1)
    with pytest.raises(InvalidInput, match=r"larger than 100 MB"):
        import_customers(sqlite_session, data)
    assert snapshot(sqlite_session) == before
