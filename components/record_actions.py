"""Editing, archiving, restoring and merging on the Customer 360° page.

Edit forms are prefilled from the stored record: the values are written into the
widgets' session state whenever the record (or its stored values) changes, so the keys
stay stable (``c360_edit_<kind>_form_<field>``) and a refused save keeps what the user
typed. Only changed fields are sent to the update service, so submitting the same values
twice writes one change. A successful write clears the caches it affects, leaves a
message for the next run and reruns, so the page shows the stored values at once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from app.errors import Conflict, DatabaseUnavailable, InvalidInput, NotFound, PermissionDenied
from app.models import (
    Channel,
    CustomerKind,
    Direction,
    InquiryStatus,
    InteractionKind,
    Lifecycle,
    OrderStatus,
    Severity,
)
from app.services.access import Actor, Permission
from components.data import (
    clear_entry_caches,
    clear_overview_cache,
    engine,
    search_customer_options,
)
from components.forms import (
    FLASH_KEY,
    actor_key,
    customer_link,
    enum_names,
    md_escape,
    show_field_errors,
)
from components.i18n import t, tm

TTL = 60

# Per kind of record: (field, widget, option) in form order. Widgets: "text" and "area"
# (option: required), "enum" (option: the Enum), "date", "number", "int".
EDIT_FIELDS: dict[str, list[tuple[str, str, Any]]] = {
    "interaction": [
        ("kind", "enum", InteractionKind),
        ("direction", "enum", Direction),
        ("subject", "text", True),
        ("notes", "area", False),
        ("outcome", "text", False),
        ("follow_up_due", "date", None),
    ],
    "inquiry": [
        ("need", "area", True),
        ("quantity", "number", None),
        ("status", "enum", InquiryStatus),
        ("reason", "text", False),
    ],
    "order": [
        ("status", "enum", OrderStatus),
        ("payment_due", "date", None),
        ("delivery_due", "date", None),
        ("promotion", "text", False),
        ("notes", "area", False),
    ],
    "opportunity": [
        ("title", "text", True),
        ("amount", "number", None),
        ("expected_close", "date", None),
    ],
    "complaint": [
        ("category", "text", True),
        ("severity", "enum", Severity),
        ("description", "area", False),
    ],
    "survey": [
        ("nps", "int", None),
        ("csat", "int", None),
        ("comment", "area", False),
    ],
}
PROFILE_FIELDS: list[tuple[str, str, Any]] = [
    ("name", "text", True),
    ("kind", "enum", CustomerKind),
    ("lifecycle", "enum", Lifecycle),
    ("phone", "text", False),
    ("email", "text", False),
    ("tax_code", "text", False),
    ("channel", "optional_enum", Channel),
    ("province", "text", False),
    ("segment", "text", False),
    ("industry", "text", False),
    ("address", "text", False),
    ("representative", "text", False),
]
MAX_CHARS = {"area": 4000, "text": 300}
# The catalog key of each kind's field labels ("survey" fields are entry.survey_field_*).
LABEL_AREA = {kind: kind for kind in EDIT_FIELDS}


# --------------------------------------------------------------------------- cached reads
@st.cache_data(ttl=TTL, max_entries=256, show_spinner=False)
def load_customer_records(
    url: str, customer_id: int, kind: str, user_id: int | None, username: str, role: str
) -> pd.DataFrame:
    """The customer's records of a kind with ids and editable fields (newest first)."""
    from app.services.record_edits import customer_records

    with Session(engine(url)) as session:
        return customer_records(
            session=session,
            actor=Actor(user_id=user_id, username=username, role=role),
            customer_id=customer_id,
            kind=kind,
        )


@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def load_duplicate_suggestions(
    url: str, customer_id: int, user_id: int | None, username: str, role: str
) -> pd.DataFrame:
    """Customers that look like this one (same phone, email, tax code or a similar name)."""
    from app.services.access import require_customer
    from app.services.duplicates import likely_duplicates

    actor = Actor(user_id=user_id, username=username, role=role)
    with Session(engine(url)) as session:
        customer = require_customer(session=session, actor=actor, customer_id=customer_id)
        return likely_duplicates(
            session=session, actor=actor, candidate=customer, exclude_id=customer_id, limit=10
        )


def clear_record_caches() -> None:
    """Forget the record lists and duplicate suggestions (after any write)."""
    load_customer_records.clear()
    load_duplicate_suggestions.clear()


def _written(*, customers: bool = False) -> None:
    """Clear what a write on the 360° page affects: dashboards, pick lists, record lists."""
    clear_overview_cache()
    clear_entry_caches("items", *(("customers",) if customers else ()))
    clear_record_caches()


# --------------------------------------------------------------------------- helpers
def _digest(values: Any) -> str:
    raw = json.dumps(values, default=str, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def flash(message: str) -> None:
    """Show ``message`` as a success on the next run (after st.rerun)."""
    st.session_state[FLASH_KEY] = message


def show_flash() -> None:
    """The success message a write left for this run, if any."""
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message, icon=":material/check_circle:")


def _write(url: str, action: Callable[[Session], Any], labels: dict[str, str]) -> tuple[bool, Any]:
    """Run a write in one session; show its errors in the user's language. (ok, result)."""
    try:
        with Session(engine(url), expire_on_commit=False) as session:
            return True, action(session)
    except InvalidInput as exc:
        show_field_errors(exc, labels)
    except (PermissionDenied, NotFound, Conflict, DatabaseUnavailable) as exc:
        st.error(md_escape(tm(exc)), icon=":material/block:")
    return False, None


def _prefill(form: str, values: dict[str, Any]) -> None:
    """Put the stored values into the form's widgets when they changed since last time."""
    marker = f"{form}__prefilled"
    version = _digest(values)
    if st.session_state.get(marker) == version:
        return
    for name, value in values.items():
        st.session_state[f"{form}_{name}"] = value
    st.session_state[marker] = version


def _stored(spec: tuple[str, str, Any], value: Any) -> Any:
    """A stored plain value as its widget holds it."""
    _, widget, option = spec
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "" if widget in ("text", "area") else None
    if widget in ("enum", "optional_enum"):
        return option(value)
    if widget == "date":
        return pd.Timestamp(value).date()
    if widget == "int":
        return int(value)
    if widget == "number":
        return float(value)
    return str(value)


def _widget(form: str, spec: tuple[str, str, Any], label: str) -> Any:
    name, widget, option = spec
    key = f"{form}_{name}"
    if widget == "enum":
        return st.selectbox(label, list(option), format_func=enum_names(option), key=key)
    if widget == "optional_enum":
        return st.selectbox(label, [None, *option], format_func=enum_names(option), key=key)
    if widget == "date":
        return st.date_input(label, value=None, key=key)
    if widget == "number":
        return st.number_input(label, value=None, min_value=0.0, key=key)
    if widget == "int":
        return st.number_input(label, value=None, step=1, key=key)
    if widget == "area":
        return st.text_area(label, key=key, max_chars=MAX_CHARS["area"])
    return st.text_input(label, key=key, max_chars=MAX_CHARS["text"])


def _typed(spec: tuple[str, str, Any], value: Any) -> Any:
    """A widget's value as the update model takes it (blank optional text is None)."""
    _, widget, option = spec
    if widget in ("text", "area"):
        text = (value or "").strip()
        return text if option else (text or None)
    if widget == "number":
        return Decimal(str(value)) if value is not None else None
    if widget == "int":
        return int(value) if value is not None else None
    return value


def _changes(
    specs: list[tuple[str, str, Any]], typed: dict[str, Any], stored: dict[str, Any]
) -> dict[str, Any]:
    changes = {}
    for spec in specs:
        name = spec[0]
        before = _typed(spec, _stored(spec, stored.get(name)))
        after = typed[name]
        if before != after:
            changes[name] = after
    return changes


def _edit_form(
    *,
    form: str,
    specs: list[tuple[str, str, Any]],
    labels: dict[str, str],
    stored: dict[str, Any],
    submit_label: str,
) -> dict[str, Any] | None:
    """A prefilled form of ``specs``; the changed fields on submit, else None."""
    _prefill(form, {spec[0]: _stored(spec, stored.get(spec[0])) for spec in specs})
    with st.form(form, clear_on_submit=False):
        columns = st.columns(2)
        values = {}
        for index, spec in enumerate(specs):
            with columns[index % 2] if spec[1] != "area" else st.container():
                values[spec[0]] = _widget(form, spec, labels[spec[0]])
        submitted = st.form_submit_button(submit_label, key=f"{form}_submit")
    if not submitted:
        return None
    typed = {spec[0]: _typed(spec, values[spec[0]]) for spec in specs}
    changes = _changes(specs, typed, stored)
    if not changes:
        st.info(t("entry.edit_unchanged"), icon=":material/info:")
        return None
    return changes


# --------------------------------------------------------------------------- status
def status_banner(*, actor: Actor, url: str, profile: dict[str, Any]) -> None:
    """The message a write left, and for an archived customer a banner (and Restore for
    those who may restore)."""
    show_flash()
    if not profile.get("archived"):
        return
    st.warning(t("entry.archived_banner"), icon=":material/inventory_2:")
    if not actor.can(Permission.restore):
        st.caption(t("entry.archived_restore_hint"))
        return
    if st.button(t("entry.restore_button"), key="c360_restore", icon=":material/unarchive:"):
        from app.services.customers import set_customer_archived

        ok, _ = _write(
            url,
            lambda session: set_customer_archived(
                session=session, actor=actor, customer_id=int(profile["id"]), archived=False
            ),
            {},
        )
        if ok:
            _written(customers=True)
            flash(t("entry.restored", code=md_escape(profile["code"])))
            st.rerun()


# --------------------------------------------------------------------------- archive, merge
def archive_and_merge(*, actor: Actor, url: str, profile: dict[str, Any]) -> None:
    """Archive the customer (with a confirmation) and merge a duplicate into it."""
    customer_id = int(profile["id"])
    if profile.get("archived"):
        st.caption(t("entry.archived_banner"))
        return
    st.markdown(f"**{t('entry.archive_header')}**")
    st.caption(t("entry.archive_help"))
    confirmed = st.checkbox(t("entry.archive_confirm"), key="c360_archive_confirm")
    if st.button(
        t("entry.archive_button"),
        key="c360_archive",
        icon=":material/archive:",
        disabled=not confirmed,
    ):
        if not confirmed:
            st.warning(t("entry.confirm_first"), icon=":material/warning:")
        else:
            from app.services.customers import set_customer_archived

            ok, _ = _write(
                url,
                lambda session: set_customer_archived(
                    session=session, actor=actor, customer_id=customer_id, archived=True
                ),
                {},
            )
            if ok:
                _written(customers=True)
                st.session_state.pop("c360_archive_confirm", None)
                flash(t("entry.archived", code=md_escape(profile["code"])))
                st.rerun()

    if not actor.can(Permission.merge):
        return
    st.divider()
    st.markdown(f"**{t('entry.merge_header')}**")
    st.caption(t("entry.merge_help", code=md_escape(profile["code"])))
    # Finding likely duplicates scans every customer's name (~0.4 s at 100,000
    # customers), so it runs when asked, not on every visit of the page.
    choices: dict[int, str] = {}
    if st.toggle(t("entry.merge_suggest"), key="c360_merge_suggest"):
        suggestions = load_duplicate_suggestions(url, customer_id, *actor_key(actor))
        choices = {
            int(row.customer_id): f"{row.code} · {row.name} — {row.reason}"
            for row in suggestions.itertuples(index=False)
        }
    search = st.text_input(t("entry.merge_search"), key="c360_merge_search", max_chars=100)
    if search.strip():
        found = search_customer_options(url, search, *actor_key(actor))
        for row in found.itertuples(index=False):
            if int(row.customer_id) != customer_id:
                choices.setdefault(int(row.customer_id), str(row.label))
    if not choices:
        st.caption(t("entry.merge_none"))
        return
    duplicate_id = st.selectbox(
        t("entry.merge_pick"),
        list(choices),
        format_func=lambda cid: choices.get(cid, str(cid)),
        key="c360_merge_duplicate",
    )
    merge_confirmed = st.checkbox(
        t("entry.merge_confirm", code=md_escape(profile["code"])), key="c360_merge_confirm"
    )
    if st.button(
        t("entry.merge_button"),
        key="c360_merge",
        icon=":material/merge:",
        disabled=not merge_confirmed,
    ):
        if not merge_confirmed:
            st.warning(t("entry.confirm_first"), icon=":material/warning:")
            return
        from app.services.merge import merge_customers

        ok, moved = _write(
            url,
            lambda session: merge_customers(
                session=session, actor=actor, survivor_id=customer_id, duplicate_id=duplicate_id
            ),
            {"duplicate_id": t("entry.merge_pick")},
        )
        if ok:
            _written(customers=True)
            for key in ("c360_merge_confirm", "c360_merge_search", "c360_merge_duplicate"):
                st.session_state.pop(key, None)
            flash(
                t(
                    "entry.merged",
                    duplicate=md_escape(choices.get(duplicate_id, duplicate_id)),
                    count=sum(
                        value for key, value in moved.items() if not key.endswith("_combined")
                    ),
                    link=customer_link(customer_id, md_escape(profile["code"])),
                )
            )
            st.rerun()


# --------------------------------------------------------------------------- editing
def profile_form(*, actor: Actor, url: str, profile: dict[str, Any]) -> None:
    """Edit the customer's own fields (validated by CustomerUpdate)."""
    from app.services.customers import update_customer

    labels = {
        name: t(f"entry.customer_field_{name}") for name, _, _ in PROFILE_FIELDS if name != "name"
    }
    labels["name"] = t("entry.customer_field_name")
    labels["lifecycle"] = t("entry.customer_field_lifecycle")
    changes = _edit_form(
        form="c360_profile_form",
        specs=PROFILE_FIELDS,
        labels=labels,
        stored=profile,
        submit_label=t("entry.profile_submit"),
    )
    if changes is None:
        return
    ok, row = _write(
        url,
        lambda session: update_customer(
            session=session, actor=actor, customer_id=int(profile["id"]), data=changes
        ),
        labels,
    )
    if ok:
        _written(customers=True)
        flash(
            t(
                "entry.profile_saved",
                code=md_escape(row.code),
                link=customer_link(row.id),
                fields=", ".join(labels.get(name, name) for name in changes),
            )
        )
        st.rerun()


CONTACT_COLUMNS = ("name", "title", "phone", "email", "is_primary")


def contacts_editor(*, actor: Actor, url: str, customer_id: int) -> None:
    """The customer's contact persons in a table to edit; all rows saved at once, or none
    when any row is refused."""
    from app.services.record_edits import update_contacts

    contacts = load_customer_records(url, customer_id, "contact", *actor_key(actor))
    if contacts.empty:
        st.caption(t("customers.no_contacts"))
        return
    labels = {name: t(f"entry.contact_field_{name}") for name in CONTACT_COLUMNS}
    stored = contacts.set_index("id")[list(CONTACT_COLUMNS)]
    edited = st.data_editor(
        stored,
        hide_index=True,
        num_rows="fixed",
        width="stretch",
        key=f"c360_contacts_editor_{_digest(stored.to_dict('index'))}",
        column_config={
            "name": st.column_config.TextColumn(labels["name"], max_chars=120),
            "title": st.column_config.TextColumn(labels["title"], max_chars=80),
            "phone": st.column_config.TextColumn(labels["phone"], max_chars=20),
            "email": st.column_config.TextColumn(labels["email"], max_chars=254),
            "is_primary": st.column_config.CheckboxColumn(labels["is_primary"]),
        },
    )
    if not st.button(t("entry.contacts_save"), key="c360_contacts_save"):
        return
    changes = contact_changes(stored, edited)
    if not changes:
        st.info(t("entry.edit_unchanged"), icon=":material/info:")
        return
    try:
        with Session(engine(url)) as session:
            count = update_contacts(
                session=session, actor=actor, customer_id=customer_id, changes=changes
            )
    except InvalidInput as exc:
        names = dict(zip(stored.index.tolist(), stored["name"].tolist(), strict=True))
        positions = {cid: index + 1 for index, cid in enumerate(stored.index.tolist())}
        for field, message in exc.field_errors.items():
            contact_id, _, name = field.partition(".")
            cid = int(contact_id) if contact_id.isdigit() else None
            st.error(
                t(
                    "entry.contacts_row_error",
                    row=positions.get(cid, "?"),
                    name=md_escape(names.get(cid, "")),
                    field=md_escape(labels.get(name, name)),
                    message=md_escape(tm(message)),
                ),
                icon=":material/error:",
            )
        st.caption(t("entry.contacts_nothing_saved"))
        return
    except (PermissionDenied, NotFound, Conflict, DatabaseUnavailable) as exc:
        st.error(md_escape(tm(exc)), icon=":material/block:")
        return
    _written()
    flash(t("entry.contacts_saved", count=count))
    st.rerun()


def contact_changes(stored: pd.DataFrame, edited: pd.DataFrame) -> dict[int, dict[str, Any]]:
    """Per contact id, the fields the editor changed (blank optional text is None)."""
    changes: dict[int, dict[str, Any]] = {}
    for contact_id, row in edited.iterrows():
        before = stored.loc[contact_id]
        fields = {}
        for name in CONTACT_COLUMNS:
            after = row[name]
            if name == "is_primary":
                after = bool(after) if not pd.isna(after) else False
            else:
                after = "" if after is None or pd.isna(after) else str(after).strip()
                if name != "name":
                    after = after or None
            old = before[name]
            old = None if old is None or (not isinstance(old, bool) and pd.isna(old)) else old
            if name != "is_primary" and old is not None:
                old = str(old)
            if name == "name":
                old = old or ""
            if after != old:
                fields[name] = after
        if fields:
            changes[int(contact_id)] = fields
    return changes


def _record_label(kind: str, row: Any) -> str:
    at = pd.Timestamp(row.at).strftime("%d/%m/%Y") if row.at is not None else ""
    title = {
        "interaction": lambda: row.subject,
        "inquiry": lambda: row.need,
        "order": lambda: f"{row.code} ({row.status})",
        "opportunity": lambda: f"{row.title} ({row.stage})",
        "complaint": lambda: f"{row.category} ({row.status})",
        "survey": lambda: " · ".join(
            part
            for part in (
                f"NPS {int(row.nps)}" if not pd.isna(row.nps) else "",
                f"CSAT {int(row.csat)}" if not pd.isna(row.csat) else "",
            )
            if part
        ),
    }[kind]()
    return f"#{row.id} · {at} · {str(title)[:80]}"


def record_editor(*, actor: Actor, url: str, customer_id: int) -> None:
    """Pick one of the customer's records (interaction, inquiry, order, opportunity,
    complaint, survey answer) and edit it in a prefilled form."""
    from app.services import care, sales

    kinds = list(EDIT_FIELDS)
    kind_labels = {kind: t(f"entry.edit_kind_{kind}") for kind in kinds}
    kind = st.selectbox(
        t("entry.edit_kind"),
        kinds,
        format_func=lambda value: kind_labels.get(value, value),
        key="c360_edit_kind",
    )
    records = load_customer_records(url, customer_id, kind, *actor_key(actor))
    if records.empty:
        st.caption(t("entry.edit_none"))
        return
    names = {int(row.id): _record_label(kind, row) for row in records.itertuples(index=False)}
    record_id = st.selectbox(
        t("entry.edit_record"),
        list(names),
        format_func=lambda rid: names.get(rid, str(rid)),
        key=f"c360_edit_{kind}_record",
    )
    stored = records.set_index("id").loc[record_id].to_dict()
    specs = EDIT_FIELDS[kind]
    labels = {name: t(f"entry.{LABEL_AREA[kind]}_field_{name}") for name, _, _ in specs}
    form = f"c360_edit_{kind}_form"
    # A different record in the same form: forget the previous record's prefill marker.
    if st.session_state.get(f"{form}__record") != record_id:
        st.session_state[f"{form}__record"] = record_id
        st.session_state.pop(f"{form}__prefilled", None)
    changes = _edit_form(
        form=form,
        specs=specs,
        labels=labels,
        stored=stored,
        submit_label=t("entry.edit_submit"),
    )
    if changes is None:
        return
    update: dict[str, Callable[[Session], Any]] = {
        "interaction": lambda session: care.update_interaction(
            session=session, actor=actor, interaction_id=record_id, data=changes
        ),
        "inquiry": lambda session: sales.update_inquiry(
            session=session, actor=actor, inquiry_id=record_id, data=changes
        ),
        "order": lambda session: sales.update_order(
            session=session, actor=actor, order_id=record_id, data=changes
        ),
        "opportunity": lambda session: sales.update_opportunity(
            session=session, actor=actor, opportunity_id=record_id, data=changes
        ),
        "complaint": lambda session: care.update_complaint(
            session=session, actor=actor, complaint_id=record_id, data=changes
        ),
        "survey": lambda session: care.update_survey_response(
            session=session, actor=actor, survey_response_id=record_id, data=changes
        ),
    }
    ok, _ = _write(url, update[kind], labels)
    if ok:
        _written()
        flash(
            t(
                "entry.edit_saved",
                what=kind_labels[kind],
                id=record_id,
                fields=", ".join(labels.get(name, name) for name in changes),
                link=customer_link(customer_id),
            )
        )
        st.rerun()


def entry_enabled(actor: Actor) -> bool:
    """Whether the user may create or change records (executives only read)."""
    return actor.can(Permission.write)


# --------------------------------------------------------------------------- partners
PARTNER_ARCHIVE_PREFIX = "partner_archive"


def partner_archive_panel(*, actor: Actor, url: str) -> None:
    """Archive a partner (with a confirmation) or, for managers, restore an archived one."""
    from app.services.catalogue import set_partner_archived
    from components.data import load_entry_choices

    show_flash()
    partners = load_entry_choices(url, "partners_all")
    if partners.empty:
        return
    archived = {int(row.id): bool(row.archived) for row in partners.itertuples(index=False)}
    names = {
        int(row.id): f"{row.name}"
        + (f" ({t('entry.partner_archived_tag')})" if row.archived else "")
        for row in partners.itertuples(index=False)
    }
    st.subheader(t("entry.partner_manage_header"))
    partner_id = st.selectbox(
        t("entry.partner_manage_pick"),
        list(names),
        format_func=lambda pid: names.get(pid, str(pid)),
        key=f"{PARTNER_ARCHIVE_PREFIX}_partner",
    )
    restoring = archived.get(partner_id, False)
    if restoring and not actor.can(Permission.restore):
        st.caption(t("entry.partner_restore_manager_only"))
        return
    confirmed = st.checkbox(
        t("entry.partner_restore_confirm" if restoring else "entry.partner_manage_confirm"),
        key=f"{PARTNER_ARCHIVE_PREFIX}_confirm",
    )
    label = t("entry.partner_restore_button" if restoring else "entry.partner_archive_button")
    if st.button(
        label,
        key=f"{PARTNER_ARCHIVE_PREFIX}_submit",
        icon=":material/unarchive:" if restoring else ":material/archive:",
        disabled=not confirmed,
    ):
        ok, partner = _write(
            url,
            lambda session: set_partner_archived(
                session=session, partner_id=partner_id, archived=not restoring, actor=actor
            ),
            {},
        )
        if ok:
            clear_overview_cache()
            clear_entry_caches("partners")
            st.session_state.pop(f"{PARTNER_ARCHIVE_PREFIX}_confirm", None)
            done = "entry.partner_restored" if restoring else "entry.partner_archived"
            flash(t(done, name=md_escape(partner.name)))
            st.rerun()
