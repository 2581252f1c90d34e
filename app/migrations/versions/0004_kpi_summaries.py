"""summary tables the KPIs read instead of the raw rows

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 15:50:00

Counted orders per customer and local day (kpi_order_day) and per customer
(kpi_customer_fact), built here from the existing orders and kept current by triggers
on sales_order from then on (app/kpi/summaries.py describes the guarantees).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from app.kpi.summaries import install_triggers, rebuild_summaries

    op.create_table(
        "kpi_summary_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("day_modifier", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("built_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_summary_state")),
    )
    op.create_table(
        "kpi_order_day",
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("cost", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "day", name=op.f("pk_kpi_order_day")),
    )
    op.create_index(
        "ix_kpi_order_day_day_customer",
        "kpi_order_day",
        ["day", "customer_id", "orders", "revenue", "cost"],
        unique=False,
    )
    op.create_table(
        "kpi_customer_fact",
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("order_days", sa.Integer(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_kpi_customer_fact")),
    )
    op.create_index(
        op.f("ix_kpi_customer_fact_first_day"), "kpi_customer_fact", ["first_day"], unique=False
    )
    op.create_index(
        op.f("ix_kpi_customer_fact_last_day"), "kpi_customer_fact", ["last_day"], unique=False
    )
    connection = op.get_bind()
    # A database upgraded with orders in it gets exact summaries right away.
    rebuild_summaries(connection)
    install_triggers(connection)


def downgrade() -> None:
    from app.kpi.summaries import drop_triggers

    # Safe: the summaries are derived data, rebuilt from sales_order on the next upgrade.
    drop_triggers(op.get_bind(), functions=True)
    op.drop_index(op.f("ix_kpi_customer_fact_last_day"), table_name="kpi_customer_fact")
    op.drop_index(op.f("ix_kpi_customer_fact_first_day"), table_name="kpi_customer_fact")
    op.drop_table("kpi_customer_fact")
    op.drop_index("ix_kpi_order_day_day_customer", table_name="kpi_order_day")
    op.drop_table("kpi_order_day")
    op.drop_table("kpi_summary_state")
