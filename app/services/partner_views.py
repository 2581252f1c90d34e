"""Reads behind the Partners page: the partner list and the partner network (seed 002 ch. 5).

Customers appear in the network only when the actor may see them (staff: own and
unassigned customers). The layout is a pure function, so the graph needs no networkx.
"""

from __future__ import annotations

import math

import pandas as pd
from sqlalchemy import func
from sqlmodel import Session, select

from app.models import Customer, Partner, PartnerKind, PartnerLink
from app.services.access import Actor, Permission, require, visible_customers
from app.text import fold, like_skeleton

PARTNER_COLUMNS = [
    "id",
    "name",
    "kind",
    "province",
    "phone",
    "email",
    "partner_links",
    "customer_links",
]
NODE_COLUMNS = ["node", "label", "group", "links"]
EDGE_COLUMNS = ["source", "target", "relation"]
MAX_NODES = 300
LIST_LIMIT = 5_000


def _kind(value: object) -> str:
    return getattr(value, "value", value)  # type: ignore[return-value]


def list_partners(
    *,
    session: Session,
    actor: Actor,
    kind: str | None = None,
    search: str = "",
    limit: int = LIST_LIMIT,
) -> pd.DataFrame:
    """Active partners (optionally of one kind, matching ``search`` on the name ignoring
    diacritics and case), with their number of partner and visible customer links."""
    require(actor, Permission.read)
    if kind is not None:
        kind = PartnerKind(kind).value
    conditions = [Partner.archived.is_(False)]
    if kind:
        conditions.append(Partner.kind == kind)
    folded = fold((search or "").strip()[:100].replace("%", "").replace("_", ""), company=False)
    if folded:
        conditions.append(Partner.name.ilike(f"%{like_skeleton(folded)}%"))
    rows = session.exec(
        select(
            Partner.id, Partner.name, Partner.kind, Partner.province, Partner.phone, Partner.email
        )
        .where(*conditions)
        .order_by(Partner.name, Partner.id)
        .limit(limit)
    ).all()
    rows = [row for row in rows if not folded or folded in fold(row[1], company=False)]
    partner_counts: dict[int, int] = {}
    for pid, count in session.exec(
        select(PartnerLink.partner_id, func.count(PartnerLink.id))
        .where(PartnerLink.other_partner_id.is_not(None))
        .group_by(PartnerLink.partner_id)
    ).all():
        partner_counts[pid] = partner_counts.get(pid, 0) + int(count)
    for pid, count in session.exec(
        select(PartnerLink.other_partner_id, func.count(PartnerLink.id))
        .where(PartnerLink.other_partner_id.is_not(None))
        .group_by(PartnerLink.other_partner_id)
    ).all():
        partner_counts[pid] = partner_counts.get(pid, 0) + int(count)
    customer_counts = dict(
        session.exec(
            select(PartnerLink.partner_id, func.count(PartnerLink.id))
            .join(Customer, Customer.id == PartnerLink.customer_id)
            .where(visible_customers(actor), Customer.archived.is_(False))
            .group_by(PartnerLink.partner_id)
        ).all()
    )
    return pd.DataFrame(
        [
            (
                pid,
                name,
                _kind(pkind),
                province,
                phone,
                email,
                partner_counts.get(pid, 0),
                int(customer_counts.get(pid, 0)),
            )
            for pid, name, pkind, province, phone, email in rows
        ],
        columns=PARTNER_COLUMNS,
    )


def partner_network(
    *, session: Session, actor: Actor, kind: str | None = None, max_nodes: int = MAX_NODES
) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    """(nodes, edges, truncated) of the partner–partner and partner–customer links.

    Nodes [node, label, group, links]: ``node`` is "p<id>" or "c<id>", ``group`` the
    partner kind or "customer". With ``kind``, only partners of that kind and their
    links. Partners come first, then the most linked customers, up to ``max_nodes``;
    ``truncated`` tells that some nodes (and their edges) were left out.
    """
    require(actor, Permission.read)
    partners = list_partners(session=session, actor=actor, kind=kind)
    partner_ids = set(partners["id"].tolist())
    links = session.exec(
        select(
            PartnerLink.partner_id,
            PartnerLink.other_partner_id,
            PartnerLink.customer_id,
            PartnerLink.relation,
        ).order_by(PartnerLink.id)
    ).all()
    visible = set(
        session.exec(
            select(Customer.id)
            .join(PartnerLink, PartnerLink.customer_id == Customer.id)
            .where(visible_customers(actor), Customer.archived.is_(False))
        ).all()
    )
    edges: list[tuple[str, str, str]] = []
    for partner_id, other_id, customer_id, relation in links:
        if partner_id not in partner_ids:
            continue
        if other_id is not None and other_id in partner_ids:
            edges.append((f"p{partner_id}", f"p{other_id}", relation))
        elif customer_id is not None and customer_id in visible:
            edges.append((f"p{partner_id}", f"c{customer_id}", relation))
    degree: dict[str, int] = {}
    for source, target, _ in edges:
        degree[source] = degree.get(source, 0) + 1
        degree[target] = degree.get(target, 0) + 1
    customer_ids = sorted(
        {int(target[1:]) for _, target, _ in edges if target.startswith("c")},
        key=lambda cid: (-degree.get(f"c{cid}", 0), cid),
    )
    truncated = len(partners) + len(customer_ids) > max_nodes
    partners = partners.head(max_nodes)
    customer_ids = customer_ids[: max(0, max_nodes - len(partners))]
    names = dict(
        session.exec(
            select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids or [-1]))
        ).all()
    )
    nodes = [
        (f"p{pid}", name, pkind, degree.get(f"p{pid}", 0))
        for pid, name, pkind in partners[["id", "name", "kind"]].itertuples(index=False)
    ] + [
        (f"c{cid}", names.get(cid, str(cid)), "customer", degree.get(f"c{cid}", 0))
        for cid in customer_ids
    ]
    kept = {node for node, *_ in nodes}
    edges = [edge for edge in edges if edge[0] in kept and edge[1] in kept]
    return (
        pd.DataFrame(nodes, columns=NODE_COLUMNS),
        pd.DataFrame(edges, columns=EDGE_COLUMNS),
        truncated,
    )


def layered_layout(nodes: pd.DataFrame) -> pd.DataFrame:
    """Deterministic positions: partners on an inner circle (radius 1), customers on an
    outer one (radius 2.2).

    Input [node, group, ...] in the order to place them; output the same rows with x, y.
    Pure: the same nodes always give the same picture.
    """
    placed = nodes.copy()
    placed["x"] = 0.0
    placed["y"] = 0.0
    for is_customer, radius in ((False, 1.0), (True, 2.2)):
        mask = (placed["group"] == "customer") == is_customer
        count = int(mask.sum())
        if count == 0:
            continue
        if count == 1 and not is_customer:
            continue  # one partner alone sits in the centre
        angles = [2 * math.pi * index / count + math.pi / 2 for index in range(count)]
        placed.loc[mask, "x"] = [round(radius * math.cos(angle), 6) for angle in angles]
        placed.loc[mask, "y"] = [round(radius * math.sin(angle), 6) for angle in angles]
    return placed
