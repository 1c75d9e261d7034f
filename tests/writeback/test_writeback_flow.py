"""Write-back end to end: the inbox service queues, the real ``salesforce_writeback`` DAG applies, against the
Salesforce and respond.io stand-ins over real HTTP."""

from __future__ import annotations

import json
import time

import httpx
import pytest
import requests

from sandbox.respond_io.webhooks import SIGNATURE_HEADER, sign
from tests.writeback.conftest import SIGNING_KEY

pytestmark = pytest.mark.integration


def test_a_sidebar_edit_reaches_salesforce_in_one_run_and_shows_in_the_lookup(writeback):
    sf_id = writeback.contact(1)
    with writeback.logged_in() as client:
        page = client.get("/sidebar", params={"email": "ana1@example.com"})
        assert page.status_code == 200
        assert 'data-field="Title"' in page.text and 'data-field="Department"' in page.text
        assert 'class="edit-field" data-field="Email"' not in page.text  # never offered
        first = writeback.edit(client, sf_id, "Title", "Head of Buying", base="Buyer", request_id="r-1")
        replay = writeback.edit(client, sf_id, "Title", "Head of Buying", base="Buyer", request_id="r-1")
        assert (first.status_code, first.json()["status"]) == (202, "queued")
        assert (replay.status_code, replay.json()["status"]) == (200, "already_queued")
        assert 'class="pending-edit"' in client.get("/sidebar", params={"email": "ana1@example.com"}).text
    assert [e["status"] for e in writeback.queue()] == ["pending"]

    run = writeback.run_dag()

    assert run.state == "success"
    assert writeback.salesforce.admin.record(sf_id)["Title"] == "Head of Buying"
    [edit] = writeback.queue()
    assert edit["status"] == "applied" and edit["applied_at"] is not None and edit["requested_by"] == "agent"
    assert writeback.lookup_fields(sf_id)["Title"] == "Head of Buying"


def test_latest_edit_of_a_field_wins_and_older_ones_are_superseded(writeback):
    sf_id = writeback.contact(2)
    with writeback.logged_in() as client:
        writeback.edit(client, sf_id, "Title", "Buyer II", base="Buyer", request_id="a")
        writeback.edit(client, sf_id, "Title", "Buyer III", base="Buyer II", request_id="b")
        writeback.edit(client, sf_id, "Department", "Procurement", base="Sales", request_id="c")
    calls = writeback.composite_calls()

    writeback.run_dag()

    assert [(e["new_value"], e["status"]) for e in writeback.queue()] == [
        ("Buyer II", "superseded"),
        ("Buyer III", "applied"),
        ("Procurement", "applied"),
    ]
    record = writeback.salesforce.admin.record(sf_id)
    assert (record["Title"], record["Department"]) == ("Buyer III", "Procurement")
    assert writeback.composite_calls() - calls == 1  # both fields of the record in one composite call


def test_a_concurrent_change_in_salesforce_is_a_conflict_and_salesforce_is_untouched(writeback):
    sf_id = writeback.contact(3)
    with writeback.logged_in() as client:
        writeback.edit(client, sf_id, "Title", "Inbox title", base="Buyer", request_id="x")
    writeback.salesforce.admin.edit(sf_id, {"Title": "Changed in Salesforce"})
    calls = writeback.composite_calls()

    run = writeback.run_dag()

    assert run.state == "success"  # a conflict is an outcome, not a task failure
    [edit] = writeback.queue()
    assert edit["status"] == "conflict" and edit["last_error_code"] == "CHANGED_IN_SALESFORCE"
    assert writeback.salesforce.admin.record(sf_id)["Title"] == "Changed in Salesforce"
    assert writeback.composite_calls() == calls
    listed = writeback.run_dag("salesforce_writeback_admin", action="list_conflicts")
    assert listed.state == "success"


def test_email_phone_and_non_updateable_fields_are_refused_at_intake(writeback):
    sf_id = writeback.contact(4)
    with writeback.logged_in() as client:
        answers = {
            field: writeback.edit(client, sf_id, field, value)
            for field, value in [
                ("Email", "new@example.com"),
                ("Phone", "+1 415 555 0000"),
                ("MobilePhone", "+1 415 555 0001"),
                ("LastModifiedDate", "2026-01-01T00:00:00Z"),
                ("LeadSource", "Carrier pigeon"),
                ("Title", "x" * 129),
                ("FirstName", "Bob"),
            ]
        }
    codes = {field: (r.status_code, r.json()["status"]) for field, r in answers.items()}
    assert codes == {
        "Email": (422, "field_never_editable"),
        "Phone": (422, "field_never_editable"),
        "MobilePhone": (422, "field_never_editable"),
        "LastModifiedDate": (422, "field_not_updateable"),
        "LeadSource": (422, "value_not_in_picklist"),
        "Title": (422, "value_too_long"),
        "FirstName": (422, "field_not_editable"),
    }
    assert "email and phone" in answers["Email"].json()["message"]
    assert writeback.queue() == []


def test_edit_form_needs_a_login(writeback):
    sf_id = writeback.contact(5)
    url = writeback.start_inbox()
    response = httpx.post(url + "/sidebar/edit", data={"sf_id": sf_id, "field": "Title", "value": "x"})
    assert response.status_code == 303 and "/login" in response.headers["location"]
    assert writeback.queue() == []


def test_a_pending_edit_can_be_discarded(writeback):
    sf_id = writeback.contact(6)
    with writeback.logged_in() as client:
        edit_id = writeback.edit(client, sf_id, "Title", "Discard me", base="Buyer").json()["edit_id"]
        assert client.post("/sidebar/discard", data={"edit_id": str(edit_id)}).status_code == 200
        assert client.post("/sidebar/discard", data={"edit_id": str(edit_id)}).status_code == 409
        page = client.get("/sidebar", params={"email": "ana6@example.com"}).text
    assert 'class="pending-edit"' not in page
    writeback.run_dag()
    assert writeback.queue()[0]["status"] == "discarded"
    assert writeback.salesforce.admin.record(sf_id)["Title"] == "Buyer"


# -- webhooks ---------------------------------------------------------------------------------------------------


def _event(sf_id: str, changes: dict, event_id: str = "evt-1") -> bytes:
    payload = {
        "event_type": "contact.updated",
        "event_id": event_id,
        "contact": {"id": 1, "custom_fields": [{"name": "sf_contact_id", "value": sf_id}]},
        "changes": {"fields": {}, "custom_fields": changes},
    }
    return json.dumps(payload).encode()


def test_a_bad_signature_stores_nothing_and_a_replay_stores_one_edit(writeback):
    sf_id = writeback.contact(7)
    url = writeback.start_inbox() + "/webhooks/respond-io"
    body = _event(sf_id, {"sf_title": {"old": "Buyer", "new": "Webhook title"}})
    headers = {"Content-Type": "application/json"}

    bad = httpx.post(url, content=body, headers={**headers, SIGNATURE_HEADER: sign("wrong key", body)})
    missing = httpx.post(url, content=body, headers=headers)
    assert (bad.status_code, missing.status_code) == (401, 401)
    assert writeback.queue() == []

    good = {**headers, SIGNATURE_HEADER: sign(SIGNING_KEY, body)}
    first, again = httpx.post(url, content=body, headers=good), httpx.post(url, content=body, headers=good)
    assert (first.json()["stored"], again.json()["stored"], again.json()["replayed"]) == (1, 0, 1)
    [edit] = writeback.queue()
    assert (edit["field"], edit["new_value"], edit["base_value"], edit["source"]) == (
        "Title",
        "Webhook title",
        "Buyer",  # what the ledger says we last wrote
        "webhook",
    )
    tampered = body.replace(b"Webhook title", b"Hacked title")
    assert httpx.post(url, content=tampered, headers=good).status_code == 401
    assert len(writeback.queue()) == 1


def _wait_deliveries(respond_io, count: int) -> list[dict]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        done = [d for d in respond_io.deliveries() if d["delivered"] or d["attempts"] >= 1]
        if len(done) >= count and respond_io.pending_deliveries() == 0:
            return done
        time.sleep(0.05)
    raise AssertionError(f"webhook deliveries: {respond_io.deliveries()}")


def test_an_echo_of_our_own_write_stores_nothing(writeback):
    from contact_sync.state import sync_store

    sf_id = writeback.contact(8)
    writeback.respond_io.set_webhook(writeback.start_inbox() + "/webhooks/respond-io", SIGNING_KEY)
    # the lookup refresh mirrors a new Salesforce value: records it in the ledger, writes it through the API
    mirror = {"sf_title": "Mirrored title", "sf_department": "Sales", "sf_leadsource": "Web"}
    sync_store.record_mirror(writeback.engine, "respond_io_default", sf_id, mirror)
    response = requests.put(
        f"{writeback.respond_io.url}/contact/id:{writeback.rio_ids[sf_id]}",
        json={"custom_fields": [{"name": "sf_title", "value": "Mirrored title"}]},
        headers=writeback.respond_io.headers(),
        timeout=10,
    )
    assert response.status_code == 200, response.text

    [delivery] = _wait_deliveries(writeback.respond_io, 1)

    assert delivery["source"] == "api" and delivery["status_code"] == 200
    assert writeback.queue() == []


def test_an_inbox_edit_of_a_mirrored_field_reaches_salesforce(writeback):
    from contact_sync.state import sync_store

    sf_id = writeback.contact(9)
    writeback.respond_io.set_webhook(writeback.start_inbox() + "/webhooks/respond-io", SIGNING_KEY)

    writeback.respond_io.inbox_edit(writeback.rio_ids[sf_id], custom_fields={"sf_title": "Procurement Lead"})
    _wait_deliveries(writeback.respond_io, 1)
    run = writeback.run_dag()

    assert run.state == "success"
    assert writeback.salesforce.admin.record(sf_id)["Title"] == "Procurement Lead"
    assert [e["status"] for e in writeback.queue()] == ["applied"]
    [ledger] = sync_store.ledger_for(writeback.engine, "respond_io_default", [sf_id])
    assert (
        ledger["written_fields"]["mirror"]["sf_title"] == "Procurement Lead"
    )  # the mirror will not rewrite it


# -- failures ---------------------------------------------------------------------------------------------------


def test_a_crash_between_apply_and_record_applies_once(writeback, monkeypatch):
    sf_id = writeback.contact(10)
    with writeback.logged_in() as client:
        writeback.edit(client, sf_id, "Department", "Finance", base="Sales", request_id="crash")
    monkeypatch.setenv("CONTACT_SYNC_WRITEBACK_FAULT_MARKER", str(writeback.tmp_path / "crashed"))
    calls = writeback.composite_calls()

    first = writeback.run_dag()
    if first.state != "success":  # the crash failed the run; the next minute's run picks the edit up
        writeback.run_dag()

    assert (writeback.tmp_path / "crashed").exists()  # the fault did fire after Salesforce applied the edit
    assert writeback.salesforce.admin.record(sf_id)["Department"] == "Finance"
    assert writeback.composite_calls() - calls == 1  # one write, never a second
    assert [e["status"] for e in writeback.queue()] == ["applied"]


def test_partial_failure_of_a_composite_batch(writeback):
    from sqlalchemy import select, update

    from contact_sync.state import writeback_store
    from contact_sync.state.schema import salesforce_describe_cache

    good, bad, locked, primed = (writeback.contact(n) for n in (11, 12, 13, 14))
    writeback_store.enqueue(
        writeback.engine,
        [{"request_id": "prime", "workspace": "respond_io_default", "sf_id": primed, "field": "Title",
          "new_value": "Primed", "base_value": "Buyer"}],
    )  # fmt: skip
    writeback.run_dag()  # caches the describe in the state DB
    with (
        writeback.engine.begin() as connection
    ):  # a stale describe: Title was 1,000 long, Salesforce now says 128
        for row in connection.execute(select(salesforce_describe_cache)).all():
            body = dict(row.body)
            body["fields"] = [{**f, "length": 1000} if f["name"] == "Title" else f for f in body["fields"]]
            connection.execute(
                update(salesforce_describe_cache)
                .where(salesforce_describe_cache.c.sobject == row.sobject)
                .values(body=body)
            )
    writeback.salesforce.admin.lock(locked)
    edits = [(good, "Good title"), (bad, "x" * 200), (locked, "Locked title")]
    writeback_store.enqueue(
        writeback.engine,
        [{"request_id": f"p-{i}", "workspace": "respond_io_default", "sf_id": sf_id, "field": "Title",
          "new_value": value, "base_value": "Buyer"} for i, (sf_id, value) in enumerate(edits)],
    )  # fmt: skip
    calls = writeback.composite_calls()

    run = writeback.run_dag()

    assert run.state == "success"
    assert writeback.composite_calls() - calls == 1
    by_sf = {e["sf_id"]: e for e in writeback.queue()}
    assert by_sf[good]["status"] == "applied"
    assert (by_sf[bad]["status"], by_sf[bad]["last_error_code"]) == ("rejected", "STRING_TOO_LONG")
    assert (by_sf[locked]["status"], by_sf[locked]["last_error_code"]) == ("pending", "UNABLE_TO_LOCK_ROW")
    assert by_sf[locked]["attempts"] == 1
    assert writeback.salesforce.admin.record(good)["Title"] == "Good title"
    assert writeback.salesforce.admin.record(bad)["Title"] == "Buyer"

    # still locked: the attempts run out (max 3) -> failed -> the task fails; on-call re-queues after unlocking
    writeback.run_dag()
    third = writeback.run_dag()
    assert third.state == "failed"
    assert writeback.queue(sf_id=locked)[0]["status"] == "failed"
    writeback.salesforce.admin.unlock_all()
    assert writeback.run_dag("salesforce_writeback_admin", action="requeue_failed").state == "success"
    assert writeback.run_dag().state == "success"
    assert writeback.salesforce.admin.record(locked)["Title"] == "Locked title"


def test_a_spent_api_budget_keeps_edits_pending_without_using_attempts(writeback):
    sf_id = writeback.contact(15)
    with writeback.logged_in() as client:
        writeback.edit(client, sf_id, "Title", "Budget title", base="Buyer", request_id="budget")
    writeback.salesforce.admin.set_api_usage(used=99_000, limit=100_000)

    run = writeback.run_dag()

    assert run.state == "success"
    [edit] = writeback.queue()
    assert (edit["status"], edit["attempts"], edit["last_error_code"]) == ("pending", 0, "BUDGET_EXCEEDED")
    assert edit["next_attempt_at"] is not None
    assert writeback.salesforce.admin.record(sf_id)["Title"] == "Buyer"


def test_an_unexpected_error_marks_the_round_failed_and_fails_the_task(writeback, monkeypatch):
    sf_id = writeback.contact(30)
    with writeback.logged_in() as client:
        writeback.edit(client, sf_id, "Title", "Chief", base="Buyer", request_id="boom")

    def explode(op, batch):
        raise ValueError("a bug, not Salesforce")

    monkeypatch.setattr("operators.salesforce_writeback.apply_batch", explode)
    run = writeback.run_dag()

    assert run.state == "failed"  # never green while an edit silently failed
    [edit] = writeback.queue()
    assert edit["status"] == "failed" and edit["last_error_code"] == "UNEXPECTED_ERROR"
    assert "a bug, not Salesforce" in edit["last_error"]
    assert writeback.salesforce.admin.record(sf_id)["Title"] == "Buyer"
