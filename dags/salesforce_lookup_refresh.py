"""
### salesforce_lookup_refresh

Keeps the lookup table the inbox reads (`contacts_lookup`) equal to Salesforce, every minute, from a stored
watermark ("every Salesforce change up to T is applied"): contacts changed since (by `SystemModstamp`, read with
`queryAll`) are upserted, deleted contacts and merged-away losers are removed, shared email/phone keys stay
answering with all candidates (marked ambiguous). After an outage one run catches up from the watermark
(catchup is off). The first run is a full load; the `mode` param also offers `full` and `reconcile` (compare the
whole table with Salesforce and repair drift, also run daily by `salesforce_lookup_reconcile`).

The display fields ("customise view", setting `display_fields`, checked against describe) are also written to
respond.io custom fields of synced contacts when they change (`mirror_to_respond_io`), so the real inbox shows them.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, CronDataIntervalTimetable, Param, dag, task
from operators.retry_policies import SYNC_RETRY_POLICY

from contact_sync.settings import LOOKUP_ASSET_URI, load_settings

SETTINGS = load_settings()
LOOKUP_ASSET = Asset(name="contacts_lookup", uri=LOOKUP_ASSET_URI)


@dag(
    dag_id="salesforce_lookup_refresh",
    schedule=CronDataIntervalTimetable(SETTINGS.refresh_schedule, timezone="UTC"),
    start_date=SETTINGS.start_date,
    catchup=False,
    max_active_runs=1,
    tags=["contact-sync", "salesforce", "lookup"],
    default_args={
        "retry_policy": SYNC_RETRY_POLICY,
        "retries": 2,
        "retry_delay": timedelta(seconds=SETTINGS.task_retry_delay_seconds),
    },
    params={"mode": Param("incremental", enum=["incremental", "full", "reconcile"])},
    doc_md=__doc__,
)
def salesforce_lookup_refresh() -> None:
    @task(outlets=[LOOKUP_ASSET])
    def refresh(**context) -> dict:
        from operators.lookup_refresh import LookupRefreshJob

        job = LookupRefreshJob(SETTINGS, run_end=context["data_interval_end"], mode=context["params"]["mode"])
        return job.run()

    refresh()


salesforce_lookup_refresh()
