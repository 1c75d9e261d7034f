"""Write-back: drain N queued edits with SalesforceWriteBackOperator vs a one-PATCH-per-edit loop, same run.

Starts the Salesforce stand-in, loads N contacts, queues one Title edit per contact in a throw-away SQLite state
DB, then drains the queue (conflict reads ``Id IN (...)`` 200 at a time, composite updates of 200 records) and
prints edits/s and Salesforce API calls; then PATCHes the same N contacts one request per edit and prints the
same figures. Usage: ``./dev bench bench_writeback [--edits 10000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=10_000)
    args = parser.parse_args()

    from sandbox.certs import ensure_certificates
    from sandbox.process import start_server
    from sandbox.salesforce.client import SalesforceAdmin

    work = Path(tempfile.mkdtemp(prefix="bench-writeback-"))
    certs = ensure_certificates(work / "certs")
    server = start_server(
        "sandbox.salesforce",
        [
            "--data-dir", str(work), "--cert-dir", str(work / "certs"),
            "--client-id", "bench-client", "--client-secret", "bench-secret",
            "--daily-api-limit", "100000000",
        ],
        scheme="https",
        verify=certs.ca_file,
        log_dir=work,
    )  # fmt: skip
    try:
        admin = SalesforceAdmin(server.url, certs.ca_file)
        ids = admin.load_contacts(
            {"LastName": f"Bench{n}", "Email": f"bench{n}@example.com", "Title": "Buyer"}
            for n in range(args.edits)
        )
        _wire(server.url, certs.ca_file, work)
        queue = _drain(admin, ids)
        loop = _patch_loop(admin, ids)
    finally:
        server.stop()
    n = args.edits
    print(f"edits: {n:,}")  # noqa: T201
    for name, (seconds, calls) in (("queue drain (operator)", queue), ("one PATCH per edit", loop)):
        print(  # noqa: T201
            f"{name:>24}: {seconds:7.2f} s  {n / seconds:9.0f} edits/s  {calls:6d} Salesforce calls "
            f"({calls / n * 200:.2f} per 200 edits)"
        )
    print(f"speed-up: {loop[0] / queue[0]:.1f}x, calls: {loop[1] / max(1, queue[1]):.0f}x fewer")  # noqa: T201


def _wire(url: str, ca_file: str, work: Path) -> None:
    from airflow.sdk import Connection

    from contact_sync.state import make_engine, migrate

    migrate(make_engine(f"sqlite:///{work}/state.db"))
    extra = {"instance_url": url, "consumer_key": "bench-client", "consumer_secret": "bench-secret"}
    os.environ["AIRFLOW_CONN_SALESFORCE_DEFAULT"] = Connection(
        conn_id="salesforce_default", conn_type="salesforce", extra=json.dumps({**extra, "ca_file": ca_file})
    ).as_json()
    os.environ["AIRFLOW_CONN_CONTACT_SYNC_STATE"] = Connection(
        conn_id="contact_sync_state", conn_type="sqlite", host=f"{work}/state.db"
    ).as_json()
    sys.path.insert(0, str(PROJECT / "plugins"))


def _drain(admin: object, ids: list[str]) -> tuple[float, int]:
    from operators.salesforce_writeback import SalesforceWriteBackOperator, drain

    from contact_sync.state import writeback_store

    op = SalesforceWriteBackOperator(task_id="bench")
    writeback_store.enqueue(
        op.engine,
        (
            {"request_id": f"b-{n}", "workspace": "bench", "sf_id": sf_id, "field": "Title",
             "new_value": f"Queued {n}", "base_value": "Buyer"}
            for n, sf_id in enumerate(ids)
        ),
    )  # fmt: skip
    before = admin.counters()["total"]  # type: ignore[attr-defined]
    started = time.perf_counter()
    totals = drain(op)
    seconds = time.perf_counter() - started
    calls = admin.counters()["total"] - before  # type: ignore[attr-defined]
    if totals["applied"] != len(ids):
        raise SystemExit(f"the drain applied {totals['applied']} of {len(ids)} edits: {totals}")
    return seconds, calls


def _patch_loop(admin: object, ids: list[str]) -> tuple[float, int]:
    from hooks.salesforce import SalesforceContactsHook

    hook = SalesforceContactsHook(
        "salesforce_default", consumer="writeback", state_db_conn_id="contact_sync_state"
    )
    hook.describe("Contact")  # authenticate and warm up outside the timing, like the operator's first call
    before = admin.counters()["total"]  # type: ignore[attr-defined]
    started = time.perf_counter()
    for n, sf_id in enumerate(ids):
        hook.request("PATCH", f"sobjects/Contact/{sf_id}", json={"Title": f"Looped {n}"})
    seconds = time.perf_counter() - started
    return seconds, admin.counters()["total"] - before  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
