"""Test data helpers for the stand-in tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

BASE = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


def sf_time(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def contacts(
    n: int, *, start: dt.datetime = BASE, step_seconds: float = 1.0, prefix: str = "c"
) -> list[dict[str, Any]]:
    """``n`` contacts created ``step_seconds`` apart from ``start`` (``step_seconds=0``: all at once)."""
    out = []
    for i in range(n):
        created = sf_time(start + dt.timedelta(seconds=i * step_seconds))
        out.append(
            {
                "FirstName": f"First{i}",
                "LastName": f"{prefix}Last{i}",
                "Email": f"{prefix}{i}@example.com",
                "Phone": f"+6012{i:07d}",
                "MailingCountry": "Malaysia",
                "LeadSource": "Web",
                "CreatedDate": created,
                "SystemModstamp": created,
                "LastModifiedDate": created,
            }
        )
    return out
