"""Retention cleanup deletes exactly what the policy no longer keeps, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from contact_sync.state.retention import RetentionPolicy, cleanup
from contact_sync.state.schema import matching_failures, staged_contacts, sync_runs
from tests.state.test_reports import failure, run_row, seed

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def staged(run_key: str, sf_id: str, workspace: str = "acme") -> dict:
    return {"run_key": run_key, "workspace": workspace, "sf_id": sf_id, "sobject": "Contact", "record": {}}


def seed_history(engine) -> None:
    days = lambda n: NOW - timedelta(days=n)  # noqa: E731
    seed(
        engine,
        failures=[
            failure("003A00000000001AAA", ["PHONE_TOO_SHORT"], days(400), resolved_at=days(181)),  # gone
            failure("003A00000000002AAA", ["PHONE_TOO_SHORT"], days(400), resolved_at=days(179)),  # kept
            failure("003A00000000003AAA", ["PHONE_TOO_SHORT"], days(400)),  # open: kept for ever
        ],
        runs=[
            run_row("old", days(366)),  # run row gone, and its staging
            run_row("mid", days(20)),  # run row kept, staging gone
            run_row("recent", days(2)),  # all kept
            # started 15 days ago, still running: staging goes by run start
            run_row("stuck", days(15), status="running", finished_at=None),
        ],
    )
    with engine.begin() as connection:
        connection.execute(
            insert(staged_contacts),
            [
                staged("contact_sync/old", "003A00000000001AAA"),
                staged("contact_sync/mid", "003A00000000001AAA"),
                staged("contact_sync/mid", "003A00000000002AAA", workspace="other"),
                staged("contact_sync/recent", "003A00000000001AAA"),
                staged("contact_sync/stuck", "003A00000000001AAA"),
                staged("contact_sync/unknown", "003A00000000001AAA"),  # no run row: kept, reported
            ],
        )


def test_cleanup_deletes_only_what_the_policy_drops(state_engine) -> None:
    seed_history(state_engine)

    counts = cleanup(state_engine, RetentionPolicy(), NOW)

    assert counts == {
        "matching_failures": 1,
        "staged_contacts": 4,
        "sync_runs": 1,
        "staged_contacts_orphaned": 1,
        "validation_reports": 0,
    }
    with state_engine.connect() as connection:
        failures = sorted(connection.execute(select(matching_failures.c.sf_id)).scalars())
        runs = sorted(connection.execute(select(sync_runs.c.run_id)).scalars())
        staging = sorted(connection.execute(select(staged_contacts.c.run_key)).scalars())
    assert failures == ["003A00000000002AAA", "003A00000000003AAA"]
    assert runs == ["mid", "recent", "stuck"]
    assert staging == ["contact_sync/recent", "contact_sync/unknown"]


def test_cleanup_is_idempotent(state_engine) -> None:
    seed_history(state_engine)
    cleanup(state_engine, RetentionPolicy(), NOW)

    again = cleanup(state_engine, RetentionPolicy(), NOW)

    assert again["matching_failures"] == again["staged_contacts"] == again["sync_runs"] == 0


def test_shorter_run_retention_never_orphans_staging(state_engine) -> None:
    seed_history(state_engine)

    counts = cleanup(state_engine, RetentionPolicy(runs_days=10, staging_days=30), NOW)

    assert counts["sync_runs"] == 3  # old, mid, stuck
    assert counts["staged_contacts_orphaned"] == 1  # only the one that never had a run row


def test_validation_report_folders(tmp_path) -> None:
    from contact_sync.state import make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'state.db'}")
    migrate(engine)
    reports = tmp_path / "reports"
    old, fresh, mixed = reports / "run-old", reports / "run-fresh", reports / "run-mixed"
    for folder in (old, fresh, mixed):
        (folder / "validations").mkdir(parents=True)
        (folder / "index.html").write_text("<html/>")
    (mixed / "validations" / "new.json").write_text("{}")
    (reports / "notes.txt").write_text("a file, not a report")
    (reports / "link").symlink_to(old)
    stamp = lambda path, days: os.utime(path, ((NOW - timedelta(days=days)).timestamp(),) * 2)  # noqa: E731
    for path in [*old.rglob("*"), old, *mixed.rglob("*"), mixed, reports / "notes.txt"]:
        stamp(path, 31)
    stamp(mixed / "validations" / "new.json", 5)  # a recent file keeps its folder
    for path in [*fresh.rglob("*"), fresh]:
        stamp(path, 29)

    counts = cleanup(engine, RetentionPolicy(), NOW, reports_dir=reports)

    assert counts["validation_reports"] == 1
    assert sorted(p.name for p in reports.iterdir()) == ["link", "notes.txt", "run-fresh", "run-mixed"]
    assert (
        cleanup(engine, RetentionPolicy(), NOW, reports_dir=tmp_path / "missing")["validation_reports"] == 0
    )
    engine.dispose()


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_policy_rejects_bad_days(bad) -> None:
    with pytest.raises(ValueError, match="runs_days"):
        RetentionPolicy(runs_days=bad)
