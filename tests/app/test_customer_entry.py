"""AppTests of data entry on the Customer 360° page: the quick forms with the customer
fixed to the page, editing (profile, contacts, timeline records), archive and restore
with confirmation, and merging a duplicate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import func
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from app.db import get_engine
from app.models import AuditAction, AuditLog, Contact, Customer, Interaction
from app.services.access import Actor
from app.services.care import create_interaction
from app.services.customers import create_contact
from tests.app.conftest import ensure_user
from tests.unit.factories import make_customer

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "pages" / "customer.py"
TIMEOUT = 30


@pytest.fixture
def app_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Two customers sharing a phone (likely duplicates) and a third one."""
    monkeypatch.setenv("CRM_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("CRM_AS_OF", "2026-06-15")
    with Session(get_engine(sqlite_url), expire_on_commit=False) as session:
        first = make_customer(session, name="Công ty TNHH Thanh Phú", phone="0987654321")
        second = make_customer(session, name="Cty Thanh Phu", phone="0987 654 321")
        make_customer(session, name="Công ty Minh Long", phone="0911222333")
    return {"url": sqlite_url, "id": first.id, "duplicate": second.id}


def count(url: str, table: type, *where: object) -> int:
    with Session(get_engine(url)) as session:
        return session.exec(select(func.count()).select_from(table).where(*where)).one()


def page(db: dict, role: str = "staff", customer_id: int | None = None) -> AppTest:
    """The 360° page of a customer, in English, signed in as a user of ``role``."""
    at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT)
    at.session_state["crm_language"] = "en"
    at.session_state["crm_user"] = ensure_user(db["url"], role)
    at.query_params["id"] = str(customer_id or db["id"])
    return at.run()


def success(at: AppTest) -> str:
    """The success messages shown, except the policy suggestion of the 360° page."""
    return "\n".join(s.value for s in at.success if s.icon != ":material/local_offer:")


def timeline_titles(at: AppTest) -> list[str]:
    """The titles in the timeline (the page's first table)."""
    return at.dataframe[0].value.iloc[:, 3].tolist() if at.dataframe else []


def test_interaction_logged_on_the_page_shows_on_the_timeline(app_db: dict) -> None:
    at = page(app_db)
    assert [tab.label for tab in at.tabs][-3:] == ["Add…", "Edit", "Archive / merge"]
    at.selectbox(key="c360_interaction_form_kind").set_value("meeting")
    at.text_input(key="c360_interaction_form_subject").set_value("Gặp <b>giám đốc</b> 🙂")
    at.button(key="c360_interaction_form_submit").click().run()

    assert not at.exception
    assert not at.error
    assert "Saved interaction" in success(at)
    assert f"customer?id={app_db['id']}" in success(at)
    # The page reran after the save: the timeline above the form shows the record.
    assert "Gặp <b>giám đốc</b> 🙂" in timeline_titles(at)
    with Session(get_engine(app_db["url"])) as session:
        saved = session.exec(select(Interaction)).one()
    assert saved.customer_id == app_db["id"]  # no picker: the page's customer
    assert saved.subject == "Gặp <b>giám đốc</b> 🙂"
    # The default date is the app's today (CRM_AS_OF), inside the dashboards' period.
    assert saved.occurred_at.date() in (dt.date(2026, 6, 14), dt.date(2026, 6, 15))
    at.run()
    assert "Gặp <b>giám đốc</b> 🙂" in timeline_titles(at)


def test_bad_interaction_shows_the_field_and_writes_nothing(app_db: dict) -> None:
    at = page(app_db)
    at.text_input(key="c360_interaction_form_subject").set_value("")
    at.button(key="c360_interaction_form_submit").click().run()
    assert not at.exception
    assert "Saved" not in success(at)
    assert any("Subject" in e.value and "must not be empty" in e.value for e in at.error)
    assert count(app_db["url"], Interaction) == 0


def test_double_submit_on_the_page_writes_one_row(app_db: dict) -> None:
    at = page(app_db)
    for _ in range(2):
        at.text_input(key="c360_interaction_form_subject").set_value("Gọi lại báo giá")
        at.button(key="c360_interaction_form_submit").click().run()
        assert not at.exception
    assert count(app_db["url"], Interaction) == 1
    assert "Already saved" in success(at)


def test_contact_form_and_contacts_editor(app_db: dict) -> None:
    at = page(app_db)
    at.radio(key="c360_add_kind").set_value("contact").run()
    at.text_input(key="c360_contact_form_name").set_value("Chị Lan")
    at.text_input(key="c360_contact_form_email").set_value("lan@example.com")
    at.button(key="c360_contact_form_submit").click().run()
    assert not at.exception
    assert "Saved contact" in success(at)
    assert count(app_db["url"], Contact, Contact.customer_id == app_db["id"]) == 1

    with Session(get_engine(app_db["url"]), expire_on_commit=False) as session:
        second = create_contact(
            session=session,
            actor=Actor.system(),
            data={"customer_id": app_db["id"], "name": "Anh Nam", "phone": "0912345678"},
        )
    st.cache_data.clear()  # a write from outside the app shows after the TTL otherwise
    at = page(app_db)
    editor = next(f for f in at.dataframe if (f.key or "").startswith("c360_contacts_editor"))
    assert editor.value["name"].tolist() == ["Anh Nam", "Chị Lan"]
    assert second.id in editor.value.index.tolist()
    assert not at.exception


def test_contacts_saved_together_or_not_at_all(app_db: dict) -> None:
    import pandas as pd

    from components.record_actions import contact_changes

    stored = pd.DataFrame(
        {
            "name": ["Lan", "Nam"],
            "title": [None, "KT"],
            "phone": [None, None],
            "email": ["lan@example.com", None],
            "is_primary": [True, False],
        },
        index=pd.Index([1, 2], name="id"),
    )
    edited = stored.copy()
    edited.loc[1, "email"] = "not an email"
    edited.loc[2, "title"] = "  Kế toán "
    assert contact_changes(stored, edited) == {
        1: {"email": "not an email"},
        2: {"title": "Kế toán"},
    }
    assert contact_changes(stored, stored.copy()) == {}

    from app.errors import InvalidInput
    from app.services.record_edits import update_contacts

    with Session(get_engine(app_db["url"]), expire_on_commit=False) as session:
        lan = create_contact(
            session=session,
            actor=Actor.system(),
            data={"customer_id": app_db["id"], "name": "Lan"},
        )
        nam = create_contact(
            session=session,
            actor=Actor.system(),
            data={"customer_id": app_db["id"], "name": "Nam"},
        )
        audits = count(app_db["url"], AuditLog)
        with pytest.raises(InvalidInput) as refused:
            update_contacts(
                session=session,
                actor=Actor.system(),
                customer_id=app_db["id"],
                changes={lan.id: {"title": "Giám đốc"}, nam.id: {"email": "x@"}},
            )
        assert list(refused.value.field_errors) == [f"{nam.id}.email"]
        assert count(app_db["url"], AuditLog) == audits  # nothing written
        changed = update_contacts(
            session=session,
            actor=Actor.system(),
            customer_id=app_db["id"],
            changes={lan.id: {"title": "Giám đốc"}, nam.id: {"email": "nam@example.com"}},
        )
    assert changed == 2
    assert count(app_db["url"], AuditLog) == audits + 2
    with Session(get_engine(app_db["url"])) as session:
        assert session.get(Contact, lan.id).title == "Giám đốc"


def test_profile_edit_validates_and_writes_an_audit_row(app_db: dict) -> None:
    at = page(app_db)
    assert at.text_input(key="c360_profile_form_name").value == "Công ty TNHH Thanh Phú"
    at.text_input(key="c360_profile_form_name").set_value("")
    at.button(key="c360_profile_form_submit").click().run()
    assert any("Name" in e.value and "must not be empty" in e.value for e in at.error)
    with Session(get_engine(app_db["url"])) as session:
        assert session.get(Customer, app_db["id"]).name == "Công ty TNHH Thanh Phú"

    at.text_input(key="c360_profile_form_name").set_value("Công ty CP Thanh Phú")
    at.text_input(key="c360_profile_form_province").set_value("Đà Nẵng")
    at.button(key="c360_profile_form_submit").click().run()
    assert not at.exception
    assert "Saved customer" in success(at)
    assert at.text_input(key="c360_profile_form_name").value == "Công ty CP Thanh Phú"
    with Session(get_engine(app_db["url"])) as session:
        customer = session.get(Customer, app_db["id"])
        audit = session.exec(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert (customer.name, customer.province) == ("Công ty CP Thanh Phú", "Đà Nẵng")
    assert audit.action == AuditAction.update and audit.before["name"] != audit.after["name"]
    # The same values again: nothing changed, nothing written.
    audits = count(app_db["url"], AuditLog)
    at.button(key="c360_profile_form_submit").click().run()
    assert count(app_db["url"], AuditLog) == audits


def test_timeline_record_is_edited_in_a_prefilled_form(app_db: dict) -> None:
    with Session(get_engine(app_db["url"]), expire_on_commit=False) as session:
        saved = create_interaction(
            session=session,
            actor=Actor.system(),
            data={"customer_id": app_db["id"], "kind": "call", "subject": "Chào hàng"},
        )
    at = page(app_db)
    assert at.text_input(key="c360_edit_interaction_form_subject").value == "Chào hàng"
    at.text_input(key="c360_edit_interaction_form_subject").set_value("")
    at.button(key="c360_edit_interaction_form_submit").click().run()
    assert any("must not be empty" in e.value for e in at.error)
    at.text_input(key="c360_edit_interaction_form_subject").set_value("Chào hàng lần 2")
    at.button(key="c360_edit_interaction_form_submit").click().run()
    assert not at.exception
    assert "Saved Interaction" in success(at)
    with Session(get_engine(app_db["url"])) as session:
        assert session.get(Interaction, saved.id).subject == "Chào hàng lần 2"
    assert count(app_db["url"], Interaction) == 1


def test_archive_needs_confirmation_and_a_manager_restores(app_db: dict) -> None:
    archived = Customer.id == app_db["id"], Customer.archived.is_(True)
    at = page(app_db, "staff")
    assert at.button(key="c360_archive").disabled  # not confirmed yet
    assert count(app_db["url"], Customer, *archived) == 0
    at.checkbox(key="c360_archive_confirm").check().run()
    at.button(key="c360_archive").click().run()
    assert not at.exception
    assert count(app_db["url"], Customer, *archived) == 1
    assert "is archived" in success(at)
    assert any("archived" in w.value for w in at.warning)
    # Staff may not restore: no button, the banner says who can.
    assert not [b for b in at.button if b.key == "c360_restore"]

    at = page(app_db, "manager")
    at.button(key="c360_restore").click().run()
    assert not at.exception
    assert count(app_db["url"], Customer, *archived) == 0
    assert "is restored" in success(at)
    actions = [
        row.action
        for row in Session(get_engine(app_db["url"])).exec(
            select(AuditLog).where(
                AuditLog.entity_id == app_db["id"], AuditLog.entity == "customer"
            )
        )
    ]
    assert AuditAction.archive in actions and AuditAction.restore in actions


def test_merge_moves_the_records_and_writes_audit_rows(app_db: dict) -> None:
    with Session(get_engine(app_db["url"]), expire_on_commit=False) as session:
        create_interaction(
            session=session,
            actor=Actor.system(),
            data={"customer_id": app_db["duplicate"], "kind": "call", "subject": "Cuộc gọi cũ"},
        )
    at = page(app_db, "manager")
    # Suggestions are looked for on request only.
    assert not [s for s in at.selectbox if s.key == "c360_merge_duplicate"]
    at.toggle(key="c360_merge_suggest").set_value(True).run()
    picker = at.selectbox(key="c360_merge_duplicate")
    assert picker.value == app_db["duplicate"]  # suggested: same phone, similar name
    assert at.button(key="c360_merge").disabled  # not confirmed yet
    assert count(app_db["url"], Interaction, Interaction.customer_id == app_db["id"]) == 0
    at.checkbox(key="c360_merge_confirm").check().run()
    at.button(key="c360_merge").click().run()
    assert not at.exception
    assert "Merged" in success(at) and f"customer?id={app_db['id']}" in success(at)
    assert count(app_db["url"], Interaction, Interaction.customer_id == app_db["id"]) == 1
    assert (
        count(app_db["url"], Customer, Customer.id == app_db["duplicate"], Customer.archived) == 1
    )
    assert count(app_db["url"], AuditLog, AuditLog.action == AuditAction.merge) == 1
    at.run()
    assert "Cuộc gọi cũ" in timeline_titles(at)


def test_staff_cannot_merge_and_executives_enter_nothing(app_db: dict) -> None:
    at = page(app_db, "staff")
    assert not [s for s in at.selectbox if s.key == "c360_merge_duplicate"]
    at = page(app_db, "executive")
    assert not at.exception
    assert "Add…" not in [tab.label for tab in at.tabs]
