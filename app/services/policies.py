"""Policies (discounts, promotions) a customer received, and the one to offer next (seed 003).

"When a customer buys again, show staff the customer's profile, the policies it had
before, and a suggested policy." The suggestion is a small rule table keyed by the
customer's RFM segment; its texts live in the translation catalogue
(``customers.policy_<key>`` and ``customers.policy_<key>_why``), in both languages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlmodel import Session, select

from app.models import Campaign, CampaignMember, Order, OrderLine, Product
from app.services.access import Actor, require_customer
from app.settings import display_timezone


@dataclass(frozen=True)
class Policy:
    """A suggested policy: a catalogue key, the discount it grants (a fraction) if any."""

    key: str
    discount: float | None = None


# RFM segment (app.kpi.rfm.SEGMENT_RULES) → the policy to offer next. None: no counted
# order yet (a prospect), so the first purchase is what to win.
POLICY_RULES: dict[str | None, Policy] = {
    "champions": Policy("loyalty_gift"),
    "loyal": Policy("loyalty_upgrade", 0.05),
    "potential_loyalists": Policy("membership_offer", 0.05),
    "new": Policy("welcome_second_order", 0.05),
    "promising": Policy("free_trial_service"),
    "need_attention": Policy("personal_offer", 0.07),
    "about_to_sleep": Policy("reactivation_reminder", 0.07),
    "at_risk": Policy("win_back", 0.10),
    "cannot_lose": Policy("manager_call", 0.15),
    "hibernating": Policy("seasonal_promotion", 0.10),
    "lost": Policy("reengagement_survey", 0.15),
    None: Policy("first_order_welcome", 0.05),
}


def suggest_policy(segment: str | None) -> Policy:
    """The policy to offer a customer of the RFM ``segment`` on the next purchase."""
    # A segment outside the rule table (a rule set extended later) gets a neutral offer.
    return POLICY_RULES.get(segment) or Policy("personal_offer", 0.05)


POLICY_COLUMNS = ["date", "policy_type", "name", "discount", "outcome", "order_code"]


def _local_day(value: dt.datetime | None, tz) -> dt.date | None:  # noqa: ANN001 - a ZoneInfo
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(tz).date()


def policies_received(
    *, session: Session, actor: Actor, customer_id: int, limit: int = 200
) -> pd.DataFrame:
    """The discounts and promotions the customer received, newest first.

    policy_type: ``order_promotion`` (an order carried a promotion), ``line_discount``
    (an order line was sold at a discount, the rate as a fraction in ``discount``) or
    ``campaign`` (the customer was a member of a campaign; ``outcome`` is contacted,
    responded or converted). Cancelled and draft orders are left out.
    """
    require_customer(session=session, actor=actor, customer_id=customer_id)
    tz = display_timezone(session=session)
    counted = Order.status.not_in(["draft", "cancelled"])
    records: list[tuple] = []
    promotions = session.exec(
        select(Order.ordered_at, Order.promotion, Order.code)
        .where(Order.customer_id == customer_id, Order.promotion.is_not(None), counted)
        .order_by(Order.ordered_at.desc())
        .limit(limit)
    ).all()
    records += [
        (_local_day(at, tz), "order_promotion", promotion, None, "", code)
        for at, promotion, code in promotions
        if promotion
    ]
    discounts = session.exec(
        select(Order.ordered_at, Product.name, OrderLine.discount, Order.code)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Product, Product.id == OrderLine.product_id)
        .where(Order.customer_id == customer_id, OrderLine.discount > 0, counted)
        .order_by(Order.ordered_at.desc())
        .limit(limit)
    ).all()
    records += [
        (_local_day(at, tz), "line_discount", product, float(discount), "", code)
        for at, product, discount, code in discounts
    ]
    memberships = session.exec(
        select(
            Campaign.start_date,
            CampaignMember.contacted_at,
            Campaign.name,
            CampaignMember.responded,
            CampaignMember.converted,
        )
        .join(CampaignMember, CampaignMember.campaign_id == Campaign.id)
        .where(CampaignMember.customer_id == customer_id)
        .order_by(Campaign.start_date.desc())
        .limit(limit)
    ).all()
    records += [
        (
            _local_day(contacted, tz) or start,
            "campaign",
            name,
            None,
            "converted" if converted else "responded" if responded else "contacted",
            "",
        )
        for start, contacted, name, responded, converted in memberships
    ]
    frame = pd.DataFrame(records, columns=POLICY_COLUMNS)
    if frame.empty:
        return frame
    return (
        frame.sort_values("date", ascending=False, kind="stable").head(limit).reset_index(drop=True)
    )
