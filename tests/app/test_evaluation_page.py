"""AppTests of the CRM evaluation page: scorecard, maturity, completeness, targets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from app.db import get_engine
from app.i18n.catalog import kpi as kpi_messages
from app.kpi.registry import all_kpis
from app.models import Target
from tests.app.conftest import ensure_user

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "pages" / "evaluation.py"
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


def page(url: str, role: str = "manager", lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT)
    at.session_state["crm_user"] = ensure_user(url, role)
    at.query_params["lang"] = lang
    return at


def test_scorecard_lists_all_56_kpis_grouped_by_family(use_database) -> None:
    url = use_database("seeded_sqlite_url")

    at = page(url).run()

    assert not at.exception
    registry = all_kpis()
    whole = at.dataframe[0].value
    assert len(whole) == len(registry) == 56
    assert list(whole["KPI"]) == [definition.label_en for definition in registry.values()]
    assert set(whole.columns) >= {"Value", "Comparison", "Target", "Status", "Formula", "Note"}
    assert whole["Status"].str[0].isin(["🟢", "🔴", "⚪"]).all()
    families = {definition.family for definition in registry.values()}
    # The whole scorecard, one tab per family, completeness, records to fix, targets.
    assert len(at.tabs) == 1 + len(families)
    family_rows = sum(len(frame.value) for frame in at.dataframe[1 : 1 + len(families)])
    assert family_rows == 56
    assert len(at.get("download_button")) >= 2 * (1 + len(families))
    assert any("Level" in md.value for md in at.markdown)


def test_records_to_fix_follow_the_owner_picker(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    at = page(url).run()
    everyone = len(at.dataframe[-2].value)
    picker = at.selectbox(key="evaluation_fix_owner")
    owner = picker.options[1]

    picker.select(owner).run()

    fixed = at.dataframe[-2].value
    assert 0 < len(fixed) <= everyone
    assert set(fixed["Owner"]) == {owner}
    assert not at.exception


def test_manager_saves_a_target_and_sees_it(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    at = page(url).run()

    at.selectbox(key="target_form_kpi_id").set_value("orders_count")
    at.date_input(key="target_form_period_start").set_value(dt.date(2026, 6, 1))
    at.date_input(key="target_form_period_end").set_value(dt.date(2026, 7, 1))
    at.number_input(key="target_form_target_value").set_value(250)
    at.button(key="target_form_submit").click().run()

    assert not at.exception
    assert not at.error
    assert "Orders" in at.success[0].value
    with Session(get_engine(url)) as session:
        target = session.exec(select(Target).where(Target.kpi_id == "orders_count")).one()
    assert (target.period_start, target.period_end) == (dt.date(2026, 6, 1), dt.date(2026, 7, 1))
    assert float(target.target_value) == 250
    whole = at.dataframe[0].value
    row = whole[whole["KPI"] == all_kpis()["orders_count"].label_en].iloc[0]
    assert row["Target"] == "250"
    assert row["Status"].split()[-1] in {"met", "missed"}


def test_a_percentage_target_is_typed_in_percent_and_errors_are_per_field(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    at = page(url).run()

    at.selectbox(key="target_form_kpi_id").set_value("churn_rate")
    at.number_input(key="target_form_target_value").set_value(None)
    at.button(key="target_form_submit").click().run()

    assert not at.exception
    assert any(error.value.startswith("Target value:") for error in at.error)

    at.selectbox(key="target_form_kpi_id").set_value("churn_rate")
    at.number_input(key="target_form_target_value").set_value(25)
    at.button(key="target_form_submit").click().run()
    with Session(get_engine(url)) as session:
        target = session.exec(select(Target).where(Target.kpi_id == "churn_rate")).one()
    assert float(target.target_value) == 0.25


def test_an_executive_sees_targets_read_only(use_database) -> None:
    url = use_database("seeded_sqlite_url")

    at = page(url, role="executive").run()

    assert not at.exception
    assert not at.get("form")
    assert any("Only managers and admins" in caption.value for caption in at.caption)


def test_vietnamese_scorecard(use_database) -> None:
    url = use_database("seeded_sqlite_url")

    at = page(url, lang="vi").run()

    assert not at.exception
    assert at.title[0].value == "Đánh giá CRM"
    whole = at.dataframe[0].value
    assert "Chỉ số" in whole.columns and "Công thức" in whole.columns
    assert whole["Công thức"].iloc[0] == kpi_messages.VI["formula_customers_total"]


def test_empty_database_shows_the_empty_state(use_database) -> None:
    url = use_database("sqlite_url")

    at = page(url).run()

    assert not at.exception
    assert not at.dataframe
    assert "python -m app seed-demo" in at.info[0].value


def test_english_formulas_are_the_registry_ones() -> None:
    registry = all_kpis()
    assert set(kpi_messages.VI) == set(kpi_messages.EN)
    for kpi_id, definition in registry.items():
        assert kpi_messages.EN[f"formula_{kpi_id}"] == definition.formula
        if definition.note:
            assert kpi_messages.EN[f"note_{kpi_id}"] == definition.note
