"""Global filters from the URL: defaults, presets and bad values never break a page."""

from __future__ import annotations

import datetime as dt

import pytest

from app.kpi.period import Period, preset_period
from app.models import Role
from app.services.access import Actor
from components.filters import parse_filters

TODAY = dt.date(2026, 11, 25)


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        ("this_month", "2026-11-01", "2026-12-01"),
        ("last_month", "2026-10-01", "2026-11-01"),
        ("this_quarter", "2026-10-01", "2027-01-01"),
        ("this_year", "2026-01-01", "2027-01-01"),
        ("last_12_months", "2025-12-01", "2026-12-01"),
    ],
)
def test_presets(preset: str, start: str, end: str) -> None:
    assert preset_period(preset, TODAY) == Period(
        dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    )


def test_defaults_when_the_url_is_empty() -> None:
    filters = parse_filters({}, TODAY)
    assert filters.preset == "this_month" and filters.compare == "previous"
    assert filters.period == Period(dt.date(2026, 11, 1), dt.date(2026, 12, 1))
    assert filters.ignored == ()


def test_custom_range_includes_its_last_day() -> None:
    filters = parse_filters({"preset": "custom", "from": "2026-01-01", "to": "2026-03-31"}, TODAY)
    assert filters.period == Period(dt.date(2026, 1, 1), dt.date(2026, 4, 1))


@pytest.mark.parametrize(
    ("params", "ignored"),
    [
        ({"preset": "forever"}, "preset"),
        ({"preset": "custom", "from": "2026-13-01", "to": "2026-01-01"}, "from/to"),
        ({"preset": "custom", "from": "2026-03-01", "to": "2026-01-01"}, "from/to"),
        ({"compare": "yesterday"}, "compare"),
        ({"owner": "1; DROP TABLE customer"}, "owner"),
        ({"kind": "<script>"}, "kind"),
        ({"segment": "x" * 500}, "segment"),
    ],
)
def test_bad_values_are_ignored_with_a_note(params: dict[str, str], ignored: str) -> None:
    filters = parse_filters(params, TODAY)
    assert ignored in filters.ignored
    assert filters.period.days > 0


def test_staff_filters_restrict_to_their_customers() -> None:
    filters = parse_filters({"segment": "SME", "owner": "3"}, TODAY)
    staff = Actor(user_id=7, username="lan", role=Role.staff)
    manager = Actor(user_id=2, username="boss", role=Role.manager)
    assert filters.kpi_filters(staff).visible_to_owner_id == 7
    assert filters.kpi_filters(manager).visible_to_owner_id is None
    assert filters.kpi_filters(manager).segment == "SME"
    assert filters.kpi_filters(manager).owner_id == 3
