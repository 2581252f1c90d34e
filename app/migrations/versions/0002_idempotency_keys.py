"""idempotency keys in their own table

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 15:40:00

A form retry is detected by a primary key on (entity, key), so two simultaneous
submits with the same key cannot both insert (the audit-log scan could race).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_key",
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("entity", "key", name=op.f("pk_idempotency_key")),
    )


def downgrade() -> None:
    # Safe: the keys only guard against retried submits of the last moments.
    op.drop_table("idempotency_key")
