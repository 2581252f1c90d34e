"""CRM evaluation: a placeholder saying what the page will show once its issue lands."""

import streamlit as st

from components.guard import page_setup

page_setup("CRM evaluation")

st.title("CRM evaluation")
st.info(
    "This page will show the CRM evaluation scorecard of the source documents grouped "
    "by family (results, internal, external, financial, customer, database quality), "
    "each KPI with its value, comparison, target, status colour and formula; a data- "
    "completeness section listing the records to fix per owner; and targets that "
    "managers can edit.",
    icon=":material/construction:",
)
