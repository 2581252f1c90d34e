"""Overview and CRM evaluation in a real browser: 8 cards, the trend chart, Vietnamese.

Screenshots go to /tmp/screens (not the repository) to be looked at by a person.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.demo import DEMO_ACCOUNTS
from app.kpi.registry import all_kpis
from components.data_kpi import OVERVIEW_KPIS
from tests.e2e.conftest import RENDER_TIMEOUT_MS, fill_sign_in_form, sign_in

SCREENS = Path("/tmp/screens")
pytestmark = pytest.mark.e2e


@pytest.fixture
def browser_context_args(browser_context_args: dict) -> dict:
    """The narrowest layout the issue asks to work: 1280 px wide."""
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


def finished(page: Page) -> None:
    """Wait for the script run to end, then check that no exception is shown."""
    expect(page.locator('[data-test-script-state="notRunning"]')).to_have_count(
        1, timeout=RENDER_TIMEOUT_MS
    )
    exceptions = page.get_by_test_id("stException")
    assert exceptions.count() == 0, exceptions.all_inner_texts()


def cards(page: Page, labels: list[str]) -> None:
    metrics = page.get_by_test_id("stMetric")
    expect(metrics).to_have_count(8, timeout=RENDER_TIMEOUT_MS)
    for label in labels:
        expect(page.get_by_test_id("stMetricLabel").filter(has_text=label).first).to_be_visible()


def sign_in_at(page: Page, url: str, username: str) -> None:
    """Sign in through the form at ``url`` (conftest's sign_in always opens ?lang=en)."""
    page.goto(url)
    expect(page.get_by_test_id("stForm")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    language = "en" if "lang=en" in url else "vi"  # the app's default is Vietnamese
    fill_sign_in_form(page, username, DEMO_ACCOUNTS[username][1], language)
    expect(page.get_by_test_id("stSidebar").get_by_text(username)).to_be_visible(
        timeout=RENDER_TIMEOUT_MS
    )


def screenshot(page: Page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main block, so the window is made as
    tall as that block's content first (keeping the 1280 px width)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate(
        "document.querySelector('[data-testid=stMainBlockContainer]').scrollHeight"
    )
    page.set_viewport_size({"width": 1280, "height": min(max(900, int(height) + 100), 8000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(SCREENS / f"{name}.png"))
    page.set_viewport_size({"width": 1280, "height": 900})


def test_overview_cards_chart_and_vietnamese(page: Page, streamlit_server: str) -> None:
    registry = all_kpis()
    sign_in(page, streamlit_server, "manager")  # in English (?lang=en)

    cards(page, [registry[kpi_id].label_en for kpi_id in OVERVIEW_KPIS])
    expect(page.get_by_test_id("stPlotlyChart")).to_have_count(1, timeout=RENDER_TIMEOUT_MS)
    expect(page.get_by_text("Revenue and profit by month")).to_be_visible()
    finished(page)
    screenshot(page, "overview_en")

    # Switching the language in the address: a reload is a new session, so sign in again.
    sign_in_at(page, f"{streamlit_server}/?lang=vi", "manager")
    cards(page, [registry[kpi_id].label_vi for kpi_id in OVERVIEW_KPIS])
    expect(page.get_by_role("heading", name="Tổng quan")).to_be_visible()
    expect(page.get_by_text("Doanh thu và lợi nhuận theo tháng")).to_be_visible()
    finished(page)
    screenshot(page, "overview_vi")


def test_evaluation_scorecard(page: Page, streamlit_server: str) -> None:
    sign_in(page, streamlit_server, "manager", lang=None)
    expect(page.get_by_test_id("stMetric")).to_have_count(8, timeout=RENDER_TIMEOUT_MS)
    # Through the menu (the default language, Vietnamese, without ?lang= in the address).
    page.get_by_test_id("stSidebarNav").get_by_text("Đánh giá CRM").click()

    expect(page.get_by_role("heading", name="Bảng điểm")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    expect(page.get_by_role("tab")).to_have_count(11)
    expect(page.get_by_test_id("stForm")).to_be_visible()
    expect(page.get_by_test_id("stPlotlyChart")).to_have_count(1)
    finished(page)
    screenshot(page, "evaluation_vi")
