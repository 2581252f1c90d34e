"""Results of CRM (kpis.md, slide 142) and customer indicators, pinned to hand counts.

Period P = March 2026 = [00:00 local 1 Mar, 00:00 local 1 Apr) = [28 Feb 17:00Z, 31 Mar 17:00Z).
Its previous period P' = [29 Jan, 1 Mar) local (31 days, like P).
"""

from __future__ import annotations

import pytest
from sqlmodel import Session

from app.models import OrderStatus

from .helpers import (
    MARCH_PREVIOUS,
    add_complaint,
    add_customer,
    add_order,
    add_product,
    local,
    utc,
    values,
)

RESULT_IDS = [
    "customers_total",
    "active_customers",
    "new_customers",
    "new_customer_rate",
    "retention_rate",
    "churn_rate",
    "lapsed_customers",
    "loyal_customer_rate",
    "repeat_purchase_rate",
    "referral_rate",
    "complaint_resolution_rate",
    "complaint_recovery_rate",
    "old_customers",
    "referred_new_customers",
    "cross_sell_rate",
]
COUNTS = {
    "customers_total",
    "active_customers",
    "new_customers",
    "lapsed_customers",
    "old_customers",
    "referred_new_customers",
}

A, B, C, D, E, F, G, H, I, J, K, L = range(1, 13)  # noqa: E741 - customer I
PAPER, INK, PAPER_2 = 1, 2, 3


def build_results(session: Session) -> None:
    """Twelve customers A..L; every boundary row is commented."""
    for customer_id in (A, B, E, F, G, H, I, J, K, L):
        add_customer(session, customer_id)
    add_customer(session, C, referred_by_id=A)
    add_customer(session, D, referred_by_id=E)
    add_product(session, PAPER, "Giấy")
    add_product(session, INK, "Mực")
    add_product(session, PAPER_2, "Giấy")

    # A: old customer, active in P' and P, loyal, cross-sells over two orders.
    # 00:00 local 1 Apr 2025 = the first instant of the 365-day window [end - 365 d, end).
    add_order(session, 101, A, utc(2025, 3, 31, 17, 0))
    add_order(session, 102, A, local(2026, 2, 10, 10))
    add_order(session, 103, A, local(2026, 3, 5, 10), lines=[(PAPER, False, 0)])
    add_order(session, 104, A, local(2026, 3, 20, 10), lines=[(INK, False, 0)])
    # B: active in P' only (23:30 local 28 Feb, the last half hour of P'), so churned.
    add_order(session, 201, B, local(2025, 12, 1, 10))
    add_order(session, 202, B, utc(2026, 2, 28, 16, 30))
    # C: first order exactly at 00:00 local 1 Mar = the start of P: new in P.
    add_order(session, 301, C, utc(2026, 2, 28, 17, 0), lines=[(PAPER, False, 0)])
    add_order(session, 302, C, local(2026, 3, 20, 9), lines=[(PAPER_2, False, 0)])
    # A cancelled order with a second category does not make C a cross-buyer.
    add_order(
        session,
        303,
        C,
        local(2026, 3, 21, 9),
        status=OrderStatus.cancelled,
        lines=[(INK, False, 0)],
    )
    # D: a cancelled order in P' never counts, so D's first counted order is in P.
    add_order(session, 401, D, local(2026, 2, 15, 10), status=OrderStatus.cancelled)
    # 01:00 and 20:00 local 10 Mar: two UTC dates (9 and 10 Mar), one local purchase day.
    add_order(session, 402, D, utc(2026, 3, 9, 18, 0), lines=[(PAPER, False, 0), (INK, False, 0)])
    add_order(session, 403, D, utc(2026, 3, 10, 13, 0))
    # E: three orders on one local day are one purchase day (not loyal, not repeat).
    for number, hour in enumerate((9, 10, 11)):
        add_order(session, 501 + number, E, local(2026, 3, 12, hour))
    # F: exactly at 00:00 local 1 Apr = the end of P: not in P, not "before end".
    add_order(session, 601, F, utc(2026, 3, 31, 17, 0))
    # F: a draft order in P never counts.
    add_order(
        session,
        602,
        F,
        local(2026, 3, 15, 10),
        status=OrderStatus.draft,
        lines=[(PAPER, False, 0), (INK, False, 0)],
    )
    # G: 06:30 local 1 Mar = 23:30Z 28 Feb: the UTC date is February, the order is March's.
    add_order(session, 701, G, local(2025, 1, 10, 10))
    add_order(session, 702, G, utc(2026, 2, 28, 23, 30))
    # Lapse window (365 days): last order L lapses in P when
    #   as-of (31 Mar 2026) - L > 365 and (28 Feb 2026, the as-of day of P') - L <= 365,
    #   i.e. L in [28 Feb 2025, 31 Mar 2025).
    add_order(session, 801, H, local(2025, 2, 28, 10))  # first day of the range: lapses in P
    add_order(session, 901, I, local(2025, 3, 30, 10))  # 366 days before as-of: lapses
    add_order(session, 1001, J, local(2025, 3, 31, 23, 0))  # exactly 365 days: not yet
    add_order(session, 1101, K, local(2025, 2, 27, 10))  # lapsed already in P'
    # L: active in P' and P.
    add_order(session, 1201, L, local(2026, 2, 1, 10))
    add_order(session, 1202, L, local(2026, 3, 15, 10))

    # Complaints.
    add_complaint(session, 1, A, local(2026, 3, 2, 9), resolved_at=local(2026, 3, 5, 9))
    # Resolved exactly at the end of P: not "resolved before end".
    add_complaint(session, 2, D, local(2026, 3, 25, 9), resolved_at=utc(2026, 3, 31, 17, 0))
    add_complaint(session, 3, E, local(2026, 3, 31, 23, 0))  # opened in P, still open
    add_complaint(session, 4, B, utc(2026, 3, 31, 17, 0))  # opened exactly at the end: not in P
    # Resolved in P'; B places no order in P: not recovered.
    add_complaint(session, 5, B, local(2026, 2, 20, 9), resolved_at=local(2026, 2, 25, 9))
    # Resolved at 23:00 local 28 Feb (P'); L orders in P: recovered.
    add_complaint(session, 6, L, local(2026, 2, 10, 9), resolved_at=local(2026, 2, 28, 23, 0))
    # Resolved exactly at the start of P: in P, not P', so outside the recovery base.
    add_complaint(session, 7, G, local(2026, 2, 20, 9), resolved_at=utc(2026, 2, 28, 17, 0))


def test_results_on_hand_fixture(session: Session) -> None:
    build_results(session)
    got = values(session, RESULT_IDS)
    # Counted order before the end: everyone except F (only the end-instant and a draft).
    assert got["customers_total"] == 11
    # Counted orders in P: A, C, D, E, G (06:30 local 1 Mar), L.
    assert got["active_customers"] == 6
    # First counted order in P: C (start instant), D (cancelled Feb order ignored), E.
    assert got["new_customers"] == 3
    assert got["new_customer_rate"] == pytest.approx(3 / 6)
    # active(P') = {A, B, L}; of them A and L buy again in P.
    assert got["retention_rate"] == pytest.approx(2 / 3)
    assert got["churn_rate"] == pytest.approx(1 / 3)
    assert got["lapsed_customers"] == 2  # H and I
    # Buyers in [1 Apr 2025, 1 Apr 2026): A(4 days) B(2) C(2) D(1) E(1, three orders) G(1) L(2).
    assert got["loyal_customer_rate"] == pytest.approx(1 / 7)
    # >= 2 purchase days in P: A (5, 20 Mar) and C (1, 20 Mar); D has 1 local day.
    assert got["repeat_purchase_rate"] == pytest.approx(2 / 6)
    # New with a referrer: C (by A) and D (by E).
    assert got["referral_rate"] == pytest.approx(2 / 3)
    # Opened in P: complaints 1 (resolved), 2 (resolved at the end), 3 (open).
    assert got["complaint_resolution_rate"] == pytest.approx(1 / 3)
    # Resolved in P': B (no order in P) and L (ordered in P).
    assert got["complaint_recovery_rate"] == pytest.approx(1 / 2)
    assert got["old_customers"] == 3  # A, G, L
    # C's referrer A bought before C's first order; D's referrer E bought after D's.
    assert got["referred_new_customers"] == 1
    # >= 2 categories in P: A (two orders) and D (one order with both).
    assert got["cross_sell_rate"] == pytest.approx(2 / 6)


def test_results_previous_period(session: Session) -> None:
    """The same fixture seen from P' = [29 Jan, 1 Mar): the start-of-March orders move out."""
    build_results(session)
    got = values(
        session,
        ["active_customers", "new_customers", "old_customers", "customers_total"],
        MARCH_PREVIOUS,
    )
    assert got["active_customers"] == 3  # A, B, L
    assert got["new_customers"] == 1  # L (1 Feb)
    assert got["old_customers"] == 2  # A, B
    # Counted orders before 00:00 local 1 Mar: A, B, G, H, I, J, K, L (C starts at the end).
    assert got["customers_total"] == 8


def test_results_empty_database(session: Session) -> None:
    got = values(session, RESULT_IDS)
    for kpi_id in RESULT_IDS:
        if kpi_id in COUNTS:
            assert got[kpi_id] == 0, kpi_id
        else:
            assert got[kpi_id] is None, kpi_id


def test_results_zero_denominators_with_data(session: Session) -> None:
    """One old customer buying in P; nothing in P'; a complaint opened and resolved in P'."""
    add_customer(session, 1)
    add_order(session, 1, 1, local(2025, 6, 1, 10))
    add_order(session, 2, 1, local(2026, 3, 10, 10))
    add_complaint(session, 1, 1, local(2025, 6, 2, 9), resolved_at=local(2025, 6, 3, 9))
    got = values(session, RESULT_IDS)
    assert got["retention_rate"] is None  # nobody active in P'
    assert got["churn_rate"] is None
    assert got["referral_rate"] is None  # no new customers
    assert got["complaint_resolution_rate"] is None  # no complaint opened in P
    assert got["complaint_recovery_rate"] is None  # no complaint resolved in P'
    # Denominators that are not zero give 0.0, not None.
    assert got["new_customer_rate"] == 0.0
    assert got["repeat_purchase_rate"] == 0.0
    assert got["cross_sell_rate"] == 0.0
    assert got["loyal_customer_rate"] == 0.0  # 2 purchase days in the window < 3


def test_results_without_counted_orders(session: Session) -> None:
    """Only cancelled and draft orders: every order-based ratio has a zero denominator."""
    add_customer(session, 1)
    add_order(session, 1, 1, local(2026, 3, 10, 10), status=OrderStatus.cancelled)
    add_order(session, 2, 1, local(2026, 2, 10, 10), status=OrderStatus.draft)
    got = values(session, RESULT_IDS)
    for kpi_id in ("new_customer_rate", "loyal_customer_rate", "repeat_purchase_rate"):
        assert got[kpi_id] is None, kpi_id
    assert got["cross_sell_rate"] is None
    assert got["customers_total"] == 0
    assert got["active_customers"] == 0


def test_loyal_threshold_setting(session: Session) -> None:
    """loyal_min_purchase_days = 2 makes B, C and L loyal too: 4 of 7."""
    from app.settings import set_setting

    build_results(session)
    set_setting(session=session, key="loyal_min_purchase_days", value=2)
    assert values(session, ["loyal_customer_rate"])["loyal_customer_rate"] == pytest.approx(4 / 7)


def test_churn_window_setting(session: Session) -> None:
    """churn_window_days = 30: last order L lapses when L in [start-31, end-31) = [29 Jan, 1 Mar).

    B's last order (23:30 local 28 Feb) is the only one in that range.
    """
    from app.settings import set_setting

    build_results(session)
    set_setting(session=session, key="churn_window_days", value=30)
    assert values(session, ["lapsed_customers"])["lapsed_customers"] == 1
