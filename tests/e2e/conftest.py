"""Real-browser fixtures: Debian's Chromium driven by Playwright, and a live `streamlit run`.

`playwright install` cannot download a browser here (no general internet access), so the
tests use the Python package's bundled driver with the system Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from app.db import create_raw_engine
from app.demo import DEMO_ACCOUNTS, set_demo_passwords
from tests.conftest import DEMO_TODAY, PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
APP_SCRIPT = PROJECT_ROOT / "streamlit_app.py"
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


# trylast: after pytest's own reordering by fixture parameters, which would undo this.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests last.

    pytest-playwright's session-scoped sync Playwright keeps an asyncio loop marked as
    running in the main thread until the session ends, so any later test calling
    ``asyncio.run`` would fail with "cannot be called from a running event loop".
    """
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


@pytest.fixture(scope="session", autouse=True)
def _require_chromium() -> None:
    """Skip the browser tests without Chromium, but fail under `make test`, which installs it."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: `apt-get install chromium` (make test installs it)"
    # make test sets CRM_REQUIRE_PG=1 and installs chromium first, so a missing browser
    # there is a broken setup, not an optional extra.
    if os.environ.get("CRM_REQUIRE_PG") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options, pointed at Debian's Chromium."""
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        # --no-sandbox: CI runs as root, where Chromium refuses to start sandboxed. The
        # network flags stop background calls to Google that this closed network refuses.
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


def free_port() -> int:
    """A TCP port on the loopback interface that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# No proxy: an http_proxy in the environment must not swallow loopback requests.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _health_ok(base_url: str) -> bool:
    try:
        with _DIRECT.open(f"{base_url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().strip() == b"ok"
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextmanager
def streamlit_running(
    script: Path, *, env: Mapping[str, str], log_path: Path, cwd: Path = PROJECT_ROOT
) -> Iterator[str]:
    """Run `streamlit run SCRIPT` on a free loopback port; yield its base URL while it is up."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [
        # The streamlit of the interpreter running pytest, i.e. .venv/bin/streamlit.
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _health_ok(base_url):
            if process.poll() is not None or time.monotonic() > deadline:
                what = (
                    f"exited with status {process.returncode}"
                    if process.returncode is not None
                    else f"not healthy after {STARTUP_TIMEOUT_S:.0f} s"
                )
                log_text = log_path.read_text(errors="replace")
                pytest.fail(f"streamlit run {script.name} {what}; its log:\n{log_text}")
            time.sleep(0.25)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def streamlit_server(
    tmp_path_factory: pytest.TempPathFactory, seeded_sqlite_template: Path
) -> Iterator[str]:
    """Base URL of the real app served on a private copy of the seeded demo database."""
    workdir = tmp_path_factory.mktemp("streamlit")
    database = workdir / "crm.db"
    shutil.copyfile(seeded_sqlite_template, database)
    # The demo accounts' documented passwords, as `make run` sets them.
    demo_engine = create_raw_engine(f"sqlite:///{database}")
    set_demo_passwords(demo_engine)
    demo_engine.dispose()
    env = {
        "CRM_DATABASE_URL": f"sqlite:///{database}",
        "CRM_DEMO": "1",
        # The demo data ends on DEMO_TODAY; "this month" must be that month, not the
        # calendar's, or the period KPIs would be empty.
        "CRM_AS_OF": DEMO_TODAY.isoformat(),
    }
    with streamlit_running(APP_SCRIPT, env=env, log_path=workdir / "streamlit.log") as url:
        yield url


# The first render imports pandas/plotly and runs the first queries: allow for a slow CI.
RENDER_TIMEOUT_MS = 30_000


def fill_sign_in_form(page: Page, username: str, password: str, language: str) -> None:
    """Type the credentials into the sign-in form shown in ``language`` and submit."""
    from app.i18n import translate

    page.get_by_label(translate("auth.username", language), exact=True).fill(username)
    page.get_by_label(translate("auth.password", language), exact=True).fill(password)
    page.get_by_role("button", name=translate("auth.submit", language), exact=True).click()


def sign_in(page: Page, base_url: str, username: str, *, lang: str | None = "en") -> None:
    """Open the app (in ``lang``; None: the default language, no ``?lang=``) and sign in
    through the form with a demo account's password."""
    page.goto(f"{base_url}/?lang={lang}" if lang else base_url)
    expect(page.get_by_test_id("stForm")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    fill_sign_in_form(page, username, DEMO_ACCOUNTS[username][1], lang or "vi")
    expect(page.get_by_test_id("stSidebar").get_by_text(f"{username}")).to_be_visible(
        timeout=RENDER_TIMEOUT_MS
    )


def sign_out(page: Page) -> None:
    """Press the sidebar's sign-out button and wait for the sign-in form."""
    page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    expect(page.get_by_test_id("stForm")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
