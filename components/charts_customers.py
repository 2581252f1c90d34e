"""Chart builders for the customer pages: pure functions from frames to Plotly figures.

They take already translated titles and labels, return ``None`` for empty input (the
page then shows an empty state, never an empty chart frame) and use
``plotly.graph_objects`` (performance-notes.md). Tested without Streamlit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd
import plotly.graph_objects as go

# Kind of a timeline entry → its icon (Material Symbols names for st.dataframe are not
# rendered, so plain emoji are used).
TIMELINE_ICONS: dict[str, str] = {
    "interaction": "💬",
    "inquiry": "❓",
    "order": "🛒",
    "complaint": "⚠️",
    "survey": "⭐",
}

_LAYOUT = {
    "margin": {"l": 60, "r": 20, "t": 60, "b": 50},
    "height": 380,
    "template": "plotly_white",
}


def _titled(figure: go.Figure, title: str, x_title: str, y_title: str) -> go.Figure:
    figure.update_layout(title={"text": title}, **_LAYOUT)
    figure.update_xaxes(title_text=x_title)
    figure.update_yaxes(title_text=y_title)
    return figure


def rfm_heatmap(
    grid: pd.DataFrame,
    *,
    title: str,
    x_title: str,
    y_title: str,
    hover: str,
    money: Callable[[float], str] = lambda value: f"{value:,.0f}",
) -> go.Figure | None:
    """Heat map of customers per (R, F) cell; hover shows the cell's monetary value.

    ``grid`` [r_score, f_score, customers, monetary] (app.services.customer_views.rfm_grid);
    ``hover`` a template with {r}, {f}, {customers} and {monetary}.
    """
    if grid.empty or int(grid["customers"].sum()) == 0:
        return None
    r_values = sorted(grid["r_score"].unique())
    f_values = sorted(grid["f_score"].unique())
    cells = grid.set_index(["r_score", "f_score"])
    z, text, custom = [], [], []
    for f in f_values:
        row_z, row_text, row_custom = [], [], []
        for r in r_values:
            customers = int(cells.loc[(r, f), "customers"]) if (r, f) in cells.index else 0
            monetary = float(cells.loc[(r, f), "monetary"]) if (r, f) in cells.index else 0.0
            row_z.append(customers)
            row_text.append(str(customers) if customers else "")
            row_custom.append(hover.format(r=r, f=f, customers=customers, monetary=money(monetary)))
        z.append(row_z)
        text.append(row_text)
        custom.append(row_custom)
    figure = go.Figure(
        go.Heatmap(
            x=[str(r) for r in r_values],
            y=[str(f) for f in f_values],
            z=z,
            text=text,
            texttemplate="%{text}",
            customdata=custom,
            hovertemplate="%{customdata}<extra></extra>",
            colorscale="Blues",
            showscale=True,
        )
    )
    return _titled(figure, title, x_title, y_title)


def segment_bars(
    segments: pd.DataFrame,
    *,
    title: str,
    x_title: str,
    y_title: str,
    customers_name: str,
    value_name: str,
    labels: Mapping[str, str] | None = None,
) -> go.Figure | None:
    """Grouped bars per segment: share of customers and share of monetary value (0..1)."""
    if segments.empty:
        return None
    labels = labels or {}
    names = [labels.get(str(name), str(name)) for name in segments["segment"]]
    customer_share = segments["customer_share"].astype("float64").fillna(0.0).tolist()
    value_share = segments["monetary_share"].astype("float64").fillna(0.0).tolist()
    figure = go.Figure(
        [
            go.Bar(
                x=names,
                y=customer_share,
                name=customers_name,
                hovertemplate="%{x}: %{y:.1%}<extra>" + customers_name + "</extra>",
            ),
            go.Bar(
                x=names,
                y=value_share,
                name=value_name,
                hovertemplate="%{x}: %{y:.1%}<extra>" + value_name + "</extra>",
            ),
        ]
    )
    figure.update_layout(barmode="group", legend={"orientation": "h", "y": -0.3})
    figure = _titled(figure, title, x_title, y_title)
    figure.update_yaxes(tickformat=".0%")
    figure.update_layout(height=420, margin={"l": 60, "r": 20, "t": 60, "b": 120})
    return figure


def matrix_heatmap(
    matrix: pd.DataFrame,
    *,
    title: str,
    x_title: str,
    y_title: str,
    labels: Mapping[str, str] | None = None,
    hover: str = "%{y} → %{x}: %{z}",
) -> go.Figure | None:
    """Heat map of a square count matrix (rows: from, columns: to), e.g. loyalty migration."""
    if matrix.empty or int(matrix.to_numpy().sum()) == 0:
        return None
    labels = labels or {}
    x = [labels.get(str(name), str(name)) for name in matrix.columns]
    y = [labels.get(str(name), str(name)) for name in matrix.index]
    values = matrix.astype("int64").to_numpy().tolist()
    figure = go.Figure(
        go.Heatmap(
            x=x,
            y=y,
            z=values,
            text=[[str(value) for value in row] for row in values],
            texttemplate="%{text}",
            hovertemplate=hover + "<extra></extra>",
            colorscale="Greens",
        )
    )
    figure = _titled(figure, title, x_title, y_title)
    figure.update_yaxes(autorange="reversed")
    return figure


def ladder_bars(
    ladder: pd.DataFrame,
    *,
    title: str,
    x_title: str,
    y_title: str,
    labels: Mapping[str, str] | None = None,
) -> go.Figure | None:
    """Bars of customers per loyalty level ([level, customers])."""
    if ladder.empty or int(ladder["customers"].sum()) == 0:
        return None
    labels = labels or {}
    figure = go.Figure(
        go.Bar(
            x=[labels.get(str(level), str(level)) for level in ladder["level"]],
            y=ladder["customers"].astype("int64").tolist(),
            hovertemplate="%{x}: %{y:,}<extra></extra>",
            marker_color="#2e7d32",
        )
    )
    return _titled(figure, title, x_title, y_title)


def profit_by_year(
    per_year: pd.DataFrame,
    *,
    title: str,
    x_title: str,
    y_title: str,
    revenue_name: str,
    profit_name: str,
) -> go.Figure | None:
    """Revenue and profit bars per year ([year, orders, revenue, profit])."""
    if per_year.empty:
        return None
    years = [str(year) for year in per_year["year"]]
    figure = go.Figure(
        [
            go.Bar(
                x=years,
                y=per_year["revenue"].astype("float64").tolist(),
                name=revenue_name,
                hovertemplate="%{x}: %{y:,.0f} ₫<extra>" + revenue_name + "</extra>",
            ),
            go.Bar(
                x=years,
                y=per_year["profit"].astype("float64").tolist(),
                name=profit_name,
                hovertemplate="%{x}: %{y:,.0f} ₫<extra>" + profit_name + "</extra>",
            ),
        ]
    )
    figure.update_layout(barmode="group", legend={"orientation": "h", "y": -0.2})
    figure = _titled(figure, title, x_title, y_title)
    figure.update_xaxes(type="category")
    return figure


NETWORK_COLOURS: dict[str, str] = {
    "supplier": "#1565c0",
    "distributor": "#6a1b9a",
    "agent": "#ef6c00",
    "service_provider": "#00838f",
    "customer": "#9e9e9e",
}


def partner_network(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    title: str,
    labels: Mapping[str, str] | None = None,
) -> go.Figure | None:
    """Network graph: edge lines and one marker trace per node group.

    ``nodes`` [node, label, group, links, x, y] (positions from
    app.services.partner_views.layered_layout), ``edges`` [source, target, relation].
    Axes are hidden (positions carry no meaning), so they get no titles.
    """
    if nodes.empty:
        return None
    labels = labels or {}
    position = {row.node: (row.x, row.y) for row in nodes.itertuples(index=False)}
    edge_x: list[float | None] = []
    edge_y: list[float | None] = []
    for source, target in zip(edges.get("source", []), edges.get("target", []), strict=False):
        if source in position and target in position:
            (x0, y0), (x1, y1) = position[source], position[target]
            edge_x += [x0, x1, None]
            edge_y += [y0, y1, None]
    traces: list[go.Scatter] = [
        go.Scatter(
            x=edge_x,
            y=edge_y,
            mode="lines",
            line={"width": 0.7, "color": "#b0bec5"},
            hoverinfo="skip",
            showlegend=False,
        )
    ]
    for group in [g for g in NETWORK_COLOURS if g in set(nodes["group"])] + sorted(
        set(nodes["group"]) - set(NETWORK_COLOURS)
    ):
        part = nodes[nodes["group"] == group]
        is_customer = group == "customer"
        traces.append(
            go.Scatter(
                x=part["x"].tolist(),
                y=part["y"].tolist(),
                mode="markers" if is_customer else "markers+text",
                text=[_short(label) for label in part["label"]],
                hovertext=part["label"].tolist(),
                # Labels point away from the centre, so the two halves do not overlap.
                textposition=["middle left" if x < 0 else "middle right" for x in part["x"]],
                textfont={"size": 10},
                customdata=part["links"].tolist(),
                hovertemplate="%{hovertext} (%{customdata})<extra>"
                + labels.get(group, group)
                + "</extra>",
                marker={
                    "size": 8 if is_customer else 16,
                    "color": NETWORK_COLOURS.get(group, "#455a64"),
                    "line": {"width": 1, "color": "white"},
                },
                name=labels.get(group, group),
            )
        )
    figure = go.Figure(traces)
    figure.update_layout(
        title={"text": title},
        showlegend=True,
        legend={"orientation": "h", "y": -0.05},
        height=680,
        margin={"l": 10, "r": 10, "t": 60, "b": 40},
        template="plotly_white",
    )
    # Room on both sides for the labels of the inner circle.
    figure.update_xaxes(visible=False, range=[-3.2, 3.2])
    figure.update_yaxes(visible=False, scaleanchor="x", scaleratio=1)
    return figure


def _short(label: str, limit: int = 30) -> str:
    """A long name cut to ``limit`` characters for a graph label (hover shows it all)."""
    label = str(label)
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def timeline_rows(timeline: pd.DataFrame, labels: Mapping[str, str]) -> pd.DataFrame:
    """The timeline as shown: an icon, and kind, subtype and status translated with
    ``labels`` (code value → text; values without a label are kept)."""
    shown = timeline.copy()
    shown.insert(0, "icon", [TIMELINE_ICONS.get(kind, "•") for kind in shown["kind"]])
    for column in ("kind", "subtype", "status"):
        shown = translate_column(shown, column, labels)
    return shown


def translate_column(frame: pd.DataFrame, column: str, labels: Mapping[str, str]) -> pd.DataFrame:
    """A copy of ``frame`` with the values of ``column`` replaced by their labels."""
    shown = frame.copy()
    if column in shown.columns:
        shown[column] = [
            labels.get(value, value) if isinstance(value, str) else value for value in shown[column]
        ]
    return shown


_MARKDOWN_SPECIAL = set("\\`*_{}[]()<>#+-.!|~$")


def md_escape(text: object) -> str:
    """User text made safe to show inside Markdown: every Markdown character escaped
    (HTML is never rendered by Streamlit's Markdown without unsafe_allow_html)."""
    return "".join("\\" + char if char in _MARKDOWN_SPECIAL else char for char in str(text))


def labelled(
    frame: pd.DataFrame,
    columns: Mapping[str, str],
    values: Mapping[str, Mapping[str, str]] | None = None,
) -> pd.DataFrame:
    """The columns named in ``columns`` (in that order), their code values translated
    with ``values`` (column → code → text) and renamed to their titles, for display and
    export."""
    shown = frame[[column for column in columns if column in frame.columns]].copy()
    for column, labels in (values or {}).items():
        shown = translate_column(shown, column, labels)
    return shown.rename(columns=dict(columns))
