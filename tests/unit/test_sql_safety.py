"""SQL cannot be changed by what users type (issue 7, security checks).

1. No SQL is built by string formatting in the application: a scan of app/, components/,
   pages/ and the frame finds no f-string, ``%``, ``+``, ``.format`` or ``.join`` as the
   SQL argument of ``text()``, ``execute()``, ``exec_driver_sql()``, ``read_sql()``...
   A line may opt out with ``# noqa: S608`` (ruff's rule for the same risk) when it
   formats identifiers the code itself chose, never user input, and says so.
2. Hypothesis-generated strings (quotes, comment markers, LIKE wildcards, NUL, emoji,
   Vietnamese) in every search box and text filter: the call returns only customers
   that really match, raises nothing but a clear InvalidInput, and changes no row.
   On SQLite and PostgreSQL.
"""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from app.db import get_engine
from app.errors import InvalidInput
from app.kpi.base import KpiFilters
from app.kpi.engine import compute
from app.kpi.period import Period
from app.services.customer_views import CustomerQuery, _search_terms, list_customers, matches
from app.services.customers import search_customers
from tests.db_fingerprint import fingerprint
from tests.unit.factories import SYSTEM, make_customer

ROOT = Path(__file__).resolve().parents[2]
SCANNED = [ROOT / "app", ROOT / "components", ROOT / "pages", ROOT / "streamlit_app.py"]
SQL_CALLS = {
    "text",
    "execute",
    "exec_driver_sql",
    "executescript",
    "executemany",
    "literal_column",
    "read_sql",
    "read_sql_query",
}
OPT_OUT = "# noqa: S608"

NASTY = [
    "' OR 1=1 --",
    '"; DROP TABLE customer; --',
    "%",
    "_",
    "\\",
    "a\x00b",
    "<img src=x onerror=alert(1)>",
    "Nguyễn Văn",
    "🙂",
    "' UNION SELECT password_hash FROM app_user --",
]
search_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=60),
    st.text(alphabet="'\"%_\\-;/*()0123456789 ađĐâÂ", max_size=30),
)


def _function_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_built_from_pieces(node: ast.expr) -> bool:
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.FormattedValue) for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"format", "join", "replace"}
    )


def formatted_sql_calls(paths: list[Path]) -> list[str]:
    """``file:line`` of every SQL call whose SQL text is assembled from pieces."""
    found = []
    for base in paths:
        for path in sorted(base.rglob("*.py")) if base.is_dir() else [base]:
            source = path.read_text(encoding="utf-8")
            lines = source.splitlines()
            for node in ast.walk(ast.parse(source)):
                if not (
                    isinstance(node, ast.Call)
                    and _function_name(node.func) in SQL_CALLS
                    and node.args
                    and _is_built_from_pieces(node.args[0])
                ):
                    continue
                span = lines[node.lineno - 1 : (node.end_lineno or node.lineno)]
                if not any(OPT_OUT in line for line in span):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_sql_is_built_by_string_formatting() -> None:
    assert formatted_sql_calls(SCANNED) == []


def test_the_scan_finds_formatted_sql(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text(
        "from sqlalchemy import text\n"
        "def f(conn, name):\n"
        "    conn.execute(text(f\"SELECT * FROM customer WHERE name = '{name}'\"))\n"
        "    conn.exec_driver_sql('SELECT %s' % name)\n"
        "    conn.execute(text('SELECT 1 WHERE x = :x'), {'x': name})\n",
        encoding="utf-8",
    )
    assert sorted(hit.rsplit(":", 1)[1] for hit in formatted_sql_calls_outside_root(sample)) == [
        "3",
        "4",
    ]


def formatted_sql_calls_outside_root(path: Path) -> list[str]:
    """The scan on a file outside the repository (for the scan's own test)."""
    global ROOT
    saved, ROOT = ROOT, path.parent
    try:
        return formatted_sql_calls([path])
    finally:
        ROOT = saved


@pytest.fixture
def customers(db_url: str) -> str:
    """A few customers, some named like attacks, whose names must be found literally."""
    with Session(get_engine(db_url)) as session:
        make_customer(session, name="Công ty TNHH Thanh Phú", phone="0901 234 567")
        make_customer(session, name="' OR 1=1 --", email="attack@example.vn")
        make_customer(session, name="<img src=x onerror=alert(1)>")
        make_customer(session, name="50% off_sale", tax_code="0101234567")
        make_customer(session, name="Nguyễn Văn Ánh 🙂", province="Đà Nẵng")
    return db_url


def _all_rows(session: Session) -> list[dict]:
    from sqlmodel import select

    from app.models import Customer

    return [
        {
            "id": c.id,
            "name": c.name,
            "code": c.code,
            "phone": c.phone,
            "email": c.email,
            "tax_code": c.tax_code,
        }
        for c in session.exec(select(Customer)).all()
    ]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=search_text)
def test_customer_list_search_finds_only_real_matches(customers: str, query: str) -> None:
    engine = get_engine(customers)
    before = fingerprint(engine)
    with Session(engine) as session:
        rows = _all_rows(session)
        page = list_customers(
            session=session, actor=SYSTEM, query=CustomerQuery(search=query), page_size=500
        )
    terms = _search_terms(query)
    expected = {row["id"] for row in rows if matches(terms, row)}
    assert set(page.rows["id"]) == expected
    assert fingerprint(engine) == before


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=search_text)
def test_customer_picker_search_changes_nothing(customers: str, query: str) -> None:
    engine = get_engine(customers)
    before = fingerprint(engine)
    with Session(engine) as session:
        all_ids = {row["id"] for row in _all_rows(session)}
        found = search_customers(session=session, actor=SYSTEM, query=query, limit=50)
    assert set(found["customer_id"]) <= all_ids
    assert fingerprint(engine) == before


def test_an_injection_string_finds_only_the_customer_named_so(customers: str) -> None:
    with Session(get_engine(customers)) as session:
        page = list_customers(
            session=session, actor=SYSTEM, query=CustomerQuery(search="' OR 1=1 --")
        )
        picked = search_customers(session=session, actor=SYSTEM, query="' OR 1=1 --")
    assert page.total == 1
    assert list(picked["name"]) == ["' OR 1=1 --"]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=search_text)
def test_text_filters_are_bound_parameters(customers: str, value: str) -> None:
    """Segment / region / province filters with any text: a KPI, not an error or a leak."""
    engine = get_engine(customers)
    before = fingerprint(engine)
    period = Period(dt.date(2026, 1, 1), dt.date(2026, 2, 1))
    with Session(engine) as session:
        for field in ("segment", "region", "province"):
            try:
                report = compute(
                    session,
                    ["new_customers", "revenue"],
                    period=period,
                    filters=KpiFilters(**{field: value}),
                )
            except InvalidInput:
                continue
            assert report is not None
    assert fingerprint(engine) == before
