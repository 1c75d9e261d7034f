"""Dialect-native upserts (``INSERT .. ON CONFLICT``) for SQLite and PostgreSQL through SQLAlchemy Core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.dml import Insert


def dialect_insert(connection: Connection, table: Table) -> Insert:
    """The dialect's own ``insert()`` (it has ``on_conflict_do_update`` and ``.excluded``)."""
    name = connection.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise NotImplementedError(f"upserts are implemented for SQLite and PostgreSQL, not {name}")
    return insert(table)


def upsert(
    connection: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    keys: list[str],
    update: list[str] | None = None,
) -> None:
    """Insert ``rows``; on a conflict on ``keys`` overwrite the ``update`` columns (default: all others)."""
    if not rows:
        return
    statement = dialect_insert(connection, table)
    columns = update if update is not None else [c for c in rows[0] if c not in keys]
    if columns:
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={c: statement.excluded[c] for c in columns}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    connection.execute(statement, rows)
