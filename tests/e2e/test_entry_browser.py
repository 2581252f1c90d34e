"""Data entry in a real browser: log an interaction through the form on the Customer 360°
page, see it on the customer's timeline, and see the count of interactions logged this
month (CRM_AS_OF=2026-06-15) go up by one on the overview's activity line and on the
evaluation scorecard's "Interactions logged" row.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from app.i18n import translate
from tests.e2e.conftest import RENDER_TIMEOUT_MS, sign_in

pytestmark = pytest.mark.e2e


def en(key: str, **params: object) -> str:
    return translate(key, "en", **params)


def finished(page: Page) -> None:
    """Wait for the script run to end, then check that no exception is shown."""
    expect(page.locator('[data-test-script-state="notRunning"]')).to_have_count(
        1, timeout=RENDER_TIMEOUT_MS
    )
    exceptions = page.get_by_test_id("stException")
    assert exceptions.count() == 0, exceptions.all_inner_texts()


def open_page(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    expect(page.get_by_role("heading", name=title).first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    finished(page)


def interactions_logged(page: Page) -> int:
    """The scorecard's "Interactions logged" value on the CRM evaluation page."""
    open_page(page, en("common.page_evaluation"))
    page.get_by_role("tab", name=re.compile(re.escape(en("evaluation.family_internal")))).click()
    row = (
        page.get_by_test_id("stDataFrame")
        .locator("[role=row]")
        .filter(has=page.locator("[role=gridcell]", has_text="Interactions logged"))
        .first
    )
    expect(row).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    value = row.locator("[role=gridcell]").nth(1).inner_text()
    digits = re.sub(r"[^\d]", "", value)
    assert digits, f"'Interactions logged' shows {value!r}"
    return int(digits)


def overview_interactions(page: Page) -> int:
    """The count on the overview's activity line ("Activity in the period: N interactions
    logged · ...")."""
    open_page(page, en("overview.title"))
    line = page.get_by_test_id("stMarkdownContainer").filter(has_text="interactions logged")
    expect(line.first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    found = re.search(r"([\d.,]+) interactions logged", line.first.inner_text())
    assert found, line.first.inner_text()
    return int(re.sub(r"[^\d]", "", found.group(1)))


def test_interaction_logged_on_the_360_page(page: Page, streamlit_server: str) -> None:
    sign_in(page, streamlit_server, "manager")
    before = interactions_logged(page)
    before_overview = overview_interactions(page)

    # The Customer 360° page without an id offers a picker: open the first customer.
    open_page(page, en("common.page_customer"))
    page.get_by_test_id("stBaseButton-secondary").filter(has_text=en("customers.pick_open")).click()
    expect(page.get_by_role("tab", name=en("entry.c360_tab_add"))).to_be_visible(
        timeout=RENDER_TIMEOUT_MS
    )
    finished(page)

    subject = f"Browser call {uuid.uuid4().hex[:8]}"
    page.get_by_role("tab", name=en("entry.c360_tab_add")).click()
    form = page.get_by_test_id("stForm").filter(
        has=page.get_by_role("button", name=en("entry.interaction_submit"))
    )
    form.get_by_label(en("entry.interaction_field_subject"), exact=True).fill(subject)
    form.get_by_role("button", name=en("entry.interaction_submit")).click()
    expect(page.get_by_text(re.compile(r"Saved interaction #\d+"))).to_be_visible(
        timeout=RENDER_TIMEOUT_MS
    )
    finished(page)

    # The timeline (the first tab) shows the new interaction on the render after the save.
    page.get_by_role("tab", name=en("customers.tab_timeline")).click()
    cells = page.get_by_test_id("stDataFrame").first.locator("[role=gridcell]")
    expect(cells.filter(has_text=subject).first).to_be_attached(timeout=RENDER_TIMEOUT_MS)

    # The form defaults to the app's today (CRM_AS_OF), inside this month's period.
    assert interactions_logged(page) == before + 1
    assert overview_interactions(page) == before_overview + 1
