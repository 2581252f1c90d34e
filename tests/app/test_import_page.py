"""AppTests of the Import & export page driven through its real file uploader.

Streamlit 1.67's AppTest supports ``st.file_uploader`` (``at.file_uploader(key=...)
.set_value((name, bytes, mime))``), so no test seam is needed in the page. Every test
checks the database row counts, not only what the page says.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from app.db import get_engine
from app.i18n import translate_message
from app.models import AuditLog, Customer, Interaction
from tests.app.conftest import ensure_user
from tests.unit.factories import make_customer

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "pages" / "import_export.py"
SAMPLES = ROOT / "data" / "samples"
TIMEOUT = 30

# Row 3 has no name and a bad email; rows 2 and 4 are valid.
MIXED = b"code,name,email\r\nKH800001,Good one,\r\nKH800002,,not-an-email\r\nKH800003,Good two,\r\n"


@pytest.fixture
def app_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CRM_DATABASE_URL", sqlite_url)
    return sqlite_url


def rows(url: str, table: type) -> int:
    with Session(get_engine(url)) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def page(url: str, role: str = "manager", language: str = "en") -> AppTest:
    """The page run alone, signed in as a user of ``role``."""
    at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT)
    at.session_state["crm_language"] = language
    at.session_state["crm_user"] = ensure_user(url, role)
    return at.run()


def upload(at: AppTest, name: str, data: bytes, entity: str = "customers") -> AppTest:
    at.selectbox(key="import_form_entity").set_value(entity)
    at.file_uploader(key="import_form_file").set_value((name, data, "text/csv"))
    return at.run()


def metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def test_valid_sample_imports_and_shows_the_counts(app_db: str) -> None:
    at = upload(page(app_db), "customers.csv", (SAMPLES / "customers.csv").read_bytes())
    assert not at.exception
    preview = at.dataframe[0].value
    assert list(preview.columns[:2]) == ["1. code", "2. name"] and len(preview) == 3
    assert at.selectbox(key="import_form_map_customers_phone").value == "phone"
    at.button(key="import_form_run").click().run()
    assert not at.exception
    assert metrics(at) == {
        "Rows in the file": "3",
        "Rows written": "3",
        "Skipped as duplicates": "0",
        "Rows rejected": "0",
    }
    assert at.success[0].value == "Import finished: every row was written."
    assert len(at.progress) == 1
    assert [b.key for b in at.download_button] == []
    assert rows(app_db, Customer) == 3 and rows(app_db, AuditLog) == 1
    # Again: every row is now a duplicate, skipped (the default).
    at.file_uploader(key="import_form_file").set_value(
        ("again.csv", (SAMPLES / "customers.csv").read_bytes(), "text/csv")
    )
    at.run().button(key="import_form_run").click().run()
    assert metrics(at)["Skipped as duplicates"] == "3"
    assert rows(app_db, Customer) == 3


def test_bad_rows_are_listed_with_a_download_and_the_valid_rows_written(app_db: str) -> None:
    at = upload(page(app_db), "mixed.csv", MIXED)
    at.button(key="import_form_run").click().run()
    assert not at.exception
    assert metrics(at)["Rows written"] == "2" and metrics(at)["Rows rejected"] == "1"
    assert "1 rows were rejected" in at.warning[0].value
    report = at.dataframe[1].value
    assert list(report.columns) == ["Row", "Column", "Reason"]
    assert set(zip(report["Row"], report["Column"], strict=True)) == {(3, "name"), (3, "email")}
    assert all(reason.strip() for reason in report["Reason"])
    button = at.download_button(key="import_form_download_errors")
    assert button.label == "Download the rejected rows (CSV)"
    assert rows(app_db, Customer) == 2
    # Downloading does not rerun the page, but any rerun keeps the result on screen.
    at.run()
    assert metrics(at)["Rows rejected"] == "1" and not at.exception


def test_atomic_checkbox_rejects_the_whole_file(app_db: str) -> None:
    at = upload(page(app_db), "mixed.csv", MIXED)
    at.checkbox(key="import_form_atomic").check().run()
    at.button(key="import_form_run").click().run()
    assert not at.exception
    assert at.error[0].value.startswith("Nothing was written: 1 rows are bad.")
    assert metrics(at)["Rows rejected"] == "1"
    assert at.download_button(key="import_form_download_errors")
    assert rows(app_db, Customer) == 0 and rows(app_db, AuditLog) == 0


def test_check_is_a_dry_run_that_writes_nothing(app_db: str) -> None:
    at = upload(page(app_db), "mixed.csv", MIXED)
    at.button(key="import_form_check").click().run()
    assert not at.exception
    assert "Check only, nothing was written: 1 rows would be rejected." in at.warning[0].value
    assert metrics(at)["Rows written"] == "2"  # what the import would write
    assert rows(app_db, Customer) == 0 and rows(app_db, AuditLog) == 0


def test_a_second_click_with_the_same_file_does_not_import_twice(app_db: str) -> None:
    with Session(get_engine(app_db)) as session:
        make_customer(session, code="KH810001", email="an@example.vn")
    data = "customer_email,kind,subject\r\nan@example.vn,call,Gọi lại 😀\r\n".encode()
    at = upload(page(app_db), "calls.csv", data, entity="interactions")
    assert at.selectbox(key="import_form_map_interactions_customer_email").value == (
        "customer_email"
    )
    at.button(key="import_form_run").click().run()
    assert rows(app_db, Interaction) == 1
    at.button(key="import_form_run").click().run()
    assert not at.exception
    assert "not imported again" in at.info[0].value
    assert rows(app_db, Interaction) == 1


def test_the_user_corrects_the_column_mapping(app_db: str) -> None:
    data = "Mã khách hàng,Họ và tên đầy đủ\r\nKH820001,Trần Thị Ánh\r\n".encode()
    at = upload(page(app_db), "vi.csv", data)
    assert at.selectbox(key="import_form_map_customers_code").value == "Mã khách hàng"
    assert at.selectbox(key="import_form_map_customers_name").value is None
    at.button(key="import_form_run").click().run()
    assert metrics(at)["Rows rejected"] == "1" and rows(app_db, Customer) == 0
    at.selectbox(key="import_form_map_customers_name").set_value("Họ và tên đầy đủ").run()
    at.button(key="import_form_run").click().run()
    assert not at.exception and metrics(at)["Rows written"] == "1"
    with Session(get_engine(app_db)) as session:
        assert session.exec(select(Customer.name)).one() == "Trần Thị Ánh"


def test_vietnamese_labels_and_reasons_and_an_unreadable_file(app_db: str) -> None:
    at = upload(page(app_db, language="vi"), "empty.csv", b"code,name\r\n")
    at.button(key="import_form_run").click().run()
    assert not at.exception
    assert "Số dòng bị từ chối" in metrics(at)
    report = at.dataframe[1].value
    assert list(report.columns) == ["Dòng", "Cột", "Lý do"]
    assert report["Lý do"][0] == translate_message("the file has a header but no data rows", "vi")
    assert report["Lý do"][0] != "the file has a header but no data rows"
    unknown = b"customer_email,kind,subject\r\nai@example.vn,call,X\r\n"
    at.file_uploader(key="import_form_file").set_value(("calls.csv", unknown, "text/csv"))
    at.selectbox(key="import_form_entity").set_value("interactions")
    at.run().button(key="import_form_run").click().run()
    report = at.dataframe[1].value
    assert report["Cột"][0] == "customer_email"
    assert report["Lý do"][0] == "không có khách hàng nào có email 'ai@example.vn'"
    assert rows(app_db, Customer) == 0 and rows(app_db, Interaction) == 0
    at.file_uploader(key="import_form_file").set_value(("bad.csv", b"\xff" * 10, "text/csv"))
    at.run()
    assert at.error and not at.exception
    assert rows(app_db, Customer) == 0
