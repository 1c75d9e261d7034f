"""
### contact_sync_maintenance

Daily housekeeping of the sync's state DB under the retention settings in `include/contact_sync.yaml`
(`retention_*_days`): resolved matching failures, old run rows, per-run staging, and Great Expectations
validation reports (Data Docs). Open failures are never deleted.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronDataIntervalTimetable, dag, task

from contact_sync.settings import load_settings

SETTINGS = load_settings()


@dag(
    dag_id="contact_sync_maintenance",
    schedule=CronDataIntervalTimetable("30 3 * * *", timezone="UTC"),
    start_date=SETTINGS.start_date,
    catchup=False,
    max_active_runs=1,
    tags=["contact-sync", "maintenance"],
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    doc_md=__doc__,
)
def contact_sync_maintenance() -> None:
    @task
    def cleanup(**context) -> dict[str, int]:
        from hooks.state_db import StateDbHook
        from operators.contact_sync import reports_dir

        from contact_sync.state.retention import RetentionPolicy, cleanup

        policy = RetentionPolicy(
            failures_days=SETTINGS.retention_failures_days,
            runs_days=SETTINGS.retention_runs_days,
            staging_days=SETTINGS.retention_staging_days,
            validation_reports_days=SETTINGS.retention_validation_reports_days,
        )
        engine = StateDbHook(state_db_conn_id=SETTINGS.state_db_conn_id).engine
        return cleanup(engine, policy, context["data_interval_end"], reports_dir=reports_dir())

    cleanup()


contact_sync_maintenance()
