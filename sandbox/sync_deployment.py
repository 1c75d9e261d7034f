"""
The whole sync on one machine, as it runs in production: both stand-ins, PostgreSQL databases for Airflow's metadata
and for the sync's state, and an :class:`~sandbox.airflow_cluster.AirflowCluster` (LocalExecutor or CeleryExecutor)
wired to them by ``AIRFLOW_CONN_*`` connections. Used by the scale-out tests and ``bench/bench_scaleout.py``.

    deployment = start_sync_deployment(work, SyncSetup(executor="CeleryExecutor", workers=2), admin_url=pg)
    try:
        deployment.cluster.unpause("salesforce_contacts_sync")
        ...
    finally:
        deployment.stop()

The sync DAG runs daily in this set-up and starts ``len(windows)`` days ago, so the scheduler creates exactly one
run per window (the windows are the days before today); each window gets ``contacts_per_window`` generated contacts
(deterministic: the same seed gives the same data in every deployment).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sandbox.airflow_cluster import AirflowCluster, Executor
from sandbox.certs import ensure_certificates
from sandbox.demo_data import generate_contacts
from sandbox.pg import create_database, drop_database
from sandbox.process import RunningServer, start_server
from sandbox.respond_io.admin_client import RespondIoAdmin
from sandbox.salesforce.client import SalesforceAdmin

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.engine import Engine

CLIENT_ID, CLIENT_SECRET = "scaleout-client", "scaleout-secret"  # noqa: S105 - throw-away stand-in credentials
TOKEN = "scaleout-token"  # noqa: S105 - throw-away stand-in token
SYNC_DAG = "salesforce_contacts_sync"


@dataclass(frozen=True)
class SyncSetup:
    """What to deploy.

    :param executor: ``CeleryExecutor`` or ``LocalExecutor``.
    :param workers: Celery workers (ignored for LocalExecutor).
    :param worker_concurrency: task slots per Celery worker.
    :param windows: daily windows (runs) to fill with contacts, ending today at 00:00 UTC.
    :param contacts_per_window: generated Salesforce contacts per window.
    :param rate: respond.io stand-in limit per endpoint (L), requests/s.
    :param chunk_size: contacts per mapped ``sync_chunk`` task.
    :param lease_seconds: the sync's lease on claimed contacts.
    :param heartbeat_timeout: Airflow's task heartbeat timeout (lowered for fault tests); default when None.
    :param redis_db: Redis database of the Celery broker and the shared respond.io limiter.
    :param shared_limiter: use the Redis limiter (organisation-wide limit across processes).
    :param create_delay: the respond.io stand-in's window before a new contact is readable, s.
    :param post_create_delay: the hook's wait after a create (connection extra), s.
    :param seed: data seed.
    """

    executor: Executor = "CeleryExecutor"
    workers: int = 2
    worker_concurrency: int = 2
    windows: int = 1
    contacts_per_window: int = 100
    rate: float = 20
    chunk_size: int = 30
    lease_seconds: int = 120
    heartbeat_timeout: int | None = None
    redis_db: int = 6
    shared_limiter: bool = True
    create_delay: float = 0.2
    post_create_delay: float = 0.3
    seed: int = 100


@dataclass
class SyncDeployment:
    setup: SyncSetup
    cluster: AirflowCluster
    salesforce: SalesforceAdmin
    respond_io: RespondIoAdmin
    state_url: str
    windows: list[tuple[datetime, datetime]]
    sf_ids: list[list[str]]
    admin_url: str
    servers: list[RunningServer] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)

    @property
    def engine(self) -> Engine:
        from contact_sync.state import make_engine

        return make_engine(self.state_url)

    def state_rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """Rows of a SQL query on the sync's state DB."""
        from sqlalchemy import text

        engine = self.engine
        try:
            with engine.connect() as connection:
                return [tuple(r) for r in connection.execute(text(sql), params)]
        finally:
            engine.dispose()

    def stop(self) -> None:
        """Stop the cluster and the stand-ins, drop the databases. Idempotent."""
        self.cluster.stop()
        for server in reversed(self.servers):
            server.stop()
        for url in self.databases:
            with contextlib.suppress(Exception):
                drop_database(self.admin_url, url)
        self.databases.clear()


def daily_windows(count: int) -> list[tuple[datetime, datetime]]:
    """The ``count`` whole UTC days before today, oldest first."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return [(today - timedelta(days=count - i), today - timedelta(days=count - i - 1)) for i in range(count)]


def connections_env(
    setup: SyncSetup, salesforce_url: str, ca_file: str, respond_io_url: str, state_url: str
) -> dict[str, str]:
    """The connections of the deployment as ``AIRFLOW_CONN_*`` values (the stand-ins, Redis, the state DB)."""
    from sandbox import connections

    respond_io_extra: dict[str, Any] = {
        "rate_limit_per_second": setup.rate, "trust_env": False, "post_create_delay": setup.post_create_delay,
        "retry_initial_wait": 0.2,
    }  # fmt: skip
    if setup.shared_limiter:
        respond_io_extra["rate_limiter_conn_id"] = "contact_sync_redis"
    return {
        "AIRFLOW_CONN_SALESFORCE_DEFAULT": connections.salesforce_connection(
            salesforce_url, CLIENT_ID, CLIENT_SECRET, ca_file, version="62.0"
        ),
        "AIRFLOW_CONN_RESPOND_IO_DEFAULT": connections.respond_io_connection(
            respond_io_url + "/v2", TOKEN, **respond_io_extra
        ),
        "AIRFLOW_CONN_CONTACT_SYNC_REDIS": connections.redis_connection(db=setup.redis_db),
        "AIRFLOW_CONN_CONTACT_SYNC_STATE": connections.state_connection(url=state_url),
    }


def start_standins(
    work: Path,
    ca_file: str,
    *,
    rate: float,
    create_delay: float,
    client_id: str = CLIENT_ID,
    client_secret: str = CLIENT_SECRET,
    token: str = TOKEN,
) -> tuple[RunningServer, RunningServer]:
    """Both stand-ins as processes, logging into ``work``: Salesforce (TLS with the CA of ``work/certs``, a
    practically unlimited daily API budget) and respond.io (``rate`` req/s per endpoint). Stops the first if the
    second fails."""
    salesforce = start_server(
        "sandbox.salesforce",
        ["--data-dir", str(work / "salesforce"), "--cert-dir", str(work / "certs"), "--client-id", client_id,
         "--client-secret", client_secret, "--daily-api-limit", "100000000", "--log-level", "warning"],
        scheme="https", verify=ca_file, log_dir=work,
    )  # fmt: skip
    try:
        respond_io = start_server(
            "sandbox.respond_io",
            ["--token", token, "--rate-limit", str(rate), "--create-delay", str(create_delay), "--log-level",
             "warning"],
            log_dir=work,
        )  # fmt: skip
    except BaseException:
        salesforce.stop()
        raise
    return salesforce, respond_io


def start_sync_deployment(work: Path, setup: SyncSetup, *, admin_url: str) -> SyncDeployment:
    """Start everything (see the module docstring); on any failure, stop what was started and re-raise.

    :param work: a folder for logs, certificates, stand-in data and AIRFLOW_HOME.
    :param setup: what to deploy.
    :param admin_url: a PostgreSQL URL allowed to create and drop databases.
    """
    from contact_sync.state import make_engine, migrate

    work.mkdir(parents=True, exist_ok=True)
    windows = daily_windows(setup.windows)
    certs = ensure_certificates(work / "certs")
    servers: list[RunningServer] = []
    databases: list[str] = []
    try:
        salesforce, respond_io = start_standins(
            work, certs.ca_file, rate=setup.rate, create_delay=setup.create_delay
        )
        servers += [salesforce, respond_io]
        sf_admin = SalesforceAdmin(salesforce.url, certs.ca_file)
        sf_ids = []
        for index, (start, end) in enumerate(windows):
            # Away from the window edges: each run also re-reads a short overlap before its window.
            records = generate_contacts(
                setup.contacts_per_window, seed=setup.seed + index, start=start + timedelta(minutes=10),
                end=end - timedelta(minutes=10),
            )  # fmt: skip
            # The generator numbers Ids from the same base for every seed: let the stand-in assign them.
            sf_ids.append(
                sf_admin.load_contacts([{k: v for k, v in r.items() if k != "Id"} for r in records])
            )

        metadata_url = create_database(admin_url, "cs_deploy_meta")
        databases.append(metadata_url)
        state_url = create_database(admin_url, "cs_deploy_state")
        databases.append(state_url)
        engine = make_engine(state_url)
        migrate(engine)
        engine.dispose()

        env = connections_env(setup, salesforce.url, certs.ca_file, respond_io.url, state_url)
        env.update({
            "CONTACT_SYNC_SCHEDULE": "0 0 * * *",
            "CONTACT_SYNC_START_DATE": windows[0][0].isoformat(),
            "CONTACT_SYNC_CHUNK_SIZE": str(setup.chunk_size),
            "CONTACT_SYNC_TASK_RETRY_DELAY_SECONDS": "1",
            "CONTACT_SYNC_LEASE_SECONDS": str(setup.lease_seconds),
            "CONTACT_SYNC_LOCAL_CONFIG": str(work / "no-local-settings.yaml"),
        })  # fmt: skip
        cluster = AirflowCluster(
            work / "airflow", executor=setup.executor, metadata_url=metadata_url, env=env, workers=setup.workers,
            worker_concurrency=setup.worker_concurrency, broker_url=f"redis://127.0.0.1:6379/{setup.redis_db}",
            heartbeat_timeout=setup.heartbeat_timeout,
        )  # fmt: skip
        cluster.start()
    except BaseException:
        for server in reversed(servers):
            server.stop()
        for url in databases:
            with contextlib.suppress(Exception):
                drop_database(admin_url, url)
        raise
    return SyncDeployment(
        setup, cluster, sf_admin, RespondIoAdmin(respond_io.url + "/__admin"), state_url, windows, sf_ids,
        admin_url, servers, databases,
    )  # fmt: skip
