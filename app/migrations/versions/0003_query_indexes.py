"""indexes for the dashboards' queries at 100,000 customers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 15:50:00

Measured at the medium demo scale (docs/performance.md, "Query paths and indexes"):
- ix_sales_order_customer_ordered gains ``status``: the per-customer
  passes (RFM, loyalty levels, "first order" checks) become index-only scans.
- ix_sales_order_ordered_status gains ``customer_id``, ``amount`` and ``cost``: revenue,
  profit and active-customer sums over a period never read the table rows.
- ix_opportunity_stage_history_opportunity_changed (opportunity, time, id) replaces the
  single-column opportunity index: an opportunity's stage at an instant, and the change
  before a change, are one probe each.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_sales_order_customer_ordered", table_name="sales_order")
    op.create_index(
        "ix_sales_order_customer_ordered",
        "sales_order",
        ["customer_id", "ordered_at", "status", "amount"],
        unique=False,
    )
    op.drop_index("ix_sales_order_ordered_status", table_name="sales_order")
    op.create_index(
        "ix_sales_order_ordered_status",
        "sales_order",
        ["ordered_at", "status", "customer_id", "amount", "cost"],
        unique=False,
    )
    op.create_index(
        "ix_opportunity_stage_history_opportunity_changed",
        "opportunity_stage_history",
        ["opportunity_id", "changed_at", "id"],
        unique=False,
    )
    # The new index leads with opportunity_id, so it serves the foreign-key lookups too.
    op.drop_index(
        "ix_opportunity_stage_history_opportunity_id", table_name="opportunity_stage_history"
    )


def downgrade() -> None:
    op.create_index(
        "ix_opportunity_stage_history_opportunity_id",
        "opportunity_stage_history",
        ["opportunity_id"],
        unique=False,
    )
    op.drop_index(
        "ix_opportunity_stage_history_opportunity_changed", table_name="opportunity_stage_history"
    )
    op.drop_index("ix_sales_order_ordered_status", table_name="sales_order")
    op.create_index(
        "ix_sales_order_ordered_status", "sales_order", ["ordered_at", "status"], unique=False
    )
    op.drop_index("ix_sales_order_customer_ordered", table_name="sales_order")
    op.create_index(
        "ix_sales_order_customer_ordered",
        "sales_order",
        ["customer_id", "ordered_at", "amount"],
        unique=False,
    )
