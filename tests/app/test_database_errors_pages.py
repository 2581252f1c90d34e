"""The frame and every page, pointed at a database the app must not use, show one clear
message (never an exception) and leave the file as it was."""

from __future__ import annotations

import shutil
import socket
import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.db import dispose_engines

ROOT = Path(__file__).resolve().parents[2]
FRAME = ROOT / "streamlit_app.py"
SCRIPTS = [FRAME, *sorted((ROOT / "pages").glob("*.py"))]
TIMEOUT = 30
# A signed-in user's session entry: the frame must cope when the database went away
# after sign-in (the account cannot be checked, so the sign-in page shows the message).
SIGNED_IN = {
    "user_id": 1,
    "username": "admin",
    "display_name": "Admin",
    "role": "admin",
    "last_seen": None,
}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _broken(case: str, folder: Path, template: Path) -> tuple[str, str, Path | None]:
    """(URL, phrase the message holds, file that must stay unchanged) for a case."""
    path = folder / "crm.db"
    url = f"sqlite:///{path}"
    if case == "text_file":
        path.write_text("name,phone\nAn Phát,0901234567\n", encoding="utf-8")
        return url, "is not a SQLite database", path
    if case == "read_only_file":
        shutil.copyfile(template, path)
        path.chmod(0o444)
        return url, "is read-only", path
    if case == "missing_file":
        return f"sqlite:///{folder / 'crm-typo.db'}", "does not exist", None
    if case == "newer_schema":
        shutil.copyfile(template, path)
        with sqlite3.connect(path) as connection:
            connection.execute("UPDATE alembic_version SET version_num = '9999'")
        connection.close()
        return url, "newer version of the CRM (schema 9999)", path
    return (
        f"postgresql+psycopg://crm@127.0.0.1:{_closed_port()}/crm",
        "Cannot open the database at postgresql",
        None,
    )


def _fingerprint(path: Path | None) -> tuple[bytes, int] | None:
    return (path.read_bytes(), path.stat().st_mtime_ns) if path and path.exists() else None


def _run(script: Path, url: str, monkeypatch: pytest.MonkeyPatch, signed_in: bool) -> AppTest:
    monkeypatch.setenv("CRM_DATABASE_URL", url)
    at = AppTest.from_file(str(script), default_timeout=TIMEOUT)
    at.session_state["crm_language"] = "en"
    if signed_in:
        at.session_state["crm_user"] = dict(SIGNED_IN)
    at.run()
    return at


def _assert_one_message(at: AppTest, phrase: str) -> None:
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "cannot be opened" in message
    assert phrase in message
    assert "CRM_DATABASE_URL" in message
    assert len(at.metric) == 0


@pytest.fixture(autouse=True)
def _close_engines():
    yield
    dispose_engines()


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.stem)
@pytest.mark.parametrize("case", ["text_file", "newer_schema"])
def test_every_page_shows_one_message_and_leaves_the_file_alone(
    script: Path,
    case: str,
    tmp_path: Path,
    sqlite_template: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, phrase, path = _broken(case, tmp_path, sqlite_template)
    before = _fingerprint(path)
    at = _run(script, url, monkeypatch, signed_in=True)
    _assert_one_message(at, phrase)
    assert _fingerprint(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.db"]


@pytest.mark.parametrize(
    "case", ["text_file", "read_only_file", "missing_file", "newer_schema", "unreachable_pg"]
)
@pytest.mark.parametrize("signed_in", [False, True], ids=["signed_out", "signed_in"])
def test_the_frame_shows_one_message_for_every_kind_of_broken_database(
    case: str,
    signed_in: bool,
    tmp_path: Path,
    sqlite_template: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, phrase, path = _broken(case, tmp_path, sqlite_template)
    listing = sorted(p.name for p in tmp_path.iterdir())
    before = _fingerprint(path)
    at = _run(FRAME, url, monkeypatch, signed_in=signed_in)
    _assert_one_message(at, phrase)
    assert _fingerprint(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing
