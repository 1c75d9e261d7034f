"""Signed ``contact.*`` webhooks to a local receiver: inbox edits, API writes, retries, the off switch."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.sandbox.respond_io.conftest import Api, Received, WebhookReceiver

pytestmark = pytest.mark.integration

SECRET = "whsec-test-key"


def _signature_ok(received: Received, secret: str = SECRET) -> bool:
    expected = base64.b64encode(hmac.new(secret.encode(), received.body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, received.headers.get("X-Webhook-Signature", ""))


def _wait_settled(api: Api, timeout: float = 5.0) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while api.standin.pending_deliveries() and time.monotonic() < deadline:
        time.sleep(0.02)
    return api.standin.deliveries()


def test_inbox_edit_fires_signed_contact_updated(api: Api, webhook_receiver: WebhookReceiver) -> None:
    api.standin.define_custom_fields([{"name": "Salesforce Id", "slug": "sf_contact_id", "dataType": "text"}])
    (contact_id,) = api.standin.seed_contacts(
        [{"firstName": "Ann", "email": "ann@example.com", "custom_fields": {"sf_contact_id": "003A"}}]
    )
    api.standin.set_webhook(webhook_receiver.url, SECRET)

    result = api.standin.inbox_edit(contact_id, {"firstName": "Anne", "phone": "+60121233112"})
    (received,) = webhook_receiver.wait_for(lambda r: len(r) >= 1)
    event = json.loads(received.body)

    assert received.path == "/hooks/respond-io"
    assert _signature_ok(received)
    assert not _signature_ok(received, "another-secret")
    assert event["event_type"] == "contact.updated"
    assert uuid.UUID(event["event_id"])
    assert result["event_ids"] == [event["event_id"]]
    assert event["contact"]["id"] == contact_id
    assert event["contact"]["firstName"] == "Anne"
    assert event["contact"]["custom_fields"] == [{"name": "sf_contact_id", "value": "003A"}]
    assert event["changes"] == {
        "fields": {"firstName": {"old": "Ann", "new": "Anne"}, "phone": {"old": None, "new": "+60121233112"}},
        "custom_fields": {},
    }
    delivery = _wait_settled(api)[0]
    assert (delivery["event_id"], delivery["status_code"], delivery["attempts"]) == (
        event["event_id"],
        200,
        1,
    )
    assert delivery["delivered"] is True


def test_inbox_edit_of_custom_fields_and_tags(api: Api, webhook_receiver: WebhookReceiver) -> None:
    (contact_id,) = api.standin.seed_contacts(
        [
            {
                "firstName": "Ann",
                "email": "ann@example.com",
                "custom_fields": {"sf_contact_id": "003A", "tier": "a"},
            }
        ]
    )
    api.standin.set_webhook(webhook_receiver.url, SECRET)

    api.standin.inbox_edit(contact_id, custom_fields={"tier": "b"}, tags_add=["vip"])
    received = webhook_receiver.wait_for(lambda r: len(r) >= 2)
    events = [json.loads(r.body) for r in received]

    assert [e["event_type"] for e in events] == ["contact.updated", "contact.tag.updated"]
    assert events[0]["changes"]["custom_fields"] == {"tier": {"old": "a", "new": "b"}}
    assert (events[1]["tag"], events[1]["action"]) == ("vip", "add")
    assert all(_signature_ok(r) for r in received)


def test_api_writes_fire_webhooks(api: Api, webhook_receiver: WebhookReceiver) -> None:
    api.standin.set_create_delay(0)
    api.standin.set_webhook(webhook_receiver.url, SECRET)

    created = api.call("POST", "/contact/create_or_update/email:w@example.com", {"firstName": "W"}).json()
    api.call("PUT", f"/contact/id:{created['contactId']}", {"lastName": "X"})
    api.call("PUT", f"/contact/id:{created['contactId']}", {"lastName": "X"})  # no change -> no event
    api.call("POST", f"/contact/id:{created['contactId']}/tag", ["Auto-create: Salesforce"])
    received = webhook_receiver.wait_for(lambda r: len(r) >= 3)
    events = [json.loads(r.body) for r in received]

    assert [e["event_type"] for e in events] == ["contact.created", "contact.updated", "contact.tag.updated"]
    assert {e["contact"]["id"] for e in events} == {created["contactId"]}
    assert events[1]["changes"]["fields"] == {"lastName": {"old": None, "new": "X"}}
    assert all(_signature_ok(r) for r in received)
    assert len(_wait_settled(api)) == 3


def test_api_write_webhooks_can_be_switched_off(api: Api, webhook_receiver: WebhookReceiver) -> None:
    (contact_id,) = api.standin.seed_contacts([{"firstName": "Ann", "email": "ann@example.com"}])
    api.standin.set_webhook(webhook_receiver.url, SECRET, api_writes=False)

    api.call("PUT", f"/contact/id:{contact_id}", {"lastName": "FromApi"})
    api.standin.inbox_edit(contact_id, {"lastName": "FromInbox"})
    (received,) = webhook_receiver.wait_for(lambda r: len(r) >= 1)
    _wait_settled(api)

    assert json.loads(received.body)["changes"]["fields"]["lastName"] == {
        "old": "FromApi",
        "new": "FromInbox",
    }
    assert len(webhook_receiver.received) == 1
    assert [d["source"] for d in api.standin.deliveries()] == ["inbox"]


def test_failed_deliveries_are_retried(api: Api, webhook_receiver: WebhookReceiver) -> None:
    (contact_id,) = api.standin.seed_contacts([{"firstName": "R", "email": "r@example.com"}])
    api.standin.set_webhook(webhook_receiver.url, SECRET, max_attempts=3, retry_backoff=0.01)
    webhook_receiver.statuses = [500, 503]

    api.standin.inbox_edit(contact_id, {"firstName": "Retry"})
    received = webhook_receiver.wait_for(lambda r: len(r) >= 3)
    (delivery,) = _wait_settled(api)

    assert len({r.body for r in received}) == 1  # same event, same bytes
    assert (delivery["attempts"], delivery["status_code"], delivery["delivered"]) == (3, 200, True)


def test_gives_up_after_max_attempts(api: Api, webhook_receiver: WebhookReceiver) -> None:
    (contact_id,) = api.standin.seed_contacts([{"firstName": "G", "email": "g@example.com"}])
    api.standin.set_webhook(webhook_receiver.url, SECRET, max_attempts=2, retry_backoff=0.01)
    webhook_receiver.statuses = [500] * 5

    api.standin.inbox_edit(contact_id, {"firstName": "GiveUp"})
    webhook_receiver.wait_for(lambda r: len(r) >= 2)
    (delivery,) = _wait_settled(api)

    assert (delivery["attempts"], delivery["status_code"], delivery["delivered"]) == (2, 500, False)


def test_no_url_means_no_events(api: Api) -> None:
    (contact_id,) = api.standin.seed_contacts([{"firstName": "N", "email": "n@example.com"}])

    result = api.standin.inbox_edit(contact_id, {"firstName": "Nobody"})

    assert result["event_ids"] == []
    assert api.standin.deliveries() == []


def test_webhook_config_never_echoes_the_secret(api: Api, webhook_receiver: WebhookReceiver) -> None:
    public = api.standin.set_webhook(webhook_receiver.url, SECRET)

    assert public["secret_set"] is True
    assert SECRET not in json.dumps(api.standin.config())
