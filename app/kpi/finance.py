"""Financial KPIs (slide 148) and the internal value KPIs: revenue, profit, costs, returns."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import and_, func
from sqlmodel import select

from app.models import Campaign, CampaignPurpose, KpiCustomerFact, KpiOrderDay, Order

from .base import KpiContext, ratio, to_decimal
from .period import Period
from .registry import Measured, kpi
from .results import count_active, count_new, customers_total, first_orders


def order_totals(ctx: KpiContext, period: Period) -> tuple[Decimal, Decimal, int]:
    """(revenue, cost, number) of counted orders in the period, memoised."""

    def compute() -> tuple[Decimal, Decimal, int]:
        if ctx.summaries():
            revenue, cost, count = ctx.session.exec(
                select(
                    func.sum(KpiOrderDay.revenue),
                    func.sum(KpiOrderDay.cost),
                    func.sum(KpiOrderDay.orders),
                ).where(*ctx.order_days_in(period.start, period.end))
            ).one()
            return to_decimal(revenue), to_decimal(cost), int(count or 0)
        start, end = ctx.bounds(period)
        revenue, cost, count = ctx.session.exec(
            select(func.sum(Order.amount), func.sum(Order.cost), func.count(Order.id)).where(
                *ctx.counted_orders(start, end)
            )
        ).one()
        return to_decimal(revenue), to_decimal(cost), int(count or 0)

    return ctx.memo(("orders", period), compute)


@kpi(
    "revenue",
    en="Revenue",
    vi="Giá trị đạt được từ khách hàng",
    formula="Σ amount of counted orders in the period",
    unit="money",
    family="internal",
    additive=True,
)
def revenue(ctx: KpiContext, period: Period) -> Decimal:
    return order_totals(ctx, period)[0]


@kpi(
    "orders_count",
    en="Orders",
    vi="Số đơn hàng",
    formula="Counted orders in the period",
    unit="count",
    family="financial",
    additive=True,
)
def orders_count(ctx: KpiContext, period: Period) -> int:
    return order_totals(ctx, period)[2]


@kpi(
    "avg_order_value",
    en="Average order value",
    vi="Giá trị đơn trung bình",
    formula="Revenue ÷ counted orders",
    unit="money",
    family="financial",
)
def avg_order_value(ctx: KpiContext, period: Period) -> Decimal | None:
    revenue_, _, count = order_totals(ctx, period)
    return None if count == 0 else (revenue_ / count).quantize(Decimal("0.01"))


@kpi(
    "revenue_per_customer",
    en="Revenue per customer",
    vi="Doanh số trên mỗi khách hàng",
    formula="Revenue ÷ active customers",
    unit="money",
    family="financial",
)
def revenue_per_customer(ctx: KpiContext, period: Period) -> Decimal | None:
    active = count_active(ctx, period)
    return (
        None if active == 0 else (order_totals(ctx, period)[0] / active).quantize(Decimal("0.01"))
    )


@kpi(
    "profit",
    en="Profit",
    vi="Lợi nhuận",
    formula="Revenue − cost of counted orders",
    unit="money",
    family="financial",
    additive=True,
)
def profit(ctx: KpiContext, period: Period) -> Decimal:
    revenue_, cost, _ = order_totals(ctx, period)
    return revenue_ - cost


@kpi(
    "gross_margin",
    en="Gross margin",
    vi="Tỷ suất lợi nhuận gộp",
    formula="Profit ÷ revenue",
    unit="percent",
    family="financial",
)
def gross_margin(ctx: KpiContext, period: Period) -> float | None:
    revenue_, cost, _ = order_totals(ctx, period)
    return ratio(revenue_ - cost, revenue_)


def marketing_costs(ctx: KpiContext, period: Period) -> dict[str, Decimal]:
    """Campaign actual cost allocated to the period pro rata by days, per purpose."""

    def compute() -> dict[str, Decimal]:
        rows = ctx.session.exec(
            select(
                Campaign.purpose, Campaign.start_date, Campaign.end_date, Campaign.actual_cost
            ).where(Campaign.start_date < period.end, Campaign.end_date >= period.start)
        ).all()
        costs: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
        for purpose in CampaignPurpose:
            costs[purpose.value] = Decimal("0.00")
        for purpose, first_day, last_day, cost in rows:
            # A campaign runs on the days [start_date, end_date], both included.
            campaign_days = (last_day - first_day).days + 1
            overlap_start = max(first_day, period.start)
            overlap_end = min(last_day.toordinal() + 1, period.end.toordinal())
            overlap = overlap_end - overlap_start.toordinal()
            if overlap <= 0:
                continue
            share = Decimal(cost or 0) * overlap / campaign_days
            costs[CampaignPurpose(purpose).value] += share
        return {key: value.quantize(Decimal("0.01")) for key, value in costs.items()}

    return ctx.memo(("marketing", period), compute)


@kpi(
    "marketing_cost",
    en="Communication and retention cost",
    vi="Chi phí truyền thông và giữ chân",
    formula="Σ campaign actual cost allocated to the period pro rata by campaign days inside "
    "it; split by purpose",
    unit="money",
    family="financial",
    direction="lower",
    additive=True,
    note="Campaigns are company-wide: customer filters do not restrict this cost.",
)
def marketing_cost(ctx: KpiContext, period: Period) -> Measured:
    costs = marketing_costs(ctx, period)
    return Measured(sum(costs.values(), Decimal("0.00")), {"by_purpose": costs})


@kpi(
    "marketing_roi",
    en="Marketing ROI",
    vi="ROI",
    formula="(Profit of counted orders attributed to campaigns − marketing cost) ÷ marketing cost",
    unit="percent",
    family="financial",
)
def marketing_roi(ctx: KpiContext, period: Period) -> float | None:
    start, end = ctx.bounds(period)
    attributed = ctx.scalar(
        select(func.sum(Order.amount - Order.cost)).where(
            *ctx.counted_orders(start, end), Order.campaign_id.is_not(None)
        )
    )
    cost = sum(marketing_costs(ctx, period).values(), Decimal("0.00"))
    return ratio(to_decimal(attributed) - cost, cost)


@kpi(
    "cac",
    en="Customer acquisition cost",
    vi="Chi phí thu hút khách hàng",
    formula="Acquisition-purpose marketing cost ÷ new customers",
    unit="money",
    family="financial",
    direction="lower",
)
def cac(ctx: KpiContext, period: Period) -> Decimal | None:
    new = count_new(ctx, period)
    cost = marketing_costs(ctx, period)[CampaignPurpose.acquisition.value]
    return None if new == 0 else (cost / new).quantize(Decimal("0.01"))


@kpi(
    "roe",
    en="Return on equity",
    vi="ROE",
    formula="Profit ÷ the equity setting",
    unit="percent",
    family="financial",
    note="Equity is not CRM data: set it in the settings; n/a until then.",
)
def roe(ctx: KpiContext, period: Period) -> float | None:
    equity = ctx.settings.get("equity")
    if not equity:
        return None
    return ratio(profit(ctx, period), Decimal(str(equity)))


@kpi(
    "customer_lifetime_value",
    en="Customer lifetime value (historic)",
    vi="Giá trị vòng đời (lịch sử)",
    formula="Σ profit of all counted orders before the end ÷ customer assets",
    unit="money",
    family="financial",
    note="Historic, not predictive.",
)
def customer_lifetime_value(ctx: KpiContext, period: Period) -> Decimal | None:
    if ctx.summaries():
        total = ctx.scalar(
            select(func.sum(KpiOrderDay.revenue - KpiOrderDay.cost)).where(
                *ctx.order_days_in(None, period.end)
            )
        )
    else:
        _, end = ctx.bounds(period)
        total = ctx.scalar(
            select(func.sum(Order.amount - Order.cost)).where(*ctx.counted_orders(None, end))
        )
    customers = customers_total(ctx, period)
    return None if customers == 0 else (to_decimal(total) / customers).quantize(Decimal("0.01"))


@kpi(
    "returning_revenue_share",
    en="Revenue from returning customers",
    vi="Tỷ lệ bán hàng cho cùng đối tượng",
    formula="Revenue in the period from customers with a counted order before it ÷ revenue",
    unit="percent",
    family="internal",
)
def returning_revenue_share(ctx: KpiContext, period: Period) -> float | None:
    if ctx.summaries():
        returning = ctx.scalar(
            select(func.sum(KpiOrderDay.revenue))
            .join(KpiCustomerFact, KpiCustomerFact.customer_id == KpiOrderDay.customer_id)
            .where(
                *ctx.order_days_in(period.start, period.end),
                KpiCustomerFact.first_day < period.start,
            )
        )
        return ratio(to_decimal(returning), order_totals(ctx, period)[0])
    start, end = ctx.bounds(period)
    first = first_orders(ctx)
    returning = ctx.scalar(
        select(func.sum(Order.amount))
        .join(first, first.c.customer_id == Order.customer_id)
        .where(and_(*ctx.counted_orders(start, end)), first.c.first_at < start)
    )
    return ratio(to_decimal(returning), order_totals(ctx, period)[0])
