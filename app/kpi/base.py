"""What every KPI computation shares: filters, the customer scope, period bounds, memo."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, true
from sqlalchemy.sql.expression import ColumnElement, Select
from sqlmodel import Session, select

from app.models import COUNTED_ORDER_STATUSES, Customer, KpiOrderDay, Order
from app.settings import all_settings, display_timezone

from .period import Period, offset_minutes
from .sql import local_date, local_month

Unit = Literal["count", "money", "percent", "days", "hours", "score", "level"]
Direction = Literal["higher", "lower"]


@dataclass(frozen=True)
class KpiFilters:
    """Restrictions on the customers whose records every KPI uses."""

    segment: str | None = None
    region: str | None = None
    province: str | None = None
    owner_id: int | None = None
    channel: str | None = None
    kind: str | None = None
    # Set for staff users: only customers they own or that are unassigned.
    visible_to_owner_id: int | None = None

    def __post_init__(self) -> None:
        # A filter value is a name, never control characters; PostgreSQL would refuse NUL
        # with a driver error instead of a message.
        for name in ("segment", "region", "province", "channel", "kind"):
            value = getattr(self, name)
            if value is not None and (
                len(str(value)) > 200 or any(ord(char) < 32 for char in str(value))
            ):
                from app.errors import InvalidInput

                raise InvalidInput({name: "is not a valid filter value"})

    def conditions(self) -> list[ColumnElement[bool]]:
        """SQL conditions on the customer table."""
        pairs = [
            (Customer.segment, self.segment),
            (Customer.region, self.region),
            (Customer.province, self.province),
            (Customer.owner_id, self.owner_id),
            (Customer.channel, self.channel),
            (Customer.kind, self.kind),
        ]
        conditions = [column == value for column, value in pairs if value not in (None, "")]
        if self.visible_to_owner_id is not None:
            conditions.append(
                or_(Customer.owner_id == self.visible_to_owner_id, Customer.owner_id.is_(None))
            )
        return conditions

    def is_empty(self) -> bool:
        """True when no filter is set."""
        return not self.conditions()

    def as_dict(self) -> dict[str, Any]:
        """The set filters, for JSON output."""
        return {key: value for key, value in self.__dict__.items() if value not in (None, "")}


@dataclass
class KpiContext:
    """A session plus the filters, settings and time zone one computation runs under."""

    session: Session
    filters: KpiFilters = field(default_factory=KpiFilters)
    settings: dict[str, Any] = field(default_factory=dict)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    # False forces every KPI onto the raw rows (the reference the summaries are tested
    # against); True reads the summary tables whenever they can answer exactly.
    use_summaries: bool = True
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def create(
        cls,
        *,
        session: Session,
        filters: KpiFilters | None = None,
        use_summaries: bool = True,
    ) -> KpiContext:
        """A context with the stored settings and display time zone."""
        return cls(
            session=session,
            filters=filters or KpiFilters(),
            settings=all_settings(session=session),
            tz=display_timezone(session=session),
            use_summaries=use_summaries,
        )

    def prime(self, key: Any, value: Any) -> None:
        """Store a value computed in bulk (e.g. several periods in one query) in the memo."""
        self._memo[key] = value

    def summaries(self) -> bool:
        """Whether the KPIs may read the summary tables (built for this time zone)."""
        if not self.use_summaries:
            return False

        def check() -> bool:
            from .summaries import summaries_usable

            return summaries_usable(self.session.connection(), self.tz)

        return self.memo("summaries_usable", check)

    def order_days_in(self, start: dt.date | None, end: dt.date | None) -> list[Any]:
        """Conditions on kpi_order_day: scoped customers, local days in [start, end)."""
        conditions = [self.in_scope(KpiOrderDay.customer_id)]
        if start is not None:
            conditions.append(KpiOrderDay.day >= start)
        if end is not None:
            conditions.append(KpiOrderDay.day < end)
        return conditions

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """Compute once per context: KPIs share counts such as active customers."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def bounds(self, period: Period) -> tuple[dt.datetime, dt.datetime]:
        """UTC instants of the period's start and end."""
        return period.utc_bounds(self.tz)

    def instant(self, day: dt.date) -> dt.datetime:
        """UTC instant of local midnight starting ``day``."""
        from .period import to_utc

        return to_utc(day, self.tz)

    def in_scope(self, customer_column: Any) -> ColumnElement[bool]:
        """Condition restricting a customer_id column to the filtered customers."""
        conditions = self.filters.conditions()
        if not conditions:
            return true()
        return customer_column.in_(select(Customer.id).where(and_(*conditions)))

    def customers_in_scope(self) -> ColumnElement[bool]:
        """Condition on the customer table itself."""
        conditions = self.filters.conditions()
        return and_(*conditions) if conditions else true()

    def counted_orders(
        self, start: dt.datetime | None, end: dt.datetime | None
    ) -> list[ColumnElement[bool]]:
        """Conditions selecting counted orders of scoped customers in [start, end)."""
        conditions = [Order.status.in_(COUNTED_ORDER_STATUSES), self.in_scope(Order.customer_id)]
        if start is not None:
            conditions.append(Order.ordered_at >= start)
        if end is not None:
            conditions.append(Order.ordered_at < end)
        return conditions

    def local_day(self, column: Any, period: Period) -> local_date:
        """SQL expression: the local calendar day of a UTC timestamp column."""
        return local_date(column, self.tz.key, offset_minutes(self.tz, period.start))

    def local_month(self, column: Any, period: Period) -> local_month:
        """SQL expression: the local 'YYYY-MM' of a UTC timestamp column."""
        return local_month(column, self.tz.key, offset_minutes(self.tz, period.start))

    def scalar(self, statement: Select) -> Any:
        """Run a select returning one value."""
        return self.session.exec(statement).one()


def ratio(
    numerator: float | int | Decimal | None, denominator: float | int | Decimal | None
) -> float | None:
    """numerator / denominator as a float; None when either is None or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return float(numerator) / float(denominator)


def to_decimal(value: Any) -> Decimal:
    """A SQL SUM result as Decimal (0 for NULL), rounded to the cent."""
    if value is None:
        return Decimal("0.00")
    return Decimal(str(value)).quantize(Decimal("0.01"))


def median_and_p90(values: list[float]) -> tuple[float | None, float | None]:
    """Median and 90th percentile (linear interpolation); None for no values."""
    if not values:
        return None, None
    ordered = sorted(values)

    def quantile(q: float) -> float:
        position = (len(ordered) - 1) * q
        lower = int(position)
        upper = min(lower + 1, len(ordered) - 1)
        return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)

    return quantile(0.5), quantile(0.9)
