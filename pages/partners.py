"""Partners: the partner list by type, and the network of partner and customer links."""

import streamlit as st

from app.models import PartnerKind
from app.services.partner_views import MAX_NODES
from components.charts_customers import labelled, partner_network
from components.data import database_url
from components.data_customers import actor_args, load_partner_network, load_partners
from components.empty_state import empty_state
from components.guard import page_setup
from components.i18n import enum_label, t
from components.tables import data_table

actor = page_setup(t("common.page_partners"))
url = database_url()
args = actor_args(actor)

st.title(t("partners.title"))

KINDS = [kind.value for kind in PartnerKind]
kind_names = {kind.value: enum_label(kind) for kind in PartnerKind}
kind_names["customer"] = t("partners.kind_customer")  # a network node, not a partner kind

kind_choices = {None: t("common.all"), **kind_names}
kind_col, search_col = st.columns([1, 2])
kind = kind_col.selectbox(
    t("partners.kind"),
    [None, *KINDS],
    key="partners_kind",
    format_func=kind_choices.get,
)
search = search_col.text_input(
    t("partners.search"),
    key="partners_search",
    placeholder=t("partners.search_placeholder"),
    max_chars=100,
)

partners = load_partners(url, kind, search, args)
everything = partners if (kind is None and not search) else load_partners(url, None, "", args)
if everything.empty:
    empty_state(t("partners.empty"), hint=t("partners.empty_hint"))
    st.stop()

st.subheader(t("partners.list"))
if partners.empty:
    st.info(t("partners.none") + " " + t("partners.none_hint"), icon=":material/search_off:")
else:
    st.caption(t("partners.count", total=len(partners)))
    columns = {
        name: t(f"partners.col_{name}")
        for name in (
            "name",
            "kind",
            "province",
            "phone",
            "email",
            "partner_links",
            "customer_links",
        )
    }
    data_table(
        labelled(partners, columns, {"kind": kind_names}),
        file_stem="partners",
        key_prefix="partners_list",
    )

st.subheader(t("partners.network"))
nodes, edges, truncated = load_partner_network(url, kind, args, MAX_NODES)
if truncated:
    st.caption(t("partners.network_truncated", limit=MAX_NODES))
figure = partner_network(nodes, edges, title=t("partners.network_chart"), labels=kind_names)
if figure is None or edges.empty:
    st.info(t("partners.network_empty"), icon=":material/hub:")
else:
    st.plotly_chart(figure, key="partners_network", width="stretch")
