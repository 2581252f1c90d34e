"""Sign-in for the Streamlit app: the form, the signed-in user in session state, sign-out.

The signed-in user lives in ``st.session_state["crm_user"]`` as a plain dict
(user_id, username, display_name, role, last_seen). Every run checks it against the
database (still active? which role now?) and against the idle limit (setting
``session_idle_hours``), so a deactivated account or an idle browser is signed out.

Optional single sign-on goes through ``st.login`` (OIDC) when ``.streamlit/secrets.toml``
has an ``[auth]`` section; the provider's email is matched to an active user. Without
that section (AppTest, CI, a default install) none of that code runs.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from app import config
from app import formatting as fmt
from app.auth import (
    active_user_by_email,
    authenticate,
    record_sign_in,
    session_expired,
    sign_out,
)
from app.errors import CRMError, DatabaseUnavailable, InvalidInput, PermissionDenied
from app.models import AuditAction, Role, User, utcnow
from app.services.access import Actor
from app.services.users import (
    audit_entities,
    audit_log,
    change_role,
    count_users,
    create_user,
    deactivate_user,
    list_users,
    reactivate_user,
    reset_password,
)
from app.settings import display_timezone, get_setting, local_midnight_utc
from components.data import QUERY_MAX_ENTRIES, database_url, engine
from components.i18n import current_language, enum_label, t, tm
from components.tables import translate_enum_columns

SESSION_KEY = "crm_user"
# A message for the next sign-in form ("your session expired"), popped when shown.
NOTICE_KEY = "crm_sign_in_notice"
# Account state (active, role) is cached this long; admin writes clear it at once.
ACCOUNT_TTL_SECONDS = 30


@dataclass
class SignedInUser:
    """What the session remembers about the signed-in user (no secrets)."""

    user_id: int
    username: str
    display_name: str
    role: str
    last_seen: dt.datetime

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user_id, username=self.username, role=Role(self.role))


@st.cache_data(ttl=ACCOUNT_TTL_SECONDS, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_account(url: str, user_id: int) -> tuple[bool, str, str] | None:
    """(active, role, display name) of a user, or None when it does not exist."""
    with Session(engine(url)) as session:
        user = session.get(User, user_id)
        if user is None:
            return None
        return bool(user.active), Role(user.role).value, user.display_name


@st.cache_data(ttl=60, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_idle_hours(url: str) -> float:
    """The ``session_idle_hours`` setting."""
    with Session(engine(url)) as session:
        return float(get_setting(session=session, key="session_idle_hours"))


@st.cache_data(ttl=30, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_user_count(url: str) -> int:
    """How many accounts exist (the sign-in page explains how to create the first)."""
    with Session(engine(url)) as session:
        return count_users(session=session)


def clear_account_caches() -> None:
    """Forget cached account state; call after changing users."""
    load_account.clear()
    load_user_count.clear()


def _remember(user: SignedInUser) -> None:
    st.session_state[SESSION_KEY] = asdict(user)


def _forget(notice: str | None = None) -> None:
    st.session_state.pop(SESSION_KEY, None)
    if notice:
        st.session_state[NOTICE_KEY] = notice


def _stored_user(value: Any) -> SignedInUser | None:
    if isinstance(value, SignedInUser):
        return value
    if not isinstance(value, dict):
        return None
    try:
        last_seen = value.get("last_seen")
        if isinstance(last_seen, str):
            last_seen = dt.datetime.fromisoformat(last_seen)
        return SignedInUser(
            user_id=int(value["user_id"]),
            username=str(value["username"]),
            display_name=str(value.get("display_name") or value["username"]),
            role=Role(value["role"]).value,
            last_seen=last_seen,
        )
    except (KeyError, TypeError, ValueError):
        return None


def _audit_sign_out(url: str, user: SignedInUser, reason: str = "") -> None:
    with Session(engine(url)) as session:
        sign_out(session=session, user_id=user.user_id, username=user.username, reason=reason)


def current_user() -> SignedInUser | None:
    """The signed-in user, checked against the database and the idle limit, or None.

    Signs out (audited) an idle session and one whose account was deactivated or
    removed; refreshes the role from the database; records this run as activity.
    """
    stored = st.session_state.get(SESSION_KEY)
    url = database_url()
    try:
        if stored is None:
            return _sso_user(url) if sso_configured() else None
        user = _stored_user(stored)
        if user is None:
            _forget()
            return None
        now = utcnow()
        idle_hours = load_idle_hours(url)
        if user.last_seen is None or session_expired(user.last_seen, now, idle_hours):
            _audit_sign_out(url, user, reason="expired")
            if sso_configured() and _sso_logged_in():
                st.logout()
            _forget(t("auth.expired", hours=f"{idle_hours:g}"))
            return None
        account = load_account(url, user.user_id)
        if account is None or not account[0]:
            _audit_sign_out(url, user, reason="inactive")
            _forget(t("auth.inactive"))
            return None
    except DatabaseUnavailable:
        # The page's database check shows what to fix; the session stays as it was.
        return None
    _, user.role, user.display_name = account
    user.last_seen = now
    _remember(user)
    return user


def current_actor() -> Actor | None:
    """The signed-in user as the services' Actor, or None."""
    user = current_user()
    return user.actor if user is not None else None


# --------------------------------------------------------------------------- the form
def sign_in_form() -> None:
    """The sign-in page: the form, demo accounts in demo mode, a first-run hint."""
    url = database_url()
    st.title(t("auth.title"))
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.info(notice, icon=":material/logout:")
    with st.form("sign_in_form", clear_on_submit=True):
        username = st.text_input(
            t("auth.username"), key="sign_in_form_username", max_chars=200, autocomplete="username"
        )
        password = st.text_input(
            t("auth.password"),
            type="password",
            key="sign_in_form_password",
            max_chars=200,
            autocomplete="current-password",
        )
        submitted = st.form_submit_button(t("auth.submit"), type="primary", icon=":material/login:")
    if submitted:
        try:
            with Session(engine(url)) as session:
                actor = authenticate(session=session, username=username, password=password)
                user = session.get(User, actor.user_id)
                display_name = user.display_name if user is not None else actor.username
        except PermissionDenied as exc:
            st.error(tm(exc), icon=":material/lock:")
        else:
            _remember(
                SignedInUser(
                    user_id=actor.user_id,
                    username=actor.username,
                    display_name=display_name,
                    role=Role(actor.role).value,
                    last_seen=utcnow(),
                )
            )
            st.rerun()
    if sso_configured():
        st.button(
            t("auth.sso"),
            key="sign_in_sso",
            icon=":material/key:",
            on_click=st.login,
        )
    if config.demo_mode():
        _demo_accounts()
    elif load_user_count(url) == 0:
        st.warning(
            t("auth.no_users"),
            icon=":material/person_add:",
        )


def _demo_accounts() -> None:
    from app.demo import DEMO_ACCOUNTS

    rows = "\n".join(
        f"| `{username}` | {enum_label(Role(role))} | `{password}` |"
        for username, (role, password) in DEMO_ACCOUNTS.items()
    )
    header = f"| {t('auth.demo_username')} | {t('auth.demo_role')} | {t('auth.demo_password')} |"
    st.markdown(f"{t('auth.demo_intro')}\n\n{header}\n|---|---|---|\n{rows}")


def user_sidebar(user: SignedInUser) -> None:
    """Who is signed in, their role, and the sign-out button, in the sidebar."""
    with st.sidebar:
        role = enum_label(Role(user.role)).lower()
        st.markdown(f"**{user.display_name}**  \n`{user.username}` · {role}")
        if st.button(t("auth.sign_out"), key="sign_out", icon=":material/logout:"):
            _audit_sign_out(database_url(), user)
            _forget(t("auth.signed_out"))
            if sso_configured() and _sso_logged_in():
                st.logout()
            st.rerun()


# --------------------------------------------------------------------------- single sign-on
def sso_configured() -> bool:
    """Whether ``st.login`` is set up: an ``[auth]`` section in secrets and Authlib."""
    try:
        if not st.secrets.load_if_toml_exists() or "auth" not in st.secrets:
            return False
    except Exception:  # noqa: BLE001 - an unreadable secrets file means no SSO
        return False
    return importlib.util.find_spec("authlib") is not None


def _sso_logged_in() -> bool:
    return bool(getattr(st.user, "is_logged_in", False))


def _sso_user(url: str) -> SignedInUser | None:
    """Sign in the active user whose email the identity provider confirmed, if any."""
    if not _sso_logged_in():
        return None
    email = str(st.user.get("email") or "")
    with Session(engine(url)) as session:
        user = active_user_by_email(session=session, email=email)
        if user is None:
            st.error(
                t("auth.sso_no_account", email=email or t("auth.sso_no_email")),
                icon=":material/person_off:",
            )
            st.button(t("auth.sso_other_account"), key="sso_logout", on_click=st.logout)
            return None
        record_sign_in(session=session, user=user, method="sso")
        signed_in = SignedInUser(
            user_id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=Role(user.role).value,
            last_seen=utcnow(),
        )
    _remember(signed_in)
    return signed_in


# --------------------------------------------------------------------------- admin page
def _actor_args(actor: Actor) -> tuple[int | None, str, str]:
    # Cached loaders take plain values; the Actor is rebuilt inside.
    return actor.user_id, actor.username, Role(actor.role).value


def _actor(user_id: int | None, username: str, role: str) -> Actor:
    return Actor(user_id=user_id, username=username, role=Role(role))


@st.cache_data(ttl=60, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_users(url: str, user_id: int | None, username: str, role: str) -> pd.DataFrame:
    """Every account (no password hashes), for admins."""
    with Session(engine(url)) as session:
        return list_users(session=session, actor=_actor(user_id, username, role))


@st.cache_data(ttl=15, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_audit(
    url: str,
    actor_args: tuple[int | None, str, str],
    user_id: int | None,
    entity: str | None,
    action: str | None,
    start_iso: str | None,
    end_iso: str | None,
) -> pd.DataFrame:
    """Audit rows for the filters; dates are local days, ``end_iso`` included."""
    with Session(engine(url)) as session:
        tz = display_timezone(session=session)
        start = local_midnight_utc(dt.date.fromisoformat(start_iso), tz) if start_iso else None
        end = (
            local_midnight_utc(dt.date.fromisoformat(end_iso) + dt.timedelta(days=1), tz)
            if end_iso
            else None
        )
        frame = audit_log(
            session=session,
            actor=_actor(*actor_args),
            user_id=user_id,
            entity=entity,
            action=action,
            start=start,
            end=end,
        )
    frame["at"] = frame["at"].dt.tz_convert(tz.key)
    return frame


@st.cache_data(ttl=60, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def load_audit_entities(url: str, actor_args: tuple[int | None, str, str]) -> list[str]:
    """Entity names present in the audit log."""
    with Session(engine(url)) as session:
        return audit_entities(session=session, actor=_actor(*actor_args))


def _after_user_write(message: str, key_prefix: str) -> None:
    clear_account_caches()
    load_users.clear()
    load_audit.clear()
    load_audit_entities.clear()
    st.session_state[f"{key_prefix}_flash"] = message
    st.rerun()


def _show_error(exc: CRMError) -> None:
    if isinstance(exc, InvalidInput):
        labels = {
            field: t(f"admin.{field}")
            for field in ("username", "display_name", "email", "role", "password")
        }
        for field, message in exc.field_errors.items():
            label = labels.get(field) or field.replace("_", " ").capitalize()
            st.error(f"{label} {tm(message)}.")
    else:
        st.error(tm(exc))


def users_admin(actor: Actor, *, key_prefix: str = "users") -> None:
    """The users table, a form to create one, and changes to an existing one."""
    url = database_url()
    flash = st.session_state.pop(f"{key_prefix}_flash", None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    users = load_users(url, *_actor_args(actor))
    st.dataframe(
        translate_enum_columns(users, {"role": Role}),
        hide_index=True,
        placeholder="",
        width="stretch",
        column_config={
            "id": None,
            "display_name": t("admin.column_name"),
            "failed_attempts": st.column_config.NumberColumn(t("admin.column_failed_attempts")),
            "locked_until": st.column_config.DatetimeColumn(t("admin.column_locked_until")),
            "created_at": st.column_config.DatetimeColumn(
                t("admin.column_created_at"), format="YYYY-MM-DD"
            ),
        },
        key=f"{key_prefix}_table",
    )
    create_column, change_column = st.columns(2)
    with create_column:
        _create_user_form(actor)
    with change_column:
        _change_user(actor, users, key_prefix=key_prefix)


def _create_user_form(actor: Actor) -> None:
    st.markdown(t("admin.new_user"))
    # Built during the run: format_func may be called outside it.
    role_labels = {role.value: enum_label(role) for role in Role}
    with st.form("user_form", clear_on_submit=True):
        username = st.text_input(t("admin.username"), key="user_form_username")
        display_name = st.text_input(t("admin.display_name"), key="user_form_display_name")
        email = st.text_input(t("admin.email"), key="user_form_email")
        role = st.selectbox(
            t("admin.role"),
            [r.value for r in Role],
            index=3,
            key="user_form_role",
            format_func=role_labels.get,
        )
        password = st.text_input(t("admin.password"), type="password", key="user_form_password")
        submitted = st.form_submit_button(t("admin.create_user"), icon=":material/person_add:")
    if submitted:
        try:
            with Session(engine(database_url())) as session:
                create_user(
                    session=session,
                    actor=actor,
                    data={
                        "username": username.strip(),
                        "display_name": display_name.strip() or username.strip(),
                        "email": email.strip() or None,
                        "role": role,
                        "password": password,
                    },
                )
        except CRMError as exc:
            _show_error(exc)
        else:
            _after_user_write(
                t("admin.created", role=role_labels[role].lower(), username=username.strip()),
                "users",
            )


def _change_user(actor: Actor, users: pd.DataFrame, *, key_prefix: str) -> None:
    st.markdown(t("admin.change_user"))
    if users.empty:
        st.caption(t("admin.no_user"))
        return
    inactive = t("admin.inactive")
    role_labels = {role.value: enum_label(role) for role in Role}
    labels = {
        int(row.id): f"{row.username} — {row.display_name} ({role_labels.get(row.role, row.role)}"
        + ("" if row.active else inactive)
        + ")"
        for row in users.itertuples()
    }
    user_id = st.selectbox(
        t("admin.user"), list(labels), format_func=labels.get, key=f"{key_prefix}_selected"
    )
    row = users.loc[users["id"] == user_id].iloc[0]
    url = database_url()

    def run(action, done: str) -> None:  # noqa: ANN001 - a service call taking a session
        try:
            with Session(engine(url)) as session:
                action(session)
        except CRMError as exc:
            _show_error(exc)
        else:
            _after_user_write(done, key_prefix)

    with st.form("role_form"):
        roles = [r.value for r in Role]
        role = st.selectbox(
            t("admin.role"),
            roles,
            index=roles.index(row.role),
            key="role_form_role",
            format_func=role_labels.get,
        )
        if st.form_submit_button(t("admin.change_role"), icon=":material/badge:"):
            run(
                lambda s: change_role(session=s, actor=actor, user_id=user_id, role=role),
                t("admin.role_changed", username=row.username, role=role_labels[role].lower()),
            )
    with st.form("password_form", clear_on_submit=True):
        password = st.text_input(
            t("admin.new_password"), type="password", key="password_form_password"
        )
        if st.form_submit_button(t("admin.reset_password"), icon=":material/password:"):
            run(
                lambda s: reset_password(
                    session=s, actor=actor, user_id=user_id, password=password
                ),
                t("admin.password_reset", username=row.username),
            )
    if row.active:
        if st.button(
            t("admin.deactivate"), key=f"{key_prefix}_deactivate", icon=":material/person_off:"
        ):
            run(
                lambda s: deactivate_user(session=s, actor=actor, user_id=user_id),
                t("admin.deactivated", username=row.username),
            )
    elif st.button(
        t("admin.reactivate"), key=f"{key_prefix}_reactivate", icon=":material/person_check:"
    ):
        run(
            lambda s: reactivate_user(session=s, actor=actor, user_id=user_id),
            t("admin.reactivated", username=row.username),
        )


def audit_log_view(actor: Actor, *, key_prefix: str = "audit") -> None:
    """The audit log with filters (user, entity, action, dates) and a CSV download."""
    url = database_url()
    args = _actor_args(actor)
    users = load_users(url, *_actor_args(actor))
    user_labels = {None: t("admin.all_users")}
    user_labels.update({int(row.id): row.username for row in users.itertuples()})
    entities = load_audit_entities(url, args)
    entity_labels = {None: t("admin.all_entities"), **{entity: entity for entity in entities}}
    action_labels = {None: t("admin.all_actions")}
    action_labels.update({a.value: enum_label(a) for a in AuditAction})
    # The real date, not CRM_AS_OF: audit rows are stamped with the real time.
    today = dt.datetime.now(display_timezone()).date()
    user_column, entity_column, action_column, date_column = st.columns(4)
    user_id = user_column.selectbox(
        t("admin.user"),
        list(user_labels),
        format_func=user_labels.get,
        key=f"{key_prefix}_user",
    )
    entity = entity_column.selectbox(
        t("admin.entity"),
        list(entity_labels),
        format_func=entity_labels.get,
        key=f"{key_prefix}_entity",
    )
    action = action_column.selectbox(
        t("admin.action"),
        list(action_labels),
        format_func=action_labels.get,
        key=f"{key_prefix}_action",
    )
    days = date_column.date_input(
        t("admin.dates"),
        value=(today - dt.timedelta(days=30), today),
        key=f"{key_prefix}_dates",
    )
    start, end = (
        (tuple(days) + (None, None))[:2] if isinstance(days, tuple | list) else (days, days)
    )
    frame = load_audit(
        url,
        args,
        user_id,
        entity,
        action,
        start.isoformat() if start else None,
        (end or start).isoformat() if start else None,
    )
    st.caption(t("admin.audit_rows", rows=fmt.number(len(frame), current_language())))
    st.dataframe(
        translate_enum_columns(frame, {"action": AuditAction}),
        hide_index=True,
        placeholder="",
        width="stretch",
        key=f"{key_prefix}_table",
    )
    st.download_button(
        t("admin.download_csv"),
        frame.to_csv(index=False).encode("utf-8"),
        file_name="audit_log.csv",
        mime="text/csv",
        icon=":material/download:",
        key=f"{key_prefix}_download",
    )
