"""summary tables the KPIs read instead of the raw rows

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 15:50:00
"""

from __future__ import annotations

from alembic import op  # noqa: F401

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
