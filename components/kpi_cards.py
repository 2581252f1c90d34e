"""KPI cards: pure formatting helpers (Vietnamese number style) and the card-row renderer.

Everything above ``kpi_card_row`` is pure and tested without a Streamlit runtime.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Optional, Union

import streamlit as st

from app.kpi.overview import OverviewNumbers

Number = Union[Decimal, int, float]

NOT_AVAILABLE = "n/a"
CURRENCY_SYMBOL = "₫"
# Vietnamese style: "." groups thousands, "," marks decimals ("1.234.567,5").
THOUSANDS_SEPARATOR = "."
DECIMAL_SEPARATOR = ","
_COMPACT_UNITS = ((Decimal(10) ** 9, "tỷ"), (Decimal(10) ** 6, "triệu"))
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _round(value: Number, places: int = 0) -> Decimal:
    # Through str so that floats round as they print (0.125 -> 0.13, not 0.12).
    exponent = Decimal(1).scaleb(-places)
    return Decimal(str(value)).quantize(exponent, rounding=ROUND_HALF_UP)


def _group(whole: int) -> str:
    return f"{whole:,}".replace(",", THOUSANDS_SEPARATOR)


def _decimal_text(value: Decimal, places: int) -> str:
    """A non-negative Decimal rounded to ``places`` in Vietnamese style ("1.234,5")."""
    whole, _, fraction = f"{_round(value, places):f}".partition(".")
    return _group(int(whole)) + (DECIMAL_SEPARATOR + fraction if fraction else "")


def format_vnd(amount: Number) -> str:
    """Whole đồng with dot thousands separators: ``Decimal("1234567.4")`` -> "1.234.567 ₫"."""
    rounded = _round(amount)
    sign = "-" if rounded < 0 else ""
    return f"{sign}{_group(int(abs(rounded)))} {CURRENCY_SYMBOL}"


def format_vnd_compact(amount: Number) -> str:
    """Short money for cards: "12,3 tỷ ₫", "4,5 triệu ₫"; below a million the full amount."""
    value = Decimal(str(amount))
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    # Largest unit first, judged after rounding: 999,96 triệu is "1 tỷ", never "1.000 triệu".
    for unit, name in _COMPACT_UNITS:
        scaled = _round(magnitude / unit, 1)
        if scaled >= 1:
            # About three significant digits: "4,0 tỷ", "12,3 tỷ", "949 triệu".
            text = _decimal_text(magnitude / unit, 0 if scaled >= 100 else 1)
            return f"{sign}{text} {name} {CURRENCY_SYMBOL}"
    return format_vnd(amount)


def format_count(count: int) -> str:
    """A count with dot thousands separators: 12345 -> "12.345"."""
    sign = "-" if count < 0 else ""
    return sign + _group(abs(int(count)))


def format_signed_count(change: int) -> str:
    """A count change with its sign: 3 -> "+3", -1234 -> "-1.234", 0 -> "0"."""
    if change > 0:
        return "+" + format_count(change)
    return format_count(change)


def format_pct(fraction: Optional[Number], *, signed: bool = False, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.1234 -> "12,3%"; None -> "n/a"; signed adds "+"."""
    if fraction is None:
        return NOT_AVAILABLE
    percent = _round(Decimal(str(fraction)) * 100, decimals)
    if percent == 0:
        # No "-0,0%" or "+0,0%": a change that rounds to zero has no direction.
        return _decimal_text(Decimal(0), decimals) + "%"
    sign = "-" if percent < 0 else ("+" if signed else "")
    return f"{sign}{_decimal_text(abs(percent), decimals)}%"


def format_date(day: dt.date) -> str:
    """A date as Vietnamese users write it: 15/06/2026."""
    return day.strftime("%d/%m/%Y")


def format_datetime(moment: dt.datetime) -> str:
    """A datetime in its own time zone, to the minute: 15/06/2026 09:05."""
    return moment.strftime("%d/%m/%Y %H:%M")


def format_month(day: dt.date) -> str:
    """The month of ``day`` in words: "June 2026"."""
    return f"{_MONTH_NAMES[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class KpiCard:
    """What one metric card shows; ``trend`` is the delta's sign (0: grey, no arrow)."""

    label: str
    value: str
    help: str
    delta: Optional[str] = None
    trend: int = 0
    delta_description: Optional[str] = None


def _sign(value: Optional[Number]) -> int:
    if value is None or value == 0:
        return 0
    return 1 if value > 0 else -1


def overview_caption(numbers: OverviewNumbers) -> str:
    """The overview's caption: which month, which day counts as today, when computed."""
    return (
        f"{format_month(numbers.month_start)} · today {format_date(numbers.today)}"
        f" ({numbers.timezone}) · computed {format_datetime(numbers.as_of)}"
    )


def overview_cards(numbers: OverviewNumbers) -> list[KpiCard]:
    """The three overview cards, with deltas against last month and formulas as help."""
    revenue_delta = format_pct(numbers.revenue_change_pct, signed=True)
    # "n/a" and a change that rounds to 0,0% have no direction.
    revenue_trend = (
        0 if revenue_delta in (NOT_AVAILABLE, format_pct(0)) else _sign(numbers.revenue_change_pct)
    )
    return [
        KpiCard(
            label="Active customers",
            value=format_count(numbers.active_customers),
            delta=format_signed_count(numbers.active_customers_change),
            trend=_sign(numbers.active_customers_change),
            delta_description=(
                f"vs last month ({format_count(numbers.active_customers_last_month)})"
            ),
            help=(
                "Distinct customers with at least one counted order (status confirmed,"
                " delivered or paid) dated in this calendar month, "
                f"{numbers.timezone} time. Delta: this month − last month."
            ),
        ),
        KpiCard(
            label="Revenue this month",
            # Abbreviated: a full amount in billions of đồng does not fit a third of the
            # page at 1280 px and gets cut off; the exact amounts are in the help text.
            value=format_vnd_compact(numbers.revenue_this_month),
            delta=revenue_delta,
            trend=revenue_trend,
            delta_description=f"vs last month ({format_vnd_compact(numbers.revenue_last_month)})",
            help=(
                "Σ amount of counted orders (confirmed, delivered or paid) dated in this"
                f" calendar month, {numbers.timezone} time. Delta: (this month − last month)"
                " / last month, against the whole of last month while this month is still"
                " running; n/a when last month had no revenue.\n\n"
                f"This month: {format_vnd(numbers.revenue_this_month)}; "
                f"last month: {format_vnd(numbers.revenue_last_month)}."
            ),
        ),
        KpiCard(
            label="Open complaints",
            value=format_count(numbers.open_complaints),
            help="Complaints whose status is open, in progress or reopened, right now.",
        ),
    ]


# Long (Vietnamese) KPI names wrap onto a second line instead of being cut with "…";
# every label keeps room for two lines so the values of a row of cards stay aligned.
# Static CSS with no user data, scoped to the card containers (keys "<prefix>_cards").
CARD_LABEL_CSS = """<style>
div[class*="st-key-"][class*="_cards"] [data-testid="stMetricLabel"] {
  min-height: 2.6em;
  align-items: start;
}
div[class*="st-key-"][class*="_cards"] [data-testid="stMetricLabel"] .stMarkdownEllipsis,
div[class*="st-key-"][class*="_cards"] [data-testid="stMetricLabel"] p {
  white-space: normal;
  overflow: visible;
  text-overflow: clip;
  overflow-wrap: anywhere;
}
</style>"""


def wrap_card_labels() -> None:
    """Let the labels of the KPI cards of this page wrap (see CARD_LABEL_CSS)."""
    st.html(CARD_LABEL_CSS)


def kpi_card_row(cards: Sequence[KpiCard], key_prefix: str) -> None:
    """Render cards side by side as bordered ``st.metric``s with their formula on hover."""
    if not cards:
        return
    wrap_card_labels()
    with st.container(key=f"{key_prefix}_cards"):
        for column, card in zip(st.columns(len(cards)), cards, strict=True):
            with column:
                neutral = card.trend == 0
                st.metric(
                    card.label,
                    card.value,
                    delta=card.delta,
                    # String deltas are coloured by their first character only; a zero or
                    # "n/a" change must stay grey and arrowless.
                    delta_color="off" if neutral else "normal",
                    delta_arrow="off" if neutral else "auto",
                    delta_description=card.delta_description if card.delta else None,
                    help=card.help,
                    border=True,
                )


# --------------------------------------------------------------------------- KPI engine cards
# Cards, statuses and scorecard rows built from the plain KPI dicts of
# components.data_kpi.load_kpi_report; pure (language passed in), tested without Streamlit.
STATUS_ICONS = {
    "met": "🟢",
    "better": "🟢",
    "missed": "🔴",
    "worse": "🔴",
    "same": "⚪",
    "na": "⚪",
}


@dataclass(frozen=True)
class KpiMetric:
    """What one ``st.metric`` card of a KPI shows."""

    kpi_id: str
    label: str
    value: str
    help: str
    delta: Optional[str] = None
    delta_color: str = "off"
    delta_arrow: str = "off"
    delta_description: Optional[str] = None
    chart_data: tuple[float, ...] = ()
    target_text: Optional[str] = None
    progress: Optional[float] = None


def kpi_label(kpi: dict, language: str) -> str:
    """The KPI's name in the language (the registry's label or label_vi)."""
    return kpi["label_vi"] if language == "vi" else kpi["label"]


def kpi_formula(kpi_id: str, language: str) -> str:
    """The KPI's formula in the language (app/i18n/catalog/kpi.py)."""
    from app.i18n import translate

    return translate(f"kpi.formula_{kpi_id}", language)


def kpi_note(kpi_id: str, language: str) -> str:
    """The KPI's note in the language, or "" when it has none."""
    from app.i18n import all_messages, translate

    key = f"kpi.note_{kpi_id}"
    return translate(key, language) if key in all_messages()["en"] else ""


def kpi_delta(kpi: dict, language: str) -> tuple[Optional[str], int]:
    """(delta text, sign) of the change against the comparison; sign 0 means no direction.

    The text starts with an ASCII "-" when negative: st.metric reads the sign of a string
    delta from its first character, and app.formatting writes the typographic "−".
    """
    from app import formatting as fmt

    text = fmt.kpi_change(kpi["change"], kpi["change_pct"], kpi["unit"], language)
    if text is None:
        return None, 0
    if text.startswith("−"):
        text = "-" + text[1:]
    digits = [char for char in text if char.isdigit()]
    if not any(char != "0" for char in digits):
        # A change that rounds to zero ("0.0%", "+0.0 pp") has no direction.
        return text.lstrip("+-"), 0
    return text, -1 if text.startswith("-") else 1


def kpi_status(kpi: dict) -> str:
    """met / missed against the target when one is set, else better / worse / same
    against the comparison, else na. Lower-is-better KPIs are judged the other way."""
    value, target, higher = kpi["value"], kpi["target"], kpi["direction"] == "higher"
    if target is not None and value is not None:
        met = value >= target if higher else value <= target
        return "met" if met else "missed"
    change = kpi["change"]
    if change is None:
        return "na"
    if change == 0:
        return "same"
    return "better" if (change > 0) == higher else "worse"


def status_text(status: str, language: str) -> str:
    """The status with its colour dot, e.g. "🟢 met"."""
    from app.i18n import translate

    return f"{STATUS_ICONS[status]} {translate(f'evaluation.status_{status}', language)}"


def kpi_metric(kpi: dict, sparkline: Sequence[Optional[float]], language: str) -> KpiMetric:
    """The card of one KPI: value, coloured delta, formula as help, sparkline, target."""
    from app import formatting as fmt
    from app.i18n import translate

    delta, sign = kpi_delta(kpi, language)
    # The full name first: long (Vietnamese) labels are cut off on a quarter-width card.
    help_parts = [f"**{kpi_label(kpi, language)}**", kpi_formula(kpi["id"], language)]
    note = kpi_note(kpi["id"], language)
    if note:
        help_parts.append(note)
    if sparkline:
        help_parts.append(translate("overview.sparkline_help", language))
    target_text = progress = None
    if kpi["target"] is not None:
        target_value = fmt.kpi_value(kpi["target"], kpi["unit"], language)
        if kpi["completion"] is not None:
            target_text = translate(
                "overview.of_target",
                language,
                pct=fmt.percent(kpi["completion"], language, places=0),
                target=target_value,
            )
            progress = max(0.0, min(1.0, float(kpi["completion"])))
        else:
            target_text = translate("overview.target_only", language, target=target_value)
    description = None
    if delta is not None and kpi["compare_value"] is not None:
        description = translate(
            "overview.vs_value",
            language,
            value=fmt.kpi_value(kpi["compare_value"], kpi["unit"], language),
        )
    return KpiMetric(
        kpi_id=kpi["id"],
        label=kpi_label(kpi, language),
        value=fmt.kpi_value(kpi["value"], kpi["unit"], language),
        help="\n\n".join(help_parts),
        delta=delta,
        # Churn going down is good: lower-is-better KPIs colour a fall green.
        delta_color="off"
        if sign == 0
        else ("normal" if kpi["direction"] == "higher" else "inverse"),
        delta_arrow="off" if sign == 0 else "auto",
        delta_description=description,
        chart_data=tuple(float(value) for value in sparkline if value is not None),
        target_text=target_text,
        progress=progress,
    )


# The activity line's placeholders and the KPIs that fill them.
ACTIVITY_KPIS = {
    "interactions": "interactions_logged",
    "orders": "orders_count",
    "complaints": "complaints_opened",
}


def activity_line(kpis: Mapping[str, dict], language: str) -> str:
    """The period's activity under the cards: interactions logged, orders, complaints."""
    from app import formatting as fmt
    from app.i18n import translate

    counts = {
        name: f"**{fmt.kpi_value(kpis[kpi_id]['value'], 'count', language)}**"
        for name, kpi_id in ACTIVITY_KPIS.items()
    }
    return ":material/forum: " + translate("overview.activity", language, **counts)


def biggest_changes(kpis: Sequence[dict], limit: int = 5) -> list[dict]:
    """The KPIs that moved most against the comparison in relative terms (|change %|),
    largest first; KPIs without a relative change (n/a, from zero) are left out."""
    moved = [kpi for kpi in kpis if kpi["change_pct"] not in (None, 0)]
    moved.sort(key=lambda kpi: (-abs(kpi["change_pct"]), kpi["id"]))
    return moved[:limit]


def change_line(kpi: dict, language: str) -> str:
    """One line of the "biggest changes" list, with direction-aware good/bad wording."""
    from app import formatting as fmt
    from app.i18n import translate

    good = (kpi["change_pct"] > 0) == (kpi["direction"] == "higher")
    return translate(
        "overview.change_line",
        language,
        icon=":green[:material/trending_up:]" if good else ":red[:material/trending_down:]",
        label=kpi_label(kpi, language),
        change=fmt.percent(kpi["change_pct"], language, signed=True),
        before=fmt.kpi_value(kpi["compare_value"], kpi["unit"], language),
        after=fmt.kpi_value(kpi["value"], kpi["unit"], language),
        verdict=(
            f":green-badge[{translate('overview.change_good', language)}]"
            if good
            else f":red-badge[{translate('overview.change_bad', language)}]"
        ),
    )


SCORECARD_KEYS = (
    "kpi",
    "value",
    "comparison",
    "change",
    "target",
    "completion",
    "status",
    "formula",
    "note",
)


def scorecard_frame(kpis: Sequence[dict], language: str):  # noqa: ANN201 - a DataFrame
    """The scorecard rows of the KPIs as text in the language, headers translated."""
    import pandas as pd

    from app import formatting as fmt
    from app.i18n import translate

    rows = []
    for kpi in kpis:
        unit = kpi["unit"]
        rows.append(
            (
                kpi_label(kpi, language),
                fmt.kpi_value(kpi["value"], unit, language),
                fmt.kpi_value(kpi["compare_value"], unit, language),
                kpi_delta(kpi, language)[0] or fmt.not_available(language),
                fmt.kpi_value(kpi["target"], unit, language),
                fmt.percent(kpi["completion"], language, places=0),
                status_text(kpi_status(kpi), language),
                kpi_formula(kpi["id"], language),
                kpi_note(kpi["id"], language),
            )
        )
    columns = [translate(f"evaluation.col_{key}", language) for key in SCORECARD_KEYS]
    return pd.DataFrame(rows, columns=columns)


def kpi_metric_grid(metrics: Sequence[KpiMetric], key_prefix: str, per_row: int = 4) -> None:
    """Bordered ``st.metric`` cards, ``per_row`` to a row (8 in one row do not fit 1280 px),
    each with its sparkline and, when a target exists, the progress towards it."""
    if not metrics:
        return
    wrap_card_labels()
    with st.container(key=f"{key_prefix}_cards"):
        for first in range(0, len(metrics), per_row):
            row = metrics[first : first + per_row]
            for column, metric in zip(st.columns(per_row), row, strict=False):
                with column:
                    st.metric(
                        metric.label,
                        metric.value,
                        delta=metric.delta,
                        delta_color=metric.delta_color,
                        delta_arrow=metric.delta_arrow,
                        delta_description=metric.delta_description,
                        help=metric.help,
                        border=True,
                        chart_data=list(metric.chart_data) or None,
                        chart_type="line",
                    )
                    if metric.progress is not None:
                        st.progress(metric.progress, text=metric.target_text)
                    elif metric.target_text:
                        st.caption(metric.target_text)


def period_caption(report: dict, language: str) -> tuple[str, str]:
    """("1 Jun 2026 – 30 Jun 2026", "compared with 1 May 2026 – 31 May 2026") of a report."""
    from app import formatting as fmt
    from app.i18n import translate

    start, end = report["period"]
    period = translate(
        "common.period_label",
        language,
        start=fmt.date(start, language),
        end=fmt.date(end - dt.timedelta(days=1), language),
    )
    if report["compare"] == "target":
        comparison = translate("common.vs_target", language)
    elif report["compare_period"] is not None:
        other_start, other_end = report["compare_period"]
        comparison = translate(
            "common.compared_with",
            language,
            start=fmt.date(other_start, language),
            end=fmt.date(other_end - dt.timedelta(days=1), language),
        )
    else:
        comparison = ""
    return period, comparison


def localise_columns(frame, area: str, language: str):  # noqa: ANN001, ANN201 - DataFrames
    """The frame with the column names that ``<area>.col_<name>`` translates renamed."""
    from app.i18n import all_messages, translate

    known = all_messages()["en"]
    names = {
        column: translate(f"{area}.col_{column}", language)
        for column in frame.columns
        if f"{area}.col_{column}" in known
    }
    return frame.rename(columns=names)


def kpis_by_family(kpis: Sequence[dict]) -> dict[str, list[dict]]:
    """The KPIs grouped by family, families in catalogue order, empty ones left out."""
    from app.kpi.registry import FAMILIES

    groups: dict[str, list[dict]] = {family: [] for family in FAMILIES}
    for kpi in kpis:
        groups.setdefault(kpi["family"], []).append(kpi)
    return {family: members for family, members in groups.items() if members}


MATURITY_CONDITIONS = (
    "orders are recorded",
    "complaints or support interactions logged in the last 90 days",
    "data completeness ≥ 80% and ≥ 90% of active customers have an RFM segment",
    "≥ 50% of active customers received a customer-specific policy or offer in the last 180 days",
)


def maturity_unmet(kpi: dict, language: str) -> list[str]:
    """The unmet maturity conditions of the crm_maturity_level KPI, in the language."""
    from app.i18n import translate

    unmet = []
    for condition in (kpi.get("details") or {}).get("unmet", []):
        if condition in MATURITY_CONDITIONS:
            index = MATURITY_CONDITIONS.index(condition) + 1
            unmet.append(translate(f"evaluation.maturity_cond_{index}", language))
        else:
            unmet.append(str(condition))
    return unmet


def maturity_badge(kpis: Sequence[dict], language: str) -> None:
    """The CRM maturity level as a badge, with the conditions it does not meet."""
    from app.i18n import translate

    kpi = next(kpi for kpi in kpis if kpi["id"] == "crm_maturity_level")
    level = int(kpi["value"] or 0)
    colour = "green" if level >= 4 else "orange" if level >= 2 else "red"
    st.badge(
        translate("evaluation.maturity_badge", language, level=level),
        icon=":material/workspace_premium:",
        color=colour,
    )
    unmet = maturity_unmet(kpi, language)
    if unmet:
        st.markdown(
            translate("evaluation.maturity_unmet", language)
            + "\n"
            + "\n".join(f"- {line}" for line in unmet)
        )
    else:
        st.caption(translate("evaluation.maturity_all_met", language))


def field_label(field: str) -> str:
    """A target form field's name in the session's language (the key when unknown)."""
    from app.i18n import all_messages
    from components.i18n import t

    key = f"evaluation.field_{field}"
    return t(key) if key in all_messages()["en"] else field


def completeness_frame(frame, language: str):  # noqa: ANN001, ANN201 - DataFrames
    """completeness_by's frame for display: "group" named owner, "(no owner)" translated."""
    from app.i18n import translate
    from app.kpi.analyses_service import NO_OWNER

    shown = frame.rename(columns={"group": "owner"})
    shown["owner"] = [
        translate("evaluation.no_owner", language) if name == NO_OWNER else name
        for name in shown["owner"]
    ]
    return localise_columns(shown, "evaluation", language)


# How drill-down columns are shown (components.tables NUMBER_FORMATS kinds).
DRILL_FORMATS = {
    **dict.fromkeys(
        (
            "amount",
            "cost",
            "revenue",
            "previous_revenue",
            "actual_cost",
            "allocated_cost",
            "attributed_revenue",
            "attributed_profit",
            "acquisition_cost_share",
        ),
        "money",
    ),
    "hours_past_sla": "decimal1",
}
DRILL_DATES = ("expected_close", "start_date", "end_date")


def drilldown_enums(frame) -> dict:  # noqa: ANN001 - a DataFrame
    """Which enum each stored-value column of drill-down rows holds (by the row kind)."""
    from app.models import (
        CampaignChannel,
        CampaignPurpose,
        Channel,
        ComplaintStatus,
        CustomerKind,
        Lifecycle,
        OrderStatus,
        Severity,
        Stage,
    )

    columns = set(frame.columns)
    return {
        "stage": Stage,
        "severity": Severity,
        "status": ComplaintStatus if "complaint_id" in columns else OrderStatus,
        # Campaign rows hold the campaign's channel; customer rows how it was acquired.
        "channel": CampaignChannel if "campaign_id" in columns else Channel,
        "purpose": CampaignPurpose,
        "kind": CustomerKind,
        "lifecycle": Lifecycle,
    }


def drilldown_view(frame, language: str):  # noqa: ANN001, ANN201 - DataFrames
    """Drill-down rows for display and export: stored values labelled, columns named in
    the language; with the grid's column_config (local times, dates) and the number
    formats (money in VND, counts) for ``components.tables.data_table``."""
    from components.tables import translate_enum_columns

    shown = translate_enum_columns(frame, drilldown_enums(frame), language)
    shown = localise_columns(shown, "overview", language)
    names = dict(zip(frame.columns, shown.columns, strict=True))
    config: dict = {}
    for column in frame.columns:
        if column.endswith("_at") or column == "sla_deadline":
            config[names[column]] = st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm")
        elif column in DRILL_DATES:
            config[names[column]] = st.column_config.DateColumn(format="DD/MM/YYYY")
    formats = {names[c]: kind for c, kind in DRILL_FORMATS.items() if c in names}
    return shown, config, formats


def drilldown_column_config(frame, language: str) -> dict:  # noqa: ANN001 - a DataFrame
    """Column formats for drill-down rows (by their translated names); see drilldown_view."""
    return drilldown_view(frame, language)[1]


def records_to_fix_frame(frame, language: str):  # noqa: ANN001, ANN201 - DataFrames
    """records_to_fix's frame for display: customers without owner say so."""
    import pandas as pd

    from app.i18n import all_messages, translate

    shown = frame.copy()
    shown["owner_name"] = pd.Series(
        [
            translate("evaluation.no_owner", language) if pd.isna(name) else name
            for name in shown["owner_name"]
        ],
        index=shown.index,
        dtype=object,
    )
    if "missing" in shown.columns:
        # "email, phone" lists stored column names: show each as its field label.
        known = all_messages()["en"]

        def label(name: str) -> str:
            # owner_id is shown as its field, "Owner"; unknown names stay as stored.
            for key in (f"customers.f_{name}", f"customers.f_{name.removesuffix('_id')}"):
                if key in known:
                    return translate(key, language)
            return name

        shown["missing"] = [
            ", ".join(
                label(name) for name in (part.strip() for part in str(text).split(",")) if name
            )
            if isinstance(text, str)
            else text
            for text in shown["missing"]
        ]
    return localise_columns(shown, "evaluation", language)


def targets_frame(frame, language: str):  # noqa: ANN001, ANN201 - DataFrames
    """The targets for display: the KPI's name beside its id, the value in its unit."""
    from app import formatting as fmt
    from app.kpi.registry import all_kpis

    registry = all_kpis()
    shown = frame.rename(columns={"id": "target_id"})
    shown.insert(
        1,
        "kpi_name",
        [registry[k].label(language) if k in registry else k for k in shown["kpi_id"]],
    )
    shown["target_value"] = [
        fmt.kpi_value(value, registry[k].unit if k in registry else "count", language)
        for k, value in zip(shown["kpi_id"], shown["target_value"], strict=True)
    ]
    shown["segment"] = [segment or "" for segment in shown["segment"]]
    shown["period_end"] = [fmt.date(day, language) for day in shown["period_end"]]
    shown["period_start"] = [fmt.date(day, language) for day in shown["period_start"]]
    return localise_columns(shown, "evaluation", language)
