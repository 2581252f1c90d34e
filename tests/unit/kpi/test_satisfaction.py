"""CSAT and NPS (kpis.md, slide 142) on hand-built survey answers.

P = March 2026 = [28 Feb 17:00Z, 31 Mar 17:00Z); P' = [29 Jan, 1 Mar) local.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session

from app.kpi.period import Period

from .helpers import MARCH_PREVIOUS, add_answer, add_customers, local, utc, values

IDS = ["csat_avg", "csat_share", "nps"]
A, C, D, E, G, L = range(1, 7)


def build_answers(session: Session) -> None:
    add_customers(session, A, C, D, E, G, L)
    # A answers three times in P. The later NPS answer (3, 20 Mar) has the smaller id, so
    # "latest" must follow answered_at, not insertion order.
    add_answer(session, 1, A, local(2026, 3, 20, 10), nps=3)
    add_answer(session, 2, A, local(2026, 3, 5, 10), nps=10, csat=5)
    # A's latest answer overall has no NPS score: A's latest NPS answer stays the 3.
    add_answer(session, 3, A, local(2026, 3, 25, 10), csat=3)
    add_answer(session, 4, C, local(2026, 3, 10, 10), nps=9, csat=4)
    add_answer(session, 5, D, local(2026, 3, 11, 10), nps=7, csat=2)
    # 23:59 local 31 Mar: the last minute of P.
    add_answer(session, 6, E, utc(2026, 3, 31, 16, 59), nps=8, csat=1)
    # Exactly 00:00 local 1 Apr = the end of P: not in P.
    add_answer(session, 7, G, utc(2026, 3, 31, 17, 0), nps=0, csat=1)
    # 23:59 local 28 Feb: P', even though it is later than nothing in P for L.
    add_answer(session, 8, L, utc(2026, 2, 28, 16, 59), nps=2, csat=1)
    # Exactly 00:00 local 1 Mar = the start of P: in P.
    add_answer(session, 9, L, utc(2026, 2, 28, 17, 0), nps=10, csat=4)


def test_satisfaction_on_hand_fixture(session: Session) -> None:
    build_answers(session)
    got = values(session, IDS)
    # CSAT answers in P: 5 (A), 3 (A), 4 (C), 2 (D), 1 (E), 4 (L) -> 19 / 6.
    assert got["csat_avg"] == pytest.approx(19 / 6)
    # CSAT >= 4: 5, 4, 4 -> 3 of 6 (A's NPS-only answer has no CSAT and is left out).
    assert got["csat_share"] == pytest.approx(3 / 6)
    # Latest NPS per customer: A 3 (detractor), C 9 and L 10 (promoters), D 7, E 8 (passives).
    # (2 - 1) / 5 * 100 = 20. Counting every answer would give (3 - 1) / 6 * 100 = 33.3.
    assert got["nps"] == pytest.approx(20.0)


def test_satisfaction_previous_period(session: Session) -> None:
    build_answers(session)
    got = values(session, IDS, MARCH_PREVIOUS)
    # Only L's answer at 23:59 local 28 Feb: CSAT 1, NPS 2 (a detractor).
    assert got["csat_avg"] == pytest.approx(1.0)
    assert got["csat_share"] == 0.0  # a zero numerator is 0, not None
    assert got["nps"] == pytest.approx(-100.0)


def test_satisfaction_empty_database(session: Session) -> None:
    got = values(session, IDS)
    assert got["csat_avg"] is None
    assert got["csat_share"] is None
    assert got["nps"] is None


def test_satisfaction_zero_denominators(session: Session) -> None:
    """Answers with only NPS leave CSAT undefined and vice versa."""
    add_customers(session, 1, 2)
    add_answer(session, 1, 1, local(2026, 3, 10, 10), nps=9)
    # Customer 2's CSAT-only answer does not enter the NPS denominator.
    add_answer(session, 2, 2, local(2026, 3, 11, 10), csat=5)
    got = values(session, IDS)
    assert got["csat_avg"] == pytest.approx(5.0)
    assert got["nps"] == pytest.approx(100.0)
    # Only an NPS answer in P' -> CSAT has no answers there, and vice versa for April.
    add_answer(session, 3, 1, local(2026, 2, 10, 10), nps=0)
    got = values(session, IDS, MARCH_PREVIOUS)
    assert got["csat_avg"] is None
    assert got["csat_share"] is None
    assert got["nps"] == pytest.approx(-100.0)
    add_answer(session, 4, 2, local(2026, 4, 10, 10), csat=2)
    got = values(session, IDS, Period(dt.date(2026, 4, 1), dt.date(2026, 5, 1)))
    assert got["nps"] is None
    assert got["csat_share"] == 0.0
