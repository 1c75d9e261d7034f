"""Fault injection: latency, error rate, bursts (before / after the handler, per endpoint)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.sandbox.respond_io.conftest import Api

pytestmark = pytest.mark.integration

UPSERT = "POST /contact/create_or_update/{identifier}"


def test_added_latency(api: Api) -> None:
    api.standin.set_faults(latency_ms=250)

    started = time.monotonic()
    response = api.call("GET", "/space/user")
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert elapsed >= 0.25


def test_error_rate_answers_5xx_without_running_the_handler(api: Api) -> None:
    api.standin.set_faults(error_rate=1.0, error_statuses=[503])

    response = api.call("POST", "/contact/create_or_update/email:e@example.com", {"firstName": "E"})

    assert response.status_code == 503
    assert response.json()["code"] == 503
    assert "X-RateLimit-Remaining" in response.headers
    assert api.standin.contacts() == []


def test_error_rate_mixes_statuses(api: Api) -> None:
    api.standin.set_faults(error_rate=0.5)

    statuses = {api.call("GET", "/space/user").status_code for _ in range(60)}

    assert 200 in statuses
    assert statuses - {200} <= {500, 502, 503}
    assert statuses - {200}


def test_burst_on_one_endpoint(api: Api) -> None:
    api.standin.add_burst(502, 2, endpoint=UPSERT)

    upserts = [
        api.call("POST", "/contact/create_or_update/email:b@example.com", {"firstName": "B"}).status_code
        for _ in range(3)
    ]
    other = api.call("GET", "/space/user")

    assert upserts == [502, 502, 200]
    assert other.status_code == 200
    assert api.standin.counters()["by_endpoint"][UPSERT] == {"200": 1, "502": 2}


@pytest.mark.parametrize("status", [429, 449, 500])
def test_burst_statuses(api: Api, status: int) -> None:
    api.standin.add_burst(status, 1)

    first, second = api.call("GET", "/space/user"), api.call("GET", "/space/user")

    assert first.status_code == status
    assert first.json()["code"] == status
    if status in (429, 449):
        assert int(first.headers["Retry-After"]) >= 1
    assert second.status_code == 200


def test_after_phase_burst_applies_the_write_but_loses_the_response(api: Api) -> None:
    api.standin.set_create_delay(0)
    api.standin.add_burst(502, 1, endpoint=UPSERT, phase="after")

    lost = api.call("POST", "/contact/create_or_update/email:l@example.com", {"firstName": "L"})
    retry = api.call("POST", "/contact/create_or_update/email:l@example.com", {"firstName": "L"})

    assert lost.status_code == 502
    assert retry.status_code == 200
    assert [c["id"] for c in api.standin.contacts()] == [retry.json()["contactId"]]


def test_clear_faults(api: Api) -> None:
    api.standin.set_faults(error_rate=1.0)
    api.standin.add_burst(503, 5)

    api.standin.clear_faults()

    assert api.call("GET", "/space/user").status_code == 200
    assert api.standin.set_faults() == {
        "latency_ms": 0.0, "error_rate": 0.0, "error_statuses": [500, 502, 503], "pending_449_rate": 0.0,
        "bursts": [],
    }  # fmt: skip
