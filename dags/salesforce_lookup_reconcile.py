"""
### salesforce_lookup_reconcile

Daily: compares the whole lookup table with Salesforce (Ids and `SystemModstamp`, in chunks) and repairs drift —
rows Salesforce no longer has are removed, missing or stale rows are re-read by Id — without taking the table
offline for readers. The same as triggering `salesforce_lookup_refresh` with `mode = reconcile`.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, CronDataIntervalTimetable, dag, task
from operators.retry_policies import SYNC_RETRY_POLICY

from contact_sync.settings import LOOKUP_ASSET_URI, load_settings

SETTINGS = load_settings()
LOOKUP_ASSET = Asset(name="contacts_lookup", uri=LOOKUP_ASSET_URI)


@dag(
    dag_id="salesforce_lookup_reconcile",
    schedule=CronDataIntervalTimetable("15 2 * * *", timezone="UTC"),
    start_date=SETTINGS.start_date,
    catchup=False,
    max_active_runs=1,
    tags=["contact-sync", "salesforce", "lookup"],
    default_args={"retry_policy": SYNC_RETRY_POLICY, "retries": 2, "retry_delay": timedelta(minutes=5)},
    doc_md=__doc__,
)
def salesforce_lookup_reconcile() -> None:
    @task(outlets=[LOOKUP_ASSET])
    def reconcile(**context) -> dict:
        from operators.lookup_refresh import LookupRefreshJob

        return LookupRefreshJob(SETTINGS, run_end=context["data_interval_end"], mode="reconcile").run()

    reconcile()


salesforce_lookup_reconcile()
