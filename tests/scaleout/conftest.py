"""A real CeleryExecutor deployment on 127.0.0.1 for the scale-out tests (one per test module).

PostgreSQL holds Airflow's metadata and, in a second database, the sync's state; Redis is Celery's broker and the
shared respond.io rate limiter; the api-server, scheduler, dag-processor and two ``airflow celery worker`` processes
are children of the test, stopped by PID at the end (``sandbox.sync_deployment``, ``sandbox.airflow_cluster``). The
respond.io stand-in limits every endpoint to ``RATE`` requests/s, so the two workers must share that limit.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from sandbox.sync_deployment import SyncDeployment, SyncSetup, start_sync_deployment
from tests.fixtures.state_db import PG_ADMIN_URL

if TYPE_CHECKING:
    from collections.abc import Iterator

RATE = 20  # respond.io stand-in limit per endpoint (L), req/s
SETUP = SyncSetup(
    executor="CeleryExecutor",
    workers=2,
    worker_concurrency=2,
    windows=2,  # run 1: both workers; run 2: one worker killed mid-chunk
    contacts_per_window=160,
    rate=RATE,
    chunk_size=30,
    lease_seconds=6,
    heartbeat_timeout=12,
    redis_db=int(os.environ.get("CONTACT_SYNC_TEST_REDIS_DB", "6")),
)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncDeployment]:
    deployment = start_sync_deployment(tmp_path_factory.mktemp("scaleout"), SETUP, admin_url=PG_ADMIN_URL)
    try:
        yield deployment
    finally:
        deployment.stop()
