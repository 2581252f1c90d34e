"""Pipeline: stages, the creation cohort's funnel, forecast by close month, time in
stage and sales cycle, lost reasons and performance per owner."""

import streamlit as st

from components import charts_sales as charts
from components.charts_sales import CardSpec
from components.data import database_url
from components.data_analyses import pipeline_data, today
from components.drilldown import kpi_drilldown
from components.empty_state import empty_state
from components.filters import read_filters, show_ignored
from components.guard import page_setup
from components.i18n import current_language, t

CARDS = (
    CardSpec("pipeline_value"),
    CardSpec("weighted_pipeline"),
    CardSpec("win_rate"),
    CardSpec("sales_cycle_days", details=("p90", "n")),
)

actor = page_setup(t("common.page_pipeline"))
language = current_language()
filters = read_filters(today())
data = pipeline_data(filters, actor)

st.title(t("common.page_pipeline"))
st.caption(charts.period_caption(filters.period.start, filters.period.as_of_day, language))
show_ignored(filters)

if not data.has_data:
    empty_state(
        t("pipeline.empty"),
        hint=t("common.no_data_hint") + "\n\n" + t("common.empty_database_hint"),
    )
else:
    charts.render_cards(charts.kpi_cards(data.kpis, CARDS, language), key_prefix="pipeline")

    kpi_drilldown(
        [spec.kpi_id for spec in CARDS],
        url=database_url(),
        filters=filters,
        actor=actor,
        key_prefix="pipeline",
    )

    st.subheader(t("pipeline.section_stages"))
    st.caption(t("pipeline.stages_note"))
    left, right = st.columns(2)
    with left:
        charts.show_chart(
            charts.pipeline_stage_funnel(data.by_stage, language),
            key="pipeline_stages_chart",
            language=language,
        )
    with right:
        charts.show_chart(
            charts.pipeline_amount_bar(data.by_stage, language),
            key="pipeline_amounts_chart",
            language=language,
        )
    with st.expander(t("pipeline.table_stages")):
        charts.show_table(
            charts.pipeline_table(data.by_stage, language),
            file_stem="pipeline_stages",
            key_prefix="pipeline_stages",
        )

    st.subheader(t("pipeline.section_cohort"))
    st.caption(t("pipeline.cohort_note"))
    left, right = st.columns(2)
    with left:
        charts.show_chart(
            charts.cohort_funnel(data.cohort, language),
            key="pipeline_cohort_chart",
            language=language,
        )
    with right:
        charts.show_table(
            charts.cohort_table(data.cohort, language),
            file_stem="pipeline_cohort",
            key_prefix="pipeline_cohort",
        )

    st.subheader(t("pipeline.section_forecast"))
    st.caption(t("pipeline.forecast_note", day=charts.fmt.date(data.forecast_as_of, language)))
    charts.show_chart(
        charts.close_month_forecast(data.close_months, language),
        key="pipeline_forecast_chart",
        language=language,
    )
    with st.expander(t("pipeline.table_forecast")):
        charts.show_table(
            charts.forecast_table(data.close_months, language),
            file_stem="pipeline_forecast",
            key_prefix="pipeline_forecast",
        )

    st.subheader(t("pipeline.section_time"))
    left, right = st.columns(2)
    with left:
        charts.show_chart(
            charts.time_in_stage_bar(data.time_in_stage, data.cycle, language),
            key="pipeline_time_chart",
            language=language,
        )
    with right:
        charts.show_table(
            charts.time_table(data.time_in_stage, data.cycle, language),
            file_stem="pipeline_time_in_stage",
            key_prefix="pipeline_time",
        )

    st.subheader(t("pipeline.section_lost"))
    left, right = st.columns(2)
    with left:
        charts.show_chart(
            charts.lost_reasons_bar(data.lost, language),
            key="pipeline_lost_chart",
            language=language,
        )
    with right:
        charts.show_table(
            charts.lost_table(data.lost, language),
            file_stem="pipeline_lost_reasons",
            key_prefix="pipeline_lost",
        )

    st.subheader(t("pipeline.section_owners"))
    charts.show_table(
        charts.owner_table(data.owners, language),
        file_stem="pipeline_owners",
        key_prefix="pipeline_owners",
    )
