"""The demo generator: deterministic, internally consistent, and shaped for the KPIs."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel

from app.db import create_raw_engine, dispose_engines, get_engine
from app.demo import SCALES, database_is_empty, seed_demo
from app.errors import Conflict, InvalidInput
from app.models import (
    EMAIL_PATTERN,
    PHONE_PATTERN,
    Campaign,
    CampaignMember,
    Complaint,
    Customer,
    Opportunity,
    OpportunityStageHistory,
    Order,
    OrderLine,
    SurveyResponse,
    Target,
)
from tests.conftest import DEMO_SEED, DEMO_TODAY, fresh_pg_database

VN = ZoneInfo("Asia/Ho_Chi_Minh")
# The end of DEMO_TODAY in Vietnam: nothing may happen after it.
DEMO_END = dt.datetime.combine(DEMO_TODAY + dt.timedelta(days=1), dt.time(0), VN)
DEMO_START = dt.datetime.combine(DEMO_TODAY - dt.timedelta(days=3 * 366), dt.time(0), VN)
SLA_HOURS = {"critical": 4, "high": 24, "medium": 72, "low": 168}
OPEN_COMPLAINT = ("open", "in_progress", "reopened")
COUNTED = ("confirmed", "delivered", "paid")
FILLED_TABLES = [
    "app_user",
    "product",
    "campaign",
    "partner",
    "partner_link",
    "customer",
    "contact",
    "sales_order",
    "order_line",
    "interaction",
    "inquiry",
    "campaign_member",
    "opportunity",
    "opportunity_stage_history",
    "complaint",
    "survey_response",
    "target",
]


# --------------------------------------------------------------------------- helpers
def _copy_template(template: Path, target: Path) -> str:
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def _seed(url: str, seed: int = DEMO_SEED) -> dict[str, int]:
    engine = create_raw_engine(url)
    try:
        return seed_demo(engine=engine, scale="small", seed=seed, today=DEMO_TODAY)
    finally:
        engine.dispose()


def _fingerprint(engine: Engine) -> dict[str, Any]:
    """Counts and sums that must agree between runs and between databases."""
    result: dict[str, Any] = {}
    with engine.connect() as conn:
        for name in FILLED_TABLES:
            result[f"rows:{name}"] = conn.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar()
        order, line = Order.__table__, OrderLine.__table__
        result["order_amount"] = conn.execute(select(func.sum(order.c.amount))).scalar()
        result["order_cost"] = conn.execute(select(func.sum(order.c.cost))).scalar()
        result["line_quantity"] = conn.execute(select(func.sum(line.c.quantity))).scalar()
        survey = SurveyResponse.__table__
        result["nps"] = conn.execute(select(func.sum(survey.c.nps))).scalar()
        result["csat"] = conn.execute(select(func.sum(survey.c.csat))).scalar()
        opportunity = Opportunity.__table__
        result["pipeline"] = conn.execute(select(func.sum(opportunity.c.amount))).scalar()
        result["first_order"] = conn.execute(select(func.min(order.c.ordered_at))).scalar()
        result["last_order"] = conn.execute(select(func.max(order.c.ordered_at))).scalar()
        for label, sql in {
            "order_status": "SELECT status, COUNT(*) FROM sales_order GROUP BY status",
            "stage": "SELECT stage, COUNT(*) FROM opportunity GROUP BY stage",
            "complaint_status": "SELECT status, COUNT(*) FROM complaint GROUP BY status",
            "lifecycle": "SELECT lifecycle, COUNT(*) FROM customer GROUP BY lifecycle",
            "province": "SELECT province, COUNT(*) FROM customer GROUP BY province",
        }.items():
            result[label] = dict(conn.execute(text(sql)).all())
        result["name_chars"] = conn.execute(text("SELECT SUM(LENGTH(name)) FROM customer")).scalar()
        result["first_customers"] = [
            tuple(row)
            for row in conn.execute(
                text("SELECT code, name, phone, email FROM customer ORDER BY id LIMIT 20")
            )
        ]
    return result


def _sqlite_digest(url: str) -> str:
    """A hash of every row of every table, in primary-key order."""
    path = url.removeprefix("sqlite:///")
    digest = hashlib.sha256()
    with sqlite3.connect(path) as conn:
        for name in FILLED_TABLES + ["setting", "audit_log"]:
            for row in conn.execute(f'SELECT * FROM "{name}" ORDER BY 1'):
                digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def seeded_pg_template(pg_template: str | None) -> Iterator[str | None]:
    """A PostgreSQL database seeded once with the small dataset, used as a template."""
    if pg_template is None:
        yield None
        return
    url, drop = fresh_pg_database(pg_template)
    _seed(url)  # disposes its engine: CREATE DATABASE ... TEMPLATE needs no open sessions
    yield make_url(url).database
    drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded_db_url(request: pytest.FixtureRequest, seeded_pg_template: str | None) -> Iterator[str]:
    """A fresh copy of the seeded small dataset, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield request.getfixturevalue("seeded_sqlite_url")
        return
    if seeded_pg_template is None:
        pytest.skip("PostgreSQL not available (run through `make test`)")
    url, drop = fresh_pg_database(seeded_pg_template)
    yield url
    dispose_engines()
    drop()


# --------------------------------------------------------------------------- API
def test_scales_have_the_documented_medium_volumes() -> None:
    medium = SCALES["medium"]
    assert (medium.customers, medium.interactions, medium.orders) == (100_000, 1_000_000, 500_000)
    assert (medium.complaints, medium.opportunities, medium.surveys) == (50_000, 50_000, 100_000)
    assert SCALES["large"].customers == 10 * medium.customers
    assert set(SCALES) == {"small", "medium", "large"}


def test_unknown_scale_is_invalid_input_and_writes_nothing(sqlite_url: str) -> None:
    engine = get_engine(sqlite_url)
    with pytest.raises(InvalidInput) as caught:
        seed_demo(engine=engine, scale="huge", today=DEMO_TODAY)
    assert caught.value.field_errors == {"scale": "must be one of small, medium, large"}
    assert database_is_empty(engine)


def test_seeding_a_non_empty_database_conflicts_and_changes_nothing(db_url: str) -> None:
    engine = get_engine(db_url)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            Customer.__table__.insert(),
            [
                {
                    "code": "KH999999",
                    "name": "Khách có sẵn",
                    "kind": "person",
                    "is_foreign": False,
                    "lifecycle": "lead",
                    "created_at": now,
                    "updated_at": now,
                    "archived": False,
                }
            ],
        )
    assert not database_is_empty(engine)
    with pytest.raises(Conflict, match="already holds customers"):
        seed_demo(engine=engine, scale="small", seed=DEMO_SEED, today=DEMO_TODAY)
    with engine.connect() as conn:
        for name in FILLED_TABLES:
            expected = 1 if name == "customer" else 0
            assert conn.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar() == expected


# --------------------------------------------------------------------------- determinism
def test_same_seed_gives_identical_content_and_another_seed_differs(
    tmp_path: Path, sqlite_template: Path, seeded_sqlite_template: Path
) -> None:
    first = _copy_template(seeded_sqlite_template, tmp_path / "first.db")
    second = _copy_template(sqlite_template, tmp_path / "second.db")
    other = _copy_template(sqlite_template, tmp_path / "other.db")
    counts = _seed(second)
    _seed(other, seed=DEMO_SEED + 1)

    assert _sqlite_digest(first) == _sqlite_digest(second)
    engines = [create_raw_engine(url) for url in (first, second, other)]
    try:
        a, b, c = (_fingerprint(engine) for engine in engines)
    finally:
        for engine in engines:
            engine.dispose()
    assert a == b
    assert {name: a[f"rows:{name}"] for name in FILLED_TABLES} == counts
    assert a["order_amount"] != c["order_amount"]
    assert a["order_cost"] != c["order_cost"]
    assert a["nps"] != c["nps"]
    assert a["first_customers"] != c["first_customers"]


def test_postgresql_gets_the_same_data_as_sqlite(pg_url: str, seeded_sqlite_url: str) -> None:
    counts = _seed(pg_url)
    pg, lite = get_engine(pg_url), get_engine(seeded_sqlite_url)
    expected = _fingerprint(lite)
    assert _fingerprint(pg) == expected
    assert counts == {name: expected[f"rows:{name}"] for name in FILLED_TABLES}


def test_small_scale_volumes(seeded_sqlite_url: str) -> None:
    fingerprint = _fingerprint(get_engine(seeded_sqlite_url))
    small = SCALES["small"]
    assert fingerprint["rows:customer"] == small.customers
    assert fingerprint["rows:sales_order"] == small.orders
    assert fingerprint["rows:interaction"] == small.interactions
    assert fingerprint["rows:complaint"] == small.complaints
    assert fingerprint["rows:opportunity"] == small.opportunities
    assert fingerprint["rows:survey_response"] == small.surveys
    assert fingerprint["rows:target"] == 13 * 3


# --------------------------------------------------------------------------- consistency
def test_nothing_happens_before_its_customer_or_after_today(seeded_db_url: str) -> None:
    engine = get_engine(seeded_db_url)
    dated = {
        "sales_order": "ordered_at",
        "interaction": "occurred_at",
        "complaint": "opened_at",
        "survey_response": "answered_at",
        "inquiry": "asked_at",
        "opportunity": "created_at",
        "campaign_member": "contacted_at",
        "contact": "created_at",
    }
    with engine.connect() as conn:
        for table, column in dated.items():
            early = conn.execute(
                text(
                    f'SELECT COUNT(*) FROM "{table}" t JOIN customer c ON c.id = t.customer_id '
                    f"WHERE t.{column} < c.created_at"
                )
            ).scalar()
            assert early == 0, f"{table}.{column} before the customer was created"
        columns = [
            (Customer, "created_at"),
            (Customer, "updated_at"),
            (Order, "ordered_at"),
            (Complaint, "opened_at"),
            (Complaint, "first_response_at"),
            (Complaint, "resolved_at"),
            (SurveyResponse, "answered_at"),
            (Opportunity, "closed_at"),
            (OpportunityStageHistory, "changed_at"),
            (CampaignMember, "responded_at"),
        ]
        for model, column in columns:
            col = model.__table__.c[column]
            low, high = conn.execute(select(func.min(col), func.max(col))).one()
            assert DEMO_START <= low and high < DEMO_END, f"{model.__name__}.{column}"
        interaction_max = conn.execute(text("SELECT MAX(occurred_at) FROM interaction")).scalar()
    assert str(interaction_max) < str(DEMO_END.astimezone(dt.UTC).replace(tzinfo=None))


def test_order_amount_and_cost_equal_their_lines_exactly(seeded_db_url: str) -> None:
    engine = get_engine(seeded_db_url)
    order, line = Order.__table__, OrderLine.__table__
    amounts: dict[int, Decimal] = defaultdict(Decimal)
    costs: dict[int, Decimal] = defaultdict(Decimal)
    with engine.connect() as conn:
        for order_id, quantity, price, cost, discount in conn.execute(
            select(
                line.c.order_id,
                line.c.quantity,
                line.c.unit_price,
                line.c.unit_cost,
                line.c.discount,
            )
        ):
            assert discount in (Decimal(0), Decimal("0.05"), Decimal("0.1"))
            assert Decimal(0) <= cost <= price
            amounts[order_id] += quantity * price * (1 - discount)
            costs[order_id] += quantity * cost
        orders = conn.execute(select(order.c.id, order.c.amount, order.c.cost, order.c.currency))
        rows = orders.all()
    assert len(amounts) == len(rows)  # every order has at least one line
    cent = Decimal("0.01")
    for order_id, amount, cost, currency in rows:
        assert amount == amounts[order_id].quantize(cent), order_id
        assert cost == costs[order_id].quantize(cent), order_id
        assert currency == "VND"


def test_opportunity_histories_match_their_outcome(seeded_db_url: str) -> None:
    engine = get_engine(seeded_db_url)
    history: dict[int, list[Any]] = defaultdict(list)
    hist = OpportunityStageHistory.__table__
    with engine.connect() as conn:
        for row in conn.execute(select(hist).order_by(hist.c.opportunity_id, hist.c.id)):
            history[row.opportunity_id].append(row)
        opportunities = conn.execute(select(Opportunity.__table__)).all()
    flow = ["lead", "qualified", "proposal", "negotiation", "won"]
    outcomes = defaultdict(int)
    for opp in opportunities:
        rows = history[opp.id]
        assert rows, opp.id
        assert (rows[0].from_stage, rows[0].to_stage) == (None, "lead")
        assert rows[0].changed_at == opp.created_at
        for before, after in zip(rows, rows[1:], strict=False):
            assert after.from_stage == before.to_stage
            assert after.changed_at > before.changed_at
            assert after.to_stage == "lost" or (
                flow.index(after.to_stage) == flow.index(before.to_stage) + 1
            )
        last = rows[-1]
        assert opp.stage == last.to_stage
        outcomes[opp.stage] += 1
        if opp.stage in ("won", "lost"):
            assert opp.closed_at == last.changed_at
            assert (opp.lost_reason is not None) == (opp.stage == "lost")
        else:
            assert opp.closed_at is None and opp.lost_reason is None
            assert opp.expected_close is not None
    assert outcomes["won"] and outcomes["lost"] and outcomes["lead"] and outcomes["negotiation"]
    lost_at = {history[o.id][-1].from_stage for o in opportunities if o.stage == "lost"}
    assert {"lead", "qualified", "proposal", "negotiation"} <= lost_at


def test_complaint_timestamps_follow_their_status(seeded_db_url: str) -> None:
    engine = get_engine(seeded_db_url)
    with engine.connect() as conn:
        complaints = conn.execute(select(Complaint.__table__)).all()
    for row in complaints:
        if row.first_response_at is not None:
            assert row.first_response_at >= row.opened_at
        if row.resolved_at is not None:
            assert row.first_response_at is not None
            assert row.resolved_at >= row.first_response_at
        if row.status in OPEN_COMPLAINT:
            assert row.resolved_at is None
        else:
            assert row.resolved_at is not None and row.resolution


def test_every_foreign_key_and_partner_link_is_valid(seeded_db_url: str) -> None:
    engine = get_engine(seeded_db_url)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        for table in SQLModel.metadata.sorted_tables:
            for fk in table.foreign_keys:
                parent = fk.column.table
                orphans = conn.execute(
                    text(
                        f'SELECT COUNT(*) FROM "{table.name}" t '
                        f"WHERE t.{fk.parent.name} IS NOT NULL AND NOT EXISTS "
                        f'(SELECT 1 FROM "{parent.name}" p '
                        f"WHERE p.{fk.column.name} = t.{fk.parent.name})"
                    )
                ).scalar()
                assert orphans == 0, f"{table.name}.{fk.parent.name}"
        both_or_none = conn.execute(
            text(
                "SELECT COUNT(*) FROM partner_link "
                "WHERE (other_partner_id IS NULL) = (customer_id IS NULL)"
            )
        ).scalar()
        to_partner = conn.execute(
            text("SELECT COUNT(*) FROM partner_link WHERE other_partner_id IS NOT NULL")
        ).scalar()
        to_customer = conn.execute(
            text("SELECT COUNT(*) FROM partner_link WHERE customer_id IS NOT NULL")
        ).scalar()
        kinds = conn.execute(text("SELECT COUNT(DISTINCT kind) FROM partner")).scalar()
        empty = [
            conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar()
            for t in ("setting", "audit_log")
        ]
    assert both_or_none == 0 and to_partner > 0 and to_customer > 0
    assert kinds == 4
    assert empty == [0, 0]


def test_new_rows_get_fresh_ids_after_seeding(seeded_db_url: str) -> None:
    # PostgreSQL sequences must have been moved past the explicit ids.
    engine = get_engine(seeded_db_url)
    with engine.begin() as conn:
        before = conn.execute(select(func.max(Target.__table__.c.id))).scalar()
        new_id = conn.execute(
            Target.__table__.insert().returning(Target.__table__.c.id),
            {
                "kpi_id": "revenue",
                "period_start": dt.date(2027, 1, 1),
                "period_end": dt.date(2027, 2, 1),
                "target_value": Decimal(1),
                "created_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            },
        ).scalar()
    assert new_id == before + 1


def test_campaign_members_are_contacted_in_the_window_and_conversions_have_orders(
    seeded_db_url: str,
) -> None:
    engine = get_engine(seeded_db_url)
    with engine.connect() as conn:
        campaigns = {row.id: row for row in conn.execute(select(Campaign.__table__))}
        members = conn.execute(select(CampaignMember.__table__)).all()
        attributed: dict[tuple[int, int], list[dt.datetime]] = defaultdict(list)
        order = Order.__table__
        for customer_id, campaign_id, ordered_at in conn.execute(
            select(order.c.customer_id, order.c.campaign_id, order.c.ordered_at).where(
                order.c.campaign_id.is_not(None)
            )
        ):
            attributed[(customer_id, campaign_id)].append(ordered_at)
    responded = converted = 0
    for member in members:
        campaign = campaigns[member.campaign_id]
        local_day = member.contacted_at.astimezone(VN).date()
        assert campaign.start_date <= local_day <= campaign.end_date
        if member.responded:
            responded += 1
            assert member.responded_at >= member.contacted_at
        else:
            assert member.responded_at is None and not member.converted
        if member.converted:
            converted += 1
            orders = attributed[(member.customer_id, member.campaign_id)]
            assert any(when > member.contacted_at for when in orders)
    assert 0.15 <= responded / len(members) <= 0.35
    assert converted > 0
    # Every attributed order belongs to a converted member.
    converted_pairs = {(m.customer_id, m.campaign_id) for m in members if m.converted}
    assert set(attributed) <= converted_pairs


# --------------------------------------------------------------------------- KPI shape
def _rows(url: str, sql: str) -> list[Any]:
    with get_engine(url).connect() as conn:
        return conn.execute(text(sql)).all()


def test_complaints_meet_and_breach_their_sla(seeded_sqlite_url: str) -> None:
    with get_engine(seeded_sqlite_url).connect() as conn:
        complaints = conn.execute(select(Complaint.__table__)).all()
    within = breached = open_past_sla = 0
    for row in complaints:
        sla = dt.timedelta(hours=SLA_HOURS[row.severity])
        if row.resolved_at is not None:
            if row.resolved_at - row.opened_at <= sla:
                within += 1
            else:
                breached += 1
        elif row.opened_at + sla < DEMO_END:
            open_past_sla += 1
    assert within > breached > 0
    assert open_past_sla > 0
    assert {row.severity for row in complaints} == set(SLA_HOURS)


def test_unhappy_customers_score_lower(seeded_sqlite_url: str) -> None:
    with_open, without = _rows(
        seeded_sqlite_url,
        """
        SELECT AVG(CASE WHEN u.customer_id IS NOT NULL THEN s.nps END),
               AVG(CASE WHEN u.customer_id IS NULL THEN s.nps END)
        FROM survey_response s
        LEFT JOIN (SELECT DISTINCT customer_id FROM complaint
                   WHERE status IN ('open', 'in_progress', 'reopened')) u
          ON u.customer_id = s.customer_id
    """,
    )[0]
    assert with_open < without - 1
    (nps,) = _rows(
        seeded_sqlite_url,
        """
        SELECT (SUM(nps >= 9) - SUM(nps <= 6)) * 100.0 / COUNT(nps) FROM survey_response
    """,
    )[0]
    assert 0 < nps < 60
    only_one = _rows(
        seeded_sqlite_url,
        """
        SELECT SUM(nps IS NULL), SUM(csat IS NULL), SUM(nps IS NULL AND csat IS NULL),
               SUM(complaint_id IS NOT NULL)
        FROM survey_response
    """,
    )[0]
    assert only_one[0] > 0 and only_one[1] > 0 and only_one[2] == 0 and only_one[3] > 0


def test_lifecycle_matches_orders_and_there_are_churners(seeded_sqlite_url: str) -> None:
    year_ago = (DEMO_END - dt.timedelta(days=365)).astimezone(dt.UTC)
    rows = _rows(
        seeded_sqlite_url,
        """
        SELECT c.lifecycle, MAX(o.ordered_at)
        FROM customer c LEFT JOIN sales_order o
          ON o.customer_id = c.id AND o.status IN ('confirmed', 'delivered', 'paid')
        GROUP BY c.id, c.lifecycle
    """,
    )
    lifecycles = defaultdict(int)
    for lifecycle, last_order in rows:
        lifecycles[lifecycle] += 1
        if last_order is None:
            assert lifecycle in ("lead", "prospect")
        else:
            recent = dt.datetime.fromisoformat(last_order).replace(tzinfo=dt.UTC)
            assert lifecycle == ("customer" if recent >= year_ago else "inactive")
    assert all(lifecycles[name] > 0 for name in ("lead", "prospect", "customer", "inactive"))


def test_customer_records_have_the_expected_imperfections(seeded_sqlite_url: str) -> None:
    customers = _rows(
        seeded_sqlite_url,
        """
        SELECT id, name, phone, email, channel, referred_by_id, kind, tax_code, archived,
               province, region, created_at FROM customer ORDER BY id
    """,
    )
    by_id = {row.id: row for row in customers}
    referred = [row for row in customers if row.referred_by_id is not None]
    assert 0.04 < len(referred) / len(customers) < 0.12
    for row in referred:
        assert row.channel == "referral"
        assert by_id[row.referred_by_id].created_at <= row.created_at
    assert any(row.phone is None for row in customers)
    assert any(row.email is None for row in customers)
    phones = defaultdict(int)
    for row in customers:
        if row.phone:
            phones[row.phone] += 1
            assert re.match(PHONE_PATTERN, row.phone)
        if row.email:
            assert re.match(EMAIL_PATTERN, row.email)
        if row.kind == "organisation":
            assert row.tax_code and re.match(r"^[0-9-]{10,14}$", row.tax_code)
        assert row.region in ("Miền Bắc", "Miền Trung", "Miền Nam")
    assert any(count > 1 for count in phones.values())
    # A duplicate typed in capitals without accents ("CONG TY TNHH ...").
    assert any(row.name.isupper() and row.name.isascii() for row in customers)
    archived = sum(row.archived for row in customers)
    assert 0 < archived < 0.03 * len(customers)
    assert [row.id for row in customers] == list(range(1, len(customers) + 1))
    codes = _rows(seeded_sqlite_url, "SELECT MIN(code), MAX(code) FROM customer")[0]
    assert tuple(codes) == ("KH000001", f"KH{len(customers):06d}")


def test_orders_show_tet_seasonality_and_a_mix_of_statuses(seeded_sqlite_url: str) -> None:
    by_month = dict(
        _rows(
            seeded_sqlite_url,
            """
        SELECT CAST(strftime('%m', ordered_at) AS INTEGER), COUNT(*) FROM sales_order
        WHERE ordered_at >= '2025-01-01' AND ordered_at < '2026-01-01' GROUP BY 1
    """,
        )
    )
    assert by_month[1] > by_month[7] * 1.3
    statuses = dict(
        _rows(seeded_sqlite_url, "SELECT status, COUNT(*) FROM sales_order GROUP BY status")
    )
    total = sum(statuses.values())
    assert statuses["paid"] + statuses["delivered"] > 0.8 * total
    assert 0.01 < statuses["draft"] / total < 0.04
    assert 0.02 < statuses["cancelled"] / total < 0.05
    recent = _rows(
        seeded_sqlite_url,
        """
        SELECT MIN(ordered_at) FROM sales_order WHERE status = 'confirmed'
    """,
    )[0][0]
    assert recent >= "2026-05-01"
    flags = _rows(
        seeded_sqlite_url,
        """
        SELECT AVG(customised), SUM(discount > 0) FROM order_line
    """,
    )[0]
    assert 0.02 < flags[0] < 0.07 and flags[1] > 0
    promoted = _rows(
        seeded_sqlite_url,
        """
        SELECT SUM(promotion IS NOT NULL), SUM(campaign_id IS NOT NULL) FROM sales_order
    """,
    )[0]
    assert promoted[0] > promoted[1] > 0


def test_inquiries_targets_and_users(seeded_sqlite_url: str) -> None:
    inquiries = dict(
        _rows(seeded_sqlite_url, "SELECT status, COUNT(*) FROM inquiry GROUP BY status")
    )
    assert set(inquiries) == {"open", "fulfilled", "unmet"}
    assert (
        _rows(
            seeded_sqlite_url,
            """
        SELECT COUNT(*) FROM inquiry WHERE (status = 'unmet') <> (reason IS NOT NULL)
    """,
        )[0][0]
        == 0
    )
    followed = _rows(
        seeded_sqlite_url,
        """
        SELECT COUNT(*) FROM inquiry i WHERE EXISTS (
          SELECT 1 FROM sales_order o WHERE o.customer_id = i.customer_id
          AND o.ordered_at > i.asked_at AND o.ordered_at <= datetime(i.asked_at, '+30 days'))
    """,
    )[0][0]
    assert 0.2 < followed / sum(inquiries.values()) < 0.9

    with get_engine(seeded_sqlite_url).connect() as conn:
        targets = conn.execute(select(Target.__table__)).all()
    assert {t.kpi_id for t in targets} == {"revenue", "new_customers", "nps"}
    starts = sorted({t.period_start for t in targets})
    assert starts[0] == dt.date(2025, 6, 1) and starts[-1] == dt.date(2026, 6, 1)
    for target in targets:
        assert target.period_start.day == 1 and target.segment is None
        following = (target.period_start + dt.timedelta(days=32)).replace(day=1)
        assert target.period_end == following and target.target_value > 0

    users = {
        row.username: (row.role, row.department, row.password_hash)
        for row in _rows(
            seeded_sqlite_url, "SELECT username, role, department, password_hash FROM app_user"
        )
    }
    assert users["admin"][0] == "admin" and users["exec"][0] == "executive"
    assert users["manager"][0] == users["manager2"][0] == "manager"
    staff = sorted(name for name, value in users.items() if value[0] == "staff")
    assert staff == sorted(f"staff{n}" for n in range(1, SCALES["small"].staff + 1))
    assert all(value[2] is None for value in users.values())
    departments = {value[1] for value in users.values()}
    assert {"Kinh doanh", "Marketing", "Chăm sóc khách hàng", "Kế toán", "Giao hàng"} <= departments
