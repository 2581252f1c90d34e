"""Complaints: a placeholder saying what the page will show once its issue lands."""

import streamlit as st

from components.guard import page_setup

page_setup("Complaints")

st.title("Complaints")
st.info(
    "This page will show complaint counts by category, severity and status; the "
    "trend; backlog aging; first-response and resolution times; SLA compliance by "
    "severity; top issues; and churn and NPS of customers with and without a "
    "complaint that breached its SLA.",
    icon=":material/construction:",
)
