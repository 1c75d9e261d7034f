"""rate_limits: respond.io rate-limit state shared by every sync process through the state DB

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("namespace", sa.String(200), primary_key=True),
        sa.Column("endpoint", sa.String(200), primary_key=True),
        sa.Column("tat", sa.Float, nullable=False),
        sa.Column("paused_until", sa.Float, nullable=False),
        sa.Column("rate", sa.Float),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rate_limits")
