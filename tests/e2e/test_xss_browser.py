"""HTML and Markdown in names are shown as text, never run (issue 7), in real Chromium.

A customer named with an ``<img onerror>`` payload, a ``<script>`` and Markdown, with an
interaction whose subject carries another payload: the Customers list and the 360° page
show the names literally, no script runs (no dialog, no global set) and no ``<img>``
element with that ``onerror`` exists in the page.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from app.db import create_raw_engine, migrate
from app.demo import DEMO_ACCOUNTS, set_demo_passwords
from app.services.care import create_interaction
from app.services.customers import create_customer
from tests.conftest import DEMO_TODAY
from tests.e2e.conftest import (
    APP_SCRIPT,
    RENDER_TIMEOUT_MS,
    fill_sign_in_form,
    sign_in,
    streamlit_running,
)
from tests.unit.factories import SYSTEM, at, customer_data

pytestmark = pytest.mark.e2e

IMG_NAME = "<img src=x onerror=\"window.__xss_img=1;alert('img')\"> Công ty Độc"
SCRIPT_NAME = "<script>window.__xss_script=1</script>**Đậm** [link](javascript:alert(1))"
SUBJECT = '<svg onload="window.__xss_svg=1"></svg> Gọi lại'


@pytest.fixture(scope="module")
def hostile_server(
    tmp_path_factory: pytest.TempPathFactory, seeded_sqlite_template: Path
) -> Iterator[tuple[str, int, int]]:
    """The app on a copy of the demo data plus two customers with hostile names."""
    workdir = tmp_path_factory.mktemp("xss")
    database = workdir / "crm.db"
    shutil.copyfile(seeded_sqlite_template, database)
    engine = create_raw_engine(f"sqlite:///{database}")
    migrate(engine)
    set_demo_passwords(engine)
    with Session(engine) as session:
        img = create_customer(
            session=session, data=customer_data(name=IMG_NAME, code="KHXSS1"), actor=SYSTEM
        )
        script = create_customer(
            session=session, data=customer_data(name=SCRIPT_NAME, code="KHXSS2"), actor=SYSTEM
        )
        create_interaction(
            session=session,
            data={
                "customer_id": img.id,
                "kind": "call",
                "occurred_at": at(2026, 6, 10, 9),
                "subject": SUBJECT,
            },
            actor=SYSTEM,
        )
        ids = (img.id, script.id)
    engine.dispose()
    env = {
        "CRM_DATABASE_URL": f"sqlite:///{database}",
        "CRM_DEMO": "1",
        "CRM_AS_OF": DEMO_TODAY.isoformat(),
    }
    with streamlit_running(APP_SCRIPT, env=env, log_path=workdir / "streamlit.log") as url:
        yield url, *ids


def _watch_for_scripts(page: Page) -> list[str]:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return dialogs


def _assert_nothing_ran(page: Page, dialogs: list[str]) -> None:
    assert dialogs == []
    fired = page.evaluate("[window.__xss_img, window.__xss_script, window.__xss_svg]")
    assert fired == [None, None, None]
    assert page.locator("img[onerror], svg[onload], script:has-text('__xss')").count() == 0


def _wait_idle(page: Page) -> None:
    expect(page.locator('[data-test-script-state="notRunning"]')).to_have_count(
        1, timeout=RENDER_TIMEOUT_MS
    )
    assert page.get_by_test_id("stException").count() == 0


def test_hostile_names_are_text_on_the_360_page(
    page: Page, hostile_server: tuple[str, int, int]
) -> None:
    base_url, img_id, script_id = hostile_server
    dialogs = _watch_for_scripts(page)
    # A deep link: the sign-in gate shows first, then the page the address names.
    page.goto(f"{base_url}/customer?id={img_id}&lang=en")
    expect(page.get_by_test_id("stForm")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    fill_sign_in_form(page, "manager", DEMO_ACCOUNTS["manager"][1], "en")
    _wait_idle(page)
    expect(page.get_by_text("Công ty Độc").first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    assert "<img src=x" in page.locator("body").inner_text()
    _assert_nothing_ran(page, dialogs)


def test_hostile_names_are_text_in_the_customer_list(
    page: Page, hostile_server: tuple[str, int, int]
) -> None:
    base_url, _, _ = hostile_server
    dialogs = _watch_for_scripts(page)
    sign_in(page, base_url, "manager")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Customers", exact=True).click()
    _wait_idle(page)
    search = page.get_by_role("textbox").first
    search.fill("KHXSS")
    search.press("Enter")
    _wait_idle(page)
    body = page.locator("body")
    expect(body).to_contain_text("KHXSS1", timeout=RENDER_TIMEOUT_MS)
    _assert_nothing_ran(page, dialogs)
