"""Data-entry forms: one render function per record type, sharing one submission path.

Every form follows style.md convention 10: ``st.form("<entity>_form",
clear_on_submit=True)``, widget keys ``"<entity>_form_<field>"``, the submission handled
after the form (validate through the service, clear the cached reads it affects, then
``st.success`` or ``st.error`` per field). All user-visible text of a form is named in its
``*_KEYS`` dict (keys of app/i18n/catalog/entry.py and transfer.py), which ``localised``
turns into the session's language during the script run; format_funcs only read the
resulting dicts, since Streamlit may call them outside the run.

Double submits: each submission carries an idempotency key made of a per-form nonce and
a digest of the submitted values. The nonce changes after every save, except that the
same values submitted again within ``REPEAT_WINDOW_SECONDS`` reuse the saved key, so a
double click or a browser retry returns the first record instead of inserting again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st
from sqlmodel import Session

from app.errors import Conflict, DatabaseUnavailable, InvalidInput, NotFound, PermissionDenied
from app.models import (
    OPEN_STAGES,
    CampaignChannel,
    CampaignPurpose,
    Channel,
    ComplaintStatus,
    CustomerKind,
    Direction,
    InquiryStatus,
    InteractionKind,
    OrderStatus,
    PartnerKind,
    Severity,
    Stage,
)
from app.services.access import Actor, Permission
from components.data import (
    clear_entry_caches,
    clear_overview_cache,
    engine,
    load_customer_open_items,
    load_entry_choices,
    load_timezone_name,
    load_today,
    search_customer_options,
)
from components.i18n import current_language, enum_label, t, tm

REPEAT_WINDOW_SECONDS = 60
# Forms embedded in a page that also shows the records they write (the Customer 360°
# page): after a save the message is kept for the next run and the page reruns, so the
# timeline above the form shows the new record at once.
RERUN_PREFIXES = ("c360_",)
FLASH_KEY = "c360__flash"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


# --------------------------------------------------------------------------- helpers
def localised(keys: dict[str, Any]) -> dict[str, Any]:
    """``keys`` (nested dicts of catalog keys) with every key replaced by its message in
    the session's language. Call during the script run, never inside a format_func."""
    return {
        name: localised(value) if isinstance(value, dict) else t(value)
        for name, value in keys.items()
    }


def md_escape(text: object) -> str:
    """Text shown literally inside Markdown (names may contain *, _, <script>...)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def actor_key(actor: Actor) -> tuple[int | None, str, str]:
    """The actor as hashable cache arguments."""
    return actor.user_id, actor.username, getattr(actor.role, "value", str(actor.role))


def local_to_utc(day: dt.date, clock: dt.time, tz_name: str) -> dt.datetime:
    """A wall-clock date and time in the display time zone, as an aware UTC datetime."""
    return dt.datetime.combine(day, clock, tzinfo=ZoneInfo(tz_name)).astimezone(dt.UTC)


def local_now(tz_name: str) -> dt.datetime:
    """Now in the display time zone, to the minute."""
    return dt.datetime.now(ZoneInfo(tz_name)).replace(second=0, microsecond=0)


def _digest(payload: Any) -> str:
    raw = json.dumps(payload, default=str, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:20]


def _submission_state(form: str) -> dict[str, Any]:
    key = f"{form}_form__submission"
    if key not in st.session_state:
        st.session_state[key] = {"nonce": uuid.uuid4().hex, "digest": None, "at": 0.0}
    return st.session_state[key]


def idempotency_key(form: str, payload: Any) -> str:
    """The key for submitting ``payload`` with this form now (see the module docstring)."""
    state = _submission_state(form)
    digest = _digest(payload)
    if digest == state["digest"] and time.monotonic() - state["at"] < REPEAT_WINDOW_SECONDS:
        return state["key"]
    return f"{form}:{state['nonce']}:{digest}"


def _remember(form: str, payload: Any, key: str) -> bool:
    """Record a successful save; True when it was a repeat of the previous one."""
    state = _submission_state(form)
    repeated = state.get("key") == key
    state.update(digest=_digest(payload), at=time.monotonic(), key=key, nonce=uuid.uuid4().hex)
    return repeated


def show_field_errors(error: InvalidInput, labels: dict[str, str]) -> None:
    """One st.error per field, named by its label."""
    for field, message in error.field_errors.items():
        head = field.split(".")[0]
        label = labels.get(field) or labels.get(head) or field.replace("_", " ")
        if head == "lines" and "." in field:
            parts = field.split(".")
            label = t("entry.line", n=int(parts[1]) + 1) + (
                f" {labels.get(parts[2], parts[2])}" if len(parts) > 2 else ""
            )
        st.error(f"**{md_escape(label)}**: {md_escape(tm(message))}", icon=":material/error:")


def submit(
    *,
    form: str,
    url: str,
    payload: Any,
    labels: dict[str, str],
    action: Callable[[Session, str], Any],
    describe: Callable[[Any], str],
    clears: tuple[str, ...] = (),
    overview: bool = False,
) -> Any | None:
    """Run ``action(session, idempotency_key)``; show success or the errors; clear caches.

    Returns the saved record, or None when it was refused.
    """
    key = idempotency_key(form, payload)
    try:
        with Session(engine(url), expire_on_commit=False) as session:
            record = action(session, key)
            message = describe(record)
    except InvalidInput as exc:
        show_field_errors(exc, labels)
        return None
    except (PermissionDenied, NotFound, Conflict, DatabaseUnavailable) as exc:
        # DatabaseUnavailable: app/retry.py gave up on a busy database. The nonce only
        # changes after a save, so sending the same values again reuses the key: safe.
        st.error(md_escape(tm(exc)), icon=":material/block:")
        return None
    if overview:
        clear_overview_cache()
    if clears:
        clear_entry_caches(*clears)
    from components.record_actions import clear_record_caches

    clear_record_caches()
    repeated = _remember(form, payload, key)
    if form.startswith(RERUN_PREFIXES):
        st.session_state[FLASH_KEY] = (
            t("entry.common_saved_again", what=message) if repeated else message
        )
        st.rerun()
    if repeated:
        st.info(t("entry.common_saved_again", what=message), icon=":material/info:")
    else:
        st.success(message, icon=":material/check_circle:")
    return record


def submit_create(
    *, create: Callable[..., Any], actor: Actor, payload: Any, **options: Any
) -> Any | None:
    """``submit`` for a create service taking (session, actor, data, idempotency_key)."""
    return submit(
        payload=payload,
        action=lambda session, key: create(
            session=session, actor=actor, data=payload, idempotency_key=key
        ),
        **options,
    )


def customer_link(customer_id: int, text: str | None = None) -> str:
    """A Markdown link to the customer 360° page."""
    label = text or t("entry.common_open_customer")
    return f"[{label}](customer?id={int(customer_id)})"


def _money(value: Any) -> Decimal | None:
    """A number typed by a person: 1.234.567 or 1,234,567 or 1234567.5 → Decimal."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    text = str(value).strip().replace(" ", "")
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _options(enum_cls: type, values: Any = None) -> list[Any]:
    return list(values or enum_cls)


def enum_names(enum_cls: type) -> Callable[[Any], str]:
    """A format_func showing an enum member (or its stored value) in the session's
    language; the labels are looked up now, during the run."""
    names = {member.value: enum_label(member) for member in enum_cls}
    return lambda value: (
        "—" if value is None else names.get(getattr(value, "value", value), str(value))
    )


def entry_now(url: str, tz_name: str) -> dt.datetime:
    """Now in the display time zone, moved to the app's today (``CRM_AS_OF`` in demos and
    tests), so a default date falls inside the dashboards' current period."""
    now = local_now(tz_name)
    today = dt.date.fromisoformat(load_today(url))
    return now.replace(year=today.year, month=today.month, day=today.day)


def _none_if_blank(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


# --------------------------------------------------------------------------- customer picker
def customer_picker(*, actor: Actor, url: str, key_prefix: str = "entry") -> int | None:
    """Type-ahead customer search (≤ 20 matches); returns the chosen customer's id."""
    query = st.text_input(
        t("entry.picker_search"),
        key=f"{key_prefix}_customer_search",
        help=t("entry.picker_search_help"),
        max_chars=100,
    )
    matches = search_customer_options(url, query or "", *actor_key(actor))
    if matches.empty:
        st.caption(t("entry.picker_none"))
        return None
    labels = dict(zip(matches["customer_id"].tolist(), matches["label"].tolist(), strict=True))
    return st.selectbox(
        t("entry.picker_customer"),
        options=list(labels),
        format_func=lambda customer_id: labels.get(customer_id, str(customer_id)),
        key=f"{key_prefix}_customer_id",
    )


def _need_customer(customer_id: int | None) -> bool:
    if customer_id is None:
        st.error(t("entry.common_no_customer"), icon=":material/person_search:")
        return False
    return True


# --------------------------------------------------------------------------- interaction
INTERACTION_KEYS = {
    "header": "entry.interaction_header",
    "fields": {
        "customer_id": "entry.interaction_field_customer_id",
        "kind": "entry.interaction_field_kind",
        "direction": "entry.interaction_field_direction",
        "occurred_at": "entry.interaction_field_occurred_at",
        "occurred_on": "entry.interaction_field_occurred_on",
        "occurred_time": "entry.interaction_field_occurred_time",
        "subject": "entry.interaction_field_subject",
        "notes": "entry.interaction_field_notes",
        "outcome": "entry.interaction_field_outcome",
        "follow_up_due": "entry.interaction_field_follow_up_due",
    },
    "submit": "entry.interaction_submit",
    "saved": "entry.interaction_saved",
}


def interaction_form(*, actor: Actor, url: str, customer_id: int | None, prefix: str = "") -> None:
    """Log a call, email, meeting... with the customer picked above."""
    text = localised(INTERACTION_KEYS)
    labels = text["fields"]
    tz_name = load_timezone_name(url)
    now = entry_now(url, tz_name)
    with st.form(f"{prefix}interaction_form", clear_on_submit=True):
        left, middle, right = st.columns(3)
        kind = left.selectbox(
            labels["kind"],
            _options(InteractionKind),
            format_func=enum_names(InteractionKind),
            key=f"{prefix}interaction_form_kind",
        )
        direction = middle.selectbox(
            labels["direction"],
            _options(Direction),
            format_func=enum_names(Direction),
            index=1,
            key=f"{prefix}interaction_form_direction",
        )
        day = right.date_input(
            labels["occurred_on"], value=now.date(), key=f"{prefix}interaction_form_date"
        )
        clock = right.time_input(
            labels["occurred_time"],
            value=now.time(),
            key=f"{prefix}interaction_form_time",
            step=300,
        )
        subject = st.text_input(
            labels["subject"], key=f"{prefix}interaction_form_subject", max_chars=200
        )
        notes = st.text_area(labels["notes"], key=f"{prefix}interaction_form_notes", max_chars=4000)
        left, right = st.columns(2)
        outcome = left.text_input(
            labels["outcome"], key=f"{prefix}interaction_form_outcome", max_chars=200
        )
        follow_up = right.date_input(
            labels["follow_up_due"], value=None, key=f"{prefix}interaction_form_follow_up_due"
        )
        submitted = st.form_submit_button(text["submit"], key=f"{prefix}interaction_form_submit")
    if not submitted or not _need_customer(customer_id):
        return
    payload = {
        "customer_id": customer_id,
        "user_id": actor.user_id,
        "kind": kind,
        "direction": direction,
        "occurred_at": local_to_utc(day or now.date(), clock or now.time(), tz_name),
        "subject": subject,
        "notes": _none_if_blank(notes),
        "outcome": _none_if_blank(outcome),
        "follow_up_due": follow_up,
    }
    from app.services.care import create_interaction

    submit_create(
        form=f"{prefix}interaction",
        url=url,
        payload=payload,
        labels=labels,
        create=create_interaction,
        actor=actor,
        describe=lambda row: text["saved"].format(
            id=row.id,
            kind=enum_label(row.kind),
            subject=md_escape(row.subject),
            link=customer_link(row.customer_id),
        ),
        clears=("items",),
        overview=True,
    )


# --------------------------------------------------------------------------- customer, contact
CUSTOMER_KEYS = {
    "header": "entry.customer_header",
    "fields": {
        "code": "entry.customer_field_code",
        "name": "entry.customer_field_name",
        "kind": "entry.customer_field_kind",
        "phone": "entry.customer_field_phone",
        "email": "entry.customer_field_email",
        "tax_code": "entry.customer_field_tax_code",
        "province": "entry.customer_field_province",
        "segment": "entry.customer_field_segment",
        "industry": "entry.customer_field_industry",
        "address": "entry.customer_field_address",
        "representative": "entry.customer_field_representative",
        "channel": "entry.customer_field_channel",
    },
    "submit": "entry.customer_submit",
    "saved": "entry.customer_saved",
    "duplicates": "entry.customer_duplicates",
    "save_anyway": "entry.customer_save_anyway",
    "discard": "entry.customer_discard",
}


def customer_form(*, actor: Actor, url: str) -> None:
    """A new customer; likely duplicates are shown before anything is saved."""
    text = localised(CUSTOMER_KEYS)
    labels = text["fields"]
    with st.form("customer_form", clear_on_submit=True):
        name = st.text_input(labels["name"], key="customer_form_name", max_chars=200)
        left, middle, right = st.columns(3)
        kind = left.selectbox(
            labels["kind"],
            _options(CustomerKind),
            format_func=enum_names(CustomerKind),
            key="customer_form_kind",
        )
        phone = middle.text_input(labels["phone"], key="customer_form_phone", max_chars=20)
        email = right.text_input(labels["email"], key="customer_form_email", max_chars=254)
        code = left.text_input(labels["code"], key="customer_form_code", max_chars=20)
        tax_code = middle.text_input(labels["tax_code"], key="customer_form_tax_code", max_chars=20)
        channel = right.selectbox(
            labels["channel"],
            [None, *_options(Channel)],
            format_func=enum_names(Channel),
            key="customer_form_channel",
        )
        province = left.text_input(labels["province"], key="customer_form_province", max_chars=60)
        segment = middle.text_input(labels["segment"], key="customer_form_segment", max_chars=60)
        industry = right.text_input(labels["industry"], key="customer_form_industry", max_chars=80)
        address = st.text_input(labels["address"], key="customer_form_address", max_chars=300)
        representative = st.text_input(
            labels["representative"], key="customer_form_representative", max_chars=120
        )
        submitted = st.form_submit_button(text["submit"], key="customer_form_submit")
    pending_key = "customer_form__pending"
    if submitted:
        payload = {
            "code": _none_if_blank(code),
            "name": name,
            "kind": kind,
            "phone": _none_if_blank(phone),
            "email": _none_if_blank(email),
            "tax_code": _none_if_blank(tax_code),
            "channel": channel,
            "province": _none_if_blank(province),
            "segment": _none_if_blank(segment),
            "industry": _none_if_blank(industry),
            "address": _none_if_blank(address),
            "representative": _none_if_blank(representative),
        }
        st.session_state.pop(pending_key, None)
        _save_customer(actor=actor, url=url, payload=payload, check_duplicates=True)
    pending = st.session_state.get(pending_key)
    if pending and not submitted:
        left, right = st.columns(2)
        if left.button(text["save_anyway"], key="customer_form_save_anyway"):
            st.session_state.pop(pending_key, None)
            _save_customer(actor=actor, url=url, payload=pending, check_duplicates=False)
        elif right.button(text["discard"], key="customer_form_discard"):
            st.session_state.pop(pending_key, None)
        else:
            _show_duplicates(pending["_duplicates"])


def _show_duplicates(rows: list[dict[str, Any]]) -> None:
    st.warning(t(CUSTOMER_KEYS["duplicates"]), icon=":material/content_copy:")
    for row in rows:
        st.markdown(
            f"- {customer_link(row['customer_id'], md_escape(row['code']))} · "
            f"{md_escape(row['name'])} — {md_escape(row['reason'])}"
        )


def _save_customer(*, actor: Actor, url: str, payload: dict, check_duplicates: bool) -> None:
    from app.services.customers import create_customer, next_customer_code
    from app.services.duplicates import likely_duplicates

    text = localised(CUSTOMER_KEYS)
    data = {key: value for key, value in payload.items() if not key.startswith("_")}
    if check_duplicates:
        try:
            with Session(engine(url)) as session:
                found = likely_duplicates(session=session, actor=actor, candidate=data)
        except (PermissionDenied, NotFound) as exc:
            st.error(md_escape(tm(exc)))
            return
        if not found.empty:
            rows = found.to_dict("records")
            st.session_state["customer_form__pending"] = {**payload, "_duplicates": rows}
            _show_duplicates(rows)
            left, right = st.columns(2)
            left.button(text["save_anyway"], key="customer_form_save_anyway")
            right.button(text["discard"], key="customer_form_discard")
            return

    def action(session: Session, key: str):  # noqa: ANN202
        values = dict(data)
        values["code"] = values.get("code") or next_customer_code(session=session)
        return create_customer(session=session, actor=actor, data=values, idempotency_key=key)

    submit(
        form="customer",
        url=url,
        payload=data,
        labels=text["fields"],
        action=action,
        describe=lambda row: text["saved"].format(
            code=md_escape(row.code), name=md_escape(row.name), link=customer_link(row.id)
        ),
        clears=("customers",),
        overview=True,
    )


CONTACT_KEYS = {
    "header": "entry.contact_header",
    "fields": {
        "name": "entry.contact_field_name",
        "title": "entry.contact_field_title",
        "phone": "entry.contact_field_phone",
        "email": "entry.contact_field_email",
        "is_primary": "entry.contact_field_is_primary",
    },
    "submit": "entry.contact_submit",
    "saved": "entry.contact_saved",
}


def contact_form(*, actor: Actor, url: str, customer_id: int | None, prefix: str = "") -> None:
    """A contact person of the customer picked above."""
    text = localised(CONTACT_KEYS)
    labels = text["fields"]
    with st.form(f"{prefix}contact_form", clear_on_submit=True):
        left, right = st.columns(2)
        name = left.text_input(labels["name"], key=f"{prefix}contact_form_name", max_chars=120)
        title = right.text_input(labels["title"], key=f"{prefix}contact_form_title", max_chars=80)
        phone = left.text_input(labels["phone"], key=f"{prefix}contact_form_phone", max_chars=20)
        email = right.text_input(labels["email"], key=f"{prefix}contact_form_email", max_chars=254)
        primary = st.checkbox(labels["is_primary"], key=f"{prefix}contact_form_is_primary")
        submitted = st.form_submit_button(text["submit"], key=f"{prefix}contact_form_submit")
    if not submitted or not _need_customer(customer_id):
        return
    payload = {
        "customer_id": customer_id,
        "name": name,
        "title": _none_if_blank(title),
        "phone": _none_if_blank(phone),
        "email": _none_if_blank(email),
        "is_primary": primary,
    }
    from app.services.customers import create_contact

    submit_create(
        form=f"{prefix}contact",
        url=url,
        payload=payload,
        labels=labels,
        create=create_contact,
        actor=actor,
        describe=lambda row: text["saved"].format(
            name=md_escape(row.name), link=customer_link(row.customer_id)
        ),
        overview=True,
    )


# --------------------------------------------------------------------------- inquiry
INQUIRY_KEYS = {
    "header": "entry.inquiry_header",
    "fields": {
        "product_id": "entry.inquiry_field_product_id",
        "need": "entry.inquiry_field_need",
        "quantity": "entry.inquiry_field_quantity",
        "asked_at": "entry.inquiry_field_asked_at",
        "status": "entry.inquiry_field_status",
        "reason": "entry.inquiry_field_reason",
    },
    "submit": "entry.inquiry_submit",
    "saved": "entry.inquiry_saved",
}


def _product_labels(url: str) -> dict[int, str]:
    products = load_entry_choices(url, "products")
    return {int(row.id): f"{row.code} · {row.name}" for row in products.itertuples(index=False)}


def inquiry_form(*, actor: Actor, url: str, customer_id: int | None, prefix: str = "") -> None:
    """An inquiry (hỏi hàng) of the customer picked above."""
    text = localised(INQUIRY_KEYS)
    labels = text["fields"]
    products = _product_labels(url)
    tz_name = load_timezone_name(url)
    with st.form(f"{prefix}inquiry_form", clear_on_submit=True):
        need = st.text_area(labels["need"], key=f"{prefix}inquiry_form_need", max_chars=500)
        left, middle, right = st.columns(3)
        product_id = left.selectbox(
            labels["product_id"],
            [None, *products],
            format_func=lambda pid: "—" if pid is None else products.get(pid, str(pid)),
            key=f"{prefix}inquiry_form_product_id",
        )
        quantity = middle.number_input(
            labels["quantity"], value=None, step=1.0, key=f"{prefix}inquiry_form_quantity"
        )
        asked_on = right.date_input(
            labels["asked_at"],
            value=entry_now(url, tz_name).date(),
            key=f"{prefix}inquiry_form_asked_at",
        )
        status = left.selectbox(
            labels["status"],
            _options(InquiryStatus),
            format_func=enum_names(InquiryStatus),
            key=f"{prefix}inquiry_form_status",
        )
        reason = st.text_input(labels["reason"], key=f"{prefix}inquiry_form_reason", max_chars=500)
        submitted = st.form_submit_button(text["submit"], key=f"{prefix}inquiry_form_submit")
    if not submitted or not _need_customer(customer_id):
        return
    now = entry_now(url, tz_name)
    payload = {
        "customer_id": customer_id,
        "user_id": actor.user_id,
        "product_id": product_id,
        "need": need,
        "quantity": _money(quantity),
        "asked_at": local_to_utc(asked_on or now.date(), now.time(), tz_name),
        "status": status,
        "reason": _none_if_blank(reason),
    }
    from app.services.sales import create_inquiry

    submit_create(
        form=f"{prefix}inquiry",
        url=url,
        payload=payload,
        labels=labels,
        create=create_inquiry,
        actor=actor,
        describe=lambda row: text["saved"].format(id=row.id, link=customer_link(row.customer_id)),
        overview=True,
    )


# --------------------------------------------------------------------------- order
ORDER_KEYS = {
    "header": "entry.order_header",
    "lines_help": "entry.order_lines_help",
    "fields": {
        "product_id": "entry.order_field_product_id",
        "quantity": "entry.order_field_quantity",
        "unit_price": "entry.order_field_unit_price",
        "discount": "entry.order_field_discount",
        "discount_pct": "entry.order_field_discount_pct",
        "amount": "entry.order_field_amount",
        "lines": "entry.order_field_lines",
        "ordered_at": "entry.order_field_ordered_at",
        "status": "entry.order_field_status",
        "payment_due": "entry.order_field_payment_due",
        "delivery_due": "entry.order_field_delivery_due",
        "campaign_id": "entry.order_field_campaign_id",
        "promotion": "entry.order_field_promotion",
        "notes": "entry.order_field_notes",
    },
    "total": "entry.order_total",
    "lines_count": "entry.order_lines_count",
    "submit": "entry.order_submit",
    "saved": "entry.order_saved",
    "no_products": "entry.order_no_products",
}
LINE_COLUMNS = ["product", "quantity", "unit_price", "discount_pct"]


def order_lines(editor: pd.DataFrame, products: pd.DataFrame) -> tuple[list[dict], pd.DataFrame]:
    """Order lines from the editor rows (blank rows skipped, list price filled in) and a
    preview frame with each line's amount, for the totals shown while typing."""
    by_label = {f"{row.code} · {row.name}": row for row in products.itertuples(index=False)}
    lines: list[dict] = []
    preview = []
    for row in editor.to_dict("records"):
        label = row.get("product")
        if not label or (isinstance(label, float) and pd.isna(label)):
            continue
        product = by_label.get(label)
        quantity = _money(row.get("quantity"))
        price = _money(row.get("unit_price"))
        discount_pct = _money(row.get("discount_pct")) or Decimal(0)
        if price is None and product is not None:
            price = Decimal(str(product.unit_price))
        line = {
            "product_id": int(product.id) if product is not None else None,
            "quantity": quantity,
            "unit_price": price,
            "unit_cost": Decimal(str(product.unit_cost)) if product is not None else None,
            "discount": (discount_pct / 100) if discount_pct is not None else Decimal(0),
        }
        lines.append(line)
        amount = (
            (quantity * price * (1 - line["discount"])).quantize(Decimal("0.01"))
            if quantity is not None and price is not None
            else None
        )
        preview.append(
            {"product": label, "quantity": quantity, "unit_price": price, "amount": amount}
        )
    return lines, pd.DataFrame(preview, columns=["product", "quantity", "unit_price", "amount"])


def order_form(*, actor: Actor, url: str, customer_id: int | None, prefix: str = "") -> None:
    """An order with lines: the lines are edited outside the form, so totals follow each
    edit; the header fields and the save button are in the form."""
    text = localised(ORDER_KEYS)
    labels = text["fields"]
    products = load_entry_choices(url, "products")
    campaigns = load_entry_choices(url, "campaigns")
    tz_name = load_timezone_name(url)
    if products.empty:
        st.info(text["no_products"])
        return
    nonce = _submission_state(f"{prefix}order")["nonce"]
    product_labels = [f"{row.code} · {row.name}" for row in products.itertuples(index=False)]
    st.caption(text["lines_help"])
    editor = st.data_editor(
        pd.DataFrame(
            {"product": [None], "quantity": [1.0], "unit_price": [None], "discount_pct": [0.0]}
        ).astype({"product": "object", "unit_price": "float"}),
        num_rows="dynamic",
        key=f"{prefix}order_form_lines_{nonce}",
        width="stretch",
        column_config={
            "product": st.column_config.SelectboxColumn(
                labels["product_id"], options=product_labels, required=True
            ),
            "quantity": st.column_config.NumberColumn(labels["quantity"], min_value=0),
            "unit_price": st.column_config.NumberColumn(labels["unit_price"], min_value=0),
            "discount_pct": st.column_config.NumberColumn(
                labels["discount_pct"], min_value=0, max_value=100
            ),
        },
    )
    lines, preview = order_lines(editor, products)
    total = sum((amount for amount in preview["amount"] if amount is not None), Decimal(0))
    left, right = st.columns(2)
    left.metric(text["total"], f"{total:,.0f} VND")
    right.metric(text["lines_count"], len(lines))
    campaign_names = {int(row.id): row.name for row in campaigns.itertuples(index=False)}
    with st.form(f"{prefix}order_form", clear_on_submit=True):
        left, middle, right = st.columns(3)
        ordered_on = left.date_input(
            labels["ordered_at"],
            value=entry_now(url, tz_name).date(),
            key=f"{prefix}order_form_ordered_at",
        )
        status = middle.selectbox(
            labels["status"],
            _options(OrderStatus),
            format_func=enum_names(OrderStatus),
            index=1,
            key=f"{prefix}order_form_status",
        )
        campaign_id = right.selectbox(
            labels["campaign_id"],
            [None, *campaign_names],
            format_func=lambda cid: "—" if cid is None else campaign_names.get(cid, str(cid)),
            key=f"{prefix}order_form_campaign_id",
        )
        payment_due = left.date_input(
            labels["payment_due"], value=None, key=f"{prefix}order_form_payment_due"
        )
        delivery_due = middle.date_input(
            labels["delivery_due"], value=None, key=f"{prefix}order_form_delivery_due"
        )
        promotion = right.text_input(
            labels["promotion"], key=f"{prefix}order_form_promotion", max_chars=200
        )
        notes = st.text_area(labels["notes"], key=f"{prefix}order_form_notes", max_chars=2000)
        submitted = st.form_submit_button(text["submit"], key=f"{prefix}order_form_submit")
    if not submitted or not _need_customer(customer_id):
        return
    now = entry_now(url, tz_name)
    payload = {
        "customer_id": customer_id,
        "user_id": actor.user_id,
        "ordered_at": local_to_utc(ordered_on or now.date(), now.time(), tz_name),
        "status": status,
        "campaign_id": campaign_id,
        "payment_due": payment_due,
        "delivery_due": delivery_due,
        "promotion": _none_if_blank(promotion),
        "notes": _none_if_blank(notes),
        "lines": lines,
    }
    from app.services.sales import create_order

    saved = submit_create(
        form=f"{prefix}order",
        url=url,
        payload=payload,
        labels=labels,
        create=create_order,
        actor=actor,
        describe=lambda row: text["saved"].format(
            code=md_escape(row.code),
            amount=f"{row.amount:,.0f}",
            currency=row.currency,
            link=customer_link(row.customer_id),
        ),
        overview=True,
    )
    if saved is not None:
        st.session_state.pop(f"{prefix}order_form_lines_{nonce}", None)


# --------------------------------------------------------------------------- opportunity
OPPORTUNITY_KEYS = {
    "header": "entry.opportunity_header",
    "fields": {
        "title": "entry.opportunity_field_title",
        "amount": "entry.opportunity_field_amount",
        "stage": "entry.opportunity_field_stage",
        "expected_close": "entry.opportunity_field_expected_close",
        "campaign_id": "entry.opportunity_field_campaign_id",
        "opportunity": "entry.opportunity_field_opportunity",
        "to_stage": "entry.opportunity_field_to_stage",
        "lost_reason": "entry.opportunity_field_lost_reason",
        "input": "entry.opportunity_field_input",
    },
    "submit": "entry.opportunity_submit",
    "move_header": "entry.opportunity_move_header",
    "move_submit": "entry.opportunity_move_submit",
    "none_open": "entry.opportunity_none_open",
    "saved": "entry.opportunity_saved",
    "moved": "entry.opportunity_moved",
}


def opportunity_forms(*, actor: Actor, url: str, customer_id: int | None, prefix: str = "") -> None:
    """Create an opportunity; move an open one to another stage."""
    text = localised(OPPORTUNITY_KEYS)
    labels = text["fields"]
    campaigns = load_entry_choices(url, "campaigns")
    campaign_names = {int(row.id): row.name for row in campaigns.itertuples(index=False)}
    with st.form(f"{prefix}opportunity_form", clear_on_submit=True):
        title = st.text_input(labels["title"], key=f"{prefix}opportunity_form_title", max_chars=200)
        left, middle, right = st.columns(3)
        amount = left.number_input(
            labels["amount"], value=None, step=1_000_000.0, key=f"{prefix}opportunity_form_amount"
        )
        stage = middle.selectbox(
            labels["stage"],
            _options(Stage, OPEN_STAGES),
            format_func=enum_names(Stage),
            key=f"{prefix}opportunity_form_stage",
        )
        expected_close = right.date_input(
            labels["expected_close"], value=None, key=f"{prefix}opportunity_form_expected_close"
        )
        campaign_id = left.selectbox(
            labels["campaign_id"],
            [None, *campaign_names],
            format_func=lambda cid: "—" if cid is None else campaign_names.get(cid, str(cid)),
            key=f"{prefix}opportunity_form_campaign_id",
        )
        submitted = st.form_submit_button(text["submit"], key=f"{prefix}opportunity_form_submit")
    if submitted and _need_customer(customer_id):
        payload = {
            "customer_id": customer_id,
            "title": title,
            "amount": _money(amount) if amount is not None else Decimal(0),
            "stage": stage,
            "expected_close": expected_close,
            "campaign_id": campaign_id,
            "owner_id": actor.user_id,
        }
        from app.services.sales import create_opportunity

        submit_create(
            form=f"{prefix}opportunity",
            url=url,
            payload=payload,
            labels=labels,
            create=create_opportunity,
            actor=actor,
            describe=lambda row: text["saved"].format(
                id=row.id, stage=enum_label(row.stage), link=customer_link(row.customer_id)
            ),
            clears=("items",),
            overview=True,
        )

    st.subheader(text["move_header"])
    open_items = (
        load_customer_open_items(url, customer_id, "opportunities", *actor_key(actor))
        if customer_id is not None
        else pd.DataFrame(columns=["id", "title", "stage"])
    )
    if open_items.empty:
        st.caption(text["none_open"])
        return
    stage_names = enum_names(Stage)
    names = {
        int(row.id): f"#{row.id} {row.title} ({stage_names(row.stage)})"
        for row in open_items.itertuples(index=False)
    }
    with st.form(f"{prefix}stage_form", clear_on_submit=True):
        opportunity_id = st.selectbox(
            labels["opportunity"],
            list(names),
            format_func=lambda oid: names.get(oid, str(oid)),
            key=f"{prefix}stage_form_opportunity_id",
        )
        to_stage = st.selectbox(
            labels["to_stage"],
            _options(Stage),
            format_func=enum_names(Stage),
            key=f"{prefix}stage_form_to_stage",
        )
        lost_reason = st.text_input(
            labels["lost_reason"], key=f"{prefix}stage_form_lost_reason", max_chars=200
        )
        moved = st.form_submit_button(text["move_submit"], key=f"{prefix}stage_form_submit")
    if not moved:
        return
    change = {"to_stage": to_stage, "lost_reason": _none_if_blank(lost_reason)}
    from app.services.sales import move_opportunity_stage

    submit(
        form=f"{prefix}stage",
        url=url,
        payload={"opportunity_id": opportunity_id, **change},
        labels={**labels, "input": labels["lost_reason"]},
        action=lambda session, _key: move_opportunity_stage(
            session=session, actor=actor, opportunity_id=opportunity_id, change=change
        ),
        describe=lambda row: text["moved"].format(
            id=row.id, stage=enum_label(row.stage), link=customer_link(row.customer_id)
        ),
        clears=("items",),
        overview=True,
    )


# --------------------------------------------------------------------------- complaint
COMPLAINT_KEYS = {
    "header": "entry.complaint_header",
    "fields": {
        "category": "entry.complaint_field_category",
        "severity": "entry.complaint_field_severity",
        "channel": "entry.complaint_field_channel",
        "description": "entry.complaint_field_description",
        "complaint": "entry.complaint_field_complaint",
        "note": "entry.complaint_field_note",
        "resolution": "entry.complaint_field_resolution",
        "close": "entry.complaint_field_close",
        "first_response_at": "entry.complaint_field_first_response_at",
        "resolved_at": "entry.complaint_field_resolved_at",
        "input": "entry.complaint_field_input",
    },
    "submit": "entry.complaint_submit",
    "respond_header": "entry.complaint_respond_header",
    "respond_submit": "entry.complaint_respond_submit",
    "resolve_header": "entry.complaint_resolve_header",
    "resolve_submit": "entry.complaint_resolve_submit",
    "none_open": "entry.complaint_none_open",
    "saved": "entry.complaint_saved",
    "responded": "entry.complaint_responded",
    "resolved": "entry.complaint_resolved",
}


def complaint_forms(*, actor: Actor, url: str, customer_id: int | None, prefix: str = "") -> None:
    """Complaint intake, first response and resolution."""
    text = localised(COMPLAINT_KEYS)
    labels = text["fields"]
    from app.services.care import create_complaint, record_first_response, resolve_complaint

    with st.form(f"{prefix}complaint_form", clear_on_submit=True):
        left, middle, right = st.columns(3)
        category = left.text_input(
            labels["category"], key=f"{prefix}complaint_form_category", max_chars=80
        )
        severity = middle.selectbox(
            labels["severity"],
            _options(Severity),
            format_func=enum_names(Severity),
            index=1,
            key=f"{prefix}complaint_form_severity",
        )
        channel = right.selectbox(
            labels["channel"],
            [None, *_options(InteractionKind)],
            format_func=enum_names(InteractionKind),
            key=f"{prefix}complaint_form_channel",
        )
        description = st.text_area(
            labels["description"], key=f"{prefix}complaint_form_description", max_chars=4000
        )
        submitted = st.form_submit_button(text["submit"], key=f"{prefix}complaint_form_submit")
    if submitted and _need_customer(customer_id):
        payload = {
            "customer_id": customer_id,
            "category": category,
            "severity": severity,
            "channel": channel,
            "description": _none_if_blank(description),
            "owner_id": actor.user_id,
        }
        submit_create(
            form=f"{prefix}complaint",
            url=url,
            payload=payload,
            labels=labels,
            create=create_complaint,
            actor=actor,
            describe=lambda row: text["saved"].format(
                id=row.id, severity=enum_label(row.severity), link=customer_link(row.customer_id)
            ),
            clears=("items",),
            overview=True,
        )

    open_items = (
        load_customer_open_items(url, customer_id, "complaints", *actor_key(actor))
        if customer_id is not None
        else pd.DataFrame(columns=["id", "category", "status", "responded"])
    )
    st.subheader(text["respond_header"])
    if open_items.empty:
        st.caption(text["none_open"])
        return
    status_names = enum_names(ComplaintStatus)
    names = {
        int(row.id): f"#{row.id} {row.category} ({status_names(row.status)})"
        for row in open_items.itertuples(index=False)
    }
    waiting = [int(row.id) for row in open_items.itertuples(index=False) if not row.responded]
    if waiting:
        with st.form(f"{prefix}response_form", clear_on_submit=True):
            complaint_id = st.selectbox(
                labels["complaint"],
                waiting,
                format_func=lambda cid: names.get(cid, str(cid)),
                key=f"{prefix}response_form_complaint_id",
            )
            note = st.text_area(labels["note"], key=f"{prefix}response_form_note", max_chars=2000)
            responded = st.form_submit_button(
                text["respond_submit"], key=f"{prefix}response_form_submit"
            )
        if responded:
            submit(
                form=f"{prefix}response",
                url=url,
                payload={"complaint_id": complaint_id, "note": note},
                labels=labels,
                action=lambda session, _key: record_first_response(
                    session=session,
                    actor=actor,
                    complaint_id=complaint_id,
                    note=_none_if_blank(note),
                ),
                describe=lambda row: text["responded"].format(
                    id=row.id, link=customer_link(row.customer_id)
                ),
                clears=("items",),
                overview=True,
            )
    st.subheader(text["resolve_header"])
    with st.form(f"{prefix}resolution_form", clear_on_submit=True):
        complaint_id = st.selectbox(
            labels["complaint"],
            list(names),
            format_func=lambda cid: names.get(cid, str(cid)),
            key=f"{prefix}resolution_form_complaint_id",
        )
        resolution = st.text_area(
            labels["resolution"], key=f"{prefix}resolution_form_resolution", max_chars=4000
        )
        close = st.checkbox(labels["close"], key=f"{prefix}resolution_form_close")
        resolved = st.form_submit_button(
            text["resolve_submit"], key=f"{prefix}resolution_form_submit"
        )
    if resolved:
        submit(
            form=f"{prefix}resolution",
            url=url,
            payload={"complaint_id": complaint_id, "resolution": resolution, "close": close},
            labels=labels,
            action=lambda session, _key: resolve_complaint(
                session=session,
                actor=actor,
                complaint_id=complaint_id,
                resolution=resolution,
                close=close,
            ),
            describe=lambda row: text["resolved"].format(
                id=row.id, status=enum_label(row.status), link=customer_link(row.customer_id)
            ),
            clears=("items",),
            overview=True,
        )


# --------------------------------------------------------------------------- survey
SURVEY_KEYS = {
    "header": "entry.survey_header",
    "fields": {
        "nps": "entry.survey_field_nps",
        "csat": "entry.survey_field_csat",
        "comment": "entry.survey_field_comment",
        "input": "entry.survey_field_input",
    },
    "submit": "entry.survey_submit",
    "saved": "entry.survey_saved",
}


def survey_form(*, actor: Actor, url: str, customer_id: int | None, prefix: str = "") -> None:
    """An NPS and/or CSAT answer with a comment."""
    text = localised(SURVEY_KEYS)
    labels = text["fields"]
    with st.form(f"{prefix}survey_form", clear_on_submit=True):
        left, right = st.columns(2)
        nps = left.number_input(labels["nps"], value=None, step=1, key=f"{prefix}survey_form_nps")
        csat = right.number_input(
            labels["csat"], value=None, step=1, key=f"{prefix}survey_form_csat"
        )
        comment = st.text_area(
            labels["comment"], key=f"{prefix}survey_form_comment", max_chars=4000
        )
        submitted = st.form_submit_button(text["submit"], key=f"{prefix}survey_form_submit")
    if not submitted or not _need_customer(customer_id):
        return
    payload = {
        "customer_id": customer_id,
        "nps": int(nps) if nps is not None else None,
        "csat": int(csat) if csat is not None else None,
        "comment": _none_if_blank(comment),
    }
    from app.services.care import create_survey_response

    submit_create(
        form=f"{prefix}survey",
        url=url,
        payload=payload,
        labels=labels,
        create=create_survey_response,
        actor=actor,
        describe=lambda row: text["saved"].format(id=row.id, link=customer_link(row.customer_id)),
        overview=True,
    )


# --------------------------------------------------------------------------- campaign
CAMPAIGN_KEYS = {
    "header": "entry.campaign_header",
    "fields": {
        "name": "entry.campaign_field_name",
        "channel": "entry.campaign_field_channel",
        "purpose": "entry.campaign_field_purpose",
        "start_date": "entry.campaign_field_start_date",
        "end_date": "entry.campaign_field_end_date",
        "budget": "entry.campaign_field_budget",
        "target_segment": "entry.campaign_field_target_segment",
        "description": "entry.campaign_field_description",
        "campaign": "entry.campaign_field_campaign",
        "amount": "entry.campaign_field_amount",
        "customer_ids": "entry.campaign_field_customer_ids",
        "customer_id": "entry.campaign_field_customer_id",
        "converted": "entry.campaign_field_converted",
        "input": "entry.campaign_field_input",
    },
    "submit": "entry.campaign_submit",
    "cost_header": "entry.campaign_cost_header",
    "cost_submit": "entry.campaign_cost_submit",
    "member_header": "entry.campaign_member_header",
    "member_submit": "entry.campaign_member_submit",
    "response_submit": "entry.campaign_response_submit",
    "no_campaigns": "entry.campaign_no_campaigns",
    "saved": "entry.campaign_saved",
    "cost_saved": "entry.campaign_cost_saved",
    "member_saved": "entry.campaign_member_saved",
    "response_saved": "entry.campaign_response_saved",
}


def campaign_forms(*, actor: Actor, url: str, customer_id: int | None) -> None:
    """Create a campaign, record its costs (managers); add members and responses."""
    text = localised(CAMPAIGN_KEYS)
    labels = text["fields"]
    from app.services.catalogue import (
        add_campaign_members,
        create_campaign,
        record_campaign_cost,
        record_campaign_response,
    )

    if actor.can(Permission.catalogue):
        st.subheader(text["header"])
        with st.form("campaign_form", clear_on_submit=True):
            name = st.text_input(labels["name"], key="campaign_form_name", max_chars=200)
            left, middle, right = st.columns(3)
            channel = left.selectbox(
                labels["channel"],
                _options(CampaignChannel),
                format_func=enum_names(CampaignChannel),
                key="campaign_form_channel",
            )
            purpose = middle.selectbox(
                labels["purpose"],
                _options(CampaignPurpose),
                format_func=enum_names(CampaignPurpose),
                key="campaign_form_purpose",
            )
            budget = right.number_input(
                labels["budget"], value=None, step=1_000_000.0, key="campaign_form_budget"
            )
            start = left.date_input(
                labels["start_date"], value=None, key="campaign_form_start_date"
            )
            end = middle.date_input(labels["end_date"], value=None, key="campaign_form_end_date")
            segment = right.text_input(
                labels["target_segment"], key="campaign_form_target_segment", max_chars=60
            )
            description = st.text_area(
                labels["description"], key="campaign_form_description", max_chars=2000
            )
            submitted = st.form_submit_button(text["submit"], key="campaign_form_submit")
        if submitted:
            payload = {
                "name": name,
                "channel": channel,
                "purpose": purpose,
                "start_date": start,
                "end_date": end,
                "budget": _money(budget) if budget is not None else Decimal(0),
                "target_segment": _none_if_blank(segment),
                "description": _none_if_blank(description),
            }
            submit_create(
                form="campaign",
                url=url,
                payload=payload,
                labels=labels,
                create=create_campaign,
                actor=actor,
                describe=lambda row: text["saved"].format(id=row.id, name=md_escape(row.name)),
                clears=("campaigns",),
            )

    campaigns = load_entry_choices(url, "campaigns")
    if campaigns.empty:
        st.caption(text["no_campaigns"])
        return
    names = {int(row.id): row.name for row in campaigns.itertuples(index=False)}

    def pick(form: str):  # noqa: ANN202
        return st.selectbox(
            labels["campaign"],
            list(names),
            format_func=lambda cid: names.get(cid, str(cid)),
            key=f"{form}_form_campaign_id",
        )

    if actor.can(Permission.catalogue):
        st.subheader(text["cost_header"])
        with st.form("campaign_cost_form", clear_on_submit=True):
            campaign_id = pick("campaign_cost")
            amount = st.text_input(labels["amount"], key="campaign_cost_form_amount")
            added = st.form_submit_button(text["cost_submit"], key="campaign_cost_form_submit")
        if added:
            value = _money(amount.replace(".", "").replace(",", "")) if amount else None
            submit(
                form="campaign_cost",
                url=url,
                payload={"campaign_id": campaign_id, "amount": amount},
                labels=labels,
                action=lambda session, _key: record_campaign_cost(
                    session=session,
                    actor=actor,
                    campaign_id=campaign_id,
                    amount=value if value is not None else "x",
                ),
                describe=lambda row: text["cost_saved"].format(
                    name=md_escape(row.name), cost=f"{row.actual_cost:,.0f}"
                ),
            )

    st.subheader(text["member_header"])
    with st.form("campaign_member_form", clear_on_submit=True):
        campaign_id = pick("campaign_member")
        member = st.form_submit_button(text["member_submit"], key="campaign_member_form_submit")
    if member and _need_customer(customer_id):
        submit(
            form="campaign_member",
            url=url,
            payload={"campaign_id": campaign_id, "customer_id": customer_id},
            labels=labels,
            action=lambda session, _key: add_campaign_members(
                session=session, actor=actor, campaign_id=campaign_id, customer_ids=[customer_id]
            ),
            describe=lambda count: text["member_saved"].format(count=count),
            clears=("items",),
        )
    memberships = (
        load_customer_open_items(url, customer_id, "memberships", *actor_key(actor))
        if customer_id is not None
        else pd.DataFrame(columns=["id", "name", "responded"])
    )
    if memberships.empty:
        return
    member_names = {int(row.id): row.name for row in memberships.itertuples(index=False)}
    with st.form("campaign_response_form", clear_on_submit=True):
        campaign_id = st.selectbox(
            labels["campaign"],
            list(member_names),
            format_func=lambda cid: member_names.get(cid, str(cid)),
            key="campaign_response_form_campaign_id",
        )
        converted = st.checkbox(labels["converted"], key="campaign_response_form_converted")
        responded = st.form_submit_button(
            text["response_submit"], key="campaign_response_form_submit"
        )
    if responded and _need_customer(customer_id):
        submit(
            form="campaign_response",
            url=url,
            payload={"campaign_id": campaign_id, "customer_id": customer_id, "c": converted},
            labels=labels,
            action=lambda session, _key: record_campaign_response(
                session=session,
                actor=actor,
                campaign_id=campaign_id,
                customer_id=customer_id,
                converted=converted,
            ),
            describe=lambda row: text["response_saved"].format(id=row.campaign_id),
            clears=("items",),
        )


# --------------------------------------------------------------------------- partner
PARTNER_KEYS = {
    "header": "entry.partner_header",
    "fields": {
        "name": "entry.partner_field_name",
        "kind": "entry.partner_field_kind",
        "province": "entry.partner_field_province",
        "phone": "entry.partner_field_phone",
        "email": "entry.partner_field_email",
        "notes": "entry.partner_field_notes",
        "partner_id": "entry.partner_field_partner_id",
        "other_partner_id": "entry.partner_field_other_partner_id",
        "customer_id": "entry.partner_field_customer_id",
        "target": "entry.partner_field_target",
        "relation": "entry.partner_field_relation",
        "since": "entry.partner_field_since",
        "input": "entry.partner_field_input",
    },
    "targets": {
        "partner": "entry.partner_targets_partner",
        "customer": "entry.partner_targets_customer",
    },
    "submit": "entry.partner_submit",
    "link_header": "entry.partner_link_header",
    "link_submit": "entry.partner_link_submit",
    "manager_only": "entry.partner_manager_only",
    "saved": "entry.partner_saved",
    "link_saved": "entry.partner_link_saved",
}


def partner_forms(*, actor: Actor, url: str, customer_id: int | None) -> None:
    """Create partners and link them to partners or customers (managers)."""
    text = localised(PARTNER_KEYS)
    labels = text["fields"]
    if not actor.can(Permission.catalogue):
        st.caption(text["manager_only"])
        return
    from app.services.catalogue import create_partner, create_partner_link

    with st.form("partner_form", clear_on_submit=True):
        left, right = st.columns(2)
        name = left.text_input(labels["name"], key="partner_form_name", max_chars=200)
        kind = right.selectbox(
            labels["kind"],
            _options(PartnerKind),
            format_func=enum_names(PartnerKind),
            key="partner_form_kind",
        )
        province = left.text_input(labels["province"], key="partner_form_province", max_chars=60)
        phone = right.text_input(labels["phone"], key="partner_form_phone", max_chars=20)
        email = left.text_input(labels["email"], key="partner_form_email", max_chars=254)
        notes = st.text_area(labels["notes"], key="partner_form_notes", max_chars=2000)
        submitted = st.form_submit_button(text["submit"], key="partner_form_submit")
    if submitted:
        payload = {
            "name": name,
            "kind": kind,
            "province": _none_if_blank(province),
            "phone": _none_if_blank(phone),
            "email": _none_if_blank(email),
            "notes": _none_if_blank(notes),
        }
        submit_create(
            form="partner",
            url=url,
            payload=payload,
            labels=labels,
            create=create_partner,
            actor=actor,
            describe=lambda row: text["saved"].format(id=row.id, name=md_escape(row.name)),
            clears=("partners",),
        )
    partners = load_entry_choices(url, "partners")
    if partners.empty:
        # Archived partners can still be restored.
        from components.record_actions import partner_archive_panel

        partner_archive_panel(actor=actor, url=url)
        return
    names = {int(row.id): f"{row.name} ({row.kind})" for row in partners.itertuples(index=False)}
    st.subheader(text["link_header"])
    with st.form("partner_link_form", clear_on_submit=True):
        left, right = st.columns(2)
        partner_id = left.selectbox(
            labels["partner_id"],
            list(names),
            format_func=lambda pid: names.get(pid, str(pid)),
            key="partner_link_form_partner_id",
        )
        target = right.radio(
            labels["target"],
            list(text["targets"]),
            format_func=text["targets"].get,
            key="partner_link_form_target",
            horizontal=True,
        )
        other_id = left.selectbox(
            labels["other_partner_id"],
            [None, *names],
            format_func=lambda pid: "—" if pid is None else names.get(pid, str(pid)),
            key="partner_link_form_other_partner_id",
        )
        relation = right.text_input(
            labels["relation"], key="partner_link_form_relation", max_chars=80
        )
        since = left.date_input(labels["since"], value=None, key="partner_link_form_since")
        linked = st.form_submit_button(text["link_submit"], key="partner_link_form_submit")
    if linked:
        payload = {
            "partner_id": partner_id,
            "other_partner_id": other_id if target == "partner" else None,
            "customer_id": customer_id if target == "customer" else None,
            "relation": relation,
            "since": since,
        }
        submit_create(
            form="partner_link",
            url=url,
            payload=payload,
            labels=labels,
            create=create_partner_link,
            actor=actor,
            describe=lambda row: text["link_saved"].format(id=row.id),
        )
    from components.record_actions import partner_archive_panel

    partner_archive_panel(actor=actor, url=url)


# --------------------------------------------------------------------------- target
TARGET_KEYS = {
    "header": "entry.target_header",
    "fields": {
        "kpi_id": "entry.target_field_kpi_id",
        "period_start": "entry.target_field_period_start",
        "period_end": "entry.target_field_period_end",
        "segment": "entry.target_field_segment",
        "target_value": "entry.target_field_target_value",
        "input": "entry.target_field_input",
    },
    "submit": "entry.target_submit",
    "manager_only": "entry.target_manager_only",
    "saved": "entry.target_saved",
}


def target_form(*, actor: Actor, url: str) -> None:
    """A KPI target for a period and optional segment (managers)."""
    text = localised(TARGET_KEYS)
    labels = text["fields"]
    if not actor.can(Permission.targets):
        st.caption(text["manager_only"])
        return
    from app.kpi.registry import all_kpis
    from app.services.catalogue import create_target

    english = current_language() == "en"
    kpis = {
        kpi_id: definition.label_en if english else definition.label_vi
        for kpi_id, definition in all_kpis().items()
    }
    with st.form("target_form", clear_on_submit=True):
        kpi_id = st.selectbox(
            labels["kpi_id"],
            list(kpis),
            format_func=lambda value: f"{kpis.get(value, value)} ({value})",
            key="target_form_kpi_id",
        )
        left, middle, right = st.columns(3)
        start = left.date_input(labels["period_start"], value=None, key="target_form_period_start")
        end = middle.date_input(labels["period_end"], value=None, key="target_form_period_end")
        value = right.number_input(
            labels["target_value"], value=None, key="target_form_target_value"
        )
        segment = st.text_input(labels["segment"], key="target_form_segment", max_chars=60)
        submitted = st.form_submit_button(text["submit"], key="target_form_submit")
    if not submitted:
        return
    payload = {
        "kpi_id": kpi_id,
        "period_start": start,
        "period_end": end,
        "segment": _none_if_blank(segment),
        "target_value": _money(value),
    }
    submit_create(
        form="target",
        url=url,
        payload=payload,
        labels=labels,
        create=create_target,
        actor=actor,
        describe=lambda row: text["saved"].format(
            kpi=md_escape(row.kpi_id),
            start=row.period_start,
            end=row.period_end,
            value=row.target_value,
        ),
    )
