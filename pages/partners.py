"""Partners: a placeholder saying what the page will show once its issue lands."""

import streamlit as st

from components.guard import page_setup

page_setup("Partners")

st.title("Partners")
st.info(
    "This page will show the partner list by type (supplier, distributor, agent, "
    "service provider) and a network graph of the links between partners and "
    "customers.",
    icon=":material/construction:",
)
