"""Customer list, search, 360° reads, policies, segments settings and partner views,
on SQLite and PostgreSQL (the ``session`` fixture)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from sqlmodel import Session

from app.errors import InvalidInput, NotFound, PermissionDenied
from app.i18n import all_messages
from app.kpi.rfm import SEGMENT_RULES
from app.models import Role, User
from app.services import customer_views as views
from app.services.access import Actor
from app.services.care import create_complaint, create_interaction, create_survey_response
from app.services.catalogue import (
    add_campaign_members,
    create_campaign,
    create_partner,
    create_partner_link,
)
from app.services.customer_views import CustomerQuery
from app.services.partner_views import layered_layout, list_partners, partner_network
from app.services.policies import POLICY_RULES, policies_received, suggest_policy
from app.services.sales import create_inquiry, create_opportunity, create_order
from app.settings import get_setting
from tests.unit.factories import SYSTEM, at, make_customer, make_product


def _user(session: Session, username: str, role: Role = Role.staff) -> Actor:
    user = User(username=username, display_name=username.title(), role=role)
    session.add(user)
    session.commit()
    session.refresh(user)
    return Actor(user_id=user.id, username=username, role=role)


def _names(page: views.CustomerPage) -> list[str]:
    return page.rows["name"].tolist()


def _list(session: Session, actor: Actor = SYSTEM, **query) -> views.CustomerPage:  # noqa: ANN003
    page = query.pop("page", 1)
    page_size = query.pop("page_size", 50)
    return views.list_customers(
        session=session,
        actor=actor,
        query=CustomerQuery(**query),
        page=page,
        page_size=page_size,
    )


# --------------------------------------------------------------------------- search
@pytest.fixture
def people(session: Session) -> dict[str, int]:
    """Customers whose names differ only in accents, case and near-misses."""
    rows = {
        "an": make_customer(session, name="Nguyễn Văn An", kind="person", code="KHA001"),
        "binh": make_customer(session, name="NGUYỄN VĂN BÌNH", kind="person", code="KHA002"),
        "cuc": make_customer(session, name="Trần Thị Cúc", kind="person", code="KHA003"),
        # Matches the accent-agnostic LIKE skeleton "ng___n v_n" but not the folded text:
        # SQL finds it, Python rejects it, and the count must not include it.
        "near": make_customer(session, name="Ngoaan Vyn", kind="person", code="KHA004"),
        "firm": make_customer(
            session,
            name="Công ty TNHH Điện tử Hưng Phát",
            code="KHB100",
            phone="0322 675 606",
            email="Contact@HungPhat.com.vn",
            tax_code="0573556114",
        ),
    }
    return {key: customer.id for key, customer in rows.items()}


def test_search_ignores_diacritics_and_case(session: Session, people: dict[str, int]) -> None:
    for text in ("nguyen van", "NGUYỄN VĂN", "Nguyen  Van "):
        page = _list(session, search=text, sort="name")
        assert page.total == 2, text
        assert sorted(_names(page)) == ["NGUYỄN VĂN BÌNH", "Nguyễn Văn An"]
    assert _names(_list(session, search="dien tu hung phat")) == ["Công ty TNHH Điện tử Hưng Phát"]


def test_search_excludes_skeleton_false_positives_from_count_and_pages(
    session: Session, people: dict[str, int]
) -> None:
    page = _list(session, search="nguyen van", page_size=1, page=2, sort="code")
    assert page.total == 2  # "Ngoaan Vyn" is not counted
    assert page.pages == 2
    assert _names(page) == ["NGUYỄN VĂN BÌNH"]


@pytest.mark.parametrize(
    "text",
    ["khb100", "KHB1", "0322675606", "+84 322 675 606", "675 606", "hungphat.com", "0573556114"],
)
def test_search_by_code_phone_email_and_tax_code(
    session: Session, people: dict[str, int], text: str
) -> None:
    page = _list(session, search=text)
    assert page.rows["id"].tolist() == [people["firm"]], text


def test_search_that_matches_nothing_gives_an_empty_page(
    session: Session, people: dict[str, int]
) -> None:
    page = _list(session, search="zzz khong co")
    assert page.total == 0
    assert page.rows.empty
    assert list(page.rows.columns) == views.LIST_COLUMNS


def test_paging_and_sorting_in_sql(session: Session, people: dict[str, int]) -> None:
    first = _list(session, sort="code", page_size=2, page=1)
    third = _list(session, sort="code", page_size=2, page=3)
    assert first.total == 5 and first.pages == 3
    assert first.rows["code"].tolist() == ["KHA001", "KHA002"]
    assert third.rows["code"].tolist() == ["KHB100"]
    # A page past the end shows the last page.
    assert _list(session, sort="code", page_size=2, page=99).page == 3
    descending = _list(session, sort="code", descending=True, page_size=2)
    assert descending.rows["code"].tolist() == ["KHB100", "KHA004"]
    with pytest.raises(InvalidInput):
        CustomerQuery(sort="password_hash")


def test_filters_and_id_restriction(session: Session, people: dict[str, int]) -> None:
    make_customer(session, name="Lê Minh", province="Đà Nẵng", lifecycle="lead")
    assert _names(_list(session, province="Đà Nẵng")) == ["Lê Minh"]
    assert _names(_list(session, lifecycle="lead")) == ["Lê Minh"]
    restricted = _list(session, customer_ids=(people["an"], people["cuc"]), sort="code")
    assert restricted.rows["id"].tolist() == [people["an"], people["cuc"]]
    assert _list(session, customer_ids=()).total == 0


def test_staff_see_own_and_unassigned_customers_only(session: Session) -> None:
    alice, bob = _user(session, "alice"), _user(session, "bob")
    own = make_customer(session, name="Khách của Alice", owner_id=alice.user_id)
    make_customer(session, name="Khách của Bob", owner_id=bob.user_id)
    free = make_customer(session, name="Khách chưa giao")

    page = _list(session, actor=alice, sort="code")

    assert set(page.rows["id"]) == {own.id, free.id}
    assert page.total == 2
    assert _list(session, actor=alice, search="bob").total == 0
    export = views.export_customers(session=session, actor=alice, query=CustomerQuery())
    assert set(export["id"]) == {own.id, free.id}
    assert _list(session, sort="code").total == 3  # admins see everyone


def test_export_holds_every_page(session: Session, people: dict[str, int]) -> None:
    export = views.export_customers(session=session, actor=SYSTEM, query=CustomerQuery())
    assert len(export) == 5
    limited = views.export_customers(session=session, actor=SYSTEM, query=CustomerQuery(), limit=2)
    assert len(limited) == 2


# --------------------------------------------------------------------------- 360
@pytest.fixture
def history(session: Session) -> dict[str, int]:
    """One customer with one record of every timeline kind, a day apart."""
    customer = make_customer(session, name="Phạm Thị Hoa", kind="person")
    product = make_product(session, name="Máy in")
    create_interaction(
        session=session,
        data={
            "customer_id": customer.id,
            "kind": "call",
            "subject": "Gọi chào hàng",
            "occurred_at": at(2026, 1, 1, 3),
        },
        actor=SYSTEM,
    )
    create_inquiry(
        session=session,
        data={"customer_id": customer.id, "need": "Hỏi giá máy in", "asked_at": at(2026, 1, 2)},
        actor=SYSTEM,
    )
    order = create_order(
        session=session,
        data={
            "customer_id": customer.id,
            "ordered_at": at(2026, 1, 3),
            "status": "paid",
            "promotion": "Khuyến mãi Tết",
            "lines": [
                {
                    "product_id": product.id,
                    "quantity": Decimal(2),
                    "unit_price": Decimal("100000"),
                    "unit_cost": Decimal("60000"),
                    "discount": Decimal("0.1"),
                }
            ],
        },
        actor=SYSTEM,
    )
    complaint = create_complaint(
        session=session,
        data={
            "customer_id": customer.id,
            "category": "Giao hàng chậm",
            "severity": "high",
            "opened_at": at(2026, 1, 4),
            "status": "resolved",
            "resolved_at": at(2026, 1, 6),  # 48 h: past the 24 h SLA of "high"
        },
        actor=SYSTEM,
    )
    create_complaint(
        session=session,
        data={
            "customer_id": customer.id,
            "category": "Hóa đơn",
            "severity": "low",
            "opened_at": at(2026, 1, 4, 12),
        },
        actor=SYSTEM,
    )
    create_survey_response(
        session=session,
        data={"customer_id": customer.id, "nps": 9, "answered_at": at(2026, 1, 5)},
        actor=SYSTEM,
    )
    campaign = create_campaign(
        session=session,
        data={
            "name": "Tri ân 2026",
            "channel": "email",
            "purpose": "retention",
            "start_date": dt.date(2026, 1, 1),
            "end_date": dt.date(2026, 1, 31),
        },
        actor=SYSTEM,
    )
    add_campaign_members(
        session=session, campaign_id=campaign.id, customer_ids=[customer.id], actor=SYSTEM
    )
    create_opportunity(
        session=session,
        data={"customer_id": customer.id, "title": "Gia hạn hợp đồng", "stage": "proposal"},
        actor=SYSTEM,
    )
    return {"customer": customer.id, "order": order.id, "complaint": complaint.id}


def test_timeline_merges_every_kind_newest_first(session: Session, history: dict) -> None:
    page = views.customer_timeline(session=session, actor=SYSTEM, customer_id=history["customer"])

    assert page.total == 6
    assert page.rows["kind"].tolist() == [
        "survey",
        "complaint",
        "complaint",
        "order",
        "inquiry",
        "interaction",
    ]
    assert page.rows["title"].iloc[0] == "NPS 9"
    order = page.rows[page.rows["kind"] == "order"].iloc[0]
    assert order["amount"] == pytest.approx(180000.0)
    assert order["detail"] == "Khuyến mãi Tết"


def test_timeline_pages(session: Session, history: dict) -> None:
    second = views.customer_timeline(
        session=session, actor=SYSTEM, customer_id=history["customer"], page=2, page_size=4
    )
    assert second.pages == 2
    assert second.rows["kind"].tolist() == ["inquiry", "interaction"]
    beyond = views.customer_timeline(
        session=session, actor=SYSTEM, customer_id=history["customer"], page=9, page_size=4
    )
    assert beyond.page == 2


def test_complaints_carry_their_sla(session: Session, history: dict) -> None:
    frame = views.customer_complaints(
        session=session,
        actor=SYSTEM,
        customer_id=history["customer"],
        now=at(2026, 1, 7),
    )
    by_category = frame.set_index("category")
    assert bool(by_category.loc["Giao hàng chậm", "breached"]) is True  # 48 h > 24 h
    assert bool(by_category.loc["Giao hàng chậm", "is_open"]) is False
    assert bool(by_category.loc["Hóa đơn", "breached"]) is False  # open 2.5 d < 168 h
    assert bool(by_category.loc["Hóa đơn", "is_open"]) is True
    assert by_category.loc["Hóa đơn", "sla_hours"] == 168


def test_policies_received(session: Session, history: dict) -> None:
    frame = policies_received(session=session, actor=SYSTEM, customer_id=history["customer"])
    kinds = dict(zip(frame["policy_type"], frame["name"], strict=True))
    assert kinds["order_promotion"] == "Khuyến mãi Tết"
    assert kinds["line_discount"] == "Máy in"
    assert kinds["campaign"] == "Tri ân 2026"
    discount = frame.loc[frame["policy_type"] == "line_discount", "discount"].iloc[0]
    assert discount == pytest.approx(0.1)


def test_profile_contacts_and_opportunities(session: Session, history: dict) -> None:
    profile = views.customer_profile(session=session, actor=SYSTEM, customer_id=history["customer"])
    assert profile["name"] == "Phạm Thị Hoa"
    assert profile["kind"] == "person"
    opportunities = views.open_opportunities(
        session=session, actor=SYSTEM, customer_id=history["customer"]
    )
    assert opportunities["title"].tolist() == ["Gia hạn hợp đồng"]
    assert opportunities["stage"].tolist() == ["proposal"]


def test_360_reads_of_a_customer_the_actor_may_not_see_raise_not_found(
    session: Session,
) -> None:
    alice, bob = _user(session, "alice2"), _user(session, "bob2")
    hidden = make_customer(session, name="Khách của Bob", owner_id=bob.user_id)
    reads = [
        lambda: views.customer_profile(session=session, actor=alice, customer_id=hidden.id),
        lambda: views.customer_contacts(session=session, actor=alice, customer_id=hidden.id),
        lambda: views.customer_timeline(session=session, actor=alice, customer_id=hidden.id),
        lambda: views.open_opportunities(session=session, actor=alice, customer_id=hidden.id),
        lambda: views.customer_complaints(
            session=session, actor=alice, customer_id=hidden.id, now=at(2026, 1, 1)
        ),
        lambda: policies_received(session=session, actor=alice, customer_id=hidden.id),
        lambda: views.customer_profile(session=session, actor=alice, customer_id=999_999),
    ]
    for read in reads:
        with pytest.raises(NotFound):
            read()
    assert views.customer_profile(session=session, actor=bob, customer_id=hidden.id)["id"]


# --------------------------------------------------------------------------- policies
def test_every_rfm_segment_has_a_suggested_policy_in_both_languages() -> None:
    messages = all_messages()
    for segment in [name for name, _, _ in SEGMENT_RULES] + [None]:
        policy = suggest_policy(segment)
        assert policy is POLICY_RULES[segment]
        for language in ("en", "vi"):
            assert messages[language][f"customers.policy_{policy.key}"]
            assert messages[language][f"customers.policy_{policy.key}_why"]


@pytest.mark.parametrize(
    ("segment", "key", "discount"),
    [
        ("champions", "loyalty_gift", None),
        ("at_risk", "win_back", 0.10),
        ("new", "welcome_second_order", 0.05),
        ("cannot_lose", "manager_call", 0.15),
        (None, "first_order_welcome", 0.05),
        ("some_future_segment", "personal_offer", 0.05),
    ],
)
def test_suggested_policy_per_segment(segment: str | None, key: str, discount: float) -> None:
    policy = suggest_policy(segment)
    assert policy.key == key
    assert policy.discount == discount


# --------------------------------------------------------------------------- segments
def test_rfm_grid_fills_every_cell() -> None:
    rfm = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "r_score": [3, 3, 1],
            "f_score": [1, 1, 3],
            "monetary": [10.0, 5.0, 1.0],
        }
    )
    grid = views.rfm_grid(rfm, bins=3)
    assert len(grid) == 9
    cell = grid[(grid["r_score"] == 3) & (grid["f_score"] == 1)].iloc[0]
    assert (cell["customers"], cell["monetary"]) == (2, 15.0)
    assert int(grid["customers"].sum()) == 3
    assert views.rfm_grid(rfm.iloc[0:0], bins=4)["customers"].sum() == 0


def test_saving_rfm_settings_needs_the_settings_permission(session: Session) -> None:
    executive = _user(session, "boss", Role.executive)
    manager = _user(session, "lead", Role.manager)
    with pytest.raises(PermissionDenied):
        views.save_rfm_settings(
            session=session, actor=executive, weights={"r": 2, "f": 1, "m": 1}, bins=5
        )
    with pytest.raises(InvalidInput):
        views.save_rfm_settings(
            session=session, actor=manager, weights={"r": 9, "f": 1, "m": 1}, bins=5
        )
    with pytest.raises(InvalidInput):
        views.save_rfm_settings(
            session=session, actor=manager, weights={"r": 1, "f": 1, "m": 1}, bins=2
        )

    views.save_rfm_settings(
        session=session, actor=manager, weights={"r": 2, "f": 1.5, "m": 0.5}, bins=4
    )

    assert get_setting(session=session, key="rfm_weights") == {"r": 2.0, "f": 1.5, "m": 0.5}
    assert get_setting(session=session, key="rfm_bins") == 4
    assert views.rfm_stored_settings(session=session) == ({"r": 2.0, "f": 1.5, "m": 0.5}, 4)


# --------------------------------------------------------------------------- partners
def test_partner_list_search_and_network(session: Session) -> None:
    staff, other = _user(session, "carol"), _user(session, "dave")
    supplier = create_partner(
        session=session, data={"name": "Công ty Phân phối Đông Á", "kind": "supplier"}, actor=SYSTEM
    )
    agent = create_partner(
        session=session, data={"name": "Đại lý Hòa Bình", "kind": "agent"}, actor=SYSTEM
    )
    mine = make_customer(session, name="Khách A", owner_id=staff.user_id)
    theirs = make_customer(session, name="Khách B", owner_id=other.user_id)
    create_partner_link(
        session=session,
        data={"partner_id": supplier.id, "other_partner_id": agent.id, "relation": "Cung cấp"},
        actor=SYSTEM,
    )
    for customer in (mine, theirs):
        create_partner_link(
            session=session,
            data={"partner_id": agent.id, "customer_id": customer.id, "relation": "Phụ trách"},
            actor=SYSTEM,
        )

    assert list_partners(session=session, actor=SYSTEM, search="dong a")["name"].tolist() == [
        "Công ty Phân phối Đông Á"
    ]
    agents = list_partners(session=session, actor=SYSTEM, kind="agent")
    assert agents["customer_links"].tolist() == [2]
    assert list_partners(session=session, actor=staff, kind="agent")["customer_links"].tolist() == [
        1
    ]

    nodes, edges, truncated = partner_network(session=session, actor=staff)
    assert not truncated
    assert set(nodes["node"]) == {f"p{supplier.id}", f"p{agent.id}", f"c{mine.id}"}
    assert len(edges) == 2

    _, _, cut = partner_network(session=session, actor=SYSTEM, max_nodes=3)
    assert cut

    placed = layered_layout(nodes)
    assert placed[["x", "y"]].equals(layered_layout(nodes)[["x", "y"]])  # deterministic
    customer = placed[placed["group"] == "customer"].iloc[0]
    assert round((customer["x"] ** 2 + customer["y"] ** 2) ** 0.5, 6) == 2.2
