"""AppTests: the frame and every page render on seeded, empty and unreachable databases."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from app.db import get_engine
from app.kpi.overview import overview_numbers
from components.kpi_cards import format_count, format_vnd, format_vnd_compact

ROOT = Path(__file__).resolve().parents[2]
FRAME = ROOT / "streamlit_app.py"
PAGE_FILES = sorted((ROOT / "pages").glob("*.py"))
# DEMO_TODAY of tests/conftest.py: the seeded data is generated for this day.
DEMO_TODAY = dt.date(2026, 6, 15)
TIMEOUT = 30
DATABASES = ["seeded_sqlite_url", "sqlite_url"]
MISSING_DATABASE_URL = "sqlite:////nonexistent/dir/x.db"


@pytest.fixture
def use_database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Point the app at a database fixture by name; return its URL."""

    def use(fixture_name: str) -> str:
        url = request.getfixturevalue(fixture_name)
        monkeypatch.setenv("CRM_DATABASE_URL", url)
        monkeypatch.setenv("CRM_AS_OF", DEMO_TODAY.isoformat())
        return url

    return use


def registered_page_files() -> list[str]:
    """The page files listed in streamlit_app.PAGES, read without running the frame."""
    tree = ast.parse(FRAME.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "PAGES" for t in targets):
                return [file for _, file, _, _ in ast.literal_eval(node.value)]
    raise AssertionError("streamlit_app.py has no PAGES list")


def frame() -> AppTest:
    """A fresh AppTest of the entry file (it opens the default page, the overview)."""
    return AppTest.from_file(str(FRAME), default_timeout=TIMEOUT)


def test_registered_pages_are_the_pages_folder() -> None:
    expected = [path.relative_to(ROOT).as_posix() for path in PAGE_FILES]
    assert sorted(registered_page_files()) == expected
    assert registered_page_files()[0] == "pages/overview.py"


@pytest.mark.parametrize("database", DATABASES)
def test_frame_renders(database: str, use_database) -> None:
    use_database(database)

    at = frame().run()

    assert at.title[0].value == "Overview"
    assert not at.exception


@pytest.mark.parametrize("database", DATABASES)
@pytest.mark.parametrize("page_file", PAGE_FILES, ids=lambda path: path.stem)
def test_page_through_the_frame(page_file: Path, database: str, use_database) -> None:
    use_database(database)
    at = frame().run()

    # switch_page raises unless st.navigation registered this file.
    at.switch_page(page_file.relative_to(ROOT).as_posix()).run()

    assert at.title
    assert not at.exception


@pytest.mark.parametrize("database", DATABASES)
@pytest.mark.parametrize("page_file", PAGE_FILES, ids=lambda path: path.stem)
def test_page_alone(page_file: Path, database: str, use_database) -> None:
    use_database(database)

    # Legacy multipage mode: the page runs without the frame (style.md, convention 2).
    at = AppTest.from_file(str(page_file), default_timeout=TIMEOUT).run()

    assert at.title
    assert not at.error
    assert not at.exception


def test_overview_on_seeded_database(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    with Session(get_engine(url)) as session:
        expected = overview_numbers(session=session, today=DEMO_TODAY)

    at = frame().run()

    metrics = {metric.label: metric for metric in at.metric}
    assert list(metrics) == ["Active customers", "Revenue this month", "Open complaints"]
    assert expected.active_customers > 0
    assert metrics["Active customers"].value == format_count(expected.active_customers)
    revenue = metrics["Revenue this month"]
    assert revenue.value == format_vnd_compact(expected.revenue_this_month)
    assert format_vnd(expected.revenue_this_month) in revenue.help
    assert metrics["Open complaints"].value == format_count(expected.open_complaints)
    assert all(metric.help for metric in metrics.values())
    assert "June 2026" in at.caption[0].value
    assert not at.info
    assert not at.exception


def test_overview_on_empty_database(use_database) -> None:
    use_database("sqlite_url")

    at = frame().run()

    assert len(at.metric) == 0
    assert len(at.info) == 1
    assert "python -m app seed-demo" in at.info[0].value
    assert not at.exception


@pytest.mark.parametrize(
    "script",
    [FRAME, ROOT / "pages" / "overview.py", ROOT / "pages" / "admin.py"],
    ids=lambda path: path.stem,
)
def test_unreachable_database_shows_an_error(script: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_DATABASE_URL", MISSING_DATABASE_URL)

    at = AppTest.from_file(str(script), default_timeout=TIMEOUT).run()

    assert len(at.error) == 1
    message = at.error[0].value
    assert "cannot be opened" in message
    assert MISSING_DATABASE_URL in message
    assert "CRM_DATABASE_URL" in message
    assert len(at.metric) == 0
    assert not at.exception
