"""The Overview page in a real browser: the app starts, renders its KPIs and raises nothing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in

# The first render imports pandas/plotly and runs the first queries: allow for a slow CI.
FIRST_RENDER_TIMEOUT_MS = 30_000
# A whole number, optionally grouped in thousands with "," or "." (en or vi locale).
WHOLE_NUMBER = re.compile(r"\d{1,3}(?:([.,])\d{3})?(?:\1\d{3})*|\d+")

pytestmark = pytest.mark.e2e


def test_overview_shows_active_customers(page: Page, streamlit_server: str) -> None:
    """The 'Active customers' card shows a positive number and no exception is rendered."""
    sign_in(page, streamlit_server, "manager")

    card = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").filter(has_text="Active customers")
    )
    expect(card).to_have_count(1, timeout=FIRST_RENDER_TIMEOUT_MS)
    value = card.get_by_test_id("stMetricValue")
    expect(value).to_be_visible()
    text = value.inner_text().strip()

    assert WHOLE_NUMBER.fullmatch(text), f"'Active customers' shows {text!r}, not a number"
    assert int(re.sub(r"[.,]", "", text)) > 0

    # The script may still be running below the cards; wait for the run to end so a
    # late exception is seen too. (The "Running..." widget appears only after a delay,
    # so its absence proves nothing; the app root's script state does.)
    expect(page.locator('[data-test-script-state="notRunning"]')).to_have_count(
        1, timeout=FIRST_RENDER_TIMEOUT_MS
    )
    exceptions = page.get_by_test_id("stException")
    assert exceptions.count() == 0, f"the page shows exceptions: {exceptions.all_inner_texts()}"
