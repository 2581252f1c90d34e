"""Partners are archived with a confirmation and restored by a manager (Data entry page)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from app.db import get_engine
from app.models import AuditAction, AuditLog, Partner, Role
from app.services.access import Actor
from app.services.catalogue import create_partner, set_partner_archived
from tests.app.conftest import ensure_user

PAGE = Path(__file__).resolve().parents[2] / "pages" / "data_entry.py"


@pytest.fixture
def partner_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv("CRM_DATABASE_URL", sqlite_url)
    with Session(get_engine(sqlite_url), expire_on_commit=False) as session:
        partner = create_partner(
            session=session,
            data={"name": "Nhà phân phối Minh An", "kind": "distributor"},
            actor=Actor.system(),
        )
    return {"url": sqlite_url, "id": partner.id}


def page(url: str, role: str) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=30)
    at.session_state["crm_language"] = "en"
    at.session_state["crm_user"] = ensure_user(url, role)
    return at.run()


def archived(url: str, partner_id: int) -> bool:
    with Session(get_engine(url)) as session:
        return session.get(Partner, partner_id).archived


def audits(url: str, action: AuditAction) -> int:
    with Session(get_engine(url)) as session:
        return session.exec(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.entity == "partner", AuditLog.action == action)
        ).one()


def test_archiving_a_partner_needs_a_confirmation(partner_db: dict) -> None:
    at = page(partner_db["url"], "manager")
    assert not at.exception
    button = at.button(key="partner_archive_submit")
    assert button.disabled  # nothing happens before the confirmation is ticked
    at.checkbox(key="partner_archive_confirm").check().run()
    at.button(key="partner_archive_submit").click().run()
    assert not at.exception
    assert archived(partner_db["url"], partner_db["id"])
    assert audits(partner_db["url"], AuditAction.archive) == 1
    assert any("Minh An" in element.value for element in at.success)


def test_a_manager_restores_an_archived_partner(partner_db: dict) -> None:
    with Session(get_engine(partner_db["url"])) as session:
        set_partner_archived(
            session=session, partner_id=partner_db["id"], archived=True, actor=Actor.system()
        )
    at = page(partner_db["url"], "manager")
    at.checkbox(key="partner_archive_confirm").check().run()
    at.button(key="partner_archive_submit").click().run()
    assert not at.exception
    assert not archived(partner_db["url"], partner_db["id"])
    assert audits(partner_db["url"], AuditAction.restore) == 1


def test_staff_cannot_reach_partner_archiving(partner_db: dict) -> None:
    at = page(partner_db["url"], "staff")
    assert not at.exception
    assert not [b for b in at.button if b.key == "partner_archive_submit"]
    assert not archived(partner_db["url"], partner_db["id"])
    assert Role.staff  # the role the page was opened with
