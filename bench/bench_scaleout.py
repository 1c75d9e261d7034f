"""The sync end to end on a real Airflow deployment: LocalExecutor vs CeleryExecutor with 1 and 2 workers.

    ./dev bench bench_scaleout                          # N = 5,000 contacts, L = 50 req/s per endpoint
    ./dev bench bench_scaleout --contacts 1000 --rate 20 --setups local celery2

For each set-up, in one run of this script and on the same generated data: both stand-ins, fresh PostgreSQL databases
(Airflow metadata, sync state), the Airflow components as processes (``sandbox.sync_deployment``), the shared Redis
respond.io limiter, and one scheduled run of ``salesforce_contacts_sync`` over a day holding N contacts. Prints per
set-up:

- contacts/s over the DAG run (first task start to last task end) and the run's wall time;
- the share of the respond.io limit L used on the busiest endpoint during the chunk phase;
- 429 answers (transient: the run's outcomes must add up with no ``retry_pending``);
- the time outside the busiest endpoint's pacing per contact, ``(run - busiest calls / L) / N``, and what the
  distributed set-up adds to it compared with LocalExecutor (the "overhead per contact");
- where the chunks ran (hostnames) and the cluster's start-up time.

Needs PostgreSQL (``CONTACT_SYNC_PG_URL``, default postgres@127.0.0.1:5432) and Redis on 127.0.0.1:6379, as the
tests do. Exit code 0 only when every run succeeded with outcomes that add up.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

SETUPS = {
    "local": ("LocalExecutor", 0),
    "celery1": ("CeleryExecutor", 1),
    "celery2": ("CeleryExecutor", 2),
}


def run_one(name: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from sandbox.respond_io.admin_client import calls_between
    from sandbox.sync_deployment import SYNC_DAG, SyncSetup, start_sync_deployment

    executor, workers = SETUPS[name]
    setup = SyncSetup(
        executor=executor, workers=max(workers, 1), worker_concurrency=args.concurrency, windows=1,
        contacts_per_window=args.contacts, rate=args.rate, chunk_size=args.chunk_size, lease_seconds=120,
        redis_db=args.redis_db, create_delay=0.5, post_create_delay=1.0, seed=42,
    )  # fmt: skip
    admin_url = os.environ.get(
        "CONTACT_SYNC_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
    )
    began = time.monotonic()
    deployment = start_sync_deployment(work / name, setup, admin_url=admin_url)
    startup = time.monotonic() - began
    try:
        before = deployment.respond_io.counters()
        deployment.cluster.unpause(SYNC_DAG)
        (run,) = deployment.cluster.wait_for_runs(SYNC_DAG, 1, timeout=args.timeout)
        after = deployment.respond_io.counters()
        tis = deployment.cluster.task_instances(SYNC_DAG, run["run_id"])
        summary = deployment.state_rows(
            "SELECT details FROM sync_runs WHERE dag_id = :dag AND run_id = :run",
            dag=SYNC_DAG,
            run=run["run_id"],
        )
        details = summary[0][0] if summary else {}
        if isinstance(details, str):
            import json

            details = json.loads(details)
    finally:
        deployment.stop()
    started = [t["start_date"] for t in tis if t["start_date"]]
    ended = [t["end_date"] for t in tis if t["end_date"]]
    chunks = [t for t in tis if t["task_id"] == "sync_chunk" and t["start_date"] and t["end_date"]]
    chunk_phase = (max(t["end_date"] for t in chunks) - min(t["start_date"] for t in chunks)).total_seconds()
    calls = calls_between(before, after)
    busiest_key, busiest = max(((k, sum(v.values())) for k, v in calls.items()), key=lambda kv: kv[1])
    too_many = sum(v.get("429", 0) for v in calls.values())
    dag_run = (max(ended) - min(started)).total_seconds()
    outcomes = details.get("outcomes") or {}
    return {
        "name": name,
        "executor": executor,
        "workers": workers,
        "state": run["state"],
        "startup": startup,
        "dag_run": dag_run,
        "chunk_phase": chunk_phase,
        "read": details.get("read", 0),
        "adds_up": bool(details.get("adds_up")),
        "retry_pending": outcomes.get("retry_pending", 0),
        "outcomes": {k: v for k, v in outcomes.items() if v},
        "busiest_key": busiest_key,
        "busiest_calls": busiest,
        "calls": sum(sum(v.values()) for v in calls.values()),
        "429": too_many,
        "hosts": Counter(t["hostname"] for t in chunks),
        "tries": max((t["try_number"] for t in chunks), default=0),
    }


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    n, rate = args.contacts, args.rate
    print(f"\nsync end to end: N = {n:,} contacts in one window, L = {rate:g} req/s per endpoint, "
          f"chunks of {args.chunk_size:,}, {os.cpu_count()} cores")  # fmt: skip
    base = next((r for r in results if r["name"] == "local"), results[0])
    base_outside = (base["dag_run"] - base["busiest_calls"] / rate) / max(base["read"], 1)
    header = (f"{'set-up':<22}{'contacts/s':>11}{'DAG run s':>10}{'busiest/L':>10}{'429s':>6}"
              f"{'outside ms/ct':>14}{'added ms/ct':>12}  chunks on")  # fmt: skip
    print(header)
    for r in results:
        outside = (r["dag_run"] - r["busiest_calls"] / rate) / max(r["read"], 1)
        share = r["busiest_calls"] / (rate * r["chunk_phase"]) if r["chunk_phase"] else 0.0
        label = "LocalExecutor" if r["workers"] == 0 else f"Celery, {r['workers']} worker(s)"
        hosts = ", ".join(f"{h}: {c}" for h, c in sorted(r["hosts"].items()))
        print(f"{label:<22}{r['read'] / r['dag_run']:>11.1f}{r['dag_run']:>10.1f}{share:>10.3f}{r['429']:>6}"
              f"{outside * 1000:>14.2f}{(outside - base_outside) * 1000:>12.2f}  {hosts}")  # fmt: skip
    print()
    for r in results:
        print(f"  {r['name']:<8} run {r['state']}, outcomes {r['outcomes']} (add up: {r['adds_up']}), "
              f"busiest endpoint {r['busiest_key']} ({r['busiest_calls']:,} calls), {r['calls']:,} respond.io calls, "
              f"max try {r['tries']}, cluster start-up {r['startup']:.1f} s")  # fmt: skip
    if len(results) > 1:
        speed = {r["name"]: r["read"] / r["dag_run"] for r in results}
        ratios = ", ".join(f"{k} {v / speed[base['name']]:.2f}x" for k, v in speed.items())
        print(f"  contacts/s relative to {base['name']}: {ratios}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--contacts", type=int, default=5000, help="contacts in the window (N)")
    parser.add_argument(
        "--rate", type=float, default=50.0, help="respond.io stand-in limit L, req/s per endpoint"
    )
    parser.add_argument("--chunk-size", type=int, default=1000, help="contacts per mapped sync_chunk task")
    parser.add_argument("--concurrency", type=int, default=4, help="task slots per Celery worker")
    parser.add_argument(
        "--setups", nargs="+", choices=sorted(SETUPS), default=["local", "celery1", "celery2"]
    )
    parser.add_argument(
        "--redis-db", type=int, default=5, help="Redis database for the broker and the limiter"
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for each run")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs of every component)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-scaleout-"))
    results = []
    try:
        for name in args.setups:
            print(f"-- {name}: starting the deployment and running the sync ...", flush=True)
            results.append(run_one(name, args, work))
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    report(results, args)
    ok = all(r["state"] == "success" and r["adds_up"] and not r["retry_pending"] for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
