"""Campaigns and their members, partners and their links, KPI targets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from app.errors import Conflict, InvalidInput
from app.models import (
    AuditAction,
    Campaign,
    CampaignCreate,
    CampaignMember,
    CampaignMemberCreate,
    CampaignMemberUpdate,
    CampaignUpdate,
    Customer,
    Partner,
    PartnerCreate,
    PartnerLink,
    PartnerLinkCreate,
    PartnerUpdate,
    Target,
    TargetCreate,
    TargetUpdate,
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
    snapshot,
    validate,
)

MONEY_LIMIT = Decimal("9999999999999999.99")


# --------------------------------------------------------------------------- campaigns
@retrying
def create_campaign(
    *,
    session: Session,
    data: CampaignCreate | dict[str, Any],
    actor: Actor,
    idempotency_key: str | None = None,
) -> Campaign:
    """Validate and insert a campaign, audited (managers and admins)."""
    return create_record_once(
        session=session,
        create_model=CampaignCreate,
        table=Campaign,
        data=data,
        entity="campaign",
        references={},
        actor=actor,
        idempotency_key=idempotency_key,
        permission=Permission.catalogue,
        customer_field=None,
        extra={"created_at": utcnow()},
    )


@retrying
def update_campaign(
    *,
    session: Session,
    campaign_id: int,
    data: CampaignUpdate | dict[str, Any],
    actor: Actor,
) -> Campaign:
    """Change the given fields of a campaign (dates stay in order), audited."""
    require(actor, Permission.catalogue)
    changes = validate(CampaignUpdate, data).model_dump(exclude_unset=True)
    campaign = get_or_not_found(session=session, table=Campaign, key=campaign_id, label="Campaign")
    start = changes.get("start_date", campaign.start_date)
    end = changes.get("end_date", campaign.end_date)
    if start is not None and end is not None and end < start:
        raise InvalidInput({"end_date": "end date must not be before the start date"})
    return apply_update(
        session=session, actor=actor, row=campaign, changes=changes, entity="campaign"
    )


@retrying
def record_campaign_cost(
    *, session: Session, campaign_id: int, amount: Decimal | float | str, actor: Actor
) -> Campaign:
    """Add ``amount`` (> 0) to the campaign's actual cost, audited."""
    require(actor, Permission.catalogue)
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (ArithmeticError, ValueError):
        raise InvalidInput({"amount": "must be a number"}) from None
    if not value.is_finite() or value <= 0:
        raise InvalidInput({"amount": "must be greater than 0"})
    campaign = get_or_not_found(session=session, table=Campaign, key=campaign_id, label="Campaign")
    total = Decimal(campaign.actual_cost or 0) + value
    if total > MONEY_LIMIT:
        raise InvalidInput({"amount": "the total cost would be too large"})
    return apply_update(
        session=session,
        actor=actor,
        row=campaign,
        changes={"actual_cost": total},
        entity="campaign",
    )


@retrying
def add_campaign_members(
    *,
    session: Session,
    campaign_id: int,
    customer_ids: list[int],
    actor: Actor,
    contacted_at: dt.datetime | None = None,
) -> int:
    """Add customers to a campaign (those already in it are skipped); returns how many
    were added. One transaction, one audit row per member."""
    require(actor, Permission.write)
    get_or_not_found(session=session, table=Campaign, key=campaign_id, label="Campaign")
    wanted = list(dict.fromkeys(int(cid) for cid in customer_ids))
    if not wanted:
        raise InvalidInput({"customer_ids": "choose at least one customer"})
    for customer_id in wanted:
        require_customer(session=session, actor=actor, customer_id=customer_id, write=True)
    present = set(
        session.exec(
            select(CampaignMember.customer_id).where(
                CampaignMember.campaign_id == campaign_id,
                CampaignMember.customer_id.in_(wanted),
            )
        ).all()
    )
    added = 0
    for customer_id in wanted:
        if customer_id in present:
            continue
        member_in = validate(
            CampaignMemberCreate,
            {"campaign_id": campaign_id, "customer_id": customer_id, "contacted_at": contacted_at},
        )
        member = CampaignMember.model_validate(member_in)
        session.add(member)
        session.flush()
        audit_create(session=session, actor=actor, entity="campaign_member", row=member)
        added += 1
    commit_or_conflict(session=session, message="A customer is already in the campaign.")
    return added


@retrying
def record_campaign_response(
    *,
    session: Session,
    campaign_id: int,
    customer_id: int,
    actor: Actor,
    responded: bool = True,
    converted: bool | None = None,
    responded_at: dt.datetime | None = None,
) -> CampaignMember:
    """Mark a member as having responded (and converted), audited."""
    require(actor, Permission.write)
    require_customer(session=session, actor=actor, customer_id=customer_id, write=True)
    member = session.exec(
        select(CampaignMember).where(
            CampaignMember.campaign_id == campaign_id, CampaignMember.customer_id == customer_id
        )
    ).first()
    if member is None:
        raise InvalidInput({"customer_id": "the customer is not a member of this campaign"})
    changes: dict[str, Any] = {"responded": responded}
    if responded:
        changes["responded_at"] = responded_at or member.responded_at or utcnow()
    else:
        changes["responded_at"] = None
    if converted is not None:
        changes["converted"] = converted
    update = validate(CampaignMemberUpdate, changes).model_dump(exclude_unset=True)
    return apply_update(
        session=session, actor=actor, row=member, changes=update, entity="campaign_member"
    )


# --------------------------------------------------------------------------- partners
@retrying
def create_partner(
    *,
    session: Session,
    data: PartnerCreate | dict[str, Any],
    actor: Actor,
    idempotency_key: str | None = None,
) -> Partner:
    """Validate and insert a partner (supplier, distributor, agent...), audited."""
    return create_record_once(
        session=session,
        create_model=PartnerCreate,
        table=Partner,
        data=data,
        entity="partner",
        references={},
        actor=actor,
        idempotency_key=idempotency_key,
        permission=Permission.catalogue,
        customer_field=None,
        extra={"created_at": utcnow()},
    )


@retrying
def update_partner(
    *,
    session: Session,
    partner_id: int,
    data: PartnerUpdate | dict[str, Any],
    actor: Actor,
) -> Partner:
    """Change the given fields of a partner, audited."""
    require(actor, Permission.catalogue)
    changes = validate(PartnerUpdate, data).model_dump(exclude_unset=True)
    partner = get_or_not_found(session=session, table=Partner, key=partner_id, label="Partner")
    return apply_update(
        session=session, actor=actor, row=partner, changes=changes, entity="partner"
    )


@retrying
def set_partner_archived(
    *, session: Session, partner_id: int, archived: bool, actor: Actor
) -> Partner:
    """Archive (soft-delete) or restore a partner, audited; restoring is for managers."""
    require(actor, Permission.catalogue if archived else Permission.restore)
    partner = get_or_not_found(session=session, table=Partner, key=partner_id, label="Partner")
    return apply_update(
        session=session,
        actor=actor,
        row=partner,
        changes={"archived": archived},
        entity="partner",
        action=AuditAction.archive if archived else AuditAction.restore,
    )


@retrying
def create_partner_link(
    *,
    session: Session,
    data: PartnerLinkCreate | dict[str, Any],
    actor: Actor,
    idempotency_key: str | None = None,
) -> PartnerLink:
    """Link a partner to another partner or to a customer, audited."""
    require(actor, Permission.catalogue)
    link_in = validate(PartnerLinkCreate, data)
    if link_in.other_partner_id == link_in.partner_id:
        raise InvalidInput({"other_partner_id": "a partner cannot be linked to itself"})
    return create_record_once(
        session=session,
        create_model=PartnerLinkCreate,
        table=PartnerLink,
        data=link_in,
        entity="partner_link",
        references={"partner_id": Partner, "other_partner_id": Partner, "customer_id": Customer},
        actor=actor,
        idempotency_key=idempotency_key,
        permission=Permission.catalogue,
    )


@retrying
def delete_partner_link(*, session: Session, link_id: int, actor: Actor) -> None:
    """Remove a partner link (the audit row keeps what it was)."""
    require(actor, Permission.catalogue)
    link = get_or_not_found(session=session, table=PartnerLink, key=link_id, label="Partner link")
    before = snapshot(link)
    session.delete(link)
    add_audit(
        session=session,
        user_id=actor.user_id,
        entity="partner_link",
        entity_id=link_id,
        action=AuditAction.delete,
        before=before,
    )
    session.commit()


# --------------------------------------------------------------------------- targets
@retrying
def create_target(
    *,
    session: Session,
    data: TargetCreate | dict[str, Any],
    actor: Actor,
    idempotency_key: str | None = None,
) -> Target:
    """Set a KPI target for a period (and segment), audited (managers and admins).

    One target per KPI, period start and segment: a second one is a Conflict.
    """
    require(actor, Permission.targets)
    existing = find_by_idempotency_key(
        session=session, table=Target, entity="target", key=idempotency_key
    )
    if existing is not None:
        return existing
    target_in = validate(TargetCreate, data)
    clash = session.exec(
        select(Target.id).where(
            Target.kpi_id == target_in.kpi_id,
            Target.period_start == target_in.period_start,
            Target.segment.is_(None)
            if target_in.segment is None
            else Target.segment == target_in.segment,
        )
    ).first()
    if clash is not None:
        raise Conflict(
            f"A target for {target_in.kpi_id} from {target_in.period_start} already exists; "
            "change its value instead."
        )
    target = Target.model_validate(
        target_in, update={"created_by_id": actor.user_id, "created_at": utcnow()}
    )
    session.add(target)
    session.flush()
    audit_create(
        session=session, actor=actor, entity="target", row=target, idempotency_key=idempotency_key
    )
    commit_or_conflict(session=session, message="The target could not be saved.")
    session.refresh(target)
    return target


@retrying
def update_target(
    *, session: Session, target_id: int, data: TargetUpdate | dict[str, Any], actor: Actor
) -> Target:
    """Change a target's value, audited."""
    require(actor, Permission.targets)
    changes = validate(TargetUpdate, data).model_dump(exclude_unset=True)
    if changes.get("target_value", 0) is None:
        raise InvalidInput({"target_value": "is required"})
    target = get_or_not_found(session=session, table=Target, key=target_id, label="Target")
    return apply_update(session=session, actor=actor, row=target, changes=changes, entity="target")
