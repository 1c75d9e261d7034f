"""The write-back queue: one row per requested edit of a Salesforce field (respond.io inbox -> Salesforce).

Intake only enqueues (idempotent on ``request_id``: a client-supplied id or the webhook's event id); the
write-back operator drains ``pending`` rows. Statuses: ``pending``, ``applied``, ``conflict``, ``rejected``,
``failed``, ``discarded``, ``superseded``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, update

from contact_sync.state.schema import writeback_queue
from contact_sync.state.upsert import dialect_insert

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from sqlalchemy.engine import Engine

STATUSES = ("pending", "applied", "conflict", "rejected", "failed", "discarded", "superseded")


def now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _row(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    for name in ("requested_at", "next_attempt_at", "applied_at", "updated_at"):
        data[name] = _aware(data[name])
    return data


def enqueue(engine: Engine, edits: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Queue edits (``request_id``, ``workspace``, ``sf_id``, ``field``, ``new_value``, ``base_value``,
    ``source``, ``requested_by``); an edit whose ``request_id`` is already queued is not stored again.

    Returns the queue rows of these request ids, each with ``created`` (False for a replay).
    """
    at = now()
    rows = [
        {
            "request_id": str(edit["request_id"])[:200],
            "workspace": edit["workspace"],
            "sf_id": edit["sf_id"],
            "field": edit["field"],
            "new_value": edit.get("new_value"),
            "base_value": edit.get("base_value"),
            "source": edit.get("source", "inbox"),
            "requested_by": str(edit.get("requested_by") or "unknown")[:100],
            "requested_at": edit.get("requested_at") or at,
            "status": "pending",
            "attempts": 0,
            "updated_at": at,
        }
        for edit in edits
    ]
    if not rows:
        return []
    with engine.begin() as connection:
        existing = {
            r.request_id
            for r in connection.execute(
                select(writeback_queue.c.request_id).where(
                    writeback_queue.c.request_id.in_([r["request_id"] for r in rows])
                )
            )
        }
        statement = dialect_insert(connection, writeback_queue).on_conflict_do_nothing(
            index_elements=["request_id"]
        )
        connection.execute(statement, rows)
        stored = connection.execute(
            select(writeback_queue).where(writeback_queue.c.request_id.in_([r["request_id"] for r in rows]))
        ).all()
    return [{**_row(r), "created": r.request_id not in existing} for r in stored]


def due(engine: Engine, limit: int, *, at: datetime | None = None, after_id: int = 0) -> list[dict[str, Any]]:
    """Pending edits whose backoff has passed, oldest first (``id > after_id``)."""
    at = at or now()
    q = writeback_queue.c
    with engine.connect() as connection:
        rows = connection.execute(
            select(writeback_queue)
            .where(
                q.status == "pending",
                q.id > after_id,
                or_(q.next_attempt_at.is_(None), q.next_attempt_at <= at),
            )
            .order_by(q.id)
            .limit(limit)
        ).all()
    return [_row(r) for r in rows]


def pending_for(engine: Engine, sf_ids: Sequence[str]) -> list[dict[str, Any]]:
    """All pending edits of these contacts (coalescing considers every pending edit of a field together)."""
    q = writeback_queue.c
    result: list[dict[str, Any]] = []
    with engine.connect() as connection:
        for start in range(0, len(sf_ids), 500):
            part = list(sf_ids[start : start + 500])
            result += [
                _row(r)
                for r in connection.execute(
                    select(writeback_queue).where(q.status == "pending", q.sf_id.in_(part))
                )
            ]
    return result


def still_pending(engine: Engine, ids: Sequence[int]) -> set[int]:
    """Which of these edits are still pending."""
    q = writeback_queue.c
    found: set[int] = set()
    with engine.connect() as connection:
        for start in range(0, len(ids), 500):
            part = list(ids[start : start + 500])
            found |= {
                r.id for r in connection.execute(select(q.id).where(q.id.in_(part), q.status == "pending"))
            }
    return found


def set_status(engine: Engine, ids: Sequence[int], status: str, **values: Any) -> None:
    """Set the status (and other columns) of these edits."""
    if status not in STATUSES:
        raise ValueError(f"unknown write-back status {status!r}")
    if not ids:
        return
    with engine.begin() as connection:
        for start in range(0, len(ids), 500):
            connection.execute(
                update(writeback_queue)
                .where(writeback_queue.c.id.in_(list(ids[start : start + 500])))
                .values(status=status, updated_at=now(), **values)
            )


def record_results(engine: Engine, results: Sequence[Mapping[str, Any]]) -> None:
    """Write several edits' outcomes in one transaction: ``{"id", "status", <other columns>}`` each."""
    if not results:
        return
    with engine.begin() as connection:
        at = now()
        for result in results:
            values = {k: v for k, v in result.items() if k != "id"}
            connection.execute(
                update(writeback_queue)
                .where(writeback_queue.c.id == result["id"])
                .values(updated_at=at, **values)
            )


def discard(engine: Engine, edit_id: int, *, workspace: str | None = None) -> bool:
    """Discard a pending edit (Salesforce keeps its value); False when it is not pending (any more)."""
    q = writeback_queue.c
    where = [q.id == edit_id, q.status == "pending"]
    if workspace is not None:
        where.append(q.workspace == workspace)
    with engine.begin() as connection:
        result = connection.execute(
            update(writeback_queue).where(*where).values(status="discarded", updated_at=now())
        )
    return result.rowcount == 1


def requeue_failed(engine: Engine, ids: Sequence[int] | None = None) -> int:
    """Put ``failed`` edits (all, or these ids) back to ``pending`` with fresh attempts; returns how many."""
    q = writeback_queue.c
    where = [q.status == "failed"]
    if ids is not None:
        where.append(q.id.in_(list(ids)))
    with engine.begin() as connection:
        result = connection.execute(
            update(writeback_queue)
            .where(*where)
            .values(status="pending", attempts=0, next_attempt_at=None, updated_at=now())
        )
    return int(result.rowcount or 0)


def edits(
    engine: Engine,
    *,
    status: str | None = None,
    sf_ids: Sequence[str] | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Queue rows, newest first, optionally by status and contacts (on-call listings, the sidebar)."""
    q = writeback_queue.c
    query = select(writeback_queue).order_by(q.id.desc()).limit(limit)
    if status is not None:
        query = query.where(q.status == status)
    if sf_ids is not None:
        query = query.where(q.sf_id.in_(list(sf_ids)))
    with engine.connect() as connection:
        return [_row(r) for r in connection.execute(query)]


def counts(engine: Engine) -> dict[str, int]:
    """Edits per status."""
    q = writeback_queue.c
    with engine.connect() as connection:
        rows = connection.execute(select(q.status, func.count()).group_by(q.status)).all()
    return {status: int(n) for status, n in rows}
