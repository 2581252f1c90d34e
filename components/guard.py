"""The check every page runs first, so a page opened alone is as safe as through the frame."""

from __future__ import annotations

import streamlit as st

from app.errors import DatabaseUnavailable
from app.services.access import Actor, Permission
from components.data import database_url, engine


def page_setup(title: str, *, permission: Permission = Permission.read) -> Actor:
    """Run at the top of every page: access check (a no-op for now), then open the database.

    The sign-in and role check of the sign-in issue goes here, not in the frame: with a
    ``pages/`` folder Streamlit can run a page file without ``streamlit_app.py`` (see
    style.md, convention 2), so each page must guard itself. ``title`` is the page's
    name for messages (and for the role check later). When the database cannot be
    opened or migrated, the page shows what to fix and stops instead of raising.
    """
    # Sign-in and role check: placeholder until the sign-in issue lands; it must return
    # the signed-in user and stop the page with a "not allowed" message when the role
    # lacks ``permission``.
    actor = Actor.system()
    try:
        engine(database_url())
    except DatabaseUnavailable as exc:
        # The driver's message goes in a code span on one line so that Markdown in it
        # (underscores, asterisks in URLs) is shown as typed.
        detail = " ".join(str(exc).split()).replace("`", "'")
        st.error(
            f"**{title}** cannot be shown: the database cannot be opened.\n\n"
            f"`{detail}`\n\n"
            "Check `CRM_DATABASE_URL` (unset, it means the SQLite file `data/crm.db`) and "
            "that the database server or folder is reachable, then reload the page.",
            icon=":material/database_off:",
        )
        st.stop()
    return actor
