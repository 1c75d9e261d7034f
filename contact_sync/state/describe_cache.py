"""Salesforce describe results cached in the state DB across runs (one API call per object per TTL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from contact_sync.state.schema import salesforce_describe_cache
from contact_sync.state.upsert import upsert

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def load(
    engine: Engine, instance_url: str, sobject: str, api_version: str, ttl: timedelta
) -> dict[str, Any] | None:
    table = salesforce_describe_cache
    with engine.connect() as connection:
        row = connection.execute(
            select(table.c.body, table.c.fetched_at).where(
                table.c.instance_url == instance_url,
                table.c.sobject == sobject,
                table.c.api_version == api_version,
            )
        ).first()
    if row is None:
        return None
    fetched_at = row.fetched_at if row.fetched_at.tzinfo else row.fetched_at.replace(tzinfo=UTC)
    if datetime.now(UTC) - fetched_at > ttl:
        return None
    return dict(row.body)


def store(engine: Engine, instance_url: str, sobject: str, api_version: str, body: dict[str, Any]) -> None:
    with engine.begin() as connection:
        upsert(
            connection,
            salesforce_describe_cache,
            [
                {
                    "instance_url": instance_url,
                    "sobject": sobject,
                    "api_version": api_version,
                    "body": body,
                    "fetched_at": datetime.now(UTC),
                }
            ],
            keys=["instance_url", "sobject", "api_version"],
        )
