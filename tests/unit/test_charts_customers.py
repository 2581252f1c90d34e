"""Chart builders of the customer pages, without Streamlit: titles, axes, empty input."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from app.services.customer_views import rfm_grid
from app.services.partner_views import layered_layout
from components import charts_customers as charts


def _axes(figure: go.Figure) -> tuple[str, str, str]:
    return (
        figure.layout.title.text,
        figure.layout.xaxis.title.text,
        figure.layout.yaxis.title.text,
    )


def test_rfm_heatmap_counts_customers_and_hovers_monetary_value() -> None:
    rfm = pd.DataFrame(
        {"customer_id": [1, 2], "r_score": [2, 2], "f_score": [1, 1], "monetary": [1e6, 5e5]}
    )
    figure = charts.rfm_heatmap(
        rfm_grid(rfm, bins=2),
        title="Map",
        x_title="R",
        y_title="F",
        hover="R {r} F {f}: {customers} · {monetary}",
    )
    assert _axes(figure) == ("Map", "R", "F")
    heatmap = figure.data[0]
    assert isinstance(heatmap, go.Heatmap)
    # Rows are F scores (1, 2), columns R scores (1, 2).
    assert [list(row) for row in heatmap.z] == [[0, 2], [0, 0]]
    assert heatmap.customdata[0][1] == "R 2 F 1: 2 · 1,500,000"


def test_rfm_heatmap_of_nothing_is_none() -> None:
    empty = rfm_grid(pd.DataFrame(columns=["customer_id", "r_score", "f_score", "monetary"]), 5)
    assert charts.rfm_heatmap(empty, title="t", x_title="x", y_title="y", hover="") is None


def test_segment_bars() -> None:
    segments = pd.DataFrame(
        {
            "segment": ["champions", "lost"],
            "customer_share": [0.25, 0.75],
            "monetary_share": [0.9, 0.1],
        }
    )
    figure = charts.segment_bars(
        segments,
        title="Sizes",
        x_title="Segment",
        y_title="Share",
        customers_name="Customers",
        value_name="Value",
        labels={"champions": "Champions"},
    )
    assert _axes(figure) == ("Sizes", "Segment", "Share")
    assert list(figure.data[0].x) == ["Champions", "lost"]
    assert list(figure.data[1].y) == [0.9, 0.1]
    assert (
        charts.segment_bars(
            segments.iloc[0:0],
            title="t",
            x_title="x",
            y_title="y",
            customers_name="c",
            value_name="v",
        )
        is None
    )


def test_matrix_heatmap_and_ladder() -> None:
    matrix = pd.DataFrame(
        [[1, 2], [0, 3]],
        index=pd.Index(["prospect", "customer"], name="previous_level"),
        columns=["prospect", "customer"],
    )
    figure = charts.matrix_heatmap(
        matrix, title="Migration", x_title="Now", y_title="Before", labels={"prospect": "P"}
    )
    assert _axes(figure) == ("Migration", "Now", "Before")
    assert list(figure.data[0].x) == ["P", "customer"]
    assert charts.matrix_heatmap(matrix * 0, title="t", x_title="x", y_title="y") is None
    assert charts.matrix_heatmap(matrix.iloc[0:0], title="t", x_title="x", y_title="y") is None

    ladder = pd.DataFrame({"level": ["prospect", "repeat"], "customers": [3, 4]})
    bars = charts.ladder_bars(ladder, title="Ladder", x_title="Level", y_title="Customers")
    assert _axes(bars) == ("Ladder", "Level", "Customers")
    assert list(bars.data[0].y) == [3, 4]
    assert charts.ladder_bars(ladder.iloc[0:0], title="t", x_title="x", y_title="y") is None


def test_profit_by_year() -> None:
    per_year = pd.DataFrame(
        {"year": [2025, 2026], "orders": [1, 2], "revenue": [100.0, 300.0], "profit": [10.0, 50.0]}
    )
    figure = charts.profit_by_year(
        per_year,
        title="Per year",
        x_title="Year",
        y_title="VND",
        revenue_name="Revenue",
        profit_name="Profit",
    )
    assert _axes(figure) == ("Per year", "Year", "VND")
    assert [trace.name for trace in figure.data] == ["Revenue", "Profit"]
    assert list(figure.data[0].x) == ["2025", "2026"]
    assert (
        charts.profit_by_year(
            per_year.iloc[0:0],
            title="t",
            x_title="x",
            y_title="y",
            revenue_name="r",
            profit_name="p",
        )
        is None
    )


def test_partner_network_draws_edges_and_one_trace_per_group() -> None:
    nodes = layered_layout(
        pd.DataFrame(
            {
                "node": ["p1", "p2", "c7"],
                "label": ["Supplier A", "Agent B", "<script>alert(1)</script>"],
                "group": ["supplier", "agent", "customer"],
                "links": [1, 2, 1],
            }
        )
    )
    edges = pd.DataFrame(
        {"source": ["p1", "p2"], "target": ["p2", "c7"], "relation": ["supplies", "serves"]}
    )
    figure = charts.partner_network(nodes, edges, title="Network", labels={"agent": "Agent"})
    assert figure.layout.title.text == "Network"
    lines = figure.data[0]
    assert lines.mode == "lines"
    assert len([value for value in lines.x if value is not None]) == 4
    assert [trace.name for trace in figure.data[1:]] == ["supplier", "Agent", "customer"]
    assert charts.partner_network(nodes.iloc[0:0], edges, title="t") is None


def test_layout_is_deterministic_and_layered() -> None:
    nodes = pd.DataFrame(
        {
            "node": ["p1", "p2", "c1", "c2", "c3"],
            "group": ["agent", "supplier", "customer", "customer", "customer"],
        }
    )
    first, second = layered_layout(nodes), layered_layout(nodes)
    pd.testing.assert_frame_equal(first, second)
    radius = (first["x"] ** 2 + first["y"] ** 2) ** 0.5
    assert radius.round(6).tolist() == [1.0, 1.0, 2.2, 2.2, 2.2]
    single = layered_layout(pd.DataFrame({"node": ["p1"], "group": ["agent"]}))
    assert (single["x"].iloc[0], single["y"].iloc[0]) == (0.0, 0.0)


def test_timeline_rows_and_labels() -> None:
    timeline = pd.DataFrame(
        {
            "kind": ["order", "complaint"],
            "at": [None, None],
            "title": ["DH1", "Late"],
            "subtype": [None, "high"],
            "detail": ["", ""],
            "status": ["paid", "open"],
            "amount": [1.0, None],
        }
    )
    shown = charts.timeline_rows(timeline, {"order": "Đơn hàng", "high": "Cao", "paid": "Đã TT"})
    assert shown["icon"].tolist() == [
        charts.TIMELINE_ICONS["order"],
        charts.TIMELINE_ICONS["complaint"],
    ]
    assert shown["kind"].tolist() == ["Đơn hàng", "complaint"]
    assert shown["subtype"].tolist()[1] == "Cao"
    assert shown["status"].tolist() == ["Đã TT", "open"]
    table = charts.labelled(shown, {"title": "Tiêu đề", "status": "Trạng thái"})
    assert list(table.columns) == ["Tiêu đề", "Trạng thái"]


def test_md_escape_neutralises_markdown_and_html() -> None:
    assert charts.md_escape("<script>*x*</script>") == "\\<script\\>\\*x\\*\\</script\\>"
