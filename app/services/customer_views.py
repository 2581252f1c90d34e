"""Reads behind the Customers list, the Customer 360° page and the Segments page.

Every read applies ``visible_customers(actor)``: staff see the customers they own and
unassigned ones; a customer they may not see is reported as not found.
Search ignores Vietnamese diacritics and case: SQL narrows the candidates with the
accent-agnostic LIKE skeleton of ``app.text``, Python confirms with ``fold``; the rows
that SQL matched but Python rejects are excluded by id, so counting, sorting and paging
stay in SQL.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import func, or_
from sqlalchemy.sql.expression import ColumnElement
from sqlmodel import Session, select

from app.errors import InvalidInput
from app.models import (
    OPEN_COMPLAINT_STATUSES,
    OPEN_STAGES,
    Complaint,
    Contact,
    Customer,
    Inquiry,
    Interaction,
    Lifecycle,
    Opportunity,
    Order,
    SurveyResponse,
    User,
)
from app.retry import retrying
from app.services.access import (
    Actor,
    Permission,
    require,
    require_customer,
    visible_customers,
)
from app.settings import display_timezone, get_setting, set_setting
from app.text import (
    fold,
    like_skeleton,
    normalise_phone,
    phone_digits,
    without_control_characters,
)

PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 50
EXPORT_LIMIT = 50_000
# Upper bound on rows fetched to confirm a search in Python.
SEARCH_CANDIDATE_LIMIT = 50_000
# Upper bound on customer ids passed as an IN list (SQLite allows 32,766 parameters).
MAX_ID_FILTER = 30_000
TIMELINE_KINDS = ("interaction", "inquiry", "order", "complaint", "survey")

# The columns the list may be sorted by, as the page offers them.
SORT_COLUMNS: dict[str, Any] = {
    "code": Customer.code,
    "name": Customer.name,
    "segment": Customer.segment,
    "province": Customer.province,
    "lifecycle": Customer.lifecycle,
    "created_at": Customer.created_at,
    "updated_at": Customer.updated_at,
}

LIST_COLUMNS = [
    "id",
    "code",
    "name",
    "kind",
    "segment",
    "province",
    "region",
    "phone",
    "email",
    "tax_code",
    "lifecycle",
    "owner",
    "created_on",
    "updated_on",
]


@dataclass(frozen=True)
class CustomerQuery:
    """What the Customers list shows: search text, filters and sort order."""

    search: str = ""
    segment: str | None = None
    region: str | None = None
    province: str | None = None
    owner_id: int | None = None
    kind: str | None = None
    lifecycle: str | None = None
    # Restrict to these ids (the RFM segment filter); None = no restriction.
    customer_ids: tuple[int, ...] | None = None
    sort: str = "code"
    descending: bool = False

    def __post_init__(self) -> None:
        if self.sort not in SORT_COLUMNS:
            raise InvalidInput({"sort": f"cannot sort by {self.sort!r}"})
        if self.lifecycle is not None and self.lifecycle not in {m.value for m in Lifecycle}:
            raise InvalidInput({"lifecycle": f"unknown lifecycle {self.lifecycle!r}"})


@dataclass
class CustomerPage:
    """One page of the list, with the total number of matching customers."""

    rows: pd.DataFrame
    total: int
    page: int
    page_size: int
    notes: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, math.ceil(self.total / self.page_size))


# --------------------------------------------------------------------------- search
def _clean(text: str) -> str:
    # LIKE wildcards typed by the user are dropped rather than escaped: the skeleton
    # already uses "_" as its own wildcard.
    # A backslash is PostgreSQL's default LIKE escape; it goes the same way.
    text = without_control_characters(text or "").strip()[:100]
    return text.replace("%", "").replace("_", "").replace("\\", "")


def _phone_sql(column: Any) -> Any:
    expression = func.coalesce(column, "")
    for char in (" ", ".", "-", "(", ")", "+"):
        expression = func.replace(expression, char, "")
    return expression


def _search_terms(text: str) -> dict[str, str]:
    """The forms of the search text each field is compared with."""
    cleaned = _clean(text)
    digits = phone_digits(cleaned)
    # Only a query made of phone characters is a phone number ("KH00001" is a code).
    looks_like_phone = len(digits) >= 3 and not set(cleaned) - set("0123456789 +.-()")
    phone = normalise_phone(cleaned).lstrip("0") if looks_like_phone else ""
    if len(phone) < 3:
        phone = ""
    return {
        "text": cleaned.lower(),
        "folded": fold(cleaned, company=False),
        "digits": digits if len(digits) >= 3 else "",
        "phone": phone,
    }


def _search_condition(terms: dict[str, str]) -> ColumnElement[bool]:
    text = terms["text"]
    conditions = [
        Customer.code.ilike(f"%{text}%"),
        Customer.email.ilike(f"%{text}%"),
        Customer.tax_code.ilike(f"%{text}%"),
    ]
    if terms["folded"]:
        conditions.append(Customer.name.ilike(f"%{like_skeleton(terms['folded'])}%"))
    if terms["phone"]:
        conditions.append(_phone_sql(Customer.phone).like(f"%{terms['phone']}%"))
    return or_(*conditions)


def matches(terms: dict[str, str], row: dict[str, Any]) -> bool:
    """Whether a customer row (name, code, phone, email, tax_code) matches the search."""
    text = terms["text"]
    if not text:
        return True
    if text in (row.get("code") or "").lower() or text in (row.get("email") or "").lower():
        return True
    if text in (row.get("tax_code") or "").lower():
        return True
    if terms["phone"] and terms["phone"] in normalise_phone(row.get("phone")):
        return True
    return bool(terms["folded"]) and terms["folded"] in fold(row.get("name"), company=False)


def _conditions(actor: Actor, query: CustomerQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Customer.archived.is_(False),
        visible_customers(actor),
    ]
    for column, value in (
        (Customer.segment, query.segment),
        (Customer.region, query.region),
        (Customer.province, query.province),
        (Customer.owner_id, query.owner_id),
        (Customer.kind, query.kind),
        (Customer.lifecycle, query.lifecycle),
    ):
        if value not in (None, ""):
            conditions.append(column == value)
    if query.customer_ids is not None:
        conditions.append(Customer.id.in_(list(query.customer_ids[:MAX_ID_FILTER])))
    return conditions


def _matching_conditions(
    session: Session, actor: Actor, query: CustomerQuery
) -> tuple[list[ColumnElement[bool]], list[str]]:
    """SQL conditions selecting exactly the customers the query matches (and notes)."""
    conditions = _conditions(actor, query)
    notes: list[str] = []
    if query.customer_ids is not None and len(query.customer_ids) > MAX_ID_FILTER:
        notes.append("id_filter_truncated")
    terms = _search_terms(query.search)
    if not terms["text"]:
        return conditions, notes
    conditions.append(_search_condition(terms))
    candidates = session.exec(
        select(
            Customer.id,
            Customer.name,
            Customer.code,
            Customer.phone,
            Customer.email,
            Customer.tax_code,
        )
        .where(*conditions)
        .limit(SEARCH_CANDIDATE_LIMIT)
    ).all()
    if len(candidates) >= SEARCH_CANDIDATE_LIMIT:
        notes.append("search_truncated")
    keys = ("id", "name", "code", "phone", "email", "tax_code")
    confirmed, rejected = [], []
    for values in candidates:
        row = dict(zip(keys, values, strict=True))
        (confirmed if matches(terms, row) else rejected).append(row["id"])
    truncated = len(candidates) >= SEARCH_CANDIDATE_LIMIT
    if not truncated and len(confirmed) <= MAX_ID_FILTER:
        # The confirmed ids are exactly the matches: the count and the page look them up
        # by key instead of scanning the table twice more with the LIKE conditions.
        conditions[-1] = Customer.id.in_(confirmed or [-1])
    elif truncated or len(rejected) > len(confirmed):
        conditions.append(Customer.id.in_(confirmed[:MAX_ID_FILTER] or [-1]))
    elif rejected:
        conditions.append(Customer.id.not_in(rejected))
    return conditions, notes


def _local_date(value: dt.datetime | None, tz: ZoneInfo) -> dt.date | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(tz).date()


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)


def _list_select(conditions: list[ColumnElement[bool]], query: CustomerQuery) -> Any:
    sort_column = SORT_COLUMNS[query.sort]
    ordering = sort_column.desc() if query.descending else sort_column.asc()
    tiebreak = Customer.id.desc() if query.descending else Customer.id.asc()
    return (
        select(
            Customer.id,
            Customer.code,
            Customer.name,
            Customer.kind,
            Customer.segment,
            Customer.province,
            Customer.region,
            Customer.phone,
            Customer.email,
            Customer.tax_code,
            Customer.lifecycle,
            User.display_name,
            Customer.created_at,
            Customer.updated_at,
        )
        .outerjoin(User, User.id == Customer.owner_id)
        .where(*conditions)
        # NULLs last in both directions and on both databases.
        .order_by(sort_column.is_(None), ordering, tiebreak)
    )


def _list_frame(rows: list[Any], tz: ZoneInfo) -> pd.DataFrame:
    records = [
        [
            *(_plain(value) for value in row[:12]),
            _local_date(row[12], tz),
            _local_date(row[13], tz),
        ]
        for row in rows
    ]
    return pd.DataFrame(records, columns=LIST_COLUMNS)


def list_customers(
    *,
    session: Session,
    actor: Actor,
    query: CustomerQuery,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> CustomerPage:
    """One page of the visible customers matching ``query``, sorted, with the total."""
    require(actor, Permission.read)
    if page_size < 1 or page_size > 500:
        raise InvalidInput({"page_size": "must be between 1 and 500"})
    conditions, notes = _matching_conditions(session, actor, query)
    total = int(session.exec(select(func.count(Customer.id)).where(*conditions)).one())
    pages = max(1, math.ceil(total / page_size))
    page = min(max(1, int(page)), pages)
    rows = session.exec(
        _list_select(conditions, query).offset((page - 1) * page_size).limit(page_size)
    ).all()
    tz = display_timezone(session=session)
    return CustomerPage(
        rows=_list_frame(list(rows), tz),
        total=total,
        page=page,
        page_size=page_size,
        notes=notes,
    )


def export_customers(
    *, session: Session, actor: Actor, query: CustomerQuery, limit: int = EXPORT_LIMIT
) -> pd.DataFrame:
    """Every visible customer matching ``query`` (all pages), bounded to ``limit`` rows."""
    require(actor, Permission.export)
    conditions, _ = _matching_conditions(session, actor, query)
    rows = session.exec(_list_select(conditions, query).limit(limit)).all()
    return _list_frame(list(rows), display_timezone(session=session))


# --------------------------------------------------------------------------- 360 reads
PROFILE_FIELDS = (
    "id",
    "code",
    "name",
    "kind",
    "is_foreign",
    "tax_code",
    "industry",
    "segment",
    "province",
    "region",
    "address",
    "phone",
    "email",
    "representative",
    "gender",
    "birth_year",
    "channel",
    "lifecycle",
    "archived",
)


def customer_profile(*, session: Session, actor: Actor, customer_id: int) -> dict[str, Any]:
    """The customer's fields as plain values, plus owner and referrer names.

    Raises NotFound when the customer does not exist or the actor may not see it.
    """
    customer = require_customer(session=session, actor=actor, customer_id=customer_id)
    tz = display_timezone(session=session)
    profile = {name: _plain(getattr(customer, name)) for name in PROFILE_FIELDS}
    owner = session.get(User, customer.owner_id) if customer.owner_id else None
    profile["owner"] = owner.display_name if owner else None
    referrer = session.get(Customer, customer.referred_by_id) if customer.referred_by_id else None
    profile["referred_by"] = f"{referrer.code} · {referrer.name}" if referrer is not None else None
    profile["created_on"] = _local_date(customer.created_at, tz)
    profile["updated_on"] = _local_date(customer.updated_at, tz)
    return profile


def customer_contacts(*, session: Session, actor: Actor, customer_id: int) -> pd.DataFrame:
    """[name, title, phone, email, is_primary]: the customer's contact persons."""
    require_customer(session=session, actor=actor, customer_id=customer_id)
    rows = session.exec(
        select(Contact.name, Contact.title, Contact.phone, Contact.email, Contact.is_primary)
        .where(Contact.customer_id == customer_id)
        .order_by(Contact.is_primary.desc(), Contact.name)
    ).all()
    return pd.DataFrame(rows, columns=["name", "title", "phone", "email", "is_primary"])


TIMELINE_COLUMNS = ["kind", "at", "title", "subtype", "detail", "status", "amount"]


@dataclass
class TimelinePage:
    """One page of a customer's timeline."""

    rows: pd.DataFrame
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, math.ceil(self.total / self.page_size))


def _timeline_parts(customer_id: int, limit: int) -> dict[str, tuple[Any, Any]]:
    """Per kind: (select of the newest ``limit`` entries, count select)."""

    def newest(statement: Any, column: Any, model: Any) -> Any:
        return (
            statement.where(model.customer_id == customer_id)
            .order_by(column.desc(), model.id.desc())
            .limit(limit)
        )

    def count(model: Any) -> Any:
        return select(func.count(model.id)).where(model.customer_id == customer_id)

    return {
        "interaction": (
            newest(
                select(
                    Interaction.occurred_at,
                    Interaction.subject,
                    Interaction.kind,
                    Interaction.direction,
                    Interaction.outcome,
                ),
                Interaction.occurred_at,
                Interaction,
            ),
            count(Interaction),
        ),
        "inquiry": (
            newest(
                select(Inquiry.asked_at, Inquiry.need, Inquiry.quantity, Inquiry.status),
                Inquiry.asked_at,
                Inquiry,
            ),
            count(Inquiry),
        ),
        "order": (
            newest(
                select(
                    Order.ordered_at,
                    Order.code,
                    Order.promotion,
                    Order.status,
                    Order.amount,
                ),
                Order.ordered_at,
                Order,
            ),
            count(Order),
        ),
        "complaint": (
            newest(
                select(
                    Complaint.opened_at,
                    Complaint.category,
                    Complaint.severity,
                    Complaint.status,
                ),
                Complaint.opened_at,
                Complaint,
            ),
            count(Complaint),
        ),
        "survey": (
            newest(
                select(
                    SurveyResponse.answered_at,
                    SurveyResponse.nps,
                    SurveyResponse.csat,
                    SurveyResponse.comment,
                ),
                SurveyResponse.answered_at,
                SurveyResponse,
            ),
            count(SurveyResponse),
        ),
    }


def _timeline_entry(kind: str, row: Any) -> tuple:
    """(kind, at, title, subtype, detail, status, amount) of one record; subtype and
    status are code values (interaction kind, severity; status or direction)."""
    if kind == "interaction":
        at, subject, how, direction, outcome = row
        return (kind, at, subject, _plain(how), outcome or "", _plain(direction), None)
    if kind == "inquiry":
        at, need, quantity, status = row
        detail = "" if quantity is None else f"× {float(quantity):g}"
        return (kind, at, need, None, detail, _plain(status), None)
    if kind == "order":
        at, code, promotion, status, amount = row
        return (kind, at, code, None, promotion or "", _plain(status), float(amount or 0))
    if kind == "complaint":
        at, category, severity, status = row
        return (kind, at, category, _plain(severity), "", _plain(status), None)
    at, nps, csat, comment = row
    scores = " · ".join(
        text
        for text in (f"NPS {nps}" if nps is not None else "", f"CSAT {csat}" if csat else "")
        if text
    )
    return (kind, at, scores, None, comment or "", None, None)


def customer_timeline(
    *,
    session: Session,
    actor: Actor,
    customer_id: int,
    page: int = 1,
    page_size: int = 25,
    kinds: tuple[str, ...] = TIMELINE_KINDS,
) -> TimelinePage:
    """One page of the customer's interactions, inquiries, orders, complaints and survey
    answers, newest first, with the total number of entries (the page is clamped to
    the last one).

    Each kind contributes at most its newest ``page × page_size`` entries, which is
    enough to fill the requested page of the merged timeline.
    """
    require_customer(session=session, actor=actor, customer_id=customer_id)
    if page_size < 1 or page_size > 500:
        raise InvalidInput({"page_size": "must be between 1 and 500"})
    tz = display_timezone(session=session)
    parts = {kind: part for kind, part in _timeline_parts(customer_id, 0).items() if kind in kinds}
    total = sum(int(session.exec(counter).one()) for _, counter in parts.values())
    page = min(max(1, int(page)), max(1, math.ceil(total / page_size)))
    entries: list[tuple] = []
    for kind, (statement, _) in _timeline_parts(customer_id, page * page_size).items():
        if kind in parts:
            entries.extend(_timeline_entry(kind, row) for row in session.exec(statement).all())
    entries.sort(key=lambda entry: _aware(entry[1]), reverse=True)
    chosen = entries[(page - 1) * page_size : page * page_size]
    frame = pd.DataFrame(
        [(kind, _local(at, tz), *rest) for kind, at, *rest in chosen], columns=TIMELINE_COLUMNS
    )
    return TimelinePage(rows=frame, total=total, page=page, page_size=page_size)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _local(value: dt.datetime | None, tz: ZoneInfo) -> dt.datetime | None:
    """A UTC instant as naive local time (how tables show it)."""
    if value is None:
        return None
    return _aware(value).astimezone(tz).replace(tzinfo=None)


def open_opportunities(*, session: Session, actor: Actor, customer_id: int) -> pd.DataFrame:
    """[title, stage, amount, expected_close, owner]: the customer's open opportunities."""
    require_customer(session=session, actor=actor, customer_id=customer_id)
    rows = session.exec(
        select(
            Opportunity.title,
            Opportunity.stage,
            Opportunity.amount,
            Opportunity.expected_close,
            User.display_name,
        )
        .outerjoin(User, User.id == Opportunity.owner_id)
        .where(Opportunity.customer_id == customer_id, Opportunity.stage.in_(OPEN_STAGES))
        .order_by(Opportunity.expected_close, Opportunity.id)
    ).all()
    return pd.DataFrame(
        [
            (title, _plain(stage), float(amount or 0), close, owner)
            for title, stage, amount, close, owner in rows
        ],
        columns=["title", "stage", "amount", "expected_close", "owner"],
    )


COMPLAINT_COLUMNS = [
    "opened_at",
    "category",
    "severity",
    "status",
    "sla_hours",
    "due_at",
    "resolved_at",
    "hours_taken",
    "breached",
    "is_open",
]


def customer_complaints(
    *, session: Session, actor: Actor, customer_id: int, now: dt.datetime, limit: int = 200
) -> pd.DataFrame:
    """The customer's complaints, newest first, with their SLA: due time (opened + the
    SLA hours of the severity) and whether it was breached (resolved after it, or still
    open at ``now`` past it)."""
    require_customer(session=session, actor=actor, customer_id=customer_id)
    sla = get_setting(session=session, key="sla_hours") or {}
    tz = display_timezone(session=session)
    now = _aware(now)
    rows = session.exec(
        select(
            Complaint.opened_at,
            Complaint.category,
            Complaint.severity,
            Complaint.status,
            Complaint.resolved_at,
        )
        .where(Complaint.customer_id == customer_id)
        .order_by(Complaint.opened_at.desc(), Complaint.id.desc())
        .limit(limit)
    ).all()
    open_statuses = {status.value for status in OPEN_COMPLAINT_STATUSES}
    records = []
    for opened_at, category, severity, status, resolved_at in rows:
        severity, status = _plain(severity), _plain(status)
        hours = sla.get(severity)
        opened = _aware(opened_at)
        due = opened + dt.timedelta(hours=float(hours)) if hours is not None else None
        is_open = status in open_statuses
        finished = _aware(resolved_at) if resolved_at is not None and not is_open else now
        breached = bool(due is not None and finished > due)
        taken = (finished - opened).total_seconds() / 3600
        records.append(
            (
                _local(opened, tz),
                category,
                severity,
                status,
                hours,
                _local(due, tz),
                _local(resolved_at, tz) if resolved_at is not None else None,
                round(taken, 1),
                breached,
                is_open,
            )
        )
    return pd.DataFrame(records, columns=COMPLAINT_COLUMNS)


def customer_choices(
    *, session: Session, actor: Actor, search: str = "", limit: int = 50
) -> pd.DataFrame:
    """[id, label] of up to ``limit`` visible customers matching ``search`` (for pickers)."""
    result = list_customers(
        session=session,
        actor=actor,
        query=CustomerQuery(search=search, sort="updated_at", descending=True),
        page=1,
        page_size=limit,
    )
    frame = result.rows[["id", "code", "name"]].copy()
    frame["label"] = frame["code"] + " · " + frame["name"]
    return frame[["id", "label"]]


# --------------------------------------------------------------------------- segments
GRID_COLUMNS = ["r_score", "f_score", "customers", "monetary"]


def rfm_grid(rfm: pd.DataFrame, bins: int) -> pd.DataFrame:
    """[r_score, f_score, customers, monetary] for every (R, F) cell of the bins × bins grid,
    empty cells included with 0 customers."""
    cells = pd.MultiIndex.from_product(
        [range(1, bins + 1), range(1, bins + 1)], names=["r_score", "f_score"]
    )
    if rfm.empty:
        grouped = pd.DataFrame(index=cells, data={"customers": 0, "monetary": 0.0})
    else:
        grouped = (
            rfm.groupby(["r_score", "f_score"])
            .agg(customers=("customer_id", "count"), monetary=("monetary", "sum"))
            .reindex(cells, fill_value=0)
        )
    grouped = grouped.reset_index()
    grouped["customers"] = grouped["customers"].astype("int64")
    grouped["monetary"] = grouped["monetary"].astype("float64")
    return grouped[GRID_COLUMNS]


WEIGHT_RANGE = (0.0, 5.0)
BINS_RANGE = (3, 10)


def validate_rfm_settings(weights: dict[str, float], bins: int) -> tuple[dict[str, float], int]:
    """Weights r, f, m within 0..5 and not all zero; bins 3..10; else InvalidInput."""
    errors: dict[str, str] = {}
    clean: dict[str, float] = {}
    for key in ("r", "f", "m"):
        try:
            value = float(weights.get(key, 1.0))
        except (TypeError, ValueError):
            errors[f"rfm_weights.{key}"] = "must be a number"
            continue
        if not WEIGHT_RANGE[0] <= value <= WEIGHT_RANGE[1] or math.isnan(value):
            errors[f"rfm_weights.{key}"] = "must be between 0 and 5"
        clean[key] = round(value, 2)
    if not errors and not any(clean.values()):
        errors["rfm_weights"] = "at least one weight must be above 0"
    if not isinstance(bins, int) or not BINS_RANGE[0] <= bins <= BINS_RANGE[1]:
        errors["rfm_bins"] = "must be a whole number between 3 and 10"
    if errors:
        raise InvalidInput(errors)
    return clean, bins


@retrying
def save_rfm_settings(
    *, session: Session, actor: Actor, weights: dict[str, float], bins: int
) -> None:
    """Store the RFM weights and number of score bins (managers and admins only)."""
    require(actor, Permission.settings)
    clean, bins = validate_rfm_settings(weights, bins)
    set_setting(session=session, key="rfm_weights", value=clean)
    set_setting(session=session, key="rfm_bins", value=bins)


def rfm_stored_settings(*, session: Session) -> tuple[dict[str, float], int]:
    """The stored RFM weights and bins, with defaults."""
    weights = get_setting(session=session, key="rfm_weights") or {}
    bins = int(get_setting(session=session, key="rfm_bins") or 5)
    return {key: float(weights.get(key, 1.0)) for key in ("r", "f", "m")}, bins
