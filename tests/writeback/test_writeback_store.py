"""The queue itself on SQLite and PostgreSQL: idempotent intake, due order and backoff, discard, re-queue."""

from __future__ import annotations

from datetime import timedelta

from contact_sync.state import writeback_store


def _edit(request_id: str, sf_id: str = "003000000000001AAA", **values):
    return {"request_id": request_id, "workspace": "ws", "sf_id": sf_id, "field": "Title",
            "new_value": "New", "base_value": "Old", "requested_by": "agent", **values}  # fmt: skip


def test_intake_is_idempotent_on_the_request_id(state_engine):
    first = writeback_store.enqueue(state_engine, [_edit("a"), _edit("b")])
    again = writeback_store.enqueue(state_engine, [_edit("a", new_value="Other")])
    assert [r["created"] for r in first] == [True, True]
    assert [(r["created"], r["new_value"]) for r in again] == [(False, "New")]
    assert writeback_store.counts(state_engine) == {"pending": 2}


def test_due_respects_backoff_and_order(state_engine):
    rows = writeback_store.enqueue(state_engine, [_edit("a"), _edit("b"), _edit("c")])
    later = writeback_store.now() + timedelta(minutes=5)
    writeback_store.record_results(state_engine, [{"id": rows[1]["id"], "next_attempt_at": later}])
    assert [r["request_id"] for r in writeback_store.due(state_engine, 10)] == ["a", "c"]
    assert [r["request_id"] for r in writeback_store.due(state_engine, 10, at=later)] == ["a", "b", "c"]
    assert [r["request_id"] for r in writeback_store.due(state_engine, 1, after_id=rows[0]["id"])] == ["c"]


def test_discard_only_pending_and_requeue_failed(state_engine):
    a, b = writeback_store.enqueue(state_engine, [_edit("a"), _edit("b")])
    assert writeback_store.discard(state_engine, a["id"], workspace="ws")
    assert not writeback_store.discard(state_engine, a["id"])
    assert not writeback_store.discard(state_engine, b["id"], workspace="other")
    writeback_store.set_status(state_engine, [b["id"]], "failed", attempts=5)
    assert writeback_store.requeue_failed(state_engine) == 1
    [requeued] = writeback_store.edits(state_engine, status="pending")
    assert (requeued["id"], requeued["attempts"]) == (b["id"], 0)
    assert writeback_store.still_pending(state_engine, [a["id"], b["id"]]) == {b["id"]}
