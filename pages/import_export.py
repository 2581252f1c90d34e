"""Import & export: a placeholder saying what the page will show once its issue lands."""

import streamlit as st

from components.guard import page_setup

page_setup("Import & export")

st.title("Import & export")
st.info(
    "This page will show bulk import of CSV and Excel files with automatic column "
    "mapping from English and Vietnamese headers, a preview, validation of every row "
    "before anything is written and a downloadable report of rejected rows; and "
    "export of every entity in the same format.",
    icon=":material/construction:",
)
