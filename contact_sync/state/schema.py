"""Tables of the state DB, as SQLAlchemy Core. Migrations in ``migrations/versions`` create them."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, UniqueConstraint

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dag_id", String(250), nullable=False),
    Column("run_id", String(250), nullable=False),
    Column("workspace", String(100), nullable=False),
    Column("window_start", DateTime(timezone=True)),
    Column("window_end", DateTime(timezone=True)),
    Column("status", String(20), nullable=False),
    Column("counts", JSON, nullable=False, default=dict),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    UniqueConstraint("dag_id", "run_id", "workspace", name="uq_sync_runs_run"),
)

# One row per (consumer, minute): Salesforce API calls made through contact-sync, for the shared budget.
salesforce_api_calls = Table(
    "salesforce_api_calls",
    metadata,
    Column("consumer", String(50), primary_key=True),
    Column("minute", DateTime(timezone=True), primary_key=True),
    Column("calls", Integer, nullable=False),
)

# The org-wide usage and allocation last seen in a ``Sforce-Limit-Info`` header (a single row, id = 1).
salesforce_api_limit = Table(
    "salesforce_api_limit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("used", Integer, nullable=False),
    Column("allocation", Integer, nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)

# Describe results, cached across runs (they cost an API call each and change rarely).
salesforce_describe_cache = Table(
    "salesforce_describe_cache",
    metadata,
    Column("instance_url", String(255), primary_key=True),
    Column("sobject", String(100), primary_key=True),
    Column("api_version", String(10), primary_key=True),
    Column("body", JSON, nullable=False),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
)
