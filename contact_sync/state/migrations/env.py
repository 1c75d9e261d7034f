"""Alembic environment: always driven from code with a connection in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from contact_sync.state.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "Run state DB migrations through contact_sync.state.migrate(engine) "
        "(or `contact-sync state migrate`), not the alembic CLI."
    )
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
