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
def load_overview(url: str, today_iso: str) -> OverviewNumbers:
    """The overview numbers for the month containing ``today_iso``."""
    with Session(engine(url)) as session:
        return overview_numbers(session=session, today=dt.date.fromisoformat(today_iso))


def clear_overview_cache() -> None:
    """Forget cached overview numbers; call after writing orders, customers or complaints."""
    load_overview.clear()
