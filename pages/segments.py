"""Segments: a placeholder saying what the page will show once its issue lands."""

import streamlit as st

from components.guard import page_setup

page_setup("Segments")

st.title("Segments")
st.info(
    "This page will show the RFM segment map (a heat map of R × F scores with "
    "monetary value), segment sizes and value shares, and the loyalty ladder with the "
    "migration matrix between two periods; managers will tune RFM weights and bins "
    "and see the segments recomputed before saving.",
    icon=":material/construction:",
)
