"""AppTest fixtures: Streamlit's caches are process-global, so each test starts clean."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st

ROOT = Path(__file__).resolve().parents[2]

# A page run alone by AppTest becomes the main script, and Streamlit then puts only
# pages/ on the import path; `streamlit run streamlit_app.py` puts the project root there.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def clear_streamlit_caches() -> Iterator[None]:
    """Clear st.cache_data and st.cache_resource after each test."""
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


# The demo accounts of app/demo.py, one per role; created on databases without them.
ROLE_USERNAMES = {"admin": "admin", "executive": "exec", "manager": "manager", "staff": "staff1"}


def ensure_user(url: str, role: str) -> dict:
    """The session-state entry of a signed-in user of ``role`` (created when missing)."""
    import datetime as dt

    from sqlmodel import Session, select

    from app.db import get_engine
    from app.models import Role, User

    username = ROLE_USERNAMES[role]
    with Session(get_engine(url)) as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            user = User(username=username, display_name=f"Test {role}", role=Role(role))
            session.add(user)
            session.commit()
            session.refresh(user)
        return {
            "user_id": user.id,
            "username": user.username,
            "display_name": user.display_name,
            "role": Role(user.role).value,
            "last_seen": dt.datetime.now(dt.UTC),
        }


@pytest.fixture
def sign_in():
    """Sign an AppTest in as a user of a role before its first run: ``sign_in(at, url)``."""

    def sign(at, url: str, role: str = "manager"):  # noqa: ANN001, ANN202 - AppTest
        at.session_state["crm_user"] = ensure_user(url, role)
        return at

    return sign


def displayed(table) -> pd.DataFrame:  # noqa: ANN001 - an AppTest Dataframe element
    """The cells of an AppTest dataframe as the grid shows them: a Styler's display values
    where components.tables styled the numbers (the grid keeps the numbers for sorting),
    else the values themselves."""
    from streamlit import dataframe_util

    values = table.value
    display_values = table.proto.arrow_data.styler.display_values
    if not display_values:
        return values
    display = dataframe_util.convert_arrow_bytes_to_pandas_df(display_values)
    shown = values.copy()
    for column in values.columns:
        # Unformatted columns come back as str(value): keep their values and types.
        if list(display[column]) != [str(value) for value in values[column]]:
            shown[column] = display[column].to_numpy()
    return shown
