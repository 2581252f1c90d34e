"""The check every page runs first, so a page opened alone is as safe as through the frame."""

from __future__ import annotations

import streamlit as st

from app.errors import DatabaseUnavailable
from app.models import Role
from app.services.access import Actor, Permission
from components.auth import current_user, sign_in_form, user_sidebar
from components.data import database_url, engine
from components.i18n import enum_label, t, tm


def open_database(title: str) -> None:
    """Open (and migrate) the database, or show what to fix and stop the page."""
    try:
        engine(database_url())
    except DatabaseUnavailable as exc:
        # The driver's message goes in a code span on one line so that Markdown in it
        # (underscores, asterisks in URLs) is shown as typed.
        detail = " ".join(tm(exc).split()).replace("`", "'")
        st.error(
            t("common.database_unavailable", title=title)
            + f"\n\n`{detail}`\n\n"
            + t("common.database_hint"),
            icon=":material/database_off:",
        )
        st.stop()


def not_allowed_message(role: Role | str, title: str) -> str:
    """What a user sees on a page their role may not open."""
    return t("common.not_allowed", role=enum_label(Role(role)).lower(), title=title)


def page_setup(title: str, *, permission: Permission = Permission.read) -> Actor:
    """Run at the top of every page: database, sign-in, role; return the signed-in Actor.

    The check lives here, not only in the frame: with a ``pages/`` folder Streamlit can
    run a page file without ``streamlit_app.py`` (see style.md, convention 2), so each
    page guards itself. Nobody signed in: the sign-in form, then stop. A role without
    ``permission``: a "not allowed" message, then stop, before any data is read.
    """
    open_database(title)
    user = current_user()
    if user is None:
        sign_in_form()
        st.stop()
    user_sidebar(user)
    actor = user.actor
    if not actor.can(permission):
        st.error(not_allowed_message(actor.role, title), icon=":material/block:")
        st.stop()
    return actor


def sign_in_page() -> None:
    """The only page of the navigation while nobody is signed in."""
    open_database("Sign in")
    sign_in_form()
