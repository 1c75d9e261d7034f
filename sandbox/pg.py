"""Throw-away PostgreSQL databases for tests and benchmarks: create one with a random name, drop it after."""

from __future__ import annotations

import uuid


def database_url(admin_url: str, database: str) -> str:
    """``admin_url`` with another database name (password kept, for the children's configuration)."""
    from sqlalchemy.engine import make_url

    return make_url(admin_url).set(database=database).render_as_string(hide_password=False)


def create_database(admin_url: str, prefix: str) -> str:
    """Create a new PostgreSQL database ``<prefix>_<random>`` through ``admin_url``; return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    run_admin_sql(admin_url, f'CREATE DATABASE "{name}"')
    return database_url(admin_url, name)


def drop_database(admin_url: str, url: str) -> None:
    """Drop the database of ``url``, closing its sessions."""
    from sqlalchemy.engine import make_url

    run_admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def run_admin_sql(admin_url: str, sql: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE) on the server of ``admin_url``."""
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(sql))
    finally:
        engine.dispose()
