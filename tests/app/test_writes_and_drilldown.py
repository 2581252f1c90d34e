"""Dashboards show a write on their next render, and their KPI numbers can be drilled into."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from app.db import get_engine
from app.models import Customer, Product
from app.services.access import Actor
from app.services.sales import create_order
from components.data import clear_overview_cache
from tests.app.conftest import ensure_user

ROOT = Path(__file__).resolve().parents[2]
DEMO_TODAY = dt.date(2026, 6, 15)


def revenue_card(url: str) -> str:
    """The overview's revenue card value, rendered in English."""
    at = AppTest.from_file(str(ROOT / "pages" / "overview.py"), default_timeout=60)
    at.session_state["crm_user"] = ensure_user(url, "manager")
    at.session_state["crm_language"] = "en"
    at.run()
    assert not at.exception
    return next(metric.value for metric in at.metric if metric.label == "Revenue")


def test_an_order_shows_on_the_overview_after_the_write_clears_the_caches(
    seeded_sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_DATABASE_URL", seeded_sqlite_url)
    monkeypatch.setenv("CRM_AS_OF", DEMO_TODAY.isoformat())
    before = revenue_card(seeded_sqlite_url)

    with Session(get_engine(seeded_sqlite_url)) as session:
        customer_id = session.exec(select(Customer.id)).first()
        product_id = session.exec(select(Product.id)).first()
        create_order(
            session=session,
            actor=Actor.system(),
            data={
                "customer_id": customer_id,
                "ordered_at": dt.datetime(2026, 6, 10, 3, tzinfo=dt.UTC),
                "lines": [
                    {
                        "product_id": product_id,
                        "quantity": 1,
                        "unit_price": "5000000000",
                        "unit_cost": "1",
                    }
                ],
            },
        )

    # Still cached: a write from outside the app only shows once the TTL expires.
    assert revenue_card(seeded_sqlite_url) == before
    # The form path clears the dashboard caches; the next render shows the order.
    clear_overview_cache()
    assert revenue_card(seeded_sqlite_url) != before


@pytest.mark.parametrize(
    ("page_file", "kpi_id"),
    [
        ("pipeline.py", "pipeline_value"),
        ("complaints.py", "complaints_opened"),
        ("evaluation.py", "revenue"),
    ],
)
def test_kpi_numbers_can_be_drilled_into(
    page_file: str, kpi_id: str, seeded_sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_DATABASE_URL", seeded_sqlite_url)
    monkeypatch.setenv("CRM_AS_OF", DEMO_TODAY.isoformat())
    at = AppTest.from_file(str(ROOT / "pages" / page_file), default_timeout=60)
    at.session_state["crm_user"] = ensure_user(seeded_sqlite_url, "manager")
    at.query_params["preset"] = "this_year"
    at.run()
    prefix = page_file.removesuffix(".py")
    at.selectbox(key=f"{prefix}_drill_kpi").set_value(kpi_id).run()
    assert not at.exception
    assert any(frame.value.shape[0] > 0 for frame in at.dataframe)
    assert any(button.label for button in at.get("download_button"))
