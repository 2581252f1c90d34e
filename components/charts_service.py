"""Charts and tables of the Complaints page (pure builders, see components/charts_sales.py).

Every builder takes frames of ``app.kpi.analyses_service`` and a language and returns a
``go.Figure``, or ``None`` when there is nothing to draw.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app import formatting as fmt
from app.i18n import enum_label
from app.models import ComplaintStatus, Severity
from components.charts_sales import (
    BLUE,
    CHART_HEIGHT,
    GREEN,
    GREY,
    LIGHT_BLUE,
    ORANGE,
    RED,
    TableView,
    _number,
    floats,
    is_empty,
    layout,
    month_label,
    table_view,
    tr,
)

SEVERITIES = ("critical", "high", "medium", "low")
STATUSES = ("open", "in_progress", "reopened", "resolved", "closed")
SEVERITY_COLOURS = {"critical": RED, "high": ORANGE, "medium": "#e6b800", "low": GREEN}
BUCKETS = ("0-1 d", "1-3 d", "3-7 d", "7-30 d", "> 30 d")


def severity_names(language: str) -> dict[str, str]:
    """Severity value → its name in the language."""
    return {name: enum_label(Severity(name), language) for name in SEVERITIES}


def status_names(language: str) -> dict[str, str]:
    """Complaint status value → its name in the language."""
    return {name: enum_label(ComplaintStatus(name), language) for name in STATUSES}


def bucket_names(language: str) -> dict[str, str]:
    """Backlog age bucket → its label in the language."""
    return {
        bucket: tr(f"complaints.bucket_{index}", language) for index, bucket in enumerate(BUCKETS)
    }


def key_label(by: str, key: str, language: str) -> str:
    """A complaint_counts key in the language (categories are data, shown as entered)."""
    if key == "(none)":
        return tr("complaints.no_category", language)
    if by == "severity":
        return severity_names(language).get(key, key)
    if by == "status":
        return status_names(language).get(key, key)
    return key


def counts_bar(frame: pd.DataFrame, by: str, language: str) -> go.Figure | None:
    """Complaints opened in the period per category (horizontal), severity or status."""
    if is_empty(frame, "complaints"):
        return None
    rows = frame
    if by == "severity":
        order = {name: index for index, name in enumerate(SEVERITIES)}
        rows = frame.sort_values("key", key=lambda keys: keys.map(lambda k: order.get(k, 99)))
    labels = [key_label(by, key, language) for key in rows["key"]]
    hover = [
        [fmt.number(count, language), fmt.percent(share, language)]
        for count, share in zip(rows["complaints"], rows["share"], strict=True)
    ]
    template = "<b>%{customdata[2]}</b><br>" + tr("complaints.complaints", language)
    template += ": %{customdata[0]} (%{customdata[1]})<extra></extra>"
    hover = [[*item, label] for item, label in zip(hover, labels, strict=True)]
    colours = [SEVERITY_COLOURS.get(key, BLUE) for key in rows["key"]] if by == "severity" else BLUE
    if by == "category":
        rows_rev = list(range(len(labels)))[::-1]
        fig = go.Figure(
            go.Bar(
                x=[list(rows["complaints"])[i] for i in rows_rev],
                y=[labels[i] for i in rows_rev],
                orientation="h",
                marker_color=colours,
                customdata=[hover[i] for i in rows_rev],
                hovertemplate=template,
            )
        )
        return layout(
            fig,
            tr("complaints.chart_by_category", language),
            tr("complaints.complaints", language),
            tr("complaints.category", language),
            height=max(CHART_HEIGHT, 60 + 32 * len(labels)),
        )
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=list(rows["complaints"]),
            marker_color=colours,
            customdata=hover,
            hovertemplate=template,
        )
    )
    return layout(
        fig,
        tr(f"complaints.chart_by_{by}", language),
        tr(f"complaints.{by}", language),
        tr("complaints.complaints", language),
    )


def trend_chart(frame: pd.DataFrame, language: str) -> go.Figure | None:
    """Complaints opened and resolved per month."""
    if is_empty(frame, "opened", "resolved"):
        return None
    months = [month_label(label, language) for label in frame["month"]]
    fig = go.Figure()
    # Bars, not lines: a one-month period still reads as a comparison.
    for column, colour in (("opened", RED), ("resolved", GREEN)):
        fig.add_trace(
            go.Bar(
                x=months,
                y=list(frame[column]),
                name=tr(f"complaints.{column}", language),
                marker_color=colour,
                customdata=[fmt.number(value, language) for value in frame[column]],
                hovertemplate="<b>%{x}</b><br>%{fullData.name}: %{customdata}<extra></extra>",
            )
        )
    return layout(
        fig,
        tr("complaints.chart_trend", language),
        tr("complaints.month", language),
        tr("complaints.complaints", language),
        barmode="group",
    )


def backlog_bar(frame: pd.DataFrame, language: str) -> go.Figure | None:
    """Complaints open at the end of the period by age."""
    if is_empty(frame, "complaints"):
        return None
    names = bucket_names(language)
    fig = go.Figure(
        go.Bar(
            x=[names.get(bucket, bucket) for bucket in frame["bucket"]],
            y=list(frame["complaints"]),
            marker_color=[LIGHT_BLUE, BLUE, ORANGE, RED, "#8b0000"][: len(frame)],
            customdata=[fmt.number(value, language) for value in frame["complaints"]],
            hovertemplate="<b>%{x}</b><br>"
            + tr("complaints.open_complaints", language)
            + ": %{customdata}<extra></extra>",
        )
    )
    return layout(
        fig,
        tr("complaints.chart_backlog", language),
        tr("complaints.age", language),
        tr("complaints.open_complaints", language),
    )


def response_times_bar(frame: pd.DataFrame, language: str) -> go.Figure | None:
    """Median first-response and resolution hours per severity (p90 in hover)."""
    columns = ("first_response_median_h", "resolution_median_h")
    if frame.empty or all(_number(v) is None for c in columns for v in frame[c]):
        return None
    names = severity_names(language)
    severities = [names.get(name, name) for name in frame["severity"]]
    fig = go.Figure()
    for measure, colour in (("first_response", LIGHT_BLUE), ("resolution", BLUE)):
        medians, p90s = frame[f"{measure}_median_h"], frame[f"{measure}_p90_h"]
        hover = [
            [fmt.number(_number(m), language, places=1), fmt.number(_number(p), language, places=1)]
            for m, p in zip(medians, p90s, strict=True)
        ]
        fig.add_trace(
            go.Bar(
                x=severities,
                y=floats(medians),
                name=tr(f"complaints.{measure}", language),
                marker_color=colour,
                customdata=hover,
                hovertemplate=(
                    "<b>%{x}</b><br>%{fullData.name}: %{customdata[0]} h<br>p90: "
                    "%{customdata[1]} h<extra></extra>"
                ),
            )
        )
    return layout(
        fig,
        tr("complaints.chart_times", language),
        tr("complaints.severity", language),
        tr("complaints.hours", language),
        barmode="group",
    )


def sla_bar(frame: pd.DataFrame, language: str) -> go.Figure | None:
    """Share of complaints resolved within the SLA of their severity."""
    if is_empty(frame, "resolved"):
        return None
    names = severity_names(language)
    hover = [
        [
            fmt.percent(_number(rate), language),
            fmt.number(inside, language),
            fmt.number(resolved, language),
            fmt.number(hours, language),
        ]
        for rate, inside, resolved, hours in zip(
            frame["sla_rate"],
            frame["within_sla"],
            frame["resolved"],
            frame["sla_hours"],
            strict=True,
        )
    ]
    fig = go.Figure(
        go.Bar(
            x=[names.get(name, name) for name in frame["severity"]],
            y=floats(frame["sla_rate"]),
            marker_color=[SEVERITY_COLOURS.get(name, BLUE) for name in frame["severity"]],
            customdata=hover,
            hovertemplate=(
                "<b>%{x}</b><br>%{customdata[0]} (%{customdata[1]} / %{customdata[2]})<br>"
                + tr("complaints.sla_hours", language)
                + ": %{customdata[3]} h<extra></extra>"
            ),
        )
    )
    fig = layout(
        fig,
        tr("complaints.chart_sla", language),
        tr("complaints.severity", language),
        tr("complaints.sla_rate", language),
    )
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    return fig


def breach_chart(frame: pd.DataFrame, language: str) -> go.Figure | None:
    """Churn rate and NPS of customers with and without an SLA breach, side by side."""
    if is_empty(frame, "customers"):
        return None
    groups = [tr(f"complaints.group_{name.replace(' ', '_')}", language) for name in frame["group"]]
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(tr("complaints.churn_rate", language), tr("complaints.nps", language)),
        horizontal_spacing=0.15,
    )
    colours = [RED, GREY]
    counts = [fmt.number(value, language) for value in frame["customers"]]
    fig.add_trace(
        go.Bar(
            x=groups,
            y=floats(frame["churn_rate"]),
            marker_color=colours,
            name=tr("complaints.churn_rate", language),
            customdata=[
                [fmt.percent(_number(rate), language), count]
                for rate, count in zip(frame["churn_rate"], counts, strict=True)
            ],
            hovertemplate="<b>%{x}</b><br>%{fullData.name}: %{customdata[0]}<br>"
            + tr("complaints.customers", language)
            + ": %{customdata[1]}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=groups,
            y=floats(frame["nps"]),
            marker_color=colours,
            name=tr("complaints.nps", language),
            customdata=[
                [fmt.number(_number(nps), language, places=1), count]
                for nps, count in zip(frame["nps"], counts, strict=True)
            ],
            hovertemplate="<b>%{x}</b><br>NPS: %{customdata[0]}<br>"
            + tr("complaints.customers", language)
            + ": %{customdata[1]}<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig = layout(fig, tr("complaints.chart_breach", language), "", "", showlegend=False)
    fig.update_yaxes(
        tickformat=".0%", title_text=tr("complaints.churn_rate", language), row=1, col=1
    )
    fig.update_yaxes(title_text=tr("complaints.nps", language), row=1, col=2)
    fig.update_xaxes(title_text=tr("complaints.group", language))
    return fig


def response_table(frame: pd.DataFrame, language: str) -> TableView:
    """response_times for the table, severities translated."""
    return table_view(
        frame,
        {
            "severity": "complaints.severity",
            "first_response_median_h": "complaints.first_response_median",
            "first_response_p90_h": "complaints.first_response_p90",
            "resolution_median_h": "complaints.resolution_median",
            "resolution_p90_h": "complaints.resolution_p90",
            "resolved": "complaints.resolved",
            "within_sla": "complaints.within_sla",
            "sla_rate": "complaints.sla_rate",
            "sla_hours": "complaints.sla_hours",
        },
        language,
        percent=("sla_rate",),
        decimals=(
            "first_response_median_h",
            "first_response_p90_h",
            "resolution_median_h",
            "resolution_p90_h",
        ),
        labels={"severity": severity_names(language)},
    )


def top_issues_table(frame: pd.DataFrame, language: str) -> TableView:
    """Categories by number of complaints with their share (complaint_counts by category)."""
    view = table_view(
        frame,
        {
            "key": "complaints.category",
            "complaints": "complaints.complaints",
            "share": "complaints.share",
        },
        language,
        percent=("share",),
    )
    if not frame.empty:
        name = tr("complaints.category", language)
        view.frame[name] = [key_label("category", key, language) for key in view.frame[name]]
    return view


def breach_table(frame: pd.DataFrame, language: str) -> TableView:
    """breach_impact for the table."""
    groups = {
        name: tr(f"complaints.group_{name.replace(' ', '_')}", language)
        for name in ("breached", "not breached")
    }
    return table_view(
        frame,
        {
            "group": "complaints.group",
            "customers": "complaints.customers",
            "churn_rate": "complaints.churn_rate",
            "nps": "complaints.nps",
        },
        language,
        percent=("churn_rate",),
        decimals=("nps",),
        labels={"group": groups},
    )
