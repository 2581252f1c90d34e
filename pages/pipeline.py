"""Pipeline: a placeholder saying what the page will show once its issue lands."""

import streamlit as st

from components.guard import page_setup

page_setup("Pipeline")

st.title("Pipeline")
st.info(
    "This page will show the funnel by stage (counts and amounts) with stage-to-stage "
    "conversion and drop-off to lost by creation cohort, the weighted forecast by "
    "expected close month, time in stage and sales-cycle length (median, p90), lost "
    "reasons and performance per owner.",
    icon=":material/construction:",
)
