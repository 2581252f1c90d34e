"""Settings stored in the ``setting`` table, with the defaults of the KPI catalogue."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, select

from app import config
from app.models import Setting, utcnow
from app.retry import retrying

DEFAULT_SETTINGS: dict[str, Any] = {
    "currency": "VND",
    "locale": "vi",
    "timezone": "Asia/Ho_Chi_Minh",
    "stage_probabilities": {
        "lead": 0.10,
        "qualified": 0.25,
        "proposal": 0.50,
        "negotiation": 0.75,
        "won": 1.0,
        "lost": 0.0,
    },
    "sla_hours": {"critical": 4, "high": 24, "medium": 72, "low": 168},
    "rfm_weights": {"r": 1.0, "f": 1.0, "m": 1.0},
    "rfm_bins": 5,
    "rfm_lookback_days": None,
    "churn_window_days": 365,
    "loyal_min_purchase_days": 3,
    "conversion_window_days": 30,
    "untouched_days": 90,
    "important_fields": {
        "all": ["phone", "email", "address", "province", "segment", "owner_id"],
        "organisation": ["industry", "representative"],
        "person": ["gender", "birth_year"],
    },
    "equity": None,
    "session_idle_hours": 8,
}


def get_setting(*, session: Session, key: str) -> Any:
    """The stored value of a setting, or its default (a copy) when never set."""
    row = session.get(Setting, key)
    if row is not None:
        return row.value
    if key not in DEFAULT_SETTINGS:
        raise KeyError(f"unknown setting {key!r}")
    return copy.deepcopy(DEFAULT_SETTINGS[key])


def all_settings(*, session: Session) -> dict[str, Any]:
    """Every setting: the defaults overlaid with stored values."""
    values = copy.deepcopy(DEFAULT_SETTINGS)
    for row in session.exec(select(Setting)):
        values[row.key] = row.value
    return values


@retrying
def set_setting(*, session: Session, key: str, value: Any) -> None:
    """Store a setting value (committed)."""
    if key not in DEFAULT_SETTINGS:
        raise KeyError(f"unknown setting {key!r}")
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value, updated_at=utcnow()))
    else:
        row.value = value
        row.updated_at = utcnow()
        session.add(row)
    session.commit()


def display_timezone(*, session: Session | None = None) -> ZoneInfo:
    """The display time zone: the ``timezone`` setting, else the configured fallback."""
    name = get_setting(session=session, key="timezone") if session else None
    for candidate in (name, config.display_timezone_name(), "Asia/Ho_Chi_Minh"):
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def local_today(*, session: Session | None = None) -> dt.date:
    """Today in the display time zone (``CRM_AS_OF`` overrides it)."""
    override = config.as_of_date_override()
    if override is not None:
        return override
    return dt.datetime.now(display_timezone(session=session)).date()


def local_midnight_utc(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant at which ``day`` starts in the time zone ``tz``."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
