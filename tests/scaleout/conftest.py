"""A real CeleryExecutor deployment on 127.0.0.1 for the scale-out tests (one per test module).

PostgreSQL holds Airflow's metadata and, in a second database, the sync's state; Redis is Celery's broker and the
shared respond.io rate limiter; the api-server, scheduler, dag-processor and two ``airflow celery worker`` processes
are children of the test, stopped by PID at the end (see ``sandbox.airflow_cluster``). Both stand-ins run as their
own processes; the respond.io one limits every endpoint to ``RATE`` requests/s, so the two workers must share it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from sandbox.airflow_cluster import AirflowCluster, create_database, drop_database
from sandbox.certs import ensure_certificates
from sandbox.demo_data import generate_contacts
from sandbox.process import start_server
from sandbox.respond_io.admin_client import RespondIoAdmin
from sandbox.salesforce.client import SalesforceAdmin
from tests.fixtures.state_db import PG_ADMIN_URL

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy.engine import Engine

CLIENT_ID, CLIENT_SECRET = "scaleout-client", "scaleout-secret"  # noqa: S105 - throw-away stand-in credentials
TOKEN = "scaleout-token"  # noqa: S105 - throw-away stand-in token
RATE = 20  # respond.io stand-in limit per endpoint (L), req/s
CONTACTS_PER_WINDOW = 160
CHUNK_SIZE = 30
LEASE_SECONDS = 6
HEARTBEAT_TIMEOUT = 12
REDIS_DB = int(os.environ.get("CONTACT_SYNC_TEST_REDIS_DB", "6"))
SYNC_DAG = "salesforce_contacts_sync"


@dataclass
class Deployment:
    cluster: AirflowCluster
    salesforce: SalesforceAdmin
    respond_io: RespondIoAdmin
    state_url: str
    windows: list[tuple[datetime, datetime]]
    sf_ids: list[list[str]]

    @property
    def engine(self) -> Engine:
        from contact_sync.state import make_engine

        return make_engine(self.state_url)


def _windows() -> list[tuple[datetime, datetime]]:
    """The two daily intervals before today: the sync DAG's first two scheduled runs."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return [(today - timedelta(days=2), today - timedelta(days=1)), (today - timedelta(days=1), today)]


def _connections(salesforce_url: str, ca_file: str, respond_io_url: str, state_url: str) -> dict[str, str]:
    return {
        "AIRFLOW_CONN_SALESFORCE_DEFAULT": json.dumps({
            "conn_type": "salesforce",
            "extra": {"instance_url": salesforce_url, "consumer_key": CLIENT_ID, "consumer_secret": CLIENT_SECRET,
                      "ca_file": ca_file, "version": "62.0"},
        }),
        "AIRFLOW_CONN_RESPOND_IO_DEFAULT": json.dumps({
            "conn_type": "http",
            "host": respond_io_url + "/v2",
            "password": TOKEN,
            "extra": {"rate_limit_per_second": RATE, "trust_env": False, "post_create_delay": 0.3,
                      "retry_initial_wait": 0.2, "rate_limiter_conn_id": "contact_sync_redis"},
        }),
        "AIRFLOW_CONN_CONTACT_SYNC_REDIS": json.dumps({
            "conn_type": "redis", "host": "127.0.0.1", "port": 6379, "extra": {"db": REDIS_DB},
        }),
        "AIRFLOW_CONN_CONTACT_SYNC_STATE": json.dumps({
            "conn_type": "generic", "extra": {"sqlalchemy_url": state_url},
        }),
    }  # fmt: skip


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    from contact_sync.state import make_engine, migrate

    work: Path = tmp_path_factory.mktemp("scaleout")
    windows = _windows()
    certs = ensure_certificates(work / "certs")
    servers = []
    databases: list[str] = []
    cluster = None
    try:
        salesforce = start_server(
            "sandbox.salesforce",
            ["--data-dir", str(work / "salesforce"), "--cert-dir", str(work / "certs"), "--client-id", CLIENT_ID,
             "--client-secret", CLIENT_SECRET, "--daily-api-limit", "100000000", "--log-level", "warning"],
            scheme="https", verify=certs.ca_file, log_dir=work,
        )  # fmt: skip
        servers.append(salesforce)
        respond_io = start_server(
            "sandbox.respond_io",
            ["--token", TOKEN, "--rate-limit", str(RATE), "--create-delay", "0.2", "--log-level", "warning"],
            log_dir=work,
        )  # fmt: skip
        servers.append(respond_io)
        sf_admin = SalesforceAdmin(salesforce.url, certs.ca_file)
        sf_ids = []
        for index, (start, end) in enumerate(windows):
            # Away from the window edges: the sync re-reads a short overlap before each window's start.
            records = generate_contacts(
                CONTACTS_PER_WINDOW, seed=100 + index, start=start + timedelta(minutes=10),
                end=end - timedelta(minutes=10),
            )  # fmt: skip
            sf_ids.append(sf_admin.load_contacts(list(records)))

        metadata_url = create_database(PG_ADMIN_URL, "cs_scaleout_meta")
        databases.append(metadata_url)
        state_url = create_database(PG_ADMIN_URL, "cs_scaleout_state")
        databases.append(state_url)
        engine = make_engine(state_url)
        migrate(engine)
        engine.dispose()

        env = _connections(salesforce.url, certs.ca_file, respond_io.url, state_url)
        env.update({
            "CONTACT_SYNC_SCHEDULE": "0 0 * * *",
            "CONTACT_SYNC_START_DATE": windows[0][0].isoformat(),
            "CONTACT_SYNC_CHUNK_SIZE": str(CHUNK_SIZE),
            "CONTACT_SYNC_TASK_RETRY_DELAY_SECONDS": "1",
            "CONTACT_SYNC_LEASE_SECONDS": str(LEASE_SECONDS),
            "CONTACT_SYNC_LOCAL_CONFIG": str(work / "no-local-settings.yaml"),
        })  # fmt: skip
        cluster = AirflowCluster(
            work / "airflow", executor="CeleryExecutor", metadata_url=metadata_url, env=env, workers=2,
            worker_concurrency=2, broker_url=f"redis://127.0.0.1:6379/{REDIS_DB}", heartbeat_timeout=HEARTBEAT_TIMEOUT,
        )  # fmt: skip
        cluster.start()
        yield Deployment(
            cluster, sf_admin, RespondIoAdmin(respond_io.url + "/__admin"), state_url, windows, sf_ids
        )
    finally:
        if cluster is not None:
            cluster.stop()
        for server in reversed(servers):
            server.stop()
        for url in databases:
            drop_database(PG_ADMIN_URL, url)


def state_rows(engine: Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    from sqlalchemy import text

    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql), params)]
