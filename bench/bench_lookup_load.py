"""Benchmark: loading the lookup table (contacts_lookup) — 1M rows first, then a 1 % change — on SQLite and PostgreSQL.

    ./dev bench bench_lookup_load [--rows 1000000] [--backends sqlite postgres]

The rows are prepared first (from the demo generator, keys normalised cheaply; not timed), then written through
the same code the refresh uses (``sync_store.upsert_lookup``: batched dialect-native upserts plus the ambiguity
marking of shared keys). Prints seconds and rows/s for the first load and for the 1 % change.

``--from-standin N`` also measures the full initial load as the refresh DAG does it: N demo contacts in the
Salesforce stand-in, read with ``queryAll`` (Bulk API 2.0 above 50,000 rows), keys normalised, rows upserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def prepared_rows(count: int) -> list[dict]:
    from sandbox.demo_data import generate_contacts

    rows = []
    for record in generate_contacts(count, seed=3):
        email = (record.get("Email") or "").strip().lower() or None
        digits = "".join(ch for ch in (record.get("Phone") or "") if ch.isdigit())
        rows.append(
            {
                "sf_id": record["Id"],
                "email_key": email if email and "@" in email and len(email) <= 320 else None,
                "phone_key": f"+{digits}"[:20] if len(digits) >= 7 else None,
                "first_name": record.get("FirstName"),
                "last_name": record.get("LastName"),
                "fields": {k: record.get(k) for k in ("Email", "Phone", "FirstName", "LastName", "Title")},
                "system_modstamp": datetime.now(UTC),
            }
        )
    return rows


def engine_for(backend: str, work: Path):  # noqa: ANN201
    from sqlalchemy import create_engine, text

    from contact_sync.state import make_engine, migrate

    if backend == "sqlite":
        url = f"sqlite:///{work / 'state.db'}"
        cleanup = None
    else:
        name = f"cs_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"

        def cleanup() -> None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    engine = make_engine(url)
    migrate(engine)
    return engine, cleanup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--from-standin", type=int, default=0, metavar="N", help="also time a full load of N")
    args = parser.parse_args()
    if args.from_standin:
        full_load_from_standin(args.from_standin)

    from contact_sync.state import sync_store

    started = time.perf_counter()
    rows = prepared_rows(args.rows)
    print(f"prepared {len(rows):,} rows in {time.perf_counter() - started:.1f}s (not part of the figures)")
    change = [{**row, "fields": {**row["fields"], "Title": "Changed"}} for row in rows[::100]]
    for backend in args.backends:
        with tempfile.TemporaryDirectory() as work:
            engine, cleanup = engine_for(backend, Path(work))
            try:
                t0 = time.perf_counter()
                sync_store.upsert_lookup(engine, rows)
                first = time.perf_counter() - t0
                t0 = time.perf_counter()
                sync_store.upsert_lookup(engine, change)
                second = time.perf_counter() - t0
            finally:
                engine.dispose()
                if cleanup:
                    cleanup()
        print(
            f"{backend:<9} first load {len(rows):,} rows: {first:6.1f}s ({len(rows) / first:>9,.0f} rows/s); "
            f"1 % change {len(change):,} rows: {second:5.1f}s ({len(change) / second:>8,.0f} rows/s)",
            flush=True,
        )


def full_load_from_standin(count: int) -> None:
    """Time LookupRefreshJob(mode="full") against the Salesforce stand-in holding ``count`` contacts."""
    import json
    import os
    import sys

    from contact_sync.settings import load_settings
    from contact_sync.state import make_engine, migrate
    from sandbox.certs import ensure_certificates
    from sandbox.demo_data import generate_contacts, write_jsonl
    from sandbox.process import start_server
    from sandbox.salesforce.client import SalesforceAdmin

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
    work = Path(tempfile.mkdtemp(prefix="bench-lookup-"))
    certs = ensure_certificates(work / "certs")
    server = start_server(
        "sandbox.salesforce",
        ["--data-dir", str(work), "--cert-dir", str(work / "certs"), "--client-id", "bench", "--client-secret",
         "bench-secret", "--daily-api-limit", "100000000"],
        scheme="https", verify=certs.ca_file, log_dir=work,
    )  # fmt: skip
    try:
        write_jsonl(work / "contacts.jsonl", generate_contacts(count, seed=5))
        SalesforceAdmin(server.url, certs.ca_file).load_file(str(work / "contacts.jsonl"))
        state = work / "state.db"
        migrate(make_engine(f"sqlite:///{state}"))
        os.environ["AIRFLOW_CONN_SALESFORCE_DEFAULT"] = json.dumps({
            "conn_type": "salesforce",
            "extra": {"instance_url": server.url, "consumer_key": "bench", "consumer_secret": "bench-secret",
                      "ca_file": certs.ca_file},
        })  # fmt: skip
        os.environ["AIRFLOW_CONN_CONTACT_SYNC_STATE"] = json.dumps(
            {"conn_type": "sqlite", "host": str(state)}
        )
        from operators.lookup_refresh import LookupRefreshJob

        settings = load_settings(
            {"CONTACT_SYNC_MIRROR_TO_RESPOND_IO": "false", "CONTACT_SYNC_LOCAL_CONFIG": "-"}
        )
        started = time.perf_counter()
        summary = LookupRefreshJob(settings, run_end=datetime.now(UTC), mode="full").run()
        seconds = time.perf_counter() - started
        print(
            f"full initial load from the Salesforce stand-in (SQLite state DB): {summary['upserted']:,} contacts in "
            f"{seconds:.1f}s ({summary['upserted'] / seconds:,.0f} contacts/s, read path "
            f"{'Bulk API 2.0' if count > 50_000 else 'REST'})",
            flush=True,
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
