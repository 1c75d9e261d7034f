"""
### salesforce_writeback

Applies the Salesforce field edits made in the respond.io inbox (the sidebar's edit form and respond.io
`contact.updated` webhooks, both queued in the state DB's `writeback_queue` by the inbox service) every minute.
Edits of one field are coalesced (latest wins), checked again against the rules (`editable_fields`, describe),
compared with Salesforce's current value (a field changed since the editor saw it becomes `conflict`, unless
`writeback_conflict_policy` is `force`), and applied with composite updates of up to 200 records. Transient
Salesforce errors stay pending with backoff; permanent ones become `rejected` with Salesforce's code. The task
fails when more than `writeback_fail_threshold` edits end `failed`. See docs/writeback.md.

### salesforce_writeback_admin

Manual, for on-call: `action = requeue_failed` puts failed edits back to pending; `list_conflicts` lists the
edits held as conflicts (in the log and the task's return value).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronDataIntervalTimetable, Param, dag
from operators.retry_policies import SYNC_RETRY_POLICY
from operators.salesforce_writeback import SalesforceWriteBackOperator, WriteBackAdminOperator

from contact_sync.settings import load_settings

SETTINGS = load_settings()
DEFAULT_ARGS = {
    "retry_policy": SYNC_RETRY_POLICY,
    "retries": 2,
    "retry_delay": timedelta(seconds=SETTINGS.task_retry_delay_seconds),
}


@dag(
    dag_id="salesforce_writeback",
    schedule=CronDataIntervalTimetable("* * * * *", timezone="UTC"),
    start_date=SETTINGS.start_date,
    catchup=False,
    max_active_runs=1,
    tags=["contact-sync", "salesforce", "writeback"],
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
)
def salesforce_writeback() -> None:
    SalesforceWriteBackOperator(
        task_id="apply_edits",
        salesforce_conn_id=SETTINGS.salesforce_conn_id,
        state_db_conn_id=SETTINGS.state_db_conn_id,
        editable_fields=SETTINGS.editable_fields,
        conflict_policy=SETTINGS.writeback_conflict_policy,  # type: ignore[arg-type]
        batch_size=SETTINGS.writeback_batch_size,
        max_attempts=SETTINGS.writeback_max_attempts,
        retry_delay_seconds=SETTINGS.writeback_retry_delay_seconds,
        fail_threshold=SETTINGS.writeback_fail_threshold,
        alert_threshold=SETTINGS.writeback_alert_threshold,
        alert_conn_id=SETTINGS.alert_conn_id,
        mirror_field_prefix=SETTINGS.mirror_field_prefix,
    )


@dag(
    dag_id="salesforce_writeback_admin",
    schedule=None,
    start_date=SETTINGS.start_date,
    catchup=False,
    tags=["contact-sync", "salesforce", "writeback", "on-call"],
    default_args=DEFAULT_ARGS,
    params={"action": Param("list_conflicts", enum=["list_conflicts", "requeue_failed"])},
    doc_md=__doc__,
)
def salesforce_writeback_admin() -> None:
    WriteBackAdminOperator(
        task_id="queue_action",
        action="{{ params.action }}",
        state_db_conn_id=SETTINGS.state_db_conn_id,
    )


salesforce_writeback()
salesforce_writeback_admin()
