"""AppTest fixtures: Streamlit's caches are process-global, so each test starts clean."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

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
