"""Benchmark: SalesforceContactsHook.stream_window against simple-salesforce query_all, same data, same run.

    ./dev bench bench_salesforce_reader [--sizes 100000 1000000]

Starts the Salesforce stand-in, loads N demo contacts, then reads the whole window in separate child processes
(so each has its own peak RSS): the hook over REST pages, the hook over Bulk API 2.0, and simple-salesforce
``query_all``. Prints records/s, peak RSS, API calls per 2,000 records, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)
FIELDS = [
    "Id",
    "FirstName",
    "LastName",
    "Email",
    "Phone",
    "MobilePhone",
    "MailingCountry",
    "CreatedDate",
    "CreatedById",
    "SystemModstamp",
]


def child(mode: str, url: str, ca_file: str, state_dir: str) -> dict:
    """Read the whole window once; runs in its own process."""
    from airflow.sdk import Connection

    extra = {
        "instance_url": url,
        "consumer_key": "bench-client",
        "consumer_secret": "bench-secret",
        "ca_file": ca_file,
        "version": "62.0",
    }
    os.environ["AIRFLOW_CONN_SF_BENCH"] = Connection(
        conn_id="sf_bench", conn_type="salesforce", extra=json.dumps(extra)
    ).as_json()
    os.environ["AIRFLOW_CONN_CS_BENCH_STATE"] = Connection(
        conn_id="cs_bench_state", conn_type="sqlite", host=f"{state_dir}/state.db"
    ).as_json()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
    from hooks.salesforce import SalesforceContactsHook

    from sandbox.salesforce.client import simple_salesforce_client

    started = time.perf_counter()  # imports are outside the timing; authentication is inside for both
    records = 0
    if mode in {"hook-rest", "hook-bulk"}:
        hook = SalesforceContactsHook("sf_bench", state_db_conn_id="cs_bench_state")
        threshold = 10**12 if mode == "hook-rest" else 0
        for _record in hook.stream_window(START, END, fields=FIELDS, bulk_threshold=threshold):
            records += 1
        calls = hook.budget.calls_this_run
        pages = hook.last_read.pages
    else:
        sf = simple_salesforce_client(url, ca_file, "bench-client", "bench-secret", version="62.0")
        soql = (
            f"SELECT {', '.join(FIELDS)} FROM Contact WHERE CreatedDate >= 2026-10-01T00:00:00Z "
            "AND CreatedDate < 2026-11-01T00:00:00Z ORDER BY CreatedDate, Id"
        )
        result = sf.query_all(soql)
        records = len(result["records"])
        calls = pages = None
    seconds = time.perf_counter() - started
    return {
        "mode": mode,
        "records": records,
        "seconds": seconds,
        "calls": calls,
        "pages": pages,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_child(mode: str, url: str, ca_file: str) -> dict:
    with tempfile.TemporaryDirectory() as state_dir:
        from contact_sync.state import make_engine, migrate

        migrate(make_engine(f"sqlite:///{state_dir}/state.db"))
        out = subprocess.run(  # noqa: S603
            [sys.executable, __file__, "--child", mode, url, ca_file, state_dir],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "AIRFLOW_HOME": state_dir},
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--child", nargs=4, metavar=("MODE", "URL", "CA", "STATE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return

    from sandbox.certs import ensure_certificates
    from sandbox.demo_data import generate_contacts, write_jsonl
    from sandbox.process import start_server
    from sandbox.salesforce.client import SalesforceAdmin

    work = Path(tempfile.mkdtemp(prefix="bench-sf-reader-"))
    certs = ensure_certificates(work / "certs")
    server = start_server(
        "sandbox.salesforce",
        [
            "--data-dir",
            str(work),
            "--cert-dir",
            str(work / "certs"),
            "--client-id",
            "bench-client",
            "--client-secret",
            "bench-secret",
            "--daily-api-limit",
            "100000000",
        ],
        scheme="https",
        verify=certs.ca_file,
        log_dir=work,
    )
    admin = SalesforceAdmin(server.url, certs.ca_file)
    results: dict[int, dict[str, dict]] = {}
    try:
        for size in args.sizes:
            admin.reset()
            path = work / f"contacts-{size}.jsonl"
            write_jsonl(path, generate_contacts(size, seed=1, start=START, end=END))
            loaded = admin.load_file(str(path))
            assert loaded == size, (loaded, size)
            results[size] = {}
            for mode in ("hook-rest", "hook-bulk", "query_all"):
                results[size][mode] = result = run_child(mode, server.url, certs.ca_file)
                assert result["records"] == size, result
                print(
                    f"N={size:>9,} {mode:<10} {result['records'] / result['seconds']:>9,.0f} records/s "
                    f"peak RSS {result['peak_rss_mb']:>7,.0f} MB  API calls {result['calls'] or '-'}",
                    flush=True,
                )
    finally:
        server.stop()

    print("\nSummary")
    for size, modes in results.items():
        rest, bulk, qa = modes["hook-rest"], modes["hook-bulk"], modes["query_all"]
        print(
            f"  N={size:,}: hook REST {rest['records'] / rest['seconds']:,.0f}/s, "
            f"{rest['calls'] / (size / 2000):.2f} calls per 2,000 records ({rest['pages']} pages + "
            f"{rest['calls'] - rest['pages']} other calls); "
            f"Bulk 2.0 {bulk['records'] / bulk['seconds']:,.0f}/s ({bulk['calls']} calls); "
            f"query_all {qa['records'] / qa['seconds']:,.0f}/s; "
            f"hook REST / query_all speed {qa['seconds'] / rest['seconds']:.2f}x; "
            f"peak RSS hook {rest['peak_rss_mb']:,.0f} MB vs query_all {qa['peak_rss_mb']:,.0f} MB"
        )
    if len(results) >= 2:
        small, large = min(results), max(results)
        for mode in ("hook-rest", "hook-bulk", "query_all"):
            ratio = results[large][mode]["peak_rss_mb"] / results[small][mode]["peak_rss_mb"]
            print(f"  peak RSS {mode} at N={large:,} / at N={small:,}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
