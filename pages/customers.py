"""Customers: a paged, sortable, searchable list; each row opens the Customer 360° page."""

import datetime as dt

import streamlit as st

from app import formatting as fmt
from app.kpi.rfm import SEGMENT_RULES
from app.models import Lifecycle
from app.services.access import Permission
from app.services.customer_views import EXPORT_LIMIT, PAGE_SIZES, SORT_COLUMNS
from components.charts_customers import labelled
from components.data import database_url, load_today
from components.data_customers import (
    actor_args,
    customer_query_key,
    load_customer_export,
    load_customer_page,
    rfm_segment_ids,
)
from components.empty_state import empty_state
from components.filters import read_filters, show_ignored
from components.guard import page_setup
from components.i18n import current_language, enum_label, t
from components.tables import download_buttons

actor = page_setup(t("common.page_customers"))
url = database_url()
today = dt.date.fromisoformat(load_today(url))
args = actor_args(actor)
filters = read_filters(today)

st.title(t("customers.title"))
show_ignored(filters)
if actor.sees_own_customers_only:
    st.caption(t("customers.staff_scope"))


def _first_page() -> None:
    st.session_state["cust_page"] = 1


LIFECYCLES = [member.value for member in Lifecycle]
RFM_SEGMENTS = [name for name, _, _ in SEGMENT_RULES]
# Labels are looked up while the script runs, not inside format_func (which AppTest
# also calls outside a run, where the session's language is unknown).
lifecycle_names = {None: t("common.all"), **{m.value: enum_label(m) for m in Lifecycle}}
rfm_names = {None: t("common.all"), **{v: t(f"segments.seg_{v}") for v in RFM_SEGMENTS}}
sort_names = {v: t(f"customers.col_{v}") for v in SORT_COLUMNS}
direction_names = {False: t("customers.ascending"), True: t("customers.descending")}
COLUMNS = [
    "code",
    "name",
    "segment",
    "province",
    "phone",
    "email",
    "tax_code",
    "lifecycle",
    "rfm_segment",
    "owner",
    "created_on",
]

search_col, lifecycle_col, rfm_col = st.columns([3, 1.3, 1.5])
search = search_col.text_input(
    t("customers.search"),
    key="cust_search",
    placeholder=t("customers.search_placeholder"),
    help=t("customers.search_help"),
    on_change=_first_page,
    max_chars=100,
)
lifecycle = lifecycle_col.selectbox(
    t("customers.lifecycle"),
    [None, *LIFECYCLES],
    key="cust_lifecycle",
    format_func=lifecycle_names.get,
    on_change=_first_page,
)
rfm_segment = rfm_col.selectbox(
    t("customers.rfm_segment"),
    [None, *RFM_SEGMENTS],
    key="cust_rfm",
    format_func=rfm_names.get,
    on_change=_first_page,
)
sort_col, direction_col, size_col, page_col = st.columns([1.6, 1.2, 1, 1])
sort = sort_col.selectbox(
    t("customers.sort_by"),
    list(SORT_COLUMNS),
    key="cust_sort",
    format_func=sort_names.get,
    on_change=_first_page,
)
descending = direction_col.selectbox(
    t("customers.direction"),
    [False, True],
    key="cust_desc",
    format_func=direction_names.get,
    on_change=_first_page,
)
page_size = size_col.selectbox(
    t("customers.page_size"), PAGE_SIZES, index=1, key="cust_page_size", on_change=_first_page
)

as_of = today.isoformat()
ids = rfm_segment_ids(url, args, as_of, rfm_segment) if rfm_segment else None
query = customer_query_key(
    filters,
    search=search,
    lifecycle=lifecycle,
    customer_ids=ids,
    sort=sort,
    descending=descending,
)
# The sidebar filters change through the URL, without the on_change of the page's own
# widgets: any change of the list's query starts again at page 1.
if st.session_state.get("cust_query") != (query, page_size):
    if "cust_query" in st.session_state:
        st.session_state["cust_page"] = 1
    st.session_state["cust_query"] = (query, page_size)
result = load_customer_page(
    url, query, int(st.session_state.get("cust_page", 1)), page_size, args, as_of
)
# The service clamps a page past the end to the last one: the box shows that page too
# (set before the box is drawn below, in its column above the table).
st.session_state["cust_page"] = result["page"]
page_col.number_input(
    t("customers.page"),
    min_value=1,
    max_value=max(1, int(result["pages"])),
    step=1,
    key="cust_page",
)
for note in result["notes"]:
    st.warning(t(f"customers.{note}"), icon=":material/warning:")

column_titles = {name: t(f"customers.col_{name}") for name in COLUMNS}
value_labels = {"lifecycle": lifecycle_names, "rfm_segment": rfm_names}

if result["total"] == 0:
    if not any(value for key, value in query if key not in ("sort", "descending")):
        empty_state(t("common.empty_database"), hint=t("common.empty_database_hint"))
    else:
        st.info(
            t("customers.none_match") + " " + t("customers.none_match_hint"),
            icon=":material/search_off:",
        )
else:
    st.caption(
        t(
            "customers.count",
            total=fmt.number(result["total"], current_language()),
            page=result["page"],
            pages=result["pages"],
        )
        + " · "
        + t("customers.rfm_as_of", day=fmt.date(today, current_language()))
    )
    rows = result["rows"]
    event = st.dataframe(
        labelled(rows, column_titles, value_labels),
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(rows), 560),
        key="cust_table",
        placeholder="",  # no phone: an empty cell, not "None"
        on_select="rerun",
        selection_mode="single-row",
    )
    selected = event.selection.rows if event is not None else []
    names = dict(result["choices"])
    choices = list(names)
    picked_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
    picked = picked_col.selectbox(
        t("customers.open_customer"),
        choices,
        index=selected[0] if selected and selected[0] < len(choices) else 0,
        format_func=lambda cid: names.get(cid, str(cid)),
        help=t("customers.open_customer_help"),
        key=f"cust_open_{selected[0] if selected else 'none'}",
    )
    if button_col.button(
        t("customers.open_360"), key="cust_open_360", icon=":material/person_search:"
    ):
        st.switch_page("pages/customer.py", query_params={"id": str(picked)})

    if actor.can(Permission.export):
        with st.expander(t("customers.export"), icon=":material/download:"):
            st.caption(t("customers.export_note", limit=f"{EXPORT_LIMIT:,}"))
            if st.checkbox(
                t(
                    "customers.export_prepare",
                    total=fmt.number(result["total"], current_language()),
                ),
                key="cust_export",
            ):
                export = load_customer_export(url, query, args, as_of)
                download_buttons(
                    labelled(export, column_titles, value_labels),
                    file_stem="customers",
                    key_prefix="cust_export",
                )
