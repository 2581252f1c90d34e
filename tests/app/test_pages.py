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
from tests.app.conftest import ensure_user

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


def frame(url: str | None = None, role: str = "manager") -> AppTest:
    """A fresh AppTest of the entry file (it opens the default page, the overview).

    With ``url``, a user of ``role`` is signed in (created in that database if missing).
    """
    at = AppTest.from_file(str(FRAME), default_timeout=TIMEOUT)
    if url is not None:
        at.session_state["crm_user"] = ensure_user(url, role)
    return at


def test_registered_pages_are_the_pages_folder() -> None:
    expected = [path.relative_to(ROOT).as_posix() for path in PAGE_FILES]
    assert sorted(registered_page_files()) == expected
    assert registered_page_files()[0] == "pages/overview.py"


@pytest.mark.parametrize("database", DATABASES)
def test_frame_renders(database: str, use_database) -> None:
    url = use_database(database)

    at = frame(url)
    at.session_state["crm_language"] = "en"
    at.run()

    assert at.title[0].value == "Overview"
    # The frame draws the language picker and the global filters in the sidebar.
    assert at.sidebar.selectbox(key="crm_language_picker").value == "en"
    assert at.sidebar.selectbox(key="flt_preset").value == "this_month"
    assert not at.exception


def test_frame_defaults_to_vietnamese_and_reads_filters_from_the_url(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    month = frame(url).run()
    assert month.title[0].value == "Tổng quan"

    # AppTest reruns only the page after the first run, so a fresh run stands in for a
    # bookmarked link: the frame shows the URL's filter and the page computes with it.
    year = frame(url)
    year.query_params["preset"] = "this_year"
    year.run()

    assert year.sidebar.selectbox(key="flt_preset").value == "this_year"
    assert [m.value for m in year.metric] != [m.value for m in month.metric]
    assert not month.exception and not year.exception


@pytest.mark.parametrize("database", DATABASES)
@pytest.mark.parametrize("page_file", PAGE_FILES, ids=lambda path: path.stem)
def test_page_through_the_frame(page_file: Path, database: str, use_database) -> None:
    # An admin may open every page.
    url = use_database(database)
    at = frame(url, role="admin").run()

    # switch_page raises unless st.navigation registered this file.
    at.switch_page(page_file.relative_to(ROOT).as_posix()).run()

    assert at.title
    assert not at.exception


@pytest.mark.parametrize("database", DATABASES)
@pytest.mark.parametrize("page_file", PAGE_FILES, ids=lambda path: path.stem)
def test_page_alone(page_file: Path, database: str, use_database) -> None:
    url = use_database(database)

    # Legacy multipage mode: the page runs without the frame (style.md, convention 2).
    at = AppTest.from_file(str(page_file), default_timeout=TIMEOUT)
    at.session_state["crm_user"] = ensure_user(url, "admin")
    at.run()

    assert at.title
    assert not at.error
    assert not at.exception


def test_overview_on_seeded_database(use_database) -> None:
    url = use_database("seeded_sqlite_url")
    with Session(get_engine(url)) as session:
        expected = overview_numbers(session=session, today=DEMO_TODAY)

    at = frame(url)
    at.session_state["crm_language"] = "en"
    at.run()

    labels = [metric.label for metric in at.metric]
    assert len(labels) == 8
    assert "Active customers" in labels
    assert expected.active_customers > 0
    assert all(metric.help for metric in at.metric)
    assert not at.exception


def test_overview_on_empty_database(use_database) -> None:
    url = use_database("sqlite_url")

    at = frame(url).run()

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

    at = AppTest.from_file(str(script), default_timeout=TIMEOUT)
    at.session_state["crm_language"] = "en"
    at.run()

    assert len(at.error) == 1
    message = at.error[0].value
    assert "cannot be opened" in message
    assert MISSING_DATABASE_URL in message
    assert "CRM_DATABASE_URL" in message
    assert len(at.metric) == 0
    assert not at.exception
