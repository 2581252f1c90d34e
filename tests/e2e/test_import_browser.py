"""Import a small CSV with one bad row through the Import & export page in real Chromium,
download the error report and check the database afterwards.

The server runs on its own copy of the seeded demo database (not the shared
``streamlit_server`` one), so the test can read that file once the import is done.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from app.db import create_raw_engine
from app.demo import set_demo_passwords
from app.i18n import translate
from tests.conftest import DEMO_TODAY
from tests.e2e.conftest import APP_SCRIPT, RENDER_TIMEOUT_MS, sign_in, streamlit_running

pytestmark = pytest.mark.e2e

# Row 3 (spreadsheet numbering, header = row 1) has no name: the only bad row.
CSV_TEXT = (
    "Mã khách hàng,Tên khách hàng,Số điện thoại\r\n"
    "KHE2E0001,Công ty TNHH Nhập Thử,0901 000 111\r\n"
    "KHE2E0002,,0901 000 222\r\n"
    "KHE2E0003,Nguyễn Thị Thử 😀,0901 000 333\r\n"
)


def en(key: str, **params: object) -> str:
    return translate(key, "en", **params)


@pytest.fixture(scope="module")
def import_server(
    tmp_path_factory: pytest.TempPathFactory, seeded_sqlite_template: Path
) -> Iterator[tuple[str, str]]:
    """(base URL, database URL) of the app served on a private copy of the demo data."""
    workdir = tmp_path_factory.mktemp("import_e2e")
    database = workdir / "crm.db"
    shutil.copyfile(seeded_sqlite_template, database)
    database_url = f"sqlite:///{database}"
    engine = create_raw_engine(database_url)
    set_demo_passwords(engine)
    engine.dispose()
    env = {"CRM_DATABASE_URL": database_url, "CRM_DEMO": "1", "CRM_AS_OF": DEMO_TODAY.isoformat()}
    with streamlit_running(APP_SCRIPT, env=env, log_path=workdir / "streamlit.log") as url:
        yield url, database_url


def wait_idle(page: Page) -> None:
    """Wait until the script run ended, then check that no exception is shown."""
    expect(page.locator('[data-test-script-state="notRunning"]')).to_have_count(
        1, timeout=RENDER_TIMEOUT_MS
    )
    exceptions = page.get_by_test_id("stException")
    assert exceptions.count() == 0, exceptions.all_inner_texts()


def stored_codes(database_url: str) -> list[str]:
    engine = create_raw_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(
                    text("SELECT code FROM customer WHERE code LIKE 'KHE2E%' ORDER BY code")
                ).scalars()
            )
    finally:
        engine.dispose()


def test_import_a_csv_with_a_bad_row_and_download_the_report(
    page: Page, import_server: tuple[str, str], tmp_path: Path
) -> None:
    base_url, database_url = import_server
    sign_in(page, base_url, "manager", lang="en")
    page.get_by_test_id("stSidebarNav").get_by_role(
        "link", name=en("common.page_import_export"), exact=True
    ).click()
    expect(page.get_by_role("heading", name=en("common.page_import_export"))).to_be_visible(
        timeout=RENDER_TIMEOUT_MS
    )
    wait_idle(page)

    source = tmp_path / "khach_hang.csv"
    source.write_bytes(CSV_TEXT.encode("utf-8-sig"))
    page.locator(".st-key-import_form_file input[type=file]").set_input_files(str(source))
    expect(page.get_by_text(en("transfer.import_preview"))).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    wait_idle(page)
    # The Vietnamese headers were mapped automatically: open the mapping and check it.
    page.get_by_test_id("stExpander").get_by_text(en("transfer.import_mapping")).click()
    for column, header in (("name", "Tên khách hàng"), ("phone", "Số điện thoại")):
        choice = page.locator(f".st-key-import_form_map_customers_{column}")
        expect(choice.get_by_role("combobox")).to_have_value(header, timeout=RENDER_TIMEOUT_MS)
    page.locator(".st-key-import_form_run button").click()
    expect(page.get_by_text(en("transfer.outcome_partial", rejected=1))).to_be_visible(
        timeout=RENDER_TIMEOUT_MS
    )
    wait_idle(page)
    written = page.get_by_test_id("stMetric").filter(has_text=en("transfer.result_written"))
    expect(written.get_by_test_id("stMetricValue")).to_have_text("2")

    with page.expect_download(timeout=RENDER_TIMEOUT_MS) as download_info:
        page.locator(".st-key-import_form_download_errors button").click()
    download = download_info.value
    assert download.suggested_filename == "customers_errors.csv"
    report = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert report[0] == ["Row", "Column", "Reason"]
    assert [row[:2] for row in report[1:]] == [["3", "Tên khách hàng (name)"]]
    assert report[1][2].strip()

    # The page kept its result after the download, and the good rows are stored.
    expect(page.get_by_text(en("transfer.outcome_partial", rejected=1))).to_be_visible()
    assert stored_codes(database_url) == ["KHE2E0001", "KHE2E0003"]
