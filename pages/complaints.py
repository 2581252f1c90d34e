"""Complaints: counts, trend, backlog aging, response and resolution times against the
SLA, top issues, and churn and NPS of customers with and without a breached complaint."""

import streamlit as st

from components import charts_service as service_charts
from components.charts_sales import (
    CardSpec,
    kpi_cards,
    period_caption,
    render_cards,
    show_chart,
    show_table,
)
from components.data import database_url
from components.data_analyses import complaint_data, today
from components.drilldown import kpi_drilldown
from components.empty_state import empty_state
from components.filters import read_filters, show_ignored
from components.guard import page_setup
from components.i18n import current_language, t

CARDS = (
    CardSpec("complaints_opened"),
    CardSpec("complaint_rate"),
    CardSpec("sla_compliance_rate"),
    CardSpec("open_past_sla"),
)
TIME_CARDS = (
    CardSpec("first_response_hours", details=("p90", "n")),
    CardSpec("resolution_hours", details=("p90", "n")),
)

actor = page_setup(t("common.page_complaints"))
language = current_language()
filters = read_filters(today())
data = complaint_data(filters, actor)

st.title(t("common.page_complaints"))
st.caption(period_caption(filters.period.start, filters.period.as_of_day, language))
show_ignored(filters)

if not data.has_data:
    empty_state(
        t("complaints.empty"),
        hint=t("common.no_data_hint") + "\n\n" + t("common.empty_database_hint"),
    )
else:
    render_cards(kpi_cards(data.kpis, CARDS, language), key_prefix="complaints")

    kpi_drilldown(
        [spec.kpi_id for spec in CARDS],
        url=database_url(),
        filters=filters,
        actor=actor,
        key_prefix="complaints",
    )

    st.subheader(t("complaints.section_counts"))
    left, right = st.columns(2)
    with left:
        show_chart(
            service_charts.counts_bar(data.by_severity, "severity", language),
            key="complaints_severity_chart",
            language=language,
        )
    with right:
        show_chart(
            service_charts.counts_bar(data.by_status, "status", language),
            key="complaints_status_chart",
            language=language,
        )

    st.subheader(t("complaints.section_top"))
    left, right = st.columns(2)
    with left:
        show_chart(
            service_charts.counts_bar(data.by_category, "category", language),
            key="complaints_category_chart",
            language=language,
        )
    with right:
        show_table(
            service_charts.top_issues_table(data.by_category, language),
            file_stem="complaint_top_issues",
            key_prefix="complaints_top",
        )

    st.subheader(t("complaints.section_trend"))
    left, right = st.columns(2)
    with left:
        show_chart(
            service_charts.trend_chart(data.trend, language),
            key="complaints_trend_chart",
            language=language,
        )
    with right:
        show_chart(
            service_charts.backlog_bar(data.backlog, language),
            key="complaints_backlog_chart",
            language=language,
        )

    st.subheader(t("complaints.section_times"))
    render_cards(kpi_cards(data.kpis, TIME_CARDS, language), key_prefix="complaints_times")
    left, right = st.columns(2)
    with left:
        show_chart(
            service_charts.response_times_bar(data.response, language),
            key="complaints_times_chart",
            language=language,
        )
    with right:
        show_chart(
            service_charts.sla_bar(data.response, language),
            key="complaints_sla_chart",
            language=language,
        )
    show_table(
        service_charts.response_table(data.response, language),
        file_stem="complaint_response_times",
        key_prefix="complaints_times",
    )

    st.subheader(t("complaints.section_breach"))
    st.caption(t("complaints.breach_note"))
    left, right = st.columns(2)
    with left:
        show_chart(
            service_charts.breach_chart(data.breach, language),
            key="complaints_breach_chart",
            language=language,
        )
    with right:
        show_table(
            service_charts.breach_table(data.breach, language),
            file_stem="complaint_breach_impact",
            key_prefix="complaints_breach",
        )
