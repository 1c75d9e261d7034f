"""The state DB layer on SQLite and PostgreSQL: migrations, SQLite tuning, the Airflow connection glue."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from unittest import mock

import pytest
from sqlalchemy import insert, inspect, select, text

from contact_sync.state import current_revision, head_revision, make_engine, migrate
from contact_sync.state.schema import sync_runs


def test_migrations_reach_head_and_create_the_tables(state_engine):
    assert current_revision(state_engine) == head_revision()
    assert "sync_runs" in inspect(state_engine).get_table_names()


def test_migrate_is_idempotent(state_engine):
    assert migrate(state_engine) == head_revision()
    assert migrate(state_engine) == head_revision()


def test_sync_run_round_trip_keeps_json_and_timezone(state_engine):
    started = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    with state_engine.begin() as connection:
        connection.execute(
            insert(sync_runs).values(
                dag_id="d",
                run_id="r1",
                workspace="default",
                status="success",
                counts={"created": 3, "rejected": 1},
                started_at=started,
            )
        )
    with state_engine.connect() as connection:
        row = connection.execute(select(sync_runs)).one()
    assert row.counts == {"created": 3, "rejected": 1}
    assert row.started_at.replace(tzinfo=UTC) == started


def test_duplicate_run_rows_are_refused(state_engine):
    from sqlalchemy.exc import IntegrityError

    values = dict(
        dag_id="d",
        run_id="r1",
        workspace="w",
        status="running",
        counts={},
        started_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    with state_engine.begin() as connection:
        connection.execute(insert(sync_runs).values(**values))
    with pytest.raises(IntegrityError), state_engine.begin() as connection:
        connection.execute(insert(sync_runs).values(**values))


def test_sqlite_runs_in_wal_mode_with_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'state.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_sqlite_concurrent_writers_wait_instead_of_failing(tmp_path):
    url = f"sqlite:///{tmp_path / 'state.db'}"
    migrate(make_engine(url))
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        engine = make_engine(url)
        try:
            for i in range(40):
                with engine.begin() as connection:
                    connection.execute(
                        insert(sync_runs).values(
                            dag_id="d",
                            run_id=f"{worker}-{i}",
                            workspace="w",
                            status="success",
                            counts={},
                            started_at=datetime(2026, 11, 1, tzinfo=UTC),
                        )
                    )
        except BaseException as err:  # noqa: BLE001
            errors.append(err)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with make_engine(url).connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM sync_runs")).scalar() == 160


@pytest.mark.parametrize(
    ("conn", "expected"),
    [
        ({"conn_type": "sqlite", "host": "/data/state.db"}, "sqlite:////data/state.db"),
        (
            {
                "conn_type": "postgres",
                "host": "db",
                "port": 5433,
                "login": "u",
                "password": "p@ss",
                "schema": "cs",
            },
            "postgresql+psycopg2://u:p%40ss@db:5433/cs",
        ),
        (
            {
                "conn_type": "postgres",
                "host": "db",
                "extra": json.dumps({"sqlalchemy_url": "postgresql://x/y"}),
            },
            "postgresql://x/y",
        ),
    ],
)
def test_state_db_hook_builds_url_from_connection(conn, expected):
    from airflow.sdk import Connection
    from hooks.state_db import StateDbHook

    uri = Connection(conn_id="cs_state", **conn).as_json()
    with mock.patch.dict("os.environ", AIRFLOW_CONN_CS_STATE=uri):
        assert StateDbHook(state_db_conn_id="cs_state").sqlalchemy_url == expected


@pytest.mark.parametrize(
    ("conn", "message"),
    [
        ({"conn_type": "sqlite"}, "needs the database file path in 'host'"),
        ({"conn_type": "postgres", "host": "db"}, r"missing: schema \(database name\)"),
        ({"conn_type": "mysql", "host": "db"}, "use 'sqlite' or 'postgres'"),
    ],
)
def test_state_db_hook_names_what_is_wrong(conn, message):
    from airflow.sdk import Connection
    from hooks.state_db import StateDbError, StateDbHook

    with mock.patch.dict(
        "os.environ", AIRFLOW_CONN_CS_STATE=Connection(conn_id="cs_state", **conn).as_json()
    ):
        with pytest.raises(StateDbError, match=message):
            _ = StateDbHook(state_db_conn_id="cs_state").sqlalchemy_url


def test_state_db_hook_migrates_and_reports_on_each_backend(state_db_url):
    from airflow.sdk import Connection
    from hooks.state_db import StateDbHook

    conn = Connection(
        conn_id="cs_state", conn_type="generic", extra=json.dumps({"sqlalchemy_url": state_db_url})
    )
    with mock.patch.dict("os.environ", AIRFLOW_CONN_CS_STATE=conn.as_json()):
        hook = StateDbHook(state_db_conn_id="cs_state")
        ok, message = hook.test_connection()
        assert not ok and "run migrations" in message
        assert hook.migrate() == head_revision()
        ok, message = hook.test_connection()
        assert ok, message


def test_migrations_match_the_schema_module(state_engine):
    """schema.py (what code uses) and the migrations (what databases get) describe the same tables."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from contact_sync.state.schema import metadata

    with state_engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    assert diff == []


def test_large_upserts_keep_every_value_exactly(state_engine):
    """Big batches take the bulk path on PostgreSQL (COPY); values with tabs, newlines and quotes survive."""
    from contact_sync.state.schema import contacts_lookup
    from contact_sync.state.upsert import upsert

    tricky = ["tab\there", "new\nline", "back\\slash \\N", "quote ' \" ;--", "ünïcödé 中文", "", None]
    rows = [
        {
            "sf_id": f"003{n:015d}",
            "email_key": f"p{n}@example.com",
            "phone_key": None,
            "first_name": tricky[n % len(tricky)],
            "last_name": "x",
            "fields": {"Title": tricky[n % len(tricky)], "n": n},
            "system_modstamp": datetime(2026, 11, 1, 12, 0, n % 60, tzinfo=UTC),
            "refreshed_at": datetime(2026, 11, 1, tzinfo=UTC),
            "email_ambiguous": n % 2 == 0,
            "phone_ambiguous": False,
        }
        for n in range(300)
    ]
    with state_engine.begin() as connection:
        upsert(connection, contacts_lookup, rows, keys=["sf_id"])
        upsert(connection, contacts_lookup, [{**r, "last_name": "y"} for r in rows], keys=["sf_id"])
    with state_engine.connect() as connection:
        stored = {r.sf_id: r for r in connection.execute(select(contacts_lookup))}
    assert len(stored) == 300
    for row in rows:
        got = stored[row["sf_id"]]
        assert (got.first_name, got.fields, got.email_ambiguous, got.last_name) == (
            row["first_name"], row["fields"], row["email_ambiguous"], "y",
        )  # fmt: skip
        assert got.system_modstamp.replace(tzinfo=UTC) == row["system_modstamp"]
