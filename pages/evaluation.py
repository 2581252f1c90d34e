"""CRM evaluation: the scorecard of all catalogue KPIs by family, the CRM maturity badge,
data completeness with the records to fix per owner, and the KPI targets."""

import datetime as dt

import streamlit as st

from app import formatting as fmt
from app.errors import CRMError, InvalidInput
from app.kpi.registry import all_kpis
from app.services.access import Permission
from components.charts_overview import completeness_by_owner_chart
from components.data import database_url, load_today
from components.data_kpi import (
    load_completeness_by_owner,
    load_customer_owners,
    load_has_records,
    load_kpi_report,
    load_records_to_fix,
    load_targets,
    save_target,
    target_value_from_input,
)
from components.drilldown import kpi_drilldown
from components.empty_state import empty_state
from components.filters import read_filters, show_ignored
from components.guard import page_setup
from components.i18n import current_language, t, tm
from components.kpi_cards import (
    completeness_frame,
    field_label,
    kpis_by_family,
    maturity_badge,
    period_caption,
    records_to_fix_frame,
    scorecard_frame,
    targets_frame,
)
from components.tables import data_table

SAVED_KEY = "evaluation_target_saved"

actor = page_setup(t("evaluation.title"))
language = current_language()
url = database_url()

st.title(t("evaluation.title"))
if not load_has_records(url):
    empty_state(t("evaluation.empty"), hint=t("common.empty_database_hint"))
    st.stop()

filters = read_filters(dt.date.fromisoformat(load_today(url)))
show_ignored(filters)
own = actor.user_id if actor.sees_own_customers_only else None
key = filters.cache_key()
report = load_kpi_report(url, key, own)
period_text, comparison_text = period_caption(report, language)
st.caption(t("evaluation.intro", period=period_text, comparison=comparison_text))

# ------------------------------------------------------------------ maturity
st.subheader(t("evaluation.maturity_title"))
maturity_badge(report["kpis"], language)

# ------------------------------------------------------------------ scorecard
st.subheader(t("evaluation.scorecard_title"))
families = kpis_by_family(report["kpis"])
tabs = st.tabs(
    [t("evaluation.scorecard_all")]
    + [
        t("evaluation.family_count", family=t(f"evaluation.family_{family}"), count=len(members))
        for family, members in families.items()
    ]
)
with tabs[0]:
    data_table(
        scorecard_frame(report["kpis"], language),
        file_stem=f"scorecard_{filters.period.start.isoformat()}",
        key_prefix="evaluation_all",
    )
for tab, (family, members) in zip(tabs[1:], families.items(), strict=True):
    with tab:
        slug = family.replace(" ", "_")
        data_table(
            scorecard_frame(members, language),
            file_stem=f"scorecard_{slug}_{filters.period.start.isoformat()}",
            key_prefix=f"evaluation_{slug}",
        )

# ------------------------------------------------------------------ data completeness
kpi_drilldown(
    [kpi["id"] for kpi in report["kpis"]],
    url=url,
    filters=filters,
    actor=actor,
    key_prefix="evaluation",
)

st.subheader(t("evaluation.completeness_title"))
st.caption(t("evaluation.completeness_caption"))
completeness = load_completeness_by_owner(url, key, own)
chart_column, table_column = st.columns(2, gap="large")
with chart_column:
    figure = completeness_by_owner_chart(completeness, language)
    if figure is not None:
        st.plotly_chart(figure, width="stretch", key="evaluation_completeness_chart")
with table_column:
    data_table(
        completeness_frame(completeness, language),
        file_stem="completeness_by_owner",
        key_prefix="evaluation_completeness",
        column_config={
            t("evaluation.col_completeness"): st.column_config.ProgressColumn(
                t("evaluation.col_completeness"), format="percent", min_value=0, max_value=1
            )
        },
    )

st.markdown(f"**{t('evaluation.fix_title')}**")
owners = dict(load_customer_owners(url, key, own))
owner_id = st.selectbox(
    t("evaluation.fix_owner"),
    [None, *owners],
    format_func=lambda user_id: (
        t("evaluation.fix_all_owners") if user_id is None else owners[user_id]
    ),
    key="evaluation_fix_owner",
)
st.caption(t("evaluation.fix_caption"))
data_table(
    records_to_fix_frame(load_records_to_fix(url, key, own, owner_id), language),
    file_stem="records_to_fix" if owner_id is None else f"records_to_fix_owner_{owner_id}",
    key_prefix="evaluation_fix",
)

# ------------------------------------------------------------------ targets
st.subheader(t("evaluation.targets_title"))
saved = st.session_state.pop(SAVED_KEY, None)
if saved:
    st.success(saved, icon=":material/check_circle:")
targets = load_targets(url)
if targets.empty:
    st.caption(t("evaluation.targets_none"))
else:
    data_table(
        targets_frame(targets, language),
        file_stem="targets",
        key_prefix="evaluation_targets",
    )

if not actor.can(Permission.targets):
    st.caption(t("evaluation.targets_read_only"))
else:
    registry = all_kpis()
    with st.form("target_form", clear_on_submit=True):
        st.markdown(f"**{t('evaluation.target_form_title')}**")
        kpi_column, start_column, end_column = st.columns([2, 1, 1])
        kpi_id = kpi_column.selectbox(
            t("evaluation.target_kpi"),
            list(registry),
            format_func=lambda kpi: registry[kpi].label(language),
            key="target_form_kpi_id",
        )
        start = start_column.date_input(
            t("evaluation.target_start"),
            value=filters.period.start,
            format="DD/MM/YYYY",
            key="target_form_period_start",
        )
        end = end_column.date_input(
            t("evaluation.target_end"),
            value=filters.period.end,
            format="DD/MM/YYYY",
            key="target_form_period_end",
        )
        segment_column, value_column = st.columns(2)
        segment = segment_column.text_input(
            t("evaluation.target_segment"), max_chars=60, key="target_form_segment"
        )
        value = value_column.number_input(
            t("evaluation.target_value"),
            value=None,
            step=1.0,
            help=t("evaluation.target_value_help"),
            key="target_form_target_value",
        )
        submitted = st.form_submit_button(
            t("evaluation.target_save"), type="primary", key="target_form_submit"
        )
    if submitted:
        data = {
            "kpi_id": kpi_id,
            "period_start": start,
            "period_end": end,
            "segment": segment.strip() or None,
            "target_value": target_value_from_input(kpi_id, value),
        }
        try:
            outcome, _ = save_target(url, actor=actor, data=data)
        except InvalidInput as exc:
            for field, message in exc.field_errors.items():
                text = tm(message)
                st.error(t("evaluation.target_field_error", field=field_label(field), message=text))
        except CRMError as exc:
            st.error(t("evaluation.target_not_saved", message=tm(exc)))
        else:
            st.session_state[SAVED_KEY] = t(
                f"evaluation.target_{outcome}",
                kpi=registry[kpi_id].label(language),
                start=fmt.date(start, language),
                end=fmt.date(end, language),
            )
            st.rerun()
