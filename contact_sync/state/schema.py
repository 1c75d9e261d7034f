"""Tables of the state DB, as SQLAlchemy Core. Migrations in ``migrations/versions`` create them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

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
    Column("details", JSON),
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

# --- the contact sync (issue 5) ------------------------------------------------------------------------------

# Contacts read by one run (run_key = "<dag_id>/<run_id>"), with the decision and the outcome of each.
staged_contacts = Table(
    "staged_contacts",
    metadata,
    Column("run_key", String(300), primary_key=True),
    Column("workspace", String(100), primary_key=True),
    Column("sf_id", String(18), primary_key=True),
    Column("sobject", String(20), nullable=False),
    Column("created_date", DateTime(timezone=True)),
    Column("system_modstamp", DateTime(timezone=True)),
    Column("record", JSON, nullable=False),
    Column("action", String(20)),
    Column("identifier", String(330)),
    Column("email_key", String(320)),
    Column("phone_key", String(20)),
    Column("reasons", JSON),
    Column("owner_id", String(18)),
    Column("bulk_rule", String(20)),
    Column("chunk", Integer),
    Column("outcome", String(20)),
    Column("outcome_detail", String(500)),
    Column("respond_io_contact_id", BigInteger),
    # Lease of a sync worker on the row (see sync_store.claim_rows): who works on it, and until when. Both NULL
    # when nobody does; an expired lease may be taken over by another worker.
    Column("lease_owner", String(200)),
    Column("lease_until", DateTime(timezone=True)),
    Index("ix_staged_contacts_chunk", "run_key", "workspace", "chunk"),
    # The claim query: one chunk's rows still needing respond.io (outcome NULL / retry_pending), by lease.
    Index("ix_staged_contacts_claim", "run_key", "workspace", "chunk", "outcome", "lease_until"),
)

# One row per (workspace, Salesforce contact) we wrote to respond.io: the idempotency record.
sync_ledger = Table(
    "sync_ledger",
    metadata,
    Column("workspace", String(100), primary_key=True),
    Column("sf_id", String(18), primary_key=True),
    Column("respond_io_contact_id", BigInteger),
    Column("identifier", String(330), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("written_fields", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("run_key", String(300), nullable=False),
    Column("synced_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Which Salesforce contact owns a matching key (email:... / phone:...) in a workspace.
key_owners = Table(
    "key_owners",
    metadata,
    Column("workspace", String(100), primary_key=True),
    Column("key", String(330), primary_key=True),
    Column("owner_sf_id", String(18), nullable=False),
    Column("run_key", String(300), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
)

# Contacts that failed to validate or match, with the raw values, for analysts (latest state per contact).
matching_failures = Table(
    "matching_failures",
    metadata,
    Column("workspace", String(100), primary_key=True),
    Column("sf_id", String(18), primary_key=True),
    Column("run_key", String(300), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("raw_email", Text),
    Column("raw_phone", Text),
    Column("raw_mobile", Text),
    Column("raw_country", Text),
    Column("normalized_email", String(320)),
    Column("normalized_phone", String(20)),
    Column("region_assumed", String(10)),
    Column("region_source", String(30)),
    Column("owner_sf_id", String(18)),
    Column("system_modstamp", DateTime(timezone=True)),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Index("ix_matching_failures_open", "workspace", "resolved_at"),
    Index("ix_matching_failures_last_seen", "last_seen"),
)

# What the inbox reads: one row per Salesforce contact, keyed for lookups by email or phone.
contacts_lookup = Table(
    "contacts_lookup",
    metadata,
    Column("sf_id", String(18), primary_key=True),
    Column("email_key", String(320)),
    Column("phone_key", String(20)),
    Column("first_name", String(80)),
    Column("last_name", String(120)),
    Column("fields", JSON, nullable=False),
    Column("system_modstamp", DateTime(timezone=True)),
    Column("refreshed_at", DateTime(timezone=True), nullable=False),
    Column("email_ambiguous", Boolean, nullable=False, default=False),
    Column("phone_ambiguous", Boolean, nullable=False, default=False),
    Index("ix_contacts_lookup_email_key", "email_key"),
    Index("ix_contacts_lookup_phone_key", "phone_key"),
)

# --- lookup refresh (issue 6) --------------------------------------------------------------------------------

# Watermarks: "every Salesforce change up to `watermark` is applied" (one row per name, e.g. lookup_refresh).
watermarks = Table(
    "watermarks",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("watermark", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("details", JSON),
)

# --- field write-back (issue 7) -------------------------------------------------------------------------------

# One row per requested edit (inbox form or respond.io webhook); drained by SalesforceWriteBackOperator.
# status: pending, applied, conflict, rejected, failed, discarded, superseded.
writeback_queue = Table(
    "writeback_queue",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(200), nullable=False),
    Column("workspace", String(100), nullable=False),
    Column("sf_id", String(18), nullable=False),
    Column("field", String(80), nullable=False),
    Column("new_value", Text),
    Column("base_value", Text),
    Column("source", String(20), nullable=False),
    Column("requested_by", String(100), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("last_error_code", String(100)),
    Column("last_error", String(1000)),
    Column("applied_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("request_id", name="uq_writeback_queue_request_id"),
    Index("ix_writeback_queue_status", "status", "next_attempt_at"),
    Index("ix_writeback_queue_sf_id", "sf_id", "field"),
)

# --- shared respond.io rate limit (hooks.respond_io_state_limits) -------------------------------------------

# One row per (organisation namespace, respond.io endpoint key): the GCRA state every sync process shares when
# no Redis is configured. Times are unix seconds (``time.time()`` of the writing process).
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("namespace", String(200), primary_key=True),
    Column("endpoint", String(200), primary_key=True),
    Column("tat", Float, nullable=False),  # theoretical arrival time of the next request
    Column("paused_until", Float, nullable=False),
    Column("rate", Float),  # the rate the server lowered us to (X-RateLimit-Limit), NULL = configured
    Column("updated_at", Float, nullable=False),  # last write; idle_ttl after it the row counts as fresh
)
