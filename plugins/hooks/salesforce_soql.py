"""Rendering SOQL safely: literals are escaped here and nowhere else; queries are never pasted from input."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

_RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(__c|__r)?(\.[A-Za-z][A-Za-z0-9_]*(__c|__r)?)*$")
_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"'}

Literal = str | int | float | bool | datetime | None


def identifier(name: str) -> str:
    """Return ``name`` if it is a plain SOQL field/object name, else raise (never quote, never paste)."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ValueError(f"not a Salesforce field or object name: {name!r}")
    return name


def record_id(value: str) -> str:
    """Return ``value`` if it is a 15- or 18-character Salesforce record Id, else raise."""
    if not isinstance(value, str) or not _RECORD_ID.match(value):
        raise ValueError(f"not a Salesforce record Id: {value!r}")
    return value


def soql_datetime(value: datetime) -> str:
    """A datetime literal, always UTC with ``Z``: ``2026-10-01T00:00:00Z`` (milliseconds only when set)."""
    if value.tzinfo is None:
        raise ValueError("SOQL datetimes must be timezone-aware (got a naive datetime)")
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text + "Z"


def soql_literal(value: Literal) -> str:
    """Render a Python value as a SOQL literal; strings are quoted with every special character escaped."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return soql_datetime(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + "".join(_ESCAPES.get(ch, ch) for ch in value) + "'"
    raise TypeError(f"cannot render {type(value).__name__} as a SOQL literal")


def equals_filter(filters: Mapping[str, Literal | Sequence[Literal]]) -> list[str]:
    """``{"LastName": "O'Brien", "Id": [..]}`` -> ``["LastName = 'O\\'Brien'", "Id IN (...)"]``."""
    clauses = []
    for field, value in filters.items():
        if isinstance(value, list | tuple | set | frozenset):
            clauses.append(f"{identifier(field)} IN ({', '.join(soql_literal(v) for v in value)})")
        else:
            clauses.append(f"{identifier(field)} = {soql_literal(value)}")
    return clauses


def window_where(
    cursor: str,
    start: datetime,
    end: datetime,
    *,
    filters: Mapping[str, Literal | Sequence[Literal]] | None = None,
    after: datetime | None = None,
) -> str:
    """``cursor >= start AND cursor < end [AND filters]``: the half-open window ``[start, end)``.

    ``after`` raises the lower bound when resuming a read by keyset (``cursor >= after``).
    """
    if end <= start:
        raise ValueError(f"empty window: start {start.isoformat()} is not before end {end.isoformat()}")
    lower = max(start, after) if after else start
    where = [f"{identifier(cursor)} >= {soql_datetime(lower)}", f"{cursor} < {soql_datetime(end)}"]
    return " AND ".join(where + equals_filter(filters or {}))


def select_query(sobject: str, fields: Iterable[str], where: str, order_by: Sequence[str] = ()) -> str:
    """``SELECT fields FROM sobject WHERE where [ORDER BY ..]`` (``where`` from :func:`window_where`)."""
    soql = f"SELECT {', '.join(identifier(f) for f in fields)} FROM {identifier(sobject)} WHERE {where}"
    if order_by:
        soql += " ORDER BY " + ", ".join(identifier(f) for f in order_by)
    return soql


def count_query(sobject: str, where: str) -> str:
    """``SELECT COUNT() FROM sobject WHERE where``."""
    return f"SELECT COUNT() FROM {identifier(sobject)} WHERE {where}"
