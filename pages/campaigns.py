"""Campaigns: results per campaign, the channel comparison and a campaign's funnel."""

import streamlit as st

from components import charts_sales as charts
from components.charts_sales import CardSpec
from components.data import database_url
from components.data_analyses import campaign_data, today
from components.drilldown import kpi_drilldown
from components.empty_state import empty_state
from components.filters import read_filters, show_ignored
from components.guard import page_setup
from components.i18n import current_language, t

CARDS = (CardSpec("marketing_cost"), CardSpec("marketing_roi"), CardSpec("cac"))

actor = page_setup(t("common.page_campaigns"))
language = current_language()
filters = read_filters(today())
data = campaign_data(filters, actor)

st.title(t("common.page_campaigns"))
st.caption(charts.period_caption(filters.period.start, filters.period.as_of_day, language))
show_ignored(filters)

if not data.has_data:
    empty_state(
        t("campaigns.empty"),
        hint=t("common.no_data_hint") + "\n\n" + t("common.empty_database_hint"),
    )
else:
    charts.render_cards(charts.kpi_cards(data.kpis, CARDS, language), key_prefix="campaigns")
    kpi_drilldown(
        [spec.kpi_id for spec in CARDS],
        url=database_url(),
        filters=filters,
        actor=actor,
        key_prefix="campaigns",
    )

    st.subheader(t("campaigns.section_table"))
    st.caption(t("campaigns.table_note"))
    charts.show_table(
        charts.campaign_table(data.campaigns, language),
        file_stem="campaigns",
        key_prefix="campaigns_results",
    )

    st.subheader(t("campaigns.section_channels"))
    charts.show_chart(
        charts.channel_comparison(data.channels, language),
        key="campaigns_channel_chart",
        language=language,
    )
    with st.expander(t("campaigns.table_channels")):
        charts.show_table(
            charts.channel_table(data.channels, language),
            file_stem="campaign_channels",
            key_prefix="campaigns_channels",
        )

    st.subheader(t("campaigns.section_funnel"))
    chosen = st.selectbox(
        t("campaigns.pick"),
        list(data.options),
        format_func=lambda campaign_id: data.options.get(campaign_id, str(campaign_id)),
        key="campaigns_pick",
    )
    charts.show_chart(
        charts.campaign_funnel(data.row(chosen), language),
        key="campaigns_funnel_chart",
        language=language,
    )
