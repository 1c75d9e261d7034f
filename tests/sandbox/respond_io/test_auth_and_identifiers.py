"""Bearer auth and identifier parsing over real HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.sandbox.respond_io.conftest import Api

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/contact/id:1"),
        ("POST", "/contact/list"),
        ("POST", "/contact/create_or_update/email:a@b.co"),
        ("GET", "/space/user?limit=1"),
        ("GET", "/space/custom_field"),
        ("GET", "/space/tag"),
    ],
)
@pytest.mark.parametrize("token", [None, "wrong-token", ""])
def test_missing_or_invalid_token_is_401(api: Api, method: str, path: str, token: str | None) -> None:
    response = api.call(method, path, {} if method == "POST" else None, token=token)

    assert response.status_code == 401
    assert response.json() == {"code": 401, "message": "UN_AUTHORIZED"}
    assert "X-RateLimit-Limit" in response.headers


def test_non_bearer_scheme_is_401(api: Api) -> None:
    response = api.session.get(
        api.base + "/space/user", headers={"Authorization": f"Token {api.standin.token}"}
    )
    assert response.status_code == 401


def test_credential_check(api: Api) -> None:
    response = api.call("GET", "/space/user?limit=1")

    assert response.status_code == 200
    body = response.json()
    assert len(body["items"]) == 1
    assert {"id", "firstName", "lastName", "email", "role"} <= set(body["items"][0])


def test_health_needs_no_auth(api: Api) -> None:
    assert api.session.get(api.standin.admin_url + "/health").status_code == 200


def test_plus_in_path_is_a_literal_plus(api: Api) -> None:
    api.standin.seed_contacts([{"firstName": "Plus", "email": "a+b@x.com", "phone": "+60121233112"}])

    by_email = api.call("GET", "/contact/email:a+b@x.com")
    by_phone = api.call("GET", "/contact/phone:+60121233112")

    assert by_email.status_code == 200 and by_email.json()["email"] == "a+b@x.com"
    assert by_phone.status_code == 200 and by_phone.json()["phone"] == "+60121233112"
    # "a b@x.com" (the form-decoded reading) must not be what the server looked up
    assert api.call("GET", "/contact/email:a%20b@x.com").status_code == 400


def test_percent_encoded_identifiers_are_accepted(api: Api) -> None:
    api.standin.seed_contacts([{"firstName": "Enc", "email": "a+b@x.com", "phone": "+60121233112"}])

    assert api.call("GET", "/contact/email:a%2Bb%40x.com").json()["email"] == "a+b@x.com"
    assert api.call("GET", "/contact/phone%3A%2B60121233112").json()["phone"] == "+60121233112"


def test_id_identifier(api: Api) -> None:
    (contact_id,) = api.standin.seed_contacts([{"firstName": "Id", "email": "id@x.com"}])

    response = api.call("GET", f"/contact/id:{contact_id}")

    assert response.status_code == 200
    assert response.json()["id"] == contact_id
    assert api.call("GET", f"/contact/id:{contact_id + 999}").json() == {
        "code": 404,
        "message": "Contact not found",
    }


def test_email_matching_is_case_insensitive_by_default(api: Api) -> None:
    api.standin.seed_contacts([{"firstName": "Case", "email": "jane@example.com"}])

    assert api.call("GET", "/contact/email:Jane@Example.COM").status_code == 200


@pytest.mark.parametrize(
    "identifier",
    [
        "jane@example.com",  # no type
        "mail:jane@example.com",  # unknown type
        "email:not-an-email",
        "email:jane@example",
        "phone:60121233112",  # no +
        "phone:+0121233112",  # leading zero after +
        "phone:+1234567890123456",  # 16 digits
        "phone: 60121233112",  # a form-decoded '+'
        "id:abc",
        "id:",
    ],
)
def test_invalid_identifier_is_400(api: Api, identifier: str) -> None:
    response = api.call("GET", f"/contact/{identifier}")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 400
    assert body["message"] == "Validation error."
