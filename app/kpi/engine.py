"""One entry point computing any set of KPIs for a period, with comparison and target."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app.errors import InvalidInput
from app.models import Target, utcnow

from .base import KpiContext, KpiFilters
from .period import Period
from .registry import KpiDefinition, Measured, all_kpis

Compare = Literal["previous", "last_year", "target"] | None


@dataclass(frozen=True)
class KpiResult:
    """A KPI's value for the period with its comparison, change and target."""

    id: str
    label: str
    label_vi: str
    unit: str
    direction: str
    family: str
    formula: str
    note: str
    value: Any
    compare_value: Any
    change: Any
    change_pct: float | None
    target: Any
    completion: float | None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class KpiReport:
    """Every requested KPI for one period and its comparison period."""

    period: Period
    compare: str | None
    compare_period: Period | None
    filters: KpiFilters
    as_of: dt.datetime
    kpis: list[KpiResult]

    def by_id(self) -> dict[str, KpiResult]:
        """Results keyed by KPI id."""
        return {result.id: result for result in self.kpis}


def comparison_period(period: Period, compare: Compare) -> Period | None:
    """The period compared against: the previous one of equal length or last year's."""
    if compare == "previous":
        return period.previous()
    if compare == "last_year":
        return period.last_year()
    return None


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Measured) else value


def _change(value: Any, base: Any) -> tuple[Any, float | None]:
    if value is None or base is None:
        return None, None
    if isinstance(value, Decimal) or isinstance(base, Decimal):
        difference: Any = Decimal(str(value)) - Decimal(str(base))
    else:
        difference = value - base
    relative = None if base == 0 else float(difference) / abs(float(base))
    return difference, relative


def find_target(
    *, session: Session, definition: KpiDefinition, period: Period, segment: str | None
) -> Decimal | None:
    """The target for the KPI over exactly this period, or for additive KPIs the sum of
    targets lying inside it when they cover it completely."""
    segment_condition = Target.segment == segment if segment else Target.segment.is_(None)
    exact = session.exec(
        select(Target.target_value)
        .where(
            Target.kpi_id == definition.id,
            Target.period_start == period.start,
            Target.period_end == period.end,
            segment_condition,
        )
        .order_by(Target.id.desc())
    ).first()
    if exact is not None:
        return Decimal(str(exact))
    if not definition.additive:
        return None
    total, covered_days = session.exec(
        select(func.sum(Target.target_value), func.count(Target.id)).where(
            Target.kpi_id == definition.id,
            Target.period_start >= period.start,
            Target.period_end <= period.end,
            segment_condition,
        )
    ).one()
    if not covered_days:
        return None
    pieces = session.exec(
        select(Target.period_start, Target.period_end).where(
            Target.kpi_id == definition.id,
            Target.period_start >= period.start,
            Target.period_end <= period.end,
            segment_condition,
        )
    ).all()
    days = sum((end - start).days for start, end in pieces)
    return Decimal(str(total)) if days == period.days else None


def completion_ratio(value: Any, target: Decimal | None, direction: str) -> float | None:
    """actual ÷ target (target ÷ actual for lower-is-better KPIs); None when undefined."""
    if value is None or target is None:
        return None
    actual = Decimal(str(value))
    if direction == "lower":
        return None if actual == 0 else float(target / actual)
    return None if target == 0 else float(actual / target)


def compute(
    session: Session,
    kpi_ids: list[str] | None = None,
    period: Period | None = None,
    filters: KpiFilters | None = None,
    compare: Compare = "previous",
    use_summaries: bool = True,
) -> KpiReport:
    """Compute the KPIs (all when ``kpi_ids`` is None) for the period.

    ``use_summaries=False`` reads only the raw rows (the reference for the summaries).
    """
    registry = all_kpis()
    ids = list(registry) if kpi_ids is None else list(kpi_ids)
    unknown = [kpi_id for kpi_id in ids if kpi_id not in registry]
    if unknown:
        raise InvalidInput({"kpi": f"unknown KPI id(s): {', '.join(unknown)}"})
    if period is None:
        raise InvalidInput({"period": "a period is required"})
    if compare not in ("previous", "last_year", "target", None):
        raise InvalidInput({"compare": "must be previous, last_year or target"})
    ctx = KpiContext.create(session=session, filters=filters, use_summaries=use_summaries)
    other = comparison_period(period, compare)
    results = []
    for kpi_id in ids:
        definition = registry[kpi_id]
        raw = definition.compute(ctx, period)
        value = _plain(raw)
        target = find_target(
            session=session, definition=definition, period=period, segment=ctx.filters.segment
        )
        if compare == "target":
            compare_value = target
        elif other is not None:
            compare_value = _plain(definition.compute(ctx, other))
        else:
            compare_value = None
        change, change_pct = _change(value, compare_value)
        results.append(
            KpiResult(
                id=definition.id,
                label=definition.label_en,
                label_vi=definition.label_vi,
                unit=definition.unit,
                direction=definition.direction,
                family=definition.family,
                formula=definition.formula,
                note=definition.note,
                value=value,
                compare_value=compare_value,
                change=change,
                change_pct=change_pct,
                target=target,
                completion=completion_ratio(value, target, definition.direction),
                details=raw.details if isinstance(raw, Measured) else {},
            )
        )
    return KpiReport(
        period=period,
        compare=compare,
        compare_period=other,
        filters=ctx.filters,
        as_of=utcnow(),
        kpis=results,
    )


def compute_series(
    session: Session,
    kpi_ids: list[str],
    periods: list[Period],
    filters: KpiFilters | None = None,
    use_summaries: bool = True,
) -> dict[str, list[Any]]:
    """Each KPI's plain value for each period (no comparison, no targets), e.g. the
    overview's 12-month sparklines.

    One context serves every period, and the order KPIs of all periods (and of their
    previous periods, for retention and churn) come from two queries on the summaries.
    Churn/retention, NPS, open complaints past SLA and the weighted pipeline compute all
    periods in one grouped query each (``series_batch``). ``use_summaries=False``
    computes every period on its own from the raw rows: the reference for both.
    """
    from .series_batch import batch_series
    from .summaries import preload_order_kpis

    registry = all_kpis()
    unknown = [kpi_id for kpi_id in kpi_ids if kpi_id not in registry]
    if unknown:
        raise InvalidInput({"kpi": f"unknown KPI id(s): {', '.join(unknown)}"})
    ctx = KpiContext.create(session=session, filters=filters, use_summaries=use_summaries)
    preload_order_kpis(ctx, [*periods, *(period.previous() for period in periods)])
    batched = batch_series(ctx, kpi_ids, periods) if use_summaries else {}
    return {
        kpi_id: batched[kpi_id]
        if kpi_id in batched
        else [_plain(registry[kpi_id].compute(ctx, period)) for period in periods]
        for kpi_id in kpi_ids
    }


def json_number(value: Any) -> Any:
    """Decimal → float, leave None/ints/floats; for JSON output."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and value != value:  # NaN never leaves the engine
        return None
    return value


def report_as_json(report: KpiReport) -> dict[str, Any]:
    """The report in the documented JSON shape (numbers as numbers or null)."""

    def clean(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {key: clean(item) for key, item in obj.items()}
        if isinstance(obj, list):
            return [clean(item) for item in obj]
        return json_number(obj)

    return {
        "period": {"from": report.period.start.isoformat(), "to": report.period.end.isoformat()},
        "compare": None
        if report.compare_period is None and report.compare != "target"
        else {
            "mode": report.compare,
            "from": report.compare_period.start.isoformat() if report.compare_period else None,
            "to": report.compare_period.end.isoformat() if report.compare_period else None,
        },
        "filters": report.filters.as_dict(),
        "as_of": report.as_of.isoformat(),
        "kpis": [
            clean(
                {
                    "id": result.id,
                    "label": result.label,
                    "label_vi": result.label_vi,
                    "family": result.family,
                    "unit": result.unit,
                    "direction": result.direction,
                    "value": result.value,
                    "compare_value": result.compare_value,
                    "change": result.change,
                    "change_pct": result.change_pct,
                    "target": result.target,
                    "completion": result.completion,
                    "formula": result.formula,
                    "details": result.details,
                }
            )
            for result in report.kpis
        ],
    }


# The KPIs that take longest at the medium demo scale (0.1-0.35 s each with their
# comparison, docs/performance.md); compute_concurrently starts them first.
SLOW_KPIS = frozenset(
    {
        "untouched_customer_rate",
        "duplicate_rate",
        "crm_maturity_level",
        "acquisition_rate",
        "cross_sell_rate",
        "loyal_customer_rate",
        "record_freshness",
        "feedback_coverage",
    }
)


def kpi_tasks(
    kpi_ids: list[str],
    period: Period,
    filters: KpiFilters | None = None,
    compare: Compare = "previous",
) -> list[Callable[[Session], KpiReport]]:
    """One task per KPI computing its single-KPI report, for app.kpi.concurrent.

    Each KPI gets its own context: measured at the medium scale, the 56 KPIs computed one
    by one cost the same as in one context (their shared reads are per KPI family and
    cheap), so nothing is lost by splitting them.
    """
    return [
        lambda session, kpi_id=kpi_id: compute(session, [kpi_id], period, filters, compare)
        for kpi_id in kpi_ids
    ]


def merged_report(reports: list[KpiReport]) -> KpiReport:
    """One report from the single-KPI reports of ``kpi_tasks``, in their order."""
    if not reports:
        raise ValueError("merged_report needs at least one report")  # a caller bug
    first = reports[0]
    return KpiReport(
        period=first.period,
        compare=first.compare,
        compare_period=first.compare_period,
        filters=first.filters,
        as_of=first.as_of,
        kpis=[result for report in reports for result in report.kpis],
    )


def compute_concurrently(
    engine: Engine,
    kpi_ids: list[str] | None,
    period: Period,
    filters: KpiFilters | None = None,
    compare: Compare = "previous",
    *,
    workers: int | None = None,
) -> KpiReport:
    """``compute`` with the KPIs spread over several connections (app.kpi.concurrent);
    the same report, in the same order."""
    from .concurrent import run_concurrently

    ids = list(all_kpis()) if kpi_ids is None else list(kpi_ids)
    if len(ids) <= 1:
        with Session(engine) as session:
            return compute(session, ids, period, filters, compare)
    # The slowest KPIs first, so none of them starts last and keeps one thread busy
    # alone at the end; the report keeps the order asked for.
    order = sorted(range(len(ids)), key=lambda index: ids[index] not in SLOW_KPIS)
    tasks = kpi_tasks([ids[index] for index in order], period, filters, compare)
    found = run_concurrently(engine, tasks, workers=workers)
    by_index = dict(zip(order, found, strict=True))
    return merged_report([by_index[index] for index in range(len(ids))])
