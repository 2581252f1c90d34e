"""Chart builders of the Overview and CRM evaluation pages: pure, tested without Streamlit.

Each takes a frame and the language and returns a ``go.Figure``, or None when there is
nothing to draw, so the page shows an empty state instead of an empty chart frame.
graph_objects, not plotly.express: express is ~25x slower to build (performance-notes).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from app import formatting as fmt
from app.i18n import normalise_language, translate
from app.kpi.analyses_service import NO_OWNER

# Plotly's separators string is "<decimal><thousands>": Vietnamese writes 1.234,5.
SEPARATORS = {"vi": ",.", "en": ".,"}
REVENUE_COLOUR = "#1f77b4"
PROFIT_COLOUR = "#2ca02c"
COMPLETENESS_COLOUR = "#1f77b4"


def _layout(figure: go.Figure, *, title: str, x_title: str, y_title: str, language: str) -> None:
    figure.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        xaxis_title=x_title,
        yaxis_title=y_title,
        separators=SEPARATORS[normalise_language(language)],
        hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        height=380,
    )


def short_month(day, language: str) -> str:  # noqa: ANN001 - a date
    """An axis label for a month: "6/2026" (vi; "Tháng 6/2026" is too long for 12 ticks)
    or "Jun 2026" (en)."""
    if normalise_language(language) == "vi":
        return f"{day.month}/{day.year}"
    return fmt.month(day, language)


def revenue_profit_trend(frame: pd.DataFrame, language: str) -> go.Figure | None:
    """Revenue and profit per month as two lines; hover shows the locale's full amounts.

    ``frame`` has columns [month (first day, a date), revenue, profit]; None when empty.
    """
    if frame is None or frame.empty:
        return None
    language = normalise_language(language)
    months = [short_month(day, language) for day in frame["month"]]
    figure = go.Figure()
    for column, colour in (("revenue", REVENUE_COLOUR), ("profit", PROFIT_COLOUR)):
        name = translate(f"overview.trace_{column}", language)
        figure.add_trace(
            go.Scatter(
                x=months,
                y=[float(value) for value in frame[column]],
                mode="lines+markers",
                name=name,
                line={"color": colour, "width": 2},
                customdata=[fmt.money(value, language) for value in frame[column]],
                hovertemplate=f"{name}: %{{customdata}}<extra></extra>",
            )
        )
    _layout(
        figure,
        title=translate("overview.trend_title", language),
        x_title=translate("overview.axis_month", language),
        y_title=translate("overview.axis_amount", language),
        language=language,
    )
    # Ticks abbreviated like the cards (1,2 tỷ / 1.2B) rather than Plotly's "1.2G".
    ticks = _money_ticks(frame, language)
    if ticks:
        figure.update_yaxes(tickvals=[value for value, _ in ticks], ticktext=[t for _, t in ticks])
    return figure


def _money_ticks(frame: pd.DataFrame, language: str, count: int = 5) -> list[tuple[float, str]]:
    """About ``count`` round tick values spanning the data, labelled as compact money."""
    values = [float(v) for column in ("revenue", "profit") for v in frame[column]]
    low, high = min(0.0, *values), max(0.0, *values)
    if high == low:
        return []
    raw_step = (high - low) / count
    magnitude = 10 ** (len(str(int(raw_step))) - 1) if raw_step >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    first = (low // step) * step
    ticks = []
    value = first
    while value <= high + step:
        ticks.append((value, fmt.compact_money(value, language)))
        value += step
    return ticks


def completeness_by_owner_chart(frame: pd.DataFrame, language: str) -> go.Figure | None:
    """Horizontal bars: important-field completeness per owner (0-100%); None when empty.

    ``frame`` has the columns of ``completeness_by``: [group, customers, ..., completeness].
    """
    if frame is None or frame.empty:
        return None
    language = normalise_language(language)
    rows = frame[frame["completeness"].notna()]
    if rows.empty:
        return None
    ordered = rows.sort_values("completeness")
    share = translate("evaluation.axis_completeness", language)
    figure = go.Figure(
        go.Bar(
            x=[float(value) for value in ordered["completeness"]],
            y=[
                translate("evaluation.no_owner", language) if name == NO_OWNER else str(name)
                for name in ordered["group"]
            ],
            orientation="h",
            marker_color=COMPLETENESS_COLOUR,
            customdata=[
                [fmt.percent(value, language), fmt.number(count, language)]
                for value, count in zip(ordered["completeness"], ordered["customers"], strict=True)
            ],
            hovertemplate=(
                f"%{{y}}<br>{share}: %{{customdata[0]}}<br>"
                + translate("evaluation.col_customers", language)
                + ": %{customdata[1]}<extra></extra>"
            ),
        )
    )
    _layout(
        figure,
        title=translate("evaluation.completeness_chart_title", language),
        x_title=share,
        y_title=translate("evaluation.col_owner", language),
        language=language,
    )
    figure.update_xaxes(tickformat=".0%", range=[0, 1])
    figure.update_layout(hovermode="closest", height=max(240, 40 * len(ordered) + 120))
    return figure
