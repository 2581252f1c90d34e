"""Charts, cards and tables of the Pipeline, Campaigns and Forecast pages.

The builders are pure: they take the frames of ``components.data_analyses`` and a
language, and return a ``go.Figure`` (``None`` when there is nothing to draw, so the page
shows an empty state instead of an empty frame), a list of ``KpiCard`` or a display
frame with translated headers. Hover texts are formatted here, per language, and passed
in ``customdata``. plotly.graph_objects only: plotly.express is ~25x slower
(performance-notes.md).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from app import formatting as fmt
from app.i18n import enum_labels, translate
from app.models import CampaignChannel, CampaignPurpose, Stage
from components.kpi_cards import KpiCard

# Colours: one blue for volumes, a lighter one for the weighted/second measure, red for
# losses; readable on the light theme and for the common colour-vision deficiencies.
BLUE = "#1f77b4"
LIGHT_BLUE = "#9ecae1"
ORANGE = "#ff7f0e"
RED = "#d62728"
GREEN = "#2ca02c"
GREY = "#7f7f7f"
PALETTE = (BLUE, ORANGE, GREEN, RED, "#9467bd", "#8c564b", "#e377c2", GREY, "#bcbd22", "#17becf")
CHART_HEIGHT = 360


def tr(key: str, language: str, /, **params: Any) -> str:
    """``t()`` without Streamlit: the message in ``language``."""
    return translate(key, language, **params)


def is_empty(frame: pd.DataFrame | None, *columns: str) -> bool:
    """No rows, or every value of ``columns`` is 0 or missing."""
    if frame is None or frame.empty:
        return True
    if not columns:
        return False
    values = pd.to_numeric(frame[list(columns)].stack(), errors="coerce").fillna(0)
    return bool((values == 0).all())


def layout(fig: go.Figure, title: str, x_title: str, y_title: str, **extra: Any) -> go.Figure:
    """The shared look: title, axis titles, legend above the plot, compact margins."""
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        xaxis_title=x_title,
        yaxis_title=y_title,
        height=extra.pop("height", CHART_HEIGHT),
        margin={"l": 10, "r": 10, "t": 70, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
        hoverlabel={"namelength": -1},
        **extra,
    )
    return fig


def money_axis(fig: go.Figure, values: Iterable[Any], language: str, axis: str = "y") -> go.Figure:
    """Money ticks in the language's short form ("20 tỷ ₫", "₫20B") instead of Plotly's SI."""
    numbers = [v for v in floats(values) if v is not None]
    top = max(numbers, default=0.0)
    if top <= 0 or min(numbers) < 0:
        # Negative values (a loss-making margin): Plotly's own ticks cover both signs.
        return fig
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [step * index for index in range(int(top // step) + 2)]
    texts = [fmt.compact_money(tick, language) for tick in ticks]
    update = {"tickmode": "array", "tickvals": ticks, "ticktext": texts}
    if axis == "y":
        fig.update_yaxes(**update)
    else:
        fig.update_xaxes(**update)
    return fig


def money_texts(values: Iterable[Any], language: str) -> list[str]:
    """Full amounts per locale: ``1.234.567 ₫`` (vi), ``₫1,234,567`` (en)."""
    return [fmt.money(_number(value), language) for value in values]


def _number(value: Any) -> Any:
    """A value for the formatters: NaN becomes None ("n/a")."""
    if value is None:
        return None
    try:
        return None if pd.isna(value) else value
    except (TypeError, ValueError):
        return value


def _float(value: Any) -> float | None:
    value = _number(value)
    return None if value is None else float(value)


def floats(values: Iterable[Any]) -> list[float | None]:
    """Numbers for Plotly (Decimal → float, missing → None)."""
    return [_float(value) for value in values]


def month_label(label: str, language: str) -> str:
    """'2026-06' → "Tháng 6/2026" / "Jun 2026"; other labels are translated keys."""
    try:
        day = dt.date(int(label[:4]), int(label[5:7]), 1)
    except (TypeError, ValueError):
        return tr(f"pipeline.month_{label.replace(' ', '_')}", language)
    return fmt.month(day, language)


# ------------------------------------------------------------------------------ cards
@dataclass(frozen=True)
class CardSpec:
    """Which KPI a card shows and what extra figures go into its help."""

    kpi_id: str
    details: Sequence[str] = field(default_factory=tuple)


def kpi_cards(
    results: Mapping[str, Any], specs: Sequence[CardSpec], language: str
) -> list[KpiCard]:
    """Cards for engine results (``app.kpi.engine.KpiResult`` by id), formatted per language.

    The help holds the formula, the comparison value and the named details (p90, n).
    ``trend`` is +1 when the change is good for the KPI's direction, -1 when bad.
    """
    cards = []
    for spec in specs:
        result = results.get(spec.kpi_id)
        if result is None:
            continue
        value = fmt.kpi_value(result.value, result.unit, language)
        if result.unit in ("days", "hours") and result.value is not None:
            value = f"{value} {tr(f'pipeline.unit_{result.unit}', language)}"
        delta = fmt.kpi_change(result.change, result.change_pct, result.unit, language)
        trend = 0
        if result.change is not None and result.change != 0 and delta:
            sign = 1 if result.change > 0 else -1
            trend = sign if result.direction == "higher" else -sign
        lines = [f"**{tr('common.formula', language)}:** {result.formula}"]
        if result.compare_value is not None:
            lines.append(
                tr(
                    "pipeline.card_compare",
                    language,
                    value=fmt.kpi_value(result.compare_value, result.unit, language),
                )
            )
        for name in spec.details:
            detail = result.details.get(name)
            if name == "n":
                lines.append(tr("pipeline.card_n", language, n=fmt.number(detail or 0, language)))
            else:
                lines.append(
                    tr(
                        f"pipeline.card_{name}",
                        language,
                        value=fmt.kpi_value(detail, result.unit, language),
                    )
                )
        if result.unit == "money" and result.value is not None:
            lines.append(
                tr("pipeline.card_exact", language, value=fmt.money(result.value, language))
            )
        cards.append(
            KpiCard(
                label=result.label_vi if language == "vi" else result.label,
                value=value,
                help="\n\n".join(lines),
                delta=delta,
                trend=trend,
            )
        )
    return cards


def render_cards(cards: Sequence[KpiCard], *, key_prefix: str) -> None:
    """Bordered ``st.metric`` cards; the delta is green when good, red when bad."""
    import streamlit as st

    from components.kpi_cards import wrap_card_labels

    if not cards:
        return
    wrap_card_labels()
    with st.container(key=f"{key_prefix}_cards"):
        for column, card in zip(st.columns(len(cards)), cards, strict=True):
            with column:
                # The delta text may start with "−" (U+2212), which Streamlit does not read
                # as negative, and a fall can be good (complaints): the colour follows
                # the trend (good or bad), the arrow the sign of the change.
                rising = bool(card.delta) and card.delta.startswith("+")
                st.metric(
                    card.label,
                    card.value,
                    delta=card.delta,
                    delta_color={1: "green", -1: "red"}.get(card.trend, "off"),
                    delta_arrow="off" if card.trend == 0 else ("up" if rising else "down"),
                    help=card.help,
                    border=True,
                )


# ------------------------------------------------------------------------------ tables
@dataclass(frozen=True)
class TableView:
    """A display frame with translated headers and how to format its columns."""

    frame: pd.DataFrame
    money: tuple[str, ...] = ()
    percent: tuple[str, ...] = ()
    decimals: tuple[str, ...] = ()

    def formats(self) -> dict[str, str]:
        """How ``components.tables.data_table`` shows each number column in the locale:
        money in VND, rates as percentages, one decimal. Counts stay numbers (the grid
        shows them without separators, right in both languages, and sorts them)."""
        kinds: dict[str, str] = {name: "money" for name in self.money}
        kinds.update({name: "percent" for name in self.percent})
        kinds.update({name: "decimal1" for name in self.decimals})
        return kinds


def table_view(
    frame: pd.DataFrame,
    columns: Mapping[str, str],
    language: str,
    *,
    money: Iterable[str] = (),
    percent: Iterable[str] = (),
    decimals: Iterable[str] = (),
    labels: Mapping[str, Mapping[Any, str]] | None = None,
) -> TableView:
    """``frame``'s ``columns`` (name → message key), renamed to the language.

    Money, rate and decimal columns become floats (Decimal cannot be formatted by the
    grid, and Excel reads floats); ``labels`` translates the values of a column.
    """
    if frame is None or frame.empty:
        return TableView(pd.DataFrame(columns=[tr(key, language) for key in columns.values()]))
    out = pd.DataFrame(index=range(len(frame)))
    names = {column: tr(key, language) for column, key in columns.items()}
    numeric = {*money, *percent, *decimals}
    for column in columns:
        values = list(frame[column])
        if column in numeric:
            out[names[column]] = pd.array(floats(values), dtype="Float64")
        elif labels and column in labels:
            out[names[column]] = [labels[column].get(value, value) for value in values]
        else:
            out[names[column]] = values
    return TableView(
        out,
        money=tuple(names[c] for c in money if c in names),
        percent=tuple(names[c] for c in percent if c in names),
        decimals=tuple(names[c] for c in decimals if c in names),
    )


def stage_names(language: str) -> dict[str, str]:
    """Stage value → its name in the language."""
    return enum_labels(Stage, language)


# ------------------------------------------------------------------------------ pipeline
def pipeline_stage_funnel(frame: pd.DataFrame, language: str) -> go.Figure | None:
    """Opportunities per stage (open at the end, won in the period), amounts in hover."""
    rows = frame[frame["stage"] != "lost"] if not frame.empty else frame
    if is_empty(rows, "opportunities"):
        return None
    names = stage_names(language)
    hover = [
        [amount, weighted, fmt.percent(probability, language, places=0)]
        for amount, weighted, probability in zip(
            money_texts(rows["amount"], language),
            money_texts(rows["weighted"], language),
            rows["probability"],
            strict=True,
        )
    ]
    fig = go.Figure(
        go.Funnel(
            y=[names[stage] for stage in rows["stage"]],
            x=list(rows["opportunities"]),
            customdata=hover,
            textinfo="value",
            marker={"color": BLUE},
            hovertemplate=(
                "<b>%{y}</b><br>"
                + tr("pipeline.opportunities", language)
                + ": %{x}<br>"
                + tr("pipeline.amount", language)
                + ": %{customdata[0]}<br>"
                + tr("pipeline.weighted", language)
                + ": %{customdata[1]} (%{customdata[2]})<extra></extra>"
            ),
        )
    )
    return layout(
        fig,
        tr("pipeline.chart_stages", language),
        tr("pipeline.opportunities", language),
        tr("pipeline.stage", language),
    )


def pipeline_amount_bar(frame: pd.DataFrame, language: str) -> go.Figure | None:
    """Amount and weighted amount per stage (open at the end, closed in the period)."""
    if is_empty(frame, "amount"):
        return None
    names = stage_names(language)
    stages = [names[stage] for stage in frame["stage"]]
    fig = go.Figure()
    for column, key, colour in (("amount", "amount", BLUE), ("weighted", "weighted", LIGHT_BLUE)):
        fig.add_trace(
            go.Bar(
                x=stages,
                y=floats(frame[column]),
                name=tr(f"pipeline.{key}", language),
                marker_color=colour,
                customdata=money_texts(frame[column], language),
                hovertemplate="<b>%{x}</b><br>%{fullData.name}: %{customdata}<extra></extra>",
            )
        )
    return layout(
        money_axis(fig, frame["amount"], language),
        tr("pipeline.chart_stage_amounts", language),
        tr("pipeline.stage", language),
        tr("pipeline.amount_vnd", language),
        barmode="group",
    )


def cohort_funnel(frame: pd.DataFrame, language: str) -> go.Figure | None:
    """The creation cohort's funnel: deals reaching each stage, conversion and losses in hover."""
    if is_empty(frame, "reached"):
        return None
    names = stage_names(language)
    hover = [
        [
            fmt.percent(_number(conversion), language) if _number(conversion) is not None else "–",
            fmt.number(lost, language),
        ]
        for conversion, lost in zip(frame["conversion_to_next"], frame["lost_here"], strict=True)
    ]
    fig = go.Figure(
        go.Funnel(
            y=[names[stage] for stage in frame["stage"]],
            x=list(frame["reached"]),
            customdata=hover,
            textinfo="value+percent initial",
            marker={"color": GREEN},
            hovertemplate=(
                "<b>%{y}</b><br>"
                + tr("pipeline.reached", language)
                + ": %{x}<br>"
                + tr("pipeline.conversion_to_next", language)
                + ": %{customdata[0]}<br>"
                + tr("pipeline.lost_here", language)
                + ": %{customdata[1]}<extra></extra>"
            ),
        )
    )
    return layout(
        fig,
        tr("pipeline.chart_cohort", language),
        tr("pipeline.opportunities", language),
        tr("pipeline.stage", language),
    )


def close_month_forecast(frame: pd.DataFrame, language: str) -> go.Figure | None:
    """Open and weighted amounts by expected close month (overdue, later, no date included)."""
    if is_empty(frame, "open_amount"):
        return None
    months = [month_label(label, language) for label in frame["month"]]
    fig = go.Figure()
    for column, key, colour in (
        ("open_amount", "open_amount", LIGHT_BLUE),
        ("weighted_amount", "weighted", BLUE),
    ):
        hover = [
            [text, fmt.number(count, language)]
            for text, count in zip(
                money_texts(frame[column], language), frame["opportunities"], strict=True
            )
        ]
        fig.add_trace(
            go.Bar(
                x=months,
                y=floats(frame[column]),
                name=tr(f"pipeline.{key}", language),
                marker_color=colour,
                customdata=hover,
                hovertemplate=(
                    "<b>%{x}</b><br>%{fullData.name}: %{customdata[0]}<br>"
                    + tr("pipeline.opportunities", language)
                    + ": %{customdata[1]}<extra></extra>"
                ),
            )
        )
    return layout(
        money_axis(fig, frame["open_amount"], language),
        tr("pipeline.chart_forecast", language),
        tr("pipeline.close_month", language),
        tr("pipeline.amount_vnd", language),
        barmode="group",
    )


def time_in_stage_bar(frame: pd.DataFrame, cycle: pd.DataFrame, language: str) -> go.Figure | None:
    """Median and p90 days per open stage, and of the whole sales cycle (won deals)."""
    stages = (
        frame
        if not frame.empty
        else pd.DataFrame(columns=["stage", "median_days", "p90_days", "n"])
    )
    names = stage_names(language)
    labels = [names[stage] for stage in stages["stage"]]
    medians, p90s, counts = list(stages["median_days"]), list(stages["p90_days"]), list(stages["n"])
    if not cycle.empty:
        labels.append(tr("pipeline.sales_cycle", language))
        medians.append(cycle["median_days"].iloc[0])
        p90s.append(cycle["p90_days"].iloc[0])
        counts.append(cycle["n"].iloc[0])
    if not labels or all(_number(value) is None for value in medians):
        return None
    fig = go.Figure()
    for values, key, colour in ((medians, "median_days", BLUE), (p90s, "p90_days", LIGHT_BLUE)):
        hover = [
            [fmt.number(_number(value), language, places=1), fmt.number(n, language)]
            for value, n in zip(values, counts, strict=True)
        ]
        fig.add_trace(
            go.Bar(
                x=labels,
                y=floats(values),
                name=tr(f"pipeline.{key}", language),
                marker_color=colour,
                customdata=hover,
                hovertemplate=(
                    "<b>%{x}</b><br>%{fullData.name}: %{customdata[0]}<br>"
                    + tr("pipeline.n", language)
                    + ": %{customdata[1]}<extra></extra>"
                ),
            )
        )
    return layout(
        fig,
        tr("pipeline.chart_time_in_stage", language),
        tr("pipeline.stage", language),
        tr("pipeline.days", language),
        barmode="group",
    )


def lost_reasons_bar(frame: pd.DataFrame, language: str) -> go.Figure | None:
    """Opportunities lost in the period per reason, most frequent on top."""
    if is_empty(frame, "opportunities"):
        return None
    rows = frame.iloc[::-1]
    reasons = [reason_label(reason, language) for reason in rows["reason"]]
    hover = [
        [amount, fmt.percent(share, language)]
        for amount, share in zip(money_texts(rows["amount"], language), rows["share"], strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=list(rows["opportunities"]),
            y=reasons,
            orientation="h",
            marker_color=RED,
            customdata=hover,
            hovertemplate=(
                "<b>%{y}</b><br>"
                + tr("pipeline.opportunities", language)
                + ": %{x} (%{customdata[1]})<br>"
                + tr("pipeline.amount", language)
                + ": %{customdata[0]}<extra></extra>"
            ),
        )
    )
    return layout(
        fig,
        tr("pipeline.chart_lost", language),
        tr("pipeline.opportunities", language),
        tr("pipeline.reason", language),
        height=max(CHART_HEIGHT, 60 + 32 * len(reasons)),
    )


def reason_label(reason: str, language: str) -> str:
    """A lost reason as entered; the placeholder for "not given" is translated."""
    return tr("pipeline.reason_not_given", language) if reason == "(not given)" else reason


def owner_label(name: str, language: str) -> str:
    """An owner's display name; "(unassigned)" is translated."""
    return tr("common.unassigned", language) if name == "(unassigned)" else name


def pipeline_table(frame: pd.DataFrame, language: str) -> TableView:
    """pipeline_by_stage for the table: stage names translated."""
    return table_view(
        frame,
        {
            "stage": "pipeline.stage",
            "opportunities": "pipeline.opportunities",
            "amount": "pipeline.amount",
            "probability": "pipeline.probability",
            "weighted": "pipeline.weighted",
        },
        language,
        money=("amount", "weighted"),
        percent=("probability",),
        labels={"stage": stage_names(language)},
    )


def cohort_table(frame: pd.DataFrame, language: str) -> TableView:
    """stage_funnel for the table."""
    return table_view(
        frame,
        {
            "stage": "pipeline.stage",
            "reached": "pipeline.reached",
            "lost_here": "pipeline.lost_here",
            "conversion_to_next": "pipeline.conversion_to_next",
        },
        language,
        percent=("conversion_to_next",),
        labels={"stage": stage_names(language)},
    )


def time_table(frame: pd.DataFrame, cycle: pd.DataFrame, language: str) -> TableView:
    """Time in stage plus one row for the sales cycle."""
    rows = frame.copy() if not frame.empty else pd.DataFrame(columns=list(frame.columns))
    names = stage_names(language)
    if not frame.empty:
        rows["stage"] = [names[stage] for stage in rows["stage"]]
    if not cycle.empty:
        extra = cycle.assign(stage=tr("pipeline.sales_cycle", language))
        rows = extra if rows.empty else pd.concat([rows, extra], ignore_index=True)
    return table_view(
        rows,
        {
            "stage": "pipeline.stage",
            "median_days": "pipeline.median_days",
            "p90_days": "pipeline.p90_days",
            "n": "pipeline.n",
        },
        language,
        decimals=("median_days", "p90_days"),
    )


def lost_table(frame: pd.DataFrame, language: str) -> TableView:
    """lost_reasons for the table."""
    view = table_view(
        frame,
        {
            "reason": "pipeline.reason",
            "opportunities": "pipeline.opportunities",
            "amount": "pipeline.amount",
            "share": "pipeline.share",
        },
        language,
        money=("amount",),
        percent=("share",),
    )
    if not frame.empty:
        name = tr("pipeline.reason", language)
        view.frame[name] = [reason_label(reason, language) for reason in view.frame[name]]
    return view


def owner_table(frame: pd.DataFrame, language: str) -> TableView:
    """owner_performance for the table."""
    view = table_view(
        frame,
        {
            "owner_name": "pipeline.owner",
            "open_amount": "pipeline.open_amount",
            "won": "pipeline.won",
            "lost": "pipeline.lost",
            "win_rate": "pipeline.win_rate",
            "won_amount": "pipeline.won_amount",
            "revenue": "pipeline.revenue",
        },
        language,
        money=("open_amount", "won_amount", "revenue"),
        percent=("win_rate",),
    )
    if not frame.empty:
        name = tr("pipeline.owner", language)
        view.frame[name] = [owner_label(owner, language) for owner in view.frame[name]]
    return view


def forecast_table(frame: pd.DataFrame, language: str) -> TableView:
    """forecast_by_close_month for the table, months in words."""
    view = table_view(
        frame,
        {
            "month": "pipeline.close_month",
            "open_amount": "pipeline.open_amount",
            "weighted_amount": "pipeline.weighted",
            "opportunities": "pipeline.opportunities",
        },
        language,
        money=("open_amount", "weighted_amount"),
    )
    if not frame.empty:
        name = tr("pipeline.close_month", language)
        view.frame[name] = [month_label(label, language) for label in view.frame[name]]
    return view


# ------------------------------------------------------------------------------ campaigns
def channel_names(language: str) -> dict[str, str]:
    """Campaign channel value → its name in the language."""
    return enum_labels(CampaignChannel, language)


def purpose_names(language: str) -> dict[str, str]:
    """Campaign purpose value → its name in the language."""
    return enum_labels(CampaignPurpose, language)


CAMPAIGN_TABLE_COLUMNS = {
    "name": "campaigns.name",
    "channel": "campaigns.channel",
    "purpose": "campaigns.purpose",
    "budget": "campaigns.budget",
    "actual_cost": "campaigns.actual_cost",
    "allocated_cost": "campaigns.allocated_cost",
    "members": "campaigns.members",
    "responses": "campaigns.responses",
    "conversions": "campaigns.conversions",
    "response_rate": "campaigns.response_rate",
    "conversion_rate": "campaigns.conversion_rate",
    "revenue": "campaigns.revenue",
    "margin": "campaigns.margin",
    "roi": "campaigns.roi",
    "new_customers": "campaigns.new_customers",
    "cac": "campaigns.cac",
}
_CAMPAIGN_MONEY = ("budget", "actual_cost", "allocated_cost", "revenue", "margin", "cac")
_CAMPAIGN_RATES = ("response_rate", "conversion_rate", "roi")


def campaign_table(frame: pd.DataFrame, language: str) -> TableView:
    """campaign_results for the table: every money figure, ROI and CAC."""
    return table_view(
        frame,
        CAMPAIGN_TABLE_COLUMNS,
        language,
        money=_CAMPAIGN_MONEY,
        percent=_CAMPAIGN_RATES,
        labels={"channel": channel_names(language), "purpose": purpose_names(language)},
    )


def channel_table(frame: pd.DataFrame, language: str) -> TableView:
    """campaigns_by_channel for the table."""
    columns = {"channel": "campaigns.channel", "campaigns": "campaigns.campaigns"}
    columns.update(
        {
            key: value
            for key, value in CAMPAIGN_TABLE_COLUMNS.items()
            if key not in ("name", "channel", "purpose")
        }
    )
    return table_view(
        frame,
        columns,
        language,
        money=_CAMPAIGN_MONEY,
        percent=_CAMPAIGN_RATES,
        labels={"channel": channel_names(language)},
    )


def channel_comparison(frame: pd.DataFrame, language: str) -> go.Figure | None:
    """Cost (allocated to the period), revenue and margin per channel, grouped bars."""
    if is_empty(frame, "allocated_cost", "revenue", "margin"):
        return None
    names = channel_names(language)
    channels = [names.get(channel, channel) for channel in frame["channel"]]
    fig = go.Figure()
    for column, key, colour in (
        ("allocated_cost", "allocated_cost", ORANGE),
        ("revenue", "revenue", BLUE),
        ("margin", "margin", GREEN),
    ):
        hover = [
            [money, fmt.percent(_number(roi), language), fmt.number(count, language)]
            for money, roi, count in zip(
                money_texts(frame[column], language), frame["roi"], frame["campaigns"], strict=True
            )
        ]
        fig.add_trace(
            go.Bar(
                x=channels,
                y=floats(frame[column]),
                name=tr(f"campaigns.{key}", language),
                marker_color=colour,
                customdata=hover,
                hovertemplate=(
                    "<b>%{x}</b><br>%{fullData.name}: %{customdata[0]}<br>"
                    + tr("campaigns.roi", language)
                    + ": %{customdata[1]}<br>"
                    + tr("campaigns.campaigns", language)
                    + ": %{customdata[2]}<extra></extra>"
                ),
            )
        )
    return layout(
        money_axis(fig, [*frame["revenue"], *frame["allocated_cost"], *frame["margin"]], language),
        tr("campaigns.chart_channels", language),
        tr("campaigns.channel", language),
        tr("campaigns.amount_vnd", language),
        barmode="group",
    )


def campaign_funnel(row: Mapping[str, Any] | None, language: str) -> go.Figure | None:
    """One campaign: members → responses → conversions → new customers."""
    if row is None or not row.get("members"):
        return None
    steps = ("members", "responses", "conversions", "new_customers")
    values = [int(row.get(step) or 0) for step in steps]
    fig = go.Figure(
        go.Funnel(
            y=[tr(f"campaigns.{step}", language) for step in steps],
            x=values,
            textinfo="value+percent initial",
            marker={"color": [BLUE, LIGHT_BLUE, GREEN, ORANGE]},
            customdata=[fmt.number(value, language) for value in values],
            hovertemplate="<b>%{y}</b>: %{customdata}<br>%{percentInitial:.1%}<extra></extra>",
        )
    )
    return layout(
        fig,
        tr("campaigns.chart_funnel", language, name=str(row.get("name", ""))),
        tr("campaigns.customers", language),
        tr("campaigns.step", language),
    )


# ------------------------------------------------------------------------------ forecast
def demand_chart(
    frame: pd.DataFrame, language: str, *, category: str | None = None, measure: str = "revenue"
) -> go.Figure | None:
    """History (solid) and forecast (dashed) per category; one category when given."""
    if frame.empty:
        return None
    rows = frame if category is None else frame[frame["category"] == category]
    if is_empty(rows, measure):
        return None
    fig = go.Figure()
    for index, (name, group) in enumerate(rows.groupby("category", sort=True)):
        colour = PALETTE[index % len(PALETTE)]
        actual = group[group["kind"] == "actual"]
        forecast = group[group["kind"] == "forecast"]
        if not actual.empty and not forecast.empty:
            # The dashed line starts at the last actual month so the two lines join.
            forecast = pd.concat([actual.tail(1), forecast])
        for part, kind in ((actual, "actual"), (forecast, "forecast")):
            if part.empty:
                continue
            values = list(part[measure])
            texts = (
                money_texts(values, language)
                if measure == "revenue"
                else [fmt.number(value, language) for value in values]
            )
            fig.add_trace(
                go.Scatter(
                    x=[dt.date(int(m[:4]), int(m[5:7]), 1) for m in part["month"]],
                    y=floats(values),
                    mode="lines+markers" if kind == "forecast" else "lines",
                    name=name,
                    legendgroup=name,
                    # One legend entry per category; the dashed part is the forecast.
                    showlegend=kind == "actual" or actual.empty,
                    line={"color": colour, "dash": "dash" if kind == "forecast" else "solid"},
                    customdata=[
                        [text, month_label(m, language)]
                        for text, m in zip(texts, part["month"], strict=True)
                    ],
                    hovertemplate=(
                        "<b>%{fullData.name}</b><br>%{customdata[1]}: "
                        "%{customdata[0]}<extra></extra>"
                    ),
                )
            )
    title_key = (
        "forecast.chart_demand_revenue"
        if measure == "revenue"
        else "forecast.chart_demand_quantity"
    )
    y_key = "forecast.revenue_vnd" if measure == "revenue" else "forecast.quantity"
    if measure == "revenue":
        money_axis(fig, rows[measure], language)
    fig = layout(
        fig,
        tr(title_key, language)
        + (f" · {category}" if category else "")
        + f" ({tr('forecast.dashed', language)})",
        tr("forecast.month", language),
        tr(y_key, language),
        height=420,
    )
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "xanchor": "left", "x": 0},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


def backtest_table(frame: pd.DataFrame, language: str) -> TableView:
    """forecast_backtest for the table."""
    return table_view(
        frame,
        {
            "category": "forecast.category",
            "mape": "forecast.mape",
            "mae": "forecast.mae",
            "months_tested": "forecast.months_tested",
        },
        language,
        money=("mae",),
        percent=("mape",),
    )


def demand_table(frame: pd.DataFrame, language: str) -> TableView:
    """demand_forecast for the table, kind translated."""
    kinds = {kind: tr(f"forecast.kind_{kind}", language) for kind in ("actual", "forecast")}
    return table_view(
        frame,
        {
            "category": "forecast.category",
            "month": "forecast.month",
            "kind": "forecast.kind",
            "quantity": "forecast.quantity",
            "revenue": "forecast.revenue",
        },
        language,
        money=("revenue",),
        decimals=("quantity",),
        labels={"kind": kinds},
    )


def sales_forecast_bar(frame: pd.DataFrame, language: str) -> go.Figure | None:
    """Weighted pipeline by expected close month (sales_forecast)."""
    if is_empty(frame, "weighted_pipeline"):
        return None
    months = [month_label(label, language) for label in frame["month"]]
    fig = go.Figure(
        go.Bar(
            x=months,
            y=floats(frame["weighted_pipeline"]),
            marker_color=BLUE,
            customdata=money_texts(frame["weighted_pipeline"], language),
            hovertemplate="<b>%{x}</b><br>%{customdata}<extra></extra>",
        )
    )
    return layout(
        money_axis(fig, frame["weighted_pipeline"], language),
        tr("forecast.chart_sales", language),
        tr("forecast.close_month", language),
        tr("forecast.weighted_vnd", language),
    )


def sales_forecast_table(frame: pd.DataFrame, language: str) -> TableView:
    """sales_forecast for the table, months in words."""
    view = table_view(
        frame,
        {"month": "forecast.close_month", "weighted_pipeline": "forecast.weighted"},
        language,
        money=("weighted_pipeline",),
    )
    if not frame.empty:
        name = tr("forecast.close_month", language)
        view.frame[name] = [month_label(label, language) for label in view.frame[name]]
    return view


# ------------------------------------------------------------------------------ rendering
def show_chart(fig: go.Figure | None, *, key: str, language: str) -> None:
    """A chart, or a short note when there is nothing to draw (never an empty frame)."""
    import streamlit as st

    if fig is None:
        st.info(
            tr("common.no_data", language) + " " + tr("common.no_data_hint", language),
            icon=":material/info:",
        )
        return
    st.plotly_chart(fig, width="stretch", key=key, config={"displaylogo": False})


def show_table(view: TableView, *, file_stem: str, key_prefix: str) -> None:
    """A table with its CSV and Excel downloads (components.tables.data_table)."""
    from components.tables import data_table

    data_table(view.frame, file_stem=file_stem, key_prefix=key_prefix, formats=view.formats())


def period_caption(start: dt.date, last_day: dt.date, language: str) -> str:
    """ "Period: 01/06/2026 – 15/06/2026" in the language."""
    return tr(
        "common.period_label",
        language,
        start=fmt.date(start, language),
        end=fmt.date(last_day, language),
    )
