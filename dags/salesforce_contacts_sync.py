"""
### salesforce_contacts_sync

Every run syncs the Salesforce Contacts **created** in its data interval `[start, end)` (plus a short overlap for
rows committed late) into respond.io, tagged `Auto-create: Salesforce`:

1. **extract**: read the window from Salesforce (REST pages, or Bulk API 2.0 for big windows) into the state DB,
   with contacts whose open failures changed in Salesforce since (an analyst's fix flows through);
2. **classify**: normalise emails and phones, detect bulk imports, skip what is already synced, assign key
   ownership (one respond.io contact per email/phone), validate the rows to write (Great Expectations), split into
   chunks;
3. **sync_chunk** (one mapped task per chunk): find the respond.io contact by email, then by phone, or create
   it; write the Salesforce Id custom field; tag it;
4. **finalize**: record failures for analysts, refresh lookup rows, write the run summary (counts by outcome and
   reason, Salesforce budget used) to the log and the `sync_runs` table.

Every contact read ends in one outcome: `created`, `updated_existing`, `already_synced`, `skipped_bulk_import`,
`held_duplicate`, `rejected` (with reasons) or `retry_pending`. Per-contact outcomes never fail the run; the run
fails only on systemic errors (auth, Salesforce budget, a service down), and a retry resumes without redoing
finished contacts. Re-running a window never duplicates anything. Edits and deletes of already-synced contacts
are **not** pushed to respond.io by this DAG (the lookup refresh keeps the inbox's Salesforce fields fresh).

Settings (schedule, start date, overlap, chunk size...) come from `include/contact_sync.yaml` and
`CONTACT_SYNC_*` environment variables; the params below change one run.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task
from notifiers.contact_sync import on_run_failure
from operators.retry_policies import SYNC_RETRY_POLICY

from contact_sync.settings import load_settings

SETTINGS = load_settings()


def _job(context: dict, workspace: str):  # noqa: ANN202 - imported lazily, inside tasks only
    from operators.contact_sync import ContactSyncJob, RunParams

    return ContactSyncJob(
        SETTINGS,
        dag_id=context["dag"].dag_id,
        run_id=context["run_id"],
        workspace=workspace,
        window_start=context["data_interval_start"],
        window_end=context["data_interval_end"],
        params=RunParams.from_params(context["params"], SETTINGS),
    )


def _fail_if_not_extracted(context: dict) -> None:
    """finalize runs whatever happened upstream (all_done); it must not turn a run whose extract or classify failed
    green with "nothing new": the run fails, naming the task to look at."""
    from airflow.sdk.exceptions import AirflowFailException

    failed = context["ti"].get_ti_count(
        dag_id=context["dag"].dag_id,
        task_ids=["extract", "classify"],
        run_ids=[context["run_id"]],
        states=["failed", "upstream_failed"],
    )
    if failed:
        raise AirflowFailException(
            "extract or classify failed, so this run synced nothing: see that task's log, fix the cause, then clear "
            "the failed task (the run resumes from there)"
        )


@dag(
    dag_id="salesforce_contacts_sync",
    schedule=CronDataIntervalTimetable(SETTINGS.schedule, timezone="UTC"),
    start_date=SETTINGS.start_date,
    catchup=True,
    max_active_runs=1,
    tags=["contact-sync", "salesforce", "respond.io"],
    default_args={
        "retry_policy": SYNC_RETRY_POLICY,
        "retries": 3,
        "retry_delay": timedelta(seconds=SETTINGS.task_retry_delay_seconds),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
    },
    params={
        "include_bulk_imports": Param(False, type="boolean", description="also sync bulk-imported contacts"),
        "tag": Param(SETTINGS.tag, type="string", description="respond.io tag for synced contacts"),
        "bulk_import_tag": Param(
            SETTINGS.bulk_import_tag, type="string", description="extra tag for bulk imports"
        ),
        "default_region": Param(SETTINGS.default_region, type="string", description="phone region fallback"),
        "dry_run": Param(False, type="boolean", description="do everything but write to respond.io"),
    },
    on_failure_callback=on_run_failure(SETTINGS.alert_conn_id) if SETTINGS.alert_conn_id else None,
    doc_md=__doc__,
)
def salesforce_contacts_sync() -> None:
    @task
    def extract(**context) -> list[dict]:
        return [_job(context, workspace).extract() for workspace in SETTINGS.workspaces]

    @task
    def classify(extracted: list[dict], **context) -> list[dict]:
        return [
            {"workspace": workspace, "chunk": chunk}
            for workspace in SETTINGS.workspaces
            for chunk in _job(context, workspace).classify()
        ]

    @task(max_active_tis_per_dagrun=4)
    def sync_chunk(item: dict, **context) -> dict:
        return _job(context, item["workspace"]).sync_chunk(item["chunk"])

    @task(trigger_rule="all_done")
    def finalize(**context) -> list[dict]:
        summaries = [_job(context, workspace).finalize() for workspace in SETTINGS.workspaces]
        _fail_if_not_extracted(context)
        if SETTINGS.alert_conn_id:
            from notifiers.contact_sync import alert_if_rejections_high

            for summary in summaries:
                alert_if_rejections_high(
                    {"counts": summary["outcomes"], "read": summary["read"]},
                    SETTINGS.rejection_alert_share,
                    SETTINGS.alert_conn_id,
                    context,
                )
        return summaries

    chunks = classify(extract())
    chunks >> sync_chunk.expand(item=chunks) >> finalize()


salesforce_contacts_sync()
