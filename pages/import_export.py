"""Import & export: CSV and Excel files in and out, in the same format both ways."""

import streamlit as st

from app.services.access import Permission
from components import forms
from components.data import database_url
from components.guard import page_setup

actor = page_setup("Import & export", permission=Permission.export)
url = database_url()

st.title("Import & export")
st.caption("Columns of every file type: docs/import-formats.md; sample files: data/samples/.")
import_tab, export_tab = st.tabs(["Import", "Export"])
with import_tab:
    forms.import_panel(actor=actor, url=url)
with export_tab:
    forms.export_panel(actor=actor, url=url)
