"""The real sync DAG, run with dag.test() against the Salesforce and respond.io stand-ins."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from contact_sync.state.schema import matching_failures, sync_ledger

pytestmark = [pytest.mark.integration, pytest.mark.slow]

W0 = datetime(2026, 10, 5, 10, 0, tzinfo=UTC)  # an hourly window [W0, W0 + 1h)
W1 = W0 + timedelta(hours=1)
TAG = "Auto-create: Salesforce"


def sf_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def person(n: int, created: datetime, **fields) -> dict:
    return {
        "FirstName": f"Ana{n}",
        "LastName": f"Silva{n}",
        "Email": f"ana.silva{n}@example.com",
        "Phone": f"+1 415 555 {2600 + n:04d}",
        "MailingCountry": "United States",
        "CreatedById": "005000000000001AAA",
        "CreatedDate": sf_time(created),
        "SystemModstamp": sf_time(created),
        **fields,
    }


def respond_io_contacts(harness) -> list[dict]:
    return harness.respond_io.contacts()


def outcome_counts(summary: dict) -> dict[str, int]:
    return {k: v for k, v in summary["outcomes"].items() if v}


def test_first_run_syncs_every_contact_once_and_counts_add_up(sync_dag):
    contacts = [person(n, W0 + timedelta(minutes=n)) for n in range(40)]
    contacts += [
        person(90, W0 + timedelta(minutes=50), Email="n/a", Phone="12 3"),  # no valid identifier
        person(91, W0 + timedelta(minutes=51), Email="ana.silva1@example.com"),  # email owned by person 1
    ]
    sync_dag.salesforce.load_contacts(contacts)
    # Someone who already writes on WhatsApp: same phone as person 3, no email in respond.io.
    sync_dag.respond_io.seed_contacts([{"firstName": "Ana", "phone": "+14155552603", "tags": ["WhatsApp"]}])

    sync_dag.run(W0)

    summary = sync_dag.summaries()[-1]
    assert summary["status"] == "success" and summary["adds_up"]
    assert summary["read"] == 42
    assert outcome_counts(summary) == {
        "created": 39,
        "updated_existing": 1,
        "held_duplicate": 1,
        "rejected": 1,
    }
    inbox = respond_io_contacts(sync_dag)
    assert len(inbox) == 40  # 39 new + the one that existed: no duplicate for the WhatsApp person
    assert all(TAG in c["tags"] for c in inbox)
    whatsapp = next(c for c in inbox if c["phone"] == "+14155552603")
    assert set(whatsapp["tags"]) == {"WhatsApp", TAG}
    assert whatsapp["firstName"] == "Ana"  # a name a person set is kept
    with sync_dag.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(sync_ledger)).scalar() == 40
        failures = {r.sf_id: r for r in connection.execute(select(matching_failures))}
    assert sorted(r.outcome for r in failures.values()) == ["held_duplicate", "rejected"]
    rejected = next(r for r in failures.values() if r.outcome == "rejected")
    assert rejected.raw_email == "n/a" and rejected.raw_phone == "12 3"
    assert "NO_VALID_IDENTIFIER" in rejected.reasons and rejected.region_assumed == "US"


def test_rerunning_a_window_duplicates_nothing(sync_dag):
    sync_dag.salesforce.load_contacts([person(n, W0 + timedelta(minutes=n)) for n in range(30)])
    sync_dag.run(W0)
    calls_before = sync_dag.respond_io.counters()["by_endpoint"]

    sync_dag.run(W0)

    summary = sync_dag.summaries()[-1]
    assert outcome_counts(summary) == {"already_synced": 30}
    assert len(respond_io_contacts(sync_dag)) == 30
    calls_after = sync_dag.respond_io.counters()["by_endpoint"]
    tag_calls = [k for k in calls_after if k.endswith("/tag")]
    assert all(calls_after[k] == calls_before.get(k) for k in tag_calls)  # no second tag call
    with sync_dag.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(sync_ledger)).scalar() == 30


def test_boundary_and_late_rows_are_synced_exactly_once(sync_dag):
    at_start = person(1, W0)
    at_end = person(2, W1)  # belongs to the next window
    in_overlap = person(3, W1 - timedelta(seconds=60))  # read again by the next run's overlap
    sync_dag.salesforce.load_contacts([at_start, at_end, in_overlap])
    sync_dag.run(W0)
    # Committed late: created inside the first window, visible only after it ran; the overlap catches it.
    sync_dag.salesforce.load_contacts([person(4, W1 - timedelta(seconds=30))])

    sync_dag.run(W1)

    first, second = sync_dag.summaries()[-2:]
    assert outcome_counts(first) == {"created": 2}
    assert outcome_counts(second) == {
        "created": 2,
        "already_synced": 1,
    }  # at_end, the late row; person 3 again
    emails = Counter(c["email"] for c in respond_io_contacts(sync_dag))
    assert sorted(emails) == [f"ana.silva{n}@example.com" for n in (1, 2, 3, 4)]
    assert set(emails.values()) == {1}


def test_429_storm_and_5xx_burst_slow_the_run_but_lose_nothing(sync_dag):
    sync_dag.salesforce.load_contacts([person(n, W0 + timedelta(minutes=n)) for n in range(30)])
    sync_dag.respond_io.set_rate_limit(default=20)
    sync_dag.respond_io.add_burst(429, 15)
    sync_dag.respond_io.add_burst(503, 10)

    sync_dag.run(W0)

    summary = sync_dag.summaries()[-1]
    assert outcome_counts(summary) == {"created": 30}
    assert len(respond_io_contacts(sync_dag)) == 30


def test_a_chunk_killed_midway_is_retried_and_nothing_is_lost_or_doubled(sync_dag, monkeypatch):
    sync_dag.salesforce.load_contacts([person(n, W0 + timedelta(minutes=n)) for n in range(50)])
    monkeypatch.setenv("CONTACT_SYNC_FAULT_CRASH_AFTER", "7")

    sync_dag.run(W0)

    assert (sync_dag.tmp_path / "crash-marker").exists()  # the first attempt did die
    summary = sync_dag.summaries()[-1]
    assert summary["adds_up"] and outcome_counts(summary) == {"created": 50}
    inbox = respond_io_contacts(sync_dag)
    assert len(inbox) == 50 and len({c["email"] for c in inbox}) == 50
    tag_calls = sync_dag.respond_io.counters()["by_endpoint"].get("POST /contact/{identifier}/tag", {})
    # Contacts finished in respond.io but not yet recorded when the task died are found again by the retry
    # (by their Salesforce Id field) and completed without a second create or tag call.
    assert sum(tag_calls.values()) == 50


def test_bulk_imports_are_skipped_by_default_and_synced_with_an_extra_tag_when_asked(sync_dag):
    importer = "005000000000IMPAAA"
    burst = [person(100 + n, W0 + timedelta(minutes=20, milliseconds=10 * n), CreatedById=importer)
             for n in range(60)]  # fmt: skip
    sync_dag.salesforce.load_contacts([person(1, W0 + timedelta(minutes=1)), *burst])

    sync_dag.run(W0)
    assert outcome_counts(sync_dag.summaries()[-1]) == {"created": 1, "skipped_bulk_import": 60}

    sync_dag.run(W0, include_bulk_imports=True, bulk_import_tag="Bulk import")
    assert outcome_counts(sync_dag.summaries()[-1]) == {"created": 60, "already_synced": 1}
    imported = [c for c in respond_io_contacts(sync_dag) if "Bulk import" in c["tags"]]
    assert len(imported) == 60


def test_dry_run_writes_nothing_to_respond_io(sync_dag):
    sync_dag.salesforce.load_contacts([person(n, W0 + timedelta(minutes=n)) for n in range(10)])

    sync_dag.run(W0, dry_run=True)

    summary = sync_dag.summaries()[-1]
    assert summary["dry_run"] and outcome_counts(summary) == {"created": 10}
    assert respond_io_contacts(sync_dag) == []
    with sync_dag.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(sync_ledger)).scalar() == 0


def test_a_fix_in_salesforce_resolves_the_failure_on_a_later_run(sync_dag):
    ids = sync_dag.salesforce.load_contacts([person(1, W0 + timedelta(minutes=5), Email="-", Phone="123")])
    sync_dag.run(W0)
    assert outcome_counts(sync_dag.summaries()[-1]) == {"rejected": 1}

    sync_dag.salesforce.edit(ids[0], {"Email": "fixed@example.com"}, at=sf_time(W1 + timedelta(minutes=10)))
    sync_dag.run(W1)

    assert outcome_counts(sync_dag.summaries()[-1]) == {"created": 1}
    with sync_dag.engine.connect() as connection:
        failure = connection.execute(select(matching_failures)).one()
    assert failure.resolved_at is not None
    assert [c["email"] for c in respond_io_contacts(sync_dag)] == ["fixed@example.com"]


def test_backfill_dag_syncs_a_range_window_by_window_after_an_estimate(sync_dag, backfill_dag):
    sync_dag.salesforce.load_contacts(
        [person(n, W0 + timedelta(minutes=7 * n)) for n in range(30)]
    )  # 3.5 hours
    sync_dag.run(W0)  # the first hour was already synced by the regular DAG
    conf = {"from": W0.isoformat(), "to": (W0 + timedelta(hours=4)).isoformat(), "window_hours": 2}

    backfill_dag.test(run_conf={**conf, "estimate_only": True})
    assert len(respond_io_contacts(sync_dag)) == 9  # the estimate wrote nothing
    run = backfill_dag.test(run_conf={**conf, "estimate_only": False})

    backfill = [s for s in sync_dag.summaries() if s["run_id"].startswith(run.run_id + "/")]
    assert run.state == "success"
    # Two windows in order; the second re-reads the first's last contact through the overlap.
    assert [outcome_counts(s) for s in backfill] == [
        {"already_synced": 9, "created": 9},
        {"already_synced": 1, "created": 12},
    ]
    assert len(respond_io_contacts(sync_dag)) == 30


def test_retry_pending_contacts_are_tried_again_by_the_next_run(sync_dag):
    sync_dag.salesforce.load_contacts(
        [person(1, W0 + timedelta(minutes=5)), person(2, W0 + timedelta(minutes=6))]
    )
    sync_dag.respond_io.add_burst(503, 40, endpoint="POST /contact/create_or_update/{identifier}")

    sync_dag.run(W0)
    first = outcome_counts(sync_dag.summaries()[-1])
    sync_dag.respond_io.clear_faults()
    sync_dag.run(W1)  # a later window: the pending contacts are re-read by Id

    assert first.get("retry_pending", 0) >= 1 and sum(first.values()) == 2
    assert outcome_counts(sync_dag.summaries()[-1]) == {"created": first["retry_pending"]}
    assert len(respond_io_contacts(sync_dag)) == 2
    with sync_dag.engine.connect() as connection:
        resolved = connection.execute(select(matching_failures.c.resolved_at)).scalars().all()
    assert len(resolved) == first["retry_pending"] and all(r is not None for r in resolved)


def test_a_refused_respond_io_token_fails_the_run_at_once_without_retries(sync_dag, monkeypatch):
    import json
    import os

    sync_dag.salesforce.load_contacts([person(1, W0 + timedelta(minutes=5))])
    conn = json.loads(os.environ["AIRFLOW_CONN_RESPOND_IO_DEFAULT"])
    monkeypatch.setenv("AIRFLOW_CONN_RESPOND_IO_DEFAULT", json.dumps({**conn, "password": "revoked-token"}))

    run = sync_dag.run(W0)

    chunk = next(ti for ti in run.get_task_instances() if ti.task_id == "sync_chunk")
    assert run.state == "failed"
    assert chunk.state == "failed" and chunk.try_number == 1
    assert respond_io_contacts(sync_dag) == []
    summary = sync_dag.summaries()[-1]
    assert (
        summary["status"] == "incomplete"
    )  # finalize recorded what it could; the contact has no outcome yet


def test_a_failed_extract_fails_the_run_instead_of_reporting_nothing_new(sync_dag, monkeypatch):
    import json
    import os

    sync_dag.salesforce.load_contacts([person(1, W0 + timedelta(minutes=5))])
    conn = json.loads(os.environ["AIRFLOW_CONN_SALESFORCE_DEFAULT"])
    extra = conn["extra"] if isinstance(conn["extra"], dict) else json.loads(conn["extra"])
    monkeypatch.setenv(
        "AIRFLOW_CONN_SALESFORCE_DEFAULT",
        json.dumps({**conn, "extra": {**extra, "consumer_secret": "revoked"}}),
    )

    run = sync_dag.run(W0)

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["extract"] == "failed"
    assert states["finalize"] == "failed", "finalize still records what it can, then fails the run"
    assert run.state == "failed"


def test_validation_reports_go_where_contact_sync_reports_dir_says(sync_dag, monkeypatch, tmp_path):
    reports = tmp_path / "reports-volume"
    monkeypatch.setenv("CONTACT_SYNC_REPORTS_DIR", str(reports))
    sync_dag.salesforce.load_contacts([person(1, W0 + timedelta(minutes=5))])

    run = sync_dag.run(W0)

    assert run.state == "success"
    assert [p.name for p in reports.iterdir()], "the run's Data Docs folder is in CONTACT_SYNC_REPORTS_DIR"
