"""Several workers on one chunk of the real sync (leases), against the Salesforce and respond.io stand-ins."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from contact_sync.state import sync_store
from contact_sync.state.schema import sync_ledger
from tests.dags.test_salesforce_contacts_sync import person

pytestmark = [pytest.mark.integration, pytest.mark.slow]

W0 = datetime(2026, 10, 5, 10, 0, tzinfo=UTC)
WS = "respond_io_default"
RUN_ID = "manual__leases"
CREATE = "POST /contact/create_or_update/{identifier}"
TAG = "POST /contact/{identifier}/tag"


def make_job():  # noqa: ANN201
    """A job of one run on the harness's stand-ins and state DB, with the settings of the environment now."""
    from operators.contact_sync import ContactSyncJob, RunParams

    from contact_sync.settings import load_settings

    return ContactSyncJob(
        load_settings(), dag_id="salesforce_contacts_sync", run_id=RUN_ID, workspace=WS, window_start=W0,
        window_end=W0 + timedelta(hours=1), params=RunParams(),
    )  # fmt: skip


def calls(harness, endpoint: str) -> int:
    return sum(harness.respond_io.counters()["by_endpoint"].get(endpoint, {}).values())


def ledger_attempts(harness) -> dict[str, int]:
    with harness.engine.connect() as connection:
        return dict(connection.execute(select(sync_ledger.c.sf_id, sync_ledger.c.attempts)).all())


def test_two_workers_on_the_same_chunk_create_every_contact_exactly_once(sync_dag, monkeypatch):
    monkeypatch.setenv("CONTACT_SYNC_CHUNK_SIZE", "200")  # one chunk for both workers
    sync_dag.salesforce.load_contacts([person(n, W0 + timedelta(seconds=30 * n)) for n in range(80)])
    first = make_job()
    first.extract()
    assert first.classify() == [0]
    workers = [make_job(), make_job()]
    for worker in workers:  # connections and sessions built before the start line
        _ = worker.engine, worker.respond_io.session
    start = threading.Barrier(len(workers))
    results: dict[int, dict] = {}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            start.wait()
            # Two tries of the same mapped task at once (e.g. a retry while a zombie still runs).
            results[n] = workers[n].sync_chunk(0, try_number=n + 1, batch_size=8)
        except BaseException as err:  # noqa: BLE001 - reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    summary = first.finalize()

    assert errors == []
    assert summary["adds_up"] and {k: v for k, v in summary["outcomes"].items() if v} == {"created": 80}
    per_worker = [sum(result["outcomes"].values()) for result in results.values()]
    assert sum(per_worker) == 80  # every contact got exactly one outcome, from one of the workers
    assert all(n > 0 for n in per_worker)  # and both workers took part
    inbox = sync_dag.respond_io.contacts()
    assert len(inbox) == 80 and len({c["email"] for c in inbox}) == 80
    assert calls(sync_dag, CREATE) == 80 and calls(sync_dag, TAG) == 80  # no contact was written twice
    attempts = ledger_attempts(sync_dag)
    assert len(attempts) == 80 and set(attempts.values()) == {1}
    assert sync_store.lease_summary(sync_dag.engine, first.run_key) == []  # no lease left behind


def test_rows_leased_by_a_dead_worker_are_waited_for_then_taken_over_once(sync_dag, monkeypatch, caplog):
    monkeypatch.setenv("CONTACT_SYNC_LEASE_SECONDS", "1")
    ids = sync_dag.salesforce.load_contacts([person(n, W0 + timedelta(minutes=n)) for n in range(12)])
    job = make_job()
    job.extract()
    assert job.classify() == [0]
    # A worker that died (SIGKILL) holding the whole chunk: it had created contact 0 in respond.io without
    # recording it, and finished contact 1 with its ledger row.
    dead = "deadhost:4242:manual__leases:0:1"
    held = sync_store.claim_rows(job.engine, job.run_key, WS, 0, dead, 100, 2)
    sync_dag.respond_io.seed_contacts(
        [{"firstName": f"Ana{n}", "lastName": f"Silva{n}", "email": f"ana.silva{n}@example.com",
          "phone": f"+1415555{2600 + n}", "custom_fields": [{"name": "sf_contact_id", "value": ids[n]}]}
         for n in (0, 1)]
    )  # fmt: skip
    with job.engine.begin() as connection:
        connection.execute(
            insert(sync_ledger).values(
                workspace=WS, sf_id=ids[1], identifier="email:ana.silva1@example.com", outcome="created",
                written_fields={}, status="synced", attempts=1, run_key=job.run_key,
                synced_at=sync_store.now(), updated_at=sync_store.now(),
            )
        )  # fmt: skip
    caplog.set_level(logging.INFO, logger="operators.contact_sync")

    result = make_job().sync_chunk(0)
    summary = job.finalize()

    assert len(held) == 12
    messages = [r.getMessage() for r in caplog.records]
    assert any(f"waiting for 12 rows leased by {dead} until" in m for m in messages)
    assert any(f"taking over 12 rows leased by {dead}, expired at" in m for m in messages)
    assert result["taken_over"] == 12
    assert result["outcomes"] == {"created": 11, "already_synced": 1}
    assert summary["adds_up"] and summary["outcomes"]["created"] == 11
    inbox = sync_dag.respond_io.contacts()
    assert len(inbox) == 12 and len({c["email"] for c in inbox}) == 12
    assert (
        calls(sync_dag, CREATE) == 10
    )  # contact 0 was recognised by its Salesforce Id, contact 1 by the ledger
    assert ledger_attempts(sync_dag) == {sf_id: 1 for sf_id in ids}


def test_a_worker_failing_in_order_releases_its_rows_for_the_next_try_at_once(sync_dag, monkeypatch, caplog):
    sync_dag.salesforce.load_contacts([person(n, W0 + timedelta(minutes=n)) for n in range(20)])
    job = make_job()
    job.extract()
    assert job.classify() == [0]
    monkeypatch.setenv("CONTACT_SYNC_FAULT_CRASH_AFTER", "5")  # lease_seconds stays 120

    with pytest.raises(RuntimeError, match="injected crash"):
        make_job().sync_chunk(0, try_number=1)
    left = sync_store.lease_summary(job.engine, job.run_key)
    caplog.set_level(logging.INFO, logger="operators.contact_sync")
    result = make_job().sync_chunk(0, try_number=2)

    assert left == []  # nothing for the next try to wait for
    assert not any("waiting for" in r.getMessage() for r in caplog.records)
    assert result["taken_over"] == 0
    assert job.finalize()["outcomes"]["created"] == 20
    assert len(sync_dag.respond_io.contacts()) == 20
    assert calls(sync_dag, CREATE) == 20
