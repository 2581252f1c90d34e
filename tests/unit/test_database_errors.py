"""A database the app must not use: one clear line from every command, nothing modified.

Each case points the app at something that is not a usable CRM database: a text file, a
PNG, a read-only file or folder, a missing folder or file, another application's SQLite
file, a database of a newer schema, an unreachable PostgreSQL. Every CLI subcommand
then exits 1 or 2 with one ``error:`` line on stderr and no traceback, and the file's
bytes, its modification time and the folder's listing are as before.

The tests run as root, who may write to a file without write bits; the app therefore
treats a file or folder with no write bit at all as read-only on purpose (app/db.py).
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from app.backup import backup
from app.cli import main
from app.db import create_raw_engine, dispose_engines, get_engine
from app.errors import DatabaseUnavailable

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


@dataclass
class Broken:
    """A URL the app must refuse, the phrase the message holds, and files to watch."""

    url: str
    phrase: str
    watched: Path | None
    creates_allowed: bool = False  # migrate/seed-demo/restore may create a missing file


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _crm_copy(template: Path, target: Path) -> Path:
    shutil.copyfile(template, target)
    return target


def _set_revision(path: Path, revision: str) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    connection.close()


CASES = [
    "text_file",
    "png_file",
    "read_only_file",
    "read_only_folder",
    "missing_folder",
    "missing_file",
    "foreign_sqlite",
    "newer_schema",
    "unreachable_postgresql",
]


@pytest.fixture(params=CASES)
def broken(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[Broken]:
    """One kind of unusable database, prepared in a folder of its own."""
    case = request.param
    folder = tmp_path / "db"
    folder.mkdir()
    path = folder / "crm.db"
    url = f"sqlite:///{path}"
    if case == "text_file":
        path.write_text("name,phone\nCông ty An Phát,0901234567\n", encoding="utf-8")
        result = Broken(url, "is not a SQLite database", path)
    elif case == "png_file":
        path.write_bytes(PNG)
        result = Broken(url, "is not a SQLite database", path)
    elif case == "read_only_file":
        _crm_copy(sqlite_template, path).chmod(0o444)
        result = Broken(url, "is read-only", path)
    elif case == "read_only_folder":
        _crm_copy(sqlite_template, path)
        folder.chmod(0o555)
        result = Broken(url, "is read-only", path)
    elif case == "missing_folder":
        url = f"sqlite:///{tmp_path / 'no' / 'such' / 'crm.db'}"
        result = Broken(url, "does not exist", None)
    elif case == "missing_file":
        url = f"sqlite:///{folder / 'crm-typo.db'}"
        result = Broken(url, "does not exist", None, creates_allowed=True)
    elif case == "foreign_sqlite":
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
            connection.execute("INSERT INTO photos (name) VALUES ('holiday.png')")
        connection.close()
        result = Broken(url, "another application", path)
    elif case == "newer_schema":
        _set_revision(_crm_copy(sqlite_template, path), "9999")
        result = Broken(
            url,
            "This database was created by a newer version of the CRM (schema 9999); this "
            "version knows up to",
            path,
        )
    else:
        url = f"postgresql+psycopg://crm@127.0.0.1:{closed_port()}/crm"
        result = Broken(url, "Cannot open the database at postgresql", None)
    yield result
    folder.chmod(0o755)
    dispose_engines()


def _state(folder: Path, watched: Path | None) -> dict[str, object]:
    """Everything a refused command must leave as it was."""
    state: dict[str, object] = {"listing": sorted(p.name for p in folder.iterdir())}
    if watched is not None and watched.exists():
        state["bytes"] = watched.read_bytes()
        state["mtime"] = watched.stat().st_mtime_ns
        state["mode"] = watched.stat().st_mode
    return state


@pytest.fixture(scope="module")
def backup_file(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A valid backup of an empty CRM database, for ``restore``."""
    folder = tmp_path_factory.mktemp("backup")
    source = _crm_copy(sqlite_template, folder / "source.db")
    file = folder / "crm-backup.zip"
    backup(f"sqlite:///{source}", file)
    return file


def _commands(tmp_path: Path, backup_file: Path) -> dict[str, list[str]]:
    csv = tmp_path / "customers.csv"
    csv.write_text("code,name,kind\nKH900001,Công ty An Phát,organisation\n", encoding="utf-8")
    return {
        "migrate": ["migrate"],
        "migrate_to": ["migrate", "--to", "0001"],
        "seed_demo": ["seed-demo", "--scale", "small", "--today", "2026-06-15"],
        "create_user": ["create-user", "--username", "an.tran", "--password-stdin"],
        "kpis": ["kpis"],
        "rfm": ["rfm"],
        "import": ["import", "customers", str(csv)],
        "export": ["export", "customers", str(tmp_path / "out.csv")],
        "backup": ["backup", str(tmp_path / "out-backup.db")],
        "restore": ["restore", "--force", str(backup_file)],
    }


# Commands whose job is to create a database, so a missing file is theirs to create.
CREATING = {"migrate", "migrate_to", "seed_demo", "restore"}


def test_every_command_refuses_with_one_line_and_changes_nothing(
    broken: Broken,
    tmp_path: Path,
    backup_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "db"
    for name, args in _commands(tmp_path, backup_file).items():
        if broken.creates_allowed and name in CREATING:
            continue
        before = _state(folder, broken.watched)
        monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse battery\n"))
        capsys.readouterr()
        code = main(["--database-url", broken.url, *args])  # an exception = a traceback
        out, err = capsys.readouterr()
        assert code in {1, 2}, (name, out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1, (name, err)
        assert lines[0].startswith("error: "), (name, err)
        assert broken.phrase in lines[0], (name, err)
        assert _state(folder, broken.watched) == before, name
    assert not (tmp_path / "out-backup.db").exists()
    assert not (tmp_path / "out.csv").exists() or (tmp_path / "out.csv").stat().st_size == 0


@pytest.mark.parametrize("case", ["text_file", "newer_schema", "unreachable_postgresql"])
def test_a_real_process_prints_one_line_without_traceback(
    case: str, tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "crm.db"
    if case == "text_file":
        path.write_text("hello", encoding="utf-8")
        url = f"sqlite:///{path}"
    elif case == "newer_schema":
        _set_revision(_crm_copy(sqlite_template, path), "9999")
        url = f"sqlite:///{path}"
    else:
        url = f"postgresql+psycopg://crm@127.0.0.1:{closed_port()}/crm"
    result = subprocess.run(
        [sys.executable, "-m", "app", "kpis"],
        cwd=ROOT,
        env={**os.environ, "CRM_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode in {1, 2}
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: ")


def test_engine_refuses_before_touching_the_file(broken: Broken) -> None:
    folder = broken.watched.parent if broken.watched else None
    before = _state(folder, broken.watched) if folder else None
    with pytest.raises(DatabaseUnavailable) as raised:
        get_engine(broken.url)
    assert broken.phrase in str(raised.value)
    assert "\n" not in str(raised.value)
    if folder:
        assert _state(folder, broken.watched) == before


def test_a_typo_in_the_path_creates_no_file(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailable, match="does not exist"):
        get_engine(f"sqlite:///{tmp_path / 'crm.bd'}")
    assert list(tmp_path.iterdir()) == []


def test_a_newer_postgresql_database_is_refused_and_left_alone(
    pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = create_raw_engine(pg_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    dispose_engines()
    with pytest.raises(DatabaseUnavailable, match=r"newer version of the CRM \(schema 9999\)"):
        get_engine(pg_url)
    code = main(["--database-url", pg_url, "migrate"])
    assert code == 2
    assert "schema 9999" in capsys.readouterr().err
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == [
            ("9999",)
        ]
    engine.dispose()


def test_an_empty_file_is_a_new_database_not_an_error(tmp_path: Path) -> None:
    # SQLite treats a zero-byte file as an empty database: the app may prepare it.
    path = tmp_path / "empty.db"
    path.touch()
    get_engine(f"sqlite:///{path}")
    assert path.stat().st_size > 0
