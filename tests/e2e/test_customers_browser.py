"""Customers, Customer 360°, Segments and Partners in a real browser (1280 px wide).

Screenshots go to ``CRM_SCREENSHOT_DIR`` (default /tmp/screens), outside the repository.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.i18n import translate
from tests.e2e.conftest import RENDER_TIMEOUT_MS, sign_in

pytestmark = pytest.mark.e2e

SCREENS = Path(os.environ.get("CRM_SCREENSHOT_DIR", "/tmp/screens"))


class Messages:
    """The app's messages in the language the page shows (the default language is a
    setting, so the test reads it from the page instead of assuming one)."""

    language = "vi"

    def __call__(self, key: str, **params: object) -> str:
        return translate(key, self.language, **params)

    def detect(self, page: Page, title_key: str) -> None:
        """Wait for the page title in either language and remember which one it is."""
        titles = {language: translate(title_key, language) for language in ("vi", "en")}
        heading = page.get_by_role("heading", level=1).filter(
            has_text=re.compile("|".join(re.escape(text) for text in titles.values()))
        )
        expect(heading.first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
        text = heading.first.inner_text()
        self.language = next(lang for lang, title in titles.items() if title in text)


T = Messages()


def wait_idle(page: Page) -> None:
    """Wait until the script run ended, then check that no exception is shown."""
    expect(page.locator('[data-test-script-state="notRunning"]')).to_have_count(
        1, timeout=RENDER_TIMEOUT_MS
    )
    exceptions = page.get_by_test_id("stException")
    assert exceptions.count() == 0, exceptions.all_inner_texts()


def open_page(page: Page, menu: str, title_key: str) -> None:
    """Click a page in the sidebar navigation and wait for its title (either language)."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=menu, exact=True).click()
    T.detect(page, title_key)
    wait_idle(page)


def shoot(page: Page, name: str, height: int = 900) -> None:
    """A screenshot 1280 px wide; a taller window shows the whole page (Streamlit
    scrolls inside its main container, so full_page alone would not)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    if height != 900:
        page.set_viewport_size({"width": 1280, "height": height})
        wait_idle(page)
        page.wait_for_timeout(1500)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
    if height != 900:
        page.set_viewport_size({"width": 1280, "height": 900})


def grid_text(page: Page, test_id: str = "stDataFrame") -> str:
    """The text of the cells of the dataframes shown (their accessible grid)."""
    return " ".join(page.get_by_test_id(test_id).locator("[role=gridcell]").all_inner_texts())


def test_search_finds_nguyen_and_opens_a_customer(page: Page, streamlit_server: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, streamlit_server, "manager")
    open_page(page, "Customers", "customers.title")
    shoot(page, "customers")

    search = page.get_by_role("textbox", name=T("customers.search"), exact=True)
    search.fill("nguyen")
    search.press("Enter")
    expect(
        page.get_by_test_id("stCaptionContainer").filter(
            has_text=T("customers.count", total="", page="", pages="").split("·")[0].strip()
        )
    ).to_have_count(1)
    expect(
        page.get_by_test_id("stDataFrame")
        .locator("[role=gridcell]")
        .filter(has_text="Nguyễn")
        .first
    ).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    wait_idle(page)
    assert "Nguyễn" in grid_text(page)
    shoot(page, "customers_search")

    page.get_by_role("button", name=T("customers.open_360")).click()
    expect(page.get_by_role("heading", name=T("customers.title_360")).first).to_be_visible(
        timeout=RENDER_TIMEOUT_MS
    )
    wait_idle(page)
    assert "id=" in page.url
    expect(page.get_by_role("tab", name=T("customers.tab_timeline"))).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    kinds = re.compile("|".join(T(f"customers.tl_{kind}") for kind in ("order", "interaction")))
    cells = page.get_by_test_id("stDataFrame").locator("[role=gridcell]")
    expect(cells.filter(has_text=kinds).first).to_be_attached(timeout=RENDER_TIMEOUT_MS)


def test_customer_360_tabs(page: Page, streamlit_server: str) -> None:
    """A customer with orders, complaints and open opportunities: every tab renders."""
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, streamlit_server, "manager")
    open_page(page, "Customers", "customers.title")
    search = page.get_by_role("textbox", name=T("customers.search"), exact=True)
    search.fill("KH000360")
    search.press("Enter")
    expect(
        page.get_by_test_id("stCaptionContainer").filter(
            has_text=T("customers.count", total=1, page=1, pages=1)
        )
    ).to_have_count(1, timeout=RENDER_TIMEOUT_MS)
    wait_idle(page)
    page.get_by_role("button", name=T("customers.open_360")).click()
    expect(page.get_by_role("heading", name="KH000360").first).to_be_visible(
        timeout=RENDER_TIMEOUT_MS
    )
    wait_idle(page)
    shoot(page, "customer_360", height=1400)
    for tab in ("tab_profile", "tab_value", "tab_service", "tab_policies"):
        page.get_by_role("tab", name=T(f"customers.{tab}")).click()
        wait_idle(page)
        shoot(page, f"customer_360_{tab}", height=2000)
    # revenue and profit per year; to_have_count waits while the chart mounts
    expect(page.locator(".js-plotly-plot")).to_have_count(1, timeout=RENDER_TIMEOUT_MS)


def test_segments_and_partners_render(page: Page, streamlit_server: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, streamlit_server, "manager")
    open_page(page, "Segments", "segments.title")
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(".js-plotly-plot")).to_have_count(4, timeout=RENDER_TIMEOUT_MS)
    shoot(page, "segments", height=3200)

    open_page(page, "Partners", "partners.title")
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    shoot(page, "partners", height=2000)
