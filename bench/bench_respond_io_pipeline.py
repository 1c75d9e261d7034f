"""Benchmark of the respond.io pipeline: how close the busiest endpoint runs to the stand-in's rate limit.

Starts the respond.io stand-in limited to L requests/s per endpoint with its post-create window on, pushes N
new contacts through ``ContactPipeline.run`` (lookup by e-mail, lookup by phone, create_or_update, tag) and
prints calls/s on the busiest endpoint as a fraction of L (target >= 0.95), calls per contact, 429s,
failures, wall time and the CPU both processes used (2 cores must not be the bottleneck).

    .venv/bin/python bench/bench_respond_io_pipeline.py                 # L=50, 2,000 contacts
    .venv/bin/python bench/bench_respond_io_pipeline.py --rate 20 --contacts 500
"""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "plugins"))
if "AIRFLOW_HOME" not in os.environ:  # keep Airflow from creating ~/airflow
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="bench-respond-io-airflow-")
    atexit.register(shutil.rmtree, os.environ["AIRFLOW_HOME"], ignore_errors=True)

from sandbox.process import start_server  # noqa: E402
from sandbox.respond_io.admin_client import RespondIoAdmin  # noqa: E402

TOKEN = "bench-token"  # noqa: S105 - throw-away token of the local stand-in
CONN_ID = "respond_io_bench"


def _proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _subtract(after: dict, before: dict) -> dict:
    """Counters of the run alone: ``after`` minus the set-up calls in ``before``."""
    by_endpoint: dict[str, dict[str, int]] = {}
    for key, statuses in after["by_endpoint"].items():
        old = before["by_endpoint"].get(key, {})
        diff = {s: n - old.get(s, 0) for s, n in statuses.items() if n - old.get(s, 0)}
        if diff:
            by_endpoint[key] = diff
    by_status: Counter[str] = Counter()
    for statuses in by_endpoint.values():
        by_status.update(statuses)
    return {"by_endpoint": by_endpoint, "by_status": dict(by_status), "total": sum(by_status.values())}


def _contacts(count: int) -> list:
    from hooks.respond_io_pipeline import ContactInput

    return [
        ContactInput(
            key=f"003BENCH{i:08d}",
            email=f"bench.{i}@example.com",
            phone=f"+6012{i:07d}",
            fields={
                "firstName": f"Bench{i}",
                "lastName": "Contact",
                "email": f"bench.{i}@example.com",
                "phone": f"+6012{i:07d}",
                "custom_fields": [{"name": "sf_contact_id", "value": f"003BENCH{i:08d}"}],
            },
        )
        for i in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rate", type=float, default=50.0, help="stand-in limit L, requests/s per endpoint")
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--create-delay", type=float, default=0.5, help="stand-in post-create window, s")
    parser.add_argument("--max-in-flight", type=int, default=64)
    parser.add_argument("--error-rate", type=float, default=0.0, help="stand-in share of random 5xx answers")
    args = parser.parse_args()
    logging.getLogger("hooks.respond_io").setLevel(logging.WARNING)  # one INFO line per retry otherwise

    server = start_server(
        "sandbox.respond_io",
        ["--rate-limit", str(args.rate), "--create-delay", str(args.create_delay), "--token", TOKEN,
         "--error-rate", str(args.error_rate), "--log-level", "warning"],
    )  # fmt: skip
    try:
        from airflow.sdk import Connection
        from hooks.respond_io import RespondIoHook
        from hooks.respond_io_limits import endpoint_key
        from hooks.respond_io_pipeline import ContactPipeline

        conn = Connection(
            conn_id=CONN_ID,
            conn_type="http",
            host=server.url + "/v2",
            password=TOKEN,
            extra=json.dumps({"rate_limit_per_second": args.rate, "max_in_flight": args.max_in_flight,
                              "trust_env": False}),
        )  # fmt: skip
        admin = RespondIoAdmin(server.url + "/__admin")
        contacts = _contacts(args.contacts)
        with mock.patch.dict(os.environ, {f"AIRFLOW_CONN_{CONN_ID.upper()}": conn.as_json()}):
            hook = RespondIoHook(CONN_ID)
            # Client-side timestamps of every response, per endpoint key (to find the busiest one's window).
            seen: dict[str, list[float]] = {}
            lock = threading.Lock()

            def record(response, *_args, **_kwargs):  # requests response hook
                key = endpoint_key(response.request.method, response.request.path_url)
                with lock:
                    seen.setdefault(key, []).append(time.monotonic())

            # Workspace setup the sync does once per run (not timed, not counted below).
            hook.ensure_custom_field("sf_contact_id", name="Salesforce Id").raise_for_error()
            hook.ensure_tag("Auto-create: Salesforce").raise_for_error()
            setup_counters = admin.counters()
            hook.session.hooks["response"].append(record)
            pipeline = ContactPipeline(hook, max_in_flight=args.max_in_flight)
            cpu_client, cpu_server = os.times(), _proc_cpu_seconds(server.process.pid)
            began = time.monotonic()
            outcomes: Counter[str] = Counter()
            failures: list[str] = []
            attempts = 0
            for result in pipeline.run(contacts):
                outcomes[result.value.action if result.value else "failed"] += 1
                attempts += result.value.attempts if result.value else 0
                if not result.ok:
                    failures.append(f"{result.item.key}: {result.error_class} {result.message}")
            wall = time.monotonic() - began
            used_client = sum(os.times()[:2]) - sum(cpu_client[:2])
            used_server = _proc_cpu_seconds(server.process.pid) - cpu_server

        counters = _subtract(admin.counters(), setup_counters)
        contacts_in_standin = admin.contacts()
    finally:
        server.stop()

    by_endpoint = counters["by_endpoint"]
    busiest = max(by_endpoint, key=lambda k: sum(by_endpoint[k].values()))
    busiest_calls = sum(by_endpoint[busiest].values())
    stamps = seen.get(busiest, [])
    window = (stamps[-1] - stamps[0]) if len(stamps) > 1 else wall
    total_429 = counters["by_status"].get("429", 0)
    emails = Counter(c["email"] for c in contacts_in_standin)
    duplicates = sum(n - 1 for n in emails.values() if n > 1)

    print(f"respond.io pipeline: {args.contacts:,} contacts, L = {args.rate:g} req/s per endpoint, "
          f"create delay {args.create_delay:g}s, max_in_flight {args.max_in_flight}, "
          f"random 5xx {args.error_rate:.0%}")  # fmt: skip
    print(f"  wall time                 {wall:8.2f} s   ({args.contacts / wall:,.1f} contacts/s)")
    print(f"  busiest endpoint          {busiest}: {busiest_calls:,} calls")
    print(f"  busiest calls/s / L       {busiest_calls / wall / args.rate:8.3f}   (over the whole run)")
    print(f"                            {len(stamps) / window / args.rate:8.3f}   "
          f"(over its own first..last call, {window:.2f} s)")  # fmt: skip
    print(f"  calls per contact         {counters['total'] / args.contacts:8.2f}   "
          f"(client attempts {attempts / args.contacts:.2f})")  # fmt: skip
    for key in sorted(by_endpoint):
        statuses = ", ".join(f"{s}: {n:,}" for s, n in sorted(by_endpoint[key].items()))
        print(f"    {key:48s} {statuses}")
    print(f"  429 responses             {total_429:8d}")
    print(f"  outcomes                  {dict(outcomes)}")
    print(f"  failed contacts           {len(failures):8d}")
    print(f"  contacts in stand-in      {len(contacts_in_standin):8d}   (duplicate e-mails: {duplicates})")
    print(f"  CPU client / stand-in     {used_client / wall:8.1%} / {used_server / wall:.1%} of one core")
    for line in failures[:10]:
        print(f"    {line}")


if __name__ == "__main__":
    main()
