"""Import and export: round trip, row-level errors, dry run, all-or-nothing, duplicate
modes, encodings, delimiters, Vietnamese number formats and Excel files."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func
from sqlmodel import Session, select

from app.cli import main as cli_main
from app.db import get_engine
from app.errors import InvalidInput
from app.models import (
    AuditLog,
    Campaign,
    CampaignMember,
    Customer,
    Interaction,
    Opportunity,
    OpportunityStageHistory,
    Order,
    OrderLine,
    Product,
    Role,
    User,
)
from app.services.access import Actor
from app.transfer import (
    auto_mapping,
    export_file,
    import_file,
    parse_date,
    parse_number,
    read_rows,
)
from tests.unit.factories import SYSTEM, make_customer, make_product

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"


def count(session: Session, table: type) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(table)).one()


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.replace("\n", "\r\n").encode(encoding)


def do_import(session: Session, entity: str, text: str, **kwargs):  # noqa: ANN201
    return import_file(
        session=session,
        actor=kwargs.pop("actor", SYSTEM),
        entity=entity,
        data=csv_bytes(text),
        filename=f"{entity}.csv",
        **kwargs,
    )


CUSTOMERS_CSV = """code,name,phone,email,province
KH100001,Cty TNHH Thanh Phú,0901 234 567,tp@example.vn,Hà Nội
KH100002,Nguyễn Văn An 😀,,an@example.vn,Huế
"""


# --------------------------------------------------------------------------- parsing
@pytest.mark.parametrize(
    ("text", "decimals", "expected"),
    [
        ("1.234.567", 2, Decimal("1234567")),
        ("1,234,567", 2, Decimal("1234567")),
        ("1.234.567,50", 2, Decimal("1234567.50")),
        ("1,234,567.50", 2, Decimal("1234567.50")),
        ("120000", 2, Decimal("120000")),
        ("1.234", 2, Decimal("1234")),  # money has no third decimal: thousands
        ("1.234", 3, Decimal("1.234")),  # a quantity may: decimal
        ("1,5", 3, Decimal("1.5")),
        ("-2.5", 2, Decimal("-2.5")),
        ("10%", 4, Decimal("0.1")),
    ],
)
def test_parse_number(text: str, decimals: int, expected: Decimal) -> None:
    assert parse_number(text, decimals=decimals) == expected


def test_parse_number_refuses_text() -> None:
    with pytest.raises(ValueError):
        parse_number("12abc", decimals=2)


def test_parse_date_formats() -> None:
    assert parse_date("2026-06-15") == dt.date(2026, 6, 15)
    assert parse_date("15/06/2026") == dt.date(2026, 6, 15)
    with pytest.raises(ValueError):
        parse_date("31/02/2026")


@pytest.mark.parametrize(
    ("data", "delimiter_name"),
    [
        (csv_bytes("code;name\nKH1;An\n"), "semicolon"),
        (csv_bytes("code\tname\nKH1\tAn\n"), "tab"),
        (csv_bytes("code,name\nKH1,An\n", "utf-8-sig"), "bom"),
        ("code\tname\r\nKH1\tAn\r\n".encode("utf-16"), "utf16"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_read_rows_detects_encoding_and_delimiter(data: bytes, delimiter_name: str) -> None:
    headers, rows = read_rows(data, "x.csv")
    assert headers == ["code", "name"]
    assert rows == [["KH1", "An"]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"code,name\nKH1,\xd0\xe0o\xff\n", "not UTF-8"),  # Windows-1258 bytes
    ],
)
def test_unreadable_files_are_clear_errors(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        read_rows(data, "x.csv")


def test_auto_mapping_understands_vietnamese_headers() -> None:
    mapping = auto_mapping("customers", ["Mã khách hàng", "Tên khách hàng", "Số điện thoại", "?"])
    assert mapping == {"Mã khách hàng": "code", "Tên khách hàng": "name", "Số điện thoại": "phone"}


# --------------------------------------------------------------------------- import
def test_import_customers_writes_rows_and_one_audit_row(session: Session) -> None:
    result = do_import(session, "customers", CUSTOMERS_CSV)
    assert result.ok and result.written
    assert (result.inserted, result.updated, result.skipped) == (2, 0, 0)
    stored = session.exec(select(Customer).order_by(Customer.code)).all()
    assert [c.name for c in stored] == ["Cty TNHH Thanh Phú", "Nguyễn Văn An 😀"]
    assert stored[0].province == "Hà Nội" and stored[0].created_at is not None
    audit = session.exec(select(AuditLog)).one()
    assert audit.entity == "customer" and audit.after["inserted"] == 2


def test_row_errors_name_row_and_column_and_nothing_is_written(session: Session) -> None:
    text = (
        "code,name,email,birth_year\n"
        "KH200001,Good row,ok@example.vn,1980\n"
        "KH200002,,bad,1980\n"  # row 3: empty name, bad email
        "KH200003,Old,x@example.vn,1800\n"  # row 4: birth year too early
        "KH 4,Space,,\n"  # row 5: bad code
        "'; DROP TABLE customer; --,Inject,,\n"  # row 6: injection as a code
    )
    result = do_import(session, "customers", text)
    assert not result.written
    found = {(e.row, e.column) for e in result.errors}
    assert {(3, "name"), (3, "email"), (4, "birth_year"), (5, "code"), (6, "code")} <= found
    assert count(session, Customer) == 0
    assert count(session, AuditLog) == 0
    assert "nothing was written" in result.summary()


def test_non_atomic_import_writes_the_valid_rows(session: Session) -> None:
    text = "code,name\nKH300001,Good\nKH300002,\n"
    result = do_import(session, "customers", text, atomic=False)
    assert result.written and result.inserted == 1 and len(result.errors) == 1
    assert count(session, Customer) == 1


def test_dry_run_writes_nothing(session: Session) -> None:
    result = do_import(session, "customers", CUSTOMERS_CSV, dry_run=True)
    assert result.ok and result.inserted == 2 and not result.written
    assert count(session, Customer) == 0
    assert count(session, AuditLog) == 0


def test_ragged_rows_header_only_and_unknown_references(session: Session) -> None:
    ragged = do_import(session, "customers", "code,name\nKH400001,A,extra\nKH400002\n")
    assert [(e.row, e.message) for e in ragged.errors] == [
        (2, "has 3 values but the header has 2"),
        (3, "has 1 values but the header has 2"),
    ]
    header_only = do_import(session, "customers", "code,name\n")
    assert "no data rows" in header_only.errors[0].message
    unknown = do_import(session, "interactions", "customer_code,kind,subject\nNOPE,call,Hi\n")
    assert (unknown.errors[0].row, unknown.errors[0].column) == (2, "customer_code")
    assert "unknown customer code" in unknown.errors[0].message
    assert count(session, Customer) == count(session, Interaction) == 0


@pytest.mark.parametrize(
    ("mode", "inserted", "updated", "skipped", "errors", "name"),
    [
        ("skip", 1, 0, 1, 0, "Old name"),
        ("update", 1, 1, 0, 0, "New name"),
        ("error", 1, 0, 0, 1, "Old name"),  # counts are the plan; nothing written
    ],
)
def test_on_duplicate_modes(
    session: Session, mode: str, inserted: int, updated: int, skipped: int, errors: int, name: str
) -> None:
    make_customer(session, code="KH500001", name="Old name")
    text = "code,name\nKH500001,New name\nKH500002,Brand new\n"
    result = do_import(session, "customers", text, on_duplicate=mode)
    assert (result.inserted, result.updated, result.skipped, len(result.errors)) == (
        inserted,
        updated,
        skipped,
        errors,
    )
    session.expire_all()
    assert session.exec(select(Customer.name).where(Customer.code == "KH500001")).one() == name


def test_duplicate_codes_inside_the_file_are_row_errors(session: Session) -> None:
    result = do_import(session, "customers", "code,name\nKH600001,A\nKH600001,B\n")
    assert result.errors[0].row == 3 and "repeats row 2" in result.errors[0].message


def test_orders_group_lines_and_compute_totals(session: Session) -> None:
    customer = make_customer(session, code="KH700001")
    make_product(session, code="SP700001", unit_price=Decimal(100000), unit_cost=Decimal(1))
    make_product(session, code="SP700002", unit_price=Decimal(50000), unit_cost=Decimal(1))
    text = (
        "order_code;customer_code;ordered_at;product_code;quantity;unit_price;unit_cost;discount\n"
        "DH700001;KH700001;15/06/2026;SP700001;2;1.200.000;800.000;0\n"
        "DH700001;KH700001;15/06/2026;SP700002;1,5;50.000;1;10%\n"
        "DH700002;KH700001;2026-06-16;SP700002;-1;50000;1;0\n"  # row 4: bad quantity
    )
    rejected = do_import(session, "orders", text)
    assert [(e.row, e.column) for e in rejected.errors] == [(4, "quantity")]
    assert count(session, Order) == 0
    result = do_import(session, "orders", text, atomic=False)
    assert result.inserted == 1
    order = session.exec(select(Order)).one()
    assert order.customer_id == customer.id
    assert order.amount == Decimal("2400000") + Decimal("67500")
    assert count(session, OrderLine) == 2


def test_opportunities_import_with_stage_history(session: Session) -> None:
    make_customer(session, code="KH800001")
    text = (
        "customer_code,title,amount,stage,lost_reason,created_at,closed_at\n"
        "KH800001,Deal,1.000.000,lost,Price,2026-01-01T00:00:00+00:00,2026-02-01T00:00:00+00:00\n"
        "KH800001,Lost without reason,5,lost,,,\n"
    )
    result = do_import(session, "opportunities", text, atomic=False)
    assert result.inserted == 1 and result.errors[0].row == 3
    assert count(session, Opportunity) == count(session, OpportunityStageHistory) == 1


def test_staff_import_only_their_own_customers(session: Session) -> None:
    user = User(username="lan", display_name="lan", role=Role.staff)
    other = User(username="minh", display_name="minh", role=Role.staff)
    session.add_all([user, other])
    session.commit()
    lan = Actor(user_id=user.id, username="lan", role=Role.staff)
    make_customer(session, code="KH900001", owner_id=other.id)
    theirs = do_import(
        session, "interactions", "customer_code,kind,subject\nKH900001,call,Hi\n", actor=lan
    )
    assert "unknown customer code" in theirs.errors[0].message
    owner = do_import(session, "customers", "code,name,owner\nKH900002,X,minh\n", actor=lan)
    assert owner.errors[0].column == "owner"
    assert count(session, Interaction) == 0 and count(session, Customer) == 1


def test_campaign_members_by_name_and_code(session: Session) -> None:
    from app.services.catalogue import create_campaign

    create_campaign(
        session=session,
        actor=SYSTEM,
        data={
            "name": "Tết",
            "channel": "sms",
            "purpose": "retention",
            "start_date": dt.date(2026, 1, 1),
            "end_date": dt.date(2026, 1, 31),
        },
    )
    make_customer(session, code="KH910001")
    text = "campaign,customer_code,responded,converted\nTết,KH910001,có,không\n"
    assert do_import(session, "campaign_members", text).inserted == 1
    member = session.exec(select(CampaignMember)).one()
    assert member.responded is True and member.converted is False
    again = do_import(session, "campaign_members", text, on_duplicate="error")
    assert "already exists" in again.errors[0].message


def test_mapping_renames_columns(session: Session) -> None:
    text = "Mã KH,Tên\nKH920001,An\n"
    result = do_import(session, "customers", text, mapping={"Mã KH": "code", "Tên": "name"})
    assert result.inserted == 1


def test_xlsx_import_and_export(session: Session) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["code", "name", "phone", "birth_year"])
    sheet.append(["KH930001", "Trần Thị Ánh", "0901234567", 1990])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = import_file(
        session=session,
        actor=SYSTEM,
        entity="customers",
        data=buffer.getvalue(),
        filename="c.xlsx",
    )
    assert result.ok and result.inserted == 1
    customer = session.exec(select(Customer)).one()
    assert (customer.phone, customer.birth_year) == ("0901234567", 1990)
    exported = export_file(session=session, actor=SYSTEM, entity="customers", filename="c.xlsx")
    headers, rows = read_rows(exported, "c.xlsx")
    assert headers[:2] == ["code", "name"]
    assert rows[0][:3] == ["KH930001", "Trần Thị Ánh", "organisation"]


# --------------------------------------------------------------------------- round trip
def _copy_reference_data(source: Session, target: Session) -> None:
    """Users and campaigns are not imported; the target gets the same ones first."""
    for user in source.exec(select(User)).all():
        target.add(User(username=user.username, display_name=user.display_name, role=user.role))
    for campaign in source.exec(select(Campaign)).all():
        target.add(Campaign.model_validate(campaign.model_dump(exclude={"id"})))
    target.commit()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_round_trip_customers_products_orders(
    seeded_sqlite_url: str, sqlite_url: str, suffix: str
) -> None:
    with (
        Session(get_engine(seeded_sqlite_url)) as source,
        Session(get_engine(sqlite_url)) as target,
    ):
        _copy_reference_data(source, target)
        first = {
            entity: export_file(
                session=source, actor=SYSTEM, entity=entity, filename=f"{entity}{suffix}"
            )
            # openpyxl reads ~30,000 cells/s: the 19,000 order lines round-trip as CSV;
            # orders in .xlsx are covered by the sample file.
            for entity in ("products", "customers", "orders")
            if suffix == ".csv" or entity != "orders"
        }
        for entity, data in first.items():
            result = import_file(
                session=target,
                actor=SYSTEM,
                entity=entity,
                data=data,
                filename=f"{entity}{suffix}",
            )
            assert result.ok, result.errors[:5]
            assert result.written
        assert count(target, Customer) == count(source, Customer)
        if suffix == ".csv":
            assert count(target, OrderLine) == count(source, OrderLine)
        second = {
            entity: export_file(
                session=target, actor=SYSTEM, entity=entity, filename=f"{entity}{suffix}"
            )
            for entity in first
        }
    for entity in first:
        if suffix == ".csv":
            assert second[entity] == first[entity], entity
        else:
            assert read_rows(second[entity], "x.xlsx") == read_rows(first[entity], "x.xlsx")


def test_round_trip_of_every_other_entity(seeded_sqlite_url: str, sqlite_url: str) -> None:
    entities = (
        "products",
        "customers",
        "contacts",
        "interactions",
        "inquiries",
        "opportunities",
        "complaints",
        "survey_answers",
        "campaign_members",
    )
    with (
        Session(get_engine(seeded_sqlite_url)) as source,
        Session(get_engine(sqlite_url)) as target,
    ):
        _copy_reference_data(source, target)
        for entity in entities:
            data = export_file(session=source, actor=SYSTEM, entity=entity, filename="x.csv")
            result = import_file(
                session=target, actor=SYSTEM, entity=entity, data=data, filename="x.csv"
            )
            assert result.ok, (entity, result.errors[:5])
            again = export_file(session=target, actor=SYSTEM, entity=entity, filename="x.csv")
            assert again == data, entity


# --------------------------------------------------------------------------- samples, CLI
def test_sample_files_import_cleanly(sqlite_url: str) -> None:
    mapping = json.loads((SAMPLES / "mapping.json").read_text(encoding="utf-8"))
    with Session(get_engine(sqlite_url)) as session:
        session.add(User(username="staff1", display_name="staff1", role=Role.staff))
        session.add(
            Campaign(
                name="Khuyến mãi hè 2026",
                channel="sms",
                purpose="retention",
                start_date=dt.date(2026, 6, 1),
                end_date=dt.date(2026, 8, 31),
            )
        )
        session.commit()
        for entity, name in [
            ("products", "products.csv"),
            ("customers", "customers.csv"),
            ("customers", "customers_vi.csv"),
            ("contacts", "contacts.csv"),
            ("orders", "orders.xlsx"),
            ("interactions", "interactions.csv"),
            ("inquiries", "inquiries.csv"),
            ("opportunities", "opportunities.csv"),
            ("complaints", "complaints.csv"),
            ("survey_answers", "survey_answers.csv"),
            ("campaign_members", "campaign_members.csv"),
        ]:
            result = import_file(
                session=session,
                actor=SYSTEM,
                entity=entity,
                data=(SAMPLES / name).read_bytes(),
                filename=name,
                mapping=mapping.get(name),
            )
            assert result.ok, (name, result.errors)
        assert count(session, Product) >= 3 and count(session, Order) >= 2


def test_cli_import_and_export(sqlite_url: str, tmp_path: Path, capsys) -> None:
    source = tmp_path / "customers.csv"
    source.write_text(CUSTOMERS_CSV, encoding="utf-8")
    args = ["--database-url", sqlite_url]
    assert cli_main([*args, "import", "customers", str(source), "--dry-run"]) == 0
    assert "would write 2 new" in capsys.readouterr().out
    assert cli_main([*args, "import", "customers", str(source)]) == 0
    assert cli_main([*args, "import", "customers", str(source), "--on-duplicate", "error"]) == 1
    out = capsys.readouterr().out
    assert "row 2, code: already exists" in out
    target = tmp_path / "out.csv"
    assert cli_main([*args, "export", "customers", str(target)]) == 0
    assert target.read_bytes().decode("utf-8-sig").startswith("code,name")
