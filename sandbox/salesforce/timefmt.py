"""Datetime formats of the Salesforce wire.

Datetimes are stored as canonical UTC strings ``2024-05-20T20:49:32.000+0000``: fixed width, so string order
is instant order and SQLite compares them correctly. Bulk CSV uses ``2024-05-20T20:49:32.000Z``.
"""

from __future__ import annotations

import datetime as dt
import re

CANONICAL_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
_ISO_RE = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d\d:?\d\d)?$",
    re.IGNORECASE,
)


def now() -> dt.datetime:
    """The current UTC time, truncated to milliseconds (Salesforce's precision)."""
    current = dt.datetime.now(dt.UTC)
    return current.replace(microsecond=current.microsecond // 1000 * 1000)


def fmt(value: dt.datetime) -> str:
    """Format an aware datetime as ``2024-05-20T20:49:32.000+0000`` (UTC)."""
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def parse(text: str, *, assume_utc: bool = True) -> dt.datetime:
    """Parse an ISO-8601-ish datetime (``Z``, ``+0000``, ``+00:00``, optional fraction) into aware UTC.

    :raises ValueError: when ``text`` is not a datetime.
    """
    match = _ISO_RE.match(text.strip())
    if not match:
        raise ValueError(f"not a datetime: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    if zone is None:
        if not assume_utc:
            raise ValueError(f"datetime without a time zone: {text!r}")
        offset = dt.timedelta(0)
    elif zone.upper() == "Z":
        offset = dt.timedelta(0)
    else:
        digits = zone.replace(":", "")
        sign = -1 if digits[0] == "-" else 1
        offset = sign * dt.timedelta(hours=int(digits[1:3]), minutes=int(digits[3:5]))
    value = dt.datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second or 0),
        micros,
        tzinfo=dt.timezone(offset),
    )
    return value.astimezone(dt.UTC)


def canonical(value: object) -> str | None:
    """Normalise a datetime given as text or ``datetime`` to the canonical stored form (``None`` stays)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return fmt(value if value.tzinfo else value.replace(tzinfo=dt.UTC))
    text = str(value)
    if CANONICAL_RE.match(text):
        return text
    return fmt(parse(text))


def to_bulk(stored: str) -> str:
    """``2024-05-20T20:49:32.000+0000`` → ``2024-05-20T20:49:32.000Z``."""
    return stored[:23] + "Z"
