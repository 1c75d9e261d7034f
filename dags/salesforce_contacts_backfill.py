"""
### salesforce_contacts_backfill

For long outages and the first historical load: one manual run syncs every Salesforce Contact created in
`[from, to)`, window by window (`window_hours` each), with the same steps, outcomes and guarantees as
`salesforce_contacts_sync` (re-running a range never duplicates anything).

It first prints a **dry-run estimate** (contacts in the range by `SELECT COUNT()`, the Salesforce and respond.io
calls that will cost, and the time at the configured respond.io rate). With `estimate_only` on, it stops there.

For a few missed intervals of the regular DAG, Airflow's own backfill is simpler (see the README, "Backfill").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Param, dag, task
from operators.retry_policies import SYNC_RETRY_POLICY

from contact_sync.settings import load_settings

SETTINGS = load_settings()
RESPOND_IO_CALLS_PER_CONTACT = 4  # lookup by email, by phone (when no email match), create, tag


def _parse(name: str, value: str) -> datetime:
    from airflow.sdk.exceptions import AirflowFailException

    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise AirflowFailException(f"param '{name}' = {value!r} is not an ISO date or datetime") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _range(params: dict) -> tuple[datetime, datetime, timedelta]:
    from airflow.sdk.exceptions import AirflowFailException

    start, end = _parse("from", params["from"]), _parse("to", params["to"])
    if start >= end:
        raise AirflowFailException(
            f"param 'from' ({start.isoformat()}) must be before 'to' ({end.isoformat()})"
        )
    return start, end, timedelta(hours=float(params["window_hours"]))


@dag(
    dag_id="salesforce_contacts_backfill",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["contact-sync", "salesforce", "respond.io", "backfill"],
    default_args={
        "retry_policy": SYNC_RETRY_POLICY,
        "retries": 3,
        "retry_delay": timedelta(seconds=SETTINGS.task_retry_delay_seconds),
    },
    params={
        "from": Param(
            "2026-10-01T00:00:00Z", type="string", description="start of the range (inclusive, UTC)"
        ),
        "to": Param("2026-10-02T00:00:00Z", type="string", description="end of the range (exclusive, UTC)"),
        "window_hours": Param(24, type="number", minimum=1, description="hours per window"),
        "estimate_only": Param(False, type="boolean", description="print the estimate and stop"),
        "include_bulk_imports": Param(False, type="boolean"),
        "tag": Param(SETTINGS.tag, type="string"),
        "bulk_import_tag": Param(SETTINGS.bulk_import_tag, type="string"),
        "default_region": Param(SETTINGS.default_region, type="string"),
        "dry_run": Param(False, type="boolean", description="do everything but write to respond.io"),
    },
    doc_md=__doc__,
)
def salesforce_contacts_backfill() -> None:
    @task
    def estimate(**context) -> dict:
        import logging

        from hooks.salesforce import SalesforceContactsHook
        from hooks.salesforce_soql import window_where

        start, end, _ = _range(context["params"])
        hook = SalesforceContactsHook(
            SETTINGS.salesforce_conn_id, consumer="sync", state_db_conn_id=SETTINGS.state_db_conn_id
        )
        contacts = hook.count("Contact", window_where("CreatedDate", start, end))
        pages = -(-contacts // 2000)
        usage = hook.budget_usage()
        result = {
            "contacts": contacts,
            "salesforce_calls": pages + 4,
            "respond_io_calls_at_most": contacts * RESPOND_IO_CALLS_PER_CONTACT,
            "salesforce_budget_left": usage.remaining_for_consumer,
        }
        logging.getLogger(__name__).info(
            "estimate for [%s, %s): %s contacts; about %s Salesforce calls (budget left for 'sync': %s); "
            "at most %s respond.io calls (about %s s per endpoint at 5 req/s)",
            start.isoformat(), end.isoformat(), contacts, result["salesforce_calls"],
            usage.remaining_for_consumer, result["respond_io_calls_at_most"], contacts // 5,
        )  # fmt: skip
        return result

    @task.short_circuit
    def proceed(estimated: dict, **context) -> bool:
        return not context["params"]["estimate_only"]

    @task
    def sync_range(**context) -> list[dict]:
        """Windows in chronological order (key ownership goes to the earliest contact); a retry skips the
        windows an earlier attempt finished."""
        import logging

        from operators.contact_sync import ContactSyncJob, RunParams, format_summary

        from contact_sync.state import sync_store

        start, end, step = _range(context["params"])
        results, at = [], start
        while at < end:
            window_end = min(at + step, end)
            for workspace in SETTINGS.workspaces:
                job = ContactSyncJob(
                    SETTINGS,
                    dag_id=context["dag"].dag_id,
                    run_id=f"{context['run_id']}/{at.isoformat()}",
                    workspace=workspace,
                    window_start=at,
                    window_end=window_end,
                    params=RunParams.from_params(context["params"], SETTINGS),
                )
                if sync_store.run_status(job.engine, job.dag_id, job.run_id, workspace) == "success":
                    continue
                job.extract()
                for chunk in job.classify():
                    job.sync_chunk(chunk)
                summary = job.finalize()
                logging.getLogger(__name__).info(
                    "backfill window [%s, %s) %s: %s", at.isoformat(), window_end.isoformat(), workspace,
                    format_summary(summary),
                )  # fmt: skip
                results.append(
                    {"window": [at.isoformat(), window_end.isoformat()], "outcomes": summary["outcomes"]}
                )
            at = window_end
        return results

    proceed(estimate()) >> sync_range()


salesforce_contacts_backfill()
