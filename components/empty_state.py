"""A friendly "nothing here yet" block, shown instead of zeros, empty charts or errors."""

from __future__ import annotations

import streamlit as st

LOAD_DATA_HINT = (
    "To explore the dashboards with sample data, load the demo dataset from a terminal "
    "in the project folder: `python -m app seed-demo`, then reload this page."
)


def empty_state(message: str, *, hint: str = LOAD_DATA_HINT) -> None:
    """Say why there is nothing to show (``message``) and how to get data (``hint``)."""
    st.info(f"{message}\n\n{hint}", icon=":material/inbox:")
