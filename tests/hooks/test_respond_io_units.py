"""Unit tests of the respond.io client's pure parts: classifier, paginator, identifiers, limiter, keys."""

from __future__ import annotations

import json
import re

import pytest
import requests
from airflow.sdk import Connection
from hooks.respond_io import BearerAuth, settings_from_connection
from hooks.respond_io_errors import (
    RespondIoAuthError,
    RespondIoNotFound,
    RespondIoNotReady,
    RespondIoPaginationError,
    RespondIoPermanentError,
    RespondIoRateLimited,
    RespondIoRetryableError,
    classify_exception,
    classify_response,
)
from hooks.respond_io_identifiers import contact_identifier, parse_identifier
from hooks.respond_io_limits import InProcessRateLimiter, endpoint_key, parse_rate_headers
from hooks.respond_io_pagination import CursorPaginator
from starlette.routing import Route


def _response(status: int, body: object = None, headers: dict[str, str] | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode() if body is not None else b""
    response.headers.update(headers or {})
    return response


# -- classifier -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "recent", "expected"),
    [
        (200, False, None),
        (429, False, RespondIoRateLimited),
        (449, False, RespondIoRetryableError),
        (500, False, RespondIoRetryableError),
        (502, False, RespondIoRetryableError),
        (503, False, RespondIoRetryableError),
        (504, False, RespondIoRetryableError),
        (404, True, RespondIoNotReady),
        (404, False, RespondIoNotFound),
        (400, False, RespondIoPermanentError),
        (409, False, RespondIoPermanentError),
        (401, False, RespondIoAuthError),
        (403, False, RespondIoAuthError),
    ],
)
def test_classify_response(status, recent, expected):
    error = classify_response(
        _response(status, {"code": status, "message": "m"}, {"Retry-After": "3"}),
        endpoint="GET /x",
        recently_created=recent,
    )
    if expected is None:
        assert error is None
    else:
        assert type(error) is expected
        retryable = (RespondIoRateLimited, RespondIoRetryableError, RespondIoNotReady)
        assert error.retryable is (expected in retryable)
        assert error.status == status


def test_classify_429_carries_retry_after_and_400_the_field_errors():
    limited = classify_response(_response(429, {"code": 429, "message": "Too many"}, {"Retry-After": "2"}))
    invalid = classify_response(
        _response(
            400,
            {"code": 400, "message": "Validation error.", "errors": [{"field": "phone", "message": "bad"}]},
        )  # fmt: skip
    )
    garbage = classify_response(_response(502, None))
    assert isinstance(limited, RespondIoRateLimited) and limited.retry_after == 2.0
    assert invalid.message == "Validation error. (phone: bad)"
    assert garbage.retryable


def test_classify_transport_errors_without_the_url():
    timeout = classify_exception(requests.ReadTimeout("HTTPConnectionPool(host=x): /v2/contact/email:a@b.c"))
    other = classify_exception(requests.exceptions.InvalidURL("bad"))
    assert timeout.retryable and timeout.status is None and "email" not in str(timeout)
    assert not other.retryable


def test_parse_rate_headers():
    headers = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "Retry-After": "1"}
    assert parse_rate_headers(headers) == (5, 0, 1.0)
    assert parse_rate_headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == (None, None, None)


# -- pagination -------------------------------------------------------------------------------------
def _page(next_cursor: str | None) -> dict:
    link = f"https://api.respond.io/contact/list?limit=2&cursorId={next_cursor}" if next_cursor else None
    return {"items": [], "pagination": {"next": link} if link else {}}


def test_paginator_follows_cursor_until_no_next():
    paginator = CursorPaginator()
    assert paginator.get_next(_page("10")) == "10" and paginator.has_more
    assert paginator.get_next(_page("20")) == "20"
    assert paginator.get_next(_page(None)) is None and not paginator.has_more


def test_paginator_refuses_a_repeated_cursor():
    paginator = CursorPaginator("POST /contact/list")
    paginator.get_next(_page("10"))
    with pytest.raises(RespondIoPaginationError, match="repeated"):
        paginator.get_next(_page("10"))


def test_paginator_rejects_next_without_cursor():
    with pytest.raises(RespondIoPaginationError):
        CursorPaginator().get_next({"items": [], "pagination": {"next": "https://x/contact/list"}})


# -- identifiers ------------------------------------------------------------------------------------
def test_identifiers_are_normalised_and_validated():
    assert str(contact_identifier("email", " A+b@X.com ")) == "email:a+b@x.com"
    assert contact_identifier("email", "a+b@x.com").path_segment() == "email:a+b@x.com"
    assert contact_identifier("email", "a#b@x.com").path_segment() == "email:a%23b@x.com"
    assert str(contact_identifier("phone", "+1 (415) 555-0100")) == "phone:+14155550100"
    assert str(contact_identifier("id", 42)) == "id:42"
    assert parse_identifier("EMAIL:a@x.com") == contact_identifier("email", "a@x.com")
    for kind, value in [("phone", "0415 555 0100"), ("email", "not-an-email"), ("id", "0"), ("id", "x")]:
        with pytest.raises(ValueError, match=kind):
            contact_identifier(kind, value)


# -- limiter ----------------------------------------------------------------------------------------
class _FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.sends: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_limiter_spaces_requests_at_the_rate_per_endpoint():
    fake = _FakeTime()
    limiter = InProcessRateLimiter(10, {"POST /contact/list": 2}, clock=fake.clock, sleep=fake.sleep)
    for _ in range(21):
        limiter.acquire("GET /contact/{identifier}")
    assert fake.now == pytest.approx(102.0)  # 21 requests at 10/s: the first at once, then every 0.1 s
    start = fake.now
    for _ in range(3):
        limiter.acquire("POST /contact/list")
    assert fake.now - start == pytest.approx(1.0)  # its own 2/s bucket


def test_limiter_burst_lets_an_idle_endpoint_send_at_once():
    fake = _FakeTime()
    limiter = InProcessRateLimiter(10, burst=5, clock=fake.clock, sleep=fake.sleep)
    for _ in range(5):
        limiter.acquire("k")
    assert fake.now == 100.0
    limiter.acquire("k")
    assert fake.now == pytest.approx(100.1)


def test_limiter_observe_pauses_and_lowers_the_rate():
    fake = _FakeTime()
    limiter = InProcessRateLimiter(100, clock=fake.clock, sleep=fake.sleep)
    limiter.observe("k", retry_after=3)
    limiter.acquire("k")
    assert fake.now == pytest.approx(103.0)
    limiter.observe("k", limit=4, remaining=0)
    assert limiter.rate("k") == 4
    before = fake.now
    limiter.acquire("k")
    assert fake.now - before >= 0.25  # paused one interval of the server's rate
    limiter.observe("k", limit=1000)
    assert limiter.rate("k") == 4  # never raised above what it was


# -- endpoint keys: the client's own function agrees with the stand-in's on every stand-in route ------------
_SAMPLES = {"identifier": ["email:a+b@x.com", "phone:+60121233112", "id:7"], "field_id": ["12"]}


def _concrete_paths(template: str) -> list[str]:
    params = re.findall(r"{(\w+)}", template)
    paths = [template]
    for name in params:
        paths = [p.replace("{" + name + "}", value) for p in paths for value in _SAMPLES.get(name, ["1"])]
    return paths


def test_endpoint_key_agrees_with_the_standin_on_all_endpoints():
    from sandbox.respond_io.api import router
    from sandbox.respond_io.endpoints import endpoint_key as standin_key

    checked = 0
    for route in router.routes:
        assert isinstance(route, Route)
        for method in route.methods or ():
            for path in _concrete_paths(route.path):
                for form in (path, "/v2" + path, "http://127.0.0.1:1/v2" + path + "?limit=1&cursorId=2"):
                    assert endpoint_key(method, form) == standin_key(method, form), (method, form)
                    checked += 1
    assert checked > 50


# -- settings ---------------------------------------------------------------------------------------
def test_settings_from_connection_reads_extras_and_defaults():
    conn = Connection(conn_id="x", conn_type="http", host="api.respond.io/v2", password="t",
                      extra=json.dumps({"rate_limit_per_second": "", "rate_limits": {"GET /space/user": 1},
                                        "max_retries": 2, "verify": "false"}))  # fmt: skip
    settings = settings_from_connection(conn)
    default = settings_from_connection(Connection(conn_id="y", conn_type="http", password="t"))
    assert settings.base_url == "https://api.respond.io/v2"
    assert settings.rate_limit_per_second == 5.0  # "" reads as unset
    assert settings.rate_limits == {"GET /space/user": 1.0}
    assert (settings.max_retries, settings.verify) == (2, False)
    assert default.base_url == "https://api.respond.io/v2" and default.max_in_flight == 16


def test_bearer_auth_sets_the_header_and_hides_the_token():
    request = BearerAuth("s3cret")(requests.Request("GET", "http://x/").prepare())
    assert request.headers["Authorization"] == "Bearer s3cret"
    assert "s3cret" not in repr(BearerAuth("s3cret"))
