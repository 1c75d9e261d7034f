"""Benchmark of the Salesforce stand-in: bulk load, REST paging and Bulk 2.0 reads.

    .venv/bin/python bench/bench_salesforce_standin.py [--contacts 1000000] [--load-check 100000]

Prints figures; asserts nothing about time. Uses 2 processes (server + this client) — run it alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

from sandbox.certs import ensure_certificates
from sandbox.process import start_server
from sandbox.salesforce.client import SalesforceAdmin, authenticated_session, simple_salesforce_client

CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"


def write_jsonl(path: Path, count: int) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with path.open("w") as handle:
        for i in range(count):
            created = (start + dt.timedelta(seconds=i // 50)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
            handle.write(
                json.dumps(
                    {
                        "FirstName": f"First{i}",
                        "LastName": f"Last{i}",
                        "Email": f"user{i}@example.com",
                        "Phone": f"+6012{i:07d}",
                        "MailingCountry": "Malaysia",
                        "LeadSource": "Web",
                        "CreatedDate": created,
                        "SystemModstamp": created,
                        "LastModifiedDate": created,
                    }
                )
                + "\n"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--load-check", type=int, default=100_000, help="size of the timed JSON-body load")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sf-bench-"))
    certs = ensure_certificates(folder / "certs")
    server_args = [
        "--data-dir",
        str(folder / "data"),
        "--cert-dir",
        str(folder / "certs"),
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        CLIENT_SECRET,
        "--daily-api-limit",
        "100000000",
        "--log-level",
        "WARNING",
    ]
    with start_server(
        "sandbox.salesforce", server_args, scheme="https", verify=certs.ca_file, log_dir=folder
    ) as srv:
        admin = SalesforceAdmin(srv.url, certs.ca_file)
        records = [
            {"LastName": f"L{i}", "Email": f"u{i}@x.com", "CreatedDate": "2026-01-01T00:00:00.000+0000"}
            for i in range(args.load_check)
        ]
        started = time.perf_counter()
        admin.load_contacts(records)
        print(
            f"admin load of {args.load_check:,} contacts (JSON body): {time.perf_counter() - started:.2f} s"
        )
        admin.reset()

        path = folder / "contacts.jsonl"
        started = time.perf_counter()
        write_jsonl(path, args.contacts)
        print(f"wrote {args.contacts:,} contacts to JSONL: {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        admin.load_file(str(path))
        print(
            f"admin load of {args.contacts:,} contacts (JSONL on server disk): {time.perf_counter() - started:.1f} s"
        )

        query = (
            "SELECT Id, FirstName, LastName, Email, Phone, MobilePhone, MailingCountry, LeadSource, CreatedDate, "
            "CreatedById, SystemModstamp FROM Contact WHERE CreatedDate >= 2026-01-01T00:00:00Z "
            "ORDER BY CreatedDate, Id"
        )
        http = authenticated_session(srv.url, certs.ca_file, CLIENT_ID, CLIENT_SECRET)
        started = time.perf_counter()
        response = http.get(srv.url + "/services/data/v62.0/query", params={"q": query}).json()
        first_page = time.perf_counter() - started
        count = len(response["records"])
        while not response["done"]:
            response = http.get(srv.url + response["nextRecordsUrl"]).json()
            count += len(response["records"])
        elapsed = time.perf_counter() - started
        print(
            f"REST paging (requests): {count:,} records in {elapsed:.1f} s = {count / elapsed:,.0f} records/s "
            f"(first page incl. query {first_page:.2f} s)"
        )

        sf = simple_salesforce_client(srv.url, certs.ca_file, CLIENT_ID, CLIENT_SECRET)
        started = time.perf_counter()
        count = sum(1 for _ in sf.query_all_iter(query))
        elapsed = time.perf_counter() - started
        print(
            f"REST paging (simple-salesforce query_all_iter): {count:,} records in {elapsed:.1f} s = "
            f"{count / elapsed:,.0f} records/s"
        )

        started = time.perf_counter()
        rows = 0
        for page in sf.bulk2.Contact.query(
            query.replace(" ORDER BY CreatedDate, Id", ""), max_records=100_000, wait=0.1
        ):
            rows += page.count("\n") - 1
        elapsed = time.perf_counter() - started
        print(
            f"Bulk 2.0 query (simple-salesforce): {rows:,} records in {elapsed:.1f} s = {rows / elapsed:,.0f} records/s"
        )
        print("counters:", admin.counters())


if __name__ == "__main__":
    main()
