"""ContactPipeline against the running respond.io stand-in."""

from __future__ import annotations

import pytest
from hooks.respond_io import contact_identifier
from hooks.respond_io_errors import RespondIoAuthError
from hooks.respond_io_pipeline import ContactInput, ContactPipeline

from tests.hooks.respond_io_support import respond_io_hook

pytestmark = pytest.mark.integration

TAG = "Auto-create: Salesforce"


def _contact(i: int, **overrides) -> ContactInput:
    email, phone = f"p{i}@example.com", f"+6012000{i:04d}"
    fields = {"firstName": f"First{i}", "lastName": "Pipe", "email": email, "phone": phone, **overrides}
    return ContactInput(key=f"003{i:012d}", email=email, phone=phone, fields=fields)


def test_pipeline_creates_finds_and_tags_and_isolates_a_permanent_failure(respond_io):
    # arrange: 12 contacts; #0 exists by e-mail, #1 exists by phone only, #5 lacks firstName (400 on create)
    seeded = respond_io.seed_contacts(
        [{"firstName": "Old0", "email": "p0@example.com"}, {"firstName": "Old1", "phone": "+60120000001"}]
    )
    contacts = [_contact(i) for i in range(12)]
    contacts[5] = ContactInput("003bad", email="p5@example.com", phone=None, fields={"lastName": "NoFirst"})
    respond_io.add_burst(503, 3, endpoint="POST /contact/{identifier}/tag")  # transient trouble on the side
    with respond_io_hook(respond_io, max_in_flight=6, post_create_delay=0.1) as hook:
        # act
        results = list(ContactPipeline(hook).run(contacts))
    # assert
    by_key = {r.item.key: r for r in results}
    assert sorted(r.index for r in results) == list(range(12))
    bad = by_key["003bad"]
    assert bad.ok is False and bad.error_class == "permanent" and "firstName" in bad.message
    assert [c.status for c in bad.value.calls] == [404, 400]  # e-mail lookup, create; nothing retried
    ok = [r for r in results if r.ok]
    assert len(ok) == 11
    for i in (0, 1):
        outcome = by_key[contacts[i].key].value
        assert (outcome.action, outcome.contact_id) == ("found", seeded[i])
    assert {r.value.action for r in ok if r.item.key not in (contacts[0].key, contacts[1].key)} == {"created"}
    stored = respond_io.contacts()
    assert len(stored) == 12 - 1  # 2 seeded + 9 created, no duplicates, none for the bad one
    assert all(c["tags"] == [TAG] for c in stored)
    assert respond_io.counters()["by_endpoint"]["POST /contact/{identifier}/tag"] == {"200": 11, "503": 3}


def test_pipeline_stays_within_each_endpoints_limit(respond_io):
    # arrange: stand-in and client both at 20 requests/s per endpoint
    respond_io.set_rate_limit(default=20)
    contacts = [_contact(i) for i in range(16)]
    with respond_io_hook(respond_io, rate_limit_per_second=20, max_in_flight=16) as hook:
        # act
        results = list(ContactPipeline(hook).run(contacts))
    # assert: every contact done, and the server never had to say 429
    assert all(r.ok for r in results) and len(results) == 16
    counters = respond_io.counters()
    assert "429" not in counters["by_status"]
    assert counters["by_endpoint"]["GET /contact/{identifier}"] == {"404": 32}


def test_map_records_per_item_failures_and_keeps_going(respond_io):
    # arrange: an operator-supplied per-item function; one item cannot form an identifier
    def lookup(email: str):
        return respond_io_hook_instance.get_contact(contact_identifier("email", email))

    emails = ["a@example.com", "not-an-email", "b@example.com"]
    respond_io.seed_contacts([{"firstName": "A", "email": "a@example.com"}])
    with respond_io_hook(respond_io) as respond_io_hook_instance:
        # act
        results = sorted(ContactPipeline(respond_io_hook_instance, max_in_flight=2).map(lookup, emails),
                         key=lambda r: r.index)  # fmt: skip
    # assert
    assert [r.ok for r in results] == [True, False, False]
    assert results[0].value.contact_id is not None
    assert results[1].error_class == "invalid_input"
    assert results[2].error_class == "not_found"


def test_pipeline_stops_on_a_refused_token(respond_io):
    with respond_io_hook(respond_io, token="wrong-token") as hook, pytest.raises(RespondIoAuthError):
        list(ContactPipeline(hook, max_in_flight=2).run([_contact(i) for i in range(20)]))
    assert respond_io.counters()["by_status"].get("401", 0) < 20  # stopped early, not one 401 per contact


def test_pipeline_stops_when_the_shared_limiter_is_gone(respond_io):
    """A Redis outage mid-chunk fails the task (to be retried) instead of turning every contact into a failure."""
    from hooks.respond_io_limits import InProcessRateLimiter
    from hooks.respond_io_shared_limits import RateLimiterUnavailable

    class RedisDiesAfter(InProcessRateLimiter):
        def __init__(self, calls: int) -> None:
            super().__init__(1000)
            self.left = calls

        def acquire(self, endpoint_key: str) -> None:
            self.left -= 1
            if self.left < 0:
                raise RateLimiterUnavailable("the Redis of connection contact_sync_redis is unreachable")
            super().acquire(endpoint_key)

    limiter = RedisDiesAfter(calls=6)
    with respond_io_hook(respond_io, hook_kwargs={"limiter": limiter}) as hook:
        results = []
        with pytest.raises(RateLimiterUnavailable):
            results.extend(ContactPipeline(hook, max_in_flight=2).run([_contact(i) for i in range(20)]))
    assert all(r.ok for r in results), "no contact was recorded as failed because of the limiter"
    assert respond_io.counters()["total"] <= 6
