"""
### contact_sync_smoke

Checks that a contact-sync install is wired up: brings the sync's state DB to the newest schema and tests the
Salesforce, respond.io and state DB connections, failing with a plain-words message when one is not usable.
Trigger it by hand after changing connections.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, task


@dag(
    dag_id="contact_sync_smoke",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["contact-sync", "smoke"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    doc_md=__doc__,
)
def contact_sync_smoke() -> None:
    @task
    def migrate_state_db() -> str:
        from hooks.state_db import StateDbHook

        return StateDbHook().migrate()

    @task
    def check_connections(revision: str) -> dict[str, str]:
        from airflow.sdk.exceptions import AirflowFailException

        from contact_sync_ops.connections import check_all

        results = check_all()
        failed = {name: message for name, (ok, message) in results.items() if not ok}
        if failed:
            raise AirflowFailException("; ".join(f"{name}: {message}" for name, message in failed.items()))
        return {name: message for name, (_ok, message) in results.items()} | {"state_db_revision": revision}

    check_connections(migrate_state_db())


contact_sync_smoke()
