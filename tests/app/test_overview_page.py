"""AppTests of the Overview page: cards, filters, drill-down, downloads, languages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from app import formatting as fmt
from app.db import get_engine
from app.kpi.base import KpiFilters
from app.kpi.engine import compute
from app.kpi.period import month_period
from app.kpi.registry import all_kpis
from components.data_kpi import (
    OVERVIEW_KPIS,
    OVERVIEW_REPORT_KPIS,
    last_months,
    load_overview,
    report_values,
    sparkline_values,
)
from components.kpi_cards import biggest_changes, kpi_delta, kpi_metric, kpi_status
from tests.app.conftest import ensure_user

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "pages" / "overview.py"
DEMO_TODAY = dt.date(2026, 6, 15)
TIMEOUT = 60


@pytest.fixture
def use_database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Point the app at a database fixture by name; return its URL."""

    def use(fixture_name: str) -> str:
        url = request.getfixturevalue(fixture_name)
        monkeypatch.setenv("CRM_DATABASE_URL", url)
        monkeypatch.setenv("CRM_AS_OF", DEMO_TODAY.isoformat())
        return url

    return use


def page(url: str, role: str = "manager", **params: str) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT)
    at.session_state["crm_user"] = ensure_user(url, role)
    for name, value in {"lang": "en", **params}.items():
        at.query_params[name] = value
    return at


def engine_values(url: str, **filters: str) -> dict:
    with Session(get_engine(url)) as session:
        report = compute(
            session, list(OVERVIEW_KPIS), month_period(DEMO_TODAY), KpiFilters(**filters)
        )
    return {result.id: result.value for result in report.kpis}


def test_eight_cards_with_formulas_sparklines_and_the_trend(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    expected = engine_values(url)

    at = page(url).run()

    assert not at.exception
    registry = all_kpis()
    metrics = {metric.label: metric for metric in at.metric}
    assert list(metrics) == [registry[kpi_id].label_en for kpi_id in OVERVIEW_KPIS]
    revenue = metrics[registry["revenue"].label_en]
    assert revenue.value == fmt.kpi_value(expected["revenue"], "money", "en")
    assert metrics[registry["active_customers"].label_en].value == str(expected["active_customers"])
    assert all(metric.help for metric in metrics.values())
    assert registry["churn_rate"].formula in metrics[registry["churn_rate"].label_en].help
    # Every card has its 12-month sparkline; churn colours a fall green (inverse).
    protos = [metric.proto for metric in at.metric]
    assert all(len(proto.chart_data) >= 11 for proto in protos)
    assert len(at.get("plotly_chart")) == 1
    assert not at.error


def test_activity_line_counts_interactions_orders_and_complaints(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    with Session(get_engine(url)) as session:
        report = compute(
            session,
            ["interactions_logged", "orders_count", "complaints_opened"],
            month_period(DEMO_TODAY),
            KpiFilters(),
        )
    counts = [fmt.number(result.value, "en") for result in report.kpis]
    assert all(int(c.replace(",", "")) > 0 for c in counts)  # the demo month has activity

    at = page(url).run()

    assert not at.exception
    line = next(m.value for m in at.markdown if "interactions logged" in m.value)
    assert line.endswith(
        f"**{counts[0]}** interactions logged · **{counts[1]}** orders · "
        f"**{counts[2]}** complaints opened"
    )


def test_the_overview_loader_equals_the_kpi_functions(use_database) -> None:
    # load_overview computes every KPI, sparkline and the trend on separate connections
    # and takes the revenue and profit sparklines from the trend: the same numbers as
    # computing each on its own, one after another.
    url = use_database("seeded_sqlite_url")
    month = month_period(DEMO_TODAY)
    key = (month.start.isoformat(), month.end.isoformat(), "previous", *([None] * 5))

    loaded = load_overview(url, key, None)

    months = last_months(month)
    with Session(get_engine(url)) as session:
        for kpi_id in OVERVIEW_KPIS:
            expected = sparkline_values(session, kpi_id, months, KpiFilters())
            assert loaded["sparklines"][kpi_id] == expected, kpi_id
        serial = compute(session, list(OVERVIEW_REPORT_KPIS), month, KpiFilters(), "previous")
    assert loaded["report"] == report_values(serial) | {"kpis": loaded["report"]["kpis"]}
    assert loaded["report"]["kpis"] == report_values(serial)["kpis"]
    assert list(loaded["trend"].columns) == ["month", "revenue", "profit"]
    assert len(loaded["trend"]) == 12


def test_a_filter_changes_the_numbers(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    everyone, persons = engine_values(url), engine_values(url, kind="person")
    assert 0 < persons["revenue"] < everyone["revenue"]

    at = page(url, kind="person").run()

    label = all_kpis()["revenue"].label_en
    shown = next(metric for metric in at.metric if metric.label == label)
    assert shown.value == fmt.kpi_value(persons["revenue"], "money", "en")
    assert shown.value != fmt.kpi_value(everyone["revenue"], "money", "en")
    assert not at.exception


def test_drilldown_lists_the_active_customers_with_downloads(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    active = engine_values(url)["active_customers"]

    at = page(url).run()
    at.selectbox(key="overview_drill_kpi").set_value("active_customers").run()

    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == active > 0
    assert "Customer code" in table.columns
    buttons = at.get("download_button")
    assert len(buttons) == 2
    assert {button.proto.label for button in buttons} == {"Download CSV", "Download Excel"}


def test_vietnamese_labels(use_database) -> None:
    url = use_database("seeded_sqlite_url")

    at = page(url, lang="vi").run()

    registry = all_kpis()
    assert at.title[0].value == "Tổng quan"
    assert [metric.label for metric in at.metric] == [
        registry[kpi_id].label_vi for kpi_id in OVERVIEW_KPIS
    ]
    assert "₫" in at.metric[0].value and "tỷ" in at.metric[0].value
    assert not at.exception


def test_staff_see_their_customers_only(use_database) -> None:
    url = use_database("seeded_sqlite_url")

    at = page(url, role="staff").run()

    assert not at.exception
    assert len(at.metric) == 8
    assert any("unassigned" in caption.value for caption in at.caption)


def test_empty_database_shows_the_empty_state(use_database) -> None:
    url = use_database("sqlite_url")

    at = page(url).run()

    assert not at.exception
    assert len(at.metric) == 0
    assert len(at.info) == 1
    assert "python -m app seed-demo" in at.info[0].value


# --------------------------------------------------------------------------- pure helpers
def kpi(**overrides) -> dict:
    base = {
        "id": "churn_rate",
        "label": "Churn rate",
        "label_vi": "Tỷ lệ khách hàng mất đi",
        "unit": "percent",
        "direction": "lower",
        "value": 0.2,
        "compare_value": 0.25,
        "change": -0.05,
        "change_pct": -0.2,
        "target": None,
        "completion": None,
        "details": {},
    }
    return {**base, **overrides}


def test_a_fall_in_churn_is_coloured_green() -> None:
    metric = kpi_metric(kpi(), [0.3, None, 0.2], "en")
    assert metric.delta == "-5.0 pp"  # ASCII minus: st.metric reads the sign from it
    assert metric.delta_color == "inverse"
    assert metric.chart_data == (0.3, 0.2)
    assert kpi_status(kpi()) == "better"


def test_a_zero_change_has_no_direction_and_targets_show_progress() -> None:
    assert kpi_delta(kpi(change=0.0, change_pct=0.0), "en") == ("0.0 pp", 0)
    metric = kpi_metric(
        kpi(id="revenue", unit="money", direction="higher", target=200, completion=0.5), [], "vi"
    )
    assert metric.progress == 0.5
    assert "50%" in metric.target_text
    assert kpi_status(kpi(target=0.1)) == "missed"
    assert kpi_status(kpi(change=None, change_pct=None)) == "na"


def test_biggest_changes_are_relative_and_skip_undefined() -> None:
    rows = [
        kpi(id="a", change_pct=0.1),
        kpi(id="b", change_pct=-0.9),
        kpi(id="c", change_pct=None),
        kpi(id="d", change_pct=0.0),
    ]
    assert [row["id"] for row in biggest_changes(rows)] == ["b", "a"]
