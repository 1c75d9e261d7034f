"""Real, unmodified clients against the stand-in: simple-salesforce and the Airflow provider's SalesforceHook."""

from __future__ import annotations

import csv
import io
import json
from unittest import mock

import pytest
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceMalformedRequest

from sandbox.salesforce.client import fetch_token, trusted_session
from tests.sandbox.salesforce.helpers import contacts

pytestmark = pytest.mark.integration


def test_simple_salesforce_query_paging_and_iter(salesforce):
    ids = salesforce.load_contacts(contacts(5200))
    sf = salesforce.simple_salesforce()
    result = sf.query_all("SELECT Id, Email, CreatedDate FROM Contact ORDER BY CreatedDate, Id")
    assert result["totalSize"] == 5200 and result["done"] is True
    assert [r["Id"] for r in result["records"]] == ids
    streamed = list(sf.query_all_iter("SELECT Id FROM Contact WHERE Email LIKE 'c%'"))
    assert len(streamed) == len({r["Id"] for r in streamed}) == 5200
    assert salesforce.counters()["calls"]["query_more"] == 4  # two follow-up pages per 5,200-row query
    assert sf.query("SELECT COUNT() FROM Contact WHERE Email LIKE 'c1%'")["totalSize"] == 1 + 10 + 100 + 1000
    assert sf.api_usage["api-usage"].used == salesforce.counters()["api_usage"]


def test_simple_salesforce_describe_update_get_and_errors(salesforce):
    (cid,) = salesforce.load_contacts(contacts(1))
    sf = salesforce.simple_salesforce()
    describe = sf.Contact.describe()
    fields = {f["name"]: f for f in describe["fields"]}
    assert describe["keyPrefix"] == "003"
    assert (
        fields["MailingAddress"]["type"] == "address"
        and fields["MailingCity"]["compoundFieldName"] == "MailingAddress"
    )
    assert (
        fields["Email"]["type"] == "email"
        and fields["Email"]["length"] == 80
        and fields["Email"]["updateable"]
    )
    assert fields["CreatedDate"]["soapType"] == "xsd:dateTime" and not fields["CreatedDate"]["updateable"]
    assert "Web" in [p["value"] for p in fields["LeadSource"]["picklistValues"]]
    assert {s["name"] for s in sf.describe()["sobjects"]} >= {"Contact", "Lead", "Account"}
    assert sf.Contact.update(cid, {"MobilePhone": "+60121233112"}) == 204
    assert sf.Contact.get(cid)["MobilePhone"] == "+60121233112"
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Contact.update(cid, {"Email": "broken"})
    assert info.value.content[0]["errorCode"] == "INVALID_EMAIL_ADDRESS"


def test_simple_salesforce_composite_update_via_restful(salesforce):
    first, second = salesforce.load_contacts(contacts(2))
    sf = salesforce.simple_salesforce()
    body = {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Contact"}, "id": first, "Email": "one@example.com"},
            {"attributes": {"type": "Contact"}, "id": second, "Email": "bad email"},
        ],
    }
    results = sf.restful("composite/sobjects", method="PATCH", data=json.dumps(body))
    assert results[0] == {"id": first, "success": True, "errors": []}
    assert results[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert salesforce.record(first)["Email"] == "one@example.com"


def test_simple_salesforce_bulk2_query(salesforce):
    ids = salesforce.load_contacts(contacts(1200))
    sf = salesforce.simple_salesforce()
    pages = list(
        sf.bulk2.Contact.query("SELECT Id, Email, CreatedDate FROM Contact", max_records=500, wait=0.05)
    )
    rows = [row for page in pages for row in csv.DictReader(io.StringIO(page))]
    assert len(pages) == 3 and [r["Id"] for r in rows] == ids
    assert rows[0]["CreatedDate"] == "2026-10-01T00:00:00.000Z"


def test_simple_salesforce_expired_session(salesforce):
    sf = salesforce.simple_salesforce()
    salesforce.expire_sessions()
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Contact")


@pytest.fixture
def hook(salesforce):
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook

    conn = json.dumps(
        {"conn_type": "salesforce", "extra": {"instance_url": salesforce.url, "version": "62.0"}}
    )
    token = fetch_token(salesforce.url, salesforce.ca_file, salesforce.client_id, salesforce.client_secret)
    with mock.patch.dict("os.environ", AIRFLOW_CONN_SALESFORCE_TEST=conn):
        yield SalesforceHook(
            salesforce_conn_id="salesforce_test",
            session_id=token["access_token"],
            session=trusted_session(salesforce.ca_file),
        )


def test_airflow_hook_query_describe_and_update(salesforce, hook):
    ids = salesforce.load_contacts(contacts(5001))
    salesforce.delete(ids[-1])
    result = hook.make_query("SELECT Id, Email FROM Contact")
    assert result["totalSize"] == 5000 and len(result["records"]) == 5000
    with_deleted = hook.make_query("SELECT Id FROM Contact WHERE IsDeleted = true", include_deleted=True)
    assert [r["Id"] for r in with_deleted["records"]] == [ids[-1]]
    assert "MailingAddress" in hook.get_available_fields("Contact")
    assert hook.describe_object("Lead")["keyPrefix"] == "00Q"
    ok, message = hook.test_connection()
    assert ok, message
    conn = hook.get_conn()
    assert conn.Contact.update(ids[0], {"Title": "Head of Ops"}) == 204
    assert salesforce.record(ids[0])["Title"] == "Head of Ops"


def test_airflow_hook_api_limit(salesforce, hook):
    salesforce.set_api_usage(used=100, limit=100)
    from simple_salesforce.exceptions import SalesforceRefusedRequest

    with pytest.raises(SalesforceRefusedRequest) as info:
        hook.make_query("SELECT Id FROM Contact")
    assert info.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def test_simple_salesforce_deleted_and_updated(salesforce):
    import datetime as dt

    master, loser = salesforce.load_contacts(contacts(2))
    salesforce.merge(master, loser)
    sf = salesforce.simple_salesforce()
    now = dt.datetime.now(dt.UTC)
    window = (now - dt.timedelta(minutes=2), now + dt.timedelta(minutes=2))
    deleted = sf.Contact.deleted(*window)  # pre-encoded %3A / %2B parameters
    assert [d["id"] for d in deleted["deletedRecords"]] == [loser]
    assert sf.Contact.updated(*window)["ids"] == [master]
