"""The rows behind a KPI number, for any page that shows KPI cards: pick, see, export."""

from __future__ import annotations

import streamlit as st

from app import formatting as fmt
from app.kpi.analyses_sales import DRILLDOWN_KPIS
from app.kpi.registry import all_kpis
from app.services.access import Actor
from components.data_kpi import load_drilldown
from components.filters import GlobalFilters
from components.i18n import current_language, t
from components.kpi_cards import drilldown_view
from components.tables import data_table


def kpi_drilldown(
    kpi_ids: list[str], *, url: str, filters: GlobalFilters, actor: Actor, key_prefix: str
) -> None:
    """A KPI picker (those of ``kpi_ids`` that have rows behind them) and their rows."""
    available = [kpi_id for kpi_id in kpi_ids if kpi_id in DRILLDOWN_KPIS]
    if not available:
        return
    language = current_language()
    definitions = all_kpis()
    # Labels built during the run: format_func may be called outside it.
    labels = {kpi_id: definitions[kpi_id].label(language) for kpi_id in available}
    with st.expander(t("overview.drill_title"), icon=":material/table_rows:"):
        kpi_id = st.selectbox(
            t("overview.drill_pick"),
            available,
            format_func=labels.get,
            key=f"{key_prefix}_drill_kpi",
        )
        own = actor.user_id if actor.sees_own_customers_only else None
        rows = load_drilldown(url, filters.cache_key(), own, kpi_id)
        st.caption(
            t(
                "overview.drill_rows",
                count=len(rows),
                kpi=labels[kpi_id],
                period=f"{fmt.date(filters.period.start, language)} – "
                f"{fmt.date(filters.period.as_of_day, language)}",
            )
        )
        shown, config, formats = drilldown_view(rows, language)
        data_table(
            shown,
            file_stem=f"{kpi_id}_{filters.period.start.isoformat()}",
            key_prefix=f"{key_prefix}_drill",
            column_config=config,
            formats=formats,
        )
