"""Create the sync's state database and its owner role on the deployment's PostgreSQL server.

Run by ``airflow-init`` in docker-compose.yaml (the image has it at ``/opt/contact-sync/deploy/``) before
``contact-sync state migrate``::

    CONTACT_SYNC_STATE_DB_ADMIN_URL=postgresql://airflow:...@postgres:5432/airflow \\
        python /opt/contact-sync/deploy/create_state_db.py [--conn-id contact_sync_state]

The state DB is read the way the sync reads it (``StateDbHook``: ``AIRFLOW_CONN_CONTACT_SYNC_STATE`` or a
secrets backend), so the connection is the one source of its database name, role and password. With an admin
login on the same server (``CONTACT_SYNC_STATE_DB_ADMIN_URL``, a role allowed to create roles and databases)
it creates the role (LOGIN, the connection's password; the password is set again on every run, so a rotated
password takes effect) and the database owned by that role, each only when missing. A state DB that is not
PostgreSQL, or lives on another server than the admin URL, is left alone: create it there yourself. Passwords
are never printed or logged.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

log = logging.getLogger("contact_sync.deploy.create_state_db")

ADMIN_URL_ENV = "CONTACT_SYNC_STATE_DB_ADMIN_URL"


class StateDbSetupError(RuntimeError):
    """The state DB cannot be set up as configured; the message names what is missing, never a value."""


@dataclass(frozen=True)
class Outcome:
    """What :func:`ensure_state_database` did."""

    action: str  # "skipped" or "ready"
    message: str
    created_role: bool = False
    created_database: bool = False


def _state_url(conn_id: str) -> URL:
    """The state DB URL from the Airflow connection, exactly as the sync builds it."""
    from sqlalchemy.engine import make_url

    from contact_sync_ops.airflow_context import prepare

    prepare()
    from hooks.state_db import StateDbHook

    return make_url(StateDbHook(state_db_conn_id=conn_id).sqlalchemy_url)


def _same_server(state: URL, admin: URL) -> bool:
    return (state.host or "localhost") == (admin.host or "localhost") and (state.port or 5432) == (
        admin.port or 5432
    )


def ensure_state_database(state: URL, admin: URL) -> Outcome:
    """Create the state DB's role and database on the admin URL's server when they are missing.

    :param state: the state DB URL (from the ``contact_sync_state`` connection).
    :param admin: a login on the same server that may create roles and databases.
    """
    if state.get_backend_name() != "postgresql":
        return Outcome(
            "skipped", f"state DB is {state.get_backend_name()}, not PostgreSQL: nothing to create"
        )
    if not _same_server(state, admin):
        return Outcome(
            "skipped",
            f"state DB is on {state.host}:{state.port or 5432}, not on the admin URL's server: "
            "create its database and role there yourself",
        )
    if not state.database or not state.username:
        raise StateDbSetupError(
            "the state DB connection needs a login and a schema (database name) to create them"
        )
    import psycopg2
    from psycopg2 import sql
    from psycopg2.extensions import encrypt_password

    connection = psycopg2.connect(
        host=admin.host,
        port=admin.port or 5432,
        user=admin.username,
        password=admin.password,
        dbname=admin.database or "postgres",
    )
    connection.autocommit = True  # CREATE DATABASE cannot run inside a transaction
    role, database = sql.Identifier(state.username), sql.Identifier(state.database)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (state.username,))
            created_role = cursor.fetchone() is None
            if created_role:
                cursor.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
            if state.password:
                # Hashed here (libpq, the server's password_encryption), so the server never logs the password.
                hashed = encrypt_password(state.password, state.username, connection)
                cursor.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(role, sql.Literal(hashed)))
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (state.database,))
            created_database = cursor.fetchone() is None
            if created_database:
                cursor.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(database, role))
    finally:
        connection.close()
    done = [
        f"role {state.username} {'created' if created_role else 'present'}",
        f"database {state.database} {'created' if created_database else 'present'}",
    ]
    return Outcome("ready", ", ".join(done), created_role=created_role, created_database=created_database)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conn-id", default="contact_sync_state", help="Airflow connection of the state DB")
    args = parser.parse_args(argv)
    admin_url = os.environ.get(ADMIN_URL_ENV)
    if not admin_url:
        log.error(
            "%s is not set: it names a PostgreSQL login that may create roles and databases", ADMIN_URL_ENV
        )
        return 2
    from sqlalchemy.engine import make_url

    try:
        outcome = ensure_state_database(_state_url(args.conn_id), make_url(admin_url))
    except StateDbSetupError as err:
        log.error("state DB: %s", err)
        return 2
    log.info("state DB: %s", outcome.message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
