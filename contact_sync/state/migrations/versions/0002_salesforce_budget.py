"""Salesforce API budget and describe cache

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "salesforce_api_calls",
        sa.Column("consumer", sa.String(50), primary_key=True),
        sa.Column("minute", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("calls", sa.Integer, nullable=False),
    )
    op.create_table(
        "salesforce_api_limit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("used", sa.Integer, nullable=False),
        sa.Column("allocation", sa.Integer, nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "salesforce_describe_cache",
        sa.Column("instance_url", sa.String(255), primary_key=True),
        sa.Column("sobject", sa.String(100), primary_key=True),
        sa.Column("api_version", sa.String(10), primary_key=True),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("salesforce_describe_cache")
    op.drop_table("salesforce_api_limit")
    op.drop_table("salesforce_api_calls")
