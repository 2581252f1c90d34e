"""AppTests of Customers, Customer 360°, Segments and Partners on the seeded demo database
(CRM_AS_OF=2026-06-15) and on an empty one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from app.db import get_engine
from app.i18n import enum_label, translate
from app.models import Channel, Customer, Role, User
from app.settings import get_setting
from app.text import fold
from tests.app.conftest import displayed, ensure_user

ROOT = Path(__file__).resolve().parents[2]
FRAME = ROOT / "streamlit_app.py"
PAGES = ROOT / "pages"
DEMO_TODAY = dt.date(2026, 6, 15)
TIMEOUT = 60


@pytest.fixture
def use_database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Point the app at a database fixture by name; return its URL."""

    def use(fixture_name: str) -> str:
        url = request.getfixturevalue(fixture_name)
        monkeypatch.setenv("CRM_DATABASE_URL", url)
        monkeypatch.setenv("CRM_AS_OF", DEMO_TODAY.isoformat())
        return url

    return use


def T(key: str, **params: object) -> str:  # noqa: N802 - reads like the page's t()
    """A message in Vietnamese, the default language the tests run in.

    AppTest calls a widget's format_func outside the script run, where the session's
    language is unknown and the default applies; so interacting tests use the default.
    """
    return translate(key, "vi", **params)


def page(name: str, url: str, role: str = "manager", **params: str) -> AppTest:
    """An AppTest of one page run alone, signed in, with query parameters."""
    at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=TIMEOUT)
    at.session_state["crm_user"] = ensure_user(url, role)
    for key, value in params.items():
        at.query_params[key] = value
    return at


def table(at: AppTest, column: str):  # noqa: ANN201 - a DataFrame
    """The first dataframe shown with a column titled ``column``."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a column {column!r}")


def texts(elements) -> str:  # noqa: ANN001 - an AppTest element list
    return "\n".join(str(element.value) for element in elements)


def a_customer_with_history(url: str) -> Customer:
    """The seeded customer with the most interactions (its timeline spans pages)."""
    from sqlalchemy import func

    from app.models import Interaction

    with Session(get_engine(url)) as session:
        customer_id = session.exec(
            select(Interaction.customer_id)
            .group_by(Interaction.customer_id)
            .order_by(func.count().desc(), Interaction.customer_id)
        ).first()
        row = session.get(Customer, customer_id)
        assert row is not None
        return row


@pytest.mark.parametrize("database", ["seeded_sqlite_url", "sqlite_url"])
@pytest.mark.parametrize("name", ["customers", "customer", "segments", "partners"])
@pytest.mark.parametrize("language", ["en", "vi"])
def test_pages_render_without_exception(
    name: str, database: str, language: str, use_database
) -> None:
    url = use_database(database)
    at = page(name, url)
    at.query_params["lang"] = language
    at.run()

    assert at.title
    assert not at.error
    assert not at.exception


def test_customers_list_search_changes_the_list(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    at = page("customers", url).run()
    name_col = T("customers.col_name")
    before = table(at, name_col)
    first_caption = texts(at.caption)

    at.text_input(key="cust_search").input("nguyen van").run()

    after = table(at, name_col)
    assert not at.exception
    assert 0 < len(after) <= 50
    assert list(after[name_col]) != list(before[name_col])
    assert all("nguyen van" in fold(name, company=False) for name in after[name_col])
    assert any("Nguyễn Văn" in name for name in after[name_col])
    assert texts(at.caption) != first_caption


def test_customers_list_sorts_pages_and_filters(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    at = page("customers", url).run()
    code = T("customers.col_code")
    first_codes = list(table(at, code)[code])
    assert first_codes == sorted(first_codes)
    assert len(first_codes) == 50

    at.selectbox(key="cust_desc").set_value(True).run()
    descending = list(table(at, code)[code])
    assert descending == sorted(descending, reverse=True)

    at.number_input(key="cust_page").set_value(2).run()
    assert list(table(at, code)[code])[0] < descending[-1]

    at.selectbox(key="cust_rfm").set_value("champions").run()
    rfm = T("customers.col_rfm_segment")
    assert set(table(at, rfm)[rfm]) == {T("segments.seg_champions")}
    assert at.number_input(key="cust_page").value == 1  # a filter change goes to page 1
    assert not at.exception


def test_a_sidebar_filter_that_shrinks_the_list_returns_to_a_page_that_exists(
    use_database,
) -> None:
    url = use_database("seeded_sqlite_url")
    at = page("customers", url).run()
    code = T("customers.col_code")
    at.number_input(key="cust_page").set_value(3).run()
    third_page = list(table(at, code)[code])
    assert at.number_input(key="cust_page").value == 3

    # The global filters live in the URL: no widget of the page fires its on_change.
    at.query_params["kind"] = "person"
    at.run()
    assert not at.exception
    assert at.number_input(key="cust_page").value == 1
    persons = list(table(at, code)[code])
    assert persons and persons != third_page
    assert persons == sorted(persons)
    assert "· trang 1/" in texts(at.caption)


def test_the_page_box_stops_at_the_last_page(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    at = page("customers", url).run()
    at.text_input(key="cust_search").input("nguyen").run()
    box = at.number_input(key="cust_page")
    assert box.value == 1 and box.max is not None
    last = int(box.max)
    assert f"· trang 1/{last}" in texts(at.caption)
    at.number_input(key="cust_page").set_value(last).run()
    assert not at.exception
    assert len(table(at, T("customers.col_code"))) > 0
    assert f"· trang {last}/{last}" in texts(at.caption)


def test_search_that_matches_nothing_says_so(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    at = page("customers", url).run()
    at.text_input(key="cust_search").input("zzzz no such customer").run()
    assert T("customers.none_match") in texts(at.info)
    assert not at.exception


def test_customers_export_holds_all_pages(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    at = page("customers", url).run()
    at.text_input(key="cust_search").input("nguyen").run()
    at.checkbox(key="cust_export").check().run()
    assert not at.exception
    labels = [button.label for button in at.get("download_button")]
    assert T("common.download_csv") in labels and T("common.download_excel") in labels


def test_staff_see_fewer_customers(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    manager = page("customers", url, role="manager").run()
    staff = page("customers", url, role="staff").run()
    assert T("customers.staff_scope") in texts(staff.caption)

    def total(at: AppTest) -> int:
        caption = next(c.value for c in at.caption if " khách hàng · trang " in c.value)
        return int(caption.split(" khách hàng")[0].replace(".", "").replace(",", ""))

    assert 0 < total(staff) < total(manager)


def test_customer_360_shows_the_timeline(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    customer = a_customer_with_history(url)

    at = page("customer", url, id=str(customer.id)).run()

    assert not at.exception
    assert customer.code in at.subheader[0].value
    timeline = table(at, T("customers.t_title"))
    assert len(timeline) > 0
    assert T("customers.tl_order") in set(timeline[T("customers.t_kind")])
    assert [metric.label for metric in at.metric] == [
        "R · F · M",
        T("customers.metric_revenue"),
        T("customers.metric_profit"),
        T("customers.metric_orders"),
    ]
    assert T("customers.metric_segment") + ": " in texts(at.markdown)  # the RFM badge
    assert T("customers.suggested") in texts(at.success)
    assert not at.warning


def test_customer_360_profile_shows_labels_and_blanks(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    with Session(get_engine(url)) as session:
        customer = session.exec(
            select(Customer).where(Customer.channel == Channel.event).order_by(Customer.id)
        ).first()
        assert customer is not None
        customer.phone = None  # a customer without a phone number
        session.add(customer)
        session.commit()
        customer_id = customer.id

    at = page("customer", url, id=str(customer_id)).run()

    assert not at.exception
    profile = table(at, T("customers.field"))
    values = dict(zip(profile[T("customers.field")], profile[T("customers.value")], strict=True))
    assert values[T("customers.f_channel")] == enum_label(Channel.event, "vi")  # "Sự kiện"
    assert values[T("customers.f_phone")] == ""
    assert "None" not in set(profile[T("customers.value")])
    # Order amounts on the timeline: Vietnamese format on screen, numbers underneath.
    timeline = next(f for f in at.dataframe if T("customers.t_amount") in f.value.columns)
    amounts = [a for a in displayed(timeline)[T("customers.t_amount")] if a not in ("", "None")]
    assert amounts and all(a.endswith(" ₫") and "," not in a for a in amounts), amounts


def test_customer_360_timeline_pages(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    customer = a_customer_with_history(url)
    at = page("customer", url, id=str(customer.id)).run()
    first = table(at, T("customers.t_title"))
    pages = at.number_input(key="c360_tl_page")
    if pages.max <= 1:
        pytest.skip("this customer's timeline fits on one page")
    pages.set_value(2).run()
    assert not table(at, T("customers.t_title")).equals(first)
    assert not at.exception


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", T("customers.invalid_id")),
        ("-4", T("customers.invalid_id")),
        ("99999999", T("customers.not_found", id=99999999)),
    ],
)
def test_customer_360_with_a_bad_id_shows_a_message_and_a_picker(
    raw: str, message: str, use_database
) -> None:
    url = use_database("seeded_sqlite_url")
    at = page("customer", url, id=raw).run()

    assert message in texts(at.warning)
    assert at.selectbox(key="c360_pick").options
    assert not at.exception


def test_customer_360_without_id_picks_a_customer(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    at = page("customer", url).run()
    assert T("customers.pick") in texts(at.info)
    at.text_input(key="c360_pick_search").input("nguyen").run()
    chosen = at.selectbox(key="c360_pick").value
    at.button(key="c360_pick_open").click().run()
    assert at.query_params["id"] == str(chosen)
    assert table(at, T("customers.t_title")) is not None
    assert not at.exception


def test_staff_cannot_open_another_owners_customer(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    staff = ensure_user(url, "staff")
    with Session(get_engine(url)) as session:
        other = session.exec(
            select(Customer.id).where(
                Customer.owner_id.is_not(None), Customer.owner_id != staff["user_id"]
            )
        ).first()
    at = page("customer", url, role="staff", id=str(other)).run()
    assert T("customers.not_found", id=other) in texts(at.warning)
    assert not at.subheader
    assert not at.exception


def test_customer_names_are_shown_as_text(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    with Session(get_engine(url)) as session:
        customer = Customer(code="XSS01", name="<script>alert(1)</script> **bold**")
        session.add(customer)
        session.commit()
        session.refresh(customer)
    at = page("customer", url, id=str(customer.id)).run()
    assert "\\<script\\>" in at.subheader[0].value
    assert "\\*\\*bold\\*\\*" in at.subheader[0].value
    assert not at.exception


def _segment_sizes(at: AppTest) -> dict[str, int]:
    frame = table(at, T("segments.col_customer_share"))
    return dict(
        zip(frame[T("segments.col_segment")], frame[T("segments.col_customers")], strict=True)
    )


def test_manager_tunes_rfm_and_saves(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    at = page("segments", url, role="manager").run()
    before = _segment_sizes(at)
    share, weighted = T("segments.col_customer_share"), T("segments.col_avg_weighted_score")
    weighted_before = list(table(at, share)[weighted])

    at.slider(key="seg_w_r").set_value(3.0).run()
    weighted_after = list(table(at, share)[weighted])
    assert weighted_after != weighted_before
    assert T("segments.preview") in texts(at.info)

    at.slider(key="seg_bins").set_value(3).run()
    after = _segment_sizes(at)
    assert after != before
    assert sum(after.values()) == sum(before.values())

    at.button(key="seg_save").click().run()
    assert T("segments.confirm", r=3.0, f=1.0, m=1.0, bins=3) in texts(at.warning)
    at.button(key="seg_confirm_yes").click().run()
    assert not at.exception

    with Session(get_engine(url)) as session:
        assert get_setting(session=session, key="rfm_weights")["r"] == 3.0
        assert get_setting(session=session, key="rfm_bins") == 3

    # A fresh session reads the saved values.
    again = page("segments", url, role="manager").run()
    assert again.slider(key="seg_bins").value == 3
    assert _segment_sizes(again) == after


def test_manager_can_cancel_the_save(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    at = page("segments", url, role="manager").run()
    at.slider(key="seg_bins").set_value(4).run()
    at.button(key="seg_save").click().run()
    at.button(key="seg_confirm_no").click().run()
    with Session(get_engine(url)) as session:
        assert get_setting(session=session, key="rfm_bins") == 5
    assert not at.exception


def test_executive_sees_segments_read_only(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    at = page("segments", url, role="executive").run()

    assert "seg_save" not in [button.key for button in at.button]
    assert not at.slider
    assert T("segments.read_only", r=1.0, f=1.0, m=1.0, bins=5) in texts(at.caption)
    assert _segment_sizes(at)
    assert not at.exception


def test_segments_show_the_map_and_the_migration(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    at = page("segments", url).run()
    charts = at.get("plotly_chart")
    assert len(charts) == 4  # segment bars, R × F map, ladder, migration
    before = T("segments.migration_from")
    migration = table(at, before)
    assert list(migration[before]) == [
        T(f"segments.level_{level}") for level in ("prospect", "customer", "repeat", "advocate")
    ]


def test_partners_filter_by_kind_and_search(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    at = page("partners", url).run()
    kind, name_col = T("partners.col_kind"), T("partners.col_name")
    everyone = table(at, kind)
    assert len(everyone) > 1
    assert len(at.get("plotly_chart")) == 1

    at.selectbox(key="partners_kind").set_value("supplier").run()
    suppliers = table(at, kind)
    assert set(suppliers[kind]) == {T("enums.PartnerKind_supplier")}
    assert len(suppliers) < len(everyone)

    name = suppliers[name_col].iloc[0]
    at.text_input(key="partners_search").input(fold(name, company=False)).run()
    assert name in list(table(at, name_col)[name_col])
    assert not at.exception


def test_empty_database_shows_empty_states(use_database) -> None:
    url = use_database("sqlite_url")
    customers = page("customers", url).run()
    assert "python -m app seed-demo" in texts(customers.info)
    segments = page("segments", url).run()
    assert T("segments.no_rfm") in texts(segments.info)
    partners = page("partners", url).run()
    assert T("partners.empty") in texts(partners.info)
    customer = page("customer", url).run()
    assert T("customers.no_customers") in texts(customer.caption)
    for at in (customers, segments, partners, customer):
        assert not at.get("plotly_chart")
        assert not at.exception


def test_list_opens_the_360_page_through_the_frame(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    at = AppTest.from_file(str(FRAME), default_timeout=TIMEOUT)
    at.session_state["crm_user"] = ensure_user(url, "manager")
    at.run()
    at.switch_page("pages/customers.py").run()
    chosen = at.selectbox(key="cust_open_none").value

    at.button(key="cust_open_360").click().run()

    assert not at.exception
    assert at.query_params["id"] == str(chosen)
    assert table(at, T("customers.t_title")) is not None


def test_staff_role_fixture_owns_customers(use_database) -> None:
    # Guards the staff tests above: the seeded staff account owns some customers.
    url = use_database("seeded_sqlite_url")
    staff = ensure_user(url, "staff")
    with Session(get_engine(url)) as session:
        user = session.get(User, staff["user_id"])
        assert Role(user.role) == Role.staff
        owned = session.exec(select(Customer.id).where(Customer.owner_id == user.id)).first()
    assert owned is not None
