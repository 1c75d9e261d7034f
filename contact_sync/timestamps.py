"""Salesforce datetime values (``2026-10-01T12:00:00.000+0000``, Bulk CSV ``…Z``, or ``datetime``) as UTC."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

__all__ = ["parse_sf_datetime"]


@functools.lru_cache(maxsize=65536)
def _parse_text(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_sf_datetime(value: object) -> datetime | None:
    """Return ``value`` as an aware UTC ``datetime``, or ``None`` when blank or unreadable.

    Naive datetimes and strings without an offset are taken as UTC (Salesforce always answers in UTC).

    :param value: a Salesforce JSON/CSV datetime string, a ``datetime``, or ``None``.
    :return: the aware datetime in UTC, or ``None``.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, str) and value.strip():
        return _parse_text(value.strip())
    return None
