"""Forecast: demand per product category with its method and backtest error, and the
weighted sales forecast by expected close month."""

import streamlit as st

from app.kpi.forecast import FORECAST_METHODS
from components import charts_sales as charts
from components.data_analyses import FORECAST_HORIZON, forecast_data, today
from components.empty_state import empty_state
from components.filters import read_filters, show_ignored
from components.guard import page_setup
from components.i18n import current_language, t

actor = page_setup(t("common.page_forecast"))
language = current_language()
filters = read_filters(today())

st.title(t("common.page_forecast"))
show_ignored(filters)

# Labels are looked up once here: Streamlit may call format_func after the script run.
method_names = {name: t(f"forecast.method_{name}") for name in FORECAST_METHODS}
measure_names = {name: t(f"forecast.measure_{name}") for name in ("revenue", "quantity")}
all_categories = t("forecast.all_categories")

left, middle, right = st.columns([2, 2, 1])
method = left.selectbox(
    t("forecast.method"), list(method_names), format_func=method_names.get, key="forecast_method"
)
data = forecast_data(filters, actor, method)
category = middle.selectbox(
    t("forecast.category"),
    [None, *data.categories],
    format_func=lambda name: all_categories if name is None else name,
    key="forecast_category",
)
measure = right.radio(
    t("forecast.measure"),
    list(measure_names),
    format_func=measure_names.get,
    key="forecast_measure",
    horizontal=True,
)
st.caption(
    t(
        "forecast.as_of",
        day=charts.fmt.date(data.as_of, language),
        horizon=FORECAST_HORIZON,
    )
)
st.info(t(f"forecast.method_{method}_help"), icon=":material/functions:")

if not data.has_data:
    empty_state(
        t("forecast.empty"),
        hint=t("common.no_data_hint") + "\n\n" + t("common.empty_database_hint"),
    )
else:
    st.subheader(t("forecast.section_demand"))
    charts.show_chart(
        charts.demand_chart(data.demand, language, category=category, measure=measure),
        key="forecast_demand_chart",
        language=language,
    )
    errors, note = st.columns([3, 2])
    with errors:
        st.markdown(f"**{t('forecast.backtest_title')}**")
        charts.show_table(
            charts.backtest_table(data.backtest, language),
            file_stem="forecast_backtest",
            key_prefix="forecast_backtest",
        )
    with note:
        st.caption(t("forecast.backtest_note", horizon=FORECAST_HORIZON))
    with st.expander(t("forecast.table_demand")):
        charts.show_table(
            charts.demand_table(data.demand, language),
            file_stem="demand_forecast",
            key_prefix="forecast_demand",
        )

    st.subheader(t("forecast.section_sales"))
    st.caption(t("forecast.sales_note"))
    left, right = st.columns([3, 2])
    with left:
        charts.show_chart(
            charts.sales_forecast_bar(data.sales, language),
            key="forecast_sales_chart",
            language=language,
        )
    with right:
        charts.show_table(
            charts.sales_forecast_table(data.sales, language),
            file_stem="sales_forecast",
            key_prefix="forecast_sales",
        )
