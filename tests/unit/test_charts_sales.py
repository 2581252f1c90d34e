"""Chart, card and table builders of the Pipeline, Campaigns and Forecast pages, without
Streamlit: titles, axis titles, trace counts, per-language hover texts, None when empty."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pandas as pd
import pytest

from app.kpi.analyses_sales import (
    CAMPAIGN_COLUMNS,
    CHANNEL_COLUMNS,
    FORECAST_COLUMNS,
    FUNNEL_COLUMNS,
    LOST_REASON_COLUMNS,
    OWNER_COLUMNS,
    PIPELINE_COLUMNS,
    SALES_CYCLE_COLUMNS,
    TIME_IN_STAGE_COLUMNS,
)
from app.kpi.forecast import BACKTEST_COLUMNS, DEMAND_COLUMNS
from app.kpi.forecast import PIPELINE_COLUMNS as SALES_FORECAST_COLUMNS
from components import charts_sales as charts


def empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=columns)


PIPELINE = pd.DataFrame(
    [
        ("lead", 10, Decimal("1000000000.00"), 0.1, Decimal("100000000.00")),
        ("qualified", 5, Decimal("500000000.00"), 0.25, Decimal("125000000.00")),
        ("proposal", 3, Decimal("300000000.00"), 0.5, Decimal("150000000.00")),
        ("negotiation", 2, Decimal("200000000.00"), 0.75, Decimal("150000000.00")),
        ("won", 4, Decimal("400000000.00"), 1.0, Decimal("400000000.00")),
        # Lost deals are not a funnel stage: they must not become a funnel bar.
        ("lost", 6, Decimal("600000000.00"), 0.0, Decimal("0.00")),
    ],
    columns=PIPELINE_COLUMNS,
)
FUNNEL = pd.DataFrame(
    [
        ("lead", 20, 5, 0.6),
        ("qualified", 12, 3, 0.5),
        ("proposal", 6, 1, 0.5),
        ("negotiation", 3, 1, 1 / 3),
        ("won", 1, 0, None),  # the last stage has no next stage: conversion None
    ],
    columns=FUNNEL_COLUMNS,
)
CLOSE_MONTHS = pd.DataFrame(
    [
        ("overdue", Decimal("100.00"), Decimal("10.00"), 1),
        ("2026-06", Decimal("1234567.00"), Decimal("617283.50"), 2),
        ("2026-07", Decimal("0.00"), Decimal("0.00"), 0),
        ("no date", Decimal("50.00"), Decimal("5.00"), 1),
    ],
    columns=FORECAST_COLUMNS,
)


def test_stage_funnel_has_open_stages_and_won_with_money_in_hover() -> None:
    fig = charts.pipeline_stage_funnel(PIPELINE, "vi")

    assert fig is not None
    assert len(fig.data) == 1
    assert fig.data[0].type == "funnel"
    assert list(fig.data[0].y) == ["Đầu mối", "Đủ điều kiện", "Đề xuất", "Đàm phán", "Thành công"]
    assert fig.data[0].customdata[0][0] == "1.000.000.000 ₫"
    assert fig.layout.title.text == "Số cơ hội theo giai đoạn"
    assert fig.layout.xaxis.title.text == "Số cơ hội"
    assert fig.layout.yaxis.title.text == "Giai đoạn"


def test_stage_amounts_are_two_grouped_traces_formatted_in_english() -> None:
    fig = charts.pipeline_amount_bar(PIPELINE, "en")

    assert [trace.name for trace in fig.data] == ["Amount", "Weighted amount"]
    assert fig.layout.barmode == "group"
    assert fig.data[0].customdata[0] == "₫1,000,000,000"
    assert fig.layout.yaxis.title.text == "Amount (₫)"
    # Money ticks in the language's short form, not Plotly's SI "1G".
    assert fig.layout.yaxis.ticktext[:3] == ("₫0", "₫250M", "₫500M")


def test_cohort_funnel_shows_conversion_and_losses() -> None:
    fig = charts.cohort_funnel(FUNNEL, "en")

    assert list(fig.data[0].x) == [20, 12, 6, 3, 1]
    assert fig.data[0].customdata[0] == ["60.0%", "5"]
    assert fig.data[0].customdata[-1][0] == "–"
    assert fig.layout.title.text == "Stage-to-stage conversion by creation cohort"


def test_close_month_forecast_labels_months_and_special_buckets() -> None:
    fig = charts.close_month_forecast(CLOSE_MONTHS, "vi")

    assert len(fig.data) == 2
    assert list(fig.data[0].x) == ["Quá hạn", "Tháng 6/2026", "Tháng 7/2026", "Chưa có ngày"]
    assert fig.data[1].customdata[1] == ["617.284 ₫", "2"]
    assert fig.layout.xaxis.title.text == "Tháng dự kiến chốt"


def test_time_in_stage_adds_the_sales_cycle_bar() -> None:
    stages = pd.DataFrame(
        [("lead", 2.0, 5.0, 4), ("qualified", None, None, 0)], columns=TIME_IN_STAGE_COLUMNS
    )
    cycle = pd.DataFrame([(40.5, 70.25, 9)], columns=SALES_CYCLE_COLUMNS)

    fig = charts.time_in_stage_bar(stages, cycle, "en")

    assert [trace.name for trace in fig.data] == ["Median (days)", "p90 (days)"]
    assert list(fig.data[0].x) == ["Lead", "Qualified", "Sales cycle (won)"]
    assert fig.data[0].customdata[1][0] == "n/a"
    assert fig.data[1].customdata[2] == ["70.2", "9"] or fig.data[1].customdata[2][0] == "70.3"
    assert fig.layout.yaxis.title.text == "Days"
    assert charts.time_in_stage_bar(stages, empty(SALES_CYCLE_COLUMNS), "en") is not None


def test_lost_reasons_put_the_most_frequent_on_top_and_translate_not_given() -> None:
    frame = pd.DataFrame(
        [
            ("Price", 3, Decimal("300.00"), 0.75),
            ("(not given)", 1, Decimal("100.00"), 0.25),
        ],
        columns=LOST_REASON_COLUMNS,
    )

    fig = charts.lost_reasons_bar(frame, "vi")

    # Horizontal bars draw from the bottom: the most frequent reason comes last.
    assert list(fig.data[0].y) == ["(không ghi)", "Price"]
    assert fig.data[0].orientation == "h"
    assert fig.data[0].customdata[1] == ["300 ₫", "75,0%"]


def test_owner_table_translates_headers_and_unassigned_and_keeps_numbers() -> None:
    frame = pd.DataFrame(
        [
            (5, "An", Decimal("10.00"), 1, 1, 0.5, Decimal("5.00"), Decimal("7.00")),
            (None, "(unassigned)", Decimal("0.00"), 0, 0, None, Decimal("0.00"), Decimal("1.00")),
        ],
        columns=OWNER_COLUMNS,
    )

    view = charts.owner_table(frame, "en")

    assert list(view.frame.columns) == [
        "Owner",
        "Open amount",
        "Won",
        "Lost",
        "Win rate",
        "Won amount",
        "Revenue",
    ]
    assert list(view.frame["Owner"]) == ["An", "Unassigned"]
    assert view.frame["Revenue"].tolist() == [7.0, 1.0]
    assert pd.isna(view.frame["Win rate"].iloc[1])
    assert view.money == ("Open amount", "Won amount", "Revenue")
    assert view.percent == ("Win rate",)


@pytest.mark.parametrize(
    ("builder", "columns"),
    [
        (charts.pipeline_stage_funnel, PIPELINE_COLUMNS),
        (charts.pipeline_amount_bar, PIPELINE_COLUMNS),
        (charts.cohort_funnel, FUNNEL_COLUMNS),
        (charts.close_month_forecast, FORECAST_COLUMNS),
        (charts.lost_reasons_bar, LOST_REASON_COLUMNS),
        (charts.channel_comparison, CHANNEL_COLUMNS),
        (charts.sales_forecast_bar, SALES_FORECAST_COLUMNS),
        (charts.demand_chart, DEMAND_COLUMNS),
    ],
)
def test_empty_input_gives_no_figure(builder, columns: list[str]) -> None:  # noqa: ANN001
    assert builder(empty(columns), "en") is None


def test_all_zero_input_gives_no_figure() -> None:
    zeros = CLOSE_MONTHS.assign(open_amount=Decimal("0"), weighted_amount=Decimal("0"))
    assert charts.close_month_forecast(zeros, "en") is None
    assert (
        charts.time_in_stage_bar(empty(TIME_IN_STAGE_COLUMNS), empty(SALES_CYCLE_COLUMNS), "en")
        is None
    )
    assert charts.campaign_funnel(None, "en") is None
    assert charts.campaign_funnel({"members": 0}, "en") is None


CAMPAIGN = {
    "campaign_id": 1,
    "name": "Tết <b>2026</b>",
    "channel": "email",
    "purpose": "retention",
    "budget": Decimal("100.00"),
    "actual_cost": Decimal("80.00"),
    "allocated_cost": Decimal("40.00"),
    "members": 100,
    "responses": 30,
    "conversions": 10,
    "response_rate": 0.3,
    "conversion_rate": 0.1,
    "revenue": Decimal("1000.00"),
    "margin": Decimal("200.00"),
    "roi": 4.0,
    "new_customers": 4,
    "cac": Decimal("10.00"),
}


def test_campaign_funnel_has_four_steps() -> None:
    fig = charts.campaign_funnel(CAMPAIGN, "vi")

    assert list(fig.data[0].x) == [100, 30, 10, 4]
    assert list(fig.data[0].y) == [
        "Khách hàng tiếp cận",
        "Phản hồi",
        "Chuyển đổi",
        "Khách hàng mới",
    ]
    assert fig.layout.title.text == "Phễu của Tết <b>2026</b>"


def test_channel_comparison_groups_cost_revenue_and_margin() -> None:
    row = {"channel": "email", "campaigns": 1, **{k: CAMPAIGN[k] for k in CHANNEL_COLUMNS[2:]}}
    frame = pd.DataFrame([row], columns=CHANNEL_COLUMNS)

    fig = charts.channel_comparison(frame, "en")

    assert [trace.name for trace in fig.data] == ["Cost in the period", "Revenue", "Margin"]
    assert list(fig.data[0].x) == ["Email"]
    assert fig.data[1].customdata[0] == ["₫1,000", "400.0%", "1"]
    assert fig.layout.title.text == "Cost, revenue and margin per channel"
    assert fig.layout.xaxis.title.text == "Channel"


def test_campaign_table_has_every_figure_and_translated_values() -> None:
    view = charts.campaign_table(pd.DataFrame([CAMPAIGN], columns=CAMPAIGN_COLUMNS), "vi")

    assert "ROI" in view.frame.columns and "CAC" in view.frame.columns
    assert view.frame["Kênh"].tolist() == ["Email"]
    assert view.frame["Mục đích"].tolist() == ["Giữ chân khách hàng"]
    assert view.frame["Ngân sách"].tolist() == [100.0]
    assert "Tỷ lệ phản hồi" in view.percent


DEMAND = pd.DataFrame(
    [
        ("A", "2026-04", "actual", 10.0, 1000.0),
        ("A", "2026-05", "actual", 12.0, 1200.0),
        ("A", "2026-06", "forecast", 11.0, 1100.0),
        ("B", "2026-05", "actual", 1.0, 100.0),
        ("B", "2026-06", "forecast", 2.0, 200.0),
    ],
    columns=DEMAND_COLUMNS,
)


def test_demand_chart_draws_history_and_dashed_forecast_per_category() -> None:
    fig = charts.demand_chart(DEMAND, "en")

    assert len(fig.data) == 4
    assert [trace.line.dash for trace in fig.data] == ["solid", "dash", "solid", "dash"]
    assert [trace.showlegend for trace in fig.data] == [True, False, True, False]
    # The forecast line starts at the last actual month so the lines join.
    assert len(fig.data[1].x) == 2
    assert fig.data[1].customdata[-1] == ["₫1,100", "Jun 2026"]
    assert fig.layout.yaxis.title.text == "Revenue (₫)"
    assert fig.layout.xaxis.title.text == "Month"


def test_demand_chart_of_one_category_and_quantity() -> None:
    fig = charts.demand_chart(DEMAND, "vi", category="B", measure="quantity")

    assert len(fig.data) == 2
    assert "· B" in fig.layout.title.text
    assert fig.layout.yaxis.title.text == "Số lượng"
    assert charts.demand_chart(DEMAND, "en", category="missing") is None


def test_backtest_and_sales_forecast_views() -> None:
    backtest = pd.DataFrame(
        [("A", 0.25, 1234.5, 3), ("B", None, None, 0)], columns=BACKTEST_COLUMNS
    )
    view = charts.backtest_table(backtest, "en")
    assert list(view.frame.columns) == ["Product category", "MAPE", "MAE", "Months tested"]
    assert view.percent == ("MAPE",)

    sales = pd.DataFrame([("2026-06", 5.0), ("2026-07", 0.0)], columns=SALES_FORECAST_COLUMNS)
    fig = charts.sales_forecast_bar(sales, "vi")
    assert list(fig.data[0].x) == ["Tháng 6/2026", "Tháng 7/2026"]
    assert fig.layout.title.text == "Giá trị cơ hội có trọng số theo tháng dự kiến chốt"
    table = charts.sales_forecast_table(sales, "en")
    assert table.frame.iloc[0, 0] == "Jun 2026"


def result(**overrides):  # noqa: ANN201 - a stand-in for app.kpi.engine.KpiResult
    values = {
        "label": "Sales cycle",
        "label_vi": "Chu kỳ bán hàng",
        "unit": "days",
        "direction": "lower",
        "formula": "Median days",
        "value": 40.0,
        "compare_value": 30.0,
        "change": 10.0,
        "change_pct": 1 / 3,
        "details": {"p90": 70.0, "n": 9},
    }
    return SimpleNamespace(**{**values, **overrides})


def test_kpi_cards_colour_by_direction_and_show_details() -> None:
    cards = charts.kpi_cards(
        {"sales_cycle_days": result(), "win_rate": result(unit="percent", direction="higher")},
        [charts.CardSpec("sales_cycle_days", details=("p90", "n")), charts.CardSpec("win_rate")],
        "vi",
    )

    cycle, win = cards
    assert cycle.label == "Chu kỳ bán hàng"
    assert cycle.value == "40,0 ngày"
    assert cycle.trend == -1  # longer cycle: bad
    assert "p90: 70,0" in cycle.help and "Median days" in cycle.help
    assert win.trend == 1


def test_kpi_cards_skip_missing_results_and_show_na() -> None:
    cards = charts.kpi_cards(
        {"x": result(value=None, change=None, change_pct=None, compare_value=None)},
        [charts.CardSpec("x"), charts.CardSpec("absent")],
        "en",
    )

    assert len(cards) == 1
    assert cards[0].value == "n/a"
    assert cards[0].delta is None and cards[0].trend == 0
