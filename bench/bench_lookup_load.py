"""Benchmark: loading the lookup table (contacts_lookup) — 1M rows first, then a 1 % change — on SQLite and PostgreSQL.

    ./dev bench bench_lookup_load [--rows 1000000] [--backends sqlite postgres]

The rows are prepared first (from the demo generator, keys normalised cheaply; not timed), then written through
the same code the refresh uses (``sync_store.upsert_lookup``: batched dialect-native upserts plus the ambiguity
marking of shared keys). Prints seconds and rows/s for the first load and for the 1 % change.
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
    args = parser.parse_args()

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


if __name__ == "__main__":
    main()
