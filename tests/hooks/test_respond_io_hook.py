"""RespondIoHook against the running respond.io stand-in: calls, retries, classification, secrets."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest
from hooks.respond_io import RespondIoHook, contact_identifier
from hooks.respond_io_errors import RespondIoAuthError

from tests.hooks.respond_io_support import respond_io_hook

if TYPE_CHECKING:
    import requests

pytestmark = pytest.mark.integration

CREATE = "POST /contact/create_or_update/{identifier}"
GET = "GET /contact/{identifier}"
TAG = "POST /contact/{identifier}/tag"
TAG_NAME = "Auto-create: Salesforce"
OUR_EXTRAS = ("rate_limit_per_second", "rate_limits", "max_retries", "timeout", "max_in_flight",
              "post_create_delay", "trust_env", "retry_initial_wait")  # fmt: skip


def _statuses(respond_io, key: str) -> dict[str, int]:
    return respond_io.counters()["by_endpoint"].get(key, {})


def _emails(respond_io) -> list[str]:
    return [c["email"] for c in respond_io.contacts()]


def test_create_tag_get_round_trip(respond_io):
    # arrange
    email = contact_identifier("email", "Jane.Doe+sf@Example.com")
    with respond_io_hook(respond_io) as hook:
        # act
        missing = hook.get_contact(email)
        created = hook.create_or_update(email, {"firstName": "Jane", "phone": "+60121233112"})
        contact_id = contact_identifier("id", created.contact_id)
        tagged = hook.add_tags(contact_id, ["Auto-create: Salesforce", "vip"])
        untagged = hook.remove_tags(contact_id, ["vip"])
        by_phone = hook.get_contact(contact_identifier("phone", "+60 12-123 3112"))
        updated = hook.update_contact(email, {"lastName": "Doe"})
    # assert
    assert missing.ok is False and missing.not_found and missing.status == 404
    assert created.ok and created.contact_id is not None and created.attempts == 1
    assert tagged.ok and tagged.contact_id == created.contact_id
    assert untagged.ok
    assert updated.ok and updated.contact_id == created.contact_id
    assert by_phone.ok and by_phone.contact_id == created.contact_id
    contact = respond_io.contact(created.contact_id)
    assert contact["email"] == "jane.doe+sf@example.com"  # the "+" travelled as a literal plus
    assert contact["tags"] == ["Auto-create: Salesforce"]
    assert contact["lastName"] == "Doe"


def test_429_storm_ends_in_success_without_duplicate(respond_io):
    # arrange: two forced 429s (Retry-After: 1) on create
    respond_io.add_burst(429, 2, endpoint=CREATE)
    email = contact_identifier("email", "storm@example.com")
    with respond_io_hook(respond_io, max_retries=4) as hook:
        # act
        result = hook.create_or_update(email, {"firstName": "Storm"})
    # assert
    assert result.ok and result.attempts == 3
    assert _statuses(respond_io, CREATE) == {"429": 2, "200": 1}
    assert _emails(respond_io) == ["storm@example.com"]


class _PermissiveLimiter:
    """A limiter that never waits and ignores corrections, so the server's 429s reach the retry loop."""

    def __init__(self) -> None:
        self.observed: list[tuple[str, float | None]] = []

    def acquire(self, endpoint_key: str) -> None:
        return None

    def observe(self, endpoint_key, *, limit=None, remaining=None, retry_after=None) -> None:
        self.observed.append((endpoint_key, retry_after))


def test_real_429s_are_retried_after_retry_after(respond_io):
    # arrange: the server allows 2/s on lookups; the client's limiter lets everything through
    respond_io.set_rate_limit(endpoints={GET: 2})
    limiter = _PermissiveLimiter()
    idents = [contact_identifier("email", f"nobody{i}@example.com") for i in range(4)]
    with respond_io_hook(respond_io, hook_kwargs={"limiter": limiter}) as hook:
        # act
        began = time.monotonic()
        results = [hook.get_contact(i) for i in idents]
        elapsed = time.monotonic() - began
    # assert: every lookup answered (404 = not found); the 429s waited their Retry-After (1 s) before retrying
    assert [r.status for r in results] == [404] * 4
    statuses = _statuses(respond_io, GET)
    assert statuses["404"] == 4
    assert statuses["429"] >= 1
    assert (GET, 1.0) in limiter.observed  # Retry-After handed to the limiter
    assert elapsed >= 1.0 * statuses["429"] * 0.9


def test_concurrent_lookups_beyond_the_limit_all_succeed(respond_io):
    # arrange: six lookups at once from six threads against 2/s; the in-process limiter corrects itself
    respond_io.set_rate_limit(endpoints={GET: 2})
    idents = [contact_identifier("email", f"nobody{i}@example.com") for i in range(6)]
    with respond_io_hook(respond_io) as hook:
        _ = hook.session
        # act
        with ThreadPoolExecutor(max_workers=6) as pool:
            results = list(pool.map(hook.get_contact, idents))
    # assert
    assert [r.status for r in results] == [404] * 6
    assert _statuses(respond_io, GET)["404"] == 6


def test_limit_header_lowers_the_client_rate_so_no_429(respond_io):
    # arrange: the server allows 2/s on lookups while the connection says 1000/s
    respond_io.set_rate_limit(endpoints={GET: 2})
    idents = [contact_identifier("email", f"nobody{i}@example.com") for i in range(5)]
    with respond_io_hook(respond_io) as hook:
        # act
        results = [hook.get_contact(i) for i in idents]
        rate_after = hook.limiter.rate(GET)
    # assert: corrected by X-RateLimit-Limit after the first answer, the client never ran into a 429
    assert [r.status for r in results] == [404] * 5
    assert _statuses(respond_io, GET) == {"404": 5}
    assert rate_after == 2.0


def test_449_and_5xx_bursts_end_in_success_without_duplicate(respond_io):
    # arrange: lost responses on create (the write happens, then 503/500), 449s and a 502 on tagging
    respond_io.add_burst(503, 1, endpoint=CREATE, phase="after")
    respond_io.add_burst(500, 1, endpoint=CREATE, phase="after")
    respond_io.add_burst(449, 2, endpoint=TAG)
    respond_io.add_burst(502, 1, endpoint=TAG)
    email = contact_identifier("email", "burst@example.com")
    with respond_io_hook(respond_io, no_wait=True, post_create_delay=0.2) as hook:
        # act
        created = hook.create_or_update(email, {"firstName": "Burst"})
        tagged = hook.add_tags(contact_identifier("id", created.contact_id), ["Auto-create: Salesforce"])
    # assert
    assert created.ok and created.attempts == 3
    assert tagged.ok and tagged.attempts == 4
    assert _statuses(respond_io, CREATE) == {"200": 1, "500": 1, "503": 1}
    contacts = respond_io.contacts()
    assert [c["email"] for c in contacts] == ["burst@example.com"]
    assert contacts[0]["tags"] == ["Auto-create: Salesforce"]


def test_404_right_after_create_is_retried(respond_io):
    # arrange: 0.4 s processing window, the client does not wait before its next call
    respond_io.set_create_delay(0.4)
    respond_io.set_faults(pending_449_rate=0.3)
    email = contact_identifier("email", "slow@example.com")
    with respond_io_hook(respond_io, retry_initial_wait=0.05, retry_max_wait=0.2, max_retries=20) as hook:
        created = hook.create_or_update(email, {"firstName": "Slow"})
        # act
        tagged = hook.add_tags(contact_identifier("id", created.contact_id), ["Auto-create: Salesforce"])
        fetched = hook.get_contact(email)
        never_created = hook.get_contact(contact_identifier("email", "other@example.com"))
    # assert
    assert tagged.ok and tagged.attempts > 1
    assert set(_statuses(respond_io, TAG)) - {"404", "449"} == {"200"}
    assert fetched.ok and fetched.data["tags"] == ["Auto-create: Salesforce"]
    assert never_created.not_found and never_created.attempts == 1  # a plain 404 is not retried
    assert _emails(respond_io) == ["slow@example.com"]


def test_post_create_delay_avoids_the_404s(respond_io):
    # arrange
    respond_io.set_create_delay(0.3)
    with respond_io_hook(respond_io, post_create_delay=0.4) as hook:
        created = hook.create_or_update(contact_identifier("email", "wait@example.com"), {"firstName": "W"})
        # act
        tagged = hook.add_tags(contact_identifier("id", created.contact_id), ["Auto-create: Salesforce"])
    # assert
    assert tagged.ok and tagged.attempts == 1
    assert _statuses(respond_io, TAG) == {"200": 1}


def test_401_fails_fast_with_a_clear_message(respond_io):
    # arrange
    with respond_io_hook(respond_io, token="wrong-token") as hook:
        # act
        began = time.monotonic()
        with pytest.raises(RespondIoAuthError) as raised:
            hook.get_contact(contact_identifier("email", "a@example.com"))
        elapsed = time.monotonic() - began
        ok, message = hook.test_connection()
    # assert
    assert raised.value.status == 401
    assert "token" in str(raised.value) and "password" in str(raised.value)
    assert elapsed < 2
    assert _statuses(respond_io, GET) == {"401": 1}  # no retries
    assert ok is False and "401" in message


def test_test_connection_succeeds_with_the_right_token(respond_io):
    with respond_io_hook(respond_io) as hook:
        assert hook.test_connection() == (True, "Connection successfully tested")
    assert _statuses(respond_io, "GET /space/user") == {"200": 1}


def test_missing_token_names_the_field(respond_io):
    with respond_io_hook(respond_io, token="") as hook, pytest.raises(RespondIoAuthError, match="password"):
        hook.get_contact(contact_identifier("id", 1))


def test_permanent_400_is_classified_and_not_retried(respond_io):
    with respond_io_hook(respond_io) as hook:
        result = hook.create_or_update(contact_identifier("email", "nofirst@example.com"), {"lastName": "X"})
    assert result.ok is False
    assert (result.status, result.error_class, result.attempts) == (400, "permanent", 1)
    assert "firstName" in result.message
    with pytest.raises(Exception, match="400"):
        result.raise_for_error()


def test_no_log_line_contains_the_token(respond_io, caplog):
    # arrange: a run with retries, a permanent error and a refused token, everything logged at DEBUG
    respond_io.add_burst(503, 2, endpoint=CREATE)
    wrong = "wrong-token-5e3cr3t"
    caplog.set_level(logging.DEBUG)
    # act
    with respond_io_hook(respond_io) as hook:
        created = hook.create_or_update(contact_identifier("email", "log@example.com"), {"firstName": "L"})
        hook.create_or_update(contact_identifier("email", "bad@example.com"), {})
        hook.test_connection()
    with respond_io_hook(respond_io, token=wrong) as hook, pytest.raises(RespondIoAuthError):
        hook.add_tags(contact_identifier("id", created.contact_id), ["x"])
    # assert
    assert created.ok
    assert "retry" in caplog.text  # the retries were logged...
    assert respond_io.token not in caplog.text  # ...without the token
    assert wrong not in caplog.text
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("hooks."))
    assert "log@example.com" not in ours  # our log lines name endpoints, not URLs with contact identifiers


def test_extras_are_not_sent_as_headers_and_the_session_is_cached(respond_io):
    # arrange
    sent: list[requests.PreparedRequest] = []
    extras = {"rate_limits": {CREATE: 500}, "max_retries": 2, "timeout": 5, "max_in_flight": 4}
    with respond_io_hook(respond_io, **extras) as hook:
        session = hook.session
        session.hooks["response"].append(lambda response, *a, **k: sent.append(response.request))
        # act
        hook.test_connection()
        hook.create_or_update(contact_identifier("phone", "+14155550100"), {"firstName": "H"})
        # assert
        assert hook.session is session and hook.get_conn() is session
    assert len(sent) == 2
    for request in sent:
        names = {name.lower() for name in request.headers}
        assert not names & set(OUR_EXTRAS)
        assert names <= {"authorization", "accept", "content-type", "content-length", "user-agent",
                         "accept-encoding", "connection"}  # fmt: skip
        assert request.headers["Authorization"] == f"Bearer {respond_io.token}"


def test_iter_contacts_follows_the_cursor(respond_io):
    # arrange: 23 tagged contacts and 4 others
    respond_io.seed_contacts(
        [{"firstName": f"T{i}", "email": f"t{i}@example.com", "tags": [TAG_NAME]} for i in range(23)]
        + [{"firstName": f"U{i}", "email": f"u{i}@example.com"} for i in range(4)]
    )
    tag_filter = {"$and": [{"category": "contactTag", "field": None, "operator": "hasAnyOf",
                            "value": ["Auto-create: Salesforce"]}]}  # fmt: skip
    with respond_io_hook(respond_io) as hook:
        # act
        tagged = list(hook.iter_contacts(tag_filter, page_size=10))
        everyone = list(hook.iter_contacts(page_size=100))
    # assert
    assert sorted(c["email"] for c in tagged) == sorted(f"t{i}@example.com" for i in range(23))
    assert len({c["id"] for c in tagged}) == 23
    assert len(everyone) == 27
    assert respond_io.counters()["by_endpoint"]["POST /contact/list"] == {"200": 4}


def test_ensure_tag_and_custom_field_are_idempotent(respond_io):
    with respond_io_hook(respond_io) as hook:
        first_tag, second_tag = hook.ensure_tag(TAG_NAME), hook.ensure_tag(TAG_NAME)
        first = hook.ensure_custom_field("sf_contact_id", name="Salesforce Id")
        second = hook.ensure_custom_field("sf_contact_id", name="Salesforce Id")
    assert first_tag.ok and second_tag.ok and second_tag.status == 409
    assert first.ok and second.ok and first.data["id"] == second.data["id"]
    assert [f["slug"] for f in respond_io.custom_fields()] == ["sf_contact_id"]
    assert [t["name"] for t in respond_io.tags()] == ["Auto-create: Salesforce"]


def test_hook_identity_and_no_io_in_constructor():
    hook = RespondIoHook("does_not_exist")  # would fail if the constructor looked the connection up
    assert (RespondIoHook.conn_type, RespondIoHook.conn_name_attr, RespondIoHook.default_conn_name) == (
        "http",
        "respond_io_conn_id",
        "respond_io_default",
    )
    assert hook.respond_io_conn_id == "does_not_exist"
