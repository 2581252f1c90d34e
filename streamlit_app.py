"""The frame shared by every page: page config, (later) the sign-in gate, navigation.

Every file of ``pages/`` is registered here (tests/app/test_pages.py checks it), and
no page gets a ``url_path``: with a ``pages/`` folder beside this file Streamlit can
also run a page alone, and both ways must reach the same URL (style.md, convention 2).
"""

from __future__ import annotations

import streamlit as st

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


def page_files() -> list[str]:
    """The page files registered in the navigation, in menu order."""
    return [file for _, file, _, _ in PAGES]


def navigation_sections() -> dict[str, list[st.Page]]:
    """``st.navigation``'s sections built from PAGES (the first page is the default)."""
    sections: dict[str, list[st.Page]] = {}
    for index, (section, file, title, icon) in enumerate(PAGES):
        page = st.Page(file, title=title, icon=icon, default=index == 0)
        sections.setdefault(section, []).append(page)
    return sections


st.set_page_config(page_title="CRM", layout="wide", page_icon=":material/handshake:")

# The sign-in gate (sign-in issue) goes here, before the navigation is built; every
# page repeats the check in components.guard.page_setup for runs without this frame.

pg = st.navigation(navigation_sections())
pg.run()
