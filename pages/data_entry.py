"""Data entry: a placeholder saying what the page will show once its issue lands."""

import streamlit as st

from components.guard import page_setup

page_setup("Data entry")

st.title("Data entry")
st.info(
    "This page will show quick forms for every record staff create: interactions, new "
    "customers (with a warning about likely duplicates) and their contacts, "
    "inquiries, orders with lines, opportunities and stage moves, complaints, survey "
    "answers, campaigns, partners and targets.",
    icon=":material/construction:",
)
