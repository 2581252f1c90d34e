"""Small reads behind pickers and filters: segments, regions, provinces, owners."""

from __future__ import annotations

from sqlmodel import Session, select

from app.models import Customer, Role, User
from app.services.access import Actor, Permission, require, visible_customers


def filter_options(*, session: Session, actor: Actor) -> dict[str, list]:
    """Distinct values for the sidebar filters, from the customers the actor may see."""
    require(actor, Permission.read)
    visible = visible_customers(actor)

    def distinct(column) -> list[str]:  # noqa: ANN001
        rows = session.exec(
            select(column).where(visible, column.is_not(None), column != "").distinct()
        ).all()
        return sorted(str(value) for value in rows)

    owners = session.exec(
        select(User.id, User.display_name)
        .where(User.role.in_([Role.staff, Role.manager]), User.active.is_(True))
        .order_by(User.display_name)
    ).all()
    if actor.sees_own_customers_only:
        owners = [row for row in owners if row[0] == actor.user_id]
    return {
        "segment": distinct(Customer.segment),
        "region": distinct(Customer.region),
        "province": distinct(Customer.province),
        "owner": [(int(user_id), name) for user_id, name in owners],
    }
