"""order lines per product and local month, for the demand forecast

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 17:00:00

kpi_product_month holds, per product and local month, the lines, quantity and revenue
of counted orders; the forecast groups it by the products' current category. Built here
from the existing lines and kept current by triggers on order_line and sales_order
(app/kpi/summaries.py describes the guarantees).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from app.kpi.summaries import (
        _stored_timezone,
        install_product_month_triggers,
        rebuild_product_month,
    )

    op.create_table(
        "kpi_product_month",
        sa.Column("product_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=20, scale=3), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=30, scale=9), nullable=False),
        sa.PrimaryKeyConstraint("product_id", "month", name=op.f("pk_kpi_product_month")),
    )
    connection = op.get_bind()
    # Same zone as the other summaries: kpi_summary_state (0004) names it.
    zone = connection.execute(
        sa.text("SELECT timezone FROM kpi_summary_state WHERE id = 1")
    ).scalar()
    from zoneinfo import ZoneInfo

    # A database upgraded with orders in it gets an exact table right away.
    rebuild_product_month(connection, ZoneInfo(zone) if zone else _stored_timezone(connection))
    install_product_month_triggers(connection)


def downgrade() -> None:
    from app.kpi.summaries import drop_product_month_triggers

    # Safe: the table is derived data, rebuilt from the order lines on the next upgrade.
    drop_product_month_triggers(op.get_bind(), functions=True)
    op.drop_table("kpi_product_month")
