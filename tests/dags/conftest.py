"""Run the real sync DAG (``dag.test()``) against the stand-ins, with its own state DB per test."""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest

from tests.fixtures.connections import respond_io_connection, salesforce_connection, state_connection

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@dataclass
class SyncHarness:
    dag: Any
    state_url: str
    salesforce: Any
    respond_io: Any
    tmp_path: Path

    @property
    def engine(self):  # noqa: ANN201
        from contact_sync.state import make_engine

        return make_engine(self.state_url)

    def run(self, window_start: datetime, **conf: Any) -> Any:
        """One DAG run for the hourly window starting at ``window_start``; returns the DagRun.

        A manual run (which is what dag.test makes) takes the last complete interval before its date, so the
        run is dated at the window's end.
        """
        # dag.test() in one process merges each run's conf into the DAG's params: always pass them all.
        conf = {"include_bulk_imports": False, "dry_run": False, "bulk_import_tag": "", **conf}
        return self.dag.test(logical_date=window_start + timedelta(hours=1), run_conf=conf)

    def summaries(self) -> list[dict]:
        from sqlalchemy import select

        from contact_sync.state.schema import sync_runs

        with self.engine.connect() as connection:
            rows = connection.execute(select(sync_runs).order_by(sync_runs.c.id)).all()
        return [dict(r.details or {}, status=r.status, run_id=r.run_id) for r in rows]


@pytest.fixture
def sync_dag(airflow_db, salesforce, respond_io, tmp_path) -> Iterator[SyncHarness]:
    """The ``salesforce_contacts_sync`` DAG with hourly windows, wired to the stand-ins and a fresh state DB."""
    from contact_sync.state import make_engine, migrate

    state_file = tmp_path / "state.db"
    migrate(make_engine(f"sqlite:///{state_file}"))
    env = {
        "AIRFLOW_CONN_SALESFORCE_DEFAULT": salesforce_connection(salesforce),
        "AIRFLOW_CONN_RESPOND_IO_DEFAULT": respond_io_connection(respond_io, post_create_delay=0.06),
        "AIRFLOW_CONN_CONTACT_SYNC_STATE": state_connection(path=str(state_file)),
        "CONTACT_SYNC_SCHEDULE": "0 * * * *",
        "CONTACT_SYNC_START_DATE": "2026-10-01T00:00:00Z",
        "CONTACT_SYNC_CHUNK_SIZE": "25",
        "CONTACT_SYNC_TASK_RETRY_DELAY_SECONDS": "0",
        "CONTACT_SYNC_LOCAL_CONFIG": str(tmp_path / "no-local.yaml"),
        "CONTACT_SYNC_FAULT_MARKER": str(tmp_path / "crash-marker"),
    }
    with mock.patch.dict("os.environ", env):
        sys.modules.pop("salesforce_contacts_sync", None)
        module = importlib.import_module("salesforce_contacts_sync")
        yield SyncHarness(
            module.salesforce_contacts_sync(), f"sqlite:///{state_file}", salesforce, respond_io, tmp_path
        )
        sys.modules.pop("salesforce_contacts_sync", None)


@pytest.fixture
def backfill_dag(sync_dag) -> Iterator[Any]:
    """The ``salesforce_contacts_backfill`` DAG on the same stand-ins and state DB as ``sync_dag``."""
    sys.modules.pop("salesforce_contacts_backfill", None)
    module = importlib.import_module("salesforce_contacts_backfill")
    yield module.salesforce_contacts_backfill()
    sys.modules.pop("salesforce_contacts_backfill", None)
