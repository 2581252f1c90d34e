"""The fast query paths give the same answers as the straightforward computations they
replaced, on SQLite and PostgreSQL (fixture ``session``).

The data is generated with a fixed seed: 60 customers, a few hundred orders of every
status (many near local midnight, 17:00 UTC in Asia/Ho_Chi_Minh, and some at the same
instant as another order of the customer), campaign orders, NPS answers, referrals and
opportunities with stage histories. Each test computes its reference in plain Python or
pandas from the raw rows and compares.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import distinct, event, func
from sqlmodel import Session, select

from app.kpi import analyses_sales as analyses
from app.kpi import forecast
from app.kpi.base import KpiContext, KpiFilters
from app.kpi.period import Period
from app.kpi.rfm import RFM_COLUMNS, rfm_segments, rfm_table, segment_for, segments_of
from app.models import (
    COUNTED_ORDER_STATUSES,
    OPEN_STAGES,
    Campaign,
    CampaignChannel,
    CampaignPurpose,
    Customer,
    Interaction,
    Opportunity,
    OpportunityStageHistory,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Stage,
    SurveyResponse,
    User,
)
from app.services import customer_views as views
from app.services.access import Actor

TZ_HOURS = 7
AS_OF = dt.date(2026, 6, 15)
JUNE = Period(dt.date(2026, 6, 1), dt.date(2026, 7, 1))
MAY = Period(dt.date(2026, 5, 1), dt.date(2026, 6, 1))
LAST_YEAR = Period(dt.date(2025, 1, 1), dt.date(2026, 1, 1))
COUNTED = {status.value for status in COUNTED_ORDER_STATUSES}


def utc(*parts: int) -> dt.datetime:
    """An aware UTC datetime."""
    return dt.datetime(*parts, tzinfo=dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _local_day(value: dt.datetime) -> dt.date:
    return (_aware(value) + dt.timedelta(hours=TZ_HOURS)).date()


def _instant(day: dt.date) -> dt.datetime:
    """UTC instant of local midnight starting ``day``."""
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) - dt.timedelta(hours=TZ_HOURS)


@pytest.fixture
def world(session: Session) -> dict:
    """The generated data set (ids of what tests need)."""
    rng = random.Random(8)
    for user_id in (1, 2):
        session.add(
            User(id=user_id, username=f"owner{user_id}", display_name="Owner", role="staff")
        )
    session.flush()
    segments = ["SME", "Enterprise", None]
    for cid in range(1, 61):
        session.add(
            Customer(
                id=cid,
                code=f"KH{cid:04d}",
                name=f"Khách {rng.choice('ABCDE')} {cid}",
                segment=segments[cid % 3],
                owner_id={0: 1, 1: 2}.get(cid % 4),
                referred_by_id=cid - 1 if cid % 7 == 0 else None,
                created_at=utc(2024, 1 + cid % 12, 1 + cid % 27, 3),
            )
        )
    session.flush()
    for pid, category in enumerate(("Paper", "Ink", "Desks"), start=1):
        session.add(
            Product(
                id=pid,
                code=f"SP{pid}",
                name=category,
                category=category,
                unit_price=Decimal("100000"),
                unit_cost=Decimal("60000"),
            )
        )
    for camp in (1, 2):
        session.add(
            Campaign(
                id=camp,
                name=f"Campaign {camp}",
                channel=CampaignChannel.email,
                purpose=CampaignPurpose.acquisition,
                start_date=dt.date(2026, 1, 1),
                end_date=dt.date(2026, 12, 31),
                actual_cost=Decimal("5000000"),
            )
        )
    session.flush()
    statuses = list(OrderStatus)
    order_id = 0
    for cid in range(1, 55):  # customers 55..60 never order
        stamps = []
        for _ in range(rng.randint(1, 9)):
            day = dt.date(2024, 6, 1) + dt.timedelta(days=rng.randint(0, 760))
            # Half of the orders sit right at a local midnight (17:00 UTC) boundary.
            hour, minute = rng.choice([(16, 59), (17, 0), (3, 30), (rng.randint(0, 23), 5)])
            stamps.append(utc(day.year, day.month, day.day, hour, minute))
        if cid % 5 == 0:
            stamps.append(stamps[0])  # two orders at the same instant: the id decides
        for stamp in stamps:
            order_id += 1
            amount = Decimal(rng.randint(1, 90) * 100000)
            session.add(
                Order(
                    id=order_id,
                    code=f"DH{order_id:05d}",
                    customer_id=cid,
                    ordered_at=stamp,
                    status=rng.choice(statuses),
                    amount=amount,
                    cost=amount * Decimal("0.6"),
                    campaign_id=rng.choice([None, 1, 2]),
                )
            )
            session.flush()
            for line in range(rng.randint(1, 3)):
                session.add(
                    OrderLine(
                        order_id=order_id,
                        product_id=1 + (order_id + line) % 3,
                        quantity=Decimal(rng.randint(1, 5)),
                        unit_price=Decimal("100000"),
                        unit_cost=Decimal("60000"),
                        discount=Decimal("0.1") if line == 1 else Decimal(0),
                    )
                )
    for _ in range(120):
        session.add(
            SurveyResponse(
                customer_id=rng.randint(1, 60),
                nps=rng.randint(0, 10),
                answered_at=utc(2025, 1, 1) + dt.timedelta(hours=rng.randint(0, 13000)),
            )
        )
    stages = [Stage.lead, Stage.qualified, Stage.proposal, Stage.negotiation]
    for opp in range(1, 41):
        created = utc(2026, 3, 1) + dt.timedelta(hours=rng.randint(0, 2000))
        session.add(
            Opportunity(
                id=opp,
                customer_id=rng.randint(1, 60),
                title=f"Deal {opp}",
                amount=Decimal(1000000),
                created_at=created,
            )
        )
        session.flush()
        when, previous = created, None
        for stage in [*stages[: rng.randint(1, 4)], rng.choice([Stage.won, Stage.lost, None])]:
            if stage is None:
                break
            session.add(
                OpportunityStageHistory(
                    opportunity_id=opp, from_stage=previous, to_stage=stage, changed_at=when
                )
            )
            previous = stage
            # Some changes share an instant with the previous one (id order decides).
            when = when + dt.timedelta(hours=rng.choice([0, 5, 30, 200]))
    session.commit()
    return {"customers": 60}


def _orders(session: Session) -> pd.DataFrame:
    rows = session.exec(
        select(Order.id, Order.customer_id, Order.ordered_at, Order.status, Order.amount)
    ).all()
    frame = pd.DataFrame(rows, columns=["id", "customer_id", "ordered_at", "status", "amount"])
    frame["status"] = frame["status"].map(lambda status: getattr(status, "value", status))
    frame["ordered_at"] = frame["ordered_at"].map(_aware)
    return frame


# --------------------------------------------------------------------------- RFM
def _reference_rfm(
    orders: pd.DataFrame, as_of: dt.date, bins: int, weights: dict[str, float]
) -> pd.DataFrame:
    """The RFM table computed the slow, obvious way (the pre-optimisation code path)."""
    counted = orders[
        orders["status"].isin(COUNTED) & (orders["ordered_at"] < _instant(as_of + dt.timedelta(1)))
    ]
    rows = []
    for cid, group in sorted(counted.groupby("customer_id")):
        last = max(_local_day(value) for value in group["ordered_at"])
        rows.append((cid, last, len(group), float(sum(group["amount"]))))
    frame = pd.DataFrame(rows, columns=["customer_id", "last_order_day", "frequency", "monetary"])
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame["recency_days"] = [(as_of - day).days for day in frame["last_order_day"]]
    n = len(frame)

    def scores(values: pd.Series, higher: bool) -> pd.Series:
        ranked = (values if higher else -values).rank(method="min")
        return ranked.map(lambda rank: max(1, math.ceil(bins * rank / n))).astype("int64")

    frame["r_score"] = scores(frame["recency_days"], False)
    frame["f_score"] = scores(frame["frequency"], True)
    frame["m_score"] = scores(frame["monetary"], True)
    frame["weighted_score"] = (
        weights["r"] * frame["r_score"]
        + weights["f"] * frame["f_score"]
        + weights["m"] * frame["m_score"]
    )
    frame["segment"] = [
        segment_for(r, f, bins) for r, f in zip(frame["r_score"], frame["f_score"], strict=True)
    ]
    frame["recency_days"] = frame["recency_days"].astype("int64")
    frame["frequency"] = frame["frequency"].astype("int64")
    return frame[RFM_COLUMNS]


@pytest.mark.parametrize(
    ("as_of", "bins", "weights"),
    [
        (AS_OF, None, None),
        # An as-of day whose end cuts between orders placed at 16:59 and 17:00 UTC.
        (dt.date(2025, 3, 3), 4, {"r": 2.0, "f": 0.5, "m": 1.0}),
    ],
)
def test_rfm_table_equals_the_row_by_row_computation(
    session: Session, world: dict, as_of: dt.date, bins: int | None, weights: dict | None
) -> None:
    table = rfm_table(KpiContext.create(session=session), as_of=as_of, weights=weights, bins=bins)
    expected = _reference_rfm(
        _orders(session), as_of, bins or 5, {"r": 1.0, "f": 1.0, "m": 1.0, **(weights or {})}
    )
    pd.testing.assert_frame_equal(table.reset_index(drop=True), expected, check_dtype=False)
    assert table["r_score"].dtype == "int64" and table["monetary"].dtype == "float64"


def test_rfm_of_a_staff_user_ranks_their_customers_only(session: Session, world: dict) -> None:
    ctx = KpiContext.create(session=session, filters=KpiFilters(visible_to_owner_id=1))
    table = rfm_table(ctx, as_of=AS_OF)
    orders = _orders(session)
    # User 1 sees what they own and what nobody owns; user 2's customers (cid % 4 == 1)
    # are out, and the quantile scores rank the visible customers among themselves.
    visible = orders[orders["customer_id"] % 4 != 1]
    expected = _reference_rfm(visible, AS_OF, 5, {"r": 1.0, "f": 1.0, "m": 1.0})
    pd.testing.assert_frame_equal(table.reset_index(drop=True), expected, check_dtype=False)


def test_segments_of_a_table_equal_rfm_segments(session: Session, world: dict) -> None:
    ctx = KpiContext.create(session=session)
    pd.testing.assert_frame_equal(
        segments_of(rfm_table(ctx, as_of=AS_OF)), rfm_segments(ctx, as_of=AS_OF)
    )


# --------------------------------------------------------------------------- loyalty
def _reference_migration(session: Session, period: Period, previous: Period) -> pd.DataFrame:
    """The matrix from two separate level subqueries joined (the former query)."""
    ctx = KpiContext.create(session=session)
    current = analyses._levels_subquery(ctx, as_of_end=period.end, population_end=period.end)
    before = analyses._levels_subquery(
        ctx, as_of_end=previous.end, population_end=period.end, name="levels_before"
    )
    rows = session.exec(
        select(before.c.level, current.c.level, func.count())
        .join(current, current.c.customer_id == before.c.customer_id)
        .group_by(before.c.level, current.c.level)
    ).all()
    matrix = pd.DataFrame(
        0, index=pd.Index(analyses.LEVELS, name="previous_level"), columns=list(analyses.LEVELS)
    )
    matrix.columns.name = "level"
    for previous_level, level, count in rows:
        matrix.loc[previous_level, level] = int(count)
    return matrix


@pytest.mark.parametrize(("period", "previous"), [(JUNE, MAY), (JUNE, LAST_YEAR), (MAY, JUNE)])
def test_loyalty_migration_in_one_pass_equals_the_joined_levels(
    session: Session, world: dict, period: Period, previous: Period
) -> None:
    ctx = KpiContext.create(session=session)
    migration = analyses.loyalty_migration(ctx, period=period, previous=previous)
    pd.testing.assert_frame_equal(migration, _reference_migration(session, period, previous))
    # The ladder the Segments page derives from the matrix is the ladder itself.
    pd.testing.assert_frame_equal(
        analyses.ladder_of(migration), analyses.loyalty_ladder(ctx, period=period)
    )


def test_ladder_of_an_empty_matrix_is_empty(session: Session) -> None:
    ctx = KpiContext.create(session=session)
    migration = analyses.loyalty_migration(ctx, period=JUNE, previous=MAY)
    assert migration.empty
    assert analyses.ladder_of(migration).empty
    assert analyses.loyalty_ladder(ctx, period=JUNE).empty


# --------------------------------------------------------------------------- campaigns
@pytest.mark.parametrize("period", [JUNE, MAY, Period(dt.date(2026, 1, 1), dt.date(2026, 7, 1))])
def test_campaign_new_customers_are_first_counted_orders(
    session: Session, world: dict, period: Period
) -> None:
    orders = _orders(session)
    campaign = dict(session.exec(select(Order.id, Order.campaign_id)).all())
    counted = orders[orders["status"].isin(COUNTED)].sort_values(["ordered_at", "id"])
    first = counted.groupby("customer_id").head(1)
    start, end = _instant(period.start), _instant(period.end)
    expected: dict[int, int] = defaultdict(int)
    for order_id, at in zip(first["id"], first["ordered_at"], strict=True):
        if campaign[order_id] is not None and start <= at < end:
            expected[campaign[order_id]] += 1
    results = analyses.campaign_results(KpiContext.create(session=session), period=period)
    got = {
        int(cid): int(new)
        for cid, new in zip(results["campaign_id"], results["new_customers"], strict=True)
    }
    assert got == {1: expected.get(1, 0), 2: expected.get(2, 0)}
    # The half year holds some acquisitions, so the comparison is not vacuous.
    assert sum(got.values()) > 0 or period.start.month != 1


def test_campaign_results_are_computed_once_per_context(session: Session, world: dict) -> None:
    ctx = KpiContext.create(session=session)
    first = analyses.campaign_results(ctx, period=JUNE)
    first.loc[:, "name"] = "changed by the caller"
    # A caller's edits never leak into the memo the channel view reads.
    again = analyses.campaign_results(ctx, period=JUNE)
    assert (again["name"] != "changed by the caller").all()
    channels = analyses.campaigns_by_channel(ctx, period=JUNE)
    assert int(channels["new_customers"].sum()) == int(again["new_customers"].sum())


# --------------------------------------------------------------------------- pipeline
def test_time_in_stage_equals_consecutive_history_rows(session: Session, world: dict) -> None:
    rows = session.exec(
        select(
            OpportunityStageHistory.id,
            OpportunityStageHistory.opportunity_id,
            OpportunityStageHistory.to_stage,
            OpportunityStageHistory.changed_at,
        )
    ).all()
    by_opportunity: dict[int, list] = defaultdict(list)
    for row_id, opp, stage, changed in rows:
        by_opportunity[opp].append((_aware(changed), row_id, getattr(stage, "value", stage)))
    period = Period(dt.date(2026, 3, 1), dt.date(2026, 7, 1))
    start, end = _instant(period.start), _instant(period.end)
    open_stages = {stage.value for stage in OPEN_STAGES}
    durations: dict[str, list[float]] = defaultdict(list)
    for changes in by_opportunity.values():
        changes = sorted(change for change in changes if change[0] < end)
        for (entered, _, stage), (left, _, _) in zip(changes, changes[1:], strict=False):
            if stage in open_stages and start <= left < end:
                durations[stage].append((left - entered).total_seconds() / 86400)
    table = analyses.time_in_stage(KpiContext.create(session=session), period=period)
    assert dict(zip(table["stage"], table["n"], strict=True)) == {
        stage.value: len(durations[stage.value]) for stage in OPEN_STAGES
    }
    assert sum(table["n"]) > 0
    for stage, median in zip(table["stage"], table["median_days"], strict=True):
        values = sorted(durations[stage])
        if values:
            expected = pd.Series(values).median()
            assert median == pytest.approx(expected, abs=1e-6)


# --------------------------------------------------------------------------- forecast
def test_demand_forecast_and_backtest_share_one_history_query(
    session: Session, world: dict
) -> None:
    ctx = KpiContext.create(session=session)
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        statements.append(statement)

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", record)
    try:
        demand = forecast.demand_forecast(ctx, as_of=AS_OF, horizon=3)
        backtest = forecast.forecast_backtest(ctx, as_of=AS_OF, horizon=3)
    finally:
        event.remove(bind, "before_cursor_execute", record)
    # One history query: the order lines, or their summary kpi_product_month (0005);
    # the summary's catalogue checks (table, triggers) sum nothing.
    history = [
        statement
        for statement in statements
        if "sum(" in statement and ("order_line" in statement or "kpi_product_month" in statement)
    ]
    assert len(history) == 1
    assert set(demand["category"]) == {"Paper", "Ink", "Desks"} == set(backtest["category"])
    # The history equals the order lines summed per category and local month.
    orders = _orders(session).set_index("id")
    lines = session.exec(select(OrderLine.order_id, OrderLine.product_id, OrderLine.quantity)).all()
    names = {1: "Paper", 2: "Ink", 3: "Desks"}
    expected: dict[tuple[str, str], float] = defaultdict(float)
    for order_id, product_id, quantity in lines:
        order = orders.loc[order_id]
        if order["status"] in COUNTED and order["ordered_at"] < _instant(dt.date(2026, 6, 1)):
            month = _local_day(order["ordered_at"]).strftime("%Y-%m")
            expected[(names[product_id], month)] += float(quantity)
    actual = demand[demand["kind"] == "actual"]
    got = {
        (category, month): quantity
        for category, month, quantity in zip(
            actual["category"], actual["month"], actual["quantity"], strict=True
        )
        if quantity
    }
    assert got == dict(expected)


# --------------------------------------------------------------------------- list
@pytest.mark.parametrize(
    ("sort", "descending"), [("name", True), ("segment", False), ("created_at", True)]
)
def test_list_page_two_equals_the_pandas_sorted_full_list(
    session: Session, world: dict, sort: str, descending: bool
) -> None:
    actor = Actor.system()
    query = views.CustomerQuery(sort=sort, descending=descending)
    page = views.list_customers(session=session, actor=actor, query=query, page=2, page_size=25)
    every = views.export_customers(session=session, actor=actor, query=views.CustomerQuery())
    full = every.assign(
        _null=every[{"created_at": "created_on"}.get(sort, sort)].isna(),
        _key=every[{"created_at": "created_on"}.get(sort, sort)],
    )
    if sort == "created_at":
        stamps = dict(session.exec(select(Customer.id, Customer.created_at)).all())
        full["_key"] = full["id"].map(lambda cid: _aware(stamps[cid]))
    # NULLs last in both directions, ties broken by id in the sort direction.
    ordered = pd.concat(
        [
            full[~full["_null"]].sort_values(
                ["_key", "id"], ascending=not descending, kind="mergesort"
            ),
            full[full["_null"]].sort_values("id", ascending=not descending),
        ]
    )
    assert page.total == 60 and page.pages == 3
    assert page.rows["id"].tolist() == ordered["id"].iloc[25:50].tolist()


# --------------------------------------------------------------------------- plans
def _plan(session: Session, statement) -> str:  # noqa: ANN001
    """SQLite's plan of a statement, as executed (IN lists expanded, values bound)."""
    executed: list[tuple] = []

    def record(conn, cursor, sql, parameters, *args) -> None:  # noqa: ANN001
        executed.append((sql, parameters))

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", record)
    try:
        session.exec(statement).all()
    finally:
        event.remove(bind, "before_cursor_execute", record)
    sql, parameters = executed[-1]
    rows = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)
    return " | ".join(row[3] for row in rows)


def test_sqlite_plans_use_the_covering_indexes(session: Session, world: dict) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite query plans")
    ctx = KpiContext.create(session=session)
    end = ctx.instant(AS_OF)
    per_customer = (
        select(Order.customer_id, func.max(Order.ordered_at), func.sum(Order.amount))
        .where(*ctx.counted_orders(None, end))
        .group_by(Order.customer_id)
    )
    assert "COVERING INDEX ix_sales_order_customer_ordered" in _plan(session, per_customer)
    per_period = select(func.sum(Order.amount - Order.cost)).where(
        *ctx.counted_orders(ctx.instant(dt.date(2026, 1, 1)), end)
    )
    assert "COVERING INDEX ix_sales_order_ordered_status" in _plan(session, per_period)
    history = OpportunityStageHistory
    latest = (
        select(history.id)
        .where(history.opportunity_id == 3, history.changed_at < end)
        .order_by(history.changed_at.desc(), history.id.desc())
        .limit(1)
    )
    plan = _plan(session, latest)
    assert "ix_opportunity_stage_history_opportunity_changed" in plan
    assert "TEMP B-TREE" not in plan
    # "Interactions logged" (overview activity line, evaluation): count and distinct users
    # of a period from the index alone (0006).
    logged = select(func.count(Interaction.id), func.count(distinct(Interaction.user_id))).where(
        Interaction.occurred_at >= ctx.instant(dt.date(2026, 1, 1)), Interaction.occurred_at < end
    )
    assert "COVERING INDEX ix_interaction_occurred_cover" in _plan(session, logged)
