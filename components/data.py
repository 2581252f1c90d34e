"""Cached data access for pages: one engine per database URL, cached query results.

Pages call these helpers and never open sessions themselves. Cached results are plain,
picklable values (dataclasses of numbers, DataFrames), never ORM objects.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import config
from app.db import get_engine
from app.kpi.overview import OverviewNumbers, overview_numbers
from app.settings import local_today

# Short TTLs only cover writes made outside the app (CLI, imports, other servers);
# writes made in the app clear the caches they affect (clear_overview_cache).
QUERY_TTL_SECONDS = 60
QUERY_MAX_ENTRIES = 64


def database_url() -> str:
    """The configured database URL (``CRM_DATABASE_URL``), read on every call."""
    return config.database_url()


@st.cache_resource(show_spinner=False)
def engine(url: str) -> Engine:
    """The shared engine for ``url``; the first call migrates the schema.

    Raises app.errors.DatabaseUnavailable, which is not cached, so the next rerun
    tries again; components.guard.page_setup turns it into a message.
    """
    return get_engine(url)


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_today(url: str) -> str:
    """Today in the display time zone (or ``CRM_AS_OF``), as an ISO date string."""
    with Session(engine(url)) as session:
        return local_today(session=session).isoformat()


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_overview(
    url: str, today_iso: str, visible_to_owner_id: int | None = None
) -> OverviewNumbers:
    """The overview numbers for the month containing ``today_iso``.

    ``visible_to_owner_id`` restricts them to a staff user's own and unassigned customers.
    """
    with Session(engine(url)) as session:
        return overview_numbers(
            session=session,
            today=dt.date.fromisoformat(today_iso),
            visible_to_owner_id=visible_to_owner_id,
        )


def clear_overview_cache() -> None:
    """Forget cached dashboard reads; call after writing any customer-facing record.

    An order, interaction, complaint or answer changes KPIs on nearly every dashboard, so
    a record write clears the overview, KPI, analysis and customer loaders together (pick
    lists are cleared separately by clear_entry_caches). Imported lazily: those modules
    import this one.
    """
    from components.data_analyses import clear_analysis_caches
    from components.data_customers import clear_customer_caches
    from components.data_kpi import clear_kpi_caches

    load_overview.clear()
    clear_kpi_caches()
    clear_analysis_caches()
    clear_customer_caches()


# --------------------------------------------------------------------------- data entry
# Pickers for the data-entry forms. The actor's identity is part of the cache key, since
# staff see only their own and unassigned customers.
def _actor(user_id: int | None, username: str, role: str):  # noqa: ANN202 - an Actor
    from app.services.access import Actor

    return Actor(user_id=user_id, username=username, role=role)


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=256, show_spinner=False)
def search_customer_options(url: str, query: str, user_id: int | None, username: str, role: str):  # noqa: ANN201 - a DataFrame
    """Up to 20 customers matching ``query`` (name, code, phone; diacritics-insensitive)."""
    from app.services.customers import search_customers

    with Session(engine(url)) as session:
        return search_customers(
            session=session, actor=_actor(user_id, username, role), query=query, limit=20
        )


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_entry_choices(url: str, kind: str):  # noqa: ANN201 - a DataFrame
    """Pick lists for the forms: ``kind`` is products, campaigns, partners or kpis."""
    import pandas as pd
    from sqlmodel import select

    from app.models import Campaign, Partner, Product

    with Session(engine(url)) as session:
        if kind == "products":
            rows = session.exec(
                select(
                    Product.id, Product.code, Product.name, Product.unit_price, Product.unit_cost
                )
                .where(Product.active.is_(True))
                .order_by(Product.code)
            ).all()
            return pd.DataFrame(rows, columns=["id", "code", "name", "unit_price", "unit_cost"])
        if kind == "campaigns":
            rows = session.exec(
                select(Campaign.id, Campaign.name, Campaign.start_date).order_by(
                    Campaign.start_date.desc()
                )
            ).all()
            return pd.DataFrame(rows, columns=["id", "name", "start_date"])
        if kind == "partners_all":
            rows = session.exec(
                select(Partner.id, Partner.name, Partner.kind, Partner.archived).order_by(
                    Partner.archived, Partner.name
                )
            ).all()
            return pd.DataFrame(rows, columns=["id", "name", "kind", "archived"])
        if kind == "partners":
            rows = session.exec(
                select(Partner.id, Partner.name, Partner.kind)
                .where(Partner.archived.is_(False))
                .order_by(Partner.name)
            ).all()
            return pd.DataFrame(rows, columns=["id", "name", "kind"])
        raise ValueError(f"unknown choice list {kind!r}")


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=256, show_spinner=False)
def load_customer_open_items(
    url: str, customer_id: int, kind: str, user_id: int | None, username: str, role: str
):  # noqa: ANN201 - a DataFrame
    """A customer's open opportunities, complaints or campaign memberships, for the
    forms that change them; ``kind`` is opportunities, complaints or memberships."""
    import pandas as pd
    from sqlmodel import select

    from app.models import (
        OPEN_COMPLAINT_STATUSES,
        OPEN_STAGES,
        Campaign,
        CampaignMember,
        Complaint,
        Opportunity,
    )
    from app.services.access import require_customer

    with Session(engine(url)) as session:
        require_customer(
            session=session, actor=_actor(user_id, username, role), customer_id=customer_id
        )
        if kind == "opportunities":
            rows = session.exec(
                select(Opportunity.id, Opportunity.title, Opportunity.stage).where(
                    Opportunity.customer_id == customer_id, Opportunity.stage.in_(OPEN_STAGES)
                )
            ).all()
            return pd.DataFrame(
                [(r[0], r[1], getattr(r[2], "value", r[2])) for r in rows],
                columns=["id", "title", "stage"],
            )
        if kind == "complaints":
            rows = session.exec(
                select(
                    Complaint.id, Complaint.category, Complaint.status, Complaint.first_response_at
                ).where(
                    Complaint.customer_id == customer_id,
                    Complaint.status.in_(OPEN_COMPLAINT_STATUSES),
                )
            ).all()
            return pd.DataFrame(
                [(r[0], r[1], getattr(r[2], "value", r[2]), r[3] is not None) for r in rows],
                columns=["id", "category", "status", "responded"],
            )
        if kind == "memberships":
            rows = session.exec(
                select(Campaign.id, Campaign.name, CampaignMember.responded)
                .join(CampaignMember, CampaignMember.campaign_id == Campaign.id)
                .where(CampaignMember.customer_id == customer_id)
            ).all()
            return pd.DataFrame(rows, columns=["id", "name", "responded"])
        raise ValueError(f"unknown item list {kind!r}")


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_timezone_name(url: str) -> str:
    """The display time zone's name (the ``timezone`` setting)."""
    from app.settings import display_timezone

    with Session(engine(url)) as session:
        return display_timezone(session=session).key


def clear_entry_caches(*kinds: str) -> None:
    """Forget cached pick lists after a write: "customers" (search and open items),
    "products", "campaigns", "partners" (choices), "items" (open items)."""
    if "customers" in kinds:
        search_customer_options.clear()
    if {"products", "campaigns", "partners"} & set(kinds):
        load_entry_choices.clear()
    if "items" in kinds or "customers" in kinds:
        load_customer_open_items.clear()
