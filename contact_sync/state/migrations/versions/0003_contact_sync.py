"""contact sync: staging, ledger, key owners, matching failures, lookup table

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_runs") as batch:
        batch.add_column(sa.Column("details", sa.JSON))
    op.create_table(
        "staged_contacts",
        sa.Column("run_key", sa.String(300), primary_key=True),
        sa.Column("workspace", sa.String(100), primary_key=True),
        sa.Column("sf_id", sa.String(18), primary_key=True),
        sa.Column("sobject", sa.String(20), nullable=False),
        sa.Column("created_date", sa.DateTime(timezone=True)),
        sa.Column("system_modstamp", sa.DateTime(timezone=True)),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("action", sa.String(20)),
        sa.Column("identifier", sa.String(330)),
        sa.Column("email_key", sa.String(320)),
        sa.Column("phone_key", sa.String(20)),
        sa.Column("reasons", sa.JSON),
        sa.Column("owner_id", sa.String(18)),
        sa.Column("bulk_rule", sa.String(20)),
        sa.Column("chunk", sa.Integer),
        sa.Column("outcome", sa.String(20)),
        sa.Column("outcome_detail", sa.String(500)),
        sa.Column("respond_io_contact_id", sa.BigInteger),
    )
    op.create_index("ix_staged_contacts_chunk", "staged_contacts", ["run_key", "workspace", "chunk"])
    op.create_table(
        "sync_ledger",
        sa.Column("workspace", sa.String(100), primary_key=True),
        sa.Column("sf_id", sa.String(18), primary_key=True),
        sa.Column("respond_io_contact_id", sa.BigInteger),
        sa.Column("identifier", sa.String(330), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("written_fields", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("run_key", sa.String(300), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "key_owners",
        sa.Column("workspace", sa.String(100), primary_key=True),
        sa.Column("key", sa.String(330), primary_key=True),
        sa.Column("owner_sf_id", sa.String(18), nullable=False),
        sa.Column("run_key", sa.String(300), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "matching_failures",
        sa.Column("workspace", sa.String(100), primary_key=True),
        sa.Column("sf_id", sa.String(18), primary_key=True),
        sa.Column("run_key", sa.String(300), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("raw_email", sa.Text),
        sa.Column("raw_phone", sa.Text),
        sa.Column("raw_mobile", sa.Text),
        sa.Column("raw_country", sa.Text),
        sa.Column("normalized_email", sa.String(320)),
        sa.Column("normalized_phone", sa.String(20)),
        sa.Column("region_assumed", sa.String(10)),
        sa.Column("region_source", sa.String(30)),
        sa.Column("owner_sf_id", sa.String(18)),
        sa.Column("system_modstamp", sa.DateTime(timezone=True)),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_matching_failures_open", "matching_failures", ["workspace", "resolved_at"])
    op.create_index("ix_matching_failures_last_seen", "matching_failures", ["last_seen"])
    op.create_table(
        "contacts_lookup",
        sa.Column("sf_id", sa.String(18), primary_key=True),
        sa.Column("email_key", sa.String(320)),
        sa.Column("phone_key", sa.String(20)),
        sa.Column("first_name", sa.String(80)),
        sa.Column("last_name", sa.String(120)),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("system_modstamp", sa.DateTime(timezone=True)),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("email_ambiguous", sa.Boolean, nullable=False, default=False),
        sa.Column("phone_ambiguous", sa.Boolean, nullable=False, default=False),
    )
    op.create_index("ix_contacts_lookup_email_key", "contacts_lookup", ["email_key"])
    op.create_index("ix_contacts_lookup_phone_key", "contacts_lookup", ["phone_key"])


def downgrade() -> None:
    op.drop_table("contacts_lookup")
    op.drop_table("matching_failures")
    op.drop_table("key_owners")
    op.drop_table("sync_ledger")
    op.drop_table("staged_contacts")
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_column("details")
