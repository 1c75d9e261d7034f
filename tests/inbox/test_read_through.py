"""Read-through against the Salesforce stand-in: stale data is refreshed; a spent budget or an unreachable
Salesforce answers from the table and says how old the data is."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from sqlalchemy import update

from contact_sync.state.schema import contacts_lookup
from sandbox.process import free_port
from tests.inbox.conftest import JANE_ID, age_rows, seed_contacts, set_watermark

pytestmark = pytest.mark.integration


@pytest.fixture
def sf_connection(salesforce):
    """Connection ``sf_inbox`` to the stand-in (``AIRFLOW_CONN_*``, as the standalone service reads it)."""
    from airflow.sdk import Connection

    def use(url: str = salesforce.url) -> None:
        extras = {
            "instance_url": url,
            "consumer_key": salesforce.client_id,
            "consumer_secret": salesforce.client_secret,
            "ca_file": salesforce.ca_file,
        }
        conn = Connection(conn_id="sf_inbox", conn_type="salesforce", extra=json.dumps(extras))
        patcher = mock.patch.dict("os.environ", AIRFLOW_CONN_SF_INBOX=conn.as_json())
        patcher.start()
        patches.append(patcher)

    patches: list = []
    yield use
    for patcher in patches:
        patcher.stop()


@pytest.fixture
def stale(salesforce, state_db_conn, sf_connection):
    """Jane in Salesforce with a new title; the lookup table still has the old one; watermark 10 min old."""
    from contact_sync.lookup import lookup_row
    from contact_sync.state import make_engine, sync_store

    engine = make_engine(state_db_conn)
    (jane_id,) = salesforce.load_contacts(
        [{"FirstName": "Jane", "LastName": "Doe", "Email": "jane.doe@example.com", "Phone": "+1 415 555 0100",
          "Title": "VP Engineering", "MailingCountry": "United States"}]
    )  # fmt: skip
    old = {**salesforce.record(jane_id), "Title": "Engineer"}
    display = ("FirstName", "LastName", "Title", "LeadSource", "MailingCountry")
    seed_contacts(engine, skip=(JANE_ID,))
    sync_store.upsert_lookup(engine, [lookup_row(old, display_fields=display, default_region="US")])
    age_rows(engine, 900)
    set_watermark(engine, 600)
    sf_connection()
    yield engine, jane_id
    engine.dispose()


def _server(inbox, engine, **overrides):
    values = {
        "read_through": True,
        "salesforce_conn_id": "sf_inbox",
        "state_db_conn_id": "cs_state",
        **overrides,
    }
    return inbox(engine, **values)


def test_stale_data_is_refreshed_from_salesforce_once_per_ttl(inbox, salesforce, stale):
    engine, jane_id = stale
    server = _server(inbox, engine, salesforce_instance_url=None)
    body = server.api({"phone": "(415) 555-0100"}).json()
    assert body["status"] == "matched", body["contacts"]
    (contact,) = body["contacts"]
    assert contact["fields"]["Title"] == "VP Engineering"
    assert (
        contact["salesforce_url"] == f"{salesforce.url}/lightning/r/Contact/{jane_id}/view"
    )  # from the connection
    assert body["freshness"]["read_through"] == "refreshed" and body["freshness"]["basis"] == "salesforce"
    assert body["freshness"]["age_seconds"] < 5
    from contact_sync.state import sync_store

    (row,) = sync_store.lookup(engine, email_key="jane.doe@example.com")
    assert row["fields"]["Title"] == "VP Engineering"
    calls = salesforce.counters()["total"]
    again = server.api({"email": "JANE.DOE@example.com"}).json()
    assert again["freshness"]["read_through"] == "not_needed"  # re-read seconds ago: within the TTL
    assert salesforce.counters()["total"] == calls


def test_fresh_watermark_needs_no_salesforce_call(inbox, salesforce, stale):
    engine, _ = stale
    set_watermark(engine, 5)
    server = _server(inbox, engine)
    calls = salesforce.counters()["total"]
    body = server.api({"email": "jane.doe@example.com"}).json()
    assert body["contacts"][0]["fields"]["Title"] == "Engineer"
    assert body["freshness"]["read_through"] == "not_needed"
    assert salesforce.counters()["total"] == calls


def test_spent_budget_answers_from_the_table_with_the_age(inbox, salesforce, stale):
    engine, _ = stale
    salesforce.set_api_usage(used=95_000, limit=100_000)  # above the 0.8 ceiling; seen on the first call
    server = _server(inbox, engine)
    first = server.api({"email": "jane.doe@example.com"}).json()  # this call reports the org's usage
    assert first["freshness"]["read_through"] == "refreshed"
    with engine.begin() as connection:  # someone put the old title back and the row is old again
        connection.execute(
            update(contacts_lookup).values(
                fields={"Title": "Engineer"}, refreshed_at=datetime.now(UTC) - timedelta(hours=1)
            )
        )
    calls = salesforce.counters()["total"]
    body = server.api({"email": "jane.doe@example.com"}).json()
    assert salesforce.counters()["total"] == calls  # the guard stopped before calling
    assert body["status"] == "matched"
    assert body["contacts"][0]["fields"]["Title"] == "Engineer"  # the table's value
    freshness = body["freshness"]
    assert freshness["read_through"] == "budget_exhausted" and freshness["basis"] == "watermark"
    assert 599 <= freshness["age_seconds"] < 700
    assert "budget" in freshness["message"] and "s old" in freshness["message"]


def test_salesforce_errors_answer_from_the_table(inbox, salesforce, stale):
    engine, _ = stale
    salesforce.set_faults(error_rate=1.0)
    server = _server(inbox, engine)
    response = server.api({"email": "jane.doe@example.com"})
    assert response.status_code == 200
    body = response.json()
    assert body["contacts"][0]["fields"]["Title"] == "Engineer"
    assert body["freshness"]["read_through"] == "salesforce_unavailable"
    assert body["freshness"]["age_seconds"] >= 599


def test_unreachable_salesforce_answers_from_the_table_and_backs_off(inbox, salesforce, stale, sf_connection):
    engine, _ = stale
    sf_connection(f"https://127.0.0.1:{free_port()}")  # nothing listens there
    server = _server(inbox, engine, salesforce_instance_url="https://acme.my.salesforce.com")
    for _ in range(2):
        body = server.api({"email": "jane.doe@example.com"}).json()
        assert body["status"] == "matched"
        assert body["contacts"][0]["fields"]["Title"] == "Engineer"
        assert body["freshness"]["read_through"] == "salesforce_unavailable"
    assert "not trying again" in body["freshness"]["message"]  # the second lookup did not wait for Salesforce


def test_record_deleted_in_salesforce_disappears(inbox, salesforce, stale):
    engine, jane_id = stale
    salesforce.delete(jane_id)
    server = _server(inbox, engine)
    body = server.api({"email": "jane.doe@example.com"}).json()
    assert body["status"] == "not_found"
    assert body["freshness"]["read_through"] == "not_in_salesforce"


def test_read_through_off_says_so(inbox, stale):
    engine, _ = stale
    server = _server(inbox, engine, read_through=False)
    body = server.api({"email": "jane.doe@example.com"}).json()
    assert body["freshness"]["read_through"] == "disabled"
    assert body["contacts"][0]["fields"]["Title"] == "Engineer"
