"""AppTests: in Vietnamese, no page shows a stored enum value as stored or an English
number format, and the Campaigns page drills into its three KPIs."""

from __future__ import annotations

import datetime as dt
import enum
import inspect
import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import models
from app.i18n import enum_label, translate
from app.kpi.registry import all_kpis
from app.services import access
from tests.app.conftest import displayed, ensure_user

ROOT = Path(__file__).resolve().parents[2]
DEMO_TODAY = dt.date(2026, 6, 15)
TIMEOUT = 60
# Pages owned elsewhere (forms, import, the 360° view) are checked by their own tests.
PAGES = [
    "admin",
    "campaigns",
    "complaints",
    "customers",
    "evaluation",
    "forecast",
    "overview",
    "partners",
    "pipeline",
    "segments",
]
# Stored values whose Vietnamese label differs from what is stored.
RAW_VALUES = {
    member.value
    for module in (models, access)
    for _, cls in inspect.getmembers(module, inspect.isclass)
    if issubclass(cls, str) and issubclass(cls, enum.Enum) and cls is not enum.Enum
    for member in cls
    if enum_label(member, "vi") != member.value
}
ENGLISH_NUMBER = re.compile(r"[-₫]*\d{1,3}(,\d{3})+(\.\d+)?( ₫)?")
# Columns holding names people chose (a user called "admin"), not stored enum values.
FREE_TEXT_COLUMNS = {"username"}


@pytest.fixture
def seeded(seeded_sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CRM_DATABASE_URL", seeded_sqlite_url)
    monkeypatch.setenv("CRM_AS_OF", DEMO_TODAY.isoformat())
    return seeded_sqlite_url


def page(name: str, url: str, lang: str = "vi") -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=TIMEOUT)
    at.session_state["crm_user"] = ensure_user(url, "admin")
    at.query_params["lang"] = lang
    return at


def shown_strings(at: AppTest) -> list[tuple[str, str]]:
    """(where, text) of every string cell of every table and every chart category."""
    found = []
    for table in at.dataframe:
        shown = displayed(table)
        for column in shown.columns:
            if column in FREE_TEXT_COLUMNS:
                continue
            found += [(str(column), v) for v in shown[column] if isinstance(v, str)]
    for chart in at.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec).get("data", []):
            for key in ("x", "y", "labels"):
                values = trace.get(key)
                if isinstance(values, list):
                    found += [(f"chart {key}", v) for v in values if isinstance(v, str)]
            if isinstance(trace.get("name"), str):
                found.append(("chart legend", trace["name"]))
    return found


@pytest.mark.parametrize("name", PAGES)
def test_vietnamese_pages_show_labels_and_vietnamese_numbers(name: str, seeded: str) -> None:
    at = page(name, seeded).run()
    assert not at.exception
    strings = shown_strings(at)
    raw = sorted({(where, text) for where, text in strings if text in RAW_VALUES})
    assert not raw, raw
    english = sorted({(where, text) for where, text in strings if ENGLISH_NUMBER.fullmatch(text)})
    assert not english, english


def table_with(at: AppTest, column: str):  # noqa: ANN201 - a DataFrame
    """The first table shown with a column titled ``column``."""
    for table in at.dataframe:
        if column in table.value.columns:
            return displayed(table)
    raise AssertionError(f"no table with a column {column!r}")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_campaign_kpis_drill_into_their_rows(lang: str, seeded: str) -> None:
    at = page("campaigns", seeded, lang).run()
    picker = at.selectbox(key="campaigns_drill_kpi")
    kpis = all_kpis()
    assert picker.options == [
        kpis[k].label(lang) for k in ("marketing_cost", "marketing_roi", "cac")
    ]

    column = translate("overview.col_days_in_period", lang)
    cost = table_with(at, column)
    column = translate("overview.col_allocated_cost", lang)
    assert len(cost) >= 1
    money = list(cost[column])
    if lang == "vi":
        assert all(re.fullmatch(r"\d{1,3}(\.\d{3})* ₫", text) for text in money), money
    else:
        assert all(re.fullmatch(r"₫\d{1,3}(,\d{3})*", text) for text in money), money
    channel = translate("overview.col_channel", lang)
    labels = {enum_label(member, lang) for member in models.CampaignChannel}
    assert set(cost[channel]) <= labels

    for kpi_id, key in (("marketing_roi", "attributed_profit"), ("cac", "customer_code")):
        at.selectbox(key="campaigns_drill_kpi").set_value(kpi_id).run()
        assert not at.exception
        table_with(at, translate(f"overview.col_{key}", lang))
    labels = [button.label for button in at.get("download_button")]
    assert translate("common.download_csv", lang) in labels


@pytest.mark.parametrize("name", ["overview", "campaigns"])
def test_card_labels_may_wrap(name: str, seeded: str) -> None:
    # Long Vietnamese KPI names ("Giá trị đạt được từ khách hàng") wrap instead of being
    # cut; the full name also stays in the card's help.
    at = page(name, seeded).run()
    styles = [element.proto.body for element in at.get("html")]
    assert any("stMetricLabel" in style and "white-space: normal" in style for style in styles)
    assert all(metric.proto.help for metric in at.metric)
