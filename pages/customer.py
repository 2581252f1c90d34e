"""Customer 360°: a placeholder saying what the page will show once its issue lands."""

import streamlit as st

from components.guard import page_setup

page_setup("Customer 360°")

st.title("Customer 360°")
st.info(
    "This page will show one customer on a page: profile and contacts; one timeline "
    "of interactions, inquiries, orders, complaints and survey answers; RFM scores "
    "and segment; revenue and profit per transaction, per year and over the "
    "relationship; open opportunities; complaints with their status and SLA; the "
    "discounts and promotions received and a suggested policy for the next purchase.",
    icon=":material/construction:",
)
