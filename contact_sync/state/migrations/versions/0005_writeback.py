"""write-back queue (respond.io inbox -> Salesforce)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "writeback_queue",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(200), nullable=False),
        sa.Column("workspace", sa.String(100), nullable=False),
        sa.Column("sf_id", sa.String(18), nullable=False),
        sa.Column("field", sa.String(80), nullable=False),
        sa.Column("new_value", sa.Text),
        sa.Column("base_value", sa.Text),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_error_code", sa.String(100)),
        sa.Column("last_error", sa.String(1000)),
        sa.Column("applied_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("request_id", name="uq_writeback_queue_request_id"),
    )
    op.create_index("ix_writeback_queue_status", "writeback_queue", ["status", "next_attempt_at"])
    op.create_index("ix_writeback_queue_sf_id", "writeback_queue", ["sf_id", "field"])


def downgrade() -> None:
    op.drop_index("ix_writeback_queue_sf_id", table_name="writeback_queue")
    op.drop_index("ix_writeback_queue_status", table_name="writeback_queue")
    op.drop_table("writeback_queue")
