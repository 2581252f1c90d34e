"""AppTests of the data entry page: valid submits write one row and say so, invalid
input shows the field's message and writes nothing, a double submit writes one row."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from app.db import get_engine
from app.models import AuditLog, Customer, Interaction, SurveyResponse
from tests.app.conftest import ensure_user
from tests.unit.factories import make_customer

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "pages" / "data_entry.py"
TIMEOUT = 30


@pytest.fixture
def app_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CRM_DATABASE_URL", sqlite_url)
    with Session(get_engine(sqlite_url), expire_on_commit=False) as session:
        make_customer(session, name="Công ty TNHH Thanh Phú", phone="0987654321")
        make_customer(session, name="Công ty Minh Long", phone="0911222333")
    return sqlite_url


def rows(url: str, table: type) -> int:
    with Session(get_engine(url)) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def page(url: str, role: str = "staff") -> AppTest:
    """The page run alone, in English, signed in as a user of ``role``."""
    at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT)
    at.session_state["crm_language"] = "en"
    at.session_state["crm_user"] = ensure_user(url, role)
    return at.run()


def page_with_customer(url: str, query: str = "thanh phu", role: str = "staff") -> AppTest:
    at = page(url, role)
    at.text_input(key="entry_customer_search").set_value(query).run()
    return at


def test_page_renders_every_tab(app_db: str) -> None:
    at = page(app_db)
    assert at.title[0].value == "Data entry"
    assert [tab.label for tab in at.tabs][:3] == ["Interaction", "Customer", "Inquiry"]
    assert not at.exception


def test_customer_search_ignores_diacritics(app_db: str) -> None:
    at = page_with_customer(app_db, "THANH PHU")
    picker = at.selectbox(key="entry_customer_id")
    assert len(picker.options) == 1
    assert "Thanh Phú" in picker.options[0]
    assert not at.exception


def test_valid_interaction_is_saved_and_shown(app_db: str) -> None:
    at = page_with_customer(app_db)
    at.selectbox(key="interaction_form_kind").set_value("meeting")
    at.text_input(key="interaction_form_subject").set_value("Gặp <b>giám đốc</b> **mua**")
    at.button(key="interaction_form_submit").click().run()

    assert not at.exception
    assert not at.error
    assert len(at.success) == 1
    assert "Saved interaction" in at.success[0].value
    assert "customer?id=" in at.success[0].value
    with Session(get_engine(app_db)) as session:
        saved = session.exec(select(Interaction)).one()
        customer = session.get(Customer, saved.customer_id)
    assert customer.name == "Công ty TNHH Thanh Phú"
    assert saved.subject == "Gặp <b>giám đốc</b> **mua**"  # stored exactly as typed
    assert saved.kind.value == "meeting"


def test_invalid_interaction_shows_the_field_and_writes_nothing(app_db: str) -> None:
    at = page_with_customer(app_db)
    at.text_input(key="interaction_form_subject").set_value("")
    at.button(key="interaction_form_submit").click().run()

    assert not at.exception
    assert not at.success
    assert len(at.error) == 1
    assert "Subject" in at.error[0].value and "must not be empty" in at.error[0].value
    assert rows(app_db, Interaction) == 0


def test_no_customer_picked_is_an_error(app_db: str) -> None:
    at = page_with_customer(app_db, "no such customer at all")
    at.text_input(key="interaction_form_subject").set_value("Hello")
    at.button(key="interaction_form_submit").click().run()
    assert any("Pick a customer" in error.value for error in at.error)
    assert rows(app_db, Interaction) == 0
    assert not at.exception


def test_double_submit_creates_one_row(app_db: str) -> None:
    at = page_with_customer(app_db)
    for _ in range(2):
        # The same values submitted twice (a double click or a browser retry).
        at.text_input(key="interaction_form_subject").set_value("Gọi lại báo giá")
        at.button(key="interaction_form_submit").click().run()
        assert not at.exception
    assert rows(app_db, Interaction) == 1
    assert "Already saved" in at.info[0].value
    at.text_input(key="interaction_form_subject").set_value("Another call")
    at.button(key="interaction_form_submit").click().run()
    assert rows(app_db, Interaction) == 2


def test_survey_nps_out_of_range_is_refused(app_db: str) -> None:
    at = page_with_customer(app_db)
    at.number_input(key="survey_form_nps").set_value(11)
    at.button(key="survey_form_submit").click().run()
    assert any("NPS" in error.value and "at most 10" in error.value for error in at.error)
    assert rows(app_db, SurveyResponse) == 0
    at.number_input(key="survey_form_nps").set_value(9)
    at.button(key="survey_form_submit").click().run()
    assert rows(app_db, SurveyResponse) == 1
    assert not at.exception


def test_new_customer_warns_about_a_likely_duplicate(app_db: str) -> None:
    at = page(app_db, "manager")
    at.text_input(key="customer_form_name").set_value("CONG TY TNHH THANH PHU")
    at.button(key="customer_form_submit").click().run()

    assert not at.exception
    assert at.warning and "may already exist" in at.warning[0].value
    assert rows(app_db, Customer) == 2
    at.button(key="customer_form_save_anyway").click().run()
    assert not at.exception
    assert rows(app_db, Customer) == 3
    assert "Saved customer" in at.success[0].value
    with Session(get_engine(app_db)) as session:
        audit = session.exec(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert audit.entity == "customer" and audit.after["name"] == "CONG TY TNHH THANH PHU"


def test_data_entry_and_admin_pages_speak_vietnamese(app_db: str) -> None:
    """With ``?lang=vi`` the forms, tabs and admin page come from the Vietnamese catalog."""
    at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT)
    at.query_params["lang"] = "vi"
    at.session_state["crm_user"] = ensure_user(app_db, "manager")
    at.run()
    assert not at.exception
    assert at.title[0].value == "Nhập liệu"
    assert [tab.label for tab in at.tabs][:3] == ["Tương tác", "Khách hàng", "Hỏi hàng"]
    assert at.text_input(key="entry_customer_search").label.startswith("Tìm khách hàng")
    assert at.button(key="interaction_form_submit").label == "Lưu tương tác"

    admin = AppTest.from_file(str(ROOT / "pages" / "admin.py"), default_timeout=TIMEOUT)
    admin.query_params["lang"] = "vi"
    admin.session_state["crm_user"] = ensure_user(app_db, "admin")
    admin.run()
    assert not admin.exception
    assert admin.title[0].value == "Quản trị"
    assert [tab.label for tab in admin.tabs] == ["Người dùng", "Nhật ký kiểm toán"]
    assert admin.selectbox(key="audit_user").options[0] == "Tất cả người dùng"
