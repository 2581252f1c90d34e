"""The benchmark's Streamlit half: every page under AppTest, and the form write path.

Lives outside app/ because it imports Streamlit. Pages are run exactly as the tests run
them (``tests/app/conftest.py``): the signed-in user is put into session state and the
filters into the query parameters, which is where ``components.filters`` reads them.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# A page run alone by AppTest becomes the main script and Streamlit puts only pages/ on
# the import path; `streamlit run streamlit_app.py` puts the project root there.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
import streamlit.logger  # noqa: E402

# Caches used outside a script run (clearing them between runs) warn on every call.
streamlit.logger.set_log_level("error")
from sqlmodel import Session, select  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from app.bench import TARGET_COLD, TARGET_WARM, TARGET_WRITE_P95, Row, timed  # noqa: E402
from app.models import Customer, Role, User  # noqa: E402
from app.services.access import Actor  # noqa: E402
from components.data import QUERY_TTL_SECONDS  # noqa: E402

PAGES = sorted((ROOT / "pages").glob("*.py"))
USERS = ("manager", "staff1")
# Filters A and B of the warm runs: A, then B, then A again must come from the cache.
FILTERS_A = {"preset": "this_month"}
FILTERS_B = {"preset": "last_month"}
PAGE_TIMEOUT = 300.0


def session_user(url: str, username: str) -> dict[str, Any]:
    """The session-state entry of a signed-in demo user (as tests/app/conftest.py makes)."""
    from app.db import get_engine

    with Session(get_engine(url)) as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            raise SystemExit(f"bench: no user {username!r}; seed with --demo-users")
        return {
            "user_id": user.id,
            "username": user.username,
            "display_name": user.display_name,
            "role": Role(user.role).value,
            "last_seen": dt.datetime.now(dt.UTC),
        }


def bench_customer(url: str, staff_username: str = "staff1") -> int:
    """A customer every benchmark user may see and write: one the staff user owns."""
    from app.db import get_engine

    with Session(get_engine(url)) as session:
        owner = session.exec(select(User.id).where(User.username == staff_username)).one()
        customer = session.exec(
            select(Customer.id).where(Customer.owner_id == owner).order_by(Customer.id)
        ).first()
        if customer is None:
            customer = session.exec(select(Customer.id).order_by(Customer.id)).first()
    return int(customer)


def clear_caches() -> None:
    """Forget st.cache_data and st.cache_resource: the next run is cold."""
    # An AppTest run resets Streamlit's log level; these calls would warn again.
    streamlit.logger.set_log_level("error")
    st.cache_data.clear()
    st.cache_resource.clear()


@contextmanager
def database(url: str, today: str) -> Iterator[None]:
    """Point the pages at ``url`` with a fixed "today" for the duration."""
    saved = {key: os.environ.get(key) for key in ("CRM_DATABASE_URL", "CRM_AS_OF")}
    os.environ["CRM_DATABASE_URL"] = url
    os.environ["CRM_AS_OF"] = today
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def new_app(page: Path, user: dict[str, Any], params: dict[str, str]) -> AppTest:
    """An AppTest of one page with a signed-in user and the given query parameters."""
    at = AppTest.from_file(str(page), default_timeout=PAGE_TIMEOUT)
    at.session_state["crm_user"] = dict(user)
    at.query_params.update(params)
    return at


def run(at: AppTest, params: dict[str, str] | None = None) -> float:
    """Run the page (with new query parameters if given); seconds; raise on an exception."""
    if params is not None:
        at.query_params.clear()
        at.query_params.update(params)
    seconds, _ = timed(at.run)
    if at.exception:
        raise RuntimeError("; ".join(str(item.value) for item in at.exception)[:300])
    return seconds


def bench_page(
    page: Path, user: dict[str, Any], customer_id: int, repeats: int
) -> tuple[Row, Row, Row]:
    """Cold, warm (same filters) and warm after a filter change (A, B, A) for one page."""
    name = f"{page.stem} ({user['username']})"
    cold = Row("page cold", name, target=TARGET_COLD)
    warm = Row("page warm", name, target=TARGET_WARM)
    switch = Row("page warm A→B→A", name, target=TARGET_WARM)
    extra = {"id": str(customer_id)} if page.stem == "customer" else {}
    first, second = {**FILTERS_A, **extra}, {**FILTERS_B, **extra}
    try:
        for _ in range(repeats):
            clear_caches()
            at = new_app(page, user, first)
            cold.samples.append(run(at))
            warm.samples.append(run(at, first))
            if run(at, second) > QUERY_TTL_SECONDS:
                # A's entries were stored before B's cold run and have expired by now.
                switch.note = f"B took > the {QUERY_TTL_SECONDS} s cache TTL, A had expired"
            switch.samples.append(run(at, first))
    except Exception as exc:  # noqa: BLE001 - a broken page is a row, not the end of the run
        for row in (cold, warm, switch):
            row.error = f"{type(exc).__name__}: {exc}"[:200]
    return cold, warm, switch


def bench_pages(url: str, repeats: int, pages: list[Path] | None = None) -> list[Row]:
    """Every page for every benchmark user: rows grouped cold, warm, warm after a switch."""
    customer_id = bench_customer(url)
    results: list[tuple[Row, Row, Row]] = []
    for username in USERS:
        user = session_user(url, username)
        for page in pages or PAGES:
            results.append(bench_page(page, user, customer_id, repeats))
            print(f"    {results[-1][0].item}: cold {results[-1][0].cells()[3]}", flush=True)
    clear_caches()
    return [row for index in range(3) for rows in results for row in rows[index : index + 1]]


def page_shows(at: AppTest, needle: str) -> bool:
    """Whether ``needle`` appears in a table or text of the rendered page."""
    for frame in at.dataframe:
        if (
            frame.value.astype(str)
            .apply(lambda col: col.str.contains(needle, regex=False))
            .any(axis=None)
        ):
            return True
    return any(needle in str(element.value) for element in [*at.markdown, *at.caption])


def write_interaction(url: str, actor: Actor, customer_id: int, subject: str) -> None:
    """What the interaction form does on submit: validate, insert, commit, invalidate."""
    from app.services.care import create_interaction
    from components.data import clear_entry_caches, clear_overview_cache, engine

    payload = {
        "customer_id": customer_id,
        "user_id": actor.user_id,
        "kind": "call",
        "direction": "outbound",
        "occurred_at": dt.datetime.now(dt.UTC),
        "subject": subject,
        "notes": "written by make bench",
        "outcome": None,
        "follow_up_due": None,
    }
    with Session(engine(url), expire_on_commit=False) as session:
        create_interaction(
            session=session, data=payload, actor=actor, idempotency_key=f"bench:{subject}"
        )
    # A record write clears the dashboard and customer reads (components.data), and the
    # form's own pick list of open items.
    clear_overview_cache()
    clear_entry_caches("items")


def bench_writes(url: str, writes: int, renders: int) -> list[Row]:
    """The form write path p50/p95 over ``writes`` writes, then ``renders`` times: write,
    render the customer's 360° page, and check the new interaction is on it."""
    customer_id = bench_customer(url)
    user = session_user(url, "staff1")
    actor = Actor(user_id=user["user_id"], username=user["username"], role=Role(user["role"]))
    token = uuid.uuid4().hex[:8]
    page = ROOT / "pages" / "customer.py"
    write = Row("write", "interaction: validate, insert, commit, invalidate", on_p95=True)
    write.target = TARGET_WRITE_P95
    render = Row("write", "next render of the customer 360° page (warm caches)")
    shown = 0
    at = new_app(page, user, {"id": str(customer_id)})
    run(at)
    for index in range(writes):
        seconds, _ = timed(
            lambda index=index: write_interaction(
                url, actor, customer_id, f"bench write {token} {index}"
            )
        )
        write.samples.append(seconds)
    for index in range(renders):
        subject = f"bench write {token} render {index}"
        write_interaction(url, actor, customer_id, subject)
        render.samples.append(run(at))
        shown += page_shows(at, subject)
    render.note = f"shown after {shown}/{renders} writes"
    if shown != renders:
        render.error = f"the new interaction was missing after {renders - shown} writes"
    clear_caches()
    return [write, render]
