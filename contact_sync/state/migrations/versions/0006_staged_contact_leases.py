"""leases on staged contacts (several sync workers on one chunk)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns only: SQLite adds them in place (no table copy), PostgreSQL without a rewrite.
    with op.batch_alter_table("staged_contacts") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(200)))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_staged_contacts_claim",
        "staged_contacts",
        ["run_key", "workspace", "chunk", "outcome", "lease_until"],
    )


def downgrade() -> None:
    op.drop_index("ix_staged_contacts_claim", table_name="staged_contacts")
    with op.batch_alter_table("staged_contacts") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
