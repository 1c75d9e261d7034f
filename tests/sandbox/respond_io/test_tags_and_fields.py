"""Contact tags, workspace tags and custom-field definitions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.sandbox.respond_io.conftest import Api

pytestmark = pytest.mark.integration

SF_TAG = "Auto-create: Salesforce"


def test_add_and_remove_tags(api: Api) -> None:
    (contact_id,) = api.standin.seed_contacts([{"firstName": "T", "email": "t@example.com", "tags": ["old"]}])

    added = api.call("POST", f"/contact/id:{contact_id}/tag", [SF_TAG, "vip"])
    removed = api.call("DELETE", "/contact/email:t@example.com/tag", ["old", "never-there"])

    assert added.json() == {"contactId": contact_id}
    assert removed.json() == {"contactId": contact_id}
    assert api.call("GET", f"/contact/id:{contact_id}").json()["tags"] == [SF_TAG, "vip"]
    assert {t["name"] for t in api.standin.tags()} >= {SF_TAG, "vip", "old"}  # unknown tags auto-created


def test_adding_a_tag_twice_keeps_one(api: Api) -> None:
    (contact_id,) = api.standin.seed_contacts([{"firstName": "T", "email": "t@example.com"}])

    api.call("POST", f"/contact/id:{contact_id}/tag", [SF_TAG])
    api.call("POST", f"/contact/id:{contact_id}/tag", [SF_TAG, SF_TAG])

    assert api.standin.contact(contact_id)["tags"] == [SF_TAG]


@pytest.mark.parametrize(
    "body",
    [[], [f"t{i}" for i in range(11)], ["x" * 256], [""], "vip", {"tags": ["vip"]}, [1]],
)
def test_tag_body_validation(api: Api, body: object) -> None:
    (contact_id,) = api.standin.seed_contacts([{"firstName": "T", "email": "t@example.com"}])

    response = api.call("POST", f"/contact/id:{contact_id}/tag", body)

    assert response.status_code == 400
    assert response.json()["message"] == "Validation error."


def test_tags_on_unknown_contact_are_404(api: Api) -> None:
    assert api.call("POST", "/contact/email:ghost@example.com/tag", ["vip"]).status_code == 404


def test_workspace_tag_crud(api: Api) -> None:
    created = api.call(
        "POST", "/space/tag", {"name": SF_TAG, "description": "synced", "colorCode": "#00FF00"}
    )
    duplicate = api.call("POST", "/space/tag", {"name": SF_TAG})
    (contact_id,) = api.standin.seed_contacts(
        [{"firstName": "T", "email": "t@example.com", "tags": [SF_TAG]}]
    )
    renamed = api.call("PUT", "/space/tag", {"currentName": SF_TAG, "name": "SF"})
    listed = api.call("GET", "/space/tag").json()
    deleted = api.call("DELETE", "/space/tag", {"name": "SF"})
    missing = api.call("DELETE", "/space/tag", {"name": "SF"})

    assert created.status_code == 200
    tag = created.json()["message"]
    assert {"id", "name", "createdAt", "colorCode", "emoji", "description"} <= set(tag)
    assert (tag["name"], tag["colorCode"]) == (SF_TAG, "#00FF00")
    assert duplicate.status_code == 409
    assert renamed.json()["message"]["name"] == "SF"
    assert [t["name"] for t in listed["items"]] == ["SF"]
    assert deleted.status_code == 200
    assert missing.status_code == 404
    assert api.standin.contact(contact_id)["tags"] == []


def test_custom_field_create_get_and_list(api: Api) -> None:
    created = api.call(
        "POST",
        "/space/custom_field",
        {
            "name": "Salesforce Id",
            "slug": "sf_contact_id",
            "description": "SF 18-char id",
            "dataType": "text",
        },
    )
    field_id = created.json()["id"]
    fetched = api.call("GET", f"/space/custom_field/{field_id}")
    api.call("POST", "/space/custom_field", {"name": "Tier", "slug": "tier", "dataType": "list",
                                             "allowedValues": ["gold", "silver"]})  # fmt: skip
    page1 = api.call("GET", "/space/custom_field?limit=1").json()
    page2 = api.call("GET", "/space/custom_field?limit=1&cursorId=" + str(page1["items"][0]["id"])).json()

    assert created.status_code == 200
    assert fetched.json() == created.json()
    assert {"id", "name", "slug", "description", "dataType", "allowedValues", "created_at"} <= set(
        fetched.json()
    )
    assert [f["slug"] for f in page1["items"] + page2["items"]] == ["sf_contact_id", "tier"]
    assert "next" in page1["pagination"] and "next" not in page2["pagination"]
    assert page2["items"][0]["allowedValues"] == {"listValues": ["gold", "silver"]}
    assert api.call("GET", "/space/custom_field/999").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x" * 51, "slug": "ok", "dataType": "text"},
        {"name": "Ok", "slug": "has-dash", "dataType": "text"},
        {"name": "Ok", "slug": "s" * 51, "dataType": "text"},
        {"name": "Ok", "slug": "ok", "dataType": "string"},
        {"name": "Ok", "slug": "ok", "dataType": "text", "description": "d" * 256},
        {"slug": "ok", "dataType": "text"},
    ],
)
def test_custom_field_validation(api: Api, body: dict[str, object]) -> None:
    response = api.call("POST", "/space/custom_field", body)
    assert response.status_code == 400
    assert response.json()["message"] == "Validation error."


def test_duplicate_custom_field_slug_is_409(api: Api) -> None:
    body = {"name": "Salesforce Id", "slug": "sf_contact_id", "dataType": "text"}
    assert api.call("POST", "/space/custom_field", body).status_code == 200
    assert api.call("POST", "/space/custom_field", body).status_code == 409
