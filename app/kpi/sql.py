"""Dialect-aware SQL expressions the KPIs need: local calendar days, months, durations.

Timestamps are stored in UTC. SQLite has no time zones, so there the local day is the
UTC timestamp shifted by the display zone's offset in the period (exact for zones
without daylight saving, such as Asia/Ho_Chi_Minh); PostgreSQL converts exactly.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, Float, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement


class local_date(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """The calendar date of a UTC timestamp in the display time zone."""

    type = Date()
    # The zone/offset/grain live outside the clauses, so they are not part of SQLAlchemy's
    # statement cache key: caching would reuse SQL compiled for another zone or grain.
    inherit_cache = False

    def __init__(self, column: Any, tz_name: str, offset_minutes: int) -> None:
        self.tz_name = tz_name
        self.offset_minutes = offset_minutes
        super().__init__(column)


@compiles(local_date, "sqlite")
def _local_date_sqlite(element: local_date, compiler: Any, **kw: Any) -> str:
    column = compiler.process(list(element.clauses)[0], **kw)
    return f"date({column}, '{int(element.offset_minutes):+d} minutes')"


@compiles(local_date, "postgresql")
def _local_date_pg(element: local_date, compiler: Any, **kw: Any) -> str:
    column = compiler.process(list(element.clauses)[0], **kw)
    tz = element.tz_name.replace("'", "")
    return f"CAST(timezone('{tz}', {column}) AS DATE)"


class local_month(FunctionElement):  # noqa: N801
    """'YYYY-MM' of a UTC timestamp in the display time zone."""

    type = String()
    # The zone/offset/grain live outside the clauses, so they are not part of SQLAlchemy's
    # statement cache key: caching would reuse SQL compiled for another zone or grain.
    inherit_cache = False

    def __init__(self, column: Any, tz_name: str, offset_minutes: int) -> None:
        self.tz_name = tz_name
        self.offset_minutes = offset_minutes
        super().__init__(column)


@compiles(local_month, "sqlite")
def _local_month_sqlite(element: local_month, compiler: Any, **kw: Any) -> str:
    column = compiler.process(list(element.clauses)[0], **kw)
    return f"strftime('%Y-%m', {column}, '{int(element.offset_minutes):+d} minutes')"


@compiles(local_month, "postgresql")
def _local_month_pg(element: local_month, compiler: Any, **kw: Any) -> str:
    column = compiler.process(list(element.clauses)[0], **kw)
    tz = element.tz_name.replace("'", "")
    return f"to_char(timezone('{tz}', {column}), 'YYYY-MM')"


class hours_between(FunctionElement):  # noqa: N801
    """Hours from the first timestamp to the second, as a float."""

    type = Float()
    inherit_cache = True


@compiles(hours_between, "sqlite")
def _hours_sqlite(element: hours_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    # julianday() is a float of days: 5 h comes back as 5.0000000037 h. Rounding to the
    # millisecond keeps "resolved exactly at the SLA limit" inside it, as on PostgreSQL.
    return f"(round((julianday({end}) - julianday({start})) * 86400.0, 3) / 3600.0)"


@compiles(hours_between, "postgresql")
def _hours_pg(element: hours_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 3600.0)"


def days_between(start: ColumnElement[Any], end: ColumnElement[Any]) -> ColumnElement[float]:
    """Days from the first timestamp to the second, as a float."""
    return hours_between(start, end) / 24.0


class day_bucket(FunctionElement):  # noqa: N801
    """The first day of the calendar month or ISO week (from Monday) of a DATE column."""

    type = Date()
    # The zone/offset/grain live outside the clauses, so they are not part of SQLAlchemy's
    # statement cache key: caching would reuse SQL compiled for another zone or grain.
    inherit_cache = False

    def __init__(self, column: Any, grain: str) -> None:
        self.grain = grain
        super().__init__(column)


@compiles(day_bucket, "sqlite")
def _day_bucket_sqlite(element: day_bucket, compiler: Any, **kw: Any) -> str:
    column = compiler.process(list(element.clauses)[0], **kw)
    if element.grain == "month":
        return f"date({column}, 'start of month')"
    # 'weekday 0' moves forward to the next Sunday (or stays on one); 6 days back is Monday.
    return f"date({column}, 'weekday 0', '-6 days')"


@compiles(day_bucket, "postgresql")
def _day_bucket_pg(element: day_bucket, compiler: Any, **kw: Any) -> str:
    column = compiler.process(list(element.clauses)[0], **kw)
    unit = "month" if element.grain == "month" else "week"
    return f"CAST(date_trunc('{unit}', {column}) AS DATE)"
