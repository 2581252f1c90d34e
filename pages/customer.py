"""Customer 360°: one customer on a page, chosen by ``?id=`` in the address.

A missing, malformed or not-visible id shows a message and a customer picker.
"""

import datetime as dt

import streamlit as st

from app import formatting as fmt
from app.i18n import enum_labels
from app.kpi.rfm import SEGMENT_RULES
from app.models import (
    Channel,
    ComplaintStatus,
    CustomerKind,
    Gender,
    InquiryStatus,
    Lifecycle,
    OrderStatus,
)
from app.services.customer_views import PROFILE_FIELDS, TIMELINE_KINDS
from components import forms, record_actions
from components.charts_customers import (
    labelled,
    md_escape,
    profit_by_year,
    timeline_rows,
)
from components.data import database_url, load_today
from components.data_customers import (
    actor_args,
    load_customer_360,
    load_customer_choices,
    load_timeline,
    parse_customer_id,
)
from components.guard import page_setup
from components.i18n import current_language, t
from components.tables import data_table, styled_numbers

actor = page_setup(t("common.page_customer"))
url = database_url()
today_iso = load_today(url)
args = actor_args(actor)
lang = current_language()
TIMELINE_PAGE_SIZE = 25

st.title(t("customers.title_360"))

raw_id = st.query_params.get("id")
customer_id = parse_customer_id(raw_id)
data = load_customer_360(url, customer_id, args, today_iso) if customer_id else None


def _open(choice_key: str) -> None:
    chosen = st.session_state.get(choice_key)
    if chosen is not None:
        st.query_params["id"] = str(chosen)
        st.session_state["c360_tl_page"] = 1


if data is None:
    if raw_id and customer_id is None:
        st.warning(t("customers.invalid_id"), icon=":material/error:")
    elif customer_id is not None:
        st.warning(t("customers.not_found", id=customer_id), icon=":material/person_off:")
    else:
        st.info(t("customers.pick"), icon=":material/person_search:")
    search = st.text_input(t("customers.pick_search"), key="c360_pick_search", max_chars=100)
    choices = load_customer_choices(url, search, args)
    if choices.empty:
        st.caption(t("customers.no_customers"))
    else:
        labels = dict(zip(choices["id"], choices["label"], strict=True))
        st.selectbox(
            t("customers.pick_customer"),
            choices["id"].tolist(),
            format_func=lambda cid: labels.get(cid, str(cid)),
            key="c360_pick",
        )
        st.button(
            t("customers.pick_open"), key="c360_pick_open", on_click=_open, args=("c360_pick",)
        )
    st.stop()

profile = data["profile"]
rfm = data["rfm"]
summary = data["summary"]
segment_names = {name: t(f"segments.seg_{name}") for name, _, _ in SEGMENT_RULES}

st.subheader(md_escape(f"{profile['code']} · {profile['name']}"))
record_actions.status_banner(actor=actor, url=url, profile=profile)
st.caption(
    " · ".join(
        md_escape(part)
        for part in dict.fromkeys(
            (
                t(f"common.kind_{profile['kind']}"),
                profile.get("segment") or "",
                profile.get("province") or "",
                t(f"customers.lifecycle_{profile['lifecycle']}"),
            )
        )
        if part
    )
)

if rfm:
    st.badge(
        t("customers.metric_segment")
        + ": "
        + segment_names.get(rfm["segment"], t("segments.seg_none")),
        icon=":material/donut_small:",
        color="blue",
    )
else:
    st.badge(t("customers.no_rfm"), icon=":material/donut_small:", color="gray")
cards = st.columns(4)
cards[0].metric(
    t("customers.metric_scores"),
    f"{rfm['r_score']} · {rfm['f_score']} · {rfm['m_score']}" if rfm else "–",
    help=t(
        "customers.metric_scores_help",
        bins=data["rfm_bins"],
        weighted=fmt.number(rfm["weighted_score"], lang, places=1),
    )
    if rfm
    else t("customers.no_rfm"),
    border=True,
)
cards[1].metric(
    t("customers.metric_revenue"),
    fmt.compact_money(summary["revenue"], lang),
    help=fmt.money(summary["revenue"], lang),
    border=True,
)
cards[2].metric(
    t("customers.metric_profit"),
    fmt.compact_money(summary["profit"], lang),
    help=fmt.money(summary["profit"], lang),
    border=True,
)
cards[3].metric(
    t("customers.metric_orders"),
    fmt.number(summary["orders"], lang),
    help=t("customers.metric_last_order") + ": " + fmt.date(summary["last_order"], lang),
    border=True,
)

# Staff, managers and admins enter and change records here; executives only read, and an
# archived customer takes no new records until a manager restores it.
entry = record_actions.entry_enabled(actor) and not profile.get("archived")
tabs = st.tabs(
    [
        t("customers.tab_timeline"),
        t("customers.tab_profile"),
        t("customers.tab_value"),
        t("customers.tab_service"),
        t("customers.tab_policies"),
        *(
            [t("entry.c360_tab_add"), t("entry.c360_tab_edit"), t("entry.c360_tab_archive")]
            if entry
            else []
        ),
    ]
)

status_labels = {
    **{f"{v.value}": t(f"customers.status_{v.value}") for v in OrderStatus},
    **{f"{v.value}": t(f"customers.status_{v.value}") for v in ComplaintStatus},
    **{f"{v.value}": t(f"customers.status_{v.value}") for v in InquiryStatus},
    "inbound": t("customers.status_inbound"),
    "outbound": t("customers.status_outbound"),
}
severity_labels = {v: t(f"customers.severity_{v}") for v in ("low", "medium", "high", "critical")}
interaction_labels = {
    v: t(f"customers.interaction_{v}")
    for v in ("call", "email", "meeting", "visit", "sms", "social", "feedback")
}
kind_labels = {kind: t(f"customers.tl_{kind}") for kind in TIMELINE_KINDS}
yes_no = {True: t("customers.yes"), False: t("customers.no")}

with tabs[0]:
    requested = int(st.session_state.get("c360_tl_page", 1))
    timeline = load_timeline(url, profile["id"], requested, TIMELINE_PAGE_SIZE, args)
    if timeline["total"] == 0:
        st.info(t("customers.timeline_empty"), icon=":material/history:")
    else:
        if requested != timeline["page"]:
            st.session_state["c360_tl_page"] = timeline["page"]
        left, right = st.columns([1, 3], vertical_alignment="bottom")
        left.number_input(
            t("customers.page"),
            min_value=1,
            max_value=timeline["pages"],
            step=1,
            key="c360_tl_page",
        )
        right.caption(
            t(
                "customers.timeline_count",
                total=timeline["total"],
                page=timeline["page"],
                pages=timeline["pages"],
            )
        )
        shown = timeline_rows(
            timeline["rows"],
            {**kind_labels, **status_labels, **severity_labels, **interaction_labels},
        )
        titles = {
            column: t(f"customers.t_{column}")
            for column in ("icon", "kind", "at", "title", "subtype", "detail", "status", "amount")
        }
        st.dataframe(
            # Amounts in the user's locale (1.234.567 ₫), still sorted as numbers.
            styled_numbers(labelled(shown, titles), {titles["amount"]: "money"}, lang),
            hide_index=True,
            width="stretch",
            height=38 + 35 * len(shown),
            key="c360_timeline",
            placeholder="",
            column_config={
                titles["at"]: st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm"),
                titles["amount"]: st.column_config.NumberColumn(alignment="right"),
                titles["icon"]: st.column_config.TextColumn(width="small"),
            },
        )

with tabs[1]:
    left, right = st.columns([1, 1])
    with left:
        st.markdown(f"**{t('customers.profile')}**")
        fields = [name for name in PROFILE_FIELDS if name != "id"] + [
            "owner",
            "referred_by",
            "created_on",
            "updated_on",
        ]
        value_labels = {
            name: enum_labels(enum_class, lang)
            for name, enum_class in (
                ("kind", CustomerKind),
                ("lifecycle", Lifecycle),
                ("gender", Gender),
                ("channel", Channel),
            )
        }
        rows = []
        for name in fields:
            value = profile.get(name)
            if isinstance(value, bool):
                value = yes_no[value]
            elif isinstance(value, dt.date):
                value = fmt.date(value, lang)
            elif name in value_labels and value is not None:
                value = value_labels[name].get(value, value)
            rows.append((t(f"customers.f_{name}"), "" if value is None else str(value)))
        st.dataframe(
            {
                t("customers.field"): [r[0] for r in rows],
                t("customers.value"): [r[1] for r in rows],
            },
            hide_index=True,
            width="stretch",
            height=38 + 35 * len(rows),
            key="c360_profile",
        )
    with right:
        st.markdown(f"**{t('customers.contacts')}**")
        contacts = data["contacts"]
        if contacts.empty:
            st.caption(t("customers.no_contacts"))
        else:
            data_table(
                labelled(
                    contacts,
                    {
                        c: t(f"customers.c_{c}")
                        for c in ("name", "title", "phone", "email", "is_primary")
                    },
                ),
                file_stem="contacts",
                key_prefix="c360_contacts",
            )

with tabs[2]:
    profitability = data["profitability"]
    if profitability["per_transaction"].empty:
        st.info(t("customers.no_orders"), icon=":material/shopping_cart:")
    else:
        figure = profit_by_year(
            profitability["per_year"],
            title=t("customers.per_year_chart"),
            x_title=t("customers.year"),
            y_title=t("customers.amount_vnd"),
            revenue_name=t("customers.revenue"),
            profit_name=t("customers.profit"),
        )
        if figure is not None:
            st.plotly_chart(figure, key="c360_year_chart", width="stretch")
        st.markdown(f"**{t('customers.per_year')}**")
        data_table(
            labelled(
                profitability["per_year"],
                {
                    "year": t("customers.year"),
                    "orders": t("customers.orders"),
                    "revenue": t("customers.revenue"),
                    "profit": t("customers.profit"),
                },
            ),
            file_stem="profit_per_year",
            key_prefix="c360_years",
            column_config={
                t("customers.year"): st.column_config.NumberColumn(format="%d"),
                t("customers.revenue"): st.column_config.NumberColumn(format="localized"),
                t("customers.profit"): st.column_config.NumberColumn(format="localized"),
            },
        )
        st.markdown(f"**{t('customers.per_transaction')}**")
        data_table(
            labelled(
                data["per_transaction_newest"],
                {
                    "order_code": t("customers.order_code"),
                    "ordered_at": t("customers.ordered_at"),
                    "revenue": t("customers.revenue"),
                    "cost": t("customers.cost"),
                    "profit": t("customers.profit"),
                },
            ),
            file_stem="profit_per_order",
            key_prefix="c360_orders",
            column_config={
                t("customers.ordered_at"): st.column_config.DatetimeColumn(
                    format="DD/MM/YYYY HH:mm"
                ),
                t("customers.revenue"): st.column_config.NumberColumn(format="localized"),
                t("customers.cost"): st.column_config.NumberColumn(format="localized"),
                t("customers.profit"): st.column_config.NumberColumn(format="localized"),
            },
        )

with tabs[3]:
    st.markdown(f"**{t('customers.opportunities')}**")
    opportunities = data["opportunities"]
    if opportunities.empty:
        st.caption(t("customers.no_opportunities"))
    else:
        data_table(
            labelled(
                opportunities,
                {
                    c: t(f"customers.o_{c}")
                    for c in ("title", "stage", "amount", "expected_close", "owner")
                },
                {
                    "stage": {
                        v: t(f"customers.stage_{v}")
                        for v in ("lead", "qualified", "proposal", "negotiation")
                    }
                },
            ),
            file_stem="open_opportunities",
            key_prefix="c360_opps",
            column_config={
                t("customers.o_amount"): st.column_config.NumberColumn(format="localized"),
                t("customers.o_expected_close"): st.column_config.DateColumn(format="DD/MM/YYYY"),
            },
        )
    st.markdown(f"**{t('customers.complaints')}**")
    complaints = data["complaints"]
    if complaints.empty:
        st.caption(t("customers.no_complaints"))
    else:
        st.caption(
            t(
                "customers.complaints_summary",
                open=data["complaint_counts"]["open"],
                breached=data["complaint_counts"]["breached"],
            )
        )
        data_table(
            labelled(
                complaints,
                {
                    c: t(f"customers.k_{c}")
                    for c in (
                        "opened_at",
                        "category",
                        "severity",
                        "status",
                        "sla_hours",
                        "due_at",
                        "resolved_at",
                        "hours_taken",
                        "breached",
                    )
                },
                {"severity": severity_labels, "status": status_labels},
            ),
            file_stem="complaints",
            key_prefix="c360_complaints",
            column_config={
                t(f"customers.k_{name}"): st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm")
                for name in ("opened_at", "due_at", "resolved_at")
            },
        )

with tabs[4]:
    suggestion = data["suggestion"]
    key = suggestion["key"]
    lines = [
        f"**{t('customers.suggested')}**",
        f"### {t(f'customers.policy_{key}')}",
        t(f"customers.policy_{key}_why"),
    ]
    if suggestion["segment"]:
        lines.append(
            t("customers.suggested_for", segment=segment_names.get(suggestion["segment"], "")),
        )
    if suggestion["discount"]:
        lines.append(
            t(
                "customers.suggested_discount",
                discount=fmt.percent(suggestion["discount"], lang, places=0),
            )
        )
    st.success("\n\n".join(lines), icon=":material/local_offer:")
    st.markdown(f"**{t('customers.received')}**")
    policies = data["policies"]
    if policies.empty:
        st.caption(t("customers.no_policies"))
    else:
        data_table(
            labelled(
                policies,
                {
                    c: t(f"customers.p_{c}")
                    for c in ("date", "policy_type", "name", "discount", "outcome", "order_code")
                },
                {
                    "policy_type": {
                        v: t(f"customers.ptype_{v}")
                        for v in ("order_promotion", "line_discount", "campaign")
                    },
                    "outcome": {
                        v: t(f"customers.outcome_{v}")
                        for v in ("contacted", "responded", "converted")
                    },
                },
            ),
            file_stem="policies_received",
            key_prefix="c360_policies",
            column_config={
                t("customers.p_discount"): st.column_config.NumberColumn(format="percent"),
                t("customers.p_date"): st.column_config.DateColumn(format="DD/MM/YYYY"),
            },
        )

if entry:
    customer_id = int(profile["id"])
    add_forms = {
        "interaction": forms.interaction_form,
        "inquiry": forms.inquiry_form,
        "order": forms.order_form,
        "opportunity": forms.opportunity_forms,
        "complaint": forms.complaint_forms,
        "survey": forms.survey_form,
        "contact": forms.contact_form,
    }
    add_labels = {
        name: t("entry.c360_add_contact") if name == "contact" else t(f"entry.tab_{name}")
        for name in add_forms
    }
    with tabs[5]:
        st.caption(t("entry.c360_add_caption"))
        chosen = st.radio(
            t("entry.c360_add_pick"),
            list(add_forms),
            format_func=lambda name: add_labels.get(name, name),
            key="c360_add_kind",
            horizontal=True,
        )
        add_forms[chosen](actor=actor, url=url, customer_id=customer_id, prefix="c360_")
    with tabs[6]:
        st.markdown(f"**{t('entry.c360_profile_header')}**")
        record_actions.profile_form(actor=actor, url=url, profile=profile)
        st.markdown(f"**{t('entry.c360_contacts_header')}**")
        record_actions.contacts_editor(actor=actor, url=url, customer_id=customer_id)
        st.markdown(f"**{t('entry.c360_records_header')}**")
        record_actions.record_editor(actor=actor, url=url, customer_id=customer_id)
    with tabs[7]:
        record_actions.archive_and_merge(actor=actor, url=url, profile=profile)
