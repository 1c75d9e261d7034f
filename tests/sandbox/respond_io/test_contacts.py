"""Contact create / create_or_update / get / update / delete, the post-create window and validation."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.sandbox.respond_io.conftest import Api

pytestmark = pytest.mark.integration

CONTACT_KEYS = {
    "id", "firstName", "lastName", "phone", "email", "language", "profilePic", "countryCode", "status",
    "tags", "lifecycle", "assignee", "custom_fields", "created_at",
}  # fmt: skip


def _define_sf_field(api: Api) -> None:
    api.standin.define_custom_fields([{"name": "Salesforce Id", "slug": "sf_contact_id", "dataType": "text"}])


def test_create_returns_message_and_contact_appears_after_the_delay(api: Api) -> None:
    api.standin.set_create_delay(0.3)
    body = {
        "firstName": "Jane",
        "lastName": "Doe",
        "phone": "+60121233112",
        "language": "en",
        "countryCode": "MY",
    }

    created = api.call("POST", "/contact/email:jane@example.com", body)
    right_after = api.call("GET", "/contact/email:jane@example.com")
    contact = api.wait_ready("email:jane@example.com")

    assert created.status_code == 200
    assert created.json() == {"code": 200, "message": "Contact added successfully!"}
    assert right_after.status_code == 404
    assert right_after.json() == {"code": 404, "message": "Contact not found"}
    assert set(contact) == CONTACT_KEYS
    assert contact["email"] == "jane@example.com"
    assert contact["phone"] == "+60121233112"
    assert isinstance(contact["id"], int)
    assert isinstance(contact["created_at"], int) and abs(contact["created_at"] - time.time()) < 60


def test_create_rejects_id_identifier_and_duplicates(api: Api) -> None:
    api.standin.seed_contacts([{"firstName": "Old", "email": "dup@example.com"}])

    by_id = api.call("POST", "/contact/id:5", {"firstName": "X"})
    duplicate = api.call("POST", "/contact/email:DUP@example.com", {"firstName": "X"})

    assert by_id.status_code == 400 and by_id.json()["message"] == "Validation error."
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == 409
    assert len(api.standin.contacts()) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("firstName", None),  # required on create
        ("email", "nope"),
        ("phone", "0121233112"),
        ("phone", "+60 12-123 3112"),
        ("language", "english"),
        ("countryCode", "MYS"),
        ("custom_fields", "sf=1"),
    ],
)
def test_field_format_errors_are_400(api: Api, field: str, value: object) -> None:
    body = {"firstName": "Jane", field: value}

    response = api.call("POST", "/contact/create_or_update/email:jane@example.com", body)

    assert response.status_code == 400
    assert response.json()["code"] == 400
    assert response.json()["message"] == "Validation error."
    assert response.json()["errors"][0]["field"] == field
    assert api.standin.contacts() == []


def test_create_or_update_window_no_duplicate_then_visible(api: Api) -> None:
    api.standin.set_create_delay(0.8)
    identifier = "email:sam+sf@example.com"

    first = api.call("POST", f"/contact/create_or_update/{identifier}", {"firstName": "Sam"})
    get_early = api.call("GET", f"/contact/id:{first.json()['contactId']}")
    tag_early = api.call("POST", f"/contact/id:{first.json()['contactId']}/tag", ["x"])
    put_early = api.call("PUT", f"/contact/{identifier}", {"lastName": "Late"})
    second = api.call(
        "POST", f"/contact/create_or_update/{identifier}", {"firstName": "Sam", "lastName": "Smith"}
    )
    contact = api.wait_ready(identifier)

    assert first.status_code == 200 and set(first.json()) == {"contactId"}
    assert get_early.status_code == 404
    assert tag_early.status_code == 404
    assert put_early.status_code == 404
    assert second.json() == first.json()
    assert len(api.standin.contacts()) == 1
    assert contact["id"] == first.json()["contactId"]
    assert contact["lastName"] == "Smith"


def test_create_or_update_updates_an_existing_contact(api: Api) -> None:
    _define_sf_field(api)
    (contact_id,) = api.standin.seed_contacts(
        [{"firstName": "Ann", "lastName": "Lee", "email": "ann@example.com"}]
    )
    body = {"firstName": "Anna", "custom_fields": [{"name": "sf_contact_id", "value": "003xx000004TmiQAAS"}]}

    response = api.call("POST", "/contact/create_or_update/email:ANN@example.com", body)
    contact = api.call("GET", f"/contact/id:{contact_id}").json()

    assert response.json() == {"contactId": contact_id}
    assert contact["firstName"] == "Anna"
    assert contact["lastName"] == "Lee"  # omitted -> unchanged
    assert contact["custom_fields"] == [{"name": "sf_contact_id", "value": "003xx000004TmiQAAS"}]


def test_unknown_custom_field_is_400(api: Api) -> None:
    body = {"firstName": "A", "custom_fields": [{"name": "no_such_field", "value": "1"}]}

    response = api.call("POST", "/contact/create_or_update/email:a@example.com", body)

    assert response.status_code == 400
    assert response.json()["message"] == "Validation error."


def test_custom_field_values_are_checked_against_the_data_type(api: Api) -> None:
    api.standin.define_custom_fields([{"name": "Score", "slug": "score", "dataType": "number"}])
    (contact_id,) = api.standin.seed_contacts([{"firstName": "N", "email": "n@example.com"}])

    bad = api.call(
        "PUT", f"/contact/id:{contact_id}", {"custom_fields": [{"name": "score", "value": "high"}]}
    )
    good = api.call("PUT", f"/contact/id:{contact_id}", {"custom_fields": [{"name": "score", "value": 7}]})

    assert bad.status_code == 400
    assert good.json() == {"contactId": contact_id}
    assert api.standin.contact(contact_id)["custom_fields"] == [{"name": "score", "value": 7}]


def test_put_partial_update_and_clearing(api: Api) -> None:
    (contact_id,) = api.standin.seed_contacts(
        [{"firstName": "P", "lastName": "Q", "email": "p@example.com", "phone": "+15551234567"}]
    )

    response = api.call("PUT", "/contact/phone:+15551234567", {"lastName": "R", "email": None})
    contact = api.call("GET", f"/contact/id:{contact_id}").json()

    assert response.json() == {"contactId": contact_id}
    assert (contact["firstName"], contact["lastName"], contact["email"]) == ("P", "R", None)
    assert api.call("GET", "/contact/email:p@example.com").status_code == 404


def test_update_to_an_email_held_by_another_contact_is_409(api: Api) -> None:
    ids = api.standin.seed_contacts(
        [{"firstName": "A", "email": "a@example.com"}, {"firstName": "B", "email": "b@example.com"}]
    )

    response = api.call("PUT", f"/contact/id:{ids[1]}", {"email": "A@example.com"})

    assert response.status_code == 409


def test_delete(api: Api) -> None:
    (contact_id,) = api.standin.seed_contacts([{"firstName": "D", "email": "d@example.com"}])

    deleted = api.call("DELETE", "/contact/email:d@example.com")
    again = api.call("DELETE", f"/contact/id:{contact_id}")

    assert deleted.json() == {"contactId": contact_id}
    assert again.status_code == 404
    assert api.call("GET", "/contact/email:d@example.com").status_code == 404


def test_create_delay_is_configurable_at_run_time(api: Api) -> None:
    api.standin.set_create_delay(0)
    api.call("POST", "/contact/create_or_update/phone:+447700900123", {"firstName": "Now"})

    assert api.call("GET", "/contact/phone:+447700900123").status_code == 200


def test_pending_contacts_can_answer_449(api: Api) -> None:
    api.standin.set_create_delay(5)
    api.standin.set_faults(pending_449_rate=1.0)
    api.call("POST", "/contact/create_or_update/email:q@example.com", {"firstName": "Q"})

    response = api.call("GET", "/contact/email:q@example.com")

    assert response.status_code == 449
    assert response.json()["code"] == 449
    assert api.call("GET", "/contact/email:nobody@example.com").status_code == 404  # unknown stays 404


def test_bad_json_body_is_400(api: Api) -> None:
    response = api.session.post(
        api.base + "/contact/create_or_update/email:j@example.com",
        data=b"{not json",
        headers={"Authorization": f"Bearer {api.standin.token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["message"] == "Validation error."
