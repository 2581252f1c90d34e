"""AppTests of the analysis pages (Pipeline, Campaigns, Complaints, Forecast) run alone,
on the seeded demo database and on an empty one."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from app import formatting as fmt
from app.db import get_engine
from app.kpi.analyses_sales import owner_performance
from app.kpi.base import KpiContext
from app.kpi.period import preset_period
from tests.app.conftest import displayed, ensure_user

ROOT = Path(__file__).resolve().parents[2]
DEMO_TODAY = dt.date(2026, 6, 15)
TIMEOUT = 60
PAGES = ["pipeline", "campaigns", "complaints", "forecast"]
# Charts and tables each page shows on the seeded demo data for this year.
EXPECTED = {
    "pipeline": {"charts": 6, "tables": 7, "metrics": 4},  # + the drill-down table
    "campaigns": {"charts": 2, "tables": 3, "metrics": 3},  # + the drill-down table
    "complaints": {"charts": 8, "tables": 4, "metrics": 6},  # + the drill-down table
    "forecast": {"charts": 2, "tables": 3, "metrics": 0},
}
VI_TITLES = {
    "pipeline": "Cơ hội bán hàng",
    "campaigns": "Chiến dịch",
    "complaints": "Khiếu nại",
    "forecast": "Dự báo",
}


@pytest.fixture
def use_database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Point the app at a database fixture by name; return its URL."""

    def use(fixture_name: str) -> str:
        url = request.getfixturevalue(fixture_name)
        monkeypatch.setenv("CRM_DATABASE_URL", url)
        monkeypatch.setenv("CRM_AS_OF", DEMO_TODAY.isoformat())
        return url

    return use


def page(name: str, url: str, *, role: str = "manager", lang: str = "en", **params: str) -> AppTest:
    """An AppTest of a page run alone, signed in, with URL parameters; not yet run."""
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=TIMEOUT)
    at.session_state["crm_user"] = ensure_user(url, role)
    at.query_params["lang"] = lang
    for key, value in params.items():
        at.query_params[key] = value
    return at


def charts(at: AppTest) -> list:
    return list(at.get("plotly_chart"))


def spec(chart) -> dict:  # noqa: ANN001 - an AppTest element
    """A Plotly chart's figure as a dict."""
    return json.loads(chart.proto.spec)


def downloads(at: AppTest) -> list:
    return list(at.get("download_button"))


def metric_values(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


@pytest.mark.parametrize("name", PAGES)
def test_page_on_the_demo_data(name: str, use_database) -> None:
    url = use_database("seeded_sqlite_url")

    at = page(name, url, preset="this_year").run()

    assert not at.exception
    assert not at.error
    expected = EXPECTED[name]
    assert len(charts(at)) == expected["charts"]
    assert len(at.dataframe) == expected["tables"]
    # Every table has its CSV and Excel download.
    assert len(downloads(at)) == 2 * expected["tables"]
    assert len(at.metric) == expected["metrics"]
    assert all(metric.help for metric in at.metric)


@pytest.mark.parametrize("name", PAGES)
def test_page_on_an_empty_database(name: str, use_database) -> None:
    url = use_database("sqlite_url")

    at = page(name, url).run()

    assert not at.exception
    assert at.title
    assert not charts(at)
    assert not at.dataframe
    assert any("python -m app seed-demo" in info.value for info in at.info)


@pytest.mark.parametrize("name", PAGES)
def test_vietnamese_labels(name: str, use_database) -> None:
    url = use_database("seeded_sqlite_url")

    at = page(name, url, lang="vi", preset="this_year").run()

    assert not at.exception
    assert at.title[0].value == VI_TITLES[name]
    assert all("Download" not in button.label for button in downloads(at))
    assert downloads(at)[0].label == "Tải CSV"


def test_pipeline_shows_vietnamese_stage_names_and_money(use_database) -> None:
    url = use_database("seeded_sqlite_url")

    at = page("pipeline", url, lang="vi", preset="this_year").run()

    values = metric_values(at)
    assert values["Giá trị cơ hội đang mở"].endswith("tỷ ₫")
    funnel = spec(charts(at)[0])["data"][0]
    assert funnel["y"][0] == "Đầu mối" and "Đàm phán" in funnel["y"]
    assert funnel["customdata"][0][0].endswith(" ₫")


def test_a_filter_changes_the_pipeline_and_complaint_numbers(use_database) -> None:
    url = use_database("seeded_sqlite_url")

    everyone = metric_values(page("pipeline", url, preset="this_year").run())
    persons = metric_values(page("pipeline", url, preset="this_year", kind="person").run())
    assert everyone["Pipeline value"] != persons["Pipeline value"]

    all_complaints = metric_values(page("complaints", url, preset="this_year").run())
    org_complaints = metric_values(
        page("complaints", url, preset="this_year", kind="organisation").run()
    )
    assert all_complaints["Complaints opened"] != org_complaints["Complaints opened"]


def test_a_filter_matching_nothing_shows_an_empty_state(use_database) -> None:
    url = use_database("seeded_sqlite_url")

    # Campaigns are listed by date whatever the customers (their cost does not depend on
    # them), and the forecast page keeps its method note: both are checked elsewhere.
    for name in ("pipeline", "complaints"):
        at = page(name, url, preset="this_year", segment="no such segment").run()
        assert not at.exception
        assert not charts(at)
        assert at.info


def test_staff_see_their_own_customers_only(use_database) -> None:
    url = use_database("seeded_sqlite_url")

    manager = metric_values(page("pipeline", url, preset="this_year").run())
    staff = metric_values(page("pipeline", url, role="staff", preset="this_year").run())

    # Same filters, different scope: the cache must not hand the manager's numbers over.
    assert manager["Pipeline value"] != staff["Pipeline value"]


def test_owner_table_holds_the_rows_of_owner_performance(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    with Session(get_engine(url)) as session:
        expected = owner_performance(
            KpiContext.create(session=session), period=preset_period("this_year", DEMO_TODAY)
        )

    at = page("pipeline", url, preset="this_year").run()

    owners = displayed(at.dataframe[-1])
    assert list(owners["Owner"]) == list(expected["owner_name"])
    assert list(owners["Won"]) == list(expected["won"])
    # Money is shown in the locale's format (the downloads keep the numbers).
    assert list(owners["Revenue"]) == [fmt.money(value, "en") for value in expected["revenue"]]


def test_choosing_another_campaign_changes_its_funnel(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    at = page("campaigns", url, preset="this_year").run()
    picker = at.selectbox(key="campaigns_pick")
    assert len(picker.options) >= 2
    before = charts(at)[-1].proto.spec

    picker.select_index(1).run()

    assert not at.exception
    assert charts(at)[-1].proto.spec != before


def test_forecast_method_changes_the_backtest(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    at = page("forecast", url, preset="this_year").run()
    before = at.dataframe[0].value.copy()
    assert list(before.columns) == ["Product category", "MAPE", "MAE", "Months tested"]

    at.selectbox(key="forecast_method").set_value("holt_winters").run()

    assert not at.exception
    assert "Holt-Winters" in at.info[0].value
    assert not at.dataframe[0].value.equals(before)


def test_forecast_of_one_category(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    at = page("forecast", url, preset="this_year").run()
    picker = at.selectbox(key="forecast_category")

    picker.select_index(1).run()

    assert not at.exception
    traces = spec(charts(at)[0])["data"]
    assert {trace["legendgroup"] for trace in traces} == {picker.value}
    assert len(traces) == 2
