"""docker-compose.yaml: valid for Debian's docker-compose 1.29.2, and shaped the way production needs it.

The file is checked twice: by ``docker-compose config`` itself (with the documented env file and dummy secrets,
in a clean environment) and by reading the YAML (services, executor, scaling, image, no secret literals). There
is no Docker engine here, so nothing is started. Without docker-compose the tests fail (never skip) and say how
to install it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yaml"
ENV_EXAMPLE = ROOT / "deploy" / "compose.env.example"

# Dummy values for every required variable: distinctive, so the rendered file shows where each one went.
DUMMY_SECRETS = {
    "POSTGRES_PASSWORD": "dummy-postgres-pw",
    "REDIS_PASSWORD": "dummy-redis-pw",
    "CONTACT_SYNC_STATE_DB_PASSWORD": "dummy-state-pw",
    "AIRFLOW_FERNET_KEY": "dummy-fernet-key",
    "AIRFLOW_JWT_SECRET": "dummy-jwt-secret",
    "AIRFLOW_API_SECRET_KEY": "dummy-api-secret-key",
    "AIRFLOW_ADMIN_PASSWORD": "dummy-admin-pw",
    "CONTACT_SYNC_START_DATE": "2026-12-01T00:00:00+00:00",
    "CONTACT_SYNC_INBOX_API_TOKEN": "dummy-inbox-token",
    "CONTACT_SYNC_INBOX_SESSION_SECRET": "dummy-inbox-session",
}
AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "flower",
}
REQUIRED_SERVICES = AIRFLOW_SERVICES | {"postgres", "redis", "contact-sync-inbox"}


def docker_compose() -> str:
    path = shutil.which("docker-compose")
    if path is None:
        pytest.fail(
            "docker-compose is not installed, so docker-compose.yaml cannot be validated. Install Debian's "
            "package: `apt-get install docker-compose` (./dev test installs it)."
        )
    return path


def run_compose(*args: str, env_file: Path, extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``docker-compose --env-file ENV_FILE ARGS`` in a clean environment (nothing leaks in from this process)."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(env_file.parent), **extra_env}
    return subprocess.run(  # noqa: S603
        [
            docker_compose(),
            "--file",
            str(COMPOSE_FILE),
            "--project-directory",
            str(ROOT),
            "--env-file",
            str(env_file),
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``docker-compose config`` of the file with the documented env file plus dummy secrets, as a mapping.

    One value with ``$`` and quotes (the inbox users) shows that the env file's single quotes keep it literal.
    """
    env_file = tmp_path_factory.mktemp("compose") / "compose.env"
    env_file.write_text(
        ENV_EXAMPLE.read_text(encoding="utf-8")
        + "\nCONTACT_SYNC_INBOX_USERS='alice:scrypt$16384$8$1$c2FsdA$a2V5'\n",
        encoding="utf-8",
    )
    result = run_compose("config", env_file=env_file, extra_env=DUMMY_SECRETS)
    assert result.returncode == 0, result.stderr
    # `config` writes compose syntax: a literal "$" comes out as "$$".
    return yaml.safe_load(result.stdout.replace("$$", "$"))


def raw_compose() -> dict[str, Any]:
    """The file as written (anchors and ``<<`` merges resolved, nothing interpolated)."""
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def required_variables() -> set[str]:
    """Variables the file requires (``${NAME:?message}``), comments left out."""
    lines = COMPOSE_FILE.read_text(encoding="utf-8").splitlines()
    code = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    return set(re.findall(r"\$\{([A-Z0-9_]+):\?", code))


def test_docker_compose_1_29_accepts_the_file_with_the_documented_env_file(tmp_path):
    env_file = tmp_path / "compose.env"
    shutil.copy(ENV_EXAMPLE, env_file)

    result = run_compose("config", "-q", env_file=env_file, extra_env=DUMMY_SECRETS)

    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_the_required_variables_are_the_documented_ones():
    documented = set(re.findall(r"^([A-Z0-9_]+)=", ENV_EXAMPLE.read_text(encoding="utf-8"), re.MULTILINE))

    assert required_variables() == set(DUMMY_SECRETS)
    assert required_variables() <= documented


@pytest.mark.parametrize("missing", sorted(DUMMY_SECRETS))
def test_a_missing_required_secret_stops_compose_and_is_named(tmp_path, missing):
    env_file = tmp_path / "compose.env"
    shutil.copy(ENV_EXAMPLE, env_file)  # its required values are empty on purpose
    values = {k: v for k, v in DUMMY_SECRETS.items() if k != missing}

    result = run_compose("config", "-q", env_file=env_file, extra_env=values)

    assert result.returncode != 0
    assert f"set {missing}" in result.stderr


def test_every_required_service_is_there(rendered):
    assert REQUIRED_SERVICES <= set(rendered["services"])
    assert rendered["services"]["flower"]["profiles"] == ["flower"]


def test_every_airflow_service_runs_the_celery_executor_against_postgres_and_redis(rendered):
    for name in AIRFLOW_SERVICES:
        env = rendered["services"][name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://:dummy-redis-pw@redis:6379/0", name
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith(
            "db+postgresql://airflow:dummy-postgres-pw@"
        ), name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://"), name
        # One fernet key, JWT secret and API secret key for all of them.
        assert env["AIRFLOW__CORE__FERNET_KEY"] == "dummy-fernet-key", name
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == "dummy-jwt-secret", name
        assert env["AIRFLOW__API__SECRET_KEY"] == "dummy-api-secret-key", name
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false", name


def test_the_worker_scales(rendered):
    worker = rendered["services"]["airflow-worker"]

    # `--scale airflow-worker=N` needs no fixed name and no host port; nothing pins one replica.
    assert "container_name" not in worker
    assert "ports" not in worker
    assert worker.get("deploy", {}).get("replicas") is None
    assert "scale" not in worker
    assert worker["command"] == "celery worker"


def test_every_service_of_ours_is_built_from_our_dockerfile(rendered):
    ours = {name: s for name, s in rendered["services"].items() if name not in {"postgres", "redis"}}

    assert set(ours) >= AIRFLOW_SERVICES | {"contact-sync-inbox"}
    for name, service in ours.items():
        assert service["build"] == {"context": str(ROOT), "dockerfile": "Dockerfile"}, name
        assert service["image"] == "contact-sync-airflow:latest", name


def test_init_migrates_both_databases_and_everything_waits_for_it(rendered):
    services = rendered["services"]
    script = services["airflow-init"]["command"][-1]

    assert script.index("airflow db migrate") < script.index("create_state_db.py")
    assert script.index("create_state_db.py") < script.index("contact-sync state migrate")
    assert "set -euo pipefail" in script
    for name in (AIRFLOW_SERVICES - {"airflow-init"}) | {"contact-sync-inbox"}:
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_the_inbox_runs_alone_without_airflow_keys(rendered):
    inbox = rendered["services"]["contact-sync-inbox"]
    env = inbox["environment"]

    assert inbox["command"][:3] == ["python", "-m", "contact_sync_inbox"]
    assert env["PYTHONPATH"] == "/opt/airflow/plugins"
    assert env["CONTACT_SYNC_INBOX_API_TOKEN"] == "dummy-inbox-token"
    assert env["CONTACT_SYNC_INBOX_USERS"] == "alice:scrypt$16384$8$1$c2FsdA$a2V5"
    leaked = {k for k in env if k.startswith("AIRFLOW__") and not k.startswith("AIRFLOW__SECRETS__")}
    assert leaked == set()
    assert "airflow-worker" not in inbox["depends_on"]


def test_the_connections_the_sync_builds_in_compose_are_usable(rendered):
    from airflow.sdk import Connection
    from hooks.respond_io_shared_limits import redis_url
    from hooks.state_db import url_from_connection

    env = rendered["services"]["airflow-worker"]["environment"]
    state = Connection.from_uri(env["AIRFLOW_CONN_CONTACT_SYNC_STATE"], conn_id="contact_sync_state")
    limiter = Connection.from_json(env["AIRFLOW_CONN_CONTACT_SYNC_REDIS"], conn_id="contact_sync_redis")
    respond_io = json.loads(env["AIRFLOW_CONN_RESPOND_IO_DEFAULT"])

    assert url_from_connection(
        state.conn_type, state.host, state.port, state.login, state.password, state.schema, state.extra_dejson
    ) == ("postgresql+psycopg2://contact_sync:dummy-state-pw@postgres:5432/contact_sync_state")
    # The limiter's Redis database is not the broker's.
    assert redis_url(limiter) == "redis://:dummy-redis-pw@redis:6379/1"
    # The documented respond.io connection names the limiter connection compose defines.
    assert respond_io["extra"]["rate_limiter_conn_id"] == "contact_sync_redis"
    # The inbox reads the same state DB.
    assert (
        rendered["services"]["contact-sync-inbox"]["environment"]["AIRFLOW_CONN_CONTACT_SYNC_STATE"]
        == (env["AIRFLOW_CONN_CONTACT_SYNC_STATE"])
    )


# --- no secret literals ---------------------------------------------------------------------------------------
_SECRET_KEY = re.compile(r"PASSWORD|SECRET|TOKEN|FERNET|_KEY$|USERS$|^AIRFLOW_CONN_")
_REFERENCE = re.compile(r"\$\{[A-Z0-9_]+(?::?[-?][^}]*)?\}")
# The password of a URL (a ${...} reference may hold spaces) and the secret-named fields of a JSON connection.
_URL_PASSWORD = re.compile(r"://[^:/@\s]*:(\$\{[^}]*\}|[^@\s]*)@")
_JSON_SECRET = re.compile(r'"[a-z_]*(?:password|secret|token|_key)[a-z_]*"\s*:\s*"([^"]*)"', re.IGNORECASE)


def secret_literals(environment: dict[str, Any]) -> list[str]:
    """Names of variables whose value holds a secret written literally instead of a ``${VARIABLE}``."""
    found = []
    for key, value in environment.items():
        text = "" if value is None else str(value)
        for password in [*_URL_PASSWORD.findall(text), *_JSON_SECRET.findall(text)]:
            if password and not _REFERENCE.fullmatch(password):
                found.append(key)
        if _SECRET_KEY.search(key) and "://" not in text and "{" not in text.replace("${", ""):
            if text and not _REFERENCE.fullmatch(text):
                found.append(key)
    return sorted(set(found))


def test_the_secret_check_finds_literals():
    assert secret_literals({
        "AIRFLOW__CORE__FERNET_KEY": "x3Vb0c1Qn0",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql://airflow:airflow@postgres/airflow",
        "AIRFLOW_CONN_X": '{"conn_type": "redis", "password": "hunter2"}',
        "AIRFLOW_CONN_Y": '{"conn_type": "salesforce", "extra": {"consumer_secret": "s3cr3t"}}',
        "AIRFLOW_CONN_Z": "postgresql://u:${PW:?set PW (URL-safe) in the env file}@db/x",
        "POSTGRES_PASSWORD": "${POSTGRES_PASSWORD:?set it}",
        "AIRFLOW__CELERY__BROKER_URL": "redis://:${REDIS_PASSWORD}@redis:6379/0",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
    }) == ["AIRFLOW_CONN_X", "AIRFLOW_CONN_Y", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]  # fmt: skip


def test_no_secret_is_written_in_the_compose_file():
    services = raw_compose()["services"]

    for name, service in services.items():
        assert secret_literals(service.get("environment") or {}) == [], name


def test_no_secret_is_written_in_the_env_example():
    example = ENV_EXAMPLE.read_text(encoding="utf-8")
    values = dict(re.findall(r"^([A-Z0-9_]+)=(.*)$", example, re.MULTILINE))

    for name in DUMMY_SECRETS.keys() - {"CONTACT_SYNC_START_DATE"}:
        assert values[name] == "", name
    for name in ("AIRFLOW_CONN_SALESFORCE_DEFAULT", "AIRFLOW_CONN_RESPOND_IO_DEFAULT"):
        connection = json.loads(values[name].strip("'"))
        assert connection.get("password", "") == "", name
        assert connection["extra"].get("consumer_secret", "") == "", name
