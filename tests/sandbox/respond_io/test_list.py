"""``POST /contact/list``: cursor pagination, filters and search."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

if TYPE_CHECKING:
    from tests.sandbox.respond_io.conftest import Api

pytestmark = pytest.mark.integration

SF_TAG = "Auto-create: Salesforce"


def _tag_filter(*tags: str) -> dict[str, Any]:
    return {"$and": [{"category": "contactTag", "field": None, "operator": "hasAnyOf", "value": list(tags)}]}


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


@pytest.fixture
def people(api: Api) -> list[int]:
    api.standin.define_custom_fields([{"name": "Salesforce Id", "slug": "sf_contact_id", "dataType": "text"}])
    return api.standin.seed_contacts(
        [
            {"firstName": "Ann", "lastName": "Lee", "email": "ann@example.com", "tags": [SF_TAG],
             "custom_fields": {"sf_contact_id": "003A"}},
            {"firstName": "Bob", "lastName": "Stone", "phone": "+60121233112", "tags": [SF_TAG, "vip"],
             "custom_fields": {"sf_contact_id": "003B"}},
            {"firstName": "Cid", "lastName": "Lee", "email": "cid@example.com", "tags": ["whatsapp"]},
            {"firstName": "Dee", "email": "Dee@Example.com"},
        ]
    )  # fmt: skip


def test_pagination_walks_all_pages_with_next_only_when_more(api: Api) -> None:
    ids = api.standin.seed_contacts([{"firstName": f"P{i}", "email": f"p{i}@example.com"} for i in range(7)])
    seen: list[int] = []
    pages = 0
    cursor: str | None = None

    while True:
        query = "?limit=3" + (f"&cursorId={cursor}" if cursor else "")
        body = api.call("POST", "/contact/list" + query, {"search": "", "filter": {"$or": []}}).json()
        pages += 1
        seen += [item["id"] for item in body["items"]]
        next_url = body["pagination"].get("next")
        if not next_url:
            break
        cursor = parse_qs(urlsplit(next_url).query)["cursorId"][0]
        assert parse_qs(urlsplit(next_url).query)["limit"] == ["3"]

    assert seen == ids
    assert pages == 3


def test_exact_multiple_of_limit_has_no_empty_last_page(api: Api) -> None:
    api.standin.seed_contacts([{"firstName": f"P{i}", "email": f"p{i}@example.com"} for i in range(4)])

    first = api.call("POST", "/contact/list?limit=2", {}).json()
    cursor = parse_qs(urlsplit(first["pagination"]["next"]).query)["cursorId"][0]
    second = api.call("POST", f"/contact/list?limit=2&cursorId={cursor}", {}).json()

    assert len(second["items"]) == 2
    assert "next" not in second["pagination"]
    assert second["pagination"]["previous"]


def test_default_limit_is_10(api: Api) -> None:
    api.standin.seed_contacts([{"firstName": f"P{i}", "email": f"p{i}@example.com"} for i in range(12)])

    body = api.call("POST", "/contact/list", {}).json()

    assert len(body["items"]) == 10
    assert body["pagination"]["next"]


@pytest.mark.parametrize("query", ["?limit=0", "?limit=101", "?limit=abc", "?cursorId=x"])
def test_bad_paging_parameters_are_400(api: Api, query: str) -> None:
    response = api.call("POST", "/contact/list" + query, {})
    assert response.status_code == 400
    assert response.json()["message"] == "Validation error."


def test_tag_filter_has_any_of(api: Api, people: list[int]) -> None:
    assert _ids(api.call("POST", "/contact/list?limit=100", {"filter": _tag_filter(SF_TAG)})) == people[:2]
    assert _ids(api.call("POST", "/contact/list", {"filter": _tag_filter("vip", "whatsapp")})) == people[1:3]


def test_tag_filter_all_and_none(api: Api, people: list[int]) -> None:
    has_all = {"$and": [{"category": "contactTag", "operator": "hasAllOf", "value": [SF_TAG, "vip"]}]}
    has_none = {"$and": [{"category": "contactTag", "operator": "hasNoneOf", "value": [SF_TAG]}]}

    assert _ids(api.call("POST", "/contact/list", {"filter": has_all})) == [people[1]]
    assert _ids(api.call("POST", "/contact/list", {"filter": has_none})) == people[2:]


@pytest.mark.parametrize(
    ("field", "value", "expected_index"),
    [
        ("email", "ann@example.com", 0),
        ("email", "dee@example.com", 3),  # case-insensitive by default
        ("phone", "+60121233112", 1),
        ("sf_contact_id", "003B", 1),
        ("firstName", "Cid", 2),
    ],
)
def test_contact_field_is_equal_to(
    api: Api, people: list[int], field: str, value: str, expected_index: int
) -> None:
    flt = {"$and": [{"category": "contactField", "field": field, "operator": "isEqualTo", "value": value}]}

    assert _ids(api.call("POST", "/contact/list", {"filter": flt})) == [people[expected_index]]


def test_or_and_nested_groups(api: Api, people: list[int]) -> None:
    either = {
        "$or": [
            {
                "category": "contactField",
                "field": "email",
                "operator": "isEqualTo",
                "value": "ann@example.com",
            },
            {"category": "contactField", "field": "phone", "operator": "isEqualTo", "value": "+60121233112"},
        ]
    }
    last_name_lee = {"category": "contactField", "field": "lastName", "operator": "isEqualTo", "value": "Lee"}
    tagged_whatsapp = {"category": "contactTag", "operator": "hasAnyOf", "value": ["whatsapp"]}
    nested = {"$and": [last_name_lee, {"$or": [tagged_whatsapp]}]}

    assert _ids(api.call("POST", "/contact/list", {"filter": either})) == people[:2]
    assert _ids(api.call("POST", "/contact/list", {"filter": nested})) == [people[2]]


def test_exists_and_does_not_exist(api: Api, people: list[int]) -> None:
    exists = {
        "$and": [{"category": "contactField", "field": "sf_contact_id", "operator": "exists", "value": None}]
    }
    missing = {
        "$and": [{"category": "contactField", "field": "email", "operator": "doesNotExist", "value": None}]
    }

    assert _ids(api.call("POST", "/contact/list", {"filter": exists})) == people[:2]
    assert _ids(api.call("POST", "/contact/list", {"filter": missing})) == [people[1]]


def test_search(api: Api, people: list[int]) -> None:
    assert _ids(api.call("POST", "/contact/list", {"search": "lee"})) == [people[0], people[2]]
    assert _ids(api.call("POST", "/contact/list", {"search": "ann lee"})) == [people[0]]
    assert _ids(api.call("POST", "/contact/list", {"search": "6012123"})) == [people[1]]
    assert _ids(api.call("POST", "/contact/list", {"search": "", "filter": {"$or": []}})) == people


@pytest.mark.parametrize(
    "flt",
    [
        {"$and": [{"category": "nope", "operator": "isEqualTo", "value": "x"}]},
        {"$and": [{"category": "contactField", "field": "email", "operator": "isLike", "value": "x"}]},
        {"$and": [{"category": "contactField", "operator": "isEqualTo", "value": "x"}]},
        {"$and": "not-a-list"},
        {"$xor": []},
    ],
)
def test_malformed_filters_are_400(api: Api, flt: dict[str, Any]) -> None:
    response = api.call("POST", "/contact/list", {"filter": flt})
    assert response.status_code == 400
    assert response.json()["message"] == "Validation error."


def test_contacts_in_their_create_window_are_not_listed(api: Api) -> None:
    api.standin.set_create_delay(5)
    api.call("POST", "/contact/create_or_update/email:new@example.com", {"firstName": "New"})

    assert api.call("POST", "/contact/list", {}).json()["items"] == []
    assert len(api.standin.contacts()) == 1
