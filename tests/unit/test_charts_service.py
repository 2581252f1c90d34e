"""Chart and table builders of the Complaints page, without Streamlit."""

from __future__ import annotations

import pandas as pd
import pytest

from app.kpi.analyses_service import (
    BACKLOG_COLUMNS,
    BREACH_COLUMNS,
    COMPLAINT_COUNT_COLUMNS,
    COMPLAINT_TREND_COLUMNS,
    RESPONSE_TIME_COLUMNS,
)
from components import charts_service as charts

SEVERITY = pd.DataFrame(
    [("medium", 5, 0.5), ("critical", 1, 0.1), ("low", 4, 0.4)], columns=COMPLAINT_COUNT_COLUMNS
)
CATEGORY = pd.DataFrame(
    [("Giao hàng chậm", 6, 0.6), ("(none)", 4, 0.4)], columns=COMPLAINT_COUNT_COLUMNS
)
RESPONSE = pd.DataFrame(
    [
        ("critical", 0.5, 1.5, 3.0, 8.0, 4, 3, 0.75, 4.0),
        ("high", 2.0, 5.0, 14.0, 30.0, 2, 2, 1.0, 24.0),
        # Nothing resolved at this severity: times and rate are None.
        ("medium", None, None, None, None, 0, 0, None, 72.0),
        ("low", 10.0, 40.0, 100.0, 300.0, 1, 0, 0.0, 168.0),
    ],
    columns=RESPONSE_TIME_COLUMNS,
)


def test_severity_counts_follow_severity_order_and_translate() -> None:
    fig = charts.counts_bar(SEVERITY, "severity", "vi")

    assert list(fig.data[0].x) == ["Nghiêm trọng", "Trung bình", "Thấp"]
    assert fig.data[0].customdata[1] == ["5", "50,0%", "Trung bình"]
    assert fig.layout.title.text == "Khiếu nại mới theo mức độ"
    assert fig.layout.xaxis.title.text == "Mức độ"
    assert fig.layout.yaxis.title.text == "Số khiếu nại"


def test_category_counts_are_horizontal_with_the_largest_on_top() -> None:
    fig = charts.counts_bar(CATEGORY, "category", "en")

    assert fig.data[0].orientation == "h"
    assert list(fig.data[0].y) == ["(no category)", "Giao hàng chậm"]
    assert fig.layout.title.text == "Complaints opened by category"


def test_status_counts() -> None:
    frame = pd.DataFrame([("in_progress", 2, 1.0)], columns=COMPLAINT_COUNT_COLUMNS)
    fig = charts.counts_bar(frame, "status", "en")
    assert list(fig.data[0].x) == ["In progress"]
    assert fig.layout.xaxis.title.text == "Status"


def test_trend_has_opened_and_resolved_lines() -> None:
    frame = pd.DataFrame([("2026-05", 3, 1), ("2026-06", 0, 2)], columns=COMPLAINT_TREND_COLUMNS)

    fig = charts.trend_chart(frame, "vi")

    assert [trace.name for trace in fig.data] == ["Mới mở", "Đã xử lý"]
    assert list(fig.data[0].x) == ["Tháng 5/2026", "Tháng 6/2026"]
    assert fig.layout.yaxis.title.text == "Số khiếu nại"


def test_backlog_buckets_are_translated() -> None:
    frame = pd.DataFrame(
        [("0-1 d", 0), ("1-3 d", 1), ("3-7 d", 0), ("7-30 d", 2), ("> 30 d", 5)],
        columns=BACKLOG_COLUMNS,
    )

    fig = charts.backlog_bar(frame, "en")

    assert list(fig.data[0].x) == [
        "Under 1 day",
        "1–3 days",
        "3–7 days",
        "7–30 days",
        "Over 30 days",
    ]
    assert fig.layout.title.text == "Open complaints at the end of the period by age"


def test_response_times_and_sla_by_severity() -> None:
    times = charts.response_times_bar(RESPONSE, "en")
    assert [trace.name for trace in times.data] == [
        "First response",
        "Resolution",
    ]
    assert times.data[1].customdata[0] == ["3.0", "8.0"]
    assert times.data[1].customdata[2] == ["n/a", "n/a"]
    assert times.layout.yaxis.title.text == "Hours"

    sla = charts.sla_bar(RESPONSE, "vi")
    assert len(sla.data) == 1
    assert sla.data[0].customdata[0] == ["75,0%", "3", "4", "4"]
    assert sla.layout.yaxis.tickformat == ".0%"
    assert sla.layout.title.text == "Tỷ lệ xử lý đúng SLA theo mức độ"


def test_breach_chart_has_churn_and_nps_panels() -> None:
    frame = pd.DataFrame(
        [("breached", 10, 0.3, -20.0), ("not breached", 90, 0.1, None)], columns=BREACH_COLUMNS
    )

    fig = charts.breach_chart(frame, "en")

    assert len(fig.data) == 2
    assert list(fig.data[0].x) == ["SLA breached", "No breach"]
    assert fig.data[1].customdata[1] == ["n/a", "90"]
    assert fig.layout.title.text == "Churn and NPS with and without an SLA breach"
    assert fig.layout.yaxis.title.text == "Churn rate"
    assert fig.layout.yaxis2.title.text == "NPS"


@pytest.mark.parametrize(
    ("build", "columns"),
    [
        (lambda f: charts.counts_bar(f, "category", "en"), COMPLAINT_COUNT_COLUMNS),
        (lambda f: charts.trend_chart(f, "en"), COMPLAINT_TREND_COLUMNS),
        (lambda f: charts.backlog_bar(f, "en"), BACKLOG_COLUMNS),
        (lambda f: charts.response_times_bar(f, "en"), RESPONSE_TIME_COLUMNS),
        (lambda f: charts.sla_bar(f, "en"), RESPONSE_TIME_COLUMNS),
        (lambda f: charts.breach_chart(f, "en"), BREACH_COLUMNS),
    ],
)
def test_empty_input_gives_no_figure(build, columns: list[str]) -> None:  # noqa: ANN001
    assert build(pd.DataFrame(columns=columns)) is None


def test_all_zero_trend_gives_no_figure() -> None:
    frame = pd.DataFrame([("2026-07", 0, 0)], columns=COMPLAINT_TREND_COLUMNS)
    assert charts.trend_chart(frame, "en") is None


def test_tables() -> None:
    top = charts.top_issues_table(CATEGORY, "vi")
    assert list(top.frame.columns) == ["Loại", "Số khiếu nại", "Tỷ trọng"]
    assert top.frame["Loại"].tolist() == ["Giao hàng chậm", "(chưa phân loại)"]

    response = charts.response_table(RESPONSE, "en")
    assert response.frame["Severity"].tolist() == ["Critical", "High", "Medium", "Low"]
    assert response.percent == ("SLA compliance",)

    breach = charts.breach_table(
        pd.DataFrame([("breached", 1, 0.0, 100.0)], columns=BREACH_COLUMNS), "vi"
    )
    assert breach.frame["Nhóm"].tolist() == ["Có vi phạm SLA"]
