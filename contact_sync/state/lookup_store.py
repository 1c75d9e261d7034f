"""The lookup table's refresh state: watermarks, deletions, and Id/modstamp listings for reconcile."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from contact_sync.state.schema import contacts_lookup, watermarks
from contact_sync.state.upsert import upsert

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from sqlalchemy.engine import Engine

LOOKUP_WATERMARK = "lookup_refresh"


def get_watermark(engine: Engine, name: str = LOOKUP_WATERMARK) -> datetime | None:
    with engine.connect() as connection:
        value = connection.execute(select(watermarks.c.watermark).where(watermarks.c.name == name)).scalar()
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def set_watermark(
    engine: Engine, value: datetime, *, name: str = LOOKUP_WATERMARK, details: dict[str, Any] | None = None
) -> None:
    with engine.begin() as connection:
        upsert(
            connection,
            watermarks,
            [{"name": name, "watermark": value, "updated_at": datetime.now(UTC), "details": details or {}}],
            keys=["name"],
        )


def delete_lookup_rows(engine: Engine, sf_ids: Iterable[str]) -> int:
    ids = sorted(set(sf_ids))
    deleted = 0
    with engine.begin() as connection:
        for start in range(0, len(ids), 500):
            deleted += connection.execute(
                delete(contacts_lookup).where(contacts_lookup.c.sf_id.in_(ids[start : start + 500]))
            ).rowcount
    return deleted


def lookup_modstamps(engine: Engine, batch: int = 5000) -> Iterator[tuple[str, datetime | None]]:
    """Every ``(sf_id, system_modstamp)`` of the lookup table, in Id order, a batch at a time."""
    last = ""
    while True:
        with engine.connect() as connection:
            rows = connection.execute(
                select(contacts_lookup.c.sf_id, contacts_lookup.c.system_modstamp)
                .where(contacts_lookup.c.sf_id > last)
                .order_by(contacts_lookup.c.sf_id)
                .limit(batch)
            ).all()
        if not rows:
            return
        for sf_id, stamp in rows:
            yield sf_id, (stamp if stamp is None or stamp.tzinfo else stamp.replace(tzinfo=UTC))
        last = rows[-1][0]
