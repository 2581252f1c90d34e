"""Half-open reporting periods in the display time zone, and their comparisons."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from app.errors import InvalidInput


def _shift_year(day: dt.date, years: int, *, is_end: bool = False) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        # 29 February in a non-leap year: a start becomes 28 February and an end 1 March,
        # so [1 Feb, 29 Feb) maps to the whole of February and no period becomes empty.
        return (
            day.replace(year=day.year + years, month=3, day=1)
            if is_end
            else day.replace(year=day.year + years, day=28)
        )


@dataclass(frozen=True, order=True)
class Period:
    """Local calendar days [start, end): start counts, end does not."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidInput({"period": "the end date must be after the start date"})

    @property
    def days(self) -> int:
        """Length in days."""
        return (self.end - self.start).days

    @property
    def as_of_day(self) -> dt.date:
        """The last day inside the period."""
        return self.end - dt.timedelta(days=1)

    def previous(self) -> Period:
        """The period of exactly the same length that ends where this one starts."""
        return Period(self.start - dt.timedelta(days=self.days), self.start)

    def last_year(self) -> Period:
        """The same period one calendar year earlier (both ends shifted)."""
        return Period(_shift_year(self.start, -1), _shift_year(self.end, -1, is_end=True))

    def utc_bounds(self, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """The UTC instants at which the period starts and ends."""
        return to_utc(self.start, tz), to_utc(self.end, tz)

    def label(self) -> str:
        """'2026-01-01 – 2026-01-31' (inclusive last day, as people read it)."""
        return f"{self.start.isoformat()} – {self.as_of_day.isoformat()}"


def to_utc(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant of local midnight at the start of ``day``."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)


def month_period(day: dt.date) -> Period:
    """The calendar month containing ``day``."""
    start = day.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return Period(start, end)


def offset_minutes(tz: ZoneInfo, day: dt.date) -> int:
    """The zone's UTC offset in minutes on a given day (for SQLite's local dates)."""
    offset = dt.datetime.combine(day, dt.time(12), tzinfo=tz).utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


PRESETS: tuple[str, ...] = (
    "this_month",
    "last_month",
    "this_quarter",
    "this_year",
    "last_12_months",
    "custom",
)


def preset_period(preset: str, today: dt.date) -> Period:
    """The period of a named preset around ``today`` (the period includes today)."""
    if preset == "last_month":
        return month_period(today.replace(day=1) - dt.timedelta(days=1))
    if preset == "this_quarter":
        first_month = 3 * ((today.month - 1) // 3) + 1
        start = today.replace(month=first_month, day=1)
        end_month = first_month + 3
        end = dt.date(start.year + (end_month > 12), (end_month - 1) % 12 + 1, 1)
        return Period(start, end)
    if preset == "this_year":
        return Period(dt.date(today.year, 1, 1), dt.date(today.year + 1, 1, 1))
    if preset == "last_12_months":
        end = month_period(today).end
        return Period(_shift_year(end, -1, is_end=True), end)
    return month_period(today)
