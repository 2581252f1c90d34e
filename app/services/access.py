"""Who may do what: roles, permissions and record ownership, enforced in the services."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import or_, true
from sqlalchemy.sql.expression import ColumnElement
from sqlmodel import Session

from app.errors import NotFound, PermissionDenied
from app.models import Customer, Role


class Permission(str, enum.Enum):
    read = "read"
    export = "export"
    write = "write"
    assign_owner = "assign_owner"
    restore = "restore"
    merge = "merge"
    catalogue = "catalogue"
    targets = "targets"
    settings = "settings"
    users = "users"
    audit = "audit"


_READ = {Permission.read, Permission.export}
_MANAGE = _READ | {
    Permission.write,
    Permission.assign_owner,
    Permission.restore,
    Permission.merge,
    Permission.catalogue,
    Permission.targets,
    Permission.settings,
}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.executive: frozenset(_READ),
    Role.staff: frozenset(_READ | {Permission.write}),
    Role.manager: frozenset(_MANAGE),
    Role.admin: frozenset(_MANAGE | {Permission.users, Permission.audit}),
}

_VERBS = {
    Permission.read: "read records",
    Permission.export: "export data",
    Permission.write: "create or change records",
    Permission.assign_owner: "assign customer owners",
    Permission.restore: "restore archived records",
    Permission.merge: "merge customers",
    Permission.catalogue: "change products, campaigns or partners",
    Permission.targets: "set targets",
    Permission.settings: "change settings",
    Permission.users: "manage users",
    Permission.audit: "read the audit log",
}


@dataclass(frozen=True)
class Actor:
    """The user on whose behalf a service runs."""

    user_id: int | None
    username: str
    role: Role

    @classmethod
    def system(cls) -> Actor:
        """The operator at the command line or a trusted job: every permission."""
        return cls(user_id=None, username="system", role=Role.admin)

    def can(self, permission: Permission) -> bool:
        """Whether the role grants the permission."""
        return permission in ROLE_PERMISSIONS[Role(self.role)]

    @property
    def sees_own_customers_only(self) -> bool:
        """Staff see the customers they own and unassigned ones."""
        return Role(self.role) == Role.staff


def require(actor: Actor, permission: Permission) -> None:
    """Raise PermissionDenied unless the actor's role grants the permission."""
    if not actor.can(permission):
        raise PermissionDenied(
            f"Your role ({Role(actor.role).value}) is not allowed to {_VERBS[permission]}."
        )


def visible_customers(actor: Actor) -> ColumnElement[bool]:
    """Condition on the customer table selecting the customers the actor may see."""
    if actor.sees_own_customers_only:
        return or_(Customer.owner_id == actor.user_id, Customer.owner_id.is_(None))
    return true()


def visible_customer_ids(actor: Actor):  # noqa: ANN201 - a select of customer ids or None
    """Select of visible customer ids for staff, None for roles that see everyone."""
    from sqlmodel import select

    if not actor.sees_own_customers_only:
        return None
    return select(Customer.id).where(visible_customers(actor))


def require_customer(
    *, session: Session, actor: Actor, customer_id: int, write: bool = False
) -> Customer:
    """The customer if the actor may see it (and write, when asked); else a clear error.

    A customer the actor may not see is reported as not found, so ids cannot be probed.
    """
    require(actor, Permission.write if write else Permission.read)
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"Customer {customer_id} does not exist.")
    if actor.sees_own_customers_only and customer.owner_id not in (None, actor.user_id):
        raise NotFound(f"Customer {customer_id} does not exist.")
    return customer
