"""Unit tests of the shared rate-limit key function (no server)."""

from __future__ import annotations

import pytest

from sandbox.respond_io.endpoints import endpoint_key


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("post", "/contact/create_or_update/email:a+b@x.com", "POST /contact/create_or_update/{identifier}"),
        ("POST", "https://api.respond.io/v2/contact/create_or_update/phone:+6012", "POST /contact/create_or_update/{identifier}"),  # noqa: E501
        ("POST", "/v2/contact/id:12/tag", "POST /contact/{identifier}/tag"),
        ("DELETE", "/contact/id:12/tag", "DELETE /contact/{identifier}/tag"),
        ("GET", "/contact/email:jane@example.com", "GET /contact/{identifier}"),
        ("PUT", "/v2/contact/id:1", "PUT /contact/{identifier}"),
        ("POST", "/contact/list?limit=100&cursorId=5", "POST /contact/list"),
        ("POST", "http://127.0.0.1:9/v2/contact/list?limit=1", "POST /contact/list"),
        ("POST", "/contact/merge", "POST /contact/merge"),
        ("GET", "/space/custom_field/17", "GET /space/custom_field/{id}"),
        ("GET", "/space/custom_field?limit=2", "GET /space/custom_field"),
        ("GET", "/v2/space/user?limit=1", "GET /space/user"),
        ("POST", "/space/tag", "POST /space/tag"),
    ],
)  # fmt: skip
def test_endpoint_key(method: str, path: str, expected: str) -> None:
    assert endpoint_key(method, path) == expected


def test_identifiers_share_one_key() -> None:
    keys = {
        endpoint_key("GET", f"/contact/{i}") for i in ("id:1", "id:2", "email:a@b.co", "phone:+15551234567")
    }
    assert keys == {"GET /contact/{identifier}"}
