"""The user's language for this session, and ``t()`` to translate with it."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.i18n import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES, normalise_language, translate

LANGUAGE_KEY = "crm_language"
PICKER_KEY = "crm_language_picker"


def current_language() -> str:
    """The session's language: the URL's ``lang``, the session's choice, else Vietnamese."""
    from_url = st.query_params.get("lang")
    if from_url in LANGUAGES:
        # Remember it: the navigation's links drop the query string.
        st.session_state[LANGUAGE_KEY] = from_url
        return from_url
    return normalise_language(st.session_state.get(LANGUAGE_KEY, DEFAULT_LANGUAGE))


def set_language(language: str) -> None:
    """Remember the language in the session and the URL (so links keep it)."""
    language = normalise_language(language)
    st.session_state[LANGUAGE_KEY] = language
    st.query_params["lang"] = language


def t(key: str, /, **params: Any) -> str:
    """Translate ``key`` into the session's language."""
    return translate(key, current_language(), **params)


def _language_chosen() -> None:
    set_language(st.session_state[PICKER_KEY])


def language_switch() -> None:
    """A language picker in the sidebar; the choice is kept in the session and the URL."""
    current = current_language()
    # The URL may have changed the language since the last run: the picker follows it.
    st.session_state[PICKER_KEY] = current
    st.sidebar.selectbox(
        translate("common.language", current),
        LANGUAGES,
        key=PICKER_KEY,
        format_func=LANGUAGE_NAMES.get,
        on_change=_language_chosen,
    )


def enum_label(value: Any) -> str:
    """An enum member's label in the session's language (for format_func and tables)."""
    from app.i18n import enum_label as _enum_label

    return _enum_label(value, current_language())


def tm(message: object) -> str:
    """A service error message (InvalidInput field text, Conflict, NotFound...) translated."""
    from app.i18n import translate_message

    return translate_message(str(message), current_language())
