"""The CRM schema: every table, with Base/Create/Update/Read classes per entity.

Table classes skip validation when built directly, so every input from a form, an
import or the CLI goes through a ``...Create``/``...Update`` model first.
Timestamps are timezone-aware and stored in UTC; money is ``Decimal``.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Annotated, Any, Optional

from pydantic import AfterValidator, StringConstraints, field_validator, model_validator
from sqlalchemy import JSON, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


def _assume_utc(value: dt.datetime) -> dt.datetime:
    # Naive input (CSV, CLI) is taken as UTC; the UI converts local time before this.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


UtcDatetime = Annotated[dt.datetime, AfterValidator(_assume_utc)]


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


# Named constraints let SQLite batch migrations drop and recreate them later.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MONEY = {"max_digits": 18, "decimal_places": 2}
PHONE_PATTERN = r"^\+?[0-9][0-9 ().-]{6,18}[0-9]$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

# SQLModel's Field(regex=...) is silently ignored, so patterns live in the type.
PhoneText = Annotated[str, StringConstraints(pattern=PHONE_PATTERN)]
EmailText = Annotated[str, StringConstraints(pattern=EMAIL_PATTERN)]
CodeText = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+$")]


def _not_blank(text: str) -> str:
    if not text:
        raise ValueError("must not be empty")
    if not text.strip():
        raise ValueError("must not be blank")
    return text


# Required free text: at least one visible character (a name of only spaces is empty).
NonBlankText = Annotated[str, AfterValidator(_not_blank)]

TaxCodeText = Annotated[str, StringConstraints(pattern=r"^[0-9-]{10,14}$")]
UsernameText = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+$")]
CurrencyText = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


# --------------------------------------------------------------------------- enums
class Role(str, enum.Enum):
    admin = "admin"
    executive = "executive"
    manager = "manager"
    staff = "staff"


class CustomerKind(str, enum.Enum):
    organisation = "organisation"
    person = "person"


class Gender(str, enum.Enum):
    female = "female"
    male = "male"
    other = "other"


class Channel(str, enum.Enum):
    """How a customer was acquired."""

    referral = "referral"
    web = "web"
    social = "social"
    inbound_call = "inbound_call"
    newsletter = "newsletter"
    event = "event"
    sales_visit = "sales_visit"
    partner = "partner"
    campaign = "campaign"


class Lifecycle(str, enum.Enum):
    lead = "lead"
    prospect = "prospect"
    customer = "customer"
    inactive = "inactive"


class InteractionKind(str, enum.Enum):
    call = "call"
    email = "email"
    meeting = "meeting"
    visit = "visit"
    sms = "sms"
    social = "social"
    feedback = "feedback"


class Direction(str, enum.Enum):
    inbound = "inbound"
    outbound = "outbound"


class InquiryStatus(str, enum.Enum):
    open = "open"
    fulfilled = "fulfilled"
    unmet = "unmet"


class OrderStatus(str, enum.Enum):
    draft = "draft"
    confirmed = "confirmed"
    delivered = "delivered"
    paid = "paid"
    cancelled = "cancelled"


COUNTED_ORDER_STATUSES = (OrderStatus.confirmed, OrderStatus.delivered, OrderStatus.paid)


class Stage(str, enum.Enum):
    lead = "lead"
    qualified = "qualified"
    proposal = "proposal"
    negotiation = "negotiation"
    won = "won"
    lost = "lost"


OPEN_STAGES = (Stage.lead, Stage.qualified, Stage.proposal, Stage.negotiation)


class CampaignChannel(str, enum.Enum):
    email = "email"
    sms = "sms"
    social = "social"
    event = "event"
    telemarketing = "telemarketing"
    web = "web"
    print = "print"


class CampaignPurpose(str, enum.Enum):
    acquisition = "acquisition"
    retention = "retention"
    awareness = "awareness"


class Severity(str, enum.Enum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class ComplaintStatus(str, enum.Enum):
    open = "open"
    in_progress = "in_progress"
    resolved = "resolved"
    closed = "closed"
    reopened = "reopened"


OPEN_COMPLAINT_STATUSES = (
    ComplaintStatus.open,
    ComplaintStatus.in_progress,
    ComplaintStatus.reopened,
)


class PartnerKind(str, enum.Enum):
    supplier = "supplier"
    distributor = "distributor"
    agent = "agent"
    service_provider = "service_provider"


class AuditAction(str, enum.Enum):
    create = "create"
    update = "update"
    archive = "archive"
    restore = "restore"
    merge = "merge"
    delete = "delete"
    sign_in = "sign_in"
    sign_out = "sign_out"
    sign_in_failed = "sign_in_failed"


# --------------------------------------------------------------------------- user
class UserBase(SQLModel):
    username: UsernameText = Field(min_length=3, max_length=40)
    display_name: NonBlankText = Field(min_length=1, max_length=120)
    email: Optional[EmailText] = Field(default=None, max_length=254)
    department: Optional[str] = Field(default=None, max_length=80)
    role: Role = Role.staff
    active: bool = True


class User(UserBase, table=True):
    __tablename__ = "app_user"
    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(max_length=40, unique=True)
    password_hash: Optional[str] = Field(default=None, max_length=255)
    failed_attempts: int = 0
    locked_until: Optional[UtcDatetime] = None
    created_at: UtcDatetime = Field(default_factory=utcnow)


class UserCreate(UserBase):
    password: str = Field(min_length=8, max_length=200)


class UserUpdate(SQLModel):
    display_name: Optional[NonBlankText] = Field(default=None, min_length=1, max_length=120)
    email: Optional[EmailText] = Field(default=None, max_length=254)
    department: Optional[str] = Field(default=None, max_length=80)
    role: Optional[Role] = None
    active: Optional[bool] = None


class UserRead(UserBase):
    id: int
    created_at: dt.datetime


# --------------------------------------------------------------------------- customer
class CustomerBase(SQLModel):
    code: CodeText = Field(min_length=2, max_length=20)
    name: NonBlankText = Field(min_length=1, max_length=200)
    kind: CustomerKind = CustomerKind.organisation
    is_foreign: bool = False
    tax_code: Optional[TaxCodeText] = Field(default=None, max_length=20)
    industry: Optional[str] = Field(default=None, max_length=80)
    segment: Optional[str] = Field(default=None, max_length=60)
    province: Optional[str] = Field(default=None, max_length=60)
    region: Optional[str] = Field(default=None, max_length=30)
    address: Optional[str] = Field(default=None, max_length=300)
    phone: Optional[PhoneText] = Field(default=None, max_length=20)
    email: Optional[EmailText] = Field(default=None, max_length=254)
    representative: Optional[str] = Field(default=None, max_length=120)
    gender: Optional[Gender] = None
    birth_year: Optional[int] = Field(default=None, ge=1900, le=2100)
    channel: Optional[Channel] = None
    referred_by_id: Optional[int] = Field(default=None, foreign_key="customer.id")
    owner_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    lifecycle: Lifecycle = Lifecycle.prospect

    @field_validator("name", "code", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


class Customer(CustomerBase, table=True):
    __table_args__ = (Index("ix_customer_segment_province", "segment", "province"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    referred_by_id: Optional[int] = Field(default=None, foreign_key="customer.id", index=True)
    owner_id: Optional[int] = Field(default=None, foreign_key="app_user.id", index=True)
    created_at: UtcDatetime = Field(default_factory=utcnow, index=True)
    updated_at: UtcDatetime = Field(default_factory=utcnow, index=True)
    archived: bool = Field(default=False, index=True)


class CustomerCreate(CustomerBase):
    pass


class CustomerUpdate(SQLModel):
    name: Optional[NonBlankText] = Field(default=None, min_length=1, max_length=200)
    kind: Optional[CustomerKind] = None
    is_foreign: Optional[bool] = None
    tax_code: Optional[TaxCodeText] = Field(default=None, max_length=20)
    industry: Optional[str] = Field(default=None, max_length=80)
    segment: Optional[str] = Field(default=None, max_length=60)
    province: Optional[str] = Field(default=None, max_length=60)
    region: Optional[str] = Field(default=None, max_length=30)
    address: Optional[str] = Field(default=None, max_length=300)
    phone: Optional[PhoneText] = Field(default=None, max_length=20)
    email: Optional[EmailText] = Field(default=None, max_length=254)
    representative: Optional[str] = Field(default=None, max_length=120)
    gender: Optional[Gender] = None
    birth_year: Optional[int] = Field(default=None, ge=1900, le=2100)
    channel: Optional[Channel] = None
    referred_by_id: Optional[int] = None
    owner_id: Optional[int] = None
    lifecycle: Optional[Lifecycle] = None


class CustomerRead(CustomerBase):
    id: int
    created_at: dt.datetime
    updated_at: dt.datetime
    archived: bool


# --------------------------------------------------------------------------- contact
class ContactBase(SQLModel):
    customer_id: int = Field(foreign_key="customer.id")
    name: NonBlankText = Field(min_length=1, max_length=120)
    title: Optional[str] = Field(default=None, max_length=80)
    phone: Optional[PhoneText] = Field(default=None, max_length=20)
    email: Optional[EmailText] = Field(default=None, max_length=254)
    is_primary: bool = False


class Contact(ContactBase, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    created_at: UtcDatetime = Field(default_factory=utcnow)


class ContactCreate(ContactBase):
    pass


class ContactUpdate(SQLModel):
    name: Optional[NonBlankText] = Field(default=None, min_length=1, max_length=120)
    title: Optional[str] = Field(default=None, max_length=80)
    phone: Optional[PhoneText] = Field(default=None, max_length=20)
    email: Optional[EmailText] = Field(default=None, max_length=254)
    is_primary: Optional[bool] = None


class ContactRead(ContactBase):
    id: int


# --------------------------------------------------------------------------- product
class ProductBase(SQLModel):
    code: CodeText = Field(min_length=2, max_length=20)
    name: NonBlankText = Field(min_length=1, max_length=200)
    category: NonBlankText = Field(min_length=1, max_length=80)
    unit_price: Decimal = Field(ge=0, **MONEY)
    unit_cost: Decimal = Field(ge=0, **MONEY)
    active: bool = True


class Product(ProductBase, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    category: str = Field(max_length=80, index=True)


class ProductCreate(ProductBase):
    pass


class ProductUpdate(SQLModel):
    name: Optional[NonBlankText] = Field(default=None, min_length=1, max_length=200)
    category: Optional[NonBlankText] = Field(default=None, min_length=1, max_length=80)
    unit_price: Optional[Decimal] = Field(default=None, ge=0, **MONEY)
    unit_cost: Optional[Decimal] = Field(default=None, ge=0, **MONEY)
    active: Optional[bool] = None


class ProductRead(ProductBase):
    id: int


# --------------------------------------------------------------------------- interaction
class InteractionBase(SQLModel):
    customer_id: int = Field(foreign_key="customer.id")
    user_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    kind: InteractionKind
    direction: Direction = Direction.outbound
    occurred_at: UtcDatetime = Field(default_factory=utcnow)
    subject: NonBlankText = Field(min_length=1, max_length=200)
    notes: Optional[str] = Field(default=None, max_length=4000)
    outcome: Optional[str] = Field(default=None, max_length=200)
    follow_up_due: Optional[dt.date] = None


class Interaction(InteractionBase, table=True):
    __table_args__ = (
        Index("ix_interaction_customer_occurred", "customer_id", "occurred_at"),
        # Counts per period (and per user, kind, customer scope) read only this index.
        Index("ix_interaction_occurred_cover", "occurred_at", "customer_id", "user_id", "kind"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    user_id: Optional[int] = Field(default=None, foreign_key="app_user.id", index=True)
    occurred_at: UtcDatetime = Field(default_factory=utcnow)
    follow_up_due: Optional[dt.date] = Field(default=None, index=True)


class InteractionCreate(InteractionBase):
    pass


class InteractionUpdate(SQLModel):
    kind: Optional[InteractionKind] = None
    direction: Optional[Direction] = None
    occurred_at: Optional[UtcDatetime] = None
    subject: Optional[NonBlankText] = Field(default=None, min_length=1, max_length=200)
    notes: Optional[str] = Field(default=None, max_length=4000)
    outcome: Optional[str] = Field(default=None, max_length=200)
    follow_up_due: Optional[dt.date] = None


class InteractionRead(InteractionBase):
    id: int


# --------------------------------------------------------------------------- inquiry
class InquiryBase(SQLModel):
    customer_id: int = Field(foreign_key="customer.id")
    product_id: Optional[int] = Field(default=None, foreign_key="product.id")
    user_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    need: NonBlankText = Field(min_length=1, max_length=500)
    quantity: Optional[Decimal] = Field(default=None, gt=0, max_digits=14, decimal_places=3)
    asked_at: UtcDatetime = Field(default_factory=utcnow)
    status: InquiryStatus = InquiryStatus.open
    reason: Optional[str] = Field(default=None, max_length=500)


class Inquiry(InquiryBase, table=True):
    __table_args__ = (Index("ix_inquiry_customer_asked", "customer_id", "asked_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    product_id: Optional[int] = Field(default=None, foreign_key="product.id", index=True)
    user_id: Optional[int] = Field(default=None, foreign_key="app_user.id", index=True)
    asked_at: UtcDatetime = Field(default_factory=utcnow, index=True)
    status: InquiryStatus = Field(default=InquiryStatus.open, index=True)


class InquiryCreate(InquiryBase):
    pass


class InquiryUpdate(SQLModel):
    product_id: Optional[int] = None
    need: Optional[NonBlankText] = Field(default=None, min_length=1, max_length=500)
    quantity: Optional[Decimal] = Field(default=None, gt=0, max_digits=14, decimal_places=3)
    status: Optional[InquiryStatus] = None
    reason: Optional[str] = Field(default=None, max_length=500)


class InquiryRead(InquiryBase):
    id: int


# --------------------------------------------------------------------------- campaign
class CampaignBase(SQLModel):
    name: NonBlankText = Field(min_length=1, max_length=200)
    channel: CampaignChannel
    purpose: CampaignPurpose
    start_date: dt.date
    end_date: dt.date
    budget: Decimal = Field(default=Decimal(0), ge=0, **MONEY)
    actual_cost: Decimal = Field(default=Decimal(0), ge=0, **MONEY)
    target_segment: Optional[str] = Field(default=None, max_length=60)
    description: Optional[str] = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _dates_in_order(self) -> "CampaignBase":
        if self.end_date < self.start_date:
            raise ValueError("end date must not be before the start date")
        return self


class Campaign(CampaignBase, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    start_date: dt.date = Field(index=True)
    end_date: dt.date = Field(index=True)
    created_at: UtcDatetime = Field(default_factory=utcnow)


class CampaignCreate(CampaignBase):
    pass


class CampaignUpdate(SQLModel):
    name: Optional[NonBlankText] = Field(default=None, min_length=1, max_length=200)
    channel: Optional[CampaignChannel] = None
    purpose: Optional[CampaignPurpose] = None
    start_date: Optional[dt.date] = None
    end_date: Optional[dt.date] = None
    budget: Optional[Decimal] = Field(default=None, ge=0, **MONEY)
    actual_cost: Optional[Decimal] = Field(default=None, ge=0, **MONEY)
    target_segment: Optional[str] = Field(default=None, max_length=60)
    description: Optional[str] = Field(default=None, max_length=2000)


class CampaignRead(CampaignBase):
    id: int


class CampaignMemberBase(SQLModel):
    campaign_id: int = Field(foreign_key="campaign.id")
    customer_id: int = Field(foreign_key="customer.id")
    contacted_at: Optional[UtcDatetime] = None
    responded: bool = False
    responded_at: Optional[UtcDatetime] = None
    converted: bool = False


class CampaignMember(CampaignMemberBase, table=True):
    __tablename__ = "campaign_member"
    __table_args__ = (UniqueConstraint("campaign_id", "customer_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    contacted_at: Optional[UtcDatetime] = Field(default=None, index=True)


class CampaignMemberCreate(CampaignMemberBase):
    pass


class CampaignMemberUpdate(SQLModel):
    contacted_at: Optional[UtcDatetime] = None
    responded: Optional[bool] = None
    responded_at: Optional[UtcDatetime] = None
    converted: Optional[bool] = None


class CampaignMemberRead(CampaignMemberBase):
    id: int


# --------------------------------------------------------------------------- order
class OrderBase(SQLModel):
    customer_id: int = Field(foreign_key="customer.id")
    user_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    ordered_at: UtcDatetime = Field(default_factory=utcnow)
    status: OrderStatus = OrderStatus.confirmed
    currency: CurrencyText = Field(default="VND", min_length=3, max_length=3)
    payment_due: Optional[dt.date] = None
    delivery_due: Optional[dt.date] = None
    campaign_id: Optional[int] = Field(default=None, foreign_key="campaign.id")
    promotion: Optional[str] = Field(default=None, max_length=200)
    notes: Optional[str] = Field(default=None, max_length=2000)


class Order(OrderBase, table=True):
    """An order or contract (đặt hàng); amount and cost are the sums of its lines."""

    __tablename__ = "sales_order"
    __table_args__ = (
        # Both cover the queries they serve, so SQLite never reads the table rows
        # (docs/performance.md, "Query paths and indexes"): per customer (RFM, loyalty,
        # first orders, the 360° page) and per period (revenue, profit, active customers).
        Index("ix_sales_order_customer_ordered", "customer_id", "ordered_at", "status", "amount"),
        Index(
            "ix_sales_order_ordered_status", "ordered_at", "status", "customer_id", "amount", "cost"
        ),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    customer_id: int = Field(foreign_key="customer.id")
    user_id: Optional[int] = Field(default=None, foreign_key="app_user.id", index=True)
    campaign_id: Optional[int] = Field(default=None, foreign_key="campaign.id", index=True)
    amount: Decimal = Field(default=Decimal(0), ge=0, **MONEY)
    cost: Decimal = Field(default=Decimal(0), ge=0, **MONEY)
    created_at: UtcDatetime = Field(default_factory=utcnow)


class OrderLineBase(SQLModel):
    product_id: int = Field(foreign_key="product.id")
    quantity: Decimal = Field(gt=0, max_digits=14, decimal_places=3)
    unit_price: Decimal = Field(ge=0, **MONEY)
    unit_cost: Decimal = Field(ge=0, **MONEY)
    discount: Decimal = Field(default=Decimal(0), ge=0, le=1, max_digits=5, decimal_places=4)
    customised: bool = False


class OrderLine(OrderLineBase, table=True):
    __tablename__ = "order_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="ck_order_line_quantity_positive"),
        CheckConstraint("discount >= 0 AND discount <= 1", name="ck_order_line_discount"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="sales_order.id", index=True)
    product_id: int = Field(foreign_key="product.id", index=True)


class OrderLineCreate(OrderLineBase):
    pass


class OrderLineRead(OrderLineBase):
    id: int
    order_id: int


class OrderCreate(OrderBase):
    code: Optional[str] = Field(default=None, min_length=2, max_length=20)
    lines: list[OrderLineCreate] = Field(min_length=1)


class OrderUpdate(SQLModel):
    status: Optional[OrderStatus] = None
    payment_due: Optional[dt.date] = None
    delivery_due: Optional[dt.date] = None
    campaign_id: Optional[int] = None
    promotion: Optional[str] = Field(default=None, max_length=200)
    notes: Optional[str] = Field(default=None, max_length=2000)


class OrderRead(OrderBase):
    id: int
    code: str
    amount: Decimal
    cost: Decimal


# --------------------------------------------------------------------------- opportunity
class OpportunityBase(SQLModel):
    customer_id: int = Field(foreign_key="customer.id")
    title: NonBlankText = Field(min_length=1, max_length=200)
    amount: Decimal = Field(default=Decimal(0), ge=0, **MONEY)
    stage: Stage = Stage.lead
    expected_close: Optional[dt.date] = None
    lost_reason: Optional[str] = Field(default=None, max_length=200)
    campaign_id: Optional[int] = Field(default=None, foreign_key="campaign.id")
    owner_id: Optional[int] = Field(default=None, foreign_key="app_user.id")


class Opportunity(OpportunityBase, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    stage: Stage = Field(default=Stage.lead, index=True)
    expected_close: Optional[dt.date] = Field(default=None, index=True)
    campaign_id: Optional[int] = Field(default=None, foreign_key="campaign.id", index=True)
    owner_id: Optional[int] = Field(default=None, foreign_key="app_user.id", index=True)
    created_at: UtcDatetime = Field(default_factory=utcnow, index=True)
    closed_at: Optional[UtcDatetime] = Field(default=None, index=True)


class OpportunityCreate(OpportunityBase):
    @model_validator(mode="after")
    def _lost_needs_reason(self) -> "OpportunityCreate":
        if self.stage == Stage.lost and not self.lost_reason:
            raise ValueError("a lost reason is required when the stage is lost")
        return self


class OpportunityUpdate(SQLModel):
    title: Optional[NonBlankText] = Field(default=None, min_length=1, max_length=200)
    amount: Optional[Decimal] = Field(default=None, ge=0, **MONEY)
    expected_close: Optional[dt.date] = None
    campaign_id: Optional[int] = None
    owner_id: Optional[int] = None


class OpportunityRead(OpportunityBase):
    id: int
    created_at: dt.datetime
    closed_at: Optional[dt.datetime]


class StageChange(SQLModel):
    """Input for moving an opportunity to another stage."""

    to_stage: Stage
    lost_reason: Optional[str] = Field(default=None, max_length=200)
    changed_at: Optional[UtcDatetime] = None

    @model_validator(mode="after")
    def _lost_needs_reason(self) -> "StageChange":
        if self.to_stage == Stage.lost and not (self.lost_reason or "").strip():
            raise ValueError("a lost reason is required when moving to lost")
        return self


class OpportunityStageHistory(SQLModel, table=True):
    __tablename__ = "opportunity_stage_history"
    # An opportunity's changes in time order: its stage at an instant and the row
    # before a change are one index probe each.
    __table_args__ = (
        Index(
            "ix_opportunity_stage_history_opportunity_changed",
            "opportunity_id",
            "changed_at",
            "id",
        ),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    opportunity_id: int = Field(foreign_key="opportunity.id")
    from_stage: Optional[Stage] = None
    to_stage: Stage
    changed_at: UtcDatetime = Field(default_factory=utcnow, index=True)
    changed_by_id: Optional[int] = Field(default=None, foreign_key="app_user.id", index=True)


# --------------------------------------------------------------------------- complaint
class ComplaintBase(SQLModel):
    customer_id: int = Field(foreign_key="customer.id")
    category: NonBlankText = Field(min_length=1, max_length=80)
    severity: Severity = Severity.medium
    channel: Optional[InteractionKind] = None
    opened_at: UtcDatetime = Field(default_factory=utcnow)
    first_response_at: Optional[UtcDatetime] = None
    resolved_at: Optional[UtcDatetime] = None
    status: ComplaintStatus = ComplaintStatus.open
    description: Optional[str] = Field(default=None, max_length=4000)
    resolution: Optional[str] = Field(default=None, max_length=4000)
    owner_id: Optional[int] = Field(default=None, foreign_key="app_user.id")

    @model_validator(mode="after")
    def _times_in_order(self) -> "ComplaintBase":
        for name in ("first_response_at", "resolved_at"):
            value = getattr(self, name)
            if value is not None and value < self.opened_at:
                raise ValueError(f"{name.replace('_', ' ')} must not be before opened at")
        return self


class Complaint(ComplaintBase, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    category: str = Field(max_length=80, index=True)
    opened_at: UtcDatetime = Field(default_factory=utcnow, index=True)
    resolved_at: Optional[UtcDatetime] = Field(default=None, index=True)
    status: ComplaintStatus = Field(default=ComplaintStatus.open, index=True)
    owner_id: Optional[int] = Field(default=None, foreign_key="app_user.id", index=True)


class ComplaintCreate(ComplaintBase):
    pass


class ComplaintUpdate(SQLModel):
    category: Optional[NonBlankText] = Field(default=None, min_length=1, max_length=80)
    severity: Optional[Severity] = None
    first_response_at: Optional[UtcDatetime] = None
    resolved_at: Optional[UtcDatetime] = None
    status: Optional[ComplaintStatus] = None
    description: Optional[str] = Field(default=None, max_length=4000)
    resolution: Optional[str] = Field(default=None, max_length=4000)
    owner_id: Optional[int] = None


class ComplaintRead(ComplaintBase):
    id: int


# --------------------------------------------------------------------------- survey
class SurveyResponseBase(SQLModel):
    customer_id: int = Field(foreign_key="customer.id")
    nps: Optional[int] = Field(default=None, ge=0, le=10)
    csat: Optional[int] = Field(default=None, ge=1, le=5)
    comment: Optional[str] = Field(default=None, max_length=4000)
    answered_at: UtcDatetime = Field(default_factory=utcnow)
    complaint_id: Optional[int] = Field(default=None, foreign_key="complaint.id")

    @model_validator(mode="after")
    def _has_a_score(self) -> "SurveyResponseBase":
        if self.nps is None and self.csat is None:
            raise ValueError("give an NPS score, a CSAT score or both")
        return self


class SurveyResponse(SurveyResponseBase, table=True):
    __tablename__ = "survey_response"
    __table_args__ = (
        CheckConstraint("nps IS NULL OR (nps >= 0 AND nps <= 10)", name="ck_survey_nps"),
        CheckConstraint("csat IS NULL OR (csat >= 1 AND csat <= 5)", name="ck_survey_csat"),
        Index("ix_survey_response_customer_answered", "customer_id", "answered_at"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    answered_at: UtcDatetime = Field(default_factory=utcnow, index=True)
    complaint_id: Optional[int] = Field(default=None, foreign_key="complaint.id", index=True)


class SurveyResponseCreate(SurveyResponseBase):
    pass


class SurveyResponseUpdate(SQLModel):
    nps: Optional[int] = Field(default=None, ge=0, le=10)
    csat: Optional[int] = Field(default=None, ge=1, le=5)
    comment: Optional[str] = Field(default=None, max_length=4000)


class SurveyResponseRead(SurveyResponseBase):
    id: int


# --------------------------------------------------------------------------- partner
class PartnerBase(SQLModel):
    name: NonBlankText = Field(min_length=1, max_length=200)
    kind: PartnerKind
    province: Optional[str] = Field(default=None, max_length=60)
    phone: Optional[PhoneText] = Field(default=None, max_length=20)
    email: Optional[EmailText] = Field(default=None, max_length=254)
    notes: Optional[str] = Field(default=None, max_length=2000)


class Partner(PartnerBase, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: PartnerKind = Field(index=True)
    created_at: UtcDatetime = Field(default_factory=utcnow)
    archived: bool = False


class PartnerCreate(PartnerBase):
    pass


class PartnerUpdate(SQLModel):
    name: Optional[NonBlankText] = Field(default=None, min_length=1, max_length=200)
    kind: Optional[PartnerKind] = None
    province: Optional[str] = Field(default=None, max_length=60)
    phone: Optional[PhoneText] = Field(default=None, max_length=20)
    email: Optional[EmailText] = Field(default=None, max_length=254)
    notes: Optional[str] = Field(default=None, max_length=2000)


class PartnerRead(PartnerBase):
    id: int


class PartnerLinkBase(SQLModel):
    partner_id: int = Field(foreign_key="partner.id")
    other_partner_id: Optional[int] = Field(default=None, foreign_key="partner.id")
    customer_id: Optional[int] = Field(default=None, foreign_key="customer.id")
    relation: NonBlankText = Field(min_length=1, max_length=80)
    since: Optional[dt.date] = None

    @model_validator(mode="after")
    def _exactly_one_target(self) -> "PartnerLinkBase":
        if (self.other_partner_id is None) == (self.customer_id is None):
            raise ValueError("link a partner to exactly one other partner or one customer")
        return self


class PartnerLink(PartnerLinkBase, table=True):
    __tablename__ = "partner_link"
    __table_args__ = (
        CheckConstraint(
            "(other_partner_id IS NULL) <> (customer_id IS NULL)",
            name="ck_partner_link_one_target",
        ),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    partner_id: int = Field(foreign_key="partner.id", index=True)
    other_partner_id: Optional[int] = Field(default=None, foreign_key="partner.id", index=True)
    customer_id: Optional[int] = Field(default=None, foreign_key="customer.id", index=True)


class PartnerLinkCreate(PartnerLinkBase):
    pass


class PartnerLinkRead(PartnerLinkBase):
    id: int


# --------------------------------------------------------------------------- target
class TargetBase(SQLModel):
    kpi_id: NonBlankText = Field(min_length=1, max_length=60)
    period_start: dt.date
    period_end: dt.date
    segment: Optional[str] = Field(default=None, max_length=60)
    target_value: Decimal = Field(max_digits=20, decimal_places=4)

    @model_validator(mode="after")
    def _period_in_order(self) -> "TargetBase":
        if self.period_end <= self.period_start:
            raise ValueError("the period end must be after its start")
        return self


class Target(TargetBase, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    kpi_id: str = Field(max_length=60, index=True)
    period_start: dt.date = Field(index=True)
    created_by_id: Optional[int] = Field(default=None, foreign_key="app_user.id", index=True)
    created_at: UtcDatetime = Field(default_factory=utcnow)


class TargetCreate(TargetBase):
    pass


class TargetUpdate(SQLModel):
    target_value: Optional[Decimal] = Field(default=None, max_digits=20, decimal_places=4)


class TargetRead(TargetBase):
    id: int


# --------------------------------------------------------------------------- audit, settings
class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: Optional[int] = Field(default=None, foreign_key="app_user.id", index=True)
    at: UtcDatetime = Field(default_factory=utcnow, index=True)
    entity: str = Field(max_length=40, index=True)
    entity_id: Optional[int] = Field(default=None, index=True)
    action: AuditAction
    before: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON))
    after: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON))


class IdempotencyKey(SQLModel, table=True):
    """One row per form submission key: a retried submit finds the first record."""

    __tablename__ = "idempotency_key"
    entity: str = Field(primary_key=True, max_length=40)
    key: str = Field(primary_key=True, max_length=80)
    record_id: int
    created_at: UtcDatetime = Field(default_factory=utcnow)


class Setting(SQLModel, table=True):
    key: str = Field(primary_key=True, max_length=80)
    value: Any = Field(sa_column=Column(JSON, nullable=False))
    updated_at: UtcDatetime = Field(default_factory=utcnow)


def _store_enums_as_text() -> None:
    # Native PostgreSQL ENUM types make adding a value a migration of its own;
    # VARCHAR columns keep SQLite and PostgreSQL identical and validation stays in pydantic.
    from sqlalchemy import Enum as SAEnum

    for table in SQLModel.metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, SAEnum) and column.type.enum_class is not None:
                column.type = SAEnum(
                    column.type.enum_class,
                    native_enum=False,
                    create_constraint=False,
                    length=30,
                    values_callable=lambda members: [member.value for member in members],
                    name=column.type.name,
                )


_store_enums_as_text()


# --------------------------------------------------------------------------- KPI summaries
# Maintained by database triggers in the same transaction as the write (migration 0004,
# app/kpi/summaries.py), so every write path keeps them current; the KPIs read them
# instead of scanning sales_order. Days are local calendar days of the display time zone.
class KpiSummaryState(SQLModel, table=True):
    """Which time zone the summaries' local days were computed in (one row, id 1)."""

    __tablename__ = "kpi_summary_state"
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    timezone: str = Field(max_length=64)
    # SQLite's date() modifier, e.g. '+420 minutes': SQLite has no time zones.
    day_modifier: str = Field(max_length=32)
    built_at: UtcDatetime = Field(default_factory=utcnow)


class KpiOrderDay(SQLModel, table=True):
    """Counted orders of one customer on one local day: number, revenue and cost."""

    __tablename__ = "kpi_order_day"
    # Covering index: period scans read day, customer and the sums without the table.
    __table_args__ = (
        Index("ix_kpi_order_day_day_customer", "day", "customer_id", "orders", "revenue", "cost"),
    )
    customer_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    day: dt.date = Field(primary_key=True)
    orders: int = 0
    revenue: Decimal = Field(default=Decimal(0), **MONEY)
    cost: Decimal = Field(default=Decimal(0), **MONEY)


class KpiCustomerFact(SQLModel, table=True):
    """Per customer with a counted order: first and last order day, order days, totals."""

    __tablename__ = "kpi_customer_fact"
    customer_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    first_day: dt.date = Field(index=True)
    last_day: dt.date = Field(index=True)
    order_days: int = 0
    orders: int = 0
    revenue: Decimal = Field(default=Decimal(0), **MONEY)


class KpiProductMonth(SQLModel, table=True):
    """Counted order lines of one product in one local month: lines, quantity, revenue."""

    __tablename__ = "kpi_product_month"
    product_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    # First day of the local month of the display time zone.
    month: dt.date = Field(primary_key=True)
    lines: int = 0
    quantity: Decimal = Field(default=Decimal(0), max_digits=20, decimal_places=3)
    # quantity × unit_price × (1 − discount) has up to 9 decimals: kept exact.
    revenue: Decimal = Field(default=Decimal(0), max_digits=30, decimal_places=9)
