"""
A real Airflow deployment on one machine, started and stopped by PID: the scale-out tests and benchmarks use it.

    cluster = AirflowCluster(home, executor="CeleryExecutor", metadata_url=pg_url, env=connections, workers=2)
    cluster.start()            # db migrate, api-server, scheduler, dag-processor, N `airflow celery worker`s
    cluster.unpause("salesforce_contacts_sync")
    run = cluster.wait_for_run("salesforce_contacts_sync", timeout=300)
    cluster.kill_worker("w1")  # SIGKILL the worker's whole process group
    cluster.stop()             # SIGTERM every process group it started, SIGKILL what is left

Every component is an ordinary ``python -m airflow ...`` child in its own session (process group), so a stop or a
kill reaches the task processes too; nothing is daemonised and nothing outlives :meth:`AirflowCluster.stop`. Airflow's
metadata DB is a PostgreSQL database of the caller's; Celery's broker is Redis (a dedicated queue name per cluster, so
two clusters on one Redis never take each other's tasks); the result backend is the metadata DB. Each Celery worker
reports its own name as the task instances' ``hostname`` (``[core] hostname_callable`` = :func:`worker_hostname`), so a
test can tell which worker ran what.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from sandbox.process import free_port

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
Executor = Literal["LocalExecutor", "CeleryExecutor"]
#: Environment variable naming the worker, read by :func:`worker_hostname` in the task processes.
WORKER_NAME_ENV = "CONTACT_SYNC_WORKER_NAME"
FINAL_RUN_STATES = frozenset({"success", "failed"})


def worker_hostname() -> str:
    """``[core] hostname_callable`` of the cluster's processes: the worker's name, else the machine's name."""
    import socket

    return os.environ.get(WORKER_NAME_ENV) or socket.getfqdn()


class ClusterError(RuntimeError):
    """A component did not start or a run did not end as expected; the message carries the logs' tails."""


@dataclass
class Component:
    """One running Airflow process (and its process group)."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


class AirflowCluster:
    """
    Airflow's api-server, scheduler and dag-processor, plus Celery workers, as child processes.

    :param home: AIRFLOW_HOME (logs, generated config); created if missing.
    :param executor: ``CeleryExecutor`` (workers are started) or ``LocalExecutor`` (the scheduler runs tasks).
    :param metadata_url: SQLAlchemy URL of Airflow's metadata database (PostgreSQL; an empty database is fine).
    :param env: extra environment of every component: connections (``AIRFLOW_CONN_*``), ``CONTACT_SYNC_*`` settings.
    :param workers: how many ``airflow celery worker`` processes (CeleryExecutor only).
    :param worker_concurrency: task slots per worker.
    :param broker_url: Celery broker (Redis).
    :param parallelism: ``[core] parallelism`` (task slots of the whole deployment).
    :param heartbeat_timeout: ``[scheduler] task_instance_heartbeat_timeout`` in seconds (lowered by fault tests so a
        killed worker's tasks are noticed within seconds); Airflow's default when ``None``.
    """

    def __init__(
        self,
        home: Path,
        *,
        executor: Executor,
        metadata_url: str,
        env: dict[str, str] | None = None,
        workers: int = 2,
        worker_concurrency: int = 2,
        broker_url: str = "redis://127.0.0.1:6379/0",
        parallelism: int = 8,
        heartbeat_timeout: int | None = None,
    ) -> None:
        self.home = Path(home)
        self.executor = executor
        self.metadata_url = metadata_url
        self.workers = workers if executor == "CeleryExecutor" else 0
        self.worker_concurrency = worker_concurrency
        self.broker_url = broker_url
        self.queue = f"contact-sync-{uuid.uuid4().hex[:8]}"
        self.api_port = free_port()
        self.components: dict[str, Component] = {}
        self.env = self._environment(env or {}, parallelism, heartbeat_timeout)

    # -- configuration --------------------------------------------------------------------------------------

    def _environment(
        self, extra: dict[str, str], parallelism: int, heartbeat_timeout: int | None
    ) -> dict[str, str]:
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW_", "AIRFLOW__", "CONTACT_SYNC_"))
        }
        api = f"http://127.0.0.1:{self.api_port}"
        config = {
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__EXECUTOR": self.executor,
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__PARALLELISM": str(parallelism),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "sandbox.airflow_cluster.worker_hostname",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
            "AIRFLOW__CORE__FERNET_KEY": _fernet_key(),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API__BASE_URL": api,
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.metadata_url,
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
            "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.worker_concurrency),
            "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "21600",
            "PYTHONUNBUFFERED": "1",
        }
        if heartbeat_timeout is not None:
            config["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT"] = str(heartbeat_timeout)
            config["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL"] = "2"
            config["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_SEC"] = "2"
        return {**base, **config, **extra}

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    # -- processes ------------------------------------------------------------------------------------------

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Component:
        log_path = self.home / "processes" / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = log_path.open("ab")
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and airflow
            [sys.executable, "-m", "airflow", *args],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**self.env, **(env or {})},
            cwd=ROOT,
            start_new_session=True,
        )
        component = Component(name, process, log_path, log_file)
        self.components[name] = component
        log.info("started %s (pid %s, log %s)", name, process.pid, log_path)
        return component

    def cli(self, *args: str, timeout: float = 180) -> str:
        """Run ``airflow ARGS`` with the cluster's configuration; return its output (raises on failure)."""
        result = subprocess.run(  # noqa: S603 - our own interpreter and airflow
            [sys.executable, "-m", "airflow", *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=ROOT,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise ClusterError(f"airflow {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n"
                               f"{result.stderr[-3000:]}")  # fmt: skip
        return result.stdout

    def start(self, ready_timeout: float = 180) -> None:
        """Migrate the metadata DB, start every component and wait until they are up."""
        self.home.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        self.cli("db", "migrate", timeout=600)
        log.info("metadata DB migrated in %.1f s", time.monotonic() - began)
        try:
            self._spawn("api-server", ["api-server", "--host", "127.0.0.1", "--port", str(self.api_port)])
            self._spawn("scheduler", ["scheduler"])
            self._spawn("dag-processor", ["dag-processor"])
            for index in range(1, self.workers + 1):
                self.start_worker(f"w{index}")
            self._wait_ready(began + ready_timeout)
        except BaseException:
            self.stop()
            raise
        log.info(
            "%s cluster up in %.1f s (api-server %s)", self.executor, time.monotonic() - began, self.api_url
        )

    def start_worker(self, name: str) -> Component:
        """Start one ``airflow celery worker`` named ``name`` on this cluster's queue."""
        return self._spawn(
            name,
            ["celery", "worker", "--celery-hostname", f"{name}@%h", "--queues", self.queue,
             "--concurrency", str(self.worker_concurrency), "--skip-serve-logs", "--without-gossip",
             "--without-mingle"],
            env={WORKER_NAME_ENV: name},
        )  # fmt: skip

    def _wait_ready(self, deadline: float) -> None:
        import requests

        pending = {"api-server", "dags", *(f"w{i}" for i in range(1, self.workers + 1))}
        session = requests.Session()
        session.trust_env = False
        while pending:
            for component in self.components.values():
                if not component.alive():
                    raise ClusterError(f"{component.name} exited with {component.process.returncode}:\n"
                                       f"{component.log_tail()}")  # fmt: skip
            if "api-server" in pending:
                with contextlib.suppress(requests.RequestException):
                    if session.get(f"{self.api_url}/api/v2/monitor/health", timeout=2).status_code == 200:
                        pending.discard("api-server")
            if "dags" in pending and self._parsed_dags():
                pending.discard("dags")
            for name in [p for p in pending if p.startswith("w")]:
                if " ready." in self.components[name].log_tail(200):
                    pending.discard(name)
            if pending and time.monotonic() > deadline:
                tails = "\n\n".join(f"--- {c.name}\n{c.log_tail()}" for c in self.components.values())
                raise ClusterError(f"cluster not ready (waiting for {sorted(pending)}):\n{tails}")
            if pending:
                time.sleep(0.5)

    def _parsed_dags(self) -> bool:
        with contextlib.suppress(Exception):
            return bool(self.query("SELECT count(*) FROM dag WHERE NOT is_stale")[0][0])
        return False

    def kill_worker(self, name: str) -> list[int]:
        """SIGKILL worker ``name``'s whole process group (the worker, its pool and the task processes).

        Returns the PIDs killed (every process of the group, found before the kill).
        """
        import psutil

        component = self.components[name]
        group = [component.pid]
        with contextlib.suppress(psutil.Error):
            group += [p.pid for p in psutil.Process(component.pid).children(recursive=True)]
        component.signal_group(signal.SIGKILL)
        for pid in group:  # a child that left the group (setsid) dies too
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        component.process.wait(timeout=10)
        log.info("killed worker %s (pids %s)", name, group)
        return group

    def worker_of(self, pid: int) -> str | None:
        """The name of the worker whose process tree holds ``pid`` (None: not a worker's)."""
        import psutil

        for name, component in self.components.items():
            if not name.startswith("w") or not component.alive():
                continue
            with contextlib.suppress(psutil.Error):
                tree = {
                    component.pid,
                    *(p.pid for p in psutil.Process(component.pid).children(recursive=True)),
                }
                if pid in tree:
                    return name
        return None

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM every component's process group, wait, then SIGKILL what is left. Idempotent."""
        for component in reversed(list(self.components.values())):
            if component.alive():
                component.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for component in self.components.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                component.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            # The group may hold children (task processes, gunicorn/uvicorn workers) that outlive the leader.
            component.signal_group(signal.SIGKILL)
            if component.alive():
                component.process.wait(timeout=10)
            component.close_log()

    def __enter__(self) -> AirflowCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the metadata DB, read-only (runs and task instances) ------------------------------------------------

    def query(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """Rows of a read-only SQL query on the metadata DB (the test's view; tasks never touch it)."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.metadata_url)
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(sql), params)]
        finally:
            engine.dispose()

    def unpause(self, dag_id: str) -> None:
        self.cli("dags", "unpause", dag_id)

    def pause(self, dag_id: str) -> None:
        self.cli("dags", "pause", dag_id)

    def trigger(self, dag_id: str, conf: str | None = None) -> None:
        self.cli("dags", "trigger", dag_id, *(["--conf", conf] if conf else []))

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        """The DAG's runs, oldest data interval first."""
        rows = self.query(
            "SELECT run_id, state, data_interval_start, data_interval_end, start_date, end_date FROM dag_run "
            "WHERE dag_id = :dag_id ORDER BY data_interval_start, id",
            dag_id=dag_id,
        )
        keys = ("run_id", "state", "data_interval_start", "data_interval_end", "start_date", "end_date")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Task instances of one run (current tries) with the hostname that ran them."""
        return self._tries("task_instance", dag_id, run_id)

    def task_history(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Earlier tries of the run's task instances (Airflow's ``task_instance_history``)."""
        return self._tries("task_instance_history", dag_id, run_id)

    def _tries(
        self, table: Literal["task_instance", "task_instance_history"], dag_id: str, run_id: str
    ) -> list[dict[str, Any]]:
        keys = ("task_id", "map_index", "state", "try_number", "hostname", "start_date", "end_date")
        rows = self.query(
            f"SELECT {', '.join(keys)} FROM {table} WHERE dag_id = :dag_id AND run_id = :run_id "  # noqa: S608 - fixed names
            "ORDER BY task_id, map_index, try_number",
            dag_id=dag_id,
            run_id=run_id,
        )
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def wait_for_runs(self, dag_id: str, count: int, timeout: float = 600) -> list[dict[str, Any]]:
        """Wait until the DAG has ``count`` runs in a final state; return them (raises with logs on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            runs = self.runs(dag_id)
            done = [r for r in runs if r["state"] in FINAL_RUN_STATES]
            if len(done) >= count:
                return done
            for component in self.components.values():
                if not component.alive() and component.name in {"scheduler", "api-server", "dag-processor"}:
                    raise ClusterError(f"{component.name} died:\n{component.log_tail()}")
            if time.monotonic() > deadline:
                tails = "\n\n".join(f"--- {c.name}\n{c.log_tail(15)}" for c in self.components.values())
                raise ClusterError(f"{dag_id}: {len(done)} of {count} runs final after {timeout:.0f}s "
                                   f"(runs: {[(r['run_id'], r['state']) for r in runs]}):\n{tails}")  # fmt: skip
            time.sleep(1)

    def task_log(
        self, dag_id: str, run_id: str, task_id: str, map_index: int = -1, try_number: int = 1
    ) -> str:
        """The text of one task try's log file (empty when absent)."""
        folder = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        if map_index >= 0:
            folder = folder / f"map_index={map_index}"
        path = folder / f"attempt={try_number}.log"
        return path.read_text(errors="replace") if path.is_file() else ""


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()
