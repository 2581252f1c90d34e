"""Import & export: CSV and Excel files in and out, in the same format both ways."""

import streamlit as st

from app.services.access import Permission
from components import transfer_panels
from components.data import database_url
from components.guard import page_setup
from components.i18n import t

actor = page_setup(t("common.page_import_export"), permission=Permission.export)
url = database_url()

st.title(t("common.page_import_export"))
st.caption(t("transfer.caption"))
import_tab, export_tab = st.tabs([t("transfer.tab_import"), t("transfer.tab_export")])
with import_tab:
    transfer_panels.import_panel(actor=actor, url=url)
with export_tab:
    transfer_panels.export_panel(actor=actor, url=url)
