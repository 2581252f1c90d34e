"""Admin: user accounts (create, deactivate, reset password, change role) and the audit log."""

import streamlit as st

from app.services.access import Permission
from components.auth import audit_log_view, users_admin
from components.guard import page_setup
from components.i18n import t

actor = page_setup(t("common.page_admin"), permission=Permission.users)

st.title(t("common.page_admin"))
users_tab, audit_tab = st.tabs([t("admin.tab_users"), t("admin.tab_audit")])
with users_tab:
    users_admin(actor, key_prefix="users")
with audit_tab:
    audit_log_view(actor, key_prefix="audit")
