"""AppTests of sign-in and roles: every page × role, the sign-in form, expiry, admin."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from app.auth import WRONG_CREDENTIALS
from app.db import get_engine
from app.demo import DEMO_ACCOUNTS, set_demo_passwords
from app.models import AuditAction, AuditLog, Role, User
from app.services.access import ROLE_PERMISSIONS, Permission
from tests.app.conftest import ensure_user

ROOT = Path(__file__).resolve().parents[2]
FRAME = ROOT / "streamlit_app.py"
PAGE_FILES = sorted((ROOT / "pages").glob("*.py"))
DEMO_TODAY = dt.date(2026, 6, 15)
TIMEOUT = 30
ROLES = ["admin", "executive", "manager", "staff"]


@pytest.fixture
def seeded(seeded_sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The seeded demo database, as the app's database."""
    monkeypatch.setenv("CRM_DATABASE_URL", seeded_sqlite_url)
    monkeypatch.setenv("CRM_AS_OF", DEMO_TODAY.isoformat())
    monkeypatch.delenv("CRM_DEMO", raising=False)
    return seeded_sqlite_url


def page_permission(page_file: Path) -> Permission:
    """The permission a page passes to page_setup (read by default), read from its source."""
    tree = ast.parse(page_file.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "page_setup"
        ):
            for keyword in node.keywords:
                if keyword.arg == "permission":
                    assert isinstance(keyword.value, ast.Attribute)
                    return Permission(keyword.value.attr)
            return Permission.read
    raise AssertionError(f"{page_file.name} does not call page_setup")


def frame_page_permissions() -> dict[str, str]:
    """streamlit_app.PAGE_PERMISSIONS, read without running the frame."""
    tree = ast.parse(FRAME.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "PAGE_PERMISSIONS":
            return ast.literal_eval(node.value)
    raise AssertionError("streamlit_app.py has no PAGE_PERMISSIONS")


def english(script: Path) -> AppTest:
    """An AppTest of the script with the interface in English."""
    at = AppTest.from_file(str(script), default_timeout=TIMEOUT)
    at.session_state["crm_language"] = "en"
    return at


def signed_in(script: Path, url: str, role: str) -> AppTest:
    at = english(script)
    at.session_state["crm_user"] = ensure_user(url, role)
    return at


def active_customers(at: AppTest) -> int:
    metrics = {metric.label: metric.value for metric in at.metric}
    return int(re.sub(r"[.,]", "", metrics["Active customers"]))


def test_the_menu_hides_what_the_pages_refuse() -> None:
    declared = {
        path.relative_to(ROOT).as_posix(): page_permission(path).value for path in PAGE_FILES
    }
    assert {file: p for file, p in declared.items() if p != "read"} == frame_page_permissions()
    assert declared["pages/admin.py"] == "users"
    assert declared["pages/data_entry.py"] == "write"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page_file", PAGE_FILES, ids=lambda path: path.stem)
def test_every_page_for_every_role(page_file: Path, role: str, seeded: str) -> None:
    at = signed_in(page_file, seeded, role).run()

    assert not at.exception
    if page_permission(page_file) in ROLE_PERMISSIONS[Role(role)]:
        assert at.title
        assert not at.error
    else:
        [error] = at.error
        assert error.value.startswith(f"Your role ({role}) cannot open ")
        assert not at.title
        assert len(at.metric) == 0
        assert len(at.dataframe) == 0
    # Who is signed in, and the way out, are always in the sidebar.
    assert at.sidebar.button(key="sign_out")
    assert f"· {role}" in at.sidebar.markdown[0].value


@pytest.mark.parametrize("script", [FRAME, *PAGE_FILES], ids=lambda path: path.stem)
def test_nobody_signed_in_sees_only_the_sign_in_form(script: Path, seeded: str) -> None:
    at = english(script).run()

    assert [title.value for title in at.title] == ["Sign in"]
    assert at.text_input(key="sign_in_form_username")
    assert at.text_input(key="sign_in_form_password")
    assert len(at.metric) == 0
    assert len(at.dataframe) == 0
    assert not at.sidebar.button
    assert not at.exception


def sign_in_through_the_form(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="sign_in_form_username").input(username)
    at.text_input(key="sign_in_form_password").input(password)
    next(button for button in at.button if button.label == "Sign in").click()
    return at.run()


def test_sign_in_through_the_form(seeded: str) -> None:
    set_demo_passwords(get_engine(seeded))
    at = english(FRAME).run()

    sign_in_through_the_form(at, "manager", "wrong password")
    assert [error.value for error in at.error] == [WRONG_CREDENTIALS]
    assert "crm_user" not in at.session_state

    sign_in_through_the_form(at, "manager", DEMO_ACCOUNTS["manager"][1])
    assert not at.error
    assert at.session_state["crm_user"]["role"] == "manager"
    assert at.title[0].value == "Overview"
    assert active_customers(at) > 0

    at.sidebar.button(key="sign_out").click().run()
    assert "crm_user" not in at.session_state
    assert [title.value for title in at.title] == ["Sign in"]
    assert not at.exception
    with Session(get_engine(seeded)) as session:
        actions = [
            row.action
            for row in session.exec(select(AuditLog).where(AuditLog.entity == "user")).all()
        ]
    assert actions == [AuditAction.sign_in_failed, AuditAction.sign_in, AuditAction.sign_out]


def test_staff_see_fewer_active_customers_than_managers(seeded: str) -> None:
    manager = signed_in(FRAME, seeded, "manager").run()
    staff = signed_in(FRAME, seeded, "staff").run()

    assert 0 < active_customers(staff) < active_customers(manager)
    assert any("unassigned" in caption.value for caption in staff.caption)
    assert not any("unassigned" in caption.value for caption in manager.caption)
    assert not manager.exception and not staff.exception


def test_an_idle_session_expires(seeded: str) -> None:
    at = signed_in(FRAME, seeded, "manager")
    at.session_state["crm_user"] = {
        **at.session_state["crm_user"],
        "last_seen": dt.datetime.now(dt.UTC) - dt.timedelta(hours=8, minutes=1),
    }
    at.run()

    assert [title.value for title in at.title] == ["Sign in"]
    assert "without activity" in at.info[0].value
    assert not at.exception
    with Session(get_engine(seeded)) as session:
        row = session.exec(select(AuditLog).where(AuditLog.action == AuditAction.sign_out)).one()
    assert row.after == {"username": "manager", "reason": "expired"}


def test_a_deactivated_user_is_signed_out(seeded: str) -> None:
    at = signed_in(FRAME, seeded, "staff")
    with Session(get_engine(seeded)) as session:
        user = session.exec(select(User).where(User.username == "staff1")).one()
        user.active = False
        session.add(user)
        session.commit()

    at.run()

    assert [title.value for title in at.title] == ["Sign in"]
    assert "no longer active" in at.info[0].value
    assert not at.exception


def test_the_role_comes_from_the_database(seeded: str) -> None:
    # A session claiming "admin" for the staff account still gets staff rights.
    at = english(ROOT / "pages" / "admin.py")
    at.session_state["crm_user"] = {**ensure_user(seeded, "staff"), "role": "admin"}
    at.run()

    assert [error.value for error in at.error] == ["Your role (staff) cannot open Admin."]
    assert not at.exception


def test_demo_mode_lists_the_demo_accounts(seeded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_DEMO", "1")
    at = AppTest.from_file(str(FRAME), default_timeout=TIMEOUT).run()

    text = "\n".join(markdown.value for markdown in at.markdown)
    for username, (_, password) in DEMO_ACCOUNTS.items():
        assert f"`{username}`" in text and f"`{password}`" in text
    assert not at.exception


def test_outside_demo_mode_no_account_is_shown(seeded: str) -> None:
    at = AppTest.from_file(str(FRAME), default_timeout=TIMEOUT).run()

    text = "\n".join(markdown.value for markdown in at.markdown)
    assert "demo-2026" not in text
    assert not at.warning  # users exist


def test_without_users_the_sign_in_page_says_how_to_create_one(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_DATABASE_URL", sqlite_url)
    monkeypatch.delenv("CRM_DEMO", raising=False)

    at = AppTest.from_file(str(FRAME), default_timeout=TIMEOUT).run()

    assert "python -m app create-user --username admin --role admin" in at.warning[0].value
    assert not at.exception


def test_admin_creates_a_user_and_reads_the_audit_log(seeded: str) -> None:
    at = signed_in(ROOT / "pages" / "admin.py", seeded, "admin").run()
    assert not at.exception
    before = len(at.dataframe[0].value)

    at.text_input(key="user_form_username").input("newbie")
    at.text_input(key="user_form_display_name").input("New Person")
    at.text_input(key="user_form_password").input("long enough pw")
    at.selectbox(key="user_form_role").set_value("executive")
    next(button for button in at.button if button.label == "Create user").click()
    at.run()

    assert not at.exception
    assert "Created executive user newbie." in at.success[0].value
    users = at.dataframe[0].value
    assert len(users) == before + 1
    assert "password_hash" not in users.columns
    audit = at.dataframe[1].value
    assert "Create" in set(audit["action"])  # AuditAction.create's label (enums catalogue)
    assert at.get("download_button")


def test_admin_cannot_deactivate_themselves_in_the_page(seeded: str) -> None:
    at = signed_in(ROOT / "pages" / "admin.py", seeded, "admin").run()
    admin_id = at.session_state["crm_user"]["user_id"]
    at.selectbox(key="users_selected").set_value(admin_id).run()

    at.button(key="users_deactivate").click().run()

    assert [error.value for error in at.error] == ["You cannot deactivate your own account."]
    assert not at.exception
