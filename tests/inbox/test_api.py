"""The lookup API over real HTTP (uvicorn) on SQLite and PostgreSQL: matching, status, auth, bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.inbox.conftest import INSTANCE_URL, JANE_ID, JOHN_ID, TOKEN, age_rows, seed_contacts, set_watermark

pytestmark = pytest.mark.integration


@pytest.fixture
def server(inbox, state_engine):
    seed_contacts(state_engine)
    set_watermark(state_engine, 30)
    age_rows(state_engine, 120)
    return inbox(state_engine)


FORMATTING_CASES = [
    ({"email": "Jane.Doe@Example.com"}, JANE_ID),
    ({"email": "  JANE.DOE@EXAMPLE.COM "}, JANE_ID),
    ({"phone": "(415) 555-0100"}, JANE_ID),
    ({"phone": "415 555 0100"}, JANE_ID),  # "12 3"-style spacing differs from the stored value
    ({"phone": "+1 415-555-0100"}, JANE_ID),
    ({"phone": "4155550100"}, JANE_ID),
    ({"phone": "020 7946 0958", "region": "GB"}, JOHN_ID),  # national format + the region asked
    ({"phone": "+44 20 79460958"}, JOHN_ID),
    ({"phone": "0044 (0)20 7946 0958"}, JOHN_ID),
]


def test_formatting_differences_still_match(server):
    for query, expected_id in FORMATTING_CASES:
        response = server.api(query)
        assert response.status_code == 200, (query, response.text)
        body = response.json()
        assert body["status"] == "matched", (query, body)
        assert [c["sf_id"] for c in body["contacts"]] == [expected_id], query


def test_matched_answer_has_fields_link_and_age(server):
    body = server.api({"phone": "415.555.0100"}).json()
    assert body["query"] == {
        "kind": "phone", "raw": "415.555.0100", "normalized": "+14155550100", "region": "US",
        "region_source": "default",
    }  # fmt: skip
    (contact,) = body["contacts"]
    assert list(contact["fields"]) == [
        "Email",
        "Phone",
        "FirstName",
        "LastName",
        "Title",
        "LeadSource",
        "MailingCountry",
    ]
    assert contact["fields"]["Title"] == "CTO"
    assert contact["fields"]["Email"] == "Jane.Doe@Example.com"
    assert contact["salesforce_url"] == f"{INSTANCE_URL}/lightning/r/Contact/{JANE_ID}/view"
    freshness = body["freshness"]
    assert freshness["basis"] == "watermark"
    assert 29 <= freshness["age_seconds"] < 60
    assert freshness["read_through"] == "not_needed"  # 30 s < TTL 60 s


def test_shared_email_is_ambiguous_with_all_candidates(server):
    body = server.api({"email": "info@shared.example"}).json()
    assert body["status"] == "ambiguous"
    assert sorted(c["sf_id"] for c in body["contacts"]) == ["0035g00000ShareAAA", "0035g00000ShareBAA"]


def test_unknown_value_is_not_found_with_the_watermark_age(server):
    response = server.api({"email": "nobody@example.org"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "not_found" and body["contacts"] == []
    assert body["freshness"]["basis"] == "watermark"


def test_values_that_cannot_be_normalised_are_invalid_input(server):
    cases = [
        ({"email": "jane.doe@"}, "EMAIL_"),
        ({"phone": "12"}, "PHONE_"),
        ({"phone": "0000000000"}, "PHONE_"),
    ]
    for query, reason in cases:
        response = server.api(query)
        assert response.status_code == 422, query
        body = response.json()
        assert body["status"] == "invalid_input" and body["error"] == "invalid_input"
        assert body["reason"].startswith(reason), body
        assert body["message"]


BAD_INPUT = [
    ("email=" + "a" * 400 + "@example.com", "email"),
    ("email=jane%00@example.com", "email"),
    ("phone=415%0A555%0D0100", "phone"),
    ("email=jane%40example.com&phone=4155550100", "email"),
    ("", "email"),
    ("phone=4155550100&region=XX1", "region"),
    ("phone=4155550100&region=ZZ", "region"),
    ("email=jane%40example.com&region=GB", "region"),
]


def test_bad_input_is_a_400_with_a_clear_json_message(server):
    for query, parameter in BAD_INPUT:
        response = server.api(query)
        assert response.status_code == 400, (query, response.text)
        body = response.json()
        assert body["error"] == "bad_request" and body["parameter"] == parameter and body["message"], query


SQL_VALUES = [
    "x' OR '1'='1",
    "'; DROP TABLE contacts_lookup; --",
    "jane@example.com' --",
    "1; DELETE FROM watermarks",
]


def test_sql_metacharacters_are_4xx_and_change_nothing(server):
    from contact_sync.state.schema import contacts_lookup

    for value in SQL_VALUES:
        for kind in ("email", "phone"):
            response = server.api({kind: value})
            assert 400 <= response.status_code < 500, (value, response.text)
            assert response.json()["status" if response.status_code == 422 else "error"]
    with server.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(contacts_lookup)).scalar_one() == 4


def test_api_needs_the_bearer_token(server):
    import httpx

    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {TOKEN}x"},
    ):
        response = httpx.get(
            f"{server.url}/api/v1/lookup", params={"email": "jane.doe@example.com"}, headers=headers
        )
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"] == "unauthorized"
        assert "Jane" not in response.text
    assert server.api({"email": "jane.doe@example.com"}).status_code == 200


def test_api_without_a_configured_token_refuses_everything(inbox, sqlite_engine):
    server = inbox(sqlite_engine, api_token=None)
    response = server.api({"email": "jane.doe@example.com"}, token="anything")
    assert response.status_code == 503
    assert response.json()["error"] == "not_configured"


def test_no_watermark_yet_uses_the_row_age_and_says_so(inbox, sqlite_engine):
    seed_contacts(sqlite_engine)
    age_rows(sqlite_engine, 45)
    body = inbox(sqlite_engine).api({"email": "jane.doe@example.com"}).json()
    assert body["freshness"]["basis"] == "row_refreshed_at"
    assert 44 <= body["freshness"]["age_seconds"] < 90
    assert "no refresh watermark yet" in body["freshness"]["message"]


def test_unknown_routes_and_methods_are_json_errors(server):
    import httpx

    assert httpx.get(f"{server.url}/nope").json()["error"] == "not_found"
    response = httpx.post(f"{server.url}/api/v1/lookup", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 405 and response.json()["error"] == "method_not_allowed"
