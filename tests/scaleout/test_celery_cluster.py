"""The real DAGs on CeleryExecutor: two workers, one organisation-wide respond.io limit, a worker killed mid-chunk.

The tests share one deployment (``conftest.deployment``) and run in file order: the sync DAG's first scheduled run
(window 1) on both workers, its second run (window 2) with one worker SIGKILLed in the middle of a chunk, then the
lookup refresh on the surviving worker.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from sandbox.sync_deployment import SYNC_DAG

if TYPE_CHECKING:
    from sandbox.sync_deployment import SyncDeployment as Deployment

pytestmark = pytest.mark.timeout(900)

SYNCED = ("created", "updated_existing")


def _summary(deployment: Deployment, run_id: str) -> dict[str, Any]:
    from sqlalchemy import select

    from contact_sync.state.schema import sync_runs

    engine = deployment.engine
    try:
        with engine.connect() as connection:
            row = connection.execute(
                select(sync_runs).where(sync_runs.c.dag_id == SYNC_DAG, sync_runs.c.run_id == run_id)
            ).one()
    finally:
        engine.dispose()
    return dict(row.details or {}, status=row.status)


def _explain(deployment: Deployment, run: dict[str, Any]) -> str:
    tis = deployment.cluster.task_instances(SYNC_DAG, run["run_id"])
    failed = [t for t in tis if t["state"] != "success"]
    logs = [
        deployment.cluster.task_log(
            SYNC_DAG, run["run_id"], t["task_id"], t["map_index"], max(t["try_number"], 1)
        )[-3000:]
        for t in failed
    ]
    return f"run {run['run_id']} ended {run['state']}; tasks not successful: {failed}\n" + "\n".join(logs)


def _assert_synced_once(deployment: Deployment) -> None:
    """Ledger and the respond.io stand-in agree: one respond.io contact per synced Salesforce contact, no duplicates."""
    ledger = dict(deployment.state_rows("SELECT sf_id, respond_io_contact_id FROM sync_ledger"))
    contacts = deployment.respond_io.contacts()
    by_id = {c["id"]: c for c in contacts}
    sf_field = {
        c["id"]: next(
            (f["value"] for f in c.get("custom_fields") or [] if f["name"] == "sf_contact_id"), None
        )
        for c in contacts
    }
    carrying = Counter(v for v in sf_field.values() if v)
    assert [k for k, n in carrying.items() if n > 1] == [], (
        "several respond.io contacts carry one Salesforce Id"
    )
    for key in ("email", "phone"):
        values = Counter(c.get(key) for c in contacts if c.get(key))
        assert [v for v, n in values.items() if n > 1] == [], f"duplicate respond.io contacts by {key}"
    assert ledger, "nothing was synced"
    for sf_id, contact_id in ledger.items():
        assert contact_id in by_id, (
            f"{sf_id}: ledger names respond.io contact {contact_id}, which does not exist"
        )
        assert sf_field[contact_id] == sf_id
    assert set(carrying) == set(ledger), (
        "respond.io contacts carrying a Salesforce Id the ledger does not know"
    )


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["start_date"] < b["end_date"] and b["start_date"] < a["end_date"]


def test_sync_chunks_run_on_both_workers_in_parallel(deployment: Deployment) -> None:
    cluster = deployment.cluster
    before = deployment.respond_io.counters()
    cluster.unpause(SYNC_DAG)
    first = cluster.wait_for_runs(SYNC_DAG, 1, timeout=360)[0]
    after = deployment.respond_io.counters()

    assert first["state"] == "success", _explain(deployment, first)
    assert first["data_interval_start"] == deployment.windows[0][0]
    chunks = [t for t in cluster.task_instances(SYNC_DAG, first["run_id"]) if t["task_id"] == "sync_chunk"]
    assert len(chunks) >= 3
    assert {t["hostname"] for t in chunks} == {"w1", "w2"}, "both workers take chunks"
    assert any(_overlap(a, b) for a in chunks for b in chunks if a["hostname"] != b["hostname"]), (
        "chunks on the two workers never ran at the same time"
    )
    summary = _summary(deployment, first["run_id"])
    assert summary["adds_up"] and summary["read"] == len(deployment.sf_ids[0])
    assert summary["outcomes"].get("created", 0) > 50
    # 429s stay transient: no contact ends retry_pending or rejected by respond.io because of the limit.
    assert summary["outcomes"].get("retry_pending", 0) == 0
    assert summary["reasons"].get("RESPOND_IO_REJECTED", 0) == 0
    # By counts: the two workers' chunks together stay within L per endpoint (the shared limiter), so the
    # stand-in refuses (almost) nothing; one worker's own limiter per process would draw dozens of 429s here.
    calls = after["total"] - before["total"]
    refused = after["by_status"].get("429", 0) - before["by_status"].get("429", 0)
    assert refused <= max(2, calls // 200), f"{refused} x 429 of {calls} calls"
    _assert_synced_once(deployment)


def _in_flight_chunk(deployment: Deployment, run_key: str) -> tuple[int, str] | None:
    """A chunk of the run being worked on (≥ 3 contacts done, ≥ 5 to go): ``(chunk, lease owner)``."""
    rows = deployment.state_rows(
        "SELECT chunk, min(lease_owner), "
        "sum(CASE WHEN outcome IN ('created', 'updated_existing') THEN 1 ELSE 0 END), "
        "sum(CASE WHEN outcome IS NULL THEN 1 ELSE 0 END) "
        "FROM staged_contacts WHERE run_key = :run_key AND lease_owner IS NOT NULL AND chunk IS NOT NULL "
        "GROUP BY chunk",
        run_key=run_key,
    )
    for chunk, owner, _, _ in rows:
        done, to_go = deployment.state_rows(
            "SELECT sum(CASE WHEN outcome IN ('created', 'updated_existing') THEN 1 ELSE 0 END), "
            "sum(CASE WHEN outcome IS NULL THEN 1 ELSE 0 END) FROM staged_contacts "
            "WHERE run_key = :run_key AND chunk = :chunk",
            run_key=run_key,
            chunk=chunk,
        )[0]
        if (done or 0) >= 3 and (to_go or 0) >= 5:
            return chunk, owner
    return None


def test_worker_killed_mid_chunk_is_retried_on_the_other_worker(deployment: Deployment) -> None:
    cluster = deployment.cluster
    deadline = time.monotonic() + 300
    victim = None
    while victim is None:
        assert time.monotonic() < deadline, "the second run never had a chunk in flight"
        runs = cluster.runs(SYNC_DAG)
        if len(runs) >= 2 and runs[1]["state"] == "running":
            found = _in_flight_chunk(deployment, f"{SYNC_DAG}/{runs[1]['run_id']}")
            if found:
                chunk, owner = found
                pid = int(owner.split(":")[1])  # lease owner: "<hostname>:<pid>:..."
                victim = cluster.worker_of(pid)
                assert victim, f"lease owner {owner} is not a process of either worker"
                continue
        time.sleep(0.2)
    survivor = ({"w1", "w2"} - {victim}).pop()
    cluster.kill_worker(victim)

    second = cluster.wait_for_runs(SYNC_DAG, 2, timeout=400)[1]

    assert second["state"] == "success", _explain(deployment, second)
    history = cluster.task_history(SYNC_DAG, second["run_id"])
    killed = [h for h in history if h["task_id"] == "sync_chunk" and h["hostname"] == victim]
    assert killed, f"no earlier try of a chunk on {victim} in the history: {history}"
    current = {
        t["map_index"]: t
        for t in cluster.task_instances(SYNC_DAG, second["run_id"])
        if t["task_id"] == "sync_chunk"
    }
    for try_ in killed:
        retried = current[try_["map_index"]]
        assert retried["try_number"] > try_["try_number"]
        assert (retried["state"], retried["hostname"]) == ("success", survivor)
        retry_log = cluster.task_log(
            SYNC_DAG, second["run_id"], "sync_chunk", try_["map_index"], retried["try_number"]
        )
        assert "taking over" in retry_log, "the retry takes over the dead worker's leased contacts"
        assert "kept by this task's process alone" not in retry_log, "the limit is shared (Redis)"
    summary = _summary(deployment, second["run_id"])
    assert summary["adds_up"] and summary["read"] == len(deployment.sf_ids[1])
    assert summary["outcomes"].get("retry_pending", 0) == 0
    leftover = deployment.state_rows("SELECT count(*) FROM staged_contacts WHERE lease_owner IS NOT NULL")
    assert leftover == [(0,)], "finished contacts keep no lease"
    _assert_synced_once(deployment)
    # Both windows: each synced contact has exactly one ledger row.
    ledger = deployment.state_rows("SELECT count(*) FROM sync_ledger")[0][0]
    outcomes = [_summary(deployment, r["run_id"])["outcomes"] for r in cluster.runs(SYNC_DAG)[:2]]
    assert ledger == sum(o.get(name, 0) for o in outcomes for name in SYNCED)


def test_lookup_refresh_on_the_cluster(deployment: Deployment) -> None:
    cluster = deployment.cluster
    cluster.unpause("salesforce_lookup_refresh")
    run = cluster.wait_for_runs("salesforce_lookup_refresh", 1, timeout=300)[0]
    cluster.pause("salesforce_lookup_refresh")

    assert run["state"] == "success", cluster.task_log("salesforce_lookup_refresh", run["run_id"], "refresh")[
        -3000:
    ]
    (refresh,) = cluster.task_instances("salesforce_lookup_refresh", run["run_id"])
    assert refresh["hostname"] in {"w1", "w2"}
    all_ids = {i for window in deployment.sf_ids for i in window}
    lookup = dict(deployment.state_rows("SELECT sf_id, first_name FROM contacts_lookup"))
    assert set(lookup) == all_ids, "the lookup table holds every Salesforce contact, and nothing else"
    some_id = sorted(all_ids)[0]
    assert lookup[some_id] == deployment.salesforce.record(some_id).get("FirstName")


def test_backfill_of_a_synced_window_duplicates_nothing(deployment: Deployment) -> None:
    """On-call's backfill (`airflow backfill create`, scheduler + api-server + workers) re-runs window 1."""
    cluster = deployment.cluster
    contacts_before = len(deployment.respond_io.contacts())
    ledger_before = deployment.state_rows("SELECT count(*) FROM sync_ledger")
    start = deployment.windows[0][0].isoformat()

    cluster.cli(
        "backfill", "create", "--dag-id", SYNC_DAG, "--from-date", start, "--to-date", start,
        "--reprocess-behavior", "completed",
    )  # fmt: skip

    deadline = time.monotonic() + 300
    while True:
        rows = cluster.query(
            "SELECT run_id, state FROM dag_run WHERE dag_id = :dag_id AND backfill_id IS NOT NULL",
            dag_id=SYNC_DAG,
        )
        if rows and rows[0][1] in {"success", "failed"}:
            break
        assert time.monotonic() < deadline, f"the backfill run did not finish: {rows}"
        time.sleep(1)
    (run_id, state), *_ = rows
    assert state == "success"
    assert run_id == cluster.runs(SYNC_DAG)[0]["run_id"], "the window's own run was re-run"
    summary = _summary(deployment, run_id)
    assert summary["adds_up"] and summary["read"] == len(deployment.sf_ids[0])
    assert summary["outcomes"].get("created", 0) == 0 and summary["outcomes"]["already_synced"] > 50
    assert len(deployment.respond_io.contacts()) == contacts_before
    assert deployment.state_rows("SELECT count(*) FROM sync_ledger") == ledger_before
    _assert_synced_once(deployment)
