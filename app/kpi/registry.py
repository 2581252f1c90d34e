"""The KPI registry: one definition per catalogue id, with labels, formula and unit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .base import Direction, KpiContext, Unit
from .period import Period

FAMILIES = (
    "results",
    "internal",
    "external",
    "financial",
    "customer",
    "pipeline",
    "complaints",
    "satisfaction",
    "database quality",
    "continuity",
    "campaigns",
)


@dataclass(frozen=True)
class Measured:
    """A KPI value with extra figures shown beside it (e.g. the p90 of a median)."""

    value: Any
    details: dict[str, Any] = field(default_factory=dict)


KpiFunction = Callable[[KpiContext, Period], Any]


@dataclass(frozen=True)
class KpiDefinition:
    """A KPI of the catalogue: how it is named, explained and computed."""

    id: str
    label_en: str
    label_vi: str
    formula: str
    unit: Unit
    direction: Direction
    family: str
    compute: KpiFunction
    additive: bool = False
    note: str = ""

    def label(self, language: str = "en") -> str:
        """The label in the given language ('vi' or 'en')."""
        return self.label_vi if language == "vi" else self.label_en


REGISTRY: dict[str, KpiDefinition] = {}

# The order of the KPI catalogue (kpis.md): listings, the CLI and JSON follow it, so the
# output does not depend on which module happened to be imported first.
CATALOGUE_ORDER: tuple[str, ...] = (
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
    "csat_avg",
    "csat_share",
    "nps",
    "revenue",
    "goal_completion_rate",
    "time_to_decision_days",
    "shared_customer_rate",
    "acquisition_rate",
    "returning_revenue_share",
    "interactions_logged",
    "interest_to_purchase_rate",
    "custom_request_rate",
    "dissatisfaction_rate",
    "unmet_inquiry_rate",
    "orders_count",
    "avg_order_value",
    "revenue_per_customer",
    "profit",
    "gross_margin",
    "marketing_cost",
    "marketing_roi",
    "cac",
    "roe",
    "customer_lifetime_value",
    "old_customers",
    "referred_new_customers",
    "cross_sell_rate",
    "pipeline_value",
    "weighted_pipeline",
    "win_rate",
    "lead_conversion_rate",
    "sales_cycle_days",
    "complaints_opened",
    "complaint_rate",
    "first_response_hours",
    "resolution_hours",
    "sla_compliance_rate",
    "open_past_sla",
    "data_completeness",
    "feedback_coverage",
    "record_freshness",
    "duplicate_rate",
    "untouched_customer_rate",
    "crm_maturity_level",
)


def kpi(
    kpi_id: str,
    *,
    en: str,
    vi: str,
    formula: str,
    unit: Unit,
    family: str,
    direction: Direction = "higher",
    additive: bool = False,
    note: str = "",
) -> Callable[[KpiFunction], KpiFunction]:
    """Register a KPI computation under its catalogue id."""
    if family not in FAMILIES:
        raise ValueError(f"unknown KPI family {family!r}")

    def register(function: KpiFunction) -> KpiFunction:
        if kpi_id in REGISTRY:
            raise ValueError(f"KPI {kpi_id!r} registered twice")
        REGISTRY[kpi_id] = KpiDefinition(
            id=kpi_id,
            label_en=en,
            label_vi=vi,
            formula=formula,
            unit=unit,
            direction=direction,
            family=family,
            compute=function,
            additive=additive,
            note=note,
        )
        return function

    return register


def all_kpis() -> dict[str, KpiDefinition]:
    """Every registered KPI, importing the modules that define them."""
    from . import finance, operations, results  # noqa: F401

    rank = {kpi_id: index for index, kpi_id in enumerate(CATALOGUE_ORDER)}
    return dict(sorted(REGISTRY.items(), key=lambda item: rank.get(item[0], len(rank))))
