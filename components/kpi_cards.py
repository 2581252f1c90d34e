"""KPI cards: pure formatting helpers (Vietnamese number style) and the card-row renderer.

Everything above ``kpi_card_row`` is pure and tested without a Streamlit runtime.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Optional, Union

import streamlit as st

from app.kpi.overview import OverviewNumbers

Number = Union[Decimal, int, float]

NOT_AVAILABLE = "n/a"
CURRENCY_SYMBOL = "₫"
# Vietnamese style: "." groups thousands, "," marks decimals ("1.234.567,5").
THOUSANDS_SEPARATOR = "."
DECIMAL_SEPARATOR = ","
_COMPACT_UNITS = ((Decimal(10) ** 9, "tỷ"), (Decimal(10) ** 6, "triệu"))
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _round(value: Number, places: int = 0) -> Decimal:
    # Through str so that floats round as they print (0.125 -> 0.13, not 0.12).
    exponent = Decimal(1).scaleb(-places)
    return Decimal(str(value)).quantize(exponent, rounding=ROUND_HALF_UP)


def _group(whole: int) -> str:
    return f"{whole:,}".replace(",", THOUSANDS_SEPARATOR)


def _decimal_text(value: Decimal, places: int) -> str:
    """A non-negative Decimal rounded to ``places`` in Vietnamese style ("1.234,5")."""
    whole, _, fraction = f"{_round(value, places):f}".partition(".")
    return _group(int(whole)) + (DECIMAL_SEPARATOR + fraction if fraction else "")


def format_vnd(amount: Number) -> str:
    """Whole đồng with dot thousands separators: ``Decimal("1234567.4")`` -> "1.234.567 ₫"."""
    rounded = _round(amount)
    sign = "-" if rounded < 0 else ""
    return f"{sign}{_group(int(abs(rounded)))} {CURRENCY_SYMBOL}"


def format_vnd_compact(amount: Number) -> str:
    """Short money for cards: "12,3 tỷ ₫", "4,5 triệu ₫"; below a million the full amount."""
    value = Decimal(str(amount))
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    # Largest unit first, judged after rounding: 999,96 triệu is "1 tỷ", never "1.000 triệu".
    for unit, name in _COMPACT_UNITS:
        scaled = _round(magnitude / unit, 1)
        if scaled >= 1:
            # About three significant digits: "4,0 tỷ", "12,3 tỷ", "949 triệu".
            text = _decimal_text(magnitude / unit, 0 if scaled >= 100 else 1)
            return f"{sign}{text} {name} {CURRENCY_SYMBOL}"
    return format_vnd(amount)


def format_count(count: int) -> str:
    """A count with dot thousands separators: 12345 -> "12.345"."""
    sign = "-" if count < 0 else ""
    return sign + _group(abs(int(count)))


def format_signed_count(change: int) -> str:
    """A count change with its sign: 3 -> "+3", -1234 -> "-1.234", 0 -> "0"."""
    if change > 0:
        return "+" + format_count(change)
    return format_count(change)


def format_pct(fraction: Optional[Number], *, signed: bool = False, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.1234 -> "12,3%"; None -> "n/a"; signed adds "+"."""
    if fraction is None:
        return NOT_AVAILABLE
    percent = _round(Decimal(str(fraction)) * 100, decimals)
    if percent == 0:
        # No "-0,0%" or "+0,0%": a change that rounds to zero has no direction.
        return _decimal_text(Decimal(0), decimals) + "%"
    sign = "-" if percent < 0 else ("+" if signed else "")
    return f"{sign}{_decimal_text(abs(percent), decimals)}%"


def format_date(day: dt.date) -> str:
    """A date as Vietnamese users write it: 15/06/2026."""
    return day.strftime("%d/%m/%Y")


def format_datetime(moment: dt.datetime) -> str:
    """A datetime in its own time zone, to the minute: 15/06/2026 09:05."""
    return moment.strftime("%d/%m/%Y %H:%M")


def format_month(day: dt.date) -> str:
    """The month of ``day`` in words: "June 2026"."""
    return f"{_MONTH_NAMES[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class KpiCard:
    """What one metric card shows; ``trend`` is the delta's sign (0: grey, no arrow)."""

    label: str
    value: str
    help: str
    delta: Optional[str] = None
    trend: int = 0
    delta_description: Optional[str] = None


def _sign(value: Optional[Number]) -> int:
    if value is None or value == 0:
        return 0
    return 1 if value > 0 else -1


def overview_caption(numbers: OverviewNumbers) -> str:
    """The overview's caption: which month, which day counts as today, when computed."""
    return (
        f"{format_month(numbers.month_start)} · today {format_date(numbers.today)}"
        f" ({numbers.timezone}) · computed {format_datetime(numbers.as_of)}"
    )


def overview_cards(numbers: OverviewNumbers) -> list[KpiCard]:
    """The three overview cards, with deltas against last month and formulas as help."""
    revenue_delta = format_pct(numbers.revenue_change_pct, signed=True)
    # "n/a" and a change that rounds to 0,0% have no direction.
    revenue_trend = (
        0 if revenue_delta in (NOT_AVAILABLE, format_pct(0)) else _sign(numbers.revenue_change_pct)
    )
    return [
        KpiCard(
            label="Active customers",
            value=format_count(numbers.active_customers),
            delta=format_signed_count(numbers.active_customers_change),
            trend=_sign(numbers.active_customers_change),
            delta_description=(
                f"vs last month ({format_count(numbers.active_customers_last_month)})"
            ),
            help=(
                "Distinct customers with at least one counted order (status confirmed,"
                " delivered or paid) dated in this calendar month, "
                f"{numbers.timezone} time. Delta: this month − last month."
            ),
        ),
        KpiCard(
            label="Revenue this month",
            # Abbreviated: a full amount in billions of đồng does not fit a third of the
            # page at 1280 px and gets cut off; the exact amounts are in the help text.
            value=format_vnd_compact(numbers.revenue_this_month),
            delta=revenue_delta,
            trend=revenue_trend,
            delta_description=f"vs last month ({format_vnd_compact(numbers.revenue_last_month)})",
            help=(
                "Σ amount of counted orders (confirmed, delivered or paid) dated in this"
                f" calendar month, {numbers.timezone} time. Delta: (this month − last month)"
                " / last month, against the whole of last month while this month is still"
                " running; n/a when last month had no revenue.\n\n"
                f"This month: {format_vnd(numbers.revenue_this_month)}; "
                f"last month: {format_vnd(numbers.revenue_last_month)}."
            ),
        ),
        KpiCard(
            label="Open complaints",
            value=format_count(numbers.open_complaints),
            help="Complaints whose status is open, in progress or reopened, right now.",
        ),
    ]


def kpi_card_row(cards: Sequence[KpiCard], key_prefix: str) -> None:
    """Render cards side by side as bordered ``st.metric``s with their formula on hover."""
    if not cards:
        return
    with st.container(key=f"{key_prefix}_cards"):
        for column, card in zip(st.columns(len(cards)), cards, strict=True):
            with column:
                neutral = card.trend == 0
                st.metric(
                    card.label,
                    card.value,
                    delta=card.delta,
                    # String deltas are coloured by their first character only; a zero or
                    # "n/a" change must stay grey and arrowless.
                    delta_color="off" if neutral else "normal",
                    delta_arrow="off" if neutral else "auto",
                    delta_description=card.delta_description if card.delta else None,
                    help=card.help,
                    border=True,
                )
