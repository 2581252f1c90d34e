"""indexes for the dashboards' queries at 100,000 customers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 15:50:00
"""

from __future__ import annotations

from alembic import op  # noqa: F401

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
