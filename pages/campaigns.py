"""Campaigns: a placeholder saying what the page will show once its issue lands."""

import streamlit as st

from components.guard import page_setup

page_setup("Campaigns")

st.title("Campaigns")
st.info(
    "This page will show per campaign the budget, actual cost, members, responses, "
    "conversions, revenue, margin, ROI and CAC; a comparison of channels; and each "
    "campaign's funnel.",
    icon=":material/construction:",
)
