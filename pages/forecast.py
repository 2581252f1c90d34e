"""Forecast: a placeholder saying what the page will show once its issue lands."""

import streamlit as st

from components.guard import page_setup

page_setup("Forecast")

st.title("Forecast")
st.info(
    "This page will show the demand forecast per product category and the weighted "
    "sales forecast, with the method used and its backtest error.",
    icon=":material/construction:",
)
