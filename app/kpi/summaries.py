"""KPI summary tables: counted orders per customer and local day, and per-customer facts.

``kpi_order_day`` holds, per customer and local calendar day of the display time zone,
the number, revenue and cost of the customer's counted orders (confirmed, delivered,
paid); ``kpi_customer_fact`` holds per customer the first and last such day, the number
of order days, orders and revenue. The order KPIs (revenue, profit, active, new,
retention/churn, lapsed, loyal, repeat, lifetime value, ...) read them instead of
scanning ``sales_order`` joined to nothing.

Keeping them current: database triggers on ``sales_order`` (installed by migration 0004)
update both tables inside the same transaction as every insert, update and delete, so
all write paths (services, the bulk importer's core inserts, the demo seeder, merges
moving orders, status changes, raw SQL) leave them exact, and a rolled-back write rolls
back its summary change too. PostgreSQL serialises the maintenance per customer with a
transaction-level advisory lock, so concurrent writers cannot lose an update.

The local day depends on the display time zone: ``kpi_summary_state`` records the zone
the days were computed in. When the ``timezone`` setting differs (or, on SQLite, the
zone has daylight saving, which SQLite's fixed-offset dates cannot follow) the KPIs
fall back to the raw rows, which is always correct, until ``rebuild_summaries`` runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import Connection

from app.models import COUNTED_ORDER_STATUSES, KpiSummaryState

from .period import Period, offset_minutes

if TYPE_CHECKING:
    from .base import KpiContext

COUNTED_SQL = ", ".join(f"'{status.value}'" for status in COUNTED_ORDER_STATUSES)
# Columns whose change moves an order between days, customers or the counted set.
WATCHED_COLUMNS = "customer_id, ordered_at, status, amount, cost"
# Namespace of the PostgreSQL advisory locks that serialise one customer's maintenance.
ADVISORY_NAMESPACE = 480_004

SQLITE_MODIFIER = (
    "(SELECT coalesce(max(day_modifier), '+0 minutes') FROM kpi_summary_state WHERE id = 1)"
)


def _sqlite_day(row: str) -> str:
    return f"date({row}.ordered_at, {SQLITE_MODIFIER})"


def _sqlite_refresh_fact(customer: str) -> str:
    return f"""
    INSERT INTO kpi_customer_fact (customer_id, first_day, last_day, order_days, orders, revenue)
    SELECT customer_id, min(day), max(day), count(*), sum(orders), sum(revenue)
    FROM kpi_order_day WHERE customer_id = {customer} GROUP BY customer_id
    ON CONFLICT (customer_id) DO UPDATE SET first_day = excluded.first_day,
        last_day = excluded.last_day, order_days = excluded.order_days,
        orders = excluded.orders, revenue = excluded.revenue;
    DELETE FROM kpi_customer_fact WHERE customer_id = {customer}
        AND NOT EXISTS (SELECT 1 FROM kpi_order_day WHERE customer_id = {customer});"""


def _sqlite_add(row: str) -> str:
    return f"""
    INSERT INTO kpi_order_day (customer_id, day, orders, revenue, cost)
    VALUES ({row}.customer_id, {_sqlite_day(row)}, 1, {row}.amount, {row}.cost)
    ON CONFLICT (customer_id, day) DO UPDATE SET orders = orders + 1,
        revenue = revenue + excluded.revenue, cost = cost + excluded.cost;
    {_sqlite_refresh_fact(f"{row}.customer_id")}"""


def _sqlite_remove(row: str) -> str:
    return f"""
    UPDATE kpi_order_day SET orders = orders - 1, revenue = revenue - {row}.amount,
        cost = cost - {row}.cost
    WHERE customer_id = {row}.customer_id AND day = {_sqlite_day(row)};
    DELETE FROM kpi_order_day
    WHERE customer_id = {row}.customer_id AND day = {_sqlite_day(row)} AND orders <= 0;
    {_sqlite_refresh_fact(f"{row}.customer_id")}"""


def _sqlite_triggers() -> list[str]:
    counted_new = f"NEW.status IN ({COUNTED_SQL})"
    counted_old = f"OLD.status IN ({COUNTED_SQL})"
    return [
        f"CREATE TRIGGER kpi_sales_order_insert AFTER INSERT ON sales_order "
        f"WHEN {counted_new} BEGIN {_sqlite_add('NEW')} END",
        f"CREATE TRIGGER kpi_sales_order_delete AFTER DELETE ON sales_order "
        f"WHEN {counted_old} BEGIN {_sqlite_remove('OLD')} END",
        # An update is the removal of the old row and the addition of the new one; the
        # order in which SQLite fires the two does not matter (counts never go negative
        # for long, and an emptied day row is deleted before or after).
        f"CREATE TRIGGER kpi_sales_order_update_old AFTER UPDATE OF {WATCHED_COLUMNS} "
        f"ON sales_order WHEN {counted_old} BEGIN {_sqlite_remove('OLD')} END",
        f"CREATE TRIGGER kpi_sales_order_update_new AFTER UPDATE OF {WATCHED_COLUMNS} "
        f"ON sales_order WHEN {counted_new} BEGIN {_sqlite_add('NEW')} END",
    ]


SQLITE_TRIGGER_NAMES = (
    "kpi_sales_order_insert",
    "kpi_sales_order_delete",
    "kpi_sales_order_update_old",
    "kpi_sales_order_update_new",
)

PG_FUNCTIONS = [
    """
CREATE OR REPLACE FUNCTION kpi_order_day_apply(
    p_customer integer, p_day date, p_orders integer, p_revenue numeric, p_cost numeric
) RETURNS void AS $$
BEGIN
    -- Serialise one customer's maintenance: the fact below is recomputed from a fresh
    -- snapshot that must include the other writers' committed rows. A bulk load that
    -- holds sales_order against every other writer (lock_orders_for_bulk_load) needs
    -- no per-customer lock, and one per customer would fill the lock table.
    IF coalesce(current_setting('crm.orders_locked', true), '') <> 'on' THEN
        PERFORM pg_advisory_xact_lock(%(ns)s, p_customer);
    END IF;
    INSERT INTO kpi_order_day AS d (customer_id, day, orders, revenue, cost)
    VALUES (p_customer, p_day, p_orders, p_revenue, p_cost)
    ON CONFLICT (customer_id, day) DO UPDATE SET orders = d.orders + excluded.orders,
        revenue = d.revenue + excluded.revenue, cost = d.cost + excluded.cost;
    DELETE FROM kpi_order_day WHERE customer_id = p_customer AND day = p_day AND orders <= 0;
    INSERT INTO kpi_customer_fact AS f
        (customer_id, first_day, last_day, order_days, orders, revenue)
    SELECT customer_id, min(day), max(day), count(*), sum(orders), sum(revenue)
    FROM kpi_order_day WHERE customer_id = p_customer GROUP BY customer_id
    ON CONFLICT (customer_id) DO UPDATE SET first_day = excluded.first_day,
        last_day = excluded.last_day, order_days = excluded.order_days,
        orders = excluded.orders, revenue = excluded.revenue;
    DELETE FROM kpi_customer_fact WHERE customer_id = p_customer
        AND NOT EXISTS (SELECT 1 FROM kpi_order_day WHERE customer_id = p_customer);
END
$$ LANGUAGE plpgsql
""".replace("%(ns)s", str(ADVISORY_NAMESPACE)),
    f"""
CREATE OR REPLACE FUNCTION kpi_sales_order_sync() RETURNS trigger AS $$
DECLARE
    zone text;
BEGIN
    SELECT s.timezone INTO zone FROM kpi_summary_state s WHERE s.id = 1;
    zone := coalesce(zone, 'UTC');
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status IN ({COUNTED_SQL}) THEN
        PERFORM kpi_order_day_apply(OLD.customer_id,
            CAST(timezone(zone, OLD.ordered_at) AS date), -1, -OLD.amount, -OLD.cost);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status IN ({COUNTED_SQL}) THEN
        PERFORM kpi_order_day_apply(NEW.customer_id,
            CAST(timezone(zone, NEW.ordered_at) AS date), 1, NEW.amount, NEW.cost);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
""",
]
PG_TRIGGER = (
    f"CREATE TRIGGER kpi_sales_order_sync AFTER INSERT OR DELETE OR UPDATE OF {WATCHED_COLUMNS} "
    "ON sales_order FOR EACH ROW EXECUTE FUNCTION kpi_sales_order_sync()"
)


def lock_orders_for_bulk_load(connection: Connection) -> None:
    """Before writing orders for many customers in one transaction on PostgreSQL: hold
    sales_order against every other writer until the transaction ends, so the summary
    triggers may skip their per-customer advisory locks.

    Each advisory lock stays in PostgreSQL's shared lock table to the end of the
    transaction; an import of orders for 60,000 customers filled it ("out of shared
    memory … increase max_locks_per_transaction"). SHARE ROW EXCLUSIVE lets readers
    (the dashboards) go on and makes other order writers wait for the commit (they
    retry, app/retry.py). Nothing to do on SQLite, whose writers are already serialised.
    """
    if connection.dialect.name != "postgresql":
        return
    connection.exec_driver_sql("LOCK TABLE sales_order IN SHARE ROW EXCLUSIVE MODE")
    connection.exec_driver_sql("SET LOCAL crm.orders_locked = 'on'")


def install_triggers(connection: Connection) -> None:
    """Create the triggers that keep the summaries current (idempotent)."""
    drop_triggers(connection)
    if connection.dialect.name == "postgresql":
        for statement in PG_FUNCTIONS:
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql(PG_TRIGGER)
    else:
        for statement in _sqlite_triggers():
            connection.exec_driver_sql(statement)
    install_product_month_triggers(connection)


def drop_triggers(connection: Connection, *, functions: bool = False) -> None:
    """Remove the maintenance triggers (and on PostgreSQL optionally their functions)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS kpi_sales_order_sync ON sales_order")
        if functions:
            connection.exec_driver_sql("DROP FUNCTION IF EXISTS kpi_sales_order_sync()")
            connection.exec_driver_sql(
                "DROP FUNCTION IF EXISTS kpi_order_day_apply(integer, date, integer, numeric, "
                "numeric)"
            )
    else:
        for name in SQLITE_TRIGGER_NAMES:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")  # noqa: S608 - trigger names from SQLITE_TRIGGER_NAMES
    drop_product_month_triggers(connection, functions=functions)


def sqlite_modifier(tz: ZoneInfo, day: dt.date | None = None) -> str:
    """SQLite's date() modifier for the zone's UTC offset, e.g. '+420 minutes'."""
    return f"{offset_minutes(tz, day or dt.date.today()):+d} minutes"


def has_fixed_offset(tz: ZoneInfo) -> bool:
    """True for zones without daylight saving (their offset is the same all year)."""
    year = dt.date.today().year
    return offset_minutes(tz, dt.date(year, 1, 15)) == offset_minutes(tz, dt.date(year, 7, 15))


def _stored_timezone(connection: Connection) -> ZoneInfo:
    name = connection.execute(text("SELECT value FROM setting WHERE key = 'timezone'")).scalar()
    # JSON column: SQLite hands back the JSON text, PostgreSQL the decoded value.
    if isinstance(name, str) and name.startswith('"'):
        name = name.strip('"')
    from app import config

    for candidate in (name, config.display_timezone_name(), "Asia/Ho_Chi_Minh"):
        if not candidate:
            continue
        try:
            return ZoneInfo(str(candidate))
        except (ValueError, KeyError, OSError):
            continue
    return ZoneInfo("UTC")


def rebuild_summaries(connection: Connection, tz: ZoneInfo | None = None) -> None:
    """Recompute both summary tables from ``sales_order`` for the display time zone.

    Runs in the caller's transaction; used by migration 0004, after bulk loads and when
    the time zone setting changed.
    """
    tz = tz or _stored_timezone(connection)
    postgres = connection.dialect.name == "postgresql"
    modifier = sqlite_modifier(tz)
    connection.execute(text("DELETE FROM kpi_customer_fact"))
    connection.execute(text("DELETE FROM kpi_order_day"))
    connection.execute(text("DELETE FROM kpi_summary_state"))
    connection.execute(
        KpiSummaryState.__table__.insert().values(
            id=1, timezone=tz.key, day_modifier=modifier, built_at=dt.datetime.now(dt.UTC)
        )
    )
    day = "CAST(timezone(:tz, ordered_at) AS date)" if postgres else "date(ordered_at, :modifier)"
    connection.execute(
        text(
            "INSERT INTO kpi_order_day (customer_id, day, orders, revenue, cost) "
            f"SELECT customer_id, {day}, count(*), sum(amount), sum(cost) FROM sales_order "  # noqa: S608 - SQL fragments from this module; values are bound
            f"WHERE status IN ({COUNTED_SQL}) GROUP BY customer_id, {day}"
        ),
        {"tz": tz.key, "modifier": modifier},
    )
    connection.execute(
        text(
            "INSERT INTO kpi_customer_fact "
            "(customer_id, first_day, last_day, order_days, orders, revenue) "
            "SELECT customer_id, min(day), max(day), count(*), sum(orders), sum(revenue) "
            "FROM kpi_order_day GROUP BY customer_id"
        )
    )
    rebuild_product_month(connection, tz)


@contextmanager
def bulk_load(connection: Connection) -> Iterator[None]:
    """Suspend the per-row triggers for a large load, then rebuild once and reinstall.

    Everything happens in the caller's transaction, so other connections never see the
    summaries out of step with the orders.
    """
    drop_triggers(connection)
    try:
        yield
    finally:
        rebuild_summaries(connection)
        install_triggers(connection)


def summaries_usable(connection: Connection, tz: ZoneInfo) -> bool:
    """Whether the stored summaries were built for ``tz`` and can answer exactly."""
    row = connection.execute(
        text("SELECT timezone, day_modifier FROM kpi_summary_state WHERE id = 1")
    ).first()
    if row is None or row[0] != tz.key or not triggers_installed(connection):
        return False
    if connection.dialect.name == "postgresql":
        return True
    return has_fixed_offset(tz) and row[1] == sqlite_modifier(tz)


def triggers_installed(connection: Connection) -> bool:
    """Whether every maintenance trigger exists (a catalogue lookup, no table scan).

    Without them (e.g. a bulk load that failed between dropping and reinstalling them
    outside a transaction) the summaries may be stale, so the KPIs read the raw rows.
    """
    if connection.dialect.name == "postgresql":
        count = connection.execute(
            text(
                "SELECT count(*) FROM pg_trigger WHERE tgname = 'kpi_sales_order_sync' "
                "AND tgrelid = 'sales_order'::regclass"
            )
        ).scalar()
        return count == 1
    count = connection.execute(
        text(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'sales_order' AND name LIKE 'kpi_sales_order_%'"
        )
    ).scalar()
    return count == len(SQLITE_TRIGGER_NAMES)


def preload_order_kpis(ctx: KpiContext, periods: list[Period]) -> None:
    """Fill the context's memo with the order totals and new customers of every period
    from two small GROUP BY day queries, bucketed here, so a series of periods
    (sparklines) does not cost one scan per KPI and period. Distinct counts (active
    customers) are not additive over days and keep their own indexed query. Does
    nothing when the summaries cannot answer."""
    from sqlalchemy import func, select

    from app.models import KpiCustomerFact, KpiOrderDay

    from .base import to_decimal
    from .results import facts_first_in

    unique = sorted(set(periods))
    if not unique or not ctx.summaries():
        return
    first, last = min(p.start for p in unique), max(p.end for p in unique)
    days = ctx.session.exec(
        select(
            KpiOrderDay.day,
            func.sum(KpiOrderDay.revenue),
            func.sum(KpiOrderDay.cost),
            func.sum(KpiOrderDay.orders),
        )
        .where(*ctx.order_days_in(first, last))
        .group_by(KpiOrderDay.day)
    ).all()
    firsts = ctx.session.exec(
        select(KpiCustomerFact.first_day, func.count())
        .where(*facts_first_in(ctx, first, last))
        .group_by(KpiCustomerFact.first_day)
    ).all()
    for period in unique:
        inside = [row for row in days if period.start <= _as_date(row[0]) < period.end]
        revenue = sum((to_decimal(row[1]) for row in inside), to_decimal(0))
        cost = sum((to_decimal(row[2]) for row in inside), to_decimal(0))
        orders = sum(int(row[3] or 0) for row in inside)
        ctx.prime(("orders", period), (revenue, cost, orders))
        new = sum(int(n) for day, n in firsts if period.start <= _as_date(day) < period.end)
        ctx.prime(("new", period), new)


def _as_date(value: object) -> dt.date:
    # Date expressions come back as 'YYYY-MM-DD' text on SQLite, as dates on PostgreSQL.
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


# The additive or per-bucket-distinct KPIs whose monthly/weekly series the summaries give.
SUMMARY_SERIES_KPIS = frozenset(
    {"revenue", "profit", "orders_count", "active_customers", "new_customers"}
)


def summary_buckets(
    ctx: KpiContext, *, kpi_id: str, period: Period, grain: str
) -> dict[dt.date, Any] | None:
    """Bucket start (month or ISO week) → the KPI's value over the period's days in it,
    from the summaries in one GROUP BY; None when the summaries cannot answer."""
    from sqlalchemy import distinct, func, select

    from app.models import KpiCustomerFact, KpiOrderDay

    from .base import to_decimal
    from .results import facts_first_in
    from .sql import day_bucket

    if kpi_id not in SUMMARY_SERIES_KPIS or grain not in ("month", "week"):
        return None
    if not ctx.summaries():
        return None
    if kpi_id == "new_customers":
        key = day_bucket(KpiCustomerFact.first_day, grain)
        statement = (
            select(key, func.count())
            .where(*facts_first_in(ctx, period.start, period.end))
            .group_by(key)
        )
    else:
        key = day_bucket(KpiOrderDay.day, grain)
        measure = {
            "revenue": func.sum(KpiOrderDay.revenue),
            "profit": func.sum(KpiOrderDay.revenue - KpiOrderDay.cost),
            "orders_count": func.sum(KpiOrderDay.orders),
            "active_customers": func.count(distinct(KpiOrderDay.customer_id)),
        }[kpi_id]
        statement = (
            select(key, measure).where(*ctx.order_days_in(period.start, period.end)).group_by(key)
        )
    money = kpi_id in ("revenue", "profit")
    return {
        _as_date(label): to_decimal(value) if money else int(value or 0)
        for label, value in ctx.session.exec(statement).all()
    }


def summary_revenue_profit(ctx: KpiContext, *, period: Period) -> dict[dt.date, tuple] | None:
    """Month start → (revenue, profit) over the period's days in it, in one GROUP BY of
    the summaries (the Overview's trend); None when the summaries cannot answer."""
    from sqlalchemy import func, select

    from app.models import KpiOrderDay

    from .base import to_decimal
    from .sql import day_bucket

    if not ctx.summaries():
        return None
    key = day_bucket(KpiOrderDay.day, "month")
    statement = (
        select(
            key,
            func.sum(KpiOrderDay.revenue),
            func.sum(KpiOrderDay.revenue - KpiOrderDay.cost),
        )
        .where(*ctx.order_days_in(period.start, period.end))
        .group_by(key)
    )
    return {
        _as_date(label): (to_decimal(revenue), to_decimal(profit))
        for label, revenue, profit in ctx.session.exec(statement).all()
    }


# ---------------------------------------------------------------- order lines per month
# kpi_product_month (migration 0005): per product and local month of the display time
# zone, the number, quantity and revenue (quantity × unit price × (1 − discount)) of the
# lines of counted orders; the demand forecast reads it instead of joining every order
# line to its order. Keyed by product, not category, for the reason kpi_order_day is
# keyed by customer: a product's category can change, and the forecast groups by the
# category at read time, so editing a product needs no maintenance.
#
# Maintenance: triggers on order_line (a line added, removed or changed under a counted
# order) and on sales_order (a status or date change moves all of the order's lines in
# or out of the counted set or to another month; deleting an order takes its remaining
# lines out first, which the foreign key makes "none" in practice). A line's trigger
# reads its order's status and date, so a line whose order is already gone counts nothing.
# All updates are relative increments (INSERT … ON CONFLICT DO UPDATE), which
# PostgreSQL's row locks serialise; nothing is recomputed from a snapshot, so no
# advisory lock is needed.

LINE_REVENUE = "{row}.quantity * {row}.unit_price * (1 - {row}.discount)"
PRODUCT_MONTH_SQLITE_TRIGGERS = (
    "kpi_product_month_line_insert",
    "kpi_product_month_line_delete",
    "kpi_product_month_line_update",
    "kpi_product_month_order_update",
    "kpi_product_month_order_delete",
)
PRODUCT_MONTH_UPSERT = """
    INSERT INTO kpi_product_month (product_id, month, lines, quantity, revenue)
    {select}
    ON CONFLICT (product_id, month) DO UPDATE SET lines = kpi_product_month.lines
        + excluded.lines, quantity = kpi_product_month.quantity + excluded.quantity,
        revenue = kpi_product_month.revenue + excluded.revenue"""


def _sqlite_month(order: str) -> str:
    return f"date({order}.ordered_at, {SQLITE_MODIFIER}, 'start of month')"


def _sqlite_line_change(line: str, sign: str) -> str:
    """Add (sign '') or remove (sign '-') one line, when its order is counted."""
    select = (
        f"SELECT {line}.product_id, {_sqlite_month('o')}, {sign}1, {sign}{line}.quantity, "
        f"{sign}({LINE_REVENUE.format(row=line)}) FROM sales_order o "
        f"WHERE o.id = {line}.order_id AND o.status IN ({COUNTED_SQL})"
    )
    return (
        PRODUCT_MONTH_UPSERT.format(select=select)
        + f"; DELETE FROM kpi_product_month WHERE product_id = {line}.product_id AND lines <= 0;"
    )


def _sqlite_order_change(order: str, sign: str, when: str = "1 = 1") -> str:
    """Add or remove all lines of one order, in the month of its date, when ``when``."""
    select = (
        f"SELECT l.product_id, {_sqlite_month(order)}, {sign}count(*), {sign}sum(l.quantity), "
        f"{sign}sum({LINE_REVENUE.format(row='l')}) FROM order_line l "
        f"WHERE {when} AND l.order_id = {order}.id GROUP BY l.product_id"
    )
    return (
        PRODUCT_MONTH_UPSERT.format(select=select)
        + "; DELETE FROM kpi_product_month WHERE lines <= 0 AND product_id IN "
        f"(SELECT product_id FROM order_line WHERE order_id = {order}.id);"
    )


def _sqlite_product_month_triggers() -> list[str]:
    line_columns = "order_id, product_id, quantity, unit_price, discount"
    counted_old = f"OLD.status IN ({COUNTED_SQL})"
    counted_new = f"NEW.status IN ({COUNTED_SQL})"
    return [
        "CREATE TRIGGER kpi_product_month_line_insert AFTER INSERT ON order_line "
        f"BEGIN {_sqlite_line_change('NEW', '')} END",
        "CREATE TRIGGER kpi_product_month_line_delete AFTER DELETE ON order_line "
        f"BEGIN {_sqlite_line_change('OLD', '-')} END",
        f"CREATE TRIGGER kpi_product_month_line_update AFTER UPDATE OF {line_columns} "
        f"ON order_line BEGIN {_sqlite_line_change('OLD', '-')} "
        f"{_sqlite_line_change('NEW', '')} END",
        # One trigger, old lines out then new lines in: the order of two separate
        # triggers would not matter either, but one keeps the count of names small.
        "CREATE TRIGGER kpi_product_month_order_update AFTER UPDATE OF ordered_at, status "
        "ON sales_order BEGIN "
        f"{_sqlite_order_change('OLD', '-', counted_old)} "
        f"{_sqlite_order_change('NEW', '', counted_new)} "
        "END",
        # BEFORE: the order's lines are still there to be taken out (a cascade or a
        # disabled foreign key would otherwise leave them counted).
        "CREATE TRIGGER kpi_product_month_order_delete BEFORE DELETE ON sales_order "
        f"WHEN {counted_old} BEGIN {_sqlite_order_change('OLD', '-')} END",
    ]


PRODUCT_MONTH_PG_FUNCTIONS = [
    """
CREATE OR REPLACE FUNCTION kpi_product_month_apply(
    p_product integer, p_month date, p_lines integer, p_quantity numeric, p_revenue numeric
) RETURNS void AS $$
BEGIN
    INSERT INTO kpi_product_month AS m (product_id, month, lines, quantity, revenue)
    VALUES (p_product, p_month, p_lines, p_quantity, p_revenue)
    ON CONFLICT (product_id, month) DO UPDATE SET lines = m.lines + excluded.lines,
        quantity = m.quantity + excluded.quantity, revenue = m.revenue + excluded.revenue;
    DELETE FROM kpi_product_month WHERE product_id = p_product AND month = p_month
        AND lines <= 0;
END
$$ LANGUAGE plpgsql
""",
    f"""
CREATE OR REPLACE FUNCTION kpi_product_month_order_lines(
    p_order integer, p_ordered_at timestamptz, p_sign integer
) RETURNS void AS $$
DECLARE
    zone text;
    r record;
BEGIN
    SELECT s.timezone INTO zone FROM kpi_summary_state s WHERE s.id = 1;
    zone := coalesce(zone, 'UTC');
    FOR r IN SELECT l.product_id, count(*) AS n, sum(l.quantity) AS q,
            sum({LINE_REVENUE.format(row="l")}) AS v
        FROM order_line l WHERE l.order_id = p_order GROUP BY l.product_id
        ORDER BY l.product_id
    LOOP
        PERFORM kpi_product_month_apply(r.product_id,
            CAST(date_trunc('month', timezone(zone, p_ordered_at)) AS date),
            p_sign * CAST(r.n AS integer), p_sign * r.q, p_sign * r.v);
    END LOOP;
END
$$ LANGUAGE plpgsql
""",
    f"""
CREATE OR REPLACE FUNCTION kpi_product_month_line_sync() RETURNS trigger AS $$
DECLARE
    zone text;
    placed timestamptz;
BEGIN
    SELECT s.timezone INTO zone FROM kpi_summary_state s WHERE s.id = 1;
    zone := coalesce(zone, 'UTC');
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT o.ordered_at INTO placed FROM sales_order o
        WHERE o.id = OLD.order_id AND o.status IN ({COUNTED_SQL});
        IF FOUND THEN
            PERFORM kpi_product_month_apply(OLD.product_id,
                CAST(date_trunc('month', timezone(zone, placed)) AS date), -1,
                -OLD.quantity, -({LINE_REVENUE.format(row="OLD")}));
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT o.ordered_at INTO placed FROM sales_order o
        WHERE o.id = NEW.order_id AND o.status IN ({COUNTED_SQL});
        IF FOUND THEN
            PERFORM kpi_product_month_apply(NEW.product_id,
                CAST(date_trunc('month', timezone(zone, placed)) AS date), 1,
                NEW.quantity, {LINE_REVENUE.format(row="NEW")});
        END IF;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
""",
    f"""
CREATE OR REPLACE FUNCTION kpi_product_month_order_sync() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status IN ({COUNTED_SQL}) THEN
        PERFORM kpi_product_month_order_lines(OLD.id, OLD.ordered_at, -1);
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status IN ({COUNTED_SQL}) THEN
        PERFORM kpi_product_month_order_lines(NEW.id, NEW.ordered_at, 1);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
""",
]
PRODUCT_MONTH_PG_TRIGGER_SQL = [
    "CREATE TRIGGER kpi_product_month_line_sync AFTER INSERT OR DELETE OR UPDATE OF order_id, "
    "product_id, quantity, unit_price, discount ON order_line FOR EACH ROW "
    "EXECUTE FUNCTION kpi_product_month_line_sync()",
    "CREATE TRIGGER kpi_product_month_order_sync AFTER UPDATE OF ordered_at, status "
    "ON sales_order FOR EACH ROW EXECUTE FUNCTION kpi_product_month_order_sync()",
    # BEFORE: the order's lines are still there to be taken out.
    "CREATE TRIGGER kpi_product_month_order_delete BEFORE DELETE ON sales_order "
    "FOR EACH ROW EXECUTE FUNCTION kpi_product_month_order_sync()",
]


def has_product_month(connection: Connection) -> bool:
    """Whether kpi_product_month exists (migration 0005; 0004 runs these helpers too)."""
    from sqlalchemy import inspect

    return inspect(connection).has_table("kpi_product_month")


def install_product_month_triggers(connection: Connection) -> None:
    """Create the triggers that keep kpi_product_month current (idempotent)."""
    drop_product_month_triggers(connection)
    if not has_product_month(connection):
        return
    if connection.dialect.name == "postgresql":
        for statement in (*PRODUCT_MONTH_PG_FUNCTIONS, *PRODUCT_MONTH_PG_TRIGGER_SQL):
            connection.exec_driver_sql(statement)
    else:
        for statement in _sqlite_product_month_triggers():
            connection.exec_driver_sql(statement)


def drop_product_month_triggers(connection: Connection, *, functions: bool = False) -> None:
    """Remove kpi_product_month's triggers (and on PostgreSQL optionally its functions)."""
    if connection.dialect.name == "postgresql":
        for name in ("kpi_product_month_line_sync",):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON order_line")  # noqa: S608 - constant names
        for name in ("kpi_product_month_order_sync", "kpi_product_month_order_delete"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON sales_order")  # noqa: S608 - constant names
        if functions:
            for signature in (
                "kpi_product_month_line_sync()",
                "kpi_product_month_order_sync()",
                "kpi_product_month_order_lines(integer, timestamptz, integer)",
                "kpi_product_month_apply(integer, date, integer, numeric, numeric)",
            ):
                connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {signature}")  # noqa: S608 - constant names
    else:
        for name in PRODUCT_MONTH_SQLITE_TRIGGERS:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")  # noqa: S608 - constant names


def product_month_triggers_installed(connection: Connection) -> bool:
    """Whether every kpi_product_month trigger exists (a catalogue lookup)."""
    if connection.dialect.name == "postgresql":
        count = connection.execute(
            text("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'kpi_product_month_%'")
        ).scalar()
        return count == len(PRODUCT_MONTH_PG_TRIGGER_SQL)
    count = connection.execute(
        text(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
            "AND name LIKE 'kpi_product_month_%'"
        )
    ).scalar()
    return count == len(PRODUCT_MONTH_SQLITE_TRIGGERS)


def rebuild_product_month(connection: Connection, tz: ZoneInfo) -> None:
    """Recompute kpi_product_month from the order lines (caller's transaction)."""
    if not has_product_month(connection):
        return
    if connection.dialect.name == "postgresql":
        month = "CAST(date_trunc('month', timezone(:tz, o.ordered_at)) AS date)"
    else:
        month = "date(o.ordered_at, :modifier, 'start of month')"
    connection.execute(text("DELETE FROM kpi_product_month"))
    connection.execute(
        text(
            "INSERT INTO kpi_product_month (product_id, month, lines, quantity, revenue) "
            f"SELECT l.product_id, {month}, count(*), sum(l.quantity), "  # noqa: S608 - SQL fragments from this module; values are bound
            f"sum({LINE_REVENUE.format(row='l')}) FROM order_line l "
            # "+ 0": scan the lines once, look each order up by key (see forecast.py).
            "JOIN sales_order o ON o.id = l.order_id + 0 "
            f"WHERE o.status IN ({COUNTED_SQL}) GROUP BY l.product_id, {month}"
        ),
        {"tz": tz.key, "modifier": sqlite_modifier(tz)},
    )


def product_month_usable(connection: Connection, tz: ZoneInfo) -> bool:
    """Whether kpi_product_month can answer exactly for ``tz`` (built and maintained)."""
    return (
        has_product_month(connection)
        and summaries_usable(connection, tz)
        and product_month_triggers_installed(connection)
    )
