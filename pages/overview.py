"""Overview: active customers, revenue this month against last month, open complaints."""

import streamlit as st

from components.data import database_url, load_overview, load_today
from components.empty_state import empty_state
from components.guard import page_setup
from components.kpi_cards import kpi_card_row, overview_caption, overview_cards

page_setup("Overview")

url = database_url()
numbers = load_overview(url, load_today(url))

st.title("Overview")
if not numbers.has_records:
    empty_state("The database holds no customers and no orders yet, so there is nothing to count.")
else:
    st.caption(overview_caption(numbers))
    kpi_card_row(overview_cards(numbers), key_prefix="overview")
