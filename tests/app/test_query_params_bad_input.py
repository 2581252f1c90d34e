"""Bad input in the address bar (issue 7): every query parameter the pages read gets the
data-entry issue's bad-input list; each page opens with defaults or a clear message, never
an exception, and the database is unchanged. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st_h
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from app.db import get_engine
from components.data_customers import parse_customer_id
from components.filters import COMPARE_MODES, FILTER_PARAMETERS, parse_filters
from tests.app.conftest import ensure_user
from tests.db_fingerprint import fingerprint
from tests.unit.factories import make_customer, make_product

ROOT = Path(__file__).resolve().parents[2]
PAGE_FILES = sorted((ROOT / "pages").glob("*.py"))
TODAY = dt.date(2026, 6, 15)
TIMEOUT = 60

# Every parameter a page reads from the URL: the global filters, the language, the
# customer id of the 360° page.
PARAMETERS = (*FILTER_PARAMETERS, "lang", "id")
# The bad-input list of the data-entry issue, as URL values.
BAD_VALUES = {
    "empty": "",
    "huge": "x" * 10_000,
    "negative": "-1",
    "absurd": "99999999999999999999999999",
    "impossible_date": "2026-02-30",
    "sql_injection": "' OR 1=1; DROP TABLE customer; --",
    "script": "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "markdown": "**bold** [link](javascript:alert(1))",
    "emoji_vietnamese": "🙂 Nguyễn Văn Ánh",
    "nul_byte": "a\x00b",
}
# PostgreSQL gets the values most likely to reach SQL and break there.
PG_VALUES = ("sql_injection", "nul_byte", "huge")


def _fill(session: Session) -> None:
    for index in range(3):
        make_customer(session, name=f"Khách {index}", province="Hà Nội")
    make_product(session)


@pytest.fixture
def filled_sqlite(seeded_sqlite_url: str) -> str:
    return seeded_sqlite_url


@pytest.fixture
def filled_pg(pg_url: str) -> str:
    with Session(get_engine(pg_url)) as session:
        _fill(session)
    return pg_url


def _run_page(page: Path, url: str, value: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("CRM_DATABASE_URL", url)
    monkeypatch.setenv("CRM_AS_OF", TODAY.isoformat())
    at = AppTest.from_file(str(page), default_timeout=TIMEOUT)
    at.session_state["crm_user"] = ensure_user(url, "manager")
    for name in PARAMETERS:
        at.query_params[name] = value
    return at.run()


def _assert_opened_cleanly(at: AppTest, page: Path, label: str) -> None:
    assert not at.exception, f"{page.name} with {label}: {at.exception}"
    shown = " ".join(str(element.value) for element in [*at.error, *at.warning])
    assert "Traceback" not in shown


@pytest.mark.parametrize("label", list(BAD_VALUES))
def test_every_page_survives_bad_url_values_on_sqlite(
    label: str, filled_sqlite: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = get_engine(filled_sqlite)
    ensure_user(filled_sqlite, "manager")
    before = fingerprint(engine)
    for page in PAGE_FILES:
        _assert_opened_cleanly(
            _run_page(page, filled_sqlite, BAD_VALUES[label], monkeypatch), page, label
        )
    assert fingerprint(engine) == before


@pytest.mark.parametrize("label", PG_VALUES)
def test_every_page_survives_bad_url_values_on_postgresql(
    label: str, filled_pg: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = get_engine(filled_pg)
    ensure_user(filled_pg, "manager")
    before = fingerprint(engine)
    for page in PAGE_FILES:
        _assert_opened_cleanly(
            _run_page(page, filled_pg, BAD_VALUES[label], monkeypatch), page, label
        )
    assert fingerprint(engine) == before


def test_a_bad_customer_id_says_so(filled_sqlite: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _run_page(ROOT / "pages" / "customer.py", filled_sqlite, "' OR 1=1 --", monkeypatch)
    assert not at.exception
    assert at.warning, "an id that is not a number must be reported, not ignored silently"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st_h.dictionaries(st_h.sampled_from(PARAMETERS), st_h.text(max_size=200)))
def test_parse_filters_never_raises_and_keeps_values_in_range(params: dict[str, str]) -> None:
    filters = parse_filters(params, TODAY)
    assert filters.period.start < filters.period.end
    assert filters.compare in COMPARE_MODES
    assert filters.owner_id is None or 0 <= filters.owner_id < 10**9
    for text in (filters.segment, filters.region, filters.province):
        # Text that reaches SQL as a bound parameter: bounded, and no NUL, which
        # PostgreSQL refuses in a string.
        assert text is None or (len(text) <= 100 and "\x00" not in text)


@settings(max_examples=300, deadline=None)
@given(st_h.text(max_size=50))
def test_parse_customer_id_accepts_only_plain_positive_ids(raw: str) -> None:
    parsed = parse_customer_id(raw)
    assert parsed is None or (isinstance(parsed, int) and 0 < parsed < 2**31)
