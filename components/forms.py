"""Data-entry forms: one render function per record type, sharing one submission path.

Every form follows style.md convention 10: ``st.form("<entity>_form",
clear_on_submit=True)``, widget keys ``"<entity>_form_<field>"``, the submission handled
after the form (validate through the service, clear the cached reads it affects, then
``st.success`` or ``st.error`` per field). All user-visible text of a form sits in its
``*_TEXT`` dict, ready for the translation layer.

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

from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.models import (
    OPEN_STAGES,
    CampaignChannel,
    CampaignPurpose,
    Channel,
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
    search_customer_options,
)

REPEAT_WINDOW_SECONDS = 60
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")

PICKER_TEXT = {
    "search": "Find a customer (name, code or phone)",
    "search_help": "Accents and case are ignored: 'thanh phu' finds 'Thanh Phú'.",
    "customer": "Customer",
    "none": "No customer matches; try part of the name, the code or the phone number.",
    "hint": "Pick a customer above to enter records for them.",
}
COMMON_TEXT = {
    "saved_again": "Already saved (a repeated submission): {what}.",
    "open_customer": "open the customer",
    "no_customer": "Pick a customer first (search above the tabs).",
}


# --------------------------------------------------------------------------- helpers
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
            label = f"Line {int(parts[1]) + 1}" + (
                f" {labels.get(parts[2], parts[2])}" if len(parts) > 2 else ""
            )
        st.error(f"**{md_escape(label)}**: {md_escape(message)}", icon=":material/error:")


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
    except (PermissionDenied, NotFound, Conflict) as exc:
        st.error(md_escape(exc), icon=":material/block:")
        return None
    if overview:
        clear_overview_cache()
    if clears:
        clear_entry_caches(*clears)
    repeated = _remember(form, payload, key)
    if repeated:
        st.info(COMMON_TEXT["saved_again"].format(what=message), icon=":material/info:")
    else:
        st.success(message, icon=":material/check_circle:")
    return record


def customer_link(customer_id: int, text: str | None = None) -> str:
    """A Markdown link to the customer 360° page."""
    return f"[{text or COMMON_TEXT['open_customer']}](customer?id={int(customer_id)})"


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


def _options(enum_cls: type, values: Any = None) -> list[str]:
    return [member.value for member in (values or enum_cls)]


def _none_if_blank(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


# --------------------------------------------------------------------------- customer picker
def customer_picker(*, actor: Actor, url: str, key_prefix: str = "entry") -> int | None:
    """Type-ahead customer search (≤ 20 matches); returns the chosen customer's id."""
    query = st.text_input(
        PICKER_TEXT["search"],
        key=f"{key_prefix}_customer_search",
        help=PICKER_TEXT["search_help"],
        max_chars=100,
    )
    matches = search_customer_options(url, query or "", *actor_key(actor))
    if matches.empty:
        st.caption(PICKER_TEXT["none"])
        return None
    labels = dict(zip(matches["customer_id"].tolist(), matches["label"].tolist(), strict=True))
    return st.selectbox(
        PICKER_TEXT["customer"],
        options=list(labels),
        format_func=lambda customer_id: labels.get(customer_id, str(customer_id)),
        key=f"{key_prefix}_customer_id",
    )


def _need_customer(customer_id: int | None) -> bool:
    if customer_id is None:
        st.error(COMMON_TEXT["no_customer"], icon=":material/person_search:")
        return False
    return True


# --------------------------------------------------------------------------- interaction
INTERACTION_TEXT = {
    "header": "Log an interaction",
    "fields": {
        "customer_id": "Customer",
        "kind": "Kind",
        "direction": "Direction",
        "occurred_at": "Occurred at",
        "occurred_on": "Date",
        "occurred_time": "Time",
        "subject": "Subject",
        "notes": "Notes",
        "outcome": "Outcome",
        "follow_up_due": "Follow-up date",
    },
    "submit": "Save interaction",
    "saved": "Saved interaction #{id} ({kind}: {subject}) — {link}.",
}


def interaction_form(*, actor: Actor, url: str, customer_id: int | None) -> None:
    """Log a call, email, meeting... with the customer picked above."""
    text = INTERACTION_TEXT
    labels = text["fields"]
    tz_name = load_timezone_name(url)
    now = local_now(tz_name)
    with st.form("interaction_form", clear_on_submit=True):
        left, middle, right = st.columns(3)
        kind = left.selectbox(
            labels["kind"], _options(InteractionKind), key="interaction_form_kind"
        )
        direction = middle.selectbox(
            labels["direction"], _options(Direction), index=1, key="interaction_form_direction"
        )
        day = right.date_input(labels["occurred_on"], value=now.date(), key="interaction_form_date")
        clock = right.time_input(
            labels["occurred_time"], value=now.time(), key="interaction_form_time", step=300
        )
        subject = st.text_input(labels["subject"], key="interaction_form_subject", max_chars=200)
        notes = st.text_area(labels["notes"], key="interaction_form_notes", max_chars=4000)
        left, right = st.columns(2)
        outcome = left.text_input(labels["outcome"], key="interaction_form_outcome", max_chars=200)
        follow_up = right.date_input(
            labels["follow_up_due"], value=None, key="interaction_form_follow_up_due"
        )
        submitted = st.form_submit_button(text["submit"], key="interaction_form_submit")
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

    submit(
        form="interaction",
        url=url,
        payload=payload,
        labels=labels,
        action=lambda session, key: create_interaction(
            session=session, actor=actor, data=payload, idempotency_key=key
        ),
        describe=lambda row: text["saved"].format(
            id=row.id,
            kind=row.kind.value,
            subject=md_escape(row.subject),
            link=customer_link(row.customer_id),
        ),
        clears=("items",),
    )


# --------------------------------------------------------------------------- customer, contact
CUSTOMER_TEXT = {
    "header": "New customer",
    "fields": {
        "code": "Code (blank: next free code)",
        "name": "Name",
        "kind": "Kind",
        "phone": "Phone",
        "email": "Email",
        "tax_code": "Tax code",
        "province": "Province",
        "segment": "Segment",
        "industry": "Industry",
        "address": "Address",
        "representative": "Representative",
        "channel": "Acquired via",
    },
    "submit": "Save customer",
    "saved": "Saved customer {code} · {name} — {link}.",
    "duplicates": "This customer may already exist. Open the existing record, or save anyway.",
    "save_anyway": "Save anyway",
    "discard": "Discard",
}


def customer_form(*, actor: Actor, url: str) -> None:
    """A new customer; likely duplicates are shown before anything is saved."""
    text = CUSTOMER_TEXT
    labels = text["fields"]
    with st.form("customer_form", clear_on_submit=True):
        name = st.text_input(labels["name"], key="customer_form_name", max_chars=200)
        left, middle, right = st.columns(3)
        kind = left.selectbox(labels["kind"], _options(CustomerKind), key="customer_form_kind")
        phone = middle.text_input(labels["phone"], key="customer_form_phone", max_chars=20)
        email = right.text_input(labels["email"], key="customer_form_email", max_chars=254)
        code = left.text_input(labels["code"], key="customer_form_code", max_chars=20)
        tax_code = middle.text_input(labels["tax_code"], key="customer_form_tax_code", max_chars=20)
        channel = right.selectbox(
            labels["channel"], [None, *_options(Channel)], key="customer_form_channel"
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
    st.warning(CUSTOMER_TEXT["duplicates"], icon=":material/content_copy:")
    for row in rows:
        st.markdown(
            f"- {customer_link(row['customer_id'], md_escape(row['code']))} · "
            f"{md_escape(row['name'])} — {md_escape(row['reason'])}"
        )


def _save_customer(*, actor: Actor, url: str, payload: dict, check_duplicates: bool) -> None:
    from app.services.customers import create_customer, next_customer_code
    from app.services.duplicates import likely_duplicates

    data = {key: value for key, value in payload.items() if not key.startswith("_")}
    if check_duplicates:
        try:
            with Session(engine(url)) as session:
                found = likely_duplicates(session=session, actor=actor, candidate=data)
        except (PermissionDenied, NotFound) as exc:
            st.error(md_escape(exc))
            return
        if not found.empty:
            rows = found.to_dict("records")
            st.session_state["customer_form__pending"] = {**payload, "_duplicates": rows}
            _show_duplicates(rows)
            left, right = st.columns(2)
            left.button(CUSTOMER_TEXT["save_anyway"], key="customer_form_save_anyway")
            right.button(CUSTOMER_TEXT["discard"], key="customer_form_discard")
            return

    def action(session: Session, key: str):  # noqa: ANN202
        values = dict(data)
        values["code"] = values.get("code") or next_customer_code(session=session)
        return create_customer(session=session, actor=actor, data=values, idempotency_key=key)

    submit(
        form="customer",
        url=url,
        payload=data,
        labels=CUSTOMER_TEXT["fields"],
        action=action,
        describe=lambda row: CUSTOMER_TEXT["saved"].format(
            code=md_escape(row.code), name=md_escape(row.name), link=customer_link(row.id)
        ),
        clears=("customers",),
        overview=True,
    )


CONTACT_TEXT = {
    "header": "Contact person",
    "fields": {
        "name": "Name",
        "title": "Title",
        "phone": "Phone",
        "email": "Email",
        "is_primary": "Primary contact",
    },
    "submit": "Save contact",
    "saved": "Saved contact {name} — {link}.",
}


def contact_form(*, actor: Actor, url: str, customer_id: int | None) -> None:
    """A contact person of the customer picked above."""
    text = CONTACT_TEXT
    labels = text["fields"]
    with st.form("contact_form", clear_on_submit=True):
        left, right = st.columns(2)
        name = left.text_input(labels["name"], key="contact_form_name", max_chars=120)
        title = right.text_input(labels["title"], key="contact_form_title", max_chars=80)
        phone = left.text_input(labels["phone"], key="contact_form_phone", max_chars=20)
        email = right.text_input(labels["email"], key="contact_form_email", max_chars=254)
        primary = st.checkbox(labels["is_primary"], key="contact_form_is_primary")
        submitted = st.form_submit_button(text["submit"], key="contact_form_submit")
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

    submit(
        form="contact",
        url=url,
        payload=payload,
        labels=labels,
        action=lambda session, key: create_contact(
            session=session, actor=actor, data=payload, idempotency_key=key
        ),
        describe=lambda row: text["saved"].format(
            name=md_escape(row.name), link=customer_link(row.customer_id)
        ),
    )


# --------------------------------------------------------------------------- inquiry
INQUIRY_TEXT = {
    "header": "Inquiry",
    "fields": {
        "product_id": "Product (optional)",
        "need": "What the customer asks for",
        "quantity": "Quantity",
        "asked_at": "Asked on",
        "status": "Status",
        "reason": "Reason (when unmet)",
    },
    "submit": "Save inquiry",
    "saved": "Saved inquiry #{id} — {link}.",
}


def _product_labels(url: str) -> dict[int, str]:
    products = load_entry_choices(url, "products")
    return {int(row.id): f"{row.code} · {row.name}" for row in products.itertuples(index=False)}


def inquiry_form(*, actor: Actor, url: str, customer_id: int | None) -> None:
    """An inquiry (hỏi hàng) of the customer picked above."""
    text = INQUIRY_TEXT
    labels = text["fields"]
    products = _product_labels(url)
    tz_name = load_timezone_name(url)
    with st.form("inquiry_form", clear_on_submit=True):
        need = st.text_area(labels["need"], key="inquiry_form_need", max_chars=500)
        left, middle, right = st.columns(3)
        product_id = left.selectbox(
            labels["product_id"],
            [None, *products],
            format_func=lambda pid: "—" if pid is None else products.get(pid, str(pid)),
            key="inquiry_form_product_id",
        )
        quantity = middle.number_input(
            labels["quantity"], value=None, step=1.0, key="inquiry_form_quantity"
        )
        asked_on = right.date_input(
            labels["asked_at"], value=local_now(tz_name).date(), key="inquiry_form_asked_at"
        )
        status = left.selectbox(
            labels["status"], _options(InquiryStatus), key="inquiry_form_status"
        )
        reason = st.text_input(labels["reason"], key="inquiry_form_reason", max_chars=500)
        submitted = st.form_submit_button(text["submit"], key="inquiry_form_submit")
    if not submitted or not _need_customer(customer_id):
        return
    now = local_now(tz_name)
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

    submit(
        form="inquiry",
        url=url,
        payload=payload,
        labels=labels,
        action=lambda session, key: create_inquiry(
            session=session, actor=actor, data=payload, idempotency_key=key
        ),
        describe=lambda row: text["saved"].format(id=row.id, link=customer_link(row.customer_id)),
    )


# --------------------------------------------------------------------------- order
ORDER_TEXT = {
    "header": "Order",
    "lines_help": "Add a line per product. A blank unit price takes the list price; "
    "discount is a percentage. Totals update as you edit.",
    "fields": {
        "product_id": "Product",
        "quantity": "Quantity",
        "unit_price": "Unit price",
        "discount": "Discount",
        "discount_pct": "Discount %",
        "amount": "Amount",
        "lines": "Lines",
        "ordered_at": "Ordered on",
        "status": "Status",
        "payment_due": "Payment due",
        "delivery_due": "Delivery due",
        "campaign_id": "Campaign",
        "promotion": "Promotion",
        "notes": "Notes",
    },
    "total": "Order total",
    "lines_count": "Lines",
    "submit": "Save order",
    "saved": "Saved order {code}, total {amount} {currency} — {link}.",
    "no_products": "There are no active products yet; a manager adds them first.",
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


def order_form(*, actor: Actor, url: str, customer_id: int | None) -> None:
    """An order with lines: the lines are edited outside the form, so totals follow each
    edit; the header fields and the save button are in the form."""
    text = ORDER_TEXT
    labels = text["fields"]
    products = load_entry_choices(url, "products")
    campaigns = load_entry_choices(url, "campaigns")
    tz_name = load_timezone_name(url)
    if products.empty:
        st.info(text["no_products"])
        return
    nonce = _submission_state("order")["nonce"]
    product_labels = [f"{row.code} · {row.name}" for row in products.itertuples(index=False)]
    st.caption(text["lines_help"])
    editor = st.data_editor(
        pd.DataFrame(
            {"product": [None], "quantity": [1.0], "unit_price": [None], "discount_pct": [0.0]}
        ).astype({"product": "object", "unit_price": "float"}),
        num_rows="dynamic",
        key=f"order_form_lines_{nonce}",
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
    with st.form("order_form", clear_on_submit=True):
        left, middle, right = st.columns(3)
        ordered_on = left.date_input(
            labels["ordered_at"], value=local_now(tz_name).date(), key="order_form_ordered_at"
        )
        status = middle.selectbox(
            labels["status"], _options(OrderStatus), index=1, key="order_form_status"
        )
        campaign_id = right.selectbox(
            labels["campaign_id"],
            [None, *campaign_names],
            format_func=lambda cid: "—" if cid is None else campaign_names.get(cid, str(cid)),
            key="order_form_campaign_id",
        )
        payment_due = left.date_input(
            labels["payment_due"], value=None, key="order_form_payment_due"
        )
        delivery_due = middle.date_input(
            labels["delivery_due"], value=None, key="order_form_delivery_due"
        )
        promotion = right.text_input(labels["promotion"], key="order_form_promotion", max_chars=200)
        notes = st.text_area(labels["notes"], key="order_form_notes", max_chars=2000)
        submitted = st.form_submit_button(text["submit"], key="order_form_submit")
    if not submitted or not _need_customer(customer_id):
        return
    now = local_now(tz_name)
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

    saved = submit(
        form="order",
        url=url,
        payload=payload,
        labels=labels,
        action=lambda session, key: create_order(
            session=session, actor=actor, data=payload, idempotency_key=key
        ),
        describe=lambda row: text["saved"].format(
            code=md_escape(row.code),
            amount=f"{row.amount:,.0f}",
            currency=row.currency,
            link=customer_link(row.customer_id),
        ),
        overview=True,
    )
    if saved is not None:
        st.session_state.pop(f"order_form_lines_{nonce}", None)


# --------------------------------------------------------------------------- opportunity
OPPORTUNITY_TEXT = {
    "header": "Opportunity",
    "fields": {
        "title": "Title",
        "amount": "Expected value (VND)",
        "stage": "Stage",
        "expected_close": "Expected close",
        "campaign_id": "Campaign",
        "opportunity": "Opportunity",
        "to_stage": "Move to stage",
        "lost_reason": "Lost reason (required for lost)",
        "input": "Stage",
    },
    "submit": "Save opportunity",
    "move_header": "Move stage",
    "move_submit": "Move stage",
    "none_open": "The customer has no open opportunity.",
    "saved": "Saved opportunity #{id} ({stage}) — {link}.",
    "moved": "Opportunity #{id} moved to {stage} — {link}.",
}


def opportunity_forms(*, actor: Actor, url: str, customer_id: int | None) -> None:
    """Create an opportunity; move an open one to another stage."""
    text = OPPORTUNITY_TEXT
    labels = text["fields"]
    campaigns = load_entry_choices(url, "campaigns")
    campaign_names = {int(row.id): row.name for row in campaigns.itertuples(index=False)}
    with st.form("opportunity_form", clear_on_submit=True):
        title = st.text_input(labels["title"], key="opportunity_form_title", max_chars=200)
        left, middle, right = st.columns(3)
        amount = left.number_input(
            labels["amount"], value=None, step=1_000_000.0, key="opportunity_form_amount"
        )
        stage = middle.selectbox(
            labels["stage"], _options(Stage, OPEN_STAGES), key="opportunity_form_stage"
        )
        expected_close = right.date_input(
            labels["expected_close"], value=None, key="opportunity_form_expected_close"
        )
        campaign_id = left.selectbox(
            labels["campaign_id"],
            [None, *campaign_names],
            format_func=lambda cid: "—" if cid is None else campaign_names.get(cid, str(cid)),
            key="opportunity_form_campaign_id",
        )
        submitted = st.form_submit_button(text["submit"], key="opportunity_form_submit")
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

        submit(
            form="opportunity",
            url=url,
            payload=payload,
            labels=labels,
            action=lambda session, key: create_opportunity(
                session=session, actor=actor, data=payload, idempotency_key=key
            ),
            describe=lambda row: text["saved"].format(
                id=row.id, stage=row.stage.value, link=customer_link(row.customer_id)
            ),
            clears=("items",),
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
    names = {
        int(row.id): f"#{row.id} {row.title} ({row.stage})"
        for row in open_items.itertuples(index=False)
    }
    with st.form("stage_form", clear_on_submit=True):
        opportunity_id = st.selectbox(
            labels["opportunity"],
            list(names),
            format_func=lambda oid: names.get(oid, str(oid)),
            key="stage_form_opportunity_id",
        )
        to_stage = st.selectbox(labels["to_stage"], _options(Stage), key="stage_form_to_stage")
        lost_reason = st.text_input(
            labels["lost_reason"], key="stage_form_lost_reason", max_chars=200
        )
        moved = st.form_submit_button(text["move_submit"], key="stage_form_submit")
    if not moved:
        return
    change = {"to_stage": to_stage, "lost_reason": _none_if_blank(lost_reason)}
    from app.services.sales import move_opportunity_stage

    submit(
        form="stage",
        url=url,
        payload={"opportunity_id": opportunity_id, **change},
        labels={**labels, "input": labels["lost_reason"]},
        action=lambda session, _key: move_opportunity_stage(
            session=session, actor=actor, opportunity_id=opportunity_id, change=change
        ),
        describe=lambda row: text["moved"].format(
            id=row.id, stage=row.stage.value, link=customer_link(row.customer_id)
        ),
        clears=("items",),
    )


# --------------------------------------------------------------------------- complaint
COMPLAINT_TEXT = {
    "header": "Complaint",
    "fields": {
        "category": "What it is about",
        "severity": "Severity",
        "channel": "Received by",
        "description": "Description",
        "complaint": "Complaint",
        "note": "Response note",
        "resolution": "Resolution",
        "close": "Close the complaint (customer confirmed)",
        "first_response_at": "First response",
        "resolved_at": "Resolved at",
        "input": "Complaint",
    },
    "submit": "Save complaint",
    "respond_header": "First response",
    "respond_submit": "Record first response",
    "resolve_header": "Resolution",
    "resolve_submit": "Record resolution",
    "none_open": "The customer has no open complaint.",
    "saved": "Saved complaint #{id} ({severity}) — {link}.",
    "responded": "First response recorded for complaint #{id} — {link}.",
    "resolved": "Complaint #{id} is now {status} — {link}.",
}


def complaint_forms(*, actor: Actor, url: str, customer_id: int | None) -> None:
    """Complaint intake, first response and resolution."""
    text = COMPLAINT_TEXT
    labels = text["fields"]
    from app.services.care import create_complaint, record_first_response, resolve_complaint

    with st.form("complaint_form", clear_on_submit=True):
        left, middle, right = st.columns(3)
        category = left.text_input(labels["category"], key="complaint_form_category", max_chars=80)
        severity = middle.selectbox(
            labels["severity"], _options(Severity), index=1, key="complaint_form_severity"
        )
        channel = right.selectbox(
            labels["channel"], [None, *_options(InteractionKind)], key="complaint_form_channel"
        )
        description = st.text_area(
            labels["description"], key="complaint_form_description", max_chars=4000
        )
        submitted = st.form_submit_button(text["submit"], key="complaint_form_submit")
    if submitted and _need_customer(customer_id):
        payload = {
            "customer_id": customer_id,
            "category": category,
            "severity": severity,
            "channel": channel,
            "description": _none_if_blank(description),
            "owner_id": actor.user_id,
        }
        submit(
            form="complaint",
            url=url,
            payload=payload,
            labels=labels,
            action=lambda session, key: create_complaint(
                session=session, actor=actor, data=payload, idempotency_key=key
            ),
            describe=lambda row: text["saved"].format(
                id=row.id, severity=row.severity.value, link=customer_link(row.customer_id)
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
    names = {
        int(row.id): f"#{row.id} {row.category} ({row.status})"
        for row in open_items.itertuples(index=False)
    }
    waiting = [int(row.id) for row in open_items.itertuples(index=False) if not row.responded]
    if waiting:
        with st.form("response_form", clear_on_submit=True):
            complaint_id = st.selectbox(
                labels["complaint"],
                waiting,
                format_func=lambda cid: names.get(cid, str(cid)),
                key="response_form_complaint_id",
            )
            note = st.text_area(labels["note"], key="response_form_note", max_chars=2000)
            responded = st.form_submit_button(text["respond_submit"], key="response_form_submit")
        if responded:
            submit(
                form="response",
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
    with st.form("resolution_form", clear_on_submit=True):
        complaint_id = st.selectbox(
            labels["complaint"],
            list(names),
            format_func=lambda cid: names.get(cid, str(cid)),
            key="resolution_form_complaint_id",
        )
        resolution = st.text_area(
            labels["resolution"], key="resolution_form_resolution", max_chars=4000
        )
        close = st.checkbox(labels["close"], key="resolution_form_close")
        resolved = st.form_submit_button(text["resolve_submit"], key="resolution_form_submit")
    if resolved:
        submit(
            form="resolution",
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
                id=row.id, status=row.status.value, link=customer_link(row.customer_id)
            ),
            clears=("items",),
            overview=True,
        )


# --------------------------------------------------------------------------- survey
SURVEY_TEXT = {
    "header": "Survey answer",
    "fields": {
        "nps": "NPS (0-10: how likely to recommend us)",
        "csat": "CSAT (1-5: how satisfied)",
        "comment": "Comment",
        "input": "Scores",
    },
    "submit": "Save answer",
    "saved": "Saved survey answer #{id} — {link}.",
}


def survey_form(*, actor: Actor, url: str, customer_id: int | None) -> None:
    """An NPS and/or CSAT answer with a comment."""
    text = SURVEY_TEXT
    labels = text["fields"]
    with st.form("survey_form", clear_on_submit=True):
        left, right = st.columns(2)
        nps = left.number_input(labels["nps"], value=None, step=1, key="survey_form_nps")
        csat = right.number_input(labels["csat"], value=None, step=1, key="survey_form_csat")
        comment = st.text_area(labels["comment"], key="survey_form_comment", max_chars=4000)
        submitted = st.form_submit_button(text["submit"], key="survey_form_submit")
    if not submitted or not _need_customer(customer_id):
        return
    payload = {
        "customer_id": customer_id,
        "nps": int(nps) if nps is not None else None,
        "csat": int(csat) if csat is not None else None,
        "comment": _none_if_blank(comment),
    }
    from app.services.care import create_survey_response

    submit(
        form="survey",
        url=url,
        payload=payload,
        labels=labels,
        action=lambda session, key: create_survey_response(
            session=session, actor=actor, data=payload, idempotency_key=key
        ),
        describe=lambda row: text["saved"].format(id=row.id, link=customer_link(row.customer_id)),
    )


# --------------------------------------------------------------------------- campaign
CAMPAIGN_TEXT = {
    "header": "New campaign",
    "fields": {
        "name": "Name",
        "channel": "Channel",
        "purpose": "Purpose",
        "start_date": "Start",
        "end_date": "End",
        "budget": "Budget (VND)",
        "target_segment": "Target segment",
        "description": "Description",
        "campaign": "Campaign",
        "amount": "Cost to add (VND)",
        "customer_ids": "Customer",
        "customer_id": "Customer",
        "converted": "Converted (bought)",
        "input": "Dates",
    },
    "submit": "Save campaign",
    "cost_header": "Record a cost",
    "cost_submit": "Add cost",
    "member_header": "Members and responses (for the customer picked above)",
    "member_submit": "Add the customer to the campaign",
    "response_submit": "Record response",
    "no_campaigns": "There is no campaign yet.",
    "saved": "Saved campaign #{id} {name}.",
    "cost_saved": "Campaign {name}: actual cost now {cost} VND.",
    "member_saved": "Added {count} member(s) to the campaign.",
    "response_saved": "Response recorded for campaign #{id}.",
}


def campaign_forms(*, actor: Actor, url: str, customer_id: int | None) -> None:
    """Create a campaign, record its costs (managers); add members and responses."""
    text = CAMPAIGN_TEXT
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
                labels["channel"], _options(CampaignChannel), key="campaign_form_channel"
            )
            purpose = middle.selectbox(
                labels["purpose"], _options(CampaignPurpose), key="campaign_form_purpose"
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
            submit(
                form="campaign",
                url=url,
                payload=payload,
                labels=labels,
                action=lambda session, key: create_campaign(
                    session=session, actor=actor, data=payload, idempotency_key=key
                ),
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
PARTNER_TEXT = {
    "header": "New partner",
    "fields": {
        "name": "Name",
        "kind": "Kind",
        "province": "Province",
        "phone": "Phone",
        "email": "Email",
        "notes": "Notes",
        "partner_id": "Partner",
        "other_partner_id": "Linked partner",
        "customer_id": "Linked customer",
        "target": "Link to",
        "relation": "Relation (e.g. supplies, distributes to, serves)",
        "since": "Since",
        "input": "Link",
    },
    "targets": {"partner": "Another partner", "customer": "The customer picked above"},
    "submit": "Save partner",
    "link_header": "Link a partner",
    "link_submit": "Save link",
    "manager_only": "Partners are managed by managers.",
    "saved": "Saved partner #{id} {name}.",
    "link_saved": "Saved partner link #{id}.",
}


def partner_forms(*, actor: Actor, url: str, customer_id: int | None) -> None:
    """Create partners and link them to partners or customers (managers)."""
    text = PARTNER_TEXT
    labels = text["fields"]
    if not actor.can(Permission.catalogue):
        st.caption(text["manager_only"])
        return
    from app.services.catalogue import create_partner, create_partner_link

    with st.form("partner_form", clear_on_submit=True):
        left, right = st.columns(2)
        name = left.text_input(labels["name"], key="partner_form_name", max_chars=200)
        kind = right.selectbox(labels["kind"], _options(PartnerKind), key="partner_form_kind")
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
        submit(
            form="partner",
            url=url,
            payload=payload,
            labels=labels,
            action=lambda session, key: create_partner(
                session=session, actor=actor, data=payload, idempotency_key=key
            ),
            describe=lambda row: text["saved"].format(id=row.id, name=md_escape(row.name)),
            clears=("partners",),
        )
    partners = load_entry_choices(url, "partners")
    if partners.empty:
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
            format_func=lambda value: text["targets"][value],
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
        submit(
            form="partner_link",
            url=url,
            payload=payload,
            labels=labels,
            action=lambda session, key: create_partner_link(
                session=session, actor=actor, data=payload, idempotency_key=key
            ),
            describe=lambda row: text["link_saved"].format(id=row.id),
        )


# --------------------------------------------------------------------------- target
TARGET_TEXT = {
    "header": "KPI target",
    "fields": {
        "kpi_id": "KPI",
        "period_start": "Period start",
        "period_end": "Period end (first day not included)",
        "segment": "Segment (blank: all)",
        "target_value": "Target value",
        "input": "Period",
    },
    "submit": "Save target",
    "manager_only": "Targets are set by managers.",
    "saved": "Saved target for {kpi} from {start} to {end}: {value}.",
}


def target_form(*, actor: Actor, url: str) -> None:
    """A KPI target for a period and optional segment (managers)."""
    text = TARGET_TEXT
    labels = text["fields"]
    if not actor.can(Permission.targets):
        st.caption(text["manager_only"])
        return
    from app.kpi.registry import all_kpis
    from app.services.catalogue import create_target

    kpis = {kpi_id: definition.label_en for kpi_id, definition in all_kpis().items()}
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
    submit(
        form="target",
        url=url,
        payload=payload,
        labels=labels,
        action=lambda session, key: create_target(
            session=session, actor=actor, data=payload, idempotency_key=key
        ),
        describe=lambda row: text["saved"].format(
            kpi=md_escape(row.kpi_id),
            start=row.period_start,
            end=row.period_end,
            value=row.target_value,
        ),
    )


# --------------------------------------------------------------------------- import, export
IMPORT_TEXT = {
    "header": "Import a file",
    "entity": "What the file holds",
    "file": "CSV (UTF-8 or UTF-16; comma, semicolon or tab) or Excel .xlsx",
    "preview": "First rows of the file",
    "mapping": "Columns: which file column feeds each field",
    "not_mapped": "— not in the file —",
    "on_duplicate": "Rows whose code already exists",
    "on_duplicate_options": {
        "skip": "Skip them",
        "update": "Update the existing records",
        "error": "Reject them as errors",
    },
    "atomic": "Reject the whole file if any row is bad",
    "check": "Check the file (writes nothing)",
    "run": "Import",
    "errors": "Rejected rows",
    "download_errors": "Download the rejected rows (CSV)",
    "no_write": "Your role may export but not import.",
    "ok": "{summary}",
}
EXPORT_TEXT = {
    "header": "Export",
    "entity": "What to export",
    "prepare": "Prepare the files",
    "csv": "Download CSV",
    "xlsx": "Download Excel",
    "ready": "{rows:,} rows ready.",
}


def _show_import_result(result: Any) -> None:
    text = IMPORT_TEXT
    if result.ok:
        st.success(md_escape(result.summary()), icon=":material/check_circle:")
        return
    st.error(md_escape(result.summary()), icon=":material/error:")
    errors = result.errors_frame()
    st.caption(text["errors"])
    st.dataframe(errors.head(1000), hide_index=True, width="stretch")
    st.download_button(
        text["download_errors"],
        data=errors.to_csv(index=False).encode("utf-8-sig"),
        file_name=f"{result.entity}_errors.csv",
        mime="text/csv",
        key="import_form_download_errors",
    )


def import_panel(*, actor: Actor, url: str) -> None:
    """Upload, map columns, check (dry run), then import in one transaction."""
    from app.transfer import SPECS, auto_mapping, import_rows, read_rows

    text = IMPORT_TEXT
    st.subheader(text["header"])
    if not actor.can(Permission.write):
        st.caption(text["no_write"])
        return
    entity = st.selectbox(
        text["entity"],
        list(SPECS),
        format_func=lambda name: SPECS[name].label or name,
        key="import_form_entity",
    )
    upload = st.file_uploader(
        text["file"], type=["csv", "txt", "tsv", "xlsx"], key="import_form_file"
    )
    if upload is None:
        return
    try:
        headers, rows = read_rows(upload.getvalue(), upload.name)
    except InvalidInput as exc:
        show_field_errors(exc, {"file": "File"})
        return
    st.caption(text["preview"])
    width = len(headers)
    preview = pd.DataFrame(
        [row[:width] + [""] * (width - len(row)) for row in rows[:10]],
        columns=[f"{index + 1}. {name}" for index, name in enumerate(headers)],
    )
    st.dataframe(preview, hide_index=True, width="stretch")
    guessed = {column: header for header, column in auto_mapping(entity, headers).items()}
    mapping: dict[str, str] = {}
    with st.expander(text["mapping"], expanded=len(guessed) < len(headers)):
        columns = st.columns(3)
        for index, col in enumerate(SPECS[entity].columns):
            options = [None, *headers]
            default = guessed.get(col.name)
            choice = columns[index % 3].selectbox(
                col.name,
                options,
                index=options.index(default) if default in options else 0,
                format_func=lambda value: text["not_mapped"] if value is None else value,
                key=f"import_form_map_{entity}_{col.name}",
            )
            if choice is not None:
                mapping[choice] = col.name
    left, right = st.columns(2)
    on_duplicate = left.radio(
        text["on_duplicate"],
        list(text["on_duplicate_options"]),
        format_func=lambda value: text["on_duplicate_options"][value],
        key="import_form_on_duplicate",
    )
    atomic = right.checkbox(text["atomic"], value=True, key="import_form_atomic")
    left, right = st.columns(2)
    check = left.button(text["check"], key="import_form_check")
    run = right.button(text["run"], type="primary", key="import_form_run")
    if not (check or run):
        return
    bar = st.progress(0.0)
    try:
        with Session(engine(url)) as session:
            result = import_rows(
                session=session,
                actor=actor,
                entity=entity,
                headers=headers,
                rows=rows,
                mapping=mapping,
                dry_run=bool(check),
                on_duplicate=on_duplicate,
                atomic=atomic,
                source=upload.name,
                progress=lambda share: bar.progress(min(max(share, 0.0), 1.0)),
            )
    except InvalidInput as exc:
        show_field_errors(exc, {})
        return
    except (PermissionDenied, NotFound, Conflict) as exc:
        st.error(md_escape(exc))
        return
    bar.progress(1.0)
    if result.written:
        clear_overview_cache()
        clear_entry_caches("customers", "products", "campaigns", "partners", "items")
    _show_import_result(result)


def export_panel(*, actor: Actor, url: str) -> None:
    """Export an entity as CSV or Excel, in the import format."""
    from app.transfer import SPECS, export_rows, write_table

    text = EXPORT_TEXT
    st.subheader(text["header"])
    entity = st.selectbox(
        text["entity"],
        list(SPECS),
        format_func=lambda name: SPECS[name].label or name,
        key="export_form_entity",
    )
    state_key = "export_form__files"
    if st.button(text["prepare"], key="export_form_prepare"):
        try:
            with Session(engine(url)) as session:
                headers, rows = export_rows(session=session, actor=actor, entity=entity)
        except PermissionDenied as exc:
            st.error(md_escape(exc))
            return
        st.session_state[state_key] = {
            "entity": entity,
            "rows": len(rows),
            "csv": write_table(headers, rows, "x.csv"),
            "xlsx": write_table(headers, rows, "x.xlsx"),
        }
    files = st.session_state.get(state_key)
    if not files or files["entity"] != entity:
        return
    st.caption(text["ready"].format(rows=files["rows"]))
    left, right = st.columns(2)
    left.download_button(
        text["csv"],
        data=files["csv"],
        file_name=f"{entity}.csv",
        mime="text/csv",
        key="export_form_csv",
    )
    right.download_button(
        text["xlsx"],
        data=files["xlsx"],
        file_name=f"{entity}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="export_form_xlsx",
    )
