"""Per-endpoint token buckets observed from a client: headers, 429 + Retry-After, separate buckets."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.sandbox.respond_io.conftest import Api

pytestmark = pytest.mark.integration


def test_remaining_decreases_then_429_with_retry_after(api: Api) -> None:
    api.standin.set_rate_limit(default=3)

    responses = [api.call("GET", "/space/user?limit=1") for _ in range(4)]

    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["X-RateLimit-Limit"] for r in responses] == ["3"] * 4
    assert [int(r.headers["X-RateLimit-Remaining"]) for r in responses] == [2, 1, 0, 0]
    limited = responses[-1]
    assert limited.json() == {"code": 429, "message": "Too many requests"}
    assert int(limited.headers["Retry-After"]) >= 1
    assert "Retry-After" not in responses[0].headers


def test_bucket_refills_over_time(api: Api) -> None:
    api.standin.set_rate_limit(default=5)
    while api.call("GET", "/space/user").status_code != 429:
        pass

    time.sleep(0.25)  # 5/s -> one token after 0.2 s

    assert api.call("GET", "/space/user").status_code == 200


def test_endpoints_have_separate_buckets_and_identifiers_share_one(api: Api) -> None:
    ids = api.standin.seed_contacts([{"firstName": "A", "email": "a@example.com"}])
    api.standin.set_rate_limit(default=2)

    get_by_id = api.call("GET", f"/contact/id:{ids[0]}")
    get_by_email = api.call("GET", "/contact/email:a@example.com")
    get_third = api.call("GET", "/contact/phone:+15551234567")  # same endpoint, other identifier
    tag = api.call("POST", f"/contact/id:{ids[0]}/tag", ["vip"])
    listing = api.call("POST", "/contact/list", {})

    assert [get_by_id.status_code, get_by_email.status_code, get_third.status_code] == [200, 200, 429]
    assert tag.status_code == 200
    assert listing.status_code == 200
    counters = api.standin.counters()["by_endpoint"]
    assert counters["GET /contact/{identifier}"] == {"200": 2, "429": 1}
    assert counters["POST /contact/{identifier}/tag"] == {"200": 1}


def test_per_endpoint_override(api: Api) -> None:
    api.standin.set_rate_limit(default=50, endpoints={"POST /contact/list": 1})

    first, second = api.call("POST", "/contact/list", {}), api.call("POST", "/contact/list", {})
    others = [api.call("GET", "/space/tag").status_code for _ in range(5)]

    assert (first.status_code, second.status_code) == (200, 429)
    assert first.headers["X-RateLimit-Limit"] == "1"
    assert others == [200] * 5
    assert api.standin.set_rate_limit(endpoints={"POST /contact/list": None})["endpoints"] == {}


def test_every_api_response_has_rate_headers(api: Api) -> None:
    responses = [
        api.call("GET", "/contact/id:1"),  # 404
        api.call("GET", "/contact/bogus"),  # 400
        api.call("GET", "/space/user", token=None),  # 401
        api.call("POST", "/contact/list", {}),  # 200
    ]
    for response in responses:
        assert "X-RateLimit-Limit" in response.headers, response.status_code
        assert "X-RateLimit-Remaining" in response.headers, response.status_code


def test_admin_routes_are_not_rate_limited(api: Api) -> None:
    api.standin.set_rate_limit(default=1)
    for _ in range(5):
        api.standin.counters()
    assert api.standin.counters()["total"] == 0
