"""deploy/create_state_db.py (run by airflow-init) against the real PostgreSQL server on 127.0.0.1.

It must create the state DB's role and database from the ``contact_sync_state`` connection, do nothing the
second time, apply a rotated password, leave other servers and SQLite alone, and leave a database the role can
migrate (``contact-sync state migrate``) as its owner.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import uuid
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.fixtures.state_db import PG_ADMIN_URL

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "create_state_db.py"

pytestmark = [pytest.mark.postgres, pytest.mark.integration]


@cache
def load_script() -> Any:
    """The script as a module (it is not part of an installed package)."""
    spec = importlib.util.spec_from_file_location("contact_sync_deploy_create_state_db", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def admin_query(sql: str, *params: Any) -> list[tuple[Any, ...]]:
    import psycopg2
    from sqlalchemy.engine import make_url

    url = make_url(PG_ADMIN_URL)
    connection = psycopg2.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password, dbname=url.database
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


@pytest.fixture
def names() -> Iterator[tuple[str, str]]:
    """A fresh role and database name; both are dropped afterwards."""
    suffix = uuid.uuid4().hex[:10]
    role, database = f"cs_deploy_role_{suffix}", f"cs_deploy_db_{suffix}"
    yield role, database
    admin_query(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    admin_query(f'DROP ROLE IF EXISTS "{role}"')


def state_url(role: str, database: str, password: str | None = "first-pw") -> Any:
    from sqlalchemy.engine import URL, make_url

    admin = make_url(PG_ADMIN_URL)
    return URL.create(
        "postgresql+psycopg2",
        username=role,
        password=password,
        host=admin.host,
        port=admin.port,
        database=database,
    )


def role_row(role: str) -> tuple[Any, ...] | None:
    rows = admin_query("SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = %s", role)
    return rows[0] if rows else None


def test_creates_the_role_and_its_database_then_finds_them_present(names):
    from sqlalchemy.engine import make_url

    script = load_script()
    role, database = names

    first = script.ensure_state_database(state_url(role, database), make_url(PG_ADMIN_URL))
    second = script.ensure_state_database(state_url(role, database), make_url(PG_ADMIN_URL))

    assert (first.action, first.created_role, first.created_database) == ("ready", True, True)
    assert (second.action, second.created_role, second.created_database) == ("ready", False, False)
    can_login, hashed = role_row(role)
    assert can_login is True
    assert hashed.startswith("SCRAM-SHA-256$")  # hashed by the client: the server never saw "first-pw"
    owner = admin_query("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", database)
    assert owner == [(role,)]
    assert "first-pw" not in first.message + second.message


def test_a_rotated_password_is_applied(names):
    from sqlalchemy.engine import make_url

    script = load_script()
    role, database = names
    script.ensure_state_database(state_url(role, database, "first-pw"), make_url(PG_ADMIN_URL))
    before = role_row(role)[1]

    script.ensure_state_database(state_url(role, database, "rotated-pw"), make_url(PG_ADMIN_URL))

    assert role_row(role)[1] != before


def test_another_server_or_sqlite_is_left_alone(names):
    from sqlalchemy.engine import make_url

    script = load_script()
    role, database = names
    elsewhere = state_url(role, database).set(host="db.elsewhere.example")

    other_server = script.ensure_state_database(elsewhere, make_url(PG_ADMIN_URL))
    sqlite = script.ensure_state_database(make_url("sqlite:////tmp/state.db"), make_url(PG_ADMIN_URL))

    assert other_server.action == sqlite.action == "skipped"
    assert "yourself" in other_server.message
    assert role_row(role) is None


def test_a_connection_without_login_or_database_is_refused_by_name(names):
    from sqlalchemy.engine import make_url

    script = load_script()
    role, _ = names

    with pytest.raises(script.StateDbSetupError, match="login and a schema"):
        script.ensure_state_database(state_url(role, None), make_url(PG_ADMIN_URL))


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


@pytest.mark.slow
def test_the_init_steps_create_a_database_the_role_can_migrate(names, tmp_path):
    """What airflow-init runs: the script, then ``contact-sync state migrate``, from the connection alone."""
    from sqlalchemy.engine import make_url

    role, database = names
    admin = make_url(PG_ADMIN_URL)
    connection = {
        "conn_type": "postgres",
        "host": admin.host,
        "port": admin.port or 5432,
        "login": role,
        "password": "init-pw",
        "schema": database,
    }
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "CONTACT_SYNC_"))},
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW_CONN_CONTACT_SYNC_STATE": json.dumps(connection),
        "CONTACT_SYNC_STATE_DB_ADMIN_URL": PG_ADMIN_URL,
    }

    created = run([sys.executable, str(SCRIPT), "--conn-id", "contact_sync_state"], env)
    migrated = run([str(Path(sys.executable).parent / "contact-sync"), "state", "migrate"], env)

    assert created.returncode == 0, created.stderr
    assert f"database {database} created" in created.stdout + created.stderr
    assert "init-pw" not in created.stdout + created.stderr
    assert migrated.returncode == 0, migrated.stderr
    # The migration ran as the role, in its own database: every table there is the role's.
    from sqlalchemy import create_engine, text

    engine = create_engine(make_url(PG_ADMIN_URL).set(database=database))
    try:
        with engine.connect() as db:
            owners = db.execute(text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"))
            assert [row[0] for row in owners] == [role]
            assert db.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    finally:
        engine.dispose()


def test_without_an_admin_url_the_script_says_what_is_missing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CONTACT_SYNC_STATE_DB_ADMIN_URL"}

    result = run([sys.executable, str(SCRIPT)], env)

    assert result.returncode == 2
    assert "CONTACT_SYNC_STATE_DB_ADMIN_URL is not set" in result.stderr
