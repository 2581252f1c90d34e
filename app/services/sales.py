"""Products, orders with their lines, opportunities with their stage history, inquiries."""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from app.errors import Conflict, InvalidInput, NotFound
from app.models import (
    OPEN_STAGES,
    AuditAction,
    Campaign,
    Customer,
    Inquiry,
    InquiryCreate,
    InquiryUpdate,
    Opportunity,
    OpportunityCreate,
    OpportunityStageHistory,
    OpportunityUpdate,
    Order,
    OrderCreate,
    OrderLine,
    OrderLineCreate,
    OrderStatus,
    OrderUpdate,
    Product,
    ProductCreate,
    ProductUpdate,
    StageChange,
    User,
    utcnow,
)
from app.retry import retrying
from app.services.access import Actor, Permission, require, require_customer
from app.services.common import (
    add_audit,
    apply_update,
    audit_create,
    commit_or_conflict,
    create_record_once,
    find_by_idempotency_key,
    get_or_not_found,
    require_existing,
    snapshot,
    validate,
)

CENT = Decimal("0.01")
MONEY_LIMIT = Decimal("9999999999999999.99")  # the largest value a money column holds


@retrying
def create_product(
    *,
    session: Session,
    data: ProductCreate | dict[str, Any],
    actor: Actor,
    idempotency_key: str | None = None,
) -> Product:
    """Validate and insert a product, audited (managers and admins)."""
    require(actor, Permission.catalogue)
    existing = find_by_idempotency_key(
        session=session, table=Product, entity="product", key=idempotency_key
    )
    if existing is not None:
        return existing
    product_in = validate(ProductCreate, data)
    if session.exec(select(Product.id).where(Product.code == product_in.code)).first():
        raise Conflict(f"A product with code {product_in.code} already exists.")
    return create_record_once(
        session=session,
        create_model=ProductCreate,
        table=Product,
        data=product_in,
        entity="product",
        references={},
        actor=actor,
        permission=Permission.catalogue,
        customer_field=None,
        conflict_message=f"A product with code {product_in.code} already exists.",
        idempotency_key=idempotency_key,
    )


@retrying
def update_product(
    *,
    session: Session,
    product_id: int,
    data: ProductUpdate | dict[str, Any],
    actor: Actor,
) -> Product:
    """Change the given fields of a product, audited (managers and admins)."""
    require(actor, Permission.catalogue)
    changes = validate(ProductUpdate, data).model_dump(exclude_unset=True)
    product = get_or_not_found(session=session, table=Product, key=product_id, label="Product")
    return apply_update(
        session=session, actor=actor, row=product, changes=changes, entity="product"
    )


def line_amount(line: OrderLineCreate) -> Decimal:
    """Quantity × unit price × (1 − discount), rounded to the cent."""
    return (line.quantity * line.unit_price * (1 - line.discount)).quantize(CENT, ROUND_HALF_UP)


def line_cost(line: OrderLineCreate) -> Decimal:
    """Quantity × unit cost at the time of sale, rounded to the cent."""
    return (line.quantity * line.unit_cost).quantize(CENT, ROUND_HALF_UP)


def order_totals(lines: list[OrderLineCreate]) -> tuple[Decimal, Decimal]:
    """The amount and cost of an order from its lines."""
    return (
        sum((line_amount(line) for line in lines), Decimal("0.00")),
        sum((line_cost(line) for line in lines), Decimal("0.00")),
    )


def checked_order_totals(lines: list[OrderLineCreate]) -> tuple[Decimal, Decimal]:
    """``order_totals``, or InvalidInput when a total does not fit a money column."""
    try:
        amount, cost = order_totals(lines)
    except ArithmeticError:  # beyond Decimal's precision: absurd quantities or prices
        raise InvalidInput({"lines": "the order total is too large"}) from None
    if amount > MONEY_LIMIT or cost > MONEY_LIMIT:
        raise InvalidInput({"lines": "the order total is too large"})
    return amount, cost


def next_order_code(*, session: Session) -> str:
    """The next free order code of the form DH000123."""
    return _free_order_code(
        session=session, start=(session.exec(select(func.max(Order.id))).one() or 0) + 1
    )


def _free_order_code(*, session: Session, start: int) -> str:
    candidate = start
    while session.exec(select(Order.id).where(Order.code == f"DH{candidate:06d}")).first():
        candidate += 1
    return f"DH{candidate:06d}"


@retrying
def create_order(
    *,
    session: Session,
    data: OrderCreate | dict[str, Any],
    actor: Actor,
    idempotency_key: str | None = None,
) -> Order:
    """Validate and insert an order with its lines in one transaction, audited."""
    require(actor, Permission.write)
    existing = find_by_idempotency_key(
        session=session, table=Order, entity="order", key=idempotency_key
    )
    if existing is not None:
        return existing
    order_in = validate(OrderCreate, data)
    require_customer(session=session, actor=actor, customer_id=order_in.customer_id, write=True)
    require_existing(
        session=session,
        checks={
            "customer_id": (Customer, order_in.customer_id),
            "user_id": (User, order_in.user_id),
            "campaign_id": (Campaign, order_in.campaign_id),
            **{
                f"lines.{index}.product_id": (Product, line.product_id)
                for index, line in enumerate(order_in.lines)
            },
        },
    )
    amount, cost = checked_order_totals(order_in.lines)
    if order_in.code and session.exec(select(Order.id).where(Order.code == order_in.code)).first():
        raise Conflict(f"An order with code {order_in.code} already exists.")
    # A generated code comes from the new row's id, unique even among simultaneous
    # writers (max(id) + 1 read before inserting is not: they would all pick the same).
    code = order_in.code or f"~{uuid.uuid4().hex[:19]}"
    order = Order.model_validate(
        order_in.model_dump(exclude={"lines", "code"}),
        update={"code": code, "amount": amount, "cost": cost, "created_at": utcnow()},
    )
    session.add(order)
    session.flush()
    if not order_in.code:
        code = order.code = _free_order_code(session=session, start=order.id)
        session.add(order)
        session.flush()
    lines = [
        OrderLine.model_validate(line, update={"order_id": order.id}) for line in order_in.lines
    ]
    session.add_all(lines)
    session.flush()
    audit_create(
        session=session,
        actor=actor,
        entity="order",
        row=order,
        idempotency_key=idempotency_key,
        extra_after={"lines": [snapshot(line) for line in lines]},
    )
    commit_or_conflict(session=session, message=f"An order with code {code} already exists.")
    session.refresh(order)
    return order


@retrying
def update_order(
    *,
    session: Session,
    order_id: int,
    data: OrderUpdate | dict[str, Any],
    actor: Actor,
) -> Order:
    """Change an order's header fields or status, audited; a cancelled order stays cancelled."""
    require(actor, Permission.write)
    changes = validate(OrderUpdate, data).model_dump(exclude_unset=True)
    order = get_or_not_found(session=session, table=Order, key=order_id, label="Order")
    require_customer(session=session, actor=actor, customer_id=order.customer_id, write=True)
    require_existing(
        session=session, checks={"campaign_id": (Campaign, changes.get("campaign_id"))}
    )
    new_status = changes.get("status")
    if (
        new_status is not None
        and order.status == OrderStatus.cancelled
        and new_status != OrderStatus.cancelled
    ):
        raise InvalidInput({"status": "a cancelled order cannot be reopened; enter a new order"})
    return apply_update(session=session, actor=actor, row=order, changes=changes, entity="order")


@retrying
def create_inquiry(
    *,
    session: Session,
    data: InquiryCreate | dict[str, Any],
    actor: Actor,
    idempotency_key: str | None = None,
) -> Inquiry:
    """Validate and insert an inquiry (hỏi hàng), audited."""
    return create_record_once(
        session=session,
        create_model=InquiryCreate,
        table=Inquiry,
        data=data,
        entity="inquiry",
        references={"customer_id": Customer, "product_id": Product, "user_id": User},
        actor=actor,
        idempotency_key=idempotency_key,
    )


@retrying
def update_inquiry(
    *,
    session: Session,
    inquiry_id: int,
    data: InquiryUpdate | dict[str, Any],
    actor: Actor,
) -> Inquiry:
    """Change an inquiry (e.g. mark it fulfilled or unmet with a reason), audited."""
    require(actor, Permission.write)
    changes = validate(InquiryUpdate, data).model_dump(exclude_unset=True)
    inquiry = get_or_not_found(session=session, table=Inquiry, key=inquiry_id, label="Inquiry")
    require_customer(session=session, actor=actor, customer_id=inquiry.customer_id, write=True)
    require_existing(session=session, checks={"product_id": (Product, changes.get("product_id"))})
    return apply_update(
        session=session, actor=actor, row=inquiry, changes=changes, entity="inquiry"
    )


@retrying
def create_opportunity(
    *,
    session: Session,
    data: OpportunityCreate | dict[str, Any],
    actor: Actor,
    idempotency_key: str | None = None,
) -> Opportunity:
    """Insert an opportunity in an open stage with its first stage-history row, audited."""
    require(actor, Permission.write)
    existing = find_by_idempotency_key(
        session=session, table=Opportunity, entity="opportunity", key=idempotency_key
    )
    if existing is not None:
        return existing
    opportunity_in = validate(OpportunityCreate, data)
    if opportunity_in.stage not in OPEN_STAGES:
        raise InvalidInput({"stage": "a new opportunity starts in an open stage"})
    require_customer(
        session=session, actor=actor, customer_id=opportunity_in.customer_id, write=True
    )
    require_existing(
        session=session,
        checks={
            "customer_id": (Customer, opportunity_in.customer_id),
            "campaign_id": (Campaign, opportunity_in.campaign_id),
            "owner_id": (User, opportunity_in.owner_id),
        },
    )
    now = utcnow()
    opportunity = Opportunity.model_validate(opportunity_in, update={"created_at": now})
    session.add(opportunity)
    session.flush()
    session.add(
        OpportunityStageHistory(
            opportunity_id=opportunity.id,
            from_stage=None,
            to_stage=opportunity.stage,
            changed_at=now,
            changed_by_id=actor.user_id,
        )
    )
    audit_create(
        session=session,
        actor=actor,
        entity="opportunity",
        row=opportunity,
        idempotency_key=idempotency_key,
    )
    session.commit()
    session.refresh(opportunity)
    return opportunity


@retrying
def update_opportunity(
    *,
    session: Session,
    opportunity_id: int,
    data: OpportunityUpdate | dict[str, Any],
    actor: Actor,
) -> Opportunity:
    """Change an opportunity's title, amount, expected close, campaign or owner, audited.

    The stage moves only through move_opportunity_stage, which writes the stage history.
    """
    require(actor, Permission.write)
    changes = validate(OpportunityUpdate, data).model_dump(exclude_unset=True)
    opportunity = get_or_not_found(
        session=session, table=Opportunity, key=opportunity_id, label="Opportunity"
    )
    require_customer(session=session, actor=actor, customer_id=opportunity.customer_id, write=True)
    if "owner_id" in changes and changes["owner_id"] != opportunity.owner_id:
        if changes["owner_id"] != actor.user_id:
            require(actor, Permission.assign_owner)
    require_existing(
        session=session,
        checks={
            "campaign_id": (Campaign, changes.get("campaign_id")),
            "owner_id": (User, changes.get("owner_id")),
        },
    )
    return apply_update(
        session=session, actor=actor, row=opportunity, changes=changes, entity="opportunity"
    )


@retrying
def move_opportunity_stage(
    *,
    session: Session,
    opportunity_id: int,
    change: StageChange | dict[str, Any],
    actor: Actor,
) -> Opportunity:
    """Move an open opportunity to another stage, writing its history; lost needs a reason."""
    require(actor, Permission.write)
    change_in = validate(StageChange, change)
    opportunity = session.get(Opportunity, opportunity_id)
    if opportunity is None:
        raise NotFound(f"Opportunity {opportunity_id} does not exist.")
    require_customer(session=session, actor=actor, customer_id=opportunity.customer_id, write=True)
    if opportunity.stage not in OPEN_STAGES:
        raise InvalidInput({"to_stage": f"the opportunity is already {opportunity.stage.value}"})
    if change_in.to_stage == opportunity.stage:
        raise InvalidInput({"to_stage": "the opportunity is already in this stage"})
    changed_at = change_in.changed_at or utcnow()
    if changed_at < opportunity.created_at:
        raise InvalidInput({"changed_at": "must not be before the opportunity was created"})
    before = snapshot(opportunity)
    session.add(
        OpportunityStageHistory(
            opportunity_id=opportunity.id,
            from_stage=opportunity.stage,
            to_stage=change_in.to_stage,
            changed_at=changed_at,
            changed_by_id=actor.user_id,
        )
    )
    opportunity.stage = change_in.to_stage
    if change_in.to_stage not in OPEN_STAGES:
        opportunity.closed_at = changed_at
    if change_in.lost_reason:
        opportunity.lost_reason = change_in.lost_reason.strip()
    session.add(opportunity)
    session.flush()
    add_audit(
        session=session,
        user_id=actor.user_id,
        entity="opportunity",
        entity_id=opportunity.id,
        action=AuditAction.update,
        before=before,
        after=snapshot(opportunity),
    )
    commit_or_conflict(session=session, message="The stage change could not be saved.")
    session.refresh(opportunity)
    return opportunity
