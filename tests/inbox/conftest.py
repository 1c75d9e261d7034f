"""Fixtures for the inbox service: a real uvicorn server (in a thread) on a seeded state DB.

``inbox(config_overrides..., engine=...)`` starts the app on a free 127.0.0.1 port and returns an
:class:`InboxServer` (base URL, token, a logged-in client); servers stop after the test.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.fixtures.inbox_server import ThreadedServer, password_hash_of, serve_in_thread

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sqlalchemy.engine import Engine

TOKEN = "inbox-test-token-6f1c2a"  # noqa: S105 - test credential
USER, PASSWORD = "analyst", "correct horse battery staple"
INSTANCE_URL = "https://acme.my.salesforce.com"
JANE_ID = "0035g00000JaneAAAA"
JOHN_ID = "0035g00000JohnAAAA"


@pytest.fixture(scope="session")
def password_hash() -> str:
    return password_hash_of(PASSWORD)


@dataclass
class InboxServer:
    url: str
    engine: Engine
    running: ThreadedServer

    def api(self, query: str | dict[str, str], *, token: str | None = TOKEN) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        params = query if isinstance(query, dict) else None
        path = "/api/v1/lookup" + ("" if params is not None else "?" + query)
        with httpx.Client(base_url=self.url, timeout=30) as client:
            return client.get(path, params=params, headers=headers)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, follow_redirects=False)

    @contextlib.contextmanager
    def logged_in(self) -> Iterator[httpx.Client]:
        with self.client() as client:
            response = client.post(
                "/login", data={"username": USER, "password": PASSWORD, "next": "/sidebar"}
            )
            assert response.status_code == 303, response.text
            yield client

    def stop(self) -> None:
        self.running.stop()


@pytest.fixture
def inbox(password_hash: str) -> Iterator[Callable[..., InboxServer]]:
    """Start the inbox app with ``InboxConfig(**overrides)`` on ``engine`` under uvicorn."""
    from contact_sync_inbox.app import create_app
    from contact_sync_inbox.config import InboxConfig

    started: list[InboxServer] = []

    def start(engine: Engine, **overrides: Any) -> InboxServer:
        values: dict[str, Any] = {
            "api_token": TOKEN,
            "users": {USER: password_hash},
            "session_secret": "inbox-test-session-secret",
            "read_through": False,
            "salesforce_instance_url": INSTANCE_URL,
            "default_region": "US",
            **overrides,
        }
        served = serve_in_thread(create_app(InboxConfig(**values), engine=engine))
        running = InboxServer(served.url, engine, served)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    from contact_sync.state import make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'inbox-state.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


# -- seeding ------------------------------------------------------------------------------------------------


def seed_contacts(engine: Engine, *, skip: tuple[str, ...] = ()) -> None:
    """Jane (US phone), John (UK phone), and two contacts sharing one email (ambiguous)."""
    from contact_sync.lookup import lookup_row
    from contact_sync.state import sync_store

    records = [
        {
            "Id": JANE_ID, "FirstName": "Jane", "LastName": "Doe", "Email": "Jane.Doe@Example.com",
            "Phone": "(415) 555-0100", "MailingCountry": "United States", "Title": "CTO",
            "LeadSource": "Web", "SystemModstamp": "2026-11-01T10:00:00.000+0000",
        },
        {
            "Id": JOHN_ID, "FirstName": "John", "LastName": "Smith", "Email": "john@example.co.uk",
            "Phone": "020 7946 0958", "MailingCountry": "United Kingdom", "Title": "Buyer",
            "LeadSource": "Partner", "SystemModstamp": "2026-11-01T10:00:00.000+0000",
        },
        {"Id": "0035g00000ShareAAA", "LastName": "Front desk", "Email": "info@shared.example",
         "SystemModstamp": "2026-11-01T10:00:00.000+0000"},
        {"Id": "0035g00000ShareBAA", "LastName": "Reception", "Email": "INFO@shared.example",
         "SystemModstamp": "2026-11-01T10:00:00.000+0000"},
    ]  # fmt: skip
    display = ("FirstName", "LastName", "Title", "LeadSource", "MailingCountry")
    rows = [
        lookup_row(r, display_fields=display, default_region="US") for r in records if r["Id"] not in skip
    ]
    sync_store.upsert_lookup(engine, rows)


def set_watermark(engine: Engine, seconds_ago: float) -> datetime:
    from contact_sync.state import lookup_store

    value = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    lookup_store.set_watermark(engine, value)
    return value


def age_rows(engine: Engine, seconds: float) -> None:
    """Make every lookup row look refreshed ``seconds`` ago."""
    from sqlalchemy import update

    from contact_sync.state.schema import contacts_lookup

    with engine.begin() as connection:
        connection.execute(
            update(contacts_lookup).values(refreshed_at=datetime.now(UTC) - timedelta(seconds=seconds))
        )
