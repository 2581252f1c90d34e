"""summary triggers skip their per-customer lock during a bulk order load

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 19:40:00

On PostgreSQL, kpi_order_day_apply took one advisory lock per customer, held to the end
of the transaction; an import of orders for 60,000 customers in one transaction filled
the shared lock table ("out of shared memory"). The function now skips that lock when
the transaction holds sales_order against other writers and says so
(app.kpi.summaries.lock_orders_for_bulk_load, used by the order importer). SQLite has
no such function: nothing changes there.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None



def upgrade() -> None:
    from app.kpi.summaries import PG_FUNCTIONS

    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(PG_FUNCTIONS[0])


def downgrade() -> None:
    # Nothing to undo: the function skips its lock only when crm.orders_locked is set,
    # which the code of 0006 and before never sets, so it behaves exactly as before.
    pass
