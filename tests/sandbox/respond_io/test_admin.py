"""Admin routes: seeding, listings, counters, reset (with and without restoring the start-up config)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.fixtures.respond_io_standin import RESPOND_IO_TEST_CREATE_DELAY, RESPOND_IO_TEST_RATE

if TYPE_CHECKING:
    from tests.sandbox.respond_io.conftest import Api

pytestmark = pytest.mark.integration


def test_seeded_contacts_are_immediately_visible_with_tags_and_fields(api: Api) -> None:
    ids = api.standin.seed_contacts(
        [{"firstName": "Wa", "phone": "+60121233112", "tags": ["whatsapp"], "custom_fields": {"source": "wa"},
          "created_at": 1700000000}]
    )  # fmt: skip

    contact = api.call("GET", "/contact/phone:+60121233112").json()

    assert contact["id"] == ids[0]
    assert contact["tags"] == ["whatsapp"]
    assert contact["custom_fields"] == [{"name": "source", "value": "wa"}]
    assert contact["created_at"] == 1700000000
    assert [f["slug"] for f in api.standin.custom_fields()] == ["source"]
    assert [t["name"] for t in api.standin.tags()] == ["whatsapp"]
    assert api.standin.contacts() == [contact]


def test_seeding_a_duplicate_fails(api: Api) -> None:
    api.standin.seed_contacts([{"firstName": "A", "email": "a@example.com"}])
    with pytest.raises(RuntimeError, match="409"):
        api.standin.seed_contacts([{"firstName": "B", "email": "A@example.com"}])


def test_counters_count_by_endpoint_and_status(api: Api) -> None:
    api.call("GET", "/space/user")
    api.call("GET", "/space/user", token=None)
    api.call("GET", "/contact/id:1")

    counters = api.standin.counters()

    assert counters["by_endpoint"] == {
        "GET /contact/{identifier}": {"404": 1},
        "GET /space/user": {"200": 1, "401": 1},
    }
    assert counters["by_status"] == {"200": 1, "401": 1, "404": 1}
    assert counters["total"] == 3


def test_reset_keeps_config_unless_asked(api: Api) -> None:
    api.standin.seed_contacts([{"firstName": "A", "email": "a@example.com"}])
    api.standin.set_rate_limit(default=7, endpoints={"GET /space/user": 2})
    api.standin.set_create_delay(3)
    api.standin.set_faults(latency_ms=1)
    api.call("GET", "/space/user")

    api.standin.reset()
    kept = api.standin.config()
    api.standin.reset(config=True)
    restored = api.standin.config()

    assert api.standin.contacts() == [] and api.standin.counters()["total"] == 0
    assert kept["rate_limit"] == {"default": 7.0, "endpoints": {"GET /space/user": 2.0}}
    assert (kept["create_delay"], kept["faults"]["latency_ms"]) == (3.0, 1.0)
    assert restored["rate_limit"] == {"default": RESPOND_IO_TEST_RATE, "endpoints": {}}
    assert restored["create_delay"] == RESPOND_IO_TEST_CREATE_DELAY
    assert restored["faults"]["latency_ms"] == 0.0


def test_ids_are_not_reused_after_reset(api: Api) -> None:
    (first,) = api.standin.seed_contacts([{"firstName": "A", "email": "a@example.com"}])
    api.standin.reset()
    (second,) = api.standin.seed_contacts([{"firstName": "A", "email": "a@example.com"}])

    assert second > first


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("rate_limit", {"default": 0}),
        ("faults", {"error_rate": 2}),
        ("faults/burst", {"status": 200}),
        ("create_delay", {"seconds": -1}),
    ],
)
def test_admin_rejects_bad_settings(api: Api, path: str, body: dict[str, object]) -> None:
    method = "POST" if path == "faults/burst" else "PUT"
    response = api.session.request(method, f"{api.standin.admin_url}/{path}", json=body)
    assert response.status_code == 400
