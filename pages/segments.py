"""Segments: RFM segment map, segment sizes and value shares, the loyalty ladder and its
migration; managers tune RFM weights and bins, preview, then save."""

import datetime as dt

import streamlit as st

from app import formatting as fmt
from app.errors import CRMError
from app.kpi.analyses_sales import LEVELS
from app.kpi.rfm import SEGMENT_RULES
from app.services.access import Permission
from app.services.customer_views import BINS_RANGE, WEIGHT_RANGE
from components.charts_customers import (
    labelled,
    ladder_bars,
    matrix_heatmap,
    rfm_heatmap,
    segment_bars,
)
from components.data import database_url, load_today
from components.data_customers import (
    actor_args,
    comparison_period,
    filters_key,
    load_loyalty,
    load_rfm_settings,
    load_segments,
    save_rfm,
)
from components.empty_state import empty_state
from components.filters import read_filters, show_ignored
from components.guard import page_setup
from components.i18n import current_language, t, tm
from components.tables import data_table

actor = page_setup(t("common.page_segments"))
url = database_url()
today = dt.date.fromisoformat(load_today(url))
lang = current_language()
args = actor_args(actor)
filters = read_filters(today)
scope = filters_key(filters.kpi_filters(actor))
as_of = min(filters.period.as_of_day, today)
previous = comparison_period(filters)

st.title(t("segments.title"))
show_ignored(filters)
st.caption(
    t(
        "segments.as_of",
        day=fmt.date(as_of, lang),
        period=t(
            "common.period_label",
            start=fmt.date(filters.period.start, lang),
            end=fmt.date(filters.period.as_of_day, lang),
        ),
        previous=t(
            "common.period_label",
            start=fmt.date(previous.start, lang),
            end=fmt.date(previous.as_of_day, lang),
        ),
    )
)

stored_weights, stored_bins = load_rfm_settings(url)
weights, bins = stored_weights, stored_bins


def _reset_sliders() -> None:
    for key in ("r", "f", "m"):
        st.session_state[f"seg_w_{key}"] = stored_weights[key]
    st.session_state["seg_bins"] = stored_bins
    st.session_state["seg_confirm"] = False


if actor.can(Permission.settings):
    with st.expander(t("segments.tune"), expanded=True, icon=":material/tune:"):
        st.caption(t("segments.tune_help") + " " + t("segments.weights_note"))
        columns = st.columns(4)
        weights = {
            key: columns[index].slider(
                t(f"segments.weight_{key}"),
                min_value=WEIGHT_RANGE[0],
                max_value=WEIGHT_RANGE[1],
                value=float(stored_weights[key]),
                step=0.1,
                key=f"seg_w_{key}",
            )
            for index, key in enumerate(("r", "f", "m"))
        }
        bins = columns[3].slider(
            t("segments.bins"),
            min_value=BINS_RANGE[0],
            max_value=BINS_RANGE[1],
            value=int(stored_bins),
            step=1,
            key="seg_bins",
        )
        changed = weights != stored_weights or bins != stored_bins
        if changed:
            st.info(t("segments.preview"), icon=":material/visibility:")
        save_col, reset_col = st.columns([1, 3])
        if save_col.button(
            t("segments.save"),
            key="seg_save",
            type="primary",
            disabled=not changed,
            icon=":material/save:",
        ):
            st.session_state["seg_confirm"] = True
        reset_col.button(
            t("segments.reset"), key="seg_reset", disabled=not changed, on_click=_reset_sliders
        )
        if st.session_state.get("seg_confirm") and changed:
            st.warning(
                t(
                    "segments.confirm",
                    r=weights["r"],
                    f=weights["f"],
                    m=weights["m"],
                    bins=bins,
                ),
                icon=":material/help:",
            )
            yes, no = st.columns([1, 3])
            if yes.button(t("segments.confirm_yes"), key="seg_confirm_yes", type="primary"):
                try:
                    save_rfm(url, actor, weights, bins)
                except CRMError as exc:
                    st.error(tm(exc), icon=":material/error:")
                else:
                    st.session_state["seg_confirm"] = False
                    st.toast(t("segments.saved"), icon=":material/check:")
                    st.rerun()
            if no.button(t("segments.confirm_no"), key="seg_confirm_no"):
                st.session_state["seg_confirm"] = False
                st.rerun()
else:
    st.caption(
        t(
            "segments.read_only",
            r=stored_weights["r"],
            f=stored_weights["f"],
            m=stored_weights["m"],
            bins=stored_bins,
        )
    )

weight_override = tuple(sorted(weights.items())) if weights != stored_weights else None
bins_override = bins if bins != stored_bins else None
data = load_segments(url, as_of.isoformat(), scope, weight_override, bins_override)
segment_names = {name: t(f"segments.seg_{name}") for name, _, _ in SEGMENT_RULES}
segment_names_or_none = {**segment_names, "None": t("segments.seg_none")}

segments = data["segments"]
if segments.empty:
    empty_state(t("segments.no_rfm"), hint=t("common.no_data_hint"))
else:
    st.subheader(t("segments.segments"))
    figure = segment_bars(
        segments,
        title=t("segments.segment_chart"),
        x_title=t("segments.segment_axis"),
        y_title=t("segments.share_axis"),
        customers_name=t("segments.customers_share"),
        value_name=t("segments.value_share"),
        labels=segment_names_or_none,
    )
    if figure is not None:
        st.plotly_chart(figure, key="seg_bars", width="stretch")
    columns = {
        name: t(f"segments.col_{name}")
        for name in (
            "segment",
            "customers",
            "customer_share",
            "monetary",
            "monetary_share",
            "avg_recency_days",
            "avg_frequency",
            "avg_weighted_score",
        )
    }
    data_table(
        labelled(segments, columns, {"segment": segment_names}),
        file_stem="rfm_segments",
        key_prefix="seg_sizes",
        column_config={
            columns["customer_share"]: st.column_config.NumberColumn(format="percent"),
            columns["monetary_share"]: st.column_config.NumberColumn(format="percent"),
            columns["monetary"]: st.column_config.NumberColumn(format="localized"),
            columns["avg_recency_days"]: st.column_config.NumberColumn(format="%.0f"),
            columns["avg_frequency"]: st.column_config.NumberColumn(format="%.1f"),
            columns["avg_weighted_score"]: st.column_config.NumberColumn(format="%.2f"),
        },
    )

    st.subheader(t("segments.map"))
    heatmap = rfm_heatmap(
        data["grid"],
        title=t("segments.map_chart"),
        x_title=t("segments.r_axis"),
        y_title=t("segments.f_axis"),
        hover=t("segments.map_hover"),
        money=lambda value: fmt.money(value, lang),
    )
    if heatmap is not None:
        st.plotly_chart(heatmap, key="seg_map", width="stretch")

st.subheader(t("segments.loyalty"))
loyalty = load_loyalty(
    url,
    (filters.period.start.isoformat(), filters.period.end.isoformat()),
    (previous.start.isoformat(), previous.end.isoformat()),
    scope,
)
level_names = {level: t(f"segments.level_{level}") for level in LEVELS}
ladder = ladder_bars(
    loyalty["ladder"],
    title=t("segments.ladder_chart"),
    x_title=t("segments.level_axis"),
    y_title=t("segments.customers_axis"),
    labels=level_names,
)
migration_caption = t(
    "segments.migration_chart",
    previous=t(
        "common.period_label",
        start=fmt.date(previous.start, lang),
        end=fmt.date(previous.as_of_day, lang),
    ),
    period=t(
        "common.period_label",
        start=fmt.date(filters.period.start, lang),
        end=fmt.date(filters.period.as_of_day, lang),
    ),
)
migration = matrix_heatmap(
    loyalty["migration"],
    title=t("segments.migration"),
    x_title=t("segments.migration_to"),
    y_title=t("segments.migration_from"),
    labels=level_names,
    hover=t("segments.migration_hover"),
)
if ladder is None:
    st.info(t("segments.no_loyalty"), icon=":material/info:")
else:
    left, right = st.columns(2)
    with left:
        st.plotly_chart(ladder, key="seg_ladder", width="stretch")
    with right:
        if migration is not None:
            st.plotly_chart(migration, key="seg_migration", width="stretch")
    st.markdown(f"**{t('segments.migration')}**")
    st.caption(migration_caption)
    data_table(
        labelled(
            loyalty["migration_table"],
            {"previous_level": t("segments.migration_from"), **level_names},
            {"previous_level": level_names},
        ),
        file_stem="loyalty_migration",
        key_prefix="seg_migration_table",
    )
