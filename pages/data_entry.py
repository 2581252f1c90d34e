"""Data entry: quick forms for every record staff create, for the customer picked on top."""

import streamlit as st

from app.services.access import Permission
from components import forms
from components.data import database_url
from components.guard import page_setup
from components.i18n import t

actor = page_setup(t("common.page_data_entry"), permission=Permission.write)
url = database_url()

st.title(t("common.page_data_entry"))
customer_id = forms.customer_picker(actor=actor, url=url, key_prefix="entry")

TABS = [
    t(f"entry.tab_{name}")
    for name in (
        "interaction",
        "customer",
        "inquiry",
        "order",
        "opportunity",
        "complaint",
        "survey",
        "campaign",
        "partner",
        "target",
    )
]
(
    interaction,
    customer,
    inquiry,
    order,
    opportunity,
    complaint,
    survey,
    campaign,
    partner,
    target,
) = st.tabs(TABS)
with interaction:
    forms.interaction_form(actor=actor, url=url, customer_id=customer_id)
with customer:
    forms.customer_form(actor=actor, url=url)
    st.subheader(t("entry.contact_header"))
    forms.contact_form(actor=actor, url=url, customer_id=customer_id)
with inquiry:
    forms.inquiry_form(actor=actor, url=url, customer_id=customer_id)
with order:
    forms.order_form(actor=actor, url=url, customer_id=customer_id)
with opportunity:
    forms.opportunity_forms(actor=actor, url=url, customer_id=customer_id)
with complaint:
    forms.complaint_forms(actor=actor, url=url, customer_id=customer_id)
with survey:
    forms.survey_form(actor=actor, url=url, customer_id=customer_id)
with campaign:
    forms.campaign_forms(actor=actor, url=url, customer_id=customer_id)
with partner:
    forms.partner_forms(actor=actor, url=url, customer_id=customer_id)
with target:
    forms.target_form(actor=actor, url=url)
