"""Hook for contact-sync's own state database (never Airflow's metadata DB).

The connection is a plain Airflow connection:

- SQLite (default): conn type ``sqlite``, ``host`` = path of the database file;
- PostgreSQL: conn type ``postgres``, host/port/login/password/schema as usual.

An extra ``sqlalchemy_url`` overrides both (any SQLAlchemy URL, e.g. another driver).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


class StateDbError(ValueError):
    """The state DB connection is not usable as configured."""


def url_from_connection(
    conn_type: str | None,
    host: str | None,
    port: int | None,
    login: str | None,
    password: str | None,
    schema: str | None,
    extra: dict[str, Any],
) -> str:
    """Build a SQLAlchemy URL from connection fields (pure, so it is testable without Airflow)."""
    from sqlalchemy.engine import URL

    override = extra.get("sqlalchemy_url") or None
    if override:
        return str(override)
    kind = (conn_type or "").lower()
    if kind == "sqlite":
        if not host:
            raise StateDbError(
                "The state DB connection (type sqlite) needs the database file path in 'host'."
            )
        if host == ":memory:":
            raise StateDbError("The state DB cannot be ':memory:': tasks run in separate processes.")
        return URL.create("sqlite", database=str(Path(host).expanduser().resolve())).render_as_string(
            hide_password=False
        )
    if kind in {"postgres", "postgresql"}:
        missing = [name for name, value in (("host", host), ("schema (database name)", schema)) if not value]
        if missing:
            raise StateDbError(f"The state DB connection (type postgres) is missing: {', '.join(missing)}.")
        return URL.create(
            "postgresql+psycopg2",
            username=login or None,
            password=password or None,
            host=host,
            port=port or None,
            database=schema,
        ).render_as_string(hide_password=False)
    raise StateDbError(
        f"The state DB connection has type {conn_type!r}; use 'sqlite' or 'postgres' "
        "(or set the extra 'sqlalchemy_url')."
    )


class StateDbHook(BaseHook):
    """
    Engine and migrations for contact-sync's state database.

    :param state_db_conn_id: connection to the state DB (default ``contact_sync_state``).
    """

    conn_name_attr = "state_db_conn_id"
    default_conn_name = "contact_sync_state"
    conn_type = "sqlite"
    hook_name = "contact-sync state DB"

    def __init__(self, state_db_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state_db_conn_id = state_db_conn_id

    @cached_property
    def sqlalchemy_url(self) -> str:
        conn = self.get_connection(self.state_db_conn_id)
        if conn.password:
            from airflow.sdk.log import mask_secret

            mask_secret(conn.password)
        return url_from_connection(
            conn.conn_type, conn.host, conn.port, conn.login, conn.password, conn.schema, conn.extra_dejson
        )

    @cached_property
    def engine(self) -> Engine:
        from contact_sync.state import make_engine

        return make_engine(self.sqlalchemy_url)

    def get_sqlalchemy_engine(self) -> Engine:
        return self.engine

    def migrate(self) -> str:
        """Bring the state DB to the newest schema; returns the revision."""
        from contact_sync.state import migrate

        return migrate(self.engine)

    def test_connection(self) -> tuple[bool, str]:
        from sqlalchemy import text

        from contact_sync.state import current_revision, head_revision

        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            revision = current_revision(self.engine)
        except Exception as err:  # noqa: BLE001 - reported to the user, not swallowed
            return False, f"cannot reach the state DB ({type(err).__name__}: {str(err)[:200]})"
        head = head_revision()
        if revision != head:
            return (
                False,
                f"state DB reachable but at schema {revision or 'empty'}, code expects {head}: run migrations",
            )
        return True, f"state DB reachable ({self.engine.dialect.name}), schema at {revision}"
