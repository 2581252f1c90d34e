"""Chart builders of the Overview and CRM evaluation pages, without Streamlit."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from components.charts_overview import completeness_by_owner_chart, revenue_profit_trend


def trend_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": [dt.date(2026, 4, 1), dt.date(2026, 5, 1), dt.date(2026, 6, 1)],
            "revenue": [1_234_567_000.0, 2_500_000_000.0, 0.0],  # an empty month draws 0
            "profit": [400_000_000.0, -50_000_000.0, 0.0],  # a loss goes below the axis
        }
    )


@pytest.mark.parametrize(
    ("language", "title", "x_title", "money", "month"),
    [
        ("en", "Revenue and profit by month", "Month", "₫1,234,567,000", "Apr 2026"),
        ("vi", "Doanh thu và lợi nhuận theo tháng", "Tháng", "1.234.567.000 ₫", "4/2026"),
    ],
)
def test_revenue_profit_trend(language, title, x_title, money, month) -> None:
    figure = revenue_profit_trend(trend_frame(), language)

    assert figure is not None
    assert figure.layout.title.text == title
    assert figure.layout.xaxis.title.text == x_title
    assert figure.layout.yaxis.title.text
    assert len(figure.data) == 2
    revenue, profit = figure.data
    assert list(revenue.x)[0] == month
    assert all(
        trace.hovertemplate and "%{customdata}" in trace.hovertemplate for trace in figure.data
    )
    # Hover shows the full amount in the locale's money format.
    assert revenue.customdata[0] == money
    assert list(profit.y) == [400_000_000.0, -50_000_000.0, 0.0]
    # Axis ticks are compact money, and cover the loss below zero.
    assert min(figure.layout.yaxis.tickvals) <= -50_000_000
    assert all("₫" in text for text in figure.layout.yaxis.ticktext)


def test_an_empty_trend_builds_no_figure() -> None:
    empty = pd.DataFrame(columns=["month", "revenue", "profit"])
    assert revenue_profit_trend(empty, "en") is None


def test_a_flat_trend_still_draws() -> None:
    frame = trend_frame().assign(revenue=0.0, profit=0.0)
    figure = revenue_profit_trend(frame, "en")
    assert figure is not None and len(figure.data) == 2


def test_completeness_by_owner_chart() -> None:
    frame = pd.DataFrame(
        {
            "group": ["(no owner)", "An", "Bình"],
            "customers": [3, 10, 5],
            "filled": [10, 70, 40],
            "slots": [24, 80, 40],
            "completeness": [10 / 24, 0.875, 1.0],
        }
    )

    figure = completeness_by_owner_chart(frame, "vi")

    assert figure is not None
    assert figure.layout.title.text == "Độ đầy đủ theo người phụ trách"
    assert figure.layout.xaxis.title.text == "Độ đầy đủ"
    assert len(figure.data) == 1
    bars = figure.data[0]
    assert list(bars.y) == ["(chưa giao)", "An", "Bình"]  # lowest first, "no owner" translated
    assert bars.customdata[0][0] == "41,7%"
    assert "%{customdata[0]}" in bars.hovertemplate


def test_completeness_chart_without_rows_or_values() -> None:
    columns = ["group", "customers", "filled", "slots", "completeness"]
    assert completeness_by_owner_chart(pd.DataFrame(columns=columns), "en") is None
    no_slots = pd.DataFrame([["An", 1, 0, 0, None]], columns=columns)
    assert completeness_by_owner_chart(no_slots, "en") is None
