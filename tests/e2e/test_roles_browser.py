"""Sign-in and roles in a real browser: staff see only their customers; sign out; a
manager signs in and changes an RFM weight."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RENDER_TIMEOUT_MS, sign_in, sign_out

pytestmark = pytest.mark.e2e


def active_customers(page: Page) -> int:
    card = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").filter(has_text="Active customers")
    )
    expect(card).to_have_count(1, timeout=RENDER_TIMEOUT_MS)
    text = card.get_by_test_id("stMetricValue").inner_text().strip()
    return int(re.sub(r"[.,]", "", text))


def no_exception(page: Page) -> None:
    expect(page.locator('[data-test-script-state="notRunning"]')).to_have_count(
        1, timeout=RENDER_TIMEOUT_MS
    )
    exceptions = page.get_by_test_id("stException")
    assert exceptions.count() == 0, exceptions.all_inner_texts()


def test_only_the_sign_in_form_without_signing_in(page: Page, streamlit_server: str) -> None:
    page.goto(f"{streamlit_server}/?lang=en")

    expect(page.get_by_test_id("stForm")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.get_by_text("Demo mode")).to_be_visible()
    assert page.get_by_test_id("stMetric").count() == 0
    assert page.get_by_test_id("stSidebarNav").count() == 0
    # A deep link to a page stops at the sign-in form too.
    page.goto(f"{streamlit_server}/admin")
    expect(page.get_by_test_id("stForm")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    assert page.get_by_test_id("stDataFrame").count() == 0
    no_exception(page)


def test_wrong_password_is_refused(page: Page, streamlit_server: str) -> None:
    page.goto(f"{streamlit_server}/?lang=en")
    expect(page.get_by_test_id("stForm")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    page.get_by_label("Username", exact=True).fill("manager")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page.get_by_text("Wrong username or password.")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    assert page.get_by_test_id("stMetric").count() == 0


def test_staff_see_their_own_customers_then_a_manager_signs_in(
    page: Page, streamlit_server: str
) -> None:
    sign_in(page, streamlit_server, "staff1")
    staff_count = active_customers(page)
    expect(page.get_by_text("Counting your customers and unassigned ones only.")).to_be_visible()
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_text("Overview")).to_be_visible()
    expect(nav.get_by_text("Data entry")).to_be_visible()
    assert nav.get_by_text("Admin", exact=True).count() == 0  # staff manage no users
    no_exception(page)
    sign_out(page)
    assert page.get_by_test_id("stMetric").count() == 0

    sign_in(page, streamlit_server, "manager")
    manager_count = active_customers(page)
    no_exception(page)

    assert 0 < staff_count < manager_count


def _open_segments(page: Page) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Segments").click()
    expect(page.get_by_role("heading", name="Segments")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    # Let the run finish: a slider re-drawn after the key press would lose it.
    no_exception(page)


def test_manager_changes_an_rfm_weight(page: Page, streamlit_server: str) -> None:
    sign_in(page, streamlit_server, "manager")
    _open_segments(page)
    recency = page.locator('input[type="range"][aria-label="Weight of recency (R)"]')
    expect(recency).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    before_text = recency.input_value()
    before = float(before_text)

    recency.focus()
    recency.press("ArrowRight")  # one step: +0.1
    expect(recency).not_to_have_value(before_text, timeout=RENDER_TIMEOUT_MS)
    save = page.get_by_role("button", name="Save", exact=True)
    expect(save).to_be_enabled(timeout=RENDER_TIMEOUT_MS)
    save.click()
    page.get_by_role("button", name="Yes, save").click()
    expect(page.get_by_text("RFM settings saved.")).to_be_visible(timeout=RENDER_TIMEOUT_MS)

    # A new session reads the stored weight back from the settings table.
    sign_in(page, streamlit_server, "manager")
    _open_segments(page)
    stored = page.locator('input[type="range"][aria-label="Weight of recency (R)"]')
    expect(stored).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    assert float(stored.input_value()) == pytest.approx(before + 0.1)
