"""The CLI as a user runs it: real subprocesses, one clear line on error, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.db import get_engine
from app.models import Customer, User

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, url: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``python -m app`` with the database URL in the environment."""
    env = {**os.environ, "CRM_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("command", [[], ["migrate"], ["seed-demo"], ["create-user"]])
def test_help_everywhere(command: list[str], tmp_path: Path) -> None:
    result = run_cli(*command, "--help", url=f"sqlite:///{tmp_path / 'x.db'}")
    assert result.returncode == 0
    assert "usage: python -m app" in result.stdout


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = run_cli("migrate", url=url)
    assert result.returncode == 0, result.stderr
    assert "Database ready" in result.stdout
    assert (tmp_path / "fresh.db").exists()


def test_create_user_from_stdin_hashes_the_password(db_url: str) -> None:
    result = run_cli(
        "create-user",
        "--username",
        "an.tran",
        "--role",
        "admin",
        "--password-stdin",
        url=db_url,
        stdin="correct horse battery\n",
    )
    assert result.returncode == 0, result.stderr
    assert "Created admin user an.tran" in result.stdout
    with Session(get_engine(db_url)) as session:
        user = session.exec(select(User)).one()
    assert user.role == "admin"
    assert user.password_hash.startswith("$argon2")


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (
            ["create-user", "--username", "ab cd", "--password-stdin"],
            "longenough\n",
            "username: has an invalid format",
        ),
        (
            ["create-user", "--username", "short", "--password-stdin"],
            "x\n",
            "password: must have at least 8 characters",
        ),
        (["seed-demo", "--scale", "huge"], "", "invalid choice"),
        (["seed-demo", "--today", "2026-13-01"], "", "is not a date"),
    ],
)
def test_user_errors_print_one_line_without_traceback(
    sqlite_url: str, args: list[str], stdin: str, expected: str
) -> None:
    result = run_cli(*args, url=sqlite_url, stdin=stdin)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_unopenable_database_is_one_clear_line(tmp_path: Path) -> None:
    result = run_cli("migrate", url=f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    assert result.returncode == 2
    assert result.stderr.startswith("error: Cannot open the database")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "missing").exists()


def test_seed_demo_if_empty_then_refuses_to_seed_twice(sqlite_url: str) -> None:
    first = run_cli("seed-demo", "--scale", "small", "--today", "2026-06-15", url=sqlite_url)
    assert first.returncode == 0, first.stderr
    assert "Loaded the small demo dataset" in first.stdout
    with Session(get_engine(sqlite_url)) as session:
        customers = len(session.exec(select(Customer.id)).all())
    assert customers > 1000
    again = run_cli("seed-demo", "--if-empty", url=sqlite_url)
    assert again.returncode == 0 and "already holds customers" in again.stdout
    refused = run_cli("seed-demo", url=sqlite_url)
    assert refused.returncode == 2
    assert "already holds customers" in refused.stderr
