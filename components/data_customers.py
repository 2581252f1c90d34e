"""Cached loaders of the customer pages (Customers, Customer 360°, Segments, Partners).

Every loader is keyed by the database URL, the filters and the actor's identity (staff
see only their own and unassigned customers), returns plain values and DataFrames, and
is cleared by ``clear_customer_caches`` after a write that affects it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from app.errors import NotFound
from app.kpi.base import KpiContext, KpiFilters
from app.kpi.period import Period
from app.services.access import Actor
from components.data import engine

TTL = 60
ActorArgs = tuple[int | None, str, str]


def actor_args(actor: Actor) -> ActorArgs:
    """The actor as hashable cache-key parts."""
    return (actor.user_id, actor.username, getattr(actor.role, "value", actor.role))


def _actor(args: ActorArgs) -> Actor:
    user_id, username, role = args
    return Actor(user_id=user_id, username=username, role=role)


def _scope(args: ActorArgs) -> int | None:
    """The owner id staff are restricted to (None for roles that see everyone)."""
    actor = _actor(args)
    return actor.user_id if actor.sees_own_customers_only else None


def filters_key(filters: KpiFilters) -> tuple:
    """KPI filters as a hashable tuple of (name, value) pairs."""
    return tuple(sorted(filters.__dict__.items()))


def _filters(key: tuple) -> KpiFilters:
    return KpiFilters(**dict(key))


# --------------------------------------------------------------------------- shared
@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def load_filter_options(url: str, args: ActorArgs) -> dict[str, list]:
    """Distinct segments, regions, provinces and owners visible to the actor."""
    from app.services.lookups import filter_options

    with Session(engine(url)) as session:
        return filter_options(session=session, actor=_actor(args))


@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def load_rfm(
    url: str,
    as_of_iso: str,
    filters: tuple,
    weights: tuple[tuple[str, float], ...] | None = None,
    bins: int | None = None,
) -> pd.DataFrame:
    """The RFM table as of a day for the filtered customers (weights/bins overrides
    optional); computed once per as-of day and filter set."""
    from app.kpi.rfm import rfm_table

    with Session(engine(url)) as session:
        ctx = KpiContext.create(session=session, filters=_filters(filters))
        return rfm_table(
            ctx,
            as_of=dt.date.fromisoformat(as_of_iso),
            weights=dict(weights) if weights else None,
            bins=bins,
        )


def visible_filters(args: ActorArgs) -> tuple:
    """The filter key of 'every customer the actor may see'."""
    return filters_key(KpiFilters(visible_to_owner_id=_scope(args)))


# --------------------------------------------------------------------------- list
@st.cache_data(ttl=TTL, max_entries=128, show_spinner=False)
def load_customer_page(
    url: str, query: tuple, page: int, page_size: int, args: ActorArgs, as_of_iso: str
) -> dict[str, Any]:
    """One page of the list: {rows, choices, total, page, pages, notes}; rows carry the
    RFM segment."""
    from app.services.customer_views import CustomerQuery, list_customers

    with Session(engine(url)) as session:
        result = list_customers(
            session=session,
            actor=_actor(args),
            query=CustomerQuery(**dict(query)),
            page=page,
            page_size=page_size,
        )
    rows = _with_rfm(result.rows, url, args, as_of_iso)
    return {
        "rows": rows,
        # (id, "code · name") of the page's rows, for the "open a customer" picker.
        "choices": list(
            zip(rows["id"].tolist(), (rows["code"] + " · " + rows["name"]).tolist(), strict=True)
        ),
        "total": result.total,
        "page": result.page,
        "pages": result.pages,
        "notes": result.notes,
    }


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def load_customer_export(url: str, query: tuple, args: ActorArgs, as_of_iso: str) -> pd.DataFrame:
    """Every customer the list matches (all pages, bounded), with the RFM segment."""
    from app.services.customer_views import CustomerQuery, export_customers

    with Session(engine(url)) as session:
        rows = export_customers(
            session=session, actor=_actor(args), query=CustomerQuery(**dict(query))
        )
    return _with_rfm(rows, url, args, as_of_iso)


def _with_rfm(rows: pd.DataFrame, url: str, args: ActorArgs, as_of_iso: str) -> pd.DataFrame:
    rfm = load_rfm(url, as_of_iso, visible_filters(args))
    segments = dict(zip(rfm["customer_id"], rfm["segment"], strict=True)) if not rfm.empty else {}
    shown = rows.copy()
    shown.insert(shown.columns.get_loc("lifecycle") + 1, "rfm_segment", shown["id"].map(segments))
    return shown


def rfm_segment_ids(url: str, args: ActorArgs, as_of_iso: str, segment: str) -> tuple[int, ...]:
    """Ids of the visible customers in an RFM segment (from the cached RFM table)."""
    rfm = load_rfm(url, as_of_iso, visible_filters(args))
    if rfm.empty:
        return ()
    return tuple(int(cid) for cid in rfm.loc[rfm["segment"] == segment, "customer_id"])


# --------------------------------------------------------------------------- 360
@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def load_customer_choices(url: str, search: str, args: ActorArgs) -> pd.DataFrame:
    """[id, label] of visible customers matching ``search`` (the 360 page's picker)."""
    from app.services.customer_views import customer_choices

    with Session(engine(url)) as session:
        return customer_choices(session=session, actor=_actor(args), search=search)


@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def load_customer_360(
    url: str, customer_id: int, args: ActorArgs, today_iso: str
) -> dict[str, Any] | None:
    """Everything the 360° page shows except the timeline; None when the customer does
    not exist or the actor may not see it."""
    from app.kpi.analyses_service import customer_profitability
    from app.services import customer_views as views
    from app.services.policies import policies_received, suggest_policy

    actor = _actor(args)
    today = dt.date.fromisoformat(today_iso)
    with Session(engine(url)) as session:
        try:
            profile = views.customer_profile(session=session, actor=actor, customer_id=customer_id)
        except NotFound:
            return None
        ctx = KpiContext.create(session=session)
        end = today + dt.timedelta(days=1)
        now = ctx.instant(end)
        data = {
            "profile": profile,
            "contacts": views.customer_contacts(
                session=session, actor=actor, customer_id=customer_id
            ),
            "profitability": customer_profitability(ctx, customer_id=customer_id, as_of_end=end),
            "opportunities": views.open_opportunities(
                session=session, actor=actor, customer_id=customer_id
            ),
            "complaints": views.customer_complaints(
                session=session, actor=actor, customer_id=customer_id, now=now
            ),
            "policies": policies_received(session=session, actor=actor, customer_id=customer_id),
        }
    lifetime = data["profitability"]["lifetime"]
    data["summary"] = (
        {key: lifetime[key].iloc[0] for key in ("orders", "revenue", "profit", "last_order")}
        if not lifetime.empty
        else {"orders": 0, "revenue": 0.0, "profit": 0.0, "last_order": None}
    )
    complaints = data["complaints"]
    data["complaint_counts"] = {
        "open": int(complaints["is_open"].sum()) if not complaints.empty else 0,
        "breached": int(complaints["breached"].sum()) if not complaints.empty else 0,
    }
    data["per_transaction_newest"] = (
        data["profitability"]["per_transaction"].iloc[::-1].reset_index(drop=True)
    )
    rfm = load_rfm(url, today_iso, visible_filters(args))
    row = rfm[rfm["customer_id"] == customer_id] if not rfm.empty else rfm
    data["rfm"] = None if row.empty else row.iloc[0].to_dict()
    segment = data["rfm"]["segment"] if data["rfm"] else None
    policy = suggest_policy(segment)
    data["rfm_bins"] = int(ctx.settings.get("rfm_bins") or 5)
    data["suggestion"] = {"segment": segment, "key": policy.key, "discount": policy.discount}
    return data


@st.cache_data(ttl=TTL, max_entries=128, show_spinner=False)
def load_timeline(
    url: str, customer_id: int, page: int, page_size: int, args: ActorArgs
) -> dict[str, Any]:
    """One page of the customer's timeline: {rows, total, page, pages}."""
    from app.services.customer_views import customer_timeline

    with Session(engine(url)) as session:
        result = customer_timeline(
            session=session,
            actor=_actor(args),
            customer_id=customer_id,
            page=page,
            page_size=page_size,
        )
    return {"rows": result.rows, "total": result.total, "page": result.page, "pages": result.pages}


# --------------------------------------------------------------------------- segments
@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def load_rfm_settings(url: str) -> tuple[dict[str, float], int]:
    """The stored RFM weights and bins."""
    from app.services.customer_views import rfm_stored_settings

    with Session(engine(url)) as session:
        return rfm_stored_settings(session=session)


@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def load_segments(
    url: str,
    as_of_iso: str,
    filters: tuple,
    weights: tuple[tuple[str, float], ...] | None = None,
    bins: int | None = None,
) -> dict[str, pd.DataFrame]:
    """{segments, grid}: RFM segment sizes and value shares, and the R × F grid."""
    from app.kpi.rfm import segments_of
    from app.services.customer_views import rfm_grid, rfm_stored_settings

    with Session(engine(url)) as session:
        _, stored_bins = rfm_stored_settings(session=session)
    # One RFM pass, shared with the Customers list and the 360° page through load_rfm.
    rfm = load_rfm(url, as_of_iso, filters, weights, bins)
    segments = segments_of(rfm)
    if not segments.empty:
        # Weights do not move customers between segments (those follow R and F); the
        # average weighted score shows their effect.
        averages = rfm.groupby("segment", dropna=False)["weighted_score"].mean()
        segments = segments.assign(
            avg_weighted_score=segments["segment"].map(averages).astype("float64").round(2)
        )
    return {"segments": segments, "grid": rfm_grid(rfm, bins or stored_bins)}


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def load_loyalty(
    url: str, period: tuple[str, str], previous: tuple[str, str], filters: tuple
) -> dict[str, pd.DataFrame]:
    """{ladder, migration}: loyalty levels at the end of the period, and the migration
    matrix from the end of the comparison period."""
    from app.kpi.analyses_sales import ladder_of, loyalty_migration

    current = Period(dt.date.fromisoformat(period[0]), dt.date.fromisoformat(period[1]))
    before = Period(dt.date.fromisoformat(previous[0]), dt.date.fromisoformat(previous[1]))
    with Session(engine(url)) as session:
        ctx = KpiContext.create(session=session, filters=_filters(filters))
        migration = loyalty_migration(ctx, period=current, previous=before)
        return {
            "ladder": ladder_of(migration),
            "migration": migration,
            # The matrix as a plain table: a "previous_level" column, then one per level.
            "migration_table": migration.reset_index(),
        }


def save_rfm(url: str, actor: Actor, weights: dict[str, float], bins: int) -> None:
    """Store the RFM settings (managers only) and forget every cached read they affect."""
    from app.services.customer_views import save_rfm_settings

    with Session(engine(url)) as session:
        save_rfm_settings(session=session, actor=actor, weights=weights, bins=bins)
    clear_customer_caches()
    try:
        from components.data import clear_overview_cache

        clear_overview_cache()
    except ImportError:  # pragma: no cover - the overview cache is optional
        pass


# --------------------------------------------------------------------------- partners
@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def load_partners(url: str, kind: str | None, search: str, args: ActorArgs) -> pd.DataFrame:
    """The partner list (by kind, matching ``search``) with link counts."""
    from app.services.partner_views import list_partners

    with Session(engine(url)) as session:
        return list_partners(session=session, actor=_actor(args), kind=kind, search=search)


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def load_partner_network(
    url: str, kind: str | None, args: ActorArgs, max_nodes: int = 300
) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    """(nodes with x/y positions, edges, truncated) of the partner network."""
    from app.services.partner_views import layered_layout, partner_network

    with Session(engine(url)) as session:
        nodes, edges, truncated = partner_network(
            session=session, actor=_actor(args), kind=kind, max_nodes=max_nodes
        )
    return layered_layout(nodes), edges, truncated


def clear_customer_caches() -> None:
    """Forget every cached read of the customer pages (after a write that affects them)."""
    for loader in (
        load_filter_options,
        load_rfm,
        load_customer_page,
        load_customer_export,
        load_customer_choices,
        load_customer_360,
        load_timeline,
        load_rfm_settings,
        load_segments,
        load_loyalty,
        load_partners,
        load_partner_network,
    ):
        loader.clear()


def customer_query_key(
    filters: Any,
    *,
    search: str = "",
    lifecycle: str | None = None,
    customer_ids: tuple[int, ...] | None = None,
    sort: str = "code",
    descending: bool = False,
) -> tuple:
    """The list query (sidebar filters plus the page's own) as a hashable cache key."""
    return tuple(
        sorted(
            {
                "search": (search or "").strip()[:100],
                "segment": filters.segment,
                "region": filters.region,
                "province": filters.province,
                "owner_id": filters.owner_id,
                "kind": filters.kind,
                "lifecycle": lifecycle,
                "customer_ids": customer_ids,
                "sort": sort,
                "descending": descending,
            }.items()
        )
    )


def comparison_period(filters: Any) -> Period:
    """The period the Segments page compares with: the same period last year when the
    sidebar says so, else the previous period of the same length."""
    return (
        filters.period.last_year() if filters.compare == "last_year" else filters.period.previous()
    )


def parse_customer_id(raw: Any) -> int | None:
    """A customer id from the address, or None when missing or malformed."""
    text = str(raw or "").strip()
    # isdigit() alone accepts "²" and other digits int() rejects; ids are 32-bit.
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 0 < value < 2**31 else None
