"""Merging two records of the same customer into one, keeping the audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, select

from app.errors import InvalidInput
from app.models import (
    AuditAction,
    CampaignMember,
    Complaint,
    Contact,
    Customer,
    CustomerBase,
    Inquiry,
    Interaction,
    Opportunity,
    Order,
    PartnerLink,
    SurveyResponse,
    utcnow,
)
from app.retry import retrying
from app.services.access import Actor, Permission, require, require_customer
from app.services.common import add_audit, commit_or_conflict, snapshot

# Tables whose rows belong to one customer through ``customer_id``.
MOVED_TABLES: dict[str, Any] = {
    "contacts": Contact,
    "interactions": Interaction,
    "inquiries": Inquiry,
    "orders": Order,
    "opportunities": Opportunity,
    "complaints": Complaint,
    "survey_responses": SurveyResponse,
    "partner_links": PartnerLink,
}
# Survivor fields filled from the duplicate when empty; code and identity never move.
FILLABLE_FIELDS = [
    name
    for name in CustomerBase.model_fields
    if name not in {"code", "name", "kind", "is_foreign", "lifecycle", "referred_by_id"}
]


@retrying
def merge_customers(
    *, session: Session, actor: Actor, survivor_id: int, duplicate_id: int
) -> dict[str, int]:
    """Move every record of ``duplicate_id`` to ``survivor_id``, fill the survivor's empty
    fields from the duplicate, archive the duplicate; one transaction, audited.

    Returns the number of rows moved per kind of record.
    """
    require(actor, Permission.merge)
    if survivor_id == duplicate_id:
        raise InvalidInput({"duplicate_id": "choose two different customers"})
    survivor = require_customer(session=session, actor=actor, customer_id=survivor_id, write=True)
    duplicate = require_customer(session=session, actor=actor, customer_id=duplicate_id, write=True)
    if duplicate.archived:
        raise InvalidInput({"duplicate_id": "the duplicate is already archived"})
    before = {"survivor": snapshot(survivor), "duplicate": snapshot(duplicate)}
    connection = session.connection()
    moved: dict[str, int] = {}

    # Campaign members: one row per (campaign, customer); where both are members, the
    # survivor's row keeps the union of contact, response and conversion.
    clashes = session.exec(
        select(CampaignMember).where(
            CampaignMember.customer_id == duplicate_id,
            CampaignMember.campaign_id.in_(
                select(CampaignMember.campaign_id).where(CampaignMember.customer_id == survivor_id)
            ),
        )
    ).all()
    for theirs in clashes:
        ours = session.exec(
            select(CampaignMember).where(
                CampaignMember.campaign_id == theirs.campaign_id,
                CampaignMember.customer_id == survivor_id,
            )
        ).one()
        ours.contacted_at = _earliest(ours.contacted_at, theirs.contacted_at)
        ours.responded_at = _earliest(ours.responded_at, theirs.responded_at)
        ours.responded = ours.responded or theirs.responded
        ours.converted = ours.converted or theirs.converted
        session.add(ours)
    session.flush()
    if clashes:
        connection.execute(
            delete(CampaignMember).where(CampaignMember.id.in_([row.id for row in clashes]))
        )
    moved["campaign_members"] = connection.execute(
        update(CampaignMember)
        .where(CampaignMember.customer_id == duplicate_id)
        .values(customer_id=survivor_id)
    ).rowcount
    moved["campaign_members_combined"] = len(clashes)

    for label, table in MOVED_TABLES.items():
        moved[label] = connection.execute(
            update(table).where(table.customer_id == duplicate_id).values(customer_id=survivor_id)
        ).rowcount

    # Customers referred by the duplicate were referred by the survivor.
    moved["referred_customers"] = connection.execute(
        update(Customer)
        .where(Customer.referred_by_id == duplicate_id, Customer.id != survivor_id)
        .values(referred_by_id=survivor_id)
    ).rowcount
    session.expire_all()
    survivor = session.get(Customer, survivor_id)
    duplicate = session.get(Customer, duplicate_id)
    if survivor.referred_by_id == duplicate_id:
        survivor.referred_by_id = (
            duplicate.referred_by_id if duplicate.referred_by_id != survivor_id else None
        )

    filled = []
    for name in FILLABLE_FIELDS:
        if getattr(survivor, name) in (None, "") and getattr(duplicate, name) not in (None, ""):
            setattr(survivor, name, getattr(duplicate, name))
            filled.append(name)
    if survivor.referred_by_id is None and duplicate.referred_by_id not in (None, survivor_id):
        survivor.referred_by_id = duplicate.referred_by_id
        filled.append("referred_by_id")
    now = utcnow()
    survivor.updated_at = now
    duplicate.archived = True
    duplicate.updated_at = now
    session.add(survivor)
    session.add(duplicate)
    session.flush()
    add_audit(
        session=session,
        user_id=actor.user_id,
        entity="customer",
        entity_id=survivor_id,
        action=AuditAction.merge,
        before=before,
        after={
            "survivor": snapshot(survivor),
            "duplicate": snapshot(duplicate),
            "moved": moved,
            "filled_fields": filled,
        },
    )
    add_audit(
        session=session,
        user_id=actor.user_id,
        entity="customer",
        entity_id=duplicate_id,
        action=AuditAction.archive,
        before=before["duplicate"],
        after={**(snapshot(duplicate) or {}), "_merged_into": survivor_id},
    )
    commit_or_conflict(session=session, message="The customers could not be merged.")
    return moved


def _earliest(first, second):  # noqa: ANN001, ANN202
    values = [value for value in (first, second) if value is not None]
    return min(values) if values else None
