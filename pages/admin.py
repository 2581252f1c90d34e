"""Admin: a placeholder saying what the page will show once its issue lands."""

import streamlit as st

from components.guard import page_setup

page_setup("Admin")

st.title("Admin")
st.info(
    "This page will show user accounts (create, deactivate, reset password, change "
    "role), the settings, and the audit log with filters by user, entity, action and "
    "date, exportable.",
    icon=":material/construction:",
)
