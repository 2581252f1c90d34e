"""Configuration read from environment variables at call time."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "crm.db"


def database_url() -> str:
    """The database URL: ``CRM_DATABASE_URL`` or the SQLite file ``data/crm.db``."""
    url = os.environ.get("CRM_DATABASE_URL", "").strip()
    return url or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def is_default_database(url: str) -> bool:
    """Whether the URL is the embedded default database under ``data/``."""
    return url == f"sqlite:///{DEFAULT_SQLITE_PATH}"


def demo_mode() -> bool:
    """Whether demo mode is on (``CRM_DEMO=1``)."""
    return os.environ.get("CRM_DEMO", "").strip().lower() in {"1", "true", "yes", "on"}


def display_timezone_name() -> str:
    """Fallback display time zone when the ``timezone`` setting is absent."""
    return os.environ.get("CRM_TIMEZONE", "Asia/Ho_Chi_Minh")


def as_of_date_override() -> "dt.date | None":
    """The date the app treats as today when ``CRM_AS_OF`` (YYYY-MM-DD) is set, else None.

    Used for reproducible demos, screenshots and tests on data generated for a fixed day.
    """
    raw = os.environ.get("CRM_AS_OF", "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None
