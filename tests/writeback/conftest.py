"""Write-back harness: Salesforce and respond.io stand-ins, a fresh SQLite state DB, the inbox service under
uvicorn (in a thread) and the real ``salesforce_writeback`` DAG (``dag.test()``)."""

from __future__ import annotations

import contextlib
import importlib
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from unittest import mock

import httpx
import pytest

from tests.fixtures.connections import salesforce_connection, state_connection
from tests.fixtures.inbox_server import password_hash_of, serve_in_thread

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy.engine import Engine

USER, PASSWORD = "agent", "writeback test password 42"
SIGNING_KEY = "whsec-test-writeback"  # noqa: S105 - throw-away key of the local stand-in
EDITABLE = "Title,Department,LeadSource,Email,LastModifiedDate"


@pytest.fixture(scope="session")
def password_hash() -> str:
    return password_hash_of(PASSWORD)


@dataclass
class WriteBack:
    salesforce: Any
    respond_io: Any
    engine: Engine
    tmp_path: Path
    password_hash: str
    inbox_url: str | None = None
    _servers: list[Any] = field(default_factory=list)

    # -- data ------------------------------------------------------------------------------------------------

    def contact(self, n: int, **fields: Any) -> str:
        """A Salesforce contact, synced: lookup row, ledger row (mirror values) and a respond.io contact."""
        from sqlalchemy import insert

        from contact_sync.state import sync_store
        from contact_sync.state.schema import sync_ledger

        record = {
            "FirstName": f"Ana{n}",
            "LastName": f"Silva{n}",
            "Email": f"ana{n}@example.com",
            "Title": "Buyer",
            "Department": "Sales",
            "LeadSource": "Web",
            **fields,
        }
        sf_id = self.salesforce.admin.load_contacts([record])[0]
        view = {
            k: record.get(k) for k in ("Email", "FirstName", "LastName", "Title", "Department", "LeadSource")
        }
        sync_store.upsert_lookup(
            self.engine,
            [
                {
                    "sf_id": sf_id,
                    "email_key": record["Email"],
                    "first_name": record["FirstName"],
                    "last_name": record["LastName"],
                    "fields": view,
                }
            ],
        )
        mirror = {"sf_title": record["Title"], "sf_department": record["Department"], "sf_leadsource": "Web"}
        known = {f.get("slug") or f.get("name") for f in self.respond_io.custom_fields()}
        missing = [s for s in ("sf_contact_id", *mirror) if s not in known]
        if missing:
            self.respond_io.define_custom_fields(
                [{"name": s, "slug": s, "dataType": "text"} for s in missing]
            )
        rio_id = self.respond_io.seed_contacts(
            [
                {
                    "firstName": record["FirstName"],
                    "email": record["Email"],
                    "custom_fields": {"sf_contact_id": sf_id, **mirror},
                }
            ]
        )[0]
        at = datetime.now(UTC)
        with self.engine.begin() as connection:
            connection.execute(
                insert(sync_ledger).values(
                    workspace="respond_io_default",
                    sf_id=sf_id,
                    respond_io_contact_id=rio_id,
                    identifier=f"email:{record['Email']}",
                    outcome="created",
                    written_fields={"mirror": mirror},
                    status="done",
                    attempts=1,
                    run_key="test",
                    synced_at=at,
                    updated_at=at,
                )
            )
        self.rio_ids = {**getattr(self, "rio_ids", {}), sf_id: rio_id}
        return sf_id

    def queue(self, **where: Any) -> list[dict[str, Any]]:
        from contact_sync.state import writeback_store

        rows = writeback_store.edits(self.engine)
        return sorted((r for r in rows if all(r[k] == v for k, v in where.items())), key=lambda r: r["id"])

    def lookup_fields(self, sf_id: str) -> dict[str, Any]:
        from contact_sync.state import sync_store

        return dict(sync_store.lookup_rows(self.engine, [sf_id])[0]["fields"])

    def composite_calls(self) -> int:
        calls = self.salesforce.admin.counters()["calls"]
        return sum(n for name, n in calls.items() if "composite" in name)

    # -- the DAG ---------------------------------------------------------------------------------------------

    def run_dag(self, dag_id: str = "salesforce_writeback", **conf: Any) -> Any:
        sys.modules.pop("salesforce_writeback", None)
        module = importlib.import_module("salesforce_writeback")
        dag = getattr(module, dag_id)()
        run = dag.test(run_conf=conf or None)
        sys.modules.pop("salesforce_writeback", None)
        return run

    # -- the inbox service -----------------------------------------------------------------------------------

    def start_inbox(self) -> str:
        from contact_sync_inbox import writeback
        from contact_sync_inbox.app import create_app
        from contact_sync_inbox.config import InboxConfig

        writeback._settings.cache_clear()
        app = create_app(
            InboxConfig(
                api_token="writeback-api-token",  # noqa: S106 - test credential
                users={USER: self.password_hash},
                session_secret="writeback-session-secret",  # noqa: S106 - test credential
                read_through=False,
                salesforce_instance_url=self.salesforce.url,
            ),
            engine=self.engine,
        )
        app.state.webhook_signing_key = SIGNING_KEY
        served = serve_in_thread(app)
        self._servers.append(served)
        self.inbox_url = served.url
        return self.inbox_url

    @contextlib.contextmanager
    def logged_in(self) -> Iterator[httpx.Client]:
        with httpx.Client(base_url=self.inbox_url or self.start_inbox(), timeout=30) as client:
            response = client.post(
                "/login", data={"username": USER, "password": PASSWORD, "next": "/sidebar"}
            )
            assert response.status_code == 303, response.text
            yield client

    def edit(self, client: httpx.Client, sf_id: str, field: str, value: str, **extra: str) -> httpx.Response:
        data = {"sf_id": sf_id, "field": field, "value": value, **extra}
        return client.post("/sidebar/edit", data=data, headers={"Accept": "application/json"})

    def stop(self) -> None:
        for served in self._servers:
            served.stop()


@pytest.fixture
def writeback(airflow_db, salesforce, respond_io, tmp_path, password_hash) -> Iterator[WriteBack]:
    from contact_sync.state import make_engine, migrate

    state_file = tmp_path / "state.db"
    engine = make_engine(f"sqlite:///{state_file}")
    migrate(engine)
    env = {
        "AIRFLOW_CONN_SALESFORCE_DEFAULT": salesforce_connection(salesforce),
        "AIRFLOW_CONN_CONTACT_SYNC_STATE": state_connection(path=str(state_file)),
        "CONTACT_SYNC_START_DATE": "2026-10-01T00:00:00Z",
        "CONTACT_SYNC_TASK_RETRY_DELAY_SECONDS": "0",
        "CONTACT_SYNC_LOCAL_CONFIG": str(tmp_path / "no-local.yaml"),
        "CONTACT_SYNC_EDITABLE_FIELDS": EDITABLE,
        "CONTACT_SYNC_WRITEBACK_RETRY_DELAY_SECONDS": "0",
        "CONTACT_SYNC_WRITEBACK_MAX_ATTEMPTS": "3",
    }
    with mock.patch.dict("os.environ", env):
        harness = WriteBack(salesforce, respond_io, engine, tmp_path, password_hash)
        try:
            yield harness
        finally:
            harness.stop()
            engine.dispose()
