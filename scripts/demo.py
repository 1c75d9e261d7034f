"""The README's first command (after setup): the whole product on the local stand-ins, printing what it did.

Run through ``./dev demo``, which sets up the project and points AIRFLOW_HOME at a demo-only folder
(``var/demo/airflow``) so the demo never collides with your own runs or backfills.

It starts both stand-ins, loads messy demo contacts (a bulk import among them) into the Salesforce stand-in and
people who already write in the inbox into the respond.io stand-in, raises the respond.io stand-in's rate limit
(and says so), runs ``salesforce_contacts_sync`` with Airflow itself over the demo data's week, prints the run
summary, runs the same window again (which finds nothing new), and prints a health report.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo_env import PROJECT_DIR, StandinSettings, start_standins  # noqa: E402

DEMO_CONTACTS = 500
# The demo data spans the week [2026-10-25, 2026-11-01); a weekly schedule makes that one data interval.
DEMO_SCHEDULE = "0 0 * * 0"
DEMO_RUN_DATE = "2026-11-01T00:00:00+00:00"
DEMO_RATE_LIMIT = 100.0  # respond.io stand-in requests/s per endpoint for the demo (the real default is 5)


def run_airflow_dag(dag_id: str, *args: str) -> tuple[bool, str]:
    """``airflow dags test`` in the demo AIRFLOW_HOME; returns (ok, last lines of its output)."""
    command = [sys.executable, "-m", "airflow", "dags", "test", dag_id, *args]
    result = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy(), check=False)  # noqa: S603
    output = (result.stdout + result.stderr).strip().splitlines()
    failed = result.returncode != 0 or any(
        "state=failed" in line or "Marking run" in line and "failed" in line for line in output
    )
    return not failed, "\n".join(output[-15:])


def main() -> int:
    from sandbox.connections import respond_io_connection, state_connection
    from sandbox.demo_data import IMPORT_USER_ID, generate_contacts, generate_respond_io_existing
    from sandbox.respond_io.admin_client import RespondIoAdmin
    from sandbox.salesforce.client import SalesforceAdmin

    started = time.monotonic()
    settings = StandinSettings.from_airflow_settings(PROJECT_DIR / "airflow_settings.yaml")
    # The demo keeps its own state DB next to its own AIRFLOW_HOME (an env connection wins over the metastore).
    state_db = PROJECT_DIR / "var" / "demo" / "state.db"
    if state_db.exists():
        state_db.unlink()  # every demo starts from an empty state DB (the stand-ins start empty too)
    os.environ["AIRFLOW_CONN_CONTACT_SYNC_STATE"] = state_connection(path=str(state_db))
    # The hook's own limiter must allow what the stand-in allows (the connection says 5/s, the real default).
    os.environ["AIRFLOW_CONN_RESPOND_IO_DEFAULT"] = respond_io_connection(
        f"http://127.0.0.1:{settings.respond_io_port}/v2", settings.respond_io_token,
        rate_limit_per_second=DEMO_RATE_LIMIT, max_in_flight=32,
    )  # fmt: skip
    os.environ["CONTACT_SYNC_SCHEDULE"] = DEMO_SCHEDULE
    os.environ["CONTACT_SYNC_START_DATE"] = "2026-10-01T00:00:00+00:00"
    from contact_sync.state import make_engine, migrate

    engine = make_engine(f"sqlite:///{state_db}")
    migrate(engine)
    data_dir = PROJECT_DIR / "var" / "demo" / "standins"
    print(
        f"Starting the stand-ins (respond.io rate limit raised to {DEMO_RATE_LIMIT:.0f} req/s per endpoint "
        "for the demo; the real service's default is 5)"
    )
    salesforce, respond_io = start_standins(
        settings, data_dir=data_dir, respond_io_rate_limit=DEMO_RATE_LIMIT
    )
    try:
        sf_admin = SalesforceAdmin(salesforce.url, settings.ca_file)
        rio_admin = RespondIoAdmin(respond_io.url + "/__admin")
        sf_admin.reset()
        rio_admin.reset()

        contacts = list(generate_contacts(DEMO_CONTACTS, seed=42))
        sf_admin.load_contacts(contacts)
        existing = generate_respond_io_existing(contacts, share=0.05, seed=42)
        rio_admin.seed_contacts(existing)
        by_user = Counter(
            "import user" if c["CreatedById"] == IMPORT_USER_ID else "other users" for c in contacts
        )
        print(
            f"Loaded {len(contacts)} demo Salesforce contacts ({by_user['import user']} from a bulk import, "
            f"{by_user['other users']} created by users) and {len(existing)} people already in respond.io"
        )

        ok = True
        for attempt in ("first run", "second run of the same window"):
            print(
                f"Running salesforce_contacts_sync with Airflow ({attempt}, window 2026-10-25 .. 2026-11-01) ..."
            )
            ran, output = run_airflow_dag("salesforce_contacts_sync", DEMO_RUN_DATE)
            ok = ok and ran
            print(_run_summary(engine) if ran else f"  DAG run FAILED; last lines:\n{output}")

        print("\nHealth report")
        _report_salesforce(sf_admin)
        _report_respond_io(rio_admin)
        _report_connections()
        print(f"\nDone in {time.monotonic() - started:.0f}s. Stand-in logs: {data_dir}")
        return 0 if ok else 1
    finally:
        respond_io.stop()
        salesforce.stop()


def _run_summary(engine: object) -> str:
    from sqlalchemy import select

    from contact_sync.state.schema import sync_runs

    with engine.connect() as connection:  # type: ignore[attr-defined]
        row = connection.execute(select(sync_runs).order_by(sync_runs.c.id.desc()).limit(1)).one()
    summary = row.details or {}
    outcomes = {k: v for k, v in (summary.get("outcomes") or {}).items() if v}
    lines = [f"  {summary.get('read', 0)} contacts read, status {row.status}"]
    if not (outcomes.get("created") or outcomes.get("updated_existing")):
        lines.append("  nothing new: every contact in the window already has its outcome")
    lines += [f"    {name:<20} {count:>5}" for name, count in outcomes.items()]
    reasons = list((summary.get("reasons") or {}).items())[:8]
    if reasons:
        lines.append("  top reasons (rejected / held): " + ", ".join(f"{k} {v}" for k, v in reasons))
    return "\n".join(lines)


def _report_salesforce(admin: object) -> None:
    counters = admin.counters()  # type: ignore[attr-defined]
    print(
        f"  Salesforce stand-in: API usage {counters['api_usage']:,}/{counters['api_limit']:,} today; "
        f"calls by endpoint {dict(counters['calls'])}"
    )


def _report_respond_io(admin: object) -> None:
    contacts = admin.contacts()  # type: ignore[attr-defined]
    counters = admin.counters()  # type: ignore[attr-defined]
    tags = Counter(tag for contact in contacts for tag in contact.get("tags") or [])
    print(
        f"  respond.io stand-in: {len(contacts)} contacts, tags {dict(tags)}, "
        f"API calls {counters.get('total', counters)}"
    )


def _report_connections() -> None:
    os.environ.setdefault("_AIRFLOW_PROCESS_CONTEXT", "server")
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    sys.path.insert(0, str(PROJECT_DIR / "plugins"))
    from contact_sync_ops.connections import check_all

    for name, (ok, message) in check_all().items():
        print(f"  {'OK  ' if ok else 'FAIL'} {name}: {message}")
    print(f"  (checked at {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC)")


if __name__ == "__main__":
    sys.exit(main())
