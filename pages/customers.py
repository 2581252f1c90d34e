"""Customers: a placeholder saying what the page will show once its issue lands."""

import streamlit as st

from components.guard import page_setup

page_setup("Customers")

st.title("Customers")
st.info(
    "This page will show a fast, paged, sortable list of customers with a search by "
    "name, code, phone, email or tax code that ignores Vietnamese diacritics and case "
    '("nguyen van" finds "Nguyễn Văn"), and filters by segment, province, owner, '
    "lifecycle stage and RFM segment.",
    icon=":material/construction:",
)
