"""The frame shared by every page: page config, the sign-in gate, navigation.

Every file of ``pages/`` is registered here (tests/app/test_pages.py checks it), and
no page gets a ``url_path``: with a ``pages/`` folder beside this file Streamlit can
also run a page alone, and both ways must reach the same URL (style.md, convention 2).
While nobody is signed in the navigation holds only the sign-in page; each page also
checks sign-in and role itself (components.guard.page_setup), which is what enforces
access: hiding pages here only keeps the menu tidy.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import streamlit as st

from app.services.access import Actor, Permission
from components.auth import current_actor
from components.data import database_url, load_today
from components.data_customers import actor_args, load_filter_options
from components.filters import render_filter_sidebar
from components.guard import sign_in_page
from components.i18n import language_switch, t

# (section, page file, title, icon). Data, so a test can compare it with pages/*.py;
# the first page is the default one.
PAGES: list[tuple[str, str, str, str]] = [
    ("Dashboards", "pages/overview.py", "Overview", ":material/dashboard:"),
    ("Dashboards", "pages/customers.py", "Customers", ":material/groups:"),
    ("Dashboards", "pages/customer.py", "Customer 360°", ":material/person_search:"),
    ("Dashboards", "pages/segments.py", "Segments", ":material/donut_small:"),
    ("Dashboards", "pages/pipeline.py", "Pipeline", ":material/filter_alt:"),
    ("Dashboards", "pages/campaigns.py", "Campaigns", ":material/campaign:"),
    ("Dashboards", "pages/complaints.py", "Complaints", ":material/report_problem:"),
    ("Dashboards", "pages/evaluation.py", "CRM evaluation", ":material/fact_check:"),
    ("Dashboards", "pages/forecast.py", "Forecast", ":material/trending_up:"),
    ("Dashboards", "pages/partners.py", "Partners", ":material/hub:"),
    ("Work", "pages/data_entry.py", "Data entry", ":material/edit_note:"),
    ("Work", "pages/import_export.py", "Import & export", ":material/import_export:"),
    ("Administration", "pages/admin.py", "Admin", ":material/admin_panel_settings:"),
]

# The permission each page passes to page_setup (read when absent); a test checks that
# the two agree. Only used to hide menu entries the role cannot open.
PAGE_PERMISSIONS: dict[str, str] = {
    "pages/data_entry.py": "write",
    "pages/import_export.py": "export",
    "pages/admin.py": "users",
}


def page_files() -> list[str]:
    """The page files registered in the navigation, in menu order."""
    return [file for _, file, _, _ in PAGES]


def allowed_pages(actor: Actor) -> list[tuple[str, str, str, str]]:
    """The entries of PAGES the actor's role may open."""
    return [
        entry
        for entry in PAGES
        if actor.can(Permission(PAGE_PERMISSIONS.get(entry[1], Permission.read.value)))
    ]


def navigation_sections(actor: Actor) -> dict[str, list[st.Page]]:
    """``st.navigation``'s sections for the actor (the first page is the default)."""
    sections: dict[str, list[st.Page]] = {}
    for index, (section, file, _, icon) in enumerate(allowed_pages(actor)):
        # Menu titles in the user's language; PAGES keeps the English ones as data.
        title = t(f"common.page_{Path(file).stem}")
        page = st.Page(file, title=title, icon=icon, default=index == 0)
        sections.setdefault(t(f"common.section_{section.lower()}"), []).append(page)
    return sections


st.set_page_config(page_title="CRM", layout="wide", page_icon=":material/handshake:")

actor = current_actor()
if actor is None:
    pg = st.navigation(
        [st.Page(sign_in_page, title="Sign in", icon=":material/login:", default=True)],
        position="hidden",
    )
else:
    pg = st.navigation(navigation_sections(actor))
    # Language and global filters live in the frame so they survive page switches; pages
    # only read them (from the URL, with defaults) and so also work when run alone.
    language_switch()
    url = database_url()
    render_filter_sidebar(
        dt.date.fromisoformat(load_today(url)), load_filter_options(url, actor_args(actor))
    )
pg.run()
