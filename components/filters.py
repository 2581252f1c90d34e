"""Global filters: set once in the sidebar, kept in the URL, read by every page with defaults.

Pages call ``read_filters(today)``; it never raises: a malformed value in the address is
ignored (with a note) and the default is used, so a bookmarked or hand-edited link
always opens.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import streamlit as st

from app.kpi.base import KpiFilters
from app.kpi.period import PRESETS, Period, preset_period
from app.models import CustomerKind
from app.services.access import Actor
from components.i18n import enum_label, t

COMPARE_MODES: tuple[str, ...] = ("previous", "last_year", "target")
# The address parameters the global filters are read from.
FILTER_PARAMETERS: tuple[str, ...] = (
    "preset",
    "from",
    "to",
    "compare",
    "segment",
    "region",
    "province",
    "owner",
    "kind",
)


@dataclass(frozen=True)
class GlobalFilters:
    """What the sidebar filters say, validated."""

    preset: str
    period: Period
    compare: str
    segment: str | None = None
    region: str | None = None
    province: str | None = None
    owner_id: int | None = None
    kind: str | None = None
    ignored: tuple[str, ...] = field(default=())

    def kpi_filters(self, actor: Actor) -> KpiFilters:
        """The KPI engine's filters, restricted to the actor's customers for staff."""
        return KpiFilters(
            segment=self.segment,
            region=self.region,
            province=self.province,
            owner_id=self.owner_id,
            kind=self.kind,
            visible_to_owner_id=actor.user_id if actor.sees_own_customers_only else None,
        )

    def cache_key(self) -> tuple:
        """A hashable key for cached reads."""
        return (
            self.period.start.isoformat(),
            self.period.end.isoformat(),
            self.compare,
            self.segment,
            self.region,
            self.province,
            self.owner_id,
            self.kind,
        )


def _date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def parse_filters(params: dict[str, str], today: dt.date) -> GlobalFilters:
    """Validate URL parameters into filters; bad values fall back to defaults (pure)."""
    ignored: list[str] = []
    preset = params.get("preset") or "this_month"
    if preset not in PRESETS:
        ignored.append("preset")
        preset = "this_month"
    period = preset_period(preset, today)
    if preset == "custom":
        start, last = _date(params.get("from")), _date(params.get("to"))
        if start and last and last >= start and (last - start).days <= 366 * 20:
            period = Period(start, last + dt.timedelta(days=1))
        else:
            ignored.append("from/to")
            preset = "this_month"
    compare = params.get("compare") or "previous"
    if compare not in COMPARE_MODES:
        ignored.append("compare")
        compare = "previous"
    owner_id = None
    if params.get("owner"):
        # isascii(): isdigit() alone accepts "²", which int() rejects.
        if params["owner"].isascii() and params["owner"].isdigit() and len(params["owner"]) < 10:
            owner_id = int(params["owner"])
        else:
            ignored.append("owner")
    kind = params.get("kind") or None
    if kind is not None and kind not in {member.value for member in CustomerKind}:
        ignored.append("kind")
        kind = None

    def text(name: str) -> str | None:
        value = (params.get(name) or "").strip()
        # Control characters are never part of a segment or place name, and PostgreSQL
        # refuses NUL in a string outright.
        if len(value) > 100 or any(ord(char) < 32 for char in value):
            ignored.append(name)
            return None
        return value or None

    return GlobalFilters(
        preset=preset,
        period=period,
        compare=compare,
        segment=text("segment"),
        region=text("region"),
        province=text("province"),
        owner_id=owner_id,
        kind=kind,
        ignored=tuple(ignored),
    )


def read_filters(today: dt.date) -> GlobalFilters:
    """The filters in the URL (with defaults), as pages read them."""
    params = {key: st.query_params.get(key) for key in FILTER_PARAMETERS}
    return parse_filters({k: v for k, v in params.items() if v is not None}, today)


def show_ignored(filters: GlobalFilters) -> None:
    """Tell the user which address parameters were not understood."""
    for name in filters.ignored:
        st.caption(t("common.invalid_filter", name=name))


def _select(label: str, options: list, current, key: str, labels: dict | None = None):  # noqa: ANN001, ANN202
    choices = [None, *options]
    index = choices.index(current) if current in choices else 0
    # Labels are built during the run: Streamlit may call format_func later, outside the
    # script, where the session's language is no longer known.
    shown = {None: t("common.all"), **{value: str(value) for value in options}, **(labels or {})}
    return st.selectbox(label, choices, index=index, key=key, format_func=shown.get)


def render_filter_sidebar(today: dt.date, options: dict[str, list]) -> GlobalFilters:
    """Draw the global filters in the sidebar and mirror them into the URL."""
    current = read_filters(today)
    owners = dict(options.get("owner", []))
    with st.sidebar:
        st.subheader(t("common.filters"))
        preset_labels = {name: t(f"common.preset_{name}") for name in PRESETS}
        preset = st.selectbox(
            t("common.period"),
            PRESETS,
            index=PRESETS.index(current.preset),
            key="flt_preset",
            format_func=preset_labels.get,
        )
        params: dict[str, str] = {"preset": preset} if preset != "this_month" else {}
        if preset == "custom":
            chosen = st.date_input(
                t("common.period"),
                value=(current.period.start, current.period.as_of_day),
                key="flt_range",
                format="DD/MM/YYYY",
            )
            if isinstance(chosen, tuple) and len(chosen) == 2:
                params["from"], params["to"] = chosen[0].isoformat(), chosen[1].isoformat()
            else:
                params["from"] = current.period.start.isoformat()
                params["to"] = current.period.as_of_day.isoformat()
        compare_labels = {mode: t(f"common.compare_{mode}") for mode in COMPARE_MODES}
        compare = st.selectbox(
            t("common.compare_to"),
            COMPARE_MODES,
            index=COMPARE_MODES.index(current.compare),
            key="flt_compare",
            format_func=compare_labels.get,
        )
        if compare != "previous":
            params["compare"] = compare
        for name in ("segment", "region", "province"):
            value = _select(
                t(f"common.{name}"),
                options.get(name, []),
                getattr(current, name),
                key=f"flt_{name}",
            )
            if value:
                params[name] = value
        owner = _select(
            t("common.owner"), list(owners), current.owner_id, key="flt_owner", labels=owners
        )
        if owner is not None:
            params["owner"] = str(owner)
        kinds = [kind.value for kind in CustomerKind]
        kind = _select(
            t("common.kind"),
            kinds,
            current.kind,
            key="flt_kind",
            labels={kind.value: enum_label(kind) for kind in CustomerKind},
        )
        if kind:
            params["kind"] = kind
    keep = {key: st.query_params[key] for key in ("lang", "id") if key in st.query_params}
    if dict(st.query_params) != {**keep, **params}:
        st.query_params.from_dict({**keep, **params})
    return read_filters(today)
