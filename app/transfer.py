"""Import and export of CSV and Excel files, one entity per file.

Files hold business keys, never internal ids: customers by code, products by code,
orders by order code, campaigns by name, users by username. Every row is validated
through the entity's ``...Create`` model; rows are then written with SQLAlchemy Core
``executemany`` in chunks, in one transaction. By default the valid rows are written
and the bad ones reported; with ``atomic`` nothing is written when any row is bad;
``dry_run`` validates and reports without writing. Row numbers are spreadsheet row
numbers: the header is row 1, the first data row is row 2.

Rows that refer to a customer give its code (``customer_code``), or, when the code is
blank or its column absent, its email (``customer_email``, case-insensitive) or phone
(``customer_phone``, compared as duplicate detection does: digits only, +84 → 0). An
unknown or ambiguous (several customers share it) email or phone is a row error.

Numbers: ``1.234.567``, ``1,234,567``, ``1234567.5`` and ``1.234.567,5`` are all read;
with a single separator, a group of exactly three digits after it is a thousands group
when the column cannot have three decimals (money), else a decimal part (quantities).
Dates: ``YYYY-MM-DD`` or ``dd/mm/yyyy``; times may follow (naive times are UTC).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, SQLModel

from app.errors import InvalidInput, from_validation_error
from app.kpi.summaries import lock_orders_for_bulk_load
from app.models import (
    AuditAction,
    Campaign,
    CampaignMember,
    CampaignMemberCreate,
    Complaint,
    ComplaintCreate,
    Contact,
    ContactCreate,
    Customer,
    CustomerCreate,
    Inquiry,
    InquiryCreate,
    Interaction,
    InteractionCreate,
    Opportunity,
    OpportunityCreate,
    OpportunityStageHistory,
    Order,
    OrderCreate,
    OrderLine,
    OrderLineCreate,
    Product,
    ProductCreate,
    SurveyResponse,
    SurveyResponseCreate,
    User,
    utcnow,
)
from app.retry import retrying
from app.services.access import Actor, Permission, require, visible_customers
from app.services.common import add_audit
from app.text import fold, normalise_phone

CHUNK = 5000
CUSTOMER_ALTERNATIVES = ("customer_email", "customer_phone")  # tried in this order
MAX_FILE_BYTES = 100 * 1024 * 1024
ON_DUPLICATE = ("skip", "update", "error")


# --------------------------------------------------------------------------- column specs
@dataclass(frozen=True)
class Col:
    """One file column: its header, the model field it feeds and how to parse it.

    ``ref`` names a lookup (customer, product, campaign, user) turning the business key
    in the file into the id field ``field``. ``extra`` columns are not in the Create
    model but are stored too (e.g. ``archived``), so an export re-imports without loss.
    ``export`` is False for import-only columns (the customer's email or phone, which
    stand in for a missing customer code; exports always carry the code).
    """

    name: str
    kind: str = "text"  # text, int, money, qty, ratio, date, datetime, bool
    field: str | None = None
    ref: str | None = None
    extra: bool = False
    aliases: tuple[str, ...] = ()
    export: bool = True

    @property
    def target(self) -> str:
        return self.field or self.name


@dataclass(frozen=True)
class Spec:
    """An importable entity."""

    name: str
    table: type[SQLModel]
    model: type[BaseModel]
    columns: tuple[Col, ...]
    key: tuple[str, ...] = ()  # duplicate key columns (business key), empty: none
    permission: Permission = Permission.write
    label: str = ""

    def column(self, name: str) -> Col:
        return next(col for col in self.columns if col.name == name)


CUSTOMER = Col(
    "customer_code",
    field="customer_id",
    ref="customer",
    aliases=("customer", "ma khach hang", "ma kh", "khach hang"),
)
# The customer by email or phone when a row has no customer code (see the docstring).
CUSTOMER_EMAIL = Col(
    "customer_email",
    field="customer_id",
    ref="customer_email",
    aliases=("email khach hang", "email kh", "thu dien tu khach hang"),
    export=False,
)
CUSTOMER_PHONE = Col(
    "customer_phone",
    field="customer_id",
    ref="customer_phone",
    aliases=("sdt khach hang", "dien thoai khach hang", "so dien thoai khach hang", "sdt kh"),
    export=False,
)
# Files whose rows have no email or phone of their own: bare "email"/"phone" headers
# there mean the customer's (contacts have their own, so they keep the long names).
CUSTOMER_EMAIL_BARE = Col(
    "customer_email",
    field="customer_id",
    ref="customer_email",
    aliases=(*CUSTOMER_EMAIL.aliases, "email", "thu dien tu"),
    export=False,
)
CUSTOMER_PHONE_BARE = Col(
    "customer_phone",
    field="customer_id",
    ref="customer_phone",
    aliases=(*CUSTOMER_PHONE.aliases, "phone", "dien thoai", "so dien thoai", "sdt"),
    export=False,
)
CUSTOMER_BY = (CUSTOMER, CUSTOMER_EMAIL_BARE, CUSTOMER_PHONE_BARE)
USER = Col("user", field="user_id", ref="user", aliases=("username", "nhan vien", "staff"))
OWNER = Col("owner", field="owner_id", ref="user", aliases=("owner_username", "phu trach"))
CAMPAIGN = Col(
    "campaign", field="campaign_id", ref="campaign", aliases=("campaign_name", "chien dich")
)

SPECS: dict[str, Spec] = {
    "customers": Spec(
        "customers",
        Customer,
        CustomerCreate,
        (
            Col("code", aliases=("customer_code", "ma khach hang", "ma kh", "ma")),
            Col("name", aliases=("customer_name", "ten khach hang", "ten", "ten cong ty")),
            Col("kind", aliases=("loai", "loai khach hang")),
            Col("is_foreign", "bool", aliases=("foreign", "nuoc ngoai")),
            Col("tax_code", aliases=("ma so thue", "mst")),
            Col("industry", aliases=("nganh", "nganh nghe")),
            Col("segment", aliases=("phan khuc",)),
            Col("province", aliases=("tinh", "tinh thanh", "tinh/thanh pho")),
            Col("region", aliases=("vung", "mien")),
            Col("address", aliases=("dia chi",)),
            Col("phone", aliases=("dien thoai", "so dien thoai", "sdt")),
            Col("email", aliases=("thu dien tu",)),
            Col("representative", aliases=("nguoi dai dien", "dai dien")),
            Col("gender", aliases=("gioi tinh",)),
            Col("birth_year", "int", aliases=("nam sinh",)),
            Col("channel", aliases=("kenh", "nguon")),
            Col(
                "referred_by_code",
                field="referred_by_id",
                ref="customer_late",
                aliases=("referred_by", "nguoi gioi thieu"),
            ),
            OWNER,
            Col("lifecycle", aliases=("giai doan",)),
            Col("archived", "bool", extra=True, aliases=("luu tru",)),
        ),
        key=("code",),
        label="Customers",
    ),
    "contacts": Spec(
        "contacts",
        Contact,
        ContactCreate,
        (
            CUSTOMER,
            CUSTOMER_EMAIL,
            CUSTOMER_PHONE,
            Col("name", aliases=("contact_name", "ho ten", "ten nguoi lien he")),
            Col("title", aliases=("chuc vu",)),
            Col("phone", aliases=("dien thoai", "sdt")),
            Col("email"),
            Col("is_primary", "bool", aliases=("primary", "chinh")),
        ),
        label="Contact persons",
    ),
    "products": Spec(
        "products",
        Product,
        ProductCreate,
        (
            Col("code", aliases=("product_code", "ma san pham", "ma hang", "ma sp")),
            Col("name", aliases=("product_name", "ten san pham", "ten hang")),
            Col("category", aliases=("nhom", "danh muc", "nhom hang")),
            Col("unit_price", "money", aliases=("price", "don gia", "gia ban")),
            Col("unit_cost", "money", aliases=("cost", "gia von")),
            Col("active", "bool", aliases=("dang ban",)),
        ),
        key=("code",),
        permission=Permission.catalogue,
        label="Products",
    ),
    "orders": Spec(
        "orders",
        Order,
        OrderCreate,
        (
            Col("order_code", field="code", aliases=("ma don hang", "so don hang", "order")),
            *CUSTOMER_BY,
            Col("ordered_at", "datetime", aliases=("order_date", "ngay dat hang", "ngay")),
            Col("status", aliases=("trang thai",)),
            Col("currency", aliases=("tien te",)),
            Col("payment_due", "date", aliases=("han thanh toan",)),
            Col("delivery_due", "date", aliases=("han giao hang",)),
            CAMPAIGN,
            Col("promotion", aliases=("khuyen mai",)),
            Col("notes", aliases=("ghi chu",)),
            USER,
            Col(
                "product_code",
                field="product_id",
                ref="product",
                aliases=("ma san pham", "ma hang", "product"),
            ),
            Col("quantity", "qty", aliases=("so luong", "qty")),
            Col("unit_price", "money", aliases=("don gia", "price")),
            Col("unit_cost", "money", aliases=("gia von", "cost")),
            Col("discount", "ratio", aliases=("chiet khau", "giam gia")),
            Col("customised", "bool", aliases=("theo yeu cau",)),
        ),
        key=("order_code",),
        label="Orders (one row per line)",
    ),
    "interactions": Spec(
        "interactions",
        Interaction,
        InteractionCreate,
        (
            *CUSTOMER_BY,
            USER,
            Col("kind", aliases=("loai", "hinh thuc")),
            Col("direction", aliases=("chieu",)),
            Col("occurred_at", "datetime", aliases=("date", "ngay", "thoi gian")),
            Col("subject", aliases=("tieu de", "noi dung")),
            Col("notes", aliases=("ghi chu",)),
            Col("outcome", aliases=("ket qua",)),
            Col("follow_up_due", "date", aliases=("hen lien he lai", "follow_up")),
        ),
        label="Interactions",
    ),
    "inquiries": Spec(
        "inquiries",
        Inquiry,
        InquiryCreate,
        (
            *CUSTOMER_BY,
            Col(
                "product_code",
                field="product_id",
                ref="product",
                aliases=("ma san pham", "product"),
            ),
            USER,
            Col("need", aliases=("nhu cau", "noi dung")),
            Col("quantity", "qty", aliases=("so luong",)),
            Col("asked_at", "datetime", aliases=("ngay hoi", "date")),
            Col("status", aliases=("trang thai",)),
            Col("reason", aliases=("ly do",)),
        ),
        label="Inquiries",
    ),
    "opportunities": Spec(
        "opportunities",
        Opportunity,
        OpportunityCreate,
        (
            *CUSTOMER_BY,
            Col("title", aliases=("ten co hoi", "tieu de")),
            Col("amount", "money", aliases=("gia tri", "value")),
            Col("stage", aliases=("giai doan",)),
            Col("expected_close", "date", aliases=("du kien chot",)),
            Col("lost_reason", aliases=("ly do mat",)),
            CAMPAIGN,
            OWNER,
            Col("created_at", "datetime", extra=True, aliases=("ngay tao",)),
            Col("closed_at", "datetime", extra=True, aliases=("ngay dong",)),
        ),
        label="Opportunities",
    ),
    "complaints": Spec(
        "complaints",
        Complaint,
        ComplaintCreate,
        (
            *CUSTOMER_BY,
            Col("category", aliases=("loai khieu nai", "van de")),
            Col("severity", aliases=("muc do",)),
            Col("channel", aliases=("kenh",)),
            Col("opened_at", "datetime", aliases=("ngay tiep nhan", "date")),
            Col("first_response_at", "datetime", aliases=("phan hoi dau",)),
            Col("resolved_at", "datetime", aliases=("ngay giai quyet",)),
            Col("status", aliases=("trang thai",)),
            Col("description", aliases=("mo ta",)),
            Col("resolution", aliases=("cach giai quyet",)),
            OWNER,
        ),
        label="Complaints",
    ),
    "survey_answers": Spec(
        "survey_answers",
        SurveyResponse,
        SurveyResponseCreate,
        (
            *CUSTOMER_BY,
            Col("nps", "int", aliases=("diem nps",)),
            Col("csat", "int", aliases=("diem hai long",)),
            Col("comment", aliases=("y kien", "gop y")),
            Col("answered_at", "datetime", aliases=("ngay tra loi", "date")),
        ),
        label="Survey answers",
    ),
    "campaign_members": Spec(
        "campaign_members",
        CampaignMember,
        CampaignMemberCreate,
        (
            CAMPAIGN,
            *CUSTOMER_BY,
            Col("contacted_at", "datetime", aliases=("ngay lien he",)),
            Col("responded", "bool", aliases=("phan hoi",)),
            Col("responded_at", "datetime", aliases=("ngay phan hoi",)),
            Col("converted", "bool", aliases=("chuyen doi", "mua hang")),
        ),
        key=("campaign", "customer_code"),
        label="Campaign members",
    ),
}


# --------------------------------------------------------------------------- results
@dataclass
class RowError:
    row: int  # spreadsheet row number (header = 1); 0 for the whole file
    column: str
    message: str


@dataclass
class ImportResult:
    entity: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def errors_frame(self):  # noqa: ANN201 - a DataFrame
        import pandas as pd

        return pd.DataFrame(
            [(e.row, e.column, e.message) for e in self.errors],
            columns=["row", "column", "message"],
        )

    def summary(self) -> str:
        verb = "would write" if self.dry_run or not self.written else "wrote"
        text = (
            f"{self.entity}: {self.rows} rows read; {verb} {self.inserted} new, "
            f"{self.updated} updated; {self.skipped} skipped as duplicates; "
            f"{len(self.errors)} errors"
        )
        if self.errors and not self.written and not self.dry_run:
            text += "; nothing was written"
        return text + "."


class FileError(InvalidInput):
    """The file itself cannot be read (encoding, empty, too large, wrong type)."""

    def __init__(self, message: str):
        super().__init__({"file": message})


# --------------------------------------------------------------------------- reading files
def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # UTF-16 without a BOM: every other byte of ASCII text is zero.
    if len(raw) > 3 and raw[1:200:2].count(0) > len(raw[1:200:2]) * 0.8:
        try:
            return raw.decode("utf-16-le")
        except UnicodeDecodeError:
            pass
    raise FileError(
        "the file is not UTF-8 or UTF-16 text; save it from Excel as "
        "'CSV UTF-8' or as .xlsx and try again"
    )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat() if value.time() != dt.time(0) else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f") if value == value else ""
    if isinstance(value, int | Decimal):
        return str(value)
    return str(value)


def read_rows(data: bytes, filename: str) -> tuple[list[str], list[list[str]]]:
    """The header and the data rows of a CSV (any common encoding and delimiter) or
    ``.xlsx`` file, as text."""
    if len(data) > MAX_FILE_BYTES:
        raise FileError(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    if not data.strip():
        raise FileError("the file is empty")
    if filename.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data)
    if filename.lower().endswith(".xls"):
        raise FileError("old .xls files are not supported; save as .xlsx or CSV")
    text = _decode(data)
    sample = text[:8192]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        delimiter = max(",;\t", key=first.count)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise FileError(f"the CSV file is malformed: {exc}") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise FileError("the file is empty")
    return [cell.strip() for cell in rows[0]], rows[1:]


def _read_xlsx(data: bytes) -> tuple[list[str], list[list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the file's fault
        raise FileError(f"the Excel file cannot be read: {exc}") from None
    sheet = workbook.worksheets[0]
    rows = []
    for values in sheet.iter_rows(values_only=True):
        cells = [_cell_text(value) for value in values]
        while cells and cells[-1] == "":
            cells.pop()
        rows.append(cells)
    workbook.close()
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise FileError("the file is empty")
    width = len(rows[0])
    # Excel leaves trailing empty cells out; pad them back.
    return [cell.strip() for cell in rows[0]], [row + [""] * (width - len(row)) for row in rows[1:]]


# --------------------------------------------------------------------------- mapping
def _norm_header(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", fold(text, company=False)).strip()


def auto_mapping(entity: str, headers: Iterable[str]) -> dict[str, str]:
    """{file header: column} for the headers recognised by name or alias (EN and VI)."""
    spec = _spec(entity)
    known: dict[str, str] = {}
    for col in spec.columns:
        for name in (col.name, col.target, *col.aliases):
            known.setdefault(_norm_header(name), col.name)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        target = known.get(_norm_header(header))
        if target and target not in used:
            mapping[header] = target
            used.add(target)
    return mapping


def load_mapping(path: str | Path) -> dict[str, str]:
    """A mapping file: JSON {file header: column}, or {entity: {...}} per entity."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput({"mapping": f"cannot read the mapping file: {exc}"}) from None
    if not isinstance(data, dict):
        raise InvalidInput({"mapping": "the mapping file must hold a JSON object"})
    return data


# --------------------------------------------------------------------------- parsing values
_DATE_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def parse_number(text: str, *, decimals: int) -> Decimal:
    """A number as Vietnamese and English files write it (see the module docstring)."""
    raw = text.strip().replace(" ", "").replace("\u00a0", "")
    if raw.endswith("%"):
        return parse_number(raw[:-1], decimals=decimals + 2) / 100
    negative = raw.startswith("-")
    body = raw.lstrip("+-")
    if not re.fullmatch(r"[0-9.,]+", body or "x"):
        raise ValueError("is not a number")
    dots, commas = body.count("."), body.count(",")
    if dots and commas:
        decimal_sep = "." if body.rfind(".") > body.rfind(",") else ","
        thousands = "," if decimal_sep == "." else "."
        body = body.replace(thousands, "").replace(decimal_sep, ".")
    elif dots + commas > 1:
        sep = "." if dots else ","
        body = body.replace(sep, "")
    elif dots + commas == 1:
        sep = "." if dots else ","
        tail = body.split(sep)[1]
        if len(tail) == 3 and decimals < 3:
            body = body.replace(sep, "")
        else:
            body = body.replace(sep, ".")
    try:
        value = Decimal(body)
    except InvalidOperation:
        raise ValueError("is not a number") from None
    return -value if negative else value


def parse_date(text: str) -> dt.date:
    value = text.strip()
    match = _DATE_DMY.match(value)
    if match and match.group(4) is None:
        day, month, year = (int(match.group(i)) for i in (1, 2, 3))
        return dt.date(year, month, day)
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise ValueError("is not a date (YYYY-MM-DD or dd/mm/yyyy)") from None


def parse_datetime(text: str) -> dt.datetime:
    value = text.strip()
    match = _DATE_DMY.match(value)
    if match:
        day, month, year = (int(match.group(i)) for i in (1, 2, 3))
        hour, minute, second = (int(match.group(i) or 0) for i in (4, 5, 6))
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("is not a date and time (ISO or dd/mm/yyyy HH:MM)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


_TRUE = {"true", "1", "yes", "y", "x", "co", "dung"}
_FALSE = {"false", "0", "no", "n", "khong", "sai"}


def parse_value(text: str, kind: str) -> Any:
    """Text of a cell → a Python value for the model (blank → None)."""
    if text is None or not str(text).strip():
        return None
    value = str(text).strip()
    if kind == "text":
        return value
    if kind == "int":
        number = parse_number(value, decimals=0)
        if number != number.to_integral_value():
            raise ValueError("must be a whole number")
        return int(number)
    if kind == "money":
        return parse_number(value, decimals=2)
    if kind == "qty":
        return parse_number(value, decimals=3)
    if kind == "ratio":
        return parse_number(value, decimals=4)
    if kind == "date":
        return parse_date(value)
    if kind == "datetime":
        return parse_datetime(value)
    if kind == "bool":
        folded = fold(value, company=False)
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
        raise ValueError("must be true or false")
    raise AssertionError(kind)


# --------------------------------------------------------------------------- lookups
class Lookups:
    """Business key → id maps, loaded once per import (customers visible to the actor)."""

    def __init__(self, session: Session, actor: Actor, needed: set[str]):
        self.maps: dict[str, dict[str, int]] = {}
        if needed & {"customer", "customer_late"}:
            rows = session.exec(
                select(Customer.code, Customer.id).where(visible_customers(actor))
            ).all()
            self.maps["customer"] = {code: cid for code, cid in rows}
        if "product" in needed:
            self.maps["product"] = dict(session.exec(select(Product.code, Product.id)).all())
        if "campaign" in needed:
            self.maps["campaign"] = {key: cid for cid, key in campaign_keys(session).items()}
            for cid, name, start in session.exec(
                select(Campaign.id, Campaign.name, Campaign.start_date)
            ).all():
                self.maps["campaign"].setdefault(f"{name} [{start.isoformat()}]", cid)
        if "user" in needed:
            self.maps["user"] = dict(session.exec(select(User.username, User.id)).all())
        # Email or phone → [(archived, id)]; several customers may share one.
        self.contacts: dict[str, dict[str, list[tuple[bool, int]]]] = {}
        for ref, column, key_of in (
            ("customer_email", Customer.email, _email_key),
            ("customer_phone", Customer.phone, normalise_phone),
        ):
            if ref not in needed:
                continue
            found: dict[str, list[tuple[bool, int]]] = {}
            rows = session.exec(
                select(column, Customer.archived, Customer.id).where(
                    visible_customers(actor), column.is_not(None)
                )
            ).all()
            for value, archived, cid in rows:
                if key := key_of(value):
                    found.setdefault(key, []).append((bool(archived), cid))
            self.contacts[ref] = found

    def resolve(self, ref: str, key: str) -> int | None:
        return self.maps["customer" if ref == "customer_late" else ref].get(key)

    def customer_by(self, ref: str, text: str) -> tuple[int | None, str]:
        """The customer whose email or phone (``ref``) is ``text``: (id, "") or (None, the
        reason). Archived customers only count when no active one matches, so a merged-away
        duplicate sharing the survivor's phone does not make it ambiguous."""
        what = "email" if ref == "customer_email" else "phone"
        key = _email_key(text) if ref == "customer_email" else normalise_phone(text)
        matches = self.contacts[ref].get(key, []) if key else []
        active = [cid for archived, cid in matches if not archived]
        candidates = active or [cid for _, cid in matches]
        if not candidates:
            return None, f"no customer has the {what} {text!r}"
        if len(candidates) > 1:
            return None, (
                f"{len(candidates)} customers have the {what} {text!r}; give the customer code"
            )
        return candidates[0], ""


def _email_key(value: str | None) -> str:
    """An email compared as duplicate detection does: trimmed, lower case."""
    return (value or "").strip().lower()


def campaign_keys(session: Session) -> dict[int, str]:
    """Campaign id → the key files use: its name, or "name [start date]" when several
    campaigns share the name."""
    rows = session.exec(select(Campaign.id, Campaign.name, Campaign.start_date)).all()
    counts: dict[str, int] = {}
    for _, name, _ in rows:
        counts[name] = counts.get(name, 0) + 1
    return {
        cid: name if counts[name] == 1 else f"{name} [{start.isoformat()}]"
        for cid, name, start in rows
    }


_REF_NAMES = {
    "customer": "customer code",
    "customer_late": "customer code",
    "product": "product code",
    "campaign": "campaign name",
    "user": "username",
}


# --------------------------------------------------------------------------- import
def _spec(entity: str) -> Spec:
    try:
        return SPECS[entity]
    except KeyError:
        raise InvalidInput(
            {"entity": f"unknown entity {entity!r}; one of {', '.join(SPECS)}"}
        ) from None


def _errors_from_validation(
    exc: ValidationError, row_no: int, field_to_col: dict[str, str]
) -> list[RowError]:
    errors = []
    for fld, message in from_validation_error(exc).field_errors.items():
        head = fld.split(".")[-1] if fld.startswith("lines.") else fld
        column = field_to_col.get(head, "" if head == "input" else head)
        errors.append(RowError(row_no, column, message))
    return errors


@retrying
def import_rows(
    *,
    session: Session,
    actor: Actor,
    entity: str,
    headers: list[str],
    rows: list[list[str]],
    mapping: dict[str, str] | None = None,
    dry_run: bool = False,
    on_duplicate: str = "skip",
    atomic: bool = False,
    source: str = "",
    progress: Callable[[float], None] | None = None,
) -> ImportResult:
    """Validate every row, then (unless ``dry_run``) write the valid ones in one
    transaction and report the bad ones; with ``atomic`` nothing is written when any row
    is bad."""
    spec = _spec(entity)
    require(actor, spec.permission)
    if on_duplicate not in ON_DUPLICATE:
        raise InvalidInput({"on_duplicate": f"must be one of {', '.join(ON_DUPLICATE)}"})
    if mapping and entity in mapping and isinstance(mapping[entity], dict):
        mapping = mapping[entity]
    mapping = dict(mapping or auto_mapping(entity, headers))
    result = ImportResult(entity=entity, rows=len(rows), dry_run=dry_run)
    columns = {col.name: col for col in spec.columns}
    unknown = sorted(set(mapping.values()) - set(columns))
    if unknown:
        raise InvalidInput({"mapping": f"unknown columns for {entity}: {', '.join(unknown)}"})
    index: dict[str, int] = {}
    for position, header in enumerate(headers):
        target = mapping.get(header)
        if target and target not in index:
            index[target] = position
    if not rows:
        result.errors.append(RowError(1, "", "the file has a header but no data rows"))
        return result
    field_to_col: dict[str, str] = {}
    for col in spec.columns:  # the first column of a field names it (customer_code)
        field_to_col.setdefault(col.target, col.name)
    needed = {
        col.ref
        for col in spec.columns
        # The email and phone maps cost a scan of all customers: only when in the file.
        if col.ref and (col.ref not in CUSTOMER_ALTERNATIVES or col.name in index)
    }
    lookups = Lookups(session, actor, needed)

    parsed: list[tuple[int, dict[str, Any], dict[str, Any], dict[str, str]]] = []
    width = len(headers)
    for offset, cells in enumerate(rows):
        row_no = offset + 2
        if progress and offset % 5000 == 0:
            progress(0.5 * offset / max(len(rows), 1))
        if len(cells) < width or any(cell.strip() for cell in cells[width:]):
            result.errors.append(
                RowError(row_no, "", f"has {len(cells)} values but the header has {width}")
            )
            continue
        values: dict[str, Any] = {}
        extras: dict[str, Any] = {}
        keys: dict[str, str] = {}
        row_errors: list[RowError] = []
        for name, position in index.items():
            col = columns[name]
            text = cells[position].strip() if position < len(cells) else ""
            if col.ref:
                keys[name] = text
                if not text or col.ref in CUSTOMER_ALTERNATIVES:
                    continue
                ref_id = lookups.resolve(col.ref, text)
                if ref_id is None and col.ref != "customer_late":
                    row_errors.append(
                        RowError(row_no, name, f"unknown {_REF_NAMES[col.ref]} {text!r}")
                    )
                    continue
                values[col.target] = ref_id
                continue
            try:
                value = parse_value(text, col.kind)
            except ValueError as exc:
                row_errors.append(RowError(row_no, name, str(exc)))
                continue
            if col.name in spec.key:
                keys[name] = text
            if col.extra:
                if value is not None:
                    extras[col.target] = value
            elif value is not None:
                values[col.target] = value
        if "customer_id" not in values and not keys.get("customer_code"):
            for name in CUSTOMER_ALTERNATIVES:
                if keys.get(name):
                    customer_id, problem = lookups.customer_by(name, keys[name])
                    if problem:
                        row_errors.append(RowError(row_no, name, problem))
                    else:
                        values["customer_id"] = customer_id
                    break
        if row_errors:
            result.errors.extend(row_errors)
            continue
        parsed.append((row_no, values, extras, keys))

    writer = _WRITERS.get(entity, _write_simple)
    writer(
        session=session,
        actor=actor,
        spec=spec,
        parsed=parsed,
        result=result,
        lookups=lookups,
        on_duplicate=on_duplicate,
        field_to_col=field_to_col,
        plan_only=True,
    )
    if progress:
        progress(0.6)
    if dry_run or (atomic and result.errors):
        session.rollback()
        return result
    writer(
        session=session,
        actor=actor,
        spec=spec,
        parsed=parsed,
        result=result,
        lookups=lookups,
        on_duplicate=on_duplicate,
        field_to_col=field_to_col,
        plan_only=False,
    )
    add_audit(
        session=session,
        user_id=actor.user_id,
        entity=spec.table.__tablename__,
        entity_id=None,
        action=AuditAction.create,
        after={
            "import": source or entity,
            "rows": result.rows,
            "inserted": result.inserted,
            "updated": result.updated,
            "skipped": result.skipped,
            "rejected_rows": len({error.row for error in result.errors}),
        },
    )
    session.commit()
    result.written = True
    if progress:
        progress(1.0)
    return result


def _owner_allowed(actor: Actor, values: dict[str, Any]) -> bool:
    owner = values.get("owner_id")
    return not actor.sees_own_customers_only or owner in (None, actor.user_id)


def _defaults(spec: Spec) -> dict[str, Any]:
    now = utcnow()
    table = spec.table
    defaults: dict[str, Any] = {}
    for name in ("created_at", "updated_at"):
        if name in table.__table__.columns:
            defaults[name] = now
    if "archived" in table.__table__.columns:
        defaults["archived"] = False
    return defaults


def _db_row(spec: Spec, model: BaseModel, extras: dict[str, Any], defaults: dict) -> dict:
    columns = spec.table.__table__.columns
    row = {k: v for k, v in model.model_dump().items() if k in columns}
    for name, value in defaults.items():
        row.setdefault(name, value)
    row.update(extras)
    return row


def _uniform(rows: list[dict]) -> list[dict]:
    """Rows with the same keys (executemany needs one parameter set); missing → None."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    if all(len(row) == len(names) for row in rows):
        return rows
    return [{name: row.get(name) for name in names} for row in rows]


def _execute_chunks(connection: Connection, statement: Any, rows: list[dict]) -> None:
    rows = _uniform(rows)
    for start in range(0, len(rows), CHUNK):
        connection.execute(statement, rows[start : start + CHUNK])


def _insert_returning_ids(connection: Connection, table: Any, rows: list[dict]) -> list[int]:
    ids: list[int] = []
    rows = _uniform(rows)
    statement = table.insert().returning(table.c.id, sort_by_parameter_order=True)
    for start in range(0, len(rows), CHUNK):
        ids.extend(connection.execute(statement, rows[start : start + CHUNK]).scalars().all())
    return ids


def _existing_keys(session: Session, spec: Spec) -> dict[tuple, int]:
    table = spec.table
    if spec.name == "campaign_members":
        rows = session.exec(
            select(CampaignMember.campaign_id, CampaignMember.customer_id, CampaignMember.id)
        ).all()
        return {(campaign, customer): mid for campaign, customer, mid in rows}
    return {(code,): rid for code, rid in session.exec(select(table.code, table.id)).all()}


def _row_key(spec: Spec, values: dict[str, Any]) -> tuple:
    if spec.name == "campaign_members":
        return (values.get("campaign_id"), values.get("customer_id"))
    return (values.get("code"),)


def _write_simple(
    *,
    session: Session,
    actor: Actor,
    spec: Spec,
    parsed: list,
    result: ImportResult,
    lookups: Lookups,
    on_duplicate: str,
    field_to_col: dict[str, str],
    plan_only: bool,
) -> None:
    """Validate (plan) or write (not plan) the rows of a one-row-per-record entity."""
    defaults = _defaults(spec)
    existing = _existing_keys(session, spec) if spec.key else {}
    seen: dict[tuple, int] = {}
    inserts: list[dict] = []
    updates: list[dict] = []
    late_refs: list[tuple[str, str]] = []
    inserted = updated = skipped = 0
    memo = result.__dict__.setdefault("_models", {})
    file_codes: set | None = None
    for row_no, values, extras, keys in parsed:
        if plan_only:
            try:
                memo[row_no] = spec.model.model_validate(values)
            except ValidationError as exc:
                result.errors.extend(_errors_from_validation(exc, row_no, field_to_col))
                memo[row_no] = None
        model = memo.get(row_no)
        if model is None:
            continue
        if spec.name == "customers" and not _owner_allowed(actor, values):
            if plan_only:
                result.errors.append(
                    RowError(row_no, "owner", "you may only import your own customers")
                )
            continue
        if spec.name == "customers" and keys.get("referred_by_code"):
            code = keys["referred_by_code"]
            if file_codes is None:
                file_codes = {v.get("code") for _, v, _, _ in parsed}
            if lookups.resolve("customer_late", code) is None and code not in file_codes:
                if plan_only:
                    result.errors.append(
                        RowError(row_no, "referred_by_code", f"unknown customer code {code!r}")
                    )
                continue
            late_refs.append((model.code, code))
        key = _row_key(spec, values) if spec.key else None
        if key is not None:
            if key in seen:
                if plan_only:
                    result.errors.append(
                        RowError(
                            row_no,
                            spec.key[0],
                            f"repeats row {seen[key]} of this file ({'/'.join(map(str, key))})",
                        )
                    )
                continue
            seen[key] = row_no
            if key in existing:
                if on_duplicate == "error":
                    if plan_only:
                        result.errors.append(
                            RowError(row_no, spec.key[0], "already exists in the database")
                        )
                    continue
                if on_duplicate == "skip":
                    skipped += 1
                    continue
                updated += 1
                if plan_only:
                    continue
                row = _db_row(spec, model, extras, {})
                row.pop("created_at", None)
                if "updated_at" in defaults:
                    row["updated_at"] = defaults["updated_at"]
                row["_id"] = existing[key]
                updates.append(row)
                continue
        inserted += 1
        if not plan_only:
            inserts.append(_db_row(spec, model, extras, defaults))
    if plan_only:
        result.inserted, result.updated, result.skipped = inserted, updated, skipped
        return
    connection = session.connection()
    table = spec.table.__table__
    if spec.name == "opportunities":
        for row in inserts:
            if row.get("stage") not in (None, "lead", "qualified", "proposal", "negotiation"):
                row.setdefault("closed_at", row.get("created_at"))
        ids = _insert_returning_ids(connection, table, inserts)
        history = [
            {
                "opportunity_id": oid,
                "from_stage": None,
                "to_stage": row["stage"],
                "changed_at": row.get("closed_at") or row["created_at"],
                "changed_by_id": actor.user_id,
            }
            for oid, row in zip(ids, inserts, strict=True)
        ]
        _execute_chunks(connection, OpportunityStageHistory.__table__.insert(), history)
    elif inserts:
        _execute_chunks(connection, table.insert(), inserts)
    if updates:
        names = [name for name in updates[0] if name != "_id"]
        statement = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({name: bindparam(f"v_{name}") for name in names})
        )
        _execute_chunks(
            connection,
            statement,
            [{"_id": row["_id"], **{f"v_{n}": row.get(n) for n in names}} for row in updates],
        )
    if late_refs:
        codes = dict(session.exec(select(Customer.code, Customer.id)).all())
        _execute_chunks(
            connection,
            update(table)
            .where(table.c.code == bindparam("b_code"))
            .values(referred_by_id=bindparam("b_ref")),
            [{"b_code": code, "b_ref": codes[ref]} for code, ref in late_refs],
        )


def _write_orders(
    *,
    session: Session,
    actor: Actor,
    spec: Spec,
    parsed: list,
    result: ImportResult,
    lookups: Lookups,
    on_duplicate: str,
    field_to_col: dict[str, str],
    plan_only: bool,
) -> None:
    """Orders: rows grouped by order code, each row one line."""
    from app.services.sales import checked_order_totals

    header_fields = set(OrderCreate.model_fields) - {"lines"}
    line_fields = set(OrderLineCreate.model_fields)
    groups: dict[str, list[tuple[int, dict]]] = {}
    for row_no, values, _extras, _keys in parsed:
        code = values.get("code") or ""
        if not code:
            if plan_only:
                result.errors.append(RowError(row_no, "order_code", "is required"))
            continue
        groups.setdefault(code, []).append((row_no, values))
    existing = dict(session.exec(select(Order.code, Order.id)).all())
    inserts: list[tuple[dict, list[dict]]] = []
    updates: list[tuple[int, dict, list[dict]]] = []
    inserted = updated = skipped = 0
    for code, members in groups.items():
        first_row, first = members[0]
        header = {k: v for k, v in first.items() if k in header_fields}
        bad = False
        for row_no, values in members[1:]:
            for name, value in values.items():
                if name in header_fields and value != header.get(name) and value is not None:
                    if plan_only:
                        result.errors.append(
                            RowError(
                                row_no,
                                field_to_col.get(name, name),
                                f"differs from row {first_row} of the same order",
                            )
                        )
                    bad = True
        lines = [{k: v for k, v in values.items() if k in line_fields} for _, values in members]
        try:
            order_in = OrderCreate.model_validate({**header, "lines": lines})
        except ValidationError as exc:
            if plan_only:
                for error in from_validation_error(exc).field_errors.items():
                    name, message = error
                    parts = name.split(".")
                    if parts[0] == "lines" and len(parts) > 1 and parts[1].isdigit():
                        row_no = members[int(parts[1])][0]
                        column = field_to_col.get(parts[-1], parts[-1]) if len(parts) > 2 else ""
                    else:
                        row_no, column = first_row, field_to_col.get(parts[0], parts[0])
                    result.errors.append(RowError(row_no, column, message))
            continue
        try:
            amount, cost = checked_order_totals(order_in.lines)
        except InvalidInput as exc:
            if plan_only:
                result.errors.append(RowError(first_row, "", exc.field_errors["lines"]))
            continue
        if bad:
            continue
        if code in existing:
            if on_duplicate == "error":
                if plan_only:
                    result.errors.append(
                        RowError(first_row, "order_code", "already exists in the database")
                    )
                continue
            if on_duplicate == "skip":
                skipped += 1
                continue
            updated += 1
        else:
            inserted += 1
        if plan_only:
            continue
        row = order_in.model_dump(exclude={"lines"})
        row.update(code=code, amount=amount, cost=cost)
        line_rows = [line.model_dump() for line in order_in.lines]
        if code in existing:
            updates.append((existing[code], row, line_rows))
        else:
            row["created_at"] = utcnow()
            inserts.append((row, line_rows))
    if plan_only:
        result.inserted, result.updated, result.skipped = inserted, updated, skipped
        return
    connection = session.connection()
    if inserts or updates:
        lock_orders_for_bulk_load(connection)
    table = Order.__table__
    ids = _insert_returning_ids(connection, table, [row for row, _ in inserts])
    all_lines = [
        {**line, "order_id": oid}
        for oid, (_, lines) in zip(ids, inserts, strict=True)
        for line in lines
    ]
    for order_id, row, lines in updates:
        connection.execute(update(table).where(table.c.id == order_id).values(**row))
        connection.execute(delete(OrderLine.__table__).where(OrderLine.order_id == order_id))
        all_lines.extend({**line, "order_id": order_id} for line in lines)
    _execute_chunks(connection, OrderLine.__table__.insert(), all_lines)


_WRITERS: dict[str, Callable[..., None]] = {"orders": _write_orders}


def import_file(
    *,
    session: Session,
    actor: Actor,
    entity: str,
    data: bytes,
    filename: str,
    mapping: dict[str, str] | None = None,
    dry_run: bool = False,
    on_duplicate: str = "skip",
    atomic: bool = False,
    progress: Callable[[float], None] | None = None,
) -> ImportResult:
    """Read a CSV or .xlsx file and import it (see import_rows)."""
    _spec(entity)
    headers, rows = read_rows(data, filename)
    return import_rows(
        session=session,
        actor=actor,
        entity=entity,
        headers=headers,
        rows=rows,
        mapping=mapping,
        dry_run=dry_run,
        on_duplicate=on_duplicate,
        atomic=atomic,
        source=filename,
        progress=progress,
    )


# --------------------------------------------------------------------------- export
def _format(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "value") and not isinstance(value, int | float | Decimal):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    if isinstance(value, float):
        return _format(Decimal(repr(value)))
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def export_rows(*, session: Session, actor: Actor, entity: str) -> tuple[list[str], list[list]]:
    """The header and rows of an entity, in the import format."""
    spec = _spec(entity)
    require(actor, Permission.export)
    table = spec.table
    names = {
        "customer": dict(session.exec(select(Customer.id, Customer.code)).all()),
        "customer_late": None,
        "product": dict(session.exec(select(Product.id, Product.code)).all()),
        "campaign": campaign_keys(session),
        "user": dict(session.exec(select(User.id, User.username)).all()),
    }
    names["customer_late"] = names["customer"]
    exported = [col for col in spec.columns if col.export]
    headers = [col.name for col in exported]
    statement = select(table)
    if spec.name == "orders":
        statement = (
            select(Order, OrderLine)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .order_by(Order.code, OrderLine.id)
        )
    else:
        statement = statement.order_by(
            *([table.code] if "code" in table.__table__.columns else []), table.id
        )
    visible = None
    if actor.sees_own_customers_only:
        visible = set(session.exec(select(Customer.id).where(visible_customers(actor))).all())
    out: list[list] = []
    for record in session.exec(statement):
        sources = tuple(record) if spec.name == "orders" else (record[0],)
        customer_id = (
            sources[0].id if spec.name == "customers" else getattr(sources[0], "customer_id", None)
        )
        if visible is not None and customer_id not in visible:
            continue
        row = []
        for col in exported:
            source = next(s for s in sources if hasattr(s, col.target))
            value = getattr(source, col.target)
            if col.ref:
                value = names[col.ref].get(value) if value is not None else None
            row.append(_format(value))
        out.append(row)
    return headers, out


def write_table(headers: list[str], rows: list[list], filename: str) -> bytes:
    """The rows as CSV (UTF-8 with BOM, comma) or, for .xlsx names, an Excel workbook."""
    if filename.lower().endswith(".xlsx"):
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("data")
        sheet.append(headers)
        for row in rows:
            # Text cells: codes like 0901... and amounts keep their exact digits.
            sheet.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def export_file(*, session: Session, actor: Actor, entity: str, filename: str) -> bytes:
    """An entity exported as CSV or .xlsx bytes, in the import format."""
    headers, rows = export_rows(session=session, actor=actor, entity=entity)
    return write_table(headers, rows, filename)


# --------------------------------------------------------------------------- CLI handlers
MAX_PRINTED_ERRORS = 50


def cmd_import(args: Any) -> int:
    """``python -m app import ENTITY FILE``: 0 when every row is fine, 1 when some row
    was rejected (the report says which), 2 for unusable input."""
    import time

    from app.db import get_engine

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput({"file": f"cannot read {path}: {exc.strerror or exc}"}) from None
    mapping = load_mapping(args.mapping) if args.mapping else None
    if mapping and path.name in mapping and isinstance(mapping[path.name], dict):
        mapping = mapping[path.name]
    started = time.perf_counter()
    with Session(get_engine(args.database_url)) as session:
        result = import_file(
            session=session,
            actor=Actor.system(),
            entity=args.entity,
            data=data,
            filename=path.name,
            mapping=mapping,
            dry_run=args.dry_run,
            on_duplicate=args.on_duplicate,
            atomic=args.atomic,
        )
    print(f"{result.summary()} ({time.perf_counter() - started:.1f} s)")
    for error in result.errors[:MAX_PRINTED_ERRORS]:
        column = f", {error.column}" if error.column else ""
        print(f"  row {error.row}{column}: {error.message}")
    if len(result.errors) > MAX_PRINTED_ERRORS:
        print(f"  ... and {len(result.errors) - MAX_PRINTED_ERRORS} more")
    if args.errors and result.errors:
        result.errors_frame().to_csv(args.errors, index=False, encoding="utf-8-sig")
        print(f"All errors written to {args.errors}.")
    return 0 if result.ok else 1


def cmd_export(args: Any) -> int:
    """``python -m app export ENTITY FILE``: CSV or .xlsx in the import format."""
    from app.db import get_engine

    path = Path(args.file)
    with Session(get_engine(args.database_url)) as session:
        headers, rows = export_rows(session=session, actor=Actor.system(), entity=args.entity)
    path.write_bytes(write_table(headers, rows, path.name))
    print(f"Exported {len(rows):,} {args.entity} rows to {path}.")
    return 0
