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
    columns = update if update is not None else [c for c in rows[0] if c not in keys]
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg2" and len(rows) > 50:
        _pg_copy_upsert(connection, table, rows, keys, columns)
        return
    statement = dialect_insert(connection, table)
    if columns:
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={c: statement.excluded[c] for c in columns}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    connection.execute(statement, rows)


def _pg_copy_upsert(
    connection: Connection, table: Table, rows: list[dict[str, Any]], keys: list[str], columns: list[str]
) -> None:
    """Large upserts on PostgreSQL: ``COPY`` into a temporary table, then one ``INSERT .. SELECT .. ON CONFLICT``.

    SQLAlchemy's executemany path sends these upserts at ~10k rows/s; COPY is several times faster. Identifiers
    come from the table definition, never from input; values travel in COPY's text format, escaped.
    """
    import io
    import json

    names = list(rows[0])
    quoted = ", ".join(f'"{name}"' for name in names)
    action = (
        "DO UPDATE SET " + ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in columns) if columns else "DO NOTHING"
    )
    conflict = ", ".join(f'"{k}"' for k in keys)
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_copy_text(row[name], json) for name in names))
        buffer.write("\n")
    buffer.seek(0)
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS "_stage_{table.name}" (LIKE "{table.name}") ON COMMIT DELETE ROWS'
        )
        cursor.copy_expert(f'COPY "_stage_{table.name}" ({quoted}) FROM STDIN', buffer)
        cursor.execute(
            f'INSERT INTO "{table.name}" ({quoted}) SELECT {quoted} FROM "_stage_{table.name}" '  # noqa: S608
            f"ON CONFLICT ({conflict}) {action}"
        )
        cursor.execute(f'TRUNCATE "_stage_{table.name}"')
    finally:
        cursor.close()


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any, json: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    elif hasattr(value, "isoformat"):
        value = value.isoformat()
    return str(value).translate(_COPY_ESCAPES)
