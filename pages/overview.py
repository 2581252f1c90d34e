"""Overview for executives: eight KPI cards, revenue and profit trend, biggest changes,
and the rows behind a number, for the sidebar's period, comparison and filters."""

import datetime as dt

import streamlit as st

from components.charts_overview import revenue_profit_trend
from components.data import database_url, load_today
from components.data_kpi import (
    DRILLDOWN_CARD_KPIS,
    OVERVIEW_KPIS,
    load_drilldown,
    load_has_records,
    load_overview,
)
from components.empty_state import empty_state
from components.filters import read_filters, show_ignored
from components.guard import page_setup
from components.i18n import current_language, t
from components.kpi_cards import (
    activity_line,
    biggest_changes,
    change_line,
    drilldown_view,
    kpi_label,
    kpi_metric,
    kpi_metric_grid,
    period_caption,
)
from components.tables import data_table

actor = page_setup(t("overview.title"))
language = current_language()
url = database_url()

st.title(t("overview.title"))
if not load_has_records(url):
    empty_state(t("overview.empty"), hint=t("common.empty_database_hint"))
    st.stop()

filters = read_filters(dt.date.fromisoformat(load_today(url)))
show_ignored(filters)
# Staff see their own and unassigned customers only (app.services.access).
own = actor.user_id if actor.sees_own_customers_only else None
key = filters.cache_key()
overview = load_overview(url, key, own)
report = overview["report"]
kpis = {kpi["id"]: kpi for kpi in report["kpis"]}
sparklines = overview["sparklines"]

period_text, comparison_text = period_caption(report, language)
st.caption(t("overview.caption", period=period_text, comparison=comparison_text))
if own is not None:
    st.caption(t("overview.own_only"))

kpi_metric_grid(
    [kpi_metric(kpis[kpi_id], sparklines[kpi_id], language) for kpi_id in OVERVIEW_KPIS],
    key_prefix="overview",
)
st.markdown(activity_line(kpis, language))

trend_column, changes_column = st.columns([3, 2], gap="large")
with trend_column:
    figure = revenue_profit_trend(overview["trend"], language)
    if figure is None:
        st.info(t("overview.trend_empty"), icon=":material/show_chart:")
    else:
        st.plotly_chart(figure, width="stretch", key="overview_trend")
with changes_column:
    st.subheader(t("overview.changes_title"))
    st.caption(t("overview.changes_caption"))
    moved = biggest_changes(report["kpis"])
    if moved:
        st.markdown("\n".join(f"- {change_line(kpi, language)}" for kpi in moved))
    else:
        st.info(t("overview.changes_none"), icon=":material/info:")

st.subheader(t("overview.drill_title"))
drill_kpi = st.selectbox(
    t("overview.drill_pick"),
    DRILLDOWN_CARD_KPIS,
    format_func=lambda kpi_id: kpi_label(kpis[kpi_id], language),
    key="overview_drill_kpi",
)
rows = load_drilldown(url, key, own, drill_kpi)
st.caption(
    t(
        "overview.drill_rows",
        count=len(rows),
        kpi=kpi_label(kpis[drill_kpi], language),
        period=period_text,
    )
)
shown, config, formats = drilldown_view(rows, language)
data_table(
    shown,
    file_stem=f"{drill_kpi}_{filters.period.start.isoformat()}",
    key_prefix="overview_drill",
    column_config=config,
    formats=formats,
)
